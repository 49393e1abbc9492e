//! The OpenAI-compatible backend: any server with a `/chat/completions` endpoint (vLLM, Ollama,
//! llama.cpp's server, LM Studio, OpenAI itself) writes the draft.
//!
//! One draft is one chat completion: the system and user messages of
//! [`build_prompt`](super::build_prompt), and a `response_format` that asks the server to
//! constrain its output to [`draft_json_schema`]. Servers differ in what they accept, so in
//! [`ResponseFormat::Auto`] mode a server that rejects `json_schema` (HTTP 400 or 422 naming the
//! response format or schema) is asked again with `json_object`, then with no response format,
//! and the first mode that works is remembered for later drafts. A request only counts as proof
//! that a mode works when the server answers it with success, so an unrelated 400 never
//! downgrades the backend for good.
//!
//! Output that is not a usable draft gets one repair turn: the model's answer and the parse error
//! go back as a follow-up message. Network failures, timeouts, 429 and 5xx are retried with
//! exponential backoff (or the server's `Retry-After`, capped); other 4xx are not, since asking
//! again cannot change the answer.
//!
//! The HTTP client is reqwest's blocking client: call [`Backend::draft`] from a plain thread (in
//! an async server, through `spawn_blocking`), never from inside an async task.

use super::draft::{draft_json_schema, parse_draft, DraftError, PlaybookDraft};
use super::prompt::build_prompt;
use super::{Backend, GenerateError, GenerationContext, Provenance};
use crate::attack::sync::{chain, http_client_builder, read_limited, ReadFailure};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::Url;
use serde::Deserialize;
use serde_json::{json, Value};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// The backend's name in provenance and errors.
pub const BACKEND: &str = "openai";
/// The name the JSON schema is given in `response_format` (servers show it in logs).
pub const SCHEMA_NAME: &str = "playbook_draft";
/// Bytes of an error response's body quoted in error messages.
pub const ERROR_BODY_BYTES: usize = 300;
/// Bytes of an error response's body read to decide whether it rejects the response format; the
/// rest is not needed and is not read.
const ERROR_BODY_READ_BYTES: u64 = 64 * 1024;

/// How the server is asked to keep its answer to the draft's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    /// `json_schema` first; on rejection `json_object`, then none. The working mode is remembered.
    Auto,
    /// `{"type": "json_schema", "json_schema": {"name", "strict": true, "schema"}}` only.
    JsonSchema,
    /// `{"type": "json_object"}` only (JSON mode: valid JSON, shape from the prompt).
    JsonObject,
    /// No `response_format`: the prompt alone asks for the shape.
    None,
}

impl ResponseFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseFormat::Auto => "auto",
            ResponseFormat::JsonSchema => "json-schema",
            ResponseFormat::JsonObject => "json-object",
            ResponseFormat::None => "none",
        }
    }
}

impl fmt::Display for ResponseFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResponseFormat {
    type Err = GenerateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(ResponseFormat::Auto),
            "json-schema" | "json_schema" => Ok(ResponseFormat::JsonSchema),
            "json-object" | "json_object" => Ok(ResponseFormat::JsonObject),
            "none" => Ok(ResponseFormat::None),
            other => Err(config(format!(
                "unknown response format `{other}` (expected auto, json-schema, json-object or none)"
            ))),
        }
    }
}

/// The response format actually sent in one request (Auto resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    JsonSchema = 0,
    JsonObject = 1,
    Plain = 2,
}

impl Mode {
    fn from_u8(v: u8) -> Mode {
        match v {
            0 => Mode::JsonSchema,
            1 => Mode::JsonObject,
            _ => Mode::Plain,
        }
    }

    /// The next weaker mode Auto falls back to.
    fn weaker(self) -> Option<Mode> {
        match self {
            Mode::JsonSchema => Some(Mode::JsonObject),
            Mode::JsonObject => Some(Mode::Plain),
            Mode::Plain => None,
        }
    }

    fn response_format(self) -> Option<Value> {
        match self {
            Mode::JsonSchema => Some(json!({
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "strict": true, "schema": draft_json_schema()},
            })),
            Mode::JsonObject => Some(json!({"type": "json_object"})),
            Mode::Plain => None,
        }
    }
}

/// Where the server is and how to talk to it.
#[derive(Clone)]
pub struct OpenAiOptions {
    /// The API root, ending before `/chat/completions`: `http://127.0.0.1:8000/v1` (vLLM),
    /// `http://127.0.0.1:11434/v1` (Ollama), `http://127.0.0.1:8080/v1` (llama.cpp).
    pub base_url: String,
    /// The server's name for the model (vLLM: the served model name). Recorded in provenance.
    pub model: String,
    /// Sent as `Authorization: Bearer ...`. Never logged and never in an error message.
    pub api_key: Option<String>,
    /// Longest wait for one request, from sending it to the last byte of the answer.
    pub timeout: Duration,
    /// Longest wait for the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Retries after a connect error, a timeout, 429 or 5xx (0: one attempt only).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further retry.
    pub retry_backoff: Duration,
    /// Longest wait before one retry, whether from the backoff or from the server's `Retry-After`.
    pub max_retry_wait: Duration,
    /// Sampling temperature, 0 to 2 (0: the most likely answer, reproducible on most servers).
    pub temperature: f32,
    /// Most tokens the model may write for one answer.
    pub max_tokens: u32,
    pub response_format: ResponseFormat,
    /// Largest accepted response body, in bytes; larger answers are refused, not truncated.
    pub max_response_bytes: u64,
}

/// Most retries accepted (each can wait up to `max_retry_wait`).
pub const MAX_RETRIES_LIMIT: u32 = 20;

impl Default for OpenAiOptions {
    /// A local vLLM server. `model` is empty and must be set: servers need their own model name.
    fn default() -> Self {
        OpenAiOptions {
            base_url: "http://127.0.0.1:8000/v1".to_string(),
            model: String::new(),
            api_key: None,
            // Local models on a CPU can take minutes for 12 steps.
            timeout: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(10),
            max_retries: 2,
            retry_backoff: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(30),
            temperature: 0.0,
            // 12 steps of the draft schema at their longest fields fit in about 3,000 tokens.
            max_tokens: 4096,
            response_format: ResponseFormat::Auto,
            // A draft is a few KiB; this leaves room for servers that add logprobs or usage data.
            max_response_bytes: 2 * 1024 * 1024,
        }
    }
}

impl fmt::Debug for OpenAiOptions {
    // By hand, so the API key never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiOptions")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_backoff", &self.retry_backoff)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("temperature", &self.temperature)
            .field("max_tokens", &self.max_tokens)
            .field("response_format", &self.response_format)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl OpenAiOptions {
    /// Checks every option; returns the chat-completions URL.
    pub fn validate(&self) -> Result<Url, GenerateError> {
        let base = Url::parse(self.base_url.trim())
            .map_err(|e| config(format!("base_url `{}` is not a URL: {e}", self.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(config(format!("base_url `{}` must be http or https", self.base_url)));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(config(format!("base_url `{}` has no host", self.base_url)));
        }
        if !base.username().is_empty() || base.password().is_some() {
            // Credentials in the URL would end up in error messages and logs.
            return Err(config("base_url must not hold credentials; give the key as api_key".to_string()));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(config(format!("base_url `{}` must not have a query or fragment", self.base_url)));
        }
        if self.model.trim().is_empty() {
            return Err(config("no model given (the server's name for the model, e.g. its served model name)".into()));
        }
        if let Some(key) = &self.api_key {
            if key.is_empty() {
                return Err(config("api_key is empty (leave it unset for servers without keys)".into()));
            }
            if key.bytes().any(|b| b.is_ascii_control() || !b.is_ascii()) {
                return Err(config("api_key holds control or non-ASCII characters".into()));
            }
        }
        for (name, value) in [("timeout", self.timeout), ("connect_timeout", self.connect_timeout)] {
            if value.is_zero() {
                return Err(config(format!("{name} must be more than 0")));
            }
        }
        if self.max_retries > MAX_RETRIES_LIMIT {
            return Err(config(format!("max_retries is {}; at most {MAX_RETRIES_LIMIT}", self.max_retries)));
        }
        if self.retry_backoff > self.max_retry_wait {
            return Err(config(format!(
                "retry_backoff ({:?}) is longer than max_retry_wait ({:?})",
                self.retry_backoff, self.max_retry_wait
            )));
        }
        if !self.temperature.is_finite() || !(0.0..=2.0).contains(&self.temperature) {
            return Err(config(format!("temperature must be between 0 and 2, got {}", self.temperature)));
        }
        if self.max_tokens == 0 {
            return Err(config("max_tokens must be at least 1".into()));
        }
        if self.max_response_bytes == 0 {
            return Err(config("max_response_bytes must be at least 1".into()));
        }
        // `Url::join` would drop the last path segment of a base without a trailing slash.
        let endpoint = format!("{}/chat/completions", base.as_str().trim_end_matches('/'));
        Url::parse(&endpoint).map_err(|e| config(format!("chat completions URL `{endpoint}`: {e}")))
    }
}

/// A draft writer backed by an OpenAI-compatible chat-completions server.
pub struct OpenAiBackend {
    options: OpenAiOptions,
    endpoint: Url,
    client: reqwest::blocking::Client,
    /// The [`Mode`] to start with: in Auto mode, the one that last worked.
    mode: AtomicU8,
}

impl fmt::Debug for OpenAiBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiBackend")
            .field("endpoint", &self.endpoint.as_str())
            .field("options", &self.options)
            .field("mode", &Mode::from_u8(self.mode.load(Ordering::Relaxed)))
            .finish()
    }
}

/// The assistant's answer in one chat completion.
#[derive(Debug, Clone)]
struct Answer {
    content: String,
    /// `length` when the answer was cut off at `max_tokens`.
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChatCompletion {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<ChoiceMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

/// Why one request failed.
#[derive(Debug)]
enum Failure {
    /// Worth trying again: a connect error, 429 or 5xx. `retry_after` is the server's wish.
    Transient { message: String, retry_after: Option<Duration> },
    /// The request timed out (also retried).
    Timeout,
    /// The server answered with a status that asking again will not change.
    Status { status: u16, body: String },
    /// Anything else (oversized body, unreadable answer): not retried.
    Fatal(String),
}

impl OpenAiBackend {
    /// Checks the options and builds the HTTP client. Nothing is sent until the first draft.
    pub fn new(options: OpenAiOptions) -> Result<Self, GenerateError> {
        let endpoint = options.validate()?;
        let mut builder = http_client_builder(options.timeout, options.connect_timeout)
            // A POST redirected becomes a GET, and a redirect elsewhere would need the key
            // re-sent: refuse, and name the status, rather than guess.
            .redirect(reqwest::redirect::Policy::none());
        if is_loopback(&endpoint) {
            // A proxy from HTTP_PROXY cannot reach this machine's loopback server.
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| config(format!("HTTP client: {}", chain(&e))))?;
        let mode = match options.response_format {
            ResponseFormat::Auto | ResponseFormat::JsonSchema => Mode::JsonSchema,
            ResponseFormat::JsonObject => Mode::JsonObject,
            ResponseFormat::None => Mode::Plain,
        };
        Ok(OpenAiBackend { options, endpoint, client, mode: AtomicU8::new(mode as u8) })
    }

    pub fn options(&self) -> &OpenAiOptions {
        &self.options
    }

    /// The URL drafts are POSTed to.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// The response format the next draft starts with (after Auto's fallbacks, the one that
    /// worked): `json-schema`, `json-object` or `none`.
    pub fn current_response_format(&self) -> ResponseFormat {
        match Mode::from_u8(self.mode.load(Ordering::Relaxed)) {
            Mode::JsonSchema => ResponseFormat::JsonSchema,
            Mode::JsonObject => ResponseFormat::JsonObject,
            Mode::Plain => ResponseFormat::None,
        }
    }

    /// The JSON body of one chat-completions request.
    fn request_body(&self, messages: &[Value], mode: Mode) -> Value {
        let mut body = json!({
            "model": self.options.model,
            "messages": messages,
            "temperature": self.options.temperature,
            "max_tokens": self.options.max_tokens,
            "stream": false,
        });
        if let Some(format) = mode.response_format() {
            body["response_format"] = format;
        }
        body
    }

    /// One chat completion, with Auto's response-format fallback and the retries.
    fn complete(&self, messages: &[Value]) -> Result<Answer, GenerateError> {
        let mut mode = Mode::from_u8(self.mode.load(Ordering::Relaxed));
        loop {
            let body = self.request_body(messages, mode);
            match self.post_with_retries(&body) {
                Ok(bytes) => {
                    if self.options.response_format == ResponseFormat::Auto {
                        self.mode.store(mode as u8, Ordering::Relaxed);
                    }
                    return self.read_answer(&bytes);
                }
                Err(Failure::Status { status, body })
                    if self.options.response_format == ResponseFormat::Auto && rejects_format(status, &body) =>
                {
                    match mode.weaker() {
                        Some(weaker) => {
                            tracing::warn!(
                                url = %self.endpoint,
                                status,
                                from = ?mode,
                                to = ?weaker,
                                "server rejected the response format; asking again with a weaker one"
                            );
                            mode = weaker;
                        }
                        None => return Err(self.failure(Failure::Status { status, body })),
                    }
                }
                Err(failure) => return Err(self.failure(failure)),
            }
        }
    }

    /// POSTs `body`, retrying transient failures; returns the body of a 2xx answer.
    fn post_with_retries(&self, body: &Value) -> Result<Vec<u8>, Failure> {
        let mut attempt = 0u32;
        loop {
            let failure = match self.post_once(body) {
                Ok(bytes) => return Ok(bytes),
                Err(failure @ (Failure::Transient { .. } | Failure::Timeout)) => failure,
                Err(other) => return Err(other),
            };
            if attempt >= self.options.max_retries {
                return Err(failure);
            }
            let server_wish = match &failure {
                Failure::Transient { retry_after, .. } => *retry_after,
                _ => None,
            };
            let wait = server_wish.unwrap_or_else(|| backoff(self.options.retry_backoff, attempt));
            let wait = wait.min(self.options.max_retry_wait);
            tracing::warn!(
                url = %self.endpoint,
                attempt = attempt + 1,
                wait_ms = wait.as_millis() as u64,
                reason = %self.describe(&failure),
                "chat completion failed; retrying"
            );
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    fn post_once(&self, body: &Value) -> Result<Vec<u8>, Failure> {
        let mut request = self.client.post(self.endpoint.clone()).json(body);
        if let Some(key) = &self.options.api_key {
            request = request.bearer_auth(key);
        }
        let response = request.send().map_err(|e| request_failure(&e))?;
        let status = response.status();
        if status.is_success() {
            return read_limited(response, self.options.max_response_bytes).map_err(|e| match e {
                ReadFailure::TooLarge(size) => Failure::Fatal(format!(
                    "response body is {size} bytes or more; at most {} accepted (max_response_bytes)",
                    self.options.max_response_bytes
                )),
                ReadFailure::Timeout => Failure::Timeout,
                ReadFailure::Io(m) => {
                    Failure::Transient { message: format!("reading the response: {m}"), retry_after: None }
                }
            });
        }
        let retry_after = retry_after(response.headers());
        let limit = self.options.max_response_bytes.min(ERROR_BODY_READ_BYTES);
        // An error body is only quoted; a cut-off or unreadable one still names the status.
        let body = match read_limited(response, limit) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(ReadFailure::TooLarge(_)) => format!("(error body over {limit} bytes, not read)"),
            Err(ReadFailure::Timeout | ReadFailure::Io(_)) => String::new(),
        };
        let code = status.as_u16();
        if code == 429 || status.is_server_error() {
            let message = format!("HTTP {code}: {}", snippet(&body));
            return Err(Failure::Transient { message, retry_after });
        }
        Err(Failure::Status { status: code, body })
    }

    fn read_answer(&self, bytes: &[u8]) -> Result<Answer, GenerateError> {
        let completion: ChatCompletion = serde_json::from_slice(bytes).map_err(|e| {
            self.backend_error(format!(
                "the answer is not a chat completion ({e}): {}",
                snippet(&String::from_utf8_lossy(bytes))
            ))
        })?;
        let choice = completion
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| self.backend_error("the answer has no choices".to_string()))?;
        let message = choice.message.unwrap_or(ChoiceMessage { content: None, refusal: None });
        // A refusal or a missing content reads as an empty answer: the repair turn says so.
        let content = message.content.or(message.refusal).unwrap_or_default();
        Ok(Answer { content, finish_reason: choice.finish_reason })
    }

    /// The error a failed request becomes, naming the URL (never the key) and the status.
    fn failure(&self, failure: Failure) -> GenerateError {
        match failure {
            Failure::Timeout => {
                tracing::warn!(url = %self.endpoint, timeout = ?self.options.timeout, "chat completion timed out");
                // Rounded up, so a sub-second timeout does not read as "0 s".
                let seconds = self.options.timeout.as_millis().div_ceil(1000) as u64;
                GenerateError::Timeout { backend: BACKEND.to_string(), seconds }
            }
            other => self.backend_error(self.describe(&other)),
        }
    }

    fn describe(&self, failure: &Failure) -> String {
        let url = &self.endpoint;
        match failure {
            Failure::Transient { message, .. } => format!("POST {url}: {message}"),
            Failure::Timeout => format!("POST {url}: no answer within {:?}", self.options.timeout),
            Failure::Status { status, .. } if (300..400).contains(status) => {
                format!("POST {url}: HTTP {status} (redirects are not followed; give the final address as base_url)")
            }
            Failure::Status { status, body } => format!("POST {url}: HTTP {status}: {}", snippet(body)),
            Failure::Fatal(message) => format!("POST {url}: {message}"),
        }
    }

    fn backend_error(&self, message: String) -> GenerateError {
        GenerateError::Backend { backend: BACKEND.to_string(), message }
    }
}

impl Backend for OpenAiBackend {
    fn provenance(&self) -> Provenance {
        Provenance { backend: BACKEND.to_string(), model: self.options.model.clone() }
    }

    fn draft(&self, ctx: &GenerationContext<'_>) -> Result<PlaybookDraft, GenerateError> {
        let prompt = build_prompt(ctx.incident, Some(ctx.plan));
        let mut messages =
            vec![json!({"role": "system", "content": prompt.system}), json!({"role": "user", "content": prompt.user})];
        let first = self.complete(&messages)?;
        let error = match parse_draft(&first.content) {
            Ok(draft) => return Ok(draft),
            Err(error) => error,
        };
        tracing::warn!(url = %self.endpoint, %error, "the answer is not a valid draft; asking for a repair");
        messages.push(json!({"role": "assistant", "content": first.content}));
        messages.push(json!({"role": "user", "content": repair_message(&error, first.finish_reason.as_deref())}));
        let second = self.complete(&messages)?;
        parse_draft(&second.content).map_err(|source| GenerateError::Draft { backend: BACKEND.to_string(), source })
    }
}

/// The follow-up user message of the repair turn; it quotes the parse error so the model can fix
/// exactly that.
fn repair_message(error: &DraftError, finish_reason: Option<&str>) -> String {
    let cut_off = if finish_reason == Some("length") {
        " The answer was cut off at the token limit: write fewer or shorter steps."
    } else {
        ""
    };
    format!(
        "Your answer is not a valid playbook draft: {error}.{cut_off} Answer again with only the corrected JSON \
         object of the shape described, nothing before or after it."
    )
}

/// Whether an error answer says the server does not support the response format we sent.
fn rejects_format(status: u16, body: &str) -> bool {
    if status != 400 && status != 422 {
        return false;
    }
    let body = body.to_ascii_lowercase();
    ["response_format", "response format", "schema", "json_object"].iter().any(|word| body.contains(word))
}

/// The wait before retry number `attempt + 1`: `base * 2^attempt`, saturating.
fn backoff(base: Duration, attempt: u32) -> Duration {
    base.saturating_mul(2u32.checked_pow(attempt).unwrap_or(u32::MAX))
}

/// `Retry-After` in seconds (the HTTP-date form is ignored: the backoff applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    value.parse::<u64>().ok().map(Duration::from_secs)
}

fn request_failure(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    // Connect errors and connections dropped mid-request are worth another attempt.
    Failure::Transient { message: chain(e), retry_after: None }
}

/// The first [`ERROR_BODY_BYTES`] bytes of a body, on one line, control characters escaped (a
/// server's error page must not drive a terminal).
fn snippet(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return "(empty body)".to_string();
    }
    let head = super::prompt::prefix_within(trimmed, ERROR_BODY_BYTES);
    let end = head.len();
    let mut out: String =
        head.chars().flat_map(|c| if c.is_control() { c.escape_default().collect() } else { vec![c] }).collect();
    if end < trimmed.len() {
        out.push('…');
    }
    out
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or("");
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || ip.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn config(message: String) -> GenerateError {
    GenerateError::Config { backend: BACKEND.to_string(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> OpenAiOptions {
        OpenAiOptions { model: "qwen2.5-0.5b-instruct".into(), ..OpenAiOptions::default() }
    }

    fn config_message(o: &OpenAiOptions) -> String {
        match o.validate() {
            Err(GenerateError::Config { backend, message }) => {
                assert_eq!(backend, BACKEND);
                message
            }
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_with_a_model_are_valid_and_the_endpoint_keeps_the_path() {
        assert!(config_message(&OpenAiOptions::default()).contains("no model"));
        assert_eq!(options().validate().unwrap().as_str(), "http://127.0.0.1:8000/v1/chat/completions");
        for base in ["http://h:1/v1/", "http://h:1/v1"] {
            let o = OpenAiOptions { base_url: base.into(), ..options() };
            assert_eq!(o.validate().unwrap().as_str(), "http://h:1/v1/chat/completions");
        }
        let o = OpenAiOptions { base_url: "https://api.example.org".into(), ..options() };
        assert_eq!(o.validate().unwrap().as_str(), "https://api.example.org/chat/completions");
    }

    #[test]
    fn bad_options_are_refused_with_a_reason() {
        let cases: Vec<(OpenAiOptions, &str)> = vec![
            (OpenAiOptions { base_url: "not a url".into(), ..options() }, "not a URL"),
            (OpenAiOptions { base_url: "ftp://h/v1".into(), ..options() }, "http or https"),
            (OpenAiOptions { base_url: "http://user:pw@h/v1".into(), ..options() }, "credentials"),
            (OpenAiOptions { base_url: "http://h/v1?x=1".into(), ..options() }, "query"),
            (OpenAiOptions { model: "  ".into(), ..options() }, "no model"),
            (OpenAiOptions { api_key: Some(String::new()), ..options() }, "api_key is empty"),
            (OpenAiOptions { api_key: Some("sk\r\nX-Evil: 1".into()), ..options() }, "control"),
            (OpenAiOptions { timeout: Duration::ZERO, ..options() }, "timeout must be"),
            (OpenAiOptions { connect_timeout: Duration::ZERO, ..options() }, "connect_timeout must be"),
            (OpenAiOptions { max_retries: MAX_RETRIES_LIMIT + 1, ..options() }, "max_retries"),
            (
                OpenAiOptions {
                    retry_backoff: Duration::from_secs(60),
                    max_retry_wait: Duration::from_secs(1),
                    ..options()
                },
                "retry_backoff",
            ),
            (OpenAiOptions { temperature: f32::NAN, ..options() }, "temperature"),
            (OpenAiOptions { temperature: 2.5, ..options() }, "temperature"),
            (OpenAiOptions { temperature: -0.1, ..options() }, "temperature"),
            (OpenAiOptions { max_tokens: 0, ..options() }, "max_tokens"),
            (OpenAiOptions { max_response_bytes: 0, ..options() }, "max_response_bytes"),
        ];
        for (o, expected) in cases {
            let message = config_message(&o);
            assert!(message.contains(expected), "{o:?}: `{message}` does not say `{expected}`");
            assert!(OpenAiBackend::new(o).is_err());
        }
    }

    #[test]
    fn the_key_is_never_in_debug_output() {
        let o = OpenAiOptions { api_key: Some("sk-secret-123".into()), ..options() };
        let backend = OpenAiBackend::new(o.clone()).unwrap();
        for text in [format!("{o:?}"), format!("{backend:?}")] {
            assert!(!text.contains("sk-secret-123"), "{text}");
            assert!(text.contains("<redacted>"), "{text}");
        }
    }

    #[test]
    fn response_formats_parse_and_shape_the_request() {
        for f in [ResponseFormat::Auto, ResponseFormat::JsonSchema, ResponseFormat::JsonObject, ResponseFormat::None] {
            assert_eq!(f.as_str().parse::<ResponseFormat>().unwrap(), f);
        }
        assert!("xml".parse::<ResponseFormat>().is_err());

        let backend = OpenAiBackend::new(options()).unwrap();
        let messages = [json!({"role": "user", "content": "hi"})];
        let body = backend.request_body(&messages, Mode::JsonSchema);
        assert_eq!(body["model"], "qwen2.5-0.5b-instruct");
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["name"], SCHEMA_NAME);
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        assert_eq!(body["response_format"]["json_schema"]["schema"], draft_json_schema());
        assert_eq!(
            backend.request_body(&messages, Mode::JsonObject)["response_format"],
            json!({"type": "json_object"})
        );
        assert!(backend.request_body(&messages, Mode::Plain).get("response_format").is_none());

        let fixed = OpenAiBackend::new(OpenAiOptions { response_format: ResponseFormat::None, ..options() }).unwrap();
        assert_eq!(fixed.current_response_format(), ResponseFormat::None);
    }

    #[test]
    fn format_rejections_are_told_from_other_client_errors() {
        assert!(rejects_format(400, r#"{"error":{"message":"response_format json_schema is not supported"}}"#));
        assert!(rejects_format(422, "Unknown field: schema"));
        assert!(rejects_format(400, "JSON_OBJECT unsupported"));
        assert!(!rejects_format(400, "max_tokens is too large"));
        assert!(!rejects_format(401, "invalid response_format key"));
        assert!(!rejects_format(500, "schema"));
    }

    #[test]
    fn backoff_doubles_and_saturates() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 0), Duration::from_millis(100));
        assert_eq!(backoff(base, 3), Duration::from_millis(800));
        assert_eq!(backoff(base, 40), base.saturating_mul(u32::MAX));
    }

    #[test]
    fn retry_after_reads_seconds_only() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn snippets_are_short_single_line_and_cut_on_char_boundaries() {
        assert_eq!(snippet("  "), "(empty body)");
        assert_eq!(snippet("bad\nrequest\u{1b}[31m"), "bad\\nrequest\\u{1b}[31m");
        let long = "é".repeat(400);
        let s = snippet(&long);
        assert!(s.ends_with('…'));
        assert!(s.len() <= ERROR_BODY_BYTES + '…'.len_utf8());
    }

    #[test]
    fn the_repair_message_quotes_the_error() {
        let m = repair_message(&DraftError::Empty, None);
        assert!(m.contains("draft has no steps"), "{m}");
        assert!(repair_message(&DraftError::Empty, Some("length")).contains("cut off"));
    }
}
