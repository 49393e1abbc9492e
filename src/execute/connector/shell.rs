//! Putting variable values into shell scripts so that no value can change the script.
//!
//! A reference (`__name__:value`) may sit outside quotes, inside double quotes or inside single
//! quotes, and what is safe differs in each place. [`substitute_posix`] scans the script's quoting
//! (POSIX sh / bash: `'...'`, `"..."`, `$'...'`, backslash escapes) up to each reference and asks
//! the caller's renderer for text that fits that place:
//! - the bash connector writes a quoted expansion of an environment variable that holds the value
//!   (`"${CACAO_VAR_1}"`), so the value never passes through the shell's parser at all;
//! - the ssh connector and dry runs write the value itself, quoted for its place by
//!   [`posix_literal`].
//!
//! [`substitute_powershell`] does the same for PowerShell (`'...'` with `''`, `"..."` with
//! backtick escapes). Known limit: quoted here-documents (`<<'EOF'`) are not tracked; a reference
//! inside one is treated as unquoted text.

use crate::execute::variables::{references, Variables};

/// Where a reference sits in a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteState {
    Unquoted,
    /// Inside `'...'` (POSIX, PowerShell) or `$'...'` (bash).
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

/// `value` written into a POSIX script at a place in `state` so that it reads as exactly that
/// text: outside quotes, single-quoted; inside double quotes, with `\ " $ `` ` escaped; inside
/// single quotes, the quote is closed, the value single-quoted, and the quote reopened.
pub fn posix_literal(state: QuoteState, value: &str) -> String {
    match state {
        QuoteState::Unquoted => shell_quote(value),
        QuoteState::Double => {
            let mut out = String::with_capacity(value.len());
            for c in value.chars() {
                if matches!(c, '\\' | '"' | '$' | '`') {
                    out.push('\\');
                }
                out.push(c);
            }
            out
        }
        QuoteState::Single => format!("'{}'", shell_quote(value)),
    }
}

/// `text` with every reference to a defined variable replaced by `render(state, name, value)`,
/// where `state` is the POSIX quoting at the reference; and the referenced names not defined.
pub fn substitute_posix(
    vars: &Variables,
    text: &str,
    mut render: impl FnMut(QuoteState, &str, &str) -> String,
) -> (String, Vec<String>) {
    let mut scanner = PosixScanner::default();
    let mut scanned = 0;
    let mut out = String::with_capacity(text.len());
    let mut undefined = Vec::new();
    for r in references(text) {
        scanner.scan(&text[scanned..r.start]);
        out.push_str(&text[scanned..r.start]);
        scanned = r.end;
        match vars.get(&r.name) {
            Some(v) => out.push_str(&render(scanner.state(), &r.name, &v.value)),
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

/// POSIX quoting, read left to right.
#[derive(Debug, Default)]
struct PosixScanner {
    mode: Mode,
    /// The previous character was an unconsumed backslash.
    escaped: bool,
    /// The previous character was an unquoted `$` (for `$'...'`).
    dollar: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Mode {
    #[default]
    Unquoted,
    Single,
    AnsiC,
    Double,
}

impl PosixScanner {
    fn state(&self) -> QuoteState {
        match self.mode {
            Mode::Unquoted => QuoteState::Unquoted,
            Mode::Single | Mode::AnsiC => QuoteState::Single,
            Mode::Double => QuoteState::Double,
        }
    }

    fn scan(&mut self, text: &str) {
        for c in text.chars() {
            if self.escaped {
                self.escaped = false;
                self.dollar = false;
                continue;
            }
            let was_dollar = std::mem::replace(&mut self.dollar, false);
            self.mode = match (self.mode, c) {
                (Mode::Unquoted, '\\') | (Mode::Double, '\\') | (Mode::AnsiC, '\\') => {
                    self.escaped = true;
                    self.mode
                }
                (Mode::Unquoted, '\'') if was_dollar => Mode::AnsiC,
                (Mode::Unquoted, '\'') => Mode::Single,
                (Mode::Unquoted, '"') => Mode::Double,
                (Mode::Unquoted, '$') => {
                    self.dollar = true;
                    Mode::Unquoted
                }
                (Mode::Single, '\'') | (Mode::AnsiC, '\'') | (Mode::Double, '"') => Mode::Unquoted,
                (m, _) => m,
            };
        }
    }
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

    fn states(text: &str) -> Vec<QuoteState> {
        let v = vars(&[("__x__", "v")]);
        let mut seen = Vec::new();
        substitute_posix(&v, text, |s, _, _| {
            seen.push(s);
            String::new()
        });
        seen
    }

    #[test]
    fn posix_quote_states_are_read_left_to_right() {
        use QuoteState::*;
        assert_eq!(states("echo __x__:value"), [Unquoted]);
        assert_eq!(states("echo \"a __x__:value\" __x__"), [Double, Unquoted]);
        assert_eq!(states("echo 'a __x__:value' \"__x__\""), [Single, Double]);
        assert_eq!(states("echo \\' __x__"), [Unquoted], "an escaped quote opens nothing");
        assert_eq!(states("echo \"a\\\" __x__\""), [Double], "an escaped double quote stays inside");
        assert_eq!(states("echo $'it\\'s __x__'"), [Single], "ANSI-C quoting escapes quotes");
        assert_eq!(states("echo \"it's __x__\""), [Double], "a single quote inside double quotes is text");
    }

    #[test]
    fn posix_literals_read_back_as_the_value() {
        let hostile = "a'b\"c$(id)`id`;\\ \n$HOME";
        let (script, undefined) = substitute_posix(
            &vars(&[("__x__", hostile)]),
            "printf '%s|' __x__:value \"__x__:value\" 'in __x__:value single'",
            |s, _, v| posix_literal(s, v),
        );
        assert!(undefined.is_empty());
        let out = std::process::Command::new("sh").arg("-c").arg(&script).output().expect("sh runs");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{hostile}|{hostile}|in {hostile} single|"),
            "{script}"
        );
    }

    #[test]
    fn undefined_references_stay_and_are_listed() {
        let (text, undefined) = substitute_posix(&vars(&[]), "echo __nope__:value", |s, _, v| posix_literal(s, v));
        assert_eq!(text, "echo __nope__:value");
        assert_eq!(undefined, ["__nope__"]);
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
