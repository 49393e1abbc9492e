//! Elastic Common Schema alerts and events (Elastic Security alerts, Beats events), nested
//! (`{"host": {"name": ...}}`), flat with dotted keys (`"host.name"`, as Kibana exports them) or
//! mixed. `@timestamp`, `host.name`, `event.action` and `message` make the event; the rule name
//! titles the incident; `kibana.alert.severity`, `rule.severity` or a risk score set its severity.

use super::{get_path, text_of, Builder};
use crate::incident::{Event, Severity};
use serde_json::{Map, Value};

/// `@timestamp` together with an ECS field group.
pub(crate) fn looks_like(obj: &Map<String, Value>) -> bool {
    let ecs_key = |k: &str| {
        ["ecs", "event", "rule", "host", "source", "process", "kibana", "signal", "agent"]
            .iter()
            .any(|g| k == *g || k.strip_prefix(g).is_some_and(|r| r.starts_with('.')))
    };
    // `host` or `event` as plain text is any JSON log; as an object (or a dotted key) it is ECS.
    obj.contains_key("@timestamp") && obj.iter().any(|(k, v)| ecs_key(k) && (v.is_object() || k.contains('.')))
}

fn first<'v>(obj: &'v Map<String, Value>, paths: &[&str]) -> Option<&'v Value> {
    paths.iter().find_map(|p| get_path(obj, p).filter(|v| !v.is_null()))
}

fn first_text(obj: &Map<String, Value>, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| text_of(get_path(obj, p)))
}

/// Elastic's risk-score bands (0-21 low, 22-47 medium, 48-73 high, 74-100 critical).
fn from_score(score: f64) -> Severity {
    match score {
        s if s < 22.0 => Severity::Low,
        s if s < 48.0 => Severity::Medium,
        s if s < 74.0 => Severity::High,
        _ => Severity::Critical,
    }
}

/// Reads one alert or event.
pub(crate) fn item(
    b: &mut Builder<'_>,
    line: Option<usize>,
    obj: &Map<String, Value>,
    raw: &str,
) -> Result<(), String> {
    let rule = first_text(obj, &["kibana.alert.rule.name", "signal.rule.name", "rule.name"]);
    let details = first_text(obj, &["message", "kibana.alert.reason", "rule.description", "event.original"])
        .or_else(|| rule.clone())
        .ok_or("no `message`, `kibana.alert.reason`, `rule.description` or `rule.name`: nothing says what happened")?;
    let severity = first_text(
        obj,
        &["kibana.alert.severity", "signal.rule.severity", "rule.severity", "event.severity_label", "log.level"],
    )
    .and_then(|w| Severity::from_word(&w))
    .or_else(|| {
        first(obj, &["kibana.alert.risk_score", "signal.rule.risk_score", "event.risk_score", "event.severity"])
            .and_then(Value::as_f64)
            .map(from_score)
    });
    if let Some(s) = severity {
        b.severity(s);
    }
    if b.events.is_empty() {
        b.title = rule.clone();
        b.id = first_text(obj, &["kibana.alert.uuid", "event.id", "_id", "id"]);
        for (name, paths) in
            [("rule", &["rule", "kibana.alert.rule"][..]), ("threat", &["threat", "kibana.alert.rule.threat"][..])]
        {
            if let Some(v) = first(obj, paths) {
                b.free.insert(name.to_owned(), v.clone());
            }
        }
    } else {
        // Several alerts: the id of one would misname the incident.
        b.id = None;
    }
    let idx = b.event(Event {
        timestamp: first_text(obj, &["@timestamp"]),
        host: first_text(obj, &["host.name", "host.hostname", "agent.hostname", "agent.name"]),
        action: first_text(obj, &["event.action"]).or(rule),
        details,
        raw: raw.to_owned(),
        line,
    });
    b.scan_json(obj, idx);
    Ok(())
}
