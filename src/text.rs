//! Small text helpers shared by the edges: positions in files for error
//! messages, and making user text safe to put on a terminal or in a header.

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count() + 1)
        .unwrap_or(1);
    (line, column)
}

/// Whether `c` must never reach a terminal as it is: C0 controls (ESC, BEL,
/// CR, ...), DEL, C1 controls (U+0080..U+009F, which some terminals obey
/// like ESC sequences) and bidirectional overrides, isolates and marks (which
/// make text read differently from what it is).
pub fn is_unsafe_char(c: char) -> bool {
    let n = c as u32;
    n < 0x20
        || n == 0x7f
        || (0x80..=0x9f).contains(&n)
        || matches!(n, 0x061c | 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069)
}

fn defang(text: &str, keep_newlines: bool, keep_tabs: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\t' if keep_tabs => out.push('\t'),
            '\t' => out.push(' '),
            c if (c as u32) < 0x20 => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            '\u{7f}' => out.push_str("^?"),
            c if is_unsafe_char(c) => {
                out.push_str(&format!("<U+{:04X}>", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// Text with every control character (C0, DEL, C1, including ESC) replaced by
/// a visible caret form such as `^[`, so titles and log entries can
/// never move the cursor, set the window title or clear the screen.
/// Tabs become a space; newlines are kept only when `keep_newlines`.
pub fn terminal_safe(text: &str, keep_newlines: bool) -> String {
    defang(text, keep_newlines, false)
}

/// One line of text: control characters (including CR and LF) made visible.
pub fn one_line(text: &str) -> String {
    terminal_safe(text, false)
}

/// User text quoted in an error message: one line, at most 80 characters
/// (a 1 MB argument is not echoed back in full).
pub fn quote_short(text: &str) -> String {
    const MAX: usize = 80;
    let safe = one_line(text);
    if safe.chars().count() <= MAX {
        return safe;
    }
    let mut cut: String = safe.chars().take(MAX - 1).collect();
    cut.push('…');
    cut
}

/// Serialised JSON with the characters [`is_unsafe_char`] names written as
/// `\uXXXX` escapes. They can only occur inside strings (JSON's own syntax
/// is ASCII), so the value is unchanged; serde_json already escapes C0.
pub fn json_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_unsafe_char(c) && c != '\n' {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A writer that makes everything written through it terminal-safe (see
/// [`terminal_safe`]), keeping newlines, tabs and CR LF line ends: the last line of defence
/// for a command's standard output. Text is passed on a line at a time; the
/// rest on `flush` (so a prompt shows before input is read).
pub struct SafeWriter<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> SafeWriter<W> {
    pub fn new(inner: W) -> SafeWriter<W> {
        SafeWriter {
            inner,
            pending: Vec::new(),
        }
    }

    fn pass_on(&mut self, upto: usize) -> std::io::Result<()> {
        if already_safe(&self.pending[..upto]) {
            // Nothing to change (the common case): passed on as it is.
            self.inner.write_all(&self.pending[..upto])?;
            self.pending.drain(..upto);
            return Ok(());
        }
        let chunk: Vec<u8> = self.pending.drain(..upto).collect();
        let text = String::from_utf8_lossy(&chunk);
        // CR LF line ends (iCalendar) stay; any other CR is made visible.
        let safe: Vec<String> = text
            .split("\r\n")
            .map(|part| defang(part, true, true))
            .collect();
        self.inner.write_all(safe.join("\r\n").as_bytes())
    }
}

/// Whether [`SafeWriter`] would pass `bytes` on unchanged: UTF-8 with no
/// unsafe character but newlines and tabs (and no CR at all).
fn already_safe(bytes: &[u8]) -> bool {
    let Ok(mut rest) = std::str::from_utf8(bytes) else {
        return false;
    };
    // Only controls and non-ASCII characters need a closer look.
    while let Some(at) = rest.bytes().position(|b| !(0x20..0x7f).contains(&b)) {
        let Some(c) = rest[at..].chars().next() else {
            return false;
        };
        if c != '\n' && c != '\t' && is_unsafe_char(c) {
            return false;
        }
        rest = &rest[at + c.len_utf8()..];
    }
    true
}

impl<W: std::io::Write> std::io::Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.pending.is_empty()
            && let Some(last) = buf.iter().rposition(|b| *b == b'\n')
            && already_safe(&buf[..=last])
        {
            // Whole safe lines, nothing held back: passed on without a copy.
            self.inner.write_all(&buf[..=last])?;
            self.pending.extend_from_slice(&buf[last + 1..]);
            return Ok(buf.len());
        }
        self.pending.extend_from_slice(buf);
        if let Some(last) = self.pending.iter().rposition(|b| *b == b'\n') {
            self.pass_on(last + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // A multi-byte character is never split: writes come from whole strings.
        let all = self.pending.len();
        self.pass_on(all)?;
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for SafeWriter<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nbb = x\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 11), (2, 6));
        assert_eq!(line_col(text, 999), (3, 1));
    }

    #[test]
    fn escape_sequences_are_defanged() {
        let safe = terminal_safe("x\u{1b}]0;pwned\u{7}y\u{1b}[2J\r\n", false);
        assert!(!safe.chars().any(|c| c.is_control()), "{safe:?}");
        assert_eq!(safe, "x^[]0;pwned^Gy^[[2J^M^J");
        assert_eq!(terminal_safe("a\nb", true), "a\nb");
        assert_eq!(terminal_safe("\u{9b}2J", false), "<U+009B>2J");
    }

    #[test]
    fn json_keeps_its_value_and_loses_its_controls() {
        let value = serde_json::json!({"t": "a\u{1b}[2J\u{85}\u{202e}b\r"});
        let safe = json_safe(&serde_json::to_string(&value).expect("json"));
        assert!(!safe.chars().any(is_unsafe_char), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back, value);
    }

    #[test]
    fn safe_writer_defangs_across_writes_and_keeps_tabs() {
        use std::io::Write;
        let mut out = Vec::new();
        {
            let mut w = SafeWriter::new(&mut out);
            write!(w, "a\tb\u{1b}").expect("write");
            write!(w, "[31mc\n\u{9b}d").expect("write");
            w.flush().expect("flush");
        }
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "a\tb^[[31mc\n<U+009B>d"
        );
        assert_eq!(quote_short(&"x".repeat(1000)).chars().count(), 80);
    }

    #[test]
    fn safe_text_passes_unchanged_and_unsafe_text_in_a_long_write_does_not() {
        use std::io::Write;
        let plain = "INC-1  high\tcafé — ok\n".repeat(1000);
        let mut out = Vec::new();
        SafeWriter::new(&mut out)
            .write_all(plain.as_bytes())
            .expect("write");
        assert_eq!(out, plain.as_bytes());
        for unsafe_text in ["\u{1b}[2J", "a\rb", "\u{85}", "\u{202e}", "\u{7f}"] {
            let text = format!("{plain}{unsafe_text}\n{plain}");
            let mut out = Vec::new();
            SafeWriter::new(&mut out)
                .write_all(text.as_bytes())
                .expect("write");
            let out = String::from_utf8(out).expect("utf8");
            assert!(!out.contains(unsafe_text), "{unsafe_text:?}");
            assert!(out.starts_with(&plain) && out.ends_with(&plain));
        }
    }
}
