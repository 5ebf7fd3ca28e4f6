//! `GET /api/events[?job=ID]`: `watch --json`'s events as Server-Sent Events. Each event's
//! `event:` is its schema `type` and its `data:` the same JSON line `watch --json` prints; each
//! carries the bus's id (`id:`), strictly increasing.
//!
//! A newcomer first gets a `snapshot` (the current state, read through the handlers). A client
//! reconnecting with `Last-Event-ID` first gets the state changes it missed from the bus's
//! replay ring, or a snapshot when it is too far behind (or the id is not one of this run's).
//! The stream is subscribed before the state is read, so no change falls between the two.
//!
//! A slow client never slows the daemon: it reads from the bus's bounded broadcast, and once it
//! falls behind that it gets a `lagged` event (without an id, so its `Last-Event-ID` stays at
//! the last event it did get) and the stream ends; it reconnects and is given what it missed.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use futures::{Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;

use super::parse;
use crate::daemon::http::extract::Params;
use crate::daemon::http::problem::Problem;
use crate::daemon::http::state::{call, ApiState};
use crate::events::Numbered;
use crate::job::{JobId, JobState};
use crate::protocol::{JobDetail, JobView, ListQuery, Request, StatusView};
use crate::schema;

/// A comment line this often keeps proxies and browsers from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Jobs in a snapshot of everything: `list`'s largest page.
const SNAPSHOT_JOBS: u32 = 1000;
/// The jobs a snapshot of everything shows: those not yet over.
const UNFINISHED: [JobState; 4] = [
    JobState::Queued,
    JobState::Searching,
    JobState::Downloading,
    JobState::Paused,
];

/// The event stream's route.
pub fn routes() -> Router<ApiState> {
    Router::new().route("/api/events", get(events))
}

#[derive(Deserialize)]
struct EventsParams {
    job: Option<String>,
}

async fn events(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Params(params): Params<EventsParams>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, Problem> {
    let job: Option<JobId> = params.job.as_deref().map(parse).transpose()?;
    // Anything but one of our ids (absent, garbage, too long) means "start from a snapshot".
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let resumed = state.shared.events.resume(last);
    // Read after subscribing: a change in between shows in both, never in neither. Also
    // refuses an unknown job (404) before the stream starts.
    let detail = match job {
        Some(id) => Some(call::<JobDetail>(&state, peer, Request::Show(id)).await?),
        None => None,
    };
    let first: Vec<SseEvent> = match resumed.missed {
        Some(missed) => missed
            .iter()
            .filter(|n| n.event.concerns(job))
            .map(frame)
            .collect(),
        None => vec![snapshot(&state, peer, detail)
            .await?
            .id(resumed.as_of.to_string())],
    };
    let live = live(resumed.live, job, state.shared.shutdown.clone());
    let stream = futures::stream::iter(first.into_iter().map(Ok)).chain(live);
    let sse = Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE));
    // nginx and others buffer responses by default, which would hold events back.
    let unbuffered = (
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    Ok((
        [
            unbuffered,
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        sse,
    ))
}

/// The current state: the status, and the followed job with its downloads or the unfinished
/// jobs.
async fn snapshot(
    state: &ApiState,
    peer: SocketAddr,
    detail: Option<JobDetail>,
) -> Result<SseEvent, Problem> {
    let status: StatusView = call(state, peer, Request::Status).await?;
    let (jobs, downloads) = match detail {
        Some(detail) => (vec![schema::Job::from(&detail.job)], detail.downloads),
        None => {
            let query = ListQuery {
                states: UNFINISHED.to_vec(),
                limit: SNAPSHOT_JOBS,
                offset: 0,
            };
            // `list` answers with each job's waiting reasons (JobView) since main's 1098d6b.
            let views: Vec<JobView> = call(state, peer, Request::List(query)).await?;
            (views.iter().map(schema::Job::from).collect(), Vec::new())
        }
    };
    let snapshot = schema::Event::Snapshot(schema::Snapshot {
        status: schema::Status::from(&status),
        jobs,
        downloads: downloads.iter().map(schema::Download::from).collect(),
    });
    Ok(event(&snapshot))
}

/// Events as they are published, until the client lags, the bus closes or the daemon stops.
fn live(
    receiver: Receiver<Numbered>,
    job: Option<JobId>,
    shutdown: CancellationToken,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    futures::stream::unfold(Some(receiver), move |receiver| {
        let shutdown = shutdown.clone();
        async move {
            let mut receiver = receiver?;
            loop {
                let received = tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    received = receiver.recv() => received,
                };
                match received {
                    Ok(numbered) if numbered.event.concerns(job) => {
                        return Some((Ok(frame(&numbered)), Some(receiver)));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(dropped)) => {
                        // Said once, then the stream ends (`None` as the next state).
                        let lagged = schema::Event::Lagged(schema::Lagged { dropped });
                        return Some((Ok(event(&lagged)), None));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    })
}

/// One bus event as an SSE event with its id.
fn frame(numbered: &Numbered) -> SseEvent {
    event(&schema::Event::from(&numbered.event)).id(numbered.id.to_string())
}

/// An event named by its schema `type`, with `watch --json`'s line as data. serde_json escapes
/// every line break inside strings, so provider text cannot end the `data:` line early.
fn event(event: &schema::Event) -> SseEvent {
    let value = serde_json::to_value(event).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render an event as JSON");
        serde_json::Value::Null
    });
    let name = value
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("event")
        .to_string();
    SseEvent::default().event(name).data(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaker::BreakerState;
    use crate::protocol::{BreakerChange, Event};
    use crate::source_kind::SourceKind;

    fn numbered(id: u64) -> Numbered {
        Numbered {
            id,
            event: Event::Breaker(BreakerChange {
                source: SourceKind::Archive,
                state: BreakerState::Open,
                next_trial_secs: None,
            }),
        }
    }

    fn text(event: &SseEvent) -> String {
        format!("{event:?}")
    }

    #[tokio::test]
    async fn a_client_that_falls_behind_is_told_so_and_its_stream_ends() {
        let (sender, receiver) = tokio::sync::broadcast::channel(2);
        for id in 1..=5 {
            sender.send(numbered(id)).expect("a receiver");
        }
        // The sender stays open: only the lag may end the stream.
        let stream = live(receiver, None, CancellationToken::new()).collect::<Vec<_>>();
        let items = tokio::time::timeout(Duration::from_secs(5), stream)
            .await
            .expect("the stream ends after the lag");
        assert_eq!(items.len(), 1, "{items:?}");
        let lagged = text(items[0].as_ref().expect("an event"));
        assert!(
            lagged.contains("lagged") && lagged.contains("\\\"dropped\\\":3"),
            "{lagged}"
        );
        // Without an id, so the client's Last-Event-ID stays at the last event it got.
        assert!(!lagged.contains("id: "), "{lagged}");
    }

    #[tokio::test]
    async fn the_stream_ends_when_the_daemon_stops() {
        let (sender, receiver) = tokio::sync::broadcast::channel(8);
        let shutdown = CancellationToken::new();
        let mut stream = std::pin::pin!(live(receiver, None, shutdown.clone()));
        sender.send(numbered(7)).expect("a receiver");
        let first = stream.next().await.expect("an event").expect("infallible");
        assert!(text(&first).contains("id: 7"), "{}", text(&first));
        shutdown.cancel();
        assert!(stream.next().await.is_none());
        drop(sender);
    }
}
