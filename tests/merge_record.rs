//! `breachdesk merge-record %O %A %B %P`, the git merge driver for incident
//! records, run as the real binary on real files: with no data directory or
//! config, inside a real `git merge` with the driver registered, and on
//! copies that do not parse (it fails, naming the file, line and column,
//! and leaves %A as it was).

use breachdesk::domain::incident::{
    BreachKind, EntryKind, Incident, NewIncident, PartyRole, Severity, StepNote,
};
use breachdesk::domain::merge::MERGE_AUTHOR;
use breachdesk::store::{read_record_file, write_record_file};
use chrono::{DateTime, Duration, Utc};
use std::path::Path;
use std::process::{Command, Output};

const ID: &str = "INC-20260310-0900-abcdef";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T09:00:00Z")
        .expect("instant")
        .to_utc()
}

fn base() -> Incident {
    let fields = NewIncident {
        title: "Lost laptop".into(),
        summary: "A laptop was left on a train".into(),
        kind: BreachKind::Breach,
        severity: Severity::High,
        personal_data: true,
        government_data: false,
        affected_assets: vec!["laptop-17".into()],
        identified_at: t0(),
    };
    let mut i = Incident::new(ID.into(), fields, "carol", PartyRole::ServiceProvider, t0())
        .expect("incident");
    i.revision = 2;
    i
}

/// Runs the binary with an empty environment but for PATH and HOME (no data
/// directory, no config), in `cwd`.
fn breachdesk(cwd: &Path, args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_breachdesk"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cwd)
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("run breachdesk")
}

/// Two copies grown from `base()`: both log an entry and change the title;
/// ours changes the summary, theirs the containment, later than ours.
fn two_copies() -> (Incident, Incident, Incident) {
    let base = base();
    let mut ours = base.clone();
    ours.log(
        t0() + Duration::minutes(5),
        "alice",
        EntryKind::Note,
        "Called the Client",
    );
    ours.title = "Lost laptop (encrypted)".into();
    ours.summary = "Encrypted laptop left on the 07:10".into();
    ours.revision = 3;
    let mut theirs = base.clone();
    theirs.log(
        t0() + Duration::minutes(9),
        "bob",
        EntryKind::Note,
        "Isolated the VPN account",
    );
    theirs.title = "Lost laptop, VPN account".into();
    theirs.details.containment = "VPN account disabled".into();
    theirs.revision = 4;
    (base, ours, theirs)
}

#[test]
fn merges_three_files_into_ours_with_no_data_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (base, ours, theirs) = two_copies();
    let (o, a, b) = (
        dir.path().join("base.toml"),
        dir.path().join("ours.toml"),
        dir.path().join("theirs.toml"),
    );
    write_record_file(&o, &base).expect("base");
    write_record_file(&a, &ours).expect("ours");
    write_record_file(&b, &theirs).expect("theirs");
    let path = Path::new("incidents").join(format!("{ID}.toml"));
    let ran = breachdesk(dir.path(), &[Path::new("merge-record"), &o, &a, &b, &path]);
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let out = String::from_utf8_lossy(&ran.stdout);
    assert!(out.contains("1 field(s) changed on both sides"), "{out}");
    // Nothing was made in the working directory but the merged file.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["base.toml", "ours.toml", "theirs.toml"]);

    let text = std::fs::read_to_string(&a).expect("merged text");
    assert!(text.starts_with("# breachdesk-summary "), "{text}");
    assert!(!text.contains("<<<<<<<") && !text.contains(">>>>>>>"));
    let merged = read_record_file(&a, ID).expect("parses").expect("present");
    assert_eq!(merged.revision, 5);
    // Changed on one side: taken. Changed on both: the later side's value.
    assert_eq!(merged.summary, ours.summary);
    assert_eq!(merged.details.containment, "VPN account disabled");
    assert_eq!(merged.title, "Lost laptop, VPN account");
    let texts: Vec<&str> = merged.timeline.iter().map(|e| e.text.as_str()).collect();
    assert!(texts.contains(&"Called the Client") && texts.contains(&"Isolated the VPN account"));
    let conflict = merged.timeline.last().expect("an entry");
    assert_eq!(conflict.kind, EntryKind::Conflict);
    assert_eq!(conflict.by, MERGE_AUTHOR);
    assert!(
        conflict.text.contains("title") && conflict.text.contains("Lost laptop (encrypted)"),
        "{}",
        conflict.text
    );
    // Rewritten exactly as the store writes it: merging again leaves it.
    let before = std::fs::read(&a).expect("bytes");
    write_record_file(&b, &merged).expect("theirs = merged");
    let ran = breachdesk(dir.path(), &[Path::new("merge-record"), &o, &a, &b, &path]);
    assert!(ran.status.success());
    assert_eq!(std::fs::read(&a).expect("bytes"), before);
}

#[test]
fn theirs_unchanged_leaves_ours_byte_identical_and_an_old_record_is_migrated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (base, ours, _) = two_copies();
    let (o, a, b) = (
        dir.path().join("o"),
        dir.path().join("a"),
        dir.path().join("b"),
    );
    write_record_file(&o, &base).expect("base");
    write_record_file(&b, &base).expect("theirs");
    // Ours as an older breachdesk wrote it: schema 1, no uids, a step's
    // notes as plain strings.
    let mut old = ours.clone();
    old.steps.push(
        serde_json::from_value(serde_json::json!({
            "id": "8.2.1a", "playbook": "schedule-6", "title": "Minimise the harm",
        }))
        .expect("step"),
    );
    let mut text = toml::to_string(&old).expect("toml");
    assert_eq!(text.matches("notes = []").count(), 1, "{text}");
    text = text.replace("notes = []", "notes = [\"first\", \"first\"]");
    text = text.replace("schema_version = 2", "schema_version = 1");
    text = text
        .lines()
        .filter(|l| !l.starts_with("uid = "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("notes = [\"first\", \"first\"]"), "{text}");
    std::fs::write(&a, &text).expect("old ours");
    let path = Path::new(&format!("incidents/{ID}.toml")).to_path_buf();
    let ran = breachdesk(dir.path(), &[Path::new("merge-record"), &o, &a, &b, &path]);
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert_eq!(std::fs::read_to_string(&a).expect("ours"), text);

    // Read, it gets the same derived ids on every machine.
    let first = read_record_file(&a, ID).expect("reads").expect("present");
    let again = read_record_file(&a, ID).expect("reads").expect("present");
    assert_eq!(first, again);
    assert_eq!(first.schema_version, 2);
    assert!(first.timeline.iter().all(|e| e.uid.len() == 16));
    let notes: &[StepNote] = &first.steps[0].notes;
    assert_eq!(notes.len(), 2);
    assert_ne!(notes[0].uid, notes[1].uid);
    assert_eq!((notes[0].text.as_str(), notes[0].at), ("first", None));
}

#[test]
fn a_copy_that_does_not_parse_fails_naming_it_and_leaves_ours_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (base, ours, theirs) = two_copies();
    let (o, a, b) = (
        dir.path().join("o"),
        dir.path().join("a"),
        dir.path().join("b"),
    );
    write_record_file(&o, &base).expect("base");
    write_record_file(&a, &ours).expect("ours");
    let mut text = toml::to_string(&theirs).expect("toml");
    text = text.replacen("title = ", "title = = ", 1);
    std::fs::write(&b, &text).expect("theirs");
    let before = std::fs::read(&a).expect("bytes");
    let path = Path::new(&format!("incidents/{ID}.toml")).to_path_buf();
    let ran = breachdesk(dir.path(), &[Path::new("merge-record"), &o, &a, &b, &path]);
    assert!(!ran.status.success());
    let err = String::from_utf8_lossy(&ran.stderr);
    let line = text
        .lines()
        .position(|l| l.starts_with("title = = "))
        .expect("line")
        + 1;
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("{}:{line}:", b.display())), "{err}");
    assert_eq!(std::fs::read(&a).expect("bytes"), before);
    // A record of another incident is refused too.
    let other = Path::new("incidents/INC-other.toml");
    write_record_file(&b, &theirs).expect("theirs");
    let ran = breachdesk(dir.path(), &[Path::new("merge-record"), &o, &a, &b, other]);
    assert!(!ran.status.success());
    assert_eq!(std::fs::read(&a).expect("bytes"), before);
}

/// Runs git in `repo` with no system or global config of its own.
fn git(repo: &Path, home: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", home)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .current_dir(repo)
        .args([
            "-c",
            "user.name=Test Responder",
            "-c",
            "user.email=t@example.test",
        ])
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_real_git_merge_uses_the_driver_and_leaves_no_conflict() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("repo");
    let repo = dir.path();
    git(repo, home.path(), &["init", "-q", "-b", "main"]);
    let driver = format!(
        "{} merge-record %O %A %B %P",
        env!("CARGO_BIN_EXE_breachdesk")
    );
    git(
        repo,
        home.path(),
        &["config", "merge.breachdesk-record.driver", &driver],
    );
    std::fs::write(
        repo.join(".gitattributes"),
        "incidents/*.toml merge=breachdesk-record\n",
    )
    .expect("attributes");
    std::fs::create_dir(repo.join("incidents")).expect("incidents");
    let record = repo.join("incidents").join(format!("{ID}.toml"));
    let (base, ours, theirs) = two_copies();
    write_record_file(&record, &base).expect("base");
    git(repo, home.path(), &["add", "-A"]);
    git(repo, home.path(), &["commit", "-q", "-m", "base"]);
    git(repo, home.path(), &["checkout", "-q", "-b", "theirs"]);
    write_record_file(&record, &theirs).expect("theirs");
    git(repo, home.path(), &["commit", "-q", "-am", "theirs"]);
    git(repo, home.path(), &["checkout", "-q", "main"]);
    write_record_file(&record, &ours).expect("ours");
    git(repo, home.path(), &["commit", "-q", "-am", "ours"]);
    git(repo, home.path(), &["merge", "-q", "--no-edit", "theirs"]);

    let text = std::fs::read_to_string(&record).expect("merged");
    assert!(!text.contains("<<<<<<<"), "{text}");
    let merged = read_record_file(&record, ID)
        .expect("parses")
        .expect("present");
    assert_eq!(merged.revision, 5);
    assert_eq!(merged.summary, ours.summary);
    assert_eq!(merged.details.containment, theirs.details.containment);
    let status = git(repo, home.path(), &["status", "--porcelain"]);
    assert!(
        status.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
}

#[test]
fn an_empty_base_means_both_sides_added_the_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, ours, theirs) = two_copies();
    let (o, a, b) = (
        dir.path().join("o"),
        dir.path().join("a"),
        dir.path().join("b"),
    );
    std::fs::write(&o, "").expect("empty base");
    write_record_file(&a, &ours).expect("ours");
    write_record_file(&b, &theirs).expect("theirs");
    let path = Path::new(&format!("incidents/{ID}.toml")).to_path_buf();
    let ran = breachdesk(dir.path(), &[Path::new("merge-record"), &o, &a, &b, &path]);
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let merged = read_record_file(&a, ID).expect("parses").expect("present");
    // With no base every differing field is a conflict: each kept value's
    // other is in the timeline.
    for (kept, one, other) in [
        (&merged.title, &ours.title, &theirs.title),
        (&merged.summary, &ours.summary, &theirs.summary),
    ] {
        let lost = if kept == one { other } else { one };
        assert!(
            merged
                .timeline
                .iter()
                .any(|e| e.kind == EntryKind::Conflict && e.text.contains(lost.as_str())),
            "{lost} not in the timeline"
        );
    }
    assert_eq!(
        merged
            .timeline
            .iter()
            .filter(|e| e.by == "alice" || e.by == "bob")
            .count(),
        2
    );
}

#[test]
fn a_revision_that_cannot_be_incremented_is_refused_and_ours_left_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (base, ours, mut theirs) = two_copies();
    // The highest revision a record's text can hold (a TOML integer).
    theirs.revision = i64::MAX as u64;
    let (o, a, b) = (
        dir.path().join("base.toml"),
        dir.path().join("ours.toml"),
        dir.path().join("theirs.toml"),
    );
    write_record_file(&o, &base).expect("base");
    write_record_file(&a, &ours).expect("ours");
    write_record_file(&b, &theirs).expect("theirs");
    // u64::MAX written straight into the text, as a hostile copy might.
    let text = std::fs::read_to_string(&b).expect("theirs text");
    let hostile = dir.path().join("hostile.toml");
    std::fs::write(
        &hostile,
        text.replace(
            &format!("revision = {}", i64::MAX),
            &format!("revision = {}", u64::MAX),
        ),
    )
    .expect("hostile");
    let before = std::fs::read(&a).expect("ours bytes");
    let path = Path::new("incidents").join(format!("{ID}.toml"));
    for theirs_file in [&b, &hostile] {
        let ran = breachdesk(
            dir.path(),
            &[Path::new("merge-record"), &o, &a, theirs_file, &path],
        );
        let err = String::from_utf8_lossy(&ran.stderr);
        assert!(!ran.status.success(), "merged: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(
            err.contains(&format!("{ID}.toml")),
            "names the record: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(
            std::fs::read(&a).expect("ours bytes"),
            before,
            "%A untouched"
        );
    }
    let ran = breachdesk(dir.path(), &[Path::new("merge-record"), &o, &a, &b, &path]);
    assert!(
        String::from_utf8_lossy(&ran.stderr).contains("cannot be incremented"),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
}
