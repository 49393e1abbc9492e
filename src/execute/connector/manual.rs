//! The `manual` connector: a person does the step, or decides.
//!
//! The run pauses and asks an [`Operator`] (the question names the run, the step and what to
//! do, with the values written in). The answer is one of approve, deny or a value:
//! - approve: the step succeeded;
//! - deny: the step failed (its `on_failure` path is taken);
//! - a value: the step succeeded and the value is its output, so `out_args` can capture it.
//!
//! Who answers depends on how the engine runs: the durable store's operator waits for an
//! answer written by `cacao-forge runs answer` or the API (and records who answered), `--approve-all`
//! answers every question with approve. A question not answered within its timeout fails the
//! step with a timeout.

use std::sync::Arc;
use std::time::Duration;

use super::{BoxFuture, CommandOutcome, CommandRequest, Connector, ConnectorError, RenderedCommand};

/// What a run asks a person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Question {
    pub run_id: String,
    pub step_instance: String,
    /// Names the question within the run (`<instance>#approval`, `<instance>#0`): an answer
    /// is given to this key (`cacao-forge runs answer RUN KEY ...`).
    pub key: String,
    /// What to do or decide, values written in.
    pub text: String,
    /// Why the engine asks: `manual` (a manual command), `approval` (a destructive step under
    /// the approval policy), `condition` (a free-text condition routed to a person).
    pub reason: String,
    /// How long the run waits.
    pub timeout_ms: u64,
}

/// A person's answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    pub decision: Decision,
    /// Who answered (a user name, `--approve-all`).
    pub by: String,
    /// Free text the person added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Deny,
    Value(String),
}

impl Decision {
    /// `approve`, `deny` or `value: <v>`.
    pub fn describe(&self) -> String {
        match self {
            Decision::Approve => "approve".into(),
            Decision::Deny => "deny".into(),
            Decision::Value(v) => format!("value: {v}"),
        }
    }
}

/// Who answers a run's questions.
pub trait Operator: Send + Sync {
    /// Waits for the answer to `question`; [`ConnectorError::Timeout`] when none comes in time.
    fn ask<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<Answer, ConnectorError>>;
}

/// Answers every question with approve (`--approve-all`).
#[derive(Debug, Clone, Default)]
pub struct ApproveAll;

impl Operator for ApproveAll {
    fn ask<'a>(&'a self, _: &'a Question) -> BoxFuture<'a, Result<Answer, ConnectorError>> {
        Box::pin(async { Ok(Answer { decision: Decision::Approve, by: "--approve-all".into(), note: None }) })
    }
}

/// The manual connector.
#[derive(Clone)]
pub struct ManualConnector {
    pub operator: Arc<dyn Operator>,
}

impl std::fmt::Debug for ManualConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ManualConnector")
    }
}

impl ManualConnector {
    pub fn new(operator: Arc<dyn Operator>) -> ManualConnector {
        ManualConnector { operator }
    }
}

/// The outcome of a step decided by `answer`.
pub fn outcome_of(answer: &Answer) -> CommandOutcome {
    let summary = format!("{} by {}", answer.decision.describe(), answer.by);
    match &answer.decision {
        Decision::Approve => CommandOutcome { success: true, summary, ..CommandOutcome::default() },
        Decision::Deny => CommandOutcome { success: false, summary, ..CommandOutcome::default() },
        Decision::Value(v) => CommandOutcome { success: true, output: v.clone(), summary, ..CommandOutcome::default() },
    }
}

impl Connector for ManualConnector {
    fn command_types(&self) -> &'static [&'static str] {
        &["manual"]
    }

    fn render(&self, request: &CommandRequest) -> Result<RenderedCommand, ConnectorError> {
        let (text, undefined) = request.variables.substitute(&request.command, |_, v| v.to_owned());
        let target = request.target.as_ref().map_or_else(|| "a person".to_owned(), |t| t.describe());
        Ok(RenderedCommand { text, target, undefined })
    }

    fn execute<'a>(&'a self, request: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>> {
        Box::pin(async move {
            let text = self.render(request)?.text;
            let question = Question {
                run_id: request.run_id.clone(),
                step_instance: request.step_instance.clone(),
                key: format!("{}#{}", request.step_instance, request.command_index),
                text,
                reason: "manual".into(),
                timeout_ms: u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX),
            };
            let answer = tokio::time::timeout(request.timeout, self.operator.ask(&question))
                .await
                .map_err(|_| ConnectorError::Timeout(request.timeout))??;
            Ok(outcome_of(&answer))
        })
    }
}

/// An operator that answers from a fixed list, in order (tests and scripted runs).
#[derive(Debug, Default)]
pub struct ScriptedOperator {
    answers: std::sync::Mutex<std::collections::VecDeque<Answer>>,
    asked: std::sync::Mutex<Vec<Question>>,
}

impl ScriptedOperator {
    pub fn new(answers: impl IntoIterator<Item = Decision>) -> ScriptedOperator {
        let answers =
            answers.into_iter().map(|decision| Answer { decision, by: "script".into(), note: None }).collect();
        ScriptedOperator { answers: std::sync::Mutex::new(answers), asked: Default::default() }
    }

    /// The questions asked so far.
    pub fn asked(&self) -> Vec<Question> {
        self.asked.lock().map(|q| q.clone()).unwrap_or_default()
    }
}

impl Operator for ScriptedOperator {
    fn ask<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<Answer, ConnectorError>> {
        Box::pin(async move {
            if let Ok(mut asked) = self.asked.lock() {
                asked.push(question.clone());
            }
            let next = self.answers.lock().ok().and_then(|mut a| a.pop_front());
            match next {
                Some(a) => Ok(a),
                // Nobody is left to answer: wait out the question's timeout like a person who
                // never comes.
                None => {
                    tokio::time::sleep(Duration::from_millis(question.timeout_ms)).await;
                    Err(ConnectorError::Timeout(Duration::from_millis(question.timeout_ms)))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::connector::testing::{block_on, request};

    #[test]
    fn answers_decide_the_outcome_and_the_question_shows_values() {
        let op =
            Arc::new(ScriptedOperator::new([Decision::Approve, Decision::Deny, Decision::Value("10.0.0.9".into())]));
        let c = ManualConnector::new(op.clone());
        let req = request("manual", "Isolate host __h__:value", &[("__h__", "ws-17")]);
        let outs: Vec<CommandOutcome> = (0..3).map(|_| block_on(c.execute(&req)).unwrap()).collect();
        assert!(outs[0].success && !outs[1].success && outs[2].success);
        assert_eq!(outs[2].output, "10.0.0.9");
        assert_eq!(outs[1].summary, "deny by script");
        assert_eq!(op.asked()[0].text, "Isolate host ws-17");
        assert_eq!(op.asked()[0].reason, "manual");
    }

    #[test]
    fn an_unanswered_question_times_out() {
        let c = ManualConnector::new(Arc::new(ScriptedOperator::new([])));
        let mut req = request("manual", "Call the owner", &[]);
        req.timeout = Duration::from_millis(50);
        let err = block_on(c.execute(&req)).unwrap_err();
        assert!(matches!(err, ConnectorError::Timeout(_)), "{err}");
    }
}
