//! Helpers for the connectors' unit tests: one request builder, one runtime.

use std::time::Duration;

use super::CommandRequest;
use crate::execute::variables::Variables;

/// A request for `command` of `command_type`, no target, with `vars` defined (as strings).
pub(crate) fn request(command_type: &str, command: &str, vars: &[(&str, &str)]) -> CommandRequest {
    let mut variables = Variables::default();
    for (k, v) in vars {
        variables.set(k, v).expect("test variable names are valid");
    }
    CommandRequest {
        run_id: "run-1".into(),
        step_id: "action--1".into(),
        step_instance: "action--1".into(),
        command_index: 0,
        idempotency_key: "run-1/action--1/0".into(),
        command_type: command_type.into(),
        command: command.into(),
        headers: Default::default(),
        content: None,
        version: None,
        target: None,
        variables,
        timeout: Duration::from_secs(20),
        output_limit: 64 * 1024,
    }
}

/// Runs `f` on a fresh current-thread runtime.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}
