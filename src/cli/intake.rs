//! `cacao-forge intake FILE [--format auto|...] [--json]`: reads an incident and prints a summary
//! (format, events, observables by kind, problems with their lines) or the report as JSON
//! (`{format, incidents: [Incident...], problems: [Finding...]}`; each incident follows
//! schemas/incident.json). Problems are warnings: the exit status is 0 when anything was read.

use super::{read_limited, Outcome};
use anyhow::{Context, Result};
use cacao_forge::incident::intake::{self, Format, IntakeOptions, IntakeReport};
use cacao_forge::incident::{Incident, ObservableKind};
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct IntakeArgs {
    /// The incident file (text, log, alert JSON, seed-004 dataset).
    file: PathBuf,
    /// The input format: auto, text, syslog, access-log, jsonl, windows-event, ecs, wazuh, seed004
    /// or mixed.
    #[arg(long, default_value = "auto")]
    format: String,
    /// Print the report as JSON instead of a summary.
    #[arg(long)]
    json: bool,
    /// Largest accepted input, in bytes.
    #[arg(long, default_value_t = IntakeOptions::default().max_bytes)]
    max_bytes: usize,
    /// Lines read at most.
    #[arg(long, default_value_t = IntakeOptions::default().max_lines)]
    max_lines: usize,
    /// Longer lines are reported and skipped.
    #[arg(long, default_value_t = IntakeOptions::default().max_line_length)]
    max_line_length: usize,
    /// Problems listed at most (the rest are counted).
    #[arg(long, default_value_t = IntakeOptions::default().max_problems)]
    max_problems: usize,
    /// The year of RFC 3164 syslog times, which have none.
    #[arg(long)]
    year: Option<i32>,
}

pub fn run(args: IntakeArgs) -> Result<Outcome> {
    let format = match args.format.as_str() {
        "auto" => None,
        name => Some(name.parse::<Format>()?),
    };
    let opts = IntakeOptions {
        max_bytes: args.max_bytes,
        max_lines: args.max_lines,
        max_line_length: args.max_line_length,
        max_problems: args.max_problems,
        year: args.year,
        source_name: args.file.file_name().map(|n| n.to_string_lossy().into_owned()),
        ..IntakeOptions::default()
    };
    let bytes = read_limited(&args.file, opts.max_bytes)?;
    let file = args.file.display();
    let report = match format {
        Some(f) => intake::read(&bytes, f, &opts),
        None => intake::read_auto(&bytes, &opts),
    }
    .with_context(|| format!("{file}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", summary(&file.to_string(), &report));
    }
    Ok(Outcome::Success)
}

fn summary(file: &str, report: &IntakeReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{file}: {} ({} incident{}, {} problem{})",
        report.format,
        report.incidents.len(),
        if report.incidents.len() == 1 { "" } else { "s" },
        report.problems.len(),
        if report.problems.len() == 1 { "" } else { "s" },
    );
    for incident in &report.incidents {
        incident_summary(&mut out, incident);
    }
    if !report.problems.is_empty() {
        let _ = writeln!(out, "problems:");
        for p in &report.problems {
            let _ = writeln!(out, "  {p}");
        }
    }
    out
}

fn incident_summary(out: &mut String, incident: &Incident) {
    let _ = writeln!(out, "\n{} [{}]", incident.title, incident.id);
    let _ = writeln!(out, "  severity: {}", incident.severity);
    if let Some(r) = &incident.time_range {
        let _ = writeln!(out, "  time: {} .. {}", r.start, r.end);
    }
    let _ = writeln!(out, "  events: {}", incident.events.len());
    let _ = writeln!(out, "  observables: {}", incident.observables.len());
    for kind in ObservableKind::ALL {
        let of_kind: Vec<_> = incident.observables_of(kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let shown: Vec<String> = of_kind
            .iter()
            .take(8)
            .map(|o| if o.count > 1 { format!("{} (x{})", o.value, o.count) } else { o.value.clone() })
            .collect();
        let more = if of_kind.len() > 8 { format!(", ... {} more", of_kind.len() - 8) } else { String::new() };
        let _ = writeln!(out, "    {kind} ({}): {}{more}", of_kind.len(), shown.join(", "));
    }
}
