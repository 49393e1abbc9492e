//! A Graphviz `digraph` of a workflow: a shape and colours per step type, edge labels and colours
//! per edge kind, tooltips with the full step text. Every string is a quoted DOT string with `\`
//! and `"` escaped, so playbook text can neither end a string nor smuggle in escapes (`\N`, `\G`);
//! the only `\n` in the output are the line breaks we put in labels.

use super::super::analysis::Analysis;
use super::super::graph::{EdgeKind, StepKind, WorkflowGraph};
use super::{one_line, short_id, truncate_chars};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::fmt::Write;

const MAX_LINE: usize = 60;

/// Writes `s` escaped for the inside of a quoted DOT string; line breaks become `\n`, other
/// control characters are dropped.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

/// `s` escaped for the inside of a quoted DOT string (see [`escape_into`]).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s);
    out
}

/// `s` as a quoted DOT string.
pub fn quoted(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

fn node_attrs(kind: &StepKind) -> (&'static str, &'static str, &'static str, &'static str) {
    // (shape, style, fill, stroke)
    match kind {
        StepKind::Start => ("oval", "filled", "#e8f5e9", "#2e7d32"),
        StepKind::End => ("doublecircle", "filled", "#eceff1", "#455a64"),
        StepKind::Action => ("box", "rounded,filled", "#e3f2fd", "#1565c0"),
        StepKind::PlaybookAction => ("component", "filled", "#ede7f6", "#5e35b1"),
        StepKind::Parallel => ("parallelogram", "filled", "#e0f2f1", "#00796b"),
        StepKind::IfCondition => ("diamond", "filled", "#fff8e1", "#b26a00"),
        StepKind::WhileCondition => ("hexagon", "filled", "#fff3e0", "#d84315"),
        StepKind::SwitchCondition => ("octagon", "filled", "#fce4ec", "#ad1457"),
        StepKind::Other(_) => ("box", "rounded,dashed,filled", "#f5f5f5", "#616161"),
        StepKind::Missing => ("box", "dashed,filled", "#fff5f5", "#c62828"),
    }
}

fn edge_attrs(kind: &EdgeKind) -> (&'static str, &'static str) {
    match kind {
        EdgeKind::OnCompletion => ("#607d8b", "solid"),
        EdgeKind::OnSuccess | EdgeKind::OnTrue => ("#2e7d32", "solid"),
        EdgeKind::OnFailure => ("#c62828", "dashed"),
        EdgeKind::OnFalse => ("#d84315", "solid"),
        EdgeKind::NextStep => ("#00796b", "solid"),
        EdgeKind::Case(_) => ("#ad1457", "solid"),
    }
}

fn label(g: &WorkflowGraph, node: NodeIndex) -> String {
    let s = &g.graph[node];
    if s.kind == StepKind::Missing {
        return format!("MISSING\n{}", short_id(&s.id));
    }
    let mut lines = vec![truncate_chars(&one_line(s.label()), MAX_LINE)];
    let mut kind_line = s.kind.as_str().to_owned();
    let mut types: Vec<&str> = Vec::new();
    for c in &s.commands {
        if !types.contains(&c.command_type.as_str()) {
            types.push(&c.command_type);
        }
    }
    if !types.is_empty() {
        let _ = write!(kind_line, " · {}", types.join(", "));
    }
    if lines[0] != kind_line {
        lines.push(kind_line);
    }
    if s.kind.is_condition() {
        if let Some(c) = &s.condition {
            lines.push(truncate_chars(&one_line(c), MAX_LINE));
        }
    }
    if let Some(p) = &s.playbook_id {
        lines.push(format!("▸ {}", short_id(p)));
    }
    lines.join("\n")
}

fn tooltip(g: &WorkflowGraph, a: &Analysis, node: NodeIndex) -> String {
    let s = &g.graph[node];
    let mut t = format!("{} ({})", s.id, s.kind);
    for text in [&s.description, &s.condition].into_iter().flatten() {
        let _ = write!(t, "\n{}", one_line(text));
    }
    for c in &s.commands {
        let _ = write!(t, "\n[{}] {}", c.command_type, one_line(&c.text));
    }
    if !a.reachable.get(node.index()).copied().unwrap_or(true) {
        t.push_str("\n(unreachable from workflow_start)");
    }
    t
}

/// Draws the workflow as a Graphviz digraph.
pub fn to_dot(g: &WorkflowGraph, a: &Analysis) -> String {
    let mut out = String::with_capacity(512 + g.graph.node_count() * 200 + g.graph.edge_count() * 80);
    out.push_str("digraph workflow {\n");
    out.push_str("  graph [rankdir=TB, labelloc=t, fontname=\"Helvetica\", fontsize=16, nodesep=0.35, ranksep=0.45");
    if let Some(title) = g.title.as_deref().map(one_line).filter(|t| !t.is_empty()) {
        let _ = write!(out, ", label={}", quoted(&truncate_chars(&title, 120)));
    }
    out.push_str("];\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=10, penwidth=1.4, margin=\"0.15,0.06\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9, arrowsize=0.7, penwidth=1.3];\n");
    for node in g.graph.node_indices() {
        let s = &g.graph[node];
        let (shape, style, fill, stroke) = node_attrs(&s.kind);
        let unreachable = !a.reachable.get(node.index()).copied().unwrap_or(true);
        let _ = write!(
            out,
            "  {} [shape={shape}, style=\"{style}\", fillcolor=\"{fill}\", color=\"{stroke}\", label={}, tooltip={}",
            quoted(&s.id),
            quoted(&label(g, node)),
            quoted(&tooltip(g, a, node))
        );
        if unreachable {
            out.push_str(", fontcolor=\"#78909c\"");
        }
        if Some(node) == g.start {
            out.push_str(", penwidth=2.2");
        }
        out.push_str("];\n");
    }
    for e in g.graph.edge_references() {
        let kind = &e.weight().kind;
        let (color, style) = edge_attrs(kind);
        let _ = write!(
            out,
            "  {} -> {} [color=\"{color}\", fontcolor=\"{color}\", style={style}",
            quoted(&g.graph[e.source()].id),
            quoted(&g.graph[e.target()].id)
        );
        let single = g.graph.edges_directed(e.source(), Direction::Outgoing).nth(1).is_none();
        if !(*kind == EdgeKind::OnCompletion && single) {
            let _ = write!(out, ", label={}", quoted(&truncate_chars(&one_line(&kind.label()), 40)));
        }
        if a.back_edges.contains(&e.id()) {
            out.push_str(", penwidth=1.8");
        }
        out.push_str("];\n");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_quotes_backslashes_and_newlines() {
        assert_eq!(escape(r#"a "b" \N c"#), r#"a \"b\" \\N c"#);
        assert_eq!(escape("x\ny\u{0}"), "x\\ny");
        assert_eq!(quoted("}"), "\"}\"");
    }

    #[test]
    fn shapes_labels_and_edge_labels() {
        let g = WorkflowGraph::from_document(
            &json!({"name": "Evil \"name\" \\", "workflow_start": "start--1", "workflow": {
                "start--1": {"type": "start", "on_completion": "switch-condition--2"},
                "switch-condition--2": {"type": "switch-condition", "name": "route \"it\"", "switch": "__v__",
                    "cases": {"a\"b": "end--3", "default": "playbook-action--4"}},
                "playbook-action--4": {"type": "playbook-action", "playbook_id": "playbook--aa1898b6-5251-49b4-aeb7-fd5e912583ff",
                    "on_completion": "end--3"},
                "end--3": {"type": "end", "name": "Done\nreally"}
            }}),
        );
        let d = to_dot(&g, &Analysis::of(&g));
        assert!(d.starts_with("digraph workflow {\n"));
        assert!(d.trim_end().ends_with('}'));
        assert!(d.contains(r#"label="Evil \"name\" \\""#), "{d}");
        assert!(d.contains(r#""switch-condition--2" [shape=octagon"#));
        assert!(d.contains(r#"label="route \"it\"\nswitch-condition\n__v__""#), "{d}");
        assert!(d.contains(r#"label="case a\"b""#), "{d}");
        assert!(d.contains(r#"label="Done really\nend""#), "{d}");
        assert!(d.contains("shape=component"));
        assert!(d.contains("playbook--aa1898b6…"));
        // Every quote in the output is either escaped or delimits a string: they balance per line.
        for line in d.lines() {
            let unescaped = line.replace("\\\\", "").replace("\\\"", "");
            assert_eq!(unescaped.matches('"').count() % 2, 0, "{line}");
        }
    }
}
