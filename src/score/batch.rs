//! Scoring a whole dataset: one candidate playbook per record, a summary of every metric, and a
//! table per ATT&CK technique.
//!
//! The candidate of record `K` is `<candidates_dir>/K.json`. A missing candidate, an unreadable or
//! non-JSON one, or a key that is not a plain file name scores zero on every figure
//! ([`zero_score`]) and is listed in the summary, so a generator that fails cannot look better by
//! producing less. Mitigation recall is measured on the records that have ground-truth mitigation
//! names, and its mean and median are over those records only.

use super::dataset::DatasetRecord;
use super::metrics::{score, zero_score, Score, ScoreOptions};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// What was found for a record's candidate.
#[derive(Debug, Clone, PartialEq)]
pub enum Candidate {
    Found(Value),
    Missing,
    /// Present but unusable, with the reason.
    Unreadable(String),
}

/// The score of one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordScore {
    pub key: String,
    pub technique_id: String,
    /// `found`, `missing` or `unreadable`.
    pub candidate: &'static str,
    /// Why the candidate is unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub score: Score,
}

/// The count, mean and median of one metric over the records where it is measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricSummary {
    pub metric: &'static str,
    pub n: usize,
    /// `None` when `n` is 0.
    pub mean: Option<f64>,
    pub median: Option<f64>,
}

/// The mean figures of the records of one technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TechniqueSummary {
    pub n: usize,
    pub node_recall: f64,
    pub node_precision: f64,
    pub node_f1: f64,
    pub edge_recall: f64,
    pub edge_precision: f64,
    pub edge_f1: f64,
    /// Over the technique's records with expected mitigations; `None` if there are none.
    pub mitigation_recall: Option<f64>,
    pub exact_node_recall: f64,
    pub exact_edge_recall: f64,
}

/// The result of a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub threshold: f64,
    pub count: usize,
    /// Keys of the records without a candidate file.
    pub missing: Vec<String>,
    /// Keys of the records whose candidate could not be used, with the reason.
    pub unreadable: Vec<(String, String)>,
    /// One entry per metric, in [`METRICS`] order.
    pub metrics: Vec<MetricSummary>,
    /// Technique id (`""` when the record has none) -> mean figures.
    pub per_technique: BTreeMap<String, TechniqueSummary>,
    pub records: Vec<RecordScore>,
}

type Getter = fn(&Score) -> Option<f64>;

/// The metrics summarized, by name.
pub const METRICS: [(&str, Getter); 13] = [
    ("node_recall", |s| Some(s.node_recall)),
    ("node_precision", |s| Some(s.node_precision)),
    ("node_f1", |s| Some(s.node_f1)),
    ("edge_recall", |s| Some(s.edge_recall)),
    ("edge_precision", |s| Some(s.edge_precision)),
    ("edge_f1", |s| Some(s.edge_f1)),
    ("mitigation_recall", |s| s.mitigation_recall),
    ("exact_node_recall", |s| Some(s.exact.node_recall)),
    ("exact_node_precision", |s| Some(s.exact.node_precision)),
    ("exact_node_f1", |s| Some(s.exact.node_f1)),
    ("exact_edge_recall", |s| Some(s.exact.edge_recall)),
    ("exact_edge_precision", |s| Some(s.exact.edge_precision)),
    ("exact_edge_f1", |s| Some(s.exact.edge_f1)),
];

/// Scores each record against the candidate that `find` gives for it.
pub fn score_records(
    records: &[DatasetRecord],
    mut find: impl FnMut(&DatasetRecord) -> Candidate,
    opts: &ScoreOptions,
) -> Summary {
    let mut missing = Vec::new();
    let mut unreadable = Vec::new();
    let scored: Vec<RecordScore> = records
        .iter()
        .map(|record| {
            let names = record.expected_step_names();
            let expected = (!names.is_empty()).then_some(names.as_slice());
            let (candidate, problem, score) = match find(record) {
                Candidate::Found(doc) => ("found", None, score(&record.playbook, &doc, expected, opts)),
                Candidate::Missing => {
                    missing.push(record.key.clone());
                    ("missing", None, zero_score(&record.playbook, expected))
                }
                Candidate::Unreadable(why) => {
                    unreadable.push((record.key.clone(), why.clone()));
                    ("unreadable", Some(why), zero_score(&record.playbook, expected))
                }
            };
            RecordScore {
                key: record.key.clone(),
                technique_id: record.technique_id.clone(),
                candidate,
                problem,
                score,
            }
        })
        .collect();

    let metrics = METRICS
        .iter()
        .map(|&(metric, get)| {
            let values: Vec<f64> = scored.iter().filter_map(|r| get(&r.score)).collect();
            MetricSummary { metric, n: values.len(), mean: mean(&values), median: median(values) }
        })
        .collect();

    let mut groups: BTreeMap<String, Vec<&Score>> = BTreeMap::new();
    for r in &scored {
        groups.entry(r.technique_id.clone()).or_default().push(&r.score);
    }
    let per_technique = groups
        .into_iter()
        .map(|(technique, scores)| {
            let avg = |get: fn(&Score) -> f64| scores.iter().map(|s| get(s)).sum::<f64>() / scores.len() as f64;
            let mitigations: Vec<f64> = scores.iter().filter_map(|s| s.mitigation_recall).collect();
            let row = TechniqueSummary {
                n: scores.len(),
                node_recall: avg(|s| s.node_recall),
                node_precision: avg(|s| s.node_precision),
                node_f1: avg(|s| s.node_f1),
                edge_recall: avg(|s| s.edge_recall),
                edge_precision: avg(|s| s.edge_precision),
                edge_f1: avg(|s| s.edge_f1),
                mitigation_recall: mean(&mitigations),
                exact_node_recall: avg(|s| s.exact.node_recall),
                exact_edge_recall: avg(|s| s.exact.edge_recall),
            };
            (technique, row)
        })
        .collect();

    Summary {
        threshold: opts.threshold,
        count: scored.len(),
        missing,
        unreadable,
        metrics,
        per_technique,
        records: scored,
    }
}

/// Scores each record against `<candidates_dir>/<key>.json`.
pub fn score_dir(records: &[DatasetRecord], candidates_dir: &Path, opts: &ScoreOptions) -> Summary {
    score_records(records, |record| read_candidate(candidates_dir, &record.key), opts)
}

/// Whether `<key>.json` names a file directly in a directory (no path separator, not `.` or
/// `..`): the keys whose candidates are read, and so the ones a generator may write.
pub fn is_plain_key(key: &str) -> bool {
    !key.is_empty() && key != "." && key != ".." && !key.contains(['/', '\\', '\0'])
}

/// Reads the candidate of `key` from `dir`.
pub fn read_candidate(dir: &Path, key: &str) -> Candidate {
    if !is_plain_key(key) {
        return Candidate::Unreadable(format!("incident key {key:?} is not a plain file name"));
    }
    let path = dir.join(format!("{key}.json"));
    match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(doc) => Candidate::Found(doc),
            Err(e) => Candidate::Unreadable(format!("{}: invalid JSON: {e}", path.display())),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Candidate::Missing,
        Err(e) => Candidate::Unreadable(format!("{}: {e}", path.display())),
    }
}

pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// The middle value, or the mean of the two middle values.
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 })
}

/// A human-readable table of the summary: the metrics, the techniques, the missing candidates.
pub fn render_table(summary: &Summary) -> String {
    let pct = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} records scored at threshold {} ({} missing, {} unreadable candidates)\n",
        summary.count,
        summary.threshold,
        summary.missing.len(),
        summary.unreadable.len()
    );
    let _ = writeln!(out, "{:<22} {:>5} {:>7} {:>7}", "metric", "n", "mean", "median");
    for m in &summary.metrics {
        let _ = writeln!(out, "{:<22} {:>5} {:>7} {:>7}", m.metric, m.n, pct(m.mean), pct(m.median));
    }
    if !summary.per_technique.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<12} {:>4} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>8}",
            "technique", "n", "node R", "node P", "edge R", "edge P", "mitig R", "exact nR", "exact eR"
        );
        for (technique, t) in &summary.per_technique {
            let name = if technique.is_empty() { "(none)" } else { technique };
            let _ = writeln!(
                out,
                "{:<12} {:>4} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>7} {:>8.3} {:>8.3}",
                name,
                t.n,
                t.node_recall,
                t.node_precision,
                t.edge_recall,
                t.edge_precision,
                pct(t.mitigation_recall),
                t.exact_node_recall,
                t.exact_edge_recall
            );
        }
    }
    if !summary.missing.is_empty() {
        let _ = writeln!(out, "\nmissing candidates (scored 0): {}", summary.missing.join(", "));
    }
    for (key, why) in &summary.unreadable {
        let _ = writeln!(out, "unreadable candidate for {key} (scored 0): {why}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(key: &str, technique: &str, playbook: Value) -> DatasetRecord {
        DatasetRecord { key: key.into(), technique_id: technique.into(), playbook, ..DatasetRecord::default() }
    }

    #[test]
    fn median_and_mean() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![0.5, 0.0, 1.0]), Some(0.5));
        assert_eq!(median(vec![1.0, 0.0, 0.5, 0.25]), Some(0.375));
        assert_eq!(mean(&[1.0, 0.0, 0.5, 0.5]), Some(0.5));
    }

    #[test]
    fn summary_per_technique_with_missing_and_unreadable() {
        let pb = json!({"workflow": {"start--1": {"type": "start", "on_completion": "action--1"},
            "action--1": {"type": "action", "name": "Block IP", "on_completion": "end--1"}, "end--1": {"type": "end"}}});
        let records = [record("a", "T1", pb.clone()), record("b", "T1", pb.clone()), record("c", "T2", pb.clone())];
        let summary = score_records(
            &records,
            |r| match r.key.as_str() {
                "a" => Candidate::Found(pb.clone()),
                "b" => Candidate::Missing,
                _ => Candidate::Unreadable("broken".into()),
            },
            &ScoreOptions::default(),
        );
        assert_eq!(summary.count, 3);
        assert_eq!(summary.missing, ["b"]);
        assert_eq!(summary.unreadable, [("c".to_owned(), "broken".to_owned())]);
        let node_recall = &summary.metrics[0];
        assert_eq!((node_recall.metric, node_recall.n), ("node_recall", 3));
        assert_eq!((node_recall.mean, node_recall.median), (Some(1.0 / 3.0), Some(0.0)));
        let mitigation = &summary.metrics[6];
        assert_eq!((mitigation.n, mitigation.mean), (0, None), "no record has mitigations");
        assert_eq!(summary.per_technique["T1"].n, 2);
        assert_eq!(summary.per_technique["T1"].edge_recall, 0.5);
        assert_eq!(summary.per_technique["T2"].node_recall, 0.0);
        let table = render_table(&summary);
        assert!(table.contains("3 records scored at threshold 0.5 (1 missing, 1 unreadable candidates)"), "{table}");
        assert!(table.contains("missing candidates (scored 0): b"), "{table}");
        assert!(table.lines().any(|l| l.starts_with("T1 ") && l.contains("0.500")), "{table}");
    }

    #[test]
    fn unsafe_keys_are_not_paths() {
        let dir = Path::new(".");
        assert!(matches!(read_candidate(dir, "../etc/passwd"), Candidate::Unreadable(_)));
        assert!(matches!(read_candidate(dir, ".."), Candidate::Unreadable(_)));
        assert_eq!(read_candidate(dir, "no-such-candidate-file"), Candidate::Missing);
    }
}
