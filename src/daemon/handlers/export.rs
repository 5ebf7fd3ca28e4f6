//! export: finished downloads with attribution, streamed in pages so a large library never
//! becomes one big message or one big string.

use std::sync::Arc;

use crate::daemon::Shared;
use crate::ipc::{Connection, IpcError};
use crate::job::JobId;
use crate::protocol::{ExportPage, ExportPageQuery, Response, RpcError};

/// Records per frame; well under the frame limit even with long titles.
const PAGE: u32 = 200;

/// One page of records; for one job, an unknown job is refused rather than answered empty.
pub async fn page(
    shared: &Arc<Shared>,
    ExportPageQuery { job, after, limit }: ExportPageQuery,
) -> Result<Response, RpcError> {
    if let Some(id) = job {
        shared.store.job(id).await?;
    }
    let limit = limit.clamp(1, PAGE);
    let page = shared.store.export_page(job, after, limit).await?;
    let next = match page.last() {
        Some((last, _)) if page.len() == limit as usize => Some(*last),
        _ => None,
    };
    let records = page.into_iter().map(|(_, record)| record).collect();
    Ok(Response::ExportPage(ExportPage { records, next }))
}

/// Sends every record as [`Response::ExportBatch`]es, then [`Response::ExportEnd`].
pub async fn stream(
    shared: &Arc<Shared>,
    connection: &mut Connection,
    job: Option<JobId>,
) -> Result<(), IpcError> {
    let mut after = 0;
    let mut records = 0u64;
    loop {
        let page = match shared.store.export_page(job, after, PAGE).await {
            Ok(page) => page,
            Err(e) => return connection.send(&Response::Error(RpcError::from(e))).await,
        };
        let Some((last, _)) = page.last() else { break };
        after = *last;
        records += page.len() as u64;
        let batch = page.into_iter().map(|(_, record)| record).collect();
        connection.send(&Response::ExportBatch(batch)).await?;
    }
    connection.send(&Response::ExportEnd { records }).await
}
