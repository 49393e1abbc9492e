//! Validation = JSON Schema + semantic checks, returning every finding with a JSON pointer.

use super::load::{self, Limits, LoadError};
use super::schema::{self, SchemaValidator};
use super::semantic;
use crate::finding::{Finding, Severity};
use crate::workflow::{Analysis, WorkflowGraph};
use serde::Serialize;
use serde_json::Value;

/// Every finding of one validation, in the order found: load, then schema, then semantics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// True when no finding is an error (warnings allowed).
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(Finding::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Warning)
    }
}

impl From<LoadError> for Report {
    /// A document that could not be loaded has exactly one finding: why.
    fn from(e: LoadError) -> Report {
        Report { findings: vec![Finding::error(e.code(), "", e.to_string())] }
    }
}

/// Validates playbooks with one compiled schema and a set of limits.
#[derive(Debug, Clone, Copy)]
pub struct Validator {
    schema: &'static SchemaValidator,
    limits: Limits,
}

impl Default for Validator {
    fn default() -> Self {
        Validator::new(Limits::default())
    }
}

impl Validator {
    pub fn new(limits: Limits) -> Validator {
        Validator { schema: schema::shared(), limits }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Validates raw bytes: load errors (size, depth, syntax, step count) become findings.
    pub fn validate_bytes(&self, bytes: &[u8]) -> Report {
        match load::parse_document(bytes, &self.limits) {
            Ok(doc) => self.validate_document(&doc),
            Err(e) => e.into(),
        }
    }

    /// Validates a parsed document against the schema and every semantic check.
    pub fn validate_document(&self, doc: &Value) -> Report {
        if let Err(e) = load::check_steps(doc, &self.limits) {
            return Report { findings: vec![Finding::error(e.code(), "/workflow", e.to_string())] };
        }
        let mut findings = if self.schema.is_valid(doc) { Vec::new() } else { self.schema.check(doc) };
        let graph = WorkflowGraph::from_document(doc);
        let analysis = Analysis::of(&graph);
        findings.extend(semantic::check(doc, &graph, &analysis));
        Report { findings }
    }
}

/// Validates a document with the default limits.
pub fn validate(doc: &Value) -> Report {
    Validator::default().validate_document(doc)
}
