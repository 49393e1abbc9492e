//! A small HTTP/1.1 server on 127.0.0.1 for integration tests: one thread per connection, every
//! request recorded as received (method, request target, raw header values, body bytes), answers
//! from a handler or a script. It answers one request per connection (`Connection: close`), so a
//! test never depends on the client's connection pooling.
//!
//! Include it with `#[path = "common/http_server.rs"] mod http_server;` (it is not part of
//! `common/mod.rs`, so test binaries that do not need it do not build it).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Largest request head (start line and headers) the server reads.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest request body the server reads.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// A stalled answer gives up after this long even if the server is never dropped.
const MAX_STALL: Duration = Duration::from_secs(60);

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The request target as sent: path and query, percent-encoding untouched.
    pub target: String,
    pub version: String,
    /// Header names lowercased, values as raw bytes, in the order received.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_slice())
    }

    /// The first value of header `name` as text.
    pub fn header_str(&self, name: &str) -> Option<String> {
        self.header(name).map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// How many times header `name` was sent.
    pub fn header_count(&self, name: &str) -> usize {
        let name = name.to_ascii_lowercase();
        self.headers.iter().filter(|(n, _)| *n == name).count()
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Never answer: hold the connection until the server is dropped (for timeouts).
    pub stall: bool,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Vec::new(), stall: false }
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply::new(status).header("Content-Type", "text/plain").body(body.as_bytes().to_vec())
    }

    pub fn json(status: u16, body: &serde_json::Value) -> Reply {
        Reply::new(status).header("Content-Type", "application/json").body(body.to_string().into_bytes())
    }

    pub fn stall() -> Reply {
        Reply { stall: true, ..Reply::new(200) }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Reply {
        self.body = body;
        self
    }
}

type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

/// The running server; dropping it stops it and releases stalled answers.
pub struct HttpServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
}

impl HttpServer {
    /// Answers every request with `handler(request)`.
    pub fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port for the test server");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Handler = Arc::new(handler);
        let (requests2, stop2) = (requests.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (requests, handler, stop) = (requests2.clone(), handler.clone(), stop2.clone());
                thread::spawn(move || serve(stream, &requests, &handler, &stop));
            }
        });
        HttpServer { addr, requests, stop }
    }

    /// Answers the n-th request with `script[n]`, and every later one with the last entry.
    pub fn scripted(script: Vec<Reply>) -> HttpServer {
        assert!(!script.is_empty(), "a script needs at least one reply");
        let next = Mutex::new(0usize);
        HttpServer::start(move |_| {
            let mut n = next.lock().unwrap();
            let reply = script[(*n).min(script.len() - 1)].clone();
            *n += 1;
            reply
        })
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

fn serve(stream: TcpStream, requests: &Mutex<Vec<Recorded>>, handler: &Handler, stop: &AtomicBool) {
    let Some(request) = read_request(&stream) else { return };
    requests.lock().unwrap().push(request.clone());
    let reply = handler(&request);
    if reply.stall {
        let started = Instant::now();
        while !stop.load(Ordering::SeqCst) && started.elapsed() < MAX_STALL {
            thread::sleep(Duration::from_millis(20));
        }
        return;
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", reply.body.len()));
    let mut stream = stream;
    // The client may close early (a body over its limit); that is not the server's failure.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
}

fn read_request(stream: &TcpStream) -> Option<Recorded> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut head_bytes = 0;
    loop {
        let mut line = Vec::new();
        let n = reader.read_until(b'\n', &mut line).ok()?;
        if n == 0 {
            return None;
        }
        head_bytes += n;
        if head_bytes > MAX_HEAD_BYTES {
            return None;
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        let end = line.len() - if line.ends_with(b"\r\n") { 2 } else { 1 };
        line.truncate(end);
        lines.push(line);
    }
    let start = String::from_utf8_lossy(lines.first()?).into_owned();
    let mut words = start.split(' ');
    let (method, target, version) = (words.next()?.to_owned(), words.next()?.to_owned(), words.next()?.to_owned());
    let headers: Vec<(String, Vec<u8>)> = lines[1..]
        .iter()
        .filter_map(|l| {
            let colon = l.iter().position(|b| *b == b':')?;
            let name = String::from_utf8_lossy(&l[..colon]).trim().to_ascii_lowercase();
            let value = l[colon + 1..].trim_ascii().to_vec();
            Some((name, value))
        })
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<usize>().ok())
        .unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return None;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded { method, target, version, headers, body })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
