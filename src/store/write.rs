//! The one way a record is written: its audit entry first, then the record
//! (see [`Store::update`] and the crate README's data layout).

use super::index_format::IndexLock;
use super::summary_line::record_text;
use super::*;

/// What the audit entry for a change says: when, who, and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditNote {
    pub at: DateTime<Utc>,
    pub actor: String,
    /// e.g. `timeline.entry`, `incident.edited`.
    pub action: String,
    /// What changed, in words, including any text the responder typed.
    pub detail: String,
}

impl AuditNote {
    pub fn new(at: DateTime<Utc>, actor: &str, action: &str, detail: &str) -> AuditNote {
        AuditNote {
            at,
            actor: actor.to_string(),
            action: action.to_string(),
            detail: detail.to_string(),
        }
    }

    pub(super) fn entry(&self, incident: &str, revision: u64, sha256: &str) -> NewEntry {
        NewEntry {
            at: self.at,
            actor: self.actor.clone(),
            incident: Some(incident.to_string()),
            action: self.action.clone(),
            detail: self.detail.clone(),
            revision: Some(revision),
            record_sha256: Some(sha256.to_string()),
        }
    }
}

/// The SHA-256 of a record file's bytes, as the audit log keeps it.
pub fn record_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Store {
    /// Logs `note` for `incident` (revision already set) and then writes the
    /// record: the audit entry is durable before the record changes, so every
    /// saved revision has an entry. If the log cannot be written the record is
    /// left as it was; if the record cannot be written after the entry was
    /// logged, a `record.not-saved` entry says so (best effort) and the error
    /// says "not saved".
    ///
    /// The caller holds the index lock (`index`) and the incident's lock;
    /// `existed` says whether the record was in `incidents/` before. The
    /// summary index is kept exact (see [`crate::index`]).
    pub(super) fn commit(
        &self,
        index: &IndexLock,
        incident: &Incident,
        note: &AuditNote,
        existed: bool,
    ) -> Result<(), StoreError> {
        let path = self.record_path(&incident.id);
        let text = record_text(incident).map_err(|message| StoreError::Serialize {
            file: path.clone(),
            message,
        })?;
        let sha = record_sha256(text.as_bytes());
        let logged = self
            .audit
            .append_entries(&[note.entry(&incident.id, incident.revision, &sha)])
            .map_err(|source| StoreError::AuditFailed {
                id: incident.id.clone(),
                source,
            })?;
        let before = self.index_before_save(index, &incident.id);
        if let Err(cause) = self.write_text(&incident.id, &text) {
            let seq = logged.first().map_or(0, |e| e.seq);
            let _ = self.audit.append(
                note.at,
                &note.actor,
                Some(&incident.id),
                "record.not-saved",
                &format!(
                    "revision {} (logged at seq {seq}) was not written: {cause}",
                    incident.revision
                ),
            );
            return Err(StoreError::WriteAfterAudit {
                id: incident.id.clone(),
                revision: incident.revision,
                cause: Box::new(cause),
            });
        }
        if let Some(before) = before {
            self.index_after_save(index, before, incident, existed);
        }
        Ok(())
    }

    /// Writes a record's text atomically and durably. Caller holds the lock
    /// and has logged the change ([`Store::commit`]).
    pub(super) fn write_text(&self, id: &str, text: &str) -> Result<(), StoreError> {
        let path = self.record_path(id);
        // Temp files left by a killed writer are ignored by loading and
        // removed by `open`; not listing the directory here keeps a save's
        // cost independent of how many incidents there are.
        replace_file(&self.incidents, &format!("{id}.toml"), text.as_bytes())
            .map_err(io_err("replace", &path))
    }

    /// Creates a new record at revision 1, logging `note` first. Fails if
    /// that id already exists.
    pub fn create(&self, incident: &Incident, note: &AuditNote) -> Result<Incident, StoreError> {
        self.writable("opening an incident")?;
        check_id(&incident.id)?;
        let index = self.lock_index()?;
        let _guard = self.lock(&incident.id)?;
        let path = self.record_path(&incident.id);
        match fs::symlink_metadata(&path) {
            Ok(_) => {
                return Err(StoreError::AlreadyExists {
                    id: incident.id.clone(),
                    dir: self.incidents.clone(),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("inspect", &path)(e)),
        }
        let mut saved = incident.clone();
        saved.revision = 1;
        saved.upgrade();
        self.commit(&index, &saved, note, false)?;
        Ok(saved)
    }

    /// Creates many new records at once (for `demo` and imports), each at
    /// revision 1, refusing any id that already exists. Durable like
    /// [`Store::create`], but batched: all temp files are written, then all
    /// synced, then all renamed, then the directory is synced once, so ten
    /// thousand records cost seconds rather than minutes of fsyncs.
    /// Each gets its own audit entry (`note`, with the record's revision and
    /// SHA-256), all appended in one write before any record is renamed into
    /// place.
    pub fn create_many(
        &self,
        incidents: &[Incident],
        note: &AuditNote,
    ) -> Result<usize, StoreError> {
        self.writable("creating incidents")?;
        // Held so no scan writes the index between these renames (the
        // index is not updated here: the directory's time moves, and the
        // next scan reads the new records).
        let _index = self.lock_index()?;
        let mut temps = Vec::with_capacity(incidents.len());
        let mut entries = Vec::with_capacity(incidents.len());
        let result = (|| {
            for incident in incidents {
                check_id(&incident.id)?;
                let path = self.record_path(&incident.id);
                if fs::symlink_metadata(&path).is_ok() {
                    return Err(StoreError::AlreadyExists {
                        id: incident.id.clone(),
                        dir: self.incidents.clone(),
                    });
                }
                let mut saved = incident.clone();
                saved.revision = 1;
                saved.upgrade();
                let text = record_text(&saved).map_err(|message| StoreError::Serialize {
                    file: path.clone(),
                    message,
                })?;
                let tmp = self.incidents.join(format!(
                    "{}{}-{}",
                    crate::durable::temp_prefix(&format!("{}.toml", saved.id)),
                    std::process::id(),
                    crate::durable::random_hex(8)
                ));
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(FILE_MODE)
                    .open(&tmp)
                    .map_err(io_err("create", &tmp))?;
                temps.push((tmp.clone(), path, saved.id.clone()));
                std::io::Write::write_all(&mut file, text.as_bytes())
                    .map_err(io_err("write", &tmp))?;
                entries.push(note.entry(&saved.id, 1, &record_sha256(text.as_bytes())));
            }
            for (tmp, _, _) in &temps {
                File::open(tmp)
                    .and_then(|f| f.sync_all())
                    .map_err(io_err("sync", tmp))?;
            }
            self.audit
                .append_entries(&entries)
                .map_err(|source| StoreError::AuditFailed {
                    id: format!("{} new incidents", entries.len()),
                    source,
                })?;
            for (tmp, path, id) in &temps {
                let _guard = self.lock(id)?;
                if fs::symlink_metadata(path).is_ok() {
                    return Err(StoreError::AlreadyExists {
                        id: id.clone(),
                        dir: self.incidents.clone(),
                    });
                }
                fs::rename(tmp, path).map_err(io_err("replace", path))?;
            }
            sync_dir(&self.incidents).map_err(io_err("sync directory", &self.incidents))?;
            Ok(temps.len())
        })();
        if result.is_err() {
            for (tmp, _, _) in &temps {
                let _ = fs::remove_file(tmp);
            }
        }
        result
    }

    /// Locks the incident, re-reads the latest record, applies `change` and
    /// writes (revision + 1) only if anything but the revision changed.
    /// Returns the record as saved (or as it is, unchanged) and whether it was
    /// written. `change` must not alter the id.
    pub fn update<E>(
        &self,
        id: &str,
        change: impl FnOnce(&mut Incident) -> Result<AuditNote, E>,
    ) -> Result<(Incident, bool), UpdateError<E>> {
        self.writable("changing an incident")?;
        check_id(id)?;
        let index = self.lock_index()?;
        let _guard = self.lock(id)?;
        let before = self.load(id)?;
        let mut after = before.clone();
        let note = change(&mut after).map_err(UpdateError::Change)?;
        after.upgrade();
        if after.id != before.id {
            return Err(StoreError::IdChanged {
                id: before.id,
                new_id: after.id,
                file: self.record_path(id),
            }
            .into());
        }
        after.revision = before.revision;
        if after == before {
            return Ok((before, false));
        }
        after.revision = before.revision + 1;
        self.commit(&index, &after, &note, true)?;
        Ok((after, true))
    }

    /// Optimistic save of a record the caller loaded and edited: fails with
    /// [`StoreError::Conflict`] (writing nothing) if the record on disk is no
    /// longer at `incident.revision`; writes nothing if nothing changed;
    /// otherwise writes it at revision + 1 and returns it as saved.
    pub fn save(&self, incident: &Incident, note: &AuditNote) -> Result<Incident, StoreError> {
        self.writable("saving an incident")?;
        check_id(&incident.id)?;
        let index = self.lock_index()?;
        let _guard = self.lock(&incident.id)?;
        let current = self.load(&incident.id)?;
        if current.revision != incident.revision {
            return Err(StoreError::Conflict {
                id: incident.id.clone(),
                expected: incident.revision,
                found: current.revision,
            });
        }
        let mut saved = incident.clone();
        saved.upgrade();
        if same_content(&current, &saved) {
            return Ok(current);
        }
        saved.revision = current.revision + 1;
        self.commit(&index, &saved, note, true)?;
        Ok(saved)
    }
}
