//! A damaged record is visible: `list` and the console's board name every
//! quarantined record and where it is, `show` of a quarantined id says so,
//! `quarantine list` lists them and `quarantine restore` puts a hand-fixed
//! one back after checking it.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use support::Bin;

/// Opens two incidents, damages the first; returns (damaged id, good id).
fn with_damaged_record(bin: &Bin) -> (String, String) {
    let bad = bin.new_incident("Will be damaged", "-30m");
    let good = bin.new_incident("Stays fine", "-20m");
    let path = bin.data.join("incidents").join(format!("{bad}.toml"));
    let text = fs::read_to_string(&path).expect("record");
    fs::write(&path, text.replacen("revision = ", "revision = = ", 1)).expect("damage");
    (bad, good)
}

fn quarantined(bin: &Bin) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(bin.data.join("quarantine"))
        .expect("quarantine dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn list_names_every_quarantined_record_every_time() {
    let bin = Bin::new();
    let (bad, good) = with_damaged_record(&bin);
    // A read-only `list` names the damaged record in place and moves nothing.
    let looked = bin.run(&["list"]);
    assert!(looked.ok, "{}", looked.err());
    assert!(looked.out().contains(&good));
    assert!(!looked.out().contains(&bad));
    assert!(
        looked.err().contains(&format!("incidents/{bad}.toml:")),
        "{}",
        looked.err()
    );
    assert!(
        looked.err().contains("quarantine sweep"),
        "{}",
        looked.err()
    );
    assert!(quarantined(&bin).is_empty());
    // A sweep moves it.
    let first = bin.run(&["quarantine", "sweep"]);
    assert!(first.ok, "{}", first.err());
    let files = quarantined(&bin);
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with(&format!("{bad}.toml.")), "{name}");
    // The run that moved it says where and why.
    assert!(
        first.out().contains(&format!("moved to quarantine/{name}")),
        "{}",
        first.out()
    );
    // Every later run still names it and its path, on the fast path too.
    for args in [
        &["list"][..],
        &["list"],
        &["list", "--all"],
        &["list", "--format", "json"],
    ] {
        let ran = bin.run(args);
        assert!(ran.ok, "{}", ran.err());
        let line = ran
            .err()
            .lines()
            .find(|l| l.contains(&bad))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("{args:?} did not name {bad}: {}", ran.err()));
        assert!(line.contains("is in quarantine"), "{line}");
        assert!(line.contains(&files[0].display().to_string()), "{line}");
    }
}

#[test]
fn show_of_a_quarantined_id_says_where_it_is() {
    let bin = Bin::new();
    let (bad, _) = with_damaged_record(&bin);
    bin.ok(&["quarantine", "sweep"]);
    let file = quarantined(&bin).remove(0);
    for asked in [bad.as_str(), &bad[bad.len() - 6..]] {
        let err = bin.fails(&["show", asked]);
        assert!(err.contains(&format!("{bad} is in quarantine")), "{err}");
        assert!(err.contains(&file.display().to_string()), "{err}");
        assert!(err.contains("quarantine restore"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // Changes are refused the same way, and nothing is recreated.
    let err = bin.fails(&["log", &bad, "hello"]);
    assert!(err.contains("is in quarantine"), "{err}");
    assert!(
        !bin.data
            .join("incidents")
            .join(format!("{bad}.toml"))
            .exists()
    );
}

#[test]
fn quarantine_list_and_restore_check_a_hand_fixed_file() {
    let bin = Bin::new();
    let (bad, good) = with_damaged_record(&bin);
    assert!(bin.ok(&["quarantine", "list"]).contains("empty"));
    bin.ok(&["quarantine", "sweep"]);
    let file = quarantined(&bin).remove(0);
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();

    let listed = bin.ok(&["quarantine", "list"]);
    assert!(listed.contains(&file.display().to_string()), "{listed}");
    assert!(listed.contains(&bad), "{listed}");
    assert!(listed.contains("not restorable"), "{listed}");

    // Still broken: refused with file, line and column; nothing moves.
    let err = bin.fails(&["quarantine", "restore", &name]);
    assert!(err.contains(&format!("{name}:")), "{err}");
    assert_eq!(quarantined(&bin), vec![file.clone()]);

    // Fixed, but claiming another id: refused. (The record's `id` field,
    // not the first mention of the id, which is in its summary line.)
    let fixed =
        fs::read_to_string(&file)
            .expect("read")
            .replacen("revision = = ", "revision = ", 1);
    fs::write(
        &file,
        fixed.replacen(&format!("id = \"{bad}\""), &format!("id = \"{good}\""), 1),
    )
    .expect("write");
    let err = bin.fails(&["quarantine", "restore", &name]);
    assert!(err.contains("does not match its file name"), "{err}");

    // A copy of an incident that is already there: refused.
    let copy = bin.dir.path().join(format!("{good}.toml.copy"));
    fs::copy(
        bin.data.join("incidents").join(format!("{good}.toml")),
        &copy,
    )
    .expect("copy");
    let err = bin.fails(&["quarantine", "restore", &copy.display().to_string()]);
    assert!(err.contains(&format!("{good} is already in")), "{err}");

    // Properly fixed: listed as restorable, then put back, 0600.
    fs::write(&file, &fixed).expect("write");
    assert!(
        bin.ok(&["quarantine", "list"])
            .contains(&format!("parses now: breachdesk quarantine restore {name}"))
    );
    let out = bin.ok(&["quarantine", "restore", &name]);
    assert!(out.contains(&format!("{bad}: restored")), "{out}");
    let record = bin.data.join("incidents").join(format!("{bad}.toml"));
    assert_eq!(
        fs::metadata(&record)
            .expect("restored")
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(fs::read_to_string(&record).expect("read"), fixed);
    assert!(quarantined(&bin).is_empty());
    let ran = bin.run(&["list"]);
    assert!(ran.out().contains(&bad), "{}", ran.out());
    assert!(!ran.err().contains("quarantine"), "{}", ran.err());
    assert!(bin.ok(&["show", &bad]).contains("Will be damaged"));
    assert!(
        bin.ok(&["audit", "list", &bad])
            .contains("incident.restored")
    );
    bin.ok(&["log", &bad, "back", "in", "business"]);
    // The restored bytes and the change after them are accounted for.
    let audit = bin.ok(&["audit", "verify"]);
    assert!(
        audit.contains("every saved record revision has its entry"),
        "{audit}"
    );
    let quarantined_entry = bin.ok(&["audit", "list", &bad]);
    assert!(
        quarantined_entry.contains("record.quarantined"),
        "{quarantined_entry}"
    );
}

#[test]
fn the_board_names_quarantined_records() {
    let fx = support::fixture();
    fx.incident("INC-GOOD", "Good", support::minutes(10));
    fx.incident("INC-DAMAGED", "Damaged", support::minutes(20));
    let path = fx.store.record_path("INC-DAMAGED");
    fs::write(&path, "title = [broken\n").expect("damage");
    // The load that quarantines it, then a later one: both name it.
    for _ in 0..2 {
        let app = fx.app();
        let screen = support::screen_text(&support::draw(&app, support::now(), 200, 30));
        assert!(screen.contains("INC-GOOD"), "{screen}");
        let line = screen
            .lines()
            .find(|l| l.contains("INC-DAMAGED"))
            .unwrap_or_else(|| panic!("board does not name it:\n{screen}"));
        assert!(line.contains("quarantine"), "{line}");
    }
    let files = fx.store.quarantined().expect("list");
    assert_eq!(files.len(), 1);
    let app = fx.app();
    let shown = app.board.problems.join("\n");
    assert!(
        shown.contains(&files[0].path.display().to_string()),
        "{shown}"
    );
}

/// A record as a newer breachdesk would write it: a field this one does
/// not know, and a version (its `schema_version`, or the schema part of its
/// summary line) newer than this one's.
fn from_a_newer_breachdesk(text: &str, how: &str) -> String {
    let text = match how {
        "schema_version" => text.replacen("schema_version = 2", "schema_version = 3", 1),
        "summary line" => text.replacen(
            "# breachdesk-summary v7.2 ",
            "# breachdesk-summary v7.3 ",
            1,
        ),
        _ => text.replacen("schema_version = 2", "schema_version = 99999999999", 1),
    };
    format!("{text}\nfield_from_the_future = \"x\"\n")
}

#[test]
fn a_record_from_a_newer_breachdesk_is_reported_as_such_and_left_in_place() {
    for how in ["schema_version", "summary line", "huge"] {
        let bin = Bin::new();
        let newer = bin.new_incident("A teammate's incident", "-50m");
        let good = bin.new_incident("Stays fine", "-20m");
        let path = bin.data.join("incidents").join(format!("{newer}.toml"));
        let text = fs::read_to_string(&path).expect("record");
        assert!(text.contains("schema_version = 2"), "{text}");
        assert!(text.starts_with("# breachdesk-summary v7.2 "), "{text}");
        let planted = from_a_newer_breachdesk(&text, how);
        fs::write(&path, &planted).expect("newer");
        for args in [
            vec!["watch", "--once"],
            vec!["list"],
            vec!["quarantine", "sweep"],
            vec!["show", newer.as_str()],
        ] {
            let run = bin.run(&args);
            // `quarantine sweep` says it on standard output, the rest as a
            // warning or error.
            let err = format!("{}{}", run.out(), run.err());
            let lines: Vec<&str> = err
                .lines()
                .filter(|l| l.contains("written by a newer breachdesk"))
                .collect();
            assert_eq!(lines.len(), 1, "{how}: {args:?} says it once: {err}");
            assert!(lines[0].contains(&format!("{newer}.toml")), "{}", lines[0]);
            assert!(lines[0].contains("upgrade"), "{}", lines[0]);
            assert!(!err.contains("quarantine/"), "{how}: {args:?}: {err}");
            if args[0] == "list" {
                assert!(run.out().contains(&good), "{}", run.out());
            }
        }
        // Untouched, where it was: moving it is a deletion a sync would see.
        assert_eq!(fs::read_to_string(&path).expect("still there"), planted);
        let moved = fs::read_dir(bin.data.join("quarantine"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(moved, 0, "{how}: nothing in quarantine/");
    }
}

#[test]
fn the_board_says_a_newer_record_needs_an_upgrade_and_moves_nothing() {
    let fx = support::fixture();
    fx.incident("INC-GOOD", "Good", support::minutes(10));
    fx.incident("INC-NEWER", "Newer", support::minutes(20));
    let path = fx.store.record_path("INC-NEWER");
    let text = fs::read_to_string(&path).expect("record");
    let planted = from_a_newer_breachdesk(&text, "schema_version");
    fs::write(&path, &planted).expect("newer");
    for _ in 0..2 {
        let app = fx.app();
        let shown = app.board.problems.join("\n");
        assert_eq!(
            shown.matches("written by a newer breachdesk").count(),
            1,
            "{shown}"
        );
        assert!(shown.contains("upgrade"), "{shown}");
        assert!(shown.contains("INC-NEWER"), "{shown}");
    }
    assert!(fx.store.quarantined().expect("list").is_empty());
    assert_eq!(fs::read_to_string(&path).expect("in place"), planted);
}
