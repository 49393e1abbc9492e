//! ATT&CK catalog lookups (issue 3 figure: lookup latency) and the one-time parse of the embedded
//! catalog. Run: `cargo bench --bench attack`.

use cacao_forge::attack::Catalog;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn lookups(c: &mut Criterion) {
    let cat = Catalog::embedded();
    let mut g = c.benchmark_group("attack");
    g.bench_function("technique_by_id", |b| b.iter(|| cat.technique(black_box("T1059.001"))));
    g.bench_function("technique_by_name", |b| b.iter(|| cat.technique_by_name(black_box("PowerShell"))));
    g.bench_function("techniques_for_tactic", |b| {
        b.iter(|| cat.techniques_for_tactic_in(black_box("enterprise"), black_box("credential-access")))
    });
    g.bench_function("mitigations_for", |b| b.iter(|| cat.mitigations_for(black_box("T1110"))));
    g.bench_function("search_fragment", |b| b.iter(|| cat.search(black_box("credential"))));
    g.finish();

    let mut g = c.benchmark_group("attack_embedded");
    g.sample_size(20);
    g.bench_function("parse_embedded_catalog", |b| {
        b.iter(|| Catalog::from_json_texts(black_box(Catalog::embedded_texts())).expect("embedded catalog parses"))
    });
    g.finish();
}

criterion_group!(benches, lookups);
criterion_main!(benches);
