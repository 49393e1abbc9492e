//! The threat model the project ships, and model directories written by `train threat`.
//!
//! A model is a manifest (`threat.json`: members with their kind, files and weight, the fitted
//! calibration, and the training record) plus each member's files. The
//! shipped one is embedded in the binary (`models/threat/`), so detection works with no download
//! and no file beside the binary.

use super::calibrate::Calibration;
use super::detector::{Detector, DetectorOptions, Member};
use super::hf::HfClassifier;
use super::ngram::NgramClassifier;
use super::{Classifier, ThreatError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Format name and version of the manifest; a reader refuses what it does not know.
pub const MANIFEST_FORMAT: &str = "cacao-forge-threat-model";
pub const MANIFEST_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "threat.json";

/// What kind of model a member is; decides how its files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    /// Our transformer encoder: `config.json`, `model.safetensors`, `tokenizer.json` in `path`.
    Encoder,
    /// Our hashed n-gram linear model: one file at `path`.
    Ngram,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberEntry {
    pub kind: MemberKind,
    /// Relative to the manifest's directory.
    pub path: String,
    pub weight: f32,
}

/// The manifest of a threat model directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// Reported in every verdict, e.g. `threat-v1`.
    pub model_id: String,
    /// Ensemble order: `--ensemble N` keeps the first N.
    pub members: Vec<MemberEntry>,
    pub calibration: Calibration,
    /// What training recorded (corpus counts, dev and test figures); informational.
    #[serde(default)]
    pub training: serde_json::Value,
}

impl Manifest {
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Manifest, ThreatError> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| ThreatError::Model {
            path: origin.into(),
            message: format!("not a threat model manifest: {e}"),
        })?;
        if m.format != MANIFEST_FORMAT || m.version != MANIFEST_VERSION {
            return Err(ThreatError::Model {
                path: origin.into(),
                message: format!(
                    "format {:?} version {} is not {MANIFEST_FORMAT:?} version {MANIFEST_VERSION}",
                    m.format, m.version
                ),
            });
        }
        if m.members.is_empty() {
            return Err(ThreatError::Model { path: origin.into(), message: "the manifest lists no members".into() });
        }
        Ok(m)
    }
}

/// Where a detector's members come from.
#[derive(Debug, Clone, Default)]
pub struct DetectorSource {
    /// A directory written by `train threat`; None = the embedded model.
    pub model_dir: Option<PathBuf>,
    /// A Hugging Face checkpoint directory to use as a member.
    pub hf_dir: Option<PathBuf>,
    /// With `hf_dir`: keep our members too (otherwise the checkpoint is the only member).
    pub keep_shipped: bool,
    /// Keep only the first N of our members.
    pub ensemble: Option<usize>,
}

/// Reads a member's file, from the embedded model or a directory.
trait Files {
    fn read(&self, relative: &str) -> Result<std::borrow::Cow<'static, [u8]>, ThreatError>;
    fn origin(&self, relative: &str) -> String;
}

struct DirFiles(PathBuf);

impl Files for DirFiles {
    fn read(&self, relative: &str) -> Result<std::borrow::Cow<'static, [u8]>, ThreatError> {
        let path = self.0.join(relative);
        std::fs::read(&path)
            .map(std::borrow::Cow::Owned)
            .map_err(|source| ThreatError::Io { path: path.display().to_string(), source })
    }
    fn origin(&self, relative: &str) -> String {
        self.0.join(relative).display().to_string()
    }
}

struct EmbeddedFiles;

impl Files for EmbeddedFiles {
    fn read(&self, relative: &str) -> Result<std::borrow::Cow<'static, [u8]>, ThreatError> {
        embedded_file(relative).map(std::borrow::Cow::Borrowed).ok_or_else(|| ThreatError::Model {
            path: format!("embedded:{relative}"),
            message: "no such file in the embedded model".into(),
        })
    }
    fn origin(&self, relative: &str) -> String {
        format!("embedded:{relative}")
    }
}

/// The embedded model's files by their path relative to `models/threat/`.
fn embedded_file(relative: &str) -> Option<&'static [u8]> {
    EMBEDDED.iter().find(|(name, _)| *name == relative).map(|(_, bytes)| *bytes)
}

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/models/threat/", $name)) as &[u8])),*]
    };
}

static EMBEDDED: &[(&str, &[u8])] = embedded![
    "threat.json",
    "ngram-a.bin",
    "ngram-b.bin",
    "encoder/config.json",
    "encoder/model.safetensors",
    "encoder/tokenizer.json",
];

fn load_member(kind: MemberKind, files: &dyn Files, relative: &str) -> Result<Arc<dyn Classifier>, ThreatError> {
    match kind {
        MemberKind::Ngram => {
            Ok(Arc::new(NgramClassifier::from_bytes(&files.read(relative)?, &files.origin(relative))?))
        }
        MemberKind::Encoder => {
            use super::encoder::{EncoderClassifier, CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE};
            let file = |name: &str| format!("{relative}/{name}");
            let (config, weights, tokenizer) =
                (files.read(&file(CONFIG_FILE))?, files.read(&file(WEIGHTS_FILE))?, files.read(&file(TOKENIZER_FILE))?);
            EncoderClassifier::from_bytes(&config, &weights, &tokenizer)
                .map(|e| Arc::new(e) as Arc<dyn Classifier>)
                .map_err(|e| ThreatError::Model { path: files.origin(relative), message: e.to_string() })
        }
    }
}

/// Loads the model in `files`: its manifest and every member.
fn load_model(files: &dyn Files, ensemble: Option<usize>) -> Result<(Manifest, Vec<Member>), ThreatError> {
    let manifest = Manifest::parse(&files.read(MANIFEST_FILE)?, &files.origin(MANIFEST_FILE))?;
    let keep = ensemble.unwrap_or(manifest.members.len()).clamp(1, manifest.members.len());
    let mut members = Vec::with_capacity(keep);
    for entry in manifest.members.iter().take(keep) {
        members.push(Member { classifier: load_member(entry.kind, files, &entry.path)?, weight: entry.weight });
    }
    Ok((manifest, members))
}

/// The embedded model's manifest.
pub fn embedded_manifest() -> Result<Manifest, ThreatError> {
    Manifest::parse(&EmbeddedFiles.read(MANIFEST_FILE)?, "embedded:threat.json")
}

/// Builds the detector `source` describes.
pub fn load_detector(source: &DetectorSource, options: DetectorOptions) -> Result<Detector, ThreatError> {
    if let Some(n) = source.ensemble {
        if n == 0 {
            return Err(ThreatError::Invalid("the ensemble needs at least one member".into()));
        }
    }
    let mut members = Vec::new();
    let mut calibration = Calibration::default();
    let mut model_id = String::new();
    let ours = source.hf_dir.is_none() || source.keep_shipped;
    if ours {
        let files: Box<dyn Files> = match &source.model_dir {
            Some(dir) => Box::new(DirFiles(dir.clone())),
            None => Box::new(EmbeddedFiles),
        };
        let (manifest, ours) = load_model(files.as_ref(), source.ensemble)?;
        members.extend(ours);
        calibration = manifest.calibration;
        model_id = format!("{} ({} members)", manifest.model_id, members.len());
    }
    if let Some(dir) = &source.hf_dir {
        let hf = hf_member(dir)?;
        model_id = if model_id.is_empty() { hf.id() } else { format!("{model_id} + {}", hf.id()) };
        members.push(Member { classifier: hf, weight: 1.0 });
        if !ours {
            calibration = Calibration::default();
        }
    }
    Detector::new(members, calibration, options, model_id)
}

fn hf_member(dir: &Path) -> Result<Arc<dyn Classifier>, ThreatError> {
    Ok(Arc::new(HfClassifier::load(dir)?))
}
