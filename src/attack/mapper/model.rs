//! The learned part of technique mapping: a multinomial logistic regression over hashed features
//! ([`super::features`]), one class per parent technique, trained by `cacao-forge train mapper`.
//!
//! The model ships as two files in models/: `mapper.json` (the manifest: format version, feature
//! configuration, class ids, weight scale and how it was trained) and `mapper.bin` (the weights).
//! Weights are stored sparse (most hash buckets matter to few classes) and quantized to `i8` with
//! one scale, a compressed-row table: for each bucket, the run of (class, weight) entries it holds.
//! A linear model was chosen over a neural encoder because command-line tells are lexical (program
//! names, flags, paths), it scores a line in tens of microseconds, and every score decomposes into
//! per-token contributions, which is the evidence a responder asks for.
//!
//! `mapper.bin` layout (all integers little-endian):
//! `b"CFMAPW01"`, u32 bucket count B, u32 entry count E, (B + 1) × u32 row offsets into the
//! entries, E × u16 class index, E × i8 quantized weight.

use super::features::{FeatureConfig, Features};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The magic bytes at the start of `mapper.bin`.
pub const MAGIC: &[u8; 8] = b"CFMAPW01";
/// The manifest's `format` value.
pub const FORMAT: &str = "cacao-forge-mapper";
/// The manifest version this build reads and writes.
pub const VERSION: u32 = 1;

/// What is wrong with a model file. Names the file and the place.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{what}: manifest is not valid: {reason}")]
    Manifest { what: String, reason: String },
    #[error("{what}: weights are not valid: {reason}")]
    Weights { what: String, reason: String },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: std::path::PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: std::path::PathBuf, source: std::io::Error },
}

/// `mapper.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub features: FeatureConfig,
    /// Parent technique ids, in class-index order.
    pub classes: Vec<String>,
    /// A stored weight `q` means `q as f32 * scale`.
    pub scale: f32,
    /// How the model was trained: data sources and sizes, epochs, seed, figures on the dev split.
    /// Informational; free-form.
    #[serde(default)]
    pub training: BTreeMap<String, serde_json::Value>,
}

/// A loaded model, ready to score.
#[derive(Debug, Clone)]
pub struct LinearModel {
    manifest: Manifest,
    offsets: Vec<u32>,
    classes: Vec<u16>,
    weights: Vec<f32>,
}

/// One class's score for a text and the tokens that pushed it up most.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScore {
    pub class: usize,
    pub probability: f32,
}

impl LinearModel {
    /// The model embedded in the binary (models/mapper.json + models/mapper.bin). Decoded once,
    /// shared by every mapper.
    pub fn embedded() -> std::sync::Arc<LinearModel> {
        static MODEL: std::sync::LazyLock<std::sync::Arc<LinearModel>> = std::sync::LazyLock::new(|| {
            match LinearModel::from_parts(
                include_str!("../../../models/mapper.json"),
                include_bytes!("../../../models/mapper.bin"),
                "models/mapper",
            ) {
                Ok(m) => std::sync::Arc::new(m),
                Err(e) => panic!("embedded mapping model is invalid: {e}"),
            }
        });
        MODEL.clone()
    }

    /// Reads `mapper.json` and `mapper.bin` from a directory.
    pub fn from_dir(dir: &Path) -> Result<LinearModel, ModelError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| ModelError::Read { path, source })
        };
        let manifest = read("mapper.json")?;
        let manifest = String::from_utf8(manifest).map_err(|_| ModelError::Manifest {
            what: dir.join("mapper.json").display().to_string(),
            reason: "not UTF-8".into(),
        })?;
        let weights = read("mapper.bin")?;
        LinearModel::from_parts(&manifest, &weights, &dir.join("mapper").display().to_string())
    }

    /// Parses a manifest and weight bytes; `what` names them in errors.
    pub fn from_parts(manifest: &str, bin: &[u8], what: &str) -> Result<LinearModel, ModelError> {
        let manifest: Manifest = serde_json::from_str(manifest)
            .map_err(|e| ModelError::Manifest { what: format!("{what}.json"), reason: e.to_string() })?;
        let bad_manifest = |reason: String| ModelError::Manifest { what: format!("{what}.json"), reason };
        if manifest.format != FORMAT {
            return Err(bad_manifest(format!("format is {:?}, expected {FORMAT:?}", manifest.format)));
        }
        if manifest.version != VERSION {
            return Err(bad_manifest(format!(
                "version {} is not supported (this build reads {VERSION})",
                manifest.version
            )));
        }
        if !(8..=24).contains(&manifest.features.bucket_bits) {
            return Err(bad_manifest(format!("bucket_bits {} is outside 8..=24", manifest.features.bucket_bits)));
        }
        if manifest.features.ngram_min == 0 || manifest.features.ngram_min > manifest.features.ngram_max {
            return Err(bad_manifest("ngram_min must be >= 1 and <= ngram_max".into()));
        }
        if manifest.classes.is_empty() || manifest.classes.len() > usize::from(u16::MAX) {
            return Err(bad_manifest(format!("{} classes; expected 1..=65535", manifest.classes.len())));
        }
        if !(manifest.scale.is_finite() && manifest.scale > 0.0) {
            return Err(bad_manifest(format!("scale {} must be a positive number", manifest.scale)));
        }

        let bad = |reason: String| ModelError::Weights { what: format!("{what}.bin"), reason };
        let mut r = Reader { bytes: bin, at: 0 };
        if r.take(8).ok_or_else(|| bad("shorter than the header".into()))? != MAGIC {
            return Err(bad("does not start with CFMAPW01".into()));
        }
        let buckets = r.u32().ok_or_else(|| bad("truncated header".into()))? as usize;
        let entries = r.u32().ok_or_else(|| bad("truncated header".into()))? as usize;
        if buckets != manifest.features.buckets() {
            return Err(bad(format!("{buckets} buckets, but the manifest says {}", manifest.features.buckets())));
        }
        let expected = 16 + (buckets + 1) * 4 + entries * 3;
        if bin.len() != expected {
            return Err(bad(format!(
                "{} bytes, expected {expected} for {buckets} buckets and {entries} entries",
                bin.len()
            )));
        }
        let mut offsets = Vec::with_capacity(buckets + 1);
        for _ in 0..=buckets {
            offsets.push(r.u32().ok_or_else(|| bad("truncated offsets".into()))?);
        }
        if offsets[0] != 0 || offsets[buckets] as usize != entries || offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err(bad("row offsets are not a non-decreasing run from 0 to the entry count".into()));
        }
        let mut classes = Vec::with_capacity(entries);
        for i in 0..entries {
            let c = r.u16().ok_or_else(|| bad("truncated classes".into()))?;
            if usize::from(c) >= manifest.classes.len() {
                return Err(bad(format!("entry {i} names class {c}, but there are {}", manifest.classes.len())));
            }
            classes.push(c);
        }
        let scale = manifest.scale;
        let weights: Vec<f32> = r
            .take(entries)
            .ok_or_else(|| bad("truncated weights".into()))?
            .iter()
            .map(|&q| f32::from(q as i8) * scale)
            .collect();
        Ok(LinearModel { manifest, offsets, classes, weights })
    }

    /// Builds a model from dense weights (`buckets × classes`, row-major), keeping entries whose
    /// magnitude is at least `prune` and quantizing them to `i8`.
    pub fn from_dense(mut manifest: Manifest, dense: &[f32], prune: f32) -> LinearModel {
        let n_classes = manifest.classes.len();
        let buckets = manifest.features.buckets();
        assert_eq!(dense.len(), buckets * n_classes, "dense weights have the wrong shape");
        let max = dense.iter().fold(0f32, |m, w| m.max(w.abs())).max(f32::MIN_POSITIVE);
        let scale = max / 127.0;
        manifest.scale = scale;
        let mut offsets = Vec::with_capacity(buckets + 1);
        let mut classes = Vec::new();
        let mut weights = Vec::new();
        offsets.push(0);
        for row in dense.chunks(n_classes) {
            for (c, &w) in row.iter().enumerate() {
                let q = (w / scale).round().clamp(-127.0, 127.0);
                if w.abs() >= prune && q != 0.0 {
                    classes.push(c as u16);
                    weights.push(q * scale);
                }
            }
            offsets.push(classes.len() as u32);
        }
        LinearModel { manifest, offsets, classes, weights }
    }

    /// The manifest as pretty JSON, and the weights in the `mapper.bin` layout.
    pub fn to_parts(&self) -> (String, Vec<u8>) {
        let manifest = serde_json::to_string_pretty(&self.manifest).expect("a manifest always serializes") + "\n";
        let mut bin = Vec::with_capacity(16 + self.offsets.len() * 4 + self.classes.len() * 3);
        bin.extend_from_slice(MAGIC);
        bin.extend_from_slice(&((self.offsets.len() - 1) as u32).to_le_bytes());
        bin.extend_from_slice(&(self.classes.len() as u32).to_le_bytes());
        for o in &self.offsets {
            bin.extend_from_slice(&o.to_le_bytes());
        }
        for c in &self.classes {
            bin.extend_from_slice(&c.to_le_bytes());
        }
        let scale = self.manifest.scale;
        bin.extend(self.weights.iter().map(|w| ((w / scale).round().clamp(-127.0, 127.0) as i8) as u8));
        (manifest, bin)
    }

    /// Writes `mapper.json` and `mapper.bin` into `dir`.
    pub fn write_dir(&self, dir: &Path) -> Result<(), ModelError> {
        let (manifest, bin) = self.to_parts();
        std::fs::create_dir_all(dir).map_err(|source| ModelError::Write { path: dir.to_path_buf(), source })?;
        for (name, bytes) in [("mapper.json", manifest.as_bytes()), ("mapper.bin", &bin[..])] {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|source| ModelError::Write { path, source })?;
        }
        Ok(())
    }

    /// Replaces the manifest's free-form training record.
    pub fn set_training(&mut self, training: BTreeMap<String, serde_json::Value>) {
        self.manifest.training = training;
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn features(&self) -> &FeatureConfig {
        &self.manifest.features
    }

    pub fn classes(&self) -> &[String] {
        &self.manifest.classes
    }

    /// Stored (non-zero) weights.
    pub fn entry_count(&self) -> usize {
        self.weights.len()
    }

    /// Raw class scores (logits) for already extracted features, into `logits` (resized).
    pub fn logits_into(&self, features: &Features, logits: &mut Vec<f32>, scratch: &mut Vec<u32>) {
        logits.clear();
        logits.resize(self.manifest.classes.len(), 0.0);
        let value = unique_buckets(features, scratch);
        for &b in scratch.iter() {
            let (lo, hi) = (self.offsets[b as usize] as usize, self.offsets[b as usize + 1] as usize);
            for (c, w) in self.classes[lo..hi].iter().zip(&self.weights[lo..hi]) {
                logits[usize::from(*c)] += w * value;
            }
        }
    }

    /// Class probabilities (softmax of the logits) for already extracted features.
    pub fn probabilities_into(&self, features: &Features, probs: &mut Vec<f32>, scratch: &mut Vec<u32>) {
        self.logits_into(features, probs, scratch);
        softmax_in_place(probs);
    }

    /// How much each token pushed `class` up: (token index, contribution), largest first, only
    /// positive contributions.
    pub fn token_contributions(&self, features: &Features, class: usize) -> Vec<(usize, f32)> {
        let mut scratch = Vec::new();
        let value = unique_buckets(features, &mut scratch);
        // Each distinct bucket counts once (as in scoring), credited to the first token that
        // produced it: sort (bucket, token) pairs and keep the first of each bucket.
        let mut pairs: Vec<(u32, u32)> = features.items.clone();
        pairs.sort_by_key(|&(b, t)| (b, t));
        pairs.dedup_by_key(|p| p.0);
        let mut per_token = vec![0f32; features.tokens.len()];
        for (b, t) in pairs {
            let (lo, hi) = (self.offsets[b as usize] as usize, self.offsets[b as usize + 1] as usize);
            if let Some(i) = self.classes[lo..hi].iter().position(|&c| usize::from(c) == class) {
                if let Some(slot) = per_token.get_mut(t as usize) {
                    *slot += self.weights[lo + i] * value;
                }
            }
        }
        let mut out: Vec<(usize, f32)> = per_token.into_iter().enumerate().filter(|(_, c)| *c > 0.0).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

/// Sorted distinct buckets of `features` into `scratch`; returns the value each carries
/// (1/sqrt(n), so long and short texts produce logits on the same scale). Training uses this too.
pub fn unique_buckets(features: &Features, scratch: &mut Vec<u32>) -> f32 {
    scratch.clear();
    scratch.extend(features.items.iter().map(|&(b, _)| b));
    scratch.sort_unstable();
    scratch.dedup();
    1.0 / (scratch.len().max(1) as f32).sqrt()
}

/// Numerically stable softmax.
pub fn softmax_in_place(xs: &mut [f32]) {
    let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in xs.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    if sum > 0.0 {
        for x in xs.iter_mut() {
            *x /= sum;
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> LinearModel {
        let features = FeatureConfig { bucket_bits: 8, ..FeatureConfig::default() };
        let manifest = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            features,
            classes: vec!["T1003".into(), "T1033".into()],
            scale: 1.0,
            training: BTreeMap::new(),
        };
        let mut dense = vec![0f32; features.buckets() * 2];
        for (b, _) in features.extract("whoami").items {
            dense[b as usize * 2 + 1] = 0.5;
        }
        for (b, _) in features.extract("mimikatz sekurlsa").items {
            dense[b as usize * 2] += 0.5;
        }
        LinearModel::from_dense(manifest, &dense, 0.01)
    }

    #[test]
    fn round_trips_through_bytes_and_scores() {
        let m = tiny();
        let (json, bin) = m.to_parts();
        let back = LinearModel::from_parts(&json, &bin, "tiny").unwrap();
        assert_eq!(back.entry_count(), m.entry_count());
        let f = back.features().extract("C:\\> whoami /all");
        let (mut probs, mut scratch) = (Vec::new(), Vec::new());
        back.probabilities_into(&f, &mut probs, &mut scratch);
        assert!(probs[1] > probs[0], "{probs:?}");
        assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        let contributions = back.token_contributions(&f, 1);
        let top = contributions[0].0;
        assert_eq!(&f.lower[f.tokens[top].start..f.tokens[top].end], "whoami");
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let (json, bin) = tiny().to_parts();
        for cut in [0, 7, 8, 15, 40, bin.len() - 1] {
            let err = LinearModel::from_parts(&json, &bin[..cut], "tiny").unwrap_err();
            assert!(err.to_string().contains("tiny.bin"), "{err}");
        }
        let mut bad_class = bin.clone();
        let class_at = 16 + 257 * 4;
        bad_class[class_at] = 0xff;
        bad_class[class_at + 1] = 0xff;
        assert!(LinearModel::from_parts(&json, &bad_class, "tiny").unwrap_err().to_string().contains("class"));
        let wrong = json.replace("\"version\": 1", "\"version\": 9");
        assert!(LinearModel::from_parts(&wrong, &bin, "tiny").unwrap_err().to_string().contains("version 9"));
        assert!(LinearModel::from_parts("{", &bin, "tiny").is_err());
    }
}
