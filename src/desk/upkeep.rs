//! The data directory's upkeep, as the command line and the console ask for
//! it: what opening it found, the audit log's checks and maintenance, the
//! quarantine, demo records, and the stamp the console polls for changes.
//! Frontends call these; none of them reaches the store or the log itself.

use super::*;
use crate::audit::{AuditEntry, PruneReport, RepairReport, VerifyReport};
use crate::store::{AccountingProblem, QuarantinedFile};

/// What `audit verify` found: the hash chain's report and, when the chain
/// is intact, every saved record revision checked against the log.
#[derive(Debug)]
pub struct AuditCheck {
    /// The audit directory checked (every chain in it).
    pub log: PathBuf,
    pub chain: VerifyReport,
    /// Accounting problems (failures and notes); empty when the chain broke.
    pub accounting: Vec<AccountingProblem>,
}

/// A quarantined file and whether it would be restored as it is now.
#[derive(Debug)]
pub struct QuarantineRow {
    pub file: QuarantinedFile,
    /// `Ok(())` when it parses now; else why it cannot be restored.
    pub restorable: Result<(), String>,
}

/// What [`Desk::list_rows`] found.
pub struct ListRows<'d> {
    desk: &'d Desk,
    which: Listing,
    /// Summaries, in the board's order: every row, or (when `closed` is
    /// there) the rows on the board.
    board: Vec<IncidentSummary>,
    /// The closed rows, from the index.
    closed: Option<crate::index::Listed>,
    /// Records that would not load, quarantined files.
    problems: Vec<String>,
}

impl ListRows<'_> {
    /// Every row, in the board's order, and the problems to report (the
    /// records that would not load, quarantined files). Closed rows that
    /// do not add up to the index's count are not used: every record is
    /// checked instead.
    pub fn rows(&self) -> (Vec<crate::index::ListRow<'_>>, Vec<String>) {
        let row = crate::index::ListRow::of;
        let mut rows: Vec<crate::index::ListRow<'_>> = self.board.iter().map(row).collect();
        if let Some(closed) = &self.closed {
            match closed.closed_rows() {
                Some(closed) => rows.extend(closed),
                None => {
                    let (all, problems) = self.desk.listing(self.which);
                    return (all.iter().map(row).collect(), problems);
                }
            }
        }
        (rows, self.problems.clone())
    }
}

/// Which incidents a listing holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// What the board shows: the open incidents, and closed ones whose
    /// data request is still open.
    Board,
    /// Every incident.
    All,
    /// Only closed incidents.
    Closed,
}

/// What changes when any record is written: every write renames a new file
/// into `incidents/` (so its modification time moves), and the open
/// record's own size, time and inode. Polled once a second (two `stat`
/// calls), compared, never trusted for content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DiskStamp {
    pub dir: Option<(u128, u64)>,
    pub record: Option<(u128, u64, u64)>,
}

impl Desk {
    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The zone times are shown in.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Who the changes are recorded as made by.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The working-day calendar (bank holidays of the configured division).
    pub fn calendar(&self) -> &WorkingCalendar {
        &self.calendar
    }

    /// The playbooks in force.
    pub fn playbooks(&self) -> &PlaybookSet {
        &self.playbooks
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.store.data_dir()
    }

    /// Where a record lives on disk.
    pub fn record_path(&self, id: &str) -> PathBuf {
        self.store.record_path(id)
    }

    /// What opening the data directory found that the responder should
    /// know (a directory other users can reach), once each.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings: Vec<String> = Vec::new();
        for w in self.store.warnings().iter().chain(self.audit.warnings()) {
            if !warnings.contains(w) {
                warnings.push(w.clone());
            }
        }
        warnings
    }

    /// Checks every machine's audit chain (hashes, signers, signatures,
    /// heads seen before) and, if their hashes hold, every entry of
    /// `incidents/` against them; the records are read while the chains are
    /// checked. Pins new signers and remembers the heads when all is well.
    pub fn verify_audit(&self, now: DateTime<Utc>) -> Result<AuditCheck, DeskError> {
        let log = self.store.audit();
        let (checked, records) = std::thread::scope(|s| {
            let chains = s.spawn(|| log.verify_and_remember(now));
            let records = self.store.read_records();
            (chains.join(), records)
        });
        let (chain, entries) = checked
            .map_err(|_| DeskError::Invalid("the audit check stopped unexpectedly".into()))??;
        let accounting = match (&chain.first_break, entries) {
            (None, Some(entries)) => self.store.account_read(records, &entries),
            _ => Vec::new(),
        };
        Ok(AuditCheck {
            log: log.dir().to_path_buf(),
            chain,
            accounting,
        })
    }

    /// The audit entries, all of them or one incident's (by id or a unique
    /// part of it).
    pub fn audit_entries(&self, incident: Option<&str>) -> Result<Vec<AuditEntry>, DeskError> {
        Ok(match incident {
            Some(id) => self.audit.entries_for(&self.store.resolve_id(id)?)?,
            None => self.audit.entries()?,
        })
    }

    /// Sets aside a torn tail of the audit log (see [`AuditLog::repair`]).
    pub fn repair_audit(&self, now: DateTime<Utc>) -> Result<RepairReport, DeskError> {
        Ok(self.audit.repair(now, &self.actor)?)
    }

    /// Prunes audit entries older than `days` (the configured retention when
    /// `None`); never fewer than 6 calendar months.
    pub fn prune_audit(
        &self,
        now: DateTime<Utc>,
        days: Option<u32>,
    ) -> Result<PruneReport, DeskError> {
        let days = days.unwrap_or(self.config.audit.retention_days);
        if days < crate::audit::MIN_RETENTION_DAYS {
            return Err(DeskError::Invalid(format!(
                "a retention of {days} days is too short: breachdesk's audit log is kept at least 6 calendar months ({} days)",
                crate::audit::MIN_RETENTION_DAYS
            )));
        }
        if days > crate::audit::MAX_RETENTION_DAYS {
            return Err(DeskError::Invalid(format!(
                "a retention of {days} days is out of range: at most {} days (about 273 years)",
                crate::audit::MAX_RETENTION_DAYS
            )));
        }
        Ok(self.audit.prune(now, days, &self.actor)?)
    }

    /// Writes a note of something done outside a record (e.g. a reminder
    /// sent) to the audit log.
    pub fn note(
        &self,
        now: DateTime<Utc>,
        incident: Option<&str>,
        action: &str,
        detail: &str,
    ) -> Result<(), DeskError> {
        self.audit
            .append(now, &self.actor, incident, action, detail)
            .map(|_| ())
            .map_err(DeskError::from)
    }

    /// Moves every record that does not parse into `quarantine/`; returns
    /// what was wrong with each.
    pub fn sweep_quarantine(&self) -> Vec<String> {
        self.store
            .load_all()
            .problems
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    /// The quarantine directory.
    pub fn quarantine_dir(&self) -> &Path {
        self.store.quarantine_dir()
    }

    /// The quarantined files, each with whether it would restore now.
    pub fn quarantined(&self) -> Result<Vec<QuarantineRow>, DeskError> {
        Ok(self
            .store
            .quarantined()?
            .into_iter()
            .map(|file| {
                let restorable = self
                    .store
                    .restorable(&file.path)
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                QuarantineRow { file, restorable }
            })
            .collect())
    }

    /// Checks a hand-fixed quarantined record and puts it back (see
    /// [`Store::restore_quarantined`]), with an audit entry saying so.
    pub fn restore_quarantined(
        &self,
        file: &Path,
        now: DateTime<Utc>,
    ) -> Result<Incident, DeskError> {
        let note = AuditNote::new(
            now,
            &self.actor,
            "incident.restored",
            &format!("restored from quarantine ({})", file.display()),
        );
        Ok(self.store.restore_quarantined(file, &note)?)
    }

    /// Writes ready-made records (demo data) in one audited batch, into a
    /// data directory that holds none unless `force`, then builds the index.
    pub fn seed(
        &self,
        incidents: &[Incident],
        force: bool,
        action: &str,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DeskError> {
        self.check_seedable(force)?;
        let note = AuditNote::new(now, &self.actor, action, detail);
        self.store.create_many(incidents, &note)?;
        // Build the summary index now, so the first start is fast.
        crate::index::summaries(&self.store);
        Ok(())
    }

    /// The board's rows, most urgent first: the open incidents' summaries
    /// (every incident's when `closed`), how many are closed, and the
    /// records that would not load. See [`crate::index`].
    pub fn board(&self, closed: bool) -> crate::index::Summaries {
        let mut found = if closed {
            crate::index::summaries(&self.store)
        } else {
            crate::index::open_summaries(&self.store)
        };
        crate::domain::summary::sort_by_urgency(&mut found.summaries);
        found
    }

    /// The rows `list` shows, in the board's order, and the records that
    /// would not load.
    pub fn listing(&self, which: Listing) -> (Vec<IncidentSummary>, Vec<String>) {
        let found = self.board(which != Listing::Board);
        let rows = found
            .summaries
            .into_iter()
            .filter(|s| match which {
                Listing::Board => s.on_board(),
                Listing::All => true,
                Listing::Closed => s.status != crate::domain::incident::IncidentStatus::Open,
            })
            .collect();
        (rows, found.problems)
    }

    /// The rows `list` prints in a table, in the board's order. For
    /// `--all` and `--closed` without `check`, from a trusted index
    /// without checking each closed record (see [`crate::index`]: a closed
    /// record edited in place by hand is not seen); otherwise, or when the
    /// index is not trusted, as [`Desk::listing`] finds them.
    pub fn list_rows(&self, which: Listing, check: bool) -> ListRows<'_> {
        if which != Listing::Board
            && !check
            && let Some(mut listed) = crate::index::trusted_listing(&self.store)
        {
            let mut board = std::mem::take(&mut listed.board);
            board.retain(|s| {
                which == Listing::All || s.status != crate::domain::incident::IncidentStatus::Open
            });
            crate::domain::summary::sort_by_urgency(&mut board);
            return ListRows {
                desk: self,
                which,
                problems: std::mem::take(&mut listed.problems),
                board,
                closed: Some(listed),
            };
        }
        let (board, problems) = self.listing(which);
        ListRows {
            desk: self,
            which,
            board,
            closed: None,
            problems,
        }
    }

    /// Refuses (unless `force`) a data directory that already holds records:
    /// demo data must not mix with real incidents.
    pub fn check_seedable(&self, force: bool) -> Result<(), DeskError> {
        let existing = self.store.record_files()?.len();
        if existing > 0 && !force {
            return Err(DeskError::WrongState(format!(
                "{} already holds {existing} incident record(s); demo data goes in an empty directory (use --data-dir), or add --force",
                self.store.data_dir().display()
            )));
        }
        Ok(())
    }

    /// The incidents directory's and (when given) one record's change
    /// stamps, for the console's once-a-second poll.
    pub fn disk_stamp(&self, open: Option<&str>) -> DiskStamp {
        use std::os::unix::fs::MetadataExt;
        let nanos = |m: &std::fs::Metadata| {
            m.modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos())
        };
        let dir = std::fs::metadata(self.store.incidents_dir())
            .ok()
            .map(|m| (nanos(&m), m.ino()));
        let record = open.and_then(|id| {
            std::fs::metadata(self.store.record_path(id))
                .ok()
                .map(|m| (nanos(&m), m.len(), m.ino()))
        });
        DiskStamp { dir, record }
    }
}
