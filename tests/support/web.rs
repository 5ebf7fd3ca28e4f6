//! Reaching a test daemon over HTTP: its URL from `vfetchctl web --json`, its token from
//! `<state_dir>/web.token`, and a real HTTP client (reqwest) that sends them.

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

use super::Daemon;

/// The config line that makes a test daemon listen for HTTP on a free loopback port.
pub const WEB_ON: &str = "web_listen = \"127.0.0.1:0\"\n";

/// A daemon's HTTP API as a client sees it.
pub struct Web {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The Bearer token.
    pub token: String,
    client: Client,
}

/// One HTTP answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }

    /// A header's value as text, or "".
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// Asserts an RFC 9457 problem document with `status`; returns its `detail`.
    pub fn assert_problem(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        assert!(
            self.header("content-type")
                .starts_with("application/problem+json"),
            "content type {:?} for {}",
            self.header("content-type"),
            self.body
        );
        let doc = self.json();
        assert_eq!(doc["status"], status, "{doc}");
        assert!(doc["type"].is_string() && doc["title"].is_string(), "{doc}");
        doc["detail"].as_str().unwrap_or_default().to_string()
    }
}

impl Daemon {
    /// The HTTP API of this daemon (started with [`WEB_ON`] or another `web_listen`).
    pub fn web(&self) -> Web {
        let link = self.ctl_json(&["web"]);
        let url = link["url"]
            .as_str()
            .expect("web --json has a url")
            .to_string();
        let token = std::fs::read_to_string(self.state_dir().join("web.token"))
            .expect("the daemon wrote web.token")
            .trim()
            .to_string();
        Web {
            url,
            token,
            client: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
        }
    }
}

impl Web {
    /// A request to `path` carrying the Bearer token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.bare(method, path).bearer_auth(&self.token)
    }

    /// A request to `path` without credentials.
    pub fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    /// `GET path` with the token.
    pub fn get(&self, path: &str) -> Reply {
        send(self.request(Method::GET, path))
    }

    /// `method path` with the token and a JSON body.
    pub fn send_json(&self, method: Method, path: &str, body: &Value) -> Reply {
        send(self.request(method, path).json(body))
    }

    /// `POST path` with the token and a JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.send_json(Method::POST, path, body)
    }
}

/// Sends and reads the whole answer.
pub fn send(request: RequestBuilder) -> Reply {
    let response = request.send().expect("HTTP request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().expect("HTTP body");
    Reply {
        status,
        headers,
        body,
    }
}
