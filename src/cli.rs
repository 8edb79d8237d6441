//! The command line: what a responder or an auditor's script can type.

use clap::{Args, Parser, Subcommand, ValueEnum};
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
    /// Data directory (default: the platform's data dir, e.g. ~/.local/share/breachdesk).
    #[arg(
        long,
        global = true,
        env = "BREACHDESK_DATA_DIR",
        value_name = "DIR",
        help_heading = "Global options"
    )]
    pub data_dir: Option<PathBuf>,
    /// Config file (default: config.toml in the platform's config dir).
    #[arg(
        long,
        global = true,
        env = "BREACHDESK_CONFIG",
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

impl Cli {
    /// Parses the process's arguments, noting whether `--config` was typed.
    pub fn try_parse_args() -> Result<Cli, clap::Error> {
        use clap::{CommandFactory, FromArgMatches, parser::ValueSource};
        let matches = Cli::command().try_get_matches()?;
        let mut cli = Cli::from_arg_matches(&matches)?;
        cli.config_typed = matches.value_source("config") == Some(ValueSource::CommandLine);
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
        /// yes, no or unknown.
        value: String,
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
        /// england-and-wales, scotland or northern-ireland (default: [calendar] in the config).
        #[arg(long)]
        division: Option<String>,
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
        /// england-and-wales, scotland or northern-ireland (default: [calendar] in the config).
        #[arg(long)]
        division: Option<String>,
    },
    /// Count Working Days after --from up to and including --to.
    Workdays {
        /// The start (not counted): as for `due --from`.
        #[arg(long)]
        from: String,
        /// The end (counted): as for `due --from`.
        #[arg(long)]
        to: String,
        /// england-and-wales, scotland or northern-ireland (default: [calendar] in the config).
        #[arg(long)]
        division: Option<String>,
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

#[derive(Debug, Args)]
pub struct NewArgs {
    /// What happened (with --from-eml, the message's subject if not given).
    #[arg(long, required_unless_present = "from_eml")]
    pub title: Option<String>,
    /// What is known so far, in a few sentences.
    #[arg(long, default_value = "")]
    pub summary: String,
    /// When the breach was identified: RFC 3339, HH:MM, -20m (default now;
    /// for --identified-by other-party, the time the notice was received).
    #[arg(long, allow_hyphen_values = true)]
    pub identified_at: Option<String>,
    /// us (we notify the other party within 1 hour, 8.1) or other-party
    /// (it notified us: give --received-at, --received-from, --channel).
    #[arg(long, default_value = "us")]
    pub identified_by: String,
    /// When the other party's 8.1 notice reached us.
    #[arg(long, allow_hyphen_values = true)]
    pub received_at: Option<String>,
    /// Who gave the notice.
    #[arg(long)]
    pub received_from: Option<String>,
    /// How it came: email, phone, in-person or other.
    #[arg(long)]
    pub channel: Option<String>,
    /// The notice's reference (e.g. its Message-ID or a call reference).
    #[arg(long)]
    pub reference: Option<String>,
    /// Read the notice from a saved email (RFC 5322 .eml): received time from
    /// its Date: header, sender from From:, title from Subject:, summary from
    /// the body, reference from Message-ID:.
    #[arg(long, value_name = "FILE")]
    pub from_eml: Option<PathBuf>,
    /// breach, potential or attempted.
    #[arg(long, default_value = "breach")]
    pub kind: String,
    /// low, medium, high or critical.
    #[arg(long, default_value = "high")]
    pub severity: String,
    /// Personal data is involved (the UK GDPR steps apply).
    #[arg(long)]
    pub personal_data: bool,
    /// Government data is involved.
    #[arg(long)]
    pub government_data: bool,
    /// An affected asset (may be repeated).
    #[arg(long = "asset")]
    pub assets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// A new title.
    #[arg(long)]
    pub title: Option<String>,
    /// A new summary.
    #[arg(long)]
    pub summary: Option<String>,
    /// breach, potential or attempted.
    #[arg(long)]
    pub kind: Option<String>,
    /// low, medium, high or critical.
    #[arg(long)]
    pub severity: Option<String>,
    /// true or false: whether personal data is involved.
    #[arg(long, action = clap::ArgAction::Set)]
    pub personal_data: Option<bool>,
    /// true or false: whether government data is involved.
    #[arg(long, action = clap::ArgAction::Set)]
    pub government_data: Option<bool>,
    /// Add an affected asset (may be repeated).
    #[arg(long = "asset")]
    pub assets: Vec<String>,
    /// Add a responder (may be repeated).
    #[arg(long = "responder")]
    pub responders: Vec<String>,
    /// Moves the start of the 1-hour clock; needs --reason.
    #[arg(long, requires = "reason", allow_hyphen_values = true)]
    pub identified_at: Option<String>,
    /// Why --identified-at moves (kept in the record and the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// When the breach started (distinct from when it was identified); "none" clears it.
    #[arg(long, allow_hyphen_values = true)]
    pub started_at: Option<String>,
    /// How the breach was detected.
    #[arg(long)]
    pub detected_how: Option<String>,
    /// Impact on the service.
    #[arg(long)]
    pub service_impact: Option<String>,
    /// Impact on confidentiality.
    #[arg(long)]
    pub confidentiality: Option<String>,
    /// Impact on integrity.
    #[arg(long)]
    pub integrity: Option<String>,
    /// Impact on availability.
    #[arg(long)]
    pub availability: Option<String>,
    /// Containment status, e.g. "contained at 15:10: VPN account disabled".
    #[arg(long)]
    pub containment: Option<String>,
    /// How many data subjects are affected; "none" clears it.
    #[arg(long)]
    pub data_subjects: Option<String>,
    /// Categories of personal data affected.
    #[arg(long)]
    pub data_categories: Option<String>,
    /// Which Government Data is affected.
    #[arg(long)]
    pub government_data_details: Option<String>,
    /// Who else has been told (the notice register holds the records).
    #[arg(long)]
    pub others_told: Option<String>,
    /// When the next update to the other party is due; "none" clears it.
    #[arg(long, allow_hyphen_values = true)]
    pub next_update: Option<String>,
    /// Residual risk after the mitigation (for the 8.2.1 (f) report).
    #[arg(long)]
    pub residual_risk: Option<String>,
    /// Lessons learned (for the 8.2.1 (f) report).
    #[arg(long)]
    pub lessons_learned: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum NoticeCommand {
    /// Record a notice given or received other than by breachdesk's email.
    Add {
        /// The incident's id (INC-...), or a unique part of it.
        id: String,
        /// sent or received.
        #[arg(long)]
        direction: String,
        /// client, service-provider, govcertuk, ico, ncsc, police, insurer, data-subjects, controller or other.
        #[arg(long)]
        party: String,
        /// email, phone, in-person, letter, portal or other.
        #[arg(long)]
        channel: String,
        /// When it was given or received (default now).
        #[arg(long, default_value = "now", allow_hyphen_values = true)]
        at: String,
        /// A name or address at the other end.
        #[arg(long, default_value = "")]
        with: String,
        /// A Message-ID, case number or call reference.
        #[arg(long)]
        reference: Option<String>,
        /// What the notice said, in a line.
        #[arg(long, default_value = "")]
        summary: String,
    },
    /// Every notice of an incident, sent or received, oldest first.
    List {
        /// The incident's id (INC-...), or a unique part of it.
        id: String,
        /// text (one line per notice) or json (the register as an array).
        #[arg(long, value_enum, default_value_t = NoticeListFormat::Text)]
        format: NoticeListFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoticeListFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// phone or in-person to record a notification already made (email sends one).
    #[arg(long)]
    pub channel: Option<String>,
    /// Who was notified.
    #[arg(long)]
    pub to: Option<String>,
    /// When (default now).
    #[arg(long, default_value = "now", allow_hyphen_values = true)]
    pub at: String,
    /// A reference for the notification (e.g. a call log number).
    #[arg(long)]
    pub reference: Option<String>,
    /// Why the notification was after its 1-hour deadline.
    #[arg(long)]
    pub delay_reason: Option<String>,
    /// For an email notification: what has been done so far.
    #[arg(long, default_value = "")]
    pub first_actions: String,
    /// Copy the email to ADDR too (repeatable; on top of `[contacts] cc`).
    #[arg(long = "cc", value_name = "ADDR")]
    pub cc: Vec<String>,
    /// Send an 8.1 notification by email although one is already recorded,
    /// for this reason (kept in the notice, the record and the audit log).
    #[arg(long, value_name = "REASON")]
    pub again: Option<String>,
    /// Send without asking.
    #[arg(long)]
    pub yes: bool,
}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Add a data request made on the Client's request; it is due 2 Working
    /// Days after receipt.
    Add {
        /// The incident's id (INC-...).
        id: String,
        /// Older spelling: client (deliver to the Client) or govcertuk
        /// (deliver to GovCertUK). Use --deliver-to.
        #[arg(long = "from")]
        requester: Option<String>,
        /// Where the data goes: client, or govcertuk at the Client's request.
        #[arg(long, conflicts_with = "requester")]
        deliver_to: Option<String>,
        /// Who asked (name or address).
        #[arg(long)]
        name: Option<String>,
        /// What was asked for.
        #[arg(long, required_unless_present = "from_eml")]
        what: Option<String>,
        /// When it was received (default now).
        #[arg(long, allow_hyphen_values = true)]
        received: Option<String>,
        /// The request's reference (e.g. the Message-ID of its email).
        #[arg(long)]
        reference: Option<String>,
        /// Read the request from a saved email (RFC 5322 .eml): received time
        /// from its Date: header, who asked from From:, what was asked from the
        /// subject and body, the Message-ID as the reference.
        #[arg(long, value_name = "FILE")]
        from_eml: Option<PathBuf>,
    },
    /// Mark a data request supplied (free of charge).
    Supplied {
        /// The incident's id (INC-...).
        id: String,
        /// The data request's id (R1, R2...).
        request: String,
        /// How it was supplied.
        #[arg(long)]
        how: String,
        /// When it was supplied: RFC 3339, HH:MM or -20m (default now).
        #[arg(long, default_value = "now", allow_hyphen_values = true)]
        at: String,
        /// A file supplied (hashed for the record; may be repeated).
        #[arg(long = "file")]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct RootCauseArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// e.g. unpatched-vulnerability, misconfiguration, weak-authentication, phishing.
    #[arg(long)]
    pub category: String,
    /// The asset or component that failed.
    #[arg(long)]
    pub component: String,
    /// The analysis, in words.
    #[arg(long)]
    pub analysis: Option<String>,
    /// A prevention action (may be repeated).
    #[arg(long = "prevention")]
    pub prevention: Vec<String>,
}

#[derive(Debug, Args)]
pub struct MitigationArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// What was done to mitigate the breach.
    #[arg(long)]
    pub description: Option<String>,
    /// How the mitigation was tested.
    #[arg(long)]
    pub tested_how: Option<String>,
    /// true or false: whether the mitigation has been tested.
    #[arg(long, action = clap::ArgAction::Set)]
    pub tested: Option<bool>,
    /// true or false: whether the breach affects KPIs.
    #[arg(long, action = clap::ArgAction::Set)]
    pub affects_kpis: Option<bool>,
    /// When KPI relief was requested from the Client.
    #[arg(long, allow_hyphen_values = true)]
    pub relief_requested: Option<String>,
    /// true or false: whether the Client granted KPI relief.
    #[arg(long, action = clap::ArgAction::Set)]
    pub relief_granted: Option<bool>,
    /// The relief period, in words (e.g. "2 weeks from 3 March").
    #[arg(long)]
    pub relief_period: Option<String>,
    /// A file evidencing the mitigation (hashed into the record).
    #[arg(long)]
    pub evidence_file: Option<PathBuf>,
    /// The date of the Client's written notice setting the relief period
    /// (8.2.1 c), YYYY-MM-DD; needs --relief-notice-ref and --relief-period.
    #[arg(long, requires_all = ["relief_notice_ref", "relief_period"])]
    pub relief_notice_date: Option<String>,
    /// The Client's reference for that notice.
    #[arg(long, requires = "relief_notice_date")]
    pub relief_notice_ref: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SecurityTestCommand {
    /// Record a Security Test on the incident it relates to; prints its id (T1, T2...).
    Add {
        /// The incident's id (INC-...).
        id: String,
        /// The test date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// What it covered.
        #[arg(long)]
        scope: String,
        /// Who ran it.
        #[arg(long)]
        run_by: String,
        /// 6.2 (the Service Provider's test), 6.3 (the Client's) or 6.4 (a
        /// repeat after ISMS changes; needs --repeats).
        #[arg(long, default_value = "6.2")]
        clause: String,
        /// The earlier test this one repeats under 6.4 (e.g. T1).
        #[arg(long)]
        repeats: Option<String>,
    },
    /// Record a finding of a test, with its root cause.
    Finding {
        /// The incident's id (INC-...).
        id: String,
        /// The test's id (T1, T2...).
        test: String,
        /// What the test found.
        #[arg(long)]
        description: String,
        /// The root cause's category, as for `root-cause --category`.
        #[arg(long)]
        category: String,
        /// The asset or component at fault.
        #[arg(long)]
        component: String,
    },
    /// The incident's Security Tests and findings.
    List {
        /// The incident's id (INC-...).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct StepArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// The step's id, as the playbook names it (e.g. 8.2.1c).
    pub step: String,
    /// todo, in-progress, done or not-applicable.
    #[arg(long)]
    pub status: Option<String>,
    /// A note on the step.
    #[arg(long)]
    pub note: Option<String>,
    /// A file evidencing the step (hashed into the record).
    #[arg(long)]
    pub evidence_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Every notice in the outbox with its delivery state: pending, unknown
    /// (may have arrived), failed (refused for good), sent, cancelled.
    List {
        /// table (aligned columns) or json.
        #[arg(long, value_enum, default_value_t = OutboxFormat::Table)]
        format: OutboxFormat,
    },
    /// Try notices now: one (a failed one too, on purpose), or every pending
    /// and unknown one.
    Retry {
        /// The notice's id, as `outbox list` shows it (default: every pending and unknown one).
        id: Option<String>,
    },
    /// Drop a notice that has not been accepted; the reason is recorded on
    /// the incident and in the audit log.
    Cancel {
        /// The notice's id, as `outbox list` shows it.
        id: String,
        /// Why the notice is dropped (recorded on the incident and in the audit log).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutboxFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; reports the first entry where it breaks.
    Verify,
    /// Print the entries (of one incident, if given).
    List {
        /// Only this incident's entries.
        id: Option<String>,
    },
    /// Set aside a torn last entry left by a crash mid-append (kept in
    /// audit/torn-*.bin); refuses damage anywhere else.
    Repair,
    /// Remove entries older than the retention (never below 184 days: 6 calendar months).
    Prune {
        /// Remove entries older than this many days (default: [audit] retention_days; never below 184).
        #[arg(long)]
        older_than_days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// Every file in quarantine/: the incident it holds, its size, and
    /// whether it parses now.
    List,
    /// Move every record in incidents/ that will not parse to quarantine/
    /// (read-only commands such as `list` only report them in place).
    Sweep,
    /// Check a hand-fixed file (a name in quarantine/ or a path): it must
    /// parse, its id must match its name, and the incident must not be in
    /// incidents/ already. Then put it back (atomically, 0600).
    Restore {
        /// A file name in quarantine/, or a path.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PlaybookCommand {
    /// The playbooks in force and where each came from.
    List,
    /// One playbook's steps.
    Show {
        /// The playbook's name, as `playbook list` shows it.
        name: String,
    },
    /// Check a playbook file; exits non-zero with file:line:column if it is refused.
    Check {
        /// The playbook file to check.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented example config (refuses to overwrite).
    Init,
    /// Validate the config file.
    Check,
    /// Print the config file's path.
    Path,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Text,
    Json,
    Toml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Markdown,
    /// The Markdown export's content as self-contained HTML.
    Html,
    Json,
    Ics,
    /// The 8.2.1 (f) full-details report as plain text.
    ReportText,
    /// The 8.2.1 (f) full-details report as Markdown (as attached to the report email).
    ReportMarkdown,
    /// The 8.2.1 (f) full-details report as self-contained printable HTML.
    ReportHtml,
}

/// The shells `breachdesk completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}
