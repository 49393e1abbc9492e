//! The whole pipeline for one incident: detect -> map -> plan -> generate -> validate. The
//! threat model judges the incident's texts; when the ATT&CK mapper finds no technique, the
//! threat type it reports chooses the knowledge (the techniques our threat-type knowledge lists),
//! so an incident the mapper cannot place still gets a response.

use super::{generate, Backend, GenerateError, GenerateOptions, Generated, GenerationContext};
use crate::attack::mapper::TechniqueMatch;
use crate::attack::responses;
use crate::attack::Catalog;
use crate::incident::Incident;
use crate::plan::{Plan, Planner};
use crate::threat::detector::{Detector, Verdict};
use crate::threat::ThreatType;
use serde::Serialize;

/// Most texts of one incident the threat model judges (the description and the first events).
pub const MAX_JUDGED_TEXTS: usize = 200;

/// What the threat model said about an incident.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentVerdict {
    /// The incident is a threat when any judged text is.
    pub is_threat: bool,
    /// The most confident threat type among the texts judged threats (benign when none).
    pub threat_type: ThreatType,
    pub confidence: f32,
    /// Texts judged, and how many of them were threats.
    pub texts: usize,
    pub threat_texts: usize,
}

/// The result of the whole pipeline.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// What the threat model said, when it was consulted (no technique mapped).
    pub verdict: Option<IncidentVerdict>,
    pub plan: Plan,
    /// True when the techniques came from the threat type because the mapper found none.
    pub techniques_from_threat_type: bool,
    pub generated: Generated,
}

/// Judges every event's details (and the description) with `detector`.
pub fn judge_incident(detector: &Detector, incident: &Incident) -> Result<IncidentVerdict, GenerateError> {
    let mut texts: Vec<&str> = Vec::new();
    if !incident.description.trim().is_empty() {
        texts.push(&incident.description);
    }
    texts.extend(incident.events.iter().map(|e| {
        if e.details.trim().is_empty() {
            e.raw.as_str()
        } else {
            e.details.as_str()
        }
    }));
    texts.truncate(MAX_JUDGED_TEXTS);
    let verdicts = detector
        .detect_batch(&texts)
        .map_err(|e| GenerateError::Backend { backend: "threat-model".into(), message: e.to_string() })?;
    let threats: Vec<&Verdict> = verdicts.iter().filter(|v| v.is_threat).collect();
    let strongest = threats.iter().copied().max_by(|a, b| a.confidence.total_cmp(&b.confidence)).or(verdicts.first());
    Ok(IncidentVerdict {
        is_threat: !threats.is_empty(),
        threat_type: strongest.filter(|v| v.is_threat).map_or(ThreatType::Benign, |v| v.threat_type),
        confidence: strongest.map_or(0.0, |v| v.confidence),
        texts: verdicts.len(),
        threat_texts: threats.len(),
    })
}

/// The techniques our knowledge lists for a threat type, as matches scored by the verdict's
/// confidence (no evidence spans: the evidence is the threat model's, in the verdict).
pub fn techniques_for_threat_type(threat_type: ThreatType, confidence: f32) -> Vec<TechniqueMatch> {
    let Some(knowledge) = responses::library().for_threat_type(threat_type.as_str()) else { return Vec::new() };
    let catalog = Catalog::embedded();
    knowledge
        .techniques
        .iter()
        .filter_map(|id| catalog.technique(id))
        .map(|t| TechniqueMatch {
            id: t.id.clone(),
            parent: crate::attack::parent_of(&t.id).to_owned(),
            name: t.name.clone(),
            tactics: t.tactics.clone(),
            score: confidence,
            rule_score: 0.0,
            model_score: confidence,
            evidence: Vec::new(),
        })
        .collect()
}

/// Runs the pipeline for one incident. `detector` is optional (the threat model costs a few
/// milliseconds per text); it is consulted only when the mapper finds no technique (then its
/// threat type chooses the knowledge, and [`Analysis::verdict`] is set); without it there is no
/// threat-type fallback.
pub fn analyze(
    incident: &Incident,
    detector: Option<&Detector>,
    planner: &Planner<'_>,
    backend: &dyn Backend,
    opts: &GenerateOptions,
) -> Result<Analysis, GenerateError> {
    let mut plan = planner.plan(incident);
    let mut from_threat_type = false;
    let mut verdict = None;
    if !plan.has_techniques() {
        verdict = detector.map(|d| judge_incident(d, incident)).transpose()?;
        if let Some(v) = verdict.as_ref().filter(|v| v.is_threat) {
            // A fallback technique must not be dropped by the planner's own score floor.
            let techniques = techniques_for_threat_type(v.threat_type, v.confidence.max(planner.options.min_score));
            if !techniques.is_empty() {
                let mapping = plan.mapping.clone();
                plan = planner.plan_techniques(incident, &techniques);
                plan.mapping = mapping;
                plan.notes.push(format!(
                    "no ATT&CK technique mapped; the threat model judged {} of {} texts threats, most confidently {} ({:.2}), so the techniques come from its threat-type knowledge",
                    v.threat_texts, v.texts, v.threat_type, v.confidence
                ));
                from_threat_type = true;
            }
        }
    }
    let ctx = GenerationContext { incident, plan: &plan };
    let generated = generate(backend, &ctx, opts)?;
    Ok(Analysis { verdict, plan, techniques_from_threat_type: from_threat_type, generated })
}
