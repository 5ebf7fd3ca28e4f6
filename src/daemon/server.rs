//! The accept loop and one task per connection: handshake, then requests, or an event stream.

use std::sync::Arc;
use std::time::{Duration, Instant};

use interprocess::local_socket::tokio::prelude::*;
use interprocess::local_socket::tokio::{Listener, Stream};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use super::connections::{Activity, Admission, Connections, Ticket};
use super::{handlers, Shared};
use crate::events::Numbered;
use crate::ipc::server::Peer;
use crate::ipc::{Connection, IpcError};
use crate::job::JobId;
use crate::protocol::{
    ErrorKind, Event, Hello, HelloReply, Request, Response, RpcError, PROTOCOL_VERSION,
};
use crate::text::for_log;

/// A client that connects and says nothing is dropped after this long.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// A subscriber that does not read for this long is disconnected rather than kept forever.
const EVENT_SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a newcomer waits for the connection chosen to make room to close.
const MAKE_ROOM_WAIT: Duration = Duration::from_secs(1);
/// Newcomers being told "busy" at once; beyond this they are closed without a word, so a flood
/// cannot make the refusals themselves use up descriptors.
const BUSY_REPLIES: usize = 16;
/// How long a refused newcomer gets to send its Hello before it is told "busy" anyway.
const BUSY_HELLO_WAIT: Duration = Duration::from_secs(1);
/// How often the log says that newcomers are being refused.
const BUSY_WARNING_EVERY: Duration = Duration::from_secs(60);

/// Accepts connections until shutdown; each gets its own task so none can block another.
pub async fn serve(listener: Listener, shared: Arc<Shared>, tracker: &TaskTracker) {
    let mut door = Door::new();
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(stream) => door.let_in(stream, &shared, tracker).await,
                Err(e) => {
                    // Usually EMFILE; back off instead of spinning on the error.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// Decides, for each accepted stream, between a place of its own and a "busy" answer.
struct Door {
    connections: Connections,
    busy_replies: Arc<Semaphore>,
    last_busy_warning: Option<Instant>,
}

impl Door {
    fn new() -> Door {
        Door {
            connections: Connections::default(),
            busy_replies: Arc::new(Semaphore::new(BUSY_REPLIES)),
            last_busy_warning: None,
        }
    }

    /// Gives `stream` its own task under `max_connections`, or tells it the daemon is busy.
    async fn let_in(&mut self, stream: Stream, shared: &Arc<Shared>, tracker: &TaskTracker) {
        // Read at each accept: `config set max_connections` applies at once.
        let limit = shared.config().max_connections as usize;
        if let Some(ticket) = admit(&self.connections, limit).await {
            tracker.spawn(connection(stream, Arc::clone(shared), ticket));
            return;
        }
        // Said once a minute at most: a flood of refusals must not flood the log too.
        if self
            .last_busy_warning
            .is_none_or(|at| at.elapsed() >= BUSY_WARNING_EVERY)
        {
            self.last_busy_warning = Some(Instant::now());
            tracing::warn!(
                limit,
                "refusing clients: every connection is busy with a request or a subscription (max_connections)"
            );
        }
        match Arc::clone(&self.busy_replies).try_acquire_owned() {
            Ok(permit) => {
                tracker.spawn(async move {
                    turn_away(stream, limit).await;
                    drop(permit);
                });
            }
            Err(_) => drop(stream),
        }
    }
}

/// A place for a newcomer under `limit`, after closing the longest-idle connection if the
/// table is full; `None` when every connection is busy (or the chosen one would not close).
async fn admit(connections: &Connections, limit: usize) -> Option<Ticket> {
    loop {
        let released = connections.released();
        tokio::pin!(released);
        released.as_mut().enable();
        match connections.admit(limit) {
            Admission::Admitted(ticket) => return Some(ticket),
            Admission::Full => return None,
            Admission::MakingRoom => {
                if tokio::time::timeout(MAKE_ROOM_WAIT, released)
                    .await
                    .is_err()
                {
                    return None;
                }
            }
        }
    }
}

/// Tells a newcomer that found every connection busy, in the frozen handshake's words so any
/// client version can read it, then closes.
async fn turn_away(stream: Stream, limit: usize) {
    let peer = Peer::of(&stream);
    tracing::debug!(
        uid = peer.uid,
        pid = peer.pid,
        "refused a client: every connection is busy"
    );
    let mut connection = Connection::new(stream);
    // Read its Hello first: the client writes it before it reads, and closing before that could
    // make its write fail instead of letting it read why.
    let _ = connection.recv_within::<Hello>(BUSY_HELLO_WAIT).await;
    let message = format!(
        "vfetchd is busy: all {limit} client connections are in use by requests and `watch` \
         sessions (max_connections); try again shortly"
    );
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        connection.send(&HelloReply::Busy { message }),
    )
    .await;
}

async fn connection(stream: Stream, shared: Arc<Shared>, ticket: Ticket) {
    let peer = Peer::of(&stream);
    let mut connection = Connection::new(stream);
    if let Err(e) = session(&mut connection, &shared, peer, &ticket).await {
        tracing::debug!(uid = peer.uid, pid = peer.pid, error = %for_log(&e.to_string()), "connection closed with an error");
    }
    // Close the socket before giving the place back, so descriptors stay within the limit.
    drop(connection);
    drop(ticket);
}

async fn session(
    connection: &mut Connection,
    shared: &Arc<Shared>,
    peer: Peer,
    ticket: &Ticket,
) -> Result<(), IpcError> {
    let received = tokio::select! {
        _ = ticket.evicted() => {
            tracing::debug!(uid = peer.uid, pid = peer.pid, "closed a connection that sent no Hello, to make room");
            return Ok(());
        }
        received = connection.recv_within::<Hello>(HELLO_TIMEOUT) => received,
    };
    let hello = match received {
        Ok(Some(hello)) => hello,
        Ok(None) => return Ok(()),
        Err(e) => {
            refuse(connection, format!("expected a Hello frame: {e}")).await;
            return Err(e);
        }
    };
    if hello.protocol_version != PROTOCOL_VERSION {
        tracing::warn!(
            uid = peer.uid, pid = peer.pid,
            client_protocol = hello.protocol_version, client_version = %for_log(&hello.client_version),
            "refused client speaking another protocol version"
        );
        let message = format!(
            "vfetchd {} speaks protocol {PROTOCOL_VERSION}, but the client ({}) speaks protocol {}",
            env!("CARGO_PKG_VERSION"),
            hello.client_version,
            hello.protocol_version
        );
        return connection
            .send(&HelloReply::VersionMismatch {
                daemon_protocol_version: PROTOCOL_VERSION,
                daemon_version: env!("CARGO_PKG_VERSION").to_string(),
                message,
            })
            .await;
    }
    connection
        .send(&HelloReply::Welcome {
            protocol_version: PROTOCOL_VERSION,
            daemon_version: env!("CARGO_PKG_VERSION").to_string(),
        })
        .await?;

    loop {
        ticket.set(Activity::Idle);
        // Read each time: `config set client_idle_timeout_secs` applies to waiting clients too.
        let idle_limit = shared.config().client_idle_timeout;
        let received = tokio::select! {
            _ = shared.shutdown.cancelled() => return Ok(()),
            _ = ticket.evicted() => {
                tracing::debug!(uid = peer.uid, pid = peer.pid, "closed the longest-idle connection to make room");
                return Ok(());
            }
            received = tokio::time::timeout(idle_limit, connection.recv::<Request>()) => match received {
                Ok(received) => received,
                Err(_) => {
                    tracing::debug!(uid = peer.uid, pid = peer.pid, idle_secs = idle_limit.as_secs(), "closed an idle connection");
                    return Ok(());
                }
            },
        };
        ticket.set(Activity::Working);
        let request = match received {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(e) => {
                refuse(connection, e.to_string()).await;
                return Err(e);
            }
        };
        if let Request::Subscribe { job } = request {
            ticket.set(Activity::Subscribed);
            connection.send(&Response::Subscribed).await?;
            return stream_events(connection, shared, job).await;
        }
        if let Request::Export { job } = request {
            handlers::export::stream(shared, connection, job).await?;
            continue;
        }
        if let Request::MakeMissingThumbnails = request {
            tracing::info!(
                uid = peer.uid,
                pid = peer.pid,
                "request: make missing thumbnails"
            );
            handlers::library::stream_missing(shared, connection).await?;
            continue;
        }
        if request.changes_state() {
            // journalctl then shows who paused or cancelled what.
            tracing::info!(uid = peer.uid, pid = peer.pid, request = %for_log(&request.for_log()), "request");
        }
        let response = handlers::handle(shared, request).await;
        connection.send(&response).await?;
    }
}

/// Tells the peer why its connection is being closed, if it still listens.
async fn refuse(connection: &mut Connection, message: String) {
    let error = RpcError::new(ErrorKind::Protocol, message);
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        connection.send(&Response::Error(error)),
    )
    .await;
}

/// Events a subscriber may have waiting; beyond this, progress ticks are dropped first.
const SUBSCRIBER_QUEUE: usize = 256;
/// State changes a subscriber may have waiting before it is cut off as stuck.
const SUBSCRIBER_MAX_BACKLOG: usize = 10_000;

/// A subscriber's own queue, filled from the broadcast by a reader task.
#[derive(Default)]
struct Backlog {
    events: std::collections::VecDeque<Event>,
    dropped: u64,
    overflowed: bool,
}

/// Forwards events to a subscriber until it disconnects or the daemon stops. A slow reader
/// never slows the daemon: its own queue drops progress ticks first (never state changes) and
/// tells it how many with [`Event::Lagged`]; a reader stuck for good is cut off.
async fn stream_events(
    connection: &mut Connection,
    shared: &Arc<Shared>,
    job: Option<JobId>,
) -> Result<(), IpcError> {
    let backlog = Arc::new(std::sync::Mutex::new(Backlog::default()));
    let ready = Arc::new(tokio::sync::Notify::new());
    let reader = tokio::spawn(fill(
        shared.events.subscribe(),
        job,
        Arc::clone(&backlog),
        Arc::clone(&ready),
    ));
    let result = async {
        loop {
            let next = {
                let mut b = backlog.lock().unwrap_or_else(|p| p.into_inner());
                if b.overflowed {
                    return Err(IpcError::Timeout(EVENT_SEND_TIMEOUT));
                }
                match b.events.pop_front() {
                    Some(event) => Some(event),
                    None if b.dropped > 0 => Some(Event::Lagged {
                        dropped: std::mem::take(&mut b.dropped),
                    }),
                    None => None,
                }
            };
            match next {
                Some(event) => {
                    tokio::time::timeout(
                        EVENT_SEND_TIMEOUT,
                        connection.send(&Response::Event(event)),
                    )
                    .await
                    .map_err(|_| IpcError::Timeout(EVENT_SEND_TIMEOUT))??;
                }
                None => tokio::select! {
                    _ = shared.shutdown.cancelled() => return Ok(()),
                    _ = ready.notified() => {}
                    // Anything from the client (or its going away) ends the stream.
                    _ = connection.recv::<Request>() => return Ok(()),
                },
            }
        }
    }
    .await;
    reader.abort();
    result
}

/// Moves events for one subscriber from the broadcast into its backlog.
async fn fill(
    mut events: tokio::sync::broadcast::Receiver<Numbered>,
    job: Option<JobId>,
    backlog: Arc<std::sync::Mutex<Backlog>>,
    ready: Arc<tokio::sync::Notify>,
) {
    loop {
        let received = events.recv().await;
        {
            let mut b = backlog.lock().unwrap_or_else(|p| p.into_inner());
            match received {
                Ok(Numbered { event, .. }) if event.concerns(job) => {
                    if b.events.len() >= SUBSCRIBER_QUEUE {
                        if let Some(i) = b
                            .events
                            .iter()
                            .position(|e| matches!(e, Event::Progress(_)))
                        {
                            b.events.remove(i);
                            b.dropped += 1;
                        } else if matches!(event, Event::Progress(_)) {
                            b.dropped += 1;
                            continue;
                        }
                    }
                    if b.events.len() >= SUBSCRIBER_MAX_BACKLOG {
                        b.overflowed = true;
                    }
                    b.events.push_back(event);
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => b.dropped += n,
                Err(RecvError::Closed) => return,
            }
        }
        ready.notify_one();
    }
}
