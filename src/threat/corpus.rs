//! Labelled texts in and out: the JSONL format of ../shared/threat/train.jsonl and of
//! `synth threat` (`{"text", "label": "threat"|"benign", "threat_type", "source"?}`), and the
//! training corpus: the shared rows joined with synthetic ones ([`super::synth`]), deduplicated
//! and split train/dev/test by a hash of the text ([`build_corpus`]).

use super::synth::{self, SynthOptions, MAX_PER_LABEL};
use super::{ThreatError, ThreatExample, ThreatType, LABELS};
use crate::attack::mapper::features::{fnv, FNV_OFFSET};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

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

/// What [`build_corpus`] joins and how it splits.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusOptions {
    /// The shared training file (`../shared/threat/train.jsonl`); `None` for synthetic rows only.
    pub shared_train: Option<PathBuf>,
    /// Least synthetic rows per label; see [`synth_counts`] for the balancing on top.
    pub synth_per_label: usize,
    pub seed: u64,
    /// Share of the texts held out for development (model selection, calibration).
    pub dev_fraction: f32,
    /// Share of the texts held out for the final test.
    pub test_fraction: f32,
}

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            shared_train: Some(PathBuf::from("../shared/threat/train.jsonl")),
            synth_per_label: 1000,
            seed: 7,
            dev_fraction: 0.1,
            test_fraction: 0.1,
        }
    }
}

/// The corpus: disjoint splits, no text twice (case-insensitively) anywhere.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Corpus {
    pub train: Vec<ThreatExample>,
    pub dev: Vec<ThreatExample>,
    pub test: Vec<ThreatExample>,
}

/// Counts per label and per source, each as `[train, dev, test]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CorpusSummary {
    pub by_label: BTreeMap<ThreatType, [usize; 3]>,
    pub by_source: BTreeMap<String, [usize; 3]>,
    pub total: [usize; 3],
}

impl Corpus {
    pub fn splits(&self) -> [(&'static str, &[ThreatExample]); 3] {
        [("train", &self.train), ("dev", &self.dev), ("test", &self.test)]
    }

    /// How many texts of each label and each source every split holds.
    pub fn summary(&self) -> CorpusSummary {
        let mut summary = CorpusSummary::default();
        for (i, (_, rows)) in self.splits().iter().enumerate() {
            for e in rows.iter() {
                summary.by_label.entry(e.threat_type).or_default()[i] += 1;
                summary.by_source.entry(e.source.clone()).or_default()[i] += 1;
                summary.total[i] += 1;
            }
        }
        summary
    }
}

impl CorpusSummary {
    /// A plain-text table: one line per label, then one per source.
    pub fn table(&self) -> String {
        let mut out = format!("{:<58} {:>7} {:>6} {:>6}\n", "", "train", "dev", "test");
        let mut line =
            |name: &str, c: &[usize; 3]| out.push_str(&format!("{name:<58} {:>7} {:>6} {:>6}\n", c[0], c[1], c[2]));
        for (label, counts) in &self.by_label {
            line(label.as_str(), counts);
        }
        line("total", &self.total);
        for (source, counts) in &self.by_source {
            let name: String = source.chars().take(58).collect();
            line(&name, counts);
        }
        out
    }
}

/// Synthetic rows to generate per label, in [`LABELS`] order, given the shared rows per label.
///
/// Every threat label is brought to at least twice `per_label` rows in all (shared plus
/// synthetic) and gets at least `per_label` synthetic rows, so a label the shared file lacks
/// (phishing, reconnaissance) or barely has (malware, data exfiltration) weighs as much as one
/// it has plenty of, and every label keeps a synthetic share for the surfaces the shared file
/// never shows. Benign gets as many rows as all threats together: it is the class with the most
/// variety, and the one whose errors (false alarms) cost the most. Each count is capped at
/// [`MAX_PER_LABEL`].
pub fn synth_counts(shared: &[usize; LABELS.len()], per_label: usize) -> [usize; LABELS.len()] {
    let mut counts = [0usize; LABELS.len()];
    let target = per_label.saturating_mul(2);
    let mut threat_total = 0usize;
    for label in LABELS.iter().filter(|l| l.is_threat()) {
        let i = label.index();
        counts[i] = per_label.max(target.saturating_sub(shared[i])).min(MAX_PER_LABEL);
        threat_total = threat_total.saturating_add(shared[i] + counts[i]);
    }
    let benign = ThreatType::Benign.index();
    counts[benign] = per_label.max(threat_total.saturating_sub(shared[benign])).min(MAX_PER_LABEL);
    counts
}

/// Joins the shared rows (if any) with synthetic rows, drops texts seen before
/// (case-insensitively, shared rows first), and splits by a hash of the text, so a text lands in
/// the same split whatever else the corpus holds.
pub fn build_corpus(opts: &CorpusOptions) -> Result<Corpus, ThreatError> {
    let fractions_ok = [opts.dev_fraction, opts.test_fraction].iter().all(|f| f.is_finite() && *f >= 0.0)
        && opts.dev_fraction + opts.test_fraction < 1.0;
    if !fractions_ok {
        return Err(ThreatError::Invalid(format!(
            "dev fraction {} and test fraction {} must be at least 0 and leave some training data (sum below 1)",
            opts.dev_fraction, opts.test_fraction
        )));
    }
    let mut rows = match &opts.shared_train {
        Some(path) => {
            let mut shared = read_examples(path)?;
            for e in &mut shared {
                if e.source.is_empty() {
                    e.source = "shared".to_string();
                }
            }
            shared
        }
        None => Vec::new(),
    };
    let mut shared_counts = [0usize; LABELS.len()];
    for e in &rows {
        shared_counts[e.threat_type.index()] += 1;
    }
    let wanted = synth_counts(&shared_counts, opts.synth_per_label);
    for label in LABELS {
        let generated =
            synth::generate(&SynthOptions { per_label: wanted[label.index()], seed: opts.seed, labels: vec![label] });
        rows.extend(generated);
    }

    let mut seen: HashSet<String> = HashSet::with_capacity(rows.len());
    let mut corpus = Corpus::default();
    for e in rows {
        let key = e.text.trim().to_lowercase();
        if key.is_empty() || !seen.insert(key.clone()) {
            continue;
        }
        let u = unit_hash(&key);
        if u < f64::from(opts.dev_fraction) {
            corpus.dev.push(e);
        } else if u < f64::from(opts.dev_fraction) + f64::from(opts.test_fraction) {
            corpus.test.push(e);
        } else {
            corpus.train.push(e);
        }
    }
    Ok(corpus)
}

/// A stable position in [0, 1) for a text.
fn unit_hash(key: &str) -> f64 {
    let h = fnv(FNV_OFFSET, key.as_bytes());
    let mixed = (h ^ (h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (mixed >> 11) as f64 / (1u64 << 53) as f64
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
    fn balancing_fills_thin_labels_and_matches_benign_to_threats() {
        let mut shared = [0usize; LABELS.len()];
        shared[ThreatType::Benign.index()] = 3000;
        shared[ThreatType::SqlInjection.index()] = 900;
        shared[ThreatType::Malware.index()] = 70;
        let counts = synth_counts(&shared, 500);
        assert_eq!(counts[ThreatType::SqlInjection.index()], 500, "never fewer than per_label");
        assert_eq!(counts[ThreatType::Malware.index()], 930, "topped up to twice per_label");
        assert_eq!(counts[ThreatType::Phishing.index()], 1000);
        let threats: usize =
            LABELS.iter().filter(|l| l.is_threat()).map(|l| shared[l.index()] + counts[l.index()]).sum();
        assert_eq!(counts[ThreatType::Benign.index()] + 3000, threats);
        let capped = synth_counts(&[0; LABELS.len()], usize::MAX / 4);
        assert!(capped.iter().all(|&c| c == MAX_PER_LABEL));
    }

    #[test]
    fn corpus_splits_are_disjoint_stable_and_hold_every_label() {
        let opts =
            CorpusOptions { shared_train: None, synth_per_label: 40, seed: 3, dev_fraction: 0.2, test_fraction: 0.2 };
        let corpus = build_corpus(&opts).unwrap();
        let mut seen = HashSet::new();
        for (_, rows) in corpus.splits() {
            for e in rows {
                assert!(seen.insert(e.text.to_lowercase()), "{:?} twice", e.text);
            }
        }
        let summary = corpus.summary();
        assert_eq!(summary.by_label.len(), LABELS.len());
        assert!(summary.total[1] > 0 && summary.total[2] > 0 && summary.total[0] > summary.total[1]);
        assert_eq!(summary.total.iter().sum::<usize>(), seen.len());
        // A text's split depends on the text alone: another seed draws other texts, but any text
        // present in both corpora sits in the same split.
        let other = build_corpus(&CorpusOptions { seed: 4, ..opts.clone() }).unwrap();
        let split_of = |c: &Corpus| -> BTreeMap<String, &'static str> {
            c.splits().iter().flat_map(|(n, rows)| rows.iter().map(move |e| (e.text.to_lowercase(), *n))).collect()
        };
        let (a, b) = (split_of(&corpus), split_of(&other));
        let common: Vec<_> = a.keys().filter(|k| b.contains_key(*k)).collect();
        assert!(!common.is_empty());
        assert!(common.iter().all(|k| a[*k] == b[*k]));
        assert!(summary.table().contains("phishing"));

        let bad = CorpusOptions { dev_fraction: 0.6, test_fraction: 0.5, ..opts };
        assert!(matches!(build_corpus(&bad), Err(ThreatError::Invalid(_))));
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
