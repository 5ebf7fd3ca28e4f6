//! The OpenAPI 3.1 description of the HTTP API (`GET /api/openapi.json`), generated, never
//! written by hand: every route is registered with utoipa-axum's `routes!`, which takes the
//! handler's `#[utoipa::path(...)]` annotation along, so a route cannot be served without being
//! described. Annotating a route means: `#[utoipa::path(method, path, params, request_body,
//! responses)]` on the handler, its body types in [`json_schema!`], and the refusals it can
//! give from [`problems`].
//!
//! Body schemas come from schemars, the same derives that make schema/vfetch.schema.json: an
//! OpenAPI 3.1 Schema Object *is* JSON Schema 2020-12, so a schemars schema is used verbatim.
//! utoipa's own schema type cannot hold every JSON Schema keyword, so [`json_schema!`] gives
//! utoipa a placeholder that carries the schemars schema under [`CARRIER`], and [`document`]
//! puts each carried schema in its placeholder's place.

use serde_json::{json, Map, Value};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, InfoBuilder, LicenseBuilder, SecurityRequirement};

use super::auth::SESSION_COOKIE;
use super::problem::ProblemDocument;
use super::register::Build;
use crate::schema;

/// The extension key a placeholder schema carries its schemars schema under.
pub const CARRIER: &str = "x-vfetch-json-schema";

/// The security scheme names used in the description.
const BEARER: &str = "bearer";
const SESSION: &str = "session";

/// Which side of serde a schema describes: answers are described as serialised, request
/// bodies as deserialised (aliases, defaults and unknown-field refusals included).
#[derive(Debug, Clone, Copy)]
pub enum Contract {
    Serialize,
    Deserialize,
}

/// `T`'s schemars schema with `$ref`s into `#/components/schemas`, and the schemas it refers
/// to, by name.
pub fn schemars_parts<T: schemars::JsonSchema>(contract: Contract) -> (Value, Map<String, Value>) {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| {
        s.definitions_path = "/components/schemas".into();
        s.meta_schema = None;
    });
    let settings = match contract {
        Contract::Serialize => settings.for_serialize(),
        Contract::Deserialize => settings.for_deserialize(),
    };
    let mut generator = settings.into_generator();
    let reference = generator.subschema_for::<T>();
    let mut definitions = generator.take_definitions(true);
    let own = definitions
        .remove(T::schema_name().as_ref())
        .unwrap_or_else(|| reference.to_value());
    (own, definitions)
}

/// A utoipa schema standing in for `schema` until [`document`] swaps it back.
pub fn carrier(schema: Value) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    let extensions = utoipa::openapi::extensions::ExtensionsBuilder::new()
        .add(CARRIER, schema)
        .build();
    utoipa::openapi::ObjectBuilder::new()
        .extensions(Some(extensions))
        .build()
        .into()
}

/// Makes schemars types usable as `body = T` / `request_body = T` in `#[utoipa::path]`:
/// `json_schema!(serialize: A, B)` for answers, `json_schema!(deserialize: C)` for request
/// bodies. The component is named as schemars names it, so `$ref`s from both sides agree.
macro_rules! json_schema {
    ($contract:ident: $($ty:ty),+ $(,)?) => {
        $(
            impl utoipa::PartialSchema for $ty {
                fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                    let (own, _) = $crate::daemon::http::openapi::schemars_parts::<$ty>(
                        $crate::daemon::http::openapi::Contract::$contract,
                    );
                    $crate::daemon::http::openapi::carrier(own)
                }
            }

            impl utoipa::ToSchema for $ty {
                fn name() -> std::borrow::Cow<'static, str> {
                    <$ty as schemars::JsonSchema>::schema_name()
                }

                fn schemas(
                    schemas: &mut Vec<(
                        String,
                        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                    )>,
                ) {
                    let (_, referred) = $crate::daemon::http::openapi::schemars_parts::<$ty>(
                        $crate::daemon::http::openapi::Contract::$contract,
                    );
                    schemas.extend(referred.into_iter().map(|(name, schema)| {
                        (name, $crate::daemon::http::openapi::carrier(schema))
                    }));
                }
            }
        )+
    };
}
pub(crate) use json_schema;

// Every answer type a route declares; a route naming a type missing here does not compile.
json_schema!(
    Serialize: schema::Job,
    schema::JobDetail,
    schema::Status,
    schema::StatsAnswer,
    schema::HistoryEntry,
    schema::ThemeCount,
    schema::CleanupReport,
    schema::Setting,
    schema::SetupAnswer,
    schema::FetchAccepted,
    schema::JobProgress,
    schema::Suggestions,
    schema::PopularThemes,
    schema::ExportMetadata,
    schema::Health,
    schema::LibraryPage,
    crate::insight::ExportRecord,
    ProblemDocument,
);

/// The refusals a route can answer with, for `responses(...)` in `#[utoipa::path]`: each an
/// RFC 9457 problem document (`application/problem+json`).
pub mod problems {
    use std::collections::BTreeMap;

    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};

    use crate::daemon::http::problem::{ProblemKind, PROBLEM_JSON};

    /// The responses for `kinds`, each with its status, title and a problem document.
    fn answers(
        kinds: &[(ProblemKind, &str)],
    ) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        kinds
            .iter()
            .map(|(kind, when)| {
                let content = ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ProblemDocument")))
                    .build();
                let response = ResponseBuilder::new()
                    .description(format!("{}: {when}", kind.title()))
                    .content(PROBLEM_JSON, content)
                    .build();
                (kind.status().as_u16().to_string(), response.into())
            })
            .collect()
    }

    macro_rules! problem_set {
        ($($(#[$doc:meta])* $name:ident => [$(($kind:ident, $when:literal)),+ $(,)?];)+) => {
            $(
                $(#[$doc])*
                pub struct $name;

                impl utoipa::IntoResponses for $name {
                    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
                        answers(&[$((ProblemKind::$kind, $when)),+])
                    }
                }
            )+
        };
    }

    problem_set! {
        /// 401: every route but `/health` and `/login` needs the token or a session.
        Unauthenticated => [(Unauthenticated, "no valid Bearer token or session cookie")];
        /// 403: a state change made with the session cookie from another site.
        CrossSite => [(Forbidden, "a change sent with the session cookie from another site")];
        /// 404: the id names no job.
        NotFound => [(NotFound, "no such job")];
        /// 404: the id names no download, or its file has left the library.
        NoDownload => [(NotFound, "no such download, or its file is no longer in the library")];
        /// 404: no such download, or its thumbnails are not made (yet).
        NoThumbnail => [(NotFound, "no such download, or its thumbnail is not made yet")];
        /// 409: the download has not finished, so there is no file to send yet.
        Unfinished => [(Conflict, "the download has not finished")];
        /// 409: the change is not allowed in the job's current state.
        Conflict => [(Conflict, "not allowed in the job's current state")];
        /// 422: a query parameter or a value the daemon cannot accept.
        BadValue => [(BadValue, "a value the daemon cannot accept")];
        /// 400, 413, 415, 422: what a JSON body can be refused for.
        BadBody => [
            (MalformedJson, "the body is not JSON"),
            (TooLarge, "the body is larger than 64 KiB"),
            (UnsupportedMediaType, "the body is not sent as application/json"),
            (BadValue, "a field is missing, unknown or has a value the daemon cannot accept"),
        ];
        /// 503: the daemon is stopping, or its database cannot be read.
        Unavailable => [(Unavailable, "the daemon is stopping or cannot read its database")];
    }
}

/// The whole description: the routes' paths from the router, the schemas, the security
/// schemes (every operation needs one of them unless its route is public).
pub fn document() -> Value {
    let public = super::public_routes(Build::Describe).into_openapi();
    let mut api = super::protected_routes(Build::Describe).into_openapi();
    let public_paths: Vec<String> = public.paths.paths.keys().cloned().collect();
    api.merge(public);
    api.info = InfoBuilder::new()
        .title("vfetchd HTTP API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(DESCRIPTION))
        .license(Some(
            LicenseBuilder::new()
                .name("MIT OR Apache-2.0")
                .identifier(Some("MIT OR Apache-2.0"))
                .build(),
        ))
        .build();
    let components = api.components.get_or_insert_with(Components::new);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("The token in <state_dir>/web.token"))
                .build(),
        ),
    );
    components.add_security_scheme(
        SESSION,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            SESSION_COOKIE,
            "The session a `vfetchctl web` login link opens",
        ))),
    );
    let (problem, _) = schemars_parts::<ProblemDocument>(Contract::Serialize);
    components
        .schemas
        .insert("ProblemDocument".to_string(), carrier(problem));
    api.security = Some(vec![
        SecurityRequirement::new::<_, _, &str>(BEARER, []),
        SecurityRequirement::new::<_, _, &str>(SESSION, []),
    ]);
    let mut doc = serde_json::to_value(&api).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render the OpenAPI description");
        Value::Null
    });
    unwrap_carriers(&mut doc);
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for path in &public_paths {
            if let Some(Value::Object(operations)) = paths.get_mut(path) {
                for operation in operations.values_mut().filter_map(Value::as_object_mut) {
                    // An empty requirement: no credentials needed.
                    operation.insert("security".into(), json!([{}]));
                }
            }
        }
    }
    doc
}

const DESCRIPTION: &str = "The HTTP face of vfetchd. Every route is answered by the same \
handler as the Unix socket (`vfetchctl`). Every route but `/health` and `/login` needs \
`Authorization: Bearer <token>` (the token is in `<state_dir>/web.token`) or the session cookie \
a `vfetchctl web` login link sets; a change sent with the cookie must come from this server's \
own pages. Refusals are RFC 9457 problem documents (`application/problem+json`); any route \
answers 421 when the `Host` header names another server, and 500 when the daemon fails.";

/// Replaces every placeholder object by the schema it carries.
fn unwrap_carriers(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(schema) = map.remove(CARRIER) {
                *value = schema;
                unwrap_carriers(value);
            } else {
                map.values_mut().for_each(unwrap_carriers);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(unwrap_carriers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carried_schemas_replace_their_placeholders() {
        let mut doc = serde_json::to_value(json!({
            "components": {"schemas": {"A": serde_json::to_value(carrier(json!({"type": "string"}))).unwrap()}}
        }))
        .unwrap();
        unwrap_carriers(&mut doc);
        assert_eq!(
            doc,
            json!({"components": {"schemas": {"A": {"type": "string"}}}})
        );
    }

    /// Each path's methods, as a description lists them.
    fn methods(build: Build) -> Vec<(String, Vec<String>)> {
        let mut api = super::super::protected_routes(build).into_openapi();
        api.merge(super::super::public_routes(build).into_openapi());
        let doc = serde_json::to_value(&api).unwrap();
        doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(path, item)| {
                (
                    path.clone(),
                    item.as_object().unwrap().keys().cloned().collect(),
                )
            })
            .collect()
    }

    #[test]
    fn the_served_router_has_every_described_route_but_no_description() {
        assert_eq!(methods(Build::Serve), methods(Build::Describe));
        let mut served = super::super::protected_routes(Build::Serve).into_openapi();
        served.merge(super::super::public_routes(Build::Serve).into_openapi());
        let schemas = served.components.as_ref().map_or(0, |c| c.schemas.len());
        assert_eq!(schemas, 0, "schemas were built for serving");
        let doc = serde_json::to_value(&served).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                assert_eq!(
                    operation,
                    &json!({"responses": {}}),
                    "{method} {path} was described for serving"
                );
            }
        }
    }

    #[test]
    fn the_description_refers_only_to_schemas_it_holds() {
        let doc = document();
        let text = doc.to_string();
        assert!(!text.contains(CARRIER), "a placeholder was left");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for (start, _) in text.match_indices("\"#/components/schemas/") {
            let rest = &text[start + 22..];
            let name = &rest[..rest.find('"').unwrap()];
            assert!(schemas.contains_key(name), "dangling $ref to {name}");
        }
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([{}]));
    }
}
