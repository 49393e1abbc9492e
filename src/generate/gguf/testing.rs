//! Random-weight GGUF models and a matching tokenizer, written on the spot, for tests and benches
//! (no model download anywhere): the constraint must turn even random weights into a draft, and
//! speed depends on the shape, not on what the weights learned.
//!
//! Models are qwen2 (the default), llama or phi3, with the tensor names and metadata each
//! candle-transformers loader reads. The tokenizer is a byte-level BPE (all 256 bytes, so every
//! text and every closing byte has a token) trained with the tokenizers crate on JSON drafts and
//! prompt-like text we generate here, with the special tokens of the ChatML and Phi-3 templates
//! (no Llama 3 header tokens, so llama models get the Llama 2 template).

use super::{Architecture, TOKENIZER_FILE};
use crate::generate::GenerateError;
use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use std::path::{Path, PathBuf};
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, TokenizerBuilder};

/// Special tokens of the test tokenizer, at ids 0 to 5.
pub const SPECIAL_TOKENS: [&str; 6] =
    ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|user|>", "<|end|>", "<|assistant|>"];

/// The shape of a random model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomModelShape {
    pub architecture: Architecture,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub intermediate: usize,
    /// Rows of the embedding (and logits); `None`: the tokenizer's size. Real models pad it
    /// (Qwen2: 151,936 rows for 151,646 tokens); ids without a token are never sampled.
    pub vocab: Option<usize>,
    pub context_length: usize,
    /// Target vocabulary of the trained tokenizer (it may stop short on a small corpus).
    pub tokenizer_vocab: usize,
}

impl RandomModelShape {
    /// A qwen2 of two layers of width 64: milliseconds per token, for tests.
    pub fn tiny() -> RandomModelShape {
        RandomModelShape {
            architecture: Architecture::Qwen2,
            hidden: 64,
            layers: 2,
            heads: 4,
            kv_heads: 2,
            intermediate: 128,
            vocab: None,
            context_length: 4096,
            tokenizer_vocab: 600,
        }
    }

    /// Qwen2-0.5B: 24 layers, hidden 896, 14 heads, 2 KV heads, MLP 4,864, 151,936 embeddings
    /// (tied to the output, as in the real model).
    pub fn qwen2_0_5b() -> RandomModelShape {
        RandomModelShape {
            architecture: Architecture::Qwen2,
            hidden: 896,
            layers: 24,
            heads: 14,
            kv_heads: 2,
            intermediate: 4864,
            vocab: Some(151_936),
            context_length: 32_768,
            tokenizer_vocab: 4096,
        }
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> GenerateError {
    GenerateError::Backend { backend: super::BACKEND.into(), message: format!("{what}: {e}") }
}

/// Lines that look like what the model reads and writes: drafts as JSON and prompt text.
fn corpus(lines: usize) -> Vec<String> {
    let names = [
        "Block the attacking address at the firewall",
        "Lock the compromised account",
        "Kill the malicious process",
        "Isolate the host from the network",
        "Remove the dropped payload",
        "Reset credentials of the user",
        "Verify no further logins",
        "Restore the service from a clean image",
        "Collect memory for forensics",
        "Disable the scheduled task",
        "Revoke active sessions",
        "Scan the host with the antivirus",
    ];
    let commands = [
        "iptables -I INPUT -s 203.0.113.45 -j DROP",
        "usermod -L deploy",
        "pkill -9 -f /tmp/.x/miner",
        "Stop-Process -Name mimikatz -Force",
        "rm -f /var/tmp/payload.sh",
        "passwd -e deploy",
        "grep 'Accepted' /var/log/auth.log | tail",
        "schtasks /Delete /TN Updater /F",
        "curl -X POST https://edr.example.org/api/isolate",
        "Get-WinEvent -LogName Security | Select -First 20",
        "systemctl restart nginx",
        "clamscan -r /home",
    ];
    let hosts = ["bastion-01", "web-02", "db-core", "ws-1142", "dc01.corp.local", "10.0.4.17"];
    let phases: Vec<&str> = crate::attack::responses::Phase::ALL.iter().map(|p| p.as_str()).collect();
    let types: Vec<&str> = crate::attack::responses::CommandType::ALL.iter().map(|t| t.as_str()).collect();
    let words = [
        "incident",
        "attacker",
        "logs",
        "failed",
        "password",
        "login",
        "technique",
        "mitigation",
        "response",
        "playbook",
        "process",
        "network",
        "host",
        "user",
        "command",
        "file",
        "download",
        "execution",
        "credential",
        "suspicious",
    ];
    let mut out = Vec::with_capacity(lines);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut pick = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for i in 0..lines {
        let line = match i % 3 {
            0 => serde_json::json!({
                "name": names[pick(names.len())], "description": format!("{} {} {}", words[pick(20)], words[pick(20)], words[pick(20)]),
                "phase": phases[pick(4)], "command_type": types[pick(6)], "command": commands[pick(commands.len())],
                "target": hosts[pick(hosts.len())], "technique": format!("T{}", 1000 + pick(600)), "mitigation": null,
                "destructive": pick(2) == 0, "expect": null
            })
            .to_string(),
            1 => format!(
                "{{\"timestamp\": \"2026-03-0{}T04:{:02}:09Z\", \"host\": \"{}\", \"action\": \"{} {}\", \"details\": \"{}\"}}",
                1 + pick(9),
                pick(60),
                hosts[pick(hosts.len())],
                words[pick(20)],
                words[pick(20)],
                commands[pick(commands.len())]
            ),
            _ => (0..12).map(|_| words[pick(20)]).collect::<Vec<_>>().join(" "),
        };
        out.push(line);
    }
    out
}

/// Writes `dir/tokenizer.json`: a byte-level BPE of at most `vocab_size` tokens.
pub fn write_test_tokenizer(dir: &Path, vocab_size: usize) -> Result<PathBuf, GenerateError> {
    let fail = |e: tokenizers::Error| failed("training the test tokenizer", e);
    let mut trainer = BpeTrainerBuilder::new()
        .show_progress(false)
        .vocab_size(vocab_size)
        .min_frequency(2)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .special_tokens(SPECIAL_TOKENS.iter().map(|t| AddedToken::from(*t, true)).collect())
        .build();
    let mut tokenizer = TokenizerBuilder::new()
        .with_model(BPE::default())
        .with_normalizer(None::<tokenizers::NormalizerWrapper>)
        .with_pre_tokenizer(Some(ByteLevel::new(false, true, true)))
        .with_post_processor(None::<ByteLevel>)
        .with_decoder(Some(ByteLevel::default()))
        .build()
        .map_err(fail)?;
    let mut texts = corpus(3000);
    texts.push(crate::generate::prompt::SYSTEM.to_owned());
    tokenizer.train(&mut trainer, texts.iter()).map_err(fail)?;
    std::fs::create_dir_all(dir).map_err(|e| failed(&dir.display().to_string(), e))?;
    let path = dir.join(TOKENIZER_FILE);
    tokenizer.save(&path, false).map_err(|e| failed(&path.display().to_string(), e))?;
    Ok(path)
}

/// The uniform generator behind the weights (xorshift64*; seeded, so a shape and seed always
/// give the same file).
struct Weights(u64);

impl Weights {
    /// `n` values uniform in ±`scale`.
    fn uniform(&mut self, n: usize, scale: f32) -> Vec<f32> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
            out.push(((bits as f32 / (1u64 << 24) as f32) * 2.0 - 1.0) * scale);
        }
        out
    }
}

/// Writes `dir/tokenizer.json` and a random-weight GGUF of `shape` with its matrices in `dtype`
/// (norms and biases stay f32, as in real files); returns the model's path
/// (`dir/random-<architecture>-<dtype>.gguf`). Matrix rows must be a multiple of the dtype's
/// block (32 for Q4_0 and Q8_0, 256 for the k-quants).
pub fn write_random_model(
    dir: &Path,
    shape: &RandomModelShape,
    dtype: GgmlDType,
    seed: u64,
) -> Result<PathBuf, GenerateError> {
    let tokenizer_path = write_test_tokenizer(dir, shape.tokenizer_vocab)?;
    let tokenizer =
        super::tokens::ModelTokenizer::from_file(&tokenizer_path).map_err(|e| failed("test tokenizer", e))?;
    let vocab = shape.vocab.unwrap_or(tokenizer.id_count()).max(tokenizer.id_count());
    if shape.heads == 0
        || shape.kv_heads == 0
        || !shape.hidden.is_multiple_of(shape.heads)
        || !shape.heads.is_multiple_of(shape.kv_heads)
    {
        return Err(failed("random model", "hidden must divide into heads, and heads into kv_heads"));
    }
    let (hidden, inter, arch) = (shape.hidden, shape.intermediate, shape.architecture);
    let head_dim = hidden / shape.heads;
    let kv_dim = head_dim * shape.kv_heads;
    let mut rng = Weights(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let dev = Device::Cpu;
    let q = |t: candle_core::Result<Tensor>, dt: GgmlDType| {
        t.and_then(|t| QTensor::quantize(&t, dt)).map_err(|e| failed("random model", e))
    };
    let mut matrix = |rows: usize, cols: usize| {
        let values = rng.uniform(rows * cols, 0.035);
        q(Tensor::from_vec(values, (rows, cols), &dev), dtype)
    };
    let ones = |n: usize| q(Tensor::ones(n, candle_core::DType::F32, &dev), GgmlDType::F32);
    let zeros = |n: usize| q(Tensor::zeros(n, candle_core::DType::F32, &dev), GgmlDType::F32);

    let mut tensors: Vec<(String, QTensor)> =
        vec![("token_embd.weight".into(), matrix(vocab, hidden)?), ("output_norm.weight".into(), ones(hidden)?)];
    // qwen2 and llama tie the output to the embedding when `output.weight` is absent; phi3 needs it.
    if arch == Architecture::Phi3 {
        tensors.push(("output.weight".into(), matrix(vocab, hidden)?));
    }
    for layer in 0..shape.layers {
        let p = format!("blk.{layer}");
        if arch == Architecture::Phi3 {
            // Phi-3 fuses q, k and v, and gate and up.
            tensors.push((format!("{p}.attn_qkv.weight"), matrix(hidden + 2 * kv_dim, hidden)?));
            tensors.push((format!("{p}.ffn_up.weight"), matrix(2 * inter, hidden)?));
        } else {
            tensors.push((format!("{p}.attn_q.weight"), matrix(hidden, hidden)?));
            tensors.push((format!("{p}.attn_k.weight"), matrix(kv_dim, hidden)?));
            tensors.push((format!("{p}.attn_v.weight"), matrix(kv_dim, hidden)?));
            tensors.push((format!("{p}.ffn_gate.weight"), matrix(inter, hidden)?));
            tensors.push((format!("{p}.ffn_up.weight"), matrix(inter, hidden)?));
        }
        if arch == Architecture::Qwen2 {
            tensors.push((format!("{p}.attn_q.bias"), zeros(hidden)?));
            tensors.push((format!("{p}.attn_k.bias"), zeros(kv_dim)?));
            tensors.push((format!("{p}.attn_v.bias"), zeros(kv_dim)?));
        }
        tensors.push((format!("{p}.attn_output.weight"), matrix(hidden, hidden)?));
        tensors.push((format!("{p}.ffn_down.weight"), matrix(hidden, inter)?));
        tensors.push((format!("{p}.attn_norm.weight"), ones(hidden)?));
        tensors.push((format!("{p}.ffn_norm.weight"), ones(hidden)?));
    }
    use gguf_file::Value;
    let name = arch.as_str();
    let key = |k: &str| format!("{name}.{k}");
    let u32_of = |n: usize| Value::U32(n as u32);
    let eos = tokenizer.special_id(SPECIAL_TOKENS[0]).unwrap_or(0);
    let metadata: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(name.into())),
        ("general.name".into(), Value::String(format!("random-{name}"))),
        (key("block_count"), u32_of(shape.layers)),
        (key("context_length"), u32_of(shape.context_length)),
        (key("embedding_length"), u32_of(hidden)),
        (key("feed_forward_length"), u32_of(inter)),
        (key("attention.head_count"), u32_of(shape.heads)),
        (key("attention.head_count_kv"), u32_of(shape.kv_heads)),
        (key("attention.layer_norm_rms_epsilon"), Value::F32(1e-6)),
        (key("rope.dimension_count"), u32_of(head_dim)),
        (key("rope.freq_base"), Value::F32(if arch == Architecture::Qwen2 { 1_000_000.0 } else { 10_000.0 })),
        ("tokenizer.ggml.eos_token_id".into(), Value::U32(eos)),
    ];
    let metadata: Vec<(&str, Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let path = dir.join(format!("random-{name}-{}.gguf", format!("{dtype:?}").to_lowercase()));
    write_gguf(&path, &metadata, &tensors)?;
    Ok(path)
}

/// Writes a GGUF file (through a temporary file, so an interrupted write never leaves a file a
/// cache would take for complete).
pub fn write_gguf(
    path: &Path,
    metadata: &[(&str, gguf_file::Value)],
    tensors: &[(String, QTensor)],
) -> Result<(), GenerateError> {
    let shown = path.display().to_string();
    let partial = path.with_extension("gguf.partial");
    let file = std::fs::File::create(&partial).map_err(|e| failed(&shown, e))?;
    let mut writer = std::io::BufWriter::new(file);
    let metadata: Vec<(&str, &gguf_file::Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    let tensors: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    gguf_file::write(&mut writer, &metadata, &tensors).map_err(|e| failed(&shown, e))?;
    use std::io::Write;
    writer.flush().map_err(|e| failed(&shown, e))?;
    drop(writer);
    std::fs::rename(&partial, path).map_err(|e| failed(&shown, e))
}
