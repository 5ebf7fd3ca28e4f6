//! The HTTP/1.1 plumbing on the receiving side: the accept loop (one thread per connection,
//! one request per connection), reading and parsing a request within bounds, and recording it
//! in the request log before the answer goes out.

use std::io::{ErrorKind, Read};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::faults;
use super::response::{send, Delivery, Response};
use super::state::Shared;
use super::text::pct_decode;
use super::RequestRecord;

/// Request heads longer than this are refused with 431.
const MAX_HEAD: usize = 16 * 1024;
/// Request bodies longer than this are refused with 413.
const MAX_BODY: usize = 1024 * 1024;

/// Accepts connections until the server stops, each on its own thread.
pub(super) fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
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

/// A parsed request (header names lower-cased, path and query decoded).
pub(super) struct Request {
    pub(super) method: String,
    /// As received: path and query, not decoded.
    pub(super) target: String,
    pub(super) path: String,
    pub(super) query: Vec<(String, String)>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) at: Instant,
}

impl Request {
    /// The first header with this (lower-case) name.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first query parameter with this name.
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated query parameter.
    pub(super) fn params(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A query parameter as a number (None when absent or not a number).
    pub(super) fn num(&self, name: &str) -> Option<i64> {
        self.param(name).and_then(|v| v.trim().parse().ok())
    }
}

/// What reading a request gave.
enum ReadOutcome {
    Ok(Request),
    /// Client went away or server stopping: nothing to answer.
    Gone,
    /// Unparseable: answer 400 (or 431) and record it.
    Bad(u16, String),
}

/// Reads one request, answers it (faults applied) and closes.
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

    let Some((resp, delivery)) = faults::answer(shared, &req) else {
        return;
    };
    let head_only = req.method == "HEAD";
    record(shared, req, resp.status);
    send(shared, &mut stream, &resp, head_only, delivery);
}

/// Appends a request to the log with the status answered.
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

/// The decoded path and query, as fault rules and `requests_to` match them.
pub(super) fn decoded_target(path: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return path.to_string();
    }
    let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{path}?{}", q.join("&"))
}

/// Reads the head (and any body) of a request, within size and time bounds.
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

/// The position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
