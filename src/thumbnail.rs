//! Thumbnails of finished videos, made with ffmpeg: a poster frame (≤ 320 px wide) and a
//! hover-preview sprite (a few frames ≤ 160 px wide, tiled left to right in one image), both
//! JPEG under `<state_dir>/thumbnails/`, named by the download's numeric id only.
//!
//! They are made off the download path (a bounded background task after a download lands, or
//! `vfetchctl thumbnails --missing`): a thumbnail that cannot be made is logged and recorded,
//! never a failed download. ffmpeg runs in its own process group under a timeout, reads only
//! local files of a few container formats (a file that is secretly a playlist cannot make it
//! fetch anything), and writes to a temporary name that is renamed into place.

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::download::DownloadId;
pub use crate::gallery::{ThumbKind, ThumbnailSet as Made, ThumbnailSubject as Subject};
use crate::store::Store;
use crate::subprocess::{first_error_line, run_quiet, RunError};

/// Widest poster, in pixels (narrower videos keep their width).
pub const POSTER_WIDTH: u32 = 320;
/// Widest frame of the sprite, in pixels.
pub const SPRITE_FRAME_WIDTH: u32 = 160;
/// Frames in a sprite, tiled in one row; the client shows frame k at x = k × (width / frames).
pub const SPRITE_FRAMES: u32 = 5;
/// One ffmpeg run longer than this is killed (a thumbnail takes a fraction of a second).
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// Thumbnails made at once, whoever asks: they share two cores with downloads.
const PARALLEL: usize = 2;
/// The directory under the state directory.
const DIR: &str = "thumbnails";
/// Containers ffmpeg may open: the video formats providers serve. Playlists (HLS), concat
/// lists and images are refused, so a hostile file cannot make ffmpeg read other files.
const FORMATS: &str = "mov,matroska,ogg,avi,mpeg,mpegts,flv";
/// The image type of both thumbnails.
pub const CONTENT_TYPE: &str = "image/jpeg";

/// Why a thumbnail could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ThumbnailError {
    /// ffmpeg is not installed (or not at the configured path).
    #[error("ffmpeg not found at {0}")]
    Missing(String),
    /// ffmpeg could not be started or its output not moved into place.
    #[error("cannot make the thumbnail: {0}")]
    Io(io::Error),
    /// ffmpeg hung and was killed.
    #[error("ffmpeg did not finish within {0:?}")]
    Timeout(Duration),
    /// ffmpeg ran and refused; its first line of complaint.
    #[error("ffmpeg: {0}")]
    Failed(String),
}

/// `<state_dir>/thumbnails`.
pub fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join(DIR)
}

/// Where one thumbnail of `download` lives: `<id>.jpg` or `<id>-sprite.jpg`, from the number
/// alone, so nothing a provider sent reaches the name.
pub fn path(state_dir: &Path, download: DownloadId, kind: ThumbKind) -> PathBuf {
    let name = match kind {
        ThumbKind::Poster => format!("{}.jpg", download.0),
        ThumbKind::Sprite => format!("{}-sprite.jpg", download.0),
    };
    dir(state_dir).join(name)
}

/// Removes both thumbnails of `download` (missing files are fine).
pub fn remove(state_dir: &Path, download: DownloadId) {
    for kind in [ThumbKind::Poster, ThumbKind::Sprite] {
        let _ = std::fs::remove_file(path(state_dir, download, kind));
    }
}

/// The poster: the most representative of 25 frames (ffmpeg's `thumbnail` filter) from where
/// it starts, at most [`POSTER_WIDTH`] wide with the aspect kept.
fn poster_filter() -> String {
    format!("[0:v]thumbnail=25,scale='min({POSTER_WIDTH},iw)':-2")
}

/// The sprite: one frame from each of [`SPRITE_FRAMES`] inputs (each seeked to its moment), at
/// most [`SPRITE_FRAME_WIDTH`] wide, side by side.
fn sprite_filter() -> String {
    let mut filter = String::new();
    let mut row = String::new();
    for k in 0..SPRITE_FRAMES {
        filter.push_str(&format!(
            "[{k}:v]scale='min({SPRITE_FRAME_WIDTH},iw)':-2,setsar=1[f{k}];"
        ));
        row.push_str(&format!("[f{k}]"));
    }
    format!("{filter}{row}hstack=inputs={SPRITE_FRAMES}")
}

/// Where each input starts: 10 % in for the poster (the first frame is often black); for the
/// sprite the middle of each of [`SPRITE_FRAMES`] equal slices. Seeking each input, rather than
/// decoding the whole clip to pick frames, keeps a long 4K video as quick as a short one.
fn seeks(kind: ThumbKind, duration: Option<f64>) -> Vec<f64> {
    let d = duration
        .filter(|d| d.is_finite() && *d > 0.0)
        .unwrap_or(0.0);
    match kind {
        ThumbKind::Poster => vec![d * 0.1],
        ThumbKind::Sprite => (0..SPRITE_FRAMES)
            .map(|k| d * (f64::from(k) + 0.5) / f64::from(SPRITE_FRAMES))
            .collect(),
    }
}

/// Makes both thumbnails of `download` from `video` with `ffmpeg`; the sprite only when the
/// duration is known. Each picture is written to a temporary name and renamed into place, so a
/// reader never sees half an image.
pub async fn make(
    ffmpeg: &Path,
    state_dir: &Path,
    download: DownloadId,
    video: &Path,
    duration: Option<f64>,
    timeout: Duration,
) -> Result<Made, ThumbnailError> {
    let directory = dir(state_dir);
    tokio::fs::create_dir_all(&directory)
        .await
        .map_err(ThumbnailError::Io)?;
    // ffmpeg reads "-x" as an option and "a:b" as protocol "a"; "./" makes both plain files.
    let input: OsString = match video.is_relative() {
        true => Path::new(".").join(video).into(),
        false => video.into(),
    };
    let poster = path(state_dir, download, ThumbKind::Poster);
    let run = Run {
        ffmpeg,
        input: &input,
        timeout,
    };
    run.picture(
        &seeks(ThumbKind::Poster, duration),
        &poster_filter(),
        &poster,
    )
    .await?;
    let usable = duration.filter(|d| d.is_finite() && *d > 0.0);
    let sprite_frames = match usable {
        Some(_) => {
            let sprite = path(state_dir, download, ThumbKind::Sprite);
            run.picture(&seeks(ThumbKind::Sprite, usable), &sprite_filter(), &sprite)
                .await?;
            Some(SPRITE_FRAMES)
        }
        None => None,
    };
    Ok(Made {
        poster: true,
        sprite_frames,
    })
}

/// One video's ffmpeg runs.
struct Run<'a> {
    ffmpeg: &'a Path,
    input: &'a OsString,
    timeout: Duration,
}

impl Run<'_> {
    /// Makes one JPEG at `target` from the video opened once per seek, through `filter`,
    /// atomically.
    async fn picture(
        &self,
        seeks: &[f64],
        filter: &str,
        target: &Path,
    ) -> Result<(), ThumbnailError> {
        let temporary = target.with_extension(format!("jpg.{}.tmp", std::process::id()));
        let mut command = tokio::process::Command::new(self.ffmpeg);
        command.args(["-v", "error", "-nostdin", "-y"]);
        for at in seeks {
            // Input options apply to the next input only, so every input gets the whitelists.
            command
                .args(["-protocol_whitelist", "file", "-format_whitelist", FORMATS])
                .args(["-ss", &format!("{at:.3}")])
                .arg("-i")
                .arg(self.input);
        }
        command
            .args(["-filter_complex", filter])
            .args(["-an", "-sn", "-dn", "-frames:v", "1"])
            .args(["-q:v", "5", "-f", "mjpeg"])
            .arg(&temporary);
        let outcome = run_quiet(command, self.timeout).await;
        let result = match outcome {
            Err(RunError::Spawn(e)) if e.kind() == io::ErrorKind::NotFound => {
                Err(ThumbnailError::Missing(self.ffmpeg.display().to_string()))
            }
            Err(RunError::Spawn(e)) => Err(ThumbnailError::Io(e)),
            Err(RunError::Timeout(d)) => Err(ThumbnailError::Timeout(d)),
            Ok((status, stderr)) if !status.success() => {
                let line = first_error_line(&stderr, &self.input.to_string_lossy());
                Err(ThumbnailError::Failed(
                    line.unwrap_or_else(|| format!("exited with {status}")),
                ))
            }
            // ffmpeg can succeed without a frame (a stream it cannot decode): no empty images.
            Ok(_) => match tokio::fs::metadata(&temporary).await {
                Ok(meta) if meta.len() > 0 => tokio::fs::rename(&temporary, target)
                    .await
                    .map_err(ThumbnailError::Io),
                _ => Err(ThumbnailError::Failed("no frame could be decoded".into())),
            },
        };
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temporary).await;
        }
        result
    }
}

/// Whether something of `subject`'s is missing: never tried, failed, a sprite never made for
/// a clip whose length is now known, or a recorded file gone from disk.
pub fn is_missing(state_dir: &Path, subject: &Subject) -> bool {
    let exists = |kind| path(state_dir, subject.download, kind).is_file();
    match subject.recorded {
        None => true,
        Some(made) => {
            let sprite_wanted = subject.duration.is_some_and(|d| d > 0.0);
            !made.poster
                || !exists(ThumbKind::Poster)
                || (sprite_wanted && made.sprite_frames.is_none())
                || (made.sprite_frames.is_some() && !exists(ThumbKind::Sprite))
        }
    }
}

/// Makes thumbnails and records the outcome, at most [`PARALLEL`] at once across every
/// caller; cheap to clone.
#[derive(Clone)]
pub struct Thumbnailer {
    store: Store,
    permits: Arc<Semaphore>,
}

impl fmt::Debug for Thumbnailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Thumbnailer").finish_non_exhaustive()
    }
}

impl Thumbnailer {
    /// A thumbnailer that records what it made in `store`.
    pub fn new(store: Store) -> Thumbnailer {
        Thumbnailer {
            store,
            permits: Arc::new(Semaphore::new(PARALLEL)),
        }
    }

    /// Makes `subject`'s thumbnails with `ffmpeg` under `state_dir` once a slot is free, and
    /// records what exists (or why nothing does). A failure is logged here; the caller only
    /// counts it.
    pub async fn make(
        &self,
        ffmpeg: &Path,
        state_dir: &Path,
        subject: &Subject,
    ) -> Result<Made, ThumbnailError> {
        // The semaphore is never closed, so acquiring only waits.
        let _permit = self.permits.acquire().await.ok();
        let id = subject.download;
        let made = make(
            ffmpeg,
            state_dir,
            id,
            &subject.video,
            subject.duration,
            TIMEOUT,
        )
        .await;
        let record = match &made {
            Ok(made) => Ok(*made),
            Err(e) => {
                tracing::warn!(download = %id, error = %e, "cannot make thumbnails");
                // A failure leaves no half set behind: the gallery shows all or nothing.
                remove(state_dir, id);
                Err(e.to_string())
            }
        };
        if let Err(e) = self.store.record_thumbnails(id, record).await {
            tracing::warn!(download = %id, error = %e, "cannot record thumbnails");
        }
        made
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_id_alone() {
        let state = Path::new("/var/lib/vfetchd");
        assert_eq!(
            path(state, DownloadId(42), ThumbKind::Poster),
            Path::new("/var/lib/vfetchd/thumbnails/42.jpg")
        );
        assert_eq!(
            path(state, DownloadId(42), ThumbKind::Sprite),
            Path::new("/var/lib/vfetchd/thumbnails/42-sprite.jpg")
        );
    }

    #[test]
    fn pictures_come_from_inside_the_clip() {
        assert_eq!(seeks(ThumbKind::Poster, Some(10.0)), vec![1.0]);
        assert_eq!(
            seeks(ThumbKind::Sprite, Some(10.0)),
            vec![1.0, 3.0, 5.0, 7.0, 9.0]
        );
        assert_eq!(seeks(ThumbKind::Poster, None), vec![0.0]);
        assert_eq!(seeks(ThumbKind::Poster, Some(f64::NAN)), vec![0.0]);
        assert!(sprite_filter().ends_with("[f0][f1][f2][f3][f4]hstack=inputs=5"));
    }

    /// A real clip made by ffmpeg; panics rather than skips without it, as CI installs it.
    fn clip(at: &Path, size: &str) -> PathBuf {
        let out = at.join("clip.mp4");
        let status = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("testsrc2=size={size}:rate=10:duration=2"))
            .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
            .arg(&out)
            .status()
            .expect("ffmpeg must be installed to run the thumbnail tests");
        assert!(status.success());
        out
    }

    /// Width and height from a baseline JPEG's SOF0 marker.
    fn jpeg_size(data: &[u8]) -> (u32, u32) {
        assert_eq!(&data[..2], &[0xFF, 0xD8], "not a JPEG");
        let mut i = 2;
        while i + 9 < data.len() {
            let (marker, len) = (data[i + 1], u16::from_be_bytes([data[i + 2], data[i + 3]]));
            if (0xC0..=0xC2).contains(&marker) {
                let h = u16::from_be_bytes([data[i + 5], data[i + 6]]);
                let w = u16::from_be_bytes([data[i + 7], data[i + 8]]);
                return (u32::from(w), u32::from(h));
            }
            i += 2 + usize::from(len);
        }
        panic!("no frame header");
    }

    #[tokio::test]
    async fn a_wide_clip_gets_a_scaled_poster_and_a_sprite() {
        let tmp = tempfile::tempdir().unwrap();
        let video = clip(tmp.path(), "640x360");
        let state = tmp.path().join("state");
        let id = DownloadId(7);
        let made = make(Path::new("ffmpeg"), &state, id, &video, Some(2.0), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(
            made,
            Made {
                poster: true,
                sprite_frames: Some(SPRITE_FRAMES)
            }
        );
        let poster = std::fs::read(path(&state, id, ThumbKind::Poster)).unwrap();
        assert_eq!(jpeg_size(&poster), (320, 180));
        let sprite = std::fs::read(path(&state, id, ThumbKind::Sprite)).unwrap();
        assert_eq!(jpeg_size(&sprite), (5 * 160, 90));
        // Only the two images are left: no temporary files.
        assert_eq!(std::fs::read_dir(dir(&state)).unwrap().count(), 2);

        // Without a duration there is a poster but no sprite.
        let made = make(
            Path::new("ffmpeg"),
            &state,
            DownloadId(8),
            &video,
            None,
            TIMEOUT,
        )
        .await
        .unwrap();
        assert_eq!(made.sprite_frames, None);
    }

    #[tokio::test]
    async fn a_file_that_is_no_video_and_a_missing_ffmpeg_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let state = tmp.path().join("state");
        let page = tmp.path().join("page.mp4");
        std::fs::write(&page, "#EXTM3U\nhttp://127.0.0.1:9/x.ts\n").unwrap();
        let id = DownloadId(1);
        let err = make(Path::new("ffmpeg"), &state, id, &page, Some(1.0), TIMEOUT)
            .await
            .unwrap_err();
        assert!(matches!(err, ThumbnailError::Failed(_)), "{err:?}");
        assert!(!path(&state, id, ThumbKind::Poster).exists());
        assert_eq!(std::fs::read_dir(dir(&state)).unwrap().count(), 0);
        let nowhere = Path::new("/nonexistent/ffmpeg");
        let err = make(nowhere, &state, id, &page, Some(1.0), TIMEOUT)
            .await
            .unwrap_err();
        assert!(matches!(err, ThumbnailError::Missing(_)), "{err:?}");
    }
}
