//! What `config.toml` can say, as types: each section and value is checked
//! as it is read (addresses, lead times, the calendar's division, zone and
//! end of day), so the rest of breachdesk works with typed values. Reading
//! the file and the checks that span fields are in [`super`].

use crate::domain::calendar::Division;
use crate::domain::incident::PartyRole;
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub use super::reminders::{Lead, Mailbox, RawCommand, ReminderCommand, Reminders};
pub use super::sync::{SyncInterval, SyncSettings};

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
    /// Team sync through git (the console's automatic sync).
    #[serde(default)]
    pub sync: SyncSettings,
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
    /// One level in words: `high: <definition> (Client's scale: P2)`.
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

/// Which days are Working Days and where "end of day" is. Each value is
/// checked as it is read: a bad one is reported with its file, line and
/// field (see [`super::Config::parse`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSettings {
    /// `england-and-wales` (default), `scotland` or `northern-ireland`.
    #[serde(default, with = "division_text")]
    pub division: Division,
    /// IANA zone for showing times and for Working Days (default Europe/London).
    #[serde(default = "default_timezone", with = "zone_text")]
    pub timezone: Tz,
    /// Local time at which a Working Day ends for deadlines (default
    /// 23:59:59), written `17:30` or `23:59:59`.
    #[serde(default = "default_end_of_day", with = "time_of_day_text")]
    pub end_of_day: NaiveTime,
    /// The organisation's own closure days (not Working Days).
    #[serde(default)]
    pub closures: Vec<NaiveDate>,
}

impl Default for CalendarSettings {
    fn default() -> Self {
        CalendarSettings {
            division: Division::default(),
            timezone: default_timezone(),
            end_of_day: default_end_of_day(),
            closures: Vec::new(),
        }
    }
}

fn default_timezone() -> Tz {
    chrono_tz::Europe::London
}
fn default_end_of_day() -> NaiveTime {
    NaiveTime::from_hms_opt(23, 59, 59).expect("a valid time")
}

/// `calendar.division` as written: `england-and-wales`, `scotland`, `northern-ireland`.
mod division_text {
    use crate::domain::calendar::Division;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(division: &Division, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(division.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Division, D::Error> {
        let text = String::deserialize(input)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `calendar.timezone` as written: an IANA zone name such as `Europe/London`.
mod zone_text {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(zone: &Tz, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_str(zone.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Tz, D::Error> {
        let text = String::deserialize(input)?;
        text.trim().parse::<Tz>().map_err(|_| {
            serde::de::Error::custom(format!(
                "'{text}' is not an IANA time zone (e.g. Europe/London)"
            ))
        })
    }
}

/// `calendar.end_of_day` as written: `17:30` or `23:59:59`.
mod time_of_day_text {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, out: S) -> Result<S::Ok, S::Error> {
        out.collect_str(&time.format("%H:%M:%S"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(input)?;
        let trimmed = text.trim();
        NaiveTime::parse_from_str(trimmed, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(trimmed, "%H:%M"))
            .map_err(|_| {
                serde::de::Error::custom(format!(
                    "'{trimmed}' is not a time of day like 17:30 or 23:59:59"
                ))
            })
    }
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

impl Smtp {
    /// The port to connect to: as configured, else 587 for STARTTLS, 465
    /// for implicit TLS, 25 for plain text.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        })
    }
}

/// Where the mail a notice needs comes from in `config.toml`: the
/// responder (sender, reply-to, phone), the contacts (recipients and
/// copies) and the contract named in every notice. A narrower view than
/// [`Config`], for composing notices.
#[derive(Debug, Clone, Copy)]
pub struct Addressing<'a> {
    pub responder: &'a Responder,
    pub contacts: &'a Contacts,
    pub contract: &'a ContractSettings,
}

impl<'a> From<&'a Config> for Addressing<'a> {
    fn from(config: &'a Config) -> Addressing<'a> {
        Addressing {
            responder: &config.responder,
            contacts: &config.contacts,
            contract: &config.contract,
        }
    }
}

impl Config {
    /// The display and calendar time zone.
    pub fn timezone(&self) -> Tz {
        self.calendar.timezone
    }

    /// The local time a Working Day ends.
    pub fn end_of_day(&self) -> NaiveTime {
        self.calendar.end_of_day
    }

    /// The responder's name: from config, else the OS user.
    pub fn responder_name(&self) -> String {
        self.responder.name_or_os_user()
    }
}

impl Responder {
    /// The name: as configured, else the OS user.
    pub fn name_or_os_user(&self) -> String {
        self.name
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
