//! Analyses of a workflow graph: reachability, cycles, branch and join points, a display ordering,
//! and the critical path. All are linear or near-linear in the graph size and iterative (no
//! recursion), so a 100,000-step playbook cannot overflow the stack.

use super::graph::{StepKind, WorkflowGraph};
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::HashSet;

/// What the analyses found, in node indices of the graph they ran on.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Nodes reachable from `workflow_start` (and from `workflow_exception`, which is entered on errors).
    pub reachable: Vec<bool>,
    /// Edges that close a cycle in a depth-first walk from the start (loop-backs).
    pub back_edges: HashSet<EdgeIndex>,
    /// Strongly connected components with more than one node, or a self-loop.
    pub cycles: Vec<Vec<NodeIndex>>,
    /// Nodes with more than one distinct successor.
    pub branch_points: Vec<NodeIndex>,
    /// Nodes with more than one distinct predecessor.
    pub join_points: Vec<NodeIndex>,
    /// Layer of each node for drawing: the longest forward path from a root, back edges ignored.
    pub layer: Vec<usize>,
    /// Nodes in display order: by layer, then by first appearance in the document.
    pub order: Vec<NodeIndex>,
    /// Number of steps on the longest forward path from the start (back edges ignored).
    pub critical_path_len: usize,
    /// The steps of that path, start first.
    pub critical_path: Vec<NodeIndex>,
}

impl Analysis {
    pub fn of(g: &WorkflowGraph) -> Analysis {
        let n = g.graph.node_count();
        let mut a = Analysis { reachable: vec![false; n], layer: vec![0; n], ..Analysis::default() };
        let roots = roots(g);
        for &root in &roots {
            mark_reachable(g, root, &mut a.reachable);
        }
        a.back_edges = back_edges(g, &roots);
        // Kosaraju, not Tarjan: petgraph's Tarjan recurses and overflows the stack on long chains.
        a.cycles = petgraph::algo::kosaraju_scc(&g.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1 || g.graph.contains_edge(scc[0], scc[0]))
            .collect();
        for node in g.graph.node_indices() {
            if distinct_neighbors(g, node, Direction::Outgoing) > 1 {
                a.branch_points.push(node);
            }
            if distinct_neighbors(g, node, Direction::Incoming) > 1 {
                a.join_points.push(node);
            }
        }
        let topo = forward_topological_order(g, &a.back_edges);
        for &node in &topo {
            for e in g.graph.edges_directed(node, Direction::Outgoing) {
                if a.back_edges.contains(&e.id()) {
                    continue;
                }
                let next = e.target().index();
                a.layer[next] = a.layer[next].max(a.layer[node.index()] + 1);
            }
        }
        a.order = g.graph.node_indices().collect();
        a.order.sort_by_key(|&node| (a.layer[node.index()], node.index()));
        if let Some(start) = g.start {
            a.critical_path = longest_path_from(g, start, &topo, &a.back_edges);
            a.critical_path_len = a.critical_path.len();
        }
        a
    }

    pub fn unreachable(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.reachable.iter().enumerate().filter(|(_, r)| !**r).map(|(i, _)| NodeIndex::new(i))
    }
}

/// Where walks begin: the start step and the exception handler; for a playbook without a usable
/// start, every node without predecessors, so that drawings still have a shape.
fn roots(g: &WorkflowGraph) -> Vec<NodeIndex> {
    let mut roots: Vec<NodeIndex> = g.start.into_iter().chain(g.exception).collect();
    if roots.is_empty() {
        roots = g
            .graph
            .node_indices()
            .filter(|&n| g.graph.neighbors_directed(n, Direction::Incoming).next().is_none())
            .collect();
    }
    roots
}

fn mark_reachable(g: &WorkflowGraph, root: NodeIndex, seen: &mut [bool]) {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if std::mem::replace(&mut seen[node.index()], true) {
            continue;
        }
        stack.extend(g.graph.neighbors(node).filter(|m| !seen[m.index()]));
    }
}

fn distinct_neighbors(g: &WorkflowGraph, node: NodeIndex, dir: Direction) -> usize {
    let mut ns: Vec<NodeIndex> = g.graph.neighbors_directed(node, dir).collect();
    ns.sort_unstable();
    ns.dedup();
    ns.len()
}

/// Back edges of an iterative depth-first search from the roots, then from every unvisited node in
/// document order (so unreachable loops are found too).
fn back_edges(g: &WorkflowGraph, roots: &[NodeIndex]) -> HashSet<EdgeIndex> {
    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        White,
        Grey,
        Black,
    }
    let mut color = vec![Color::White; g.graph.node_count()];
    let mut back = HashSet::new();
    let starts = roots.iter().copied().chain(g.graph.node_indices());
    for root in starts {
        if color[root.index()] != Color::White {
            continue;
        }
        // Each frame: the node and its outgoing edges still to visit.
        let mut stack: Vec<(NodeIndex, Vec<(EdgeIndex, NodeIndex)>)> = Vec::new();
        color[root.index()] = Color::Grey;
        stack.push((root, outgoing_in_document_order(g, root)));
        while let Some((node, edges)) = stack.last_mut() {
            let node = *node;
            match edges.pop() {
                Some((edge, next)) => match color[next.index()] {
                    Color::White => {
                        color[next.index()] = Color::Grey;
                        let next_edges = outgoing_in_document_order(g, next);
                        stack.push((next, next_edges));
                    }
                    Color::Grey => {
                        back.insert(edge);
                    }
                    Color::Black => {}
                },
                None => {
                    color[node.index()] = Color::Black;
                    stack.pop();
                }
            }
        }
    }
    back
}

/// Outgoing edges reversed, so that popping from the end visits them in document order.
fn outgoing_in_document_order(g: &WorkflowGraph, node: NodeIndex) -> Vec<(EdgeIndex, NodeIndex)> {
    let mut edges: Vec<(EdgeIndex, NodeIndex)> =
        g.graph.edges_directed(node, Direction::Outgoing).map(|e| (e.id(), e.target())).collect();
    edges.sort_by_key(|(e, _)| std::cmp::Reverse(e.index()));
    edges
}

/// Kahn's algorithm on the graph without its back edges (which is acyclic by construction).
fn forward_topological_order(g: &WorkflowGraph, back: &HashSet<EdgeIndex>) -> Vec<NodeIndex> {
    let mut indegree = vec![0usize; g.graph.node_count()];
    for e in g.graph.edge_references() {
        if !back.contains(&e.id()) {
            indegree[e.target().index()] += 1;
        }
    }
    let mut ready: Vec<NodeIndex> = g.graph.node_indices().filter(|n| indegree[n.index()] == 0).collect();
    ready.reverse();
    let mut order = Vec::with_capacity(g.graph.node_count());
    while let Some(node) = ready.pop() {
        order.push(node);
        for e in g.graph.edges_directed(node, Direction::Outgoing) {
            if back.contains(&e.id()) {
                continue;
            }
            let t = e.target().index();
            indegree[t] -= 1;
            if indegree[t] == 0 {
                ready.push(e.target());
            }
        }
    }
    order
}

fn longest_path_from(
    g: &WorkflowGraph,
    start: NodeIndex,
    topo: &[NodeIndex],
    back: &HashSet<EdgeIndex>,
) -> Vec<NodeIndex> {
    let n = g.graph.node_count();
    let mut dist: Vec<Option<usize>> = vec![None; n];
    let mut pred: Vec<Option<NodeIndex>> = vec![None; n];
    dist[start.index()] = Some(1);
    for &node in topo {
        let Some(d) = dist[node.index()] else { continue };
        for e in g.graph.edges_directed(node, Direction::Outgoing) {
            if back.contains(&e.id()) {
                continue;
            }
            let t = e.target().index();
            if dist[t].is_none_or(|old| d + 1 > old) {
                dist[t] = Some(d + 1);
                pred[t] = Some(node);
            }
        }
    }
    let Some((last, _)) =
        dist.iter().enumerate().filter_map(|(i, d)| d.map(|d| (i, d))).max_by_key(|&(i, d)| (d, std::cmp::Reverse(i)))
    else {
        return Vec::new();
    };
    let mut path = vec![NodeIndex::new(last)];
    while let Some(p) = pred[path.last().unwrap().index()] {
        path.push(p);
    }
    path.reverse();
    path
}

/// True when a cycle passes through a while-condition step (the only legal loop in CACAO).
pub fn cycle_has_while(g: &WorkflowGraph, cycle: &[NodeIndex]) -> bool {
    cycle.iter().any(|&n| g.graph[n].kind == StepKind::WhileCondition)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(doc: serde_json::Value) -> WorkflowGraph {
        WorkflowGraph::from_document(&doc)
    }

    #[test]
    fn linear_playbook_has_critical_path_through_every_step() {
        let g = graph(json!({"workflow_start": "s", "workflow": {
            "s": {"type": "start", "on_completion": "a"},
            "a": {"type": "action", "on_completion": "b"},
            "b": {"type": "action", "on_completion": "e"},
            "e": {"type": "end"}
        }}));
        let a = Analysis::of(&g);
        assert_eq!(a.critical_path_len, 4);
        let ids: Vec<&str> = a.critical_path.iter().map(|&n| g.graph[n].id.as_str()).collect();
        assert_eq!(ids, ["s", "a", "b", "e"]);
        assert!(a.cycles.is_empty());
        assert!(a.unreachable().next().is_none());
        assert_eq!(a.layer, vec![0, 1, 2, 3]);
    }

    #[test]
    fn while_loop_is_a_cycle_with_one_back_edge() {
        let g = graph(json!({"workflow_start": "s", "workflow": {
            "s": {"type": "start", "on_completion": "w"},
            "w": {"type": "while-condition", "condition": "x", "on_true": "a", "on_completion": "e"},
            "a": {"type": "action", "on_completion": "w"},
            "e": {"type": "end"},
            "orphan": {"type": "action", "on_completion": "e"}
        }}));
        let a = Analysis::of(&g);
        assert_eq!(a.cycles.len(), 1);
        assert!(cycle_has_while(&g, &a.cycles[0]));
        assert_eq!(a.back_edges.len(), 1);
        let unreachable: Vec<&str> = a.unreachable().map(|n| g.graph[n].id.as_str()).collect();
        assert_eq!(unreachable, ["orphan"]);
        let w = g.index["w"];
        assert!(a.branch_points.contains(&w));
        assert!(a.join_points.contains(&w));
        assert_eq!(a.critical_path_len, 3, "s -> w -> a and s -> w -> e; the loop-back and the orphan add nothing");
    }

    #[test]
    fn deep_chain_does_not_overflow_the_stack() {
        let n = 100_000;
        let mut wf = serde_json::Map::new();
        wf.insert("s".into(), json!({"type": "start", "on_completion": "a0"}));
        for i in 0..n {
            let next = if i + 1 == n { "e".to_owned() } else { format!("a{}", i + 1) };
            wf.insert(format!("a{i}"), json!({"type": "action", "on_completion": next}));
        }
        wf.insert("e".into(), json!({"type": "end"}));
        let g = graph(json!({"workflow_start": "s", "workflow": wf}));
        let a = Analysis::of(&g);
        assert_eq!(a.critical_path_len, n + 2);
    }
}
