//! Carrying out a command line: set up the desk, do the thing, print the
//! result. Errors come back as one line for `main` to print.
//!
//! One module per command family, each a few lines per command that call
//! one [`Desk`](crate::desk::Desk) method and print what it did:
//! [`incident`] (changes to one incident), [`show`] (list, show, export,
//! evidence), [`contract`] (opening on the other party's notice, data
//! requests, Security Tests), [`notice`] (the register and 8.1 notifications
//! made by phone), [`team`] (roles and handovers), [`mail`] (notices by email and the outbox), [`calendar`],
//! [`config`] (and playbooks), [`upkeep`] (audit log, quarantine, demo),
//! [`sync`] (team sync through git), [`docs`] (completions and the manual
//! page) and [`merge`] (the git merge driver for records). Nothing here is used by the
//! console: what both need lives in the library.

mod calendar;
mod common;
mod config;
mod contract;
mod docs;
mod incident;
mod mail;
mod merge;
mod notice;
mod show;
mod sync;
mod team;
mod upkeep;

pub use show::summary_json;

use crate::cli::{Cli, Command, OutboxCommand, OutboxFormat};
use crate::desk::Listing;
use crate::setup::{Setup, Where};
use crate::text::SafeWriter;
use anyhow::Result;
use chrono::{DateTime, Utc};

/// Runs one command. `now` is read once, by the caller.
pub fn run(cli: Cli, now: DateTime<Utc>) -> Result<()> {
    // Generated from the command line's own definition: no config needed.
    match cli.command {
        Some(Command::Completions { shell }) => return docs::completions(shell),
        Some(Command::Man) => return docs::man_page(),
        // Run by git in the repository: no data directory, no config.
        Some(Command::MergeRecord {
            base,
            ours,
            theirs,
            path,
        }) => return merge::merge_record(&base, &ours, &theirs, &path),
        _ => {}
    }
    let setup = Setup::resolve(Where {
        data_dir: cli.data_dir,
        config: cli.config,
        config_named: cli.config_typed,
        config_to_be_written: matches!(
            cli.command,
            Some(Command::Config(crate::cli::ConfigCommand::Init))
        ),
        playbooks: cli.playbooks,
    })?;
    let setup = &setup;
    // Everything printed passes through a writer that shows control
    // characters as visible text: nothing from a record, a file name or a
    // server reply reaches the terminal raw.
    let out = &mut SafeWriter::new(std::io::stdout().lock());
    match cli.command.unwrap_or(Command::Console) {
        Command::Console => crate::tui::run_console(setup.desk()?, setup.templates_dir()),
        Command::New(args) => contract::new(setup, args, now, out),
        Command::Log { id, text } => incident::log(setup, &id, &text, now, out),
        Command::Assign(args) => team::assign(setup, args, now, out),
        Command::Handover(args) => team::handover(setup, args, now, out),
        Command::List {
            format,
            all,
            closed,
            check,
        } => {
            let which = match (all, closed) {
                (_, true) => Listing::Closed,
                (true, false) => Listing::All,
                (false, false) => Listing::Board,
            };
            show::list(setup, format, which, check, now, out)
        }
        Command::Show { id, format } => show::show(setup, &id, format, now, out),
        Command::Edit(args) => incident::edit(setup, *args, now, out),
        Command::Notify(args) => notice::notify(setup, args, now, out),
        Command::Report { id, cc, yes } => mail::report(setup, &id, &cc, yes, now, out),
        Command::Supply {
            id,
            request,
            attach,
            cc,
            yes,
        } => mail::supply(setup, &id, &request, attach, &cc, yes, now, out),
        Command::Update {
            id,
            message,
            cc,
            yes,
        } => mail::update(setup, &id, &message, &cc, yes, now, out),
        Command::Outbox(OutboxCommand::List { format }) => {
            mail::outbox_list(setup, format == OutboxFormat::Json, now, out)
        }
        Command::Outbox(OutboxCommand::Retry { id }) => {
            mail::outbox_retry(setup, id.as_deref(), now, out)
        }
        Command::Outbox(OutboxCommand::Cancel { id, reason }) => {
            mail::outbox_cancel(setup, &id, &reason, now, out)
        }
        Command::Request(cmd) => contract::request(setup, cmd, now, out),
        Command::RootCause(args) => incident::root_cause(setup, args, now, out),
        Command::Mitigation(args) => incident::mitigation(setup, args, now, out),
        Command::Isms {
            id,
            required,
            description,
        } => incident::isms(setup, &id, required, &description, now, out),
        Command::Step(args) => incident::step(setup, args, now, out),
        Command::Close {
            id,
            reason,
            not_a_breach,
        } => incident::close(setup, &id, reason, not_a_breach, now, out),
        Command::RcaRequired { id, value, note } => {
            incident::rca_required(setup, &id, value, note, now, out)
        }
        Command::SecurityTest(cmd) => contract::security_test(setup, cmd, now, out),
        Command::Notice(cmd) => notice::notice(setup, cmd, now, out),
        Command::Reopen { id, reason } => incident::reopen(setup, &id, &reason, now, out),
        Command::Evidence { id } => show::evidence(setup, &id, out),
        Command::Export {
            id,
            format,
            output,
            include_paths,
        } => show::export(setup, &id, format, output, include_paths, now, out),
        Command::Audit(cmd) => upkeep::audit(setup, cmd, now, out),
        Command::Quarantine(cmd) => upkeep::quarantine(setup, cmd, now, out),
        Command::Playbook(cmd) => config::playbook(setup, cmd, out),
        Command::Holidays { division, year } => calendar::holidays(setup, division, year, out),
        Command::Due {
            from,
            working_days,
            hours,
            division,
        } => calendar::due(setup, &from, working_days, hours, division, now, out),
        Command::Workdays { from, to, division } => {
            calendar::workdays(setup, &from, &to, division, out)
        }
        Command::Config(cmd) => config::config(setup, cmd, out),
        Command::Watch { once } => crate::watch::run(setup, once, now, out),
        Command::Sync { command } => sync::sync(setup, command, now, out),
        Command::Completions { .. } | Command::Man | Command::MergeRecord { .. } => {
            unreachable!("handled above")
        }
        Command::Demo {
            incidents,
            open,
            seed,
            force,
        } => upkeep::demo(setup, incidents, open, seed, force, now, out),
    }
}
