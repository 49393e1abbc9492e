//! Importing bundles into mitre/ and downloading newer ones.
//!
//! `import` turns a local bundle into its compact domain file. `sync` fetches a bundle (by
//! default MITRE's official enterprise bundle), checks that it parses as an ATT&CK bundle with a
//! collection object before anything is written, then imports it. Files are written to a temporary
//! name and renamed, so an interrupted run never leaves a half-written catalog file.

use super::catalog::{Catalog, Counts, DomainFile};
use super::stix::{read_bundle, Skipped};
use super::AttackError;
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// MITRE's official location of the latest enterprise bundle (STIX 2.1).
pub const DEFAULT_BUNDLE_URL: &str =
    "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/enterprise-attack.json";
/// Default download and file size limit: 4x today's 50 MB enterprise bundle.
pub const DEFAULT_MAX_BYTES: u64 = 200 * 1024 * 1024;

/// What an import or sync did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The bundle's path or URL.
    pub source: String,
    pub domain: String,
    pub version: String,
    /// The version of the file this replaced, if there was one.
    pub previous_version: Option<String>,
    pub file: PathBuf,
    pub bytes: usize,
    /// False when the file already had exactly this content.
    pub changed: bool,
    pub counts: Counts,
}

/// Options of [`sync`].
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub url: String,
    /// Import this local bundle instead of downloading (offline).
    pub bundle: Option<PathBuf>,
    pub out: PathBuf,
    pub timeout: Duration,
    pub max_bytes: u64,
    /// Also keep the downloaded bundle here (outside the repository), for [`super::Enrichment`].
    pub save: Option<PathBuf>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            url: DEFAULT_BUNDLE_URL.to_string(),
            bundle: None,
            out: PathBuf::from("mitre"),
            timeout: Duration::from_secs(120),
            max_bytes: DEFAULT_MAX_BYTES,
            save: None,
        }
    }
}

/// Imports a bundle file into `out_dir` (one file per domain, named by [`DomainFile::file_name`]).
pub fn import_bundle_file(path: &Path, out_dir: &Path, max_bytes: u64) -> Result<ImportReport, AttackError> {
    let meta = std::fs::metadata(path).map_err(|source| AttackError::Read { path: path.into(), source })?;
    let what = path.display().to_string();
    if meta.len() > max_bytes {
        return Err(AttackError::TooLarge { what, size: meta.len(), limit: max_bytes });
    }
    let bytes = std::fs::read(path).map_err(|source| AttackError::Read { path: path.into(), source })?;
    import_bundle_bytes(&bytes, &what, out_dir)
}

/// Imports a bundle given as bytes; `what` (path or URL) names it in errors and the report.
pub fn import_bundle_bytes(bytes: &[u8], what: &str, out_dir: &Path) -> Result<ImportReport, AttackError> {
    let bundle = read_bundle::<Skipped>(bytes, what)?;
    let file = DomainFile::from_bundle(&bundle, what)?;
    let text = file.to_json();
    let target = out_dir.join(file.file_name());
    let previous = std::fs::read_to_string(&target).ok();
    let previous_version =
        previous.as_deref().and_then(|p| DomainFile::parse(p, "").ok()).map(|f| f.version().to_string());
    let changed = previous.as_deref() != Some(text.as_str());
    if changed {
        write_atomically(&target, text.as_bytes())?;
    }
    let counts = Catalog::from_files(vec![file.clone()]).domains()[0].counts.clone();
    Ok(ImportReport {
        source: what.to_string(),
        domain: file.domain().to_string(),
        version: file.version().to_string(),
        previous_version,
        file: target,
        bytes: text.len(),
        changed,
        counts,
    })
}

/// Downloads (or, with `bundle`, reads) a bundle, checks it, and imports it into `out`.
pub fn sync(opts: &SyncOptions) -> Result<ImportReport, AttackError> {
    if let Some(path) = &opts.bundle {
        return import_bundle_file(path, &opts.out, opts.max_bytes);
    }
    let bytes = download(&opts.url, opts.timeout, opts.max_bytes)?;
    // Check before writing anything: a bad download must not replace a good catalog.
    let bundle = read_bundle::<Skipped>(&bytes, &opts.url)?;
    bundle.check(&opts.url)?;
    drop(bundle);
    if let Some(save) = &opts.save {
        write_atomically(save, &bytes)?;
    }
    import_bundle_bytes(&bytes, &opts.url, &opts.out)
}

/// GETs `url` with a total timeout, refusing bodies over `max_bytes` (by Content-Length when the
/// server sends one, and while reading otherwise).
pub fn download(url: &str, timeout: Duration, max_bytes: u64) -> Result<Vec<u8>, AttackError> {
    let http = |reason: String| AttackError::Http { url: url.to_string(), reason };
    let client =
        http_client_builder(timeout, timeout.min(Duration::from_secs(30))).build().map_err(|e| http(chain(&e)))?;
    let resp = client.get(url).send().map_err(|e| http(chain(&e)))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(AttackError::Status { url: url.to_string(), status: status.as_u16() });
    }
    read_limited(resp, max_bytes).map_err(|failure| match failure {
        ReadFailure::TooLarge(size) => AttackError::TooLarge { what: url.to_string(), size, limit: max_bytes },
        ReadFailure::Timeout => http("timed out while reading the body".into()),
        ReadFailure::Io(reason) => http(reason),
    })
}

/// The HTTP client every outgoing request of the project starts from: the TLS provider
/// installed, the time limits and our user agent.
pub(crate) fn http_client_builder(timeout: Duration, connect_timeout: Duration) -> reqwest::blocking::ClientBuilder {
    install_tls_provider();
    reqwest::blocking::Client::builder().timeout(timeout).connect_timeout(connect_timeout).user_agent(USER_AGENT)
}

/// The async twin of [`http_client_builder`] (the execution connectors): the same TLS provider
/// and user agent; the connectors bound each request's time themselves.
pub(crate) fn async_http_client_builder(connect_timeout: Duration) -> reqwest::ClientBuilder {
    install_tls_provider();
    reqwest::Client::builder().connect_timeout(connect_timeout).user_agent(USER_AGENT)
}

const USER_AGENT: &str = concat!("cacao-forge/", env!("CARGO_PKG_VERSION"));

fn install_tls_provider() {
    // reqwest is built without a default TLS provider; installing one twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Why a response body could not be read within its limit.
pub(crate) enum ReadFailure {
    TooLarge(u64),
    Timeout,
    Io(String),
}

/// Reads a response body of at most `max` bytes: refused by Content-Length when the server sends
/// one, and while reading otherwise (never more than `max + 1` bytes are read).
pub(crate) fn read_limited(response: reqwest::blocking::Response, max: u64) -> Result<Vec<u8>, ReadFailure> {
    if let Some(len) = response.content_length().filter(|&n| n > max) {
        return Err(ReadFailure::TooLarge(len));
    }
    let mut body = Vec::new();
    response.take(max.saturating_add(1)).read_to_end(&mut body).map_err(|e| {
        let timed_out = e.kind() == std::io::ErrorKind::TimedOut
            || e.get_ref().and_then(|inner| inner.downcast_ref::<reqwest::Error>()).is_some_and(|r| r.is_timeout());
        if timed_out {
            ReadFailure::Timeout
        } else {
            ReadFailure::Io(chain(&e))
        }
    })?;
    if body.len() as u64 > max {
        return Err(ReadFailure::TooLarge(body.len() as u64));
    }
    Ok(body)
}

/// An error and its causes on one line: reqwest's own message ("error sending request") says
/// little without the cause ("connection refused"). Shared with the generation backends.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AttackError> {
    let w = |source| AttackError::Write { path: path.into(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(w)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|source| AttackError::Write { path: tmp.clone(), source })?;
    std::fs::rename(&tmp, path).map_err(w)
}
