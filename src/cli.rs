//! The command line: what a responder or an auditor's script can type.
//! The commands' own arguments are grouped by family in [`incident`],
//! [`contract`] and [`upkeep`]; [`choice`] lets help and completions list
//! the domain's named values.

mod choice;
mod contract;
mod incident;
mod sync;
mod team;
mod upkeep;

pub use choice::{Choice, choice};
pub use contract::{
    AddRequestArgs, EndRequestArgs, NoticeCommand, NoticeListFormat, RequestCommand,
    SecurityTestCommand,
};
pub use incident::{
    EditArgs, ExportFormat, ListFormat, MitigationArgs, NewArgs, NotifyArgs, RootCauseArgs,
    ShowFormat, StepArgs,
};
pub use sync::SyncCommand;
pub use team::{AssignArgs, HandoverArgs, HandoverCommand};
pub use upkeep::{
    AuditCommand, CompletionShell, ConfigCommand, OutboxCommand, OutboxFormat, PlaybookCommand,
    QuarantineCommand, VerifyFormat,
};

use crate::domain::calendar::Division;
use crate::domain::incident::RcaRequired;
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// The longest single argument accepted (64 KiB): a title, a log entry or
/// an analysis fits many times over; a 1 MB paste is refused at once.
pub const MAX_ARGUMENT_BYTES: usize = 64 * 1024;
/// The most all arguments together may hold (256 KiB).
pub const MAX_ARGUMENTS_TOTAL_BYTES: usize = 256 * 1024;

/// Refuses over-long arguments before anything else is done, naming the
/// argument by position and size (its text is not echoed).
pub fn check_argument_sizes(args: impl IntoIterator<Item = OsString>) -> Result<(), String> {
    let mut total = 0usize;
    for (n, arg) in args.into_iter().enumerate().skip(1) {
        let len = arg.len();
        if len > MAX_ARGUMENT_BYTES {
            return Err(format!(
                "argument {n} is {len} bytes long; at most {MAX_ARGUMENT_BYTES} bytes are accepted (put long text in a file and attach it as evidence)"
            ));
        }
        total += len;
        if total > MAX_ARGUMENTS_TOTAL_BYTES {
            return Err(format!(
                "the arguments are more than {MAX_ARGUMENTS_TOTAL_BYTES} bytes long together (put long text in a file and attach it as evidence)"
            ));
        }
    }
    Ok(())
}

/// A clap usage error as one line plus a hint: the error itself, then
/// clap's tip if it has one (`a similar argument exists: '--title'`), else
/// where the options are listed. `rendered` is clap's rendering.
pub fn usage_error(rendered: &str, command: &str) -> String {
    let mut lines = rendered.lines().map(str::trim).skip_while(|l| l.is_empty());
    let mut first = lines
        .next()
        .unwrap_or("invalid command line")
        .trim_start_matches("error: ")
        .to_string();
    // "the following required arguments were not provided:" and a list.
    if first.ends_with(':') {
        let listed: Vec<&str> = lines.take_while(|l| !l.is_empty()).collect();
        first = format!("{} {}", first, listed.join(", "));
    }
    let tip = rendered
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("tip: "));
    let hint = match tip {
        Some(tip) => tip.to_string(),
        None => format!("'{command} --help' lists the options"),
    };
    format!("breachdesk: error: {first}\nhint: {hint}\n")
}

/// breachdesk: respond to a Breach of Security under paragraph 8 of the
/// security schedule. With no command it opens the console.
#[derive(Debug, Parser)]
#[command(name = "breachdesk", version, about, long_about = None)]
pub struct Cli {
    /// Data directory (default: $BREACHDESK_DATA_DIR, else the platform's data dir, e.g. ~/.local/share/breachdesk).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        help_heading = "Global options"
    )]
    pub data_dir: Option<PathBuf>,
    /// Config file (default: $BREACHDESK_CONFIG, else config.toml in the platform's config dir).
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,
    /// An extra playbook file to use (may be repeated); overrides one with the same name.
    #[arg(
        long = "playbook",
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    pub playbooks: Vec<PathBuf>,
    /// Log what breachdesk does, at debug level, to logs/breachdesk.log in the data directory (BREACHDESK_LOG=FILTER instead sets the level).
    #[arg(long, global = true, help_heading = "Global options")]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Whether `--config` was typed (not taken from BREACHDESK_CONFIG or the
    /// default): a typed file that does not exist is an error.
    #[arg(skip)]
    pub config_typed: bool,
}

/// The variable that gives `--data-dir` when it is not typed.
pub const DATA_DIR_VARIABLE: &str = "BREACHDESK_DATA_DIR";
/// The variable that gives `--config` when it is not typed.
pub const CONFIG_VARIABLE: &str = "BREACHDESK_CONFIG";

impl Cli {
    /// Parses the process's arguments and environment, noting whether
    /// `--config` was typed.
    pub fn try_parse_args() -> Result<Cli, clap::Error> {
        Cli::try_parse_with(std::env::args_os(), |name| std::env::var_os(name))
    }

    /// Parses `args`; `--data-dir` and `--config` not typed are taken from
    /// `BREACHDESK_DATA_DIR` and `BREACHDESK_CONFIG` (looked up with
    /// `variable`; an empty value counts as unset). They are read here, not
    /// by clap's `env`, because clap lists an option it took from the
    /// environment in its usage line as if it were required.
    pub fn try_parse_with<I, T>(
        args: I,
        variable: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().try_get_matches_from(args)?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        cli.config_typed = cli.config.is_some();
        let from_env = |name: &str| {
            variable(name)
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        };
        if cli.data_dir.is_none() {
            cli.data_dir = from_env(DATA_DIR_VARIABLE);
        }
        if cli.config.is_none() {
            cli.config = from_env(CONFIG_VARIABLE);
        }
        Ok(cli)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the console (the default).
    Console,
    /// Open a new incident and print its id.
    New(NewArgs),
    /// Append an entry to an incident's timeline.
    Log {
        /// The incident's id (INC-...).
        id: String,
        /// The entry (words are joined with spaces).
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Give a responder a role on an incident (incident-manager,
    /// communications, scribe, technical-lead), or take it away.
    Assign(AssignArgs),
    /// Hand an incident over to the next responder with a note, shown at
    /// the top of the incident until acknowledged (`handover ack ID`).
    Handover(HandoverArgs),
    /// List incidents (open ones unless --all or --closed).
    List {
        /// table (aligned columns) or json.
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Include closed incidents.
        #[arg(long)]
        all: bool,
        /// Only closed incidents.
        #[arg(long, conflicts_with = "all")]
        closed: bool,
        /// With --all or --closed: stat every record, so a closed record
        /// edited in place by hand is shown as it is now (without it the
        /// summary index is trusted; --format json always checks).
        #[arg(long)]
        check: bool,
    },
    /// Show one incident.
    Show {
        /// The incident's id (INC-...).
        id: String,
        /// text, json or toml.
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
    /// Change an incident's details (moving --identified-at needs --reason).
    Edit(Box<EditArgs>),
    /// Notify the other party (paragraph 8.1). With --channel phone or
    /// in-person, records a notification already made; otherwise sends the
    /// notice by email.
    Notify(NotifyArgs),
    /// Send the 8.2.1 (f) full-details report, with a root-cause analysis
    /// where the Client requires one, attached as Markdown and printable
    /// HTML. Lists what is still missing first.
    Report {
        /// The incident's id (INC-...).
        id: String,
        /// Copy this notice to ADDR too (repeatable; on top of `[contacts] cc`).
        #[arg(long = "cc", value_name = "ADDR")]
        cc: Vec<String>,
        /// Send without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Supply the data of an 8.2.1 (e) request by email, files attached.
    Supply {
        /// The incident's id (INC-...).
        id: String,
        /// The data request's id (R1, R2...).
        request: String,
        /// A file to attach (repeat, or give several).
        #[arg(long = "attach", required = true, num_args = 1..)]
        attach: Vec<PathBuf>,
        /// Copy this notice to ADDR too (repeatable; on top of `[contacts] cc`).
        #[arg(long = "cc", value_name = "ADDR")]
        cc: Vec<String>,
        /// Send without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Send a free-form update to the other party.
    Update {
        /// The incident's id (INC-...).
        id: String,
        /// The update's text.
        #[arg(long)]
        message: String,
        /// Copy this notice to ADDR too (repeatable; on top of `[contacts] cc`).
        #[arg(long = "cc", value_name = "ADDR")]
        cc: Vec<String>,
        /// Send without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Notices waiting to be sent, and retrying them.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Paragraph 8.2.1 (e) data requests.
    #[command(subcommand)]
    Request(RequestCommand),
    /// Record the root cause (8.2.1 d/f); warns if an earlier incident had the same one (6.5).
    RootCause(RootCauseArgs),
    /// Record the mitigation (8.2.1 c).
    Mitigation(MitigationArgs),
    /// Set the ISMS-change flag (8.3).
    Isms {
        /// The incident's id (INC-...).
        id: String,
        /// Whether the ISMS must change.
        #[arg(long, action = clap::ArgAction::Set)]
        required: bool,
        /// What has to change in the ISMS.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Set a playbook step's status, with a note or an evidence file.
    Step(StepArgs),
    /// Close an incident (a reason is needed while a required step is open;
    /// with --not-a-breach, the reasoning why it is not a Breach of Security).
    Close {
        /// The incident's id (INC-...).
        id: String,
        /// Why it is closed (needed while a required step is open).
        #[arg(long)]
        reason: Option<String>,
        /// On assessment it was not a Breach of Security, nor a potential or
        /// attempted one; needs --reason (the reasoning, kept in the record).
        #[arg(long, requires = "reason")]
        not_a_breach: bool,
    },
    /// Record whether the Client requires a root-cause analysis in the
    /// 8.2.1 (f) full details: yes, no or unknown.
    RcaRequired {
        /// The incident's id (INC-...).
        id: String,
        /// Whether the Client requires one.
        #[arg(value_parser = choice::<RcaRequired>())]
        value: RcaRequired,
        /// e.g. who said so and when.
        #[arg(long)]
        note: Option<String>,
    },
    /// Security Tests (paragraph 6) and their findings; a repeat test under
    /// 6.4 finding the same root cause again is the paragraph 6.5 case.
    #[command(subcommand)]
    SecurityTest(SecurityTestCommand),
    /// The notice register: record a notice given or received other than
    /// by breachdesk's email (ICO, NCSC, police, insurer, data subjects, the
    /// other party by phone), or list every notice of an incident.
    #[command(subcommand)]
    Notice(NoticeCommand),
    /// Reopen a closed incident.
    Reopen {
        /// The incident's id (INC-...).
        id: String,
        /// Why it is reopened.
        #[arg(long)]
        reason: String,
    },
    /// Re-hash an incident's evidence files and report any that changed.
    Evidence {
        /// The incident's id (INC-...).
        id: String,
    },
    /// Export an incident as Markdown, HTML, JSON or iCalendar (its open deadlines), or its 8.2.1 (f) full-details report.
    Export {
        /// The incident's id (INC-...).
        id: String,
        /// markdown, json or ics.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Write to FILE instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// In the report-* formats, show evidence files' local paths (by
        /// default only file name, size and SHA-256, as sent to the Client).
        #[arg(long)]
        include_paths: bool,
    },
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Records that would not parse, moved aside to quarantine/: list them,
    /// or put a hand-fixed one back.
    #[command(subcommand)]
    Quarantine(QuarantineCommand),
    /// Playbooks in force.
    #[command(subcommand)]
    Playbook(PlaybookCommand),
    /// Print a year's bank holidays: YYYY-MM-DD<TAB>Title, in date order.
    Holidays {
        /// The bank holidays' division (default: [calendar] in the config).
        #[arg(long, value_parser = choice::<Division>())]
        division: Option<Division>,
        /// The year, e.g. 2026.
        #[arg(long)]
        year: i32,
    },
    /// Print a deadline as RFC 3339 with the local offset.
    Due {
        /// Start: RFC 3339, local HH:MM, local "YYYY-MM-DD HH:MM", or -20m.
        #[arg(long, allow_hyphen_values = true)]
        from: String,
        /// Working Days after --from (8.2.1 (e) data requests have 2).
        #[arg(
            long,
            conflicts_with = "hours",
            required_unless_present = "hours",
            allow_negative_numbers = true
        )]
        working_days: Option<i64>,
        /// Hours after --from.
        #[arg(long, allow_negative_numbers = true)]
        hours: Option<i64>,
        /// The bank holidays' division (default: [calendar] in the config).
        #[arg(long, value_parser = choice::<Division>())]
        division: Option<Division>,
    },
    /// Count Working Days after --from up to and including --to.
    Workdays {
        /// The start (not counted): as for `due --from`.
        #[arg(long)]
        from: String,
        /// The end (counted): as for `due --from`.
        #[arg(long)]
        to: String,
        /// The bank holidays' division (default: [calendar] in the config).
        #[arg(long, value_parser = choice::<Division>())]
        division: Option<Division>,
    },
    /// The config file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Remind the on-call responder before each legal clock runs out
    /// (see [reminders] in the config); runs until SIGTERM or Ctrl-C.
    Watch {
        /// Check once and exit (for cron or a systemd timer).
        #[arg(long)]
        once: bool,
    },
    /// The git merge driver for incident records: merge OURS and THEIRS,
    /// two copies of one record, against BASE (their common ancestor; an
    /// empty or missing file when both added it), field by field, and write
    /// the result over OURS. Exit 0 when merged; non-zero, with OURS left as
    /// it was, when a copy does not parse (git then keeps both versions).
    /// Registered by `sync init` as `merge-record %O %A %B %P`; needs no
    /// data directory or config.
    #[command(hide = true)]
    MergeRecord {
        /// The common ancestor's copy (git's %O).
        base: PathBuf,
        /// Our copy, replaced by the merged record (git's %A).
        ours: PathBuf,
        /// Their copy (git's %B).
        theirs: PathBuf,
        /// The record's path in the repository, `incidents/<ID>.toml` (git's %P).
        path: PathBuf,
    },
    /// Sync the data directory with the team through git: commit local
    /// changes as you, fetch, merge, push, and say in one line what came in
    /// and went out. `sync init REMOTE` first, once per machine.
    Sync {
        #[command(subcommand)]
        command: Option<SyncCommand>,
    },
    /// Print a shell completion script, e.g.
    /// `breachdesk completions bash > ~/.local/share/bash-completion/completions/breachdesk`.
    Completions {
        /// bash, zsh or fish.
        shell: CompletionShell,
    },
    /// Print the manual page (roff) on standard output, e.g.
    /// `breachdesk man > breachdesk.1; man ./breachdesk.1`.
    Man,
    /// Fill the data directory with realistic demo incidents (refuses one
    /// that already holds records unless --force).
    Demo {
        /// How many incidents to create.
        #[arg(long, default_value_t = 25)]
        incidents: usize,
        /// How many stay open (default: one in fifty, at least six).
        #[arg(long)]
        open: Option<usize>,
        /// The random seed: the same seed gives the same incidents.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Add to a data directory that already holds records.
        #[arg(long)]
        force: bool,
    },
}
