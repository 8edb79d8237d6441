//! The TCP stream under every SMTP session, with the server's replies
//! bounded: lettre reads a reply line until its end, however long, so an
//! endless line would grow memory without limit. Below TLS and lettre, this
//! stream refuses a line over `MAX_REPLY_LINE` bytes and more than
//! `MAX_REPLY` bytes or `MAX_REPLY_LINES` lines from the server between
//! two writes of ours (one reply, or one TLS handshake), with [`TooLong`]
//! naming the server.
//!
//! After STARTTLS the bytes counted are TLS records, so the line cap no
//! longer sees lines, but the reply cap still holds (an endless line is an
//! endless run of records with nothing written by us in between).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::super::error::MailError;
use super::super::smtp_errors::{MAX_REPLY, MAX_REPLY_LINE, MAX_REPLY_LINES, Over, TooLong};
use super::super::smtp_errors::{Stage, classify, io_words};
use crate::config::schema::Smtp;
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::time::Duration;

/// Connects to one checked address, under a stream that bounds the
/// server's replies ([`Bounded`]), with implicit TLS when `wrapper` is
/// given; lettre then reads the greeting and says EHLO.
pub(super) async fn connect(
    addr: SocketAddr,
    secs: u64,
    hello: &ClientId,
    wrapper: Option<TlsParameters>,
    smtp: &Smtp,
) -> Result<AsyncSmtpConnection, MailError> {
    #[allow(deprecated)]
    use lettre::transport::smtp::client::AsyncNetworkStream;
    let port = smtp.effective_port();
    let tcp = tokio::time::timeout(
        Duration::from_secs(secs),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    .map_err(|_| MailError::Timeout {
        secs,
        stage: Stage::Connect.words().into(),
    })?
    .map_err(|e| MailError::Connect {
        host: smtp.host.clone(),
        port,
        reason: io_words(&e),
    })?;
    let _ = tcp.set_nodelay(true);
    let stream = Bounded::new(tcp, addr);
    let conn = match wrapper {
        None => AsyncSmtpConnection::connect_with_transport(Box::new(stream), hello).await,
        Some(params) => {
            #[allow(deprecated)]
            let mut tls = AsyncNetworkStream::use_existing_tokio1(Box::new(stream));
            tls.upgrade_tls(params)
                .await
                .map_err(|e| classify(&e, Stage::Connect, smtp))?;
            AsyncSmtpConnection::connect_with_transport(Box::new(Tokio(tls)), hello).await
        }
    };
    conn.map_err(|e| classify(&e, Stage::Connect, smtp))
}

/// A TCP stream that refuses over-long server replies.
#[derive(Debug)]
pub struct Bounded {
    inner: TcpStream,
    server: SocketAddr,
    /// Bytes since the last LF.
    line: usize,
    /// Bytes since our last write.
    reply: usize,
    /// Lines since our last write.
    lines: usize,
}

impl Bounded {
    pub fn new(inner: TcpStream, server: SocketAddr) -> Bounded {
        Bounded {
            inner,
            server,
            line: 0,
            reply: 0,
            lines: 0,
        }
    }

    fn too_long(&self, what: Over) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            TooLong {
                server: self.server,
                what,
            },
        )
    }
}

impl AsyncRead for Bounded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let got = &buf.filled()[before..];
        this.reply += got.len();
        this.lines += got.iter().filter(|b| **b == b'\n').count();
        match got.iter().rposition(|b| *b == b'\n') {
            Some(i) => this.line = got.len() - i - 1,
            None => this.line += got.len(),
        }
        if this.line > MAX_REPLY_LINE {
            return Poll::Ready(Err(this.too_long(Over::Line)));
        }
        if this.lines > MAX_REPLY_LINES {
            return Poll::Ready(Err(this.too_long(Over::Lines)));
        }
        if this.reply > MAX_REPLY {
            return Poll::Ready(Err(this.too_long(Over::Bytes)));
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Bounded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, data))?;
        if n > 0 {
            this.reply = 0;
            this.lines = 0;
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// lettre's own stream (futures' traits) seen through tokio's traits, so a
/// stream lettre has put TLS on can be handed back to it as a transport.
#[derive(Debug)]
pub struct Tokio<S>(pub S);

impl<S: futures::io::AsyncRead + Unpin> AsyncRead for Tokio<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.0).poll_read(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl<S: futures::io::AsyncWrite + Unpin> AsyncWrite for Tokio<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_close(cx)
    }
}

impl lettre::transport::smtp::client::AsyncTokioStream for Bounded {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.server)
    }
}

#[allow(deprecated)]
impl lettre::transport::smtp::client::AsyncTokioStream
    for Tokio<lettre::transport::smtp::client::AsyncNetworkStream>
{
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }
}
