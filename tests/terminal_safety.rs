//! Nothing from a record, a file name or a server reply reaches the terminal
//! raw: escape sequences, BEL, CR, C1 controls and bidirectional overrides
//! are put into every text field, the responder's name, playbook text, file
//! names and the data directory's own path; then every command that prints
//! is run through the real binary, and no control character may reach
//! stdout or stderr.

mod support;

use breachdesk::config::Config;
use breachdesk::desk::NotificationInput;
use breachdesk::domain::incident::Channel;
use breachdesk::setup::Setup;
use std::ffi::{OsStr, OsString};
use std::fs;
use support::{Bin, Ran};

/// ESC sequences (colour, window title with BEL, clear screen), CR, BS, DEL,
/// C1 CSI and NEL, and bidi override / isolate characters.
const H: &str =
    "\u{1b}[31mRED\u{1b}]0;pwned\u{7}\rCR\u{8}\u{7f}\u{9b}2J\u{85}\u{202e}RTL\u{2066}ISO\u{200f}";

/// The characters that must never reach a terminal (as the product defines
/// them, spelled out again here so the test does not trust the code).
fn is_control(c: char) -> bool {
    let n = c as u32;
    n < 0x20
        || n == 0x7f
        || (0x80..=0x9f).contains(&n)
        || matches!(n, 0x061c | 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069)
}

/// Asserts no control character is in `bytes` except newline and tab (and
/// CR as part of CR LF where `crlf` is allowed).
fn assert_clean(what: &str, stream: &str, bytes: &[u8], crlf: bool) {
    let text = String::from_utf8_lossy(bytes);
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let allowed =
            *c == '\n' || *c == '\t' || (crlf && *c == '\r' && chars.get(i + 1) == Some(&'\n'));
        assert!(
            allowed || !is_control(*c),
            "{what}: {stream} has U+{:04X} at char {i}:\n{text}",
            *c as u32
        );
    }
}

struct Hostile {
    bin: Bin,
    runs: usize,
}

impl Hostile {
    fn check<S: AsRef<OsStr>>(&mut self, args: &[S]) -> Ran {
        let ran = self.bin.run(args);
        let what = format!("{:?}", args.iter().map(|a| a.as_ref()).collect::<Vec<_>>());
        let crlf = what.contains("\"ics\"");
        assert_clean(&what, "stdout", &ran.stdout, crlf);
        assert_clean(&what, "stderr", &ran.stderr, false);
        self.runs += 1;
        ran
    }

    fn ok<S: AsRef<OsStr>>(&mut self, args: &[S]) -> String {
        let ran = self.check(args);
        assert!(ran.ok, "{}", ran.err());
        ran.out()
    }

    fn fails<S: AsRef<OsStr>>(&mut self, args: &[S]) {
        let ran = self.check(args);
        assert!(!ran.ok, "{}", ran.out());
        assert!(!ran.stderr.is_empty());
    }
}

fn toml_string(s: &str) -> String {
    // A TOML basic string with every character escaped as \uXXXX when needed.
    let mut out = String::from("\"");
    for c in s.chars() {
        if c.is_control() || c == '"' || c == '\\' {
            out.push_str(&format!("\\u{:04X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[test]
fn no_control_character_reaches_the_terminal_from_any_command() {
    let mut bin = Bin::new();
    // Even the data and config directories' names are hostile.
    let root = bin.dir.path().join(format!("root{H}"));
    bin.data = root.join(format!("data{H}"));
    bin.config = root.join(format!("conf{H}")).join("config.toml");
    fs::create_dir_all(bin.config.parent().expect("dir")).expect("mkdir");
    fs::write(
        &bin.config,
        format!(
            "[responder]\nname = {}\n[contacts]\nother_party = \"csr@client.example\"\n",
            toml_string(&format!("Eve{H}"))
        ),
    )
    .expect("config");
    // A playbook whose every text is hostile.
    let playbook = root.join(format!("book{H}.toml"));
    fs::write(
        &playbook,
        format!(
            "name = \"hostile\"\nversion = 1\ntitle = {t}\nclause = {t}\ndescription = {t}\n\n[[step]]\nid = \"h1\"\ntitle = {t}\nguidance = {t}\n",
            t = toml_string(H)
        ),
    )
    .expect("playbook");
    // Evidence files with hostile names.
    let evidence = root.join(format!("evidence{H}.log"));
    fs::write(&evidence, "log lines\n").expect("evidence");
    let supplied = root.join(format!("supplied{H}.csv"));
    fs::write(&supplied, "a,b\n").expect("supplied");

    let pb: OsString = playbook.clone().into_os_string();
    let mut h = Hostile { bin, runs: 0 };
    let with_pb = |args: &[&str]| -> Vec<OsString> {
        let mut v: Vec<OsString> = vec!["--playbook".into(), pb.clone()];
        v.extend(args.iter().map(OsString::from));
        v
    };

    let id = h
        .ok(&with_pb(&[
            "new",
            "--title",
            H,
            "--summary",
            H,
            "--asset",
            H,
            "--identified-at",
            "-90m",
        ]))
        .trim()
        .to_string();
    h.ok(&["log", &id, H, "and", H]);
    h.ok(&[
        "edit",
        &id,
        "--title",
        &format!("T{H}"),
        "--summary",
        H,
        "--asset",
        &format!("a{H}"),
        "--responder",
        H,
    ]);
    h.ok(&[
        "notify",
        &id,
        "--channel",
        "phone",
        "--to",
        H,
        "--reference",
        H,
        "--delay-reason",
        H,
        "--at",
        "-5m",
    ]);
    h.ok(&[
        "request", "add", &id, "--from", "client", "--name", H, "--what", H,
    ]);
    h.ok(&[
        OsStr::new("request"),
        OsStr::new("supplied"),
        OsStr::new(&id),
        OsStr::new("R1"),
        OsStr::new("--how"),
        OsStr::new(H),
        OsStr::new("--file"),
        supplied.as_os_str(),
    ]);
    h.ok(&[
        "root-cause",
        &id,
        "--category",
        "misconfiguration",
        "--component",
        H,
        "--analysis",
        H,
        "--prevention",
        H,
    ]);
    h.ok(&[
        OsStr::new("mitigation"),
        OsStr::new(&id),
        OsStr::new("--description"),
        OsStr::new(H),
        OsStr::new("--tested-how"),
        OsStr::new(H),
        OsStr::new("--tested"),
        OsStr::new("true"),
        OsStr::new("--relief-period"),
        OsStr::new(H),
        OsStr::new("--evidence-file"),
        evidence.as_os_str(),
    ]);
    h.ok(&["isms", &id, "--required", "true", "--description", H]);
    // Roles and handovers: a hostile name is refused (its error made
    // safe); the hostile responder's name and note are shown made safe.
    h.fails(&["assign", &id, "--role", "scribe", "--to", H]);
    h.ok(&["assign", &id, "--role", "scribe", "--to", "bob"]);
    h.ok(&["handover", &id, "--to", "bob", "--note", H]);
    h.ok(&with_pb(&[
        "step",
        &id,
        "h1",
        "--status",
        "in-progress",
        "--note",
        H,
    ]));
    h.ok(&[
        OsStr::new("step"),
        OsStr::new(&id),
        OsStr::new("8.2.1a"),
        OsStr::new("--status"),
        OsStr::new("done"),
        OsStr::new("--evidence-file"),
        evidence.as_os_str(),
    ]);
    // A server's reply, as the mailer would record it.
    let setup = Setup {
        data_dir: h.bin.data.clone(),
        config_path: h.bin.config.clone(),
        config: Config::load(&h.bin.config).expect("config"),
        extra_playbooks: vec![playbook.clone()],
    };
    let desk = setup.desk().expect("desk");
    let second = h.ok(&["new", "--title", H, "--identified-at", "-10m"]);
    let second = second.trim();
    desk.record_notification(
        second,
        NotificationInput {
            at: desk.load(second).expect("load").identified_at,
            channel: Channel::Email,
            recipient: format!("csr{H}@client.example"),
            reference: Some(format!("<id{H}@x>")),
            server_reply: Some(format!("250 2.0.0 Ok: queued as {H}")),
            delay_reason: None,
        },
        desk.load(second).expect("load").identified_at,
    )
    .expect("record a notification with a hostile server reply");

    // Everything that prints.
    for format in ["table", "json"] {
        h.ok(&["list", "--format", format]);
        h.ok(&["list", "--all", "--format", format]);
    }
    for incident in [id.as_str(), second] {
        for format in ["text", "json", "toml"] {
            let out = h.ok(&with_pb(&["show", incident, "--format", format]));
            assert!(out.contains("RED"), "the text is shown, made safe: {out}");
        }
        for format in ["markdown", "json", "ics"] {
            h.ok(&with_pb(&["export", incident, "--format", format]));
        }
        h.ok(&["audit", "list", incident]);
    }
    let shown = h.ok(&["show", &id]);
    assert!(shown.contains("^[[31mRED"), "{shown}");
    h.ok(&["evidence", &id]);
    h.ok(&["audit", "verify"]);
    h.ok(&["audit", "list"]);
    h.ok(&with_pb(&["playbook", "list"]));
    h.ok(&with_pb(&["playbook", "show", "hostile"]));
    h.ok(&[
        OsStr::new("playbook"),
        OsStr::new("check"),
        playbook.as_os_str(),
    ]);
    h.ok(&["config", "path"]);
    h.ok(&["config", "check"]);
    h.ok(&["holidays", "--year", "2026"]);
    h.ok(&[
        "due",
        "--from",
        "2026-03-10T13:00:00Z",
        "--working-days",
        "2",
    ]);
    h.ok(&["workdays", "--from", "2026-03-10", "--to", "2026-03-20"]);
    h.ok(&["outbox", "list"]);
    h.ok(&["close", &id, "--reason", H]);
    h.ok(&["reopen", &id, "--reason", H]);

    // Damaged and odd files, with hostile names.
    let incidents = h.bin.data.join("incidents");
    fs::write(
        incidents.join("INC-DAMAGED.toml"),
        format!("title = \"{H}\n"),
    )
    .expect("damaged");
    fs::write(incidents.join(format!("INC-{H}.toml")), "x").expect("odd name");
    fs::write(
        h.bin
            .data
            .join("quarantine")
            .join(format!("INC-Q.toml.{H}")),
        H,
    )
    .expect("quarantined");
    h.ok(&["list"]);
    h.ok(&["list", "--all"]);
    h.ok(&["quarantine", "list"]);

    // Errors that quote what was typed or found.
    fs::remove_file(&evidence).expect("rm evidence");
    h.fails(&["evidence", &id]);
    h.fails(&["show", H]);
    h.fails(&["show", "INC-DAMAGED"]);
    h.fails(&["log", H, "x"]);
    h.fails(&["new", "--title", "x", "--kind", H]);
    h.fails(&["new", "--title", "x", "--identified-at", H]);
    h.fails(&["step", &id, H, "--status", "done"]);
    h.fails(&["list", "--format", H]);
    h.fails(&[H]);
    h.fails(&["quarantine", "restore", &format!("INC-Q.toml.{H}")]);
    h.fails(&["workdays", "--from", H, "--to", "2026-01-01"]);
    assert!(h.runs >= 50, "{} runs", h.runs);
}
