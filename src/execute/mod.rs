//! Playbook execution (pipeline stage 8). Built in parts; so far:
//!
//! - [`condition`]: the condition language of `if-condition` and `while-condition` steps: a
//!   parser that reports errors with byte positions (free text is rejected), and an evaluator over
//!   playbook variables.
//! - [`variables`]: playbook and step variables, scoping, captured values, and substitution of
//!   `__name__:value` references through a connector-chosen renderer.

pub mod condition;
pub mod connector;
pub mod variables;

pub use condition::{Condition, ConditionError, EvalError};
pub use connector::{CommandOutcome, CommandRequest, Connector, ConnectorError, Connectors, RenderedCommand, Target};
pub use variables::{Variable, VariableError, Variables};
