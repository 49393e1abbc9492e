//! Reading playbook bytes into a JSON document under explicit limits.
//!
//! Hostile input (a 50 MB file, 10,000-deep nesting, 100,000 steps) must end in a clear error or a
//! result in bounded time and memory. The limits are checked before the expensive work: size before
//! parsing, nesting depth by a linear byte scan before building any tree, step count before graphs.

use serde_json::Value;
use thiserror::Error;

/// Limits on what a playbook may be. All are configurable (CLI flags `--max-bytes`, `--max-depth`,
/// `--max-steps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted document, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of arrays and objects.
    pub max_depth: usize,
    /// Most workflow steps accepted.
    pub max_steps: usize,
}

impl Default for Limits {
    /// Real playbooks are kilobytes with tens of steps; these defaults leave two orders of magnitude.
    fn default() -> Self {
        Limits { max_bytes: 16 * 1024 * 1024, max_depth: 64, max_steps: 10_000 }
    }
}

/// Why a document could not be loaded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LoadError {
    #[error("the document is {size} bytes, over the limit of {limit} bytes (raise it with --max-bytes)")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "the document nests arrays/objects deeper than {limit} levels at byte {offset} (raise it with --max-depth)"
    )]
    TooDeep { offset: usize, limit: usize },
    #[error("the document is not valid JSON: {message} at line {line}, column {column}")]
    Syntax { message: String, line: usize, column: usize },
    #[error("the workflow has {steps} steps, over the limit of {limit} (raise it with --max-steps)")]
    TooManySteps { steps: usize, limit: usize },
}

impl LoadError {
    /// The stable finding code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::TooLarge { .. } => "load.too-large",
            LoadError::TooDeep { .. } => "load.too-deep",
            LoadError::Syntax { .. } => "load.syntax",
            LoadError::TooManySteps { .. } => "load.too-many-steps",
        }
    }
}

/// Parses `bytes` as a playbook document within `limits`.
pub fn parse_document(bytes: &[u8], limits: &Limits) -> Result<Value, LoadError> {
    if bytes.len() > limits.max_bytes {
        return Err(LoadError::TooLarge { size: bytes.len(), limit: limits.max_bytes });
    }
    check_depth(bytes, limits.max_depth)?;
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| LoadError::Syntax {
        message: syntax_message(&e),
        line: e.line(),
        column: e.column(),
    })?;
    check_steps(&doc, limits)?;
    Ok(doc)
}

/// Checks the step count of an already parsed document.
pub fn check_steps(doc: &Value, limits: &Limits) -> Result<(), LoadError> {
    let steps = doc.get("workflow").and_then(Value::as_object).map_or(0, |w| w.len());
    if steps > limits.max_steps {
        return Err(LoadError::TooManySteps { steps, limit: limits.max_steps });
    }
    Ok(())
}

/// serde_json appends " at line L column C" to its messages; we report those separately.
fn syntax_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

/// Linear scan for nesting depth that skips string contents (brackets inside strings don't nest).
fn check_depth(bytes: &[u8], limit: usize) -> Result<(), LoadError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(LoadError::TooDeep { offset, limit });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_in_strings_do_not_count_as_nesting() {
        let doc = br#"{"a": "[[[[[[[[[[{{{{{{\"[[[["}"#;
        assert!(parse_document(doc, &Limits { max_depth: 2, ..Limits::default() }).is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_with_its_offset() {
        let doc = "[".repeat(100);
        let err = parse_document(doc.as_bytes(), &Limits::default()).unwrap_err();
        assert_eq!(err, LoadError::TooDeep { offset: 64, limit: 64 });
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse_document(b"{\n  \"a\": [1, 2,]\n}", &Limits::default()).unwrap_err();
        let LoadError::Syntax { line, column, message } = &err else { panic!("{err:?}") };
        assert_eq!(*line, 2, "{err}");
        assert!(*column > 0, "{err}");
        assert!(!message.contains(" at line "), "position is reported separately: {message}");
        assert_eq!(err.code(), "load.syntax");
    }

    #[test]
    fn size_and_step_limits() {
        let big = vec![b' '; 11];
        assert_eq!(
            parse_document(&big, &Limits { max_bytes: 10, ..Limits::default() }).unwrap_err(),
            LoadError::TooLarge { size: 11, limit: 10 }
        );
        let doc = br#"{"workflow": {"a": {}, "b": {}, "c": {}}}"#;
        assert_eq!(
            parse_document(doc, &Limits { max_steps: 2, ..Limits::default() }).unwrap_err(),
            LoadError::TooManySteps { steps: 3, limit: 2 }
        );
    }
}
