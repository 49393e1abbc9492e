//! Observable extraction: IPv4/IPv6 addresses, domains, URLs, e-mail addresses, MD5/SHA-1/SHA-256
//! hashes, file paths, user names, host names, command lines, CVE ids and registry keys, each with
//! the byte span where it was written.
//!
//! Why it is built this way:
//! - **Defanged text is understood.** Analysts write `hxxps://evil[.]com` so nobody clicks it; the
//!   text is first refanged into a copy with a byte map back to the original, so matches are found
//!   on the clean form but `raw` and `span` describe what was written.
//! - **Precision over recall for domains.** A word with a dot is a domain only when its last label
//!   is a known top-level domain that is not a common file extension (`report.pdf`, `setup.sh`,
//!   `1.2.3` are not domains); defanged names (`evil[.]xyz`) and URL hosts are always domains.
//! - **Hashes are whole hex runs** of exactly 32, 40 or 64 digits, so a longer hex blob never
//!   yields a hash from its middle.
//! - **Fast.** Regexes are compiled once ([`LazyLock`]), most are skipped by a cheap byte test when
//!   the text cannot contain their kind, hashes are found by a hand-written scan, and the word
//!   boundaries are ASCII so the regex engine keeps its DFA on any input.
//!
//! [`extract`] works on one text; [`ObservableSet`] deduplicates across a whole incident by
//! `(kind, value)` while counting and keeping positions.

use super::{Observable, ObservableKind, Occurrence};
use regex::Regex;
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

/// One match in one text: `start..end` are byte offsets of the raw form in that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub kind: ObservableKind,
    /// Normalized (see [`Observable::value`]).
    pub value: String,
    pub start: usize,
    pub end: usize,
}

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this file: a failure is a defect caught by the unit tests.
    Regex::new(pattern).unwrap_or_else(|e| panic!("observable pattern does not compile: {e}"))
}

static DEFANG: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\[(?:\.|dot|:|://|@|at)\]|\((?:\.|dot)\)|\{\.\}|hxxp|hxtp|h\[tt\]p|fxp://"));

static URL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)(?-u:\b)(?:https?|ftps?|sftp|wss?|smb|file|tcp|udp)://[^\s"'<>`{}|\\^\[\]]+"#));

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)(?-u:\b)[a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}(?-u:\b)")
});

static IPV6: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)(?:[0-9a-f]{0,4}:){2,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9a-f]{1,4})?"));

static CVE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)(?-u:\b)CVE-[0-9]{4}-[0-9]{4,7}(?-u:\b)"));

static REGISTRY: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)(?-u:\b)(?:HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS|HKEY_CURRENT_CONFIG",
        r"|HKLM|HKCU|HKCR|HKU|HKCC)(?-u:\b):?",
        r#"(?:\\(?:(?:[^\\"\r\n\t <>|]+|[^\\"\r\n\t <>|.]+(?: [^\\"\r\n\t <>|.]+){1,3})\\)*"#,
        r#"(?:[^\\"\r\n\t <>|,;']+)?)?"#
    ))
});

static WINDOWS_PATH: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)(?:(?-u:\b)[a-z]:|%[a-z_]+%|\\\\[a-z0-9._$-]+)\\",
        r#"(?:(?:[^\\/:*?"<>|\r\n\t ]+|[^\\/:*?"<>|\r\n\t .]+(?: [^\\/:*?"<>|\r\n\t .]+){1,3})\\)*"#,
        r#"(?:[^\\/:*?"<>|\r\n\t ,;']+)?"#
    ))
});

static UNIX_PATH: LazyLock<Regex> = LazyLock::new(|| re(r"/[A-Za-z0-9._+@%~-]+(?:/[A-Za-z0-9._+@%~-]*)+"));

static DOMAIN_USER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u:\b)(?:NT AUTHORITY|[A-Z][A-Z0-9-]{1,14})\\[A-Za-z][A-Za-z0-9._$-]{0,63}"));

static USER: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)(?:(?-u:\b)(?:Failed|Accepted)\s+\S+\s+for\s+(?:invalid\s+user\s+|illegal\s+user\s+)?",
        r"|(?-u:\b)(?:for|by)\s+(?:invalid\s+|illegal\s+)?user\s+",
        r"|(?-u:\b)(?:invalid|illegal)\s+user\s+",
        r"|(?-u:\b)session\s+(?:opened|closed)\s+for\s+user\s+",
        r"|(?-u:\b)sudo:\s+",
        r#"|(?-u:\b)(?:user(?:_?name)?|account(?:_?name)?)\s*[=:]\s*"?"#,
        r"|(?-u:\b)(?:login|logon|uid|acct|suser|duser|srcuser|dstuser)=",
        r")([A-Za-z0-9_][A-Za-z0-9._$@-]{0,63})"
    ))
});

static HOST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)(?-u:\b)(?:host(?:_?name)?|computer(?:_?name)?|workstation|device)(\s*[=:]\s*"?|\s+)([A-Za-z0-9][A-Za-z0-9._-]{0,252})"#,
    )
});

static COMMAND_KEY: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)(?-u:\b)(?:command[_ ]?line|cmd_?line|COMMAND|cmd)\s*[=:]\s*([^\r\n]+)"));

static COMMAND_TOOL: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"(?i)(?-u:\b)(?:powershell|pwsh|cmd|rundll32|regsvr32|mshta|certutil|wmic|vssadmin|bitsadmin|schtasks",
        r"|cscript|wscript|bash|sh|python[0-9.]*|perl|curl|wget|nc|ncat)(?:\.exe)?[ \t]+[-/][^\r\n]*"
    ))
});

/// Generic top-level domains accepted after a dot; two-letter country codes are accepted unless
/// they are common file extensions ([`EXTENSION_LIKE_CC`]).
const TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "int",
    "info",
    "biz",
    "xyz",
    "top",
    "online",
    "site",
    "club",
    "shop",
    "store",
    "app",
    "dev",
    "cloud",
    "live",
    "pro",
    "tech",
    "space",
    "website",
    "icu",
    "buzz",
    "work",
    "link",
    "click",
    "loan",
    "win",
    "bid",
    "men",
    "date",
    "stream",
    "download",
    "racing",
    "review",
    "trade",
    "party",
    "science",
    "cricket",
    "accountant",
    "faith",
    "gdn",
    "kim",
    "country",
    "cam",
    "monster",
    "rest",
    "fun",
    "host",
    "press",
    "ltd",
    "group",
    "company",
    "email",
    "services",
    "support",
    "digital",
    "network",
    "systems",
    "solutions",
    "tools",
    "today",
    "world",
    "news",
    "blog",
    "page",
    "mobi",
    "asia",
    "tel",
    "travel",
    "jobs",
    "cat",
    "coop",
    "aero",
    "museum",
    "onion",
    "local",
    "localdomain",
    "internal",
    "corp",
    "lan",
    "home",
    "arpa",
    "bank",
    "security",
    "microsoft",
    "google",
];

/// Two-letter labels that are far more often file extensions than country codes.
const EXTENSION_LIKE_CC: &[&str] =
    &["sh", "py", "rs", "ps", "md", "so", "pm", "js", "ts", "cs", "hs", "vb", "db", "gz", "xz", "go", "rb", "el", "ko"];

/// Values that follow a user keyword but are not user names.
const NOT_USERS: &[&str] = &["-", "unknown", "invalid", "illegal", "none", "null", "n/a", "from", "for", "is", "the"];

/// Registry hives, long and short, to tell `HKLM\...` from `DOMAIN\user`.
const HIVES: &[(&str, &str)] = &[
    ("HKEY_LOCAL_MACHINE", "HKLM"),
    ("HKEY_CURRENT_USER", "HKCU"),
    ("HKEY_CLASSES_ROOT", "HKCR"),
    ("HKEY_USERS", "HKU"),
    ("HKEY_CURRENT_CONFIG", "HKCC"),
    ("HKLM", "HKLM"),
    ("HKCU", "HKCU"),
    ("HKCR", "HKCR"),
    ("HKU", "HKU"),
    ("HKCC", "HKCC"),
];

/// Extracts every observable of `text`, in position order.
pub fn extract(text: &str) -> Vec<Found> {
    let mut hits = Vec::new();
    hits_of(text, &mut hits);
    hits.into_iter()
        .map(|h| Found {
            kind: h.kind,
            value: h.value.unwrap_or_else(|| text.get(h.start..h.end).unwrap_or_default().to_owned()),
            start: h.start,
            end: h.end,
        })
        .collect()
}

/// A match before it becomes a [`Found`]: `value` is `None` when the normalized value is the raw
/// text itself (the common case, which then costs no allocation).
#[derive(Debug)]
struct Hit {
    kind: ObservableKind,
    value: Option<String>,
    start: usize,
    end: usize,
}

impl Hit {
    fn new(kind: ObservableKind, value: Option<String>, start: usize, end: usize) -> Self {
        Hit { kind, value, start, end }
    }
}

fn lower(s: &str) -> Option<String> {
    s.bytes().any(|c| c.is_ascii_uppercase()).then(|| s.to_ascii_lowercase())
}

fn upper(s: &str) -> Option<String> {
    s.bytes().any(|c| c.is_ascii_lowercase()).then(|| s.to_ascii_uppercase())
}

/// Every hit of `text` (offsets into `text`), sorted by position.
fn hits_of(text: &str, out: &mut Vec<Hit>) {
    out.clear();
    if text.is_empty() {
        return;
    }
    match refang(text) {
        None => Scan::new(text, None).run(out),
        Some((clean, map)) => {
            Scan::new(&clean, Some(&map)).run(out);
            // Values are taken from the clean text, offsets mapped back to the original.
            let at = |i: usize| map.get(i).copied().unwrap_or(text.len());
            for h in out.iter_mut() {
                if h.value.is_none() {
                    h.value = Some(clean.get(h.start..h.end).unwrap_or_default().to_owned());
                }
                h.start = at(h.start);
                h.end = at(h.end);
            }
        }
    }
    out.sort_by_key(|h| h.start);
}

/// The text with defanging undone, and for every byte of it (plus one past the end) the offset of
/// the original byte it came from. `None` when there is nothing to undo (the common case, no copy).
fn refang(text: &str) -> Option<(String, Vec<usize>)> {
    let mut matches = DEFANG.find_iter(text).peekable();
    matches.peek()?;
    let mut clean = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut last = 0;
    for m in matches {
        clean.push_str(&text[last..m.start()]);
        map.extend(last..m.start());
        let lower = m.as_str().to_ascii_lowercase();
        let replacement = match lower.as_str() {
            "[:]" => ":",
            "[://]" => "://",
            "[@]" | "[at]" => "@",
            "hxxp" | "hxtp" | "h[tt]p" => "http",
            "fxp://" => "ftp://",
            _ => ".",
        };
        clean.push_str(replacement);
        map.extend(std::iter::repeat_n(m.start(), replacement.len()));
        last = m.end();
    }
    clean.push_str(&text[last..]);
    map.extend(last..text.len());
    map.push(text.len());
    Some((clean, map))
}

/// One scan of one (refanged) text.
struct Scan<'a> {
    t: &'a str,
    b: &'a [u8],
    /// The refang map, to know whether a span was defanged.
    map: Option<&'a [usize]>,
    /// Spans owned by URLs and e-mails (no domain, IP or path is taken from inside them again).
    claimed: Vec<(usize, usize)>,
    /// Spans owned by Windows paths and registry keys (no `DOMAIN\user` inside them).
    windows: Vec<(usize, usize)>,
    /// Spans owned by command lines found after a `CommandLine=` key.
    commands: Vec<(usize, usize)>,
}

/// True when `s..e` overlaps one of `spans` (sorted by start, not overlapping each other: a batch
/// holds thousands of URLs, so this must not be a linear search).
fn overlaps(spans: &[(usize, usize)], s: usize, e: usize) -> bool {
    let i = spans.partition_point(|&(_, b)| b <= s);
    spans.get(i).is_some_and(|&(a, _)| a < e)
}

/// Records a span, keeping `spans` sorted by start.
fn claim(spans: &mut Vec<(usize, usize)>, s: usize, e: usize) {
    let i = spans.partition_point(|&(a, _)| a < s);
    spans.insert(i, (s, e));
}

impl<'a> Scan<'a> {
    fn new(t: &'a str, map: Option<&'a [usize]>) -> Self {
        Scan { t, b: t.as_bytes(), map, claimed: Vec::new(), windows: Vec::new(), commands: Vec::new() }
    }

    fn has(&self, byte: u8) -> bool {
        self.b.contains(&byte)
    }

    fn before(&self, i: usize) -> Option<u8> {
        i.checked_sub(1).and_then(|j| self.b.get(j).copied())
    }

    /// True when the span was written defanged (its original is longer than its clean form).
    fn defanged(&self, s: usize, e: usize) -> bool {
        match self.map {
            Some(map) => match (map.get(s), map.get(e)) {
                (Some(a), Some(b)) => b - a != e - s,
                _ => false,
            },
            None => false,
        }
    }

    fn run(mut self, out: &mut Vec<Hit>) {
        let has_dot = self.has(b'.');
        if self.t.contains("://") {
            self.urls(out);
        }
        if self.has(b'@') && has_dot {
            self.emails(out);
        }
        if has_dot {
            self.dotted(out);
        }
        if self.t.contains("::") || self.b.iter().filter(|&&c| c == b':').count() >= 7 {
            self.ipv6(out);
        }
        self.hashes(out);
        if self.has(b'-') {
            for m in CVE.find_iter(self.t) {
                out.push(Hit::new(ObservableKind::Cve, upper(m.as_str()), m.start(), m.end()));
            }
        }
        let has_backslash = self.has(b'\\');
        if has_backslash {
            self.registry(out);
            self.windows_paths(out);
            self.domain_users(out);
        }
        if self.has(b'/') {
            self.unix_paths(out);
        }
        self.users(out);
        self.hosts(out);
        if self.has(b'=') || self.has(b':') || self.has(b' ') {
            self.command_lines(out);
        }
    }

    fn urls(&mut self, out: &mut Vec<Hit>) {
        for m in URL.find_iter(self.t) {
            let s = m.start();
            let mut url = m.as_str();
            // Sentence punctuation and closing brackets after a URL are not part of it.
            while let Some(last) = url.chars().last() {
                let unbalanced_paren = last == ')' && !url.contains('(');
                if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"') || unbalanced_paren {
                    url = &url[..url.len() - 1];
                } else {
                    break;
                }
            }
            let Some(scheme_end) = url.find("://") else { continue };
            let after = &url[scheme_end + 3..];
            let authority_len = after.find(['/', '?', '#']).unwrap_or(after.len());
            if authority_len == 0 {
                continue;
            }
            let authority = &after[..authority_len];
            let e = s + url.len();
            let mut value = String::with_capacity(url.len());
            value.push_str(&url[..scheme_end + 3 + authority_len].to_ascii_lowercase());
            value.push_str(&after[authority_len..]);
            let value = (value != url).then_some(value);
            out.push(Hit::new(ObservableKind::Url, value, s, e));
            claim(&mut self.claimed, s, e);
            // The host of the URL is an observable of its own.
            let host_start = authority.rfind('@').map_or(0, |i| i + 1);
            let host_and_port = &authority[host_start..];
            let host = match host_and_port.rfind(':') {
                Some(i) if host_and_port[i + 1..].bytes().all(|c| c.is_ascii_digit()) => &host_and_port[..i],
                _ => host_and_port,
            };
            let hs = s + scheme_end + 3 + host_start;
            let he = hs + host.len();
            if host.parse::<Ipv4Addr>().is_ok() {
                out.push(Hit::new(ObservableKind::Ipv4, None, hs, he));
            } else if host.contains('.') && host.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-') {
                out.push(Hit::new(ObservableKind::Domain, lower(host), hs, he));
            }
        }
    }

    fn emails(&mut self, out: &mut Vec<Hit>) {
        for m in EMAIL.find_iter(self.t) {
            if overlaps(&self.claimed, m.start(), m.end()) {
                continue;
            }
            out.push(Hit::new(ObservableKind::Email, lower(m.as_str()), m.start(), m.end()));
            claim(&mut self.claimed, m.start(), m.end());
        }
    }

    /// Dotted tokens (`a.b.c`), found by a byte scan around each `.`: four decimal labels are an
    /// IPv4 address, others a domain when the last label is a known top-level domain (or the
    /// token was defanged). One pass serves both kinds, and five labels (`1.2.3.4.5`) are a
    /// version, not an address.
    fn dotted(&mut self, out: &mut Vec<Hit>) {
        let b = self.b;
        let tok = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.';
        let mut i = 0;
        while let Some(p) = b[i..].iter().position(|&c| c == b'.') {
            let dot = i + p;
            let mut s = dot;
            while s > i && tok(b[s - 1]) {
                s -= 1;
            }
            let mut e = dot + 1;
            while e < b.len() && tok(b[e]) {
                e += 1;
            }
            i = e;
            // Dots and hyphens at the edges are punctuation, not part of the name.
            while s < e && matches!(b[s], b'.' | b'-' | b'_') {
                s += 1;
            }
            while e > s && matches!(b[e - 1], b'.' | b'-' | b'_') {
                e -= 1;
            }
            if e <= s || overlaps(&self.claimed, s, e) {
                continue;
            }
            let token = &self.t[s..e];
            let labels = token.split('.').count();
            if labels == 4 && token.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
                if token.parse::<Ipv4Addr>().is_ok() {
                    out.push(Hit::new(ObservableKind::Ipv4, None, s, e));
                }
                continue;
            }
            if labels < 2 || self.before(s) == Some(b'@') || b.get(e) == Some(&b'@') {
                continue;
            }
            let valid_label =
                |l: &str| !l.is_empty() && l.len() <= 63 && !l.starts_with(['-', '_']) && !l.ends_with(['-', '_']);
            if !token.split('.').all(valid_label) {
                continue;
            }
            let tld = token.rsplit('.').next().unwrap_or_default();
            if !(2..=24).contains(&tld.len()) || !tld.bytes().all(|c| c.is_ascii_alphabetic()) {
                continue;
            }
            let tld = tld.to_ascii_lowercase();
            let known = TLDS.contains(&tld.as_str()) || (tld.len() == 2 && !EXTENSION_LIKE_CC.contains(&tld.as_str()));
            if known || self.defanged(s, e) {
                out.push(Hit::new(ObservableKind::Domain, lower(token), s, e));
            }
        }
    }

    fn ipv6(&mut self, out: &mut Vec<Hit>) {
        for m in IPV6.find_iter(self.t) {
            let (s, mut e) = (m.start(), m.end());
            let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b':' || c == b'.';
            let after = |i: usize| self.b.get(i).copied();
            let word_after = match after(e) {
                Some(b'.') => after(e + 1).is_some_and(|c| c.is_ascii_alphanumeric()),
                Some(c) => is_word(c),
                None => false,
            };
            if self.before(s).is_some_and(is_word) || word_after {
                continue;
            }
            let mut candidate = m.as_str();
            // A colon ending a sentence (`from fe80::1:`) is not part of the address.
            if candidate.ends_with(':') && !candidate.ends_with("::") {
                candidate = &candidate[..candidate.len() - 1];
                e -= 1;
            }
            if !candidate.bytes().any(|c| c.is_ascii_hexdigit()) {
                continue;
            }
            if let Ok(ip) = candidate.parse::<Ipv6Addr>() {
                let value = ip.to_string();
                let value = (value != candidate).then_some(value);
                out.push(Hit::new(ObservableKind::Ipv6, value, s, e));
            }
        }
    }

    /// Whole runs of hex digits of hash length, bounded by non-word characters.
    fn hashes(&mut self, out: &mut Vec<Hit>) {
        let b = self.b;
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_hexdigit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_hexdigit() {
                i += 1;
            }
            let len = i - start;
            let kind = match len {
                32 => ObservableKind::Md5,
                40 => ObservableKind::Sha1,
                64 => ObservableKind::Sha256,
                _ => {
                    // Skip the rest of a word the run belongs to.
                    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                        i += 1;
                    }
                    continue;
                }
            };
            let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
            let bounded = !self.before(start).is_some_and(word) && !b.get(i).is_some_and(|&c| word(c));
            let digits = b[start..i].iter().any(u8::is_ascii_digit);
            if bounded && digits {
                out.push(Hit::new(kind, lower(&self.t[start..i]), start, i));
            }
        }
    }

    fn registry(&mut self, out: &mut Vec<Hit>) {
        for m in REGISTRY.find_iter(self.t) {
            let raw = m.as_str().trim_end_matches(['\\', '.']);
            let Some(sep) = raw.find(['\\', ':']) else { continue };
            let hive = &raw[..sep];
            let rest = raw[sep..].trim_start_matches(':');
            if rest.len() <= 1 {
                continue;
            }
            let short = HIVES.iter().find(|(long, _)| long.eq_ignore_ascii_case(hive)).map_or(hive, |(_, s)| s);
            let value = format!("{short}{}", rest.to_ascii_lowercase());
            let (s, e) = (m.start(), m.start() + raw.len());
            let value = (value != raw).then_some(value);
            out.push(Hit::new(ObservableKind::RegistryKey, value, s, e));
            claim(&mut self.windows, s, e);
        }
    }

    fn windows_paths(&mut self, out: &mut Vec<Hit>) {
        for m in WINDOWS_PATH.find_iter(self.t) {
            let s = m.start();
            // A quoted path runs to its closing quote, spaces in the file name included.
            let quoted = match self.before(s) {
                Some(q @ (b'"' | b'\'')) => self.b[s..]
                    .iter()
                    .position(|&c| c == q || c == b'\n')
                    .filter(|&len| self.b.get(s + len) == Some(&q) && len >= m.len() && len <= 32_767),
                _ => None,
            };
            let raw = match quoted {
                Some(len) => &self.t[s..s + len],
                None => m.as_str().trim_end_matches(['.', ',']),
            };
            let e = s + raw.len();
            if overlaps(&self.windows, s, e) {
                continue;
            }
            out.push(Hit::new(ObservableKind::FilePath, lower(raw), s, e));
            claim(&mut self.windows, s, e);
        }
    }

    fn domain_users(&mut self, out: &mut Vec<Hit>) {
        for m in DOMAIN_USER.find_iter(self.t) {
            let (s, e) = (m.start(), m.end());
            let domain = m.as_str().split('\\').next().unwrap_or_default();
            if overlaps(&self.windows, s, e)
                || matches!(self.before(s), Some(b'\\' | b':' | b'%'))
                || HIVES.iter().any(|(long, _)| long.eq_ignore_ascii_case(domain))
            {
                continue;
            }
            let raw = m.as_str().trim_end_matches('.');
            out.push(Hit::new(ObservableKind::User, lower(raw), s, s + raw.len()));
            claim(&mut self.windows, s, e);
        }
    }

    fn unix_paths(&mut self, out: &mut Vec<Hit>) {
        for m in UNIX_PATH.find_iter(self.t) {
            let s = m.start();
            let ok_before = match self.before(s) {
                None => true,
                Some(c) => c.is_ascii_whitespace() || b"\"'=([{,:;<>|`".contains(&c),
            };
            if !ok_before {
                continue;
            }
            let raw = m.as_str().trim_end_matches(['.', ',', ':']);
            let e = s + raw.len();
            if raw.len() < 3 || overlaps(&self.claimed, s, e) {
                continue;
            }
            out.push(Hit::new(ObservableKind::FilePath, None, s, e));
        }
    }

    fn users(&mut self, out: &mut Vec<Hit>) {
        for caps in USER.captures_iter(self.t) {
            let Some(m) = caps.get(1) else { continue };
            let raw = m.as_str().trim_end_matches(['.', ',', ':', ')', '"']);
            if raw.is_empty() || NOT_USERS.iter().any(|n| n.eq_ignore_ascii_case(raw)) {
                continue;
            }
            let (s, e) = (m.start(), m.start() + raw.len());
            if overlaps(&self.windows, s, e) {
                continue;
            }
            out.push(Hit::new(ObservableKind::User, None, s, e));
        }
    }

    fn hosts(&mut self, out: &mut Vec<Hit>) {
        for caps in HOST.captures_iter(self.t) {
            let (Some(sep), Some(m)) = (caps.get(1), caps.get(2)) else { continue };
            let raw = m.as_str().trim_end_matches(['.', '-', '_']);
            let keyed = sep.as_str().contains(['=', ':']);
            // After a bare `host` word, only a name that looks like one (`bastion-01`, `WS042`).
            let looks_like_name = raw.bytes().any(|c| c.is_ascii_digit() || c == b'-' || c == b'.');
            if raw.is_empty() || !(keyed || looks_like_name) || raw.parse::<std::net::IpAddr>().is_ok() {
                continue;
            }
            let s = m.start();
            out.push(Hit::new(ObservableKind::Host, lower(raw), s, s + raw.len()));
        }
    }

    fn command_lines(&mut self, out: &mut Vec<Hit>) {
        for caps in COMMAND_KEY.captures_iter(self.t) {
            let Some(m) = caps.get(1) else { continue };
            let (rel_s, rel_e) = command_extent(m.as_str(), true);
            let (s, e) = (m.start() + rel_s, m.start() + rel_e);
            if e > s {
                out.push(Hit::new(ObservableKind::CommandLine, None, s, e));
                claim(&mut self.commands, s, e);
            }
        }
        for m in COMMAND_TOOL.find_iter(self.t) {
            if overlaps(&self.commands, m.start(), m.end()) {
                continue;
            }
            let (rel_s, rel_e) = command_extent(m.as_str(), false);
            let (s, e) = (m.start() + rel_s, m.start() + rel_e);
            if e > s {
                out.push(Hit::new(ObservableKind::CommandLine, None, s, e));
            }
        }
    }
}

/// Where a command line in `text` starts and ends: inside quotes when it is quoted, otherwise up
/// to the next `Key=` field of a key-value log (`keyed`), or the end of the sentence in prose.
fn command_extent(text: &str, keyed: bool) -> (usize, usize) {
    let bytes = text.as_bytes();
    if let Some(&q) = bytes.first().filter(|&&c| c == b'"' || c == b'\'') {
        let end = bytes[1..].iter().position(|&c| c == q).map_or(bytes.len(), |p| p + 1);
        return (1, end);
    }
    let mut end = text.len();
    static NEXT_FIELD: LazyLock<Regex> = LazyLock::new(|| re(r"\s+[A-Z][A-Za-z]+=|\s;\s|\s\|\s"));
    static PROSE_END: LazyLock<Regex> = LazyLock::new(|| re(r"\s+(?:and|then|which|from host)\s|\.\s|,\s"));
    if keyed {
        if let Some(m) = NEXT_FIELD.find(text) {
            end = m.start();
        }
    }
    if let Some(m) = PROSE_END.find(&text[..end]) {
        if !keyed {
            end = m.start();
        }
    }
    let trimmed = text[..end].trim_end_matches(['.', ',', ' ', '"', '\'', '`']);
    (0, trimmed.len())
}

/// FNV-1a: the set hashes millions of short values, where SipHash's DoS resistance buys nothing
/// (the input decides the values but a collision only costs time within the bounded batch).
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &c in bytes {
            h = (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FastMap<V> = HashMap<String, V, std::hash::BuildHasherDefault<Fnv>>;

/// Text waiting in a batch: where it lies in the batch, and where it came from.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start: usize,
    end: usize,
    /// Offset of the segment in its field's text (spans are reported relative to the field).
    base: usize,
    event: Option<usize>,
    field: usize,
    /// `Some`: the whole text is an observable of this kind (a typed field), not scanned (except
    /// command lines, which are also scanned for the paths and addresses in them).
    typed: Option<ObservableKind>,
}

/// Bytes of text collected before a scan: large enough that the per-search cost of the regexes
/// vanishes, small enough to stay in cache.
const BATCH_BYTES: usize = 256 * 1024;

/// Observables of a whole incident, deduplicated by `(kind, value)` in input order; every
/// occurrence is counted and the first `max_occurrences` positions are kept.
///
/// Texts are not scanned one by one: [`scan`](Self::scan) appends them to a batch (one per line
/// separated by `\n`) that is scanned in one go when it is full, and matches are mapped back to
/// their text. A log line is ~150 bytes; a dozen searches per line would cost more in setup than
/// in scanning.
pub struct ObservableSet {
    maps: Vec<FastMap<usize>>,
    list: Vec<Observable>,
    max_occurrences: usize,
    batch: String,
    segments: Vec<Segment>,
    fields: Vec<String>,
    field_ids: FastMap<usize>,
    hits: Vec<Hit>,
}

impl std::fmt::Debug for ObservableSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservableSet").field("observables", &self.list.len()).finish_non_exhaustive()
    }
}

impl ObservableSet {
    pub fn new(max_occurrences: usize) -> Self {
        ObservableSet {
            maps: (0..ObservableKind::ALL.len()).map(|_| FastMap::default()).collect(),
            list: Vec::new(),
            max_occurrences: max_occurrences.max(1),
            batch: String::new(),
            segments: Vec::new(),
            fields: Vec::new(),
            field_ids: FastMap::default(),
            hits: Vec::new(),
        }
    }

    /// Queues `text` (found in `field` of event `event`) for extraction.
    pub fn scan(&mut self, text: &str, field: &str, event: Option<usize>) {
        self.push(text, 0, field, event, None);
    }

    /// Queues a value known to be of `kind`: `text` is its raw form, found at `span` of `field`.
    pub fn typed(&mut self, kind: ObservableKind, text: &str, span_start: usize, field: &str, event: Option<usize>) {
        self.push(text, span_start, field, event, Some(kind));
    }

    fn push(&mut self, text: &str, base: usize, field: &str, event: Option<usize>, typed: Option<ObservableKind>) {
        if text.is_empty() {
            return;
        }
        let field = match self.field_ids.get(field) {
            Some(&id) => id,
            None => {
                self.fields.push(field.to_owned());
                self.field_ids.insert(field.to_owned(), self.fields.len() - 1);
                self.fields.len() - 1
            }
        };
        let start = self.batch.len();
        self.batch.push_str(text);
        self.segments.push(Segment { start, end: self.batch.len(), base, event, field, typed });
        self.batch.push('\n');
        if self.batch.len() >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Scans the batch and adds every occurrence, in input order.
    fn flush(&mut self) {
        if self.segments.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        let segments = std::mem::take(&mut self.segments);
        let mut hits = std::mem::take(&mut self.hits);
        hits_of(&batch, &mut hits);
        let mut next = 0;
        for seg in &segments {
            let text = &batch[seg.start..seg.end];
            if let Some(kind) = seg.typed {
                let raw = text.trim();
                let lead = text.len() - text.trim_start().len();
                let value = match kind {
                    ObservableKind::Host => lower(raw),
                    ObservableKind::User if raw.contains('\\') => lower(raw),
                    _ => None,
                };
                let s = seg.base + lead;
                if !raw.is_empty() && raw != "-" {
                    self.add(kind, value.as_deref().unwrap_or(raw), raw, (s, s + raw.len()), seg.field, seg.event);
                }
            }
            // Hits are sorted by start; those before this segment were in an earlier one or
            // straddled a separator.
            while next < hits.len() && hits[next].start < seg.start {
                next += 1;
            }
            while next < hits.len() && hits[next].start < seg.end {
                let h = &hits[next];
                next += 1;
                let scanned = matches!(seg.typed, None | Some(ObservableKind::CommandLine));
                if !scanned || h.end > seg.end {
                    continue;
                }
                let raw = &batch[h.start..h.end];
                let span = (h.start - seg.start + seg.base, h.end - seg.start + seg.base);
                self.add(h.kind, h.value.as_deref().unwrap_or(raw), raw, span, seg.field, seg.event);
            }
        }
        hits.clear();
        self.hits = hits;
        // Keep the allocations for the next batch.
        let mut batch = batch;
        batch.clear();
        self.batch = batch;
        let mut segments = segments;
        segments.clear();
        self.segments = segments;
    }

    /// Adds one occurrence of a normalized value.
    fn add(
        &mut self,
        kind: ObservableKind,
        value: &str,
        raw: &str,
        span: (usize, usize),
        field: usize,
        event: Option<usize>,
    ) {
        if value.is_empty() {
            return;
        }
        let map = &mut self.maps[kind as usize];
        let field_name = || self.fields.get(field).cloned().unwrap_or_default();
        if let Some(&i) = map.get(value) {
            let o = &mut self.list[i];
            o.count += 1;
            if o.elsewhere.len() + 1 < self.max_occurrences {
                o.elsewhere.push(Occurrence { raw: raw.to_owned(), event, field: field_name(), span });
            }
            return;
        }
        map.insert(value.to_owned(), self.list.len());
        self.list.push(Observable {
            kind,
            value: value.to_owned(),
            raw: raw.to_owned(),
            event,
            field: field_name(),
            span,
            count: 1,
            elsewhere: Vec::new(),
        });
    }

    /// The observables so far (scans what is queued first).
    pub fn into_vec(mut self) -> Vec<Observable> {
        self.flush();
        self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ObservableKind::*;

    fn values(text: &str, kind: ObservableKind) -> Vec<String> {
        extract(text).into_iter().filter(|f| f.kind == kind).map(|f| f.value).collect()
    }

    fn raw_of(text: &str, kind: ObservableKind) -> Vec<String> {
        extract(text).into_iter().filter(|f| f.kind == kind).map(|f| text[f.start..f.end].to_owned()).collect()
    }

    #[test]
    fn patterns_compile() {
        for r in [
            &DEFANG,
            &URL,
            &EMAIL,
            &IPV6,
            &CVE,
            &REGISTRY,
            &WINDOWS_PATH,
            &UNIX_PATH,
            &DOMAIN_USER,
            &USER,
            &HOST,
            &COMMAND_KEY,
            &COMMAND_TOOL,
        ] {
            LazyLock::force(r);
        }
    }

    #[test]
    fn defanged_url_and_domain_keep_raw_spans() {
        let text = "beacon to hxxps://evil[.]com/a then 1.2.3[.]4";
        assert_eq!(values(text, Url), ["https://evil.com/a"]);
        assert_eq!(raw_of(text, Url), ["hxxps://evil[.]com/a"]);
        assert_eq!(values(text, Domain), ["evil.com"]);
        assert_eq!(raw_of(text, Domain), ["evil[.]com"]);
        assert_eq!(values(text, Ipv4), ["1.2.3.4"]);
        assert_eq!(raw_of(text, Ipv4), ["1.2.3[.]4"]);
        assert_eq!(values("mail bob[@]corp[.]example[.]org", Email), ["bob@corp.example.org"]);
        // Defanged names are domains whatever the top-level label.
        assert_eq!(values("c2 at update-check[.]zzzz", Domain), ["update-check.zzzz"]);
    }

    #[test]
    fn no_false_domains() {
        for text in ["opened report.pdf", "version 1.2.3 released", "ran svc_upd.exe", "README_RESTORE.txt", "x.sh"] {
            assert!(values(text, Domain).is_empty(), "{text}: {:?}", values(text, Domain));
        }
        assert!(values("version 1.2.3.4.5", Ipv4).is_empty());
        assert_eq!(values("see Evil.Example.COM.", Domain), ["evil.example.com"]);
    }

    #[test]
    fn ipv6_forms() {
        assert_eq!(values("from 2001:db8::1 port 22", Ipv6), ["2001:db8::1"]);
        assert_eq!(values("src=2001:0DB8:0000:0000:0000:0000:0000:0001", Ipv6), ["2001:db8::1"]);
        assert_eq!(values("lo ::1, link fe80::a:b:", Ipv6), ["::1", "fe80::a:b"]);
        assert_eq!(values("mapped ::ffff:192.0.2.1", Ipv6), ["::ffff:192.0.2.1"]);
        assert!(values("at 04:11:09 and mac 00:1a:2b:3c:4d:5e", Ipv6).is_empty());
    }

    #[test]
    fn hashes_are_whole_runs() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        let sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        let text = format!("md5={md5} sha1:{sha1} ({sha256})");
        assert_eq!(values(&text, Md5), [md5]);
        assert_eq!(values(&text, Sha1), [sha1]);
        assert_eq!(values(&text, Sha256), [sha256.to_ascii_lowercase()]);
        let blob = format!("{md5}{md5}ab");
        assert!(extract(&blob).iter().all(|f| !matches!(f.kind, Md5 | Sha1 | Sha256)));
        assert!(values(&format!("x{md5}"), Md5).is_empty());
    }

    #[test]
    fn windows_paths_registry_and_domain_users() {
        let text = r"C:\Program Files\Evil Co\bad.exe was run by CORP\alice and set HKLM\Software\Microsoft\Windows\CurrentVersion\Run\upd";
        assert_eq!(values(text, FilePath), [r"c:\program files\evil co\bad.exe"]);
        assert_eq!(values(text, User), [r"corp\alice"]);
        assert_eq!(values(text, RegistryKey), [r"HKLM\software\microsoft\windows\currentversion\run\upd"]);
        let long = r#"key "HKEY_CURRENT_USER\Software\Classes\ms-settings\shell\open\command""#;
        assert_eq!(values(long, RegistryKey), [r"HKCU\software\classes\ms-settings\shell\open\command"]);
        assert_eq!(values(r"copied %APPDATA%\x.dll and \\fs01\share\a b\c.txt", FilePath).len(), 2);
    }

    #[test]
    fn unix_paths_not_dates_or_switches() {
        let text = "deploy listed /etc/sudoers.d. at 10/Oct/2000 via HTTP/1.1, cmd /c dir, TTY=pts/0";
        assert_eq!(values(text, FilePath), ["/etc/sudoers.d"]);
        assert!(values("GET https://x.example.com/a/b", FilePath).is_empty());
    }

    #[test]
    fn cve_email_users_hosts_commands() {
        assert_eq!(values("exploits cve-2024-12345.", Cve), ["CVE-2024-12345"]);
        assert_eq!(values("From: Bob.Smith@Example.com", Email), ["bob.smith@example.com"]);
        let sshd = "Failed password for invalid user admin from 203.0.113.45 port 22 ssh2";
        assert_eq!(values(sshd, User), ["admin"]);
        assert_eq!(values(sshd, Ipv4), ["203.0.113.45"]);
        assert_eq!(values("Accepted password for deploy from 10.0.0.1", User), ["deploy"]);
        let sudo = "sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/id -u";
        assert_eq!(values(sudo, User), ["deploy", "root"]);
        assert_eq!(values(sudo, CommandLine), ["/usr/bin/id -u"]);
        assert_eq!(values("seen on host WS-042 today", Host), ["ws-042"]);
        assert!(values("the host is down", Host).is_empty());
        let ps = "CommandLine=powershell.exe -nop -enc SQBFAFgA ParentImage=C:\\Windows\\explorer.exe";
        assert_eq!(values(ps, CommandLine), ["powershell.exe -nop -enc SQBFAFgA"]);
        assert_eq!(values("then ran cmd.exe /c whoami and left", CommandLine), ["cmd.exe /c whoami"]);
    }

    #[test]
    fn set_dedupes_and_keeps_positions() {
        let mut set = ObservableSet::new(2);
        set.scan("a 10.0.0.1 b 10.0.0.1", "raw", Some(0));
        set.scan("c 10.0.0.1", "raw", Some(1));
        let list = set.into_vec();
        assert_eq!(list.len(), 1);
        assert_eq!((list[0].count, list[0].span, list[0].elsewhere.len()), (3, (2, 10), 1));
        assert_eq!(list[0].elsewhere[0].span, (13, 21));
    }

    #[test]
    fn hostile_text_does_not_panic() {
        for text in ["[.]", "hxxp", "::", "\\\\", "C:\\", "http://", "é[.]ü hxxp://ü[.]é/ä", "\u{0}\u{ffff}"] {
            let _ = extract(text);
        }
        let long = "a".repeat(100_000) + "[.]com";
        let _ = extract(&long);
    }
}
