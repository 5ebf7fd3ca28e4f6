//! `GET /api/openapi.json` from the real daemon: a valid OpenAPI 3.1 document by a real
//! validator (python's openapi-spec-validator), describing exactly the routes the daemon
//! serves, with schemas the daemon's real answers match.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::web::{send, Web, WEB_ON};
use crate::support::Daemon;

/// Every route the HTTP API serves. A new route goes here and gets a `#[utoipa::path]`
/// annotation; the test fails until both agree.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/login"),
    ("POST", "/logout"),
    ("GET", "/metrics"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/jobs"),
    ("POST", "/api/jobs"),
    ("GET", "/api/jobs/{id}"),
    ("DELETE", "/api/jobs/{id}"),
    ("POST", "/api/jobs/{id}/pause"),
    ("POST", "/api/jobs/{id}/resume"),
    ("PUT", "/api/jobs/{id}/priority"),
    ("POST", "/api/pause"),
    ("POST", "/api/resume"),
    ("GET", "/api/status"),
    ("GET", "/api/stats"),
    ("GET", "/api/history"),
    ("GET", "/api/themes"),
    ("POST", "/api/cleanup"),
    ("GET", "/api/config"),
    ("PATCH", "/api/config"),
    ("POST", "/api/setup"),
    ("POST", "/api/fetch"),
    ("GET", "/api/status/{id}"),
    ("GET", "/api/search/suggestions"),
    ("GET", "/api/themes/popular"),
    ("GET", "/api/export/metadata/{id}"),
    ("GET", "/api/events"),
    ("GET", "/api/export"),
    ("GET", "/media/{id}"),
    ("GET", "/api/library"),
    ("GET", "/thumbs/{id}"),
    ("GET", "/thumbs/{id}/sprite"),
];

/// The routes that answer without credentials.
const PUBLIC: &[&str] = &["/health", "/login", "/logout"];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn description(web: &Web) -> Value {
    let reply = web.get("/api/openapi.json");
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.header("content-type").starts_with("application/json"),
        "{:?}",
        reply.header("content-type")
    );
    reply.json()
}

/// Every (METHOD, path) the description holds.
fn described(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

#[test]
fn the_description_is_valid_openapi_3_1_and_lists_every_route_served() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    let doc = description(&web);
    assert_eq!(doc["openapi"], "3.1.0");
    validate(&doc, &daemon.state_dir().join("openapi.json"));

    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let described = described(&doc);
    let undescribed: Vec<_> = routes.difference(&described).collect();
    let unknown: Vec<_> = described.difference(&routes).collect();
    assert!(
        undescribed.is_empty() && unknown.is_empty(),
        "routes without a description: {undescribed:?}; described but not in ROUTES: {unknown:?}"
    );

    // Each listed route is really served: never "no such route" (404) or "not this method"
    // (405). With the token (refused credentials would slow the test down, by design), an id
    // no job has, and no body, so nothing changes.
    for (method, path) in ROUTES {
        let mut url_path = path.replace("{id}", "999999");
        if url_path == "/api/events" {
            // An endless stream otherwise: a job no one has ends it at once with a 404.
            url_path.push_str("?job=999999");
        }
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let reply = send(web.request(method.clone(), &url_path));
        let unrouted = reply.status == 405
            || (reply.status == 404 && reply.json()["detail"] == "no such route");
        assert!(
            !unrouted,
            "{method} {url_path}: {} {}",
            reply.status, reply.body
        );
    }
    // And a route that is not listed is not served.
    let reply = send(web.request(Method::GET, "/api/nowhere"));
    assert_eq!(reply.json()["detail"], "no such route", "{}", reply.body);
}

#[test]
fn operations_name_their_credentials_and_refusals() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    // The description is behind the token like the rest of /api.
    send(web.bare(Method::GET, "/api/openapi.json")).assert_problem(401);
    let doc = description(&web);

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http", "{schemes}");
    assert_eq!(schemes["bearer"]["scheme"], "bearer", "{schemes}");
    assert_eq!(schemes["session"]["in"], "cookie", "{schemes}");
    assert_eq!(schemes["session"]["name"], "vfetch_session", "{schemes}");
    assert_eq!(doc["security"], json!([{"bearer": []}, {"session": []}]));
    for (method, path) in ROUTES.iter().filter(|(_, p)| PUBLIC.contains(p)) {
        let operation = &doc["paths"][path][method.to_lowercase()];
        assert_eq!(operation["security"], json!([{}]), "{method} {path}");
    }
    for (method, path) in ROUTES.iter().filter(|(_, p)| !PUBLIC.contains(p)) {
        let operation = &doc["paths"][path][method.to_lowercase()];
        assert!(operation.get("security").is_none(), "{method} {path}");
        let responses = &operation["responses"];
        assert_eq!(
            responses["401"]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/ProblemDocument",
            "{method} {path}: {responses}"
        );
        if path.contains("{id}") {
            assert!(responses.get("404").is_some(), "{method} {path}");
        }
        if *method != "GET" && path.starts_with("/api/jobs/{id}") {
            assert!(responses.get("409").is_some(), "{method} {path}");
        }
    }
    let create = &doc["paths"]["/api/jobs"]["post"];
    for status in ["201", "400", "413", "415", "422", "503"] {
        assert!(create["responses"].get(status).is_some(), "{status}");
    }
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewJobBody"
    );
}

#[test]
fn real_answers_match_the_described_schemas() {
    let daemon = Daemon::start_with(WEB_ON);
    let web = daemon.web();
    let doc = description(&web);
    let created = web.post("/api/jobs", &json!({"theme": "openapi check", "count": 2}));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().expect("id");

    for (path, status) in [
        ("/health".to_string(), "200"),
        ("/api/status".to_string(), "200"),
        ("/api/jobs".to_string(), "200"),
        (format!("/api/jobs/{id}"), "200"),
        (format!("/api/status/{id}"), "200"),
        ("/api/stats?days=7".to_string(), "200"),
        ("/api/config".to_string(), "200"),
        ("/api/themes/popular".to_string(), "200"),
        ("/api/jobs/999999".to_string(), "404"),
        ("/api/stats?by=fortnight".to_string(), "422"),
    ] {
        let reply = web.get(&path);
        assert_eq!(reply.status.to_string(), status, "{path}: {}", reply.body);
        let template = path
            .split('?')
            .next()
            .unwrap_or_default()
            .replace("999999", "{id}")
            .replace(&id.to_string(), "{id}");
        let response = &doc["paths"][&template]["get"]["responses"][status];
        let content = response["content"]
            .as_object()
            .and_then(|c| c.values().next())
            .unwrap_or_else(|| panic!("{template} {status} has no content: {response}"));
        assert_matches(&doc, &content["schema"], &reply.json(), &path);
    }
}

/// Asserts `value` matches `schema` (a schema object of `doc`, `$ref`s into its components).
fn assert_matches(doc: &Value, schema: &Value, value: &Value, what: &str) {
    let mut root = schema.clone();
    if let Value::Object(map) = &mut root {
        map.insert("components".into(), doc["components"].clone());
    }
    let validator = jsonschema::draft202012::new(&root).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its described schema:\n{}\n{value}",
        errors.join("\n")
    );
}

/// Runs openapi-spec-validator on the document. Missing, the check is skipped with a notice,
/// except in CI (`CI` set), where .ci/run installs it.
fn validate(doc: &Value, file: &Path) {
    let installed = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "openapi-spec-validator is missing (.ci/run installs it with pip)"
        );
        eprintln!("NOTICE: OpenAPI validation skipped: python3 -m openapi_spec_validator is not installed (see .ci/run)");
        return;
    }
    std::fs::write(file, serde_json::to_string_pretty(doc).expect("JSON")).expect("write");
    let out = Command::new("python3")
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(file)
        .output()
        .expect("run openapi-spec-validator");
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the description:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every route is registered with `routes!` (which takes its description along), never with a
/// bare axum `.route(...)` that would serve it undescribed.
#[test]
fn routes_are_registered_only_with_their_descriptions() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/daemon/http");
    let mut offending = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/daemon/http") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            // The dashboard's pages and files are not API operations (routes/ui.rs says so).
            if path.ends_with("routes/ui.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if code.contains(".route(") || code.contains(".route_service(") {
                    offending.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offending.is_empty(),
        "register routes with routes!(...) (src/daemon/http/register.rs) so they are described:\n{}",
        offending.join("\n")
    );
}
