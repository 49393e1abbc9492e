//! `cacao-forge mitre import|sync|info|show|tactic`: the ATT&CK knowledge base.

use super::Outcome;
use anyhow::{Context, Result};
use cacao_forge::attack::sync::DEFAULT_MAX_BYTES;
use cacao_forge::attack::{Catalog, ImportReport, SyncOptions, Technique, DEFAULT_BUNDLE_URL};
use clap::{Args, Subcommand};
use serde_json::json;
use std::fmt::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct MitreArgs {
    #[command(subcommand)]
    command: MitreCommand,
}

#[derive(Debug, Subcommand)]
enum MitreCommand {
    /// Import STIX 2.1 ATT&CK bundles into compact catalog files (one per domain, facts only).
    Import {
        /// Bundle files (enterprise-attack.json, ics-attack.json, mobile-attack.json, ...).
        #[arg(required = true)]
        bundles: Vec<PathBuf>,
        /// Directory the catalog files are written to.
        #[arg(long, default_value = "mitre")]
        out: PathBuf,
        /// Largest accepted bundle, in bytes.
        #[arg(long, default_value_t = DEFAULT_MAX_BYTES)]
        max_bytes: u64,
        /// Print a JSON array of import reports.
        #[arg(long)]
        json: bool,
    },
    /// Download a newer bundle (or read --bundle offline), check it, and import it.
    Sync {
        /// Where to download the bundle from.
        #[arg(long, default_value = DEFAULT_BUNDLE_URL)]
        url: String,
        /// Import this local bundle instead of downloading.
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// Directory the catalog files are written to.
        #[arg(long, default_value = "mitre")]
        out: PathBuf,
        /// Whole-download timeout, in seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// Largest accepted bundle, in bytes.
        #[arg(long, default_value_t = DEFAULT_MAX_BYTES)]
        max_bytes: u64,
        /// Also keep the downloaded bundle at this path (outside the repository), for enrichment.
        #[arg(long)]
        save: Option<PathBuf>,
        /// Print the import report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// ATT&CK version, domains and counts of the catalog.
    Info {
        #[command(flatten)]
        source: CatalogArg,
        #[arg(long)]
        json: bool,
    },
    /// A technique by id (T1059.001) or name: tactics, platforms, parent and sub-techniques,
    /// mitigations, detection strategies.
    Show {
        /// Technique id, exact name, "Parent: Sub" name, or a name fragment with one match.
        query: String,
        #[command(flatten)]
        source: CatalogArg,
        #[arg(long)]
        json: bool,
    },
    /// A tactic (id, shortname or name) and its techniques.
    Tactic {
        name: String,
        /// Only this domain (enterprise, ics, mobile).
        #[arg(long)]
        domain: Option<String>,
        #[command(flatten)]
        source: CatalogArg,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct CatalogArg {
    /// Read catalog files from this directory instead of the embedded ones (e.g. after a sync).
    #[arg(long)]
    catalog: Option<PathBuf>,
}

impl CatalogArg {
    /// The catalog and where it came from. A loaded one lives for the rest of this short process.
    fn load(&self) -> Result<(&'static Catalog, String)> {
        Ok(match &self.catalog {
            Some(dir) => (Box::leak(Box::new(Catalog::from_dir(dir)?)), dir.display().to_string()),
            None => (Catalog::embedded(), "embedded".to_string()),
        })
    }
}

pub fn run(args: MitreArgs) -> Result<Outcome> {
    // Output is gathered and written once, so a closed pipe (`| head`) is an error, not a panic.
    let mut out = String::new();
    let outcome = run_into(&mut out, args)?;
    if !out.is_empty() {
        super::write_output(None, &out)?;
    }
    Ok(outcome)
}

fn run_into(w: &mut String, args: MitreArgs) -> Result<Outcome> {
    match args.command {
        MitreCommand::Import { bundles, out, max_bytes, json } => {
            let mut reports = Vec::new();
            for b in &bundles {
                let r = cacao_forge::attack::import_bundle_file(b, &out, max_bytes)
                    .with_context(|| format!("import of {} failed", b.display()))?;
                if !json {
                    print_report(w, &r)?;
                }
                reports.push(r);
            }
            if json {
                writeln!(w, "{}", serde_json::to_string_pretty(&reports)?)?;
            }
            Ok(Outcome::Success)
        }
        MitreCommand::Sync { url, bundle, out, timeout, max_bytes, save, json } => {
            let opts = SyncOptions { url, bundle, out, timeout: Duration::from_secs(timeout), max_bytes, save };
            let r = cacao_forge::attack::sync(&opts)?;
            if json {
                writeln!(w, "{}", serde_json::to_string_pretty(&r)?)?;
            } else {
                print_report(w, &r)?;
                if r.changed {
                    writeln!(
                        w,
                        "rebuild the binary to embed it, or pass --catalog {} to read it now",
                        opts.out.display()
                    )?;
                }
            }
            Ok(Outcome::Success)
        }
        MitreCommand::Info { source, json } => {
            let (c, from) = source.load()?;
            if json {
                let v = json!({"version": c.version(), "source": from, "domains": c.domains(), "totals": c.counts()});
                writeln!(w, "{}", serde_json::to_string_pretty(&v)?)?;
                return Ok(Outcome::Success);
            }
            writeln!(w, "ATT&CK {} ({from} catalog)", c.version())?;
            for d in c.domains() {
                let n = &d.counts;
                writeln!(
                    w,
                    "  {} ({} {}, {}): {} active techniques ({} sub-techniques), {} tactics, {} active mitigations, \
                     {} mitigates, {} detection strategies, {} analytics, {} data components, {} groups, {} software",
                    d.key,
                    d.name,
                    d.version,
                    d.modified.get(..10).unwrap_or(&d.modified),
                    n.active_techniques,
                    n.active_subtechniques,
                    n.tactics,
                    n.active_mitigations,
                    n.mitigates,
                    n.detection_strategies,
                    n.analytics,
                    n.data_components,
                    n.groups,
                    n.software
                )?;
            }
            Ok(Outcome::Success)
        }
        MitreCommand::Show { query, source, json } => {
            let (c, _) = source.load()?;
            let Some(t) = resolve(c, &query) else {
                return Ok(Outcome::Rejected);
            };
            if json {
                writeln!(w, "{}", serde_json::to_string_pretty(&show_json(c, t))?)?;
            } else {
                print_show(w, c, t)?;
            }
            Ok(Outcome::Success)
        }
        MitreCommand::Tactic { name, domain, source, json } => {
            let (c, _) = source.load()?;
            let tactics: Vec<_> = c
                .tactics_matching(&name)
                .into_iter()
                .filter(|t| domain.as_deref().is_none_or(|d| domain_is(&t.domain, d)))
                .collect();
            if tactics.is_empty() {
                let known: Vec<&str> = c.tactics().iter().map(|t| t.shortname.as_str()).collect();
                eprintln!("no tactic matches {name:?}; tactics: {}", dedup(known).join(", "));
                return Ok(Outcome::Rejected);
            }
            let listed: Vec<_> = tactics.iter().map(|t| (*t, c.techniques_for_tactic_in(&t.domain, &t.id))).collect();
            if json {
                let v: Vec<_> = listed
                    .iter()
                    .map(|(t, ts)| json!({"tactic": t, "techniques": ts.iter().map(|x| brief(x)).collect::<Vec<_>>()}))
                    .collect();
                writeln!(w, "{}", serde_json::to_string_pretty(&v)?)?;
            } else {
                for (t, ts) in listed {
                    writeln!(w, "{} {} ({}, {}): {} techniques", t.id, t.name, t.shortname, t.domain, ts.len())?;
                    for x in ts {
                        writeln!(w, "  {:<10} {}", x.id, x.name)?;
                    }
                }
            }
            Ok(Outcome::Success)
        }
    }
}

fn domain_is(key: &str, query: &str) -> bool {
    key.eq_ignore_ascii_case(query) || key.strip_suffix("-attack").is_some_and(|s| s.eq_ignore_ascii_case(query))
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Id, then exact or "Parent: Sub" name, then a fragment with exactly one match; otherwise says
/// what was found on stderr.
fn resolve<'c>(c: &'c Catalog, query: &str) -> Option<&'c Technique> {
    if let Some(t) = c.technique(query).or_else(|| c.technique_by_name(query)) {
        return Some(t);
    }
    let found = c.search(query);
    match found.len() {
        1 => Some(found[0]),
        0 => {
            eprintln!("no technique has the id or name {query:?}");
            None
        }
        n => {
            eprintln!("{n} techniques match {query:?}; name one:");
            for t in found.iter().take(30) {
                eprintln!("  {:<10} {}", t.id, full_name(c, t));
            }
            None
        }
    }
}

fn full_name(c: &Catalog, t: &Technique) -> String {
    match c.parent(&t.id) {
        Some(p) => format!("{}: {}", p.name, t.name),
        None => t.name.clone(),
    }
}

fn brief(t: &Technique) -> serde_json::Value {
    json!({"id": t.id, "name": t.name})
}

fn status(t: &Technique) -> String {
    match (&t.revoked_by, t.revoked, t.deprecated) {
        (Some(by), true, _) => format!("revoked (replaced by {by})"),
        (None, true, _) => "revoked".into(),
        (_, false, true) => "deprecated".into(),
        _ => "active".into(),
    }
}

fn show_json(c: &Catalog, t: &Technique) -> serde_json::Value {
    let own = c.mitigations_for(&t.id);
    let inherited: Vec<_> = c.mitigations_for_with_parent(&t.id).into_iter().filter(|l| l.via != t.id).collect();
    let detections: Vec<_> = c
        .detection_strategies_for(&t.id)
        .into_iter()
        .map(|d| {
            let analytics: Vec<_> = d
                .analytics
                .iter()
                .filter_map(|a| c.analytic(a))
                .map(|a| {
                    let dcs: Vec<_> = dedup(a.log_sources.iter().map(|(dc, _)| dc.as_str()).collect())
                        .into_iter()
                        .map(|dc| json!({"id": dc, "name": c.data_component(dc).map(|x| x.name.as_str())}))
                        .collect();
                    json!({"id": a.id, "platforms": a.platforms, "log_sources": a.log_sources, "data_components": dcs})
                })
                .collect();
            json!({"id": d.id, "name": d.name, "analytics": analytics})
        })
        .collect();
    json!({
        "technique": t,
        "full_name": full_name(c, t),
        "status": status(t),
        "tactics": c.tactics_of(t),
        "parent": c.parent(&t.id).map(brief),
        "subtechniques": c.subtechniques(&t.id).into_iter().map(brief).collect::<Vec<_>>(),
        "mitigations": own,
        "parent_mitigations": inherited,
        "detection_strategies": detections,
    })
}

fn print_show(w: &mut String, c: &Catalog, t: &Technique) -> std::fmt::Result {
    writeln!(w, "{} {} ({})", t.id, full_name(c, t), t.domain)?;
    writeln!(w, "  status:     {}", status(t))?;
    let tactics: Vec<String> = c.tactics_of(t).iter().map(|x| format!("{} ({})", x.name, x.id)).collect();
    writeln!(w, "  tactics:    {}", if tactics.is_empty() { "-".into() } else { tactics.join(", ") })?;
    writeln!(w, "  platforms:  {}", if t.platforms.is_empty() { "-".into() } else { t.platforms.join(", ") })?;
    if let Some(p) = c.parent(&t.id) {
        writeln!(w, "  parent:     {} {}", p.id, p.name)?;
    }
    let subs = c.subtechniques(&t.id);
    if !subs.is_empty() {
        writeln!(w, "  sub-techniques ({}):", subs.len())?;
        for s in subs {
            writeln!(w, "    {:<10} {}", s.id, s.name)?;
        }
    }
    let own = c.mitigations_for(&t.id);
    writeln!(w, "  mitigations ({}):", own.len())?;
    for m in own {
        writeln!(w, "    {:<10} {}", m.id, m.name)?;
    }
    let inherited: Vec<_> = c.mitigations_for_with_parent(&t.id).into_iter().filter(|l| l.via != t.id).collect();
    if !inherited.is_empty() {
        writeln!(w, "  mitigations of the parent ({}):", inherited.len())?;
        for l in inherited {
            writeln!(w, "    {:<10} {} (via {})", l.mitigation.id, l.mitigation.name, l.via)?;
        }
    }
    let dets = c.detection_strategies_for(&t.id);
    writeln!(w, "  detection strategies ({}):", dets.len())?;
    for d in dets {
        writeln!(w, "    {:<10} {}", d.id, d.name)?;
        for a in d.analytics.iter().filter_map(|a| c.analytic(a)) {
            let dcs: Vec<String> = dedup(a.log_sources.iter().map(|(dc, _)| dc.as_str()).collect())
                .into_iter()
                .map(|dc| format!("{dc} {}", c.data_component(dc).map_or("?", |x| x.name.as_str())))
                .collect();
            writeln!(w, "      {} [{}] {}", a.id, a.platforms.join(", "), dcs.join("; "))?;
        }
    }
    Ok(())
}

fn print_report(w: &mut String, r: &ImportReport) -> std::fmt::Result {
    let was = match (&r.previous_version, r.changed) {
        (_, false) => " (unchanged)".to_string(),
        (Some(v), true) => format!(" (was {v})"),
        (None, true) => " (new)".to_string(),
    };
    writeln!(
        w,
        "{}: {} ATT&CK {} -> {}{was}: {} active techniques, {} active mitigations, {} mitigates, {} bytes",
        r.source,
        r.domain,
        r.version,
        r.file.display(),
        r.counts.active_techniques,
        r.counts.active_mitigations,
        r.counts.mitigates,
        r.bytes
    )
}
