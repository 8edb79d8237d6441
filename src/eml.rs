//! Reading a saved email (RFC 5322, e.g. a `.eml` file saved from a mail
//! client): the other party's 8.1 notice, or an 8.2.1 (e) data request.
//!
//! Reading is tolerant (LF or CRLF, folded headers, encoded words, any
//! charset mail-parser knows, multipart bodies), but a message missing
//! anything breachdesk must record is refused with one line naming the file
//! and the header.

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::MessageParser;

/// Longest body text kept (characters); the rest is cut with a note.
pub const MAX_BODY_CHARS: usize = 8000;

/// What breachdesk takes from a saved message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMail {
    /// From the `Date:` header, in UTC.
    pub date: DateTime<Utc>,
    /// `Name <address>` (or the bare address) from `From:`.
    pub from: String,
    /// `Subject:`, trimmed (may be empty when the body says it all).
    pub subject: String,
    /// The first text body part, trimmed and cut at [`MAX_BODY_CHARS`].
    pub body: String,
    /// `Message-ID:`, in angle brackets.
    pub message_id: String,
}

impl IncomingMail {
    /// What was asked, for a data request: the subject, then the body.
    pub fn what(&self) -> String {
        match (self.subject.is_empty(), self.body.is_empty()) {
            (false, false) => format!("{}\n\n{}", self.subject, self.body),
            (false, true) => self.subject.clone(),
            _ => self.body.clone(),
        }
    }
}

/// Parses a saved message. `file` names it in errors.
pub fn read(bytes: &[u8], file: &str) -> Result<IncomingMail, String> {
    let message = MessageParser::default()
        .parse(bytes)
        .filter(|m| !m.headers().is_empty())
        .ok_or_else(|| format!("{file}: not an email message (no headers found)"))?;
    let has = |name: &str| message.header_raw(name).is_some();

    if !has("Date") {
        return Err(format!(
            "{file}: no Date: header, so the time it was received is unknown (give it on the command line instead)"
        ));
    }
    let date = message
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| Utc.timestamp_opt(d.to_timestamp(), 0).single())
        .ok_or_else(|| {
            format!(
                "{file}: the Date: header '{}' is not an RFC 5322 date",
                crate::text::one_line(message.header_raw("Date").unwrap_or("").trim())
            )
        })?;
    if !crate::domain::when::in_range(date) {
        return Err(format!(
            "{file}: the Date: header '{}' is outside the times breachdesk accepts ({}-01-01 to {}-12-31)",
            crate::text::one_line(message.header_raw("Date").unwrap_or("").trim()),
            crate::domain::when::EARLIEST_YEAR,
            crate::domain::when::END_YEAR - 1
        ));
    }

    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|addr| {
            let address = addr.address().map(str::trim).filter(|a| !a.is_empty());
            let name = addr.name().map(str::trim).filter(|n| !n.is_empty());
            match (name, address) {
                (Some(n), Some(a)) => Some(format!("{n} <{a}>")),
                (None, Some(a)) => Some(a.to_string()),
                _ => None,
            }
        })
        .ok_or_else(|| {
            if has("From") {
                format!("{file}: the From: header has no address")
            } else {
                format!("{file}: no From: header, so who sent it is unknown")
            }
        })?;

    let message_id = message
        .message_id()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| format!("<{}>", m.trim_matches(|c| c == '<' || c == '>')))
        .ok_or_else(|| format!("{file}: no Message-ID: header to keep as the reference"))?;

    let subject = message.subject().map(clean).unwrap_or_default();
    let mut body = message
        .body_text(0)
        .map(|b| b.trim().replace("\r\n", "\n"))
        .unwrap_or_default();
    if body.chars().count() > MAX_BODY_CHARS {
        body = body.chars().take(MAX_BODY_CHARS).collect::<String>() + "\n[… cut by breachdesk]";
    }
    if subject.is_empty() && body.is_empty() {
        return Err(format!(
            "{file}: no Subject: header and no text body, so what it says is unknown"
        ));
    }
    Ok(IncomingMail {
        date,
        from: clean(&from),
        subject,
        body,
        message_id: clean(&message_id),
    })
}

/// One line, control characters dropped.
fn clean(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTICE: &str = "Received: from mx.client.example by mx.provider.example; Sat, 28 Nov 2026 14:20:00 +0000\r\n\
From: \"Jo Bloggs, Client CSR\" <jo.bloggs@client.example.gov.uk>\r\n\
To: soc@provider.example\r\n\
Subject: =?UTF-8?Q?Breach_of_Security_notice_=E2=80=93_admin_portal?=\r\n\
Date: Sat, 28 Nov 2026 14:05:00 +0000\r\n\
Message-ID: <abc123@client.example.gov.uk>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
We saw logins from an unknown IP on the admin portal.\r\n";

    #[test]
    fn reads_date_from_subject_body_and_message_id() {
        let mail = read(NOTICE.as_bytes(), "n.eml").expect("parses");
        assert_eq!(mail.date.to_rfc3339(), "2026-11-28T14:05:00+00:00");
        assert_eq!(
            mail.from,
            "Jo Bloggs, Client CSR <jo.bloggs@client.example.gov.uk>"
        );
        assert_eq!(mail.subject, "Breach of Security notice – admin portal");
        assert_eq!(
            mail.body,
            "We saw logins from an unknown IP on the admin portal."
        );
        assert_eq!(mail.message_id, "<abc123@client.example.gov.uk>");
    }

    #[test]
    fn a_date_with_an_offset_is_converted_to_utc_and_lf_only_is_fine() {
        let text = NOTICE
            .replace("\r\n", "\n")
            .replace("14:05:00 +0000", "15:05:00 +0100");
        let mail = read(text.as_bytes(), "n.eml").expect("parses");
        assert_eq!(mail.date.to_rfc3339(), "2026-11-28T14:05:00+00:00");
    }

    #[test]
    fn missing_headers_are_refused_naming_file_and_header() {
        let no_date = NOTICE.replace("Date: Sat, 28 Nov 2026 14:05:00 +0000\r\n", "");
        let e = read(no_date.as_bytes(), "x.eml").expect_err("refused");
        assert!(e.starts_with("x.eml: no Date: header"), "{e}");

        for (far, year) in [
            ("Thu, 1 Jan 1970 00:00:00 +0000", "1970"),
            ("Sun, 31 Dec 1989 23:59:59 +0000", "1989"),
            ("Thu, 1 Jan 2200 00:00:00 +0000", "2200"),
        ] {
            let text = NOTICE.replace("Sat, 28 Nov 2026 14:05:00 +0000", far);
            let e = read(text.as_bytes(), "x.eml").expect_err("refused");
            assert!(
                e.starts_with(&format!("x.eml: the Date: header '{far}' is outside")),
                "{year}: {e}"
            );
            assert!(e.contains("1990-01-01 to 2199-12-31"), "{e}");
        }
        let edge = NOTICE.replace(
            "Sat, 28 Nov 2026 14:05:00 +0000",
            "Mon, 1 Jan 1990 00:00:00 +0000",
        );
        assert!(read(edge.as_bytes(), "x.eml").is_ok());
        let bad_date = NOTICE.replace("Sat, 28 Nov 2026 14:05:00 +0000", "yesterday-ish");
        let e = read(bad_date.as_bytes(), "x.eml").expect_err("refused");
        assert!(e.contains("x.eml: the Date: header 'yesterday-ish'"), "{e}");

        let no_from = NOTICE.replace(
            "From: \"Jo Bloggs, Client CSR\" <jo.bloggs@client.example.gov.uk>\r\n",
            "",
        );
        let e = read(no_from.as_bytes(), "x.eml").expect_err("refused");
        assert!(e.starts_with("x.eml: no From: header"), "{e}");

        let no_id = NOTICE.replace("Message-ID: <abc123@client.example.gov.uk>\r\n", "");
        let e = read(no_id.as_bytes(), "x.eml").expect_err("refused");
        assert!(e.starts_with("x.eml: no Message-ID: header"), "{e}");

        let e = read(b"", "empty.eml").expect_err("refused");
        assert!(e.starts_with("empty.eml: not an email message"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }

    #[test]
    fn a_long_body_is_cut_and_what_joins_subject_and_body() {
        let long = NOTICE.replace(
            "We saw logins from an unknown IP on the admin portal.",
            &"x".repeat(MAX_BODY_CHARS + 10),
        );
        let mail = read(long.as_bytes(), "n.eml").expect("parses");
        assert!(mail.body.ends_with("[… cut by breachdesk]"));
        assert!(mail.what().starts_with("Breach of Security notice"));
    }
}
