//! [`MailError`]: what can go wrong between composing a notice and the
//! server accepting it.

use crate::address::AddressError;
use std::path::PathBuf;

/// Everything that can go wrong between composing a notice and the server
/// accepting it, in words a responder can act on.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A template refers to a field that does not exist, or cannot be read.
    #[error("{file}:{line}: {message}")]
    Template {
        file: String,
        line: usize,
        message: String,
    },
    /// A recipient or sender address that is not a valid mailbox.
    #[error("{field}: '{value}' is not a valid email address: {reason}")]
    Address {
        field: String,
        value: String,
        reason: String,
    },
    /// Something the notice needs is missing (e.g. no recipient configured).
    #[error("{0}")]
    Incomplete(String),
    /// An attachment that does not exist, cannot be read or has changed.
    #[error("attachment {path}: {reason}")]
    Attachment { path: PathBuf, reason: String },
    /// The `[smtp]` settings cannot be used as they are.
    #[error("smtp settings: {0}")]
    Config(String),
    /// Sending would expose the message or the credentials in clear text.
    #[error("refused: {0}")]
    Insecure(String),
    /// The password could not be obtained.
    #[error("smtp password: {0}")]
    Password(String),
    #[error("could not connect to {host}:{port}: {reason}")]
    Connect {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("server did not answer in {secs} s ({stage})")]
    Timeout { secs: u64, stage: String },
    #[error("certificate not trusted: {0}")]
    Certificate(String),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("{host}:{port} does not offer STARTTLS; refusing to send in clear text")]
    NoStartTls { host: String, port: u16 },
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The server refused the message: permanently for a 5xx reply, for
    /// now for a 4xx one (see [`MailError::is_permanent`]).
    #[error("server refused the message: {0}")]
    Rejected(String),
    /// The whole message was transmitted but no reply came (the connection
    /// dropped or the server stalled): it may have arrived.
    #[error(
        "the message was transmitted but the server never confirmed it ({0}); it may have arrived, and it will be sent again with the same Message-ID"
    )]
    NoReply(String),
    #[error("SMTP conversation failed: {0}")]
    Protocol(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("outbox: {0}")]
    Outbox(String),
    #[error("notice {id} is being sent by another breachdesk process; try again in a moment")]
    Busy { id: String },
    /// The server accepted the notice but the outbox could not record it;
    /// the caller must still record the acceptance (and not send it again).
    #[error(
        "notice {id} was accepted by the server ({reply}, Message-ID {message_id}) but the outbox could not record it: {reason}"
    )]
    AcceptedNotRecorded {
        id: String,
        message_id: String,
        reply: String,
        reason: String,
    },
    #[error("notice {id} was already accepted by the server (Message-ID {message_id})")]
    AlreadySent { id: String, message_id: String },
}

impl From<AddressError> for MailError {
    fn from(e: AddressError) -> MailError {
        MailError::Address {
            field: e.field,
            value: e.value,
            reason: e.reason,
        }
    }
}

impl MailError {
    /// A permanent refusal (a 5xx reply to the message): never retried
    /// automatically.
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Rejected(reply) if reply.trim_start().starts_with('5'))
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> MailError {
        MailError::Io {
            path: path.into(),
            source,
        }
    }
}
