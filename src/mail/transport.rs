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
use crate::config::schema::{Smtp, SmtpSecurity};
use chrono::{DateTime, Utc};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::error::Error as StdError;
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

/// The port used when the config gives none: 587 for STARTTLS, 465 for
/// implicit TLS, 25 for plain text.
pub fn port(smtp: &Smtp) -> u16 {
    smtp.port.unwrap_or(match smtp.security {
        SmtpSecurity::Starttls => 587,
        SmtpSecurity::Tls => 465,
        SmtpSecurity::None => 25,
    })
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
    let port = port(smtp);
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
    first: SocketAddr,
    rest: &[SocketAddr],
    secs: u64,
    hello: &ClientId,
    wrapper: Option<TlsParameters>,
) -> Result<(AsyncSmtpConnection, SocketAddr), lettre::transport::smtp::Error> {
    let attempt = |addr: SocketAddr| {
        AsyncSmtpConnection::connect_tokio1(
            addr,
            Some(Duration::from_secs(secs)),
            hello,
            wrapper.clone(),
            None,
        )
    };
    let mut last = match attempt(first).await {
        Ok(conn) => return Ok((conn, first)),
        Err(e) => e,
    };
    for addr in rest {
        match attempt(*addr).await {
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
    let Some((first, rest)) = addrs.split_first() else {
        return Err(MailError::Connect {
            host: smtp.host.clone(),
            port,
            reason: "the host name resolves to no address".into(),
        });
    };
    let (mut conn, addr) = within(
        secs,
        Duration::ZERO,
        Stage::Connect,
        connect_to_checked(*first, rest, secs, &hello, wrapper),
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
    if let (Some(user), Some(password)) = (&smtp.username, password) {
        if !conn.is_encrypted() {
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
    let encrypted = session.conn.is_encrypted();
    let _ = tokio::time::timeout(Duration::from_secs(2), session.conn.quit()).await;
    let at = if bare_host(smtp).parse::<std::net::IpAddr>().is_ok() {
        String::new()
    } else {
        format!(" at {}", session.addr.ip())
    };
    Ok(format!(
        "connected to {}:{}{at} ({}){}",
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

/// A failed login: the reply code and a fixed description, never the
/// server's text (a server may echo the credentials it was sent).
fn auth_failure(e: &lettre::transport::smtp::Error, smtp: &Smtp) -> MailError {
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

    fn plain(host: &str) -> Smtp {
        Smtp {
            host: host.into(),
            port: Some(25),
            security: SmtpSecurity::None,
            username: None,
            password_command: None,
            ca_file: None,
            timeout_secs: 2,
        }
    }

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter()
            .map(|a| a.parse().expect("socket address"))
            .collect()
    }

    #[test]
    fn plain_text_needs_every_address_loopback() {
        let smtp = plain("relay.example");
        for ok in [
            &["127.0.0.1:25"][..],
            &["127.5.6.7:25", "[::1]:25"],
            &["[::ffff:127.0.0.1]:25"],
        ] {
            assert!(check_plain_text(&smtp, &addrs(ok)).is_ok(), "{ok:?}");
        }
        for (bad, named) in [
            (&["10.0.0.1:25"][..], "10.0.0.1"),
            (&["127.0.0.1:25", "192.0.2.7:25"], "192.0.2.7"),
            (&["[::1]:25", "[2001:db8::1]:25"], "2001:db8::1"),
            (&["[::ffff:10.0.0.1]:25"], "::ffff:10.0.0.1"),
        ] {
            let err = check_plain_text(&smtp, &addrs(bad)).expect_err("refused");
            assert_eq!(
                err.to_string(),
                format!(
                    "refused: security = \"none\" sends mail in clear text; it is only allowed to a loopback host, and relay.example resolves to {named}, which is not loopback"
                )
            );
        }
        assert!(matches!(
            check_plain_text(&smtp, &[]),
            Err(MailError::Insecure(_))
        ));
        // TLS settings are not limited to loopback.
        let tls = Smtp {
            security: SmtpSecurity::Starttls,
            ..smtp
        };
        assert!(check_plain_text(&tls, &addrs(&["192.0.2.7:587"])).is_ok());
    }

    #[test]
    fn secrets_are_redacted_in_every_form() {
        use base64::Engine as _;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let password = Password::new("s3cret?>pass".into());
        let secrets = Secrets::new(Some("sam"), Some(&password));
        let plain_blob = STANDARD.encode("\0sam\0s3cret?>pass");
        let login_blob = URL_SAFE_NO_PAD.encode("s3cret?>pass");
        let text = format!(
            "550 you said s3cret?>pass, AUTH PLAIN {plain_blob} and {login_blob}; {} then",
            STANDARD.encode("s3cret?>pass")
        );
        let redacted = secrets.redact(&text);
        assert_eq!(
            redacted,
            "550 you said [redacted], AUTH PLAIN [redacted] and [redacted]; [redacted] then"
        );
        let err = secrets.redact_error(MailError::Rejected(text));
        assert_eq!(
            err.to_string(),
            format!("server refused the message: {redacted}")
        );
        // Without a password there is nothing to take out.
        assert_eq!(Secrets::new(Some("sam"), None).redact("s3cret"), "s3cret");
    }

    /// The session goes to the address that was checked: `connect` is given
    /// addresses and never looks the name up again (this host name cannot
    /// resolve, so a second lookup would fail the test).
    #[tokio::test]
    async fn connects_to_the_checked_address_not_the_name() {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.expect("accept");
            let mut stream = BufReader::new(socket);
            stream
                .write_all(b"220 checked ESMTP\r\n")
                .await
                .expect("greet");
            let mut line = String::new();
            stream.read_line(&mut line).await.expect("ehlo");
            stream
                .write_all(b"250 checked greets you\r\n")
                .await
                .expect("ehlo reply");
            line
        });
        let smtp = Smtp {
            port: Some(addr.port()),
            ..plain("never-resolves.invalid")
        };
        let (mut conn, reached) = connect(&smtp, &[addr], None, 5)
            .await
            .expect("connected to the given address");
        assert_eq!(reached, addr);
        close(&mut conn).await;
        let ehlo = server.await.expect("server");
        assert!(ehlo.starts_with("EHLO "), "{ehlo}");
    }

    #[test]
    fn password_is_redacted() {
        let p = Password::new("hunter2".into());
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
