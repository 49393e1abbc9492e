//! Run-time enrichment from a full local ATT&CK bundle.
//!
//! The committed catalog holds facts only. When a full bundle is present locally (for example
//! ../shared/mitre/enterprise-attack.json, or one saved by `mitre sync --save`), the mapper can
//! match incident text against MITRE's technique descriptions and procedure examples (the
//! descriptions of `uses` relationships: "APT29 has used PowerShell to ..."). Those texts are
//! MITRE's prose, so they live in memory only and are never written to mitre/.

use super::stix::{read_bundle, read_bundle_file, TextObject};
use super::AttackError;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// Largest bundle [`Enrichment::from_bundle`] reads (the enterprise bundle is 50 MB).
pub const MAX_BUNDLE_BYTES: u64 = 512 * 1024 * 1024;

/// One procedure example: who used the technique and MITRE's sentence saying how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Procedure {
    /// ATT&CK id of the group, software or campaign (G0016, S0002, C0024).
    pub source_id: String,
    pub source_name: String,
    pub text: String,
}

/// Descriptions and procedure examples per technique id, from one or more bundles.
#[derive(Debug, Default, Clone)]
pub struct Enrichment {
    versions: Vec<(String, String)>,
    descriptions: HashMap<String, String>,
    procedures: HashMap<String, Vec<Procedure>>,
}

impl Enrichment {
    /// Reads a full bundle file.
    pub fn from_bundle(path: &Path) -> Result<Enrichment, AttackError> {
        let bundle = read_bundle_file::<String>(path, MAX_BUNDLE_BYTES)?;
        Self::from_parsed(bundle, &path.display().to_string())
    }

    /// Reads a full bundle from bytes; `what` names it in errors.
    pub fn from_bytes(bytes: &[u8], what: &str) -> Result<Enrichment, AttackError> {
        Self::from_parsed(read_bundle::<String>(bytes, what)?, what)
    }

    fn from_parsed(bundle: super::stix::Bundle<String>, what: &str) -> Result<Enrichment, AttackError> {
        bundle.check(what)?;
        let mut e = Enrichment {
            versions: vec![(bundle.domain().unwrap_or_default(), bundle.version().unwrap_or_default().to_string())],
            ..Default::default()
        };
        let by_stix: HashMap<&str, &TextObject> = bundle.objects.iter().map(|o| (o.id.as_str(), o)).collect();
        for t in bundle.objects.iter().filter(|o| o.kind == "attack-pattern" && !o.is_revoked()) {
            if let (Some(id), Some(d)) = (t.attack_id(), t.description.as_deref()) {
                if !d.trim().is_empty() {
                    e.descriptions.insert(id.to_string(), d.to_string());
                }
            }
        }
        for r in bundle.objects.iter().filter(|o| o.kind == "relationship" && o.is_active()) {
            if r.relationship_type.as_deref() != Some("uses") {
                continue;
            }
            let (Some(src), Some(dst)) = (r.source_ref.as_deref(), r.target_ref.as_deref()) else { continue };
            let (Some(src), Some(dst)) = (by_stix.get(src), by_stix.get(dst)) else { continue };
            if dst.kind != "attack-pattern"
                || !matches!(src.kind.as_str(), "intrusion-set" | "malware" | "tool" | "campaign")
            {
                continue;
            }
            let (Some(tid), Some(sid), Some(text)) = (dst.attack_id(), src.attack_id(), r.description.as_deref())
            else {
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            e.procedures.entry(tid.to_string()).or_default().push(Procedure {
                source_id: sid.to_string(),
                source_name: src.name_or_empty().to_string(),
                text: text.trim().to_string(),
            });
        }
        for v in e.procedures.values_mut() {
            v.sort_by(|a, b| (&a.source_id, &a.text).cmp(&(&b.source_id, &b.text)));
            v.dedup();
        }
        Ok(e)
    }

    /// Adds another bundle's texts (e.g. ICS after enterprise); existing entries are kept.
    pub fn merge(&mut self, other: Enrichment) {
        self.versions.extend(other.versions);
        for (k, v) in other.descriptions {
            self.descriptions.entry(k).or_insert(v);
        }
        for (k, v) in other.procedures {
            self.procedures.entry(k).or_insert(v);
        }
    }

    /// (domain, ATT&CK version) of each bundle read.
    pub fn versions(&self) -> &[(String, String)] {
        &self.versions
    }

    /// MITRE's description of a technique.
    pub fn description(&self, technique_id: &str) -> Option<&str> {
        self.descriptions.get(technique_id).map(String::as_str)
    }

    /// Procedure examples of a technique, sorted by source id.
    pub fn procedures(&self, technique_id: &str) -> &[Procedure] {
        self.procedures.get(technique_id).map_or(&[], Vec::as_slice)
    }

    /// Ids of the techniques that have procedure examples, sorted.
    pub fn techniques_with_procedures(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.procedures.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }

    /// Number of techniques with a description.
    pub fn described(&self) -> usize {
        self.descriptions.len()
    }

    /// Number of procedure examples over all techniques.
    pub fn procedure_count(&self) -> usize {
        self.procedures.values().map(Vec::len).sum()
    }
}
