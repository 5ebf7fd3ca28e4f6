//! `GET /login?code=…`: trades a one-time code from `vfetchctl web` for a session cookie, so a
//! browser never needs to hold the token itself; `POST /logout` ends the session.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::daemon::http::auth::{session_cookie, SESSION_COOKIE};
use crate::daemon::http::extract::Params;
use crate::daemon::http::host::same_site;
use crate::daemon::http::openapi::problems;
use crate::daemon::http::problem::{Problem, ProblemDocument, ProblemKind};
use crate::daemon::http::register::{routes, Build};
use crate::daemon::http::state::ApiState;

/// Where a browser goes after logging in (the dashboard's home).
const AFTER_LOGIN: &str = "/";

/// `/login` and `/logout`.
pub fn routes(build: Build) -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(build; login))
        .routes(routes!(build; logout))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LoginQuery {
    /// The one-time code from the link `vfetchctl web` prints.
    code: String,
}

/// Sets the session cookie (`HttpOnly; SameSite=Strict`) and sends the browser home.
#[utoipa::path(get, path = "/login", tag = "meta", params(LoginQuery),
    responses(
        (status = 303, description = "Logged in: the session cookie is set",
            headers(
                ("Set-Cookie" = String, description = "The session cookie"),
                ("Location" = String, description = "The dashboard's home"),
            )),
        (status = 401, description = "The code is unknown, used or expired",
            body = ProblemDocument, content_type = "application/problem+json"),
        problems::BadValue,
    ))]
async fn login(
    State(state): State<ApiState>,
    Params(LoginQuery { code }): Params<LoginQuery>,
) -> Result<Response, Problem> {
    let session = state.shared.web.redeem(&code).ok_or_else(|| {
        Problem::new(
            ProblemKind::Unauthenticated,
            "this login link is unknown, used or expired; run `vfetchctl web` for a new one",
        )
    })?;
    let cookie = format!("{SESSION_COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/");
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|_| Problem::new(ProblemKind::Internal, "cannot build the session cookie"))?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, HeaderValue::from_static(AFTER_LOGIN)),
        ],
    )
        .into_response())
}

/// Ends the session and clears the cookie, then sends the browser to the login hint. Needs no
/// valid session (an expired one must still be able to clear its cookie), but must come from
/// this server's own pages, so another site cannot log a user out.
#[utoipa::path(post, path = "/logout", tag = "meta",
    responses(
        (status = 303, description = "Logged out: the cookie is cleared, the browser sent to `/`"),
        problems::CrossSite,
    ))]
async fn logout(State(state): State<ApiState>, headers: HeaderMap) -> Result<Response, Problem> {
    if !same_site(&state.hosts, &headers) {
        return Err(Problem::new(
            ProblemKind::Forbidden,
            "log out from the dashboard's own page",
        ));
    }
    if let Some(session) = session_cookie(&headers) {
        state.shared.web.end_session(session);
    }
    let cleared = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    let cleared = HeaderValue::from_str(&cleared)
        .map_err(|_| Problem::new(ProblemKind::Internal, "cannot clear the session cookie"))?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cleared),
            (header::LOCATION, HeaderValue::from_static(AFTER_LOGIN)),
        ],
    )
        .into_response())
}
