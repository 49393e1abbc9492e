//! Training the mapping model (`cacao-forge train mapper`).
//!
//! The corpus is assembled from what the project may learn from, never from public payload lists
//! or attack-simulation tests:
//! - **Sigma** (`../shared/sigma/sigma.jsonl`): command lines synthesized from the selections of
//!   process-creation and script rules ([`super::super::sigma`]), labelled with the rules' techniques.
//! - **Indicator examples**: the example command lines of our own rules (mitre/indicators/).
//! - **ATT&CK procedure snippets**: the `<code>` fragments in the procedure examples of a full
//!   bundle (`../shared/mitre/enterprise-attack.json`), labelled with the technique they illustrate.
//! - **ATT&CK procedure prose**: the procedure sentences themselves, with the actor's name and the
//!   citations removed, so prose incident descriptions map too.
//! - **Synthetic variations** of the command lines above: wrapped in `cmd /c`, `powershell -c`,
//!   `sh -c`, `sudo`, with flags written `/x` instead of `-x`, in other letter case, with other
//!   paths, addresses and user names.
//!
//! A deterministic part of the Sigma rules and of the ATT&CK snippets (by hash of the rule id or
//! snippet text, [`TrainOptions::dev_percent`]) is held out: none of its text is trained on, and it
//! becomes the development sets written next to the model for `cacao-forge eval mapper`.
//!
//! The model is fitted by stochastic gradient descent on the soft-label cross-entropy (a Sigma
//! rule tagged with two techniques teaches both), with classes capped per source so that T1059's
//! 350 Sigma rules do not drown rare techniques.

use super::eval::LabelledText;
use super::features::{fnv, FeatureConfig, Features, FNV_OFFSET};
use super::model::{softmax_in_place, unique_buckets, LinearModel, Manifest, FORMAT, VERSION};
use crate::attack::indicators::indicators;
use crate::attack::parent_of;
use crate::attack::sigma::{parse_rules, synthesize_command_lines, SplitMix};
use crate::attack::{Catalog, Enrichment};
use regex::Regex;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Where a training or development example came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    Sigma,
    Indicator,
    Snippet,
    Prose,
    Variation,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Sigma => "sigma",
            Origin::Indicator => "indicator",
            Origin::Snippet => "snippet",
            Origin::Prose => "prose",
            Origin::Variation => "variation",
        }
    }
}

impl std::str::FromStr for Origin {
    type Err = String;
    fn from_str(s: &str) -> Result<Origin, String> {
        [Origin::Sigma, Origin::Indicator, Origin::Snippet, Origin::Prose, Origin::Variation]
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| format!("unknown source {s:?}; expected sigma, indicator, snippet, prose or variation"))
    }
}

/// A labelled text.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    /// Parent technique ids.
    pub labels: Vec<String>,
    pub origin: Origin,
}

/// The assembled corpus: what is trained on and what is held out.
#[derive(Debug, Default, Clone)]
pub struct Corpus {
    pub train: Vec<Example>,
    /// Held-out Sigma-synthesized command lines.
    pub dev_sigma: Vec<Example>,
    /// Held-out ATT&CK procedure snippets.
    pub dev_snippets: Vec<Example>,
    /// Lines of the Sigma file that could not be read, as "line N: message".
    pub problems: Vec<String>,
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub sigma: PathBuf,
    pub bundle: PathBuf,
    pub features: FeatureConfig,
    pub epochs: usize,
    pub learning_rate: f32,
    pub seed: u64,
    /// Command lines synthesized per Sigma rule.
    pub per_rule: usize,
    /// Most examples of one class taken from one origin.
    pub per_class_cap: usize,
    /// Percentage of Sigma rules and ATT&CK snippets held out for development.
    pub dev_percent: u64,
    /// Stored weights smaller than this are dropped.
    pub prune: f32,
    /// Sources left out of training (for ablations).
    pub skip: Vec<Origin>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            sigma: PathBuf::from("../shared/sigma/sigma.jsonl"),
            bundle: PathBuf::from("../shared/mitre/enterprise-attack.json"),
            features: FeatureConfig::default(),
            epochs: 30,
            learning_rate: 2.0,
            seed: 7,
            per_rule: 10,
            per_class_cap: 300,
            dev_percent: 15,
            prune: 0.05,
            skip: Vec::new(),
        }
    }
}

/// What can stop training. Names the input that is missing or wrong.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("training data {} is missing ({what}); it ships in ../shared beside the repository, or pass its path", path.display())]
    Missing { path: PathBuf, what: &'static str },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Attack(#[from] crate::attack::AttackError),
    #[error("no training examples with a known technique: nothing to learn")]
    Empty,
}

/// Deterministic membership of the held-out split.
fn held_out(key: &str, percent: u64) -> bool {
    let h = fnv(FNV_OFFSET, key.as_bytes());
    (h ^ (h >> 31)) % 100 < percent
}

/// Reads Sigma rules and a full ATT&CK bundle and assembles the corpus.
pub fn collect(options: &TrainOptions, catalog: &Catalog) -> Result<Corpus, TrainError> {
    for (path, what) in [(&options.sigma, "Sigma rules as JSONL"), (&options.bundle, "a full ATT&CK STIX bundle")] {
        if !path.exists() {
            return Err(TrainError::Missing { path: path.clone(), what });
        }
    }
    let sigma = std::fs::read_to_string(&options.sigma)
        .map_err(|source| TrainError::Read { path: options.sigma.clone(), source })?;
    let enrichment = Enrichment::from_bundle(&options.bundle)?;
    Ok(collect_from(&sigma, &enrichment, catalog, options))
}

/// [`collect`] over already read inputs.
pub fn collect_from(sigma_jsonl: &str, enrichment: &Enrichment, catalog: &Catalog, options: &TrainOptions) -> Corpus {
    let known = |id: &str| -> Option<String> {
        let parent = parent_of(id);
        catalog.technique(parent).filter(|t| t.is_active() && t.domain == "enterprise-attack").map(|t| t.id.clone())
    };
    let labels_of = |ids: &[String]| -> Vec<String> {
        let set: BTreeSet<String> = ids.iter().filter_map(|t| known(t)).collect();
        set.into_iter().collect()
    };
    let mut corpus = Corpus::default();
    let mut rng = SplitMix::new(options.seed);

    // Sigma: split by rule, then synthesize each side.
    let (rules, problems) = parse_rules(sigma_jsonl);
    corpus.problems = problems.iter().map(|p| format!("line {}: {}", p.line, p.message)).collect();
    let (dev_rules, train_rules): (Vec<_>, Vec<_>) =
        rules.into_iter().partition(|r| held_out(&r.id, options.dev_percent));
    for (text, ids) in synthesize_command_lines(&train_rules, options.per_rule, options.seed) {
        let labels = labels_of(&ids);
        if !labels.is_empty() {
            corpus.train.push(Example { text, labels, origin: Origin::Sigma });
        }
    }
    for (text, ids) in synthesize_command_lines(&dev_rules, 2, options.seed ^ 0x5eed) {
        let labels = labels_of(&ids);
        if !labels.is_empty() {
            corpus.dev_sigma.push(Example { text, labels, origin: Origin::Sigma });
        }
    }

    // Our indicator rules' examples: all trained on (they are ours; the held-out hand-written set
    // lives in tests/fixtures).
    let mut commands: Vec<Example> = Vec::new();
    for rule in indicators().rules() {
        let labels = labels_of(std::slice::from_ref(&rule.technique));
        for e in &rule.examples {
            if !labels.is_empty() {
                commands.push(Example { text: e.clone(), labels: labels.clone(), origin: Origin::Indicator });
            }
        }
    }

    // ATT&CK procedures: code snippets (split by snippet text) and prose (training only).
    let code = Regex::new(r"(?s)<code>(.*?)</code>").expect("static regex");
    let citation = Regex::new(r"\(Citation:[^)]*\)").expect("static regex");
    let link = Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("static regex");
    let mut seen_snippets: BTreeSet<(String, String)> = BTreeSet::new();
    for tid in enrichment.techniques_with_procedures() {
        let Some(label) = known(tid) else { continue };
        for p in enrichment.procedures(tid) {
            let snippets: Vec<String> = code.captures_iter(&p.text).map(|c| html_unescape(c[1].trim())).collect();
            // A held-out snippet must not be learned through the sentence around it either.
            let leaks = snippets.iter().any(|s| held_out(s, options.dev_percent));
            for snippet in snippets {
                if snippet.len() < 3 || !seen_snippets.insert((snippet.clone(), label.clone())) {
                    continue;
                }
                let ex = Example { text: snippet.clone(), labels: vec![label.clone()], origin: Origin::Snippet };
                if held_out(&snippet, options.dev_percent) {
                    corpus.dev_snippets.push(ex);
                } else {
                    commands.push(ex);
                }
            }
            let prose = link.replace_all(&p.text, "$1");
            let prose = citation.replace_all(&prose, "");
            let prose = html_unescape(&prose.replace("<code>", "").replace("</code>", ""));
            let prose = if p.source_name.is_empty() { prose } else { prose.replace(&p.source_name, "The attacker") };
            if !leaks && prose.trim().len() >= 20 {
                corpus.train.push(Example {
                    text: prose.trim().to_string(),
                    labels: vec![label.clone()],
                    origin: Origin::Prose,
                });
            }
        }
    }

    for ex in &commands {
        for text in variations(&ex.text, &mut rng, 2) {
            corpus.train.push(Example { text, labels: ex.labels.clone(), origin: Origin::Variation });
        }
    }
    corpus.train.extend(commands);
    corpus.train.retain(|e| !options.skip.contains(&e.origin));
    cap_per_class(&mut corpus.train, options.per_class_cap, &mut rng);
    corpus
}

/// Keeps at most `cap` examples per (origin, first label), chosen at random.
fn cap_per_class(examples: &mut Vec<Example>, cap: usize, rng: &mut SplitMix) {
    shuffle(examples, rng);
    let mut counts: HashMap<(Origin, String), usize> = HashMap::new();
    examples.retain(|e| {
        let n = counts.entry((e.origin, e.labels[0].clone())).or_insert(0);
        *n += 1;
        *n <= cap
    });
}

fn shuffle<T>(items: &mut [T], rng: &mut SplitMix) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i + 1);
        items.swap(i, j);
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// Synthetic variations of a command line: how the same command shows up in other logs.
pub fn variations(text: &str, rng: &mut SplitMix, n: usize) -> Vec<String> {
    const IPS: &[&str] = &["10.1.2.3", "192.168.56.20", "172.16.9.14", "203.0.113.77"];
    const USERS: &[&str] = &["jdoe", "svc_backup", "administrator", "m.keller"];
    let windows = text.contains('\\') || text.to_ascii_lowercase().contains(".exe") || text.contains(" /");
    let mut out = Vec::new();
    for _ in 0..n {
        let mut t = text.to_string();
        match rng.below(7) {
            0 if windows => t = format!("cmd.exe /c {t}"),
            0 => t = format!("sh -c '{t}'"),
            1 if windows => t = format!("powershell.exe -NoProfile -Command \"{t}\""),
            1 => t = format!("sudo {t}"),
            2 => t = t.to_ascii_uppercase(),
            3 if windows => t = t.replace(" -", " /"),
            3 => t = format!("/bin/bash -c \"{t}\""),
            4 => t = t.replace("C:\\Windows\\System32\\", "").replace("c:\\windows\\system32\\", ""),
            5 => {
                let ip = rng.pick(IPS).copied().unwrap_or("10.0.0.1");
                t = replace_ipv4(&t, ip);
                let user = rng.pick(USERS).copied().unwrap_or("user");
                t = t.replace("admin", user).replace("Administrator", user);
            }
            _ => t = t.to_ascii_lowercase(),
        }
        if t != text && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn replace_ipv4(text: &str, ip: &str) -> String {
    static IPV4: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b").expect("static regex"));
    IPV4.replace_all(text, ip).into_owned()
}

/// Figures of one training run (stored in the manifest's `training` field and printed).
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub examples: BTreeMap<String, usize>,
    pub classes: usize,
    pub epochs: usize,
    pub train_top1: f32,
    pub stored_weights: usize,
    pub dev_sigma: usize,
    pub dev_snippets: usize,
}

/// Fits the model on `corpus.train`. Deterministic for a given corpus and options.
pub fn train(corpus: &Corpus, options: &TrainOptions) -> Result<(LinearModel, TrainReport), TrainError> {
    let classes: Vec<String> =
        corpus.train.iter().flat_map(|e| e.labels.iter().cloned()).collect::<BTreeSet<_>>().into_iter().collect();
    if classes.is_empty() {
        return Err(TrainError::Empty);
    }
    let class_ix: HashMap<&str, usize> = classes.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let cfg = options.features;
    let n_classes = classes.len();

    // Features once, up front.
    let mut feats = Features::default();
    let mut data: Vec<(Vec<u32>, f32, Vec<usize>)> = Vec::with_capacity(corpus.train.len());
    for e in &corpus.train {
        cfg.extract_into(&e.text, &mut feats);
        let mut buckets = Vec::new();
        let value = unique_buckets(&feats, &mut buckets);
        let labels: Vec<usize> = e.labels.iter().filter_map(|l| class_ix.get(l.as_str()).copied()).collect();
        if !labels.is_empty() {
            data.push((buckets, value, labels));
        }
    }

    let mut w = vec![0f32; cfg.buckets() * n_classes];
    let mut rng = SplitMix::new(options.seed ^ 0x7a11);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut logits = vec![0f32; n_classes];
    let mut correct = 0usize;
    for epoch in 0..options.epochs {
        shuffle(&mut order, &mut rng);
        let lr = options.learning_rate / (1.0 + epoch as f32 * 0.5);
        correct = 0;
        for &i in &order {
            let (buckets, value, labels) = &data[i];
            logits.iter_mut().for_each(|l| *l = 0.0);
            for &b in buckets {
                let row = &w[b as usize * n_classes..(b as usize + 1) * n_classes];
                for (l, wv) in logits.iter_mut().zip(row) {
                    *l += wv * value;
                }
            }
            let best = logits.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(c, _)| c);
            if labels.contains(&best) {
                correct += 1;
            }
            softmax_in_place(&mut logits);
            let target = 1.0 / labels.len() as f32;
            for &l in labels {
                logits[l] -= target;
            }
            // `logits` now holds the gradient of the loss with respect to the logits.
            for &b in buckets {
                let row = &mut w[b as usize * n_classes..(b as usize + 1) * n_classes];
                for (wv, g) in row.iter_mut().zip(&logits) {
                    *wv -= lr * value * g;
                }
            }
        }
        tracing::info!(epoch, train_top1 = correct as f32 / data.len().max(1) as f32, "mapper training epoch");
    }

    let mut examples: BTreeMap<String, usize> = BTreeMap::new();
    for e in &corpus.train {
        *examples.entry(e.origin.as_str().to_string()).or_insert(0) += 1;
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        features: cfg,
        classes: classes.clone(),
        scale: 1.0,
        training: BTreeMap::new(),
    };
    let mut model = LinearModel::from_dense(manifest, &w, options.prune);
    let report = TrainReport {
        examples,
        classes: n_classes,
        epochs: options.epochs,
        train_top1: correct as f32 / data.len().max(1) as f32,
        stored_weights: model.entry_count(),
        dev_sigma: corpus.dev_sigma.len(),
        dev_snippets: corpus.dev_snippets.len(),
    };
    let mut training = BTreeMap::new();
    training.insert("report".to_string(), serde_json::to_value(&report).unwrap_or_default());
    training.insert(
        "options".to_string(),
        serde_json::json!({
            "epochs": options.epochs, "learning_rate": options.learning_rate, "seed": options.seed,
            "per_rule": options.per_rule, "per_class_cap": options.per_class_cap,
            "dev_percent": options.dev_percent, "prune": options.prune,
        }),
    );
    model.set_training(training);
    Ok((model, report))
}

impl From<&Example> for LabelledText {
    /// The `eval mapper` row of an example: its text and first label.
    fn from(e: &Example) -> LabelledText {
        LabelledText { text: e.text.clone(), technique_id: e.labels[0].clone() }
    }
}

/// Writes a development set as JSONL rows `{"text", "technique_id"}` (the `eval mapper` format).
pub fn write_dev_set(path: &Path, examples: &[Example]) -> std::io::Result<()> {
    let mut out = String::new();
    for e in examples {
        let row = serde_json::to_string(&LabelledText::from(e)).map_err(std::io::Error::other)?;
        out.push_str(&row);
        out.push('\n');
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_out_split_is_stable_and_near_the_percentage() {
        let keys: Vec<String> = (0..10_000).map(|i| format!("rule-{i}")).collect();
        let n = keys.iter().filter(|k| held_out(k, 15)).count();
        assert!((1_200..1_800).contains(&n), "{n}");
        assert_eq!(held_out("rule-1", 15), held_out("rule-1", 15));
        assert!(!held_out("x", 0));
    }

    #[test]
    fn variations_differ_from_the_original_and_keep_the_tell() {
        let mut rng = SplitMix::new(1);
        let v = variations("C:\\Windows\\System32\\whoami.exe /all", &mut rng, 6);
        assert!(!v.is_empty());
        for t in &v {
            assert_ne!(t, "C:\\Windows\\System32\\whoami.exe /all");
            assert!(t.to_ascii_lowercase().contains("whoami"), "{t}");
        }
    }

    #[test]
    fn training_learns_a_separable_toy_corpus() {
        let mk = |text: &str, label: &str| Example {
            text: text.into(),
            labels: vec![label.into()],
            origin: Origin::Indicator,
        };
        let corpus = Corpus {
            train: vec![
                mk("whoami /all", "T1033"),
                mk("whoami /priv", "T1033"),
                mk("query user", "T1033"),
                mk("mimikatz sekurlsa::logonpasswords", "T1003"),
                mk("procdump -ma lsass.exe out.dmp", "T1003"),
                mk("reg save hklm\\sam sam.hive", "T1003"),
            ],
            ..Corpus::default()
        };
        let options = TrainOptions {
            features: FeatureConfig { bucket_bits: 12, ..FeatureConfig::default() },
            epochs: 20,
            prune: 0.0,
            ..TrainOptions::default()
        };
        let (model, report) = train(&corpus, &options).unwrap();
        assert_eq!(report.classes, 2);
        assert_eq!(report.train_top1, 1.0);
        let f = model.features().extract("WHOAMI.EXE /groups");
        let (mut p, mut s) = (Vec::new(), Vec::new());
        model.probabilities_into(&f, &mut p, &mut s);
        let t1033 = model.classes().iter().position(|c| c == "T1033").unwrap();
        assert!(p[t1033] > 0.5, "{p:?}");
        assert!(train(&Corpus::default(), &options).is_err());
    }
}
