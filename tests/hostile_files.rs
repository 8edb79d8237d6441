//! Hostile and odd files never hang, exhaust memory or crash breachdesk: a
//! FIFO, a link to /dev/zero, a directory, a socket or an oversized file
//! where a record, the index, the config, a playbook or evidence belongs is
//! refused with a warning naming it, and everything else keeps working.
//! Directories breachdesk did not create keep their mode.

mod support;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use support::Bin;

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("meta").permissions().mode() & 0o7777
}

#[test]
fn odd_files_in_incidents_are_named_and_the_rest_still_loads() {
    let bin = Bin::new();
    let id = bin.new_incident("The real one", "-10m");
    let incidents = bin.data.join("incidents");
    mkfifo(&incidents.join("INC-FIFO.toml"));
    symlink("/dev/zero", incidents.join("INC-ZERO.toml")).expect("symlink");
    fs::create_dir(incidents.join("INC-DIR.toml")).expect("dir");
    let _socket =
        std::os::unix::net::UnixListener::bind(incidents.join("INC-SOCK.toml")).expect("socket");
    // 16 MiB + 1: one byte over the cap (sparse, so it costs no disk).
    let big = fs::File::create(incidents.join("INC-BIG.toml")).expect("big");
    big.set_len(16 * 1024 * 1024 + 1).expect("set_len");
    // A link to a real record is not followed either.
    symlink(
        incidents.join(format!("{id}.toml")),
        incidents.join("INC-LINK.toml"),
    )
    .expect("symlink");

    // Twice: the first run writes the index, the second may take the fast path.
    for _ in 0..2 {
        let ran = bin.run(&["list"]);
        assert!(ran.ok, "{}", ran.err());
        assert!(ran.out().contains(&id), "{}", ran.out());
        let err = ran.err();
        for (name, what) in [
            ("INC-FIFO.toml", "is a FIFO"),
            ("INC-ZERO.toml", "is a symbolic link"),
            ("INC-DIR.toml", "is a directory"),
            ("INC-SOCK.toml", "is a socket"),
            (
                "INC-BIG.toml",
                "16777217 bytes, more than the 16777216-byte limit",
            ),
            ("INC-LINK.toml", "is a symbolic link"),
        ] {
            assert!(
                err.lines().any(|l| l.contains(name) && l.contains(what)),
                "no warning naming {name} ({what}):\n{err}"
            );
        }
    }
    assert!(bin.ok(&["list", "--all"]).contains(&id));
    assert!(bin.ok(&["show", &id]).contains("The real one"));
    // Asking for an odd one by name is a one-line error naming it.
    let err = bin.fails(&["show", "INC-FIFO"]);
    assert!(err.contains("INC-FIFO.toml: is a FIFO"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let err = bin.fails(&["show", "INC-ZERO"]);
    assert!(err.contains("is a symbolic link (not followed)"), "{err}");
    // Changes to the real incident still work, and nothing was moved.
    bin.ok(&["log", &id, "still", "working"]);
    assert!(incidents.join("INC-FIFO.toml").exists());
    assert!(
        fs::read_dir(bin.data.join("quarantine"))
            .expect("quarantine")
            .next()
            .is_none()
    );
}

#[test]
fn an_odd_index_is_ignored_and_rebuilt() {
    let bin = Bin::new();
    let id = bin.new_incident("Indexed", "-5m");
    let index = bin.data.join("index.json");
    bin.ok(&["list"]);
    fs::remove_file(&index).ok();
    mkfifo(&index);
    assert!(bin.ok(&["list"]).contains(&id));
    fs::remove_file(&index).ok();
    symlink("/dev/zero", &index).expect("symlink");
    assert!(bin.ok(&["list"]).contains(&id));
    assert!(bin.ok(&["list", "--all"]).contains(&id));
}

#[test]
fn an_odd_config_or_playbook_is_refused_without_hanging() {
    let bin = Bin::new();
    fs::create_dir_all(bin.config.parent().expect("config dir")).expect("mkdir");
    mkfifo(&bin.config);
    let err = bin.fails(&["list"]);
    assert!(
        err.contains("config.toml") && err.contains("is a FIFO"),
        "{err}"
    );
    fs::remove_file(&bin.config).expect("rm");
    symlink("/dev/zero", &bin.config).expect("symlink");
    let err = bin.fails(&["list"]);
    assert!(err.contains("is a character device"), "{err}");
    fs::remove_file(&bin.config).expect("rm");

    // A link to a real config is followed (dotfiles checkouts do that).
    let real = bin.dir.path().join("real-config.toml");
    fs::write(&real, "[responder]\nname = \"Linked Responder\"\n").expect("write");
    symlink(&real, &bin.config).expect("symlink");
    bin.ok(&["config", "check"]);

    let playbooks = bin.config.parent().expect("dir").join("playbooks");
    fs::create_dir_all(&playbooks).expect("mkdir");
    mkfifo(&playbooks.join("odd.toml"));
    symlink("/dev/zero", playbooks.join("zero.toml")).expect("symlink");
    let ran = bin.run(&["playbook", "list"]);
    assert!(ran.ok, "{}", ran.err());
    assert!(ran.out().contains("schedule6-paragraph8"), "{}", ran.out());
    assert!(
        ran.err().contains("odd.toml") && ran.err().contains("is a FIFO"),
        "{}",
        ran.err()
    );
    assert!(ran.err().contains("zero.toml"), "{}", ran.err());
    let err = bin.fails(&[
        OsStr::new("--playbook"),
        playbooks.join("odd.toml").as_os_str(),
        OsStr::new("playbook"),
        OsStr::new("check"),
        playbooks.join("odd.toml").as_os_str(),
    ]);
    assert!(err.contains("is a FIFO"), "{err}");
}

#[test]
fn an_odd_template_is_refused_without_hanging() {
    let dir = tempfile::tempdir().expect("temp dir");
    let name =
        breachdesk::mail::template::file_name(breachdesk::domain::notice::NoticeKind::Notification);
    mkfifo(&dir.path().join(&name));
    let err = breachdesk::mail::template::load(
        breachdesk::domain::notice::NoticeKind::Notification,
        Some(dir.path()),
    )
    .expect_err("a FIFO template is refused");
    assert!(err.to_string().contains("is a FIFO"), "{err}");
}

#[test]
fn evidence_that_is_not_a_regular_file_is_refused() {
    let bin = Bin::new();
    let id = bin.new_incident("Evidence", "-5m");
    let fifo = bin.dir.path().join("capture.pcap");
    mkfifo(&fifo);
    let err = bin.fails(&[
        OsStr::new("step"),
        OsStr::new(&id),
        OsStr::new("8.2.1a"),
        OsStr::new("--evidence-file"),
        fifo.as_os_str(),
    ]);
    assert!(err.contains("is a FIFO"), "{err}");
    for device in ["/dev/zero", "/dev/null"] {
        let err = bin.fails(&["step", &id, "8.2.1a", "--evidence-file", device]);
        assert!(err.contains("is a character device"), "{err}");
    }
}

#[test]
fn evidence_of_any_size_and_any_name_is_kept_exactly() {
    let bin = Bin::new();
    let id = bin.new_incident("Evidence", "-5m");
    // A name that is not UTF-8, and a file bigger than the record cap.
    let name = OsStr::from_bytes(b"capture-\xff\xfe.bin");
    let file = bin.dir.path().join(name);
    let f = fs::File::create(&file).expect("create");
    f.set_len(20 * 1024 * 1024).expect("set_len");
    drop(f);
    bin.ok(&[
        OsStr::new("step"),
        OsStr::new(&id),
        OsStr::new("8.2.1a"),
        OsStr::new("--evidence-file"),
        file.as_os_str(),
    ]);
    let record =
        fs::read_to_string(bin.data.join("incidents").join(format!("{id}.toml"))).expect("record");
    let hex_path = hex::encode(fs::canonicalize(&file).expect("abs").as_os_str().as_bytes());
    assert!(
        record.contains(&format!("path_hex = \"{hex_path}\"")),
        "{record}"
    );
    assert!(record.contains("size = 20971520"), "{record}");
    let out = bin.ok(&["evidence", &id]);
    assert!(out.starts_with("ok "), "{out}");
    // Shown in a readable (lossy) form, checked through the exact bytes.
    assert!(out.contains("capture-\u{fffd}\u{fffd}.bin"), "{out}");
    // Changing the file is noticed through the same exact path.
    fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .expect("open")
        .set_len(20 * 1024 * 1024 + 1)
        .expect("grow");
    let ran = bin.run(&["evidence", &id]);
    assert!(!ran.ok);
    assert!(ran.out().contains("CHANGED"), "{}", ran.out());
    assert!(!ran.out().contains("MISSING"), "{}", ran.out());
}

#[test]
fn an_existing_directory_keeps_its_mode_and_is_warned_about() {
    let bin = Bin::new();
    fs::create_dir_all(&bin.data).expect("mkdir");
    fs::set_permissions(&bin.data, fs::Permissions::from_mode(0o750)).expect("chmod");
    let ran = bin.run(&["list"]);
    assert!(ran.ok, "{}", ran.err());
    assert!(
        ran.err()
            .contains("is accessible to other users (mode 750); left as it is"),
        "{}",
        ran.err()
    );
    assert_eq!(mode(&bin.data), 0o750, "never chmod'ed");
    // A writer warns the same way, and what it creates inside is private.
    let id = bin.new_incident("Shared dir", "-1m");
    assert_eq!(mode(&bin.data), 0o750, "never chmod'ed");
    for sub in ["incidents", "locks", "quarantine", "audit"] {
        assert_eq!(mode(&bin.data.join(sub)), 0o700, "{sub}");
    }
    assert_eq!(
        mode(&bin.data.join("incidents").join(format!("{id}.toml"))),
        0o600
    );

    // World-writable without the sticky bit: refused, mode untouched.
    fs::set_permissions(&bin.data, fs::Permissions::from_mode(0o777)).expect("chmod");
    let err = bin.fails(&["list"]);
    assert!(err.contains("no sticky bit"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(mode(&bin.data), 0o777);
    // With the sticky bit (like /tmp): a warning, and it works.
    fs::set_permissions(&bin.data, fs::Permissions::from_mode(0o1777)).expect("chmod");
    let ran = bin.run(&["list"]);
    assert!(ran.ok, "{}", ran.err());
    assert!(ran.err().contains("mode 777"), "{}", ran.err());
    assert_eq!(mode(&bin.data), 0o1777);
}

#[test]
fn a_linked_directory_inside_the_data_directory_is_not_followed() {
    let bin = Bin::new();
    bin.new_incident("Before", "-5m");
    let elsewhere = bin.dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).expect("mkdir");
    let incidents = bin.data.join("incidents");
    fs::rename(&incidents, elsewhere.join("incidents")).expect("move");
    symlink(elsewhere.join("incidents"), &incidents).expect("symlink");
    let err = bin.fails(&["list"]);
    assert!(
        err.contains("incidents") && err.contains("is a symbolic link (not followed)"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_fresh_data_directory_is_created_private_without_warnings() {
    let bin = Bin::new();
    // A read-only command on a directory that does not exist yet: an empty
    // list, no warnings, and nothing created.
    let ran = bin.run(&["list"]);
    assert!(ran.ok, "{}", ran.err());
    assert!(ran.err().is_empty(), "{}", ran.err());
    assert!(!bin.data.exists());
    // The first change creates it, private, without warnings.
    let ran = bin.run(&["new", "--title", "First", "--identified-at", "-1m"]);
    assert!(ran.ok, "{}", ran.err());
    assert!(ran.err().is_empty(), "{}", ran.err());
    assert_eq!(mode(&bin.data), 0o700);
}

#[test]
fn the_console_status_line_shows_a_directory_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    fs::create_dir(&data).expect("mkdir");
    fs::set_permissions(&data, fs::Permissions::from_mode(0o755)).expect("chmod");
    let setup = breachdesk::setup::Setup {
        data_dir: data.clone(),
        config_path: dir.path().join("config.toml"),
        config: breachdesk::config::Config::default(),
        extra_playbooks: Vec::new(),
    };
    let desk = setup.desk().expect("desk");
    let app =
        breachdesk::tui::app::App::from_desk(&desk, breachdesk::tui::theme::Theme::monochrome());
    let status = app.status.clone().expect("a status line");
    assert!(status.error);
    assert!(status.text.contains("mode 755"), "{}", status.text);
    let screen = support::screen_text(&support::draw(&app, support::now(), 160, 30));
    assert!(screen.contains("accessible to other users"), "{screen}");
    assert_eq!(mode(&data), 0o755);
}

#[test]
fn the_console_board_loads_past_odd_files_and_names_them() {
    let fx = support::fixture();
    fx.incident("INC-GOOD", "Good", support::minutes(10));
    let incidents = fx.store.incidents_dir().to_path_buf();
    mkfifo(&incidents.join("INC-FIFO.toml"));
    symlink("/dev/zero", incidents.join("INC-ZERO.toml")).expect("symlink");
    let app = fx.app();
    assert!(app.board.summaries.iter().any(|s| s.id == "INC-GOOD"));
    let problems = app.board.problems.join("\n");
    assert!(problems.contains("INC-FIFO.toml: is a FIFO"), "{problems}");
    assert!(
        problems.contains("INC-ZERO.toml: is a symbolic link"),
        "{problems}"
    );
    let screen = support::screen_text(&support::draw(&app, support::now(), 200, 30));
    assert!(screen.contains("INC-FIFO.toml"), "{screen}");
    assert!(screen.contains("INC-GOOD"), "{screen}");
}
