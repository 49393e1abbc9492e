//! HTTP plumbing shared by the `http-api` and `openc2-http` connectors: one reqwest client per
//! connector, how a CACAO command becomes a request, how variables enter it, authentication, and
//! how the answer is read.
//!
//! Design decisions (each one is a rule a playbook author can rely on):
//!
//! - **Request line.** A CACAO HTTP command is a start line, `METHOD target [HTTP/x.y]`. The method
//!   is upper-cased (`post` means `POST`); the version is checked for form (`HTTP/1.1`, `HTTP/2`,
//!   and the `HTTP1.1` that SOARCA's examples write) but is informational: the client negotiates
//!   the protocol with the server. A command with a line break is refused: a start line is one line.
//! - **URL.** The target is either a full URL (`https://host/path`) or a path. A path in origin
//!   form (`/api/v1/block?ip=...`) replaces the base URL's path; a relative one (`get`) is appended
//!   to the base URL's directory, as in RFC 3986 (but without `..` processing). The base comes from
//!   the target's `address`: `url` first, else `dname`, `ipv4`, `ipv6` with `port`, over https unless
//!   the port is 80 (CACAO's http-api target defaults to port 80, but cleartext must be asked for).
//!   A full URL in the command must name the target's host and port when the target has an
//!   address: the target's credentials are never sent to a host the step does not name. URLs with
//!   `user:password@` are refused: credentials belong in `authentication_info`.
//! - **Plain HTTP.** Allowed to loopback hosts always, elsewhere only with
//!   [`HttpConfig::allow_plain_http`] (default false), because credentials, tokens and the
//!   command itself would cross the network in clear text.
//! - **Variables in URLs** are percent-encoded: everything except RFC 3986's unreserved characters
//!   (`A-Z a-z 0-9 - . _ ~`) becomes `%XX`, so a value cannot add a path segment (`/`), start a
//!   query or fragment (`?`, `#`), add a parameter (`&`, `=`) or a line (CR/LF). A value that would
//!   make a whole path segment `.` or `..` is refused, because URL parsers resolve dot segments even
//!   when percent-encoded (`%2e%2e`). Host names from `dname` must be host name characters.
//! - **Variables in headers** are written as they are, but a value holding CR, LF or NUL is refused
//!   (it could end the header and start another), and so is any other control character. Header
//!   names are taken literally. The connector owns `Host`, `Content-Length`, `Transfer-Encoding`,
//!   `Connection` and the like (a playbook setting them is refused), `Idempotency-Key`, and the
//!   authentication header when the target has authentication info (the playbook's is replaced).
//! - **Variables in bodies** follow the body's media type (the `Content-Type` header; with none, a
//!   body starting with `{` or `[` is JSON):
//!   JSON: inside a string literal a value is JSON-string-escaped (`"`, `\`, control characters),
//!   so it stays one string; outside a string it must itself be a JSON number, `true`, `false` or
//!   `null` (so `{"port": __port__:value}` works and `1, "admin": true` is refused).
//!   Form (`application/x-www-form-urlencoded`): percent-encoded like URL values.
//!   XML: `& < > " '` become entities. Anything else: written raw (the author chose a format we
//!   cannot parse; a value is data only if the format makes it so). A body that is not UTF-8
//!   (binary `content_b64`) is sent untouched.
//! - **Undefined variables** are listed by `render` and left as written; `execute` refuses the
//!   command (a literal `__ip__:value` sent to a firewall API is never what the author meant).
//! - **Authentication** comes from the target's `authentication_info`: `http-basic` (`user_id`,
//!   else `username`, and `password`) is a Basic header; `oauth2` with client credentials (see
//!   below) fetches and caches a token; `oauth2` with a `token` sends it as `Bearer`, in
//!   `Authorization` unless `oauth_header` names another header. Secrets may be variables
//!   (`__pw__:value`), as CACAO recommends. `kms` credentials and `user-auth` are refused: there is
//!   no key store here, and user-auth is for shells.
//! - **OAuth 2 client credentials.** CACAO defines no fields for them and its oauth2 object is
//!   closed, so they go where the schema allows custom data: `authentication_info_extensions`
//!   under [`CLIENT_CREDENTIALS_EXTENSION`], with `token_url`, `client_id`, `client_secret`,
//!   optional `scope` and `client_auth` (`basic`, the default RFC 6749 requires servers to support,
//!   or `post`). The same names prefixed `x_` directly on the object are read too, for producers
//!   that write custom properties (our strict schema refuses those). The connector POSTs
//!   `grant_type=client_credentials`, caches the access token until `expires_in` minus
//!   [`HttpConfig::token_refresh_margin`] (or [`HttpConfig::token_lifetime_without_expiry`]), and
//!   forgets it when the API answers 401, so a retry fetches a fresh one. One fetch at a time per
//!   credential: concurrent commands wait for it rather than all asking the token endpoint.
//! - **Idempotency-Key** (the request's key, stable across retries and resumes) goes on every
//!   request: when a run is resumed after a crash, or a request is retried after its answer was
//!   lost, a server that honours the header acts once, not twice.
//! - **Answers.** The body is read chunk by chunk and never beyond the output limit (the rest is
//!   not read; the connection is dropped). HTTP 429, 502, 503 and 504 are
//!   [`ConnectorError::Unavailable`] so the engine's retries apply (the server or a gateway says
//!   "not now", and the Idempotency-Key makes a retry safe); every other status is an answer, `Ok`
//!   with `success` for 2xx only. Refused or reset connections are `Unavailable`, running out of
//!   `request.timeout` is `Timeout`.
//! - **Redirects** are followed only within the same origin (scheme, host, port), at most
//!   [`HttpConfig::max_redirects`] times; any other redirect is returned as the 3xx answer.
//! - **Secrets** never appear in `render`, errors or Debug output: authentication headers and
//!   headers whose names look secret (`*auth*`, `*token*`, `*secret*`, `cookie`, `*api-key*`, ...)
//!   are shown as `<redacted>`, and query parameters with such names too. Summaries and errors
//!   show URLs without their query.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use indexmap::IndexMap;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{Method, Url};
use serde_json::Value;

use super::{bounded_text, truncate_text, CommandRequest, ConnectorError, RenderedCommand, Target};
use crate::attack::sync::chain;
use crate::cacao::model::{AuthenticationInfo, AuthenticationInfoType};
use crate::execute::variables::{references, Reference, Variables};

/// The extension definition under whose id an oauth2 authentication info carries client
/// credentials (`token_url`, `client_id`, `client_secret`, `scope`, `client_auth`).
pub const CLIENT_CREDENTIALS_EXTENSION: &str = "extension-definition--6f1d8c2a-93b4-4e57-a0c8-5b7e2f914d36";

/// The header that carries the request's idempotency key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Most distinct client credentials whose tokens are cached; past it the cache starts over.
const MAX_CACHED_CREDENTIALS: usize = 1024;

/// Headers the connector sets itself (or the HTTP stack does); a playbook may not.
const RESERVED_HEADERS: &[&str] =
    &["host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"];

/// What an operator may set for the HTTP connectors.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Time allowed to open a connection (within the command's own timeout).
    pub connect_timeout: Duration,
    /// Allow plain `http://` to hosts other than loopback. Off by default: credentials and
    /// commands would cross the network in clear text.
    pub allow_plain_http: bool,
    /// Same-origin redirects followed per request.
    pub max_redirects: usize,
    /// Use the `HTTP(S)_PROXY` / `NO_PROXY` environment. Off by default, so that where a
    /// response action goes does not depend on the environment the engine was started in.
    pub use_system_proxy: bool,
    /// PEM certificates trusted in addition to the platform's roots (a private CA for
    /// appliances inside the network).
    pub extra_root_certificates_pem: Vec<String>,
    /// Longest URL accepted once variables are written in, in bytes.
    pub max_url_bytes: usize,
    /// Longest header value or credential accepted once variables are written in, in bytes.
    pub max_header_bytes: usize,
    /// Largest request body accepted once variables are written in, in bytes.
    pub max_request_body_bytes: usize,
    /// Largest token endpoint answer read, in bytes.
    pub max_token_response_bytes: usize,
    /// A cached token is renewed this long before the server says it expires.
    pub token_refresh_margin: Duration,
    /// How long a token is cached when the server does not say (`expires_in` absent).
    pub token_lifetime_without_expiry: Duration,
    /// Bytes of a transient error answer's body quoted in the error message.
    pub error_excerpt_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            allow_plain_http: false,
            max_redirects: 5,
            use_system_proxy: false,
            extra_root_certificates_pem: Vec::new(),
            max_url_bytes: 16 * 1024,
            max_header_bytes: 16 * 1024,
            max_request_body_bytes: 16 * 1024 * 1024,
            max_token_response_bytes: 64 * 1024,
            token_refresh_margin: Duration::from_secs(30),
            token_lifetime_without_expiry: Duration::from_secs(300),
            error_excerpt_bytes: 300,
        }
    }
}

fn invalid(message: impl Into<String>) -> ConnectorError {
    ConnectorError::Invalid(message.into())
}

// ---------------------------------------------------------------------------------------------
// Substitution.

/// `text` with each defined variable reference replaced by `render(reference, value)`; undefined
/// ones are left as written and added to `undefined`. Fails when the result passes `limit` bytes
/// (`what` names the text in the message).
fn substitute(
    variables: &Variables,
    text: &str,
    limit: usize,
    what: &str,
    undefined: &mut Vec<String>,
    mut render: impl FnMut(&Reference, &str) -> Result<String, ConnectorError>,
) -> Result<String, ConnectorError> {
    let too_long = || invalid(format!("{what} is over {limit} bytes once variables are written in"));
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in references(text) {
        out.push_str(&text[last..r.start]);
        match variables.get(&r.name) {
            Some(v) => out.push_str(&render(&r, &v.value)?),
            None => {
                out.push_str(&text[r.start..r.end]);
                if !undefined.contains(&r.name) {
                    undefined.push(r.name.clone());
                }
            }
        }
        if out.len() > limit {
            return Err(too_long());
        }
        last = r.end;
    }
    out.push_str(&text[last..]);
    if out.len() > limit {
        return Err(too_long());
    }
    Ok(out)
}

/// `value` percent-encoded for any part of a URL: only RFC 3986's unreserved characters stay.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `value` as the inside of a JSON string literal (without the quotes).
pub fn json_string_escape(value: &str) -> String {
    let quoted = Value::String(value.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// Whether `value` is, by itself, a JSON number, `true`, `false` or `null` (what may stand in a
/// JSON document outside a string without changing its structure).
fn is_json_scalar(value: &str) -> bool {
    !value.is_empty()
        && value.trim() == value
        && matches!(serde_json::from_str::<Value>(value), Ok(Value::Number(_) | Value::Bool(_) | Value::Null))
}

/// Tracks whether a position in a JSON text lies inside a string literal, scanning forward only.
struct JsonStringScanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    in_string: bool,
    escaped: bool,
}

impl<'a> JsonStringScanner<'a> {
    fn new(text: &'a str) -> Self {
        JsonStringScanner { bytes: text.as_bytes(), pos: 0, in_string: false, escaped: false }
    }

    /// Whether byte `at` is inside a string; `at` must not go backwards between calls.
    fn in_string_at(&mut self, at: usize) -> bool {
        let end = at.min(self.bytes.len());
        while self.pos < end {
            let b = self.bytes[self.pos];
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
            } else if b == b'"' {
                self.in_string = true;
            }
            self.pos += 1;
        }
        self.in_string
    }
}

/// A JSON text with variables written in: JSON-escaped inside strings, JSON scalars only outside.
pub(crate) fn substitute_json(
    variables: &Variables,
    template: &str,
    limit: usize,
    undefined: &mut Vec<String>,
) -> Result<String, ConnectorError> {
    let mut scanner = JsonStringScanner::new(template);
    substitute(variables, template, limit, "the body", undefined, |r, value| {
        if scanner.in_string_at(r.start) {
            Ok(json_string_escape(value))
        } else if is_json_scalar(value) {
            Ok(value.to_owned())
        } else {
            Err(invalid(format!(
                "variable {} stands outside a JSON string in the body, so its value must be a JSON number, \
                 true, false or null; put the reference in quotes to send it as a string",
                r.name
            )))
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Request line and URL.

/// A parsed start line: `METHOD target [HTTP/x.y]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestLine {
    pub method: Method,
    pub target: String,
}

/// Reads `METHOD target [version]`.
pub(crate) fn parse_request_line(command: &str) -> Result<RequestLine, ConnectorError> {
    let line = command.trim();
    let shown = truncate_text(line, 200).0;
    if line.contains(['\r', '\n']) {
        return Err(invalid(format!("the HTTP command `{}` spans more than one line", shown.escape_debug())));
    }
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    let (method, target, version) = match words.as_slice() {
        [m, t] => (*m, *t, None),
        [m, t, v] => (*m, *t, Some(*v)),
        _ => {
            return Err(invalid(format!(
                "`{shown}` is not an HTTP start line (METHOD target [HTTP/1.1], e.g. `POST /api/block HTTP/1.1`)"
            )))
        }
    };
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| invalid(format!("`{method}` is not an HTTP method")))?;
    if let Some(v) = version {
        if !is_http_version(v) {
            return Err(invalid(format!("`{v}` is not an HTTP version (HTTP/1.1, HTTP/2)")));
        }
    }
    if target == "*" {
        return Err(invalid("the asterisk request target (`OPTIONS *`) is not supported"));
    }
    Ok(RequestLine { method, target: target.to_owned() })
}

/// `HTTP/1.1`, `HTTP/2`, `HTTP/2.0`, and SOARCA's `HTTP1.1`.
fn is_http_version(v: &str) -> bool {
    let Some(rest) = v.get(..4).filter(|p| p.eq_ignore_ascii_case("http")).map(|_| &v[4..]) else {
        return false;
    };
    let number = rest.strip_prefix('/').unwrap_or(rest);
    let mut parts = number.split('.');
    let major_ok = parts.next().is_some_and(|p| p.len() == 1 && p.bytes().all(|b| b.is_ascii_digit()));
    let minor_ok = parts.next().is_none_or(|p| p.len() == 1 && p.bytes().all(|b| b.is_ascii_digit()));
    major_ok && minor_ok && parts.next().is_none()
}

/// Whether a path segment is a dot segment, percent-encoded or not.
fn is_dot_segment(segment: &str) -> bool {
    matches!(segment.to_ascii_lowercase().as_str(), "." | ".." | "%2e" | ".%2e" | "%2e." | "%2e%2e")
}

/// Refuses a substituted URL in which a variable made a whole path segment `.` or `..`. Values
/// are percent-encoded, so they cannot add `/` or `?`: template and result have the same
/// segments, and a segment that differs was touched by a variable.
fn check_dot_segments(template: &str, substituted: &str) -> Result<(), ConnectorError> {
    let path = |s: &'_ str| -> String { s.split(['?', '#']).next().unwrap_or("").to_owned() };
    let (t, s) = (path(template), path(substituted));
    for (ts, ss) in t.split('/').zip(s.split('/')) {
        if ts != ss && is_dot_segment(ss) {
            return Err(invalid(format!(
                "a variable in the URL segment `{ts}` makes it `{ss}`, which would climb the path; refused"
            )));
        }
    }
    Ok(())
}

/// A URL template with variables percent-encoded in, parsed.
fn substitute_url(
    config: &HttpConfig,
    variables: &Variables,
    template: &str,
    undefined: &mut Vec<String>,
) -> Result<String, ConnectorError> {
    let text = substitute(variables, template, config.max_url_bytes, "the URL", undefined, |_, value| {
        Ok(percent_encode(value))
    })?;
    check_dot_segments(template, &text)?;
    Ok(text)
}

fn parse_http_url(text: &str, what: &str) -> Result<Url, ConnectorError> {
    let url = Url::parse(text).map_err(|e| invalid(format!("{what} `{}` is not a URL: {e}", redact_url(text))))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!("{what}: scheme `{}` is not http or https", url.scheme())));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(format!(
            "{what} carries credentials (user:password@); put them in the target's authentication_info"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!("{what} names no host")));
    }
    Ok(url)
}

/// The target's base URL from its `address` (`url`, else `dname`/`ipv4`/`ipv6` with `port`), or
/// `None` when it has no address of those kinds.
pub(crate) fn target_base_url(
    config: &HttpConfig,
    target: &Target,
    variables: &Variables,
    undefined: &mut Vec<String>,
) -> Result<Option<Url>, ConnectorError> {
    let what = format!("target `{}`", target.id);
    let port = target.port()?;
    if let Some(template) = target.address(&["url"]) {
        let text = substitute_url(config, variables, template, undefined)?;
        let mut url = parse_http_url(&text, &format!("{what}: address url"))?;
        if let (Some(p), None) = (port, url.port()) {
            url.set_port(Some(p)).map_err(|_| invalid(format!("{what}: cannot set port {p}")))?;
        }
        url.set_fragment(None);
        return Ok(Some(url));
    }
    // A host cannot be shown with a variable left in it, so here an undefined one is an error
    // even for `render`.
    let raw =
        |template: &str| {
            let mut missing = Vec::new();
            let text = substitute(variables, template, config.max_url_bytes, "the address", &mut missing, |_, v| {
                Ok(v.to_owned())
            })?;
            if !missing.is_empty() {
                return Err(invalid(format!("{what}: the address uses undefined variables {}", missing.join(", "))));
            }
            Ok(text)
        };
    let host = if let Some(template) = target.address(&["dname"]) {
        let name = raw(template)?;
        let is_host_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
        if name.is_empty() || !name.bytes().all(is_host_char) {
            return Err(invalid(format!("{what}: `{}` is not a host name", name.escape_debug())));
        }
        name
    } else if let Some(template) = target.address(&["ipv4"]) {
        let text = raw(template)?;
        text.trim()
            .parse::<Ipv4Addr>()
            .map(|a| a.to_string())
            .map_err(|_| invalid(format!("{what}: `{}` is not an IPv4 address", text.escape_debug())))?
    } else if let Some(template) = target.address(&["ipv6"]) {
        let text = raw(template)?;
        let bare = text.trim().trim_start_matches('[').trim_end_matches(']');
        let addr = bare
            .parse::<Ipv6Addr>()
            .map_err(|_| invalid(format!("{what}: `{}` is not an IPv6 address", text.escape_debug())))?;
        format!("[{addr}]")
    } else {
        return Ok(None);
    };
    let scheme = if port == Some(80) { "http" } else { "https" };
    let port_part = port.filter(|&p| p != 80 && p != 443).map(|p| format!(":{p}")).unwrap_or_default();
    parse_http_url(&format!("{scheme}://{host}{port_part}/"), &what).map(Some)
}

/// `scheme://host[:port]` of `url`.
fn origin(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

fn same_host(a: &Url, b: &Url) -> bool {
    a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// The URL a command goes to: `request_target` (a full URL or a path; `None` means the target's
/// URL as it is) resolved against the target's address, variables percent-encoded.
pub(crate) fn resolve_url(
    config: &HttpConfig,
    request_target: Option<&str>,
    target: Option<&Target>,
    variables: &Variables,
    undefined: &mut Vec<String>,
) -> Result<Url, ConnectorError> {
    let base = match target {
        Some(t) => target_base_url(config, t, variables, undefined)?,
        None => None,
    };
    let no_base = || {
        invalid(match target {
            Some(t) => format!("target `{}` has no url, dname, ipv4 or ipv6 address to send the command to", t.id),
            None => "the command names a path but the step has no target with an address".to_owned(),
        })
    };
    let url = match request_target {
        None => base.ok_or_else(no_base)?,
        Some(text) if is_absolute_url(text) => {
            let url = parse_http_url(&substitute_url(config, variables, text, undefined)?, "the command's URL")?;
            if let (Some(base), Some(t)) = (&base, target) {
                if !same_host(&url, base) {
                    return Err(invalid(format!(
                        "the command's URL goes to {} but the step's target `{}` is {}; the target's \
                         credentials are never sent to another host",
                        origin(&url),
                        t.id,
                        origin(base)
                    )));
                }
            }
            url
        }
        Some(text) => {
            let base = base.ok_or_else(no_base)?;
            let substituted = substitute_url(config, variables, text, undefined)?;
            let path = if substituted.starts_with('/') {
                substituted
            } else {
                let dir = base.path().rfind('/').map(|i| &base.path()[..=i]).unwrap_or("/");
                format!("{dir}{substituted}")
            };
            let url = parse_http_url(&format!("{}{path}", origin(&base)), "the command's URL")?;
            // Belt and braces: nothing in a path may move the request to another origin.
            if origin(&url) != origin(&base) {
                return Err(invalid(format!("the command's path moves the request off {}", origin(&base))));
            }
            url
        }
    };
    check_plain_http(config, &url)?;
    Ok(url)
}

fn is_absolute_url(text: &str) -> bool {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Whether `url` goes to this machine (127.0.0.0/8, ::1, `localhost`).
pub(crate) fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

fn check_plain_http(config: &HttpConfig, url: &Url) -> Result<(), ConnectorError> {
    if url.scheme() == "http" && !config.allow_plain_http && !is_loopback(url) {
        return Err(invalid(format!(
            "plain http to {} refused: use https, or set allow_plain_http in the connector's configuration",
            origin(url)
        )));
    }
    Ok(())
}

/// Whether a query parameter's or header's name suggests a secret value.
fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["auth", "token", "secret", "password", "passwd", "cookie", "session", "api-key", "api_key", "apikey"]
        .iter()
        .any(|w| n.contains(w))
}

/// `url` with the values of query parameters whose names look secret replaced by `<redacted>`.
fn redact_url(url: &str) -> String {
    let Some((head, query)) = url.split_once('?') else { return url.to_owned() };
    let query = query.split('#').next().unwrap_or("");
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if looks_secret(name) || name.eq_ignore_ascii_case("key") => format!("{name}=<redacted>"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}?{}", pairs.join("&"))
}

/// `url` without its query (`?…` marks that there was one), for summaries and errors.
pub(crate) fn short_url(url: &Url) -> String {
    let mut s = format!("{}{}", origin(url), url.path());
    if url.query().is_some() {
        s.push_str("?…");
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Headers and body.

/// The playbook's headers with variables written in (CR, LF, NUL refused), secret-looking ones
/// marked sensitive.
pub(crate) fn playbook_headers(
    config: &HttpConfig,
    headers: &IndexMap<String, Vec<String>>,
    variables: &Variables,
    undefined: &mut Vec<String>,
) -> Result<HeaderMap, ConnectorError> {
    let mut map = HeaderMap::new();
    for (raw_name, values) in headers {
        let name = HeaderName::from_bytes(raw_name.trim().as_bytes())
            .map_err(|_| invalid(format!("`{}` is not an HTTP header name", raw_name.escape_debug())))?;
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(invalid(format!("header `{name}` is set by the connector, not the playbook")));
        }
        for template in values {
            if template.contains(['\r', '\n', '\0']) {
                return Err(invalid(format!("header `{name}`: the value holds a CR, LF or NUL character")));
            }
            let text = substitute(variables, template, config.max_header_bytes, "a header", undefined, |r, value| {
                if value.contains(['\r', '\n', '\0']) {
                    Err(invalid(format!(
                        "header `{name}`: the value of {} holds a CR, LF or NUL character, which could end the \
                         header and start another; refused",
                        r.name
                    )))
                } else {
                    Ok(value.to_owned())
                }
            })?;
            let mut value = HeaderValue::from_bytes(text.as_bytes())
                .map_err(|_| invalid(format!("header `{name}`: the value holds a control character")))?;
            if looks_secret(name.as_str()) {
                value.set_sensitive(true);
            }
            map.append(name.clone(), value);
        }
    }
    Ok(map)
}

/// How variables enter a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Json,
    Form,
    Xml,
    Raw,
}

/// The body kind from the `Content-Type` (its media type), or, with none, from the body's look.
pub(crate) fn body_kind(content_type: Option<&HeaderValue>, template: &str) -> BodyKind {
    let Some(ct) = content_type else {
        let first = template.trim_start().chars().next();
        return if matches!(first, Some('{' | '[')) { BodyKind::Json } else { BodyKind::Raw };
    };
    let text = String::from_utf8_lossy(ct.as_bytes());
    let media = text.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if media == "application/json" || media == "text/json" || media.ends_with("+json") {
        BodyKind::Json
    } else if media == "application/x-www-form-urlencoded" {
        BodyKind::Form
    } else if media == "application/xml" || media == "text/xml" || media.ends_with("+xml") {
        BodyKind::Xml
    } else {
        BodyKind::Raw
    }
}

/// The body with variables written in by its kind; a body that is not UTF-8 is sent untouched.
pub(crate) fn substitute_body(
    config: &HttpConfig,
    content: &[u8],
    content_type: Option<&HeaderValue>,
    variables: &Variables,
    undefined: &mut Vec<String>,
) -> Result<Vec<u8>, ConnectorError> {
    let limit = config.max_request_body_bytes;
    let Ok(template) = std::str::from_utf8(content) else {
        if content.len() > limit {
            return Err(invalid(format!("the body is over {limit} bytes")));
        }
        return Ok(content.to_vec());
    };
    let text = match body_kind(content_type, template) {
        BodyKind::Json => substitute_json(variables, template, limit, undefined)?,
        BodyKind::Form => substitute(variables, template, limit, "the body", undefined, |_, v| Ok(percent_encode(v)))?,
        BodyKind::Xml => substitute(variables, template, limit, "the body", undefined, |_, v| {
            let mut out = String::with_capacity(v.len());
            crate::workflow::render::svg::escape_xml_into(&mut out, v);
            Ok(out)
        })?,
        BodyKind::Raw => substitute(variables, template, limit, "the body", undefined, |_, v| Ok(v.to_owned()))?,
    };
    Ok(text.into_bytes())
}

// ---------------------------------------------------------------------------------------------
// Authentication.

/// How a request authenticates.
#[derive(Clone)]
pub(crate) enum Auth {
    None,
    /// A fixed header (Basic, or a given bearer token); the value is marked sensitive.
    Header {
        name: HeaderName,
        value: HeaderValue,
    },
    /// A token fetched with client credentials and cached.
    ClientCredentials(Arc<ClientCredentials>),
}

impl Auth {
    /// The header this authentication sets, if any.
    pub(crate) fn header_name(&self) -> Option<&HeaderName> {
        match self {
            Auth::None => None,
            Auth::Header { name, .. } => Some(name),
            Auth::ClientCredentials(cc) => Some(&cc.header),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Header { .. } => "header",
            Auth::ClientCredentials(_) => "oauth2 client credentials",
        }
    }
}

/// How the client authenticates at the token endpoint (RFC 6749 section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ClientAuth {
    /// `Authorization: Basic` with the form-encoded id and secret.
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
}

/// OAuth 2 client credentials; Debug shows no secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct ClientCredentials {
    pub token_url: Url,
    pub client_id: String,
    client_secret: String,
    pub scope: Option<String>,
    pub client_auth: ClientAuth,
    /// The header the fetched token goes in (`Authorization` unless `oauth_header` says).
    pub header: HeaderName,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("token_url", &short_url(&self.token_url))
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("scope", &self.scope)
            .field("client_auth", &self.client_auth)
            .finish()
    }
}

/// A client-credentials field: from our extension, else an `x_`-prefixed property.
fn client_credentials_field<'a>(info: &'a AuthenticationInfo, field: &str) -> Option<&'a str> {
    info.extra
        .get("authentication_info_extensions")
        .and_then(|e| e.get(CLIENT_CREDENTIALS_EXTENSION))
        .and_then(|ext| ext.get(field))
        .or_else(|| info.extra.get(&format!("x_{field}")))
        .and_then(Value::as_str)
}

/// The authentication the target's `authentication_info` asks for; secrets may be variables.
pub(crate) fn plan_auth(
    config: &HttpConfig,
    target: Option<&Target>,
    variables: &Variables,
    undefined: &mut Vec<String>,
) -> Result<Auth, ConnectorError> {
    let Some((target, info)) = target.and_then(|t| t.auth.as_ref().map(|a| (t, a))) else {
        return Ok(Auth::None);
    };
    let what = format!("target `{}`: authentication info", target.id);
    if info.kms == Some(true) {
        return Err(invalid(format!(
            "{what} keeps its secret in a key management system (kms), which this engine cannot read"
        )));
    }
    // Secrets are written in raw: they are never part of a URL or a body here, and each result is
    // checked for what the header needs.
    let secret = |template: &str, undefined: &mut Vec<String>| {
        substitute(variables, template, config.max_header_bytes, "a credential", undefined, |_, v| Ok(v.to_owned()))
    };
    match &info.auth_type {
        Some(AuthenticationInfoType::HttpBasic) => {
            let user = info.user_id.as_deref().or(info.username.as_deref()).unwrap_or("");
            let user = secret(user, undefined)?;
            let password = secret(info.password.as_deref().unwrap_or(""), undefined)?;
            if user.is_empty() {
                return Err(invalid(format!("{what} (http-basic) has no user_id")));
            }
            if user.contains(':') {
                return Err(invalid(format!("{what} (http-basic): a user id cannot contain `:` (RFC 7617)")));
            }
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
                .map_err(|_| invalid(format!("{what}: cannot build the Basic header")))?;
            value.set_sensitive(true);
            Ok(Auth::Header { name: AUTHORIZATION, value })
        }
        Some(AuthenticationInfoType::Oauth2) => {
            let header = oauth_header_name(info.oauth_header.as_deref(), &what)?;
            if let Some(token_url) = client_credentials_field(info, "token_url") {
                let text = substitute_url(config, variables, token_url, undefined)?;
                let token_url = parse_http_url(&text, &format!("{what}: token_url"))?;
                check_plain_http(config, &token_url)?;
                let field = |name: &str| client_credentials_field(info, name).unwrap_or("");
                let client_id = secret(field("client_id"), undefined)?;
                let client_secret = secret(field("client_secret"), undefined)?;
                if client_id.is_empty() {
                    return Err(invalid(format!("{what} has a token_url but no client_id")));
                }
                let scope = match client_credentials_field(info, "scope") {
                    Some(s) => Some(secret(s, undefined)?),
                    None => None,
                };
                let client_auth = match client_credentials_field(info, "client_auth").unwrap_or("basic") {
                    "basic" => ClientAuth::Basic,
                    "post" => ClientAuth::Post,
                    other => {
                        return Err(invalid(format!("{what}: client_auth `{other}` is neither `basic` nor `post`")))
                    }
                };
                let cc = ClientCredentials { token_url, client_id, client_secret, scope, client_auth, header };
                return Ok(Auth::ClientCredentials(Arc::new(cc)));
            }
            let token = secret(info.token.as_deref().unwrap_or(""), undefined)?;
            if token.trim().is_empty() {
                return Err(invalid(format!(
                    "{what} (oauth2) has neither a token nor client credentials (token_url, client_id, \
                     client_secret under {CLIENT_CREDENTIALS_EXTENSION})"
                )));
            }
            let value =
                bearer(&token).ok_or_else(|| invalid(format!("{what}: the token holds a control character")))?;
            Ok(Auth::Header { name: header, value })
        }
        Some(AuthenticationInfoType::UserAuth) => {
            Err(invalid(format!("{what} is user-auth, which is for shells (ssh), not HTTP")))
        }
        Some(AuthenticationInfoType::Other(t)) => Err(invalid(format!("{what}: type `{t}` is not supported for HTTP"))),
        None => Err(invalid(format!("{what} has no type"))),
    }
}

/// `Bearer <token>` as a sensitive header value, if the token can be one.
fn bearer(token: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.trim())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// `oauth_header` names the header the token goes in; absent, empty, `Authorization` or the
/// scheme word `Bearer` all mean `Authorization`.
fn oauth_header_name(oauth_header: Option<&str>, what: &str) -> Result<HeaderName, ConnectorError> {
    let name = oauth_header.map(str::trim).unwrap_or("");
    if name.is_empty() || name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("bearer") {
        return Ok(AUTHORIZATION);
    }
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| invalid(format!("{what}: oauth_header `{}` is not an HTTP header name", name.escape_debug())))?;
    if RESERVED_HEADERS.contains(&header.as_str()) || header.as_str() == IDEMPOTENCY_KEY {
        return Err(invalid(format!("{what}: oauth_header `{header}` is a header the connector owns")));
    }
    Ok(header)
}

// ---------------------------------------------------------------------------------------------
// The prepared request.

/// A request ready to send: everything substituted and checked, authentication planned.
#[derive(Clone)]
pub(crate) struct Prepared {
    pub method: Method,
    pub url: Url,
    /// The playbook's headers and the connector's own, without authentication and
    /// Idempotency-Key (added when sending).
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    pub auth: Auth,
    pub idempotency_key: String,
    /// Variables referenced but not defined.
    pub undefined: Vec<String>,
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("method", &self.method)
            .field("url", &redact_url(self.url.as_str()))
            .field("headers", &self.headers.keys().map(HeaderName::as_str).collect::<Vec<_>>())
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .field("auth", &self.auth.kind())
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// `POST https://host/path` (query elided), for summaries and errors.
    pub(crate) fn describe(&self) -> String {
        format!("{} {}", self.method, short_url(&self.url))
    }

    /// Refuses to run with variables undefined (they would be sent literally).
    pub(crate) fn require_defined(&self) -> Result<(), ConnectorError> {
        if self.undefined.is_empty() {
            return Ok(());
        }
        Err(invalid(format!(
            "undefined variable{} {} (it would be sent as written)",
            if self.undefined.len() == 1 { "" } else { "s" },
            self.undefined.join(", ")
        )))
    }

    /// The request as a reviewer reads it: start line, headers (secrets `<redacted>`), body.
    pub(crate) fn render(&self) -> RenderedCommand {
        let mut text = format!("{} {}", self.method, redact_url(self.url.as_str()));
        let auth_header = self.auth.header_name();
        for (name, value) in &self.headers {
            if Some(name) == auth_header {
                continue;
            }
            let shown = if value.is_sensitive() || looks_secret(name.as_str()) {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            text.push_str(&format!("\n{}: {shown}", display_header_name(name)));
        }
        if let Some(name) = auth_header {
            text.push_str(&format!("\n{}: <redacted>", display_header_name(name)));
        }
        text.push_str(&format!("\nIdempotency-Key: {}", self.idempotency_key));
        if let Some(body) = &self.body {
            text.push_str("\n\n");
            match std::str::from_utf8(body) {
                Ok(s) => text.push_str(s),
                Err(_) => text.push_str(&format!("<{} bytes of binary content>", body.len())),
            }
        }
        let host = self.url.host_str().unwrap_or("");
        let target = match self.url.port_or_known_default() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        RenderedCommand { text, target, undefined: self.undefined.clone() }
    }
}

/// `content-type` as `Content-Type`, for reading.
fn display_header_name(name: &HeaderName) -> String {
    name.as_str()
        .split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

// ---------------------------------------------------------------------------------------------
// Sending.

/// What the server answered.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: u16,
    /// The body, cut at the output limit on a character boundary.
    pub body: String,
    pub truncated: bool,
    pub location: Option<String>,
    pub retry_after: Option<String>,
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Statuses that mean "not now" (rate limited, or a gateway could not reach the service): the
/// request may be retried, safely thanks to its Idempotency-Key.
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The error for a transient answer: status, where, Retry-After, and the start of the body.
pub(crate) fn transient_error(config: &HttpConfig, answer: &Answer, what: &str) -> ConnectorError {
    let mut message = format!("HTTP {} from {what}", answer.status);
    if let Some(r) = &answer.retry_after {
        message.push_str(&format!(" (Retry-After: {r})"));
    }
    let excerpt = truncate_text(answer.body.trim(), config.error_excerpt_bytes).0;
    if !excerpt.is_empty() {
        message.push_str(&format!(": {excerpt}"));
    }
    ConnectorError::Unavailable(message)
}

/// ` ; redirect to <origin> not followed` for a 3xx answer with a Location.
pub(crate) fn redirect_note(answer: &Answer, url: &Url) -> String {
    match (&answer.location, (300..400).contains(&answer.status)) {
        (Some(location), true) => {
            let to = url.join(location).map(|u| origin(&u)).unwrap_or_else(|_| "an unreadable location".to_owned());
            format!("; redirect to {to} not followed (another origin, or too many redirects)")
        }
        _ => String::new(),
    }
}

/// Runs `future` within `timeout`, or fails with [`ConnectorError::Timeout`].
pub(crate) async fn within<T>(
    timeout: Duration,
    future: impl std::future::Future<Output = Result<T, ConnectorError>>,
) -> Result<T, ConnectorError> {
    tokio::time::timeout(timeout, future).await.map_err(|_| ConnectorError::Timeout(timeout))?
}

/// A cached access token.
struct CachedToken {
    access_token: String,
    expires_at: Instant,
}

type TokenSlot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

/// Access tokens by client credentials. Each credential has its own async lock, held while a
/// token is fetched, so concurrent commands wait for one fetch; dropping a waiting or fetching
/// future releases it and caches nothing.
#[derive(Default)]
struct TokenCache {
    slots: std::sync::Mutex<HashMap<ClientCredentials, TokenSlot>>,
}

impl TokenCache {
    fn slot(&self, credentials: &ClientCredentials) -> TokenSlot {
        // A poisoned lock only means another thread panicked while holding it; the map is fine.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= MAX_CACHED_CREDENTIALS && !slots.contains_key(credentials) {
            slots.clear();
        }
        slots.entry(credentials.clone()).or_default().clone()
    }
}

/// The HTTP client of one connector (built once) with its token cache.
pub(crate) struct HttpTransport {
    client: reqwest::Client,
    config: HttpConfig,
    tokens: TokenCache,
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport").field("config", &self.config).finish_non_exhaustive()
    }
}

impl HttpTransport {
    pub(crate) fn new(config: HttpConfig) -> Result<HttpTransport, ConnectorError> {
        let max_redirects = config.max_redirects;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let first = attempt.previous().first().cloned();
            let same_origin =
                first.is_some_and(|f| f.scheme() == attempt.url().scheme() && same_host(&f, attempt.url()));
            if same_origin && attempt.previous().len() <= max_redirects {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let mut builder = crate::attack::sync::async_http_client_builder(config.connect_timeout).redirect(policy);
        if !config.use_system_proxy {
            builder = builder.no_proxy();
        }
        let mut roots = Vec::new();
        for pem in &config.extra_root_certificates_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| invalid(format!("extra root certificate: {}", chain(&e))))?;
            if certs.is_empty() {
                return Err(invalid("an extra root certificate entry holds no PEM certificate"));
            }
            roots.extend(certs);
        }
        if !roots.is_empty() {
            builder = builder.tls_certs_merge(roots);
        }
        let client = builder.build().map_err(|e| invalid(format!("cannot build the HTTP client: {}", chain(&e))))?;
        Ok(HttpTransport { client, config, tokens: TokenCache::default() })
    }

    pub(crate) fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Sends `prepared` (authentication and Idempotency-Key added) and reads at most
    /// `output_limit` bytes of the answer. No time limit of its own: wrap it in [`within`].
    pub(crate) async fn send(&self, prepared: &Prepared, output_limit: usize) -> Result<Answer, ConnectorError> {
        let mut headers = prepared.headers.clone();
        let mut token_slot = None;
        match &prepared.auth {
            Auth::None => {}
            Auth::Header { name, value } => {
                headers.insert(name.clone(), value.clone());
            }
            Auth::ClientCredentials(cc) => {
                let (slot, value) = self.client_credentials_token(cc).await?;
                headers.insert(cc.header.clone(), value);
                token_slot = Some(slot);
            }
        }
        let key = HeaderValue::from_str(&prepared.idempotency_key)
            .map_err(|_| invalid("the idempotency key holds characters not allowed in a header"))?;
        headers.insert(HeaderName::from_static(IDEMPOTENCY_KEY), key);
        let what = prepared.describe();
        let mut builder = self.client.request(prepared.method.clone(), prepared.url.clone()).headers(headers);
        if let Some(body) = &prepared.body {
            builder = builder.body(body.clone());
        }
        let response = builder.send().await.map_err(|e| transport_error(e, &what))?;
        let status = response.status().as_u16();
        if status == 401 {
            if let Some(slot) = token_slot {
                // The token was refused (revoked, or expired early): the next attempt fetches anew.
                *slot.lock().await = None;
            }
        }
        let header_text =
            |name: HeaderName| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let location = header_text(LOCATION);
        let retry_after = header_text(RETRY_AFTER);
        let bytes = read_bounded(response, output_limit).await.map_err(|e| transport_error(e, &what))?;
        let (body, truncated) = bounded_text(&bytes, output_limit);
        Ok(Answer { status, body, truncated, location, retry_after })
    }

    /// A token for `cc` and its cache slot: the cached one while it is fresh, else a new one.
    async fn client_credentials_token(
        &self,
        cc: &ClientCredentials,
    ) -> Result<(TokenSlot, HeaderValue), ConnectorError> {
        let slot = self.tokens.slot(cc);
        let mut cached = slot.lock().await;
        let now = Instant::now();
        if let Some(token) = cached.as_ref().filter(|t| t.expires_at > now) {
            let value = bearer(&token.access_token)
                .ok_or_else(|| invalid("the token endpoint's access token holds a control character"))?;
            drop(cached);
            return Ok((slot, value));
        }
        let token = self.fetch_token(cc).await?;
        let value = bearer(&token.access_token)
            .ok_or_else(|| invalid("the token endpoint's access token holds a control character"))?;
        *cached = Some(token);
        drop(cached);
        Ok((slot, value))
    }

    /// POSTs `grant_type=client_credentials` to the token endpoint.
    async fn fetch_token(&self, cc: &ClientCredentials) -> Result<CachedToken, ConnectorError> {
        let what = format!("the token endpoint {}", short_url(&cc.token_url));
        let mut form = String::from("grant_type=client_credentials");
        if let Some(scope) = cc.scope.as_deref().filter(|s| !s.is_empty()) {
            form.push_str(&format!("&scope={}", percent_encode(scope)));
        }
        let mut builder = self
            .client
            .post(cc.token_url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json");
        match cc.client_auth {
            ClientAuth::Basic => {
                // RFC 6749 2.3.1: id and secret are form-encoded before they are joined.
                let pair = format!("{}:{}", percent_encode(&cc.client_id), percent_encode(&cc.client_secret));
                let mut value =
                    HeaderValue::from_str(&format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))
                        .map_err(|_| invalid("cannot build the token request's Basic header"))?;
                value.set_sensitive(true);
                builder = builder.header(AUTHORIZATION, value);
            }
            ClientAuth::Post => {
                form.push_str(&format!(
                    "&client_id={}&client_secret={}",
                    percent_encode(&cc.client_id),
                    percent_encode(&cc.client_secret)
                ));
            }
        }
        let started = Instant::now();
        let response = builder.body(form).send().await.map_err(|e| transport_error(e, &what))?;
        let status = response.status().as_u16();
        let limit = self.config.max_token_response_bytes;
        let bytes = read_bounded(response, limit).await.map_err(|e| transport_error(e, &what))?;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        let field = |name: &str| json.as_ref().and_then(|j| j.get(name)).and_then(Value::as_str).map(str::to_owned);
        if !(200..300).contains(&status) {
            // Only the OAuth error fields are quoted: a token endpoint's free text is not ours to log.
            let mut message = format!("{what} answered HTTP {status}");
            if let Some(e) = field("error") {
                message.push_str(&format!(": {}", truncate_text(&e, 100).0));
            }
            if let Some(d) = field("error_description") {
                message.push_str(&format!(" ({})", truncate_text(&d, self.config.error_excerpt_bytes).0));
            }
            return Err(if is_transient_status(status) || status >= 500 {
                ConnectorError::Unavailable(message)
            } else {
                ConnectorError::Invalid(message)
            });
        }
        if bytes.len() > limit {
            return Err(invalid(format!("{what} answered more than {limit} bytes")));
        }
        let Some(access_token) = field("access_token").filter(|t| !t.is_empty()) else {
            return Err(invalid(format!("{what} answered without an access_token")));
        };
        if let Some(kind) = field("token_type").filter(|t| !t.eq_ignore_ascii_case("bearer")) {
            return Err(invalid(format!(
                "{what} issued a `{}` token; only bearer tokens are supported",
                kind.escape_debug()
            )));
        }
        let expires_in = json.as_ref().and_then(|j| j.get("expires_in")).and_then(|v| match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        let lifetime = match expires_in {
            Some(secs) => Duration::from_secs(secs).saturating_sub(self.config.token_refresh_margin),
            None => self.config.token_lifetime_without_expiry,
        };
        // From when the request left, so the server's clock and the transfer time cannot make
        // the token outlive what the server granted.
        Ok(CachedToken { access_token, expires_at: started + lifetime })
    }
}

/// Reads at most `limit + 1` bytes of the body chunk by chunk (the extra byte tells a body of
/// exactly `limit` bytes from a longer one); the rest is never read: dropping the response
/// closes the connection instead of draining it.
async fn read_bounded(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, reqwest::Error> {
    let keep = limit.saturating_add(1);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = keep - body.len();
        if chunk.len() >= room {
            body.extend_from_slice(&chunk[..room]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A transport failure as a connector error: refused, reset or unreachable is `Unavailable`.
fn transport_error(e: reqwest::Error, what: &str) -> ConnectorError {
    let e = e.without_url();
    if e.is_builder() {
        return invalid(format!("{what}: {}", chain(&e)));
    }
    if e.is_connect() {
        return ConnectorError::Unavailable(format!("cannot connect for {what}: {}", chain(&e)));
    }
    ConnectorError::Unavailable(format!("{what} failed: {}", chain(&e)))
}

/// The connector-independent part of preparing a request: headers, body and authentication.
pub(crate) struct Parts {
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    pub auth: Auth,
}

/// Headers, body (by its media type) and authentication of `request`.
pub(crate) fn prepare_parts(
    config: &HttpConfig,
    request: &CommandRequest,
    content: Option<&[u8]>,
    undefined: &mut Vec<String>,
) -> Result<Parts, ConnectorError> {
    let mut headers = playbook_headers(config, &request.headers, &request.variables, undefined)?;
    let auth = plan_auth(config, request.target.as_ref(), &request.variables, undefined)?;
    if let Some(name) = auth.header_name() {
        headers.remove(name);
    }
    headers.remove(IDEMPOTENCY_KEY);
    let body = match content {
        Some(bytes) => Some(substitute_body(config, bytes, headers.get(CONTENT_TYPE), &request.variables, undefined)?),
        None => None,
    };
    Ok(Parts { headers, body, auth })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cacao::model::AgentTarget;
    use serde_json::json;

    fn vars(v: Value) -> Variables {
        Variables::from_json(&v, "/v").unwrap()
    }

    fn target(address: Value, port: Option<&str>) -> Target {
        let definition: AgentTarget =
            serde_json::from_value(json!({"type": "http-api", "address": address, "port": port})).unwrap();
        Target { id: "http-api--t".into(), definition, auth: None }
    }

    fn cfg() -> HttpConfig {
        HttpConfig::default()
    }

    #[test]
    fn request_lines_read_methods_targets_and_versions() {
        let l = parse_request_line("  post /api/v1/block?ip=1 HTTP/1.1 ").unwrap();
        assert_eq!((l.method.as_str(), l.target.as_str()), ("POST", "/api/v1/block?ip=1"));
        assert_eq!(parse_request_line("GET get HTTP1.1").unwrap().target, "get");
        assert!(parse_request_line("GET /x HTTP/2").is_ok());
        assert!(parse_request_line("GET /x").is_ok());
        for bad in ["GET", "GET /x HTTP/1.1 extra", "GET /x FTP/1", "GE(T /x", "GET /x\r\nHost: evil", "OPTIONS *"] {
            assert!(matches!(parse_request_line(bad), Err(ConnectorError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn base_urls_come_from_the_target_address() {
        let v = Variables::default();
        let mut u = Vec::new();
        let base = |t: Target, u: &mut Vec<String>| target_base_url(&cfg(), &t, &v, u).unwrap().unwrap();
        assert_eq!(base(target(json!({"dname": ["httpbin.org"]}), None), &mut u).as_str(), "https://httpbin.org/");
        assert_eq!(base(target(json!({"ipv4": ["10.0.0.5"]}), Some("80")), &mut u).as_str(), "http://10.0.0.5/");
        assert_eq!(
            base(target(json!({"ipv4": ["10.0.0.5"]}), Some("8443")), &mut u).as_str(),
            "https://10.0.0.5:8443/"
        );
        assert_eq!(base(target(json!({"ipv6": ["::1"]}), None), &mut u).as_str(), "https://[::1]/");
        assert_eq!(
            base(target(json!({"url": ["https://fw.example/api/"], "dname": ["x"]}), Some("9443")), &mut u).as_str(),
            "https://fw.example:9443/api/"
        );
        assert!(target_base_url(&cfg(), &target(json!({"dname": ["a/b"]}), None), &v, &mut u).is_err());
        assert!(target_base_url(&cfg(), &target(json!({"url": ["https://u:p@h/"]}), None), &v, &mut u).is_err());
        assert!(target_base_url(&cfg(), &target(json!({"l2mac": ["00:11:22:33:44:55"]}), None), &v, &mut u)
            .unwrap()
            .is_none());
        assert!(u.is_empty());
    }

    #[test]
    fn paths_resolve_against_the_base_and_values_are_percent_encoded() {
        let v = vars(json!({"__ip__": {"type": "string", "value": "1.2.3.4/../x?y#z&a=b c"}}));
        let t = target(json!({"url": ["https://fw.example/api/v1/"]}), None);
        let mut u = Vec::new();
        let url = resolve_url(&cfg(), Some("/block?ip=__ip__:value"), Some(&t), &v, &mut u).unwrap();
        assert_eq!(url.as_str(), "https://fw.example/block?ip=1.2.3.4%2F..%2Fx%3Fy%23z%26a%3Db%20c");
        let url = resolve_url(&cfg(), Some("rules/__ip__:value"), Some(&t), &v, &mut u).unwrap();
        assert_eq!(url.path(), "/api/v1/rules/1.2.3.4%2F..%2Fx%3Fy%23z%26a%3Db%20c");
        // The target URL as it is (openc2 without a start line).
        assert_eq!(resolve_url(&cfg(), None, Some(&t), &v, &mut u).unwrap().as_str(), "https://fw.example/api/v1/");
        assert!(u.is_empty());
    }

    #[test]
    fn a_value_cannot_climb_the_path_or_leave_the_host() {
        let t = target(json!({"url": ["https://fw.example/"]}), None);
        for value in ["..", ".", "%2e%2e"] {
            let v = vars(json!({"__x__": {"type": "string", "value": value}}));
            let r = resolve_url(&cfg(), Some("/api/__x__:value/admin"), Some(&t), &v, &mut Vec::new());
            if value == "%2e%2e" {
                // `%` is itself encoded: `%252e%252e` is a plain segment.
                assert_eq!(r.unwrap().path(), "/api/%252e%252e/admin");
            } else {
                assert!(matches!(r, Err(ConnectorError::Invalid(m)) if m.contains("climb")), "{value}");
            }
        }
        // An empty value cannot turn `/__a__/__b__` into a network-path reference either.
        let v =
            vars(json!({"__a__": {"type": "string", "value": ""}, "__b__": {"type": "string", "value": "evil.com"}}));
        let url = resolve_url(&cfg(), Some("/__a__:value/__b__:value"), Some(&t), &v, &mut Vec::new()).unwrap();
        assert_eq!(url.as_str(), "https://fw.example//evil.com");
        // A full URL must go to the target's host.
        let err = resolve_url(&cfg(), Some("https://other.example/x"), Some(&t), &v, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("never sent to another host"));
        assert!(resolve_url(&cfg(), Some("https://FW.example:443/x"), Some(&t), &v, &mut Vec::new()).is_ok());
        // A variable in a full URL's host cannot smuggle a different authority.
        let v = vars(json!({"__h__": {"type": "string", "value": "evil.com/x?@fw.example"}}));
        assert!(resolve_url(&cfg(), Some("https://__h__:value/api"), None, &v, &mut Vec::new()).is_err());
    }

    #[test]
    fn plain_http_goes_to_loopback_only_unless_allowed() {
        let v = Variables::default();
        let remote = target(json!({"url": ["http://fw.example/"]}), None);
        let err = resolve_url(&cfg(), Some("/x"), Some(&remote), &v, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
        let open = HttpConfig { allow_plain_http: true, ..cfg() };
        assert!(resolve_url(&open, Some("/x"), Some(&remote), &v, &mut Vec::new()).is_ok());
        for host in ["http://127.0.0.1:8080/", "http://localhost/", "http://[::1]:81/"] {
            let t = target(json!({"url": [host]}), None);
            assert!(resolve_url(&cfg(), Some("/x"), Some(&t), &v, &mut Vec::new()).is_ok(), "{host}");
        }
    }

    #[test]
    fn json_bodies_escape_inside_strings_and_take_only_scalars_outside() {
        let v = vars(json!({
            "__s__": {"type": "string", "value": "a\"b\\c\n\u{1}</x>"},
            "__n__": {"type": "integer", "value": "42"},
            "__bad__": {"type": "string", "value": "1, \"admin\": true"}
        }));
        let mut u = Vec::new();
        let out =
            substitute_json(&v, r#"{"s": "__s__:value", "k\"__s__:value": 1, "n": __n__:value}"#, 1 << 20, &mut u)
                .unwrap();
        let parsed: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["s"], "a\"b\\c\n\u{1}</x>");
        assert_eq!(parsed["n"], 42);
        assert_eq!(parsed.as_object().unwrap().len(), 3);
        let err = substitute_json(&v, r#"{"n": __bad__:value}"#, 1 << 20, &mut u).unwrap_err();
        assert!(err.to_string().contains("__bad__") && err.to_string().contains("outside a JSON string"));
        assert!(u.is_empty());
        assert!(substitute_json(&v, r#"{"s": "__s__:value"}"#, 10, &mut u).is_err(), "the size limit holds");
    }

    #[test]
    fn body_kinds_follow_the_media_type() {
        let h = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(body_kind(Some(&h("application/json; charset=utf-8")), ""), BodyKind::Json);
        assert_eq!(body_kind(Some(&h("application/openc2-cmd+json;version=1.0")), ""), BodyKind::Json);
        assert_eq!(body_kind(Some(&h("application/x-www-form-urlencoded")), ""), BodyKind::Form);
        assert_eq!(body_kind(Some(&h("text/xml")), ""), BodyKind::Xml);
        assert_eq!(body_kind(Some(&h("text/plain")), "{"), BodyKind::Raw);
        assert_eq!(body_kind(None, "  [1]"), BodyKind::Json);
        assert_eq!(body_kind(None, "a=1"), BodyKind::Raw);
        let v = vars(json!({"__x__": {"type": "string", "value": "a&b=c <d>"}}));
        let mut u = Vec::new();
        let form = substitute_body(&cfg(), b"q=__x__:value", Some(&h("application/x-www-form-urlencoded")), &v, &mut u);
        assert_eq!(form.unwrap(), b"q=a%26b%3Dc%20%3Cd%3E");
        let xml = substitute_body(&cfg(), b"<q>__x__:value</q>", Some(&h("application/xml")), &v, &mut u);
        assert_eq!(xml.unwrap(), b"<q>a&amp;b=c &lt;d&gt;</q>");
        let binary = substitute_body(&cfg(), &[0xff, 0x00, b'_'], None, &v, &mut u).unwrap();
        assert_eq!(binary, [0xff, 0x00, b'_']);
    }

    #[test]
    fn headers_refuse_line_breaks_and_reserved_names() {
        let v = vars(json!({
            "__ok__": {"type": "string", "value": "a'b\"c;$(id)`x`"},
            "__crlf__": {"type": "string", "value": "x\r\nX-Evil: 1"},
            "__nul__": {"type": "string", "value": "x\u{0}"}
        }));
        let headers = |name: &str, value: &str| -> IndexMap<String, Vec<String>> {
            [(name.to_owned(), vec![value.to_owned()])].into_iter().collect()
        };
        let mut u = Vec::new();
        let map = playbook_headers(&cfg(), &headers("X-Note", "v=__ok__:value"), &v, &mut u).unwrap();
        assert_eq!(map.get("x-note").unwrap().as_bytes(), b"v=a'b\"c;$(id)`x`");
        for var in ["__crlf__", "__nul__"] {
            let err = playbook_headers(&cfg(), &headers("X-Note", &format!("{var}:value")), &v, &mut u).unwrap_err();
            assert!(err.to_string().contains(var) && err.to_string().contains("CR, LF or NUL"), "{err}");
            assert!(!err.to_string().contains("X-Evil"), "the value is not echoed");
        }
        assert!(playbook_headers(&cfg(), &headers("Host", "evil"), &v, &mut u).is_err());
        assert!(playbook_headers(&cfg(), &headers("Bad Name", "x"), &v, &mut u).is_err());
        let secret = playbook_headers(&cfg(), &headers("X-Api-Key", "k"), &v, &mut u).unwrap();
        assert!(secret.get("x-api-key").unwrap().is_sensitive());
    }

    #[test]
    fn redaction_hides_secret_query_values() {
        assert_eq!(
            redact_url("https://h/p?ip=1&api_key=s3&Token=t&key=k&q=2#f"),
            "https://h/p?ip=1&api_key=<redacted>&Token=<redacted>&key=<redacted>&q=2"
        );
        assert_eq!(short_url(&Url::parse("https://h:8443/p?x=1").unwrap()), "https://h:8443/p?…");
        assert_eq!(display_header_name(&HeaderName::from_static("x-api-key")), "X-Api-Key");
    }

    #[test]
    fn oauth_header_names_the_token_header() {
        assert_eq!(oauth_header_name(None, "").unwrap(), AUTHORIZATION);
        assert_eq!(oauth_header_name(Some("Bearer"), "").unwrap(), AUTHORIZATION);
        assert_eq!(oauth_header_name(Some("X-Auth-Token"), "").unwrap().as_str(), "x-auth-token");
        assert!(oauth_header_name(Some("Content-Length"), "").is_err());
        assert!(oauth_header_name(Some("a b"), "").is_err());
    }

    /// A self-signed CA certificate (public part only), made for this test.
    const TEST_CA_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBkjCCATmgAwIBAgIUH4cbeLqQOs4QFRWGAzZL4jA1XUswCgYIKoZIzj0EAwIw\n\
HjEcMBoGA1UEAwwTY2FjYW8tZm9yZ2UgdGVzdCBDQTAgFw0yNjExMjIxMjU4MTRa\n\
GA8yMTI2MTAyOTEyNTgxNFowHjEcMBoGA1UEAwwTY2FjYW8tZm9yZ2UgdGVzdCBD\n\
QTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBJE24FqMfUsGiOrqywJWrJrRiDC\n\
YtmttyYqebdm8kyrcm1wPSlieIbsEAT5bEGwMMkXJenPYhgNdSHvAusB0tejUzBR\n\
MB0GA1UdDgQWBBT0Lx7rRVWiuAPtWmiqfoH7tTvWFjAfBgNVHSMEGDAWgBT0Lx7r\n\
RVWiuAPtWmiqfoH7tTvWFjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cA\n\
MEQCIE/8Evg1AAMQa77RSgXrHh+MuK1t7WSDrLudEEg83UykAiAvDx9hbkF58Ce7\n\
b1W22A/xypJp/hhpIcBXAOv1stzzJA==\n\
-----END CERTIFICATE-----\n\
";

    #[test]
    fn extra_root_certificates_must_be_pem() {
        let config = HttpConfig { extra_root_certificates_pem: vec!["not a certificate".into()], ..cfg() };
        assert!(matches!(HttpTransport::new(config), Err(ConnectorError::Invalid(_))));
        assert!(HttpTransport::new(cfg()).is_ok());
        let config = HttpConfig { extra_root_certificates_pem: vec![TEST_CA_PEM.into()], ..cfg() };
        HttpTransport::new(config).expect("a private CA is trusted beside the platform's roots");
    }
}
