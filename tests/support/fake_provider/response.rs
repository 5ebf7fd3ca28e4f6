//! The HTTP/1.1 plumbing on the answering side: the [`Response`] value the routes build, and
//! writing it to the socket, either whole and closed in order, or broken as a fault asks
//! (reset, stall, truncation, throttling; see [`Delivery`]).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::state::Shared;

/// The longest a stalled answer keeps its connection open.
const STALL_LIMIT: Duration = Duration::from_secs(60);

/// An answer: status, headers (`Content-Length`, `Date` and `Connection` are added on
/// sending) and body.
pub(super) struct Response {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Response {
    /// An answer with this status, content type and body.
    pub(super) fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// 200 with a JSON body.
    pub(super) fn json(value: &Value) -> Response {
        Response::new(
            200,
            "application/json; charset=utf-8",
            serde_json::to_vec(value).expect("serialise JSON"),
        )
    }

    /// A plain-text answer.
    pub(super) fn text(status: u16, text: &str) -> Response {
        Response::new(status, "text/plain; charset=utf-8", text.as_bytes())
    }

    /// The same answer with one more header.
    pub(super) fn with(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// How the body gets onto the wire.
#[derive(Clone, Copy)]
pub(super) enum Delivery {
    /// Everything, then an orderly close.
    Normal,
    /// The head and N body bytes, then RST.
    Reset(u64),
    /// The head and N body bytes, then silence until the client gives up.
    Stall(u64),
    /// The head and N body bytes, then an orderly close.
    Truncate(u64),
    /// Everything, at about this many bytes per second.
    Throttle(u64),
}

/// Writes `resp` (without its body for HEAD) as `how` says.
pub(super) fn send(
    shared: &Shared,
    stream: &mut TcpStream,
    resp: &Response,
    head_only: bool,
    how: Delivery,
) {
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

/// The reason phrase of a status.
pub(super) fn reason(code: u16) -> &'static str {
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
