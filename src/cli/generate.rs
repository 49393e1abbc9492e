//! `cacao-forge generate FILE [--backend planner] [-o playbook.json | --out-dir DIR]`: an
//! incident (any input `intake` reads, a serialized incident, a seed-004 record or dataset) to a
//! validated CACAO v2.0 playbook (library: `cacao_forge::generate`).
//!
//! The threat model is consulted only when the ATT&CK mapper finds no technique: its threat type
//! then chooses the knowledge. Exit status: 0 when every incident got a playbook; 1 when some
//! incident could not be planned (nothing mapped, no threat found); 2 for usage and input errors.

use super::{read_limited, write_output, Outcome};
use anyhow::{bail, Context, Result};
use cacao_forge::generate::{
    analyze, Analysis, AssembleOptions, Backend, GenerateError, GenerateOptions, PlannerBackend, PlannerBackendOptions,
};
use cacao_forge::incident::input::InputFormat;
use cacao_forge::incident::intake::IntakeOptions;
use cacao_forge::incident::Incident;
use cacao_forge::plan::{self, PlanOptions, Planner};
use cacao_forge::threat::detector::{Detector, DetectorOptions};
use cacao_forge::threat::shipped::{load_detector, DetectorSource};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

/// Where incidents come from and how the playbook is generated: shared by `generate` and `analyze`.
#[derive(Debug, Clone, Args)]
pub struct GenerationArgs {
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
    /// Which backend proposes the steps.
    #[arg(long, value_enum, default_value_t = BackendKind::Planner)]
    pub backend: BackendKind,
    /// Most response steps in the playbook (planner backend).
    #[arg(long, default_value_t = PlannerBackendOptions::default().max_steps)]
    pub max_steps: usize,
    /// Leave out destructive actions instead of gating them behind an approval.
    #[arg(long)]
    pub no_destructive: bool,
    /// `created`/`modified` timestamp of the playbook (RFC 3339, e.g. 2026-11-22T10:00:00.000Z);
    /// default now. Fix it for reproducible output.
    #[arg(long)]
    pub created: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// Our response knowledge composed by the mitigation plan (no model, no network).
    Planner,
}

impl GenerationArgs {
    pub fn incidents(&self) -> Result<Vec<Incident>> {
        let file = self.file.display().to_string();
        let format: InputFormat = self.format.parse()?;
        let opts = IntakeOptions {
            max_bytes: self.max_bytes,
            year: self.year,
            source_name: self.file.file_name().map(|n| n.to_string_lossy().into_owned()),
            ..IntakeOptions::default()
        };
        let bytes = read_limited(&self.file, opts.max_bytes)?;
        let input = plan::read_input(&bytes, format, &opts).with_context(|| file.clone())?;
        for p in &input.problems {
            tracing::warn!("{file}: {p}");
        }
        let mut incidents = input.incidents;
        if let Some(id) = &self.incident {
            incidents.retain(|i| &i.id == id);
            if incidents.is_empty() {
                bail!("{file}: no incident with id `{id}`");
            }
        }
        if incidents.is_empty() {
            bail!("{file}: no incident in the input");
        }
        Ok(incidents)
    }

    pub fn planner(&self) -> Planner<'static> {
        Planner::embedded(PlanOptions { include_destructive: !self.no_destructive, ..PlanOptions::default() })
    }

    pub fn backend(&self) -> Box<dyn Backend> {
        match self.backend {
            BackendKind::Planner => Box::new(PlannerBackend {
                options: PlannerBackendOptions { max_steps: self.max_steps.max(1), ..PlannerBackendOptions::default() },
            }),
        }
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
    let incidents = args.gen.incidents()?;
    if incidents.len() > 1 && args.out_dir.is_none() {
        bail!(
            "{} holds {} incidents: choose one with --incident ID or write them all with --out-dir DIR",
            args.gen.file.display(),
            incidents.len()
        );
    }
    let planner = args.gen.planner();
    let backend = args.gen.backend();
    let options = args.gen.options()?;
    let detector = detector()?;
    let mut failed = 0;
    for incident in &incidents {
        match analyze(incident, Some(&detector), &planner, backend.as_ref(), &options) {
            Ok(a) => {
                let text = serde_json::to_string_pretty(&a.generated.playbook)? + "\n";
                match &args.out_dir {
                    Some(dir) => {
                        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
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
