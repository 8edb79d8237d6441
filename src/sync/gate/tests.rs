use super::*;

const ME: &str = "00000000000000aa";
const TEAMMATE: &str = "00000000000000bb";

/// Blobs in memory, named by their text.
#[derive(Default)]
struct Map(HashMap<String, Vec<u8>>);

impl Map {
    /// Stores `text` under an id made of it (hex, like a real blob id).
    fn put(&mut self, text: &[u8]) -> String {
        let id = hex::encode(text);
        self.0.insert(id.clone(), text.to_vec());
        id
    }
}

impl Blobs for Map {
    fn size(&mut self, blob: &str) -> Result<u64, SyncError> {
        Ok(self.0.get(blob).map_or(0, |b| b.len() as u64))
    }
    fn bytes(&mut self, blob: &str) -> Result<Rc<[u8]>, SyncError> {
        Ok(self.0.get(blob).cloned().unwrap_or_default().into())
    }
}

fn side(blob: &str) -> Option<Side> {
    Some(Side {
        mode: REGULAR.into(),
        blob: blob.into(),
    })
}

fn change(path: &str, old: Option<Side>, new: Option<Side>) -> Change {
    Change {
        commit: "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d".into(),
        path: path.as_bytes().to_vec(),
        old,
        new,
    }
}

fn local(head: &[(&str, &str)]) -> Local {
    Local {
        machine_id: Some(ME.into()),
        head: head
            .iter()
            .map(|(p, b)| (p.to_string(), b.to_string()))
            .collect(),
    }
}

/// Why `change` is refused (`None` when it is taken).
fn why(change: Change, local: &Local, blobs: &mut Map) -> Option<String> {
    judge(&[change], local, blobs)
        .expect("judged")
        .map(|r| format!("{} {}", r.path, r.why))
}

#[test]
fn records_chains_signers_and_the_written_files_may_change() {
    let mut blobs = Map::default();
    let a = blobs.put(b"title = \"a\"\n");
    let b = blobs.put(b"title = \"b\"\n");
    let attributes = blobs.put(GITATTRIBUTES.as_bytes());
    let ignore = blobs.put(GITIGNORE.as_bytes());
    let line1 = blobs.put(b"{\"seq\":1}\n");
    let line2 = blobs.put(b"{\"seq\":1}\n{\"seq\":2}\n");
    let key = blobs.put(b"ssh-ed25519 AAAA Bob Baker\n");
    let local = local(&[]);
    let chain = format!("audit/chains/{TEAMMATE}.jsonl");
    let signer = format!("audit/signers/{TEAMMATE}.pub");
    for taken in [
        change("incidents/INC-2026-0001.toml", None, side(&a)),
        change("incidents/INC-2026-0001.toml", side(&a), side(&b)),
        change(".gitattributes", None, side(&attributes)),
        change(".gitignore", side(&attributes), side(&ignore)),
        change(&chain, None, side(&line1)),
        change(&chain, side(&line1), side(&line2)),
        change(&signer, None, side(&key)),
    ] {
        let path = String::from_utf8_lossy(&taken.path).into_owned();
        assert_eq!(why(taken, &local, &mut blobs), None, "{path}");
    }
}

#[test]
fn machine_local_and_unknown_paths_are_refused() {
    let mut blobs = Map::default();
    let a = blobs.put(b"to = \"exfil@evil.example\"\n");
    let local = local(&[]);
    for path in [
        "outbox/1-notice.toml",
        "outbox/sent/1-notice.toml",
        "reminders/outbox/R-1.toml",
        "reminders.json",
        "machine-id",
        "locks",
        "index.json",
        "index-v7.jsonl",
        "logs/breachdesk.log",
        "sync-state.json",
        "signing/id_ed25519",
        "refused/x.toml",
        "quarantine/INC-1.toml.20260101T000000Z",
        "audit/audit.lock",
        "audit/torn-1.bin",
        "audit/audit-log.jsonl.migrated",
        "incidents/.INC-1.toml.tmp-1",
    ] {
        let said = why(change(path, None, side(&a)), &local, &mut blobs).expect(path);
        assert!(said.starts_with(&format!("{path} is machine-local (only incidents/, audit/chains/ and audit/signers/ may change)")), "{said}");
    }
    for path in [
        ".gitmodules",
        "README",
        "incidents/-bad.toml",
        "incidents/INC-1.json",
        "incidents/sub/INC-1.toml",
        "audit/chains/short.jsonl",
        "audit/chains/00000000000000AA.jsonl",
        "audit/signers/x.pub",
        "audit/other.jsonl",
    ] {
        let said = why(change(path, None, side(&a)), &local, &mut blobs).expect(path);
        assert!(said.contains("is not a file breachdesk shares"), "{said}");
    }
}

#[test]
fn links_submodules_and_mode_changes_are_refused() {
    let mut blobs = Map::default();
    let a = blobs.put(b"x\n");
    let local = local(&[]);
    let with_mode = |mode: &str| {
        Some(Side {
            mode: mode.into(),
            blob: a.clone(),
        })
    };
    let said = why(
        change("audit", None, with_mode("120000")),
        &local,
        &mut blobs,
    );
    assert_eq!(
        said.as_deref(),
        Some("audit is a symbolic link (never taken from a remote)")
    );
    let said = why(
        change("vendor", None, with_mode("160000")),
        &local,
        &mut blobs,
    );
    assert_eq!(
        said.as_deref(),
        Some("vendor is a submodule (never taken from a remote)")
    );
    let record = "incidents/INC-1.toml";
    let said = why(
        change(record, side(&a), with_mode("100755")),
        &local,
        &mut blobs,
    );
    assert_eq!(
        said.as_deref(),
        Some("incidents/INC-1.toml has mode 100755 (only regular files, mode 100644, may change)")
    );
}

#[test]
fn deletions_of_records_chains_signers_and_written_files_are_refused() {
    let mut blobs = Map::default();
    let a = blobs.put(b"x\n");
    let local = local(&[]);
    for (path, said) in [
        (
            "incidents/INC-1.toml",
            "incidents/INC-1.toml deletes the record of INC-1 (records are never deleted through sync)",
        ),
        (
            "audit/chains/00000000000000bb.jsonl",
            "audit/chains/00000000000000bb.jsonl deletes machine 00000000000000bb's audit chain (chains are only ever appended to)",
        ),
        (
            "audit/signers/00000000000000bb.pub",
            "audit/signers/00000000000000bb.pub deletes machine 00000000000000bb's signer key (a key is added once, never changed or deleted)",
        ),
        (
            ".gitignore",
            ".gitignore deletes a file breachdesk writes (it must stay as written)",
        ),
    ] {
        assert_eq!(
            why(change(path, side(&a), None), &local, &mut blobs).as_deref(),
            Some(said)
        );
    }
}

#[test]
fn the_written_files_must_be_exactly_what_breachdesk_writes() {
    let mut blobs = Map::default();
    let crlf = blobs.put(format!("{GITATTRIBUTES}* text eol=crlf\n").as_bytes());
    let union = blobs.put(
        GITATTRIBUTES
            .replace("merge=breachdesk-record", "merge=union")
            .as_bytes(),
    );
    let empty = blobs.put(b"");
    let local = local(&[]);
    for (path, blob) in [
        (".gitattributes", &crlf),
        (".gitattributes", &union),
        (".gitignore", &empty),
    ] {
        let said = why(change(path, None, side(blob)), &local, &mut blobs);
        assert_eq!(
            said,
            Some(format!(
                "{path} is not exactly what breachdesk writes there"
            ))
        );
    }
}

#[test]
fn a_teammates_chain_only_grows_by_whole_lines() {
    let mut blobs = Map::default();
    let one = blobs.put(b"{\"seq\":1}\n");
    let two = blobs.put(b"{\"seq\":1}\n{\"seq\":2}\n");
    let rewritten = blobs.put(b"{\"seq\":1,\"x\":1}\n{\"seq\":2}\n");
    let torn = blobs.put(b"{\"seq\":1}\n{\"seq\":2");
    let path = format!("audit/chains/{TEAMMATE}.jsonl");
    let local = local(&[]);
    let refused = format!(
        "{path} is not a pure append to machine {TEAMMATE}'s audit chain (entries changed or removed)"
    );
    for (old, new) in [(&two, &one), (&one, &rewritten), (&one, &torn)] {
        assert_eq!(
            why(change(&path, side(old), side(new)), &local, &mut blobs).as_deref(),
            Some(refused.as_str())
        );
    }
    // Added where this machine already holds the chain: in line with it.
    let holding = Local {
        head: [(path.clone(), two.clone())].into(),
        ..local.clone()
    };
    assert_eq!(
        why(change(&path, None, side(&one)), &holding, &mut blobs),
        None
    );
    assert_eq!(
        why(change(&path, None, side(&rewritten)), &holding, &mut blobs).as_deref(),
        Some(refused.as_str())
    );
}

#[test]
fn this_machines_own_chain_only_ever_holds_what_it_wrote() {
    let mut blobs = Map::default();
    let one = blobs.put(b"{\"seq\":1}\n");
    let two = blobs.put(b"{\"seq\":1}\n{\"seq\":2}\n");
    let three = blobs.put(b"{\"seq\":1}\n{\"seq\":2}\n{\"seq\":3}\n");
    let rehashed = blobs.put(b"{\"seq\":1,\"hash\":\"x\"}\n");
    let path = format!("audit/chains/{ME}.jsonl");
    let local = local(&[(path.as_str(), two.as_str())]);
    let refused =
        format!("{path} changes this machine's own audit chain (only this machine writes it)");
    // A teammate's merge carries what this machine pushed: taken.
    assert_eq!(
        why(change(&path, None, side(&one)), &local, &mut blobs),
        None
    );
    assert_eq!(
        why(change(&path, side(&one), side(&two)), &local, &mut blobs),
        None
    );
    for (old, new) in [
        (None, side(&three)),
        (side(&two), side(&one)),
        (side(&two), side(&rehashed)),
        (None, side(&rehashed)),
    ] {
        assert_eq!(
            why(change(&path, old, new), &local, &mut blobs).as_deref(),
            Some(refused.as_str())
        );
    }
    // Before this machine has written a chain, none is its own to take.
    assert_eq!(
        why(
            change(&path, None, side(&one)),
            &self::local(&[]),
            &mut blobs
        )
        .as_deref(),
        Some(refused.as_str())
    );
}

#[test]
fn a_signer_key_is_added_once() {
    let mut blobs = Map::default();
    let bob = blobs.put(b"ssh-ed25519 AAAA Bob Baker\n");
    let mallory = blobs.put(b"ssh-ed25519 BBBB Bob Baker\n");
    let path = format!("audit/signers/{TEAMMATE}.pub");
    let local = local(&[(path.as_str(), bob.as_str())]);
    let replaced = format!(
        "{path} replaces machine {TEAMMATE}'s signer key (a key is added once, never changed or deleted)"
    );
    assert_eq!(
        why(change(&path, None, side(&bob)), &local, &mut blobs),
        None
    );
    assert_eq!(
        why(change(&path, None, side(&mallory)), &local, &mut blobs).as_deref(),
        Some(replaced.as_str())
    );
    assert_eq!(
        why(
            change(&path, side(&bob), side(&mallory)),
            &local,
            &mut blobs
        )
        .as_deref(),
        Some(replaced.as_str())
    );
    let own = format!("audit/signers/{ME}.pub");
    assert_eq!(
        why(change(&own, None, side(&mallory)), &local, &mut blobs),
        Some(format!(
            "{own} adds a signer key for this machine (only this machine adds its own)"
        ))
    );
}

#[test]
fn oversized_blobs_are_refused_by_size_alone() {
    struct Huge;
    impl Blobs for Huge {
        fn size(&mut self, _: &str) -> Result<u64, SyncError> {
            Ok(1 << 40)
        }
        fn bytes(&mut self, _: &str) -> Result<Rc<[u8]>, SyncError> {
            panic!("an oversized blob is never read")
        }
    }
    let said = judge(
        &[change("incidents/INC-1.toml", None, side("ab"))],
        &local(&[]),
        &mut Huge,
    )
    .expect("judged")
    .expect("refused");
    assert_eq!(
        said.why,
        "is 1099511627776 bytes, more than the 16777216-byte limit for a record"
    );
}

#[test]
fn diff_tree_output_is_read_path_by_path() {
    let zero = "0".repeat(40);
    let (a, b) = ("a".repeat(40), "b".repeat(40));
    let raw = format!(
        "{c}\0:000000 100644 {zero} {a} A\0outbox/1 x.toml\0:100644 000000 {a} {zero} D\0incidents/I.toml\0{c}\0:100644 120000 {a} {b} T\0locks\0",
        c = "c".repeat(40)
    );
    let changes = parse_changes(raw.as_bytes()).expect("parsed");
    assert_eq!(changes.len(), 3);
    assert_eq!(changes[0].path, b"outbox/1 x.toml");
    assert_eq!(changes[0].old, None);
    assert_eq!(changes[1].new, None);
    assert_eq!(changes[2].commit, "c".repeat(40));
    assert_eq!(
        changes[2].new.as_ref().map(|s| s.mode.as_str()),
        Some("120000")
    );
}

#[test]
fn the_machine_local_list_is_the_gitignore() {
    assert!(is_machine_local("outbox/x"));
    assert!(is_machine_local("index"));
    assert!(is_machine_local("index-v7.jsonl"));
    assert!(is_machine_local("audit/torn-3.bin"));
    assert!(!is_machine_local("audit/chains/00000000000000aa.jsonl"));
    assert!(!is_machine_local("incidents/INC-1.toml"));
}

#[test]
fn a_hostile_path_is_shown_printable() {
    let mut blobs = Map::default();
    let a = blobs.put(b"x\n");
    let mut hostile = change("outbox/x", None, side(&a));
    hostile.path = b"outbox/\x1b]0;owned\x07\xff.toml".to_vec();
    let refused = judge(&[hostile], &local(&[]), &mut blobs)
        .expect("judged")
        .expect("refused");
    assert!(
        !refused.path.chars().any(crate::text::is_unsafe_char),
        "{:?}",
        refused.path
    );
    assert!(refused.path.starts_with("outbox/^["), "{}", refused.path);
}
