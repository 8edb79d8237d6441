//! `[sync]`: whether the console syncs the data directory with the team on
//! its own, and how often (see `breachdesk sync`).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[sync]`: the console's automatic sync (only in a data directory made a
/// sync repository by `breachdesk sync init`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// Sync in the background every `interval` and after each change
    /// (default false: only `breachdesk sync` or `S` sync).
    #[serde(default)]
    pub auto: bool,
    /// How often the console syncs when `auto` is on (default "60s").
    #[serde(default)]
    pub interval: SyncInterval,
}

/// How often to sync: "60s", "5m", "1h" (10 seconds to 1 day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SyncInterval(pub Duration);

impl Default for SyncInterval {
    fn default() -> Self {
        SyncInterval(Duration::from_secs(60))
    }
}

impl TryFrom<String> for SyncInterval {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let t = text.trim();
        let lead = crate::domain::reminders::parse_lead(t)
            .map_err(|_| format!("'{t}' is not an interval like \"60s\", \"5m\" or \"1h\""))?;
        let secs = lead.num_seconds();
        if !(10..=86_400).contains(&secs) {
            return Err(format!("'{t}' is not between 10 seconds and 1 day"));
        }
        Ok(SyncInterval(Duration::from_secs(secs as u64)))
    }
}

impl From<SyncInterval> for String {
    fn from(interval: SyncInterval) -> String {
        format!("{}s", interval.0.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    #[test]
    fn sync_is_off_by_default_every_minute_when_on() {
        let config = Config::parse("", Path::new("c.toml")).expect("empty");
        assert!(!config.sync.auto);
        assert_eq!(config.sync.interval.0.as_secs(), 60);
        let config = Config::parse(
            "[sync]\nauto = true\ninterval = \"5m\"\n",
            Path::new("c.toml"),
        )
        .expect("valid");
        assert!(config.sync.auto);
        assert_eq!(config.sync.interval.0.as_secs(), 300);
    }

    #[test]
    fn a_bad_interval_names_the_file_line_and_field() {
        for (value, why) in [
            ("\"soon\"", "is not an interval like"),
            ("\"2s\"", "is not between 10 seconds and 1 day"),
            ("\"2d\"", "is not between 10 seconds and 1 day"),
        ] {
            let text =
                format!("[responder]\nname = \"A\"\n[sync]\nauto = true\ninterval = {value}\n");
            let err = Config::parse(&text, Path::new("c.toml"))
                .expect_err(value)
                .to_string();
            assert!(err.starts_with("c.toml:5:12: sync.interval: "), "{err}");
            assert!(err.contains(why), "{err}");
        }
        let err = Config::parse("[sync]\nauto = \"yes\"\n", Path::new("c.toml"))
            .expect_err("not a bool")
            .to_string();
        assert!(err.starts_with("c.toml:2:"), "{err}");
    }
}
