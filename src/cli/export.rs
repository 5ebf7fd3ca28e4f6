//! Writing `export` records as they arrive: JSON (an array) or CSV (RFC 4180), never the whole
//! export in memory at once.

use std::io::{self, Write};

use crate::insight::ExportRecord;

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
    Json { out: W, first: bool },
    Csv(Box<csv::Writer<W>>),
}

impl<W: Write> ExportWriter<W> {
    /// Starts a JSON array.
    pub fn json(mut out: W) -> io::Result<Self> {
        out.write_all(b"[")?;
        Ok(ExportWriter::Json { out, first: true })
    }

    /// Starts a CSV file with its header row.
    pub fn csv(out: W) -> io::Result<Self> {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        writer.write_record(COLUMNS).map_err(io::Error::other)?;
        Ok(ExportWriter::Csv(Box::new(writer)))
    }

    /// Appends one record.
    pub fn write(&mut self, record: &ExportRecord) -> io::Result<()> {
        match self {
            ExportWriter::Json { out, first } => {
                out.write_all(if *first { b"\n  " } else { b",\n  " })?;
                *first = false;
                serde_json::to_writer(&mut *out, record).map_err(io::Error::other)
            }
            ExportWriter::Csv(writer) => writer.write_record(row(record)).map_err(io::Error::other),
        }
    }

    /// Closes the array / flushes the file.
    pub fn finish(self) -> io::Result<()> {
        match self {
            ExportWriter::Json { mut out, first } => {
                out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                out.flush()
            }
            ExportWriter::Csv(mut writer) => writer.flush(),
        }
    }
}

fn row(r: &ExportRecord) -> Vec<String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    [
        r.job.to_string(),
        r.theme.clone(),
        r.source.clone(),
        r.source_id.clone(),
        r.title.clone(),
        opt(&r.page_url),
        opt(&r.author_name),
        opt(&r.author_url),
        opt(&r.license),
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
    .map(neutralise)
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
