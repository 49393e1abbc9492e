//! What a run may do, and how far it may go: approvals, allowed targets, per-target
//! concurrency, retries and the limits. Read from `--policy FILE` (JSON) and flags; every field
//! has a default, so `{}` is a valid policy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use regex::RegexSet;
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The run policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExecutionPolicy {
    /// Which steps wait for a person's approval before they run.
    pub approval: ApprovalMode,
    /// Answer every approval and manual question with approve (`--approve-all`).
    pub approve_all: bool,
    /// Targets steps may act on: target ids, addresses, or `*` globs over either
    /// (`10.0.*`, `*.corp.example`). Unset: any target. A step on another target fails.
    pub allowed_targets: Option<Vec<String>>,
    /// Most steps acting on one target at once, across the runs of this process. Unset: no limit.
    pub target_concurrency: Option<usize>,
    /// Retries of commands that failed for a transient reason (unreachable, timed out).
    pub retry: RetryPolicy,
    /// Most iterations of one while-condition step.
    pub max_while_iterations: u32,
    /// Deepest nesting of sub-playbooks (playbook-action steps).
    pub max_depth: u32,
    /// Most step instances one run may execute (a runaway guard).
    pub max_steps: u64,
    /// Timeout of a step that sets none, in milliseconds.
    pub default_step_timeout_ms: u64,
    /// How long a question to a person waits, in milliseconds.
    pub question_timeout_ms: u64,
    /// Captured output kept per command and stream, in bytes.
    pub output_limit: usize,
    /// What a condition the condition language cannot read (free text) does.
    pub free_text_conditions: FreeTextConditions,
}

impl Default for ExecutionPolicy {
    fn default() -> ExecutionPolicy {
        ExecutionPolicy {
            approval: ApprovalMode::Destructive,
            approve_all: false,
            allowed_targets: None,
            target_concurrency: None,
            retry: RetryPolicy::default(),
            max_while_iterations: 100,
            max_depth: 8,
            max_steps: 100_000,
            default_step_timeout_ms: 10 * 60 * 1000,
            question_timeout_ms: 60 * 60 * 1000,
            output_limit: super::connector::DEFAULT_OUTPUT_LIMIT,
            free_text_conditions: FreeTextConditions::Reject,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalMode {
    /// Steps marked or classified destructive wait for approval.
    Destructive,
    /// Every action step waits for approval.
    Always,
    /// Nothing waits (the playbook's own manual steps still do).
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreeTextConditions {
    /// The run is refused before it starts, naming the condition and where it stops parsing.
    Reject,
    /// A person decides the condition when the run reaches it.
    Ask,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all (1: no retry).
    pub max_attempts: u32,
    /// Wait before the first retry, doubled for each next one.
    pub backoff_ms: u64,
    /// Longest wait between attempts.
    pub max_backoff_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { max_attempts: 1, backoff_ms: 500, max_backoff_ms: 30_000 }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt` (2 is the first retry).
    pub fn backoff(&self, attempt: u32) -> std::time::Duration {
        let doublings = attempt.saturating_sub(2).min(30);
        let ms = self.backoff_ms.saturating_mul(1u64 << doublings).min(self.max_backoff_ms);
        std::time::Duration::from_millis(ms)
    }
}

impl ExecutionPolicy {
    /// Whether `target` (its id and addresses) may be acted on; the reason when not.
    pub fn target_allowed(&self, id: &str, addresses: &[&str]) -> Result<(), String> {
        let Some(allowed) = &self.allowed_targets else { return Ok(()) };
        let hit =
            allowed.iter().any(|p| std::iter::once(id).chain(addresses.iter().copied()).any(|v| glob_match(p, v)));
        if hit {
            Ok(())
        } else {
            let shown = if addresses.is_empty() { id.to_owned() } else { format!("{id} ({})", addresses.join(", ")) };
            Err(format!("target {shown} is not in the policy's allowed_targets"))
        }
    }
}

/// `*` matches any run of characters; everything else matches itself (case-insensitive, as host
/// names are).
pub fn glob_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let v: Vec<char> = value.to_lowercase().chars().collect();
    // Iterative matching with one backtrack point: linear enough for short patterns.
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if pi < p.len() && p[pi] == v[vi] {
            pi += 1;
            vi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Commands that destroy or cut something off: what the default approval policy stops for.
/// Containment that only blocks traffic counts too: it can cut a business off.
const DESTRUCTIVE_PATTERNS: &[&str] = &[
    r"(?i)(^|[\s;|&(])(rm|rmdir|shred|unlink|del|erase|rd)\s",
    r"(?i)\bremove-item\b",
    r"(?i)(^|[\s;|&(])(kill|pkill|killall|taskkill|skill)\b",
    r"(?i)\bstop-(process|service|computer)\b",
    r"(?i)\brestart-computer\b",
    r"(?i)(^|[\s;|&(])(shutdown|reboot|halt|poweroff)\b",
    r"(?i)\b(userdel|deluser|groupdel)\b",
    r"(?i)\busermod\s+.*-(L|-lock|e)\b",
    r"(?i)\bpasswd\s+.*-(l|-lock|d|-delete)\b",
    r"(?i)\b(disable|remove)-(adaccount|aduser|localuser)\b",
    r"(?i)\bnet\s+user\b.*\/(active:no|delete)",
    r"(?i)\b(iptables|ip6tables|nft)\b.*\b(drop|reject)\b",
    r"(?i)\bufw\s+(deny|reject)\b",
    r"(?i)\bnetsh\b.*\bblock\b",
    r"(?i)\bnew-netfirewallrule\b.*\bblock\b",
    r"(?i)\bsystemctl\s+(stop|disable|mask|kill)\b",
    r"(?i)\b(mkfs|wipefs|fdisk|format)\b",
    r"(?i)\bdd\s+.*\bof=",
    r"(?i)\btruncate\s+-s\s*0\b",
    r"(?i)\bchmod\s+0*00?0\b",
    r"(?i)\b(quarantine|isolate|contain)\b",
];

/// OpenC2 actions that change the world.
const DESTRUCTIVE_OPENC2_ACTIONS: &[&str] =
    &["deny", "contain", "delete", "stop", "restart", "remediate", "restore", "update", "set", "start", "create"];

/// Decides whether a command is destructive.
#[derive(Debug)]
pub struct DestructiveClassifier {
    /// All patterns at once (one pass over the command), and each alone to show what matched.
    set: RegexSet,
    each: Vec<regex::Regex>,
}

impl Default for DestructiveClassifier {
    fn default() -> DestructiveClassifier {
        let each = DESTRUCTIVE_PATTERNS.iter().map(|p| regex::Regex::new(p).expect("the patterns are valid")).collect();
        DestructiveClassifier { set: RegexSet::new(DESTRUCTIVE_PATTERNS).expect("the patterns are valid"), each }
    }
}

impl DestructiveClassifier {
    /// Why the command is destructive, or None.
    pub fn classify(&self, command_type: &str, text: &str) -> Option<String> {
        match command_type {
            "http-api" => {
                let method = text.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                matches!(method.as_str(), "DELETE" | "POST" | "PUT" | "PATCH")
                    .then(|| format!("http-api {method} changes the target"))
            }
            "openc2-http" => {
                let action = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("action").and_then(|a| a.as_str()).map(str::to_ascii_lowercase))?;
                DESTRUCTIVE_OPENC2_ACTIONS.contains(&action.as_str()).then(|| format!("OpenC2 action `{action}`"))
            }
            "manual" => None,
            _ => {
                let hit = self.set.matches(text).into_iter().next()?;
                let m = self.each[hit].find(text)?;
                Some(format!("`{}` is destructive", m.as_str().trim()))
            }
        }
    }
}

/// Per-target locks shared by the runs of one process.
#[derive(Debug, Clone, Default)]
pub struct TargetLocks {
    limit: Option<usize>,
    by_target: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl TargetLocks {
    pub fn new(limit: Option<usize>) -> TargetLocks {
        TargetLocks { limit, by_target: Arc::default() }
    }

    /// Waits for a slot on `target` (at once when there is no limit).
    pub async fn acquire(&self, target: &str) -> Option<OwnedSemaphorePermit> {
        let limit = self.limit?;
        let sem = {
            let mut map = self.by_target.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(target.to_owned()).or_insert_with(|| Arc::new(Semaphore::new(limit.max(1)))).clone()
        };
        sem.acquire_owned().await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_ids_and_addresses() {
        assert!(glob_match("10.0.*", "10.0.3.7"));
        assert!(glob_match("*.corp.example", "WS-17.corp.example"));
        assert!(!glob_match("*.corp.example", "corp.example.evil"));
        assert!(glob_match("linux--*", "linux--1234"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        let p = ExecutionPolicy { allowed_targets: Some(vec!["10.0.*".into()]), ..ExecutionPolicy::default() };
        assert!(p.target_allowed("linux--1", &["10.0.0.5"]).is_ok());
        let err = p.target_allowed("linux--2", &["192.168.1.5"]).unwrap_err();
        assert_eq!(err, "target linux--2 (192.168.1.5) is not in the policy's allowed_targets");
        assert!(ExecutionPolicy::default().target_allowed("any", &[]).is_ok());
    }

    #[test]
    fn destructive_commands_are_recognised_and_reads_are_not() {
        let c = DestructiveClassifier::default();
        for (t, cmd) in [
            ("bash", "rm -f /tmp/payload.sh"),
            ("bash", "pkill -KILL -f miner"),
            ("bash", "iptables -A INPUT -s 1.2.3.4 -j DROP"),
            ("bash", "usermod -L bob"),
            ("powershell", "Stop-Process -Id 6412 -Force"),
            ("powershell", "Disable-ADAccount -Identity bob"),
            ("ssh", "systemctl stop sshd"),
            ("http-api", "DELETE /api/v1/sessions/42 HTTP/1.1"),
            ("openc2-http", r#"{"action": "deny", "target": {"ipv4_connection": {}}}"#),
        ] {
            assert!(c.classify(t, cmd).is_some(), "{t}: {cmd}");
        }
        for (t, cmd) in [
            ("bash", "ps aux | grep miner"),
            ("bash", "grep -r firmware /var/log"),
            ("powershell", "Get-Process -Id 6412"),
            ("http-api", "GET /api/v1/hosts HTTP/1.1"),
            ("openc2-http", r#"{"action": "query", "target": {"features": []}}"#),
            ("manual", "Delete the account"),
        ] {
            assert!(c.classify(t, cmd).is_none(), "{t}: {cmd}");
        }
        assert_eq!(c.classify("bash", "rm -rf /tmp/x").unwrap(), "`rm` is destructive");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let r = RetryPolicy { max_attempts: 5, backoff_ms: 100, max_backoff_ms: 350 };
        let ms: Vec<u128> = (2..=5).map(|a| r.backoff(a).as_millis()).collect();
        assert_eq!(ms, [100, 200, 350, 350]);
    }

    #[test]
    fn policies_read_from_json_with_defaults_and_refuse_unknown_fields() {
        let p: ExecutionPolicy =
            serde_json::from_str(r#"{"approval": "never", "retry": {"max_attempts": 3}}"#).unwrap();
        assert_eq!(p.approval, ApprovalMode::Never);
        assert_eq!(p.retry.max_attempts, 3);
        assert_eq!(p.retry.backoff_ms, 500);
        assert_eq!(p.max_while_iterations, 100);
        assert!(serde_json::from_str::<ExecutionPolicy>(r#"{"aproval": "never"}"#).is_err());
    }
}
