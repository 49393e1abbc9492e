//! Playbook generation with the planner backend (issue 5 figure: under 20 ms per incident end to
//! end, excluding the threat model): intake of the incident's bytes, ATT&CK mapping, the
//! mitigation plan, the draft, assembly into CACAO, and validation (schema and semantics).
//! Run: `cargo bench --bench generate`. The incidents are the bundled samples
//! (playbooks/samples/incidents/) and the two seed-004 records of ../shared when present.

use cacao_forge::generate::{analyze, GenerateOptions, PlannerBackend};
use cacao_forge::incident::input::InputFormat;
use cacao_forge::incident::intake::IntakeOptions;
use cacao_forge::plan::{self, PlanOptions, Planner};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir("playbooks/samples/incidents")
        .expect("playbooks/samples/incidents")
        .map(|e| e.unwrap().path())
        .collect();
    paths.push("../shared/cyberplaybookllm/sample.json".into());
    paths.sort();
    for p in paths {
        if let Ok(bytes) = std::fs::read(&p) {
            out.push((p.file_name().unwrap().to_string_lossy().into_owned(), bytes));
        }
    }
    out
}

fn generation(c: &mut Criterion) {
    let planner = Planner::embedded(PlanOptions::default());
    let backend = PlannerBackend::default();
    let mut opts = GenerateOptions::default();
    opts.assemble.created = Some("2026-11-22T10:00:00.000Z".into());
    let intake = IntakeOptions { year: Some(2026), ..IntakeOptions::default() };
    // Inputs whose incidents the mapper places (without the threat model, the phishing alert
    // has no technique and so no playbook); this also warms the embedded knowledge.
    let inputs: Vec<(String, Vec<u8>)> = inputs()
        .into_iter()
        .filter(|(_, bytes)| {
            plan::read_input(bytes, InputFormat::Auto, &intake)
                .unwrap()
                .incidents
                .iter()
                .all(|i| analyze(i, None, &planner, &backend, &opts).is_ok())
        })
        .collect();
    let incidents: usize =
        inputs.iter().map(|(_, b)| plan::read_input(b, InputFormat::Auto, &intake).unwrap().incidents.len()).sum();
    eprintln!("inputs: {:?}", inputs.iter().map(|(n, _)| n).collect::<Vec<_>>());
    let mut g = c.benchmark_group("generate");
    g.throughput(Throughput::Elements(incidents as u64));
    g.bench_function(format!("planner_end_to_end_{incidents}_incidents"), |b| {
        b.iter(|| {
            for (_, bytes) in &inputs {
                for incident in plan::read_input(black_box(bytes), InputFormat::Auto, &intake).unwrap().incidents {
                    black_box(analyze(&incident, None, &planner, &backend, &opts).unwrap());
                }
            }
        })
    });
    g.finish();
}

criterion_group!(benches, generation);
criterion_main!(benches);
