//! `cacao-forge synth threat [--count N] [--seed S] [--label L ...] [-o FILE]`: synthetic
//! labelled texts for the threat model as JSONL in the shared format, and
//! `cacao-forge synth corpus --out-dir DIR`: the shared rows joined with synthetic ones, split
//! into train/dev/test files. Counts go to stderr.

use super::{write_output, Outcome};
use anyhow::{Context, Result};
use cacao_forge::threat::corpus::{build_corpus, example_row, CorpusOptions};
use cacao_forge::threat::synth::{generate, SynthOptions, MAX_PER_LABEL};
use cacao_forge::threat::{ThreatExample, ThreatType, LABELS};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SynthArgs {
    #[command(subcommand)]
    what: SynthWhat,
}

#[derive(Debug, Subcommand)]
enum SynthWhat {
    /// Synthetic labelled texts for every threat label (JSONL: text, label, threat_type, source).
    Threat(ThreatArgs),
    /// The training corpus: shared rows plus synthetic rows, deduplicated, split train/dev/test.
    Corpus(CorpusArgs),
    /// Synthetic incidents with reference playbooks, in the seed-004 dataset format (the
    /// references are the planner's own playbooks: for tests and fine-tuning, not for judging).
    Incidents(IncidentsArgs),
}

#[derive(Debug, Args)]
struct IncidentsArgs {
    /// Records to write.
    #[arg(long, default_value_t = cacao_forge::generate::synth::SynthIncidentOptions::default().count)]
    count: usize,
    #[arg(long, default_value_t = cacao_forge::generate::synth::SynthIncidentOptions::default().seed)]
    seed: u64,
    /// Only this technique (repeatable; parent or sub-technique id).
    #[arg(long = "technique")]
    techniques: Vec<String>,
    /// Output file (default stdout).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ThreatArgs {
    /// Examples per label.
    #[arg(long, default_value_t = SynthOptions::default().per_label)]
    count: usize,
    #[arg(long, default_value_t = SynthOptions::default().seed)]
    seed: u64,
    /// Only these labels (repeatable; default all).
    #[arg(long = "label")]
    labels: Vec<ThreatType>,
    /// Output file (default stdout).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CorpusArgs {
    /// The shared training file.
    #[arg(long, default_value = "../shared/threat/train.jsonl")]
    shared: PathBuf,
    /// Synthetic rows only (no shared file).
    #[arg(long)]
    no_shared: bool,
    /// Least synthetic rows per label (thin labels and benign get more; see synth_counts).
    #[arg(long, default_value_t = CorpusOptions::default().synth_per_label)]
    count: usize,
    #[arg(long, default_value_t = CorpusOptions::default().seed)]
    seed: u64,
    #[arg(long, default_value_t = CorpusOptions::default().dev_fraction)]
    dev_fraction: f32,
    #[arg(long, default_value_t = CorpusOptions::default().test_fraction)]
    test_fraction: f32,
    /// Directory for train.jsonl, dev.jsonl and test.jsonl.
    #[arg(long)]
    out_dir: PathBuf,
}

pub fn run(args: SynthArgs) -> Result<Outcome> {
    match args.what {
        SynthWhat::Threat(a) => threat(a),
        SynthWhat::Corpus(a) => corpus(a),
        SynthWhat::Incidents(a) => incidents(a),
    }
}

fn incidents(a: IncidentsArgs) -> Result<Outcome> {
    use cacao_forge::generate::synth::{synth_incidents, SynthIncidentOptions};
    let dataset = synth_incidents(&SynthIncidentOptions { count: a.count, seed: a.seed, techniques: a.techniques })?;
    write_output(a.output.as_deref(), &(serde_json::to_string_pretty(&dataset)? + "\n"))?;
    Ok(Outcome::Success)
}

fn check_count(count: usize) -> Result<()> {
    if count > MAX_PER_LABEL {
        anyhow::bail!("--count {count} is over the limit of {MAX_PER_LABEL} per label");
    }
    Ok(())
}

fn jsonl(rows: &[ThreatExample]) -> String {
    let mut out = String::new();
    for e in rows {
        out.push_str(&example_row(e).to_string());
        out.push('\n');
    }
    out
}

fn threat(a: ThreatArgs) -> Result<Outcome> {
    check_count(a.count)?;
    let rows = generate(&SynthOptions { per_label: a.count, seed: a.seed, labels: a.labels });
    write_output(a.output.as_deref(), &jsonl(&rows))?;
    let mut counts = [0usize; LABELS.len()];
    for e in &rows {
        counts[e.threat_type.index()] += 1;
    }
    for label in LABELS {
        if counts[label.index()] > 0 {
            eprintln!("{:<22} {:>7}", label.as_str(), counts[label.index()]);
        }
    }
    eprintln!("{:<22} {:>7}", "total", rows.len());
    Ok(Outcome::Success)
}

fn corpus(a: CorpusArgs) -> Result<Outcome> {
    check_count(a.count)?;
    let opts = CorpusOptions {
        shared_train: if a.no_shared { None } else { Some(a.shared) },
        synth_per_label: a.count,
        seed: a.seed,
        dev_fraction: a.dev_fraction,
        test_fraction: a.test_fraction,
    };
    let corpus = build_corpus(&opts)?;
    std::fs::create_dir_all(&a.out_dir).with_context(|| format!("cannot create {}", a.out_dir.display()))?;
    for (name, rows) in corpus.splits() {
        let path = a.out_dir.join(format!("{name}.jsonl"));
        std::fs::write(&path, jsonl(rows)).with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprint!("{}", corpus.summary().table());
    eprintln!("written to {}", a.out_dir.display());
    Ok(Outcome::Success)
}
