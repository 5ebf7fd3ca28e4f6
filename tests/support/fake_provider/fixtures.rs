//! The committed fixture videos in `tests/fixtures` ([`fixtures`]) and the videos tests build
//! from them ([`video_from_fixture`]), with the orientation and usual licence of each source.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::{Source, Video};

/// A real video file from `tests/fixtures`, with metadata parsed from its name
/// (`<orientation>_<W>x<H>_<D>s_<FPS>fps.<ext>`).
#[derive(Clone, Debug)]
pub struct Fixture {
    pub path: PathBuf,
    /// File name, e.g. `land_320x180_2s_30fps.mp4`.
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub duration: f64,
    pub fps: f64,
    pub mime: String,
    pub ext: String,
    pub data: Vec<u8>,
}

/// The committed fixture videos, sorted by file name. All are distinct (SHA-256).
pub fn fixtures() -> Vec<Fixture> {
    static CACHE: OnceLock<Vec<Fixture>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("tests")
                .join("fixtures");
            let mut out = Vec::new();
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("read fixtures dir {}: {e}", dir.display()));
            for entry in entries {
                let path = entry.expect("fixture dir entry").path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()).map(String::from) else {
                    continue;
                };
                let Some((stem, ext)) = name.rsplit_once('.') else {
                    continue;
                };
                let (stem, ext) = (stem.to_string(), ext.to_string());
                let mime = match ext.as_str() {
                    "mp4" => "video/mp4",
                    "webm" => "video/webm",
                    _ => continue,
                };
                let parts: Vec<&str> = stem.split('_').collect();
                let parsed = (|| {
                    let [_, dims, dur, fps] = parts.as_slice() else {
                        return None;
                    };
                    let (w, h) = dims.split_once('x')?;
                    Some((
                        w.parse::<u32>().ok()?,
                        h.parse::<u32>().ok()?,
                        dur.strip_suffix('s')?.parse::<f64>().ok()?,
                        fps.strip_suffix("fps")?.parse::<f64>().ok()?,
                    ))
                })();
                let (width, height, duration, fps) = parsed.unwrap_or_else(|| {
                    panic!("fixture {name} is not named <orientation>_<W>x<H>_<D>s_<FPS>fps.<ext>")
                });
                let data = std::fs::read(&path)
                    .unwrap_or_else(|e| panic!("read fixture {}: {e}", path.display()));
                out.push(Fixture {
                    path,
                    name,
                    width,
                    height,
                    duration,
                    fps,
                    mime: mime.to_string(),
                    ext,
                    data,
                });
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            assert!(!out.is_empty(), "no fixtures in {}", dir.display());
            out
        })
        .clone()
}

/// A video built from a fixture (tags: the lower-cased title and the orientation, e.g.
/// `["sunset clip 3", "landscape"]`; author "Fixture Author"; the source's usual licence).
pub fn video_from_fixture(source: Source, id: &str, title: &str, fixture: &Fixture) -> Video {
    let tags = vec![
        title.to_lowercase(),
        orientation(fixture.width, fixture.height).to_string(),
    ];
    Video {
        source,
        id: id.to_string(),
        title: title.to_string(),
        tags,
        width: fixture.width,
        height: fixture.height,
        duration: fixture.duration,
        fps: fixture.fps,
        author: "Fixture Author".to_string(),
        license: default_license(source).to_string(),
        mime: fixture.mime.clone(),
        ext: fixture.ext.clone(),
        data: fixture.data.clone(),
    }
}

/// "landscape", "portrait" or "square".
pub(super) fn orientation(width: u32, height: u32) -> &'static str {
    match width.cmp(&height) {
        std::cmp::Ordering::Greater => "landscape",
        std::cmp::Ordering::Less => "portrait",
        std::cmp::Ordering::Equal => "square",
    }
}

/// The licence a source's videos usually carry.
fn default_license(source: Source) -> &'static str {
    match source {
        Source::Pexels => "Pexels License",
        Source::Pixabay => "Pixabay Content License",
        Source::Wikimedia => "CC BY-SA 4.0",
        Source::Archive => "CC BY 4.0",
    }
}
