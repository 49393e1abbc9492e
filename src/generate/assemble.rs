//! From a draft to a CACAO v2.0 playbook, deterministically: the same draft and incident always
//! give the same document (ids are derived from the incident id and the step's place, not
//! random), whichever backend wrote the draft.
//!
//! What the assembly adds, so that no backend has to get it right:
//! - **Variables**: every observable of the incident becomes a typed playbook variable with its
//!   value (`__attacker_ip__`, `__affected_host__`, `__affected_user__`, ...). Commands keep the
//!   literal values the backend wrote (a reviewer reads `iptables ... 203.0.113.45`, and the
//!   executor needs no substitution to run it); the variables record what the values are.
//! - **Agents and targets**: one SOC organization runs automated steps, an incident commander
//!   (individual) runs manual ones; each host the incident names becomes a `linux` or `windows`
//!   target (by the step's command type and the incident's platform), network-wide commands target
//!   the perimeter (`net-address`), API commands an `http-api` target.
//! - **Structure**: phases in order (containment, eradication, recovery, verification), each a
//!   chain in the draft's order (order matters: isolate before collecting, block before
//!   deleting); the recovery steps, which harden independent things, in one parallel step; one
//!   manual approval right before the first destructive step, listing all of them; after the
//!   response a while-condition that repeats a sweep while the threat is still present, then an
//!   if-condition on the verification result (clean: done; not clean: escalate); every automated
//!   step's `on_failure` going to the escalation step. The structure sits around the response
//!   chain rather than inside it, so the chain reads in one line, the way responders write
//!   runbooks (and reference playbooks are compared edge by edge).
//! - **Review aids**: each step's description says why, which technique and which mitigation;
//!   `external_references` link the techniques and mitigations on attack.mitre.org; the playbook's
//!   labels record the backend and model.

use super::draft::{DraftStep, PlaybookDraft};
use super::{GenerationContext, Provenance};
use crate::attack::responses::{CommandType, Phase, Platform};
use crate::incident::{Incident, ObservableKind};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};

/// How the playbook is put together.
#[derive(Debug, Clone, PartialEq)]
pub struct AssembleOptions {
    /// `created`/`modified` timestamp (RFC 3339 with milliseconds); `None`: now. Fixed in tests
    /// and evaluations so output is reproducible.
    pub created: Option<String>,
    /// A manual approval step before the first destructive step, listing every destructive step.
    pub approvals: bool,
    /// The phase whose steps run in one parallel step (when it has two or more and none is
    /// destructive); `None`: every phase is a chain.
    pub parallel_phase: Option<Phase>,
    /// After the response, a while-condition repeats a sweep while the threat is still present.
    pub repeat_until_clean: bool,
    /// Verification ends in an if-condition that escalates when the result is not clean.
    pub verify_condition: bool,
    /// Most playbook variables made from observables.
    pub max_variables: usize,
}

impl Default for AssembleOptions {
    fn default() -> Self {
        AssembleOptions {
            created: None,
            approvals: true,
            parallel_phase: Some(Phase::Recovery),
            repeat_until_clean: true,
            verify_condition: true,
            max_variables: 24,
        }
    }
}

/// The order phases run in: recovery (restoring and hardening) only once verification and the
/// repeat-until-clean scan say the hosts are clean.
pub(crate) const RESPONSE_ORDER: [Phase; 4] =
    [Phase::Containment, Phase::Eradication, Phase::Verification, Phase::Recovery];

/// The name of the approval step the assembly adds before the first destructive step.
pub const APPROVAL_STEP_NAME: &str = "Approve the destructive steps";
/// The name of the escalation step the assembly adds (on_failure and workflow_exception).
pub const ESCALATION_STEP_NAME: &str = "Escalate to the incident commander";

/// The identity every generated playbook is created by.
pub const CREATED_BY: &str = "identity--5f0c6a4e-2d7b-4c1e-9a3f-6b8d0e2c4a17";

/// Builds the playbook document for `draft`.
pub fn assemble(
    draft: &PlaybookDraft,
    ctx: &GenerationContext<'_>,
    provenance: &Provenance,
    opts: &AssembleOptions,
) -> Value {
    let incident = ctx.incident;
    let ids = IdMaker { seed: &incident.id };
    let created = opts.created.clone().unwrap_or_else(now);

    let variables = variables_of(incident, opts.max_variables);
    let mut targets = Targets::new(&ids, incident);
    let soc = ids.make("organization", "soc");
    let commander = ids.make("individual", "commander");

    // Steps in response order; the draft's order within a phase.
    let mut ordered: Vec<&DraftStep> = draft.steps.iter().collect();
    ordered.sort_by_key(|s| RESPONSE_ORDER.iter().position(|p| *p == s.phase));

    let mut w = Workflow::default();
    let start = ids.make("start", "start");
    let end = ids.make("end", "end");
    let escalate = ids.make("action", "escalate");
    w.add(&start, json!({"type": "start", "name": "Start response"}));

    // Each phase is a list of "blocks" entered at a first step and left from some last steps;
    // blocks are linked in sequence. `exits` are the steps whose onward link is still open.
    let mut entry: Option<String> = None;
    let mut exits: Vec<Exit> = Vec::new();
    let link = |w: &mut Workflow, exits: &mut Vec<Exit>, entry: &mut Option<String>, first: &str| {
        if entry.is_none() {
            *entry = Some(first.to_owned());
        }
        for e in exits.drain(..) {
            w.set_link(&e, first);
        }
    };

    // One approval gate, right before the first destructive step, listing every destructive
    // step: the responder decides once, and the response reads as one chain.
    let destructive: Vec<&str> = ordered.iter().filter(|s| s.destructive).map(|s| s.name.as_str()).collect();
    let first_destructive = ordered.iter().position(|s| s.destructive);
    // After eradication and its verification: repeat the scan until the threat is gone, then
    // decide on the result (clean: recovery; not clean: escalate).
    let check_clean = |w: &mut Workflow, exits: &mut Vec<Exit>, entry: &mut Option<String>, targets: &mut Targets| {
        if opts.repeat_until_clean {
            let wid = ids.make("while-condition", "until-clean");
            let body = ids.make("action", "sweep");
            w.add(&wid, while_step(&body));
            let sweep = match &draft.sweep {
                // The backend's concrete scan, reporting whether anything is left.
                Some(step) => {
                    let target = (step.command_type != CommandType::Manual).then(|| targets.for_step(step));
                    let agent = if target.is_some() { &soc } else { &commander };
                    let mut v = action_step(step, agent, target.as_deref(), &escalate);
                    let why = v["description"].as_str().unwrap_or("").trim_end().to_owned();
                    v["description"] =
                        json!(format!("{why} Repeated until nothing is found; sets __threat_present__."));
                    v.as_object_mut().map(|o| (o.remove("on_success"), o.remove("on_failure")));
                    v["out_args"] = json!(["__threat_present__"]);
                    v["on_completion"] = json!(wid);
                    v
                }
                None => json!({"type": "action", "name": "Sweep the affected hosts for remaining traces",
                       "description": "Re-runs detection (EDR full scan, the incident's indicators) on the affected hosts and removes what is left; sets __threat_present__.",
                       "agent": soc,
                       "commands": [{"type": "manual", "command": "Run a full EDR scan and search for the incident's indicators on the affected hosts; remove what remains and set __threat_present__."}],
                       "out_args": ["__threat_present__"],
                       "on_completion": wid}),
            };
            w.add(&body, sweep);
            link(w, exits, entry, &wid);
            exits.push(Exit::Completion(wid));
        }
        if opts.verify_condition {
            let cid = ids.make("if-condition", "verified");
            w.add(
                &cid,
                json!({"type": "if-condition", "name": "Check if the host is clean",
                       "description": "The verification steps set __incident_clean__; anything else than a clean result goes to the incident commander.",
                       "condition": "__incident_clean__:value = 'true'",
                       "on_false": escalate}),
            );
            link(w, exits, entry, &cid);
            exits.push(Exit::True(cid));
        }
    };
    let mut index = 0usize;
    for phase in RESPONSE_ORDER {
        if phase == Phase::Recovery {
            // Recovery starts once the hosts are known to be clean.
            check_clean(&mut w, &mut exits, &mut entry, &mut targets);
        }
        let steps: Vec<&DraftStep> = ordered.iter().copied().filter(|s| s.phase == phase).collect();
        if steps.is_empty() {
            continue;
        }
        let mut action_ids = Vec::new();
        for step in &steps {
            if opts.approvals && Some(index) == first_destructive {
                let id = ids.make("action", "approve");
                w.add(&id, approval_step(&destructive, &commander));
                action_ids.push(id);
            }
            index += 1;
            let id = ids.make("action", &format!("step-{index}"));
            let (agent, target) = if step.command_type == CommandType::Manual {
                (commander.clone(), None)
            } else {
                (soc.clone(), Some(targets.for_step(step)))
            };
            w.add(&id, action_step(step, &agent, target.as_deref(), &escalate));
            action_ids.push(id);
        }
        if opts.parallel_phase == Some(phase) && action_ids.len() >= 2 && !steps.iter().any(|s| s.destructive) {
            // Independent steps of one phase (hardening measures do not depend on each other)
            // run at once; each branch ends where it is and the parallel step goes on.
            let par = ids.make("parallel", phase.as_str());
            w.add(
                &par,
                json!({"type": "parallel", "name": format!("Run the {} steps in parallel", phase.as_str()),
                       "description": "These steps act on different objects and do not depend on each other.",
                       "next_steps": action_ids}),
            );
            for id in &action_ids {
                w.terminate_branch(id, &end, &escalate);
            }
            link(&mut w, &mut exits, &mut entry, &par);
            exits.push(Exit::Completion(par));
        } else {
            chain(&mut w, &action_ids, &escalate);
            link(&mut w, &mut exits, &mut entry, &action_ids[0]);
            exits.push(Exit::Action(action_ids[action_ids.len() - 1].clone(), escalate.clone()));
        }
    }
    // Whatever is still open ends the playbook.
    for e in exits.drain(..) {
        w.set_link(&e, &end);
    }
    let first = entry.unwrap_or_else(|| end.clone());
    w.set_link(&Exit::Completion(start.clone()), &first);
    w.add(
        &escalate,
        json!({"type": "action", "name": ESCALATION_STEP_NAME,
               "description": "A step failed or verification did not come back clean: a human decides how to continue.",
               "agent": commander,
               "commands": [{"type": "manual", "command": "Review the failed step's output and the incident, then decide on further containment."}],
               "on_completion": end}),
    );
    w.add(&end, json!({"type": "end", "name": "Response complete"}));

    let mut playbook_variables = variables.clone();
    playbook_variables.insert(
        "__incident_clean__".into(),
        json!({"type": "bool", "description": "Set by the verification steps: true when no trace of the threat remains.", "value": "false", "constant": false}),
    );
    if opts.repeat_until_clean {
        playbook_variables.insert(
            "__threat_present__".into(),
            json!({"type": "bool", "description": "Set by the eradication steps: true while traces of the threat remain.", "value": "true", "constant": false}),
        );
    }

    let mut agents = Map::new();
    agents.insert(soc.clone(), json!({"type": "organization", "name": "Security operations center (automation)"}));
    agents.insert(commander.clone(), json!({"type": "individual", "name": "Incident commander"}));

    let name =
        if draft.name.trim().is_empty() { format!("Response to {}", incident.title) } else { draft.name.clone() };
    let description =
        if draft.description.trim().is_empty() { incident.description.clone() } else { draft.description.clone() };
    let mut doc = json!({
        "type": "playbook",
        "spec_version": "cacao-2.0",
        "id": ids.make("playbook", "playbook"),
        "name": name,
        "description": description,
        "playbook_types": ["mitigation", "remediation"],
        "playbook_activities": ["mitigate-incident", "restrict-access"],
        "created_by": CREATED_BY,
        "created": created,
        "modified": created,
        "labels": labels(provenance, incident),
        "external_references": external_references(draft, ctx),
        "playbook_variables": Value::Object(playbook_variables),
        "workflow_start": start,
        "workflow_exception": escalate,
        "workflow": Value::Object(w.steps),
        "agent_definitions": Value::Object(agents),
        "target_definitions": Value::Object(targets.defs),
    });
    if doc["external_references"].as_array().is_some_and(Vec::is_empty) {
        doc.as_object_mut().map(|o| o.remove("external_references"));
    }
    doc
}

/// An open onward link of a step.
enum Exit {
    /// An action: `on_success` to the next step, `on_failure` to escalation.
    Action(String, String),
    /// A step with `on_completion` (start, parallel, while-condition).
    Completion(String),
    /// An if-condition's `on_true`.
    True(String),
}

#[derive(Default)]
struct Workflow {
    steps: Map<String, Value>,
}

impl Workflow {
    fn add(&mut self, id: &str, step: Value) {
        self.steps.insert(id.to_owned(), step);
    }

    fn set_link(&mut self, exit: &Exit, next: &str) {
        match exit {
            Exit::Action(id, failure) => {
                if let Some(s) = self.steps.get_mut(id) {
                    s["on_success"] = json!(next);
                    s["on_failure"] = json!(failure);
                }
            }
            Exit::Completion(id) => {
                if let Some(s) = self.steps.get_mut(id) {
                    s["on_completion"] = json!(next);
                }
            }
            Exit::True(id) => {
                if let Some(s) = self.steps.get_mut(id) {
                    s["on_true"] = json!(next);
                }
            }
        }
    }

    /// A parallel branch is one step: it ends at an end step on success (the parallel step itself
    /// goes on once every branch has ended) and escalates on failure.
    fn terminate_branch(&mut self, id: &str, end: &str, escalate: &str) {
        if let Some(s) = self.steps.get_mut(id) {
            s["on_success"] = json!(end);
            s["on_failure"] = json!(escalate);
        }
    }
}

/// Links `ids` one after another (success to the next, failure to escalation).
fn chain(w: &mut Workflow, ids: &[String], escalate: &str) {
    for pair in ids.windows(2) {
        w.set_link(&Exit::Action(pair[0].clone(), escalate.to_owned()), &pair[1]);
    }
}

fn while_step(body: &str) -> Value {
    json!({"type": "while-condition", "name": "Repeat the scan until the host is clean",
           "description": "The eradication and sweep steps report __threat_present__; the sweep runs again until nothing is left.",
           "condition": "__threat_present__:value = 'true'",
           "on_true": body})
}

fn approval_step(destructive: &[&str], commander: &str) -> Value {
    json!({"type": "action",
           "name": APPROVAL_STEP_NAME,
           "description": format!("Next steps cannot be undone easily and need a human decision: {}.", destructive.join("; ")),
           "agent": commander,
           "commands": [{"type": "manual", "command": format!("Approve or reject: {}", destructive.join("; "))}]})
}

fn action_step(step: &DraftStep, agent: &str, target: Option<&str>, escalate: &str) -> Value {
    let mut why = step.description.trim().to_owned();
    let mut refs = Vec::new();
    if let Some(t) = &step.technique {
        refs.push(format!("answers ATT&CK {t}"));
    }
    if let Some(m) = &step.mitigation {
        refs.push(format!("implements mitigation {m}"));
    }
    if !refs.is_empty() {
        if !why.is_empty() && !why.ends_with('.') {
            why.push('.');
        }
        why = format!("{why} {}{}.", refs.join(", ")[..1].to_uppercase(), &refs.join(", ")[1..]).trim().to_owned();
    }
    if step.destructive {
        why.push_str(" Destructive: runs only after approval.");
    }
    let commands: Vec<Value> = step
        .command
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| command_value(step.command_type, l))
        .collect();
    let commands = if commands.is_empty() { vec![command_value(CommandType::Manual, &step.name)] } else { commands };
    let mut v = json!({"type": "action", "name": step.name.trim(), "description": why.trim(),
                       "agent": agent, "commands": commands, "on_failure": escalate});
    if let Some(t) = target {
        v["targets"] = json!([t]);
    }
    match step.phase {
        Phase::Verification => v["out_args"] = json!(["__incident_clean__"]),
        Phase::Eradication => v["out_args"] = json!(["__threat_present__"]),
        _ => {}
    }
    if let Some(expect) = &step.expect {
        v["description"] = json!(format!("{} Expected: {expect}", v["description"].as_str().unwrap_or("")).trim());
    }
    v
}

fn command_value(kind: CommandType, command: &str) -> Value {
    match kind {
        // An http-api command is an HTTP request line; a bare URL becomes a GET.
        CommandType::HttpApi if !command.contains(' ') => {
            json!({"type": "http-api", "command": format!("GET {command} HTTP/1.1")})
        }
        CommandType::Openc2Http => json!({"type": "openc2-http", "command": "POST /openc2 HTTP/1.1",
            "content_b64": base64_of(command), "headers": {"Content-Type": ["application/openc2+json;version=1.0"]}}),
        _ => json!({"type": kind.as_str(), "command": command}),
    }
}

fn base64_of(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n =
            (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Deterministic CACAO identifiers: `<type>--<uuid>` from a hash of the incident id and a label.
struct IdMaker<'a> {
    seed: &'a str,
}

impl IdMaker<'_> {
    fn make(&self, object_type: &str, label: &str) -> String {
        let mut bytes = [0u8; 16];
        for (half, salt) in [(0usize, 0x5eedu64), (8, 0xcaca0)] {
            let mut h = DefaultHasher::new();
            (salt, self.seed, object_type, label).hash(&mut h);
            bytes[half..half + 8].copy_from_slice(&h.finish().to_le_bytes());
        }
        format!("{object_type}--{}", uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The variable name an observable kind gets (`__attacker_ip__`), and its CACAO type.
fn variable_kind(kind: ObservableKind, value: &str) -> (&'static str, &'static str) {
    match kind {
        ObservableKind::Ipv4 if crate::plan::baseline::is_internal_ipv4(value) => ("internal_ip", "ipv4-addr"),
        ObservableKind::Ipv4 => ("attacker_ip", "ipv4-addr"),
        ObservableKind::Ipv6 => ("ipv6_address", "ipv6-addr"),
        ObservableKind::Domain => ("suspicious_domain", "string"),
        ObservableKind::Url => ("suspicious_url", "uri"),
        ObservableKind::Email => ("email_address", "string"),
        ObservableKind::Md5 => ("file_md5", "md5-hash"),
        ObservableKind::Sha1 => ("file_sha1", "hash"),
        ObservableKind::Sha256 => ("file_sha256", "sha256-hash"),
        ObservableKind::FilePath => ("suspicious_file", "string"),
        ObservableKind::User => ("affected_user", "string"),
        ObservableKind::Host => ("affected_host", "string"),
        ObservableKind::Process => ("suspicious_process", "string"),
        ObservableKind::CommandLine => ("observed_command", "string"),
        ObservableKind::Cve => ("cve", "string"),
        ObservableKind::RegistryKey => ("registry_key", "string"),
        ObservableKind::Pid => ("process_id", "integer"),
    }
}

/// One variable per observable (most frequent first within a kind), `__kind__`, `__kind_2__`, ...
fn variables_of(incident: &Incident, max: usize) -> Map<String, Value> {
    let mut out = Map::new();
    let mut seen: Vec<(&str, usize)> = Vec::new();
    let mut observables: Vec<_> = incident.observables.iter().collect();
    observables.sort_by_key(|o| (o.kind, std::cmp::Reverse(o.count)));
    for o in observables {
        if out.len() >= max {
            break;
        }
        let (base, ty) = variable_kind(o.kind, &o.value);
        let n = match seen.iter_mut().find(|(b, _)| *b == base) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                seen.push((base, 1));
                1
            }
        };
        let name = if n == 1 { format!("__{base}__") } else { format!("__{base}_{n}__") };
        out.insert(
            name,
            json!({"type": ty, "description": format!("{} observed in the incident ({} occurrence{})",
                    o.kind.as_str(), o.count, if o.count == 1 { "" } else { "s" }),
                   "value": o.value, "constant": true}),
        );
    }
    out
}

/// Target definitions made on demand, one per host and kind.
struct Targets<'a> {
    ids: &'a IdMaker<'a>,
    hosts: Vec<String>,
    windows: bool,
    defs: Map<String, Value>,
}

impl<'a> Targets<'a> {
    fn new(ids: &'a IdMaker<'a>, incident: &Incident) -> Self {
        let hosts: BTreeSet<String> = incident
            .observables
            .iter()
            .filter(|o| o.kind == ObservableKind::Host)
            .map(|o| o.value.clone())
            .chain(incident.events.iter().filter_map(|e| e.host.clone()))
            .filter(|h| !h.trim().is_empty())
            .collect();
        let windows = crate::plan::platforms_seen(incident).contains(&Platform::Windows);
        Targets { ids, hosts: hosts.into_iter().collect(), windows, defs: Map::new() }
    }

    /// The target a step runs against.
    fn for_step(&mut self, step: &DraftStep) -> String {
        let host = step
            .target
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .or_else(|| self.hosts.first().cloned());
        // CACAO 2.0 has `linux` but no Windows target type: a Windows host is a `net-address`
        // (its address is what an executor needs). Without a host, and for API commands, the
        // target is the security control by category (firewall, EDR, identity provider).
        let (kind, name, address) = match (step.command_type, host) {
            (CommandType::Openc2Http, _) => {
                ("security-category", "Perimeter firewall (OpenC2 actuator)".to_owned(), None)
            }
            (CommandType::HttpApi, _) => {
                ("security-category", "Security controls API (EDR, identity provider)".to_owned(), None)
            }
            (_, None) => ("security-category", "Perimeter firewall".to_owned(), None),
            (CommandType::Powershell, Some(h)) => ("net-address", format!("{h} (Windows)"), Some(h)),
            (CommandType::Bash | CommandType::Ssh, Some(h))
                if !self.windows || step.command_type == CommandType::Ssh =>
            {
                ("linux", h.clone(), Some(h))
            }
            (_, Some(h)) if self.windows => ("net-address", format!("{h} (Windows)"), Some(h)),
            (_, Some(h)) => ("linux", h.clone(), Some(h)),
        };
        let id = self.ids.make(kind, &name);
        if !self.defs.contains_key(&id) {
            let mut def = json!({"type": kind, "name": name});
            match address {
                Some(h) if h.parse::<std::net::Ipv4Addr>().is_ok() => def["address"] = json!({"ipv4": [h]}),
                Some(h) => def["address"] = json!({"dname": [h]}),
                None if name.contains("API") => def["category"] = json!(["endpoint", "aaa"]),
                None => def["category"] = json!(["firewall"]),
            }
            self.defs.insert(id.clone(), def);
        }
        id
    }
}

fn labels(provenance: &Provenance, incident: &Incident) -> Vec<String> {
    let mut labels = vec![
        "generated-by:cacao-forge".to_owned(),
        format!("backend:{}", provenance.backend),
        format!("model:{}", provenance.model),
    ];
    if let Some(t) = incident.free.get("technique_id").and_then(Value::as_str) {
        labels.push(format!("technique:{t}"));
    }
    labels.push(format!("incident:{}", incident.id));
    labels
}

/// Links to every technique and mitigation the draft or the plan names.
fn external_references(draft: &PlaybookDraft, ctx: &GenerationContext<'_>) -> Vec<Value> {
    let mut techniques: BTreeSet<String> = draft.steps.iter().filter_map(|s| s.technique.clone()).collect();
    techniques.extend(ctx.plan.techniques.iter().map(|t| t.id.clone()));
    let mitigations: BTreeSet<String> = draft.steps.iter().filter_map(|s| s.mitigation.clone()).collect();
    let catalog = crate::attack::Catalog::embedded();
    let mut refs = Vec::new();
    for t in techniques {
        let name = catalog.technique(&t).map(|x| x.name.clone()).unwrap_or_else(|| t.clone());
        refs.push(json!({"name": format!("ATT&CK {t}: {name}"), "source": "MITRE ATT&CK", "external_id": t,
                         "url": format!("https://attack.mitre.org/techniques/{}/", t.replace('.', "/"))}));
    }
    for m in mitigations {
        let name = catalog.mitigation(&m).map(|x| x.name.clone()).unwrap_or_else(|| m.clone());
        refs.push(json!({"name": format!("ATT&CK mitigation {m}: {name}"), "source": "MITRE ATT&CK", "external_id": m,
                         "url": format!("https://attack.mitre.org/mitigations/{m}/")}));
    }
    refs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64_of(""), "");
        assert_eq!(base64_of("f"), "Zg==");
        assert_eq!(base64_of("fo"), "Zm8=");
        assert_eq!(base64_of("foo"), "Zm9v");
        assert_eq!(base64_of("{\"action\":\"deny\"}"), "eyJhY3Rpb24iOiJkZW55In0=");
    }

    #[test]
    fn ids_are_stable_valid_and_distinct() {
        let ids = IdMaker { seed: "incident-1" };
        let a = ids.make("action", "step-1");
        assert_eq!(a, ids.make("action", "step-1"));
        assert_ne!(a, ids.make("action", "step-2"));
        assert_ne!(a, IdMaker { seed: "incident-2" }.make("action", "step-1"));
        crate::cacao::ids::check(&a).unwrap();
    }
}
