//! The baseline host response: the standard host-level actions (kill, block, lock, delete, reset,
//! patch, scan) of `playbooks/responses/baseline.json`, planned for an incident whatever its
//! techniques, for the operating system its hosts run ([`infer_os`]).
//!
//! The baseline acts on every value of a kind linked to the mapped techniques' evidence, and
//! evidence names more than the adversary's own: files it only read (`/etc/os-release`), servers it
//! abused (`w3wp`), its victims' addresses. So beyond [`super::guard`], the baseline keeps only
//! what looks like the adversary's: files in staging places or of executable and archive types
//! ([`looks_dropped`]), processes that are not business services ([`is_service_host`]), and outside
//! addresses when the evidence holds outside and internal ones.

use super::{
    filter_reason, plan_action, platform_name, platforms_seen, targets, Plan, PlanOptions, PlannedAction,
    PlannedTechnique, SkippedTarget,
};
use crate::attack::responses::{Platform, ResponseLibrary};
use crate::attack::Catalog;
use crate::incident::{Incident, ObservableKind};
use serde::Serialize;

/// The baseline host response chosen for an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// The operating system the commands are for ([`infer_os`]).
    pub os: Platform,
    /// Why that operating system.
    pub os_reason: String,
    /// True when nothing in the incident told the operating system and `os` is the default.
    pub os_default: bool,
    /// In phase order.
    pub actions: Vec<PlannedAction>,
}

/// The baseline host response ([`ResponseLibrary::baseline`]) for an incident whose hosts run
/// `os`: its actions for `os` (and for `any`), acting on the observables linked to the plan's
/// techniques (the events that are evidence for any of them), rendered like every other action.
/// Actions the options filter out are left out; an action whose observable the incident lacks is
/// returned with `missing` set, as in a plan.
pub fn baseline_actions(
    library: &ResponseLibrary,
    catalog: &Catalog,
    options: &PlanOptions,
    incident: &Incident,
    plan: &Plan,
    os: Platform,
) -> Vec<PlannedAction> {
    let Some(k) = library.baseline() else { return Vec::new() };
    let events: std::collections::HashSet<Option<usize>> =
        plan.techniques.iter().flat_map(|t| t.evidence.iter().map(|e| e.event)).collect();
    let pools = targets::Pools::for_events(incident, &events, options.max_values);
    k.ordered_actions()
        .into_iter()
        .filter(|a| a.platform == os || a.platform == Platform::Any)
        .filter(|a| filter_reason(a, options).is_none())
        .map(|a| {
            let mut planned = plan_action(catalog, options, k.key(), a, &pools);
            keep_adversary_values(&mut planned);
            planned
        })
        .collect()
}

/// Moves the values that are not the adversary's to the action's skipped targets, with the
/// reason: files it did not drop, business services it abused, and internal addresses when the
/// evidence has an outside one. Only destructive actions and blocks are narrowed.
fn keep_adversary_values(a: &mut PlannedAction) {
    let Some(kind) = a.acts_on.first().copied() else { return };
    let outside = |v: &str| !is_internal_ipv4(v);
    let any_outside = a.commands.iter().any(|c| c.targets.get("ipv4").is_some_and(|v| outside(v)));
    let destructive = a.destructive;
    let not_theirs = |v: &str| -> Option<&'static str> {
        match kind {
            ObservableKind::FilePath if destructive => (!looks_dropped(v)).then_some(
                "not a dropped file: only files in staging places or of executable or archive types are deleted",
            ),
            ObservableKind::Process if destructive => {
                is_service_host(v).then_some("a business service the adversary only abused")
            }
            ObservableKind::Ipv4 if any_outside => {
                (!outside(v)).then_some("an internal address (a victim), while the evidence has an outside one")
            }
            _ => None,
        }
    };
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    for c in std::mem::take(&mut a.commands) {
        match c.targets.get(kind.as_str()).and_then(|v| not_theirs(v)) {
            Some(why) => skipped.push(SkippedTarget { targets: c.targets.clone(), reason: why.to_owned() }),
            None => kept.push(c),
        }
    }
    a.observables.retain(|o| not_theirs(&o.value).is_none());
    a.commands = kept;
    a.skipped.extend(skipped);
}

/// A private, loopback or link-local IPv4 address: inside the organization.
pub fn is_internal_ipv4(value: &str) -> bool {
    match value.parse::<std::net::Ipv4Addr>() {
        Ok(ip) => ip.is_private() || ip.is_loopback() || ip.is_link_local(),
        Err(_) => false,
    }
}

/// The operating system of the incident's hosts, for commands that exist per system, and why:
/// the one [`platforms_seen`] shows; else the one the incident's words point to more (PowerShell,
/// `.exe`, registry, Active Directory against bash, cron, `/etc`, sudo); else the one the mapped
/// techniques are limited to in ATT&CK; else Linux.
pub fn infer_os(incident: &Incident, techniques: &[PlannedTechnique], catalog: &Catalog) -> (Platform, String) {
    let seen = platforms_seen(incident);
    if let [one] = seen.as_slice() {
        return (*one, format!("the incident shows {} paths or logs", platform_name(*one)));
    }
    let (windows, linux) = os_cues(incident);
    if windows != linux {
        let os = if windows > linux { Platform::Windows } else { Platform::Linux };
        return (
            os,
            format!("the incident's words point to {} ({windows} Windows, {linux} Linux cues)", platform_name(os)),
        );
    }
    for t in techniques {
        let Some(tech) = catalog.technique(&t.id) else { continue };
        let has = |name: &str| tech.platforms.iter().any(|p| p.eq_ignore_ascii_case(name));
        match (has("Windows"), has("Linux")) {
            (true, false) => return (Platform::Windows, format!("ATT&CK lists {} for Windows only", t.id)),
            (false, true) => return (Platform::Linux, format!("ATT&CK lists {} for Linux and not Windows", t.id)),
            _ => {}
        }
    }
    (Platform::Linux, OS_DEFAULT_REASON.into())
}

pub(crate) const OS_DEFAULT_REASON: &str = "nothing tells; Linux is the default";

/// How much of the incident's text [`os_cues`] reads.
const OS_CUE_BYTES: usize = 256 * 1024;

/// Counts of words that point to Windows and to Linux hosts in the incident's text.
fn os_cues(incident: &Incident) -> (usize, usize) {
    const WINDOWS: &[&str] = &[
        "powershell",
        "cmd.exe",
        ".exe",
        ".dll",
        ".ps1",
        ".bat",
        ".vbs",
        ".lnk",
        "registry",
        "hklm",
        "hkcu",
        "windows",
        "wmi",
        "schtasks",
        "rundll32",
        "regsvr32",
        "mshta",
        "lsass",
        "mimikatz",
        "active directory",
        "domain controller",
        "rdp",
        "psexec",
        "event id",
        "eventid",
        "sysmon",
        "defender",
        "ntlm",
        "kerberos",
        "c:\\",
        "%appdata%",
        "%temp%",
        "group policy",
        "gpo",
        "office macro",
        "winrm",
    ];
    const LINUX: &[&str] = &[
        "bash",
        "/bin/",
        "/etc/",
        "/tmp/",
        "/var/",
        "/home/",
        "cron",
        "ssh",
        "sudo",
        "linux",
        "ubuntu",
        "centos",
        "debian",
        "rhel",
        "systemd",
        "systemctl",
        ".sh",
        "apache",
        "nginx",
        "chmod",
        "wget",
        "curl",
        "iptables",
        "auditd",
        "/dev/shm",
        "authorized_keys",
        "shell script",
        "kernel module",
    ];
    let mut text = format!("{} {}", incident.title, incident.description).to_lowercase();
    for e in &incident.events {
        // The first events tell as well as all of them; a million-line log is not read again.
        if text.len() >= OS_CUE_BYTES {
            break;
        }
        text.push(' ');
        text.push_str(&e.raw.to_lowercase());
        if e.raw.is_empty() {
            text.push_str(&e.details.to_lowercase());
        }
    }
    let count = |cues: &[&str]| cues.iter().filter(|c| contains_word(&text, c)).count();
    (count(WINDOWS), count(LINUX))
}

/// Whether `cue` occurs in `text` with no letter or digit glued to the ends of it that are
/// letters or digits themselves (`rdp` is not in `wordpress`, `.exe` is in `evil.exe`).
fn contains_word(text: &str, cue: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let (check_before, check_after) = (alnum(cue.chars().next()), alnum(cue.chars().last()));
    text.match_indices(cue).any(|(at, _)| {
        let glued_before = check_before && alnum(text[..at].chars().next_back());
        let glued_after = check_after && alnum(text[at + cue.len()..].chars().next());
        !glued_before && !glued_after
    })
}

/// A file the adversary dropped, as far as a path tells: a file (not a directory) in a
/// temporary, download, user-writable, web or staging directory, or of an executable or archive
/// type; never a system configuration file or a log. On Windows the file needs an extension (a
/// bare `C:\ProgramData\svc` is a directory more often than not); under the Unix temporary
/// directories anything below them counts (dropped ELF binaries have no extension).
pub fn looks_dropped(path: &str) -> bool {
    let p = path.to_ascii_lowercase().replace('\\', "/");
    const NEVER: &[&str] = &["/etc/", "/var/log/", "/logs/", "/windows/system32/config/", "/proc/", "/sys/"];
    if p.ends_with('/') || NEVER.iter().any(|n| p.starts_with(n) || p.contains(n)) {
        return false;
    }
    let last = p.rsplit('/').next().unwrap_or(&p);
    let has_extension = last.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty() && (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    let windows = p.as_bytes().get(1) == Some(&b':') || p.starts_with("//");
    if windows && !has_extension {
        return false;
    }
    let unix_temp = ["/tmp/", "/var/tmp/", "/dev/shm/"].iter().any(|d| p.starts_with(d) && p.len() > d.len());
    if !windows && !has_extension && !unix_temp {
        return false;
    }
    const STAGING: &[&str] = &[
        "/tmp/",
        "/var/tmp/",
        "/dev/shm/",
        "/downloads/",
        "/appdata/",
        "/programdata/",
        "/temp/",
        "/users/public/",
        "/perflogs/",
        "/var/www/",
        "/inetpub/",
        "/home/",
        "/root/",
        "/startup/",
        "/opt/",
        "/srv/",
    ];
    const TYPES: &[&str] = &[
        ".exe", ".dll", ".ps1", ".bat", ".cmd", ".vbs", ".js", ".jse", ".hta", ".lnk", ".scr", ".sh", ".py", ".pl",
        ".elf", ".so", ".bin", ".php", ".jsp", ".jspx", ".asp", ".aspx", ".war", ".jar", ".zip", ".rar", ".7z", ".tar",
        ".gz", ".iso", ".img", ".msi", ".docm", ".xlsm",
    ];
    // Something below the staging directory, not the directory itself (`/tmp/`).
    let below = |d: &&str| p.find(*d).is_some_and(|at| !p[at + d.len()..].trim_matches('/').is_empty());
    STAGING.iter().any(below) || TYPES.iter().any(|t| p.ends_with(t))
}

/// Processes that serve the business (web, database, mail servers, the desktop shell, browsers):
/// killing one stops the service, not the adversary, who only abused it. (An Office application
/// is not one: the document it holds open is often the malicious part.)
pub fn is_service_host(process: &str) -> bool {
    const HOSTS: &[&str] = &[
        "explorer",
        "w3wp",
        "httpd",
        "apache2",
        "nginx",
        "php-fpm",
        "java",
        "tomcat",
        "node",
        "sqlservr",
        "mysqld",
        "postgres",
        "oracle",
        "sshd",
        "dns",
        "named",
        "exchange",
        "chrome",
        "msedge",
        "firefox",
        "teams",
        "dockerd",
        "containerd",
        "kubelet",
    ];
    HOSTS.contains(&super::guard::image_name(process).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::intake::{read_auto, IntakeOptions};

    /// An incident from free text, read as the intake reads it.
    fn text_incident(text: &str) -> Incident {
        let report = read_auto(text.as_bytes(), &IntakeOptions::default()).expect("text read");
        report.incidents[0].clone()
    }

    fn windows_events() -> Incident {
        let events = serde_json::json!([{"EventID": 4688, "Computer": "WS-042", "TimeCreated": "2026-03-02T06:00:00Z",
            "EventData": {"NewProcessName": "C:\\Users\\Public\\mimikatz.exe", "CommandLine": "mimikatz.exe exit"}}]);
        read_auto(events.to_string().as_bytes(), &IntakeOptions::default()).expect("events").incidents[0].clone()
    }

    #[test]
    fn os_is_inferred_from_what_the_incident_shows_then_its_words_then_attack() {
        let catalog = Catalog::embedded();
        let (os, why) = infer_os(&windows_events(), &[], catalog);
        assert_eq!(os, Platform::Windows, "{why}");
        let linux = text_incident("The web server ran a bash one-liner from cron that downloaded a miner with wget.");
        assert_eq!(infer_os(&linux, &[], catalog).0, Platform::Linux);
        let windows = text_incident("An Office macro spawned powershell and wrote a Run key for persistence.");
        assert_eq!(infer_os(&windows, &[], catalog).0, Platform::Windows);
        // `rdp` inside `wordpress` is no Windows cue; with no cue at all Linux is the default.
        let (os, why) = infer_os(&text_incident("Suspicious activity on the wordpress site."), &[], catalog);
        assert_eq!((os, why.as_str()), (Platform::Linux, OS_DEFAULT_REASON));
        assert!(contains_word("ran evil.exe now", ".exe") && !contains_word("an .executable", ".exe"));
    }

    #[test]
    fn dropped_files_business_services_and_internal_addresses() {
        for p in [
            "/tmp/.x/miner",
            "/var/tmp/k.sh",
            r"C:\Users\ann\AppData\Local\Temp\elev.exe",
            "/opt/app/evil.so",
            "/home/bob/.x/pwn.c",
        ] {
            assert!(looks_dropped(p), "{p}");
        }
        for p in [
            "/etc/os-release",
            "/etc/cron.d/job",
            "/var/log/auth.log",
            r"C:\Windows\System32\config\SAM",
            "/tmp/",
            r"C:\Users\ann\AppData\",
            r"C:\Users\bob\AppData\Local",
            r"C:\ProgramData\svc",
            r"C:\Logs\app.log",
            "/home/bob/notes",
        ] {
            assert!(!looks_dropped(p), "{p}");
        }
        assert!(is_service_host("w3wp.exe") && is_service_host(r"C:\Windows\explorer.exe") && is_service_host("nginx"));
        assert!(!is_service_host("kworkerds") && !is_service_host("elev.exe") && !is_service_host("winword"));
        assert!(is_internal_ipv4("10.1.2.3") && !is_internal_ipv4("203.0.113.9") && !is_internal_ipv4("x"));
    }
}
