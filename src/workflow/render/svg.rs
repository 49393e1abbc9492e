//! A standalone SVG picture of a workflow: title, legend, steps drawn by type, edges as smooth
//! curves with arrowheads and labels, loop-backs around the side. No external fonts or resources;
//! every piece of playbook text is XML-escaped, cut to fit its box with an ellipsis, and given in
//! full in a `<title>` tooltip.

use super::super::analysis::Analysis;
use super::super::graph::{EdgeKind, StepKind, WorkflowGraph};
use super::layout::{self, LabelAlign, Layout, Point, Segment};
use super::{one_line, short_id};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::fmt::Write;

const FONT: &str = "Verdana, 'DejaVu Sans', 'Bitstream Vera Sans', sans-serif";
const MONO: &str = "'DejaVu Sans Mono', Menlo, Consolas, monospace";
const MARGIN: f64 = 24.0;
const TAG_PX: f64 = 9.5;
const TITLE_PX: f64 = 12.5;
const DETAIL_PX: f64 = 10.5;
const LABEL_PX: f64 = 10.0;

/// How a step is outlined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Pill,
    Box,
    Hexagon,
    Bar,
    Subroutine,
    Missing,
    Other,
}

/// Fill and accent (stroke, tag text) colours of a step type.
#[derive(Debug, Clone, Copy)]
struct Palette {
    fill: &'static str,
    accent: &'static str,
}

fn palette(kind: &StepKind) -> Palette {
    let (fill, accent) = match kind {
        StepKind::Start => ("#e8f5e9", "#2e7d32"),
        StepKind::End => ("#eceff1", "#455a64"),
        StepKind::Action => ("#e3f2fd", "#1565c0"),
        StepKind::PlaybookAction => ("#ede7f6", "#5e35b1"),
        StepKind::Parallel => ("#e0f2f1", "#00796b"),
        StepKind::IfCondition => ("#fff8e1", "#b26a00"),
        StepKind::WhileCondition => ("#fff3e0", "#d84315"),
        StepKind::SwitchCondition => ("#fce4ec", "#ad1457"),
        StepKind::Other(_) => ("#f5f5f5", "#616161"),
        StepKind::Missing => ("#fff5f5", "#c62828"),
    };
    Palette { fill, accent }
}

fn shape(kind: &StepKind) -> Shape {
    match kind {
        StepKind::Start | StepKind::End => Shape::Pill,
        StepKind::Action => Shape::Box,
        StepKind::IfCondition | StepKind::WhileCondition | StepKind::SwitchCondition => Shape::Hexagon,
        StepKind::Parallel => Shape::Bar,
        StepKind::PlaybookAction => Shape::Subroutine,
        StepKind::Missing => Shape::Missing,
        StepKind::Other(_) => Shape::Other,
    }
}

/// Stroke colour, dash pattern and marker id of an edge kind.
fn edge_style(kind: &EdgeKind) -> (&'static str, Option<&'static str>, &'static str) {
    match kind {
        EdgeKind::OnCompletion => ("#607d8b", None, "a-completion"),
        EdgeKind::OnSuccess => ("#2e7d32", None, "a-success"),
        EdgeKind::OnFailure => ("#c62828", Some("6 4"), "a-failure"),
        EdgeKind::OnTrue => ("#2e7d32", None, "a-true"),
        EdgeKind::OnFalse => ("#d84315", None, "a-false"),
        EdgeKind::NextStep => ("#00796b", None, "a-next"),
        EdgeKind::Case(_) => ("#ad1457", None, "a-case"),
    }
}

const MARKERS: [(&str, &str); 7] = [
    ("a-completion", "#607d8b"),
    ("a-success", "#2e7d32"),
    ("a-failure", "#c62828"),
    ("a-true", "#2e7d32"),
    ("a-false", "#d84315"),
    ("a-next", "#00796b"),
    ("a-case", "#ad1457"),
];

/// What is written in a step's box, already cut to fit.
#[derive(Debug, Clone)]
struct Content {
    shape: Shape,
    tag: String,
    title: String,
    detail: Option<String>,
    width: f64,
    height: f64,
}

/// Approximate advance width of `c` in em, for Verdana / DejaVu Sans (the widest common sans
/// fonts, so that estimates err on the safe side).
fn char_em(c: char) -> f64 {
    match c {
        'i' | 'j' | 'l' | '\'' | '|' | '!' | '.' | ',' | ':' | ';' | 'I' => 0.32,
        'f' | 't' | 'r' | ' ' | '(' | ')' | '[' | ']' | '{' | '}' | '/' | '\\' | '-' | '"' | '`' => 0.42,
        'm' | 'w' => 0.95,
        'M' | 'W' | '@' | '%' => 1.0,
        'a'..='z' => 0.63,
        'A'..='Z' => 0.75,
        '0'..='9' => 0.64,
        c if c.is_ascii() => 0.8,
        c if is_wide(c) => 1.05,
        _ => 0.75,
    }
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x1F300..=0x1F64F | 0x1F900..=0x1F9FF | 0x20000..=0x3FFFD)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Font {
    Sans,
    Bold,
    Mono,
}

fn char_width(c: char, font: Font, px: f64) -> f64 {
    px * match font {
        Font::Sans => char_em(c),
        Font::Bold => char_em(c) * 1.1,
        Font::Mono if is_wide(c) => 1.2,
        Font::Mono => 0.61,
    }
}

/// Estimated width of `s` in pixels.
fn width_of(s: &str, font: Font, px: f64) -> f64 {
    s.chars().map(|c| char_width(c, font, px)).sum()
}

/// `s` on one line, cut with an ellipsis to fit `max` pixels.
fn fit(s: &str, font: Font, px: f64, max: f64) -> String {
    let s = one_line(s);
    if width_of(&s, font, px) <= max {
        return s;
    }
    let budget = max - char_width('…', font, px);
    let mut used = 0.0;
    let mut out = String::new();
    for c in s.chars() {
        let w = char_width(c, font, px);
        if used + w > budget {
            break;
        }
        used += w;
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

fn capitalized(s: &str) -> String {
    let mut cs = s.chars();
    match cs.next() {
        Some(c) => c.to_uppercase().chain(cs).collect(),
        None => String::new(),
    }
}

fn content(g: &WorkflowGraph, node: NodeIndex) -> Content {
    let step = &g.graph[node];
    let shape = shape(&step.kind);
    let kind = &step.kind;
    let mut tag = match kind {
        StepKind::Start => "START".to_owned(),
        StepKind::End => "END".to_owned(),
        StepKind::Action => "ACTION".to_owned(),
        StepKind::PlaybookAction => "PLAYBOOK".to_owned(),
        StepKind::Parallel => "PARALLEL".to_owned(),
        StepKind::IfCondition => "IF".to_owned(),
        StepKind::WhileCondition => "WHILE ↺".to_owned(),
        StepKind::SwitchCondition => "SWITCH".to_owned(),
        StepKind::Other(t) => format!("{} · not CACAO", t.to_uppercase()),
        StepKind::Missing => "MISSING STEP".to_owned(),
    };
    if Some(node) == g.exception {
        tag.push_str(" · on exception");
    }
    let title = match kind {
        StepKind::Missing => short_id(&step.id),
        StepKind::Start | StepKind::End if step.label() == kind.as_str() => capitalized(kind.as_str()),
        _ => step.label().to_owned(),
    };
    let detail = match kind {
        StepKind::Action | StepKind::Other(_) if !step.commands.is_empty() => {
            let mut types: Vec<&str> = Vec::new();
            for c in &step.commands {
                if !types.contains(&c.command_type.as_str()) {
                    types.push(&c.command_type);
                }
            }
            tag.push_str(" · ");
            tag.push_str(&types.join(", "));
            if step.commands.len() > 1 {
                let _ = write!(tag, " ({} cmds)", step.commands.len());
            }
            let first = &step.commands[0];
            let prompt = match first.command_type.as_str() {
                "bash" | "ssh" | "powershell" => "$ ",
                _ => "",
            };
            Some(format!("{prompt}{}", first.text))
        }
        StepKind::IfCondition | StepKind::WhileCondition | StepKind::SwitchCondition => step.condition.clone(),
        StepKind::PlaybookAction => Some(match &step.playbook_id {
            Some(id) => format!("▸ {}", short_id(id)),
            None => "▸ (no playbook_id)".to_owned(),
        }),
        StepKind::Missing => Some("referenced, not defined".to_owned()),
        _ => None,
    };
    let (pad, min_w, max_w) = match shape {
        Shape::Pill => (22.0, 110.0, 260.0),
        Shape::Hexagon => (26.0, 150.0, 300.0),
        Shape::Subroutine => (18.0, 140.0, 300.0),
        _ => (14.0, 140.0, 300.0),
    };
    let tag_w = width_of(&tag, Font::Bold, TAG_PX) * 1.06;
    let title_w = width_of(&title, Font::Bold, TITLE_PX);
    let detail_w = detail.as_deref().map_or(0.0, |d| width_of(&one_line(d), Font::Mono, DETAIL_PX));
    let width = (tag_w.max(title_w).max(detail_w) + 2.0 * pad).clamp(min_w, max_w).ceil();
    let room = width - 2.0 * pad;
    let height = match (shape, detail.is_some()) {
        (Shape::Pill, _) => 42.0,
        (Shape::Bar, _) => 44.0,
        (_, true) => 58.0,
        (_, false) => 44.0,
    };
    Content {
        shape,
        tag: fit(&tag, Font::Bold, TAG_PX * 1.06, room),
        title: fit(&title, Font::Bold, TITLE_PX, room),
        detail: detail.map(|d| fit(&d, Font::Mono, DETAIL_PX, room)),
        width,
        height,
    }
}

/// The (width, height) of each step's box, by node index.
pub fn node_sizes(g: &WorkflowGraph) -> Vec<(f64, f64)> {
    g.graph.node_indices().map(|n| content(g, n)).map(|c| (c.width, c.height)).collect()
}

/// The layout the SVG drawing uses (for checks and other renderers).
pub fn svg_layout(g: &WorkflowGraph, a: &Analysis) -> Layout {
    layout::layout(g, a, &node_sizes(g))
}

/// Writes `s` XML-escaped; characters XML 1.0 forbids become U+FFFD.
pub fn escape_xml_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `s` XML-escaped (see [`escape_xml_into`]).
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_xml_into(&mut out, s);
    out
}

/// Rounds for output: one decimal is plenty for pixels and keeps files small.
struct N(f64);

impl std::fmt::Display for N {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenths = (self.0 * 10.0).round();
        if !tenths.is_finite() || tenths.abs() > 1e15 {
            return f.write_str("0");
        }
        let t = tenths as i64;
        let sign = if t < 0 { "-" } else { "" };
        let (whole, frac) = (t.unsigned_abs() / 10, t.unsigned_abs() % 10);
        if frac == 0 {
            write!(f, "{sign}{whole}")
        } else {
            write!(f, "{sign}{whole}.{frac}")
        }
    }
}

fn tooltip(g: &WorkflowGraph, a: &Analysis, node: NodeIndex) -> String {
    let s = &g.graph[node];
    let mut t = String::new();
    if s.kind == StepKind::Missing {
        let _ = write!(t, "Missing step {}\nReferenced by the workflow but not defined in it.", s.id);
        return t;
    }
    let _ = writeln!(t, "{}", s.label());
    let _ = write!(t, "{} · {}", s.kind, s.id);
    if Some(node) == g.start {
        t.push_str("\nworkflow_start");
    }
    if Some(node) == g.exception {
        t.push_str("\nworkflow_exception handler");
    }
    if let Some(d) = &s.description {
        let _ = write!(t, "\n\n{d}");
    }
    if let Some(c) = &s.condition {
        let label = if s.kind == StepKind::SwitchCondition { "switch" } else { "condition" };
        let _ = write!(t, "\n{label}: {c}");
    }
    for c in &s.commands {
        let _ = write!(t, "\n[{}] {}", c.command_type, c.text);
    }
    if let Some(p) = &s.playbook_id {
        let _ = write!(t, "\nplaybook: {p}");
    }
    if let Some(agent) = &s.agent {
        let _ = write!(t, "\nagent: {agent}");
    }
    if !s.targets.is_empty() {
        let _ = write!(t, "\ntargets: {}", s.targets.join(", "));
    }
    if !a.reachable.get(node.index()).copied().unwrap_or(true) {
        t.push_str("\n(unreachable from workflow_start)");
    }
    t
}

fn draw_shape(out: &mut String, shape: Shape, pal: Palette, x: f64, y: f64, w: f64, h: f64) {
    let (r, b) = (x + w, y + h);
    let (fill, stroke) = (pal.fill, pal.accent);
    match shape {
        Shape::Pill => {
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{}" rx="{}" fill="{fill}" stroke="{stroke}" stroke-width="1.8"/>"#,
                N(x),
                N(y),
                N(w),
                N(h),
                N(h / 2.0)
            );
        }
        Shape::Box | Shape::Other | Shape::Missing => {
            let (rx, dash) = match shape {
                Shape::Other => (12.0, r#" stroke-dasharray="2 3""#),
                Shape::Missing => (6.0, r#" stroke-dasharray="6 4""#),
                _ => (6.0, ""),
            };
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{}" rx="{rx}" fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}/>"#,
                N(x),
                N(y),
                N(w),
                N(h)
            );
        }
        Shape::Hexagon => {
            let k = 14.0;
            let cy = y + h / 2.0;
            let _ = write!(
                out,
                r#"<polygon points="{},{} {},{} {},{} {},{} {},{} {},{}" fill="{fill}" stroke="{stroke}" stroke-width="1.6" stroke-linejoin="round"/>"#,
                N(x + k),
                N(y),
                N(r - k),
                N(y),
                N(r),
                N(cy),
                N(r - k),
                N(b),
                N(x + k),
                N(b),
                N(x),
                N(cy)
            );
        }
        Shape::Bar => {
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{}" rx="2" fill="{fill}" stroke="{stroke}" stroke-width="1.2"/><rect x="{}" y="{}" width="{}" height="5" fill="{stroke}"/><rect x="{}" y="{}" width="{}" height="5" fill="{stroke}"/>"#,
                N(x),
                N(y),
                N(w),
                N(h),
                N(x),
                N(y),
                N(w),
                N(x),
                N(b - 5.0),
                N(w)
            );
        }
        Shape::Subroutine => {
            let _ = write!(
                out,
                r#"<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/><path d="M{} {}V{}M{} {}V{}" stroke="{stroke}" stroke-width="1.2"/>"#,
                N(x),
                N(y),
                N(w),
                N(h),
                N(x + 7.0),
                N(y),
                N(b),
                N(r - 7.0),
                N(y),
                N(b)
            );
        }
    }
}

fn write_text(out: &mut String, at: Point, (px, font): (f64, Font), fill: &str, text: &str, extra: &str) {
    let (x, y) = (at.x, at.y);
    let (family, weight) = match font {
        Font::Mono => (MONO, ""),
        Font::Bold => ("", r#" font-weight="bold""#),
        Font::Sans => ("", ""),
    };
    let family = if family.is_empty() { String::new() } else { format!(r#" font-family="{family}""#) };
    let _ = write!(out, r#"<text x="{}" y="{}" font-size="{px}"{weight}{family} fill="{fill}"{extra}>"#, N(x), N(y));
    escape_xml_into(out, text);
    out.push_str("</text>");
}

fn draw_node(out: &mut String, g: &WorkflowGraph, a: &Analysis, node: NodeIndex, c: &Content, b: &layout::NodeBox) {
    let step = &g.graph[node];
    let pal = palette(&step.kind);
    let unreachable = !a.reachable.get(node.index()).copied().unwrap_or(true);
    out.push_str(r#"<g class="step "#);
    escape_xml_into(out, step.kind.as_str());
    out.push_str(r#"" data-id=""#);
    escape_xml_into(out, &step.id);
    out.push('"');
    if unreachable {
        out.push_str(r#" opacity="0.55""#);
    }
    out.push_str("><title>");
    escape_xml_into(out, &tooltip(g, a, node));
    out.push_str("</title>");
    draw_shape(out, c.shape, pal, b.x, b.y, b.width, b.height);
    let cx = b.x + b.width / 2.0;
    let mid = r#" text-anchor="middle""#;
    let spaced = r#" text-anchor="middle" letter-spacing="0.6""#;
    let top = match c.shape {
        Shape::Bar => b.y + 5.0,
        _ => b.y,
    };
    let (tag_y, title_y, detail_y) = match (c.shape, c.detail.is_some()) {
        (Shape::Pill, _) => (top + 16.0, top + 32.0, 0.0),
        (Shape::Bar, _) => (top + 13.5, top + 29.0, 0.0),
        (_, true) => (top + 15.0, top + 32.0, top + 48.0),
        (_, false) => (top + 16.0, top + 33.0, 0.0),
    };
    write_text(out, Point::new(cx, tag_y), (TAG_PX, Font::Bold), pal.accent, &c.tag, spaced);
    let title_fill = if step.kind == StepKind::Missing { "#b71c1c" } else { "#1a1a1a" };
    write_text(out, Point::new(cx, title_y), (TITLE_PX, Font::Bold), title_fill, &c.title, mid);
    if let Some(d) = &c.detail {
        write_text(out, Point::new(cx, detail_y), (DETAIL_PX, Font::Mono), "#37474f", d, mid);
    }
    out.push_str("</g>\n");
}

fn path_data(out: &mut String, route: &layout::EdgeRoute) {
    let _ = write!(out, "M{} {}", N(route.start.x), N(route.start.y));
    for s in &route.segments {
        match *s {
            Segment::Line(p) => {
                let _ = write!(out, "L{} {}", N(p.x), N(p.y));
            }
            Segment::Cubic(a, b, p) => {
                let _ = write!(out, "C{} {} {} {} {} {}", N(a.x), N(a.y), N(b.x), N(b.y), N(p.x), N(p.y));
            }
        }
    }
}

/// Whether an edge gets a label: all but the plain `on_completion` of a step with one way out.
fn labelled(g: &WorkflowGraph, source: NodeIndex, kind: &EdgeKind) -> bool {
    *kind != EdgeKind::OnCompletion || g.graph.edges_directed(source, Direction::Outgoing).nth(1).is_some()
}

fn edge_label_text(kind: &EdgeKind) -> String {
    match kind {
        EdgeKind::Case(v) => fit(&format!("case {v}"), Font::Sans, LABEL_PX, 120.0),
        other => other.label(),
    }
}

/// Where an edge label may sit: on the first curve of a forward edge, half-way down the gap
/// between the layers first, then higher or lower (three labels fit one above the other), or the
/// one spot beside a loop-back column.
fn label_spots(route: &layout::EdgeRoute) -> Vec<Point> {
    if route.back {
        return vec![route.label_at];
    }
    let mut from = route.start;
    for s in &route.segments {
        if let Segment::Cubic(c1, c2, p) = *s {
            return [0.5, 0.32, 0.68, 0.14, 0.86]
                .iter()
                .map(|&f| {
                    // The curve goes steadily down: find the point at that height by bisection.
                    let y = from.y + (p.y - from.y) * f;
                    let (mut lo, mut hi) = (0.0, 1.0);
                    for _ in 0..24 {
                        let mid = (lo + hi) / 2.0;
                        if layout::bezier(from, c1, c2, p, mid).y < y {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    layout::bezier(from, c1, c2, p, (lo + hi) / 2.0)
                })
                .collect();
        }
        from = s.end();
    }
    vec![route.label_at]
}

/// Label rectangles placed so far, bucketed on a grid so that each check is local.
#[derive(Default)]
struct LabelPlacer {
    rects: Vec<[f64; 4]>,
    grid: std::collections::HashMap<(i64, i64), Vec<usize>>,
}

impl LabelPlacer {
    const CELL: f64 = 64.0;

    fn cells(r: [f64; 4]) -> impl Iterator<Item = (i64, i64)> {
        let (x0, y0) = ((r[0] / Self::CELL).floor() as i64, (r[1] / Self::CELL).floor() as i64);
        let (x1, y1) = ((r[2] / Self::CELL).floor() as i64, (r[3] / Self::CELL).floor() as i64);
        (x0..=x1).flat_map(move |x| (y0..=y1).map(move |y| (x, y)))
    }

    fn is_free(&self, r: [f64; 4]) -> bool {
        Self::cells(r).all(|c| {
            self.grid.get(&c).is_none_or(|ids| {
                ids.iter().all(|&i| {
                    let o = self.rects[i];
                    r[2] + 2.0 <= o[0] || o[2] + 2.0 <= r[0] || r[3] + 1.0 <= o[1] || o[3] + 1.0 <= r[1]
                })
            })
        })
    }

    fn insert(&mut self, r: [f64; 4]) {
        let id = self.rects.len();
        self.rects.push(r);
        for c in Self::cells(r) {
            self.grid.entry(c).or_default().push(id);
        }
    }
}

struct Header {
    height: f64,
    width: f64,
    svg: String,
}

/// Title, summary line and legend, laid out to wrap within `wrap` pixels.
fn header(g: &WorkflowGraph, a: &Analysis, wrap: f64) -> Header {
    let mut svg = String::new();
    let title =
        g.title.as_deref().map(one_line).filter(|t| !t.is_empty()).unwrap_or_else(|| "Untitled playbook".to_owned());
    let shown = fit(&title, Font::Bold, 18.0, wrap.max(480.0));
    let mut width = width_of(&shown, Font::Bold, 18.0);
    svg.push_str(r#"<g class="header">"#);
    let _ =
        write!(svg, r##"<text x="{MARGIN}" y="{}" font-size="18" font-weight="bold" fill="#102a43">"##, MARGIN + 10.0);
    if shown != title {
        svg.push_str("<title>");
        escape_xml_into(&mut svg, &title);
        svg.push_str("</title>");
    }
    escape_xml_into(&mut svg, &shown);
    svg.push_str("</text>");
    let steps = g.step_count();
    let missing = g.graph.node_weights().filter(|n| n.kind == StepKind::Missing).count();
    let unreachable = g
        .graph
        .node_indices()
        .filter(|n| g.graph[*n].kind != StepKind::Missing && !a.reachable.get(n.index()).copied().unwrap_or(true))
        .count();
    let mut summary = format!(
        "{steps} step{} · {} transition{}",
        if steps == 1 { "" } else { "s" },
        g.graph.edge_count(),
        if g.graph.edge_count() == 1 { "" } else { "s" }
    );
    if a.critical_path_len > 0 {
        let _ = write!(summary, " · longest path {} steps", a.critical_path_len);
    }
    if !a.cycles.is_empty() {
        let _ = write!(summary, " · {} loop{}", a.cycles.len(), if a.cycles.len() == 1 { "" } else { "s" });
    }
    if unreachable > 0 {
        let _ = write!(summary, " · {unreachable} unreachable");
    }
    if missing > 0 {
        let _ = write!(summary, " · {missing} missing step{}", if missing == 1 { "" } else { "s" });
    }
    if g.start.is_none() && steps > 0 {
        summary.push_str(" · no valid workflow_start");
    }
    width = width.max(width_of(&summary, Font::Sans, 11.5));
    write_text(&mut svg, Point::new(MARGIN, MARGIN + 28.0), (11.5, Font::Sans), "#52606d", &summary, "");

    // Legend entries: (swatch, label).
    enum Swatch {
        Step(StepKind),
        Edge(EdgeKind, bool),
        Faded,
    }
    let mut entries: Vec<(Swatch, String)> = Vec::new();
    let kinds = [
        StepKind::Start,
        StepKind::Action,
        StepKind::PlaybookAction,
        StepKind::Parallel,
        StepKind::IfCondition,
        StepKind::WhileCondition,
        StepKind::SwitchCondition,
        StepKind::End,
        StepKind::Other(String::new()),
        StepKind::Missing,
    ];
    for k in kinds {
        let present = g.graph.node_weights().any(|n| match (&n.kind, &k) {
            (StepKind::Other(_), StepKind::Other(_)) => true,
            (a, b) => a == b,
        });
        if present {
            let label = match &k {
                StepKind::Other(_) => "other type".to_owned(),
                StepKind::Missing => "missing step".to_owned(),
                k => k.as_str().to_owned(),
            };
            entries.push((Swatch::Step(k), label));
        }
    }
    let edge_kinds = [
        EdgeKind::OnCompletion,
        EdgeKind::OnSuccess,
        EdgeKind::OnFailure,
        EdgeKind::OnTrue,
        EdgeKind::OnFalse,
        EdgeKind::NextStep,
        EdgeKind::Case(String::new()),
    ];
    for k in edge_kinds {
        let present = g.graph.edge_weights().any(|e| match (&e.kind, &k) {
            (EdgeKind::Case(_), EdgeKind::Case(_)) => true,
            (a, b) => a == b,
        });
        if present {
            let label = match &k {
                EdgeKind::Case(_) => "cases".to_owned(),
                k => k.property().to_owned(),
            };
            entries.push((Swatch::Edge(k, false), label));
        }
    }
    if !a.back_edges.is_empty() || g.graph.edge_references().any(|e| e.source() == e.target()) {
        entries.push((Swatch::Edge(EdgeKind::OnCompletion, true), "loop-back".to_owned()));
    }
    if unreachable > 0 {
        entries.push((Swatch::Faded, "unreachable".to_owned()));
    }
    let row_h = 22.0;
    let mut x = MARGIN;
    let mut y = MARGIN + 44.0;
    let limit = wrap.max(480.0) + MARGIN;
    for (swatch, label) in &entries {
        let item_w = 34.0 + width_of(label, Font::Sans, 10.5) + 16.0;
        if x > MARGIN && x + item_w > limit {
            x = MARGIN;
            y += row_h;
        }
        match swatch {
            Swatch::Step(k) => {
                let s = shape(k);
                let (w, h) = (26.0, 14.0);
                if s == Shape::Bar {
                    let pal = palette(k);
                    let _ = write!(
                        svg,
                        r#"<rect x="{}" y="{}" width="{w}" height="{h}" fill="{}" stroke="{}"/><rect x="{}" y="{}" width="{w}" height="3" fill="{}"/><rect x="{}" y="{}" width="{w}" height="3" fill="{}"/>"#,
                        N(x),
                        N(y),
                        pal.fill,
                        pal.accent,
                        N(x),
                        N(y),
                        pal.accent,
                        N(x),
                        N(y + h - 3.0),
                        pal.accent
                    );
                } else if s == Shape::Hexagon {
                    let pal = palette(k);
                    let _ = write!(
                        svg,
                        r#"<polygon points="{},{} {},{} {},{} {},{} {},{} {},{}" fill="{}" stroke="{}" stroke-width="1.4"/>"#,
                        N(x + 5.0),
                        N(y),
                        N(x + w - 5.0),
                        N(y),
                        N(x + w),
                        N(y + h / 2.0),
                        N(x + w - 5.0),
                        N(y + h),
                        N(x + 5.0),
                        N(y + h),
                        N(x),
                        N(y + h / 2.0),
                        pal.fill,
                        pal.accent
                    );
                } else {
                    draw_shape(&mut svg, s, palette(k), x, y, w, h);
                }
            }
            Swatch::Edge(k, back) => {
                let (color, dash, marker) = edge_style(k);
                let dash = dash.map(|d| format!(r#" stroke-dasharray="{d}""#)).unwrap_or_default();
                if *back {
                    let _ = write!(
                        svg,
                        r#"<path d="M{} {}C{} {} {} {} {} {}" fill="none" stroke="{color}" stroke-width="1.6"{dash} marker-end="url(#{marker})"/>"#,
                        N(x + 2.0),
                        N(y + 12.0),
                        N(x + 30.0),
                        N(y + 14.0),
                        N(x + 30.0),
                        N(y - 2.0),
                        N(x + 4.0),
                        N(y + 2.0)
                    );
                } else {
                    let _ = write!(
                        svg,
                        r#"<path d="M{} {}H{}" fill="none" stroke="{color}" stroke-width="1.6"{dash} marker-end="url(#{marker})"/>"#,
                        N(x),
                        N(y + 7.0),
                        N(x + 26.0)
                    );
                }
            }
            Swatch::Faded => {
                let pal = palette(&StepKind::Action);
                let _ = write!(
                    svg,
                    r#"<rect x="{}" y="{}" width="26" height="14" rx="3" fill="{}" stroke="{}" opacity="0.55"/>"#,
                    N(x),
                    N(y),
                    pal.fill,
                    pal.accent
                );
            }
        }
        write_text(&mut svg, Point::new(x + 34.0, y + 11.0), (10.5, Font::Sans), "#334e68", label, "");
        x += item_w;
        width = width.max(x - MARGIN);
    }
    svg.push_str("</g>\n");
    let height = if entries.is_empty() { MARGIN + 44.0 } else { y + row_h + 8.0 };
    Header { height, width, svg }
}

/// Draws the workflow as a standalone SVG document.
pub fn to_svg(g: &WorkflowGraph, a: &Analysis) -> String {
    let contents: Vec<Content> = g.graph.node_indices().map(|n| content(g, n)).collect();
    let sizes: Vec<(f64, f64)> = contents.iter().map(|c| (c.width, c.height)).collect();
    let lay = layout::layout(g, a, &sizes);

    // Edge labels and their extents.
    struct Label {
        text: String,
        at: Point,
        align: LabelAlign,
        width: f64,
        color: &'static str,
    }
    let mut labels: Vec<Label> = Vec::new();
    let (mut min_x, mut max_x) = (0.0f64, lay.width);
    let mut placer = LabelPlacer::default();
    for e in g.graph.edge_references() {
        if !labelled(g, e.source(), &e.weight().kind) {
            continue;
        }
        let Some(route) = lay.edges.get(e.id().index()) else { continue };
        let text = edge_label_text(&e.weight().kind);
        let width = width_of(&text, Font::Sans, LABEL_PX) + 8.0;
        let rect = |at: Point| match route.label_align {
            LabelAlign::Middle => [at.x - width / 2.0, at.y - 7.5, at.x + width / 2.0, at.y + 7.5],
            LabelAlign::Start => [at.x, at.y - 7.5, at.x + width, at.y + 7.5],
        };
        let mut spots = label_spots(route);
        // Failing those, beside the middle of the curve, touching it.
        let mid = spots[0];
        let side = width / 2.0 + 1.0;
        spots.extend([Point::new(mid.x + side, mid.y), Point::new(mid.x - side, mid.y)]);
        let at = spots.iter().copied().find(|&p| placer.is_free(rect(p))).unwrap_or(route.label_at);
        let r = rect(at);
        placer.insert(r);
        min_x = min_x.min(r[0]);
        max_x = max_x.max(r[2]);
        labels.push(Label { text, at, align: route.label_align, width, color: edge_style(&e.weight().kind).0 });
    }
    let diagram_w = max_x - min_x;
    let head = header(g, a, diagram_w);
    let inner_w = diagram_w.max(head.width);
    let total_w = (inner_w + 2.0 * MARGIN).ceil();
    let dx = MARGIN - min_x + (inner_w - diagram_w) / 2.0;
    let dy = head.height + 8.0;
    let total_h = (dy + lay.height + MARGIN).ceil();

    let mut out = String::with_capacity(1024 + g.graph.node_count() * 900 + g.graph.edge_count() * 300);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT}" role="img">"#,
        w = N(total_w),
        h = N(total_h)
    );
    out.push_str("\n<title>");
    escape_xml_into(&mut out, g.title.as_deref().unwrap_or("Untitled playbook"));
    out.push_str(" (CACAO workflow)</title>\n<defs>");
    // markerUnits=userSpaceOnUse keeps arrowheads the same size whatever the stroke width.
    for (id, color) in MARKERS {
        let _ = write!(
            out,
            r#"<marker id="{id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto"><path d="M0 0L10 5L0 10z" fill="{color}"/></marker>"#
        );
    }
    out.push_str("</defs>\n");
    let _ = write!(out, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    out.push('\n');
    out.push_str(&head.svg);
    let _ = writeln!(out, r#"<g class="workflow" transform="translate({} {})">"#, N(dx), N(dy));

    out.push_str(r#"<g class="edges" fill="none" stroke-linecap="round">"#);
    out.push('\n');
    for e in g.graph.edge_references() {
        let Some(route) = lay.edges.get(e.id().index()) else { continue };
        let (color, dash, marker) = edge_style(&e.weight().kind);
        out.push_str(r#"<path d=""#);
        path_data(&mut out, route);
        let width = if route.back { "1.8" } else { "1.6" };
        let _ = write!(out, r#"" stroke="{color}" stroke-width="{width}""#);
        if let Some(d) = dash {
            let _ = write!(out, r#" stroke-dasharray="{d}""#);
        }
        let _ = write!(out, r#" marker-end="url(#{marker})"><title>"#);
        let (s, t) = (&g.graph[e.source()], &g.graph[e.target()]);
        escape_xml_into(&mut out, &e.weight().kind.label());
        out.push_str(if route.back { " (loop-back): " } else { ": " });
        escape_xml_into(&mut out, s.label());
        out.push_str(" → ");
        escape_xml_into(&mut out, t.label());
        out.push_str("</title></path>\n");
    }
    out.push_str("</g>\n<g class=\"steps\">\n");
    for (node, c) in g.graph.node_indices().zip(&contents) {
        draw_node(&mut out, g, a, node, c, &lay.nodes[node.index()]);
    }
    out.push_str("</g>\n<g class=\"edge-labels\">\n");
    for l in &labels {
        let x = match l.align {
            LabelAlign::Middle => l.at.x - l.width / 2.0,
            LabelAlign::Start => l.at.x,
        };
        let _ = write!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="15" rx="7" fill="#ffffff" fill-opacity="0.92" stroke="{}" stroke-width="0.6"/>"##,
            N(x),
            N(l.at.y - 7.5),
            N(l.width),
            l.color
        );
        write_text(
            &mut out,
            Point::new(x + l.width / 2.0, l.at.y + 3.5),
            (LABEL_PX, Font::Sans),
            l.color,
            &l.text,
            r#" text-anchor="middle""#,
        );
        out.push('\n');
    }
    out.push_str("</g>\n</g>\n</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(doc: serde_json::Value) -> (WorkflowGraph, Analysis) {
        let g = WorkflowGraph::from_document(&doc);
        let a = Analysis::of(&g);
        (g, a)
    }

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(
            escape_xml(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &apos;y&apos;)&lt;/script&gt;"
        );
        assert_eq!(escape_xml("a\u{0}b\u{1b}c\u{FFFF}"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}");
        assert_eq!(escape_xml("tab\tnl\n"), "tab\tnl\n");
    }

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        let long = "Enumerate the files it wants to encrypt, skipping system directories and backups";
        let cut = fit(long, Font::Bold, 12.5, 200.0);
        assert!(cut.ends_with('…'));
        assert!(width_of(&cut, Font::Bold, 12.5) <= 200.0);
        assert_eq!(fit("short", Font::Sans, 12.0, 200.0), "short");
        assert_eq!(fit("a\nb", Font::Sans, 12.0, 200.0), "a b");
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(N(3.0).to_string(), "3");
        assert_eq!(N(2.66).to_string(), "2.7");
        assert_eq!(N(-0.04).to_string(), "0");
        assert_eq!(N(-12.34).to_string(), "-12.3");
        assert_eq!(N(f64::NAN).to_string(), "0");
    }

    #[test]
    fn draws_each_step_type_with_its_shape() {
        let (g, a) = graph(json!({"name": "All shapes", "workflow_start": "start--1", "workflow": {
            "start--1": {"type": "start", "on_completion": "parallel--2"},
            "parallel--2": {"type": "parallel", "name": "fan out", "next_steps": ["if-condition--3", "playbook-action--4"]},
            "if-condition--3": {"type": "if-condition", "condition": "a > b", "on_true": "while-condition--5", "on_false": "end--9"},
            "while-condition--5": {"type": "while-condition", "condition": "again", "on_true": "action--6", "on_completion": "switch-condition--7"},
            "action--6": {"type": "action", "name": "Do", "commands": [{"type": "bash", "command": "echo hi"}], "on_completion": "while-condition--5"},
            "switch-condition--7": {"type": "switch-condition", "switch": "v", "cases": {"x": "loop--8", "default": "action--404"}},
            "loop--8": {"type": "loop", "on_completion": "end--9"},
            "playbook-action--4": {"type": "playbook-action", "playbook_id": "playbook--aa1898b6-5251-49b4-aeb7-fd5e912583ff", "on_completion": "end--9"},
            "end--9": {"type": "end"}
        }}));
        let svg = to_svg(&g, &a);
        assert!(svg.contains("<polygon"), "conditions are hexagons");
        assert!(svg.contains("playbook--aa1898b6…"), "sub-playbook id shortened");
        assert!(svg.contains(r#"stroke-dasharray="6 4""#), "missing step dashed");
        assert!(svg.contains("MISSING STEP"));
        assert!(svg.contains("LOOP · not CACAO"));
        assert!(svg.contains("$ echo hi"));
        assert!(svg.contains(">case x<") && svg.contains(">on_true<") && svg.contains(">on_false<"));
        assert!(svg.contains("loop-back"), "the while loop is drawn as a loop-back");
        for kind in [
            "start",
            "parallel",
            "if-condition",
            "while-condition",
            "action",
            "switch-condition",
            "loop",
            "playbook-action",
            "end",
            "missing",
        ] {
            assert!(svg.contains(&format!(r#"<g class="step {kind}""#)), "{kind} drawn");
        }
    }

    #[test]
    fn hostile_text_is_escaped_everywhere() {
        let (g, a) =
            graph(json!({"name": "<script>alert(1)</script> & \"co\"", "workflow_start": "start--1", "workflow": {
                "start--1": {"type": "start", "name": "<b>\"x\" & 'y'</b>", "on_completion": "action--<2>"},
                "action--<2>": {"type": "action", "name": "]]> <!-- -->", "description": "\u{0}\u{7}",
                    "commands": [{"type": "bash", "command": "echo \"</text><script>\" && rm -rf / <x>"}]}
            }}));
        let svg = to_svg(&g, &a);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(!svg.contains("]]>"));
        assert!(!svg.contains("<!--"));
        assert!(!svg.contains('\u{0}') && !svg.contains('\u{7}'));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains(r#"data-id="action--&lt;2&gt;""#));
    }
}
