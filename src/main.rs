//! The `breachdesk` binary: parse the command line, run it, and turn any
//! error into one clear line on stderr and a non-zero exit.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = breachdesk::cli::Cli::parse();
    match breachdesk::commands::run(cli, chrono::Utc::now()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = format!("{error:#}").replace(['\n', '\r'], " ");
            eprintln!(
                "breachdesk: error: {}",
                breachdesk::text::one_line(&message)
            );
            ExitCode::FAILURE
        }
    }
}
