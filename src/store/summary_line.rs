//! The summary line: the first line of every record the store writes, a
//! TOML comment holding the record's board summary, so that a cold start
//! (no index) reads a few hundred bytes of JSON per record instead of
//! parsing the whole TOML.
//!
//! ```text
//! # breachdesk-summary v7.2 0123456789abcdef {"id":"INC-...",...}
//! schema_version = 1
//! ...
//! ```
//!
//! * `v7.2`: the index format and record schema versions it was written
//!   under (a summary from another version is not used);
//! * the 16 hex digits: the XXH3 (64-bit) hash of every byte after the
//!   space that follows them, the JSON and the whole TOML below it, so a
//!   hand edit anywhere in the record, or of the line itself, is noticed;
//! * the compact JSON of [`IncidentSummary`], which never contains a line
//!   break (serde_json escapes them) nor any other control character (DEL
//!   and U+0080 to U+009F, which serde_json leaves raw, are escaped here).
//!
//! TOML ignores comments, so every reader of the record (`toml::from_str`,
//! an editor, `audit verify`'s SHA-256 of the whole file) is unaffected.
//! The line is a cache, never the truth: when it is missing (a record
//! written before it existed), from another version, names another id, or
//! its hash does not match, the record is parsed as before. The hash finds
//! accidental and hand edits; it is not a signature (whoever can edit a
//! record can rewrite the line too, as they could the record itself; the
//! audit log's SHA-256 of each saved record is what detects that).

use super::index_format::INDEX_VERSION;
use crate::domain::incident::{Incident, SCHEMA_VERSION};
use crate::domain::summary::IncidentSummary;
use xxhash_rust::xxh3::xxh3_64;

const TAG: &str = "# breachdesk-summary ";

/// `v7.2 `: the versions this build writes and trusts.
fn versions() -> String {
    format!("v{INDEX_VERSION}.{SCHEMA_VERSION} ")
}

/// A record's bytes as the store writes them: the summary line, then the
/// TOML of `incident`.
pub(crate) fn record_text(incident: &Incident) -> Result<String, String> {
    let toml = toml::to_string(incident).map_err(|e| e.to_string())?;
    let json = escape_controls(
        serde_json::to_string(&IncidentSummary::of(incident)).map_err(|e| e.to_string())?,
    );
    let mut covered = String::with_capacity(json.len() + 1 + toml.len());
    covered.push_str(&json);
    covered.push('\n');
    covered.push_str(&toml);
    let hash = xxh3_64(covered.as_bytes());
    Ok(format!("{TAG}{}{hash:016x} {covered}", versions()))
}

/// serde_json escapes U+0000 to U+001F but leaves DEL (which a TOML comment
/// may not hold) and the C1 controls U+0080 to U+009F (which some terminals
/// obey, should anyone `cat` a record) raw: escape those too. They can only
/// occur inside a JSON string, where `\uXXXX` means the same character.
fn escape_controls(json: String) -> String {
    let raw = |c: char| ('\u{7f}'..='\u{9f}').contains(&c);
    if !json.contains(raw) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// The summary the record's first line holds, when that line is present,
/// of this version, for `expected_id`, and its hash matches the rest of the
/// file; `None` otherwise (parse the record instead).
pub(crate) fn summary_from_line(bytes: &[u8], expected_id: &str) -> Option<IncidentSummary> {
    let rest = bytes.strip_prefix(TAG.as_bytes())?;
    let rest = rest.strip_prefix(versions().as_bytes())?;
    let (hex, covered) = (rest.get(..16)?, rest.get(17..)?);
    if rest.get(16) != Some(&b' ') {
        return None;
    }
    let wanted = u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
    if xxh3_64(covered) != wanted {
        return None;
    }
    let end = covered.iter().position(|&b| b == b'\n')?;
    let summary: IncidentSummary = serde_json::from_slice(&covered[..end]).ok()?;
    (summary.id == expected_id).then_some(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_from_another_version_or_with_a_bad_hash_is_not_used() {
        use crate::domain::incident::{BreachKind, NewIncident, PartyRole, Severity};
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-28T14:00:00Z")
            .expect("instant")
            .to_utc();
        let fields = NewIncident {
            title: "Lost laptop \u{7f}\u{9b} \"quoted\" # not a comment".into(),
            summary: "line one\nline two".into(),
            kind: BreachKind::Breach,
            severity: Severity::High,
            personal_data: true,
            government_data: false,
            affected_assets: vec!["laptop".into()],
            identified_at: at,
        };
        let incident = Incident::new(
            "INC-1".into(),
            fields,
            "alice",
            PartyRole::ServiceProvider,
            at,
        )
        .expect("incident");
        let text = record_text(&incident).expect("text");
        let line = text.lines().next().expect("line");
        assert!(!line.contains(char::is_control), "{line}");
        assert!(line.contains("\\u007f"), "{line}");
        assert_eq!(
            summary_from_line(text.as_bytes(), &incident.id),
            Some(IncidentSummary::of(&incident))
        );
        assert!(summary_from_line(text.as_bytes(), "INC-other").is_none());
        let other_version = text.replacen(&versions(), "v0.1 ", 1);
        assert!(summary_from_line(other_version.as_bytes(), &incident.id).is_none());
        // One hex digit of the hash changed.
        let at = TAG.len() + versions().len();
        let mut bytes = text.clone().into_bytes();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        assert!(summary_from_line(&bytes, &incident.id).is_none());
        // The hex digits in upper case are the same number: still used.
        let mut upper = text.into_bytes();
        upper[at..at + 16].make_ascii_uppercase();
        assert!(summary_from_line(&upper, &incident.id).is_some());
    }
}
