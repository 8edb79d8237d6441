//! The log's format: one JSON object per line, the hash that chains them,
//! the prune marker, and checking a whole text (I/O free).

use super::*;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEntry {
    pub(super) seq: u64,
    pub(super) at: String,
    pub(super) actor: String,
    #[serde(default)]
    pub(super) incident: Option<String>,
    pub(super) action: String,
    pub(super) detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) revision: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) record_sha256: Option<String>,
    pub(super) prev: String,
    pub(super) hash: String,
    /// The base64 SSHSIG of `hash` (see `signing`); not covered by the hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sig: Option<String>,
}

/// The fields the hash covers, in a fixed order. The optional fields are left
/// out when absent, so entries from the first format keep their hashes.
#[derive(Serialize)]
pub(super) struct Hashed<'a> {
    seq: u64,
    at: &'a str,
    actor: &'a str,
    incident: Option<&'a str>,
    action: &'a str,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    record_sha256: Option<&'a str>,
    prev: &'a str,
}

impl RawEntry {
    pub(super) fn compute_hash(&self) -> String {
        let hashed = Hashed {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            incident: self.incident.as_deref(),
            action: &self.action,
            detail: &self.detail,
            revision: self.revision,
            record_sha256: self.record_sha256.as_deref(),
            prev: &self.prev,
        };
        // Serialising plain strings and integers to JSON cannot fail.
        let json = serde_json::to_vec(&hashed).unwrap_or_default();
        hex::encode(Sha256::digest(&json))
    }

    /// The entry, as found in chain `chain`.
    pub(super) fn into_entry(self, chain: &str) -> Result<AuditEntry, String> {
        let at = DateTime::parse_from_rfc3339(&self.at)
            .map_err(|e| format!("'at' is not an RFC 3339 time: {e}"))?
            .with_timezone(&Utc);
        Ok(AuditEntry {
            chain: chain.to_string(),
            seq: self.seq,
            at,
            actor: self.actor,
            incident: self.incident,
            action: self.action,
            detail: self.detail,
            revision: self.revision,
            record_sha256: self.record_sha256,
            prev: self.prev,
            hash: self.hash,
            signed: self.sig.is_some(),
        })
    }

    pub(super) fn line(&self) -> String {
        // Plain strings and integers: serialising cannot fail.
        let mut line = serde_json::to_string(self).unwrap_or_default();
        line.push('\n');
        line
    }
}

/// The prune marker, the first line of a pruned log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ChainMarker {
    /// The hash of the last pruned entry (what the first kept entry's `prev` is).
    pub(super) anchor: String,
    /// The seq of the last pruned entry.
    pub(super) anchor_seq: u64,
    /// How many entries have been pruned, in total.
    pub(super) pruned: u64,
    /// Entries before this time were pruned (most recent prune).
    pub(super) pruned_until: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MarkerLine {
    pub(super) chain: ChainMarker,
}

/// One line of the log, parsed.
pub(super) enum Line {
    Marker(ChainMarker),
    Entry(RawEntry),
}

pub(super) fn parse_line(text: &str) -> Result<Line, String> {
    if text.starts_with("{\"chain\"") {
        return serde_json::from_str::<MarkerLine>(text)
            .map(|m| Line::Marker(m.chain))
            .map_err(|e| e.to_string());
    }
    serde_json::from_str::<RawEntry>(text)
        .map(Line::Entry)
        .map_err(|e| e.to_string())
}

pub(super) fn format_at(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The detail of an `audit.pruned` entry; [`verify_text`] checks a marker
/// against it, so the wording is part of the format.
pub(super) fn pruned_detail(count: u64, first: u64, marker: &ChainMarker) -> String {
    format!(
        "pruned {count} audit entries (seq {first} to {}) older than {}; chain anchor {}; {} pruned in all",
        marker.anchor_seq, marker.pruned_until, marker.anchor, marker.pruned
    )
}

/// Checks the chain in `text`, the contents of `file`, this machine's chain
/// when `own`; I/O free.
pub(super) fn verify_chain(chain: &str, file: &Path, own: bool, text: &str) -> ChainReport {
    let mut report = verify_text(text);
    report.chain = chain.to_string();
    report.file = file.to_path_buf();
    report.own = own;
    if let Some(broken) = &mut report.first_break {
        broken.file = file.to_path_buf();
    }
    report
}

/// Checks the chain in `text`, naming neither chain nor file; I/O free.
pub(super) fn verify_text(text: &str) -> ChainReport {
    verify_collect(text, false).0
}

/// [`verify_text`], and (when `keep`) every entry that verified, with its
/// 1-based line, in order.
pub(super) fn verify_collect(text: &str, keep: bool) -> (ChainReport, Vec<(usize, RawEntry)>) {
    let mut kept = Vec::new();
    let report = verify_into(text, keep.then_some(&mut kept));
    (report, kept)
}

fn verify_into(text: &str, mut kept: Option<&mut Vec<(usize, RawEntry)>>) -> ChainReport {
    let mut report = ChainReport {
        chain: String::new(),
        file: PathBuf::new(),
        own: false,
        entries: 0,
        pruned: 0,
        last_hash: ZERO_HASH.to_string(),
        first_break: None,
    };
    let mut expected_seq = 1;
    let mut marker: Option<ChainMarker> = None;
    let mut last_pruned_entry: Option<(usize, RawEntry)> = None;
    if !text.is_empty() && !text.ends_with('\n') {
        // The last line is incomplete: a torn append (or an edit).
        let cut = text.rfind('\n').map_or(0, |p| p + 1);
        let checked = verify_into(&text[..cut], kept);
        if checked.first_break.is_some() {
            return checked;
        }
        let expected = tip_of(&text[..cut]).0 + 1;
        return ChainReport {
            first_break: Some(ChainBreak {
                file: PathBuf::new(),
                line: text[..cut].lines().count() + 1,
                seq: None,
                kind: BreakKind::Unparseable,
                message: format!(
                    "the last line (expected to be seq {expected}) is not a complete entry: torn by a crash or a full disk; the next change, or `breachdesk audit repair`, sets it aside"
                ),
            }),
            ..checked
        };
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() {
        return report;
    }
    for (index, line_text) in body.split('\n').enumerate() {
        let line = index + 1;
        let broken = |seq, kind, message| ChainBreak {
            file: PathBuf::new(),
            line,
            seq,
            kind,
            message,
        };
        let raw = match parse_line(line_text) {
            Ok(Line::Marker(m)) if index == 0 => {
                report.pruned = m.pruned;
                report.last_hash = m.anchor.clone();
                expected_seq = m.anchor_seq + 1;
                marker = Some(m);
                continue;
            }
            Ok(Line::Marker(_)) => {
                report.first_break = Some(broken(
                    None,
                    BreakKind::ForgedPrune,
                    "a prune marker may only be the first line".into(),
                ));
                return report;
            }
            Ok(Line::Entry(raw)) => raw,
            Err(message) => {
                report.first_break = Some(broken(
                    None,
                    BreakKind::Unparseable,
                    format!(
                        "entry expected to be seq {expected_seq} is torn or unreadable: {message}"
                    ),
                ));
                return report;
            }
        };
        let seq = Some(raw.seq);
        if raw.compute_hash() != raw.hash {
            report.first_break = Some(broken(
                seq,
                BreakKind::HashMismatch,
                "the entry does not match its hash: it was edited".to_string(),
            ));
            return report;
        }
        if raw.seq != expected_seq {
            let message = if raw.seq > expected_seq {
                format!(
                    "expected seq {expected_seq}, found {}: entries were deleted or reordered",
                    raw.seq
                )
            } else {
                format!(
                    "expected seq {expected_seq}, found {}: entries were reordered or inserted",
                    raw.seq
                )
            };
            report.first_break = Some(broken(seq, BreakKind::OutOfSequence, message));
            return report;
        }
        if raw.prev != report.last_hash {
            report.first_break = Some(broken(
                seq,
                BreakKind::PrevMismatch,
                "'prev' is not the previous entry's hash: entries were removed, reordered or replaced"
                    .to_string(),
            ));
            return report;
        }
        if let Err(e) = DateTime::parse_from_rfc3339(&raw.at) {
            report.first_break = Some(broken(
                seq,
                BreakKind::Unparseable,
                format!("'at' is not an RFC 3339 time: {e}"),
            ));
            return report;
        }
        if raw.action == "audit.pruned" {
            last_pruned_entry = Some((line, raw.clone()));
        }
        report.last_hash.clone_from(&raw.hash);
        report.entries += 1;
        expected_seq += 1;
        if let Some(kept) = kept.as_deref_mut() {
            kept.push((line, raw));
        }
    }
    if let Some(m) = marker
        && let Some(problem) = check_marker(&m, last_pruned_entry.as_ref())
    {
        report.first_break = Some(ChainBreak {
            file: PathBuf::new(),
            line: 1,
            seq: None,
            kind: BreakKind::ForgedPrune,
            message: problem,
        });
    }
    report
}

/// Whether the prune marker is backed by the last `audit.pruned` entry and
/// pruned nothing younger than the retention period.
pub(super) fn check_marker(
    marker: &ChainMarker,
    pruned: Option<&(usize, RawEntry)>,
) -> Option<String> {
    let Some((_, entry)) = pruned else {
        return Some(
            "the prune marker is not backed by any audit.pruned entry: entries were removed from the start of the log".into(),
        );
    };
    let tail = format!(
        "to {}) older than {}; chain anchor {}; {} pruned in all",
        marker.anchor_seq, marker.pruned_until, marker.anchor, marker.pruned
    );
    if !entry.detail.ends_with(&tail) {
        return Some(format!(
            "the prune marker (anchor seq {}, until {}) does not match the last audit.pruned entry (seq {}): entries were removed from the start of the log",
            marker.anchor_seq, marker.pruned_until, entry.seq
        ));
    }
    let (Ok(until), Ok(at)) = (
        DateTime::parse_from_rfc3339(&marker.pruned_until),
        DateTime::parse_from_rfc3339(&entry.at),
    ) else {
        return Some("the prune marker's times cannot be read".into());
    };
    let limit = at
        .with_timezone(&Utc)
        .checked_sub_months(Months::new(MIN_RETENTION_MONTHS));
    if limit.is_none_or(|limit| until.with_timezone(&Utc) > limit) {
        return Some(format!(
            "the prune marker claims entries up to {} were pruned on {}: that is inside the {MIN_RETENTION_MONTHS}-month retention period",
            marker.pruned_until, entry.at
        ));
    }
    None
}

/// The seq and hash after the last line of `text` (JSON Lines), for a text
/// already verified.
pub(super) fn tip_of(text: &str) -> (u64, String) {
    match text.lines().last().map(parse_line) {
        Some(Ok(Line::Entry(raw))) => (raw.seq, raw.hash),
        Some(Ok(Line::Marker(m))) => (m.anchor_seq, m.anchor),
        _ => (0, ZERO_HASH.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, prev: &str, detail: &str) -> RawEntry {
        AuditLog::raw_entry(
            seq,
            prev.to_string(),
            &NewEntry::note(
                DateTime::parse_from_rfc3339("2026-11-28T14:32:00Z")
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_default(),
                "a",
                None,
                "x",
                detail,
            ),
        )
    }

    #[test]
    fn a_line_round_trips_and_newlines_in_text_stay_inside_one_line() {
        let raw = entry(1, ZERO_HASH, "line one\n{\"chain\":1}\nend");
        let line = raw.line();
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        let Ok(Line::Entry(back)) = parse_line(line.trim_end()) else {
            panic!("did not parse: {line}");
        };
        assert_eq!(back.detail, raw.detail);
        assert_eq!(back.compute_hash(), raw.hash);
        assert!(verify_text(&line).first_break.is_none());
    }

    #[test]
    fn the_hash_of_a_first_format_entry_is_unchanged() {
        // Entries without revision fields hash exactly as the first format did:
        // the JSON of seq, at, actor, incident, action, detail, prev.
        let raw = entry(1, ZERO_HASH, "d");
        let json = format!(
            "{{\"seq\":1,\"at\":\"2026-11-28T14:32:00Z\",\"actor\":\"a\",\"incident\":null,\"action\":\"x\",\"detail\":\"d\",\"prev\":\"{ZERO_HASH}\"}}"
        );
        assert_eq!(raw.hash, hex::encode(Sha256::digest(json.as_bytes())));
    }
}
