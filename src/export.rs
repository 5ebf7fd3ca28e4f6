//! Writing `export` records as they arrive: JSON (an array) or CSV (RFC 4180), never the whole
//! export in memory at once. `vfetchctl export` and the HTTP API's `/api/export` both write
//! with it, so the two give the same bytes.
//!
//! Provider text (titles, authors, tags) is hostile. A file or a pipe gets it faithfully, only
//! without NUL; a terminal never gets the characters that would clear it, retitle it or reverse
//! what it shows.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::insight::ExportRecord;
use crate::text;

/// Where the export goes, which decides how untrusted text is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// A file or a pipe: the data as it is, minus NUL.
    Faithful,
    /// A terminal: dangerous characters neutralised (JSON escapes in JSON, visible escapes in
    /// CSV).
    Terminal,
}

impl Destination {
    /// How one string field is written.
    fn clean<'a>(self, value: &'a str) -> Cow<'a, str> {
        match self {
            Destination::Faithful => text::without_nul(value),
            // JSON gets its own escapes in `write`; CSV has none, so visible ones.
            Destination::Terminal => text::escaped(value),
        }
    }
}

const COLUMNS: [&str; 19] = [
    "job",
    "theme",
    "source",
    "source_id",
    "title",
    "page_url",
    "author_name",
    "author_url",
    "license",
    "tags",
    "path",
    "sha256",
    "size",
    "duration",
    "width",
    "height",
    "fps",
    "codec",
    "downloaded_at",
];

/// One of the two export encodings, written incrementally.
pub enum ExportWriter<W: Write> {
    Json {
        out: W,
        first: bool,
        to: Destination,
    },
    Csv {
        writer: Box<csv::Writer<W>>,
        to: Destination,
    },
}

impl<W: Write> ExportWriter<W> {
    /// Starts a JSON array.
    pub fn json(mut out: W, to: Destination) -> io::Result<Self> {
        out.write_all(b"[")?;
        Ok(ExportWriter::Json {
            out,
            first: true,
            to,
        })
    }

    /// Starts a CSV file with its header row.
    pub fn csv(out: W, to: Destination) -> io::Result<Self> {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        writer.write_record(COLUMNS).map_err(io::Error::other)?;
        Ok(ExportWriter::Csv {
            writer: Box::new(writer),
            to,
        })
    }

    /// Appends one record.
    pub fn write(&mut self, record: &ExportRecord) -> io::Result<()> {
        match self {
            ExportWriter::Json { out, first, to } => {
                out.write_all(if *first { b"\n  " } else { b",\n  " })?;
                *first = false;
                let json = match to {
                    // serde_json escapes C0 controls (NUL included); drop NUL from the data.
                    Destination::Faithful => serde_json::to_string(&without_nul(record)),
                    Destination::Terminal => serde_json::to_string(record),
                }
                .map_err(io::Error::other)?;
                let json = match to {
                    Destination::Faithful => Cow::Borrowed(json.as_str()),
                    // The rest (C1, DEL, bidi) as JSON escapes: same data, harmless on screen.
                    Destination::Terminal => text::json_for_terminal(&json),
                };
                out.write_all(json.as_bytes())
            }
            ExportWriter::Csv { writer, to } => writer
                .write_record(row(record, *to))
                .map_err(io::Error::other),
        }
    }

    /// Hands everything written so far to the underlying writer (CSV keeps a buffer), so a
    /// streamed export can send it on.
    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            ExportWriter::Json { out, .. } => out.flush(),
            ExportWriter::Csv { writer, .. } => writer.flush(),
        }
    }

    /// Closes the array / flushes the file.
    pub fn finish(self) -> io::Result<()> {
        match self {
            ExportWriter::Json { mut out, first, .. } => {
                out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                out.flush()
            }
            ExportWriter::Csv { mut writer, .. } => writer.flush(),
        }
    }
}

/// A copy of `r` with NUL removed from every text field.
fn without_nul(r: &ExportRecord) -> ExportRecord {
    let clean = |v: &str| text::without_nul(v).into_owned();
    let clean_opt = |v: &Option<String>| v.as_deref().map(clean);
    ExportRecord {
        theme: clean(&r.theme),
        attribution: r.attribution.map_text(clean),
        tags: clean(&r.tags),
        path: clean(&r.path),
        sha256: clean(&r.sha256),
        codec: clean_opt(&r.codec),
        ..r.clone()
    }
}

fn row(r: &ExportRecord, to: Destination) -> Vec<String> {
    let a = &r.attribution;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    [
        r.job.to_string(),
        r.theme.clone(),
        a.source.as_str().to_string(),
        a.source_id.clone(),
        a.title.clone(),
        opt(&a.page_url),
        opt(&a.author_name),
        opt(&a.author_url),
        opt(&a.license),
        r.tags.clone(),
        r.path.clone(),
        r.sha256.clone(),
        r.size.to_string(),
        num(r.duration),
        r.width.map(|v| v.to_string()).unwrap_or_default(),
        r.height.map(|v| v.to_string()).unwrap_or_default(),
        num(r.fps),
        opt(&r.codec),
        r.downloaded_at.to_string(),
    ]
    .into_iter()
    .map(|cell| neutralise(to.clean(&cell).into_owned()))
    .collect()
}

/// A cell a spreadsheet would run as a formula (=, +, -, @, or a leading tab/CR) gets a
/// leading apostrophe, the OWASP-recommended defence; numbers stay numbers.
fn neutralise(cell: String) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_are_defused_but_numbers_kept() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")".into()), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(neutralise("-12.5".into()), "-12.5");
        assert_eq!(neutralise("plain".into()), "plain");
    }
}
