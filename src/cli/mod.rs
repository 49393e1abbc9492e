//! The command line: one file per subcommand, each a thin adapter that parses, calls the library
//! and prints. Exit codes: 0 success, 1 the input was judged bad (invalid playbook, fmt --check
//! difference), 2 usage or I/O error.

use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

mod analyze;
mod detect;
mod eval;
mod fmt;
mod generate;
mod graph;
mod intake;
mod map;
mod mitre;
mod plan;
mod run;
mod score;
mod synth;
mod train;
mod validate;

#[derive(Debug, Parser)]
#[command(
    name = "cacao-forge",
    version,
    about = "Turns security incidents into validated CACAO v2.0 playbooks and runs them"
)]
struct Cli {
    /// Log verbosity (error, warn, info, debug, trace); RUST_LOG overrides it.
    #[arg(long, global = true, default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate playbooks (files or directories) against the schema and semantic checks.
    Validate(validate::ValidateArgs),
    /// Analyse a playbook's workflow and draw it as SVG, Mermaid or DOT.
    Graph(graph::GraphArgs),
    /// Score a candidate playbook against a reference (or a dataset against a directory).
    Score(score::ScoreArgs),
    /// Rewrite playbooks in canonical form (spec property order, 2-space indent).
    Fmt(fmt::FmtArgs),
    /// Read an incident (text, logs, alert JSON, seed-004 record) and extract its observables.
    Intake(intake::IntakeArgs),
    /// Rank the ATT&CK techniques an incident or a text shows, with evidence.
    Map(map::MapArgs),
    /// The embedded ATT&CK knowledge base: import, sync, info, lookups.
    Mitre(mitre::MitreArgs),
    /// Map an incident to ATT&CK techniques and print an ordered mitigation plan.
    Plan(plan::PlanArgs),
    /// Judge texts or log lines with the threat model: threat or benign, which threat, why.
    Detect(detect::DetectArgs),
    /// Train a model the project ships (the technique mapper, the threat model).
    Train(train::TrainArgs),
    /// Measure a model on labelled data (the technique mapper).
    Eval(eval::EvalArgs),
    /// Generate labelled synthetic data (threat model texts, the training corpus).
    Synth(synth::SynthArgs),
    /// Generate a validated CACAO v2.0 playbook for an incident.
    Generate(generate::GenerateArgs),
    /// The whole pipeline: detect, map, plan, generate, validate and draw (playbook.json, playbook.svg).
    Analyze(analyze::AnalyzeArgs),
    /// Run a playbook step by step through the connectors (durable; --dry-run prints the plan).
    Run(run::RunArgs),
    /// Runs in the store: list, show (audit trail), resume, cancel, answer a question.
    Runs(run::RunsArgs),
}

/// Limits shared by every command that reads playbooks.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Largest accepted playbook, in bytes.
    #[arg(long, default_value_t = cacao_forge::cacao::Limits::default().max_bytes)]
    max_bytes: usize,
    /// Deepest accepted nesting of arrays and objects.
    #[arg(long, default_value_t = cacao_forge::cacao::Limits::default().max_depth)]
    max_depth: usize,
    /// Most workflow steps accepted.
    #[arg(long, default_value_t = cacao_forge::cacao::Limits::default().max_steps)]
    max_steps: usize,
}

impl LimitArgs {
    pub fn limits(&self) -> cacao_forge::cacao::Limits {
        cacao_forge::cacao::Limits { max_bytes: self.max_bytes, max_depth: self.max_depth, max_steps: self.max_steps }
    }
}

/// What a subcommand reports back: the exit code it wants.
pub enum Outcome {
    Success,
    /// The input was judged bad (exit 1).
    Rejected,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Score(args) => score::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Intake(args) => intake::run(args),
        Command::Mitre(args) => mitre::run(args),
        Command::Map(args) => map::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Train(args) => train::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Detect(args) => detect::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Run(args) => run::run(args),
        Command::Runs(args) => run::runs(args),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Rejected) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Reads a file with a size limit, naming the file in every error.
pub fn read_limited(path: &std::path::Path, max_bytes: usize) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > max_bytes as u64 {
        anyhow::bail!(
            "{} is {} bytes, over the limit of {max_bytes} bytes (raise it with --max-bytes)",
            path.display(),
            meta.len()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads an incident input file (`plan`, `generate`, `analyze`): the size limit, the format
/// (`auto` detects it) and the intake options every such command shares.
pub fn read_incident_input(
    file: &std::path::Path,
    format: &str,
    year: Option<i32>,
    max_bytes: usize,
) -> anyhow::Result<cacao_forge::incident::input::IncidentInput> {
    use anyhow::Context;
    let format: cacao_forge::incident::input::InputFormat = format.parse()?;
    let opts = cacao_forge::incident::intake::IntakeOptions {
        max_bytes,
        year,
        source_name: file.file_name().map(|n| n.to_string_lossy().into_owned()),
        ..cacao_forge::incident::intake::IntakeOptions::default()
    };
    let bytes = read_limited(file, opts.max_bytes)?;
    cacao_forge::plan::read_input(&bytes, format, &opts).with_context(|| file.display().to_string())
}

/// The incident `id` of `incidents` when one is asked for (an error naming the ids there are when
/// it is not found), else all of them.
pub fn select_incident(
    file: &std::path::Path,
    mut incidents: Vec<cacao_forge::incident::Incident>,
    id: Option<&str>,
) -> anyhow::Result<Vec<cacao_forge::incident::Incident>> {
    if let Some(id) = id {
        let known: Vec<String> = incidents.iter().take(10).map(|i| i.id.clone()).collect();
        incidents.retain(|i| i.id == id);
        if incidents.is_empty() {
            anyhow::bail!(
                "{}: no incident with id `{id}` (ids: {}{})",
                file.display(),
                known.join(", "),
                if known.len() == 10 { ", ..." } else { "" }
            );
        }
    }
    Ok(incidents)
}

/// Writes `text` to `path`, or to stdout when `path` is None or `-`.
pub fn write_output(path: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    match path {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))
        }
        _ => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
            Ok(())
        }
    }
}

/// Turns off candle's threads inside each tensor op unless the user set `CANDLE_NUM_THREADS`:
/// our models are small, and those threads spin at a barrier after every op (2-5x slower on a
/// loaded machine); work is split across texts instead (`DetectorOptions::workers`). Called
/// before the command starts any thread of its own.
pub(crate) fn single_threaded_candle() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
}
