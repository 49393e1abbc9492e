//! The `powershell` connector: runs a command with PowerShell (`pwsh` by default; set the
//! program to `powershell.exe` on Windows PowerShell 5).
//!
//! As with bash, values travel in environment variables: a reference becomes `$env:CACAO_VAR_1`
//! outside quotes (PowerShell passes a variable's value as one argument and never parses it) and
//! `$($env:CACAO_VAR_1)` inside double quotes. Single-quoted PowerShell strings expand nothing,
//! so a reference inside one is refused with a clear error rather than silently left as text.
//! The script is passed with `-Command -` on stdin, so its length is not bound by the command
//! line and it never appears in the process list.

use super::process::{run_process, ProcessConfig, ProcessSpec};
use super::shell::{powershell_literal, substitute_powershell, QuoteState};
use super::{BoxFuture, CommandOutcome, CommandRequest, Connector, ConnectorError, RenderedCommand};

/// The powershell connector.
#[derive(Debug, Clone)]
pub struct PowershellConnector {
    pub config: ProcessConfig,
}

impl Default for PowershellConnector {
    fn default() -> PowershellConnector {
        PowershellConnector { config: ProcessConfig::with_program("pwsh") }
    }
}

impl PowershellConnector {
    pub fn new(config: ProcessConfig) -> PowershellConnector {
        PowershellConnector { config }
    }

    fn script(&self, request: &CommandRequest) -> Result<(String, Vec<(String, String)>), ConnectorError> {
        let mut env: Vec<(String, String)> = Vec::new();
        let mut single_quoted: Option<String> = None;
        let (script, undefined) = substitute_powershell(&request.variables, &request.command, |state, name, value| {
            env.push(("".into(), value.to_owned()));
            let slot = env.len();
            match state {
                QuoteState::Unquoted => format!("$env:CACAO_VAR_{slot}"),
                QuoteState::Double => format!("$($env:CACAO_VAR_{slot})"),
                QuoteState::Single => {
                    single_quoted.get_or_insert_with(|| name.to_owned());
                    String::new()
                }
            }
        });
        if let Some(name) = undefined.first() {
            return Err(ConnectorError::Invalid(format!("the command uses {name}, which is not defined")));
        }
        if let Some(name) = single_quoted {
            return Err(ConnectorError::Invalid(format!(
                "{name} is inside a single-quoted PowerShell string, which cannot expand it safely; use double quotes"
            )));
        }
        let env = env.into_iter().enumerate().map(|(i, (_, v))| (format!("CACAO_VAR_{}", i + 1), v)).collect();
        Ok((script, env))
    }
}

impl Connector for PowershellConnector {
    fn command_types(&self) -> &'static [&'static str] {
        &["powershell"]
    }

    fn render(&self, request: &CommandRequest) -> Result<RenderedCommand, ConnectorError> {
        let (text, undefined) =
            substitute_powershell(&request.variables, &request.command, |s, _, v| powershell_literal(s, v));
        Ok(RenderedCommand { text, target: "local powershell".into(), undefined })
    }

    fn execute<'a>(&'a self, request: &'a CommandRequest) -> BoxFuture<'a, Result<CommandOutcome, ConnectorError>> {
        Box::pin(async move {
            let (script, mut env) = self.script(request)?;
            env.push(("CACAO_IDEMPOTENCY_KEY".into(), request.idempotency_key.clone()));
            env.push(("CACAO_RUN_ID".into(), request.run_id.clone()));
            env.push(("CACAO_STEP".into(), request.step_instance.clone()));
            let spec = ProcessSpec {
                config: &self.config,
                args: ["-NoLogo", "-NoProfile", "-NonInteractive", "-Command", "-"].map(str::to_owned).to_vec(),
                env,
                stdin: Some(script.into_bytes()),
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

    #[test]
    fn values_become_environment_expansions() {
        let c = PowershellConnector::default();
        let req = request(
            "powershell",
            "Stop-Process -Id __pid__:value -Force; Write-Output \"killed __pid__:value\"",
            &[("__pid__", "6412; Remove-Item C:\\ -Recurse")],
        );
        let (script, env) = c.script(&req).unwrap();
        assert_eq!(script, "Stop-Process -Id $env:CACAO_VAR_1 -Force; Write-Output \"killed $($env:CACAO_VAR_2)\"");
        assert_eq!(env[0], ("CACAO_VAR_1".to_owned(), "6412; Remove-Item C:\\ -Recurse".to_owned()));
        let shown = c.render(&req).unwrap().text;
        assert_eq!(shown, "Stop-Process -Id '6412; Remove-Item C:\\ -Recurse' -Force; Write-Output \"killed 6412; Remove-Item C:\\ -Recurse\"");
    }

    #[test]
    fn single_quoted_references_are_refused() {
        let c = PowershellConnector::default();
        let req = request("powershell", "Write-Output 'user __u__:value'", &[("__u__", "bob")]);
        let err = c.script(&req).unwrap_err();
        assert!(err.to_string().contains("single-quoted PowerShell string"), "{err}");
    }

    /// PowerShell is rarely installed on Linux CI; a stand-in interpreter checks what the
    /// connector hands over: the arguments, the script on stdin and the values in the environment.
    #[test]
    fn the_script_goes_on_stdin_with_values_in_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("pwsh");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho \"args: $*\"\necho \"var: $CACAO_VAR_1\"\necho \"key: $CACAO_IDEMPOTENCY_KEY\"\ncat\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let c = PowershellConnector::new(ProcessConfig::with_program(fake.to_str().unwrap()));
        let req = request("powershell", "Get-Process -Id __pid__", &[("__pid__", "42")]);
        let out = block_on(c.execute(&req)).unwrap();
        assert!(out.success, "{out:?}");
        assert_eq!(
            out.output,
            "args: -NoLogo -NoProfile -NonInteractive -Command -\nvar: 42\nkey: run-1/action--1/0\nGet-Process -Id $env:CACAO_VAR_1"
        );
    }
}
