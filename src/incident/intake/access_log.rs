//! Apache/nginx access logs: the common log format
//! (`client ident user [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200 2326`) and the combined
//! format (the same plus `"referer" "user agent"`). The request method is the event's action, the
//! authenticated user (when not `-`) a user observable, and the rest is scanned.

use super::{offset_in, parse_time, Builder};
use crate::incident::{Event, ObservableKind};
use std::fmt::Write as _;

/// One parsed access-log line; text fields are slices of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine<'a> {
    pub client: &'a str,
    pub user: &'a str,
    pub timestamp: &'a str,
    pub request: &'a str,
    pub method: Option<&'a str>,
    pub target: Option<&'a str>,
    pub status: u16,
    pub bytes: &'a str,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// Parses one line; `None` when it is not an access-log line.
pub fn parse(line: &str) -> Option<AccessLine<'_>> {
    let (client, rest) = line.split_once(' ')?;
    let (_ident, rest) = rest.split_once(' ')?;
    let (user, rest) = rest.split_once(' ')?;
    let rest = rest.strip_prefix('[')?;
    let (timestamp, rest) = split_at_request(rest)?;
    let (request, rest) = quoted(rest)?;
    let rest = rest.strip_prefix(' ')?;
    let (status, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let status: u16 = status.parse().ok().filter(|s| (100..=599).contains(s))?;
    let (bytes, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if bytes != "-" && !bytes.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (referer, user_agent) = match rest.strip_prefix('"').and_then(quoted) {
        Some((referer, r)) => (Some(referer), r.trim_start().strip_prefix('"').and_then(quoted).map(|(ua, _)| ua)),
        None => (None, None),
    };
    let mut parts = request.split(' ');
    let method = parts.next().filter(|m| !m.is_empty() && m.bytes().all(|c| c.is_ascii_uppercase()));
    let target = method.and(parts.next());
    Some(AccessLine { client, user, timestamp, request, method, target, status, bytes, referer, user_agent })
}

/// `s.split_once("] \"")`, searched from each `]` (a substring search costs more to set up than
/// the few bytes of a time it has to look through).
fn split_at_request(s: &str) -> Option<(&str, &str)> {
    let mut from = 0;
    while let Some(i) = s.get(from..).and_then(|r| r.find(']')).map(|i| from + i) {
        if s.as_bytes().get(i + 1..i + 3) == Some(b" \"") {
            return Some((&s[..i], &s[i + 3..]));
        }
        from = i + 1;
    }
    None
}

/// The text up to the closing quote (a `\"` does not close) and what follows it.
fn quoted(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some((&s[..i], &s[i + 1..])),
            _ => i += 1,
        }
    }
    None
}

/// Reads one line into an event.
pub(crate) fn line(b: &mut Builder<'_>, n: usize, line: &str) -> Result<(), String> {
    let p = parse(line).ok_or_else(|| {
        format!(
            "not an access-log line (expected `client ident user [time] \"request\" status bytes`): `{}`",
            super::shorten(line, 80)
        )
    })?;
    add(b, n, line, p);
    Ok(())
}

/// Adds a parsed line as an event.
pub(crate) fn add(b: &mut Builder<'_>, n: usize, line: &str, p: AccessLine<'_>) {
    let mut details = String::with_capacity(p.client.len() + p.request.len() + 16 + p.user_agent.map_or(0, str::len));
    let _ = write!(details, "{} \"{}\" {}", p.client, p.request, p.status);
    if let Some(ua) = p.user_agent {
        details.push_str(" \"");
        details.push_str(ua);
        details.push('"');
    }
    // A time that parses is stored normalized by `event_at`: the text as written is not copied.
    let time = parse_time(p.timestamp);
    let event = Event {
        timestamp: time.is_none().then(|| p.timestamp.to_owned()),
        host: None,
        action: Some(p.method.unwrap_or("request").to_owned()),
        details,
        raw: line.to_owned(),
        line: Some(n),
    };
    let idx = b.event_at(event, time);
    if p.user != "-" {
        if let Some(at) = offset_in(line, p.user) {
            b.typed(ObservableKind::User, p.user, (at, at + p.user.len()), "raw", Some(idx));
        }
    }
    b.scan_raw(idx);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_combined() {
        let c = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
        let p = parse(c).unwrap();
        assert_eq!(
            (p.client, p.user, p.method, p.target, p.status),
            ("127.0.0.1", "frank", Some("GET"), Some("/apache_pb.gif"), 200)
        );
        let m = r#"203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET /q?x=\"a b\" HTTP/1.1" 404 - "http://evil.example.com/" "curl/8.0""#;
        let p = parse(m).unwrap();
        assert_eq!(p.request, r#"GET /q?x=\"a b\" HTTP/1.1"#);
        assert_eq!((p.referer, p.user_agent), (Some("http://evil.example.com/"), Some("curl/8.0")));
        for bad in ["hello", "1.2.3.4 - - [x] \"GET / HTTP/1.1\" abc 1", "a b c [t] \"unterminated"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
