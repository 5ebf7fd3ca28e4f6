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
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

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

/// A fault to inject into matching responses.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Delay before answering (then answer normally).
    Latency(Duration),
    /// Answer this status with a small text body (and `Retry-After` if given).
    Status {
        code: u16,
        retry_after: Option<String>,
    },
    /// 200 `application/json` with the invalid body `{"videos": [`.
    MalformedJson,
    /// 200 `application/json` with exactly this body.
    Body(String),
    /// Send the headers and N body bytes, then reset the connection (RST).
    ResetAfter(u64),
    /// Send the headers and N body bytes, then nothing for up to 60 s (until the client closes or
    /// the server is dropped), then close.
    StallAfter(u64),
    /// Send the full `Content-Length` header but only N body bytes, then close normally (FIN).
    TruncateAfter(u64),
    /// Answer 200 with the whole file even when a Range is asked.
    IgnoreRange,
    /// Send the body at about this many bytes per second.
    Throttle(u64),
}

/// Applies `fault` to requests whose target (path and query, raw or decoded) contains
/// `path_contains`. `times: None` = forever; each matching request consumes one use.
#[derive(Clone, Debug)]
pub struct FaultRule {
    pub path_contains: String,
    pub fault: Fault,
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule for the next `times` matching requests.
    pub fn times(path_contains: &str, fault: Fault, times: u32) -> FaultRule {
        FaultRule {
            path_contains: path_contains.to_string(),
            fault,
            times: Some(times),
        }
    }

    /// A rule for every matching request.
    pub fn always(path_contains: &str, fault: Fault) -> FaultRule {
        FaultRule {
            path_contains: path_contains.to_string(),
            fault,
            times: None,
        }
    }
}

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

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Hex SHA-1 (hand-written: no sha1 crate among the dependencies).
pub fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    for block in md_padded(data, true).chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(block[4 * i..4 * i + 4].try_into().unwrap());
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6u32),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

/// Hex MD5 (hand-written: no md5 crate among the dependencies).
pub fn md5_hex(data: &[u8]) -> String {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    const K: [u32; 64] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
        0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
        0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
        0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
        0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
        0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
        0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
        0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
        0xeb86d391,
    ];
    let mut h: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    for block in md_padded(data, false).chunks(64) {
        let m: Vec<u32> = block
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(K[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter()
        .flat_map(|x| x.to_le_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Merkle–Damgård padding with the bit length in big- (SHA-1) or little-endian (MD5).
fn md_padded(data: &[u8], big_endian: bool) -> Vec<u8> {
    let bits = (data.len() as u64).wrapping_mul(8);
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&if big_endian {
        bits.to_be_bytes()
    } else {
        bits.to_le_bytes()
    });
    msg
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

const PEXELS_KEY: &str = "test-pexels-key";
const PIXABAY_KEY: &str = "test-pixabay-key";
/// Last-Modified of generation 0; each `change_etag` adds a day.
const BASE_MTIME_SECS: u64 = 1_704_164_645; // 2024-01-02T03:04:05Z
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;
const STALL_LIMIT: Duration = Duration::from_secs(60);

/// A running fake provider. Dropping it stops the server.
pub struct FakeProvider {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Option<JoinHandle<()>>,
}

struct Entry {
    video: Video,
    /// Serial number (stable per server), used for page ids, user ids…
    num: u64,
    sha256: String,
    sha1: String,
    md5: String,
    /// Listed instead of this server's own file URL (see [`FakeProvider::set_link`]).
    link: Option<String>,
}

struct ActiveRule {
    rule: FaultRule,
    remaining: Option<u32>,
}

#[derive(Default)]
struct State {
    videos: Vec<Arc<Entry>>,
    generations: HashMap<(Source, String), u64>,
    faults: Vec<ActiveRule>,
    log: Vec<RequestRecord>,
    next_num: u64,
    pexels_calls: u64,
    /// Path → Location answered with 302 (see [`FakeProvider::redirect`]).
    redirects: HashMap<String, String>,
}

struct Shared {
    base: String,
    stop: AtomicBool,
    state: Mutex<State>,
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
    active: AtomicUsize,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not take the whole fake down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps `d`, waking early when the server stops; false if it stopped.
    fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if self.stopped() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(10)));
        }
    }
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

fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    for conn in listener.incoming() {
        if shared.stopped() {
            break;
        }
        let Ok(stream) = conn else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            shared
                .conns
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, clone);
        }
        shared.active.fetch_add(1, Ordering::SeqCst);
        let conn_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("fake-provider-conn".into())
            .spawn(move || {
                let s = conn_shared.clone();
                // Catch panics so the bookkeeping below always runs.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    handle_connection(&s, stream)
                }));
                conn_shared
                    .conns
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
                conn_shared.active.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            shared.active.fetch_sub(1, Ordering::SeqCst);
            shared
                .conns
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests and responses
// ---------------------------------------------------------------------------------------------

struct Request {
    method: String,
    target: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    at: Instant,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn params(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn num(&self, name: &str) -> Option<i64> {
        self.param(name).and_then(|v| v.trim().parse().ok())
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    fn json(value: &Value) -> Response {
        Response::new(
            200,
            "application/json; charset=utf-8",
            serde_json::to_vec(value).expect("serialise JSON"),
        )
    }

    fn text(status: u16, text: &str) -> Response {
        Response::new(status, "text/plain; charset=utf-8", text.as_bytes())
    }

    fn with(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// How the body gets onto the wire.
#[derive(Clone, Copy)]
enum Delivery {
    Normal,
    Reset(u64),
    Stall(u64),
    Truncate(u64),
    Throttle(u64),
}

enum ReadOutcome {
    Ok(Request),
    /// Client went away or server stopping: nothing to answer.
    Gone,
    /// Unparseable: answer 400 (or 431) and record it.
    Bad(u16, String),
}

fn handle_connection(shared: &Shared, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let req = match read_request(shared, &mut stream) {
        ReadOutcome::Ok(req) => req,
        ReadOutcome::Gone => return,
        ReadOutcome::Bad(status, why) => {
            let resp = Response::text(status, &format!("{why}\n"));
            record(
                shared,
                Request {
                    method: String::new(),
                    target: String::new(),
                    path: String::new(),
                    query: Vec::new(),
                    headers: Vec::new(),
                    at: Instant::now(),
                },
                status,
            );
            send(shared, &mut stream, &resp, false, Delivery::Normal);
            return;
        }
    };

    let fault = take_fault(shared, &req);
    let mut delivery = Delivery::Normal;
    let resp = match fault {
        Some(Fault::Latency(d)) => {
            if !shared.sleep(d) {
                return;
            }
            route(shared, &req, false)
        }
        Some(Fault::Status { code, retry_after }) => {
            let mut resp = Response::text(code, &format!("{code} {}\n", reason(code)));
            if let Some(after) = retry_after {
                resp = resp.with("Retry-After", after);
            }
            resp
        }
        Some(Fault::MalformedJson) => Response::new(200, "application/json", "{\"videos\": ["),
        Some(Fault::Body(body)) => Response::new(200, "application/json", body),
        Some(Fault::IgnoreRange) => route(shared, &req, true),
        Some(Fault::ResetAfter(n)) => {
            delivery = Delivery::Reset(n);
            route(shared, &req, false)
        }
        Some(Fault::StallAfter(n)) => {
            delivery = Delivery::Stall(n);
            route(shared, &req, false)
        }
        Some(Fault::TruncateAfter(n)) => {
            delivery = Delivery::Truncate(n);
            route(shared, &req, false)
        }
        Some(Fault::Throttle(bps)) => {
            delivery = Delivery::Throttle(bps.max(1));
            route(shared, &req, false)
        }
        None => route(shared, &req, false),
    };
    let head_only = req.method == "HEAD";
    record(shared, req, resp.status);
    send(shared, &mut stream, &resp, head_only, delivery);
}

fn record(shared: &Shared, req: Request, status: u16) {
    shared.state().log.push(RequestRecord {
        at: req.at,
        method: req.method,
        path: req.path,
        query: req.query,
        headers: req.headers,
        status,
        target: req.target,
    });
}

fn take_fault(shared: &Shared, req: &Request) -> Option<Fault> {
    let decoded = decoded_target(&req.path, &req.query);
    let mut state = shared.state();
    for active in state.faults.iter_mut() {
        if active.remaining == Some(0) {
            continue;
        }
        let needle = active.rule.path_contains.as_str();
        if req.target.contains(needle) || decoded.contains(needle) {
            if let Some(left) = active.remaining.as_mut() {
                *left -= 1;
            }
            return Some(active.rule.fault.clone());
        }
    }
    None
}

fn decoded_target(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", q.join("&"))
}

fn read_request(shared: &Shared, stream: &mut TcpStream) -> ReadOutcome {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > MAX_HEAD {
            return ReadOutcome::Bad(431, "request header too large".into());
        }
        if shared.stopped() || Instant::now() > deadline {
            return ReadOutcome::Gone;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return ReadOutcome::Gone,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return ReadOutcome::Gone,
        }
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
        return ReadOutcome::Bad(400, "request head is not UTF-8".into());
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return ReadOutcome::Bad(400, format!("bad request line {request_line:?}"));
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return ReadOutcome::Bad(400, format!("bad request line {request_line:?}"));
    }
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return ReadOutcome::Bad(400, format!("bad header line {line:?}"));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    // Consume a request body, if any, so closing never resets for unread data.
    let body_len = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    if body_len > MAX_BODY {
        return ReadOutcome::Bad(413, "request body too large".into());
    }
    let mut have = buf.len() - head_end;
    while have < body_len {
        if shared.stopped() || Instant::now() > deadline {
            return ReadOutcome::Gone;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return ReadOutcome::Gone,
            Ok(n) => have += n,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => return ReadOutcome::Gone,
        }
    }
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    let query = url::form_urlencoded::parse(raw_query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    ReadOutcome::Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        path: pct_decode(raw_path),
        query,
        headers,
        at: Instant::now(),
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn send(shared: &Shared, stream: &mut TcpStream, resp: &Response, head_only: bool, how: Delivery) {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (name, value) in &resp.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    head.push_str(&format!(
        "Date: {}\r\nServer: vfetch-fake-provider\r\nConnection: close\r\n\r\n",
        httpdate::fmt_http_date(SystemTime::now())
    ));
    let body: &[u8] = if head_only { &[] } else { &resp.body };
    let cut = |n: u64| &body[..body.len().min(usize::try_from(n).unwrap_or(usize::MAX))];
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    match how {
        Delivery::Normal => {
            if stream.write_all(body).is_ok() {
                finish(shared, stream);
            }
        }
        Delivery::Truncate(n) => {
            if stream.write_all(cut(n)).is_ok() {
                finish(shared, stream);
            }
        }
        Delivery::Reset(n) => {
            let _ = stream.write_all(cut(n));
            let _ = stream.flush();
            // Let the bytes reach the peer before the RST (a RST discards unsent data).
            wait_sent(shared, stream, Duration::from_secs(2));
            shared.sleep(Duration::from_millis(20));
            reset(stream);
        }
        Delivery::Stall(n) => {
            if stream.write_all(cut(n)).is_err() {
                return;
            }
            let _ = stream.flush();
            let end = Instant::now() + STALL_LIMIT;
            let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
            let mut scratch = [0u8; 1024];
            while Instant::now() < end && !shared.stopped() {
                match stream.read(&mut scratch) {
                    Ok(0) => break, // the client gave up
                    Ok(_) => {}
                    Err(e)
                        if matches!(
                            e.kind(),
                            ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                        ) => {}
                    Err(_) => break,
                }
            }
            let _ = stream.shutdown(Shutdown::Both);
        }
        Delivery::Throttle(bps) => {
            let start = Instant::now();
            let chunk = usize::try_from((bps / 50).max(1)).unwrap_or(1);
            let mut sent = 0usize;
            for piece in body.chunks(chunk) {
                // Pace so that `sent` bytes go out no earlier than sent/bps seconds.
                let due = start + Duration::from_secs_f64(sent as f64 / bps as f64);
                let now = Instant::now();
                if due > now && !shared.sleep(due - now) {
                    return;
                }
                if stream.write_all(piece).is_err() {
                    return;
                }
                sent += piece.len();
            }
            finish(shared, stream);
        }
    }
}

/// Orderly close: FIN, then drain what the client still sends (so close never turns into RST).
fn finish(shared: &Shared, stream: &mut TcpStream) {
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let end = Instant::now() + Duration::from_millis(500);
    let mut scratch = [0u8; 1024];
    while Instant::now() < end && !shared.stopped() {
        match stream.read(&mut scratch) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => break,
        }
    }
}

/// Waits until the kernel has no unacknowledged bytes queued for this socket.
fn wait_sent(shared: &Shared, stream: &TcpStream, limit: Duration) {
    use std::os::fd::AsRawFd;
    let end = Instant::now() + limit;
    while Instant::now() < end && !shared.stopped() {
        let mut queued: libc::c_int = 0;
        // SAFETY: TIOCOUTQ (SIOCOUTQ) on a valid TCP socket fd writes one int.
        let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
        if rc != 0 || queued == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Closes with SO_LINGER 0, which makes the kernel send RST instead of FIN.
fn reset(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt with a correctly sized `linger` on a valid socket fd.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    // The socket closes (with RST) when the last handle drops: this one, and the registry's
    // clone, which is removed as soon as the connection thread returns.
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        206 => "Partial Content",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

fn route(shared: &Shared, req: &Request, ignore_range: bool) -> Response {
    if req.method != "GET" && req.method != "HEAD" {
        return Response::text(405, "method not allowed\n").with("Allow", "GET, HEAD");
    }
    let path = req.path.as_str();
    let redirect = shared.state().redirects.get(path).cloned();
    if let Some(location) = redirect {
        return Response::text(302, "Found\n").with("Location", location);
    }
    let trimmed = path.strip_prefix("/v1").unwrap_or(path);
    if trimmed == "/videos/search" || trimmed == "/videos/search/" {
        return pexels_search(shared, req);
    }
    if let Some(id) = trimmed.strip_prefix("/videos/videos/") {
        return pexels_one(shared, req, id.trim_end_matches('/'));
    }
    if path == "/api/videos/" || path == "/api/videos" {
        return pixabay_search(shared, req);
    }
    if path == "/w/api.php" {
        return wikimedia_api(shared, req);
    }
    if path == "/advancedsearch.php" {
        return archive_search(shared, req);
    }
    if let Some(id) = path.strip_prefix("/metadata/") {
        return archive_metadata(shared, id.trim_end_matches('/'));
    }
    if let Some(rest) = path.strip_prefix("/download/") {
        return archive_download(shared, rest);
    }
    if path.starts_with("/files/") {
        return serve_file(shared, req, ignore_range);
    }
    Response::text(404, "Not Found\n")
}

/// Videos of `source` matching `query`, in insertion order.
fn search(shared: &Shared, source: Source, query: &str) -> Vec<Arc<Entry>> {
    let wanted = words(query);
    shared
        .state()
        .videos
        .iter()
        .filter(|e| e.video.source == source && matches_words(&e.video, &wanted))
        .cloned()
        .collect()
}

fn matches_words(video: &Video, wanted: &[String]) -> bool {
    let mut have = words(&video.title);
    for tag in &video.tags {
        have.extend(words(tag));
    }
    wanted.iter().all(|w| have.contains(w))
}

/// Lower-cased alphanumeric words.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

fn page_slice<T: Clone>(items: &[T], offset: usize, limit: usize) -> Vec<T> {
    items.iter().skip(offset).take(limit).cloned().collect()
}

// --- Pexels -----------------------------------------------------------------------------------

fn pexels_auth(req: &Request) -> Option<Response> {
    if req.header("authorization") == Some(PEXELS_KEY) {
        None
    } else {
        Some(Response::new(
            401,
            "application/json; charset=utf-8",
            "{\"status\":401,\"code\":\"Unauthorized\",\"error\":\"Unauthorized\"}",
        ))
    }
}

fn pexels_ratelimit(shared: &Shared, resp: Response) -> Response {
    let used = {
        let mut state = shared.state();
        state.pexels_calls += 1;
        state.pexels_calls
    };
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 3600;
    resp.with("X-Ratelimit-Limit", "20000")
        .with(
            "X-Ratelimit-Remaining",
            (20000u64.saturating_sub(used)).to_string(),
        )
        .with("X-Ratelimit-Reset", reset.to_string())
}

fn pexels_search(shared: &Shared, req: &Request) -> Response {
    if let Some(denied) = pexels_auth(req) {
        return denied;
    }
    let query = req.param("query").unwrap_or("");
    let orientation_filter = req.param("orientation").unwrap_or("").to_ascii_lowercase();
    let page = req.num("page").unwrap_or(1).max(1) as usize;
    let per_page = req.num("per_page").unwrap_or(15).clamp(1, 80) as usize;
    let all: Vec<Arc<Entry>> = search(shared, Source::Pexels, query)
        .into_iter()
        .filter(|e| {
            orientation_filter.is_empty()
                || orientation(e.video.width, e.video.height) == orientation_filter
        })
        .collect();
    let base = &shared.base;
    let shown = page_slice(&all, (page - 1) * per_page, per_page);
    let page_url = |p: usize| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        ser.append_pair("page", &p.to_string());
        ser.append_pair("per_page", &per_page.to_string());
        ser.append_pair("query", query);
        if let Some(o) = req.param("orientation") {
            ser.append_pair("orientation", o);
        }
        if let Some(s) = req.param("size") {
            ser.append_pair("size", s);
        }
        format!("{base}/v1/videos/search/?{}", ser.finish())
    };
    let mut body = Map::new();
    body.insert("page".into(), json!(page));
    body.insert("per_page".into(), json!(per_page));
    body.insert("total_results".into(), json!(all.len()));
    body.insert(
        "url".into(),
        json!(format!("{base}/search/videos/{}/", pct(query))),
    );
    body.insert(
        "videos".into(),
        Value::Array(
            shown
                .iter()
                .map(|e| pexels_video(base, e))
                .collect::<Vec<_>>(),
        ),
    );
    if page * per_page < all.len() {
        body.insert("next_page".into(), json!(page_url(page + 1)));
    }
    if page > 1 {
        body.insert("prev_page".into(), json!(page_url(page - 1)));
    }
    pexels_ratelimit(shared, Response::json(&Value::Object(body)))
}

fn pexels_one(shared: &Shared, req: &Request, id: &str) -> Response {
    if let Some(denied) = pexels_auth(req) {
        return denied;
    }
    let entry = shared
        .state()
        .videos
        .iter()
        .find(|e| e.video.source == Source::Pexels && e.video.id == id)
        .cloned();
    match entry {
        Some(e) => pexels_ratelimit(shared, Response::json(&pexels_video(&shared.base, &e))),
        None => Response::new(
            404,
            "application/json; charset=utf-8",
            "{\"status\":404,\"code\":\"Not Found\"}",
        ),
    }
}

fn pexels_video(base: &str, e: &Entry) -> Value {
    let v = &e.video;
    let id: u64 = v.id.parse().unwrap_or(0);
    let quality = if v.height >= 2160 {
        "uhd"
    } else if v.height >= 720 {
        "hd"
    } else {
        "sd"
    };
    json!({
        "id": id,
        "width": v.width,
        "height": v.height,
        "duration": v.duration.round() as u64,
        "full_res": null,
        "tags": [],
        "url": format!("{base}/video/{}-{id}/", slug(&v.title)),
        "image": format!("{base}/images/pexels/{id}/preview.jpg"),
        "avg_color": null,
        "user": {
            "id": 700_000 + e.num,
            "name": v.author,
            "url": format!("{base}/@{}", slug(&v.author)),
        },
        // The HLS entry comes first: adapters must skip it.
        "video_files": [
            {
                "id": id * 10 + 1,
                "quality": "hls",
                "file_type": "application/x-mpegURL",
                "width": null,
                "height": null,
                "fps": null,
                "link": format!("{base}/hls/pexels/{id}.m3u8"),
            },
            {
                "id": id * 10 + 2,
                "quality": quality,
                "file_type": v.mime,
                "width": v.width,
                "height": v.height,
                "fps": v.fps,
                "link": listed_link(base, e),
                "size": v.data.len(),
            },
        ],
        "video_pictures": [
            {"id": id * 10 + 1, "picture": format!("{base}/images/pexels/{id}/0.jpg"), "nr": 0},
        ],
    })
}

// --- Pixabay ----------------------------------------------------------------------------------

fn pixabay_search(shared: &Shared, req: &Request) -> Response {
    if req.param("key") != Some(PIXABAY_KEY) {
        return Response::text(400, "[ERROR 400] Invalid or missing API key");
    }
    let q = req.param("q").unwrap_or("");
    if q.chars().count() > 100 {
        return Response::text(
            400,
            "[ERROR 400] \"q\" exceeds the maximum allowed length of 100 characters.",
        );
    }
    let per_page = req.num("per_page").unwrap_or(20);
    if !(3..=200).contains(&per_page) {
        return Response::text(400, "[ERROR 400] \"per_page\" is out of valid range.");
    }
    let per_page = per_page as usize;
    let page = req.num("page").unwrap_or(1);
    if page < 1 {
        return Response::text(400, "[ERROR 400] \"page\" is out of valid range.");
    }
    let page = page as usize;
    let min_width = req.num("min_width").unwrap_or(0).max(0) as u32;
    let min_height = req.num("min_height").unwrap_or(0).max(0) as u32;
    let only_id = req.param("id").filter(|s| !s.is_empty());
    let all: Vec<Arc<Entry>> = search(shared, Source::Pixabay, q)
        .into_iter()
        .filter(|e| e.video.width >= min_width && e.video.height >= min_height)
        .filter(|e| only_id.is_none_or(|id| e.video.id == id))
        .collect();
    let total_hits = all.len().min(500);
    if page > 1 && (page - 1) * per_page >= total_hits {
        return Response::text(400, "[ERROR 400] \"page\" is out of valid range.");
    }
    let base = &shared.base;
    let hits: Vec<Value> = page_slice(&all[..total_hits], (page - 1) * per_page, per_page)
        .iter()
        .map(|e| pixabay_hit(base, e))
        .collect();
    let resp = Response::json(&json!({"total": all.len(), "totalHits": total_hits, "hits": hits}));
    resp.with("X-RateLimit-Limit", "100")
        .with("X-RateLimit-Remaining", "99")
        .with("X-RateLimit-Reset", "60")
}

fn pixabay_hit(base: &str, e: &Entry) -> Value {
    let v = &e.video;
    let id: u64 = v.id.parse().unwrap_or(0);
    let slot = if v.width >= 1920 {
        "large"
    } else if v.width >= 1280 {
        "medium"
    } else if v.width >= 640 {
        "small"
    } else {
        "tiny"
    };
    let mut videos = Map::new();
    for name in ["large", "medium", "small", "tiny"] {
        let value = if name == slot {
            json!({
                "url": listed_link(base, e),
                "width": v.width,
                "height": v.height,
                "size": v.data.len(),
                "thumbnail": format!("{base}/images/pixabay/{id}_{name}.jpg"),
            })
        } else {
            json!({"url": "", "width": 0, "height": 0, "size": 0, "thumbnail": ""})
        };
        videos.insert(name.to_string(), value);
    }
    json!({
        "id": id,
        "pageURL": format!("{base}/videos/{}-{id}/", slug(&v.title)),
        "type": "film",
        "tags": v.tags.join(", "),
        "duration": v.duration.round() as u64,
        "videos": videos,
        "views": 1000 + e.num * 7,
        "downloads": 300 + e.num * 3,
        "likes": 10 + e.num,
        "comments": e.num % 5,
        "user_id": 800_000 + e.num,
        "user": v.author,
        "userImageURL": format!("{base}/images/pixabay/user-{}.png", 800_000 + e.num),
    })
}

// --- Wikimedia --------------------------------------------------------------------------------

fn wikimedia_api(shared: &Shared, req: &Request) -> Response {
    let error = |code: &str, info: &str| {
        Response::json(&json!({
            "error": {"code": code, "info": info, "docref": "See /w/api.php for API usage."},
            "servedby": "fake-provider",
        }))
        .with("MediaWiki-API-Error", code)
    };
    if req.param("action") != Some("query") {
        return error("badvalue", "Unrecognized value for parameter \"action\".");
    }
    if req.param("format") != Some("json") {
        return Response::new(
            200,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><body><pre>API help (format=json missing)</pre></body></html>",
        );
    }
    if req.param("generator") != Some("search") {
        return Response::json(&json!({"batchcomplete": true}));
    }
    let Some(search_text) = req.param("gsrsearch").filter(|s| !s.trim().is_empty()) else {
        return error("missingparam", "The \"gsrsearch\" parameter must be set.");
    };
    let theme: String = search_text
        .split_whitespace()
        .filter(|w| !w.to_ascii_lowercase().starts_with("filetype:"))
        .collect::<Vec<_>>()
        .join(" ");
    let limit = match req.param("gsrlimit") {
        Some("max") => 50,
        _ => req.num("gsrlimit").unwrap_or(10).clamp(1, 50) as usize,
    };
    let offset = req.num("gsroffset").unwrap_or(0).max(0) as usize;
    let all = search(shared, Source::Wikimedia, &theme);
    let shown = page_slice(&all, offset, limit);
    let mut body = Map::new();
    body.insert("batchcomplete".into(), json!(true));
    if offset + limit < all.len() {
        body.insert(
            "continue".into(),
            json!({"gsroffset": offset + limit, "continue": "gsroffset||"}),
        );
    }
    if !shown.is_empty() {
        let props: Vec<&str> = req
            .param("prop")
            .unwrap_or("")
            .split('|')
            .filter(|p| !p.is_empty())
            .collect();
        let iiprop: Vec<&str> = req
            .param("iiprop")
            .unwrap_or("timestamp|user")
            .split('|')
            .collect();
        let base = &shared.base;
        let pages: Vec<Value> = shown
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut page = wikimedia_page(base, e, offset + i + 1);
                if props.contains(&"imageinfo") {
                    page["imageinfo"] = json!([wikimedia_imageinfo(base, e, &iiprop)]);
                }
                page
            })
            .collect();
        body.insert("query".into(), json!({"pages": pages}));
    }
    Response::json(&Value::Object(body))
}

fn wikimedia_title(v: &Video) -> String {
    v.id.replace('_', " ")
}

fn wikimedia_page(_base: &str, e: &Entry, index: usize) -> Value {
    json!({
        "pageid": 90_000_000 + e.num,
        "ns": 6,
        "title": format!("File:{}", wikimedia_title(&e.video)),
        "index": index,
    })
}

fn wikimedia_imageinfo(base: &str, e: &Entry, iiprop: &[&str]) -> Value {
    let v = &e.video;
    let mut info = Map::new();
    let has = |p: &str| iiprop.contains(&p);
    if has("timestamp") {
        info.insert("timestamp".into(), json!("2024-01-02T03:04:05Z"));
    }
    if has("user") {
        info.insert("user".into(), json!(v.author));
    }
    if has("size") {
        info.insert("size".into(), json!(v.data.len()));
        info.insert("width".into(), json!(v.width));
        info.insert("height".into(), json!(v.height));
        info.insert("duration".into(), json!(v.duration));
    }
    if has("url") {
        info.insert("url".into(), json!(listed_link(base, e)));
        info.insert(
            "descriptionurl".into(),
            json!(format!(
                "{base}/wiki/File:{}",
                pct(&wikimedia_title(v).replace(' ', "_"))
            )),
        );
        info.insert(
            "descriptionshorturl".into(),
            json!(format!("{base}/w/index.php?curid={}", 90_000_000 + e.num)),
        );
    }
    if has("mime") {
        info.insert("mime".into(), json!(v.mime));
    }
    if has("mediatype") {
        info.insert("mediatype".into(), json!("VIDEO"));
    }
    if has("sha1") {
        info.insert("sha1".into(), json!(e.sha1));
    }
    if has("extmetadata") {
        let field = |value: Value| json!({"value": value, "source": "commons-desc-page"});
        let mut meta = Map::new();
        meta.insert("ObjectName".into(), field(json!(v.title)));
        meta.insert(
            "ImageDescription".into(),
            field(json!(format!("<p>{}</p>", v.title))),
        );
        meta.insert(
            "Artist".into(),
            field(json!(format!(
                "<a href=\"//commons.wikimedia.org/wiki/User:{}\" title=\"User:{}\">{}</a>",
                v.author.replace(' ', "_"),
                v.author,
                v.author
            ))),
        );
        meta.insert(
            "Credit".into(),
            field(json!(
                "<span class=\"int-own-work\" lang=\"en\">Own work</span>"
            )),
        );
        if !v.license.is_empty() {
            meta.insert("LicenseShortName".into(), field(json!(v.license)));
        }
        let url = license_url(&v.license);
        if !url.is_empty() {
            meta.insert("LicenseUrl".into(), field(json!(url)));
        }
        meta.insert(
            "AttributionRequired".into(),
            field(json!(if v.license.to_ascii_lowercase().contains("by") {
                "true"
            } else {
                "false"
            })),
        );
        info.insert("extmetadata".into(), Value::Object(meta));
    }
    Value::Object(info)
}

// --- Internet Archive -------------------------------------------------------------------------

fn archive_search(shared: &Shared, req: &Request) -> Response {
    let q = req.param("q").unwrap_or("");
    let theme: Vec<&str> = q
        .split(" AND ")
        .filter(|part| !part.contains("mediatype:"))
        .collect();
    let theme: String = theme
        .join(" ")
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '"'))
        .collect();
    if req.param("output") != Some("json") {
        return Response::new(
            200,
            "text/xml; charset=utf-8",
            "<?xml version=\"1.0\"?><response><result name=\"response\"/></response>",
        );
    }
    let rows = req.num("rows").unwrap_or(50).clamp(0, 10_000) as usize;
    let page = req.num("page").unwrap_or(1).max(1) as usize;
    let all = if theme.trim().is_empty() {
        Vec::new()
    } else {
        search(shared, Source::Archive, &theme)
    };
    let start = (page - 1) * rows;
    let fields: Vec<&str> = req.params("fl[]");
    let want = |f: &str| fields.is_empty() || fields.contains(&f);
    let docs: Vec<Value> = page_slice(&all, start, rows)
        .iter()
        .map(|e| {
            let v = &e.video;
            let mut doc = Map::new();
            if want("identifier") {
                doc.insert("identifier".into(), json!(v.id));
            }
            if want("title") {
                doc.insert("title".into(), json!(v.title));
            }
            if want("creator") && !v.author.is_empty() {
                doc.insert("creator".into(), json!(v.author));
            }
            let url = license_url(&v.license);
            if want("licenseurl") && !url.is_empty() {
                doc.insert("licenseurl".into(), json!(url));
            }
            Value::Object(doc)
        })
        .collect();
    Response::json(&json!({
        "responseHeader": {
            "status": 0,
            "QTime": 1,
            "params": {
                "query": q,
                "qin": q,
                "fields": fields.join(","),
                "wt": "json",
                "rows": rows.to_string(),
                "start": start,
            },
        },
        "response": {"numFound": all.len(), "start": start, "docs": docs},
    }))
}

fn archive_entry(shared: &Shared, identifier: &str) -> Option<Arc<Entry>> {
    shared
        .state()
        .videos
        .iter()
        .find(|e| e.video.source == Source::Archive && e.video.id == identifier)
        .cloned()
}

fn archive_name(v: &Video) -> String {
    format!("{}.{}", v.id, v.ext)
}

fn archive_metadata(shared: &Shared, identifier: &str) -> Response {
    let Some(e) = archive_entry(shared, identifier) else {
        // The real API answers 200 with an empty object for unknown identifiers.
        return Response::json(&json!({}));
    };
    let v = &e.video;
    let id = &v.id;
    let thumb = format!("thumbnail of {id}").into_bytes();
    let meta_xml = format!("<metadata><identifier>{id}</identifier></metadata>").into_bytes();
    let torrent = format!("d8:announce0:4:info{id}e").into_bytes();
    let small = |name: String, source: &str, format: &str, data: &[u8]| {
        json!({
            "name": name,
            "source": source,
            "format": format,
            "mtime": "1704164645",
            "size": data.len().to_string(),
            "md5": md5_hex(data),
            "sha1": sha1_hex(data),
        })
    };
    let format = match v.ext.as_str() {
        "mp4" => "MPEG4",
        "webm" => "WebM",
        "ogv" => "Ogg Video",
        "mkv" => "Matroska",
        other => other,
    };
    let files = vec![
        // Not a video: listed first so adapters have to skip it.
        small("__ia_thumb.jpg".into(), "original", "Item Tile", &thumb),
        json!({
            "name": archive_name(v),
            "source": "original",
            "format": format,
            "mtime": "1704164645",
            "size": v.data.len().to_string(),
            "length": format!("{:.2}", v.duration),
            "width": v.width.to_string(),
            "height": v.height.to_string(),
            "md5": e.md5,
            "sha1": e.sha1,
        }),
        small(format!("{id}_meta.xml"), "original", "Metadata", &meta_xml),
        small(
            format!("{id}_archive.torrent"),
            "metadata",
            "Archive BitTorrent",
            &torrent,
        ),
    ];
    let mut metadata = Map::new();
    metadata.insert("identifier".into(), json!(id));
    metadata.insert("title".into(), json!(v.title));
    if !v.author.is_empty() {
        metadata.insert("creator".into(), json!(v.author));
    }
    let url = license_url(&v.license);
    if !url.is_empty() {
        metadata.insert("licenseurl".into(), json!(url));
    }
    metadata.insert("mediatype".into(), json!("movies"));
    metadata.insert("subject".into(), json!(v.tags.join("; ")));
    Response::json(&json!({
        "created": 1_704_164_645u64,
        "d1": "127.0.0.1",
        "dir": format!("/items/{id}"),
        "files": files,
        "files_count": 4,
        "item_last_updated": 1_704_164_645u64,
        "item_size": v.data.len() + thumb.len() + meta_xml.len() + torrent.len(),
        "metadata": metadata,
        "server": "127.0.0.1",
        "uniq": 1_000_000 + e.num,
        "workable_servers": ["127.0.0.1"],
    }))
}

fn archive_download(shared: &Shared, rest: &str) -> Response {
    let Some((identifier, name)) = rest.split_once('/') else {
        return Response::text(404, "Not Found\n");
    };
    match archive_entry(shared, identifier) {
        Some(e) if archive_name(&e.video) == name => {
            let location = format!("{}{}", shared.base, pct_path(&file_path(&e.video)));
            Response::new(
                302,
                "text/html; charset=UTF-8",
                format!("<html><body>Moved <a href=\"{location}\">here</a></body></html>"),
            )
            .with("Location", location)
        }
        _ => Response::text(404, "Not Found\n"),
    }
}

// --- Files ------------------------------------------------------------------------------------

/// The file link a search answer lists for a video: its override, else this server's file URL.
fn listed_link(base: &str, e: &Entry) -> String {
    e.link
        .clone()
        .unwrap_or_else(|| format!("{base}{}", pct_path(&file_path(&e.video))))
}

/// The byte-serving path (decoded form) of a video's file.
fn file_path(v: &Video) -> String {
    let name = match v.source {
        Source::Wikimedia => {
            let name = v.id.replace(' ', "_");
            if name
                .to_ascii_lowercase()
                .ends_with(&format!(".{}", v.ext.to_ascii_lowercase()))
            {
                name
            } else {
                format!("{name}.{}", v.ext)
            }
        }
        _ => format!("{}.{}", v.id, v.ext),
    };
    format!("/files/{}/{name}", v.source.name())
}

fn etag_of(e: &Entry, generation: u64) -> String {
    format!("\"{}-g{generation}\"", &e.sha256[..16])
}

fn last_modified_of(generation: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(BASE_MTIME_SECS + generation * 86_400))
}

fn serve_file(shared: &Shared, req: &Request, ignore_range: bool) -> Response {
    let found = {
        let state = shared.state();
        state
            .videos
            .iter()
            .find(|e| file_path(&e.video) == req.path)
            .map(|e| {
                let generation = state
                    .generations
                    .get(&(e.video.source, e.video.id.clone()))
                    .copied()
                    .unwrap_or(0);
                (e.clone(), generation)
            })
    };
    let Some((e, generation)) = found else {
        return Response::text(404, "Not Found\n");
    };
    let data = &e.video.data;
    let total = data.len() as u64;
    let etag = etag_of(&e, generation);
    let last_modified = last_modified_of(generation);
    let base = |status: u16, body: &[u8]| {
        Response::new(status, &e.video.mime, body.to_vec())
            .with("Accept-Ranges", "bytes")
            .with("ETag", etag.clone())
            .with("Last-Modified", last_modified.clone())
            .with("Cache-Control", "public, max-age=31536000")
    };
    let range = if ignore_range {
        None
    } else {
        req.header("range")
    };
    let if_range_ok = match req.header("if-range") {
        None => true,
        Some(v) => v == etag || v == last_modified,
    };
    let Some(range) = range.filter(|_| if_range_ok) else {
        return base(200, data);
    };
    match parse_range(range, total) {
        RangeSpec::Whole => base(200, data),
        RangeSpec::Unsatisfiable => Response::text(416, "Range Not Satisfiable\n")
            .with("Content-Range", format!("bytes */{total}"))
            .with("Accept-Ranges", "bytes")
            .with("ETag", etag.clone()),
        RangeSpec::Part(start, end) => base(206, &data[start as usize..=end as usize])
            .with("Content-Range", format!("bytes {start}-{end}/{total}")),
    }
}

enum RangeSpec {
    /// No usable range (syntax not understood, several ranges): send everything.
    Whole,
    Unsatisfiable,
    /// Inclusive.
    Part(u64, u64),
}

fn parse_range(value: &str, total: u64) -> RangeSpec {
    let Some(spec) = value
        .trim()
        .strip_prefix("bytes=")
        .or_else(|| value.trim().strip_prefix("Bytes="))
    else {
        return RangeSpec::Whole;
    };
    if spec.contains(',') {
        return RangeSpec::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeSpec::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix: the last N bytes.
        let Ok(n) = b.parse::<u64>() else {
            return RangeSpec::Whole;
        };
        if n == 0 || total == 0 {
            return RangeSpec::Unsatisfiable;
        }
        return RangeSpec::Part(total - n.min(total), total - 1);
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeSpec::Whole;
    };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(end) if end >= start => end,
            _ => return RangeSpec::Whole,
        }
    };
    if start >= total {
        return RangeSpec::Unsatisfiable;
    }
    RangeSpec::Part(start, end.min(total - 1))
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

fn orientation(width: u32, height: u32) -> &'static str {
    match width.cmp(&height) {
        std::cmp::Ordering::Greater => "landscape",
        std::cmp::Ordering::Less => "portrait",
        std::cmp::Ordering::Equal => "square",
    }
}

fn default_license(source: Source) -> &'static str {
    match source {
        Source::Pexels => "Pexels License",
        Source::Pixabay => "Pixabay Content License",
        Source::Wikimedia => "CC BY-SA 4.0",
        Source::Archive => "CC BY 4.0",
    }
}

/// The canonical URL of a licence given by its short name ("" when unknown).
pub fn license_url(short: &str) -> String {
    let s = short.trim().to_ascii_lowercase();
    if s == "cc0" || s.starts_with("cc0 ") || s.starts_with("cc-zero") {
        return "https://creativecommons.org/publicdomain/zero/1.0/".into();
    }
    if s == "public domain" || s == "pd" || s.starts_with("public domain mark") {
        return "https://creativecommons.org/publicdomain/mark/1.0/".into();
    }
    if let Some(rest) = s.strip_prefix("cc ").or_else(|| s.strip_prefix("cc-")) {
        let mut parts = rest.split([' ', '-']).filter(|p| !p.is_empty());
        let mut kinds = Vec::new();
        let mut version = "4.0";
        for p in parts.by_ref() {
            if p.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                version = p;
                break;
            }
            kinds.push(p);
        }
        if !kinds.is_empty() && kinds[0] == "by" {
            return format!(
                "https://creativecommons.org/licenses/{}/{version}/",
                kinds.join("-")
            );
        }
    }
    String::new()
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Lower-case ASCII slug with dashes.
fn slug(s: &str) -> String {
    let w = words(s);
    let joined: String = w
        .join("-")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if joined.is_empty() {
        "video".into()
    } else {
        joined
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes each segment of a path, keeping the slashes.
fn pct_path(path: &str) -> String {
    path.split('/').map(pct).collect::<Vec<_>>().join("/")
}

fn pct_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
