//! The OpenAI-compatible backend against a real HTTP server on 127.0.0.1, started by each test:
//! a small HTTP/1.1 responder (one thread per connection) that records every request and answers
//! from a script. Covers the request body, the response-format fallback, retries, errors that
//! must not be retried, timeouts, the repair turn and the response size limit.

mod common;

use cacao_forge::generate::{
    draft_json_schema, Backend, GenerateError, GenerationContext, OpenAiBackend, OpenAiOptions, PlaybookDraft,
    ResponseFormat,
};
use cacao_forge::incident::input::InputFormat;
use cacao_forge::incident::intake::IntakeOptions;
use cacao_forge::incident::Incident;
use cacao_forge::plan::{read_input, Plan, PlanOptions, Planner};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

const INCIDENT: &str = "playbooks/samples/incidents/ssh-bruteforce-then-download.log";
const API_KEY: &str = "sk-test-7f3a9c";

// ---------------------------------------------------------------------------------------------
// The test server.

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Wait this long before answering (for the timeout test).
    delay: Duration,
    /// Send no Content-Length: the body ends when the connection closes.
    no_length: bool,
}

impl Reply {
    fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
            delay: Duration::ZERO,
            no_length: false,
        }
    }

    /// A chat completion whose assistant message is `content`.
    fn completion(content: &str) -> Reply {
        Reply::json(
            200,
            &json!({
                "id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
            }),
        )
    }

    fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, &json!({"error": {"message": message, "type": "invalid_request_error"}}))
    }

    fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A request as the server received it.
#[derive(Debug, Clone)]
struct Recorded {
    request_line: String,
    /// Header names lowercased.
    headers: Vec<(String, String)>,
    body: Value,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

struct Server {
    base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl Server {
    /// Answers the n-th request with `script[n]`, and every request after the script with its
    /// last entry.
    fn start(script: Vec<Reply>) -> Server {
        assert!(!script.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (requests2, stop2) = (requests.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (requests, script) = (requests2.clone(), script.clone());
                thread::spawn(move || serve(stream, &requests, &script));
            }
        });
        Server { base_url: format!("http://127.0.0.1:{port}/v1"), requests, stop, port }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one request, records it, answers from the script and closes the connection.
fn serve(mut stream: TcpStream, requests: &Mutex<Vec<Recorded>>, script: &[Reply]) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return, // the accept loop's wake-up connection, or a client gone
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize =
        headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    while data.len() < head_end + length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    let body = serde_json::from_slice(&data[head_end..head_end + length]).unwrap_or(Value::Null);
    let reply = {
        let mut all = requests.lock().unwrap();
        all.push(Recorded { request_line, headers, body });
        script[(all.len() - 1).min(script.len() - 1)].clone()
    };
    thread::sleep(reply.delay);
    let mut out = format!("HTTP/1.1 {} Scripted\r\nConnection: close\r\n", reply.status);
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !reply.no_length {
        out.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    out.push_str("\r\n");
    // The client may have given up (timeout, size limit): write errors are expected then.
    let _ = stream.write_all(out.as_bytes()).and_then(|_| stream.write_all(&reply.body)).and_then(|_| stream.flush());
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

fn incident_and_plan() -> (Incident, Plan) {
    let bytes = std::fs::read(INCIDENT).unwrap();
    let input = read_input(&bytes, InputFormat::Auto, &IntakeOptions::default()).unwrap();
    let incident = input.incidents.into_iter().next().unwrap();
    let plan = Planner::embedded(PlanOptions::default()).plan(&incident);
    assert!(plan.has_techniques(), "the sample incident maps to techniques");
    (incident, plan)
}

fn draft_with(backend: &OpenAiBackend) -> Result<PlaybookDraft, GenerateError> {
    let (incident, plan) = incident_and_plan();
    backend.draft(&GenerationContext { incident: &incident, plan: &plan })
}

fn valid_draft() -> String {
    json!({
        "name": "Contain SSH brute force on bastion-01",
        "description": "Block the attacker and remove the downloaded payload.",
        "steps": [
            {"name": "Block 203.0.113.45 at the firewall", "description": "Stop the brute force.",
             "phase": "containment", "command_type": "bash", "command": "iptables -I INPUT -s 203.0.113.45 -j DROP",
             "target": "bastion-01", "technique": "T1110", "mitigation": "M1036", "destructive": false, "expect": null},
            {"name": "Confirm no new logins from 203.0.113.45", "description": "Check the block holds.",
             "phase": "verification", "command_type": "bash", "command": "grep 203.0.113.45 /var/log/auth.log | tail",
             "target": "bastion-01", "technique": null, "mitigation": null, "destructive": false,
             "expect": "no accepted logins"}
        ]
    })
    .to_string()
}

fn options(server: &Server) -> OpenAiOptions {
    OpenAiOptions {
        base_url: server.base_url.clone(),
        model: "test-model".into(),
        api_key: Some(API_KEY.into()),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        max_retries: 2,
        retry_backoff: Duration::from_millis(10),
        max_retry_wait: Duration::from_millis(50),
        ..OpenAiOptions::default()
    }
}

fn backend(server: &Server) -> OpenAiBackend {
    OpenAiBackend::new(options(server)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn the_request_carries_model_messages_key_and_the_draft_schema() {
    let server = Server::start(vec![Reply::completion(&valid_draft())]);
    let backend = backend(&server);
    let draft = draft_with(&backend).unwrap();
    assert_eq!(draft.steps.len(), 2);
    assert_eq!(draft.steps[0].technique.as_deref(), Some("T1110"));
    assert_eq!(backend.provenance().backend, "openai");
    assert_eq!(backend.provenance().model, "test-model");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.request_line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(r.header("authorization"), Some(format!("Bearer {API_KEY}").as_str()));
    assert!(r.header("content-type").is_some_and(|v| v.starts_with("application/json")));
    let body = &r.body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], false);
    assert_eq!(body["max_tokens"], OpenAiOptions::default().max_tokens);
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "system");
    assert!(messages[0]["content"].as_str().unwrap().contains("CACAO v2.0"));
    assert_eq!(messages[1]["role"], "user");
    let user = messages[1]["content"].as_str().unwrap();
    assert!(user.contains("Attack logs"), "{user}");
    assert!(user.contains("Analysis hints"), "the plan's techniques are in the prompt: {user}");
    let format = &body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "playbook_draft");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(format["json_schema"]["schema"], draft_json_schema());
}

#[test]
fn a_server_without_json_schema_gets_json_object_and_the_mode_is_remembered() {
    let server = Server::start(vec![
        Reply::error(400, "response_format type json_schema is not supported by this server"),
        Reply::completion(&valid_draft()),
    ]);
    let backend = backend(&server);
    assert_eq!(backend.current_response_format(), ResponseFormat::JsonSchema);
    draft_with(&backend).unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body["response_format"]["type"], "json_schema");
    assert_eq!(requests[1].body["response_format"], json!({"type": "json_object"}));
    assert_eq!(backend.current_response_format(), ResponseFormat::JsonObject);

    // The next draft starts with the mode that worked: no second rejection.
    draft_with(&backend).unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].body["response_format"], json!({"type": "json_object"}));
}

#[test]
fn a_server_without_any_response_format_gets_none() {
    let server = Server::start(vec![
        Reply::error(422, "unknown field `response_format`"),
        Reply::error(422, "unknown field `response_format`"),
        Reply::completion(&valid_draft()),
    ]);
    let backend = backend(&server);
    draft_with(&backend).unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[2].body.get("response_format").is_none(), "{}", requests[2].body);
    assert_eq!(backend.current_response_format(), ResponseFormat::None);
}

#[test]
fn an_explicit_format_is_never_downgraded() {
    let server = Server::start(vec![Reply::error(400, "response_format json_schema is not supported")]);
    let backend =
        OpenAiBackend::new(OpenAiOptions { response_format: ResponseFormat::JsonSchema, ..options(&server) }).unwrap();
    let err = draft_with(&backend).unwrap_err();
    assert!(matches!(err, GenerateError::Backend { .. }), "{err:?}");
    assert!(err.to_string().contains("HTTP 400"), "{err}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn unavailable_then_ok_is_retried_and_succeeds() {
    let server = Server::start(vec![
        Reply::error(503, "loading model").header("Retry-After", "0"),
        Reply::error(429, "slow down"),
        Reply::completion(&valid_draft()),
    ]);
    let draft = draft_with(&backend(&server)).unwrap();
    assert_eq!(draft.name, "Contain SSH brute force on bastion-01");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    // A retry resends the same request.
    assert_eq!(requests[0].body, requests[2].body);
}

#[test]
fn retries_stop_at_max_retries_and_the_error_names_url_and_status() {
    let server = Server::start(vec![Reply::error(502, "bad gateway upstream")]);
    let backend = OpenAiBackend::new(OpenAiOptions { max_retries: 1, ..options(&server) }).unwrap();
    let err = draft_with(&backend).unwrap_err().to_string();
    assert_eq!(server.requests().len(), 2, "one attempt and one retry");
    assert!(err.contains("HTTP 502"), "{err}");
    assert!(err.contains("bad gateway upstream"), "{err}");
    assert!(err.contains(&format!("{}/chat/completions", server.base_url)), "{err}");
}

#[test]
fn unauthorized_is_not_retried_and_the_error_says_401_without_the_key() {
    let server = Server::start(vec![Reply::error(401, "Incorrect API key provided")]);
    let err = draft_with(&backend(&server)).unwrap_err();
    assert!(matches!(err, GenerateError::Backend { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("401"), "{message}");
    assert!(message.contains("Incorrect API key provided"), "{message}");
    assert!(message.contains("127.0.0.1"), "{message}");
    assert!(!message.contains(API_KEY), "{message}");
    assert_eq!(server.requests().len(), 1, "a 401 is not retried");
}

#[test]
fn error_bodies_are_quoted_cut_to_300_bytes() {
    let long = format!("{}TAIL", "x".repeat(1000));
    let server = Server::start(vec![Reply::error(403, &long)]);
    let message = draft_with(&backend(&server)).unwrap_err().to_string();
    assert!(message.contains("HTTP 403"), "{message}");
    // Exactly the first 300 bytes of the body, then the mark that it goes on.
    let quoted = message.split("HTTP 403: ").nth(1).expect("the body is quoted after the status");
    assert!(quoted.ends_with('…'), "{message}");
    assert_eq!(quoted.trim_end_matches('…').len(), 300, "{message}");
    assert!(!message.contains("TAIL"), "{message}");
}

#[test]
fn a_server_slower_than_the_timeout_is_a_timeout() {
    let mut slow = Reply::completion(&valid_draft());
    slow.delay = Duration::from_secs(3);
    let server = Server::start(vec![slow]);
    let backend =
        OpenAiBackend::new(OpenAiOptions { timeout: Duration::from_millis(300), max_retries: 1, ..options(&server) })
            .unwrap();
    let err = draft_with(&backend).unwrap_err();
    match &err {
        GenerateError::Timeout { backend, seconds } => {
            assert_eq!(backend, "openai");
            assert_eq!(*seconds, 1, "300 ms rounds up to 1 s");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(server.requests().len(), 2, "a timeout is retried");
}

#[test]
fn garbage_then_a_valid_draft_on_the_repair_turn_succeeds() {
    let garbage = "Sure! Here is the playbook: {\"name\": \"x\", \"steps\": \"not a list\"}";
    let server = Server::start(vec![Reply::completion(garbage), Reply::completion(&valid_draft())]);
    let draft = draft_with(&backend(&server)).unwrap();
    assert_eq!(draft.steps.len(), 2);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let messages = requests[1].body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[0], requests[0].body["messages"][0]);
    assert_eq!(messages[1], requests[0].body["messages"][1]);
    assert_eq!(messages[2]["role"], "assistant");
    assert_eq!(messages[2]["content"], garbage);
    assert_eq!(messages[3]["role"], "user");
    let repair = messages[3]["content"].as_str().unwrap();
    // The parse error itself, as parse_draft words it.
    let parse_error = cacao_forge::generate::parse_draft(garbage).unwrap_err().to_string();
    assert!(repair.contains(&parse_error), "repair turn `{repair}` lacks `{parse_error}`");
}

#[test]
fn garbage_twice_is_a_draft_error() {
    let server = Server::start(vec![Reply::completion("I cannot help with that.")]);
    let err = draft_with(&backend(&server)).unwrap_err();
    assert!(matches!(err, GenerateError::Draft { ref backend, .. } if backend == "openai"), "{err:?}");
    assert_eq!(server.requests().len(), 2, "one repair turn, no more");
}

#[test]
fn an_answer_that_is_not_a_chat_completion_is_a_backend_error() {
    let mut reply = Reply::completion("");
    reply.body = b"<html>proxy login</html>".to_vec();
    let server = Server::start(vec![reply]);
    let err = draft_with(&backend(&server)).unwrap_err();
    assert!(matches!(err, GenerateError::Backend { .. }), "{err:?}");
    assert!(err.to_string().contains("not a chat completion"), "{err}");
}

#[test]
fn oversized_bodies_are_refused_with_or_without_content_length() {
    let padding = "p".repeat(64 * 1024);
    for no_length in [false, true] {
        let mut big = Reply::completion(&valid_draft());
        // Valid JSON, so only the size can be the reason it is refused.
        big.body =
            json!({"choices": [{"message": {"content": valid_draft()}}], "padding": padding}).to_string().into_bytes();
        big.no_length = no_length;
        let server = Server::start(vec![big]);
        let backend = OpenAiBackend::new(OpenAiOptions { max_response_bytes: 16 * 1024, ..options(&server) }).unwrap();
        let err = draft_with(&backend).unwrap_err();
        assert!(matches!(err, GenerateError::Backend { .. }), "{err:?}");
        assert!(err.to_string().contains("max_response_bytes"), "{err}");
        assert_eq!(server.requests().len(), 1, "an oversized answer is not retried");

        // The same answer within a larger limit is accepted.
        let backend =
            OpenAiBackend::new(OpenAiOptions { max_response_bytes: 1024 * 1024, ..options(&server) }).unwrap();
        assert_eq!(draft_with(&backend).unwrap().steps.len(), 2, "no_length: {no_length}");
    }
}

#[test]
fn a_refused_connection_is_reported_with_its_address() {
    // Bind then drop: nothing listens on the port any more.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let backend = OpenAiBackend::new(OpenAiOptions {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        model: "m".into(),
        max_retries: 1,
        retry_backoff: Duration::from_millis(10),
        max_retry_wait: Duration::from_millis(10),
        ..OpenAiOptions::default()
    })
    .unwrap();
    let err = draft_with(&backend).unwrap_err();
    assert!(matches!(err, GenerateError::Backend { .. }), "{err:?}");
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
}

/// The whole command: `generate --backend openai` against the test server writes a valid
/// playbook built from the server's draft, recording the backend and model.
#[test]
fn the_generate_command_drives_the_openai_backend_end_to_end() {
    let server = Server::start(vec![Reply::completion(&valid_draft())]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pb.json");
    let config = dir.path().join("gen.json");
    std::fs::write(&config, json!({"backend": "openai", "model": "test-model", "max_retries": 0}).to_string()).unwrap();
    let (code, _, err) = common::cli(&[
        "generate",
        "playbooks/samples/incidents/ssh-bruteforce-then-download.log",
        "--year",
        "2026",
        "--config",
        config.to_str().unwrap(),
        "--base-url",
        &server.base_url,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let pb: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(cacao_forge::cacao::validate::Validator::default().validate_document(&pb).is_valid());
    let labels = pb["labels"].to_string();
    assert!(labels.contains("backend:openai") && labels.contains("model:test-model"), "{labels}");
    assert!(pb.to_string().contains("Block 203.0.113.45 at the firewall"));
    assert_eq!(server.requests().len(), 1);

    // A config file with an unknown key is refused, naming the key.
    std::fs::write(&config, r#"{"backend": "openai", "modle": "x"}"#).unwrap();
    let (code, _, err) = common::cli(&[
        "generate",
        "playbooks/samples/incidents/ssh-bruteforce-then-download.log",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("modle"), "{err}");
}
