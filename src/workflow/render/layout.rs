//! A layered (Sugiyama-style) layout of a workflow graph, top to bottom.
//!
//! 1. Layers come from [`Analysis::layer`] (longest forward path, back edges ignored); steps that
//!    nothing points to (orphans, handlers) are pulled down next to their first successor, and
//!    empty layers are removed.
//! 2. Every edge that spans several layers gets a dummy node per crossed layer, so that it owns a
//!    slot in each layer and never runs through a box. An edge that goes up or stays in its layer
//!    (a loop-back) is routed around the right side: it gets a dummy beside its source, one per
//!    layer on the way up, and one beside its target.
//! 3. Ordering within layers: a depth-first first guess (happy path left, continuation in the
//!    middle, failures right; a while body right of its continuation, where its loop-back runs),
//!    then barycenter sweeps down and up, keeping the ordering with the fewest crossings.
//! 4. Horizontal coordinates: the critical path (the main line) is pinned to one vertical line;
//!    every other layer row is placed as close as possible (weighted least squares) to its
//!    neighbours in the adjacent layers under the minimum-separation constraints, solved exactly
//!    in linear time by pool-adjacent-violators, in passes down and up. Long edges weigh more (so
//!    they run straight); members of a fan-out barely pull on it (so the fan centres over them
//!    while they line up with the rest of their branch).
//! 5. Edges leave from ports spread along the bottom of their source (in the order of their
//!    targets, so they do not cross right at the box) and enter at ports along the top of their
//!    target, as smooth cubic curves between layers and straight runs through dummy slots.
//!
//! Every stage is iterative and near-linear; the number of sweeps and passes shrinks for big
//! graphs, and the number of dummies is capped, so 100,000 steps lay out in about a second (release
//! build), long edges from everywhere included.

use super::super::analysis::Analysis;
use super::super::graph::{EdgeKind, StepKind, WorkflowGraph};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;

/// A point in layout coordinates (pixels, y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Point {
        Point { x, y }
    }
}

/// One piece of an edge path, continuing from the end of the previous piece.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Segment {
    Line(Point),
    /// Cubic Bézier: two control points, then the end point.
    Cubic(Point, Point, Point),
}

impl Segment {
    pub fn end(&self) -> Point {
        match *self {
            Segment::Line(p) | Segment::Cubic(_, _, p) => p,
        }
    }
}

/// Where a step is drawn: its box (top-left corner and size), layer and rank within the layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeBox {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub layer: usize,
    pub rank: usize,
}

impl NodeBox {
    pub fn center(&self) -> Point {
        Point::new(self.x + self.width / 2.0, self.y + self.height / 2.0)
    }
    pub fn right(&self) -> f64 {
        self.x + self.width
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }
    /// True when the two boxes, each grown by `margin`, intersect.
    pub fn overlaps(&self, other: &NodeBox, margin: f64) -> bool {
        self.x - margin < other.right() + margin
            && other.x - margin < self.right() + margin
            && self.y - margin < other.bottom() + margin
            && other.y - margin < self.bottom() + margin
    }
    /// True when `p` lies strictly inside the box shrunk by `inset`.
    pub fn contains(&self, p: Point, inset: f64) -> bool {
        p.x > self.x + inset && p.x < self.right() - inset && p.y > self.y + inset && p.y < self.bottom() - inset
    }
}

/// How an edge label sits at its anchor point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelAlign {
    /// Centred on the point.
    Middle,
    /// Starting at the point (labels beside a loop-back column).
    Start,
}

/// The drawn path of one edge.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeRoute {
    pub start: Point,
    pub segments: Vec<Segment>,
    /// True for loop-backs (edges that go up or stay in their layer), routed around the right side.
    pub back: bool,
    pub label_at: Point,
    pub label_align: LabelAlign,
}

impl EdgeRoute {
    pub fn end(&self) -> Point {
        self.segments.last().map(Segment::end).unwrap_or(self.start)
    }

    /// Points along the path, `per_segment` samples per segment (for checks and bounding boxes).
    pub fn sample(&self, per_segment: usize) -> Vec<Point> {
        let mut out = vec![self.start];
        let mut from = self.start;
        for seg in &self.segments {
            match *seg {
                Segment::Line(p) => {
                    for i in 1..=per_segment {
                        let t = i as f64 / per_segment as f64;
                        out.push(Point::new(from.x + (p.x - from.x) * t, from.y + (p.y - from.y) * t));
                    }
                }
                Segment::Cubic(c1, c2, p) => {
                    for i in 1..=per_segment {
                        out.push(bezier(from, c1, c2, p, i as f64 / per_segment as f64));
                    }
                }
            }
            from = seg.end();
        }
        out
    }
}

/// The point at `t` of the cubic Bézier from `p0` to `p1` with control points `c1`, `c2`.
pub fn bezier(p0: Point, c1: Point, c2: Point, p1: Point, t: f64) -> Point {
    let u = 1.0 - t;
    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    Point::new(a * p0.x + b * c1.x + c * c2.x + d * p1.x, a * p0.y + b * c1.y + c * c2.y + d * p1.y)
}

/// Spacing parameters of the layout, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spacing {
    /// Horizontal gap between two boxes of a layer.
    pub node_gap: f64,
    /// Horizontal gap around an edge passing through a layer.
    pub dummy_gap: f64,
    /// Vertical gap between layers (where edges curve and labels sit).
    pub layer_gap: f64,
    /// Cap on dummy nodes, as a multiple of the node count (plus a constant); edges beyond it are
    /// drawn as direct curves.
    pub dummy_budget_per_node: usize,
    /// The constant part of that cap.
    pub dummy_budget_base: usize,
}

impl Default for Spacing {
    fn default() -> Spacing {
        Spacing {
            node_gap: 36.0,
            dummy_gap: 14.0,
            layer_gap: 64.0,
            dummy_budget_per_node: 8,
            dummy_budget_base: 10_000,
        }
    }
}

/// The laid-out graph: boxes by node index, routes by edge index; coordinates start at (0, 0).
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub nodes: Vec<NodeBox>,
    pub edges: Vec<EdgeRoute>,
    pub width: f64,
    pub height: f64,
    pub layer_count: usize,
    /// Edge crossings between adjacent layers in the chosen ordering (loop-back columns included).
    pub crossings: usize,
}

impl Layout {
    /// Pairs of node indices whose boxes overlap (grown by `margin`); empty for a sound layout.
    /// Boxes are compared within a layer and with the next layer only: layers do not overlap
    /// vertically by construction, and that is checked on the way.
    pub fn overlapping_boxes(&self, margin: f64) -> Vec<(usize, usize)> {
        let mut idx: Vec<usize> = (0..self.nodes.len()).collect();
        idx.sort_by(|&a, &b| self.nodes[a].x.total_cmp(&self.nodes[b].x));
        let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); self.layer_count.max(1)];
        for i in idx {
            by_layer[self.nodes[i].layer.min(self.layer_count.saturating_sub(1))].push(i);
        }
        let mut out = Vec::new();
        for (l, layer) in by_layer.iter().enumerate() {
            for w in layer.windows(2) {
                if self.nodes[w[0]].overlaps(&self.nodes[w[1]], margin) {
                    out.push((w[0], w[1]));
                }
            }
            // Against the next layer: its top must be below this layer's bottom.
            if let Some(next) = by_layer.get(l + 1) {
                let bottom = layer.iter().map(|&i| self.nodes[i].bottom()).fold(f64::MIN, f64::max);
                for &j in next {
                    if self.nodes[j].y - margin < bottom + margin {
                        for &i in layer {
                            if self.nodes[i].overlaps(&self.nodes[j], margin) {
                                out.push((i, j));
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

/// What a node of the layered graph stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum VKind {
    Real,
    /// A slot for an edge crossing a layer.
    Dummy,
    /// A slot beside `anchor` (same layer) for a loop-back column; `span` orders nested loops.
    Side {
        anchor: u32,
        span: usize,
    },
}

struct Layered {
    layer: Vec<usize>,
    width: Vec<f64>,
    height: Vec<f64>,
    kind: Vec<VKind>,
    up: Vec<Vec<u32>>,
    down: Vec<Vec<u32>>,
    /// Per graph edge: the first dummy of its chain and the chain length (dummies are consecutive).
    chain: Vec<(u32, u32)>,
    /// Per graph edge: whether it is drawn as a loop-back.
    back: Vec<bool>,
    layers: Vec<Vec<u32>>,
}

impl Layered {
    fn push(&mut self, layer: usize, width: f64, kind: VKind) -> u32 {
        let id = self.layer.len() as u32;
        self.layer.push(layer);
        self.width.push(width);
        self.height.push(0.0);
        self.kind.push(kind);
        self.up.push(Vec::new());
        self.down.push(Vec::new());
        id
    }
    fn link(&mut self, upper: u32, lower: u32) {
        self.down[upper as usize].push(lower);
        self.up[lower as usize].push(upper);
    }
    fn len(&self) -> usize {
        self.layer.len()
    }
}

const DUMMY_WIDTH: f64 = 6.0;

/// Lays `g` out; `sizes[i]` is the (width, height) of node `i`'s box (missing entries get a
/// default size).
pub fn layout(g: &WorkflowGraph, a: &Analysis, sizes: &[(f64, f64)]) -> Layout {
    layout_with(g, a, sizes, Spacing::default())
}

/// [`layout`] with explicit spacing.
pub fn layout_with(g: &WorkflowGraph, a: &Analysis, sizes: &[(f64, f64)], spacing: Spacing) -> Layout {
    let n = g.graph.node_count();
    if n == 0 {
        return Layout::default();
    }
    let layer = assign_layers(g, a);
    let layer_count = layer.iter().max().map_or(0, |m| m + 1);
    let mut lg = build_layered(g, &layer, layer_count, sizes, &spacing);
    let crossings = order_layers(g, &mut lg);
    let spine = spine(g, a, &lg);
    let x = assign_x(&lg, &spine, &spacing);
    let (layer_top, layer_height) = assign_y(&lg, layer_count, &spacing);
    let mut nodes: Vec<NodeBox> = (0..n)
        .map(|v| {
            let l = lg.layer[v];
            let (w, h) = (lg.width[v], lg.height[v]);
            NodeBox {
                x: x[v] - w / 2.0,
                y: layer_top[l] + (layer_height[l] - h) / 2.0,
                width: w,
                height: h,
                layer: l,
                rank: 0,
            }
        })
        .collect();
    for layer in &lg.layers {
        for (rank, &v) in layer.iter().filter(|&&v| (v as usize) < n).enumerate() {
            nodes[v as usize].rank = rank;
        }
    }
    let edges = route_edges(g, &lg, &nodes, &x, &layer_top, &layer_height, &spacing);
    let mut out = Layout { nodes, edges, width: 0.0, height: 0.0, layer_count, crossings };
    normalize(&mut out, &lg, &x);
    out
}

/// Layers from the analysis, orphans pulled down beside their successors, empty layers removed.
/// Robust to an analysis of another graph: missing entries count as layer 0.
fn assign_layers(g: &WorkflowGraph, a: &Analysis) -> Vec<usize> {
    let n = g.graph.node_count();
    let mut layer: Vec<usize> = (0..n).map(|i| a.layer.get(i).copied().unwrap_or(0)).collect();
    let mut by_layer_desc: Vec<usize> = (0..n).collect();
    by_layer_desc.sort_by_key(|&i| std::cmp::Reverse(layer[i]));
    for i in by_layer_desc {
        let node = NodeIndex::new(i);
        if Some(node) == g.start || Some(node) == g.exception {
            continue;
        }
        let has_pred_above =
            g.graph.edges_directed(node, Direction::Incoming).any(|e| layer[e.source().index()] < layer[i]);
        if has_pred_above {
            continue;
        }
        let lowest = g
            .graph
            .edges_directed(node, Direction::Outgoing)
            .map(|e| layer[e.target().index()])
            .filter(|&l| l > layer[i])
            .min();
        if let Some(m) = lowest {
            layer[i] = m - 1;
        }
    }
    // Remove empty layers.
    let max = layer.iter().copied().max().unwrap_or(0);
    let mut used = vec![false; max + 1];
    for &l in &layer {
        used[l] = true;
    }
    let mut remap = vec![0usize; max + 1];
    let mut next = 0;
    for l in 0..=max {
        remap[l] = next;
        if used[l] {
            next += 1;
        }
    }
    for l in &mut layer {
        *l = remap[*l];
    }
    layer
}

fn build_layered(
    g: &WorkflowGraph,
    layer: &[usize],
    layer_count: usize,
    sizes: &[(f64, f64)],
    spacing: &Spacing,
) -> Layered {
    let n = g.graph.node_count();
    let m = g.graph.edge_count();
    let mut lg = Layered {
        layer: Vec::with_capacity(n * 2),
        width: Vec::with_capacity(n * 2),
        height: Vec::with_capacity(n * 2),
        kind: Vec::with_capacity(n * 2),
        up: Vec::with_capacity(n * 2),
        down: Vec::with_capacity(n * 2),
        chain: vec![(0, 0); m],
        back: vec![false; m],
        layers: Vec::new(),
    };
    for node in g.graph.node_indices() {
        let (w, h) = sizes.get(node.index()).copied().unwrap_or((160.0, 48.0));
        let v = lg.push(layer[node.index()], w.max(1.0), VKind::Real);
        lg.height[v as usize] = h.max(1.0);
    }
    let mut budget = n.saturating_mul(spacing.dummy_budget_per_node).saturating_add(spacing.dummy_budget_base);
    for e in g.graph.edge_references() {
        let (u, v) = (e.source().index(), e.target().index());
        let (lu, lv) = (layer[u], layer[v]);
        let first = lg.len() as u32;
        if lv > lu {
            let count = lv - lu - 1;
            if count > budget {
                continue; // drawn as a direct curve
            }
            budget -= count;
            let mut prev = u as u32;
            for l in lu + 1..lv {
                let d = lg.push(l, DUMMY_WIDTH, VKind::Dummy);
                lg.link(prev, d);
                prev = d;
            }
            lg.link(prev, v as u32);
            lg.chain[e.id().index()] = (first, count as u32);
        } else {
            lg.back[e.id().index()] = true;
            let count = lu - lv + 1;
            if count > budget {
                continue;
            }
            budget -= count;
            let span = lu - lv;
            // From the source's layer up to the target's: beside u, crossing, beside v.
            let mut prev: Option<u32> = None;
            for l in (lv..=lu).rev() {
                let kind = if l == lu {
                    VKind::Side { anchor: u as u32, span }
                } else if l == lv {
                    VKind::Side { anchor: v as u32, span }
                } else {
                    VKind::Dummy
                };
                let d = lg.push(l, DUMMY_WIDTH, kind);
                if let Some(p) = prev {
                    lg.link(d, p); // d is one layer above p
                }
                prev = Some(d);
            }
            lg.chain[e.id().index()] = (first, count as u32);
        }
    }
    lg.layers = vec![Vec::new(); layer_count];
    lg
}

const CONTINUATION: u8 = 2;

/// Sort key of an edge kind for the initial left-to-right order: the happy path left, the
/// continuation in the middle, failures right.
fn kind_rank(kind: &EdgeKind) -> u8 {
    match kind {
        EdgeKind::OnTrue | EdgeKind::OnSuccess => 0,
        EdgeKind::NextStep | EdgeKind::Case(_) => 1,
        EdgeKind::OnCompletion => CONTINUATION,
        EdgeKind::OnFalse => 3,
        EdgeKind::OnFailure => 4,
    }
}

/// Initial order (depth-first discovery from the roots), then barycenter sweeps; returns the
/// crossing count of the ordering kept.
fn order_layers(g: &WorkflowGraph, lg: &mut Layered) -> usize {
    let n = g.graph.node_count();
    let total = lg.len();
    // Children of real nodes in kind order, so that the first layout is already sensible.
    let mut first_hop: Vec<Vec<(u8, usize, u32)>> = vec![Vec::new(); n];
    for e in g.graph.edge_references() {
        let i = e.id().index();
        if lg.back[i] {
            continue;
        }
        let (first, count) = lg.chain[i];
        let hop = if count > 0 { first } else { e.target().index() as u32 };
        if lg.up[hop as usize].contains(&(e.source().index() as u32)) {
            let mut rank = kind_rank(&e.weight().kind);
            if g.graph[e.source()].kind == StepKind::WhileCondition && rank < CONTINUATION {
                // A while body goes right of the continuation, where its loop-back column runs.
                rank = CONTINUATION + 1;
            }
            first_hop[e.source().index()].push((rank, i, hop));
        }
    }
    for (v, hops) in first_hop.iter_mut().enumerate() {
        hops.sort_unstable();
        if g.graph[NodeIndex::new(v)].kind == StepKind::WhileCondition {
            continue;
        }
        // The continuation (`on_completion` beside branches) goes in the middle, so that the
        // branches hang on both sides of the main line.
        let conts = hops.iter().filter(|h| h.0 == CONTINUATION).count();
        if conts > 0 && conts < hops.len() {
            let (mut branches, cont): (Vec<_>, Vec<_>) = hops.drain(..).partition(|h| h.0 != CONTINUATION);
            let right = branches.split_off(branches.len().div_ceil(2));
            hops.extend(branches.into_iter().chain(cont).chain(right));
        }
    }
    let mut seen = vec![false; total];
    let mut order: Vec<u32> = Vec::with_capacity(total);
    let mut stack: Vec<u32> = Vec::new();
    let mut real_by_layer: Vec<u32> = (0..n as u32).collect();
    real_by_layer.sort_by_key(|&v| (lg.layer[v as usize], v));
    let roots = g.start.iter().chain(g.exception.iter()).map(|r| r.index() as u32);
    let rest = real_by_layer.iter().copied().chain(n as u32..total as u32);
    for root in roots.chain(rest) {
        if seen[root as usize] {
            continue;
        }
        stack.push(root);
        while let Some(v) = stack.pop() {
            if std::mem::replace(&mut seen[v as usize], true) {
                continue;
            }
            order.push(v);
            if (v as usize) < n {
                for &(_, _, hop) in first_hop[v as usize].iter().rev() {
                    if !seen[hop as usize] {
                        stack.push(hop);
                    }
                }
            } else {
                for &d in lg.down[v as usize].iter().rev() {
                    if !seen[d as usize] {
                        stack.push(d);
                    }
                }
            }
        }
    }
    let layer_count = lg.layers.len();
    let mut layers: Vec<Vec<u32>> = vec![Vec::new(); layer_count];
    for &v in &order {
        layers[lg.layer[v as usize]].push(v);
    }
    let mut pos = vec![0usize; total];
    let mut keys = vec![0f64; total];
    for layer in &mut layers {
        place_sides(layer, &lg.kind);
        for (i, &v) in layer.iter().enumerate() {
            pos[v as usize] = i;
        }
    }
    let size = total + lg.down.iter().map(Vec::len).sum::<usize>();
    let sweeps = match size {
        0..=3_000 => 24,
        3_001..=30_000 => 10,
        30_001..=300_000 => 4,
        _ => 2,
    };
    let mut best = crossings(lg, &layers, &pos);
    let mut best_layers = layers.clone();
    for sweep in 0..sweeps {
        if best == 0 {
            break;
        }
        let downward = sweep % 2 == 0;
        let range: Box<dyn Iterator<Item = usize>> =
            if downward { Box::new(1..layer_count) } else { Box::new((0..layer_count.saturating_sub(1)).rev()) };
        for l in range {
            let (adj, other) = if downward { (&lg.up, l - 1) } else { (&lg.down, l + 1) };
            let other_len = layers[other].len().max(1) as f64;
            let own_len = layers[l].len().max(1) as f64;
            for &v in &layers[l] {
                let nb = &adj[v as usize];
                keys[v as usize] = if nb.is_empty() {
                    (pos[v as usize] as f64 + 0.5) / own_len
                } else {
                    nb.iter().map(|&u| (pos[u as usize] as f64 + 0.5) / other_len).sum::<f64>() / nb.len() as f64
                };
            }
            let layer = &mut layers[l];
            layer.sort_by(|&p, &q| keys[p as usize].total_cmp(&keys[q as usize]));
            place_sides(layer, &lg.kind);
            for (i, &v) in layer.iter().enumerate() {
                pos[v as usize] = i;
            }
        }
        let c = crossings(lg, &layers, &pos);
        if c < best {
            best = c;
            best_layers.clone_from(&layers);
        }
    }
    lg.layers = best_layers;
    best
}

/// Moves loop-back slots right beside their anchor (shorter loops nearer), keeping the order of
/// the others.
fn place_sides(layer: &mut Vec<u32>, kind: &[VKind]) {
    if !layer.iter().any(|&v| matches!(kind[v as usize], VKind::Side { .. })) {
        return;
    }
    let mut sides: Vec<(u32, usize, u32)> = Vec::new();
    layer.retain(|&v| match kind[v as usize] {
        VKind::Side { anchor, span } => {
            sides.push((anchor, span, v));
            false
        }
        _ => true,
    });
    sides.sort_by_key(|&(anchor, span, v)| (anchor, std::cmp::Reverse(span), v));
    let mut out = Vec::with_capacity(layer.len() + sides.len());
    for &v in layer.iter() {
        out.push(v);
        // Slots anchored to v, innermost (shortest loop) first.
        let start = sides.partition_point(|&(a, _, _)| a < v);
        let end = sides.partition_point(|&(a, _, _)| a <= v);
        for &(_, _, s) in sides[start..end].iter().rev() {
            out.push(s);
        }
    }
    // Sides whose anchor is not in this layer (inconsistent input): keep them at the end.
    if out.len() < layer.len() + sides.len() {
        let present: std::collections::HashSet<u32> = out.iter().copied().collect();
        out.extend(sides.iter().map(|s| s.2).filter(|s| !present.contains(s)));
    }
    *layer = out;
}

/// Crossings between adjacent layers, by inversion counting with a Fenwick tree.
fn crossings(lg: &Layered, layers: &[Vec<u32>], pos: &[usize]) -> usize {
    let mut total = 0usize;
    let mut targets: Vec<usize> = Vec::new();
    for l in 0..layers.len().saturating_sub(1) {
        let width = layers[l + 1].len();
        if width < 2 && layers[l].len() < 2 {
            continue;
        }
        let mut tree = vec![0usize; width + 1];
        let mut inserted = 0usize;
        for &v in &layers[l] {
            targets.clear();
            targets.extend(lg.down[v as usize].iter().map(|&d| pos[d as usize]));
            targets.sort_unstable();
            for &t in &targets {
                // Count already inserted targets strictly to the right of t.
                let mut i = t + 1;
                let mut le = 0;
                while i > 0 {
                    le += tree[i];
                    i &= i - 1;
                }
                total += inserted - le;
            }
            for &t in &targets {
                let mut i = t + 1;
                while i <= width {
                    tree[i] += 1;
                    i += i & i.wrapping_neg();
                }
                inserted += 1;
            }
        }
    }
    total
}

/// Horizontal centres of all layered nodes: block coordinate descent on
/// sum over layered edges of w(a, b) (x_a - x_b)^2, one layer at a time (solved exactly under the
/// separation constraints), sweeping down and up. Edge weights favour straight long edges
/// (dummy-dummy 8, dummy-real 2, real-real 1); fans pull weakly on their members (see
/// `weight`); the main line (`spine`, the critical path) is pinned to one vertical line.
fn assign_x(lg: &Layered, spine: &[bool], spacing: &Spacing) -> Vec<f64> {
    let total = lg.len();
    let mut x = vec![0f64; total];
    let real = |v: u32| matches!(lg.kind[v as usize], VKind::Real);
    let gap = |a: u32, b: u32| -> f64 {
        let g = if real(a) && real(b) { spacing.node_gap } else { spacing.dummy_gap };
        (lg.width[a as usize] + lg.width[b as usize]) / 2.0 + g
    };
    // Weight of the pull of `n` on `v` across one layered edge; `fan` is how many nodes `n`
    // links to on `v`'s side. A member of a fan-out (or fan-in) barely pulls on it, so the fan
    // centres over its members while the members line up with the rest of their chain.
    let weight = |v: u32, n: u32, fan: usize| -> f64 {
        let w = match (real(v), real(n)) {
            (true, true) => 1.0,
            (false, false) => 8.0,
            _ => 2.0,
        };
        if fan > 1 {
            w * 0.05
        } else {
            w
        }
    };
    // Packed and centred on 0.
    for layer in &lg.layers {
        let mut cur = 0.0;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                cur += gap(layer[i - 1], v);
            }
            x[v as usize] = cur;
        }
        for &v in layer {
            x[v as usize] -= cur / 2.0;
        }
    }
    let size = total + lg.down.iter().map(Vec::len).sum::<usize>();
    // Many cheap passes for small graphs (alignment spreads one layer per pass), few for big ones.
    let passes = (400_000 / size.max(1)).clamp(4, 60);
    let layer_count = lg.layers.len();
    let mut desired: Vec<f64> = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    let mut seps: Vec<f64> = Vec::new();
    let mut placed: Vec<f64> = Vec::new();
    let mut scratch = PavScratch::default();
    for pass in 0..=passes {
        // The first pass only looks up (a tree-like start); then both ways, alternately bottom-up
        // and top-down.
        let both = pass > 0;
        for step in 0..layer_count {
            let l = if pass % 2 == 0 { step } else { layer_count - 1 - step };
            let layer = &lg.layers[l];
            if layer.is_empty() {
                continue;
            }
            desired.clear();
            weights.clear();
            seps.clear();
            for (i, &v) in layer.iter().enumerate() {
                let mut sum = 0.0;
                let mut wsum = 0.0;
                let mut see = |u: u32, w: f64| {
                    sum += w * x[u as usize];
                    wsum += w;
                };
                for &u in &lg.up[v as usize] {
                    see(u, weight(v, u, lg.down[u as usize].len()));
                }
                if both {
                    for &d in &lg.down[v as usize] {
                        see(d, weight(v, d, lg.up[d as usize].len()));
                    }
                }
                if let VKind::Side { anchor, .. } = lg.kind[v as usize] {
                    // Loop-back columns hug the step they leave or enter.
                    sum += 6.0 * (x[anchor as usize] + gap(anchor, v));
                    wsum += 6.0;
                }
                if spine[v as usize] {
                    // The main line is pinned: one straight vertical line, everything else
                    // arranges around it (pinning converges at once; pulls would diffuse slowly).
                    desired.push(0.0);
                    weights.push(1000.0);
                } else if wsum == 0.0 {
                    desired.push(x[v as usize]);
                    weights.push(0.05);
                } else {
                    desired.push(sum / wsum);
                    weights.push(wsum);
                }
                if i > 0 {
                    seps.push(gap(layer[i - 1], v));
                }
            }
            pav(&desired, &weights, &seps, &mut scratch, &mut placed);
            for (&v, &p) in layer.iter().zip(&placed) {
                x[v as usize] = p;
            }
        }
    }
    x
}

/// Scratch buffers of [`pav`], reused across layers and passes.
#[derive(Default)]
struct PavScratch {
    offset: Vec<f64>,
    /// Blocks: (sum of weights, weighted sum of targets, number of items).
    blocks: Vec<(f64, f64, usize)>,
}

/// Least-squares placement of an ordered row: minimises sum w_i (x_i - d_i)^2 subject to
/// x_{i+1} - x_i >= sep_i, by pool-adjacent-violators on the shifted variables. Linear time.
/// Writes the positions to `out`.
fn pav(desired: &[f64], weights: &[f64], seps: &[f64], scratch: &mut PavScratch, out: &mut Vec<f64>) {
    let m = desired.len();
    let PavScratch { offset, blocks } = scratch;
    offset.clear();
    offset.push(0.0);
    for i in 1..m {
        offset.push(offset[i - 1] + seps[i - 1]);
    }
    blocks.clear();
    for i in 0..m {
        let t = desired[i] - offset[i];
        blocks.push((weights[i], weights[i] * t, 1));
        while blocks.len() >= 2 {
            let (w1, s1, _) = blocks[blocks.len() - 1];
            let (w0, s0, _) = blocks[blocks.len() - 2];
            if s0 / w0 > s1 / w1 {
                let top = blocks.pop().unwrap();
                let last = blocks.last_mut().unwrap();
                last.0 += top.0;
                last.1 += top.1;
                last.2 += top.2;
            } else {
                break;
            }
        }
    }
    out.clear();
    let mut i = 0;
    for &(w, s, count) in blocks.iter() {
        let y = s / w;
        for _ in 0..count {
            out.push(y + offset[i]);
            i += 1;
        }
    }
}

/// The layered nodes of the critical path (the main line): its steps and the dummies of the
/// edges between consecutive steps.
fn spine(g: &WorkflowGraph, a: &Analysis, lg: &Layered) -> Vec<bool> {
    let mut on = vec![false; lg.len()];
    let n = g.graph.node_count();
    for w in a.critical_path.windows(2) {
        let (u, v) = (w[0], w[1]);
        if u.index() >= n || v.index() >= n {
            continue;
        }
        on[u.index()] = true;
        on[v.index()] = true;
        if let Some(e) = g.graph.find_edge(u, v) {
            let (first, count) = lg.chain[e.index()];
            if !lg.back[e.index()] {
                for d in first..first + count {
                    on[d as usize] = true;
                }
            }
        }
    }
    on
}

/// Top and height of each layer.
fn assign_y(lg: &Layered, layer_count: usize, spacing: &Spacing) -> (Vec<f64>, Vec<f64>) {
    let mut height = vec![0f64; layer_count];
    for (v, &l) in lg.layer.iter().enumerate() {
        height[l] = height[l].max(lg.height[v]);
    }
    let mut top = vec![0f64; layer_count];
    let mut y = 0.0;
    for l in 0..layer_count {
        height[l] = height[l].max(20.0);
        top[l] = y;
        y += height[l] + spacing.layer_gap;
    }
    (top, height)
}

#[allow(clippy::too_many_arguments)]
fn route_edges(
    g: &WorkflowGraph,
    lg: &Layered,
    nodes: &[NodeBox],
    x: &[f64],
    layer_top: &[f64],
    layer_height: &[f64],
    spacing: &Spacing,
) -> Vec<EdgeRoute> {
    let n = g.graph.node_count();
    let m = g.graph.edge_count();
    let bottom_of = |l: usize| layer_top[l] + layer_height[l];
    // The x of the vnode right after the source / right before the target, to order the ports.
    let first_hop_x = |e: usize, target: usize| -> f64 {
        let (first, count) = lg.chain[e];
        if count > 0 {
            x[first as usize]
        } else {
            x[target]
        }
    };
    let last_hop_x = |e: usize, source: usize| -> f64 {
        let (first, count) = lg.chain[e];
        if count > 0 {
            x[(first + count - 1) as usize]
        } else {
            x[source]
        }
    };
    // Port offsets: out ports along the bottom, in ports along the top, loop ports on the right.
    let mut out_port = vec![0f64; m];
    let mut in_port = vec![0f64; m];
    let mut loop_out = vec![0f64; m];
    let mut loop_in = vec![0f64; m];
    let mut buf: Vec<(f64, usize)> = Vec::new();
    for (v, b) in nodes.iter().enumerate().take(n) {
        let node = NodeIndex::new(v);
        for (dir, forward) in [
            (Direction::Outgoing, true),
            (Direction::Incoming, true),
            (Direction::Outgoing, false),
            (Direction::Incoming, false),
        ] {
            buf.clear();
            for e in g.graph.edges_directed(node, dir) {
                let i = e.id().index();
                if lg.back[i] == forward {
                    continue;
                }
                let key = match (dir, forward) {
                    (Direction::Outgoing, true) => first_hop_x(i, e.target().index()),
                    (Direction::Incoming, true) => last_hop_x(i, e.source().index()),
                    // Loop ports: nested loops must not cross, so a longer (outer) loop leaves
                    // below a shorter one and enters above it.
                    (Direction::Outgoing, false) => lg.chain[i].1 as f64 * 1e6 + i as f64,
                    _ => -(lg.chain[i].1 as f64) * 1e6 + i as f64,
                };
                buf.push((key, i));
            }
            if buf.is_empty() {
                continue;
            }
            buf.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
            let k = buf.len();
            let (span, target): (f64, &mut Vec<f64>) = match (dir, forward) {
                (Direction::Outgoing, true) => ((b.width * 0.55).min(28.0 * (k as f64 - 1.0)), &mut out_port),
                (Direction::Incoming, true) => ((b.width * 0.55).min(28.0 * (k as f64 - 1.0)), &mut in_port),
                (Direction::Outgoing, false) => ((b.height * 0.3).min(8.0 * (k as f64 - 1.0)), &mut loop_out),
                (Direction::Incoming, false) => ((b.height * 0.3).min(8.0 * (k as f64 - 1.0)), &mut loop_in),
            };
            for (j, &(_, i)) in buf.iter().enumerate() {
                let t = if k == 1 { 0.5 } else { j as f64 / (k - 1) as f64 };
                target[i] = (t - 0.5) * span;
            }
        }
    }
    let mut routes = Vec::with_capacity(m);
    for e in g.graph.edge_references() {
        let i = e.id().index();
        let (u, v) = (e.source().index(), e.target().index());
        let (bu, bv) = (&nodes[u], &nodes[v]);
        let (first, count) = lg.chain[i];
        let dummies = first..first + count;
        if !lg.back[i] {
            let start = Point::new(bu.center().x + out_port[i], bu.bottom());
            let end = Point::new(bv.center().x + in_port[i], bv.y);
            let mut segs = Vec::with_capacity(2 * count as usize + 3);
            let mut cur = start;
            let lu = bu.layer;
            if count == 0 && bv.layer != lu + 1 {
                // Over the dummy budget: a direct curve.
                segs.push(vertical_curve(cur, end));
                let label_at = bezier_mid(cur, end);
                routes.push(EdgeRoute {
                    start,
                    segments: segs,
                    back: false,
                    label_at,
                    label_align: LabelAlign::Middle,
                });
                continue;
            }
            let below = bottom_of(lu);
            if below > cur.y + 0.5 {
                cur = Point::new(cur.x, below);
                segs.push(Segment::Line(cur));
            }
            let mut label_at = None;
            for d in dummies {
                let l = lg.layer[d as usize];
                let top = Point::new(x[d as usize], layer_top[l]);
                label_at.get_or_insert_with(|| bezier_mid(cur, top));
                segs.push(vertical_curve(cur, top));
                cur = Point::new(top.x, bottom_of(l));
                segs.push(Segment::Line(cur));
            }
            let above = Point::new(end.x, layer_top[bv.layer]);
            label_at.get_or_insert_with(|| bezier_mid(cur, above));
            segs.push(vertical_curve(cur, above));
            if end.y > above.y + 0.5 {
                segs.push(Segment::Line(end));
            }
            let label_at = label_at.unwrap_or(cur);
            routes.push(EdgeRoute { start, segments: segs, back: false, label_at, label_align: LabelAlign::Middle });
        } else if count == 0 {
            // Over budget: a plain arc on the right.
            let start = Point::new(bu.right(), bu.center().y + loop_out[i]);
            let end = Point::new(bv.right(), bv.center().y + loop_in[i]);
            let reach = start.x.max(end.x) + 40.0;
            let segs = vec![Segment::Cubic(Point::new(reach, start.y), Point::new(reach, end.y), end)];
            let label_at = Point::new(reach - 6.0, (start.y + end.y) / 2.0);
            routes.push(EdgeRoute { start, segments: segs, back: true, label_at, label_align: LabelAlign::Start });
        } else if u == v || count == 1 {
            // Self-loop (or a loop within one layer): out on the right, round the side slot, back in.
            let reach = x[first as usize].max(bu.right().max(bv.right()) + 8.0);
            let start = Point::new(bu.right(), bu.center().y - bu.height * 0.2 + loop_out[i] * 0.3);
            let end = Point::new(bv.right(), bv.center().y + bv.height * 0.2 + loop_in[i] * 0.3);
            let cx = start.x + (reach - start.x) * 4.0 / 3.0;
            let segs = vec![Segment::Cubic(Point::new(cx, start.y - 6.0), Point::new(cx, end.y + 6.0), end)];
            let label_at = Point::new(reach + 4.0, bu.y - 6.0);
            routes.push(EdgeRoute { start, segments: segs, back: true, label_at, label_align: LabelAlign::Start });
        } else {
            let start = Point::new(bu.right(), bu.center().y + loop_out[i]);
            let end = Point::new(bv.right(), bv.center().y + loop_in[i]);
            let mut segs = Vec::with_capacity(2 * count as usize + 2);
            // Right, then up through the slot beside the source.
            let s0 = first as usize;
            let lu = lg.layer[s0];
            let col = x[s0];
            let r = (col - start.x).clamp(0.0, 10.0);
            let corner = Point::new(col, start.y);
            segs.push(Segment::Cubic(corner, corner, Point::new(col, start.y - r)));
            let mut cur = Point::new(col, layer_top[lu]);
            segs.push(Segment::Line(cur));
            let label_at = Point::new(col + 5.0, layer_top[lu] - spacing.layer_gap * 0.5);
            for d in first + 1..first + count {
                let l = lg.layer[d as usize];
                let bottom = Point::new(x[d as usize], bottom_of(l));
                segs.push(vertical_curve(cur, bottom));
                if d + 1 == first + count {
                    // Beside the target: up to its entry port, then left into it.
                    let r = (bottom.x - end.x).clamp(0.0, 10.0);
                    segs.push(Segment::Line(Point::new(bottom.x, end.y + r)));
                    let corner = Point::new(bottom.x, end.y);
                    segs.push(Segment::Cubic(corner, corner, end));
                } else {
                    cur = Point::new(bottom.x, layer_top[l]);
                    segs.push(Segment::Line(cur));
                }
            }
            routes.push(EdgeRoute { start, segments: segs, back: true, label_at, label_align: LabelAlign::Start });
        }
    }
    routes
}

/// A cubic from `a` down (or up) to `b` with vertical tangents at both ends.
fn vertical_curve(a: Point, b: Point) -> Segment {
    let k = (b.y - a.y) / 2.0;
    Segment::Cubic(Point::new(a.x, a.y + k), Point::new(b.x, b.y - k), b)
}

fn bezier_mid(a: Point, b: Point) -> Point {
    Point::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0)
}

/// Shifts everything so that the leftmost box or route point sits at x = 0, and sets the size.
fn normalize(out: &mut Layout, lg: &Layered, x: &[f64]) {
    let mut min_x = f64::MAX;
    let mut max_x = f64::MIN;
    let mut max_y: f64 = 0.0;
    for b in &out.nodes {
        min_x = min_x.min(b.x);
        max_x = max_x.max(b.right());
        max_y = max_y.max(b.bottom());
    }
    for (v, &xv) in x.iter().enumerate().skip(out.nodes.len()) {
        min_x = min_x.min(xv - lg.width[v]);
        max_x = max_x.max(xv + lg.width[v]);
    }
    for r in &out.edges {
        // A cubic lies within the hull of its control points.
        let mut see = |p: Point| {
            min_x = min_x.min(p.x);
            max_x = max_x.max(p.x);
        };
        see(r.start);
        for s in &r.segments {
            match *s {
                Segment::Line(p) => see(p),
                Segment::Cubic(a, b, c) => {
                    see(a);
                    see(b);
                    see(c);
                }
            }
        }
    }
    if min_x > max_x {
        return;
    }
    let shift = -min_x;
    let mv = |p: &mut Point| p.x += shift;
    for b in &mut out.nodes {
        b.x += shift;
    }
    for r in &mut out.edges {
        mv(&mut r.start);
        mv(&mut r.label_at);
        for s in &mut r.segments {
            match s {
                Segment::Line(p) => mv(p),
                Segment::Cubic(a, b, c) => {
                    mv(a);
                    mv(b);
                    mv(c);
                }
            }
        }
    }
    out.width = max_x - min_x;
    out.height = max_y;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lay(doc: serde_json::Value) -> (WorkflowGraph, Layout) {
        let g = WorkflowGraph::from_document(&doc);
        let a = Analysis::of(&g);
        let sizes = vec![(120.0, 40.0); g.graph.node_count()];
        let l = layout(&g, &a, &sizes);
        (g, l)
    }

    fn diamond() -> serde_json::Value {
        json!({"workflow_start": "s", "workflow": {
            "s": {"type": "start", "on_completion": "c"},
            "c": {"type": "if-condition", "condition": "x", "on_true": "t", "on_false": "f", "on_completion": "j"},
            "t": {"type": "action", "on_completion": "j"},
            "f": {"type": "action", "on_completion": "j"},
            "j": {"type": "action", "on_completion": "e"},
            "e": {"type": "end"}
        }})
    }

    #[test]
    fn pav_keeps_separations_and_fits_the_targets() {
        let mut scratch = PavScratch::default();
        let mut out = Vec::new();
        // Free targets are met exactly.
        pav(&[0.0, 100.0, 300.0], &[1.0; 3], &[50.0, 50.0], &mut scratch, &mut out);
        assert_eq!(out, vec![0.0, 100.0, 300.0]);
        // Conflicting targets are pooled around their weighted mean.
        pav(&[0.0, 0.0, 0.0], &[1.0; 3], &[10.0, 10.0], &mut scratch, &mut out);
        assert_eq!(out, vec![-10.0, 0.0, 10.0]);
        // A heavy item stays put, the light ones make room.
        pav(&[0.0, 0.0], &[1000.0, 1.0], &[20.0], &mut scratch, &mut out);
        assert!(out[0].abs() < 0.1 && (out[1] - out[0] - 20.0).abs() < 1e-9);
        pav(&[], &[], &[], &mut scratch, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn diamond_is_layered_top_down_without_overlaps() {
        let (g, l) = lay(diamond());
        let layer = |id: &str| l.nodes[g.index[id].index()].layer;
        assert_eq!([layer("s"), layer("c"), layer("t"), layer("f"), layer("j"), layer("e")], [0, 1, 2, 2, 3, 4]);
        assert_eq!(l.layer_count, 5);
        assert!(l.overlapping_boxes(2.0).is_empty());
        assert_eq!(l.crossings, 0);
        // Branches on both sides of the continuation, which stays under the condition.
        let x = |id: &str| l.nodes[g.index[id].index()].center().x;
        assert!(x("t") < x("c") && x("c") < x("f"), "on_true left, on_false right");
        assert!((x("s") - x("c")).abs() < 0.5 && (x("c") - x("j")).abs() < 0.5, "main line straight");
        // Forward edges run from the bottom of the source to the top of the target.
        for e in g.graph.edge_references() {
            let r = &l.edges[e.id().index()];
            let (s, t) = (&l.nodes[e.source().index()], &l.nodes[e.target().index()]);
            assert!(!r.back);
            assert!((r.start.y - s.bottom()).abs() < 1e-6 && (r.end().y - t.y).abs() < 1e-6);
            assert!(r.start.x >= s.x && r.start.x <= s.right() && r.end().x >= t.x && r.end().x <= t.right());
        }
        assert!(l.width > 0.0 && l.height > 0.0);
        assert!(l.nodes.iter().all(|b| b.x >= -1e-6 && b.right() <= l.width + 1e-6));
    }

    #[test]
    fn long_edges_get_a_slot_per_crossed_layer() {
        // s -> a -> b -> e, and s -> e directly: the direct edge crosses two layers beside a and b.
        let (g, l) = lay(json!({"workflow_start": "s", "workflow": {
            "s": {"type": "start", "on_completion": "a", "on_failure": "e"},
            "a": {"type": "action", "on_completion": "b"},
            "b": {"type": "action", "on_completion": "e"},
            "e": {"type": "end"}
        }}));
        let long = g.graph.edge_references().find(|e| e.weight().kind == EdgeKind::OnFailure).unwrap();
        let r = &l.edges[long.id().index()];
        for p in r.sample(16) {
            for b in &l.nodes {
                assert!(!b.contains(p, 2.0), "the long edge passes through a box at {p:?}");
            }
        }
        assert!(r.segments.len() >= 5, "vertical runs through the two crossed layers");
    }

    #[test]
    fn loop_backs_go_round_the_right_side() {
        let (g, l) = lay(json!({"workflow_start": "s", "workflow": {
            "s": {"type": "start", "on_completion": "w"},
            "w": {"type": "while-condition", "condition": "again", "on_true": "a", "on_completion": "e"},
            "a": {"type": "action", "on_completion": "b"},
            "b": {"type": "action", "on_completion": "w"},
            "e": {"type": "end"},
            "self": {"type": "action", "on_completion": "self"}
        }}));
        let mut backs = 0;
        for e in g.graph.edge_references() {
            let r = &l.edges[e.id().index()];
            if !r.back {
                continue;
            }
            backs += 1;
            let (s, t) = (&l.nodes[e.source().index()], &l.nodes[e.target().index()]);
            assert!((r.start.x - s.right()).abs() < 1e-6, "leaves from the right side");
            assert!((r.end().x - t.right()).abs() < 1e-6, "enters from the right side");
            let reach = r.sample(8).iter().map(|p| p.x).fold(f64::MIN, f64::max);
            assert!(reach > s.right().max(t.right()), "goes out to the right");
        }
        assert_eq!(backs, 2, "the while loop-back and the self-loop");
        assert!(l.overlapping_boxes(2.0).is_empty());
        // The while body sits right of the continuation, where its loop-back runs.
        let x = |id: &str| l.nodes[g.index[id].index()].center().x;
        assert!(x("a") > x("e"));
    }

    #[test]
    fn over_the_dummy_budget_edges_are_drawn_directly() {
        let g = WorkflowGraph::from_document(&json!({"workflow_start": "s", "workflow": {
            "s": {"type": "start", "on_completion": "a", "on_failure": "e"},
            "a": {"type": "action", "on_completion": "b"},
            "b": {"type": "action", "on_completion": "s"},
            "e": {"type": "end"}
        }}));
        let a = Analysis::of(&g);
        let spacing = Spacing { dummy_budget_per_node: 0, dummy_budget_base: 0, ..Spacing::default() };
        let l = layout_with(&g, &a, &[(100.0, 40.0); 4], spacing);
        assert_eq!(l.edges.len(), g.graph.edge_count());
        assert!(l.edges.iter().all(|r| !r.segments.is_empty()));
        assert!(l.overlapping_boxes(2.0).is_empty());
    }

    #[test]
    fn crossings_are_counted() {
        // Two layers, a0 a1 over b0 b1, edges a0-b1 and a1-b0: one crossing; then a0-b0 a1-b1: none.
        let mut lg = Layered {
            layer: vec![0, 0, 1, 1],
            width: vec![1.0; 4],
            height: vec![1.0; 4],
            kind: vec![VKind::Real; 4],
            up: vec![vec![], vec![], vec![1], vec![0]],
            down: vec![vec![3], vec![2], vec![], vec![]],
            chain: Vec::new(),
            back: Vec::new(),
            layers: vec![vec![0, 1], vec![2, 3]],
        };
        let pos = [0, 1, 0, 1];
        assert_eq!(crossings(&lg, &lg.layers, &pos), 1);
        lg.down = vec![vec![2], vec![3], vec![], vec![]];
        assert_eq!(crossings(&lg, &lg.layers, &pos), 0);
    }

    #[test]
    fn empty_graphs_and_foreign_analyses_do_not_panic() {
        let g = WorkflowGraph::default();
        let l = layout(&g, &Analysis::of(&g), &[]);
        assert!(l.nodes.is_empty() && l.edges.is_empty());
        // An analysis of another graph: layers are read defensively.
        let (big, _) = lay(diamond());
        let other = WorkflowGraph::from_document(&json!({"workflow": {"x": {"type": "start"}}}));
        let l = layout(&big, &Analysis::of(&other), &[]);
        assert_eq!(l.nodes.len(), big.graph.node_count());
        assert!(l.overlapping_boxes(1.0).is_empty());
    }
}
