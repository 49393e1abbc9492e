//! `train threat`: rebuilds the shipped threat model from ../shared/threat/train.jsonl plus
//! synthetic data — corpus, the n-gram members, the encoder, the ensemble weights and the
//! calibration — and writes a model directory the detector loads (`models/threat/` when shipped).
//!
//! The members are trained on the train split only. The dev split chooses the encoder's epoch,
//! the ensemble weights and the temperature; the test split is touched once, at the end, for the
//! figures written into the manifest.

use super::calibrate::{combine, fit_temperature, Calibration};
use super::corpus::{build_corpus, Corpus, CorpusOptions};
use super::detector::{Detector, DetectorOptions, Member};
use super::encoder::train::{train_encoder, EncoderTrainOptions, TrainProgress};
use super::eval::{evaluate, ThreatEvalReport};
use super::ngram::{NgramClassifier, NgramFeatures, NgramTrainOptions};
use super::shipped::{Manifest, MemberEntry, MemberKind, MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_VERSION};
use super::{Classifier, LabelProbs, ThreatError, ThreatExample};
use std::path::PathBuf;
use std::sync::Arc;

/// Everything that shapes `train threat`.
#[derive(Debug, Clone)]
pub struct ThreatTrainOptions {
    pub corpus: CorpusOptions,
    pub encoder: EncoderTrainOptions,
    /// Train the encoder member (off: n-gram members only, for quick runs).
    pub with_encoder: bool,
    pub ngram_epochs: usize,
    /// Train each member on at most this many examples, taken evenly (quick runs and tests).
    pub max_examples: Option<usize>,
    pub model_id: String,
    pub out_dir: PathBuf,
}

/// The second n-gram member sees the text differently from the first (longer n-grams, digits
/// kept, no word features), so the two make different mistakes: that is what an ensemble needs.
pub fn second_ngram_features() -> NgramFeatures {
    NgramFeatures { ngram_min: 2, ngram_max: 6, words: false, fold_digits: false, ..NgramFeatures::default() }
}

/// What `train threat` did, for the manifest and the console.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThreatTrainReport {
    pub corpus: serde_json::Value,
    pub members: Vec<serde_json::Value>,
    pub weights: Vec<f32>,
    pub calibration: Calibration,
    pub dev: ThreatEvalReport,
    pub test: ThreatEvalReport,
    pub seconds: f64,
}

/// Trains every member, fits the ensemble on dev, measures on test and writes the model
/// directory. `progress` receives the encoder's steps and epochs; `log` one line per stage.
pub fn train_threat_model(
    opts: &ThreatTrainOptions,
    progress: &mut dyn FnMut(&TrainProgress),
    log: &mut dyn FnMut(&str),
) -> Result<ThreatTrainReport, ThreatError> {
    let started = std::time::Instant::now();
    let corpus = build_corpus(&opts.corpus)?;
    log(&format!(
        "corpus: {} train, {} dev, {} test examples",
        corpus.train.len(),
        corpus.dev.len(),
        corpus.test.len()
    ));
    train_from_corpus(opts, &corpus, progress, log, started)
}

fn train_from_corpus(
    opts: &ThreatTrainOptions,
    corpus: &Corpus,
    progress: &mut dyn FnMut(&TrainProgress),
    log: &mut dyn FnMut(&str),
    started: std::time::Instant,
) -> Result<ThreatTrainReport, ThreatError> {
    std::fs::create_dir_all(&opts.out_dir)
        .map_err(|source| ThreatError::Io { path: opts.out_dir.display().to_string(), source })?;
    let mut members: Vec<(MemberKind, String, Arc<dyn Classifier>)> = Vec::new();
    let mut member_reports = Vec::new();
    let train = evenly(&corpus.train, opts.max_examples);
    let train = train.as_slice();

    if opts.with_encoder {
        let (encoder, report) = train_encoder(train, &corpus.dev, &opts.encoder, progress)?;
        log(&format!(
            "encoder: {} parameters, best epoch {} of {}, {:.0} s",
            report.parameters,
            report.best_epoch,
            report.epochs.len(),
            report.seconds
        ));
        encoder.write_dir(&opts.out_dir.join("encoder"))?;
        member_reports.push(serde_json::json!({"member": "encoder", "report": report}));
        members.push((MemberKind::Encoder, "encoder".into(), Arc::new(encoder)));
    }
    for (file, features, seed) in
        [("ngram-a.bin", NgramFeatures::default(), 7u64), ("ngram-b.bin", second_ngram_features(), 11)]
    {
        let ngram_opts =
            NgramTrainOptions { features, epochs: opts.ngram_epochs, seed, ..NgramTrainOptions::default() };
        let member_started = std::time::Instant::now();
        let (model, report) = NgramClassifier::train(train, &corpus.dev, &ngram_opts)?;
        log(&format!("{file}: trained in {:.1} s", member_started.elapsed().as_secs_f64()));
        model.write(&opts.out_dir.join(file))?;
        member_reports.push(serde_json::json!({"member": file, "report": report}));
        members.push((MemberKind::Ngram, file.into(), Arc::new(model)));
    }

    // Ensemble weights and temperature, chosen on dev.
    let dev_probs: Vec<Vec<LabelProbs>> = member_outputs(&members, &corpus.dev)?;
    let gold: Vec<usize> = corpus.dev.iter().map(|e| e.threat_type.index()).collect();
    let (weights, calibration) = fit_ensemble(&dev_probs, &gold, members.len());
    log(&format!("ensemble weights {weights:?}, temperature {:.3}", calibration.temperature));

    let detector_members: Vec<Member> =
        members.iter().zip(&weights).map(|((_, _, c), w)| Member { classifier: c.clone(), weight: *w }).collect();
    let detector = Detector::new(detector_members, calibration, DetectorOptions::default(), opts.model_id.clone())?;
    let (dev, _) = evaluate(&detector, &corpus.dev)?;
    let (test, _) = evaluate(&detector, &corpus.test)?;
    log(&format!(
        "test: binary F1 {:.3}, type accuracy {:.3}, ECE {:.3}",
        test.binary.f1, test.type_accuracy, test.ece
    ));
    let report = ThreatTrainReport {
        corpus: corpus_summary(corpus),
        members: member_reports,
        weights: weights.clone(),
        calibration,
        dev,
        test,
        seconds: started.elapsed().as_secs_f64(),
    };
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        version: MANIFEST_VERSION,
        model_id: opts.model_id.clone(),
        members: members
            .iter()
            .zip(&weights)
            .map(|((kind, path, _), w)| MemberEntry { kind: *kind, path: path.clone(), weight: *w })
            .collect(),
        calibration,
        training: serde_json::json!({
            "corpus": report.corpus,
            "dev": {"binary_f1": report.dev.binary.f1, "type_accuracy": report.dev.type_accuracy, "ece": report.dev.ece},
            "test": {"binary_f1": report.test.binary.f1, "type_accuracy": report.test.type_accuracy, "ece": report.test.ece},
            "seed": opts.corpus.seed,
        }),
    };
    write_json(&opts.out_dir.join(MANIFEST_FILE), &manifest)?;
    // The full record (every member's per-epoch loss and dev figures, the dev and test reports)
    // stays beside the model for review; the detector never reads it.
    write_json(&opts.out_dir.join(TRAIN_REPORT_FILE), &report)?;
    Ok(report)
}

/// Where `train threat` writes its [`ThreatTrainReport`] in the model directory.
pub const TRAIN_REPORT_FILE: &str = "train-report.json";

fn write_json(path: &std::path::Path, value: &impl serde::Serialize) -> Result<(), ThreatError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| ThreatError::Invalid(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|source| ThreatError::Io { path: path.display().to_string(), source })
}

/// At most `limit` examples of `set`, taken at even strides (all of them without a limit).
fn evenly(set: &[ThreatExample], limit: Option<usize>) -> Vec<ThreatExample> {
    match limit {
        Some(limit) if limit > 0 && limit < set.len() => {
            let stride = set.len() as f64 / limit as f64;
            (0..limit).map(|i| set[(i as f64 * stride) as usize].clone()).collect()
        }
        _ => set.to_vec(),
    }
}

fn corpus_summary(corpus: &Corpus) -> serde_json::Value {
    let count = |set: &[ThreatExample]| {
        let mut m = std::collections::BTreeMap::new();
        for e in set {
            *m.entry(e.threat_type.as_str()).or_insert(0usize) += 1;
        }
        m
    };
    serde_json::json!({"train": count(&corpus.train), "dev": count(&corpus.dev), "test": count(&corpus.test)})
}

/// Every member's distribution for every example: `[example][member]`.
fn member_outputs(
    members: &[(MemberKind, String, Arc<dyn Classifier>)],
    set: &[ThreatExample],
) -> Result<Vec<Vec<LabelProbs>>, ThreatError> {
    let normalized: Vec<String> = set.iter().map(|e| super::normalize::normalize(&e.text).text).collect();
    let texts: Vec<&str> = normalized.iter().map(String::as_str).collect();
    let mut per_member = Vec::new();
    for (_, _, m) in members {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(256) {
            out.extend(m.predict_batch(chunk)?);
        }
        per_member.push(out);
    }
    Ok((0..set.len()).map(|i| per_member.iter().map(|m| m[i]).collect()).collect())
}

/// Member weights from a small grid (each member 0.5, 1 or 2, the first fixed at 1), each with
/// its fitted temperature; the pair with the lowest dev negative log-likelihood wins.
fn fit_ensemble(probs: &[Vec<LabelProbs>], gold: &[usize], n: usize) -> (Vec<f32>, Calibration) {
    let grid = [0.5f32, 1.0, 2.0];
    let mut candidates: Vec<Vec<f32>> = vec![vec![1.0]];
    for _ in 1..n {
        candidates = candidates
            .into_iter()
            .flat_map(|c| {
                grid.iter().map(move |g| {
                    let mut c = c.clone();
                    c.push(*g);
                    c
                })
            })
            .collect();
    }
    let mut best: Option<(f64, Vec<f32>, Calibration)> = None;
    for weights in candidates {
        let cases: Vec<Vec<(LabelProbs, f32)>> =
            probs.iter().map(|m| m.iter().copied().zip(weights.iter().copied()).collect()).collect();
        let calibration = fit_temperature(&cases, gold);
        let nll: f64 = cases.iter().zip(gold).map(|(c, &g)| -(combine(c, calibration)[g].max(1e-12) as f64).ln()).sum();
        if best.as_ref().is_none_or(|b| nll < b.0) {
            best = Some((nll, weights, calibration));
        }
    }
    let (_, weights, calibration) = best.unwrap_or((0.0, vec![1.0; n], Calibration::default()));
    (weights, calibration)
}
