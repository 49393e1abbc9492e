//! Builds a typed petgraph graph from a playbook document.
//!
//! The graph is built from the JSON document, not from the typed model, on purpose: reviewers and
//! the scorer must be able to draw and compare playbooks that do not fit the model (LLM output, the
//! seed-004 dataset with its `loop` steps and dangling references). Whatever cannot be read becomes a
//! visible node or is skipped, never a failure.

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// The type of a workflow step, as the CACAO `workflow-step-type-enum` names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StepKind {
    Start,
    End,
    Action,
    PlaybookAction,
    Parallel,
    IfCondition,
    WhileCondition,
    SwitchCondition,
    /// A `type` outside the CACAO vocabulary (e.g. `loop` in generated playbooks).
    Other(String),
    /// A step that is referenced but not defined in `workflow`.
    Missing,
}

impl StepKind {
    pub fn from_type(step_type: &str) -> StepKind {
        match step_type {
            "start" => StepKind::Start,
            "end" => StepKind::End,
            "action" => StepKind::Action,
            "playbook-action" => StepKind::PlaybookAction,
            "parallel" => StepKind::Parallel,
            "if-condition" => StepKind::IfCondition,
            "while-condition" => StepKind::WhileCondition,
            "switch-condition" => StepKind::SwitchCondition,
            other => StepKind::Other(other.to_owned()),
        }
    }

    /// The CACAO name of the type (`"missing"` for an undefined step).
    pub fn as_str(&self) -> &str {
        match self {
            StepKind::Start => "start",
            StepKind::End => "end",
            StepKind::Action => "action",
            StepKind::PlaybookAction => "playbook-action",
            StepKind::Parallel => "parallel",
            StepKind::IfCondition => "if-condition",
            StepKind::WhileCondition => "while-condition",
            StepKind::SwitchCondition => "switch-condition",
            StepKind::Other(name) => name,
            StepKind::Missing => "missing",
        }
    }

    pub fn is_condition(&self) -> bool {
        matches!(self, StepKind::IfCondition | StepKind::WhileCondition | StepKind::SwitchCondition)
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One command of an action step, as much as a reviewer needs to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSummary {
    pub command_type: String,
    /// `command`, else `description`, else the decoded-free `command_b64` marker.
    pub text: String,
}

/// A workflow step as a node of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepNode {
    pub id: String,
    pub kind: StepKind,
    pub name: Option<String>,
    pub description: Option<String>,
    /// The `condition` of if/while steps, or the `switch` expression of switch steps.
    pub condition: Option<String>,
    pub commands: Vec<CommandSummary>,
    pub agent: Option<String>,
    pub targets: Vec<String>,
    /// The sub-playbook of a playbook-action step.
    pub playbook_id: Option<String>,
}

impl StepNode {
    fn missing(id: &str) -> StepNode {
        StepNode {
            id: id.to_owned(),
            kind: StepKind::Missing,
            name: None,
            description: None,
            condition: None,
            commands: Vec::new(),
            agent: None,
            targets: Vec::new(),
            playbook_id: None,
        }
    }

    /// What to show for the step: its name, else its type.
    pub fn label(&self) -> &str {
        self.name.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or(self.kind.as_str())
    }
}

/// Why control flows from one step to another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    OnCompletion,
    OnSuccess,
    OnFailure,
    OnTrue,
    OnFalse,
    /// A branch of a parallel step.
    NextStep,
    /// A case of a switch step, with its case value (`default` included).
    Case(String),
}

impl EdgeKind {
    /// The CACAO property that carries the reference.
    pub fn property(&self) -> &str {
        match self {
            EdgeKind::OnCompletion => "on_completion",
            EdgeKind::OnSuccess => "on_success",
            EdgeKind::OnFailure => "on_failure",
            EdgeKind::OnTrue => "on_true",
            EdgeKind::OnFalse => "on_false",
            EdgeKind::NextStep => "next_steps",
            EdgeKind::Case(_) => "cases",
        }
    }

    /// A short label for drawings.
    pub fn label(&self) -> String {
        match self {
            EdgeKind::Case(value) => format!("case {value}"),
            other => other.property().to_owned(),
        }
    }
}

/// A reference from one step to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepEdge {
    pub kind: EdgeKind,
    /// The position in the list that holds the reference (next_steps, or CACAO 1.x on_true lists).
    pub slot: Option<usize>,
}

impl StepEdge {
    /// The JSON pointer of the property that holds this reference in step `from`. Built on demand:
    /// only findings need it, and building it for every edge would cost validation throughput.
    pub fn pointer(&self, from: &str) -> String {
        let mut p = crate::finding::pointer(&["workflow", from, self.kind.property()]);
        if let EdgeKind::Case(case) = &self.kind {
            crate::finding::push_segment(&mut p, case);
        }
        if let Some(i) = self.slot {
            p.push_str(&format!("/{i}"));
        }
        p
    }
}

/// The workflow of one playbook as a directed graph.
#[derive(Debug, Clone, Default)]
pub struct WorkflowGraph {
    pub graph: DiGraph<StepNode, StepEdge>,
    /// Step id -> node, for defined and missing steps alike.
    pub index: HashMap<String, NodeIndex>,
    /// The node named by `workflow_start`, if it names anything.
    pub start: Option<NodeIndex>,
    /// The node named by `workflow_exception`, if it names anything.
    pub exception: Option<NodeIndex>,
    /// The playbook's name, for titles.
    pub title: Option<String>,
}

/// The reference properties of a step, in the order they are drawn and checked.
const SINGLE_REFS: [(&str, EdgeKind); 5] = [
    ("on_completion", EdgeKind::OnCompletion),
    ("on_success", EdgeKind::OnSuccess),
    ("on_failure", EdgeKind::OnFailure),
    ("on_true", EdgeKind::OnTrue),
    ("on_false", EdgeKind::OnFalse),
];

impl WorkflowGraph {
    /// Builds the graph of `doc`'s `workflow`. Never fails: a missing or malformed workflow gives an
    /// empty graph, references to undefined steps give `Missing` nodes.
    pub fn from_document(doc: &Value) -> WorkflowGraph {
        let mut g = WorkflowGraph {
            title: doc.get("name").and_then(Value::as_str).map(str::to_owned),
            ..WorkflowGraph::default()
        };
        let Some(workflow) = doc.get("workflow").and_then(Value::as_object) else {
            return g;
        };
        g.graph.reserve_nodes(workflow.len());
        for (id, step) in workflow {
            let node = g.graph.add_node(step_node(id, step));
            g.index.insert(id.clone(), node);
        }
        for (id, step) in workflow {
            let from = g.index[id.as_str()];
            for_each_reference(step, |kind, target, slot| {
                let to = g.node_or_missing(target);
                g.graph.add_edge(from, to, StepEdge { kind, slot });
            });
        }
        g.start = doc.get("workflow_start").and_then(Value::as_str).and_then(|s| g.index.get(s).copied());
        g.exception = doc.get("workflow_exception").and_then(Value::as_str).and_then(|s| g.index.get(s).copied());
        g
    }

    fn node_or_missing(&mut self, id: &str) -> NodeIndex {
        if let Some(&node) = self.index.get(id) {
            return node;
        }
        let node = self.graph.add_node(StepNode::missing(id));
        self.index.insert(id.to_owned(), node);
        node
    }

    pub fn node(&self, id: &str) -> Option<&StepNode> {
        self.index.get(id).map(|&n| &self.graph[n])
    }

    pub fn step_count(&self) -> usize {
        self.graph.node_weights().filter(|n| n.kind != StepKind::Missing).count()
    }

    /// The distinct (from, to) step-id pairs, in edge order.
    pub fn step_pairs(&self) -> Vec<(&str, &str)> {
        let mut seen = std::collections::HashSet::new();
        let mut pairs = Vec::new();
        for e in self.graph.edge_references() {
            let pair = (self.graph[e.source()].id.as_str(), self.graph[e.target()].id.as_str());
            if seen.insert(pair) {
                pairs.push(pair);
            }
        }
        pairs
    }
}

/// Calls `visit(kind, target_id, slot)` for every step reference held by `step` (`slot` is the
/// index within a list-valued property). The single place that knows which properties hold step
/// references: the graph, and through it the semantic checks and drawings, all read them here.
pub fn for_each_reference(step: &Value, mut visit: impl FnMut(EdgeKind, &str, Option<usize>)) {
    let Some(obj) = step.as_object() else { return };
    for (prop, kind) in SINGLE_REFS.iter() {
        match obj.get(*prop) {
            Some(Value::String(target)) => visit(kind.clone(), target, None),
            // CACAO 1.x wrote on_true/on_false as lists; read them rather than lose the edge.
            Some(Value::Array(list)) => {
                for (i, t) in list.iter().enumerate() {
                    if let Some(target) = t.as_str() {
                        visit(kind.clone(), target, Some(i));
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(next) = obj.get("next_steps").and_then(Value::as_array) {
        for (i, t) in next.iter().enumerate() {
            if let Some(target) = t.as_str() {
                visit(EdgeKind::NextStep, target, Some(i));
            }
        }
    }
    if let Some(cases) = obj.get("cases").and_then(Value::as_object) {
        for (case, t) in cases {
            match t {
                Value::String(target) => visit(EdgeKind::Case(case.clone()), target, None),
                Value::Array(list) => {
                    for (i, t) in list.iter().enumerate() {
                        if let Some(target) = t.as_str() {
                            visit(EdgeKind::Case(case.clone()), target, Some(i));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn str_field(obj: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn step_node(id: &str, step: &Value) -> StepNode {
    let empty = serde_json::Map::new();
    let obj = step.as_object().unwrap_or(&empty);
    let kind = match obj.get("type").and_then(Value::as_str) {
        Some(t) => StepKind::from_type(t),
        None => StepKind::Other("untyped".to_owned()),
    };
    let commands = obj
        .get("commands")
        .and_then(Value::as_array)
        .map(|cmds| cmds.iter().filter_map(command_summary).collect())
        .unwrap_or_default();
    let targets = obj
        .get("targets")
        .and_then(Value::as_array)
        .map(|ts| ts.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    StepNode {
        id: id.to_owned(),
        name: str_field(obj, "name"),
        description: str_field(obj, "description"),
        condition: str_field(obj, "condition").or_else(|| str_field(obj, "switch")),
        commands,
        agent: str_field(obj, "agent"),
        targets,
        playbook_id: str_field(obj, "playbook_id"),
        kind,
    }
}

fn command_summary(cmd: &Value) -> Option<CommandSummary> {
    let obj = cmd.as_object()?;
    let command_type = obj.get("type").and_then(Value::as_str).unwrap_or("unknown").to_owned();
    let text = str_field(obj, "command")
        .or_else(|| str_field(obj, "description"))
        .or_else(|| obj.get("command_b64").map(|_| "(base64 command)".to_owned()))
        .unwrap_or_default();
    Some(CommandSummary { command_type, text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn sample() -> Value {
        json!({
            "name": "sample",
            "workflow_start": "start--1",
            "workflow": {
                "start--1": {"type": "start", "on_completion": "if-condition--2"},
                "if-condition--2": {"type": "if-condition", "condition": "x = 1",
                    "on_true": "action--3", "on_false": "end--9"},
                "action--3": {"type": "action", "name": "Block IP",
                    "commands": [{"type": "bash", "command": "iptables -A INPUT -s 1.2.3.4 -j DROP"}],
                    "on_success": "end--9", "on_failure": "action--404"},
                "end--9": {"type": "end"}
            }
        })
    }

    #[test]
    fn builds_nodes_edges_and_missing_targets() {
        let g = WorkflowGraph::from_document(&sample());
        assert_eq!(g.step_count(), 4);
        assert_eq!(g.graph.node_count(), 5, "the dangling action--404 becomes a Missing node");
        assert_eq!(g.node("action--404").unwrap().kind, StepKind::Missing);
        assert_eq!(g.graph.edge_count(), 5);
        assert_eq!(g.graph[g.start.unwrap()].kind, StepKind::Start);
        let a = g.node("action--3").unwrap();
        assert_eq!(a.label(), "Block IP");
        assert_eq!(a.commands[0].command_type, "bash");
        assert_eq!(g.node("if-condition--2").unwrap().condition.as_deref(), Some("x = 1"));
    }

    #[test]
    fn edges_carry_kind_and_pointer() {
        let g = WorkflowGraph::from_document(&sample());
        let failure = g.graph.edge_weights().find(|e| e.kind == EdgeKind::OnFailure).expect("on_failure edge");
        assert_eq!(failure.pointer("action--3"), "/workflow/action--3/on_failure");
        let doc = json!({"workflow": {"s": {"type": "switch-condition", "cases": {"a/b": "x"}},
            "p": {"type": "parallel", "next_steps": ["x", "y"]}}});
        let g = WorkflowGraph::from_document(&doc);
        let pointers: Vec<String> = g
            .graph
            .edge_indices()
            .map(|e| g.graph[e].pointer(&g.graph[g.graph.edge_endpoints(e).unwrap().0].id))
            .collect();
        assert_eq!(pointers, ["/workflow/s/cases/a~1b", "/workflow/p/next_steps/0", "/workflow/p/next_steps/1"]);
    }

    #[test]
    fn switch_cases_and_parallel_branches() {
        let doc = json!({"workflow": {
            "switch-condition--1": {"type": "switch-condition", "switch": "__v__",
                "cases": {"a": "action--1", "default": "end--1"}},
            "parallel--1": {"type": "parallel", "next_steps": ["action--1", "end--1"]},
            "action--1": {"type": "action"}, "end--1": {"type": "end"}
        }});
        let g = WorkflowGraph::from_document(&doc);
        let kinds: Vec<String> = g.graph.edge_weights().map(|e| e.kind.label()).collect();
        assert_eq!(kinds, ["case a", "case default", "next_steps", "next_steps"]);
        assert_eq!(g.step_pairs().len(), 4);
    }

    #[test]
    fn malformed_documents_give_empty_graphs() {
        for doc in [json!(null), json!({"workflow": []}), json!({"workflow": {"x": 5}})] {
            let g = WorkflowGraph::from_document(&doc);
            assert!(g.graph.node_count() <= 1);
        }
    }
}
