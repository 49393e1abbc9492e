//! Putting variable values into shell scripts so that no value can change the script.
//!
//! A reference (`__name__:value`) may sit outside quotes, inside double or single quotes, in a
//! comment, and what is safe differs in each place. [`substitute_posix`] follows POSIX shell
//! syntax (quotes, `$'...'`, escapes, `$(...)`, comments, here-documents) up to each reference and
//! asks the caller's renderer for text that fits that place:
//! - the bash connector writes a quoted expansion of an environment variable that holds the value
//!   (`"${CACAO_VAR_1}"`), so the value never passes through the shell's parser at all;
//! - the ssh connector and dry runs write the value itself, quoted for its place by
//!   [`posix_literal`]: outside quotes `'...'` (a `'` as `'\''`); inside double quotes with
//!   `\ " $ `` ` escaped; inside single quotes the quote is closed, the value single-quoted and the
//!   quote reopened. A `$` or backslash just before a reference is escaped, so it cannot join it.
//! - Where no quoting is sound (here-documents, backquotes, `${...}`, arithmetic, after a `case`
//!   inside `$(...)`, a NUL in the value) the substitution fails naming the variable, rather than
//!   guess.
//!
//! [`substitute_powershell`] does the same for PowerShell (`'...'` with `''`, `"..."` with
//! backtick escapes).

use crate::execute::variables::{references, Variables};

/// Where a reference sits in a PowerShell script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteState {
    Unquoted,
    /// Inside `'...'`.
    Single,
    /// Inside `"..."`.
    Double,
}

/// `value` quoted for a POSIX shell: single quotes, with `'` written as `'\''`. Nothing inside
/// single quotes is special to the shell, so the value stays one word of data.
pub fn shell_quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// `value` written into a PowerShell script at a place in `state` so that it reads as exactly
/// that text: outside quotes, single-quoted with `'` doubled; inside double quotes, with
/// `` ` `` `"` `$` escaped by a backtick; inside single quotes, `'` doubled.
pub fn powershell_literal(state: QuoteState, value: &str) -> String {
    match state {
        QuoteState::Unquoted => format!("'{}'", value.replace('\'', "''")),
        QuoteState::Single => value.replace('\'', "''"),
        QuoteState::Double => {
            let mut out = String::with_capacity(value.len());
            for c in value.chars() {
                if matches!(c, '`' | '"' | '$') {
                    out.push('`');
                }
                out.push(c);
            }
            out
        }
    }
}

/// Like [`substitute_posix`], for PowerShell quoting: `'...'` (with `''` inside) and `"..."`
/// (with backtick escapes and `""` inside).
pub fn substitute_powershell(
    vars: &Variables,
    text: &str,
    mut render: impl FnMut(QuoteState, &str, &str) -> String,
) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut undefined = Vec::new();
    let mut state = QuoteState::Unquoted;
    let mut escaped = false;
    let mut scanned = 0;
    for r in references(text) {
        // `''` inside single quotes and `""` inside double quotes close and reopen, which the
        // toggling below reads correctly without a special case.
        for c in text[scanned..r.start].chars() {
            if escaped {
                escaped = false;
                continue;
            }
            state = match (state, c) {
                (QuoteState::Unquoted | QuoteState::Double, '`') => {
                    escaped = true;
                    state
                }
                (QuoteState::Unquoted, '\'') => QuoteState::Single,
                (QuoteState::Unquoted, '"') => QuoteState::Double,
                (QuoteState::Single, '\'') | (QuoteState::Double, '"') => QuoteState::Unquoted,
                (s, _) => s,
            };
        }
        out.push_str(&text[scanned..r.start]);
        scanned = r.end;
        match vars.get(&r.name) {
            Some(v) => out.push_str(&render(state, &r.name, &v.value)),
            None => {
                out.push_str(&text[r.start..r.end]);
                if !undefined.contains(&r.name) {
                    undefined.push(r.name.clone());
                }
            }
        }
    }
    out.push_str(&text[scanned..]);
    (out, undefined)
}

// ---------------------------------------------------------------------------------------------
// POSIX shells: a scanner that follows the shell's lexical contexts.

/// Why a variable's value cannot be written into a shell command safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("variable `{name}` at byte {offset}: {reason}")]
pub struct ShellQuoteError {
    pub name: String,
    pub offset: usize,
    pub reason: String,
}

/// Where a reference stands in POSIX shell syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosixContext {
    /// Unquoted text (top level or inside `$(...)`).
    Unquoted,
    /// Inside `"..."`.
    Double,
    /// Inside `'...'`.
    Single,
    /// Inside `$'...'`.
    AnsiC,
    /// In a `#` comment.
    Comment,
}

/// `value` written at a place in `context` so that the shell reads exactly that text: outside
/// quotes, single-quoted; inside double quotes, with `\ " $ `` ` escaped; inside single quotes
/// (or `$'...'`), the quote is closed, the value single-quoted and the quote reopened; in a
/// comment, on one line.
pub fn posix_literal(context: PosixContext, _name: &str, value: &str) -> String {
    match context {
        PosixContext::Unquoted => shell_quote(value),
        PosixContext::Double => {
            let mut s = String::with_capacity(value.len() + 4);
            for c in value.chars() {
                if matches!(c, '\\' | '"' | '$' | '`') {
                    s.push('\\');
                }
                s.push(c);
            }
            s
        }
        PosixContext::Single => format!("'{}'", shell_quote(value)),
        PosixContext::AnsiC => format!("'{}$'", shell_quote(value)),
        PosixContext::Comment => value.replace('\n', " "),
    }
}

/// A script with its values written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosixSubstitution {
    pub text: String,
    /// Names referenced but not defined (left as written).
    pub undefined: Vec<String>,
    /// Of those, the ones written `__name__:value` (a bare `__main__` may be the script's own).
    pub undefined_values: Vec<String>,
}

/// `text` with every reference to a defined variable replaced by `render(context, name, value)`
/// for where it stands in POSIX shell syntax. Fails, naming the variable, where no quoting is
/// sound: inside a here-document, backquotes, `${...}`, `$((...))`/`((...))`/`$[...]`, after a
/// `case` inside `$(...)`, or for a value holding a NUL byte.
pub fn substitute_posix(
    vars: &Variables,
    text: &str,
    mut render: impl FnMut(PosixContext, &str, &str) -> String,
) -> Result<PosixSubstitution, ShellQuoteError> {
    let mut s = Scanner {
        vars,
        text,
        b: text.as_bytes(),
        refs: references(text),
        next_ref: 0,
        out: Vec::with_capacity(text.len() + 16),
        stack: vec![Frame::Plain { nested: false, parens: 0 }],
        heredocs: Vec::new(),
        word_start: true,
        lost: None,
        undefined: Vec::new(),
        undefined_values: Vec::new(),
        render: &mut render,
    };
    s.run()?;
    // Only whole UTF-8 sequences are copied or inserted, so this cannot fail; stay total anyway.
    let text = String::from_utf8(s.out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(PosixSubstitution { text, undefined: s.undefined, undefined_values: s.undefined_values })
}

/// The lexical context the scanner is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// Unquoted text: the top level (`nested: false`) or inside `$(...)`, `<(...)`, `>(...)`,
    /// where `parens` counts the parentheses opened inside.
    Plain {
        nested: bool,
        parens: u32,
    },
    Single,
    /// `$'...'` (backslash escapes apply).
    AnsiC,
    Double,
    Backtick,
    /// `${...}`.
    Brace,
    /// `$((...))`, `((...))` (`bracket: false`) or `$[...]` (`bracket: true`).
    Arith {
        depth: u32,
        bracket: bool,
    },
    Comment,
}

struct Heredoc {
    delimiter: Vec<u8>,
    strip_tabs: bool,
}

struct Scanner<'a> {
    vars: &'a Variables,
    text: &'a str,
    b: &'a [u8],
    refs: Vec<crate::execute::variables::Reference>,
    next_ref: usize,
    out: Vec<u8>,
    stack: Vec<Frame>,
    heredocs: Vec<Heredoc>,
    word_start: bool,
    /// Set when the scanner can no longer be sure of the context (a `case` inside `$(...)`,
    /// whose `pattern)` closes no parenthesis): later values are refused.
    lost: Option<&'static str>,
    undefined: Vec<String>,
    undefined_values: Vec<String>,
    render: &'a mut dyn FnMut(PosixContext, &str, &str) -> String,
}

/// Why a value in a piece copied as one (an operator, an escape) is refused; the scanner looks
/// for references before every such piece, so this only guards its own mistakes.
const UNEXPECTED: &str = "in a place the quoting scanner did not expect";

fn is_separator(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>')
}

impl Scanner<'_> {
    fn top(&self) -> Frame {
        self.stack.last().copied().unwrap_or(Frame::Plain { nested: false, parens: 0 })
    }

    fn set_top(&mut self, frame: Frame) {
        if let Some(t) = self.stack.last_mut() {
            *t = frame;
        }
    }

    fn pop(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        }
    }

    fn is_ref_at(&self, i: usize) -> bool {
        self.refs.get(self.next_ref).is_some_and(|r| r.start == i)
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.b.get(i).copied()
    }

    /// Copies `text[from..to]`; references in it are kept as written if undefined and refused
    /// (with `why`) if defined.
    fn copy(&mut self, from: usize, to: usize, why: &str) -> Result<(), ShellQuoteError> {
        let to = to.min(self.b.len());
        while let Some(r) = self.refs.get(self.next_ref) {
            if r.start >= to {
                break;
            }
            let r = r.clone();
            self.next_ref += 1;
            if self.vars.get(&r.name).is_some() {
                return Err(ShellQuoteError { name: r.name, offset: r.start, reason: why.to_owned() });
            }
            self.note_undefined(r.start, r.end, &r.name);
        }
        self.out.extend_from_slice(&self.b[from..to]);
        Ok(())
    }

    fn note_undefined(&mut self, start: usize, end: usize, name: &str) {
        if !self.undefined.iter().any(|n| n == name) {
            self.undefined.push(name.to_owned());
        }
        if self.text[start..end].ends_with(":value") && !self.undefined_values.iter().any(|n| n == name) {
            self.undefined_values.push(name.to_owned());
        }
    }

    fn run(&mut self) -> Result<(), ShellQuoteError> {
        let mut i = 0;
        while i < self.b.len() {
            if self.is_ref_at(i) {
                i = self.reference()?;
                continue;
            }
            i = match self.top() {
                Frame::Plain { nested, parens } => self.plain(i, nested, parens)?,
                Frame::Single => self.single(i)?,
                Frame::AnsiC => self.ansi_c(i)?,
                Frame::Double => self.double(i)?,
                Frame::Backtick => self.backtick(i)?,
                Frame::Brace => self.brace(i)?,
                Frame::Arith { depth, bracket } => self.arith(i, depth, bracket)?,
                Frame::Comment => self.comment(i)?,
            };
        }
        Ok(())
    }

    /// Writes the value of the reference at the scanner's position; returns the position after it.
    fn reference(&mut self) -> Result<usize, ShellQuoteError> {
        let r = self.refs[self.next_ref].clone();
        self.next_ref += 1;
        let Some(var) = self.vars.get(&r.name) else {
            self.note_undefined(r.start, r.end, &r.name);
            self.out.extend_from_slice(&self.b[r.start..r.end]);
            self.word_start = false;
            return Ok(r.end);
        };
        let fail = |reason: &str| ShellQuoteError { name: r.name.clone(), offset: r.start, reason: reason.to_owned() };
        let value = var.value.as_str();
        if value.contains('\0') {
            return Err(fail("the value holds a NUL byte, which no shell command can carry"));
        }
        if let Some(why) = self.lost {
            return Err(fail(why));
        }
        for frame in &self.stack {
            match frame {
                Frame::Backtick => {
                    return Err(fail("inside backquotes, whose quoting cannot be made sound; use $(...)"))
                }
                Frame::Brace => return Err(fail("inside a ${...} parameter expansion")),
                Frame::Arith { .. } => {
                    return Err(fail("inside arithmetic, which evaluates values as expressions"));
                }
                _ => {}
            }
        }
        let context = match self.top() {
            Frame::Plain { .. } => PosixContext::Unquoted,
            Frame::Double => PosixContext::Double,
            Frame::Single => PosixContext::Single,
            Frame::AnsiC => PosixContext::AnsiC,
            Frame::Comment => PosixContext::Comment,
            Frame::Backtick | Frame::Brace | Frame::Arith { .. } => return Err(fail("in an unsupported context")),
        };
        let rendered = (self.render)(context, &r.name, value);
        self.out.extend_from_slice(rendered.as_bytes());
        self.word_start = false;
        Ok(r.end)
    }

    /// A `$` in unquoted text, double quotes or `${...}`: opens what it opens; before a
    /// reference it is written `\$`, so that it cannot join the value (`$'...'`, `$(`, `$name`).
    fn dollar(&mut self, i: usize, in_double: bool) -> Result<usize, ShellQuoteError> {
        let next = self.at(i + 1);
        if self.is_ref_at(i + 1) {
            self.out.extend_from_slice(b"\\$");
            return Ok(i + 1);
        }
        match next {
            Some(b'(') if self.at(i + 2) == Some(b'(') => {
                self.stack.push(Frame::Arith { depth: 0, bracket: false });
                self.copy(i, i + 3, UNEXPECTED)?;
                Ok(i + 3)
            }
            Some(b'(') => {
                self.stack.push(Frame::Plain { nested: true, parens: 0 });
                self.copy(i, i + 2, UNEXPECTED)?;
                self.word_start = true;
                Ok(i + 2)
            }
            Some(b'{') => {
                self.stack.push(Frame::Brace);
                self.copy(i, i + 2, UNEXPECTED)?;
                Ok(i + 2)
            }
            Some(b'[') => {
                self.stack.push(Frame::Arith { depth: 0, bracket: true });
                self.copy(i, i + 2, UNEXPECTED)?;
                Ok(i + 2)
            }
            Some(b'\'') if !in_double => {
                self.stack.push(Frame::AnsiC);
                self.copy(i, i + 2, UNEXPECTED)?;
                Ok(i + 2)
            }
            Some(b'"') if !in_double => {
                self.stack.push(Frame::Double);
                self.copy(i, i + 2, UNEXPECTED)?;
                Ok(i + 2)
            }
            _ => {
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
        }
    }

    fn plain(&mut self, i: usize, nested: bool, parens: u32) -> Result<usize, ShellQuoteError> {
        let c = self.b[i];
        let word_start = self.word_start;
        self.word_start = false;
        match c {
            b'\\' => {
                if self.is_ref_at(i + 1) {
                    // `\_` is `_`: drop the backslash rather than let it escape the value's quote.
                    return Ok(i + 1);
                }
                self.copy(i, i + 2, UNEXPECTED)?;
                Ok(i + 2)
            }
            b'\'' => {
                self.stack.push(Frame::Single);
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'"' => {
                self.stack.push(Frame::Double);
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'`' => {
                self.stack.push(Frame::Backtick);
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'$' => self.dollar(i, false),
            b'#' if word_start => {
                self.stack.push(Frame::Comment);
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'(' if word_start && self.at(i + 1) == Some(b'(') => {
                self.stack.push(Frame::Arith { depth: 0, bracket: false });
                self.copy(i, i + 2, UNEXPECTED)?;
                Ok(i + 2)
            }
            b'(' => {
                if nested {
                    self.set_top(Frame::Plain { nested, parens: parens + 1 });
                }
                self.copy(i, i + 1, UNEXPECTED)?;
                self.word_start = true;
                Ok(i + 1)
            }
            b')' => {
                if nested && parens > 0 {
                    self.set_top(Frame::Plain { nested, parens: parens - 1 });
                    self.word_start = true;
                } else if nested {
                    self.pop();
                } else {
                    self.word_start = true;
                }
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'<' if self.at(i + 1) == Some(b'<') && self.at(i + 2) == Some(b'<') => {
                self.copy(i, i + 3, UNEXPECTED)?;
                self.word_start = true;
                Ok(i + 3)
            }
            b'<' if self.at(i + 1) == Some(b'<') => self.heredoc_operator(i),
            b'<' | b'>' if self.at(i + 1) == Some(b'(') => {
                self.stack.push(Frame::Plain { nested: true, parens: 0 });
                self.copy(i, i + 2, UNEXPECTED)?;
                self.word_start = true;
                Ok(i + 2)
            }
            b'\n' => {
                self.copy(i, i + 1, UNEXPECTED)?;
                self.word_start = true;
                self.heredoc_bodies(i + 1)
            }
            _ if is_separator(c) => {
                self.copy(i, i + 1, UNEXPECTED)?;
                self.word_start = true;
                Ok(i + 1)
            }
            _ => {
                if nested && word_start && self.b[i..].starts_with(b"case") && self.at(i + 4).is_none_or(is_separator) {
                    self.lost = Some("after a `case` inside $(...), whose patterns the quoting scanner cannot follow");
                }
                // Copy the whole character (a multi-byte one in one piece).
                let len = self.text[i..].chars().next().map_or(1, char::len_utf8);
                self.copy(i, i + len, UNEXPECTED)?;
                Ok(i + len)
            }
        }
    }

    /// `<<` or `<<-` and the delimiter word; the body starts after the next unquoted newline.
    fn heredoc_operator(&mut self, i: usize) -> Result<usize, ShellQuoteError> {
        let mut j = i + 2;
        let strip_tabs = self.at(j) == Some(b'-');
        if strip_tabs {
            j += 1;
        }
        while matches!(self.at(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        let start = j;
        let mut delimiter = Vec::new();
        while let Some(c) = self.at(j) {
            match c {
                _ if is_separator(c) => break,
                b'\\' => {
                    if let Some(n) = self.at(j + 1) {
                        delimiter.push(n);
                    }
                    j += 2;
                }
                b'\'' => {
                    let end = self.b[j + 1..].iter().position(|&x| x == b'\'').map_or(self.b.len(), |p| j + 1 + p);
                    delimiter.extend_from_slice(&self.b[j + 1..end]);
                    j = end + 1;
                }
                b'"' => {
                    j += 1;
                    while let Some(x) = self.at(j) {
                        if x == b'"' {
                            break;
                        }
                        if x == b'\\' {
                            j += 1;
                        }
                        if let Some(y) = self.at(j) {
                            delimiter.push(y);
                        }
                        j += 1;
                    }
                    j += 1;
                }
                _ => {
                    delimiter.push(c);
                    j += 1;
                }
            }
        }
        let j = j.min(self.b.len());
        self.copy(i, start, UNEXPECTED)?;
        self.copy(start, j, "in a here-document delimiter")?;
        if !delimiter.is_empty() {
            self.heredocs.push(Heredoc { delimiter, strip_tabs });
        }
        Ok(j)
    }

    /// After a newline: the bodies of pending here-documents, copied as they are (values in
    /// them are refused: a body cannot quote, and a value could end it early).
    fn heredoc_bodies(&mut self, mut i: usize) -> Result<usize, ShellQuoteError> {
        let pending = std::mem::take(&mut self.heredocs);
        for doc in pending {
            while i < self.b.len() {
                let end = self.b[i..].iter().position(|&x| x == b'\n').map_or(self.b.len(), |p| i + p);
                let line = &self.b[i..end];
                let line = if doc.strip_tabs {
                    &line[line.iter().position(|&x| x != b'\t').unwrap_or(line.len())..]
                } else {
                    line
                };
                let done = line == doc.delimiter.as_slice();
                self.copy(i, end + 1, "inside a here-document, where no quoting is possible")?;
                i = end + 1;
                if done {
                    break;
                }
            }
        }
        Ok(i.min(self.b.len()))
    }

    fn single(&mut self, i: usize) -> Result<usize, ShellQuoteError> {
        if self.b[i] == b'\'' {
            self.pop();
        }
        self.copy(i, i + 1, UNEXPECTED)?;
        Ok(i + 1)
    }

    fn ansi_c(&mut self, i: usize) -> Result<usize, ShellQuoteError> {
        match self.b[i] {
            b'\\' if self.is_ref_at(i + 1) => {
                // `\_` keeps its backslash in $'...'; escape it so it cannot escape our quote.
                self.out.extend_from_slice(b"\\\\");
                Ok(i + 1)
            }
            b'\\' => {
                self.copy(i, i + 2, UNEXPECTED)?;
                Ok(i + 2)
            }
            b'\'' => {
                self.pop();
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            _ => {
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
        }
    }

    fn double(&mut self, i: usize) -> Result<usize, ShellQuoteError> {
        match self.b[i] {
            b'\\' if self.is_ref_at(i + 1) => {
                // `\_` in double quotes is a literal backslash: keep it one, escaped.
                self.out.extend_from_slice(b"\\\\");
                Ok(i + 1)
            }
            b'\\' => {
                self.copy(i, i + 2, UNEXPECTED)?;
                Ok(i + 2)
            }
            b'"' => {
                self.pop();
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'`' => {
                self.stack.push(Frame::Backtick);
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'$' => self.dollar(i, true),
            _ => {
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
        }
    }

    fn backtick(&mut self, i: usize) -> Result<usize, ShellQuoteError> {
        match self.b[i] {
            b'\\' => {
                self.copy(i, i + 2, "inside backquotes")?;
                Ok(i + 2)
            }
            b'`' => {
                self.pop();
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            _ => {
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
        }
    }

    fn brace(&mut self, i: usize) -> Result<usize, ShellQuoteError> {
        match self.b[i] {
            b'\\' => {
                self.copy(i, i + 2, "inside a ${...} parameter expansion")?;
                Ok(i + 2)
            }
            // Inside "${...}" shells disagree on whether `'` quotes, and `$'...'` in ${...} is
            // bash's alone: the scanner cannot know where they end, so later values are refused.
            b'\'' if self.stack.iter().rev().nth(1) == Some(&Frame::Double) => {
                self.lost = Some("after a `'` inside \"${...}\", which shells read differently");
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'$' if self.at(i + 1) == Some(b'\'') => {
                self.lost = Some("after a $'...' inside ${...}, which shells read differently");
                self.copy(i, i + 2, UNEXPECTED)?;
                Ok(i + 2)
            }
            b'\'' => {
                self.stack.push(Frame::Single);
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'"' => {
                self.stack.push(Frame::Double);
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'`' => {
                self.stack.push(Frame::Backtick);
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            b'$' => self.dollar(i, true),
            b'}' => {
                self.pop();
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            _ => {
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
        }
    }

    fn arith(&mut self, i: usize, depth: u32, bracket: bool) -> Result<usize, ShellQuoteError> {
        let (open, close) = if bracket { (b'[', b']') } else { (b'(', b')') };
        match self.b[i] {
            b'$' => self.dollar(i, true),
            b'`' => {
                self.stack.push(Frame::Backtick);
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            c if c == open => {
                self.set_top(Frame::Arith { depth: depth + 1, bracket });
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            c if c == close && depth > 0 => {
                self.set_top(Frame::Arith { depth: depth - 1, bracket });
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
            c if c == close => {
                self.pop();
                // `))` closes `$((` / `((`; `]` closes `$[`.
                let len = if !bracket && self.at(i + 1) == Some(b')') { 2 } else { 1 };
                self.copy(i, i + len, UNEXPECTED)?;
                Ok(i + len)
            }
            _ => {
                self.copy(i, i + 1, UNEXPECTED)?;
                Ok(i + 1)
            }
        }
    }

    fn comment(&mut self, i: usize) -> Result<usize, ShellQuoteError> {
        if self.b[i] == b'\n' {
            // The newline belongs to the enclosing text (it may start here-document bodies).
            self.pop();
            return Ok(i);
        }
        self.copy(i, i + 1, UNEXPECTED)?;
        Ok(i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        let mut v = Variables::default();
        for (k, val) in pairs {
            v.set(k, val).unwrap();
        }
        v
    }

    fn sub(v: &Variables, text: &str) -> String {
        substitute_posix(v, text, posix_literal).unwrap().text
    }

    fn contexts(text: &str) -> Vec<PosixContext> {
        let v = vars(&[("__x__", "v")]);
        let mut seen = Vec::new();
        substitute_posix(&v, text, |c, _, _| {
            seen.push(c);
            String::new()
        })
        .unwrap();
        seen
    }

    #[test]
    fn posix_contexts_are_read_left_to_right() {
        use PosixContext::*;
        assert_eq!(contexts("echo __x__:value"), [Unquoted]);
        assert_eq!(contexts("echo \"a __x__:value\" __x__"), [Double, Unquoted]);
        assert_eq!(contexts("echo 'a __x__:value' \"__x__\""), [Single, Double]);
        assert_eq!(contexts("echo \\' __x__"), [Unquoted], "an escaped quote opens nothing");
        assert_eq!(contexts("echo \"a\\\" __x__\""), [Double], "an escaped double quote stays inside");
        assert_eq!(contexts("echo $'it\\'s __x__'"), [AnsiC], "ANSI-C quoting escapes quotes");
        assert_eq!(contexts("echo \"it's __x__\""), [Double], "a single quote inside double quotes is text");
        assert_eq!(contexts("echo hi # __x__"), [Comment]);
    }

    #[test]
    fn posix_literals_read_back_as_the_value() {
        let hostile = "a'b\"c$(id)`id`;\\ \n$HOME";
        let script =
            sub(&vars(&[("__x__", hostile)]), "printf '%s|' __x__:value \"__x__:value\" 'in __x__:value single'");
        let out = std::process::Command::new("sh").arg("-c").arg(&script).output().expect("sh runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{hostile}|{hostile}|in {hostile} single|"),
            "{script}"
        );
    }

    #[test]
    fn values_are_quoted_for_the_context_they_stand_in() {
        let v = vars(&[("__v__", "a'b\"c$d`e\\f")]);
        assert_eq!(sub(&v, "echo __v__:value"), r#"echo 'a'\''b"c$d`e\f'"#);
        assert_eq!(sub(&v, r#"echo "x __v__:value y""#), r#"echo "x a'b\"c\$d\`e\\f y""#);
        assert_eq!(sub(&v, "echo 'x __v__:value y'"), r#"echo 'x ''a'\''b"c$d`e\f'' y'"#);
        assert_eq!(sub(&v, "echo $'x __v__:value'"), r#"echo $'x ''a'\''b"c$d`e\f'$''"#);
        assert_eq!(sub(&v, "echo \"$(cat __v__:value)\""), r#"echo "$(cat 'a'\''b"c$d`e\f')""#);
        assert_eq!(sub(&v, "echo <(cat __v__:value)"), r#"echo <(cat 'a'\''b"c$d`e\f')"#);
    }

    #[test]
    fn adjacent_backslashes_and_dollars_cannot_join_the_value() {
        let v = vars(&[("__v__", "(id)")]);
        assert_eq!(sub(&v, r"echo \__v__:value"), "echo '(id)'");
        assert_eq!(sub(&v, r#"echo "\__v__:value""#), r#"echo "\\(id)""#);
        assert_eq!(sub(&v, r"echo $'\__v__:value'"), r"echo $'\\''(id)'$''");
        assert_eq!(sub(&v, "echo $__v__:value"), r"echo \$'(id)'");
        assert_eq!(sub(&v, r#"echo "$__v__:value""#), r#"echo "\$(id)""#);
        assert_eq!(sub(&v, r"echo \\__v__:value"), r"echo \\'(id)'");
    }

    #[test]
    fn comments_keep_values_on_their_line() {
        let v = vars(&[("__v__", "x\nrm -rf / #")]);
        assert_eq!(sub(&v, "true # __v__:value\necho ok"), "true # x rm -rf / #\necho ok");
        // Not a comment: `#` inside a word.
        assert_eq!(sub(&v, "echo a#__v__:value"), "echo a#'x\nrm -rf / #'");
        assert_eq!(sub(&v, "echo $# __v__:value"), "echo $# 'x\nrm -rf / #'");
    }

    #[test]
    fn unsound_places_are_refused() {
        let v = vars(&[("__v__", "1")]);
        for text in [
            "cat <<EOF\n__v__:value\nEOF",
            "cat <<-'EOF'\n\t__v__:value\n\tEOF",
            "cat <<__v__:value\nx\n__v__:value",
            "echo `echo __v__:value`",
            "echo \"`echo __v__:value`\"",
            "echo ${x:-__v__:value}",
            "echo $((__v__:value + 1))",
            "((__v__:value))",
            "echo $[__v__:value]",
            "x=$(case a in a) echo;; esac; echo __v__:value)",
            "echo \"${x#'}\" __v__:value",
            "echo ${x:-$'\\''} __v__:value",
        ] {
            let err = substitute_posix(&v, text, posix_literal).unwrap_err();
            assert_eq!(err.name, "__v__", "{text}");
        }
        let nul = vars(&[("__v__", "a\0b")]);
        assert!(substitute_posix(&nul, "echo __v__:value", posix_literal).unwrap_err().reason.contains("NUL"));
    }

    #[test]
    fn here_documents_end_where_the_shell_ends_them() {
        let v = vars(&[("__v__", "x")]);
        // Quotes in a body do not open anything; after the delimiter, values are quoted again.
        let text = "cat <<EOF; echo __v__:value\ndon't \"\nEOF\necho __v__:value";
        assert_eq!(sub(&v, text), "cat <<EOF; echo 'x'\ndon't \"\nEOF\necho 'x'");
        let tabs = "cat <<-END\n\tit's\n\tEND\necho '__v__:value'";
        assert_eq!(sub(&v, tabs), "cat <<-END\n\tit's\n\tEND\necho '''x'''");
        // `<<<` is a here-string, whose word is ordinary.
        assert_eq!(sub(&v, "cat <<< __v__:value"), "cat <<< 'x'");
        // Arithmetic shifts are not here-documents.
        assert_eq!(sub(&v, "echo $((1<<2)) __v__:value"), "echo $((1<<2)) 'x'");
    }

    #[test]
    fn nesting_is_followed() {
        let v = vars(&[("__v__", "x y")]);
        assert_eq!(sub(&v, "echo \"$(echo \"__v__:value\")\" __v__:value"), "echo \"$(echo \"x y\")\" 'x y'");
        assert_eq!(sub(&v, "echo $(f (a) ) '__v__:value'"), "echo $(f (a) ) '''x y'''");
        assert_eq!(sub(&v, "echo ${a} \"${b}\" __v__:value"), "echo ${a} \"${b}\" 'x y'");
        assert_eq!(sub(&v, "echo ${x:-'a}b'} __v__:value"), "echo ${x:-'a}b'} 'x y'");
        assert_eq!(sub(&v, "echo $(( (1+2) )) __v__:value"), "echo $(( (1+2) )) 'x y'");
        assert_eq!(sub(&v, "echo `a` __v__:value"), "echo `a` 'x y'");
        // A `case` at the top level is fine (no parenthesis to close).
        assert_eq!(sub(&v, "case a in a) echo __v__:value;; esac"), "case a in a) echo 'x y';; esac");
    }

    #[test]
    fn undefined_references_stay_and_are_listed() {
        let v = vars(&[("__v__", "1")]);
        let s = substitute_posix(&v, "echo __nope__:value __main__ __v__:value", posix_literal).unwrap();
        assert_eq!(s.text, "echo __nope__:value __main__ '1'");
        assert_eq!(s.undefined, ["__nope__", "__main__"]);
        assert_eq!(s.undefined_values, ["__nope__"]);
        // Undefined references are harmless anywhere, even where values are refused.
        assert!(substitute_posix(&v, "cat <<E\n__x__:value\nE", posix_literal).is_ok());
    }

    #[test]
    fn unicode_survives() {
        let v = vars(&[("__v__", "héllo ✓")]);
        assert_eq!(sub(&v, "echo «__v__:value» \"é__v__:value\""), "echo «'héllo ✓'» \"éhéllo ✓\"");
    }

    #[test]
    fn powershell_states_and_literals() {
        use QuoteState::*;
        let v = vars(&[("__x__", "it's \"$env:PATH\" `n")]);
        let mut seen = Vec::new();
        let (text, _) = substitute_powershell(
            &v,
            "Write-Output __x__ \"in __x__:value\" 'in __x__ single' \"a``\"\" __x__\"",
            |s, _, val| {
                seen.push(s);
                powershell_literal(s, val)
            },
        );
        assert_eq!(seen, [Unquoted, Double, Single, Double]);
        assert!(text.starts_with("Write-Output 'it''s \"$env:PATH\" `n' \"in it's `\"`$env:PATH`\" ``n\""), "{text}");
        assert!(text.contains("'in it''s \"$env:PATH\" `n single'"), "{text}");
    }
}
