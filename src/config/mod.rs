//! `config.toml`: who the responder is, who to notify, how to send mail, and
//! which calendar decides Working Days.
//!
//! A missing file means defaults. A file that does not parse is an error that
//! names the file, line and column. Secrets are never read from or written to
//! this file: the SMTP password comes from `BREACHDESK_SMTP_PASSWORD` or from
//! the output of `password_command`.

use crate::address::parse_mailbox;
use crate::text::line_col;
use std::path::{Path, PathBuf};

/// The commented example `breachdesk config init` writes.
pub const EXAMPLE: &str = include_str!("../../assets/config.example.toml");

/// breachdesk's audit log is kept at least 6 calendar months (184 days).
pub const MIN_AUDIT_RETENTION_DAYS: u32 = crate::audit::MIN_RETENTION_DAYS;

pub mod reminders;
pub mod schema;
pub mod sync;

pub use schema::*;

/// `file:line:column` of a dotted field (`calendar.division`) in config
/// text: the line of its key inside its `[section]` and the column where its
/// value starts; the file alone if it is not there.
fn field_at(text: &str, path: &Path, field: &str) -> String {
    match field_line(text, field) {
        Some(line) => format!("{}:{line}:{}", path.display(), value_column(text, line)),
        None => path.display().to_string(),
    }
}

/// The column (from 1, in characters) where the value starts on `line`
/// (after `key =`).
fn value_column(text: &str, line: usize) -> usize {
    let Some(l) = text.lines().nth(line.saturating_sub(1)) else {
        return 1;
    };
    let Some(eq) = l.find('=') else {
        return 1;
    };
    let after = &l[eq + 1..];
    let start = eq + 1 + (after.len() - after.trim_start().len());
    l[..start].chars().count() + 1
}

/// The line (from 1) of a dotted field's key inside its `[section]`.
fn field_line(text: &str, field: &str) -> Option<usize> {
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
            return Some(n + 1);
        }
    }
    None
}

/// Fields read straight into a type ([`CalendarSettings`]): a bad value is
/// reported as [`ConfigError::Invalid`], naming the field, like the checks
/// that run after reading.
const TYPED_FIELDS: [&str; 6] = [
    "calendar.division",
    "calendar.timezone",
    "calendar.end_of_day",
    "sync.interval",
    "reminders.before",
    "reminders.command_timeout_secs",
];

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
            let message = e.message().trim().to_string();
            match TYPED_FIELDS
                .into_iter()
                .find(|field| field_line(text, field) == Some(line))
            {
                Some(field) => ConfigError::Invalid {
                    at: format!("{}:{line}:{column}", path.display()),
                    field,
                    message,
                },
                None => ConfigError::Parse {
                    path: path.to_path_buf(),
                    line,
                    column,
                    message,
                },
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
                parse_mailbox(field, value).map_err(|e| invalid(field, e.words()))?;
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
        if self.audit.retention_days < MIN_AUDIT_RETENTION_DAYS {
            return Err(invalid(
                "audit.retention_days",
                format!(
                    "{} days is below the minimum of 6 calendar months (at least {} days)",
                    self.audit.retention_days, MIN_AUDIT_RETENTION_DAYS
                ),
            ));
        }
        if self.audit.retention_days > crate::audit::MAX_RETENTION_DAYS {
            return Err(invalid(
                "audit.retention_days",
                format!(
                    "{} days is out of range (at most {} days)",
                    self.audit.retention_days,
                    crate::audit::MAX_RETENTION_DAYS
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
        for (i, cc) in self.contacts.cc.iter().enumerate() {
            parse_mailbox("contacts.cc", cc)
                .map_err(|e| invalid("contacts.cc", format!("entry {}: {}", i + 1, e.words())))?;
        }
        if let Some(r) = &self.responder.reply_to {
            parse_mailbox("responder.reply_to", r)
                .map_err(|e| invalid("responder.reply_to", e.words()))?;
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
}

#[cfg(test)]
mod tests;
