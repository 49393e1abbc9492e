//! The GGUF file: its architecture, the candle-transformers model for it, and its chat template.

use super::tokens::ModelTokenizer;
use crate::generate::Prompt;
use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::models::{quantized_llama, quantized_phi3, quantized_qwen2};
use std::path::Path;

/// The model families this backend runs (`general.architecture` in the GGUF file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// Llama 2 and 3 (and Mistral, which GGUF files also label `llama`).
    Llama,
    /// Qwen2 and Qwen2.5.
    Qwen2,
    /// Phi-3 and Phi-3.5.
    Phi3,
}

impl Architecture {
    pub const ALL: [Architecture; 3] = [Architecture::Llama, Architecture::Qwen2, Architecture::Phi3];

    pub fn parse(name: &str) -> Option<Architecture> {
        Architecture::ALL.into_iter().find(|a| a.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Llama => "llama",
            Architecture::Qwen2 => "qwen2",
            Architecture::Phi3 => "phi3",
        }
    }
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A loaded model with its KV cache (the mutable part a generation runs on).
pub(crate) enum ArchModel {
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
    Phi3(quantized_phi3::ModelWeights),
}

impl ArchModel {
    /// Logits `(1, vocab)` for the last of `ids` (`(1, n)`), which start at `position`. Position 0
    /// starts a new sequence: every architecture drops its KV cache there.
    pub(crate) fn forward(&mut self, ids: &Tensor, position: usize) -> candle_core::Result<Tensor> {
        match self {
            ArchModel::Llama(m) => m.forward(ids, position),
            ArchModel::Qwen2(m) => m.forward(ids, position),
            ArchModel::Phi3(m) => m.forward(ids, position),
        }
    }
}

/// What the GGUF header says, read before the weights.
pub(crate) struct GgufFile {
    pub architecture: Architecture,
    /// Rows of `token_embd.weight`: the size of the logits.
    pub vocab_size: usize,
    pub context_length: usize,
    /// `tokenizer.ggml.eos_token_id`, when present.
    pub eos_id: Option<u32>,
}

/// Reads the GGUF header and the weights. The error says what is wrong; the caller names the file.
pub(crate) fn load(path: &Path, device: &Device) -> Result<(GgufFile, ArchModel), String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let content = gguf_file::Content::read(&mut file).map_err(|e| format!("not a readable GGUF file: {e}"))?;
    let info = header(&content)?;
    let model = match info.architecture {
        Architecture::Llama => {
            quantized_llama::ModelWeights::from_gguf(content, &mut file, device).map(ArchModel::Llama)
        }
        Architecture::Qwen2 => {
            quantized_qwen2::ModelWeights::from_gguf(content, &mut file, device).map(ArchModel::Qwen2)
        }
        Architecture::Phi3 => {
            quantized_phi3::ModelWeights::from_gguf(false, content, &mut file, device).map(ArchModel::Phi3)
        }
    }
    .map_err(|e| format!("loading the {} weights: {e}", info.architecture))?;
    Ok((info, model))
}

fn header(content: &gguf_file::Content) -> Result<GgufFile, String> {
    let name = content
        .metadata
        .get("general.architecture")
        .and_then(|v| v.to_string().ok())
        .ok_or("no general.architecture in the GGUF metadata")?;
    let architecture = Architecture::parse(name)
        .ok_or_else(|| format!("architecture `{name}` is not supported (supported: llama, qwen2, phi3)"))?;
    let vocab_size = content
        .tensor_infos
        .get("token_embd.weight")
        .and_then(|t| t.shape.dims().first().copied())
        .ok_or("no token_embd.weight tensor")?;
    let declared = content.metadata.get(&format!("{name}.context_length")).and_then(|v| v.to_u32().ok());
    let context_length = match (architecture, declared) {
        // candle's quantized llama precomputes its rotary tables for MAX_SEQ_LEN positions,
        // whatever the file declares; a position past them would fail mid-generation.
        (Architecture::Llama, declared) => {
            declared.map_or(quantized_llama::MAX_SEQ_LEN, |n| (n as usize).min(quantized_llama::MAX_SEQ_LEN))
        }
        (_, Some(n)) => n as usize,
        (_, None) => return Err(format!("no {name}.context_length in the GGUF metadata")),
    };
    let eos_id = content.metadata.get("tokenizer.ggml.eos_token_id").and_then(|v| v.to_u32().ok());
    Ok(GgufFile { architecture, vocab_size, context_length, eos_id })
}

/// How a system and a user message are laid out for the model, chosen by architecture:
/// - qwen2: ChatML, `<|im_start|>system\n…<|im_end|>\n<|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n`;
/// - llama: Llama 3 headers (`<|start_header_id|>system<|end_header_id|>\n\n…<|eot_id|>`) when
///   the tokenizer has them, else Llama 2's `<s>[INST] <<SYS>>\n…\n<</SYS>>\n\n… [/INST]`;
/// - phi3: `<|user|>\n…<|end|>\n<|assistant|>\n` (Phi-3 has no system turn, so the system message
///   opens the user turn), after `<s>` when the tokenizer has it.
///
/// A fine-tuned CyberPlaybookLLM checkpoint converted to GGUF keeps its base model's template,
/// so this is what it was trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatTemplate {
    ChatMl,
    Llama3,
    Llama2,
    Phi3,
}

/// A piece of the laid-out prompt.
pub(crate) enum Piece {
    /// Template text: special tokens in it are meant.
    Template(String),
    /// The messages: special tokens in them are text.
    Content(String),
}

impl ChatTemplate {
    /// The template for an architecture; the tokenizer must have the special tokens it uses.
    pub fn for_model(architecture: Architecture, tokenizer: &ModelTokenizer) -> Result<ChatTemplate, String> {
        let (template, needed): (ChatTemplate, &[&str]) = match architecture {
            Architecture::Qwen2 => (ChatTemplate::ChatMl, &["<|im_start|>", "<|im_end|>"]),
            Architecture::Llama if tokenizer.special_id("<|start_header_id|>").is_some() => {
                (ChatTemplate::Llama3, &["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"])
            }
            Architecture::Llama => (ChatTemplate::Llama2, &[]),
            Architecture::Phi3 => (ChatTemplate::Phi3, &["<|user|>", "<|end|>", "<|assistant|>"]),
        };
        if let Some(missing) = needed.iter().find(|t| tokenizer.special_id(t).is_none()) {
            return Err(format!(
                "the tokenizer has no special token {missing}, which the {architecture} chat template needs"
            ));
        }
        Ok(template)
    }

    /// The prompt laid out in template and content pieces.
    pub(crate) fn pieces(self, prompt: &Prompt, tokenizer: &ModelTokenizer) -> Vec<Piece> {
        let bos = |token: &'static str| if tokenizer.special_id(token).is_some() { token } else { "" };
        let t = Piece::Template;
        let c = |s: &str| Piece::Content(s.to_owned());
        match self {
            ChatTemplate::ChatMl => vec![
                t("<|im_start|>system\n".into()),
                c(&prompt.system),
                t("<|im_end|>\n<|im_start|>user\n".into()),
                c(&prompt.user),
                t("<|im_end|>\n<|im_start|>assistant\n".into()),
            ],
            ChatTemplate::Llama3 => vec![
                t(format!("{}<|start_header_id|>system<|end_header_id|>\n\n", bos("<|begin_of_text|>"))),
                c(&prompt.system),
                t("<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n".into()),
                c(&prompt.user),
                t("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n".into()),
            ],
            ChatTemplate::Llama2 => vec![
                t(format!("{}[INST] <<SYS>>\n", bos("<s>"))),
                c(&prompt.system),
                t("\n<</SYS>>\n\n".into()),
                c(&prompt.user),
                t(" [/INST]".into()),
            ],
            ChatTemplate::Phi3 => vec![
                t(format!("{}<|user|>\n", bos("<s>"))),
                c(&format!("{}\n\n{}", prompt.system, prompt.user)),
                t("<|end|>\n<|assistant|>\n".into()),
            ],
        }
    }

    /// The special tokens that end the assistant's turn (used without the constraint).
    pub(crate) fn stop_tokens(self) -> &'static [&'static str] {
        match self {
            ChatTemplate::ChatMl => &["<|im_end|>", "<|endoftext|>"],
            ChatTemplate::Llama3 => &["<|eot_id|>", "<|end_of_text|>"],
            ChatTemplate::Llama2 => &["</s>"],
            ChatTemplate::Phi3 => &["<|end|>", "<|endoftext|>", "</s>"],
        }
    }
}
