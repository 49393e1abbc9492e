//! Reading what a run needs from files: the playbook, and the sub-playbooks it calls from a
//! directory (`--playbooks DIR`), found by their `id`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;

use super::engine::Bundle;
use crate::cacao::load::parse_document;
use crate::cacao::Limits;

/// Why the files could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{dir}: two playbooks have the id {id}: {first} and {second}")]
    DuplicateId { dir: String, id: String, first: String, second: String },
}

/// Reads `main` and, from `dir`, every playbook it calls (directly or through others) up to
/// `max_depth` levels. Calls to ids not found are left for the engine's preflight to report.
pub fn load_bundle(main: &Path, dir: Option<&Path>, limits: &Limits, max_depth: u32) -> Result<Bundle, BundleError> {
    let main_doc = read_playbook(main, limits)?;
    let library = match dir {
        Some(d) => index_dir(d, limits)?,
        None => IndexMap::new(),
    };
    let mut subs = IndexMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut frontier = vec![main_doc.clone()];
    for _ in 0..max_depth {
        let mut next = Vec::new();
        for doc in &frontier {
            for id in called_playbooks(doc) {
                if !seen.insert(id.clone()) {
                    continue;
                }
                if let Some((_, sub)) = library.get(&id) {
                    subs.insert(id, sub.clone());
                    next.push(sub.clone());
                }
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Ok(Bundle { main: main_doc, subs })
}

/// The ids of the playbooks a playbook's playbook-action steps call.
pub fn called_playbooks(doc: &Value) -> Vec<String> {
    let Some(wf) = doc.get("workflow").and_then(Value::as_object) else { return Vec::new() };
    wf.values()
        .filter(|s| s.get("type").and_then(Value::as_str) == Some("playbook-action"))
        .filter_map(|s| s.get("playbook_id").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn read_playbook(path: &Path, limits: &Limits) -> Result<Value, BundleError> {
    let fail = |message: String| BundleError::File { path: path.display().to_string(), message };
    let size = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?.len();
    if size > limits.max_bytes as u64 {
        return Err(fail(format!("{size} bytes is over the {}-byte limit", limits.max_bytes)));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    parse_document(&bytes, limits).map_err(|e| fail(e.to_string()))
}

/// Every `*.json` playbook under `dir` (recursively), by id.
fn index_dir(dir: &Path, limits: &Limits) -> Result<IndexMap<String, (PathBuf, Value)>, BundleError> {
    let mut out: IndexMap<String, (PathBuf, Value)> = IndexMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| BundleError::File { path: d.display().to_string(), message: e.to_string() })?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                let doc = read_playbook(&p, limits)?;
                let Some(id) = doc.get("id").and_then(Value::as_str).map(str::to_owned) else { continue };
                if let Some((first, _)) = out.get(&id) {
                    return Err(BundleError::DuplicateId {
                        dir: dir.display().to_string(),
                        id,
                        first: first.display().to_string(),
                        second: p.display().to_string(),
                    });
                }
                out.insert(id, (p, doc));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pb(id: &str, calls: &[&str]) -> Value {
        let mut wf = serde_json::Map::new();
        for (i, c) in calls.iter().enumerate() {
            wf.insert(format!("playbook-action--{i}"), json!({"type": "playbook-action", "playbook_id": c}));
        }
        json!({"type": "playbook", "id": id, "workflow": wf})
    }

    #[test]
    fn sub_playbooks_are_found_by_id_transitively_and_depth_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, v: &Value| std::fs::write(dir.path().join(name), v.to_string()).unwrap();
        write("a.json", &pb("playbook--a", &["playbook--b"]));
        std::fs::create_dir(dir.path().join("nested")).unwrap();
        write("nested/b.json", &pb("playbook--b", &["playbook--c"]));
        write("c.json", &pb("playbook--c", &[]));
        write("unrelated.json", &pb("playbook--z", &[]));
        let main = dir.path().join("main.json");
        std::fs::write(&main, pb("playbook--main", &["playbook--a", "playbook--missing"]).to_string()).unwrap();
        let b = load_bundle(&main, Some(dir.path()), &Limits::default(), 8).unwrap();
        let ids: Vec<&String> = b.subs.keys().collect();
        assert_eq!(ids, ["playbook--a", "playbook--b", "playbook--c"]);
        let shallow = load_bundle(&main, Some(dir.path()), &Limits::default(), 1).unwrap();
        assert_eq!(shallow.subs.keys().collect::<Vec<_>>(), ["playbook--a"]);
        write("dup.json", &pb("playbook--c", &[]));
        assert!(matches!(
            load_bundle(&main, Some(dir.path()), &Limits::default(), 8),
            Err(BundleError::DuplicateId { .. })
        ));
    }
}
