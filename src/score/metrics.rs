//! Node and edge recall/precision of a candidate playbook against a reference.
//!
//! The metric, decided once:
//! - **Nodes** are the steps defined in `workflow` other than `start` and `end` steps: actions,
//!   conditions, parallel steps and steps of types outside CACAO (`loop`, `decision`, ...) alike.
//!   References to undefined steps are not nodes.
//! - **Text of a node**: its name and the text of its commands (see [`node_text`]); when those give
//!   no token, its description; then its condition; then its type. So unnamed steps still have a text
//!   and a playbook always matches itself.
//! - **Node matching**: one-to-one, greedy from the most similar pair, on the Jaccard index of the
//!   token sets ([`super::text`]), at [`ScoreOptions::threshold`] (default 0.5); ties break by
//!   document order ([`super::align`]).
//! - **Edges** are the distinct step references (u, v) of a playbook (`on_completion`, `on_success`,
//!   `on_failure`, `on_true`, `on_false`, `next_steps`, `cases`; the kind of reference is ignored),
//!   where a `start` or `end` step stands for its type: (start--1, A) is (start, A), and two
//!   references from A to two end steps are one edge (A, end). A reference edge (u, v) is recalled
//!   when the candidate has the edge (m(u), m(v)), m being the node matching and start/end mapping
//!   to any start/end step of the candidate; an edge with an unmatched node is not recalled.
//!   Precision is the same count over the distinct candidate edges (the matching is one-to-one, so
//!   matched reference edges and matched candidate edges are equally many).
//! - References to undefined steps (dangling) are not edges on either side: the candidate cannot
//!   reproduce a reference's broken link, and checking candidates is validation's work. They are
//!   counted in [`Counts`].
//! - **Empty sides**: when the reference has no nodes (edges), recall is 1.0 if the candidate has
//!   none either, else 0.0; symmetrically, precision is 1.0 when both have none, 0.0 when only the
//!   candidate has none. F1 is the harmonic mean, 0.0 when both recall and precision are 0.
//! - **Exact-name variant** (the seed-004 metric): nodes match one-to-one when their trimmed,
//!   lower-cased names are equal (an unnamed step is named by its type); edges are counted as above
//!   on that matching.
//! - **Mitigation recall**: the fraction of expected step names matched by some action-like
//!   candidate step (`action`, `playbook-action`, or a step of a non-CACAO type that has commands);
//!   a step matches when the Jaccard index of the expected name with the step's name, or with its
//!   name and commands, reaches the threshold (taking the better of the two, so a long command does
//!   not drown a matching name). Several names may be matched by one step. No expected list gives
//!   `None`; an empty one gives 1.0.

use super::align::{align_by_tokens, align_exact, Pair};
use super::text::{jaccard, tokens, TokenSet};
use crate::workflow::{StepKind, StepNode, WorkflowGraph};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;

/// The similarity threshold of [`ScoreOptions::default`].
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// How to score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreOptions {
    /// The Jaccard index, in [0, 1], at which two steps (or a step and an expected mitigation) match.
    pub threshold: f64,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions { threshold: DEFAULT_THRESHOLD }
    }
}

/// The score of a candidate against a reference (see the module documentation for the metric).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub node_recall: f64,
    pub node_precision: f64,
    pub node_f1: f64,
    pub edge_recall: f64,
    pub edge_precision: f64,
    pub edge_f1: f64,
    /// `None` when no expected mitigations were given.
    pub mitigation_recall: Option<f64>,
    /// The same six figures with exact-name matching.
    pub exact: ExactScore,
    /// The similarity matching, in reference order.
    pub matches: Vec<NodeMatch>,
    pub counts: Counts,
}

/// The exact-name variant of the node and edge figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExactScore {
    pub node_recall: f64,
    pub node_precision: f64,
    pub node_f1: f64,
    pub edge_recall: f64,
    pub edge_precision: f64,
    pub edge_f1: f64,
    pub matched_nodes: usize,
    pub matched_edges: usize,
}

/// A reference step matched with a candidate step, by step id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeMatch {
    pub reference: String,
    pub candidate: String,
    pub similarity: f64,
}

/// The sizes behind the ratios.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub reference_nodes: usize,
    pub candidate_nodes: usize,
    pub matched_nodes: usize,
    pub reference_edges: usize,
    pub candidate_edges: usize,
    pub matched_edges: usize,
    /// Distinct references to undefined steps, left out of the edges.
    pub reference_dangling_edges: usize,
    pub candidate_dangling_edges: usize,
    pub expected_mitigations: usize,
    pub matched_mitigations: usize,
}

/// Scores `candidate` against `reference`. Never panics: malformed or non-CACAO documents give
/// empty or partial graphs.
pub fn score(
    reference: &Value,
    candidate: &Value,
    expected_mitigations: Option<&[String]>,
    opts: &ScoreOptions,
) -> Score {
    let (rg, cg) = (WorkflowGraph::from_document(reference), WorkflowGraph::from_document(candidate));
    let (r, c) = (Side::of(&rg), Side::of(&cg));

    let ref_tokens: Vec<TokenSet> = r.nodes.iter().map(|&n| node_tokens(&rg.graph[n])).collect();
    let cand_tokens: Vec<TokenSet> = c.nodes.iter().map(|&n| node_tokens(&cg.graph[n])).collect();
    let mut pairs = align_by_tokens(&ref_tokens, &cand_tokens, opts.threshold);
    let similar = Rates::of(&r, &c, &pairs);

    let ref_names: Vec<String> = r.nodes.iter().map(|&n| exact_name(&rg.graph[n])).collect();
    let cand_names: Vec<String> = c.nodes.iter().map(|&n| exact_name(&cg.graph[n])).collect();
    let exact = Rates::of(&r, &c, &align_exact(&ref_names, &cand_names));

    let (mitigation_recall, matched_mitigations) = match expected_mitigations {
        None => (None, 0),
        Some(expected) => {
            let matched = matched_mitigations(&cg, &c, expected, opts.threshold);
            (Some(if expected.is_empty() { 1.0 } else { matched as f64 / expected.len() as f64 }), matched)
        }
    };

    pairs.sort_by_key(|p| p.reference);
    let matches = pairs
        .iter()
        .map(|p| NodeMatch {
            reference: rg.graph[r.nodes[p.reference]].id.clone(),
            candidate: cg.graph[c.nodes[p.candidate]].id.clone(),
            similarity: p.similarity,
        })
        .collect();
    Score {
        node_recall: similar.node_recall,
        node_precision: similar.node_precision,
        node_f1: f1(similar.node_recall, similar.node_precision),
        edge_recall: similar.edge_recall,
        edge_precision: similar.edge_precision,
        edge_f1: f1(similar.edge_recall, similar.edge_precision),
        mitigation_recall,
        exact: ExactScore {
            node_recall: exact.node_recall,
            node_precision: exact.node_precision,
            node_f1: f1(exact.node_recall, exact.node_precision),
            edge_recall: exact.edge_recall,
            edge_precision: exact.edge_precision,
            edge_f1: f1(exact.edge_recall, exact.edge_precision),
            matched_nodes: exact.matched_nodes,
            matched_edges: exact.matched_edges,
        },
        matches,
        counts: Counts {
            reference_nodes: r.nodes.len(),
            candidate_nodes: c.nodes.len(),
            matched_nodes: similar.matched_nodes,
            reference_edges: r.edges.len(),
            candidate_edges: c.edges.len(),
            matched_edges: similar.matched_edges,
            reference_dangling_edges: r.dangling,
            candidate_dangling_edges: c.dangling,
            expected_mitigations: expected_mitigations.map_or(0, <[String]>::len),
            matched_mitigations,
        },
    }
}

/// The score of a candidate that does not exist (or cannot be read): every figure 0.0, whatever the
/// reference; mitigation recall 0.0 when mitigations are expected. Counts describe the reference.
pub fn zero_score(reference: &Value, expected_mitigations: Option<&[String]>) -> Score {
    let rg = WorkflowGraph::from_document(reference);
    let r = Side::of(&rg);
    Score {
        node_recall: 0.0,
        node_precision: 0.0,
        node_f1: 0.0,
        edge_recall: 0.0,
        edge_precision: 0.0,
        edge_f1: 0.0,
        mitigation_recall: expected_mitigations.map(|_| 0.0),
        exact: ExactScore {
            node_recall: 0.0,
            node_precision: 0.0,
            node_f1: 0.0,
            edge_recall: 0.0,
            edge_precision: 0.0,
            edge_f1: 0.0,
            matched_nodes: 0,
            matched_edges: 0,
        },
        matches: Vec::new(),
        counts: Counts {
            reference_nodes: r.nodes.len(),
            reference_edges: r.edges.len(),
            reference_dangling_edges: r.dangling,
            expected_mitigations: expected_mitigations.map_or(0, <[String]>::len),
            ..Counts::default()
        },
    }
}

/// The text a step is compared by: its name and its commands' text; if those hold no token, its
/// description; then its condition; then its type. Empty only if even the type has no token.
pub fn node_text(node: &StepNode) -> String {
    node_text_and_tokens(node).0
}

fn node_tokens(node: &StepNode) -> TokenSet {
    node_text_and_tokens(node).1
}

fn node_text_and_tokens(node: &StepNode) -> (String, TokenSet) {
    let mut main: Vec<&str> = node.name.as_deref().into_iter().collect();
    main.extend(node.commands.iter().map(|c| c.text.as_str()));
    let fallbacks = [node.description.clone(), node.condition.clone(), Some(node.kind.as_str().to_owned())];
    std::iter::once(main.join(" "))
        .chain(fallbacks.into_iter().flatten())
        .map(|text| {
            let set = tokens(&text);
            (text, set)
        })
        .find(|(_, set)| !set.is_empty())
        .unwrap_or_default()
}

/// The key of the exact-name variant: the trimmed, lower-cased name, or the type if unnamed.
fn exact_name(node: &StepNode) -> String {
    node.label().trim().to_lowercase()
}

/// An end of an edge: start and end steps stand for their type, other steps for their position in
/// [`Side::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Endpoint {
    Start,
    End,
    Step(usize),
}

/// One playbook's nodes and distinct edges.
struct Side {
    /// The defined steps other than start and end, in document order.
    nodes: Vec<NodeIndex>,
    edges: HashSet<(Endpoint, Endpoint)>,
    /// Distinct references to undefined steps.
    dangling: usize,
}

impl Side {
    fn of(g: &WorkflowGraph) -> Side {
        let mut nodes = Vec::new();
        let mut end_of = vec![None; g.graph.node_count()];
        for n in g.graph.node_indices() {
            end_of[n.index()] = match g.graph[n].kind {
                StepKind::Start => Some(Endpoint::Start),
                StepKind::End => Some(Endpoint::End),
                StepKind::Missing => None,
                _ => {
                    nodes.push(n);
                    Some(Endpoint::Step(nodes.len() - 1))
                }
            };
        }
        let mut edges = HashSet::new();
        let mut dangling = HashSet::new();
        for e in g.graph.edge_references() {
            match (end_of[e.source().index()], end_of[e.target().index()]) {
                (Some(u), Some(v)) => {
                    edges.insert((u, v));
                }
                _ => {
                    dangling.insert((e.source(), e.target()));
                }
            }
        }
        Side { nodes, edges, dangling: dangling.len() }
    }
}

/// Recall and precision of nodes and edges under one matching.
struct Rates {
    node_recall: f64,
    node_precision: f64,
    edge_recall: f64,
    edge_precision: f64,
    matched_nodes: usize,
    matched_edges: usize,
}

impl Rates {
    fn of(r: &Side, c: &Side, pairs: &[Pair]) -> Rates {
        let mut to_ref = vec![None; c.nodes.len()];
        for p in pairs {
            to_ref[p.candidate] = Some(p.reference);
        }
        let map = |end: Endpoint| match end {
            Endpoint::Step(j) => to_ref[j].map(Endpoint::Step),
            other => Some(other),
        };
        let matched_edges = c
            .edges
            .iter()
            .filter(|&&(u, v)| matches!((map(u), map(v)), (Some(u), Some(v)) if r.edges.contains(&(u, v))))
            .count();
        Rates {
            node_recall: ratio(pairs.len(), r.nodes.len(), c.nodes.len()),
            node_precision: ratio(pairs.len(), c.nodes.len(), r.nodes.len()),
            edge_recall: ratio(matched_edges, r.edges.len(), c.edges.len()),
            edge_precision: ratio(matched_edges, c.edges.len(), r.edges.len()),
            matched_nodes: pairs.len(),
            matched_edges,
        }
    }
}

/// `matched / total`; when `total` is 0: 1.0 if the other side has none either, else 0.0.
fn ratio(matched: usize, total: usize, other_total: usize) -> f64 {
    match (total, other_total) {
        (0, 0) => 1.0,
        (0, _) => 0.0,
        _ => matched as f64 / total as f64,
    }
}

/// The harmonic mean of recall and precision, 0.0 when both are 0.
pub fn f1(recall: f64, precision: f64) -> f64 {
    if recall + precision > 0.0 {
        2.0 * recall * precision / (recall + precision)
    } else {
        0.0
    }
}

/// How many expected names some action-like candidate step matches.
fn matched_mitigations(g: &WorkflowGraph, side: &Side, expected: &[String], threshold: f64) -> usize {
    let actions: Vec<(TokenSet, TokenSet)> = side
        .nodes
        .iter()
        .map(|&n| &g.graph[n])
        .filter(|node| match &node.kind {
            StepKind::Action | StepKind::PlaybookAction => true,
            StepKind::Other(_) => !node.commands.is_empty(),
            _ => false,
        })
        .map(|node| (tokens(node.name.as_deref().unwrap_or_default()), node_tokens(node)))
        .collect();
    expected
        .iter()
        .filter(|name| {
            let want = tokens(name);
            actions.iter().any(|(name_only, full)| {
                let sim = jaccard(&want, name_only).max(jaccard(&want, full));
                sim > 0.0 && sim >= threshold
            })
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain() -> Value {
        json!({"workflow_start": "start--1", "workflow": {
            "start--1": {"type": "start", "on_completion": "action--a"},
            "action--a": {"type": "action", "name": "Block IP at firewall", "on_completion": "action--b"},
            "action--b": {"type": "action", "name": "Lock user account", "on_completion": "end--1"},
            "end--1": {"type": "end"}
        }})
    }

    #[test]
    fn node_text_prefers_name_and_commands_then_falls_back() {
        let g = WorkflowGraph::from_document(&json!({"workflow": {
            "a": {"type": "action", "name": "Block", "description": "ignored",
                  "commands": [{"type": "bash", "command": "iptables -j DROP"}]},
            "b": {"type": "action", "description": "Only a description"},
            "c": {"type": "if-condition", "condition": "host is infected"},
            "d": {"type": "parallel"},
            "e": {"type": "action", "name": "  ", "description": "blank name"}
        }}));
        let text = |id: &str| node_text(g.node(id).unwrap());
        assert_eq!(text("a"), "Block iptables -j DROP");
        assert_eq!(text("b"), "Only a description");
        assert_eq!(text("c"), "host is infected");
        assert_eq!(text("d"), "parallel");
        assert_eq!(text("e"), "blank name");
    }

    #[test]
    fn ratio_and_f1_edge_cases() {
        assert_eq!(ratio(0, 0, 0), 1.0);
        assert_eq!(ratio(0, 0, 3), 0.0);
        assert_eq!(ratio(1, 4, 2), 0.25);
        assert_eq!(f1(0.0, 0.0), 0.0);
        assert_eq!(f1(1.0, 0.5), 2.0 / 3.0);
    }

    #[test]
    fn side_keeps_distinct_edges_with_start_end_as_types() {
        let doc = json!({"workflow": {
            "start--1": {"type": "start", "on_completion": "action--a"},
            "action--a": {"type": "action", "on_success": "end--1", "on_failure": "end--2"},
            "end--1": {"type": "end"}, "end--2": {"type": "end"},
            "loop--x": {"type": "loop", "on_completion": "action--gone", "next_steps": ["action--a", "action--a"]}
        }});
        let g = WorkflowGraph::from_document(&doc);
        let side = Side::of(&g);
        assert_eq!(side.nodes.len(), 2, "action--a and loop--x");
        let want: HashSet<_> = [
            (Endpoint::Start, Endpoint::Step(0)),
            (Endpoint::Step(0), Endpoint::End),
            (Endpoint::Step(1), Endpoint::Step(0)),
        ]
        .into();
        assert_eq!(side.edges, want);
        assert_eq!(side.dangling, 1);
    }

    #[test]
    fn mitigation_recall_by_name_or_name_and_command() {
        let cand = json!({"workflow": {
            "action--1": {"type": "action", "name": "Block the attacking address",
                "commands": [{"type": "bash", "command": "iptables -A INPUT -s 203.0.113.45 -j DROP && echo blocked ok now"}]},
            "if-condition--2": {"type": "if-condition", "name": "Lock account"},
            "loop--3": {"type": "loop", "name": "Kill sessions", "commands": [{"type": "bash", "command": "pkill -u deploy"}]}
        }});
        let expected: Vec<String> =
            ["Block the attacking address at the firewall", "Lock account", "Kill sessions", "Reimage host"]
                .map(String::from)
                .to_vec();
        let s = score(&chain(), &cand, Some(&expected), &ScoreOptions::default());
        // Block: name {block, attacking, address} vs {block, attacking, address, firewall} = 3/4.
        // Lock account: only an if-condition has it, which is not action-like. Kill sessions: loop
        // with commands. Reimage: nothing. 2 of 4.
        assert_eq!(s.mitigation_recall, Some(0.5));
        assert_eq!(s.counts.matched_mitigations, 2);
        assert_eq!(score(&chain(), &cand, Some(&[]), &ScoreOptions::default()).mitigation_recall, Some(1.0));
        assert_eq!(score(&chain(), &cand, None, &ScoreOptions::default()).mitigation_recall, None);
    }

    #[test]
    fn zero_score_counts_the_reference() {
        let s = zero_score(&chain(), Some(&["x".to_owned()]));
        assert_eq!((s.node_recall, s.edge_f1, s.mitigation_recall), (0.0, 0.0, Some(0.0)));
        assert_eq!((s.counts.reference_nodes, s.counts.reference_edges, s.counts.expected_mitigations), (2, 3, 1));
    }
}
