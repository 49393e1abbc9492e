//! Bring-your-own Hugging Face checkpoints: tiny random BERT and DistilBERT sequence classifiers
//! written here (safetensors through candle, a config.json, a WordPiece tokenizer.json built with
//! the tokenizers crate), loaded, run, and broken in the ways a user's directory can be broken.

use cacao_forge::attack::sigma::SplitMix;
use cacao_forge::threat::hf::{HfClassifier, OutputLabel};
use cacao_forge::threat::{Classifier, ThreatType, LABELS};
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::Path;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::Tokenizer;

const WORDS: &[&str] = &[
    "select", "from", "users", "where", "or", "and", "union", "script", "alert", "etc", "passwd", "failed", "password",
    "for", "root", "invalid", "user", "get", "http", "index", "html", "the", "a", "is",
];

/// A WordPiece tokenizer over a small vocabulary: specials, some words, single characters and
/// their `##` continuations. Returns the vocabulary size.
fn write_tokenizer(dir: &Path) -> usize {
    let mut vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].iter().map(|s| s.to_string()).collect();
    vocab.extend(WORDS.iter().map(|s| s.to_string()));
    let chars: Vec<char> = ('a'..='z').chain('0'..='9').chain("<>/.'\"=-;:()!?,_%&|".chars()).collect();
    vocab.extend(chars.iter().map(|c| c.to_string()));
    vocab.extend(chars.iter().map(|c| format!("##{c}")));
    let vocab_path = dir.join("vocab.txt");
    std::fs::write(&vocab_path, vocab.join("\n") + "\n").unwrap();
    let model = WordPiece::from_file(vocab_path.to_str().unwrap()).unk_token("[UNK]".into()).build().unwrap();
    let mut tokenizer = Tokenizer::new(model);
    tokenizer.with_normalizer(Some(BertNormalizer::default())).unwrap();
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    tokenizer.with_post_processor(Some(BertProcessing::new(("[SEP]".into(), 3), ("[CLS]".into(), 2))));
    tokenizer.save(dir.join("tokenizer.json"), false).unwrap();
    std::fs::remove_file(vocab_path).unwrap();
    vocab.len()
}

/// Seeded random tensors with Hugging Face's names; layer norms start at weight 1, bias 0.
struct Weights {
    rng: SplitMix,
    tensors: HashMap<String, Tensor>,
}

impl Weights {
    fn new(seed: u64) -> Weights {
        Weights { rng: SplitMix::new(seed), tensors: HashMap::new() }
    }

    fn random(&mut self, name: &str, shape: &[usize]) {
        let n: usize = shape.iter().product();
        let data: Vec<f32> =
            (0..n).map(|_| ((self.rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.2).collect();
        self.tensors.insert(name.into(), Tensor::from_vec(data, shape, &Device::Cpu).unwrap());
    }

    fn linear(&mut self, name: &str, out: usize, inp: usize) {
        self.random(&format!("{name}.weight"), &[out, inp]);
        self.random(&format!("{name}.bias"), &[out]);
    }

    fn layer_norm(&mut self, name: &str, size: usize) {
        let d = Device::Cpu;
        self.tensors.insert(format!("{name}.weight"), Tensor::ones(size, candle_core::DType::F32, &d).unwrap());
        self.tensors.insert(format!("{name}.bias"), Tensor::zeros(size, candle_core::DType::F32, &d).unwrap());
    }

    fn save(&self, dir: &Path) {
        candle_core::safetensors::save(&self.tensors, dir.join("model.safetensors")).unwrap();
    }
}

struct Shape {
    hidden: usize,
    layers: usize,
    heads: usize,
    intermediate: usize,
    positions: usize,
}

const TINY: Shape = Shape { hidden: 16, layers: 2, heads: 2, intermediate: 32, positions: 32 };

fn id2label(labels: &[&str]) -> serde_json::Value {
    labels.iter().enumerate().map(|(i, l)| (i.to_string(), serde_json::json!(l))).collect()
}

fn write_bert(dir: &Path, labels: &[&str], s: &Shape, vocab: Option<usize>) {
    std::fs::create_dir_all(dir).unwrap();
    let vocab = vocab.unwrap_or_else(|| write_tokenizer(dir));
    let config = serde_json::json!({
        "architectures": ["BertForSequenceClassification"], "model_type": "bert",
        "vocab_size": vocab, "hidden_size": s.hidden, "num_hidden_layers": s.layers,
        "num_attention_heads": s.heads, "intermediate_size": s.intermediate, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": s.positions, "type_vocab_size": 2, "initializer_range": 0.02,
        "layer_norm_eps": 1e-12, "pad_token_id": 0, "id2label": id2label(labels),
    });
    std::fs::write(dir.join("config.json"), serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let mut w = Weights::new(11);
    let h = s.hidden;
    w.random("bert.embeddings.word_embeddings.weight", &[vocab, h]);
    w.random("bert.embeddings.position_embeddings.weight", &[s.positions, h]);
    w.random("bert.embeddings.token_type_embeddings.weight", &[2, h]);
    w.layer_norm("bert.embeddings.LayerNorm", h);
    for i in 0..s.layers {
        let p = format!("bert.encoder.layer.{i}");
        for part in ["query", "key", "value"] {
            w.linear(&format!("{p}.attention.self.{part}"), h, h);
        }
        w.linear(&format!("{p}.attention.output.dense"), h, h);
        w.layer_norm(&format!("{p}.attention.output.LayerNorm"), h);
        w.linear(&format!("{p}.intermediate.dense"), s.intermediate, h);
        w.linear(&format!("{p}.output.dense"), h, s.intermediate);
        w.layer_norm(&format!("{p}.output.LayerNorm"), h);
    }
    w.linear("bert.pooler.dense", h, h);
    w.linear("classifier", labels.len(), h);
    w.save(dir);
}

fn write_distilbert(dir: &Path, labels: &[&str], s: &Shape, vocab: Option<usize>) {
    std::fs::create_dir_all(dir).unwrap();
    let vocab = vocab.unwrap_or_else(|| write_tokenizer(dir));
    let config = serde_json::json!({
        "architectures": ["DistilBertForSequenceClassification"], "model_type": "distilbert",
        "vocab_size": vocab, "dim": s.hidden, "n_layers": s.layers, "n_heads": s.heads,
        "hidden_dim": s.intermediate, "activation": "gelu", "dropout": 0.1, "attention_dropout": 0.1,
        "max_position_embeddings": s.positions, "initializer_range": 0.02, "pad_token_id": 0,
        "sinusoidal_pos_embds": false, "seq_classif_dropout": 0.2, "id2label": id2label(labels),
    });
    std::fs::write(dir.join("config.json"), serde_json::to_string_pretty(&config).unwrap()).unwrap();
    let mut w = Weights::new(12);
    let h = s.hidden;
    w.random("distilbert.embeddings.word_embeddings.weight", &[vocab, h]);
    w.random("distilbert.embeddings.position_embeddings.weight", &[s.positions, h]);
    w.layer_norm("distilbert.embeddings.LayerNorm", h);
    for i in 0..s.layers {
        let p = format!("distilbert.transformer.layer.{i}");
        for part in ["q_lin", "k_lin", "v_lin", "out_lin"] {
            w.linear(&format!("{p}.attention.{part}"), h, h);
        }
        w.layer_norm(&format!("{p}.sa_layer_norm"), h);
        w.linear(&format!("{p}.ffn.lin1"), s.intermediate, h);
        w.linear(&format!("{p}.ffn.lin2"), h, s.intermediate);
        w.layer_norm(&format!("{p}.output_layer_norm"), h);
    }
    w.linear("pre_classifier", h, h);
    w.linear("classifier", labels.len(), h);
    w.save(dir);
}

fn texts() -> Vec<String> {
    vec![
        "1' or '1'='1' union select password from users--".to_string(),
        "<script>alert(1)</script>".to_string(),
        "Failed password for invalid user root".to_string(),
        String::new(),
        "ünïcödé 😀 text".to_string(),
        "select ".repeat(500), // far past max_position_embeddings
    ]
}

fn check_predictions(model: &HfClassifier) {
    let owned = texts();
    let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
    let a = model.predict_batch(&texts).unwrap();
    let b = model.predict_batch(&texts).unwrap();
    assert_eq!(a.len(), texts.len());
    assert_eq!(a, b, "predictions are deterministic");
    for p in &a {
        let sum: f32 = p.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "{p:?} sums to {sum}");
        assert!(p.iter().all(|x| x.is_finite() && *x >= 0.0), "{p:?}");
    }
    // A text predicted alone scores as it does in a padded batch (the mask works).
    for (i, t) in texts.iter().enumerate() {
        let alone = model.predict_batch(&[t]).unwrap();
        for (x, y) in alone[0].iter().zip(&a[i]) {
            assert!((x - y).abs() < 1e-4, "text {i}: alone {:?} vs batched {:?}", alone[0], a[i]);
        }
    }
    assert!(!model.wants_normalized());
}

#[test]
fn a_binary_distilbert_checkpoint_loads_and_spreads_its_threat_probability() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed-like");
    write_distilbert(&path, &["normal", "threat"], &TINY, None);
    let model = HfClassifier::load(&path).unwrap();
    assert_eq!(model.model_type(), "distilbert");
    assert_eq!(model.id(), "hf/distilbert/seed-like");
    assert!(model.is_binary());
    assert_eq!(model.outputs(), [OutputLabel::Label(ThreatType::Benign), OutputLabel::AnyThreat]);
    assert_eq!(model.max_positions(), 32);
    check_predictions(&model);
    let p = model.predict_batch(&["select * from users"]).unwrap()[0];
    for label in &LABELS[2..] {
        assert!((p[label.index()] - p[1]).abs() < 1e-6, "the threat mass is spread evenly: {p:?}");
    }
    // The same checkpoint loaded again gives the same numbers.
    let again = HfClassifier::load(&path).unwrap();
    assert_eq!(again.predict_batch(&["select * from users"]).unwrap()[0], p);
}

#[test]
fn a_typed_bert_checkpoint_loads_and_predicts_per_label() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bert-typed");
    write_bert(&path, &["benign", "sql_injection", "XSS", "Path-Traversal"], &TINY, None);
    let model = HfClassifier::load(&path).unwrap();
    assert_eq!(model.model_type(), "bert");
    assert!(!model.is_binary());
    check_predictions(&model);
    let p = model.predict_batch(&["<script>"]).unwrap()[0];
    for label in [ThreatType::CommandInjection, ThreatType::Malware, ThreatType::Phishing] {
        assert_eq!(p[label.index()], 0.0, "labels the model lacks get nothing: {p:?}");
    }
    assert!(p[ThreatType::Xss.index()] > 0.0);
}

#[test]
fn a_binary_bert_checkpoint_with_default_label_names_loads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bert-binary");
    write_bert(&path, &["LABEL_0", "LABEL_1"], &TINY, None);
    let model = HfClassifier::load(&path).unwrap();
    assert!(model.is_binary());
    check_predictions(&model);
}

#[test]
fn broken_checkpoints_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    write_distilbert(&good, &["normal", "threat"], &TINY, None);
    let copy = |name: &str| {
        let to = dir.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        for f in ["config.json", "model.safetensors", "tokenizer.json"] {
            std::fs::copy(good.join(f), to.join(f)).unwrap();
        }
        to
    };
    let message = |p: &Path| HfClassifier::load(p).unwrap_err().to_string();

    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        let d = copy(&format!("missing-{file}"));
        std::fs::remove_file(d.join(file)).unwrap();
        let err = message(&d);
        assert!(err.contains(file) && err.contains("missing"), "{err}");
    }

    let edit_config = |name: &str, f: &dyn Fn(&mut serde_json::Value)| {
        let d = copy(name);
        let mut cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).unwrap()).unwrap();
        f(&mut cfg);
        std::fs::write(d.join("config.json"), cfg.to_string()).unwrap();
        d
    };
    let err = message(&edit_config("roberta", &|c| c["model_type"] = "roberta".into()));
    assert!(err.contains("config.json") && err.contains("\"roberta\" is not supported"), "{err}");
    let err = message(&edit_config("labels", &|c| c["id2label"] = serde_json::json!({"0": "normal", "1": "spam"})));
    assert!(err.contains("config.json") && err.contains("\"spam\""), "{err}");
    let err = message(&edit_config("three", &|c| {
        c["id2label"] = serde_json::json!({"0": "benign", "1": "threat", "2": "ddos"})
    }));
    assert!(err.contains("\"threat\"") && err.contains("\"ddos\""), "{err}");
    // Three outputs named, a two-output classifier stored: the weights do not fit.
    let err = message(&edit_config("shape", &|c| {
        c["id2label"] = serde_json::json!({"0": "benign", "1": "xss", "2": "malware"})
    }));
    assert!(err.contains("model.safetensors"), "{err}");

    // A tokenizer with more tokens than the embedding table has rows.
    let d = dir.path().join("small-vocab");
    std::fs::create_dir_all(&d).unwrap();
    write_tokenizer(&d);
    write_distilbert(&d, &["normal", "threat"], &TINY, Some(20));
    let err = message(&d);
    assert!(err.contains("tokenizer.json") && err.contains("vocab_size is 20"), "{err}");

    let d = copy("garbage-weights");
    std::fs::write(d.join("model.safetensors"), b"not safetensors").unwrap();
    assert!(message(&d).contains("model.safetensors"));
    let d = copy("garbage-tokenizer");
    std::fs::write(d.join("tokenizer.json"), b"{").unwrap();
    assert!(message(&d).contains("tokenizer.json"));
    let d = copy("garbage-config");
    std::fs::write(d.join("config.json"), b"[1, 2").unwrap();
    assert!(message(&d).contains("config.json"));
    let err = message(&dir.path().join("nowhere"));
    assert!(err.contains("nowhere") && err.contains("config.json"), "{err}");
}

/// The speed of a DistilBERT-base-shaped checkpoint (66M random weights, 260 MB written to a
/// temporary directory): `cargo test --release --test threat_hf -- --ignored --nocapture`.
#[test]
#[ignore]
fn distilbert_base_speed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("base");
    std::fs::create_dir_all(&path).unwrap();
    write_tokenizer(&path);
    let base = Shape { hidden: 768, layers: 6, heads: 12, intermediate: 3072, positions: 512 };
    write_distilbert(&path, &["normal", "threat"], &base, Some(30522));
    let model = HfClassifier::load(&path).unwrap();
    // 77 tokens with [CLS] and [SEP].
    let line = "failed password for invalid user root from 10 . 0 . 0 . 1 port 22 ssh2 ".repeat(3);
    let tokenizer = Tokenizer::from_file(path.join("tokenizer.json")).unwrap();
    let tokens = tokenizer.encode(line.as_str(), true).unwrap().get_ids().len();
    let lines: Vec<&str> = std::iter::repeat_n(line.as_str(), 32).collect();
    let start = std::time::Instant::now();
    for l in &lines[..8] {
        model.predict_batch(&[l]).unwrap();
    }
    let single = 8.0 / start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    model.predict_batch(&lines).unwrap();
    let batched = lines.len() as f64 / start.elapsed().as_secs_f64();
    println!("distilbert-base shape, {tokens} tokens: {single:.1} lines/s one by one, {batched:.1} lines/s batched");
}
