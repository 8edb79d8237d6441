//! The mailer edge: paragraph 8 notices composed from templates, kept in a
//! durable outbox, and delivered over SMTP with TLS.
//!
//! # Flow
//!
//! The CLI and the console do not call this module's flow themselves: they
//! call the desk's notice service (`crate::desk::notices`), which uses it.
//!
//! 1. [`compose::Draft`] + [`compose::compose`] turn an incident into a
//!    [`compose::Notice`] using a template ([`template`]). Recipients (To,
//!    `[contacts] cc` and per-notice Cc, Reply-To) are validated, attachments
//!    are read and hashed, and any CR/LF in a header field is flattened, all
//!    before anything is stored.
//! 2. [`compose::render_preview`] shows the responder exactly what will go
//!    (recipients, subject, body, attachments) so they can confirm.
//! 3. On confirmation, [`outbox::queue`] writes the notice durably to
//!    `<data dir>/outbox/` (and copies its attachments there) before any
//!    attempt is made. One confirmation = one queued notice = one id and one
//!    Message-ID, fixed from then on.
//! 4. [`outbox::deliver`] sends it with [`transport`] as
//!    [`compose::to_message`] builds it (attachments base64, body CRLF with
//!    no line over 998 bytes, In-Reply-To/References, the audit head).
//!    Each attempt is recorded on the notice, which ends `sent` (moved to
//!    `outbox/sent/`), `failed` (a 5xx: kept, never retried automatically),
//!    `unknown` (transmitted, no reply) or stays `pending`;
//!    [`outbox::cancel`] drops one with a reason.
//!
//! # Public API
//!
//! ```text
//! compose::Draft::new(kind, &incident, &config) -> Result<Draft, MailError>
//! compose::compose(&draft, templates_dir: Option<&Path>, tz, now) -> Result<Notice, MailError>
//! compose::render_preview(&Notice) -> String
//! compose::to_message(&Notice) -> Result<lettre::Message, MailError>
//! crate::report::missing_for_report(&Incident) -> Vec<String>         // what the 8.2.1 (f) report lacks
//! outbox::queue(outbox_dir, Notice, now) -> Result<QueuedNotice, MailError>
//! outbox::outbox_dir(data_dir) -> PathBuf                              // <data dir>/outbox
//! outbox::list(outbox_dir) -> Result<Vec<QueuedNotice>, MailError>      // every state
//! outbox::pending(outbox_dir) -> Result<Vec<QueuedNotice>, MailError>   // pending, unknown, failed
//! outbox::get(outbox_dir, id) -> Result<QueuedNotice, MailError>
//! outbox::retry_now(outbox_dir, id, now) -> Result<QueuedNotice, MailError>  // a failed one too
//! outbox::cancel(outbox_dir, id, by, reason, now) -> Result<QueuedNotice, MailError>
//! outbox::deliver(outbox_dir, id, &Smtp, now).await -> Result<Delivery, MailError>
//! outbox::deliver_due(outbox_dir, &Smtp, now).await -> Vec<(String, Result<Delivery, MailError>)>
//! transport::check_connection(&Smtp).await -> Result<String, MailError>  // for `config check`
//! ```
//!
//! The notice id and Message-ID are generated when the notice is composed
//! (so the preview can show them), written to disk by `queue`, and never
//! regenerated: every attempt for one confirmation carries the same
//! Message-ID, and `queue` refuses an id that is already in the outbox.
//!
//! Every error is a [`MailError`] whose `Display` is a plain sentence meant
//! for the responder (no debug dumps, never a password).

pub mod compose;
pub mod error;
pub mod fields;
pub mod outbox;
pub mod screen;
mod smtp_errors;
pub mod template;
pub mod transport;

pub use compose::{AttachmentInfo, Draft, Notice, compose, render_preview};
pub use error::MailError;
pub use outbox::{Attempt, Cancelled, Delivery, NoticeState, QueuedNotice, SentRecord};

use crate::domain::incident::Incident;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::path::{Path, PathBuf};

/// Writes the 8.2.1 (f) full-details report, privately, to `<data dir>/exports/`,
/// as Markdown and as self-contained printable HTML, both carrying the
/// `[contract] marking`, for the report email to carry as attachments.
/// Evidence is named by file name, size and SHA-256, never by local path.
/// Shared by the CLI (`breachdesk report`) and the console.
pub fn report_attachment(
    data_dir: &Path,
    incident: &Incident,
    contract: &crate::config::schema::ContractSettings,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Vec<PathBuf>, MailError> {
    let exports = data_dir.join("exports");
    crate::durable::ensure_private_dir(&exports).map_err(|e| MailError::io(&exports, e))?;
    let options = crate::report::ReportOptions {
        marking: contract.marking(),
        contract: contract.line(),
        include_paths: false,
    };
    let doc = crate::report::full_details(incident, tz, now, &options);
    // A random tail: composing twice in one second must not collide.
    let stem = format!(
        "{}-{}-{}",
        incident.id,
        now.format("%Y%m%dT%H%M%SZ"),
        crate::durable::random_hex(3)
    );
    let mut written = Vec::new();
    for (ext, text) in [
        ("md", crate::report::to_markdown(&doc)),
        ("html", crate::report::to_html(&doc)),
    ] {
        let path = exports.join(format!("{stem}.{ext}"));
        crate::durable::create_private_file(&path, text.as_bytes())
            .map_err(|e| MailError::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}
