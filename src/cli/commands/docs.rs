//! `completions` and `manpages`: the generator in src/cli/docs.rs, without a daemon.

use std::io::Write;
use std::path::Path;

use clap_complete::Shell;

use crate::cli::{docs, Exit, Failure};

/// Prints vfetchctl's completion script for `shell` to standard output.
pub fn completions(shell: Shell) -> Result<Exit, Failure> {
    let mut script = Vec::new();
    docs::write_completions(shell, "vfetchctl", &mut script)
        .map_err(|e| Failure::Other(format!("cannot generate {shell} completions: {e}")))?;
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Other(format!("cannot write the completions: {e}")))?;
    Ok(Exit::Ok)
}

/// Prints the JSON Schema of the public JSON output (what schema/vfetch.schema.json holds).
pub fn schema() -> Result<Exit, Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(crate::schema::document_text().as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::Other(format!("cannot write the schema: {e}")))?;
    Ok(Exit::Ok)
}

/// Writes every man page into `dir` and prints the paths written.
pub fn manpages(dir: &Path) -> Result<Exit, Failure> {
    let written = docs::write_man_pages(dir, &docs::page_date())
        .map_err(|e| Failure::Other(format!("cannot write the man pages: {e}")))?;
    for path in written {
        println!("{}", path.display());
    }
    Ok(Exit::Ok)
}
