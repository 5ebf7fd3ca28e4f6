//! What the server's threads share: the catalogue of videos with their checksums, the ETag
//! generations, the fault rules, the request log and the open connections, behind one mutex.

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::faults::ActiveRule;
use super::{RequestRecord, Source, Video};

/// A listed video with what the server derives from it once.
pub(super) struct Entry {
    pub(super) video: Video,
    /// Serial number (stable per server), used for page ids, user ids…
    pub(super) num: u64,
    pub(super) sha256: String,
    pub(super) sha1: String,
    pub(super) md5: String,
    /// Listed instead of this server's own file URL (see [`super::FakeProvider::set_link`]).
    pub(super) link: Option<String>,
}

/// Everything that changes while the server runs.
#[derive(Default)]
pub(super) struct State {
    pub(super) videos: Vec<Arc<Entry>>,
    pub(super) generations: HashMap<(Source, String), u64>,
    pub(super) faults: Vec<ActiveRule>,
    pub(super) log: Vec<RequestRecord>,
    pub(super) next_num: u64,
    pub(super) pexels_calls: u64,
    /// Path → Location answered with 302 (see [`super::FakeProvider::redirect`]).
    pub(super) redirects: HashMap<String, String>,
}

/// Shared by the accept thread, the connection threads and the [`super::FakeProvider`] handle.
pub(super) struct Shared {
    pub(super) base: String,
    pub(super) stop: AtomicBool,
    pub(super) state: Mutex<State>,
    pub(super) conns: Mutex<HashMap<u64, TcpStream>>,
    pub(super) next_conn: AtomicU64,
    pub(super) active: AtomicUsize,
}

impl Shared {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not take the whole fake down with it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Sleeps `d`, waking early when the server stops; false if it stopped.
    pub(super) fn sleep(&self, d: Duration) -> bool {
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
