//! Mitigation planning: an incident in, an ordered response plan out.
//!
//! The planner maps the incident to ATT&CK techniques ([`crate::attack::mapper`]), then for each
//! technique, in mapping order, lists its ATT&CK mitigations and the concrete response actions of
//! our knowledge ([`crate::attack::responses`], `playbooks/responses/`), grouped in the phases
//! containment, eradication, recovery and verification. Every action carries the observables of
//! *this* incident it acts on and, when every placeholder can be filled, its commands rendered with
//! those values by [`render_command`](crate::attack::responses::render_command) (which refuses values
//! that are unsafe in the command; those are reported as skipped targets, never inserted). A merged
//! view, [`Plan::steps`], lists every action once in phase order, with the techniques that call for
//! it, so a responder can follow it top-down.
//!
//! - [`knowledge`]: which knowledge a technique uses (its own, its parent's, or a threat-type
//!   fallback) and its ATT&CK mitigations.
//! - [`targets`]: which observables an action acts on, and its rendered commands.
//! - [`guard`]: values no action may target (system binaries, critical processes, built-in
//!   principals, loopback addresses), reported as skipped instead.
//! - Input is read by [`crate::incident::input`] (re-exported here as [`read_input`]).
//!
//! # Choices
//!
//! - **Which observables.** An action of a technique acts on the observables *linked* to that
//!   technique (seen in an event, or in the title/description, that is evidence for it); when none
//!   of a kind is linked, on every observable of that kind in the incident, flagged `linked: false`.
//!   So blocking the brute-forcing address does not also block the server's own address when the
//!   log shows both, but an action is not left without targets when the evidence is elsewhere.
//! - **Several placeholders.** An action whose command uses two kinds (`{{user}}` and `{{ipv4}}`)
//!   is rendered for each combination of values, up to [`PlanOptions::max_values`] commands (the
//!   rest is counted, not rendered). Values listed per kind are capped the same way.
//! - **Merged steps.** Two actions are the same step when they have the same id, phase, command
//!   type, platform and command template (ids are unique per knowledge file, not across files: a
//!   `verify-no-discovery` of T1082 is not the one of T1087, and both stay).
//! - **Mitigations.** The knowledge file's list first (when the knowledge is the technique's own or
//!   its parent's), then what ATT&CK's `mitigates` relationships add for the technique and its
//!   parent, without repeats; a threat-type fallback's mitigations are not the technique's and are
//!   not listed.
//! - **Filters.** Actions removed by [`PlanOptions::include_destructive`] or
//!   [`PlanOptions::platforms`] are listed in [`Plan::dropped`] with the reason, never silently.
//!   Without a platform filter, a plan whose incident shows one operating system ([`platforms_seen`])
//!   but has steps for another says so in its notes; nothing is dropped by guessing.

pub mod baseline;
pub mod guard;
pub mod knowledge;
pub mod targets;

use crate::attack::mapper::{EvidenceSource, Mapper, TechniqueMatch};
use crate::attack::responses::{self, CommandType, Phase, Platform, ResponseAction, ResponseLibrary};
use crate::attack::Catalog;
use crate::incident::{Incident, ObservableKind, Severity};
use indexmap::IndexMap;
use serde::Serialize;
use std::collections::BTreeMap;

pub use crate::incident::input::{read_input, IncidentInput, InputError, InputKind};
pub use baseline::{baseline_actions, infer_os, Baseline};
pub use knowledge::{KnowledgeMatch, KnowledgeUsed, MitigationSource, PlannedMitigation};
pub use targets::{ActionObservable, MissingValue, RenderedCommand, SkippedTarget};

/// What the planner does with the mapped techniques and the actions.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanOptions {
    /// Techniques planned at most (the mapper's `top_k`).
    pub top_k: usize,
    /// Techniques scoring below this are left out (listed in [`MappingSummary::below_min_score`]
    /// when the mapper returned them).
    pub min_score: f32,
    /// Keep destructive actions (deleting files, killing processes, disabling accounts,
    /// reimaging). When false they are dropped and listed in [`Plan::dropped`].
    pub include_destructive: bool,
    /// Keep only actions for these platforms, plus those for `any`; empty keeps every platform.
    pub platforms: Vec<Platform>,
    /// Operator-configured values for the knowledge's settings (`idp_url`), by name.
    pub settings: BTreeMap<String, String>,
    /// Observable values listed per kind and commands rendered per action, at most.
    pub max_values: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            top_k: crate::attack::mapper::MapperConfig::default().top_k,
            min_score: crate::attack::mapper::MapperConfig::default().min_score,
            include_destructive: true,
            platforms: Vec::new(),
            settings: BTreeMap::new(),
            max_values: 10,
        }
    }
}

/// The plan for one incident. Its JSON form is stable: fields in this order, lists in plan order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub incident: IncidentRef,
    pub mapping: MappingSummary,
    /// Mapped techniques, in mapping order (best first).
    pub techniques: Vec<PlannedTechnique>,
    /// Every kept action once, in phase order, then in order of first appearance; numbered from 1.
    pub steps: Vec<Step>,
    /// Actions the filters removed, with the reason.
    pub dropped: Vec<DroppedAction>,
    /// Settings some command needs and the options did not give.
    pub missing_settings: Vec<SettingRef>,
    /// Plan-wide remarks (no technique mapped, knowledge missing, ...).
    pub notes: Vec<String>,
    /// The baseline host response for the incident's operating system (see [`baseline_actions`]);
    /// `None` when nothing was mapped. Not part of [`Plan::steps`]: a playbook generator merges it
    /// with the steps, preferring a technique's own action for the same purpose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
}

impl Plan {
    /// True when at least one technique was mapped (and so something was planned).
    pub fn has_techniques(&self) -> bool {
        !self.techniques.is_empty()
    }

    /// The steps of one phase, in order.
    pub fn steps_in(&self, phase: Phase) -> impl Iterator<Item = &Step> + '_ {
        self.steps.iter().filter(move |s| s.action.phase == phase)
    }
}

/// Which incident a plan is for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentRef {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    /// The intake format the incident was read from.
    pub format: String,
    pub events: usize,
    pub observables: usize,
    /// The operating systems the incident shows ([`platforms_seen`]).
    pub platforms_seen: Vec<Platform>,
}

/// What the mapper did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappingSummary {
    pub texts_mapped: usize,
    pub events_skipped: usize,
    /// Techniques the mapper returned that scored below [`PlanOptions::min_score`].
    pub below_min_score: Vec<String>,
}

/// One mapped technique and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedTechnique {
    /// Sub-technique when the mapper saw one, else the parent.
    pub id: String,
    pub parent: String,
    pub name: String,
    pub tactics: Vec<String>,
    pub score: f32,
    pub evidence: Vec<EvidenceSummary>,
    pub mitigations: Vec<PlannedMitigation>,
    /// The knowledge the actions come from; `None` when there is none, not even a fallback.
    pub knowledge: Option<KnowledgeUsed>,
    /// Why the knowledge is a fallback, or that there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub actions: PhaseGroups,
}

/// Why a technique was mapped, in short.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceSummary {
    /// Index of the event in the incident; `None` for the title/description.
    pub event: Option<usize>,
    /// The event's line in the input, when line-oriented.
    pub line: Option<usize>,
    /// The matched text (at most 120 characters).
    pub text: String,
    pub source: EvidenceSource,
    pub why: String,
}

/// Actions by phase, in plan order; every phase is present (possibly empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PhaseGroups {
    pub containment: Vec<PlannedAction>,
    pub eradication: Vec<PlannedAction>,
    pub recovery: Vec<PlannedAction>,
    pub verification: Vec<PlannedAction>,
}

impl PhaseGroups {
    pub fn get(&self, phase: Phase) -> &[PlannedAction] {
        match phase {
            Phase::Containment => &self.containment,
            Phase::Eradication => &self.eradication,
            Phase::Recovery => &self.recovery,
            Phase::Verification => &self.verification,
        }
    }

    fn get_mut(&mut self, phase: Phase) -> &mut Vec<PlannedAction> {
        match phase {
            Phase::Containment => &mut self.containment,
            Phase::Eradication => &mut self.eradication,
            Phase::Recovery => &mut self.recovery,
            Phase::Verification => &mut self.verification,
        }
    }

    /// Every action, in phase order.
    pub fn iter(&self) -> impl Iterator<Item = &PlannedAction> + '_ {
        Phase::ALL.into_iter().flat_map(move |p| self.get(p).iter())
    }

    pub fn len(&self) -> usize {
        Phase::ALL.iter().map(|p| self.get(*p).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A knowledge action applied to this incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedAction {
    /// The action's id in its knowledge file.
    pub id: String,
    /// The knowledge it comes from (`T1003`, or a threat type such as `malware`).
    pub knowledge: String,
    /// Its number in [`Plan::steps`].
    pub step: usize,
    pub phase: Phase,
    pub name: String,
    /// The short imperative title a playbook step gets, when the knowledge has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rationale: String,
    pub mitigation: Option<MitigationRef>,
    pub acts_on: Vec<ObservableKind>,
    /// The incident's observables of those kinds the action acts on.
    pub observables: Vec<ActionObservable>,
    /// Observable values left out by [`PlanOptions::max_values`].
    pub observables_omitted: usize,
    pub command_type: CommandType,
    pub platform: Platform,
    pub destructive: bool,
    pub reversible: bool,
    pub requires_approval: bool,
    /// The knowledge's command template.
    pub template: String,
    /// The command rendered for each target (combination of observable values).
    pub commands: Vec<RenderedCommand>,
    /// Targets whose values the renderer refused, with the reason.
    pub skipped: Vec<SkippedTarget>,
    /// Combinations not rendered because of [`PlanOptions::max_values`].
    pub commands_omitted: usize,
    /// What is missing to render the command at all (an observable kind the incident lacks, or a
    /// setting not given); when not empty, `commands` is empty and `template` is what to fill in.
    pub missing: Vec<MissingValue>,
    pub expect: Option<String>,
    /// The knowledge's undo template (rendered per command in `commands`).
    pub undo: Option<String>,
}

impl PlannedAction {
    /// The key under which two techniques' actions are the same step.
    fn merge_key(&self) -> (String, Phase, CommandType, Platform, String) {
        (self.id.clone(), self.phase, self.command_type, self.platform, self.template.clone())
    }
}

/// An ATT&CK mitigation an action implements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MitigationRef {
    pub id: String,
    /// `None` when the id is not in the catalog.
    pub name: Option<String>,
}

/// One step of the merged plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// From 1, in plan order.
    pub number: usize,
    /// The techniques (ids as mapped) that call for this action, in mapping order.
    pub techniques: Vec<String>,
    /// The action, with the observables and commands of every technique that calls for it
    /// (duplicates removed). Its `knowledge` is the first technique's.
    pub action: PlannedAction,
}

/// An action a filter removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedAction {
    pub id: String,
    pub knowledge: String,
    pub techniques: Vec<String>,
    pub phase: Phase,
    pub name: String,
    pub platform: Platform,
    pub destructive: bool,
    pub reason: String,
}

/// A setting of the knowledge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingRef {
    pub name: String,
    pub description: String,
}

/// The name of a platform as the knowledge files write it.
pub fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Linux => "linux",
        Platform::Windows => "windows",
        Platform::Macos => "macos",
        Platform::Network => "network",
        Platform::Cloud => "cloud",
        Platform::Any => "any",
    }
}

/// Every platform, in the order the knowledge README lists them.
pub const PLATFORMS: [Platform; 6] =
    [Platform::Linux, Platform::Windows, Platform::Macos, Platform::Network, Platform::Cloud, Platform::Any];

/// Parses a platform name (`linux`, `windows`, `macos`, `network`, `cloud`, `any`), ignoring case.
pub fn parse_platform(name: &str) -> Option<Platform> {
    let name = name.trim().to_ascii_lowercase();
    PLATFORMS.into_iter().find(|p| platform_name(*p) == name)
}

/// The planner: a mapper, the response knowledge, the ATT&CK catalog and the options.
#[derive(Debug, Clone)]
pub struct Planner<'k> {
    pub mapper: Mapper,
    pub library: &'k ResponseLibrary,
    pub catalog: &'k Catalog,
    pub options: PlanOptions,
}

impl Planner<'static> {
    /// The shipped mapper, knowledge and catalog; the mapper's `top_k` and `min_score` follow the
    /// options.
    pub fn embedded(options: PlanOptions) -> Planner<'static> {
        let mut mapper = Mapper::embedded();
        mapper.config.top_k = options.top_k.max(1);
        mapper.config.min_score = options.min_score.clamp(0.0, 1.0);
        Planner { mapper, library: responses::library(), catalog: Catalog::embedded(), options }
    }
}

impl Planner<'_> {
    /// Maps the incident and plans the techniques found.
    pub fn plan(&self, incident: &Incident) -> Plan {
        let mapping = self.mapper.map_incident(incident);
        let mut plan = self.plan_techniques(incident, &mapping.techniques);
        plan.mapping.texts_mapped = mapping.texts_mapped;
        plan.mapping.events_skipped = mapping.events_skipped;
        plan
    }

    /// Plans the given techniques (in the given order) for the incident: what [`Planner::plan`]
    /// does after mapping. Applies `top_k` and `min_score`.
    pub fn plan_techniques(&self, incident: &Incident, techniques: &[TechniqueMatch]) -> Plan {
        let opts = &self.options;
        let mut below = Vec::new();
        let mut kept: Vec<&TechniqueMatch> = Vec::new();
        for t in techniques {
            if t.score < opts.min_score {
                below.push(t.id.clone());
            } else if kept.len() < opts.top_k.max(1) && !kept.iter().any(|k| k.id == t.id) {
                kept.push(t);
            }
        }
        let mut plan = Plan {
            incident: IncidentRef {
                id: incident.id.clone(),
                title: incident.title.clone(),
                severity: incident.severity,
                format: incident.source.format.clone(),
                events: incident.events.len(),
                observables: incident.observables.len(),
                platforms_seen: platforms_seen(incident),
            },
            mapping: MappingSummary { texts_mapped: 0, events_skipped: 0, below_min_score: below },
            techniques: Vec::new(),
            steps: Vec::new(),
            dropped: Vec::new(),
            missing_settings: Vec::new(),
            notes: Vec::new(),
            baseline: None,
        };
        if kept.is_empty() {
            plan.notes.push(format!(
                "no ATT&CK technique was mapped for this incident (top {} at score >= {}); nothing to plan",
                opts.top_k.max(1),
                opts.min_score
            ));
            return plan;
        }
        let mut dropped: IndexMap<(String, Phase, CommandType, Platform, String), DroppedAction> = IndexMap::new();
        let mut missing_settings: IndexMap<String, SettingRef> = IndexMap::new();
        for t in kept {
            let planned = self.plan_technique(incident, t, &mut dropped, &mut missing_settings);
            plan.techniques.push(planned);
        }
        plan.steps = merge_steps(&mut plan.techniques);
        plan.dropped = dropped.into_values().collect();
        plan.missing_settings = missing_settings.into_values().collect();
        let without: Vec<&str> =
            plan.techniques.iter().filter(|t| t.knowledge.is_none()).map(|t| t.id.as_str()).collect();
        if !without.is_empty() {
            plan.notes.push(format!(
                "no response knowledge for {}: only ATT&CK mitigations are listed for {}",
                without.join(", "),
                if without.len() == 1 { "it" } else { "them" }
            ));
        }
        if let Some(note) = platform_note(&plan, opts) {
            plan.notes.push(note);
        }
        let (os, os_reason) = infer_os(incident, &plan.techniques, self.catalog);
        let actions = baseline_actions(self.library, self.catalog, opts, incident, &plan, os);
        let os_default = os_reason == baseline::OS_DEFAULT_REASON;
        plan.baseline = Some(Baseline { os, os_reason, os_default, actions });
        if plan.steps.is_empty() && plan.techniques.iter().any(|t| t.knowledge.is_some()) {
            plan.notes.push("every action was removed by the filters (see dropped)".into());
        }
        plan
    }

    fn plan_technique(
        &self,
        incident: &Incident,
        t: &TechniqueMatch,
        dropped: &mut IndexMap<(String, Phase, CommandType, Platform, String), DroppedAction>,
        missing_settings: &mut IndexMap<String, SettingRef>,
    ) -> PlannedTechnique {
        let opts = &self.options;
        let chosen = knowledge::choose(self.library, self.catalog, &t.id, &t.tactics);
        let own = chosen.as_ref().filter(|(_, used)| used.matched != KnowledgeMatch::ThreatType).map(|(k, _)| *k);
        let mitigations = knowledge::mitigations(self.catalog, own, &t.id);
        let mut actions = PhaseGroups::default();
        let mut note = None;
        let mut used = None;
        match chosen {
            None => {
                note = Some(knowledge::no_knowledge_note(&t.id, &t.tactics));
            }
            Some((k, u)) => {
                if u.matched == KnowledgeMatch::ThreatType {
                    note = Some(format!(
                        "no response knowledge for {}; falls back to threat type `{}` ({}): {}",
                        t.id,
                        u.key,
                        u.name,
                        u.reason.as_deref().unwrap_or("a related threat type")
                    ));
                }
                let pools = targets::Pools::for_technique(incident, &t.evidence, opts.max_values);
                for action in k.ordered_actions() {
                    if let Some(reason) = filter_reason(action, opts) {
                        let key = (
                            action.id.clone(),
                            action.phase,
                            action.command_type,
                            action.platform,
                            action.command.clone(),
                        );
                        let d = dropped.entry(key).or_insert_with(|| DroppedAction {
                            id: action.id.clone(),
                            knowledge: k.key().to_string(),
                            techniques: Vec::new(),
                            phase: action.phase,
                            name: action.name.clone(),
                            platform: action.platform,
                            destructive: action.destructive,
                            reason,
                        });
                        if !d.techniques.contains(&t.id) {
                            d.techniques.push(t.id.clone());
                        }
                        continue;
                    }
                    let planned = self.plan_action(k.key(), action, &pools);
                    for m in &planned.missing {
                        if m.setting {
                            let description = k
                                .settings
                                .iter()
                                .find(|s| s.name == m.name)
                                .map(|s| s.description.clone())
                                .unwrap_or_default();
                            missing_settings
                                .entry(m.name.clone())
                                .or_insert_with(|| SettingRef { name: m.name.clone(), description });
                        }
                    }
                    actions.get_mut(action.phase).push(planned);
                }
                used = Some(u);
            }
        }
        PlannedTechnique {
            id: t.id.clone(),
            parent: t.parent.clone(),
            name: t.name.clone(),
            tactics: t.tactics.clone(),
            score: t.score,
            evidence: t
                .evidence
                .iter()
                .map(|e| EvidenceSummary {
                    event: e.event,
                    line: e.event.and_then(|i| incident.events.get(i)).and_then(|ev| ev.line),
                    text: truncate(&e.text, 120),
                    source: e.source,
                    why: e.why.clone(),
                })
                .collect(),
            mitigations,
            knowledge: used,
            note,
            actions,
        }
    }

    fn plan_action(&self, knowledge_key: &str, action: &ResponseAction, pools: &targets::Pools) -> PlannedAction {
        plan_action(self.catalog, &self.options, knowledge_key, action, pools)
    }
}

/// A knowledge action applied to the observables of `pools`.
pub(crate) fn plan_action(
    catalog: &Catalog,
    options: &PlanOptions,
    knowledge_key: &str,
    action: &ResponseAction,
    pools: &targets::Pools,
) -> PlannedAction {
    let (observables, observables_omitted) = pools.observables_for(&action.acts_on);
    let rendered = targets::render(action, pools, &options.settings, options.max_values);
    PlannedAction {
        id: action.id.clone(),
        knowledge: knowledge_key.to_string(),
        step: 0,
        phase: action.phase,
        name: action.name.clone(),
        title: action.title.clone(),
        rationale: action.rationale.clone(),
        mitigation: action
            .mitigation
            .as_ref()
            .map(|m| MitigationRef { id: m.clone(), name: catalog.mitigation(m).map(|x| x.name.clone()) }),
        acts_on: action.acts_on.clone(),
        observables,
        observables_omitted,
        command_type: action.command_type,
        platform: action.platform,
        destructive: action.destructive,
        reversible: action.reversible,
        requires_approval: action.requires_approval,
        template: action.command.clone(),
        commands: rendered.commands,
        skipped: rendered.skipped,
        commands_omitted: rendered.omitted,
        missing: rendered.missing,
        expect: action.expect.clone(),
        undo: action.undo.clone(),
    }
}

/// Why the options remove an action, if they do.
fn filter_reason(action: &ResponseAction, opts: &PlanOptions) -> Option<String> {
    if action.destructive && !opts.include_destructive {
        return Some("destructive (destructive actions were excluded)".into());
    }
    if !opts.platforms.is_empty() && action.platform != Platform::Any && !opts.platforms.contains(&action.platform) {
        let chosen: Vec<&str> = opts.platforms.iter().map(|p| platform_name(*p)).collect();
        return Some(format!(
            "platform {} (only {} and any were selected)",
            platform_name(action.platform),
            chosen.join(", ")
        ));
    }
    None
}

/// The operating systems an incident shows: Windows when it was read from Windows events or has
/// Windows paths (`C:\...`) or registry keys; Linux when it was read from syslog or has Unix paths
/// (`/...`). Empty when nothing tells.
pub fn platforms_seen(incident: &Incident) -> Vec<Platform> {
    let format = incident.source.format.as_str();
    let paths = || incident.observables_of(ObservableKind::FilePath).map(|o| o.value.as_bytes());
    let windows = format == "windows-event"
        || incident.observables_of(ObservableKind::RegistryKey).next().is_some()
        || paths().any(|p| p.len() > 2 && p[0].is_ascii_alphabetic() && p[1] == b':');
    let linux = format == "syslog" || paths().any(|p| p.first() == Some(&b'/'));
    let mut out = Vec::new();
    if windows {
        out.push(Platform::Windows);
    }
    if linux {
        out.push(Platform::Linux);
    }
    out
}

/// A hint when no platform filter was given, the incident shows one operating system and steps
/// are for another.
fn platform_note(plan: &Plan, opts: &PlanOptions) -> Option<String> {
    let [seen] = plan.incident.platforms_seen.as_slice() else { return None };
    if !opts.platforms.is_empty() {
        return None;
    }
    let other = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action.platform, Platform::Linux | Platform::Windows | Platform::Macos))
        .filter(|s| s.action.platform != *seen)
        .count();
    (other > 0).then(|| {
        format!(
            "the incident shows only {} systems, yet {other} step(s) are for other operating systems; a platform \
             filter of {}, network and cloud drops them",
            platform_name(*seen),
            platform_name(*seen)
        )
    })
}

/// Builds the merged, numbered steps and writes each step's number into the technique actions.
fn merge_steps(techniques: &mut [PlannedTechnique]) -> Vec<Step> {
    type Key = (String, Phase, CommandType, Platform, String);
    let mut by_phase: Vec<IndexMap<Key, Step>> = Phase::ALL.iter().map(|_| IndexMap::new()).collect();
    for t in techniques.iter() {
        for a in t.actions.iter() {
            let slot = &mut by_phase[Phase::ALL.iter().position(|p| *p == a.phase).unwrap_or(0)];
            match slot.get_mut(&a.merge_key()) {
                None => {
                    slot.insert(a.merge_key(), Step { number: 0, techniques: vec![t.id.clone()], action: a.clone() });
                }
                Some(step) => {
                    if !step.techniques.contains(&t.id) {
                        step.techniques.push(t.id.clone());
                    }
                    targets::merge_into(&mut step.action, a);
                }
            }
        }
    }
    let mut steps: Vec<Step> = by_phase.into_iter().flat_map(IndexMap::into_values).collect();
    let mut numbers: BTreeMap<Key, usize> = BTreeMap::new();
    for (i, s) in steps.iter_mut().enumerate() {
        s.number = i + 1;
        s.action.step = i + 1;
        numbers.insert(s.action.merge_key(), i + 1);
    }
    for t in techniques.iter_mut() {
        for phase in Phase::ALL {
            for a in t.actions.get_mut(phase) {
                a.step = numbers.get(&a.merge_key()).copied().unwrap_or(0);
            }
        }
    }
    steps
}

/// At most `max` characters, with `...` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(3)).collect();
        out.push_str("...");
        out
    }
}

#[cfg(test)]
mod tests;
