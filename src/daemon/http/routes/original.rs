//! Filled in by the next commit.

use axum::Router;

use crate::daemon::http::state::ApiState;

/// The original routes.
pub fn routes() -> Router<ApiState> {
    Router::new()
}
