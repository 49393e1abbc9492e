//! JSON Lines logs (or a JSON list of log objects): each object's message is its `message`, `msg`
//! or `log` text (`log` may also be an object with a `message`). Time, host, action and level are
//! taken from the usual keys when present; every text value is scanned for observables.

use super::json::{JsonObject, JsonValue};
use super::{get_path, parse_time, text_ref, Builder};
use crate::incident::{Event, Severity};
use serde_json::{Map, Value};
use std::borrow::Cow;

const MESSAGE_KEYS: [&str; 5] = ["message", "msg", "log", "MESSAGE", "log.message"];

/// True when the object has a message field.
pub(crate) fn looks_like(obj: &Map<String, Value>) -> bool {
    message(obj).is_some()
}

fn message<O: JsonObject>(obj: &O) -> Option<&str> {
    MESSAGE_KEYS.iter().find_map(|k| get_path(obj, k).and_then(JsonValue::as_str))
}

fn first_text<'v, O: JsonObject>(obj: &'v O, keys: &[&str]) -> Option<Cow<'v, str>> {
    keys.iter().find_map(|k| text_ref(get_path(obj, k)))
}

/// Reads one object (`serde_json`'s, or a line read as a [`Lite`](super::json::Lite)) into an
/// event.
pub(crate) fn item<O: JsonObject>(b: &mut Builder<'_>, line: Option<usize>, obj: &O, raw: &str) -> Result<(), String> {
    let details = message(obj).ok_or("no `message`, `msg` or `log` text field")?.to_owned();
    if let Some(s) =
        first_text(obj, &["level", "severity", "log.level", "levelname"]).and_then(|w| Severity::from_word(&w))
    {
        b.severity(s);
    }
    // A time that parses is stored normalized: the text as written is only copied when it does not.
    let timestamp = first_text(obj, &["@timestamp", "timestamp", "time", "ts", "datetime", "date"]);
    let time = timestamp.as_deref().and_then(parse_time);
    let event = Event {
        timestamp: if time.is_some() { None } else { timestamp.map(Cow::into_owned) },
        host: first_text(obj, &["host.name", "hostname", "host.hostname", "host"]).map(Cow::into_owned),
        action: first_text(obj, &["event.action", "action", "event", "type"]).map(Cow::into_owned),
        details,
        raw: raw.to_owned(),
        line,
    };
    let idx = b.event_at(event, time);
    b.scan_json(obj, idx);
    Ok(())
}
