//! Incident intake end to end: every format read from small fixtures written here, bad lines
//! reported with their line numbers, unknown formats refused clearly, the seed-004 sample read
//! through its generator view, tricky observables, the JSON Schema of incidents, and the CLI.

mod common;

use common::cli;

use cacao_forge::incident::intake::{self, detect, read, read_auto, Format, IntakeError, IntakeOptions};
use cacao_forge::incident::{Incident, ObservableKind as K, Severity, SCHEMA};
use serde_json::{json, Value};
use std::path::PathBuf;

const AUTH_LOG: &str = "\
Mar  2 04:11:09 bastion-01 sshd[4411]: Failed password for invalid user admin from 203.0.113.45 port 51022 ssh2
Mar  2 04:11:12 bastion-01 sshd[4411]: Failed password for root from 203.0.113.45 port 51024 ssh2
Mar  2 04:17:40 bastion-01 sshd[4420]: Accepted password for deploy from 203.0.113.45 port 51100 ssh2
Mar  2 04:18:02 bastion-01 sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow
";

const ACCESS_LOG: &str = r#"198.51.100.7 - - [02/Mar/2026:04:20:01 +0000] "GET /wp-login.php HTTP/1.1" 200 512 "-" "Mozilla/5.0"
198.51.100.7 - admin [02/Mar/2026:04:20:03 +0000] "POST /cgi-bin/upload.cgi HTTP/1.1" 500 0 "http://evil.example.com/x" "curl/8.4"
"#;

fn opts() -> IntakeOptions {
    IntakeOptions { year: Some(2026), ..IntakeOptions::default() }
}

fn one(bytes: &[u8]) -> (Format, Incident, Vec<cacao_forge::Finding>) {
    let report = read_auto(bytes, &opts()).unwrap_or_else(|e| panic!("read failed: {e}"));
    assert_eq!(report.incidents.len(), 1);
    let incident = report.incidents[0].clone();
    (report.format, incident, report.problems)
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schemas/incident.json is JSON");
    jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&schema).expect("incident schema compiles")
}

fn assert_schema_valid(incident: &Incident) {
    let v = validator();
    let doc = serde_json::to_value(incident).expect("serializes");
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "incident does not match schemas/incident.json: {errors:#?}");
}

fn sample_path() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cyberplaybookllm/sample.json");
    assert!(p.is_file(), "missing {} (the read-only ../shared folder beside the repository)", p.display());
    p
}

#[test]
fn syslog_auth_log() {
    let (format, i, problems) = one(AUTH_LOG.as_bytes());
    assert_eq!(format, Format::Syslog);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(i.events.len(), 4);
    assert_eq!(i.events[0].action.as_deref(), Some("authentication failure"));
    assert_eq!(i.events[2].action.as_deref(), Some("authentication success"));
    assert_eq!(i.events[0].host.as_deref(), Some("bastion-01"));
    assert_eq!(i.events[0].timestamp.as_deref(), Some("2026-03-02T04:11:09+00:00"));
    let range = i.time_range.as_ref().expect("time range");
    assert_eq!((range.start.as_str(), range.end.as_str()), ("2026-03-02T04:11:09+00:00", "2026-03-02T04:18:02+00:00"));
    let ip = i.observables_of(K::Ipv4).next().expect("an IP");
    assert_eq!((ip.value.as_str(), ip.count, ip.event, ip.field.as_str()), ("203.0.113.45", 3, Some(0), "raw"));
    assert_eq!(&i.events[0].raw[ip.span.0..ip.span.1], "203.0.113.45");
    for user in ["admin", "root", "deploy"] {
        assert!(i.has_observable(K::User, user), "{user}: {:?}", i.observables);
    }
    assert!(i.has_observable(K::Host, "bastion-01"));
    assert!(i.has_observable(K::CommandLine, "/usr/bin/cat /etc/shadow"));
    assert!(i.has_observable(K::FilePath, "/etc/shadow"));
    assert!(i.title.contains("authentication failure"), "{}", i.title);
    assert_schema_valid(&i);
}

#[test]
fn access_log_common_and_combined() {
    let (format, i, problems) = one(ACCESS_LOG.as_bytes());
    assert_eq!(format, Format::AccessLog);
    assert!(problems.is_empty());
    assert_eq!(i.events.len(), 2);
    assert_eq!(i.events[1].action.as_deref(), Some("POST"));
    assert_eq!(i.events[1].timestamp.as_deref(), Some("2026-03-02T04:20:03+00:00"));
    assert!(i.has_observable(K::Ipv4, "198.51.100.7"));
    assert!(i.has_observable(K::User, "admin"));
    assert!(i.has_observable(K::Url, "http://evil.example.com/x"));
    assert!(i.has_observable(K::Domain, "evil.example.com"));
    assert!(i.has_observable(K::FilePath, "/cgi-bin/upload.cgi"));
    assert_schema_valid(&i);
}

#[test]
fn jsonl_with_message() {
    let text = [
        json!({"@timestamp": "2026-03-02T05:00:00Z", "host": "web01", "level": "error", "message": "upload from 192.0.2.10 of C:\\Users\\bob\\a.ps1", "user": "bob"}),
        json!({"ts": "2026-03-02T05:01:00Z", "msg": "dns query evil-c2.xyz", "src_ip": "192.0.2.10"}),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let (format, i, problems) = one(text.as_bytes());
    assert_eq!(format, Format::Jsonl);
    assert!(problems.is_empty());
    assert_eq!(i.severity, Severity::High);
    assert_eq!(i.events[0].host.as_deref(), Some("web01"));
    assert_eq!(i.events[1].line, Some(2));
    let ip = i.observables_of(K::Ipv4).next().unwrap();
    assert_eq!((ip.field.as_str(), ip.count), ("/message", 2));
    assert_eq!(ip.elsewhere[0].field, "/src_ip");
    assert!(i.has_observable(K::User, "bob"));
    assert!(i.has_observable(K::FilePath, r"c:\users\bob\a.ps1"));
    assert!(i.has_observable(K::Domain, "evil-c2.xyz"));
    assert_schema_valid(&i);
}

#[test]
fn windows_events_flat_and_nested() {
    let flat = json!([{
        "EventID": 4688, "Computer": "WS-042.corp.example.com", "TimeCreated": "2026-03-02T06:00:00Z", "Level": 4,
        "EventData": {"SubjectUserName": "alice", "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
                      "CommandLine": "cmd.exe /c whoami & reg add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v upd"}
    }]);
    let (format, i, _) = one(flat.to_string().as_bytes());
    assert_eq!(format, Format::WindowsEvent);
    assert_eq!(i.events[0].action.as_deref(), Some("process creation"));
    assert_eq!(i.events[0].host.as_deref(), Some("WS-042.corp.example.com"));
    assert!(i.has_observable(K::User, "alice"));
    assert!(i.has_observable(K::Host, "ws-042.corp.example.com"));
    assert!(i.observables_of(K::CommandLine).any(|o| o.value.starts_with("cmd.exe /c whoami")));
    assert!(i.has_observable(K::RegistryKey, r"HKCU\software\microsoft\windows\currentversion\run"));
    assert!(i.has_observable(K::FilePath, r"c:\windows\system32\cmd.exe"));
    assert_schema_valid(&i);

    let nested = json!({"Event": {
        "System": {"Provider": {"@Name": "Microsoft-Windows-Security-Auditing"}, "EventID": "4625", "Level": "0",
                   "TimeCreated": {"@SystemTime": "2026-03-02T06:05:00.123Z"}, "Computer": "DC01"},
        "EventData": {"Data": [{"@Name": "TargetUserName", "#text": "svc_backup"}, {"@Name": "IpAddress", "#text": "10.1.2.3"}]}
    }});
    let (format, i, _) = one(nested.to_string().as_bytes());
    assert_eq!(format, Format::WindowsEvent);
    assert_eq!(i.events[0].action.as_deref(), Some("logon failure"));
    assert!(i.has_observable(K::User, "svc_backup"));
    assert!(i.has_observable(K::Ipv4, "10.1.2.3"));
    assert!(i.time_range.is_some());
}

#[test]
fn ecs_alert_nested_and_dotted() {
    let alert = json!({
        "@timestamp": "2026-03-02T07:00:00.000Z",
        "kibana.alert.rule.name": "Encoded PowerShell",
        "kibana.alert.severity": "high",
        "kibana.alert.uuid": "a1b2c3",
        "host": {"name": "ws-7"},
        "user": {"name": "CORP\\bob"},
        "source": {"ip": "2001:db8::7"},
        "process": {"command_line": "powershell.exe -nop -enc SQBFAFgA", "hash": {"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
        "event": {"action": "process-started"},
        "message": "Encoded PowerShell from 2001:db8::7"
    });
    let (format, i, _) = one(alert.to_string().as_bytes());
    assert_eq!(format, Format::Ecs);
    assert_eq!((i.title.as_str(), i.id.as_str(), i.severity), ("Encoded PowerShell", "a1b2c3", Severity::High));
    assert_eq!(i.events[0].action.as_deref(), Some("process-started"));
    assert_eq!(i.events[0].host.as_deref(), Some("ws-7"));
    assert!(i.has_observable(K::Ipv6, "2001:db8::7"));
    assert!(i.has_observable(K::User, r"corp\bob"));
    assert!(i.has_observable(K::CommandLine, "powershell.exe -nop -enc SQBFAFgA"));
    assert!(i.has_observable(K::Sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    let cmd = i.observables_of(K::CommandLine).next().unwrap();
    assert_eq!(cmd.field, "/process/command_line");
    assert_schema_valid(&i);
}

#[test]
fn wazuh_alerts_as_jsonl() {
    let a = json!({"timestamp": "2026-03-02T04:11:09.512+0000", "id": "1772424669.1",
        "rule": {"level": 5, "description": "sshd: authentication failed.", "id": "5716", "mitre": {"id": ["T1110.001"]}},
        "agent": {"id": "001", "name": "bastion-01", "ip": "10.0.0.5"}, "manager": {"name": "wazuh-manager"},
        "full_log": "Mar  2 04:11:09 bastion-01 sshd[4411]: Failed password for root from 203.0.113.45 port 51022 ssh2",
        "data": {"srcip": "203.0.113.45", "dstuser": "root"}, "location": "/var/log/auth.log"});
    let b = json!({"timestamp": "2026-03-02T04:17:40.100+0000", "rule": {"level": 12, "description": "Multiple authentication failures followed by a success."},
        "agent": {"name": "bastion-01"}, "full_log": "Accepted password for deploy from 203.0.113.45", "data": {"srcuser": "deploy"}});
    let text = format!("{a}\n{b}\n");
    let (format, i, problems) = one(text.as_bytes());
    assert_eq!(format, Format::Wazuh);
    assert!(problems.is_empty());
    assert_eq!(i.severity, Severity::High);
    assert_eq!(i.title, "Multiple authentication failures followed by a success.");
    assert!(i.id.starts_with("incident--"), "{}", i.id);
    assert_eq!(i.events[0].timestamp.as_deref(), Some("2026-03-02T04:11:09.512+00:00"));
    assert!(i.has_observable(K::Ipv4, "203.0.113.45"));
    assert!(i.has_observable(K::User, "root"));
    assert!(i.has_observable(K::User, "deploy"));
    assert!(i.has_observable(K::Host, "bastion-01"));
    assert!(!i.has_observable(K::Host, "wazuh-manager"));
    assert!(i.free.contains_key("rule"));
    assert_schema_valid(&i);
}

#[test]
fn plain_text_note() {
    let note = "Phishing wave: users got mail from billing@invoices-secure[.]com linking hxxps://evil[.]com/a.\n\
                The attachment report.pdf dropped a payload that exploits CVE-2024-12345 (version 1.2.3).";
    let (format, i, _) = one(note.as_bytes());
    assert_eq!(format, Format::Text);
    assert!(i.events.is_empty());
    assert!(i.title.starts_with("Phishing wave"));
    assert!(i.has_observable(K::Email, "billing@invoices-secure.com"));
    assert!(i.has_observable(K::Url, "https://evil.com/a"));
    assert!(i.has_observable(K::Cve, "CVE-2024-12345"));
    let domains: Vec<&str> = i.observables_of(K::Domain).map(|o| o.value.as_str()).collect();
    assert_eq!(domains, ["evil.com"], "no report.pdf, no 1.2.3");
    let url = i.observables_of(K::Url).next().unwrap();
    assert_eq!(url.raw, "hxxps://evil[.]com/a");
    assert_eq!(&i.description[url.span.0..url.span.1], "hxxps://evil[.]com/a");
    assert_eq!(url.field, "description");
    assert_schema_valid(&i);
}

#[test]
fn tricky_observables() {
    let note = r#"Beacon to 1.2.3[.]4 and fe80::1ff:fe23:4567:890a, ::1 and 2001:DB8:0:0:0:0:0:1.
Blob 0123456789abcdef0123456789abcdef0123456789abcdef (48 hex) and md5 d41d8cd98f00b204e9800998ecf8427e.
Dropped "C:\Program Files\Evil Co\upd ate.exe" by CORP\svc_admin; key HKLM\Software\Microsoft\Windows NT\CurrentVersion\Winlogon.
Contact soc@example.org. Files setup.sh, notes.txt and libfoo.so.1.2.3 are benign."#;
    let (_, i, _) = one(note.as_bytes());
    assert!(i.has_observable(K::Ipv4, "1.2.3.4"));
    for v6 in ["fe80::1ff:fe23:4567:890a", "::1", "2001:db8::1"] {
        assert!(i.has_observable(K::Ipv6, v6), "{v6}: {:?}", i.observables_of(K::Ipv6).collect::<Vec<_>>());
    }
    assert_eq!(i.observables_of(K::Md5).count(), 1, "the 48-digit blob yields no hash");
    assert_eq!(i.observables_of(K::Sha1).count(), 0);
    assert!(i.has_observable(K::FilePath, r"c:\program files\evil co\upd ate.exe"));
    assert!(i.has_observable(K::User, r"corp\svc_admin"));
    assert!(i.has_observable(K::RegistryKey, r"HKLM\software\microsoft\windows nt\currentversion\winlogon"));
    assert!(i.has_observable(K::Email, "soc@example.org"));
    let domains: Vec<&str> = i.observables_of(K::Domain).map(|o| o.value.as_str()).collect();
    assert!(domains.is_empty(), "{domains:?}");
    for o in &i.observables {
        assert_eq!(&i.description[o.span.0..o.span.1], o.raw, "{o:?}");
    }
}

#[test]
fn bad_lines_are_reported_with_numbers_and_good_ones_kept() {
    let text = format!("{AUTH_LOG}this line is not syslog at all\n\nMar  2 04:19:00 bastion-01 sshd[1]: Disconnected from 203.0.113.45\n");
    let report = read(text.as_bytes(), Format::Syslog, &opts()).unwrap();
    assert_eq!(report.incidents[0].events.len(), 5);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    let p = &report.problems[0];
    assert_eq!((p.code.as_str(), p.pointer.as_str()), ("intake.bad-line", "/lines/5"));
    assert!(p.message.starts_with("line 5: not a syslog line"), "{}", p.message);

    // JSON Lines: an invalid line and an object without a message.
    let jsonl = "{\"message\": \"ok 10.0.0.1\"}\n{oops\n{\"other\": 1}\n{\"msg\": \"ok too\"}\n";
    let report = read(jsonl.as_bytes(), Format::Jsonl, &opts()).unwrap();
    assert_eq!(report.incidents[0].events.len(), 2);
    let pointers: Vec<&str> = report.problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(pointers, ["/lines/2", "/lines/3"]);
    assert!(report.problems[1].message.contains("no `message`"));

    // Limits: a long line is skipped and named, lines past the limit are reported once.
    let limited = IntakeOptions { max_line_length: 120, max_lines: 3, ..opts() };
    let long = format!("Mar  2 04:11:09 h sshd[1]: {}\n{AUTH_LOG}", "x".repeat(200));
    let report = read(long.as_bytes(), Format::Syslog, &limited).unwrap();
    let codes: Vec<(&str, &str)> = report.problems.iter().map(|p| (p.code.as_str(), p.pointer.as_str())).collect();
    assert_eq!(codes, [("intake.line-too-long", "/lines/1"), ("intake.too-many-lines", "/lines/4")]);
    assert_eq!(report.incidents[0].events.len(), 2);

    // A whole JSON list of Windows events: the bad item is named by its JSON pointer.
    let list = json!([{"EventID": 4624, "Computer": "a"}, 7, {"Computer": "b"}]).to_string();
    let report = read(list.as_bytes(), Format::WindowsEvent, &opts()).unwrap();
    let pointers: Vec<&str> = report.problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(pointers, ["/1", "/2"]);
}

#[test]
fn unknown_and_unreadable_inputs_are_clear_errors() {
    assert!(
        matches!(detect(b"\x00\x01\x02\x03"), Err(IntakeError::UnknownFormat(m)) if m.contains("NUL byte at offset 0"))
    );
    let err = read_auto(br#"[{"foo": 1, "bar": 2}]"#, &opts()).unwrap_err();
    assert!(err.to_string().contains("keys: foo, bar"), "{err}");
    assert_eq!(read_auto(b"", &opts()).unwrap_err(), IntakeError::Empty);
    let err = read(b"hello\nworld\n", Format::Syslog, &opts()).unwrap_err();
    assert!(err.to_string().contains("not syslog input") && err.to_string().contains("/lines/1"), "{err}");
    let err = read(b"plain words", Format::Ecs, &opts()).unwrap_err();
    assert!(err.to_string().contains("expected JSON"), "{err}");
    let err = read(b"{\"a\": ", Format::Wazuh, &opts()).unwrap_err();
    assert!(err.to_string().contains("invalid JSON at line 1"), "{err}");
    assert!("xml".parse::<Format>().unwrap_err().to_string().contains("unknown format name `xml`"));
}

#[test]
fn mixed_logs() {
    let text = format!("{AUTH_LOG}{ACCESS_LOG}{}\nfree text line with 10.9.8.7\n", json!({"message": "json line"}));
    let (format, i, problems) = one(text.as_bytes());
    assert_eq!(format, Format::Mixed);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(i.events.len(), 8);
    assert!(i.has_observable(K::Ipv4, "10.9.8.7"));
}

#[test]
fn seed004_sample_records_become_incidents() {
    let bytes = std::fs::read(sample_path()).expect("read sample.json");
    assert_eq!(detect(&bytes), Ok(Format::Seed004));
    let report = read_auto(&bytes, &opts()).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.incidents.len(), 2);
    let i = &report.incidents[0];
    assert_eq!((i.id.as_str(), i.title.as_str()), ("T1110_sample_1", "Brute Force (T1110)"));
    assert_eq!(i.source.name.as_deref(), Some("T1110_sample_1"));
    assert_eq!(i.events.len(), 3);
    assert!(i.has_observable(K::Ipv4, "203.0.113.45"));
    assert!(i.has_observable(K::Host, "bastion-01"));
    assert!(i.has_observable(K::FilePath, "/etc/sudoers.d"));
    assert!(i.time_range.is_some());
    // Nothing of the ground truth leaks: not a mitigation step, not a command, not the playbook.
    let dataset: Value = serde_json::from_slice(&bytes).unwrap();
    for (n, incident) in report.incidents.iter().enumerate() {
        let text = serde_json::to_string(incident).unwrap();
        let record = dataset[n].as_object().unwrap().values().next().unwrap();
        for m in record["ground_truth_mitigations"].as_array().unwrap() {
            for field in ["step", "command"] {
                let secret = m[field].as_str().unwrap();
                assert!(!text.contains(secret), "incident {n} leaks {field} `{secret}`");
            }
        }
        assert!(!text.contains("playbook--"), "incident {n} leaks the playbook");
        assert_schema_valid(incident);
    }
    // One record alone reads the same.
    let single = serde_json::to_vec(&dataset[1]).unwrap();
    let report = read(&single, Format::Seed004, &opts()).unwrap();
    assert_eq!(report.incidents[0].id, "T1486_sample_1");
}

#[test]
fn same_input_same_id_and_no_panic_on_garbage() {
    let a = read_auto(AUTH_LOG.as_bytes(), &opts()).unwrap();
    let b = read_auto(AUTH_LOG.as_bytes(), &opts()).unwrap();
    assert_eq!(a.incidents[0].id, b.incidents[0].id);
    let garbage: Vec<&[u8]> = vec![
        b"{",
        b"[",
        b"[1,2,3]",
        b"{\"EventID\": {}}",
        b"<999>1 - - - -",
        b"\xff\xfe",
        b"[[[[[[[[[[[[",
        b"Mar 99 99:99:99 h x: y",
        "é[.]ü hxxp://ü[.]é/\u{ffff}".as_bytes(),
    ];
    // Garbage gives an error that says something, or a report that accounts for the input (an
    // incident or a problem): never a panic, never a silent empty success.
    let accounted = |r: Result<intake::IntakeReport, IntakeError>, what: &str| match r {
        Ok(report) => {
            assert!(!report.incidents.is_empty() || !report.problems.is_empty(), "{what}: read as nothing, silently")
        }
        Err(e) => assert!(!e.to_string().trim().is_empty(), "{what}: empty error"),
    };
    for g in garbage {
        let name = String::from_utf8_lossy(g).into_owned();
        accounted(read_auto(g, &opts()), &name);
        for f in Format::ALL {
            accounted(read(g, f, &opts()), &format!("{name} as {f:?}"));
        }
    }
    let deep = "[".repeat(10_000);
    let err = read_auto(deep.as_bytes(), &opts()).expect_err("10,000 open brackets are not an incident");
    assert!(!err.to_string().is_empty());
}

#[test]
fn cli_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, format!("{AUTH_LOG}garbage line\n")).unwrap();
    let log = log.to_str().unwrap();

    let (code, out, err) = cli(&["intake", log, "--year", "2026"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("syslog (1 incident, 1 problem)"), "{out}");
    assert!(out.contains("ipv4 (1): 203.0.113.45 (x3)"), "{out}");
    assert!(out.contains("[intake.bad-line] at /lines/5"), "{out}");

    let (code, out, _) = cli(&["intake", log, "--json", "--format", "syslog"]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["format"], "syslog");
    assert_eq!(report["problems"][0]["pointer"], "/lines/5");
    let v = validator();
    assert!(v.is_valid(&report["incidents"][0]));

    let (code, out, _) = cli(&["intake", sample_path().to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["incidents"].as_array().map(Vec::len), Some(2));

    let bin = dir.path().join("x.bin");
    std::fs::write(&bin, b"\x00\x01\x02").unwrap();
    let (code, _, err) = cli(&["intake", bin.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("x.bin") && err.contains("unknown input format"), "{err}");

    let (code, _, err) = cli(&["intake", log, "--format", "xml"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown format name `xml`"), "{err}");

    let (code, _, err) = cli(&["intake", log, "--max-bytes", "10"]);
    assert_eq!(code, 2);
    assert!(err.contains("over the limit"), "{err}");

    let _ = intake::Format::ALL;
}
