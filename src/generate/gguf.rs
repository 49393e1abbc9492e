//! The `candle` backend: a local causal LM from a GGUF file, decoded under a constraint that
//! makes its answer a draft every time.
//!
//! The GGUF file's `general.architecture` picks the candle-transformers quantized model (llama,
//! qwen2, phi3; [`model`]) and the chat template; the tokenizer is the model's tokenizer.json
//! (beside the model unless given). The prompt is the seed-004-style one every LLM backend sends
//! ([`build_prompt`]), so a CyberPlaybookLLM checkpoint converted to GGUF reads what it was
//! fine-tuned on.
//!
//! With `constrained` (the default), each step's logits are masked to the tokens that keep the
//! output a prefix of a JSON document of [`draft_json_schema`](crate::generate::draft_json_schema)
//! ([`constrain`]), and as `max_new_tokens` runs out, strings, the steps array and the objects are
//! closed; so the output always parses as a draft, even from random weights. Without it the model
//! writes freely until a stop token, and what does not parse is a [`GenerateError::Draft`].
//!
//! The model is loaded once; its KV cache is the only mutable state, behind a mutex, so
//! [`GgufBackend`] is `Sync` and concurrent drafts take turns.

pub mod constrain;
pub mod model;
pub mod testing;
pub mod tokens;

use crate::generate::{
    build_prompt, parse_draft, Backend, GenerateError, GenerationContext, PlaybookDraft, Prompt, Provenance,
};
use candle_core::{Device, Tensor};
use constrain::{DraftGrammar, TokenTrie};
use model::{ArchModel, Piece};
pub use model::{Architecture, ChatTemplate};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokens::ModelTokenizer;

/// The backend's name in provenance and errors.
pub const BACKEND: &str = "candle";
/// The tokenizer file looked for beside the model when none is given.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// Most prompt tokens run through the model in one forward pass. Chunks start at multiples of
/// their size, so the attention masks candle caches per (chunk, position) stay few.
const MAX_PREFILL_CHUNK: usize = 256;

/// How to load and run the model.
#[derive(Debug, Clone, PartialEq)]
pub struct GgufOptions {
    /// The GGUF file.
    pub model_path: PathBuf,
    /// The Hugging Face tokenizer.json; default: `tokenizer.json` beside the model.
    pub tokenizer_path: Option<PathBuf>,
    /// Most tokens generated. Under the constraint this is also the budget the draft is closed
    /// within, so it must cover the shortest draft (about 200 tokens; checked at load).
    pub max_new_tokens: usize,
    /// Sampling temperature; 0 picks the most likely token (greedy).
    pub temperature: f64,
    /// Nucleus sampling: the smallest set of tokens holding this much probability; 1 disables it.
    pub top_p: f64,
    /// Seed of the sampler: the same seed, prompt and model give the same draft.
    pub seed: u64,
    /// Masks every step to tokens that keep the output a valid draft prefix.
    pub constrained: bool,
    /// Most prompt tokens; a longer prompt loses the middle of its user message (the incident's
    /// logs), keeping the head (technique, description) and the tail (hints and instruction).
    pub max_prompt_tokens: usize,
    /// Wall-clock limit of one draft (prompt and generation).
    pub time_limit: Duration,
}

impl GgufOptions {
    /// Defaults for a model file: 1,536 new tokens, temperature 0.3, top-p 0.95, seed 0,
    /// constrained, 2,048 prompt tokens, 10 minutes.
    pub fn new(model_path: impl Into<PathBuf>) -> GgufOptions {
        GgufOptions {
            model_path: model_path.into(),
            tokenizer_path: None,
            max_new_tokens: 1536,
            temperature: 0.3,
            top_p: 0.95,
            seed: 0,
            constrained: true,
            max_prompt_tokens: 2048,
            time_limit: Duration::from_secs(600),
        }
    }

    /// The tokenizer file these options name.
    pub fn tokenizer_file(&self) -> PathBuf {
        self.tokenizer_path
            .clone()
            .unwrap_or_else(|| self.model_path.parent().unwrap_or_else(|| Path::new(".")).join(TOKENIZER_FILE))
    }
}

/// One generation: the text and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    /// The constraint completed the document, or (unconstrained) a stop token came; false when
    /// the step or token limit ended generation.
    pub finished: bool,
    /// Time spent on the prompt.
    pub prefill: Duration,
    /// Time spent generating.
    pub decode: Duration,
}

/// A GGUF model ready to draft.
pub struct GgufBackend {
    options: GgufOptions,
    file_name: String,
    architecture: Architecture,
    template: ChatTemplate,
    tokenizer: ModelTokenizer,
    grammar: DraftGrammar,
    trie: TokenTrie,
    /// Without the constraint: every token that is text, plus the stop tokens.
    free_tokens: Vec<u32>,
    stop_tokens: Vec<u32>,
    context_length: usize,
    device: Device,
    model: Mutex<ArchModel>,
}

impl std::fmt::Debug for GgufBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufBackend")
            .field("model", &self.options.model_path)
            .field("architecture", &self.architecture)
            .field("template", &self.template)
            .field("tokens", &self.trie.len())
            .finish()
    }
}

fn config(message: String) -> GenerateError {
    GenerateError::Config { backend: BACKEND.into(), message }
}

fn backend(message: String) -> GenerateError {
    GenerateError::Backend { backend: BACKEND.into(), message }
}

fn candle_failed(e: candle_core::Error) -> GenerateError {
    backend(format!("model: {e}"))
}

impl GgufBackend {
    /// Loads the tokenizer and the model. Errors name the file that is missing or unusable.
    pub fn load(options: GgufOptions) -> Result<GgufBackend, GenerateError> {
        if !(options.temperature >= 0.0 && options.temperature.is_finite()) {
            return Err(config(format!("temperature {} must be 0 or more", options.temperature)));
        }
        if !(options.top_p > 0.0 && options.top_p <= 1.0) {
            return Err(config(format!("top_p {} must be in (0, 1]", options.top_p)));
        }
        if options.max_new_tokens == 0 || options.max_prompt_tokens == 0 {
            return Err(config("max_new_tokens and max_prompt_tokens must be at least 1".into()));
        }
        let model_path = &options.model_path;
        let shown = model_path.display();
        if !model_path.is_file() {
            return Err(config(format!("model file {shown} does not exist or is not a file")));
        }
        let tokenizer_path = options.tokenizer_file();
        let tokenizer = ModelTokenizer::from_file(&tokenizer_path)
            .map_err(|e| config(format!("tokenizer {}: {e}", tokenizer_path.display())))?;
        let device = Device::Cpu;
        let (info, model) = model::load(model_path, &device).map_err(|e| config(format!("model file {shown}: {e}")))?;
        if tokenizer.id_count() > info.vocab_size {
            return Err(config(format!(
                "tokenizer {} has {} ids but model {shown} only {} embeddings: they do not belong together",
                tokenizer_path.display(),
                tokenizer.id_count(),
                info.vocab_size
            )));
        }
        let template = ChatTemplate::for_model(info.architecture, &tokenizer)
            .map_err(|e| config(format!("tokenizer {}: {e}", tokenizer_path.display())))?;
        let grammar = DraftGrammar::draft().map_err(|e| config(format!("draft schema: {e}")))?;
        let text_tokens = tokenizer.text_tokens();
        let (trie, grammar) = TokenTrie::new(&text_tokens, grammar)
            .map_err(|e| config(format!("tokenizer {}: {e}", tokenizer_path.display())))?;
        let smallest = grammar.start().min_completion(&grammar);
        if options.constrained && options.max_new_tokens < smallest {
            return Err(config(format!(
                "max_new_tokens {} is below the {smallest} tokens the shortest draft may need",
                options.max_new_tokens
            )));
        }
        if info.context_length < options.max_new_tokens + 16 {
            return Err(config(format!(
                "model {shown} has a context of {} tokens, too short for max_new_tokens {} and a prompt",
                info.context_length, options.max_new_tokens
            )));
        }
        let mut stop_tokens: Vec<u32> =
            template.stop_tokens().iter().filter_map(|t| tokenizer.special_id(t)).chain(info.eos_id).collect();
        stop_tokens.retain(|&id| (id as usize) < info.vocab_size);
        stop_tokens.sort_unstable();
        stop_tokens.dedup();
        let mut free_tokens: Vec<u32> =
            text_tokens.iter().map(|(id, _)| *id).chain(stop_tokens.iter().copied()).collect();
        free_tokens.sort_unstable();
        free_tokens.dedup();
        let file_name = model_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(GgufBackend {
            file_name,
            architecture: info.architecture,
            template,
            tokenizer,
            grammar,
            trie,
            free_tokens,
            stop_tokens,
            context_length: info.context_length,
            device,
            model: Mutex::new(model),
            options,
        })
    }

    pub fn options(&self) -> &GgufOptions {
        &self.options
    }

    pub fn architecture(&self) -> Architecture {
        self.architecture
    }

    pub fn chat_template(&self) -> ChatTemplate {
        self.template
    }

    /// The prompt's token ids under the chat template, cut to the prompt limit.
    pub fn prompt_ids(&self, prompt: &Prompt) -> Result<Vec<u32>, GenerateError> {
        let limit = self.options.max_prompt_tokens.min(self.context_length - self.options.max_new_tokens);
        let mut pieces: Vec<(bool, Vec<u32>)> = Vec::new();
        for piece in self.template.pieces(prompt, &self.tokenizer) {
            let ids = match &piece {
                Piece::Template(text) => self.tokenizer.encode_template(text),
                Piece::Content(text) => self.tokenizer.encode_content(text),
            }
            .map_err(backend)?;
            pieces.push((matches!(piece, Piece::Content(_)), ids));
        }
        let total: usize = pieces.iter().map(|(_, ids)| ids.len()).sum();
        if total > limit {
            // The longest content piece (the user message with the logs) gives up its middle.
            let over = total - limit;
            let longest = pieces.iter_mut().filter(|(content, _)| *content).max_by_key(|(_, ids)| ids.len());
            match longest {
                Some((_, ids)) if ids.len() > over + 2 => {
                    let keep_head = (ids.len() - over) / 2;
                    ids.drain(keep_head..keep_head + over);
                }
                _ => {
                    return Err(config(format!(
                        "the prompt's chat template alone does not fit in {limit} tokens (max_prompt_tokens)"
                    )))
                }
            }
        }
        Ok(pieces.into_iter().flat_map(|(_, ids)| ids).collect())
    }

    /// Runs the model on a prompt: at most `max_new_tokens` tokens, under the constraint when
    /// configured.
    pub fn generate(&self, prompt: &Prompt) -> Result<Generation, GenerateError> {
        self.generate_steps(prompt, self.options.max_new_tokens)
    }

    /// Like [`generate`](Self::generate), but stops after `max_steps` tokens even when the draft
    /// is not complete (the constraint still plans to close it within `max_new_tokens`): for
    /// measuring decoding speed over a fixed number of steps.
    pub fn generate_steps(&self, prompt: &Prompt, max_steps: usize) -> Result<Generation, GenerateError> {
        let started = Instant::now();
        let limit = self.options.time_limit;
        let check_time = || {
            if started.elapsed() >= limit {
                Err(GenerateError::Timeout { backend: BACKEND.into(), seconds: limit.as_secs() })
            } else {
                Ok(())
            }
        };
        check_time()?;
        let prompt_ids = self.prompt_ids(prompt)?;
        // A poisoned lock only means an earlier generation panicked mid-way; the KV cache is
        // reset at position 0, so the model is fine to use.
        let mut model = self.model.lock().unwrap_or_else(PoisonError::into_inner);
        let mut logits = None;
        for (start, len) in prefill_chunks(prompt_ids.len()) {
            check_time()?;
            let input = Tensor::new(&prompt_ids[start..start + len], &self.device)
                .and_then(|t| t.unsqueeze(0))
                .map_err(candle_failed)?;
            logits = Some(model.forward(&input, start).map_err(candle_failed)?);
        }
        let logits = logits.ok_or_else(|| backend("the prompt is empty".into()))?;
        let mut logits = to_vec(&logits)?;
        let prefill = started.elapsed();

        let budget = self.options.max_new_tokens;
        let max_steps = max_steps.min(budget);
        let constrained = self.options.constrained;
        let mut sampler = Sampler::new(self.options.seed, self.options.temperature, self.options.top_p);
        let mut state = self.grammar.start();
        let mut output: Vec<u8> = Vec::new();
        let mut allowed: Vec<u32> = Vec::new();
        let (mut generated, mut finished) = (0usize, false);
        // The start state is never done; the loop ends right after the token that completes it.
        while generated < max_steps {
            check_time()?;
            let choices: &[u32] = if constrained {
                allowed.clear();
                self.trie.allowed(&self.grammar, &state, budget - generated - 1, &mut allowed);
                &allowed
            } else {
                &self.free_tokens
            };
            let token = sampler
                .sample(&logits, choices)
                .ok_or_else(|| backend(format!("no token is allowed after {generated} tokens")))?;
            generated += 1;
            if !constrained && self.stop_tokens.binary_search(&token).is_ok() {
                finished = true;
                break;
            }
            let bytes = self.tokenizer.bytes(token);
            if constrained && !state.feed_all(&self.grammar, bytes) {
                // The mask only allows tokens the machine accepts; this would be a bug.
                return Err(backend(format!("token {token} broke the draft constraint")));
            }
            output.extend_from_slice(bytes);
            if constrained && state.is_done(&self.grammar) {
                finished = true;
                break;
            }
            if generated < max_steps {
                let input = Tensor::new(&[token], &self.device).and_then(|t| t.unsqueeze(0)).map_err(candle_failed)?;
                let next = model.forward(&input, prompt_ids.len() + generated - 1).map_err(candle_failed)?;
                logits = to_vec(&next)?;
            }
        }
        drop(model);
        Ok(Generation {
            text: String::from_utf8_lossy(&output).into_owned(),
            prompt_tokens: prompt_ids.len(),
            generated_tokens: generated,
            finished,
            prefill,
            decode: started.elapsed() - prefill,
        })
    }
}

fn to_vec(logits: &Tensor) -> Result<Vec<f32>, GenerateError> {
    logits
        .squeeze(0)
        .and_then(|t| t.to_dtype(candle_core::DType::F32))
        .and_then(|t| t.to_vec1::<f32>())
        .map_err(candle_failed)
}

/// `(start, len)` chunks covering `0..n`, each at most [`MAX_PREFILL_CHUNK`] long and starting
/// at a multiple of its length.
fn prefill_chunks(n: usize) -> Vec<(usize, usize)> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < n {
        let mut len = MAX_PREFILL_CHUNK;
        while len > 1 && (start % len != 0 || start + len > n) {
            len /= 2;
        }
        chunks.push((start, len));
        start += len;
    }
    chunks
}

impl Backend for GgufBackend {
    fn provenance(&self) -> Provenance {
        Provenance { backend: BACKEND.into(), model: format!("{} ({})", self.file_name, self.architecture) }
    }

    fn draft(&self, ctx: &GenerationContext<'_>) -> Result<PlaybookDraft, GenerateError> {
        let prompt = build_prompt(ctx.incident, Some(ctx.plan));
        let generation = self.generate(&prompt)?;
        parse_draft(&generation.text).map_err(|source| GenerateError::Draft { backend: BACKEND.into(), source })
    }
}

/// Temperature and nucleus sampling with a seeded generator (SplitMix64: small, fast, and the
/// same on every platform, which seeded drafts need).
struct Sampler {
    draw: crate::attack::sigma::SplitMix,
    temperature: f64,
    top_p: f64,
    /// Reused buffer of (token, weight).
    weights: Vec<(u32, f64)>,
}

impl Sampler {
    fn new(seed: u64, temperature: f64, top_p: f64) -> Sampler {
        Sampler { draw: crate::attack::sigma::SplitMix::new(seed), temperature, top_p, weights: Vec::new() }
    }

    fn next_f64(&mut self) -> f64 {
        self.draw.next_f64()
    }

    /// A token among `choices` (ids past the logits are skipped); `None` when there is none.
    /// NaN logits count as impossible; when every choice is impossible, one is drawn uniformly.
    fn sample(&mut self, logits: &[f32], choices: &[u32]) -> Option<u32> {
        let logit = |id: u32| logits.get(id as usize).copied().filter(|l| !l.is_nan());
        let valid = choices.iter().copied().filter(|&id| (id as usize) < logits.len());
        let best = valid.clone().filter_map(|id| logit(id).map(|l| (id, l))).fold(
            None,
            |acc: Option<(u32, f32)>, c| match acc {
                Some(a) if a.1 >= c.1 => Some(a),
                _ => Some(c),
            },
        );
        let Some((best_id, max)) = best.filter(|(_, l)| l.is_finite()) else {
            let count = valid.clone().count();
            if count == 0 {
                return None;
            }
            let pick = ((self.next_f64() * count as f64) as usize).min(count - 1);
            return valid.clone().nth(pick);
        };
        if self.temperature <= 0.0 {
            return Some(best_id);
        }
        self.weights.clear();
        for id in valid {
            if let Some(l) = logit(id) {
                let w = ((l - max) as f64 / self.temperature).exp();
                if w > 0.0 {
                    self.weights.push((id, w));
                }
            }
        }
        let mut total: f64 = self.weights.iter().map(|(_, w)| w).sum();
        if self.top_p < 1.0 {
            self.weights.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let (mut kept, mut mass) = (0, 0.0);
            for (_, w) in &self.weights {
                kept += 1;
                mass += w;
                if mass >= self.top_p * total {
                    break;
                }
            }
            self.weights.truncate(kept);
            total = mass;
        }
        let mut r = self.next_f64() * total;
        for (id, w) in &self.weights {
            if r < *w {
                return Some(*id);
            }
            r -= w;
        }
        self.weights.last().map(|(id, _)| *id).or(Some(best_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefill_chunks_cover_the_prompt_aligned() {
        for n in [1, 2, 3, 255, 256, 257, 1000, 1537] {
            let chunks = prefill_chunks(n);
            let mut next = 0;
            for (start, len) in &chunks {
                assert_eq!(*start, next);
                assert!(*len <= MAX_PREFILL_CHUNK && start % len == 0, "{n}: {chunks:?}");
                next += len;
            }
            assert_eq!(next, n);
        }
        assert_eq!(
            prefill_chunks(1000),
            vec![(0, 256), (256, 256), (512, 256), (768, 128), (896, 64), (960, 32), (992, 8)]
        );
    }

    #[test]
    fn sampling_is_seeded_and_respects_the_choices() {
        let logits = [0.0f32, 1.0, 2.0, f32::NAN, 0.5];
        let mut greedy = Sampler::new(1, 0.0, 1.0);
        assert_eq!(greedy.sample(&logits, &[0, 1, 2, 3, 4]), Some(2));
        assert_eq!(greedy.sample(&logits, &[0, 4]), Some(4));
        assert_eq!(greedy.sample(&logits, &[3]), Some(3), "only impossible choices: drawn uniformly");
        assert_eq!(greedy.sample(&logits, &[9]), None, "ids past the logits are skipped");
        let draw = |seed| {
            let mut s = Sampler::new(seed, 1.0, 1.0);
            (0..50).map(|_| s.sample(&logits, &[0, 1, 4]).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
        assert!(draw(3).iter().all(|id| [0, 1, 4].contains(id)));
        // A tight nucleus keeps only the most likely token.
        let mut nucleus = Sampler::new(5, 1.0, 0.01);
        assert!((0..20).all(|_| nucleus.sample(&logits, &[0, 1, 2, 4]) == Some(2)));
    }

    #[test]
    fn options_default_to_a_tokenizer_beside_the_model() {
        let options = GgufOptions::new("/models/cyber.gguf");
        assert_eq!(options.tokenizer_file(), PathBuf::from("/models/tokenizer.json"));
        assert!(options.constrained);
    }
}
