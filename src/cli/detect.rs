//! `cacao-forge detect "text"` and `cacao-forge detect --file access.log`: the threat model's
//! verdicts, one per text or per line, with explanations, adversarial checks and summary counts.

use super::{read_limited, write_output, Outcome};
use anyhow::{bail, Context, Result};
use cacao_forge::threat::adversarial::adversarial_check;
use cacao_forge::threat::detector::{Detector, DetectorOptions, Verdict};
use cacao_forge::threat::shipped::{load_detector, DetectorSource};
use cacao_forge::threat::{ThreatType, LABELS};
use clap::Args;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

/// Which detector to build: shared by `detect` and `eval threat`.
#[derive(Debug, Clone, Args)]
pub struct DetectorArgs {
    /// Probability of "some threat" at or above which a text is a threat.
    #[arg(long, default_value_t = DetectorOptions::default().threshold)]
    pub threshold: f32,
    /// Ensemble size: use the first N members of the model (all by default).
    #[arg(long)]
    pub ensemble: Option<usize>,
    /// A model directory written by `train threat` instead of the embedded model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// A Hugging Face sequence-classification checkpoint (BERT/DistilBERT: config.json,
    /// model.safetensors, tokenizer.json) to use instead of (or, with --model/--with-shipped, beside) ours.
    #[arg(long)]
    pub hf: Option<PathBuf>,
    /// With --hf: keep our members too and add the checkpoint as one more member.
    #[arg(long)]
    pub with_shipped: bool,
    /// Longest text read per input, in bytes (the rest is cut and the verdict says so).
    #[arg(long, default_value_t = DetectorOptions::default().max_input_bytes)]
    pub max_input_bytes: usize,
    /// Threads a batch of texts is split across (default: the machine's cores, at most 8).
    #[arg(long, default_value_t = DetectorOptions::default().workers)]
    pub workers: usize,
}

impl DetectorArgs {
    pub fn detector(&self) -> Result<Detector> {
        super::single_threaded_candle();
        let options = DetectorOptions {
            threshold: self.threshold,
            max_input_bytes: self.max_input_bytes,
            workers: self.workers,
            ..DetectorOptions::default()
        };
        let source = DetectorSource {
            model_dir: self.model.clone(),
            hf_dir: self.hf.clone(),
            keep_shipped: self.with_shipped || self.model.is_some(),
            ensemble: self.ensemble,
        };
        Ok(load_detector(&source, options)?)
    }
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// The text to judge (omit it and use --file for many).
    text: Option<String>,
    /// Judge every non-empty line of this file (`-` for stdin).
    #[arg(long, conflicts_with = "text")]
    file: Option<PathBuf>,
    /// For lines that are JSON objects: the field to judge (by default message, msg, log or text
    /// when present, else the whole line).
    #[arg(long)]
    field: Option<String>,
    /// Output JSON (one object per text or per line: JSONL).
    #[arg(long)]
    json: bool,
    /// Add evidence spans (by occlusion) and the written explanation to every verdict.
    #[arg(long)]
    explain: bool,
    /// Also check each verdict's consistency under evasion rewrites.
    #[arg(long)]
    adversarial: bool,
    /// Least share of rewrites that must keep the verdict (with --adversarial).
    #[arg(long, default_value_t = 0.8)]
    min_consistency: f32,
    /// With --file: print only the lines judged threats.
    #[arg(long)]
    threats_only: bool,
    /// Largest accepted file, in bytes.
    #[arg(long, default_value_t = 1 << 30)]
    max_bytes: usize,
    /// Write the output here instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    detector: DetectorArgs,
}

pub fn run(args: DetectArgs) -> Result<Outcome> {
    if !(0.0..=1.0).contains(&args.min_consistency) {
        bail!("--min-consistency {} is outside [0, 1]", args.min_consistency);
    }
    let detector = args.detector.detector()?;
    match (&args.text, &args.file) {
        (Some(text), None) => detect_one(&args, &detector, text),
        (None, Some(path)) => detect_file(&args, &detector, path),
        _ => bail!("give a text to judge, or --file PATH (`-` for stdin)"),
    }
}

fn detect_one(args: &DetectArgs, detector: &Detector, text: &str) -> Result<Outcome> {
    let mut verdict = detector.detect(text)?;
    if args.explain || !args.json {
        detector.explain_into(text, &mut verdict)?;
    }
    let adversarial = match args.adversarial {
        true => Some(adversarial_check(detector, text, args.min_consistency)?),
        false => None,
    };
    let out = if args.json {
        let mut v = serde_json::to_value(&verdict)?;
        if let Some(a) = &adversarial {
            v["adversarial"] = serde_json::to_value(a)?;
        }
        serde_json::to_string_pretty(&v)?
    } else {
        let mut s = verdict.explanation.clone().unwrap_or_default();
        s.push_str(&format!("\n\nScores: {}\nModel: {}", top_scores(&verdict, 4), verdict.model));
        if let Some(a) = adversarial {
            s.push_str(&format!(
                "\nAdversarial check: verdict consistency {:.2} over {} rewrites{}{}",
                a.verdict_consistency,
                a.variants.len(),
                if a.possible_adversarial { "; POSSIBLE ADVERSARIAL INPUT" } else { "" },
                if a.obfuscated_input { "; the input was encoded or obfuscated" } else { "" }
            ));
            for v in a.variants.iter().filter(|v| v.flipped) {
                s.push_str(&format!("\n  flips under {}: {} ({:.2})", v.perturbation, v.label, v.confidence));
            }
        }
        s
    };
    write_output(args.output.as_deref(), &out)?;
    Ok(Outcome::Success)
}

fn top_scores(v: &Verdict, n: usize) -> String {
    let mut s: Vec<(&ThreatType, &f32)> = v.scores.iter().collect();
    s.sort_by(|a, b| b.1.total_cmp(a.1));
    s.iter().take(n).map(|(l, p)| format!("{l} {p:.3}")).collect::<Vec<_>>().join(", ")
}

/// The text of a line: a JSON object's message-like field when there is one.
fn line_text(line: &str, field: Option<&str>) -> Option<String> {
    let trimmed = line.trim_start();
    if !trimmed.starts_with('{') {
        return None;
    }
    let parsed: serde_json::Value = serde_json::from_str(trimmed).ok()?;
    let obj = parsed.as_object()?;
    let candidates: Vec<&str> = match field {
        Some(f) => vec![f],
        None => vec!["message", "msg", "log", "text"],
    };
    candidates.iter().find_map(|k| match obj.get(*k)? {
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    })
}

fn detect_file(args: &DetectArgs, detector: &Detector, path: &std::path::Path) -> Result<Outcome> {
    let bytes = if path.as_os_str() == "-" {
        let mut b = Vec::new();
        std::io::stdin().lock().take(args.max_bytes as u64 + 1).read_to_end(&mut b).context("cannot read stdin")?;
        if b.len() > args.max_bytes {
            bail!("stdin is over the limit of {} bytes (raise it with --max-bytes)", args.max_bytes);
        }
        b
    } else {
        read_limited(path, args.max_bytes)?
    };
    let content = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let text = line_text(line, args.field.as_deref()).unwrap_or_else(|| line.to_string());
        lines.push((i + 1, text));
    }
    let texts: Vec<&str> = lines.iter().map(|(_, t)| t.as_str()).collect();
    let mut verdicts = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(4096) {
        verdicts.extend(detector.detect_batch(chunk)?);
    }
    let mut counts: BTreeMap<ThreatType, usize> = LABELS.iter().map(|l| (*l, 0)).collect();
    let mut out = String::new();
    if !args.json {
        out.push_str(&format!("{:>7}  {:<20} {:>6} {:>6}  text\n", "line", "verdict", "conf", "agree"));
    }
    for ((line_no, text), verdict) in lines.iter().zip(verdicts.iter_mut()) {
        *counts.entry(verdict.label()).or_default() += 1;
        if args.threats_only && !verdict.is_threat {
            continue;
        }
        if args.explain {
            detector.explain_into(text, verdict)?;
        }
        if args.json {
            let mut v = serde_json::to_value(&*verdict)?;
            v["line"] = (*line_no).into();
            if args.adversarial {
                v["adversarial"] = serde_json::to_value(adversarial_check(detector, text, args.min_consistency)?)?;
            }
            out.push_str(&serde_json::to_string(&v)?);
            out.push('\n');
        } else {
            let shown: String = text.chars().take(100).collect();
            out.push_str(&format!(
                "{:>7}  {:<20} {:>6.2} {:>6.2}  {}\n",
                line_no,
                verdict.label().as_str(),
                verdict.confidence,
                verdict.agreement,
                shown.replace(['\n', '\r', '\t'], " ")
            ));
            if let Some(e) = &verdict.explanation {
                for l in e.lines() {
                    out.push_str(&format!("{:>9}{l}\n", ""));
                }
            }
            if args.adversarial {
                let a = adversarial_check(detector, text, args.min_consistency)?;
                if a.possible_adversarial {
                    out.push_str(&format!(
                        "{:>9}possible adversarial input (consistency {:.2})\n",
                        "", a.verdict_consistency
                    ));
                }
            }
        }
    }
    let threats: usize = counts.iter().filter(|(l, _)| l.is_threat()).map(|(_, c)| c).sum();
    let summary = format!(
        "{} lines judged: {} threats, {} benign ({})",
        lines.len(),
        threats,
        counts[&ThreatType::Benign],
        counts
            .iter()
            .filter(|(l, c)| l.is_threat() && **c > 0)
            .map(|(l, c)| format!("{l} {c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if args.json {
        eprintln!("{summary}");
    } else {
        out.push_str(&format!("\n{summary}\n"));
    }
    write_output(args.output.as_deref(), &out)?;
    Ok(Outcome::Success)
}
