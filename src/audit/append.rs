//! Appending to this machine's chain: reading its tip, one write and one
//! `fsync` under the lock, and setting aside a torn tail first.

use super::*;

impl AuditLog {
    /// The seq and hash the next entry of this machine's chain follows.
    /// Reads only the tail of the file. A last line that is not a complete
    /// entry is refused: nothing is appended after damage.
    pub(super) fn tip(&self) -> Result<(u64, String), AuditError> {
        self.tip_full().map(|(seq, hash, _)| (seq, hash))
    }

    /// Whether the last entry of this machine's chain is signed.
    pub(super) fn tip_signed(&self) -> Result<bool, AuditError> {
        self.tip_full().map(|(_, _, signed)| signed)
    }

    fn tip_full(&self) -> Result<(u64, String, bool), AuditError> {
        let mut file = match crate::safe_read::open_regular(&self.file).map_err(|e| e.into_io()) {
            Ok((f, _)) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok((0, ZERO_HASH.to_string(), false));
            }
            Err(e) => return Err(self.io("open", &self.file)(e)),
        };
        let len = file
            .metadata()
            .map_err(self.io("inspect", &self.file))?
            .len();
        if len == 0 {
            return Ok((0, ZERO_HASH.to_string(), false));
        }
        let mut window = TAIL_WINDOW;
        loop {
            let start = len.saturating_sub(window);
            file.seek(SeekFrom::Start(start))
                .map_err(self.io("read", &self.file))?;
            let mut bytes = Vec::new();
            Read::by_ref(&mut file)
                .take(len - start)
                .read_to_end(&mut bytes)
                .map_err(self.io("read", &self.file))?;
            let torn = || {
                self.corrupt(
                    0,
                    "the last line is not a complete entry (torn by a crash or a full disk); nothing is appended after damage: run `breachdesk audit repair`".into(),
                )
            };
            if bytes.last() != Some(&b'\n') {
                return Err(torn());
            }
            let body = &bytes[..bytes.len() - 1];
            let last = match body.iter().rposition(|b| *b == b'\n') {
                Some(p) => &body[p + 1..],
                None if start == 0 => body,
                None => {
                    window = window.saturating_mul(2);
                    continue;
                }
            };
            return match parse_line(&String::from_utf8_lossy(last)) {
                Ok(Line::Entry(raw)) => Ok((raw.seq, raw.hash, raw.sig.is_some())),
                Ok(Line::Marker(m)) => Ok((m.anchor_seq, m.anchor, false)),
                Err(_) => Err(torn()),
            };
        }
    }

    pub(super) fn raw_entry(seq: u64, prev: String, entry: &NewEntry) -> RawEntry {
        let mut raw = RawEntry {
            seq,
            at: format_at(entry.at),
            actor: entry.actor.clone(),
            incident: entry.incident.clone(),
            action: entry.action.clone(),
            detail: entry.detail.clone(),
            revision: entry.revision,
            record_sha256: entry.record_sha256.clone(),
            prev,
            hash: String::new(),
            sig: None,
        };
        raw.hash = raw.compute_hash();
        raw
    }

    /// [`AuditLog::raw_entry`], signed with this machine's key (when it has
    /// one: a writable open always does).
    pub(super) fn signed_entry(
        &self,
        seq: u64,
        prev: String,
        entry: &NewEntry,
    ) -> Result<RawEntry, AuditError> {
        let mut raw = Self::raw_entry(seq, prev, entry);
        if let Some(signer) = &self.signer {
            raw.sig = Some(signer.sign(&raw.hash).map_err(|m| self.corrupt(0, m))?);
        }
        Ok(raw)
    }

    /// `new`, with an [`signing::RENAMED_ACTION`] entry before the first
    /// entry whose actor is not the name this machine signs as (nor
    /// breachdesk itself), and the new name if one changed.
    fn with_renames(
        &self,
        new: &[NewEntry],
    ) -> Result<(Vec<NewEntry>, Option<String>), AuditError> {
        let Some(signer) = &self.signer else {
            return Ok((new.to_vec(), None));
        };
        let mut name = match signer.current_name() {
            Some(name) => name,
            None => {
                // No .pub yet (opened without a name): the first actor names it.
                let first = new
                    .iter()
                    .map(|e| e.actor.as_str())
                    .find(|a| *a != signing::SYSTEM_ACTOR)
                    .map_or_else(super::open::os_user, str::to_string);
                signer.ensure_public(&first)?;
                signer.current_name().unwrap_or(first)
            }
        };
        let mut renamed = None;
        let mut out = Vec::with_capacity(new.len());
        for entry in new {
            let actor = signing::clean_name(&entry.actor);
            if actor != name && entry.actor != signing::SYSTEM_ACTOR {
                out.push(NewEntry::note(
                    entry.at,
                    &entry.actor,
                    None,
                    signing::RENAMED_ACTION,
                    &format!(
                        "this machine's entries are signed as '{}' from here on (until now '{}')",
                        crate::text::one_line(&entry.actor),
                        crate::text::one_line(&name)
                    ),
                ));
                name = actor;
                renamed = Some(name.clone());
            }
            out.push(entry.clone());
        }
        Ok((out, renamed))
    }

    /// Appends one entry that changes no record to this machine's chain.
    pub fn append(
        &self,
        at: DateTime<Utc>,
        actor: &str,
        incident: Option<&str>,
        action: &str,
        detail: &str,
    ) -> Result<AuditEntry, AuditError> {
        let mut entries =
            self.append_entries(&[NewEntry::note(at, actor, incident, action, detail)])?;
        entries
            .pop()
            .ok_or_else(|| self.corrupt(0, "no entry was appended".into()))
    }

    /// Appends entries in order to this machine's chain, under the lock, as
    /// one write and one `fsync`. If that fails, the file is cut back to its
    /// old length (and synced), so the chain is exactly as it was, and the
    /// error is returned.
    pub fn append_entries(&self, new: &[NewEntry]) -> Result<Vec<AuditEntry>, AuditError> {
        self.writable("appending an audit entry")?;
        let _guard = self.lock()?;
        self.append_repairing(new)
    }

    /// [`AuditLog::append_entries`] with the lock held: a last line torn by
    /// a killed writer (its record was never written: records are written
    /// only after their entry) is set aside, logged, and the append goes on;
    /// other damage is refused.
    pub(super) fn append_repairing(&self, new: &[NewEntry]) -> Result<Vec<AuditEntry>, AuditError> {
        match self.tip() {
            Ok(tip) => self.append_after(tip, new),
            Err(damaged) => {
                let at = new.first().map_or_else(Utc::now, |e| e.at);
                let Some((_, _, note)) = self.set_aside_torn_tail(at, "breachdesk")? else {
                    return Err(damaged);
                };
                let mut all = vec![note];
                all.extend_from_slice(new);
                let mut entries = self.append_locked(&all)?;
                entries.remove(0);
                Ok(entries)
            }
        }
    }

    /// Appends to this machine's chain with the lock already held.
    pub(super) fn append_locked(&self, new: &[NewEntry]) -> Result<Vec<AuditEntry>, AuditError> {
        let tip = self.tip()?;
        self.append_after(tip, new)
    }

    /// Appends after the tip `(seq, hash)`, with the lock held.
    fn append_after(
        &self,
        (mut seq, mut prev): (u64, String),
        new: &[NewEntry],
    ) -> Result<Vec<AuditEntry>, AuditError> {
        let (all, renamed) = self.with_renames(new)?;
        let mut text = String::new();
        let mut raws = Vec::with_capacity(all.len());
        let mut renames = Vec::new();
        for entry in &all {
            seq += 1;
            let raw = self.signed_entry(seq, prev, entry)?;
            prev = raw.hash.clone();
            text.push_str(&raw.line());
            if entry.action == signing::RENAMED_ACTION && entry.incident.is_none() {
                renames.push(seq);
            }
            raws.push(raw);
        }
        durable::append_durably(&self.file, text.as_bytes())
            .map_err(self.io("append to", &self.file))?;
        tracing::debug!(entries = all.len(), last_seq = seq, "audit append");
        if let Some(signer) = &self.signer {
            if let Some(name) = &renamed {
                signer.set_current_name(name)?;
            }
            signer.remember_own_head(seq, &prev);
        }
        // The callers get back the entries they asked for, not the renames.
        let raws: Vec<RawEntry> = if renames.is_empty() {
            raws
        } else {
            raws.into_iter()
                .filter(|r| !renames.contains(&r.seq))
                .collect()
        };
        let chain = self.own_chain();
        raws.into_iter()
            .map(|raw| {
                raw.into_entry(chain)
                    .map_err(|message| self.corrupt(0, message))
            })
            .collect()
    }
}
