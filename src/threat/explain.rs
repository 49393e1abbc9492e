//! Why a verdict was given: evidence by occlusion, and the written explanation.
//!
//! Occlusion asks the whole ensemble (normalization included) the same question with one piece of
//! the text removed; the pieces whose removal lowers the verdict's probability most are the
//! evidence. It needs no gradients, works for every member alike (a foreign checkpoint too), and
//! measures what the ensemble actually used rather than what a keyword list expects. All occluded
//! variants go to the members in one batch.
//!
//! The explanation follows the seed-000 format (`SECURITY THREAT DETECTED: SQL_INJECTION` /
//! `Confidence: high (0.92)` / `Analysis: ...`) and is built from that evidence, the decodings
//! normalization applied and the members' votes; the only fixed text is what each label means.

use super::detector::{Detector, DetectorOptions, Verdict};
use super::normalize::normalize;
use super::{ThreatError, ThreatType};
use serde::Serialize;

/// A span of the original text that drove the verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Byte offsets into the text as given.
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// How much the verdict's log-odds fall when this span is removed. Log-odds rather than
    /// probability: a saturated verdict (0.9999) still shows which pieces carry it.
    pub weight: f32,
}

/// Pieces the text is cut into for occlusion: runs of word characters, and runs of other
/// non-space characters (quotes, operators, tags) as pieces of their own.
fn pieces(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<(usize, bool)> = None;
    for (i, c) in text.char_indices() {
        let class = if c.is_whitespace() { None } else { Some(c.is_alphanumeric() || c == '_') };
        match (start, class) {
            (Some((_, w)), Some(k)) if w == k => {}
            (Some((s, _)), _) => {
                out.push((s, i));
                start = class.map(|k| (i, k));
            }
            (None, Some(k)) => start = Some((i, k)),
            (None, None) => {}
        }
    }
    if let Some((s, _)) = start {
        out.push((s, text.len()));
    }
    out
}

/// Groups adjacent pieces so there are at most `max` of them.
fn grouped(pieces: Vec<(usize, usize)>, max: usize) -> Vec<(usize, usize)> {
    let max = max.max(1);
    if pieces.len() <= max {
        return pieces;
    }
    let per = pieces.len().div_ceil(max);
    pieces.chunks(per).map(|c| (c[0].0, c[c.len() - 1].1)).collect()
}

/// The spans whose removal lowers the probability of `label` most, strongest first, adjacent
/// spans merged. Only spans that lower its log-odds by at least 0.05 count.
pub fn occlusion_evidence(
    detector: &Detector,
    text: &str,
    label: ThreatType,
    options: &DetectorOptions,
) -> Result<Vec<Evidence>, ThreatError> {
    let spans = grouped(pieces(text), options.max_occlusions);
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let mut variants: Vec<String> = vec![text.to_string()];
    for &(s, e) in &spans {
        variants.push(format!("{}{}", &text[..s], &text[e..]));
    }
    let refs: Vec<&str> = variants.iter().map(String::as_str).collect();
    let scored = detector.score_batch(&refs)?;
    let prob = |i: usize| {
        let p = scored[i].probs[label.index()].clamp(1e-7, 1.0 - 1e-7);
        (p / (1.0 - p)).ln()
    };
    let base = prob(0);
    let mut drops: Vec<(usize, f32)> = (0..spans.len()).map(|i| (i, base - prob(i + 1))).collect();
    drops.retain(|d| d.1 >= 0.05);
    drops.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    drops.truncate(options.max_evidence.max(1) * 2);
    // Merge chosen spans that touch (only whitespace between), keeping the larger weight.
    drops.sort_by_key(|d| d.0);
    let mut merged: Vec<Evidence> = Vec::new();
    let mut last_index: Option<usize> = None;
    for (i, w) in drops {
        let (s, e) = spans[i];
        match (merged.last_mut(), last_index) {
            (Some(m), Some(j)) if j + 1 == i => {
                m.end = e;
                m.weight = m.weight.max(w);
            }
            _ => merged.push(Evidence { start: s, end: e, text: String::new(), weight: w }),
        }
        last_index = Some(i);
    }
    for m in &mut merged {
        m.text = text[m.start..m.end].to_string();
    }
    merged.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.start.cmp(&b.start)));
    merged.truncate(options.max_evidence.max(1));
    Ok(merged)
}

/// What each label means, in a sentence: the only fixed text of an explanation.
fn meaning(label: ThreatType) -> &'static str {
    match label {
        ThreatType::Benign => "nothing in it reads as an attack",
        ThreatType::SqlInjection => "it carries SQL meant to change the query an application runs",
        ThreatType::Xss => "it carries markup or script meant to run in another user's browser",
        ThreatType::CommandInjection => "it chains operating-system commands onto an application's input",
        ThreatType::PathTraversal => "it climbs out of the intended directory to reach other files",
        ThreatType::BruteForce => "it records repeated or failed authentication typical of password guessing",
        ThreatType::PrivilegeEscalation => "it gains rights beyond those of the account that runs it",
        ThreatType::Malware => "it fetches, runs, hides or persists hostile code, or reports such code",
        ThreatType::Reconnaissance => "it maps hosts, services, accounts or the network ahead of an attack",
        ThreatType::Phishing => "it lures a reader into giving credentials or opening something hostile",
        ThreatType::DataExfiltration => "it moves data out of the organisation",
    }
}

/// The confidence band the seed's explanations name.
pub fn confidence_band(confidence: f32) -> &'static str {
    if confidence >= 0.85 {
        "high"
    } else if confidence >= 0.6 {
        "medium"
    } else {
        "low"
    }
}

/// The seed-000 style explanation of `verdict` for `text`, from its evidence, the decodings and
/// the members' votes.
pub fn explanation(text: &str, verdict: &Verdict) -> String {
    let mut out = String::new();
    let label = verdict.label();
    if verdict.is_threat {
        let name = if verdict.typed { label.as_str().to_uppercase() } else { "UNCLASSIFIED".to_string() };
        out.push_str(&format!("SECURITY THREAT DETECTED: {name}\n"));
    } else {
        out.push_str("NO THREAT DETECTED\n");
    }
    out.push_str(&format!(
        "Confidence: {} ({:.2})\n\nAnalysis: ",
        confidence_band(verdict.confidence),
        verdict.confidence
    ));
    let mut analysis = Vec::new();
    if verdict.evidence.is_empty() {
        analysis.push(format!(
            "No single part of the text decides the verdict; the text as a whole reads as {} ({}).",
            label,
            meaning(label)
        ));
    } else {
        let quoted: Vec<String> = verdict
            .evidence
            .iter()
            .map(|e| {
                format!(
                    "`{}` (bytes {}..{}, log-odds −{:.2} when removed)",
                    shorten(&e.text, 60),
                    e.start,
                    e.end,
                    e.weight
                )
            })
            .collect();
        analysis.push(format!(
            "The verdict rests on {}. Together they read as {}: {}.",
            quoted.join(", "),
            label,
            meaning(label)
        ));
    }
    let decoded = normalize(text);
    if decoded.text.trim() != text.trim().to_lowercase() {
        analysis.push(format!("Decoded before reading: `{}`.", shorten(&decoded.text, 160)));
    }
    if verdict.is_threat && verdict.threat_probability < 0.75 {
        analysis.push(format!("The threat probability ({:.2}) is close to the threshold.", verdict.threat_probability));
    }
    if verdict.members.len() > 1 {
        let dissent: Vec<String> = verdict
            .members
            .iter()
            .filter(|m| m.threat_type != label)
            .map(|m| format!("{} says {} ({:.2})", m.id, m.threat_type, m.probability))
            .collect();
        if dissent.is_empty() {
            analysis.push(format!("All {} ensemble members agree.", verdict.members.len()));
        } else {
            analysis.push(format!("Members disagree: {} (agreement {:.2}).", dissent.join("; "), verdict.agreement));
        }
    }
    if verdict.truncated {
        analysis.push("Only the head of the text was read (input limit).".into());
    }
    out.push_str(&analysis.join(" "));
    out
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threat::detector::tests::keyword_detector;

    #[test]
    fn pieces_cover_words_and_punctuation_runs() {
        let t = "id=1' OR 1=1--";
        let p: Vec<&str> = pieces(t).iter().map(|&(s, e)| &t[s..e]).collect();
        assert_eq!(p, ["id", "=", "1", "'", "OR", "1", "=", "1", "--"]);
        assert!(pieces("").is_empty());
        assert!(pieces("   ").is_empty());
        let g = grouped(pieces("a b c d e f g"), 3);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].0, 0);
        assert_eq!(g[2].1, 13);
    }

    #[test]
    fn evidence_points_at_what_drove_the_verdict() {
        let d = keyword_detector();
        let text = "GET /search?q=<script>alert(1)</script> HTTP/1.1";
        let v = d.detect_explained(text).unwrap();
        assert_eq!(v.threat_type, ThreatType::Xss);
        assert!(!v.evidence.is_empty());
        let top = &v.evidence[0];
        assert_eq!(&text[top.start..top.end], top.text);
        assert!(top.text.contains("script") || top.text.contains('<'), "{:?}", v.evidence);
        let e = v.explanation.unwrap();
        assert!(e.starts_with("SECURITY THREAT DETECTED: XSS\nConfidence: "), "{e}");
        assert!(e.contains("Analysis: The verdict rests on `"), "{e}");
    }

    #[test]
    fn benign_and_empty_texts_explain_without_panicking() {
        let d = keyword_detector();
        for t in ["", "   ", "GET /index.html HTTP/1.1", "ünïcödé ✓"] {
            let v = d.detect_explained(t).unwrap();
            assert!(v.explanation.unwrap().starts_with("NO THREAT DETECTED"));
        }
    }
}
