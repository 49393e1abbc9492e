//! The `bash` connector: runs a command with the local bash.
//!
//! Variable values never pass through bash's parser: each value is put in an environment
//! variable (`CACAO_VAR_1`, ...) and the reference is replaced by an expansion of it that fits
//! its place in the script ([`super::shell::substitute_posix`]): `"${CACAO_VAR_1}"` outside
//! quotes, `${CACAO_VAR_1}` inside double quotes, `'"${CACAO_VAR_1}"'` inside single quotes.
//! Whatever a value holds (`'; rm -rf / #`, `$(id)`, newlines) it is one word of data; places
//! where no quoting is sound (here-documents, backquotes, arithmetic) are refused.
//!
//! The command also sees `CACAO_IDEMPOTENCY_KEY`, `CACAO_RUN_ID` and `CACAO_STEP` so that a
//! script can make itself safe to run again after a crash (see the engine's resume rules).

use super::process::{run_process, ProcessConfig, ProcessSpec};
use super::shell::{posix_literal, substitute_posix, PosixContext};
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

    /// The script as it runs, the environment that carries the values, and the names used but
    /// not defined.
    fn script(&self, request: &CommandRequest) -> Result<Script, ConnectorError> {
        let mut env: Vec<String> = Vec::new();
        let sub = substitute_posix(&request.variables, &request.command, |context, _, value| {
            let slot = match env.iter().position(|v| v == value) {
                Some(i) => i + 1,
                None => {
                    env.push(value.to_owned());
                    env.len()
                }
            };
            match context {
                PosixContext::Unquoted => format!("\"${{CACAO_VAR_{slot}}}\""),
                PosixContext::Double => format!("${{CACAO_VAR_{slot}}}"),
                PosixContext::Single => format!("'\"${{CACAO_VAR_{slot}}}\"'"),
                PosixContext::AnsiC => format!("'\"${{CACAO_VAR_{slot}}}\"$'"),
                // A comment runs nothing: the value itself, on one line.
                PosixContext::Comment => value.replace('\n', " "),
            }
        })
        .map_err(|e| ConnectorError::Invalid(format!("bash command: {e}")))?;
        let env = env.into_iter().enumerate().map(|(i, v)| (format!("CACAO_VAR_{}", i + 1), v)).collect();
        Ok(Script { text: sub.text, env, undefined: sub.undefined })
    }
}

/// A bash script with its values moved into the environment.
struct Script {
    text: String,
    env: Vec<(String, String)>,
    undefined: Vec<String>,
}

impl Connector for BashConnector {
    fn command_types(&self) -> &'static [&'static str] {
        &["bash"]
    }

    fn render(&self, request: &CommandRequest) -> Result<RenderedCommand, ConnectorError> {
        let sub = substitute_posix(&request.variables, &request.command, posix_literal)
            .map_err(|e| ConnectorError::Invalid(format!("bash command: {e}")))?;
        Ok(RenderedCommand { text: sub.text, target: "local bash".into(), undefined: sub.undefined })
    }

    fn execute<'a>(&'a self, request: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>> {
        Box::pin(async move {
            let Script { text: script, mut env, undefined } = self.script(request)?;
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
mod tests {
    use super::*;
    use crate::execute::connector::testing::{block_on, request};

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
        let Script { text: script, env, .. } = c.script(&req).unwrap();
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
