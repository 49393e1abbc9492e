//! The prompt every LLM backend sends, in the seed-004 style (technique, incident description,
//! attack logs), so a CyberPlaybookLLM checkpoint fine-tuned on that format reads what it was
//! trained on. What the mapper and planner found is added as hints, never the dataset's
//! ground truth: the generator sees only technique, description and logs (`score::dataset`'s
//! generator view) plus our own analysis of them.

use crate::incident::Incident;
use crate::plan::Plan;
use serde_json::json;

/// Most attack-log events written into a prompt (the rest are counted, not shown).
pub const MAX_PROMPT_EVENTS: usize = 30;
/// Most bytes of one event's details in a prompt.
pub const MAX_EVENT_BYTES: usize = 400;

/// A chat prompt: the system message and the user message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub system: String,
    pub user: String,
}

/// The system message: the task and the answer's shape.
pub const SYSTEM: &str = "You are a SOC incident responder who writes CACAO v2.0 response playbooks. \
Answer with one JSON object and nothing else: {\"name\", \"description\", \"steps\": [{\"name\", \
\"description\", \"phase\", \"command_type\", \"command\", \"target\", \"technique\", \"mitigation\", \
\"destructive\", \"expect\"}]}. Steps run in order: containment, then eradication, recovery and \
verification. Each step is one concrete action against this incident's hosts, users, addresses, \
files and processes, with a command of its command_type (bash, powershell, ssh, http-api, \
openc2-http, or manual for a human task). Mark steps that delete, kill, disable or reimage as \
destructive. Verification steps say in expect what a clean result looks like.";

/// The prompt for one incident. `plan` adds the mapped techniques and their mitigations as hints.
pub fn build_prompt(incident: &Incident, plan: Option<&Plan>) -> Prompt {
    let free = |k: &str| incident.free.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    let (mut technique_id, mut technique_desc) = (free("technique_id"), free("technique_desc"));
    if technique_id.is_empty() {
        if let Some(t) = plan.and_then(|p| p.techniques.first()) {
            technique_id = t.id.clone();
            technique_desc = t.name.clone();
        }
    }
    let logs: Vec<serde_json::Value> = incident
        .events
        .iter()
        .take(MAX_PROMPT_EVENTS)
        .map(|e| {
            json!({
                "timestamp": e.timestamp.clone().unwrap_or_default(),
                "host": e.host.clone().unwrap_or_default(),
                "action": e.action.clone().unwrap_or_default(),
                "details": cut(&e.details, MAX_EVENT_BYTES),
            })
        })
        .collect();
    let description = if incident.description.trim().is_empty() { &incident.title } else { &incident.description };
    let mut user = format!(
        "Technique: {technique_id} ({technique_desc})\nIncident description: {}\nAttack logs:\n{}\n",
        description.trim(),
        serde_json::to_string_pretty(&logs).unwrap_or_default()
    );
    if incident.events.len() > MAX_PROMPT_EVENTS {
        user.push_str(&format!("({} more events not shown)\n", incident.events.len() - MAX_PROMPT_EVENTS));
    }
    if let Some(plan) = plan.filter(|p| p.has_techniques()) {
        user.push_str("Analysis hints (ATT&CK techniques mapped from the logs, with mitigations):\n");
        for t in plan.techniques.iter().take(5) {
            let mitigations: Vec<String> = t.mitigations.iter().take(4).map(|m| m.id.clone()).collect();
            user.push_str(&format!(
                "- {} {} (score {:.2}); mitigations: {}\n",
                t.id,
                t.name,
                t.score,
                mitigations.join(", ")
            ));
        }
    }
    user.push_str("Write the response playbook for this incident as the JSON object described.");
    Prompt { system: SYSTEM.to_owned(), user }
}

fn cut(s: &str, max: usize) -> String {
    let head = prefix_within(s, max);
    if head.len() == s.len() {
        s.to_owned()
    } else {
        format!("{head}…")
    }
}

/// The longest prefix of `s` within `max` bytes that ends on a character boundary.
pub(crate) fn prefix_within(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
