//! `cacao-forge mitre` (issue 3, in progress).

use super::Outcome;
use clap::Args;

#[derive(Debug, Args)]
pub struct MitreArgs {}

pub fn run(_args: MitreArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("`mitre` is not built yet")
}
