//! Syslog: RFC 3164 (`<pri>Mmm dd hh:mm:ss host tag[pid]: message`, which is what auth.log holds),
//! the same with an RFC 3339 time (rsyslog's high-precision form), and RFC 5424
//! (`<pri>1 time host app procid msgid [sd] message`).
//!
//! sshd and sudo messages get a named action (`authentication failure`, `privileged command`) so a
//! brute force reads as one in the summary; other lines take the program name as their action.

use super::{offset_in, parse_time, Builder};
use crate::incident::{Event, ObservableKind, Severity};
use chrono::{DateTime, FixedOffset, NaiveDate};

/// One parsed syslog line; the text fields are slices of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogLine<'a> {
    pub priority: Option<u8>,
    /// The time as written.
    pub timestamp: &'a str,
    /// The time, when it could be understood (RFC 3164 needs a year for that).
    pub time: Option<DateTime<FixedOffset>>,
    pub host: &'a str,
    pub app: Option<&'a str>,
    pub pid: Option<&'a str>,
    pub message: &'a str,
}

pub(crate) const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Parses one line; `None` when it is no syslog form.
pub fn parse(line: &str, year: Option<i32>) -> Option<SyslogLine<'_>> {
    let (priority, rest) = match line.strip_prefix('<') {
        Some(after) => {
            let close = after.find('>')?;
            let pri: u8 = after[..close].parse().ok().filter(|p| *p <= 191)?;
            (Some(pri), &after[close + 1..])
        }
        None => (None, line),
    };
    if let Some(r) = rest.strip_prefix("1 ") {
        return parse_5424(priority, r);
    }
    let (timestamp, time, rest) = if rest.len() >= 16 && rest.as_bytes()[15] == b' ' && is_3164_time(&rest[..15]) {
        let ts = &rest[..15];
        (ts, year.and_then(|y| time_3164(ts, y)), &rest[16..])
    } else {
        let (ts, r) = rest.split_once(' ')?;
        let t = parse_time(ts)?;
        (ts, Some(t), r)
    };
    let (host, rest) = rest.trim_start_matches(' ').split_once(' ').unwrap_or((rest, ""));
    if host.is_empty() {
        return None;
    }
    let (app, pid, message) = tag(rest);
    Some(SyslogLine { priority, timestamp, time, host, app, pid, message })
}

fn is_3164_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 15
        && MONTHS.iter().any(|m| m.as_bytes() == &b[..3])
        && b[3] == b' '
        && (b[4] == b' ' || b[4].is_ascii_digit())
        && b[5].is_ascii_digit()
        && b[6] == b' '
        && b[9] == b':'
        && b[12] == b':'
        && [7, 8, 10, 11, 13, 14].iter().all(|&i| b[i].is_ascii_digit())
}

fn time_3164(s: &str, year: i32) -> Option<DateTime<FixedOffset>> {
    let month = MONTHS.iter().position(|m| *m == &s[..3])? as u32 + 1;
    let day: u32 = s[4..6].trim().parse().ok()?;
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    let t = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(num(7..9)?, num(10..12)?, num(13..15)?)?;
    Some(t.and_utc().fixed_offset())
}

/// `tag[pid]: message` or `tag: message`; a line without a tag is all message.
fn tag(rest: &str) -> (Option<&str>, Option<&str>, &str) {
    let mut end = rest.len().min(64);
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    let head = &rest[..end];
    let Some(colon) = head.find(": ").or_else(|| head.strip_suffix(':').map(|h| h.len())) else {
        return (None, None, rest);
    };
    let tag = &rest[..colon];
    if tag.is_empty() || tag.contains(' ') {
        return (None, None, rest);
    }
    let message = rest.get(colon + 2..).unwrap_or_default();
    match tag.split_once('[') {
        Some((app, pid)) => (Some(app), Some(pid.trim_end_matches(']')), message),
        None => (Some(tag), None, message),
    }
}

fn parse_5424(priority: Option<u8>, rest: &str) -> Option<SyslogLine<'_>> {
    let mut parts = rest.splitn(5, ' ');
    let timestamp = parts.next()?;
    let host = parts.next()?;
    let app = parts.next()?;
    let pid = parts.next()?;
    let rest = parts.next().unwrap_or_default();
    let (_msgid, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let message = skip_structured_data(rest)?;
    let message = message.trim_start_matches('\u{feff}');
    let opt = |s: &str| s != "-";
    Some(SyslogLine {
        priority,
        timestamp,
        time: parse_time(timestamp),
        host,
        app: opt(app).then_some(app),
        pid: opt(pid).then_some(pid),
        message,
    })
}

/// The message after RFC 5424 structured data (`-` or one or more `[id k="v"]` elements, with
/// `\]`, `\"` and `\\` escapes inside values).
fn skip_structured_data(rest: &str) -> Option<&str> {
    if let Some(r) = rest.strip_prefix('-') {
        return Some(r.strip_prefix(' ').unwrap_or(r));
    }
    let b = rest.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quotes = false;
        i += 1;
        loop {
            match b.get(i)? {
                b'\\' if in_quotes => i += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let r = rest.get(i..)?;
    Some(r.strip_prefix(' ').unwrap_or(r))
}

/// A few words for what an auth.log line says happened.
pub(crate) fn action(app: Option<&str>, message: &str) -> Option<String> {
    let has = |s: &str| message.contains(s);
    let named = if has("Failed password") || has("Failed publickey") || has("authentication failure") {
        "authentication failure"
    } else if has("Accepted ") {
        "authentication success"
    } else if has("Invalid user") || has("invalid user") {
        "invalid user"
    } else if app == Some("sudo") && has("COMMAND=") {
        "privileged command"
    } else if has("session opened") {
        "session opened"
    } else if has("session closed") {
        "session closed"
    } else if has("Disconnected from") || has("Connection closed by") {
        "disconnect"
    } else {
        return app.map(str::to_owned);
    };
    Some(named.to_owned())
}

/// Syslog severity (the low 3 bits of the priority) on the incident scale.
pub(crate) fn severity(priority: u8) -> Severity {
    match priority & 7 {
        0..=2 => Severity::Critical,
        3 => Severity::High,
        4 => Severity::Medium,
        5 => Severity::Low,
        _ => Severity::Informational,
    }
}

/// Reads one line into an event.
pub(crate) fn line(b: &mut Builder<'_>, n: usize, line: &str) -> Result<(), String> {
    let parsed = parse(line, b.opts.year).ok_or_else(|| {
        format!(
            "not a syslog line (expected `Mmm dd hh:mm:ss host tag: message` or `<pri>1 time host app ...`): `{}`",
            super::shorten(line, 80)
        )
    })?;
    add(b, n, line, parsed);
    Ok(())
}

/// Adds a parsed line as an event.
pub(crate) fn add(b: &mut Builder<'_>, n: usize, line: &str, parsed: SyslogLine<'_>) {
    if let Some(p) = parsed.priority {
        b.severity(severity(p));
    }
    let host = (parsed.host != "-").then(|| parsed.host.to_owned());
    let event = Event {
        // A time that was understood is stored normalized by `event_at`.
        timestamp: parsed.time.is_none().then(|| parsed.timestamp.to_owned()),
        host,
        action: action(parsed.app, parsed.message),
        details: parsed.message.to_owned(),
        raw: line.to_owned(),
        line: Some(n),
    };
    let idx = b.event_at(event, parsed.time);
    if parsed.host != "-" {
        if let Some(at) = offset_in(line, parsed.host) {
            b.typed(ObservableKind::Host, parsed.host, (at, at + parsed.host.len()), "raw", Some(idx));
        }
    }
    b.scan_raw(idx);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3164_auth_log() {
        let l = "Mar  2 04:11:09 bastion-01 sshd[4411]: Failed password for root from 203.0.113.45 port 51022 ssh2";
        let p = parse(l, Some(2026)).unwrap();
        assert_eq!((p.host, p.app, p.pid), ("bastion-01", Some("sshd"), Some("4411")));
        assert!(p.message.starts_with("Failed password"));
        assert_eq!(p.time.unwrap().to_rfc3339(), "2026-03-02T04:11:09+00:00");
        assert!(parse(l, None).unwrap().time.is_none());
        assert_eq!(action(p.app, p.message).as_deref(), Some("authentication failure"));
        let k = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8";
        assert_eq!(parse(k, None).unwrap().priority, Some(34));
    }

    #[test]
    fn rfc5424_and_iso() {
        let l = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appl\]ication"] BOMAn application event"#;
        let p = parse(l, None).unwrap();
        assert_eq!((p.host, p.app, p.pid), ("mymachine.example.com", Some("evntslog"), None));
        assert_eq!(p.message, "BOMAn application event");
        assert!(p.time.is_some());
        let n = "<34>1 2003-10-11T22:14:15Z host app 12 - - msg";
        assert_eq!(parse(n, None).unwrap().message, "msg");
        let iso = "2024-03-02T04:11:09.123456+00:00 web01 kernel: oops";
        assert_eq!(parse(iso, None).unwrap().app, Some("kernel"));
        for bad in ["hello world", "<999>x", "<34>1 2003 host", "Mar  2 04:11:09", "{\"a\":1}"] {
            assert!(parse(bad, None).is_none(), "{bad}");
        }
    }
}
