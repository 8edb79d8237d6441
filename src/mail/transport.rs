//! Talking to the SMTP server, with TLS always on (or loopback-only plain
//! text), and errors put into words.
//!
//! - `security = "starttls"` (default): STARTTLS is **required**. A server
//!   that does not offer it is refused before anything but EHLO is sent.
//! - `security = "tls"`: implicit TLS from the first byte (usually port 465).
//! - `security = "none"`: only to a loopback host (127.0.0.0/8, ::1,
//!   `localhost`), and never with credentials.
//!
//! Trusted roots: the Mozilla set (webpki-roots) plus every certificate in
//! `ca_file` (PEM). The password comes from `BREACHDESK_SMTP_PASSWORD` or the
//! standard output of `password_command` (run with `sh -c`); it lives only in
//! a [`Password`] whose `Debug` is redacted, and is never logged or stored.
//!
//! Each stage (connect + greeting + EHLO, STARTTLS, AUTH, sending) runs under
//! its own `timeout_secs` deadline; sending gets one extra second per 64 KiB
//! of message. lettre's async client only bounds the TCP connect itself, so
//! the deadlines are enforced here.

use super::MailError;
use crate::config::{Smtp, SmtpSecurity};
use chrono::{DateTime, Utc};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The environment variable that can hold the SMTP password.
pub const PASSWORD_ENV: &str = "BREACHDESK_SMTP_PASSWORD";

/// A secret that never shows itself in `Debug` or `Display`.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(secret: String) -> Password {
        Password(secret)
    }
    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// The SMTP password, if a username is configured: from
/// `BREACHDESK_SMTP_PASSWORD`, else from `password_command`.
pub async fn resolve_password(smtp: &Smtp) -> Result<Option<Password>, MailError> {
    if smtp.username.is_none() {
        return Ok(None);
    }
    if let Ok(p) = std::env::var(PASSWORD_ENV)
        && !p.is_empty()
    {
        return Ok(Some(Password(p)));
    }
    let Some(command) = smtp
        .password_command
        .as_deref()
        .filter(|c| !c.trim().is_empty())
    else {
        return Err(MailError::Password(format!(
            "a username is set but there is no password: set {PASSWORD_ENV} or [smtp] password_command"
        )));
    };
    let run = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .output();
    let secs = smtp.timeout_secs.max(1);
    let output = tokio::time::timeout(Duration::from_secs(secs), run)
        .await
        .map_err(|_| MailError::Password(format!("password_command did not finish in {secs} s")))?
        .map_err(|e| MailError::Password(format!("cannot run password_command: {e}")))?;
    if !output.status.success() {
        // stderr is shown (it is the command's own message), stdout never is.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = crate::text::one_line(stderr.trim());
        let code = output
            .status
            .code()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "a signal".into());
        return Err(MailError::Password(format!(
            "password_command failed (exit {code}){}",
            if stderr.is_empty() {
                String::new()
            } else {
                format!(": {stderr}")
            }
        )));
    }
    let text = String::from_utf8(output.stdout).map_err(|_| {
        MailError::Password("password_command printed something that is not UTF-8".into())
    })?;
    let secret = text.trim_end_matches(['\r', '\n']).trim().to_string();
    if secret.is_empty() {
        return Err(MailError::Password(
            "password_command printed nothing".into(),
        ));
    }
    Ok(Some(Password(secret)))
}

/// Whether `host` is a loopback name or address.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") || h.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// The port used when the config gives none: 587 for STARTTLS, 465 for
/// implicit TLS, 25 for plain text.
pub fn port(smtp: &Smtp) -> u16 {
    smtp.port.unwrap_or(match smtp.security {
        SmtpSecurity::Starttls => 587,
        SmtpSecurity::Tls => 465,
        SmtpSecurity::None => 25,
    })
}

/// Refuses settings that would send in clear text to a non-loopback host or
/// send credentials without TLS. Runs before any connection is made.
pub fn check_security(smtp: &Smtp) -> Result<(), MailError> {
    if smtp.host.trim().is_empty() {
        return Err(MailError::Config("host is empty".into()));
    }
    if smtp.security == SmtpSecurity::None {
        if !is_loopback(&smtp.host) {
            return Err(MailError::Insecure(format!(
                "security = \"none\" sends mail in clear text; it is only allowed to a loopback host, not {}",
                smtp.host
            )));
        }
        if smtp.username.is_some() {
            return Err(MailError::Insecure(
                "security = \"none\" with a username would send the password in clear text; use starttls or tls".into(),
            ));
        }
    }
    Ok(())
}

/// TLS parameters: webpki roots plus `ca_file`.
fn tls_parameters(smtp: &Smtp) -> Result<TlsParameters, MailError> {
    let host = smtp
        .host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = &smtp.ca_file {
        let pem = std::fs::read(path).map_err(|e| {
            MailError::Config(format!("ca_file {}: cannot read: {e}", path.display()))
        })?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(MailError::Config(format!(
                "ca_file {}: no PEM certificate found",
                path.display()
            )));
        }
        let cert = Certificate::from_pem(&pem).map_err(|e| {
            MailError::Config(format!("ca_file {}: {}", path.display(), error_text(&e)))
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| MailError::Config(format!("TLS settings: {}", error_text(&e))))
}

/// What the server said when it accepted a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// e.g. `250 2.0.0 Ok: queued as 4XyZ`.
    pub reply: String,
    pub accepted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Connect,
    StartTls,
    Auth,
    Send,
}

impl Stage {
    fn words(self) -> &'static str {
        match self {
            Stage::Connect => "connecting",
            Stage::StartTls => "starting TLS",
            Stage::Auth => "logging in",
            Stage::Send => "sending the message",
        }
    }
}

/// Says QUIT if the server is still listening, giving up after 2 s.
async fn close(conn: &mut AsyncSmtpConnection) {
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.abort()).await;
}

struct Session {
    conn: AsyncSmtpConnection,
    secs: u64,
}

async fn within<T>(
    secs: u64,
    extra: Duration,
    stage: Stage,
    fut: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
    smtp: &Smtp,
) -> Result<T, MailError> {
    match tokio::time::timeout(Duration::from_secs(secs) + extra, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(&e, stage, smtp)),
        Err(_) => Err(MailError::Timeout {
            secs: secs + extra.as_secs(),
            stage: stage.words().into(),
        }),
    }
}

/// Connects, secures and logs in, per the settings.
async fn open(smtp: &Smtp) -> Result<Session, MailError> {
    check_security(smtp)?;
    let password = resolve_password(smtp).await?;
    let secs = smtp.timeout_secs.max(1);
    let host = smtp
        .host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = port(smtp);
    let hello = ClientId::default();
    let tls = match smtp.security {
        SmtpSecurity::None => None,
        _ => Some(tls_parameters(smtp)?),
    };
    let wrapper = match smtp.security {
        SmtpSecurity::Tls => tls.clone(),
        _ => None,
    };
    let mut conn = within(
        secs,
        Duration::ZERO,
        Stage::Connect,
        AsyncSmtpConnection::connect_tokio1(
            (host.as_str(), port),
            Some(Duration::from_secs(secs)),
            &hello,
            wrapper,
            None,
        ),
        smtp,
    )
    .await?;
    if smtp.security == SmtpSecurity::Starttls {
        if !conn.can_starttls() {
            close(&mut conn).await;
            return Err(MailError::NoStartTls {
                host: smtp.host.clone(),
                port,
            });
        }
        let Some(params) = tls else {
            return Err(MailError::Config("TLS settings missing".into()));
        };
        // On failure the connection is dropped, not closed politely: after a
        // failed TLS upgrade lettre's stream is gone and must not be written to.
        within(
            secs,
            Duration::ZERO,
            Stage::StartTls,
            conn.starttls(params, &hello),
            smtp,
        )
        .await?;
    }
    if smtp.security != SmtpSecurity::None && !conn.is_encrypted() {
        close(&mut conn).await;
        return Err(MailError::Insecure(
            "the connection is not encrypted; nothing was sent".into(),
        ));
    }
    if let (Some(user), Some(password)) = (&smtp.username, &password) {
        if !conn.is_encrypted() {
            close(&mut conn).await;
            return Err(MailError::Insecure(
                "credentials are never sent without TLS".into(),
            ));
        }
        let credentials = Credentials::new(user.clone(), password.expose().to_string());
        if let Err(e) = within(
            secs,
            Duration::ZERO,
            Stage::Auth,
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials),
            smtp,
        )
        .await
        {
            close(&mut conn).await;
            return Err(e);
        }
    }
    Ok(Session { conn, secs })
}

/// Sends one formatted message to the envelope's recipients and returns the
/// server's acceptance. `started` is the caller's notion of "now" at the
/// start; the acceptance time is that plus the time it took.
///
/// MAIL, RCPT and DATA are sent one by one, so a failure is classified
/// honestly: anything before the message body is transmitted means the
/// server has not got it; a reply to the body is an acceptance or a refusal
/// ([`MailError::Rejected`], permanent when it is a 5xx); and a body that was
/// transmitted with no reply (the connection dropped, or the server stalled)
/// is [`MailError::NoReply`]: the message may have arrived.
pub async fn send(
    smtp: &Smtp,
    envelope: &Envelope,
    bytes: &[u8],
    started: DateTime<Utc>,
) -> Result<Accepted, MailError> {
    use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
    use lettre::transport::smtp::extension::{Extension, MailBodyParameter, MailParameter};
    let clock = Instant::now();
    let mut session = open(smtp).await?;
    let secs = session.secs;
    let mut options = Vec::new();
    if !bytes.is_ascii() {
        if !session
            .conn
            .server_info()
            .supports_feature(Extension::EightBitMime)
        {
            close(&mut session.conn).await;
            return Err(MailError::Protocol(
                "the message is not 7-bit and the server does not offer 8BITMIME".into(),
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    let conn = &mut session.conn;
    let before_body = async {
        within(
            secs,
            Duration::ZERO,
            Stage::Send,
            conn.command(Mail::new(envelope.from().cloned(), options)),
            smtp,
        )
        .await?;
        for to in envelope.to() {
            within(
                secs,
                Duration::ZERO,
                Stage::Send,
                conn.command(Rcpt::new(to.clone(), vec![])),
                smtp,
            )
            .await?;
        }
        within(secs, Duration::ZERO, Stage::Send, conn.command(Data), smtp).await
    }
    .await;
    if let Err(e) = before_body {
        close(&mut session.conn).await;
        return Err(e);
    }
    let extra = Duration::from_secs((bytes.len() / (64 * 1024)) as u64);
    let result = within(secs, extra, Stage::Send, session.conn.message(bytes), smtp).await;
    match result {
        Ok(response) => {
            let elapsed = chrono::Duration::from_std(clock.elapsed()).unwrap_or_default();
            // QUIT politely, but the message is already accepted: ignore failures.
            let _ = tokio::time::timeout(Duration::from_secs(2), session.conn.quit()).await;
            let lines: Vec<&str> = response.message().collect();
            let reply = crate::text::one_line(&format!("{} {}", response.code(), lines.join(" ")));
            Ok(Accepted {
                reply: reply.trim().to_string(),
                accepted_at: started + elapsed,
            })
        }
        Err(e) => {
            close(&mut session.conn).await;
            Err(match e {
                MailError::Rejected(reply) => MailError::Rejected(reply),
                other => MailError::NoReply(other.to_string()),
            })
        }
    }
}

/// Connects, starts TLS and logs in, then says goodbye: for
/// `breachdesk config check`. Returns a one-line description.
pub async fn check_connection(smtp: &Smtp) -> Result<String, MailError> {
    let mut session = open(smtp).await?;
    let encrypted = session.conn.is_encrypted();
    let _ = tokio::time::timeout(Duration::from_secs(2), session.conn.quit()).await;
    Ok(format!(
        "connected to {}:{} ({}){}",
        smtp.host,
        port(smtp),
        if encrypted {
            "TLS"
        } else {
            "plain text, loopback"
        },
        if smtp.username.is_some() {
            ", logged in"
        } else {
            ""
        }
    ))
}

/// The lettre error and its sources joined, without debug formatting.
fn error_text(e: &(dyn StdError + 'static)) -> String {
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

fn io_words(e: &std::io::Error) -> String {
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

fn classify(e: &lettre::transport::smtp::Error, stage: Stage, smtp: &Smtp) -> MailError {
    let secs = smtp.timeout_secs.max(1);
    let chain: &(dyn StdError + 'static) = e;
    let (io, tls) = find_in_chain(chain);
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
                port: port(smtp),
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
                port: port(smtp),
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
            port: port(smtp),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "127.0.0.1",
            "127.5.6.7",
            "::1",
            "[::1]",
            "LocalHost",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "smtp.example.org",
            "10.0.0.1",
            "192.168.1.1",
            "::2",
            "localhost.evil.org",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn password_is_redacted() {
        let p = Password::new("hunter2".into());
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
