//! The field-by-field three-way merge of two copies of a record, on their
//! serde form (a tree of tables, lists and values), so every field of the
//! record, and every field added later, is merged by the same rules:
//!
//! * a value equal on both sides, or changed on one side only, takes that value;
//! * two tables changed on both sides merge key by key;
//! * two lists changed on both sides are a union: entries that are tables
//!   with a `uid` are keyed by it, steps (tables with an `id`) by their id,
//!   anything else (assets, responders, prevention actions) by its value.
//!   An entry in both merges field by field against the base's entry; an
//!   entry on one side only is kept; an entry missing from one side is kept
//!   (the lists are append-only: nothing removes an entry);
//! * any other value changed differently on both sides is a conflict: the
//!   winning side's value is kept (see `super::Side`) and the other is
//!   reported, in full, as a [`FieldConflict`].

use super::FieldConflict;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Which side's value a conflict keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Winner {
    Ours,
    Theirs,
}

/// Merges `ours` and `theirs` against `base` (`Null` where absent).
pub(super) fn merge(
    path: &str,
    base: &Value,
    ours: &Value,
    theirs: &Value,
    winner: Winner,
    conflicts: &mut Vec<FieldConflict>,
) -> Value {
    if ours == theirs || base == theirs {
        return ours.clone();
    }
    if base == ours {
        return theirs.clone();
    }
    match (ours, theirs) {
        (Value::Object(o), Value::Object(t)) => {
            let empty = Map::new();
            let b = base.as_object().unwrap_or(&empty);
            let keys: BTreeSet<&String> = o.keys().chain(t.keys()).collect();
            let mut out = Map::new();
            for key in keys {
                let field = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let merged = merge(
                    &field,
                    b.get(key).unwrap_or(&Value::Null),
                    o.get(key).unwrap_or(&Value::Null),
                    t.get(key).unwrap_or(&Value::Null),
                    winner,
                    conflicts,
                );
                if !merged.is_null() {
                    out.insert(key.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (Value::Array(o), Value::Array(t)) => {
            let b = base.as_array().map(Vec::as_slice).unwrap_or(&[]);
            Value::Array(merge_list(path, b, o, t, winner, conflicts))
        }
        // A list on one side and nothing on the other: the list (entries
        // are never removed).
        (Value::Array(_), Value::Null) => ours.clone(),
        (Value::Null, Value::Array(_)) => theirs.clone(),
        _ => {
            let (kept, other) = match winner {
                Winner::Ours => (ours, theirs),
                Winner::Theirs => (theirs, ours),
            };
            conflicts.push(FieldConflict {
                field: path.to_string(),
                kept: words(kept),
                other: words(other),
            });
            kept.clone()
        }
    }
}

/// A value in words for a conflict entry: text as it is, nothing as
/// "(none)", anything else as compact JSON.
pub(super) fn words(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".to_string(),
        other => other.to_string(),
    }
}

/// What identifies an entry of a list, and how it reads in a field path.
fn key_of(entry: &Value) -> String {
    match entry {
        Value::Object(map) => match (map.get("uid"), map.get("id")) {
            (Some(Value::String(uid)), _) => format!("uid:{uid}"),
            (_, Some(Value::String(id))) => format!("id:{id}"),
            _ => format!("value:{entry}"),
        },
        other => format!("value:{other}"),
    }
}

/// The entry's name in a field path: its visible id, else its uid, else its value.
fn label(entry: &Value) -> String {
    match entry {
        Value::Object(map) => match (map.get("id"), map.get("uid")) {
            (Some(Value::String(id)), _) => id.clone(),
            (_, Some(Value::String(uid))) => uid.clone(),
            _ => entry.to_string(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The instant an entry was made, when it has one of the usual fields.
fn made_at(entry: &Value) -> Option<DateTime<Utc>> {
    let map = entry.as_object()?;
    [
        "at",
        "added_at",
        "received_at",
        "recorded_at",
        "queued_at",
        "linked_at",
    ]
    .iter()
    .find_map(|k| map.get(*k)?.as_str()?.parse::<DateTime<Utc>>().ok())
}

/// Orders two new entries of one place in the list: by when made, then by key.
fn order_key(entry: &Value) -> (Option<DateTime<Utc>>, String) {
    (made_at(entry), key_of(entry))
}

/// The union of two lists that both changed. Base entries keep the base's
/// order; entries new on a side follow the entry they followed on that
/// side; where both sides added entries at one place, they are interleaved
/// by when they were made (then by key), which does not depend on which
/// side is which.
fn merge_list(
    path: &str,
    base: &[Value],
    ours: &[Value],
    theirs: &[Value],
    winner: Winner,
    conflicts: &mut Vec<FieldConflict>,
) -> Vec<Value> {
    let index = |list: &[Value]| -> HashMap<String, Value> {
        let mut map = HashMap::with_capacity(list.len());
        for entry in list {
            map.entry(key_of(entry)).or_insert_with(|| entry.clone());
        }
        map
    };
    let (b, o, t) = (index(base), index(ours), index(theirs));
    // Entries new on one side, grouped by the base entry they follow (None: the start).
    let groups = |list: &[Value]| -> HashMap<Option<String>, Vec<String>> {
        let mut out: HashMap<Option<String>, Vec<String>> = HashMap::new();
        let mut anchor = None;
        for entry in list {
            let key = key_of(entry);
            if b.contains_key(&key) {
                anchor = Some(key);
            } else {
                out.entry(anchor.clone()).or_default().push(key);
            }
        }
        out
    };
    let (og, tg) = (groups(ours), groups(theirs));
    let mut order: Vec<String> = Vec::with_capacity(o.len() + t.len());
    let mut placed: HashSet<String> = HashSet::new();
    let mut anchors: Vec<Option<String>> = vec![None];
    let mut seen = HashSet::new();
    for entry in base {
        let key = key_of(entry);
        if seen.insert(key.clone()) {
            anchors.push(Some(key));
        }
    }
    let value_of = |key: &String| o.get(key).or_else(|| t.get(key));
    for anchor in anchors {
        if let Some(key) = &anchor
            && placed.insert(key.clone())
        {
            order.push(key.clone());
        }
        let empty = Vec::new();
        let (mut a, mut c) = (
            og.get(&anchor).unwrap_or(&empty).iter().peekable(),
            tg.get(&anchor).unwrap_or(&empty).iter().peekable(),
        );
        loop {
            // An entry both sides added is placed once, where first met.
            while a.peek().is_some_and(|k| placed.contains(*k)) {
                a.next();
            }
            while c.peek().is_some_and(|k| placed.contains(*k)) {
                c.next();
            }
            let next = match (a.peek(), c.peek()) {
                (None, None) => break,
                (Some(_), None) => a.next(),
                (None, Some(_)) => c.next(),
                (Some(x), Some(y)) => {
                    let (kx, ky) = (value_of(x).map(order_key), value_of(y).map(order_key));
                    if kx <= ky { a.next() } else { c.next() }
                }
            };
            if let Some(key) = next
                && placed.insert(key.clone())
            {
                order.push(key.clone());
            }
        }
    }
    order
        .into_iter()
        .map(|key| {
            let base_entry = b.get(&key);
            let (ours_entry, theirs_entry) = (o.get(&key), t.get(&key));
            match (ours_entry, theirs_entry) {
                (Some(x), Some(y)) => {
                    let field = format!("{path}[{}]", label(x));
                    merge(
                        &field,
                        base_entry.unwrap_or(&Value::Null),
                        x,
                        y,
                        winner,
                        conflicts,
                    )
                }
                // On one side only (new there, or kept though missing from the other).
                (Some(x), None) | (None, Some(x)) => x.clone(),
                (None, None) => base_entry.cloned().unwrap_or(Value::Null),
            }
        })
        .collect()
}
