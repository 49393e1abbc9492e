//! The `http-api` connector: a CACAO command `POST /api/v1/block?ip=__ip__:value HTTP/1.1` (or a
//! full URL) with its `headers` and `content`, sent to the step's http-api target.
//!
//! The rules for URLs, variables, authentication, Idempotency-Key, redirects and answers are
//! shared with `openc2-http` and documented once, in [`super::http`]. What is particular here:
//!
//! - `success` is HTTP 2xx; `status` the HTTP status; `output` the body, cut at
//!   `request.output_limit` (read no further); `summary` `HTTP 200 from POST https://host/path`.
//! - HTTP 429, 502, 503 and 504 are [`ConnectorError::Unavailable`], so retries apply; any other
//!   status (a 404, a 500) is the server's answer to this request, `Ok` with `success: false`.
//! - One reqwest client per connector, built in [`HttpApiConnector::new`] and reused, so
//!   connections and TLS sessions are pooled across commands.

use std::fmt;

use super::http::{
    is_transient_status, parse_request_line, prepare_parts, redirect_note, resolve_url, transient_error, within,
    HttpConfig, HttpTransport, Prepared,
};
use super::{BoxFuture, CommandOutcome, CommandRequest, Connector, ConnectorError, RenderedCommand};

/// What an operator may set for the http-api connector.
#[derive(Debug, Clone, Default)]
pub struct HttpApiConfig {
    pub http: HttpConfig,
}

/// Runs `http-api` commands.
pub struct HttpApiConnector {
    transport: HttpTransport,
}

impl fmt::Debug for HttpApiConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpApiConnector").field("config", self.transport.config()).finish()
    }
}

impl HttpApiConnector {
    /// Builds the connector and its HTTP client (fails only on a bad TLS configuration).
    pub fn new(config: HttpApiConfig) -> Result<HttpApiConnector, ConnectorError> {
        Ok(HttpApiConnector { transport: HttpTransport::new(config.http)? })
    }

    fn prepare(&self, request: &CommandRequest) -> Result<Prepared, ConnectorError> {
        let config = self.transport.config();
        let line = parse_request_line(&request.command)?;
        let mut undefined = Vec::new();
        let url = resolve_url(config, Some(&line.target), request.target.as_ref(), &request.variables, &mut undefined)?;
        let parts = prepare_parts(config, request, request.content.as_deref(), &mut undefined)?;
        Ok(Prepared {
            method: line.method,
            url,
            headers: parts.headers,
            body: parts.body,
            auth: parts.auth,
            idempotency_key: request.idempotency_key.clone(),
            undefined,
        })
    }
}

impl Connector for HttpApiConnector {
    fn command_types(&self) -> &'static [&'static str] {
        &["http-api"]
    }

    fn render(&self, request: &CommandRequest) -> Result<RenderedCommand, ConnectorError> {
        Ok(self.prepare(request)?.render())
    }

    fn execute<'a>(&'a self, request: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>> {
        Box::pin(async move {
            let prepared = self.prepare(request)?;
            prepared.require_defined()?;
            let answer = within(request.timeout, self.transport.send(&prepared, request.output_limit)).await?;
            let what = prepared.describe();
            if is_transient_status(answer.status) {
                return Err(transient_error(self.transport.config(), &answer, &what));
            }
            Ok(CommandOutcome {
                success: answer.is_success(),
                status: Some(i64::from(answer.status)),
                summary: format!("HTTP {} from {what}{}", answer.status, redirect_note(&answer, &prepared.url)),
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
    use crate::cacao::model::{AgentTarget, AuthenticationInfo};
    use crate::execute::connector::Target;
    use crate::execute::variables::Variables;
    use serde_json::{json, Value};
    use std::time::Duration;

    fn request(command: &str, target: Value, auth: Option<Value>) -> CommandRequest {
        let definition: AgentTarget = serde_json::from_value(target).unwrap();
        let auth: Option<AuthenticationInfo> = auth.map(|a| serde_json::from_value(a).unwrap());
        CommandRequest {
            target: Some(Target { id: "http-api--1".into(), definition, auth }),
            variables: Variables::from_json(
                &json!({"__ip__": {"type": "ipv4-addr", "value": "203.0.113.7"},
                        "__pw__": {"type": "string", "value": "s3cr3t-pw"}}),
                "/v",
            )
            .unwrap(),
            timeout: Duration::from_secs(5),
            output_limit: 1024,
            ..crate::execute::connector::testing::request("http-api", command, &[])
        }
    }

    fn connector() -> HttpApiConnector {
        HttpApiConnector::new(HttpApiConfig::default()).unwrap()
    }

    #[test]
    fn renders_the_official_example_command() {
        // examples__http-playbook.json: `GET get HTTP1.1` to a target with dname httpbin.org.
        let r = request("GET get HTTP1.1", json!({"type": "http-api", "address": {"dname": ["httpbin.org"]}}), None);
        let rendered = connector().render(&r).unwrap();
        assert_eq!(rendered.text, "GET https://httpbin.org/get\nIdempotency-Key: run-1/action--1/0");
        assert_eq!(rendered.target, "httpbin.org:443");
        assert!(rendered.undefined.is_empty());
    }

    #[test]
    fn render_writes_values_in_and_hides_secrets() {
        let mut r = request(
            "POST /block?ip=__ip__:value&api_key=k-123 HTTP/1.1",
            json!({"type": "http-api", "address": {"url": ["https://fw.example"]}}),
            Some(json!({"type": "http-basic", "user_id": "soar", "password": "__pw__:value"})),
        );
        r.headers.insert("Content-Type".into(), vec!["application/json".into()]);
        r.headers.insert("X-Auth-Token".into(), vec!["tok-999".into()]);
        r.headers.insert("Authorization".into(), vec!["Bearer playbook-own".into()]);
        r.content = Some(br#"{"ip": "__ip__:value", "note": "__later__:value"}"#.to_vec());
        let rendered = connector().render(&r).unwrap();
        assert_eq!(
            rendered.text,
            "POST https://fw.example/block?ip=203.0.113.7&api_key=<redacted>\n\
             Content-Type: application/json\n\
             X-Auth-Token: <redacted>\n\
             Authorization: <redacted>\n\
             Idempotency-Key: run-1/action--1/0\n\n\
             {\"ip\": \"203.0.113.7\", \"note\": \"__later__:value\"}"
        );
        assert_eq!(rendered.undefined, ["__later__"]);
        for secret in ["s3cr3t-pw", "k-123", "tok-999", "playbook-own", "c29hcjpzM2NyM3QtcHc"] {
            assert!(!rendered.text.contains(secret), "{secret} leaked");
        }
        let prepared = format!("{:?}", connector().prepare(&r).unwrap());
        assert!(!prepared.contains("s3cr3t-pw") && !prepared.contains("k-123"), "{prepared}");
        assert!(!format!("{r:?}").contains("s3cr3t-pw"));
    }

    #[tokio::test]
    async fn execute_refuses_undefined_variables_and_bad_auth_before_any_network() {
        let target = json!({"type": "http-api", "address": {"url": ["https://fw.example"]}});
        let r = request("GET /x/__nope__:value", target.clone(), None);
        let err = connector().execute(&r).await.unwrap_err();
        assert_eq!(err, ConnectorError::Invalid("undefined variable __nope__ (it would be sent as written)".into()));
        for (auth, needle) in [
            (json!({"type": "http-basic", "password": "x"}), "no user_id"),
            (json!({"type": "http-basic", "user_id": "a:b", "password": "x"}), "RFC 7617"),
            (json!({"type": "oauth2", "oauth_header": "Authorization", "token": ""}), "neither a token"),
            (json!({"type": "oauth2", "kms": true, "kms_key_identifier": "k"}), "key management"),
            (json!({"type": "user-auth", "user_id": "root"}), "user-auth"),
        ] {
            let r = request("GET /x", target.clone(), Some(auth));
            let err = connector().execute(&r).await.unwrap_err();
            assert!(matches!(&err, ConnectorError::Invalid(m) if m.contains(needle)), "{err}");
        }
    }
}
