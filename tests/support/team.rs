//! A team on one disk, for the sync tests that take a hostile remote or a
//! kill -9: a bare repository as the team's remote, responders (each with
//! a HOME with no git identity, a data directory and a config) running the
//! real binary, and an attacker who is a plain `git` clone of the remote.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const ALICE: &str =
    "[responder]\nname = \"Alice Able\"\nemail = \"Alice Able <alice@provider.example>\"\n";
pub const BOB: &str = "[responder]\nname = \"Bob Baker\"\nemail = \"bob@provider.example\"\n";

/// `git ARGS` in `dir` with no system or user config, committing as `who`
/// (`Name <email>`).
pub fn git_as(dir: &Path, who: (&str, &str), args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", who.0)
        .env("GIT_AUTHOR_EMAIL", who.1)
        .env("GIT_COMMITTER_NAME", who.0)
        .env("GIT_COMMITTER_EMAIL", who.1)
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

pub fn git_in(dir: &Path, args: &[&str]) -> String {
    git_as(dir, ("Mallory", "mallory@evil.example"), args)
}

/// A bare repository: the team's remote.
pub fn remote(root: &Path) -> PathBuf {
    let path = root.join("team.git");
    let out = Command::new("git")
        .args(["init", "--quiet", "--bare", "--initial-branch", "main"])
        .arg(&path)
        .env("HOME", root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git init --bare");
    assert!(out.status.success());
    path
}

/// Someone who can push to the remote with plain git, and nothing else.
pub struct Attacker {
    pub dir: PathBuf,
    pub who: (&'static str, &'static str),
}

impl Attacker {
    pub fn clone(root: &Path, remote: &Path) -> Attacker {
        let dir = root.join("attacker");
        git_in(
            root,
            &[
                "clone",
                "--quiet",
                remote.to_str().expect("utf-8"),
                dir.to_str().expect("utf-8"),
            ],
        );
        Attacker {
            dir,
            who: ("Mallory Mole", "mallory@evil.example"),
        }
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_as(&self.dir, self.who, args)
    }

    /// Pulls, lets `change` edit the clone, commits everything and pushes;
    /// the commit's id.
    pub fn push(&self, message: &str, change: impl FnOnce(&Path)) -> String {
        self.git(&["pull", "--quiet", "--no-rebase", "origin", "main"]);
        change(&self.dir);
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "-m", message]);
        self.git(&["push", "--quiet", "origin", "HEAD:main"]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

/// One responder: their own HOME (no git identity in it), data directory
/// and config.
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

    /// The binary as this responder, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_breachdesk"));
        command
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
            .stdin(Stdio::null());
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run breachdesk")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "breachdesk {args:?} failed: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs, expects failure; stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "breachdesk {args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }

    pub fn new_incident(&self, title: &str) -> String {
        self.ok(&["new", "--title", title, "--identified-at", "-20m"])
            .trim()
            .to_string()
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.data, args)
    }

    pub fn record(&self, id: &str) -> Vec<u8> {
        std::fs::read(self.data.join("incidents").join(format!("{id}.toml"))).expect("record")
    }

    /// Every record, by file name, as bytes.
    pub fn records(&self) -> Vec<(String, Vec<u8>)> {
        let mut records: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.data.join("incidents"))
            .expect("incidents/")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".toml"))
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).expect("record"),
                )
            })
            .collect();
        records.sort();
        records
    }

    /// `git status --porcelain` is empty and `audit verify` passes.
    pub fn assert_clean_and_verified(&self) {
        assert_eq!(
            self.git(&["status", "--porcelain"]),
            "",
            "{}",
            self.data.display()
        );
        let verified = self.ok(&["audit", "verify"]);
        assert!(verified.contains(": ok,"), "{verified}");
    }

    /// This machine's id (its chain is `audit/chains/<id>.jsonl`).
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
