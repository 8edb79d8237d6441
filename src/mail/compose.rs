//! Composing a [`Notice`] from an incident and a template, showing it to the
//! responder, and turning it into a MIME message.
//!
//! Safety rules applied here, before anything is queued:
//! - every address (from, to, cc) must parse as exactly one mailbox and may
//!   not contain control characters; display names taken from the config or
//!   the record are cleaned first (lettre's `Mailbox::new` panics on CR/LF);
//! - the subject is flattened to one line: CR, LF and other control
//!   characters become spaces, so a title can never add a header;
//! - attachments must exist, be regular files and be readable; their size
//!   and SHA-256 are recorded and checked again when the message is built.

use super::error::MailError;
use super::template::{self, Extras};
use crate::config::schema::Addressing;
use crate::domain::incident::{Incident, Requester};
use crate::durable::random_hex;
use crate::text::terminal_safe;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lettre::Message;
use lettre::message::header::ContentTransferEncoding;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::address::{clean_header_text, parse_mailbox};
use crate::domain::notice::NoticeKind;

/// A file attached to a notice, fixed by size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    /// Where the bytes are read from: the responder's file when composed, the
    /// outbox's own copy once queued.
    pub path: PathBuf,
    /// The name the recipient sees.
    pub file_name: String,
    pub size: u64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub content_type: String,
    /// The responder's own file, when `path` is the outbox's copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PathBuf>,
}

/// One message, exactly as the responder confirmed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// e.g. `N-20261128-143201-7f3a9c`; also the outbox file name.
    pub id: String,
    pub incident_id: String,
    pub kind: NoticeKind,
    /// The 8.2.1 (e) data request this supplies, for `data-supply`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The reason a late 8.1 notification gives, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_reason: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    /// `[responder] reply_to`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The Message-ID of the incident's first notice (In-Reply-To and
    /// References), so the recipient's mail client threads them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// Why a second 8.1 notification is sent on purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub again_reason: Option<String>,
    /// The audit log's chain head when the notice was queued
    /// (`X-Breachdesk-Audit-Head`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_head: Option<String>,
    pub subject: String,
    /// `<random@breachdesk.domain>`: fixed when composed, stored with the
    /// notice when queued, and reused on every attempt, so a re-send after
    /// a crash is recognisable as the same message.
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInfo>,
    pub body: String,
}

/// What the responder wants to send, before it is composed.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub kind: NoticeKind,
    pub incident: &'a Incident,
    /// The sender, `Name <address>`.
    pub from: String,
    pub to: Vec<String>,
    /// `[contacts] cc` plus any added for this notice.
    pub cc: Vec<String>,
    pub reply_to: Option<String>,
    /// The incident's first notice's Message-ID, for threading.
    pub in_reply_to: Option<String>,
    /// Why a second 8.1 notification is sent on purpose.
    pub again_reason: Option<String>,
    pub attachments: Vec<PathBuf>,
    /// For the 8.1 notification: what has been done so far.
    pub first_actions: String,
    /// For a late 8.1 notification: why it is late.
    pub delay_reason: Option<String>,
    /// For `data-supply`: which request (`R1`, ...).
    pub request_id: Option<String>,
    /// For `update`: the free-form text.
    pub message: String,
    /// `[contract] marking`: first in the subject, top and bottom of the body.
    pub marking: Option<String>,
    /// `[contract] name` and `reference`, named in the notice.
    pub contract_name: Option<String>,
    pub contract_reference: Option<String>,
    /// `[responder] phone`, given in the notice.
    pub phone: Option<String>,
}

impl<'a> Draft<'a> {
    /// A draft with the sender and recipients taken from `config.toml`:
    /// the notification, report and update go to `[contacts] other_party`;
    /// use [`Draft::supply`] for a data supply.
    /// `config` is the whole [`crate::config::Config`] or just its
    /// [`Addressing`].
    pub fn new<'c>(
        kind: NoticeKind,
        incident: &'a Incident,
        config: impl Into<Addressing<'c>>,
    ) -> Result<Draft<'a>, MailError> {
        let config: Addressing<'c> = config.into();
        let from = sender(config)?;
        let to = match kind {
            NoticeKind::DataSupply => Vec::new(),
            _ => vec![config.contacts.other_party.clone().ok_or_else(|| {
                MailError::Incomplete(
                    "no address for the other party's security representative: set [contacts] other_party in config.toml".into(),
                )
            })?],
        };
        Ok(Draft {
            kind,
            incident,
            from,
            to,
            cc: config.contacts.cc.clone(),
            reply_to: config
                .responder
                .reply_to
                .clone()
                .filter(|r| !r.trim().is_empty()),
            in_reply_to: first_notice_id(incident),
            again_reason: None,
            attachments: Vec::new(),
            first_actions: String::new(),
            delay_reason: None,
            request_id: None,
            message: String::new(),
            marking: config.contract.marking(),
            contract_name: config.contract.name(),
            contract_reference: config.contract.reference(),
            phone: config
                .responder
                .phone
                .as_deref()
                .map(clean_header_text)
                .filter(|p| !p.is_empty()),
        })
    }

    /// An 8.2.1 (e) data supply answering request `request_id`, addressed to
    /// whoever asked: GovCertUK (`[contacts] govcertuk`), the Client
    /// (`[contacts] other_party`), or the requester's own address.
    pub fn supply<'c>(
        incident: &'a Incident,
        config: impl Into<Addressing<'c>>,
        request_id: &str,
        attachments: Vec<PathBuf>,
    ) -> Result<Draft<'a>, MailError> {
        let config: Addressing<'c> = config.into();
        let request = incident
            .data_requests
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(request_id.trim()))
            .ok_or_else(|| {
                MailError::Incomplete(format!(
                    "incident {} has no data request {request_id}",
                    incident.id
                ))
            })?;
        // 8.2.1 (e): data goes to the Client, or to GovCertUK at the Client's request.
        let to = match request.deliver_to {
            Requester::GovCertUk => config.contacts.govcertuk.clone().ok_or_else(|| {
                MailError::Incomplete(
                    "no address for GovCertUK: set [contacts] govcertuk in config.toml".into(),
                )
            })?,
            Requester::Client => config.contacts.other_party.clone().ok_or_else(|| {
                MailError::Incomplete(
                    "no address for the Client: set [contacts] other_party in config.toml".into(),
                )
            })?,
        };
        let mut draft = Draft::new(NoticeKind::DataSupply, incident, config)?;
        draft.to = vec![to];
        draft.request_id = Some(request.id.clone());
        draft.attachments = attachments;
        Ok(draft)
    }
}

/// The Message-ID of the incident's first email notice, if any: an 8.1
/// notification emailed before the `notices` list existed (its Message-ID
/// is its reference), else the first accepted notice in the list, else the
/// first not cancelled.
pub fn first_notice_id(incident: &Incident) -> Option<String> {
    use crate::domain::incident::{Channel, DeliveryState, NoticeRecord};
    let n = &incident.notification;
    let legacy = (n.channel == Some(Channel::Email))
        .then(|| n.reference.clone())
        .flatten()
        .filter(|r| r.starts_with('<') && !incident.notices.iter().any(|x| &x.message_id == r));
    let first = |wanted: &dyn Fn(&NoticeRecord) -> bool| {
        incident
            .notices
            .iter()
            .filter(|n| wanted(n))
            .min_by_key(|n| n.queued_at)
            .map(|n| n.message_id.clone())
    };
    legacy
        .or_else(|| first(&|n| n.state == DeliveryState::Sent))
        .or_else(|| first(&|n| n.state != DeliveryState::Cancelled))
}

/// `Name <address>` for the responder, with the name cleaned.
fn sender(config: Addressing<'_>) -> Result<String, MailError> {
    let email = config
        .responder
        .email
        .clone()
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| {
            MailError::Incomplete("no sender address: set [responder] email in config.toml".into())
        })?;
    let address = parse_mailbox("responder.email", &email)?.email;
    let name = clean_header_text(&config.responder.name_or_os_user());
    let name = (!name.is_empty()).then_some(name);
    Ok(Mailbox::new(name, address).to_string())
}

/// A new notice id, e.g. `N-20261128-143201-7f3a9c`.
pub fn notice_id(now: DateTime<Utc>) -> String {
    format!("N-{}-{}", now.format("%Y%m%d-%H%M%S"), random_hex(3))
}

/// A new Message-ID `<32 hex@breachdesk.domain>` with the sender's domain.
pub fn message_id(from: &Mailbox) -> String {
    format!("<{}@breachdesk.{}>", random_hex(16), from.email.domain())
}

/// A guess at a MIME type from the file extension.
pub fn content_type_for(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain; charset=utf-8",
        "md" | "markdown" => "text/markdown; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        "toml" => "application/toml",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "pcap" => "application/vnd.tcpdump.pcap",
        _ => "application/octet-stream",
    }
}

/// Reads an attachment, refusing what is missing, not a file or unreadable.
pub fn read_attachment(path: &Path) -> Result<(AttachmentInfo, Vec<u8>), MailError> {
    let refuse = |reason: String| MailError::Attachment {
        path: path.to_path_buf(),
        reason,
    };
    let too_long = |e: &std::io::Error| {
        (e.raw_os_error() == Some(36)).then(|| {
            let longest = path
                .components()
                .map(|c| c.as_os_str().len())
                .max()
                .unwrap_or(0);
            refuse(format!(
                "the name is too long for this system ({longest} bytes in one part; at most 255, and {} in the whole path)",
                4095
            ))
        })
    };
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => refuse("does not exist".into()),
        _ => too_long(&e).unwrap_or_else(|| refuse(format!("cannot be read: {e}"))),
    })?;
    if !meta.is_file() {
        return Err(refuse("is not a regular file".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
    let file_name = path
        .file_name()
        .map(|n| clean_header_text(&n.to_string_lossy()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "attachment".into());
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    Ok((
        AttachmentInfo {
            path: absolute,
            source: None,
            file_name,
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
            content_type: {
                let guess = content_type_for(path);
                // Text types promise UTF-8; anything else goes as bytes.
                if guess.starts_with("text/") && std::str::from_utf8(&bytes).is_err() {
                    "application/octet-stream".to_string()
                } else {
                    guess.to_string()
                }
            },
        },
        bytes,
    ))
}

/// Builds the notice the responder will be shown and asked to confirm.
/// `templates_dir` is `<config dir>/templates` (user overrides); `tz` is the
/// zone times are shown in (Europe/London unless configured otherwise).
pub fn compose(
    draft: &Draft<'_>,
    templates_dir: Option<&Path>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Notice, MailError> {
    let from = parse_mailbox("from", &draft.from)?;
    if draft.to.is_empty() {
        return Err(MailError::Incomplete("the notice has no recipient".into()));
    }
    let to = draft
        .to
        .iter()
        .map(|a| parse_mailbox("to", a).map(|m| m.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut cc: Vec<String> = Vec::new();
    for a in &draft.cc {
        let m = parse_mailbox("cc", a)?;
        let already = to
            .iter()
            .chain(cc.iter())
            .any(|t| parse_mailbox("cc", t).is_ok_and(|o| o.email == m.email));
        if !already {
            cc.push(m.to_string());
        }
    }
    let reply_to = draft
        .reply_to
        .as_deref()
        .map(|r| parse_mailbox("responder.reply_to", r).map(|m| m.to_string()))
        .transpose()?;
    let again_reason = draft
        .again_reason
        .as_deref()
        .map(clean_header_text)
        .filter(|r| !r.is_empty());
    if draft.kind == NoticeKind::DataSupply && draft.request_id.is_none() {
        return Err(MailError::Incomplete(
            "a data supply must say which request it answers".into(),
        ));
    }
    if draft.kind == NoticeKind::DataSupply && draft.attachments.is_empty() {
        return Err(MailError::Incomplete(
            "a data supply needs at least one file attached".into(),
        ));
    }
    let attachments = draft
        .attachments
        .iter()
        .map(|p| read_attachment(p).map(|(info, _)| info))
        .collect::<Result<Vec<_>, _>>()?;

    let template = template::load(draft.kind, templates_dir)?;
    let extras = Extras {
        responder_name: from.name.clone().unwrap_or_default(),
        responder_email: from.email.to_string(),
        first_actions: draft.first_actions.clone(),
        delay_reason: draft.delay_reason.clone(),
        request_id: draft.request_id.clone(),
        message: draft.message.clone(),
        attachment_names: attachments.iter().map(|a| a.file_name.clone()).collect(),
        phone: draft.phone.clone(),
        contract_name: draft.contract_name.clone(),
        contract_reference: draft.contract_reference.clone(),
    };
    let fields = template::fields(draft.incident, &extras, tz, now);
    let (subject, body) = template.render(&fields)?;
    let marking = draft.marking.as_deref().map(clean_header_text);
    let marking = marking.as_deref().filter(|m| !m.is_empty());
    // The protective marking comes first in the subject, and at the top and
    // bottom of the body.
    let (subject, body) = match marking {
        Some(m) => (format!("{m} {subject}"), format!("{m}\n\n{body}\n{m}\n")),
        None => (subject, body),
    };
    let subject = clean_header_text(&subject);
    if subject.is_empty() {
        return Err(MailError::Incomplete("the subject is empty".into()));
    }

    Ok(Notice {
        id: notice_id(now),
        incident_id: draft.incident.id.clone(),
        kind: draft.kind,
        request_id: draft.request_id.clone(),
        delay_reason: draft.delay_reason.clone().filter(|r| !r.trim().is_empty()),
        message_id: message_id(&from),
        from: from.to_string(),
        to,
        cc,
        reply_to,
        in_reply_to: draft.in_reply_to.clone(),
        again_reason,
        audit_head: None,
        subject,
        created_at: now,
        attachments,
        body,
    })
}

/// Exactly what will be sent, for the responder to read before confirming.
/// Control characters are made visible so the preview cannot be spoofed.
pub fn render_preview(notice: &Notice) -> String {
    let safe = |s: &str| terminal_safe(s, false);
    let mut out = String::new();
    out.push_str(&format!(
        "Notice:      {} ({})\n",
        safe(&notice.id),
        notice.kind
    ));
    out.push_str(&format!("From:        {}\n", safe(&notice.from)));
    out.push_str(&format!("To:          {}\n", safe(&notice.to.join(", "))));
    if !notice.cc.is_empty() {
        out.push_str(&format!("Cc:          {}\n", safe(&notice.cc.join(", "))));
    }
    if let Some(r) = &notice.reply_to {
        out.push_str(&format!("Reply-To:    {}\n", safe(r)));
    }
    if let Some(r) = &notice.in_reply_to {
        out.push_str(&format!("In-Reply-To: {}\n", safe(r)));
    }
    if let Some(r) = &notice.again_reason {
        out.push_str(&format!(
            "AGAIN:       an 8.1 notification is already recorded; sent again because: {}\n",
            safe(r)
        ));
    }
    out.push_str(&format!("Subject:     {}\n", safe(&notice.subject)));
    out.push_str(&format!("Message-ID:  {}\n", safe(&notice.message_id)));
    if notice.attachments.is_empty() {
        out.push_str("Attachments: none\n");
    } else {
        out.push_str("Attachments:\n");
        for a in &notice.attachments {
            out.push_str(&format!(
                "  - {} ({} bytes, {}, sha256 {}) from {}\n",
                safe(&a.file_name),
                a.size,
                a.content_type,
                a.sha256,
                safe(&a.path.display().to_string())
            ));
        }
    }
    out.push_str("------------------------------------------------------------------------\n");
    out.push_str(&terminal_safe(&notice.body, true));
    if !notice.body.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("------------------------------------------------------------------------\n");
    out
}

/// `X-Breachdesk-Audit-Head`: the audit log's chain head when the notice
/// was queued (64 hex digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead(pub String);

/// The header's name.
pub const AUDIT_HEAD_HEADER: &str = "X-Breachdesk-Audit-Head";

impl lettre::message::header::Header for AuditHead {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str(AUDIT_HEAD_HEADER)
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AuditHead(s.trim().to_string()))
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The MIME message for `notice`: Date (`created_at`), Message-ID, Cc,
/// Reply-To, In-Reply-To/References to the incident's first notice, the
/// audit chain head, and a UTF-8 text/plain body with CRLF line endings and
/// no line over 998 bytes (quoted-printable when a line is longer). Every
/// attachment goes base64-encoded, so the recipient decodes exactly the
/// file's bytes; they are re-read and must still match their SHA-256.
pub fn to_message(notice: &Notice) -> Result<Message, MailError> {
    let mut builder = Message::builder()
        .from(parse_mailbox("from", &notice.from)?)
        .subject(clean_header_text(&notice.subject))
        .date(notice.created_at.into())
        .message_id(Some(clean_header_text(&notice.message_id)));
    for to in &notice.to {
        builder = builder.to(parse_mailbox("to", to)?);
    }
    for cc in &notice.cc {
        builder = builder.cc(parse_mailbox("cc", cc)?);
    }
    if let Some(r) = &notice.reply_to {
        builder = builder.reply_to(parse_mailbox("reply_to", r)?);
    }
    if let Some(first) = notice
        .in_reply_to
        .as_deref()
        .map(clean_header_text)
        .filter(|f| is_message_id(f) && *f != notice.message_id)
    {
        builder = builder.in_reply_to(first.clone()).references(first);
    }
    if let Some(head) = notice
        .audit_head
        .as_deref()
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        builder = builder.header(AuditHead(head.to_string()));
    }
    let text = SinglePart::plain(notice.body.replace("\r\n", "\n"));
    let build_err =
        |e: lettre::error::Error| MailError::Protocol(format!("cannot build the message: {e}"));
    if notice.attachments.is_empty() {
        return builder.singlepart(text).map_err(build_err);
    }
    let mut multipart = MultiPart::mixed().singlepart(text);
    for a in &notice.attachments {
        let (info, bytes) = read_attachment(&a.path)?;
        if info.sha256 != a.sha256 {
            return Err(MailError::Attachment {
                path: a.path.clone(),
                reason: "has changed since the notice was confirmed".into(),
            });
        }
        let content_type = ContentType::parse(&a.content_type).unwrap_or_else(|_| {
            ContentType::parse("application/octet-stream").unwrap_or(ContentType::TEXT_PLAIN)
        });
        let body =
            Body::new_with_encoding(bytes, ContentTransferEncoding::Base64).map_err(|_| {
                MailError::Attachment {
                    path: a.path.clone(),
                    reason: "cannot be encoded as base64".into(),
                }
            })?;
        multipart = multipart
            .singlepart(Attachment::new(clean_header_text(&a.file_name)).body(body, content_type));
    }
    builder.multipart(multipart).map_err(build_err)
}

/// `<local@domain>` with nothing that could end a header.
fn is_message_id(text: &str) -> bool {
    text.starts_with('<')
        && text.ends_with('>')
        && text.contains('@')
        && text.len() <= 250
        && text
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '(' && c != ')' && c != ',')
}
