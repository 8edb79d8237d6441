//! Merging two copies of one incident record that grew apart (two
//! responders' data directories synced through git) against the copy they
//! both started from, field by field, losing nothing typed. Pure: the
//! `breachdesk merge-record` git merge driver reads and writes the files.
//!
//! The rules (the README's "How records merge" says the same):
//!
//! * Nothing to merge: when both copies are equal, or one is the base, the
//!   other is the result, unchanged (its revision too).
//! * Every other field is merged by [`value`]'s rules: a field changed on
//!   one side takes that change; lists are unions keyed by the entries'
//!   `uid`s (steps by their id, lists of words by the words), each entry in
//!   both merged field by field; nothing is removed.
//! * A field changed differently on both sides keeps the value of the
//!   **later side**: the copy whose latest timeline entry is later; when
//!   both end at the same instant, the copy whose JSON form sorts later.
//!   This does not depend on which copy is "ours", so merging in either
//!   direction gives the same record. The value not kept is written, in
//!   full, into a timeline entry of kind `conflict` by "breachdesk merge".
//! * Visible ids (`R3`, `G2`, `T1`) given on both sides to different
//!   entries: the entry made later (by when it was made, then uid) takes
//!   the next free number, references to it in its copy are rewritten (a
//!   notice's `request_id`, a test's `repeats` and findings), and a
//!   `conflict` timeline entry says so.
//! * The revision becomes one more than the higher of the two.
//! * Status and closure follow the same rules: an incident closed on one
//!   side while the other added entries stays closed, with the new entries.
//! * Merge entries are stamped with the latest timeline instant of either
//!   copy (not the clock), so two machines merging the same copies write
//!   the same record, and a later merge of those results adds nothing twice.

mod append_only;
mod value;

pub use append_only::{LostEntry, keeps_entries};

use crate::domain::incident::{
    DataRequest, EntryKind, Incident, OtherNotice, SCHEMA_VERSION, SecurityTest,
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use value::Winner;

/// Who a merge's timeline entries are by.
pub const MERGE_AUTHOR: &str = "breachdesk merge";

/// A field both copies changed differently: the value kept and the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldConflict {
    /// e.g. `title`, `details.containment`, `data_requests[R1].status`.
    pub field: String,
    pub kept: String,
    pub other: String,
}

/// A visible id two copies gave to different entries, and the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renumbered {
    /// `data request`, `notice`, `Security Test`.
    pub what: &'static str,
    pub uid: String,
    pub from: String,
    pub to: String,
}

/// The merged record, and what the merge had to decide.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    pub incident: Incident,
    pub conflicts: Vec<FieldConflict>,
    pub renumbered: Vec<Renumbered>,
}

/// Why two copies could not be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("the two copies are of different incidents ({ours} and {theirs})")]
    DifferentIncidents { ours: String, theirs: String },
    #[error("the merged record does not hold together: {0}")]
    Invalid(String),
    /// A copy's revision is already the highest there is.
    #[error("revision {0} cannot be incremented (it is the highest a record can have)")]
    RevisionOverflow(u64),
}

/// Merges `ours` and `theirs`, two copies of one incident, against `base`,
/// the copy both grew from (`None` when both sides created the record).
pub fn merge_incident(
    base: Option<&Incident>,
    ours: &Incident,
    theirs: &Incident,
) -> Result<Merged, MergeError> {
    let unchanged = |incident: &Incident| Merged {
        incident: incident.clone(),
        conflicts: Vec::new(),
        renumbered: Vec::new(),
    };
    if ours == theirs || base == Some(theirs) {
        return Ok(unchanged(ours));
    }
    if base == Some(ours) {
        return Ok(unchanged(theirs));
    }
    let top = ours.revision.max(theirs.revision);
    // A record's text holds a revision as a TOML integer (at most i64::MAX).
    let Some(revision) = top.checked_add(1).filter(|r| i64::try_from(*r).is_ok()) else {
        return Err(MergeError::RevisionOverflow(top));
    };
    if ours.id != theirs.id {
        return Err(MergeError::DifferentIncidents {
            ours: ours.id.clone(),
            theirs: theirs.id.clone(),
        });
    }
    let upgraded = |incident: &Incident| {
        let mut copy = incident.clone();
        copy.upgrade();
        copy
    };
    let base = base.map(upgraded);
    let (mut ours, mut theirs) = (upgraded(ours), upgraded(theirs));
    let renumbered = renumber(base.as_ref(), &mut ours, &mut theirs);
    let form = |incident: Option<&Incident>| -> Result<Value, MergeError> {
        let Some(incident) = incident else {
            return Ok(Value::Null);
        };
        let mut value =
            serde_json::to_value(incident).map_err(|e| MergeError::Invalid(e.to_string()))?;
        if let Some(map) = value.as_object_mut() {
            // Set after the merge, never a conflict.
            map.insert("revision".into(), Value::from(0));
            map.insert("schema_version".into(), Value::from(SCHEMA_VERSION));
        }
        Ok(value)
    };
    let (b, o, t) = (
        form(base.as_ref())?,
        form(Some(&ours))?,
        form(Some(&theirs))?,
    );
    let winner = match last_instant(&ours)
        .cmp(&last_instant(&theirs))
        .then_with(|| o.to_string().cmp(&t.to_string()))
    {
        Ordering::Less => Winner::Theirs,
        Ordering::Greater | Ordering::Equal => Winner::Ours,
    };
    let mut conflicts = Vec::new();
    let merged = value::merge("", &b, &o, &t, winner, &mut conflicts);
    let mut incident: Incident =
        serde_json::from_value(merged).map_err(|e| MergeError::Invalid(e.to_string()))?;
    incident.revision = revision;
    incident.schema_version = SCHEMA_VERSION;
    incident.upgrade();
    let at = last_instant(&ours)
        .max(last_instant(&theirs))
        .unwrap_or(ours.logged_at.max(theirs.logged_at));
    for r in &renumbered {
        incident.log(
            at,
            MERGE_AUTHOR,
            EntryKind::Conflict,
            format!(
                "Merged copies of this record both had a {} {}: the one made later (uid {}) is now {}",
                r.what, r.from, r.uid, r.to
            ),
        );
    }
    for c in &conflicts {
        incident.log(
            at,
            MERGE_AUTHOR,
            EntryKind::Conflict,
            format!(
                "Merged copies of this record changed {} differently: kept \"{}\"; the other value was \"{}\"",
                c.field, c.kept, c.other
            ),
        );
    }
    Ok(Merged {
        incident,
        conflicts,
        renumbered,
    })
}

/// The latest timeline instant of a copy: when it was last worked on.
fn last_instant(incident: &Incident) -> Option<DateTime<Utc>> {
    incident.timeline.iter().map(|e| e.at).max()
}

/// An entry with a visible sequential id (`R3`).
trait Visible {
    const WHAT: &'static str;
    const PREFIX: &'static str;
    fn uid(&self) -> &str;
    fn visible(&self) -> &str;
    fn set_visible(&mut self, id: String);
    fn made(&self) -> DateTime<Utc>;
}

macro_rules! visible {
    ($ty:ty, $what:literal, $prefix:literal, $made:ident) => {
        impl Visible for $ty {
            const WHAT: &'static str = $what;
            const PREFIX: &'static str = $prefix;
            fn uid(&self) -> &str {
                &self.uid
            }
            fn visible(&self) -> &str {
                &self.id
            }
            fn set_visible(&mut self, id: String) {
                self.id = id;
            }
            fn made(&self) -> DateTime<Utc> {
                self.$made
            }
        }
    };
}
visible!(DataRequest, "data request", "R", received_at);
visible!(OtherNotice, "notice", "G", recorded_at);
visible!(SecurityTest, "Security Test", "T", recorded_at);

/// Gives a new visible id to every entry that shares one with a different
/// entry (by uid) of the other copy, rewriting references in its copy.
fn renumber(
    base: Option<&Incident>,
    ours: &mut Incident,
    theirs: &mut Incident,
) -> Vec<Renumbered> {
    let mut out = Vec::new();
    let requests = collisions(
        base.map(|b| b.data_requests.as_slice()),
        &ours.data_requests,
        &theirs.data_requests,
    );
    for r in requests {
        for side in [&mut *ours, &mut *theirs] {
            if let Some(request) = side.data_requests.iter_mut().find(|e| e.uid == r.uid) {
                request.id = r.to.clone();
                for notice in &mut side.notices {
                    if notice.request_id.as_deref() == Some(r.from.as_str()) {
                        notice.request_id = Some(r.to.clone());
                    }
                }
            }
        }
        out.push(r);
    }
    let notices = collisions(
        base.map(|b| b.other_notices.as_slice()),
        &ours.other_notices,
        &theirs.other_notices,
    );
    for r in notices {
        for side in [&mut *ours, &mut *theirs] {
            if let Some(notice) = side.other_notices.iter_mut().find(|e| e.uid == r.uid) {
                notice.set_visible(r.to.clone());
            }
        }
        out.push(r);
    }
    let tests = collisions(
        base.map(|b| b.security_tests.as_slice()),
        &ours.security_tests,
        &theirs.security_tests,
    );
    for r in tests {
        for side in [&mut *ours, &mut *theirs] {
            if !side.security_tests.iter().any(|e| e.uid == r.uid) {
                continue;
            }
            let (old_words, new_words) = (
                format!("Security Test {}", r.from),
                format!("Security Test {}", r.to),
            );
            for test in &mut side.security_tests {
                if test.uid == r.uid {
                    test.id = r.to.clone();
                }
                if test.repeats.as_deref() == Some(r.from.as_str()) {
                    test.repeats = Some(r.to.clone());
                }
                for finding in &mut test.findings {
                    if finding.same_root_cause_as.as_deref() == Some(old_words.as_str()) {
                        finding.same_root_cause_as = Some(new_words.clone());
                    }
                }
            }
        }
        out.push(r);
    }
    out
}

/// The renumberings one list needs: for each visible id held by more than
/// one entry (by uid) across the copies, every entry but the first (a base
/// entry first, then by when made, then uid) gets the next free number.
fn collisions<E: Visible>(base: Option<&[E]>, ours: &[E], theirs: &[E]) -> Vec<Renumbered> {
    let base = base.unwrap_or(&[]);
    // uid -> (visible id, in base, made)
    let mut entries: BTreeMap<&str, (&str, bool, DateTime<Utc>)> = BTreeMap::new();
    for (list, in_base) in [(base, true), (ours, false), (theirs, false)] {
        for e in list {
            entries
                .entry(e.uid())
                .or_insert((e.visible(), in_base, e.made()));
        }
    }
    let number = |id: &str| id.strip_prefix(E::PREFIX)?.parse::<u64>().ok();
    let mut next = entries
        .values()
        .filter_map(|(id, _, _)| number(id))
        .max()
        .unwrap_or(0)
        + 1;
    // visible id -> (made on a side, when made, uid) of each holder
    type Holder<'a> = (bool, DateTime<Utc>, &'a str);
    let mut by_id: BTreeMap<&str, Vec<Holder>> = BTreeMap::new();
    for (uid, (id, in_base, made)) in &entries {
        by_id.entry(id).or_default().push((!in_base, *made, uid));
    }
    let mut out = Vec::new();
    for (id, mut holders) in by_id {
        holders.sort();
        for (_, _, uid) in holders.into_iter().skip(1) {
            out.push(Renumbered {
                what: E::WHAT,
                uid: uid.to_string(),
                from: id.to_string(),
                to: format!("{}{next}", E::PREFIX),
            });
            next += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests;
