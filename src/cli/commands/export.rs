//! `export`: finished downloads with attribution, streamed into JSON or CSV, to a file or
//! stdout (see `crate::export` for how records are written).

use std::path::Path;

use super::Context;
use crate::cli::args::ExportFormat;
use crate::cli::{Exit, Failure};
use crate::export::{Destination, ExportWriter};
use crate::ipc::client::ClientError;
use crate::job::JobId;
use crate::protocol::{Request, Response};

/// Writes every record as its batch arrives, never the whole export in memory at once.
pub async fn run(
    ctx: &Context<'_>,
    job: Option<JobId>,
    format: ExportFormat,
    output: Option<&Path>,
) -> Result<Exit, Failure> {
    let client = &mut ctx.connect().await?.client;
    // Only a person at a terminal gets neutralised text; files and pipes get the data.
    let to = if output.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        Destination::Terminal
    } else {
        Destination::Faithful
    };
    let sink: Box<dyn std::io::Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| Failure::Other(format!("cannot write {}: {e}", path.display())))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let io = |e: std::io::Error| Failure::Other(format!("cannot write the export: {e}"));
    let mut writer = match format {
        ExportFormat::Json => ExportWriter::json(sink, to),
        ExportFormat::Csv => ExportWriter::csv(sink, to),
    }
    .map_err(io)?;
    // A streamed answer: batches, then one end; the only place two kinds of answer are right.
    let mut response = client.request(&Request::Export { job }).await?;
    loop {
        match response {
            Response::ExportBatch(records) => {
                for record in &records {
                    writer.write(record).map_err(io)?;
                }
            }
            Response::ExportEnd { records } => {
                writer.finish().map_err(io)?;
                if let Some(path) = output {
                    eprintln!("vfetchctl: wrote {records} records to {}", path.display());
                }
                return Ok(Exit::Ok);
            }
            other => {
                return Err(ClientError::Unexpected(format!("{other:?}")).into());
            }
        }
        response = client.next_response().await?;
    }
}
