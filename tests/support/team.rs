//! A responder running the real binary on their own data directory, HOME
//! (no git identity in it) and config, and plain `git` run as Mallory, an
//! attacker with push access: for the team-sync tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `git ARGS` in `dir` as Mallory, with no system or global config.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Mallory")
        .env("GIT_AUTHOR_EMAIL", "mallory@evil.example")
        .env("GIT_COMMITTER_NAME", "Mallory")
        .env("GIT_COMMITTER_EMAIL", "mallory@evil.example")
        .stdin(Stdio::null())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One responder: their own HOME (no git identity), data directory and
/// config.
pub struct Responder {
    pub home: PathBuf,
    pub data: PathBuf,
    pub config: PathBuf,
}

impl Responder {
    pub fn new(root: &Path, who: &str, config: &str) -> Responder {
        let home = root.join(format!("home-{who}"));
        std::fs::create_dir_all(&home).expect("home");
        let config_path = home.join("config.toml");
        std::fs::write(&config_path, config).expect("config");
        Responder {
            data: root.join(format!("data-{who}")),
            config: config_path,
            home,
        }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_breachdesk"))
            .args(args)
            .env("BREACHDESK_DATA_DIR", &self.data)
            .env("BREACHDESK_CONFIG", &self.config)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("USER", "tester")
            .env_remove("GIT_AUTHOR_NAME")
            .env_remove("GIT_AUTHOR_EMAIL")
            .env_remove("GIT_COMMITTER_NAME")
            .env_remove("GIT_COMMITTER_EMAIL")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("BREACHDESK_SMTP_PASSWORD")
            .stdin(Stdio::null())
            .output()
            .expect("run breachdesk")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "breachdesk {args:?} failed: {stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "breachdesk {args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn new_incident(&self, title: &str) -> String {
        self.ok(&["new", "--title", title, "--identified-at", "-20m"])
            .trim()
            .to_string()
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.data, args)
    }

    pub fn machine_id(&self) -> String {
        std::fs::read_to_string(self.data.join("machine-id"))
            .expect("machine-id")
            .trim()
            .to_string()
    }

    pub fn ids(&self) -> Vec<String> {
        let json = self.ok(&["list", "--all", "--format", "json"]);
        let list: serde_json::Value = serde_json::from_str(&json).expect("list json");
        let mut ids: Vec<String> = list
            .as_array()
            .expect("array")
            .iter()
            .map(|s| s["id"].as_str().expect("id").to_string())
            .collect();
        ids.sort();
        ids
    }

    /// Every file and link of the data directory outside `.git/`, by
    /// path: bytes, or the link's target. What a sync may touch even when
    /// it refuses (its own state file and lock, the log) is left out.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        snap(&self.data, &self.data, &mut files);
        files
    }
}

fn snap(root: &Path, dir: &Path, into: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        let name = path
            .strip_prefix(root)
            .expect("inside")
            .to_string_lossy()
            .into_owned();
        if name == ".git" || name == "sync-state.json" || name == "locks" || name == "logs" {
            continue;
        }
        let kind = entry.file_type().expect("type");
        if kind.is_symlink() {
            let target = std::fs::read_link(&path).expect("link");
            into.insert(name, format!("-> {}", target.display()).into_bytes());
        } else if kind.is_dir() {
            into.insert(format!("{name}/"), Vec::new());
            snap(root, &path, into);
        } else {
            into.insert(name, std::fs::read(&path).expect("file"));
        }
    }
}
