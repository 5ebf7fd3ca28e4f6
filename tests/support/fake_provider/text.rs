//! Small text helpers: licence URLs, words and slugs, percent-encoding and decoding.

/// The canonical URL of a licence given by its short name ("" when unknown).
pub fn license_url(short: &str) -> String {
    let s = short.trim().to_ascii_lowercase();
    if s == "cc0" || s.starts_with("cc0 ") || s.starts_with("cc-zero") {
        return "https://creativecommons.org/publicdomain/zero/1.0/".into();
    }
    if s == "public domain" || s == "pd" || s.starts_with("public domain mark") {
        return "https://creativecommons.org/publicdomain/mark/1.0/".into();
    }
    if let Some(rest) = s.strip_prefix("cc ").or_else(|| s.strip_prefix("cc-")) {
        let mut parts = rest.split([' ', '-']).filter(|p| !p.is_empty());
        let mut kinds = Vec::new();
        let mut version = "4.0";
        for p in parts.by_ref() {
            if p.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                version = p;
                break;
            }
            kinds.push(p);
        }
        if !kinds.is_empty() && kinds[0] == "by" {
            return format!(
                "https://creativecommons.org/licenses/{}/{version}/",
                kinds.join("-")
            );
        }
    }
    String::new()
}

/// Lower-cased alphanumeric words.
pub(super) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// The first letter upper-cased.
pub(super) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Lower-case ASCII slug with dashes.
pub(super) fn slug(s: &str) -> String {
    let w = words(s);
    let joined: String = w
        .join("-")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if joined.is_empty() {
        "video".into()
    } else {
        joined
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(super) fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes each segment of a path, keeping the slashes.
pub(super) fn pct_path(path: &str) -> String {
    path.split('/').map(pct).collect::<Vec<_>>().join("/")
}

/// Decodes `%XX` escapes (invalid ones are kept as they are; bytes become UTF-8 lossily).
pub(super) fn pct_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
