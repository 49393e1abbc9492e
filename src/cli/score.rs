//! `cacao-forge score --reference R --candidate C` and `score --dataset FILE --candidates DIR`.

use super::{read_limited, LimitArgs, Outcome};
use anyhow::{Context, Result};
use cacao_forge::cacao::load;
use cacao_forge::score::{self, ScoreOptions};
use clap::Args;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["reference", "dataset"])))]
pub struct ScoreArgs {
    /// The reference playbook.
    #[arg(long, requires = "candidate")]
    reference: Option<PathBuf>,
    /// The candidate playbook scored against the reference.
    #[arg(long, requires = "reference")]
    candidate: Option<PathBuf>,
    /// Expected mitigation step names, one per line (for mitigation recall).
    #[arg(long, requires = "reference")]
    mitigations: Option<PathBuf>,
    /// Batch mode: a dataset file in the seed-004 format (references and expected mitigations).
    #[arg(long, requires = "candidates", conflicts_with_all = ["reference", "candidate", "mitigations"])]
    dataset: Option<PathBuf>,
    /// Batch mode: the directory holding `<incident_key>.json` for each dataset record.
    #[arg(long, requires = "dataset")]
    candidates: Option<PathBuf>,
    /// Token-set Jaccard similarity at or above which two steps match.
    #[arg(long, default_value_t = score::DEFAULT_THRESHOLD)]
    threshold: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

pub fn run(args: ScoreArgs) -> Result<Outcome> {
    if !(0.0..=1.0).contains(&args.threshold) {
        anyhow::bail!("--threshold must be between 0 and 1, got {}", args.threshold);
    }
    let opts = ScoreOptions { threshold: args.threshold };
    match (&args.reference, &args.candidate, &args.dataset, &args.candidates) {
        (Some(r), Some(c), _, _) => pair(&args, r, c, &opts),
        (_, _, Some(d), Some(dir)) => batch(&args, d, dir, &opts),
        _ => unreachable!("clap requires one complete mode"),
    }
}

fn read_doc(path: &Path, args: &ScoreArgs) -> Result<Value> {
    let limits = args.limits.limits();
    let bytes = read_limited(path, limits.max_bytes)?;
    load::parse_document(&bytes, &limits).with_context(|| format!("{}", path.display()))
}

fn pair(args: &ScoreArgs, reference: &Path, candidate: &Path, opts: &ScoreOptions) -> Result<Outcome> {
    let reference = read_doc(reference, args)?;
    let candidate = read_doc(candidate, args)?;
    let expected: Option<Vec<String>> = match &args.mitigations {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        None => None,
    };
    let s = score::score(&reference, &candidate, expected.as_deref(), opts);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(Outcome::Success);
    }
    println!("{:<16} {:>8} {:>10} {:>8}", "", "recall", "precision", "F1");
    println!("{:<16} {:>8.3} {:>10.3} {:>8.3}", "nodes", s.node_recall, s.node_precision, s.node_f1);
    println!("{:<16} {:>8.3} {:>10.3} {:>8.3}", "edges", s.edge_recall, s.edge_precision, s.edge_f1);
    println!(
        "{:<16} {:>8.3} {:>10.3} {:>8.3}",
        "nodes (exact)", s.exact.node_recall, s.exact.node_precision, s.exact.node_f1
    );
    println!(
        "{:<16} {:>8.3} {:>10.3} {:>8.3}",
        "edges (exact)", s.exact.edge_recall, s.exact.edge_precision, s.exact.edge_f1
    );
    if let Some(m) = s.mitigation_recall {
        println!("mitigation recall {m:.3}");
    }
    println!("matched steps (threshold {}):", opts.threshold);
    for m in &s.matches {
        println!("  {:.2}  {}  <->  {}", m.similarity, m.reference, m.candidate);
    }
    Ok(Outcome::Success)
}

fn batch(args: &ScoreArgs, dataset: &Path, dir: &Path, opts: &ScoreOptions) -> Result<Outcome> {
    if !dir.is_dir() {
        anyhow::bail!("--candidates {} is not a directory", dir.display());
    }
    let data = score::read_dataset(dataset)?;
    for problem in &data.problems {
        eprintln!("warning: {}: {problem}", dataset.display());
    }
    if data.records.is_empty() {
        anyhow::bail!("{} holds no usable records", dataset.display());
    }
    let summary = score::score_dir(&data.records, dir, opts);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", score::render_table(&summary));
    }
    Ok(Outcome::Success)
}
