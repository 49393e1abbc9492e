//! `cacao-forge plan FILE [--format auto|incident|text|syslog|...] [--json] [--top-k N]
//! [--min-score X] [--no-destructive] [--platform P]... [--set NAME=VALUE]... [--incident ID]`:
//! maps an incident to ATT&CK techniques and prints an ordered mitigation plan: per technique its
//! ATT&CK mitigations and response actions, then every action once, numbered, in the phases
//! containment, eradication, recovery and verification, with the commands rendered for the
//! incident's observables (library: `cacao_forge::plan`).
//!
//! FILE is a serialized incident (schemas/incident.json), a list of them, an intake report
//! (`intake --json`), or any raw input `intake` reads. With `--json` the output is
//! `{file, input, plans: [Plan...], problems: [Finding...]}`.
//!
//! Exit status: 0 when a plan was made (at least one incident had a mapped technique); 1 when no
//! ATT&CK technique was mapped for any incident, so there is nothing to plan (a message says so on
//! stderr; with `--json` the plans, with their notes, are still printed); 2 for usage errors and
//! input that cannot be read (the message names the file and the problem).

use super::{read_incident_input, select_incident, write_output, Outcome};
use anyhow::{bail, Result};
use cacao_forge::attack::responses::{CommandType, Phase, Platform};
use cacao_forge::incident::intake::IntakeOptions;
use cacao_forge::plan::{self, Plan, PlanOptions, PlannedAction, Planner};
use clap::Args;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The incident: a serialized incident or intake report (JSON), or a raw input intake reads.
    file: PathBuf,
    /// The input format: auto, incident (serialized incident, list or intake report), text, syslog,
    /// access-log, jsonl, windows-event, ecs, wazuh, seed004 or mixed.
    #[arg(long, default_value = "auto")]
    format: String,
    /// Print the plan as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Techniques planned at most.
    #[arg(long, default_value_t = PlanOptions::default().top_k)]
    top_k: usize,
    /// Leave out techniques scoring below this (0 to 1).
    #[arg(long, default_value_t = PlanOptions::default().min_score)]
    min_score: f32,
    /// Leave out destructive actions (they are listed as dropped).
    #[arg(long)]
    no_destructive: bool,
    /// Keep only actions for this platform (linux, windows, macos, network, cloud), plus those for
    /// any platform; repeat for several. Default: every platform.
    #[arg(long = "platform", value_name = "PLATFORM", value_parser = parse_platform_arg)]
    platforms: Vec<Platform>,
    /// A setting the knowledge's commands use, e.g. --set idp_url=https://idp.example.org/api/v1.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_setting)]
    settings: Vec<(String, String)>,
    /// Plan only the incident with this id (inputs with several incidents, such as seed-004).
    #[arg(long)]
    incident: Option<String>,
    /// Observable values listed per kind, and commands rendered per action, at most.
    #[arg(long, default_value_t = PlanOptions::default().max_values)]
    max_values: usize,
    /// Largest accepted input, in bytes.
    #[arg(long, default_value_t = IntakeOptions::default().max_bytes)]
    max_bytes: usize,
    /// The year of RFC 3164 syslog times, which have none.
    #[arg(long)]
    year: Option<i32>,
}

fn parse_platform_arg(s: &str) -> Result<Platform, String> {
    plan::parse_platform(s)
        .ok_or_else(|| format!("unknown platform `{s}` (expected linux, windows, macos, network, cloud or any)"))
}

fn parse_setting(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once('=').ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    let name = name.trim();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err(format!("setting name `{name}` is not snake_case"));
    }
    Ok((name.to_string(), value.to_string()))
}

pub fn run(args: PlanArgs) -> Result<Outcome> {
    let file = args.file.display().to_string();
    if !(0.0..=1.0).contains(&args.min_score) {
        bail!("--min-score must be between 0 and 1, got {}", args.min_score);
    }
    if args.top_k == 0 {
        bail!("--top-k must be at least 1");
    }
    let mut input = read_incident_input(&args.file, &args.format, args.year, args.max_bytes)?;
    let incidents = select_incident(&args.file, std::mem::take(&mut input.incidents), args.incident.as_deref())?;
    let settings: BTreeMap<String, String> = args.settings.into_iter().collect();
    let planner = Planner::embedded(PlanOptions {
        top_k: args.top_k,
        min_score: args.min_score,
        include_destructive: !args.no_destructive,
        platforms: args.platforms,
        settings,
        max_values: args.max_values.max(1),
    });
    let plans: Vec<Plan> = incidents.iter().map(|i| planner.plan(i)).collect();
    if args.json {
        let doc = serde_json::json!({
            "file": file,
            "input": input.kind.to_string(),
            "plans": plans,
            "problems": input.problems,
        });
        print_out(&serde_json::to_string_pretty(&doc)?)?;
    } else {
        let mut out = String::new();
        for (n, p) in plans.iter().filter(|p| p.has_techniques()).enumerate() {
            if n > 0 {
                out.push_str("\n\n");
            }
            render_plan(&mut out, p);
        }
        if !input.problems.is_empty() {
            let _ =
                writeln!(out, "\n{} problem(s) reading {file} (warnings; see `intake {file}`)", input.problems.len());
        }
        print_out(&out)?;
    }
    let unplanned: Vec<&Plan> = plans.iter().filter(|p| !p.has_techniques()).collect();
    for p in &unplanned {
        eprintln!(
            "{file}: no ATT&CK technique mapped for incident {} ({}): no plan made (try a lower --min-score)",
            p.incident.id,
            clean(&p.incident.title)
        );
    }
    Ok(if unplanned.len() == plans.len() { Outcome::Rejected } else { Outcome::Success })
}

/// Writes to stdout; a closed pipe (`plan ... | head`) is not an error.
fn print_out(text: &str) -> Result<()> {
    match write_output(None, text) {
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) => {
            Ok(())
        }
        other => other,
    }
}

/// Control characters of incident values shown escaped, so a hostile value cannot drive the
/// terminal.
fn clean(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

fn markers(a: &PlannedAction) -> String {
    let mut m = Vec::new();
    if a.destructive {
        m.push("[destructive]");
    }
    m.push(if a.reversible { "[reversible]" } else { "[irreversible]" });
    if a.requires_approval {
        m.push("[needs approval]");
    }
    m.join(" ")
}

/// Writes `text` with every line indented by `indent`.
fn block(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{indent}{}", clean(line));
    }
}

fn render_plan(out: &mut String, p: &Plan) {
    let i = &p.incident;
    let _ = writeln!(out, "Mitigation plan for \"{}\" [{}]", clean(&i.title), clean(&i.id));
    let _ = writeln!(
        out,
        "  severity {}, read as {}, {} event(s), {} observable(s)",
        i.severity, i.format, i.events, i.observables
    );
    let _ = writeln!(out, "\nTechniques, in mapping order:");
    for (n, t) in p.techniques.iter().enumerate() {
        let tactics = if t.tactics.is_empty() { String::new() } else { format!(" ({})", t.tactics.join(", ")) };
        let _ = writeln!(out, "  {}. {} {}{tactics}, score {:.2}", n + 1, t.id, t.name, t.score);
        for e in t.evidence.iter().take(3) {
            let place = match (e.event, e.line) {
                (Some(ev), Some(line)) => format!("event {ev}, line {line}"),
                (Some(ev), None) => format!("event {ev}"),
                (None, _) => "title/description".to_string(),
            };
            let _ = writeln!(out, "     evidence ({place}): \"{}\" ({})", clean(&e.text), clean(&e.why));
        }
        if t.mitigations.is_empty() {
            let _ = writeln!(out, "     ATT&CK mitigations: none listed");
        } else {
            let ms: Vec<String> = t
                .mitigations
                .iter()
                .map(|m| format!("{} {}", m.id, m.name.as_deref().unwrap_or("(not in the catalog)")))
                .collect();
            let _ = writeln!(out, "     ATT&CK mitigations: {}", ms.join("; "));
        }
        if let Some(k) = &t.knowledge {
            let mut steps: Vec<usize> = t.actions.iter().map(|a| a.step).collect();
            steps.sort_unstable();
            steps.dedup();
            let steps: Vec<String> = steps.iter().map(usize::to_string).collect();
            let _ = writeln!(
                out,
                "     response knowledge: {} ({}); steps {}",
                k.key,
                k.name,
                if steps.is_empty() { "none kept".to_string() } else { steps.join(", ") }
            );
        }
        if let Some(note) = &t.note {
            let _ = writeln!(out, "     note: {note}");
        }
    }
    for phase in Phase::ALL {
        let steps: Vec<_> = p.steps_in(phase).collect();
        if steps.is_empty() {
            continue;
        }
        let title = phase.as_str();
        let _ = writeln!(out, "\n{}{}", title[..1].to_uppercase(), &title[1..]);
        for s in steps {
            let a = &s.action;
            let _ = writeln!(out, "  {}. {} {}", s.number, a.name, markers(a));
            let _ = writeln!(out, "     for: {} (action {} of {})", s.techniques.join(", "), a.id, a.knowledge);
            let _ = writeln!(out, "     why: {}", a.rationale);
            if let Some(m) = &a.mitigation {
                let _ = writeln!(out, "     implements: {} {}", m.id, m.name.as_deref().unwrap_or(""));
            }
            if !a.observables.is_empty() {
                let vals: Vec<String> = a
                    .observables
                    .iter()
                    .map(|o| {
                        let mut tags = Vec::new();
                        if !o.linked {
                            tags.push("not in the evidence");
                        }
                        if o.excluded.is_some() {
                            tags.push("excluded");
                        }
                        let tags = if tags.is_empty() { String::new() } else { format!(" ({})", tags.join(", ")) };
                        format!("{} {}{tags}", o.kind, clean(&o.value))
                    })
                    .collect();
                let more = if a.observables_omitted > 0 {
                    format!(", and {} more", a.observables_omitted)
                } else {
                    String::new()
                };
                let _ = writeln!(out, "     acts on: {}{more}", vals.join(", "));
            }
            let _ = writeln!(out, "     {} on {}:", a.command_type.as_str(), plan::platform_name(a.platform));
            if a.missing.is_empty() {
                let prompt = match a.command_type {
                    CommandType::Bash | CommandType::Ssh | CommandType::Powershell => "       $ ",
                    CommandType::HttpApi | CommandType::Openc2Http => "       > ",
                    CommandType::Manual => "       * ",
                };
                for c in &a.commands {
                    block(out, prompt, &c.command);
                    if let Some(u) = &c.undo {
                        block(out, "         undo: ", u);
                    }
                }
                if a.commands_omitted > 0 {
                    let _ = writeln!(
                        out,
                        "       ({} more target combination(s) not rendered; raise --max-values)",
                        a.commands_omitted
                    );
                }
            } else {
                let why: Vec<String> = a
                    .missing
                    .iter()
                    .map(|m| {
                        if m.setting {
                            format!("{} (give it with --set {}=VALUE)", m.note, m.name)
                        } else {
                            m.note.clone()
                        }
                    })
                    .collect();
                let _ = writeln!(out, "       not rendered: {}; template:", why.join("; "));
                block(out, "       | ", &a.template);
            }
            for sk in &a.skipped {
                let t: Vec<String> = sk.targets.iter().map(|(k, v)| format!("{k} `{}`", clean(v))).collect();
                let _ = writeln!(out, "       skipped {}: {}", t.join(", "), sk.reason);
            }
            if let Some(e) = &a.expect {
                let _ = writeln!(out, "     expect: {e}");
            }
        }
    }
    if let Some(b) = &p.baseline {
        let _ = writeln!(
            out,
            "\nBaseline host response for {} ({}): the generator merges these with the steps",
            cacao_forge::plan::platform_name(b.os),
            b.os_reason
        );
        for a in &b.actions {
            let rendered: Vec<String> = a.commands.iter().map(|c| clean(&c.command)).collect();
            let what = if rendered.is_empty() {
                "not rendered: no value in this incident".to_owned()
            } else {
                rendered.join(" | ")
            };
            let _ = writeln!(out, "  - {} [{}]: {what}", a.title.as_deref().unwrap_or(&a.name), a.phase.as_str());
        }
    }
    if !p.dropped.is_empty() {
        let _ = writeln!(out, "\nDropped ({}):", p.dropped.len());
        for d in &p.dropped {
            let _ = writeln!(
                out,
                "  - {} ({} of {}, for {}): {}",
                d.name,
                d.id,
                d.knowledge,
                d.techniques.join(", "),
                d.reason
            );
        }
    }
    if !p.missing_settings.is_empty() {
        let _ = writeln!(out, "\nSettings not configured:");
        for s in &p.missing_settings {
            let _ = writeln!(out, "  - {}: {} (--set {}=VALUE)", s.name, s.description, s.name);
        }
    }
    if !p.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for n in &p.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
}
