//! Every HTTP refusal as an RFC 9457 `application/problem+json` document, with the status taken
//! from the same error kinds that decide `vfetchctl`'s exit codes.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;

use crate::protocol::{ErrorKind, RpcError};

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What a refusal is, as a machine-readable `type` and a fixed `title`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A value the daemon cannot accept (422).
    BadValue,
    /// The body is not JSON (400).
    MalformedJson,
    /// The body is larger than the limit (413).
    TooLarge,
    /// The body is not `application/json` (415).
    UnsupportedMediaType,
    /// No such job, download or route (404).
    NotFound,
    /// The route exists but not for this method (405).
    MethodNotAllowed,
    /// Not allowed in the object's current state (409).
    Conflict,
    /// No valid token or session (401).
    Unauthenticated,
    /// Authenticated, but refused: a cross-site request (403).
    Forbidden,
    /// The `Host` header names another server (421).
    MisdirectedRequest,
    /// The daemon is stopping, or its database cannot be read (503).
    Unavailable,
    /// Something failed inside the daemon (500).
    Internal,
}

impl ProblemKind {
    /// The HTTP status this kind is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            ProblemKind::BadValue => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::MalformedJson => StatusCode::BAD_REQUEST,
            ProblemKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ProblemKind::Conflict => StatusCode::CONFLICT,
            ProblemKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ProblemKind::Forbidden => StatusCode::FORBIDDEN,
            ProblemKind::MisdirectedRequest => StatusCode::MISDIRECTED_REQUEST,
            ProblemKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ProblemKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The short, fixed summary (RFC 9457 `title`).
    pub fn title(self) -> &'static str {
        match self {
            ProblemKind::BadValue => "Unacceptable value",
            ProblemKind::MalformedJson => "Malformed JSON",
            ProblemKind::TooLarge => "Request body too large",
            ProblemKind::UnsupportedMediaType => "Unsupported media type",
            ProblemKind::NotFound => "Not found",
            ProblemKind::MethodNotAllowed => "Method not allowed",
            ProblemKind::Conflict => "Conflict with the current state",
            ProblemKind::Unauthenticated => "Authentication required",
            ProblemKind::Forbidden => "Forbidden",
            ProblemKind::MisdirectedRequest => "Misdirected request",
            ProblemKind::Unavailable => "Service unavailable",
            ProblemKind::Internal => "Internal error",
        }
    }

    /// The RFC 9457 `type`: a URN per kind, stable for clients to match on.
    pub fn type_uri(self) -> &'static str {
        match self {
            ProblemKind::BadValue => "urn:vfetch:problem:bad-value",
            ProblemKind::MalformedJson => "urn:vfetch:problem:malformed-json",
            ProblemKind::TooLarge => "urn:vfetch:problem:too-large",
            ProblemKind::UnsupportedMediaType => "urn:vfetch:problem:unsupported-media-type",
            ProblemKind::NotFound => "urn:vfetch:problem:not-found",
            ProblemKind::MethodNotAllowed => "urn:vfetch:problem:method-not-allowed",
            ProblemKind::Conflict => "urn:vfetch:problem:conflict",
            ProblemKind::Unauthenticated => "urn:vfetch:problem:unauthenticated",
            ProblemKind::Forbidden => "urn:vfetch:problem:forbidden",
            ProblemKind::MisdirectedRequest => "urn:vfetch:problem:misdirected-request",
            ProblemKind::Unavailable => "urn:vfetch:problem:unavailable",
            ProblemKind::Internal => "urn:vfetch:problem:internal",
        }
    }
}

/// A refusal as sent: RFC 9457's members, the only body a refusal ever has.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProblemDocument {
    /// Stable for clients to match on: `urn:vfetch:problem:<kind>`, e.g.
    /// `urn:vfetch:problem:not-found`.
    #[serde(rename = "type")]
    pub type_uri: &'static str,
    /// A fixed summary of the kind.
    pub title: &'static str,
    /// The HTTP status, repeated.
    pub status: u16,
    /// What went wrong this time, for people (one line).
    pub detail: String,
}

/// One refusal: a kind and a one-line `detail` for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub detail: String,
}

impl Problem {
    /// A refusal of `kind` explained by `detail`.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
        }
    }
}

impl From<RpcError> for Problem {
    fn from(error: RpcError) -> Self {
        let kind = match error.kind {
            ErrorKind::BadRequest => ProblemKind::BadValue,
            ErrorKind::NotFound => ProblemKind::NotFound,
            ErrorKind::Conflict => ProblemKind::Conflict,
            ErrorKind::ShuttingDown => ProblemKind::Unavailable,
            ErrorKind::Protocol | ErrorKind::Internal => ProblemKind::Internal,
        };
        Problem::new(kind, error.message)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.kind.status();
        let body = ProblemDocument {
            type_uri: self.kind.type_uri(),
            title: self.kind.title(),
            status: status.as_u16(),
            detail: self.detail,
        };
        let mut response = (status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.kind == ProblemKind::Unauthenticated {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"vfetchd\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds_map_to_the_statuses_the_cli_exit_codes_stand_for() {
        for (kind, status) in [
            (ErrorKind::BadRequest, 422),
            (ErrorKind::NotFound, 404),
            (ErrorKind::Conflict, 409),
            (ErrorKind::ShuttingDown, 503),
            (ErrorKind::Internal, 500),
        ] {
            let problem = Problem::from(RpcError::new(kind, "x"));
            assert_eq!(problem.kind.status().as_u16(), status, "{kind:?}");
        }
    }
}
