//! Reading the whole trail: every machine's chain listed, verified and
//! merged by time; this machine's head; and adopting a log from before
//! chains as this machine's chain.

use super::*;
use std::collections::VecDeque;

/// One chain file of the trail.
pub(super) struct ChainFile {
    /// The machine id (the file's stem), or [`LEGACY_CHAIN`].
    pub(super) chain: String,
    pub(super) path: PathBuf,
}

impl AuditLog {
    /// The text of the chain file `path`. The legacy log, absent while a
    /// first-format log is there (opened read-only before conversion), is
    /// converted in memory.
    pub(super) fn read_chain(&self, path: &Path) -> Result<String, AuditError> {
        match crate::safe_read::read_bytes(path, MAX_LOG_BYTES).map_err(|e| e.into_io()) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let old = self.dir.join(OLD_LOG_FILE);
                if path == self.dir.join(LOG_FILE) && old.exists() {
                    Ok(self.convert_first_format(&old)?.0)
                } else {
                    Ok(String::new())
                }
            }
            Err(e) => Err(self.io("read", path)(e)),
        }
    }

    /// Every chain: `audit/chains/*.jsonl` in name order, then the log from
    /// before chains if it is still there (read-only: it is never appended
    /// to). Dot files (temp files of a prune) are not chains.
    pub(super) fn chain_files(&self) -> Result<Vec<ChainFile>, AuditError> {
        refuse_link(&self.chains)?;
        let mut out = Vec::new();
        match fs::read_dir(&self.chains) {
            Ok(listing) => {
                for entry in listing {
                    let entry = entry.map_err(self.io("list", &self.chains))?;
                    let name = entry.file_name();
                    let Some(name) = name.to_str() else { continue };
                    let Some(stem) = name.strip_suffix(&format!(".{CHAIN_EXTENSION}")) else {
                        continue;
                    };
                    if stem.is_empty() || name.starts_with('.') {
                        continue;
                    }
                    out.push(ChainFile {
                        chain: stem.to_string(),
                        path: entry.path(),
                    });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.io("list", &self.chains)(e)),
        }
        out.sort_by(|a, b| a.chain.cmp(&b.chain));
        let legacy = self.dir.join(LOG_FILE);
        let first_format_unread = self.file == legacy && self.dir.join(OLD_LOG_FILE).exists();
        if fs::symlink_metadata(&legacy).is_ok() || first_format_unread {
            out.push(ChainFile {
                chain: LEGACY_CHAIN.to_string(),
                path: legacy,
            });
        }
        Ok(out)
    }

    /// The hash of the last entry of this machine's chain (zeros for an
    /// empty or not yet made chain): what a notice sent now carries as
    /// `X-Breachdesk-Audit-Head`. Reads only the tail.
    pub fn head(&self) -> Result<String, AuditError> {
        if self.read_only && fs::symlink_metadata(&self.file).is_err() {
            return Ok(tip_of(&self.read_chain(&self.file)?).1);
        }
        Ok(self.tip()?.1)
    }

    /// Every entry of every chain, merged by time: each chain's entries stay
    /// in their order, and of entries at the same instant those of the chain
    /// first in name order come first. Fails on the first line that cannot
    /// be read, naming its file.
    pub fn entries(&self) -> Result<Vec<AuditEntry>, AuditError> {
        let mut chains = Vec::new();
        for file in self.chain_files()? {
            let text = self.read_chain(&file.path)?;
            chains.push(entries_of(&file, &text)?);
        }
        Ok(merge_by_time(chains))
    }

    /// The entries about one incident (exact id), from every chain, merged
    /// by time as [`AuditLog::entries`].
    pub fn entries_for(&self, incident: &str) -> Result<Vec<AuditEntry>, AuditError> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| e.incident.as_deref() == Some(incident))
            .collect())
    }

    /// Checks every chain: hashes, signers, signatures, actors and the
    /// heads this machine saw before. `Err` only for I/O; a broken chain is
    /// reported in [`VerifyReport::first_break`] (file, line and seq of the
    /// first problem) and in its [`ChainReport`], the rest in
    /// [`VerifyReport::findings`].
    pub fn verify(&self) -> Result<VerifyReport, AuditError> {
        Ok(self.check(false, None)?.0)
    }

    /// [`AuditLog::verify`], and when every chain is intact their entries
    /// too, merged as [`AuditLog::entries`], from one read of each file (for
    /// `audit verify`'s accounting).
    pub fn verify_with_entries(
        &self,
    ) -> Result<(VerifyReport, Option<Vec<AuditEntry>>), AuditError> {
        self.check(true, None)
    }

    /// [`AuditLog::verify_with_entries`], and when nothing is wrong, pins
    /// every signer seen for the first time (at `now`) and remembers every
    /// chain's head in `signing/` (best effort), as `audit verify` does.
    pub fn verify_and_remember(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(VerifyReport, Option<Vec<AuditEntry>>), AuditError> {
        self.check(true, Some(now))
    }

    fn check(
        &self,
        with_entries: bool,
        remember: Option<DateTime<Utc>>,
    ) -> Result<(VerifyReport, Option<Vec<AuditEntry>>), AuditError> {
        let mut report = VerifyReport {
            entries: 0,
            pruned: 0,
            last_hash: ZERO_HASH.to_string(),
            first_break: None,
            chains: Vec::new(),
            findings: Vec::new(),
        };
        let data_dir = self.dir.parent().unwrap_or(&self.dir).to_path_buf();
        let signing_dir = data_dir.join(signing::SIGNING_DIR);
        let pins = signing::Pins::read(&signing_dir);
        let own = self
            .machine
            .as_deref()
            .filter(|_| self.own_chain() != LEGACY_CHAIN);
        let seen = signing::SeenHeads::read(&data_dir, own);
        let mut entries = Vec::new();
        let mut signers = Vec::new();
        let mut heads = Vec::new();
        let files = self.chain_files()?;
        for file in &files {
            let text = self.read_chain(&file.path)?;
            let is_own = file.path == self.file;
            let (mut checked, raws) = chain::verify_collect(&text, true);
            checked.chain.clone_from(&file.chain);
            checked.file.clone_from(&file.path);
            checked.own = is_own;
            if let Some(broken) = &mut checked.first_break {
                broken.file.clone_from(&file.path);
            }
            report.entries += checked.entries;
            report.pruned += checked.pruned;
            if is_own {
                report.last_hash.clone_from(&checked.last_hash);
            }
            if report.first_break.is_none() {
                report.first_break.clone_from(&checked.first_break);
            }
            if checked.first_break.is_none() && file.chain != LEGACY_CHAIN {
                let pruned_to = tip_of(text.lines().next().unwrap_or("")).0;
                let (found, signer) =
                    self.check_signer(&file.chain, &file.path, &raws, pruned_to, &pins, &seen);
                if let Some((name, key)) = signer {
                    signers.push((file.chain.clone(), name, key));
                }
                report.findings.extend(found);
                if let Some((_, last)) = raws.last() {
                    heads.push((file.chain.clone(), last.seq, last.hash.clone()));
                }
            }
            if with_entries && checked.first_break.is_none() {
                let mut list = Vec::with_capacity(raws.len());
                for (line, raw) in raws {
                    list.push(raw.into_entry(&file.chain).map_err(|message| {
                        AuditError::Corrupt {
                            file: file.path.clone(),
                            line,
                            message,
                        }
                    })?);
                }
                entries.push(list);
            }
            report.chains.push(checked);
        }
        for (chain, head) in &seen.chains {
            if !files.iter().any(|f| &f.chain == chain) {
                report.findings.push(Finding {
                    failure: true,
                    kind: "chain-gone",
                    file: chain_file(&data_dir, chain),
                    chain: chain.clone(),
                    line: None,
                    seq: Some(head.seq),
                    message: format!(
                        "this machine saw this chain before (seq {}), and it is gone: deleted",
                        head.seq
                    ),
                });
            }
        }
        if let Some(now) = remember
            && report.is_ok()
        {
            self.remember(now, &signers, &heads);
        }
        let entries =
            (with_entries && report.first_break.is_none()).then(|| merge_by_time(entries));
        Ok((report, entries))
    }

    /// Under the lock, in a writable open that found no chain for this
    /// machine: the log from before chains (`audit/audit-log.jsonl`,
    /// converted first if it is still in the first format) becomes this
    /// machine's chain by one `rename`, so every hash stays valid, and an
    /// `audit.migrated` entry says so (when the chain verifies; a torn tail
    /// is set aside by the next append). Crash-safe: before the rename
    /// nothing has changed, after it the migration is done, and opening
    /// again finds this machine's chain and does nothing.
    pub(super) fn adopt_legacy(&self) -> Result<(), AuditError> {
        let legacy = self.dir.join(LOG_FILE);
        if fs::symlink_metadata(&legacy).is_err() {
            self.migrate_first_format()?;
        }
        let meta = match fs::symlink_metadata(&legacy) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.io("inspect", &legacy)(e)),
        };
        if !meta.is_file() {
            return Err(AuditError::Io {
                action: "use",
                path: legacy,
                source: io::Error::other(format!(
                    "it is {}, not a regular file",
                    crate::safe_read::kind_of(&meta)
                )),
            });
        }
        // A first-format conversion killed before it renamed its source:
        // finish it, so the old file is not read as one more chain.
        let old = self.dir.join(OLD_LOG_FILE);
        if old.exists() {
            let kept = self.dir.join(format!("{OLD_LOG_FILE}.migrated"));
            fs::rename(&old, &kept).map_err(self.io("rename", &old))?;
        }
        let report = verify_text(&self.read_chain(&legacy)?);
        fs::rename(&legacy, &self.file).map_err(self.io("rename", &legacy))?;
        sync_dir(&self.chains).map_err(self.io("sync directory", &self.chains))?;
        sync_dir(&self.dir).map_err(self.io("sync directory", &self.dir))?;
        if report.first_break.is_none() {
            let detail = format!(
                "{} became this machine's chain {} ({} entries; hashes unchanged)",
                legacy.display(),
                self.file.display(),
                report.entries
            );
            self.append_locked(&[NewEntry::note(
                Utc::now(),
                "breachdesk",
                None,
                "audit.migrated",
                &detail,
            )])?;
        }
        Ok(())
    }
}

/// The entries of one chain file's text, in file order, each naming its
/// chain. Fails on the first line that cannot be read.
fn entries_of(file: &ChainFile, text: &str) -> Result<Vec<AuditEntry>, AuditError> {
    let corrupt = |line: usize, message: String| AuditError::Corrupt {
        file: file.path.clone(),
        line,
        message,
    };
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Line::Marker(_)) => {}
            Ok(Line::Entry(raw)) => out.push(
                raw.into_entry(&file.chain)
                    .map_err(|message| corrupt(index + 1, message))?,
            ),
            Err(message) => return Err(corrupt(index + 1, message)),
        }
    }
    Ok(out)
}

/// Merges chains (given in name order) into one list by time, keeping each
/// chain's own order: the next entry is always the earliest of the chains'
/// next entries, the first chain winning a tie.
fn merge_by_time(chains: Vec<Vec<AuditEntry>>) -> Vec<AuditEntry> {
    let mut queues: Vec<VecDeque<AuditEntry>> = chains
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(VecDeque::from)
        .collect();
    if queues.len() <= 1 {
        return queues.pop().map(Vec::from).unwrap_or_default();
    }
    let mut out = Vec::with_capacity(queues.iter().map(VecDeque::len).sum());
    loop {
        let mut next: Option<(usize, DateTime<Utc>)> = None;
        for (i, queue) in queues.iter().enumerate() {
            if let Some(e) = queue.front()
                && next.is_none_or(|(_, at)| e.at < at)
            {
                next = Some((i, e.at));
            }
        }
        let Some((i, _)) = next else { break };
        if let Some(e) = queues[i].pop_front() {
            out.push(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(chain: &str, seq: u64, minute: u32) -> AuditEntry {
        AuditEntry {
            chain: chain.into(),
            seq,
            at: DateTime::parse_from_rfc3339(&format!("2026-11-28T14:{minute:02}:00Z"))
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            actor: "a".into(),
            incident: None,
            action: "x".into(),
            detail: String::new(),
            revision: None,
            record_sha256: None,
            prev: String::new(),
            hash: String::new(),
            signed: false,
        }
    }

    fn order(merged: &[AuditEntry]) -> Vec<(String, u64)> {
        merged.iter().map(|e| (e.chain.clone(), e.seq)).collect()
    }

    #[test]
    fn chains_merge_by_time_keeping_each_chains_order_and_ties_by_chain() {
        // Chain b's clock went backwards (seq 2 before seq 1's time): its own
        // order is kept; ties at 14:05 go to chain a first.
        let a = vec![entry("a", 1, 1), entry("a", 2, 5), entry("a", 3, 9)];
        let b = vec![entry("b", 1, 5), entry("b", 2, 3), entry("b", 3, 7)];
        let merged = merge_by_time(vec![a, b]);
        let want: Vec<(String, u64)> = [("a", 1), ("a", 2), ("b", 1), ("b", 2), ("b", 3), ("a", 3)]
            .iter()
            .map(|(c, s)| (c.to_string(), *s))
            .collect();
        assert_eq!(order(&merged), want);
        assert!(merge_by_time(Vec::new()).is_empty());
    }
}
