//! Data-wide checks of the command-line indicator rules in mitre/indicators/: every rule compiles,
//! examples match and negatives do not, ids exist in ATT&CK, plus printed accuracy, coverage and
//! speed (run with `--nocapture` to see them).

#[allow(dead_code)]
use cacao_forge::attack::indicators;

use indicators::{indicators, parent_of, IndicatorSet};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Instant;

fn attack_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/mitre/enterprise-attack.json")
}

/// ATT&CK technique id -> (usable: not revoked and not deprecated, tactics).
fn attack_techniques() -> HashMap<String, (bool, Vec<String>)> {
    let path = attack_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read the ATT&CK bundle at {} ({e}); it is needed to check technique ids", path.display())
    });
    let bundle: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", path.display()));
    let mut out = HashMap::new();
    for o in bundle["objects"].as_array().expect("bundle has objects") {
        if o["type"] != "attack-pattern" {
            continue;
        }
        let Some(id) = o["external_references"]
            .as_array()
            .and_then(|refs| refs.iter().find(|r| r["source_name"] == "mitre-attack"))
            .and_then(|r| r["external_id"].as_str())
        else {
            continue;
        };
        let usable = !o["revoked"].as_bool().unwrap_or(false) && !o["x_mitre_deprecated"].as_bool().unwrap_or(false);
        let tactics = o["kill_chain_phases"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["phase_name"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        // Keep the usable object if an id appears twice (revoked copies exist in some bundles).
        let entry = out.entry(id.to_string()).or_insert((usable, tactics));
        entry.0 |= usable;
    }
    out
}

#[test]
fn every_rule_file_parses_and_every_regex_compiles() {
    let set = indicators();
    let files: BTreeSet<&str> = set.rules().iter().map(|r| r.file.as_str()).collect();
    assert_eq!(files.len(), indicators::FILES.len(), "every embedded file contributes rules");
    // The embedded table must list every JSON file of the directory.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mitre/indicators");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let embedded: BTreeSet<String> = indicators::FILES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(on_disk, embedded, "FILES in src/attack/indicators.rs must list every mitre/indicators/*.json");
    // Each technique is described once, so weights are not split across rules.
    let mut seen = BTreeMap::new();
    for r in set.rules() {
        if let Some(prev) = seen.insert(r.technique.as_str(), r.file.as_str()) {
            panic!("{} is defined in both {prev} and {}", r.technique, r.file);
        }
    }
    for r in set.rules() {
        assert!(!r.patterns.is_empty() && r.patterns.len() <= 6, "{}: {} patterns", r.technique, r.patterns.len());
    }
}

#[test]
fn examples_match_their_rule_and_negatives_do_not() {
    let set = indicators();
    let mut failures = Vec::new();
    for r in set.rules() {
        if r.examples.is_empty() {
            failures.push(format!("{} ({}): no examples", r.technique, r.file));
        }
        for ex in &r.examples {
            if !r.is_match(ex) {
                failures.push(format!("{} ({}): example matches none of its patterns: {ex}", r.technique, r.file));
            }
        }
        for neg in &r.negatives {
            for (i, p) in r.patterns.iter().enumerate() {
                if p.regex().is_match(neg) {
                    failures.push(format!("{} ({}): negative matches pattern {i}: {neg}", r.technique, r.file));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn technique_ids_exist_in_attack_and_are_current() {
    let attack = attack_techniques();
    let mut bad = Vec::new();
    for r in indicators().rules() {
        match attack.get(&r.technique) {
            None => bad.push(format!("{} ({}): not in {}", r.technique, r.file, attack_path().display())),
            Some((false, _)) => bad.push(format!("{} ({}): revoked or deprecated in ATT&CK", r.technique, r.file)),
            Some(_) => {}
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// (examples, top-1 hits, top-5 hits).
type Tally = (usize, usize, usize);

/// Parent-level top-k of `rank` over every example, overall and per file.
fn accuracy(set: &IndicatorSet) -> (Tally, BTreeMap<String, Tally>) {
    let (mut n, mut top1, mut top5) = (0, 0, 0);
    let mut per_file: BTreeMap<String, Tally> = BTreeMap::new();
    for r in set.rules() {
        let want = r.parent();
        for ex in &r.examples {
            let mut parents: Vec<&str> = Vec::new();
            let ranked = set.rank(ex);
            for (t, _) in &ranked {
                let p = parent_of(t);
                if !parents.contains(&p) {
                    parents.push(p);
                }
            }
            let hit1 = parents.first() == Some(&want);
            let hit5 = parents.iter().take(5).any(|p| *p == want);
            n += 1;
            top1 += usize::from(hit1);
            top5 += usize::from(hit5);
            let e = per_file.entry(r.file.clone()).or_default();
            e.0 += 1;
            e.1 += usize::from(hit1);
            e.2 += usize::from(hit5);
        }
    }
    ((n, top1, top5), per_file)
}

#[test]
fn rank_accuracy_over_own_examples() {
    let set = indicators();
    let ((n, top1, top5), per_file) = accuracy(set);
    let parents: BTreeSet<&str> = set.rules().iter().map(|r| r.parent()).collect();
    println!(
        "indicators: {} rules, {} parent techniques, {} patterns, {} examples",
        set.rules().len(),
        parents.len(),
        set.pattern_count(),
        n
    );
    for (file, (k, t1, t5)) in &per_file {
        println!(
            "  {file:<28} examples {k:>4}  top-1 {:.3}  top-5 {:.3}",
            *t1 as f64 / *k as f64,
            *t5 as f64 / *k as f64
        );
    }
    let (t1, t5) = (top1 as f64 / n as f64, top5 as f64 / n as f64);
    println!("indicators over own examples (parent level): top-1 {t1:.3}  top-5 {t5:.3}");
    assert!(t1 >= 0.9, "top-1 over own examples is {t1:.3}, below the 0.9 sanity floor");
}

#[test]
fn per_tactic_coverage() {
    let attack = attack_techniques();
    let covered: BTreeSet<&str> = indicators().rules().iter().map(|r| r.parent()).collect();
    let mut per_tactic: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (id, (usable, tactics)) in &attack {
        if !usable || id.contains('.') {
            continue;
        }
        for t in tactics {
            let e = per_tactic.entry(t.clone()).or_default();
            e.1 += 1;
            e.0 += usize::from(covered.contains(id.as_str()));
        }
    }
    println!("per-tactic coverage (parent techniques with rules / current parents in the tactic):");
    for (tactic, (c, total)) in &per_tactic {
        println!("  {tactic:<22} {c:>3} / {total:<3}");
    }
    assert!(per_tactic.values().map(|v| v.0).sum::<usize>() > 0);
}

#[test]
fn matching_speed() {
    let set = indicators();
    let lines: Vec<&str> = set.rules().iter().flat_map(|r| r.examples.iter().map(String::as_str)).collect();
    let _ = set.rank(lines[0]); // warm up
    let rounds = 5;
    let start = Instant::now();
    let mut hits = 0usize;
    for _ in 0..rounds {
        for l in &lines {
            hits += set.matches(l).len();
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let total = lines.len() * rounds;
    println!(
        "indicator matching: {total} lines in {secs:.3}s = {:.0} lines/s ({hits} hits; debug builds are slower)",
        total as f64 / secs
    );
    // Reference: every pattern run on its own, no RegexSet.
    let start = Instant::now();
    let mut naive = 0usize;
    for l in &lines {
        for r in set.rules() {
            naive += r.patterns.iter().filter(|p| p.regex().is_match(l)).count();
        }
    }
    let secs1 = start.elapsed().as_secs_f64();
    println!("per-pattern scan: {} lines in {secs1:.3}s = {:.0} lines/s", lines.len(), lines.len() as f64 / secs1);
    assert_eq!(naive * rounds, hits, "RegexSet pass and per-pattern scan agree");
}
