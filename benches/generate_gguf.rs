//! Decoding speed of the candle (GGUF) backend on CPU: tokens/s for a random-weight model of the
//! Qwen2-0.5B shape (24 layers, hidden 896, 14 heads, 2 KV heads, MLP 4,864, 151,936 tied
//! embeddings) in Q4_0 and Q8_0, with and without the draft constraint.
//! Run: `cargo bench --bench generate_gguf`.
//!
//! The model is written by `generate::gguf::testing` on first run and cached under
//! `$CARGO_TARGET_DIR/bench-models/` (or `target/`): writing it takes a while, and the weights do
//! not matter for speed. Its tokenizer is the test byte-level BPE (a few thousand tokens, not
//! Qwen2's 151,646), so the constraint's trie walk is cheaper here than with the real vocabulary;
//! the logits still have 151,936 entries.
//!
//! Each measured iteration decodes a fixed number of steps ([`STEPS`]) after a short prompt; the
//! time reported is decoding only (prefill excluded), so throughput is generated tokens/s.
//! Candle's per-op threads follow `CANDLE_NUM_THREADS` (all cores when unset); on a shared
//! machine `CANDLE_NUM_THREADS=1` gives steadier figures.
//!
//! `constraint_mask` measures the constraint alone on a vocabulary of Qwen2's size (151,646
//! synthetic byte-level tokens: all 256 bytes, then words of 2 to 12 bytes, many with a leading
//! space, and punctuation runs): one mask inside a string (nearly every token allowed, the worst
//! case) and one where a property name is due (few allowed).

use cacao_forge::generate::gguf::constrain::{DraftGrammar, TokenTrie};
use cacao_forge::generate::gguf::testing::{write_random_model, RandomModelShape};
use cacao_forge::generate::gguf::{GgufBackend, GgufOptions};
use cacao_forge::generate::Prompt;
use candle_core::quantized::GgmlDType;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::PathBuf;
use std::time::Duration;

/// Tokens decoded per measured iteration.
const STEPS: usize = 48;

fn model_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    target.join("bench-models").join("random-qwen2-0.5b")
}

/// The cached model of `dtype`, written when missing.
fn cached_model(dtype: GgmlDType) -> PathBuf {
    let dir = model_dir();
    let path = dir.join(format!("random-qwen2-{}.gguf", format!("{dtype:?}").to_lowercase()));
    if path.is_file() && dir.join("tokenizer.json").is_file() {
        return path;
    }
    eprintln!("writing {} (once; cached for later runs)", path.display());
    write_random_model(&dir, &RandomModelShape::qwen2_0_5b(), dtype, 7).expect("write the random model")
}

fn prompt() -> Prompt {
    Prompt {
        system: "You are a SOC incident responder. Answer with one JSON object.".into(),
        user: "Technique: T1110 (Brute Force)\nIncident description: 412 failed SSH logins from 203.0.113.45, \
               then a login as deploy.\nWrite the response playbook."
            .into(),
    }
}

fn decoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate_gguf");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(20));
    let prompt = prompt();
    for (dtype, name) in [(GgmlDType::Q4_0, "q4_0"), (GgmlDType::Q8_0, "q8_0")] {
        let model = cached_model(dtype);
        for constrained in [true, false] {
            // Unconstrained, a stop token can end a run early; take the first seed that decodes
            // all the steps, so every configuration is measured over the same number of tokens.
            let (backend, probe) = (3..20)
                .map(|seed| {
                    let options = GgufOptions {
                        constrained,
                        max_new_tokens: 1024,
                        temperature: 0.8,
                        top_p: 0.95,
                        seed,
                        ..GgufOptions::new(&model)
                    };
                    let backend = GgufBackend::load(options).expect("load the random model");
                    let probe = backend.generate_steps(&prompt, STEPS).expect("generate");
                    (backend, probe)
                })
                .find(|(_, probe)| probe.generated_tokens == STEPS)
                .expect("a seed that decodes every step");
            eprintln!(
                "qwen2-0.5b {name} constrained={constrained}: {} prompt tokens prefilled in {:.2?} ({:.1} tokens/s), \
                 {} tokens decoded in {:.2?} ({:.2} tokens/s); CANDLE_NUM_THREADS={}",
                probe.prompt_tokens,
                probe.prefill,
                probe.prompt_tokens as f64 / probe.prefill.as_secs_f64(),
                probe.generated_tokens,
                probe.decode,
                probe.generated_tokens as f64 / probe.decode.as_secs_f64(),
                std::env::var("CANDLE_NUM_THREADS").unwrap_or_else(|_| "(unset: all cores)".into())
            );
            let label = if constrained { "constrained" } else { "unconstrained" };
            group.throughput(Throughput::Elements(probe.generated_tokens as u64));
            group.bench_function(format!("qwen2-0.5b-{name}/{label}"), |b| {
                b.iter_custom(|iters| {
                    let mut decode = Duration::ZERO;
                    for _ in 0..iters {
                        let generation = backend.generate_steps(&prompt, STEPS).expect("generate");
                        assert_eq!(generation.generated_tokens, probe.generated_tokens, "seeded runs repeat");
                        decode += generation.decode;
                    }
                    decode
                })
            });
        }
    }
    group.finish();
}

/// A vocabulary of `size` byte strings shaped like a byte-level BPE's.
fn synthetic_vocabulary(size: usize) -> Vec<(u32, Vec<u8>)> {
    let mut tokens: Vec<(u32, Vec<u8>)> = (0u8..=255).map(|b| (b as u32, vec![b])).collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    while tokens.len() < size {
        let mut bytes = Vec::new();
        match next(10) {
            0 => {
                const PUNCTUATION: &[u8] = b"{}[]\\\",:.-_/()";
                (0..1 + next(4)).for_each(|_| bytes.push(PUNCTUATION[next(PUNCTUATION.len() as u64) as usize]))
            }
            n => {
                if n < 6 {
                    bytes.push(b' ');
                }
                let len = 2 + next(11);
                (0..len).for_each(|_| bytes.push(b'a' + next(26) as u8));
                if next(8) == 0 {
                    bytes[0] = bytes[0].to_ascii_uppercase();
                }
            }
        }
        tokens.push((tokens.len() as u32, bytes));
    }
    tokens
}

fn constraint_mask(c: &mut Criterion) {
    let vocabulary = synthetic_vocabulary(151_646);
    let (trie, grammar) = TokenTrie::new(&vocabulary, DraftGrammar::draft().expect("draft grammar")).expect("trie");
    let mut group = c.benchmark_group("constraint_mask");
    let mut in_string = grammar.start();
    assert!(in_string.feed_all(&grammar, br#"{"name": "Block the attacking addr"#));
    let mut at_key = grammar.start();
    assert!(at_key.feed_all(&grammar, br#"{"name": "Block", "#));
    for (label, state) in [("in-string", in_string), ("at-key", at_key)] {
        let mut allowed = Vec::with_capacity(vocabulary.len());
        group.bench_function(format!("151646-tokens/{label}"), |b| {
            b.iter(|| {
                allowed.clear();
                trie.allowed(&grammar, &state, 1000, &mut allowed);
                allowed.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, constraint_mask, decoding);
criterion_main!(benches);
