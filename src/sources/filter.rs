//! The job's filters, applied to every candidate before anything is downloaded.

use crate::candidate::Candidate;
use crate::job::{JobOptions, Quality};

/// The quality class a frame height falls in (best is not a class).
pub fn class_of(height: u32) -> Quality {
    match height {
        0..720 => Quality::Sd,
        720..2160 => Quality::Hd,
        _ => Quality::Uhd,
    }
}

/// Whether a rendition of this height satisfies the wanted quality (`None` and best take any).
pub fn quality_fits(wanted: Option<Quality>, height: u32) -> bool {
    match wanted {
        None | Some(Quality::Best) => true,
        Some(q) => class_of(height) == q,
    }
}

/// Whether a rendition meets the job's size limits (unknown values pass; validation checks later).
pub fn rendition_fits(
    options: &JobOptions,
    width: Option<u32>,
    height: Option<u32>,
    size: Option<u64>,
) -> bool {
    let min_w = options
        .min_width
        .is_none_or(|m| width.is_none_or(|w| w >= m));
    let min_h = options
        .min_height
        .is_none_or(|m| height.is_none_or(|h| h >= m));
    let max_size = options
        .max_file_size_mb
        .is_none_or(|mb| size.is_none_or(|s| s <= mb.saturating_mul(1 << 20)));
    let quality = height.is_none_or(|h| quality_fits(options.quality, h));
    min_w && min_h && max_size && quality
}

/// Why a candidate does not match the job, or `None` when it does.
pub fn rejection(candidate: &Candidate, options: &JobOptions) -> Option<String> {
    if let (Some(orientation), Some(w), Some(h)) =
        (options.orientation, candidate.width, candidate.height)
    {
        if !orientation.matches(w, h) {
            return Some(format!("{w}x{h} is not {orientation}"));
        }
    }
    // A negative, NaN or infinite claim is no length at all (sources already turn one into
    // `None`): it cannot prove a minimum, so a minimum-duration filter rejects it.
    let duration = candidate.duration.filter(|d| d.is_finite() && *d >= 0.0);
    if let Some(min) = options.min_duration {
        match duration {
            None => return Some("no usable duration to compare with the minimum".to_string()),
            Some(d) if d < f64::from(min) => {
                return Some(format!("{d:.1}s is shorter than the minimum"))
            }
            Some(_) => {}
        }
    }
    if let (Some(max), Some(claimed)) = (options.max_duration, candidate.duration) {
        // No claim may be a short clip; a claim that is not a length is not trusted either way.
        if duration.is_none_or(|d| d > f64::from(max)) {
            return Some(format!("{claimed:.1}s is longer than the maximum"));
        }
    }
    if !rendition_fits(options, candidate.width, candidate.height, candidate.size) {
        return Some("size, resolution or quality outside the job's limits".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::Attribution;
    use crate::job::Orientation;
    use crate::source_kind::SourceKind;

    fn video(width: u32, height: u32, duration: f64, size: u64) -> Candidate {
        Candidate {
            attribution: Attribution {
                source: SourceKind::Wikimedia,
                source_id: "x".into(),
                title: "x".into(),
                page_url: None,
                author_name: None,
                author_url: None,
                license: None,
            },
            tags: vec![],
            duration: Some(duration),
            width: Some(width),
            height: Some(height),
            fps: None,
            size: Some(size),
            url: "https://x/y.webm".into(),
            mime: None,
            checksum: None,
        }
    }

    #[test]
    fn each_filter_rejects_what_it_should() {
        let v = video(1920, 1080, 10.0, 5 << 20);
        let ok = JobOptions::default();
        assert_eq!(rejection(&v, &ok), None);
        let cases = [
            JobOptions {
                orientation: Some(Orientation::Portrait),
                ..Default::default()
            },
            JobOptions {
                min_duration: Some(11),
                ..Default::default()
            },
            JobOptions {
                max_duration: Some(9),
                ..Default::default()
            },
            JobOptions {
                min_width: Some(1921),
                ..Default::default()
            },
            JobOptions {
                min_height: Some(1081),
                ..Default::default()
            },
            JobOptions {
                max_file_size_mb: Some(4),
                ..Default::default()
            },
            JobOptions {
                quality: Some(Quality::Uhd),
                ..Default::default()
            },
            JobOptions {
                quality: Some(Quality::Sd),
                ..Default::default()
            },
        ];
        for options in cases {
            assert!(
                rejection(&v, &options).is_some(),
                "{options:?} should reject {v:?}"
            );
        }
        let fits = JobOptions {
            orientation: Some(Orientation::Landscape),
            min_duration: Some(10),
            max_duration: Some(10),
            min_width: Some(1920),
            min_height: Some(1080),
            max_file_size_mb: Some(5),
            quality: Some(Quality::Hd),
            ..Default::default()
        };
        assert_eq!(rejection(&v, &fits), None);
    }

    #[test]
    fn a_duration_that_is_not_a_length_fails_a_minimum() {
        let min = JobOptions {
            min_duration: Some(5),
            ..Default::default()
        };
        for claimed in [Some(-30.0), Some(f64::NAN), Some(f64::NEG_INFINITY), None] {
            let v = Candidate {
                duration: claimed,
                ..video(1920, 1080, 0.0, 1)
            };
            assert!(rejection(&v, &min).is_some(), "{claimed:?} passed min 5");
            // Without a duration filter such a result is still usable.
            assert_eq!(rejection(&v, &JobOptions::default()), None, "{claimed:?}");
        }
        let max = JobOptions {
            max_duration: Some(5),
            ..Default::default()
        };
        let nan = Candidate {
            duration: Some(f64::NAN),
            ..video(1920, 1080, 0.0, 1)
        };
        assert!(rejection(&nan, &max).is_some());
        let negative = Candidate {
            duration: Some(-1.0),
            ..nan
        };
        assert!(rejection(&negative, &max).is_some());
        assert_eq!(rejection(&video(1920, 1080, 5.0, 1), &min), None);
    }

    #[test]
    fn heights_fall_in_classes() {
        assert_eq!(class_of(360), Quality::Sd);
        assert_eq!(class_of(720), Quality::Hd);
        assert_eq!(class_of(1080), Quality::Hd);
        assert_eq!(class_of(2160), Quality::Uhd);
    }
}
