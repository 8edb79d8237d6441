//! Talking to the SMTP server, with TLS always on (or loopback-only plain
//! text), and errors put into words.
//!
//! - `security = "starttls"` (default): STARTTLS is **required**. A server
//!   that does not offer it is refused before anything but EHLO is sent.
//! - `security = "tls"`: implicit TLS from the first byte (usually port 465).
//! - `security = "none"`: only when **every** address the host name resolves
//!   to is loopback (127.0.0.0/8, ::1), and never with credentials.
//!
//! The host name is resolved once per connection; the addresses checked are
//! the addresses connected to (lettre is handed a `SocketAddr`, never the
//! name), so a second lookup cannot send the session somewhere else.
//!
//! Trusted roots: the Mozilla set (webpki-roots) plus every certificate in
//! `ca_file` (PEM). The password comes from `BREACHDESK_SMTP_PASSWORD` or the
//! standard output of `password_command` (run with `sh -c`); it lives only in
//! a [`Password`] whose `Debug` is redacted, and is never logged or stored.
//! When `password_command` fails only its exit status is reported: neither
//! its standard output nor its standard error is read into any message.
//!
//! Server text that is kept (an error's reply, the acceptance reply) has the
//! password, and the base64 forms an AUTH exchange carries, replaced by
//! `[redacted]`; a failed login keeps only the reply code and a fixed
//! description.
//!
//! Each stage (the password command, the host lookup, connect + greeting +
//! EHLO, STARTTLS, AUTH, sending) runs under
//! its own `timeout_secs` deadline; sending gets one extra second per 64 KiB
//! of message. lettre's async client only bounds the TCP connect itself, so
//! the deadlines are enforced here.

use super::error::MailError;
use super::smtp_errors::{Stage, auth_failure, classify, error_text, io_words};
use crate::config::schema::{Smtp, SmtpSecurity};
use chrono::{DateTime, Utc};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
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
    // stderr goes nowhere (not to the terminal, not into memory): a failing
    // secret helper may print the secret, or part of it, on either stream.
    // (`Command::output` would capture stderr whatever is set, so the child
    // is spawned and only its stdout is read.)
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| MailError::Password(format!("cannot run password_command: {e}")))?;
    let secs = smtp.timeout_secs.max(1);
    let output = tokio::time::timeout(Duration::from_secs(secs), child.wait_with_output())
        .await
        .map_err(|_| MailError::Password(format!("password_command did not finish in {secs} s")))?
        .map_err(|e| MailError::Password(format!("password_command: {e}")))?;
    if !output.status.success() {
        // Only the exit status: the output is never shown or stored.
        let status = match output.status.code() {
            Some(code) => format!("exit {code}"),
            None => "killed by a signal".into(),
        };
        return Err(MailError::Password(format!(
            "password_command failed ({status}); its output is not shown, run it yourself to see why"
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

/// Whether `addr` is a loopback address (an IPv4-mapped IPv6 address counts
/// as the IPv4 address it carries).
fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().to_canonical().is_loopback()
}

/// Refuses settings that would send credentials without TLS, before anything
/// is looked up or run. Whether plain text may go to the host is decided on
/// its resolved addresses by [`check_plain_text`].
pub fn check_security(smtp: &Smtp) -> Result<(), MailError> {
    if smtp.host.trim().is_empty() {
        return Err(MailError::Config("host is empty".into()));
    }
    if smtp.security == SmtpSecurity::None && smtp.username.is_some() {
        return Err(MailError::Insecure(
            "security = \"none\" with a username would send the password in clear text; use starttls or tls".into(),
        ));
    }
    Ok(())
}

/// With `security = "none"`, every address the host resolved to must be
/// loopback (and there must be at least one).
pub fn check_plain_text(smtp: &Smtp, addrs: &[SocketAddr]) -> Result<(), MailError> {
    if smtp.security != SmtpSecurity::None {
        return Ok(());
    }
    let first_not_loopback = addrs.iter().find(|a| !is_loopback(a));
    match (addrs.is_empty(), first_not_loopback) {
        (false, None) => Ok(()),
        (true, _) => Err(MailError::Insecure(format!(
            "security = \"none\" sends mail in clear text; it is only allowed to a loopback host, and {} resolves to no address",
            smtp.host
        ))),
        (false, Some(a)) => Err(MailError::Insecure(format!(
            "security = \"none\" sends mail in clear text; it is only allowed to a loopback host, and {} resolves to {}, which is not loopback",
            smtp.host,
            a.ip()
        ))),
    }
}

/// The host name without IPv6 brackets.
fn bare_host(smtp: &Smtp) -> &str {
    smtp.host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
}

/// Looks the host up once, within the deadline.
async fn resolve(smtp: &Smtp, secs: u64) -> Result<Vec<SocketAddr>, MailError> {
    let port = smtp.effective_port();
    let lookup = tokio::net::lookup_host((bare_host(smtp), port));
    let found = tokio::time::timeout(Duration::from_secs(secs), lookup)
        .await
        .map_err(|_| MailError::Timeout {
            secs,
            stage: "looking up the host name".into(),
        })?
        .map_err(|e| MailError::Connect {
            host: smtp.host.clone(),
            port,
            reason: format!("the host name does not resolve ({})", io_words(&e)),
        })?;
    let addrs: Vec<SocketAddr> = found.collect();
    if addrs.is_empty() {
        return Err(MailError::Connect {
            host: smtp.host.clone(),
            port,
            reason: "the host name resolves to no address".into(),
        });
    }
    Ok(addrs)
}

/// What must never be kept or shown: the password itself and the base64
/// forms an AUTH exchange carries (PLAIN's `\0user\0password`, LOGIN's
/// password), padded and unpadded, standard and URL-safe alphabets.
#[derive(Default)]
struct Secrets(Vec<String>);

impl Secrets {
    fn new(user: Option<&str>, password: Option<&Password>) -> Secrets {
        use base64::Engine as _;
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        let Some(password) = password.map(Password::expose).filter(|p| !p.is_empty()) else {
            return Secrets::default();
        };
        let plain = format!("\0{}\0{password}", user.unwrap_or(""));
        let mut forms = vec![password.to_string()];
        for raw in [password.as_bytes(), plain.as_bytes()] {
            for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
                forms.push(engine.encode(raw));
            }
        }
        // Longest first, so a padded form goes before its unpadded prefix.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        Secrets(forms)
    }

    fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.0 {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "[redacted]");
            }
        }
        out
    }

    /// The same error with every secret taken out of the text it carries.
    fn redact_error(&self, e: MailError) -> MailError {
        if self.0.is_empty() {
            return e;
        }
        match e {
            MailError::Connect { host, port, reason } => MailError::Connect {
                host,
                port,
                reason: self.redact(&reason),
            },
            MailError::Certificate(t) => MailError::Certificate(self.redact(&t)),
            MailError::Tls(t) => MailError::Tls(self.redact(&t)),
            MailError::Auth(t) => MailError::Auth(self.redact(&t)),
            MailError::Rejected(t) => MailError::Rejected(self.redact(&t)),
            MailError::Protocol(t) => MailError::Protocol(self.redact(&t)),
            MailError::NoReply(t) => MailError::NoReply(self.redact(&t)),
            other => other,
        }
    }
}

/// TLS parameters: webpki roots plus `ca_file`.
fn tls_parameters(smtp: &Smtp) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(bare_host(smtp).to_string());
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

/// Says QUIT if the server is still listening, giving up after 2 s.
async fn close(conn: &mut AsyncSmtpConnection) {
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.abort()).await;
}

struct Session {
    conn: AsyncSmtpConnection,
    secs: u64,
    /// The address connected to (one of those resolved and checked).
    addr: SocketAddr,
    secrets: Secrets,
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

/// Connects, secures and logs in, per the settings. The host is resolved
/// once; with `security = "none"` every address must be loopback; the
/// connection goes to those same addresses (in order, the first that
/// answers), never to a fresh lookup of the name.
async fn open(smtp: &Smtp) -> Result<Session, MailError> {
    check_security(smtp)?;
    let secs = smtp.timeout_secs.max(1);
    let addrs = resolve(smtp, secs).await?;
    check_plain_text(smtp, &addrs)?;
    let password = resolve_password(smtp).await?;
    let secrets = Secrets::new(smtp.username.as_deref(), password.as_ref());
    tracing::debug!(host = %smtp.host, port = smtp.effective_port(), "smtp connect");
    match connect(smtp, &addrs, password.as_ref(), secs).await {
        Ok((conn, addr)) => Ok(Session {
            conn,
            secs,
            addr,
            secrets,
        }),
        Err(e) => Err(secrets.redact_error(e)),
    }
}

/// Tries each checked address in turn (within one connect deadline): the
/// first, then the rest; the last failure is the one reported.
async fn connect_to_checked(
    addrs: &[SocketAddr],
    secs: u64,
    hello: &ClientId,
    wrapper: Option<TlsParameters>,
    smtp: &Smtp,
) -> Result<(AsyncSmtpConnection, SocketAddr), MailError> {
    let mut last = MailError::Connect {
        host: smtp.host.clone(),
        port: smtp.effective_port(),
        reason: "the host name resolves to no address".into(),
    };
    for addr in addrs {
        match bounded::connect(*addr, secs, hello, wrapper.clone(), smtp).await {
            Ok(conn) => return Ok((conn, *addr)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

async fn connect(
    smtp: &Smtp,
    addrs: &[SocketAddr],
    password: Option<&Password>,
    secs: u64,
) -> Result<(AsyncSmtpConnection, SocketAddr), MailError> {
    let port = smtp.effective_port();
    let hello = ClientId::default();
    let tls = match smtp.security {
        SmtpSecurity::None => None,
        _ => Some(tls_parameters(smtp)?),
    };
    let wrapper = match smtp.security {
        SmtpSecurity::Tls => tls.clone(),
        _ => None,
    };
    let implicit = wrapper.is_some();
    let (mut conn, addr) = tokio::time::timeout(
        Duration::from_secs(secs),
        connect_to_checked(addrs, secs, &hello, wrapper, smtp),
    )
    .await
    .map_err(|_| MailError::Timeout {
        secs,
        stage: Stage::Connect.words().into(),
    })??;
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
    // lettre cannot see the TLS it was handed (implicit TLS is ours).
    let encrypted = implicit || conn.is_encrypted();
    if smtp.security != SmtpSecurity::None && !encrypted {
        close(&mut conn).await;
        return Err(MailError::Insecure(
            "the connection is not encrypted; nothing was sent".into(),
        ));
    }
    if let (Some(user), Some(password)) = (&smtp.username, password) {
        if !encrypted {
            close(&mut conn).await;
            return Err(MailError::Insecure(
                "credentials are never sent without TLS".into(),
            ));
        }
        let credentials = Credentials::new(user.clone(), password.expose().to_string());
        let login = conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials);
        let failed = match tokio::time::timeout(Duration::from_secs(secs), login).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(auth_failure(&e, smtp)),
            Err(_) => Some(MailError::Timeout {
                secs,
                stage: Stage::Auth.words().into(),
            }),
        };
        if let Some(e) = failed {
            close(&mut conn).await;
            return Err(e);
        }
    }
    Ok((conn, addr))
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
        return Err(session.secrets.redact_error(e));
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
                reply: session.secrets.redact(reply.trim()),
                accepted_at: started + elapsed,
            })
        }
        Err(e) => {
            close(&mut session.conn).await;
            Err(session.secrets.redact_error(match e {
                MailError::Rejected(reply) => MailError::Rejected(reply),
                other => MailError::NoReply(other.to_string()),
            }))
        }
    }
}

/// Connects, starts TLS and logs in, then says goodbye: for
/// `breachdesk config check`. Returns a one-line description.
pub async fn check_connection(smtp: &Smtp) -> Result<String, MailError> {
    let mut session = open(smtp).await?;
    // `open` refuses anything but TLS unless security is "none".
    let encrypted = smtp.security != SmtpSecurity::None;
    let _ = tokio::time::timeout(Duration::from_secs(2), session.conn.quit()).await;
    let at = if bare_host(smtp).parse::<std::net::IpAddr>().is_ok() {
        String::new()
    } else {
        format!(" at {}", session.addr.ip())
    };
    Ok(format!(
        "connected to {}:{}{at} ({}){}",
        smtp.host,
        smtp.effective_port(),
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

mod bounded;
pub use super::smtp_errors::{MAX_REPLY, MAX_REPLY_LINE, MAX_REPLY_LINES, Over, TooLong};

#[cfg(test)]
mod tests;
