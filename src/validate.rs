//! Validates finished downloads with `ffprobe`, so a truncated file, an HTML error page or a
//! thumbnail served in place of a video never enters the library as if it were a good clip.
//!
//! ffprobe is optional (`validate = "auto"`): without it downloads are kept but marked not
//! validated. Probes run through `tokio::process` under a timeout, so a hung ffprobe stalls
//! neither the runtime nor a worker.

use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::job::InvalidInput;
use crate::subprocess::{first_error_line, read_capped, ProcessGroup};

/// How long one probe may take before ffprobe is killed.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const PROBE_ARGS: &str = "-v error -print_format json -show_format -show_streams";
/// Real probe output is a few KiB; the caps keep memory bounded whatever the file is.
const STDOUT_CAP: u64 = 4 << 20;
const STDERR_CAP: u64 = 64 << 10;

/// How strictly downloads are validated (config key `validate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidateMode {
    /// Never run ffprobe.
    Off,
    /// Validate if ffprobe exists, else mark downloads "not validated".
    Auto,
    /// A missing ffprobe is an error.
    Require,
}

impl ValidateMode {
    /// The config spelling of this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidateMode::Off => "off",
            ValidateMode::Auto => "auto",
            ValidateMode::Require => "require",
        }
    }
}

impl std::str::FromStr for ValidateMode {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(ValidateMode::Off),
            "auto" => Ok(ValidateMode::Auto),
            "require" => Ok(ValidateMode::Require),
            _ => Err(InvalidInput(format!(
                "unknown validate mode {s:?}: expected one of off, auto, require"
            ))),
        }
    }
}

/// What ffprobe found in a file: the store's [`VideoFacts`], under the name this module uses.
pub use crate::download::VideoFacts as ProbeSummary;

/// The verdict on one file.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A playable video, with what ffprobe saw.
    Valid(ProbeSummary),
    /// Not a usable video; a one-line human reason.
    Invalid(String),
    /// The file was not checked; why not.
    NotValidated(String),
}

/// Whether and how finished files are checked, as `status` reports it: a state with its detail
/// beside it, so no reader takes a sentence apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValidatorStatus {
    /// ffprobe is found and used.
    Ffprobe {
        /// What `ffprobe -version` said, when it said.
        version: Option<String>,
        path: String,
    },
    /// Validation is switched off in config.
    Off,
    /// ffprobe is missing; files are kept unchecked.
    NotValidated { reason: String },
    /// ffprobe is required but unusable.
    Error { reason: String },
}

/// One line for people: "ffprobe 6.0 at /usr/bin/ffprobe", "off", "not validated: …",
/// "error: …".
impl std::fmt::Display for ValidatorStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValidatorStatus::Ffprobe { version, path } => {
                let version = version.as_deref().unwrap_or("(unknown version)");
                write!(f, "ffprobe {version} at {path}")
            }
            ValidatorStatus::Off => f.write_str("off"),
            ValidatorStatus::NotValidated { reason } => write!(f, "not validated: {reason}"),
            ValidatorStatus::Error { reason } => write!(f, "error: {reason}"),
        }
    }
}

/// Why a file could not be probed at all (as opposed to probed and found bad).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// ffprobe is missing although the config requires it.
    #[error("ffprobe is required (validate = \"require\") but was not found at {0}")]
    Missing(String),
    /// ffprobe exists but could not be started or read.
    #[error("cannot run ffprobe: {0}")]
    Spawn(io::Error),
    /// ffprobe hung and was killed.
    #[error("ffprobe did not finish within {0:?}")]
    Timeout(Duration),
}

/// Runs ffprobe on finished downloads.
#[derive(Debug, Clone)]
pub struct Validator {
    mode: ValidateMode,
    ffprobe: PathBuf,
    timeout: Duration,
    /// Shared by clones so the availability check and the "missing" warning happen once.
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// `Some((resolved path, version))` when ffprobe runs, `None` when it is missing.
    found: OnceLock<Option<(PathBuf, Option<String>)>>,
    warned: AtomicBool,
}

impl Validator {
    /// A validator using `ffprobe`, a bare name looked up on PATH or a path.
    pub fn new(mode: ValidateMode, ffprobe: PathBuf) -> Validator {
        let (timeout, shared) = (DEFAULT_TIMEOUT, Arc::default());
        Validator {
            mode,
            ffprobe,
            timeout,
            shared,
        }
    }

    /// How strictly this validator checks files.
    pub fn mode(&self) -> ValidateMode {
        self.mode
    }

    /// The same validator with a different per-file timeout.
    pub fn with_timeout(self, timeout: Duration) -> Validator {
        Validator { timeout, ..self }
    }

    /// Whether ffprobe can be run (checked once, cached): Ok(true) available, Ok(false)
    /// missing in Auto (or mode Off), Err(Missing) in Require.
    ///
    /// The first call runs `ffprobe -version` synchronously (for at most a few seconds), so
    /// call it at startup rather than from a busy async task.
    pub fn check(&self) -> Result<bool, ValidateError> {
        if self.mode == ValidateMode::Off {
            return Ok(false);
        }
        let found = match self.shared.found.get() {
            Some(found) => found,
            // `?` before caching: spawn errors other than NotFound may be transient (EMFILE).
            None => {
                let probed = self.run_version()?;
                self.shared.found.get_or_init(|| probed)
            }
        };
        match found {
            Some(_) => Ok(true),
            None => self.missing().map(|_| false),
        }
    }

    /// Whether and how files are checked, for `status`.
    pub fn status(&self) -> ValidatorStatus {
        if self.mode == ValidateMode::Off {
            return ValidatorStatus::Off;
        }
        match (self.check(), self.shared.found.get()) {
            (Err(e), _) => ValidatorStatus::Error {
                reason: e.to_string(),
            },
            (Ok(true), Some(Some((path, version)))) => ValidatorStatus::Ffprobe {
                version: version.clone(),
                path: path.display().to_string(),
            },
            _ => ValidatorStatus::NotValidated {
                reason: format!("ffprobe not found ({})", self.ffprobe.display()),
            },
        }
    }

    /// [`Validator::status`] in one line, for the log: "ffprobe 6.0 at /usr/bin/ffprobe",
    /// "off", "not validated: ffprobe not found (…)".
    pub fn describe(&self) -> String {
        self.status().to_string()
    }

    /// Probes one file with `ffprobe -show_format -show_streams`, killing it on timeout.
    pub async fn validate(&self, path: &Path) -> Result<Verdict, ValidateError> {
        if self.mode == ValidateMode::Off {
            return Ok(Verdict::NotValidated("validation is off".to_string()));
        }
        if let Some(None) = self.shared.found.get() {
            return self.missing();
        }
        // ffprobe reads "-x" as an option and "a:b" as protocol "a"; "./" makes both plain files.
        let arg: OsString = match path.is_relative() {
            true => Path::new(".").join(path).into(),
            false => path.into(),
        };
        let mut child = match tokio::process::Command::new(&self.ffprobe)
            .args(PROBE_ARGS.split(' '))
            .arg(&arg)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a wrapper script's children are killed with it.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let _ = self.shared.found.set(None);
                return self.missing();
            }
            Err(e) => return Err(ValidateError::Spawn(e)),
        };
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        // Declared after `child`, so it is dropped first: while the leader is not yet reaped its
        // group id cannot have been reused, and a probe abandoned mid-run (pause, shutdown)
        // takes its whole group down.
        let mut group = ProcessGroup(child.id());
        let run = async {
            let out = read_capped(stdout, STDOUT_CAP);
            let (out, err) = tokio::try_join!(out, read_capped(stderr, STDERR_CAP))?;
            Ok::<_, io::Error>((child.wait().await?, out, err))
        };
        let Ok(finished) = tokio::time::timeout(self.timeout, run).await else {
            // kill_on_drop would do this too; killing now frees the file before we return.
            group.kill();
            let _ = child.start_kill();
            return Err(ValidateError::Timeout(self.timeout));
        };
        // The leader was reaped: its id may be reused from now on, so never signal it again.
        group.0 = None;
        let (status, (out, truncated), (err, _)) = finished.map_err(ValidateError::Spawn)?;
        if !status.success() {
            let line = first_error_line(&err, &arg.to_string_lossy());
            let line = line.unwrap_or_else(|| format!("exited with {status}"));
            return Ok(Verdict::Invalid(format!("ffprobe: {line}")));
        }
        Ok(match truncated {
            true => Verdict::Invalid(format!("ffprobe printed over {} MiB", STDOUT_CAP >> 20)),
            false => verdict_from_json(&out),
        })
    }

    /// Missing ffprobe: an error in Require mode, otherwise a one-time warning and a skip.
    fn missing(&self) -> Result<Verdict, ValidateError> {
        let at = self.ffprobe.display().to_string();
        if self.mode == ValidateMode::Require {
            return Err(ValidateError::Missing(at));
        }
        if !self.shared.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(ffprobe = %at, "ffprobe not found; downloads will be marked not validated");
        }
        Ok(Verdict::NotValidated(format!("ffprobe not found at {at}")))
    }

    /// Runs `ffprobe -version`: `None` if ffprobe is missing, else where it is and its version.
    fn run_version(&self) -> Result<Option<(PathBuf, Option<String>)>, ValidateError> {
        let mut child = match std::process::Command::new(&self.ffprobe)
            .arg("-version")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ValidateError::Spawn(e)),
        };
        // std has no wait-with-timeout; polling keeps a wedged binary from hanging startup. The
        // banner is ~2 KiB, well under a pipe buffer, so ffprobe never blocks writing it.
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill(); // a no-op if it has exited; the wait below reaps it either way
        let _ = child.wait();
        let mut banner = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = out.take(64 << 10).read_to_string(&mut banner);
        }
        // "ffprobe version 6.0 Copyright ..." → "6.0"
        let mut words = banner.split_whitespace().skip_while(|w| *w != "version");
        let version = words.nth(1).map(str::to_string);
        Ok(Some((locate(&self.ffprobe), version)))
    }
}

/// Where a bare program name resolves on PATH, for display; paths are shown as given.
fn locate(program: &Path) -> PathBuf {
    let bare = program.components().count() == 1 && program.is_relative();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut candidates = std::env::split_paths(&path).map(|dir| dir.join(program));
    let found = candidates.find(|p| bare && p.is_file());
    found.unwrap_or_else(|| program.to_path_buf())
}

/// Parses ffprobe's JSON output into a verdict (pure; unit-tested without ffprobe).
pub fn verdict_from_json(json: &[u8]) -> Verdict {
    let invalid = |reason: String| Verdict::Invalid(reason);
    let root: Value = match serde_json::from_slice(json) {
        Ok(root) => root,
        Err(e) => return invalid(format!("ffprobe output is not JSON: {e}")),
    };
    let format = &root["format"];
    let no_streams = Vec::new();
    let streams = root["streams"].as_array().unwrap_or(&no_streams);
    let of_type = |s: &Value, kind: &str| s["codec_type"].as_str() == Some(kind);
    // Cover art in an audio file is reported as a video stream; it is not a video.
    let cover_art = |s: &Value| s["disposition"]["attached_pic"].as_u64() == Some(1);
    let is_video = |s: &&Value| of_type(s, "video") && !cover_art(s);
    let Some(video) = streams.iter().find(is_video) else {
        return invalid("no video stream".to_string());
    };
    let format_name = format["format_name"].as_str().unwrap_or_default();
    // image2 gives a lone JPEG a nominal 0.04 s duration, so the duration rule can't catch it.
    if format_name == "image2" || format_name.ends_with("_pipe") {
        return invalid(format!("still image ({format_name}), not a video"));
    }
    let (width, height) = (pixels(&video["width"]), pixels(&video["height"]));
    if width == 0 || height == 0 {
        return invalid(format!("video frame size is {width}x{height}"));
    }
    let duration = match number(&format["duration"]).or_else(|| number(&video["duration"])) {
        None => return invalid("missing duration".to_string()),
        Some(0.0) => return invalid("zero duration".to_string()),
        Some(d) if !(d > 0.0 && d.is_finite()) => return invalid(format!("invalid duration {d}")),
        Some(d) => d,
    };
    Verdict::Valid(ProbeSummary {
        format: format_name.to_string(),
        codec: video["codec_name"].as_str().unwrap_or("unknown").into(),
        width,
        height,
        fps: frame_rate(&video["avg_frame_rate"]).or_else(|| frame_rate(&video["r_frame_rate"])),
        bitrate: format["bit_rate"].as_str().and_then(|s| s.parse().ok()),
        duration,
        has_audio: streams.iter().any(|s| of_type(s, "audio")),
    })
}

/// A frame dimension; absent or absurd sizes count as 0, which is rejected.
fn pixels(v: &Value) -> u32 {
    v.as_u64().and_then(|n| n.try_into().ok()).unwrap_or(0)
}

/// ffprobe prints numbers such as durations as strings ("1.000000").
fn number(v: &Value) -> Option<f64> {
    v.as_str()?.trim().parse().ok()
}

/// "30000/1001" → 29.97; "0/0" (unknown) → None.
fn frame_rate(v: &Value) -> Option<f64> {
    let (num, den) = v.as_str()?.split_once('/')?;
    let rate = num.trim().parse::<f64>().ok()? / den.trim().parse::<f64>().ok()?;
    (rate.is_finite() && rate > 0.0).then_some(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE_SECOND: &str = r#", "duration": "1""#;

    /// A one-video-stream probe result with extra stream and format fields spliced in.
    fn probe(stream: &str, format: &str) -> Verdict {
        let json = format!(
            r#"{{"streams": [{{"codec_type": "video", "codec_name": "h264", "width": 1920,
            "height": 1080 {stream}}}], "format": {{"format_name": "mov,mp4" {format}}}}}"#
        );
        verdict_from_json(json.as_bytes())
    }

    fn summary(verdict: Verdict) -> ProbeSummary {
        match verdict {
            Verdict::Valid(summary) => summary,
            other => panic!("expected Valid, got {other:?}"),
        }
    }

    fn reason(verdict: Verdict) -> String {
        match verdict {
            Verdict::Invalid(reason) => reason,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn h264_with_audio_is_valid() {
        let json = br#"{"streams": [
            {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080,
             "avg_frame_rate": "25/1", "duration": "12.000000"},
            {"codec_type": "audio", "codec_name": "aac", "duration": "12.010000"}],
            "format": {"format_name": "mov,mp4", "duration": "12.010000", "bit_rate": "5123456"}}"#;
        let s = summary(verdict_from_json(json));
        assert_eq!((s.format.as_str(), s.codec.as_str()), ("mov,mp4", "h264"));
        assert_eq!((s.width, s.height, s.fps), (1920, 1080, Some(25.0)));
        assert_eq!(
            (s.bitrate, s.duration, s.has_audio),
            (Some(5_123_456), 12.01, true)
        );
    }

    #[test]
    fn bad_probes_are_invalid() {
        let bad = |stream, format| reason(probe(stream, format));
        assert_eq!(bad("", r#", "duration": "0.000""#), "zero duration");
        assert_eq!(bad("", ""), "missing duration");
        assert_eq!(bad("", r#", "duration": "-3""#), "invalid duration -3");
        assert_eq!(bad("", r#", "duration": "nan""#), "invalid duration NaN");
        assert_eq!(
            bad(r#", "width": 0"#, ONE_SECOND),
            "video frame size is 0x1080"
        );
        let audio = br#"{"streams": [{"codec_type": "audio"}, {"codec_type": "video",
            "width": 500, "height": 500, "disposition": {"attached_pic": 1}}],
            "format": {"format_name": "mp3", "duration": "200.0"}}"#;
        assert_eq!(reason(verdict_from_json(audio)), "no video stream");
        assert!(reason(verdict_from_json(b"<html>")).starts_with("ffprobe output is not JSON"));
        // Without a format duration the video stream's own duration counts.
        assert_eq!(summary(probe(r#", "duration": "4.5""#, "")).duration, 4.5);
    }

    #[test]
    fn frame_rates_and_modes_parse() {
        let fps = |rates: &str| summary(probe(rates, ONE_SECOND)).fps;
        let ntsc = fps(r#", "avg_frame_rate": "30000/1001""#).unwrap_or_default();
        assert!((ntsc - 29.97).abs() < 0.001, "{ntsc}");
        assert_eq!(fps(r#", "avg_frame_rate": "0/0""#), None);
        let fallback = fps(r#", "avg_frame_rate": "0/0", "r_frame_rate": "24/1""#);
        assert_eq!(fallback, Some(24.0));
        assert_eq!("require".parse::<ValidateMode>(), Ok(ValidateMode::Require));
        let err = "strict".parse::<ValidateMode>().unwrap_err().to_string();
        assert!(err.contains("off, auto, require"), "{err}");
    }

    /// Runs ffmpeg in `dir`; panics rather than skips without it, because CI installs it.
    fn ffmpeg(dir: &Path, args: &str) {
        let status = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .args(args.split(' '))
            .current_dir(dir)
            .status()
            .expect("ffmpeg must be installed to run the validate tests");
        assert!(status.success(), "ffmpeg {args} failed: {status}");
    }

    #[tokio::test]
    async fn real_files_are_probed() {
        let dir = tempfile::tempdir().unwrap();
        let video = "testsrc2=size=160x90:rate=10:duration=1 -c:v libx264 -pix_fmt yuv420p";
        ffmpeg(dir.path(), &format!("{video} out.mp4"));
        ffmpeg(dir.path(), "testsrc2=size=160x90 -frames:v 1 still.jpg");
        let noise = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8);
        std::fs::write(dir.path().join("noise.mp4"), noise.collect::<Vec<_>>()).unwrap();
        std::fs::write(dir.path().join("page.txt"), "<html>Rate limited</html>\n").unwrap();
        let validator = Validator::new(ValidateMode::Require, "ffprobe".into());
        assert!(validator.check().unwrap());
        let status = validator.status();
        assert!(
            matches!(&status, ValidatorStatus::Ffprobe { path, .. } if path.starts_with('/')),
            "{status:?}"
        );
        let line = validator.describe();
        assert!(
            line.starts_with("ffprobe ") && line.contains(" at /"),
            "{line}"
        );
        let file = |name: &str| dir.path().join(name);

        let s = summary(validator.validate(&file("out.mp4")).await.unwrap());
        assert_eq!(
            (s.codec.as_str(), s.width, s.height, s.fps),
            ("h264", 160, 90, Some(10.0))
        );
        assert!((s.duration - 1.0).abs() < 0.05 && !s.has_audio, "{s:?}");
        assert_eq!(
            reason(validator.validate(&file("noise.mp4")).await.unwrap()),
            "ffprobe: moov atom not found"
        );
        let page = reason(validator.validate(&file("page.txt")).await.unwrap());
        assert_eq!(page, "ffprobe: Invalid data found when processing input");
        let still = reason(validator.validate(&file("still.jpg")).await.unwrap());
        assert_eq!(still, "still image (image2), not a video");
        // A relative name that looks like an option still reaches ffprobe as a file name.
        let dash = reason(validator.validate(Path::new("-v")).await.unwrap());
        assert_eq!(dash, "ffprobe: No such file or directory");
    }

    #[tokio::test]
    async fn missing_ffprobe_depends_on_mode() {
        let (file, nowhere) = (Path::new("/nonexistent/clip.mp4"), "/nonexistent/ffprobe");
        let auto = Validator::new(ValidateMode::Auto, nowhere.into());
        assert!(!auto.check().unwrap());
        let skipped = Verdict::NotValidated(format!("ffprobe not found at {nowhere}"));
        assert_eq!(auto.clone().validate(file).await.unwrap(), skipped);
        let status = auto.status();
        assert_eq!(
            status,
            ValidatorStatus::NotValidated {
                reason: format!("ffprobe not found ({nowhere})")
            }
        );
        assert!(
            auto.describe()
                .starts_with("not validated: ffprobe not found"),
            "{status}"
        );

        let require = Validator::new(ValidateMode::Require, nowhere.into());
        let error = require.validate(file).await;
        assert!(matches!(error, Err(ValidateError::Missing(_))), "{error:?}");
        assert!(matches!(require.check(), Err(ValidateError::Missing(_))));

        let off = Validator::new(ValidateMode::Off, nowhere.into());
        let off_verdict = Verdict::NotValidated("validation is off".into());
        assert_eq!(off.validate(file).await.unwrap(), off_verdict);
        assert_eq!(off.status(), ValidatorStatus::Off);
        assert_eq!(off.describe(), "off");
    }

    #[tokio::test]
    async fn hung_ffprobe_is_killed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("ffprobe");
        std::fs::write(&script, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let timeout = Duration::from_millis(300);
        let validator = Validator::new(ValidateMode::Require, script).with_timeout(timeout);
        // exec fails with ETXTBSY while another test's fork still holds the script open for
        // writing; retry rather than flake.
        for _ in 0..20 {
            match validator.validate(Path::new("x.mp4")).await {
                Err(ValidateError::Spawn(e)) if e.raw_os_error() == Some(26) => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(ValidateError::Timeout(d)) => return assert_eq!(d, timeout),
                other => panic!("expected Timeout, got {other:?}"),
            }
        }
        panic!("the fake ffprobe stayed busy");
    }
}
