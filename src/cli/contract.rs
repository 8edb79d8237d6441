//! The arguments of the contract's two-way commands: the notice register,
//! 8.2.1 (e) data requests, and Security Tests (paragraph 6).

use super::choice::choice;
use crate::domain::incident::{
    DataDestination, Direction, LegacyRequester, NoticeChannel, NoticeParty, RootCauseCategory,
    TestClause,
};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum NoticeCommand {
    /// Record a notice given or received other than by breachdesk's email.
    Add {
        /// The incident's id (INC-...), or a unique part of it.
        id: String,
        /// Whether we gave the notice or received it.
        #[arg(long, value_parser = choice::<Direction>())]
        direction: Direction,
        /// Who was at the other end.
        #[arg(long, value_parser = choice::<NoticeParty>())]
        party: NoticeParty,
        /// How the notice was given.
        #[arg(long, value_parser = choice::<NoticeChannel>())]
        channel: NoticeChannel,
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

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Add a data request made on the Client's request; it is due 2 Working
    /// Days after receipt.
    Add(AddRequestArgs),
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
    /// Record that the Client withdrew a data request: its 2-Working-Day
    /// clock stops (open or closed incident).
    Withdrawn(EndRequestArgs),
    /// Record that the data of a request will not be supplied, and why: its
    /// 2-Working-Day clock stops (open or closed incident).
    NotSupplied(EndRequestArgs),
}

/// `request withdrawn` and `request not-supplied`.
#[derive(Debug, Args)]
pub struct EndRequestArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// The data request's id (R1, R2...).
    pub request: String,
    /// Why, in a line: how the Client withdrew it, or why the data is not
    /// supplied (shown in `show`, exports and the report).
    #[arg(long)]
    pub reason: String,
    /// When the Client withdrew it, or it was decided: RFC 3339, HH:MM or
    /// -20m (default now).
    #[arg(long, default_value = "now", allow_hyphen_values = true)]
    pub at: String,
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
        #[arg(long, default_value = "6.2", value_parser = choice::<TestClause>())]
        clause: TestClause,
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
        #[arg(long, value_parser = choice::<RootCauseCategory>())]
        category: RootCauseCategory,
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

/// `request add`: a data request made on the Client's request.
#[derive(Debug, Args)]
pub struct AddRequestArgs {
    /// The incident's id (INC-...).
    pub id: String,
    /// Older spelling of --deliver-to.
    #[arg(long = "from", value_parser = choice::<LegacyRequester>())]
    pub requester: Option<LegacyRequester>,
    /// Where the data goes: the Client, or GovCertUK at the Client's request.
    #[arg(long, conflicts_with = "requester", value_parser = choice::<DataDestination>())]
    pub deliver_to: Option<DataDestination>,
    /// Who asked (name or address).
    #[arg(long)]
    pub name: Option<String>,
    /// What was asked for.
    #[arg(long, required_unless_present = "from_eml")]
    pub what: Option<String>,
    /// When it was received (default now).
    #[arg(long, allow_hyphen_values = true)]
    pub received: Option<String>,
    /// The request's reference (e.g. the Message-ID of its email).
    #[arg(long)]
    pub reference: Option<String>,
    /// Read the request from a saved email (RFC 5322 .eml): received time
    /// from its Date: header, who asked from From:, what was asked from the
    /// subject and body, the Message-ID as the reference.
    #[arg(long, value_name = "FILE")]
    pub from_eml: Option<PathBuf>,
}
