//! Issue 14 item 5, second half: an 8.2.1 (e) data request that will not be
//! supplied (`request not-supplied`) or that the Client withdrew (`request
//! withdrawn`) is recorded with its reason, stops its clock and leaves the
//! board, `list` and reminders, on an open or a closed incident. The real
//! binary, in its own temp data directory.

mod support;

use breachdesk::domain::incident::{
    BreachKind, DataDestination, DataRequest, Incident, NewIncident, PartyRole, RequestAuthority,
    RequestEnded, RequestStatus, Severity,
};
use breachdesk::domain::reminders::open_clocks;
use breachdesk::domain::summary::IncidentSummary;
use breachdesk::domain::urgency::board_clocks;
use chrono::{DateTime, Utc};
use support::Bin;

/// An incident (closed once its requests are in) with requests R1 and R2.
fn closed_with_two_requests(bin: &Bin) -> String {
    let id = bin.new_incident("VPN account misuse", "-30m");
    for what in ["VPN logs for 27 Nov", "Proxy logs for 27 Nov"] {
        bin.ok(&[
            "request",
            "add",
            &id,
            "--deliver-to",
            "client",
            "--what",
            what,
            "--received",
            "-20m",
        ]);
    }
    bin.ok(&["close", &id, "--reason", "contained; report to follow"]);
    id
}

fn listed(bin: &Bin) -> String {
    bin.ok(&["list"])
}

#[test]
fn a_closed_incident_leaves_the_board_once_no_request_is_open_and_says_why() {
    let bin = Bin::new();
    let id = closed_with_two_requests(&bin);
    // Closing does not stop 8.2.1 (e): it is still listed, by its request.
    let list = listed(&bin);
    assert!(list.contains(&id), "{list}");
    assert!(list.contains("8.2.1e/R1 (closed)"), "{list}");

    let out = bin.ok(&[
        "request",
        "not-supplied",
        &id,
        "R1",
        "--reason",
        "asks for every log of 2025, not related to this incident",
    ]);
    assert!(out.contains("request R1 recorded as not supplied"), "{out}");
    // R2 is still open: still listed, now by R2.
    let list = listed(&bin);
    assert!(list.contains("8.2.1e/R2 (closed)"), "{list}");

    let out = bin.ok(&[
        "request",
        "withdrawn",
        &id,
        "R2",
        "--reason",
        "the Client's CSR withdrew it by phone",
        "--at",
        "-5m",
    ]);
    assert!(out.contains("request R2 withdrawn by the Client"), "{out}");
    let list = listed(&bin);
    assert!(!list.contains(&id), "no open request, not listed:\n{list}");
    let json: serde_json::Value =
        serde_json::from_str(&bin.ok(&["list", "--all", "--format", "json"])).expect("json");
    let row = &json.as_array().expect("array")[0];
    assert_eq!(row["open_requests"], 0, "{row}");

    // show says why, in words that claim no more than was recorded.
    let show = bin.ok(&["show", &id]);
    assert!(
        show.contains("not supplied: asks for every log of 2025, not related to this incident"),
        "{show}"
    );
    assert!(
        show.contains("withdrawn by the Client: the Client's CSR withdrew it by phone"),
        "{show}"
    );
    assert!(show.contains("recorded by tester"), "{show}");
    // The timeline has both.
    assert!(show.contains("Data request R1 not supplied"), "{show}");
    assert!(
        show.contains("Data request R2 withdrawn by the Client"),
        "{show}"
    );

    // Exports for the Client say it too (without who recorded it).
    let md = bin.ok(&["export", &id, "--format", "markdown"]);
    assert!(
        md.contains("not supplied: asks for every log of 2025"),
        "{md}"
    );
    assert!(md.contains("withdrawn by the Client"), "{md}");
    // The calendar export has no deadline for either.
    let ics = bin.ok(&["export", &id, "--format", "ics"]);
    assert!(
        !ics.contains("request-R1") && !ics.contains("request-R2"),
        "{ics}"
    );

    // The record says it, and the audit log holds both changes, intact.
    let json: serde_json::Value =
        serde_json::from_str(&bin.ok(&["show", &id, "--format", "json"])).expect("json");
    let requests = json["data_requests"].as_array().expect("requests");
    assert_eq!(requests[0]["status"], "not-supplied");
    assert_eq!(requests[0]["ended"]["by"], "tester");
    assert_eq!(requests[1]["status"], "withdrawn");
    let audit = bin.ok(&["audit", "list", &id]);
    assert!(audit.contains("request.not-supplied"), "{audit}");
    assert!(audit.contains("request.withdrawn"), "{audit}");
    let verify = bin.ok(&["audit", "verify"]);
    assert!(verify.contains("hash chain intact"), "{verify}");
}

#[test]
fn refused_without_a_reason_on_a_supplied_request_and_twice() {
    let bin = Bin::new();
    let id = closed_with_two_requests(&bin);
    let err = bin.fails(&["request", "not-supplied", &id, "R1"]);
    assert!(err.contains("--reason"), "{err}");
    let err = bin.fails(&["request", "not-supplied", &id, "R1", "--reason", "  "]);
    assert_eq!(
        err,
        "breachdesk: error: say why the data is not supplied (--reason)\n"
    );
    let err = bin.fails(&["request", "withdrawn", &id, "R1", "--reason", ""]);
    assert!(
        err.contains("say how the Client withdrew the request"),
        "{err}"
    );

    bin.ok(&["request", "supplied", &id, "R1", "--how", "email to csr"]);
    let err = bin.fails(&["request", "not-supplied", &id, "R1", "--reason", "x"]);
    assert!(
        err.contains("request R1 was supplied at")
            && err.contains("cannot be withdrawn or marked not supplied"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // A time in the future, or before the request was received, is refused.
    let err = bin.fails(&[
        "request",
        "withdrawn",
        &id,
        "R2",
        "--reason",
        "x",
        "--at",
        "+1h",
    ]);
    assert!(!err.is_empty());
    let err = bin.fails(&[
        "request",
        "withdrawn",
        &id,
        "R2",
        "--reason",
        "x",
        "--at",
        "-25m",
    ]);
    assert!(err.contains("is before request R2 was received"), "{err}");

    bin.ok(&[
        "request",
        "withdrawn",
        &id,
        "R2",
        "--reason",
        "withdrawn by email",
    ]);
    let err = bin.fails(&["request", "not-supplied", &id, "R2", "--reason", "x"]);
    assert!(err.contains("already withdrawn by the Client"), "{err}");
    let err = bin.fails(&["request", "withdrawn", &id, "R9", "--reason", "x"]);
    assert!(err.contains("no data request 'R9'"), "{err}");
    // Nothing refused was recorded.
    let show = bin.ok(&["show", &id, "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&show).expect("json");
    assert_eq!(json["data_requests"][0]["status"], "supplied");
    assert_eq!(json["data_requests"][1]["status"], "withdrawn");
    bin.ok(&["audit", "verify"]);
}

#[test]
fn works_on_an_open_incident_too() {
    let bin = Bin::new();
    let id = bin.new_incident("Phishing", "-10m");
    bin.ok(&[
        "request",
        "add",
        &id,
        "--deliver-to",
        "govcertuk",
        "--what",
        "mail logs",
    ]);
    bin.ok(&[
        "request",
        "withdrawn",
        &id,
        "R1",
        "--reason",
        "GovCertUK has them already",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&bin.ok(&["list", "--format", "json"])).expect("json");
    let row = &json.as_array().expect("array")[0];
    assert_eq!(row["open_requests"], 0, "{row}");
    assert!(
        row["legal_due"]["clock"] != "8.2.1e/R1",
        "the request's clock stopped: {row}"
    );
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

fn request(id: &str, status: RequestStatus) -> DataRequest {
    DataRequest {
        uid: String::new(),
        id: id.into(),
        requester_name: String::new(),
        authority: RequestAuthority::Client,
        deliver_to: DataDestination::Client,
        received_at: at("2026-03-10T12:00:00Z"),
        what: "logs".into(),
        due_at: at("2026-03-12T23:59:59Z"),
        status,
        supplied_at: None,
        supplied_how: None,
        no_charge: true,
        attachments: Vec::new(),
        reference: None,
        ended: (status != RequestStatus::Open).then(|| RequestEnded {
            at: at("2026-03-10T13:00:00Z"),
            by: "alex".into(),
            reason: "withdrawn by email".into(),
        }),
    }
}

/// The board, `list` (the summary) and reminders agree on which requests
/// are open: one notion, `DataRequest::is_open`.
#[test]
fn board_summary_and_reminders_share_one_notion_of_an_open_request() {
    let mut incident = Incident::new(
        "INC-20260310-1100-abcdef".into(),
        NewIncident {
            title: "t".into(),
            summary: String::new(),
            kind: BreachKind::Breach,
            severity: Severity::High,
            personal_data: false,
            government_data: false,
            affected_assets: Vec::new(),
            identified_at: at("2026-03-10T11:00:00Z"),
        },
        "alex",
        PartyRole::ServiceProvider,
        at("2026-03-10T11:05:00Z"),
    )
    .expect("incident");
    incident.data_requests = vec![
        request("R1", RequestStatus::Withdrawn),
        request("R2", RequestStatus::NotSupplied),
        request("R3", RequestStatus::Open),
    ];
    let clocks = |cs: Vec<breachdesk::domain::urgency::OpenClock>| {
        cs.into_iter()
            .map(|c| c.clock)
            .filter(|c| c.starts_with("8.2.1e"))
            .collect::<Vec<_>>()
    };
    assert_eq!(clocks(board_clocks(&incident)), ["8.2.1e/R3"]);
    assert_eq!(clocks(open_clocks(&incident, false)), ["8.2.1e/R3"]);
    assert_eq!(IncidentSummary::of(&incident).open_requests, 1);
    incident.data_requests[2] = request("R3", RequestStatus::NotSupplied);
    assert!(clocks(board_clocks(&incident)).is_empty());
    assert!(clocks(open_clocks(&incident, true)).is_empty());
    assert_eq!(IncidentSummary::of(&incident).open_requests, 0);
    assert_eq!(
        IncidentSummary::of(&incident)
            .legal_due
            .map(|d| d.clock)
            .filter(|c| c.starts_with("8.2.1e")),
        None
    );
}

/// Records written before requests could end without supply still load,
/// and a record with an ending round-trips through TOML.
#[test]
fn old_records_load_and_endings_round_trip() {
    let old = r#"
id = "R1"
requester = "govcertuk"
received_at = "2026-03-10T12:00:00Z"
what = "logs"
due_at = "2026-03-12T23:59:59Z"
status = "withdrawn"
"#;
    let r: DataRequest = toml::from_str(old).expect("old record loads");
    assert_eq!(r.status, RequestStatus::Withdrawn);
    assert_eq!(r.ended, None);
    assert_eq!(r.ended_words().as_deref(), Some("withdrawn by the Client"));
    assert!(!r.is_open());

    let new = request("R2", RequestStatus::NotSupplied);
    let text = toml::to_string(&new).expect("toml");
    let back: DataRequest = toml::from_str(&text).expect("loads");
    assert_eq!(back, new);
    assert_eq!(
        back.ended_words().as_deref(),
        Some("not supplied: withdrawn by email")
    );
    assert_eq!(request("R3", RequestStatus::Open).ended_words(), None);
}

/// The 8.2.1 (f) full-details report says how each request ended, and does
/// not count an ended request among what is still missing.
#[test]
fn the_report_says_how_a_request_ended() {
    let mut incident = Incident::new(
        "INC-20260310-1100-abcdef".into(),
        NewIncident {
            title: "t".into(),
            summary: String::new(),
            kind: BreachKind::Breach,
            severity: Severity::High,
            personal_data: false,
            government_data: false,
            affected_assets: Vec::new(),
            identified_at: at("2026-03-10T11:00:00Z"),
        },
        "alex",
        PartyRole::ServiceProvider,
        at("2026-03-10T11:05:00Z"),
    )
    .expect("incident");
    incident.data_requests = vec![
        request("R1", RequestStatus::Withdrawn),
        request("R2", RequestStatus::Open),
    ];
    let now = at("2026-03-11T09:00:00Z");
    let doc = breachdesk::report::full_details(
        &incident,
        chrono_tz::Europe::London,
        now,
        &breachdesk::report::ReportOptions::default(),
    );
    let text = breachdesk::report::to_text(&doc);
    assert!(
        text.contains("R1: logs (received 2026-03-10 12:00 GMT, due 2026-03-12 23:59 GMT, withdrawn by the Client: withdrawn by email, 2026-03-10 13:00 GMT)"),
        "{text}"
    );
    let missing = breachdesk::report::missing_for_report(&incident);
    assert!(
        missing.iter().any(|m| m.contains("data request R2")),
        "{missing:?}"
    );
    assert!(
        !missing.iter().any(|m| m.contains("data request R1")),
        "{missing:?}"
    );
}
