//! The one HTTP client shared by searches and downloads, the redirect-following that checks
//! every hop, and bounded, untrusting JSON fetches.

use std::time::{Duration, Instant};

use reqwest::header::{
    HeaderMap, AUTHORIZATION, COOKIE, LOCATION, PROXY_AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{Client, IntoUrl, Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use thiserror::Error;
use url::Url;

use super::gate::{Gate, Use};
use super::SourceError;
use crate::egress::{self, EgressPolicy, Refused};

/// Largest search response accepted; real pages are a few hundred KiB at most.
pub const MAX_JSON_BYTES: usize = 8 << 20;

/// Redirects followed for one request; providers and CDNs use one or two.
pub const MAX_REDIRECTS: usize = 5;

/// Identifies vfetch to providers, as the Wikimedia User-Agent policy requires.
pub const USER_AGENT: &str = concat!(
    "vfetch/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/vfetch/vfetch; stock video fetcher)"
);

/// Timeouts and pool settings for the shared client.
#[derive(Debug, Clone, Copy)]
pub struct ClientSettings {
    pub connect_timeout: Duration,
    /// Idle time on one read before a transfer counts as stalled.
    pub read_timeout: Duration,
    pub max_idle_per_host: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            max_idle_per_host: 8,
        }
    }
}

/// Builds the shared client: pooled keep-alive connections, rustls, and a resolver that obeys
/// `egress`. Redirects are not followed by reqwest but by [`HttpClient::send`], which checks
/// each hop before connecting.
pub fn build_client(settings: ClientSettings, egress: EgressPolicy) -> reqwest::Result<HttpClient> {
    let client = Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(settings.connect_timeout)
        .read_timeout(settings.read_timeout)
        .pool_max_idle_per_host(settings.max_idle_per_host)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(super::dns::CachingResolver::new(egress.clone()))
        .build()?;
    Ok(HttpClient { client, egress })
}

/// The shared client together with the policy on where it may connect. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: Client,
    egress: EgressPolicy,
}

/// Why [`HttpClient::send`] got no response.
#[derive(Debug, Error)]
pub enum SendError {
    /// The request or a redirect hop points at an address that may not be reached.
    #[error(transparent)]
    Refused(Refused),
    /// A redirect that cannot or should not be followed (too many, not to a web URL).
    #[error("{0}")]
    Redirect(String),
    #[error(transparent)]
    Http(reqwest::Error),
}

impl HttpClient {
    /// Starts a GET request (send it with [`HttpClient::send`]).
    pub fn get(&self, url: impl IntoUrl) -> RequestBuilder {
        self.client.get(url)
    }

    /// The plain client, for requests to where the user configured (the webhook).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The policy this client obeys; reconfigure it on reload.
    pub fn egress(&self) -> &EgressPolicy {
        &self.egress
    }

    /// Sends a request, following up to [`MAX_REDIRECTS`] redirects, and checks the URL of the
    /// request and of every hop before connecting. Credentials are dropped when a hop leaves
    /// the origin; other headers (`Range`, `If-Range`) go along. A request timeout covers all
    /// hops together. Any status that is not a followed redirect is returned as it is.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, SendError> {
        let mut request = request.build().map_err(SendError::Http)?;
        let deadline = request.timeout().map(|t| Instant::now() + *t);
        for _ in 0..=MAX_REDIRECTS {
            self.egress
                .check_url(request.url())
                .await
                .map_err(SendError::Refused)?;
            let next = request.try_clone();
            let from = request.url().clone();
            let response =
                self.client
                    .execute(request)
                    .await
                    .map_err(|e| match egress::refusal(&e) {
                        Some(refused) => SendError::Refused(refused),
                        None => SendError::Http(e),
                    })?;
            let Some(location) = redirect_location(&response) else {
                return Ok(response);
            };
            // Only bodiless requests are sent through here, so a clone always exists; without
            // one the redirect is handed back as it is.
            let Some(mut next) = next else {
                return Ok(response);
            };
            let to = from
                .join(location)
                .map_err(|_| SendError::Redirect("a redirect without a usable Location".into()))?;
            if !matches!(to.scheme(), "http" | "https") || to.host_str().is_none() {
                return Err(SendError::Redirect(format!(
                    "a redirect to a {} URL, not a web address",
                    to.scheme()
                )));
            }
            strip_credentials(next.headers_mut(), &from, &to);
            if response.status() == StatusCode::SEE_OTHER && next.method() != Method::HEAD {
                *next.method_mut() = Method::GET;
                *next.body_mut() = None;
            }
            if let Some(deadline) = deadline {
                *next.timeout_mut() = Some(deadline.saturating_duration_since(Instant::now()));
            }
            *next.url_mut() = to;
            request = next;
        }
        Err(SendError::Redirect(format!(
            "more than {MAX_REDIRECTS} redirects"
        )))
    }
}

/// The target of a redirect this client follows, as sent.
fn redirect_location(response: &Response) -> Option<&str> {
    let followed = matches!(
        response.status(),
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    );
    if !followed {
        return None;
    }
    response.headers().get(LOCATION)?.to_str().ok()
}

/// Drops what authenticates us to `from` (Pexels sends its API key in `Authorization`) when a
/// redirect leads to another scheme, host or port.
fn strip_credentials(headers: &mut HeaderMap, from: &Url, to: &Url) {
    let same_origin = from.scheme() == to.scheme()
        && from.host_str() == to.host_str()
        && from.port_or_known_default() == to.port_or_known_default();
    if !same_origin {
        for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION, WWW_AUTHENTICATE] {
            headers.remove(name);
        }
        headers.remove("cookie2");
    }
}

/// Sends an API request through the source's gate and parses a bounded JSON body; errors name
/// the host, never the full URL (query strings can carry API keys).
pub async fn get_json<T: DeserializeOwned>(
    client: &HttpClient,
    gate: &Gate,
    request: RequestBuilder,
    host: &str,
    timeout: Duration,
) -> Result<T, SourceError> {
    gate.admit(Use::Api)
        .await
        .map_err(|e| SourceError::Transport {
            host: host.to_string(),
            message: e.to_string(),
        })?;
    let result = async {
        let response = send(client, request.timeout(timeout), host, timeout).await?;
        if let Some(wait) = quota_exhausted(response.headers()) {
            // The provider says the quota is spent: hold every request until it resets.
            tracing::info!(
                host,
                wait_secs = wait.as_secs(),
                "provider quota exhausted; waiting for its reset"
            );
            gate.failed(Some(wait), false);
        }
        read_bounded(response, host, timeout).await
    }
    .await;
    match &result {
        Ok(_) => gate.succeeded(),
        Err(e) => {
            // 429 means "slow down", not "broken": it holds requests back without tripping.
            let counts = e.is_retryable() && !matches!(e, SourceError::Status { status: 429, .. });
            gate.failed(e.retry_after(), counts);
        }
    }
    serde_json::from_slice(&result?).map_err(|e| SourceError::Malformed {
        host: host.to_string(),
        message: e.to_string(),
    })
}

/// Sends a request (following redirects); a non-success status becomes [`SourceError::Status`].
pub async fn send(
    client: &HttpClient,
    request: RequestBuilder,
    host: &str,
    timeout: Duration,
) -> Result<Response, SourceError> {
    let response = client.send(request).await.map_err(|e| match e {
        SendError::Refused(refused) => SourceError::Refused(refused),
        SendError::Redirect(message) => SourceError::Malformed {
            host: host.to_string(),
            message,
        },
        SendError::Http(e) => transport(e, host, timeout),
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = retry_after(response.headers());
    let detail = response
        .text()
        .await
        .map(|t| one_line(&t, 120))
        .unwrap_or_default();
    Err(SourceError::Status {
        host: host.to_string(),
        status: status.as_u16(),
        detail: if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            "the API key was refused".to_string()
        } else {
            detail
        },
        retry_after,
    })
}

async fn read_bounded(
    mut response: Response,
    host: &str,
    timeout: Duration,
) -> Result<Vec<u8>, SourceError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_JSON_BYTES as u64)
    {
        return Err(too_large(host));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(e, host, timeout))?
    {
        if body.len() + chunk.len() > MAX_JSON_BYTES {
            return Err(too_large(host));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(host: &str) -> SourceError {
    SourceError::Malformed {
        host: host.to_string(),
        message: format!("response larger than {} MiB", MAX_JSON_BYTES >> 20),
    }
}

/// Classifies a reqwest error without its URL (which may hold a key).
pub fn transport(error: reqwest::Error, host: &str, timeout: Duration) -> SourceError {
    if let Some(refused) = egress::refusal(&error) {
        return SourceError::Refused(refused);
    }
    let host = host.to_string();
    if error.is_timeout() {
        return SourceError::Timeout {
            host,
            after: timeout,
        };
    }
    let is_connect = error.is_connect();
    let is_decode = error.is_decode();
    let message = root_cause(&error.without_url());
    if is_connect {
        SourceError::Connect { host, message }
    } else if is_decode {
        SourceError::Malformed { host, message }
    } else {
        SourceError::Transport { host, message }
    }
}

/// The innermost error message ("Connection refused (os error 111)"), which says the most.
fn root_cause(error: &dyn std::error::Error) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// `Retry-After` as delta seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// When `X-Ratelimit-Remaining` is 0, how long until `X-Ratelimit-Reset`: Pexels sends a UNIX
/// time, Pixabay seconds from now; values past 10^9 are read as the former.
pub fn quota_exhausted(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
    if number("x-ratelimit-remaining")? > 0 {
        return None;
    }
    let reset = number("x-ratelimit-reset")?;
    if reset > 1_000_000_000 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Some(Duration::from_secs(reset.saturating_sub(now)))
    } else {
        Some(Duration::from_secs(reset))
    }
}

/// The host (and port) of a base URL, for error messages.
pub fn host_of(base_url: &str) -> String {
    url::Url::parse(base_url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_else(|| base_url.to_string())
}

/// First line of untrusted text, shortened, for error messages.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut short: String = line
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect();
    if line.chars().count() > max_chars {
        short.push('…');
    }
    short
}

/// Accepts only absolute http(s) URLs from providers.
pub fn http_url(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some()).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{IF_RANGE, RANGE};
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// A one-thread HTTP server on 127.0.0.1 that answers every request with `answer` and keeps
    /// the request heads it saw.
    fn server(answer: String) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).to_lowercase());
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        (base, seen)
    }

    fn redirect_to(location: &str) -> String {
        format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

    #[test]
    fn credentials_stay_behind_when_a_redirect_leaves_the_origin() {
        let url = |s: &str| Url::parse(s).unwrap();
        let headers = || {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, "key".parse().unwrap());
            h.insert(COOKIE, "a=b".parse().unwrap());
            h.insert(RANGE, "bytes=10-".parse().unwrap());
            h.insert(IF_RANGE, "\"v1\"".parse().unwrap());
            h
        };
        let mut same = headers();
        strip_credentials(
            &mut same,
            &url("https://a.org/x"),
            &url("https://a.org:443/y"),
        );
        assert_eq!(same, headers());
        for other in ["https://b.org/y", "http://a.org/y", "https://a.org:8443/y"] {
            let mut moved = headers();
            strip_credentials(&mut moved, &url("https://a.org/x"), &url(other));
            assert!(moved.get(AUTHORIZATION).is_none(), "{other}");
            assert!(moved.get(COOKIE).is_none(), "{other}");
            assert_eq!(moved.get(RANGE).unwrap(), "bytes=10-", "{other}");
            assert!(moved.get(IF_RANGE).is_some(), "{other}");
        }
    }

    #[tokio::test]
    async fn a_followed_redirect_drops_the_key_and_keeps_the_range() {
        let (target, target_seen) = server(OK.to_string());
        let (start, start_seen) = server(redirect_to(&format!("{target}/file.mp4")));
        let http =
            build_client(ClientSettings::default(), EgressPolicy::new(true, [""; 0])).unwrap();
        let request = http
            .get(format!("{start}/hop"))
            .header(AUTHORIZATION, "secret-key")
            .header(RANGE, "bytes=5-");
        let response = http.send(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.url().as_str(), format!("{target}/file.mp4"));
        let first = start_seen.lock().unwrap().clone();
        assert!(first[0].contains("authorization: secret-key"), "{first:?}");
        let second = target_seen.lock().unwrap().clone();
        assert_eq!(second.len(), 1);
        assert!(second[0].starts_with("get /file.mp4 "), "{second:?}");
        assert!(!second[0].contains("authorization"), "{second:?}");
        assert!(second[0].contains("range: bytes=5-"), "{second:?}");
    }

    #[tokio::test]
    async fn a_redirect_to_an_internal_address_is_refused_before_connecting() {
        let (target, target_seen) = server(OK.to_string());
        let (start, _) = server(redirect_to(&format!("{target}/internal-admin")));
        // Only the first server is configured (trusted); the second is just another loopback port.
        let http = build_client(
            ClientSettings::default(),
            EgressPolicy::new(false, [&start]),
        )
        .unwrap();
        let error = http
            .send(http.get(format!("{start}/hop")))
            .await
            .unwrap_err();
        let SendError::Refused(refused) = error else {
            panic!("expected a refusal, got {error:?}");
        };
        assert_eq!(refused.kind, egress::AddressKind::Loopback);
        assert!(target_seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn redirect_loops_end() {
        let (start, seen) = server(redirect_to("/again"));
        let http =
            build_client(ClientSettings::default(), EgressPolicy::new(true, [""; 0])).unwrap();
        let error = http
            .send(http.get(format!("{start}/loop")))
            .await
            .unwrap_err();
        assert!(matches!(error, SendError::Redirect(_)), "{error:?}");
        assert_eq!(seen.lock().unwrap().len(), MAX_REDIRECTS + 1);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        headers.insert(RETRY_AFTER, httpdate::fmt_http_date(later).parse().unwrap());
        let d = retry_after(&headers).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn an_exhausted_quota_waits_for_its_reset() {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        headers.insert("x-ratelimit-reset", "42".parse().unwrap());
        assert_eq!(quota_exhausted(&headers), Some(Duration::from_secs(42)));
        let soon = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 100;
        headers.insert("x-ratelimit-reset", soon.to_string().parse().unwrap());
        let wait = quota_exhausted(&headers).unwrap();
        assert!(wait > Duration::from_secs(95) && wait <= Duration::from_secs(100));
        headers.insert("x-ratelimit-remaining", "7".parse().unwrap());
        assert_eq!(quota_exhausted(&headers), None);
    }

    #[test]
    fn only_web_urls_are_accepted() {
        assert!(http_url("https://x.org/a.mp4").is_some());
        assert!(http_url("file:///etc/passwd").is_none());
        assert!(http_url("javascript:alert(1)").is_none());
        assert!(http_url("/relative.mp4").is_none());
    }

    #[test]
    fn error_text_is_one_short_line() {
        assert_eq!(one_line("\n  first \nsecond", 50), "first");
        assert_eq!(one_line(&"x".repeat(10), 4), "xxxx…");
    }
}
