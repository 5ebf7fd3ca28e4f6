//! A fake stock-video provider for end-to-end tests: one std-only HTTP/1.1 server on 127.0.0.1
//! that speaks the wire formats of Pexels, Pixabay, Wikimedia Commons and the Internet Archive
//! (see `providers.md`) and serves real small videos from `tests/fixtures`.
//!
//! It is hand-written on purpose so that faults can be injected at the byte level: resets,
//! truncated bodies, stalls, throttling, bad statuses and broken JSON (see [`Fault`]).
//! Every connection carries exactly one request and is answered with `Connection: close`.
//! The server stops (and its threads end) when the [`FakeProvider`] is dropped.
//!
//! Routes (all relative to [`FakeProvider::base_url`]):
//! - Pexels: `GET /videos/search` (also `/v1/videos/search/`, the form `next_page` uses) and
//!   `GET /videos/videos/{id}`; header `Authorization: <key>`, else 401.
//! - Pixabay: `GET /api/videos/?key=…`; a wrong key, a `q` over 100 characters, `per_page`
//!   outside 3–200 or a `page` past the results give 400 with a plain-text `[ERROR 400] …`.
//! - Wikimedia: `GET /w/api.php?action=query&generator=search&…` (honours `prop` and `iiprop`).
//! - Internet Archive: `GET /advancedsearch.php`, `GET /metadata/{identifier}`,
//!   `GET /download/{identifier}/{name}` (302 to the byte-serving path).
//! - Files: `GET`/`HEAD /files/{source}/{name}` with ETag, Last-Modified, Range and If-Range.
//! - Any path given to [`FakeProvider::redirect`]: 302 to the location given there.
//!
//! A video's listed file link can point anywhere ([`FakeProvider::set_link`]), for tests of
//! what the daemon does with links it should not follow.
//!
//! Layout: this file holds the public API (the [`FakeProvider`] handle and the types tests use);
//! `server` accepts connections and parses requests, `response` writes answers (and the broken
//! deliveries faults ask for), `faults` holds the fault rules and applies them, `routes` maps a
//! path to the format that answers it, `pexels`, `pixabay`, `wikimedia` and `archive` answer in
//! each provider's format, `files` serves the bytes (ETag, ranges), `state` is what the threads
//! share, and `fixtures`, `checksums` and `text` are helpers.
#![allow(dead_code)]

mod archive;
mod checksums;
mod faults;
mod files;
mod fixtures;
mod pexels;
mod pixabay;
mod response;
mod routes;
mod server;
mod state;
mod text;
mod wikimedia;

use std::collections::HashMap;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

// The public API lives in the child modules; each includer (the test crate, the bench) uses
// part of it, so an unused re-export is not a mistake.
#[allow(unused_imports)]
pub use checksums::{md5_hex, sha1_hex, sha256_hex};
#[allow(unused_imports)]
pub use faults::{Fault, FaultRule};
#[allow(unused_imports)]
pub use fixtures::{fixtures, video_from_fixture, Fixture};
#[allow(unused_imports)]
pub use text::license_url;

use archive::archive_name;
use faults::ActiveRule;
use files::{etag_of, file_path};
use fixtures::orientation;
use pexels::PEXELS_KEY;
use pixabay::PIXABAY_KEY;
use server::{accept_loop, decoded_target};
use state::{Entry, Shared, State};
use text::{capitalize, pct, pct_path, slug};

/// Which wire format lists a video.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    Pexels,
    Pixabay,
    Wikimedia,
    Archive,
}

impl Source {
    /// Lower-case name, as used in config sections and in `/files/{name}/…` paths.
    pub fn name(self) -> &'static str {
        match self {
            Source::Pexels => "pexels",
            Source::Pixabay => "pixabay",
            Source::Wikimedia => "wikimedia",
            Source::Archive => "archive",
        }
    }

    pub const ALL: [Source; 4] = [
        Source::Pexels,
        Source::Pixabay,
        Source::Wikimedia,
        Source::Archive,
    ];
}

/// One video the fake provider lists and serves.
#[derive(Clone, Debug)]
pub struct Video {
    /// Which wire format lists it.
    pub source: Source,
    /// Provider id: a numeric string for Pexels/Pixabay, the file title (without `File:`,
    /// usually ending in `.webm`/`.mp4`) for Wikimedia, the identifier for the Archive.
    pub id: String,
    /// Searched (case-insensitive whole-word match, together with the tags).
    pub title: String,
    pub tags: Vec<String>,
    pub width: u32,
    pub height: u32,
    /// Seconds.
    pub duration: f64,
    pub fps: f64,
    pub author: String,
    /// e.g. "CC BY-SA 4.0"; Pexels/Pixabay ignore it.
    pub license: String,
    /// "video/mp4" or "video/webm".
    pub mime: String,
    /// "mp4" / "webm".
    pub ext: String,
    /// The bytes served.
    pub data: Vec<u8>,
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub at: Instant,
    pub method: String,
    /// Path without the query, percent-decoded.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The status answered (the status line sent, even if the body was then cut short).
    pub status: u16,
    /// The request target exactly as received (path and query, not decoded).
    pub target: String,
}

impl RequestRecord {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter with this name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running fake provider. Dropping it stops the server.
pub struct FakeProvider {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

impl FakeProvider {
    /// Starts a server on 127.0.0.1 with an ephemeral port.
    pub fn start() -> FakeProvider {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake provider");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            base: format!("http://{addr}"),
            stop: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
            active: AtomicUsize::new(0),
        });
        let accept_shared = shared.clone();
        let accept = std::thread::Builder::new()
            .name("fake-provider-accept".into())
            .spawn(move || accept_loop(accept_shared, listener))
            .expect("spawn accept thread");
        FakeProvider {
            shared,
            addr,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.base.clone()
    }

    /// Lists and serves `video` (replacing any video with the same source and id).
    pub fn add(&self, video: Video) {
        if matches!(video.source, Source::Pexels | Source::Pixabay) {
            assert!(
                video.id.parse::<u64>().is_ok(),
                "{:?} ids must be numeric, got {:?}",
                video.source,
                video.id
            );
        }
        assert!(
            !video.id.is_empty() && !video.id.contains('/'),
            "bad video id {:?}",
            video.id
        );
        let mut state = self.shared.state();
        state.next_num += 1;
        let entry = Arc::new(Entry {
            num: state.next_num,
            sha256: sha256_hex(&video.data),
            sha1: sha1_hex(&video.data),
            md5: md5_hex(&video.data),
            link: None,
            video,
        });
        let key = (entry.video.source, entry.video.id.clone());
        state
            .videos
            .retain(|e| (e.video.source, e.video.id.as_str()) != (key.0, key.1.as_str()));
        state.generations.entry(key).or_insert(0);
        state.videos.push(entry);
    }

    /// Adds the first `n` fixtures (in [`fixtures`] order) as videos of `source` titled
    /// `"<theme> clip <k>"` (k: a per-server serial number), tagged `[theme, orientation,
    /// "stock footage"]`, authored `"Author <k>"`; returns them. Ids: Pexels `1000000 + k`,
    /// Pixabay `2000000 + k`, Wikimedia `"<Theme> clip <k>.<ext>"`, Archive `"<theme-slug>-clip-<k>"`.
    /// The same fixture bytes are reused across calls (so the same file can appear under several
    /// sources or themes). Panics if `n` exceeds the number of fixtures.
    pub fn add_fixtures(&self, source: Source, theme: &str, n: usize) -> Vec<Video> {
        let all = fixtures();
        assert!(
            n <= all.len(),
            "add_fixtures({source:?}, {theme:?}, {n}): only {} distinct fixture videos exist in \
             tests/fixtures; add more there (see its README) or use fewer",
            all.len()
        );
        let mut out = Vec::with_capacity(n);
        for fixture in &all[..n] {
            let k = {
                let mut state = self.shared.state();
                state.next_num += 1;
                state.next_num
            };
            let title = format!("{theme} clip {k}");
            let id = match source {
                Source::Pexels => (1_000_000 + k).to_string(),
                Source::Pixabay => (2_000_000 + k).to_string(),
                Source::Wikimedia => format!("{} clip {k}.{}", capitalize(theme), fixture.ext),
                Source::Archive => format!("{}-clip-{k}", slug(theme)),
            };
            let mut video = video_from_fixture(source, &id, &title, fixture);
            video.tags = vec![
                theme.to_lowercase(),
                orientation(fixture.width, fixture.height).to_string(),
                "stock footage".to_string(),
            ];
            video.author = format!("Author {k}");
            self.add(video.clone());
            out.push(video);
        }
        out
    }

    /// Lists `url` as the file link of an added Pexels, Pixabay or Wikimedia video instead of
    /// this server's own file URL (the Archive adapter builds its file URLs itself). The file
    /// itself is still served at its usual path.
    pub fn set_link(&self, video: &Video, url: &str) {
        let mut state = self.shared.state();
        let Some(slot) = state
            .videos
            .iter_mut()
            .find(|e| e.video.source == video.source && e.video.id == video.id)
        else {
            panic!(
                "set_link: no {:?} video with id {:?}",
                video.source, video.id
            );
        };
        *slot = Arc::new(Entry {
            video: slot.video.clone(),
            num: slot.num,
            sha256: slot.sha256.clone(),
            sha1: slot.sha1.clone(),
            md5: slot.md5.clone(),
            link: Some(url.to_string()),
        });
    }

    /// GET and HEAD of `path` (decoded, without the query) answer `302 Found` with
    /// `Location: location` from now on, before any other route.
    pub fn redirect(&self, path: &str, location: &str) {
        self.shared
            .state()
            .redirects
            .insert(path.to_string(), location.to_string());
    }

    /// Adds a fault rule (rules are tried in the order added).
    pub fn fault(&self, rule: FaultRule) {
        let remaining = rule.times;
        self.shared
            .state()
            .faults
            .push(ActiveRule { rule, remaining });
    }

    /// Removes all fault rules.
    pub fn clear_faults(&self) {
        self.shared.state().faults.clear();
    }

    /// From now on, search results describe that file with a SHA-1 and MD5 that do not match
    /// the bytes served (Wikimedia publishes the SHA-1, the Archive both).
    pub fn publish_wrong_checksums(&self, source: Source, id: &str) {
        let mut state = self.shared.state();
        let entry = state
            .videos
            .iter_mut()
            .find(|e| e.video.source == source && e.video.id == id)
            .unwrap_or_else(|| panic!("publish_wrong_checksums: no {source:?} video {id:?}"));
        let other = b"not the bytes that are served";
        *entry = Arc::new(Entry {
            video: entry.video.clone(),
            num: entry.num,
            sha256: entry.sha256.clone(),
            sha1: sha1_hex(other),
            md5: md5_hex(other),
            link: entry.link.clone(),
        });
    }

    /// Future GETs of that file return a different ETag and Last-Modified (same content).
    pub fn change_etag(&self, source: Source, id: &str) {
        let mut state = self.shared.state();
        let generation = state
            .generations
            .get_mut(&(source, id.to_string()))
            .unwrap_or_else(|| panic!("change_etag: no {source:?} video with id {id:?}"));
        *generation += 1;
    }

    /// The current ETag of a video's file (as sent, with quotes).
    pub fn etag(&self, source: Source, id: &str) -> String {
        let state = self.shared.state();
        let entry = state
            .videos
            .iter()
            .find(|e| e.video.source == source && e.video.id == id)
            .unwrap_or_else(|| panic!("etag: no {source:?} video with id {id:?}"));
        etag_of(entry, state.generations[&(source, id.to_string())])
    }

    /// Every request so far, in the order answered.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.state().log.clone()
    }

    /// Requests whose target (raw or decoded path with query) contains `path_contains`.
    pub fn requests_to(&self, path_contains: &str) -> Vec<RequestRecord> {
        self.shared
            .state()
            .log
            .iter()
            .filter(|r| {
                r.target.contains(path_contains)
                    || decoded_target(&r.path, &r.query).contains(path_contains)
            })
            .cloned()
            .collect()
    }

    /// The key a source expects ("" for sources without keys).
    pub fn api_key(&self, source: Source) -> &'static str {
        match source {
            Source::Pexels => PEXELS_KEY,
            Source::Pixabay => PIXABAY_KEY,
            Source::Wikimedia | Source::Archive => "",
        }
    }

    /// Absolute URL of the file as listed in search results (for the Archive, the
    /// `/download/{identifier}/{name}` URL, which redirects to the byte-serving path).
    pub fn file_url(&self, video: &Video) -> String {
        match video.source {
            Source::Archive => format!(
                "{}/download/{}/{}",
                self.shared.base,
                pct(&video.id),
                pct(&archive_name(video))
            ),
            _ => format!("{}{}", self.shared.base, pct_path(&file_path(video))),
        }
    }

    /// The URL that actually serves the bytes (same as `file_url` except for the Archive).
    pub fn direct_file_url(&self, video: &Video) -> String {
        format!("{}{}", self.shared.base, pct_path(&file_path(video)))
    }

    /// A TOML snippet pointing all four sources at this server with the right keys.
    pub fn sources_toml(&self) -> String {
        let base = &self.shared.base;
        format!(
            "\n[sources.pexels]\nbase_url = \"{base}\"\napi_key = \"{PEXELS_KEY}\"\n\
             \n[sources.pixabay]\nbase_url = \"{base}\"\napi_key = \"{PIXABAY_KEY}\"\n\
             \n[sources.wikimedia]\nbase_url = \"{base}\"\n\
             \n[sources.archive]\nbase_url = \"{base}\"\n"
        )
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(handle) = self.accept.take() {
            if woke {
                let _ = handle.join();
            }
        }
        for (_, conn) in self
            .shared
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
        {
            let _ = conn.shutdown(Shutdown::Both);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.shared.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
