//! `cacao-forge graph PLAYBOOK [--format svg|mermaid|dot|summary] [-o FILE] [--json]`

use super::{read_limited, write_output, LimitArgs, Outcome};
use anyhow::{Context, Result};
use cacao_forge::cacao::load;
use cacao_forge::workflow::render::{self, Format};
use cacao_forge::workflow::{Analysis, StepKind, WorkflowGraph};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// A text summary of the analyses.
    Summary,
    Svg,
    Mermaid,
    Dot,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The playbook file.
    file: PathBuf,
    /// What to produce; by default taken from the extension of -o (.svg, .mmd, .dot), else summary.
    #[arg(long, short, value_enum)]
    format: Option<OutputFormat>,
    /// Where to write the drawing (stdout when absent or `-`).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Print the analyses as JSON (steps, edges, reachability, cycles, branch/join points,
    /// display order, critical path).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Serialize)]
struct Summary<'a> {
    title: Option<&'a str>,
    steps: usize,
    edges: usize,
    start: Option<&'a str>,
    unreachable: Vec<&'a str>,
    missing: Vec<&'a str>,
    cycles: Vec<Vec<&'a str>>,
    branch_points: Vec<&'a str>,
    join_points: Vec<&'a str>,
    order: Vec<&'a str>,
    critical_path_len: usize,
    critical_path: Vec<&'a str>,
}

fn summary<'a>(g: &'a WorkflowGraph, a: &Analysis) -> Summary<'a> {
    let id = |n: petgraph::graph::NodeIndex| g.graph[n].id.as_str();
    Summary {
        title: g.title.as_deref(),
        steps: g.step_count(),
        edges: g.graph.edge_count(),
        start: g.start.map(id),
        unreachable: a.unreachable().filter(|&n| g.graph[n].kind != StepKind::Missing).map(id).collect(),
        missing: g.graph.node_indices().filter(|&n| g.graph[n].kind == StepKind::Missing).map(id).collect(),
        cycles: a.cycles.iter().map(|c| c.iter().map(|&n| id(n)).collect()).collect(),
        branch_points: a.branch_points.iter().map(|&n| id(n)).collect(),
        join_points: a.join_points.iter().map(|&n| id(n)).collect(),
        order: a.order.iter().map(|&n| id(n)).collect(),
        critical_path_len: a.critical_path_len,
        critical_path: a.critical_path.iter().map(|&n| id(n)).collect(),
    }
}

fn format_from_extension(path: &Path) -> Option<OutputFormat> {
    match path.extension()?.to_str()? {
        "svg" => Some(OutputFormat::Svg),
        "mmd" | "mermaid" => Some(OutputFormat::Mermaid),
        "dot" | "gv" => Some(OutputFormat::Dot),
        _ => None,
    }
}

pub fn run(args: GraphArgs) -> Result<Outcome> {
    let limits = args.limits.limits();
    let bytes = read_limited(&args.file, limits.max_bytes)?;
    let doc = load::parse_document(&bytes, &limits).with_context(|| format!("{}", args.file.display()))?;
    let graph = WorkflowGraph::from_document(&doc);
    let analysis = Analysis::of(&graph);
    let format =
        args.format.or_else(|| args.output.as_deref().and_then(format_from_extension)).unwrap_or(OutputFormat::Summary);
    let drawing = match format {
        OutputFormat::Svg => Some(render::render(&graph, &analysis, Format::Svg)),
        OutputFormat::Mermaid => Some(render::render(&graph, &analysis, Format::Mermaid)),
        OutputFormat::Dot => Some(render::render(&graph, &analysis, Format::Dot)),
        OutputFormat::Summary => None,
    };
    let s = summary(&graph, &analysis);
    match drawing {
        Some(text) => {
            write_output(args.output.as_deref(), &text)?;
            // With the drawing in a file, stdout is free for the analyses.
            if let Some(path) = args.output.as_ref().filter(|p| p.as_os_str() != "-") {
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&s)?);
                } else {
                    println!("wrote {}\n{}", path.display(), human(&s, &graph).trim_end());
                }
            }
        }
        None if args.json => write_output(args.output.as_deref(), &serde_json::to_string_pretty(&s)?)?,
        None => write_output(args.output.as_deref(), &human(&s, &graph))?,
    }
    Ok(Outcome::Success)
}

/// The summary for a person: steps by name (their ids are in --json).
fn human(s: &Summary, g: &WorkflowGraph) -> String {
    let name = |id: &str| g.node(id).map_or(id, |n| n.label()).to_owned();
    let names = |ids: &[&str]| ids.iter().map(|id| name(id)).collect::<Vec<_>>();
    let list = |ids: &[&str]| if ids.is_empty() { "none".to_owned() } else { names(ids).join(", ") };
    let mut out = String::new();
    out.push_str(&format!("playbook:       {}\n", s.title.unwrap_or("(unnamed)")));
    out.push_str(&format!("steps:          {} ({} references)\n", s.steps, s.edges));
    out.push_str(&format!("start:          {}\n", s.start.map_or("(none)".to_owned(), name)));
    out.push_str(&format!("critical path:  {} steps: {}\n", s.critical_path_len, names(&s.critical_path).join(" -> ")));
    out.push_str(&format!("branch points:  {}\n", list(&s.branch_points)));
    out.push_str(&format!("join points:    {}\n", list(&s.join_points)));
    let cycles: Vec<String> = s.cycles.iter().map(|c| format!("[{}]", names(c).join(", "))).collect();
    out.push_str(&format!("cycles:         {}\n", if cycles.is_empty() { "none".into() } else { cycles.join(" ") }));
    out.push_str(&format!("unreachable:    {}\n", list(&s.unreachable)));
    out.push_str(&format!(
        "missing steps:  {}\n",
        if s.missing.is_empty() { "none".into() } else { s.missing.join(", ") }
    ));
    out
}
