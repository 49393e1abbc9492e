//! The events of a run: the durable log the engine writes before it acts, the audit trail a
//! person reads, and what a resumed run replays.
//!
//! Every event names the step *instance* it belongs to (`action--a`, `while--w#2/action--a`,
//! `playbook-action--p/action--b`): a step runs once per instance, which is what "zero steps lost
//! or repeated" is counted against.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::connector::manual::{Answer, Question};
use super::connector::{CommandOutcome, RenderedCommand};

/// One thing that happened in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run began: who started it and with what.
    RunStarted {
        playbook_id: String,
        playbook_name: String,
        started_by: String,
        /// `--var` values given at the start.
        variables: IndexMap<String, String>,
    },
    /// A resumed run took over after its process stopped.
    RunResumed { resumed_by: String, pid: u32 },
    /// A step instance began (written for steps that act on the world; pure steps only log
    /// their end).
    StepStarted { instance: String, step_id: String, step_type: String, name: String },
    /// A command is about to run; the log is flushed to disk before it does.
    CommandStarted {
        instance: String,
        index: usize,
        attempt: u32,
        command_type: String,
        idempotency_key: String,
        rendered: RenderedCommand,
    },
    /// A command ran (successfully or not).
    CommandFinished { instance: String, index: usize, attempt: u32, outcome: CommandOutcome, duration_ms: u64 },
    /// A command could not run.
    CommandFailed { instance: String, index: usize, attempt: u32, error: String, transient: bool, duration_ms: u64 },
    /// The run asks a person (manual step, approval, free-text condition).
    Asked { instance: String, key: String, question: Question },
    /// The answer, and who gave it.
    Answered { instance: String, key: String, answer: Answer },
    /// A condition was evaluated (if, while, switch) and where it led.
    Decided { instance: String, condition: String, value: String, next: Option<String> },
    /// A step instance ended.
    StepFinished {
        instance: String,
        step_id: String,
        success: bool,
        /// Why it failed, or what it did.
        detail: String,
        /// Variables it set (captured out_args, sub-playbook results).
        set: IndexMap<String, String>,
    },
    /// A step was left out by policy, or because the run stopped.
    StepSkipped { instance: String, step_id: String, reason: String },
    /// The run ended.
    RunFinished { status: RunStatus, detail: String },
}

impl Event {
    /// The step instance the event is about, if any.
    pub fn instance(&self) -> Option<&str> {
        match self {
            Event::StepStarted { instance, .. }
            | Event::CommandStarted { instance, .. }
            | Event::CommandFinished { instance, .. }
            | Event::CommandFailed { instance, .. }
            | Event::Asked { instance, .. }
            | Event::Answered { instance, .. }
            | Event::Decided { instance, .. }
            | Event::StepFinished { instance, .. }
            | Event::StepSkipped { instance, .. } => Some(instance),
            Event::RunStarted { .. } | Event::RunResumed { .. } | Event::RunFinished { .. } => None,
        }
    }

    /// The event's name as stored (`step_finished`).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "run_started",
            Event::RunResumed { .. } => "run_resumed",
            Event::StepStarted { .. } => "step_started",
            Event::CommandStarted { .. } => "command_started",
            Event::CommandFinished { .. } => "command_finished",
            Event::CommandFailed { .. } => "command_failed",
            Event::Asked { .. } => "asked",
            Event::Answered { .. } => "answered",
            Event::Decided { .. } => "decided",
            Event::StepFinished { .. } => "step_finished",
            Event::StepSkipped { .. } => "step_skipped",
            Event::RunFinished { .. } => "run_finished",
        }
    }

    /// One line for live progress and `runs show`.
    pub fn describe(&self) -> String {
        match self {
            Event::RunStarted { playbook_name, started_by, .. } => {
                format!("run of `{playbook_name}` started by {started_by}")
            }
            Event::RunResumed { resumed_by, pid } => format!("resumed by {resumed_by} (pid {pid})"),
            Event::StepStarted { instance, step_type, name, .. } => format!("{instance}: {step_type} `{name}` started"),
            Event::CommandStarted { instance, index, attempt, rendered, .. } => {
                let again = if *attempt > 1 { format!(" (attempt {attempt})") } else { String::new() };
                format!("{instance}: command {index}{again} on {}: {}", rendered.target, one_line(&rendered.text))
            }
            Event::CommandFinished { instance, index, outcome, duration_ms, .. } => {
                format!("{instance}: command {index} {} in {duration_ms} ms", outcome.summary)
            }
            Event::CommandFailed { instance, index, error, .. } => {
                format!("{instance}: command {index} failed: {error}")
            }
            Event::Asked { instance, question, .. } => {
                format!("{instance}: waiting for a person: {}", one_line(&question.text))
            }
            Event::Answered { instance, answer, .. } => {
                format!("{instance}: answered {} by {}", answer.decision.describe(), answer.by)
            }
            Event::Decided { instance, condition, value, next } => {
                format!("{instance}: `{condition}` is {value} -> {}", next.as_deref().unwrap_or("(nothing)"))
            }
            Event::StepFinished { instance, success, detail, .. } => {
                format!("{instance}: {} {detail}", if *success { "succeeded" } else { "FAILED" })
            }
            Event::StepSkipped { instance, reason, .. } => format!("{instance}: skipped: {reason}"),
            Event::RunFinished { status, detail } => format!("run {}: {detail}", status.as_str()),
        }
    }
}

/// `text` on one line, cut at 200 characters, for progress output.
fn one_line(text: &str) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect();
    if text.chars().count() > 200 {
        format!("{flat}...")
    } else {
        flat
    }
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Waiting for a person's answer.
    Waiting,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Waiting => "waiting",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        [RunStatus::Running, RunStatus::Waiting, RunStatus::Succeeded, RunStatus::Failed, RunStatus::Cancelled]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// Whether the run has ended for good.
    pub fn is_final(&self) -> bool {
        matches!(self, RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_json_with_their_kind() {
        let e = Event::StepFinished {
            instance: "while--w#2/action--a".into(),
            step_id: "action--a".into(),
            success: true,
            detail: "exit 0".into(),
            set: [("__x__".to_owned(), "1".to_owned())].into_iter().collect(),
        };
        let text = serde_json::to_string(&e).unwrap();
        assert!(text.starts_with("{\"event\":\"step_finished\""), "{text}");
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), e);
        assert_eq!(e.kind(), "step_finished");
        assert_eq!(e.instance(), Some("while--w#2/action--a"));
    }

    #[test]
    fn statuses_parse_back() {
        for s in ["running", "waiting", "succeeded", "failed", "cancelled"] {
            assert_eq!(RunStatus::parse(s).unwrap().as_str(), s);
        }
        assert!(RunStatus::parse("done").is_none());
        assert!(RunStatus::Cancelled.is_final() && !RunStatus::Waiting.is_final());
    }
}
