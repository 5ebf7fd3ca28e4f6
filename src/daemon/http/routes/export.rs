//! `GET /api/export?job=&format=json|csv`: `vfetchctl export` as a download. The records come
//! page by page from the handler (`Request::ExportPage`) and are written by the same
//! [`ExportWriter`] the CLI uses, one chunk of the body per page, so a large library is never
//! one big string and the bytes equal `vfetchctl export`'s.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures::Stream;
use serde::Deserialize;

use super::parse;
use crate::daemon::http::extract::Params;
use crate::daemon::http::problem::{Problem, ProblemKind};
use crate::daemon::http::state::{call, ApiState};
use crate::export::{Destination, ExportWriter};
use crate::job::JobId;
use crate::protocol::{ExportPage, ExportPageQuery, Request};

/// Records asked for per page (and sent per chunk).
const PAGE: u32 = 200;

/// The export route.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/export", get(export))
}

#[derive(Deserialize)]
struct ExportParams {
    job: Option<String>,
    format: Option<String>,
}

/// The two encodings, as `vfetchctl export --format` names them.
#[derive(Clone, Copy)]
enum Format {
    Json,
    Csv,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8; header=present",
        }
    }
}

async fn export(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Params(params): Params<ExportParams>,
) -> Result<Response, Problem> {
    let job: Option<JobId> = params.job.as_deref().map(parse).transpose()?;
    let format = match params.format.as_deref().map(str::trim) {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(_) => {
            return Err(Problem::new(
                ProblemKind::BadValue,
                "format must be json or csv",
            ))
        }
    };
    // The first page before any byte is sent: an unknown job is still a 404 problem.
    let first = page(&state, peer, job, 0).await?;
    let chunk = Chunk::default();
    // A download is a file, not a terminal: the data as it is (minus NUL), like `export > f`.
    let writer = match format {
        Format::Json => ExportWriter::json(chunk.clone(), Destination::Faithful),
        Format::Csv => ExportWriter::csv(chunk.clone(), Destination::Faithful),
    }
    .map_err(|e| {
        Problem::new(
            ProblemKind::Internal,
            format!("cannot start the export: {e}"),
        )
    })?;
    // Built from the id only, so nothing a client sent reaches the header.
    let filename = match job {
        Some(id) => format!("vfetch-job-{id}.{}", format.extension()),
        None => format!("vfetch-export.{}", format.extension()),
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|_| Problem::new(ProblemKind::Internal, "cannot name the export file"))?;
    let body = Body::from_stream(chunks(state, peer, job, first, writer, chunk));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// One page of records after download id `after`.
async fn page(
    state: &ApiState,
    peer: SocketAddr,
    job: Option<JobId>,
    after: i64,
) -> Result<ExportPage, Problem> {
    let query = ExportPageQuery {
        job,
        after,
        limit: PAGE,
    };
    call(state, peer, Request::ExportPage(query)).await
}

/// What the body stream does next.
enum Next {
    /// Write this page and send it.
    Write(ExportPage),
    /// Ask for the page after this download id.
    Fetch(i64),
    /// Close the array (JSON) and send the rest.
    Finish,
}

/// The body: one chunk per page, then the closing bytes. A failure after the first byte can
/// only cut the body short (the status is sent), so the client sees an incomplete download.
fn chunks(
    state: ApiState,
    peer: SocketAddr,
    job: Option<JobId>,
    first: ExportPage,
    writer: ExportWriter<Chunk>,
    chunk: Chunk,
) -> impl Stream<Item = io::Result<Bytes>> {
    let start = (Next::Write(first), writer);
    futures::stream::unfold(Some(start), move |progress| {
        let (state, chunk) = (state.clone(), chunk.clone());
        async move {
            let (mut next, mut writer) = progress?;
            loop {
                match next {
                    Next::Write(page) => {
                        let written = page
                            .records
                            .iter()
                            .try_for_each(|record| writer.write(record))
                            .and_then(|()| writer.flush());
                        if let Err(e) = written {
                            return Some((Err(e), None));
                        }
                        let after = match page.next {
                            Some(after) => Next::Fetch(after),
                            None => Next::Finish,
                        };
                        return Some((Ok(chunk.take()), Some((after, writer))));
                    }
                    Next::Fetch(after) => match page(&state, peer, job, after).await {
                        Ok(page) => next = Next::Write(page),
                        Err(problem) => {
                            tracing::warn!(detail = %problem.detail, "an HTTP export stopped early");
                            return Some((Err(io::Error::other(problem.detail)), None));
                        }
                    },
                    Next::Finish => {
                        return Some((writer.finish().map(|()| chunk.take()), None));
                    }
                }
            }
        }
    })
}

/// The bytes written since the last chunk was sent; cloned into the writer and the stream.
#[derive(Clone, Default)]
struct Chunk(Arc<Mutex<Vec<u8>>>);

impl Chunk {
    fn take(&self) -> Bytes {
        let mut buffer = self.0.lock().unwrap_or_else(|p| p.into_inner());
        Bytes::from(std::mem::take(&mut *buffer))
    }
}

impl Write for Chunk {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
