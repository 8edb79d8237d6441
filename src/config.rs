//! `config.toml`: who the responder is, who to notify, how to send mail, and
//! which calendar decides Working Days.
//!
//! A missing file means defaults. A file that does not parse is an error that
//! names the file, line and column. Secrets are never read from or written to
//! this file: the SMTP password comes from `BREACHDESK_SMTP_PASSWORD` or from
//! the output of `password_command`.

use crate::domain::incident::PartyRole;
use crate::text::line_col;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The commented example `breachdesk config init` writes.
pub const EXAMPLE: &str = include_str!("../assets/config.example.toml");

/// breachdesk's audit log is kept at least 6 calendar months (184 days).
pub const MIN_AUDIT_RETENTION_DAYS: u32 = crate::audit::MIN_RETENTION_DAYS;

/// Everything `config.toml` can say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub responder: Responder,
    #[serde(default)]
    pub contacts: Contacts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<Smtp>,
    #[serde(default)]
    pub calendar: CalendarSettings,
    #[serde(default)]
    pub audit: AuditSettings,
    /// What each severity level means here (shown in the console).
    #[serde(default)]
    pub severity: SeverityScale,
    #[serde(default)]
    pub reminders: Reminders,
    /// The contract the notices are given under, and its protective marking.
    #[serde(default)]
    pub contract: ContractSettings,
    /// The console.
    #[serde(default)]
    pub ui: UiSettings,
}

/// `[contract]`: named in every notice; the marking heads every subject
/// line and the top and bottom of every body and export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractSettings {
    /// e.g. "Managed Hosting Services".
    #[serde(default)]
    pub name: Option<String>,
    /// The contract reference, e.g. "CCS-RM6100-0042".
    #[serde(default)]
    pub reference: Option<String>,
    /// Protective marking, e.g. "OFFICIAL-SENSITIVE".
    #[serde(default)]
    pub marking: Option<String>,
}

impl ContractSettings {
    /// The marking, trimmed, when set and not blank.
    pub fn marking(&self) -> Option<String> {
        clean(&self.marking)
    }
    /// The contract reference, trimmed, when set and not blank.
    pub fn reference(&self) -> Option<String> {
        clean(&self.reference)
    }
    /// The contract name, trimmed, when set and not blank.
    pub fn name(&self) -> Option<String> {
        clean(&self.name)
    }
    /// The contract as one line for a report: "name (reference)", or
    /// whichever of the two is set.
    pub fn line(&self) -> Option<String> {
        match (self.name(), self.reference()) {
            (Some(n), Some(r)) => Some(format!("{n} ({r})")),
            (n, r) => n.or(r),
        }
    }
}

fn clean(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

/// `[ui]`: the console's alerts and mouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiSettings {
    /// Besides the terminal bell, ask the terminal for a desktop
    /// notification (OSC 9 and OSC 777) when a legal clock crosses 15
    /// minutes, 5 minutes and overdue (default true).
    #[serde(default = "yes")]
    pub desktop_alerts: bool,
    /// Click to select and the wheel to scroll (default false).
    #[serde(default)]
    pub mouse: bool,
}

fn yes() -> bool {
    true
}

impl Default for UiSettings {
    fn default() -> Self {
        UiSettings {
            desktop_alerts: true,
            mouse: false,
        }
    }
}

/// What each severity level means, and the Client's name for it if the
/// Client has its own scale. The schedule defines no severity levels: these
/// are the organisation's (or the Client's) definitions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityScale {
    #[serde(default = "default_low")]
    pub low: String,
    #[serde(default = "default_medium")]
    pub medium: String,
    #[serde(default = "default_high")]
    pub high: String,
    #[serde(default = "default_critical")]
    pub critical: String,
    /// The Client's name for each level, e.g. `high = "P2"`.
    #[serde(default)]
    pub client_scale: ClientSeverityNames,
}

/// The Client's own names for the levels, where it has a scale.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSeverityNames {
    #[serde(default)]
    pub low: Option<String>,
    #[serde(default)]
    pub medium: Option<String>,
    #[serde(default)]
    pub high: Option<String>,
    #[serde(default)]
    pub critical: Option<String>,
}

fn default_low() -> String {
    "contained; no Government Data or personal data affected; no service impact".into()
}
fn default_medium() -> String {
    "limited data or a non-critical service affected; contained or containable".into()
}
fn default_high() -> String {
    "Government Data or personal data exposed, or a service the Client relies on disrupted".into()
}
fn default_critical() -> String {
    "ongoing compromise, large-scale data loss, or a critical service down".into()
}

impl Default for SeverityScale {
    fn default() -> Self {
        SeverityScale {
            low: default_low(),
            medium: default_medium(),
            high: default_high(),
            critical: default_critical(),
            client_scale: ClientSeverityNames::default(),
        }
    }
}

impl SeverityScale {
    /// One level in words: "high: <definition> (Client's scale: P2)".
    pub fn describe(&self, level: crate::domain::incident::Severity) -> String {
        use crate::domain::incident::Severity;
        let (definition, client) = match level {
            Severity::Low => (&self.low, &self.client_scale.low),
            Severity::Medium => (&self.medium, &self.client_scale.medium),
            Severity::High => (&self.high, &self.client_scale.high),
            Severity::Critical => (&self.critical, &self.client_scale.critical),
        };
        match client {
            Some(name) => format!("{level}: {definition} (Client's scale: {name})"),
            None => format!("{level}: {definition}"),
        }
    }

    /// Every level described, in [`Severity::ALL`](crate::domain::incident::Severity::ALL) order.
    pub fn help(&self) -> Vec<String> {
        crate::domain::incident::Severity::ALL
            .iter()
            .map(|s| self.describe(*s))
            .collect()
    }
}

/// The person at the keyboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Responder {
    /// Shown in the timeline and the audit log; defaults to the OS user.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Reply-To of every notice (e.g. the SOC's shared mailbox), when set.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Our side of the contract: decides who "the other party" is.
    #[serde(default = "default_role")]
    pub role: PartyRole,
    /// A phone number the other party can call; given in every notice.
    #[serde(default)]
    pub phone: Option<String>,
}

impl Default for Responder {
    fn default() -> Self {
        Responder {
            name: None,
            email: None,
            reply_to: None,
            role: default_role(),
            phone: None,
        }
    }
}

fn default_role() -> PartyRole {
    PartyRole::ServiceProvider
}

/// Addresses of the people breachdesk sends notices to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    /// The other party's security representative (paragraph 8.1 notification, 8.2.1 (f) report).
    #[serde(default)]
    pub other_party: Option<String>,
    /// GovCertUK (now part of the NCSC) for 8.2.1 (e) data supply.
    #[serde(default)]
    pub govcertuk: Option<String>,
    /// Copied on every notice (Cc header and envelope), e.g. your own SOC
    /// or GovCertUK: `["Name <addr>", ...]`.
    #[serde(default)]
    pub cc: Vec<String>,
}

/// How mail leaves this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    /// A command whose standard output is the password (e.g. `pass show smtp`).
    #[serde(default)]
    pub password_command: Option<String>,
    /// An extra trusted CA (PEM) for organisations with their own CA.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    20
}

/// Transport security for SMTP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpSecurity {
    /// STARTTLS, required (never falls back to plain text).
    #[default]
    Starttls,
    /// Implicit TLS (usually port 465).
    Tls,
    /// No TLS: refused unless the host is a loopback address.
    None,
}

/// Which days are Working Days and where "end of day" is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    /// `england-and-wales` (default), `scotland` or `northern-ireland`.
    #[serde(default = "default_division")]
    pub division: String,
    /// IANA zone for showing times and for Working Days (default Europe/London).
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Local time at which a Working Day ends for deadlines (default 23:59:59).
    #[serde(default = "default_end_of_day")]
    pub end_of_day: String,
    /// The organisation's own closure days (not Working Days).
    #[serde(default)]
    pub closures: Vec<NaiveDate>,
}

impl Default for CalendarSettings {
    fn default() -> Self {
        CalendarSettings {
            division: default_division(),
            timezone: default_timezone(),
            end_of_day: default_end_of_day(),
            closures: Vec::new(),
        }
    }
}

fn default_division() -> String {
    "england-and-wales".into()
}
fn default_timezone() -> String {
    "Europe/London".into()
}
fn default_end_of_day() -> String {
    "23:59:59".into()
}

/// Retention of breachdesk's own audit log (the record of the response):
/// at least 6 calendar months, as Annex 1 paragraph 8.3 asks of the ICT
/// Environment's audit records (which this log is not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    #[serde(default = "default_retention")]
    pub retention_days: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings {
            retention_days: default_retention(),
        }
    }
}

fn default_retention() -> u32 {
    // Seven years: a common records-retention policy; never below 184 days (6 calendar months).
    2557
}

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

/// One email address, `Name <address>` or `address`, checked when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mailbox(pub String);

impl TryFrom<String> for Mailbox {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        if text.chars().any(char::is_control) {
            return Err("an address may not contain control characters".into());
        }
        text.parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("'{text}' is not one email address: {e}"))?;
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

/// An address error without its field name (the field is named once).
fn address_words(e: crate::mail::MailError) -> String {
    match e {
        crate::mail::MailError::Address { value, reason, .. } => {
            format!("'{value}' is not a valid email address: {reason}")
        }
        other => other.to_string(),
    }
}

/// `file:line` of a dotted field (`calendar.division`) in config text: the
/// line of its key inside its `[section]`; the file alone if it is not there.
fn field_at(text: &str, path: &Path, field: &str) -> String {
    let (section, key) = field.split_once('.').unwrap_or(("", field));
    let mut current = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            current = header.trim().to_string();
            continue;
        }
        let name = line
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if current == section && line.contains('=') && name == key {
            return format!("{}:{}", path.display(), n + 1);
        }
    }
    path.display().to_string()
}

/// A config file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// `at` is `file:line` (the line of the field), or the file alone when
    /// the field is not in it (a default that does not validate).
    #[error("{at}: {field}: {message}")]
    Invalid {
        at: String,
        field: &'static str,
        message: String,
    },
}

impl Config {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        // Only a regular file (a FIFO or /dev/zero never hangs or fills memory).
        let text = match crate::safe_read::read_user_file(path) {
            Ok(text) => text,
            Err(e) if e.is_not_found() => return Ok(Config::default()),
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source: e.into_io(),
                });
            }
        };
        Config::parse(&text, path)
    }

    /// Parses and validates config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_col(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        config.validate(text, path)?;
        Ok(config)
    }

    /// What `config check` adds to [`Config::load`]: every address in the
    /// file (the sender, the other party, GovCertUK) is
    /// one an email could be sent to.
    pub fn check(path: &Path) -> Result<Config, ConfigError> {
        let config = Config::load(path)?;
        let text = crate::safe_read::read_user_file(path).unwrap_or_default();
        let invalid = |field: &'static str, message: String| ConfigError::Invalid {
            at: field_at(&text, path, field),
            field,
            message,
        };
        let addresses = [
            ("responder.email", config.responder.email.as_deref()),
            (
                "contacts.other_party",
                config.contacts.other_party.as_deref(),
            ),
            ("contacts.govcertuk", config.contacts.govcertuk.as_deref()),
        ];
        for (field, value) in addresses {
            if let Some(value) = value {
                crate::mail::compose::parse_mailbox(field, value)
                    .map_err(|e| invalid(field, address_words(e)))?;
            }
        }
        Ok(config)
    }

    fn validate(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let invalid = |field, message: String| ConfigError::Invalid {
            at: field_at(text, path, field),
            field,
            message,
        };
        self.calendar
            .division
            .parse::<crate::domain::calendar::Division>()
            .map_err(|e| invalid("calendar.division", e.to_string()))?;
        if self.audit.retention_days < MIN_AUDIT_RETENTION_DAYS {
            return Err(invalid(
                "audit.retention_days",
                format!(
                    "{} days is below the minimum of 6 calendar months (at least {} days)",
                    self.audit.retention_days, MIN_AUDIT_RETENTION_DAYS
                ),
            ));
        }
        let reminders = &self.reminders;
        if reminders.command_timeout_secs == 0 || reminders.command_timeout_secs > 600 {
            return Err(invalid(
                "reminders.command_timeout_secs",
                format!(
                    "{} is not between 1 and 600",
                    reminders.command_timeout_secs
                ),
            ));
        }
        self.timezone()
            .map_err(|m| invalid("calendar.timezone", m))?;
        self.end_of_day()
            .map_err(|m| invalid("calendar.end_of_day", m))?;
        let words = address_words;
        for (i, cc) in self.contacts.cc.iter().enumerate() {
            crate::mail::compose::parse_mailbox("contacts.cc", cc)
                .map_err(|e| invalid("contacts.cc", format!("entry {}: {}", i + 1, words(e))))?;
        }
        if let Some(r) = &self.responder.reply_to {
            crate::mail::compose::parse_mailbox("responder.reply_to", r)
                .map_err(|e| invalid("responder.reply_to", words(e)))?;
        }
        if let Some(smtp) = &self.smtp {
            if smtp.host.trim().is_empty() {
                return Err(invalid("smtp.host", "is empty".into()));
            }
            if smtp.timeout_secs == 0 || smtp.timeout_secs > 600 {
                return Err(invalid(
                    "smtp.timeout_secs",
                    format!("{} is not between 1 and 600", smtp.timeout_secs),
                ));
            }
        }
        Ok(())
    }

    /// The display and calendar time zone.
    pub fn timezone(&self) -> Result<chrono_tz::Tz, String> {
        self.calendar
            .timezone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| {
                format!(
                    "'{}' is not an IANA time zone (e.g. Europe/London)",
                    self.calendar.timezone
                )
            })
    }

    /// The local time a Working Day ends.
    pub fn end_of_day(&self) -> Result<chrono::NaiveTime, String> {
        let text = self.calendar.end_of_day.trim();
        chrono::NaiveTime::parse_from_str(text, "%H:%M:%S")
            .or_else(|_| chrono::NaiveTime::parse_from_str(text, "%H:%M"))
            .map_err(|_| format!("'{text}' is not a time of day like 17:30 or 23:59:59"))
    }

    /// The responder's name: from config, else the OS user.
    pub fn responder_name(&self) -> String {
        self.responder
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(os_user)
    }
}

/// The login name of the person running breachdesk.
pub fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .or_else(|| whoami::username().ok())
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let config =
            Config::parse(EXAMPLE, Path::new("config.example.toml")).expect("example parses");
        // Every name and address is an example, commented out: none is
        // used as a live recipient (or signs the audit log) by mistake.
        assert_eq!(config.responder.name, None);
        assert_eq!(config.responder.email, None);
        assert_eq!(config.contacts.other_party, None);
        assert_eq!(config.contacts.govcertuk, None);
        assert!(config.contacts.cc.is_empty());
        assert_eq!(config.responder.role, PartyRole::ServiceProvider);
        assert!(config.smtp.is_none());
    }

    #[test]
    fn copies_and_reply_to_are_checked_addresses() {
        let config = Config::parse(
            "[responder]\nreply_to = \"SOC <soc@p.example>\"\n[contacts]\ncc = [\"a@p.example\", \"B <b@p.example>\"]\n",
            Path::new("c.toml"),
        )
        .expect("parses");
        assert_eq!(config.contacts.cc.len(), 2);
        assert_eq!(
            config.responder.reply_to.as_deref(),
            Some("SOC <soc@p.example>")
        );
        let err = Config::parse(
            "[contacts]\ncc = [\"a@p.example\", \"a@p.example, evil@x.example\"]\n",
            Path::new("c.toml"),
        )
        .expect_err("two in one entry");
        assert!(
            err.to_string().starts_with(
                "c.toml:2: contacts.cc: entry 2: 'a@p.example, evil@x.example' is not"
            ),
            "{err}"
        );
        let err = Config::parse(
            "[responder]\nreply_to = \"not an address\"\n",
            Path::new("c.toml"),
        )
        .expect_err("bad reply_to");
        assert_eq!(
            err.to_string().matches("responder.reply_to").count(),
            1,
            "{err}"
        );
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let err = Config::parse(
            "[responder]\nname = \"x\"\nrole = \"vendor\"\n",
            Path::new("c.toml"),
        )
        .expect_err("bad role");
        let text = err.to_string();
        assert!(text.starts_with("c.toml:3:"), "{text}");
        let err = Config::parse(
            "[calendar]\ntimezone = \"Mars/Olympus\"\n",
            Path::new("c.toml"),
        )
        .expect_err("bad zone");
        assert!(err.to_string().contains("calendar.timezone"), "{err}");
        let err = Config::parse("[audit]\nretention_days = 30\n", Path::new("c.toml"))
            .expect_err("short");
        assert!(err.to_string().contains("6 calendar months"), "{err}");
        let err = Config::parse(
            "[smtp]\nhost = \"x\"\npasword = \"oops\"\n",
            Path::new("c.toml"),
        )
        .expect_err("typo");
        assert!(err.to_string().contains("c.toml:3:"), "{err}");
    }

    #[test]
    fn severity_levels_have_definitions_and_may_map_to_the_clients_scale() {
        use crate::domain::incident::Severity;
        let c = Config::parse(
            r#"
[severity]
low = "cosmetic"
[severity.client_scale]
low = "P4"
"#,
            Path::new("c.toml"),
        )
        .expect("parses");
        assert_eq!(
            c.severity.describe(Severity::Low),
            "low: cosmetic (Client's scale: P4)"
        );
        assert!(
            c.severity
                .describe(Severity::Critical)
                .starts_with("critical: ongoing compromise")
        );
        assert_eq!(c.severity.help().len(), Severity::ALL.len());
        let err = Config::parse("[severity]\nsevere = \"x\"\n", Path::new("c.toml"))
            .expect_err("unknown level");
        assert!(err.to_string().contains("c.toml:2:"), "{err}");
        // The example config parses (its [severity] section is commented out).
        Config::parse(EXAMPLE, Path::new("example.toml")).expect("example parses");
    }

    #[test]
    fn reminders_default_and_parse() {
        let config = Config::parse("", Path::new("c.toml")).expect("empty");
        assert_eq!(
            config.reminders.leads(),
            vec![chrono::Duration::minutes(15), chrono::Duration::minutes(5)]
        );
        assert!(config.reminders.desktop);
        assert!(!config.reminders.internal_targets);
        assert_eq!(config.reminders.command, None);
        let config = Config::parse(
            "[reminders]\nbefore = [\"1h\", \"10m\"]\nemail_to = \"On-call <oncall@provider.example>\"\ncommand = \"page-oncall  --urgent\"\ndesktop = false\ninternal_targets = true\n",
            Path::new("c.toml"),
        )
        .expect("parses");
        let r = &config.reminders;
        assert_eq!(
            r.leads(),
            vec![chrono::Duration::hours(1), chrono::Duration::minutes(10)]
        );
        assert_eq!(
            r.command,
            Some(ReminderCommand::Direct(vec![
                "page-oncall".into(),
                "--urgent".into()
            ]))
        );
        let argv = Config::parse(
            "[reminders]\ncommand = [\"page\", \"two words\"]\n",
            Path::new("c.toml"),
        )
        .expect("argv");
        assert_eq!(
            argv.reminders.command,
            Some(ReminderCommand::Direct(vec![
                "page".into(),
                "two words".into()
            ]))
        );
        let shell = Config::parse(
            "[reminders]\ncommand = { shell = \"env > /tmp/x\" }\n",
            Path::new("c.toml"),
        )
        .expect("shell");
        assert_eq!(
            shell.reminders.command,
            Some(ReminderCommand::Shell("env > /tmp/x".into()))
        );
    }

    #[test]
    fn reminder_errors_name_the_line() {
        for (text, line, words) in [
            (
                "[reminders]\n\nbefore = [\"15m\", \"5 minutes\"]\n",
                3,
                "lead time",
            ),
            (
                "[reminders]\nemail_to = \"not an address\"\n",
                2,
                "email address",
            ),
            ("[reminders]\ncommand = \"  \"\n", 2, "empty"),
            ("[reminders]\ncommand = { shell = \"\" }\n", 2, "empty"),
            ("[reminders]\ndesktp = true\n", 2, "unknown field"),
        ] {
            let err = Config::parse(text, Path::new("c.toml")).expect_err(text);
            let said = err.to_string();
            assert!(said.starts_with(&format!("c.toml:{line}:")), "{said}");
            assert!(said.contains(words), "{said}");
        }
        let err = Config::parse(
            "[reminders]\ncommand_timeout_secs = 0\n",
            Path::new("c.toml"),
        )
        .expect_err("zero");
        assert!(
            err.to_string().contains("reminders.command_timeout_secs"),
            "{err}"
        );
    }
}
