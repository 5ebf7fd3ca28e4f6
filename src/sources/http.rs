//! The one HTTP client shared by searches and downloads, and bounded, untrusting JSON fetches.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use super::gate::{Gate, Use};
use super::SourceError;

/// Largest search response accepted; real pages are a few hundred KiB at most.
pub const MAX_JSON_BYTES: usize = 8 << 20;

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

/// Builds the shared client: pooled keep-alive connections, rustls, redirects followed.
pub fn build_client(settings: ClientSettings) -> reqwest::Result<Client> {
    Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(settings.connect_timeout)
        .read_timeout(settings.read_timeout)
        .pool_max_idle_per_host(settings.max_idle_per_host)
        .redirect(reqwest::redirect::Policy::limited(5))
        .dns_resolver(super::dns::CachingResolver::default())
        .build()
}

/// Sends an API request through the source's gate and parses a bounded JSON body; errors name
/// the host, never the full URL (query strings can carry API keys).
pub async fn get_json<T: DeserializeOwned>(
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
        let response = send(request.timeout(timeout), host, timeout).await?;
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

/// Sends a request; a non-success status becomes [`SourceError::Status`].
pub async fn send(
    request: RequestBuilder,
    host: &str,
    timeout: Duration,
) -> Result<Response, SourceError> {
    let response = request
        .send()
        .await
        .map_err(|e| transport(e, host, timeout))?;
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
