//! Values a response action must never target, whatever the knowledge says.
//!
//! Intake extracts every path, process, user and address it sees, including the parent process
//! (`C:\Windows\System32\cmd.exe`), the working directory (`/home/deploy`) and the machine account.
//! The renderer judges whether a value is *safe to quote*; this module judges whether it is a
//! *sensible target*. Values it excludes are listed with the reason and reported as skipped
//! targets, never rendered into a command; a responder who really means one (a trojanized system
//! binary) handles it by hand. Two kinds of exclusion:
//!
//! **Protected** values, whose removal would hurt the defender, not the adversary. The lists are
//! deliberately small and conservative:
//! - Windows files under `<drive>:\Windows\System32`, `SysWOW64`, `WinSxS`, `Sysnative`, directly in
//!   `<drive>:\Windows`, and the directories `<drive>:\`, `\Windows`, `\Users`, `\Users\<name>`,
//!   `\Program Files`, `\Program Files (x86)`, `\ProgramData`;
//! - Unix files under `/bin`, `/sbin`, `/usr/bin`, `/usr/sbin`, `/lib`, `/lib64`, `/usr/lib`,
//!   `/usr/lib64`, `/usr/libexec`, `/boot`, `/proc`, `/sys`, `/dev` (but not `/dev/shm/...`, a usual
//!   staging place); top-level directories and second-level directories of `/home`, `/var`,
//!   `/usr`, `/opt`, `/srv`, `/mnt`, `/media`; the account, sudo, host and ssh files of `/etc`;
//! - process ids 0, 1 and 4 (the kernel's idle task, init, the Windows System process);
//! - processes the OS cannot run without (`lsass`, `csrss`, `wininit`, `winlogon`, `smss`,
//!   `services`, `svchost`, `system`, `init`, `systemd`, `kthreadd`, `launchd`);
//! - built-in service principals (`SYSTEM`, `LOCAL SERVICE`, `NETWORK SERVICE`, with or without
//!   `NT AUTHORITY\`), the Unix superuser `root` (`pkill -u root` would kill the host), computer
//!   accounts (`NAME$`) and `-`;
//! - loopback, unspecified, broadcast and multicast addresses, and the host `localhost`.
//!
//! **Implausible** values, which cannot be what their kind says: a user, process or host name
//! with characters no account, image or host name has (shell or JSON syntax such as
//! `; | & $ ( ) < > " ' \``, or control characters). They are the signature of injected log content;
//! even where the renderer could quote them safely, acting on them makes no sense.

use crate::incident::ObservableKind;

const WINDOWS_SYSTEM_DIRS: [&str; 4] = ["system32", "syswow64", "winsxs", "sysnative"];
const UNIX_SYSTEM_PREFIXES: [&str; 13] = [
    "/bin/",
    "/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/lib/",
    "/lib64/",
    "/usr/lib/",
    "/usr/lib64/",
    "/usr/libexec/",
    "/boot/",
    "/proc/",
    "/sys/",
    "/dev/",
];
const UNIX_PARENT_DIRS: [&str; 7] = ["home", "var", "usr", "opt", "srv", "mnt", "media"];
const UNIX_CRITICAL_FILES: [&str; 10] = [
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/hosts",
    "/etc/fstab",
    "/etc/crontab",
    "/etc/resolv.conf",
    "/etc/ssh/sshd_config",
];
const CRITICAL_PROCESSES: [&str; 12] = [
    "lsass", "csrss", "wininit", "winlogon", "smss", "services", "svchost", "system", "init", "systemd", "kthreadd",
    "launchd",
];
const SERVICE_PRINCIPALS: [&str; 5] = ["system", "local service", "network service", "localsystem", "localservice"];

/// Why `value` must not be the target of a response action (`protected: ...` or
/// `implausible: ...`), or `None` when it may be.
pub fn excluded(kind: ObservableKind, value: &str) -> Option<String> {
    if let Some(why) = implausible(kind, value) {
        return Some(format!("implausible: {why}"));
    }
    protected(kind, value).map(|why| format!("protected: {why}"))
}

/// Characters no account, image or host name has.
fn implausible(kind: ObservableKind, value: &str) -> Option<String> {
    let (what, allowed): (&str, fn(char) -> bool) = match kind {
        ObservableKind::User => ("account name", |c| c.is_alphanumeric() || "._-@\\ $".contains(c)),
        ObservableKind::Process => ("process image name", |c| c.is_alphanumeric() || "._-+ ~\\/:()".contains(c)),
        ObservableKind::Host => ("host name", |c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        _ => return None,
    };
    match value.chars().find(|c| !allowed(*c)) {
        Some(c) if c.is_control() => Some(format!("no {what} contains the control character {}", c.escape_default())),
        Some(c) => Some(format!("no {what} contains `{c}`")),
        None if kind == ObservableKind::User && value.trim_end_matches('$').contains('$') => {
            Some(format!("no {what} contains `$` before its end"))
        }
        None => None,
    }
}

/// A process's image name: no directory, no `.exe`, lower case (`C:\Windows\LSASS.EXE` -> `lsass`),
/// the form every process list of the planner is written in.
pub fn image_name(process: &str) -> String {
    let name = process.rsplit(['/', '\\']).next().unwrap_or(process).to_ascii_lowercase();
    name.strip_suffix(".exe").map(str::to_owned).unwrap_or(name)
}

/// Why `value` is protected, or `None`.
pub fn protected(kind: ObservableKind, value: &str) -> Option<&'static str> {
    let v = value.trim().to_ascii_lowercase();
    match kind {
        ObservableKind::FilePath => protected_path(&v),
        ObservableKind::Process => CRITICAL_PROCESSES
            .contains(&image_name(&v).as_str())
            .then_some("a process the operating system cannot run without"),
        ObservableKind::User => {
            let bare = v.strip_prefix("nt authority\\").unwrap_or(&v);
            if SERVICE_PRINCIPALS.contains(&bare) {
                Some("a built-in service principal")
            } else if bare == "root" {
                Some("the superuser (locking it or killing its processes takes the host down; handle it by hand)")
            } else if v.ends_with('$') {
                Some("a computer account (disabling it breaks the machine's domain trust)")
            } else if v == "-" {
                Some("not an account (an empty field written as -)")
            } else {
                None
            }
        }
        ObservableKind::Ipv4 => v.parse::<std::net::Ipv4Addr>().ok().and_then(|ip| {
            (ip.is_loopback() || ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast())
                .then_some("a loopback, unspecified, broadcast or multicast address")
        }),
        ObservableKind::Ipv6 => v.parse::<std::net::Ipv6Addr>().ok().and_then(|ip| {
            (ip.is_loopback() || ip.is_unspecified() || ip.is_multicast())
                .then_some("a loopback, unspecified or multicast address")
        }),
        ObservableKind::Pid => matches!(v.as_str(), "0" | "1" | "4")
            .then_some("the kernel, init or the Windows System process (killing it stops the machine)"),
        ObservableKind::Host | ObservableKind::Domain => {
            (v == "localhost" || v == "localhost.localdomain").then_some("the local machine")
        }
        _ => None,
    }
}

fn protected_path(v: &str) -> Option<&'static str> {
    let b = v.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        let rest = v[2..].replace('/', "\\");
        let parts: Vec<&str> = rest.split('\\').filter(|p| !p.is_empty()).collect();
        return match parts.as_slice() {
            [] => Some("a drive root"),
            ["windows", dir, ..] if WINDOWS_SYSTEM_DIRS.contains(dir) => Some("a Windows system file or directory"),
            ["windows"] | ["windows", _] => Some("a Windows system file or directory"),
            ["users"] | ["users", _] | ["program files"] | ["program files (x86)"] | ["programdata"] => {
                Some("a system or profile directory")
            }
            _ => None,
        };
    }
    if v.starts_with("%systemroot%") || v.starts_with("%windir%") {
        return Some("a Windows system file or directory");
    }
    if v.starts_with('/') {
        if v.starts_with("/dev/shm/") && v.len() > "/dev/shm/".len() {
            return None;
        }
        if UNIX_SYSTEM_PREFIXES.iter().any(|p| v.starts_with(p)) {
            return Some("a system binary, library or device path");
        }
        if UNIX_CRITICAL_FILES.contains(&v.trim_end_matches('/')) {
            return Some("a system account, sudo, host or ssh configuration file");
        }
        let parts: Vec<&str> = v.split('/').filter(|p| !p.is_empty()).collect();
        return match parts.as_slice() {
            [] | [_] => Some("a top-level directory"),
            [first, _] if UNIX_PARENT_DIRS.contains(first) => Some("a home or system directory"),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use ObservableKind as K;

    #[test]
    fn system_paths_are_protected_payloads_are_not() {
        for p in [
            r"C:\Windows\System32\cmd.exe",
            r"c:\windows\syswow64\rundll32.exe",
            r"C:\Windows\explorer.exe",
            r"C:\Users\alice",
            r"C:\",
            "/usr/bin/curl",
            "/bin/bash",
            "/home/deploy",
            "/home/deploy/",
            "/tmp",
            "/etc/shadow",
            "/dev/shm",
            "%SystemRoot%\\System32\\cmd.exe",
        ] {
            assert!(protected(K::FilePath, p).is_some(), "{p} should be protected");
        }
        for p in [
            r"C:\Users\Public\upd.exe",
            r"C:\Windows\Temp\l.dmp",
            r"c:\users\alice\appdata\roaming\x.ps1",
            "/tmp/.k.sh",
            "/dev/shm/x",
            "/home/deploy/.ssh/authorized_keys",
            "/etc/ld.so.preload",
            "/etc/cron.d/updater",
            "/var/www/html/shell.php",
        ] {
            assert_eq!(protected(K::FilePath, p), None, "{p} should not be protected");
        }
    }

    #[test]
    fn implausible_names() {
        for (kind, v) in [
            (K::User, "x;rm -rf /"),
            (K::User, "x'; rm -rf / #"),
            (K::User, "$(reboot)"),
            (K::User, "a$b"),
            (K::User, "evil\u{1b}]0;x\u{7}"),
            (K::Host, "ws-042\"},\"x\":{\"y"),
            (K::Host, "ws 042"),
            (K::Process, "a|b"),
        ] {
            let why = excluded(kind, v).unwrap_or_else(|| panic!("{v:?} accepted as {kind}"));
            assert!(why.starts_with("implausible"), "{why}");
        }
        for (kind, v) in [
            (K::User, "alice"),
            (K::User, "CORP\\bob"),
            (K::User, "John Smith"),
            (K::User, "j.doe@corp.example"),
            (K::Host, "ws-042.corp.example.com"),
            (K::Process, "upd"),
            (K::Process, "Program (x86) tool"),
        ] {
            assert_eq!(excluded(kind, v), None, "{v}");
        }
        assert!(excluded(K::User, "WS-042$").unwrap().starts_with("protected"));
        assert_eq!(excluded(K::CommandLine, "a;b|c"), None, "free-form kinds are left to the renderer");
    }

    #[test]
    fn processes_users_addresses_hosts() {
        assert!(protected(K::Process, "lsass").is_some());
        assert!(protected(K::Process, "LSASS.EXE").is_some());
        assert!(protected(K::Process, "mimikatz").is_none());
        assert!(protected(K::User, "NT AUTHORITY\\SYSTEM").is_some());
        assert!(protected(K::User, "WS-042$").is_some());
        assert!(protected(K::User, "-").is_some());
        assert!(protected(K::User, "alice").is_none());
        assert!(protected(K::User, "root").is_some() && protected(K::User, "ROOT").is_some());
        assert!(protected(K::User, "rootkit-ops").is_none());
        assert!(protected(K::Pid, "4").is_some() && protected(K::Pid, "1").is_some());
        assert!(protected(K::Pid, "6412").is_none());
        assert!(protected(K::Ipv4, "127.0.0.1").is_some());
        assert!(protected(K::Ipv4, "255.255.255.255").is_some());
        assert!(protected(K::Ipv4, "203.0.113.45").is_none());
        assert!(protected(K::Ipv6, "::1").is_some());
        assert!(protected(K::Host, "localhost").is_some());
        assert!(protected(K::Host, "ws-042.corp.example.com").is_none());
        assert!(protected(K::Sha256, "00").is_none());
    }
}
