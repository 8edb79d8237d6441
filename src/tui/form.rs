//! Form state: the fields a responder types into, and turning them into a
//! desk job. No drawing here; see `view/form.rs`.

use crate::desk::{Edit, MitigationInput, NotificationInput};
use crate::domain::incident::{
    BreachKind, Channel, IdentifiedBy, Incident, IncomingNotice, NewIncident, RcaRequired,
    ReliefNotice, Requester, RootCauseCategory, Severity,
};
use crate::domain::when::parse_past;
use crate::mail::NoticeKind;
use crate::tui::jobs::{ComposeRequest, JobKind};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::path::PathBuf;

/// What a form is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormKind {
    NewIncident,
    Log,
    AddRequest,
    Supply {
        request: String,
    },
    RootCause,
    Mitigation,
    Isms,
    /// Whether the Client requires a root-cause analysis (8.2.1 f).
    RcaRequired,
    Notify,
    StepNote {
        step: String,
    },
    StepEvidence {
        step: String,
    },
    /// Which notice to email.
    EmailChoice,
    /// The 8.1 notification by email; `late` when its deadline has passed
    /// (the reason for the delay is then required).
    EmailNotification {
        late: bool,
        /// An 8.1 notification is already recorded: a reason is required.
        again: bool,
    },
    EmailSupply {
        request: String,
    },
    EmailUpdate,
    /// The 8.2.1 (f) report: only the Cc line to fill in.
    EmailReport,
    /// Cancel a notice in the outbox, with the reason.
    CancelNotice {
        notice: String,
    },
    /// Close; `open_steps` are required steps still open (a reason is needed).
    Close {
        open_steps: Vec<String>,
    },
    Reopen,
    Edit,
}

/// The notices, in the order the email form offers them before the 8.1
/// notification is recorded.
pub const NOTICE_CHOICES: [(&str, NoticeKind); 4] = [
    ("8.1 notification", NoticeKind::Notification),
    ("8.2.1(f) report", NoticeKind::FullReport),
    ("8.2.1(e) data supply", NoticeKind::DataSupply),
    ("update", NoticeKind::Update),
];

/// The label of a second 8.1 notification, offered last (and never by
/// default) once one is recorded.
pub const NOTIFY_AGAIN: &str = "8.1 notification AGAIN (one is already recorded)";

/// The notices once the 8.1 notification is recorded: an update first, a
/// second notification last.
pub const NOTICE_CHOICES_NOTIFIED: [(&str, NoticeKind); 4] = [
    ("update", NoticeKind::Update),
    ("8.2.1(f) report", NoticeKind::FullReport),
    ("8.2.1(e) data supply", NoticeKind::DataSupply),
    (NOTIFY_AGAIN, NoticeKind::Notification),
];

/// `~` and `~/...` expanded to the home directory; relative paths made
/// absolute against the current directory.
pub fn expand_path(text: &str) -> PathBuf {
    let text = text.trim();
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    let path = if text == "~" {
        home().unwrap_or_else(|| PathBuf::from(text))
    } else if let Some(rest) = text.strip_prefix("~/") {
        home().map_or_else(|| PathBuf::from(text), |h| h.join(rest))
    } else {
        PathBuf::from(text)
    };
    std::path::absolute(&path).unwrap_or(path)
}

/// Addresses typed in a Cc line.
fn cc_of(text: &str) -> Vec<String> {
    crate::mail::compose::split_addresses(text)
}

/// A field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    /// Multi-line text: Enter types a new line.
    Multi(String),
    Choice {
        options: Vec<&'static str>,
        index: usize,
    },
    Flag(bool),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub hint: std::borrow::Cow<'static, str>,
    pub value: Value,
    initial: Value,
}

fn field(label: &'static str, hint: &'static str, value: Value) -> Field {
    Field {
        label,
        hint: std::borrow::Cow::Borrowed(hint),
        initial: value.clone(),
        value,
    }
}
fn text(label: &'static str, hint: &'static str, initial: &str) -> Field {
    field(label, hint, Value::Text(initial.to_string()))
}
fn choice(label: &'static str, options: Vec<&'static str>, index: usize) -> Field {
    field(label, "←/→ to change", Value::Choice { options, index })
}
fn flag(label: &'static str, on: bool) -> Field {
    field(label, "Space or y/n", Value::Flag(on))
}

/// The KPI relief decision, as the mitigation form offers it.
const RELIEF: [&str; 3] = ["not decided", "granted", "refused"];

/// An open form.
#[derive(Debug, Clone)]
pub struct Form {
    pub kind: FormKind,
    pub title: String,
    pub fields: Vec<Field>,
    pub focus: usize,
    /// The last refusal (bad input or a save error); the text stays.
    pub error: Option<String>,
    /// The job in flight for this form, if saving.
    pub pending: Option<u64>,
    /// "Discard what you typed?" is showing.
    pub confirm_discard: bool,
    /// The cursor in the focused text field, in characters.
    pub cursor: usize,
    /// The focused field still holds its default ("now"), shown
    /// selected: typing or pasting replaces it, Backspace clears it, and a
    /// cursor key keeps it.
    pub selected: bool,
    /// What each severity level means (config `[severity]`), in
    /// `Severity::ALL` order: the Severity field's hint shows the chosen one.
    pub severity_help: Vec<String>,
}

impl Form {
    fn new(kind: FormKind, title: impl Into<String>, fields: Vec<Field>) -> Form {
        let mut form = Form {
            kind,
            title: title.into(),
            fields,
            focus: 0,
            error: None,
            pending: None,
            confirm_discard: false,
            cursor: 0,
            selected: false,
            severity_help: Vec::new(),
        };
        form.focus_changed();
        form
    }

    /// Gives the form the severity definitions to show as the Severity
    /// field's hint (the chosen level's).
    pub fn with_severity_help(mut self, help: Vec<String>) -> Form {
        self.severity_help = help;
        self.refresh_severity_hint();
        self
    }

    fn refresh_severity_hint(&mut self) {
        let help = &self.severity_help;
        if let Some(f) = self.fields.iter_mut().find(|f| f.label == "Severity")
            && let Value::Choice { index, .. } = f.value
            && let Some(text) = help.get(index)
        {
            f.hint = std::borrow::Cow::Owned(format!("←/→ · {text}"));
        }
    }

    /// The focused field's text, if it is a text field.
    fn focused_text(&mut self) -> Option<&mut String> {
        match self.fields.get_mut(self.focus).map(|f| &mut f.value) {
            Some(Value::Text(s) | Value::Multi(s)) => Some(s),
            _ => None,
        }
    }

    /// The byte offset of the cursor in `s`.
    fn at(s: &str, cursor: usize) -> usize {
        s.char_indices().nth(cursor).map_or(s.len(), |(i, _)| i)
    }

    fn insert(&mut self, text: &str) {
        if std::mem::take(&mut self.selected)
            && let Some(s) = self.focused_text()
        {
            s.clear();
            self.cursor = 0;
        }
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let at = Form::at(s, cursor);
            s.insert_str(at, text);
            self.cursor += text.chars().count();
        }
    }

    pub fn cursor_to_end(&mut self) {
        self.selected = false;
        self.cursor = self.focused_text().map_or(0, |s| s.chars().count());
    }

    pub fn cursor_home(&mut self) {
        self.selected = false;
        self.cursor = 0;
    }

    /// After a move to another field: the cursor at the end, and a time
    /// field's untouched default ("now") selected so that typing `-20m`
    /// replaces it. (Existing text, such as a title being edited or the Cc
    /// line, is not selected: typing adds to it.)
    fn focus_changed(&mut self) {
        self.cursor_to_end();
        self.selected = self
            .fields
            .get(self.focus)
            .is_some_and(|f| f.value == f.initial && f.value == Value::Text("now".into()));
    }

    /// Ctrl-U: deletes from the start of the text to the cursor.
    pub fn kill_to_start(&mut self) {
        self.selected = false;
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let at = Form::at(s, cursor);
            s.replace_range(..at, "");
            self.cursor = 0;
        }
    }

    /// Ctrl-K: deletes from the cursor to the end of the text.
    pub fn kill_to_end(&mut self) {
        self.selected = false;
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let at = Form::at(s, cursor);
            s.truncate(at);
        }
    }

    /// Ctrl-W: deletes the word before the cursor (and the spaces after it).
    pub fn kill_word(&mut self) {
        self.selected = false;
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let end = Form::at(s, cursor);
            let before = &s[..end];
            let trimmed = before.trim_end_matches(char::is_whitespace);
            let start = trimmed.rfind(char::is_whitespace).map_or(0, |i| {
                i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
            });
            let removed = s[start..end].chars().count();
            s.replace_range(start..end, "");
            self.cursor = cursor - removed;
        }
    }

    /// Left/Right in a text field.
    pub fn move_cursor(&mut self, forward: bool) {
        self.selected = false;
        let len = self.focused_text().map_or(0, |s| s.chars().count());
        self.cursor = if forward {
            (self.cursor + 1).min(len)
        } else {
            self.cursor.saturating_sub(1)
        };
    }

    /// Delete: the character at the cursor.
    pub fn delete(&mut self) {
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let at = Form::at(s, cursor);
            if at < s.len() {
                s.remove(at);
            }
        }
    }

    /// The focused text split at the cursor (for drawing).
    pub fn split_at_cursor(&self, s: &str) -> (String, String) {
        let at = Form::at(s, self.cursor.min(s.chars().count()));
        (s[..at].to_string(), s[at..].to_string())
    }

    /// The new-incident form, with the built-in severity definitions.
    pub fn new_incident() -> Form {
        Form::new_incident_with(crate::config::SeverityScale::default().help())
    }

    /// The new-incident form. "Identified by": us (the 1-hour 8.1 clock
    /// runs) or the other party (it notified us: when, from whom, how).
    pub fn new_incident_with(severity_help: Vec<String>) -> Form {
        let kinds = BreachKind::ALL.iter().map(|k| k.as_str()).collect();
        let severities = Severity::ALL.iter().map(|s| s.as_str()).collect();
        let high = Severity::ALL
            .iter()
            .position(|s| *s == Severity::High)
            .unwrap_or(0);
        let channels = Channel::ALL.iter().map(|c| c.as_str()).collect();
        Form::new(
            FormKind::NewIncident,
            "Open a new incident (8.1: either party notifies the other within 1 hour)",
            vec![
                text("Title", "what happened, in a few words", ""),
                choice("Kind", kinds, 0),
                choice("Severity", severities, high),
                flag("Personal data", false),
                text("Identified at", "now, 14:05, -20m or RFC 3339", "now"),
                field(
                    "Identified by",
                    "us: we notify within 1 hour · other-party: it notified us (fill in below)",
                    Value::Choice {
                        options: vec![IdentifiedBy::Us.as_str(), IdentifiedBy::OtherParty.as_str()],
                        index: 0,
                    },
                ),
                text(
                    "Received at",
                    "other-party only: when its notice reached us (now, 14:05, -20m)",
                    "",
                ),
                text("Received from", "other-party only: who gave the notice", ""),
                choice("Channel", channels, 0),
                text(
                    "Reference",
                    "other-party only: Message-ID or call reference",
                    "",
                ),
            ],
        )
        .with_severity_help(severity_help)
    }

    /// The other party's notice, when the new-incident form says it
    /// identified the breach.
    fn incoming_notice(
        &self,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<Option<IncomingNotice>, String> {
        let by: IdentifiedBy = self.parse("Identified by")?;
        if by == IdentifiedBy::Us {
            return Ok(None);
        }
        if self.text_of("Received at").trim().is_empty() {
            return Err("Received at: say when the other party's notice reached us".into());
        }
        let from = self.text_of("Received from").trim().to_string();
        if from.is_empty() {
            return Err("Received from: say who gave the notice".into());
        }
        let reference = self.text_of("Reference").trim().to_string();
        Ok(Some(IncomingNotice {
            received_at: self.when("Received at", now, tz)?,
            from,
            channel: self.parse("Channel")?,
            reference: (!reference.is_empty()).then_some(reference),
            source: None,
        }))
    }

    pub fn log() -> Form {
        Form::new(
            FormKind::Log,
            "Log a timeline entry",
            vec![
                text("Entry", "what was done or found", ""),
                text(
                    "At",
                    "when it happened: now, 14:05, -20m or RFC 3339",
                    "now",
                ),
            ],
        )
    }

    pub fn add_request() -> Form {
        let destinations = Requester::ALL.iter().map(|r| r.as_str()).collect();
        Form::new(
            FormKind::AddRequest,
            "Add a data request made on the Client's request (8.2.1 e: 2 Working Days)",
            vec![
                field(
                    "Deliver to",
                    "where the data goes: the Client, or GovCertUK at the Client's request",
                    Value::Choice {
                        options: destinations,
                        index: 0,
                    },
                ),
                text("Name", "who asked (optional)", ""),
                text("What", "the data asked for", ""),
                text("Received at", "now, 14:05, -20m or RFC 3339", "now"),
            ],
        )
    }

    pub fn supply(request: &str) -> Form {
        Form::new(
            FormKind::Supply {
                request: request.to_string(),
            },
            format!("Mark data request {request} supplied (free of charge)"),
            vec![
                text("Supplied at", "now, 14:05, -20m or RFC 3339", "now"),
                text("How", "e.g. sftp to the Client's CSR", ""),
            ],
        )
    }

    pub fn root_cause(incident: &Incident) -> Form {
        let rc = &incident.root_cause;
        let categories = RootCauseCategory::ALL.iter().map(|c| c.as_str()).collect();
        let index = rc
            .category
            .and_then(|c| RootCauseCategory::ALL.iter().position(|x| *x == c))
            .unwrap_or(0);
        Form::new(
            FormKind::RootCause,
            "Root cause (8.2.1 d/f; a repeat of an earlier incident's is flagged)",
            vec![
                choice("Category", categories, index),
                text(
                    "Component",
                    "the asset or component that failed",
                    &rc.component,
                ),
                field(
                    "Analysis",
                    "several lines (Enter: new line)",
                    Value::Multi(rc.analysis.clone()),
                ),
                text("Prevention", "actions to stop a repeat, separated by ;", ""),
            ],
        )
    }

    pub fn mitigation(incident: &Incident) -> Form {
        let m = &incident.mitigation;
        Form::new(
            FormKind::Mitigation,
            "Mitigation (8.2.1 c: applied and reasonably tested)",
            vec![
                text("What", "the mitigation applied", &m.description),
                text("Tested how", "how it was tested", &m.tested_how),
                flag("Tested", m.tested),
                flag("Affects KPIs", m.affects_kpis),
                text(
                    "Relief asked at",
                    "when KPI relief was requested: 14:05, -20m, RFC 3339 (optional)",
                    &m.kpi_relief
                        .requested_at
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .unwrap_or_default(),
                ),
                choice(
                    "Relief granted",
                    RELIEF.to_vec(),
                    match m.kpi_relief.granted {
                        None => 0,
                        Some(true) => 1,
                        Some(false) => 2,
                    },
                ),
                text(
                    "Relief period",
                    "KPI relief asked of the Client, or the period its written notice sets",
                    &m.kpi_relief.period,
                ),
                text(
                    "Notice date",
                    "the Client's written notice setting the period (8.2.1 c): YYYY-MM-DD",
                    &m.kpi_relief
                        .notice
                        .as_ref()
                        .map(|n| n.dated.to_string())
                        .unwrap_or_default(),
                ),
                text(
                    "Notice ref",
                    "the Client's reference for that notice",
                    &m.kpi_relief
                        .notice
                        .as_ref()
                        .map(|n| n.reference.clone())
                        .unwrap_or_default(),
                ),
                text(
                    "Evidence file",
                    "path of the test evidence to hash and keep (optional)",
                    "",
                ),
            ],
        )
    }

    pub fn rca_required(incident: &Incident) -> Form {
        let options: Vec<&'static str> = RcaRequired::ALL.iter().map(|r| r.as_str()).collect();
        let index = RcaRequired::ALL
            .iter()
            .position(|r| *r == incident.rca_required)
            .unwrap_or(0);
        Form::new(
            FormKind::RcaRequired,
            "Does the Client require a root-cause analysis? (8.2.1 f: \"where required by the Client\")",
            vec![
                field(
                    "RCA required",
                    "the Client's answer: yes, no, or unknown (not asked or not answered yet)",
                    Value::Choice { options, index },
                ),
                text("Note", "who said so, when, and how (optional)", ""),
            ],
        )
    }

    pub fn isms(incident: &Incident) -> Form {
        Form::new(
            FormKind::Isms,
            "ISMS change (8.3)",
            vec![
                flag("Required", incident.isms_change.required),
                text(
                    "Description",
                    "what must change",
                    &incident.isms_change.description,
                ),
            ],
        )
    }

    pub fn notify(recipient: Option<&str>) -> Form {
        let channels = vec![
            Channel::Phone.as_str(),
            Channel::InPerson.as_str(),
            Channel::Email.as_str(),
        ];
        Form::new(
            FormKind::Notify,
            "Record the 8.1 notification made",
            vec![
                choice("Channel", channels, 0),
                text("To", "who was told", recipient.unwrap_or("")),
                text("When", "now, 14:05, -20m or RFC 3339", "now"),
                text("Reference", "call notes, ticket, Message-ID (optional)", ""),
                text("Delay reason", "needed if after the deadline", ""),
            ],
        )
    }

    pub fn step_note(step: &str) -> Form {
        Form::new(
            FormKind::StepNote {
                step: step.to_string(),
            },
            format!("Add a note to step {step}"),
            vec![text("Note", "", "")],
        )
    }

    pub fn step_evidence(step: &str) -> Form {
        Form::new(
            FormKind::StepEvidence {
                step: step.to_string(),
            },
            format!("Attach an evidence file to step {step} (hashed: SHA-256)"),
            vec![
                text("File", "path of the file, e.g. /tmp/fw-export.csv", ""),
                text("Note", "what it shows (optional)", ""),
            ],
        )
    }

    /// Which notice to email; `index` into [`NOTICE_CHOICES`], or into
    /// [`NOTICE_CHOICES_NOTIFIED`] once the 8.1 notification is recorded.
    /// The choice stops at both ends (it does not wrap round).
    pub fn email_choice(index: usize, notified: bool) -> Form {
        Form::email_choice_for(index, notified, true, true)
    }

    /// [`Form::email_choice`] offering only the notices that are ours to
    /// send: the 8.1 notification only when we identified the breach
    /// (`we_notify`), the 8.2.1 (e) supply and (f) report only for the
    /// Service Provider (`supplier`: paragraph 8.2 binds only it).
    pub fn email_choice_for(index: usize, notified: bool, we_notify: bool, supplier: bool) -> Form {
        let all = if notified {
            &NOTICE_CHOICES_NOTIFIED
        } else {
            &NOTICE_CHOICES
        };
        let choices: Vec<(&str, NoticeKind)> = all
            .iter()
            .copied()
            .filter(|(_, kind)| match kind {
                NoticeKind::Notification => we_notify,
                NoticeKind::FullReport | NoticeKind::DataSupply => supplier,
                NoticeKind::Update => true,
            })
            .collect();
        let index = index.min(choices.len().saturating_sub(1));
        Form::new(
            FormKind::EmailChoice,
            if notified {
                "Send a notice by email (the 8.1 notification is already recorded): which one?"
            } else {
                "Send a notice by email: which one?"
            },
            vec![choice(
                "Notice",
                choices.iter().map(|(label, _)| *label).collect(),
                index,
            )],
        )
    }

    /// The chosen notice on the choice form, and whether it is a second
    /// 8.1 notification.
    pub fn chosen_notice(&self) -> Option<(NoticeKind, bool)> {
        if self.kind != FormKind::EmailChoice {
            return None;
        }
        let label = self.text_of("Notice");
        NOTICE_CHOICES
            .iter()
            .chain(NOTICE_CHOICES_NOTIFIED.iter())
            .find(|(l, _)| *l == label)
            .map(|(l, k)| (*k, *l == NOTIFY_AGAIN))
    }

    /// The 8.1 notification by email. `again` (one is already recorded,
    /// `recorded` says how) shows a warning and requires a reason.
    pub fn email_notification(
        recipient: Option<&str>,
        cc: &[String],
        late: bool,
        due: &str,
        again: Option<&str>,
    ) -> Form {
        let hint: &'static str = if late {
            "REQUIRED: the 1-hour deadline has passed; goes into the notice and the record"
        } else {
            "only needed if sent after the deadline"
        };
        let mut fields = vec![
            text(
                "To",
                "the other party's security representative",
                recipient.unwrap_or(""),
            ),
            text("First actions", "what has been done so far", ""),
        ];
        let title = match again {
            Some(recorded) => {
                fields.push(text(
                    "Again because",
                    "REQUIRED: why a second 8.1 notification must go",
                    "",
                ));
                format!(
                    "WARNING: an 8.1 notification is already recorded ({}). Send ANOTHER?",
                    crate::text::one_line(recorded)
                )
            }
            None => {
                fields.push(text("Delay reason", hint, ""));
                format!("Email the 8.1 notification (due by {due})")
            }
        };
        fields.push(text(
            "Cc",
            "copies, separated by , (edit freely)",
            &cc.join(", "),
        ));
        Form::new(
            FormKind::EmailNotification {
                late: late && again.is_none(),
                again: again.is_some(),
            },
            title,
            fields,
        )
    }

    pub fn email_supply(request: &str, cc: &[String]) -> Form {
        Form::new(
            FormKind::EmailSupply {
                request: request.to_string(),
            },
            format!("Email the data for request {request} (8.2.1 e)"),
            vec![
                text(
                    "Files",
                    "files to attach, separated by ; (~ and relative paths work)",
                    "",
                ),
                text("Cc", "copies, separated by , (edit freely)", &cc.join(", ")),
            ],
        )
    }

    pub fn email_update(cc: &[String]) -> Form {
        Form::new(
            FormKind::EmailUpdate,
            "Email a free-form update",
            vec![
                field(
                    "Message",
                    "several lines (Enter: new line)",
                    Value::Multi(String::new()),
                ),
                text("Cc", "copies, separated by , (edit freely)", &cc.join(", ")),
            ],
        )
    }

    pub fn email_report(cc: &[String]) -> Form {
        Form::new(
            FormKind::EmailReport,
            "Email the 8.2.1 (f) full-details report (attached as Markdown and printable HTML)",
            vec![text(
                "Cc",
                "copies, separated by , (edit freely)",
                &cc.join(", "),
            )],
        )
    }

    /// The reason for cancelling notice `notice`.
    pub fn cancel_notice(notice: &str) -> Form {
        Form::new(
            FormKind::CancelNotice {
                notice: notice.to_string(),
            },
            format!("Cancel notice {notice}: it will not be sent"),
            vec![text(
                "Reason",
                "REQUIRED: recorded on the incident and in the audit log",
                "",
            )],
        )
    }

    pub fn close(open_steps: Vec<String>) -> Form {
        let title = if open_steps.is_empty() {
            "Close the incident".to_string()
        } else {
            format!(
                "Close the incident: {} required step(s) still open",
                open_steps.len()
            )
        };
        let hint = if open_steps.is_empty() {
            "optional".to_string()
        } else {
            format!(
                "REQUIRED: why close with {} still open",
                open_steps.join(", ")
            )
        };
        Form::new(
            FormKind::Close { open_steps },
            title,
            vec![
                Field {
                    label: "Reason",
                    hint: std::borrow::Cow::Owned(hint),
                    initial: Value::Text(String::new()),
                    value: Value::Text(String::new()),
                },
                field(
                    "Not a breach",
                    "yes: on assessment not a Breach of Security (nor potential or attempted); the reason is the reasoning",
                    Value::Flag(false),
                ),
            ],
        )
    }

    pub fn reopen() -> Form {
        Form::new(
            FormKind::Reopen,
            "Reopen the incident",
            vec![text("Reason", "why it is reopened (required)", "")],
        )
    }

    pub fn edit(incident: &Incident, tz: Tz) -> Form {
        let kinds = BreachKind::ALL.iter().map(|k| k.as_str()).collect();
        let severities = Severity::ALL.iter().map(|s| s.as_str()).collect();
        let kind = BreachKind::ALL
            .iter()
            .position(|k| *k == incident.kind)
            .unwrap_or(0);
        let severity = Severity::ALL
            .iter()
            .position(|s| *s == incident.severity)
            .unwrap_or(0);
        // Local time, as the rest of the screen shows it (seconds only when
        // there are any); the WHEN grammar reads it back.
        let local_text = |t: DateTime<Utc>| {
            let local = t.with_timezone(&tz);
            if chrono::Timelike::second(&local) == 0 {
                local.format("%Y-%m-%d %H:%M").to_string()
            } else {
                local.format("%Y-%m-%d %H:%M:%S").to_string()
            }
        };
        let identified = local_text(incident.identified_at);
        let d = &incident.details;
        let opt_time = |at: Option<DateTime<Utc>>| at.map(local_text).unwrap_or_default();
        Form::new(
            FormKind::Edit,
            "Edit the incident (every change is logged)",
            vec![
                text("Title", "what happened, in a few words", &incident.title),
                choice("Kind", kinds, kind),
                choice("Severity", severities, severity),
                flag("Personal data", incident.personal_data),
                flag("Govt. data", incident.government_data),
                text(
                    "Identified at",
                    "local time; moving it moves the 1-hour clock: 14:05, -20m or RFC 3339",
                    &identified,
                ),
                text("Why moved", "required if Identified at changes", ""),
                text(
                    "Started at",
                    "when the breach started (not when identified); empty if not known",
                    &opt_time(d.started_at),
                ),
                text(
                    "How detected",
                    "e.g. SOC alert on impossible travel",
                    &d.detected_how,
                ),
                text("Service impact", "impact on the service", &d.service_impact),
                text(
                    "Confidential.",
                    "impact on confidentiality",
                    &d.confidentiality,
                ),
                text("Integrity", "impact on integrity", &d.integrity),
                text("Availability", "impact on availability", &d.availability),
                text(
                    "Containment",
                    "e.g. contained 15:10: account disabled",
                    &d.containment,
                ),
                text(
                    "Data subjects",
                    "how many (personal data); empty if not known",
                    &d.data_subjects.map(|n| n.to_string()).unwrap_or_default(),
                ),
                text(
                    "Categories",
                    "categories of personal data",
                    &d.data_categories,
                ),
                text(
                    "Govt. data is",
                    "which Government Data",
                    &d.government_data_details,
                ),
                text("Others told", "who else has been told", &d.others_told),
                text(
                    "Next update",
                    "when the next update is due: 17:00, +2h or RFC 3339",
                    &opt_time(d.next_update_due),
                ),
                text(
                    "Residual risk",
                    "after the mitigation (for the report)",
                    &d.residual_risk,
                ),
                text(
                    "Lessons",
                    "lessons learned (for the report)",
                    &d.lessons_learned,
                ),
            ],
        )
        .with_severity_help(crate::config::SeverityScale::default().help())
    }

    /// Whether anything was typed or changed.
    pub fn is_dirty(&self) -> bool {
        self.fields.iter().any(|f| f.value != f.initial)
    }

    pub fn focused(&self) -> Option<&Field> {
        self.fields.get(self.focus)
    }

    pub fn focused_is_multiline(&self) -> bool {
        matches!(self.focused().map(|f| &f.value), Some(Value::Multi(_)))
    }

    pub fn focused_is_text(&self) -> bool {
        matches!(
            self.focused().map(|f| &f.value),
            Some(Value::Text(_) | Value::Multi(_))
        )
    }

    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % self.fields.len().max(1);
        self.focus_changed();
    }

    pub fn prev(&mut self) {
        let n = self.fields.len().max(1);
        self.focus = (self.focus + n - 1) % n;
        self.focus_changed();
    }

    /// Left/Right/Space on a choice or flag.
    pub fn change_choice(&mut self, forward: bool) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            match &mut f.value {
                Value::Choice { options, index } if self.kind == FormKind::EmailChoice => {
                    // The notice chooser stops at both ends: never wraps
                    // round from an update to a notification.
                    *index = if forward {
                        (*index + 1).min(options.len().saturating_sub(1))
                    } else {
                        index.saturating_sub(1)
                    };
                }
                Value::Choice { options, index } => {
                    let n = options.len().max(1);
                    *index = if forward {
                        (*index + 1) % n
                    } else {
                        (*index + n - 1) % n
                    };
                }
                Value::Flag(on) => *on = !*on,
                _ => {}
            }
        }
        self.refresh_severity_hint();
    }

    /// A typed character. Returns whether it was used.
    pub fn type_char(&mut self, c: char) -> bool {
        if c.is_control() {
            return false;
        }
        if self.focused_is_text() {
            self.insert(c.encode_utf8(&mut [0; 4]));
            return true;
        }
        let Some(f) = self.fields.get_mut(self.focus) else {
            return false;
        };
        match &mut f.value {
            Value::Text(_) | Value::Multi(_) => {}
            Value::Flag(on) => match c {
                'y' | 'Y' => *on = true,
                'n' | 'N' => *on = false,
                ' ' => *on = !*on,
                _ => return false,
            },
            Value::Choice { .. } => match c {
                ' ' => self.change_choice(true),
                _ => return false,
            },
        }
        true
    }

    /// Pasted text (bracketed paste): new lines kept only in a multi-line field.
    /// Terminals send a pasted line break as CR, LF or CRLF: each is one
    /// new line in a multi-line field and one space in a single-line one.
    pub fn paste(&mut self, pasted: &str) {
        let pasted = pasted.replace("\r\n", "\n").replace('\r', "\n");
        let text: String = match self.fields.get(self.focus).map(|f| &f.value) {
            Some(Value::Multi(_)) => pasted
                .chars()
                .filter(|c| *c == '\n' || !c.is_control())
                .collect(),
            Some(Value::Text(_)) => pasted
                .chars()
                .map(|c| if c == '\n' { ' ' } else { c })
                .filter(|c| !c.is_control())
                .collect(),
            _ => return,
        };
        self.insert(&text);
    }

    pub fn newline(&mut self) {
        if self.focused_is_multiline() {
            self.insert("\n");
        }
    }

    /// Backspace: the character before the cursor (a selected default:
    /// all of it).
    pub fn backspace(&mut self) {
        if std::mem::take(&mut self.selected) {
            if let Some(s) = self.focused_text() {
                s.clear();
            }
            self.cursor = 0;
            return;
        }
        if self.cursor == 0 {
            return;
        }
        let cursor = self.cursor;
        if let Some(s) = self.focused_text() {
            let at = Form::at(s, cursor - 1);
            if at < s.len() {
                s.remove(at);
                self.cursor -= 1;
            }
        }
    }

    fn text_of(&self, label: &str) -> String {
        self.fields
            .iter()
            .find(|f| f.label == label)
            .map(|f| match &f.value {
                Value::Text(s) | Value::Multi(s) => s.clone(),
                Value::Choice { options, index } => {
                    options.get(*index).copied().unwrap_or("").to_string()
                }
                Value::Flag(on) => on.to_string(),
            })
            .unwrap_or_default()
    }

    fn flag_of(&self, label: &str) -> bool {
        self.fields
            .iter()
            .any(|f| f.label == label && f.value == Value::Flag(true))
    }

    fn parse<T: std::str::FromStr<Err = String>>(&self, label: &str) -> Result<T, String> {
        self.text_of(label)
            .parse()
            .map_err(|e| format!("{label}: {e}"))
    }

    /// The edit form's incident facts, as typed: only changed fields are
    /// sent; an emptied time or number clears it.
    fn details_edit(&self, now: DateTime<Utc>, tz: Tz) -> Result<crate::desk::DetailsEdit, String> {
        let text = |label: &str| {
            self.changed(label)
                .then(|| self.text_of(label).trim().to_string())
        };
        let started_at = if self.changed("Started at") {
            Some(self.optional_when("Started at", now, tz)?)
        } else {
            None
        };
        let next_update_due = if self.changed("Next update") {
            let t = self.text_of("Next update");
            if t.trim().is_empty() {
                Some(None)
            } else {
                Some(Some(
                    crate::domain::when::parse_future(&t, now, tz)
                        .map_err(|e| format!("Next update: {e}"))?,
                ))
            }
        } else {
            None
        };
        let data_subjects = if self.changed("Data subjects") {
            let t = self.text_of("Data subjects");
            if t.trim().is_empty() {
                Some(None)
            } else {
                Some(Some(t.trim().parse::<u64>().map_err(|_| {
                    format!("Data subjects: '{}' is not a whole number", t.trim())
                })?))
            }
        } else {
            None
        };
        Ok(crate::desk::DetailsEdit {
            started_at,
            detected_how: text("How detected"),
            service_impact: text("Service impact"),
            confidentiality: text("Confidential."),
            integrity: text("Integrity"),
            availability: text("Availability"),
            containment: text("Containment"),
            data_subjects,
            data_categories: text("Categories"),
            government_data_details: text("Govt. data is"),
            others_told: text("Others told"),
            next_update_due,
            residual_risk: text("Residual risk"),
            lessons_learned: text("Lessons"),
        })
    }

    fn when(&self, label: &str, now: DateTime<Utc>, tz: Tz) -> Result<DateTime<Utc>, String> {
        parse_past(&self.text_of(label), now, tz).map_err(|e| format!("{label}: {e}"))
    }

    fn optional_when(
        &self,
        label: &str,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<Option<DateTime<Utc>>, String> {
        if self.text_of(label).trim().is_empty() {
            Ok(None)
        } else {
            self.when(label, now, tz).map(Some)
        }
    }

    fn changed(&self, label: &str) -> bool {
        self.fields
            .iter()
            .any(|f| f.label == label && f.value != f.initial)
    }

    /// The Client's written relief notice, when its date or reference was
    /// changed (both, and the period, are then needed).
    fn relief_notice(&self) -> Result<Option<ReliefNotice>, String> {
        if !self.changed("Notice date") && !self.changed("Notice ref") {
            return Ok(None);
        }
        let date = self.text_of("Notice date").trim().to_string();
        let dated = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .map_err(|_| format!("Notice date: '{date}' is not a date like 2026-12-01"))?;
        let reference = self.text_of("Notice ref").trim().to_string();
        if reference.is_empty() {
            return Err("Notice ref: give the Client's reference for its notice".into());
        }
        let period = self.text_of("Relief period").trim().to_string();
        if period.is_empty() {
            return Err("Relief period: give the period the notice sets".into());
        }
        Ok(Some(ReliefNotice {
            dated,
            reference,
            period,
        }))
    }

    fn optional_path(&self, label: &str) -> Option<PathBuf> {
        let t = self.text_of(label).trim().to_string();
        (!t.is_empty()).then(|| PathBuf::from(t))
    }

    /// The desk job this form asks for, or why the input is not usable yet.
    /// `id` is the incident on screen (unused for a new incident).
    pub fn job(&self, id: &str, now: DateTime<Utc>, tz: Tz) -> Result<JobKind, String> {
        let id = id.to_string();
        let nonempty = |label: &str| {
            let t = self.text_of(label).trim().to_string();
            if t.is_empty() {
                Err(format!("{label} is empty"))
            } else {
                Ok(t)
            }
        };
        Ok(match &self.kind {
            FormKind::NewIncident => {
                let fields = NewIncident {
                    title: nonempty("Title")?,
                    summary: String::new(),
                    kind: self.parse("Kind")?,
                    severity: self.parse("Severity")?,
                    personal_data: self.flag_of("Personal data"),
                    government_data: false,
                    affected_assets: Vec::new(),
                    identified_at: self.when("Identified at", now, tz)?,
                };
                match self.incoming_notice(now, tz)? {
                    None => JobKind::Open(fields),
                    // The other party's notice may not say when it identified
                    // the breach: unless told, take the receipt time.
                    Some(notice) if !self.changed("Identified at") => JobKind::OpenOnNotice(
                        NewIncident {
                            identified_at: notice.received_at,
                            ..fields
                        },
                        notice,
                    ),
                    Some(notice) => JobKind::OpenOnNotice(fields, notice),
                }
            }
            FormKind::Log => JobKind::Log {
                id,
                text: nonempty("Entry")?,
                at: self.when("At", now, tz)?,
            },
            FormKind::AddRequest => JobKind::AddRequest {
                id,
                requester: self.parse("Deliver to")?,
                name: self.text_of("Name"),
                what: nonempty("What")?,
                received_at: self.when("Received at", now, tz)?,
            },
            FormKind::Supply { request } => JobKind::Supply {
                id,
                request: request.clone(),
                at: self.when("Supplied at", now, tz)?,
                how: nonempty("How")?,
            },
            FormKind::RootCause => JobKind::RootCause {
                id,
                category: self.parse("Category")?,
                component: nonempty("Component")?,
                analysis: Some(self.text_of("Analysis")),
                prevention: self
                    .text_of("Prevention")
                    .split(';')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            },
            FormKind::Mitigation => JobKind::Mitigation {
                id,
                input: MitigationInput {
                    description: Some(self.text_of("What").trim().to_string()),
                    tested_how: Some(self.text_of("Tested how").trim().to_string()),
                    tested: Some(self.flag_of("Tested")),
                    affects_kpis: Some(self.flag_of("Affects KPIs")),
                    relief_period: Some(self.text_of("Relief period").trim().to_string()),
                    relief_requested_at: if self.changed("Relief asked at") {
                        self.optional_when("Relief asked at", now, tz)?
                    } else {
                        None
                    },
                    relief_granted: match self.text_of("Relief granted").as_str() {
                        "granted" => Some(true),
                        "refused" => Some(false),
                        _ => None,
                    },
                    evidence_file: self.optional_path("Evidence file"),
                    relief_notice: self.relief_notice()?,
                },
            },
            FormKind::RcaRequired => {
                let note = self.text_of("Note").trim().to_string();
                JobKind::RcaRequired {
                    id,
                    required: self.parse("RCA required")?,
                    note: (!note.is_empty()).then_some(note),
                }
            }
            FormKind::Isms => JobKind::Isms {
                id,
                required: self.flag_of("Required"),
                description: self.text_of("Description"),
            },
            FormKind::Notify => {
                let reference = self.text_of("Reference").trim().to_string();
                let delay = self.text_of("Delay reason").trim().to_string();
                JobKind::Notify {
                    id,
                    input: NotificationInput {
                        at: self.when("When", now, tz)?,
                        channel: self.parse("Channel")?,
                        recipient: nonempty("To")?,
                        reference: (!reference.is_empty()).then_some(reference),
                        server_reply: None,
                        delay_reason: (!delay.is_empty()).then_some(delay),
                    },
                }
            }
            FormKind::StepNote { step } => JobKind::Step {
                id,
                step: step.clone(),
                status: None,
                note: Some(nonempty("Note")?),
                evidence: None,
            },
            FormKind::StepEvidence { step } => {
                let note = self.text_of("Note").trim().to_string();
                JobKind::Step {
                    id,
                    step: step.clone(),
                    status: None,
                    note: (!note.is_empty()).then_some(note),
                    evidence: Some(PathBuf::from(nonempty("File")?)),
                }
            }
            FormKind::EmailChoice => {
                return Err("choose a notice".into());
            }
            FormKind::EmailNotification { late, again } => {
                let delay = self.text_of("Delay reason").trim().to_string();
                if *late && delay.is_empty() {
                    return Err(
                        "Delay reason: the notification is late; give the reason for the delay"
                            .into(),
                    );
                }
                let again_reason = if *again {
                    Some(nonempty("Again because").map_err(|_| {
                        "Again because: an 8.1 notification is already recorded; say why another must go"
                            .to_string()
                    })?)
                } else {
                    None
                };
                JobKind::Compose(ComposeRequest {
                    to: Some(nonempty("To")?),
                    cc: Some(cc_of(&self.text_of("Cc"))),
                    first_actions: self.text_of("First actions").trim().to_string(),
                    delay_reason: (!delay.is_empty()).then_some(delay),
                    again: again_reason,
                    ..ComposeRequest::new(&id, NoticeKind::Notification)
                })
            }
            FormKind::EmailSupply { request } => {
                let files: Vec<PathBuf> = self
                    .text_of("Files")
                    .split(';')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(expand_path)
                    .collect();
                if files.is_empty() {
                    return Err("Files: give at least one file to attach".into());
                }
                JobKind::Compose(ComposeRequest {
                    request: Some(request.clone()),
                    files,
                    cc: Some(cc_of(&self.text_of("Cc"))),
                    ..ComposeRequest::new(&id, NoticeKind::DataSupply)
                })
            }
            FormKind::EmailUpdate => JobKind::Compose(ComposeRequest {
                message: nonempty("Message")?,
                cc: Some(cc_of(&self.text_of("Cc"))),
                ..ComposeRequest::new(&id, NoticeKind::Update)
            }),
            FormKind::Close { .. } if self.flag_of("Not a breach") => {
                let reasoning = self.text_of("Reason").trim().to_string();
                if reasoning.is_empty() {
                    return Err(
                        "Reason: say why it is not a Breach of Security (the reasoning is kept)"
                            .into(),
                    );
                }
                JobKind::CloseNotABreach { id, reasoning }
            }
            FormKind::EmailReport => JobKind::Compose(ComposeRequest {
                cc: Some(cc_of(&self.text_of("Cc"))),
                ..ComposeRequest::new(&id, NoticeKind::FullReport)
            }),
            FormKind::CancelNotice { notice } => JobKind::CancelNotice {
                id: notice.clone(),
                reason: nonempty("Reason")?,
            },
            FormKind::Close { open_steps } => {
                let reason = self.text_of("Reason").trim().to_string();
                if !open_steps.is_empty() && reason.is_empty() {
                    return Err(format!(
                        "Reason: required steps {} are still open; say why you close anyway",
                        open_steps.join(", ")
                    ));
                }
                JobKind::Close {
                    id,
                    reason: (!reason.is_empty()).then_some(reason),
                }
            }
            FormKind::Reopen => JobKind::Reopen {
                id,
                reason: nonempty("Reason")?,
            },
            FormKind::Edit => {
                let moved = self.changed("Identified at");
                let identified_at = if moved {
                    let reason = self.text_of("Why moved").trim().to_string();
                    if reason.is_empty() {
                        return Err(
                            "Why moved: moving Identified at moves the 1-hour clock; give a reason"
                                .into(),
                        );
                    }
                    Some((self.when("Identified at", now, tz)?, reason))
                } else {
                    None
                };
                JobKind::Edit {
                    id,
                    edit: Edit {
                        title: Some(nonempty("Title")?),
                        kind: Some(self.parse("Kind")?),
                        severity: Some(self.parse("Severity")?),
                        personal_data: Some(self.flag_of("Personal data")),
                        government_data: Some(self.flag_of("Govt. data")),
                        identified_at,
                        details: Box::new(self.details_edit(now, tz)?),
                        ..Edit::default()
                    },
                }
            }
        })
    }
}
