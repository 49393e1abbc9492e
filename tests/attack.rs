//! The ATT&CK knowledge base: the embedded catalog against the v18.1 bundles in ../shared/mitre,
//! lookups, deterministic re-import, `mitre sync` against a local HTTP server, enrichment, and the
//! CLI end to end.

mod common;

use common::cli;

use cacao_forge::attack::{self, Catalog, Enrichment, SyncOptions};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

const DOMAINS: [(&str, &str); 3] =
    [("enterprise-attack", "enterprise"), ("ics-attack", "ics"), ("mobile-attack", "mobile")];

fn shared_mitre() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/mitre");
    for (_, short) in DOMAINS {
        let f = dir.join(format!("{short}-attack.json"));
        assert!(
            f.is_file(),
            "missing {}: these tests need the read-only ../shared folder beside the repository (shared/mitre)",
            f.display()
        );
    }
    dir
}

fn bundle_path(short: &str) -> PathBuf {
    shared_mitre().join(format!("{short}-attack.json"))
}

fn repo_mitre() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mitre")
}

/// What a plain reading of a bundle counts, independent of the crate's reader.
#[derive(Debug, PartialEq, Eq)]
struct BundleCounts {
    version: String,
    techniques: usize,
    non_revoked_techniques: usize,
    active_techniques: usize,
    active_mitigations: usize,
    mitigates: usize,
}

fn attack_id(o: &Value) -> Option<&str> {
    o["external_references"].as_array()?.iter().find_map(|r| {
        let src = r["source_name"].as_str()?;
        matches!(src, "mitre-attack" | "mitre-ics-attack" | "mitre-mobile-attack").then(|| r["external_id"].as_str())?
    })
}

fn count_bundle(short: &str) -> BundleCounts {
    let bytes = std::fs::read(bundle_path(short)).expect("read bundle");
    let v: Value = serde_json::from_slice(&bytes).expect("bundle parses");
    let objs = v["objects"].as_array().expect("objects");
    let flag = |o: &Value, k: &str| o[k].as_bool() == Some(true);
    let active = |o: &Value| !flag(o, "revoked") && !flag(o, "x_mitre_deprecated");
    let of = |t: &'static str| objs.iter().filter(move |o| o["type"] == t);
    let with_id: HashMap<&str, &Value> =
        objs.iter().filter(|o| attack_id(o).is_some()).map(|o| (o["id"].as_str().unwrap(), o)).collect();
    BundleCounts {
        version: of("x-mitre-collection").next().unwrap()["x_mitre_version"].as_str().unwrap().to_string(),
        techniques: of("attack-pattern").count(),
        non_revoked_techniques: of("attack-pattern").filter(|o| !flag(o, "revoked")).count(),
        active_techniques: of("attack-pattern").filter(|o| active(o)).count(),
        active_mitigations: of("course-of-action").filter(|o| active(o)).count(),
        mitigates: of("relationship")
            .filter(|r| r["relationship_type"] == "mitigates" && active(r))
            .filter(|r| {
                let s = with_id.get(r["source_ref"].as_str().unwrap_or(""));
                let t = with_id.get(r["target_ref"].as_str().unwrap_or(""));
                s.is_some_and(|s| s["type"] == "course-of-action") && t.is_some_and(|t| t["type"] == "attack-pattern")
            })
            .count(),
    }
}

fn catalog_counts(c: &Catalog, domain: &str) -> BundleCounts {
    let d = c.domains().iter().find(|d| d.key == domain).unwrap_or_else(|| panic!("domain {domain} missing"));
    let ts: Vec<_> = c.techniques().iter().filter(|t| t.domain == domain).collect();
    BundleCounts {
        version: d.version.clone(),
        techniques: ts.len(),
        non_revoked_techniques: ts.iter().filter(|t| !t.revoked).count(),
        active_techniques: d.counts.active_techniques,
        active_mitigations: d.counts.active_mitigations,
        mitigates: d.counts.mitigates,
    }
}

#[test]
fn embedded_counts_match_the_bundles() {
    let c = Catalog::embedded();
    for (domain, short) in DOMAINS {
        assert_eq!(catalog_counts(c, domain), count_bundle(short), "{domain}");
    }
    // The figures documented in ../shared/mitre/SOURCE.md and mitre/README.md.
    let e = catalog_counts(c, "enterprise-attack");
    assert_eq!((e.active_techniques, e.active_mitigations, e.mitigates), (691, 44, 1445));
    assert_eq!(c.version(), "18.1");
    assert_eq!(
        c.domains().iter().map(|d| d.key.as_str()).collect::<Vec<_>>(),
        ["enterprise-attack", "ics-attack", "mobile-attack"]
    );
    let d = &c.domains()[0].counts;
    assert_eq!((d.active_subtechniques, d.tactics, d.detection_strategies, d.analytics), (475, 14, 691, 1739));
}

#[test]
fn lookups_by_id_name_and_tactic() {
    let c = Catalog::embedded();
    let ps = c.technique("T1059.001").expect("T1059.001");
    assert_eq!(ps.name, "PowerShell");
    assert_eq!(ps.tactics, ["execution"]);
    assert_eq!(c.tactics_of(ps)[0].id, "TA0002");
    assert!(ps.is_subtechnique() && ps.is_active());
    assert_eq!(c.parent("T1059.001").unwrap().name, "Command and Scripting Interpreter");

    let subs: Vec<&str> = c.subtechniques("T1003").iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        subs,
        ["T1003.001", "T1003.002", "T1003.003", "T1003.004", "T1003.005", "T1003.006", "T1003.007", "T1003.008"]
    );

    let m: Vec<&str> = c.mitigations_for("T1110").iter().map(|m| m.id.as_str()).collect();
    assert!(m.contains(&"M1032"), "{m:?}");
    assert_eq!(c.mitigation("M1032").unwrap().name, "Multi-factor Authentication");
    assert_eq!(c.mitigation_by_name("multi-factor authentication").unwrap().id, "M1032");

    // Sub-techniques inherit nothing implicitly; the parent's come only on request, marked.
    let own: HashSet<&str> = c.mitigations_for("T1110.001").iter().map(|m| m.id.as_str()).collect();
    let with_parent = c.mitigations_for_with_parent("T1110.001");
    assert!(with_parent.iter().filter(|l| l.via == "T1110.001").all(|l| own.contains(l.mitigation.id.as_str())));
    assert!(with_parent.iter().any(|l| l.via == "T1110"));

    for name in ["powershell", "POWERSHELL", " PowerShell ", "Command and Scripting Interpreter: PowerShell"] {
        assert_eq!(c.technique_by_name(name).map(|t| t.id.as_str()), Some("T1059.001"), "{name}");
    }
    assert_eq!(c.technique_by_name("os credential dumping").unwrap().id, "T1003");
    assert_eq!(c.technique("t1059/001").unwrap().id, "T1059.001");
    assert!(c.search("credential dump").iter().any(|t| t.id == "T1003"));
    assert!(c.technique("T9999").is_none() && c.technique_by_name("no such thing").is_none());

    let exec = c.techniques_for_tactic_in("enterprise", "execution");
    assert!(exec.iter().any(|t| t.id == "T1059.001") && exec.iter().all(|t| t.domain == "enterprise-attack"));
    assert_eq!(c.techniques_for_tactic("TA0002").len(), exec.len());
    assert!(c.techniques_for_tactic("execution").len() > exec.len(), "ICS and mobile share the shortname");
    assert_eq!(c.tactic("Credential Access").unwrap().shortname, "credential-access");

    let det = c.detection_strategies_for("T1059.001");
    assert_eq!(det.len(), 1);
    assert!(det[0].analytics.iter().all(|a| c.analytic(a).is_some()));
    let revoked = c.technique("T1086").unwrap();
    assert!(revoked.revoked && revoked.revoked_by.as_deref() == Some("T1059.001"));
    assert_eq!(c.group("G0016").unwrap().name, "APT29");
    assert_eq!(c.software("S0002").unwrap().name, "Mimikatz");
}

#[test]
fn reimport_is_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    for (_, short) in DOMAINS {
        let r = attack::import_bundle_file(&bundle_path(short), tmp.path(), 1 << 30).unwrap();
        assert!(r.changed);
        let fresh = std::fs::read(tmp.path().join(format!("{short}.json"))).unwrap();
        let committed = std::fs::read(repo_mitre().join(format!("{short}.json"))).unwrap();
        assert!(fresh == committed, "re-import of {short} differs from mitre/{short}.json (run `mitre import`)");
        let again = attack::import_bundle_file(&bundle_path(short), tmp.path(), 1 << 30).unwrap();
        assert!(!again.changed && again.previous_version.as_deref() == Some("18.1"));
    }
    let total: u64 =
        DOMAINS.iter().map(|(_, s)| std::fs::metadata(repo_mitre().join(format!("{s}.json"))).unwrap().len()).sum();
    assert!(total < 5 << 20, "mitre/ is {total} bytes");
}

#[test]
fn catalog_holds_no_description_text_and_enrichment_does() {
    let e = Enrichment::from_bundle(&bundle_path("enterprise")).unwrap();
    let desc = e.description("T1059.001").expect("description");
    assert!(desc.contains("PowerShell"));
    let procs = e.procedures("T1059.001");
    assert!(procs.len() > 10 && procs.iter().all(|p| !p.text.is_empty() && !p.source_name.is_empty()));
    assert!(procs.windows(2).all(|w| w[0].source_id <= w[1].source_id));
    let committed = std::fs::read_to_string(repo_mitre().join("enterprise.json")).unwrap();
    let sentence: String = desc.chars().take(60).collect();
    assert!(!committed.contains(&sentence), "mitre/enterprise.json contains description text");
    assert!(!committed.contains(&procs[0].text.chars().take(60).collect::<String>()));
    assert!(e.procedure_count() > 10_000);
    let err = Enrichment::from_bundle(Path::new("/nonexistent/bundle.json")).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/bundle.json"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// sync against a local HTTP server

fn small_bundle(version: &str) -> String {
    serde_json::json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001", "objects": [
        {"type": "x-mitre-collection", "id": "x-mitre-collection--1", "name": "Enterprise ATT&CK",
         "x_mitre_version": version, "modified": "2030-01-01T00:00:00.000Z", "description": "prose"},
        {"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "tactic_refs": ["x-mitre-tactic--1"],
         "external_references": [{"source_name": "mitre-attack", "external_id": "enterprise-attack"}]},
        {"type": "x-mitre-tactic", "id": "x-mitre-tactic--1", "name": "Execution", "x_mitre_shortname": "execution",
         "external_references": [{"source_name": "mitre-attack", "external_id": "TA0002"}]},
        {"type": "attack-pattern", "id": "attack-pattern--1", "name": "PowerShell", "description": "secret prose",
         "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
         "external_references": [{"source_name": "mitre-attack", "external_id": "T1059.001"}]},
        {"type": "course-of-action", "id": "course-of-action--1", "name": "Execution Prevention",
         "external_references": [{"source_name": "mitre-attack", "external_id": "M1038"}]},
        {"type": "relationship", "id": "relationship--1", "relationship_type": "mitigates",
         "source_ref": "course-of-action--1", "target_ref": "attack-pattern--1"}
    ]})
    .to_string()
}

/// Serves fixed responses by path on 127.0.0.1 until the test process ends; returns the base URL.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            let req = String::from_utf8_lossy(&req);
            let path = req.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match path {
                "/bundle.json" => ("200 OK", small_bundle("99.1")),
                "/not-a-bundle.json" => ("200 OK", r#"{"hello": "world"}"#.to_string()),
                "/no-collection.json" => ("200 OK", r#"{"type": "bundle", "objects": []}"#.to_string()),
                "/html" => ("200 OK", "<html>rate limited</html>".to_string()),
                _ => ("404 Not Found", "not found".to_string()),
            };
            let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(body.as_bytes()));
        }
    });
    base
}

static SERVER: LazyLock<String> = LazyLock::new(serve);

fn opts(url: String, out: &Path) -> SyncOptions {
    SyncOptions { url, out: out.to_path_buf(), timeout: Duration::from_secs(20), ..SyncOptions::default() }
}

#[test]
fn sync_downloads_checks_and_imports() {
    let tmp = tempfile::tempdir().unwrap();
    let r = attack::sync(&opts(format!("{}/bundle.json", *SERVER), tmp.path())).unwrap();
    assert_eq!((r.domain.as_str(), r.version.as_str(), r.changed), ("enterprise-attack", "99.1", true));
    let text = std::fs::read_to_string(tmp.path().join("enterprise.json")).unwrap();
    assert!(!text.contains("prose"), "descriptions must not be written");
    let c = Catalog::from_dir(tmp.path()).unwrap();
    assert_eq!(c.version(), "99.1");
    assert_eq!(c.mitigations_for("T1059.001")[0].id, "M1038");
    assert_eq!(c.techniques_for_tactic("execution").len(), 1);
}

#[test]
fn sync_errors_are_clear_and_leave_the_catalog_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("enterprise.json");
    std::fs::write(&target, "keep me").unwrap();
    let cases = [
        ("/missing.json", vec!["/missing.json", "HTTP 404"]),
        ("/not-a-bundle.json", vec!["/not-a-bundle.json", "not an ATT&CK STIX bundle", "no `type`"]),
        ("/no-collection.json", vec!["no x-mitre-collection"]),
        ("/html", vec!["/html", "not a readable STIX bundle", "line 1"]),
    ];
    for (path, needles) in cases {
        let err = attack::sync(&opts(format!("{}{path}", *SERVER), tmp.path())).unwrap_err().to_string();
        for n in needles {
            assert!(err.contains(n), "{path}: {err:?} lacks {n:?}");
        }
    }
    let mut small = opts(format!("{}/bundle.json", *SERVER), tmp.path());
    small.max_bytes = 100;
    assert!(attack::sync(&small).unwrap_err().to_string().contains("over the limit of 100 bytes"));
    // Nothing listens on a port just released.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = attack::sync(&opts(format!("http://127.0.0.1:{port}/x.json"), tmp.path())).unwrap_err().to_string();
    assert!(err.contains(&format!("127.0.0.1:{port}/x.json")) && err.contains("failed"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
}

// ---------------------------------------------------------------------------------------------
// The CLI

#[test]
fn cli_info_show_and_tactic() {
    let (rc, out, _) = cli(&["mitre", "info"]);
    assert_eq!(rc, 0);
    assert!(out.contains("ATT&CK 18.1") && out.contains("691 active techniques"), "{out}");
    let (rc, out, _) = cli(&["mitre", "info", "--json"]);
    assert_eq!(rc, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "18.1");
    assert_eq!(v["domains"][0]["counts"]["mitigates"], 1445);

    let (rc, out, _) = cli(&["mitre", "show", "T1059.001", "--json"]);
    assert_eq!(rc, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["technique"]["name"], "PowerShell");
    assert_eq!(v["tactics"][0]["shortname"], "execution");
    assert_eq!(v["parent"]["id"], "T1059");
    assert!(v["mitigations"].as_array().unwrap().iter().any(|m| m["id"] == "M1038"));
    assert!(v["detection_strategies"][0]["analytics"][0]["data_components"].as_array().is_some());

    let (rc, out, _) = cli(&["mitre", "show", "brute force"]);
    assert_eq!(rc, 0);
    assert!(out.contains("T1110 Brute Force") && out.contains("M1032      Multi-factor Authentication"), "{out}");
    let (rc, _, err) = cli(&["mitre", "show", "domain acc"]);
    assert_eq!(rc, 1);
    assert!(err.contains("T1078.002") && err.contains("name one"), "{err}");
    let (rc, _, err) = cli(&["mitre", "show", "zzz-nothing"]);
    assert_eq!(rc, 1);
    assert!(err.contains("zzz-nothing"));

    let (rc, out, _) = cli(&["mitre", "tactic", "execution", "--domain", "enterprise", "--json"]);
    assert_eq!(rc, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["tactic"]["id"], "TA0002");
    assert!(v[0]["techniques"].as_array().unwrap().iter().any(|t| t["id"] == "T1059.001"));
    let (rc, _, err) = cli(&["mitre", "tactic", "nonsense"]);
    assert_eq!(rc, 1);
    assert!(err.contains("credential-access"), "{err}");
}

#[test]
fn cli_sync_offline_and_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().to_str().unwrap();
    let ics = bundle_path("ics");
    let (rc, out, err) = cli(&["mitre", "sync", "--bundle", ics.to_str().unwrap(), "--out", out_dir]);
    assert_eq!(rc, 0, "{err}");
    assert!(out.contains("ics-attack ATT&CK 18.1"), "{out}");
    assert_eq!(
        std::fs::read(tmp.path().join("ics.json")).unwrap(),
        std::fs::read(repo_mitre().join("ics.json")).unwrap()
    );

    let url = format!("{}/bundle.json", *SERVER);
    let (rc, out, err) = cli(&["mitre", "sync", "--url", &url, "--out", out_dir, "--json"]);
    assert_eq!(rc, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["version"], "99.1");
    let (rc, out, _) = cli(&["mitre", "info", "--catalog", out_dir, "--json"]);
    assert_eq!(rc, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["domains"].as_array().unwrap().len(), 2);

    let (rc, _, err) = cli(&["mitre", "sync", "--url", &format!("{}/gone", *SERVER), "--out", out_dir]);
    assert_eq!(rc, 2);
    assert!(err.contains("HTTP 404") && err.contains("/gone"), "{err}");
    let (rc, _, err) = cli(&["mitre", "import", "/nonexistent.json", "--out", out_dir]);
    assert_eq!(rc, 2);
    assert!(err.contains("/nonexistent.json"), "{err}");
}
