//! The n-gram member and the normalizer on the shared training data
//! (../shared/threat/train.jsonl): a hashed 10% development split, figures, file round trip, and
//! that normalization leaves plain benign text alone.
//!
//! The full-size figures and the throughput are an ignored test (a release build is what the
//! numbers mean): `cargo test --release --test threat_ngram -- --ignored --nocapture`.

use cacao_forge::threat::corpus::read_examples;
use cacao_forge::threat::ngram::{NgramClassifier, NgramFeatures, NgramTrainOptions};
use cacao_forge::threat::normalize::normalize;
use cacao_forge::threat::{Classifier, ThreatExample, ThreatType};
use std::path::{Path, PathBuf};

fn shared_train() -> Vec<ThreatExample> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/threat/train.jsonl");
    assert!(path.exists(), "missing {}: the shared data must sit beside the repository", path.display());
    read_examples(&path).unwrap()
}

/// Deterministic 10% development split by a hash of the text.
fn split(rows: Vec<ThreatExample>) -> (Vec<ThreatExample>, Vec<ThreatExample>) {
    let in_dev = |text: &str| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        (h ^ (h >> 31)) % 100 < 10
    };
    rows.into_iter().partition(|e| !in_dev(&e.text))
}

#[test]
fn plain_benign_text_is_only_lowercased_and_collapsed() {
    let rows = shared_train();
    let mut checked = 0;
    for e in rows.iter().filter(|e| e.threat_type == ThreatType::Benign) {
        let plain = e.text.is_ascii() && !e.text.contains(['%', '&', '\\']);
        if !plain {
            continue;
        }
        let n = normalize(&e.text);
        let expected = e.text.split_ascii_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
        assert_eq!(n.text, expected, "{:?} was changed: {:?}", e.text, n.decodings);
        assert!(n.decodings.is_empty());
        checked += 1;
    }
    assert!(checked > 2500, "only {checked} plain benign rows");
}

#[test]
fn obfuscated_training_payloads_decode() {
    let rows = shared_train();
    let decoded = rows.iter().filter(|e| e.threat_type.is_threat() && normalize(&e.text).is_decoded()).count();
    // Path traversal and XSS rows are full of %-escapes, entities and \u escapes.
    assert!(decoded > 300, "only {decoded} threat rows had something decoded");
}

#[test]
fn a_model_trained_on_part_of_the_split_separates_the_dev_rows() {
    let (train, dev) = split(shared_train());
    // A quarter of the training rows and a small table keep this quick in a debug build.
    let train: Vec<ThreatExample> = train.into_iter().step_by(4).collect();
    let opts = NgramTrainOptions {
        features: NgramFeatures { bucket_bits: 16, ..NgramFeatures::default() },
        epochs: 4,
        ..NgramTrainOptions::default()
    };
    let (model, report) = NgramClassifier::train(&train, &dev, &opts).unwrap();
    assert_eq!(report.epochs.len(), 4);
    assert!(report.dev.binary_f1 > 0.9, "{:?}", report.dev);
    assert!(report.dev.type_accuracy > 0.85, "{:?}", report.dev);

    // Through a file and the Classifier trait, as the detector will use it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("threat-ngram.bin");
    model.write(&file).unwrap();
    let loaded: Box<dyn Classifier> = Box::new(NgramClassifier::from_file(&file).unwrap());
    assert_eq!(loaded.id(), "ngram/threat-ngram-v1");
    assert!(loaded.wants_normalized() && !loaded.is_binary());
    let texts: Vec<String> = dev.iter().take(50).map(|e| normalize(&e.text).text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    assert_eq!(loaded.predict_batch(&refs).unwrap(), model.predict_batch(&refs).unwrap());

    let sqli = normalize("1%27%20UNION%20SELECT%20password%20FROM%20users--").text;
    let why = model.contributions(&sqli, ThreatType::SqlInjection);
    let top: Vec<&str> = why.iter().take(5).map(|(s, _)| &sqli[s.clone()]).collect();
    assert!(top.iter().any(|t| t.contains("union") || t.contains("select") || t.contains('\'')), "{top:?}");
}

/// Full-size training on the 90% split, figures on the 10%, and throughput.
#[test]
#[ignore]
fn shared_split_figures_and_throughput() {
    let (train, dev) = split(shared_train());
    let opts = NgramTrainOptions::default();
    let start = std::time::Instant::now();
    let (model, report) = NgramClassifier::train(&train, &dev, &opts).unwrap();
    println!("trained on {} rows in {:.1}s; dev {} rows", train.len(), start.elapsed().as_secs_f64(), dev.len());
    for e in &report.epochs {
        println!(
            "epoch {:2}: loss {:.4}  dev F1 {:.4}  type acc {:.4}  threat-type acc {:.4}",
            e.epoch, e.train_loss, e.dev.binary_f1, e.dev.type_accuracy, e.dev.threat_type_accuracy
        );
    }
    println!("stored (i8) model on dev: {:?}", report.dev);
    let bytes = model.to_bytes();
    println!("model file: {} bytes", bytes.len());
    let out = std::env::var("THREAT_NGRAM_OUT").ok();
    if let Some(out) = out {
        model.write(Path::new(&out)).unwrap();
    }

    // Throughput on 100-byte lines: the member alone on normalized text, and normalize + member.
    let lines: Vec<String> = dev
        .iter()
        .map(|e| {
            let mut t = e.text.clone();
            while t.len() < 100 {
                t.push_str(" ok");
            }
            let mut end = 100;
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            t[..end].to_string()
        })
        .collect();
    let normalized: Vec<String> = lines.iter().map(|l| normalize(l).text).collect();
    let refs: Vec<&str> = normalized.iter().map(String::as_str).collect();
    let rounds = 20;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(model.predict_batch(&refs).unwrap());
    }
    let member = (rounds * refs.len()) as f64 / start.elapsed().as_secs_f64();
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for l in &lines {
            std::hint::black_box(normalize(l));
        }
    }
    let norm = (rounds * lines.len()) as f64 / start.elapsed().as_secs_f64();
    let clean = "Dec 10 11:02:34 LabSZ sshd[25390]: Accepted password for jdoe from 10.0.0.5 port 40476 ssh2 ok";
    let start = std::time::Instant::now();
    for _ in 0..100_000 {
        std::hint::black_box(normalize(std::hint::black_box(clean)));
    }
    let clean_us = start.elapsed().as_secs_f64() * 1e6 / 100_000.0;
    println!(
        "throughput, 100-byte dev lines, one thread: n-gram member {member:.0} lines/s, normalize {norm:.0} lines/s; \
         normalize of a clean 100-byte log line {clean_us:.2} µs"
    );
}
