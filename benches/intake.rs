//! Intake throughput: read + parse + observable extraction of synthetic logs, in MB/s on one core.
//!
//! The logs are generated here (nothing from public corpora): auth.log-style syslog, combined
//! access log and JSON Lines, each alone and interleaved line by line (`mixed`). The size per
//! input is 32 MB by default; `INTAKE_BENCH_MB=100` measures the 100 MB figure.

use cacao_forge::incident::intake::{read, read_auto, Format, IntakeOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A small deterministic generator (no rand dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const USERS: [&str; 6] = ["admin", "root", "deploy", "oracle", "test", "ubuntu"];

fn syslog_line(r: &mut Lcg, out: &mut String) {
    let (h, m, s) = (r.below(24), r.below(60), r.below(60));
    let host = r.below(40);
    let pid = 1000 + r.below(30000);
    let ip = format!("203.0.{}.{}", r.below(256), r.below(256));
    let user = USERS[r.below(6) as usize];
    let _ = match r.below(5) {
        0 | 1 => writeln!(out, "Mar  2 {h:02}:{m:02}:{s:02} bastion-{host:02} sshd[{pid}]: Failed password for invalid user {user} from {ip} port {} ssh2", 1024 + r.below(60000)),
        2 => writeln!(out, "Mar  2 {h:02}:{m:02}:{s:02} bastion-{host:02} sshd[{pid}]: Accepted publickey for {user} from {ip} port 22 ssh2: RSA SHA256:{:016x}", r.next()),
        3 => writeln!(out, "Mar  2 {h:02}:{m:02}:{s:02} bastion-{host:02} sudo:   {user} : TTY=pts/{} ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx", r.below(9)),
        _ => writeln!(out, "Mar  2 {h:02}:{m:02}:{s:02} bastion-{host:02} CRON[{pid}]: (root) CMD (run-parts /etc/cron.hourly)"),
    };
}

fn access_line(r: &mut Lcg, out: &mut String) {
    let ip = format!("198.51.{}.{}", r.below(256), r.below(256));
    let status = [200, 200, 200, 304, 404, 500][r.below(6) as usize];
    let _ = writeln!(
        out,
        "{ip} - - [02/Mar/2026:{:02}:{:02}:{:02} +0000] \"GET /app/v{}/items/{}?page={} HTTP/1.1\" {status} {} \"https://shop{}.example.com/cart\" \"Mozilla/5.0 (X11; Linux x86_64) Firefox/124.0\"",
        r.below(24),
        r.below(60),
        r.below(60),
        r.below(3),
        r.below(100000),
        r.below(50),
        r.below(90000),
        r.below(20)
    );
}

fn jsonl_line(r: &mut Lcg, out: &mut String) {
    let user = USERS[r.below(6) as usize];
    let _ = writeln!(
        out,
        "{{\"@timestamp\":\"2026-03-02T{:02}:{:02}:{:02}Z\",\"host\":\"web{:02}\",\"level\":\"info\",\"message\":\"user {user} downloaded https://cdn{}.example.net/f/{:016x}{:016x} from 10.{}.{}.{}\",\"src_ip\":\"10.0.{}.{}\"}}",
        r.below(24),
        r.below(60),
        r.below(60),
        r.below(30),
        r.below(10),
        r.next(),
        r.next(),
        r.below(256),
        r.below(256),
        r.below(256),
        r.below(256),
        r.below(256)
    );
}

/// Drops a report outside the timing: freeing it is the caller's cost, not intake's. That includes
/// the part of the freeing glibc defers: it keeps freed small blocks (a report holds millions) in
/// "fast bins" and merges them at the next large allocation, which would otherwise fall in the
/// next timed read (about a tenth of a 100 MB read). A large allocation here does that merge now.
fn release<T>(report: T) {
    drop(report);
    drop(black_box(Vec::<u8>::with_capacity(1 << 20)));
}

/// Writes one synthetic log line.
type LineGen = fn(&mut Lcg, &mut String);

fn generate(size: usize, kinds: &[LineGen]) -> String {
    let mut r = Lcg(42);
    let mut out = String::with_capacity(size + 512);
    let mut i = 0;
    while out.len() < size {
        kinds[i % kinds.len()](&mut r, &mut out);
        i += 1;
    }
    out
}

fn bench(c: &mut Criterion) {
    let mb: usize = std::env::var("INTAKE_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(32);
    let size = mb * 1_000_000;
    let opts = IntakeOptions { max_bytes: size * 2, ..IntakeOptions::default() };
    let inputs: [(&str, Format, Vec<LineGen>); 4] = [
        ("mixed", Format::Mixed, vec![syslog_line, access_line, jsonl_line]),
        ("syslog", Format::Syslog, vec![syslog_line]),
        ("access-log", Format::AccessLog, vec![access_line]),
        ("jsonl", Format::Jsonl, vec![jsonl_line]),
    ];
    let mut group = c.benchmark_group("intake");
    group.sample_size(10);
    for (name, format, kinds) in inputs {
        let text = generate(size, &kinds);
        // The generated input must read cleanly in the format it is, or the figure means nothing.
        let report = read_auto(text.as_bytes(), &opts).expect("synthetic logs read");
        assert_eq!(report.format, format, "{name} detected as {}", report.format);
        assert!(report.problems.is_empty(), "{name}: {:?}", &report.problems[..report.problems.len().min(3)]);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{name} {mb} MB"), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let report = read(black_box(text.as_bytes()), format, &opts);
                    timed += start.elapsed();
                    release(report);
                }
                timed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
