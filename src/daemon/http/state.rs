//! What every route handler gets ([`ApiState`]) and the one way a route asks the daemon
//! ([`call`]): the same handler function the socket uses.

use std::net::SocketAddr;
use std::sync::Arc;

use super::host::Hosts;
use super::problem::{Problem, ProblemKind};
use super::throttle::Throttle;
use crate::daemon::{handlers, Shared};
use crate::protocol::{Answer, Request, Response};
use crate::text::for_log;

/// What every route handler gets: the daemon's shared state and what the listener knows of
/// itself.
#[derive(Clone)]
pub struct ApiState(pub Arc<Inner>);

/// The inside of [`ApiState`].
pub struct Inner {
    pub shared: Arc<Shared>,
    /// The address the listener is bound to.
    pub local: SocketAddr,
    pub hosts: Hosts,
    pub throttle: Throttle,
}

impl std::ops::Deref for ApiState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// Asks the handlers exactly as the socket does, and takes the answer of kind `T`.
pub async fn call<T: Answer>(
    state: &ApiState,
    peer: SocketAddr,
    request: Request,
) -> Result<T, Problem> {
    if request.changes_state() {
        // journalctl then shows who changed what, as for socket clients.
        tracing::info!(peer = %peer.ip(), request = %for_log(&request.for_log()), "HTTP request");
    }
    match handlers::handle(&state.shared, request).await {
        Response::Error(error) => Err(Problem::from(error)),
        other => T::from_response(other).map_err(|other| {
            tracing::error!(
                answer = answer_kind(&other),
                "the handler answered an HTTP request with another kind"
            );
            Problem::new(
                ProblemKind::Internal,
                "the daemon answered with something unexpected",
            )
        }),
    }
}

/// The variant's name only: an answer can be large and hold provider text.
fn answer_kind(response: &Response) -> String {
    format!("{response:?}")
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .collect()
}
