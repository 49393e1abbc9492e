//! The ssh connector against a real OpenSSH sshd on loopback (tests/common/sshd.rs starts one
//! per test and kills it on drop).
//!
//! Covered: key logins (ed25519, ecdsa, rsa in OpenSSH and PEM form), password login, hostile
//! variable values round-tripping byte for byte in every quoting context under bash and dash
//! with a canary file proving nothing ran, exit status, exit signal, stderr, output truncation,
//! the timeout and the kill of the remote command (signal for non-root users, a pty for
//! root), host key checking (unknown, changed, hashed
//! known_hosts, accept_unknown_hosts), rejected logins, the idempotency key, and transport
//! failures (closed port, a server that never speaks).
//!
//! When sshd is missing the tests say so and fail, unless CACAO_FORGE_ALLOW_SKIP=1.

#[path = "common/sshd.rs"]
mod sshd;

use std::time::Duration;

use cacao_forge::cacao::model::{AgentTarget, AgentTargetType, AuthenticationInfo, AuthenticationInfoType};
use cacao_forge::cacao::Identifier;
use cacao_forge::execute::connector::ssh::{SshConfig, SshConnector};
use cacao_forge::execute::{CommandOutcome, CommandRequest, Connector, ConnectorError, Target, Variables};
use indexmap::IndexMap;
use serde_json::json;
use sshd::{keygen, skip_or_fail, KeyPair, Sshd};

/// A started sshd that authorizes `keys`, or `None` after [`skip_or_fail`] explained why not.
fn start(keys: &[&KeyPair]) -> Option<Sshd> {
    match Sshd::start(keys) {
        Ok(s) => Some(s),
        Err(e) => {
            skip_or_fail(&e);
            None
        }
    }
}

/// An ed25519 client key in a temporary directory.
fn client_key(kind: &str, extra: &[&str]) -> Option<(tempfile::TempDir, KeyPair)> {
    let dir = tempfile::tempdir().expect("tempdir");
    match keygen(dir.path(), &format!("client_{kind}"), kind, extra) {
        Ok(k) => Some((dir, k)),
        Err(e) => {
            skip_or_fail(&e);
            None
        }
    }
}

fn key_auth(user: &str, key: &KeyPair) -> AuthenticationInfo {
    AuthenticationInfo {
        auth_type: Some(AuthenticationInfoType::Other("private-key".into())),
        user_id: Some(user.into()),
        private_key: Some(key.private.clone()),
        ..AuthenticationInfo::default()
    }
}

fn password_auth(user: &str, password: &str) -> AuthenticationInfo {
    AuthenticationInfo {
        auth_type: Some(AuthenticationInfoType::UserAuth),
        username: Some(user.into()),
        password: Some(password.into()),
        ..AuthenticationInfo::default()
    }
}

fn target(port: u16, auth: AuthenticationInfo) -> Target {
    let mut address = IndexMap::new();
    address.insert("ipv4".to_owned(), vec!["127.0.0.1".to_owned()]);
    Target {
        id: "ssh--0b7c0d9e-1f2a-4b3c-8d4e-5f6a7b8c9d0e".into(),
        definition: AgentTarget {
            agent_target_type: Some(AgentTargetType::Ssh),
            address: Some(address),
            port: Some(port.to_string()),
            authentication_info: Some(Identifier::new_v4("user-auth")),
            ..AgentTarget::default()
        },
        auth: Some(auth),
    }
}

fn request(port: u16, auth: AuthenticationInfo, command: &str, variables: Variables) -> CommandRequest {
    CommandRequest {
        run_id: "run-1".into(),
        step_id: "action--1".into(),
        step_instance: "action--1".into(),
        command_index: 0,
        idempotency_key: "run-1/action--1/0".into(),
        command_type: "ssh".into(),
        command: command.into(),
        headers: IndexMap::new(),
        content: None,
        version: None,
        target: Some(target(port, auth)),
        variables,
        timeout: Duration::from_secs(60),
        output_limit: 1 << 20,
    }
}

fn connector(sshd: &Sshd) -> SshConnector {
    SshConnector::new(SshConfig { known_hosts: Some(sshd.known_hosts.clone()), ..SshConfig::default() })
}

fn no_vars() -> Variables {
    Variables::default()
}

async fn run_ok(conn: &SshConnector, sshd: &Sshd, req: &CommandRequest) -> CommandOutcome {
    match conn.execute(req).await {
        Ok(o) => o,
        Err(e) => panic!("{e}\nsshd log:\n{}", sshd.log()),
    }
}

#[tokio::test]
async fn key_login_runs_the_command_and_reports_exit_0() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let user = sshd::current_user();
    let req = request(sshd.port, key_auth(&user, &key), "printf hello; printf warn >&2", no_vars());
    let out = run_ok(&connector(&sshd), &sshd, &req).await;
    assert!(out.success, "{out:?}");
    assert_eq!(out.status, Some(0));
    assert_eq!(out.output, "hello");
    assert_eq!(out.error_output, "warn");
    assert!(!out.truncated);
    assert_eq!(out.summary, format!("exit 0 on {user}@127.0.0.1:{}", sshd.port));
    let rendered = connector(&sshd).render(&req).unwrap();
    assert_eq!(rendered.target, format!("ssh {user}@127.0.0.1:{}", sshd.port));
    assert!(!format!("{rendered:?}").contains("PRIVATE KEY"));
}

#[tokio::test]
async fn ecdsa_and_rsa_keys_in_openssh_and_pem_form_log_in() {
    let Some((_a, ecdsa)) = client_key("ecdsa", &[]) else { return };
    let Some((_b, rsa)) = client_key("rsa", &[]) else { return };
    let Some((_c, rsa_pem)) = client_key("rsa", &["-m", "PEM"]) else { return };
    assert!(rsa_pem.private.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let Some(sshd) = start(&[&ecdsa, &rsa, &rsa_pem]) else { return };
    let user = sshd::current_user();
    for (name, key) in [("ecdsa", &ecdsa), ("rsa", &rsa), ("rsa pem", &rsa_pem)] {
        let req = request(sshd.port, key_auth(&user, key), "printf ok", no_vars());
        let out = run_ok(&connector(&sshd), &sshd, &req).await;
        assert_eq!((out.success, out.output.as_str()), (true, "ok"), "{name}");
    }
}

/// Values that would run something, or change, if they were spliced in unquoted; `CANARY` is
/// replaced by a file path that must never be created.
const HOSTILE: &[&str] = &[
    "it's",
    "say \"hi\"",
    "$(touch CANARY)",
    "`touch CANARY`",
    "; touch CANARY; #",
    "a\nb",
    "\ntouch CANARY\n",
    "back\\slash\\",
    "$HOME ${HOME} $((1+1)) $1 $@",
    "*",
    " lead and trail ",
    "-n",
    "CR\r\nLF\r",
    "'\\''",
    "é ✓ 中",
    "",
    "\\\"'$`!#&|<>(){}[];~ \t",
    "'; touch CANARY; '",
    "\"; touch CANARY; \"",
    "$'\\x41' $\"x\"",
    "--",
    "EOF",
    "%s %d \\n",
];

/// A command shape with the reference written as `V`, and what it must print for a value.
struct Template {
    text: &'static str,
    expect: fn(&str) -> String,
    bash_only: bool,
}

const TEMPLATES: &[Template] = &[
    Template { text: "printf '%s' V", expect: |v| v.into(), bash_only: false },
    Template { text: "printf '%s' \"<V>\"", expect: |v| format!("<{v}>"), bash_only: false },
    Template { text: "printf '%s' '<V>'", expect: |v| format!("<{v}>"), bash_only: false },
    Template { text: "printf '%s' $'<V>'", expect: |v| format!("<{v}>"), bash_only: true },
    Template { text: "printf '%s' \"$(printf '%s' V; printf .)\"", expect: |v| format!("{v}."), bash_only: false },
    Template { text: "printf '%s' ok # V", expect: |_| "ok".into(), bash_only: false },
    Template { text: "printf '%s' \\V", expect: |v| v.into(), bash_only: false },
    Template { text: "printf '%s' \"\\V\"", expect: |v| format!("\\{v}"), bash_only: false },
    Template { text: "printf '%s' $V", expect: |v| format!("${v}"), bash_only: false },
    Template { text: "printf '%s' \"$V\"", expect: |v| format!("${v}"), bash_only: false },
    Template { text: "x=V; printf '%s' \"$x\"", expect: |v| v.into(), bash_only: false },
    Template { text: "true\nprintf '%s' pre-V-post", expect: |v| format!("pre-{v}-post"), bash_only: false },
];

/// Runs every template over every hostile value, one command per template (the values as
/// `__v0__`...), and checks the output byte for byte and that the canary was never created.
async fn round_trip(conn: &SshConnector, sshd: &Sshd, auth: AuthenticationInfo, bash: bool) {
    let canary = std::env::temp_dir().join(format!("cacao-forge-canary-{}", uuid::Uuid::new_v4().simple()));
    let canary_s = canary.to_string_lossy().into_owned();
    let values: Vec<String> = HOSTILE.iter().map(|v| v.replace("CANARY", &canary_s)).collect();
    let mut decl = serde_json::Map::new();
    for (i, v) in values.iter().enumerate() {
        decl.insert(format!("__v{i}__"), json!({"type": "string", "value": v}));
    }
    let vars = Variables::from_json(&serde_json::Value::Object(decl), "/playbook_variables").unwrap();
    for t in TEMPLATES.iter().filter(|t| bash || !t.bash_only) {
        // One line per value, NUL bytes between their outputs.
        let command: Vec<String> = (0..values.len()).map(|i| t.text.replace('V', &format!("__v{i}__:value"))).collect();
        let command = command.join("\nprintf '\\000'\n");
        let req = request(sshd.port, auth.clone(), &command, vars.clone());
        let out = run_ok(conn, sshd, &req).await;
        assert!(out.success, "template {:?}: {out:?}", t.text);
        let got: Vec<&str> = out.output.split('\0').collect();
        let want: Vec<String> = values.iter().map(|v| (t.expect)(v)).collect();
        assert_eq!(got.len(), want.len(), "template {:?}: {:?}", t.text, out.output);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "template {:?}, value {:?}", t.text, values[i]);
        }
        assert_eq!(out.error_output, "", "template {:?}", t.text);
    }
    assert!(!canary.exists(), "a hostile value ran a command: {} exists", canary.display());
}

#[tokio::test]
async fn hostile_values_round_trip_byte_for_byte_under_the_login_shell() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let user = sshd::current_user();
    // Run as the current user (root's shell is bash here); $'...' only where the shell has it.
    let shell = std::process::Command::new("getent").args(["passwd", &user]).output().ok();
    let bash = shell.is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim_end().ends_with("bash"));
    round_trip(&connector(&sshd), &sshd, key_auth(&user, &key), bash).await;
}

#[tokio::test]
async fn password_login_and_hostile_values_under_dash() {
    let (user, password) = match sshd::password_user() {
        Ok(u) => u,
        Err(e) => return skip_or_fail(&e),
    };
    let Some(sshd) = start(&[]) else { return };
    let conn = connector(&sshd);
    let out = run_ok(&conn, &sshd, &request(sshd.port, password_auth(&user, &password), "id -un", no_vars())).await;
    assert_eq!(out.output.trim(), user);
    // The account's shell is /bin/sh (dash on Debian): a second POSIX shell for the quoting.
    round_trip(&conn, &sshd, password_auth(&user, &password), false).await;
}

#[tokio::test]
async fn a_failing_command_reports_its_status_and_stderr() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let user = sshd::current_user();
    let req = request(sshd.port, key_auth(&user, &key), "echo out; echo err >&2; exit 3", no_vars());
    let out = run_ok(&connector(&sshd), &sshd, &req).await;
    assert!(!out.success);
    assert_eq!(out.status, Some(3));
    assert_eq!(out.output, "out\n");
    assert_eq!(out.error_output, "err\n");
    assert_eq!(out.summary, format!("exit 3 on {user}@127.0.0.1:{}", sshd.port));
}

#[tokio::test]
async fn a_command_killed_by_a_signal_is_a_failure_naming_it() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let user = sshd::current_user();
    let req = request(sshd.port, key_auth(&user, &key), "kill -TERM $$", no_vars());
    let out = run_ok(&connector(&sshd), &sshd, &req).await;
    assert!(!out.success);
    assert_eq!(out.status, None);
    assert!(out.summary.starts_with("killed by signal TERM on "), "{}", out.summary);
}

#[tokio::test]
async fn output_is_cut_at_the_limit_and_marked_truncated() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let user = sshd::current_user();
    let conn = connector(&sshd);
    let command = "head -c 300000 /dev/zero | tr '\\0' a; head -c 50 /dev/zero | tr '\\0' b >&2";
    let mut req = request(sshd.port, key_auth(&user, &key), command, no_vars());
    req.output_limit = 1000;
    let out = run_ok(&conn, &sshd, &req).await;
    assert!(out.success && out.truncated);
    assert_eq!(out.output, "a".repeat(1000));
    assert_eq!(out.error_output, "b".repeat(50));
    // stderr over the limit is cut the same way.
    let mut req = request(sshd.port, key_auth(&user, &key), "head -c 5000 /dev/zero | tr '\\0' e >&2", no_vars());
    req.output_limit = 10;
    let out = run_ok(&conn, &sshd, &req).await;
    assert!(out.truncated);
    assert_eq!(out.error_output, "eeeeeeeeee");
    // At the limit exactly, nothing is cut.
    let mut req = request(sshd.port, key_auth(&user, &key), "printf 0123456789", no_vars());
    req.output_limit = 10;
    let out = run_ok(&conn, &sshd, &req).await;
    assert_eq!((out.output.as_str(), out.truncated), ("0123456789", false));
}

/// Runs `sleep {seconds}` with a 1 s timeout and checks that it timed out.
async fn time_out(conn: &SshConnector, sshd: &Sshd, auth: AuthenticationInfo, seconds: u16) {
    let mut req = request(sshd.port, auth, &format!("sleep {seconds}"), no_vars());
    req.timeout = Duration::from_secs(1);
    match conn.execute(&req).await {
        Err(ConnectorError::Timeout(d)) => assert_eq!(d, Duration::from_secs(1)),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

/// Waits (boundedly: this is a wait, not a timing assertion) until no `sleep {seconds}` runs.
async fn assert_sleep_gone(conn: &SshConnector, sshd: &Sshd, auth: AuthenticationInfo, seconds: u16) {
    let check = request(sshd.port, auth, &format!("pgrep -f '[s]leep {seconds}' || true"), no_vars());
    let mut still_running = String::new();
    for _ in 0..40 {
        still_running = run_ok(conn, sshd, &check).await.output;
        if still_running.trim().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!(
        "the remote `sleep {seconds}` (pid {}) survived the timeout; sshd log:\n{}",
        still_running.trim(),
        sshd.log()
    );
}

#[tokio::test]
async fn the_timeout_returns_timeout() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let auth = key_auth(&sshd::current_user(), &key);
    let conn = connector(&sshd);
    if sshd::is_root() {
        // OpenSSH refuses the kill signal on root sessions: a short sleep, which outlives the
        // test by seconds at most (the pty and non-root tests check the kill).
        time_out(&conn, &sshd, auth, 30).await;
    } else {
        let seconds = 3000 + sshd.port % 997;
        time_out(&conn, &sshd, auth.clone(), seconds).await;
        assert_sleep_gone(&conn, &sshd, auth, seconds).await;
    }
}

#[tokio::test]
async fn a_timed_out_command_of_a_non_root_user_is_killed() {
    let (user, password) = match sshd::password_user() {
        Ok(u) => u,
        Err(e) => return skip_or_fail(&e),
    };
    let Some(sshd) = start(&[]) else { return };
    let conn = connector(&sshd);
    let seconds = 4000 + sshd.port % 997;
    time_out(&conn, &sshd, password_auth(&user, &password), seconds).await;
    assert_sleep_gone(&conn, &sshd, password_auth(&user, &password), seconds).await;
}

#[tokio::test]
async fn with_a_pty_a_timed_out_root_command_dies_with_its_connection() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let auth = key_auth(&sshd::current_user(), &key);
    let conn = SshConnector::new(SshConfig {
        known_hosts: Some(sshd.known_hosts.clone()),
        use_pty: true,
        ..SshConfig::default()
    });
    // On a terminal, stderr arrives in the output and bytes are not rewritten (no CR added).
    let out = run_ok(&conn, &sshd, &request(sshd.port, auth.clone(), "printf 'a\\nb'; printf e >&2", no_vars())).await;
    assert_eq!((out.output.as_str(), out.error_output.as_str(), out.success), ("a\nbe", "", true));
    let seconds = 5000 + sshd.port % 997;
    time_out(&conn, &sshd, auth.clone(), seconds).await;
    assert_sleep_gone(&conn, &sshd, auth, seconds).await;
}

#[tokio::test]
async fn unknown_host_keys_are_refused_with_their_fingerprint_unless_accepted() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let user = sshd::current_user();
    let empty = sshd.dir.path().join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let req = request(sshd.port, key_auth(&user, &key), "printf ok", no_vars());
    let strict = SshConnector::new(SshConfig { known_hosts: Some(empty.clone()), ..SshConfig::default() });
    match strict.execute(&req).await {
        Err(ConnectorError::Invalid(m)) => {
            assert!(m.contains("unknown host key"), "{m}");
            assert!(m.contains(&sshd.host_key.fingerprint), "{m} lacks {}", sshd.host_key.fingerprint);
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let lenient =
        SshConnector::new(SshConfig { known_hosts: Some(empty), accept_unknown_hosts: true, ..SshConfig::default() });
    assert_eq!(run_ok(&lenient, &sshd, &req).await.output, "ok");
}

#[tokio::test]
async fn a_different_recorded_host_key_is_refused_even_when_unknown_hosts_are_accepted() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let other = keygen(sshd.dir.path(), "impostor", "ed25519", &[]).unwrap();
    let wrong = sshd.dir.path().join("wrong_known_hosts");
    std::fs::write(&wrong, format!("[127.0.0.1]:{} {}\n", sshd.port, other.public)).unwrap();
    let conn =
        SshConnector::new(SshConfig { known_hosts: Some(wrong), accept_unknown_hosts: true, ..SshConfig::default() });
    let req = request(sshd.port, key_auth(&sshd::current_user(), &key), "printf ok", no_vars());
    match conn.execute(&req).await {
        Err(e @ ConnectorError::Invalid(_)) => {
            let m = e.to_string();
            assert!(m.contains("MISMATCH") && m.contains(&sshd.host_key.fingerprint), "{m}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn hashed_known_hosts_entries_are_understood() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let (_, keygen_path) = sshd::find_sshd().unwrap();
    let status = std::process::Command::new(keygen_path)
        .args(["-H", "-f"])
        .arg(&sshd.known_hosts)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&sshd.known_hosts).unwrap();
    assert!(text.starts_with("|1|"), "ssh-keygen -H did not hash: {text}");
    let req = request(sshd.port, key_auth(&sshd::current_user(), &key), "printf ok", no_vars());
    assert_eq!(run_ok(&connector(&sshd), &sshd, &req).await.output, "ok");
}

#[tokio::test]
async fn rejected_logins_are_invalid_and_never_show_the_secret() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some((_u, unauthorized)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let user = sshd::current_user();
    let conn = connector(&sshd);
    let secret = "wrong-Passw0rd-7d1f";
    let req = request(sshd.port, password_auth(&user, secret), "printf ok", no_vars());
    match conn.execute(&req).await {
        Err(e @ ConnectorError::Invalid(_)) => {
            let m = e.to_string();
            assert!(m.contains("password authentication was rejected"), "{m}");
            assert!(!m.contains(secret) && !format!("{e:?} {req:?}").contains(secret), "{m}");
            assert!(!e.is_transient());
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let req = request(sshd.port, key_auth(&user, &unauthorized), "printf ok", no_vars());
    match conn.execute(&req).await {
        Err(e @ ConnectorError::Invalid(_)) => {
            let m = e.to_string();
            assert!(m.contains("public key authentication was rejected"), "{m}");
            assert!(!m.contains("PRIVATE KEY") && !format!("{req:?}").contains("PRIVATE KEY"));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn the_idempotency_key_reaches_a_server_that_accepts_it() {
    let Some((_k, key)) = client_key("ed25519", &[]) else { return };
    let Some(sshd) = start(&[&key]) else { return };
    let req =
        request(sshd.port, key_auth(&sshd::current_user(), &key), "printf %s \"$CACAO_IDEMPOTENCY_KEY\"", no_vars());
    assert_eq!(run_ok(&connector(&sshd), &sshd, &req).await.output, "run-1/action--1/0");
    let off = SshConnector::new(SshConfig {
        known_hosts: Some(sshd.known_hosts.clone()),
        send_idempotency_key: false,
        ..SshConfig::default()
    });
    assert_eq!(run_ok(&off, &sshd, &req).await.output, "");
}

#[tokio::test]
async fn a_closed_port_is_unavailable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let conn = SshConnector::default();
    let req = request(port, password_auth("root", "x-secret"), "true", no_vars());
    match conn.execute(&req).await {
        Err(e @ ConnectorError::Unavailable(_)) => {
            assert!(e.is_transient());
            assert!(e.to_string().contains("connection refused"), "{e}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_never_speaks_hits_the_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let conn = SshConnector::new(SshConfig { connect_timeout: Duration::from_millis(300), ..SshConfig::default() });
    let req = request(port, password_auth("root", "x-secret"), "true", no_vars());
    // The listener's backlog accepts the connection; nobody ever answers.
    match conn.execute(&req).await {
        Err(e @ ConnectorError::Unavailable(_)) => assert!(e.to_string().contains("connect timeout"), "{e}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    drop(listener);
}
