//! Run-time enrichment of mapping from a full local ATT&CK bundle: MITRE's technique descriptions
//! and procedure examples, indexed as TF-IDF vectors over the mapper's own hashed features, and
//! compared with the input by cosine similarity.
//!
//! The committed catalog holds no MITRE prose, so this index exists only when a bundle is on disk
//! (`map --bundle`, `eval mapper --bundle`, or the `CACAO_FORGE_BUNDLE` variable). It adds recall
//! for techniques whose procedures name tools and APIs the rules and the model never saw; its
//! similarities become a distribution over parent techniques (a softmax with a fixed temperature)
//! that is blended into the model's probabilities.

use super::features::{FeatureConfig, Features};
use super::model::unique_buckets;
use crate::attack::parent_of;
use crate::attack::Enrichment;
use std::collections::{BTreeMap, HashMap};

/// Largest slice of a long text fed to feature extraction at once (the extractor truncates).
const CHUNK: usize = 3_000;
/// Softmax temperature applied to cosine similarities (cosines are small numbers).
const SHARPNESS: f32 = 25.0;

/// Inverted index of technique documents.
#[derive(Debug, Clone)]
pub struct ProcedureIndex {
    config: FeatureConfig,
    /// Parent technique ids, in the index's own order.
    techniques: Vec<String>,
    /// bucket -> (technique, tf-idf weight of the normalized document vector).
    postings: HashMap<u32, Vec<(u32, f32)>>,
    idf: HashMap<u32, f32>,
}

impl ProcedureIndex {
    /// Indexes every technique that has a description or procedures, at parent level.
    pub fn build(enrichment: &Enrichment, config: FeatureConfig, technique_ids: &[String]) -> ProcedureIndex {
        let mut docs: BTreeMap<String, HashMap<u32, f32>> = BTreeMap::new();
        let mut features = Features::default();
        let mut add = |parent: &str, text: &str, docs: &mut BTreeMap<String, HashMap<u32, f32>>| {
            let doc = docs.entry(parent.to_string()).or_default();
            for chunk in chunks(text) {
                config.extract_into(chunk, &mut features);
                for &(b, _) in &features.items {
                    *doc.entry(b).or_insert(0.0) += 1.0;
                }
            }
        };
        for id in technique_ids {
            let parent = parent_of(id);
            if let Some(d) = enrichment.description(id) {
                add(parent, d, &mut docs);
            }
            for p in enrichment.procedures(id) {
                add(parent, &p.text, &mut docs);
            }
        }
        let n = docs.len().max(1) as f32;
        let mut df: HashMap<u32, f32> = HashMap::new();
        for doc in docs.values() {
            for &b in doc.keys() {
                *df.entry(b).or_insert(0.0) += 1.0;
            }
        }
        let idf: HashMap<u32, f32> = df.into_iter().map(|(b, d)| (b, (n / d).ln() + 1.0)).collect();
        let mut postings: HashMap<u32, Vec<(u32, f32)>> = HashMap::new();
        let mut techniques = Vec::with_capacity(docs.len());
        for (t, (id, doc)) in docs.into_iter().enumerate() {
            techniques.push(id);
            let weights: Vec<(u32, f32)> = doc.into_iter().map(|(b, c)| (b, (1.0 + c.ln()) * idf[&b])).collect();
            let norm = weights.iter().map(|(_, w)| w * w).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
            for (b, w) in weights {
                postings.entry(b).or_default().push((t as u32, w / norm));
            }
        }
        ProcedureIndex { config, techniques, postings, idf }
    }

    /// The feature configuration the index was built with; queries must use the same.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Techniques indexed.
    pub fn len(&self) -> usize {
        self.techniques.len()
    }

    pub fn is_empty(&self) -> bool {
        self.techniques.is_empty()
    }

    /// Cosine similarity of a text (its features, extracted with [`ProcedureIndex::config`]) with
    /// each indexed technique, as (parent id, similarity), only the techniques sharing a feature.
    pub fn similarities(&self, features: &Features, scratch: &mut Vec<u32>) -> Vec<(&str, f32)> {
        unique_buckets(features, scratch);
        let query: Vec<(u32, f32)> = scratch.iter().filter_map(|b| self.idf.get(b).map(|&idf| (*b, idf))).collect();
        let norm = query.iter().map(|(_, w)| w * w).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for (b, w) in query {
            if let Some(list) = self.postings.get(&b) {
                for &(t, dw) in list {
                    *scores.entry(t).or_insert(0.0) += w / norm * dw;
                }
            }
        }
        scores.into_iter().map(|(t, s)| (self.techniques[t as usize].as_str(), s)).collect()
    }

    /// The similarities as a probability distribution over parent techniques.
    pub fn distribution(&self, features: &Features, scratch: &mut Vec<u32>) -> HashMap<&str, f32> {
        let sims = self.similarities(features, scratch);
        let max = sims.iter().map(|s| s.1).fold(0.0f32, f32::max);
        let mut out: HashMap<&str, f32> = sims.into_iter().map(|(t, s)| (t, ((s - max) * SHARPNESS).exp())).collect();
        let sum: f32 = out.values().sum();
        if sum > 0.0 {
            out.values_mut().for_each(|v| *v /= sum);
        }
        out
    }
}

/// Splits a long text at whitespace into pieces the extractor reads whole.
fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len().min(CHUNK);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end < rest.len() {
            if let Some(space) = rest[..end].rfind(char::is_whitespace) {
                if space > 0 {
                    end = space;
                }
            }
        }
        let (head, tail) = rest.split_at(end);
        rest = tail.trim_start();
        Some(head)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enrichment() -> Enrichment {
        let json = r#"{"type":"bundle","id":"bundle--1","objects":[
 {"type":"x-mitre-collection","id":"x-mitre-collection--1","name":"Tiny","x_mitre_version":"1.0","modified":"2025-01-01T00:00:00Z"},
 {"type":"x-mitre-matrix","id":"x-mitre-matrix--1","tactic_refs":["x-mitre-tactic--1"],
  "external_references":[{"source_name":"mitre-attack","external_id":"enterprise-attack"}]},
 {"type":"x-mitre-tactic","id":"x-mitre-tactic--1","name":"Execution","x_mitre_shortname":"execution",
  "external_references":[{"source_name":"mitre-attack","external_id":"TA0002"}]},
 {"type":"attack-pattern","id":"attack-pattern--1","name":"Shared Modules","description":"Adversaries may load shared modules with LoadLibrary.",
  "external_references":[{"source_name":"mitre-attack","external_id":"T1129"}]},
 {"type":"attack-pattern","id":"attack-pattern--2","name":"Native API","description":"Adversaries may call the native API such as NtCreateThreadEx.",
  "external_references":[{"source_name":"mitre-attack","external_id":"T1106"}]},
 {"type":"malware","id":"malware--1","name":"Zed","external_references":[{"source_name":"mitre-attack","external_id":"S9999"}]},
 {"type":"relationship","id":"relationship--1","relationship_type":"uses","source_ref":"malware--1","target_ref":"attack-pattern--2",
  "description":"[Zed](https://x) has used <code>ZwUnmapViewOfSection</code> and CreateRemoteThread."}
]}"#;
        Enrichment::from_bytes(json.as_bytes(), "tiny").unwrap()
    }

    #[test]
    fn similar_procedures_rank_their_technique_first() {
        let ids = vec!["T1129".to_string(), "T1106".to_string()];
        let index = ProcedureIndex::build(&enrichment(), FeatureConfig::default(), &ids);
        assert_eq!(index.len(), 2);
        let mut scratch = Vec::new();
        let query = index.config().extract("loader.exe calls ZwUnmapViewOfSection then CreateRemoteThread");
        let dist = index.distribution(&query, &mut scratch);
        assert!(dist["T1106"] > dist.get("T1129").copied().unwrap_or(0.0), "{dist:?}");
        assert!((dist.values().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(index.distribution(&index.config().extract(""), &mut scratch).len() <= 2);
    }

    #[test]
    fn chunks_cover_the_text_at_whitespace() {
        let text = "word ".repeat(2_000);
        let parts: Vec<&str> = chunks(&text).collect();
        assert!(parts.len() >= 3);
        assert!(parts.iter().all(|p| p.len() <= CHUNK));
        assert_eq!(parts.iter().map(|p| p.split_whitespace().count()).sum::<usize>(), 2_000);
        assert_eq!(chunks("").count(), 0);
        let wide = "é".repeat(4_000);
        assert!(chunks(&wide).all(|p| !p.is_empty()));
    }
}
