//! Email addresses as the responder types them: one mailbox per field
//! (`addr@example` or `Name <addr@example>`), lists split on `,` or `;`, and
//! header text flattened to one line. Shared by `config.toml` checking and
//! the mailer, so both refuse the same addresses in the same words.

use crate::text::terminal_safe;
use lettre::message::Mailbox;

/// An address that is not one valid mailbox, naming the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {}", self.words())]
pub struct AddressError {
    /// The field or header it was given for (`contacts.cc`, `to`).
    pub field: String,
    /// The value as given, made safe to show on a terminal.
    pub value: String,
    pub reason: String,
}

impl AddressError {
    /// The problem without the field name, for messages that name the field
    /// themselves: "'x' is not a valid email address: it is empty".
    pub fn words(&self) -> String {
        format!(
            "'{}' is not a valid email address: {}",
            self.value, self.reason
        )
    }
}

/// Parses one address (`addr@example` or `Name <addr@example>`), refusing
/// control characters and anything after the first mailbox.
pub fn parse_mailbox(field: &str, value: &str) -> Result<Mailbox, AddressError> {
    let err = |reason: &str| AddressError {
        field: field.to_string(),
        value: terminal_safe(value, false),
        reason: reason.to_string(),
    };
    let v = value.trim();
    if v.is_empty() {
        return Err(err("it is empty"));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(err("it contains a line break or another control character"));
    }
    let mailbox: Mailbox = v
        .parse()
        .map_err(|e: lettre::address::AddressError| err(&e.to_string()))?;
    let address = mailbox.email.to_string();
    // lettre stops at the end of the first mailbox: make sure nothing follows.
    let whole = match v.rfind('>') {
        Some(end) => v[end + 1..].trim().is_empty() && v.contains(&format!("<{address}>")),
        None => v == address,
    };
    if !whole {
        return Err(err(
            "give one address per entry (found more than one, or extra text)",
        ));
    }
    Ok(mailbox)
}

/// Splits a typed list of addresses on `,` or `;` outside quotes and angle
/// brackets (`"Doe, J" <j@x>, k@y` is two).
pub fn split_addresses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut angle) = (false, false);
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' | ';' if !quoted && !angle => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

/// One line of header text: control characters (CR, LF, TAB, ...) become
/// spaces, runs of spaces fold to one, and the ends are trimmed.
pub fn clean_header_text(text: &str) -> String {
    let replaced: String = text
        .chars()
        .map(|c| if c.is_control() || is_bidi(c) { ' ' } else { c })
        .collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_is_one_line() {
        assert_eq!(clean_header_text("x\r\nBcc: evil@x"), "x Bcc: evil@x");
        assert_eq!(clean_header_text("  a\t b\u{202e}c "), "a b c");
    }

    #[test]
    fn one_mailbox_per_field() {
        assert!(parse_mailbox("to", "Sam <sam@example.org>").is_ok());
        assert!(parse_mailbox("to", "sam@example.org").is_ok());
        assert!(parse_mailbox("to", "sam@example.org, evil@x.org").is_err());
        assert!(parse_mailbox("to", "Sam <sam@example.org> evil@x.org").is_err());
        assert!(parse_mailbox("to", "Sam\r\nBcc: e@x <sam@example.org>").is_err());
        assert!(parse_mailbox("to", "not an address").is_err());
        let err = parse_mailbox("contacts.cc", "").expect_err("empty");
        assert_eq!(
            err.to_string(),
            "contacts.cc: '' is not a valid email address: it is empty"
        );
    }

    #[test]
    fn lists_split_outside_quotes_and_brackets() {
        assert_eq!(
            split_addresses("\"Doe, J\" <j@x.org>; k@y.org,, "),
            vec!["\"Doe, J\" <j@x.org>".to_string(), "k@y.org".to_string()]
        );
    }
}
