//! `cacao-forge map FILE | --text TEXT [--format auto|...] [--json] [--top-k N]`: ranks the ATT&CK
//! techniques an incident (a serialized incident, an intake report or any format intake reads) or a
//! single text shows, with scores, tactics
//! and evidence spans. Exit 0 when anything was mapped, 1 when no technique reached the minimum
//! score (`--min-score`), 2 on bad input.

use super::{read_limited, Outcome};
use anyhow::{Context, Result};
use cacao_forge::attack::mapper::{EvidenceSource, Mapper, TechniqueMatch};
use cacao_forge::incident::input::{read_input, InputFormat};
use cacao_forge::incident::intake::IntakeOptions;
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MapArgs {
    /// The incident file (text, log, alert JSON, seed-004 dataset).
    #[arg(required_unless_present = "text", conflicts_with = "text")]
    file: Option<PathBuf>,
    /// Map this text (a command line, a log line) instead of a file.
    #[arg(long)]
    text: Option<String>,
    /// The input format of FILE: auto, incident (a serialized incident or intake report), or an
    /// intake format (as for `intake`).
    #[arg(long, default_value = "auto")]
    format: String,
    /// Techniques reported.
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// Techniques scoring below this are left out.
    #[arg(long, default_value_t = cacao_forge::attack::mapper::MapperConfig::default().min_score)]
    min_score: f32,
    /// Print JSON instead of a summary.
    #[arg(long)]
    json: bool,
    /// A full ATT&CK bundle whose descriptions and procedure examples enrich mapping at run time.
    #[arg(long, env = "CACAO_FORGE_BUNDLE")]
    bundle: Option<PathBuf>,
    /// Largest accepted input, in bytes.
    #[arg(long, default_value_t = IntakeOptions::default().max_bytes)]
    max_bytes: usize,
}

pub fn run(args: MapArgs) -> Result<Outcome> {
    if !(0.0..=1.0).contains(&args.min_score) {
        anyhow::bail!("--min-score {} is outside [0, 1]", args.min_score);
    }
    let mut mapper = Mapper::embedded();
    mapper.config.top_k = args.top_k.max(1);
    mapper.config.min_score = args.min_score;
    if let Some(bundle) = &args.bundle {
        mapper = mapper.with_enrichment(&cacao_forge::attack::Enrichment::from_bundle(bundle)?);
    }
    let mut out = String::new();
    let mut mapped = 0usize;
    if let Some(text) = &args.text {
        if text.len() > args.max_bytes {
            anyhow::bail!("--text is {} bytes, over the limit of {} bytes", text.len(), args.max_bytes);
        }
        let techniques: Vec<TechniqueMatch> =
            mapper.map_text(text).into_iter().filter(|t| t.score >= args.min_score).collect();
        mapped += techniques.len();
        if args.json {
            out = serde_json::to_string_pretty(&serde_json::json!({ "techniques": techniques }))?;
        } else {
            write_techniques(&mut out, &techniques);
        }
    } else if let Some(path) = &args.file {
        let format: InputFormat = args.format.parse()?;
        let opts = IntakeOptions {
            max_bytes: args.max_bytes,
            source_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
            ..IntakeOptions::default()
        };
        let bytes = read_limited(path, opts.max_bytes)?;
        let input = read_input(&bytes, format, &opts).with_context(|| path.display().to_string())?;
        let mut results = Vec::new();
        for incident in &input.incidents {
            let mapping = mapper.map_incident(incident);
            mapped += mapping.techniques.len();
            if !args.json {
                let skipped = if mapping.events_skipped > 0 {
                    format!(", {} event(s) beyond the limit skipped", mapping.events_skipped)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "{} [{}]: {} text(s) mapped{skipped}",
                    incident.title, incident.id, mapping.texts_mapped
                );
                for m in &mapping.techniques {
                    write_technique(&mut out, m);
                }
                out.push('\n');
            }
            results.push(serde_json::json!({ "incident": incident.id, "title": incident.title, "mapping": mapping }));
        }
        if args.json {
            let format = input.kind.to_string();
            out = serde_json::to_string_pretty(&serde_json::json!({ "format": format, "incidents": results }))?;
        }
    }
    print!("{out}");
    if !out.ends_with('\n') {
        println!();
    }
    Ok(if mapped > 0 { Outcome::Success } else { Outcome::Rejected })
}

fn write_techniques(out: &mut String, techniques: &[TechniqueMatch]) {
    if techniques.is_empty() {
        out.push_str("no technique reached the minimum score\n");
    }
    for m in techniques {
        write_technique(out, m);
    }
}

fn write_technique(out: &mut String, m: &TechniqueMatch) {
    let _ = writeln!(
        out,
        "{:.2}  {} {} [{}]  (rules {:.2}, model {:.2})",
        m.score,
        m.id,
        m.name,
        m.tactics.join(", "),
        m.rule_score,
        m.model_score
    );
    for e in &m.evidence {
        let place = match e.event {
            Some(i) => format!("event {i} {}", e.field),
            None => e.field.clone(),
        };
        let source = match e.source {
            EvidenceSource::Rule => "rule",
            EvidenceSource::Model => "model",
            EvidenceSource::Declared => "declared",
        };
        let _ = writeln!(out, "      {source}: {:?} at {place} {}..{}: {}", e.text, e.span.0, e.span.1, e.why);
    }
}
