//! A small real SMTP server for the tests: tokio + tokio-rustls on a
//! loopback port. It speaks EHLO (advertising STARTTLS and AUTH PLAIN LOGIN
//! when told to), STARTTLS, implicit TLS, AUTH, MAIL/RCPT/DATA, RSET, NOOP,
//! QUIT, and records every command (marked clear or tls) and every message's
//! raw bytes. It can refuse logins, not offer STARTTLS, answer DATA with a
//! chosen reply (for the first N messages, or all), keep a message and drop
//! the connection or stall without replying, tell the test when a message
//! has arrived, or accept TCP and say nothing at all. It runs as tasks on
//! the test's own runtime and stops when dropped.

#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A test CA and a server certificate (CA:FALSE, SAN localhost + 127.0.0.1)
/// signed by it.
pub struct TestPki {
    pub ca_pem: String,
    pub server_config: Arc<rustls::ServerConfig>,
}

pub fn pki() -> TestPki {
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "breachdesk test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("leaf params");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params
        .signed_by(&leaf_key, &issuer)
        .expect("leaf cert");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![
                CertificateDer::from(leaf.der().to_vec()),
                CertificateDer::from(ca_cert.der().to_vec()),
            ],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .expect("server config");
    TestPki {
        ca_pem: ca_cert.pem(),
        server_config: Arc::new(server_config),
    }
}

/// How the server behaves.
#[derive(Clone, Default)]
pub struct Options {
    /// Needed for STARTTLS and implicit TLS.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Advertise and accept STARTTLS.
    pub starttls: bool,
    /// TLS from the first byte.
    pub implicit_tls: bool,
    /// Advertise AUTH and require it before MAIL; these are the accepted
    /// username and password.
    pub auth: Option<(String, String)>,
    /// The reply to the end of DATA (default `250 2.0.0 Ok: queued as ...`).
    pub data_reply: Option<String>,
    /// Accept TCP connections and never say anything.
    pub hang: bool,
    /// What to do once a whole message has arrived (default: reply).
    pub after_data: AfterData,
    /// Apply `after_data` (and `data_reply`) only to the first N messages;
    /// later ones are accepted normally. `None`: to every message.
    pub misbehave_times: Option<usize>,
    /// Refuse (500) a message with a line over 998 bytes or a bare LF, as
    /// a standards-following server does.
    pub strict: bool,
    /// Told the number of whole messages received so far, each time one
    /// arrives, before the server replies.
    pub on_data: Option<tokio::sync::mpsc::UnboundedSender<usize>>,
    /// A refused login's reply repeats what the client sent (the base64
    /// lines) and the decoded username and password, as a careless server
    /// might.
    pub echo_auth: bool,
}

/// What the server does after the final `.` of a message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AfterData {
    /// Reply (`data_reply`, or 250).
    #[default]
    Reply,
    /// Keep the message and close the connection without replying.
    Drop,
    /// Keep the message and never reply (the connection stays open).
    Stall,
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
    pub tls: bool,
    pub auth_user: Option<String>,
    /// Whether the server said 250 to it (false: dropped or stalled).
    pub replied: bool,
}

#[derive(Default)]
pub struct Record {
    pub messages: Vec<Received>,
    /// Every whole message that arrived, whatever the reply (refused ones too).
    pub arrived: usize,
    /// Every command line received, prefixed `clear: ` or `tls: `.
    pub commands: Vec<String>,
    pub connections: usize,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub record: Arc<Mutex<Record>>,
    handle: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// A loopback port held for a server that is not up yet: the socket is bound
/// but not listening, so a client that connects is refused at once
/// (ECONNREFUSED) and no other process can take the port. [`Self::start`]
/// turns the same socket into the server's listener: the port is never let
/// go between "down" and "up".
pub struct ReservedPort {
    socket: tokio::net::TcpSocket,
    addr: SocketAddr,
}

/// Binds a fresh loopback port without listening on it (no SO_REUSEADDR, so
/// nobody else can bind it while it is held). Needs no runtime.
pub fn reserve_port() -> ReservedPort {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("loopback"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    ReservedPort { socket, addr }
}

impl ReservedPort {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Starts listening on the held port and serves it (call inside a runtime).
    pub fn start(self, options: Options) -> TestServer {
        let listener = self.socket.listen(128).expect("listen");
        TestServer::start_on(listener, options)
    }
}

impl TestServer {
    /// Binds its own loopback port (port 0) and serves it.
    pub async fn start(options: Options) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::start_on(listener, options)
    }

    /// Serves a listener the caller bound (and still holds until now), so the
    /// port is never free for anyone else to take.
    pub fn start_on_std(listener: std::net::TcpListener, options: Options) -> TestServer {
        listener.set_nonblocking(true).expect("non-blocking");
        Self::start_on(
            TcpListener::from_std(listener).expect("tokio listener"),
            options,
        )
    }

    /// Serves a tokio listener the caller bound.
    pub fn start_on(listener: TcpListener, options: Options) -> TestServer {
        let addr = listener.local_addr().expect("addr");
        let record = Arc::new(Mutex::new(Record::default()));
        let rec = Arc::clone(&record);
        let handle = tokio::spawn(async move {
            let mut sessions = tokio::task::JoinSet::new();
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    break;
                };
                rec.lock().expect("record").connections += 1;
                let options = options.clone();
                let rec = Arc::clone(&rec);
                sessions.spawn(async move {
                    if options.hang {
                        let _keep = socket;
                        std::future::pending::<()>().await;
                    } else {
                        let _ = session(socket, options, rec).await;
                    }
                });
            }
        });
        TestServer {
            addr,
            record,
            handle,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn messages(&self) -> Vec<Received> {
        self.record.lock().expect("record").messages.clone()
    }

    pub fn commands(&self) -> Vec<String> {
        self.record.lock().expect("record").commands.clone()
    }

    pub fn connections(&self) -> usize {
        self.record.lock().expect("record").connections
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct State {
    tls: bool,
    authed: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

async fn session(
    socket: tokio::net::TcpStream,
    options: Options,
    rec: Arc<Mutex<Record>>,
) -> std::io::Result<()> {
    let mut state = State {
        tls: false,
        authed: None,
        mail_from: None,
        rcpt_to: Vec::new(),
    };
    let mut io: Box<dyn Io> = Box::new(socket);
    if options.implicit_tls {
        let config = options.tls.clone().expect("tls config for implicit TLS");
        io = Box::new(TlsAcceptor::from(config).accept(io).await?);
        state.tls = true;
    }
    let mut stream = BufReader::new(io);
    stream
        .write_all(b"220 test.local ESMTP breachdesk-test\r\n")
        .await?;
    stream.flush().await?;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        let mark = if state.tls { "tls" } else { "clear" };
        rec.lock()
            .expect("record")
            .commands
            .push(format!("{mark}: {line}"));
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or("").to_string();
        match verb.as_str() {
            "EHLO" | "HELO" => {
                let mut lines = vec!["test.local greets you".to_string()];
                if options.starttls && !state.tls {
                    lines.push("STARTTLS".into());
                }
                if options.auth.is_some() {
                    lines.push("AUTH PLAIN LOGIN".into());
                }
                lines.push("8BITMIME".into());
                lines.push("SMTPUTF8".into());
                let n = lines.len();
                let mut out = String::new();
                for (i, l) in lines.iter().enumerate() {
                    let sep = if i + 1 == n { ' ' } else { '-' };
                    out.push_str(&format!("250{sep}{l}\r\n"));
                }
                reply(&mut stream, &out).await?;
            }
            "STARTTLS" if options.starttls && !state.tls => {
                reply(&mut stream, "220 2.0.0 ready to start TLS\r\n").await?;
                let config = options.tls.clone().expect("tls config for STARTTLS");
                let plain = stream.into_inner();
                let tls: Box<dyn Io> = Box::new(TlsAcceptor::from(config).accept(plain).await?);
                stream = BufReader::new(tls);
                state = State {
                    tls: true,
                    authed: None,
                    mail_from: None,
                    rcpt_to: Vec::new(),
                };
            }
            "AUTH" if options.auth.is_some() => {
                let mut sent = vec![line.clone()];
                let parts: Vec<&str> = line.split_whitespace().collect();
                let mechanism = parts.get(1).map(|m| m.to_ascii_uppercase());
                let (user, pass) = match mechanism.as_deref() {
                    Some("PLAIN") => {
                        let b64 = match parts.get(2) {
                            Some(b) => b.to_string(),
                            None => {
                                reply(&mut stream, "334 \r\n").await?;
                                let l = read_line(&mut stream).await?;
                                sent.push(l.clone());
                                l
                            }
                        };
                        let raw = b64_decode(&b64);
                        let fields: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
                        if fields.len() == 3 {
                            (
                                String::from_utf8_lossy(fields[1]).to_string(),
                                String::from_utf8_lossy(fields[2]).to_string(),
                            )
                        } else {
                            (String::new(), String::new())
                        }
                    }
                    Some("LOGIN") => {
                        let user = match parts.get(2) {
                            Some(b) => b.to_string(),
                            None => {
                                reply(&mut stream, "334 VXNlcm5hbWU6\r\n").await?;
                                let l = read_line(&mut stream).await?;
                                sent.push(l.clone());
                                l
                            }
                        };
                        reply(&mut stream, "334 UGFzc3dvcmQ6\r\n").await?;
                        let pass = read_line(&mut stream).await?;
                        sent.push(pass.clone());
                        (
                            String::from_utf8_lossy(&b64_decode(&user)).to_string(),
                            String::from_utf8_lossy(&b64_decode(&pass)).to_string(),
                        )
                    }
                    _ => {
                        reply(&mut stream, "504 5.5.4 unrecognised mechanism\r\n").await?;
                        continue;
                    }
                };
                let ok = options
                    .auth
                    .as_ref()
                    .is_some_and(|(u, p)| *u == user && *p == pass);
                if ok {
                    state.authed = Some(user);
                    reply(&mut stream, "235 2.7.0 Authentication successful\r\n").await?;
                } else if options.echo_auth {
                    let answer = format!(
                        "535 5.7.8 bad credentials: you sent [{}], that is {user} / {pass}\r\n",
                        sent.join(" | ")
                    );
                    reply(&mut stream, &answer).await?;
                } else {
                    reply(
                        &mut stream,
                        "535 5.7.8 Error: authentication failed: bad credentials\r\n",
                    )
                    .await?;
                }
            }
            "MAIL" => {
                if options.auth.is_some() && state.authed.is_none() {
                    reply(&mut stream, "530 5.7.0 Authentication required\r\n").await?;
                    continue;
                }
                state.mail_from = Some(angle(&line));
                state.rcpt_to.clear();
                reply(&mut stream, "250 2.1.0 Ok\r\n").await?;
            }
            "RCPT" => {
                state.rcpt_to.push(angle(&line));
                reply(&mut stream, "250 2.1.5 Ok\r\n").await?;
            }
            "DATA" => {
                reply(&mut stream, "354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = Vec::new();
                let mut broken = false;
                loop {
                    let mut raw = Vec::new();
                    if stream.read_until(b'\n', &mut raw).await? == 0 {
                        return Ok(());
                    }
                    if raw == b".\r\n" || raw == b".\n" {
                        break;
                    }
                    broken |= raw.len() > 1000 || !raw.ends_with(b"\r\n");
                    let unstuffed = if raw.starts_with(b"..") {
                        &raw[1..]
                    } else {
                        &raw[..]
                    };
                    data.extend_from_slice(unstuffed);
                }
                let (arrived, misbehave) = {
                    let mut r = rec.lock().expect("record");
                    r.arrived += 1;
                    let n = r.arrived;
                    (n, options.misbehave_times.is_none_or(|limit| n <= limit))
                };
                if let Some(tx) = &options.on_data {
                    let _ = tx.send(arrived);
                }
                let after = if misbehave {
                    options.after_data
                } else {
                    AfterData::Reply
                };
                let received = Received {
                    mail_from: state.mail_from.clone().unwrap_or_default(),
                    rcpt_to: state.rcpt_to.clone(),
                    data,
                    tls: state.tls,
                    auth_user: state.authed.clone(),
                    replied: after == AfterData::Reply,
                };
                match after {
                    AfterData::Drop => {
                        rec.lock().expect("record").messages.push(received);
                        return Ok(());
                    }
                    AfterData::Stall => {
                        rec.lock().expect("record").messages.push(received);
                        let _keep = stream;
                        std::future::pending::<()>().await;
                        return Ok(());
                    }
                    AfterData::Reply => {}
                }
                if options.strict && broken {
                    reply(
                        &mut stream,
                        "500 5.5.2 Line too long or bare LF (RFC 5321 4.5.3.1.6)\r\n",
                    )
                    .await?;
                    continue;
                }
                let answer = options
                    .data_reply
                    .clone()
                    .filter(|_| misbehave)
                    .unwrap_or_else(|| {
                        let n = rec.lock().expect("record").messages.len() + 1;
                        format!("250 2.0.0 Ok: queued as TEST{n}")
                    });
                if answer.starts_with('2') {
                    rec.lock().expect("record").messages.push(received);
                }
                reply(&mut stream, &format!("{answer}\r\n")).await?;
            }
            "RSET" => {
                state.mail_from = None;
                state.rcpt_to.clear();
                reply(&mut stream, "250 2.0.0 Ok\r\n").await?;
            }
            "NOOP" => reply(&mut stream, "250 2.0.0 Ok\r\n").await?,
            "QUIT" => {
                reply(&mut stream, "221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => reply(&mut stream, "502 5.5.2 Error: command not recognized\r\n").await?,
        }
    }
}

async fn reply(stream: &mut BufReader<Box<dyn Io>>, text: &str) -> std::io::Result<()> {
    stream.write_all(text.as_bytes()).await?;
    stream.flush().await
}

async fn read_line(stream: &mut BufReader<Box<dyn Io>>) -> std::io::Result<String> {
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn angle(line: &str) -> String {
    match (line.find('<'), line.rfind('>')) {
        (Some(a), Some(b)) if b > a => line[a + 1..b].to_string(),
        _ => String::new(),
    }
}

fn b64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in text.trim().bytes() {
        if c == b'=' {
            break;
        }
        let Some(v) = ALPHABET.iter().position(|a| *a == c) else {
            continue;
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    out
}
