//! Plain words for people: one sentence per daemon event, and the phrases `status` uses for a
//! source's breaker, rate limit and waits. Nothing here prints a protocol type with `{:?}`;
//! provider text inside (ids, paths, errors) is shown through [`text::escaped`].

use std::time::Duration;

use indicatif::HumanBytes;

use crate::breaker::BreakerState;
use crate::download::{Download, DownloadState, Validation};
use crate::job::{Job, JobState};
use crate::protocol::{BreakerChange, Event, Progress, RateLimited, Retry};
use crate::ratelimit::WindowUse;
use crate::text;
use crate::waiting::Waiting;

/// The sentence a person reads for `event`.
pub fn event(event: &Event) -> String {
    match event {
        Event::Job(job) => job_line(job),
        Event::Download(download) => download_line(download),
        Event::Progress(progress) => progress_line(progress),
        Event::Lagged { dropped } => format!("({dropped} progress updates skipped)"),
        Event::Breaker(change) => breaker_line(change),
        Event::RateLimited(RateLimited { source, wait_ms }) => format!(
            "{source}: rate limit reached; next request in {}",
            wait_words(Duration::from_millis(*wait_ms))
        ),
        Event::Retry(retry) => retry_line(retry),
    }
}

/// "job 3: downloading (2/5)"; a failed job adds why. The form is older than this module and
/// scripts (and tests) read it, so it stays.
fn job_line(job: &Job) -> String {
    let line = format!("job {}: {} ({}/{})", job.id, job.state, job.done, job.count);
    if job.state == JobState::Failed && !job.errors.is_empty() {
        format!("{line}: {}", text::escaped(&job.errors.join("; ")))
    } else {
        line
    }
}

fn download_line(d: &Download) -> String {
    let name = format!(
        "download {} ({}:{}) of job {}",
        d.id,
        d.source,
        text::escaped(&d.source_id),
        d.job_id
    );
    let error = d.error.as_deref().map(text::escaped);
    match (d.state, error) {
        // A queued download's error says why it waits (an open breaker, a rate limit).
        (DownloadState::Queued, Some(why)) => format!("{name} is waiting: {why}"),
        (DownloadState::Queued, None) => format!("{name} is queued"),
        (DownloadState::Running, _) => format!("{name} is running"),
        (DownloadState::Paused, Some(why)) => {
            format!("{name} paused at {}: {why}", HumanBytes(d.bytes))
        }
        (DownloadState::Paused, None) => format!("{name} paused at {}", HumanBytes(d.bytes)),
        (DownloadState::Done, _) => match d.path.as_deref() {
            Some(path) => format!(
                "{name} is done: {} saved as {}",
                HumanBytes(d.bytes),
                text::escaped(path)
            ),
            None => format!("{name} is done: {}", HumanBytes(d.bytes)),
        },
        (DownloadState::Failed, Some(why)) => format!("{name} failed: {why}"),
        (DownloadState::Failed, None) => format!("{name} failed"),
        (DownloadState::Duplicate, _) => {
            format!("{name} was skipped: the same file is already in the library")
        }
        (DownloadState::Invalid, why) => {
            let reason = d.validation.as_ref().and_then(Validation::reason);
            let why = reason.map(text::escaped).or(why);
            match why {
                Some(why) => format!("{name} is not a playable video: {why}"),
                None => format!("{name} is not a playable video"),
            }
        }
        (DownloadState::Cancelled, _) => format!("{name} was cancelled"),
    }
}

fn progress_line(p: &Progress) -> String {
    let bytes = match p.total {
        Some(total) => format!("{} of {}", HumanBytes(p.bytes), HumanBytes(total)),
        None => HumanBytes(p.bytes).to_string(),
    };
    let speed = if p.speed.is_finite() && p.speed > 0.0 {
        p.speed as u64
    } else {
        0
    };
    format!(
        "download {} of job {}: {bytes} at {}/s",
        p.download,
        p.job,
        HumanBytes(speed)
    )
}

fn breaker_line(change: &BreakerChange) -> String {
    let source = change.source;
    match (change.state, change.next_trial_secs) {
        (BreakerState::Open, Some(secs)) => format!(
            "{source} is failing: pausing requests for {}, then trying again",
            wait_words(Duration::from_secs(secs))
        ),
        (BreakerState::Open, None) => {
            format!("{source} is failing: pausing requests, then trying again")
        }
        (BreakerState::HalfOpen, _) => {
            format!("{source}: pause over; trying a few requests to see whether it works again")
        }
        (BreakerState::Closed, _) => format!("{source} works again: requests resume"),
    }
}

fn retry_line(r: &Retry) -> String {
    let what = match (r.download, r.job) {
        (Some(download), _) => format!("download {download}"),
        (None, Some(job)) => format!("the search for job {job}"),
        (None, None) => "a request".to_string(),
    };
    format!(
        "{}: retrying {what} in {} after try {} failed: {}",
        r.source,
        wait_words(Duration::from_millis(r.wait_ms)),
        r.attempt,
        text::escaped(&r.error)
    )
}

/// A wait as a person says it: "450 ms", "12 s", "2 min 5 s", "3 h 20 min" (seconds rounded up,
/// so a wait never reads shorter than it is).
pub fn wait_words(wait: Duration) -> String {
    if wait < Duration::from_secs(1) {
        return format!("{} ms", wait.as_millis());
    }
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 if secs.is_multiple_of(60) => format!("{} min", secs / 60),
        120..=7199 => format!("{} min {} s", secs / 60, secs % 60),
        _ if secs % 3600 / 60 == 0 => format!("{} h", secs / 3600),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// A breaker for `status`: "closed", "open, next trial in 59 s", "half-open, trying requests".
pub fn breaker_words(state: BreakerState, next_trial_secs: Option<u64>) -> String {
    match (state, next_trial_secs) {
        (BreakerState::Closed, _) => "closed".to_string(),
        (BreakerState::Open, Some(secs)) => format!(
            "open, next trial in {}",
            wait_words(Duration::from_secs(secs))
        ),
        (BreakerState::Open, None) => "open".to_string(),
        (BreakerState::HalfOpen, _) => "half-open, trying requests".to_string(),
    }
}

/// Why a job waits on one source, for `show` and `list`: "wikimedia circuit open, next trial in
/// 10 s", "pexels rate limit reached, next request in 8 s".
pub fn waiting_words(waiting: &Waiting) -> String {
    let source = waiting.source();
    match *waiting {
        Waiting::CircuitOpen { next_trial_in, .. } => format!(
            "{source} circuit open, next trial in {}",
            wait_words(next_trial_in)
        ),
        Waiting::TrialInFlight { .. } => {
            format!("{source} circuit half-open, trial requests under way")
        }
        Waiting::RateLimited {
            next_request_in, ..
        } => format!(
            "{source} rate limit reached, next request in {}",
            wait_words(next_request_in)
        ),
    }
}

/// A rate limit for `status` with the room used: "183 of 200 this hour, 900 of 20000 in 30
/// days", and the wait for the next request when there is one.
pub fn rate_limit_words(windows: &[WindowUse], waiting_secs: Option<u64>) -> String {
    let limit = if windows.is_empty() {
        "no limit".to_string()
    } else {
        windows
            .iter()
            .map(|u| {
                let period = period_words(u.window.per);
                // A single unit reads "this hour"; several read "in 30 days".
                let span = if period.contains(' ') {
                    format!("in {period}")
                } else {
                    format!("this {period}")
                };
                format!("{} of {} {span}", u.used, u.window.limit)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match waiting_secs {
        Some(secs) => format!(
            "{limit}; next request in {}",
            wait_words(Duration::from_secs(secs))
        ),
        None => limit,
    }
}

/// A window length: "second", "hour", "30 days", "90 s".
fn period_words(per: Duration) -> String {
    let secs = per.as_secs();
    let units = [
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    for (size, unit) in units {
        if secs.is_multiple_of(size) {
            return match secs / size {
                1 => unit.to_string(),
                n => format!("{n} {unit}s"),
            };
        }
    }
    format!("{secs} seconds")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::download::DownloadId;
    use crate::job::{JobId, JobOptions};
    use crate::source_kind::SourceKind;
    use crate::timestamp::Timestamp;

    fn job(state: JobState) -> Job {
        Job {
            id: JobId(3),
            theme: "ocean waves".to_string(),
            count: 5,
            priority: 0,
            state,
            options: JobOptions::default(),
            done: 2,
            errors: vec!["pexels: HTTP 500".to_string()],
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn download(state: DownloadState) -> Download {
        Download {
            id: DownloadId(7),
            job_id: JobId(3),
            candidate_id: crate::candidate::CandidateId(1),
            source: SourceKind::Pexels,
            source_id: "123".to_string(),
            url: "http://example.invalid/v.mp4".to_string(),
            state,
            bytes: 3 << 20,
            total: Some(7 << 20),
            speed: None,
            attempts: 1,
            failure_kind: None,
            sha256: None,
            path: Some("/lib/ocean.mp4".to_string()),
            error: Some("HTTP 503".to_string()),
            validation: None,
            probe: None,
        }
    }

    /// The variant's name; the match has no wildcard, so a new variant fails to compile here
    /// until the test below renders it too.
    fn variant(event: &Event) -> &'static str {
        match event {
            Event::Job(_) => "job",
            Event::Download(_) => "download",
            Event::Progress(_) => "progress",
            Event::Lagged { .. } => "lagged",
            Event::Breaker(_) => "breaker",
            Event::RateLimited(_) => "rate_limited",
            Event::Retry(_) => "retry",
        }
    }

    /// One of each event variant, and of each state inside them.
    fn every_event() -> Vec<Event> {
        let mut events: Vec<Event> = JobState::ALL
            .into_iter()
            .map(|s| Event::Job(job(s)))
            .collect();
        events.extend(
            DownloadState::ALL
                .into_iter()
                .map(|s| Event::Download(download(s))),
        );
        events.push(Event::from(Progress {
            download: DownloadId(7),
            job: JobId(3),
            bytes: 1 << 20,
            total: None,
            speed: 1e6,
        }));
        events.push(Event::Lagged { dropped: 3 });
        for (state, next) in [
            (BreakerState::Open, Some(59)),
            (BreakerState::Open, None),
            (BreakerState::HalfOpen, None),
            (BreakerState::Closed, None),
        ] {
            events.push(Event::from(BreakerChange {
                source: SourceKind::Archive,
                state,
                next_trial_secs: next,
            }));
        }
        events.push(Event::from(RateLimited {
            source: SourceKind::Pixabay,
            wait_ms: 12_000,
        }));
        for (job, download) in [
            (Some(JobId(3)), Some(DownloadId(7))),
            (Some(JobId(3)), None),
            (None, None),
        ] {
            events.push(Event::from(Retry {
                source: SourceKind::Pexels,
                job,
                download,
                attempt: 2,
                wait_ms: 3_000,
                error: "HTTP 500".to_string(),
            }));
        }
        events
    }

    #[test]
    fn every_event_reads_as_a_sentence_without_debug_text() {
        let events = every_event();
        let mut seen: Vec<&str> = events.iter().map(variant).collect();
        seen.dedup();
        assert_eq!(
            seen,
            [
                "job",
                "download",
                "progress",
                "lagged",
                "breaker",
                "rate_limited",
                "retry"
            ]
        );
        for e in &events {
            let line = event(e);
            for artefact in ["{", "}", "Some(", "None", "JobId(", "DownloadId("] {
                assert!(!line.contains(artefact), "{artefact:?} in {line:?}");
            }
            // Debug names of protocol types are CamelCase; sentences are not.
            for name in ["Breaker", "HalfOpen", "RateLimited", "Archive", "Pexels"] {
                assert!(!line.contains(name), "{name:?} in {line:?}");
            }
        }
    }

    #[test]
    fn events_say_what_happened_and_why() {
        let say = |e: Event| event(&e);
        assert_eq!(
            say(Event::from(BreakerChange {
                source: SourceKind::Archive,
                state: BreakerState::Open,
                next_trial_secs: Some(59),
            })),
            "archive is failing: pausing requests for 59 s, then trying again"
        );
        assert_eq!(
            say(Event::from(RateLimited {
                source: SourceKind::Pixabay,
                wait_ms: 11_200,
            })),
            "pixabay: rate limit reached; next request in 12 s"
        );
        assert_eq!(
            say(Event::from(Retry {
                source: SourceKind::Pexels,
                job: Some(JobId(3)),
                download: Some(DownloadId(7)),
                attempt: 2,
                wait_ms: 3_000,
                error: "HTTP 500".to_string(),
            })),
            "pexels: retrying download 7 in 3 s after try 2 failed: HTTP 500"
        );
        assert_eq!(
            say(Event::Job(job(JobState::Failed))),
            "job 3: failed (2/5): pexels: HTTP 500"
        );
        assert_eq!(
            say(Event::Download(download(DownloadState::Failed))),
            "download 7 (pexels:123) of job 3 failed: HTTP 503"
        );
        assert_eq!(
            say(Event::Download(download(DownloadState::Done))),
            "download 7 (pexels:123) of job 3 is done: 3.00 MiB saved as /lib/ocean.mp4"
        );
    }

    #[test]
    fn provider_text_in_sentences_is_escaped() {
        let retry = Event::from(Retry {
            source: SourceKind::Archive,
            job: None,
            download: None,
            attempt: 2,
            wait_ms: 100,
            error: "HTTP 500: \x1b]0;pwned\x07\u{202e}gpj.exe\nforged".to_string(),
        });
        assert_eq!(
            event(&retry),
            "archive: retrying a request in 100 ms after try 2 failed: \
             HTTP 500: \\x1b]0;pwned\\x07\\u{202e}gpj.exe\\nforged"
        );
    }

    #[test]
    fn waits_breakers_and_rate_limits_read_like_speech() {
        assert_eq!(wait_words(Duration::from_millis(450)), "450 ms");
        assert_eq!(wait_words(Duration::from_millis(2_001)), "3 s");
        assert_eq!(wait_words(Duration::from_secs(125)), "2 min 5 s");
        assert_eq!(wait_words(Duration::from_secs(7_200)), "2 h");
        assert_eq!(
            breaker_words(BreakerState::Open, Some(42)),
            "open, next trial in 42 s"
        );
        let used = |text: &str, counts: &[u32]| -> Vec<WindowUse> {
            crate::ratelimit::parse(text)
                .unwrap()
                .into_iter()
                .zip(counts)
                .map(|(window, used)| WindowUse {
                    window,
                    used: *used,
                })
                .collect()
        };
        assert_eq!(
            rate_limit_words(&used("200/3600,20000/2592000", &[183, 900]), Some(12)),
            "183 of 200 this hour, 900 of 20000 in 30 days; next request in 12 s"
        );
        assert_eq!(rate_limit_words(&[], None), "no limit");
        let source = SourceKind::Wikimedia;
        assert_eq!(
            waiting_words(&Waiting::CircuitOpen {
                source,
                next_trial_in: Duration::from_secs(10)
            }),
            "wikimedia circuit open, next trial in 10 s"
        );
        assert_eq!(
            waiting_words(&Waiting::RateLimited {
                source: SourceKind::Pexels,
                next_request_in: Duration::from_millis(7_500)
            }),
            "pexels rate limit reached, next request in 8 s"
        );
        assert_eq!(
            waiting_words(&Waiting::TrialInFlight { source }),
            "wikimedia circuit half-open, trial requests under way"
        );
        assert_eq!(
            rate_limit_words(&used("5/90", &[0]), None),
            "0 of 5 in 90 seconds"
        );
    }
}
