//! How a route is registered: with [`routes!`], which serves a handler at the path and methods
//! of its `#[utoipa::path]` annotation and, when the description is built, takes the whole
//! annotation along (`openapi.rs`). The daemon serves with a router that holds no description.

/// What registering a route builds besides its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// Only what serving needs: each handler's path and methods. The daemon's router is built
    /// so: building the full description (every answer's JSON schema) at start-up left an idle
    /// daemon's heap 1.3 MiB larger, for a document nothing kept.
    Serve,
    /// The handler's whole `#[utoipa::path]` operation and the schemas it names, for
    /// the description (`openapi::document`).
    Describe,
}

/// Registers handlers as `utoipa_axum::routes!` does (handlers of one path together), for an
/// `OpenApiRouter::routes`. With [`Build::Describe`] it *is* `utoipa_axum::routes!`; with
/// [`Build::Serve`] it asks each handler's annotation only for its path and methods, so a
/// route is still served exactly where its description says, and cannot be served without one.
macro_rules! routes {
    ($build:expr; $($handler:ident),+ $(,)?) => {
        match $build {
            $crate::daemon::http::register::Build::Describe => utoipa_axum::routes!($($handler),+),
            $crate::daemon::http::register::Build::Serve => utoipa_axum::paste! {{
                use utoipa::Path as _;
                use utoipa_axum::PathItemExt as _;
                let mut paths = utoipa::openapi::path::Paths::new();
                let mut router = axum::routing::MethodRouter::new();
                $(
                    let methods = [<__path_ $handler>]::methods();
                    router = methods
                        .iter()
                        .fold(router, |router, method| router.on(method.to_method_filter(), $handler));
                    paths.add_path_operation(
                        [<__path_ $handler>]::path(),
                        methods,
                        utoipa::openapi::path::Operation::new(),
                    );
                )+
                (Vec::new(), paths, router)
            }},
        }
    };
}
pub(crate) use routes;
