//! The `breachdesk` binary: parse the command line, run it, and turn any
//! error into one clear line on stderr and a non-zero exit.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Tests make durable writes fail on purpose (see durable::fault); only
    // debug builds listen.
    #[cfg(debug_assertions)]
    if let Ok(spec) = std::env::var("BREACHDESK_FAULT") {
        match breachdesk::durable::fault::parse(&spec) {
            Ok(fault) => std::mem::forget(breachdesk::durable::fault::inject(
                std::path::Path::new("/"),
                fault,
            )),
            Err(e) => {
                eprintln!("breachdesk: error: BREACHDESK_FAULT: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Err(message) = breachdesk::cli::check_argument_sizes(std::env::args_os()) {
        eprintln!(
            "breachdesk: error: {}",
            breachdesk::text::one_line(&message)
        );
        return ExitCode::FAILURE;
    }
    let cli = match breachdesk::cli::Cli::try_parse_args() {
        Ok(cli) => cli,
        Err(error) => {
            // Usage errors quote what was typed: shown terminal-safe.
            let text = breachdesk::text::terminal_safe(&error.render().to_string(), true);
            if error.use_stderr() {
                // One line plus a hint, not clap's five.
                let command = usage_command(std::env::args_os());
                eprint!("{}", breachdesk::cli::usage_error(&text, &command));
            } else {
                print!("{text}");
            }
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    // A log only when asked for, and only to a file: the console draws on
    // the terminal. Failing to start it is said here, before any drawing,
    // and does not stop the command.
    if let Some(dir) = cli
        .data_dir
        .clone()
        .or_else(breachdesk::paths::default_data_dir)
        && let Err(message) = breachdesk::logging::init(&dir, cli.verbose)
    {
        eprintln!(
            "breachdesk: warning: {}; logging is off",
            breachdesk::text::one_line(&message)
        );
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "breachdesk started");
    match breachdesk::commands::run(cli, now()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = one_message(&error);
            eprintln!(
                "breachdesk: error: {}",
                breachdesk::text::one_line(&message)
            );
            ExitCode::FAILURE
        }
    }
}

/// `breachdesk SUB` for the hint of a usage error: the first word typed
/// when it names a command, else `breachdesk`.
fn usage_command(args: impl Iterator<Item = std::ffi::OsString>) -> String {
    use clap::CommandFactory;
    let cli = breachdesk::cli::Cli::command();
    args.skip(1)
        .filter_map(|a| a.into_string().ok())
        .find(|a| !a.starts_with('-'))
        .filter(|a| cli.find_subcommand(a).is_some())
        .map_or_else(
            || "breachdesk".to_string(),
            |sub| format!("breachdesk {sub}"),
        )
}

/// The error and its causes as one line, each cause said once: our errors
/// already name their cause, so a cause whose text is already there is not
/// repeated ("Permission denied: Permission denied").
fn one_message(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message.replace(['\n', '\r'], " ")
}

/// The current instant, to the whole second (records stay readable).
fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(0)
}
