//! The compact ATT&CK catalog: the per-domain files in mitre/ and the indexed [`Catalog`].
//!
//! # The file format ([`DomainFile`])
//! One JSON file per domain (`mitre/enterprise.json`, `ics.json`, `mobile.json`), facts only: ids,
//! names, tactics, platforms, flags and relationships, never description text (MITRE's prose stays
//! in the bundle; see [`super::Enrichment`] for using it at run time). Records are JSON arrays, one
//! per line, sorted, so a re-import of the same bundle gives byte-identical files and a new
//! ATT&CK release gives a readable diff. `status` is a bit set: 1 deprecated, 2 revoked.
//!
//! ```text
//! tactics               [id, shortname, name, status]              matrix order
//! techniques            [id, name, [tactic shortnames], [platforms], status, revoked_by|null]
//! mitigations           [id, name, status]
//! mitigates             [mitigation id, technique id]              active relationships only
//! detection_strategies  [id, name, status, [technique ids], [analytic ids]]
//! analytics             [id, status, [platforms], [[data component id, log source name]]]
//! data_components       [id, name, status]
//! groups, software      [id, name]                                 active objects only
//! ```
//!
//! # The catalog
//! [`Catalog`] merges the domains (technique and tactic ids never collide across domains; shared
//! mitigations, data components, groups and software are merged by id) and indexes them, so every
//! lookup is a hash probe or a precomputed list. [`Catalog::embedded`] parses the files compiled
//! into the binary once, on first use.

use super::stix::{Bundle, FactObject, Skipped};
use super::AttackError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::LazyLock;

/// Version of the compact format; a file with another version is refused.
pub const FORMAT_VERSION: u32 = 1;
const DEPRECATED: u8 = 1;
const REVOKED: u8 = 2;

/// The files compiled into the binary, in the order domains are searched.
const EMBEDDED: &[(&str, &str)] = &[
    ("mitre/enterprise.json", include_str!("../../mitre/enterprise.json")),
    ("mitre/ics.json", include_str!("../../mitre/ics.json")),
    ("mitre/mobile.json", include_str!("../../mitre/mobile.json")),
];

// ---------------------------------------------------------------------------------------------
// The file format

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TacticRow(String, String, String, u8);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TechniqueRow(String, String, Vec<String>, Vec<String>, u8, Option<String>);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct NamedRow(String, String, u8);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DetectionRow(String, String, u8, Vec<String>, Vec<String>);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AnalyticRow(String, u8, Vec<String>, Vec<(String, String)>);

/// One domain's compact data, as stored in mitre/<domain>.json. Built from a bundle by
/// [`DomainFile::from_bundle`], written by [`DomainFile::to_json`], read by [`DomainFile::parse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainFile {
    format: u32,
    domain: String,
    name: String,
    version: String,
    modified: String,
    attack_spec_version: String,
    tactics: Vec<TacticRow>,
    techniques: Vec<TechniqueRow>,
    mitigations: Vec<NamedRow>,
    mitigates: Vec<(String, String)>,
    detection_strategies: Vec<DetectionRow>,
    analytics: Vec<AnalyticRow>,
    data_components: Vec<NamedRow>,
    groups: Vec<(String, String)>,
    software: Vec<(String, String)>,
}

fn status_of(o: &FactObject) -> u8 {
    (if o.is_deprecated() { DEPRECATED } else { 0 }) | (if o.is_revoked() { REVOKED } else { 0 })
}

fn sorted_unique(v: impl IntoIterator<Item = String>) -> Vec<String> {
    v.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

impl DomainFile {
    /// Builds the compact data from a parsed bundle. `what` names the source in errors. The
    /// result depends only on the bundle's content: every list is sorted (tactics in matrix order).
    pub fn from_bundle(bundle: &Bundle<Skipped>, what: &str) -> Result<DomainFile, AttackError> {
        bundle.check(what)?;
        let collection = bundle.collection().expect("checked");
        let domain = bundle.domain().expect("checked");
        let objs = &bundle.objects;
        // STIX id -> ATT&CK id, for every object that has one.
        let attack_id: HashMap<&str, &str> =
            objs.iter().filter_map(|o| o.attack_id().map(|a| (o.id.as_str(), a))).collect();
        let by_stix: HashMap<&str, &FactObject> = objs.iter().map(|o| (o.id.as_str(), o)).collect();
        let of_kind = |k: &'static str| objs.iter().filter(move |o| o.kind == k && o.attack_id().is_some());

        // Tactics in matrix order: the matrix with most tactics first, then tactics no matrix lists.
        let mut matrices: Vec<&FactObject> = objs.iter().filter(|o| o.kind == "x-mitre-matrix").collect();
        matrices.sort_by(|a, b| b.tactic_refs.len().cmp(&a.tactic_refs.len()).then(a.id.cmp(&b.id)));
        let mut tactic_objs: Vec<&FactObject> = Vec::new();
        for m in &matrices {
            for r in &m.tactic_refs {
                if let Some(t) = by_stix.get(r.as_str()).filter(|t| t.kind == "x-mitre-tactic") {
                    if !tactic_objs.iter().any(|x| x.id == t.id) {
                        tactic_objs.push(t);
                    }
                }
            }
        }
        let mut rest: Vec<&FactObject> =
            of_kind("x-mitre-tactic").filter(|t| !tactic_objs.iter().any(|x| x.id == t.id)).collect();
        rest.sort_by(|a, b| a.attack_id().cmp(&b.attack_id()));
        tactic_objs.extend(rest);
        let tactics: Vec<TacticRow> = tactic_objs
            .iter()
            .filter_map(|t| {
                Some(TacticRow(
                    t.attack_id()?.to_string(),
                    t.x_mitre_shortname.clone().unwrap_or_default(),
                    t.name_or_empty().to_string(),
                    status_of(t),
                ))
            })
            .collect();
        let tactic_rank: HashMap<&str, usize> = tactics.iter().enumerate().map(|(i, t)| (t.1.as_str(), i)).collect();

        // Relationships, active ones only, both ends resolved to ATT&CK ids.
        let mut mitigates = BTreeSet::new();
        let mut detects: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let mut revoked_by: HashMap<&str, &str> = HashMap::new();
        for r in objs.iter().filter(|o| o.kind == "relationship") {
            let (Some(src), Some(dst)) = (r.source_ref.as_deref(), r.target_ref.as_deref()) else { continue };
            let (Some(&s), Some(&t)) = (attack_id.get(src), attack_id.get(dst)) else { continue };
            match r.relationship_type.as_deref() {
                Some("revoked-by") => {
                    revoked_by.insert(src, t);
                }
                _ if !r.is_active() => {}
                Some("mitigates") if src.starts_with("course-of-action--") && dst.starts_with("attack-pattern--") => {
                    mitigates.insert((s.to_string(), t.to_string()));
                }
                Some("detects") if dst.starts_with("attack-pattern--") => {
                    detects.entry(src).or_default().insert(t.to_string());
                }
                _ => {}
            }
        }

        // Techniques by id; should a bundle hold two objects with one ATT&CK id, the active one wins.
        let mut techniques: BTreeMap<String, (u8, TechniqueRow)> = BTreeMap::new();
        for t in of_kind("attack-pattern") {
            let id = t.attack_id().expect("filtered").to_string();
            let mut phases: Vec<String> = Vec::new();
            for p in t.kill_chain_phases.iter().filter(|p| p.kill_chain_name.starts_with("mitre-")) {
                if !phases.contains(&p.phase_name) {
                    phases.push(p.phase_name.clone());
                }
            }
            phases.sort_by_key(|p| (tactic_rank.get(p.as_str()).copied().unwrap_or(usize::MAX), p.clone()));
            let status = status_of(t);
            let row = TechniqueRow(
                id.clone(),
                t.name_or_empty().to_string(),
                phases,
                sorted_unique(t.x_mitre_platforms.iter().cloned()),
                status,
                revoked_by.get(t.id.as_str()).map(|s| s.to_string()),
            );
            match techniques.get(&id) {
                Some((old, _)) if *old <= status => {}
                _ => {
                    techniques.insert(id, (status, row));
                }
            }
        }

        let named = |kind: &'static str| -> Vec<NamedRow> {
            let mut rows: BTreeMap<String, NamedRow> = BTreeMap::new();
            for o in of_kind(kind) {
                let row = NamedRow(o.attack_id().expect("filtered").into(), o.name_or_empty().into(), status_of(o));
                match rows.get(&row.0) {
                    Some(old) if old.2 <= row.2 => {}
                    _ => {
                        rows.insert(row.0.clone(), row);
                    }
                }
            }
            rows.into_values().collect()
        };
        let id_name_active = |kinds: &[&str]| -> Vec<(String, String)> {
            let set: BTreeMap<String, String> = objs
                .iter()
                .filter(|o| kinds.contains(&o.kind.as_str()) && o.is_active())
                .filter_map(|o| Some((o.attack_id()?.to_string(), o.name_or_empty().to_string())))
                .collect();
            set.into_iter().collect()
        };

        let mut detection_strategies: Vec<DetectionRow> = of_kind("x-mitre-detection-strategy")
            .map(|d| {
                DetectionRow(
                    d.attack_id().expect("filtered").into(),
                    d.name_or_empty().into(),
                    status_of(d),
                    detects.get(d.id.as_str()).map(|s| s.iter().cloned().collect()).unwrap_or_default(),
                    sorted_unique(
                        d.x_mitre_analytic_refs.iter().filter_map(|a| attack_id.get(a.as_str())).map(|a| a.to_string()),
                    ),
                )
            })
            .collect();
        detection_strategies.sort_by(|a, b| a.0.cmp(&b.0));
        detection_strategies.dedup_by(|a, b| a.0 == b.0);
        let mut analytics: Vec<AnalyticRow> = of_kind("x-mitre-analytic")
            .map(|a| {
                let sources: BTreeSet<(String, String)> = a
                    .x_mitre_log_source_references
                    .iter()
                    .filter_map(|l| {
                        let dc = attack_id.get(l.x_mitre_data_component_ref.as_deref()?)?;
                        Some((dc.to_string(), l.name.clone().unwrap_or_default()))
                    })
                    .collect();
                AnalyticRow(
                    a.attack_id().expect("filtered").into(),
                    status_of(a),
                    sorted_unique(a.x_mitre_platforms.iter().cloned()),
                    sources.into_iter().collect(),
                )
            })
            .collect();
        analytics.sort_by(|a, b| a.0.cmp(&b.0));
        analytics.dedup_by(|a, b| a.0 == b.0);

        Ok(DomainFile {
            format: FORMAT_VERSION,
            domain,
            name: collection.name_or_empty().to_string(),
            version: collection.x_mitre_version.clone().unwrap_or_default(),
            modified: collection.modified.clone().unwrap_or_default(),
            attack_spec_version: collection.x_mitre_attack_spec_version.clone().unwrap_or_default(),
            tactics,
            techniques: techniques.into_values().map(|(_, r)| r).collect(),
            mitigations: named("course-of-action"),
            mitigates: mitigates.into_iter().collect(),
            detection_strategies,
            analytics,
            data_components: named("x-mitre-data-component"),
            groups: id_name_active(&["intrusion-set"]),
            software: id_name_active(&["malware", "tool"]),
        })
    }

    /// Parses a compact file; `what` names it in errors.
    pub fn parse(text: &str, what: &str) -> Result<DomainFile, AttackError> {
        let f: DomainFile = serde_json::from_str(text)
            .map_err(|e| AttackError::Catalog { what: what.to_string(), reason: e.to_string() })?;
        if f.format != FORMAT_VERSION {
            return Err(AttackError::Catalog {
                what: what.to_string(),
                reason: format!("format {} is not the supported format {FORMAT_VERSION}", f.format),
            });
        }
        Ok(f)
    }

    /// The domain key ("enterprise-attack").
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The ATT&CK version ("18.1").
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The file name in mitre/: the domain key without "-attack" ("enterprise.json").
    pub fn file_name(&self) -> String {
        let stem = self.domain.strip_suffix("-attack").unwrap_or(&self.domain);
        let stem: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        format!("{stem}.json")
    }

    /// The file's text: header fields on the first line, then one record per line.
    pub fn to_json(&self) -> String {
        fn section<T: Serialize>(out: &mut String, key: &str, rows: &[T], last: bool) {
            out.push_str(&format!("\"{key}\":["));
            for (i, r) in rows.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(&serde_json::to_string(r).expect("rows serialize"));
            }
            out.push_str(if rows.is_empty() { "]" } else { "\n]" });
            out.push_str(if last { "\n" } else { ",\n" });
        }
        let s = |v: &str| serde_json::to_string(v).expect("strings serialize");
        let mut out = format!(
            "{{\"format\":{},\"domain\":{},\"name\":{},\"version\":{},\"modified\":{},\"attack_spec_version\":{},\n",
            self.format,
            s(&self.domain),
            s(&self.name),
            s(&self.version),
            s(&self.modified),
            s(&self.attack_spec_version)
        );
        section(&mut out, "tactics", &self.tactics, false);
        section(&mut out, "techniques", &self.techniques, false);
        section(&mut out, "mitigations", &self.mitigations, false);
        section(&mut out, "mitigates", &self.mitigates, false);
        section(&mut out, "detection_strategies", &self.detection_strategies, false);
        section(&mut out, "analytics", &self.analytics, false);
        section(&mut out, "data_components", &self.data_components, false);
        section(&mut out, "groups", &self.groups, false);
        section(&mut out, "software", &self.software, true);
        out.push_str("}\n");
        out
    }
}

// ---------------------------------------------------------------------------------------------
// The catalog's records

/// A technique or sub-technique (sub-techniques have a dot in their id: T1059.001).
#[derive(Debug, Clone, Serialize)]
pub struct Technique {
    pub id: String,
    pub name: String,
    /// Domain key ("enterprise-attack").
    pub domain: String,
    /// Tactic shortnames in matrix order ("execution"); resolve with [`Catalog::tactics_of`].
    pub tactics: Vec<String>,
    pub platforms: Vec<String>,
    pub deprecated: bool,
    pub revoked: bool,
    /// For a revoked technique, the one that replaces it.
    pub revoked_by: Option<String>,
}

impl Technique {
    pub fn is_subtechnique(&self) -> bool {
        self.id.contains('.')
    }

    /// The parent's id for a sub-technique (T1059.001 -> T1059).
    pub fn parent_id(&self) -> Option<&str> {
        self.id.split_once('.').map(|(p, _)| p)
    }

    pub fn is_active(&self) -> bool {
        !self.deprecated && !self.revoked
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Tactic {
    pub id: String,
    /// The kill-chain phase name techniques refer to ("credential-access").
    pub shortname: String,
    pub name: String,
    pub domain: String,
    pub deprecated: bool,
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mitigation {
    pub id: String,
    pub name: String,
    /// M1013 is shared by enterprise and mobile, so a mitigation may belong to several.
    pub domains: Vec<String>,
    pub deprecated: bool,
    pub revoked: bool,
}

impl Mitigation {
    pub fn is_active(&self) -> bool {
        !self.deprecated && !self.revoked
    }
}

/// A mitigation that applies to a technique, and the technique whose `mitigates` relationship
/// says so (the technique itself, or its parent for [`Catalog::mitigations_for_with_parent`]).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MitigationLink<'a> {
    pub mitigation: &'a Mitigation,
    pub via: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct DetectionStrategy {
    pub id: String,
    pub name: String,
    pub domain: String,
    pub deprecated: bool,
    pub revoked: bool,
    /// Techniques it `detects`.
    pub techniques: Vec<String>,
    pub analytics: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analytic {
    pub id: String,
    pub deprecated: bool,
    pub revoked: bool,
    pub platforms: Vec<String>,
    /// (data component id, log source name), e.g. ("DC0032", "WinEventLog:Security").
    pub log_sources: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataComponent {
    pub id: String,
    pub name: String,
    pub domains: Vec<String>,
    pub deprecated: bool,
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Software {
    pub id: String,
    pub name: String,
}

/// How many of each thing; "active" means neither revoked nor deprecated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub techniques: usize,
    pub active_techniques: usize,
    pub active_subtechniques: usize,
    pub tactics: usize,
    pub mitigations: usize,
    pub active_mitigations: usize,
    pub mitigates: usize,
    pub detection_strategies: usize,
    pub analytics: usize,
    pub data_components: usize,
    pub groups: usize,
    pub software: usize,
}

/// One domain of the catalog: its key, collection name, ATT&CK version and counts.
#[derive(Debug, Clone, Serialize)]
pub struct DomainInfo {
    pub key: String,
    pub name: String,
    pub version: String,
    pub modified: String,
    pub attack_spec_version: String,
    pub counts: Counts,
}

// ---------------------------------------------------------------------------------------------
// The catalog

/// The merged, indexed ATT&CK catalog. Read-only once built; every lookup is a hash probe or a
/// precomputed list. Lists returned are sorted by id.
#[derive(Debug, Default)]
pub struct Catalog {
    domains: Vec<DomainInfo>,
    techniques: Vec<Technique>,
    tactics: Vec<Tactic>,
    mitigations: Vec<Mitigation>,
    detection_strategies: Vec<DetectionStrategy>,
    analytics: Vec<Analytic>,
    data_components: Vec<DataComponent>,
    groups: Vec<Group>,
    software: Vec<Software>,
    mitigates: usize,

    technique_ix: HashMap<String, usize>,
    /// Lower-cased name and "parent: sub" full name -> techniques, best candidate first.
    technique_names: HashMap<String, Vec<usize>>,
    /// Lower-cased "name\u{0}parent: sub" per technique, for `search`.
    technique_search: Vec<String>,
    subtechniques: Vec<Vec<usize>>,
    mitigations_of: Vec<Vec<usize>>,
    detections_of: Vec<Vec<usize>>,
    /// Lower-cased id, shortname and name -> tactics.
    tactic_ix: HashMap<String, Vec<usize>>,
    /// Per tactic: active techniques carrying it.
    techniques_of_tactic: Vec<Vec<usize>>,
    mitigation_ix: HashMap<String, usize>,
    mitigation_names: HashMap<String, usize>,
    techniques_of_mitigation: Vec<Vec<usize>>,
    detection_ix: HashMap<String, usize>,
    analytic_ix: HashMap<String, usize>,
    data_component_ix: HashMap<String, usize>,
    group_ix: HashMap<String, usize>,
    software_ix: HashMap<String, usize>,
}

fn domain_matches(key: &str, query: &str) -> bool {
    key.eq_ignore_ascii_case(query) || key.strip_suffix("-attack").is_some_and(|s| s.eq_ignore_ascii_case(query))
}

fn domain_rank(key: &str) -> (usize, String) {
    let rank = ["enterprise-attack", "ics-attack", "mobile-attack"].iter().position(|d| *d == key).unwrap_or(3);
    (rank, key.to_string())
}

impl Catalog {
    /// The catalog compiled into the binary (mitre/*.json), parsed once on first use (a few
    /// milliseconds; see benches/attack.rs). The files are checked by the tests, so a failure
    /// here is a build defect, not bad input.
    pub fn embedded() -> &'static Catalog {
        static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
            Catalog::from_json_texts(EMBEDDED).unwrap_or_else(|e| panic!("the embedded ATT&CK catalog is broken: {e}"))
        });
        &CATALOG
    }

    /// The texts of the embedded files as (name, text), for tests and benches.
    pub fn embedded_texts() -> &'static [(&'static str, &'static str)] {
        EMBEDDED
    }

    /// Builds a catalog from compact files given as (name for errors, text).
    pub fn from_json_texts(texts: &[(&str, &str)]) -> Result<Catalog, AttackError> {
        let files = texts.iter().map(|(what, text)| DomainFile::parse(text, what)).collect::<Result<Vec<_>, _>>()?;
        Ok(Catalog::from_files(files))
    }

    /// Reads every `*.json` compact file of a directory (e.g. mitre/ after `mitre sync`, without
    /// rebuilding the binary).
    pub fn from_dir(dir: &Path) -> Result<Catalog, AttackError> {
        let entries = std::fs::read_dir(dir).map_err(|source| AttackError::Read { path: dir.into(), source })?;
        let mut files = Vec::new();
        for e in entries {
            let path = e.map_err(|source| AttackError::Read { path: dir.into(), source })?.path();
            if path.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| AttackError::Read { path: path.clone(), source })?;
                files.push(DomainFile::parse(&text, &path.display().to_string())?);
            }
        }
        if files.is_empty() {
            return Err(AttackError::Catalog {
                what: dir.display().to_string(),
                reason: "it holds no *.json catalog files (run `cacao-forge mitre import`)".into(),
            });
        }
        Ok(Catalog::from_files(files))
    }

    /// Merges domain files (searched enterprise, ics, mobile, then others by key) and indexes them.
    pub fn from_files(mut files: Vec<DomainFile>) -> Catalog {
        files.sort_by_key(|f| domain_rank(&f.domain));
        let mut c = Catalog::default();
        let mut mitigates: Vec<(String, String)> = Vec::new();
        // Ids already taken, per kind (a set, not a scan: merging must stay linear).
        let mut seen: HashSet<(u8, String)> = HashSet::new();
        for f in files {
            let counts = Counts {
                techniques: f.techniques.len(),
                active_techniques: f.techniques.iter().filter(|t| t.4 == 0).count(),
                active_subtechniques: f.techniques.iter().filter(|t| t.4 == 0 && t.0.contains('.')).count(),
                tactics: f.tactics.len(),
                mitigations: f.mitigations.len(),
                active_mitigations: f.mitigations.iter().filter(|m| m.2 == 0).count(),
                mitigates: f.mitigates.len(),
                detection_strategies: f.detection_strategies.len(),
                analytics: f.analytics.len(),
                data_components: f.data_components.len(),
                groups: f.groups.len(),
                software: f.software.len(),
            };
            c.domains.push(DomainInfo {
                key: f.domain.clone(),
                name: f.name,
                version: f.version,
                modified: f.modified,
                attack_spec_version: f.attack_spec_version,
                counts,
            });
            let d = f.domain;
            for TacticRow(id, shortname, name, st) in f.tactics {
                if seen.insert((0, id.clone())) {
                    c.tactics.push(Tactic {
                        id,
                        shortname,
                        name,
                        domain: d.clone(),
                        deprecated: st & DEPRECATED != 0,
                        revoked: st & REVOKED != 0,
                    });
                }
            }
            for TechniqueRow(id, name, tactics, platforms, st, revoked_by) in f.techniques {
                if c.technique_ix.contains_key(&id) {
                    tracing::warn!("technique {id} appears in several domains; keeping the first");
                    continue;
                }
                c.technique_ix.insert(id.clone(), c.techniques.len());
                c.techniques.push(Technique {
                    id,
                    name,
                    domain: d.clone(),
                    tactics,
                    platforms,
                    deprecated: st & DEPRECATED != 0,
                    revoked: st & REVOKED != 0,
                    revoked_by,
                });
            }
            for NamedRow(id, name, st) in f.mitigations {
                if seen.insert((5, id.clone())) {
                    c.mitigations.push(Mitigation {
                        id,
                        name,
                        domains: vec![d.clone()],
                        deprecated: st & DEPRECATED != 0,
                        revoked: st & REVOKED != 0,
                    });
                } else {
                    // Shared with an earlier domain (rare: M1013, a few data components).
                    c.mitigations.iter_mut().filter(|m| m.id == id).for_each(|m| m.domains.push(d.clone()));
                }
            }
            mitigates.extend(f.mitigates);
            for DetectionRow(id, name, st, techniques, analytics) in f.detection_strategies {
                if seen.insert((1, id.clone())) {
                    c.detection_strategies.push(DetectionStrategy {
                        id,
                        name,
                        domain: d.clone(),
                        deprecated: st & DEPRECATED != 0,
                        revoked: st & REVOKED != 0,
                        techniques,
                        analytics,
                    });
                }
            }
            for AnalyticRow(id, st, platforms, log_sources) in f.analytics {
                if seen.insert((2, id.clone())) {
                    c.analytics.push(Analytic {
                        id,
                        deprecated: st & DEPRECATED != 0,
                        revoked: st & REVOKED != 0,
                        platforms,
                        log_sources,
                    });
                }
            }
            for NamedRow(id, name, st) in f.data_components {
                if seen.insert((6, id.clone())) {
                    c.data_components.push(DataComponent {
                        id,
                        name,
                        domains: vec![d.clone()],
                        deprecated: st & DEPRECATED != 0,
                        revoked: st & REVOKED != 0,
                    });
                } else {
                    // Shared with an earlier domain (rare: M1013, a few data components).
                    c.data_components.iter_mut().filter(|m| m.id == id).for_each(|m| m.domains.push(d.clone()));
                }
            }
            for (id, name) in f.groups {
                if seen.insert((3, id.clone())) {
                    c.groups.push(Group { id, name });
                }
            }
            for (id, name) in f.software {
                if seen.insert((4, id.clone())) {
                    c.software.push(Software { id, name });
                }
            }
        }
        c.index(mitigates);
        c
    }

    fn index(&mut self, mut mitigates: Vec<(String, String)>) {
        self.techniques.sort_by(|a, b| a.id.cmp(&b.id));
        self.mitigations.sort_by(|a, b| a.id.cmp(&b.id));
        self.detection_strategies.sort_by(|a, b| a.id.cmp(&b.id));
        self.analytics.sort_by(|a, b| a.id.cmp(&b.id));
        self.data_components.sort_by(|a, b| a.id.cmp(&b.id));
        self.groups.sort_by(|a, b| a.id.cmp(&b.id));
        self.software.sort_by(|a, b| a.id.cmp(&b.id));
        let ix = |ids: Vec<&String>| -> HashMap<String, usize> {
            ids.into_iter().enumerate().map(|(i, id)| (id.clone(), i)).collect()
        };
        self.technique_ix = ix(self.techniques.iter().map(|t| &t.id).collect());
        self.mitigation_ix = ix(self.mitigations.iter().map(|t| &t.id).collect());
        self.detection_ix = ix(self.detection_strategies.iter().map(|t| &t.id).collect());
        self.analytic_ix = ix(self.analytics.iter().map(|t| &t.id).collect());
        self.data_component_ix = ix(self.data_components.iter().map(|t| &t.id).collect());
        self.group_ix = ix(self.groups.iter().map(|t| &t.id).collect());
        self.software_ix = ix(self.software.iter().map(|t| &t.id).collect());
        // A name shared by several mitigations (ICS M0932 and enterprise M1032 are both
        // "Multi-factor Authentication") goes to an active one, then the first domain's.
        let rank = |m: &Mitigation| (!m.is_active(), m.domains.first().map(|d| domain_rank(d)));
        for (i, m) in self.mitigations.iter().enumerate() {
            let key = m.name.to_lowercase();
            match self.mitigation_names.get(&key) {
                Some(&j) if rank(&self.mitigations[j]) <= rank(m) => {}
                _ => {
                    self.mitigation_names.insert(key, i);
                }
            }
        }

        let n = self.techniques.len();
        self.subtechniques = vec![Vec::new(); n];
        self.mitigations_of = vec![Vec::new(); n];
        self.detections_of = vec![Vec::new(); n];
        self.technique_search = Vec::with_capacity(n);
        self.techniques_of_mitigation = vec![Vec::new(); self.mitigations.len()];
        for i in 0..n {
            let t = &self.techniques[i];
            let lname = t.name.to_lowercase();
            let parent = t.parent_id().and_then(|p| self.technique_ix.get(p).copied());
            let full = parent.map(|p| format!("{}: {}", self.techniques[p].name.to_lowercase(), lname));
            self.technique_search.push(match &full {
                Some(f) => format!("{lname}\u{0}{f}"),
                None => lname.clone(),
            });
            self.technique_names.entry(lname).or_default().push(i);
            if let Some(f) = full {
                self.technique_names.entry(f).or_default().push(i);
            }
            if let (Some(p), true) = (parent, self.techniques[i].is_active()) {
                self.subtechniques[p].push(i);
            }
        }
        // Best candidate first: active, then a technique before a sub-technique, then by id.
        let techniques = &self.techniques;
        for v in self.technique_names.values_mut() {
            v.sort_by_key(|&i| (!techniques[i].is_active(), techniques[i].is_subtechnique(), i));
        }
        mitigates.sort();
        mitigates.dedup();
        self.mitigates = 0;
        for (m, t) in &mitigates {
            if let (Some(&mi), Some(&ti)) = (self.mitigation_ix.get(m), self.technique_ix.get(t)) {
                self.mitigations_of[ti].push(mi);
                self.techniques_of_mitigation[mi].push(ti);
                self.mitigates += 1;
            }
        }
        for (di, d) in self.detection_strategies.iter().enumerate() {
            for t in &d.techniques {
                if let Some(&ti) = self.technique_ix.get(t) {
                    self.detections_of[ti].push(di);
                }
            }
        }
        for (i, t) in self.tactics.iter().enumerate() {
            for key in [&t.id, &t.shortname, &t.name] {
                let v = self.tactic_ix.entry(key.to_lowercase()).or_default();
                if !v.contains(&i) {
                    v.push(i);
                }
            }
        }
        self.techniques_of_tactic = self
            .tactics
            .iter()
            .map(|tac| {
                (0..n)
                    .filter(|&i| {
                        let t = &self.techniques[i];
                        t.is_active() && t.domain == tac.domain && t.tactics.contains(&tac.shortname)
                    })
                    .collect()
            })
            .collect();
    }

    /// The domains, in search order (enterprise first).
    pub fn domains(&self) -> &[DomainInfo] {
        &self.domains
    }

    /// The ATT&CK version of the first domain (enterprise when present); [`Catalog::domains`]
    /// has each domain's own.
    pub fn version(&self) -> &str {
        self.domains.first().map_or("", |d| d.version.as_str())
    }

    /// Totals over all domains (shared objects counted once).
    pub fn counts(&self) -> Counts {
        Counts {
            techniques: self.techniques.len(),
            active_techniques: self.techniques.iter().filter(|t| t.is_active()).count(),
            active_subtechniques: self.techniques.iter().filter(|t| t.is_active() && t.is_subtechnique()).count(),
            tactics: self.tactics.len(),
            mitigations: self.mitigations.len(),
            active_mitigations: self.mitigations.iter().filter(|m| m.is_active()).count(),
            mitigates: self.mitigates,
            detection_strategies: self.detection_strategies.len(),
            analytics: self.analytics.len(),
            data_components: self.data_components.len(),
            groups: self.groups.len(),
            software: self.software.len(),
        }
    }

    /// Every technique and sub-technique, revoked and deprecated ones included, sorted by id.
    pub fn techniques(&self) -> &[Technique] {
        &self.techniques
    }

    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    pub fn mitigations(&self) -> &[Mitigation] {
        &self.mitigations
    }

    /// A technique by id (revoked and deprecated ones too: check `revoked_by`). Accepts
    /// "T1059.001", "t1059.001" and the URL form "T1059/001".
    pub fn technique(&self, id: &str) -> Option<&Technique> {
        if let Some(&i) = self.technique_ix.get(id) {
            return Some(&self.techniques[i]);
        }
        let norm = id.trim().to_ascii_uppercase().replace('/', ".");
        self.technique_ix.get(&norm).map(|&i| &self.techniques[i])
    }

    /// A technique by exact name, case-insensitive; also "Parent: Sub" ("OS Credential Dumping:
    /// LSASS Memory"). When several share a name ("Domain Accounts"), the active one, then the
    /// technique before the sub-technique, then the lowest id; see [`Catalog::techniques_by_name`].
    pub fn technique_by_name(&self, name: &str) -> Option<&Technique> {
        self.techniques_by_name(name).into_iter().next()
    }

    /// Every technique with this exact name (case-insensitive), best candidate first.
    pub fn techniques_by_name(&self, name: &str) -> Vec<&Technique> {
        let key = name.trim().to_lowercase();
        self.technique_names.get(&key).map_or_else(Vec::new, |v| v.iter().map(|&i| &self.techniques[i]).collect())
    }

    /// Active techniques whose name (or "Parent: Sub" full name) contains `fragment`,
    /// case-insensitive, sorted by id. An empty fragment finds nothing.
    pub fn search(&self, fragment: &str) -> Vec<&Technique> {
        let f = fragment.trim().to_lowercase();
        if f.is_empty() {
            return Vec::new();
        }
        self.technique_search
            .iter()
            .enumerate()
            .filter(|(i, s)| self.techniques[*i].is_active() && s.contains(&f))
            .map(|(i, _)| &self.techniques[i])
            .collect()
    }

    /// A tactic by id ("TA0002"), shortname ("execution") or name ("Execution"), case-insensitive.
    /// Shortnames repeat across domains; this gives the first domain's (enterprise).
    pub fn tactic(&self, query: &str) -> Option<&Tactic> {
        self.tactics_matching(query).into_iter().next()
    }

    /// Every tactic matching by id, shortname or name, in domain order.
    pub fn tactics_matching(&self, query: &str) -> Vec<&Tactic> {
        self.tactic_ix
            .get(&query.trim().to_lowercase())
            .map_or_else(Vec::new, |v| v.iter().map(|&i| &self.tactics[i]).collect())
    }

    /// The tactics of a technique, resolved within its domain.
    pub fn tactics_of(&self, technique: &Technique) -> Vec<&Tactic> {
        technique
            .tactics
            .iter()
            .filter_map(|s| self.tactics.iter().find(|t| t.domain == technique.domain && &t.shortname == s))
            .collect()
    }

    /// Active techniques and sub-techniques under a tactic (id, shortname or name), in every
    /// domain that has it, sorted by id. "execution" gives enterprise, ICS and mobile techniques;
    /// use [`Catalog::techniques_for_tactic_in`] or a tactic id for one domain.
    pub fn techniques_for_tactic(&self, tactic: &str) -> Vec<&Technique> {
        self.techniques_for_tactics(self.tactic_ix.get(&tactic.trim().to_lowercase()).map_or(&[][..], |v| v), None)
    }

    /// [`Catalog::techniques_for_tactic`] within one domain ("enterprise" or "enterprise-attack").
    pub fn techniques_for_tactic_in(&self, domain: &str, tactic: &str) -> Vec<&Technique> {
        self.techniques_for_tactics(
            self.tactic_ix.get(&tactic.trim().to_lowercase()).map_or(&[][..], |v| v),
            Some(domain),
        )
    }

    fn techniques_for_tactics(&self, tactics: &[usize], domain: Option<&str>) -> Vec<&Technique> {
        let mut chosen = tactics.iter().filter(|&&i| domain.is_none_or(|d| domain_matches(&self.tactics[i].domain, d)));
        let Some(&first) = chosen.next() else { return Vec::new() };
        let mut out: Vec<usize> = self.techniques_of_tactic[first].clone();
        let mut merged = false;
        for &i in chosen {
            out.extend_from_slice(&self.techniques_of_tactic[i]);
            merged = true;
        }
        if merged {
            out.sort_unstable();
            out.dedup();
        }
        out.into_iter().map(|i| &self.techniques[i]).collect()
    }

    /// Exactly the mitigations with a `mitigates` relationship to this technique, sorted by id.
    /// A sub-technique inherits nothing from its parent here; see
    /// [`Catalog::mitigations_for_with_parent`].
    pub fn mitigations_for(&self, technique_id: &str) -> Vec<&Mitigation> {
        self.technique_index(technique_id)
            .map_or_else(Vec::new, |i| self.mitigations_of[i].iter().map(|&m| &self.mitigations[m]).collect())
    }

    /// The technique's own mitigations, then its parent's that it does not already have, each
    /// with the technique whose relationship it comes from.
    pub fn mitigations_for_with_parent(&self, technique_id: &str) -> Vec<MitigationLink<'_>> {
        let Some(i) = self.technique_index(technique_id) else { return Vec::new() };
        let t = &self.techniques[i];
        let mut out: Vec<MitigationLink> = self.mitigations_of[i]
            .iter()
            .map(|&m| MitigationLink { mitigation: &self.mitigations[m], via: t.id.as_str() })
            .collect();
        if let Some(p) = t.parent_id().and_then(|p| self.technique_ix.get(p).copied()) {
            for &m in &self.mitigations_of[p] {
                if !self.mitigations_of[i].contains(&m) {
                    out.push(MitigationLink { mitigation: &self.mitigations[m], via: self.techniques[p].id.as_str() });
                }
            }
        }
        out
    }

    /// Active techniques a mitigation `mitigates`, sorted by id.
    pub fn techniques_mitigated_by(&self, mitigation_id: &str) -> Vec<&Technique> {
        self.mitigation_ix.get(mitigation_id.trim()).map_or_else(Vec::new, |&m| {
            self.techniques_of_mitigation[m].iter().map(|&i| &self.techniques[i]).filter(|t| t.is_active()).collect()
        })
    }

    /// A mitigation by id ("M1032").
    pub fn mitigation(&self, id: &str) -> Option<&Mitigation> {
        self.mitigation_ix.get(id.trim()).map(|&i| &self.mitigations[i])
    }

    /// A mitigation by exact name, case-insensitive (an active one when names repeat).
    pub fn mitigation_by_name(&self, name: &str) -> Option<&Mitigation> {
        self.mitigation_names.get(&name.trim().to_lowercase()).map(|&i| &self.mitigations[i])
    }

    /// The parent technique of a sub-technique.
    pub fn parent(&self, id: &str) -> Option<&Technique> {
        self.technique(id)?.parent_id().and_then(|p| self.technique(p))
    }

    /// The active sub-techniques of a technique, sorted by id.
    pub fn subtechniques(&self, id: &str) -> Vec<&Technique> {
        self.technique_index(id)
            .map_or_else(Vec::new, |i| self.subtechniques[i].iter().map(|&s| &self.techniques[s]).collect())
    }

    /// The detection strategies that `detect` a technique.
    pub fn detection_strategies_for(&self, technique_id: &str) -> Vec<&DetectionStrategy> {
        self.technique_index(technique_id)
            .map_or_else(Vec::new, |i| self.detections_of[i].iter().map(|&d| &self.detection_strategies[d]).collect())
    }

    pub fn detection_strategy(&self, id: &str) -> Option<&DetectionStrategy> {
        self.detection_ix.get(id.trim()).map(|&i| &self.detection_strategies[i])
    }

    pub fn analytic(&self, id: &str) -> Option<&Analytic> {
        self.analytic_ix.get(id.trim()).map(|&i| &self.analytics[i])
    }

    pub fn data_component(&self, id: &str) -> Option<&DataComponent> {
        self.data_component_ix.get(id.trim()).map(|&i| &self.data_components[i])
    }

    /// A group (intrusion set) by id ("G0016"); active groups only.
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.group_ix.get(id.trim()).map(|&i| &self.groups[i])
    }

    /// Software (malware or tool) by id ("S0002"); active software only.
    pub fn software(&self, id: &str) -> Option<&Software> {
        self.software_ix.get(id.trim()).map(|&i| &self.software[i])
    }

    fn technique_index(&self, id: &str) -> Option<usize> {
        self.technique_ix.get(id).copied().or_else(|| {
            let t = self.technique(id)?;
            self.technique_ix.get(&t.id).copied()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Catalog {
        let json = r#"{"type":"bundle","id":"bundle--1","objects":[
 {"type":"x-mitre-collection","id":"x-mitre-collection--1","name":"Tiny","x_mitre_version":"1.0","modified":"2025-01-01T00:00:00Z"},
 {"type":"x-mitre-matrix","id":"x-mitre-matrix--1","tactic_refs":["x-mitre-tactic--2","x-mitre-tactic--1"],
  "external_references":[{"source_name":"mitre-attack","external_id":"tiny-attack"}]},
 {"type":"x-mitre-tactic","id":"x-mitre-tactic--1","name":"Execution","x_mitre_shortname":"execution",
  "external_references":[{"source_name":"mitre-attack","external_id":"TA0002"}]},
 {"type":"x-mitre-tactic","id":"x-mitre-tactic--2","name":"Initial Access","x_mitre_shortname":"initial-access",
  "external_references":[{"source_name":"mitre-attack","external_id":"TA0001"}]},
 {"type":"attack-pattern","id":"attack-pattern--1","name":"Command and Scripting Interpreter",
  "external_references":[{"source_name":"mitre-attack","external_id":"T1059"}],
  "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}],"x_mitre_platforms":["Windows","Linux"]},
 {"type":"attack-pattern","id":"attack-pattern--2","name":"PowerShell",
  "external_references":[{"source_name":"mitre-attack","external_id":"T1059.001"}],
  "kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"execution"}]},
 {"type":"attack-pattern","id":"attack-pattern--3","name":"Old","revoked":true,
  "external_references":[{"source_name":"mitre-attack","external_id":"T1086"}]},
 {"type":"course-of-action","id":"course-of-action--1","name":"Execution Prevention",
  "external_references":[{"source_name":"mitre-attack","external_id":"M1038"}]},
 {"type":"course-of-action","id":"course-of-action--2","name":"Disable or Remove Feature or Program",
  "external_references":[{"source_name":"mitre-attack","external_id":"M1042"}]},
 {"type":"relationship","id":"relationship--1","relationship_type":"mitigates","source_ref":"course-of-action--1","target_ref":"attack-pattern--1"},
 {"type":"relationship","id":"relationship--2","relationship_type":"mitigates","source_ref":"course-of-action--2","target_ref":"attack-pattern--2"},
 {"type":"relationship","id":"relationship--3","relationship_type":"revoked-by","source_ref":"attack-pattern--3","target_ref":"attack-pattern--2"},
 {"type":"relationship","id":"relationship--4","relationship_type":"mitigates","source_ref":"course-of-action--2","target_ref":"attack-pattern--9"}
]}"#;
        let b = super::super::stix::read_bundle(json.as_bytes(), "tiny").unwrap();
        let f = DomainFile::from_bundle(&b, "tiny").unwrap();
        let again = DomainFile::parse(&f.to_json(), "tiny.json").unwrap();
        assert_eq!(f, again);
        assert_eq!(f.file_name(), "tiny.json");
        Catalog::from_files(vec![again])
    }

    #[test]
    fn lookups_on_a_tiny_bundle() {
        let c = tiny();
        assert_eq!(c.version(), "1.0");
        assert_eq!(c.tactics().iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["TA0001", "TA0002"]);
        assert_eq!(c.technique("t1059/001").unwrap().name, "PowerShell");
        assert_eq!(c.technique_by_name("powershell").unwrap().id, "T1059.001");
        assert_eq!(c.technique_by_name("Command and Scripting Interpreter: PowerShell").unwrap().id, "T1059.001");
        assert_eq!(c.technique("T1086").unwrap().revoked_by.as_deref(), Some("T1059.001"));
        assert_eq!(c.techniques_for_tactic("Execution").len(), 2);
        assert_eq!(c.techniques_for_tactic_in("tiny", "execution").len(), 2);
        assert!(c.techniques_for_tactic_in("mobile", "execution").is_empty());
        assert_eq!(c.mitigations_for("T1059.001").len(), 1);
        let with_parent = c.mitigations_for_with_parent("T1059.001");
        assert_eq!(
            with_parent.iter().map(|l| (l.mitigation.id.as_str(), l.via)).collect::<Vec<_>>(),
            [("M1042", "T1059.001"), ("M1038", "T1059")]
        );
        assert_eq!(c.subtechniques("T1059").len(), 1);
        assert_eq!(c.parent("T1059.001").unwrap().id, "T1059");
        assert_eq!(c.search("shell").len(), 1);
        assert!(c.search("").is_empty());
        assert_eq!(c.counts().mitigates, 2, "a relationship to an unknown object is dropped");
        assert!(c.technique("T9999").is_none() && c.mitigations_for("T9999").is_empty());
    }

    #[test]
    fn bad_catalog_files_are_errors() {
        assert!(DomainFile::parse("{", "x.json").unwrap_err().to_string().contains("x.json"));
        let text = r#"{"format":99,"domain":"x","name":"","version":"1","modified":"","attack_spec_version":"",
            "tactics":[],"techniques":[],"mitigations":[],"mitigates":[],"detection_strategies":[],"analytics":[],
            "data_components":[],"groups":[],"software":[]}"#;
        assert!(DomainFile::parse(text, "x.json").unwrap_err().to_string().contains("format 99"));
        assert!(DomainFile::parse(&text.replace("99", "1"), "x.json").is_ok());
    }
}
