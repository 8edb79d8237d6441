//! The summary index: what the board and `list` show of every incident,
//! cached beside the records so start-up costs what the open work costs, not
//! what the archive costs. (The code is in `store::index` and
//! `store::index_format`, because every save keeps it up to date; this
//! module is its public face.)
//!
//! Two files in the data directory:
//! - `index.json`: the summaries of the incidents on the board (open, or a
//!   legal clock still running), each with its file's stamp (inode, size,
//!   modification time); how many others there are; the closed summaries
//!   saved since the next file was written; and the modification time of
//!   `incidents/` it reflects;
//! - `index-closed.rows`: the others, read only when closed incidents are
//!   asked for (the board's closed toggle, `list --all`, the paragraph 6.5
//!   repeat check) or when the records must be checked one by one. Its rows
//!   section holds what `list --all` prints of each, in its order, and is
//!   read on its own; the summaries and stamps follow (see
//!   `store::index_format::ClosedIndex` and `store::index_rows`).
//!
//! **Trusted without listing `incidents/`.** Every save holds the index lock
//! (`locks/.index.lock`) from before it reads its record until the index is
//! written: it marks the index pending (`index.pending`), renames its record
//! into place, updates that record's entry, sets the directory's
//! modification time to the current instant to the nanosecond (its "seal"),
//! writes the index with that time and removes the mark. A reader trusts
//! the index when there is no mark and the directory's time is the sealed
//! one: any change to `incidents/` since (a record added, removed, renamed,
//! quarantined) gives the directory the file system's own time, which is
//! never the seal. Then `list` reads `index.json`, stats the open records
//! (one edited in place by hand changes its stamp) and is done; `show`
//! resolves part of an id from the index; `list --all` reads the closed
//! rows and does not stat the closed records (`list --all --check` and
//! `--format json` stat every record by name). Otherwise every record is stat()ed after listing the directory and
//! those whose stamp changed are re-read (in parallel), and a writable
//! process rewrites and seals the index.
//!
//! **A record read without parsing it.** When a record must be read (no
//! index, an untrusted one, a changed stamp), its summary comes from its
//! first line, a TOML comment the store writes with the summary as JSON and
//! a hash of the rest of the file (see `store::summary_line`); only records
//! whose line is missing, of another version or does not match the rest
//! (written before the line existed, edited by hand) are parsed in full.
//!
//! Crashes: a save killed after renaming its record leaves the mark, so the
//! index is not trusted until the next scan or save rebuilds it. Index files
//! are written to a temp file and renamed but not fsynced: one torn or lost
//! in a power cut does not parse or does not match the directory's time
//! (which the record's save did sync), and is rebuilt.
//!
//! Limits, stated: where breachdesk cannot set the directory's time to the
//! nanosecond (not the directory's owner, or a file system with coarser
//! times) an index is trusted only when the directory's time was two seconds
//! old when the index was written (git's "racily clean" rule), so after each
//! save `list` scans until a writable scan (the console, `watch`) rewrites
//! the index two seconds or more after the last save. A change made by hand
//! in the microseconds between a save's rename and its seal is seen at the
//! next scan. A closed record edited in place by hand (not renamed) is seen
//! by `list --all --check`, `list --all --format json`, the console's
//! closed view and the next scan, not by `list` or `list --all`.
//!
//! The TOML records stay the source of truth: delete or damage either file
//! and it is rebuilt from them, and nothing is lost. The index is JSON (the
//! closed rows tab-separated text) because it is a machine cache read on
//! every start, not a record anyone edits.

pub use crate::store::index::{IndexStats, Summaries, open_summaries, summaries, trusted_listing};
pub use crate::store::index_format::{CLOSED_INDEX_FILE, INDEX_FILE, PENDING_FILE};
pub use crate::store::index_rows::{ListRow, Listed};
