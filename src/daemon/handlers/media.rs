//! media: where a finished download's file is, so the HTTP API can stream it. The file is found
//! by the download's id through the store, never by a path a client sent.

use std::sync::Arc;

use crate::daemon::Shared;
use crate::download::{DownloadId, DownloadState};
use crate::protocol::{ErrorKind, MediaFile, Response, RpcError};

/// The library file of download `id`: unknown ids and vanished files are "not found", a
/// download that has not finished (or ended without a file) is refused for its state.
pub async fn file(shared: &Arc<Shared>, id: DownloadId) -> Result<Response, RpcError> {
    let download =
        shared.store.download(id).await?.ok_or_else(|| {
            RpcError::new(ErrorKind::NotFound, format!("no download with id {id}"))
        })?;
    if download.state != DownloadState::Done {
        return Err(RpcError::new(
            ErrorKind::Conflict,
            format!(
                "download {id} is {}; only a finished download has a file to play",
                download.state
            ),
        ));
    }
    let gone = || {
        RpcError::new(
            ErrorKind::NotFound,
            format!("the file of download {id} is no longer in the library"),
        )
    };
    let path = download.path.ok_or_else(gone)?;
    // The daemon wrote a regular file there; anything else now (removed, or replaced by a
    // directory or a link someone put in the library) is not served.
    match tokio::fs::symlink_metadata(&path).await {
        Ok(meta) if meta.is_file() => Ok(Response::Media(MediaFile { download: id, path })),
        _ => Err(gone()),
    }
}
