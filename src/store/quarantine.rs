//! Records that would not parse: moved aside, listed, and put back once
//! fixed by hand.

use super::*;

impl Store {
    /// Moves a corrupt record to `quarantine/<name>.<UTC stamp>[-n]`, under the
    /// incident's lock and only if the file still holds the text we judged.
    pub(super) fn quarantine_file(
        &self,
        stem: &str,
        path: &Path,
        judged: &[u8],
    ) -> Result<QuarantineOutcome, StoreError> {
        let _guard = if valid_id(stem) {
            Some(self.lock(stem)?)
        } else {
            None
        };
        match read_bytes(path, MAX_RECORD_BYTES) {
            Ok(now) if now == judged => {}
            Ok(_) => return Ok(QuarantineOutcome::Changed),
            Err(e) if e.is_not_found() => return Ok(QuarantineOutcome::Gone),
            Err(e) => return Err(unreadable(path, e)),
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        for n in 0..1000u32 {
            let target = if n == 0 {
                self.quarantine.join(format!("{name}.{stamp}"))
            } else {
                self.quarantine.join(format!("{name}.{stamp}-{n}"))
            };
            // hard_link never overwrites: it fails if the target exists.
            match fs::hard_link(path, &target) {
                Ok(()) => {
                    sync_dir(&self.quarantine)
                        .map_err(io_err("sync directory", &self.quarantine))?;
                    fs::remove_file(path).map_err(io_err("remove", path))?;
                    sync_dir(&self.incidents).map_err(io_err("sync directory", &self.incidents))?;
                    // Best effort: the move is done and reported either way.
                    let _ = self.audit.append(
                        Utc::now(),
                        "breachdesk",
                        valid_id(stem).then_some(stem),
                        "record.quarantined",
                        &format!(
                            "{} would not parse; moved to {}",
                            path.display(),
                            target.display()
                        ),
                    );
                    return Ok(QuarantineOutcome::Moved(target));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err("move to quarantine", &target)(e)),
            }
        }
        Err(StoreError::Io {
            action: "find a free quarantine name in",
            path: self.quarantine.clone(),
            source: io::Error::other("too many quarantined copies with this timestamp"),
        })
    }
}

pub(super) enum QuarantineOutcome {
    Moved(PathBuf),
    Changed,
    Gone,
}

/// A file in `quarantine/`: a record that would not parse, moved aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedFile {
    /// Full path of the file.
    pub path: PathBuf,
    /// The incident its name says it holds (`INC-x` of
    /// `INC-x.toml.20261128T143000Z`), if the name says.
    pub id: Option<String>,
    /// Its size in bytes.
    pub size: u64,
}

/// The incident id a quarantined (or hand-fixed) file's name says it holds:
/// the part before `.toml`, when that is a valid id.
pub fn id_from_file_name(name: &str) -> Option<&str> {
    let (id, _) = name.split_once(".toml")?;
    valid_id(id).then_some(id)
}

impl Store {
    /// Every file in `quarantine/`, sorted by name.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedFile>, StoreError> {
        let entries = match fs::read_dir(&self.quarantine) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("list", &self.quarantine)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("list", &self.quarantine))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // DirEntry::metadata does not follow symbolic links.
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            out.push(QuarantinedFile {
                path: entry.path(),
                id: id_from_file_name(&name).map(str::to_string),
                size,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// The quarantined files of incident `id`.
    pub(super) fn quarantined_files_of(&self, id: &str) -> Vec<PathBuf> {
        self.quarantined()
            .unwrap_or_default()
            .into_iter()
            .filter(|q| q.id.as_deref() == Some(id))
            .map(|q| q.path)
            .collect()
    }

    /// [`StoreError::Quarantined`] when `wanted` (lower case) names exactly
    /// one quarantined incident (in full, or by a prefix or suffix).
    pub(super) fn quarantined_match(&self, wanted: &str) -> Option<StoreError> {
        let mut ids: Vec<String> = self
            .quarantined()
            .ok()?
            .into_iter()
            .filter_map(|q| q.id)
            .filter(|id| {
                let lower = id.to_ascii_lowercase();
                lower.starts_with(wanted) || lower.ends_with(wanted)
            })
            .collect();
        ids.sort();
        ids.dedup();
        if ids.len() != 1 {
            return None;
        }
        let id = ids.remove(0);
        Some(StoreError::Quarantined {
            files: self.quarantined_files_of(&id),
            id,
        })
    }

    /// Checks that `file` (a name in `quarantine/`, or any path) could be
    /// restored: a regular file whose name starts with the incident id, that
    /// parses, whose id matches its name, and whose incident is not in
    /// `incidents/` already. Returns its path, the id and its bytes.
    pub fn restorable(&self, file: &Path) -> Result<(PathBuf, String, Vec<u8>), StoreError> {
        self.restorable_record(file)
            .map(|(path, id, bytes, _)| (path, id, bytes))
    }

    /// [`Store::restorable`], with the record as it parsed.
    fn restorable_record(
        &self,
        file: &Path,
    ) -> Result<(PathBuf, String, Vec<u8>, Incident), StoreError> {
        let in_quarantine = self.quarantine.join(file);
        let path = if file.components().count() == 1 && fs::symlink_metadata(&in_quarantine).is_ok()
        {
            in_quarantine
        } else {
            file.to_path_buf()
        };
        let refuse = |message: String| StoreError::Restore {
            file: path.clone(),
            message,
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = id_from_file_name(&name)
            .ok_or_else(|| {
                refuse(
                    "its name must start with the incident id and .toml (e.g. INC-20261128-1305-fce27e.toml.20261128T143000Z)"
                        .into(),
                )
            })?
            .to_string();
        let bytes = read_bytes(&path, MAX_RECORD_BYTES).map_err(|e| refuse(e.to_string()))?;
        let incident = parse_record_bytes(&bytes, &id).into_result(path.clone())?;
        if fs::symlink_metadata(self.record_path(&id)).is_ok() {
            return Err(refuse(format!(
                "{id} is already in {} (remove or rename that record first)",
                self.incidents.display()
            )));
        }
        Ok((path, id, bytes, incident))
    }

    /// Puts a hand-fixed record back (see [`Store::restorable`] for the
    /// checks). It is written atomically (0600) under the
    /// incident's lock; a file that was in `quarantine/` is then removed
    /// from there. Returns the record as restored.
    pub fn restore_quarantined(
        &self,
        file: &Path,
        note: &AuditNote,
    ) -> Result<Incident, StoreError> {
        self.writable("restoring a record")?;
        let (path, id, bytes, incident) = self.restorable_record(file)?;
        let refuse = |message: String| StoreError::Restore {
            file: path.clone(),
            message,
        };
        let from_quarantine = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .and_then(|p| fs::canonicalize(p).ok())
            .zip(fs::canonicalize(&self.quarantine).ok())
            .is_some_and(|(a, b)| a == b);
        let index = self.lock_index()?;
        let _guard = self.lock(&id)?;
        let target = self.record_path(&id);
        if fs::symlink_metadata(&target).is_ok() {
            return Err(refuse(format!(
                "{id} is already in {} (remove or rename that record first)",
                self.incidents.display()
            )));
        }
        // Logged first, like every record write: the restored bytes become a
        // revision the audit log accounts for.
        self.audit
            .append_entries(&[note.entry(&id, incident.revision, &record_sha256(&bytes))])
            .map_err(|source| StoreError::AuditFailed {
                id: id.clone(),
                source,
            })?;
        let before = self.index_before_save(&index, &id);
        replace_file(&self.incidents, &format!("{id}.toml"), &bytes)
            .map_err(io_err("write", &target))?;
        if let Some(before) = before {
            self.index_after_save(&index, before, &incident, false);
        }
        if from_quarantine {
            fs::remove_file(&path).map_err(io_err("remove", &path))?;
            sync_dir(&self.quarantine).map_err(io_err("sync directory", &self.quarantine))?;
        }
        // What was written is exactly the bytes that parsed as `incident`.
        Ok(incident)
    }
}
