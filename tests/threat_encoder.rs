//! The transformer member of the threat model end to end: a tiny config trained in seconds on a
//! small share of the shared training data, checkpoints and resume, save and load.

use cacao_forge::threat::corpus::read_examples;
use cacao_forge::threat::encoder::train::{train_encoder, EncoderTrainOptions, TrainProgress};
use cacao_forge::threat::encoder::EncoderClassifier;
use cacao_forge::threat::{Classifier, ThreatExample, ThreatType};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn shared_examples() -> Vec<ThreatExample> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/threat/train.jsonl");
    if !path.exists() {
        panic!("missing {}: the shared data must sit beside the repository", path.display());
    }
    read_examples(&path).unwrap()
}

/// The first `per_label` examples of every label, then the next `per_label` as a dev set.
fn small_split(per_label: usize) -> (Vec<ThreatExample>, Vec<ThreatExample>) {
    let mut taken: HashMap<ThreatType, usize> = HashMap::new();
    let (mut train, mut dev) = (Vec::new(), Vec::new());
    for e in shared_examples() {
        let n = taken.entry(e.threat_type).or_default();
        *n += 1;
        if *n <= per_label {
            train.push(e);
        } else if *n <= 2 * per_label {
            dev.push(e);
        }
    }
    (train, dev)
}

fn tiny_options() -> EncoderTrainOptions {
    EncoderTrainOptions {
        name: "tiny-test-v0".into(),
        vocab_size: 500,
        d_model: 16,
        layers: 2,
        heads: 2,
        ffn_dim: 32,
        max_len: 48,
        epochs: 4,
        batch_size: 16,
        learning_rate: 3e-3,
        dropout: 0.0,
        token_dropout: 0.0,
        patience: 0,
        seed: 11,
        ..EncoderTrainOptions::default()
    }
}

fn flat(model: &EncoderClassifier) -> Vec<(String, Vec<f32>)> {
    model.named_weights().into_iter().map(|(n, t)| (n, t.flatten_all().unwrap().to_vec1().unwrap())).collect()
}

#[test]
fn a_tiny_encoder_learns_and_every_weight_moves() {
    let (train, dev) = small_split(25);
    let mut steps = 0;
    let mut epochs_heard = Vec::new();
    let (model, report) = train_encoder(&train, &dev, &tiny_options(), &mut |p| match p {
        TrainProgress::Step { .. } => steps += 1,
        TrainProgress::Epoch(e) => epochs_heard.push(e.epoch),
        TrainProgress::Tokenizer { .. } => {}
    })
    .unwrap();
    assert_eq!(epochs_heard, vec![1, 2, 3, 4]);
    assert_eq!(steps, 4 * train.len().div_ceil(16));
    let first = report.epochs.first().unwrap().train_loss;
    let last = report.epochs.last().unwrap().train_loss;
    assert!(last < first * 0.9, "training loss went from {first} to {last}");
    let dev_figures = report.epochs.iter().find(|e| e.epoch == report.best_epoch).unwrap().dev.clone().unwrap();
    assert_eq!(dev_figures.examples, dev.len());
    // Nine labels are present; a model that learned nothing sits near 1/9.
    assert!(dev_figures.accuracy > 0.3, "{dev_figures:?}");
    assert_eq!(report.parameters, model.config().parameter_count());
    assert_eq!(model.id(), "encoder/tiny-test-v0");

    // Every weight tensor moved away from the seeded initialization the run started from.
    let start = EncoderClassifier::initialized(model.config().clone(), model.tokenizer().clone(), 11).unwrap();
    for ((name, trained), (_, initial)) in flat(&model).iter().zip(flat(&start)) {
        assert!(trained.iter().zip(&initial).any(|(a, b)| a != b), "{name} never moved");
    }
}

#[test]
fn training_repeats_for_a_seed_and_resumes_from_a_checkpoint() {
    let (train, dev) = small_split(10);
    let dir = tempfile::tempdir().unwrap();
    let checkpoints = dir.path().join("checkpoints");
    let opts = EncoderTrainOptions { epochs: 3, checkpoint_dir: Some(checkpoints.clone()), ..tiny_options() };
    let (a, report_a) = train_encoder(&train, &dev, &opts, &mut |_| {}).unwrap();
    let (b, _) =
        train_encoder(&train, &dev, &EncoderTrainOptions { checkpoint_dir: None, ..opts.clone() }, &mut |_| {})
            .unwrap();
    assert_eq!(flat(&a), flat(&b), "two runs with one seed differ");
    for sub in ["epoch-001", "epoch-002", "epoch-003", "best"] {
        assert!(checkpoints.join(sub).join("model.safetensors").exists(), "no checkpoint {sub}");
    }

    // Resuming after epoch 2 runs epoch 3 only, with the batches the full run had; the weights
    // differ slightly from the uninterrupted run (the optimizer moments restart), the history
    // is whole.
    let resumed_opts =
        EncoderTrainOptions { resume: Some(checkpoints.join("epoch-002")), checkpoint_dir: None, ..opts.clone() };
    let mut epochs_run = Vec::new();
    let (_, report_r) = train_encoder(&train, &dev, &resumed_opts, &mut |p| {
        if let TrainProgress::Epoch(e) = p {
            epochs_run.push(e.epoch)
        }
    })
    .unwrap();
    assert_eq!(epochs_run, vec![3]);
    assert_eq!(report_r.epochs.len(), 3);
    for (r, a) in report_r.epochs[..2].iter().zip(&report_a.epochs) {
        assert_eq!((r.epoch, r.best), (a.epoch, a.best));
        assert!((r.train_loss - a.train_loss).abs() < 1e-9);
    }

    // A different seed gives a different model.
    let (c, _) =
        train_encoder(&train, &dev, &EncoderTrainOptions { seed: 12, checkpoint_dir: None, ..opts }, &mut |_| {})
            .unwrap();
    assert_ne!(flat(&a), flat(&c));
}

#[test]
fn a_saved_model_loads_back_with_identical_probabilities() {
    let (train, _) = small_split(8);
    let opts = EncoderTrainOptions { epochs: 1, ..tiny_options() };
    let (model, _) = train_encoder(&train, &[], &opts, &mut |_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.write_dir(dir.path()).unwrap();

    let texts: Vec<&str> = train.iter().map(|e| e.text.as_str()).chain(["", "\u{0}日本", "x"]).collect();
    let expected = model.predict_batch(&texts).unwrap();
    let from_dir = EncoderClassifier::from_dir(dir.path()).unwrap();
    assert_eq!(from_dir.predict_batch(&texts).unwrap(), expected);
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    let from_bytes =
        EncoderClassifier::from_bytes(&read("config.json"), &read("model.safetensors"), &read("tokenizer.json"))
            .unwrap();
    assert_eq!(from_bytes.predict_batch(&texts).unwrap(), expected);
    assert_eq!(from_bytes.config(), model.config());
    // One text alone gets the probabilities it gets inside a batch (up to float rounding).
    let alone = model.predict_batch(&texts[..1]).unwrap();
    for (a, b) in alone[0].iter().zip(&expected[0]) {
        assert!((a - b).abs() < 1e-5);
    }

    // A directory with a broken file names it.
    std::fs::write(dir.path().join("model.safetensors"), b"not safetensors").unwrap();
    let err = EncoderClassifier::from_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains(&dir.path().display().to_string()) && err.contains("safetensors"), "{err}");
    let missing = EncoderClassifier::from_dir(&dir.path().join("nowhere")).unwrap_err().to_string();
    assert!(missing.contains("config.json"), "{missing}");
}

/// User + system time of this process so far (Linux), in seconds.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Throughput and latency of a trained model (prints figures; asserts nothing about time).
/// `THREAT_ENCODER_DIR=models/threat-encoder cargo test --release --test threat_encoder -- --ignored --nocapture`
#[test]
#[ignore]
fn throughput_of_a_trained_model() {
    let dir = std::env::var_os("THREAT_ENCODER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models/threat-encoder"));
    let model = EncoderClassifier::from_dir(&dir).unwrap();
    // Log lines of about 100 bytes, as a detector sees them.
    let lines: Vec<String> =
        shared_examples().into_iter().map(|e| e.text).filter(|t| (80..=130).contains(&t.len())).take(2048).collect();
    let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
    let mean_len = refs.iter().map(|t| t.len()).sum::<usize>() / refs.len();
    let tokens = refs.iter().map(|t| model.tokenizer().encode(t, model.config().max_len).unwrap().len()).sum::<usize>()
        / refs.len();
    for internal in [4, 8, 16, 32, 64] {
        let model = model.clone().with_batch_size(internal);
        model.predict_batch(&refs[..64]).unwrap();
        let (started, cpu_started) = (std::time::Instant::now(), process_cpu_seconds());
        for _ in 0..3 {
            for chunk in refs.chunks(64) {
                model.predict_batch(chunk).unwrap();
            }
        }
        let wall = 3.0 * refs.len() as f64 / started.elapsed().as_secs_f64();
        // Lines per CPU-second: what a core of its own would do, whatever else the machine runs.
        let cpu = process_cpu_seconds().zip(cpu_started).map_or(0.0, |(b, a)| 3.0 * refs.len() as f64 / (b - a));
        println!("calls of 64 lines, network batches of {internal}: {wall:.0} lines/s, {cpu:.0} lines per CPU-second");
    }
    let mut single: Vec<f64> = refs
        .iter()
        .take(300)
        .map(|t| {
            let s = std::time::Instant::now();
            model.predict_batch(&[t]).unwrap();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    single.sort_by(f64::total_cmp);
    println!(
        "{} lines of {mean_len} bytes ({tokens} tokens) on average; single line p50 {:.2} ms, p95 {:.2} ms; \
         {} parameters",
        refs.len(),
        single[single.len() / 2],
        single[single.len() * 95 / 100],
        model.config().parameter_count()
    );
}
