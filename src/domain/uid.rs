//! Stable ids for the entries of an incident's lists (timeline entries,
//! requests, notices, evidence, steps' notes, role assignments, handovers),
//! so two copies of a record that grew apart can be merged entry by entry.
//!
//! An id is derived from the fields that fix an entry's identity when it is
//! made (who, when, what), never from fields that change later, so every
//! machine derives the same id for the same entry, including when it
//! migrates a record written before ids existed. It stays pure: no clock,
//! no randomness.

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

#[cfg(test)]
mod tests {
    use super::entry_uid;

    #[test]
    fn same_inputs_same_id_and_parts_never_run_together() {
        let a = entry_uid("timeline", &["2026-11-28T01:00:00Z", "alice", "text"]);
        assert_eq!(a, entry_uid("timeline", &["2026-11-28T01:00:00Z", "alice", "text"]));
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(entry_uid("t", &["ab", "c"]), entry_uid("t", &["a", "bc"]));
        assert_ne!(entry_uid("timeline", &["x"]), entry_uid("evidence", &["x"]));
    }
}
