//! `cacao-forge run PLAYBOOK [--dry-run] [--var name=value] [--approve-all]` and
//! `cacao-forge runs list|show|resume|cancel|answer`.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use cacao_forge::execute::bundle::load_bundle;
use cacao_forge::execute::connector::manual::{Answer, Decision};
use cacao_forge::execute::connector::ConnectorSettings;
use cacao_forge::execute::engine::{Engine, RunReport, RunRequest};
use cacao_forge::execute::event::{Event, RunStatus};
use cacao_forge::execute::policy::ExecutionPolicy;
use cacao_forge::execute::store::{Durability, Store, StoreOperator};
use cacao_forge::execute::Connectors;
use clap::{Args, Subcommand};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{LimitArgs, Outcome};

/// Where runs are stored, shared by `run` and `runs`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// The run store (SQLite file). Default: $XDG_DATA_HOME/cacao-forge/runs.db or
    /// ~/.local/share/cacao-forge/runs.db.
    #[arg(long, env = "CACAO_FORGE_DB", global = true)]
    db: Option<PathBuf>,
    /// normal: a killed process loses nothing committed; full: also a power cut (slower).
    #[arg(long, value_enum, default_value = "normal", global = true)]
    durability: DurabilityArg,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DurabilityArg {
    Normal,
    Full,
}

/// The engine's settings, shared by `run` and `runs resume`.
#[derive(Debug, Clone, Default, Args)]
pub struct EngineArgs {
    /// Policy file (JSON): approval, allowed_targets, target_concurrency, retry, limits, and
    /// `connectors` (bash/powershell program, working_dir, env). Flags below override it.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Answer every approval and manual question with approve.
    #[arg(long)]
    approve_all: bool,
    /// Only act on these targets (ids or addresses, `*` globs); repeatable.
    #[arg(long = "allow-target")]
    allow_target: Vec<String>,
    /// Most steps acting on one target at once.
    #[arg(long)]
    target_concurrency: Option<usize>,
    /// Most iterations of one while-condition step.
    #[arg(long)]
    max_while_iterations: Option<u32>,
    /// Attempts per command that fails for a transient reason (1: no retry).
    #[arg(long)]
    retries: Option<u32>,
    /// Who runs or resumes it (audit). Default: $USER.
    #[arg(long = "by")]
    by: Option<String>,
    /// Print no live progress.
    #[arg(long, short)]
    quiet: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The playbook to run.
    playbook: PathBuf,
    /// Walk the whole workflow and print the exact commands and targets; touch nothing.
    #[arg(long)]
    dry_run: bool,
    /// A value for a declared playbook variable: `__name__=value` (or `name=value`); repeatable.
    #[arg(long = "var")]
    vars: Vec<String>,
    /// Directory of playbooks that playbook-action steps may call (found by id).
    #[arg(long)]
    playbooks: Option<PathBuf>,
    /// The run's id (default: a new UUID).
    #[arg(long)]
    run_id: Option<String>,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    command: RunsCommand,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// The newest runs.
    List {
        /// Only runs in this state (running, waiting, succeeded, failed, cancelled).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// A run's audit trail: every event, and the questions waiting for an answer.
    Show {
        run_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Continue a run whose process stopped, without re-running finished steps.
    Resume {
        run_id: String,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Stop a run (at its next step; commands in flight are killed).
    Cancel { run_id: String },
    /// Answer a question a run waits on (its key is in `runs show`).
    Answer {
        run_id: String,
        key: String,
        /// approve, deny, or value (with --value).
        #[arg(value_parser = ["approve", "deny", "value"])]
        decision: String,
        #[arg(long)]
        value: Option<String>,
        /// Who answers. Default: $USER.
        #[arg(long = "by")]
        by: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
}

/// A policy file: the policy itself plus the connectors' settings.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct PolicyFile {
    #[serde(flatten)]
    policy: ExecutionPolicy,
    connectors: ConnectorSettings,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}

fn user(by: &Option<String>) -> String {
    by.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into())
}

fn db_path(args: &StoreArgs) -> PathBuf {
    if let Some(p) = &args.db {
        return p.clone();
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("cacao-forge").join("runs.db")
}

async fn open_store(args: &StoreArgs) -> Result<Store> {
    let durability = match args.durability {
        DurabilityArg::Normal => Durability::Normal,
        DurabilityArg::Full => Durability::Full,
    };
    Ok(Store::open(&db_path(args), durability).await?)
}

fn load_policy(args: &EngineArgs) -> Result<(ExecutionPolicy, ConnectorSettings)> {
    let mut file = match &args.policy {
        Some(p) => {
            let bytes = super::read_limited(p, 1 << 20)?;
            serde_json::from_slice::<PolicyFile>(&bytes)
                .with_context(|| format!("{}: not a valid policy", p.display()))?
        }
        None => PolicyFile::default(),
    };
    let p = &mut file.policy;
    p.approve_all |= args.approve_all;
    if !args.allow_target.is_empty() {
        p.allowed_targets.get_or_insert_with(Vec::new).extend(args.allow_target.iter().cloned());
    }
    if let Some(n) = args.target_concurrency {
        p.target_concurrency = Some(n);
    }
    if let Some(n) = args.max_while_iterations {
        p.max_while_iterations = n;
    }
    if let Some(n) = args.retries {
        p.retry.max_attempts = n.max(1);
    }
    Ok((file.policy, file.connectors))
}

fn engine(args: &EngineArgs, store: Option<Store>) -> Result<Engine> {
    let (policy, settings) = load_policy(args)?;
    let operator: Arc<dyn cacao_forge::execute::connector::manual::Operator> = match &store {
        Some(s) => Arc::new(StoreOperator { store: s.clone(), poll: Duration::from_millis(250) }),
        None => Arc::new(cacao_forge::execute::connector::manual::ApproveAll),
    };
    let connectors = Connectors::standard(&settings, operator.clone()).context("cannot set up the connectors")?;
    let mut engine = Engine::new(connectors, operator, store, policy);
    if !args.quiet && !args.json {
        engine = engine.with_progress(Arc::new(|run: &str, e: &Event| {
            let short: String = run.chars().take(8).collect();
            eprintln!("[{short}] {}", e.describe());
            if let Event::Asked { key, .. } = e {
                eprintln!(
                    "[{short}]   answer with: cacao-forge runs answer {run} '{key}' approve|deny|value --value V"
                );
            }
        }));
    }
    Ok(engine)
}

fn parse_vars(vars: &[String]) -> Result<IndexMap<String, String>> {
    let mut out = IndexMap::new();
    for v in vars {
        let Some((name, value)) = v.split_once('=') else { bail!("--var {v}: expected name=value") };
        let name = name.trim();
        let name = if name.starts_with("__") { name.to_owned() } else { format!("__{name}__") };
        out.insert(name, value.to_owned());
    }
    Ok(out)
}

pub fn run(args: RunArgs) -> Result<Outcome> {
    let rt = runtime()?;
    rt.block_on(async move {
        let (policy, _) = load_policy(&args.engine)?;
        let bundle = load_bundle(&args.playbook, args.playbooks.as_deref(), &args.limits.limits(), policy.max_depth)?;
        let store = if args.dry_run { None } else { Some(open_store(&args.store).await?) };
        let engine = engine(&args.engine, store)?;
        let request = RunRequest {
            bundle,
            variables: parse_vars(&args.vars)?,
            started_by: user(&args.engine.by),
            dry_run: args.dry_run,
            run_id: args.run_id.clone(),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = tokio::spawn({
            let (engine, stop) = (engine.clone(), stop.clone());
            async move { engine.watch_cancellations(stop, Duration::from_millis(500)).await }
        });
        let result = engine.run(request).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        watcher.abort();
        let report = match result {
            Ok(r) => r,
            Err(cacao_forge::execute::engine::EngineError::Rejected(problems)) => {
                eprintln!("the playbook cannot run:\n{}", problems.join("\n"));
                return Ok(Outcome::Rejected);
            }
            Err(e) => return Err(e.into()),
        };
        print_report(&report, args.dry_run, args.engine.json)
    })
}

fn print_report(report: &RunReport, dry_run: bool, json: bool) -> Result<Outcome> {
    if json {
        let v = serde_json::json!({
            "run_id": report.run_id, "status": report.status, "detail": report.detail,
            "events": report.events, "not_reached": report.not_reached, "warnings": report.warnings,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if dry_run {
        report.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
        println!("Dry run: nothing was executed. The commands as they would run:");
        for e in &report.events {
            match e {
                Event::CommandStarted { instance, command_type, rendered, .. } => {
                    println!(
                        "- {instance} [{command_type}] on {}:\n    {}",
                        rendered.target,
                        rendered.text.replace('\n', "\n    ")
                    );
                    if !rendered.undefined.is_empty() {
                        println!("    (undefined: {})", rendered.undefined.join(", "));
                    }
                }
                Event::Asked { instance, question, .. } => {
                    println!(
                        "- {instance} would ask a person ({}): {}",
                        question.reason,
                        question.text.replace('\n', "\n    ")
                    )
                }
                Event::Decided { instance, condition, value, next } => {
                    println!("- {instance}: `{condition}` is {value} now -> {}", next.as_deref().unwrap_or("(nothing)"))
                }
                Event::StepFinished { instance, success: false, detail, .. } => {
                    println!("- {instance} would FAIL: {detail}")
                }
                _ => {}
            }
        }
        if !report.not_reached.is_empty() {
            println!("Not reached on this walk (branches not taken, failure paths): {}", report.not_reached.join(", "));
        }
        println!("Dry run {}: {}", report.status.as_str(), report.detail);
    } else {
        report.warnings.iter().for_each(|w| eprintln!("warning: {w}"));
        println!("run {} {}: {}", report.run_id, report.status.as_str(), report.detail);
    }
    Ok(match report.status {
        RunStatus::Succeeded => Outcome::Success,
        _ => Outcome::Rejected,
    })
}

pub fn runs(args: RunsArgs) -> Result<Outcome> {
    let rt = runtime()?;
    rt.block_on(async move {
        let store = open_store(&args.store).await?;
        match args.command {
            RunsCommand::List { status, limit, json } => {
                let status = match status.as_deref() {
                    Some(s) => Some(RunStatus::parse(s).with_context(|| format!("--status {s}: not a run status"))?),
                    None => None,
                };
                let runs = store.runs(status, limit).await?;
                if json {
                    let rows: Vec<serde_json::Value> = runs
                        .iter()
                        .map(|r| serde_json::json!({"run_id": r.run_id, "status": r.status, "playbook_id": r.playbook_id,
                            "playbook_name": r.playbook_name, "started_by": r.started_by, "created_at": r.created_at, "updated_at": r.updated_at}))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&rows)?);
                } else {
                    for r in &runs {
                        println!("{}  {:<9}  {}  {}  by {}", r.run_id, r.status.as_str(), r.created_at, r.playbook_name, r.started_by);
                    }
                }
                Ok(Outcome::Success)
            }
            RunsCommand::Show { run_id, json } => {
                let run = store.run(&run_id).await?;
                let events = store.events(&run_id).await?;
                let answered: std::collections::HashSet<&str> = events
                    .iter()
                    .filter_map(|e| match &e.event {
                        Event::Answered { key, .. } => Some(key.as_str()),
                        _ => None,
                    })
                    .collect();
                let pending: Vec<&Event> = events
                    .iter()
                    .map(|e| &e.event)
                    .filter(|e| matches!(e, Event::Asked { key, .. } if !answered.contains(key.as_str())))
                    .collect();
                if json {
                    let v = serde_json::json!({"run": {"run_id": run.run_id, "status": run.status, "playbook_id": run.playbook_id,
                        "playbook_name": run.playbook_name, "started_by": run.started_by, "created_at": run.created_at,
                        "updated_at": run.updated_at, "owner_pid": run.owner_pid, "owner_host": run.owner_host,
                        "cancel_requested": run.cancel_requested}, "events": events, "pending_questions": pending});
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else {
                    println!("run {} ({}): {} [{}], started by {} at {}", run.run_id, run.status.as_str(), run.playbook_name, run.playbook_id, run.started_by, run.created_at);
                    for e in &events {
                        println!("{:>5} {} {}", e.seq, e.at, e.event.describe());
                        if let Event::CommandFinished { outcome, .. } = &e.event {
                            for (label, text) in [("out", &outcome.output), ("err", &outcome.error_output)] {
                                for line in text.lines().take(20) {
                                    println!("               {label}| {line}");
                                }
                            }
                        }
                    }
                    for p in pending {
                        if let Event::Asked { key, question, .. } = p {
                            println!("WAITING {key}: {}", question.text);
                        }
                    }
                }
                Ok(Outcome::Success)
            }
            RunsCommand::Resume { run_id, engine: eargs } => {
                let engine = engine(&eargs, Some(store))?;
                let stop = Arc::new(AtomicBool::new(false));
                let watcher = tokio::spawn({
                    let (engine, stop) = (engine.clone(), stop.clone());
                    async move { engine.watch_cancellations(stop, Duration::from_millis(500)).await }
                });
                let result = engine.resume(&run_id, &user(&eargs.by)).await;
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                watcher.abort();
                print_report(&result?, false, eargs.json)
            }
            RunsCommand::Cancel { run_id } => {
                let run = store.run(&run_id).await?;
                if run.status.is_final() {
                    println!("run {run_id} has already ended ({})", run.status.as_str());
                    return Ok(Outcome::Rejected);
                }
                store.request_cancel(&run_id).await?;
                // A run whose process is gone is ended here (a resume that stops at once);
                // a live one is stopped by its own process at its next step.
                let quiet = EngineArgs { quiet: true, ..EngineArgs::default() };
                match engine(&quiet, Some(store))?.resume(&run_id, &user(&None)).await {
                    Ok(report) => println!("run {run_id} {}: its process was gone, so it was ended here", report.status.as_str()),
                    Err(_) => println!("run {run_id}: cancel requested; its process stops it at the next step"),
                }
                Ok(Outcome::Success)
            }
            RunsCommand::Answer { run_id, key, decision, value, by, note } => {
                let decision = match (decision.as_str(), value) {
                    ("approve", _) => Decision::Approve,
                    ("deny", _) => Decision::Deny,
                    ("value", Some(v)) => Decision::Value(v),
                    _ => bail!("`value` needs --value V"),
                };
                let answer = Answer { decision, by: user(&by), note };
                if store.put_answer(&run_id, &key, &answer).await? {
                    println!("answered {key} of run {run_id}: {}", answer.decision.describe());
                    Ok(Outcome::Success)
                } else {
                    println!("{key} of run {run_id} was already answered; the first answer stands");
                    Ok(Outcome::Rejected)
                }
            }
        }
    })
}
