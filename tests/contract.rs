//! The contract both ways, through the real binary: breaches the other party
//! identified (its 8.1 notice), saved emails, 8.2.1 (e) requests on the
//! Client's authority, the Client's RCA decision, KPI relief by written
//! notice, closing as not a Breach of Security, Security Tests and the real
//! paragraph 6.5 case, and "substantial failure" kept out of everything
//! addressed to the Client.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Desk {
    dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

impl Desk {
    fn new() -> Desk {
        Desk::with_config("[responder]\nname = \"tester\"\n")
    }

    fn with_config(text: &str) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let config = dir.path().join("config").join("config.toml");
        std::fs::create_dir_all(config.parent().expect("parent")).expect("config dir");
        std::fs::write(&config, text).expect("write config");
        Desk { dir, data, config }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_breachdesk"))
            .args(args)
            .env("BREACHDESK_DATA_DIR", &self.data)
            .env("BREACHDESK_CONFIG", &self.config)
            .env("USER", "tester")
            .env_remove("NO_COLOR")
            .output()
            .expect("run breachdesk")
    }

    /// Runs and expects success; returns (stdout, stderr).
    fn ok2(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "breachdesk {args:?} failed: {stderr}");
        (String::from_utf8(out.stdout).expect("utf-8 stdout"), stderr)
    }

    fn ok(&self, args: &[&str]) -> String {
        self.ok2(args).0
    }

    /// Runs and expects failure with one line on stderr containing `needle`.
    fn fails(&self, args: &[&str], needle: &str) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "breachdesk {args:?} succeeded");
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
        stderr
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("json")
    }

    fn show(&self, id: &str) -> serde_json::Value {
        self.json(&["show", id, "--format", "json"])
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }

    fn incidents(&self) -> usize {
        std::fs::read_dir(self.data.join("incidents"))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A saved email from the Client, dated in the past (Wed 4 Nov 2026 10:00 GMT).
const NOTICE_EML: &str = "Return-Path: <jo.bloggs@client.example.gov.uk>\r\n\
From: \"Jo Bloggs, Client CSR\" <jo.bloggs@client.example.gov.uk>\r\n\
To: soc@provider.example\r\n\
Subject: Breach of Security notice: admin portal logins\r\n\
Date: Wed, 04 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <notice-1@client.example.gov.uk>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
We saw logins to the admin portal from an unknown IP.\r\n";

const REQUEST_EML: &str = "From: Jo Bloggs <jo.bloggs@client.example.gov.uk>\n\
To: soc@provider.example\n\
Subject: Please send proxy logs\n\
Date: Wed, 04 Nov 2026 10:00:00 +0000\n\
Message-ID: <req-7@client.example.gov.uk>\n\
\n\
Proxy and firewall logs for 3-4 November, please.\n";

#[test]
fn a_breach_the_other_party_identified_runs_no_countdown_for_us() {
    let desk = Desk::new();
    let id = desk
        .ok(&[
            "new",
            "--title",
            "Client reports admin portal logins",
            "--identified-by",
            "other-party",
            "--received-at",
            "-30m",
            "--received-from",
            "Jo Bloggs, Client CSR",
            "--channel",
            "phone",
            "--reference",
            "CALL-17",
        ])
        .trim()
        .to_string();

    let list = desk.json(&["list", "--format", "json"]);
    let row = &list[0];
    assert_eq!(row["id"].as_str(), Some(id.as_str()));
    assert_eq!(row["notification"]["state"].as_str(), Some("received"));
    assert!(row["notification"]["seconds"].is_null());
    assert!(row["notification"]["made_at"].is_null());
    assert_eq!(
        row["notification"]["received_at"].as_str(),
        row["identified_at"].as_str(),
        "unless told, identified when the notice arrived"
    );
    // No 8.1 deadline is ours: the next action is 8.2.1 (a), with no clock.
    assert_eq!(row["next_action"]["step"].as_str(), Some("8.2.1a"));
    assert!(row["next_due_at"].is_null());

    let table = desk.ok(&["list"]);
    assert!(table.contains("notice received"), "{table}");
    assert!(!table.contains("due in"), "{table}");
    let ics = desk.ok(&["export", &id, "--format", "ics"]);
    assert!(!ics.contains("Notify the other party"), "{ics}");

    let record = desk.show(&id);
    assert_eq!(record["identified_by"].as_str(), Some("other-party"));
    assert_eq!(
        record["notice_received"]["from"].as_str(),
        Some("Jo Bloggs, Client CSR")
    );
    assert_eq!(record["notice_received"]["channel"].as_str(), Some("phone"));
    assert_eq!(
        record["notice_received"]["reference"].as_str(),
        Some("CALL-17")
    );
    let steps = record["steps"].as_array().expect("steps");
    let step = |id: &str| steps.iter().find(|s| s["id"] == id).expect("step").clone();
    assert_eq!(step("8.1-received")["status"].as_str(), Some("done"));

    // Close-out: 8.1 is satisfied by the notice; the report and the
    // Client's answer on an RCA are still missing.
    let out = desk.fails(
        &["step", &id, "close-out", "--status", "done"],
        "cannot be done yet",
    );
    assert!(!out.contains("8.1 is not satisfied"), "{out}");
    assert!(out.contains("root-cause analysis"), "{out}");
    assert!(out.contains("full-details report"), "{out}");

    let show = desk.ok(&["show", &id]);
    assert!(
        show.contains("Notice received (8.1) from the Client"),
        "{show}"
    );
    assert!(!show.contains("Notification (8.1): due"), "{show}");
    assert!(desk.ok(&["audit", "verify"]).contains("hash chain intact"));
}

#[test]
fn the_other_partys_notice_needs_when_who_and_how() {
    let desk = Desk::new();
    desk.fails(
        &[
            "new",
            "--title",
            "x",
            "--identified-by",
            "other-party",
            "--received-from",
            "Jo",
            "--channel",
            "phone",
        ],
        "--received-at",
    );
    desk.fails(
        &[
            "new",
            "--title",
            "x",
            "--identified-by",
            "other-party",
            "--received-at",
            "-5m",
            "--channel",
            "phone",
        ],
        "--received-from",
    );
    desk.fails(
        &[
            "new",
            "--title",
            "x",
            "--identified-by",
            "other-party",
            "--received-at",
            "-5m",
            "--received-from",
            "Jo",
        ],
        "--channel",
    );
    desk.fails(
        &["new", "--title", "x", "--received-from", "Jo"],
        "give --identified-by other-party",
    );
    desk.fails(
        &[
            "new",
            "--title",
            "x",
            "--identified-by",
            "other-party",
            "--received-at",
            "-5m",
            "--received-from",
            "Jo",
            "--channel",
            "fax",
        ],
        "--channel: 'fax' is not one of: email, phone, in-person, other",
    );
    desk.fails(
        &[
            "new",
            "--title",
            "x",
            "--identified-by",
            "other-party",
            "--identified-at",
            "-5m",
            "--received-at",
            "-20m",
            "--received-from",
            "Jo",
            "--channel",
            "phone",
        ],
        "before the breach was identified",
    );
    assert_eq!(desk.incidents(), 0, "nothing was saved");
}

#[test]
fn a_saved_email_opens_the_incident_with_its_date_sender_subject_and_message_id() {
    let desk = Desk::new();
    let eml = desk.file("notice.eml", NOTICE_EML);
    let (stdout, stderr) = desk.ok2(&[
        "new",
        "--identified-by",
        "other-party",
        "--from-eml",
        p(&eml),
    ]);
    let id = stdout.trim().to_string();
    assert!(
        stderr.contains("notice received 2026-11-04T10:00:00+00:00")
            && stderr.contains(&format!("from the Date: header of {}", eml.display())),
        "says which header gave the time: {stderr}"
    );
    let record = desk.show(&id);
    assert_eq!(
        record["title"].as_str(),
        Some("Breach of Security notice: admin portal logins")
    );
    assert_eq!(
        record["summary"].as_str(),
        Some("We saw logins to the admin portal from an unknown IP.")
    );
    let notice = &record["notice_received"];
    assert_eq!(notice["received_at"].as_str(), Some("2026-11-04T10:00:00Z"));
    assert_eq!(
        notice["from"].as_str(),
        Some("Jo Bloggs, Client CSR <jo.bloggs@client.example.gov.uk>")
    );
    assert_eq!(notice["channel"].as_str(), Some("email"));
    assert_eq!(
        notice["reference"].as_str(),
        Some("<notice-1@client.example.gov.uk>")
    );
    assert!(
        notice["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("the Date: header of"))
    );
    assert_eq!(
        record["identified_at"].as_str(),
        Some("2026-11-04T10:00:00Z")
    );

    // --from-eml belongs to a notice from the other party.
    desk.fails(
        &["new", "--from-eml", p(&eml)],
        "give --identified-by other-party",
    );
}

#[test]
fn a_saved_email_missing_a_header_is_refused_naming_the_file_and_header() {
    let desk = Desk::new();
    let cases = [
        (
            "no-date.eml",
            NOTICE_EML.replace("Date: Wed, 04 Nov 2026 10:00:00 +0000\r\n", ""),
            "no Date: header",
        ),
        (
            "bad-date.eml",
            NOTICE_EML.replace("Wed, 04 Nov 2026 10:00:00 +0000", "last Tuesday"),
            "the Date: header 'last Tuesday'",
        ),
        (
            "epoch.eml",
            NOTICE_EML.replace(
                "Wed, 04 Nov 2026 10:00:00 +0000",
                "Thu, 01 Jan 1970 00:00:00 +0000",
            ),
            "the Date: header 'Thu, 01 Jan 1970 00:00:00 +0000' is outside the times breachdesk accepts (1990-01-01 to 2199-12-31)",
        ),
        (
            "no-from.eml",
            NOTICE_EML.replace(
                "From: \"Jo Bloggs, Client CSR\" <jo.bloggs@client.example.gov.uk>\r\n",
                "",
            ),
            "no From: header",
        ),
        (
            "no-id.eml",
            NOTICE_EML.replace("Message-ID: <notice-1@client.example.gov.uk>\r\n", ""),
            "no Message-ID: header",
        ),
        ("empty.eml", String::new(), "not an email message"),
    ];
    for (name, text, needle) in cases {
        let eml = desk.file(name, &text);
        let err = desk.fails(
            &[
                "new",
                "--identified-by",
                "other-party",
                "--from-eml",
                p(&eml),
            ],
            needle,
        );
        assert!(err.contains(name), "names the file: {err}");
    }
    desk.fails(
        &[
            "new",
            "--identified-by",
            "other-party",
            "--from-eml",
            "/nonexistent/x.eml",
        ],
        "/nonexistent/x.eml",
    );
    assert_eq!(desk.incidents(), 0, "nothing was saved");
}

#[test]
fn a_data_request_from_a_saved_email_is_the_clients_with_its_own_clock() {
    let desk = Desk::new();
    let id = desk
        .ok(&["new", "--title", "VPN", "--identified-at", "-1h"])
        .trim()
        .to_string();
    let eml = desk.file("request.eml", REQUEST_EML);
    let (stdout, stderr) = desk.ok2(&["request", "add", &id, "--from-eml", p(&eml)]);
    // Received Wed 4 Nov 10:00 GMT: due at the end of Fri 6 Nov.
    assert!(
        stdout.contains("request R1 due 2026-11-06T23:59:59+00:00"),
        "{stdout}"
    );
    assert!(stderr.contains("from the Date: header of"), "{stderr}");
    let r = &desk.show(&id)["data_requests"][0];
    assert_eq!(
        r["requester_name"].as_str(),
        Some("Jo Bloggs <jo.bloggs@client.example.gov.uk>")
    );
    assert_eq!(r["authority"].as_str(), Some("client"));
    assert_eq!(r["deliver_to"].as_str(), Some("client"));
    assert_eq!(r["received_at"].as_str(), Some("2026-11-04T10:00:00Z"));
    assert_eq!(
        r["reference"].as_str(),
        Some("<req-7@client.example.gov.uk>")
    );
    assert_eq!(
        r["what"].as_str(),
        Some("Please send proxy logs\n\nProxy and firewall logs for 3-4 November, please.")
    );
    assert!(r.get("requester").is_none(), "the old field is not written");

    // GovCertUK is a destination on the Client's request, not a requester.
    desk.ok(&[
        "request",
        "add",
        &id,
        "--deliver-to",
        "govcertuk",
        "--name",
        "GovCertUK duty officer",
        "--what",
        "netflow",
    ]);
    let r = &desk.show(&id)["data_requests"][1];
    assert_eq!(r["deliver_to"].as_str(), Some("govcertuk"));
    assert_eq!(r["authority"].as_str(), Some("client"));
    let md = desk.ok(&["export", &id, "--format", "markdown"]);
    assert!(
        md.contains("GovCertUK duty officer (the Client's request), to GovCertUK"),
        "{md}"
    );

    desk.fails(
        &["request", "add", &id, "--from", "other", "--what", "x"],
        "8.2.1 (e) covers data asked for on the Client's request",
    );
    desk.fails(
        &[
            "request",
            "add",
            &id,
            "--deliver-to",
            "police",
            "--what",
            "x",
        ],
        "--deliver-to: 'police' is not one of: client, govcertuk",
    );
}

#[test]
fn records_written_with_the_old_requester_field_still_load() {
    let desk = Desk::new();
    let id = desk.ok(&["new", "--title", "VPN"]).trim().to_string();
    desk.ok(&["request", "add", &id, "--what", "logs", "--name", "someone"]);
    let path = desk.data.join("incidents").join(format!("{id}.toml"));
    let text = std::fs::read_to_string(&path).expect("record");
    for (old, authority, deliver_to) in [
        ("client", "client", "client"),
        ("govcertuk", "unconfirmed", "govcertuk"),
        ("other", "unconfirmed", "client"),
    ] {
        let migrated: String = text
            .lines()
            .filter(|l| !l.starts_with("authority = ") && !l.starts_with("deliver_to = "))
            .map(|l| {
                if l.starts_with("requester_name = ") {
                    format!("requester = \"{old}\"\n{l}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        assert!(migrated.contains(&format!("requester = \"{old}\"")));
        std::fs::write(&path, migrated).expect("write old format");
        let r = &desk.show(&id)["data_requests"][0];
        assert_eq!(r["authority"].as_str(), Some(authority), "{old}");
        assert_eq!(r["deliver_to"].as_str(), Some(deliver_to), "{old}");
        assert_eq!(r["requester_name"].as_str(), Some("someone"));
        let md = desk.ok(&["export", &id, "--format", "markdown"]);
        let row = if authority == "client" {
            "| R1 | someone (the Client's request), to the Client |".to_string()
        } else {
            format!(
                "| R1 | someone (authority not recorded), to {} |",
                if deliver_to == "govcertuk" {
                    "GovCertUK"
                } else {
                    "the Client"
                }
            )
        };
        assert!(md.contains(&row), "{old}: {md}");
    }
}

#[test]
fn the_rca_follows_the_clients_requirement() {
    let desk = Desk::new();
    let id = desk
        .ok(&["new", "--title", "VPN", "--identified-at", "-30m"])
        .trim()
        .to_string();
    desk.ok(&["notify", &id, "--channel", "phone", "--to", "CSR"]);
    desk.ok(&["step", &id, "8.2.1e", "--status", "not-applicable"]);
    // Unknown: close-out says so.
    desk.fails(
        &["step", &id, "close-out", "--status", "done"],
        "whether it requires one is not recorded",
    );
    desk.ok(&["rca-required", &id, "yes", "--note", "CSR email of 09:10"]);
    desk.fails(
        &["step", &id, "close-out", "--status", "done"],
        "the Client requires a root-cause analysis",
    );
    desk.ok(&["rca-required", &id, "no"]);
    let out = desk.fails(
        &["step", &id, "close-out", "--status", "done"],
        "cannot be done yet",
    );
    assert!(!out.contains("root-cause analysis"), "{out}");
    let record = desk.show(&id);
    assert_eq!(record["rca_required"].as_str(), Some("no"));
    let md = desk.ok(&["export", &id, "--format", "markdown"]);
    assert!(
        md.contains("Root-cause analysis required by the Client (8.2.1 (f)): no"),
        "{md}"
    );
    desk.fails(
        &["rca-required", &id, "maybe"],
        "'maybe' is not one of: unknown, yes, no",
    );
}

#[test]
fn a_client_user_gets_the_clients_steps_and_is_never_asked_for_a_report() {
    let desk = Desk::with_config("[responder]\nname = \"csr\"\nrole = \"client\"\n");
    let id = desk
        .ok(&[
            "new",
            "--title",
            "Supplier's VPN compromised",
            "--identified-by",
            "other-party",
            "--received-at",
            "-10m",
            "--received-from",
            "Supplier SOC",
            "--channel",
            "email",
        ])
        .trim()
        .to_string();
    let record = desk.show(&id);
    let show = desk.ok(&["show", &id]);
    for shown in [
        "client-acknowledge",
        "client-track",
        "client-data",
        "client-rca",
        "client-relief",
        "client-details",
        "client-close-out",
    ] {
        assert!(show.contains(shown), "{shown}: {show}");
    }
    for hidden in ["8.2.1a", "8.2.1f", "8.1 ", "close-out "] {
        assert!(
            !show.contains(&format!("] {hidden}")),
            "{hidden} should not apply: {show}"
        );
    }
    assert!(
        record["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .any(|s| s["id"] == "client-close-out")
    );
    desk.fails(
        &["step", &id, "client-close-out", "--status", "done"],
        "is not recorded",
    );
    desk.ok(&["rca-required", &id, "yes"]);
    // No report for the Client to send: close-out passes on the notice,
    // the audit log and the RCA decision.
    desk.ok(&["step", &id, "client-close-out", "--status", "done"]);
    let steps = desk.show(&id)["steps"].clone();
    let rca = steps
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == "client-rca")
        .expect("step")
        .clone();
    assert_eq!(
        rca["status"].as_str(),
        Some("done"),
        "the decision completes its step"
    );
}

#[test]
fn kpi_relief_is_set_by_the_clients_written_notice_and_untested_relief_warns() {
    let desk = Desk::new();
    let id = desk.ok(&["new", "--title", "VPN"]).trim().to_string();
    let (_, stderr) = desk.ok2(&[
        "mitigation",
        &id,
        "--description",
        "MFA enforced",
        "--affects-kpis",
        "true",
        "--relief-requested",
        "-5m",
    ]);
    assert!(
        stderr.contains(
            "WARNING: KPI relief is requested but the mitigation is not recorded as tested"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("8.2.1 (c)"), "{stderr}");
    let (_, stderr) = desk.ok2(&[
        "mitigation",
        &id,
        "--tested",
        "true",
        "--tested-how",
        "login attempts from a test account",
        "--relief-notice-date",
        "2026-11-20",
        "--relief-notice-ref",
        "CSR/2026/41",
        "--relief-period",
        "20-27 Nov 2026",
    ]);
    assert!(!stderr.contains("WARNING"), "{stderr}");
    let relief = &desk.show(&id)["mitigation"]["kpi_relief"];
    assert_eq!(relief["granted"].as_bool(), Some(true));
    assert_eq!(relief["period"].as_str(), Some("20-27 Nov 2026"));
    assert_eq!(relief["notice"]["dated"].as_str(), Some("2026-11-20"));
    assert_eq!(relief["notice"]["reference"].as_str(), Some("CSR/2026/41"));
    let md = desk.ok(&["export", &id, "--format", "markdown"]);
    assert!(
        md.contains(
            "written notice setting the relief period: dated 2026-11-20, reference CSR/2026/41"
        ),
        "{md}"
    );
    desk.fails(
        &["mitigation", &id, "--relief-notice-date", "2026-11-20"],
        "--relief-notice-ref",
    );
    desk.fails(
        &[
            "mitigation",
            &id,
            "--relief-notice-date",
            "20/11/2026",
            "--relief-notice-ref",
            "x",
            "--relief-period",
            "y",
        ],
        "--relief-notice-date: '20/11/2026' is not a date",
    );
}

#[test]
fn closing_as_not_a_breach_keeps_the_reasoning() {
    let desk = Desk::new();
    let id = desk
        .ok(&["new", "--title", "Odd logins", "--kind", "potential"])
        .trim()
        .to_string();
    desk.fails(&["close", &id, "--not-a-breach"], "--reason");
    desk.ok(&[
        "close",
        &id,
        "--not-a-breach",
        "--reason",
        "the logins were the Client's own pen test",
    ]);
    let record = desk.show(&id);
    assert_eq!(record["status"].as_str(), Some("closed"));
    assert_eq!(record["closure"]["not_a_breach"].as_bool(), Some(true));
    assert_eq!(
        record["closure"]["reason"].as_str(),
        Some("the logins were the Client's own pen test")
    );
    let md = desk.ok(&["export", &id, "--format", "markdown"]);
    assert!(md.contains("Closed as not a Breach of Security"), "{md}");
    let audit = desk.ok(&["audit", "list", &id]);
    assert!(
        audit.contains(
            "closed as not a Breach of Security: the logins were the Client's own pen test"
        ),
        "{audit}"
    );
}

#[test]
fn a_repeat_security_test_finding_the_same_root_cause_is_the_real_6_5_case() {
    let desk = Desk::new();
    let id = desk
        .ok(&["new", "--title", "Public bucket"])
        .trim()
        .to_string();
    let out = desk.ok(&[
        "security-test",
        "add",
        &id,
        "--date",
        "2026-10-01",
        "--scope",
        "storage",
        "--run-by",
        "Pen Testers Ltd",
    ]);
    assert!(out.contains("Security Test T1 saved"), "{out}");
    let (_, stderr) = desk.ok2(&[
        "security-test",
        "finding",
        &id,
        "T1",
        "--description",
        "bucket world-readable",
        "--category",
        "misconfiguration",
        "--component",
        "S3 bucket",
    ]);
    assert!(
        !stderr.contains("6.5"),
        "a first finding is not 6.5: {stderr}"
    );
    // A repeat test under 6.4 needs the test it repeats.
    desk.fails(
        &[
            "security-test",
            "add",
            &id,
            "--date",
            "2026-11-01",
            "--scope",
            "storage",
            "--run-by",
            "x",
            "--clause",
            "6.4",
        ],
        "--repeats",
    );
    desk.fails(
        &[
            "security-test",
            "add",
            &id,
            "--date",
            "2026-11-01",
            "--scope",
            "storage",
            "--run-by",
            "x",
            "--repeats",
            "T9",
        ],
        "no Security Test 'T9'",
    );
    desk.ok(&[
        "security-test",
        "add",
        &id,
        "--date",
        "2026-11-01",
        "--scope",
        "storage",
        "--run-by",
        "Pen Testers Ltd",
        "--repeats",
        "T1",
    ]);
    let (_, stderr) = desk.ok2(&[
        "security-test",
        "finding",
        &id,
        "T2",
        "--description",
        "bucket world-readable again",
        "--category",
        "misconfiguration",
        "--component",
        "s3_bucket",
    ]);
    assert!(stderr.contains("PARAGRAPH 6.5"), "{stderr}");
    assert!(
        stderr.contains("same root cause as Security Test T1"),
        "{stderr}"
    );
    let tests = &desk.show(&id)["security_tests"];
    assert_eq!(tests[1]["clause"].as_str(), Some("6.4"));
    assert_eq!(tests[1]["repeats"].as_str(), Some("T1"));
    assert_eq!(
        tests[1]["findings"][0]["same_root_cause_as"].as_str(),
        Some("Security Test T1")
    );
    // A different root cause on a repeat test is not 6.5.
    let (_, stderr) = desk.ok2(&[
        "security-test",
        "finding",
        &id,
        "T2",
        "--description",
        "weak TLS",
        "--category",
        "misconfiguration",
        "--component",
        "load balancer",
    ]);
    assert!(!stderr.contains("6.5"), "{stderr}");
    let list = desk.ok(&["security-test", "list", &id]);
    assert!(list.contains("T2\t2026-11-01\t6.4"), "{list}");
    assert!(list.contains("PARAGRAPH 6.5 (internal)"), "{list}");
    // Every write went through the audited path.
    let audit = desk.ok(&["audit", "list", &id]);
    assert_eq!(audit.matches("security-test.added").count(), 2, "{audit}");
    assert_eq!(audit.matches("security-test.finding").count(), 3, "{audit}");
    assert!(
        desk.ok(&["audit", "verify"])
            .contains("every saved record revision has its entry")
    );
    // Internal: the report for the Client does not characterise it.
    let md = desk.ok(&["export", &id, "--format", "markdown"]);
    assert!(!md.contains("6.5"), "{md}");
}

/// "substantial failure" is internal language: it never appears in
/// anything breachdesk writes for the Client (the Markdown report attached
/// to the 8.2.1 (f) email, and the email templates), even for an incident
/// with a repeated root cause and a genuine paragraph 6.5 test finding.
#[test]
fn substantial_failure_never_appears_in_what_is_addressed_to_the_client() {
    let desk = Desk::new();
    let first = desk
        .ok(&["new", "--title", "Bucket open", "--identified-at", "-2h"])
        .trim()
        .to_string();
    desk.ok(&[
        "root-cause",
        &first,
        "--category",
        "misconfiguration",
        "--component",
        "s3 bucket",
    ]);
    let second = desk
        .ok(&[
            "new",
            "--title",
            "Bucket open again",
            "--identified-at",
            "-1h",
        ])
        .trim()
        .to_string();
    let (_, stderr) = desk.ok2(&[
        "root-cause",
        &second,
        "--category",
        "misconfiguration",
        "--component",
        "S3-Bucket",
    ]);
    assert!(
        stderr.contains("REPEAT ROOT CAUSE") && stderr.contains("8.2.1 (d)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("substantial failure"),
        "a repeat in a new incident is not 6.5: {stderr}"
    );
    desk.ok(&[
        "security-test",
        "add",
        &second,
        "--date",
        "2026-10-01",
        "--scope",
        "s",
        "--run-by",
        "r",
    ]);
    desk.ok(&[
        "security-test",
        "add",
        &second,
        "--date",
        "2026-10-02",
        "--scope",
        "s",
        "--run-by",
        "r",
        "--repeats",
        "T1",
    ]);
    let (_, stderr) = desk.ok2(&[
        "security-test",
        "finding",
        &second,
        "T2",
        "--description",
        "open again",
        "--category",
        "misconfiguration",
        "--component",
        "s3 bucket",
    ]);
    // Internally, the real 6.5 case is named for what it is.
    assert!(stderr.contains("substantial failure"), "{stderr}");

    let mut client_facing = vec![(
        "export --format markdown".to_string(),
        desk.ok(&["export", &second, "--format", "markdown"]),
    )];
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/templates");
    for entry in std::fs::read_dir(&templates).expect("templates") {
        let path = entry.expect("entry").path();
        client_facing.push((
            path.display().to_string(),
            std::fs::read_to_string(&path).expect("template"),
        ));
    }
    assert!(client_facing.len() >= 5, "the report and every template");
    for (what, text) in &client_facing {
        assert!(
            !text.to_lowercase().contains("substantial failure"),
            "{what} says \"substantial failure\""
        );
        assert!(!text.contains("6.5"), "{what} mentions paragraph 6.5");
    }
}

/// What the full-details report lists as outstanding follows the contract:
/// an RCA only where the Client requires one, the 8.1 notice only when it
/// was ours to give.
#[test]
fn the_reports_outstanding_list_follows_the_rca_requirement_and_who_notified() {
    use breachdesk::domain::incident::{
        BreachKind, Channel, Incident, IncomingNotice, NewIncident, PartyRole, RcaRequired,
        RootCauseCategory, Severity,
    };
    use breachdesk::report::missing_for_report;
    use chrono::TimeZone;
    let at = |h, m| {
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 28, h, m, 0)
            .single()
            .expect("time")
    };
    let fields = NewIncident {
        title: "t".into(),
        summary: String::new(),
        kind: BreachKind::Breach,
        severity: Severity::High,
        personal_data: false,
        government_data: false,
        affected_assets: Vec::new(),
        identified_at: at(9, 0),
    };
    let mut theirs = Incident::new_on_notice(
        "INC-1".into(),
        fields.clone(),
        IncomingNotice {
            received_at: at(9, 10),
            from: "Jo".into(),
            channel: Channel::Email,
            reference: None,
            source: None,
        },
        "a",
        PartyRole::ServiceProvider,
        at(10, 0),
    )
    .expect("new");
    theirs.root_cause.category = Some(RootCauseCategory::Phishing);
    theirs.root_cause.component = "vpn".into();
    let missing = missing_for_report(&theirs);
    assert!(!missing.iter().any(|m| m.contains("8.1")), "{missing:?}");
    assert!(
        !missing.iter().any(|m| m.contains("analysis")),
        "not required: {missing:?}"
    );
    theirs.rca_required = RcaRequired::Yes;
    let missing = missing_for_report(&theirs);
    assert!(
        missing.contains(&"no root-cause analysis written (the Client requires one)".to_string()),
        "{missing:?}"
    );
    let ours = Incident::new(
        "INC-2".into(),
        fields,
        "a",
        PartyRole::ServiceProvider,
        at(10, 0),
    )
    .expect("new");
    assert!(
        missing_for_report(&ours)
            .iter()
            .any(|m| m.contains("8.1 notification is not recorded")),
    );
}
