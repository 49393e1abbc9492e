//! `synth incidents`: synthetic incidents in the seed-004 dataset format, each with a reference
//! playbook, for tests, load tests and as seed data for fine-tuning a generator (the seed-004
//! "synthetic data generation" feature).
//!
//! An incident is built around one technique that both our indicator rules (whose example
//! command lines become the attack logs) and our response knowledge cover. Hosts, users,
//! addresses and times are drawn from a seeded generator, so a seed always gives the same
//! dataset. The reference playbook and `ground_truth_mitigations` are what the planner backend
//! generates for the incident: the records are consistent and valid, but they are *our* answer,
//! so scoring the planner against them measures consistency, never quality (use a dataset written
//! by others for that).

use super::pipeline::analyze;
use super::{GenerateOptions, PlannerBackend};
use crate::attack::indicators::indicators;
use crate::attack::responses;
use crate::attack::sigma::SplitMix;
use crate::attack::Catalog;
use crate::incident::intake::{seed004, IntakeOptions};
use crate::plan::{PlanOptions, Planner};
use crate::score::dataset::{AttackLog, DatasetRecord, Mitigation};
use serde_json::{json, Value};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthIncidentOptions {
    /// Records to write.
    pub count: usize,
    pub seed: u64,
    /// Only these techniques (parent or sub-technique ids); empty: every technique that has both
    /// indicator examples and response knowledge.
    pub techniques: Vec<String>,
}

impl Default for SynthIncidentOptions {
    fn default() -> Self {
        SynthIncidentOptions { count: 50, seed: 7, techniques: Vec::new() }
    }
}

/// Most records one call writes (a limit for a mistyped count).
pub const MAX_SYNTH_INCIDENTS: usize = 100_000;

/// Why no dataset could be made.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("count {0} is outside 1..={MAX_SYNTH_INCIDENTS}")]
    Count(usize),
    #[error("no technique has both indicator examples and response knowledge{0}")]
    NoTechnique(String),
}

/// The seed-004 dataset (a JSON list of one-key objects) of `opts.count` synthetic incidents.
pub fn synth_incidents(opts: &SynthIncidentOptions) -> Result<Value, SynthError> {
    if opts.count == 0 || opts.count > MAX_SYNTH_INCIDENTS {
        return Err(SynthError::Count(opts.count));
    }
    let library = responses::library();
    let catalog = Catalog::embedded();
    let wanted = |id: &str| {
        opts.techniques.is_empty()
            || opts
                .techniques
                .iter()
                .any(|t| t.eq_ignore_ascii_case(id) || t.eq_ignore_ascii_case(crate::attack::parent_of(id)))
    };
    let rules: Vec<_> = indicators()
        .rules()
        .iter()
        .filter(|r| !r.examples.is_empty() && wanted(&r.technique))
        .filter(|r| library.for_technique(&r.technique).is_some() && catalog.technique(&r.technique).is_some())
        .collect();
    if rules.is_empty() {
        let filter =
            if opts.techniques.is_empty() { String::new() } else { format!(" among {}", opts.techniques.join(", ")) };
        return Err(SynthError::NoTechnique(filter));
    }
    let planner = Planner::embedded(PlanOptions::default());
    let backend = PlannerBackend::default();
    let mut gen_opts = GenerateOptions::default();
    gen_opts.assemble.created = Some("2026-01-01T00:00:00.000Z".into());
    let mut rng = SplitMix::new(opts.seed ^ 0x5ca1_ab1e);
    let mut records = Vec::with_capacity(opts.count);
    let mut attempts = 0;
    while records.len() < opts.count && attempts < opts.count * 4 {
        attempts += 1;
        let rule = rules[rng.below(rules.len())];
        let n = records.len() + 1;
        let mut record = incident_record(&mut rng, &rule.technique, &rule.name, &rule.examples, n);
        // The reference is the planner's playbook for what a generator would see.
        let incident = seed004::incident(&record, &IntakeOptions::default());
        let Ok(analysis) = analyze(&incident, None, &planner, &backend, &gen_opts) else { continue };
        let playbook = analysis.generated.playbook;
        record.ground_truth_mitigations = mitigations_of(&playbook);
        record.playbook = playbook;
        records.push(record);
    }
    Ok(Value::Array(records.into_iter().map(record_value).collect()))
}

const WINDOWS_HOSTS: &[&str] =
    &["WS-FIN-014", "WS-HR-203", "SRV-FS-02", "SRV-APP-07", "DC01", "WS-ENG-118", "SRV-SQL-03"];
const LINUX_HOSTS: &[&str] = &["web-01", "bastion-02", "db-prod-3", "build-runner-5", "k8s-node-12", "mail-gw-1"];
const USERS: &[&str] = &["j.moreno", "a.osei", "svc_backup", "m.keller", "deploy", "r.chen", "it.admin", "l.carter"];
const ACTIONS: &[&str] = &["Process Creation", "Command Execution", "Suspicious Command", "Script Execution"];

fn incident_record(rng: &mut SplitMix, technique: &str, name: &str, examples: &[String], n: usize) -> DatasetRecord {
    let example = examples[rng.below(examples.len())].clone();
    let windows = example.contains('\\') || example.to_ascii_lowercase().contains(".exe");
    let host = if windows { pick(rng, WINDOWS_HOSTS) } else { pick(rng, LINUX_HOSTS) };
    let user = pick(rng, USERS);
    let external = format!("203.0.113.{}", 2 + rng.below(250));
    let internal = format!("10.{}.{}.{}", 1 + rng.below(60), rng.below(250), 2 + rng.below(250));
    let day = 1 + rng.below(27);
    let (h, m) = (rng.below(24), rng.below(50));
    let at = |min: usize| format!("2026-03-{day:02}T{h:02}:{:02}:{:02}Z", m + min, rng_sec(min));
    let mut logs = vec![
        AttackLog {
            timestamp: at(0),
            host: host.to_owned(),
            action: "Authentication Success".into(),
            details: format!("{user} logged on to {host} from {internal}."),
        },
        AttackLog {
            timestamp: at(2),
            host: host.to_owned(),
            action: pick(rng, ACTIONS).to_owned(),
            details: format!("{user} ran: {example}"),
        },
    ];
    if rng.below(2) == 0 {
        logs.push(AttackLog {
            timestamp: at(5),
            host: host.to_owned(),
            action: "Network Connection".into(),
            details: format!("{host} connected to {external}:443 shortly after the command."),
        });
    }
    let key = format!("{technique}_synth_{n}");
    DatasetRecord {
        key,
        incident_id: uuid_from(rng),
        technique_id: technique.to_owned(),
        technique_desc: name.to_owned(),
        incident_description: format!(
            "EDR flagged {name} activity on {host}: the account {user} ran `{example}`{}.",
            if logs.len() > 2 { format!(", and the host then reached {external}") } else { String::new() }
        ),
        attack_logs: logs,
        ground_truth_mitigations: Vec::new(),
        playbook: Value::Null,
    }
}

fn rng_sec(min: usize) -> usize {
    (min * 17 + 11) % 60
}

/// One of `items` (never empty: the lists above), drawn as [`SplitMix::pick`] draws.
fn pick<'a>(rng: &mut SplitMix, items: &[&'a str]) -> &'a str {
    rng.pick(items).copied().unwrap_or_default()
}

fn uuid_from(rng: &mut SplitMix) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// The seed-004 `ground_truth_mitigations` of a playbook: its action steps (not the approval
/// and escalation steps the assembly adds) with their first command.
fn mitigations_of(playbook: &Value) -> Vec<Mitigation> {
    let Some(workflow) = playbook["workflow"].as_object() else { return Vec::new() };
    workflow
        .iter()
        .filter(|(_, s)| s["type"] == "action")
        .filter(|(_, s)| {
            let name = s["name"].as_str().unwrap_or("");
            name != super::assemble::APPROVAL_STEP_NAME && name != super::assemble::ESCALATION_STEP_NAME
        })
        .map(|(id, s)| Mitigation {
            step: s["name"].as_str().unwrap_or("").to_owned(),
            uuid: Some(id.trim_start_matches("action--").to_owned()),
            agent: s["agent"].as_str().map(str::to_owned),
            command: s["commands"][0]["command"].as_str().map(str::to_owned),
            ..Mitigation::default()
        })
        .collect()
}

fn record_value(r: DatasetRecord) -> Value {
    json!({ r.key.clone(): {
        "incident_id": r.incident_id,
        "technique_id": r.technique_id,
        "technique_desc": r.technique_desc,
        "incident_description": r.incident_description,
        "attack_logs": r.attack_logs,
        "ground_truth_mitigations": r.ground_truth_mitigations,
        "playbook": r.playbook,
    }})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::dataset::parse_dataset;

    #[test]
    fn a_seed_gives_the_same_valid_dataset_that_the_reader_accepts() {
        let opts = SynthIncidentOptions { count: 6, seed: 3, techniques: Vec::new() };
        let a = synth_incidents(&opts).unwrap();
        assert_eq!(a, synth_incidents(&opts).unwrap());
        let dataset = parse_dataset(&a.to_string()).unwrap();
        assert!(dataset.problems.is_empty(), "{:?}", dataset.problems);
        assert_eq!(dataset.records.len(), 6);
        let validator = crate::cacao::validate::Validator::default();
        for r in &dataset.records {
            assert!(!r.ground_truth_mitigations.is_empty(), "{}", r.key);
            assert!(validator.validate_document(&r.playbook).is_valid(), "{}", r.key);
            // The logs carry the indicator example the incident is built on.
            assert!(r.attack_logs.iter().any(|l| l.details.contains(" ran: ")), "{}", r.key);
        }
        assert_ne!(a, synth_incidents(&SynthIncidentOptions { seed: 4, ..opts }).unwrap());
    }

    #[test]
    fn technique_filters_and_bad_counts_are_honoured() {
        let only = SynthIncidentOptions { count: 3, seed: 1, techniques: vec!["T1110".into()] };
        let d = parse_dataset(&synth_incidents(&only).unwrap().to_string()).unwrap();
        assert!(d.records.iter().all(|r| r.technique_id.starts_with("T1110")));
        assert!(matches!(
            synth_incidents(&SynthIncidentOptions { count: 0, ..only.clone() }),
            Err(SynthError::Count(0))
        ));
        let none = SynthIncidentOptions { techniques: vec!["T9999".into()], ..only };
        assert!(synth_incidents(&none).unwrap_err().to_string().contains("T9999"));
    }
}
