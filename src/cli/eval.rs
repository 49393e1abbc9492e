//! `cacao-forge eval mapper --data FILE.jsonl [--json] [--predictions OUT.jsonl]`: ranks every
//! labelled command line and prints top-1/top-5 accuracy and a confusion summary. Predictions are
//! written one row per input row, in input order: `{"techniques": ["T1059", ...]}`.

use super::{read_limited, write_output, Outcome};
use anyhow::{Context, Result};
use cacao_forge::attack::mapper::eval::{evaluate, read_rows};
use cacao_forge::attack::mapper::model::LinearModel;
use cacao_forge::attack::mapper::{Mapper, MapperConfig};
use cacao_forge::attack::Enrichment;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    what: EvalWhat,
}

#[derive(Debug, Subcommand)]
enum EvalWhat {
    /// Technique mapping of command lines: rows {"text": ..., "technique_id": "T1059.001"}.
    Mapper(MapperArgs),
    /// The threat model: rows {"text", "label": "threat"|"benign", "threat_type"}.
    Threat(ThreatArgs),
    /// Playbook generation over a seed-004-format dataset, scored against its reference playbooks.
    Generate(GenerateEvalArgs),
}

#[derive(Debug, Args)]
struct GenerateEvalArgs {
    /// The dataset: a JSON list of {"<incident_key>": {technique_id, incident_description,
    /// attack_logs, ground_truth_mitigations, playbook}} records (the generator sees only the
    /// technique, description and logs).
    #[arg(long)]
    data: PathBuf,
    /// Write each generated playbook as DIR/<incident_key>.json.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    /// Skip the threat model (no threat-type fallback when the mapper finds nothing).
    #[arg(long)]
    no_threat_model: bool,
    /// Largest accepted dataset file, in bytes.
    #[arg(long, default_value_t = 256 << 20)]
    max_bytes: usize,
    #[command(flatten)]
    backend: super::generate::BackendArgs,
}

#[derive(Debug, Args)]
struct ThreatArgs {
    /// Labelled rows as JSONL.
    #[arg(long)]
    data: PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    /// Write one {"is_threat", "threat_type", "confidence"} row per input row here (JSONL, input order).
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Largest accepted data file, in bytes.
    #[arg(long, default_value_t = 256 << 20)]
    max_bytes: usize,
    #[command(flatten)]
    detector: super::detect::DetectorArgs,
}

#[derive(Debug, Args)]
struct MapperArgs {
    /// Labelled rows as JSONL.
    #[arg(long)]
    data: PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    /// Write the ranked techniques of each row here (JSONL, input order).
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Techniques ranked per row (at least 5 are always written).
    #[arg(long, default_value_t = 5)]
    top_k: usize,
    /// Use the model in this directory (mapper.json + mapper.bin) instead of the embedded one.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Weight of the indicator rules against the model, in [0, 1] (1 = rules only, 0 = model only).
    #[arg(long, default_value_t = MapperConfig::default().rule_weight)]
    rule_weight: f32,
    /// A full ATT&CK bundle whose descriptions and procedure examples enrich mapping at run time.
    #[arg(long, env = "CACAO_FORGE_BUNDLE")]
    bundle: Option<PathBuf>,
    /// Share of the model's probabilities given to the procedure similarity (with --bundle).
    #[arg(long, default_value_t = MapperConfig::default().procedure_weight)]
    procedure_weight: f32,
    /// Largest accepted data file, in bytes.
    #[arg(long, default_value_t = 256 << 20)]
    max_bytes: usize,
}

pub fn run(args: EvalArgs) -> Result<Outcome> {
    match args.what {
        EvalWhat::Mapper(a) => eval_mapper(a),
        EvalWhat::Threat(a) => eval_threat(a),
        EvalWhat::Generate(a) => eval_generate(a),
    }
}

fn eval_threat(a: ThreatArgs) -> Result<Outcome> {
    let bytes = read_limited(&a.data, a.max_bytes)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!("{} is not UTF-8 (first bad byte at offset {})", a.data.display(), e.utf8_error().valid_up_to())
    })?;
    let rows = cacao_forge::threat::corpus::parse_examples(&text, &a.data.display().to_string())?;
    let detector = a.detector.detector()?;
    let (report, verdicts) = cacao_forge::threat::eval::evaluate(&detector, &rows)?;
    if let Some(path) = &a.predictions {
        let mut out = String::with_capacity(verdicts.len() * 64);
        for v in &verdicts {
            let label = if v.is_threat && !v.typed { "unclassified".to_string() } else { v.label().to_string() };
            let row = serde_json::json!({"is_threat": v.is_threat, "threat_type": label, "confidence": v.confidence});
            out.push_str(&row.to_string());
            out.push('\n');
        }
        std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let printed = if a.json {
        let mut v = serde_json::to_value(&report)?;
        v["model"] = detector.model_id().into();
        v["threshold"] = detector.options().threshold.into();
        serde_json::to_string_pretty(&v)?
    } else {
        report.summary(&format!("{} ({})", a.data.display(), detector.model_id()))
    };
    write_output(None, &printed)?;
    Ok(Outcome::Success)
}

fn eval_mapper(a: MapperArgs) -> Result<Outcome> {
    let bytes = read_limited(&a.data, a.max_bytes)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!("{} is not UTF-8 (first bad byte at offset {})", a.data.display(), e.utf8_error().valid_up_to())
    })?;
    let rows = read_rows(&text).map_err(|errors| {
        let shown: Vec<String> = errors.iter().take(10).map(|e| format!("  {}", e)).collect();
        anyhow::anyhow!(
            "{}: {} bad row(s):\n{}{}",
            a.data.display(),
            errors.len(),
            shown.join("\n"),
            if errors.len() > 10 { "\n  ..." } else { "" }
        )
    })?;
    if !(0.0..=1.0).contains(&a.rule_weight) {
        anyhow::bail!("--rule-weight {} is outside [0, 1]", a.rule_weight);
    }
    let mut mapper = match &a.model {
        None => Mapper::embedded(),
        Some(dir) => Mapper::embedded().with_model(LinearModel::from_dir(dir)?),
    };
    mapper.config.top_k = a.top_k.max(5);
    mapper.config.rule_weight = a.rule_weight;
    mapper.config.procedure_weight = a.procedure_weight.clamp(0.0, 1.0);
    if let Some(bundle) = &a.bundle {
        mapper = mapper.with_enrichment(&Enrichment::from_bundle(bundle)?);
    }
    let (report, predictions) = evaluate(&mapper, &rows);
    if let Some(path) = &a.predictions {
        let mut out = String::with_capacity(predictions.len() * 48);
        for p in &predictions {
            out.push_str(&serde_json::json!({ "techniques": p }).to_string());
            out.push('\n');
        }
        std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let printed =
        if a.json { serde_json::to_string_pretty(&report)? } else { report.summary(&a.data.display().to_string()) };
    write_output(None, &printed)?;
    Ok(Outcome::Success)
}

fn eval_generate(a: GenerateEvalArgs) -> Result<Outcome> {
    use cacao_forge::generate::eval::evaluate_generation;
    use cacao_forge::score::{parse_dataset, render_table};
    let bytes = read_limited(&a.data, a.max_bytes)?;
    let text = String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", a.data.display()))?;
    let dataset = parse_dataset(&text).with_context(|| a.data.display().to_string())?;
    for p in &dataset.problems {
        eprintln!("{}: {p}", a.data.display());
    }
    let planner = a.backend.planner();
    let backend = a.backend.backend()?;
    let options = a.backend.options()?;
    let detector = if a.no_threat_model { None } else { Some(super::generate::detector()?) };
    let report = evaluate_generation(
        &dataset.records,
        detector.as_ref(),
        &planner,
        backend.as_ref(),
        &options,
        a.out.as_deref(),
    )
    .with_context(|| a.out.as_ref().map_or_else(String::new, |d| format!("writing {}", d.display())))?;
    if a.json {
        write_output(None, &serde_json::to_string_pretty(&report)?)?;
    } else {
        let mut out = format!(
            "{} records: {} playbooks ({:.1}% valid), {:.1} ms per record (median {:.1}, max {:.1}); backend {} ({})\n",
            report.records,
            report.generated,
            report.validity_rate * 100.0,
            report.ms_mean,
            report.ms_median,
            report.ms_max,
            report.backend,
            report.model
        );
        for (key, why) in &report.failures {
            out.push_str(&format!("  no playbook for {key}: {why}\n"));
        }
        out.push('\n');
        out.push_str(&render_table(&report.scores));
        write_output(None, &out)?;
    }
    Ok(Outcome::Success)
}
