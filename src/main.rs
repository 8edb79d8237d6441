//! The `breachdesk` binary: parse the command line, run it, and turn any
//! error into one clear line on stderr and a non-zero exit.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    if let Err(message) = breachdesk::cli::check_argument_sizes(std::env::args_os()) {
        eprintln!(
            "breachdesk: error: {}",
            breachdesk::text::one_line(&message)
        );
        return ExitCode::FAILURE;
    }
    let cli = match breachdesk::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Usage errors quote what was typed: shown terminal-safe.
            let text = breachdesk::text::terminal_safe(&error.render().to_string(), true);
            if error.use_stderr() {
                eprint!("{text}");
            } else {
                print!("{text}");
            }
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    match breachdesk::commands::run(cli, now()) {
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

/// The current instant, to the whole second (records stay readable).
fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(0)
}
