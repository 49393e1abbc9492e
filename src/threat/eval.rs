//! Measuring the detector on labelled texts: binary precision/recall/F1, threat-type accuracy,
//! per-label figures, the confusion matrix and calibration (ECE with its reliability table).

use super::calibrate::{expected_calibration_error, ReliabilityBin};
use super::detector::{Detector, Verdict};
use super::{ThreatError, ThreatExample, ThreatType, LABELS};
use serde::Serialize;
use std::collections::BTreeMap;

/// Precision, recall and F1 of one label (or of threat vs benign).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Prf {
    pub precision: f32,
    pub recall: f32,
    pub f1: f32,
    /// Cases whose true label this is.
    pub support: usize,
}

impl Prf {
    fn from_counts(tp: usize, fp: usize, fn_: usize) -> Prf {
        let precision = if tp + fp == 0 { 0.0 } else { tp as f32 / (tp + fp) as f32 };
        let recall = if tp + fn_ == 0 { 0.0 } else { tp as f32 / (tp + fn_) as f32 };
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        Prf { precision, recall, f1, support: tp + fn_ }
    }
}

/// Every figure of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreatEvalReport {
    pub cases: usize,
    /// Threat (any type) against benign.
    pub binary: Prf,
    pub binary_accuracy: f32,
    /// Share of cases whose predicted label (a threat type, or benign) is the true one.
    pub type_accuracy: f32,
    /// Among true threats detected as threats, the share given the right type.
    pub type_accuracy_on_detected: f32,
    pub macro_f1: f32,
    pub per_label: BTreeMap<ThreatType, Prf>,
    /// confusion[true][predicted], labels in [`LABELS`] order.
    pub confusion: Vec<Vec<usize>>,
    pub ece: f32,
    pub reliability: Vec<ReliabilityBin>,
}

/// Scores `verdicts` against the examples' labels.
pub fn score(examples: &[ThreatExample], verdicts: &[Verdict]) -> ThreatEvalReport {
    let n = LABELS.len();
    let mut confusion = vec![vec![0usize; n]; n];
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    let mut typed_right = 0;
    let mut detected_threats = 0;
    let mut calibration = Vec::with_capacity(verdicts.len());
    for (e, v) in examples.iter().zip(verdicts) {
        let truth = e.threat_type;
        let predicted = v.label();
        confusion[truth.index()][predicted.index()] += 1;
        match (truth.is_threat(), v.is_threat) {
            (true, true) => {
                tp += 1;
                detected_threats += 1;
                typed_right += (predicted == truth) as usize;
            }
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => tn += 1,
        }
        calibration.push((v.confidence, predicted == truth));
    }
    let cases = examples.len().min(verdicts.len());
    let right: usize = (0..n).map(|i| confusion[i][i]).sum();
    let per_label: BTreeMap<ThreatType, Prf> = LABELS
        .iter()
        .map(|l| {
            let i = l.index();
            let tp = confusion[i][i];
            let fp = (0..n).map(|t| confusion[t][i]).sum::<usize>() - tp;
            let fn_ = confusion[i].iter().sum::<usize>() - tp;
            (*l, Prf::from_counts(tp, fp, fn_))
        })
        .collect();
    let present: Vec<&Prf> = per_label.values().filter(|p| p.support > 0).collect();
    let macro_f1 = present.iter().map(|p| p.f1).sum::<f32>() / present.len().max(1) as f32;
    let (ece, reliability) = expected_calibration_error(&calibration, 10);
    ThreatEvalReport {
        cases,
        binary: Prf::from_counts(tp, fp, fn_),
        binary_accuracy: (tp + tn) as f32 / cases.max(1) as f32,
        type_accuracy: right as f32 / cases.max(1) as f32,
        type_accuracy_on_detected: typed_right as f32 / detected_threats.max(1) as f32,
        macro_f1,
        per_label,
        confusion,
        ece,
        reliability,
    }
}

/// Runs the detector over the examples and scores it; the verdicts come back in input order.
pub fn evaluate(
    detector: &Detector,
    examples: &[ThreatExample],
) -> Result<(ThreatEvalReport, Vec<Verdict>), ThreatError> {
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let mut verdicts = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(1024) {
        verdicts.extend(detector.detect_batch(chunk)?);
    }
    Ok((score(examples, &verdicts), verdicts))
}

impl ThreatEvalReport {
    /// A human-readable summary: headline figures, per-label table, confusion matrix, reliability.
    pub fn summary(&self, title: &str) -> String {
        let mut out = format!(
            "{title}: {} cases\n  binary (threat vs benign): precision {:.3}, recall {:.3}, F1 {:.3}, accuracy {:.3}\n  \
             threat type accuracy {:.3} (on detected threats {:.3}), macro-F1 {:.3}\n  \
             calibration: expected calibration error {:.3}\n",
            self.cases,
            self.binary.precision,
            self.binary.recall,
            self.binary.f1,
            self.binary_accuracy,
            self.type_accuracy,
            self.type_accuracy_on_detected,
            self.macro_f1,
            self.ece
        );
        out.push_str("\n  label                 precision  recall     F1  support\n");
        for (l, p) in &self.per_label {
            out.push_str(&format!(
                "  {:<20} {:>10.3} {:>7.3} {:>6.3} {:>8}\n",
                l.as_str(),
                p.precision,
                p.recall,
                p.f1,
                p.support
            ));
        }
        out.push_str("\n  confusion (rows = truth, columns = predicted, in label order)\n  ");
        let short: Vec<String> = LABELS.iter().map(|l| l.as_str().chars().take(5).collect()).collect();
        out.push_str(&format!("{:<8}", ""));
        for s in &short {
            out.push_str(&format!("{s:>6}"));
        }
        out.push('\n');
        for (i, row) in self.confusion.iter().enumerate() {
            out.push_str(&format!("  {:<8}", short[i]));
            for c in row {
                out.push_str(&format!("{c:>6}"));
            }
            out.push('\n');
        }
        out.push_str("\n  reliability (confidence bin: cases, mean confidence, accuracy)\n");
        for b in &self.reliability {
            out.push_str(&format!(
                "  [{:.1}, {:.1}): {:>6} {:>6.3} {:>6.3}\n",
                b.lower, b.upper, b.count, b.mean_confidence, b.accuracy
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threat::detector::tests::keyword_detector;

    fn ex(text: &str, t: ThreatType) -> ThreatExample {
        ThreatExample { text: text.into(), threat_type: t, source: String::new() }
    }

    #[test]
    fn figures_count_what_they_claim() {
        let d = keyword_detector();
        let rows = vec![
            ex("a' or 1=1 --", ThreatType::SqlInjection),
            ex("<script>x</script>", ThreatType::Xss),
            ex("../../etc/passwd", ThreatType::SqlInjection), // detected, wrong type
            ex("hello", ThreatType::Benign),
            ex("<script>", ThreatType::Benign),                  // false positive
            ex("nmap -sV 10.0.0.1", ThreatType::Reconnaissance), // missed
        ];
        let (r, verdicts) = evaluate(&d, &rows).unwrap();
        assert_eq!(verdicts.len(), 6);
        assert_eq!(r.cases, 6);
        // tp 3, fp 1, fn 1.
        assert!((r.binary.precision - 0.75).abs() < 1e-6);
        assert!((r.binary.recall - 0.75).abs() < 1e-6);
        assert!((r.type_accuracy - 3.0 / 6.0).abs() < 1e-6);
        assert!((r.type_accuracy_on_detected - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(r.confusion[ThreatType::SqlInjection.index()][ThreatType::PathTraversal.index()], 1);
        assert_eq!(r.confusion.iter().flatten().sum::<usize>(), 6);
        assert_eq!(r.per_label[&ThreatType::Reconnaissance].recall, 0.0);
        assert!(r.summary("dev").contains("threat type accuracy 0.500"));
    }
}
