//! The arguments of the upkeep commands: the outbox, the audit log, the
//! quarantine, playbooks, the config file and shell completions.

use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;

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

/// How `audit verify` prints what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every machine's chain (audit/chains/*.jsonl: hashes, signer
    /// keys, signatures, heads seen before) and every file in incidents/
    /// against them; one line per problem, naming its file.
    Verify {
        /// text (one line per finding) or json (the same findings).
        #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
        format: VerifyFormat,
    },
    /// Print the entries of every chain, merged by time (of one incident,
    /// if given).
    List {
        /// Only this incident's entries.
        id: Option<String>,
    },
    /// Set aside a torn last entry of this machine's chain left by a crash
    /// mid-append (kept in audit/torn-*.bin); refuses damage anywhere else.
    Repair,
    /// Remove this machine's chain's entries older than the retention (never
    /// below 184 days: 6 calendar months); other machines' chains are theirs.
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

/// The shells `breachdesk completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}
