//! A Mermaid `flowchart TD` of a workflow: a shape and a colour class per step type, edge labels,
//! `on_failure` dotted. Node ids are generated (`n3_action`), never taken from the playbook:
//! CACAO ids contain `--`, which Mermaid reads as an edge, and playbook text cannot inject syntax.
//! Labels are quoted, with every character Mermaid gives a meaning to written as an entity code.

use super::super::analysis::Analysis;
use super::super::graph::{EdgeKind, StepKind, WorkflowGraph};
use super::{one_line, short_id, truncate_chars};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::fmt::Write;

/// Longest line of a label, in characters, before it is cut with an ellipsis.
const MAX_LINE: usize = 60;

/// Writes `s` (one line, cut to `max` characters) for use inside a quoted Mermaid label.
fn escape_into(out: &mut String, s: &str, max: usize) {
    for c in truncate_chars(&one_line(s), max).chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '[' | ']' | '{' | '}' | '(' | ')' | '|' | '`' | ';' | '%' | '\\' => {
                let _ = write!(out, "#{};", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// `s` escaped for a quoted Mermaid label (see the module doc).
pub fn escape_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s, usize::MAX);
    out
}

/// The generated Mermaid id of a node: `n<index>_<type>`.
pub fn node_id(g: &WorkflowGraph, node: NodeIndex) -> String {
    let kind: String = g.graph[node]
        .kind
        .as_str()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .take(24)
        .collect();
    format!("n{}_{kind}", node.index())
}

fn class_name(kind: &StepKind) -> &'static str {
    match kind {
        StepKind::Start => "start",
        StepKind::End => "finish",
        StepKind::Action => "action",
        StepKind::PlaybookAction => "playbookAction",
        StepKind::Parallel => "parallel",
        StepKind::IfCondition => "ifCondition",
        StepKind::WhileCondition => "whileCondition",
        StepKind::SwitchCondition => "switchCondition",
        StepKind::Other(_) => "other",
        StepKind::Missing => "missing",
    }
}

const CLASSES: [(&str, &str); 10] = [
    ("start", "fill:#e8f5e9,stroke:#2e7d32,color:#1a1a1a"),
    ("finish", "fill:#eceff1,stroke:#455a64,color:#1a1a1a"),
    ("action", "fill:#e3f2fd,stroke:#1565c0,color:#1a1a1a"),
    ("playbookAction", "fill:#ede7f6,stroke:#5e35b1,color:#1a1a1a"),
    ("parallel", "fill:#e0f2f1,stroke:#00796b,color:#1a1a1a"),
    ("ifCondition", "fill:#fff8e1,stroke:#b26a00,color:#1a1a1a"),
    ("whileCondition", "fill:#fff3e0,stroke:#d84315,color:#1a1a1a"),
    ("switchCondition", "fill:#fce4ec,stroke:#ad1457,color:#1a1a1a"),
    ("other", "fill:#f5f5f5,stroke:#616161,color:#1a1a1a,stroke-dasharray:3 3"),
    ("missing", "fill:#fff5f5,stroke:#c62828,color:#b71c1c,stroke-dasharray:6 4"),
];

fn edge_color(kind: &EdgeKind) -> &'static str {
    match kind {
        EdgeKind::OnCompletion => "#607d8b",
        EdgeKind::OnSuccess | EdgeKind::OnTrue => "#2e7d32",
        EdgeKind::OnFailure => "#c62828",
        EdgeKind::OnFalse => "#d84315",
        EdgeKind::NextStep => "#00796b",
        EdgeKind::Case(_) => "#ad1457",
    }
}

/// The label lines of a step: its name, its type (with command types), and a detail line.
fn label_lines(g: &WorkflowGraph, node: NodeIndex) -> Vec<String> {
    let s = &g.graph[node];
    let mut lines = Vec::new();
    if s.kind == StepKind::Missing {
        lines.push(format!("missing step {}", short_id(&s.id)));
        return lines;
    }
    lines.push(s.label().to_owned());
    let mut kind_line = s.kind.as_str().to_owned();
    if !s.commands.is_empty() {
        let mut types: Vec<&str> = Vec::new();
        for c in &s.commands {
            if !types.contains(&c.command_type.as_str()) {
                types.push(&c.command_type);
            }
        }
        let _ = write!(kind_line, " · {}", types.join(", "));
    }
    if lines[0] != kind_line {
        lines.push(kind_line);
    }
    match &s.kind {
        StepKind::IfCondition | StepKind::WhileCondition | StepKind::SwitchCondition => {
            if let Some(c) = &s.condition {
                lines.push(c.clone());
            }
        }
        StepKind::PlaybookAction => {
            if let Some(p) = &s.playbook_id {
                lines.push(format!("▸ {}", short_id(p)));
            }
        }
        _ => {}
    }
    lines
}

/// Draws the workflow as a Mermaid flowchart.
pub fn to_mermaid(g: &WorkflowGraph, a: &Analysis) -> String {
    let mut out = String::with_capacity(256 + g.graph.node_count() * 120 + g.graph.edge_count() * 60);
    if let Some(title) = g.title.as_deref().map(one_line).filter(|t| !t.is_empty()) {
        // YAML front matter: a double-quoted scalar.
        out.push_str("---\ntitle: \"");
        for c in truncate_chars(&title, 120).chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        out.push_str("\"\n---\n");
    }
    out.push_str("flowchart TD\n");
    let ids: Vec<String> = g.graph.node_indices().map(|n| node_id(g, n)).collect();
    for node in g.graph.node_indices() {
        let s = &g.graph[node];
        let id = &ids[node.index()];
        let (open, close) = match s.kind {
            StepKind::Start | StepKind::End => ("([\"", "\"])"),
            StepKind::Action | StepKind::Missing => ("[\"", "\"]"),
            StepKind::PlaybookAction => ("[[\"", "\"]]"),
            StepKind::Parallel => ("[/\"", "\"/]"),
            StepKind::IfCondition => ("{\"", "\"}"),
            StepKind::WhileCondition | StepKind::SwitchCondition => ("{{\"", "\"}}"),
            StepKind::Other(_) => ("(\"", "\")"),
        };
        let _ = write!(out, "    {id}{open}");
        for (i, line) in label_lines(g, node).iter().enumerate() {
            if i > 0 {
                out.push_str("<br/>");
            }
            escape_into(&mut out, line, MAX_LINE);
        }
        out.push_str(close);
        out.push('\n');
    }
    // Edges, then one linkStyle per colour (links are numbered in order of appearance).
    let mut by_color: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, e) in g.graph.edge_references().enumerate() {
        let kind = &e.weight().kind;
        let arrow = if *kind == EdgeKind::OnFailure { "-.->" } else { "-->" };
        let _ = write!(out, "    {} {arrow}", ids[e.source().index()]);
        let single = g.graph.edges_directed(e.source(), Direction::Outgoing).nth(1).is_none();
        if !(*kind == EdgeKind::OnCompletion && single) {
            out.push_str("|\"");
            escape_into(&mut out, &kind.label(), 40);
            out.push_str("\"|");
        }
        let _ = writeln!(out, " {}", ids[e.target().index()]);
        let color = edge_color(kind);
        match by_color.iter_mut().find(|(c, _)| *c == color) {
            Some((_, list)) => list.push(i),
            None => by_color.push((color, vec![i])),
        }
    }
    for (color, links) in &by_color {
        out.push_str("    linkStyle ");
        for (j, l) in links.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let _ = write!(out, "{l}");
        }
        let _ = writeln!(out, " stroke:{color},stroke-width:1.5px");
    }
    for (name, style) in CLASSES {
        let members: Vec<&str> = g
            .graph
            .node_indices()
            .filter(|&n| class_name(&g.graph[n].kind) == name)
            .map(|n| ids[n.index()].as_str())
            .collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "    classDef {name} {style}");
        let _ = writeln!(out, "    class {} {name}", members.join(","));
    }
    let unreachable: Vec<&str> =
        a.unreachable().filter(|n| n.index() < ids.len()).map(|n| ids[n.index()].as_str()).collect();
    if !unreachable.is_empty() {
        let _ = writeln!(out, "    %% unreachable from workflow_start: {}", unreachable.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_everything_mermaid_reads() {
        let e = escape_label(r#"a "b" [c] {d} (e) |f| #g; <h> & `i` \j"#);
        for bad in ['"', '[', ']', '{', '}', '(', ')', '|', '<', '>', '`', '\\'] {
            assert!(!e.contains(bad), "{bad} in {e}");
        }
        assert!(e.starts_with("a #quot;b#quot; #91;c#93;"));
        assert_eq!(escape_label("two\nlines"), "two lines");
    }

    #[test]
    fn ids_are_generated_and_shapes_follow_types() {
        let g = WorkflowGraph::from_document(&json!({"name": "T \"q\"", "workflow_start": "start--1", "workflow": {
            "start--1": {"type": "start", "on_completion": "if-condition--2"},
            "if-condition--2": {"type": "if-condition", "name": "Bad? [yes]", "condition": "x = \"1\"",
                "on_true": "action--3", "on_false": "end--4"},
            "action--3": {"type": "action", "name": "Act", "commands": [{"type": "bash", "command": "ls"}],
                "on_success": "end--4", "on_failure": "action--404"},
            "end--4": {"type": "end"}
        }}));
        let m = to_mermaid(&g, &Analysis::of(&g));
        assert!(m.starts_with("---\ntitle: \"T \\\"q\\\"\"\n---\nflowchart TD\n"), "{m}");
        assert!(
            !m.lines().skip(4).any(|l| l.contains("--1") || l.contains("--2")),
            "no CACAO ids as Mermaid ids:\n{m}"
        );
        assert!(m.contains(r#"n0_start(["Start"#) || m.contains(r#"n0_start(["start"#));
        assert!(m.contains(r#"n1_if_condition{"Bad? #91;yes#93;<br/>if-condition<br/>x = #quot;1#quot;"}"#), "{m}");
        assert!(m.contains(r#"n2_action["Act<br/>action · bash"]"#), "{m}");
        assert!(m.contains(r#"n2_action -.->|"on_failure"| n4_missing"#), "{m}");
        assert!(m.contains(r#"n1_if_condition -->|"on_true"| n2_action"#));
        assert!(m.contains("n0_start --> n1_if_condition\n"), "single on_completion unlabelled");
        assert!(m.contains("classDef missing"));
        assert!(m.contains("linkStyle"));
    }
}
