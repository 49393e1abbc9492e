//! Hand-written command-line indicator rules: regular expressions that map a process command line
//! to ATT&CK techniques, each hit carrying a weight, a reason and the matched span as evidence.
//!
//! The rules live in `mitre/indicators/*.json` (see the README there) and are embedded in the
//! binary. They are one high-precision component of technique mapping; a learned model ranks on
//! top of them and is partly trained from the examples the rules carry.
//!
//! Matching is two-pass: [`RegexSet`]s over all patterns tell which patterns hit, then only the
//! individual [`Regex`]es of those patterns run again to find the evidence spans. The patterns are
//! split into sets of [`SET_CHUNK`]: one set over all ~900 patterns has a lazy DFA whose cache
//! thrashes (several times slower than running each pattern alone); small sets stay fast.
//!
//! Ranking ([`IndicatorSet::rank`]) combines the weights of all hits of a technique with a
//! noisy-or, `1 - prod(1 - w)`, so two independent pieces of evidence count more than one but the
//! score never exceeds 1. A hit on a sub-technique (`T1003.001`) also credits its parent
//! (`T1003`) as a separate entry, with the best score among its hit sub-techniques, but only when
//! the parent has no hit of its own; a parent with its own hits keeps its own score. Consumers that
//! rank at parent level can therefore take the first entry per parent without losing evidence, and
//! consumers at sub-technique level see the specific id first (ties sort sub-technique first).

use regex::{Regex, RegexSet, RegexSetBuilder};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Patterns per [`RegexSet`] of the first matching pass.
pub const SET_CHUNK: usize = 32;

/// The embedded rule files: (file name, JSON text), in a stable order.
pub const FILES: &[(&str, &str)] = &[
    ("collection.json", include_str!("../../mitre/indicators/collection.json")),
    ("command-and-control.json", include_str!("../../mitre/indicators/command-and-control.json")),
    ("credential-access.json", include_str!("../../mitre/indicators/credential-access.json")),
    ("defense-evasion.json", include_str!("../../mitre/indicators/defense-evasion.json")),
    ("discovery.json", include_str!("../../mitre/indicators/discovery.json")),
    ("execution.json", include_str!("../../mitre/indicators/execution.json")),
    ("exfiltration.json", include_str!("../../mitre/indicators/exfiltration.json")),
    ("impact.json", include_str!("../../mitre/indicators/impact.json")),
    ("initial-access.json", include_str!("../../mitre/indicators/initial-access.json")),
    ("lateral-movement.json", include_str!("../../mitre/indicators/lateral-movement.json")),
    ("lolbins.json", include_str!("../../mitre/indicators/lolbins.json")),
    ("persistence.json", include_str!("../../mitre/indicators/persistence.json")),
    ("privilege-escalation.json", include_str!("../../mitre/indicators/privilege-escalation.json")),
];

/// What can be wrong with a rule file. Every variant names the file (and technique) it is about.
#[derive(Debug, thiserror::Error)]
pub enum IndicatorError {
    #[error("mitre/indicators/{file}: invalid JSON: {source}")]
    Json { file: String, source: serde_json::Error },
    #[error("mitre/indicators/{file}: {technique}: {message}")]
    Rule { file: String, technique: String, message: String },
    #[error("mitre/indicators/{file}: {technique}: pattern {index} does not compile: {source}")]
    Regex { file: String, technique: String, index: usize, source: Box<regex::Error> },
    #[error("building the combined pattern set: {0}")]
    Set(Box<regex::Error>),
}

/// One pattern as written in a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternSpec {
    re: String,
    weight: f32,
    why: String,
}

/// One rule as written in a rule file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    technique: String,
    name: String,
    patterns: Vec<PatternSpec>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    negatives: Vec<String>,
}

/// A compiled pattern of a rule.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The source text of the regular expression.
    pub re: String,
    /// How sure the pattern alone is, in (0, 1].
    pub weight: f32,
    /// Short human reason, shown as evidence.
    pub why: String,
    regex: Regex,
}

impl Pattern {
    /// The compiled expression.
    pub fn regex(&self) -> &Regex {
        &self.regex
    }
}

/// A compiled rule: the technique, its patterns, and the examples/negatives it was written with.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The rule file it came from (e.g. `discovery.json`).
    pub file: String,
    /// ATT&CK id, `Tnnnn` or `Tnnnn.nnn`.
    pub technique: String,
    /// ATT&CK name of the technique.
    pub name: String,
    pub patterns: Vec<Pattern>,
    /// Command lines that must match at least one pattern of this rule.
    pub examples: Vec<String>,
    /// Benign look-alikes that must match no pattern of this rule.
    pub negatives: Vec<String>,
}

impl Rule {
    /// Whether any pattern of this rule matches `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.patterns.iter().any(|p| p.regex.is_match(text))
    }

    /// The parent technique id (`T1003` for `T1003.001`, itself for a parent).
    pub fn parent(&self) -> &str {
        parent_of(&self.technique)
    }
}

/// One pattern hit: the technique, the pattern's weight and reason, and the byte span matched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorHit<'a> {
    pub technique: &'a str,
    pub weight: f32,
    pub why: &'a str,
    pub span: (usize, usize),
}

/// All rules, compiled once.
#[derive(Debug)]
pub struct IndicatorSet {
    rules: Vec<Rule>,
    /// Sets over consecutive runs of `owners`, with the index of their first pattern.
    sets: Vec<(usize, RegexSet)>,
    /// For each pattern of the sets, in order: (rule index, pattern index).
    owners: Vec<(usize, usize)>,
}

pub use super::{is_technique_id, parent_of};

/// The embedded rule set, parsed and compiled on first use.
///
/// # Panics
/// If the embedded rule files are invalid; `tests/indicators.rs` guarantees they are not.
pub fn indicators() -> &'static IndicatorSet {
    static SET: LazyLock<IndicatorSet> = LazyLock::new(|| match IndicatorSet::from_sources(FILES) {
        Ok(set) => set,
        Err(e) => panic!("embedded indicator rules are invalid: {e}"),
    });
    &SET
}

impl IndicatorSet {
    /// Parses and compiles rule files given as (file name, JSON text).
    pub fn from_sources<N: AsRef<str>, T: AsRef<str>>(files: &[(N, T)]) -> Result<Self, IndicatorError> {
        let mut rules = Vec::new();
        for (file, text) in files {
            let file = file.as_ref();
            let specs: Vec<RuleSpec> = serde_json::from_str(text.as_ref())
                .map_err(|source| IndicatorError::Json { file: file.to_string(), source })?;
            for spec in specs {
                rules.push(compile_rule(file, spec)?);
            }
        }
        let owners: Vec<(usize, usize)> =
            rules.iter().enumerate().flat_map(|(r, rule)| (0..rule.patterns.len()).map(move |p| (r, p))).collect();
        let mut sets = Vec::new();
        for (chunk, run) in owners.chunks(SET_CHUNK).enumerate() {
            let sources = run.iter().map(|&(r, p)| rules[r].patterns[p].re.as_str());
            let set = RegexSetBuilder::new(sources)
                .size_limit(64 << 20)
                .dfa_size_limit(8 << 20)
                .build()
                .map_err(|e| IndicatorError::Set(Box::new(e)))?;
            sets.push((chunk * SET_CHUNK, set));
        }
        Ok(IndicatorSet { rules, sets, owners })
    }

    /// Every rule, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of patterns over all rules.
    pub fn pattern_count(&self) -> usize {
        self.owners.len()
    }

    /// Every pattern hit in `text`, one per matching pattern (its leftmost match), in rule order.
    pub fn matches(&self, text: &str) -> Vec<IndicatorHit<'_>> {
        let mut hits = Vec::new();
        let indexes = self.sets.iter().flat_map(|(base, set)| set.matches(text).into_iter().map(move |i| base + i));
        for i in indexes {
            let (r, p) = self.owners[i];
            let rule = &self.rules[r];
            let pattern = &rule.patterns[p];
            if let Some(m) = pattern.regex.find(text) {
                hits.push(IndicatorHit {
                    technique: &rule.technique,
                    weight: pattern.weight,
                    why: &pattern.why,
                    span: (m.start(), m.end()),
                });
            }
        }
        hits
    }

    /// Techniques for `text`, best first: noisy-or of the pattern weights per technique, plus an
    /// entry for the parent of each hit sub-technique whose parent has no hit of its own (scored
    /// with the best of its sub-techniques). Ties sort sub-techniques before their parent, then by id.
    pub fn rank(&self, text: &str) -> Vec<(String, f32)> {
        Self::rank_hits(&self.matches(text))
    }

    /// [`IndicatorSet::rank`] over hits already found (so a caller that also needs the hits as
    /// evidence runs the patterns once).
    pub fn rank_hits(hits: &[IndicatorHit<'_>]) -> Vec<(String, f32)> {
        let mut miss: HashMap<&str, f32> = HashMap::new();
        for hit in hits {
            *miss.entry(hit.technique).or_insert(1.0) *= 1.0 - hit.weight.clamp(0.0, 1.0);
        }
        let mut scores: HashMap<String, f32> = miss.iter().map(|(t, m)| (t.to_string(), 1.0 - m)).collect();
        let mut implied: HashMap<String, f32> = HashMap::new();
        for (t, m) in &miss {
            let parent = parent_of(t);
            if parent != *t && !miss.contains_key(parent) {
                let s = implied.entry(parent.to_string()).or_insert(0.0);
                *s = s.max(1.0 - m);
            }
        }
        scores.extend(implied);
        let mut ranked: Vec<(String, f32)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| parent_of(&a.0).cmp(parent_of(&b.0)))
                .then_with(|| b.0.len().cmp(&a.0.len()))
                .then_with(|| a.0.cmp(&b.0))
        });
        ranked
    }
}

fn compile_rule(file: &str, spec: RuleSpec) -> Result<Rule, IndicatorError> {
    let rule_err =
        |message: String| IndicatorError::Rule { file: file.to_string(), technique: spec.technique.clone(), message };
    if !is_technique_id(&spec.technique) {
        return Err(rule_err("technique id must look like T1234 or T1234.001".into()));
    }
    if spec.name.trim().is_empty() {
        return Err(rule_err("name is empty".into()));
    }
    if spec.patterns.is_empty() {
        return Err(rule_err("no patterns".into()));
    }
    let mut patterns = Vec::with_capacity(spec.patterns.len());
    for (index, p) in spec.patterns.iter().enumerate() {
        if !(p.weight > 0.0 && p.weight <= 1.0) {
            return Err(rule_err(format!("pattern {index}: weight {} is not in (0, 1]", p.weight)));
        }
        if p.why.trim().is_empty() {
            return Err(rule_err(format!("pattern {index}: empty `why`")));
        }
        let regex = Regex::new(&p.re).map_err(|source| IndicatorError::Regex {
            file: file.to_string(),
            technique: spec.technique.clone(),
            index,
            source: Box::new(source),
        })?;
        patterns.push(Pattern { re: p.re.clone(), weight: p.weight, why: p.why.clone(), regex });
    }
    Ok(Rule {
        file: file.to_string(),
        technique: spec.technique,
        name: spec.name,
        patterns,
        examples: spec.examples,
        negatives: spec.negatives,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"[
      {"technique": "T1003.001", "name": "LSASS Memory",
       "patterns": [{"re": "(?i)\\bprocdump(64)?(\\.exe)?\\b.*\\blsass", "weight": 0.9, "why": "procdump of lsass"},
                    {"re": "(?i)\\bMiniDump\\b", "weight": 0.5, "why": "MiniDump"}],
       "examples": ["procdump64.exe -ma lsass.exe out.dmp"], "negatives": ["procdump -ma notepad.exe"]},
      {"technique": "T1057", "name": "Process Discovery",
       "patterns": [{"re": "(?i)\\btasklist\\b", "weight": 0.7, "why": "tasklist"}]},
      {"technique": "T1087.001", "name": "Local Account",
       "patterns": [{"re": "(?i)\\bnet\\s+user\\s*$", "weight": 0.6, "why": "net user"}]},
      {"technique": "T1087", "name": "Account Discovery",
       "patterns": [{"re": "(?i)\\bnet\\s+user", "weight": 0.3, "why": "net user any"}]}
    ]"#;

    fn mini() -> IndicatorSet {
        IndicatorSet::from_sources(&[("mini.json", MINI)]).expect("mini rules compile")
    }

    #[test]
    fn matches_report_technique_weight_and_span() {
        let set = mini();
        let text = "procdump64.exe -accepteula -ma lsass.exe C:\\t\\l.dmp";
        let hits = set.matches(text);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].technique, "T1003.001");
        assert_eq!(hits[0].weight, 0.9);
        let (s, e) = hits[0].span;
        assert!(text[s..e].starts_with("procdump64.exe") && text[s..e].ends_with("lsass"));
    }

    #[test]
    fn rank_uses_noisy_or_and_credits_missing_parent() {
        let set = mini();
        let ranked = set.rank("procdump -ma lsass & rundll32 comsvcs MiniDump");
        assert_eq!(ranked[0].0, "T1003.001");
        assert!((ranked[0].1 - (1.0 - 0.1 * 0.5)).abs() < 1e-6);
        assert_eq!(ranked[1].0, "T1003", "parent credited after its sub-technique");
        assert!((ranked[1].1 - ranked[0].1).abs() < 1e-6);
    }

    #[test]
    fn parent_with_own_hit_keeps_own_score() {
        let set = mini();
        let ranked = set.rank("net user");
        assert_eq!(ranked, vec![("T1087.001".to_string(), 0.6), ("T1087".to_string(), 0.3)]);
    }

    #[test]
    fn no_hit_means_empty_rank() {
        assert!(mini().rank("echo hello").is_empty());
        assert!(mini().matches("").is_empty());
    }

    #[test]
    fn invalid_rules_are_rejected_with_file_and_technique() {
        let bad_weight = r#"[{"technique":"T1057","name":"x","patterns":[{"re":"a","weight":1.5,"why":"w"}]}]"#;
        let e = IndicatorSet::from_sources(&[("f.json", bad_weight)]).unwrap_err().to_string();
        assert!(e.contains("f.json") && e.contains("T1057") && e.contains("weight"), "{e}");
        let bad_re = r#"[{"technique":"T1057","name":"x","patterns":[{"re":"(?=a)","weight":0.5,"why":"w"}]}]"#;
        let e = IndicatorSet::from_sources(&[("g.json", bad_re)]).unwrap_err().to_string();
        assert!(e.contains("g.json") && e.contains("does not compile"), "{e}");
        let bad_id = r#"[{"technique":"X1057","name":"x","patterns":[{"re":"a","weight":0.5,"why":"w"}]}]"#;
        assert!(IndicatorSet::from_sources(&[("h.json", bad_id)]).is_err());
        assert!(IndicatorSet::from_sources(&[("i.json", "{")]).is_err());
    }

    #[test]
    fn parent_of_and_id_shape() {
        assert_eq!(parent_of("T1003.001"), "T1003");
        assert_eq!(parent_of("T1003"), "T1003");
        assert!(is_technique_id("T1003") && is_technique_id("T1003.001"));
        assert!(!is_technique_id("T103") && !is_technique_id("T1003.01") && !is_technique_id("t1003"));
    }

    #[test]
    fn embedded_rules_load_and_rank_a_classic() {
        let set = indicators();
        assert!(set.rules().len() > 100);
        let ranked = set.rank("vssadmin.exe delete shadows /all /quiet");
        assert_eq!(ranked.first().map(|r| r.0.as_str()), Some("T1490"));
    }
}
