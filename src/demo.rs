//! `breachdesk demo`: fills a data directory with realistic incidents, for a
//! first look and for benchmarks. Deterministic for a given seed and `now`.
//!
//! The open incidents cover every clock state (running, amber, red, overdue,
//! notified on time, notified late); the closed ones form years of history
//! with timelines, data requests, root causes (some repeating, linked as
//! paragraph 6.5 repeats) and sent notices.

use crate::desk::{Desk, DeskError, mark_filled_steps};
use crate::domain::incident::{
    BreachKind, Channel, Closure, DataRequest, EntryKind, Incident, IncidentStatus, NewIncident,
    RepeatLink, RequestAuthority, RequestStatus, Requester, RootCauseCategory, Severity,
    StepStatus, incident_id, normalise_component,
};
use crate::domain::playbook::{RecordField, apply_playbooks, refresh_due_times};
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, HashSet};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoPlan {
    pub incidents: usize,
    /// How many stay open (the rest are closed history).
    pub open: usize,
    pub seed: u64,
}

impl DemoPlan {
    /// `incidents` with the default share open: one in fifty, at least six
    /// (so every clock state shows) unless there are fewer incidents.
    pub fn new(incidents: usize, seed: u64) -> DemoPlan {
        DemoPlan {
            incidents,
            open: (incidents / 50).max(incidents.min(6)),
            seed,
        }
    }
}

const TITLES: &[(&str, BreachKind)] = &[
    (
        "Phishing email captured Office 365 credentials",
        BreachKind::Breach,
    ),
    (
        "VPN appliance exploited through unpatched CVE",
        BreachKind::Breach,
    ),
    (
        "Laptop holding Government Data lost on train",
        BreachKind::Potential,
    ),
    (
        "Storage bucket with application logs publicly readable",
        BreachKind::Breach,
    ),
    (
        "Password spraying against the admin portal",
        BreachKind::Attempted,
    ),
    ("Ransomware detonated on a file server", BreachKind::Breach),
    (
        "Leaver's account still active and used",
        BreachKind::Potential,
    ),
    (
        "Payroll supplier reports a breach of our data",
        BreachKind::Breach,
    ),
    (
        "Unusual outbound traffic from the build server",
        BreachKind::Potential,
    ),
    (
        "SQL injection attempts against the citizen portal",
        BreachKind::Attempted,
    ),
    (
        "Privileged account used outside change window",
        BreachKind::Potential,
    ),
    ("Misaddressed email with case files", BreachKind::Breach),
];

const COMPONENTS: &[&str] = &[
    "vpn-gateway",
    "admin-portal",
    "file-server",
    "citizen-portal",
    "email",
    "build-server",
    "identity-provider",
    "laptop-fleet",
];

const PEOPLE: &[&str] = &[
    "sam.patel",
    "amira.khan",
    "joe.bloggs",
    "li.wei",
    "niamh.oconnor",
];

const ENTRIES: &[&str] = &[
    "Alert triaged from the SIEM; confirmed not a false positive",
    "Affected account disabled and sessions revoked",
    "Firewall rule added to block the source addresses",
    "Forensic image of the host taken; SHA-256 recorded",
    "Client security representative asked for hourly updates",
    "Change request raised for the emergency patch",
    "Patch tested in pre-production; no regressions",
    "Mitigation applied in production",
    "Log review found no further access after containment",
    "Root-cause workshop held with the platform team",
];

/// What `generate` made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    pub open: usize,
    pub closed: usize,
    pub repeats: usize,
}

/// Builds the incidents (pure: no files touched).
pub fn build(desk: &Desk, plan: DemoPlan, now: DateTime<Utc>) -> Result<Vec<Incident>, DeskError> {
    let mut rng = fastrand::Rng::with_seed(plan.seed);
    let mut ids = HashSet::new();
    let mut causes = Vec::new();
    let mut out = Vec::with_capacity(plan.incidents);
    let closed = plan.incidents.saturating_sub(plan.open);
    // Closed history first, oldest first, spread over three years.
    for i in 0..closed {
        let age = Duration::minutes(
            (3 * 365 * 24 * 60) as i64 * (closed - i) as i64 / closed.max(1) as i64
                + rng.i64(0..600),
        );
        let identified = now - age - Duration::days(2);
        out.push(incident(
            desk,
            &mut rng,
            &mut ids,
            &mut causes,
            identified,
            false,
            i,
            now,
        )?);
    }
    for i in 0..plan.open {
        let identified = match i {
            0 => now - Duration::minutes(10), // running
            1 => now - Duration::minutes(48), // amber
            2 => now - Duration::minutes(57), // red
            3 => now - Duration::minutes(75), // overdue
            4 => now - Duration::hours(3),    // notified on time
            5 => now - Duration::hours(5),    // notified late
            _ => now - Duration::minutes(rng.i64(15..(3 * 24 * 60))),
        };
        out.push(incident(
            desk,
            &mut rng,
            &mut ids,
            &mut causes,
            identified,
            true,
            i,
            now,
        )?);
    }
    link_repeats(&mut out);
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn incident(
    desk: &Desk,
    rng: &mut fastrand::Rng,
    ids: &mut HashSet<String>,
    causes: &mut Vec<(RootCauseCategory, String)>,
    identified: DateTime<Utc>,
    open: bool,
    index: usize,
    now: DateTime<Utc>,
) -> Result<Incident, DeskError> {
    let (title, kind) = TITLES[rng.usize(..TITLES.len())];
    let logged = identified + Duration::minutes(rng.i64(1..9));
    let responder = PEOPLE[rng.usize(..PEOPLE.len())];
    let id = loop {
        let id = incident_id(logged, rng.u32(..));
        if ids.insert(id.clone()) {
            break id;
        }
    };
    let component = COMPONENTS[rng.usize(..COMPONENTS.len())];
    let fields = NewIncident {
        title: title.to_string(),
        summary: format!("Demo incident {index}: {title}. Generated by `breachdesk demo`."),
        kind,
        severity: Severity::ALL[rng.usize(..Severity::ALL.len())],
        personal_data: rng.u8(..4) == 0,
        government_data: rng.u8(..3) == 0,
        affected_assets: vec![component.to_string()],
        identified_at: identified,
    };
    let mut i = Incident::new(id, fields, responder, desk.config().responder.role, logged)?;
    apply_playbooks(&mut i, &desk.playbooks().playbooks, desk.calendar());

    // Timeline: a handful to a few dozen entries, never after now.
    let entries = rng.usize(1..if open { 8 } else { 30 });
    let span = if open {
        (now - logged).num_minutes().max(2)
    } else {
        3 * 24 * 60
    };
    for _ in 0..entries {
        let at = (logged + Duration::minutes(rng.i64(1..span))).min(now);
        let text = ENTRIES[rng.usize(..ENTRIES.len())];
        i.log(at, PEOPLE[rng.usize(..PEOPLE.len())], EntryKind::Note, text);
    }

    // The 8.1 notification: open incidents by clock-state slot, closed all made.
    let notified_after = match (open, index) {
        (true, 0..=3) => None,
        (true, 5) => Some(Duration::minutes(67)),
        (true, _) => Some(Duration::minutes(rng.i64(5..58))),
        (false, _) if rng.u8(..20) == 0 => Some(Duration::minutes(rng.i64(61..120))),
        (false, _) => Some(Duration::minutes(rng.i64(5..58))),
    };
    if let Some(after) = notified_after {
        let made = (identified + after).min(now);
        let email = rng.bool();
        let n = &mut i.notification;
        n.made_at = Some(made);
        n.made_by = Some(responder.to_string());
        n.channel = Some(if email {
            Channel::Email
        } else {
            Channel::Phone
        });
        n.recipient = Some("Client Security Representative <csr@client.example>".into());
        n.reference = email.then(|| format!("<demo-{:016x}@breachdesk.demo>", rng.u64(..)));
        n.server_reply = email.then(|| "250 2.0.0 Ok: queued (demo)".to_string());
        n.met_deadline = Some(made <= n.due_at);
        if made > n.due_at {
            n.delay_reason =
                Some("On-call phone out of signal; escalated via the duty manager".into());
        }
        mark_filled_steps(&mut i, RecordField::Notification, responder, made);
    }

    // Data requests (8.2.1 e).
    let requests = if rng.u8(..3) == 0 { rng.usize(1..4) } else { 0 };
    for _ in 0..requests {
        let received = (logged + Duration::minutes(rng.i64(30..(2 * 24 * 60)))).min(now);
        let due = desk.calendar().working_days_after(received, 2);
        let supplied = !open || rng.bool();
        let supplied_at = (received + Duration::hours(rng.i64(2..40))).min(now);
        i.data_requests.push(DataRequest {
            uid: String::new(),
            id: i.next_request_id(),
            deliver_to: if rng.bool() {
                Requester::Client
            } else {
                Requester::GovCertUk
            },
            authority: RequestAuthority::Client,
            reference: None,
            requester_name: String::new(),
            received_at: received,
            what: "Firewall and VPN logs for the incident window".into(),
            due_at: due,
            status: if supplied {
                RequestStatus::Supplied
            } else {
                RequestStatus::Open
            },
            supplied_at: supplied.then_some(supplied_at),
            supplied_how: supplied.then(|| "email with logs attached".to_string()),
            no_charge: true,
            attachments: Vec::new(),
            ended: None,
        });
    }

    // Root cause for every closed incident and some open ones.
    if !open || rng.u8(..3) == 0 {
        // About one in twenty repeats an earlier root cause (paragraph 6.5);
        // the rest are a failure of one particular host or service.
        let (category, failed) = match causes.len() {
            n if n > 0 && rng.u8(..20) == 0 => causes[rng.usize(..n)].clone(),
            _ => (
                RootCauseCategory::ALL[rng.usize(..RootCauseCategory::ALL.len())],
                format!("{component}-{:04}", rng.u16(..10_000)),
            ),
        };
        causes.push((category, failed.clone()));
        let rc = &mut i.root_cause;
        rc.category = Some(category);
        rc.component = failed;
        rc.analysis = "Five-whys analysis recorded in the workshop notes.".into();
        rc.prevention_actions = vec![
            "Add a detection rule".into(),
            "Review the control quarterly".into(),
        ];
        rc.recorded_at = Some((logged + Duration::hours(6)).min(now));
        rc.recorded_by = Some(responder.to_string());
    }

    if !open {
        let done_at = logged + Duration::days(2);
        i.mitigation.description = "Emergency configuration change".into();
        i.mitigation.tested = true;
        i.mitigation.tested_how = "Tested in pre-production and by a re-scan".into();
        i.report.sent_at = Some(done_at);
        i.report.sent_to = Some("csr@client.example".into());
        for step in i.steps.iter_mut() {
            if step.is_open() {
                step.status = StepStatus::Done;
                step.completed_at = Some(done_at);
                step.updated_at = Some(done_at);
                step.who = Some(responder.to_string());
            }
        }
        i.status = IncidentStatus::Closed;
        i.closure = Some(Closure {
            closed_at: done_at,
            closed_by: responder.to_string(),
            reason: None,
            open_steps: Vec::new(),
            not_a_breach: false,
        });
        i.log(done_at, responder, EntryKind::Change, "Incident closed");
    }
    i.timeline.sort_by_key(|e| e.at);
    refresh_due_times(&mut i, desk.calendar());
    Ok(i)
}

/// Links each incident to the earlier ones with the same root cause.
fn link_repeats(incidents: &mut [Incident]) {
    let mut order: Vec<usize> = (0..incidents.len()).collect();
    order.sort_by_key(|&k| incidents[k].identified_at);
    let mut first_seen: HashMap<(RootCauseCategory, String), String> = HashMap::new();
    for k in order {
        let Some(key) = incidents[k].root_cause.repeat_key() else {
            continue;
        };
        match first_seen.get(&key) {
            Some(earlier) => {
                let at = incidents[k]
                    .root_cause
                    .recorded_at
                    .unwrap_or(incidents[k].logged_at);
                incidents[k].repeat_of.push(RepeatLink {
                    uid: String::new(),
                    incident: earlier.clone(),
                    category: key.0,
                    component: normalise_component(&key.1),
                    linked_at: at,
                });
            }
            None => {
                first_seen.insert(key, incidents[k].id.clone());
            }
        }
    }
}

/// Writes a demo data set into the desk's data directory. Refuses a
/// directory that already holds records unless `force`.
pub fn generate(
    desk: &Desk,
    plan: DemoPlan,
    force: bool,
    now: DateTime<Utc>,
) -> Result<DemoReport, DeskError> {
    desk.check_seedable(force)?;
    let incidents = build(desk, plan, now)?;
    let report = DemoReport {
        open: incidents.iter().filter(|i| i.is_open()).count(),
        closed: incidents.iter().filter(|i| !i.is_open()).count(),
        repeats: incidents.iter().filter(|i| !i.repeat_of.is_empty()).count(),
    };
    let detail = format!(
        "demo incident ({} in all: {} open, {} closed) with seed {}",
        incidents.len(),
        report.open,
        report.closed,
        plan.seed
    );
    desk.seed(&incidents, force, "demo.generated", &detail, now)?;
    Ok(report)
}
