//! `cacao-forge generate FILE [--backend planner] [-o playbook.json | --out-dir DIR]`: an
//! incident (any input `intake` reads, a serialized incident, a seed-004 record or dataset) to a
//! validated CACAO v2.0 playbook (library: `cacao_forge::generate`).
//!
//! The threat model is consulted only when the ATT&CK mapper finds no technique: its threat type
//! then chooses the knowledge. Exit status: 0 when every incident got a playbook; 1 when some
//! incident could not be planned (nothing mapped, no threat found); 2 for usage and input errors.

use super::{read_incident_input, read_limited, select_incident, write_output, Outcome};
use anyhow::{bail, Context, Result};
use cacao_forge::generate::{
    analyze, Analysis, AssembleOptions, Backend, GenerateError, GenerateOptions, GgufBackend, GgufOptions,
    OpenAiBackend, OpenAiOptions, PlannerBackend, PlannerBackendOptions,
};
use cacao_forge::incident::intake::IntakeOptions;
use cacao_forge::incident::Incident;
use cacao_forge::plan::{PlanOptions, Planner};
use cacao_forge::threat::detector::{Detector, DetectorOptions};
use cacao_forge::threat::shipped::{load_detector, DetectorSource};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

/// Where incidents come from and how the playbook is generated: shared by `generate` and `analyze`.
#[derive(Debug, Clone, Args)]
pub struct GenerationArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub backend: BackendArgs,
}

/// Which incidents to read.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// The incident: a log file, alert JSON, text, a serialized incident, a seed-004 record or dataset.
    pub file: PathBuf,
    /// Input format (auto-detected by default).
    #[arg(long, default_value = "auto")]
    pub format: String,
    /// Only the incident with this id (for inputs with several).
    #[arg(long)]
    pub incident: Option<String>,
    /// Year of log timestamps that carry none (syslog).
    #[arg(long)]
    pub year: Option<i32>,
    /// Largest accepted input, in bytes.
    #[arg(long, default_value_t = IntakeOptions::default().max_bytes)]
    pub max_bytes: usize,
}

/// Which backend generates, and how: shared by `generate`, `analyze` and `eval generate`.
#[derive(Debug, Clone, Args)]
pub struct BackendArgs {
    /// A JSON file with generation settings (`{"backend": "openai", "base_url": ..., "model":
    /// ..., "timeout_s": ..., "max_retries": ..., "response_format": ..., "max_steps": ...}`);
    /// command-line flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Which backend proposes the steps (default: planner, or the config file's).
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// Most response steps in the playbook (planner backend).
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// candle backend: the GGUF model file (llama, qwen2 or phi3); tokenizer.json beside it.
    #[arg(long)]
    pub gguf: Option<PathBuf>,
    /// candle backend: most tokens generated for one draft.
    #[arg(long)]
    pub max_new_tokens: Option<usize>,
    /// candle backend: decode freely instead of under the draft's JSON grammar (testing only).
    #[arg(long)]
    pub unconstrained: bool,
    /// OpenAI-compatible server: base URL of its API (e.g. http://127.0.0.1:8000/v1).
    #[arg(long)]
    pub base_url: Option<String>,
    /// OpenAI-compatible server: the model name it serves.
    #[arg(long)]
    pub model: Option<String>,
    /// OpenAI-compatible server: API key (sent as a bearer token; never logged).
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// OpenAI-compatible server: seconds to wait for one answer.
    #[arg(long)]
    pub timeout_s: Option<u64>,
    /// OpenAI-compatible server: retries on connection errors, timeouts, 429 and 5xx.
    #[arg(long)]
    pub max_retries: Option<u32>,
    /// OpenAI-compatible server: auto (JSON schema, falling back), json-schema, json-object or none.
    #[arg(long)]
    pub response_format: Option<String>,
    /// Leave out destructive actions instead of gating them behind an approval.
    #[arg(long)]
    pub no_destructive: bool,
    /// `created`/`modified` timestamp of the playbook (RFC 3339, e.g. 2026-11-22T10:00:00.000Z);
    /// default now. Fix it for reproducible output.
    #[arg(long)]
    pub created: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Our response knowledge composed by the mitigation plan (no model, no network).
    Planner,
    /// An OpenAI-compatible chat server (vLLM, Ollama, llama.cpp server, ...).
    Openai,
    /// A local GGUF model (llama, qwen2, phi3) on CPU with candle, under constrained decoding.
    Candle,
}

/// The config file: every field optional; flags win.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationConfig {
    backend: Option<BackendKind>,
    max_steps: Option<usize>,
    base_url: Option<String>,
    model: Option<String>,
    timeout_s: Option<u64>,
    max_retries: Option<u32>,
    response_format: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    gguf: Option<PathBuf>,
    max_new_tokens: Option<usize>,
    seed: Option<u64>,
}

/// Largest accepted config file, in bytes.
const MAX_CONFIG_BYTES: usize = 1 << 20;

impl InputArgs {
    pub fn incidents(&self) -> Result<Vec<Incident>> {
        let file = self.file.display().to_string();
        let input = read_incident_input(&self.file, &self.format, self.year, self.max_bytes)?;
        for p in &input.problems {
            tracing::warn!("{file}: {p}");
        }
        let incidents = select_incident(&self.file, input.incidents, self.incident.as_deref())?;
        if incidents.is_empty() {
            bail!("{file}: no incident in the input");
        }
        Ok(incidents)
    }
}

impl BackendArgs {
    pub fn planner(&self) -> Planner<'static> {
        Planner::embedded(PlanOptions { include_destructive: !self.no_destructive, ..PlanOptions::default() })
    }

    fn config(&self) -> Result<GenerationConfig> {
        let Some(path) = &self.config else { return Ok(GenerationConfig::default()) };
        let bytes = read_limited(path, MAX_CONFIG_BYTES)?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut de)
            .map_err(|e| anyhow::anyhow!("{}: at {}: {}", path.display(), e.path(), e.inner()))
    }

    pub fn backend(&self) -> Result<Box<dyn Backend>> {
        let config = self.config()?;
        let kind = self.backend.or(config.backend).unwrap_or(BackendKind::Planner);
        Ok(match kind {
            BackendKind::Planner => Box::new(PlannerBackend {
                options: PlannerBackendOptions {
                    max_steps: self
                        .max_steps
                        .or(config.max_steps)
                        .unwrap_or(PlannerBackendOptions::default().max_steps)
                        .max(1),
                    ..PlannerBackendOptions::default()
                },
            }),
            BackendKind::Openai => {
                let d = OpenAiOptions::default();
                let response_format = match self.response_format.as_ref().or(config.response_format.as_ref()) {
                    Some(f) => f.parse()?,
                    None => d.response_format,
                };
                let options = OpenAiOptions {
                    base_url: self.base_url.clone().or(config.base_url).unwrap_or(d.base_url.clone()),
                    model: self.model.clone().or(config.model).unwrap_or_default(),
                    api_key: self.api_key.clone(),
                    timeout: self.timeout_s.or(config.timeout_s).map_or(d.timeout, std::time::Duration::from_secs),
                    max_retries: self.max_retries.or(config.max_retries).unwrap_or(d.max_retries),
                    temperature: config.temperature.unwrap_or(d.temperature),
                    max_tokens: config.max_tokens.unwrap_or(d.max_tokens),
                    response_format,
                    ..d
                };
                Box::new(OpenAiBackend::new(options)?)
            }
            BackendKind::Candle => {
                let Some(path) = self.gguf.clone().or(config.gguf) else {
                    bail!("--backend candle needs --gguf MODEL.gguf (or \"gguf\" in the config file)");
                };
                let d = GgufOptions::new(path);
                let options = GgufOptions {
                    max_new_tokens: self.max_new_tokens.or(config.max_new_tokens).unwrap_or(d.max_new_tokens),
                    temperature: config.temperature.map_or(d.temperature, f64::from),
                    seed: config.seed.unwrap_or(d.seed),
                    constrained: !self.unconstrained,
                    ..d
                };
                Box::new(GgufBackend::load(options)?)
            }
        })
    }

    pub fn options(&self) -> Result<GenerateOptions> {
        if let Some(c) = &self.created {
            chrono::DateTime::parse_from_rfc3339(c)
                .with_context(|| format!("--created `{c}` is not an RFC 3339 timestamp"))?;
        }
        Ok(GenerateOptions {
            assemble: AssembleOptions { created: self.created.clone(), ..AssembleOptions::default() },
        })
    }
}

/// The threat model, loaded once.
pub fn detector() -> Result<Detector> {
    super::single_threaded_candle();
    Ok(load_detector(&DetectorSource::default(), DetectorOptions::default())?)
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub gen: GenerationArgs,
    /// Write the playbook here (default stdout); only for a single incident.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Write one playbook per incident as DIR/<incident id>.json.
    #[arg(long, conflicts_with = "output")]
    pub out_dir: Option<PathBuf>,
}

pub fn run(args: GenerateArgs) -> Result<Outcome> {
    let incidents = args.gen.input.incidents()?;
    if incidents.len() > 1 && args.out_dir.is_none() {
        bail!(
            "{} holds {} incidents: choose one with --incident ID or write them all with --out-dir DIR",
            args.gen.input.file.display(),
            incidents.len()
        );
    }
    let planner = args.gen.backend.planner();
    let backend = args.gen.backend.backend()?;
    let options = args.gen.backend.options()?;
    let detector = detector()?;
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut failed = 0;
    for incident in &incidents {
        match analyze(incident, Some(&detector), &planner, backend.as_ref(), &options) {
            Ok(a) => {
                let text = serde_json::to_string_pretty(&a.generated.playbook)? + "\n";
                match &args.out_dir {
                    Some(dir) => {
                        let path = dir.join(format!("{}.json", file_stem(&incident.id)));
                        write_output(Some(&path), &text)?;
                        eprintln!("{}: {}", incident.id, describe(&a, &path));
                    }
                    None => {
                        write_output(args.output.as_deref(), &text)?;
                        if let Some(p) = &args.output {
                            eprintln!("{}", describe(&a, p));
                        }
                    }
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}: {}", incident.id, explain_failure(&e));
            }
        }
    }
    Ok(if failed == 0 { Outcome::Success } else { Outcome::Rejected })
}

/// A file name for an incident id (ids may hold `/` or `:`).
pub fn file_stem(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

pub fn describe(a: &Analysis, path: &Path) -> String {
    let pb = &a.generated.playbook;
    let steps = pb["workflow"].as_object().map_or(0, |w| w.len());
    let techniques: Vec<&str> = a.plan.techniques.iter().map(|t| t.id.as_str()).collect();
    format!(
        "{} written: {} workflow steps, {} from the draft, techniques {}{} (backend {}, valid)",
        path.display(),
        steps,
        a.generated.draft.steps.len(),
        if techniques.is_empty() { "none".to_owned() } else { techniques.join(", ") },
        if a.techniques_from_threat_type { " (from the threat type)" } else { "" },
        a.generated.provenance.backend
    )
}

pub fn explain_failure(e: &GenerateError) -> String {
    format!("no playbook: {e}")
}
