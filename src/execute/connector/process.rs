//! Running a local process for the bash and powershell connectors: environment and working
//! directory control, bounded output, a timeout, and no orphans.
//!
//! - The environment is cleared and only the names in [`ProcessConfig::inherit_env`] are kept
//!   from ours (a playbook's command should not see the engine's secrets), plus the configured
//!   `env` and what the connector adds (variable values, the idempotency key).
//! - stdout and stderr are read concurrently to the end (so a chatty child never blocks on a
//!   full pipe) but only the first `output_limit` bytes of each are kept.
//! - The child runs in its own process group. On timeout, or when the future is dropped (a
//!   cancelled run), the whole group is killed: `bash -c 'sleep 600 &'` leaves nothing behind.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use indexmap::IndexMap;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::{bounded_text, CommandOutcome, ConnectorError};

/// Names kept from the engine's environment by default.
pub const DEFAULT_INHERITED_ENV: &[&str] = &["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/// What an operator may set for local processes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessConfig {
    /// The interpreter (`bash`, `pwsh`); a bare name is looked up on PATH.
    pub program: PathBuf,
    /// Working directory of commands; the engine's own when unset.
    pub working_dir: Option<PathBuf>,
    /// Environment variables kept from the engine's environment.
    pub inherit_env: Vec<String>,
    /// Environment variables set for every command.
    pub env: IndexMap<String, String>,
}

impl ProcessConfig {
    pub fn with_program(program: &str) -> ProcessConfig {
        ProcessConfig {
            program: PathBuf::from(program),
            working_dir: None,
            inherit_env: DEFAULT_INHERITED_ENV.iter().map(|s| (*s).to_owned()).collect(),
            env: IndexMap::new(),
        }
    }
}

impl Default for ProcessConfig {
    fn default() -> ProcessConfig {
        ProcessConfig::with_program("bash")
    }
}

/// One process to run.
#[derive(Debug, Clone)]
pub struct ProcessSpec<'a> {
    pub config: &'a ProcessConfig,
    pub args: Vec<String>,
    /// Added to the environment after the inherited and configured names.
    pub env: Vec<(String, String)>,
    /// Written to the child's stdin, which is then closed.
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
    pub output_limit: usize,
}

/// Runs `spec` to completion: `success` is exit status 0; a death by signal is a failure that
/// names the signal.
pub async fn run_process(spec: ProcessSpec<'_>) -> Result<CommandOutcome, ConnectorError> {
    let cfg = spec.config;
    let mut cmd = tokio::process::Command::new(&cfg.program);
    cmd.args(&spec.args).env_clear().stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for name in &cfg.inherit_env {
        if let Some(v) = std::env::var_os(name) {
            cmd.env(name, v);
        }
    }
    cmd.envs(&cfg.env).envs(spec.env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = &cfg.working_dir {
        cmd.current_dir(dir);
    }
    cmd.kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child =
        cmd.spawn().map_err(|e| ConnectorError::Invalid(format!("cannot start `{}`: {e}", cfg.program.display())))?;
    let group = GroupKiller(child.id());
    let (Some(mut stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(ConnectorError::Invalid("the child's pipes were not opened".into()));
    };
    let input = spec.stdin.unwrap_or_default();
    let limit = spec.output_limit;
    let work = async move {
        // A child that exits without reading its stdin closes the pipe: not our failure.
        let feed = async move {
            let _ = stdin.write_all(&input).await;
            drop(stdin);
        };
        let (_, out, err, status) =
            tokio::join!(feed, read_bounded(stdout, limit), read_bounded(stderr, limit), child.wait());
        (out, err, status)
    };
    let (out, err, status) = match tokio::time::timeout(spec.timeout, work).await {
        Ok(r) => r,
        // Dropping `work` drops the child (kill_on_drop); `group` kills what it started.
        Err(_) => return Err(ConnectorError::Timeout(spec.timeout)),
    };
    let status = status.map_err(|e| ConnectorError::Unavailable(format!("waiting for the process: {e}")))?;
    drop(group);
    let ((output, out_cut), (error_output, err_cut)) = (out, err);
    let (success, code, summary) = match status.code() {
        Some(c) => (c == 0, Some(i64::from(c)), format!("exit {c}")),
        None => (false, None, signal_summary(&status)),
    };
    Ok(CommandOutcome { success, status: code, output, error_output, truncated: out_cut || err_cut, summary })
}

#[cfg(unix)]
fn signal_summary(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(s) => format!("killed by signal {s}"),
        None => "ended without an exit status".into(),
    }
}

#[cfg(not(unix))]
fn signal_summary(_: &std::process::ExitStatus) -> String {
    "ended without an exit status".into()
}

/// Reads `r` to its end, keeping the first `limit` bytes.
async fn read_bounded(mut r: impl AsyncRead + Unpin, limit: usize) -> (String, bool) {
    let mut kept = Vec::new();
    let mut total = 0usize;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total = total.saturating_add(n);
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    let (text, cut) = bounded_text(&kept, limit);
    (text, cut || total > kept.len())
}

/// Kills the child's process group when dropped (the child itself is killed by tokio).
struct GroupKiller(Option<u32>);

impl Drop for GroupKiller {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.0.and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) with a negative pid signals the process group the child leads
            // (process_group(0) made it a leader); it has no memory-safety preconditions. When
            // the group is gone already the call fails with ESRCH, which is fine.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::connector::testing::block_on;

    fn spec<'a>(cfg: &'a ProcessConfig, script: &str) -> ProcessSpec<'a> {
        ProcessSpec {
            config: cfg,
            args: vec!["-c".into(), script.into()],
            env: vec![("CACAO_VAR_1".into(), "value one".into())],
            stdin: None,
            timeout: Duration::from_secs(20),
            output_limit: 1024,
        }
    }

    #[test]
    fn environment_is_cleared_except_what_is_kept_and_given() {
        std::env::set_var("CACAO_FORGE_TEST_SECRET", "hidden");
        let cfg = ProcessConfig::default();
        let out = block_on(run_process(spec(&cfg, "echo \"[$CACAO_VAR_1][${CACAO_FORGE_TEST_SECRET:-}]\""))).unwrap();
        assert!(out.success, "{out:?}");
        assert_eq!(out.output, "[value one][]\n");
        assert_eq!(out.summary, "exit 0");
    }

    #[test]
    fn exit_status_stderr_and_limits_are_reported() {
        let cfg = ProcessConfig::default();
        let out =
            block_on(run_process(spec(&cfg, "echo oops >&2; head -c 5000 /dev/zero | tr '\\0' x; exit 3"))).unwrap();
        assert!(!out.success);
        assert_eq!(out.status, Some(3));
        assert_eq!(out.error_output, "oops\n");
        assert_eq!(out.output.len(), 1024);
        assert!(out.truncated);
    }

    #[test]
    fn timeout_kills_the_whole_process_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let cfg = ProcessConfig::default();
        let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
        let mut s = spec(&cfg, &script);
        s.timeout = Duration::from_millis(200);
        let err = block_on(run_process(s)).unwrap_err();
        assert!(matches!(err, ConnectorError::Timeout(_)), "{err}");
        std::thread::sleep(Duration::from_millis(1500));
        assert!(!marker.exists(), "the background child outlived the timeout");
    }

    #[test]
    fn missing_program_is_a_clear_error() {
        let cfg = ProcessConfig::with_program("/nonexistent/cacao-shell");
        let err = block_on(run_process(spec(&cfg, "true"))).unwrap_err();
        assert!(err.to_string().contains("cannot start `/nonexistent/cacao-shell`"), "{err}");
    }

    #[test]
    fn working_directory_and_stdin_are_applied() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = ProcessConfig { working_dir: Some(dir.path().to_owned()), ..ProcessConfig::default() };
        let mut s = spec(&cfg, "pwd; cat");
        s.stdin = Some(b"from stdin".to_vec());
        let out = block_on(run_process(s)).unwrap();
        let canonical = dir.path().canonicalize().unwrap();
        assert_eq!(out.output, format!("{}\nfrom stdin", canonical.display()));
    }
}
