//! Sigma rules as training knowledge for technique mapping.
//!
//! Sigma rules are read at training time only (from `../shared/sigma/sigma.jsonl` or any JSONL of
//! the same shape); nothing of them ships in the binary except what a trained model learned. This
//! module reads the rules, keeps their ATT&CK labels, and turns the selections of process-creation
//! and script rules into synthetic command lines: the strings a rule looks for, assembled the way a
//! command line holds them, with filler that varies per sample. A mapper trained on these sees the
//! tell-tale fragments of each technique in context.

use serde_json::Value;
use std::collections::BTreeSet;

/// How a Sigma field is compared, from its `|modifier` suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    Regex,
    Other,
}

/// One `field|modifiers: values` line of a selection.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub field: String,
    pub kind: MatchKind,
    /// `|all`: every value must appear (else any one).
    pub all: bool,
    /// `|windash`: `-` may also be written `/` (and the other dashes Windows accepts).
    pub windash: bool,
    pub values: Vec<String>,
}

/// A named selection (`selection_img`, `filter_main`, a keyword list ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub name: String,
    /// Filters (`filter*`) describe what is NOT the attack.
    pub is_filter: bool,
    /// Alternatives: a selection written as a list of maps matches if any map matches.
    pub alternatives: Vec<Vec<Clause>>,
    /// Bare keywords (a selection that is a list of strings).
    pub keywords: Vec<String>,
}

/// A Sigma rule with its ATT&CK techniques (v18 ids).
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaRule {
    pub id: String,
    pub title: String,
    pub techniques: Vec<String>,
    pub category: Option<String>,
    pub product: Option<String>,
    pub selections: Vec<Selection>,
}

impl SigmaRule {
    /// Rules whose evidence is a process command line or script text.
    pub fn is_command_rule(&self) -> bool {
        matches!(self.category.as_deref(), Some("process_creation" | "ps_script" | "ps_module" | "ps_classic_start"))
    }
}

/// A rule that could not be read, by line number (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub line: usize,
    pub message: String,
}

/// Reads a JSONL file of Sigma rules (`{id, title, tags_v18 | tags, logsource, detection}`).
/// Rules without techniques are kept (they teach what is not specific); bad lines are reported.
pub fn parse_rules(jsonl: &str) -> (Vec<SigmaRule>, Vec<RuleProblem>) {
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(v) => match rule_from_value(&v) {
                Some(rule) => rules.push(rule),
                None => {
                    problems.push(RuleProblem { line: i + 1, message: "not a Sigma rule object (no detection)".into() })
                }
            },
            Err(e) => problems.push(RuleProblem { line: i + 1, message: format!("invalid JSON: {e}") }),
        }
    }
    (rules, problems)
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

fn rule_from_value(v: &Value) -> Option<SigmaRule> {
    let detection = v.get("detection")?.as_object()?;
    let tags = v.get("tags_v18").or_else(|| v.get("tags")).map(strings).unwrap_or_default();
    let techniques: BTreeSet<String> = tags
        .iter()
        .map(|t| t.trim_start_matches("attack.").to_ascii_uppercase())
        .filter(|t| t.starts_with('T') && t[1..].chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect();
    let logsource = v.get("logsource");
    let field = |k: &str| logsource.and_then(|l| l.get(k)).and_then(Value::as_str).map(str::to_owned);
    let mut selections = Vec::new();
    for (name, body) in detection {
        if name == "condition" || name == "timeframe" {
            continue;
        }
        let mut sel = Selection {
            name: name.clone(),
            is_filter: name.starts_with("filter"),
            alternatives: Vec::new(),
            keywords: Vec::new(),
        };
        match body {
            Value::Object(map) => sel.alternatives.push(clauses(map)),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::Object(map) => sel.alternatives.push(clauses(map)),
                        other => sel.keywords.extend(strings(other)),
                    }
                }
            }
            other => sel.keywords.extend(strings(other)),
        }
        selections.push(sel);
    }
    Some(SigmaRule {
        id: v.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
        title: v.get("title").and_then(Value::as_str).unwrap_or_default().to_owned(),
        techniques: techniques.into_iter().collect(),
        category: field("category"),
        product: field("product"),
        selections,
    })
}

fn clauses(map: &serde_json::Map<String, Value>) -> Vec<Clause> {
    map.iter()
        .map(|(key, values)| {
            let mut parts = key.split('|');
            let field = parts.next().unwrap_or_default().to_owned();
            let modifiers: Vec<&str> = parts.collect();
            let kind = if modifiers.contains(&"re") {
                MatchKind::Regex
            } else if modifiers.contains(&"contains") {
                MatchKind::Contains
            } else if modifiers.contains(&"startswith") {
                MatchKind::StartsWith
            } else if modifiers.contains(&"endswith") {
                MatchKind::EndsWith
            } else if modifiers
                .iter()
                .any(|m| m.starts_with("base64") || *m == "cidr" || *m == "expand" || *m == "fieldref")
            {
                MatchKind::Other
            } else {
                MatchKind::Equals
            };
            Clause {
                field,
                kind,
                all: modifiers.contains(&"all"),
                windash: modifiers.contains(&"windash"),
                values: strings(values),
            }
        })
        .collect()
}

/// A small deterministic generator (SplitMix64): training data must be reproducible from a seed,
/// and the crate needs no `rand` for it.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> SplitMix {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            Some(&items[self.below(items.len())])
        }
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// Uniform in [0, 1), 24 bits.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let (u1, u2) = (self.next_f64(), self.next_f64());
        ((-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
    }

    /// Fisher-Yates, in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Fields whose values are (parts of) the command line a responder sees.
const COMMAND_FIELDS: &[&str] =
    &["CommandLine", "ScriptBlockText", "Payload", "ContextInfo", "ProcessCommandLine", "ParentCommandLine"];
/// Fields that name the program.
const IMAGE_FIELDS: &[&str] = &["Image", "OriginalFileName", "NewProcessName", "ProcessName"];

/// Filler that makes synthetic command lines look like the real ones around them.
const FILLER: &[&str] = &[
    "C:\\Users\\Public\\update.exe",
    "C:\\Windows\\Temp\\a.ps1",
    "/tmp/.x/run.sh",
    "http://198.51.100.23/p.bin",
    "https://cdn.example-update.net/s/1.dat",
    "10.0.4.17",
    "admin",
    "%TEMP%\\svc.dll",
    "-o out.txt",
    "/home/user/.cache/k",
    "\\\\fileserver\\share$\\tools",
    "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
];

/// Synthesizes up to `per_rule` command lines for every technique-labelled command rule.
/// Returns (text, techniques) pairs; regex clauses and filters are skipped (they describe shapes
/// and exclusions, not strings an attacker types).
pub fn synthesize_command_lines(rules: &[SigmaRule], per_rule: usize, seed: u64) -> Vec<(String, Vec<String>)> {
    let mut rng = SplitMix::new(seed);
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| r.is_command_rule() && !r.techniques.is_empty()) {
        let positive: Vec<&Selection> = rule.selections.iter().filter(|s| !s.is_filter).collect();
        if positive.is_empty() {
            continue;
        }
        let mut seen = BTreeSet::new();
        for _ in 0..per_rule * 3 {
            if seen.len() >= per_rule {
                break;
            }
            if let Some(line) = synthesize_one(&positive, &mut rng) {
                if seen.insert(line.clone()) {
                    out.push((line, rule.techniques.clone()));
                }
            }
        }
    }
    out
}

fn synthesize_one(selections: &[&Selection], rng: &mut SplitMix) -> Option<String> {
    let mut image: Option<String> = None;
    let mut parts: Vec<String> = Vec::new();
    for sel in selections {
        if !sel.keywords.is_empty() {
            if let Some(k) = rng.pick(&sel.keywords) {
                parts.push(k.clone());
            }
        }
        let Some(alternative) = rng.pick(&sel.alternatives) else { continue };
        for clause in alternative {
            if clause.kind == MatchKind::Regex || clause.kind == MatchKind::Other || clause.values.is_empty() {
                continue;
            }
            let chosen: Vec<&String> = if clause.all {
                clause.values.iter().collect()
            } else {
                rng.pick(&clause.values).into_iter().collect()
            };
            let is_image = IMAGE_FIELDS.iter().any(|f| clause.field.eq_ignore_ascii_case(f));
            let is_command = COMMAND_FIELDS.iter().any(|f| clause.field.eq_ignore_ascii_case(f));
            for value in chosen {
                let value = if clause.windash && rng.chance(50) { value.replacen('-', "/", 1) } else { value.clone() };
                if is_image && image.is_none() {
                    image = Some(value.trim_start_matches('\\').to_owned());
                } else if is_command || is_image {
                    parts.push(value.trim().to_owned());
                }
            }
        }
    }
    if image.is_none() && parts.is_empty() {
        return None;
    }
    let mut line = String::new();
    if let Some(img) = image {
        if rng.chance(30) {
            line.push_str("C:\\Windows\\System32\\");
        }
        line.push_str(&img);
    }
    for (i, p) in parts.iter().enumerate() {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(p);
        if i + 1 < parts.len() && rng.chance(25) {
            line.push(' ');
            line.push_str(rng.pick(FILLER).copied().unwrap_or_default());
        }
    }
    if rng.chance(40) {
        line.push(' ');
        line.push_str(rng.pick(FILLER).copied().unwrap_or_default());
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"{"id":"1","title":"Certutil download","tags_v18":["T1105"],"logsource":{"category":"process_creation","product":"windows"},"detection":{"selection_img":{"Image|endswith":"\\certutil.exe"},"selection_cli":{"CommandLine|contains|all":["urlcache","-f"]},"filter_main":{"ParentImage|endswith":"\\msiexec.exe"},"condition":"all of selection_* and not filter_main"}}
{"id":"2","title":"Web","tags":["attack.t1190"],"logsource":{"category":"webserver"},"detection":{"keywords":["../../etc/passwd"],"condition":"keywords"}}
not json
"#;

    #[test]
    fn reads_rules_with_techniques_and_reports_bad_lines() {
        let (rules, problems) = parse_rules(RULES);
        assert_eq!(rules.len(), 2);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 3);
        assert_eq!(rules[0].techniques, ["T1105"]);
        assert_eq!(rules[1].techniques, ["T1190"], "attack.t1190 tags are normalized");
        let filter = rules[0].selections.iter().find(|s| s.is_filter).unwrap();
        assert_eq!(filter.name, "filter_main");
        let cli = &rules[0].selections.iter().find(|s| s.name == "selection_cli").unwrap().alternatives[0][0];
        assert_eq!((cli.kind, cli.all), (MatchKind::Contains, true));
        assert_eq!(rules[1].selections[0].keywords, ["../../etc/passwd"]);
    }

    #[test]
    fn synthesized_lines_carry_every_required_fragment_and_no_filter() {
        let (rules, _) = parse_rules(RULES);
        let lines = synthesize_command_lines(&rules, 5, 7);
        assert!(!lines.is_empty());
        for (line, techniques) in &lines {
            assert_eq!(techniques, &["T1105"]);
            assert!(line.contains("certutil.exe"), "{line}");
            assert!(line.contains("urlcache"), "{line}");
            assert!(!line.contains("msiexec"), "{line}");
        }
        assert_eq!(lines, synthesize_command_lines(&rules, 5, 7), "same seed, same data");
    }

    #[test]
    fn splitmix_is_deterministic_and_bounded() {
        let mut a = SplitMix::new(1);
        let mut b = SplitMix::new(1);
        for _ in 0..100 {
            let x = a.below(7);
            assert_eq!(x, b.below(7));
            assert!(x < 7);
        }
    }
}
