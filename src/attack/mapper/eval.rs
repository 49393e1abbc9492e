//! Evaluating the mapper on labelled command lines (`cacao-forge eval mapper --data FILE.jsonl`).
//!
//! Rows are `{"text": "...", "technique_id": "T1059.001"}`. A prediction is a hit at rank k when
//! the parent of the labelled id is among the first k predicted parents; sub-technique and parent
//! labels count alike. Bad rows are errors with their line number, not skipped: a skipped row
//! would shift every later prediction out of line with its input.

use super::{Mapper, Scratch};
use crate::attack::parent_of;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// One labelled row.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct LabelledText {
    pub text: String,
    pub technique_id: String,
}

/// A row that is not a labelled text.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

/// Reads JSONL rows (blank lines are skipped); every bad row is reported.
pub fn read_rows(jsonl: &str) -> Result<Vec<LabelledText>, Vec<RowError>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<LabelledText>(line) {
            Ok(row) if row.technique_id.trim().starts_with('T') => rows.push(row),
            Ok(row) => errors.push(RowError {
                line: i + 1,
                message: format!("technique_id {:?} is not an ATT&CK technique id", row.technique_id),
            }),
            Err(e) => errors.push(RowError {
                line: i + 1,
                message: format!("expected {{\"text\": ..., \"technique_id\": ...}}: {e}"),
            }),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Accuracy of one technique.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TechniqueFigures {
    pub cases: usize,
    pub top1: usize,
    pub top5: usize,
}

/// How often one label was ranked first as another.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confusion {
    pub expected: String,
    pub predicted: String,
    pub count: usize,
}

/// The figures of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub cases: usize,
    pub techniques: usize,
    pub top1: f64,
    pub top5: f64,
    /// Per parent technique, by id.
    pub per_technique: BTreeMap<String, TechniqueFigures>,
    /// The most frequent top-1 mistakes, most frequent first.
    pub confusions: Vec<Confusion>,
}

impl EvalReport {
    /// Techniques with at least `min_cases` cases, worst top-1 first.
    pub fn worst(&self, min_cases: usize, n: usize) -> Vec<(&str, &TechniqueFigures)> {
        let mut v: Vec<(&str, &TechniqueFigures)> =
            self.per_technique.iter().filter(|(_, f)| f.cases >= min_cases).map(|(k, f)| (k.as_str(), f)).collect();
        v.sort_by(|a, b| {
            let ra = a.1.top1 as f64 / a.1.cases as f64;
            let rb = b.1.top1 as f64 / b.1.cases as f64;
            ra.total_cmp(&rb).then_with(|| b.1.cases.cmp(&a.1.cases)).then_with(|| a.0.cmp(b.0))
        });
        v.truncate(n);
        v
    }

    /// A few lines for people.
    pub fn summary(&self, title: &str) -> String {
        let mut s = format!(
            "{title}: {} cases over {} techniques: top-1 {:.3}, top-5 {:.3}\n",
            self.cases, self.techniques, self.top1, self.top5
        );
        if !self.confusions.is_empty() {
            s.push_str("most frequent confusions (expected -> ranked first):\n");
            for c in self.confusions.iter().take(10) {
                s.push_str(&format!("  {} -> {}: {}\n", c.expected, c.predicted, c.count));
            }
        }
        let worst = self.worst(3, 10);
        if !worst.is_empty() {
            s.push_str("weakest techniques (>= 3 cases): top-1 hits / cases\n");
            for (t, f) in worst {
                s.push_str(&format!("  {t}: {}/{} (top-5 {}/{})\n", f.top1, f.cases, f.top5, f.cases));
            }
        }
        s
    }
}

/// Ranks every row with `mapper`; returns the figures and the predicted parent ids per row, in
/// input order (each list has `mapper.config.top_k` ids, or fewer only if the model knows fewer).
pub fn evaluate(mapper: &Mapper, rows: &[LabelledText]) -> (EvalReport, Vec<Vec<String>>) {
    let mut scratch = Scratch::default();
    let predictions: Vec<Vec<String>> = rows.iter().map(|r| mapper.top_parents(&r.text, &mut scratch)).collect();
    (score(rows, &predictions), predictions)
}

/// The figures of given predictions against rows (same order).
pub fn score(rows: &[LabelledText], predictions: &[Vec<String>]) -> EvalReport {
    let mut per_technique: BTreeMap<String, TechniqueFigures> = BTreeMap::new();
    let mut confusions: HashMap<(String, String), usize> = HashMap::new();
    let (mut top1, mut top5) = (0usize, 0usize);
    for (row, predicted) in rows.iter().zip(predictions) {
        let expected = parent_of(row.technique_id.trim()).to_string();
        let rank = predicted.iter().position(|p| parent_of(p) == expected);
        let f = per_technique.entry(expected.clone()).or_default();
        f.cases += 1;
        if rank == Some(0) {
            f.top1 += 1;
            top1 += 1;
        } else if let Some(first) = predicted.first() {
            *confusions.entry((expected.clone(), parent_of(first).to_string())).or_insert(0) += 1;
        }
        if rank.is_some_and(|r| r < 5) {
            f.top5 += 1;
            top5 += 1;
        }
    }
    let mut confusions: Vec<Confusion> =
        confusions.into_iter().map(|((expected, predicted), count)| Confusion { expected, predicted, count }).collect();
    confusions.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.expected.cmp(&b.expected)));
    confusions.truncate(25);
    let n = rows.len().max(1) as f64;
    EvalReport {
        cases: rows.len(),
        techniques: per_technique.len(),
        top1: top1 as f64 / n,
        top5: top5 as f64 / n,
        per_technique,
        confusions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(text: &str, t: &str) -> LabelledText {
        LabelledText { text: text.into(), technique_id: t.into() }
    }

    #[test]
    fn parent_and_sub_technique_labels_count_alike() {
        let rows = [row("a", "T1059.001"), row("b", "T1003"), row("c", "T1033")];
        let preds = vec![
            vec!["T1059".to_string(), "T1003".into()],
            vec!["T1003.001".to_string()],
            vec!["T1082".to_string(), "T1016".into(), "T1049".into(), "T1057".into(), "T1033".into()],
        ];
        let r = score(&rows, &preds);
        assert_eq!((r.cases, r.techniques), (3, 3));
        assert!((r.top1 - 2.0 / 3.0).abs() < 1e-9);
        assert!((r.top5 - 1.0).abs() < 1e-9);
        assert_eq!(r.confusions, vec![Confusion { expected: "T1033".into(), predicted: "T1082".into(), count: 1 }]);
        assert!(r.summary("dev").contains("T1033 -> T1082: 1"));
    }

    #[test]
    fn bad_rows_are_reported_with_line_numbers() {
        let text = "{\"text\":\"whoami\",\"technique_id\":\"T1033\"}\n\nnot json\n{\"text\":\"x\",\"technique_id\":\"1033\"}\n";
        let errors = read_rows(text).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4]);
        assert!(read_rows("{\"text\":\"whoami\",\"technique_id\":\"T1033\"}").unwrap().len() == 1);
    }
}
