//! status and shutdown: the daemon itself.

use std::sync::Arc;

use crate::breaker::BreakerState;
use crate::daemon::Shared;
use crate::protocol::{Response, RpcError, SourceStatus, StatusView, PROTOCOL_VERSION};
use crate::source_kind::SourceKind;

/// Version, uptime, paths, queue depth by state and each source's health.
pub async fn status(shared: &Arc<Shared>) -> Result<Response, RpcError> {
    let (counts, problems) = shared.store.status_summary().await?;
    let config = shared.config();
    let windows = SourceKind::ALL
        .into_iter()
        .map(|kind| (kind, config.source(kind).rate_limit.clone()))
        .collect();
    let uses = shared.store.window_use(windows).await?;
    let sources = SourceKind::ALL
        .into_iter()
        .zip(uses)
        .map(|(kind, rate_limit)| {
            let source = config.source(kind);
            let gate = shared.scheduler.gate(kind).map(|g| g.status());
            SourceStatus {
                source: kind,
                disabled: source.disabled_reason(kind),
                base_url: source.base_url.clone(),
                breaker: gate.map_or(BreakerState::Closed, |g| g.breaker),
                next_trial_secs: gate.and_then(|g| g.next_trial).map(|d| d.as_secs()),
                waiting_secs: gate.and_then(|g| g.waiting).map(|d| d.as_secs()),
                rate_limit,
            }
        })
        .collect();
    Ok(Response::Status(StatusView {
        daemon_version: env!("CARGO_PKG_VERSION").to_string(),
        protocol_version: PROTOCOL_VERSION,
        pid: std::process::id(),
        uptime_secs: shared.started.elapsed().as_secs(),
        socket: config.socket.display().to_string(),
        database: shared.store.path().display().to_string(),
        library_dir: config.library_dir.display().to_string(),
        jobs: counts,
        active_downloads: shared.scheduler.active() as u32,
        parallel_downloads: config.parallel_downloads,
        validation: shared.scheduler.validation(),
        problems,
        sources,
        web_url: shared.web.url().map(str::to_string),
    }))
}

/// Starts a graceful stop, exactly as SIGTERM does; the answer goes out first.
pub fn shutdown(shared: &Arc<Shared>) -> Result<Response, RpcError> {
    shared.shutdown.cancel();
    Ok(Response::ShuttingDown)
}
