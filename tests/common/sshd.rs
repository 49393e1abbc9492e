//! A real OpenSSH `sshd` on loopback for the ssh connector's tests.
//!
//! Each [`Sshd`] is its own server: a temporary directory with a generated ed25519 host key, an
//! `authorized_keys` file with the keys the test passes, and a config (`PidFile none`,
//! `UsePAM no`, `StrictModes no`, `PermitRootLogin yes`, password and key logins,
//! `AcceptEnv CACAO_IDEMPOTENCY_KEY`), run as `sshd -D -e -f <config>` on 127.0.0.1 and a free
//! port. It is ready when its log says "Server listening"; it is killed when dropped.
//!
//! What the machine must have: OpenSSH's `sshd` and `ssh-keygen` ([`find_sshd`] says how to
//! install them when they are missing). Password logins need a system account with a known
//! password: as root, [`password_user`] creates `cacaoforge-test` (shell /bin/sh, no home) and
//! gives it a fresh random password per test process; otherwise it explains why it cannot.
//! A test that cannot run calls [`skip_or_fail`]: it fails unless `CACAO_FORGE_ALLOW_SKIP=1`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The environment variable that lets a test skip when the machine lacks something.
pub const ALLOW_SKIP: &str = "CACAO_FORGE_ALLOW_SKIP";

/// How long sshd may take to say it is listening (a readiness wait, not an assertion).
const READY_WAIT: Duration = Duration::from_secs(20);

/// The account password logins are tested with.
pub const PASSWORD_USER: &str = "cacaoforge-test";

/// Prints why a test cannot run; fails it unless `CACAO_FORGE_ALLOW_SKIP=1`.
pub fn skip_or_fail(why: &str) {
    if std::env::var(ALLOW_SKIP).as_deref() == Ok("1") {
        eprintln!("SKIPPED (CACAO_FORGE_ALLOW_SKIP=1): {why}");
    } else {
        panic!("{why}\n(set {ALLOW_SKIP}=1 to skip this test instead of failing it)");
    }
}

fn which(name: &str, also: &[&str]) -> Option<PathBuf> {
    also.iter().map(PathBuf::from).find(|p| p.is_file()).or_else(|| {
        std::env::var_os("PATH")
            .and_then(|path| std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()))
    })
}

/// The OpenSSH server and key generator, or a message saying what is missing and how to get it.
pub fn find_sshd() -> Result<(PathBuf, PathBuf), String> {
    let install = "install OpenSSH: `apt-get install -y --no-install-recommends openssh-server openssh-client` \
                   (Debian/Ubuntu), `dnf install openssh-server openssh-clients` (Fedora), `apk add openssh` (Alpine)";
    let sshd = which("sshd", &["/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"])
        .ok_or_else(|| format!("the ssh connector tests need a real OpenSSH sshd, and none was found: {install}"))?;
    let keygen = which("ssh-keygen", &["/usr/bin/ssh-keygen", "/usr/local/bin/ssh-keygen"])
        .ok_or_else(|| format!("the ssh connector tests need ssh-keygen, and none was found: {install}"))?;
    Ok((sshd, keygen))
}

fn run(program: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} {} failed ({}): {}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The user the tests run as (sshd run by a non-root user can only log that user in).
pub fn current_user() -> String {
    run(Path::new("id"), &["-un"]).map(|s| s.trim().to_owned()).unwrap_or_else(|_| "root".into())
}

pub fn is_root() -> bool {
    run(Path::new("id"), &["-u"]).map(|s| s.trim() == "0").unwrap_or(false)
}

/// A generated client or host key.
#[derive(Clone)]
pub struct KeyPair {
    pub private: String,
    /// `ssh-ed25519 AAAA... comment`.
    pub public: String,
    /// `SHA256:...`.
    pub fingerprint: String,
}

/// Generates a key with ssh-keygen: `kind` is `ed25519`, `rsa` or `ecdsa`; `extra` adds options
/// (`-m PEM`).
pub fn keygen(dir: &Path, name: &str, kind: &str, extra: &[&str]) -> Result<KeyPair, String> {
    let (_, keygen) = find_sshd()?;
    let path = dir.join(name);
    let path_s = path.to_string_lossy().into_owned();
    let mut args = vec!["-q", "-t", kind, "-N", "", "-C", name, "-f", &path_s];
    if kind == "rsa" {
        args.extend(["-b", "2048"]);
    }
    args.extend(extra);
    run(&keygen, &args)?;
    let private = std::fs::read_to_string(&path).map_err(|e| format!("read {path_s}: {e}"))?;
    let public = std::fs::read_to_string(format!("{path_s}.pub")).map_err(|e| format!("read {path_s}.pub: {e}"))?;
    let listing = run(&keygen, &["-l", "-f", &format!("{path_s}.pub")])?;
    let fingerprint = listing.split_whitespace().nth(1).unwrap_or_default().to_owned();
    Ok(KeyPair { private, public: public.trim().to_owned(), fingerprint })
}

/// A running sshd; killed on drop.
pub struct Sshd {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub host_key: KeyPair,
    /// A known_hosts file holding the host key for `[127.0.0.1]:port`.
    pub known_hosts: PathBuf,
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sshd {
    /// Starts an sshd that accepts `authorized` keys (for every user) and passwords.
    pub fn start(authorized: &[&KeyPair]) -> Result<Sshd, String> {
        let (sshd, _) = find_sshd()?;
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let host_key = keygen(dir.path(), "host_ed25519", "ed25519", &[])?;
        let keys: String = authorized.iter().map(|k| format!("{}\n", k.public)).collect();
        std::fs::write(dir.path().join("authorized_keys"), keys).map_err(|e| format!("authorized_keys: {e}"))?;
        if is_root() {
            // Debian's sshd refuses to start without its privilege separation directory.
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let mut last_error = String::new();
        // A free port is found by binding port 0 and closing it; another process may take it
        // before sshd binds, so try a few.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| format!("no free loopback port: {e}"))?
                .port();
            match Sshd::spawn(&sshd, dir.path(), port) {
                Ok((child, log)) => {
                    let known_hosts = dir.path().join("known_hosts");
                    let line = format!("[127.0.0.1]:{port} {}\n", host_key.public);
                    std::fs::write(&known_hosts, line).map_err(|e| format!("known_hosts: {e}"))?;
                    return Ok(Sshd { port, dir, host_key, known_hosts, child, log });
                }
                Err(e) if e.contains("Address already in use") => last_error = e,
                Err(e) => return Err(e),
            }
        }
        Err(last_error)
    }

    fn spawn(sshd: &Path, dir: &Path, port: u16) -> Result<(Child, Arc<Mutex<String>>), String> {
        let d = dir.display();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_ed25519\nPidFile none\nUsePAM no\n\
             StrictModes no\nPermitRootLogin yes\nPubkeyAuthentication yes\nPasswordAuthentication yes\n\
             KbdInteractiveAuthentication no\nAuthorizedKeysFile {d}/authorized_keys\n\
             AcceptEnv CACAO_IDEMPOTENCY_KEY\nPrintMotd no\nLogLevel VERBOSE\nMaxStartups 64\nMaxSessions 64\n"
        );
        let config_path = dir.join("sshd_config");
        std::fs::write(&config_path, config).map_err(|e| format!("sshd_config: {e}"))?;
        let mut child = Command::new(sshd)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", sshd.display()))?;
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        let stderr = child.stderr.take().ok_or("sshd stderr was not captured")?;
        let log_writer = log.clone();
        // The reader drains sshd's log for its whole life, so sshd never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("Server listening on") {
                    let _ = ready_tx.send(());
                }
                if let Ok(mut l) = log_writer.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
            }
        });
        match ready_rx.recv_timeout(READY_WAIT) {
            Ok(()) => Ok((child, log)),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let text = log.lock().map(|l| l.clone()).unwrap_or_default();
                Err(format!("sshd did not start listening on 127.0.0.1:{port}; its log:\n{text}"))
            }
        }
    }

    /// What sshd logged so far (for failure messages).
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// `cacaoforge-test` and its password, set up once per test process; an error says why not.
pub fn password_user() -> Result<(String, String), String> {
    static USER: OnceLock<Result<(String, String), String>> = OnceLock::new();
    USER.get_or_init(|| {
        if !is_root() {
            return Err(format!(
                "the password login test needs root to create the account `{PASSWORD_USER}` and set its password \
                 (sshd checks system passwords); running as `{}`",
                current_user()
            ));
        }
        if run(Path::new("id"), &["-u", PASSWORD_USER]).is_err() {
            let useradd = which("useradd", &["/usr/sbin/useradd", "/sbin/useradd"])
                .ok_or("the password login test needs `useradd` to create its account (package passwd)")?;
            run(&useradd, &["-M", "-d", "/", "-s", "/bin/sh", PASSWORD_USER])?;
        }
        // A fresh random password each run: the account never has a password anyone knows.
        let password = format!("cf-{}", uuid::Uuid::new_v4().simple());
        let chpasswd = which("chpasswd", &["/usr/sbin/chpasswd", "/sbin/chpasswd"])
            .ok_or("the password login test needs `chpasswd` (package passwd)")?;
        let mut child = Command::new(chpasswd)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run chpasswd: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            writeln!(stdin, "{PASSWORD_USER}:{password}").map_err(|e| format!("chpasswd: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("chpasswd: {e}"))?;
        if !out.status.success() {
            return Err(format!("chpasswd failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok((PASSWORD_USER.to_owned(), password))
    })
    .clone()
}
