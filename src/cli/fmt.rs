//! `cacao-forge fmt FILE...`: canonical form (spec property order, workflow order kept, 2-space
//! indent). Lossless: unknown properties and extension data are kept.

use super::{read_limited, LimitArgs, Outcome};
use anyhow::{Context, Result};
use cacao_forge::cacao::{load, Playbook};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Playbook files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Rewrite the files in place instead of printing.
    #[arg(long, short, conflicts_with = "check")]
    write: bool,
    /// Print the files that are not in canonical form and exit 1 if any; change nothing.
    #[arg(long)]
    check: bool,
    /// With --check: print a JSON list of the files that would change.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

pub fn run(args: FmtArgs) -> Result<Outcome> {
    let limits = args.limits.limits();
    let mut changed = Vec::new();
    for file in &args.files {
        let bytes = read_limited(file, limits.max_bytes)?;
        let doc = load::parse_document(&bytes, &limits).with_context(|| format!("{}", file.display()))?;
        let playbook = Playbook::from_document(&doc)
            .with_context(|| format!("{} does not fit the CACAO model", file.display()))?;
        let mut text = serde_json::to_string_pretty(&playbook)?;
        text.push('\n');
        if args.check {
            if text.as_bytes() != bytes.as_slice() {
                changed.push(file.display().to_string());
            }
        } else if args.write {
            if text.as_bytes() != bytes.as_slice() {
                std::fs::write(file, &text).with_context(|| format!("cannot write {}", file.display()))?;
                changed.push(file.display().to_string());
            }
        } else {
            print!("{text}");
        }
    }
    if args.check || args.write {
        if args.json {
            println!("{}", serde_json::to_string_pretty(&changed)?);
        } else {
            let verb = if args.check { "would reformat" } else { "reformatted" };
            for f in &changed {
                println!("{verb} {f}");
            }
        }
    }
    Ok(if args.check && !changed.is_empty() { Outcome::Rejected } else { Outcome::Success })
}
