//! `cacao-forge analyze FILE [--out-dir DIR]`: the whole pipeline in one command — detect (threat
//! model) -> map (ATT&CK) -> plan (mitigations and response actions) -> generate (CACAO v2.0) ->
//! validate -> draw. Prints a summary and writes DIR/playbook.json and DIR/playbook.svg (for an
//! input with several incidents, DIR/<incident id>.json and .svg).
//!
//! Exit status: 0 when every incident got a playbook; 1 when some could not; 2 for usage errors.

use super::generate::{describe, detector, explain_failure, file_stem, GenerationArgs};
use super::{write_output, Outcome};
use anyhow::Result;
use cacao_forge::generate::analyze;
use cacao_forge::generate::pipeline::judge_incident;
use cacao_forge::workflow::render::{self, Format};
use cacao_forge::workflow::{Analysis as GraphAnalysis, WorkflowGraph};
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    gen: GenerationArgs,
    /// Directory for playbook.json and playbook.svg.
    #[arg(long, default_value = ".")]
    out_dir: PathBuf,
}

pub fn run(args: AnalyzeArgs) -> Result<Outcome> {
    let incidents = args.gen.input.incidents()?;
    let planner = args.gen.backend.planner();
    let backend = args.gen.backend.backend()?;
    let options = args.gen.backend.options()?;
    let detector = detector()?;
    std::fs::create_dir_all(&args.out_dir)?;
    let mut failed = 0;
    for incident in &incidents {
        let started = std::time::Instant::now();
        let mut out = String::new();
        writeln!(out, "Incident {}: {}", incident.id, incident.title)?;
        writeln!(out, "  {} events, {} observables", incident.events.len(), incident.observables.len())?;
        match analyze(incident, Some(&detector), &planner, backend.as_ref(), &options) {
            Ok(a) => {
                // The pipeline consults the threat model only when the mapper finds nothing; the
                // summary shows its verdict for every incident.
                let v = match &a.verdict {
                    Some(v) => v.clone(),
                    None => judge_incident(&detector, incident)?,
                };
                writeln!(
                    out,
                    "  threat model: {} ({:.2}), {} of {} texts judged threats",
                    v.threat_type, v.confidence, v.threat_texts, v.texts
                )?;
                for t in &a.plan.techniques {
                    writeln!(out, "  technique {} {} (score {:.2})", t.id, t.name, t.score)?;
                }
                for n in &a.plan.notes {
                    writeln!(out, "  note: {n}")?;
                }
                writeln!(out, "  playbook \"{}\"", a.generated.playbook["name"].as_str().unwrap_or(""))?;
                for (i, s) in a.generated.draft.steps.iter().enumerate() {
                    writeln!(
                        out,
                        "    {:>2}. [{}] {}{}",
                        i + 1,
                        s.phase.as_str(),
                        s.name,
                        if s.destructive { " (approval first)" } else { "" }
                    )?;
                }
                let stem = if incidents.len() == 1 { "playbook".to_owned() } else { file_stem(&incident.id) };
                let json_path = args.out_dir.join(format!("{stem}.json"));
                let svg_path = args.out_dir.join(format!("{stem}.svg"));
                write_output(Some(&json_path), &(serde_json::to_string_pretty(&a.generated.playbook)? + "\n"))?;
                let graph = WorkflowGraph::from_document(&a.generated.playbook);
                let analysis = GraphAnalysis::of(&graph);
                write_output(Some(&svg_path), &render::render(&graph, &analysis, Format::Svg))?;
                writeln!(out, "  {}", describe(&a, &json_path))?;
                writeln!(
                    out,
                    "  {} drawn; {:.0} ms in all",
                    svg_path.display(),
                    started.elapsed().as_secs_f64() * 1000.0
                )?;
            }
            Err(e) => {
                failed += 1;
                writeln!(out, "  {}", explain_failure(&e))?;
            }
        }
        print!("{out}");
    }
    Ok(if failed == 0 { Outcome::Success } else { Outcome::Rejected })
}
