//! Internet Archive (no key): advanced search for movies, then each item's metadata for a file.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::Value;

use super::gate::Gate;
use super::http::{get_json, host_of, http_url, HttpClient};
use super::{SearchPage, SearchQuery, Source, SourceError};
use crate::attribution::Attribution;
use crate::candidate::{Candidate, Checksum};
use crate::source_kind::SourceKind;

const MAX_ROWS: u32 = 50;
/// The Archive asks for low concurrency; item lookups for one page go two at a time.
const METADATA_CONCURRENCY: usize = 2;

/// The Internet Archive's search and metadata APIs.
pub struct Archive {
    client: HttpClient,
    gate: Arc<Gate>,
    timeout: Duration,
    base_url: String,
}

impl Archive {
    /// An adapter for the archive at `base_url`.
    pub fn new(
        client: HttpClient,
        gate: Arc<Gate>,
        timeout: Duration,
        base_url: String,
    ) -> Archive {
        Archive {
            client,
            gate,
            timeout,
            base_url,
        }
    }
}

#[derive(Deserialize)]
struct SearchAnswer {
    response: SearchResponse,
}

#[derive(Deserialize)]
struct SearchResponse {
    #[serde(rename = "numFound", default)]
    num_found: u64,
    #[serde(default)]
    docs: Vec<Value>,
}

#[derive(Deserialize)]
struct Doc {
    identifier: String,
    title: Option<Value>,
    creator: Option<Value>,
    licenseurl: Option<Value>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    files: Vec<Value>,
}

#[derive(Deserialize, Debug, Clone)]
struct File {
    name: String,
    format: Option<String>,
    size: Option<String>,
    length: Option<String>,
    width: Option<String>,
    height: Option<String>,
    md5: Option<String>,
    sha1: Option<String>,
}

impl Source for Archive {
    fn kind(&self) -> SourceKind {
        SourceKind::Archive
    }

    fn search<'a>(
        &'a self,
        query: &'a SearchQuery,
    ) -> BoxFuture<'a, Result<SearchPage, SourceError>> {
        Box::pin(async move {
            let host = host_of(&self.base_url);
            let rows = query.per_page.clamp(1, MAX_ROWS);
            let q = format!("({}) AND mediatype:(movies)", escape_query(&query.theme));
            let params = [
                ("q", q),
                ("fl[]", "identifier".to_string()),
                ("fl[]", "title".to_string()),
                ("fl[]", "creator".to_string()),
                ("fl[]", "licenseurl".to_string()),
                ("rows", rows.to_string()),
                ("page", query.page.to_string()),
                ("output", "json".to_string()),
            ];
            let request = self
                .client
                .get(format!("{}/advancedsearch.php", self.base_url))
                .query(&params);
            let answer: SearchAnswer =
                get_json(&self.client, &self.gate, request, &host, self.timeout).await?;
            let mut result = SearchPage {
                returned: answer.response.docs.len() as u32,
                has_more: u64::from(query.page) * u64::from(rows) < answer.response.num_found,
                ..Default::default()
            };
            let mut docs = Vec::new();
            for raw in answer.response.docs {
                match serde_json::from_value::<Doc>(raw) {
                    Ok(doc) if valid_identifier(&doc.identifier) => docs.push(doc),
                    Ok(doc) => result.skipped.push(format!(
                        "archive: skipped item with an invalid identifier {:?}",
                        doc.identifier
                    )),
                    Err(e) => result
                        .skipped
                        .push(format!("archive: skipped a malformed result: {e}")),
                }
            }
            let items: Vec<_> = stream::iter(docs)
                .map(|doc| async move {
                    let url = format!("{}/metadata/{}", self.base_url, doc.identifier);
                    let item: Result<Item, _> = get_json(
                        &self.client,
                        &self.gate,
                        self.client.get(url),
                        &host_of(&self.base_url),
                        self.timeout,
                    )
                    .await;
                    (doc, item)
                })
                .buffered(METADATA_CONCURRENCY)
                .collect()
                .await;
            for (doc, item) in items {
                match item {
                    Ok(item) => result.keep(
                        SourceKind::Archive,
                        Ok(self.to_candidate(&doc, item)),
                        &query.options,
                    ),
                    Err(e) => result
                        .skipped
                        .push(format!("archive: item {}: {e}", doc.identifier)),
                }
            }
            Ok(result)
        })
    }
}

impl Archive {
    fn to_candidate(&self, doc: &Doc, item: Item) -> Option<Candidate> {
        let files: Vec<File> = item
            .files
            .into_iter()
            .filter_map(|f| serde_json::from_value(f).ok())
            .collect();
        let file = choose_file(&files)?;
        let name_in_url: String = url::form_urlencoded::byte_serialize(file.name.as_bytes())
            .collect::<String>()
            .replace('+', "%20");
        let url = http_url(&format!(
            "{}/download/{}/{}",
            self.base_url, doc.identifier, name_in_url
        ))?;
        let number = |v: &Option<String>| v.as_deref().and_then(|s| s.trim().parse::<f64>().ok());
        let ext = file
            .name
            .rsplit('.')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        Some(Candidate {
            attribution: Attribution {
                source: SourceKind::Archive,
                source_id: doc.identifier.clone(),
                title: text_of(doc.title.as_ref()).unwrap_or_else(|| doc.identifier.clone()),
                page_url: Some(format!("https://archive.org/details/{}", doc.identifier)),
                author_name: text_of(doc.creator.as_ref()),
                author_url: None,
                license: text_of(doc.licenseurl.as_ref()).and_then(|l| http_url(&l)),
            },
            tags: Vec::new(),
            duration: number(&file.length).filter(|d| d.is_finite() && *d >= 0.0),
            width: number(&file.width).map(|w| w as u32),
            height: number(&file.height).map(|h| h as u32),
            fps: None,
            size: file.size.as_deref().and_then(|s| s.trim().parse().ok()),
            url,
            mime: Some(mime_for(&ext).to_string()),
            checksum: file
                .sha1
                .as_deref()
                .and_then(|h| Checksum::from_stored(&format!("sha1:{h}")))
                .or_else(|| {
                    file.md5
                        .as_deref()
                        .and_then(|h| Checksum::from_stored(&format!("md5:{h}")))
                }),
        })
    }
}

/// Video formats the Archive lists, best first.
const VIDEO_FORMATS: [&str; 7] = [
    "MPEG4",
    "h.264",
    "h.264 HD",
    "512Kb MPEG4",
    "WebM",
    "Matroska",
    "Ogg Video",
];

/// The most preferred video file of an item (originals before derivatives within a format).
fn choose_file(files: &[File]) -> Option<&File> {
    files
        .iter()
        .filter_map(|f| {
            let rank = VIDEO_FORMATS
                .iter()
                .position(|v| f.format.as_deref() == Some(*v))?;
            let ext = f.name.rsplit('.').next()?.to_ascii_lowercase();
            matches!(ext.as_str(), "mp4" | "m4v" | "webm" | "mkv" | "ogv" | "mov")
                .then_some((rank, f))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, f)| f)
}

fn mime_for(ext: &str) -> &'static str {
    match ext {
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "ogv" => "video/ogg",
        "mov" => "video/quicktime",
        _ => "video/mp4",
    }
}

/// Fields come as a string or a list of strings.
fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Array(items) => {
            let parts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        _ => None,
    }
}

/// Archive identifiers are `[A-Za-z0-9._-]`; anything else is not trusted into a URL path.
fn valid_identifier(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && id != "."
        && id != ".."
}

/// Keeps a theme from changing the Lucene query's structure.
fn escape_query(theme: &str) -> String {
    theme
        .chars()
        .map(|c| {
            if "+-&|!(){}[]^\"~*?:\\/".contains(c) {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, format: &str) -> File {
        File {
            name: name.into(),
            format: Some(format.into()),
            size: Some("10".into()),
            length: None,
            width: None,
            height: None,
            md5: None,
            sha1: None,
        }
    }

    #[test]
    fn picks_a_video_file_and_skips_the_rest() {
        let files = vec![
            f("__ia_thumb.jpg", "Item Tile"),
            f("x_archive.torrent", "Archive BitTorrent"),
            f("x.ogv", "Ogg Video"),
            f("x.mp4", "h.264"),
        ];
        assert_eq!(choose_file(&files).map(|f| f.name.as_str()), Some("x.mp4"));
        assert!(choose_file(&files[..2]).is_none());
    }

    #[test]
    fn identifiers_and_queries_are_sanitised() {
        assert!(valid_identifier("sunset_1980-reel"));
        assert!(!valid_identifier("../etc"));
        assert!(!valid_identifier("a/b"));
        assert_eq!(escape_query("sun (set) OR x:y"), "sun set OR x y");
    }
}
