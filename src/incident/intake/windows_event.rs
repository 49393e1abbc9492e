//! Windows events as JSON: flat (`{"EventID": 4625, "Computer": ..., "TimeCreated": ...,
//! "EventData": {...}}`, as PowerShell's `Get-WinEvent | ConvertTo-Json` or most exporters write
//! them) or nested as the event XML converted to JSON (`{"Event": {"System": {...}, "EventData":
//! {"Data": [{"@Name": "TargetUserName", "#text": "bob"}]}}}`). Well-known event ids (logons,
//! process creation, service installs, Sysmon) get a named action.

use super::{get_path, text_of, Builder};
use crate::incident::{Event, Severity};
use serde_json::{Map, Value};

/// An `EventID`, flat or under `Event.System`.
pub(crate) fn looks_like(obj: &Map<String, Value>) -> bool {
    system(obj).is_some_and(|s| s.contains_key("EventID") || s.contains_key("EventId"))
}

/// The object holding `EventID`, `Computer`, `TimeCreated`.
fn system(obj: &Map<String, Value>) -> Option<&Map<String, Value>> {
    match get_path(obj, "Event.System") {
        Some(Value::Object(s)) => Some(s),
        _ => Some(obj),
    }
}

/// A value that may be wrapped as XML-as-JSON (`{"#text": "4625"}`, `{"@SystemTime": ...}`).
fn unwrap_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Object(o) => ["#text", "@SystemTime", "SystemTime", "value"].iter().find_map(|k| text_of(o.get(*k))),
        other => text_of(Some(other)),
    }
}

/// `EventData` as name -> text, from an object or a `Data` list of `{Name, #text}`.
fn event_data(obj: &Map<String, Value>) -> Vec<(String, String)> {
    let data = get_path(obj, "Event.EventData").or_else(|| obj.get("EventData"));
    let mut out = Vec::new();
    let Some(Value::Object(data)) = data else { return out };
    match data.get("Data") {
        Some(Value::Array(items)) => {
            for item in items {
                if let Value::Object(o) = item {
                    let name = ["@Name", "Name"].iter().find_map(|k| o.get(*k).and_then(Value::as_str));
                    let text = ["#text", "text", "value", "Value"].iter().find_map(|k| text_of(o.get(*k)));
                    if let (Some(n), Some(t)) = (name, text) {
                        out.push((n.to_owned(), t));
                    }
                }
            }
        }
        _ => {
            for (k, v) in data {
                if let Some(t) = text_of(Some(v)) {
                    out.push((k.clone(), t));
                }
            }
        }
    }
    out
}

/// Names of well-known events (Security log, System log, Sysmon, PowerShell).
fn action(id: &str, provider: Option<&str>) -> String {
    let sysmon = provider.is_some_and(|p| p.contains("Sysmon"));
    let named = match (id, sysmon) {
        ("1", true) => "process creation",
        ("3", true) => "network connection",
        ("11", true) => "file creation",
        ("12" | "13" | "14", true) => "registry change",
        ("22", true) => "dns query",
        ("4624", _) => "logon success",
        ("4625", _) => "logon failure",
        ("4634" | "4647", _) => "logoff",
        ("4648", _) => "explicit credential logon",
        ("4672", _) => "special privileges assigned",
        ("4688", _) => "process creation",
        ("4697" | "7045", _) => "service installed",
        ("4698", _) => "scheduled task created",
        ("4720", _) => "user account created",
        ("4728" | "4732" | "4756", _) => "member added to security group",
        ("4740", _) => "account locked out",
        ("4104", _) => "powershell script block",
        ("1102", _) => "audit log cleared",
        _ => return format!("event {id}"),
    };
    named.to_owned()
}

/// Windows levels: 1 critical, 2 error, 3 warning, 4 information, 5 verbose.
fn severity(level: &str) -> Option<Severity> {
    Some(match level.trim() {
        "1" => Severity::Critical,
        "2" => Severity::High,
        "3" => Severity::Medium,
        "0" | "4" | "5" => Severity::Informational,
        other => return Severity::from_word(other),
    })
}

/// Reads one event.
pub(crate) fn item(
    b: &mut Builder<'_>,
    line: Option<usize>,
    obj: &Map<String, Value>,
    raw: &str,
) -> Result<(), String> {
    let sys = system(obj).ok_or("no `EventID`")?;
    let id =
        unwrap_text(sys.get("EventID").or_else(|| sys.get("EventId"))).ok_or("no `EventID`: not a Windows event")?;
    let provider = match sys.get("Provider") {
        Some(Value::Object(p)) => p.get("@Name").or_else(|| p.get("Name")).and_then(Value::as_str).map(str::to_owned),
        other => text_of(other).or_else(|| text_of(sys.get("ProviderName"))),
    };
    if let Some(s) = unwrap_text(sys.get("Level")).and_then(|l| severity(&l)) {
        b.severity(s);
    }
    let data = event_data(obj);
    let details = text_of(obj.get("Message")).unwrap_or_else(|| {
        let parts: Vec<String> = data.iter().take(12).map(|(k, v)| format!("{k}={v}")).collect();
        parts.join(" ")
    });
    let action = action(&id, provider.as_deref());
    if b.events.is_empty() {
        b.title = Some(format!("Windows event {id}: {action}"));
    }
    let idx = b.event(Event {
        timestamp: unwrap_text(sys.get("TimeCreated")),
        host: text_of(sys.get("Computer")),
        action: Some(action),
        details,
        raw: raw.to_owned(),
        line,
    });
    b.scan_json(obj, idx);
    Ok(())
}
