//! The `ssh` connector: runs a CACAO `ssh` command on the step's target over SSH (russh, a pure
//! Rust client; ring for the cryptography).
//!
//! Design decisions:
//! - **Where.** The host is the target's first `ipv4`, then `ipv6`, then `dname` address; it must
//!   be one plain IP address or host name (no CIDR, no `user@`, no `host:port`, nothing that
//!   starts with `-`), the port is the target's `port` (default 22). Variables in the address,
//!   port and authentication info are substituted as plain text first (CACAO recommends keeping
//!   credentials in variables); the result is then validated, never trusted.
//! - **Who.** CACAO v2.0 `user-auth` (`username`, `password`) logs in with a password; the
//!   `private-key` type (`user_id`, `private_key`; `username` is accepted for `user_id`) logs in
//!   with an OpenSSH or PEM ed25519, ecdsa or rsa key. A `user-auth` that carries a
//!   `private_key` and no password uses the key. CACAO has no passphrase property, so an
//!   encrypted key is refused with a message saying so; `kms: true` is refused too (no KMS is
//!   wired in). Anything missing is [`ConnectorError::Invalid`], naming what is missing.
//! - **Which host.** Host keys are checked against an OpenSSH `known_hosts` file
//!   ([`SshConfig::known_hosts`], default `$HOME/.ssh/known_hosts`): plain, wildcard, negated
//!   and hashed (`|1|salt|hash`) host patterns, `[host]:port` for ports other than 22,
//!   `@revoked` keys. An unknown host is refused unless [`SshConfig::accept_unknown_hosts`]; the
//!   error shows the key's SHA256 fingerprint and the exact line to add. A host whose recorded
//!   key differs is always refused (that is what a man in the middle looks like).
//! - **What.** Variables in the command are written in **quoted for the remote POSIX shell**
//!   by [`super::shell::substitute_posix`] (shared with the bash connector), a small quote-state scanner: outside quotes a value
//!   becomes one single-quoted word, inside double quotes `\ $ " `` ` are escaped, inside single
//!   (or `$'...'`) quotes the quote is closed, the value written single-quoted and the quote
//!   reopened, in a comment newlines become spaces. Places where no quoting is sound (here-
//!   documents, backquotes, `${...}`, arithmetic, NUL bytes) are refused rather than guessed.
//!   Limits: this keeps a value one word of *data* for the shell's parser; a command that
//!   evaluates its own arguments (`eval`, `sh -c`, bash arithmetic in `[[ -eq ]]`/`let`) gets
//!   the value as data and may still evaluate it, and the login shell must be a POSIX shell
//!   (sh, dash, bash, ksh, zsh; not csh or fish). `execute` refuses undefined `__name__:value`
//!   references; a bare undefined `__name__` is left as text (it may be Python's `__main__`).
//!   `render` gives the command as it will run (`text`) and `ssh user@host:port` (`target`).
//! - **Idempotency key.** Sent as the `CACAO_IDEMPOTENCY_KEY` environment request, without
//!   asking for a reply: sshd accepts it only where `AcceptEnv` lists it (most do not), and a
//!   refusal must not fail the command, so the remote side may or may not see it. Nothing is
//!   prefixed to the command for it ([`SshConfig::send_idempotency_key`] turns it off).
//! - **Results.** stdout and stderr are each kept up to `request.output_limit` bytes; the rest
//!   is read and discarded (the channel must drain) and marks the outcome truncated. Exit status
//!   0 is success; an `exit-signal` is a failure whose summary names the signal.
//! - **Time and cancellation.** `request.timeout` covers connect, key exchange, authentication
//!   and the run ([`ConnectorError::Timeout`]); [`SshConfig::connect_timeout`] also bounds
//!   connect + handshake + authentication ([`ConnectorError::Unavailable`]). The future owns
//!   the connection: dropping it (a timeout, a cancelled run) closes it. Without a terminal,
//!   sshd lets a command run on after its connection closes, so a command still running is
//!   first sent SIGKILL with the `signal` channel request (OpenSSH ≥ 7.9 signals the session's
//!   process group). OpenSSH refuses that request on **root** sessions (they run without
//!   post-authentication privilege separation); for those, [`SshConfig::use_pty`] runs the
//!   command on a terminal, which sshd hangs up (SIGHUP) when the connection closes, at the
//!   price of stderr arriving merged into stdout. Without either, a cancelled command as root
//!   runs to its end on the host.
//! - **Errors.** Refused, reset or unreachable connections, DNS failures, dropped sessions and
//!   connect timeouts are [`ConnectorError::Unavailable`] (a retry may help); a rejected login,
//!   an unreadable key, an unknown or changed host key, a peer that sends a non-SSH greeting
//!   line (one that just closes looks like a dropped session) and failed algorithm
//!   negotiation are [`ConnectorError::Invalid`].
//! - **Secrets** (passwords, private keys) live in a `Secret` whose `Debug` is redacted; they
//!   never reach `render`, an error message or a log line.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use russh::client::{self, Handle, Msg};
use russh::keys::ssh_key::{HashAlg, PrivateKey, PublicKey};
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, ChannelWriteHalf, Pty, Sig};

use super::shell::{posix_literal, substitute_posix};
use super::{
    bounded_text, BoxFuture, CommandOutcome, CommandRequest, Connector, ConnectorError, RenderedCommand, Target,
};
use crate::cacao::model::AuthenticationInfoType;
use crate::execute::variables::{references, Variables};

/// The command types this connector runs.
pub const COMMAND_TYPES: &[&str] = &["ssh"];

/// The environment variable the idempotency key is offered in.
pub const IDEMPOTENCY_ENV: &str = "CACAO_IDEMPOTENCY_KEY";

/// What an operator may set for the ssh connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshConfig {
    /// The OpenSSH `known_hosts` file host keys are checked against; `None` means
    /// `$HOME/.ssh/known_hosts`. A missing file holds no keys.
    pub known_hosts: Option<PathBuf>,
    /// Let a host whose key is not in `known_hosts` through (logged with its fingerprint). A key
    /// that differs from the recorded one is refused regardless.
    pub accept_unknown_hosts: bool,
    /// Bound on TCP connect + SSH handshake + authentication.
    pub connect_timeout: Duration,
    /// Longest command, after substitution, in bytes (OpenSSH refuses packets over 256 KiB).
    pub max_command_bytes: usize,
    /// Largest `known_hosts` file read, in bytes.
    pub max_known_hosts_bytes: u64,
    /// Largest password or private key accepted, in bytes.
    pub max_secret_bytes: usize,
    /// Offer the idempotency key as `CACAO_IDEMPOTENCY_KEY` (see the module documentation).
    pub send_idempotency_key: bool,
    /// Run commands on a pseudo-terminal (no echo, no output processing), so that a cancelled
    /// command dies with its connection even as root; stderr then arrives in `output`.
    pub use_pty: bool,
}

impl Default for SshConfig {
    fn default() -> SshConfig {
        SshConfig {
            known_hosts: None,
            accept_unknown_hosts: false,
            connect_timeout: Duration::from_secs(10),
            max_command_bytes: 128 * 1024,
            max_known_hosts_bytes: 16 * 1024 * 1024,
            max_secret_bytes: 64 * 1024,
            send_idempotency_key: true,
            use_pty: false,
        }
    }
}

/// Runs `ssh` commands.
#[derive(Debug, Clone)]
pub struct SshConnector {
    config: SshConfig,
    client_config: Arc<client::Config>,
}

impl Default for SshConnector {
    fn default() -> SshConnector {
        SshConnector::new(SshConfig::default())
    }
}

impl SshConnector {
    pub fn new(config: SshConfig) -> SshConnector {
        // No inactivity timeout of russh's own: the request's timeout bounds the whole run, and
        // a quiet long-running command is legitimate.
        let client_config = client::Config { inactivity_timeout: None, nodelay: true, ..client::Config::default() };
        SshConnector { config, client_config: Arc::new(client_config) }
    }

    pub fn config(&self) -> &SshConfig {
        &self.config
    }

    /// Everything about a request that can be known without the network.
    fn plan(&self, request: &CommandRequest) -> Result<Plan, ConnectorError> {
        let Some(target) = request.target.as_ref() else {
            return Err(ConnectorError::Invalid(
                "an ssh command needs a target (or agent) with an address; the step names none".into(),
            ));
        };
        let vars = &request.variables;
        let host = resolve_host(target, vars)?;
        let port = resolve_port(target, vars)?;
        let login = resolve_login(target, vars, self.config.max_secret_bytes)?;
        if request.command.contains('\0') {
            return Err(ConnectorError::Invalid("the ssh command contains a NUL byte".into()));
        }
        let scan = substitute_posix(vars, &request.command, posix_literal)
            .map_err(|e| ConnectorError::Invalid(format!("ssh command: {e}")))?;
        if scan.text.len() > self.config.max_command_bytes {
            return Err(ConnectorError::Invalid(format!(
                "the ssh command is {} bytes with its values written in, over the {}-byte limit",
                scan.text.len(),
                self.config.max_command_bytes
            )));
        }
        Ok(Plan {
            host,
            port,
            login,
            command: scan.text,
            undefined: scan.undefined,
            undefined_values: scan.undefined_values,
        })
    }

    fn known_hosts_path(&self) -> Option<PathBuf> {
        self.config.known_hosts.clone().or_else(|| {
            std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".ssh/known_hosts"))
        })
    }

    /// Reads the known_hosts entries (missing file: none).
    async fn load_known_hosts(&self) -> Result<(Vec<KnownHost>, String), ConnectorError> {
        let Some(path) = self.known_hosts_path() else {
            return Ok((Vec::new(), "no known_hosts file (HOME is not set)".into()));
        };
        let shown = path.display().to_string();
        let meta = match tokio::fs::metadata(&path).await {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Vec::new(), format!("{shown} (no such file)")));
            }
            Err(e) => return Err(ConnectorError::Invalid(format!("cannot read known_hosts file {shown}: {e}"))),
        };
        if meta.len() > self.config.max_known_hosts_bytes {
            return Err(ConnectorError::Invalid(format!(
                "known_hosts file {shown} is {} bytes, over the {}-byte limit",
                meta.len(),
                self.config.max_known_hosts_bytes
            )));
        }
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| ConnectorError::Invalid(format!("cannot read known_hosts file {shown}: {e}")))?;
        Ok((parse_known_hosts(&String::from_utf8_lossy(&bytes)), shown))
    }

    /// Connect, check the host key, authenticate: within the connect timeout.
    async fn open(&self, plan: &Plan) -> Result<Handle<HostKeyGate>, ConnectorError> {
        let (entries, source) = self.load_known_hosts().await?;
        let dest = plan.destination();
        let gate = HostKeyGate {
            name: plan.known_hosts_name(),
            entries,
            source,
            accept_unknown: self.config.accept_unknown_hosts,
        };
        let key = match &plan.login.credential {
            Credential::Key(text) => Some(Arc::new(decode_private_key(text, &plan.login.auth_name)?)),
            Credential::Password(_) => None,
        };
        let connect = async {
            let stream = match &plan.host {
                Host::Ip(ip) => tokio::net::TcpStream::connect((*ip, plan.port)).await,
                Host::Name(name) => tokio::net::TcpStream::connect((name.as_str(), plan.port)).await,
            }
            .map_err(|e| connect_error(&dest, &e))?;
            let mut handle = client::connect_stream(self.client_config.clone(), stream, gate)
                .await
                .map_err(|e| session_error(&dest, e))?;
            authenticate(&mut handle, &plan.login, key, &dest).await?;
            Ok(handle)
        };
        match tokio::time::timeout(self.config.connect_timeout, connect).await {
            Ok(r) => r,
            Err(_) => Err(ConnectorError::Unavailable(format!(
                "no SSH session with {dest} within the {} ms connect timeout",
                self.config.connect_timeout.as_millis()
            ))),
        }
    }

    async fn run(&self, plan: &Plan, request: &CommandRequest) -> Result<CommandOutcome, ConnectorError> {
        let dest = plan.destination();
        let handle = self.open(plan).await?;
        let channel = handle.channel_open_session().await.map_err(|e| russh_error(&dest, e))?;
        let (mut reader, writer) = channel.split();
        // From here until the command's exit, dropping this future kills the remote command.
        let mut guard = KillOnDrop { writer: Some(writer) };
        let writer = guard.writer.as_ref().ok_or_else(|| ConnectorError::Unavailable("channel closed".into()))?;
        if self.config.send_idempotency_key {
            writer
                .set_env(false, IDEMPOTENCY_ENV, request.idempotency_key.as_str())
                .await
                .map_err(|e| russh_error(&dest, e))?;
        }
        if self.config.use_pty {
            // No echo and no output processing: the bytes come back as the command wrote them.
            let modes = [(Pty::ECHO, 0), (Pty::OPOST, 0)];
            writer.request_pty(true, "dumb", 200, 50, 0, 0, &modes).await.map_err(|e| russh_error(&dest, e))?;
            loop {
                match reader.wait().await {
                    Some(ChannelMsg::Success) => break,
                    Some(ChannelMsg::Failure) => {
                        return Err(ConnectorError::Invalid(format!("{dest} refused a terminal (use_pty)")));
                    }
                    Some(_) => {}
                    None => {
                        return Err(ConnectorError::Unavailable(format!("the connection to {dest} closed")));
                    }
                }
            }
        }
        writer.exec(true, plan.command.as_bytes()).await.map_err(|e| russh_error(&dest, e))?;

        let mut stdout = BoundedBuffer::new(request.output_limit);
        let mut stderr = BoundedBuffer::new(request.output_limit);
        let mut exit: Option<Exit> = None;
        while let Some(msg) = reader.wait().await {
            match msg {
                ChannelMsg::Failure => {
                    return Err(ConnectorError::Invalid(format!(
                        "{dest} refused to run the command (exec request denied)"
                    )));
                }
                ChannelMsg::Data { data } => stdout.push(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => stderr.push(&data),
                ChannelMsg::ExitStatus { exit_status } => exit = Some(Exit::Status(exit_status)),
                ChannelMsg::ExitSignal { signal_name, core_dumped, error_message, .. } => {
                    exit = Some(Exit::Signal { name: signal_label(&signal_name), core_dumped, message: error_message });
                }
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        guard.disarm();
        // Best effort: the session ends when the handle drops anyway.
        let _ = handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;

        let Some(exit) = exit else {
            return Err(ConnectorError::Unavailable(format!(
                "the connection to {dest} closed before the command reported how it ended"
            )));
        };
        let (output, cut_out) = stdout.finish();
        let (error_output, cut_err) = stderr.finish();
        let (success, status, summary) = match exit {
            Exit::Status(code) => (code == 0, Some(i64::from(code)), format!("exit {code} on {dest}")),
            Exit::Signal { name, core_dumped, message } => {
                let mut summary = format!("killed by signal {name}");
                if core_dumped {
                    summary.push_str(" (core dumped)");
                }
                summary.push_str(&format!(" on {dest}"));
                let message = one_line(&message, 200);
                if !message.is_empty() {
                    summary.push_str(&format!(": {message}"));
                }
                (false, None, summary)
            }
        };
        Ok(CommandOutcome { success, status, output, error_output, truncated: cut_out || cut_err, summary })
    }
}

impl Connector for SshConnector {
    fn command_types(&self) -> &'static [&'static str] {
        COMMAND_TYPES
    }

    fn render(&self, request: &CommandRequest) -> Result<RenderedCommand, ConnectorError> {
        let plan = self.plan(request)?;
        Ok(RenderedCommand {
            target: format!("ssh {}", plan.destination()),
            text: plan.command,
            undefined: plan.undefined,
        })
    }

    fn execute<'a>(&'a self, request: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>> {
        Box::pin(async move {
            let plan = self.plan(request)?;
            if !plan.undefined_values.is_empty() {
                return Err(ConnectorError::Invalid(format!(
                    "the ssh command references undefined variables: {}",
                    plan.undefined_values.join(", ")
                )));
            }
            match tokio::time::timeout(request.timeout, self.run(&plan, request)).await {
                Ok(r) => r,
                Err(_) => Err(ConnectorError::Timeout(request.timeout)),
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The plan: host, port, login, command.

/// A request resolved: where, as whom, what.
#[derive(Debug)]
struct Plan {
    host: Host,
    port: u16,
    login: Login,
    command: String,
    undefined: Vec<String>,
    /// Undefined variables written `__name__:value` (bare `__name__` may be ordinary text, such
    /// as Python's `__main__`).
    undefined_values: Vec<String>,
}

impl Plan {
    /// `user@host:port`, IPv6 in brackets.
    fn destination(&self) -> String {
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => format!("{}@[{ip}]:{}", self.login.user, self.port),
            Host::Ip(ip) => format!("{}@{ip}:{}", self.login.user, self.port),
            Host::Name(n) => format!("{}@{n}:{}", self.login.user, self.port),
        }
    }

    /// The host as known_hosts names it: `host` on port 22, `[host]:port` otherwise.
    fn known_hosts_name(&self) -> String {
        let host = match &self.host {
            Host::Ip(ip) => ip.to_string(),
            Host::Name(n) => n.to_ascii_lowercase(),
        };
        if self.port == 22 {
            host
        } else {
            format!("[{host}]:{}", self.port)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Name(String),
}

/// A password or private key: never shown.
#[derive(Clone)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug)]
enum Credential {
    Password(Secret),
    /// The private key's text (OpenSSH or PEM), decoded when connecting.
    Key(Secret),
}

#[derive(Debug)]
struct Login {
    user: String,
    credential: Credential,
    /// How messages name the authentication info (`user-auth--...` or the target's id).
    auth_name: String,
}

/// `text` with defined variables written in as they are (addresses, credentials), and the
/// undefined `__name__:value` references.
fn plain_substitute(vars: &Variables, text: &str) -> (String, Vec<String>) {
    let mut undefined = Vec::new();
    let (out, _) = vars.substitute(text, |_, v| v.to_owned());
    for r in references(text) {
        if vars.get(&r.name).is_none() && text[r.start..r.end].ends_with(":value") && !undefined.contains(&r.name) {
            undefined.push(r.name);
        }
    }
    (out, undefined)
}

fn resolve_host(target: &Target, vars: &Variables) -> Result<Host, ConnectorError> {
    let id = &target.id;
    for kind in ["ipv4", "ipv6", "dname"] {
        let Some(raw) = target.address(&[kind]) else { continue };
        let (value, undefined) = plain_substitute(vars, raw);
        if !undefined.is_empty() {
            return Err(ConnectorError::Invalid(format!(
                "target `{id}`: the {kind} address references undefined variables: {}",
                undefined.join(", ")
            )));
        }
        let value = value.trim();
        let bad = |why: &str| ConnectorError::Invalid(format!("target `{id}`: {kind} address `{value}` {why}"));
        return match kind {
            "ipv4" => {
                if value.contains('/') {
                    return Err(bad("is a network, not one host"));
                }
                value.parse::<Ipv4Addr>().map(|ip| Host::Ip(IpAddr::V4(ip))).map_err(|_| bad("is not an IPv4 address"))
            }
            "ipv6" => {
                if value.contains('/') {
                    return Err(bad("is a network, not one host"));
                }
                let bare = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')).unwrap_or(value);
                bare.parse::<Ipv6Addr>().map(|ip| Host::Ip(IpAddr::V6(ip))).map_err(|_| bad("is not an IPv6 address"))
            }
            _ => {
                if let Ok(ip) = value.parse::<IpAddr>() {
                    return Ok(Host::Ip(ip));
                }
                if is_host_name(value) {
                    Ok(Host::Name(value.trim_end_matches('.').to_owned()))
                } else {
                    Err(bad("is not a plain host name (letters, digits, `-` and `.`)"))
                }
            }
        };
    }
    Err(ConnectorError::Invalid(format!("target `{id}` has no ipv4, ipv6 or dname address to connect to")))
}

/// RFC 1123 host name: dot-separated labels of 1 to 63 letters, digits and `-`, not starting or
/// ending with `-`; 253 bytes at most; one trailing dot allowed.
fn is_host_name(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

fn resolve_port(target: &Target, vars: &Variables) -> Result<u16, ConnectorError> {
    let Some(raw) = target.definition.port.as_deref() else { return Ok(22) };
    let (value, undefined) = plain_substitute(vars, raw);
    if !undefined.is_empty() {
        return Err(ConnectorError::Invalid(format!(
            "target `{}`: the port references undefined variables: {}",
            target.id,
            undefined.join(", ")
        )));
    }
    match value.trim() {
        "" => Ok(22),
        p => match p.parse::<u16>() {
            Ok(0) | Err(_) => {
                Err(ConnectorError::Invalid(format!("target `{}`: port `{p}` is not a TCP port number", target.id)))
            }
            Ok(n) => Ok(n),
        },
    }
}

/// The login from the target's authentication info. Secrets are substituted but undefined
/// references in them are left as written and never named (the "reference" may be the secret).
fn resolve_login(target: &Target, vars: &Variables, max_secret_bytes: usize) -> Result<Login, ConnectorError> {
    let id = &target.id;
    let auth_name = target
        .definition
        .authentication_info
        .as_ref()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_else(|| format!("of target `{id}`"));
    let Some(auth) = target.auth.as_ref() else {
        return Err(ConnectorError::Invalid(match &target.definition.authentication_info {
            Some(a) => format!("target `{id}`: authentication_info `{a}` is not defined in the playbook"),
            None => format!(
                "target `{id}` names no authentication_info: ssh needs `user-auth` (username, password) or \
                 `private-key` (user_id, private_key)"
            ),
        }));
    };
    let invalid = |what: String| ConnectorError::Invalid(format!("authentication info `{auth_name}`: {what}"));
    if auth.kms == Some(true) {
        return Err(invalid(
            "its secret is kept in a key management service (kms), which the ssh connector cannot read".into(),
        ));
    }
    let plain = |field: &str, v: &Option<String>| -> Result<Option<String>, ConnectorError> {
        let Some(v) = v.as_deref() else { return Ok(None) };
        let (value, undefined) = plain_substitute(vars, v);
        if !undefined.is_empty() {
            return Err(invalid(format!("`{field}` references undefined variables: {}", undefined.join(", "))));
        }
        Ok(Some(value).filter(|s| !s.is_empty()))
    };
    let secret = |field: &str, v: &Option<String>| -> Result<Option<Secret>, ConnectorError> {
        let Some(v) = v.as_deref() else { return Ok(None) };
        let (value, _) = vars.substitute(v, |_, val| val.to_owned());
        if value.len() > max_secret_bytes {
            return Err(invalid(format!("`{field}` is {} bytes, over the {max_secret_bytes}-byte limit", value.len())));
        }
        Ok(Some(Secret(value)).filter(|s| !s.0.is_empty()))
    };
    let kind = auth.auth_type.as_ref().map(AuthenticationInfoType::as_str);
    let (user, credential) = match kind {
        Some("user-auth") => {
            let user =
                plain("username", &auth.username)?.ok_or_else(|| invalid("user-auth has no `username`".into()))?;
            let credential = match (secret("password", &auth.password)?, secret("private_key", &auth.private_key)?) {
                (Some(p), _) => Credential::Password(p),
                (None, Some(k)) => Credential::Key(k),
                (None, None) => return Err(invalid("user-auth has no `password`".into())),
            };
            (user, credential)
        }
        Some("private-key") => {
            let user = match plain("user_id", &auth.user_id)? {
                Some(u) => u,
                None => plain("username", &auth.username)?
                    .ok_or_else(|| invalid("private-key has no `user_id` (the user to log in as)".into()))?,
            };
            let key = secret("private_key", &auth.private_key)?
                .ok_or_else(|| invalid("private-key has no `private_key`".into()))?;
            (user, Credential::Key(key))
        }
        Some(other) => {
            return Err(invalid(format!(
                "type `{other}` cannot log in over ssh; use `user-auth` (username, password) or `private-key` \
                 (user_id, private_key)"
            )))
        }
        None => return Err(invalid("it has no `type`".into())),
    };
    if user.len() > 256 || user.chars().any(char::is_control) {
        return Err(invalid("the user name is over 256 bytes or holds control characters".into()));
    }
    Ok(Login { user, credential, auth_name })
}

fn decode_private_key(text: &Secret, auth_name: &str) -> Result<PrivateKey, ConnectorError> {
    use russh::keys::Error as KeyError;
    russh::keys::decode_secret_key(&text.0, None).map_err(|e| {
        let why = match e {
            KeyError::KeyIsEncrypted => "is encrypted, and CACAO private-key authentication has no passphrase \
                property: keep the key decrypted in a (secret) variable"
                .to_owned(),
            KeyError::UnsupportedKeyType { key_type_string, .. } => format!("is of unsupported type {key_type_string}"),
            // The decoder's messages name the problem, never the key material.
            other => format!("could not be read (an OpenSSH or PEM ed25519, ecdsa or rsa key is expected): {other}"),
        };
        ConnectorError::Invalid(format!("authentication info `{auth_name}`: the private key {why}"))
    })
}

// ---------------------------------------------------------------------------------------------
// Session: connect, host key, authentication, errors.

/// The client handler: decides whether the server's host key is trusted.
struct HostKeyGate {
    /// The host as known_hosts names it.
    name: String,
    entries: Vec<KnownHost>,
    /// Where the entries came from, for messages.
    source: String,
    accept_unknown: bool,
}

#[derive(Debug)]
enum SessionError {
    Ssh(russh::Error),
    /// The host key was refused; the message is final.
    HostKey(ConnectorError),
}

impl From<russh::Error> for SessionError {
    fn from(e: russh::Error) -> SessionError {
        SessionError::Ssh(e)
    }
}

impl client::Handler for HostKeyGate {
    type Error = SessionError;

    async fn check_server_key(&mut self, server_public_key: &PublicKeyOrCertificate) -> Result<bool, SessionError> {
        let key = server_public_key.public_key();
        match check_host_key(&self.entries, &self.name, &key, self.accept_unknown, &self.source) {
            Ok(HostKeyVerdict::Known) => Ok(true),
            Ok(HostKeyVerdict::UnknownAccepted) => {
                tracing::warn!(
                    host = %self.name,
                    fingerprint = %key.fingerprint(HashAlg::Sha256),
                    "ssh: accepting an unknown host key (accept_unknown_hosts is on)"
                );
                Ok(true)
            }
            Err(e) => Err(SessionError::HostKey(e)),
        }
    }
}

async fn authenticate(
    handle: &mut Handle<HostKeyGate>,
    login: &Login,
    key: Option<Arc<PrivateKey>>,
    dest: &str,
) -> Result<(), ConnectorError> {
    let user = login.user.clone();
    let (method, result) = match (&login.credential, key) {
        (Credential::Password(p), _) => ("password", handle.authenticate_password(user, p.0.clone()).await),
        (Credential::Key(_), Some(key)) => {
            let hash_alg = if key.algorithm().is_rsa() {
                // rsa-sha2-256 when the server does not say (OpenSSH ≥ 8.8 refuses SHA-1 `ssh-rsa`).
                handle
                    .best_supported_rsa_hash()
                    .await
                    .map_err(|e| russh_error(dest, e))?
                    .unwrap_or(Some(HashAlg::Sha256))
            } else {
                None
            };
            ("public key", handle.authenticate_publickey(user, PrivateKeyWithHashAlg::new(key, hash_alg)).await)
        }
        (Credential::Key(_), None) => {
            return Err(ConnectorError::Invalid(format!("{dest}: the private key was not decoded")));
        }
    };
    match result.map_err(|e| russh_error(dest, e))? {
        russh::client::AuthResult::Success => Ok(()),
        russh::client::AuthResult::Failure { remaining_methods, partial_success } => {
            let methods: Vec<&str> = remaining_methods.iter().map(<&'static str>::from).collect();
            let methods = if methods.is_empty() { "none".to_owned() } else { methods.join(", ") };
            Err(ConnectorError::Invalid(if partial_success {
                format!("{dest}: {method} authentication was accepted but the server wants more ({methods}), which is not supported")
            } else {
                format!("{dest}: {method} authentication was rejected (the server accepts: {methods})")
            }))
        }
    }
}

fn connect_error(dest: &str, e: &std::io::Error) -> ConnectorError {
    use std::io::ErrorKind as K;
    let what = match e.kind() {
        K::ConnectionRefused => "connection refused".to_owned(),
        K::ConnectionReset | K::ConnectionAborted => "connection reset".to_owned(),
        K::TimedOut => "connection timed out".to_owned(),
        _ => e.to_string(),
    };
    ConnectorError::Unavailable(format!("cannot connect to {dest}: {what}"))
}

fn session_error(dest: &str, e: SessionError) -> ConnectorError {
    match e {
        SessionError::HostKey(e) => e,
        SessionError::Ssh(e) => russh_error(dest, e),
    }
}

/// Protocol and key failures cannot heal by retrying; transport failures may.
fn russh_error(dest: &str, e: russh::Error) -> ConnectorError {
    use russh::Error as E;
    match e {
        E::Version => ConnectorError::Invalid(format!("{dest} does not speak SSH (no SSH version line)")),
        E::NoCommonAlgo { .. }
        | E::Kex
        | E::KexInit
        | E::WrongServerSig
        | E::UnknownKey
        | E::KeyChanged { .. }
        | E::Keys(_)
        | E::SshKey(_)
        | E::UnsupportedAuthMethod
        | E::NoAuthMethod
        | E::NotAuthenticated
        | E::InvalidConfig(_)
        | E::StrictKeyExchangeViolation { .. } => ConnectorError::Invalid(format!("ssh {dest}: {e}")),
        E::IO(io) => ConnectorError::Unavailable(format!("ssh {dest}: {io}")),
        other => ConnectorError::Unavailable(format!("ssh {dest}: {other}")),
    }
}

/// Kills the remote command if the future is dropped before it ended (a timeout, a cancelled
/// run): sshd does not stop a command without a terminal when the connection closes.
struct KillOnDrop {
    writer: Option<ChannelWriteHalf<Msg>>,
}

impl KillOnDrop {
    fn disarm(&mut self) {
        self.writer = None;
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let Some(writer) = self.writer.take() else { return };
        // Sending is async; outside a runtime there is nothing to send with, and the connection
        // closes as the session task ends.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = writer.signal(Sig::KILL).await;
                let _ = writer.close().await;
            });
        }
    }
}

enum Exit {
    Status(u32),
    Signal { name: String, core_dumped: bool, message: String },
}

fn signal_label(sig: &Sig) -> String {
    let name = match sig {
        Sig::ABRT => "ABRT",
        Sig::ALRM => "ALRM",
        Sig::FPE => "FPE",
        Sig::HUP => "HUP",
        Sig::ILL => "ILL",
        Sig::INT => "INT",
        Sig::KILL => "KILL",
        Sig::PIPE => "PIPE",
        Sig::QUIT => "QUIT",
        Sig::SEGV => "SEGV",
        Sig::TERM => "TERM",
        Sig::USR1 => "USR1",
        Sig::Custom(s) => return one_line(s, 32),
    };
    name.to_owned()
}

/// `text` on one line (control characters as spaces), at most `limit` bytes.
fn one_line(text: &str, limit: usize) -> String {
    let flat: String = text.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    super::truncate_text(&flat, limit).0.to_owned()
}

/// One output stream, kept up to `limit` bytes. One byte beyond the limit is kept so that
/// [`bounded_text`] sees the cut and drops a character split by it.
struct BoundedBuffer {
    bytes: Vec<u8>,
    limit: usize,
    dropped: bool,
}

impl BoundedBuffer {
    fn new(limit: usize) -> BoundedBuffer {
        BoundedBuffer { bytes: Vec::new(), limit, dropped: false }
    }

    fn push(&mut self, data: &[u8]) {
        let room = self.limit.saturating_add(1).saturating_sub(self.bytes.len());
        let take = room.min(data.len());
        self.bytes.extend_from_slice(&data[..take]);
        if take < data.len() {
            self.dropped = true;
        }
    }

    fn finish(self) -> (String, bool) {
        let (text, cut) = bounded_text(&self.bytes, self.limit);
        (text, cut || self.dropped)
    }
}

// ---------------------------------------------------------------------------------------------
// known_hosts.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    /// `@cert-authority`: host certificates are not supported; such lines never match.
    CertAuthority,
}

#[derive(Debug, Clone)]
struct KnownHost {
    line: usize,
    marker: Marker,
    patterns: String,
    key: PublicKey,
}

/// The usable lines of a known_hosts file; malformed lines are skipped (as OpenSSH does).
fn parse_known_hosts(text: &str) -> Vec<KnownHost> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_ascii_whitespace();
        let mut first = fields.next();
        let marker = match first {
            Some("@revoked") => Marker::Revoked,
            Some("@cert-authority") => Marker::CertAuthority,
            Some(m) if m.starts_with('@') => continue,
            _ => Marker::None,
        };
        if marker != Marker::None {
            first = fields.next();
        }
        let (Some(patterns), Some(_kind), Some(blob)) = (first, fields.next(), fields.next()) else { continue };
        let Ok(key) = russh::keys::parse_public_key_base64(blob) else { continue };
        out.push(KnownHost { line: line_no, marker, patterns: patterns.to_owned(), key });
    }
    out
}

/// Whether a comma-separated known_hosts pattern list matches `name` (lowercase): a negated
/// pattern that matches wins; otherwise any plain, wildcard or hashed pattern.
fn host_matches(patterns: &str, name: &str) -> bool {
    let mut matched = false;
    for pattern in patterns.split(',') {
        if let Some(negated) = pattern.strip_prefix('!') {
            if glob_matches(&negated.to_ascii_lowercase(), name) {
                return false;
            }
        } else if let Some(hashed) = pattern.strip_prefix("|1|") {
            matched |= hashed_matches(hashed, name);
        } else {
            matched |= glob_matches(&pattern.to_ascii_lowercase(), name);
        }
    }
    matched
}

/// `|1|salt|hash`: base64 HMAC-SHA1 of the name keyed by the salt.
fn hashed_matches(salt_and_hash: &str, name: &str) -> bool {
    let Some((salt, hash)) = salt_and_hash.split_once('|') else { return false };
    let b64 = base64::engine::general_purpose::STANDARD;
    let (Ok(salt), Ok(hash)) = (b64.decode(salt), b64.decode(hash)) else { return false };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
    ring::hmac::verify(&key, name.as_bytes(), &hash).is_ok()
}

/// `*` (any run) and `?` (one character) glob, iterative with one backtrack point.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[derive(Debug, PartialEq, Eq)]
enum HostKeyVerdict {
    Known,
    UnknownAccepted,
}

fn check_host_key(
    entries: &[KnownHost],
    name: &str,
    offered: &PublicKey,
    accept_unknown: bool,
    source: &str,
) -> Result<HostKeyVerdict, ConnectorError> {
    let fingerprint = offered.fingerprint(HashAlg::Sha256);
    let algorithm = offered.algorithm();
    let same = |e: &KnownHost| e.key.key_data() == offered.key_data();
    if let Some(e) = entries.iter().find(|e| e.marker == Marker::Revoked && same(e)) {
        return Err(ConnectorError::Invalid(format!(
            "host key of {name} ({} {fingerprint}) is marked @revoked in {source} line {}",
            algorithm.as_str(),
            e.line
        )));
    }
    let for_host: Vec<&KnownHost> =
        entries.iter().filter(|e| e.marker == Marker::None && host_matches(&e.patterns, name)).collect();
    if for_host.iter().any(|e| same(e)) {
        return Ok(HostKeyVerdict::Known);
    }
    if let Some(e) = for_host.first() {
        return Err(ConnectorError::Invalid(format!(
            "HOST KEY MISMATCH for {name}: the server offered {} {fingerprint}, but {source} line {} records {} {} \
             (a changed key can mean a man-in-the-middle attack; if the host was reinstalled, replace the line)",
            algorithm.as_str(),
            e.line,
            e.key.algorithm().as_str(),
            e.key.fingerprint(HashAlg::Sha256)
        )));
    }
    if accept_unknown {
        return Ok(HostKeyVerdict::UnknownAccepted);
    }
    let line = match offered.to_openssh() {
        Ok(text) => format!("; if that is the right key, add this line to the known_hosts file: {name} {text}"),
        Err(_) => String::new(),
    };
    Err(ConnectorError::Invalid(format!(
        "unknown host key for {name}: the server offered {} {fingerprint}, which is not in {source}{line}",
        algorithm.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cacao::model::{AgentTarget, AuthenticationInfo};
    use crate::cacao::Identifier;
    use indexmap::IndexMap;
    use serde_json::json;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        let mut map = serde_json::Map::new();
        for (k, v) in pairs {
            map.insert((*k).to_owned(), json!({"type": "string", "value": v}));
        }
        Variables::from_json(&serde_json::Value::Object(map), "/v").unwrap()
    }

    fn target(address: (&str, &str), port: Option<&str>, auth: Option<AuthenticationInfo>) -> Target {
        let mut map = IndexMap::new();
        map.insert(address.0.to_owned(), vec![address.1.to_owned()]);
        let auth_id = Identifier::parse("user-auth--6b1d6a8f-4d2a-4c3e-9f5e-2a1b3c4d5e6f").unwrap();
        Target {
            id: "ssh--1".into(),
            definition: AgentTarget {
                address: Some(map),
                port: port.map(str::to_owned),
                authentication_info: auth.as_ref().map(|_| auth_id),
                ..AgentTarget::default()
            },
            auth,
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

    fn request(target: Option<Target>, command: &str, variables: Variables) -> CommandRequest {
        CommandRequest {
            target,
            variables,
            timeout: Duration::from_secs(5),
            output_limit: 1024,
            ..crate::execute::connector::testing::request("ssh", command, &[])
        }
    }

    #[test]
    fn render_shows_destination_and_quoted_command_never_the_password() {
        let v = vars(&[("__ip__", "203.0.113.9; reboot"), ("__pw__", "hunter2-secret")]);
        let t = target(("ipv4", "10.0.0.5"), Some("2222"), Some(password_auth("root", "__pw__:value")));
        let r = SshConnector::default().render(&request(Some(t.clone()), "block __ip__:value __x__:value", v)).unwrap();
        assert_eq!(r.target, "ssh root@10.0.0.5:2222");
        assert_eq!(r.text, "block '203.0.113.9; reboot' __x__:value");
        assert_eq!(r.undefined, ["__x__"]);
        let shown = format!("{r:?} {t:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("__pw__"), "{shown}");
        let plan = SshConnector::default().plan(&request(Some(t), "x", vars(&[("__pw__", "hunter2-secret")]))).unwrap();
        assert!(!format!("{plan:?}").contains("hunter2"));
    }

    #[test]
    fn hosts_are_validated_and_chosen_in_order() {
        let ok = |kind, value| resolve_host(&target((kind, value), None, None), &Variables::default());
        assert_eq!(ok("ipv4", "192.0.2.1").unwrap(), Host::Ip("192.0.2.1".parse().unwrap()));
        assert_eq!(ok("ipv6", "[2001:db8::1]").unwrap(), Host::Ip("2001:db8::1".parse().unwrap()));
        assert_eq!(ok("dname", "web-01.example.org.").unwrap(), Host::Name("web-01.example.org".into()));
        for (kind, bad) in [
            ("ipv4", "10.0.0.0/24"),
            ("ipv4", "host"),
            ("ipv6", "::1/128"),
            ("dname", "-oProxyCommand=x"),
            ("dname", "root@host"),
            ("dname", "host:22"),
            ("dname", "a b"),
            ("dname", "a..b"),
            ("dname", "host;id"),
        ] {
            let err = ok(kind, bad).unwrap_err();
            assert!(matches!(&err, ConnectorError::Invalid(m) if m.contains(bad)), "{kind} {bad}: {err}");
        }
        // ipv4 wins over dname whatever the map's order.
        let mut t = target(("dname", "name.example"), None, None);
        t.definition.address.as_mut().unwrap().insert("ipv4".into(), vec!["192.0.2.7".into()]);
        assert_eq!(resolve_host(&t, &Variables::default()).unwrap(), Host::Ip("192.0.2.7".parse().unwrap()));
        assert!(ok("url", "http://x").is_err());
        // Variables in the address are substituted, then validated.
        let v = vars(&[("__h__", "192.0.2.8")]);
        let t = target(("ipv4", "__h__:value"), Some("__p__:value"), None);
        assert_eq!(resolve_host(&t, &v).unwrap(), Host::Ip("192.0.2.8".parse().unwrap()));
        assert!(resolve_port(&t, &v).unwrap_err().to_string().contains("__p__"));
        let p = |s: &str| resolve_port(&target(("ipv4", "192.0.2.1"), Some(s), None), &Variables::default());
        assert_eq!(p("2222").unwrap(), 2222);
        assert!(p("0").is_err() && p("70000").is_err() && p("22; id").is_err());
    }

    #[test]
    fn missing_or_unsupported_authentication_says_what_is_missing() {
        let conn = SshConnector::default();
        let err = |auth: Option<AuthenticationInfo>| {
            let t = target(("ipv4", "192.0.2.1"), None, auth);
            match conn.render(&request(Some(t), "true", Variables::default())).unwrap_err() {
                ConnectorError::Invalid(m) => m,
                other => panic!("{other:?}"),
            }
        };
        assert!(err(None).contains("names no authentication_info"));
        let mut a = password_auth("root", "pw-secret");
        a.password = None;
        assert!(err(Some(a)).contains("no `password`"));
        let mut a = password_auth("root", "pw-secret");
        a.username = None;
        assert!(err(Some(a)).contains("no `username`"));
        let key = AuthenticationInfo {
            auth_type: Some(AuthenticationInfoType::Other("private-key".into())),
            ..AuthenticationInfo::default()
        };
        assert!(err(Some(key.clone())).contains("no `user_id`"));
        let key = AuthenticationInfo { user_id: Some("ops".into()), ..key };
        assert!(err(Some(key)).contains("no `private_key`"));
        let oauth = AuthenticationInfo {
            auth_type: Some(AuthenticationInfoType::Oauth2),
            token: Some("tok-secret".into()),
            ..AuthenticationInfo::default()
        };
        let m = err(Some(oauth));
        assert!(m.contains("`oauth2` cannot log in") && !m.contains("tok-secret"), "{m}");
        let kms = AuthenticationInfo { kms: Some(true), ..password_auth("root", "pw-secret") };
        assert!(err(Some(kms)).contains("key management"));
        let no_target = conn.render(&request(None, "true", Variables::default())).unwrap_err();
        assert!(no_target.to_string().contains("needs a target"));
    }

    #[test]
    fn private_keys_are_decoded_and_encrypted_ones_explained() {
        const PLAIN: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACB11QAoBDNHqrL+RsG99NsvASsx1VyRqD9JdDpwPhFVMAAAAIgdX0qvHV9K
rwAAAAtzc2gtZWQyNTUxOQAAACB11QAoBDNHqrL+RsG99NsvASsx1VyRqD9JdDpwPhFVMA
AAAEAfuL3B7gc+kb7aHcz+zlckvwab7MOs5+trqDhAJT8tAHXVACgEM0eqsv5Gwb302y8B
KzHVXJGoP0l0OnA+EVUwAAAAAXcBAgME
-----END OPENSSH PRIVATE KEY-----
";
        const ENCRYPTED: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABCenxmMyh
PHe10z/JGZzRw3AAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAILLtj/DEVXS2gDjX
lqlgM47wGimtYU/aWxk0GFmh4LT4AAAAkC8qdRcWo5IXvm1K+h5Pr4NXrrX7//tG1fj0+j
MwdOwD+t044SPoiuhPHEr3U+PneHT3a3WvtqoPBj1w9uLzcw4R5Vij3/i1+E4Sjud3eJv3
eZqrvrsVhiCcoDSMdtXxj571n/W5adID133xpijClckJpHk8TKbEBH1IooYmOj+cGxXjZ/
iFEerr893yjANAsQ==
-----END OPENSSH PRIVATE KEY-----
";
        let key = decode_private_key(&Secret(PLAIN.into()), "a").unwrap();
        assert_eq!(key.algorithm().as_str(), "ssh-ed25519");
        let m = decode_private_key(&Secret(ENCRYPTED.into()), "a").unwrap_err().to_string();
        assert!(m.contains("encrypted") && m.contains("passphrase"), "{m}");
        let m = decode_private_key(&Secret("not a key hunter2".into()), "a").unwrap_err().to_string();
        assert!(m.contains("could not be read") && !m.contains("hunter2"), "{m}");
    }

    const HOST_KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJPq6LFpHv2+bToEr7rK3rV7+JdrExHfaEiBEFhUElbP";
    const OTHER_KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIHujYdw2ncM4bNBszJie3iw4Mk7BmqL5+cbUA48WrZuR";

    fn key(b64: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b64).unwrap()
    }

    #[test]
    fn known_hosts_plain_hashed_wildcard_negated_and_revoked() {
        let check = |file: &str, name: &str, accept| {
            check_host_key(&parse_known_hosts(file), name, &key(HOST_KEY), accept, "kh")
        };
        let plain = format!("# comment\n\nbroken line\n[10.0.0.5]:2222 ssh-ed25519 {HOST_KEY} c\n");
        assert_eq!(check(&plain, "[10.0.0.5]:2222", false).unwrap(), HostKeyVerdict::Known);
        // ssh-keygen -H of the same line.
        let hashed = format!("|1|UDnL3f3yN9nG16DnKCLPeSY52Ac=|+FLJss+NRPOoUHDrdrO+2ptqIaw= ssh-ed25519 {HOST_KEY}\n");
        assert_eq!(check(&hashed, "[10.0.0.5]:2222", false).unwrap(), HostKeyVerdict::Known);
        assert!(check(&hashed, "[10.0.0.6]:2222", false).is_err());
        let wild = format!("*.example.org,!bad.example.org ssh-ed25519 {HOST_KEY}\n");
        assert_eq!(check(&wild, "web.example.org", false).unwrap(), HostKeyVerdict::Known);
        assert!(check(&wild, "bad.example.org", false).is_err());
        // Unknown: refused with the fingerprint and the line to add, or accepted when asked.
        let m = check("", "[10.0.0.5]:2222", false).unwrap_err().to_string();
        assert!(m.contains("SHA256:CokhTCrXif4SXdBHYH0DXL8KgGDz0MXXAET1Vv1iBnQ"), "{m}");
        assert!(m.contains(&format!("[10.0.0.5]:2222 ssh-ed25519 {HOST_KEY}")), "{m}");
        assert_eq!(check("", "[10.0.0.5]:2222", true).unwrap(), HostKeyVerdict::UnknownAccepted);
        // A different recorded key is refused even when unknown hosts are accepted.
        let changed = format!("[10.0.0.5]:2222 ssh-ed25519 {OTHER_KEY}\n");
        let m = check(&changed, "[10.0.0.5]:2222", true).unwrap_err().to_string();
        assert!(m.contains("MISMATCH") && m.contains("line 1"), "{m}");
        let revoked = format!("@revoked * ssh-ed25519 {HOST_KEY}\n[10.0.0.5]:2222 ssh-ed25519 {HOST_KEY}\n");
        assert!(check(&revoked, "[10.0.0.5]:2222", true).unwrap_err().to_string().contains("@revoked"));
        assert!(glob_matches("a*b?c", "axxbyc") && !glob_matches("a*b?c", "axxbc") && glob_matches("*", ""));
    }

    #[test]
    fn output_is_bounded_and_counts_what_it_dropped() {
        let mut b = BoundedBuffer::new(4);
        b.push(b"ab");
        b.push(b"cdefgh");
        assert_eq!(b.finish(), ("abcd".into(), true));
        let mut b = BoundedBuffer::new(4);
        b.push(b"abcd");
        assert_eq!(b.finish(), ("abcd".into(), false));
        let mut b = BoundedBuffer::new(2);
        b.push("é".as_bytes());
        b.push("é".as_bytes());
        assert_eq!(b.finish(), ("é".into(), true));
        let mut b = BoundedBuffer::new(3);
        b.push("aé".as_bytes());
        b.push(b"x");
        assert_eq!(b.finish(), ("aé".into(), true));
    }

    #[test]
    fn error_kinds_are_transient_only_for_transport_failures() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(connect_error("root@h:22", &refused).is_transient());
        assert!(russh_error("d", russh::Error::Disconnect).is_transient());
        assert!(!russh_error("d", russh::Error::Version).is_transient());
        assert!(!russh_error("d", russh::Error::UnknownKey).is_transient());
        assert_eq!(signal_label(&Sig::Custom("WINCH\n".into())), "WINCH");
    }
}
