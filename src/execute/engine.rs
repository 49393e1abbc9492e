//! The engine: walks a playbook's workflow, runs its commands through connectors, and writes
//! every transition to the run store before acting on it.
//!
//! ## Semantics (our reading of CACAO 2.0, section 4)
//! - A *flow* follows links from a step until an `end` step, a step with nowhere to go, or a
//!   *stop* step (a join). `end` ends its flow: the playbook at the top level, a branch inside
//!   an if/switch/while/parallel step.
//! - action: its commands run in order against each of its targets (or its agent when it names
//!   no target); the first failing command fails the step. Success goes to `on_success`, else
//!   `on_completion`; failure goes to `on_failure`. A failure with no `on_failure` is an
//!   exception: it fails the enclosing branch, and at the top the run, after running the
//!   `workflow_exception` flow if there is one. (`on_completion` alone does not swallow a
//!   failure: a SOC would not want the next containment step to run after one failed.)
//! - if-condition / switch-condition: the chosen branch runs as a flow that stops at the
//!   step's `on_completion` (so branches that meet there run it once), then `on_completion`.
//! - while-condition: while the condition holds (at most `max_while_iterations` times) the
//!   `on_true` flow runs, stopping when it comes back to the while step or reaches
//!   `on_completion`; then `on_completion`.
//! - parallel: every `next_steps` branch runs concurrently; where all branches meet (the first
//!   step reachable from each) they join, and the join runs once after all of them; without a
//!   join, `on_completion` follows. A failed branch fails the parallel step (after the others end).
//! - playbook-action: the sub-playbook (found by id in the bundle) runs with its own variables;
//!   `in_args` are copied in, `out_args` copied back. Depth is limited.
//! - `delay` waits before a step; `timeout` bounds it (commands get what is left). Values:
//!   milliseconds. `step_extensions` are ignored.
//! - Variables: playbook variables, `--var` overrides, step variables over them; out_args are
//!   captured from command output (see [`capture_out_args`]).
//!
//! ## Durability
//! Every event goes to the journal; before a command runs or a person is asked, the journal is
//! flushed. A resumed run re-walks the workflow from the start with the recorded events as a
//! memo: a finished step instance is not run again (its variable changes are replayed); a
//! finished command is not run again; a command that started but has no recorded end ran or
//! not when the process died, so it is run again with the **same idempotency key**, which is
//! what lets its target drop the duplicate.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use indexmap::IndexMap;
use serde_json::Value;

use super::connector::manual::{outcome_of, Answer, Decision, Operator, Question};
use super::connector::{
    BoxFuture, CommandOutcome, CommandRequest, ConnectorError, Connectors, RenderedCommand, Target,
};
use super::event::{Event, RunStatus};
use super::policy::{ApprovalMode, DestructiveClassifier, ExecutionPolicy, FreeTextConditions, TargetLocks};
use super::store::{now, RunRecord, Store, StoreError};
use super::variables::Variables;
use crate::cacao::condition::Condition;
use crate::cacao::model::{ActionStep, CommandData, Playbook, PlaybookActionStep, WorkflowStep};

/// A playbook and the sub-playbooks it calls (by id), as documents.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bundle {
    pub main: Value,
    #[serde(default)]
    pub subs: IndexMap<String, Value>,
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub bundle: Bundle,
    /// `--var name=value`: values for declared variables.
    pub variables: IndexMap<String, String>,
    /// Who starts it (audit).
    pub started_by: String,
    /// Walk and render only; touch nothing, store nothing.
    pub dry_run: bool,
    /// The run's id; a new UUID when unset.
    pub run_id: Option<String>,
}

/// How a run ended, and what it recorded in this process.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub run_id: String,
    pub status: RunStatus,
    pub detail: String,
    /// The events this process recorded (a resumed run: only the new ones).
    pub events: Vec<Event>,
    /// Steps of the workflow the walk never reached (dry runs list them for the reviewer).
    pub not_reached: Vec<String>,
    /// What the check before the run warned of (steps whose command type has no connector).
    pub warnings: Vec<String>,
}

/// Why a run could not start or resume.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the playbook cannot run:\n{}", .0.join("\n"))]
    Rejected(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("run {run_id} cannot be resumed: {reason}")]
    NotResumable { run_id: String, reason: String },
    #[error("the run could not be recorded: {0}")]
    Journal(String),
}

impl From<Abort> for EngineError {
    fn from(a: Abort) -> EngineError {
        EngineError::Journal(describe(&a))
    }
}

/// Called with every event as it is recorded (live progress).
pub type Progress = Arc<dyn Fn(&str, &Event) + Send + Sync>;

/// The execution engine. Cheap to clone; one engine serves many concurrent runs.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
    progress: Option<Progress>,
}

struct EngineInner {
    connectors: Connectors,
    operator: Arc<dyn Operator>,
    store: Option<Store>,
    policy: ExecutionPolicy,
    classifier: DestructiveClassifier,
    locks: TargetLocks,
    /// Runs asked to stop (from the store's cancel requests or [`Engine::cancel`]).
    cancelled: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("connectors", &self.inner.connectors)
            .field("policy", &self.inner.policy)
            .finish()
    }
}

impl Engine {
    /// An engine with these connectors, this operator for approvals and conditions, an optional
    /// store (no store: events are kept in memory only), and a policy.
    pub fn new(
        connectors: Connectors,
        operator: Arc<dyn Operator>,
        store: Option<Store>,
        policy: ExecutionPolicy,
    ) -> Engine {
        let locks = TargetLocks::new(policy.target_concurrency);
        Engine {
            inner: Arc::new(EngineInner {
                connectors,
                operator,
                store,
                policy,
                classifier: DestructiveClassifier::default(),
                locks,
                cancelled: Mutex::new(HashSet::new()),
            }),
            progress: None,
        }
    }

    /// The same engine, reporting every event to `progress`.
    pub fn with_progress(mut self, progress: Progress) -> Engine {
        self.progress = Some(progress);
        self
    }

    pub fn policy(&self) -> &ExecutionPolicy {
        &self.inner.policy
    }

    pub fn store(&self) -> Option<&Store> {
        self.inner.store.as_ref()
    }

    /// Stops `run_id` at its next step (commands in flight are dropped, which kills them).
    pub fn cancel(&self, run_id: &str) {
        self.inner.cancelled.lock().unwrap_or_else(|p| p.into_inner()).insert(run_id.to_owned());
    }

    /// Checks a bundle before it runs: every playbook valid, conditions readable (unless the
    /// policy routes free text to a person), sub-playbooks present. Warnings (command types
    /// without a connector: those steps will fail and take their on_failure path) are returned.
    pub fn preflight(&self, bundle: &Bundle) -> Result<Vec<String>, EngineError> {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        let ask = self.inner.policy.free_text_conditions == FreeTextConditions::Ask;
        let mut docs: Vec<(String, &Value)> = vec![("playbook".to_owned(), &bundle.main)];
        docs.extend(bundle.subs.iter().map(|(id, d)| (format!("sub-playbook {id}"), d)));
        for (label, doc) in &docs {
            let report = crate::cacao::validate(doc);
            for f in report.errors() {
                if ask && f.code == "semantic.condition-unreadable" {
                    continue;
                }
                let at = if f.pointer.is_empty() { "(document)" } else { f.pointer.as_str() };
                problems.push(format!("{label}: {} at {at}: {}", f.code, f.message));
            }
            let Ok(pb) = Playbook::from_document(doc) else { continue };
            for (id, step) in pb.workflow.iter().flatten() {
                if let WorkflowStep::Action(a) = step {
                    for (i, c) in a.commands.iter().flatten().enumerate() {
                        let t = c.command_type.as_ref().map(|t| t.as_str().to_owned()).unwrap_or_default();
                        if self.inner.connectors.get(&t).is_err() {
                            warnings.push(format!(
                                "{label}: /workflow/{id}/commands/{i}: no connector runs command type `{t}`; the step will fail"
                            ));
                        }
                    }
                }
                if let WorkflowStep::PlaybookAction(p) = step {
                    let target = p.playbook_id.as_ref().map(|i| i.as_str().to_owned()).unwrap_or_default();
                    if !bundle.subs.contains_key(&target) {
                        problems.push(format!(
                            "{label}: /workflow/{id}/playbook_id: playbook `{target}` is not among the playbooks given (--playbooks DIR)"
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(warnings)
        } else {
            Err(EngineError::Rejected(problems))
        }
    }

    /// Starts a run and drives it to its end (or to a pause: a cancelled run, a stopped process).
    pub async fn run(&self, request: RunRequest) -> Result<RunReport, EngineError> {
        let warnings = self.preflight(&request.bundle)?;
        let main =
            Playbook::from_document(&request.bundle.main).map_err(|e| EngineError::Rejected(vec![e.to_string()]))?;
        let mut vars = playbook_variables(&main, &request.bundle.main).map_err(|e| EngineError::Rejected(vec![e]))?;
        for (name, value) in &request.variables {
            if vars.get(name).is_none() {
                return Err(EngineError::Rejected(vec![format!(
                    "--var {name}: the playbook declares no variable {name}"
                )]));
            }
            vars.set(name, value).map_err(|e| EngineError::Rejected(vec![format!("--var {e}")]))?;
        }
        let run_id = request.run_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let store = if request.dry_run { None } else { self.inner.store.clone() };
        if let Some(store) = &store {
            let record = RunRecord {
                run_id: run_id.clone(),
                playbook_id: main.id.as_ref().map(|i| i.as_str().to_owned()).unwrap_or_default(),
                playbook_name: main.name.clone().unwrap_or_default(),
                bundle: serde_json::to_value(&request.bundle).unwrap_or(Value::Null),
                options: serde_json::json!({"variables": request.variables, "policy": self.inner.policy}),
                status: RunStatus::Running,
                started_by: request.started_by.clone(),
                created_at: now(),
                updated_at: now(),
                owner_pid: Some(i64::from(std::process::id())),
                owner_host: Some(host_name()),
                cancel_requested: false,
            };
            store.create_run(&record).await?;
        }
        let ctx = RunCtx::new(self.clone(), run_id, store, request.dry_run, request.bundle, Replay::default(), 0);
        ctx.record(Event::RunStarted {
            playbook_id: main.id.as_ref().map(|i| i.as_str().to_owned()).unwrap_or_default(),
            playbook_name: main.name.clone().unwrap_or_default(),
            started_by: request.started_by,
            variables: request.variables,
        })
        .await?;
        let mut report = ctx.drive(Arc::new(main), vars).await;
        report.warnings = warnings;
        Ok(report)
    }

    /// Resumes a run whose process stopped (killed, crashed, the machine rebooted): replays its
    /// log and continues where it was, without re-running finished steps.
    pub async fn resume(&self, run_id: &str, resumed_by: &str) -> Result<RunReport, EngineError> {
        let store = self.inner.store.clone().ok_or_else(|| EngineError::NotResumable {
            run_id: run_id.to_owned(),
            reason: "the engine has no run store".into(),
        })?;
        let record = store.run(run_id).await?;
        let not = |reason: String| EngineError::NotResumable { run_id: run_id.to_owned(), reason };
        if record.status.is_final() {
            return Err(not(format!("it has ended ({})", record.status.as_str())));
        }
        if let (Some(pid), Some(host)) = (record.owner_pid, &record.owner_host) {
            if host == &host_name() && pid != i64::from(std::process::id()) && process_alive(pid) {
                return Err(not(format!("process {pid} on this host is still running it")));
            }
        }
        let bundle: Bundle = serde_json::from_value(record.bundle.clone())
            .map_err(|e| not(format!("its stored playbook is unreadable: {e}")))?;
        let events = store.events(run_id).await?;
        let last_seq = events.last().map_or(0, |e| e.seq);
        let replay = Replay::from_events(events.iter().map(|e| &e.event));
        let main = Playbook::from_document(&bundle.main).map_err(|e| not(e.to_string()))?;
        let mut vars = playbook_variables(&main, &bundle.main).map_err(not)?;
        for (name, value) in &replay.start_variables {
            vars.set(name, value).map_err(|e| not(e.to_string()))?;
        }
        store.claim(run_id, std::process::id(), &host_name()).await?;
        let ctx = RunCtx::new(self.clone(), run_id.to_owned(), Some(store.clone()), false, bundle, replay, last_seq);
        ctx.record(Event::RunResumed { resumed_by: resumed_by.to_owned(), pid: std::process::id() }).await?;
        if record.cancel_requested {
            self.cancel(run_id);
        }
        Ok(ctx.drive(Arc::new(main), vars).await)
    }

    /// Polls the store for cancel requests until `stop` is set (run it beside long runs).
    pub async fn watch_cancellations(&self, stop: Arc<AtomicBool>, every: Duration) {
        let Some(store) = self.inner.store.clone() else { return };
        while !stop.load(Ordering::Relaxed) {
            if let Ok(ids) = store.cancel_requests().await {
                for id in ids {
                    self.cancel(&id);
                }
            }
            tokio::time::sleep(every).await;
        }
    }

    fn is_cancelled(&self, run_id: &str) -> bool {
        self.inner.cancelled.lock().unwrap_or_else(|p| p.into_inner()).contains(run_id)
    }
}

/// The variables a playbook declares.
fn playbook_variables(pb: &Playbook, doc: &Value) -> Result<Variables, String> {
    match (&pb.playbook_variables, doc.get("playbook_variables")) {
        (Some(_), Some(v)) => Variables::from_json(v, "/playbook_variables").map_err(|e| e.to_string()),
        _ => Ok(Variables::default()),
    }
}

/// This machine's name (for the run's owner).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

/// Whether process `pid` exists on this machine.
fn process_alive(pid: i64) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = i32::try_from(pid) else { return false };
        // SAFETY: kill(2) with signal 0 only checks that the process exists and may be signalled.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// What a previous process of this run recorded, by step instance.
#[derive(Debug, Default)]
struct Replay {
    start_variables: IndexMap<String, String>,
    steps: HashMap<String, StepEnd>,
    /// (instance, command index) -> the last record of it.
    commands: HashMap<(String, usize), CommandRecord>,
    answers: HashMap<String, Answer>,
}

#[derive(Debug, Clone)]
enum CommandRecord {
    /// Started, no end recorded: in doubt.
    Started {
        attempt: u32,
    },
    Finished(CommandOutcome),
    Failed {
        attempt: u32,
        error: String,
        transient: bool,
    },
}

impl Replay {
    fn from_events<'a>(events: impl Iterator<Item = &'a Event>) -> Replay {
        let mut r = Replay::default();
        for e in events {
            match e {
                Event::RunStarted { variables, .. } => r.start_variables = variables.clone(),
                Event::CommandStarted { instance, index, attempt, .. } => {
                    r.commands.insert((instance.clone(), *index), CommandRecord::Started { attempt: *attempt });
                }
                Event::CommandFinished { instance, index, outcome, .. } => {
                    r.commands.insert((instance.clone(), *index), CommandRecord::Finished(outcome.clone()));
                }
                Event::CommandFailed { instance, index, attempt, error, transient, .. } => {
                    let rec = CommandRecord::Failed { attempt: *attempt, error: error.clone(), transient: *transient };
                    r.commands.insert((instance.clone(), *index), rec);
                }
                Event::Answered { key, answer, .. } => {
                    r.answers.insert(key.clone(), answer.clone());
                }
                Event::StepFinished { instance, success, detail, set, .. } => {
                    let end = StepEnd { success: *success, detail: detail.clone(), set: set.clone() };
                    r.steps.insert(instance.clone(), end);
                }
                _ => {}
            }
        }
        r
    }
}

/// How a flow ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FlowEnd {
    /// An end step, or a step with nowhere to go.
    Ended,
    /// A stop step (join, loop head, on_completion of the enclosing branch), not run.
    Stopped(String),
}

/// Why a flow stopped early.
#[derive(Debug, Clone)]
enum Abort {
    /// A step failed and nothing handled it.
    Failed {
        instance: String,
        reason: String,
    },
    Cancelled,
    /// The run cannot go on (store failure, a limit).
    Fatal(String),
}

/// How a step ended: its success, what it did or why it failed, the variables it set.
#[derive(Debug, Clone)]
struct StepEnd {
    success: bool,
    detail: String,
    set: IndexMap<String, String>,
}

/// One playbook's scope in a run (the main playbook or a sub-playbook call).
struct Scope {
    playbook: Arc<Playbook>,
    vars: Mutex<Variables>,
    depth: u32,
}

impl Scope {
    fn vars(&self) -> Variables {
        self.vars.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, name: &str, value: &str) -> Result<(), String> {
        self.vars.lock().unwrap_or_else(|p| p.into_inner()).set(name, value).map_err(|e| e.to_string())
    }
}

/// One run in this process.
struct RunCtx {
    engine: Engine,
    run_id: String,
    store: Option<Store>,
    dry_run: bool,
    bundle: Bundle,
    replay: Replay,
    seq: AtomicI64,
    steps: AtomicU64,
    events: Mutex<Vec<Event>>,
    /// How often each instance key has been used (a step reached twice in one scope).
    occurrences: Mutex<HashMap<String, u32>>,
    visited: Mutex<HashSet<String>>,
}

impl RunCtx {
    fn new(
        engine: Engine,
        run_id: String,
        store: Option<Store>,
        dry_run: bool,
        bundle: Bundle,
        replay: Replay,
        seq: i64,
    ) -> Arc<RunCtx> {
        Arc::new(RunCtx {
            engine,
            run_id,
            store,
            dry_run,
            bundle,
            replay,
            seq: AtomicI64::new(seq),
            steps: AtomicU64::new(0),
            events: Mutex::new(Vec::new()),
            occurrences: Mutex::new(HashMap::new()),
            visited: Mutex::new(HashSet::new()),
        })
    }

    fn policy(&self) -> &ExecutionPolicy {
        &self.engine.inner.policy
    }

    fn question_timeout(&self) -> Duration {
        Duration::from_millis(self.policy().question_timeout_ms)
    }

    async fn record(&self, event: Event) -> Result<(), Abort> {
        if let Some(p) = &self.engine.progress {
            p(&self.run_id, &event);
        }
        if let Some(store) = &self.store {
            let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
            store.journal().append(&self.run_id, seq, &event).await.map_err(|e| Abort::Fatal(e.to_string()))?;
        }
        self.events.lock().unwrap_or_else(|p| p.into_inner()).push(event);
        Ok(())
    }

    /// Makes everything recorded so far durable (before acting on the world).
    async fn flush(&self) -> Result<(), Abort> {
        match &self.store {
            Some(store) => store.journal().flush().await.map_err(|e| Abort::Fatal(e.to_string())),
            None => Ok(()),
        }
    }

    async fn set_status(&self, status: RunStatus) {
        if let Some(store) = &self.store {
            let _ = store.journal().set_status(&self.run_id, status).await;
        }
    }

    fn instance(&self, prefix: &str, step_id: &str) -> String {
        let key = format!("{prefix}{step_id}");
        let mut occ = self.occurrences.lock().unwrap_or_else(|p| p.into_inner());
        let n = occ.entry(key.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            key
        } else {
            format!("{key}@{n}")
        }
    }

    /// Runs the main flow, the exception flow if it fails, and records the end.
    async fn drive(self: Arc<Self>, main: Arc<Playbook>, vars: Variables) -> RunReport {
        let scope = Scope { playbook: main.clone(), vars: Mutex::new(vars), depth: 0 };
        let start = main.workflow_start.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default();
        let result = self.run_flow(&scope, start, String::new(), Vec::new()).await;
        let (status, detail) = match result {
            Ok(_) => (RunStatus::Succeeded, "the workflow reached its end".to_owned()),
            Err(Abort::Failed { instance, reason }) => {
                let mut detail = format!("step {instance} failed: {reason}");
                if let Some(exc) = main.workflow_exception.as_ref().map(|s| s.as_str().to_owned()) {
                    match self.run_flow(&scope, exc.clone(), "exception/".into(), Vec::new()).await {
                        Ok(_) => detail.push_str(&format!("; the exception flow from {exc} ran")),
                        Err(e) => {
                            detail.push_str(&format!("; the exception flow from {exc} failed too: {}", describe(&e)))
                        }
                    }
                }
                (RunStatus::Failed, detail)
            }
            Err(Abort::Cancelled) => (RunStatus::Cancelled, "cancelled".to_owned()),
            Err(Abort::Fatal(reason)) => (RunStatus::Failed, reason),
        };
        let _ = self.record(Event::RunFinished { status, detail: detail.clone() }).await;
        self.set_status(status).await;
        let _ = self.flush().await;
        let visited = self.visited.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let not_reached =
            main.workflow.iter().flatten().map(|(id, _)| id.clone()).filter(|id| !visited.contains(id)).collect();
        let events = std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()));
        RunReport { run_id: self.run_id.clone(), status, detail, events, not_reached, warnings: Vec::new() }
    }

    /// Follows links from `start` until the flow ends or reaches one of `stops`.
    fn run_flow<'a>(
        &'a self,
        scope: &'a Scope,
        start: String,
        prefix: String,
        stops: Vec<String>,
    ) -> BoxFuture<'a, Result<FlowEnd, Abort>> {
        Box::pin(async move {
            let mut current = start;
            loop {
                if stops.contains(&current) {
                    return Ok(FlowEnd::Stopped(current));
                }
                if self.engine.is_cancelled(&self.run_id) {
                    return Err(Abort::Cancelled);
                }
                let Some(step) = scope.playbook.workflow.as_ref().and_then(|w| w.get(&current)) else {
                    return Err(Abort::Fatal(format!("step `{current}` is not in the workflow")));
                };
                if self.steps.fetch_add(1, Ordering::Relaxed) >= self.policy().max_steps {
                    return Err(Abort::Fatal(format!(
                        "more than {} steps: stopped (policy max_steps)",
                        self.policy().max_steps
                    )));
                }
                if scope.depth == 0 {
                    self.visited.lock().unwrap_or_else(|p| p.into_inner()).insert(current.clone());
                }
                let instance = self.instance(&prefix, &current);
                match self.run_step(scope, &current, step, &instance, &prefix).await? {
                    Some(next) => current = next,
                    None => return Ok(FlowEnd::Ended),
                }
            }
        })
    }

    /// Runs one step; returns the next step of its flow.
    async fn run_step(
        &self,
        scope: &Scope,
        id: &str,
        step: &WorkflowStep,
        instance: &str,
        prefix: &str,
    ) -> Result<Option<String>, Abort> {
        let common = step.common();
        let link = |o: &Option<crate::cacao::Identifier>| o.as_ref().map(|s| s.as_str().to_owned());
        let on_completion = link(&common.on_completion);
        // The outcome of the step itself, and for branching steps where their branches lead.
        let end: StepEnd = match step {
            WorkflowStep::Start(_) => return Ok(on_completion),
            WorkflowStep::End(_) => {
                self.finish_pure(instance, id, "end").await?;
                return Ok(None);
            }
            WorkflowStep::Action(a) => {
                self.settle(scope, id, instance, self.action_body(scope, id, a, instance)).await?
            }
            WorkflowStep::PlaybookAction(p) => {
                self.settle(scope, id, instance, self.sub_playbook_body(scope, p, instance)).await?
            }
            WorkflowStep::IfCondition(s) => {
                let value = self.decide(scope, instance, s.condition.as_deref().unwrap_or("")).await;
                match value {
                    Ok(v) => {
                        let branch = if v { link(&s.on_true) } else { link(&s.on_false) };
                        self.record_decision(instance, s.condition.as_deref().unwrap_or(""), &v.to_string(), &branch)
                            .await?;
                        self.run_branch(scope, branch, prefix, on_completion.clone()).await?
                    }
                    Err(reason) => StepEnd { success: false, detail: reason, set: IndexMap::new() },
                }
            }
            WorkflowStep::SwitchCondition(s) => {
                let expr = s.switch.as_deref().unwrap_or("");
                let value = switch_value(&scope.vars(), expr);
                let cases = s.cases.as_ref();
                let branch =
                    cases.and_then(|c| c.get(&value).or_else(|| c.get("default"))).map(|s| s.as_str().to_owned());
                self.record_decision(instance, expr, &value, &branch).await?;
                self.run_branch(scope, branch, prefix, on_completion.clone()).await?
            }
            WorkflowStep::WhileCondition(s) => self.run_while(scope, id, s, instance, on_completion.clone()).await?,
            WorkflowStep::Parallel(p) => {
                let branches: Vec<String> = p.next_steps.iter().flatten().map(|s| s.as_str().to_owned()).collect();
                let join = find_join(&scope.playbook, &branches);
                let mut stops: Vec<String> = join.iter().cloned().collect();
                stops.extend(on_completion.iter().cloned());
                let flows = branches.iter().map(|b| self.run_flow(scope, b.clone(), prefix.to_owned(), stops.clone()));
                let results = futures_util::future::join_all(flows).await;
                let mut failed = None;
                for r in results {
                    match r {
                        Ok(_) => {}
                        Err(Abort::Failed { instance, reason }) => {
                            failed.get_or_insert(format!("branch step {instance} failed: {reason}"));
                        }
                        Err(other) => return Err(other),
                    }
                }
                match failed {
                    Some(reason) => StepEnd { success: false, detail: reason, set: IndexMap::new() },
                    None => {
                        self.finish_pure(instance, id, "all branches ended").await?;
                        return Ok(join.or(on_completion));
                    }
                }
            }
            WorkflowStep::Other(_) => StepEnd {
                success: false,
                detail: format!("step type `{}` is not CACAO 2.0; nothing can run it", step.type_name()),
                set: IndexMap::new(),
            },
        };
        if end.success {
            let next = link(&common.on_success).or(on_completion);
            Ok(next)
        } else {
            match link(&common.on_failure) {
                Some(next) => Ok(Some(next)),
                None => Err(Abort::Failed { instance: instance.to_owned(), reason: end.detail }),
            }
        }
    }

    /// Records the end of a step that does nothing outside the engine.
    async fn finish_pure(&self, instance: &str, id: &str, detail: &str) -> Result<(), Abort> {
        if self.replay.steps.contains_key(instance) {
            return Ok(());
        }
        self.record(Event::StepFinished {
            instance: instance.to_owned(),
            step_id: id.to_owned(),
            success: true,
            detail: detail.to_owned(),
            set: IndexMap::new(),
        })
        .await
    }

    async fn record_decision(
        &self,
        instance: &str,
        condition: &str,
        value: &str,
        next: &Option<String>,
    ) -> Result<(), Abort> {
        if self.replay.steps.contains_key(instance) {
            return Ok(());
        }
        self.record(Event::Decided {
            instance: instance.to_owned(),
            condition: condition.to_owned(),
            value: value.to_owned(),
            next: next.clone(),
        })
        .await
    }

    /// Runs a conditional step's chosen branch up to `stop` (the step's on_completion).
    async fn run_branch(
        &self,
        scope: &Scope,
        branch: Option<String>,
        prefix: &str,
        stop: Option<String>,
    ) -> Result<StepEnd, Abort> {
        let ok = StepEnd { success: true, detail: String::new(), set: IndexMap::new() };
        let Some(branch) = branch else { return Ok(ok) };
        match self.run_flow(scope, branch, prefix.to_owned(), stop.into_iter().collect()).await {
            Ok(_) => Ok(ok),
            Err(Abort::Failed { instance, reason }) => Ok(StepEnd {
                success: false,
                detail: format!("branch step {instance} failed: {reason}"),
                set: IndexMap::new(),
            }),
            Err(e) => Err(e),
        }
    }

    async fn run_while(
        &self,
        scope: &Scope,
        id: &str,
        s: &crate::cacao::model::WhileConditionStep,
        instance: &str,
        on_completion: Option<String>,
    ) -> Result<StepEnd, Abort> {
        let condition = s.condition.as_deref().unwrap_or("");
        let body = s.on_true.as_ref().map(|b| b.as_str().to_owned());
        let cap = if self.dry_run { 1 } else { self.policy().max_while_iterations };
        let mut stops = vec![id.to_owned()];
        stops.extend(on_completion);
        let mut iteration = 0u32;
        loop {
            let key = format!("{instance}#{}", iteration + 1);
            let value = match self.decide(scope, &key, condition).await {
                Ok(v) => v,
                Err(reason) => return Ok(StepEnd { success: false, detail: reason, set: IndexMap::new() }),
            };
            // A dry run walks the body once: nothing it would run changes the variables.
            let go = value && iteration < cap;
            let next = if go { body.clone() } else { None };
            self.record_decision(&key, condition, &value.to_string(), &next).await?;
            if !value {
                break;
            }
            if iteration >= cap {
                if self.dry_run {
                    break;
                }
                return Ok(StepEnd {
                    success: false,
                    detail: format!("the condition still held after {cap} iterations (policy max_while_iterations)"),
                    set: IndexMap::new(),
                });
            }
            iteration += 1;
            let Some(body) = &body else { break };
            match self.run_flow(scope, body.clone(), format!("{key}/"), stops.clone()).await {
                Ok(_) => {}
                Err(Abort::Failed { instance, reason }) => {
                    return Ok(StepEnd {
                        success: false,
                        detail: format!("loop step {instance} failed: {reason}"),
                        set: IndexMap::new(),
                    })
                }
                Err(e) => return Err(e),
            }
        }
        self.finish_pure(instance, id, &format!("{iteration} iterations")).await?;
        Ok(StepEnd { success: true, detail: format!("{iteration} iterations"), set: IndexMap::new() })
    }

    /// Evaluates a condition (a person decides free text when the policy says so).
    async fn decide(&self, scope: &Scope, key: &str, text: &str) -> Result<bool, String> {
        match Condition::parse(text) {
            Ok(c) => {
                let vars = scope.vars();
                c.evaluate(&|name| vars.value(name)).map_err(|e| format!("condition `{text}`: {e}"))
            }
            Err(e) if self.policy().free_text_conditions == FreeTextConditions::Ask => {
                let q = format!("Is this true now? {text}");
                match self.ask(key, &format!("{key}#condition"), &q, "condition", self.question_timeout()).await {
                    Ok(a) => match a.decision {
                        Decision::Approve => Ok(true),
                        Decision::Deny => Ok(false),
                        Decision::Value(v) => match v.trim().to_ascii_lowercase().as_str() {
                            "true" | "yes" => Ok(true),
                            "false" | "no" => Ok(false),
                            other => Err(format!("the answer `{other}` to condition `{text}` is not true or false")),
                        },
                    },
                    Err(err) => Err(format!("condition `{text}` ({e}): nobody decided: {err}")),
                }
            }
            Err(e) => Err(format!("condition `{text}` is not in the condition language: {e}")),
        }
    }

    /// Asks a person (recorded, replayed on resume); a dry run assumes approval.
    async fn ask(
        &self,
        instance: &str,
        key: &str,
        text: &str,
        reason: &str,
        timeout: Duration,
    ) -> Result<Answer, ConnectorError> {
        if let Some(a) = self.replay.answers.get(key) {
            return Ok(a.clone());
        }
        let question = Question {
            run_id: self.run_id.clone(),
            step_instance: instance.to_owned(),
            key: key.to_owned(),
            text: text.to_owned(),
            reason: reason.to_owned(),
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        };
        let asked = Event::Asked { instance: instance.to_owned(), key: key.to_owned(), question: question.clone() };
        self.record(asked).await.map_err(|e| ConnectorError::Unavailable(describe(&e)))?;
        let answer = if self.dry_run {
            Answer { decision: Decision::Approve, by: "dry run (would ask)".into(), note: None }
        } else if self.policy().approve_all {
            Answer { decision: Decision::Approve, by: "--approve-all".into(), note: None }
        } else {
            self.flush().await.map_err(|e| ConnectorError::Unavailable(describe(&e)))?;
            self.set_status(RunStatus::Waiting).await;
            let a = tokio::time::timeout(timeout, self.engine.inner.operator.ask(&question))
                .await
                .map_err(|_| ConnectorError::Timeout(timeout))
                .and_then(|r| r);
            self.set_status(RunStatus::Running).await;
            a?
        };
        let answered = Event::Answered { instance: instance.to_owned(), key: key.to_owned(), answer: answer.clone() };
        self.record(answered).await.map_err(|e| ConnectorError::Unavailable(describe(&e)))?;
        Ok(answer)
    }

    /// A step that acts: replayed from the log when its end is recorded there (its variable
    /// changes applied again), else `body` runs and its end is recorded.
    async fn settle(
        &self,
        scope: &Scope,
        id: &str,
        instance: &str,
        body: impl std::future::Future<Output = Result<StepEnd, Abort>>,
    ) -> Result<StepEnd, Abort> {
        if let Some(end) = self.replay.steps.get(instance) {
            for (k, v) in &end.set {
                scope.set(k, v).map_err(Abort::Fatal)?;
            }
            return Ok(end.clone());
        }
        let end = body.await?;
        self.record(Event::StepFinished {
            instance: instance.to_owned(),
            step_id: id.to_owned(),
            success: end.success,
            detail: end.detail.clone(),
            set: end.set.clone(),
        })
        .await?;
        Ok(end)
    }

    async fn action_body(&self, scope: &Scope, id: &str, step: &ActionStep, instance: &str) -> Result<StepEnd, Abort> {
        let fail = |detail: String| Ok(StepEnd { success: false, detail, set: IndexMap::new() });
        let common = &step.common;
        if let Some(ms) = common.delay.filter(|_| !self.dry_run) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let commands: &[CommandData] = step.commands.as_deref().unwrap_or(&[]);
        if commands.is_empty() {
            // A step with nothing to run (documentation, a placeholder) succeeds without a trace
            // beyond its end.
            return Ok(StepEnd { success: true, detail: "no commands".into(), set: IndexMap::new() });
        }
        let name = common.name.clone().unwrap_or_default();
        self.record(Event::StepStarted {
            instance: instance.into(),
            step_id: id.into(),
            step_type: "action".into(),
            name,
        })
        .await?;
        let mut vars = scope.vars();
        if let Some(sv) = &common.step_variables {
            let doc = serde_json::to_value(sv).unwrap_or(Value::Null);
            match Variables::from_json(&doc, &format!("/workflow/{id}/step_variables")) {
                Ok(inner) => vars = vars.scoped(&inner),
                Err(e) => return fail(e.to_string()),
            }
        }
        let targets = match self.targets_of(scope, step, &vars) {
            Ok(t) => t,
            Err(e) => return fail(e),
        };
        // Policy: allowed targets, then approval.
        for t in targets.iter().flatten() {
            if commands.iter().all(|c| c.command_type.as_ref().is_some_and(|t| t.as_str() == "manual")) {
                break;
            }
            let addrs: Vec<&str> =
                t.definition.address.iter().flat_map(|m| m.values().flatten()).map(String::as_str).collect();
            if let Err(reason) = self.policy().target_allowed(&t.id, &addrs) {
                return fail(reason);
            }
        }
        let decoded: Vec<(String, String, Option<Vec<u8>>)> = match commands.iter().map(decode_command).collect() {
            Ok(d) => d,
            Err(e) => return fail(e),
        };
        if let Some(why) = self.needs_approval(step, &decoded) {
            let (text, _) = vars
                .substitute(&decoded.iter().map(|d| d.1.as_str()).collect::<Vec<_>>().join("\n"), |_, v| v.to_owned());
            let q = format!("Approve step `{}` ({why})?\n{text}", common.name.as_deref().unwrap_or(id));
            match self.ask(instance, &format!("{instance}#approval"), &q, "approval", self.question_timeout()).await {
                Ok(a) if a.decision == Decision::Deny => return fail(format!("approval denied by {}", a.by)),
                Ok(_) => {}
                Err(e) => return fail(format!("approval not given: {e}")),
            }
        }
        // A step of manual commands waits for a person: its default is the question timeout.
        let all_manual = decoded.iter().all(|d| d.0 == "manual");
        let default_ms =
            if all_manual { self.policy().question_timeout_ms } else { self.policy().default_step_timeout_ms };
        let timeout = Duration::from_millis(common.timeout.unwrap_or(default_ms));
        let deadline = Instant::now() + timeout;
        let mut outputs: Vec<String> = Vec::new();
        let mut summaries: Vec<String> = Vec::new();
        let per_target = commands.len();
        for (ti, target) in targets.iter().enumerate() {
            for (ci, (command_type, text, content)) in decoded.iter().enumerate() {
                let index = ti * per_target + ci;
                let data = &commands[ci];
                let request = CommandRequest {
                    run_id: self.run_id.clone(),
                    step_id: id.to_owned(),
                    step_instance: instance.to_owned(),
                    command_index: index,
                    idempotency_key: format!("{}/{instance}/{index}", self.run_id),
                    command_type: command_type.clone(),
                    command: text.clone(),
                    headers: data.headers.clone().unwrap_or_default(),
                    content: content.clone(),
                    version: data.version.clone(),
                    target: target.clone(),
                    variables: vars.clone(),
                    timeout: deadline.saturating_duration_since(Instant::now()),
                    output_limit: self.policy().output_limit,
                };
                match self.run_command(&request).await? {
                    Ok(outcome) => {
                        summaries.push(outcome.summary.clone());
                        outputs.push(outcome.output.clone());
                        if !outcome.success {
                            let detail = if outcome.error_output.trim().is_empty() {
                                format!("command {index} failed: {}", outcome.summary)
                            } else {
                                let (err, _) = super::connector::truncate_text(outcome.error_output.trim(), 500);
                                format!("command {index} failed: {}: {err}", outcome.summary)
                            };
                            return fail(detail);
                        }
                    }
                    Err(e) => return fail(format!("command {index}: {e}")),
                }
            }
        }
        let out_args: Vec<String> = step.out_args.clone().unwrap_or_default();
        let mut set = IndexMap::new();
        if !self.dry_run {
            for (name, value) in capture_out_args(&out_args, &outputs) {
                if let Err(e) = scope.set(&name, &value) {
                    return fail(format!("out_args: {e}"));
                }
                set.insert(name, value);
            }
        }
        Ok(StepEnd { success: true, detail: summaries.join("; "), set })
    }

    /// Why the step needs a person's approval first, if it does.
    fn needs_approval(&self, step: &ActionStep, decoded: &[(String, String, Option<Vec<u8>>)]) -> Option<String> {
        match self.policy().approval {
            ApprovalMode::Never => None,
            _ if decoded.iter().all(|d| d.0 == "manual") => None,
            ApprovalMode::Always => Some("the policy approves every step".into()),
            ApprovalMode::Destructive => {
                let marked = step
                    .common
                    .step_extensions
                    .iter()
                    .flat_map(|m| m.values())
                    .any(|v| v.get("destructive") == Some(&Value::Bool(true)));
                if marked {
                    return Some("marked destructive".into());
                }
                decoded.iter().find_map(|(t, text, _)| self.engine.inner.classifier.classify(t, text))
            }
        }
    }

    /// The step's targets (or its agent, or none), resolved with their authentication info.
    fn targets_of(&self, scope: &Scope, step: &ActionStep, vars: &Variables) -> Result<Vec<Option<Target>>, String> {
        let pb = &scope.playbook;
        let resolve =
            |id: &str, defs: &Option<IndexMap<String, crate::cacao::model::AgentTarget>>| -> Result<Target, String> {
                let def = defs.as_ref().and_then(|d| d.get(id)).ok_or_else(|| format!("`{id}` is not defined"))?;
                let mut def = def.clone();
                // Variables in addresses: the plain value (connectors validate addresses).
                if let Some(addr) = def.address.as_mut() {
                    for list in addr.values_mut() {
                        for a in list.iter_mut() {
                            *a = vars.substitute(a, |_, v| v.to_owned()).0;
                        }
                    }
                }
                let auth = match def.authentication_info.as_ref() {
                    Some(aid) => Some(
                        pb.authentication_info_definitions
                            .as_ref()
                            .and_then(|d| d.get(aid.as_str()))
                            .cloned()
                            .ok_or_else(|| format!("authentication_info `{}` is not defined", aid.as_str()))?,
                    ),
                    None => None,
                };
                Ok(Target { id: id.to_owned(), definition: def, auth })
            };
        let ids: Vec<&str> = step.targets.iter().flatten().map(|t| t.as_str()).collect();
        if !ids.is_empty() {
            return ids.into_iter().map(|id| resolve(id, &pb.target_definitions).map(Some)).collect();
        }
        match step.agent.as_ref() {
            Some(a) => Ok(vec![Some(resolve(a.as_str(), &pb.agent_definitions)?)]),
            None => Ok(vec![None]),
        }
    }

    /// Runs one command (or replays it), with retries; `Err` only when the run must stop.
    async fn run_command(&self, request: &CommandRequest) -> Result<Result<CommandOutcome, ConnectorError>, Abort> {
        let key = (request.step_instance.clone(), request.command_index);
        let mut attempt = 1;
        match self.replay.commands.get(&key) {
            Some(CommandRecord::Finished(o)) => return Ok(Ok(o.clone())),
            Some(CommandRecord::Failed { attempt: a, error, transient }) => {
                if !*transient || *a >= self.policy().retry.max_attempts {
                    return Ok(Err(ConnectorError::Invalid(error.clone())));
                }
                attempt = a + 1;
            }
            // In doubt: it may have run. Again, with the same idempotency key.
            Some(CommandRecord::Started { attempt: a }) => attempt = *a,
            None => {}
        }
        let connector = match self.engine.inner.connectors.get(&request.command_type) {
            Ok(c) => c.clone(),
            Err(e) => {
                let rendered = RenderedCommand { text: request.command.clone(), target: "-".into(), undefined: vec![] };
                self.record_command_start(request, attempt, rendered).await?;
                self.record(Event::CommandFailed {
                    instance: request.step_instance.clone(),
                    index: request.command_index,
                    attempt,
                    error: e.to_string(),
                    transient: false,
                    duration_ms: 0,
                })
                .await?;
                return Ok(Err(e));
            }
        };
        let rendered = match connector.render(request) {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        if request.command_type == "manual" {
            // A manual command is a question to a person: asked through the run's operator, so
            // it is recorded, sets the run to waiting, and its answer is replayed on resume.
            self.record_command_start(request, attempt, rendered.clone()).await?;
            let key = format!("{}#{}", request.step_instance, request.command_index);
            let (instance, index) = (request.step_instance.clone(), request.command_index);
            let started = Instant::now();
            return match self.ask(&instance, &key, &rendered.text, "manual", request.timeout).await {
                Ok(answer) => {
                    let outcome = outcome_of(&answer);
                    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                    self.record(Event::CommandFinished {
                        instance,
                        index,
                        attempt,
                        outcome: outcome.clone(),
                        duration_ms,
                    })
                    .await?;
                    Ok(Ok(outcome))
                }
                Err(e) => Ok(Err(e)),
            };
        }
        loop {
            self.record_command_start(request, attempt, rendered.clone()).await?;
            if self.dry_run {
                let outcome =
                    CommandOutcome { success: true, summary: "dry run: not run".into(), ..CommandOutcome::default() };
                return Ok(Ok(outcome));
            }
            // Write-ahead: the log says this command is about to run before it does.
            if connector.acts_on_world() {
                self.flush().await?;
            }
            let lock_key = request.target.as_ref().map(|t| t.describe());
            let _permit = match &lock_key {
                Some(k) => self.engine.inner.locks.acquire(k).await,
                None => None,
            };
            let started = Instant::now();
            let result = match tokio::time::timeout(request.timeout, connector.execute(request)).await {
                Ok(r) => r,
                Err(_) => Err(ConnectorError::Timeout(request.timeout)),
            };
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (instance, index) = (request.step_instance.clone(), request.command_index);
            match result {
                Ok(outcome) => {
                    self.record(Event::CommandFinished {
                        instance,
                        index,
                        attempt,
                        outcome: outcome.clone(),
                        duration_ms,
                    })
                    .await?;
                    return Ok(Ok(outcome));
                }
                Err(e) => {
                    let transient = e.is_transient();
                    self.record(Event::CommandFailed {
                        instance,
                        index,
                        attempt,
                        error: e.to_string(),
                        transient,
                        duration_ms,
                    })
                    .await?;
                    let retry = &self.policy().retry;
                    if !transient || attempt >= retry.max_attempts {
                        return Ok(Err(e));
                    }
                    attempt += 1;
                    tokio::time::sleep(retry.backoff(attempt)).await;
                }
            }
        }
    }

    async fn record_command_start(
        &self,
        request: &CommandRequest,
        attempt: u32,
        rendered: RenderedCommand,
    ) -> Result<(), Abort> {
        self.record(Event::CommandStarted {
            instance: request.step_instance.clone(),
            index: request.command_index,
            attempt,
            command_type: request.command_type.clone(),
            idempotency_key: request.idempotency_key.clone(),
            rendered,
        })
        .await
    }

    async fn sub_playbook_body(
        &self,
        scope: &Scope,
        step: &PlaybookActionStep,
        instance: &str,
    ) -> Result<StepEnd, Abort> {
        let fail = |detail: String| Ok(StepEnd { success: false, detail, set: IndexMap::new() });
        let target = step.playbook_id.as_ref().map(|i| i.as_str().to_owned()).unwrap_or_default();
        if scope.depth + 1 > self.policy().max_depth {
            return fail(format!(
                "sub-playbook {target} would nest deeper than {} (policy max_depth)",
                self.policy().max_depth
            ));
        }
        let Some(doc) = self.bundle.subs.get(&target) else {
            return fail(format!("sub-playbook `{target}` is not among the playbooks given"));
        };
        let pb = match Playbook::from_document(doc) {
            Ok(p) => Arc::new(p),
            Err(e) => return fail(format!("sub-playbook {target}: {e}")),
        };
        let mut vars = match playbook_variables(&pb, doc) {
            Ok(v) => v,
            Err(e) => return fail(format!("sub-playbook {target}: {e}")),
        };
        let caller = scope.vars();
        for name in step.in_args.iter().flatten() {
            match caller.value(name) {
                Some(v) => {
                    if let Err(e) = vars.set(name, &v) {
                        return fail(format!("in_args: {e}"));
                    }
                }
                None => return fail(format!("in_args: {name} is not defined in the calling playbook")),
            }
        }
        self.record(Event::StepStarted {
            instance: instance.into(),
            step_id: step.playbook_id.as_ref().map(|i| i.as_str().to_owned()).unwrap_or_default(),
            step_type: "playbook-action".into(),
            name: pb.name.clone().unwrap_or_default(),
        })
        .await?;
        let sub = Scope { playbook: pb.clone(), vars: Mutex::new(vars), depth: scope.depth + 1 };
        let start = pb.workflow_start.as_ref().map(|s| s.as_str().to_owned()).unwrap_or_default();
        let prefix = format!("{instance}/");
        match self.run_flow(&sub, start, prefix.clone(), Vec::new()).await {
            Ok(_) => {}
            Err(Abort::Failed { instance: at, reason }) => {
                let mut detail = format!("sub-playbook step {at} failed: {reason}");
                if let Some(exc) = pb.workflow_exception.as_ref().map(|s| s.as_str().to_owned()) {
                    let _ = self.run_flow(&sub, exc.clone(), format!("{prefix}exception/"), Vec::new()).await;
                    detail.push_str(&format!("; its exception flow from {exc} ran"));
                }
                return fail(detail);
            }
            Err(e) => return Err(e),
        }
        let result = sub.vars();
        let mut set = IndexMap::new();
        for name in step.out_args.iter().flatten() {
            let Some(v) = result.value(name) else {
                return fail(format!("out_args: the sub-playbook defines no {name}"));
            };
            if let Err(e) = scope.set(name, &v) {
                return fail(format!("out_args: {e}"));
            }
            set.insert(name.clone(), v);
        }
        Ok(StepEnd { success: true, detail: format!("sub-playbook {target} ended"), set })
    }
}

fn describe(a: &Abort) -> String {
    match a {
        Abort::Failed { instance, reason } => format!("step {instance} failed: {reason}"),
        Abort::Cancelled => "cancelled".into(),
        Abort::Fatal(r) => r.clone(),
    }
}

/// A command's type, its text (`command`, or `command_b64` decoded) and its body (`content`,
/// or `content_b64` decoded).
fn decode_command(c: &CommandData) -> Result<(String, String, Option<Vec<u8>>), String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let t = c.command_type.as_ref().map(|t| t.as_str().to_owned()).unwrap_or_default();
    let text = match (&c.command, &c.command_b64) {
        (Some(text), _) => text.clone(),
        (None, Some(enc)) => {
            let bytes = b64.decode(enc.trim()).map_err(|e| format!("command_b64 is not base64: {e}"))?;
            String::from_utf8(bytes).map_err(|_| "command_b64 does not decode to UTF-8 text".to_owned())?
        }
        (None, None) => String::new(),
    };
    let content = match (&c.content, &c.content_b64) {
        (Some(text), _) => Some(text.clone().into_bytes()),
        (None, Some(enc)) => Some(b64.decode(enc.trim()).map_err(|e| format!("content_b64 is not base64: {e}"))?),
        (None, None) => None,
    };
    Ok((t, text, content))
}

/// The value a switch-condition's `switch` selects on: a variable reference's value, or the
/// text itself.
fn switch_value(vars: &Variables, expr: &str) -> String {
    let refs = super::variables::references(expr.trim());
    match refs.as_slice() {
        [r] if r.start == 0 && r.end == expr.trim().len() => vars.value(&r.name).unwrap_or_default(),
        _ => vars.substitute(expr.trim(), |_, v| v.to_owned()).0,
    }
}

/// Where parallel branches meet: the first step (breadth-first from the first branch) that every
/// branch reaches. None when they never meet (each ends on its own).
fn find_join(pb: &Playbook, branches: &[String]) -> Option<String> {
    let wf = pb.workflow.as_ref()?;
    let reach = |start: &str| -> (Vec<String>, HashSet<String>) {
        let mut order = Vec::new();
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([start.to_owned()]);
        while let Some(id) = queue.pop_front() {
            if !seen.insert(id.clone()) {
                continue;
            }
            order.push(id.clone());
            if let Some(step) = wf.get(&id) {
                for next in successors(step) {
                    queue.push_back(next);
                }
            }
        }
        (order, seen)
    };
    let (first_order, _) = reach(branches.first()?);
    let others: Vec<HashSet<String>> = branches[1..].iter().map(|b| reach(b).1).collect();
    first_order.into_iter().find(|id| others.iter().all(|s| s.contains(id)))
}

/// Every step a step can lead to.
fn successors(step: &WorkflowStep) -> Vec<String> {
    let c = step.common();
    let mut out: Vec<String> =
        [&c.on_completion, &c.on_success, &c.on_failure].into_iter().flatten().map(|s| s.as_str().to_owned()).collect();
    match step {
        WorkflowStep::Parallel(p) => out.extend(p.next_steps.iter().flatten().map(|s| s.as_str().to_owned())),
        WorkflowStep::IfCondition(s) => {
            out.extend([&s.on_true, &s.on_false].into_iter().flatten().map(|s| s.as_str().to_owned()))
        }
        WorkflowStep::WhileCondition(s) => out.extend(s.on_true.iter().map(|s| s.as_str().to_owned())),
        WorkflowStep::SwitchCondition(s) => {
            out.extend(s.cases.iter().flat_map(|c| c.values()).map(|s| s.as_str().to_owned()))
        }
        _ => {}
    }
    out
}

/// Values for `out_args` from a step's command outputs, by these rules (first that applies):
/// 1. an output that is a JSON object gives the keys named `__name__` or `name`;
/// 2. lines `__name__=value` or `name=value` (the last such line wins);
/// 3. with exactly one out_arg and nothing found, the last command's whole output, trimmed.
pub fn capture_out_args(out_args: &[String], outputs: &[String]) -> Vec<(String, String)> {
    let mut found: IndexMap<String, String> = IndexMap::new();
    let bare = |name: &str| name.trim_start_matches("__").trim_end_matches("__").to_owned();
    for output in outputs {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(output.trim()) {
            for name in out_args {
                let v = map.get(name).or_else(|| map.get(&bare(name)));
                if let Some(v) = v {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    found.insert(name.clone(), text);
                }
            }
            continue;
        }
        for line in output.lines() {
            let Some((k, v)) = line.split_once('=') else { continue };
            let k = k.trim();
            if let Some(name) = out_args.iter().find(|n| n.as_str() == k || bare(n) == k) {
                found.insert(name.clone(), v.trim().to_owned());
            }
        }
    }
    if found.is_empty() && out_args.len() == 1 {
        if let Some(last) = outputs.last() {
            found.insert(out_args[0].clone(), last.trim().to_owned());
        }
    }
    out_args.iter().filter_map(|n| found.get(n).map(|v| (n.clone(), v.clone()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_args_come_from_json_then_lines_then_the_whole_output() {
        let args = vec!["__threat_present__".to_owned(), "__count__".to_owned()];
        let got = capture_out_args(&args, &["{\"threat_present\": false, \"__count__\": 3}".to_owned()]);
        assert_eq!(got, [("__threat_present__".into(), "false".into()), ("__count__".into(), "3".into())]);
        let got = capture_out_args(&args, &["scanning\nthreat_present=true\n__count__ = 2\n".to_owned()]);
        assert_eq!(got, [("__threat_present__".into(), "true".into()), ("__count__".into(), "2".into())]);
        let one = vec!["__ip__".to_owned()];
        assert_eq!(capture_out_args(&one, &["  10.0.0.7\n".to_owned()]), [("__ip__".into(), "10.0.0.7".into())]);
        assert!(capture_out_args(&args, &["nothing here".to_owned()]).is_empty());
    }

    #[test]
    fn decode_reads_base64_commands_and_names_bad_ones() {
        let c = CommandData { command_b64: Some("ZWNobyBoaQ==".into()), ..CommandData::default() };
        assert_eq!(decode_command(&c).unwrap().1, "echo hi");
        let bad = CommandData { command_b64: Some("***".into()), ..CommandData::default() };
        assert!(decode_command(&bad).unwrap_err().starts_with("command_b64 is not base64"));
    }
}
