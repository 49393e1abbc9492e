//! Playbook execution (pipeline stage 8). Built in parts; so far:
//!
//! - The condition language of `if-condition` and `while-condition` steps lives in
//!   [`crate::cacao::condition`] (validation rejects free-text conditions with it).
//! - [`variables`]: playbook and step variables, scoping, captured values, and substitution of
//!   `__name__:value` references through a connector-chosen renderer.

pub mod bundle;
pub mod connector;
pub mod engine;
pub mod event;
pub mod policy;
pub mod store;
pub mod variables;

pub use crate::cacao::condition::{Condition, ConditionError, EvalError};
pub use connector::{CommandOutcome, CommandRequest, Connector, ConnectorError, Connectors, RenderedCommand, Target};
pub use variables::{Variable, VariableError, Variables};
