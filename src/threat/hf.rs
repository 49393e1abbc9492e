//! Bring-your-own Hugging Face checkpoint: a BERT or DistilBERT sequence classifier from a local
//! directory (`config.json`, `model.safetensors`, `tokenizer.json`), run with candle on the CPU.
//!
//! The body is candle-transformers' BERT or DistilBERT; the sequence-classification heads are
//! added here as Hugging Face defines them: BERT takes the `[CLS]` hidden state through
//! `bert.pooler.dense` and tanh, then `classifier`; DistilBERT takes it through `pre_classifier`,
//! ReLU, then `classifier`. The two bodies read their attention masks with opposite meanings:
//! BERT's mask is 1 for tokens to keep, candle's DistilBERT mask is 1 for positions masked out.
//!
//! Labels are mapped from `id2label` by name, case-insensitively: a [`ThreatType`] name (with `-`
//! or spaces for `_`), or for a two-label model the usual binary names (`normal`, `safe`,
//! `benign`, `LABEL_0` for benign; `threat`, `malicious`, `attack`, `LABEL_1` for a threat). A
//! binary model's threat probability is spread evenly over the ten threat labels and it says
//! [`Classifier::is_binary`], so the detector takes the type from typed members. A label that maps
//! to nothing is an error naming it. A foreign checkpoint was trained on raw text, so
//! [`Classifier::wants_normalized`] is false.
//!
//! Texts are truncated to the model's `max_position_embeddings` tokens (and, before
//! tokenizing, to [`BYTES_PER_POSITION`] bytes per position, which bounds the tokenizer's cost on
//! a megabyte line without losing tokens the model would see on real text).

use super::{Classifier, LabelProbs, ThreatError, ThreatType, LABELS};
use crate::attack::mapper::model::softmax_in_place;
use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::{bert, distilbert};
use std::path::{Path, PathBuf};
use tokenizers::{Tokenizer, TruncationParams};

/// Texts run through the model at once.
pub const MAX_BATCH: usize = 16;
/// Bytes of text kept per model position before tokenizing.
pub const BYTES_PER_POSITION: usize = 64;
/// Largest `config.json` read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Which threat label a model output stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputLabel {
    Label(ThreatType),
    /// "Some threat" of a binary model: spread over the threat labels.
    AnyThreat,
}

enum Body {
    Bert { model: bert::BertModel, pooler: Linear, classifier: Linear },
    DistilBert { model: distilbert::DistilBertModel, pre_classifier: Linear, classifier: Linear },
}

/// A local Hugging Face BERT/DistilBERT sequence classifier.
pub struct HfClassifier {
    id: String,
    model_type: String,
    body: Body,
    tokenizer: Tokenizer,
    outputs: Vec<OutputLabel>,
    max_positions: usize,
    pad_id: u32,
    device: Device,
}

impl std::fmt::Debug for HfClassifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfClassifier")
            .field("id", &self.id)
            .field("model_type", &self.model_type)
            .field("outputs", &self.outputs)
            .field("max_positions", &self.max_positions)
            .finish()
    }
}

fn model_error(path: &Path, message: impl Into<String>) -> ThreatError {
    ThreatError::Model { path: path.display().to_string(), message: message.into() }
}

/// Maps `id2label` names (in output order) to labels. Errors name every unmappable label.
pub fn map_labels(names: &[String]) -> Result<Vec<OutputLabel>, String> {
    const BENIGN: &[&str] = &["benign", "normal", "safe", "clean", "legitimate", "label_0"];
    const THREAT: &[&str] = &["threat", "malicious", "attack", "anomalous", "label_1"];
    let binary = names.len() == 2;
    let mut out = Vec::with_capacity(names.len());
    let mut bad = Vec::new();
    for name in names {
        let key = name.trim().to_ascii_lowercase();
        let mapped = if let Ok(t) = key.parse::<ThreatType>() {
            Some(OutputLabel::Label(t))
        } else if BENIGN.contains(&key.as_str()) && (binary || key != "label_0") {
            Some(OutputLabel::Label(ThreatType::Benign))
        } else if binary && THREAT.contains(&key.as_str()) {
            Some(OutputLabel::AnyThreat)
        } else {
            None
        };
        match mapped {
            Some(m) => out.push(m),
            None => bad.push(name.clone()),
        }
    }
    if !bad.is_empty() {
        return Err(format!(
            "labels {bad:?} map to no threat type (expected threat type names, or for a 2-label model \
             normal/safe/benign/LABEL_0 and threat/malicious/attack/LABEL_1)"
        ));
    }
    if out.is_empty() {
        return Err("id2label is empty".into());
    }
    Ok(out)
}

/// `id2label` of a config, in output order; `LABEL_i` names for `num_labels` (default 2) when
/// absent.
fn id2label(config: &serde_json::Value) -> Result<Vec<String>, String> {
    let Some(map) = config.get("id2label") else {
        let n = config.get("num_labels").and_then(|v| v.as_u64()).unwrap_or(2) as usize;
        return Ok((0..n).map(|i| format!("LABEL_{i}")).collect());
    };
    let map = map.as_object().ok_or("id2label is not an object")?;
    let mut pairs: Vec<(usize, String)> = Vec::with_capacity(map.len());
    for (k, v) in map {
        let i: usize = k.trim().parse().map_err(|_| format!("id2label key {k:?} is not an index"))?;
        let name = v.as_str().ok_or_else(|| format!("id2label[{k}] is not a string"))?;
        pairs.push((i, name.to_string()));
    }
    pairs.sort();
    if pairs.iter().enumerate().any(|(expected, (i, _))| *i != expected) {
        return Err("id2label keys are not 0..n".into());
    }
    Ok(pairs.into_iter().map(|(_, n)| n).collect())
}

/// Fills Hugging Face's defaults for fields candle's configs require but a config may omit.
fn with_defaults(config: &serde_json::Value, defaults: serde_json::Value) -> serde_json::Value {
    let mut merged = config.clone();
    if let (Some(m), serde_json::Value::Object(d)) = (merged.as_object_mut(), defaults) {
        for (k, v) in d {
            m.entry(k).or_insert(v);
        }
    }
    merged
}

impl HfClassifier {
    /// Loads the checkpoint in `dir`. Errors name the file that is missing or wrong.
    pub fn load(dir: &Path) -> Result<HfClassifier, ThreatError> {
        let config_path = dir.join("config.json");
        let weights_path = dir.join("model.safetensors");
        let tokenizer_path = dir.join("tokenizer.json");
        for path in [&config_path, &weights_path, &tokenizer_path] {
            if !path.is_file() {
                return Err(model_error(
                    path,
                    "missing: a checkpoint needs config.json, model.safetensors and tokenizer.json",
                ));
            }
        }
        let config = read_config(&config_path)?;
        let model_type = config.get("model_type").and_then(|v| v.as_str()).unwrap_or("").to_string();
        if model_type != "bert" && model_type != "distilbert" {
            return Err(model_error(
                &config_path,
                format!("model_type {model_type:?} is not supported (expected \"bert\" or \"distilbert\")"),
            ));
        }
        let names = id2label(&config).map_err(|m| model_error(&config_path, m))?;
        let outputs = map_labels(&names).map_err(|m| model_error(&config_path, m))?;

        let bad_config = |e: serde_json::Error| model_error(&config_path, format!("not a {model_type} config: {e}"));
        let max_positions = config
            .get("max_position_embeddings")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| model_error(&config_path, "max_position_embeddings is missing"))?
            as usize;
        if max_positions < 2 {
            return Err(model_error(&config_path, "max_position_embeddings must be at least 2"));
        }
        let pad_id = config.get("pad_token_id").and_then(|v| v.as_u64()).unwrap_or(0) as u32;

        let device = Device::Cpu;
        let bytes = std::fs::read(&weights_path)
            .map_err(|source| ThreatError::Io { path: weights_path.display().to_string(), source })?;
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &device)
            .map_err(|e| model_error(&weights_path, format!("not a safetensors file: {e}")))?;
        let bad_weights = |e: candle_core::Error| model_error(&weights_path, e.to_string());
        let n = outputs.len();
        let vocab_size = config.get("vocab_size").and_then(|v| v.as_u64()).unwrap_or(0) as usize;
        let body = if model_type == "bert" {
            let cfg: bert::Config = serde_json::from_value(with_defaults(
                &config,
                serde_json::json!({
                    "hidden_dropout_prob": 0.1, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
                    "pad_token_id": 0, "type_vocab_size": 2, "hidden_act": "gelu",
                }),
            ))
            .map_err(bad_config)?;
            let hidden = cfg.hidden_size;
            let model = bert::BertModel::load(vb.pp("bert"), &cfg).map_err(bad_weights)?;
            let pooler = candle_nn::linear(hidden, hidden, vb.pp("bert.pooler.dense")).map_err(bad_weights)?;
            let classifier = candle_nn::linear(hidden, n, vb.pp("classifier")).map_err(bad_weights)?;
            Body::Bert { model, pooler, classifier }
        } else {
            let cfg: distilbert::Config = serde_json::from_value(with_defaults(
                &config,
                serde_json::json!({"initializer_range": 0.02, "pad_token_id": 0, "activation": "gelu"}),
            ))
            .map_err(bad_config)?;
            let dim = cfg.dim;
            let model = distilbert::DistilBertModel::load(vb.pp("distilbert"), &cfg).map_err(bad_weights)?;
            let pre_classifier = candle_nn::linear(dim, dim, vb.pp("pre_classifier")).map_err(bad_weights)?;
            let classifier = candle_nn::linear(dim, n, vb.pp("classifier")).map_err(bad_weights)?;
            Body::DistilBert { model, pre_classifier, classifier }
        };

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| model_error(&tokenizer_path, format!("not a tokenizer: {e}")))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: max_positions, ..TruncationParams::default() }))
            .map_err(|e| model_error(&tokenizer_path, format!("cannot truncate to {max_positions}: {e}")))?;
        let tokens = tokenizer.get_vocab_size(true);
        if tokens > vocab_size {
            return Err(model_error(
                &tokenizer_path,
                format!(
                    "has {tokens} tokens but config.json's vocab_size is {vocab_size}: they do not belong together"
                ),
            ));
        }

        let name = dir
            .canonicalize()
            .unwrap_or_else(|_| PathBuf::from(dir))
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "checkpoint".into());
        Ok(HfClassifier {
            id: format!("hf/{model_type}/{name}"),
            model_type,
            body,
            tokenizer,
            outputs,
            max_positions,
            pad_id,
            device,
        })
    }

    /// What each model output stands for.
    pub fn outputs(&self) -> &[OutputLabel] {
        &self.outputs
    }

    /// `bert` or `distilbert`.
    pub fn model_type(&self) -> &str {
        &self.model_type
    }

    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// Raw logits (batch × outputs) for one batch of texts.
    fn logits(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ThreatError> {
        let limit = self.max_positions * BYTES_PER_POSITION;
        let cut: Vec<&str> = texts
            .iter()
            .map(|t| {
                let mut end = t.len().min(limit);
                while !t.is_char_boundary(end) {
                    end -= 1;
                }
                &t[..end]
            })
            .collect();
        let encodings = self
            .tokenizer
            .encode_batch(cut, true)
            .map_err(|e| ThreatError::Compute(format!("tokenizing failed: {e}")))?;
        let len = encodings.iter().map(|e| e.get_ids().len().min(self.max_positions)).max().unwrap_or(0).max(1);
        let batch = encodings.len();
        let mut ids = vec![self.pad_id; batch * len];
        let mut keep = vec![0u8; batch * len];
        for (row, e) in encodings.iter().enumerate() {
            let e_ids = &e.get_ids()[..e.get_ids().len().min(len)];
            ids[row * len..row * len + e_ids.len()].copy_from_slice(e_ids);
            // At least the first position is attended, so an empty text still has a row to read.
            let attended = e_ids.len().max(1);
            keep[row * len..row * len + attended].iter_mut().for_each(|k| *k = 1);
        }
        let ids = Tensor::from_vec(ids, (batch, len), &self.device)?;
        let logits = match &self.body {
            Body::Bert { model, pooler, classifier } => {
                let mask = Tensor::from_vec(keep, (batch, len), &self.device)?.to_dtype(DType::F32)?;
                let types = ids.zeros_like()?;
                let hidden = model.forward(&ids, &types, Some(&mask))?;
                let cls = hidden.i((.., 0))?;
                let pooled = pooler.forward(&cls)?.tanh()?;
                classifier.forward(&pooled)?
            }
            Body::DistilBert { model, pre_classifier, classifier } => {
                let masked_out: Vec<u8> = keep.iter().map(|k| 1 - k).collect();
                let mask = Tensor::from_vec(masked_out, (batch, 1, 1, len), &self.device)?;
                let hidden = model.forward(&ids, &mask)?;
                let cls = hidden.i((.., 0))?;
                let h = pre_classifier.forward(&cls)?.relu()?;
                classifier.forward(&h)?
            }
        };
        Ok(logits.to_dtype(DType::F32)?.to_vec2::<f32>()?)
    }

    /// Spreads a model's output probabilities over the label set.
    fn to_label_probs(&self, logits: &[f32]) -> LabelProbs {
        let mut p = logits.to_vec();
        softmax_in_place(&mut p);
        let mut out = [0f32; LABELS.len()];
        let threats = LABELS.len() - 1;
        for (prob, label) in p.iter().zip(&self.outputs) {
            match label {
                OutputLabel::Label(t) => out[t.index()] += prob,
                OutputLabel::AnyThreat => {
                    for slot in out.iter_mut().skip(1) {
                        *slot += prob / threats as f32;
                    }
                }
            }
        }
        // A NaN from a broken checkpoint must not pass for a probability.
        if out.iter().any(|x| !x.is_finite()) {
            return uniform();
        }
        let sum: f32 = out.iter().sum();
        if sum > 0.0 {
            out.iter_mut().for_each(|x| *x /= sum);
        }
        out
    }
}

fn uniform() -> LabelProbs {
    [1.0 / LABELS.len() as f32; LABELS.len()]
}

fn read_config(path: &Path) -> Result<serde_json::Value, ThreatError> {
    let size =
        std::fs::metadata(path).map_err(|source| ThreatError::Io { path: path.display().to_string(), source })?.len();
    if size > MAX_CONFIG_BYTES {
        return Err(model_error(path, format!("{size} bytes; a config is at most {MAX_CONFIG_BYTES}")));
    }
    let text =
        std::fs::read_to_string(path).map_err(|source| ThreatError::Io { path: path.display().to_string(), source })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| model_error(path, format!("not JSON: {e}")))?;
    if !value.is_object() {
        return Err(model_error(path, "not a JSON object"));
    }
    Ok(value)
}

impl Classifier for HfClassifier {
    fn id(&self) -> String {
        self.id.clone()
    }

    fn predict_batch(&self, texts: &[&str]) -> Result<Vec<LabelProbs>, ThreatError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(MAX_BATCH) {
            for logits in self.logits(chunk)? {
                out.push(self.to_label_probs(&logits));
            }
        }
        Ok(out)
    }

    fn wants_normalized(&self) -> bool {
        false
    }

    fn is_binary(&self) -> bool {
        self.outputs.contains(&OutputLabel::AnyThreat)
            && !self.outputs.iter().any(|o| matches!(o, OutputLabel::Label(t) if t.is_threat()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn labels_map_by_name_and_binary_aliases() {
        assert_eq!(
            map_labels(&names(&["normal", "threat"])).unwrap(),
            [OutputLabel::Label(ThreatType::Benign), OutputLabel::AnyThreat]
        );
        assert_eq!(
            map_labels(&names(&["LABEL_0", "LABEL_1"])).unwrap(),
            [OutputLabel::Label(ThreatType::Benign), OutputLabel::AnyThreat]
        );
        assert_eq!(
            map_labels(&names(&["Benign", "SQL-Injection", "xss"])).unwrap(),
            [
                OutputLabel::Label(ThreatType::Benign),
                OutputLabel::Label(ThreatType::SqlInjection),
                OutputLabel::Label(ThreatType::Xss)
            ]
        );
        let err = map_labels(&names(&["benign", "threat", "ddos"])).unwrap_err();
        assert!(err.contains("\"threat\"") && err.contains("\"ddos\""), "{err}");
        assert!(map_labels(&names(&["LABEL_0", "LABEL_1", "LABEL_2"])).is_err());
        assert!(map_labels(&[]).is_err());
    }

    #[test]
    fn id2label_reads_in_index_order_and_defaults() {
        let cfg = serde_json::json!({"id2label": {"1": "threat", "0": "normal"}});
        assert_eq!(id2label(&cfg).unwrap(), ["normal", "threat"]);
        assert_eq!(id2label(&serde_json::json!({})).unwrap(), ["LABEL_0", "LABEL_1"]);
        assert!(id2label(&serde_json::json!({"id2label": {"0": "a", "2": "b"}})).is_err());
        assert!(id2label(&serde_json::json!({"id2label": {"x": "a"}})).is_err());
    }
}
