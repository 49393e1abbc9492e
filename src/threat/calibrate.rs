//! Combining member probabilities and calibrating the result.
//!
//! Members are combined by a weighted geometric mean (an average of log-probabilities): a label
//! every member finds likely stays likely, and one member's confident outlier is tempered by the
//! others. The combined log-probabilities are then divided by a temperature fitted on the dev set
//! (temperature scaling), which keeps the ranking and makes the confidences honest: of the verdicts
//! given confidence 0.9, about 90% should be right. The expected calibration error (ECE) measures
//! how far that holds.

use super::{LabelProbs, LABELS};
use serde::{Deserialize, Serialize};

/// Floor under member probabilities before taking logs, so one member's hard zero cannot veto a
/// label every other member supports.
const PROB_FLOOR: f32 = 1e-6;

/// How member outputs become one calibrated distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Divides the combined log-probabilities; > 1 softens over-confident ensembles.
    pub temperature: f32,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration { temperature: 1.0 }
    }
}

/// Weighted geometric mean of member distributions, divided by the temperature, renormalized.
/// `members` pairs each distribution with its weight; weights need not sum to 1.
pub fn combine(members: &[(LabelProbs, f32)], calibration: Calibration) -> LabelProbs {
    let total: f32 = members.iter().map(|m| m.1.max(0.0)).sum();
    let mut logits = [0.0f32; LABELS.len()];
    if total <= 0.0 {
        return [1.0 / LABELS.len() as f32; LABELS.len()];
    }
    for (probs, weight) in members {
        let w = weight.max(0.0) / total;
        for (l, p) in logits.iter_mut().zip(probs) {
            *l += w * p.max(PROB_FLOOR).ln();
        }
    }
    let t = if calibration.temperature.is_finite() && calibration.temperature > 0.0 {
        calibration.temperature
    } else {
        1.0
    };
    softmax(&logits.map(|l| l / t))
}

fn softmax(logits: &LabelProbs) -> LabelProbs {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut out = logits.map(|l| (l - max).exp());
    let sum: f32 = out.iter().sum();
    out.iter_mut().for_each(|p| *p /= sum);
    out
}

/// The temperature that minimizes the negative log-likelihood of `gold` labels under the combined
/// member outputs. A one-dimensional convex-ish problem: golden-section search over log T in
/// [1/8, 8] is exact enough and needs no gradients.
pub fn fit_temperature(members_per_case: &[Vec<(LabelProbs, f32)>], gold: &[usize]) -> Calibration {
    let nll = |t: f32| -> f64 {
        members_per_case
            .iter()
            .zip(gold)
            .map(|(m, &g)| -(combine(m, Calibration { temperature: t })[g].max(1e-12) as f64).ln())
            .sum()
    };
    if gold.is_empty() {
        return Calibration::default();
    }
    let (mut lo, mut hi) = ((1.0f32 / 8.0).ln(), 8.0f32.ln());
    let phi = 0.618_034f32;
    let (mut a, mut b) = (hi - phi * (hi - lo), lo + phi * (hi - lo));
    let (mut fa, mut fb) = (nll(a.exp()), nll(b.exp()));
    for _ in 0..40 {
        if fa < fb {
            hi = b;
            b = a;
            fb = fa;
            a = hi - phi * (hi - lo);
            fa = nll(a.exp());
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + phi * (hi - lo);
            fb = nll(b.exp());
        }
    }
    Calibration { temperature: ((lo + hi) / 2.0).exp() }
}

/// One bin of a reliability table: verdicts whose confidence fell in `[lower, upper)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityBin {
    pub lower: f32,
    pub upper: f32,
    pub count: usize,
    pub mean_confidence: f32,
    pub accuracy: f32,
}

/// Expected calibration error over `bins` equal-width bins, and the bins themselves.
/// `cases` pairs each verdict's confidence with whether the verdict was right.
pub fn expected_calibration_error(cases: &[(f32, bool)], bins: usize) -> (f32, Vec<ReliabilityBin>) {
    let bins = bins.max(1);
    let mut sums = vec![(0usize, 0.0f64, 0usize); bins];
    for &(confidence, right) in cases {
        let c = if confidence.is_finite() { confidence.clamp(0.0, 1.0) } else { 0.0 };
        let i = ((c * bins as f32) as usize).min(bins - 1);
        sums[i].0 += 1;
        sums[i].1 += c as f64;
        sums[i].2 += right as usize;
    }
    let n = cases.len().max(1) as f64;
    let mut ece = 0.0f64;
    let mut table = Vec::new();
    for (i, (count, conf, right)) in sums.into_iter().enumerate() {
        if count == 0 {
            continue;
        }
        let mean_confidence = conf / count as f64;
        let accuracy = right as f64 / count as f64;
        ece += (count as f64 / n) * (mean_confidence - accuracy).abs();
        table.push(ReliabilityBin {
            lower: i as f32 / bins as f32,
            upper: (i + 1) as f32 / bins as f32,
            count,
            mean_confidence: mean_confidence as f32,
            accuracy: accuracy as f32,
        });
    }
    (ece as f32, table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probs(top: usize, p: f32) -> LabelProbs {
        let mut out = [(1.0 - p) / (LABELS.len() - 1) as f32; LABELS.len()];
        out[top] = p;
        out
    }

    #[test]
    fn combining_keeps_a_distribution_and_tempers_disagreement() {
        let a = probs(1, 0.9);
        let b = probs(2, 0.9);
        let both = combine(&[(a, 1.0), (b, 1.0)], Calibration::default());
        assert!((both.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!((both[1] - both[2]).abs() < 1e-5, "equal weights, symmetric outcome");
        assert!(both[1] < 0.9);
        let weighted = combine(&[(a, 3.0), (b, 1.0)], Calibration::default());
        assert!(weighted[1] > weighted[2]);
        // A hard zero from one member does not veto.
        let mut zero = a;
        zero[1] = 0.0;
        let c = combine(&[(a, 1.0), (a, 1.0), (zero, 1.0)], Calibration::default());
        assert!(c[1] > 0.0);
        // Higher temperature softens.
        let soft = combine(&[(a, 1.0)], Calibration { temperature: 3.0 });
        assert!(soft[1] < a[1] && soft[1] > 1.0 / 11.0);
    }

    #[test]
    fn fitted_temperature_softens_an_overconfident_member() {
        // A member that says 0.99 but is right only 70% of the time.
        let mut cases = Vec::new();
        let mut gold = Vec::new();
        for i in 0..100 {
            cases.push(vec![(probs(1, 0.99), 1.0)]);
            gold.push(if i % 10 < 7 { 1 } else { 2 });
        }
        let cal = fit_temperature(&cases, &gold);
        assert!(cal.temperature > 1.5, "{cal:?}");
        let p = combine(&cases[0], cal)[1];
        assert!((p - 0.7).abs() < 0.05, "calibrated confidence {p}");
    }

    #[test]
    fn ece_is_zero_when_confidence_matches_accuracy() {
        let cases: Vec<(f32, bool)> = (0..100).map(|i| (0.8, i % 5 != 0)).collect();
        let (ece, bins) = expected_calibration_error(&cases, 10);
        assert!(ece < 1e-6, "{ece}");
        assert_eq!(bins.len(), 1);
        let over: Vec<(f32, bool)> = (0..100).map(|i| (0.95, i % 2 == 0)).collect();
        let (ece, _) = expected_calibration_error(&over, 10);
        assert!((ece - 0.45).abs() < 1e-4, "{ece}");
        assert_eq!(expected_calibration_error(&[], 10).0, 0.0);
    }
}
