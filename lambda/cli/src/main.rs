//! `maestro`: CryptoMaestro's local command line (see `maestro --help`).

use clap::Parser;
use maestro_cli::commands::{Cli, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    // clap exits with 2 on a usage error and 0 for --help/--version.
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_closed_pipe() {
                eprintln!("error: {e}");
            }
            e.exit_code()
        }
    }
}
