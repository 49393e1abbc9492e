//! Wazuh alerts (`alerts.json`: one alert per line, or a list): `rule.description` says what
//! happened, `rule.level` (0-15) sets the severity, `agent.name` is the host and `full_log` the
//! original log line; `data.srcip`, `data.srcuser` and the rest are scanned as typed fields.

use super::{get_path, text_of, Builder};
use crate::incident::{Event, Severity};
use serde_json::{Map, Value};

/// `rule.level` together with a Wazuh-only field.
pub(crate) fn looks_like(obj: &Map<String, Value>) -> bool {
    get_path(obj, "rule.level").is_some()
        && ["agent", "full_log", "decoder", "location", "manager"].iter().any(|k| obj.contains_key(*k))
}

/// Wazuh levels: 0-2 informational, 3-6 low, 7-10 medium, 11-13 high, 14-15 critical.
pub(crate) fn severity(level: i64) -> Severity {
    match level {
        ..=2 => Severity::Informational,
        3..=6 => Severity::Low,
        7..=10 => Severity::Medium,
        11..=13 => Severity::High,
        _ => Severity::Critical,
    }
}

/// Reads one alert.
pub(crate) fn item(
    b: &mut Builder<'_>,
    line: Option<usize>,
    obj: &Map<String, Value>,
    raw: &str,
) -> Result<(), String> {
    let description = text_of(get_path(obj, "rule.description"));
    let details = text_of(obj.get("full_log"))
        .or_else(|| description.clone())
        .ok_or("neither `full_log` nor `rule.description`: nothing says what happened")?;
    let level =
        get_path(obj, "rule.level").and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
    if let Some(level) = level {
        b.severity(severity(level));
    }
    // The title is the description of the most severe alert.
    let top = b.free.get("rule").and_then(|r| r.get("level")).and_then(Value::as_i64);
    if b.events.is_empty() || level > top {
        b.title = description.clone();
        if let Some(rule) = obj.get("rule") {
            b.free.insert("rule".to_owned(), rule.clone());
        }
    }
    b.id = if b.events.is_empty() { text_of(obj.get("id")) } else { None };
    let idx = b.event(Event {
        timestamp: text_of(obj.get("timestamp")).or_else(|| text_of(obj.get("@timestamp"))),
        host: text_of(get_path(obj, "agent.name")),
        action: description,
        details,
        raw: raw.to_owned(),
        line,
    });
    b.scan_json(obj, idx);
    Ok(())
}
