//! Opening the trail: writable (making the machine id, this machine's
//! chain and signing key, adopting an older log, endorsing unsigned
//! history) or read-only (creating nothing).

use super::*;

impl AuditLog {
    /// Opens (creating as needed) `audit/` and `audit/chains/` (0700) under
    /// `data_dir`, this machine's id (`machine-id`, made once), its chain
    /// `audit/chains/<machine-id>.jsonl` and `audit/audit.lock` (0600). A
    /// log from before chains becomes this machine's chain (converted first
    /// if in the first format).
    pub fn open(data_dir: &Path) -> Result<AuditLog, AuditError> {
        AuditLog::open_as(data_dir, None)
    }

    /// [`AuditLog::open`], for the responder `name` (the comment of this
    /// machine's `.pub` if it is made now; when `None`, the `.pub` is made
    /// at the first append, named after its actor). Makes
    /// this machine's signing key if it has none, and appends a signed
    /// `audit.signing-key` entry when its chain has entries but no signed
    /// one (written before signing), endorsing them.
    pub fn open_as(data_dir: &Path, name: Option<&str>) -> Result<AuditLog, AuditError> {
        let dir = data_dir.join(AUDIT_DIR);
        let chains = dir.join(CHAINS_DIR);
        refuse_link(&dir)?;
        refuse_link(&chains)?;
        let mut warnings = Vec::new();
        for d in [data_dir, dir.as_path(), chains.as_path()] {
            let warning = ensure_private_dir(d).map_err(|source| AuditError::Io {
                action: "use directory",
                path: d.to_path_buf(),
                source,
            })?;
            warnings.extend(warning);
        }
        let machine =
            crate::paths::ensure_machine_id(data_dir).map_err(|source| AuditError::Io {
                action: "use machine id",
                path: crate::paths::machine_id_file(data_dir),
                source,
            })?;
        let mut log = AuditLog {
            file: chain_file(data_dir, &machine),
            machine: Some(machine.clone()),
            lock: dir.join(LOCK_FILE),
            chains,
            dir,
            read_only: false,
            warnings,
            signer: None,
        };
        log.signer = Some(std::sync::Arc::new(signing::Signer::ensure(
            data_dir, &machine, name,
        )?));
        let _guard = log.lock()?;
        match fs::symlink_metadata(&log.file) {
            Ok(meta) if !meta.is_file() => {
                return Err(AuditError::Io {
                    action: "use",
                    path: log.file.clone(),
                    source: io::Error::other(format!(
                        "it is {}, not a regular file",
                        crate::safe_read::kind_of(&meta)
                    )),
                });
            }
            Ok(_) => {}
            Err(_) => log.adopt_legacy()?,
        }
        OpenOptions::new()
            .append(true)
            .create(true)
            .mode(FILE_MODE)
            .open(&log.file)
            .map_err(log.io("create", &log.file))?;
        sync_dir(&log.chains).map_err(log.io("sync directory", &log.chains))?;
        sync_dir(&log.dir).map_err(log.io("sync directory", &log.dir))?;
        log.endorse_unsigned()?;
        Ok(log)
    }

    /// Under the lock: when this machine's chain has entries and its last
    /// one is unsigned, and none is signed (written before signing), a
    /// signed `audit.signing-key` entry endorsing them. Reads the whole
    /// chain only when the last entry is unsigned.
    fn endorse_unsigned(&self) -> Result<(), AuditError> {
        let Some(signer) = &self.signer else {
            return Ok(());
        };
        let (seq, _) = match self.tip() {
            Ok(tip) => tip,
            // A torn tail: the next append sets it aside and signs.
            Err(_) => return Ok(()),
        };
        if seq == 0 || self.tip_signed()? {
            return Ok(());
        }
        let text = self.read_chain(&self.file)?;
        let (report, raws) = chain::verify_collect(&text, true);
        if report.first_break.is_some() || raws.iter().any(|(_, r)| r.sig.is_some()) {
            return Ok(());
        }
        let detail = format!(
            "this machine signs its chain from here on with key {} ({}); this signature endorses the {} unsigned entries before it, written by an older breachdesk",
            signer.fingerprint(),
            crate::text::one_line(&signer.current_name().unwrap_or_else(os_user)),
            raws.len()
        );
        self.append_locked(&[NewEntry::note(
            Utc::now(),
            signing::SYSTEM_ACTOR,
            None,
            signing::SIGNING_KEY_ACTION,
            &detail,
        )])?;
        Ok(())
    }

    /// The trail of `data_dir` for reading only: creates, locks, converts
    /// and moves nothing (not even a machine id), so it works on a read-only
    /// data directory. Appending through it is refused.
    pub fn open_read_only(data_dir: &Path) -> AuditLog {
        let dir = data_dir.join(AUDIT_DIR);
        let mut warnings = Vec::new();
        let machine = crate::paths::read_machine_id(data_dir).unwrap_or_else(|e| {
            warnings.push(format!(
                "{}: {e}",
                crate::paths::machine_id_file(data_dir).display()
            ));
            None
        });
        let own = machine
            .as_deref()
            .map(|id| chain_file(data_dir, id))
            .filter(|f| fs::symlink_metadata(f).is_ok());
        AuditLog {
            file: own.unwrap_or_else(|| dir.join(LOG_FILE)),
            machine,
            chains: dir.join(CHAINS_DIR),
            lock: dir.join(LOCK_FILE),
            dir,
            read_only: true,
            warnings,
            signer: None,
        }
    }
}

/// The OS user, for a `.pub` comment when no responder name is given.
pub(super) fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .or_else(|| whoami::username().ok())
        .unwrap_or_else(|| "unknown".to_string())
}
