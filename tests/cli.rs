//! The real binary, run as a responder or an auditor's script would run it:
//! each test with its own data directory and config file.

mod support;

use std::path::Path;
use support::{Bin, Ran};

/// A data directory and config file of its own, run through [`Bin`].
struct Desk {
    bin: Bin,
}

impl std::ops::Deref for Desk {
    type Target = Bin;
    fn deref(&self) -> &Bin {
        &self.bin
    }
}

impl Desk {
    fn new() -> Desk {
        Desk { bin: Bin::new() }
    }

    fn with_config(text: &str) -> Desk {
        let desk = Desk::new();
        std::fs::create_dir_all(desk.config.parent().expect("parent")).expect("config dir");
        std::fs::write(&desk.config, text).expect("write config");
        desk
    }

    fn run(&self, args: &[&str]) -> Ran {
        self.bin.run(args)
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        self.bin.ok(args)
    }

    /// Runs and expects failure with one line on stderr containing `needle`.
    fn fails(&self, args: &[&str], needle: &str) {
        let stderr = self.bin.fails(args);
        assert!(
            stderr.contains(needle),
            "breachdesk {args:?}: stderr {stderr:?} lacks {needle:?}"
        );
        {
            // One line; a usage error adds one "hint:" line.
            let hint = stderr
                .lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("hint: "));
            assert_eq!(
                stderr.trim_end().lines().count(),
                if hint { 2 } else { 1 },
                "not one line: {stderr:?}"
            );
        }
    }

    fn new_incident(&self, extra: &[&str]) -> String {
        let mut args = vec!["new", "--title", "VPN credentials leaked"];
        args.extend_from_slice(extra);
        self.ok(&args).trim().to_string()
    }

    fn record(&self, id: &str) -> toml::Value {
        let path = self.data.join("incidents").join(format!("{id}.toml"));
        let text = std::fs::read_to_string(&path).expect("record file");
        toml::from_str(&text).expect("record parses")
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_responder_works_an_incident_from_the_command_line() {
    let desk = Desk::new();
    let id = desk.new_incident(&[
        "--identified-at",
        "-20m",
        "--kind",
        "attempted",
        "--asset",
        "vpn-gw",
    ]);
    assert!(
        id.starts_with("INC-") && id.len() == "INC-20261128-1432-7f3a9c".len(),
        "{id}"
    );

    desk.ok(&["log", &id, "Disabled", "the", "account"]);
    desk.ok(&[
        "request",
        "add",
        &id,
        "--from",
        "govcertuk",
        "--what",
        "VPN logs for 27 Nov",
    ]);
    desk.ok(&[
        "notify",
        &id,
        "--channel",
        "phone",
        "--to",
        "Jane (Client CSR)",
    ]);
    desk.ok(&[
        "root-cause",
        &id,
        "--category",
        "weak-authentication",
        "--component",
        "VPN gateway",
        "--analysis",
        "No MFA on the admin portal",
        "--prevention",
        "Enforce MFA",
    ]);
    desk.ok(&[
        "step",
        &id,
        "8.2.1a",
        "--status",
        "done",
        "--note",
        "account disabled",
    ]);

    let record = desk.record(&id);
    assert_eq!(record["kind"].as_str(), Some("attempted"));
    assert_eq!(record["logged_by"].as_str(), Some("tester"));
    let timeline = record["timeline"].as_array().expect("timeline");
    assert!(
        timeline
            .iter()
            .any(|e| e["text"].as_str() == Some("Disabled the account"))
    );
    assert_eq!(record["notification"]["channel"].as_str(), Some("phone"));
    assert_eq!(record["notification"]["met_deadline"].as_bool(), Some(true));
    assert_eq!(
        record["root_cause"]["category"].as_str(),
        Some("weak-authentication")
    );
    // `--from govcertuk` (the older spelling) is GovCertUK as the
    // destination, on the Client's authority.
    assert_eq!(
        record["data_requests"][0]["deliver_to"].as_str(),
        Some("govcertuk")
    );
    assert_eq!(
        record["data_requests"][0]["authority"].as_str(),
        Some("client")
    );
    assert_eq!(
        record["data_requests"][0]["no_charge"].as_bool(),
        Some(true)
    );
    let steps = record["steps"].as_array().expect("steps");
    let step = |id: &str| {
        steps
            .iter()
            .find(|s| s["id"].as_str() == Some(id))
            .expect("step")
    };
    assert_eq!(step("8.1")["status"].as_str(), Some("done"));
    assert_eq!(step("8.2.1a")["status"].as_str(), Some("done"));
    assert_eq!(
        step("8.2.1a")["notes"][0]["text"].as_str(),
        Some("account disabled")
    );

    // JSON list: stable keys a script relies on.
    let list: serde_json::Value =
        serde_json::from_str(&desk.ok(&["list", "--format", "json"])).expect("json");
    let row = &list[0];
    assert_eq!(row["id"].as_str(), Some(id.as_str()));
    assert_eq!(row["notification"]["state"].as_str(), Some("on-time"));
    assert_eq!(row["open_requests"].as_u64(), Some(1));
    assert!(row["next_action"]["step"].is_string());

    let show = desk.ok(&["show", &id]);
    assert!(show.contains("on time by"), "{show}");
    let markdown = desk.ok(&["export", &id, "--format", "markdown"]);
    assert!(
        markdown.contains("## Root cause (paragraphs 8.2.1 (d) and (f))"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| R1 | the Client, to GovCertUK |"),
        "{markdown}"
    );

    let verify = desk.ok(&["audit", "verify"]);
    assert!(
        verify.contains("6 entries in 1 chain, every hash chain intact"),
        "{verify}"
    );

    // Files 0600 in 0700 directories.
    assert_eq!(mode(&desk.data), 0o700);
    assert_eq!(mode(&desk.data.join("incidents")), 0o700);
    assert_eq!(
        mode(&desk.data.join("incidents").join(format!("{id}.toml"))),
        0o600
    );
    let chain = breachdesk::audit::own_chain_file(&desk.data)
        .expect("machine id readable")
        .expect("a machine id");
    assert_eq!(mode(&chain), 0o600);
    assert_eq!(mode(&desk.data.join("audit").join("chains")), 0o700);
    assert_eq!(mode(&desk.data.join("machine-id")), 0o600);
}

#[test]
fn global_options_go_before_or_after_the_command() {
    let desk = Desk::new();
    let other = tempfile::tempdir().expect("temp");
    let data = other.path().join("elsewhere");
    let data = data.to_str().expect("utf-8 path");
    let before = desk.ok(&["--data-dir", data, "new", "--title", "one"]);
    let after = desk.ok(&["new", "--title", "two", "--data-dir", data]);
    let ids = std::fs::read_dir(other.path().join("elsewhere").join("incidents"))
        .expect("incidents")
        .count();
    assert_eq!(ids, 2, "{before} {after}");
    assert!(
        !desk.data.join("incidents").exists()
            || std::fs::read_dir(desk.data.join("incidents"))
                .expect("dir")
                .count()
                == 0
    );
}

#[test]
fn moving_the_clock_start_needs_a_reason_that_is_kept() {
    let desk = Desk::new();
    let id = desk.new_incident(&["--identified-at", "-10m"]);
    desk.fails(&["edit", &id, "--identified-at", "-50m"], "--reason");
    desk.ok(&[
        "edit",
        &id,
        "--identified-at",
        "-50m",
        "--reason",
        "SOC alert was earlier than we thought",
    ]);
    let record = desk.record(&id);
    let timeline = record["timeline"].as_array().expect("timeline");
    assert!(timeline.iter().any(|e| {
        e["text"]
            .as_str()
            .is_some_and(|t| t.contains("SOC alert was earlier"))
    }));
    let audit = desk.ok(&["audit", "list", &id]);
    assert!(audit.contains("SOC alert was earlier"), "{audit}");
}

#[test]
fn bad_input_exits_non_zero_with_one_clear_line() {
    let desk = Desk::new();
    let id = desk.new_incident(&[]);
    desk.fails(&["new", "--title", "   "], "title is empty");
    desk.fails(
        &["new", "--title", "x", "--identified-at", "yesterday-ish"],
        "is not a time",
    );
    desk.fails(
        &[
            "new",
            "--title",
            "x",
            "--identified-at",
            "2999-01-01T00:00:00Z",
        ],
        "in the future",
    );
    desk.fails(
        &["new", "--title", "x", "--kind", "meteor"],
        "--kind: 'meteor' is not one of: breach, potential, attempted",
    );
    desk.fails(
        &["new", "--title", "x", "--severity", "apocalyptic"],
        "--severity",
    );
    desk.fails(
        &["log", "INC-20000101-0000-000000", "hello"],
        "INC-20000101-0000-000000",
    );
    desk.fails(&["show", "nope"], "nope");
    desk.fails(&["log", &id, "  "], "empty");
    desk.fails(
        &["request", "add", &id, "--from", "martians", "--what", "x"],
        "--from",
    );
    desk.fails(
        &["request", "supplied", &id, "R9", "--how", "email"],
        "no data request 'R9'",
    );
    desk.fails(
        &["step", &id, "9.9.9", "--status", "done"],
        "no step '9.9.9'",
    );
    desk.fails(
        &["step", &id, "8.2.1b", "--status", "done"],
        "waits for 8.2.1a",
    );
    desk.fails(
        &["step", &id, "close-out", "--status", "done"],
        "waits for 8.1",
    );
    desk.fails(&["close", &id], "give a reason");
    desk.fails(&["notify", &id, "--channel", "phone"], "--to");
    desk.fails(
        &[
            "root-cause",
            &id,
            "--category",
            "gremlins",
            "--component",
            "x",
        ],
        "--category",
    );
    desk.fails(
        &["holidays", "--year", "2026", "--division", "wales"],
        "unknown division `wales`",
    );
    desk.fails(
        &[
            "due",
            "--from",
            "2026-12-23T10:00:00Z",
            "--working-days",
            "-1",
        ],
        "--working-days -1",
    );
    desk.fails(&["due", "--from", "teatime", "--hours", "3"], "--from");
    desk.fails(
        &["workdays", "--from", "2026-12-32", "--to", "2027-01-05"],
        "--from",
    );
    desk.fails(
        &["audit", "prune", "--older-than-days", "30"],
        "at least 6 calendar months",
    );
    // Nothing was lost by all that.
    let list: serde_json::Value =
        serde_json::from_str(&desk.ok(&["list", "--format", "json"])).expect("json");
    assert_eq!(list.as_array().map(|a| a.len()), Some(1));
}

#[test]
fn a_broken_config_file_is_named_with_its_line() {
    let desk = Desk::with_config("[responder]\nname = \"Sam\"\nrole = \"vendor\"\n");
    let out = desk.run(&["list"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.ok);
    assert!(stderr.contains("config.toml:3:"), "{stderr}");
}

#[test]
fn the_config_decides_the_responder_and_division() {
    let desk = Desk::with_config(
        "[responder]\nname = \"Sam Patel\"\n[calendar]\ndivision = \"scotland\"\n",
    );
    let id = desk.new_incident(&[]);
    assert_eq!(desk.record(&id)["logged_by"].as_str(), Some("Sam Patel"));
    // 2 January 2026 is a Scottish bank holiday, not an English one.
    let holidays = desk.ok(&["holidays", "--year", "2026"]);
    assert!(holidays.contains("2026-01-02\t"), "{holidays}");
}

#[test]
fn the_arithmetic_commands_print_what_auditors_check() {
    let desk = Desk::new();
    let holidays = desk.ok(&["holidays", "--year", "2026"]);
    let lines: Vec<&str> = holidays.lines().collect();
    assert_eq!(lines.first(), Some(&"2026-01-01\tNew Year’s Day"));
    assert!(lines.contains(&"2026-12-28\tBoxing Day"), "{holidays}");
    assert_eq!(lines.len(), 8, "{holidays}");
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(sorted, lines, "not in date order");

    // Worked example from the README: received Wednesday 23 December 2026.
    assert_eq!(
        desk.ok(&[
            "due",
            "--from",
            "2026-12-23T10:00:00Z",
            "--working-days",
            "2"
        ])
        .trim(),
        "2026-12-29T23:59:59+00:00"
    );
    // In BST the offset shows.
    assert_eq!(
        desk.ok(&[
            "due",
            "--from",
            "2026-07-01T09:00:00Z",
            "--working-days",
            "2"
        ])
        .trim(),
        "2026-07-03T23:59:59+01:00"
    );
    assert_eq!(
        desk.ok(&["due", "--from", "2026-03-29T00:30:00Z", "--hours", "1"])
            .trim(),
        "2026-03-29T02:30:00+01:00"
    );
    // The README's other worked examples.
    for (from, division, due) in [
        (
            "2026-10-23T15:00:00+01:00",
            "england-and-wales",
            "2026-10-27T23:59:59+00:00",
        ),
        (
            "2026-11-28T11:00:00Z",
            "england-and-wales",
            "2026-12-01T23:59:59+00:00",
        ),
        (
            "2026-11-28T11:00:00Z",
            "scotland",
            "2026-12-02T23:59:59+00:00",
        ),
    ] {
        let got = desk.ok(&[
            "due",
            "--from",
            from,
            "--working-days",
            "2",
            "--division",
            division,
        ]);
        assert_eq!(got.trim(), due, "{from} {division}");
    }
    assert_eq!(
        desk.ok(&["workdays", "--from", "2026-12-23", "--to", "2026-12-29"])
            .trim(),
        "2"
    );
    assert_eq!(
        desk.ok(&[
            "workdays",
            "--from",
            "2026-12-23",
            "--to",
            "2026-12-29",
            "--division",
            "scotland"
        ])
        .trim(),
        "2"
    );
}

#[test]
fn ics_export_lists_open_deadlines_with_alarms() {
    let desk = Desk::new();
    let id = desk.new_incident(&["--identified-at", "-5m"]);
    desk.ok(&[
        "request",
        "add",
        &id,
        "--from",
        "client",
        "--what",
        "firewall logs",
    ]);
    let ics = desk.ok(&["export", &id, "--format", "ics"]);
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.trim_end().ends_with("END:VCALENDAR"));
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2, "{ics}");
    assert_eq!(ics.matches("BEGIN:VALARM").count(), 2, "{ics}");
    assert!(
        ics.contains(&format!("UID:{id}-notification@breachdesk")),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("UID:{id}-request-R1@breachdesk")),
        "{ics}"
    );
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "line over 75 octets: {line}");
    }
    // Once notified, the notification is no longer an open deadline.
    desk.ok(&["notify", &id, "--channel", "in-person", "--to", "CSR"]);
    let ics = desk.ok(&["export", &id, "--format", "ics"]);
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1, "{ics}");
}

#[test]
fn closing_with_open_steps_keeps_the_reason() {
    let desk = Desk::new();
    let id = desk.new_incident(&[]);
    desk.ok(&[
        "close",
        &id,
        "--reason",
        "false positive: test traffic from the red team",
    ]);
    let record = desk.record(&id);
    assert_eq!(record["status"].as_str(), Some("closed"));
    assert_eq!(
        record["closure"]["reason"].as_str(),
        Some("false positive: test traffic from the red team")
    );
    assert!(
        record["closure"]["open_steps"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    let open: serde_json::Value =
        serde_json::from_str(&desk.ok(&["list", "--format", "json"])).expect("json");
    assert_eq!(open.as_array().map(|a| a.len()), Some(0));
    let closed: serde_json::Value =
        serde_json::from_str(&desk.ok(&["list", "--format", "json", "--closed"])).expect("json");
    assert_eq!(closed.as_array().map(|a| a.len()), Some(1));
}

#[test]
fn config_init_writes_a_private_example_that_parses() {
    let desk = Desk::new();
    desk.ok(&["config", "init"]);
    assert_eq!(mode(&desk.config), 0o600);
    assert_eq!(mode(desk.config.parent().expect("dir")), 0o700);
    desk.ok(&["config", "check"]);
    desk.fails(&["config", "init"], "already exists");
}

#[test]
fn escape_sequences_in_records_never_reach_the_terminal() {
    let desk = Desk::new();
    let id = desk.new_incident(&[]);
    let hostile = "pwned\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m";
    desk.ok(&["edit", &id, "--title", hostile]);
    desk.ok(&["log", &id, hostile]);
    desk.ok(&[
        "root-cause",
        &id,
        "--category",
        "other",
        "--component",
        hostile,
        "--analysis",
        hostile,
    ]);
    for args in [
        vec!["list"],
        vec!["show", id.as_str()],
        vec!["export", id.as_str(), "--format", "markdown"],
        vec!["audit", "list"],
    ] {
        let out = desk.run(&args);
        assert!(out.ok);
        for stream in [&out.stdout, &out.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(
                !text
                    .chars()
                    .any(|c| c == '\u{1b}' || c == '\u{7}' || c == '\u{9b}'),
                "{args:?} printed a control character: {text:?}"
            );
        }
    }
    // The record keeps exactly what was typed.
    assert_eq!(desk.record(&id)["title"].as_str(), Some(hostile));
}

#[test]
fn export_to_a_file_is_private_and_replaces_the_old_one() {
    let desk = Desk::new();
    let id = desk.new_incident(&[]);
    let out = desk.dir.path().join("report.md");
    std::fs::write(&out, "old contents that must go").expect("old file");
    desk.ok(&[
        "export",
        &id,
        "--format",
        "markdown",
        "-o",
        out.to_str().expect("path"),
    ]);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(text.starts_with(&format!("# {id}")), "{text}");
    assert!(!text.contains("old contents"));
    assert_eq!(mode(&out), 0o600);
}

#[test]
fn no_notification_is_ours_to_give_when_the_other_party_identified_the_breach() {
    let desk = Desk::with_config(
        "[smtp]\nhost = \"127.0.0.1\"\nport = 9\nsecurity = \"none\"\n\n[responder]\nname = \"Al\"\nemail = \"al@sp.example\"\n\n[contacts]\nother_party = \"csr@client.example\"\n",
    );
    let id = desk.new_incident(&[
        "--identified-by",
        "other-party",
        "--received-at",
        "-5m",
        "--received-from",
        "Jo",
        "--channel",
        "phone",
    ]);
    // By phone (recorded by the desk) and by email (composed by the desk):
    // the same refusal, before anything is recorded or queued.
    for args in [
        vec!["notify", &id, "--channel", "phone", "--to", "CSR"],
        vec!["notify", &id, "--yes"],
    ] {
        desk.fails(&args, "no notification is due from us");
    }
    let record = desk.record(&id);
    assert!(record["notification"].get("made_at").is_none(), "{record}");
    assert!(
        !desk.data.join("outbox").exists()
            || std::fs::read_dir(desk.data.join("outbox"))
                .expect("outbox")
                .next()
                .is_none()
    );
}
