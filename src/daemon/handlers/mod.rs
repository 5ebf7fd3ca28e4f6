//! One function per request; this file only dispatches and maps errors to the wire.

mod config;
mod control;
pub mod export;
mod insight;
mod jobs;
pub mod library;
mod media;
mod process;
mod status;
mod web;

use std::sync::Arc;

use super::Shared;
use crate::protocol::{ConfigSet, ErrorKind, Request, Response, RpcError};
use crate::store::StoreError;
use crate::text::for_log;

/// Answers one request; failures become [`Response::Error`].
pub async fn handle(shared: &Arc<Shared>, request: Request) -> Response {
    let result = match request {
        Request::Add(new) => jobs::add(shared, new).await,
        Request::List(query) => jobs::list(shared, query).await,
        Request::Show(id) => jobs::show(shared, id).await,
        Request::Pause(target) => control::pause(shared, target).await,
        Request::Resume(target) => control::resume(shared, target).await,
        Request::Cancel(id) => control::cancel(shared, id).await,
        Request::SetPriority(message) => control::set_priority(shared, message).await,
        Request::Status => status::status(shared).await,
        Request::ConfigGet { key } => config::get(shared, key).await,
        Request::Stats(query) => insight::stats(shared, query).await,
        Request::History(query) => insight::history(shared, query).await,
        Request::Themes(query) => insight::themes(shared, query).await,
        Request::Cleanup(query) => insight::cleanup(shared, query).await,
        Request::Metrics => insight::metrics(shared).await,
        Request::ConfigSet(ConfigSet { key, value }) => config::set(shared, key, Some(value)).await,
        Request::ConfigUnset { key } => config::set(shared, key, None).await,
        Request::Shutdown => status::shutdown(shared),
        Request::WebLogin => web::login(shared),
        Request::ExportPage(query) => export::page(shared, query).await,
        Request::ConfigPatch(changes) => config::patch(shared, changes).await,
        Request::Media(id) => media::file(shared, id).await,
        Request::Library(query) => library::library(shared, query).await,
        Request::Thumbnail { download, kind } => library::thumbnail(shared, download, kind).await,
        // The connection task streams these itself; reaching here is a bug in the caller.
        Request::Subscribe { .. } | Request::Export { .. } | Request::MakeMissingThumbnails => {
            Err(RpcError::new(
                ErrorKind::Protocol,
                "subscribe is handled by the connection",
            ))
        }
    };
    result.unwrap_or_else(Response::Error)
}

impl From<StoreError> for RpcError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::JobNotFound(_) => RpcError::new(ErrorKind::NotFound, error.to_string()),
            StoreError::Transition { .. } => RpcError::new(ErrorKind::Conflict, error.to_string()),
            other => {
                tracing::error!(error = %for_log(&other.to_string()), "store failure");
                RpcError::new(ErrorKind::Internal, format!("internal error: {other}"))
            }
        }
    }
}
