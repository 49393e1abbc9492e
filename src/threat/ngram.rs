//! The fast member of the detector: a multinomial logistic regression over hashed byte n-grams of
//! the normalized text plus its word unigrams and bigrams.
//!
//! Why this shape: the tells of web payloads are punctuation sequences (`' or `, `"><`, `../`,
//! `;--`) that word tokenizers throw away, and those of log lines and command lines are words
//! (`failed password`, `/bin/sh`, `nc -e`). Byte n-grams (1 to 5, across word boundaries, the text
//! padded with a space so word starts and ends are n-grams too) see both; word unigrams and bigrams
//! add whole-word evidence that short n-grams dilute. Digits are folded to `0` so that addresses,
//! ports, timestamps and ids generalize. Features are hashed (FNV-1a, one namespace byte per kind)
//! into 2^`bucket_bits` buckets and counted once each, scaled by 1/sqrt(distinct features) so short
//! and long texts score on one scale. It scores a 100-byte line in a few microseconds, and every
//! score decomposes into per-feature contributions, which [`NgramClassifier::contributions`]
//! returns as spans of the text for the detector's explanations.
//!
//! Trained in Rust ([`NgramClassifier::train`]) by AdaGrad on the class-weighted cross-entropy with
//! L2 regularization, seeded and deterministic. Stored as one binary file (`threat-ngram.bin`):
//! `b"CFTNGR01"`, u32 little-endian length of a JSON header (format, version, feature settings,
//! label names, per-label weight scale and bias, how it was trained), the header, then
//! `buckets × 11` weights quantized to `i8` (bucket-major, one scale per label). At 2^18 buckets
//! that is 2.9 MB. Scoring accumulates the `i8` weights in integers and scales once per label.

use super::normalize::normalize;
use super::{Classifier, LabelProbs, ThreatError, ThreatExample, ThreatType, LABELS};
use crate::attack::mapper::features::{fnv, FNV_OFFSET};
use crate::attack::mapper::model::softmax_in_place;
use crate::attack::sigma::SplitMix;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::Path;

/// Identifier reported in verdicts.
pub const NGRAM_ID: &str = "ngram/threat-ngram-v1";
/// The magic bytes at the start of a model file.
pub const MAGIC: &[u8; 8] = b"CFTNGR01";
/// The header's `format` value.
pub const FORMAT: &str = "cacao-forge-threat-ngram";
/// The header version this build reads and writes.
pub const VERSION: u32 = 1;
/// Longest JSON header accepted when loading.
const MAX_HEADER_BYTES: usize = 1 << 20;
/// Most contributions [`NgramClassifier::contributions`] returns.
pub const MAX_CONTRIBUTIONS: usize = 64;

const N_LABELS: usize = LABELS.len();

/// How a text is cut and hashed. Stored in the model: a model only works with the settings it
/// was trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NgramFeatures {
    /// log2 of the number of hash buckets (8..=24).
    pub bucket_bits: u32,
    /// Shortest and longest byte n-gram (1..=8).
    pub ngram_min: usize,
    pub ngram_max: usize,
    /// Whether word unigrams and bigrams are added.
    pub words: bool,
    /// Whether ASCII digits are read as `0`.
    pub fold_digits: bool,
    /// Longest prefix of the text looked at, in bytes (the tells of a line are rarely past it,
    /// and it bounds the cost of a huge one).
    pub max_bytes: usize,
}

impl Default for NgramFeatures {
    fn default() -> Self {
        NgramFeatures { bucket_bits: 18, ngram_min: 1, ngram_max: 5, words: true, fold_digits: true, max_bytes: 2048 }
    }
}

/// Feature kinds, hashed in first so an n-gram and a same-looking word never collide by
/// construction.
mod kind {
    pub const NGRAM: u8 = 11;
    pub const WORD: u8 = 12;
    pub const PAIR: u8 = 13;
    pub const BIAS: u8 = 14;
}

impl NgramFeatures {
    fn validate(&self) -> Result<(), String> {
        if !(8..=24).contains(&self.bucket_bits) {
            return Err(format!("bucket_bits {} is outside 8..=24", self.bucket_bits));
        }
        if self.ngram_min == 0 || self.ngram_min > self.ngram_max || self.ngram_max > 8 {
            return Err(format!("n-gram range {}..={} must be within 1..=8", self.ngram_min, self.ngram_max));
        }
        if self.max_bytes == 0 {
            return Err("max_bytes must be positive".into());
        }
        Ok(())
    }

    pub fn buckets(&self) -> usize {
        1 << self.bucket_bits
    }

    #[inline]
    fn bucket(&self, h: u64) -> u32 {
        // Fold the high bits in: FNV's low bits are weak for short inputs.
        let h = h ^ (h >> 29) ^ (h >> 47);
        (h & ((1u64 << self.bucket_bits) - 1)) as u32
    }

    /// Calls `emit(bucket, byte span of text)` for every feature of `text` (the span of the bias
    /// feature is empty). The same bucket may come more than once.
    fn extract(&self, text: &str, scratch: &mut Vec<u8>, mut emit: impl FnMut(u32, Range<usize>)) {
        let mut end = text.len().min(self.max_bytes);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = &text.as_bytes()[..end];
        // The padded, digit-folded text: " " + text + " ".
        scratch.clear();
        scratch.reserve(text.len() + 2);
        scratch.push(b' ');
        if self.fold_digits {
            scratch.extend(text.iter().map(|&b| if b.is_ascii_digit() { b'0' } else { b }));
        } else {
            scratch.extend_from_slice(text);
        }
        scratch.push(b' ');
        let padded = &scratch[..];

        emit(self.bucket(fnv(FNV_OFFSET, &[kind::BIAS])), 0..0);
        let seed = fnv(FNV_OFFSET, &[kind::NGRAM]);
        for start in 0..padded.len() {
            let mut h = seed;
            for n in 1..=self.ngram_max.min(padded.len() - start) {
                h = fnv(h, &padded[start + n - 1..start + n]);
                if n >= self.ngram_min && !(n == 1 && padded[start] == b' ') {
                    // Padded position p is text position p - 1.
                    let s = start.saturating_sub(1).min(text.len());
                    let e = (start + n - 1).min(text.len()).max(s);
                    emit(self.bucket(h), s..e);
                }
            }
        }
        if self.words {
            let body = &padded[1..padded.len() - 1];
            let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
            let mut prev: Option<Range<usize>> = None;
            let mut i = 0;
            while i < body.len() {
                if !is_word(body[i]) {
                    i += 1;
                    continue;
                }
                let s = i;
                while i < body.len() && is_word(body[i]) {
                    i += 1;
                }
                let word = &body[s..i];
                emit(self.bucket(fnv(fnv(FNV_OFFSET, &[kind::WORD]), word)), s..i);
                if let Some(p) = prev {
                    let h = fnv(fnv(fnv(FNV_OFFSET, &[kind::PAIR]), &body[p.clone()]), b" ");
                    emit(self.bucket(fnv(h, word)), p.start..i);
                }
                prev = Some(s..i);
            }
        }
    }

    /// Sorted distinct buckets of `text` into `buckets`; returns the value each carries.
    fn distinct_buckets(&self, text: &str, scratch: &mut Vec<u8>, buckets: &mut Vec<u32>) -> f32 {
        buckets.clear();
        self.extract(text, scratch, |b, _| buckets.push(b));
        buckets.sort_unstable();
        buckets.dedup();
        1.0 / (buckets.len().max(1) as f32).sqrt()
    }
}

/// The model file's JSON header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format: String,
    version: u32,
    features: NgramFeatures,
    /// Label names in weight-column order; must be [`LABELS`].
    labels: Vec<String>,
    /// A stored weight `q` of label `c` means `q as f32 * scales[c]`.
    scales: Vec<f32>,
    /// Per-label bias (intercept).
    bias: Vec<f32>,
    /// How the model was trained (informational).
    #[serde(default)]
    training: serde_json::Value,
}

/// The n-gram member. Reads normalized text ([`Classifier::wants_normalized`] is true).
#[derive(Debug, Clone)]
pub struct NgramClassifier {
    header: Header,
    /// `buckets × N_LABELS`, bucket-major.
    weights: Vec<i8>,
}

/// Training settings.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramTrainOptions {
    pub features: NgramFeatures,
    pub epochs: usize,
    /// AdaGrad base step.
    pub learning_rate: f32,
    /// L2 penalty on the weights a step touches.
    pub l2: f32,
    pub seed: u64,
    /// Class weight = (largest class count / class count) ^ power, capped at
    /// `max_class_weight`; 0 trains unweighted.
    pub class_weight_power: f32,
    pub max_class_weight: f32,
}

impl Default for NgramTrainOptions {
    fn default() -> Self {
        NgramTrainOptions {
            features: NgramFeatures::default(),
            epochs: 8,
            learning_rate: 0.3,
            l2: 1e-6,
            seed: 7,
            class_weight_power: 0.5,
            max_class_weight: 10.0,
        }
    }
}

/// Figures of a labelled set: threat-vs-benign and type.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct NgramFigures {
    pub examples: usize,
    /// Threat = probability of benign below one half.
    pub binary_precision: f32,
    pub binary_recall: f32,
    pub binary_f1: f32,
    /// Share of all examples whose most probable label is theirs.
    pub type_accuracy: f32,
    /// The same over the threat examples only.
    pub threat_type_accuracy: f32,
    /// Mean cross-entropy.
    pub loss: f32,
}

impl NgramFigures {
    /// Figures of predictions `probs` against `labels`.
    pub fn of(probs: &[LabelProbs], labels: &[ThreatType]) -> NgramFigures {
        let (mut tp, mut fp, mut fn_, mut correct, mut threat_correct, mut threats) = (0, 0, 0, 0, 0, 0);
        let mut loss = 0.0f64;
        for (p, &label) in probs.iter().zip(labels) {
            let says_threat = p[0] < 0.5;
            match (says_threat, label.is_threat()) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
            let best = argmax(p);
            if best == label.index() {
                correct += 1;
                if label.is_threat() {
                    threat_correct += 1;
                }
            }
            if label.is_threat() {
                threats += 1;
            }
            loss -= f64::from(p[label.index()].max(1e-7)).ln();
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f32 / b as f32 };
        let precision = ratio(tp, tp + fp);
        let recall = ratio(tp, tp + fn_);
        let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
        NgramFigures {
            examples: probs.len(),
            binary_precision: precision,
            binary_recall: recall,
            binary_f1: f1,
            type_accuracy: ratio(correct, probs.len()),
            threat_type_accuracy: ratio(threat_correct, threats),
            loss: (loss / probs.len().max(1) as f64) as f32,
        }
    }
}

/// One epoch of training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NgramEpoch {
    pub epoch: usize,
    /// Mean weighted training loss over the epoch.
    pub train_loss: f32,
    /// Figures on the development set with the unquantized weights after the epoch.
    pub dev: NgramFigures,
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NgramTrainReport {
    pub train_examples: usize,
    /// Training examples per label, in [`LABELS`] order.
    pub train_per_label: Vec<usize>,
    pub class_weights: Vec<f32>,
    pub epochs: Vec<NgramEpoch>,
    /// Development figures of the stored (quantized) model.
    pub dev: NgramFigures,
}

fn argmax(p: &[f32]) -> usize {
    p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i)
}

fn bad_model(origin: &str, message: impl Into<String>) -> ThreatError {
    ThreatError::Model { path: origin.to_string(), message: message.into() }
}

impl NgramClassifier {
    /// Reads a model from the bytes of a model file; `origin` names it in errors.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<NgramClassifier, ThreatError> {
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(bad_model(origin, "not a threat n-gram model (does not start with CFTNGR01)"));
        }
        let header_len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        if header_len > MAX_HEADER_BYTES || 12 + header_len > bytes.len() {
            return Err(bad_model(origin, format!("header length {header_len} does not fit the file")));
        }
        let header: Header = serde_json::from_slice(&bytes[12..12 + header_len])
            .map_err(|e| bad_model(origin, format!("header is not valid: {e}")))?;
        if header.format != FORMAT {
            return Err(bad_model(origin, format!("format is {:?}, expected {FORMAT:?}", header.format)));
        }
        if header.version != VERSION {
            return Err(bad_model(
                origin,
                format!("version {} is not supported (this build reads {VERSION})", header.version),
            ));
        }
        header.features.validate().map_err(|m| bad_model(origin, m))?;
        let names: Vec<&str> = LABELS.iter().map(|l| l.as_str()).collect();
        if header.labels != names {
            return Err(bad_model(origin, format!("labels {:?} are not {:?}", header.labels, names)));
        }
        if header.scales.len() != N_LABELS || header.scales.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
            return Err(bad_model(origin, "scales must be one finite non-negative number per label"));
        }
        if header.bias.len() != N_LABELS || header.bias.iter().any(|b| !b.is_finite()) {
            return Err(bad_model(origin, "bias must be one finite number per label"));
        }
        let body = &bytes[12 + header_len..];
        let expected = header.features.buckets() * N_LABELS;
        if body.len() != expected {
            return Err(bad_model(
                origin,
                format!("{} weight bytes, expected {expected} for {} buckets", body.len(), header.features.buckets()),
            ));
        }
        let weights = body.iter().map(|&b| b as i8).collect();
        Ok(NgramClassifier { header, weights })
    }

    /// Reads a model file.
    pub fn from_file(path: &Path) -> Result<NgramClassifier, ThreatError> {
        let bytes =
            std::fs::read(path).map_err(|source| ThreatError::Io { path: path.display().to_string(), source })?;
        NgramClassifier::from_bytes(&bytes, &path.display().to_string())
    }

    /// The model file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).unwrap_or_default();
        let mut out = Vec::with_capacity(12 + header.len() + self.weights.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend(self.weights.iter().map(|&w| w as u8));
        out
    }

    /// Writes the model file.
    pub fn write(&self, path: &Path) -> Result<(), ThreatError> {
        std::fs::write(path, self.to_bytes())
            .map_err(|source| ThreatError::Io { path: path.display().to_string(), source })
    }

    pub fn features(&self) -> &NgramFeatures {
        &self.header.features
    }

    /// How the model was trained, as recorded in its header.
    pub fn training(&self) -> &serde_json::Value {
        &self.header.training
    }

    /// Probabilities per label for one normalized text, with caller-owned scratch buffers.
    fn probabilities_with(&self, text: &str, scratch: &mut Vec<u8>, buckets: &mut Vec<u32>) -> LabelProbs {
        let value = self.header.features.distinct_buckets(text, scratch, buckets);
        let mut sums = [0i32; N_LABELS];
        for &b in buckets.iter() {
            let row = &self.weights[b as usize * N_LABELS..(b as usize + 1) * N_LABELS];
            for (s, &w) in sums.iter_mut().zip(row) {
                *s += i32::from(w);
            }
        }
        let mut probs = [0f32; N_LABELS];
        for (c, p) in probs.iter_mut().enumerate() {
            *p = sums[c] as f32 * self.header.scales[c] * value + self.header.bias[c];
        }
        softmax_in_place(&mut probs);
        probs
    }

    /// Probabilities per label for one normalized text.
    pub fn probabilities(&self, text: &str) -> LabelProbs {
        self.probabilities_with(text, &mut Vec::new(), &mut Vec::new())
    }

    /// Which parts of (normalized) `text` pushed it towards `label`: byte spans of `text` (on char
    /// boundaries) with their contribution to the label's logit relative to the mean over labels
    /// (softmax ignores what all labels share), positive ones only, largest first, at most
    /// [`MAX_CONTRIBUTIONS`]. A feature seen several times counts once, at its first span; spans
    /// of n-grams overlap.
    pub fn contributions(&self, text: &str, label: ThreatType) -> Vec<(Range<usize>, f32)> {
        let features = &self.header.features;
        let mut items: Vec<(u32, Range<usize>)> = Vec::new();
        let mut scratch = Vec::new();
        features.extract(text, &mut scratch, |b, span| items.push((b, span)));
        let mut distinct: Vec<u32> = items.iter().map(|(b, _)| *b).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let value = 1.0 / (distinct.len().max(1) as f32).sqrt();
        let c = label.index();
        let mut seen = std::collections::HashSet::with_capacity(items.len());
        let mut out: Vec<(Range<usize>, f32)> = Vec::new();
        for (b, span) in items {
            if span.is_empty() || !seen.insert(b) {
                continue;
            }
            let row = &self.weights[b as usize * N_LABELS..(b as usize + 1) * N_LABELS];
            let w = |k: usize| f32::from(row[k]) * self.header.scales[k];
            let mean = (0..N_LABELS).map(w).sum::<f32>() / N_LABELS as f32;
            let contribution = (w(c) - mean) * value;
            if contribution > 0.0 {
                out.push((char_span(text, span), contribution));
            }
        }
        // The same span from two features (a word and its n-gram) is one piece of evidence.
        out.sort_by_key(|a| (a.0.start, a.0.end));
        out.dedup_by(|later, first| {
            if later.0 == first.0 {
                first.1 += later.1;
                true
            } else {
                false
            }
        });
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.start.cmp(&b.0.start)));
        out.truncate(MAX_CONTRIBUTIONS);
        out
    }

    /// Trains a model on `train` (raw texts; normalized here as the detector will) and measures
    /// it on `dev` after every epoch. Deterministic for given data and options.
    pub fn train(
        train: &[ThreatExample],
        dev: &[ThreatExample],
        opts: &NgramTrainOptions,
    ) -> Result<(NgramClassifier, NgramTrainReport), ThreatError> {
        opts.features.validate().map_err(ThreatError::Invalid)?;
        if train.is_empty() {
            return Err(ThreatError::Invalid("no training examples: nothing to learn".into()));
        }
        let rate_ok = opts.learning_rate.is_finite() && opts.learning_rate > 0.0;
        if opts.epochs == 0 || !rate_ok || opts.l2.is_nan() || opts.l2 < 0.0 {
            return Err(ThreatError::Invalid("epochs and learning_rate must be positive, l2 not negative".into()));
        }
        let features = opts.features;
        let (mut scratch, mut buckets) = (Vec::new(), Vec::new());
        let mut featurize = |e: &ThreatExample| {
            let text = normalize(&e.text).text;
            let value = features.distinct_buckets(&text, &mut scratch, &mut buckets);
            (buckets.clone(), value, e.threat_type.index())
        };
        let data: Vec<(Vec<u32>, f32, usize)> = train.iter().map(&mut featurize).collect();
        let dev_data: Vec<(Vec<u32>, f32, usize)> = dev.iter().map(&mut featurize).collect();
        let dev_labels: Vec<ThreatType> = dev.iter().map(|e| e.threat_type).collect();

        let mut per_label = vec![0usize; N_LABELS];
        for (_, _, y) in &data {
            per_label[*y] += 1;
        }
        let largest = per_label.iter().copied().max().unwrap_or(1) as f32;
        let mut class_weights: Vec<f32> = per_label
            .iter()
            .map(|&n| {
                if n == 0 {
                    0.0
                } else {
                    (largest / n as f32).powf(opts.class_weight_power).min(opts.max_class_weight.max(1.0))
                }
            })
            .collect();
        // Scale so the mean example weight is 1 (the learning rate keeps its meaning).
        let mean_weight = data.iter().map(|(_, _, y)| class_weights[*y]).sum::<f32>() / data.len() as f32;
        for w in &mut class_weights {
            *w /= mean_weight.max(f32::MIN_POSITIVE);
        }

        let n_weights = features.buckets() * N_LABELS;
        let mut w = vec![0f32; n_weights];
        let mut g2 = vec![0f32; n_weights];
        let mut bias = [0f32; N_LABELS];
        let mut bias_g2 = [0f32; N_LABELS];
        let mut rng = SplitMix::new(opts.seed);
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut epochs = Vec::with_capacity(opts.epochs);
        const EPS: f32 = 1e-6;
        for epoch in 1..=opts.epochs {
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            let mut loss = 0.0f64;
            for &i in &order {
                let (buckets, value, y) = &data[i];
                let mut p = dense_logits(&w, &bias, buckets, *value);
                softmax_in_place(&mut p);
                let weight = class_weights[*y];
                loss -= f64::from(weight * p[*y].max(1e-7).ln());
                let mut grad = p;
                grad[*y] -= 1.0;
                for g in &mut grad {
                    *g *= weight;
                }
                for ((bc, g2c), gc) in bias.iter_mut().zip(&mut bias_g2).zip(&grad) {
                    *g2c += gc * gc;
                    *bc -= opts.learning_rate * gc / (g2c.sqrt() + EPS);
                }
                for &b in buckets {
                    let rows = b as usize * N_LABELS..(b as usize + 1) * N_LABELS;
                    for ((wk, g2k), gc) in w[rows.clone()].iter_mut().zip(&mut g2[rows]).zip(&grad) {
                        let g = gc * value + opts.l2 * *wk;
                        if g == 0.0 {
                            continue;
                        }
                        *g2k += g * g;
                        *wk -= opts.learning_rate * g / (g2k.sqrt() + EPS);
                    }
                }
            }
            let probs: Vec<LabelProbs> = dev_data
                .iter()
                .map(|(buckets, value, _)| {
                    let mut p = dense_logits(&w, &bias, buckets, *value);
                    softmax_in_place(&mut p);
                    p
                })
                .collect();
            let figures = NgramFigures::of(&probs, &dev_labels);
            tracing::info!(
                epoch,
                train_loss = loss / data.len() as f64,
                dev_f1 = figures.binary_f1,
                dev_type_accuracy = figures.type_accuracy,
                "threat n-gram training epoch"
            );
            epochs.push(NgramEpoch { epoch, train_loss: (loss / data.len() as f64) as f32, dev: figures });
        }

        let mut model = NgramClassifier::quantize(features, &w, bias);
        let probs: Vec<LabelProbs> = dev
            .iter()
            .map(|e| model.probabilities_with(&normalize(&e.text).text, &mut scratch, &mut buckets))
            .collect();
        let report = NgramTrainReport {
            train_examples: data.len(),
            train_per_label: per_label,
            class_weights,
            epochs,
            dev: NgramFigures::of(&probs, &dev_labels),
        };
        model.header.training = serde_json::json!({
            "train_examples": report.train_examples,
            "train_per_label": report.train_per_label,
            "dev_examples": dev.len(),
            "epochs": opts.epochs,
            "learning_rate": opts.learning_rate,
            "l2": opts.l2,
            "seed": opts.seed,
            "class_weight_power": opts.class_weight_power,
            "max_class_weight": opts.max_class_weight,
            "dev": report.dev,
        });
        Ok((model, report))
    }

    /// A model from dense `f32` weights (bucket-major), quantized to `i8` with one scale per label.
    fn quantize(features: NgramFeatures, w: &[f32], bias: [f32; N_LABELS]) -> NgramClassifier {
        let mut max = [0f32; N_LABELS];
        for row in w.chunks(N_LABELS) {
            for (m, v) in max.iter_mut().zip(row) {
                *m = m.max(v.abs());
            }
        }
        let scales: Vec<f32> = max.iter().map(|m| m / 127.0).collect();
        let weights = w
            .chunks(N_LABELS)
            .flat_map(|row| {
                row.iter()
                    .zip(&scales)
                    .map(|(v, s)| if *s > 0.0 { (v / s).round().clamp(-127.0, 127.0) as i8 } else { 0 })
                    .collect::<Vec<_>>()
            })
            .collect();
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            features,
            labels: LABELS.iter().map(|l| l.as_str().to_string()).collect(),
            scales,
            bias: bias.to_vec(),
            training: serde_json::Value::Null,
        };
        NgramClassifier { header, weights }
    }
}

fn dense_logits(w: &[f32], bias: &[f32; N_LABELS], buckets: &[u32], value: f32) -> [f32; N_LABELS] {
    let mut logits = [0f32; N_LABELS];
    for &b in buckets {
        let row = &w[b as usize * N_LABELS..(b as usize + 1) * N_LABELS];
        for (l, v) in logits.iter_mut().zip(row) {
            *l += v;
        }
    }
    for (l, b) in logits.iter_mut().zip(bias) {
        *l = *l * value + b;
    }
    logits
}

/// `span` widened to char boundaries of `text`.
fn char_span(text: &str, span: Range<usize>) -> Range<usize> {
    let mut start = span.start.min(text.len());
    let mut end = span.end.clamp(start, text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

impl Classifier for NgramClassifier {
    fn id(&self) -> String {
        NGRAM_ID.to_string()
    }

    fn predict_batch(&self, texts: &[&str]) -> Result<Vec<LabelProbs>, ThreatError> {
        let (mut scratch, mut buckets) = (Vec::new(), Vec::new());
        Ok(texts.iter().map(|t| self.probabilities_with(t, &mut scratch, &mut buckets)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, t: ThreatType) -> ThreatExample {
        ThreatExample { text: text.into(), threat_type: t, source: String::new() }
    }

    fn toy() -> Vec<ThreatExample> {
        use ThreatType::*;
        let mut v = Vec::new();
        for i in 0..12 {
            v.push(ex(&format!("user{i} logged in from 10.0.0.{i}"), Benign));
            v.push(ex(&format!("GET /index.html?page={i} HTTP/1.1"), Benign));
            v.push(ex(&format!("{i}' or '1'='1' --"), SqlInjection));
            v.push(ex(&format!("x{i}' union select password from users--"), SqlInjection));
            v.push(ex(&format!("<script>alert({i})</script>"), Xss));
            v.push(ex(&format!("../../../../etc/passwd{i}"), PathTraversal));
            v.push(ex(&format!("Failed password for root from 10.1.1.{i} port 22 ssh2"), BruteForce));
        }
        v
    }

    fn small_options() -> NgramTrainOptions {
        NgramTrainOptions {
            features: NgramFeatures { bucket_bits: 12, ..NgramFeatures::default() },
            epochs: 6,
            ..NgramTrainOptions::default()
        }
    }

    #[test]
    fn features_cover_ngrams_words_and_pairs_with_spans() {
        let f = NgramFeatures { bucket_bits: 16, ngram_min: 1, ngram_max: 3, ..NgramFeatures::default() };
        let mut spans = Vec::new();
        f.extract("ab cd", &mut Vec::new(), |_, s| spans.push(s));
        // bias + n-grams of " ab cd " (7 bytes): 1-grams other than spaces (4), 2-grams (6),
        // 3-grams (5) + 2 words + 1 pair.
        assert_eq!(spans.len(), 1 + 4 + 6 + 5 + 3);
        assert!(spans.contains(&(0..2)) && spans.contains(&(3..5)) && spans.contains(&(0..5)));
        for s in &spans {
            assert!(s.start <= s.end && s.end <= 5, "{s:?}");
        }
        // Digits fold: addresses differ only in digits share every feature.
        let set = |t: &str| {
            let mut b = Vec::new();
            f.distinct_buckets(t, &mut Vec::new(), &mut b);
            b
        };
        assert_eq!(set("from 10.0.0.1 port 40476"), set("from 20.5.7.9 port 51592"));
        assert_eq!(set("port 40476"), set("port 51592"));
        assert_ne!(set("port 40476"), set("port 4047"));
    }

    #[test]
    fn learns_a_toy_corpus_and_explains_itself() {
        let data = toy();
        let (model, report) = NgramClassifier::train(&data, &data, &small_options()).unwrap();
        assert_eq!(report.epochs.len(), 6);
        assert!(report.dev.type_accuracy > 0.95, "{report:?}");
        assert!(report.epochs[5].train_loss < report.epochs[0].train_loss);
        let p = model.predict_batch(&[&normalize("5' OR '1'='1' --").text, "<script>alert(99)</script>"]).unwrap();
        assert_eq!(argmax(&p[0]), ThreatType::SqlInjection.index(), "{:?}", p[0]);
        assert_eq!(argmax(&p[1]), ThreatType::Xss.index());
        for probs in &p {
            assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
        let text = "hello <script>alert(1)</script>";
        let why = model.contributions(text, ThreatType::Xss);
        assert!(!why.is_empty());
        let top = &text[why[0].0.clone()];
        assert!(top.contains("script") || top.contains('<') || top.contains("alert"), "{top:?} {why:?}");
        assert!(why.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(why.len() <= MAX_CONTRIBUTIONS);
    }

    #[test]
    fn training_is_deterministic_and_round_trips_through_bytes() {
        let data = toy();
        let (a, _) = NgramClassifier::train(&data, &[], &small_options()).unwrap();
        let (b, _) = NgramClassifier::train(&data, &[], &small_options()).unwrap();
        assert_eq!(a.to_bytes(), b.to_bytes());
        let back = NgramClassifier::from_bytes(&a.to_bytes(), "mem").unwrap();
        let text = "admin' or 1=1--";
        assert_eq!(back.probabilities(text), a.probabilities(text));
        assert_eq!(back.training()["epochs"], 6);
    }

    #[test]
    fn damaged_model_bytes_are_errors_naming_the_origin() {
        let (m, _) = NgramClassifier::train(&toy(), &[], &small_options()).unwrap();
        let bytes = m.to_bytes();
        for cut in [0, 7, 11, 20, bytes.len() - 1] {
            let err = NgramClassifier::from_bytes(&bytes[..cut], "m.bin").unwrap_err().to_string();
            assert!(err.starts_with("m.bin:"), "{err}");
        }
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(NgramClassifier::from_bytes(&bad, "m.bin").unwrap_err().to_string().contains("CFTNGR01"));
        let at = bytes.windows(11).position(|w| w == b"\"version\":1").expect("the header names its version");
        let mut bumped = bytes.clone();
        bumped[at + 10] = b'9';
        let err = NgramClassifier::from_bytes(&bumped, "m.bin").unwrap_err().to_string();
        assert!(err.contains("version 9"), "{err}");
        assert!(NgramClassifier::from_file(Path::new("/nonexistent/m.bin"))
            .unwrap_err()
            .to_string()
            .contains("/nonexistent/m.bin"));
    }

    #[test]
    fn odd_inputs_score_without_panicking() {
        let (m, _) = NgramClassifier::train(&toy(), &[], &small_options()).unwrap();
        let huge = "é".repeat(100_000);
        for t in ["", " ", "\u{0}", huge.as_str(), "😀😀😀"] {
            let p = m.probabilities(t);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            let _ = m.contributions(t, ThreatType::Xss);
        }
        assert!(NgramClassifier::train(&[], &[], &small_options()).is_err());
    }
}
