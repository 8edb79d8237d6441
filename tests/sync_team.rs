//! Team sync through git, end to end: a bare repository on disk as the
//! team's remote, two responders (two data directories, two configs, two
//! HOMEs with no git identity), and the real binary running the real `git`.
//! Where both responders change the same record at once, git runs the
//! record merge driver (`breachdesk merge-record`), and each machine's
//! audit entries go to its own chain.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// One responder: their own HOME (no git identity in it), data directory
/// and config.
struct Responder {
    home: PathBuf,
    data: PathBuf,
    config: PathBuf,
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@test")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@test")
        .stdin(Stdio::null())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bare repository: the team's remote.
fn remote(root: &Path) -> PathBuf {
    let path = root.join("team.git");
    let out = Command::new("git")
        .args(["init", "--quiet", "--bare"])
        .arg(&path)
        .env("HOME", root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git init --bare");
    assert!(out.status.success());
    path
}

impl Responder {
    fn new(root: &Path, who: &str, config: &str) -> Responder {
        let home = root.join(format!("home-{who}"));
        std::fs::create_dir_all(&home).expect("home");
        let config_path = home.join("config.toml");
        std::fs::write(&config_path, config).expect("config");
        Responder {
            data: root.join(format!("data-{who}")),
            config: config_path,
            home,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_breachdesk"))
            .args(args)
            .env("BREACHDESK_DATA_DIR", &self.data)
            .env("BREACHDESK_CONFIG", &self.config)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("USER", "tester")
            .env_remove("GIT_AUTHOR_NAME")
            .env_remove("GIT_AUTHOR_EMAIL")
            .env_remove("GIT_COMMITTER_NAME")
            .env_remove("GIT_COMMITTER_EMAIL")
            .env_remove("XDG_CONFIG_HOME")
            .stdin(Stdio::null())
            .output()
            .expect("run breachdesk")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "breachdesk {args:?} failed: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "breachdesk {args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn new_incident(&self, title: &str) -> String {
        self.ok(&["new", "--title", title, "--identified-at", "-20m"])
            .trim()
            .to_string()
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(&self.data, args)
    }

    /// Every record, by file name, as bytes.
    fn records(&self) -> Vec<(String, Vec<u8>)> {
        let mut records: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.data.join("incidents"))
            .expect("incidents/")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".toml"))
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).expect("record"),
                )
            })
            .collect();
        records.sort();
        records
    }

    fn ids(&self) -> Vec<String> {
        let json = self.ok(&["list", "--all", "--format", "json"]);
        let list: serde_json::Value = serde_json::from_str(&json).expect("list json");
        let mut ids: Vec<String> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_string())
            .collect();
        ids.sort();
        ids
    }

    /// `git status --porcelain` is empty and `audit verify` passes.
    fn assert_clean_and_verified(&self) {
        assert_eq!(
            self.git(&["status", "--porcelain"]),
            "",
            "{}",
            self.data.display()
        );
        let verified = self.ok(&["audit", "verify"]);
        assert!(verified.contains(": ok,"), "{verified}");
    }
}

const ALICE: &str =
    "[responder]\nname = \"Alice Able\"\nemail = \"Alice Able <alice@provider.example>\"\n";
const BOB: &str = "[responder]\nname = \"Bob Baker\"\nemail = \"bob@provider.example\"\n[calendar]\ndivision = \"scotland\"\n";

/// Alice publishes two incidents, Bob joins, and a team's sequential work
/// flows both ways (no record is changed on both sides at once, so git
/// needs no merge driver).
#[test]
fn alice_publishes_bob_joins_and_changes_flow_both_ways() {
    let root = tempfile::tempdir().expect("temp dir");
    let team = remote(root.path());
    let team_url = team.to_str().expect("utf-8 path");
    let alice = Responder::new(root.path(), "alice", ALICE);
    let bob = Responder::new(root.path(), "bob", BOB);

    let first = alice.new_incident("Admin portal login from unknown IP");
    let second = alice.new_incident("Phishing wave");
    let said = alice.ok(&["sync", "init", team_url]);
    assert!(said.contains("published"), "{said}");

    // What is shared, what stays here, and the driver in the repo's config.
    assert_eq!(
        std::fs::read_to_string(alice.data.join(".gitattributes")).expect("attributes"),
        breachdesk::sync::GITATTRIBUTES
    );
    let tracked = alice.git(&["ls-files"]);
    assert!(
        tracked.contains(&format!("incidents/{first}.toml")),
        "{tracked}"
    );
    assert!(tracked.contains("audit/"), "{tracked}");
    for local in [
        "index",
        "locks/",
        "quarantine/",
        "sync-state",
        "outbox/",
        "machine-id",
        "audit/audit.lock",
    ] {
        assert!(
            !tracked.lines().any(|l| l.starts_with(local)),
            "{local} is machine-local: {tracked}"
        );
    }
    let driver = alice.git(&["config", "--local", "merge.breachdesk-record.driver"]);
    assert!(
        driver
            .trim()
            .ends_with("breachdesk' merge-record %O %A %B %P")
            && driver.starts_with('\''),
        "{driver}"
    );

    // Bob joins with an empty (absent) data directory: a fresh checkout
    // whose index is rebuilt on first use. His git converts line endings
    // (`core.autocrlf`), which must not touch records or audit chains: the
    // audit log holds each record's SHA-256.
    std::fs::write(bob.home.join(".gitconfig"), "[core]\n\tautocrlf = true\n")
        .expect("bob's git config");
    let said = bob.ok(&["sync", "init", team_url]);
    assert!(
        said.contains("joined") && said.contains("2 incident(s)"),
        "{said}"
    );
    assert_eq!(bob.ids(), alice.ids());
    assert_eq!(bob.records(), alice.records());
    for entry in walk(&bob.data).into_iter().chain(walk(&alice.data)) {
        let meta = std::fs::symlink_metadata(&entry).expect("meta");
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() && entry != bob.data && entry != alice.data {
            assert_eq!(mode, 0o700, "{}", entry.display());
        } else if meta.is_file() {
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", entry.display());
        }
    }

    // Bob works, then syncs; Alice syncs and has it all.
    bob.ok(&["log", &first, "Bob isolated web-03"]);
    let third = bob.new_incident("Bob's own incident");
    let said = bob.ok(&["sync"]);
    assert_eq!(
        said.trim(),
        "synced with origin/main: nothing came in, out 1 commit (2 incidents changed), no conflicts"
    );
    let author = bob.git(&["log", "-1", "--format=%an <%ae> / %cn <%ce>"]);
    assert_eq!(
        author.trim(),
        "Bob Baker <bob@provider.example> / Bob Baker <bob@provider.example>"
    );
    // Alice's index knew two incidents; the merge makes it look again.
    assert_eq!(alice.ids().len(), 2);
    let said = alice.ok(&["sync"]);
    assert!(
        said.starts_with(
            "synced with origin/main: in 1 commit (2 incidents changed), out 1 commit"
        ),
        "{said}"
    );
    let shown = alice.ok(&["show", &first]);
    assert!(shown.contains("Bob isolated web-03"), "{shown}");
    assert_eq!(alice.ids().len(), 3);
    assert!(alice.ids().contains(&third));
    let merged = alice.ok(&["audit", "list"]);
    assert!(merged.contains("sync.merged"), "{merged}");

    // Alice's change goes back to Bob; then nothing more moves.
    alice.ok(&["edit", &second, "--title", "Phishing wave (finance)"]);
    alice.ok(&["sync"]);
    bob.ok(&["sync"]);
    assert!(
        bob.ok(&["show", &second])
            .contains("Phishing wave (finance)")
    );
    let quiet = "synced with origin/main: nothing came in, nothing went out, no conflicts";
    alice.ok(&["sync"]);
    assert_eq!(bob.ok(&["sync"]).trim(), quiet);
    assert_eq!(alice.ok(&["sync"]).trim(), quiet);
    assert_eq!(alice.records(), bob.records());
    alice.assert_clean_and_verified();
    bob.assert_clean_and_verified();

    // A second `sync init` with the same remote only writes the files again.
    let said = alice.ok(&["sync", "init", team_url]);
    assert!(said.contains("already synced with"), "{said}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![dir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                found.extend(walk(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn an_unreachable_remote_fails_in_one_line_keeps_the_commit_and_the_next_sync_sends_it() {
    let root = tempfile::tempdir().expect("temp dir");
    let team = remote(root.path());
    let alice = Responder::new(root.path(), "alice", ALICE);
    let id = alice.new_incident("Lost laptop");
    alice.ok(&["sync", "init", team.to_str().expect("utf-8")]);

    let away = root.path().join("team-away.git");
    std::fs::rename(&team, &away).expect("take the remote away");
    alice.ok(&["log", &id, "Called the Client"]);
    let err = alice.fails(&["sync"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("breachdesk: error: remote "), "{err}");
    assert!(err.contains(" unreachable: fatal: "), "{err}");
    assert!(
        err.contains("local changes are committed and kept"),
        "{err}"
    );
    // The change is committed locally, nothing is waiting, nothing lost.
    assert_eq!(alice.git(&["status", "--porcelain"]), "");
    let log = alice.git(&["log", "--format=%s"]);
    assert!(
        log.lines()
            .next()
            .expect("a commit")
            .contains("changes made on this machine"),
        "{log}"
    );
    let state = std::fs::read_to_string(alice.data.join("sync-state.json")).expect("state");
    assert!(state.contains("\"unreachable\": true"), "{state}");

    std::fs::rename(&away, &team).expect("bring the remote back");
    let said = alice.ok(&["sync"]);
    assert!(said.contains("out 1 commit (1 incident changed)"), "{said}");
    let state = std::fs::read_to_string(alice.data.join("sync-state.json")).expect("state");
    assert!(
        state.contains("\"unreachable\": false") && !state.contains("last_error"),
        "{state}"
    );
    let bob = Responder::new(root.path(), "bob", BOB);
    bob.ok(&["sync", "init", team.to_str().expect("utf-8")]);
    assert!(bob.ok(&["show", &id]).contains("Called the Client"));
}

#[test]
fn sync_init_refuses_to_mix_two_histories_and_sync_needs_init() {
    let root = tempfile::tempdir().expect("temp dir");
    let team = remote(root.path());
    let alice = Responder::new(root.path(), "alice", ALICE);
    let bob = Responder::new(root.path(), "bob", BOB);
    let err = bob.fails(&["sync"]);
    assert!(
        err.contains("not a sync repository (run `breachdesk sync init REMOTE` first)"),
        "{err}"
    );
    alice.new_incident("Alice's");
    alice.ok(&["sync", "init", team.to_str().expect("utf-8")]);
    bob.new_incident("Bob's, before joining");
    let err = bob.fails(&["sync", "init", team.to_str().expect("utf-8")]);
    assert!(
        err.contains("already has history") && err.contains("with an empty NEW_DIR"),
        "{err}"
    );
    assert!(
        !bob.data.join(".git").exists(),
        "nothing was made a repository"
    );
    let err = alice.fails(&["sync", "init", "/elsewhere.git"]);
    assert!(err.contains("already synced with"), "{err}");
    let nowhere = root.path().join("nowhere.git");
    let carol = Responder::new(root.path(), "carol", "");
    let err = carol.fails(&["sync", "init", nowhere.to_str().expect("utf-8")]);
    assert!(err.contains("unreachable"), "{err}");
    assert!(!carol.data.join(".git").exists());
}

/// Another responder pushes between this sync's fetch and its push (a
/// pre-push hook does it, so the race happens every time): the push is
/// rejected, and the sync fetches, merges and pushes again.
#[test]
fn a_push_that_loses_the_race_is_merged_and_pushed_again() {
    let root = tempfile::tempdir().expect("temp dir");
    let team = remote(root.path());
    let team_url = team.to_str().expect("utf-8");
    let alice = Responder::new(root.path(), "alice", ALICE);
    let id = alice.new_incident("Race");
    alice.ok(&["sync", "init", team_url]);
    // Any URL git takes: Bob joins through a file:// URL.
    let bob = Responder::new(root.path(), "bob", BOB);
    bob.ok(&["sync", "init", &format!("file://{team_url}")]);

    // A third responder with a commit ready to push first (only shared
    // files are ever taken in: her record and her audit chain).
    let carol_desk = Responder::new(root.path(), "carol", ALICE);
    carol_desk.ok(&["sync", "init", team_url]);
    let carols = carol_desk.new_incident("Carol's incident");
    carol_desk.git(&["add", "incidents", "audit"]);
    carol_desk.git(&["commit", "--quiet", "-m", "carol's incident"]);
    let carol = carol_desk.data.clone();
    let hook = bob.data.join(".git/hooks/pre-push");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nunset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n[ -e '{m}' ] && exit 0\ntouch '{m}'\nexec git -C '{c}' push --quiet origin HEAD:main\n",
            m = root.path().join("raced").display(),
            c = carol.display()
        ),
    )
    .expect("hook");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o700)).expect("mode");

    bob.ok(&["log", &id, "Bob's entry"]);
    let said = bob.ok(&["sync"]);
    assert!(root.path().join("raced").exists(), "the hook ran");
    assert!(said.contains("in 1 commit (1 incident changed)"), "{said}");
    assert!(bob.ids().contains(&carols));
    bob.assert_clean_and_verified();
    alice.ok(&["sync"]);
    assert!(alice.ids().contains(&carols));
    assert!(alice.ok(&["show", &id]).contains("Bob's entry"));
    assert_eq!(alice.records(), bob.records());
    alice.assert_clean_and_verified();
}

/// Two responders sync at the same instant; both succeed, whichever
/// pushes second merging first.
#[test]
fn two_syncs_at_once_both_succeed() {
    let root = tempfile::tempdir().expect("temp dir");
    let team = remote(root.path());
    let team_url = team.to_str().expect("utf-8");
    let alice = Responder::new(root.path(), "alice", ALICE);
    alice.new_incident("Both at once");
    alice.ok(&["sync", "init", team_url]);
    let bob = Responder::new(root.path(), "bob", BOB);
    bob.ok(&["sync", "init", team_url]);
    // Changes that need no record merge: an incident each.
    let mine = [alice.new_incident("Alice's"), bob.new_incident("Bob's")];
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| alice.run(&["sync"]));
        let b = s.spawn(|| bob.run(&["sync"]));
        (a.join().expect("alice"), b.join().expect("bob"))
    });
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    alice.ok(&["sync"]);
    bob.ok(&["sync"]);
    alice.ok(&["sync"]);
    for r in [&alice, &bob] {
        assert!(mine.iter().all(|id| r.ids().contains(id)));
        r.assert_clean_and_verified();
    }
    assert_eq!(
        alice.git(&["rev-parse", "HEAD"]),
        bob.git(&["rev-parse", "HEAD"])
    );
}

/// The whole team scenario of issue 15: concurrent timeline entries, data
/// requests, edits to different fields and to the same field, and new
/// incidents on both sides, synced A, B, A.
#[test]
fn concurrent_work_on_both_sides_merges_losing_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    let team = remote(root.path());
    let team_url = team.to_str().expect("utf-8");
    let alice = Responder::new(root.path(), "alice", ALICE);
    let shared = alice.new_incident("Ransomware on file server");
    alice.ok(&["sync", "init", team_url]);
    let bob = Responder::new(root.path(), "bob", BOB);
    bob.ok(&["sync", "init", team_url]);

    // Both at once, neither synced.
    alice.ok(&["log", &shared, "Alice: isolated fs-01"]);
    bob.ok(&["log", &shared, "Bob: took a memory image of fs-01"]);
    alice.ok(&[
        "request",
        "add",
        &shared,
        "--deliver-to",
        "client",
        "--name",
        "CSR",
        "--what",
        "Firewall logs",
    ]);
    bob.ok(&[
        "request",
        "add",
        &shared,
        "--deliver-to",
        "govcertuk",
        "--name",
        "CSR",
        "--what",
        "Disk image hashes",
    ]);
    alice.ok(&["edit", &shared, "--severity", "critical"]);
    bob.ok(&["edit", &shared, "--summary", "Encrypted shares on fs-01"]);
    alice.ok(&["edit", &shared, "--title", "Ransomware on fs-01 (Alice)"]);
    bob.ok(&["edit", &shared, "--title", "Ransomware on fs-01 (Bob)"]);
    let alices = alice.new_incident("Alice's new one");
    let bobs = bob.new_incident("Bob's new one");

    alice.ok(&["sync"]);
    let said = bob.ok(&["sync"]);
    assert!(
        said.contains(&format!("conflict resolved in {shared}")),
        "{said}"
    );
    alice.ok(&["sync"]);

    assert_eq!(alice.records(), bob.records(), "identical records");
    assert_eq!(alice.ids(), bob.ids());
    assert!(alice.ids().contains(&alices) && alice.ids().contains(&bobs));
    let shown = alice.ok(&["show", &shared]);
    for text in [
        "Alice: isolated fs-01",
        "Bob: took a memory image of fs-01",
        "Firewall logs",
        "Disk image hashes",
        "critical",
        "Encrypted shares on fs-01",
        "Ransomware on fs-01 (Alice)",
        "Ransomware on fs-01 (Bob)",
    ] {
        assert!(shown.contains(text), "{text} lost: {shown}");
    }
    for (name, bytes) in alice.records() {
        let text = String::from_utf8(bytes).expect("utf-8");
        for marker in ["<<<<<<<", "=======", ">>>>>>>"] {
            assert!(!text.contains(marker), "{name} has a conflict marker");
        }
    }
    alice.assert_clean_and_verified();
    bob.assert_clean_and_verified();
    // The merge's bookkeeping stays with the team: `show` has its entries,
    // the report for the Client does not.
    let bookkeeping = "Merged copies of this record";
    assert!(shown.contains(bookkeeping), "{shown}");
    let report = alice.ok(&["export", &shared, "--format", "markdown"]);
    assert!(!report.contains(bookkeeping), "{report}");
    assert!(
        report.contains("Bob: took a memory image of fs-01"),
        "{report}"
    );

    // Both added a data request as R1: both kept, under different ids.
    let json = alice.ok(&["show", &shared, "--format", "json"]);
    let record: serde_json::Value = serde_json::from_str(&json).expect("show json");
    let mut request_ids: Vec<&str> = record["data_requests"]
        .as_array()
        .expect("data_requests")
        .iter()
        .map(|r| r["id"].as_str().expect("request id"))
        .collect();
    request_ids.sort_unstable();
    assert_eq!(request_ids, ["R1", "R2"], "{json}");

    // Second round, the other order: Bob syncs first. Both give the same
    // role to different people, both change the same field again, Alice
    // hands over and Bob logs.
    alice.ok(&[
        "assign",
        &shared,
        "--role",
        "incident-manager",
        "--to",
        "Carol",
    ]);
    bob.ok(&[
        "assign",
        &shared,
        "--role",
        "incident-manager",
        "--to",
        "Dan",
    ]);
    alice.ok(&["edit", &shared, "--containment", "fs-01 off the network"]);
    bob.ok(&["edit", &shared, "--containment", "shares read-only"]);
    alice.ok(&[
        "handover",
        &shared,
        "--to",
        "bob",
        "--note",
        "Client call at 09:00",
    ]);
    bob.ok(&["log", &shared, "Bob: backups verified clean"]);

    bob.ok(&["sync"]);
    let said = alice.ok(&["sync"]);
    assert!(
        said.contains(&format!("conflict resolved in {shared}")),
        "{said}"
    );
    bob.ok(&["sync"]);

    assert_eq!(alice.records(), bob.records(), "identical after round two");
    let shown = bob.ok(&["show", &shared]);
    for text in [
        "Client call at 09:00",
        "Bob: backups verified clean",
        "fs-01 off the network",
        "shares read-only",
        "Carol",
        "Dan",
    ] {
        assert!(shown.contains(text), "{text} lost: {shown}");
    }
    // One incident manager, the same on both machines.
    let manager = |who: &Responder| -> serde_json::Value {
        let list: serde_json::Value =
            serde_json::from_str(&who.ok(&["list", "--format", "json"])).expect("list json");
        list.as_array()
            .expect("list")
            .iter()
            .find(|i| i["id"] == shared.as_str())
            .expect("shared incident listed")["incident_manager"]
            .clone()
    };
    let held = manager(&alice);
    assert!(held == "Carol" || held == "Dan", "{held}");
    assert_eq!(held, manager(&bob));
    for (name, bytes) in bob.records() {
        let text = String::from_utf8(bytes).expect("utf-8");
        for marker in ["<<<<<<<", "=======", ">>>>>>>"] {
            assert!(!text.contains(marker), "{name} has a conflict marker");
        }
    }
    alice.assert_clean_and_verified();
    bob.assert_clean_and_verified();
}

/// A sync killed between its merge and the commit leaves a merge in
/// progress: the next sync undoes it and merges again.
#[test]
fn a_merge_left_half_done_is_undone_and_done_again() {
    let root = tempfile::tempdir().expect("temp dir");
    let team = remote(root.path());
    let team_url = team.to_str().expect("utf-8");
    let alice = Responder::new(root.path(), "alice", ALICE);
    alice.new_incident("Half a merge");
    alice.ok(&["sync", "init", team_url]);
    let bob = Responder::new(root.path(), "bob", BOB);
    bob.ok(&["sync", "init", team_url]);
    let mine = [bob.new_incident("Bob's")];
    bob.ok(&["sync"]);
    let mine = [mine[0].clone(), alice.new_incident("Alice's")];
    alice.git(&["add", "incidents", "audit"]);
    alice.git(&["commit", "--quiet", "-m", "alice's incident"]);
    alice.git(&["fetch", "--quiet", "origin"]);
    alice.git(&["merge", "--quiet", "--no-commit", "--no-ff", "origin/main"]);
    assert!(alice.data.join(".git/MERGE_HEAD").exists());

    let said = alice.ok(&["sync"]);
    assert!(
        said.contains("in 1 commit") && said.contains("out 2 commits"),
        "{said}"
    );
    assert!(!alice.data.join(".git/MERGE_HEAD").exists());
    bob.ok(&["sync"]);
    for r in [&alice, &bob] {
        assert!(mine.iter().all(|id| r.ids().contains(id)));
        r.assert_clean_and_verified();
    }
}

/// A credential in a remote's URL is never printed or kept in the state
/// file (git keeps the URL in the repository's own config, where it was
/// put).
#[test]
fn a_password_in_the_remote_url_is_never_shown() {
    let root = tempfile::tempdir().expect("temp dir");
    let team = remote(root.path());
    let alice = Responder::new(root.path(), "alice", ALICE);
    let id = alice.new_incident("Credential");
    alice.ok(&["sync", "init", team.to_str().expect("utf-8")]);
    // A port bound here and closed again: nothing answers on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("http://sam:TOPSECRET@127.0.0.1:{port}/ir.git");
    alice.git(&["remote", "set-url", "origin", &url]);
    alice.ok(&["log", &id, "entry"]);
    let err = alice.fails(&["sync"]);
    assert!(err.contains("unreachable"), "{err}");
    assert!(err.contains("sam:***@127.0.0.1"), "{err}");
    assert!(!err.contains("TOPSECRET"), "{err}");
    let state = std::fs::read_to_string(alice.data.join("sync-state.json")).expect("state");
    assert!(!state.contains("TOPSECRET"), "{state}");
    let carol = Responder::new(root.path(), "carol", "");
    let err = carol.fails(&["sync", "init", &url]);
    assert!(
        err.contains("unreachable") && !err.contains("TOPSECRET"),
        "{err}"
    );
}

/// A record someone broke by hand and pushed with plain git: the merge
/// driver refuses it, the sync stops in one line naming the file, nothing
/// is merged, and this machine's own change stays committed and intact.
#[test]
fn a_broken_record_from_the_remote_stops_the_sync_and_loses_nothing_here() {
    let root = tempfile::tempdir().expect("temp dir");
    let team = remote(root.path());
    let team_url = team.to_str().expect("utf-8");
    let alice = Responder::new(root.path(), "alice", ALICE);
    let id = alice.new_incident("Lost laptop");
    alice.ok(&["sync", "init", team_url]);

    // Someone edits the record by hand in their own clone and pushes it.
    let hand = root.path().join("by-hand");
    git_in(
        root.path(),
        &["clone", "--quiet", "--branch", "main", team_url, "by-hand"],
    );
    let file = hand.join("incidents").join(format!("{id}.toml"));
    let text = std::fs::read_to_string(&file).expect("record");
    std::fs::write(&file, text.replace("title = ", "title = = ")).expect("break it");
    git_in(&hand, &["commit", "--quiet", "-am", "hand edit"]);
    git_in(&hand, &["push", "--quiet", "origin", "HEAD"]);

    alice.ok(&["log", &id, "Wiped the laptop remotely"]);
    let err = alice.fails(&["sync"]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "stopped on a conflict in incidents/{id}.toml: incidents/{id}.toml, their copy: "
        )),
        "{err}"
    );
    // The driver's reason names the line and column of the broken copy.
    assert!(err.contains(":5:9: "), "{err}");
    // Nothing merged, no markers, the local change committed and shown.
    assert_eq!(alice.git(&["status", "--porcelain"]), "");
    let mine = std::fs::read_to_string(alice.data.join("incidents").join(format!("{id}.toml")))
        .expect("record");
    assert!(
        !mine.contains("<<<<<<<") && !mine.contains("title = = "),
        "{mine}"
    );
    assert!(
        alice
            .ok(&["show", &id])
            .contains("Wiped the laptop remotely")
    );
    alice.assert_clean_and_verified();
}
