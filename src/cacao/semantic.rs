//! Semantic checks: what JSON Schema cannot say about a playbook.
//!
//! The checks read the JSON document, not the typed model, so they also run on documents the schema
//! rejects and point at exact places. Every finding has a stable code under `semantic.`; the list
//! is in [`CODES`] and in the README.

use super::ids;
use super::model::AgentTargetType;
use crate::finding::{pointer, push_segment, Finding};
use crate::workflow::analysis::{cycle_has_while, Analysis};
use crate::workflow::graph::{StepKind, WorkflowGraph};
use petgraph::graph::NodeIndex;
use petgraph::Direction;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Every code this module can emit, with what it means.
pub const CODES: &[(&str, &str)] = &[
    ("semantic.workflow-start-missing", "workflow_start is absent or names no step of the workflow"),
    ("semantic.workflow-start-not-start", "workflow_start names a step that is not a start step"),
    ("semantic.unknown-step", "a step reference (on_*, next_steps, cases, workflow_exception) names no step"),
    ("semantic.unknown-agent", "an action's agent is not in agent_definitions"),
    ("semantic.unknown-target", "an action's target is not in target_definitions"),
    (
        "semantic.unknown-authentication-info",
        "an agent/target's authentication_info is not in authentication_info_definitions",
    ),
    ("semantic.unknown-extension", "an extension is used but not in extension_definitions"),
    ("semantic.unknown-marking", "a marking is not in data_marking_definitions"),
    ("semantic.undeclared-variable", "a command uses __name__:value but no such variable is declared"),
    ("semantic.dead-end", "a step other than end has no step to continue to"),
    ("semantic.no-exit", "a loop reachable from the start never reaches an end step"),
    ("semantic.unreachable-step", "a step cannot be reached from workflow_start or workflow_exception"),
    ("semantic.cycle-without-while", "a cycle does not pass through a while-condition step"),
    ("semantic.switch-no-cases", "a switch-condition step has no cases"),
    (
        "semantic.condition-unreadable",
        "an if/while condition is not in the condition language (free text, as language models write it)",
    ),
    ("semantic.id-type-mismatch", "a custom-type agent or target whose id prefix is not its type"),
    ("semantic.bad-email", "a contact e-mail address is not an address (local@domain)"),
    ("semantic.modified-before-created", "modified is earlier than created"),
    ("semantic.valid-until-before-valid-from", "valid_until is not later than valid_from"),
];

/// Runs every semantic check on `doc`, using its workflow graph and analyses.
pub fn check(doc: &Value, graph: &WorkflowGraph, analysis: &Analysis) -> Vec<Finding> {
    let Some(root) = doc.as_object() else {
        return vec![Finding::error("semantic.not-an-object", "", "a playbook must be a JSON object")];
    };
    let mut out = Vec::new();
    check_start(root, graph, &mut out);
    check_references(root, graph, &mut out);
    check_step_shapes(root, &mut out);
    check_flow(graph, analysis, &mut out);
    check_definitions(root, &mut out);
    check_variables(root, &mut out);
    check_times(root, &mut out);
    out
}

fn get_obj<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    obj.get(key).and_then(Value::as_object)
}

fn check_start(root: &Map<String, Value>, g: &WorkflowGraph, out: &mut Vec<Finding>) {
    match root.get("workflow_start").and_then(Value::as_str) {
        None => {
            if root.contains_key("workflow") {
                out.push(Finding::error(
                    "semantic.workflow-start-missing",
                    "",
                    "the playbook has no workflow_start: execution has nowhere to begin",
                ));
            }
        }
        Some(id) => match g.node(id) {
            Some(node) if node.kind == StepKind::Start => {}
            Some(node) if node.kind != StepKind::Missing => out.push(Finding::error(
                "semantic.workflow-start-not-start",
                "/workflow_start",
                format!(
                    "workflow_start names `{id}`, {} {} step; it must name a start step",
                    article(node.kind.as_str()),
                    node.kind
                ),
            )),
            _ => out.push(Finding::error(
                "semantic.workflow-start-missing",
                "/workflow_start",
                format!("workflow_start names `{id}`, which is not a step of the workflow"),
            )),
        },
    }
    if let Some(id) = root.get("workflow_exception").and_then(Value::as_str) {
        if g.node(id).is_none_or(|n| n.kind == StepKind::Missing) {
            out.push(Finding::error(
                "semantic.unknown-step",
                "/workflow_exception",
                format!("workflow_exception names `{id}`, which is not a step of the workflow"),
            ));
        }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Step references to undefined steps, agents, targets and extensions used by steps.
fn check_references(root: &Map<String, Value>, g: &WorkflowGraph, out: &mut Vec<Finding>) {
    for e in g.graph.edge_indices() {
        let (from, to) = g.graph.edge_endpoints(e).expect("edge of this graph");
        let target = &g.graph[to];
        if target.kind == StepKind::Missing {
            let edge = &g.graph[e];
            out.push(Finding::error(
                "semantic.unknown-step",
                edge.pointer(&g.graph[from].id),
                format!("{} names `{}`, which is not a step of the workflow", edge.kind.property(), target.id),
            ));
        }
    }
    let Some(workflow) = get_obj(root, "workflow") else { return };
    let agents = get_obj(root, "agent_definitions");
    let targets = get_obj(root, "target_definitions");
    let extensions = get_obj(root, "extension_definitions");
    for (id, step) in workflow {
        let Some(step) = step.as_object() else { continue };
        let at = |prop: &str| pointer(&["workflow", id, prop]);
        if let Some(agent) = step.get("agent").and_then(Value::as_str) {
            if !agents.is_some_and(|a| a.contains_key(agent)) {
                out.push(Finding::error(
                    "semantic.unknown-agent",
                    at("agent"),
                    format!("agent `{agent}` is not defined in agent_definitions"),
                ));
            }
        }
        if let Some(list) = step.get("targets").and_then(Value::as_array) {
            for (i, t) in list.iter().enumerate() {
                let Some(t) = t.as_str() else { continue };
                if !targets.is_some_and(|d| d.contains_key(t)) {
                    out.push(Finding::error(
                        "semantic.unknown-target",
                        format!("{}/{i}", at("targets")),
                        format!("target `{t}` is not defined in target_definitions"),
                    ));
                }
            }
        }
        if let Some(exts) = get_obj(step, "step_extensions") {
            for key in exts.keys() {
                if !extensions.is_some_and(|d| d.contains_key(key)) {
                    let mut p = at("step_extensions");
                    push_segment(&mut p, key);
                    out.push(Finding::error(
                        "semantic.unknown-extension",
                        p,
                        format!("step extension `{key}` is not defined in extension_definitions"),
                    ));
                }
            }
        }
    }
}

/// Per-step rules the schema cannot express: switch cases. (Id form and prefix-vs-type of steps are
/// schema rules: the step file is chosen by the id prefix and pins `type`.)
fn check_step_shapes(root: &Map<String, Value>, out: &mut Vec<Finding>) {
    let Some(workflow) = get_obj(root, "workflow") else { return };
    for (id, step) in workflow {
        let Some(step) = step.as_object() else { continue };
        let here = || pointer(&["workflow", id]);
        let step_type = step.get("type").and_then(Value::as_str).unwrap_or("");
        // on_completion mixed with on_success/on_failure, parallel width and end steps that point
        // onwards are schema rules (schemas/workflows/): reported once, from there.
        if step_type == "switch-condition" && get_obj(step, "cases").is_none_or(Map::is_empty) {
            out.push(Finding::error(
                "semantic.switch-no-cases",
                format!("{}/cases", here()),
                "a switch-condition step needs at least one case",
            ));
        }
        if matches!(step_type, "if-condition" | "while-condition") {
            if let Some(text) = step.get("condition").and_then(Value::as_str) {
                if let Err(e) = super::condition::Condition::parse(text) {
                    out.push(Finding::error(
                        "semantic.condition-unreadable",
                        format!("{}/condition", here()),
                        format!("condition `{text}` is not in the condition language ({e}); write a comparison over variables such as `__threat_present__:value = 'true'`"),
                    ));
                }
            }
        }
    }
}

/// The schema checks every id's form, and that built-in agent/target types use their own prefix.
/// What it cannot know is a custom type (open vocabulary) under a custom prefix: the spec still
/// wants the prefix to be the type (`soarca-manual--…` for type `soarca-manual`).
fn check_custom_agent_prefix(
    id: &str,
    def_type: Option<&str>,
    at: impl Fn() -> String,
    kind: &str,
    out: &mut Vec<Finding>,
) {
    let (Some(expected), Some(found)) = (def_type, ids::object_type_of(id)) else { return };
    let built_in = |t: &str| AgentTargetType::KNOWN.contains(&t);
    if found != expected && !built_in(found) && !built_in(expected) && ids::check(id).is_ok() {
        out.push(Finding::error(
            "semantic.id-type-mismatch",
            at(),
            format!(
                "{kind} `{id}` has type `{expected}` but its id says `{found}`; the id must start with `{expected}--`"
            ),
        ));
    }
}

/// Reachability, dead ends, loops without exit, and cycles that bypass while-conditions.
fn check_flow(g: &WorkflowGraph, a: &Analysis, out: &mut Vec<Finding>) {
    let step_at = |n: NodeIndex| pointer(&["workflow", &g.graph[n].id]);
    if g.start.is_some() {
        for n in a.unreachable() {
            let node = &g.graph[n];
            if node.kind == StepKind::Missing {
                continue;
            }
            out.push(Finding::error(
                "semantic.unreachable-step",
                step_at(n),
                format!("step `{}` ({}) can never run: nothing leads to it from workflow_start", node.id, node.label()),
            ));
        }
    }
    // Which nodes can reach an end step: walk backwards from every end.
    let mut reaches_end = vec![false; g.graph.node_count()];
    let mut stack: Vec<NodeIndex> = g.graph.node_indices().filter(|&n| g.graph[n].kind == StepKind::End).collect();
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut reaches_end[n.index()], true) {
            continue;
        }
        stack.extend(g.graph.neighbors_directed(n, Direction::Incoming).filter(|m| !reaches_end[m.index()]));
    }
    let stuck: HashSet<NodeIndex> =
        g.graph.node_indices().filter(|&n| a.reachable[n.index()] && !reaches_end[n.index()]).collect();
    for &n in &stuck {
        let node = &g.graph[n];
        let is_sink = g.graph.neighbors_directed(n, Direction::Outgoing).next().is_none();
        if is_sink && node.kind != StepKind::Missing && node.kind != StepKind::End {
            out.push(Finding::error(
                "semantic.dead-end",
                step_at(n),
                format!(
                    "step `{}` ({}) has no next step and is not an end step: its branch never finishes",
                    node.id,
                    node.label()
                ),
            ));
        }
    }
    for cycle in &a.cycles {
        let ids = || cycle.iter().map(|&n| format!("`{}`", g.graph[n].id)).collect::<Vec<_>>().join(", ");
        if !cycle_has_while(g, cycle) {
            out.push(Finding::error(
                "semantic.cycle-without-while",
                step_at(cycle[0]),
                format!("steps {} form a cycle that does not pass through a while-condition step; loops must be while-conditions", ids()),
            ));
        }
        let members: HashSet<NodeIndex> = cycle.iter().copied().collect();
        let closed = cycle.iter().all(|&n| g.graph.neighbors(n).all(|m| members.contains(&m)));
        if closed && cycle.iter().any(|n| stuck.contains(n)) {
            out.push(Finding::error(
                "semantic.no-exit",
                step_at(cycle[0]),
                format!("the loop through {} has no way out: no end step can be reached from it", ids()),
            ));
        }
    }
}

/// Agents, targets, auth infos, extensions and markings: custom-type prefixes, contact addresses,
/// and referenced definitions present.
fn check_definitions(root: &Map<String, Value>, out: &mut Vec<Finding>) {
    let auth = get_obj(root, "authentication_info_definitions");
    for (section, kind) in [
        ("agent_definitions", "agent"),
        ("target_definitions", "target"),
        ("authentication_info_definitions", "authentication info"),
        ("extension_definitions", "extension definition"),
        ("data_marking_definitions", "data marking"),
    ] {
        let Some(defs) = get_obj(root, section) else { continue };
        for (id, def) in defs {
            let here = || pointer(&[section, id]);
            if matches!(section, "agent_definitions" | "target_definitions") {
                check_custom_agent_prefix(id, def.get("type").and_then(Value::as_str), here, kind, out);
            }
            if let Some(emails) = def.get("contact").and_then(|c| c.get("email")).and_then(Value::as_object) {
                for (kind_of_address, address) in emails {
                    let Some(address) = address.as_str() else { continue };
                    if !is_email_address(address) {
                        let mut p = format!("{}/contact/email", here());
                        push_segment(&mut p, kind_of_address);
                        out.push(Finding::error(
                            "semantic.bad-email",
                            p,
                            format!("`{address}` is not an e-mail address (local@domain, no spaces, quotes or `;`)"),
                        ));
                    }
                }
            }
            if let Some(a) = def.get("authentication_info").and_then(Value::as_str) {
                if !auth.is_some_and(|d| d.contains_key(a)) {
                    out.push(Finding::error(
                        "semantic.unknown-authentication-info",
                        format!("{}/authentication_info", here()),
                        format!("{kind} `{id}` uses authentication_info `{a}`, which is not in authentication_info_definitions"),
                    ));
                }
            }
        }
    }
    let exts = get_obj(root, "extension_definitions");
    if let Some(used) = get_obj(root, "playbook_extensions") {
        for key in used.keys() {
            if !exts.is_some_and(|d| d.contains_key(key)) {
                out.push(Finding::error(
                    "semantic.unknown-extension",
                    pointer(&["playbook_extensions", key]),
                    format!("playbook extension `{key}` is not defined in extension_definitions"),
                ));
            }
        }
    }
    let markings = get_obj(root, "data_marking_definitions");
    if let Some(list) = root.get("markings").and_then(Value::as_array) {
        for (i, m) in list.iter().enumerate() {
            let Some(m) = m.as_str() else { continue };
            // TLP markings have well-known ids defined by the spec; any other must be defined here.
            if !markings.is_some_and(|d| d.contains_key(m)) && !m.starts_with("marking-tlp--") {
                out.push(Finding::error(
                    "semantic.unknown-marking",
                    format!("/markings/{i}"),
                    format!("marking `{m}` is not defined in data_marking_definitions"),
                ));
            }
        }
    }
}

/// A conservative address check: an RFC 5322 dot-atom local part and a DNS domain with a dot.
/// Addresses end up in notification commands, so anything shell-like (`;`, backticks in the
/// domain, spaces) must not pass.
fn is_email_address(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.split('.').all(|part| !part.is_empty() && part.chars().all(atext));
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    local_ok && domain.len() <= 253 && domain.contains('.') && domain.split('.').all(label_ok)
}

/// Calls `f(name)` for every `__name__:value` reference in `text`.
pub fn variable_references(text: &str, mut f: impl FnMut(&str)) {
    const SUFFIX: &str = "__:value";
    let mut rest = text;
    while let Some(end) = rest.find(SUFFIX) {
        let before = &rest[..end];
        // The name runs back from the suffix to the nearest `__` that starts it.
        if let Some(open) = before.rfind("__") {
            let name = &before[open + 2..];
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                f(&rest[open..end + 2]);
            }
        }
        rest = &rest[end + SUFFIX.len()..];
    }
}

fn check_variables(root: &Map<String, Value>, out: &mut Vec<Finding>) {
    let Some(workflow) = get_obj(root, "workflow") else { return };
    let global = get_obj(root, "playbook_variables");
    for (id, step) in workflow {
        let Some(step) = step.as_object() else { continue };
        let local = get_obj(step, "step_variables");
        let declared =
            |name: &str| global.is_some_and(|g| g.contains_key(name)) || local.is_some_and(|l| l.contains_key(name));
        let Some(commands) = step.get("commands").and_then(Value::as_array) else { continue };
        for (i, cmd) in commands.iter().enumerate() {
            let Some(cmd) = cmd.as_object() else { continue };
            for prop in ["command", "content", "description"] {
                let Some(text) = cmd.get(prop).and_then(Value::as_str) else { continue };
                let mut reported = HashSet::new();
                variable_references(text, |name| {
                    if !declared(name) && reported.insert(name.to_owned()) {
                        out.push(Finding::error(
                            "semantic.undeclared-variable",
                            format!("{}/{i}/{prop}", pointer(&["workflow", id, "commands"])),
                            format!("`{name}:value` is used but `{name}` is not declared in playbook_variables or this step's step_variables"),
                        ));
                    }
                });
            }
        }
        for args in ["in_args", "out_args"] {
            let Some(list) = step.get(args).and_then(Value::as_array) else { continue };
            for (i, name) in list.iter().enumerate() {
                let Some(name) = name.as_str() else { continue };
                if !declared(name) {
                    out.push(Finding::error(
                        "semantic.undeclared-variable",
                        format!("{}/{i}", pointer(&["workflow", id, args])),
                        format!("{args} names `{name}`, which is not declared in playbook_variables or this step's step_variables"),
                    ));
                }
            }
        }
    }
}

fn parse_time(v: Option<&Value>) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(v?.as_str()?).ok()
}

fn check_times(root: &Map<String, Value>, out: &mut Vec<Finding>) {
    if let (Some(c), Some(m)) = (parse_time(root.get("created")), parse_time(root.get("modified"))) {
        if m < c {
            out.push(Finding::error(
                "semantic.modified-before-created",
                "/modified",
                format!("modified ({m}) is earlier than created ({c}); it must be later than or equal to it"),
            ));
        }
    }
    if let (Some(f), Some(u)) = (parse_time(root.get("valid_from")), parse_time(root.get("valid_until"))) {
        if u <= f {
            out.push(Finding::error(
                "semantic.valid-until-before-valid-from",
                "/valid_until",
                format!("valid_until ({u}) must be later than valid_from ({f})"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "o'hara@example.com"] {
            assert!(is_email_address(ok), "{ok}");
        }
        for bad in
            ["banana@business.com;`shh hack`", "a@b", "@b.co", "a b@c.co", "a@-b.co", "a..b@c.co", "a@b..co", "plain"]
        {
            assert!(!is_email_address(bad), "{bad}");
        }
    }

    #[test]
    fn variable_references_are_found_inside_text() {
        let mut found = Vec::new();
        variable_references("ping __host__:value && echo __a__ __b-c__:value; __:value", |n| found.push(n.to_owned()));
        assert_eq!(found, ["__host__", "__b-c__"]);
    }
}
