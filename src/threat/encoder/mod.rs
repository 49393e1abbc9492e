//! The transformer member of the threat model: a small encoder written with candle, reading the
//! ids of our own byte-level BPE tokenizer ([`tokenizer`]), trained by [`train`].
//!
//! Architecture: token + learned position embeddings, `layers` pre-LN transformer blocks
//! (multi-head self-attention with a padding mask, then a GELU feed-forward), a final layer norm,
//! the mean over the real (non-padding) tokens, and a linear head over the 11 labels of
//! [`LABELS`]. It is sized for a CPU: with d_model 64-128 and 2-3 layers a batch of log lines
//! costs well under a millisecond a line, which a linear member cannot beat on meaning but an
//! ensemble can afford.
//!
//! A model is three files in a directory (or three byte slices, to embed with `include_bytes!`):
//! `config.json` ([`EncoderConfig`]), `model.safetensors` (f32 weights named as in
//! [`parameter_shapes`]) and `tokenizer.json`.
//!
//! Gradients: candle 0.11's fused `LayerNorm`, `rms_norm` and `softmax_last_dim` record no
//! gradient, so the training path writes the norm from basic tensor ops and uses
//! `candle_nn::ops::softmax`; prediction takes the fused kernels, which compute the same values.
//!
//! Speed on a small shared CPU (measured, see tests/threat_encoder.rs): texts are sorted by
//! length and run 4 at a time. Bigger batches are slower per text here, not faster (64 at a
//! time: a third of the rate): every tensor op is a separate pass over memory, and at 64 texts
//! the activations no longer fit in the core's cache. candle's own worker threads spin at a barrier after every op, which costs
//! 2-5x on a loaded machine: run with `CANDLE_NUM_THREADS=1` and parallelize across texts
//! instead, if at all.

pub mod tokenizer;
pub mod train;

use crate::threat::{Classifier, LabelProbs, ThreatError, LABELS};
use candle_core::{DType, Device, Tensor, D};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use tokenizer::ThreatTokenizer;

/// The config's `format` value.
pub const FORMAT: &str = "cacao-forge-threat-encoder";
/// The config version this build reads and writes.
pub const VERSION: u32 = 1;
pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// Default number of texts run through the network together at prediction (texts are sorted by
/// length first, so a batch pads little). Small on purpose; see the module notes.
pub const PREDICT_BATCH: usize = 4;
/// Largest accepted file of a model directory (weights, tokenizer, config), in bytes.
pub const MAX_MODEL_FILE_BYTES: u64 = 64 << 20;
const LAYER_NORM_EPS: f32 = 1e-5;
/// Added to the attention score of a padding key: far below any real score, still finite so a
/// softmax never sees `-inf - -inf`.
const MASKED_SCORE: f32 = -1e9;

/// The shape of a model and what its outputs mean; `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderConfig {
    pub format: String,
    pub version: u32,
    /// Model name with version, e.g. `threat-encoder-v1`; the classifier id is `encoder/<name>`.
    pub name: String,
    /// Rows of the token embedding; must equal the tokenizer's vocabulary.
    pub vocab_size: usize,
    pub d_model: usize,
    pub layers: usize,
    pub heads: usize,
    /// Width of the feed-forward hidden layer.
    pub ffn_dim: usize,
    /// Non-linearity of the feed-forward layer.
    pub activation: Activation,
    /// Most tokens read from one text, `[CLS]` included; rows of the position embedding.
    pub max_len: usize,
    /// Label names in output order; must be [`LABELS`].
    pub labels: Vec<String>,
    /// How the model was trained (data, options, dev figures). Informational; free-form.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub training: BTreeMap<String, serde_json::Value>,
}

impl EncoderConfig {
    /// A config with the given shape, the current format and the [`LABELS`] order.
    pub fn new(name: &str, vocab_size: usize, d_model: usize, layers: usize, heads: usize, max_len: usize) -> Self {
        EncoderConfig {
            format: FORMAT.into(),
            version: VERSION,
            name: name.into(),
            vocab_size,
            d_model,
            layers,
            heads,
            ffn_dim: 4 * d_model,
            activation: Activation::Relu,
            max_len,
            labels: LABELS.iter().map(|l| l.as_str().to_string()).collect(),
            training: BTreeMap::new(),
        }
    }

    /// Checks the format, the limits and the label order.
    pub fn validate(&self) -> Result<(), ThreatError> {
        let bad = |m: String| Err(ThreatError::Invalid(format!("encoder config: {m}")));
        if self.format != FORMAT {
            return bad(format!("format is {:?}, expected {FORMAT:?}", self.format));
        }
        if self.version != VERSION {
            return bad(format!("version {} is not supported (this build reads {VERSION})", self.version));
        }
        let limits: [(&str, usize, std::ops::RangeInclusive<usize>); 6] = [
            ("vocab_size", self.vocab_size, 2..=262_144),
            ("d_model", self.d_model, 4..=1024),
            ("layers", self.layers, 1..=24),
            ("heads", self.heads, 1..=64),
            ("ffn_dim", self.ffn_dim, 4..=8192),
            ("max_len", self.max_len, 2..=4096),
        ];
        for (name, value, range) in limits {
            if !range.contains(&value) {
                return bad(format!("{name} {value} is outside {}..={}", range.start(), range.end()));
            }
        }
        if !self.d_model.is_multiple_of(self.heads) {
            return bad(format!("d_model {} is not a multiple of heads {}", self.d_model, self.heads));
        }
        let expected: Vec<&str> = LABELS.iter().map(|l| l.as_str()).collect();
        if self.labels != expected {
            return bad(format!("labels must be {expected:?} in that order, found {:?}", self.labels));
        }
        Ok(())
    }

    /// Number of weights (f32 values) of a model of this shape.
    pub fn parameter_count(&self) -> usize {
        parameter_shapes(self).iter().map(|(_, s)| s.iter().product::<usize>()).sum()
    }
}

/// The feed-forward non-linearity. ReLU by default: on a CPU, GELU's tanh and its twelve-op
/// gradient cost a fifth of a training step, for no gain measurable at this size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Gelu,
}

/// Every weight tensor of a model of this shape: name and dimensions (linear weights are
/// `[out, in]`), in a fixed order.
pub fn parameter_shapes(c: &EncoderConfig) -> Vec<(String, Vec<usize>)> {
    let d = c.d_model;
    let mut out = vec![("tok_emb".to_string(), vec![c.vocab_size, d]), ("pos_emb".to_string(), vec![c.max_len, d])];
    for i in 0..c.layers {
        let p = format!("layers.{i}.");
        out.extend([
            (format!("{p}ln1.weight"), vec![d]),
            (format!("{p}ln1.bias"), vec![d]),
            (format!("{p}attn.qkv.weight"), vec![3 * d, d]),
            (format!("{p}attn.qkv.bias"), vec![3 * d]),
            (format!("{p}attn.out.weight"), vec![d, d]),
            (format!("{p}attn.out.bias"), vec![d]),
            (format!("{p}ln2.weight"), vec![d]),
            (format!("{p}ln2.bias"), vec![d]),
            (format!("{p}ffn.up.weight"), vec![c.ffn_dim, d]),
            (format!("{p}ffn.up.bias"), vec![c.ffn_dim]),
            (format!("{p}ffn.down.weight"), vec![d, c.ffn_dim]),
            (format!("{p}ffn.down.bias"), vec![d]),
        ]);
    }
    out.extend([
        ("ln_f.weight".to_string(), vec![d]),
        ("ln_f.bias".to_string(), vec![d]),
        ("head.weight".to_string(), vec![LABELS.len(), d]),
        ("head.bias".to_string(), vec![LABELS.len()]),
    ]);
    out
}

/// The seeded generator for initialization, shuffling and dropout masks: training must repeat
/// exactly for a seed, and candle's CPU generator cannot be seeded.
pub(crate) use crate::attack::sigma::SplitMix;

/// Inverted dropout with masks from [`SplitMix`]; only the training path passes one.
pub(crate) struct Dropout {
    pub(crate) p: f32,
    pub(crate) rng: SplitMix,
}

impl Dropout {
    fn apply(&mut self, x: &Tensor) -> candle_core::Result<Tensor> {
        if self.p <= 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - self.p;
        let mask: Vec<f32> =
            (0..x.elem_count()).map(|_| if self.rng.next_f32() < keep { 1.0 / keep } else { 0.0 }).collect();
        x.mul(&Tensor::from_vec(mask, x.shape(), x.device())?)
    }
}

fn apply_dropout(x: Tensor, dropout: &mut Option<&mut Dropout>) -> candle_core::Result<Tensor> {
    match dropout {
        Some(d) => d.apply(&x),
        None => Ok(x),
    }
}

/// A linear layer on 2-D input: `x [n, in] -> [n, out]`.
#[derive(Debug, Clone)]
struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.weight.t()?)?.broadcast_add(&self.bias)
    }
}

#[derive(Debug, Clone)]
struct Block {
    ln1: (Tensor, Tensor),
    qkv: Linear,
    out: Linear,
    ln2: (Tensor, Tensor),
    up: Linear,
    down: Linear,
}

/// The network: weights and the forward pass. The tensors may be candle `Var`s (training) or
/// plain tensors (prediction).
#[derive(Debug, Clone)]
pub(crate) struct Network {
    tok_emb: Tensor,
    pos_emb: Tensor,
    blocks: Vec<Block>,
    ln_f: (Tensor, Tensor),
    head: Linear,
    heads: usize,
    activation: Activation,
    /// Norms by basic ops (they record gradients) rather than the fused kernel.
    differentiable: bool,
}

impl Network {
    /// Builds the network from named tensors, checking that every weight is there with its
    /// shape and that nothing else is.
    pub(crate) fn from_tensors(
        config: &EncoderConfig,
        tensors: &HashMap<String, Tensor>,
        differentiable: bool,
    ) -> Result<Network, ThreatError> {
        let shapes = parameter_shapes(config);
        for (name, shape) in &shapes {
            let t =
                tensors.get(name).ok_or_else(|| ThreatError::Invalid(format!("model weights: {name} is missing")))?;
            if t.dims() != shape.as_slice() || t.dtype() != DType::F32 {
                return Err(ThreatError::Invalid(format!(
                    "model weights: {name} is {:?} {:?}, expected f32 {shape:?}",
                    t.dtype(),
                    t.dims()
                )));
            }
        }
        if tensors.len() != shapes.len() {
            let known: std::collections::HashSet<&str> = shapes.iter().map(|(n, _)| n.as_str()).collect();
            let extra: Vec<&String> = tensors.keys().filter(|k| !known.contains(k.as_str())).collect();
            return Err(ThreatError::Invalid(format!("model weights: unexpected tensors {extra:?}")));
        }
        let get = |name: &str| tensors[name].clone();
        let linear = |p: &str| Linear { weight: get(&format!("{p}.weight")), bias: get(&format!("{p}.bias")) };
        let norm = |p: &str| (get(&format!("{p}.weight")), get(&format!("{p}.bias")));
        let blocks = (0..config.layers)
            .map(|i| Block {
                ln1: norm(&format!("layers.{i}.ln1")),
                qkv: linear(&format!("layers.{i}.attn.qkv")),
                out: linear(&format!("layers.{i}.attn.out")),
                ln2: norm(&format!("layers.{i}.ln2")),
                up: linear(&format!("layers.{i}.ffn.up")),
                down: linear(&format!("layers.{i}.ffn.down")),
            })
            .collect();
        Ok(Network {
            tok_emb: get("tok_emb"),
            pos_emb: get("pos_emb"),
            blocks,
            ln_f: norm("ln_f"),
            head: linear("head"),
            heads: config.heads,
            activation: config.activation,
            differentiable,
        })
    }

    /// Every weight by name, in [`parameter_shapes`] order.
    pub(crate) fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let mut out =
            vec![("tok_emb".to_string(), self.tok_emb.clone()), ("pos_emb".to_string(), self.pos_emb.clone())];
        for (i, b) in self.blocks.iter().enumerate() {
            let p = format!("layers.{i}.");
            out.extend([
                (format!("{p}ln1.weight"), b.ln1.0.clone()),
                (format!("{p}ln1.bias"), b.ln1.1.clone()),
                (format!("{p}attn.qkv.weight"), b.qkv.weight.clone()),
                (format!("{p}attn.qkv.bias"), b.qkv.bias.clone()),
                (format!("{p}attn.out.weight"), b.out.weight.clone()),
                (format!("{p}attn.out.bias"), b.out.bias.clone()),
                (format!("{p}ln2.weight"), b.ln2.0.clone()),
                (format!("{p}ln2.bias"), b.ln2.1.clone()),
                (format!("{p}ffn.up.weight"), b.up.weight.clone()),
                (format!("{p}ffn.up.bias"), b.up.bias.clone()),
                (format!("{p}ffn.down.weight"), b.down.weight.clone()),
                (format!("{p}ffn.down.bias"), b.down.bias.clone()),
            ]);
        }
        out.extend([
            ("ln_f.weight".to_string(), self.ln_f.0.clone()),
            ("ln_f.bias".to_string(), self.ln_f.1.clone()),
            ("head.weight".to_string(), self.head.weight.clone()),
            ("head.bias".to_string(), self.head.bias.clone()),
        ]);
        out
    }

    fn layer_norm(&self, x: &Tensor, (gamma, beta): &(Tensor, Tensor)) -> candle_core::Result<Tensor> {
        if !self.differentiable {
            return candle_nn::ops::layer_norm(x, gamma, beta, LAYER_NORM_EPS);
        }
        let mean = x.mean_keepdim(D::Minus1)?;
        let centered = x.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centered.broadcast_div(&(var + LAYER_NORM_EPS as f64)?.sqrt()?)?;
        normed.broadcast_mul(gamma)?.broadcast_add(beta)
    }

    /// Logits `[batch, labels]` for padded ids `[batch, len]` (u32) with `real` `[batch, len]`
    /// (f32, 1 for a token, 0 for padding; every row has at least one token).
    pub(crate) fn forward(
        &self,
        ids: &Tensor,
        real: &Tensor,
        mut dropout: Option<&mut Dropout>,
    ) -> candle_core::Result<Tensor> {
        let (batch, len) = ids.dims2()?;
        let d = self.tok_emb.dim(1)?;
        let heads = self.heads;
        let head_dim = d / heads;
        // A batch of equal lengths (every single text, most sorted batches) needs no mask: the
        // masked and unmasked computations are then the same, minus two passes per layer.
        let padded = real.min_all()?.to_scalar::<f32>()? < 1.0;
        let tokens = self.tok_emb.index_select(&ids.flatten_all()?, 0)?.reshape((batch, len, d))?;
        let positions = self.pos_emb.narrow(0, 0, len)?;
        let x = tokens.broadcast_add(&positions)?.reshape((batch * len, d))?;
        let mut x = apply_dropout(x, &mut dropout)?;
        // [batch, 1, 1, len]: 0 for a real key, MASKED_SCORE for padding.
        let key_mask =
            if padded { Some(((real - 1.0)? * (-MASKED_SCORE as f64))?.reshape((batch, 1, 1, len))?) } else { None };
        let scale = 1.0 / (head_dim as f64).sqrt();
        for block in &self.blocks {
            let h = self.layer_norm(&x, &block.ln1)?;
            let qkv = block.qkv.forward(&h)?.reshape((batch, len, 3, heads, head_dim))?.permute((2, 0, 3, 1, 4))?;
            let q = qkv.get(0)?.contiguous()?;
            let k = qkv.get(1)?.contiguous()?;
            let v = qkv.get(2)?.contiguous()?;
            let mut scores = (q.matmul(&k.t()?)? * scale)?;
            if let Some(mask) = &key_mask {
                scores = scores.broadcast_add(mask)?;
            }
            let attention = if self.differentiable {
                candle_nn::ops::softmax(&scores, D::Minus1)?
            } else {
                candle_nn::ops::softmax_last_dim(&scores)?
            };
            let context = attention.matmul(&v)?.transpose(1, 2)?.reshape((batch * len, d))?;
            let attended = apply_dropout(block.out.forward(&context)?, &mut dropout)?;
            x = (x + attended)?;
            let h = self.layer_norm(&x, &block.ln2)?;
            let h = block.up.forward(&h)?;
            let h = match self.activation {
                Activation::Relu => h.relu()?,
                Activation::Gelu => h.gelu()?,
            };
            let h = apply_dropout(block.down.forward(&h)?, &mut dropout)?;
            x = (x + h)?;
        }
        let x = self.layer_norm(&x, &self.ln_f)?.reshape((batch, len, d))?;
        let pooled = if padded {
            let counts = real.sum_keepdim(1)?;
            x.broadcast_mul(&real.unsqueeze(2)?)?.sum(1)?.broadcast_div(&counts)?
        } else {
            x.mean(1)?
        };
        let pooled = apply_dropout(pooled, &mut dropout)?;
        self.head.forward(&pooled)
    }
}

/// Padded ids and the real-token mask of `rows` as tensors `[rows, longest]`.
pub(crate) fn pad_batch(rows: &[&[u32]], pad_id: u32) -> candle_core::Result<(Tensor, Tensor)> {
    let len = rows.iter().map(|r| r.len()).max().unwrap_or(1).max(1);
    let mut ids = Vec::with_capacity(rows.len() * len);
    let mut real = Vec::with_capacity(rows.len() * len);
    for row in rows {
        ids.extend_from_slice(row);
        real.extend(std::iter::repeat_n(1f32, row.len()));
        ids.extend(std::iter::repeat_n(pad_id, len - row.len()));
        real.extend(std::iter::repeat_n(0f32, len - row.len()));
    }
    Ok((
        Tensor::from_vec(ids, (rows.len(), len), &Device::Cpu)?,
        Tensor::from_vec(real, (rows.len(), len), &Device::Cpu)?,
    ))
}

/// Softmax of one row of logits; an error on non-finite logits (a broken model, never input).
fn probabilities(logits: &[f32]) -> Result<LabelProbs, ThreatError> {
    if logits.len() != LABELS.len() || logits.iter().any(|v| !v.is_finite()) {
        return Err(ThreatError::Compute(format!("the encoder produced invalid logits {logits:?}")));
    }
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut out = [0f32; LABELS.len()];
    let mut sum = 0f32;
    for (o, &l) in out.iter_mut().zip(logits) {
        *o = (l - max).exp();
        sum += *o;
    }
    out.iter_mut().for_each(|o| *o /= sum);
    Ok(out)
}

/// The encoder as a detector member: config, network and tokenizer.
#[derive(Debug, Clone)]
pub struct EncoderClassifier {
    config: EncoderConfig,
    network: Network,
    tokenizer: ThreatTokenizer,
    batch_size: usize,
}

impl EncoderClassifier {
    /// Reads `config.json`, `model.safetensors` and `tokenizer.json` from `dir`.
    pub fn from_dir(dir: &Path) -> Result<EncoderClassifier, ThreatError> {
        let read = |name: &str| -> Result<Vec<u8>, ThreatError> {
            let path = dir.join(name);
            let io = |source| ThreatError::Io { path: path.display().to_string(), source };
            let size = std::fs::metadata(&path).map_err(io)?.len();
            if size > MAX_MODEL_FILE_BYTES {
                return Err(ThreatError::Model {
                    path: path.display().to_string(),
                    message: format!("{size} bytes is over the limit of {MAX_MODEL_FILE_BYTES}"),
                });
            }
            std::fs::read(&path).map_err(|source| ThreatError::Io { path: path.display().to_string(), source })
        };
        let (config, weights, tokenizer) = (read(CONFIG_FILE)?, read(WEIGHTS_FILE)?, read(TOKENIZER_FILE)?);
        EncoderClassifier::from_bytes(&config, &weights, &tokenizer).map_err(|e| match e {
            ThreatError::Invalid(message) | ThreatError::Compute(message) => {
                ThreatError::Model { path: dir.display().to_string(), message }
            }
            other => other,
        })
    }

    /// A model from the bytes of its three files (e.g. embedded with `include_bytes!`).
    pub fn from_bytes(config: &[u8], weights: &[u8], tokenizer: &[u8]) -> Result<EncoderClassifier, ThreatError> {
        let config: EncoderConfig = serde_json::from_slice(config)
            .map_err(|e| ThreatError::Invalid(format!("{CONFIG_FILE} is not a valid encoder config: {e}")))?;
        let tokenizer = ThreatTokenizer::from_bytes(tokenizer)?;
        let tensors = candle_core::safetensors::load_buffer(weights, &Device::Cpu)
            .map_err(|e| ThreatError::Invalid(format!("{WEIGHTS_FILE} is not valid safetensors: {e}")))?;
        EncoderClassifier::from_parts(config, tensors, tokenizer)
    }

    /// A model from a config, named weights and a tokenizer, checked against each other.
    pub fn from_parts(
        config: EncoderConfig,
        weights: HashMap<String, Tensor>,
        tokenizer: ThreatTokenizer,
    ) -> Result<EncoderClassifier, ThreatError> {
        config.validate()?;
        if config.vocab_size != tokenizer.vocab_size() {
            return Err(ThreatError::Invalid(format!(
                "config vocab_size {} differs from the tokenizer's {}",
                config.vocab_size,
                tokenizer.vocab_size()
            )));
        }
        let network = Network::from_tensors(&config, &weights, false)?;
        Ok(EncoderClassifier { config, network, tokenizer, batch_size: PREDICT_BATCH })
    }

    /// A freshly initialized (untrained) model, deterministic for `seed`: normal(0, 0.02)
    /// embeddings and weights, output projections scaled down by the depth (GPT-2), zero
    /// biases, unit norms.
    pub fn initialized(
        config: EncoderConfig,
        tokenizer: ThreatTokenizer,
        seed: u64,
    ) -> Result<EncoderClassifier, ThreatError> {
        config.validate()?;
        let mut rng = SplitMix::new(seed);
        let depth_scale = 1.0 / (2.0 * config.layers as f32).sqrt();
        let mut tensors = HashMap::new();
        for (name, shape) in parameter_shapes(&config) {
            let n: usize = shape.iter().product();
            let values: Vec<f32> = if name.ends_with(".bias") {
                vec![0.0; n]
            } else if name.starts_with("ln") || name.contains(".ln") {
                vec![1.0; n]
            } else {
                let std = if name.ends_with("attn.out.weight") || name.ends_with("ffn.down.weight") {
                    0.02 * depth_scale
                } else {
                    0.02
                };
                (0..n).map(|_| rng.normal() * std).collect()
            };
            tensors.insert(name, Tensor::from_vec(values, shape, &Device::Cpu)?);
        }
        EncoderClassifier::from_parts(config, tensors, tokenizer)
    }

    /// Writes the three files into `dir` (created if missing).
    pub fn write_dir(&self, dir: &Path) -> Result<(), ThreatError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| ThreatError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let config = serde_json::to_string_pretty(&self.config)
            .map_err(|e| ThreatError::Compute(format!("serializing the config: {e}")))?;
        std::fs::write(dir.join(CONFIG_FILE), config + "\n").map_err(io(&dir.join(CONFIG_FILE)))?;
        std::fs::write(dir.join(TOKENIZER_FILE), self.tokenizer.to_json()?).map_err(io(&dir.join(TOKENIZER_FILE)))?;
        let tensors: HashMap<String, Tensor> = self.network.named_tensors().into_iter().collect();
        let path = dir.join(WEIGHTS_FILE);
        candle_core::safetensors::save(&tensors, &path)
            .map_err(|e| ThreatError::Model { path: path.display().to_string(), message: e.to_string() })
    }

    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// Sets how many texts go through the network at once (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Replaces the informational `training` section of the config.
    pub fn set_training_info(&mut self, training: BTreeMap<String, serde_json::Value>) {
        self.config.training = training;
    }

    pub fn tokenizer(&self) -> &ThreatTokenizer {
        &self.tokenizer
    }

    /// Every weight by name, in [`parameter_shapes`] order.
    pub fn named_weights(&self) -> Vec<(String, Tensor)> {
        self.network.named_tensors()
    }

    #[cfg(test)]
    pub(crate) fn network(&self) -> &Network {
        &self.network
    }

    /// Probabilities for already tokenized texts (rows of ids starting with `[CLS]`), batched
    /// by length.
    pub(crate) fn predict_ids(&self, rows: &[Vec<u32>]) -> Result<Vec<LabelProbs>, ThreatError> {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&i| rows[i].len());
        let mut out = vec![[0f32; LABELS.len()]; rows.len()];
        for chunk in order.chunks(self.batch_size) {
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| rows[i].as_slice()).collect();
            let (ids, real) = pad_batch(&batch, self.tokenizer.pad_id())?;
            let logits = self.network.forward(&ids, &real, None)?.to_vec2::<f32>()?;
            for (&i, row) in chunk.iter().zip(&logits) {
                out[i] = probabilities(row)?;
            }
        }
        Ok(out)
    }
}

impl Classifier for EncoderClassifier {
    fn id(&self) -> String {
        format!("encoder/{}", self.config.name)
    }

    fn predict_batch(&self, texts: &[&str]) -> Result<Vec<LabelProbs>, ThreatError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.tokenizer.encode_batch(texts, self.config.max_len)?;
        self.predict_ids(&rows)
    }
}

#[cfg(test)]
mod tests {
    use super::tokenizer::train_tokenizer;
    use super::*;
    use candle_core::Var;
    use candle_nn::Optimizer;

    fn tiny() -> EncoderClassifier {
        let texts = ["select * from users where id=1", "<script>alert(1)</script>", "hello world", "../etc/passwd"];
        let corpus: Vec<&str> = texts.iter().cycle().take(40).copied().collect();
        let tokenizer = train_tokenizer(&corpus, 300).unwrap();
        let mut config = EncoderConfig::new("tiny-v0", tokenizer.vocab_size(), 16, 2, 2, 24);
        config.ffn_dim = 32;
        EncoderClassifier::initialized(config, tokenizer, 3).unwrap()
    }

    #[test]
    fn every_parameter_changes_after_one_optimizer_step() {
        let model = tiny();
        let vars: Vec<(String, Var)> =
            model.named_weights().into_iter().map(|(n, t)| (n, Var::from_tensor(&t).unwrap())).collect();
        let tensors: HashMap<String, Tensor> = vars.iter().map(|(n, v)| (n.clone(), v.as_tensor().clone())).collect();
        let network = Network::from_tensors(model.config(), &tensors, true).unwrap();
        let before: Vec<Vec<f32>> = vars.iter().map(|(_, v)| v.flatten_all().unwrap().to_vec1().unwrap()).collect();
        let rows = model.tokenizer().encode_batch(&["select 1", "<script>", "hello there world", ""], 24).unwrap();
        let batch: Vec<&[u32]> = rows.iter().map(|r| r.as_slice()).collect();
        let (ids, real) = pad_batch(&batch, 0).unwrap();
        let mut dropout = Dropout { p: 0.1, rng: SplitMix::new(1) };
        let logits = network.forward(&ids, &real, Some(&mut dropout)).unwrap();
        let targets = Tensor::new(&[1u32, 2, 0, 4], &Device::Cpu).unwrap();
        let loss = candle_nn::loss::cross_entropy(&logits, &targets).unwrap();
        // No weight decay: a weight changes only if its gradient reached it.
        let params = candle_nn::ParamsAdamW { lr: 1e-3, weight_decay: 0.0, ..Default::default() };
        let mut opt = candle_nn::AdamW::new(vars.iter().map(|(_, v)| v.clone()).collect(), params).unwrap();
        opt.backward_step(&loss).unwrap();
        for ((name, var), before) in vars.iter().zip(&before) {
            let after: Vec<f32> = var.flatten_all().unwrap().to_vec1().unwrap();
            assert!(after.iter().zip(before).any(|(a, b)| a != b), "{name} did not change");
        }
    }

    #[test]
    fn the_fused_norm_of_prediction_matches_the_differentiable_one() {
        let model = tiny();
        let tensors: HashMap<String, Tensor> = model.named_weights().into_iter().collect();
        let slow = Network::from_tensors(model.config(), &tensors, true).unwrap();
        let rows = model.tokenizer().encode_batch(&["select 1 from dual", "a", ""], 24).unwrap();
        let batch: Vec<&[u32]> = rows.iter().map(|r| r.as_slice()).collect();
        let (ids, real) = pad_batch(&batch, 0).unwrap();
        let fast: Vec<Vec<f32>> = model.network().forward(&ids, &real, None).unwrap().to_vec2().unwrap();
        let slow: Vec<Vec<f32>> = slow.forward(&ids, &real, None).unwrap().to_vec2().unwrap();
        for (f, s) in fast.iter().flatten().zip(slow.iter().flatten()) {
            assert!((f - s).abs() < 1e-4, "{f} vs {s}");
        }
    }

    #[test]
    fn padding_does_not_change_a_prediction() {
        let model = tiny();
        let alone = model.predict_batch(&["select"]).unwrap();
        let padded = model.predict_batch(&["select", "a much longer text that forces padding of the first"]).unwrap();
        for (a, b) in alone[0].iter().zip(&padded[0]) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn any_input_gives_probabilities() {
        let model = tiny();
        let huge = "<script>".repeat(200_000);
        let texts = ["", " ", "\u{0}", "日本語 🦀", huge.as_str(), "\u{feff}\u{202e}x"];
        let probs = model.predict_batch(&texts).unwrap();
        assert_eq!(probs.len(), texts.len());
        for p in probs {
            let sum: f32 = p.iter().sum();
            assert!((sum - 1.0).abs() < 1e-4 && p.iter().all(|v| v.is_finite() && *v >= 0.0));
        }
        assert!(model.predict_batch(&[]).unwrap().is_empty());
        assert_eq!(model.id(), "encoder/tiny-v0");
    }

    #[test]
    fn configs_and_weights_are_checked() {
        let model = tiny();
        let mut c = model.config().clone();
        c.heads = 3;
        assert!(c.validate().unwrap_err().to_string().contains("multiple of heads"));
        let mut c = model.config().clone();
        c.labels.swap(0, 1);
        assert!(c.validate().is_err());
        let mut c = model.config().clone();
        c.format = "other".into();
        assert!(c.validate().is_err());
        let mut tensors: HashMap<String, Tensor> = model.named_weights().into_iter().collect();
        tensors.remove("head.bias");
        let err = EncoderClassifier::from_parts(model.config().clone(), tensors, model.tokenizer().clone());
        assert!(err.unwrap_err().to_string().contains("head.bias is missing"));
        let mut tensors: HashMap<String, Tensor> = model.named_weights().into_iter().collect();
        tensors.insert("head.bias".into(), Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap());
        assert!(EncoderClassifier::from_parts(model.config().clone(), tensors, model.tokenizer().clone()).is_err());
        let config = serde_json::to_vec(model.config()).unwrap();
        let tok = model.tokenizer().to_json().unwrap();
        assert!(EncoderClassifier::from_bytes(&config, b"garbage", tok.as_bytes()).is_err());
        assert!(EncoderClassifier::from_bytes(b"{}", b"", tok.as_bytes()).is_err());
    }
}
