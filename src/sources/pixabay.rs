//! Pixabay: `GET /api/videos/` with the key in the query string (so its URLs are never logged).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;

use super::filter::rendition_fits;
use super::gate::Gate;
use super::http::{get_json, host_of, http_url, HttpClient};
use super::{SearchPage, SearchQuery, Source, SourceError, Unusable};
use crate::attribution::Attribution;
use crate::candidate::Candidate;
use crate::config::Secret;
use crate::job::{JobOptions, Quality};
use crate::source_kind::SourceKind;

/// Pixabay accepts 3..=200 per page and queries of at most 100 characters.
const PER_PAGE: std::ops::RangeInclusive<u32> = 3..=200;
const MAX_QUERY_CHARS: usize = 100;

/// The Pixabay video API.
pub struct Pixabay {
    client: HttpClient,
    gate: Arc<Gate>,
    timeout: Duration,
    base_url: String,
    key: Secret,
}

impl Pixabay {
    /// An adapter for the API at `base_url` with `key`.
    pub fn new(
        client: HttpClient,
        gate: Arc<Gate>,
        timeout: Duration,
        base_url: String,
        key: Secret,
    ) -> Pixabay {
        Pixabay {
            client,
            gate,
            timeout,
            base_url,
            key,
        }
    }
}

#[derive(Deserialize)]
struct Page {
    #[serde(rename = "totalHits", default)]
    total_hits: u64,
    #[serde(default)]
    hits: Vec<Value>,
}

#[derive(Deserialize)]
struct Hit {
    id: u64,
    #[serde(rename = "pageURL")]
    page_url: Option<String>,
    tags: Option<String>,
    duration: Option<f64>,
    videos: Renditions,
    user: Option<String>,
    user_id: Option<u64>,
}

#[derive(Deserialize)]
struct Renditions {
    large: Option<Rendition>,
    medium: Option<Rendition>,
    small: Option<Rendition>,
    tiny: Option<Rendition>,
}

#[derive(Deserialize, Clone, Debug)]
struct Rendition {
    url: String,
    width: u32,
    height: u32,
    size: u64,
}

impl Source for Pixabay {
    fn kind(&self) -> SourceKind {
        SourceKind::Pixabay
    }

    fn search<'a>(
        &'a self,
        query: &'a SearchQuery,
    ) -> BoxFuture<'a, Result<SearchPage, SourceError>> {
        Box::pin(async move {
            let host = host_of(&self.base_url);
            let q: String = query.theme.chars().take(MAX_QUERY_CHARS).collect();
            let per_page = query.per_page.clamp(*PER_PAGE.start(), *PER_PAGE.end());
            let mut params = vec![
                ("key", self.key.expose().to_string()),
                ("q", q),
                ("safesearch", "true".to_string()),
                ("page", query.page.to_string()),
                ("per_page", per_page.to_string()),
            ];
            if let Some(w) = query.options.min_width {
                params.push(("min_width", w.to_string()));
            }
            if let Some(h) = query.options.min_height {
                params.push(("min_height", h.to_string()));
            }
            let request = self
                .client
                .get(format!("{}/api/videos/", self.base_url))
                .query(&params);
            let page: Page =
                get_json(&self.client, &self.gate, request, &host, self.timeout).await?;
            let seen = u64::from(query.page) * u64::from(per_page);
            let mut result = SearchPage {
                returned: page.hits.len() as u32,
                has_more: !page.hits.is_empty() && seen < page.total_hits,
                ..Default::default()
            };
            for raw in page.hits {
                result.take(SourceKind::Pixabay, raw, &query.options, |hit: Hit| {
                    to_candidate(hit, &query.options)
                });
            }
            Ok(result)
        })
    }
}

/// `Ok(None)` when no rendition fits the job; `Err` when the result is malformed.
fn to_candidate(hit: Hit, options: &JobOptions) -> Result<Option<Candidate>, Unusable> {
    let v = hit.videos;
    let renditions: Vec<Rendition> = [v.large, v.medium, v.small, v.tiny]
        .into_iter()
        .flatten()
        .collect();
    let listed = renditions.iter().filter(|r| !r.url.is_empty()).count();
    if listed > 0
        && renditions
            .iter()
            .all(|r| r.url.is_empty() || http_url(&r.url).is_none())
    {
        return Err(Unusable::NoWebFile {
            id: hit.id,
            files: "URLs",
        });
    }
    let Some(chosen) = choose(&renditions, options) else {
        return Ok(None);
    };
    let Some(url) = http_url(&chosen.url) else {
        return Ok(None);
    };
    Ok(Some(Candidate {
        attribution: Attribution {
            source: SourceKind::Pixabay,
            source_id: hit.id.to_string(),
            title: hit
                .tags
                .clone()
                .unwrap_or_else(|| format!("Pixabay video {}", hit.id)),
            page_url: hit.page_url.as_deref().and_then(http_url),
            author_name: hit.user.clone(),
            author_url: match (&hit.user, hit.user_id) {
                (Some(user), Some(id)) => Some(format!("https://pixabay.com/users/{user}-{id}/")),
                _ => None,
            },
            license: Some("Pixabay Content License".to_string()),
        },
        tags: hit
            .tags
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        duration: hit.duration.filter(|d| d.is_finite() && *d >= 0.0),
        width: Some(chosen.width),
        height: Some(chosen.height),
        fps: None,
        size: Some(chosen.size),
        url,
        mime: Some("video/mp4".to_string()),
        checksum: None,
    }))
}

/// Among the existing renditions (a missing one comes as an empty URL), the largest that fits.
fn choose<'a>(renditions: &'a [Rendition], options: &JobOptions) -> Option<&'a Rendition> {
    let wanted = match options.quality {
        Some(Quality::Best) => None,
        q => q,
    };
    renditions
        .iter()
        .filter(|r| http_url(&r.url).is_some() && r.width > 0 && r.height > 0)
        .filter(|r| {
            rendition_fits(
                &JobOptions {
                    quality: wanted,
                    ..options.clone()
                },
                Some(r.width),
                Some(r.height),
                Some(r.size),
            )
        })
        .max_by_key(|r| u64::from(r.width) * u64::from(r.height))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(url: &str, w: u32, h: u32, size: u64) -> Rendition {
        Rendition {
            url: url.into(),
            width: w,
            height: h,
            size,
        }
    }

    #[test]
    fn empty_slots_are_skipped_and_size_limits_pick_a_smaller_rendition() {
        let all = vec![
            r("https://cdn.example/l.mp4", 1920, 1080, 30 << 20),
            r("https://cdn.example/m.mp4", 1280, 720, 10 << 20),
            r("https://cdn.example/s.mp4", 640, 360, 2 << 20),
            r("", 0, 0, 0),
        ];
        let pick = |options: JobOptions| choose(&all, &options).map(|r| r.url.clone());
        assert_eq!(
            pick(JobOptions::default()).as_deref(),
            Some("https://cdn.example/l.mp4")
        );
        let small = JobOptions {
            max_file_size_mb: Some(5),
            ..Default::default()
        };
        assert_eq!(pick(small).as_deref(), Some("https://cdn.example/s.mp4"));
        let sd = JobOptions {
            quality: Some(Quality::Sd),
            ..Default::default()
        };
        assert_eq!(pick(sd).as_deref(), Some("https://cdn.example/s.mp4"));
        let uhd = JobOptions {
            quality: Some(Quality::Uhd),
            ..Default::default()
        };
        assert_eq!(pick(uhd), None);
    }
}
