//! Pexels: `GET /videos/search` with the key in the `Authorization` header.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde::Deserialize;
use serde_json::Value;

use super::filter::{quality_fits, rendition_fits};
use super::gate::Gate;
use super::http::{get_json, host_of, http_url, HttpClient};
use super::{SearchPage, SearchQuery, Source, SourceError, Unusable};
use crate::attribution::Attribution;
use crate::candidate::Candidate;
use crate::config::Secret;
use crate::job::{JobOptions, Quality};
use crate::source_kind::SourceKind;

/// Pexels caps `per_page` at 80.
const MAX_PER_PAGE: u32 = 80;

/// The Pexels video API.
pub struct Pexels {
    client: HttpClient,
    gate: Arc<Gate>,
    timeout: Duration,
    base_url: String,
    key: Secret,
}

impl Pexels {
    /// An adapter for the API at `base_url` with `key`.
    pub fn new(
        client: HttpClient,
        gate: Arc<Gate>,
        timeout: Duration,
        base_url: String,
        key: Secret,
    ) -> Pexels {
        Pexels {
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
    #[serde(default)]
    videos: Vec<Value>,
    next_page: Option<String>,
}

#[derive(Deserialize)]
struct Video {
    id: u64,
    width: Option<u32>,
    height: Option<u32>,
    duration: Option<f64>,
    url: Option<String>,
    user: Option<User>,
    #[serde(default)]
    video_files: Vec<Value>,
    #[serde(default)]
    tags: Vec<Value>,
}

#[derive(Deserialize)]
struct User {
    name: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize, Debug, Clone)]
pub(crate) struct VideoFile {
    quality: Option<String>,
    file_type: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    fps: Option<f64>,
    link: Option<String>,
}

impl Source for Pexels {
    fn kind(&self) -> SourceKind {
        SourceKind::Pexels
    }

    fn search<'a>(
        &'a self,
        query: &'a SearchQuery,
    ) -> BoxFuture<'a, Result<SearchPage, SourceError>> {
        Box::pin(async move {
            let host = host_of(&self.base_url);
            let mut key =
                HeaderValue::from_str(self.key.expose()).map_err(|_| SourceError::Status {
                    host: host.clone(),
                    status: 401,
                    detail: "the API key contains characters a header cannot carry".into(),
                    retry_after: None,
                })?;
            key.set_sensitive(true);
            let mut params = vec![
                ("query", query.theme.clone()),
                ("page", query.page.to_string()),
                (
                    "per_page",
                    query.per_page.clamp(1, MAX_PER_PAGE).to_string(),
                ),
            ];
            if let Some(o) = query.options.orientation {
                params.push(("orientation", o.as_str().to_string()));
            }
            let request = self
                .client
                .get(format!("{}/videos/search", self.base_url))
                .header(AUTHORIZATION, key)
                .query(&params);
            let page: Page =
                get_json(&self.client, &self.gate, request, &host, self.timeout).await?;
            let mut result = SearchPage {
                returned: page.videos.len() as u32,
                has_more: page.next_page.is_some(),
                ..Default::default()
            };
            for raw in page.videos {
                result.take(SourceKind::Pexels, raw, &query.options, |video: Video| {
                    to_candidate(video, &query.options)
                });
            }
            Ok(result)
        })
    }
}

/// `Ok(None)` when no rendition fits the job; `Err` when the result is malformed.
fn to_candidate(video: Video, options: &JobOptions) -> Result<Option<Candidate>, Unusable> {
    let files: Vec<VideoFile> = video
        .video_files
        .into_iter()
        .filter_map(|f| serde_json::from_value(f).ok())
        .collect();
    if !files.is_empty()
        && files
            .iter()
            .all(|f| f.link.as_deref().and_then(http_url).is_none())
    {
        return Err(Unusable::NoWebFile {
            id: video.id,
            files: "links",
        });
    }
    let Some(file) = choose_rendition(&files, options) else {
        return Ok(None);
    };
    let Some(url) = file.link.as_deref().and_then(http_url) else {
        return Ok(None);
    };
    let tags = video
        .tags
        .iter()
        .filter_map(|t| {
            t.as_str()
                .map(str::to_string)
                .or_else(|| t.get("name")?.as_str().map(str::to_string))
        })
        .collect();
    let user = video.user;
    Ok(Some(Candidate {
        attribution: Attribution {
            source: SourceKind::Pexels,
            source_id: video.id.to_string(),
            title: page_title(video.url.as_deref())
                .unwrap_or_else(|| format!("Pexels video {}", video.id)),
            page_url: video.url.as_deref().and_then(http_url),
            author_name: user.as_ref().and_then(|u| u.name.clone()),
            author_url: user
                .as_ref()
                .and_then(|u| u.url.as_deref())
                .and_then(http_url),
            license: Some("Pexels License".to_string()),
        },
        tags,
        duration: video.duration.filter(|d| d.is_finite() && *d >= 0.0),
        width: file.width.or(video.width),
        height: file.height.or(video.height),
        fps: file.fps.filter(|f| f.is_finite() && *f > 0.0),
        size: None,
        url,
        mime: file.file_type.clone(),
        checksum: None,
    }))
}

/// The page URL's slug ("sunset-over-the-sea-3015510") as a readable title.
fn page_title(url: Option<&str>) -> Option<String> {
    let slug = url?.trim_end_matches('/').rsplit('/').next()?;
    let words: Vec<&str> = slug
        .split('-')
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Picks the file that best fits the wanted quality and limits; HLS playlists are never chosen.
pub(crate) fn choose_rendition<'a>(
    files: &'a [VideoFile],
    options: &JobOptions,
) -> Option<&'a VideoFile> {
    let usable = files.iter().filter(|f| {
        f.file_type
            .as_deref()
            .is_some_and(|t| t.starts_with("video/"))
            && f.quality.as_deref() != Some("hls")
            && f.link.as_deref().and_then(http_url).is_some()
            && rendition_fits(
                &JobOptions {
                    quality: None,
                    ..options.clone()
                },
                f.width,
                f.height,
                None,
            )
    });
    let area = |f: &&VideoFile| u64::from(f.width.unwrap_or(0)) * u64::from(f.height.unwrap_or(0));
    match options.quality {
        None | Some(Quality::Best) => usable.max_by_key(area),
        Some(wanted) => usable
            .filter(|f| match (f.quality.as_deref(), f.height) {
                (_, Some(h)) => quality_fits(Some(wanted), h),
                (Some(q), None) => q == wanted.as_str(),
                (None, None) => false,
            })
            .max_by_key(area),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(quality: &str, kind: &str, w: Option<u32>, h: Option<u32>) -> VideoFile {
        VideoFile {
            quality: Some(quality.into()),
            file_type: Some(kind.into()),
            width: w,
            height: h,
            fps: Some(25.0),
            link: Some(format!("https://v.example/{quality}.mp4")),
        }
    }

    fn files() -> Vec<VideoFile> {
        vec![
            file("hd", "video/mp4", Some(1920), Some(1080)),
            file("sd", "video/mp4", Some(640), Some(360)),
            file("uhd", "video/mp4", Some(3840), Some(2160)),
            file("hls", "application/x-mpegURL", None, None),
        ]
    }

    #[test]
    fn rendition_follows_the_wanted_quality() {
        let pick = |q: Option<Quality>| {
            let options = JobOptions {
                quality: q,
                ..Default::default()
            };
            choose_rendition(&files(), &options).and_then(|f| f.quality.clone())
        };
        assert_eq!(pick(Some(Quality::Sd)).as_deref(), Some("sd"));
        assert_eq!(pick(Some(Quality::Hd)).as_deref(), Some("hd"));
        assert_eq!(pick(Some(Quality::Uhd)).as_deref(), Some("uhd"));
        assert_eq!(pick(Some(Quality::Best)).as_deref(), Some("uhd"));
    }

    #[test]
    fn hls_is_never_chosen_and_limits_apply() {
        let only_hls = vec![file("hls", "application/x-mpegURL", None, None)];
        assert!(choose_rendition(&only_hls, &JobOptions::default()).is_none());
        let options = JobOptions {
            min_width: Some(4000),
            ..Default::default()
        };
        assert!(choose_rendition(&files(), &options).is_none());
    }

    #[test]
    fn titles_come_from_the_page_slug() {
        assert_eq!(
            page_title(Some(
                "https://www.pexels.com/video/sunset-over-the-sea-3015510/"
            ))
            .as_deref(),
            Some("sunset over the sea")
        );
    }
}
