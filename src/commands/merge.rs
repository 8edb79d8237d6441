//! `breachdesk merge-record %O %A %B %P`: the git merge driver for incident
//! records. Git runs it in the repository when both sides changed one
//! record; it needs no data directory or config.
//!
//! It reads the three copies with the store's parsing (older records are
//! migrated as they are read), merges them with
//! [`crate::domain::merge::merge_incident`], and writes the result over %A
//! as the store writes records (the summary line, then canonical TOML),
//! atomically. When the result is our copy as it was, %A is left
//! byte-identical. When a copy does not parse, it fails with one line
//! naming the file, line and column, and leaves %A untouched: git then
//! keeps both versions. It never writes conflict markers.

use crate::domain::merge::merge_incident;
use crate::store::{read_record_file, write_record_file};
use anyhow::{Context, Result, anyhow};
use std::path::Path;

/// Merges `ours` and `theirs` against `base` into `ours`; `path` is the
/// record's path in the repository, `incidents/<ID>.toml`.
pub fn merge_record(base: &Path, ours: &Path, theirs: &Path, path: &Path) -> Result<()> {
    let id = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".toml"))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            anyhow!(
                "{}: not an incident record (merge-record merges incidents/<ID>.toml)",
                path.display()
            )
        })?;
    // Git names the copies with temporary files: say which copy of which
    // record, then the file, line and column.
    let copy = |file: &Path, which: &str| {
        read_record_file(file, id).map_err(|e| anyhow!("{}, {which} copy: {e}", path.display()))
    };
    let base_copy = copy(base, "the common ancestor's")?;
    let missing = |file: &Path| anyhow!("{}: missing or empty", file.display());
    let ours_copy = copy(ours, "our")?.ok_or_else(|| missing(ours))?;
    let theirs_copy = copy(theirs, "their")?.ok_or_else(|| missing(theirs))?;
    let merged = merge_incident(base_copy.as_ref(), &ours_copy, &theirs_copy)
        .with_context(|| format!("{}: cannot merge", path.display()))?;
    if merged.incident == ours_copy {
        return Ok(());
    }
    write_record_file(ours, &merged.incident)?;
    let (fields, ids) = (merged.conflicts.len(), merged.renumbered.len());
    if fields + ids > 0 {
        println!(
            "breachdesk: merged {}: {fields} field(s) changed on both sides (the later side's value kept, the other in the timeline), {ids} id(s) renumbered",
            crate::text::one_line(&path.display().to_string())
        );
    }
    Ok(())
}
