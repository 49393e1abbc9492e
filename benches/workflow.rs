//! Graph build + drawing of a realistic 200-step playbook (actions, parallel fan-outs, guarded
//! actions that rejoin, if-conditions, while loops, switches, sub-playbooks).
//! Goal: build + analysis + SVG under 10 ms.
//!
//! `cargo bench --bench workflow` (add `-- --quick` for a short run).

use cacao_forge::workflow::render::{self, sample::synthetic_playbook, svg};
use cacao_forge::workflow::{Analysis, WorkflowGraph};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn drawing(c: &mut Criterion) {
    let doc = synthetic_playbook(200);
    let g = WorkflowGraph::from_document(&doc);
    let a = Analysis::of(&g);
    let mut group = c.benchmark_group("workflow-200");
    group.throughput(Throughput::Elements(200));
    group.bench_function("build+analysis", |b| {
        b.iter(|| {
            let g = WorkflowGraph::from_document(black_box(&doc));
            black_box(Analysis::of(&g))
        })
    });
    group.bench_function("build+analysis+svg", |b| {
        b.iter(|| {
            let g = WorkflowGraph::from_document(black_box(&doc));
            let a = Analysis::of(&g);
            black_box(render::to_svg(&g, &a))
        })
    });
    group.bench_function("layout", |b| b.iter(|| black_box(svg::svg_layout(black_box(&g), &a))));
    group.bench_function("svg", |b| b.iter(|| black_box(render::to_svg(black_box(&g), &a))));
    group.bench_function("mermaid", |b| b.iter(|| black_box(render::to_mermaid(black_box(&g), &a))));
    group.bench_function("dot", |b| b.iter(|| black_box(render::to_dot(black_box(&g), &a))));
    group.finish();
}

fn scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("workflow-scaling");
    group.sample_size(10);
    for steps in [2_000usize, 20_000] {
        let doc = synthetic_playbook(steps);
        group.throughput(Throughput::Elements(steps as u64));
        group.bench_with_input(BenchmarkId::new("build+analysis+svg", steps), &doc, |b, doc| {
            b.iter(|| {
                let g = WorkflowGraph::from_document(doc);
                let a = Analysis::of(&g);
                black_box(render::to_svg(&g, &a))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, drawing, scaling);
criterion_main!(benches);
