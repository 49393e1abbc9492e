//! `cacao-forge intake` (issue 3, in progress).

use super::Outcome;
use clap::Args;

#[derive(Debug, Args)]
pub struct IntakeArgs {}

pub fn run(_args: IntakeArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`intake` is not built yet")
}
