//! A hostile SMTP server cannot make breachdesk read without end: a reply
//! line over 64 KiB, or a reply of more than 1000 lines (or, under TLS,
//! over 1 MiB), fails the send with one line
//! naming the server, and the client stops reading (the server, a real one
//! on a loopback port, counts what it managed to write before the client
//! hung up: a few MiB at most, the kernel's socket buffers included).

use breachdesk::config::schema::{Smtp, SmtpSecurity};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone, Copy)]
enum Endless {
    /// `220-aaaa…` without end, before anything else.
    Greeting,
    /// A good greeting, then an endless line after EHLO.
    AfterEhlo,
    /// A good greeting, then endless short lines of one reply.
    Reply,
}

/// Serves one connection the hostile way; returns the port and the count of
/// bytes written until the client went away.
async fn serve(how: Endless) -> (u16, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let written = Arc::new(AtomicU64::new(0));
    let count = written.clone();
    tokio::spawn(async move {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let chunk: Vec<u8> = match how {
            Endless::Greeting | Endless::AfterEhlo => vec![b'a'; 16 * 1024],
            Endless::Reply => b"250-still going\r\n".repeat(1024),
        };
        let mut prefix: &[u8] = b"220-";
        if !matches!(how, Endless::Greeting) {
            let _ = sock.write_all(b"220 hostile.example ESMTP\r\n").await;
            let mut buf = [0u8; 512];
            let _ = sock.read(&mut buf).await;
            prefix = b"250-";
        }
        if sock.write_all(prefix).await.is_err() {
            return;
        }
        // Until the client hangs up (bounded by the test's own cap too).
        while count.load(Ordering::SeqCst) < 512 * 1024 * 1024 {
            if sock.write_all(&chunk).await.is_err() {
                break;
            }
            count.fetch_add(chunk.len() as u64, Ordering::SeqCst);
        }
    });
    (port, written)
}

fn smtp(port: u16) -> Smtp {
    Smtp {
        host: "127.0.0.1".into(),
        port: Some(port),
        security: SmtpSecurity::None,
        username: None,
        password_command: None,
        ca_file: None,
        timeout_secs: 30,
    }
}

async fn send(port: u16) -> String {
    let envelope = lettre::address::Envelope::new(
        Some("sam@provider.example".parse().expect("from")),
        vec!["csr@client.example".parse().expect("to")],
    )
    .expect("envelope");
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-10T15:00:00Z")
        .expect("instant")
        .with_timezone(&chrono::Utc);
    let err =
        breachdesk::mail::transport::send(&smtp(port), &envelope, b"Subject: x\r\n\r\nx\r\n", at)
            .await
            .expect_err("a hostile server's reply is refused");
    err.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_reply_line_fails_the_send_naming_the_server() {
    for how in [Endless::Greeting, Endless::AfterEhlo] {
        let (port, written) = serve(how).await;
        let said = send(port).await;
        assert!(
            said.contains(&format!(
                "the server 127.0.0.1:{port} sent a reply line over 64 KiB"
            )),
            "{said}"
        );
        assert_eq!(said.lines().count(), 1, "{said}");
        let sent = written.load(Ordering::SeqCst);
        assert!(
            sent < 32 * 1024 * 1024,
            "the client kept reading: {sent} bytes"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_multi_line_reply_fails_the_send_naming_the_server() {
    let (port, written) = serve(Endless::Reply).await;
    let said = send(port).await;
    assert!(
        said.contains(&format!(
            "the server 127.0.0.1:{port} sent a reply of more than 1000 lines"
        )),
        "{said}"
    );
    let sent = written.load(Ordering::SeqCst);
    assert!(
        sent < 32 * 1024 * 1024,
        "the client kept reading: {sent} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_check_against_an_endless_greeting_fails_in_one_line() {
    let (port, written) = serve(Endless::Greeting).await;
    let dir = tempfile::tempdir().expect("temp");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[responder]\nname = \"Sam\"\nemail = \"sam@provider.example\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout_secs = 30\n"
        ),
    )
    .expect("config");
    let data = dir.path().join("data");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_breachdesk"))
            .args(["config", "check"])
            .env("BREACHDESK_DATA_DIR", &data)
            .env("BREACHDESK_CONFIG", &config)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run")
    })
    .await
    .expect("join");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the server 127.0.0.1:{port} sent a reply line over 64 KiB"
        )),
        "{stderr}"
    );
    assert!(written.load(Ordering::SeqCst) < 32 * 1024 * 1024);
}
