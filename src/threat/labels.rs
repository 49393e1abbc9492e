//! The label set of the threat model and the labelled example every part shares.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a text is. `Benign` is first so index 0 is "no threat" in every probability vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreatType {
    Benign,
    SqlInjection,
    Xss,
    CommandInjection,
    PathTraversal,
    BruteForce,
    PrivilegeEscalation,
    Malware,
    Reconnaissance,
    Phishing,
    DataExfiltration,
}

/// Every label, in the order of probability vectors and model outputs.
pub const LABELS: [ThreatType; 11] = [
    ThreatType::Benign,
    ThreatType::SqlInjection,
    ThreatType::Xss,
    ThreatType::CommandInjection,
    ThreatType::PathTraversal,
    ThreatType::BruteForce,
    ThreatType::PrivilegeEscalation,
    ThreatType::Malware,
    ThreatType::Reconnaissance,
    ThreatType::Phishing,
    ThreatType::DataExfiltration,
];

impl ThreatType {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreatType::Benign => "benign",
            ThreatType::SqlInjection => "sql_injection",
            ThreatType::Xss => "xss",
            ThreatType::CommandInjection => "command_injection",
            ThreatType::PathTraversal => "path_traversal",
            ThreatType::BruteForce => "brute_force",
            ThreatType::PrivilegeEscalation => "privilege_escalation",
            ThreatType::Malware => "malware",
            ThreatType::Reconnaissance => "reconnaissance",
            ThreatType::Phishing => "phishing",
            ThreatType::DataExfiltration => "data_exfiltration",
        }
    }

    /// Position in [`LABELS`] (and in every probability vector).
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Option<ThreatType> {
        LABELS.get(i).copied()
    }

    pub fn is_threat(self) -> bool {
        self != ThreatType::Benign
    }
}

impl fmt::Display for ThreatType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ThreatType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        LABELS
            .iter()
            .copied()
            .find(|l| l.as_str() == wanted)
            .ok_or_else(|| format!("unknown threat type {s:?} (expected one of: {})", label_list()))
    }
}

fn label_list() -> String {
    LABELS.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ")
}

/// A text with its label, as in ../shared/threat/train.jsonl (`{"text","label","threat_type"}`,
/// where `label` is `threat`/`benign`) and in what `synth threat` writes. `source` says where it
/// came from (a file, or `synth:<generator>`), so splits and reports can group by origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreatExample {
    pub text: String,
    pub threat_type: ThreatType,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_by_name_and_index() {
        for (i, l) in LABELS.iter().enumerate() {
            assert_eq!(l.index(), i);
            assert_eq!(ThreatType::from_index(i), Some(*l));
            assert_eq!(l.as_str().parse::<ThreatType>().unwrap(), *l);
            let json = serde_json::to_string(l).unwrap();
            assert_eq!(json, format!("\"{}\"", l.as_str()));
        }
        assert_eq!("SQL-Injection".parse::<ThreatType>().unwrap(), ThreatType::SqlInjection);
        assert!("ddos".parse::<ThreatType>().unwrap_err().contains("expected one of"));
        assert_eq!(ThreatType::from_index(11), None);
    }
}
