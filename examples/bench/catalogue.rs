//! The bench's own HTTP server: a Wikimedia-API catalogue plus virtual, throttleable files,
//! and a tarpit that never answers.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::{json, Value};

use crate::content::fill;
use crate::util::lock;

/// One search result the catalogue lists.
#[derive(Clone)]
pub(crate) struct Item {
    /// File title without `File:`, e.g. `Bulk 001.mp4`.
    pub(crate) title: String,
    pub(crate) url: String,
    pub(crate) size: u64,
}

#[derive(Clone, Copy)]
struct VFile {
    seed: u64,
    size: u64,
}

/// One file request as served.
struct FileReq {
    path: String,
    range_start: Option<u64>,
    status: u16,
    at: Instant,
    sent: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
}

struct SrvShared {
    base: String,
    stop: AtomicBool,
    catalogue: Mutex<HashMap<String, Arc<Vec<Item>>>>,
    files: Mutex<HashMap<String, VFile>>,
    /// Bytes per second per connection for files; 0 = unthrottled.
    throttle: AtomicU64,
    api_requests: AtomicU64,
    active_files: AtomicUsize,
    max_active_files: AtomicUsize,
    log: Mutex<Vec<FileReq>>,
}

pub(crate) struct Srv {
    addr: SocketAddr,
    shared: Arc<SrvShared>,
    accept: Option<JoinHandle<()>>,
}

const LAST_MODIFIED: &str = "Tue, 02 Jan 2024 03:04:05 GMT";

impl Srv {
    pub(crate) fn start() -> Result<Srv> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(SrvShared {
            base: format!("http://{addr}"),
            stop: AtomicBool::new(false),
            catalogue: Mutex::new(HashMap::new()),
            files: Mutex::new(HashMap::new()),
            throttle: AtomicU64::new(0),
            api_requests: AtomicU64::new(0),
            active_files: AtomicUsize::new(0),
            max_active_files: AtomicUsize::new(0),
            log: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        let accept = std::thread::Builder::new()
            .name("bench-http".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if s.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = conn else { continue };
                    let s2 = s.clone();
                    let _ = std::thread::Builder::new()
                        .name("bench-http-conn".into())
                        .spawn(move || {
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                handle_conn(&s2, stream)
                            }));
                        });
                }
            })?;
        Ok(Srv {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    pub(crate) fn base(&self) -> String {
        self.shared.base.clone()
    }

    /// Lists `items` for searches whose theme (lower-cased, `filetype:` removed) is `theme`.
    pub(crate) fn add_theme(&self, theme: &str, items: Vec<Item>) {
        lock(&self.shared.catalogue).insert(theme.to_lowercase(), Arc::new(items));
    }

    /// Serves `size` bytes of content `seed` at `/files/<name>`; returns its URL.
    pub(crate) fn add_file(&self, name: &str, seed: u64, size: u64) -> String {
        let path = format!("/files/{name}");
        lock(&self.shared.files).insert(path.clone(), VFile { seed, size });
        format!("{}{path}", self.shared.base)
    }

    pub(crate) fn set_throttle(&self, bytes_per_sec: u64) {
        self.shared.throttle.store(bytes_per_sec, Ordering::SeqCst);
    }

    pub(crate) fn active_files(&self) -> usize {
        self.shared.active_files.load(Ordering::SeqCst)
    }

    pub(crate) fn file_requests(&self) -> Vec<(String, Option<u64>, u16, Instant, u64, bool)> {
        lock(&self.shared.log)
            .iter()
            .map(|r| {
                (
                    r.path.clone(),
                    r.range_start,
                    r.status,
                    r.at,
                    r.sent.load(Ordering::SeqCst),
                    r.done.load(Ordering::SeqCst),
                )
            })
            .collect()
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn handle_conn(sh: &SrvShared, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("/").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if path == "/w/api.php" {
        sh.api_requests.fetch_add(1, Ordering::SeqCst);
        let body = wikimedia_answer(sh, &query);
        send_simple(
            &mut stream,
            200,
            "application/json; charset=utf-8",
            body.as_bytes(),
        );
    } else if path.starts_with("/files/") {
        serve_file(sh, &mut stream, path, &headers, method == "HEAD");
    } else {
        send_simple(&mut stream, 404, "text/plain", b"not found\n");
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    // Drain briefly so the close is a FIN, not a reset.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = stream.read(&mut chunk);
}

fn send_simple(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        if status == 200 { "OK" } else { "Not Found" },
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// The MediaWiki search API, as the Wikimedia adapter reads it (formatversion=2).
fn wikimedia_answer(sh: &SrvShared, query: &[(String, String)]) -> String {
    let param = |n: &str| query.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let theme: String = param("gsrsearch")
        .unwrap_or("")
        .split_whitespace()
        .filter(|w| !w.to_ascii_lowercase().starts_with("filetype:"))
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let limit = match param("gsrlimit") {
        Some("max") => 50,
        Some(v) => v.parse::<usize>().unwrap_or(10).clamp(1, 50),
        None => 10,
    };
    let offset = param("gsroffset")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let items = lock(&sh.catalogue).get(&theme).cloned();
    let Some(items) = items else {
        return json!({"batchcomplete": true}).to_string();
    };
    let shown: Vec<Value> = items
        .iter()
        .enumerate()
        .skip(offset)
        .take(limit)
        .map(|(i, it)| {
            json!({
                "pageid": 1_000_000 + i,
                "ns": 6,
                "title": format!("File:{}", it.title),
                "index": i + 1,
                "imageinfo": [{
                    "url": it.url,
                    "descriptionurl": format!("{}/wiki/File:{}", sh.base, it.title.replace(' ', "_")),
                    "size": it.size,
                    "width": 1920,
                    "height": 1080,
                    "duration": 10.0,
                    "mime": "video/mp4",
                    "mediatype": "VIDEO",
                }],
            })
        })
        .collect();
    let mut body = json!({"batchcomplete": true});
    if offset + limit < items.len() {
        body["continue"] = json!({"gsroffset": offset + limit, "continue": "gsroffset||"});
    }
    if !shown.is_empty() {
        body["query"] = json!({ "pages": shown });
    }
    body.to_string()
}

fn serve_file(
    sh: &SrvShared,
    stream: &mut TcpStream,
    path: &str,
    headers: &[(String, String)],
    head_only: bool,
) {
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let Some(vf) = lock(&sh.files).get(path).copied() else {
        send_simple(stream, 404, "text/plain", b"not found\n");
        return;
    };
    let etag = format!("\"v{:x}-{}\"", vf.seed, vf.size);
    let range = header("range").and_then(|r| {
        let spec = r.trim().strip_prefix("bytes=")?;
        let (a, b) = spec.split_once('-')?;
        let start: u64 = a.trim().parse().ok()?;
        let end: Option<u64> = if b.trim().is_empty() {
            None
        } else {
            Some(b.trim().parse().ok()?)
        };
        Some((start, end))
    });
    let if_range_ok = header("if-range").is_none_or(|v| v == etag || v == LAST_MODIFIED);
    let (status, start, end) = match range.filter(|_| if_range_ok) {
        Some((s, e)) if s < vf.size => (206u16, s, e.map_or(vf.size, |e| (e + 1).min(vf.size))),
        Some(_) => {
            let head = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                vf.size
            );
            let _ = stream.write_all(head.as_bytes());
            return;
        }
        None => (200u16, 0, vf.size),
    };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: video/mp4\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nETag: {etag}\r\nLast-Modified: {LAST_MODIFIED}\r\nConnection: close\r\n",
        if status == 200 { "OK" } else { "Partial Content" },
        end - start
    );
    if status == 206 {
        let _ = write!(
            head,
            "Content-Range: bytes {start}-{}/{}\r\n",
            end - 1,
            vf.size
        );
    }
    head.push_str("\r\n");
    let sent = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    lock(&sh.log).push(FileReq {
        path: path.to_string(),
        range_start: range.filter(|_| if_range_ok).map(|(s, _)| s),
        status,
        at: Instant::now(),
        sent: sent.clone(),
        done: done.clone(),
    });
    if stream.write_all(head.as_bytes()).is_err() || head_only {
        done.store(true, Ordering::SeqCst);
        return;
    }
    let active = sh.active_files.fetch_add(1, Ordering::SeqCst) + 1;
    sh.max_active_files.fetch_max(active, Ordering::SeqCst);
    let rate = sh.throttle.load(Ordering::SeqCst);
    let piece = if rate == 0 {
        256 << 10
    } else {
        (rate / 50).clamp(4 << 10, 256 << 10) as usize
    };
    let mut buf = vec![0u8; piece];
    let t0 = Instant::now();
    let mut pos = start;
    while pos < end && !sh.stop.load(Ordering::SeqCst) {
        let n = (end - pos).min(piece as u64) as usize;
        fill(vf.seed, pos, &mut buf[..n]);
        if rate > 0 {
            let due = t0 + Duration::from_secs_f64((pos - start) as f64 / rate as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        if stream.write_all(&buf[..n]).is_err() {
            break;
        }
        pos += n as u64;
        sent.fetch_add(n as u64, Ordering::SeqCst);
    }
    sh.active_files.fetch_sub(1, Ordering::SeqCst);
    done.store(true, Ordering::SeqCst);
}

/// Accepts connections into its backlog and never answers them: downloads pointed here hang.
pub(crate) struct Tarpit {
    listener: TcpListener,
}

impl Tarpit {
    pub(crate) fn start() -> Result<Tarpit> {
        Ok(Tarpit {
            listener: TcpListener::bind("127.0.0.1:0")?,
        })
    }

    pub(crate) fn base(&self) -> String {
        format!(
            "http://{}",
            self.listener.local_addr().expect("tarpit address")
        )
    }
}
