//! Reminders for `breachdesk watch`: which legal clocks of an incident are
//! still open, and which reminders are due at an instant, given the ones
//! already sent.
//!
//! Pure: `now` is always an argument, and remembering what was sent (the
//! state file, its lock) is the watcher's job ([`crate::watch`]).
//!
//! A reminder is identified by its *key*: the incident, the clock, the clock's
//! due time and the threshold (`INC-…/8.1/2026-11-28T15:05:00Z/15m`). Because
//! the due time is part of the key, a clock that moves (an `identified_at`
//! corrected) is re-armed: its old keys no longer match.

use crate::domain::clock::{ClockState, clock_state, format_duration_short};
use crate::domain::summary::IncidentSummary;
use crate::domain::when::parse_when;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use std::collections::BTreeSet;

pub use crate::domain::urgency::{OpenClock, open_clocks};

/// Whether an incident can have a legal-clock reminder due at `now` or
/// later than `now` by less than `lead`, judged from its summary alone: its
/// nearest deadline is the earliest of its legal clocks, so when that is
/// further away than the longest lead there is nothing to check yet.
/// Internal targets are not in the summary; with them switched on every open
/// incident is a candidate.
pub fn may_remind(
    summary: &IncidentSummary,
    longest_lead: Duration,
    internal_targets: bool,
    now: DateTime<Utc>,
) -> bool {
    if internal_targets {
        return true;
    }
    summary
        .next_due_at
        .is_some_and(|due| due - longest_lead <= now)
}

/// A point at which a clock is reminded of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Threshold {
    /// This long before the due time.
    Before(Duration),
    /// Once, when the clock is past its due time.
    Overdue,
}

impl Threshold {
    /// `15m`, `1h30m`, `overdue`: as in the key and `BREACHDESK_*` text.
    pub fn label(&self) -> String {
        match self {
            Threshold::Overdue => "overdue".into(),
            Threshold::Before(d) => lead_label(*d),
        }
    }
}

/// `15m`, `1h`, `1h30m`, `90s` -> `1m30s`.
pub fn lead_label(d: Duration) -> String {
    let secs = d.num_seconds();
    let (days, hours, mins, s) = (
        secs / 86_400,
        (secs % 86_400) / 3_600,
        (secs % 3_600) / 60,
        secs % 60,
    );
    let mut out = String::new();
    for (n, unit) in [(days, 'd'), (hours, 'h'), (mins, 'm'), (s, 's')] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// Parses a lead time such as `15m`, `5m`, `1h`, `1h30m`, `90s`, `1d`
/// (units d, h, m, s; more than zero).
pub fn parse_lead(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let refuse = || format!("'{t}' is not a lead time like \"15m\", \"1h\" or \"1h30m\"");
    let shape_ok = !t.is_empty()
        && t.as_bytes()[0].is_ascii_digit()
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c.to_ascii_lowercase(), 'd' | 'h' | 'm' | 's'));
    if !shape_ok {
        return Err(refuse());
    }
    // The same relative-time grammar as `--identified-at -20m`.
    let origin = DateTime::<Utc>::UNIX_EPOCH + Duration::days(47_482); // 2100-01-01, inside the WHEN range
    let at = parse_when(&format!("-{t}"), origin, chrono_tz::UTC).map_err(|_| refuse())?;
    let lead = origin - at;
    if lead <= Duration::zero() {
        return Err(format!("'{t}' is not more than zero"));
    }
    if lead > Duration::days(30) {
        return Err(format!("'{t}' is more than 30 days"));
    }
    Ok(lead)
}

/// The thresholds of a clock, least urgent first: the leads, longest first,
/// then overdue.
pub fn thresholds(leads: &[Duration]) -> Vec<Threshold> {
    let mut leads: Vec<Duration> = leads.to_vec();
    leads.sort_by(|a, b| b.cmp(a));
    leads.dedup();
    leads
        .into_iter()
        .map(Threshold::Before)
        .chain(std::iter::once(Threshold::Overdue))
        .collect()
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The key a reminder is remembered by: incident, clock, due time, threshold.
pub fn reminder_key(clock: &OpenClock, threshold: Threshold) -> String {
    format!(
        "{}/{}/{}/{}",
        clock.incident,
        clock.clock,
        stamp(clock.due_at),
        threshold.label()
    )
}

/// Whether `threshold` of a clock due at `due` has been crossed at `now`:
/// the time left is at most the lead, or (overdue) the due instant has
/// passed (the due instant itself is still in time, as for the countdown).
pub fn crossed(due: DateTime<Utc>, threshold: Threshold, now: DateTime<Utc>) -> bool {
    match (clock_state(due, None, now), threshold) {
        (ClockState::Overdue { .. }, _) => true,
        (ClockState::Running { remaining }, Threshold::Before(lead)) => remaining <= lead,
        _ => false,
    }
}

/// The instant at which `threshold` is first crossed.
fn crossing(due: DateTime<Utc>, threshold: Threshold) -> DateTime<Utc> {
    match threshold {
        Threshold::Before(lead) => due - lead,
        Threshold::Overdue => due + Duration::seconds(1),
    }
}

/// A reminder to send now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub clock: OpenClock,
    /// The most urgent threshold crossed.
    pub threshold: Threshold,
    /// Due time minus now: negative when overdue.
    pub left: Duration,
    /// The key of this reminder.
    pub key: String,
    /// Every key to remember as sent: this one and the less urgent
    /// thresholds already crossed, so a watcher started late (or a clock
    /// moved closer) sends one reminder, not a burst of stale ones.
    pub settles: Vec<String>,
}

/// The reminders due at `now`: for each clock, the most urgent threshold it
/// has crossed, unless that one was already sent. Most urgent clock first.
pub fn due_reminders(
    clocks: &[OpenClock],
    leads: &[Duration],
    sent: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> Vec<Reminder> {
    let all = thresholds(leads);
    let mut out: Vec<Reminder> = Vec::new();
    for clock in clocks {
        let crossed_now: Vec<Threshold> = all
            .iter()
            .copied()
            .filter(|t| crossed(clock.due_at, *t, now))
            .collect();
        let Some(&most_urgent) = crossed_now.last() else {
            continue;
        };
        let key = reminder_key(clock, most_urgent);
        if sent.contains(&key) {
            continue;
        }
        out.push(Reminder {
            clock: clock.clone(),
            threshold: most_urgent,
            left: clock.due_at - now,
            settles: crossed_now
                .iter()
                .map(|t| reminder_key(clock, *t))
                .collect(),
            key,
        });
    }
    out.sort_by(|a, b| {
        a.clock
            .due_at
            .cmp(&b.clock.due_at)
            .then_with(|| a.clock.incident.cmp(&b.clock.incident))
            .then_with(|| a.clock.clock.cmp(&b.clock.clock))
    });
    out
}

/// The first instant after `now` at which one of these clocks crosses a
/// threshold not yet sent, if any.
pub fn next_crossing(
    clocks: &[OpenClock],
    leads: &[Duration],
    sent: &BTreeSet<String>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let all = thresholds(leads);
    clocks
        .iter()
        .flat_map(|clock| {
            all.iter()
                .filter(|t| !sent.contains(&reminder_key(clock, **t)))
                .map(|t| crossing(clock.due_at, *t))
                .filter(|at| *at > now)
                .collect::<Vec<_>>()
        })
        .min()
}

/// Whether a remembered key belongs to one of `open_incidents` (keys of
/// closed or deleted incidents are dropped, so the state stays as small as
/// the open work). A key is `INC-…/…`.
pub fn key_is_open(key: &str, open_incidents: &BTreeSet<String>) -> bool {
    key.split('/')
        .next()
        .is_some_and(|id| open_incidents.contains(id))
}

/// "14 min left", "overdue by 3 min", "due now".
pub fn time_left_words(left: Duration) -> String {
    if left < Duration::zero() {
        format!("overdue by {}", format_duration_short(-left))
    } else if left < Duration::minutes(1) && left.num_seconds() == 0 {
        "due now".into()
    } else {
        format!("{} left", format_duration_short(left))
    }
}

/// One line for the log, the command's `BREACHDESK_MESSAGE` and the desktop
/// notification: `14 min left: Notify the other party (8.1), due
/// 2026-11-28T15:05:00Z, INC-… "Title"`.
pub fn reminder_line(reminder: &Reminder) -> String {
    format!(
        "{}: {}, due {}, {} \"{}\"",
        time_left_words(reminder.left),
        reminder.clock.what,
        stamp(reminder.clock.due_at),
        reminder.clock.incident,
        reminder.clock.title
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{Division, WorkingCalendar};
    use crate::domain::incident::{
        BreachKind, Channel, DataDestination, DataRequest, Incident, NewIncident, PartyRole,
        RequestAuthority, RequestStatus, Severity, StepStatus,
    };
    use crate::domain::playbook::{Playbook, apply_playbooks, refresh_due_times};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .with_timezone(&Utc)
    }

    fn calendar() -> WorkingCalendar {
        WorkingCalendar::new(Division::EnglandAndWales, chrono_tz::Europe::London)
    }

    fn playbooks() -> Vec<Playbook> {
        [
            include_str!("../../playbooks/schedule6-paragraph8.toml"),
            include_str!("../../playbooks/uk-gdpr-personal-data.toml"),
        ]
        .iter()
        .map(|t| Playbook::parse(t, "built-in").expect("playbook"))
        .collect()
    }

    /// Identified 14:00 UTC on Tue 10 Mar 2026 by the Client (the controller,
    /// whose ICO clock runs 72 h); personal data involved.
    fn incident() -> Incident {
        let fields = NewIncident {
            title: "Admin portal login".into(),
            summary: String::new(),
            kind: BreachKind::Breach,
            severity: Severity::High,
            personal_data: true,
            government_data: false,
            affected_assets: Vec::new(),
            identified_at: at("2026-03-10T14:00:00Z"),
        };
        let mut incident = Incident::new(
            "INC-20260310-1400-abcdef".into(),
            fields,
            "alice",
            PartyRole::Client,
            at("2026-03-10T14:02:00Z"),
        )
        .expect("incident");
        apply_playbooks(&mut incident, &playbooks(), &calendar());
        incident
    }

    fn leads() -> Vec<Duration> {
        vec![Duration::minutes(15), Duration::minutes(5)]
    }

    fn by_clock(clocks: &[OpenClock]) -> Vec<(&str, String, bool)> {
        clocks
            .iter()
            .map(|c| (c.clock.as_str(), stamp(c.due_at), c.internal))
            .collect()
    }

    #[test]
    fn open_clocks_are_the_notification_requests_and_regulator_steps() {
        let mut inc = incident();
        inc.data_requests.push(DataRequest {
            uid: String::new(),
            id: "R1".into(),
            requester_name: String::new(),
            authority: RequestAuthority::Client,
            deliver_to: DataDestination::Client,
            reference: None,
            received_at: at("2026-03-10T15:00:00Z"),
            what: "logs".into(),
            due_at: at("2026-03-12T23:59:59Z"),
            status: RequestStatus::Open,
            supplied_at: None,
            supplied_how: None,
            no_charge: true,
            attachments: Vec::new(),
            ended: None,
        });
        refresh_due_times(&mut inc, &calendar());
        let clocks = open_clocks(&inc, false);
        assert_eq!(
            by_clock(&clocks),
            vec![
                ("8.1", "2026-03-10T15:00:00Z".to_string(), false),
                ("8.2.1e/R1", "2026-03-12T23:59:59Z".to_string(), false),
                ("gdpr-ico", "2026-03-13T14:00:00Z".to_string(), false),
            ]
        );
        // The 24-hour assessment is the playbook's internal target.
        let with_targets = open_clocks(&inc, true);
        assert!(by_clock(&with_targets).contains(&(
            "gdpr-assess",
            "2026-03-11T14:00:00Z".to_string(),
            true
        )));
        assert_eq!(clocks[0].what, "Notify the other party (8.1)");
    }

    #[test]
    fn satisfied_clocks_are_not_open() {
        let mut inc = incident();
        inc.notification.made_at = Some(at("2026-03-10T14:30:00Z"));
        inc.notification.channel = Some(Channel::Phone);
        for id in ["gdpr-assess", "gdpr-ico"] {
            inc.step_mut(id).expect("step").status = StepStatus::Done;
        }
        assert!(open_clocks(&inc, false).is_empty());
        inc.step_mut("gdpr-ico").expect("step").status = StepStatus::NotApplicable;
        assert!(open_clocks(&inc, true).is_empty());
        // A closed incident has no clocks at all.
        let mut closed = incident();
        closed.status = crate::domain::incident::IncidentStatus::Closed;
        assert!(open_clocks(&closed, true).is_empty());
        // Without personal data the GDPR steps do not apply.
        let mut no_pd = incident();
        no_pd.personal_data = false;
        assert_eq!(by_clock(&open_clocks(&no_pd, false)).len(), 1);
    }

    #[test]
    fn internal_targets_only_when_asked() {
        let mut inc = incident();
        let step = inc.step_mut("gdpr-assess").expect("step");
        step.required = false;
        let legal: Vec<String> = open_clocks(&inc, false)
            .into_iter()
            .map(|c| c.clock)
            .collect();
        assert_eq!(legal, vec!["8.1", "gdpr-ico"]);
        let all = open_clocks(&inc, true);
        let target = all
            .iter()
            .find(|c| c.clock == "gdpr-assess")
            .expect("target");
        assert!(target.internal);
    }

    fn notification_clock() -> Vec<OpenClock> {
        open_clocks(&incident(), false)
            .into_iter()
            .filter(|c| c.clock == "8.1")
            .collect()
    }

    fn labels(reminders: &[Reminder]) -> Vec<String> {
        reminders.iter().map(|r| r.threshold.label()).collect()
    }

    #[test]
    fn thresholds_fire_once_each_in_order() {
        let clocks = notification_clock(); // due 15:00
        let mut sent = BTreeSet::new();
        let mut fired = Vec::new();
        // Walk the clock minute by minute from 14:30 to 15:30.
        for minute in 30..=90 {
            let now = at("2026-03-10T14:00:00Z") + Duration::minutes(minute);
            let due = due_reminders(&clocks, &leads(), &sent, now);
            for r in &due {
                fired.push((minute, r.threshold.label(), r.left.num_minutes()));
                sent.extend(r.settles.iter().cloned());
            }
        }
        assert_eq!(
            fired,
            vec![
                (45, "15m".to_string(), 15),
                (55, "5m".to_string(), 5),
                (61, "overdue".to_string(), -1),
            ]
        );
    }

    #[test]
    fn the_due_instant_is_still_in_time() {
        let clocks = notification_clock();
        let sent = BTreeSet::new();
        let at_due = due_reminders(&clocks, &leads(), &sent, at("2026-03-10T15:00:00Z"));
        assert_eq!(labels(&at_due), vec!["5m"]);
        let after = due_reminders(&clocks, &leads(), &sent, at("2026-03-10T15:00:01Z"));
        assert_eq!(labels(&after), vec!["overdue"]);
    }

    #[test]
    fn a_late_start_sends_only_the_most_urgent_and_settles_the_rest() {
        let clocks = notification_clock();
        let mut sent = BTreeSet::new();
        let due = due_reminders(&clocks, &leads(), &sent, at("2026-03-10T16:00:00Z"));
        assert_eq!(labels(&due), vec!["overdue"]);
        assert_eq!(due[0].settles.len(), 3);
        sent.extend(due[0].settles.iter().cloned());
        assert!(due_reminders(&clocks, &leads(), &sent, at("2026-03-10T17:00:00Z")).is_empty());
        assert_eq!(
            next_crossing(&clocks, &leads(), &sent, at("2026-03-10T17:00:00Z")),
            None
        );
    }

    #[test]
    fn a_moved_clock_is_re_armed() {
        let mut inc = incident();
        let mut sent = BTreeSet::new();
        let now = at("2026-03-10T14:50:00Z");
        let first = due_reminders(&open_clocks(&inc, false), &leads(), &sent, now);
        assert_eq!(labels(&first), vec!["15m"]);
        sent.extend(first[0].settles.iter().cloned());
        assert!(due_reminders(&open_clocks(&inc, false), &leads(), &sent, now).is_empty());
        // identified_at corrected 8 minutes earlier: due 14:52, 2 min left.
        inc.identified_at = at("2026-03-10T13:52:00Z");
        inc.notification.due_at = crate::domain::clock::notification_due(inc.identified_at);
        let again = due_reminders(&open_clocks(&inc, false), &leads(), &sent, now);
        assert_eq!(labels(&again), vec!["5m"]);
        assert_ne!(again[0].key, first[0].key);
    }

    #[test]
    fn next_crossing_is_the_next_unsent_threshold() {
        let clocks = notification_clock(); // due 15:00
        let sent = BTreeSet::new();
        assert_eq!(
            next_crossing(&clocks, &leads(), &sent, at("2026-03-10T14:00:00Z")),
            Some(at("2026-03-10T14:45:00Z"))
        );
        assert_eq!(
            next_crossing(&clocks, &leads(), &sent, at("2026-03-10T14:50:00Z")),
            Some(at("2026-03-10T14:55:00Z"))
        );
        assert_eq!(
            next_crossing(&clocks, &leads(), &sent, at("2026-03-10T14:58:00Z")),
            Some(at("2026-03-10T15:00:01Z"))
        );
    }

    #[test]
    fn the_summary_filter_never_hides_a_due_legal_clock() {
        let inc = incident();
        let summary = IncidentSummary::of(&inc);
        let lead = Duration::minutes(15);
        assert!(!may_remind(
            &summary,
            lead,
            false,
            at("2026-03-10T14:44:59Z")
        ));
        assert!(may_remind(
            &summary,
            lead,
            false,
            at("2026-03-10T14:45:00Z")
        ));
        assert!(may_remind(&summary, lead, true, at("2026-03-10T14:00:00Z")));
        // Every legal clock is at or after the summary's nearest deadline.
        let nearest = summary.next_due_at.expect("deadline");
        assert!(open_clocks(&inc, false).iter().all(|c| c.due_at >= nearest));
    }

    #[test]
    fn keys_carry_clock_due_time_and_threshold_and_prune_by_incident() {
        let clocks = notification_clock();
        let key = reminder_key(&clocks[0], Threshold::Before(Duration::minutes(15)));
        assert_eq!(key, "INC-20260310-1400-abcdef/8.1/2026-03-10T15:00:00Z/15m");
        let open: BTreeSet<String> = ["INC-20260310-1400-abcdef".to_string()].into();
        assert!(key_is_open(&key, &open));
        assert!(!key_is_open("INC-other/8.1/x/5m", &open));
    }

    #[test]
    fn lead_times_parse_and_print() {
        assert_eq!(parse_lead("15m"), Ok(Duration::minutes(15)));
        assert_eq!(parse_lead("1h30m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_lead("90s"), Ok(Duration::seconds(90)));
        assert_eq!(lead_label(Duration::minutes(90)), "1h30m");
        assert_eq!(lead_label(Duration::seconds(90)), "1m30s");
        for bad in ["", "15", "-5m", "5x", "0m", "14:05", "now", "31d"] {
            assert!(parse_lead(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn words_lead_with_the_time_left() {
        let clocks = notification_clock();
        let sent = BTreeSet::new();
        let due = due_reminders(&clocks, &leads(), &sent, at("2026-03-10T14:46:00Z"));
        assert_eq!(
            reminder_line(&due[0]),
            "14 min left: Notify the other party (8.1), due 2026-03-10T15:00:00Z, \
             INC-20260310-1400-abcdef \"Admin portal login\""
        );
        assert_eq!(time_left_words(Duration::minutes(-3)), "overdue by 3 min");
        assert_eq!(time_left_words(Duration::zero()), "due now");
    }
}
