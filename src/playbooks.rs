//! Finding playbooks: the shipped ones built into the binary, a user's own in
//! `<config dir>/playbooks/*.toml`, and any given with `--playbook FILE`.
//! A user's playbook with the same name as a built-in one replaces it. A bad
//! user playbook is reported and skipped; it never stops the others loading.

use crate::domain::playbook::{Playbook, PlaybookError};
use std::path::{Path, PathBuf};

/// The playbooks shipped with breachdesk: (file name, text).
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "schedule6-paragraph8.toml",
        include_str!("../playbooks/schedule6-paragraph8.toml"),
    ),
    (
        "uk-gdpr-personal-data.toml",
        include_str!("../playbooks/uk-gdpr-personal-data.toml"),
    ),
];

/// The playbooks in force, and the files that were refused.
#[derive(Debug, Clone, Default)]
pub struct PlaybookSet {
    pub playbooks: Vec<Playbook>,
    pub problems: Vec<PlaybookError>,
}

impl PlaybookSet {
    /// Built-in, then `user_dir/*.toml` (sorted by file name), then `extra`
    /// files; a later playbook with the same name replaces an earlier one.
    pub fn load(user_dir: Option<&Path>, extra: &[PathBuf]) -> PlaybookSet {
        let mut set = PlaybookSet::default();
        for (file, text) in BUILT_IN {
            match Playbook::parse(text, &format!("built-in:{file}")) {
                Ok(mut playbook) => {
                    playbook.source = "built-in".into();
                    set.add(playbook);
                }
                Err(e) => set.problems.push(e),
            }
        }
        let mut files: Vec<PathBuf> = user_dir
            .and_then(|dir| std::fs::read_dir(dir).ok())
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        files.extend(extra.iter().cloned());
        for file in files {
            match read_playbook(&file) {
                Ok(playbook) => set.add(playbook),
                Err(e) => set.problems.push(e),
            }
        }
        set
    }

    fn add(&mut self, playbook: Playbook) {
        match self.playbooks.iter_mut().find(|p| p.name == playbook.name) {
            Some(existing) => *existing = playbook,
            None => self.playbooks.push(playbook),
        }
    }

    /// A playbook by name.
    pub fn get(&self, name: &str) -> Option<&Playbook> {
        self.playbooks.iter().find(|p| p.name == name)
    }
}

/// Reads and checks one playbook file.
pub fn read_playbook(path: &Path) -> Result<Playbook, PlaybookError> {
    let shown = path.display().to_string();
    // Only a regular file (a FIFO or /dev/zero never hangs or fills memory).
    let text = crate::safe_read::read_user_file(path).map_err(|e| PlaybookError {
        file: shown.clone(),
        line: 1,
        column: 1,
        message: format!("cannot read: {e}"),
    })?;
    Playbook::parse(&text, &shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_playbooks_are_valid() {
        let set = PlaybookSet::load(None, &[]);
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        let names: Vec<&str> = set.playbooks.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["schedule6-paragraph8", "uk-gdpr-personal-data"]);
    }
}
