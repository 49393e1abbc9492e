//! The observables an action acts on, and its commands rendered with them.
//!
//! Values go into commands only through [`render_command`]; a value it refuses (a user name with a
//! quote or a `;` where the template does not quote it, an "IP address" that is not one) becomes a
//! [`SkippedTarget`] with the renderer's reason, and the command is not produced for it.

use super::PlannedAction;
use crate::attack::mapper::Evidence;
use crate::attack::responses::{render_command, render_undo, ResponseAction};
use crate::incident::{Incident, ObservableKind};
use indexmap::IndexMap;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An observable of the incident an action acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionObservable {
    pub kind: ObservableKind,
    pub value: String,
    /// Occurrences in the incident.
    pub count: usize,
    /// Seen in the evidence of the technique (an event or the description the mapper used); false
    /// when no observable of this kind is, and every one of the incident is listed instead.
    pub linked: bool,
    /// Why the value is never a target ([`guard`](super::guard)): listed, never rendered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excluded: Option<String>,
}

impl ActionObservable {
    fn new(kind: ObservableKind, o: &crate::incident::Observable, linked: bool) -> ActionObservable {
        ActionObservable {
            kind,
            value: o.value.clone(),
            count: o.count,
            linked,
            excluded: super::guard::excluded(kind, &o.value),
        }
    }
}

/// A command rendered for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedCommand {
    /// The values used, by placeholder name (observable kinds; settings are not repeated here).
    pub targets: IndexMap<String, String>,
    pub command: String,
    /// The undo guidance rendered with the same values, when the action has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undo: Option<String>,
    /// Why the undo guidance could not be rendered, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undo_error: Option<String>,
}

/// A target whose values the renderer refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedTarget {
    pub targets: IndexMap<String, String>,
    pub reason: String,
}

/// A placeholder that cannot be filled at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingValue {
    /// The placeholder name (`user`, `idp_url`).
    pub name: String,
    /// True for an operator setting, false for an observable kind.
    pub setting: bool,
    pub note: String,
}

/// The observables of one technique, by kind: linked ones when there are, else all.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    by_kind: BTreeMap<ObservableKind, Vec<ActionObservable>>,
    max_values: usize,
}

impl Pools {
    /// The pools for a technique whose evidence is `evidence`.
    pub fn for_technique(incident: &Incident, evidence: &[Evidence], max_values: usize) -> Pools {
        Pools::for_events(incident, &evidence.iter().map(|e| e.event).collect(), max_values)
    }

    /// The pools linked to `events` (indexes into the incident's events; `None` is the title and
    /// description).
    pub fn for_events(incident: &Incident, events: &HashSet<Option<usize>>, max_values: usize) -> Pools {
        let mut by_kind: BTreeMap<ObservableKind, Vec<ActionObservable>> = BTreeMap::new();
        for kind in ObservableKind::ALL {
            let all: Vec<_> = incident.observables_of(kind).collect();
            if all.is_empty() {
                continue;
            }
            let linked: Vec<ActionObservable> = all
                .iter()
                .filter(|o| events.contains(&o.event) || o.elsewhere.iter().any(|x| events.contains(&x.event)))
                .map(|o| ActionObservable::new(kind, o, true))
                .collect();
            let pool = if linked.is_empty() {
                all.iter().map(|o| ActionObservable::new(kind, o, false)).collect()
            } else {
                linked
            };
            by_kind.insert(kind, pool);
        }
        Pools { by_kind, max_values: max_values.max(1) }
    }

    /// The pool of one kind (empty when the incident has none).
    pub fn of(&self, kind: ObservableKind) -> &[ActionObservable] {
        self.by_kind.get(&kind).map_or(&[], Vec::as_slice)
    }

    /// The observables of the `kinds`, at most `max_values` per kind, and how many were left out.
    pub fn observables_for(&self, kinds: &[ObservableKind]) -> (Vec<ActionObservable>, usize) {
        let mut out = Vec::new();
        let mut omitted = 0;
        let mut seen = HashSet::new();
        for &kind in kinds {
            if !seen.insert(kind) {
                continue;
            }
            let pool = self.of(kind);
            out.extend(pool.iter().take(self.max_values).cloned());
            omitted += pool.len().saturating_sub(self.max_values);
        }
        (out, omitted)
    }
}

/// The `{{name}}` placeholders of a template, in order of first use (malformed ones are ignored:
/// the renderer reports them).
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
        rest = &after[end + 2..];
    }
    out
}

/// What [`render`] produced for one action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub commands: Vec<RenderedCommand>,
    pub skipped: Vec<SkippedTarget>,
    pub omitted: usize,
    pub missing: Vec<MissingValue>,
}

/// Renders `action` for every combination of the values of the observable kinds its command uses
/// (at most `max_values` combinations), with `settings` for its settings.
pub fn render(
    action: &ResponseAction,
    pools: &Pools,
    settings: &BTreeMap<String, String>,
    max_values: usize,
) -> Rendered {
    let max_values = max_values.max(1);
    let mut out = Rendered::default();
    let mut axes: Vec<(String, Vec<&str>, usize)> = Vec::new();
    let mut fixed: HashMap<String, String> = HashMap::new();
    for name in placeholders(&action.command) {
        match ObservableKind::from_name(&name) {
            Some(kind) => {
                let pool = pools.of(kind);
                if pool.is_empty() {
                    out.missing.push(MissingValue {
                        note: format!("no {kind} observable in this incident"),
                        name,
                        setting: false,
                    });
                } else {
                    for o in pool.iter().filter(|o| o.excluded.is_some()).take(max_values) {
                        out.skipped.push(SkippedTarget {
                            targets: IndexMap::from([(name.clone(), o.value.clone())]),
                            reason: format!(
                                "excluded ({}); never the target of a response action",
                                o.excluded.as_deref().unwrap_or_default()
                            ),
                        });
                    }
                    let mut usable: Vec<&str> = Vec::new();
                    for o in pool.iter().filter(|o| o.excluded.is_none()) {
                        // Account commands take the account name: `Disable-ADAccount`,
                        // `net user` and `usermod` reject `CORP\alice`; the domain is context.
                        let value = match kind {
                            ObservableKind::User => o.value.rsplit('\\').next().unwrap_or(&o.value),
                            _ => o.value.as_str(),
                        };
                        // The bare name is checked again: `CORP\system` is the built-in account too.
                        if !value.is_empty()
                            && !usable.contains(&value)
                            && super::guard::protected(kind, value).is_none()
                        {
                            usable.push(value);
                        }
                    }
                    let n = usable.len();
                    axes.push((name, usable.into_iter().take(max_values).collect(), n));
                }
            }
            None => match settings.get(&name) {
                Some(v) => {
                    fixed.insert(name, v.clone());
                }
                None => out.missing.push(MissingValue {
                    note: format!("setting {name} is not configured"),
                    name,
                    setting: true,
                }),
            },
        }
    }
    if !out.missing.is_empty() {
        out.skipped.clear();
        return out;
    }
    if axes.iter().any(|(_, values, _)| values.is_empty()) {
        // Every value of some kind is excluded: nothing to render, the skipped targets say why.
        return out;
    }
    let total = axes.iter().fold(1usize, |acc, (_, _, n)| acc.saturating_mul(*n));
    let mut index = vec![0usize; axes.len()];
    let mut attempted = 0usize;
    loop {
        if attempted == max_values {
            break;
        }
        let mut values = fixed.clone();
        let mut targets = IndexMap::new();
        for (axis, &i) in axes.iter().zip(&index) {
            values.insert(axis.0.clone(), axis.1[i].to_string());
            targets.insert(axis.0.clone(), axis.1[i].to_string());
        }
        attempted += 1;
        match render_command(action, &values) {
            Ok(command) => {
                let (undo, undo_error) = match render_undo(action, &values) {
                    None => (None, None),
                    Some(Ok(u)) => (Some(u), None),
                    Some(Err(e)) => (None, Some(e.to_string())),
                };
                out.commands.push(RenderedCommand { targets, command, undo, undo_error });
            }
            Err(e) => out.skipped.push(SkippedTarget { targets, reason: e.to_string() }),
        }
        // Next combination (the last axis turns fastest); done when the first wraps.
        let mut pos = axes.len();
        loop {
            if pos == 0 {
                out.omitted = total.saturating_sub(attempted);
                return out;
            }
            pos -= 1;
            index[pos] += 1;
            if index[pos] < axes[pos].1.len() {
                break;
            }
            index[pos] = 0;
        }
    }
    out.omitted = total.saturating_sub(attempted);
    out
}

/// Adds `other`'s observables, commands and skipped targets to `into` (same step, another
/// technique), without repeats.
pub fn merge_into(into: &mut PlannedAction, other: &PlannedAction) {
    for o in &other.observables {
        match into.observables.iter_mut().find(|x| x.kind == o.kind && x.value == o.value) {
            Some(x) => x.linked |= o.linked,
            None => into.observables.push(o.clone()),
        }
    }
    for c in &other.commands {
        if !into.commands.iter().any(|x| x.command == c.command) {
            into.commands.push(c.clone());
        }
    }
    for s in &other.skipped {
        if !into.skipped.contains(s) {
            into.skipped.push(s.clone());
        }
    }
    into.observables_omitted = into.observables_omitted.max(other.observables_omitted);
    into.commands_omitted = into.commands_omitted.max(other.commands_omitted);
    if into.commands.is_empty() {
        for m in &other.missing {
            if !into.missing.contains(m) {
                into.missing.push(m.clone());
            }
        }
    } else {
        into.missing.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::mapper::EvidenceSource;
    use crate::attack::responses::{CommandType, Phase, Platform};
    use crate::incident::{Incident, Observable, Severity, Source};

    fn obs(kind: ObservableKind, value: &str, event: Option<usize>) -> Observable {
        Observable {
            kind,
            value: value.into(),
            raw: value.into(),
            event,
            field: "raw".into(),
            span: (0, value.len()),
            count: 1,
            elsewhere: Vec::new(),
        }
    }

    fn incident(observables: Vec<Observable>) -> Incident {
        Incident {
            id: "i".into(),
            title: "t".into(),
            description: String::new(),
            source: Source { format: "jsonl".into(), name: None },
            severity: Severity::High,
            time_range: None,
            events: Vec::new(),
            observables,
            free: Default::default(),
        }
    }

    fn evidence(event: Option<usize>) -> Evidence {
        Evidence {
            event,
            field: "details".into(),
            span: (0, 1),
            text: "x".into(),
            source: EvidenceSource::Rule,
            why: "w".into(),
            weight: 1.0,
        }
    }

    fn action(command: &str, command_type: CommandType, acts_on: Vec<ObservableKind>) -> ResponseAction {
        ResponseAction {
            id: "a".into(),
            phase: Phase::Containment,
            name: "n".into(),
            title: None,
            rationale: "r".into(),
            mitigation: None,
            acts_on,
            command_type,
            platform: Platform::Linux,
            command: command.into(),
            expect: None,
            destructive: false,
            reversible: true,
            requires_approval: false,
            undo: Some(command.replace("-I", "-D")),
        }
    }

    #[test]
    fn linked_observables_first_else_all() {
        let i = incident(vec![
            obs(ObservableKind::Ipv4, "203.0.113.45", Some(0)),
            obs(ObservableKind::Ipv4, "10.0.0.5", Some(3)),
            obs(ObservableKind::User, "deploy", Some(3)),
        ]);
        let pools = Pools::for_technique(&i, &[evidence(Some(0))], 10);
        let ips: Vec<(&str, bool)> =
            pools.of(ObservableKind::Ipv4).iter().map(|o| (o.value.as_str(), o.linked)).collect();
        assert_eq!(ips, [("203.0.113.45", true)]);
        let users: Vec<(&str, bool)> =
            pools.of(ObservableKind::User).iter().map(|o| (o.value.as_str(), o.linked)).collect();
        assert_eq!(users, [("deploy", false)]);
        assert!(pools.of(ObservableKind::Host).is_empty());
        // A later occurrence in an evidence event links too.
        let mut o = obs(ObservableKind::Ipv4, "10.0.0.5", Some(3));
        o.elsewhere.push(crate::incident::Occurrence {
            raw: "x".into(),
            event: Some(0),
            field: "raw".into(),
            span: (0, 1),
        });
        let pools = Pools::for_technique(&incident(vec![o]), &[evidence(Some(0))], 10);
        assert!(pools.of(ObservableKind::Ipv4)[0].linked);
    }

    #[test]
    fn renders_per_value_and_skips_refused_values() {
        // The renderer alone: file paths are not judged for plausibility by the guard.
        let i = incident(vec![
            obs(ObservableKind::FilePath, "/tmp/a.sh", None),
            obs(ObservableKind::FilePath, "/tmp/x;rm -rf /", None),
            obs(ObservableKind::FilePath, "/tmp/x'; rm -rf / #", None),
        ]);
        let pools = Pools::for_technique(&i, &[evidence(None)], 10);
        let a = action("sha256sum {{file_path}}", CommandType::Bash, vec![ObservableKind::FilePath]);
        let r = render(&a, &pools, &BTreeMap::new(), 10);
        assert_eq!(r.commands.len(), 1);
        assert_eq!(r.commands[0].command, "sha256sum /tmp/a.sh");
        assert_eq!(r.commands[0].targets["file_path"], "/tmp/a.sh");
        assert_eq!(r.skipped.len(), 2);
        assert!(r.skipped.iter().all(|s| s.reason.contains("unsafe")), "{:?}", r.skipped);
        // Single-quoted: a `;` is inert, a quote is still refused.
        let a = action("sha256sum -- '{{file_path}}'", CommandType::Bash, vec![ObservableKind::FilePath]);
        let r = render(&a, &pools, &BTreeMap::new(), 10);
        let cmds: Vec<&str> = r.commands.iter().map(|c| c.command.as_str()).collect();
        assert_eq!(cmds, ["sha256sum -- '/tmp/a.sh'", "sha256sum -- '/tmp/x;rm -rf /'"]);
        assert_eq!(r.skipped.len(), 1);
        assert!(r.skipped[0].reason.contains("single quote"));
        assert_eq!(r.skipped[0].targets["file_path"], "/tmp/x'; rm -rf / #");
    }

    #[test]
    fn implausible_user_names_never_reach_the_renderer() {
        let i = incident(vec![
            obs(ObservableKind::User, "alice", None),
            obs(ObservableKind::User, "x;rm -rf /", None),
            obs(ObservableKind::User, "$(reboot)", None),
        ]);
        let pools = Pools::for_technique(&i, &[], 10);
        // Even single-quoted, where the renderer would accept them.
        let a = action("passwd -l '{{user}}'", CommandType::Bash, vec![ObservableKind::User]);
        let r = render(&a, &pools, &BTreeMap::new(), 10);
        let cmds: Vec<&str> = r.commands.iter().map(|c| c.command.as_str()).collect();
        assert_eq!(cmds, ["passwd -l 'alice'"]);
        assert_eq!(r.skipped.len(), 2);
        assert!(r.skipped.iter().all(|s| s.reason.contains("implausible")), "{:?}", r.skipped);
    }

    #[test]
    fn accounts_render_by_name_without_their_domain() {
        let i = incident(vec![
            obs(ObservableKind::User, r"corp\alice", None),
            obs(ObservableKind::User, "alice", None),
            obs(ObservableKind::User, r"corp\system", None),
            obs(ObservableKind::User, "bob", None),
        ]);
        let pools = Pools::for_technique(&i, &[], 10);
        let a = action("Disable-ADAccount -Identity '{{user}}'", CommandType::Powershell, vec![ObservableKind::User]);
        let r = render(&a, &pools, &BTreeMap::new(), 10);
        let cmds: Vec<&str> = r.commands.iter().map(|c| c.command.as_str()).collect();
        // One command per account; `corp\system` is the built-in account and is never a target.
        assert_eq!(cmds, ["Disable-ADAccount -Identity 'alice'", "Disable-ADAccount -Identity 'bob'"]);
    }

    #[test]
    fn missing_kinds_and_settings() {
        let i = incident(vec![obs(ObservableKind::User, "alice", None)]);
        let pools = Pools::for_technique(&i, &[], 10);
        let a = action("POST {{idp_url}}/users/{{user}}/revoke", CommandType::HttpApi, vec![ObservableKind::User]);
        let r = render(&a, &pools, &BTreeMap::new(), 10);
        assert!(r.commands.is_empty());
        assert_eq!(r.missing.len(), 1);
        assert!(r.missing[0].setting && r.missing[0].name == "idp_url");
        let settings: BTreeMap<String, String> =
            [("idp_url".to_string(), "https://idp.example/api".to_string())].into();
        let r = render(&a, &pools, &settings, 10);
        assert_eq!(r.commands[0].command, "POST https://idp.example/api/users/alice/revoke");
        assert_eq!(r.commands[0].targets.len(), 1, "settings are not targets");
        let a = action("iptables -I INPUT -s {{ipv4}} -j DROP", CommandType::Bash, vec![ObservableKind::Ipv4]);
        let r = render(&a, &pools, &settings, 10);
        assert!(!r.missing[0].setting && r.missing[0].note.contains("ipv4"));
        // No placeholder: one command, no targets.
        let a = action("Review the change log", CommandType::Manual, vec![]);
        let r = render(&a, &pools, &settings, 10);
        assert_eq!(r.commands.len(), 1);
        assert!(r.commands[0].targets.is_empty());
    }

    #[test]
    fn combinations_are_capped_and_counted() {
        let mut observables = Vec::new();
        for n in 0..4 {
            observables.push(obs(ObservableKind::User, &format!("u{n}"), None));
            observables.push(obs(ObservableKind::Ipv4, &format!("192.0.2.{n}"), None));
        }
        let pools = Pools::for_technique(&incident(observables), &[], 3);
        let a = action(
            "Check sign-ins of {{user}} from {{ipv4}}",
            CommandType::Manual,
            vec![ObservableKind::User, ObservableKind::Ipv4],
        );
        let r = render(&a, &pools, &BTreeMap::new(), 5);
        assert_eq!(r.commands.len(), 5);
        assert_eq!(r.omitted, 16 - 5);
        assert_eq!(r.commands[1].command, "Check sign-ins of u0 from 192.0.2.1");
        let (listed, omitted) =
            pools.observables_for(&[ObservableKind::User, ObservableKind::Ipv4, ObservableKind::User]);
        assert_eq!((listed.len(), omitted), (6, 2));
    }

    #[test]
    fn protected_values_are_skipped_never_rendered() {
        let i = incident(vec![
            obs(ObservableKind::FilePath, r"c:\windows\system32\cmd.exe", Some(0)),
            obs(ObservableKind::FilePath, r"c:\users\public\upd.exe", Some(0)),
        ]);
        let pools = Pools::for_technique(&i, &[evidence(Some(0))], 10);
        let a = action(
            "Remove-Item -LiteralPath '{{file_path}}' -Force",
            CommandType::Powershell,
            vec![ObservableKind::FilePath],
        );
        let r = render(&a, &pools, &BTreeMap::new(), 10);
        let cmds: Vec<&str> = r.commands.iter().map(|c| c.command.as_str()).collect();
        assert_eq!(cmds, [r"Remove-Item -LiteralPath 'c:\users\public\upd.exe' -Force"]);
        assert_eq!(r.skipped.len(), 1);
        assert!(r.skipped[0].reason.starts_with("excluded (protected"), "{:?}", r.skipped);
        let (listed, _) = pools.observables_for(&[ObservableKind::FilePath]);
        assert!(listed[0].excluded.is_some() && listed[1].excluded.is_none());
        // Only protected values: nothing rendered, nothing "missing", the skip says why.
        let i = incident(vec![obs(ObservableKind::FilePath, "/usr/bin/curl", None)]);
        let pools = Pools::for_technique(&i, &[], 10);
        let r = render(&a, &pools, &BTreeMap::new(), 10);
        assert!(r.commands.is_empty() && r.missing.is_empty() && r.skipped.len() == 1);
    }

    #[test]
    fn placeholder_scan() {
        assert_eq!(placeholders("a {{ user }} b {{ipv4}} {{user}} {{"), ["user", "ipv4"]);
        assert!(placeholders("none").is_empty());
    }
}
