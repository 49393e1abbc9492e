//! JSON Lines logs (or a JSON list of log objects): each object's message is its `message`, `msg`
//! or `log` text (`log` may also be an object with a `message`). Time, host, action and level are
//! taken from the usual keys when present; every text value is scanned for observables.

use super::{get_path, text_of, Builder};
use crate::incident::{Event, Severity};
use serde_json::{Map, Value};

const MESSAGE_KEYS: [&str; 5] = ["message", "msg", "log", "MESSAGE", "log.message"];

/// True when the object has a message field.
pub(crate) fn looks_like(obj: &Map<String, Value>) -> bool {
    message(obj).is_some()
}

fn message(obj: &Map<String, Value>) -> Option<&str> {
    MESSAGE_KEYS.iter().find_map(|k| get_path(obj, k).and_then(Value::as_str))
}

fn first_text(obj: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| text_of(get_path(obj, k)))
}

/// Reads one object into an event.
pub(crate) fn item(
    b: &mut Builder<'_>,
    line: Option<usize>,
    obj: &Map<String, Value>,
    raw: &str,
) -> Result<(), String> {
    let details = message(obj).ok_or("no `message`, `msg` or `log` text field")?.to_owned();
    if let Some(s) =
        first_text(obj, &["level", "severity", "log.level", "levelname"]).and_then(|w| Severity::from_word(&w))
    {
        b.severity(s);
    }
    let idx = b.event(Event {
        timestamp: first_text(obj, &["@timestamp", "timestamp", "time", "ts", "datetime", "date"]),
        host: first_text(obj, &["host.name", "hostname", "host.hostname", "host"]),
        action: first_text(obj, &["event.action", "action", "event", "type"]),
        details,
        raw: raw.to_owned(),
        line,
    });
    b.scan_json(obj, idx);
    Ok(())
}
