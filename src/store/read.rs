//! Reading records: only regular files, never through a link, up to a size
//! cap; parsing with file:line:column; listing and resolving ids.

use super::summary_line::summary_from_line;
use super::*;
use crate::domain::summary::IncidentSummary;

/// Outcome of parsing one record's text.
pub(super) enum Parsed {
    Ok(Box<Incident>),
    TooNew(u32),
    Bad {
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
}

impl Parsed {
    /// The record, or the error that names `file` (line and column when
    /// known) or says it is from a newer breachdesk.
    pub(super) fn into_result(self, file: PathBuf) -> Result<Incident, StoreError> {
        match self {
            Parsed::Ok(incident) => Ok(*incident),
            Parsed::TooNew(found) => Err(StoreError::TooNew {
                file,
                found,
                supported: SCHEMA_VERSION,
            }),
            Parsed::Bad {
                line,
                column,
                message,
            } => Err(StoreError::Corrupt {
                file,
                line,
                column,
                message,
            }),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct VersionOnly {
    schema_version: Option<toml::Value>,
}

/// The schema version a record that does not parse says it was written
/// under, when that is newer than this build's: its `schema_version`
/// (any integer, even one too large for this build), or the schema part of
/// its summary line (`# breachdesk-summary v7.3 …`).
pub(super) fn newer_version(text: &str) -> Option<u32> {
    let said = toml::from_str::<VersionOnly>(text)
        .ok()
        .and_then(|v| v.schema_version)
        .and_then(|v| v.as_integer());
    let from_line = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# breachdesk-summary v"))
        .and_then(|l| l.split(' ').next())
        .and_then(|v| v.split_once('.'))
        .and_then(|(_, schema)| schema.parse::<i64>().ok());
    let newest = said.into_iter().chain(from_line).max()?;
    (newest > i64::from(SCHEMA_VERSION)).then(|| u32::try_from(newest).unwrap_or(u32::MAX))
}

/// Like [`parse_record`], for bytes that may not be UTF-8.
pub(super) fn parse_record_bytes(bytes: &[u8], expected_id: &str) -> Parsed {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_record(text, expected_id),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let before = String::from_utf8_lossy(valid);
            let (line, column) = crate::text::line_col(&before, before.len());
            Parsed::Bad {
                line: Some(line),
                column: Some(column),
                message: "not UTF-8 text".into(),
            }
        }
    }
}

/// Parses a record's text, checking that its id is `expected_id`.
pub(super) fn parse_record(text: &str, expected_id: &str) -> Parsed {
    match toml::from_str::<Incident>(text) {
        Ok(mut incident) => {
            if incident.schema_version > SCHEMA_VERSION {
                return Parsed::TooNew(incident.schema_version);
            }
            if incident.id != expected_id {
                let (line, column) = find_key_position(text, "id");
                return Parsed::Bad {
                    line,
                    column,
                    message: format!(
                        "the record's id '{}' does not match its file name ('{}.toml')",
                        crate::text::one_line(&incident.id),
                        expected_id
                    ),
                };
            }
            // An older record gets its entries' ids here (written on next save).
            incident.upgrade();
            Parsed::Ok(Box::new(incident))
        }
        Err(err) => {
            // A newer format may add fields or change types: don't call that
            // corrupt (and never move it: it is a teammate's record).
            if let Some(v) = newer_version(text) {
                return Parsed::TooNew(v);
            }
            let (line, column) = match err.span() {
                Some(span) => {
                    let (l, c) = crate::text::line_col(text, span.start);
                    (Some(l), Some(c))
                }
                None => (None, None),
            };
            Parsed::Bad {
                line,
                column,
                message: crate::text::one_line(err.message().trim()),
            }
        }
    }
}

/// Line/column of a top-level `key = ` line, for messages about a field's value.
pub(super) fn find_key_position(text: &str, key: &str) -> (Option<usize>, Option<usize>) {
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            break;
        }
        if let Some(rest) = trimmed.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return (Some(n + 1), Some(line.len() - trimmed.len() + 1));
        }
    }
    (None, None)
}

impl Store {
    /// The bytes of `incidents/<ID>.toml`, read only if it is a regular file
    /// (never through a symbolic link, never blocking on a FIFO) of at most
    /// [`MAX_RECORD_BYTES`]. A missing record that is in quarantine says so.
    fn read_record_bytes(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.record_path(id);
        read_bytes(&path, MAX_RECORD_BYTES).map_err(|e| {
            if e.is_not_found() {
                let files = self.quarantined_files_of(id);
                if files.is_empty() {
                    StoreError::NotFound {
                        id: id.to_string(),
                        dir: self.incidents.clone(),
                    }
                } else {
                    StoreError::Quarantined {
                        id: id.to_string(),
                        files,
                    }
                }
            } else {
                unreadable(&path, e)
            }
        })
    }

    /// Loads one record. Never moves files: a corrupt record is reported as
    /// [`StoreError::Corrupt`] with file, line and column.
    pub fn load(&self, id: &str) -> Result<Incident, StoreError> {
        check_id(id)?;
        let bytes = self.read_record_bytes(id)?;
        parse_record_bytes(&bytes, id).into_result(self.record_path(id))
    }

    /// One record's summary: from its summary line when that line can be
    /// used (see `summary_line`: of this version, for this id, its hash
    /// matching the rest of the file), otherwise by parsing the record as
    /// [`Store::load`] does, with the same errors. The flag says whether the
    /// line was used.
    pub(super) fn load_summary(&self, id: &str) -> Result<(IncidentSummary, bool), StoreError> {
        check_id(id)?;
        let bytes = self.read_record_bytes(id)?;
        if let Some(summary) = summary_from_line(&bytes, id) {
            return Ok((summary, true));
        }
        let incident = parse_record_bytes(&bytes, id).into_result(self.record_path(id))?;
        Ok((IncidentSummary::of(&incident), false))
    }

    /// Every record file (not temp files) in `incidents/` as (id, path),
    /// sorted by id. Whatever the entries are (symbolic links, FIFOs...):
    /// reading them is what refuses the odd ones, with a warning.
    pub fn record_files(&self) -> Result<Vec<(String, PathBuf)>, StoreError> {
        let entries = match fs::read_dir(&self.incidents) {
            Ok(entries) => entries,
            // A read-only look at a data directory nobody has written to yet.
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.read_only => {
                return Ok(Vec::new());
            }
            Err(e) => return Err(io_err("list", &self.incidents)(e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("list", &self.incidents))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if let Some(stem) = name.strip_suffix(".toml") {
                out.push((stem.to_string(), entry.path()));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Every record that parses (sorted by id), and a problem for every file
    /// that does not. Corrupt files are moved to `quarantine/`; records from a
    /// newer breachdesk are reported and left in place.
    pub fn load_all(&self) -> LoadReport {
        let mut report = LoadReport::default();
        let files = match self.record_files() {
            Ok(files) => files,
            Err(e) => {
                report.problems.push(LoadProblem {
                    file: self.incidents.clone(),
                    line: None,
                    column: None,
                    message: e.to_string(),
                    quarantined_to: None,
                });
                return report;
            }
        };
        for (stem, path) in files {
            let text = match read_bytes(&path, MAX_RECORD_BYTES) {
                Ok(text) => text,
                Err(e) if e.is_not_found() => continue,
                Err(e) => {
                    report.problems.push(LoadProblem {
                        file: path,
                        line: None,
                        column: None,
                        message: format!("{e}; skipped, left in place"),
                        quarantined_to: None,
                    });
                    continue;
                }
            };
            match parse_record_bytes(&text, &stem) {
                Parsed::Ok(incident) => report.incidents.push(*incident),
                Parsed::TooNew(found) => report.problems.push(LoadProblem {
                    file: path,
                    line: None,
                    column: None,
                    message: format!(
                        "written by a newer breachdesk (schema version {found}; this one understands up to {SCHEMA_VERSION}): upgrade breachdesk to use it; left in place, untouched"
                    ),
                    quarantined_to: None,
                }),
                Parsed::Bad {
                    line,
                    column,
                    message,
                } if self.read_only => report.problems.push(LoadProblem {
                    file: path,
                    line,
                    column,
                    message: format!(
                        "{message} (left in place by this read-only command: `breachdesk quarantine sweep` or the console moves it to quarantine/)"
                    ),
                    quarantined_to: None,
                }),
                Parsed::Bad {
                    line,
                    column,
                    message,
                } => {
                    let (quarantined_to, message) = match self.quarantine_file(&stem, &path, &text)
                    {
                        Ok(QuarantineOutcome::Moved(to)) => (Some(to), message),
                        Ok(QuarantineOutcome::Changed) => {
                            // Rewritten between our read and the lock: look again.
                            match self.load(&stem) {
                                Ok(incident) => {
                                    report.incidents.push(incident);
                                    continue;
                                }
                                Err(_) => (None, message),
                            }
                        }
                        Ok(QuarantineOutcome::Gone) => continue,
                        Err(e) => (None, format!("{message} (could not quarantine: {e})")),
                    };
                    report.problems.push(LoadProblem {
                        file: path,
                        line,
                        column,
                        message,
                        quarantined_to,
                    });
                }
            }
        }
        report.incidents.sort_by(|a, b| a.id.cmp(&b.id));
        report
    }

    /// Ids of the records in `incidents/` (by file name), sorted.
    pub fn ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .record_files()?
            .into_iter()
            .map(|(stem, _)| stem)
            .filter(|stem| valid_id(stem))
            .collect())
    }

    /// The id `text` means: an exact id (case-insensitive), or the one id it is
    /// a prefix or suffix of (case-insensitive), e.g. `7f3a9c`.
    pub fn resolve_id(&self, text: &str) -> Result<String, StoreError> {
        let wanted = text.trim().to_ascii_lowercase();
        let unknown = || StoreError::UnknownIncident {
            text: text.to_string(),
            dir: self.incidents.clone(),
        };
        if wanted.is_empty() {
            return Err(unknown());
        }
        // The usual case, a full id as printed: no need to list the directory.
        let exact = text.trim().to_string();
        if valid_id(&exact)
            && fs::symlink_metadata(self.record_path(&exact)).is_ok_and(|m| m.is_file())
        {
            return Ok(exact);
        }
        // The index knows every id when it can be trusted: a read-only
        // command never lists `incidents/`.
        let ids = match self.indexed_ids() {
            Some(ids) => ids,
            None => self.ids()?,
        };
        if let Some(id) = ids.iter().find(|id| id.to_ascii_lowercase() == wanted) {
            return Ok(id.clone());
        }
        let candidates: Vec<String> = ids
            .into_iter()
            .filter(|id| {
                let lower = id.to_ascii_lowercase();
                lower.starts_with(&wanted) || lower.ends_with(&wanted)
            })
            .collect();
        match candidates.len() {
            0 => Err(self.quarantined_match(&wanted).unwrap_or_else(unknown)),
            1 => Ok(candidates.into_iter().next().unwrap_or_default()),
            _ => Err(StoreError::Ambiguous {
                text: text.to_string(),
                candidates,
            }),
        }
    }
}
