//! Synthetic labelled examples for every threat label (`cacao-forge synth threat`).
//!
//! The shared training texts cover few surfaces (raw web payloads, GTFOBins one-liners, one
//! OpenSSH log) and two labels not at all, while the model is judged on real texts from other
//! sources. So every label here is written as a generative grammar of our own (vocabularies of
//! verbs, tables, tags, binaries, domains, brands; never a public payload list), then placed in
//! the containers real texts arrive in (access logs, JSON and WAF logs, syslog, Windows events,
//! shell history, e-mail) and obfuscated the way attackers do (URL/HTML/unicode encoding, case,
//! comments, base64, shell quoting tricks). Benign texts use the same containers and the same
//! look-alike vocabulary (`SELECT` in database logs, `<div` in templates, `sudo` and `curl` in
//! admin work), so the model cannot learn "a log line means an attack".
//!
//! Layout: [`Rng`] draws and expands templates; `vocab` holds the slots every family shares
//! (addresses, users, hosts, timestamps, domains); `encode` the obfuscations; `context` the
//! containers; one file per family of generators (`web`, `auth`, `privesc`, `malware`, `recon`,
//! `mail`, `exfil`, `benign`, `benign_text`).
//!
//! Templates: `«a|b|c»` picks one alternative (an empty one is allowed: `«, please|»`), and
//! `«name»` is replaced by the slot `name` (see `vocab::slot` and each family's `slot`). Slot values
//! are expanded again, so vocabularies can themselves be templates. `«` and `»` never occur in
//! the payloads, so `{`, `|`, `$` stay literal.

mod auth;
mod benign;
mod benign_text;
mod context;
mod encode;
mod exfil;
mod mail;
mod malware;
mod privesc;
mod recon;
mod vocab;
mod web;

use super::{ThreatExample, ThreatType, LABELS};
use crate::attack::mapper::features::{fnv, FNV_OFFSET};
use crate::attack::sigma::SplitMix;
use std::collections::HashSet;

/// Most examples one label may be asked for: beyond it the grammars repeat themselves and the
/// output only costs memory.
pub const MAX_PER_LABEL: usize = 200_000;
/// Longest text produced, in characters; longer draws are cut (real lines can be long, but a
/// model sees a bounded prefix anyway).
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Draws allowed per wanted example before a label gives up (a grammar too small for the count).
const ATTEMPTS_PER_EXAMPLE: usize = 40;
/// Share of examples written with documentation placeholders (`attacker.com`, `/path/to/file`,
/// `#{remote_url}`, `username`) instead of concrete values, the way payload lists, attack
/// catalogues and command references write them. Every label gets them, so a placeholder never
/// tells the label; the structure around it must.
const PLACEHOLDER_PERCENT: u64 = 8;
/// Deepest nesting of template expansion: a slot that (by mistake) refers to itself stops here.
const MAX_DEPTH: usize = 12;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthOptions {
    /// Examples per label (capped at [`MAX_PER_LABEL`]).
    pub per_label: usize,
    pub seed: u64,
    /// Labels to generate; empty means all of [`LABELS`].
    pub labels: Vec<ThreatType>,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions { per_label: 1000, seed: 7, labels: Vec::new() }
    }
}

/// Generates `per_label` distinct examples for each asked label, in [`LABELS`] order.
///
/// Deterministic for a seed. Each label draws from its own generator seeded by the seed and the
/// label, so asking for one label yields the same texts as it has in a run over all labels
/// (unless a text was already taken by an earlier label: texts are unique case-insensitively
/// across the whole output). `source` is `synth:<generator>`. A label whose grammars cannot make
/// that many distinct texts yields fewer (none does at the default counts).
pub fn generate(opts: &SynthOptions) -> Vec<ThreatExample> {
    let per_label = opts.per_label.min(MAX_PER_LABEL);
    let wanted: Vec<ThreatType> =
        LABELS.iter().copied().filter(|l| opts.labels.is_empty() || opts.labels.contains(l)).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for label in wanted {
        let generators: Vec<&Generator> = registry().filter(|g| g.label == label).collect();
        let total_weight: u64 = generators.iter().map(|g| u64::from(g.weight)).sum();
        if total_weight == 0 {
            continue;
        }
        let mut rng = Rng::new(opts.seed ^ fnv(FNV_OFFSET, label.as_str().as_bytes()));
        let mut made = 0;
        let mut attempts = 0;
        while made < per_label && attempts < per_label.saturating_mul(ATTEMPTS_PER_EXAMPLE) {
            attempts += 1;
            let mut ticket = rng.next_u64() % total_weight;
            let generator = generators
                .iter()
                .find(|g| {
                    let w = u64::from(g.weight);
                    if ticket < w {
                        true
                    } else {
                        ticket -= w;
                        false
                    }
                })
                .copied()
                .unwrap_or(generators[0]);
            rng.placeholders = rng.chance(PLACEHOLDER_PERCENT);
            let text = tidy((generator.make)(&mut rng));
            if text.is_empty() || !seen.insert(text.to_lowercase()) {
                continue;
            }
            out.push(ThreatExample { text, threat_type: label, source: format!("synth:{}", generator.name) });
            made += 1;
        }
    }
    out
}

/// One generator: a grammar for one surface of one label.
pub(crate) struct Generator {
    /// Short stable name, reported as `synth:<name>`.
    pub name: &'static str,
    pub label: ThreatType,
    /// Relative share of the label's examples.
    pub weight: u32,
    pub make: fn(&mut Rng) -> String,
}

/// Every generator of every family.
fn registry() -> impl Iterator<Item = &'static Generator> {
    [
        web::GENERATORS,
        auth::GENERATORS,
        privesc::GENERATORS,
        malware::GENERATORS,
        recon::GENERATORS,
        mail::GENERATORS,
        exfil::GENERATORS,
        benign::GENERATORS,
        benign_text::GENERATORS,
    ]
    .into_iter()
    .flatten()
}

/// The generator names per label (for reports and tests).
pub fn generator_names(label: ThreatType) -> Vec<&'static str> {
    registry().filter(|g| g.label == label).map(|g| g.name).collect()
}

/// Trims, and cuts at [`MAX_TEXT_CHARS`] on a character boundary.
fn tidy(text: String) -> String {
    let trimmed = text.trim();
    match trimmed.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => trimmed[..cut].to_string(),
        None => trimmed.to_string(),
    }
}

/// Slots that keep their value within one template: the file a command downloads is the file
/// it then runs, the tag in `'x'='x'` is the same on both sides, the shell connects back to the
/// host it named.
const STICKY_SLOTS: &[&str] = &["drop_unix", "drop_win", "payload_url", "alnum", "c2", "lport", "sq_w", "wallet"];

/// The seeded draw every generator uses, with template expansion.
pub(crate) struct Rng {
    draw: SplitMix,
    /// Values of [`STICKY_SLOTS`] drawn in the template being expanded.
    sticky: Vec<(&'static str, String)>,
    /// Nesting of `fill` calls: the sticky values live as long as the outermost one.
    fills: usize,
    /// Whether slots that have a placeholder form use it (see [`PLACEHOLDER_PERCENT`]).
    pub placeholders: bool,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { draw: SplitMix::new(seed), sticky: Vec::new(), fills: 0, placeholders: false }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.draw.next_u64()
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.draw.below(n)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.draw.chance(percent)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// One of `items` (empty string for none).
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        self.draw.pick(items).copied().unwrap_or("")
    }

    /// One template of `templates`, expanded.
    pub fn fill_one(&mut self, templates: &[&str]) -> String {
        let t = self.pick(templates);
        self.fill(t)
    }

    /// Expands `«…»` alternatives and slots in `template`.
    pub fn fill(&mut self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 16);
        self.fills += 1;
        self.expand_into(template, 0, &mut out);
        self.fills -= 1;
        if self.fills == 0 {
            self.sticky.clear();
        }
        out
    }

    /// A slot's value, reusing the one already drawn for a sticky slot in this template.
    fn slot_value(&mut self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.sticky.iter().find(|(n, _)| *n == name) {
            return Some(v.clone());
        }
        let value = slot(name, self)?;
        if let Some(sticky) = STICKY_SLOTS.iter().find(|s| **s == name) {
            self.sticky.push((sticky, value.clone()));
        }
        Some(value)
    }

    fn expand_into(&mut self, template: &str, depth: usize, out: &mut String) {
        const OPEN: char = '«';
        const CLOSE: char = '»';
        let mut rest = template;
        while let Some(start) = rest.find(OPEN) {
            out.push_str(&rest[..start]);
            let after = &rest[start + OPEN.len_utf8()..];
            let Some(end) = matching_close(after) else {
                out.push_str(&rest[start..]);
                return;
            };
            let inner = &after[..end];
            rest = &after[end + CLOSE.len_utf8()..];
            if depth >= MAX_DEPTH {
                out.push_str(inner);
                continue;
            }
            let alternatives = split_top_level(inner);
            if alternatives.len() > 1 {
                let chosen = alternatives[self.below(alternatives.len())];
                self.expand_into(chosen, depth + 1, out);
            } else if let Some(value) = self.slot_value(inner) {
                self.expand_into(&value, depth + 1, out);
            } else {
                // An unknown slot stays visible so the template tests catch it.
                out.push(OPEN);
                out.push_str(inner);
                out.push(CLOSE);
            }
        }
        out.push_str(rest);
    }
}

/// Byte index of the `»` closing the `«` just before `s`, minding nesting.
fn matching_close(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '«' => depth += 1,
            '»' if depth == 0 => return Some(i),
            '»' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Splits on `|` outside nested `«…»`.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '«' => depth += 1,
            '»' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Resolves a slot name: the shared vocabulary first, then each family's own.
fn slot(name: &str, rng: &mut Rng) -> Option<String> {
    if rng.placeholders {
        if let Some(forms) = vocab::placeholders(name) {
            return Some(rng.pick(forms).to_string());
        }
    }
    vocab::slot(name, rng)
        .or_else(|| exfil::slot(name, rng))
        .or_else(|| web::slot(name, rng))
        .or_else(|| malware::slot(name, rng))
        .or_else(|| mail::slot(name, rng))
        .or_else(|| benign::slot(name, rng))
        .or_else(|| benign_text::slot(name, rng))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_pick_alternatives_and_fill_slots() {
        let mut rng = Rng::new(1);
        for _ in 0..50 {
            let t = rng.fill("a«b|c«d|e»»f «|x» {IFS} $(id) | x");
            assert!(["abf", "acdf", "acef"].iter().any(|p| t.starts_with(p)), "{t}");
            assert!(t.ends_with("{IFS} $(id) | x"), "{t}");
        }
        let ip = rng.fill("«ip»");
        assert_eq!(ip.split('.').count(), 4, "{ip}");
        assert_eq!(rng.fill("«no_such_slot»"), "«no_such_slot»");
        assert_eq!(rng.fill("unclosed «a|b"), "unclosed «a|b");
    }

    #[test]
    fn sticky_slots_repeat_within_a_template_only() {
        let mut rng = Rng::new(5);
        let t = rng.fill("«c2» «c2» «sq_w»=«sq_w»");
        let parts: Vec<&str> = t.split(' ').collect();
        assert_eq!(parts[0], parts[1], "{t}");
        let (a, b) = parts[2].split_once('=').unwrap();
        assert_eq!(a, b, "{t}");
        let draws: HashSet<String> = (0..20).map(|_| rng.fill("«c2»")).collect();
        assert!(draws.len() > 10, "a new template draws anew");
        let ips = rng.fill("«ip» «ip» «ip» «ip»");
        assert!(ips.split(' ').collect::<HashSet<_>>().len() > 1, "other slots are not sticky: {ips}");
    }

    #[test]
    fn every_generator_expands_all_its_slots() {
        let mut rng = Rng::new(3);
        for g in registry() {
            for _ in 0..200 {
                let text = (g.make)(&mut rng);
                assert!(!text.contains('«') && !text.contains('»'), "{}: unexpanded slot in {text:?}", g.name);
                assert!(!text.trim().is_empty(), "{}: empty text", g.name);
            }
        }
    }

    #[test]
    fn generator_names_are_unique_and_every_label_has_some() {
        let mut names = HashSet::new();
        for g in registry() {
            assert!(names.insert(g.name), "generator name {} used twice", g.name);
            assert!(g.weight > 0, "{} has no weight", g.name);
        }
        for label in LABELS {
            assert!(!generator_names(label).is_empty(), "no generator for {label}");
        }
    }

    #[test]
    fn tidy_cuts_long_texts_on_a_char_boundary() {
        let long = "é".repeat(MAX_TEXT_CHARS + 10);
        assert_eq!(tidy(long).chars().count(), MAX_TEXT_CHARS);
        assert_eq!(tidy("  x \n".into()), "x");
    }
}
