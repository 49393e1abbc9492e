//! The detector: members combined into one calibrated verdict per text, in batches.
//!
//! A text is cut to the input limit, normalized once, and handed to every member (normalized or
//! raw, as the member wants). Identical texts in a batch are computed once: log files repeat
//! themselves, and a cache hit is free. The verdict is the calibrated ensemble: `is_threat` when
//! the probability of any threat reaches the threshold, the most likely threat type, and the
//! confidence that this verdict is right.

use super::calibrate::{combine, Calibration};
use super::explain::{self, Evidence};
use super::normalize::normalize;
use super::{Classifier, LabelProbs, ThreatError, ThreatType, LABELS};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One model of the ensemble with its say in the vote.
#[derive(Clone)]
pub struct Member {
    pub classifier: Arc<dyn Classifier>,
    pub weight: f32,
}

/// Limits and knobs of detection.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DetectorOptions {
    /// Probability of "some threat" (1 − P(benign)) at or above which a text is a threat.
    pub threshold: f32,
    /// Longest text considered, in bytes; the rest is cut (at a character boundary) and the
    /// verdict says so. Payloads and tells sit early; this bounds the cost of a hostile input.
    pub max_input_bytes: usize,
    /// Texts handed to a member in one call.
    pub batch_size: usize,
    /// Most evidence spans an explanation lists.
    pub max_evidence: usize,
    /// Most pieces an explanation occludes one at a time (longer texts are grouped into this many).
    pub max_occlusions: usize,
    /// Threads a large batch is split across (each runs every member on its share of the
    /// texts). Parallel across texts rather than inside one tensor op, because candle's per-op
    /// threads wait at a barrier after every small op; see `encoder`'s module notes.
    pub workers: usize,
}

impl Default for DetectorOptions {
    fn default() -> Self {
        DetectorOptions {
            threshold: 0.5,
            max_input_bytes: 16 * 1024,
            batch_size: 64,
            max_evidence: 5,
            max_occlusions: 48,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_DEFAULT_WORKERS),
        }
    }
}

/// The default worker count never exceeds this, however many cores the machine has: the members
/// are small, and more threads only contend for memory bandwidth.
pub const MAX_DEFAULT_WORKERS: usize = 8;

impl DetectorOptions {
    pub fn validate(&self) -> Result<(), ThreatError> {
        if !(0.0..=1.0).contains(&self.threshold) || self.threshold.is_nan() {
            return Err(ThreatError::Invalid(format!("threshold {} is outside [0, 1]", self.threshold)));
        }
        if self.max_input_bytes == 0 || self.batch_size == 0 || self.workers == 0 {
            return Err(ThreatError::Invalid("max_input_bytes, batch_size and workers must be at least 1".into()));
        }
        Ok(())
    }
}

/// What one member said about a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberVote {
    pub id: String,
    pub threat_type: ThreatType,
    pub probability: f32,
}

/// The ensemble's distribution for one text, before it becomes a verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// Calibrated probabilities in [`LABELS`] order.
    pub probs: LabelProbs,
    pub votes: Vec<MemberVote>,
    pub truncated: bool,
}

/// The answer for one text (the seed's `predict` result, and more).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub is_threat: bool,
    /// `benign` when not a threat. When every member is binary the type is unknown and this is the
    /// most likely threat label among equals; `typed` says whether it means anything.
    pub threat_type: ThreatType,
    pub typed: bool,
    /// Calibrated probability that this verdict (threat type, or benign) is right.
    pub confidence: f32,
    /// 1 − P(benign): what the threshold is compared with.
    pub threat_probability: f32,
    /// Calibrated probability of every label.
    pub scores: BTreeMap<ThreatType, f32>,
    /// Share of the ensemble's weight whose own top label equals the verdict's label.
    pub agreement: f32,
    pub members: Vec<MemberVote>,
    /// The text was longer than the input limit and only its head was read.
    pub truncated: bool,
    /// Spans of the original text that drove the verdict (empty unless explained).
    pub evidence: Vec<Evidence>,
    /// The seed-000 style explanation (absent unless explained).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    pub model: String,
}

impl Verdict {
    /// The label the verdict stands for: the threat type, or benign.
    pub fn label(&self) -> ThreatType {
        if self.is_threat {
            self.threat_type
        } else {
            ThreatType::Benign
        }
    }
}

/// Members, their calibration, and the options: everything needed to judge texts.
pub struct Detector {
    members: Vec<Member>,
    calibration: Calibration,
    options: DetectorOptions,
    model_id: String,
}

impl Detector {
    pub fn new(
        members: Vec<Member>,
        calibration: Calibration,
        options: DetectorOptions,
        model_id: impl Into<String>,
    ) -> Result<Detector, ThreatError> {
        if members.is_empty() {
            return Err(ThreatError::Invalid("a detector needs at least one member".into()));
        }
        if members.iter().any(|m| !(m.weight.is_finite() && m.weight > 0.0)) {
            return Err(ThreatError::Invalid("member weights must be positive".into()));
        }
        options.validate()?;
        Ok(Detector { members, calibration, options, model_id: model_id.into() })
    }

    pub fn options(&self) -> &DetectorOptions {
        &self.options
    }

    pub fn set_options(&mut self, options: DetectorOptions) -> Result<(), ThreatError> {
        options.validate()?;
        self.options = options;
        Ok(())
    }

    pub fn calibration(&self) -> Calibration {
        self.calibration
    }

    pub fn set_calibration(&mut self, calibration: Calibration) {
        self.calibration = calibration;
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Keeps the first `n` members (the ensemble size); at least one stays.
    pub fn truncate_members(&mut self, n: usize) {
        self.members.truncate(n.max(1));
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    fn typed(&self) -> bool {
        self.members.iter().any(|m| !m.classifier.is_binary())
    }

    /// Each member's raw distribution for every text (uncalibrated, in member order).
    pub fn member_probabilities(&self, texts: &[&str]) -> Result<Vec<Vec<LabelProbs>>, ThreatError> {
        let cut: Vec<&str> = texts.iter().map(|t| cut_to(t, self.options.max_input_bytes)).collect();
        // Identical texts are computed once.
        let mut unique: Vec<&str> = Vec::new();
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        let slots: Vec<usize> = cut
            .iter()
            .map(|t| {
                *slot_of.entry(t).or_insert_with(|| {
                    unique.push(t);
                    unique.len() - 1
                })
            })
            .collect();
        // Each worker takes a contiguous share of the distinct texts (whole chunks of
        // `batch_size`, so a member sees the batches it would see on one thread).
        let chunk = self.options.batch_size;
        let chunks = unique.len().div_ceil(chunk);
        let workers = self.options.workers.min(chunks).max(1);
        let share = chunks.div_ceil(workers) * chunk;
        let per_text: Vec<Vec<LabelProbs>> = if workers == 1 {
            self.probabilities_of(&unique)?
        } else {
            let results: Vec<Result<Vec<Vec<LabelProbs>>, ThreatError>> = std::thread::scope(|scope| {
                let handles: Vec<_> =
                    unique.chunks(share).map(|part| scope.spawn(move || self.probabilities_of(part))).collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| Err(ThreatError::Compute("a detection worker panicked".into())))
                    })
                    .collect()
            });
            let mut all = Vec::with_capacity(unique.len());
            for r in results {
                all.extend(r?);
            }
            all
        };
        Ok(slots.iter().map(|&s| per_text[s].clone()).collect())
    }

    /// Every member's probabilities for each of `texts` (distinct, already cut), one thread.
    fn probabilities_of(&self, texts: &[&str]) -> Result<Vec<Vec<LabelProbs>>, ThreatError> {
        let normalized: Vec<String> = texts.iter().map(|t| normalize(t).text).collect();
        let mut per_text: Vec<Vec<LabelProbs>> = vec![Vec::with_capacity(self.members.len()); texts.len()];
        for member in &self.members {
            let inputs: Vec<&str> = if member.classifier.wants_normalized() {
                normalized.iter().map(String::as_str).collect()
            } else {
                texts.to_vec()
            };
            let mut row = 0;
            for chunk in inputs.chunks(self.options.batch_size) {
                let got = member.classifier.predict_batch(chunk)?;
                if got.len() != chunk.len() {
                    return Err(ThreatError::Compute(format!(
                        "member {} returned {} results for {} texts",
                        member.classifier.id(),
                        got.len(),
                        chunk.len()
                    )));
                }
                for p in got {
                    per_text[row].push(p);
                    row += 1;
                }
            }
        }
        Ok(per_text)
    }

    /// Calibrated ensemble distributions with member votes, one per text.
    pub fn score_batch(&self, texts: &[&str]) -> Result<Vec<Scored>, ThreatError> {
        let raw = self.member_probabilities(texts)?;
        Ok(texts
            .iter()
            .zip(raw)
            .map(|(text, members)| {
                let weighted: Vec<(LabelProbs, f32)> =
                    members.iter().zip(&self.members).map(|(p, m)| (*p, m.weight)).collect();
                let probs = combine(&weighted, self.calibration);
                let votes = members
                    .iter()
                    .zip(&self.members)
                    .map(|(p, m)| {
                        let top = argmax(p, m.classifier.is_binary());
                        MemberVote { id: m.classifier.id(), threat_type: LABELS[top], probability: p[top] }
                    })
                    .collect();
                Scored { probs, votes, truncated: text.len() > self.options.max_input_bytes }
            })
            .collect())
    }

    /// The verdict a distribution stands for under this detector's threshold.
    pub fn verdict(&self, scored: Scored) -> Verdict {
        let p = scored.probs;
        let threat_probability = 1.0 - p[ThreatType::Benign.index()];
        let is_threat = threat_probability >= self.options.threshold;
        let best_threat = (1..LABELS.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(1);
        let (threat_type, confidence) = if is_threat {
            (LABELS[best_threat], p[best_threat])
        } else {
            (ThreatType::Benign, p[ThreatType::Benign.index()])
        };
        let total: f32 = self.members.iter().map(|m| m.weight).sum();
        let agreeing: f32 = scored
            .votes
            .iter()
            .zip(&self.members)
            .filter(|(v, m)| {
                if m.classifier.is_binary() {
                    v.threat_type.is_threat() == is_threat
                } else {
                    v.threat_type == threat_type
                }
            })
            .map(|(_, m)| m.weight)
            .sum();
        Verdict {
            is_threat,
            threat_type,
            typed: self.typed() || !is_threat,
            confidence,
            threat_probability,
            scores: LABELS.iter().map(|l| (*l, p[l.index()])).collect(),
            agreement: agreeing / total,
            members: scored.votes,
            truncated: scored.truncated,
            evidence: Vec::new(),
            explanation: None,
            model: self.model_id.clone(),
        }
    }

    /// Verdicts for many texts (batch detection), without explanations.
    pub fn detect_batch(&self, texts: &[&str]) -> Result<Vec<Verdict>, ThreatError> {
        Ok(self.score_batch(texts)?.into_iter().map(|s| self.verdict(s)).collect())
    }

    /// The verdict for one text, without explanation.
    pub fn detect(&self, text: &str) -> Result<Verdict, ThreatError> {
        let mut v = self.detect_batch(&[text])?;
        Ok(v.remove(0))
    }

    /// The verdict for one text with its evidence (by occlusion) and the written explanation.
    pub fn detect_explained(&self, text: &str) -> Result<Verdict, ThreatError> {
        let mut verdict = self.detect(text)?;
        self.explain_into(text, &mut verdict)?;
        Ok(verdict)
    }

    /// Fills `verdict.evidence` and `verdict.explanation` for `text`.
    pub fn explain_into(&self, text: &str, verdict: &mut Verdict) -> Result<(), ThreatError> {
        let read = cut_to(text, self.options.max_input_bytes);
        verdict.evidence = explain::occlusion_evidence(self, read, verdict.label(), &self.options)?;
        verdict.explanation = Some(explain::explanation(read, verdict));
        Ok(())
    }
}

/// The top label of a member's distribution; a binary member's threat mass is spread evenly, so
/// its "top threat label" is only its threat/benign call.
fn argmax(p: &LabelProbs, binary: bool) -> usize {
    if binary {
        return if p[0] >= 0.5 { 0 } else { 1 };
    }
    (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0)
}

/// The longest prefix of `text` within `max` bytes that ends on a character boundary.
pub(crate) fn cut_to(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A transparent test member: a keyword decides the label, so tests can predict every verdict.
    pub struct KeywordMember {
        pub binary: bool,
    }

    impl Classifier for KeywordMember {
        fn id(&self) -> String {
            "test/keyword".into()
        }
        fn is_binary(&self) -> bool {
            self.binary
        }
        fn predict_batch(&self, texts: &[&str]) -> Result<Vec<LabelProbs>, ThreatError> {
            Ok(texts
                .iter()
                .map(|t| {
                    let lower = t.to_lowercase();
                    let label = if lower.contains("union select") || lower.contains("' or 1=1") {
                        ThreatType::SqlInjection
                    } else if lower.contains("<script") {
                        ThreatType::Xss
                    } else if lower.contains("../") {
                        ThreatType::PathTraversal
                    } else {
                        ThreatType::Benign
                    };
                    let mut p = [0.02f32; 11];
                    p[label.index()] = 0.8;
                    if self.binary {
                        let threat = if label.is_threat() { 0.9 } else { 0.1 };
                        p = [threat / 10.0; 11];
                        p[0] = 1.0 - threat;
                    }
                    p
                })
                .collect())
        }
    }

    pub fn keyword_detector() -> Detector {
        let member = Member { classifier: Arc::new(KeywordMember { binary: false }), weight: 1.0 };
        Detector::new(vec![member], Calibration::default(), DetectorOptions::default(), "test").unwrap()
    }

    #[test]
    fn verdicts_follow_the_threshold_and_carry_every_score() {
        let mut d = keyword_detector();
        let v = d.detect("id=1' OR 1=1 -- ").unwrap();
        assert!(v.is_threat);
        assert_eq!(v.threat_type, ThreatType::SqlInjection);
        assert_eq!(v.scores.len(), 11);
        assert!((v.scores.values().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!((v.confidence - v.scores[&ThreatType::SqlInjection]).abs() < 1e-6);
        assert_eq!(v.agreement, 1.0);
        let benign = d.detect("GET /index.html").unwrap();
        assert!(!benign.is_threat);
        assert_eq!(benign.label(), ThreatType::Benign);
        d.set_options(DetectorOptions { threshold: 0.99, ..DetectorOptions::default() }).unwrap();
        assert!(!d.detect("id=1' OR 1=1 -- ").unwrap().is_threat, "a strict threshold clears it");
        assert!(d.set_options(DetectorOptions { threshold: 1.5, ..DetectorOptions::default() }).is_err());
    }

    #[test]
    fn batches_match_single_calls_and_survive_hostile_input() {
        let d = keyword_detector();
        let texts = ["<script>alert(1)</script>", "", "GET /index.html", "<script>alert(1)</script>", "\u{0}\u{feff}"];
        let batch = d.detect_batch(&texts).unwrap();
        for (t, v) in texts.iter().zip(&batch) {
            assert_eq!(&d.detect(t).unwrap(), v);
        }
        let huge = "a".repeat(100_000) + "<script>";
        let v = d.detect(&huge).unwrap();
        assert!(v.truncated && !v.is_threat, "the tail beyond the limit is not read");
        let multibyte = "é".repeat(20_000);
        assert!(d.detect(&multibyte).unwrap().truncated);
    }

    #[test]
    fn workers_split_a_batch_without_changing_or_reordering_verdicts() {
        let texts: Vec<String> = (0..300)
            .map(|i| match i % 3 {
                0 => format!("<script>alert({i})</script>"),
                1 => format!("GET /page/{i} HTTP/1.1"),
                _ => format!("id={i}' OR 1=1 -- "),
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let member = || Member { classifier: Arc::new(KeywordMember { binary: false }), weight: 1.0 };
        let with = |workers: usize, batch_size: usize| {
            let options = DetectorOptions { workers, batch_size, ..DetectorOptions::default() };
            Detector::new(vec![member()], Calibration::default(), options, "t").unwrap().detect_batch(&refs).unwrap()
        };
        let one = with(1, 64);
        for (workers, batch) in [(2, 64), (3, 7), (8, 1), (64, 16)] {
            assert_eq!(with(workers, batch), one, "{workers} workers, batches of {batch}");
        }
        assert!(one[0].is_threat && !one[1].is_threat && one[2].threat_type == ThreatType::SqlInjection);
        let zero = DetectorOptions { workers: 0, ..DetectorOptions::default() };
        assert!(Detector::new(vec![member()], Calibration::default(), zero, "t").is_err());
    }

    #[test]
    fn binary_members_vote_on_threat_only() {
        let typed = Member { classifier: Arc::new(KeywordMember { binary: false }), weight: 1.0 };
        let binary = Member { classifier: Arc::new(KeywordMember { binary: true }), weight: 1.0 };
        let d = Detector::new(vec![typed, binary.clone()], Calibration::default(), DetectorOptions::default(), "t")
            .unwrap();
        let v = d.detect("../../etc/passwd").unwrap();
        assert_eq!(v.threat_type, ThreatType::PathTraversal);
        assert!(v.typed);
        assert_eq!(v.agreement, 1.0);
        let only_binary = Detector::new(vec![binary], Calibration::default(), DetectorOptions::default(), "t").unwrap();
        let v = only_binary.detect("../../etc/passwd").unwrap();
        assert!(v.is_threat && !v.typed);
        assert!(Detector::new(vec![], Calibration::default(), DetectorOptions::default(), "t").is_err());
    }
}
