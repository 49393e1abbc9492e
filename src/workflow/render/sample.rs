//! A deterministic, realistic synthetic CACAO 2.0 playbook of any size, for benches and tests.
//!
//! The workflow reads like an incident-response runbook: a main line of blocks, each one of
//! - a plain action (ssh, bash, http-api, powershell or manual commands),
//! - a guarded action (`on_success` continues, `on_failure` goes to a manual fallback that rejoins),
//! - a parallel fan-out whose branches end in their own end steps (CACAO 2.0 style),
//! - an if-condition whose branches end in their own end steps,
//! - a while-condition whose body loops back to it (a cycle through a while step),
//! - a switch-condition with two to three cases plus `default`, each ending in an end step,
//! - a playbook-action calling a sub-playbook,
//!
//! and every block continues to the next through `on_completion` (or `on_success`). Ids are
//! `<type>--<uuid>` with deterministic, RFC 4122 v4-shaped UUIDs; the document carries every
//! property the CACAO 2.0 schema requires, and agent definitions for the agents it names.

use serde_json::{json, Map, Value};

/// A synthetic playbook with exactly `steps` workflow steps (at least 2: a start and an end).
pub fn synthetic_playbook(steps: usize) -> Value {
    synthetic_playbook_seeded(steps, 0x5eed_cac0)
}

/// [`synthetic_playbook`] with another seed: same shape rules, different mix of blocks.
pub fn synthetic_playbook_seeded(steps: usize, seed: u64) -> Value {
    let steps = steps.max(2);
    let mut b = Builder { steps: Vec::with_capacity(steps), rng: SplitMix(seed), seed, pending: Vec::new() };
    let start = b.add("start", json!({"name": "Start incident response"}));
    b.pending.push((start, "on_completion"));
    let mut block = 0usize;
    // Keep one step for the final end.
    while b.steps.len() < steps - 1 {
        let left = steps - 1 - b.steps.len();
        let pick = b.rng.below(100);
        block += 1;
        match pick {
            _ if left < 3 => b.plain_action(block),
            0..=29 => b.plain_action(block),
            30..=44 => b.guarded_action(block),
            45..=59 if left >= 6 => b.parallel(block, left),
            60..=71 if left >= 4 => b.if_condition(block, left),
            72..=79 if left >= 3 => b.while_loop(block, left),
            80..=91 if left >= 5 => b.switch(block, left),
            92..=99 => b.playbook_action(block),
            _ => b.plain_action(block),
        }
    }
    let end = b.add("end", json!({"name": "Incident response complete"}));
    b.resolve(end);
    b.document(start)
}

struct Step {
    kind: &'static str,
    body: Value,
    /// Properties that name other steps: (property, step index) or cases.
    refs: Vec<(&'static str, usize)>,
    list_refs: Vec<(&'static str, Vec<usize>)>,
    cases: Vec<(String, usize)>,
}

struct Builder {
    steps: Vec<Step>,
    rng: SplitMix,
    seed: u64,
    /// Exits of the previous block, to be pointed at the next block's entry.
    pending: Vec<(usize, &'static str)>,
}

const HOSTS: [&str; 6] = ["ws-0142", "ws-0377", "srv-db-02", "srv-web-11", "dc-01", "vpn-gw-03"];
const IPS: [&str; 5] = ["203.0.113.45", "198.51.100.23", "192.0.2.77", "203.0.113.9", "198.51.100.180"];

impl Builder {
    fn add(&mut self, kind: &'static str, body: Value) -> usize {
        self.steps.push(Step { kind, body, refs: Vec::new(), list_refs: Vec::new(), cases: Vec::new() });
        self.steps.len() - 1
    }

    /// Points the pending exits at `entry`.
    fn resolve(&mut self, entry: usize) {
        for (step, prop) in std::mem::take(&mut self.pending) {
            self.steps[step].refs.push((prop, entry));
        }
    }

    fn link(&mut self, from: usize, prop: &'static str, to: usize) {
        self.steps[from].refs.push((prop, to));
    }

    fn action(&mut self, block: usize) -> usize {
        let host = HOSTS[self.rng.below(HOSTS.len() as u64) as usize];
        let ip = IPS[self.rng.below(IPS.len() as u64) as usize];
        let (name, cmd_type, command, agent) = match self.rng.below(7) {
            0 => (format!("Isolate host {host}"), "ssh", format!("nmcli networking off # on {host}"), AGENT_SSH),
            1 => (
                format!("Block {ip} at the perimeter"),
                "bash",
                format!("iptables -A INPUT -s {ip} -j DROP"),
                AGENT_SSH,
            ),
            2 => (
                format!("Collect memory image of {host}"),
                "powershell",
                format!("Invoke-Command -ComputerName {host} -ScriptBlock {{ winpmem.exe C:\\\\mem.raw }}"),
                AGENT_SSH,
            ),
            3 => (
                format!("Query SIEM for {ip}"),
                "http-api",
                format!("GET /api/search?query=src_ip%3D{ip}&range=24h HTTP/1.1"),
                AGENT_HTTP,
            ),
            4 => (
                format!("Reset credentials used on {host}"),
                "http-api",
                "POST /api/v1/users/reset-password HTTP/1.1".to_owned(),
                AGENT_HTTP,
            ),
            5 => (
                format!("Call the owner of {host}"),
                "manual",
                format!("Phone the asset owner of {host} and confirm the maintenance window"),
                AGENT_ANALYST,
            ),
            _ => (
                format!("Snapshot disk of {host}"),
                "bash",
                format!("lvcreate -s -n snap-{block} -L 10G /dev/vg0/{host}"),
                AGENT_SSH,
            ),
        };
        let agent = self.agent_id(agent);
        self.add(
            "action",
            json!({
                "name": format!("{name} ({block})"),
                "description": format!("Step {block} of the response: {}", name.to_lowercase()),
                "commands": [{"type": cmd_type, "command": command}],
                "agent": agent,
            }),
        )
    }

    fn end(&mut self, what: &str) -> usize {
        self.add("end", json!({"name": format!("End of {what}")}))
    }

    fn plain_action(&mut self, block: usize) {
        let a = self.action(block);
        self.resolve(a);
        self.pending.push((a, "on_completion"));
    }

    fn guarded_action(&mut self, block: usize) {
        let a = self.action(block);
        self.resolve(a);
        let agent = self.agent_id(AGENT_ANALYST);
        let fallback = self.add(
            "action",
            json!({
                "name": format!("Manual fallback for step {block}"),
                "commands": [{"type": "manual", "command": "Perform the containment by hand and record it in the ticket"}],
                "agent": agent,
            }),
        );
        self.link(a, "on_failure", fallback);
        self.pending.push((a, "on_success"));
        self.pending.push((fallback, "on_completion"));
    }

    fn parallel(&mut self, block: usize, left: usize) {
        let p = self.add("parallel", json!({"name": format!("Contain in parallel ({block})")}));
        self.resolve(p);
        let max_branches = ((left - 1) / 2).min(4) as u64;
        let branches = 2 + self.rng.below(max_branches - 1) as usize;
        // Steps left for a second action in some branches.
        let mut spare = left - 1 - 2 * branches;
        let mut heads = Vec::new();
        for br in 0..branches {
            let a = self.action(block);
            let mut last = a;
            if spare > 0 && self.rng.below(3) == 0 {
                spare -= 1;
                let b = self.action(block);
                self.link(last, "on_completion", b);
                last = b;
            }
            let e = self.end(&format!("branch {} of step {block}", br + 1));
            self.link(last, "on_completion", e);
            heads.push(a);
        }
        self.steps[p].list_refs.push(("next_steps", heads));
        self.pending.push((p, "on_completion"));
    }

    fn if_condition(&mut self, block: usize, left: usize) {
        let ip = IPS[self.rng.below(IPS.len() as u64) as usize];
        let c = self.add(
            "if-condition",
            json!({
                "name": format!("Is {ip} known bad? ({block})"),
                "condition": format!("[__attacker_ip__:value = '{ip}' AND __threat_score__:value > 70]"),
            }),
        );
        self.resolve(c);
        let t = self.action(block);
        self.link(c, "on_true", t);
        let e = self.end(&format!("true branch of step {block}"));
        self.link(t, "on_completion", e);
        if left >= 6 && self.rng.below(2) == 0 {
            let f = self.action(block);
            self.link(c, "on_false", f);
            let e = self.end(&format!("false branch of step {block}"));
            self.link(f, "on_completion", e);
        }
        self.pending.push((c, "on_completion"));
    }

    fn while_loop(&mut self, block: usize, left: usize) {
        let w = self.add(
            "while-condition",
            json!({
                "name": format!("While infected hosts remain ({block})"),
                "condition": "[__infected_hosts__:value > 0]",
            }),
        );
        self.resolve(w);
        let body = self.action(block);
        self.link(w, "on_true", body);
        let mut last = body;
        if left >= 4 && self.rng.below(2) == 0 {
            let b = self.action(block);
            self.link(last, "on_completion", b);
            last = b;
        }
        self.link(last, "on_completion", w);
        self.pending.push((w, "on_completion"));
    }

    fn switch(&mut self, block: usize, left: usize) {
        let s = self.add(
            "switch-condition",
            json!({"name": format!("Route by severity ({block})"), "switch": "__severity__:value"}),
        );
        self.resolve(s);
        let named = match left {
            9.. => 2 + self.rng.below(2) as usize,
            7 | 8 => 2,
            _ => 1,
        };
        let values = ["critical", "high", "medium"];
        for case in values.iter().take(named).map(|v| v.to_string()).chain(["default".to_owned()]) {
            let a = self.action(block);
            let e = self.end(&format!("case {case} of step {block}"));
            self.link(a, "on_completion", e);
            self.steps[s].cases.push((case, a));
        }
        self.pending.push((s, "on_completion"));
    }

    fn playbook_action(&mut self, block: usize) {
        let sub = format!("playbook--{}", uuid_v4_shaped(self.seed ^ 0xb00c, block as u64));
        let p = self.add(
            "playbook-action",
            json!({"name": format!("Run the forensics sub-playbook ({block})"), "playbook_id": sub}),
        );
        self.resolve(p);
        self.pending.push((p, "on_completion"));
    }

    fn agent_id(&self, which: u64) -> String {
        let kind = match which {
            AGENT_SSH => "ssh",
            AGENT_HTTP => "http-api",
            _ => "individual",
        };
        format!("{kind}--{}", uuid_v4_shaped(self.seed ^ 0xa9e7, which))
    }

    fn document(self, start: usize) -> Value {
        let ids: Vec<String> = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}--{}", s.kind, uuid_v4_shaped(self.seed, i as u64)))
            .collect();
        let mut workflow = Map::new();
        for (i, step) in self.steps.into_iter().enumerate() {
            let mut obj = Map::new();
            obj.insert("type".into(), Value::from(step.kind));
            if let Value::Object(body) = step.body {
                obj.extend(body);
            }
            for (prop, to) in step.refs {
                obj.insert(prop.into(), Value::from(ids[to].clone()));
            }
            for (prop, list) in step.list_refs {
                obj.insert(prop.into(), Value::from(list.iter().map(|&t| ids[t].clone()).collect::<Vec<_>>()));
            }
            if !step.cases.is_empty() {
                let cases: Map<String, Value> =
                    step.cases.into_iter().map(|(case, to)| (case, Value::from(ids[to].clone()))).collect();
                obj.insert("cases".into(), Value::Object(cases));
            }
            workflow.insert(ids[i].clone(), Value::Object(obj));
        }
        let agent = |which: u64| uuid_v4_shaped(self.seed ^ 0xa9e7, which);
        json!({
            "type": "playbook",
            "spec_version": "cacao-2.0",
            "id": format!("playbook--{}", uuid_v4_shaped(self.seed ^ 0x9b00c, 0)),
            "name": format!("Synthetic ransomware response ({} steps)", workflow.len()),
            "description": "Generated for benchmarks and tests: contain, investigate and recover.",
            "playbook_types": ["remediation", "investigation"],
            "created_by": format!("identity--{}", uuid_v4_shaped(self.seed ^ 0x1d, 0)),
            "created": "2025-01-15T09:30:00.000Z",
            "modified": "2025-01-15T09:30:00.000Z",
            "workflow_start": ids[start].clone(),
            "workflow": workflow,
            "agent_definitions": {
                format!("ssh--{}", agent(AGENT_SSH)): {
                    "type": "ssh", "name": "Linux and Windows fleet", "address": {"ipv4": ["10.0.20.15"]}
                },
                format!("http-api--{}", agent(AGENT_HTTP)): {
                    "type": "http-api", "name": "SOAR HTTP API", "address": {"url": ["https://soar.example.org/api"]}
                },
                format!("individual--{}", agent(AGENT_ANALYST)): {
                    "type": "individual", "name": "SOC tier-2 analyst"
                },
            },
        })
    }
}

const AGENT_SSH: u64 = 1;
const AGENT_HTTP: u64 = 2;
const AGENT_ANALYST: u64 = 3;

/// Deterministic pseudo-random numbers (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }
    /// Uniform-ish in 0..n (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A UUID of version 4 and RFC 4122 variant, derived from (seed, n).
pub fn uuid_v4_shaped(seed: u64, n: u64) -> String {
    let hi = mix(seed ^ mix(n.wrapping_add(0x1234_5678)));
    let lo = mix(hi ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cacao::ids;
    use crate::workflow::{Analysis, StepKind, WorkflowGraph};

    #[test]
    fn has_the_requested_number_of_steps_and_valid_ids() {
        for n in [2, 3, 5, 10, 57, 200] {
            let doc = synthetic_playbook(n);
            let wf = doc["workflow"].as_object().unwrap();
            assert_eq!(wf.len(), n, "steps for n = {n}");
            for id in wf.keys() {
                ids::check(id).unwrap_or_else(|e| panic!("{e}"));
            }
            ids::check(doc["id"].as_str().unwrap()).unwrap();
            ids::check(doc["created_by"].as_str().unwrap()).unwrap();
            for agent in doc["agent_definitions"].as_object().unwrap().keys() {
                ids::check(agent).unwrap();
            }
        }
    }

    #[test]
    fn is_deterministic() {
        assert_eq!(synthetic_playbook(120), synthetic_playbook(120));
        assert_ne!(synthetic_playbook_seeded(120, 1), synthetic_playbook_seeded(120, 2));
    }

    #[test]
    fn every_reference_resolves_and_every_step_is_reachable() {
        let doc = synthetic_playbook(200);
        let g = WorkflowGraph::from_document(&doc);
        assert_eq!(g.step_count(), 200);
        assert!(g.graph.node_weights().all(|n| n.kind != StepKind::Missing));
        let a = Analysis::of(&g);
        assert!(a.reachable.iter().all(|&r| r), "every step reachable from the start");
        for c in &a.cycles {
            assert!(crate::workflow::analysis::cycle_has_while(&g, c), "only while loops");
        }
        let kinds: std::collections::HashSet<&str> = g.graph.node_weights().map(|n| n.kind.as_str()).collect();
        for k in [
            "start",
            "end",
            "action",
            "parallel",
            "if-condition",
            "while-condition",
            "switch-condition",
            "playbook-action",
        ] {
            assert!(kinds.contains(k), "a 200-step playbook has a {k} step");
        }
        for step in doc["workflow"].as_object().unwrap().values() {
            if step["type"] == "action" {
                let agent = step["agent"].as_str().unwrap();
                assert!(doc["agent_definitions"].get(agent).is_some(), "agent {agent} is defined");
            }
        }
    }

    #[test]
    fn uuids_are_v4_shaped() {
        for n in 0..200 {
            assert!(ids::valid_uuid(&uuid_v4_shaped(7, n)));
        }
    }
}
