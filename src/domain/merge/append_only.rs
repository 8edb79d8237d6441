//! The append-only rule a synced record must keep: **a newer copy keeps
//! every entry of the older one, unchanged**. An entry is a table with a
//! `uid` in any of the record's lists (timeline, data requests and their
//! attachments, notices, evidence, step notes and evidence, Security Tests
//! and their findings, repeat links, assignments, handovers, and any list
//! added later), found by walking the record's serde form.
//!
//! "Unchanged" means every field the older entry had set is still there
//! with the same value, except the fields that record an entry's progress
//! (a request's `status` and supply, a notice's delivery `state`), which a
//! later revision rightly changes, and the visible ids and references a
//! merge may renumber (`id`, `request_id`, `repeats`, `same_root_cause_as`).
//! A field the older entry left empty may be filled in (an acknowledged
//! handover). The record's own fields (title, status, details) are not
//! entries: a later revision may change them. Pure.

use crate::domain::incident::Incident;
use serde_json::Value;

/// Fields of an entry a later revision may change (see the module text).
const MAY_CHANGE: &[&str] = &[
    "id",
    "request_id",
    "repeats",
    "same_root_cause_as",
    "status",
    "state",
    "attempts",
    "server_reply",
    "again_reason",
    "cancel_reason",
    "accepted_at",
    "supplied_at",
    "supplied_how",
    "reference",
    "due_at",
    "no_charge",
    "deliver_to",
    "ended",
];

/// An entry of the older copy the newer one lost or rewrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostEntry {
    /// The list, as the record names it (`timeline`, `data_requests`,
    /// `steps[8.1-notify].notes`).
    pub list: String,
    pub uid: String,
    /// When the entry was made and what it says, as far as it says
    /// (`at`/`added_at`/..., and `text`/`note`/`what`/...), for the message.
    pub when: Option<String>,
    pub text: Option<String>,
    /// `None`: removed; `Some(field)`: that field was changed or emptied.
    pub changed: Option<String>,
}

impl std::fmt::Display for LostEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = match self.list.as_str() {
            "timeline" => "timeline".to_string(),
            other => other.to_string(),
        };
        write!(f, "{list} entry {}", self.uid)?;
        let mut about: Vec<String> = Vec::new();
        if let Some(when) = &self.when {
            about.push(when.clone());
        }
        if let Some(text) = &self.text {
            let short: String = text.chars().take(60).collect();
            let more = if short.len() < text.len() { "…" } else { "" };
            about.push(format!("\"{short}{more}\""));
        }
        if !about.is_empty() {
            write!(f, " ({})", about.join(", "))?;
        }
        match &self.changed {
            None => write!(f, " was removed"),
            Some(field) => write!(f, " was changed ({field})"),
        }
    }
}

/// Whether `newer` keeps every entry of `older` unchanged (see the module
/// text); the first entry it lost or rewrote when not. Both are compared in
/// their current form (an older record's entries get their derived uids
/// first, as every machine derives them alike).
pub fn keeps_entries(older: &Incident, newer: &Incident) -> Result<(), LostEntry> {
    let form = |incident: &Incident| {
        let mut copy = incident.clone();
        copy.upgrade();
        serde_json::to_value(&copy).unwrap_or(Value::Null)
    };
    walk("", &form(older), &form(newer))
}

/// Checks every list of entries under `older` against `newer`.
fn walk(path: &str, older: &Value, newer: &Value) -> Result<(), LostEntry> {
    match older {
        Value::Object(map) => {
            for (key, value) in map {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(&child, value, newer.get(key).unwrap_or(&Value::Null))?;
            }
            Ok(())
        }
        Value::Array(items) => {
            let empty = Vec::new();
            let newer_items = newer.as_array().unwrap_or(&empty);
            for item in items {
                if let Some(uid) = item.get("uid").and_then(Value::as_str) {
                    let found = newer_items
                        .iter()
                        .find(|n| n.get("uid").and_then(Value::as_str) == Some(uid));
                    match found {
                        None => return Err(lost(path, item, uid, None)),
                        Some(n) => same_entry(path, item, uid, n)?,
                    }
                } else if let Some(id) = item.get("id").and_then(Value::as_str) {
                    // Steps: keyed by their id; their notes and evidence
                    // are entries.
                    let found = newer_items
                        .iter()
                        .find(|n| n.get("id").and_then(Value::as_str) == Some(id));
                    walk(
                        &format!("{path}[{id}]"),
                        item,
                        found.unwrap_or(&Value::Null),
                    )?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The older entry `o` against its newer copy `n` (same uid).
fn same_entry(path: &str, o: &Value, uid: &str, n: &Value) -> Result<(), LostEntry> {
    let Some(fields) = o.as_object() else {
        return Ok(());
    };
    for (key, value) in fields {
        let theirs = n.get(key).unwrap_or(&Value::Null);
        if value.is_array() {
            walk(&format!("{path}[{uid}].{key}"), value, theirs)?;
            continue;
        }
        if value.is_null() || MAY_CHANGE.contains(&key.as_str()) || value == theirs {
            continue;
        }
        return Err(lost(path, o, uid, Some(key.clone())));
    }
    Ok(())
}

fn lost(path: &str, entry: &Value, uid: &str, changed: Option<String>) -> LostEntry {
    let pick = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| entry.get(*k).and_then(Value::as_str))
            .map(crate::text::one_line)
    };
    LostEntry {
        list: path.to_string(),
        uid: uid.to_string(),
        when: pick(&[
            "at",
            "added_at",
            "received_at",
            "recorded_at",
            "queued_at",
            "linked_at",
        ]),
        text: pick(&["text", "note", "what", "summary", "subject", "description"]),
        changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::{BreachKind, EntryKind, NewIncident, PartyRole, Severity};
    use chrono::{DateTime, Duration, Utc};

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-10T09:00:00Z")
            .expect("instant")
            .to_utc()
    }

    fn record() -> Incident {
        let fields = NewIncident {
            title: "Phishing".into(),
            summary: String::new(),
            kind: BreachKind::Potential,
            severity: Severity::Medium,
            personal_data: false,
            government_data: false,
            affected_assets: Vec::new(),
            identified_at: t0(),
        };
        let mut i = Incident::new(
            "INC-1".into(),
            fields,
            "carol",
            PartyRole::ServiceProvider,
            t0(),
        )
        .expect("incident");
        i.log(
            t0() + Duration::minutes(1),
            "carol",
            EntryKind::Change,
            "first",
        );
        i.log(
            t0() + Duration::minutes(2),
            "carol",
            EntryKind::Change,
            "second",
        );
        i
    }

    #[test]
    fn a_newer_copy_with_more_entries_and_new_fields_keeps_the_older() {
        let older = record();
        let mut newer = older.clone();
        newer.log(
            t0() + Duration::minutes(3),
            "bob",
            EntryKind::Change,
            "third",
        );
        newer.title = "Phishing, contained".into();
        newer.revision += 3;
        assert_eq!(keeps_entries(&older, &newer), Ok(()));
        assert_eq!(keeps_entries(&older, &older), Ok(()));
    }

    #[test]
    fn a_removed_timeline_entry_is_named_with_when_and_what() {
        let older = record();
        let mut newer = older.clone();
        let gone = newer.timeline.remove(1);
        let lost = keeps_entries(&older, &newer).expect_err("refused");
        assert_eq!(lost.list, "timeline");
        assert_eq!(lost.uid, gone.uid);
        assert_eq!(lost.changed, None);
        let said = lost.to_string();
        assert!(
            said.starts_with(&format!("timeline entry {} (", gone.uid)),
            "{said}"
        );
        assert!(
            said.contains("\"first\"") || said.contains("\"second\""),
            "{said}"
        );
        assert!(said.ends_with("was removed"), "{said}");
    }

    #[test]
    fn a_rewritten_entry_text_is_refused_naming_the_field() {
        let older = record();
        let mut newer = older.clone();
        newer.timeline[1].text = "nothing happened".into();
        let lost = keeps_entries(&older, &newer).expect_err("refused");
        assert_eq!(lost.changed.as_deref(), Some("text"));
        assert!(lost.to_string().ends_with("was changed (text)"), "{lost}");
        let mut moved = older.clone();
        moved.timeline[1].at += Duration::minutes(5);
        assert_eq!(
            keeps_entries(&older, &moved)
                .expect_err("refused")
                .changed
                .as_deref(),
            Some("at")
        );
    }

    #[test]
    fn a_new_record_or_an_emptied_list_is_checked_entry_by_entry() {
        let older = record();
        let mut newer = older.clone();
        newer.timeline.clear();
        assert!(keeps_entries(&older, &newer).is_err());
    }
}
