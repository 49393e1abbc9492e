//! Engine overhead with durable logging on (issue 6 figures: 20,000 no-op steps/s on one core,
//! 1,000 concurrent runs of a 10-step playbook without error). Run: `cargo bench --bench execute`
//! (pin it to one core with `taskset -c 0` for the one-core figure).
//!
//! - `noop_steps/chain_2000`: one run of 2,000 action steps, each running one command of a
//!   connector that does nothing and says so (`acts_on_world` false): the engine walks, renders
//!   and logs four events per step, committed in batches, with no commit forced per step.
//! - `noop_commands/chain_500`: the same with a connector that claims effects: a write-ahead
//!   commit before every command (the cost a real action pays on top of its own time).
//! - `concurrent_runs/1000x10`: 1,000 runs of a 10-step no-op-command playbook at once, one
//!   store, group commit across runs.
//!
//! Every iteration checks that each run succeeded (outside the timing assertions: a failed run
//! panics the bench).

use std::sync::Arc;

use cacao_forge::execute::connector::manual::ApproveAll;
use cacao_forge::execute::connector::{
    BoxFuture, CommandOutcome, CommandRequest, Connector, ConnectorError, RenderedCommand,
};
use cacao_forge::execute::engine::{Bundle, Engine, RunRequest};
use cacao_forge::execute::event::RunStatus;
use cacao_forge::execute::policy::{ApprovalMode, ExecutionPolicy};
use cacao_forge::execute::store::{Durability, Store};
use cacao_forge::execute::Connectors;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Map, Value};

#[path = "../tests/common/exec.rs"]
mod exec;

/// Does nothing; `acts` says whether it claims effects (and so gets a write-ahead commit).
struct Noop {
    acts: bool,
}

impl Connector for Noop {
    fn command_types(&self) -> &'static [&'static str] {
        // They stand in for bash and powershell: a custom command type may not carry
        // `command` under our schema, and the engine's cost does not depend on the type.
        if self.acts {
            &["powershell"]
        } else {
            &["bash"]
        }
    }
    fn acts_on_world(&self) -> bool {
        self.acts
    }
    fn render(&self, r: &CommandRequest) -> Result<RenderedCommand, ConnectorError> {
        Ok(RenderedCommand { text: r.command.clone(), target: "nowhere".into(), undefined: vec![] })
    }
    fn execute<'a>(&'a self, _: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>> {
        Box::pin(async { Ok(CommandOutcome { success: true, summary: "noop".into(), ..CommandOutcome::default() }) })
    }
}

/// A chain of `n` action steps, each running one command of `command_type`.
fn chain(n: u64, command_type: &str) -> Value {
    let mut wf = Map::new();
    wf.insert(exec::id("start", 1), json!({"type": "start", "on_completion": exec::id("action", 1)}));
    for i in 1..=n {
        let next = if i == n { exec::id("end", 1) } else { exec::id("action", i + 1) };
        let step = json!({"type": "action", "name": format!("step {i}"), "agent": exec::agent(), "on_completion": next,
                          "commands": [{"type": command_type, "command": "noop"}]});
        wf.insert(exec::id("action", i), step);
    }
    wf.insert(exec::id("end", 1), json!({"type": "end"}));
    let mut doc = exec::Pb::new(1).build();
    doc["workflow"] = Value::Object(wf);
    doc
}

fn engine(store: Store) -> Engine {
    let op = Arc::new(ApproveAll);
    let connectors = Connectors::new().with(Arc::new(Noop { acts: false })).with(Arc::new(Noop { acts: true }));
    let policy = ExecutionPolicy { approval: ApprovalMode::Never, max_steps: 1_000_000, ..ExecutionPolicy::default() };
    Engine::new(connectors, op, Some(store), policy)
}

fn request(doc: &Value) -> RunRequest {
    RunRequest {
        bundle: Bundle { main: doc.clone(), subs: Default::default() },
        started_by: "bench".into(),
        ..RunRequest::default()
    }
}

fn execute(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    // One core: the current-thread runtime does all the engine's work (SQLite's own writer
    // thread is the only other one).
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = rt.block_on(Store::open(&dir.path().join("bench.db"), Durability::Normal)).unwrap();
    let e = engine(store);

    let mut g = c.benchmark_group("noop_steps");
    g.sample_size(10);
    let doc = chain(2000, "bash");
    g.throughput(Throughput::Elements(2000));
    g.bench_function("chain_2000", |b| {
        b.iter(|| {
            let r = rt.block_on(e.run(request(&doc))).unwrap();
            assert_eq!(r.status, RunStatus::Succeeded, "{}", r.detail);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("noop_commands");
    g.sample_size(10);
    let doc = chain(500, "powershell");
    g.throughput(Throughput::Elements(500));
    g.bench_function("chain_500", |b| {
        b.iter(|| {
            let r = rt.block_on(e.run(request(&doc))).unwrap();
            assert_eq!(r.status, RunStatus::Succeeded, "{}", r.detail);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("concurrent_runs");
    g.sample_size(10);
    let doc = chain(10, "powershell");
    g.throughput(Throughput::Elements(1000));
    g.bench_function("1000x10", |b| {
        b.iter(|| {
            let runs = (0..1000).map(|_| e.run(request(&doc)));
            let reports = rt.block_on(futures_util::future::join_all(runs));
            for r in reports {
                let r = r.unwrap();
                assert_eq!(r.status, RunStatus::Succeeded, "{}", r.detail);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, execute);
criterion_main!(benches);
