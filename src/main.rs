//! The `cacao-forge` binary: parse the command line, call one stage of the library, print.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    cli::main()
}
