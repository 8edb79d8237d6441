//! The rows `list --all` prints, kept in the closed index so that listing
//! the archive costs one small read: no record is stat()ed, no summary is
//! decoded, nothing is allocated per closed row (see [`crate::index`] for
//! when this is trusted and what it does not check).
//!
//! One line per closed incident, in the board's order (every incident
//! that is not on the board sorts after those that are: most severe,
//! newest first, then by id), eleven fields separated by tabs:
//!
//! ```text
//! ID  SEVERITY  KIND  STATUS  LOGGED_AT  NOTIFICATION_DUE  NOTIFIED|-  RECEIVED(0|1)  NEXT  MANAGER|-  TITLE
//! ```
//!
//! Times are `seconds.nanoseconds` since the epoch (UTC). Text fields are
//! stored as `list` prints them, one line with every control character made
//! visible ([`crate::text::one_line`]), so they hold no tab or line break.

use super::index_format::Entry;
use crate::domain::incident::{BreachKind, IncidentStatus, Severity};
use crate::domain::summary::{IncidentSummary, urgency_order};
use crate::text::one_line;
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

/// One row of `list`, borrowed from the index where it can be.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRow<'a> {
    pub id: Cow<'a, str>,
    pub severity: Severity,
    pub kind: BreachKind,
    pub status: IncidentStatus,
    pub logged_at: DateTime<Utc>,
    pub notification_due_at: DateTime<Utc>,
    pub notified_at: Option<DateTime<Utc>>,
    /// The other party notified us (no 8.1 countdown runs for us).
    pub notice_received: bool,
    /// What is next, on one line: the open data request of a closed
    /// incident (`8.2.1e/R1 (closed)`), else the next step (`ID title`),
    /// else `-`.
    pub next: Cow<'a, str>,
    /// The incident manager on one line, `-` when none.
    pub manager: Cow<'a, str>,
    /// The title on one line.
    pub title: Cow<'a, str>,
}

impl ListRow<'static> {
    /// The row of one summary.
    pub fn of(s: &IncidentSummary) -> ListRow<'static> {
        // A closed incident is listed while a data request of it is open:
        // that request is what is next, not its steps.
        let next = match (s.status, &s.legal_due) {
            (IncidentStatus::Closed, Some(due)) => format!("{} (closed)", due.clock),
            _ => s
                .next_action
                .as_ref()
                .map(|n| format!("{} {}", n.step, n.title))
                .unwrap_or_else(|| "-".into()),
        };
        ListRow {
            id: Cow::Owned(one_line(&s.id)),
            severity: s.severity,
            kind: s.kind,
            status: s.status,
            logged_at: s.logged_at,
            notification_due_at: s.notification_due_at,
            notified_at: s.notified_at,
            notice_received: s.notice_received_at.is_some(),
            next: Cow::Owned(one_line(&next)),
            manager: Cow::Owned(one_line(s.incident_manager.as_deref().unwrap_or("-"))),
            title: Cow::Owned(one_line(&s.title)),
        }
    }
}

impl ListRow<'_> {
    /// The order among incidents not on the board, which is
    /// [`urgency_order`]'s for them: most severe, newest, then by id.
    fn closed_order(&self, other: &ListRow<'_>) -> std::cmp::Ordering {
        other
            .severity
            .cmp(&self.severity)
            .then_with(|| other.logged_at.cmp(&self.logged_at))
            .then_with(|| self.id.cmp(&other.id))
    }
}

fn push_time(out: &mut String, at: DateTime<Utc>) {
    let _ = write!(out, "{}.{}", at.timestamp(), at.timestamp_subsec_nanos());
}

/// The rows section for these closed entries, in the order `list` shows them.
pub(super) fn encode_rows(closed: &HashMap<String, Entry>) -> String {
    let mut summaries: Vec<&IncidentSummary> = closed.values().map(|e| &e.summary).collect();
    summaries.sort_by(|a, b| urgency_order(a, b));
    let mut out = String::with_capacity(summaries.len() * 160);
    for s in summaries {
        let row = ListRow::of(s);
        out.push_str(&row.id);
        for word in [
            row.severity.as_str(),
            row.kind.as_str(),
            row.status.as_str(),
        ] {
            out.push('\t');
            out.push_str(word);
        }
        for at in [
            Some(row.logged_at),
            Some(row.notification_due_at),
            row.notified_at,
        ] {
            out.push('\t');
            match at {
                Some(at) => push_time(&mut out, at),
                None => out.push('-'),
            }
        }
        out.push_str(if row.notice_received {
            "\t1\t"
        } else {
            "\t0\t"
        });
        out.push_str(&row.next);
        out.push('\t');
        out.push_str(&row.manager);
        out.push('\t');
        out.push_str(&row.title);
        out.push('\n');
    }
    out
}

fn word<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str, text: &str) -> Option<T> {
    all.iter().copied().find(|v| name(*v) == text)
}

fn time(text: &str) -> Option<DateTime<Utc>> {
    let dot = text.bytes().position(|b| b == b'.')?;
    let (secs, nanos) = (&text[..dot], &text[dot + 1..]);
    DateTime::from_timestamp(secs.parse().ok()?, nanos.parse().ok()?)
}

/// One line of the rows section; `None` when it is not one this build writes.
fn decode_row(line: &str) -> Option<ListRow<'_>> {
    let mut fields = line.splitn(11, '\t');
    let mut next = || fields.next();
    let id = next()?;
    let severity = word(Severity::ALL, Severity::as_str, next()?)?;
    let kind = word(BreachKind::ALL, BreachKind::as_str, next()?)?;
    let status = word(IncidentStatus::ALL, IncidentStatus::as_str, next()?)?;
    let logged_at = time(next()?)?;
    let notification_due_at = time(next()?)?;
    let notified_at = match next()? {
        "-" => None,
        at => Some(time(at)?),
    };
    let notice_received = match next()? {
        "1" => true,
        "0" => false,
        _ => return None,
    };
    Some(ListRow {
        id: Cow::Borrowed(id),
        severity,
        kind,
        status,
        logged_at,
        notification_due_at,
        notified_at,
        notice_received,
        next: Cow::Borrowed(next()?),
        manager: Cow::Borrowed(next()?),
        title: Cow::Borrowed(next()?),
    })
}

/// What `list --all` (or `--closed`) shows, read from a trusted index
/// without checking each closed record: see [`trusted_listing`].
#[derive(Debug)]
pub struct Listed {
    /// The board's summaries (open, or a legal clock still running).
    pub board: Vec<IncidentSummary>,
    /// The rows section of the closed index.
    pub(super) rows: String,
    /// Closed summaries saved since that file was written, by id (`None`:
    /// no longer closed); they replace the rows of those ids.
    pub(super) changes: HashMap<String, Option<IncidentSummary>>,
    /// How many closed incidents the index counts.
    pub(super) closed_count: usize,
    /// Unreadable records and quarantined files.
    pub problems: Vec<String>,
}

impl Listed {
    /// The closed rows, in `list`'s order; `None` when the rows do not
    /// decode or do not add up to the index's count (the caller scans).
    pub fn closed_rows(&self) -> Option<Vec<ListRow<'_>>> {
        let mut rows: Vec<ListRow<'_>> = Vec::with_capacity(self.closed_count);
        for line in self.rows.lines() {
            let row = decode_row(line)?;
            if !self.changes.contains_key(row.id.as_ref()) {
                rows.push(row);
            }
        }
        let changed: Vec<&IncidentSummary> = self.changes.values().flatten().collect();
        if rows.len() + changed.len() != self.closed_count {
            return None;
        }
        if !changed.is_empty() {
            rows.extend(changed.into_iter().map(|s| ListRow::of(s)));
            // Nearly sorted already: a merge of one long run.
            rows.sort_by(|a, b| a.closed_order(b));
        }
        Some(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::summary::NextAction;

    fn summary(id: &str, severity: Severity, minute: u32, title: &str) -> IncidentSummary {
        let at = |m: u32| {
            DateTime::parse_from_rfc3339(&format!("2026-11-28T10:{m:02}:00.123456789Z"))
                .expect("instant")
                .to_utc()
        };
        IncidentSummary {
            id: id.into(),
            revision: 3,
            title: title.into(),
            kind: BreachKind::Potential,
            severity,
            status: IncidentStatus::Closed,
            identified_at: at(minute),
            logged_at: at(minute),
            notification_due_at: at(minute + 1),
            notified_at: minute.is_multiple_of(2).then(|| at(minute + 2)),
            notice_received_at: minute.is_multiple_of(3).then(|| at(minute)),
            next_action: (minute % 2 == 1).then(|| NextAction {
                step: "lessons".into(),
                title: "Lessons\tlearned".into(),
                due_at: None,
            }),
            open_requests: 0,
            next_due_at: None,
            legal_due: None,
            internal_due: None,
            repeat_root_cause: false,
            root_cause: None,
            incident_manager: minute.is_multiple_of(2).then(|| format!("Bob\t{minute}")),
            handover_to: None,
        }
    }

    #[test]
    fn rows_decode_to_what_the_summaries_show_in_the_board_order() {
        let summaries = [
            summary("INC-a", Severity::Low, 1, "plain"),
            summary(
                "INC-b",
                Severity::High,
                2,
                "tab\there\nand a line \u{1b}[2J",
            ),
            summary("INC-c", Severity::High, 5, "newer, same severity"),
            summary("INC-d", Severity::Critical, 0, "most severe"),
            summary("INC-e", Severity::High, 5, "same time: by id"),
        ];
        let closed: HashMap<String, Entry> = summaries
            .iter()
            .map(|s| {
                let stamp = super::super::index_format::Stamp {
                    ino: 1,
                    len: 2,
                    mtime_ns: 3,
                };
                (
                    s.id.clone(),
                    Entry {
                        stamp,
                        summary: s.clone(),
                    },
                )
            })
            .collect();
        let text = encode_rows(&closed);
        assert_eq!(text.lines().count(), 5);
        let decoded: Vec<ListRow<'_>> = text.lines().map(|l| decode_row(l).expect("row")).collect();
        let mut sorted = summaries.to_vec();
        sorted.sort_by(urgency_order);
        let expected: Vec<ListRow<'_>> = sorted.iter().map(ListRow::of).collect();
        assert_eq!(decoded, expected);
        assert_eq!(
            decoded.iter().map(|r| r.id.as_ref()).collect::<Vec<_>>(),
            ["INC-d", "INC-c", "INC-e", "INC-b", "INC-a"]
        );
        assert_eq!(decoded[3].title, "tab here^Jand a line ^[[2J");
        assert_eq!(decoded[4].next, "lessons Lessons learned");
        assert!(
            decoded
                .iter()
                .all(|r| r.logged_at.timestamp_subsec_nanos() == 123_456_789)
        );
        // The order the rows are merged in is the board's.
        let mut shuffled = decoded.clone();
        shuffled.reverse();
        shuffled.sort_by(|a, b| a.closed_order(b));
        assert_eq!(shuffled, decoded);
        // A line from another layout is refused, not misread.
        assert!(decode_row("INC-x\thigh\tbreach").is_none());
        let last = text.lines().last().expect("line");
        assert!(decode_row(last).is_some());
        assert!(decode_row(&last.replace("\t0\t", "\t2\t")).is_none());
    }
}
