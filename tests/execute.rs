//! The execution engine on real components: bash processes, a SQLite run store in a file, and
//! the CACAO step semantics (routing, conditions, loops, parallel joins, sub-playbooks),
//! approvals, limits, dry runs and resume.

mod common;

use std::path::Path;
use std::sync::Arc;

use cacao_forge::execute::connector::manual::{ApproveAll, Decision, Operator, ScriptedOperator};
use cacao_forge::execute::connector::{
    BoxFuture, CommandOutcome, CommandRequest, Connector, ConnectorError, ConnectorSettings, RenderedCommand,
};
use cacao_forge::execute::engine::{Bundle, Engine, EngineError, RunReport, RunRequest};
use cacao_forge::execute::event::{Event, RunStatus};
use cacao_forge::execute::policy::{ApprovalMode, ExecutionPolicy, FreeTextConditions, RetryPolicy};
use cacao_forge::execute::store::{Durability, Store};
use cacao_forge::execute::Connectors;
use common::exec::{sid, Pb};
use serde_json::{json, Value};

fn policy() -> ExecutionPolicy {
    ExecutionPolicy { approval: ApprovalMode::Never, ..ExecutionPolicy::default() }
}

fn engine(policy: ExecutionPolicy, operator: Arc<dyn Operator>, store: Option<Store>) -> Engine {
    let connectors = Connectors::standard(&ConnectorSettings::default(), operator.clone()).expect("default connectors");
    Engine::new(connectors, operator, store, policy)
}

fn request(doc: Value) -> RunRequest {
    RunRequest {
        bundle: Bundle { main: doc, subs: Default::default() },
        started_by: "tester".into(),
        ..RunRequest::default()
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(f)
}

fn run(doc: Value) -> RunReport {
    block_on(engine(policy(), Arc::new(ApproveAll), None).run(request(doc))).unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The step ids (not instances) that finished, in order, with their success.
fn finished(report: &RunReport) -> Vec<(String, bool)> {
    report
        .events
        .iter()
        .filter_map(|e| match e {
            Event::StepFinished { instance, success, .. } => Some((instance.clone(), *success)),
            _ => None,
        })
        .collect()
}

#[test]
fn variables_flow_through_out_args_into_later_commands_and_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let doc = Pb::new(1)
        .var("__host__", "string", "ws-17")
        .var("__count__", "string", "")
        .step("start1", json!({"on_completion": "a1"}))
        .step(
            "a1",
            json!({"commands": [{"type": "bash", "command": "echo count=3; echo \"scanned __host__:value\" >&2"}],
                   "out_args": ["__count__"], "on_completion": "if1"}),
        )
        .step(
            "if1",
            json!({"condition": "__count__:value > 2", "on_true": "a2", "on_false": "a3", "on_completion": "end1"}),
        )
        .bash("a2", &[&format!("echo \"many on __host__:value: __count__:value\" >> {}", log.display())], "end2")
        .bash("a3", &[&format!("echo few >> {}", log.display())], "end2")
        .step("end2", json!({}))
        .step("end1", json!({}))
        .build();
    let report = run(doc);
    assert_eq!(report.status, RunStatus::Succeeded, "{}", report.detail);
    assert_eq!(read(&log), "many on ws-17: 3\n");
    let set = report.events.iter().find_map(|e| match e {
        Event::StepFinished { set, .. } if !set.is_empty() => Some(set.clone()),
        _ => None,
    });
    assert_eq!(set.unwrap()["__count__"], "3");
    assert!(report.not_reached.contains(&sid("a3")), "the false branch was not taken");
}

#[test]
fn on_failure_routes_failures_and_unhandled_ones_run_the_exception_flow() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let w = |s: &str| format!("echo {s} >> {}", log.display());
    let doc = Pb::new(2)
        .step("start1", json!({"on_completion": "a1"}))
        .step(
            "a1",
            json!({"commands": [{"type": "bash", "command": "exit 4"}], "on_success": "a9", "on_failure": "a2"}),
        )
        .bash("a2", &[&w("recovered")], "a3")
        .step("a3", json!({"commands": [{"type": "bash", "command": "echo boom >&2; exit 1"}], "on_completion": "a9"}))
        .bash("a9", &[&w("never")], "end1")
        .bash("a5", &[&w("exception")], "end2")
        .step("end1", json!({}))
        .step("end2", json!({}))
        .exception("a5")
        .build();
    let report = run(doc);
    assert_eq!(report.status, RunStatus::Failed);
    assert_eq!(read(&log), "recovered\nexception\n");
    assert!(report.detail.contains("exit 1") && report.detail.contains("boom"), "{}", report.detail);
    assert!(report.detail.contains("exception flow"), "{}", report.detail);
}

#[test]
fn a_command_type_without_connector_fails_at_once_and_takes_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let doc = Pb::new(3)
        .step("start1", json!({"on_completion": "a1"}))
        .step(
            "a1",
            json!({"commands": [{"type": "caldera-cmd", "command": "x"}], "on_success": "end1", "on_failure": "a2"}),
        )
        .bash("a2", &[&format!("echo fallback >> {}", log.display())], "end1")
        .step("end1", json!({}))
        .build();
    let report = run(doc);
    assert_eq!(report.status, RunStatus::Succeeded, "{}", report.detail);
    assert_eq!(read(&log), "fallback\n");
    let failed = report.events.iter().find_map(|e| match e {
        Event::CommandFailed { error, .. } => Some(error.clone()),
        _ => None,
    });
    assert_eq!(failed.unwrap(), "no connector runs command type `caldera-cmd`");
}

#[test]
fn step_timeouts_cut_commands_and_take_on_failure() {
    let doc = Pb::new(4)
        .step("start1", json!({"on_completion": "a1"}))
        .step("a1", json!({"commands": [{"type": "bash", "command": "sleep 30"}], "timeout": 300, "on_success": "end1", "on_failure": "a2"}))
        .bash("a2", &["true"], "end1")
        .step("end1", json!({}))
        .build();
    let report = run(doc);
    assert_eq!(report.status, RunStatus::Succeeded);
    let fins = finished(&report);
    assert_eq!(fins[0], (sid("a1"), false));
    assert!(report
        .events
        .iter()
        .any(|e| matches!(e, Event::CommandFailed { error, .. } if error.starts_with("timed out after "))));
}

#[test]
fn while_loops_repeat_until_the_condition_fails_and_stop_at_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("n");
    std::fs::write(&counter, "0").unwrap();
    let c = counter.display();
    let body = format!("n=$(( $(cat {c}) + 1 )); echo $n > {c}; echo $n");
    let make = |n: u64| {
        Pb::new(n)
            .var("__n__", "integer", "0")
            .step("start1", json!({"on_completion": "while1"}))
            .step("while1", json!({"condition": "__n__:value < 3", "on_true": "a1", "on_completion": "end1"}))
            .step("a1", json!({"commands": [{"type": "bash", "command": body}], "out_args": ["__n__"], "on_completion": "while1"}))
            .step("end1", json!({}))
            .build()
    };
    let report = run(make(5));
    assert_eq!(report.status, RunStatus::Succeeded, "{}", report.detail);
    assert_eq!(read(&counter).trim(), "3");
    let instances: Vec<String> =
        finished(&report).into_iter().map(|(i, _)| i).filter(|i| i.contains("action")).collect();
    let w = sid("while1");
    assert_eq!(instances, [1, 2, 3].map(|k| format!("{w}#{k}/{}", sid("a1"))), "one instance per iteration");

    std::fs::write(&counter, "0").unwrap();
    let capped = ExecutionPolicy { max_while_iterations: 2, ..policy() };
    let report = block_on(engine(capped, Arc::new(ApproveAll), None).run(request(make(6)))).unwrap();
    assert_eq!(report.status, RunStatus::Failed);
    assert!(report.detail.contains("after 2 iterations"), "{}", report.detail);
    assert_eq!(read(&counter).trim(), "2");
}

#[test]
fn switch_takes_the_matching_case_or_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let make = |sev: &str| {
        Pb::new(7)
            .var("__severity__", "string", sev)
            .step("start1", json!({"on_completion": "switch1"}))
            .step("switch1", json!({"switch": "__severity__:value", "cases": {"high": "a1", "low": "a2", "default": "a3"}, "on_completion": "a4"}))
            .bash("a1", &[&format!("echo high >> {}", log.display())], "end2")
            .bash("a2", &[&format!("echo low >> {}", log.display())], "end2")
            .bash("a3", &[&format!("echo default >> {}", log.display())], "end2")
            .bash("a4", &[&format!("echo after >> {}", log.display())], "end1")
            .step("end2", json!({}))
            .step("end1", json!({}))
            .build()
    };
    for sev in ["high", "medium"] {
        let r = run(make(sev));
        assert_eq!(r.status, RunStatus::Succeeded, "{}", r.detail);
    }
    assert_eq!(read(&log), "high\nafter\ndefault\nafter\n");
}

#[test]
fn parallel_branches_run_concurrently_and_join_once() {
    // Each branch waits for the other's marker: run one after the other, the first would wait
    // out its timeout and fail.
    let dir = tempfile::tempdir().unwrap();
    let (d, log) = (dir.path().display().to_string(), dir.path().join("log"));
    let wait_for = |mine: &str, other: &str| {
        format!("touch {d}/{mine}; for i in $(seq 1 200); do [ -e {d}/{other} ] && exit 0; sleep 0.05; done; exit 7")
    };
    let doc = Pb::new(8)
        .step("start1", json!({"on_completion": "par1"}))
        .step("par1", json!({"next_steps": ["a1", "a2"]}))
        .bash("a1", &[&wait_for("left", "right")], "a3")
        .bash("a2", &[&wait_for("right", "left")], "a3")
        .bash("a3", &[&format!("echo joined >> {}", log.display())], "end1")
        .step("end1", json!({}))
        .build();
    let report = run(doc);
    assert_eq!(report.status, RunStatus::Succeeded, "{}", report.detail);
    assert_eq!(read(&log), "joined\n", "the join step runs once, after both branches");
}

#[test]
fn a_failed_parallel_branch_fails_the_parallel_step_after_the_others_end() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let doc = Pb::new(9)
        .step("start1", json!({"on_completion": "par1"}))
        .step("par1", json!({"next_steps": ["a1", "a2"], "on_success": "end1", "on_failure": "a3"}))
        .step("a1", json!({"commands": [{"type": "bash", "command": "exit 2"}], "on_completion": "end2"}))
        .bash("a2", &[&format!("sleep 0.2; echo other >> {}", log.display())], "end2")
        .bash("a3", &[&format!("echo handled >> {}", log.display())], "end1")
        .step("end2", json!({}))
        .step("end1", json!({}))
        .build();
    let report = run(doc);
    assert_eq!(report.status, RunStatus::Succeeded, "{}", report.detail);
    assert_eq!(read(&log), "other\nhandled\n");
}

fn sub_playbook(n: u64, calls_self: bool) -> Value {
    let pb = Pb::new(n).var("__in__", "string", "").var("__out__", "string", "").step("end1", json!({}));
    if calls_self {
        pb.step("start1", json!({"on_completion": "sub1"}))
            .step(
                "sub1",
                json!({"playbook_id": common::exec::id("playbook", n), "in_args": ["__in__"], "on_completion": "end1"}),
            )
            .build()
    } else {
        pb.step("start1", json!({"on_completion": "a1"}))
            .step("a1", json!({"commands": [{"type": "bash", "command": "echo \"out=got __in__:value\""}], "out_args": ["__out__"], "on_completion": "end1"}))
            .build()
    }
}

#[test]
fn sub_playbooks_take_in_args_and_give_out_args_and_nesting_is_limited() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let sub = sub_playbook(20, false);
    let main = Pb::new(21)
        .var("__in__", "string", "alpha")
        .var("__out__", "string", "")
        .step("start1", json!({"on_completion": "sub1"}))
        .step("sub1", json!({"playbook_id": common::exec::id("playbook", 20), "in_args": ["__in__"], "out_args": ["__out__"], "on_completion": "a1"}))
        .bash("a1", &[&format!("echo \"__out__:value\" >> {}", log.display())], "end1")
        .step("end1", json!({}))
        .build();
    let mut req = request(main);
    req.bundle.subs.insert(common::exec::id("playbook", 20), sub);
    let report = block_on(engine(policy(), Arc::new(ApproveAll), None).run(req)).unwrap();
    assert_eq!(report.status, RunStatus::Succeeded, "{}", report.detail);
    assert_eq!(read(&log), "got alpha\n");
    let nested = format!("{}/{}", sid("sub1"), sid("a1"));
    assert!(finished(&report).iter().any(|(i, ok)| i == &nested && *ok), "{:?}", finished(&report));

    // A playbook that calls itself stops at the depth limit.
    let recursive = sub_playbook(22, true);
    let mut req = request(recursive.clone());
    req.bundle.subs.insert(common::exec::id("playbook", 22), recursive);
    let shallow = ExecutionPolicy { max_depth: 3, ..policy() };
    let report = block_on(engine(shallow, Arc::new(ApproveAll), None).run(req)).unwrap();
    assert_eq!(report.status, RunStatus::Failed);
    assert!(report.detail.contains("deeper than 3"), "{}", report.detail);
}

#[test]
fn a_missing_sub_playbook_is_refused_before_anything_runs() {
    let main = Pb::new(23)
        .step("start1", json!({"on_completion": "sub1"}))
        .step("sub1", json!({"playbook_id": common::exec::id("playbook", 99), "on_completion": "end1"}))
        .step("end1", json!({}))
        .build();
    let err = block_on(engine(policy(), Arc::new(ApproveAll), None).run(request(main))).unwrap_err();
    let EngineError::Rejected(problems) = err else { panic!("{err}") };
    assert!(problems[0].contains("is not among the playbooks given"), "{problems:?}");
}

#[test]
fn destructive_steps_wait_for_approval_and_a_denial_fails_them() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    let doc = |n| {
        Pb::new(n)
            .step("start1", json!({"on_completion": "a1"}))
            .step("a1", json!({"commands": [{"type": "bash", "command": format!("rm -f {}", victim.display())}], "on_success": "end1", "on_failure": "end2"}))
            .step("end1", json!({}))
            .step("end2", json!({}))
            .build()
    };
    let guarded = ExecutionPolicy { approval: ApprovalMode::Destructive, ..ExecutionPolicy::default() };
    std::fs::write(&victim, "x").unwrap();
    let op = Arc::new(ScriptedOperator::new([Decision::Deny]));
    let report = block_on(engine(guarded.clone(), op.clone(), None).run(request(doc(30)))).unwrap();
    assert!(victim.exists(), "a denied step must not run");
    assert_eq!(finished(&report)[0], (sid("a1"), false));
    assert_eq!(op.asked()[0].reason, "approval");
    assert!(op.asked()[0].text.contains("`rm` is destructive"), "{}", op.asked()[0].text);

    let op = Arc::new(ScriptedOperator::new([Decision::Approve]));
    let report = block_on(engine(guarded, op, None).run(request(doc(31)))).unwrap();
    assert_eq!(report.status, RunStatus::Succeeded);
    assert!(!victim.exists());
    assert!(report.events.iter().any(|e| matches!(e, Event::Answered { answer, .. } if answer.by == "script")));
}

#[test]
fn manual_steps_ask_a_person_and_capture_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let doc = Pb::new(32)
        .var("__owner__", "string", "")
        .step("start1", json!({"on_completion": "a1"}))
        .step("a1", json!({"commands": [{"type": "manual", "command": "Who owns the host?"}], "out_args": ["__owner__"], "on_completion": "a2"}))
        .bash("a2", &[&format!("echo \"call __owner__:value\" >> {}", log.display())], "end1")
        .step("end1", json!({}))
        .build();
    let op = Arc::new(ScriptedOperator::new([Decision::Value("alice; rm -rf /".into())]));
    let report = block_on(engine(policy(), op.clone(), None).run(request(doc))).unwrap();
    assert_eq!(report.status, RunStatus::Succeeded, "{}", report.detail);
    assert_eq!(read(&log), "call alice; rm -rf /\n", "the answer is data, not shell");
    assert_eq!(op.asked()[0].text, "Who owns the host?");
}

#[test]
fn free_text_conditions_are_refused_or_asked_by_policy() {
    let doc = Pb::new(33)
        .step("start1", json!({"on_completion": "if1"}))
        .step("if1", json!({"condition": "the host is still infected", "on_true": "end1", "on_false": "end2"}))
        .step("end1", json!({}))
        .step("end2", json!({}))
        .build();
    let err = block_on(engine(policy(), Arc::new(ApproveAll), None).run(request(doc.clone()))).unwrap_err();
    assert!(err.to_string().contains("semantic.condition-unreadable"), "{err}");
    let ask = ExecutionPolicy { free_text_conditions: FreeTextConditions::Ask, ..policy() };
    let op = Arc::new(ScriptedOperator::new([Decision::Deny]));
    let report = block_on(engine(ask, op.clone(), None).run(request(doc))).unwrap();
    assert_eq!(report.status, RunStatus::Succeeded);
    assert!(report
        .events
        .iter()
        .any(|e| matches!(e, Event::Decided { value, next: Some(n), .. } if value == "false" && n == &sid("end2"))));
    assert_eq!(op.asked()[0].reason, "condition");
}

#[test]
fn targets_outside_the_allow_list_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let doc = Pb::new(34)
        .step("start1", json!({"on_completion": "a1"}))
        .bash("a1", &[&format!("echo ran >> {}", log.display())], "end1")
        .step("end1", json!({}))
        .build();
    let strict = ExecutionPolicy { allowed_targets: Some(vec!["10.0.*".into()]), ..policy() };
    let report = block_on(engine(strict, Arc::new(ApproveAll), None).run(request(doc))).unwrap();
    assert_eq!(report.status, RunStatus::Failed);
    assert!(report.detail.contains("not in the policy's allowed_targets"), "{}", report.detail);
    assert!(!log.exists());
}

#[test]
fn per_target_concurrency_keeps_runs_off_the_same_host_at_once() {
    // Each step holds a lock directory on the host for a while; two steps at once would collide.
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("lock");
    let cmd = format!("mkdir {l} || exit 9; sleep 0.1; rmdir {l}", l = lock.display());
    let doc = |n| {
        Pb::new(n)
            .step("start1", json!({"on_completion": "par1"}))
            .step("par1", json!({"next_steps": ["a1", "a2"]}))
            .bash("a1", &[&cmd], "end1")
            .bash("a2", &[&cmd], "end2")
            .step("end1", json!({}))
            .step("end2", json!({}))
            .build()
    };
    let limited = ExecutionPolicy { target_concurrency: Some(1), ..policy() };
    let e = engine(limited, Arc::new(ApproveAll), None);
    let reports = block_on(async {
        let runs = (0..3).map(|i| e.run(request(doc(40 + i))));
        futures_util::future::join_all(runs).await
    });
    for r in reports {
        let r = r.unwrap();
        assert_eq!(r.status, RunStatus::Succeeded, "{}", r.detail);
    }
}

#[test]
fn a_dry_run_touches_nothing_and_shows_the_exact_commands() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker");
    let doc = Pb::new(50)
        .var("__ip__", "ipv4-addr", "203.0.113.9")
        .step("start1", json!({"on_completion": "a1"}))
        .bash("a1", &[&format!("touch {}; iptables -A INPUT -s __ip__:value -j DROP", marker.display())], "a2")
        .step("a2", json!({"commands": [{"type": "manual", "command": "Confirm the block of __ip__:value"}], "on_completion": "end1"}))
        .step("end1", json!({}))
        .build();
    let mut req = request(doc);
    req.dry_run = true;
    let guarded = ExecutionPolicy::default();
    let op = Arc::new(ScriptedOperator::new([]));
    let report = block_on(engine(guarded, op.clone(), None).run(req)).unwrap();
    assert_eq!(report.status, RunStatus::Succeeded, "{}", report.detail);
    assert!(!marker.exists(), "a dry run must not run commands");
    assert!(op.asked().is_empty(), "a dry run asks nobody");
    let rendered: Vec<String> = report
        .events
        .iter()
        .filter_map(|e| match e {
            Event::CommandStarted { rendered, .. } => Some(rendered.text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(rendered[0], format!("touch {}; iptables -A INPUT -s '203.0.113.9' -j DROP", marker.display()));
    assert_eq!(rendered[1], "Confirm the block of 203.0.113.9");
    assert!(report.events.iter().any(|e| matches!(e, Event::Asked { question, .. } if question.reason == "approval")));
}

/// Fails with a transient error `failures` times, then succeeds.
struct Flaky {
    failures: std::sync::atomic::AtomicU32,
}

impl Connector for Flaky {
    fn command_types(&self) -> &'static [&'static str] {
        &["http-api"]
    }
    fn render(&self, r: &CommandRequest) -> Result<RenderedCommand, ConnectorError> {
        Ok(RenderedCommand { text: r.command.clone(), target: "flaky".into(), undefined: vec![] })
    }
    fn execute<'a>(&'a self, _: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>> {
        Box::pin(async move {
            let left = self.failures.load(std::sync::atomic::Ordering::SeqCst);
            if left > 0 {
                self.failures.store(left - 1, std::sync::atomic::Ordering::SeqCst);
                return Err(ConnectorError::Unavailable("connection refused".into()));
            }
            Ok(CommandOutcome { success: true, summary: "HTTP 200".into(), ..CommandOutcome::default() })
        })
    }
}

#[test]
fn transient_failures_are_retried_with_backoff_up_to_the_limit() {
    let doc = |n| {
        Pb::new(n)
            .step("start1", json!({"on_completion": "a1"}))
            .step(
                "a1",
                json!({"commands": [{"type": "http-api", "command": "GET /health HTTP/1.1"}], "on_completion": "end1"}),
            )
            .step("end1", json!({}))
            .build()
    };
    let retry =
        ExecutionPolicy { retry: RetryPolicy { max_attempts: 3, backoff_ms: 10, max_backoff_ms: 20 }, ..policy() };
    let make = |failures| {
        let op: Arc<dyn Operator> = Arc::new(ApproveAll);
        let c = Connectors::standard(&ConnectorSettings::default(), op.clone())
            .expect("default connectors")
            .with(Arc::new(Flaky { failures: std::sync::atomic::AtomicU32::new(failures) }));
        Engine::new(c, op, None, retry.clone())
    };
    let report = block_on(make(2).run(request(doc(60)))).unwrap();
    assert_eq!(report.status, RunStatus::Succeeded, "{}", report.detail);
    let attempts: Vec<u32> = report
        .events
        .iter()
        .filter_map(|e| match e {
            Event::CommandStarted { attempt, .. } => Some(*attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, [1, 2, 3]);
    let report = block_on(make(3).run(request(doc(61)))).unwrap();
    assert_eq!(report.status, RunStatus::Failed, "three failures exhaust three attempts");
}

#[test]
fn the_store_keeps_the_audit_trail_and_a_resume_skips_finished_steps() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.db");
    let log = dir.path().join("log");
    let doc = Pb::new(70)
        .step("start1", json!({"on_completion": "a1"}))
        .bash("a1", &[&format!("echo one >> {}", log.display())], "a2")
        .step(
            "a2",
            json!({"commands": [{"type": "manual", "command": "Approve the next step"}], "on_completion": "a3"}),
        )
        .bash("a3", &[&format!("echo three >> {}", log.display())], "end1")
        .step("end1", json!({}))
        .build();
    let run_id = "resume-test-run".to_owned();
    // First process: runs a1, then waits for an answer nobody gives; it "dies" (the future is
    // dropped) while waiting.
    block_on(async {
        let store = Store::open(&db, Durability::Normal).await.unwrap();
        let e = engine(policy(), Arc::new(ScriptedOperator::new([])), Some(store.clone()));
        let mut req = request(doc.clone());
        req.run_id = Some(run_id.clone());
        let r = tokio::time::timeout(std::time::Duration::from_millis(1500), e.run(req)).await;
        assert!(r.is_err(), "the run should still be waiting");
        store.journal().flush().await.unwrap();
        let run = store.run(&run_id).await.unwrap();
        assert_eq!(run.status, RunStatus::Waiting);
    });
    assert_eq!(read(&log), "one\n");
    // Second process: the answer is in; resume runs a2's answer and a3, not a1.
    block_on(async {
        let store = Store::open(&db, Durability::Normal).await.unwrap();
        let answer = cacao_forge::execute::connector::manual::Answer {
            decision: Decision::Approve,
            by: "bob".into(),
            note: None,
        };
        assert!(store.put_answer(&run_id, &format!("{}#0", sid("a2")), &answer).await.unwrap());
        let op = Arc::new(cacao_forge::execute::store::StoreOperator {
            store: store.clone(),
            poll: std::time::Duration::from_millis(20),
        });
        let e = engine(policy(), op, Some(store.clone()));
        let r = e.resume(&run_id, "carol").await.unwrap();
        assert_eq!(r.status, RunStatus::Succeeded, "{}", r.detail);
        let events = store.events(&run_id).await.unwrap();
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "one gapless log across both processes");
        assert!(events.iter().any(|e| matches!(&e.event, Event::Answered { answer, .. } if answer.by == "bob")));
        assert!(events
            .iter()
            .any(|e| matches!(&e.event, Event::RunResumed { resumed_by, .. } if resumed_by == "carol")));
        assert_eq!(store.run(&run_id).await.unwrap().status, RunStatus::Succeeded);
        let err = e.resume(&run_id, "carol").await.unwrap_err();
        assert!(err.to_string().contains("it has ended (succeeded)"), "{err}");
    });
    assert_eq!(read(&log), "one\nthree\n", "a1 ran once, a3 once");
}

#[test]
fn a_cancelled_run_stops_at_its_next_step() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let doc = Pb::new(80)
        .step("start1", json!({"on_completion": "a1"}))
        .bash("a1", &["sleep 0.5"], "a2")
        .bash("a2", &[&format!("echo too-late >> {}", log.display())], "end1")
        .step("end1", json!({}))
        .build();
    let report = block_on(async {
        let store = Store::memory().await.unwrap();
        let e = engine(policy(), Arc::new(ApproveAll), Some(store.clone()));
        let mut req = request(doc);
        req.run_id = Some("cancel-me".into());
        let run = tokio::spawn({
            let e = e.clone();
            async move { e.run(req).await }
        });
        // Ask through the store, as `runs cancel` does from another process.
        loop {
            if store.run("cancel-me").await.is_ok() {
                break;
            }
            tokio::task::yield_now().await;
        }
        store.request_cancel("cancel-me").await.unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watcher = tokio::spawn({
            let (e, stop) = (e.clone(), stop.clone());
            async move { e.watch_cancellations(stop, std::time::Duration::from_millis(20)).await }
        });
        let r = run.await.unwrap().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        watcher.abort();
        r
    });
    assert_eq!(report.status, RunStatus::Cancelled);
    assert!(!log.exists());
}

#[test]
fn an_unanswered_manual_step_times_out_and_takes_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let doc = Pb::new(90)
        .step("start1", json!({"on_completion": "a1"}))
        .step(
            "a1",
            json!({"commands": [{"type": "manual", "command": "Call the host owner"}], "timeout": 200,
                          "on_success": "end1", "on_failure": "a2"}),
        )
        .bash("a2", &[&format!("echo escalated >> {}", log.display())], "end1")
        .step("end1", json!({}))
        .build();
    let op = Arc::new(ScriptedOperator::new([]));
    let report = block_on(engine(policy(), op.clone(), None).run(request(doc))).unwrap();
    assert_eq!(report.status, RunStatus::Succeeded, "{}", report.detail);
    assert_eq!(read(&log), "escalated\n");
    assert_eq!(op.asked().len(), 1, "the person was asked once");
    let a1 = report.events.iter().find_map(|e| match e {
        Event::StepFinished { instance, success, detail, .. } if instance == &sid("a1") => {
            Some((*success, detail.clone()))
        }
        _ => None,
    });
    let (success, detail) = a1.unwrap();
    assert!(!success && detail.contains("timed out after"), "{detail}");
    assert!(report.events.iter().any(|e| matches!(e, Event::Asked { instance, .. } if instance == &sid("a1"))));
    assert!(!report.events.iter().any(|e| matches!(e, Event::Answered { .. })));
}
