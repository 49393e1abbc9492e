//! The threat model (stage 2): is a text (a log line, a request, a command line, an e-mail
//! subject) a threat, and of which kind, with a calibrated confidence and the evidence behind it.
//!
//! The pieces, one file (or folder) per concept:
//! - [`labels`] is the fixed label set and the labelled-example type every other part shares;
//! - `normalize` decodes what attackers encode (URL, HTML, unicode escapes, base64/hex blobs) so
//!   the models see payloads for what they are, keeping a map back to the original bytes;
//! - `synth` generates labelled synthetic examples for every label; `corpus` joins them with the
//!   shared training texts and splits train/dev/test;
//! - `ngram` is the fast member (hashed character n-grams, linear); `encoder` the transformer
//!   member written with candle, with its own trained tokenizer; `hf` loads a Hugging Face
//!   BERT/DistilBERT sequence classifier from a local directory;
//! - `detector` combines members into a calibrated ensemble with agreement, explanations,
//!   adversarial checks and batch detection; `eval` measures it.
//!
//! Invariant: every member answers through the one [`Classifier`] trait with a probability per
//! label in [`LABELS`] order, so the detector, the ensemble and the evaluation never know which
//! model they talk to.

pub mod adversarial;
pub mod calibrate;
pub mod corpus;
pub mod detector;
pub mod encoder;
pub mod eval;
pub mod explain;
pub mod hf;
pub mod labels;
pub mod ngram;
pub mod normalize;
pub mod shipped;
pub mod synth;
pub mod train;

pub use labels::{ThreatExample, ThreatType, LABELS};

/// Errors of the threat model: loading, running or training a model, or reading data.
#[derive(Debug, thiserror::Error)]
pub enum ThreatError {
    #[error("{path}: {message}")]
    Model { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    Data { path: String, line: usize, message: String },
    #[error("model computation failed: {0}")]
    Compute(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<candle_core::Error> for ThreatError {
    fn from(e: candle_core::Error) -> Self {
        ThreatError::Compute(e.to_string())
    }
}

/// A probability for every label, in [`LABELS`] order; sums to 1.
pub type LabelProbs = [f32; LABELS.len()];

/// One member of the detector: anything that turns texts into label probabilities.
///
/// `texts` are what the detector decided this member sees (normalized or raw, see
/// [`Classifier::wants_normalized`]). Implementations must accept any UTF-8 text, including the
/// empty string and megabyte-long lines (truncate, never panic).
pub trait Classifier: Send + Sync {
    /// Stable identifier with version, e.g. `encoder/threat-encoder-v1`; reported in verdicts.
    fn id(&self) -> String;
    /// Probabilities per label for each text, same order as `texts`.
    fn predict_batch(&self, texts: &[&str]) -> Result<Vec<LabelProbs>, ThreatError>;
    /// Whether the member was trained on normalized text (ours) or raw text (a foreign checkpoint).
    fn wants_normalized(&self) -> bool {
        true
    }
    /// Whether the member only knows threat vs benign (a binary checkpoint). Its threat mass is
    /// spread evenly over the threat labels; the detector then takes the type from typed members.
    fn is_binary(&self) -> bool {
        false
    }
}
