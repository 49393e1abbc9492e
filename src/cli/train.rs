//! `cacao-forge train mapper [--sigma FILE] [--bundle FILE] [--out DIR] [--dev-out DIR]`: trains
//! the technique-mapping model from Sigma rules, our indicator rules and a full ATT&CK bundle,
//! writes models/mapper.{json,bin} and the held-out development sets, and prints the figures.
//!
//! `cacao-forge train threat-encoder [--data FILE] [--dev FILE] [--out DIR] ...`: trains the
//! transformer member of the threat model, drawing a progress line on stderr, and prints the
//! training report.

use super::Outcome;
use anyhow::{Context, Result};
use cacao_forge::attack::mapper::eval::{evaluate, LabelledText};
use cacao_forge::attack::mapper::train::{collect, train, write_dev_set, Origin, TrainOptions};
use cacao_forge::attack::mapper::Mapper;
use cacao_forge::attack::Catalog;
use cacao_forge::threat::corpus::CorpusOptions;
use cacao_forge::threat::encoder::train::{train_encoder, EncoderTrainOptions, TrainProgress};
use cacao_forge::threat::encoder::Activation;
use cacao_forge::threat::ngram::NgramTrainOptions;
use cacao_forge::threat::train::{train_threat_model, ThreatTrainOptions};
use cacao_forge::threat::ThreatExample;
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
    /// The whole threat model: corpus, n-gram members, encoder, ensemble weights, calibration
    /// (models/threat/).
    Threat(ThreatArgs),
    /// The transformer member of the threat model alone (config.json, model.safetensors, tokenizer.json).
    ThreatEncoder(ThreatEncoderArgs),
}

#[derive(Debug, Args)]
struct ThreatArgs {
    /// The shared labelled texts (`{"text","label","threat_type"}` JSONL).
    #[arg(long, default_value = "../shared/threat/train.jsonl")]
    data: PathBuf,
    /// Where the model directory is written (threat.json, encoder/, ngram-a.bin, ngram-b.bin).
    #[arg(long, default_value = "models/threat")]
    out: PathBuf,
    /// Least synthetic examples per label (rare labels get more; see `synth threat`).
    #[arg(long, default_value_t = CorpusOptions::default().synth_per_label)]
    synth_per_label: usize,
    /// Seed of the synthetic data, the splits and every member.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Train only the n-gram members (seconds instead of minutes).
    #[arg(long)]
    no_encoder: bool,
    /// Epochs of each n-gram member.
    #[arg(long, default_value_t = NgramTrainOptions::default().epochs)]
    ngram_epochs: usize,
    /// Epochs of the encoder (early stopping may end sooner).
    #[arg(long, default_value_t = EncoderTrainOptions::default().epochs)]
    epochs: usize,
    /// Train each member on at most this many examples (a quick run; taken evenly).
    #[arg(long)]
    max_examples: Option<usize>,
    /// Where the encoder's checkpoints (epoch-NNN/, best/) are written.
    #[arg(long, default_value = "target/threat-checkpoints")]
    checkpoints: PathBuf,
    /// Model id reported in every verdict.
    #[arg(long, default_value = "cacao-forge-threat-v1")]
    model_id: String,
}

fn train_threat(a: ThreatArgs) -> Result<Outcome> {
    super::single_threaded_candle();
    let options = ThreatTrainOptions {
        corpus: CorpusOptions {
            shared_train: Some(a.data.clone()),
            synth_per_label: a.synth_per_label,
            seed: a.seed,
            ..CorpusOptions::default()
        },
        encoder: EncoderTrainOptions {
            epochs: a.epochs,
            seed: a.seed,
            checkpoint_dir: Some(a.checkpoints.clone()),
            ..EncoderTrainOptions::default()
        },
        with_encoder: !a.no_encoder,
        ngram_epochs: a.ngram_epochs,
        max_examples: a.max_examples,
        model_id: a.model_id,
        out_dir: a.out.clone(),
    };
    let mut line = ProgressLine::default();
    let report = train_threat_model(&options, &mut |p| line.show(p), &mut |m| eprintln!("{m}"))?;
    println!("{}", report.test.summary("held-out test split"));
    eprintln!("model written to {} in {:.0} s", a.out.display(), report.seconds);
    Ok(Outcome::Success)
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
        TrainWhat::Threat(a) => train_threat(a),
        TrainWhat::ThreatEncoder(a) => train_threat_encoder(a),
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

#[derive(Debug, Args)]
struct ThreatEncoderArgs {
    /// Labelled examples as JSONL (`{"text","label","threat_type","source"}`).
    #[arg(long, default_value = "../shared/threat/train.jsonl")]
    data: PathBuf,
    /// Development examples; without it a hashed share of --data is held out (--dev-percent).
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Percentage of --data held out for development when --dev is not given (by text hash).
    #[arg(long, default_value_t = 10)]
    dev_percent: u64,
    /// Where the model is written.
    #[arg(long, default_value = "models/threat-encoder")]
    out: PathBuf,
    /// Where a checkpoint per epoch (epoch-NNN/) and the best one (best/) are written.
    #[arg(long, default_value = "target/threat-encoder-checkpoints")]
    checkpoints: PathBuf,
    /// Continue from a checkpoint directory (epoch-NNN/); its config and tokenizer are kept.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Train on at most this many examples of --data (a quick run; taken evenly).
    #[arg(long)]
    max_examples: Option<usize>,
    #[arg(long, default_value_t = EncoderTrainOptions::default().epochs)]
    epochs: usize,
    #[arg(long, default_value_t = EncoderTrainOptions::default().seed)]
    seed: u64,
    #[arg(long, default_value_t = EncoderTrainOptions::default().batch_size)]
    batch_size: usize,
    #[arg(long, default_value_t = EncoderTrainOptions::default().learning_rate)]
    learning_rate: f64,
    #[arg(long, default_value_t = EncoderTrainOptions::default().patience)]
    patience: usize,
    #[arg(long, default_value_t = EncoderTrainOptions::default().dropout)]
    dropout: f32,
    /// Probability of leaving a token out of a training text.
    #[arg(long, default_value_t = EncoderTrainOptions::default().token_dropout)]
    token_dropout: f32,
    #[arg(long, default_value_t = EncoderTrainOptions::default().vocab_size)]
    vocab_size: usize,
    #[arg(long, default_value_t = EncoderTrainOptions::default().d_model)]
    d_model: usize,
    #[arg(long, default_value_t = EncoderTrainOptions::default().layers)]
    layers: usize,
    #[arg(long, default_value_t = EncoderTrainOptions::default().heads)]
    heads: usize,
    #[arg(long, default_value_t = EncoderTrainOptions::default().ffn_dim)]
    ffn_dim: usize,
    /// Feed-forward non-linearity: relu or gelu.
    #[arg(long, default_value = "relu", value_parser = parse_activation)]
    activation: Activation,
    /// Most tokens read from one text (head and tail of longer ones).
    #[arg(long, default_value_t = EncoderTrainOptions::default().max_len)]
    max_len: usize,
    /// Model name with version (the classifier id is encoder/<name>).
    #[arg(long, default_value_t = EncoderTrainOptions::default().name)]
    name: String,
}

fn train_threat_encoder(a: ThreatEncoderArgs) -> Result<Outcome> {
    // candle's worker threads spin at a barrier after every tensor op: on a small or shared
    // machine one thread trains 2-3x faster than two. Set before candle's first op reads it;
    // no other thread runs yet. An explicit setting wins.
    super::single_threaded_candle();
    let mut data = read_examples(&a.data)?;
    let dev = match &a.dev {
        Some(path) => read_examples(path)?,
        None => {
            let (dev, train): (Vec<_>, Vec<_>) =
                data.into_iter().partition(|e| held_out_by_hash(&e.text, a.dev_percent.min(100)));
            data = train;
            dev
        }
    };
    if let Some(limit) = a.max_examples.filter(|&m| m > 0 && m < data.len()) {
        let stride = data.len() as f64 / limit as f64;
        data = (0..limit).map(|i| data[(i as f64 * stride) as usize].clone()).collect();
    }
    let options = EncoderTrainOptions {
        name: a.name,
        vocab_size: a.vocab_size,
        d_model: a.d_model,
        layers: a.layers,
        heads: a.heads,
        ffn_dim: a.ffn_dim,
        activation: a.activation,
        max_len: a.max_len,
        epochs: a.epochs,
        batch_size: a.batch_size,
        learning_rate: a.learning_rate,
        dropout: a.dropout,
        token_dropout: a.token_dropout,
        patience: a.patience,
        seed: a.seed,
        checkpoint_dir: Some(a.checkpoints.clone()),
        resume: a.resume,
        ..EncoderTrainOptions::default()
    };
    eprintln!("threat encoder: {} training examples, {} development examples", data.len(), dev.len());
    let mut line = ProgressLine::default();
    let (model, report) = train_encoder(&data, &dev, &options, &mut |p| line.show(p))?;
    model.write_dir(&a.out).with_context(|| format!("writing the model to {}", a.out.display()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "model written to {} ({} parameters, {:.1} MB of weights); checkpoints in {}",
        a.out.display(),
        report.parameters,
        report.weight_bytes as f64 / 1e6,
        a.checkpoints.display()
    );
    Ok(Outcome::Success)
}

fn parse_activation(s: &str) -> Result<Activation, String> {
    serde_json::from_value(serde_json::Value::String(s.to_ascii_lowercase()))
        .map_err(|_| format!("unknown activation {s:?}; expected relu or gelu"))
}

fn read_examples(path: &std::path::Path) -> Result<Vec<ThreatExample>> {
    // The error names the file and already reads "path: cause"; flattened so the cause is said once.
    cacao_forge::threat::corpus::read_examples(path).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Deterministic dev membership by FNV-1a hash of the text, so a text and its duplicates fall on
/// the same side.
fn held_out_by_hash(text: &str, percent: u64) -> bool {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3));
    (hash ^ (hash >> 29)) % 100 < percent
}

/// The one-line progress display on stderr: epoch, step, loss, rate and time left.
#[derive(Default)]
struct ProgressLine {
    started: Option<std::time::Instant>,
    steps_done: usize,
    last_draw: Option<std::time::Instant>,
}

impl ProgressLine {
    fn show(&mut self, p: &TrainProgress) {
        match p {
            TrainProgress::Tokenizer { vocab_size, seconds } => {
                eprintln!("tokenizer: {vocab_size} tokens ({seconds:.1} s)");
            }
            TrainProgress::Step { epoch, epochs, step, steps, loss, examples_per_second } => {
                let started = *self.started.get_or_insert_with(std::time::Instant::now);
                self.steps_done += 1;
                let now = std::time::Instant::now();
                if self.last_draw.is_some_and(|t| now.duration_since(t).as_millis() < 250) && step != steps {
                    return;
                }
                self.last_draw = Some(now);
                // Steps left assume every remaining epoch runs (early stopping only shortens it).
                let left = (epochs - epoch) * steps + (steps - step);
                let per_step = started.elapsed().as_secs_f64() / self.steps_done as f64;
                let eta = (left as f64 * per_step) as u64;
                eprint!(
                    "\repoch {epoch}/{epochs} step {step}/{steps} loss {loss:.4} {examples_per_second:.0} ex/s ETA {}m{:02}s   ",
                    eta / 60,
                    eta % 60
                );
            }
            TrainProgress::Epoch(e) => {
                let dev = e.dev.as_ref().map_or("no dev set".to_string(), |d| {
                    format!(
                        "dev loss {:.4} acc {:.4} macro-F1 {:.4} binary F1 {:.4}",
                        d.loss, d.accuracy, d.macro_f1, d.binary_f1
                    )
                });
                let mark = if e.best { " *" } else { "" };
                eprintln!(
                    "\repoch {} train loss {:.4} {dev} ({:.0} s){mark}                    ",
                    e.epoch, e.train_loss, e.seconds
                );
            }
        }
    }
}
