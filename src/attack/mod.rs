//! ATT&CK: the embedded knowledge base (mitre/), STIX bundle import and sync, and run-time
//! enrichment from a full bundle, our own indicator rules and response knowledge, and technique
//! mapping ([`mapper`]). Mitigation planning, which combines a mapping with the response
//! knowledge, lives in `crate::plan`.
//!
//! - [`stix`] reads a STIX 2.1 ATT&CK bundle, keeping only the object types the catalog needs.
//! - [`catalog`] is the compact per-domain format committed in mitre/ (facts only: ids, names,
//!   tactics, platforms, flags, relationships; never description text) and [`Catalog`], the
//!   indexed, read-only view with lookups in microseconds. [`Catalog::embedded`] is parsed once.
//! - [`sync`] downloads a newer bundle, checks it and imports it.
//! - [`enrich`] holds descriptions and procedure examples of a local full bundle in memory, for
//!   the mapper at run time; they are never written to mitre/.
//! - [`indicators`]: our own command-line indicator rules (mitre/indicators/), with spans.
//! - [`responses`]: our own response actions per technique and threat type (playbooks/responses/).
//! - [`sigma`]: Sigma rules read at training time, and command lines synthesized from them.
//! - [`mapper`]: incident or text in, ranked techniques with scores and evidence out (rules fused
//!   with a learned model trained by `cacao-forge train mapper`).

pub mod catalog;
pub mod enrich;
pub mod indicators;
pub mod mapper;
pub mod responses;
pub mod sigma;
pub mod stix;
pub mod sync;

pub use catalog::{
    Analytic, Catalog, Counts, DataComponent, DetectionStrategy, DomainFile, DomainInfo, Group, Mitigation,
    MitigationLink, Software, Tactic, Technique,
};
pub use enrich::{Enrichment, Procedure};
pub use sync::{import_bundle_bytes, import_bundle_file, sync, ImportReport, SyncOptions, DEFAULT_BUNDLE_URL};

use std::path::PathBuf;

/// The parent technique id of `id` (the part before the dot): `T1059.001` -> `T1059`.
pub fn parent_of(id: &str) -> &str {
    id.split_once('.').map_or(id, |(p, _)| p)
}

/// Whether `id` has the form of an ATT&CK technique id: `T1234` or `T1234.001`.
pub fn is_technique_id(id: &str) -> bool {
    let b = id.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..]),
        _ => false,
    }
}

/// Everything that can go wrong reading, importing or downloading ATT&CK data. Every variant names
/// the file or URL it is about, so a message alone tells the user where to look.
#[derive(Debug, thiserror::Error)]
pub enum AttackError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    /// The bytes are not JSON, or an object has a field of the wrong type (line and column inside).
    #[error("{what} is not a readable STIX bundle: {source}")]
    Parse { what: String, source: serde_json::Error },
    /// Valid JSON, but not an ATT&CK bundle (wrong type, no objects, no collection, no matrix...).
    #[error("{what} is not an ATT&CK STIX bundle: {reason}")]
    NotABundle { what: String, reason: String },
    #[error("{what} is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { what: String, size: u64, limit: u64 },
    #[error("download of {url} failed: {reason}")]
    Http { url: String, reason: String },
    #[error("download of {url} failed: the server answered HTTP {status}")]
    Status { url: String, status: u16 },
    /// A compact catalog file (mitre/*.json) that does not parse or contradicts itself.
    #[error("catalog file {what} is unusable: {reason}")]
    Catalog { what: String, reason: String },
}
