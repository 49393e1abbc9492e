//! The `openc2-http` connector: an OpenC2 command (`{"action": "deny", "target": {...}}`) POSTed
//! to an OpenC2 consumer over HTTPS, as the OpenC2 HTTPS transfer specification describes.
//!
//! Design decisions (the HTTP rules, authentication and Idempotency-Key are those of
//! [`super::http`]):
//!
//! - **Where the command is.** CACAO puts the HTTP start line in `command` (`POST /oc2 HTTP/1.1`)
//!   and the OpenC2 command in `content_b64`; then the start line's method must be POST. With no
//!   content, a `command` that is itself a JSON object is the OpenC2 command and goes to the
//!   target's URL as it is. With content and an empty `command`, likewise.
//! - **What is checked.** The OpenC2 command must be a JSON object with a string `action` and a
//!   `target` object naming exactly one target type; the error names what is missing. The
//!   transfer spec's message envelope (`{"headers": {...}, "body": {"openc2": {"request": {...}}}}`,
//!   as in the official CACAO example) is accepted and the command inside it checked.
//! - **Variables** are written in JSON-escaped (inside strings) or as JSON scalars (outside), so a
//!   value cannot add a property or change the action.
//! - **Headers.** `Content-Type: application/openc2-cmd+json;version=V` and
//!   `Accept: application/openc2-rsp+json;version=V`, V the command's `version` (the OpenC2
//!   language version, default [`Openc2HttpConfig::default_language_version`]); these replace any
//!   the playbook sets.
//! - **Success** is HTTP 2xx and an OpenC2 response `status` of 200 (OK) or 102 (Processing: the
//!   consumer accepted the command and is carrying it out; it is what a producer asking for
//!   `"response_requested": "ack"` gets). Any other OpenC2 status, or a 2xx without a readable
//!   status, is `success: false`. A command with `"response_requested": "none"` expects no
//!   response body, so HTTP 2xx alone decides. `status` is the HTTP status; the OpenC2 status is in
//!   the summary; `output` is the response body. HTTP 429/502/503/504 are `Unavailable`.

use std::fmt;

use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use serde_json::{Map, Value};

use super::http::{
    is_transient_status, parse_request_line, prepare_parts, redirect_note, resolve_url, substitute_json,
    transient_error, within, Answer, HttpConfig, HttpTransport, Prepared,
};
use super::{truncate_text, BoxFuture, CommandOutcome, CommandRequest, Connector, ConnectorError, RenderedCommand};

/// What an operator may set for the openc2-http connector.
#[derive(Debug, Clone)]
pub struct Openc2HttpConfig {
    pub http: HttpConfig,
    /// The OpenC2 language version sent when the command gives none.
    pub default_language_version: String,
}

impl Default for Openc2HttpConfig {
    fn default() -> Openc2HttpConfig {
        Openc2HttpConfig { http: HttpConfig::default(), default_language_version: "1.0".into() }
    }
}

/// Runs `openc2-http` commands.
pub struct Openc2HttpConnector {
    transport: HttpTransport,
    default_language_version: String,
}

impl fmt::Debug for Openc2HttpConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Openc2HttpConnector")
            .field("config", self.transport.config())
            .field("default_language_version", &self.default_language_version)
            .finish()
    }
}

fn invalid(message: impl Into<String>) -> ConnectorError {
    ConnectorError::Invalid(message.into())
}

/// What the connector needs to know about the command to judge the answer.
#[derive(Debug)]
struct Openc2Request {
    /// `args.response_requested` (`none`, `ack`, `status`, `complete`).
    response_requested: Option<String>,
}

impl Openc2HttpConnector {
    /// Builds the connector and its HTTP client (fails on a bad TLS configuration or version).
    pub fn new(config: Openc2HttpConfig) -> Result<Openc2HttpConnector, ConnectorError> {
        check_version(&config.default_language_version)?;
        Ok(Openc2HttpConnector {
            transport: HttpTransport::new(config.http)?,
            default_language_version: config.default_language_version,
        })
    }

    fn prepare(&self, request: &CommandRequest) -> Result<(Prepared, Openc2Request), ConnectorError> {
        let config = self.transport.config();
        let command = request.command.trim();
        let (path, payload): (Option<String>, &[u8]) = match &request.content {
            Some(content) if command.is_empty() => (None, content),
            Some(content) => {
                let line = parse_request_line(command)?;
                if line.method != Method::POST {
                    return Err(invalid(format!("openc2-http sends commands with POST, not {}", line.method)));
                }
                (Some(line.target), content)
            }
            None if command.starts_with('{') => (None, command.as_bytes()),
            None => {
                return Err(invalid(
                    "openc2-http needs the OpenC2 command: in content_b64 (with `POST /path HTTP/1.1` in \
                     command), or as a JSON object in command",
                ))
            }
        };
        let template = std::str::from_utf8(payload).map_err(|_| invalid("the OpenC2 command is not UTF-8 text"))?;
        let mut undefined = Vec::new();
        let url = resolve_url(config, path.as_deref(), request.target.as_ref(), &request.variables, &mut undefined)?;
        let body = substitute_json(&request.variables, template, config.max_request_body_bytes, &mut undefined)?;
        let openc2 = check_command(&body, undefined.is_empty())?;
        let mut parts = prepare_parts(config, request, None, &mut undefined)?;
        let version = request.version.as_deref().map(str::trim).filter(|v| !v.is_empty());
        let version = version.unwrap_or(&self.default_language_version);
        check_version(version)?;
        let header = |kind: &str| {
            HeaderValue::from_str(&format!("application/openc2-{kind}+json;version={version}"))
                .map_err(|_| invalid(format!("OpenC2 version `{version}` cannot be sent in a header")))
        };
        parts.headers.insert(CONTENT_TYPE, header("cmd")?);
        parts.headers.insert(ACCEPT, header("rsp")?);
        let prepared = Prepared {
            method: Method::POST,
            url,
            headers: parts.headers,
            body: Some(body.into_bytes()),
            auth: parts.auth,
            idempotency_key: request.idempotency_key.clone(),
            undefined,
        };
        Ok((prepared, openc2))
    }
}

/// An OpenC2 language version: digits and dots (`1.0`).
fn check_version(version: &str) -> Result<(), ConnectorError> {
    let ok = !version.is_empty()
        && version.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("`{}` is not an OpenC2 language version (like 1.0)", version.escape_debug())))
    }
}

/// Checks the OpenC2 command (bare, or inside the transfer spec's message envelope). With
/// `complete` false (variables left undefined, for `render`) a text that is not JSON is let
/// through: an unquoted reference makes it so until the value is known.
fn check_command(body: &str, complete: bool) -> Result<Openc2Request, ConnectorError> {
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) if !complete => return Ok(Openc2Request { response_requested: None }),
        Err(e) => return Err(invalid(format!("the OpenC2 command is not JSON: {e}"))),
    };
    let Some(object) = value.as_object() else {
        return Err(invalid("the OpenC2 command is not a JSON object"));
    };
    let command: &Map<String, Value> = match object.get("body") {
        Some(body) => body.pointer("/openc2/request").and_then(Value::as_object).ok_or_else(|| {
            invalid("the OpenC2 message has a `body` but no `body.openc2.request` object holding the command")
        })?,
        None => object,
    };
    let missing: Vec<&str> =
        ["action", "target"].into_iter().filter(|k| command.get(*k).is_none_or(Value::is_null)).collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|k| format!("`{k}`")).collect();
        return Err(invalid(format!("the OpenC2 command has no {}", names.join(" and "))));
    }
    let action = command.get("action").and_then(Value::as_str).unwrap_or("");
    if action.is_empty() {
        return Err(invalid("the OpenC2 command's `action` must be a non-empty string (deny, contain, ...)"));
    }
    let target_types = command.get("target").and_then(Value::as_object).map_or(0, Map::len);
    if target_types != 1 {
        return Err(invalid(
            "the OpenC2 command's `target` must be an object naming exactly one target type \
             (e.g. {\"ipv4_connection\": {...}})",
        ));
    }
    let response_requested =
        command.get("args").and_then(|a| a.get("response_requested")).and_then(Value::as_str).map(str::to_owned);
    Ok(Openc2Request { response_requested })
}

/// The OpenC2 response's `status` and `status_text` (bare, or in the transfer envelope).
fn response_status(body: &str) -> Option<(i64, Option<String>)> {
    let value: Value = serde_json::from_str(body).ok()?;
    let response = value.pointer("/body/openc2/response").unwrap_or(&value);
    let status = response.get("status")?.as_i64()?;
    let text = response.get("status_text").and_then(Value::as_str).map(|t| truncate_text(t, 200).0.to_owned());
    Some((status, text))
}

/// Success and summary from the HTTP answer and the OpenC2 response in it.
fn judge(answer: &Answer, openc2: &Openc2Request, what: &str) -> (bool, String) {
    let http = format!("HTTP {}", answer.status);
    if openc2.response_requested.as_deref() == Some("none") {
        return (answer.is_success(), format!("{http} from {what} (no OpenC2 response requested)"));
    }
    match response_status(&answer.body) {
        Some((status, text)) => {
            let meaning = match status {
                200 => " OK".to_owned(),
                102 => " Processing (accepted, not yet complete)".to_owned(),
                _ => text.map(|t| format!(": {t}")).unwrap_or_default(),
            };
            let success = answer.is_success() && matches!(status, 200 | 102);
            (success, format!("{http}, OpenC2 {status}{meaning} from {what}"))
        }
        None if answer.truncated => {
            (false, format!("{http} from {what}; the response was cut at the output limit, OpenC2 status unknown"))
        }
        None => (false, format!("{http} from {what}; no OpenC2 status in the response")),
    }
}

impl Connector for Openc2HttpConnector {
    fn command_types(&self) -> &'static [&'static str] {
        &["openc2-http"]
    }

    fn render(&self, request: &CommandRequest) -> Result<RenderedCommand, ConnectorError> {
        Ok(self.prepare(request)?.0.render())
    }

    fn execute<'a>(&'a self, request: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>> {
        Box::pin(async move {
            let (prepared, openc2) = self.prepare(request)?;
            prepared.require_defined()?;
            let answer = within(request.timeout, self.transport.send(&prepared, request.output_limit)).await?;
            let what = prepared.describe();
            if is_transient_status(answer.status) {
                return Err(transient_error(self.transport.config(), &answer, &what));
            }
            let (success, summary) = judge(&answer, &openc2, &what);
            Ok(CommandOutcome {
                success,
                status: Some(i64::from(answer.status)),
                summary: summary + &redirect_note(&answer, &prepared.url),
                output: answer.body,
                error_output: String::new(),
                truncated: answer.truncated,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: &str) -> Answer {
        Answer { status, body: body.into(), truncated: false, location: None, retry_after: None }
    }

    #[test]
    fn commands_need_an_action_and_one_target() {
        let ok = json!({"action": "deny", "target": {"ipv4_connection": {"src_addr": "1.2.3.4"}},
                        "args": {"response_requested": "ack"}});
        assert_eq!(check_command(&ok.to_string(), true).unwrap().response_requested.as_deref(), Some("ack"));
        let envelope = json!({"headers": {"request_id": "r"}, "body": {"openc2": {"request": ok}}});
        assert!(check_command(&envelope.to_string(), true).is_ok());
        for (bad, needle) in [
            (json!({"target": {"device": {}}}), "no `action`"),
            (json!({"action": "deny"}), "no `target`"),
            (json!({}), "no `action` and `target`"),
            (json!({"action": 3, "target": {"device": {}}}), "non-empty string"),
            (json!({"action": "deny", "target": {"a": {}, "b": {}}}), "exactly one"),
            (json!({"action": "deny", "target": "1.2.3.4"}), "exactly one"),
            (json!([1]), "not a JSON object"),
            (json!({"body": {"openc2": {}}}), "body.openc2.request"),
        ] {
            let err = check_command(&bad.to_string(), true).unwrap_err();
            assert!(err.to_string().contains(needle), "{bad}: {err}");
        }
        assert!(check_command("{not json", true).unwrap_err().to_string().contains("not JSON"));
        assert!(check_command("{not json", false).is_ok(), "render lets an incomplete command through");
    }

    #[test]
    fn success_needs_http_2xx_and_openc2_200_or_102() {
        let req = Openc2Request { response_requested: None };
        let w = "POST https://oc2/";
        assert_eq!(
            judge(&answer(200, r#"{"status": 200}"#), &req, w),
            (true, "HTTP 200, OpenC2 200 OK from POST https://oc2/".into())
        );
        assert!(judge(&answer(200, r#"{"status": 102}"#), &req, w).0);
        let envelope = r#"{"body": {"openc2": {"response": {"status": 200}}}}"#;
        assert!(judge(&answer(200, envelope), &req, w).0);
        let (ok, summary) = judge(&answer(200, r#"{"status": 501, "status_text": "not implemented"}"#), &req, w);
        assert!(!ok);
        assert_eq!(summary, "HTTP 200, OpenC2 501: not implemented from POST https://oc2/");
        assert!(!judge(&answer(400, r#"{"status": 200}"#), &req, w).0);
        assert!(!judge(&answer(200, "ok"), &req, w).0);
        let none = Openc2Request { response_requested: Some("none".into()) };
        assert!(judge(&answer(204, ""), &none, w).0);
    }

    #[test]
    fn versions_are_digits_and_dots() {
        assert!(check_version("1.0").is_ok() && check_version("2").is_ok());
        for bad in ["", "1.", "1.0\r\nX: y", "v1"] {
            assert!(check_version(bad).is_err(), "{bad:?}");
        }
        let config = Openc2HttpConfig { default_language_version: "x".into(), ..Openc2HttpConfig::default() };
        assert!(Openc2HttpConnector::new(config).is_err());
    }
}
