//! Unit tests of `transport`.

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
