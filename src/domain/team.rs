//! Who is on an incident: responders' roles (incident manager,
//! communications, scribe, technical lead) and handovers between shifts.
//!
//! Both lists are append-only, so two copies of a record that grew apart
//! merge as a union of their entries (keyed by `uid`): the current holder of
//! a role is the latest assignment by (`at`, `uid`), and a handover's
//! acknowledgement is a field of its entry.

use crate::domain::terms::Role;
use crate::domain::uid::{entry, entry_uid, instant};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// A role given to a responder (or taken away: `to` empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// Stable id ([`entry_uid`] of when, by whom, the role and the name).
    pub uid: String,
    pub role: Role,
    /// Who holds the role from `at`; empty when the role was unassigned.
    pub to: String,
    /// Who made the assignment.
    pub by: String,
    pub at: DateTime<Utc>,
    /// The `uid` of the assignment of the role it replaced (the one that
    /// held the role when it was made), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

impl Assignment {
    /// A new assignment of `role` to `to` (empty: unassigned) by `by` at
    /// `at`, replacing the role's current assignment in `assignments`.
    pub fn new(
        role: Role,
        to: &str,
        by: &str,
        at: DateTime<Utc>,
        assignments: &[Assignment],
    ) -> Assignment {
        let when = at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let replaces = latest(assignments, role).map(|a| a.uid.clone());
        let parts = [
            when.as_str(),
            by,
            role.as_str(),
            to,
            replaces.as_deref().unwrap_or(""),
        ];
        Assignment {
            uid: entry_uid("assignments", &parts),
            role,
            to: to.to_string(),
            by: by.to_string(),
            at,
            replaces,
        }
    }
}

/// One responder handing an incident over to the next, with what they
/// must know. Shown at the top of the incident until acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    /// Stable id ([`entry_uid`] of when, from, to and the note).
    pub uid: String,
    /// Who handed over.
    pub from: String,
    /// The next responder.
    pub to: String,
    pub note: String,
    pub at: DateTime<Utc>,
    /// Who acknowledged it (anyone but the one who handed over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl Handover {
    /// A new, unacknowledged handover.
    pub fn new(from: &str, to: &str, note: &str, at: DateTime<Utc>) -> Handover {
        let when = at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        Handover {
            uid: entry_uid("handovers", &[&when, from, to, note]),
            from: from.to_string(),
            to: to.to_string(),
            note: note.to_string(),
            at,
            acknowledged_by: None,
            acknowledged_at: None,
        }
    }

    /// Not acknowledged yet: the next responder still has to read it.
    pub fn is_pending(&self) -> bool {
        self.acknowledged_at.is_none()
    }
}

/// The assignment of `role` in force: of those no other assignment
/// replaced, the latest by (`at`, `uid`). Made on one machine, that is the
/// last one made (each replaces the one before, even within the same
/// second); after two copies merged, the later of the two branches' last.
fn latest(assignments: &[Assignment], role: Role) -> Option<&Assignment> {
    let replaced: Vec<&str> = assignments
        .iter()
        .filter(|a| a.role == role)
        .filter_map(|a| a.replaces.as_deref())
        .collect();
    assignments
        .iter()
        .filter(|a| a.role == role && !replaced.contains(&a.uid.as_str()))
        .max_by(|a, b| (a.at, &a.uid).cmp(&(b.at, &b.uid)))
}

/// Each role's assignment in force (see [`latest`]), in [`Role::ALL`]
/// order; a role whose assignment in force unassigned it is left out.
pub fn current_roles(assignments: &[Assignment]) -> Vec<&Assignment> {
    Role::ALL
        .iter()
        .filter_map(|role| latest(assignments, *role))
        .filter(|a| !a.to.is_empty())
        .collect()
}

/// Who holds `role` now, if anyone.
pub fn holder(assignments: &[Assignment], role: Role) -> Option<&str> {
    current_roles(assignments)
        .into_iter()
        .find(|a| a.role == role)
        .map(|a| a.to.as_str())
}

/// The handovers not yet acknowledged, oldest first (by `at`, then `uid`).
pub fn pending_handovers(handovers: &[Handover]) -> Vec<&Handover> {
    let mut pending: Vec<&Handover> = handovers.iter().filter(|h| h.is_pending()).collect();
    pending.sort_by(|a, b| (a.at, &a.uid).cmp(&(b.at, &b.uid)));
    pending
}

/// The longest name accepted for a responder.
pub const MAX_NAME_CHARS: usize = 100;

/// Why a responder's name was refused (worded to follow the name:
/// "the name 'x' contains ...").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("is empty")]
    Empty,
    #[error("contains a control character (U+{0:04X}): type it as plain text on one line")]
    Control(u32),
    #[error("is {0} characters long; at most {MAX_NAME_CHARS} are accepted")]
    TooLong(usize),
}

/// A responder's name as typed, trimmed; refused when empty, longer than
/// [`MAX_NAME_CHARS`], or holding a character that must never reach a
/// terminal (see [`crate::text::is_unsafe_char`]: ESC, a line break, a
/// bidirectional override...).
pub fn responder_name(text: &str) -> Result<String, NameError> {
    let name = text.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some(c) = name.chars().find(|c| crate::text::is_unsafe_char(*c)) {
        return Err(NameError::Control(c as u32));
    }
    let length = name.chars().count();
    if length > MAX_NAME_CHARS {
        return Err(NameError::TooLong(length));
    }
    Ok(name.to_string())
}

// The same identities the constructors hash, so a record whose ids were
// lost (edited by hand) gets them back as they were made.
entry!(Assignment, "assignments", |e| vec![
    instant(&e.at),
    e.by.clone(),
    e.role.to_string(),
    e.to.clone(),
    e.replaces.clone().unwrap_or_default()
]);
entry!(Handover, "handovers", |e| vec![
    instant(&e.at),
    e.from.clone(),
    e.to.clone(),
    e.note.clone()
]);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, h, m, 0).unwrap()
    }

    #[test]
    fn the_latest_assignment_holds_the_role_whatever_the_order() {
        let early = Assignment::new(Role::IncidentManager, "alice", "alice", at(1, 0), &[]);
        // Made on another machine that had not seen `early`: a branch.
        let late = Assignment::new(Role::IncidentManager, "bob", "alice", at(7, 0), &[]);
        let scribe = Assignment::new(Role::Scribe, "carol", "bob", at(2, 0), &[]);
        let unassigned = Assignment::new(
            Role::Scribe,
            "",
            "bob",
            at(3, 0),
            std::slice::from_ref(&scribe),
        );
        // The order of the list (as two merged copies may leave it) does not matter.
        let list = vec![late.clone(), scribe.clone(), early.clone()];
        assert_eq!(holder(&list, Role::IncidentManager), Some("bob"));
        assert_eq!(holder(&list, Role::Scribe), Some("carol"));
        let list = vec![unassigned, late, scribe, early];
        assert_eq!(holder(&list, Role::Scribe), None);
        let roles: Vec<Role> = current_roles(&list).iter().map(|a| a.role).collect();
        assert_eq!(roles, [Role::IncidentManager]);
        // Same instant, two branches: the uid decides, the same way on
        // every machine.
        let a = Assignment::new(Role::TechnicalLead, "dan", "x", at(4, 0), &[]);
        let b = Assignment::new(Role::TechnicalLead, "erin", "y", at(4, 0), &[]);
        let winner = if a.uid > b.uid { "dan" } else { "erin" };
        assert_eq!(
            holder(&[a.clone(), b.clone()], Role::TechnicalLead),
            Some(winner)
        );
        assert_eq!(holder(&[b, a.clone()], Role::TechnicalLead), Some(winner));
        // One machine, the same second: the one made last holds it.
        let next = Assignment::new(
            Role::TechnicalLead,
            "fay",
            "x",
            at(4, 0),
            std::slice::from_ref(&a),
        );
        assert_eq!(next.replaces.as_deref(), Some(a.uid.as_str()));
        let then = Assignment::new(
            Role::TechnicalLead,
            "gus",
            "x",
            at(4, 0),
            &[a.clone(), next.clone()],
        );
        for list in [
            vec![a.clone(), next.clone(), then.clone()],
            vec![then.clone(), next.clone(), a.clone()],
        ] {
            assert_eq!(holder(&list, Role::TechnicalLead), Some("gus"));
        }
    }

    #[test]
    fn uids_are_derived_from_what_fixes_the_entry() {
        let a = Assignment::new(Role::Scribe, "carol", "bob", at(2, 0), &[]);
        assert_eq!(
            a,
            Assignment::new(Role::Scribe, "carol", "bob", at(2, 0), &[])
        );
        assert_ne!(
            a.uid,
            Assignment::new(Role::Scribe, "dan", "bob", at(2, 0), &[]).uid
        );
        let h = Handover::new("alice", "bob", "note", at(7, 0));
        assert_eq!(h.uid, Handover::new("alice", "bob", "note", at(7, 0)).uid);
        assert_ne!(h.uid, Handover::new("alice", "bob", "other", at(7, 0)).uid);
    }

    #[test]
    fn only_unacknowledged_handovers_are_pending_oldest_first() {
        let mut first = Handover::new("alice", "bob", "one", at(7, 0));
        let second = Handover::new("carol", "bob", "two", at(6, 0));
        let list = vec![first.clone(), second.clone()];
        let notes: Vec<&str> = pending_handovers(&list)
            .iter()
            .map(|h| h.note.as_str())
            .collect();
        assert_eq!(notes, ["two", "one"]);
        first.acknowledged_by = Some("bob".into());
        first.acknowledged_at = Some(at(7, 5));
        let list = vec![first, second];
        assert_eq!(pending_handovers(&list).len(), 1);
    }

    #[test]
    fn names_are_refused_when_empty_or_unsafe() {
        assert_eq!(responder_name("  Bob Smith "), Ok("Bob Smith".into()));
        assert_eq!(responder_name(" \t "), Err(NameError::Empty));
        assert_eq!(
            responder_name("bob\u{1b}[2J"),
            Err(NameError::Control(0x1b))
        );
        assert_eq!(responder_name("bob\nsmith"), Err(NameError::Control(0x0a)));
        assert_eq!(
            responder_name("bob\u{202e}"),
            Err(NameError::Control(0x202e))
        );
        assert_eq!(
            responder_name(&"x".repeat(101)),
            Err(NameError::TooLong(101))
        );
        assert_eq!(responder_name("Zoë 東京"), Ok("Zoë 東京".into()));
    }

    #[test]
    fn an_id_lost_by_hand_comes_back_as_it_was_made() {
        let a = Assignment::new(Role::Scribe, "dan", "bob", at(2, 0), &[]);
        let h = Handover::new("alice", "bob", "note", at(7, 0));
        let (mut a2, mut h2) = (vec![a.clone()], vec![h.clone()]);
        a2[0].uid.clear();
        h2[0].uid.clear();
        crate::domain::uid::fill(&mut a2);
        crate::domain::uid::fill(&mut h2);
        assert_eq!(a2[0].uid, a.uid);
        assert_eq!(h2[0].uid, h.uid);
    }
}
