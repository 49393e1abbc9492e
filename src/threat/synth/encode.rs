//! The obfuscations attackers use (and that benign traffic has too, at a lower rate): URL and
//! double URL encoding, HTML entities, JavaScript escapes, letter case, SQL comments, whitespace
//! tricks, base64 (and PowerShell's UTF-16LE base64), hex, shell quoting and `${IFS}` tricks.

use super::Rng;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// How much of a text URL encoding touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlLevel {
    /// Only spaces (as `+` or `%20`), as browsers send form values.
    Spaces,
    /// Every byte outside `A-Za-z0-9-_.~` (what encodeURIComponent does).
    Reserved,
    /// Every byte.
    All,
    /// [`UrlLevel::Reserved`] twice (`%` becomes `%25`).
    Double,
    /// A random part of the reserved bytes.
    Partial,
}

impl UrlLevel {
    /// A level as real traffic mixes them: mostly reserved or spaces, rarely double or all.
    pub fn draw(rng: &mut Rng) -> UrlLevel {
        match rng.below(20) {
            0..=6 => UrlLevel::Reserved,
            7..=11 => UrlLevel::Spaces,
            12..=15 => UrlLevel::Partial,
            16..=17 => UrlLevel::Double,
            _ => UrlLevel::All,
        }
    }
}

fn push_pct(out: &mut String, b: u8, lower: bool) {
    out.push('%');
    let (hi, lo) = (HEX[(b >> 4) as usize] as char, HEX[(b & 15) as usize] as char);
    if lower {
        out.push(hi.to_ascii_lowercase());
        out.push(lo.to_ascii_lowercase());
    } else {
        out.push(hi);
        out.push(lo);
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// URL-encodes `s` at `level`.
pub fn url_encode(s: &str, level: UrlLevel, rng: &mut Rng) -> String {
    let lower = rng.chance(30);
    let plus = rng.chance(50);
    let mut out = String::with_capacity(s.len() * 2);
    for &b in s.as_bytes() {
        match level {
            UrlLevel::Spaces if b == b' ' => {
                if plus {
                    out.push('+')
                } else {
                    out.push_str("%20")
                }
            }
            UrlLevel::Spaces => push_byte(&mut out, b),
            UrlLevel::Reserved | UrlLevel::Double if b == b' ' && plus => out.push('+'),
            UrlLevel::Reserved | UrlLevel::Double if !is_unreserved(b) => push_pct(&mut out, b, lower),
            UrlLevel::All => push_pct(&mut out, b, lower),
            UrlLevel::Partial if !is_unreserved(b) && rng.chance(60) => push_pct(&mut out, b, lower),
            UrlLevel::Partial if b == b' ' => out.push('+'),
            _ => push_byte(&mut out, b),
        }
    }
    if level == UrlLevel::Double {
        out = out.replace('%', "%25");
    }
    out
}

/// Pushes one byte of a UTF-8 string back (multi-byte characters arrive byte by byte).
fn push_byte(out: &mut String, b: u8) {
    if b.is_ascii() {
        out.push(b as char);
    } else {
        // Non-ASCII bytes are percent-encoded: a URL carries them that way.
        push_pct(out, b, false);
    }
}

/// HTML-entity-encodes some characters of `s` (decimal, hex, zero-padded or named).
pub fn html_entities(s: &str, rng: &mut Rng) -> String {
    let style = rng.below(4);
    let share = [100, 60, 35][rng.below(3)];
    let mut out = String::with_capacity(s.len() * 4);
    for c in s.chars() {
        if !c.is_ascii() || !rng.chance(share) {
            out.push(c);
            continue;
        }
        let code = c as u32;
        match (style, c) {
            (0, '<') => out.push_str("&lt;"),
            (0, '>') => out.push_str("&gt;"),
            (0, '"') => out.push_str("&quot;"),
            (0, '&') => out.push_str("&amp;"),
            (0 | 1, _) => out.push_str(&format!("&#{code};")),
            (2, _) => out.push_str(&format!("&#x{code:x};")),
            _ => out.push_str(&format!("&#{code:07}")),
        }
    }
    out
}

/// Escapes HTML metacharacters as a template engine does (benign pages show code this way).
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// JavaScript escapes for some letters: `\u0061`, `\x61` or `\141`.
pub fn js_escapes(s: &str, rng: &mut Rng) -> String {
    let style = rng.below(3);
    let mut out = String::with_capacity(s.len() * 4);
    for c in s.chars() {
        if c.is_ascii_alphabetic() && rng.chance(55) {
            let code = c as u32;
            match style {
                0 => out.push_str(&format!("\\u{code:04x}")),
                1 => out.push_str(&format!("\\x{code:02x}")),
                _ => out.push_str(&format!("\\u{{{code:x}}}")),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Random letter case (`SeLeCt`).
pub fn mixed_case(s: &str, rng: &mut Rng) -> String {
    s.chars().map(|c| if rng.chance(50) { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect()
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// What `powershell -EncodedCommand` takes: base64 of the UTF-16LE text.
pub fn powershell_encoded(s: &str) -> String {
    let utf16: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    base64(&utf16)
}

/// Lowercase hex of the bytes (`616263`).
pub fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// A string as a SQL expression without quotes: `0x…`, `CHAR(…)`, `CHR(…)||…` or `concat(…)`.
pub fn sql_string(s: &str, rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("0x{}", hex(s)),
        1 => format!("CHAR({})", s.bytes().map(|b| b.to_string()).collect::<Vec<_>>().join(",")),
        2 => s.bytes().map(|b| format!("CHR({b})")).collect::<Vec<_>>().join("||"),
        _ => format!("concat({})", s.bytes().map(|b| format!("char({b})")).collect::<Vec<_>>().join(",")),
    }
}

/// SQL whitespace tricks: spaces become comments, `+`, tabs, newlines or `%0a`.
pub fn sql_spaces(s: &str, rng: &mut Rng) -> String {
    let sep = rng.pick(&["/**/", "/**/", "+", "\t", "%0a", "%09", "/*«word»*/", "  ", "%20"]);
    let sep = if sep.contains('«') { format!("/*{}*/", rng.pick(&["x", "foo", "bar", "1"])) } else { sep.to_string() };
    s.replace(' ', &sep)
}

/// Splits SQL keywords with inline comments (`UN/**/ION`) or wraps them in MySQL version comments.
pub fn sql_keyword_comments(s: &str, rng: &mut Rng) -> String {
    const KEYWORDS: &[&str] = &["UNION", "SELECT", "union", "select", "FROM", "from", "WHERE", "where", "AND", "and"];
    let mut out = s.to_string();
    for kw in KEYWORDS {
        if out.contains(kw) && rng.chance(60) {
            let replaced = if rng.chance(50) {
                let cut = 1 + rng.below(kw.len() - 1);
                format!("{}/**/{}", &kw[..cut], &kw[cut..])
            } else {
                format!("/*!{}{kw}*/", rng.pick(&["", "50000", "12345", "40101"]))
            };
            out = out.replace(kw, &replaced);
        }
    }
    out
}

/// Shell tricks that keep a command working while hiding its words.
pub fn shell_obfuscate(cmd: &str, rng: &mut Rng) -> String {
    match rng.below(7) {
        0 => cmd.replace(' ', rng.pick(&["${IFS}", "$IFS$9", "${IFS%??}", "\t"])),
        1 => {
            // Brace expansion: {cat,/etc/passwd}
            let parts: Vec<&str> = cmd.split(' ').collect();
            format!("{{{}}}", parts.join(","))
        }
        2 => quote_split(cmd, rng),
        3 => cmd
            .split(' ')
            .map(|w| {
                if w.len() > 2 && rng.chance(60) {
                    let cut = 1 + rng.below(w.len() - 1);
                    if w.is_char_boundary(cut) {
                        return format!("{}\\{}", &w[..cut], &w[cut..]);
                    }
                }
                w.to_string()
            })
            .collect::<Vec<_>>()
            .join(" "),
        4 => format!("echo {}|base64 -d|{}", base64(cmd.as_bytes()), rng.pick(&["sh", "bash", "/bin/sh"])),
        5 => format!("$(printf '{}')", cmd.bytes().map(|b| format!("\\x{b:02x}")).collect::<String>()),
        _ => format!("eval $(echo {} | xxd -r -p)", hex(cmd)),
    }
}

/// Inserts empty quotes inside words (`w'h'oami`, `c""at`).
fn quote_split(cmd: &str, rng: &mut Rng) -> String {
    let q = rng.pick(&["''", "\"\"", "'"]);
    let mut out = String::new();
    let mut quotes = 0;
    for c in cmd.chars() {
        out.push(c);
        if c.is_ascii_alphabetic() && rng.chance(25) {
            if q == "'" {
                out.push('\'');
                quotes += 1;
            } else {
                out.push_str(q);
            }
        }
    }
    if quotes % 2 == 1 {
        out.push('\'');
    }
    out
}

/// cmd.exe tricks: carets, `set` concatenation, environment substrings.
pub fn cmd_obfuscate(cmd: &str, rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => cmd
            .chars()
            .map(|c| if c.is_ascii_alphabetic() && rng.chance(30) { format!("^{c}") } else { c.to_string() })
            .collect(),
        1 => {
            let cut = cmd.find(' ').unwrap_or(cmd.len()).min(cmd.len() / 2).max(1);
            if !cmd.is_char_boundary(cut) {
                return cmd.to_string();
            }
            format!("cmd /c \"set a={}&& set b={}&& call %a%%b%\"", &cmd[..cut], &cmd[cut..])
        }
        _ => mixed_case(cmd, rng),
    }
}

/// PowerShell tricks: backticks in names, string concatenation, odd case.
pub fn powershell_obfuscate(cmd: &str, rng: &mut Rng) -> String {
    let mut out = cmd.to_string();
    for word in
        ["IEX", "Invoke-Expression", "DownloadString", "New-Object", "WebClient", "DownloadFile", "Invoke-WebRequest"]
    {
        if out.contains(word) && rng.chance(60) {
            let replacement = match rng.below(3) {
                0 => word
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if i > 0 && i % 2 == 0 { format!("`{c}") } else { c.to_string() })
                    .collect(),
                1 => mixed_case(word, rng),
                _ if word.starts_with("Download") => format!("('Down'+'load{}')", &word[8..]),
                _ => mixed_case(word, rng),
            };
            out = out.replace(word, &replacement);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"whoami"), "d2hvYW1p");
        // PowerShell -enc of "dir": d\0i\0r\0
        assert_eq!(powershell_encoded("dir"), "ZABpAHIA");
    }

    #[test]
    fn url_levels_encode_what_they_say() {
        let mut rng = Rng::new(5);
        let s = "' or 1=1--";
        let all = url_encode(s, UrlLevel::All, &mut rng);
        assert_eq!(all.matches('%').count(), s.len());
        let reserved = url_encode("a/b c", UrlLevel::Reserved, &mut rng).to_uppercase();
        assert!(reserved == "A%2FB+C" || reserved == "A%2FB%20C", "{reserved}");
        let double = url_encode("<", UrlLevel::Double, &mut rng).to_uppercase();
        assert_eq!(double, "%253C");
        assert_eq!(url_encode("é", UrlLevel::Spaces, &mut rng).to_uppercase(), "%C3%A9");
    }

    #[test]
    fn sql_string_forms() {
        let mut rng = Rng::new(9);
        let forms: Vec<String> = (0..40).map(|_| sql_string("ab", &mut rng)).collect();
        assert!(forms.contains(&"0x6162".to_string()));
        assert!(forms.contains(&"CHAR(97,98)".to_string()));
        assert!(forms.contains(&"CHR(97)||CHR(98)".to_string()));
    }

    #[test]
    fn obfuscations_change_the_text() {
        let mut rng = Rng::new(2);
        for _ in 0..30 {
            assert_ne!(shell_obfuscate("cat /etc/passwd", &mut rng), "cat /etc/passwd");
        }
        let e = html_entities("<script>", &mut rng);
        assert!(e.contains('&') || e == "<script>");
        assert_eq!(
            html_escape("<a href=\"x\">O'Brien & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Brien &amp; co&lt;/a&gt;"
        );
    }
}
