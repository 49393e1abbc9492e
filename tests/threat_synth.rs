//! Synthetic threat data and the training corpus: counts, determinism, variety, benign
//! look-alikes, the JSONL round trip, disjoint splits, and the `synth` subcommands.

mod common;

use cacao_forge::threat::corpus::{build_corpus, example_row, parse_examples, CorpusOptions};
use cacao_forge::threat::synth::{generate, generator_names, SynthOptions, MAX_PER_LABEL};
use cacao_forge::threat::{ThreatExample, ThreatType, LABELS};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

fn all(per_label: usize, seed: u64) -> Vec<ThreatExample> {
    generate(&SynthOptions { per_label, seed, labels: Vec::new() })
}

fn count_by_label(rows: &[ThreatExample]) -> HashMap<ThreatType, usize> {
    let mut counts = HashMap::new();
    for e in rows {
        *counts.entry(e.threat_type).or_insert(0) += 1;
    }
    counts
}

#[test]
fn every_label_is_produced_at_the_asked_count() {
    let rows = all(300, 11);
    let counts = count_by_label(&rows);
    for label in LABELS {
        assert_eq!(counts.get(&label), Some(&300), "{label}");
    }
    assert_eq!(rows.len(), 300 * LABELS.len());
    // Every row names the generator that made it, and that generator belongs to its label.
    for e in &rows {
        let name = e.source.strip_prefix("synth:").unwrap_or_else(|| panic!("source {:?}", e.source));
        assert!(generator_names(e.threat_type).contains(&name), "{name} is no {} generator", e.threat_type);
    }
}

#[test]
fn a_seed_fixes_the_output_and_other_seeds_draw_other_texts() {
    let a = all(200, 5);
    assert_eq!(a, all(200, 5));
    let b: HashSet<String> = all(200, 6).into_iter().map(|e| e.text).collect();
    let shared = a.iter().filter(|e| b.contains(&e.text)).count();
    assert!(shared * 10 < a.len(), "{shared} of {} texts repeat under another seed", a.len());
}

#[test]
fn asking_for_some_labels_yields_their_rows_of_a_full_run() {
    let labels = vec![ThreatType::Phishing, ThreatType::Reconnaissance];
    let some = generate(&SynthOptions { per_label: 150, seed: 9, labels: labels.clone() });
    assert!(some.iter().all(|e| labels.contains(&e.threat_type)));
    let full: Vec<ThreatExample> = all(150, 9).into_iter().filter(|e| labels.contains(&e.threat_type)).collect();
    assert_eq!(some, full);
}

#[test]
fn no_text_appears_twice() {
    let rows = all(1500, 2);
    let mut seen = HashSet::new();
    for e in &rows {
        assert!(seen.insert(e.text.to_lowercase()), "duplicate {:?}", e.text);
        assert!(!e.text.trim().is_empty());
    }
}

#[test]
fn the_generators_cover_many_surfaces_per_label() {
    let rows = all(1500, 4);
    let mut sources: HashMap<ThreatType, HashSet<&str>> = HashMap::new();
    for e in &rows {
        sources.entry(e.threat_type).or_default().insert(e.source.as_str());
    }
    for label in LABELS {
        let n = sources.get(&label).map_or(0, |s| s.len());
        assert!(n >= 3, "{label} comes from {n} generators only");
        assert_eq!(n, generator_names(label).len(), "{label}: some generator never fired");
    }
    // Within one label, texts are not one template with other numbers: distinct first words.
    for label in LABELS {
        let heads: HashSet<String> = rows
            .iter()
            .filter(|e| e.threat_type == label)
            .filter_map(|e| e.text.split_whitespace().next().map(|w| w.chars().take(12).collect()))
            .collect();
        assert!(heads.len() >= 40, "{label}: only {} distinct leading words", heads.len());
    }
}

#[test]
fn benign_rows_include_the_look_alikes() {
    let rows = generate(&SynthOptions { per_label: 4000, seed: 1, labels: vec![ThreatType::Benign] });
    let has = |needle: &str| rows.iter().any(|e| e.text.contains(needle));
    for needle in
        ["SELECT ", "<div", "sudo ", "curl ", "<script", "onclick=", "powershell", "certutil", "UNION ALL", "O'"]
    {
        assert!(has(needle), "no benign row contains {needle:?}");
    }
    // Ordinary successful logins, mail and access logs are there too.
    for needle in ["Accepted publickey", "4624", "Invitation:", "\" 200 "] {
        assert!(has(needle), "no benign row contains {needle:?}");
    }
}

#[test]
fn threat_rows_carry_their_surfaces() {
    let rows = all(2000, 3);
    let has = |label: ThreatType, needle: &str| rows.iter().any(|e| e.threat_type == label && e.text.contains(needle));
    assert!(has(ThreatType::SqlInjection, "union"), "union-based SQL injection");
    assert!(has(ThreatType::SqlInjection, "HTTP/1.1\""), "SQL injection in access logs");
    assert!(has(ThreatType::Xss, "onerror"));
    assert!(has(ThreatType::Xss, "%3C") || has(ThreatType::Xss, "%3c"), "URL-encoded XSS");
    assert!(has(ThreatType::CommandInjection, "${IFS}"));
    assert!(has(ThreatType::PathTraversal, "%2e%2e") || has(ThreatType::PathTraversal, "%2E%2E"));
    assert!(has(ThreatType::BruteForce, "Failed password"));
    assert!(has(ThreatType::BruteForce, "4625"));
    assert!(has(ThreatType::PrivilegeEscalation, "COMMAND=/bin/bash"));
    assert!(has(ThreatType::Malware, "-enc") || has(ThreatType::Malware, "-EncodedCommand"));
    assert!(has(ThreatType::Reconnaissance, "nmap "));
    assert!(has(ThreatType::Reconnaissance, "/.git/"));
    assert!(has(ThreatType::Phishing, "account"));
    assert!(has(ThreatType::DataExfiltration, "rclone"));
    // powershell -enc carries UTF-16LE base64 that decodes to the command.
    let encoded = rows
        .iter()
        .filter(|e| e.threat_type == ThreatType::Malware)
        .find_map(|e| e.text.split_whitespace().skip_while(|w| !w.eq_ignore_ascii_case("-enc")).nth(1))
        .expect("a powershell -enc row")
        .trim_matches(|c| c == '"' || c == '\'');
    let bytes = base64_decode(encoded).unwrap_or_else(|| panic!("not base64: {encoded}"));
    let units: Vec<u16> = bytes.chunks(2).map(|p| u16::from_le_bytes([p[0], *p.get(1).unwrap_or(&0)])).collect();
    let command = String::from_utf16(&units).unwrap();
    assert!(command.contains("http") || command.contains("iwr") || command.contains("IEX"), "{command}");
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        bits = (bits << 6) | ALPHABET.iter().position(|&a| a == c)? as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    Some(out)
}

#[test]
fn rows_read_back_in_the_shared_format() {
    let rows = all(100, 8);
    let jsonl: String = rows.iter().map(|e| example_row(e).to_string() + "\n").collect();
    let back = parse_examples(&jsonl, "synth").unwrap();
    assert_eq!(back, rows);
}

#[test]
fn the_corpus_splits_are_disjoint_and_mix_shared_and_synthetic_rows() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/threat/train.jsonl");
    assert!(shared.exists(), "missing {}: the shared data must sit beside the repository", shared.display());
    let opts = CorpusOptions {
        shared_train: Some(shared),
        synth_per_label: 200,
        seed: 7,
        dev_fraction: 0.1,
        test_fraction: 0.1,
    };
    let corpus = build_corpus(&opts).unwrap();
    let mut seen = HashSet::new();
    for (name, rows) in corpus.splits() {
        assert!(!rows.is_empty(), "{name} is empty");
        let synthetic = rows.iter().filter(|e| e.source.starts_with("synth:")).count();
        assert!(synthetic > 0 && synthetic < rows.len(), "{name}: {synthetic} of {} synthetic", rows.len());
        for e in rows {
            assert!(seen.insert(e.text.to_lowercase()), "{:?} in two places", e.text);
        }
    }
    let summary = corpus.summary();
    let total: usize = summary.total.iter().sum();
    assert!((7000..=20000).contains(&total), "{total} rows");
    let share = |i: usize| summary.total[i] as f64 / total as f64;
    assert!((0.07..0.13).contains(&share(1)) && (0.07..0.13).contains(&share(2)), "dev {} test {}", share(1), share(2));
    // Labels the shared file lacks are filled; benign is as large as all threats together.
    let in_all = |l: ThreatType| summary.by_label.get(&l).map_or(0, |c| c.iter().sum::<usize>());
    assert!(in_all(ThreatType::Phishing) >= 390 && in_all(ThreatType::Reconnaissance) >= 390);
    let threats: usize = LABELS.iter().filter(|l| l.is_threat()).map(|l| in_all(*l)).sum();
    let benign = in_all(ThreatType::Benign);
    assert!(benign * 10 >= threats * 9, "benign {benign} vs threats {threats}");
}

#[test]
fn the_synth_threat_command_writes_jsonl_and_counts() {
    let (code, out, err) =
        common::cli(&["synth", "threat", "--count", "7", "--label", "phishing", "--label", "xss", "--seed", "3"]);
    assert_eq!(code, 0, "{err}");
    let rows = parse_examples(&out, "stdout").unwrap();
    assert_eq!(rows.len(), 14);
    assert_eq!(count_by_label(&rows).get(&ThreatType::Phishing), Some(&7));
    assert!(err.contains("phishing") && err.contains("total"), "{err}");
    assert!(out.lines().all(|l| l.contains("\"label\":\"threat\"")));

    let dir = std::env::temp_dir().join(format!("cacao-synth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rows.jsonl");
    let (code, out, _) = common::cli(&["synth", "threat", "--count", "3", "-o", file.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.is_empty());
    let rows = cacao_forge::threat::corpus::read_examples(&file).unwrap();
    assert_eq!(rows.len(), 3 * LABELS.len());

    let (code, _, err) = common::cli(&["synth", "threat", "--label", "ddos"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown threat type"), "{err}");
    let too_many = (MAX_PER_LABEL + 1).to_string();
    let (code, _, err) = common::cli(&["synth", "threat", "--count", &too_many]);
    assert_eq!(code, 2);
    assert!(err.contains("limit"), "{err}");

    let corpus_dir = dir.join("corpus");
    let (code, _, err) =
        common::cli(&["synth", "corpus", "--no-shared", "--count", "20", "--out-dir", corpus_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for split in ["train", "dev", "test"] {
        let rows = cacao_forge::threat::corpus::read_examples(&corpus_dir.join(format!("{split}.jsonl"))).unwrap();
        assert!(!rows.is_empty(), "{split}");
    }
    assert!(err.contains("benign") && err.contains("train"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
