//! `eval generate`: every record of a seed-004-format dataset through the pipeline (the
//! generator sees only the record's generator view: technique, description, logs), scored against
//! the record's reference playbook with our scorer (`score::batch`): validity rate, node and edge
//! recall/precision, mitigation recall, time per playbook, a per-technique table.

use super::pipeline::analyze;
use super::{Backend, GenerateOptions};
use crate::incident::intake::{seed004, IntakeOptions};
use crate::plan::Planner;
use crate::score::batch::{score_records, Candidate, Summary};
use crate::score::dataset::DatasetRecord;
use crate::score::ScoreOptions;
use crate::threat::detector::Detector;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// The figures of one evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateEvalReport {
    pub backend: String,
    pub model: String,
    pub records: usize,
    /// Records that got a playbook (always schema- and semantically valid by construction).
    pub generated: usize,
    /// `generated / records`.
    pub validity_rate: f64,
    /// Records without a playbook, with the reason.
    pub failures: Vec<(String, String)>,
    /// Milliseconds per record (the whole pipeline, threat model included when given).
    pub ms_mean: f64,
    pub ms_median: f64,
    pub ms_max: f64,
    /// The scores (a record without a playbook scores zero).
    pub scores: Summary,
}

/// Generates a playbook for every record and scores it. With `out_dir`, each playbook is written
/// as `<out_dir>/<record key>.json` (what our held-out scoring reads).
pub fn evaluate_generation(
    records: &[DatasetRecord],
    detector: Option<&Detector>,
    planner: &Planner<'_>,
    backend: &dyn Backend,
    opts: &GenerateOptions,
    out_dir: Option<&Path>,
) -> std::io::Result<GenerateEvalReport> {
    if let Some(dir) = out_dir {
        std::fs::create_dir_all(dir)?;
    }
    let intake = IntakeOptions::default();
    let mut playbooks: HashMap<String, Value> = HashMap::new();
    let mut failures = Vec::new();
    let mut times = Vec::with_capacity(records.len());
    for record in records {
        let started = Instant::now();
        // The incident is built from the generator view only (seed004::incident never reads the
        // mitigations or the reference).
        let incident = seed004::incident(record, &intake);
        let result = analyze(&incident, detector, planner, backend, opts);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        match result {
            Ok(a) => {
                if let Some(dir) = out_dir {
                    if !crate::score::batch::is_plain_key(&record.key) {
                        failures.push((
                            record.key.clone(),
                            "the incident key is not a plain file name; not written".into(),
                        ));
                        continue;
                    }
                    let text = serde_json::to_string_pretty(&a.generated.playbook).unwrap_or_default() + "\n";
                    std::fs::write(dir.join(format!("{}.json", record.key)), text)?;
                }
                playbooks.insert(record.key.clone(), a.generated.playbook);
            }
            Err(e) => failures.push((record.key.clone(), e.to_string())),
        }
    }
    let scores = score_records(
        records,
        |r| playbooks.remove(&r.key).map_or(Candidate::Missing, Candidate::Found),
        &ScoreOptions::default(),
    );
    let provenance = backend.provenance();
    let generated = records.len() - failures.len();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(GenerateEvalReport {
        backend: provenance.backend,
        model: provenance.model,
        records: records.len(),
        generated,
        validity_rate: if records.is_empty() { 0.0 } else { generated as f64 / records.len() as f64 },
        failures,
        ms_mean: crate::score::batch::mean(&times).unwrap_or(0.0),
        ms_median: sorted.get(sorted.len() / 2).copied().unwrap_or(0.0),
        ms_max: sorted.last().copied().unwrap_or(0.0),
        scores,
    })
}
