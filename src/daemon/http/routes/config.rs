//! `GET /api/config` (API keys masked, as `config get`), `PATCH /api/config` (several keys
//! at once, all checked before any applies; `null` unsets a runtime setting), and the
//! original's `POST /api/setup`, the same with its key names.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;

use crate::daemon::http::extract::Body;
use crate::daemon::http::json;
use crate::daemon::http::openapi::problems;
use crate::daemon::http::problem::{Problem, ProblemKind};
use crate::daemon::http::register::{routes, Build};
use crate::daemon::http::state::{call, ApiState};
use crate::protocol::{ConfigChange, Request, Setting};
use crate::schema;

/// Key names the original's `/api/setup` used, and ours for them.
const SETUP_NAMES: [(&str, &str); 2] = [
    ("pexels_api_key", "sources.pexels.api_key"),
    ("pixabay_api_key", "sources.pixabay.api_key"),
];

/// The config routes.
pub fn routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(build; show_config, patch_config))
        .routes(routes!(build; setup))
}

/// Every setting in force, API keys masked (as `vfetchctl config get`).
#[utoipa::path(get, path = "/api/config", tag = "config",
    responses(
        (status = 200, description = "The settings", body = Vec<schema::Setting>),
        problems::Unauthenticated, problems::Unavailable,
    ))]
async fn show_config(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, Problem> {
    let settings: Vec<Setting> = call(&state, peer, Request::ConfigGet { key: None }).await?;
    Ok(Json(json::settings(&settings)))
}

/// `{"key": value, …}`; answers with the changed keys as `config get` shows them.
#[utoipa::path(patch, path = "/api/config", tag = "config",
    request_body(content = Object, description = "Keys as `vfetchctl config set` names them, \
        with a string, number, boolean or list; null unsets a runtime setting. All are checked \
        before any applies."),
    responses(
        (status = 200, description = "The changed settings", body = Vec<schema::Setting>),
        problems::BadBody, problems::Unauthenticated, problems::CrossSite, problems::Unavailable,
    ))]
async fn patch_config(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<Map<String, Value>>,
) -> Result<Json<Value>, Problem> {
    let changes = changes(body, &[])?;
    let settings: Vec<Setting> = call(&state, peer, Request::ConfigPatch(changes)).await?;
    Ok(Json(json::settings(&settings)))
}

/// The original's setup: the same as `PATCH /api/config`, with its key names accepted too.
#[utoipa::path(post, path = "/api/setup", tag = "original",
    request_body(content = Object, description = "As `PATCH /api/config`; `pexels_api_key` \
        and `pixabay_api_key` are accepted for the sources' keys."),
    responses(
        (status = 200, description = "Acknowledged, with the changed settings", body = schema::SetupAnswer),
        problems::BadBody, problems::Unauthenticated, problems::CrossSite, problems::Unavailable,
    ))]
async fn setup(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Body(body): Body<Map<String, Value>>,
) -> Result<Json<Value>, Problem> {
    let changes = changes(body, &SETUP_NAMES)?;
    let settings: Vec<Setting> = call(&state, peer, Request::ConfigPatch(changes)).await?;
    Ok(Json(json::setup(&settings)))
}

/// A JSON object as changes in the config's text form: strings as they are, numbers and
/// booleans written out, lists (`on_complete`) as JSON text, `null` to unset.
fn changes(body: Map<String, Value>, names: &[(&str, &str)]) -> Result<Vec<ConfigChange>, Problem> {
    body.into_iter()
        .map(|(key, value)| {
            let key = names
                .iter()
                .find(|(theirs, _)| *theirs == key)
                .map_or(key, |(_, ours)| (*ours).to_string());
            let value = match value {
                Value::Null => None,
                Value::String(text) => Some(text),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                list @ Value::Array(_) => Some(list.to_string()),
                Value::Object(_) => {
                    return Err(Problem::new(
                        ProblemKind::BadValue,
                        format!("{key}: expected a string, number, boolean, list or null"),
                    ))
                }
            };
            Ok(ConfigChange { key, value })
        })
        .collect()
}
