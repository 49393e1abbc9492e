//! One-to-one matching of reference steps with candidate steps.
//!
//! The matching is greedy from the most similar pair: all pairs that reach the threshold are sorted
//! by similarity (highest first), then by reference position, then by candidate position (document
//! order of the `workflow` object), and a pair is taken when neither side is taken yet. Equal
//! similarities are exact (ratios of small integers), so the order of ties is fully deterministic.
//! A pair needs a similarity of at least the threshold *and* above zero: two steps with nothing in
//! common never match, whatever the threshold.

use super::text::{jaccard, TokenSet};
use std::collections::HashMap;

/// A matched pair: positions in the reference and candidate lists, and their similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    pub reference: usize,
    pub candidate: usize,
    pub similarity: f64,
}

/// Takes pairs greedily, most similar first, so that each position is used at most once.
/// Pairs below `threshold` or at zero similarity are ignored. The result is in the order taken.
pub fn greedy_one_to_one(mut pairs: Vec<Pair>, threshold: f64) -> Vec<Pair> {
    pairs.retain(|p| p.similarity > 0.0 && p.similarity >= threshold);
    pairs.sort_by(|a, b| {
        b.similarity.total_cmp(&a.similarity).then(a.reference.cmp(&b.reference)).then(a.candidate.cmp(&b.candidate))
    });
    let (mut ref_taken, mut cand_taken) = (Vec::new(), Vec::new());
    let mut out = Vec::new();
    for p in pairs {
        if ref_taken.len() <= p.reference {
            ref_taken.resize(p.reference + 1, false);
        }
        if cand_taken.len() <= p.candidate {
            cand_taken.resize(p.candidate + 1, false);
        }
        if !ref_taken[p.reference] && !cand_taken[p.candidate] {
            ref_taken[p.reference] = true;
            cand_taken[p.candidate] = true;
            out.push(p);
        }
    }
    out
}

/// Matches token sets by Jaccard similarity. Only pairs that share a token are compared (through an
/// inverted index), so two large playbooks with little in common cost little.
pub fn align_by_tokens(reference: &[TokenSet], candidate: &[TokenSet], threshold: f64) -> Vec<Pair> {
    let mut by_token: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, set) in candidate.iter().enumerate() {
        for token in set {
            by_token.entry(token.as_str()).or_default().push(j);
        }
    }
    let mut pairs = Vec::new();
    let mut seen = vec![usize::MAX; candidate.len()];
    for (i, set) in reference.iter().enumerate() {
        for token in set {
            for &j in by_token.get(token.as_str()).map(Vec::as_slice).unwrap_or_default() {
                if seen[j] != i {
                    seen[j] = i;
                    pairs.push(Pair { reference: i, candidate: j, similarity: jaccard(set, &candidate[j]) });
                }
            }
        }
    }
    greedy_one_to_one(pairs, threshold)
}

/// Matches keys that are equal (similarity 1.0), one-to-one, earlier positions first. Empty keys
/// never match.
pub fn align_exact(reference: &[String], candidate: &[String]) -> Vec<Pair> {
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (j, key) in candidate.iter().enumerate() {
        if !key.is_empty() {
            by_key.entry(key.as_str()).or_default().push(j);
        }
    }
    let pairs = reference
        .iter()
        .enumerate()
        .flat_map(|(i, key)| {
            by_key.get(key.as_str()).into_iter().flatten().map(move |&j| Pair {
                reference: i,
                candidate: j,
                similarity: 1.0,
            })
        })
        .collect();
    greedy_one_to_one(pairs, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::text::tokens;

    fn pair(reference: usize, candidate: usize, similarity: f64) -> Pair {
        Pair { reference, candidate, similarity }
    }

    #[test]
    fn greedy_takes_the_best_pair_first_and_each_side_once() {
        // r0 likes c0 (0.9) and c1 (0.8); r1 likes only c0 (0.85). Greedy: r0-c0, then r1 is left
        // without a partner (c0 taken), r0-c1 is refused (r0 taken).
        let got = greedy_one_to_one(vec![pair(0, 1, 0.8), pair(1, 0, 0.85), pair(0, 0, 0.9)], 0.5);
        assert_eq!(got, vec![pair(0, 0, 0.9)]);
    }

    #[test]
    fn ties_break_by_reference_then_candidate_position() {
        let got = greedy_one_to_one(vec![pair(1, 0, 0.5), pair(0, 1, 0.5), pair(0, 0, 0.5)], 0.5);
        assert_eq!(got, vec![pair(0, 0, 0.5)], "r0-c0 first; r0-c1 and r1-c0 then find a side taken");
        let got = greedy_one_to_one(vec![pair(1, 1, 0.5), pair(1, 0, 0.5), pair(0, 0, 0.5)], 0.5);
        assert_eq!(got, vec![pair(0, 0, 0.5), pair(1, 1, 0.5)]);
    }

    #[test]
    fn threshold_and_zero_similarity_are_refused() {
        assert!(greedy_one_to_one(vec![pair(0, 0, 0.49)], 0.5).is_empty());
        assert_eq!(greedy_one_to_one(vec![pair(0, 0, 0.5)], 0.5).len(), 1);
        assert!(greedy_one_to_one(vec![pair(0, 0, 0.0)], 0.0).is_empty());
    }

    #[test]
    fn align_by_tokens_uses_jaccard() {
        let r = [tokens("block ip firewall"), tokens("lock account")];
        let c = [tokens("lock user account"), tokens("block ip address"), tokens("reboot")];
        let got = align_by_tokens(&r, &c, 0.5);
        assert_eq!(got, vec![pair(1, 0, 2.0 / 3.0), pair(0, 1, 0.5)]);
        assert_eq!(align_by_tokens(&r, &c, 0.6), vec![pair(1, 0, 2.0 / 3.0)]);
    }

    #[test]
    fn align_exact_is_one_to_one() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let got = align_exact(&s(&["a", "a", "b", ""]), &s(&["a", "", "c", "b"]));
        assert_eq!(got, vec![pair(0, 0, 1.0), pair(2, 3, 1.0)]);
    }
}
