//! `GET /api/openapi.json`: the API's OpenAPI 3.1 description, built from the routes when asked
//! (nothing kept in an idle daemon's memory). Behind the token like the rest of `/api`.

use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;

use crate::daemon::http::openapi::{self, problems};
use crate::daemon::http::register::{routes, Build};
use crate::daemon::http::state::ApiState;

/// `/api/openapi.json`.
pub fn routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(build; describe))
}

/// This description.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 description of this API", body = Object),
        problems::Unauthenticated,
    ))]
async fn describe() -> Json<Value> {
    Json(openapi::document())
}
