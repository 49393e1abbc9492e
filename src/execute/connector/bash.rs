//! The `bash` connector: runs a command with the local bash.
//!
//! Variable values never pass through bash's parser: each value is put in an environment
//! variable (`CACAO_VAR_1`, ...) and the reference is replaced by an expansion of it that fits
//! its place in the script ([`shell::substitute_posix`]): `"${CACAO_VAR_1}"` outside quotes,
//! `${CACAO_VAR_1}` inside double quotes, `'"${CACAO_VAR_1}"'` inside single quotes. Whatever a
//! value holds (`'; rm -rf / #`, `$(id)`, newlines) it is one word of data.
//!
//! The command also sees `CACAO_IDEMPOTENCY_KEY`, `CACAO_RUN_ID` and `CACAO_STEP` so that a
//! script can make itself safe to run again after a crash (see the engine's resume rules).

use super::process::{run_process, ProcessConfig, ProcessSpec};
use super::shell::{posix_literal, substitute_posix, QuoteState};
use super::{BoxFuture, CommandOutcome, CommandRequest, Connector, ConnectorError, RenderedCommand};

/// The bash connector; its config is the interpreter, environment and working directory.
#[derive(Debug, Clone, Default)]
pub struct BashConnector {
    pub config: ProcessConfig,
}

impl BashConnector {
    pub fn new(config: ProcessConfig) -> BashConnector {
        BashConnector { config }
    }

    /// The script as it runs, and the environment that carries the values.
    fn script(&self, request: &CommandRequest) -> (String, Vec<(String, String)>, Vec<String>) {
        let mut env: Vec<(String, String)> = Vec::new();
        let (script, undefined) = substitute_posix(&request.variables, &request.command, |state, name, value| {
            let slot = match env.iter().position(|(_, v)| v == value) {
                Some(i) => i + 1,
                None => {
                    env.push((name.to_owned(), value.to_owned()));
                    env.len()
                }
            };
            match state {
                QuoteState::Unquoted => format!("\"${{CACAO_VAR_{slot}}}\""),
                QuoteState::Double => format!("${{CACAO_VAR_{slot}}}"),
                QuoteState::Single => format!("'\"${{CACAO_VAR_{slot}}}\"'"),
            }
        });
        let env = env.into_iter().enumerate().map(|(i, (_, v))| (format!("CACAO_VAR_{}", i + 1), v)).collect();
        (script, env, undefined)
    }
}

impl Connector for BashConnector {
    fn command_types(&self) -> &'static [&'static str] {
        &["bash"]
    }

    fn render(&self, request: &CommandRequest) -> Result<RenderedCommand, ConnectorError> {
        let (text, undefined) = substitute_posix(&request.variables, &request.command, |s, _, v| posix_literal(s, v));
        Ok(RenderedCommand { text, target: "local bash".into(), undefined })
    }

    fn execute<'a>(&'a self, request: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>> {
        Box::pin(async move {
            let (script, mut env, undefined) = self.script(request);
            if let Some(name) = undefined.first() {
                return Err(ConnectorError::Invalid(format!("the command uses {name}, which is not defined")));
            }
            env.push(("CACAO_IDEMPOTENCY_KEY".into(), request.idempotency_key.clone()));
            env.push(("CACAO_RUN_ID".into(), request.run_id.clone()));
            env.push(("CACAO_STEP".into(), request.step_instance.clone()));
            let spec = ProcessSpec {
                config: &self.config,
                args: vec!["--noprofile".into(), "--norc".into(), "-c".into(), script],
                env,
                stdin: None,
                timeout: request.timeout,
                output_limit: request.output_limit,
            };
            run_process(spec).await
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::execute::variables::Variables;

    pub(crate) fn request(command_type: &str, command: &str, vars: &[(&str, &str)]) -> CommandRequest {
        let mut variables = Variables::default();
        for (k, v) in vars {
            variables.set(k, v).unwrap();
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

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
    }

    const HOSTILE: &str = "x'; touch /tmp/cacao-pwned; echo \"$(id)`id`\" \\ \n$HOME *";

    #[test]
    fn hostile_values_stay_data_in_every_quoting() {
        let c = BashConnector::default();
        let req = request(
            "bash",
            "printf '%s|' __v__:value \"__v__:value\" 'single __v__:value' \"$CACAO_IDEMPOTENCY_KEY\"",
            &[("__v__", HOSTILE)],
        );
        let out = block_on(c.execute(&req)).unwrap();
        assert!(out.success, "{out:?}");
        assert_eq!(out.output, format!("{HOSTILE}|{HOSTILE}|single {HOSTILE}|run-1/action--1/0|"));
        assert!(!std::path::Path::new("/tmp/cacao-pwned").exists());
    }

    #[test]
    fn render_shows_values_quoted_as_the_script_reads_them() {
        let c = BashConnector::default();
        let req = request("bash", "iptables -A INPUT -s __ip__:value -j DROP", &[("__ip__", "203.0.113.9")]);
        let r = c.render(&req).unwrap();
        assert_eq!(r.text, "iptables -A INPUT -s '203.0.113.9' -j DROP");
        let (script, env, _) = c.script(&req);
        assert_eq!(script, "iptables -A INPUT -s \"${CACAO_VAR_1}\" -j DROP");
        assert_eq!(env, [("CACAO_VAR_1".to_owned(), "203.0.113.9".to_owned())]);
    }

    #[test]
    fn undefined_variables_fail_before_anything_runs() {
        let c = BashConnector::default();
        let req = request("bash", "rm -f __path__:value", &[]);
        let err = block_on(c.execute(&req)).unwrap_err();
        assert_eq!(err.to_string(), "the command uses __path__, which is not defined");
        assert_eq!(c.render(&req).unwrap().undefined, ["__path__"]);
    }
}
