//! Which response knowledge a technique uses, and its ATT&CK mitigations.
//!
//! Knowledge is looked up in this order:
//! 1. the technique's own file (`T1003.001.json`), then its parent's (`T1003.json`);
//! 2. a threat-type file (`threat-types/*.json`) whose `techniques` list names the technique or its
//!    parent;
//! 3. a threat-type file chosen by the technique's first tactic (in matrix order) that has one:
//!    reconnaissance and discovery -> `reconnaissance`, privilege-escalation ->
//!    `privilege_escalation`, collection and exfiltration -> `data_exfiltration`, execution,
//!    persistence, defense-evasion and command-and-control -> `malware`. Tactics whose responses
//!    differ too much to share one fallback (initial-access, credential-access, lateral-movement,
//!    impact, resource-development) have none: the plan says so instead of guessing.

use crate::attack::responses::{ResponseKnowledge, ResponseLibrary};
use crate::attack::{parent_of, Catalog};
use serde::Serialize;

/// How the knowledge was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KnowledgeMatch {
    /// The technique's own file.
    Technique,
    /// A sub-technique using its parent's file.
    Parent,
    /// A threat-type fallback.
    ThreatType,
}

/// The knowledge a technique's actions come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KnowledgeUsed {
    /// The technique id or the threat type.
    pub key: String,
    #[serde(rename = "match")]
    pub matched: KnowledgeMatch,
    pub name: String,
    /// For a fallback: why this threat type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where a mitigation of a technique comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MitigationSource {
    /// Only our knowledge file lists it.
    Knowledge,
    /// Only ATT&CK's `mitigates` relationships (of the technique or its parent) list it.
    Attack,
    /// Both.
    Both,
}

/// An ATT&CK mitigation of a planned technique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedMitigation {
    pub id: String,
    /// `None` when the id is not in the catalog.
    pub name: Option<String>,
    pub source: MitigationSource,
}

/// The fallback threat type for a tactic shortname, if it has one (see the module documentation).
pub fn threat_type_for_tactic(tactic: &str) -> Option<&'static str> {
    Some(match tactic {
        "reconnaissance" | "discovery" => "reconnaissance",
        "privilege-escalation" => "privilege_escalation",
        "collection" | "exfiltration" => "data_exfiltration",
        "execution" | "persistence" | "defense-evasion" | "command-and-control" => "malware",
        _ => return None,
    })
}

/// The knowledge for a technique (id as mapped, tactic shortnames in matrix order), and how it was
/// found; `None` when there is none at all.
pub fn choose<'l>(
    library: &'l ResponseLibrary,
    catalog: &Catalog,
    id: &str,
    tactics: &[String],
) -> Option<(&'l ResponseKnowledge, KnowledgeUsed)> {
    let id = id.trim().to_ascii_uppercase();
    if let Some(k) = library.for_technique(&id) {
        let matched = if k.key() == id { KnowledgeMatch::Technique } else { KnowledgeMatch::Parent };
        return Some((k, KnowledgeUsed { key: k.key().to_string(), matched, name: k.name.clone(), reason: None }));
    }
    let p = parent_of(&id);
    if let Some(k) = library.threat_types().find(|k| k.techniques.iter().any(|t| t == &id || t == p)) {
        return Some((
            k,
            KnowledgeUsed {
                key: k.key().to_string(),
                matched: KnowledgeMatch::ThreatType,
                name: k.name.clone(),
                reason: Some(format!("the threat type lists {} among its usual techniques", p)),
            },
        ));
    }
    let tactics: Vec<String> = if tactics.is_empty() {
        catalog.technique(&id).or_else(|| catalog.technique(p)).map(|t| t.tactics.clone()).unwrap_or_default()
    } else {
        tactics.to_vec()
    };
    for tactic in &tactics {
        if let Some(k) = threat_type_for_tactic(tactic).and_then(|t| library.for_threat_type(t)) {
            return Some((
                k,
                KnowledgeUsed {
                    key: k.key().to_string(),
                    matched: KnowledgeMatch::ThreatType,
                    name: k.name.clone(),
                    reason: Some(format!("chosen by the technique's tactic {tactic}")),
                },
            ));
        }
    }
    None
}

/// The note for a technique with no knowledge at all.
pub fn no_knowledge_note(id: &str, tactics: &[String]) -> String {
    let tactics = if tactics.is_empty() { "unknown".to_string() } else { tactics.join(", ") };
    format!(
        "no response knowledge for {id}, and no threat-type fallback for its tactics ({tactics}); only its ATT&CK \
         mitigations are listed: write playbooks/responses/{}.json to get actions",
        parent_of(id)
    )
}

/// The technique's mitigations: `own`'s list first (the knowledge file, when it is the technique's
/// or its parent's), then ATT&CK's for the technique and its parent, deduplicated. Deprecated or
/// revoked catalog mitigations are left out of ATT&CK's part.
pub fn mitigations(catalog: &Catalog, own: Option<&ResponseKnowledge>, id: &str) -> Vec<PlannedMitigation> {
    let mut out: Vec<PlannedMitigation> = Vec::new();
    for m in own.map(|k| k.mitigations.as_slice()).unwrap_or_default() {
        if !out.iter().any(|x| &x.id == m) {
            out.push(PlannedMitigation {
                id: m.clone(),
                name: catalog.mitigation(m).map(|x| x.name.clone()),
                source: MitigationSource::Knowledge,
            });
        }
    }
    let mut links = catalog.mitigations_for_with_parent(id);
    if links.is_empty() && id.contains('.') {
        // A sub-technique the catalog does not know: its parent's mitigations still apply.
        links = catalog.mitigations_for_with_parent(parent_of(id));
    }
    for link in links.into_iter().filter(|l| l.mitigation.is_active()) {
        match out.iter_mut().find(|x| x.id == link.mitigation.id) {
            Some(x) => {
                if x.source == MitigationSource::Knowledge {
                    x.source = MitigationSource::Both;
                }
            }
            None => out.push(PlannedMitigation {
                id: link.mitigation.id.clone(),
                name: Some(link.mitigation.name.clone()),
                source: MitigationSource::Attack,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::responses::library;

    #[test]
    fn own_parent_and_fallbacks() {
        let c = Catalog::embedded();
        let (k, u) = choose(library(), c, "T1003", &[]).unwrap();
        assert_eq!((k.key(), u.matched), ("T1003", KnowledgeMatch::Technique));
        let (k, u) = choose(library(), c, "t1003.001", &[]).unwrap();
        assert_eq!((k.key(), u.matched), ("T1003", KnowledgeMatch::Parent));
        // T1114 Email Collection has no file; its tactic (collection) falls back to data_exfiltration.
        let (k, u) = choose(library(), c, "T1114", &[]).unwrap();
        assert_eq!((k.key(), u.matched), ("data_exfiltration", KnowledgeMatch::ThreatType));
        assert!(u.reason.unwrap().contains("collection"));
        // Given tactics win over the catalog's.
        let (k, _) = choose(library(), c, "T1114", &["discovery".to_string()]).unwrap();
        assert_eq!(k.key(), "reconnaissance");
        // Credential access has no sensible shared fallback.
        assert!(choose(library(), c, "T1649", &["credential-access".to_string()]).is_none());
        assert!(choose(library(), c, "T9999", &[]).is_none());
    }

    #[test]
    fn threat_type_listing_is_used_before_tactics() {
        // A library with only threat types: T1110 is listed by brute_force.
        let only_threats: Vec<(&str, &str)> =
            crate::attack::responses::FILES.iter().filter(|(p, _)| p.starts_with("threat-types/")).copied().collect();
        let lib = ResponseLibrary::from_files(&only_threats).unwrap();
        let (k, u) = choose(&lib, Catalog::embedded(), "T1110.001", &["credential-access".to_string()]).unwrap();
        assert_eq!((k.key(), u.matched), ("brute_force", KnowledgeMatch::ThreatType));
        assert!(u.reason.unwrap().contains("T1110"));
    }

    #[test]
    fn mitigations_knowledge_first_then_attack_deduplicated() {
        let c = Catalog::embedded();
        let k = library().for_technique("T1003").unwrap();
        let ms = mitigations(c, Some(k), "T1003.001");
        let ids: Vec<&str> = ms.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(&ids[..k.mitigations.len()], k.mitigations.iter().map(String::as_str).collect::<Vec<_>>());
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert!(ms.iter().all(|m| m.name.is_some()), "{ms:?}");
        // Every ATT&CK link of the technique and its parent is there.
        for l in c.mitigations_for_with_parent("T1003.001").into_iter().filter(|l| l.mitigation.is_active()) {
            let m = ms.iter().find(|m| m.id == l.mitigation.id).unwrap();
            assert_ne!(m.source, MitigationSource::Knowledge);
        }
        // Without knowledge: ATT&CK's only.
        let ms = mitigations(c, None, "T1114");
        assert!(!ms.is_empty() && ms.iter().all(|m| m.source == MitigationSource::Attack));
        assert!(mitigations(c, None, "T9999").is_empty());
    }

    #[test]
    fn note_names_the_missing_file() {
        let n = no_knowledge_note("T1649.001", &["credential-access".into()]);
        assert!(n.contains("T1649.001") && n.contains("credential-access") && n.contains("T1649.json"), "{n}");
    }
}
