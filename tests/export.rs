//! One incident document, three renderings, with the real binary: `show`
//! (terminal text), `export --format markdown` and `export --format html`.

use std::path::PathBuf;
use std::process::Command;

const MARKING: &str = "OFFICIAL-SENSITIVE";

struct Desk {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: PathBuf,
    config: PathBuf,
}

impl Desk {
    fn new(config: &str) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        let config_path = root.join("config.toml");
        std::fs::write(&config_path, config).expect("config");
        Desk {
            data: root.join("data"),
            config: config_path,
            root,
            _dir: dir,
        }
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_breachdesk"))
            .args(args)
            .env("BREACHDESK_DATA_DIR", &self.data)
            .env("BREACHDESK_CONFIG", &self.config)
            .env("USER", "tester")
            .env_remove("BREACHDESK_LOG")
            .output()
            .expect("run breachdesk");
        assert!(
            out.status.success(),
            "breachdesk {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }
}

/// An incident whose every free-text field tries something.
fn hostile_incident(desk: &Desk) -> String {
    let id = desk
        .ok(&[
            "new",
            "--title",
            "<script>alert('t')</script> \u{1b}[31mRED | pipe",
            "--summary",
            "<img src=x onerror=alert(1)> & more",
        ])
        .trim()
        .to_string();
    desk.ok(&["log", &id, "</td><b>bold</b>"]);
    let evidence = desk.root.join("abc.txt");
    std::fs::write(&evidence, "abc").expect("evidence");
    desk.ok(&[
        "step",
        &id,
        "8.2.1a",
        "--status",
        "done",
        "--evidence-file",
        evidence.to_str().expect("utf-8 path"),
    ]);
    id
}

#[test]
fn html_export_escapes_every_piece_of_the_record() {
    let desk = Desk::new("");
    let id = hostile_incident(&desk);
    let html = desk.ok(&["export", &id, "--format", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>bold"), "{html}");
    assert!(html.contains("&lt;/td&gt;&lt;b&gt;bold"), "{html}");
    assert!(!html.contains('\u{1b}'), "{html}");
    assert!(!html.contains("://"), "no external resources: {html}");
}

#[test]
fn markdown_and_html_render_the_same_document() {
    let desk = Desk::new("");
    let id = hostile_incident(&desk);
    let md = desk.ok(&["export", &id, "--format", "markdown"]);
    let html = desk.ok(&["export", &id, "--format", "html"]);
    let headings: Vec<&str> = md.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    assert!(headings.len() >= 6, "{md}");
    for h in &headings {
        assert!(
            html.contains(&format!("<h2>{h}</h2>")),
            "{h} missing: {html}"
        );
    }
    assert_eq!(html.matches("<h2>").count(), headings.len(), "{html}");
    assert!(
        md.contains("\\| pipe"),
        "a pipe cannot break the table: {md}"
    );
    assert!(
        md.contains("| Step | What | Status | Due | Who / when |"),
        "{md}"
    );
}

#[test]
fn show_is_the_same_document_as_terminal_safe_text() {
    let desk = Desk::new("");
    let id = hostile_incident(&desk);
    let shown = desk.ok(&["show", &id]);
    assert!(!shown.contains('\u{1b}'), "{shown}");
    assert!(shown.contains("^[[31mRED"), "{shown}");
    assert!(shown.contains("\nTimeline\n"), "{shown}");
    // The one evidence line: path, exact size and SHA-256 of "abc".
    let evidence = desk.root.join("abc.txt");
    let evidence = std::fs::canonicalize(evidence).expect("path");
    assert!(
        shown.contains(&format!(
            "8.2.1a evidence: {} (3 bytes, SHA-256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad)",
            evidence.display()
        )),
        "{shown}"
    );
    // The steps' evidence list stays in the responder's view (the export
    // has the timeline entry that attached it).
    let md = desk.ok(&["export", &id, "--format", "markdown"]);
    assert!(!md.contains("8.2.1a evidence:"), "{md}");
    assert!(md.contains("; evidence /"), "{md}");
}

#[test]
fn the_marking_heads_and_ends_the_html_export() {
    let desk = Desk::new(&format!("[contract]\nmarking = \"{MARKING}\"\n"));
    let id = desk
        .ok(&["new", "--title", "Laptop lost"])
        .trim()
        .to_string();
    let html = desk.ok(&["export", &id, "--format", "html"]);
    assert_eq!(
        html.matches(&format!("<div class=\"marking\">{MARKING}</div>"))
            .count(),
        2,
        "{html}"
    );
    assert!(html.contains(&format!("<title>{MARKING} {id}")), "{html}");
}
