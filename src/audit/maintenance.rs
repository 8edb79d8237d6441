//! Keeping this machine's chain: converting a first-format log, setting
//! aside a torn tail, and pruning past the retention period. Another
//! machine's chain is never rewritten.

use super::*;
use chain::{ChainMarker, MarkerLine, pruned_detail};

/// What [`AuditLog::prune`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PruneReport {
    /// Entries removed by this prune.
    pub pruned: u64,
    /// Entries kept (not counting the entries this prune appended).
    pub kept: u64,
    /// Entries older than this were removed.
    pub cutoff: DateTime<Utc>,
    /// The hash the first kept entry's `prev` refers to, when anything was pruned.
    pub anchor: Option<String>,
    /// The "audit.pruned" entry appended, when anything was pruned.
    pub entry: Option<AuditEntry>,
    /// Record revisions carried forward as `record.checkpoint` entries.
    pub checkpoints: u64,
}

/// What [`AuditLog::repair`] did (all empty when there was nothing to do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairReport {
    pub removed_bytes: usize,
    pub saved_to: Option<PathBuf>,
    pub entry: Option<AuditEntry>,
}

impl AuditLog {
    /// The first-format file as JSON Lines, and any torn tail bytes it had.
    pub(super) fn convert_first_format(&self, old: &Path) -> Result<(String, Vec<u8>), AuditError> {
        let bytes = fs::read(old).map_err(self.io("read", old))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        #[derive(Deserialize)]
        struct Old {
            chain: Option<ChainMarker>,
            #[serde(default)]
            entry: Vec<RawEntry>,
        }
        let whole = toml::from_str::<Old>(&text);
        let (old, torn) = match whole {
            Ok(old) => (old, Vec::new()),
            Err(_) => {
                // A torn last block: keep every block before it.
                let cut = text.rfind("\n[[entry]]\n").map_or(0, |p| p + 1);
                let head = &text[..cut];
                let old = toml::from_str::<Old>(head).map_err(|e| {
                    let line = e
                        .span()
                        .map_or(1, |s| crate::text::line_col(head, s.start).0);
                    AuditError::Corrupt {
                        file: old.to_path_buf(),
                        line,
                        message: format!(
                            "the first-format audit log is damaged before its last entry ({}); it is left as it is",
                            crate::text::one_line(e.message())
                        ),
                    }
                })?;
                (old, bytes[cut.min(bytes.len())..].to_vec())
            }
        };
        let mut out = String::new();
        if let Some(chain) = old.chain {
            out.push_str(&serde_json::to_string(&MarkerLine { chain }).unwrap_or_default());
            out.push('\n');
        }
        for entry in &old.entry {
            out.push_str(&entry.line());
        }
        Ok((out, torn))
    }

    /// Converts `audit-log.toml` to JSON Lines (under the lock) in
    /// `audit-log.jsonl` (which then becomes this machine's chain), keeping
    /// the old file as `audit-log.toml.migrated` and any torn tail in
    /// `torn-*.bin`, and logs an `audit.migrated` entry.
    pub(super) fn migrate_first_format(&self) -> Result<(), AuditError> {
        let old = self.dir.join(OLD_LOG_FILE);
        if !old.exists() {
            return Ok(());
        }
        let (mut text, torn) = self.convert_first_format(&old)?;
        let report = verify_text(&text);
        let legacy = self.dir.join(LOG_FILE);
        let mut detail = format!(
            "converted {} to JSON Lines ({} entries; hashes unchanged); the old file is kept as {OLD_LOG_FILE}.migrated",
            old.display(),
            report.entries
        );
        if !torn.is_empty() {
            let saved = self.set_aside(&torn, Utc::now())?;
            detail.push_str(&format!(
                "; a torn last entry ({} bytes, sha256 {}) was set aside in {}",
                torn.len(),
                hex::encode(Sha256::digest(&torn)),
                saved.display()
            ));
        }
        if report.first_break.is_none() {
            let (seq, prev) = tip_of(&text);
            let raw = Self::raw_entry(
                seq + 1,
                prev,
                &NewEntry::note(Utc::now(), "breachdesk", None, "audit.migrated", &detail),
            );
            text.push_str(&raw.line());
        }
        replace_file(&self.dir, LOG_FILE, text.as_bytes()).map_err(self.io("replace", &legacy))?;
        fs::rename(&old, self.dir.join(format!("{OLD_LOG_FILE}.migrated")))
            .map_err(self.io("rename", &old))?;
        sync_dir(&self.dir).map_err(self.io("sync directory", &self.dir))
    }

    pub(super) fn set_aside(
        &self,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<PathBuf, AuditError> {
        let saved = self.dir.join(format!(
            "torn-{}-{}.bin",
            now.format("%Y%m%dT%H%M%SZ"),
            crate::durable::random_hex(3)
        ));
        crate::durable::create_private_file(&saved, bytes).map_err(self.io("create", &saved))?;
        sync_dir(&self.dir).map_err(self.io("sync directory", &self.dir))?;
        Ok(saved)
    }

    /// Removes temp files of a prune that was killed (of this machine's
    /// chain, or of the log before chains). Only call under the lock (temp
    /// files are only created under it). Best effort.
    pub(super) fn remove_stray_temps(&self) {
        let (own_dir, own_name) = self.own_dir_and_name();
        for (dir, name) in [(self.dir.as_path(), LOG_FILE), (own_dir, own_name)] {
            let prefix = durable::temp_prefix(name);
            if let Ok(entries) = fs::read_dir(dir) {
                for entry in entries.flatten() {
                    if entry.file_name().to_string_lossy().starts_with(&prefix) {
                        let _ = fs::remove_file(entry.path());
                    }
                }
            }
        }
    }

    /// The directory and file name of this machine's chain.
    pub(super) fn own_dir_and_name(&self) -> (&Path, &str) {
        (
            self.file.parent().unwrap_or(&self.dir),
            self.file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(LOG_FILE),
        )
    }

    /// Sets aside a torn last line of this machine's chain (only: another
    /// machine's chain is its to repair): what a crash or a full disk in the
    /// middle of an append leaves. Only bytes after the last newline that do not
    /// parse as a complete entry are removed; they are kept in
    /// `audit/torn-*.bin` (never deleted), and an `audit.repaired` entry
    /// records how many, their SHA-256 and where they went. A complete entry
    /// that fails its hash is tamper evidence: it is kept and reported, never
    /// removed, as is any damage before the last line.
    pub fn repair(&self, now: DateTime<Utc>, actor: &str) -> Result<RepairReport, AuditError> {
        self.writable("repairing the audit log")?;
        let _guard = self.lock()?;
        match self.set_aside_torn_tail(now, actor)? {
            None => Ok(RepairReport::default()),
            Some((removed_bytes, saved_to, note)) => {
                let entry = self.append_locked(&[note])?.pop();
                Ok(RepairReport {
                    removed_bytes,
                    saved_to: Some(saved_to),
                    entry,
                })
            }
        }
    }

    /// Under the lock: sets aside bytes after the last newline that are not
    /// a complete entry (kept in `torn-*.bin`), and returns how many, where
    /// they went and the `audit.repaired` entry to append. A whole entry that
    /// only lacks its newline is completed. Damage before the last line, or
    /// a complete entry that fails its hash, is refused and kept.
    pub(super) fn set_aside_torn_tail(
        &self,
        now: DateTime<Utc>,
        actor: &str,
    ) -> Result<Option<(usize, PathBuf, NewEntry)>, AuditError> {
        let bytes = match crate::safe_read::read_bytes(&self.file, MAX_LOG_BYTES)
            .map_err(|e| e.into_io())
        {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(self.io("read", &self.file)(e)),
        };
        let cut = if bytes.is_empty() || bytes.ends_with(b"\n") {
            bytes.len()
        } else {
            bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1)
        };
        let (head, tail) = bytes.split_at(cut);
        let head_text = String::from_utf8_lossy(head);
        let check = verify_text(&head_text);
        if let Some(broken) = check.first_break {
            return Err(self.corrupt(
                broken.line,
                format!(
                    "{}: that is not a torn write, so it is kept as it is (tamper evidence or a failing disk; compare with a backup)",
                    broken.message
                ),
            ));
        }
        if tail.is_empty() {
            return Ok(None);
        }
        if let Ok(Line::Entry(raw)) = parse_line(&String::from_utf8_lossy(tail)) {
            // A whole entry that only lacks its newline: complete it.
            if raw.compute_hash() == raw.hash {
                durable::append_durably(&self.file, b"\n")
                    .map_err(self.io("append to", &self.file))?;
                return Ok(None);
            }
            return Err(self.corrupt(
                head_text.lines().count() + 1,
                "the last entry is complete but does not match its hash: that is tamper evidence, so it is kept as it is".into(),
            ));
        }
        let sha = hex::encode(Sha256::digest(tail));
        let saved = self.set_aside(tail, now)?;
        durable::truncate_durably(&self.file, cut as u64)
            .map_err(self.io("truncate", &self.file))?;
        let note = NewEntry::note(
            now,
            actor,
            None,
            "audit.repaired",
            &format!(
                "set aside {} torn bytes after the last whole entry (sha256 {sha}), kept in {}; they were never followed by a record write",
                tail.len(),
                saved.display()
            ),
        );
        Ok(Some((tail.len(), saved, note)))
    }

    /// Removes the entries at the start of this machine's chain (only:
    /// another machine's chain is never rewritten) that are older than
    /// `retention_days` before `now` (refusing less than 6 calendar months,
    /// or a chain that does not verify), atomically. It writes the prune
    /// marker, an `audit.pruned` entry stating it, and a `record.checkpoint`
    /// entry carrying forward the last pruned revision of each incident that
    /// has no later revision in the kept entries. Nothing old enough: nothing
    /// changes.
    pub fn prune(
        &self,
        now: DateTime<Utc>,
        retention_days: u32,
        actor: &str,
    ) -> Result<PruneReport, AuditError> {
        self.writable("pruning the audit log")?;
        let too_long = AuditError::RetentionTooLong {
            days: retention_days,
            max: MAX_RETENTION_DAYS,
        };
        if retention_days > MAX_RETENTION_DAYS {
            return Err(too_long);
        }
        let data_dir = self.dir.parent().unwrap_or(&self.dir);
        if data_dir.join(".git").exists() {
            return Err(AuditError::PruneInSync {
                file: self.file.clone(),
            });
        }
        let Some(cutoff) = chrono::Duration::try_days(i64::from(retention_days))
            .and_then(|d| now.checked_sub_signed(d))
        else {
            return Err(too_long);
        };
        let limit = now.checked_sub_months(Months::new(MIN_RETENTION_MONTHS));
        if retention_days < MIN_RETENTION_DAYS || limit.is_none_or(|limit| cutoff > limit) {
            return Err(AuditError::RetentionTooShort {
                days: retention_days,
                min: MIN_RETENTION_DAYS,
            });
        }
        let _guard = self.lock()?;
        self.remove_stray_temps();
        let text = self.read_chain(&self.file)?;
        let check = chain::verify_chain(self.own_chain(), &self.file, true, &text);
        if let Some(broken) = check.first_break {
            return Err(AuditError::ChainBroken {
                broken: Box::new(broken),
            });
        }
        let mut old_marker = None;
        let mut raws = Vec::new();
        for (index, line) in text.lines().enumerate() {
            match parse_line(line).map_err(|m| self.corrupt(index + 1, m))? {
                Line::Marker(m) => old_marker = Some(m),
                Line::Entry(raw) => raws.push(raw),
            }
        }
        let entries: Vec<AuditEntry> = raws
            .iter()
            .map(|r| {
                r.clone()
                    .into_entry(self.own_chain())
                    .map_err(|m| self.corrupt(0, m))
            })
            .collect::<Result<_, _>>()?;
        let count = entries.iter().take_while(|e| e.at < cutoff).count();
        if count == 0 {
            return Ok(PruneReport {
                pruned: 0,
                kept: entries.len() as u64,
                cutoff,
                anchor: None,
                entry: None,
                checkpoints: 0,
            });
        }
        let last_pruned = &entries[count - 1];
        let first_pruned = &entries[0];
        let marker = ChainMarker {
            anchor: last_pruned.hash.clone(),
            anchor_seq: last_pruned.seq,
            pruned: old_marker.map_or(0, |c| c.pruned) + count as u64,
            pruned_until: format_at(cutoff),
        };
        let mut content = serde_json::to_string(&MarkerLine {
            chain: marker.clone(),
        })
        .unwrap_or_default();
        content.push('\n');
        for raw in &raws[count..] {
            content.push_str(&raw.line());
        }
        let (mut seq, mut prev) = entries
            .last()
            .map(|e| (e.seq, e.hash.clone()))
            .unwrap_or((0, ZERO_HASH.to_string()));
        let mut push = |entry: &NewEntry, content: &mut String| {
            seq += 1;
            let raw = self.signed_entry(seq, prev.clone(), entry)?;
            prev = raw.hash.clone();
            content.push_str(&raw.line());
            Ok::<RawEntry, AuditError>(raw)
        };
        let detail = pruned_detail(count as u64, first_pruned.seq, &marker);
        let pruned_raw = push(
            &NewEntry::note(now, actor, None, "audit.pruned", &detail),
            &mut content,
        )?;
        // Carry forward each incident's last logged revision that is pruned.
        let mut carried: BTreeMap<&str, &AuditEntry> = BTreeMap::new();
        for e in &entries[..count] {
            if let (Some(id), Some(_)) = (e.incident.as_deref(), e.revision) {
                carried.insert(id, e);
            }
        }
        for e in &entries[count..] {
            if let (Some(id), Some(_)) = (e.incident.as_deref(), e.revision) {
                carried.remove(id);
            }
        }
        let checkpoints = carried.len() as u64;
        for (id, e) in carried {
            let mut entry = NewEntry::note(
                now,
                actor,
                Some(id),
                "record.checkpoint",
                &format!(
                    "revision {} was logged at seq {} on {} (pruned); carried forward",
                    e.revision.unwrap_or_default(),
                    e.seq,
                    format_at(e.at)
                ),
            );
            entry.revision = e.revision;
            entry.record_sha256 = e.record_sha256.clone();
            push(&entry, &mut content)?;
        }
        let (own_dir, own_name) = self.own_dir_and_name();
        replace_file(own_dir, own_name, content.as_bytes())
            .map_err(self.io("replace", &self.file))?;
        if let Some(signer) = &self.signer {
            let (seq, hash) = tip_of(&content);
            signer.remember_own_head(seq, &hash);
        }
        Ok(PruneReport {
            pruned: count as u64,
            kept: (entries.len() - count) as u64,
            cutoff,
            anchor: Some(marker.anchor),
            entry: Some(
                pruned_raw
                    .into_entry(self.own_chain())
                    .map_err(|message| self.corrupt(0, message))?,
            ),
            checkpoints,
        })
    }
}
