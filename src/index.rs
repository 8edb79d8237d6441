//! The summary index: what the board and `list` show of every incident,
//! cached beside the records so start-up costs what the open work costs, not
//! what the archive costs.
//!
//! Two files in the data directory:
//! - `index.json`: the summaries of OPEN incidents, the file stamps (inode,
//!   size, modification time) of closed ones, and the modification time of
//!   `incidents/` when it was written;
//! - `index-closed.json`: the summaries of closed incidents, read only when
//!   closed incidents are asked for (the board's closed toggle, `list --all`,
//!   the paragraph 6.5 repeat check).
//!
//! Every save renames a new file into `incidents/`, which changes that
//! directory's modification time and the record's inode. So when the
//! directory is unchanged since the index was written (and was already
//! unchanged for a while then, to rule out two changes within one timestamp
//! tick — git's "racily clean" rule), start-up only checks the open records'
//! stamps. Otherwise every record is stat()ed and those whose stamp changed
//! are re-read (in parallel). A record edited in place by hand (not through
//! breachdesk, which always renames) is noticed at the next full scan, which
//! any save or `list --all` triggers.
//!
//! The TOML records stay the source of truth: delete or damage either file
//! and it is rebuilt from them, and nothing is lost. The index is JSON because
//! it is a machine cache read on every start, not a record anyone edits.

pub use crate::store::index::{IndexStats, Summaries, open_summaries, summaries};
pub use crate::store::index_format::{CLOSED_INDEX_FILE, INDEX_FILE, PENDING_FILE};
