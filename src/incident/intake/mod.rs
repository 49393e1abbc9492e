//! Intake: bytes in, [`Incident`]s out.
//!
//! [`detect`] names the format of an input (or says clearly why it is none it knows), [`read`]
//! reads it in a given format and [`read_auto`] does both. Every format gives one incident, except
//! `seed004`, which gives one per dataset record.
//!
//! Reading is lenient and loud: a line or item that cannot be read is skipped and reported as a
//! [`Finding`] (code `intake.<kind>`, pointer `/lines/<n>` for line-oriented input or a JSON
//! pointer into a JSON document), never dropped silently. Only an input with nothing readable in
//! it is an [`IntakeError`]. Limits (bytes, lines, line length, problems listed, positions kept per
//! observable) are explicit in [`IntakeOptions`] so hostile input costs bounded time and memory.

pub mod access_log;
pub mod ecs;
mod json;
pub mod jsonl;
pub mod seed004;
pub mod syslog;
pub mod text;
pub mod wazuh;
pub mod windows_event;

use self::json::{JsonObject, JsonValue, Lite};
use super::observables::{Fnv, ObservableSet};
use super::{Event, Incident, ObservableKind, Severity, Source, TimeRange};
use crate::finding::{push_segment, Finding};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::str::FromStr;

/// The input formats intake reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Free text (an analyst's note, an e-mail): one description, no events.
    Text,
    /// RFC 3164 / RFC 5424 syslog, auth.log.
    Syslog,
    /// Apache/nginx common or combined log format.
    AccessLog,
    /// One JSON object per line with a `message`, `msg` or `log` text field.
    Jsonl,
    /// Windows events as JSON (`EventID`, `Computer`, `TimeCreated`, `EventData`).
    WindowsEvent,
    /// Elastic Common Schema alerts or events.
    Ecs,
    /// Wazuh alerts (`rule.level`, `agent.name`, `full_log`).
    Wazuh,
    /// The seed-004 dataset format: one incident per record.
    Seed004,
    /// A log with syslog, access-log and JSON lines mixed; other lines are kept as text events.
    Mixed,
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::Text,
        Format::Syslog,
        Format::AccessLog,
        Format::Jsonl,
        Format::WindowsEvent,
        Format::Ecs,
        Format::Wazuh,
        Format::Seed004,
        Format::Mixed,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Syslog => "syslog",
            Format::AccessLog => "access-log",
            Format::Jsonl => "jsonl",
            Format::WindowsEvent => "windows-event",
            Format::Ecs => "ecs",
            Format::Wazuh => "wazuh",
            Format::Seed004 => "seed004",
            Format::Mixed => "mixed",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = IntakeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| IntakeError::FormatName(s.to_owned()))
    }
}

/// Limits and context for reading. Every limit is explicit so a caller can see and change what
/// hostile input may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeOptions {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Lines read at most; the rest is reported once and ignored.
    pub max_lines: usize,
    /// Longer lines are reported and skipped.
    pub max_line_length: usize,
    /// Problems listed at most; the others are counted in one last finding.
    pub max_problems: usize,
    /// Positions kept per observable (the count is always exact).
    pub max_occurrences: usize,
    /// The year of RFC 3164 syslog times, which have none; without it those times are kept as
    /// written and left out of the time range.
    pub year: Option<i32>,
    /// The file name or label recorded in [`Source::name`].
    pub source_name: Option<String>,
}

impl Default for IntakeOptions {
    fn default() -> Self {
        IntakeOptions {
            max_bytes: 256 * 1024 * 1024,
            max_lines: 10_000_000,
            max_line_length: 1024 * 1024,
            max_problems: 1000,
            max_occurrences: 100,
            year: None,
            source_name: None,
        }
    }
}

/// What was read: the incidents and every problem met on the way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntakeReport {
    pub format: Format,
    pub incidents: Vec<Incident>,
    pub problems: Vec<Finding>,
}

impl IntakeReport {
    /// The first (for every format but `seed004`, the only) incident.
    pub fn incident(&self) -> Option<&Incident> {
        self.incidents.first()
    }
}

/// Why an input could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error("the input is {size} bytes, over the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("the input is empty")]
    Empty,
    #[error("unknown input format: {0}")]
    UnknownFormat(String),
    #[error("not {format} input: {reason}")]
    NotFormat { format: Format, reason: String },
    #[error("unknown format name `{0}` (expected auto, text, syslog, access-log, jsonl, windows-event, ecs, wazuh, seed004 or mixed)")]
    FormatName(String),
}

/// Detects and reads.
pub fn read_auto(bytes: &[u8], opts: &IntakeOptions) -> Result<IntakeReport, IntakeError> {
    check_size(bytes, opts)?;
    let format = detect(bytes)?;
    read(bytes, format, opts)
}

/// Reads `bytes` as `format`.
pub fn read(bytes: &[u8], format: Format, opts: &IntakeOptions) -> Result<IntakeReport, IntakeError> {
    check_size(bytes, opts)?;
    let mut problems = Vec::new();
    let text = decode(bytes, &mut problems);
    if text.trim().is_empty() {
        return Err(IntakeError::Empty);
    }
    if format == Format::Seed004 {
        let (incidents, mut more) = seed004::read(&text, opts)?;
        problems.append(&mut more);
        return Ok(IntakeReport { format, incidents, problems });
    }
    let mut b = Builder::new(format, opts);
    b.problems.append(&mut problems);
    match format {
        Format::Text => text::read(&text, &mut b),
        Format::Syslog => each_line(&text, &mut b, syslog::line),
        Format::AccessLog => each_line(&text, &mut b, access_log::line),
        Format::Mixed => each_line(&text, &mut b, mixed_line),
        Format::Jsonl => each_json_object(&text, &mut b, jsonl::item)?,
        Format::WindowsEvent => each_json_object(&text, &mut b, windows_event::item)?,
        Format::Ecs => each_json_object(&text, &mut b, ecs::item)?,
        Format::Wazuh => each_json_object(&text, &mut b, wazuh::item)?,
        Format::Seed004 => unreachable!("handled above"),
    }
    if format != Format::Text && b.events.is_empty() {
        let first = b.problems.iter().find(|p| p.code != "intake.encoding");
        let reason = match first {
            Some(p) => format!("no event could be read; first problem at {}: {}", p.pointer, p.message),
            None => "no event could be read".to_owned(),
        };
        return Err(IntakeError::NotFormat { format, reason });
    }
    let (incident, problems) = b.finish(bytes);
    Ok(IntakeReport { format, incidents: vec![incident], problems })
}

fn check_size(bytes: &[u8], opts: &IntakeOptions) -> Result<(), IntakeError> {
    if bytes.len() > opts.max_bytes {
        return Err(IntakeError::TooLarge { size: bytes.len(), max: opts.max_bytes });
    }
    Ok(())
}

/// UTF-8 text of the input; invalid bytes become U+FFFD and are reported once, at their line.
fn decode<'a>(bytes: &'a [u8], problems: &mut Vec<Finding>) -> Cow<'a, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|&&c| c == b'\n').count() + 1;
            problems.push(Finding::warning(
                "intake.encoding",
                format!("/lines/{line}"),
                format!("line {line}: invalid UTF-8 at byte {}; invalid bytes are read as U+FFFD", e.valid_up_to()),
            ));
            Cow::Owned(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

/// How many non-blank lines [`detect`] looks at.
const SAMPLE_LINES: usize = 50;

/// Names the format of `bytes`, or says why it is none intake knows.
///
/// JSON input (starting with `{` or `[`) is classified by the fields of its first object:
/// seed-004 record fields, then Wazuh (`rule.level` with `agent`, `full_log`, `decoder` or
/// `location`), Windows events (`EventID`, `Event.System`), ECS (`@timestamp` with `event`,
/// `rule`, `host`, `ecs` or `kibana.*`), then JSON Lines (`message`, `msg` or `log`). Other text is
/// classified by its first 50 non-blank lines: syslog or access log when at least 60% of them
/// parse as such, mixed when at least 60% parse as one of syslog, access log or JSON, and free text
/// otherwise. Binary data (NUL bytes, invalid UTF-8) is an error.
pub fn detect(bytes: &[u8]) -> Result<Format, IntakeError> {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    if let Some(at) = head.iter().position(|&c| c == 0) {
        return Err(IntakeError::UnknownFormat(format!("binary data (a NUL byte at offset {at})")));
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
        Err(e) => {
            return Err(IntakeError::UnknownFormat(format!(
                "not UTF-8 text (invalid byte at offset {}); binary data cannot be read",
                e.valid_up_to()
            )))
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(IntakeError::Empty);
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return detect_json(bytes);
    }
    let (mut syslog, mut access, mut json, mut total) = (0, 0, 0, 0);
    for line in text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty()).take(SAMPLE_LINES) {
        total += 1;
        if line.trim_start().starts_with('{') {
            json += 1;
        } else if syslog::parse(line, None).is_some() {
            syslog += 1;
        } else if access_log::parse(line).is_some() {
            access += 1;
        }
    }
    let most = |n: usize| n * 10 >= total * 6;
    Ok(if most(syslog) {
        Format::Syslog
    } else if most(access) {
        Format::AccessLog
    } else if most(syslog + access + json) && [syslog, access, json].iter().filter(|&&n| n > 0).count() > 1 {
        Format::Mixed
    } else {
        Format::Text
    })
}

fn detect_json(bytes: &[u8]) -> Result<Format, IntakeError> {
    let text = String::from_utf8_lossy(bytes);
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let value = match serde_json::from_str::<Value>(first_line) {
        Ok(v) => v,
        Err(_) => serde_json::from_str::<Value>(&text).map_err(|e| {
            IntakeError::UnknownFormat(format!(
                "the input starts like JSON but is not JSON (line {}, column {}: {e})",
                e.line(),
                e.column()
            ))
        })?,
    };
    let sample = match &value {
        Value::Array(items) => items.first(),
        v => Some(v),
    };
    let Some(Value::Object(obj)) = sample else {
        return Err(IntakeError::UnknownFormat(
            "JSON that is not an object or a list of objects; expected alerts, events or dataset records".into(),
        ));
    };
    if seed004::looks_like(obj) {
        return Ok(Format::Seed004);
    }
    if wazuh::looks_like(obj) {
        return Ok(Format::Wazuh);
    }
    if windows_event::looks_like(obj) {
        return Ok(Format::WindowsEvent);
    }
    if ecs::looks_like(obj) {
        return Ok(Format::Ecs);
    }
    if jsonl::looks_like(obj) {
        return Ok(Format::Jsonl);
    }
    let keys: Vec<&str> = obj.keys().take(12).map(String::as_str).collect();
    Err(IntakeError::UnknownFormat(format!(
        "JSON objects with none of the fields of a known format (keys: {}); expected a seed-004 record, a Wazuh \
         or ECS alert, a Windows event, or JSON Lines with a `message` field (force one with --format)",
        keys.join(", ")
    )))
}

/// Calls `f` on every non-blank line (1-based number, text without `\r`) within the line limits;
/// a line `f` rejects is reported as `intake.bad-line` with its reason.
fn each_line(text: &str, b: &mut Builder<'_>, mut f: impl FnMut(&mut Builder<'_>, usize, &str) -> Result<(), String>) {
    for (i, line) in text.split('\n').enumerate() {
        let n = i + 1;
        if n > b.opts.max_lines {
            b.problem(Finding::warning(
                "intake.too-many-lines",
                format!("/lines/{n}"),
                format!("stopped at line {n}: the limit is {} lines (raise it with --max-lines)", b.opts.max_lines),
            ));
            break;
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > b.opts.max_line_length {
            b.problem(Finding::warning(
                "intake.line-too-long",
                format!("/lines/{n}"),
                format!(
                    "line {n} is {} bytes, over the limit of {} (raise it with --max-line-length); skipped",
                    line.len(),
                    b.opts.max_line_length
                ),
            ));
            continue;
        }
        if let Err(why) = f(b, n, line) {
            b.problem(Finding::warning("intake.bad-line", format!("/lines/{n}"), format!("line {n}: {why}")));
        }
    }
}

/// One line of a mixed log: JSON, syslog or access log, otherwise a plain text event.
fn mixed_line(b: &mut Builder<'_>, n: usize, line: &str) -> Result<(), String> {
    if line.trim_start().starts_with('{') {
        let value: Lite = serde_json::from_str(line).map_err(|e| format!("invalid JSON ({e})"))?;
        let Lite::Object(obj) = &value else { return Err("a JSON line that is not an object".into()) };
        return jsonl::item(b, Some(n), obj, line);
    }
    if let Some(parsed) = syslog::parse(line, b.opts.year) {
        syslog::add(b, n, line, parsed);
        return Ok(());
    }
    if let Some(parsed) = access_log::parse(line) {
        access_log::add(b, n, line, parsed);
        return Ok(());
    }
    let idx = b.event(Event { details: line.to_owned(), raw: line.to_owned(), line: Some(n), ..Event::default() });
    b.scan_raw(idx);
    Ok(())
}

/// The reader of one JSON object: `line` is its line for JSON Lines input, `raw` its text.
type ItemReader = fn(&mut Builder<'_>, Option<usize>, &Map<String, Value>, &str) -> Result<(), String>;

/// Calls `read` on every object of a JSON document (one object, or a list: pointer `/<index>`) or
/// of JSON Lines (pointer `/lines/<n>`). Items that are not objects or that `read` rejects are
/// reported as `intake.bad-item` / `intake.bad-line`. JSON Lines logs (`format` jsonl) have their
/// lines read as [`Lite`] objects.
fn each_json_object(text: &str, b: &mut Builder<'_>, read: ItemReader) -> Result<(), IntakeError> {
    let format = b.format;
    let trimmed = text.trim_start();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return Err(IntakeError::NotFormat {
            format,
            reason: "expected JSON (an object, a list of objects, or one object per line)".into(),
        });
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let result = match item {
                    Value::Object(obj) => read(b, None, obj, &item.to_string()),
                    other => Err(format!("expected an object, found {}", shape(other))),
                };
                if let Err(why) = result {
                    b.problem(Finding::warning("intake.bad-item", format!("/{i}"), format!("item {i}: {why}")));
                }
            }
            Ok(())
        }
        Ok(Value::Object(obj)) => {
            let raw = serde_json::to_string(&obj).unwrap_or_default();
            if let Err(why) = read(b, None, &obj, &raw) {
                b.problem(Finding::warning("intake.bad-item", "", why));
            }
            Ok(())
        }
        Ok(other) => Err(IntakeError::NotFormat {
            format,
            reason: format!("expected an object or a list of objects, found {}", shape(&other)),
        }),
        Err(whole) => {
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
            if serde_json::from_str::<Value>(first).is_err() {
                return Err(IntakeError::NotFormat {
                    format,
                    reason: format!("invalid JSON at line {}, column {}: {whole}", whole.line(), whole.column()),
                });
            }
            each_line(text, b, |b, n, line| match b.format {
                Format::Jsonl => {
                    let value: Lite = serde_json::from_str(line).map_err(|e| format!("invalid JSON ({e})"))?;
                    match &value {
                        Lite::Object(obj) => jsonl::item(b, Some(n), obj, line),
                        other => Err(format!("expected a JSON object, found {}", other.shape())),
                    }
                }
                _ => {
                    let value: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON ({e})"))?;
                    match &value {
                        Value::Object(obj) => read(b, Some(n), obj, line),
                        other => Err(format!("expected a JSON object, found {}", shape(other))),
                    }
                }
            });
            Ok(())
        }
    }
}

pub(crate) fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Parses the time formats the readers meet: RFC 3339, ISO 8601 with a `+0000` offset or none
/// (read as UTC), and the access-log form `10/Oct/2000:13:55:36 -0700`.
pub fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    // Every format has `:` between hours, minutes and seconds: most texts that are no time (the
    // address a syslog parse tries first on an access-log line) are refused without chrono.
    if s.len() < 10 || s.len() > 64 || !s.contains(':') {
        return None;
    }
    if let Some(t) = access_log_time(s) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t);
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%d/%b/%Y:%H:%M:%S %z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t);
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().fixed_offset());
        }
    }
    None
}

/// The access-log time `10/Oct/2000:13:55:36 -0700` in its usual shape, read without chrono's
/// format interpreter (which would first try three other formats, and reads its format string on
/// every call). `None` for anything else, including odd values such as a leap second or a 24-hour
/// offset, which [`parse_time`] then leaves to chrono: this gives the same time as
/// `%d/%b/%Y:%H:%M:%S %z` or nothing, and no earlier format can read a text of this shape.
fn access_log_time(s: &str) -> Option<DateTime<FixedOffset>> {
    let b = s.as_bytes();
    let shape = b.len() == 26
        && b[2] == b'/'
        && b[6] == b'/'
        && b[11] == b':'
        && b[14] == b':'
        && b[17] == b':'
        && b[20] == b' '
        && matches!(b[21], b'+' | b'-');
    if !shape {
        return None;
    }
    let num = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let month = syslog::MONTHS.iter().position(|m| m.as_bytes() == &b[3..6])? as u32 + 1;
    let (day, year) = (num(0, 2)?, num(7, 11)?);
    let (hour, minute, second) = (num(12, 14)?, num(15, 17)?, num(18, 20)?);
    let (offset_hours, offset_minutes) = (num(22, 24)?, num(24, 26)?);
    if second > 59 || offset_hours > 23 || offset_minutes > 59 {
        return None;
    }
    let offset = (offset_hours * 3600 + offset_minutes * 60) as i32;
    let offset = FixedOffset::east_opt(if b[21] == b'-' { -offset } else { offset })?;
    let local = NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_opt(hour, minute, second)?;
    offset.from_local_datetime(&local).single()
}

/// `t.to_rfc3339()`, written without the formatting machinery for the usual case (whole seconds,
/// a four-digit year, an offset in whole minutes); chrono writes the others.
pub(crate) fn rfc3339(t: DateTime<FixedOffset>) -> String {
    use chrono::{Datelike, Timelike};
    let offset = t.offset().local_minus_utc();
    let year = t.year();
    if t.nanosecond() != 0 || !(0..=9999).contains(&year) || offset % 60 != 0 {
        return t.to_rfc3339();
    }
    let mut out = String::with_capacity(25);
    let mut two = |n: u32, then: Option<char>| {
        out.push(char::from(b'0' + (n / 10 % 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
        if let Some(c) = then {
            out.push(c);
        }
    };
    let (year, minutes) = (year as u32, offset.unsigned_abs() / 60);
    two(year / 100, None);
    two(year % 100, Some('-'));
    two(t.month(), Some('-'));
    two(t.day(), Some('T'));
    two(t.hour(), Some(':'));
    two(t.minute(), Some(':'));
    two(t.second(), Some(if offset < 0 { '-' } else { '+' }));
    two(minutes / 60, Some(':'));
    two(minutes % 60, None);
    out
}

/// The byte offset of `inner` in `outer` when `inner` is a slice of it.
pub(crate) fn offset_in(outer: &str, inner: &str) -> Option<usize> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    (start + inner.len() <= outer.len()).then_some(start)
}

/// Collects one incident as the readers go.
pub struct Builder<'o> {
    pub(crate) opts: &'o IntakeOptions,
    pub(crate) format: Format,
    pub(crate) events: Vec<Event>,
    pub(crate) set: ObservableSet,
    pub(crate) problems: Vec<Finding>,
    suppressed: usize,
    pub(crate) severity: Severity,
    first: Option<DateTime<FixedOffset>>,
    last: Option<DateTime<FixedOffset>>,
    pub(crate) id: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) free: IndexMap<String, Value>,
}

impl<'o> Builder<'o> {
    pub(crate) fn new(format: Format, opts: &'o IntakeOptions) -> Self {
        Builder {
            opts,
            format,
            events: Vec::new(),
            set: ObservableSet::new(opts.max_occurrences.max(1)),
            problems: Vec::new(),
            suppressed: 0,
            severity: Severity::Unknown,
            first: None,
            last: None,
            id: None,
            title: None,
            description: None,
            name: opts.source_name.clone(),
            free: IndexMap::new(),
        }
    }

    /// Reports a problem, up to [`IntakeOptions::max_problems`].
    pub(crate) fn problem(&mut self, finding: Finding) {
        if self.problems.len() < self.opts.max_problems {
            self.problems.push(finding);
        } else {
            self.suppressed += 1;
        }
    }

    /// Adds an event; its timestamp is normalized to RFC 3339 when it parses, and counts towards
    /// the time range.
    pub(crate) fn event(&mut self, event: Event) -> usize {
        let time = event.timestamp.as_deref().and_then(parse_time);
        self.event_at(event, time)
    }

    /// Adds an event whose time the reader already parsed (`None`: not understood; the timestamp
    /// is kept as written).
    pub(crate) fn event_at(&mut self, mut event: Event, time: Option<DateTime<FixedOffset>>) -> usize {
        if let Some(t) = time {
            self.time(t);
            event.timestamp = Some(rfc3339(t));
        }
        self.events.push(event);
        self.events.len() - 1
    }

    /// An event time already parsed by the reader.
    pub(crate) fn time(&mut self, t: DateTime<FixedOffset>) {
        if self.first.is_none_or(|f| t < f) {
            self.first = Some(t);
        }
        if self.last.is_none_or(|l| t > l) {
            self.last = Some(t);
        }
    }

    pub(crate) fn severity(&mut self, severity: Severity) {
        self.severity = self.severity.max(severity);
    }

    /// Scans the raw text of event `idx`.
    pub(crate) fn scan_raw(&mut self, idx: usize) {
        if let Some(event) = self.events.get(idx) {
            self.set.scan(&event.raw, "raw", Some(idx));
        }
    }

    /// Adds a value known to be of `kind` (a typed field): `raw` is found at `span.0` of `field`.
    pub(crate) fn typed(
        &mut self,
        kind: ObservableKind,
        raw: &str,
        span: (usize, usize),
        field: &str,
        event: Option<usize>,
    ) {
        self.set.typed(kind, raw, span.0, field, event);
    }

    /// Scans every text value of an event's JSON object. Values under keys that name a user, a
    /// host or a command line are taken whole as that kind (a scanner cannot tell that `deploy`
    /// is a user name); every other text is scanned. `field` is the value's JSON pointer.
    pub(crate) fn scan_json<O: JsonObject>(&mut self, obj: &O, event: usize) {
        // Values are visited depth first in document order, at most 100,000 of them.
        let mut budget = 100_000usize;
        let mut pointer = String::new();
        for (k, v) in obj.entries() {
            pointer_segment(&mut pointer, k);
            let more = self.scan_value(v, "", k, &mut pointer, event, &mut budget);
            pointer.clear();
            if !more {
                break;
            }
        }
    }

    /// Scans `value` found under `key` (in an object under `parent`) at `pointer`, which it extends
    /// for the values inside and restores. False once `budget` values have been visited. The
    /// recursion is as deep as the JSON, which serde_json limits to 128 levels.
    fn scan_value<V: JsonValue>(
        &mut self,
        value: &V,
        parent: &str,
        key: &str,
        pointer: &mut String,
        event: usize,
        budget: &mut usize,
    ) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        if let Some(s) = value.as_str() {
            match typed_kind(parent, key) {
                Some(kind) => {
                    self.typed(kind, s, (0, s.len()), pointer, Some(event));
                    if kind == ObservableKind::CommandLine {
                        self.set.scan(s, pointer, Some(event));
                    }
                }
                None => self.set.scan(s, pointer, Some(event)),
            }
        } else if let Some(map) = value.as_object() {
            // `{"Name": "TargetUserName", "#text": "bob"}` (Windows XML as JSON).
            let alias = ["Name", "@Name", "name"].iter().find_map(|n| map.get(n).and_then(|v| v.as_str()));
            for (k, v) in map.entries() {
                let len = pointer.len();
                pointer_segment(pointer, k);
                let text_key = matches!(k, "#text" | "text" | "value" | "Value");
                let child_key = match alias {
                    Some(a) if text_key => a,
                    _ => k,
                };
                let more = self.scan_value(v, key, child_key, pointer, event, budget);
                pointer.truncate(len);
                if !more {
                    return false;
                }
            }
        } else if let Some(items) = value.as_array() {
            for (i, v) in items.iter().enumerate() {
                let len = pointer.len();
                let _ = write!(pointer, "/{i}");
                let more = self.scan_value(v, parent, key, pointer, event, budget);
                pointer.truncate(len);
                if !more {
                    return false;
                }
            }
        }
        true
    }

    /// The incident, and the problems.
    pub(crate) fn finish(mut self, input: &[u8]) -> (Incident, Vec<Finding>) {
        if self.suppressed > 0 {
            self.problems.push(Finding::warning(
                "intake.more-problems",
                "",
                format!(
                    "{} more problems not listed (the limit is --max-problems {})",
                    self.suppressed, self.opts.max_problems
                ),
            ));
        }
        let time_range = match (self.first, self.last) {
            (Some(a), Some(b)) => Some(TimeRange { start: a.to_rfc3339(), end: b.to_rfc3339() }),
            _ => None,
        };
        let summary = self.summary(time_range.as_ref());
        let title = self.title.take().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| summary.0.clone());
        let description = self.description.take().unwrap_or(summary.1);
        let incident = Incident {
            id: self.id.take().filter(|s| !s.is_empty()).unwrap_or_else(|| derived_id(self.format, input)),
            title: shorten(&title, 200),
            description,
            source: Source { format: self.format.name().to_owned(), name: self.name.take() },
            severity: self.severity,
            time_range,
            events: self.events,
            observables: self.set.into_vec(),
            free: self.free,
        };
        (incident, self.problems)
    }

    /// A title and description for inputs that carry none: the commonest actions and the hosts.
    fn summary(&self, range: Option<&TimeRange>) -> (String, String) {
        // One lookup per event and field: a short-string hash, not SipHash.
        type Counts<'e> = IndexMap<&'e str, usize, std::hash::BuildHasherDefault<Fnv>>;
        let mut actions = Counts::default();
        let mut hosts = Counts::default();
        for e in &self.events {
            *actions.entry(e.action.as_deref().unwrap_or("event")).or_default() += 1;
            if let Some(h) = &e.host {
                *hosts.entry(h.as_str()).or_default() += 1;
            }
        }
        actions.sort_by(|_, a, _, b| b.cmp(a));
        let top: Vec<String> = actions.iter().take(5).map(|(a, n)| format!("{n} {a}")).collect();
        let host_list: Vec<&str> = hosts.keys().take(5).copied().collect();
        let on = if host_list.is_empty() { String::new() } else { format!(" on {}", host_list.join(", ")) };
        let title = match actions.first() {
            Some((a, n)) => format!("{}: {n} {a}{on}", self.format),
            None => format!("{} input", self.format),
        };
        let mut description = format!("{} events from {} input{on}", self.events.len(), self.format);
        if !top.is_empty() {
            description.push_str(&format!(": {}", top.join(", ")));
        }
        if let Some(r) = range {
            description.push_str(&format!(", from {} to {}", r.start, r.end));
        }
        description.push('.');
        (title, description)
    }
}

/// [`push_segment`], copying keys that need no escape in one go (nearly all of them).
fn pointer_segment(pointer: &mut String, key: &str) {
    if key.contains(['~', '/']) {
        push_segment(pointer, key);
    } else {
        pointer.push('/');
        pointer.push_str(key);
    }
}

/// Keys whose whole text is an observable of a known kind (`parent` is the enclosing key, for
/// `user.name` / `host.name`; dotted flat keys are split the same way).
fn typed_kind(parent: &str, key: &str) -> Option<ObservableKind> {
    let (parent, key) = match key.rsplit_once('.') {
        Some((p, k)) => (p.rsplit('.').next().unwrap_or(p), k),
        None => (parent, key),
    };
    // Asked for every text value of every JSON event: lower-cased on the stack. No key below is
    // longer than 24 bytes, so a longer key (or parent) matches none of them.
    let (mut parent_buf, mut key_buf) = ([0u8; 24], [0u8; 24]);
    let parent = lower_short(parent, &mut parent_buf).unwrap_or_default();
    let key = lower_short(key, &mut key_buf)?;
    match (parent, key) {
        ("user" | "source_user" | "destination_user", "name")
        | (_, "username" | "user_name" | "srcuser" | "dstuser" | "targetusername" | "subjectusername")
        | (_, "accountname" | "account_name" | "suser" | "duser" | "user") => Some(ObservableKind::User),
        ("host" | "agent", "name" | "hostname")
        | (_, "hostname" | "computer" | "computer_name" | "computername" | "workstationname" | "host") => {
            Some(ObservableKind::Host)
        }
        (_, "command_line" | "commandline" | "cmdline" | "parentcommandline" | "parent_command_line") => {
            Some(ObservableKind::CommandLine)
        }
        _ => None,
    }
}

/// `s` with its ASCII letters lower-cased in `buf`, when it fits.
fn lower_short<'b>(s: &str, buf: &'b mut [u8; 24]) -> Option<&'b str> {
    let out = buf.get_mut(..s.len())?;
    out.copy_from_slice(s.as_bytes());
    out.make_ascii_lowercase();
    std::str::from_utf8(out).ok()
}

/// `incident--<uuid>` from a hash of the format and the input (its first MiB, last 64 KiB and
/// length: enough to tell inputs apart without hashing 100 MB), so the id is stable across runs.
fn derived_id(format: Format, input: &[u8]) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let head = &input[..input.len().min(1 << 20)];
    let tail = &input[input.len().saturating_sub(1 << 16)..];
    let mut bytes = [0u8; 16];
    for (seed, chunk) in bytes.chunks_mut(8).enumerate() {
        let mut h = DefaultHasher::new();
        (seed, format.name(), head, tail, input.len()).hash(&mut h);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    format!("incident--{}", uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// At most `max` bytes of the first line of `s`, cut at a character boundary, with `...` when cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or_default().trim();
    if line.len() <= max {
        return line.to_owned();
    }
    let mut end = max;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &line[..end])
}

/// Reads a text field of a JSON object (a number or boolean as its text).
pub(crate) fn text_of(value: Option<&Value>) -> Option<String> {
    text_ref(value).map(Cow::into_owned)
}

/// `obj[path]` where `path` is dotted (`host.name`) and the object may be nested, flat with
/// dotted keys, or a mix of both (ECS documents are all three in the wild).
pub(crate) fn get_path<'v, O: JsonObject>(obj: &'v O, path: &str) -> Option<&'v O::Value> {
    if let Some(v) = member(obj, path) {
        return Some(v);
    }
    let mut split = path.match_indices('.').map(|(i, _)| i);
    split.find_map(|i| member(obj, &path[..i]).and_then(JsonValue::as_object).and_then(|o| get_path(o, &path[i + 1..])))
}

/// `obj.get(key)`; a log object has a handful of keys, and comparing them is cheaper than hashing
/// the key (a dozen lookups per JSON line, most of them misses).
fn member<'v, O: JsonObject>(obj: &'v O, key: &str) -> Option<&'v O::Value> {
    if obj.len() <= 8 {
        obj.entries().find_map(|(k, v)| (k == key).then_some(v))
    } else {
        obj.get(key)
    }
}

/// [`text_of`] without a copy of text values.
pub(crate) fn text_ref<V: JsonValue>(value: Option<&V>) -> Option<Cow<'_, str>> {
    let value = value?;
    match value.as_str() {
        Some(s) if !s.trim().is_empty() => Some(Cow::Borrowed(s)),
        Some(_) => None,
        None => value.scalar_text().map(Cow::Owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().ok(), Some(f));
            assert_eq!(serde_json::to_value(f).ok(), Some(Value::String(f.name().into())));
        }
        assert!(matches!("xml".parse::<Format>(), Err(IntakeError::FormatName(_))));
    }

    #[test]
    fn times_and_paths() {
        assert!(parse_time("2026-03-02T04:11:09Z").is_some());
        assert!(parse_time("2024-03-02T04:11:09.123+0000").is_some());
        assert!(parse_time("10/Oct/2000:13:55:36 -0700").is_some());
        assert!(parse_time("2024-03-02 04:11:09").is_some());
        assert!(parse_time("yesterday").is_none());
        let v: Value = serde_json::json!({"host": {"name": "a"}, "user.name": "b", "x": {"y.z": 1}});
        let obj = v.as_object().unwrap();
        assert_eq!(get_path(obj, "host.name"), Some(&Value::from("a")));
        assert_eq!(get_path(obj, "user.name"), Some(&Value::from("b")));
        assert_eq!(get_path(obj, "x.y.z"), Some(&Value::from(1)));
        assert_eq!(get_path(obj, "host.ip"), None);
    }

    #[test]
    fn fast_time_paths_agree_with_chrono() {
        let months = syslog::MONTHS.iter().chain(&["mar", "MAR", "Mrz"]);
        for (i, month) in months.enumerate() {
            for day in ["00", "01", "1 ", "09", "28", "29", "30", "31", "32"] {
                for time in ["00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "1:02:03", "12:3a:00"] {
                    for offset in ["+0000", "-0000", "-0700", "+0530", "+2359", "+2400", "+9999", "+00:00", "Z0000"] {
                        let year = ["2026", "2024", "0000", "9999", "1900"][i % 5];
                        let s = format!("{day}/{month}/{year}:{time} {offset}");
                        let chrono = DateTime::parse_from_str(&s, "%d/%b/%Y:%H:%M:%S %z").ok();
                        if let Some(fast) = access_log_time(&s) {
                            assert_eq!(Some(fast), chrono, "{s}");
                        }
                        let fixed = [&s, "2026-03-02T04:11:09Z", "1999-12-31T23:59:60.5-07:30"];
                        for t in fixed.iter().filter_map(|t| parse_time(t)) {
                            assert_eq!(rfc3339(t), t.to_rfc3339(), "{s}");
                        }
                    }
                }
            }
        }
        assert!(access_log_time("02/Mar/2026:04:20:01 +0000").is_some());
        for offset in [-86_340, -25_200, -1, 0, 30, 19_800, 86_340] {
            let zone = FixedOffset::east_opt(offset).unwrap();
            for t in ["2026-03-02T04:11:09Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-02-29T12:00:00.25Z"]
            {
                let t = DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&zone);
                assert_eq!(rfc3339(t), t.to_rfc3339());
            }
        }
    }

    #[test]
    fn detection_and_errors() {
        assert_eq!(detect(b"Hello, the server was hacked.\nPlease help."), Ok(Format::Text));
        assert!(matches!(detect(b"\x00\x01binary"), Err(IntakeError::UnknownFormat(_))));
        assert!(matches!(detect(b"\xff\xfe\xfa\xfb garbage"), Err(IntakeError::UnknownFormat(_))));
        assert!(matches!(detect(b"{\"a\": 1}"), Err(IntakeError::UnknownFormat(m)) if m.contains("keys: a")));
        assert!(matches!(detect(b"   \n"), Err(IntakeError::Empty)));
        let opts = IntakeOptions { max_bytes: 4, ..IntakeOptions::default() };
        assert_eq!(read_auto(b"hello", &opts), Err(IntakeError::TooLarge { size: 5, max: 4 }));
    }

    #[test]
    fn typed_keys() {
        assert_eq!(typed_kind("user", "name"), Some(ObservableKind::User));
        assert_eq!(typed_kind("", "user.name"), Some(ObservableKind::User));
        assert_eq!(typed_kind("EventData", "TargetUserName"), Some(ObservableKind::User));
        assert_eq!(typed_kind("", "host.name"), Some(ObservableKind::Host));
        assert_eq!(typed_kind("process", "command_line"), Some(ObservableKind::CommandLine));
        assert_eq!(typed_kind("os", "name"), None);
    }
}
