//! `cacao-forge train mapper [--sigma FILE] [--bundle FILE] [--out DIR] [--dev-out DIR]`: trains
//! the technique-mapping model from Sigma rules, our indicator rules and a full ATT&CK bundle,
//! writes models/mapper.{json,bin} and the held-out development sets, and prints the figures.

use super::Outcome;
use anyhow::{Context, Result};
use cacao_forge::attack::mapper::eval::{evaluate, LabelledText};
use cacao_forge::attack::mapper::train::{collect, train, write_dev_set, Origin, TrainOptions};
use cacao_forge::attack::mapper::Mapper;
use cacao_forge::attack::Catalog;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(subcommand)]
    what: TrainWhat,
}

#[derive(Debug, Subcommand)]
enum TrainWhat {
    /// The technique-mapping model (models/mapper.json + mapper.bin).
    Mapper(MapperArgs),
}

#[derive(Debug, Args)]
struct MapperArgs {
    /// Sigma rules as JSONL.
    #[arg(long, default_value = "../shared/sigma/sigma.jsonl")]
    sigma: PathBuf,
    /// A full ATT&CK Enterprise STIX bundle (for procedure examples).
    #[arg(long, default_value = "../shared/mitre/enterprise-attack.json")]
    bundle: PathBuf,
    /// Where the model is written.
    #[arg(long, default_value = "models")]
    out: PathBuf,
    /// Where the held-out development sets are written (dev-sigma.jsonl, dev-snippets.jsonl).
    #[arg(long, default_value = "target/mapper-dev")]
    dev_out: PathBuf,
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    epochs: usize,
    #[arg(long, default_value_t = TrainOptions::default().learning_rate)]
    learning_rate: f32,
    #[arg(long, default_value_t = TrainOptions::default().seed)]
    seed: u64,
    /// log2 of the number of feature hash buckets.
    #[arg(long, default_value_t = TrainOptions::default().features.bucket_bits)]
    bucket_bits: u32,
    /// Stored weights smaller than this are dropped.
    #[arg(long, default_value_t = TrainOptions::default().prune)]
    prune: f32,
    /// Most examples of one technique taken from one source.
    #[arg(long, default_value_t = TrainOptions::default().per_class_cap)]
    per_class_cap: usize,
    /// Percentage of Sigma rules and ATT&CK snippets held out for development.
    #[arg(long, default_value_t = TrainOptions::default().dev_percent)]
    dev_percent: u64,
    /// Leave a source out of training (repeatable; for ablations).
    #[arg(long)]
    skip: Vec<Origin>,
    /// Command lines synthesized per Sigma rule.
    #[arg(long, default_value_t = TrainOptions::default().per_rule)]
    per_rule: usize,
}

pub fn run(args: TrainArgs) -> Result<Outcome> {
    match args.what {
        TrainWhat::Mapper(a) => train_mapper(a),
    }
}

fn train_mapper(a: MapperArgs) -> Result<Outcome> {
    let defaults = TrainOptions::default();
    if !(8..=24).contains(&a.bucket_bits) {
        anyhow::bail!("--bucket-bits {} is outside 8..=24", a.bucket_bits);
    }
    let options = TrainOptions {
        sigma: a.sigma,
        bundle: a.bundle,
        features: cacao_forge::attack::mapper::features::FeatureConfig {
            bucket_bits: a.bucket_bits,
            ..defaults.features
        },
        epochs: a.epochs,
        learning_rate: a.learning_rate,
        seed: a.seed,
        per_class_cap: a.per_class_cap,
        dev_percent: a.dev_percent.min(100),
        prune: a.prune,
        skip: a.skip,
        per_rule: a.per_rule,
    };
    let catalog = Catalog::embedded();
    let corpus = collect(&options, catalog)?;
    for p in corpus.problems.iter().take(5) {
        tracing::warn!("{}: {p}", options.sigma.display());
    }
    eprintln!(
        "corpus: {} training examples, {} held-out Sigma lines, {} held-out ATT&CK snippets",
        corpus.train.len(),
        corpus.dev_sigma.len(),
        corpus.dev_snippets.len()
    );
    let (model, report) = train(&corpus, &options)?;
    model.write_dir(&a.out).with_context(|| format!("writing the model to {}", a.out.display()))?;
    let sigma_path = a.dev_out.join("dev-sigma.jsonl");
    let snippets_path = a.dev_out.join("dev-snippets.jsonl");
    write_dev_set(&sigma_path, &corpus.dev_sigma).with_context(|| format!("cannot write {}", sigma_path.display()))?;
    write_dev_set(&snippets_path, &corpus.dev_snippets)
        .with_context(|| format!("cannot write {}", snippets_path.display()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);

    // Figures of the new model on the held-out sets, with the rules fused as in production.
    let mapper = Mapper::embedded().with_model(model);
    for (name, set) in [("held-out Sigma lines", &corpus.dev_sigma), ("held-out ATT&CK snippets", &corpus.dev_snippets)]
    {
        let rows: Vec<LabelledText> = set.iter().map(LabelledText::from).collect();
        let (figures, _) = evaluate(&mapper, &rows);
        println!(
            "{name}: {} cases over {} techniques: top-1 {:.3}, top-5 {:.3}",
            figures.cases, figures.techniques, figures.top1, figures.top5
        );
    }
    println!("model written to {}; development sets in {}", a.out.display(), a.dev_out.display());
    Ok(Outcome::Success)
}
