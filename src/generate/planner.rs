//! The default backend: no weights, no network. It turns the mitigation plan (`plan::Planner`:
//! mapped techniques, our response knowledge in `playbooks/responses/`, commands rendered with
//! the incident's observables) into a draft.

use super::draft::{DraftStep, PlaybookDraft};
use super::{Backend, GenerateError, GenerationContext, Provenance};
use crate::attack::responses::{CommandType, Phase, Platform};
use crate::incident::ObservableKind;
use crate::plan::{Plan, PlannedAction, Step};

/// What the planner backend keeps of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannerBackendOptions {
    /// Most steps in the draft; the plan's first steps in phase order are kept, with at least
    /// one per phase the plan has.
    pub max_steps: usize,
    /// Most commands of one step (one per target value).
    pub max_commands: usize,
}

impl Default for PlannerBackendOptions {
    fn default() -> Self {
        PlannerBackendOptions { max_steps: 12, max_commands: 4 }
    }
}

/// The knowledge-based backend.
#[derive(Debug, Clone, Default)]
pub struct PlannerBackend {
    pub options: PlannerBackendOptions,
}

/// Version of the response knowledge the planner composes from, recorded in every playbook.
pub const KNOWLEDGE_VERSION: &str = concat!("cacao-forge-knowledge-", env!("CARGO_PKG_VERSION"));

impl Backend for PlannerBackend {
    fn provenance(&self) -> Provenance {
        Provenance { backend: "planner".into(), model: KNOWLEDGE_VERSION.into() }
    }

    fn draft(&self, ctx: &GenerationContext<'_>) -> Result<PlaybookDraft, GenerateError> {
        draft_from_plan(ctx, &self.options)
    }
}

/// The draft for a plan; an error when the plan has no step at all.
pub fn draft_from_plan(
    ctx: &GenerationContext<'_>,
    opts: &PlannerBackendOptions,
) -> Result<PlaybookDraft, GenerateError> {
    let plan = ctx.plan;
    let (baseline, sweep) = baseline_steps(plan);
    let merged = merge_baseline(plan, &baseline);
    let chosen = choose_steps(plan, &merged, opts.max_steps);
    if chosen.is_empty() {
        let why = if plan.notes.is_empty() {
            "no technique or threat type was mapped".to_owned()
        } else {
            plan.notes.join("; ")
        };
        return Err(GenerateError::Backend { backend: "planner".into(), message: format!("nothing to plan: {why}") });
    }
    let host = ctx
        .incident
        .observables
        .iter()
        .find(|o| o.kind == ObservableKind::Host)
        .map(|o| o.value.clone())
        .or_else(|| ctx.incident.events.iter().find_map(|e| e.host.clone()));
    // In the order the playbook runs them (recovery after verification), so the draft reads as
    // the playbook does.
    // In the order the playbook runs them (recovery after verification), so the draft reads as
    // the playbook does. (Chosen in plan order first: a cut at `max_steps` keeps recovery over
    // extra verification.)
    let mut chosen = chosen;
    chosen.sort_by_key(|s| super::assemble::RESPONSE_ORDER.iter().position(|p| *p == s.action.phase));
    let steps = chosen.iter().map(|s| draft_step(s, host.as_deref(), opts)).collect();
    let sweep = sweep.map(|s| draft_step(&s, host.as_deref(), opts));
    let lead = plan.techniques.first().map(|t| format!("{} ({})", t.name, t.id));
    let name = match &lead {
        Some(t) => format!("Respond to {t}: {}", ctx.incident.title),
        None => format!("Respond to {}", ctx.incident.title),
    };
    let techniques: Vec<String> = plan.techniques.iter().map(|t| format!("{} {}", t.id, t.name)).collect();
    let description = format!(
        "{} Response composed from the mitigation plan for {}.",
        ctx.incident.description.trim(),
        if techniques.is_empty() { "the incident's threat type".to_owned() } else { techniques.join(", ") }
    );
    Ok(PlaybookDraft {
        name: cut(&name, 200),
        description: description.trim().to_owned(),
        steps,
        repairs: Vec::new(),
        sweep,
    })
}

/// The plan's baseline host response as steps (attributed to the lead technique), without
/// actions the incident gives no value for, and its full scan apart: that one is what the
/// repeat-until-clean loop runs.
fn baseline_steps(plan: &Plan) -> (Vec<Step>, Option<Step>) {
    let techniques: Vec<String> = plan.techniques.iter().take(1).map(|t| t.id.clone()).collect();
    let mut steps = Vec::new();
    let mut sweep = None;
    for a in plan.baseline.iter().flat_map(|b| &b.actions) {
        let a = a.clone();
        let is_sweep = a.phase == Phase::Verification && a.acts_on.is_empty() && intent(&a) == Some((Verb::Scan, None));
        let step = Step { number: 0, techniques: techniques.clone(), action: a };
        if is_sweep {
            sweep.get_or_insert(step);
        } else if step.action.missing.is_empty() && !step.action.commands.is_empty() {
            steps.push(step);
        }
    }
    // A kill by the id the logs give is the precise one: the kill by name gives way to it.
    if steps.iter().any(|s| intent(&s.action) == Some((Verb::Kill, Some(ObservableKind::Pid)))) {
        steps.retain(|s| intent(&s.action) != Some((Verb::Kill, Some(ObservableKind::Process))));
    }
    (steps, sweep)
}

/// What a step does, coarsely: a verb class and the kind of object it acts on first. Two steps
/// with the same intent do the same thing, perhaps by different means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Kill,
    Block,
    Delete,
    Disable,
    Reset,
    Scan,
    Patch,
}

fn intent(a: &PlannedAction) -> Option<(Verb, Option<ObservableKind>)> {
    let title = a.title.as_deref().unwrap_or(&a.name).to_ascii_lowercase();
    let first = title.split_whitespace().next().unwrap_or("");
    let verb = match first {
        "kill" | "terminate" => Verb::Kill,
        "block" | "drop" | "deny" | "sinkhole" => Verb::Block,
        "delete" | "remove" => Verb::Delete,
        "disable" | "lock" => Verb::Disable,
        "reset" | "rotate" | "expire" => Verb::Reset,
        "scan" | "run" if title.contains("scan") => Verb::Scan,
        "patch" | "update" | "upgrade" => Verb::Patch,
        _ => return None,
    };
    Some((verb, a.acts_on.first().copied()))
}

/// The plan's steps with the baseline merged in. A baseline step is left out when a host command
/// of the lead technique (the declared or best-mapped one) does the same thing: that one is more
/// specific. Otherwise it goes in, and takes the place of same-purpose steps that are manual, or
/// that come from another mapped technique and act on no value it does not (a side technique's
/// oddly named "remove hidden files" deleting the same payload).
fn merge_baseline(plan: &Plan, baseline: &[Step]) -> Vec<Step> {
    let host_level = |t: CommandType| matches!(t, CommandType::Bash | CommandType::Powershell | CommandType::Ssh);
    let os = plan.baseline.as_ref().map(|b| b.os);
    let fits_os = |s: &Step| os.is_none_or(|os| s.action.platform == os || !is_os(s.action.platform));
    let lead = plan.techniques.first().map(|t| t.id.as_str());
    let concrete = |s: &Step| {
        host_level(s.action.command_type) && fits_os(s) && s.action.missing.is_empty() && !s.action.commands.is_empty()
    };
    let mut added = Vec::new();
    let mut replaced = Vec::new();
    for b in baseline {
        let Some(want) = intent(&b.action) else { continue };
        let same: Vec<&Step> = plan.steps.iter().filter(|s| intent(&s.action) == Some(want)).collect();
        if same.iter().any(|s| concrete(s) && lead.is_some_and(|l| s.techniques.iter().any(|t| t == l))) {
            continue;
        }
        let values = |s: &Step| -> Vec<String> {
            s.action.commands.iter().flat_map(|c| c.targets.values().cloned()).collect::<Vec<_>>()
        };
        let ours = values(b);
        let within_ours = |s: &Step| {
            let theirs = values(s);
            !theirs.is_empty() && theirs.iter().all(|v| ours.contains(v))
        };
        replaced.extend(
            same.iter()
                .filter(|s| s.action.command_type == CommandType::Manual || (concrete(s) && within_ours(s)))
                .map(|s| s.number),
        );
        added.push(b.clone());
    }
    let mut out: Vec<Step> = Vec::new();
    for phase in Phase::ALL {
        let start = out.len();
        out.extend(added.iter().filter(|b| b.action.phase == phase).cloned());
        out.extend(plan.steps.iter().filter(|s| s.action.phase == phase && !replaced.contains(&s.number)).cloned());
        out[start..].sort_by_key(|s| response_order(&s.action));
    }
    for s in &mut out {
        if intent(&s.action) == Some((Verb::Kill, Some(ObservableKind::Process))) {
            s.action
                .commands
                .retain(|c| !c.targets.get("process").is_some_and(|p| crate::plan::baseline::is_service_host(p)));
            // The adversary's own binary first, the system tool it abused after: the payload is
            // what must stop, and a reviewer reads the first command first.
            s.action.commands.sort_by_key(|c| c.targets.get("process").is_some_and(|p| is_system_tool(p)));
        }
    }
    out
}

/// Interpreters, script hosts and admin tools that ship with the OS, which adversaries run
/// ("living off the land"): a kill step lists the adversary's own binaries before them.
fn is_system_tool(process: &str) -> bool {
    const TOOLS: &[&str] = &[
        "cmd",
        "powershell",
        "pwsh",
        "wscript",
        "cscript",
        "mshta",
        "rundll32",
        "regsvr32",
        "certutil",
        "bitsadmin",
        "wmic",
        "wmiprvse",
        "msiexec",
        "schtasks",
        "reg",
        "net",
        "net1",
        "whoami",
        "fodhelper",
        "eventvwr",
        "sdclt",
        "vssadmin",
        "wbadmin",
        "bcdedit",
        "nltest",
        "conhost",
        "dllhost",
        "taskhostw",
        "sc",
        "installutil",
        "regasm",
        "regsvcs",
        "msbuild",
        "bash",
        "sh",
        "dash",
        "zsh",
        "python",
        "python3",
        "perl",
        "ruby",
        "curl",
        "wget",
        "nc",
        "ncat",
        "ssh",
        "sudo",
        "find",
        "crontab",
        "base64",
        "openssl",
    ];
    TOOLS.contains(&crate::plan::guard::image_name(process).as_str())
}

/// Where a step goes in its phase, in the order responders act: block the adversary's traffic
/// (reversible, so it needs no approval and goes first), isolate, collect evidence, the rest,
/// disable accounts, and kill processes last (by id after by name), right before eradication
/// deletes their files; in eradication, deletion first; in recovery, credential resets first.
/// Ties keep plan order.
fn response_order(a: &PlannedAction) -> u8 {
    let title = a.title.as_deref().unwrap_or(&a.name).to_ascii_lowercase();
    let first = title.split_whitespace().next().unwrap_or("");
    match (a.phase, intent(a).map(|i| i.0), first) {
        (Phase::Containment, Some(Verb::Block), _) => 0,
        (Phase::Containment, _, "isolate") => 1,
        (Phase::Containment, _, "collect" | "capture" | "preserve") => 2,
        (Phase::Containment, Some(Verb::Disable), _) => 4,
        // The kill by process id last: it is the step that names the exact process, and the
        // deletion of its files follows it.
        (Phase::Containment, Some(Verb::Kill), _) if a.acts_on.first() == Some(&ObservableKind::Pid) => 6,
        (Phase::Containment, Some(Verb::Kill), _) => 5,
        (Phase::Eradication, Some(Verb::Delete), _) => 0,
        (Phase::Recovery, Some(Verb::Reset), _) => 0,
        _ => 3,
    }
}

fn is_os(p: Platform) -> bool {
    matches!(p, Platform::Linux | Platform::Windows | Platform::Macos)
}

/// The plan's steps to keep: in plan order, at most `max`, every phase represented. Steps that
/// could not be rendered for lack of an observable (no domain seen, so no domain to block) are
/// left out while renderable ones remain: they are not specific to this incident.
fn choose_steps<'p>(plan: &Plan, steps: &'p [Step], max: usize) -> Vec<&'p Step> {
    // Steps for an operating system the incident does not show are out (PowerShell logging for a
    // Linux web server), unless the incident shows none; then the one its words or techniques
    // point to decides, when they point to one.
    let inferred: Vec<Platform> = plan.baseline.iter().filter(|b| !b.os_default).map(|b| b.os).collect();
    let seen = if plan.incident.platforms_seen.is_empty() { &inferred } else { &plan.incident.platforms_seen };
    let fits = |s: &&Step| {
        seen.is_empty()
            || matches!(s.action.platform, Platform::Any | Platform::Network | Platform::Cloud)
            || seen.contains(&s.action.platform)
    };
    let fitting: Vec<&Step> = steps.iter().filter(fits).collect();
    // Renderable: the command came out for at least one target (none when a kind is missing
    // or when the guard refused every value).
    let renderable: Vec<&Step> = fitting.iter().copied().filter(|s| !s.action.commands.is_empty()).collect();
    let pool: Vec<&Step> = match (renderable.is_empty(), fitting.is_empty()) {
        (false, _) => renderable,
        (true, false) => fitting,
        (true, true) => steps.iter().collect(),
    };
    if pool.len() <= max {
        return pool;
    }
    // One per phase first (its first step), then fill in plan order.
    let mut keep = vec![false; pool.len()];
    let mut phases_seen = Vec::new();
    for (i, s) in pool.iter().enumerate() {
        if !phases_seen.contains(&s.action.phase) {
            phases_seen.push(s.action.phase);
            keep[i] = true;
        }
    }
    let mut left = max.saturating_sub(keep.iter().filter(|k| **k).count());
    for k in keep.iter_mut() {
        if left == 0 {
            break;
        }
        if !*k {
            *k = true;
            left -= 1;
        }
    }
    pool.into_iter().zip(keep).filter(|(_, k)| *k).map(|(s, _)| s).collect()
}

fn draft_step(step: &Step, incident_host: Option<&str>, opts: &PlannerBackendOptions) -> DraftStep {
    let a = &step.action;
    let mut command_type = a.command_type;
    let command = if a.commands.is_empty() {
        // Nothing to fill the template with: a human finds the value and does it.
        command_type = CommandType::Manual;
        let missing: Vec<String> = a
            .missing
            .iter()
            .map(|m| {
                if m.setting {
                    format!("the {} setting", m.name)
                } else {
                    format!("the {}", m.name.replace('_', " "))
                }
            })
            .collect();
        let missing = if missing.is_empty() {
            // Every value of the kinds was refused by the guard (a system directory, a
            // critical process): the target is still to be found.
            a.acts_on.iter().map(|k| format!("the {}", k.as_str().replace('_', " "))).collect()
        } else {
            missing
        };
        format!("Identify {} involved in this incident, then: {}.", missing.join(" and "), a.name.trim_end_matches('.'))
    } else {
        a.commands.iter().take(opts.max_commands).map(|c| c.command.replace('\n', " ")).collect::<Vec<_>>().join("\n")
    };
    let target = a
        .commands
        .iter()
        .find_map(|c| c.targets.get("host").cloned())
        .or_else(|| a.observables.iter().find(|o| o.kind == ObservableKind::Host).map(|o| o.value.clone()))
        .or_else(|| incident_host.map(str::to_owned));
    // The step is named by the action's short title (the words a responder would use, which is
    // also what a reviewer scans for); the longer name opens the description.
    let title = concrete_title(a.title.as_deref().unwrap_or(&a.name), a);
    let mut description = if a.title.is_some() {
        format!("{}. {}", a.name.trim_end_matches('.'), without_placeholders(&a.rationale))
    } else {
        without_placeholders(&a.rationale)
    };
    let values: Vec<&str> = a.observables.iter().take(3).map(|o| o.value.as_str()).collect();
    if !values.is_empty() {
        description.push_str(&format!(" Acts on {}.", values.join(", ")));
    }
    DraftStep {
        name: title,
        description,
        phase: a.phase,
        command_type,
        command,
        target,
        technique: step.techniques.iter().find(|t| is_technique_id(t)).cloned(),
        mitigation: a.mitigation.as_ref().map(|m| m.id.clone()),
        destructive: a.destructive || a.requires_approval,
        expect: a.expect.clone(),
    }
}

/// The title with its generic object named when the step acts on exactly one value of that kind
/// ("Isolate the infected host from the network" -> "Isolate web-01 from the network"): the
/// responder sees at once what the step touches, as runbooks write it.
fn concrete_title(title: &str, a: &crate::plan::PlannedAction) -> String {
    const PHRASES: &[(&str, &str, &str)] = &[
        ("the infected host", "host", ""),
        ("the compromised host", "host", ""),
        ("the compromised server", "host", ""),
        ("the affected host", "host", ""),
        ("the compromised user account", "user", " account"),
        ("the compromised user's", "user", "'s"),
        ("the compromised user", "user", ""),
        ("the compromised account", "user", " account"),
        ("the targeted user account", "user", " account"),
        ("the targeted user's", "user", "'s"),
        ("the targeted user", "user", ""),
        ("the malicious process", "process", ""),
        ("the malicious domain", "domain", ""),
    ];
    let one_value = |kind: &str| {
        let mut values: Vec<&str> = a.commands.iter().filter_map(|c| c.targets.get(kind).map(String::as_str)).collect();
        values.dedup();
        match values.as_slice() {
            [v] if !v.is_empty() && v.len() <= 64 => Some(v.to_string()),
            _ => None,
        }
    };
    for (phrase, kind, suffix) in PHRASES {
        if let Some(at) = title.find(phrase) {
            if let Some(value) = one_value(kind) {
                // A domain-qualified account reads by its name (CORP\alice -> alice).
                let value = value.rsplit('\\').next().unwrap_or(&value).to_owned();
                return format!("{}{value}{suffix}{}", &title[..at], &title[at + phrase.len()..]);
            }
        }
    }
    title.to_owned()
}

/// Knowledge prose may name a placeholder (`{{process}} is the image name`); a playbook says
/// "the process" instead.
fn without_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else { break };
        out.push_str(&rest[..start]);
        out.push_str("the ");
        out.push_str(&rest[start + 2..start + len].trim().replace('_', " "));
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// `T1234` or `T1234.001`: what the draft's schema accepts as a technique.
fn is_technique_id(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    b.first() == Some(&b'T') && digits(1..5) && (b.len() == 5 || (b.len() == 9 && b[5] == b'.' && digits(6..9)))
}

fn cut(s: &str, max: usize) -> String {
    super::prompt::prefix_within(s, max).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::GenerationContext;
    use crate::incident::intake::{read_auto, IntakeOptions};
    use crate::plan::{PlanOptions, Planner};

    fn draft_for(text: &str) -> PlaybookDraft {
        let report = read_auto(text.as_bytes(), &IntakeOptions::default()).expect("text read");
        let incident = &report.incidents[0];
        let plan = Planner::embedded(PlanOptions::default()).plan(incident);
        draft_from_plan(&GenerationContext { incident, plan: &plan }, &PlannerBackendOptions::default())
            .expect("a draft")
    }

    #[test]
    fn system_tools_are_told_apart() {
        assert!(is_system_tool("powershell.exe") && is_system_tool("/usr/bin/curl") && !is_system_tool("elev"));
    }

    #[test]
    fn baseline_gives_concrete_host_commands_for_the_incident_os() {
        let draft = draft_for(
            "Cryptominer on web-01: a bash one-liner from cron fetched /tmp/.x/kworkerds with wget from \
             203.0.113.9 and started it; kworkerds runs as www-data and mines to pool.example.net.",
        );
        let commands: Vec<&str> = draft.steps.iter().map(|s| s.command.as_str()).collect();
        let all = commands.join("\n");
        assert!(all.contains("iptables -A INPUT -s 203.0.113.9 -j DROP"), "{all}");
        assert!(all.contains("rm -f '/tmp/.x/kworkerds'"), "the dropped miner is deleted: {all}");
        assert!(!all.contains("New-NetFirewallRule") && !all.contains("taskkill"), "Linux incident: {all}");
        // One block of the address on the host, not the baseline's and the technique's both.
        assert_eq!(all.matches("iptables -A INPUT -s 203.0.113.9").count(), 1, "{all}");
        let sweep = draft.sweep.as_ref().expect("the loop runs a concrete scan");
        assert_eq!(sweep.command_type, CommandType::Bash);
        assert!(sweep.command.starts_with("clamscan"), "{}", sweep.command);
        // Block first (reversible, no approval).
        assert_eq!(draft.steps[0].phase, Phase::Containment);
        assert!(draft.steps[0].name.starts_with("Block"), "{:?}", draft.steps[0].name);
    }

    #[test]
    fn windows_incident_gets_windows_commands() {
        let draft = draft_for(
            "EDR alert on WS-22: explorer.exe opened winword.exe, whose macro spawned powershell.exe -enc ... which downloaded \
             C:\\Users\\ann\\AppData\\Local\\Temp\\elev.exe from 198.51.100.7 and ran it; elev.exe beacons to \
             198.51.100.7 every 60 s.",
        );
        let all: Vec<&str> = draft.steps.iter().map(|s| s.command.as_str()).collect();
        let all = all.join("\n");
        assert!(all.contains("New-NetFirewallRule -DisplayName 'Block 198.51.100.7'"), "{all}");
        assert!(all.contains("taskkill /F /T /IM 'elev.exe'"), "{all}");
        assert!(!all.contains("'explorer.exe'"), "the desktop shell is not killed: {all}");
        assert!(!all.contains("iptables") && !all.contains("clamscan"), "Windows incident: {all}");
        assert!(draft.sweep.as_ref().is_some_and(|s| s.command.starts_with("Start-MpScan")));
        // Within containment the kills come last, the kill by process id after those by name.
        let containment: Vec<&DraftStep> = draft.steps.iter().filter(|s| s.phase == Phase::Containment).collect();
        let first_kill = containment.iter().position(|s| s.name.starts_with("Kill")).expect("a kill step");
        assert!(containment[first_kill..].iter().all(|s| s.name.starts_with("Kill")), "{containment:?}");
        // Steps are listed in the order the playbook runs them: recovery after verification.
        let phases: Vec<Phase> = draft.steps.iter().map(|s| s.phase).collect();
        let rank = |p: &Phase| crate::generate::assemble::RESPONSE_ORDER.iter().position(|q| q == p);
        assert!(phases.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])), "{phases:?}");
    }
}
