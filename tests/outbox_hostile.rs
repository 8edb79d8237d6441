//! The notice outbox never lets a file in the data directory pick a
//! recipient or a file to attach: entries planted there (as a synced remote
//! could) are moved aside and listed, and the loopback SMTP server receives
//! nothing for them; a notice whose `outbox/sent/` went missing is sent once,
//! not again and again. The real binary, a real server with STARTTLS.

#[path = "support/run_async.rs"]
mod run_async;
#[path = "support/smtp_env.rs"]
mod smtp_env;
#[path = "support/smtp_server.rs"]
mod smtp_server;
mod support;

use sha2::Digest;
use smtp_server::{AfterData, Options, TestServer, pki};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    config: PathBuf,
}

impl Env {
    fn new(port: u16, ca_pem: &str) -> Env {
        let env = smtp_env::smtp_env(
            port,
            ca_pem,
            r#"[responder]
name = "Sam Patel"
email = "sam.patel@provider.example"
[contacts]
other_party = "Client Security Representative <csr@client.example>"
cc = ["GovCertUK <incidents@ncsc.example>"]
"#,
            "",
        );
        Env {
            data: env.data,
            config: env.config,
            root: env.root,
            _dir: env.dir,
        }
    }

    async fn run(&self, args: &[&str]) -> std::process::Output {
        run_async::run(&self.data, &self.config, args).await
    }

    async fn ok(&self, args: &[&str]) -> String {
        run_async::ok(&self.data, &self.config, args).await
    }

    fn record_text(&self, id: &str) -> String {
        std::fs::read_to_string(self.data.join("incidents").join(format!("{id}.toml")))
            .expect("record")
    }
}

fn options() -> (Options, String) {
    let pki = pki();
    (
        Options {
            tls: Some(pki.server_config.clone()),
            starttls: true,
            ..Options::default()
        },
        pki.ca_pem,
    )
}

/// An outbox entry as breachdesk writes one, to `to`, attaching `path`
/// (with its true size and SHA-256) when given.
fn entry(id: &str, incident: &str, kind: &str, to: &str, attach: Option<&Path>) -> String {
    let mut text = format!(
        "format = 2\nstate = \"pending\"\nqueued_at = \"2026-01-01T00:00:00Z\"\n\
         next_attempt_at = \"2026-01-01T00:00:00Z\"\nattempts = []\n\n[notice]\n\
         id = \"{id}\"\nincident_id = \"{incident}\"\nkind = \"{kind}\"\nrequest_id = \"R1\"\n\
         from = \"Sam Patel <sam.patel@provider.example>\"\nto = [\"{to}\"]\ncc = []\n\
         subject = \"Evidence\"\nmessage_id = \"<{id}@breachdesk.provider.example>\"\n\
         created_at = \"2026-01-01T00:00:00Z\"\nbody = \"attached\"\n"
    );
    if let Some(path) = attach {
        let bytes = std::fs::read(path).expect("attachment");
        text.push_str(&format!(
            "\n[[notice.attachments]]\npath = \"{}\"\nfile_name = \"evidence.log\"\nsize = {}\n\
             sha256 = \"{}\"\ncontent_type = \"text/plain\"\n",
            path.display(),
            bytes.len(),
            hex::encode(sha2::Sha256::digest(&bytes))
        ));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_notices_are_refused_listed_and_never_sent() {
    let (opts, ca) = options();
    let server = TestServer::start(opts).await;
    let env = Env::new(server.port(), &ca);
    let id = env
        .ok(&["new", "--title", "VPN breach", "--identified-at", "-10m"])
        .await
        .trim()
        .to_string();
    let evidence = env.root.join("evidence.log");
    std::fs::write(&evidence, "local evidence: customer passwords\n").expect("evidence");
    let outbox = env.data.join("outbox");
    // git makes outbox/ alone, without sent/ or files/.
    std::fs::create_dir_all(&outbox).expect("outbox");
    let linked = "N-20260101-000000-cccccc";
    // The third entry names a path inside the outbox that is a link to the file.
    let files = outbox.join("files").join(linked);
    std::fs::create_dir_all(&files).expect("files");
    std::os::unix::fs::symlink(&evidence, files.join("1-evidence.log")).expect("link");
    let cases = [
        (
            "N-20260101-000000-aaaaaa",
            entry(
                "N-20260101-000000-aaaaaa",
                &id,
                "notification",
                "exfil@evil.example",
                None,
            ),
            "exfil@evil.example is not an address config.toml names",
        ),
        (
            "N-20260101-000000-bbbbbb",
            entry(
                "N-20260101-000000-bbbbbb",
                &id,
                "data-supply",
                "csr@client.example",
                Some(&evidence),
            ),
            "is not the outbox's own copy",
        ),
        (
            "N-20260101-000000-dddddd",
            entry(
                "N-20260101-000000-dddddd",
                &id,
                "update",
                "csr@client.example",
                None,
            )
            .replace(
                "Sam Patel <sam.patel@provider.example>",
                "CEO <ceo@provider.example>",
            ),
            "is not the sender config.toml names",
        ),
        (
            "N-20260101-000000-ffffff",
            entry(
                "N-20260101-000000-ffffff",
                &id,
                "update",
                "csr@client.example",
                None,
            ),
            "mode 644, not 600",
        ),
        (
            linked,
            entry(
                linked,
                &id,
                "data-supply",
                "csr@client.example",
                Some(&outbox.join("files").join(linked).join("1-evidence.log")),
            ),
            "symbolic link",
        ),
    ];
    for (name, text, _) in &cases {
        let path = outbox.join(format!("{name}.toml"));
        std::fs::write(&path, text).expect("plant");
        // As on a machine whose umask makes git write 0600 files: only the
        // entry's content can give it away.
        if !name.ends_with("ffffff") {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
    }

    // Listed before any round: flagged, not shown as waiting to go.
    let list = env.ok(&["outbox", "list"]).await;
    for (name, _, why) in &cases {
        let line = list
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("not listed: {list}"));
        assert!(line.contains("WILL NOT BE SENT: "), "{line}");
        assert!(line.contains(why), "{line}");
    }
    let out = env.run(&["outbox", "retry"]).await;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(server.messages().is_empty(), "nothing sent: {said}");
    assert_eq!(server.connections(), 0, "not even a connection: {said}");
    for (name, _, why) in &cases {
        let line = said
            .lines()
            .find(|l| l.contains(&format!("{name}.toml")))
            .unwrap_or_else(|| panic!("no line for {name}: {said}"));
        assert!(line.contains("refused, not sent"), "{line}");
        assert!(line.contains(why), "{line}");
        assert!(
            outbox
                .join("refused")
                .join(format!("{name}.toml"))
                .is_file()
        );
    }
    // Nothing planted reaches the incident's register.
    let record = env.record_text(&id);
    for (name, _, _) in &cases {
        assert!(!record.contains(name), "{record}");
    }
    let list = env.ok(&["outbox", "list"]).await;
    for (name, _, why) in &cases {
        let line = list
            .lines()
            .find(|l| l.contains(&format!("outbox/refused/{name}.toml")))
            .unwrap_or_else(|| panic!("not listed: {list}"));
        assert!(line.starts_with("REFUSED"), "{line}");
        assert!(line.contains(why), "{line}");
    }
    // Said once, moved aside for good: the next round sends nothing either.
    let again = env.run(&["outbox", "retry"]).await;
    assert!(!String::from_utf8_lossy(&again.stdout).contains("refused, not sent"));
    assert!(server.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_sent_directory_never_makes_a_notice_go_twice() {
    let (mut opts, ca) = options();
    // The first message arrives and the connection drops without a reply:
    // delivery unknown, retried later with the same Message-ID.
    opts.after_data = AfterData::Drop;
    opts.misbehave_times = Some(1);
    let server = TestServer::start(opts).await;
    let env = Env::new(server.port(), &ca);
    let id = env
        .ok(&["new", "--title", "VPN breach", "--identified-at", "-10m"])
        .await
        .trim()
        .to_string();
    // A copy to an address config.toml does not name, confirmed for this
    // notice only: sealed on this machine, so the retry keeps it.
    let out = env
        .run(&[
            "notify",
            &id,
            "--yes",
            "--cc",
            "Legal <legal@provider.example>",
        ])
        .await;
    assert!(!out.status.success(), "the first attempt is unknown");
    assert_eq!(server.messages().len(), 1);
    let outbox = env.data.join("outbox");
    for sub in ["sent", "cancelled", "files"] {
        let _ = std::fs::remove_dir_all(outbox.join(sub));
    }
    let said = env.ok(&["outbox", "retry"]).await;
    let messages = server.messages();
    assert_eq!(messages.len(), 2, "{said}");
    assert_eq!(
        messages[1].rcpt_to,
        [
            "csr@client.example",
            "incidents@ncsc.example",
            "legal@provider.example"
        ]
    );
    assert!(outbox.join("sent").is_dir(), "sent/ made again");
    assert_eq!(
        std::fs::metadata(outbox.join("sent"))
            .expect("sent")
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    for _ in 0..3 {
        env.ok(&["outbox", "retry"]).await;
    }
    assert_eq!(server.messages().len(), 2, "sent once, not in a loop");
    let list = env.ok(&["outbox", "list"]).await;
    assert!(list.starts_with("SENT"), "{list}");
}

#[test]
fn the_consoles_idle_outbox_rounds_never_send_a_planted_notice() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start(Options::default()));
    let f = support::fixture_with_config(&format!(
        "[responder]\nname = \"Sam Patel\"\nemail = \"sam.patel@provider.example\"\n\
         [contacts]\nother_party = \"CSR <csr@client.example>\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout_secs = 5\n",
        server.port()
    ));
    let id = "INC-20260310-1250-00b001";
    f.incident(id, "VPN breach", support::minutes(10));
    let outbox = f.desk.outbox_dir();
    // As git makes it: outbox/ with the entry and nothing else.
    std::fs::create_dir_all(&outbox).expect("outbox");
    let name = "N-20260310-125500-eeeeee";
    std::fs::write(
        outbox.join(format!("{name}.toml")),
        entry(name, id, "update", "exfil@evil.example", None),
    )
    .expect("plant");
    // The console's outbox round, as an idle console runs it, five times.
    let mut said = Vec::new();
    for round in 0..5 {
        let r = f
            .desk
            .deliver_due(support::now() + chrono::Duration::seconds(40 * round))
            .expect("round");
        assert!(r.attempts.is_empty(), "{:?}", r.attempts);
        said.extend(r.reconciled);
    }
    assert_eq!(said.len(), 1, "said once: {said:?}");
    assert!(
        said[0].contains(&format!("{name}.toml: refused, not sent")),
        "{}",
        said[0]
    );
    assert!(server.messages().is_empty());
    assert_eq!(server.connections(), 0);
    let record = f.desk.load(id).expect("record");
    assert!(
        record.notices.is_empty(),
        "nothing recorded on the incident"
    );
    drop(rt);
}

#[test]
fn a_notice_accepted_but_not_recorded_in_sent_is_never_sent_again() {
    use breachdesk::durable::fault;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start(Options::default()));
    let f = support::fixture_with_config(&format!(
        "[responder]\nname = \"Sam Patel\"\nemail = \"sam.patel@provider.example\"\n\
         [contacts]\nother_party = \"CSR <csr@client.example>\"\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout_secs = 5\n",
        server.port()
    ));
    let id = "INC-20260310-1250-00b001";
    f.incident(id, "VPN breach", support::minutes(10));
    let mut req =
        breachdesk::desk::NoticeRequest::new(id, breachdesk::domain::incident::NoticeKind::Update);
    req.message = "Contained.".into();
    let notice = f
        .desk
        .compose_notice(req, support::now())
        .expect("compose")
        .notice;
    // The disk refuses every write in outbox/sent/ (full, say).
    let _full = fault::inject(
        &f.desk.outbox_dir().join("sent"),
        fault::Fault {
            op: fault::Op::Replace,
            kind: std::io::ErrorKind::StorageFull,
            after_bytes: 0,
        },
    );
    let attempted = f
        .desk
        .send_notice(notice, support::now())
        .expect("attempted");
    assert!(attempted.sent(), "{}", attempted.said);
    assert_eq!(server.messages().len(), 1);
    // The idle console's rounds, and an outbox retry: never again.
    for round in 1..=5 {
        let r = f
            .desk
            .deliver_due(support::now() + chrono::Duration::seconds(40 * round))
            .expect("round");
        assert!(r.attempts.is_empty(), "{:?}", r.attempts);
    }
    assert!(
        f.desk
            .deliver_notice(&attempted.id, support::now())
            .is_err()
    );
    assert_eq!(server.messages().len(), 1, "sent once");
    drop(rt);
}
