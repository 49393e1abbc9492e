//! One finding type for every stage that judges input: validation, intake and execution errors all
//! speak the same language (severity, stable code, JSON pointer, message), so a reviewer or a SOAR
//! platform can handle them with one piece of code.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a finding is. An `Error` makes a playbook invalid; a `Warning` is advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A single problem found in a document.
///
/// `code` is stable across releases (tools match on it); `pointer` is an RFC 6901 JSON pointer to the
/// offending value ("" is the whole document); `message` is written for a responder, not a parser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    pub code: String,
    pub pointer: String,
    pub message: String,
}

impl Finding {
    pub fn error(code: impl Into<String>, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Finding { severity: Severity::Error, code: code.into(), pointer: pointer.into(), message: message.into() }
    }

    pub fn warning(code: impl Into<String>, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Finding { severity: Severity::Warning, code: code.into(), pointer: pointer.into(), message: message.into() }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() { "(document)" } else { &self.pointer };
        write!(f, "{} [{}] at {}: {}", self.severity, self.code, at, self.message)
    }
}

/// Builds RFC 6901 pointers: `~` becomes `~0` and `/` becomes `~1` in each segment.
pub fn pointer(segments: &[&str]) -> String {
    let mut out = String::new();
    for segment in segments {
        push_segment(&mut out, segment);
    }
    out
}

/// Appends one escaped segment to an existing pointer.
pub fn push_segment(out: &mut String, segment: &str) {
    out.push('/');
    for ch in segment.chars() {
        match ch {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escapes_tilde_and_slash() {
        assert_eq!(pointer(&["workflow", "a/b~c"]), "/workflow/a~1b~0c");
        assert_eq!(pointer(&[]), "");
    }

    #[test]
    fn display_names_place_and_code() {
        let f = Finding::error("semantic.missing-step", "/workflow_start", "no such step");
        assert_eq!(f.to_string(), "error [semantic.missing-step] at /workflow_start: no such step");
    }
}
