//! Connectors: how one CACAO command reaches the world.
//!
//! Every connector implements [`Connector`] and lives in its own file of the same shape (as
//! Vector's sinks do): a config struct (what an operator may set), the connector struct, the
//! `Connector` impl (`command_types`, `render`, `execute`), and its unit tests. The engine never
//! knows which connector it talks to; it looks the command's `type` up in a [`Connectors`]
//! registry, and a type no connector runs fails the step at once (never a hang).
//!
//! Division of labour:
//! - The engine decodes the command (`command` or `command_b64`, `content` or `content_b64`),
//!   resolves the step's target and its authentication info, works out the time left, and builds
//!   a [`CommandRequest`]. It does **not** substitute variables: how a value may enter a command
//!   is the connector's business (bash passes values in environment variables, ssh quotes them,
//!   http-api percent-encodes them in URLs), so no value can inject syntax.
//! - [`Connector::render`] shows the exact command with the values written in, for dry runs
//!   and the audit trail. It never shows a secret.
//! - [`Connector::execute`] runs it. A command that ran and failed (exit status, HTTP 4xx/5xx)
//!   is `Ok` with `success: false`; a command that could not run at all is a [`ConnectorError`]
//!   whose [`ConnectorError::is_transient`] says whether a retry may help.
//! - Cancellation is by dropping the future (a step timeout, a cancelled run): connectors hold
//!   nothing that outlives it (child processes are killed on drop, connections closed).

pub mod bash;
pub mod http;
pub mod http_api;
pub mod manual;
pub mod openc2_http;
pub mod powershell;
pub mod process;
pub mod shell;
pub mod ssh;
#[cfg(test)]
pub(crate) mod testing;

pub use shell::shell_quote;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;

use super::variables::Variables;
use crate::cacao::model::{AgentTarget, AuthenticationInfo};

/// A boxed future, so that connectors can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Default cap on the captured output of one command (stdout and stderr each), in bytes.
pub const DEFAULT_OUTPUT_LIMIT: usize = 64 * 1024;

/// One command, decoded and with its target resolved, ready for a connector.
#[derive(Clone)]
pub struct CommandRequest {
    pub run_id: String,
    /// The workflow step's id (`action--...`).
    pub step_id: String,
    /// Where in the run this step executes: the step id, prefixed by enclosing sub-playbook
    /// steps and loop iterations (`while--w#3/action--a`). Unique within a run.
    pub step_instance: String,
    /// The command's position in the step's `commands`.
    pub command_index: usize,
    /// Stable across retries and resumes of this one command: a target that honours it runs
    /// the command at most once (http-api sends it as `Idempotency-Key`, bash as
    /// `CACAO_IDEMPOTENCY_KEY`).
    pub idempotency_key: String,
    /// The CACAO command `type` (`bash`, `http-api`, ...).
    pub command_type: String,
    /// The command text (`command`, or `command_b64` decoded), variables not yet substituted.
    pub command: String,
    /// http-api / openc2-http headers, variables not yet substituted.
    pub headers: IndexMap<String, Vec<String>>,
    /// http-api / openc2-http body (`content`, or `content_b64` decoded).
    pub content: Option<Vec<u8>>,
    /// The command's `version` (openc2-http: the OpenC2 language version).
    pub version: Option<String>,
    /// The step's target (or agent, when the step names no target), if any.
    pub target: Option<Target>,
    /// The variables in scope (the step's over the playbook's).
    pub variables: Variables,
    /// Time left for this command (the step's timeout minus what earlier commands used).
    pub timeout: Duration,
    /// Cap on captured output, in bytes, for each stream.
    pub output_limit: usize,
}

impl fmt::Debug for CommandRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandRequest")
            .field("step_instance", &self.step_instance)
            .field("command_index", &self.command_index)
            .field("command_type", &self.command_type)
            .field("command", &self.command)
            .field("target", &self.target)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A step's target (or agent) as the playbook defines it, with its authentication info.
#[derive(Clone)]
pub struct Target {
    /// The key in `target_definitions` / `agent_definitions`.
    pub id: String,
    pub definition: AgentTarget,
    /// The `authentication_info` it names, resolved; holds secrets, so Debug hides it.
    pub auth: Option<AuthenticationInfo>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("id", &self.id)
            .field("address", &self.definition.address)
            .field("port", &self.definition.port)
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Target {
    /// The first address of the given kinds, in the order given (`["ipv4", "dname"]`).
    pub fn address(&self, kinds: &[&str]) -> Option<&str> {
        let map = self.definition.address.as_ref()?;
        kinds.iter().find_map(|k| map.get(*k).and_then(|v| v.first()).map(String::as_str))
    }

    /// The target's `port` as a number; an error names the bad value.
    pub fn port(&self) -> Result<Option<u16>, ConnectorError> {
        match self.definition.port.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(p) => p.parse::<u16>().map(Some).map_err(|_| {
                ConnectorError::Invalid(format!("target `{}`: port `{p}` is not a TCP port number", self.id))
            }),
        }
    }

    /// How the audit trail names it: `id (address)`.
    pub fn describe(&self) -> String {
        let addr = self.definition.address.as_ref().and_then(|m| m.values().flatten().next());
        match addr {
            Some(a) => format!("{} ({a})", self.id),
            None => self.id.clone(),
        }
    }
}

/// What a command did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CommandOutcome {
    /// Exit status 0, HTTP 2xx, an approval: the command did what it was asked.
    pub success: bool,
    /// The exit status or the HTTP status code.
    pub status: Option<i64>,
    /// Standard output or the response body, cut at the output limit.
    pub output: String,
    /// Standard error (empty for HTTP).
    pub error_output: String,
    /// Whether `output` or `error_output` was cut.
    pub truncated: bool,
    /// One line for the audit trail (`exit 0`, `HTTP 204`, `approved by alice`).
    pub summary: String,
}

/// The exact command, with values written in, for a reviewer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RenderedCommand {
    /// What runs (`bash -c '...'`, `POST https://host/path`, ...), values substituted.
    pub text: String,
    /// Where it runs (`local`, `ssh root@10.0.0.5:22`, the URL's host).
    pub target: String,
    /// Variables referenced but not defined (left as written).
    pub undefined: Vec<String>,
}

/// Why a command could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// The command, its target or its authentication is wrong: retrying cannot help.
    #[error("{0}")]
    Invalid(String),
    /// The target could not be reached or answered with a transient failure.
    #[error("{0}")]
    Unavailable(String),
    /// The command ran out of time.
    #[error("timed out after {} ms", .0.as_millis())]
    Timeout(Duration),
    /// No connector runs this command type.
    #[error("no connector runs command type `{0}`")]
    Unsupported(String),
}

impl ConnectorError {
    /// Whether a retry may succeed (the target was unreachable or slow).
    pub fn is_transient(&self) -> bool {
        matches!(self, ConnectorError::Unavailable(_) | ConnectorError::Timeout(_))
    }
}

/// A connector: runs the commands of some CACAO command types.
pub trait Connector: Send + Sync {
    /// The command types this connector runs.
    fn command_types(&self) -> &'static [&'static str];

    /// Whether its commands act outside the engine. The engine commits the log before such a
    /// command runs (write-ahead); a connector without effects (a no-op, a pure lookup the
    /// engine may repeat) spares that commit.
    fn acts_on_world(&self) -> bool {
        true
    }

    /// The command as it would run, values written in, no secrets.
    fn render(&self, request: &CommandRequest) -> Result<RenderedCommand, ConnectorError>;

    /// Runs the command. Must finish within `request.timeout` (the engine also cuts it there).
    fn execute<'a>(&'a self, request: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>>;
}

/// The connectors of an engine, by command type.
#[derive(Clone, Default)]
pub struct Connectors {
    by_type: HashMap<String, Arc<dyn Connector>>,
}

impl fmt::Debug for Connectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut types: Vec<&str> = self.by_type.keys().map(String::as_str).collect();
        types.sort_unstable();
        f.debug_struct("Connectors").field("types", &types).finish()
    }
}

impl Connectors {
    pub fn new() -> Connectors {
        Connectors::default()
    }

    /// Adds `connector` for every type it runs, replacing an earlier one for the same type.
    pub fn with(mut self, connector: Arc<dyn Connector>) -> Connectors {
        for t in connector.command_types() {
            self.by_type.insert((*t).to_owned(), connector.clone());
        }
        self
    }

    /// The connector for `command_type`, or [`ConnectorError::Unsupported`].
    pub fn get(&self, command_type: &str) -> Result<&Arc<dyn Connector>, ConnectorError> {
        self.by_type.get(command_type).ok_or_else(|| ConnectorError::Unsupported(command_type.to_owned()))
    }

    /// The command types with a connector, sorted.
    pub fn types(&self) -> Vec<&str> {
        let mut t: Vec<&str> = self.by_type.keys().map(String::as_str).collect();
        t.sort_unstable();
        t
    }
}

/// Settings of the standard connectors (the `connectors` part of a policy file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectorSettings {
    pub bash: process::ProcessConfig,
    pub powershell: process::ProcessConfig,
    pub http: HttpSettings,
    pub ssh: SshSettings,
}

/// What a policy file may set for the ssh connector (the rest of [`ssh::SshConfig`] keeps its
/// defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SshSettings {
    /// The known_hosts file host keys are checked against (default `~/.ssh/known_hosts`).
    pub known_hosts: Option<std::path::PathBuf>,
    /// Accept hosts whose key is not known (first use). Off by default.
    pub accept_unknown_hosts: bool,
    /// Run commands on a pseudo-terminal (lets a timeout kill root's commands; merges stderr).
    pub use_pty: bool,
}

impl SshSettings {
    pub fn config(&self) -> ssh::SshConfig {
        ssh::SshConfig {
            known_hosts: self.known_hosts.clone(),
            accept_unknown_hosts: self.accept_unknown_hosts,
            use_pty: self.use_pty,
            ..ssh::SshConfig::default()
        }
    }
}

impl Default for ConnectorSettings {
    fn default() -> ConnectorSettings {
        ConnectorSettings {
            bash: process::ProcessConfig::with_program("bash"),
            powershell: process::ProcessConfig::with_program("pwsh"),
            http: HttpSettings::default(),
            ssh: SshSettings::default(),
        }
    }
}

/// What a policy file may set for the http-api and openc2-http connectors (the rest of
/// [`http::HttpConfig`] keeps its defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Allow plain `http://` to hosts other than loopback.
    pub allow_plain_http: bool,
    /// Use the `HTTP(S)_PROXY` / `NO_PROXY` environment.
    pub use_system_proxy: bool,
    /// PEM certificates trusted in addition to the platform's roots.
    pub extra_root_certificates_pem: Vec<String>,
    /// Time allowed to open a connection, in milliseconds (default: the connector's).
    pub connect_timeout_ms: Option<u64>,
}

impl HttpSettings {
    pub fn config(&self) -> http::HttpConfig {
        let mut c = http::HttpConfig {
            allow_plain_http: self.allow_plain_http,
            use_system_proxy: self.use_system_proxy,
            extra_root_certificates_pem: self.extra_root_certificates_pem.clone(),
            ..http::HttpConfig::default()
        };
        if let Some(ms) = self.connect_timeout_ms {
            c.connect_timeout = std::time::Duration::from_millis(ms);
        }
        c
    }
}

impl Connectors {
    /// Every connector cacao-forge ships, set up from `settings`; manual questions go to
    /// `operator`. Fails only on a bad TLS setting (an unreadable extra certificate).
    pub fn standard(
        settings: &ConnectorSettings,
        operator: Arc<dyn manual::Operator>,
    ) -> Result<Connectors, ConnectorError> {
        let http = settings.http.config();
        Ok(Connectors::new()
            .with(Arc::new(bash::BashConnector::new(settings.bash.clone())))
            .with(Arc::new(powershell::PowershellConnector::new(settings.powershell.clone())))
            .with(Arc::new(http_api::HttpApiConnector::new(http_api::HttpApiConfig { http: http.clone() })?))
            .with(Arc::new(openc2_http::Openc2HttpConnector::new(openc2_http::Openc2HttpConfig {
                http,
                ..openc2_http::Openc2HttpConfig::default()
            })?))
            .with(Arc::new(ssh::SshConnector::new(settings.ssh.config())))
            .with(Arc::new(manual::ManualConnector::new(operator))))
    }
}

/// `bytes` as text (invalid UTF-8 replaced), cut to at most `limit` bytes on a character
/// boundary, and whether it was cut.
pub fn bounded_text(bytes: &[u8], limit: usize) -> (String, bool) {
    let cut = bytes.len() > limit;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(limit)]).into_owned();
    if !cut {
        return (text, false);
    }
    // A multi-byte character split at the limit decodes as U+FFFD; drop it.
    let trimmed = text.strip_suffix('\u{FFFD}').map(str::to_owned).unwrap_or(text);
    (trimmed, true)
}

/// `text` cut to at most `limit` bytes on a character boundary.
pub fn truncate_text(text: &str, limit: usize) -> (&str, bool) {
    if text.len() <= limit {
        return (text, false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl Connector for Fake {
        fn command_types(&self) -> &'static [&'static str] {
            &["bash", "x-fake"]
        }
        fn render(&self, r: &CommandRequest) -> Result<RenderedCommand, ConnectorError> {
            Ok(RenderedCommand { text: r.command.clone(), target: "local".into(), undefined: vec![] })
        }
        fn execute<'a>(&'a self, _: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>> {
            Box::pin(async { Ok(CommandOutcome { success: true, ..CommandOutcome::default() }) })
        }
    }

    #[test]
    fn registry_finds_connectors_by_type_and_names_the_missing_type() {
        let c = Connectors::new().with(Arc::new(Fake));
        assert_eq!(c.types(), ["bash", "x-fake"]);
        assert!(c.get("bash").is_ok());
        let err = c.get("caldera-cmd").err().unwrap();
        assert_eq!(err.to_string(), "no connector runs command type `caldera-cmd`");
        assert!(!err.is_transient());
    }

    #[test]
    fn bounded_text_cuts_on_character_boundaries() {
        assert_eq!(bounded_text(b"hello", 10), ("hello".into(), false));
        assert_eq!(bounded_text(b"hello", 3), ("hel".into(), true));
        let (t, cut) = bounded_text("héllo".as_bytes(), 2);
        assert_eq!((t.as_str(), cut), ("h", true));
        assert_eq!(truncate_text("héllo", 2), ("h", true));
        assert_eq!(truncate_text("héllo", 3), ("hé", true));
    }
}
