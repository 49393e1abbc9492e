//! Adversarial detection: does the verdict survive the rewrites an attacker uses to slip past a
//! detector? The text is perturbed in ways that keep its meaning for its target (a database, a
//! browser, a shell) — case, whitespace, comments, encodings, concatenation, benign padding — and
//! every variant is judged in one batch. A verdict that flips under such rewrites is fragile: the
//! input sits on a decision boundary, which is where crafted evasions live.

use super::detector::Detector;
use super::normalize::normalize;
use super::{ThreatError, ThreatType};
use serde::Serialize;

/// One meaning-preserving rewrite and what the detector made of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerturbedVerdict {
    pub perturbation: &'static str,
    pub text: String,
    pub label: ThreatType,
    pub confidence: f32,
    pub flipped: bool,
}

/// The result of an adversarial check (the seed's `adversarial_detection`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdversarialReport {
    pub label: ThreatType,
    pub confidence: f32,
    /// Share of perturbed variants whose verdict equals the original's.
    pub verdict_consistency: f32,
    /// Consistency fell below the configured minimum.
    pub possible_adversarial: bool,
    /// The input itself was encoded or obfuscated (normalization decoded something).
    pub obfuscated_input: bool,
    pub variants: Vec<PerturbedVerdict>,
}

/// A meaning-preserving rewrite of a text.
pub type Rewrite = fn(&str) -> String;

/// The rewrites, each a function of the text. All keep the text's meaning for the systems that
/// would consume it, so a robust verdict should not change.
pub const PERTURBATIONS: &[(&str, Rewrite)] = &[
    ("alternating case", alternating_case),
    ("upper case", |t| t.to_uppercase()),
    ("doubled whitespace", |t| t.replace(' ', "  ")),
    ("tabs for spaces", |t| t.replace(' ', "\t")),
    ("inline comments", |t| t.replace(' ', "/**/")),
    ("url encoding", url_encode),
    ("html entities", html_entities),
    ("zero-width characters", zero_width),
    ("string concatenation", concatenation),
    ("benign prefix", |t| format!("request from monitoring, see ticket 4711: {t}")),
    ("benign suffix", |t| format!("{t} -- forwarded by the reporting job")),
];

fn alternating_case(t: &str) -> String {
    let mut upper = false;
    t.chars()
        .map(|c| {
            if c.is_alphabetic() {
                upper = !upper;
                if upper {
                    return c.to_uppercase().next().unwrap_or(c);
                }
            }
            c
        })
        .collect()
}

fn url_encode(t: &str) -> String {
    let mut out = String::with_capacity(t.len() * 2);
    for b in t.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn html_entities(t: &str) -> String {
    let mut out = String::with_capacity(t.len() * 2);
    for c in t.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '(' => out.push_str("&#40;"),
            ')' => out.push_str("&#41;"),
            c => out.push(c),
        }
    }
    out
}

fn zero_width(t: &str) -> String {
    let mut out = String::with_capacity(t.len() * 2);
    for (i, c) in t.chars().enumerate() {
        out.push(c);
        if i % 3 == 2 && c.is_alphanumeric() {
            out.push('\u{200b}');
        }
    }
    out
}

/// Splits the longest word with an empty quoted string, which a shell, SQL engine or script
/// joins back (`who''ami`, `sel''ect`).
fn concatenation(t: &str) -> String {
    let longest = t.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 4).max_by_key(|w| w.len());
    match longest {
        Some(word) => {
            let start = word.as_ptr() as usize - t.as_ptr() as usize;
            let mid = start + word.char_indices().nth(word.chars().count() / 2).map(|(i, _)| i).unwrap_or(0);
            format!("{}''{}", &t[..mid], &t[mid..])
        }
        None => t.to_string(),
    }
}

/// Judges `text` and every perturbation of it; `min_consistency` is the share of variants that
/// must keep the verdict for the input not to be flagged.
pub fn adversarial_check(
    detector: &Detector,
    text: &str,
    min_consistency: f32,
) -> Result<AdversarialReport, ThreatError> {
    let mut texts = vec![text.to_string()];
    texts.extend(PERTURBATIONS.iter().map(|(_, f)| f(text)));
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let verdicts = detector.detect_batch(&refs)?;
    let original = &verdicts[0];
    let label = original.label();
    let variants: Vec<PerturbedVerdict> = PERTURBATIONS
        .iter()
        .zip(texts.iter().skip(1))
        .zip(verdicts.iter().skip(1))
        .map(|(((name, _), t), v)| PerturbedVerdict {
            perturbation: name,
            text: t.clone(),
            label: v.label(),
            confidence: v.confidence,
            flipped: v.label() != label,
        })
        .collect();
    let kept = variants.iter().filter(|v| !v.flipped).count();
    let verdict_consistency = kept as f32 / variants.len().max(1) as f32;
    let folded = text.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    let normalized = normalize(text).text;
    let normalized = normalized.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(AdversarialReport {
        label,
        confidence: original.confidence,
        verdict_consistency,
        possible_adversarial: verdict_consistency < min_consistency,
        obfuscated_input: normalized != folded,
        variants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threat::detector::tests::keyword_detector;

    #[test]
    fn perturbations_keep_the_text_recognizable() {
        assert_eq!(alternating_case("union select"), "UnIoN sElEcT");
        assert_eq!(url_encode("a b<"), "a%20b%3C");
        assert_eq!(html_entities("<a>"), "&lt;a&gt;");
        assert_eq!(concatenation("run whoami now"), "run who''ami now");
        assert_eq!(concatenation("a b"), "a b");
        assert_eq!(zero_width("abcdef").chars().filter(|c| *c == '\u{200b}').count(), 2);
        for (_, f) in PERTURBATIONS {
            let _ = f("");
            let _ = f("ünï ✓ 'x'");
        }
    }

    #[test]
    fn fragile_verdicts_are_flagged() {
        // The keyword member matches literal text, so SQL comments in place of spaces flip it:
        // exactly the fragility the check exists to show.
        let d = keyword_detector();
        let r = adversarial_check(&d, "q=' or 1=1 --", 0.8).unwrap();
        assert_eq!(r.label, ThreatType::SqlInjection);
        assert_eq!(r.variants.len(), PERTURBATIONS.len());
        assert!(r.variants.iter().any(|v| v.flipped));
        assert!(r.verdict_consistency < 1.0);
        let benign = adversarial_check(&d, "GET /index.html", 0.8).unwrap();
        assert_eq!(benign.verdict_consistency, 1.0);
        assert!(!benign.possible_adversarial);
    }
}
