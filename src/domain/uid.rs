//! Stable ids for the entries of an incident's lists (timeline entries,
//! requests, notices, evidence, steps' notes, role assignments, handovers),
//! so two copies of a record that grew apart can be merged entry by entry.
//!
//! An id is derived from the fields that fix an entry's identity when it is
//! made (who, when, what), never from fields that change later, so every
//! machine derives the same id for the same entry, including when it
//! migrates a record written before ids existed. It stays pure: no clock,
//! no randomness.
//!
//! Two entries of one list with the same identity (the same note typed twice
//! in the same instant) still get different ids: the second derives its id
//! with its occurrence number added (`#2`), as every machine does alike.

use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::HashSet;
use xxhash_rust::xxh3::xxh3_64;

/// 16 lower-case hex digits naming one entry of one list: the XXH3-64 of
/// `list` and `parts`, each length-prefixed so no two inputs run together.
pub fn entry_uid(list: &str, parts: &[&str]) -> String {
    let mut bytes = Vec::with_capacity(64);
    for part in std::iter::once(&list).chain(parts.iter()) {
        bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
        bytes.extend_from_slice(part.as_bytes());
    }
    format!("{:016x}", xxh3_64(&bytes))
}

/// An instant as identity text: RFC 3339 in UTC, with as many fractional
/// digits as it has (the same text the record holds).
pub fn instant(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// An entry of one of the record's lists: it has a `uid`, and knows the
/// fields fixed when it was made.
pub trait Entry {
    /// The list's name in ids (`timeline`, `evidence`, ...).
    const LIST: &'static str;
    /// Its id (empty in a record written before ids existed).
    fn uid(&self) -> &str;
    fn set_uid(&mut self, uid: String);
    /// The fields fixed when it was made, as text.
    fn identity(&self) -> Vec<String>;
}

/// The id `entry` gets in a list where `taken` ids are already used: its
/// identity's id, or, when that is taken, the same with `#2`, `#3`... added.
fn fresh_uid<E: Entry>(entry: &E, taken: &HashSet<String>) -> String {
    let identity = entry.identity();
    let parts: Vec<&str> = identity.iter().map(String::as_str).collect();
    let uid = entry_uid(E::LIST, &parts);
    if !taken.contains(&uid) {
        return uid;
    }
    for n in 2u64.. {
        let occurrence = format!("#{n}");
        let mut numbered = parts.clone();
        numbered.push(&occurrence);
        let uid = entry_uid(E::LIST, &numbered);
        if !taken.contains(&uid) {
            return uid;
        }
    }
    unreachable!("a free occurrence number exists")
}

/// Appends `entry` to `list`, giving it its id first (unless it has one).
pub fn push<E: Entry>(list: &mut Vec<E>, mut entry: E) {
    if entry.uid().is_empty() || list.iter().any(|e| e.uid() == entry.uid()) {
        let taken: HashSet<String> = list.iter().map(|e| e.uid().to_string()).collect();
        entry.set_uid(fresh_uid(&entry, &taken));
    }
    list.push(entry);
}

/// Gives every entry of `list` without an id (or with one an earlier entry
/// already has) its derived id, in list order: deterministic, so every
/// machine migrates the same old list to the same ids.
pub fn fill<E: Entry>(list: &mut [E]) {
    let mut taken = HashSet::with_capacity(list.len());
    let mut missing = false;
    for entry in list.iter() {
        if entry.uid().is_empty() || !taken.insert(entry.uid().to_string()) {
            missing = true;
        }
    }
    if !missing {
        return;
    }
    taken.clear();
    // Ids already held by the first entry that has them stay.
    let mut keep = vec![false; list.len()];
    for (i, entry) in list.iter().enumerate() {
        keep[i] = !entry.uid().is_empty() && taken.insert(entry.uid().to_string());
    }
    for (i, entry) in list.iter_mut().enumerate() {
        if !keep[i] {
            let uid = fresh_uid(entry, &taken);
            taken.insert(uid.clone());
            entry.set_uid(uid);
        }
    }
}

/// Implements [`Entry`] for a struct with a `uid: String` field.
macro_rules! entry {
    ($ty:ty, $list:literal, |$e:ident| $identity:expr) => {
        impl $crate::domain::uid::Entry for $ty {
            const LIST: &'static str = $list;
            fn uid(&self) -> &str {
                &self.uid
            }
            fn set_uid(&mut self, uid: String) {
                self.uid = uid;
            }
            fn identity(&self) -> Vec<String> {
                let $e = self;
                $identity
            }
        }
    };
}
pub(crate) use entry;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_id_and_parts_never_run_together() {
        let a = entry_uid("timeline", &["2026-11-28T01:00:00Z", "alice", "text"]);
        assert_eq!(
            a,
            entry_uid("timeline", &["2026-11-28T01:00:00Z", "alice", "text"])
        );
        assert_eq!(a.len(), 16);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(entry_uid("t", &["ab", "c"]), entry_uid("t", &["a", "bc"]));
        assert_ne!(entry_uid("timeline", &["x"]), entry_uid("evidence", &["x"]));
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Line {
        uid: String,
        text: String,
    }
    entry!(Line, "line", |e| vec![e.text.clone()]);

    fn line(text: &str) -> Line {
        Line {
            uid: String::new(),
            text: text.into(),
        }
    }

    #[test]
    fn twins_get_different_ids_and_filling_is_deterministic() {
        let mut list = vec![line("a"), line("b"), line("a")];
        fill(&mut list);
        assert_eq!(list[0].uid, entry_uid("line", &["a"]));
        assert_eq!(list[2].uid, entry_uid("line", &["a", "#2"]));
        let mut again = vec![line("a"), line("b"), line("a")];
        fill(&mut again);
        assert_eq!(list, again);
        // A pushed twin gets the next occurrence number; a filled list keeps its ids.
        push(&mut list, line("a"));
        assert_eq!(list[3].uid, entry_uid("line", &["a", "#3"]));
        let before = list.clone();
        fill(&mut list);
        assert_eq!(list, before);
        // A duplicated id (a hand edit) is given a fresh one; the first keeps it.
        list[1].uid = list[0].uid.clone();
        fill(&mut list);
        assert_eq!(list[0].uid, before[0].uid);
        assert_eq!(list[1].uid, before[1].uid);
    }
}
