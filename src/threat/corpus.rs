//! Labelled texts in and out: the JSONL format of ../shared/threat/train.jsonl and of
//! `synth threat` (`{"text", "label": "threat"|"benign", "threat_type", "source"?}`).

use super::{ThreatError, ThreatExample, ThreatType};
use std::path::Path;

#[derive(serde::Deserialize)]
struct Row {
    text: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    threat_type: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

/// Reads labelled examples from a JSONL file. A row needs `text` and either `threat_type` or a
/// `label` of `benign`; `label: threat` with `threat_type: benign` is a contradiction and an
/// error. Every bad row is an error naming its line.
pub fn read_examples(path: &Path) -> Result<Vec<ThreatExample>, ThreatError> {
    let data =
        std::fs::read_to_string(path).map_err(|source| ThreatError::Io { path: path.display().to_string(), source })?;
    parse_examples(&data, &path.display().to_string())
}

/// [`read_examples`] over text already in memory; `origin` names it in errors.
pub fn parse_examples(data: &str, origin: &str) -> Result<Vec<ThreatExample>, ThreatError> {
    let mut out = Vec::new();
    for (i, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| ThreatError::Data { path: origin.to_string(), line: i + 1, message };
        let row: Row = serde_json::from_str(line).map_err(|e| bad(format!("not a JSON example: {e}")))?;
        let threat_type = match (row.label.as_deref(), row.threat_type.as_deref()) {
            (_, Some(t)) => t.parse::<ThreatType>().map_err(bad)?,
            (Some(l), None) if l.eq_ignore_ascii_case("benign") => ThreatType::Benign,
            (Some(l), None) => return Err(bad(format!("label {l:?} without a threat_type"))),
            (None, None) => return Err(bad("needs threat_type or label".into())),
        };
        if let Some(l) = row.label.as_deref() {
            let says_threat = match l.to_ascii_lowercase().as_str() {
                "threat" | "malicious" | "1" => true,
                "benign" | "normal" | "0" => false,
                other => return Err(bad(format!("label {other:?} is neither threat nor benign"))),
            };
            if says_threat != threat_type.is_threat() {
                return Err(bad(format!("label {l:?} contradicts threat_type {threat_type}")));
            }
        }
        out.push(ThreatExample { text: row.text, threat_type, source: row.source.unwrap_or_default() });
    }
    Ok(out)
}

/// One example as a JSONL row in the shared format.
pub fn example_row(e: &ThreatExample) -> serde_json::Value {
    let label = if e.threat_type.is_threat() { "threat" } else { "benign" };
    let mut row = serde_json::json!({"text": e.text, "label": label, "threat_type": e.threat_type});
    if !e.source.is_empty() {
        row["source"] = serde_json::Value::String(e.source.clone());
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shared_format_and_names_bad_lines() {
        let data = r#"{"text":"a' or 1=1--","label":"threat","threat_type":"sql_injection","source":"x"}

{"text":"hello","label":"benign"}
"#;
        let rows = parse_examples(data, "mem").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].threat_type, ThreatType::SqlInjection);
        assert_eq!(rows[1].threat_type, ThreatType::Benign);
        let back = parse_examples(&example_row(&rows[0]).to_string(), "mem").unwrap();
        assert_eq!(back[0], rows[0]);

        let err = parse_examples("{\"text\":\"x\",\"label\":\"threat\",\"threat_type\":\"benign\"}", "f.jsonl");
        assert!(err.unwrap_err().to_string().starts_with("f.jsonl:1: label"));
        let err = parse_examples("{}\n", "f.jsonl").unwrap_err().to_string();
        assert!(err.starts_with("f.jsonl:1:"), "{err}");
        let err = parse_examples("{\"text\":\"x\",\"threat_type\":\"ddos\"}", "f").unwrap_err().to_string();
        assert!(err.contains("unknown threat type"), "{err}");
    }

    #[test]
    fn the_shared_training_file_reads_without_error() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/threat/train.jsonl");
        if !path.exists() {
            panic!("missing {}: the shared data must sit beside the repository", path.display());
        }
        let rows = read_examples(&path).unwrap();
        assert!(rows.len() > 6000);
    }
}
