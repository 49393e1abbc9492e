//! Playbook generation (pipeline stage 4): incident -> mitigation plan -> a [`draft`] from a
//! backend -> a CACAO v2.0 playbook, validated and repaired.
//!
//! Every backend implements [`Backend`] and returns a [`PlaybookDraft`]: the knowledge-based
//! planner (default, no weights), a local GGUF model under constrained decoding, or an
//! OpenAI-compatible server. What comes after the draft (ids, variables, agents, structure,
//! validation) is shared, so backends differ only in which steps they propose.

pub mod assemble;
pub mod draft;
pub mod eval;
pub mod gguf;
pub mod openai;
pub mod pipeline;
pub mod planner;
pub mod prompt;
pub mod synth;

pub use assemble::{assemble, AssembleOptions};
pub use draft::{draft_json_schema, parse_draft, DraftError, DraftStep, PlaybookDraft};
pub use gguf::{GgufBackend, GgufOptions};
pub use openai::{OpenAiBackend, OpenAiOptions, ResponseFormat};
pub use pipeline::{analyze, Analysis};
pub use planner::{PlannerBackend, PlannerBackendOptions};
pub use prompt::{build_prompt, Prompt};

use crate::cacao::validate::Validator;
use crate::finding::Finding;
use crate::incident::Incident;
use crate::plan::Plan;
use serde_json::Value;

/// What a backend is given for one incident. The incident holds only what a generator may see
/// (for a seed-004 record: technique, description and logs, never the reference); the plan is our
/// own analysis of it.
#[derive(Debug, Clone, Copy)]
pub struct GenerationContext<'a> {
    pub incident: &'a Incident,
    pub plan: &'a Plan,
}

/// Which backend and model produced a draft; recorded in the playbook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Provenance {
    /// `planner`, `candle` or `openai`.
    pub backend: String,
    /// The model: knowledge version, GGUF file name, or the server's model name.
    pub model: String,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The backend's configuration is unusable (missing file, bad URL, bad option).
    #[error("generation backend {backend}: {message}")]
    Config { backend: String, message: String },
    /// The model or server could not be reached or failed.
    #[error("generation backend {backend}: {message}")]
    Backend { backend: String, message: String },
    /// The backend answered, but not with a usable draft.
    #[error("generation backend {backend} returned an unusable draft: {source}")]
    Draft {
        backend: String,
        #[source]
        source: DraftError,
    },
    /// A time limit ran out.
    #[error("generation backend {backend}: no answer within {seconds} s")]
    Timeout { backend: String, seconds: u64 },
    /// The assembled playbook does not validate (a defect of assembly, never of the backend: it
    /// is reported with every finding rather than returned).
    #[error("the generated playbook is invalid: {}", summarize(.findings))]
    Invalid { findings: Vec<Finding> },
}

fn summarize(findings: &[Finding]) -> String {
    let errors: Vec<String> = findings.iter().filter(|f| f.is_error()).take(5).map(|f| f.to_string()).collect();
    errors.join("; ")
}

/// A source of playbook drafts. Implementations must be usable from several threads (the HTTP
/// API serves concurrent requests) and must never read a dataset record's ground truth.
pub trait Backend: Send + Sync {
    /// Backend and model, for the playbook's record of what produced it.
    fn provenance(&self) -> Provenance;
    /// The steps this backend proposes for the incident.
    fn draft(&self, ctx: &GenerationContext<'_>) -> Result<PlaybookDraft, GenerateError>;
}

/// How [`generate`] runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerateOptions {
    pub assemble: AssembleOptions,
}

/// A generated playbook and how it came to be.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The CACAO v2.0 playbook; valid (schema and semantics).
    pub playbook: Value,
    /// What the backend proposed.
    pub draft: PlaybookDraft,
    pub provenance: Provenance,
    /// Warnings the validator reported (never errors: those fail generation).
    pub warnings: Vec<Finding>,
}

/// Drafts with `backend`, assembles and validates: the playbook returned is always valid.
pub fn generate(
    backend: &dyn Backend,
    ctx: &GenerationContext<'_>,
    opts: &GenerateOptions,
) -> Result<Generated, GenerateError> {
    let draft = backend.draft(ctx)?;
    let provenance = backend.provenance();
    draft::check_draft(&draft)
        .map_err(|source| GenerateError::Draft { backend: provenance.backend.clone(), source })?;
    let playbook = assemble(&draft, ctx, &provenance, &opts.assemble);
    let report = validator().validate_document(&playbook);
    if !report.is_valid() {
        return Err(GenerateError::Invalid { findings: report.findings });
    }
    Ok(Generated { playbook, draft, provenance, warnings: report.findings })
}

fn validator() -> &'static Validator {
    static VALIDATOR: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    VALIDATOR.get_or_init(Validator::default)
}
