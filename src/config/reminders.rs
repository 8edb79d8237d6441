//! `[reminders]`: what `breachdesk watch` does before a legal clock runs
//! out, with its lead times, address and command checked as they are read.

use serde::{Deserialize, Serialize};

/// `[reminders]`: what `breachdesk watch` does before a legal clock runs out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminders {
    /// Lead times before each due time (`["15m", "5m"]`); every clock is
    /// also reminded of once when it becomes overdue.
    #[serde(default = "default_before")]
    pub before: Vec<Lead>,
    /// Who the reminder email goes to (through `[smtp]` and the outbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_to: Option<Mailbox>,
    /// Run for each reminder, with `BREACHDESK_*` environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<ReminderCommand>,
    /// How long the command may run before it is killed (and reported).
    #[serde(default = "default_command_timeout")]
    pub command_timeout_secs: u64,
    /// A desktop notification (`notify-send`) where a session bus exists.
    #[serde(default = "default_true")]
    pub desktop: bool,
    /// Also remind of clocks on steps that are not required.
    #[serde(default)]
    pub internal_targets: bool,
}

impl Default for Reminders {
    fn default() -> Self {
        Reminders {
            before: default_before(),
            email_to: None,
            command: None,
            command_timeout_secs: default_command_timeout(),
            desktop: true,
            internal_targets: false,
        }
    }
}

impl Reminders {
    /// The lead times as durations.
    pub fn leads(&self) -> Vec<chrono::Duration> {
        self.before.iter().map(|l| l.0).collect()
    }
}

fn default_before() -> Vec<Lead> {
    vec![
        Lead(chrono::Duration::minutes(15)),
        Lead(chrono::Duration::minutes(5)),
    ]
}
fn default_command_timeout() -> u64 {
    30
}
fn default_true() -> bool {
    true
}

/// A lead time such as `15m` or `1h30m` (see
/// [`crate::domain::reminders::parse_lead`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Lead(pub chrono::Duration);

impl TryFrom<String> for Lead {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        crate::domain::reminders::parse_lead(&text).map(Lead)
    }
}

impl From<Lead> for String {
    fn from(lead: Lead) -> String {
        crate::domain::reminders::lead_label(lead.0)
    }
}

/// One email address, `Name <address>` or `address`, checked when read
/// by the same rules as every other address ([`crate::address::parse_mailbox`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mailbox(pub String);

impl TryFrom<String> for Mailbox {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        // The field is named by the error that carries this message.
        crate::address::parse_mailbox("", &text).map_err(|e| e.words())?;
        Ok(Mailbox(text))
    }
}

impl From<Mailbox> for String {
    fn from(m: Mailbox) -> String {
        m.0
    }
}

/// The reminder command. In TOML:
/// - `command = "page-oncall --urgent"`: split on spaces, run without a shell;
/// - `command = ["page-oncall", "--team", "incident response"]`: exactly
///   these arguments, without a shell;
/// - `command = { shell = "curl ... | ..." }`: run with `sh -c`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawCommand", into = "RawCommand")]
pub enum ReminderCommand {
    /// Program and arguments, run directly.
    Direct(Vec<String>),
    /// A shell command line, run with `sh -c`.
    Shell(String),
}

/// The on-disk shapes of a [`ReminderCommand`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawCommand {
    Line(String),
    Argv(Vec<String>),
    Shell { shell: String },
}

impl TryFrom<RawCommand> for ReminderCommand {
    type Error = String;
    fn try_from(raw: RawCommand) -> Result<Self, String> {
        let command = match raw {
            RawCommand::Line(line) => {
                ReminderCommand::Direct(line.split_whitespace().map(str::to_string).collect())
            }
            RawCommand::Argv(argv) => ReminderCommand::Direct(argv),
            RawCommand::Shell { shell } if shell.trim().is_empty() => {
                return Err("the shell command is empty".into());
            }
            RawCommand::Shell { shell } => ReminderCommand::Shell(shell),
        };
        if let ReminderCommand::Direct(argv) = &command
            && argv.first().is_none_or(|p| p.trim().is_empty())
        {
            return Err("the command is empty".into());
        }
        Ok(command)
    }
}

impl From<ReminderCommand> for RawCommand {
    fn from(c: ReminderCommand) -> RawCommand {
        match c {
            ReminderCommand::Direct(argv) => RawCommand::Argv(argv),
            ReminderCommand::Shell(shell) => RawCommand::Shell { shell },
        }
    }
}
