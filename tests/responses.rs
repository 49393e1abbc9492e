//! Response knowledge against ATT&CK v18.1 and Sigma (both read in place from ../shared): every
//! technique and mitigation id is real and current, names match, and the techniques Sigma rules tag
//! most often have knowledge.

#[allow(dead_code)]
use cacao_forge::attack::responses;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use responses::{library, CommandType, Phase};

fn shared(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared").join(rel);
    assert!(
        p.exists(),
        "missing {}: these tests need the read-only ../shared folder beside the repository (shared/{rel})",
        p.display()
    );
    p
}

struct AttackObject {
    kind: String,
    name: String,
    current: bool,
}

struct Attack {
    objects: HashMap<String, AttackObject>,
    /// technique parent id -> mitigation ids linked to it or its sub-techniques by `mitigates`.
    mitigated_by: HashMap<String, BTreeSet<String>>,
}

fn attack() -> Attack {
    let path = shared("mitre/enterprise-attack.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let bundle: serde_json::Value = serde_json::from_slice(&bytes).expect("enterprise-attack.json is JSON");
    let mut objects = HashMap::new();
    let mut stix_to_id = HashMap::new();
    let list = bundle["objects"].as_array().expect("a STIX bundle with objects");
    for o in list {
        let kind = o["type"].as_str().unwrap_or_default();
        if kind != "attack-pattern" && kind != "course-of-action" {
            continue;
        }
        let Some(ext) = o["external_references"].as_array().and_then(|refs| {
            refs.iter().find(|r| r["source_name"] == "mitre-attack").and_then(|r| r["external_id"].as_str())
        }) else {
            continue;
        };
        let current = !o["revoked"].as_bool().unwrap_or(false) && !o["x_mitre_deprecated"].as_bool().unwrap_or(false);
        stix_to_id.insert(o["id"].as_str().unwrap_or_default().to_string(), ext.to_string());
        let entry = AttackObject { kind: kind.into(), name: o["name"].as_str().unwrap_or_default().into(), current };
        // A revoked object may share its id with a current one; keep the current one.
        if objects.get(ext).is_none_or(|prev: &AttackObject| !prev.current) {
            objects.insert(ext.to_string(), entry);
        }
    }
    let mut mitigated_by: HashMap<String, BTreeSet<String>> = HashMap::new();
    for o in list {
        if o["type"] == "relationship"
            && o["relationship_type"] == "mitigates"
            && !o["revoked"].as_bool().unwrap_or(false)
        {
            let (Some(m), Some(t)) = (
                o["source_ref"].as_str().and_then(|s| stix_to_id.get(s)),
                o["target_ref"].as_str().and_then(|s| stix_to_id.get(s)),
            ) else {
                continue;
            };
            let parent = t.split('.').next().unwrap_or(t).to_string();
            mitigated_by.entry(parent).or_default().insert(m.clone());
        }
    }
    Attack { objects, mitigated_by }
}

#[test]
fn technique_and_mitigation_ids_are_current_attack_v18() {
    let attack = attack();
    let check = |id: &str, kind: &str, what: &str| {
        let o = attack.objects.get(id).unwrap_or_else(|| panic!("{what}: {id} is not in ATT&CK enterprise"));
        assert_eq!(o.kind, kind, "{what}: {id} is a {}, not a {kind}", o.kind);
        assert!(o.current, "{what}: {id} ({}) is revoked or deprecated", o.name);
    };
    let mut unlinked = Vec::new();
    for k in library().techniques() {
        let id = k.technique_id.as_deref().unwrap();
        check(id, "attack-pattern", id);
        assert_eq!(attack.objects[id].name, k.name, "{id}: name differs from ATT&CK");
        let linked = attack.mitigated_by.get(id.split('.').next().unwrap()).cloned().unwrap_or_default();
        for m in &k.mitigations {
            check(m, "course-of-action", id);
            assert!(linked.contains(m), "{id}: ATT&CK does not link mitigation {m} to the technique");
        }
        for m in k.actions.iter().filter_map(|a| a.mitigation.as_ref()) {
            check(m, "course-of-action", id);
            if !linked.contains(m) {
                unlinked.push(format!("{id}:{m}"));
            }
        }
    }
    for k in library().threat_types() {
        let key = k.key();
        for t in &k.techniques {
            check(t, "attack-pattern", key);
        }
        for m in k.mitigations.iter().chain(k.actions.iter().filter_map(|a| a.mitigation.as_ref())) {
            check(m, "course-of-action", key);
        }
    }
    unlinked.sort();
    unlinked.dedup();
    // Informational: a mitigation an action implements that ATT&CK does not link to the technique
    // (for example Filter Network Traffic for blocking a brute-forcing address).
    println!("action mitigations beyond ATT&CK's `mitigates` links ({}): {}", unlinked.len(), unlinked.join(" "));
}

#[test]
fn top_sigma_techniques_have_knowledge() {
    let path = shared("sigma/sigma.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let rule: serde_json::Value = serde_json::from_str(line).expect("sigma.jsonl row is JSON");
        let tags = rule["tags_v18"].as_array().filter(|t| !t.is_empty()).or(rule["tags"].as_array());
        let parents: BTreeSet<String> = tags
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str())
            .map(|t| t.trim_start_matches("attack.").to_ascii_uppercase())
            .filter(|t| t.starts_with('T') && t[1..].starts_with(|c: char| c.is_ascii_digit()))
            .map(|t| t.split('.').next().unwrap().to_string())
            .collect();
        for p in parents {
            *counts.entry(p).or_default() += 1;
        }
    }
    let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let top: Vec<&(String, usize)> = ranked.iter().take(60).collect();
    let missing: Vec<String> =
        top.iter().filter(|(t, _)| library().for_technique(t).is_none()).map(|(t, n)| format!("{t}({n})")).collect();
    let covered = top.len() - missing.len();
    println!("Sigma top-60 coverage: {covered}/{} (missing: {})", top.len(), missing.join(" "));
    assert!(covered >= 50, "only {covered} of the top 60 Sigma techniques have knowledge; missing {missing:?}");
}

#[test]
fn summary_counts() {
    let lib = library();
    let all: Vec<_> = lib.techniques().chain(lib.threat_types()).collect();
    let mut phases: BTreeMap<&str, usize> = BTreeMap::new();
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    let mut approval = 0;
    for a in all.iter().flat_map(|k| &k.actions) {
        *phases.entry(a.phase.as_str()).or_default() += 1;
        *types.entry(a.command_type.as_str()).or_default() += 1;
        approval += usize::from(a.requires_approval);
    }
    let actions: usize = phases.values().sum();
    println!(
        "{} techniques, {} threat types, {actions} actions ({approval} need approval); phases {phases:?}; command types {types:?}",
        lib.technique_count(),
        lib.threat_types().count()
    );
    assert!(lib.technique_count() >= 60);
    for p in Phase::ALL {
        assert!(phases.get(p.as_str()).copied().unwrap_or(0) > 0);
    }
    assert!(types.contains_key(CommandType::Openc2Http.as_str()));
}
