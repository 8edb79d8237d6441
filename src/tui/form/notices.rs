//! The notice forms: which notice to email, each notice's form (To, Cc,
//! what it says), and cancelling a notice still in the outbox.

use super::{F, Form, FormKind, Value, choice, field, text};
use crate::domain::notice::NoticeKind;

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

impl Form {
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
                F::Notice,
                choices.iter().map(|(label, _)| *label).collect(),
                index,
            )],
        )
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
                F::To,
                "the other party's security representative",
                recipient.unwrap_or(""),
            ),
            text(F::FirstActions, "what has been done so far", ""),
        ];
        let title = match again {
            Some(recorded) => {
                fields.push(text(
                    F::AgainBecause,
                    "REQUIRED: why a second 8.1 notification must go",
                    "",
                ));
                format!(
                    "WARNING: an 8.1 notification is already recorded ({}). Send ANOTHER?",
                    crate::text::one_line(recorded)
                )
            }
            None => {
                fields.push(text(F::DelayReason, hint, ""));
                format!("Email the 8.1 notification (due by {due})")
            }
        };
        fields.push(text(
            F::Cc,
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
                    F::Files,
                    "files to attach, separated by ; (~ and relative paths work)",
                    "",
                ),
                text(
                    F::Cc,
                    "copies, separated by , (edit freely)",
                    &cc.join(", "),
                ),
            ],
        )
    }

    pub fn email_update(cc: &[String]) -> Form {
        Form::new(
            FormKind::EmailUpdate,
            "Email a free-form update",
            vec![
                field(
                    F::Message,
                    "several lines (Enter: new line)",
                    Value::Multi(String::new()),
                ),
                text(
                    F::Cc,
                    "copies, separated by , (edit freely)",
                    &cc.join(", "),
                ),
            ],
        )
    }

    pub fn email_report(cc: &[String]) -> Form {
        Form::new(
            FormKind::EmailReport,
            "Email the 8.2.1 (f) full-details report (attached as Markdown and printable HTML)",
            vec![text(
                F::Cc,
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
                F::Reason,
                "REQUIRED: recorded on the incident and in the audit log",
                "",
            )],
        )
    }
}
