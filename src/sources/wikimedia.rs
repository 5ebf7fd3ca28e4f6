//! Wikimedia Commons (no key): MediaWiki search in the File: namespace with `imageinfo`.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;

use super::gate::Gate;
use super::http::{get_json, host_of, http_url, one_line, HttpClient};
use super::{SearchPage, SearchQuery, Source, SourceError, Unusable};
use crate::attribution::Attribution;
use crate::candidate::{Candidate, Checksum};
use crate::source_kind::SourceKind;

/// MediaWiki caps `gsrlimit` at 50 for anonymous clients.
const MAX_LIMIT: u32 = 50;

/// The Wikimedia Commons API.
pub struct Wikimedia {
    client: HttpClient,
    gate: Arc<Gate>,
    timeout: Duration,
    base_url: String,
}

impl Wikimedia {
    /// An adapter for the wiki at `base_url`.
    pub fn new(
        client: HttpClient,
        gate: Arc<Gate>,
        timeout: Duration,
        base_url: String,
    ) -> Wikimedia {
        Wikimedia {
            client,
            gate,
            timeout,
            base_url,
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    query: Option<QueryPart>,
    #[serde(rename = "continue")]
    more: Option<Value>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct QueryPart {
    #[serde(default)]
    pages: Vec<Value>,
}

#[derive(Deserialize)]
struct Page {
    title: String,
    index: Option<i64>,
    #[serde(default)]
    imageinfo: Vec<ImageInfo>,
}

#[derive(Deserialize)]
struct ImageInfo {
    url: String,
    descriptionurl: Option<String>,
    size: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
    duration: Option<f64>,
    mime: Option<String>,
    sha1: Option<String>,
    extmetadata: Option<Value>,
}

impl Source for Wikimedia {
    fn kind(&self) -> SourceKind {
        SourceKind::Wikimedia
    }

    fn search<'a>(
        &'a self,
        query: &'a SearchQuery,
    ) -> BoxFuture<'a, Result<SearchPage, SourceError>> {
        Box::pin(async move {
            let host = host_of(&self.base_url);
            let limit = query.per_page.clamp(1, MAX_LIMIT);
            let offset = query.page.saturating_sub(1) * limit;
            let params = [
                ("action", "query".to_string()),
                ("format", "json".to_string()),
                ("formatversion", "2".to_string()),
                ("generator", "search".to_string()),
                ("gsrsearch", format!("{} filetype:video", query.theme)),
                ("gsrnamespace", "6".to_string()),
                ("gsrlimit", limit.to_string()),
                ("gsroffset", offset.to_string()),
                ("prop", "imageinfo".to_string()),
                (
                    "iiprop",
                    "url|size|mime|mediatype|sha1|extmetadata".to_string(),
                ),
            ];
            let request = self
                .client
                .get(format!("{}/w/api.php", self.base_url))
                .query(&params);
            let answer: Answer =
                get_json(&self.client, &self.gate, request, &host, self.timeout).await?;
            if let Some(error) = answer.error {
                return Err(SourceError::Malformed {
                    host,
                    message: format!("API error: {}", one_line(&error.to_string(), 160)),
                });
            }
            let mut pages: Vec<Page> = Vec::new();
            let mut result = SearchPage {
                has_more: answer.more.is_some(),
                ..Default::default()
            };
            for raw in answer.query.map(|q| q.pages).unwrap_or_default() {
                match serde_json::from_value::<Page>(raw) {
                    Ok(page) => pages.push(page),
                    Err(e) => result
                        .skipped
                        .push(format!("wikimedia: skipped a malformed result: {e}")),
                }
            }
            // formatversion=2 returns pages in id order; `index` is the search rank.
            pages.sort_by_key(|p| p.index.unwrap_or(i64::MAX));
            result.returned = pages.len() as u32;
            for page in pages {
                result.keep(SourceKind::Wikimedia, to_candidate(page), &query.options);
            }
            Ok(result)
        })
    }
}

/// `Ok(None)` for files that are simply not videos; `Err` for results that are malformed.
fn to_candidate(page: Page) -> Result<Option<Candidate>, Unusable> {
    let Some(info) = page.imageinfo.into_iter().next() else {
        return Err(Unusable::NoFileInfo { title: page.title });
    };
    let Some(mime) = info.mime.clone().filter(|m| m.starts_with("video/")) else {
        return Ok(None);
    };
    let Some(url) = http_url(&info.url) else {
        return Err(Unusable::NotOnTheWeb { title: page.title });
    };
    let meta = |key: &str| -> Option<String> {
        let value = info
            .extmetadata
            .as_ref()?
            .get(key)?
            .get("value")?
            .as_str()?;
        let text = strip_tags(value);
        (!text.is_empty()).then_some(text)
    };
    let title = page
        .title
        .strip_prefix("File:")
        .unwrap_or(&page.title)
        .to_string();
    Ok(Some(Candidate {
        attribution: Attribution {
            source: SourceKind::Wikimedia,
            source_id: title.clone(),
            title: title
                .rsplit_once('.')
                .map(|(stem, _)| stem.to_string())
                .unwrap_or(title),
            page_url: info.descriptionurl.as_deref().and_then(http_url),
            author_name: meta("Artist"),
            author_url: artist_link(info.extmetadata.as_ref()),
            license: meta("LicenseShortName"),
        },
        tags: Vec::new(),
        duration: info.duration.filter(|d| d.is_finite() && *d >= 0.0),
        width: info.width,
        height: info.height,
        fps: None,
        size: info.size,
        url,
        mime: Some(mime),
        checksum: info
            .sha1
            .as_deref()
            .and_then(|h| Checksum::from_stored(&format!("sha1:{h}"))),
    }))
}

/// The artist's link from the `Artist` HTML (protocol-relative links get https).
fn artist_link(extmetadata: Option<&Value>) -> Option<String> {
    let html = extmetadata?.get("Artist")?.get("value")?.as_str()?;
    let start = html.find("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    let href = &html[start..end];
    let absolute = if href.starts_with("//") {
        format!("https:{href}")
    } else {
        href.to_string()
    };
    http_url(&absolute)
}

/// Commons metadata values are HTML; keep the text only.
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artist_html_becomes_text_and_a_link() {
        let meta = serde_json::json!({"Artist": {"value": "<a href=\"//commons.wikimedia.org/wiki/User:Ex\">Ex Ample</a>"}});
        assert_eq!(
            artist_link(Some(&meta)).as_deref(),
            Some("https://commons.wikimedia.org/wiki/User:Ex")
        );
        assert_eq!(strip_tags("<b>Ex</b>  <i>Ample</i>"), "Ex Ample");
    }
}
