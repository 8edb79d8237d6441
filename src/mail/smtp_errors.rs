//! SMTP and TLS failures in a responder's words: which [`MailError`] a
//! lettre error is, given the stage of the conversation it happened in, and
//! a sentence that says what to check (never a debug dump, never a password).

use super::error::MailError;
use crate::config::schema::Smtp;
use std::error::Error as StdError;
use std::fmt;
use std::net::SocketAddr;

/// The longest reply line read: 64 KiB (SMTP allows 512 bytes).
pub const MAX_REPLY_LINE: usize = 64 * 1024;
/// The most read from the server between two writes: 1 MiB.
pub const MAX_REPLY: usize = 1024 * 1024;
/// The most lines read between two writes. lettre parses a multi-line reply
/// again from its start at every line, so a reply of many short lines costs
/// time by the square of its length; a real one has a few dozen.
pub const MAX_REPLY_LINES: usize = 1000;

/// The server sent more than the caps allow: the session is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLong {
    pub server: SocketAddr,
    pub what: Over,
}

/// Which cap was passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    Line,
    Lines,
    Bytes,
}

impl fmt::Display for TooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.what {
            Over::Line => format!("a reply line over {} KiB", MAX_REPLY_LINE / 1024),
            Over::Lines => format!("a reply of more than {MAX_REPLY_LINES} lines"),
            Over::Bytes => format!("a reply over {} MiB", MAX_REPLY / (1024 * 1024)),
        };
        write!(
            f,
            "the server {} sent {what}; the connection was dropped",
            self.server
        )
    }
}

impl std::error::Error for TooLong {}

/// What the SMTP conversation was doing when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Connect,
    StartTls,
    Auth,
    Send,
}

impl Stage {
    pub(super) fn words(self) -> &'static str {
        match self {
            Stage::Connect => "connecting",
            Stage::StartTls => "starting TLS",
            Stage::Auth => "logging in",
            Stage::Send => "sending the message",
        }
    }
}

/// The lettre error and its sources joined, without debug formatting.
pub(super) fn error_text(e: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Finds an I/O error or a rustls error anywhere in the chain, including
/// inside an `io::Error` (whose `source()` skips its own payload).
fn find_in_chain<'a>(
    e: &'a (dyn StdError + 'static),
) -> (Option<&'a std::io::Error>, Option<&'a rustls::Error>) {
    let mut io = None;
    let mut tls = None;
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            tls = tls.or(Some(r));
        }
        if let Some(i) = err.downcast_ref::<std::io::Error>() {
            io = io.or(Some(i));
            if let Some(inner) = i.get_ref()
                && let Some(r) = inner.downcast_ref::<rustls::Error>()
            {
                tls = tls.or(Some(r));
            }
        }
        current = err.source();
    }
    (io, tls)
}

pub(super) fn io_words(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset by the server".into(),
        ConnectionAborted => "connection aborted".into(),
        HostUnreachable => "host unreachable".into(),
        NetworkUnreachable => "network unreachable".into(),
        AddrNotAvailable => "address not available".into(),
        UnexpectedEof | BrokenPipe => "the server closed the connection".into(),
        _ => {
            let text = e.to_string();
            // "failed to lookup address information: ..." and friends.
            let text = match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            text.to_lowercase()
        }
    }
}

/// A failed login: the reply code and a fixed description, never the
/// server's text (a server may echo the credentials it was sent).
pub(super) fn auth_failure(e: &lettre::transport::smtp::Error, smtp: &Smtp) -> MailError {
    if let Some(code) = e.status() {
        return MailError::Auth(format!("the server refused the login (reply {code})"));
    }
    if e.is_client() {
        // lettre's own fixed words, e.g. no mechanism in common.
        return MailError::Auth(crate::text::one_line(&error_text(e)));
    }
    let chain: &(dyn StdError + 'static) = e;
    if let (Some(_), _) | (_, Some(_)) = find_in_chain(chain) {
        // I/O and TLS failures are described in fixed words too.
        return classify(e, Stage::Auth, smtp);
    }
    MailError::Auth("the login did not complete (the server's reply is not kept)".into())
}

pub(super) fn classify(e: &lettre::transport::smtp::Error, stage: Stage, smtp: &Smtp) -> MailError {
    let secs = smtp.timeout_secs.max(1);
    let chain: &(dyn StdError + 'static) = e;
    let (io, tls) = find_in_chain(chain);
    if let Some(long) = io
        .and_then(|i| i.get_ref())
        .and_then(|inner| inner.downcast_ref::<TooLong>())
    {
        return MailError::Protocol(format!("{long} (while {})", stage.words()));
    }
    if let Some(i) = io
        && i.kind() == std::io::ErrorKind::TimedOut
    {
        return MailError::Timeout {
            secs,
            stage: stage.words().into(),
        };
    }
    if let Some(t) = tls {
        return match t {
            rustls::Error::InvalidCertificate(c) => {
                MailError::Certificate(cert_words(c, &smtp.host))
            }
            other => MailError::Tls(other.to_string()),
        };
    }
    if let Some(code) = e.status() {
        let message = e.source().map(|s| s.to_string()).unwrap_or_default();
        let reply = crate::text::one_line(format!("{code} {message}").trim());
        return match stage {
            Stage::Auth => MailError::Auth(reply),
            Stage::Send => MailError::Rejected(reply),
            Stage::Connect => MailError::Connect {
                host: smtp.host.clone(),
                port: smtp.effective_port(),
                reason: format!("the server refused the session: {reply}"),
            },
            Stage::StartTls => MailError::Tls(format!("the server refused STARTTLS: {reply}")),
        };
    }
    if let Some(i) = io {
        let words = io_words(i);
        return match stage {
            Stage::Connect => MailError::Connect {
                host: smtp.host.clone(),
                port: smtp.effective_port(),
                reason: words,
            },
            _ => MailError::Protocol(format!("{words} while {}", stage.words())),
        };
    }
    let text = crate::text::one_line(&error_text(chain));
    match stage {
        Stage::Auth => MailError::Auth(text),
        Stage::Connect if text.contains("incomplete response") => MailError::Connect {
            host: smtp.host.clone(),
            port: smtp.effective_port(),
            reason: "the server closed the connection".into(),
        },
        _ if text.contains("incomplete response") => MailError::Protocol(format!(
            "the server closed the connection while {}",
            stage.words()
        )),
        _ => MailError::Protocol(format!("{text} (while {})", stage.words())),
    }
}

fn cert_words(e: &rustls::CertificateError, host: &str) -> String {
    use rustls::CertificateError::*;
    match e {
        UnknownIssuer => format!(
            "the certificate of {host} is signed by an unknown authority (add your organisation's CA as [smtp] ca_file)"
        ),
        BadSignature => "the certificate signature is invalid".into(),
        Expired | ExpiredContext { .. } => format!("the certificate of {host} has expired"),
        NotValidYet | NotValidYetContext { .. } => {
            format!("the certificate of {host} is not valid yet (check this machine's clock)")
        }
        Revoked => format!("the certificate of {host} has been revoked"),
        NotValidForName | NotValidForNameContext { .. } => {
            format!("the certificate is not valid for the name {host}")
        }
        other => rustls::Error::InvalidCertificate(other.clone()).to_string(),
    }
}
