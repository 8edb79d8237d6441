//! Append-only enforced on every incoming record (issue 21, item 2), end
//! to end: a bare remote, two responders running the real binary and the
//! real `git`, and an attacker who is a plain `git` clone of the remote.
//! A record whose incoming copy drops or rewrites an entry this machine
//! has, or whose revision no other machine's audit entry accounts for
//! (for exactly those bytes), is refused: this machine's copy stays, the
//! incoming bytes are kept in `refused/`, `sync` names the commit, its
//! author and the incident, finishes the rest and exits non-zero.

mod support;
#[path = "support/team.rs"]
mod team;

use breachdesk::domain::incident::{EntryKind, Incident};
use breachdesk::store::{read_record_file, record_sha256, write_record_file};
use chrono::{DateTime, Utc};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use team::{ALICE, Attacker, BOB, Responder, remote};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("instant")
        .to_utc()
}

/// Rewrites `incidents/<id>.toml` in a plain clone as the store would
/// write it, after `change`; the new bytes.
fn edit_record(dir: &Path, id: &str, change: impl FnOnce(&mut Incident)) -> Vec<u8> {
    let path = dir.join("incidents").join(format!("{id}.toml"));
    let mut incident = read_record_file(&path, id)
        .expect("parses")
        .expect("present");
    change(&mut incident);
    write_record_file(&path, &incident).expect("written");
    std::fs::read(&path).expect("bytes")
}

/// Appends a bare entry line (the fields a record's accounting looks at)
/// to `audit/chains/<machine>.jsonl` in a plain clone.
fn forge_entry(dir: &Path, machine: &str, id: &str, revision: u64, sha: &str) {
    use std::io::Write;
    let path = dir.join("audit/chains").join(format!("{machine}.jsonl"));
    let line = serde_json::json!({
        "seq": 999, "at": "2026-03-10T09:30:00Z", "actor": "Bob Baker",
        "incident": id, "action": "record.updated", "detail": "",
        "revision": revision, "record_sha256": sha,
        "prev": "0".repeat(64), "hash": "0".repeat(64),
    });
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("chain");
    writeln!(file, "{line}").expect("append");
}

/// Alice publishes an incident with two timeline entries, Bob joins and
/// logs on it (so his chain is in the repository), Alice takes that in.
fn team(root: &Path) -> (Responder, Responder, Attacker, String) {
    let team = remote(root);
    let alice = Responder::new(root, "alice", ALICE);
    let id = alice.new_incident("Admin portal login from unknown IP");
    alice.ok(&["log", &id, "Called the Client"]);
    alice.ok(&["log", &id, "Isolated web-03"]);
    alice.ok(&["sync", "init", team.to_str().expect("utf-8")]);
    let bob = Responder::new(root, "bob", BOB);
    bob.ok(&["sync", "init", team.to_str().expect("utf-8")]);
    bob.ok(&["log", &id, "Bob reset the admin password"]);
    bob.ok(&["sync"]);
    alice.ok(&["sync"]);
    let attacker = Attacker::clone(root, &team);
    (alice, bob, attacker, id)
}

/// The one `refused …` line `sync` printed for `id`.
fn refusal_line<'a>(err: &'a str, id: &str) -> &'a str {
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with(&format!("refused {id} ")))
        .collect();
    assert_eq!(lines.len(), 1, "one line for {id}: {err}");
    lines[0]
}

fn assert_private(path: &Path, mode: u32) {
    let meta = std::fs::symlink_metadata(path).expect("exists");
    assert_eq!(
        meta.permissions().mode() & 0o777,
        mode,
        "{}",
        path.display()
    );
}

#[test]
fn a_dropped_or_rewritten_timeline_entry_is_refused_and_this_copy_kept() {
    let root = tempfile::tempdir().expect("temp dir");
    let (alice, bob, attacker, id) = team(root.path());
    // Honest work in the same fetch, on another incident.
    let other = bob.new_incident("Phishing wave");
    bob.ok(&["sync"]);

    let mut dropped = String::new();
    let mut theirs = Vec::new();
    let commit = attacker.push("tidy the timeline", |dir| {
        theirs = edit_record(dir, &id, |i| {
            let at = i
                .timeline
                .iter()
                .position(|e| e.text == "Isolated web-03")
                .expect("the entry");
            dropped = i.timeline.remove(at).uid;
            i.revision += 1;
        });
    });
    let before = alice.record(&id);
    let err = alice.fails(&["sync"]);
    let line = refusal_line(&err, &id);
    let short = &commit[..8];
    assert!(
        line.starts_with(&format!(
            "refused {id} from commit {short} by Mallory Mole <mallory@evil.example>: timeline entry {dropped} ("
        )),
        "{line}"
    );
    assert!(line.contains("\"Isolated web-03\") was removed"), "{line}");
    let kept = format!("refused/{short}-{id}.toml");
    assert!(
        line.ends_with(&format!("kept this machine's copy, theirs is in {kept}")),
        "{line}"
    );
    // This machine's copy stays; theirs is kept aside, privately.
    assert_eq!(alice.record(&id), before);
    assert_eq!(std::fs::read(alice.data.join(&kept)).expect("kept"), theirs);
    assert_private(&alice.data.join("refused"), 0o700);
    assert_private(&alice.data.join(&kept), 0o600);
    // The rest of the sync was done: Bob's new incident came in.
    assert!(alice.ok(&["show", &other]).contains("Phishing wave"));
    let state = std::fs::read_to_string(alice.data.join("sync-state.json")).expect("state");
    assert!(
        state.contains("\"refused\"") && state.contains(&commit),
        "{state}"
    );
    alice.assert_clean_and_verified();
    // Refused once: the next sync has nothing new and succeeds.
    alice.ok(&["sync"]);
    // Alice's copy went back to the remote: Bob has every entry again.
    bob.ok(&["sync"]);
    assert!(bob.ok(&["show", &id]).contains("Isolated web-03"));

    // Changing an entry's words is refused the same way.
    let commit = attacker.push("reword", |dir| {
        edit_record(dir, &id, |i| {
            let entry = i
                .timeline
                .iter_mut()
                .find(|e| e.text == "Called the Client")
                .expect("the entry");
            entry.text = "Nothing happened".into();
            i.revision += 1;
        });
    });
    let before = alice.record(&id);
    let err = alice.fails(&["sync"]);
    let line = refusal_line(&err, &id);
    assert!(
        line.contains(&format!("from commit {} by Mallory Mole", &commit[..8])),
        "{line}"
    );
    assert!(
        line.contains("\"Called the Client\") was changed (text)"),
        "{line}"
    );
    assert_eq!(alice.record(&id), before);
    assert!(!alice.ok(&["show", &id]).contains("Nothing happened"));
    alice.assert_clean_and_verified();

    // A deleted record stops the sync at the gate: it stays here.
    let commit = attacker.push("gone", |dir| {
        std::fs::remove_file(dir.join("incidents").join(format!("{id}.toml"))).expect("rm");
    });
    let err = alice.fails(&["sync"]);
    assert!(
        err.contains(&format!(
            "refused commit {} by Mallory Mole <mallory@evil.example>: incidents/{id}.toml deletes the record of {id}",
            &commit[..12]
        )),
        "{err}"
    );
    assert_eq!(alice.record(&id), before);
    alice.assert_clean_and_verified();
}

#[test]
fn an_incoming_revision_no_other_machine_logged_for_those_bytes_is_refused() {
    let root = tempfile::tempdir().expect("temp dir");
    let (alice, bob, attacker, id) = team(root.path());
    let add = |i: &mut Incident, text: &str| {
        i.log(
            at("2026-03-10T09:40:00Z"),
            "Bob Baker",
            EntryKind::Change,
            text,
        );
        i.revision += 1;
    };
    let bob_chain = bob.machine_id();
    // 1. No entry at all: the record is refused, the rest is taken.
    let text = "Forged entry 1";
    let commit = attacker.push("forgery 1", |dir| {
        edit_record(dir, &id, |i| add(i, text));
    });
    let before = alice.record(&id);
    let err = alice.fails(&["sync"]);
    let line = refusal_line(&err, &id);
    assert!(
        line.contains(&format!("from commit {} by Mallory Mole", &commit[..8]))
            && line.contains("has no audit entry for exactly these bytes"),
        "{line}"
    );
    assert_eq!(alice.record(&id), before);
    assert!(!alice.ok(&["show", &id]).contains(text));
    alice.assert_clean_and_verified();
    // 2. An entry forged into Bob's chain (right revision, any SHA-256):
    // not signed by Bob's key, so the whole commit is refused before
    // anything is merged, naming the chain.
    let text = "Forged entry 2";
    let chain_before = std::fs::read(
        alice
            .data
            .join("audit/chains")
            .join(format!("{bob_chain}.jsonl")),
    )
    .expect("bob's chain");
    let commit = attacker.push("forgery 2", |dir| {
        let mut revision = 0;
        let bytes = edit_record(dir, &id, |i| {
            add(i, text);
            revision = i.revision;
        });
        forge_entry(dir, &bob_chain, &id, revision, &record_sha256(&bytes));
    });
    let before = alice.record(&id);
    let err = alice.fails(&["sync"]);
    assert!(
        err.contains(&format!(
            "refused commit {} by Mallory Mole <mallory@evil.example>: audit/chains/{bob_chain}.jsonl machine {bob_chain}'s audit chain",
            &commit[..12]
        )) && err.contains("nothing was merged"),
        "{err}"
    );
    assert_eq!(alice.record(&id), before);
    assert_eq!(
        std::fs::read(
            alice
                .data
                .join("audit/chains")
                .join(format!("{bob_chain}.jsonl"))
        )
        .expect("bob's chain"),
        chain_before
    );
    alice.assert_clean_and_verified();
}

#[test]
fn an_honest_fast_forward_and_an_honest_concurrent_merge_are_taken() {
    let root = tempfile::tempdir().expect("temp dir");
    let (alice, bob, _attacker, id) = team(root.path());
    // Fast-forward: Bob alone changed the record.
    bob.ok(&["log", &id, "Bob: logs collected"]);
    bob.ok(&["edit", &id, "--title", "Admin portal: unknown IP"]);
    bob.ok(&["sync"]);
    let said = alice.ok(&["sync"]);
    assert!(!said.contains("nothing came in"), "{said}");
    let shown = alice.ok(&["show", &id]);
    assert!(shown.contains("Bob: logs collected") && shown.contains("Admin portal: unknown IP"));
    assert_eq!(alice.record(&id), bob.record(&id));
    // Concurrent: both log on it, Bob first.
    alice.ok(&["log", &id, "Alice: Client told"]);
    bob.ok(&["log", &id, "Bob: firewall rule added"]);
    bob.ok(&["sync"]);
    let out = alice.run(&["sync"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("refused"));
    bob.ok(&["sync"]);
    for r in [&alice, &bob] {
        let shown = r.ok(&["show", &id]);
        for text in [
            "Alice: Client told",
            "Bob: firewall rule added",
            "Isolated web-03",
        ] {
            assert!(shown.contains(text), "{text}: {shown}");
        }
        assert!(!r.data.join("refused").exists());
        r.assert_clean_and_verified();
    }
    assert_eq!(alice.records(), bob.records());
    let audit = alice.ok(&["audit", "list"]);
    assert!(audit.contains("record.merged"), "{audit}");
}

#[test]
fn the_console_header_warns_of_a_refused_record_and_names_it() {
    use breachdesk::tui::app::{Action, App, dispatch};
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let root = tempfile::tempdir().expect("temp dir");
    let (alice, _bob, attacker, id) = team(root.path());
    let commit = attacker.push("tidy", |dir| {
        edit_record(dir, &id, |i| {
            i.timeline.pop();
            i.revision += 1;
        });
    });
    let desk = breachdesk::setup::Setup {
        data_dir: alice.data.clone(),
        config: breachdesk::config::Config::load(&alice.config).expect("config"),
        config_path: alice.config.clone(),
        extra_playbooks: Vec::new(),
    }
    .desk()
    .expect("desk");
    let mut app = App::from_desk(&desk, breachdesk::tui::theme::Theme::colored());
    dispatch(
        &mut app,
        &desk,
        Action::Key(KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT)),
        support::now(),
    );
    let said = app
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(
        said.contains(&format!("refused {id} from commit {}", &commit[..8])),
        "{said}"
    );
    let screen = support::screen_text(&support::draw(&app, support::now(), 160, 30));
    let header = screen.lines().next().unwrap_or_default();
    assert!(
        header.contains(&format!(
            "⇅ refused 1 incoming record(s): {id} from {}",
            &commit[..8]
        )),
        "{header}"
    );
}
