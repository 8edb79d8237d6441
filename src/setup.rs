//! Where things are: the data directory, the config file and the playbooks,
//! resolved from plain inputs (an option each, the environment's defaults),
//! and the [`Desk`] opened on them. Both frontends start here: the command
//! line ([`crate::commands`]) and the console ([`crate::tui`]).

use crate::config::Config;
use crate::desk::Desk;
use crate::domain::calendar::{Division, WorkingCalendar};
use crate::playbooks::PlaybookSet;
use crate::text::one_line;
use anyhow::{Result, anyhow, bail};
use chrono_tz::Tz;
use std::path::PathBuf;

/// What the responder said about where things are (the command line's
/// `--data-dir`, `--config` and `--playbook`, with `BREACHDESK_DATA_DIR` and
/// `BREACHDESK_CONFIG` already folded in by whoever read them).
#[derive(Debug, Clone, Default)]
pub struct Where {
    /// The data directory; the platform's default when `None`.
    pub data_dir: Option<PathBuf>,
    /// The config file; the platform's default when `None`.
    pub config: Option<PathBuf>,
    /// Whether the config file was named on purpose (typed `--config`): a
    /// named file that does not exist is an error.
    pub config_named: bool,
    /// Whether the config file is about to be written (`config init`), so
    /// it need not exist yet.
    pub config_to_be_written: bool,
    /// Extra playbook files, each overriding one with the same name.
    pub playbooks: Vec<PathBuf>,
}

/// Where things are, once resolved and the config file read.
pub struct Setup {
    pub data_dir: PathBuf,
    pub config_path: PathBuf,
    pub config: Config,
    pub extra_playbooks: Vec<PathBuf>,
}

impl Setup {
    /// Resolves paths (falling back to the platform's directories) and
    /// reads the config file.
    pub fn resolve(place: Where) -> Result<Setup> {
        let data_dir = match place.data_dir {
            Some(dir) => dir,
            None => crate::paths::default_data_dir().ok_or_else(|| {
                anyhow!("no home directory: give --data-dir or BREACHDESK_DATA_DIR")
            })?,
        };
        let config_path = match place.config {
            Some(file) => file,
            None => crate::paths::default_config_file()
                .ok_or_else(|| anyhow!("no home directory: give --config or BREACHDESK_CONFIG"))?,
        };
        if place.config_named && !place.config_to_be_written && !config_path.exists() {
            bail!(
                "{}: no such config file (--config names it; `breachdesk config init --config {}` writes one)",
                config_path.display(),
                config_path.display()
            );
        }
        let config = Config::load(&config_path)?;
        Ok(Setup {
            data_dir,
            config_path,
            config,
            extra_playbooks: place.playbooks,
        })
    }

    /// The user's playbook directory: `playbooks/` beside the config file.
    pub fn user_playbook_dir(&self) -> Option<PathBuf> {
        self.config_path.parent().map(|d| d.join("playbooks"))
    }

    /// The user's notice templates: `templates/` beside the config file.
    pub fn templates_dir(&self) -> Option<PathBuf> {
        self.config_path.parent().map(|d| d.join("templates"))
    }

    /// The time zone for showing times and for Working Days.
    pub fn tz(&self) -> Result<Tz> {
        Ok(self.config.timezone())
    }

    /// The Working-Day calendar from config, or of another division.
    pub fn calendar(&self, division: Option<Division>) -> Result<WorkingCalendar> {
        let division = division.unwrap_or(self.config.calendar.division);
        let end = self.config.end_of_day();
        Ok(WorkingCalendar::new(division, self.tz()?)
            .with_end_of_day(end)
            .with_closures(self.config.calendar.closures.iter().copied()))
    }

    /// The playbooks in force; problems with user files are warned about.
    pub fn playbooks(&self) -> PlaybookSet {
        let set = PlaybookSet::load(self.user_playbook_dir().as_deref(), &self.extra_playbooks);
        for problem in &set.problems {
            eprintln!(
                "breachdesk: warning: playbook skipped: {}",
                one_line(&problem.to_string())
            );
        }
        set
    }

    /// Opens the store, audit log and everything else a change needs.
    pub fn desk(&self) -> Result<Desk> {
        let desk = Desk::open(
            &self.data_dir,
            self.config.clone(),
            self.playbooks(),
            self.calendar(None)?,
        )?;
        Ok(warned(desk))
    }

    /// The desk for a command that only reads: opens nothing for writing
    /// (see [`Desk::open_read_only`]).
    pub fn reader(&self) -> Result<Desk> {
        let desk = Desk::open_read_only(
            &self.data_dir,
            self.config.clone(),
            self.playbooks(),
            self.calendar(None)?,
        )?;
        Ok(warned(desk))
    }
}

/// Says on stderr what opening the data directory found, then hands the
/// desk on.
fn warned(desk: Desk) -> Desk {
    for warning in desk.warnings() {
        eprintln!("breachdesk: warning: {}", one_line(&warning));
    }
    desk
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(dir: &std::path::Path, named: bool, to_be_written: bool) -> Where {
        Where {
            data_dir: Some(dir.join("data")),
            config: Some(dir.join("config.toml")),
            config_named: named,
            config_to_be_written: to_be_written,
            playbooks: vec![dir.join("extra.toml")],
        }
    }

    #[test]
    fn a_missing_config_file_is_an_error_only_when_named_and_not_about_to_be_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = Setup::resolve(place(dir.path(), true, false))
            .err()
            .expect("refused")
            .to_string();
        assert!(err.ends_with("config.toml: no such config file (--config names it; `breachdesk config init --config {}` writes one)".replace("{}", &dir.path().join("config.toml").display().to_string()).as_str()), "{err}");
        let setup = Setup::resolve(place(dir.path(), true, true)).expect("config init");
        assert_eq!(setup.config, Config::default());
        let setup = Setup::resolve(place(dir.path(), false, false)).expect("defaults");
        assert_eq!(setup.data_dir, dir.path().join("data"));
        assert_eq!(setup.extra_playbooks, vec![dir.path().join("extra.toml")]);
        assert_eq!(setup.templates_dir(), Some(dir.path().join("templates")));
        assert_eq!(
            setup.user_playbook_dir(),
            Some(dir.path().join("playbooks"))
        );
    }

    #[test]
    fn the_calendar_is_the_configs_division_unless_another_is_asked_for() {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "[calendar]\ndivision = \"scotland\"\n").expect("config");
        let setup = Setup::resolve(place(dir.path(), true, false)).expect("setup");
        let st_andrews = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        let holiday = |d: Option<Division>| {
            let calendar = setup.calendar(d).expect("calendar");
            calendar.holidays(2026).iter().any(|h| h.date == st_andrews)
        };
        assert!(holiday(None), "Scotland from the config");
        assert!(!holiday(Some(Division::EnglandAndWales)));
    }
}
