//! Output for people, made safe to show on a terminal.
//!
//! Attribute values and machine ids come from endpoints, and group files from many tenants:
//! an attacker who controls either could put terminal escape sequences (`ESC [ 2 J`, OSC
//! hyperlinks, title changes) or bidirectional overrides ("Trojan source") into what `eval`
//! prints as a table, what `explain` shows, or a line quoted under a diagnostic. Everything
//! the CLI writes for people goes through [`Printable`], which shows such characters as
//! escapes (`\u{1b}`) instead of sending them to the terminal. Output for tools (JSON, CSV,
//! YAML written to standard output) is data and is written as it is.

use std::io::{self, Write};

/// A writer that escapes control characters (except line feed and tab), DEL, C1 controls
/// and bidirectional formatting characters, and bytes that are not UTF-8.
pub(crate) struct Printable<'w> {
    inner: &'w mut dyn Write,
    /// The start of a UTF-8 sequence split between two writes.
    pending: Vec<u8>,
}

impl<'w> Printable<'w> {
    pub(crate) fn new(inner: &'w mut dyn Write) -> Self {
        Printable {
            inner,
            pending: Vec::new(),
        }
    }
}

/// Whether `c` must not reach a terminal as it is.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Endpoint data shown inside a line for people (a machine id, an attribute value in a
/// table): line breaks and tabs written as `\u{a}` and `\u{9}`, so that a value cannot start
/// a line of its own; everything else is left to [`Printable`].
pub(crate) fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(['\n', '\t']) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.replace('\n', "\\u{a}").replace('\t', "\\u{9}"))
}

/// `text` with every unsafe character written as `\u{..}`.
pub(crate) fn escape(text: &str, out: &mut Vec<u8>) {
    let mut rest = text;
    while let Some(at) = rest.find(is_unsafe) {
        out.extend_from_slice(&rest.as_bytes()[..at]);
        let c = rest[at..].chars().next().unwrap_or('\u{FFFD}');
        out.extend_from_slice(format!("\\u{{{:x}}}", u32::from(c)).as_bytes());
        rest = &rest[at + c.len_utf8()..];
    }
    out.extend_from_slice(rest.as_bytes());
}

impl Write for Printable<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let mut out = Vec::with_capacity(self.pending.len());
        let mut at = 0;
        loop {
            match std::str::from_utf8(&self.pending[at..]) {
                Ok(text) => {
                    escape(text, &mut out);
                    at = self.pending.len();
                    break;
                }
                Err(error) => {
                    let valid = at + error.valid_up_to();
                    escape(
                        std::str::from_utf8(&self.pending[at..valid]).unwrap_or_default(),
                        &mut out,
                    );
                    match error.error_len() {
                        // An incomplete sequence at the end: wait for the rest.
                        None => {
                            at = valid;
                            break;
                        }
                        Some(len) => {
                            for byte in &self.pending[valid..valid + len] {
                                out.extend_from_slice(format!("\\x{byte:02x}").as_bytes());
                            }
                            at = valid + len;
                        }
                    }
                }
            }
        }
        self.pending.drain(..at);
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        for byte in std::mem::take(&mut self.pending) {
            self.inner.write_all(format!("\\x{byte:02x}").as_bytes())?;
        }
        self.inner.flush()
    }
}

impl Drop for Printable<'_> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// A writer that colours the label of each line printed for people (`error:` red, `warning:`
/// yellow, `ok:` green, `note:` and `help:` cyan), for a terminal. It sits between
/// [`Printable`] and the terminal, so the escapes it adds are the only ones that reach it.
pub(crate) struct Colour<'w> {
    inner: &'w mut dyn Write,
    /// The line being written, until its line feed.
    line: Vec<u8>,
}

impl<'w> Colour<'w> {
    pub(crate) fn new(inner: &'w mut dyn Write) -> Self {
        Colour {
            inner,
            line: Vec::new(),
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        const LABELS: [(&[u8], &str); 5] = [
            (b"error:", "1;31"),
            (b"warning:", "1;33"),
            (b"ok:", "32"),
            (b"note:", "36"),
            (b"help:", "36"),
        ];
        let indent = self.line.iter().take_while(|&&b| b == b' ').count();
        let rest = &self.line[indent..];
        match LABELS.iter().find(|(label, _)| rest.starts_with(label)) {
            Some((label, code)) => {
                self.inner.write_all(&self.line[..indent])?;
                write!(self.inner, "\x1b[{code}m")?;
                self.inner.write_all(label)?;
                self.inner.write_all(b"\x1b[0m")?;
                self.inner.write_all(&rest[label.len()..])?;
            }
            None => self.inner.write_all(&self.line)?,
        }
        self.line.clear();
        Ok(())
    }
}

impl Write for Colour<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for piece in buf.split_inclusive(|&b| b == b'\n') {
            self.line.extend_from_slice(piece);
            if piece.ends_with(b"\n") {
                self.emit()?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.emit()?;
        self.inner.flush()
    }
}

impl Drop for Colour<'_> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod one_line_tests {
    #[test]
    fn line_breaks_and_tabs_in_data_stay_on_the_line() {
        assert_eq!(super::one_line("x\n2\tZ"), "x\\u{a}2\\u{9}Z");
        assert_eq!(super::one_line("plain"), "plain");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(pieces: &[&[u8]]) -> String {
        let mut out = Vec::new();
        {
            let mut printable = Printable::new(&mut out);
            for piece in pieces {
                printable.write_all(piece).unwrap();
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_reach_the_terminal_only_as_text() {
        assert_eq!(
            shown(&[b"id \x1b[2J\x07 ok\n\tnext\r"]),
            "id \\u{1b}[2J\\u{7} ok\n\tnext\\u{d}"
        );
        assert_eq!(
            shown(&["a\u{202E}b\u{9B}c".as_bytes()]),
            "a\\u{202e}b\\u{9b}c"
        );
        assert_eq!(shown(&["ünïcode 日本".as_bytes()]), "ünïcode 日本");
    }

    #[test]
    fn labels_are_coloured_and_nothing_else() {
        let mut out = Vec::new();
        {
            let mut colour = Colour::new(&mut out);
            colour.write_all(b"warn").unwrap();
            colour
                .write_all(b"ing: x\nplain error: y\n  help: z")
                .unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\x1b[1;33mwarning:\x1b[0m x\nplain error: y\n  \x1b[36mhelp:\x1b[0m z"
        );
    }

    #[test]
    fn split_and_invalid_utf8() {
        let bytes = "é".as_bytes();
        assert_eq!(shown(&[&bytes[..1], &bytes[1..]]), "é");
        assert_eq!(shown(&[b"a\xffb"]), "a\\xffb");
        assert_eq!(shown(&[b"a\xc3"]), "a\\xc3");
    }
}
