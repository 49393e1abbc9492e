//! Validation throughput (schema + semantics) over the 18 official CACAO examples, on one core.
//! Run: `cargo bench --bench validate`. The Python anchor is benches/jsonschema_anchor.py.

use cacao_forge::cacao::{load, schema, Validator};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn examples() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cacao/examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("missing {} (../shared beside the repo): {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn bench_validate(c: &mut Criterion) {
    let files = examples();
    let docs: Vec<serde_json::Value> = files.iter().map(|b| serde_json::from_slice(b).unwrap()).collect();
    let validator = Validator::default();
    let mut group = c.benchmark_group("validate_18_examples");
    group.throughput(Throughput::Elements(files.len() as u64));
    group.bench_function("bytes_parse_schema_semantics", |b| {
        b.iter(|| {
            for bytes in &files {
                black_box(validator.validate_bytes(black_box(bytes)));
            }
        })
    });
    group.bench_function("document_schema_semantics", |b| {
        b.iter(|| {
            for doc in &docs {
                black_box(validator.validate_document(black_box(doc)));
            }
        })
    });
    group.bench_function("bytes_parse_only", |b| {
        b.iter(|| {
            for bytes in &files {
                black_box(load::parse_document(black_box(bytes), validator.limits()).ok());
            }
        })
    });
    let schema = schema::shared();
    group.bench_function("document_schema_only", |b| {
        b.iter(|| {
            for doc in &docs {
                black_box(schema.check(black_box(doc)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_validate);
criterion_main!(benches);
