//! Constrained decoding for the draft shape: a byte-level state machine compiled from
//! [`draft_json_schema`](crate::generate::draft_json_schema), and a token trie that turns it into
//! a mask over the vocabulary.
//!
//! Why our own and not llguidance: llguidance (a general JSON-schema/CFG engine) would work, but
//! its tokenizer bridge is built for tokenizers 0.21 while we use 0.23, it brings a regex and
//! grammar stack larger than the rest of this backend, and its budget handling (closing what is
//! open as `max_new_tokens` runs out) is not what we need: we need *every* generation, even one
//! from random weights, to end as a complete draft within the token budget. The draft's shape is
//! fixed and small (closed objects, one bounded array, bounded strings, two enums, two short
//! patterns, a boolean), so a state machine over it is a few hundred lines, exact, and cheap to
//! clone, which is what walking a 150k-token trie at every step needs.
//!
//! The machine accepts exactly the JSON texts that fit the schema with the properties in schema
//! order (the order the prompt lists them in), optional whitespace between tokens (a run of at
//! most [`MAX_WHITESPACE_RUN`] bytes, so a model that pretty-prints still fits), strings that are
//! valid UTF-8 with JSON escapes (no lone surrogates, which serde_json rejects) and at most
//! `maxLength` characters.
//!
//! Termination: [`DraftState::min_completion`] is the fewest bytes that finish the document from a
//! state, and there is always a byte that lowers it by exactly one. The vocabulary has a one-byte
//! token for every byte such a shortest completion uses ([`TokenTrie::new`] checks it), so if a
//! token is only allowed when the bytes still needed fit in the tokens still left, generation can
//! never get stuck and always ends in a complete draft within the budget: strings, arrays and
//! objects are closed as the budget runs out.

use crate::generate::draft::{MITIGATION_PATTERN, TECHNIQUE_PATTERN};
use serde_json::Value;

/// Longest run of whitespace accepted between two JSON tokens, in bytes: room for pretty-printing
/// (a newline and an indent), no room for a model that only wants to emit spaces.
pub const MAX_WHITESPACE_RUN: u8 = 16;
/// Most values of one `enum` the machine tracks (a bit mask per state).
const MAX_ENUM_VALUES: usize = 16;

/// A string value with a fixed pattern; the only two the draft schema uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternKind {
    /// `^T[0-9]{4}(\.[0-9]{3})?$`: an ATT&CK technique or sub-technique id.
    Technique,
    /// `^M[0-9]{4}$`: an ATT&CK mitigation id.
    Mitigation,
}

/// One instruction of the compiled shape.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// Optional whitespace.
    Ws,
    /// Exactly these bytes (punctuation, a quoted property name).
    Lit(Vec<u8>),
    /// A string of at most `max_chars` characters, or `null` when nullable.
    Str { max_chars: u16, nullable: bool },
    /// One of these strings.
    Enum(Vec<Vec<u8>>),
    /// A string of a fixed pattern, or `null` when nullable.
    Pattern { kind: PatternKind, nullable: bool },
    /// `true` or `false`.
    Bool,
    /// `[`: starts the (only) array and resets its item count.
    ArrayOpen,
    /// After an item: `,` goes back to `item_start` for another item (fewer than `max` so far),
    /// `]` ends the array (at least `min` items so far).
    ArrayNext { item_start: u16, min: u8, max: u8 },
}

impl Op {
    /// Fewest bytes that complete this op from its start.
    fn min_bytes(&self) -> usize {
        match self {
            Op::Ws => 0,
            Op::Lit(bytes) => bytes.len(),
            Op::Str { .. } => 2,
            Op::Enum(values) => 2 + values.iter().map(Vec::len).min().unwrap_or(0),
            Op::Pattern { nullable: true, .. } => 4,
            // `"T1234"` and `"M1234"` are seven bytes.
            Op::Pattern { nullable: false, .. } => 7,
            Op::Bool => 4,
            Op::ArrayOpen | Op::ArrayNext { .. } => 1,
        }
    }
}

/// The draft shape compiled to a flat program with one loop (the steps array).
#[derive(Debug, Clone)]
pub struct DraftGrammar {
    ops: Vec<Op>,
    /// `suffix_min[i]`: fewest bytes that complete ops `i..` from their start.
    suffix_min: Vec<usize>,
    /// Whether strings may hold non-ASCII characters (needs one-byte tokens for UTF-8
    /// continuation bytes, see [`TokenTrie::new`]).
    allow_non_ascii: bool,
}

/// Why a schema cannot be compiled (the schema uses something the machine does not know).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schema at {pointer}: {message}")]
pub struct SchemaError {
    pub pointer: String,
    pub message: String,
}

impl DraftGrammar {
    /// Compiles the subset of JSON Schema the draft schema uses: closed objects whose properties
    /// are all required, strings with `maxLength`, string enums, the two id patterns, booleans,
    /// nullable variants of those, and one array with `minItems` 1 and `maxItems`.
    /// Anything else is an error, so a schema change the machine cannot follow fails loudly.
    pub fn from_schema(schema: &Value) -> Result<DraftGrammar, SchemaError> {
        let mut ops = vec![Op::Ws];
        let mut in_array = false;
        compile(schema, "", &mut ops, &mut in_array)?;
        if ops.len() > u16::MAX as usize {
            return Err(SchemaError { pointer: String::new(), message: "schema is too large".into() });
        }
        let mut suffix_min = vec![0; ops.len() + 1];
        for i in (0..ops.len()).rev() {
            suffix_min[i] = suffix_min[i + 1] + ops[i].min_bytes();
        }
        Ok(DraftGrammar { ops, suffix_min, allow_non_ascii: true })
    }

    /// The machine for [`draft_json_schema`](crate::generate::draft_json_schema).
    pub fn draft() -> Result<DraftGrammar, SchemaError> {
        DraftGrammar::from_schema(&crate::generate::draft_json_schema())
    }

    /// Restricts strings to ASCII (for vocabularies without one-byte tokens for every UTF-8
    /// continuation byte).
    pub fn with_ascii_strings_only(mut self) -> DraftGrammar {
        self.allow_non_ascii = false;
        self
    }

    /// The state before the first byte.
    pub fn start(&self) -> DraftState {
        DraftState { pos: 0, sub: Sub::Fresh, items: 0, ws_run: 0 }
    }

    /// Every byte a shortest completion from any state may need, so the vocabulary can be checked
    /// for one-byte tokens of each.
    pub fn completion_bytes(&self) -> Vec<u8> {
        let mut bytes: Vec<u8> = b"\"{}[],:0123456789abcdefnlrtusTM.".to_vec();
        for op in &self.ops {
            match op {
                Op::Lit(lit) => bytes.extend_from_slice(lit),
                Op::Enum(values) => values.iter().for_each(|v| bytes.extend_from_slice(v)),
                _ => {}
            }
        }
        if self.allow_non_ascii {
            bytes.extend(0x80..=0xBF);
        }
        bytes.sort_unstable();
        bytes.dedup();
        bytes
    }
}

fn compile(schema: &Value, pointer: &str, ops: &mut Vec<Op>, in_array: &mut bool) -> Result<(), SchemaError> {
    let fail = |message: String| SchemaError { pointer: pointer.to_owned(), message };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => return Err(fail("no type".into())),
    };
    let nullable = types.contains(&"null");
    let main: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
    let [main] = main.as_slice() else {
        return Err(fail(format!("unsupported type list {types:?}")));
    };
    match *main {
        "object" => {
            if nullable {
                return Err(fail("nullable objects are not supported".into()));
            }
            if schema["additionalProperties"] != Value::Bool(false) {
                return Err(fail("objects must be closed (additionalProperties: false)".into()));
            }
            let props = schema["properties"].as_object().ok_or_else(|| fail("object without properties".into()))?;
            let required: Vec<&str> =
                schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            ops.push(Op::Lit(b"{".to_vec()));
            ops.push(Op::Ws);
            for (i, (name, sub)) in props.iter().enumerate() {
                if !required.contains(&name.as_str()) {
                    return Err(fail(format!("property {name} is not required")));
                }
                if i > 0 {
                    ops.push(Op::Lit(b",".to_vec()));
                    ops.push(Op::Ws);
                }
                let key = serde_json::to_string(name).map_err(|e| fail(e.to_string()))?;
                ops.push(Op::Lit(key.into_bytes()));
                ops.push(Op::Ws);
                ops.push(Op::Lit(b":".to_vec()));
                ops.push(Op::Ws);
                compile(sub, &format!("{pointer}/properties/{name}"), ops, in_array)?;
                ops.push(Op::Ws);
            }
            ops.push(Op::Lit(b"}".to_vec()));
        }
        "array" => {
            if nullable || *in_array {
                return Err(fail("only one array, not nullable and not nested, is supported".into()));
            }
            let min = schema["minItems"].as_u64().unwrap_or(0);
            let max = schema["maxItems"].as_u64().ok_or_else(|| fail("array without maxItems".into()))?;
            // One item is written unconditionally and `]` may follow any item, so minItems must be 1.
            if min != 1 || max < min || max > u8::MAX as u64 {
                return Err(fail(format!(
                    "array bounds {min}..={max} are not supported (minItems 1, maxItems <= 255)"
                )));
            }
            *in_array = true;
            ops.push(Op::ArrayOpen);
            let item_start = ops.len();
            ops.push(Op::Ws);
            compile(&schema["items"], &format!("{pointer}/items"), ops, in_array)?;
            ops.push(Op::Ws);
            ops.push(Op::ArrayNext { item_start: item_start as u16, min: min as u8, max: max as u8 });
        }
        "boolean" if !nullable => ops.push(Op::Bool),
        "string" => {
            if let Some(values) = schema.get("enum") {
                let values: Vec<Vec<u8>> = values
                    .as_array()
                    .ok_or_else(|| fail("enum is not a list".into()))?
                    .iter()
                    .map(|v| v.as_str().map(|s| s.as_bytes().to_vec()))
                    .collect::<Option<_>>()
                    .ok_or_else(|| fail("enum values must be strings".into()))?;
                let plain = |v: &Vec<u8>| {
                    !v.is_empty() && v.iter().all(|b| (0x20..0x7f).contains(b) && *b != b'"' && *b != b'\\')
                };
                if nullable || values.is_empty() || values.len() > MAX_ENUM_VALUES || !values.iter().all(plain) {
                    return Err(fail(format!(
                        "enums must be 1 to {MAX_ENUM_VALUES} plain ASCII strings, not nullable"
                    )));
                }
                ops.push(Op::Enum(values));
            } else if let Some(pattern) = schema.get("pattern") {
                let kind = match pattern.as_str() {
                    Some(TECHNIQUE_PATTERN) => PatternKind::Technique,
                    Some(MITIGATION_PATTERN) => PatternKind::Mitigation,
                    _ => return Err(fail(format!("unsupported pattern {pattern}"))),
                };
                ops.push(Op::Pattern { kind, nullable });
            } else {
                let max = schema["maxLength"]
                    .as_u64()
                    .ok_or_else(|| fail("strings need maxLength, so generation terminates".into()))?;
                let max_chars = u16::try_from(max).map_err(|_| fail(format!("maxLength {max} is too large")))?;
                ops.push(Op::Str { max_chars, nullable });
            }
        }
        other => return Err(fail(format!("unsupported type {other}"))),
    }
    Ok(())
}

/// Where inside a string the machine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrEsc {
    /// Between characters.
    None,
    /// After a backslash.
    Backslash,
    /// After `\u` and `seen` hex digits; `surrogate_lead` when the first was `d`/`D`.
    Unicode { seen: u8, surrogate_lead: bool },
    /// Inside a multi-byte UTF-8 character: `left` continuation bytes to come, the next one in
    /// `lo..=hi` (narrower than 0x80..=0xBF after some lead bytes, which rules out overlong forms
    /// and surrogates).
    Utf8 { left: u8, lo: u8, hi: u8 },
}

/// Progress inside the current op.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sub {
    /// Nothing of the op read yet.
    Fresh,
    /// `offset` bytes of a literal read.
    Lit { offset: u8 },
    /// Inside a string: `chars` characters so far.
    Str { chars: u16, esc: StrEsc },
    /// `offset` bytes of `null` read.
    Null { offset: u8 },
    /// Inside an enum string: `len` bytes read, `candidates` the values that still match.
    Enum { len: u8, candidates: u16 },
    /// Inside a pattern string: `len` bytes of the value read.
    Pattern { len: u8 },
    /// `offset` bytes of `true` or `false` read.
    Bool { value: bool, offset: u8 },
}

/// A position of the machine: small and `Copy`, so the trie walk clones it per node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DraftState {
    pos: u16,
    sub: Sub,
    /// Items of the array finished before the current one.
    items: u8,
    /// Whitespace bytes in the current run.
    ws_run: u8,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

impl DraftState {
    /// Whether the document is complete (nothing more is accepted).
    pub fn is_done(&self, grammar: &DraftGrammar) -> bool {
        self.pos as usize >= grammar.ops.len()
    }

    /// In a string between characters (not in an escape or a multi-byte character): how many
    /// more characters fit. `None` anywhere else.
    fn plain_string_room(&self, grammar: &DraftGrammar) -> Option<usize> {
        match (grammar.ops.get(self.pos as usize), self.sub) {
            (Some(Op::Str { max_chars, .. }), Sub::Str { chars, esc: StrEsc::None }) => {
                Some(max_chars.saturating_sub(chars) as usize)
            }
            _ => None,
        }
    }

    /// Fewest bytes that complete the document from here.
    pub fn min_completion(&self, grammar: &DraftGrammar) -> usize {
        let pos = self.pos as usize;
        let Some(op) = grammar.ops.get(pos) else { return 0 };
        let rest = grammar.suffix_min[pos + 1];
        let here = match (op, self.sub) {
            (_, Sub::Fresh) => op.min_bytes(),
            (Op::Lit(lit), Sub::Lit { offset }) => lit.len() - offset as usize,
            (_, Sub::Null { offset }) => 4 - offset as usize,
            (_, Sub::Str { esc, .. }) => {
                1 + match esc {
                    StrEsc::None => 0,
                    StrEsc::Backslash => 1,
                    StrEsc::Unicode { seen, .. } => 4 - seen as usize,
                    StrEsc::Utf8 { left, .. } => left as usize,
                }
            }
            (Op::Enum(values), Sub::Enum { len, candidates }) => {
                1 + values
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| candidates & (1 << i) != 0)
                    .map(|(_, v)| v.len() - len as usize)
                    .min()
                    .unwrap_or(0)
            }
            (Op::Pattern { kind, .. }, Sub::Pattern { len }) => pattern_remaining(*kind, len),
            (_, Sub::Bool { value, offset }) => (if value { 4 } else { 5 }) - offset as usize,
            // Unreachable combinations: a sub-state only ever pairs with its own op.
            _ => op.min_bytes(),
        };
        here + rest
    }

    /// Feeds one byte; false (and the state unchanged) when it does not keep the output a
    /// prefix of a document of the shape.
    pub fn feed(&mut self, grammar: &DraftGrammar, b: u8) -> bool {
        let mut next = *self;
        if next.step(grammar, b) {
            *self = next;
            true
        } else {
            false
        }
    }

    /// Feeds every byte of `bytes`; false (state unspecified) as soon as one is refused.
    pub fn feed_all(&mut self, grammar: &DraftGrammar, bytes: &[u8]) -> bool {
        bytes.iter().all(|&b| self.step(grammar, b))
    }

    /// Moves to the next op.
    fn finish_op(&mut self) {
        self.pos += 1;
        self.sub = Sub::Fresh;
    }

    /// One byte; may leave the state half-updated when it returns false (callers copy first).
    fn step(&mut self, grammar: &DraftGrammar, b: u8) -> bool {
        loop {
            let Some(op) = grammar.ops.get(self.pos as usize) else { return false };
            match op {
                Op::Ws => {
                    if is_ws(b) && self.ws_run < MAX_WHITESPACE_RUN {
                        self.ws_run += 1;
                        return true;
                    }
                    // Not whitespace (or the run is over): the byte belongs to the next op.
                    self.ws_run = 0;
                    self.finish_op();
                    continue;
                }
                Op::Lit(lit) => {
                    let offset = match self.sub {
                        Sub::Lit { offset } => offset as usize,
                        _ => 0,
                    };
                    if lit.get(offset) != Some(&b) {
                        return false;
                    }
                    if offset + 1 == lit.len() {
                        self.finish_op();
                    } else {
                        self.sub = Sub::Lit { offset: offset as u8 + 1 };
                    }
                    return true;
                }
                Op::ArrayOpen => {
                    if b != b'[' {
                        return false;
                    }
                    self.items = 0;
                    self.finish_op();
                    return true;
                }
                Op::ArrayNext { item_start, min, max } => {
                    let done = self.items as usize + 1;
                    if b == b',' && done < *max as usize {
                        self.items += 1;
                        self.pos = *item_start;
                        self.sub = Sub::Fresh;
                        return true;
                    }
                    if b == b']' && done >= *min as usize {
                        self.finish_op();
                        return true;
                    }
                    return false;
                }
                Op::Bool => {
                    return match self.sub {
                        Sub::Fresh if b == b't' || b == b'f' => {
                            self.sub = Sub::Bool { value: b == b't', offset: 1 };
                            true
                        }
                        Sub::Bool { value, offset } => {
                            let word: &[u8] = if value { b"true" } else { b"false" };
                            if word.get(offset as usize) != Some(&b) {
                                return false;
                            }
                            if offset as usize + 1 == word.len() {
                                self.finish_op();
                            } else {
                                self.sub = Sub::Bool { value, offset: offset + 1 };
                            }
                            true
                        }
                        _ => false,
                    };
                }
                Op::Str { max_chars, nullable } => {
                    return match self.sub {
                        Sub::Fresh if b == b'"' => {
                            self.sub = Sub::Str { chars: 0, esc: StrEsc::None };
                            true
                        }
                        Sub::Fresh if b == b'n' && *nullable => {
                            self.sub = Sub::Null { offset: 1 };
                            true
                        }
                        Sub::Null { offset } => self.step_null(offset, b),
                        Sub::Str { chars, esc } => self.step_string(chars, esc, *max_chars, grammar.allow_non_ascii, b),
                        _ => false,
                    };
                }
                Op::Enum(values) => {
                    return match self.sub {
                        Sub::Fresh if b == b'"' => {
                            self.sub = Sub::Enum { len: 0, candidates: (1u32 << values.len()).wrapping_sub(1) as u16 };
                            true
                        }
                        Sub::Enum { len, candidates } => {
                            let live = |i: usize| candidates & (1 << i) != 0;
                            if b == b'"' {
                                let complete = (0..values.len()).any(|i| live(i) && values[i].len() == len as usize);
                                if complete {
                                    self.finish_op();
                                }
                                return complete;
                            }
                            let mut next = 0u16;
                            for (i, v) in values.iter().enumerate() {
                                if live(i) && v.get(len as usize) == Some(&b) {
                                    next |= 1 << i;
                                }
                            }
                            if next == 0 {
                                return false;
                            }
                            self.sub = Sub::Enum { len: len + 1, candidates: next };
                            true
                        }
                        _ => false,
                    };
                }
                Op::Pattern { kind, nullable } => {
                    return match self.sub {
                        Sub::Fresh if b == b'"' => {
                            self.sub = Sub::Pattern { len: 0 };
                            true
                        }
                        Sub::Fresh if b == b'n' && *nullable => {
                            self.sub = Sub::Null { offset: 1 };
                            true
                        }
                        Sub::Null { offset } => self.step_null(offset, b),
                        Sub::Pattern { len } => match pattern_step(*kind, len, b) {
                            PatternStep::Reject => false,
                            PatternStep::Continue => {
                                self.sub = Sub::Pattern { len: len + 1 };
                                true
                            }
                            PatternStep::Close => {
                                self.finish_op();
                                true
                            }
                        },
                        _ => false,
                    };
                }
            }
        }
    }

    fn step_null(&mut self, offset: u8, b: u8) -> bool {
        if b"null".get(offset as usize) != Some(&b) {
            return false;
        }
        if offset == 3 {
            self.finish_op();
        } else {
            self.sub = Sub::Null { offset: offset + 1 };
        }
        true
    }

    fn step_string(&mut self, chars: u16, esc: StrEsc, max_chars: u16, allow_non_ascii: bool, b: u8) -> bool {
        let room = chars < max_chars;
        let next_esc = match esc {
            StrEsc::None => match b {
                b'"' => {
                    self.finish_op();
                    return true;
                }
                // An escape is one character; it is counted at the backslash.
                b'\\' if room => StrEsc::Backslash,
                0x20..=0x7f if b != b'\\' && room => {
                    self.sub = Sub::Str { chars: chars + 1, esc: StrEsc::None };
                    return true;
                }
                0xC2..=0xF4 if room && allow_non_ascii => {
                    let (left, lo, hi) = match b {
                        0xC2..=0xDF => (1, 0x80, 0xBF),
                        0xE0 => (2, 0xA0, 0xBF),
                        0xED => (2, 0x80, 0x9F),
                        0xE1..=0xEF => (2, 0x80, 0xBF),
                        0xF0 => (3, 0x90, 0xBF),
                        0xF4 => (3, 0x80, 0x8F),
                        _ => (3, 0x80, 0xBF),
                    };
                    self.sub = Sub::Str { chars: chars + 1, esc: StrEsc::Utf8 { left, lo, hi } };
                    return true;
                }
                _ => return false,
            },
            StrEsc::Utf8 { left, lo, hi } => {
                if !(lo..=hi).contains(&b) {
                    return false;
                }
                if left == 1 {
                    StrEsc::None
                } else {
                    StrEsc::Utf8 { left: left - 1, lo: 0x80, hi: 0xBF }
                }
            }
            StrEsc::Backslash => match b {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                    self.sub = Sub::Str { chars: chars + 1, esc: StrEsc::None };
                    return true;
                }
                b'u' => StrEsc::Unicode { seen: 0, surrogate_lead: false },
                _ => return false,
            },
            StrEsc::Unicode { seen, surrogate_lead } => {
                if !b.is_ascii_hexdigit() {
                    return false;
                }
                // \uD800-\uDFFF alone is a lone surrogate, which serde_json rejects.
                if seen == 1 && surrogate_lead && !(b'0'..=b'7').contains(&b) {
                    return false;
                }
                if seen == 3 {
                    self.sub = Sub::Str { chars: chars + 1, esc: StrEsc::None };
                    return true;
                }
                StrEsc::Unicode { seen: seen + 1, surrogate_lead: seen == 0 && (b == b'd' || b == b'D') }
            }
        };
        self.sub = Sub::Str { chars, esc: next_esc };
        true
    }
}

enum PatternStep {
    Reject,
    Continue,
    Close,
}

/// Technique values are `T` + 4 digits, then `"` or `.` + 3 digits + `"`; `len` counts bytes
/// after the opening quote.
fn pattern_step(kind: PatternKind, len: u8, b: u8) -> PatternStep {
    let ok = |c: bool| if c { PatternStep::Continue } else { PatternStep::Reject };
    match (kind, len) {
        (PatternKind::Technique, 0) => ok(b == b'T'),
        (PatternKind::Mitigation, 0) => ok(b == b'M'),
        (_, 1..=4) => ok(b.is_ascii_digit()),
        (_, 5) if b == b'"' => PatternStep::Close,
        (PatternKind::Technique, 5) => ok(b == b'.'),
        (PatternKind::Technique, 6..=8) => ok(b.is_ascii_digit()),
        (PatternKind::Technique, 9) if b == b'"' => PatternStep::Close,
        _ => PatternStep::Reject,
    }
}

/// Bytes that finish a pattern string after `len` bytes of its value (closing quote included).
fn pattern_remaining(kind: PatternKind, len: u8) -> usize {
    match (kind, len) {
        (_, 0..=5) => 6 - len as usize,
        (PatternKind::Technique, 6..=9) => 10 - len as usize,
        _ => 1,
    }
}

/// The vocabulary as tries in depth-first order, for computing the allowed tokens of a state in
/// one walk: a byte the machine refuses prunes every token that starts with it.
///
/// Inside a string nearly every token is allowed, and walking a 150k-token trie per step costs
/// about 10 ms, a fifth of a 0.5B model's step on two cores. So tokens that are *plain string
/// text* (valid UTF-8 without quotes, backslashes or control characters) are also kept in a list
/// sorted by their length in characters: in a string with room for `n` more characters, every
/// plain token of at most `n` characters is allowed and leaves the machine in the same place
/// (no closer to the end), so they are taken from the list at once and only the other tokens
/// are walked.
#[derive(Debug, Clone)]
pub struct TokenTrie {
    /// Every token.
    all: Trie,
    /// The tokens that are not plain string text.
    other: Trie,
    /// Plain string tokens as (characters, id), by characters.
    plain: Vec<(u16, u32)>,
}

#[derive(Debug, Clone, Default)]
struct Trie {
    nodes: Vec<TrieNode>,
    /// Token ids, grouped per node (`TrieNode::tokens_start..tokens_end` is a range of this).
    token_ids: Vec<u32>,
}

#[derive(Debug, Clone)]
struct TrieNode {
    byte: u8,
    /// Depth below the root (1 for the first byte of a token).
    depth: u16,
    /// Index one past this node's subtree.
    subtree_end: u32,
    tokens_start: u32,
    tokens_end: u32,
}

/// Why a vocabulary cannot drive the machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VocabularyError {
    #[error("the vocabulary has no single-byte token for {0:?}, which closing a draft may need")]
    MissingByte(char),
    #[error("a token is {0} bytes long; at most 65535 are supported")]
    TokenTooLong(usize),
}

/// The characters of a plain string token, or `None` when it is not one.
fn plain_chars(bytes: &[u8], allow_non_ascii: bool) -> Option<u16> {
    let text = std::str::from_utf8(bytes).ok()?;
    let plain = text.chars().all(|c| c >= ' ' && c != '"' && c != '\\' && (allow_non_ascii || c.is_ascii()));
    plain.then(|| u16::try_from(text.chars().count()).ok()).flatten()
}

impl TokenTrie {
    /// Builds the tries of `tokens` (id, bytes); tokens without bytes (special tokens) are left
    /// out. Checks every byte `grammar` may need to close a draft has a one-byte token; when only
    /// the UTF-8 continuation bytes are missing, returns the grammar restricted to ASCII strings.
    pub fn new(tokens: &[(u32, Vec<u8>)], grammar: DraftGrammar) -> Result<(TokenTrie, DraftGrammar), VocabularyError> {
        let mut single = [false; 256];
        for (_, bytes) in tokens {
            if let [b] = bytes.as_slice() {
                single[*b as usize] = true;
            }
            if bytes.len() > u16::MAX as usize {
                return Err(VocabularyError::TokenTooLong(bytes.len()));
            }
        }
        let grammar = if grammar.allow_non_ascii && !(0x80..=0xBF).all(|b| single[b]) {
            grammar.with_ascii_strings_only()
        } else {
            grammar
        };
        if let Some(b) = grammar.completion_bytes().into_iter().find(|b| !single[*b as usize]) {
            return Err(VocabularyError::MissingByte(b as char));
        }
        let mut sorted: Vec<(&[u8], u32)> =
            tokens.iter().filter(|(_, b)| !b.is_empty()).map(|(id, b)| (b.as_slice(), *id)).collect();
        sorted.sort_unstable();
        let mut plain = Vec::new();
        let mut other = Vec::new();
        for &(bytes, id) in &sorted {
            match plain_chars(bytes, grammar.allow_non_ascii) {
                Some(chars) => plain.push((chars, id)),
                None => other.push((bytes, id)),
            }
        }
        plain.sort_unstable();
        let trie = TokenTrie { all: Trie::build(&sorted), other: Trie::build(&other), plain };
        Ok((trie, grammar))
    }

    /// Number of tokens in the trie.
    pub fn len(&self) -> usize {
        self.all.token_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.token_ids.is_empty()
    }

    /// Appends to `allowed` every token whose bytes the machine accepts from `state` and after
    /// which the rest of the document still fits in `tokens_left_after` tokens.
    pub fn allowed(
        &self,
        grammar: &DraftGrammar,
        state: &DraftState,
        tokens_left_after: usize,
        allowed: &mut Vec<u32>,
    ) {
        match state.plain_string_room(grammar) {
            Some(room) => {
                // A plain token leaves the machine where it is, so the budget test is this state's.
                if state.min_completion(grammar) <= tokens_left_after {
                    let fitting = self.plain.partition_point(|(chars, _)| *chars as usize <= room);
                    allowed.extend(self.plain[..fitting].iter().map(|(_, id)| *id));
                }
                self.other.walk(grammar, state, tokens_left_after, allowed);
            }
            None => self.all.walk(grammar, state, tokens_left_after, allowed),
        }
    }
}

impl Trie {
    /// The trie of tokens sorted by bytes.
    fn build(sorted: &[(&[u8], u32)]) -> Trie {
        let mut nodes: Vec<TrieNode> = Vec::new();
        let mut token_ids = Vec::with_capacity(sorted.len());
        // The path of open nodes (indices into `nodes`), one per depth.
        let mut path: Vec<usize> = Vec::new();
        for &(bytes, id) in sorted {
            // Keep the common prefix with the previous token open; close the rest.
            let mut common = 0;
            while common < path.len() && common < bytes.len() && nodes[path[common]].byte == bytes[common] {
                common += 1;
            }
            for &closed in &path[common..] {
                nodes[closed].subtree_end = nodes.len() as u32;
            }
            path.truncate(common);
            for (depth, &b) in bytes.iter().enumerate().skip(common) {
                path.push(nodes.len());
                nodes.push(TrieNode {
                    byte: b,
                    depth: depth as u16 + 1,
                    subtree_end: 0,
                    tokens_start: token_ids.len() as u32,
                    tokens_end: token_ids.len() as u32,
                });
            }
            // Sorted order puts equal byte strings next to each other, so the last node of the
            // path is the one this token ends at, and its ids stay contiguous.
            let last = path[bytes.len() - 1];
            debug_assert_eq!(nodes[last].tokens_end, token_ids.len() as u32, "tokens of a node are contiguous");
            token_ids.push(id);
            nodes[last].tokens_end = token_ids.len() as u32;
        }
        for &open in &path {
            nodes[open].subtree_end = nodes.len() as u32;
        }
        Trie { nodes, token_ids }
    }

    fn walk(&self, grammar: &DraftGrammar, state: &DraftState, tokens_left_after: usize, allowed: &mut Vec<u32>) {
        // states[d]: the machine after the first d bytes of the current path.
        let mut states: Vec<DraftState> = Vec::with_capacity(64);
        states.push(*state);
        let mut i = 0;
        while i < self.nodes.len() {
            let node = &self.nodes[i];
            let depth = node.depth as usize;
            states.truncate(depth);
            let mut next = states[depth - 1];
            if !next.step(grammar, node.byte) {
                i = node.subtree_end as usize;
                continue;
            }
            if node.tokens_end > node.tokens_start && next.min_completion(grammar) <= tokens_left_after {
                allowed.extend_from_slice(&self.token_ids[node.tokens_start as usize..node.tokens_end as usize]);
            }
            states.push(next);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{draft_json_schema, parse_draft};

    use crate::attack::sigma::SplitMix as Rng;

    fn accepts(grammar: &DraftGrammar, text: &str) -> bool {
        let mut s = grammar.start();
        s.feed_all(grammar, text.as_bytes()) && s.is_done(grammar)
    }

    /// Bytes a walk draws from: structure, letters, digits, escapes, whitespace, UTF-8 pieces.
    fn candidate_bytes() -> Vec<u8> {
        (0u8..=255).collect()
    }

    /// A random walk: each step picks a random byte among those the machine accepts and the
    /// budget allows; returns the text and whether it finished.
    fn walk(grammar: &DraftGrammar, seed: u64, budget: usize, mut check: impl FnMut(&DraftState, usize)) -> Vec<u8> {
        let mut rng = Rng::new(seed);
        let mut state = grammar.start();
        let mut out = Vec::new();
        // Bias towards closing quotes and structure now and then, so walks are not all strings.
        while !state.is_done(grammar) {
            let left = budget - out.len();
            check(&state, left);
            let options: Vec<u8> = candidate_bytes()
                .into_iter()
                .filter(|&b| {
                    let mut s = state;
                    s.feed(grammar, b) && s.min_completion(grammar) < left
                })
                .collect();
            assert!(!options.is_empty(), "dead end after {:?}", String::from_utf8_lossy(&out));
            let pick = if rng.below(4) == 0 {
                // The byte that makes most progress towards the end.
                *options
                    .iter()
                    .min_by_key(|&&b| {
                        let mut s = state;
                        s.feed(grammar, b);
                        s.min_completion(grammar)
                    })
                    .unwrap()
            } else {
                options[rng.below(options.len())]
            };
            assert!(state.feed(grammar, pick));
            out.push(pick);
        }
        out
    }

    #[test]
    fn the_draft_schema_compiles() {
        let grammar = DraftGrammar::draft().unwrap();
        // `{"name":"","description":"","steps":[{...}]}` with the shortest values.
        let shortest = r#"{"name":"","description":"","steps":[{"name":"","description":"","phase":"recovery","command_type":"ssh","command":"","target":"","technique":null,"mitigation":null,"destructive":true,"expect":""}]}"#;
        assert!(accepts(&grammar, shortest));
        assert_eq!(grammar.start().min_completion(&grammar), shortest.len());
    }

    #[test]
    fn random_walks_always_end_in_a_draft_within_the_budget() {
        let grammar = DraftGrammar::draft().unwrap();
        let schema = draft_json_schema();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let min = grammar.start().min_completion(&grammar);
        for seed in 0..60u64 {
            let budget = min + (seed as usize * 37) % 1500;
            let text = walk(&grammar, seed, budget, |state, left| {
                // The invariant the budget rests on: some byte brings the end one byte closer.
                let need = state.min_completion(&grammar);
                assert!(need <= left, "seed {seed}: {need} needed, {left} left");
                let closer = (0u8..=255).any(|b| {
                    let mut s = *state;
                    s.feed(&grammar, b) && s.min_completion(&grammar) + 1 == need
                });
                assert!(closer, "seed {seed}: no byte gets closer from {state:?}");
            });
            assert!(text.len() <= budget);
            let text = String::from_utf8(text).expect("the machine only accepts UTF-8");
            let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}: {text}"));
            assert!(validator.is_valid(&doc), "seed {seed}: not valid against the schema: {text}");
            parse_draft(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}: {text}"));
        }
    }

    #[test]
    fn pretty_printed_drafts_with_escapes_and_unicode_are_accepted() {
        let grammar = DraftGrammar::draft().unwrap();
        let step = serde_json::json!({"name": "Block 203.0.113.45 — at the \"edge\"", "description": "why\n\tnow \u{1F512}",
            "phase": "containment", "command_type": "openc2-http", "command": "iptables -I INPUT -s 203.0.113.45 -j DROP",
            "target": "bastion-01", "technique": "T1110.001", "mitigation": "M1036", "destructive": false, "expect": null});
        let doc = serde_json::json!({"name": "p", "description": "d", "steps": [step.clone(), step]});
        assert!(accepts(&grammar, &serde_json::to_string_pretty(&doc).unwrap()));
        assert!(accepts(&grammar, &doc.to_string()));
        let escaped = doc.to_string().replace("why", r"wh\u00e9 \/ \\ \u4e2d");
        assert!(accepts(&grammar, &escaped));
    }

    #[test]
    fn what_does_not_fit_is_refused() {
        let grammar = DraftGrammar::draft().unwrap();
        let good = r#"{"name":"p","description":"d","steps":[{"name":"a","description":"b","phase":"containment","command_type":"bash","command":"c","target":null,"technique":"T1110","mitigation":null,"destructive":false,"expect":null}]}"#;
        assert!(accepts(&grammar, good));
        let refused = |text: &str| {
            let mut s = grammar.start();
            !s.feed_all(&grammar, text.as_bytes())
        };
        assert!(refused(r#"{"name":1"#));
        assert!(refused(r#"{"description":"#), "properties come in schema order");
        assert!(refused(&good.replace("containment", "panic")));
        assert!(refused(&good.replace("\"bash\"", "\"bas\"")));
        assert!(refused(&good.replace("T1110", "T11")));
        assert!(refused(&good.replace("T1110", "T1110.1")));
        assert!(refused(&good.replace("\"mitigation\":null", "\"mitigation\":\"T1234\"")));
        assert!(refused(&good.replace("false", "0")));
        assert!(refused(&good.replace("\"c\"", "\"a\u{1}b\"")), "raw control characters");
        assert!(refused(&good.replace("\"c\"", r#""\ud800""#)), "lone surrogates");
        assert!(refused(&good.replace("\"c\"", r#""\x41""#)), "unknown escapes");
        assert!(refused(&format!("{good} ")), "nothing after the document");
        assert!(refused(&good.replace("\"steps\":[{", "\"steps\":[]")), "minItems 1");
        let long = "x".repeat(201);
        assert!(refused(&good.replace("\"a\"", &format!("\"{long}\""))), "maxLength 200");
        assert!(accepts(&grammar, &good.replace("\"a\"", &format!("\"{}\"", &long[..200]))));
        let spaces = " ".repeat(MAX_WHITESPACE_RUN as usize + 1);
        assert!(refused(&good.replace("\"p\",", &format!("\"p\"{spaces},"))));
        // Invalid UTF-8: an overlong lead, a stray continuation byte, a truncated character.
        for bytes in [&[0xC0u8, 0x80][..], &[0x80], &[0xE2, 0x82, b'"']] {
            let mut s = grammar.start();
            assert!(s.feed_all(&grammar, br#"{"name":""#));
            assert!(!s.feed_all(&grammar, bytes));
        }
        // At most 12 steps.
        let step = &good[good.find("[{").unwrap() + 1..good.rfind("]}").unwrap()];
        let steps = |n: usize| vec![step; n].join(",");
        let with = |n: usize| good.replace(step, &steps(n));
        assert!(accepts(&grammar, &with(12)));
        assert!(refused(&with(13)));
    }

    #[test]
    fn ascii_only_strings_refuse_other_bytes() {
        let grammar = DraftGrammar::draft().unwrap().with_ascii_strings_only();
        let mut s = grammar.start();
        assert!(s.feed_all(&grammar, br#"{"name":"caf"#));
        assert!(!s.feed(&grammar, 0xC3));
        assert!(s.feed_all(&grammar, br#"e\u00e9""#));
        assert!(!grammar.completion_bytes().contains(&0x80));
    }

    #[test]
    fn unsupported_schemas_fail_with_a_pointer() {
        let mut schema = draft_json_schema();
        schema["properties"]["steps"]["items"]["properties"]["command"] = serde_json::json!({"type": "string"});
        let err = DraftGrammar::from_schema(&schema).unwrap_err();
        assert_eq!(err.pointer, "/properties/steps/items/properties/command");
        let mut schema = draft_json_schema();
        schema["properties"]["name"] = serde_json::json!({"type": "integer"});
        assert!(DraftGrammar::from_schema(&schema).is_err());
        let mut schema = draft_json_schema();
        schema["properties"]["steps"]["items"]["properties"]["technique"]["pattern"] = "^X$".into();
        assert!(DraftGrammar::from_schema(&schema).is_err());
    }

    fn toy_vocabulary() -> Vec<(u32, Vec<u8>)> {
        let mut tokens: Vec<(u32, Vec<u8>)> = (0u8..=255).map(|b| (b as u32, vec![b])).collect();
        let words: [&[u8]; 14] = [
            b"{\"",
            b"name",
            b"\":\"",
            b"\",\"",
            b"description",
            b"steps",
            b"\":[{\"",
            b"null",
            b"contain",
            b"ment",
            b"bash",
            b"true",
            b"}]}",
            b"",
        ];
        for w in words {
            tokens.push((tokens.len() as u32, w.to_vec()));
        }
        // Plain text with non-ASCII characters, a partial character, quotes, escapes, controls.
        let more: [&[u8]; 10] = [
            "é".as_bytes(),
            "中文".as_bytes(),
            &[0xE4],
            &[0xB8, 0xAD],
            b"a\"b",
            b" \"",
            b"\\n",
            b"x\x01",
            b"\\u00e9",
            b"Block the",
        ];
        for w in more {
            tokens.push((tokens.len() as u32, w.to_vec()));
        }
        // A duplicate byte string under another id (added tokens can repeat vocabulary entries).
        tokens.push((tokens.len() as u32, b"name".to_vec()));
        tokens
    }

    /// The allowed tokens by brute force: every token fed to the machine.
    fn brute_force(grammar: &DraftGrammar, vocabulary: &[(u32, Vec<u8>)], state: DraftState, left: usize) -> Vec<u32> {
        let mut expected: Vec<u32> = vocabulary
            .iter()
            .filter(|(_, bytes)| {
                let mut s = state;
                !bytes.is_empty() && s.feed_all(grammar, bytes) && s.min_completion(grammar) <= left
            })
            .map(|(id, _)| *id)
            .collect();
        expected.sort_unstable();
        expected
    }

    #[test]
    fn near_the_length_limit_only_short_enough_text_is_allowed() {
        let vocabulary = toy_vocabulary();
        let (trie, grammar) = TokenTrie::new(&vocabulary, DraftGrammar::draft().unwrap()).unwrap();
        for filled in [0, 190, 198, 199, 200] {
            let mut state = grammar.start();
            assert!(state.feed_all(&grammar, format!("{{\"name\":\"{}", "x".repeat(filled)).as_bytes()));
            for left in [0, 250, 1000] {
                let mut allowed = Vec::new();
                trie.allowed(&grammar, &state, left, &mut allowed);
                allowed.sort_unstable();
                assert_eq!(allowed, brute_force(&grammar, &vocabulary, state, left), "{filled} chars, {left} left");
            }
        }
    }

    #[test]
    fn the_trie_allows_exactly_the_tokens_the_machine_accepts() {
        let vocabulary = toy_vocabulary();
        let (trie, grammar) = TokenTrie::new(&vocabulary, DraftGrammar::draft().unwrap()).unwrap();
        assert_eq!(trie.len(), vocabulary.len() - 1, "the empty token is left out");
        let mut rng = Rng::new(7);
        let min = grammar.start().min_completion(&grammar);
        for seed in 0..8 {
            let budget = min + 300;
            let text = walk(&grammar, seed, budget, |_, _| {});
            // Check the mask at a few prefixes of the walk, with tight and loose budgets.
            for _ in 0..20 {
                let cut = rng.below(text.len());
                let mut state = grammar.start();
                assert!(state.feed_all(&grammar, &text[..cut]));
                for left in [0, 3, state.min_completion(&grammar), budget] {
                    let mut allowed = Vec::new();
                    trie.allowed(&grammar, &state, left, &mut allowed);
                    allowed.sort_unstable();
                    let expected = brute_force(&grammar, &vocabulary, state, left);
                    assert_eq!(allowed, expected, "after {:?} with {left} left", String::from_utf8_lossy(&text[..cut]));
                }
            }
        }
    }

    #[test]
    fn vocabularies_without_the_closing_bytes_are_refused() {
        let vocabulary: Vec<(u32, Vec<u8>)> = (0u8..=255).filter(|b| *b != b'}').map(|b| (b as u32, vec![b])).collect();
        let err = TokenTrie::new(&vocabulary, DraftGrammar::draft().unwrap()).unwrap_err();
        assert_eq!(err, VocabularyError::MissingByte('}'));
        // Without continuation bytes the grammar falls back to ASCII strings.
        let ascii: Vec<(u32, Vec<u8>)> = (0u8..0x80).map(|b| (b as u32, vec![b])).collect();
        let (_, grammar) = TokenTrie::new(&ascii, DraftGrammar::draft().unwrap()).unwrap();
        assert!(!grammar.allow_non_ascii);
    }
}
