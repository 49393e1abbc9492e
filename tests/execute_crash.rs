//! Crash and resume for real: `cacao-forge run` is killed with SIGKILL at 100 random points of a
//! playbook (linear steps, a parallel pair, a while loop), then `cacao-forge runs resume`
//! finishes it. Every step instance must end exactly once in the log, and every command's
//! effect must happen exactly once.
//!
//! The commands make themselves idempotent with `CACAO_IDEMPOTENCY_KEY` (as a real target
//! should): a command that was running when the engine died is in doubt, and the resumed run
//! runs it again with the same key. `attempts` counts every execution, so the test also reports
//! how many such in-doubt re-executions the keys absorbed.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::exec::Pb;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_cacao-forge");
const KILLS: usize = 100;

fn playbook(dir: &Path) -> Value {
    let d = dir.display();
    // Record the attempt, then do the effect once per key.
    let effect = format!(
        "echo \"$CACAO_IDEMPOTENCY_KEY\" >> {d}/attempts; grep -qxF \"$CACAO_IDEMPOTENCY_KEY\" {d}/effects 2>/dev/null || echo \"$CACAO_IDEMPOTENCY_KEY\" >> {d}/effects; sleep 0.01"
    );
    let mut pb = Pb::new(900).var("__n__", "integer", "0").step("start1", json!({"on_completion": "a1"}));
    for i in 1..=6 {
        pb = pb.bash(&format!("a{i}"), &[&effect], &format!("a{}", i + 1));
    }
    pb.step("a7", json!({"commands": [{"type": "bash", "command": effect}], "on_completion": "par1"}))
        .step("par1", json!({"next_steps": ["a8", "a9"]}))
        .bash("a8", &[&effect], "while1")
        .bash("a9", &[&effect], "while1")
        .step("while1", json!({"condition": "__n__:value < 3", "on_true": "a10", "on_completion": "a11"}))
        .step(
            "a10",
            json!({"commands": [{"type": "bash", "command": format!("{effect}; n=__n__:value; echo $((n + 1))")}],
                   "out_args": ["__n__"], "on_completion": "while1"}),
        )
        .bash("a11", &[&effect], "end1")
        .step("end1", json!({}))
        .build()
}

fn cli(args: &[&str], db: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.args(args).args(["--db", db.to_str().unwrap(), "--quiet", "--approve-all"]);
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

fn show(run_id: &str, db: &Path) -> Option<Value> {
    let out =
        Command::new(BIN).args(["runs", "show", run_id, "--json", "--db", db.to_str().unwrap()]).output().unwrap();
    out.status.success().then(|| serde_json::from_slice(&out.stdout).unwrap())
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

/// A tiny deterministic generator for the kill times.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[test]
fn killed_runs_resume_without_losing_or_repeating_a_step() {
    let root = tempfile::tempdir().unwrap();
    // A run that is not killed: the reference for what must happen, and for how long a run takes.
    let reference = root.path().join("reference");
    std::fs::create_dir(&reference).unwrap();
    std::fs::write(reference.join("pb.json"), playbook(&reference).to_string()).unwrap();
    let db = reference.join("runs.db");
    let started = Instant::now();
    let out = cli(&["run", reference.join("pb.json").to_str().unwrap(), "--run-id", "ref"], &db).output().unwrap();
    assert!(out.status.success(), "reference run failed: {}", String::from_utf8_lossy(&out.stderr));
    let span = started.elapsed();
    let expected = lines(&reference.join("effects"));
    assert_eq!(expected.len(), 13, "8 linear steps, 2 parallel branches, 3 loop iterations: {expected:?}");

    let mut rng = SplitMix(0x00C0_FFEE);
    let mut in_doubt = 0;
    let mut resumes = 0;
    let mut killed_before_start = 0;
    for k in 0..KILLS {
        let dir = root.path().join(format!("kill-{k}"));
        std::fs::create_dir(&dir).unwrap();
        let pb = dir.join("pb.json");
        std::fs::write(&pb, playbook(&dir).to_string()).unwrap();
        let db = dir.join("runs.db");
        let run_id = format!("crash-{k}");
        let at = Duration::from_micros(rng.next() % (span.as_micros() as u64).max(1));
        let mut child = cli(&["run", pb.to_str().unwrap(), "--run-id", &run_id], &db).spawn().unwrap();
        std::thread::sleep(at);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Commands the dead engine started may still be finishing; let them.
        std::thread::sleep(Duration::from_millis(50));
        let mut done = false;
        for _ in 0..5 {
            let status = show(&run_id, &db).map(|v| v["run"]["status"].as_str().unwrap_or("").to_owned());
            match status.as_deref() {
                Some("succeeded") => {
                    done = true;
                    break;
                }
                None => {
                    // Killed before the run was recorded: nothing happened yet; start it again.
                    killed_before_start += 1;
                    let out = cli(&["run", pb.to_str().unwrap(), "--run-id", &run_id], &db).output().unwrap();
                    assert!(out.status.success(), "kill {k}: rerun failed: {}", String::from_utf8_lossy(&out.stderr));
                }
                Some(_) => {
                    resumes += 1;
                    let out = cli(&["runs", "resume", &run_id], &db).output().unwrap();
                    assert!(out.status.success(), "kill {k}: resume failed: {}", String::from_utf8_lossy(&out.stderr));
                }
            }
        }
        assert!(done, "kill {k} at {at:?}: the run did not finish");
        let effects = lines(&dir.join("effects"));
        let mut sorted = effects.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(effects.len(), sorted.len(), "kill {k} at {at:?}: an effect happened twice: {effects:?}");
        let strip = |s: &String| s.split_once('/').map(|(_, rest)| rest.to_owned()).unwrap_or_default();
        let mut got: Vec<String> = effects.iter().map(strip).collect();
        let mut want: Vec<String> = expected.iter().map(strip).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "kill {k} at {at:?}: a step was lost");
        // The log: every step instance finished exactly once.
        let log = show(&run_id, &db).unwrap();
        let mut finished: HashMap<String, usize> = HashMap::new();
        for e in log["events"].as_array().unwrap() {
            if e["event"]["event"] == "step_finished" {
                *finished.entry(e["event"]["instance"].as_str().unwrap().to_owned()).or_default() += 1;
            }
        }
        assert!(finished.values().all(|n| *n == 1), "kill {k}: a step finished twice: {finished:?}");
        in_doubt += lines(&dir.join("attempts")).len() - effects.len();
    }
    eprintln!(
        "{KILLS} kills over a {span:?} run: {resumes} resumes, {killed_before_start} killed before the run was recorded, \
         {in_doubt} in-doubt commands re-run and absorbed by their idempotency keys; 0 steps lost, 0 repeated"
    );
}
