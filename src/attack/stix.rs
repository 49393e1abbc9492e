//! Reading a STIX 2.1 ATT&CK bundle.
//!
//! The enterprise bundle is 50 MB and 25,000 objects, most of them `uses` relationships with long
//! descriptions. The reader deserializes objects one at a time from the `objects` array and keeps
//! only the types the catalog or the enrichment needs ([`WANTED_TYPES`]); unknown fields are
//! skipped by serde without being stored. Whether description text is kept at all is a type
//! parameter: [`FactObject`] skips it (import: facts only), [`TextObject`] keeps it (enrichment).
//!
//! Every field is optional or defaulted, so an object missing something deserializes and the
//! importer decides what matters; a field of the wrong type is an error with line and column.

use super::AttackError;
use serde::de::{DeserializeOwned, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::marker::PhantomData;

/// Object types kept by the reader; everything else is parsed past and dropped.
pub const WANTED_TYPES: &[&str] = &[
    "attack-pattern",
    "x-mitre-tactic",
    "x-mitre-matrix",
    "course-of-action",
    "relationship",
    "x-mitre-detection-strategy",
    "x-mitre-analytic",
    "x-mitre-data-component",
    "intrusion-set",
    "malware",
    "tool",
    "campaign",
    "x-mitre-collection",
];

/// Source names under which ATT&CK puts its own ids (T1059, M1032, TA0002, ...).
const ATTACK_SOURCES: &[&str] = &["mitre-attack", "mitre-ics-attack", "mitre-mobile-attack"];

/// A description field that is parsed past, never stored (see [`FactObject`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Skipped;

impl<'de> Deserialize<'de> for Skipped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Skipped)
    }
}

/// An object without its description text: what the importer reads.
pub type FactObject = StixObject<Skipped>;
/// An object with its description text: what the enrichment reads.
pub type TextObject = StixObject<String>;

/// The fields of the STIX objects that ATT&CK data uses and this crate reads. One flat struct for
/// all types (STIX objects are flat and the `type` may come after the other fields).
#[derive(Debug, Clone, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub struct StixObject<T> {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<T>,
    #[serde(default)]
    pub revoked: Option<bool>,
    #[serde(default)]
    pub x_mitre_deprecated: Option<bool>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub external_references: Vec<ExternalReference>,
    #[serde(default)]
    pub kill_chain_phases: Vec<KillChainPhase>,
    #[serde(default)]
    pub x_mitre_platforms: Vec<String>,
    #[serde(default)]
    pub x_mitre_domains: Vec<String>,
    #[serde(default)]
    pub x_mitre_is_subtechnique: Option<bool>,
    #[serde(default)]
    pub x_mitre_shortname: Option<String>,
    #[serde(default)]
    pub x_mitre_version: Option<String>,
    #[serde(default)]
    pub x_mitre_attack_spec_version: Option<String>,
    #[serde(default)]
    pub relationship_type: Option<String>,
    #[serde(default)]
    pub source_ref: Option<String>,
    #[serde(default)]
    pub target_ref: Option<String>,
    #[serde(default)]
    pub tactic_refs: Vec<String>,
    #[serde(default)]
    pub x_mitre_analytic_refs: Vec<String>,
    #[serde(default)]
    pub x_mitre_log_source_references: Vec<LogSourceReference>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExternalReference {
    #[serde(default)]
    pub source_name: String,
    #[serde(default)]
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KillChainPhase {
    #[serde(default)]
    pub kill_chain_name: String,
    #[serde(default)]
    pub phase_name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSourceReference {
    #[serde(default)]
    pub x_mitre_data_component_ref: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl<T> StixObject<T> {
    /// The ATT&CK id (T1059.001, M1032, TA0002, G0016, DET0103, AN0110, DC0084), if any.
    pub fn attack_id(&self) -> Option<&str> {
        self.external_references
            .iter()
            .find(|r| ATTACK_SOURCES.contains(&r.source_name.as_str()) && r.external_id.is_some())
            .and_then(|r| r.external_id.as_deref())
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked == Some(true)
    }

    pub fn is_deprecated(&self) -> bool {
        self.x_mitre_deprecated == Some(true)
    }

    /// Neither revoked nor deprecated: what ATT&CK shows on its site.
    pub fn is_active(&self) -> bool {
        !self.is_revoked() && !self.is_deprecated()
    }

    pub fn name_or_empty(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }
}

/// A bundle with only the wanted objects, in bundle order.
#[derive(Debug, Clone)]
pub struct Bundle<T> {
    pub id: Option<String>,
    pub objects: Vec<StixObject<T>>,
    /// Objects of other types that were parsed past.
    pub skipped: usize,
}

impl<T> Bundle<T> {
    /// The `x-mitre-collection` object, which carries the ATT&CK version.
    pub fn collection(&self) -> Option<&StixObject<T>> {
        self.objects.iter().find(|o| o.kind == "x-mitre-collection")
    }

    /// The ATT&CK version of the collection ("18.1").
    pub fn version(&self) -> Option<&str> {
        self.collection().and_then(|c| c.x_mitre_version.as_deref())
    }

    /// The domain key ("enterprise-attack", "ics-attack", "mobile-attack"): the id of the
    /// bundle's matrix, else the domain most of its techniques declare.
    pub fn domain(&self) -> Option<String> {
        if let Some(m) = self.objects.iter().find(|o| o.kind == "x-mitre-matrix").and_then(|m| m.attack_id()) {
            return Some(m.to_string());
        }
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for o in self.objects.iter().filter(|o| o.kind == "attack-pattern") {
            for d in &o.x_mitre_domains {
                *counts.entry(d.as_str()).or_default() += 1;
            }
        }
        counts.into_iter().max_by_key(|&(d, n)| (n, std::cmp::Reverse(d))).map(|(d, _)| d.to_string())
    }

    /// Checks this is an ATT&CK bundle the importer can use: it has a collection object with a
    /// version and a domain can be told. `what` names the source in the error.
    pub fn check(&self, what: &str) -> Result<(), AttackError> {
        let bad = |reason: &str| AttackError::NotABundle { what: what.to_string(), reason: reason.to_string() };
        let Some(c) = self.collection() else {
            return Err(bad("it has no x-mitre-collection object (which carries the ATT&CK version)"));
        };
        if c.x_mitre_version.as_deref().is_none_or(str::is_empty) {
            return Err(bad("its x-mitre-collection object has no x_mitre_version"));
        }
        if self.domain().is_none() {
            return Err(bad("it has no x-mitre-matrix and no attack-pattern declaring its domain"));
        }
        Ok(())
    }
}

/// Parses a bundle from bytes, naming `what` (a path or URL) in errors. Does not call
/// [`Bundle::check`]; an empty but well-formed bundle parses.
pub fn read_bundle<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<Bundle<T>, AttackError> {
    let raw: RawBundle<T> =
        serde_json::from_slice(bytes).map_err(|source| AttackError::Parse { what: what.to_string(), source })?;
    let not = |reason: String| AttackError::NotABundle { what: what.to_string(), reason };
    match raw.kind.as_deref() {
        Some("bundle") => {}
        Some(other) => return Err(not(format!("its top-level `type` is {other:?}, not \"bundle\""))),
        None => return Err(not("its top-level object has no `type` (a STIX bundle has \"bundle\")".into())),
    }
    let Some(objects) = raw.objects else {
        return Err(not("it has no `objects` array".into()));
    };
    Ok(Bundle { id: raw.id, objects: objects.kept, skipped: objects.skipped })
}

/// Reads and parses a bundle file, refusing files over `max_bytes`.
pub fn read_bundle_file<T: DeserializeOwned>(path: &std::path::Path, max_bytes: u64) -> Result<Bundle<T>, AttackError> {
    let meta = std::fs::metadata(path).map_err(|source| AttackError::Read { path: path.into(), source })?;
    let what = path.display().to_string();
    if meta.len() > max_bytes {
        return Err(AttackError::TooLarge { what, size: meta.len(), limit: max_bytes });
    }
    let bytes = std::fs::read(path).map_err(|source| AttackError::Read { path: path.into(), source })?;
    read_bundle(&bytes, &what)
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
struct RawBundle<T> {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    objects: Option<Kept<T>>,
}

/// The `objects` array, filtered while it is read so skipped objects are dropped at once.
struct Kept<T> {
    kept: Vec<StixObject<T>>,
    skipped: usize,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Kept<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = Kept<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of STIX objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kept<T>, A::Error> {
                let mut out = Kept { kept: Vec::new(), skipped: 0 };
                while let Some(obj) = seq.next_element::<StixObject<T>>()? {
                    if WANTED_TYPES.contains(&obj.kind.as_str()) {
                        out.kept.push(obj);
                    } else {
                        out.skipped += 1;
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_wanted_types_and_skips_descriptions() {
        let json = br#"{"type":"bundle","id":"bundle--1","objects":[
            {"type":"identity","id":"identity--1","name":"x"},
            {"name":"PowerShell","description":"long text","type":"attack-pattern","id":"attack-pattern--1",
             "external_references":[{"source_name":"mitre-attack","external_id":"T1059.001","url":"u"}],
             "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}]}]}"#;
        let b: Bundle<Skipped> = read_bundle(json, "t").unwrap();
        assert_eq!(b.objects.len(), 1);
        assert_eq!(b.skipped, 1);
        assert_eq!(b.objects[0].attack_id(), Some("T1059.001"));
        assert_eq!(b.objects[0].description, Some(Skipped));
        let b: Bundle<String> = read_bundle(json, "t").unwrap();
        assert_eq!(b.objects[0].description.as_deref(), Some("long text"));
    }

    #[test]
    fn bad_input_is_an_error_naming_the_source() {
        for (bytes, needle) in [
            (&b"not json"[..], "x.json is not a readable STIX bundle"),
            (b"[]", "x.json is not an ATT&CK STIX bundle"),
            (br#"{"type":"report","objects":[]}"#, "not \"bundle\""),
            (br#"{"type":"bundle"}"#, "no `objects`"),
            (br#"{"type":"bundle","objects":[{"type":"attack-pattern","revoked":"yes"}]}"#, "line 1"),
        ] {
            let err = read_bundle::<Skipped>(bytes, "x.json").unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        let b: Bundle<Skipped> = read_bundle(br#"{"type":"bundle","objects":[]}"#, "x.json").unwrap();
        assert!(b.check("x.json").unwrap_err().to_string().contains("no x-mitre-collection"));
    }
}
