//! A bounded soak: 30 jobs over 3 sources with random faults on 10–20% of requests and three
//! daemon kills. Every job must end done with byte-identical files, or failed with a reason;
//! nothing may be orphaned or lost.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::fake_provider::{
    fixtures, sha256_hex, video_from_fixture, FakeProvider, Fault, FaultRule, Source,
};
use crate::support::Daemon;
use serde_json::Value;

/// A small deterministic generator, so a failing run can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn thirty_jobs_survive_random_faults_and_three_kills() {
    let mut rng = Lcg(0x5eed_2026);
    let provider = FakeProvider::start();
    let all = fixtures();
    let sources = [Source::Wikimedia, Source::Archive, Source::Pexels];
    let mut served: HashMap<String, String> = HashMap::new(); // sha256 -> theme
    let mut faults = 0;
    let mut requests_planned = 0;
    for job in 0..30 {
        let theme = format!("soak-{job:02}");
        for (k, source) in sources.iter().enumerate() {
            let id = match source {
                Source::Pexels => format!("{}", 900_000 + job * 10 + k),
                Source::Archive => format!("{theme}-{k}"),
                _ => format!("{theme} {k}.mp4"),
            };
            let mut video = video_from_fixture(
                *source,
                &id,
                &format!("{theme} clip {k}"),
                &all[(job + k) % all.len()],
            );
            // Distinct bytes per video, so no two are content duplicates.
            video
                .data
                .extend_from_slice(format!("vfetch-soak-{job}-{k}").as_bytes());
            served.insert(sha256_hex(&video.data), theme.clone());
            let size = video.data.len() as u64;
            let file = provider.file_url(&video);
            let path = file.rsplit('/').next().unwrap().to_string();
            requests_planned += 1;
            if rng.below(100) < 15 {
                faults += 1;
                let fault = match rng.below(4) {
                    0 => Fault::ResetAfter(size / 3),
                    1 => Fault::TruncateAfter(size / 2),
                    2 => Fault::Status {
                        code: 500,
                        retry_after: None,
                    },
                    _ => Fault::Status {
                        code: 503,
                        retry_after: Some("1".into()),
                    },
                };
                provider.fault(FaultRule::times(&path, fault, 1 + rng.below(2) as u32));
            }
            provider.add(video);
        }
    }
    assert!(
        faults >= requests_planned / 10,
        "{faults} faults for {requests_planned} files"
    );
    provider.fault(FaultRule::always("/files/", Fault::Throttle(60_000)));

    let mut daemon = Daemon::for_provider(
        &provider,
        &["wikimedia", "archive", "pexels"],
        "retry_base_ms = 50\nvalidate = \"off\"\nparallel_downloads = 6\nbreaker_failures = 50\n",
    );
    let mut ids = Vec::new();
    for job in 0..30 {
        ids.push(daemon.add(&[&format!("soak-{job:02}"), "2", "-p", &(job % 3).to_string()]));
    }
    let started = Instant::now();
    for kill_at in [1500, 3500, 6000] {
        let wait =
            Duration::from_millis(kill_at + rng.below(500)).saturating_sub(started.elapsed());
        std::thread::sleep(wait);
        daemon.kill9();
        daemon.spawn();
    }

    let deadline = Instant::now() + Duration::from_secs(120);
    let mut jobs: Vec<Value>;
    loop {
        jobs = ids.iter().map(|id| daemon.show(*id)).collect();
        let open = jobs
            .iter()
            .filter(|j| !matches!(j["job"]["state"].as_str(), Some("done" | "failed")))
            .count();
        if open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{open} jobs still open after the soak:\n{}",
            daemon
                .log()
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(250));
    }

    let mut done = 0;
    for shown in &jobs {
        let job = &shown["job"];
        match job["state"].as_str() {
            Some("done") => {
                done += 1;
                let files: Vec<&Value> = shown["downloads"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|d| d["state"] == "done")
                    .collect();
                assert_eq!(files.len(), 2, "a done job has its two files: {shown:#}");
                for d in files {
                    let bytes = std::fs::read(Path::new(d["path"].as_str().unwrap())).unwrap();
                    let sha = sha256_hex(&bytes);
                    assert_eq!(
                        d["sha256"].as_str().unwrap(),
                        sha,
                        "stored hash matches the file"
                    );
                    assert_eq!(
                        served.get(&sha),
                        job["theme"].as_str().map(str::to_string).as_ref(),
                        "byte-identical to what was served"
                    );
                }
            }
            _ => assert!(
                !job["errors"].as_array().unwrap().is_empty(),
                "a failed job says why: {shown:#}"
            ),
        }
    }
    assert!(done >= 25, "only {done} of 30 jobs done");
    let staging: Vec<_> = std::fs::read_dir(daemon.state_dir().join("staging"))
        .unwrap()
        .collect();
    assert!(staging.is_empty(), "orphaned partial files: {staging:?}");
    // Nothing lost: every download row is accounted for in a final state.
    let db = rusqlite::Connection::open(daemon.state_dir().join("vfetch.db")).unwrap();
    let unfinished: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM downloads WHERE state IN ('queued', 'running', 'paused')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unfinished, 0);
}
