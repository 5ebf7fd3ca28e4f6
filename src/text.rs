//! Untrusted text shown somewhere it could do harm: one definition of a dangerous character, and
//! the forms such text takes in a log, on a terminal and in a file.
//!
//! A client's `client_version`, a provider's title or author, an error body: any of them may carry
//! escape sequences that clear a screen or retitle a window, line breaks that forge whole log
//! lines, or bidi overrides that make text read differently from what it is.

use std::borrow::Cow;
use std::fmt::{self, Write};

/// Longest untrusted string a log line carries, in characters; the rest is counted, not shown.
pub const LOG_MAX_CHARS: usize = 256;

/// Whether `c` may change how surrounding text is displayed: C0 controls (line breaks and ESC
/// included), DEL, C1 controls, and the bidirectional embedding, override and isolate controls.
pub fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every dangerous character written as a visible escape (`\x1b`, `\n`, `\u{202e}`);
/// borrowed when there is none, which is the common case.
pub fn escaped(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_dangerous) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut impl Write, c: char) {
    // Writing to a String or a Formatter that already accepted the text cannot fail here.
    let _ = match c {
        '\n' => out.write_str("\\n"),
        '\r' => out.write_str("\\r"),
        '\t' => out.write_str("\\t"),
        c if !is_dangerous(c) => out.write_char(c),
        c if (c as u32) < 0x100 => write!(out, "\\x{:02x}", c as u32),
        c => write!(out, "\\u{{{:04x}}}", c as u32),
    };
}

/// Untrusted text for a log line: escaped (see [`escaped`]) and cut to [`LOG_MAX_CHARS`].
pub fn for_log(s: &str) -> ForLog<'_> {
    ForLog(s)
}

/// The log form of an untrusted string; see [`for_log`].
pub struct ForLog<'a>(&'a str);

impl fmt::Display for ForLog<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (shown, c) in self.0.chars().enumerate() {
            if shown == LOG_MAX_CHARS {
                let rest = self.0.chars().count() - shown;
                return write!(f, "…({rest} more characters)");
            }
            push_escaped(f, c);
        }
        Ok(())
    }
}

impl fmt::Debug for ForLog<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// `s` without NUL characters, which files keep out (C tools stop reading at them); the rest
/// stays exactly as it came.
pub fn without_nul(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', ""))
    } else {
        Cow::Borrowed(s)
    }
}

/// JSON text made safe for a terminal without changing the data it encodes: dangerous characters
/// that JSON allows raw inside strings (DEL, C1 controls, bidi controls) become `\uXXXX` escapes.
/// Valid only for JSON text whose structure is ASCII, as serde_json writes it.
pub fn json_for_terminal(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_dangerous) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_dangerous(c) {
            // Every dangerous character lies in the Basic Multilingual Plane: one escape each.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_line_breaks_and_bidi_overrides_become_visible() {
        let hostile = "v1\n2026-01-01T00:00:00Z ERROR forged\x1b[2J\r\u{9b}\u{202e}gpj.exe\u{2066}";
        let shown = escaped(hostile);
        assert!(!shown.chars().any(is_dangerous), "{shown}");
        assert_eq!(
            shown,
            "v1\\n2026-01-01T00:00:00Z ERROR forged\\x1b[2J\\r\\x9b\\u{202e}gpj.exe\\u{2066}"
        );
        assert!(matches!(escaped("plain ünïcode"), Cow::Borrowed(_)));
    }

    #[test]
    fn log_form_is_escaped_and_bounded() {
        let long = format!("\x1b{}", "a".repeat(1000));
        let shown = for_log(&long).to_string();
        assert!(shown.starts_with("\\x1baaa"), "{shown}");
        assert!(shown.ends_with("…(745 more characters)"), "{shown}");
        assert_eq!(for_log("ok").to_string(), "ok");
    }

    #[test]
    fn files_lose_only_nul() {
        assert_eq!(without_nul("a\0b\x1b[2J\u{202e}"), "ab\x1b[2J\u{202e}");
    }

    #[test]
    fn terminal_json_keeps_its_data() {
        let value = serde_json::json!({ "title": "a\u{9b}b\u{202e}c\x7f\x1b" });
        let text = serde_json::to_string(&value).unwrap();
        let safe = json_for_terminal(&text);
        assert!(!safe.chars().any(is_dangerous), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }
}
