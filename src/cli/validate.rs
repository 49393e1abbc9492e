//! `cacao-forge validate FILE|DIR...`

use super::{LimitArgs, Outcome};
use anyhow::{Context, Result};
use cacao_forge::cacao::{LoadError, Report, Validator};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Playbook files, or directories searched recursively for *.json.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print a JSON array of {file, valid, findings} instead of text.
    #[arg(long)]
    json: bool,
    /// Print only files with findings.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Serialize)]
struct FileReport<'a> {
    file: String,
    valid: bool,
    errors: usize,
    warnings: usize,
    findings: &'a [cacao_forge::Finding],
}

pub fn run(args: ValidateArgs) -> Result<Outcome> {
    let files = collect_files(&args.paths)?;
    let validator = Validator::new(args.limits.limits());
    let mut reports = Vec::with_capacity(files.len());
    for file in &files {
        // A file over the limit is a finding about that file (not read at all), not a failed run.
        let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
        let limit = validator.limits().max_bytes;
        let report = if size > limit as u64 {
            LoadError::TooLarge { size: usize::try_from(size).unwrap_or(usize::MAX), limit }.into()
        } else {
            let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            validator.validate_bytes(&bytes)
        };
        reports.push((file, report));
    }
    let any_error = reports.iter().any(|(_, r)| !r.is_valid());
    if args.json {
        let out: Vec<FileReport> = reports.iter().map(|(f, r)| file_report(f, r)).collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_human(&reports, args.quiet);
    }
    Ok(if any_error { Outcome::Rejected } else { Outcome::Success })
}

fn file_report<'a>(file: &Path, r: &'a Report) -> FileReport<'a> {
    FileReport {
        file: file.display().to_string(),
        valid: r.is_valid(),
        errors: r.errors().count(),
        warnings: r.warnings().count(),
        findings: &r.findings,
    }
}

fn print_human(reports: &[(&PathBuf, Report)], quiet: bool) {
    let (mut valid, mut invalid) = (0, 0);
    for (file, r) in reports {
        let (errors, warnings) = (r.errors().count(), r.warnings().count());
        if r.is_valid() {
            valid += 1;
        } else {
            invalid += 1;
        }
        if quiet && r.findings.is_empty() {
            continue;
        }
        let verdict = if r.is_valid() { "valid" } else { "INVALID" };
        println!("{}: {verdict} ({errors} errors, {warnings} warnings)", file.display());
        for f in &r.findings {
            println!("  {f}");
        }
    }
    if reports.len() > 1 {
        println!("{} files: {valid} valid, {invalid} invalid", reports.len());
    }
}

/// Expands directories into their *.json files (recursively, sorted), keeps files as given.
fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            let mut stack = vec![path.clone()];
            let mut found = Vec::new();
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
                    let p = entry?.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|e| e == "json") {
                        found.push(p);
                    }
                }
            }
            found.sort();
            if found.is_empty() {
                anyhow::bail!("{} contains no .json files", path.display());
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}
