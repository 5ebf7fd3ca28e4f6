//! Fault injection: the faults a test can ask for ([`Fault`]), the rules that pick the requests
//! they apply to ([`FaultRule`]), and how a matching request's answer is changed or delivered.

use std::time::Duration;

use super::response::{reason, Delivery, Response};
use super::routes::route;
use super::server::{decoded_target, Request};
use super::state::Shared;

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

/// A rule as added, with the uses it has left (`None`: unlimited).
pub(super) struct ActiveRule {
    pub(super) rule: FaultRule,
    pub(super) remaining: Option<u32>,
}

/// The fault of the first rule that matches `req` and has uses left (consuming one).
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

/// The answer to `req` with the first matching fault applied, and how to put it on the wire;
/// `None` when the server stopped during an injected delay (nothing is answered then).
pub(super) fn answer(shared: &Shared, req: &Request) -> Option<(Response, Delivery)> {
    let fault = take_fault(shared, req);
    let mut delivery = Delivery::Normal;
    let resp = match fault {
        Some(Fault::Latency(d)) => {
            if !shared.sleep(d) {
                return None;
            }
            route(shared, req, false)
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
        Some(Fault::IgnoreRange) => route(shared, req, true),
        Some(Fault::ResetAfter(n)) => {
            delivery = Delivery::Reset(n);
            route(shared, req, false)
        }
        Some(Fault::StallAfter(n)) => {
            delivery = Delivery::Stall(n);
            route(shared, req, false)
        }
        Some(Fault::TruncateAfter(n)) => {
            delivery = Delivery::Truncate(n);
            route(shared, req, false)
        }
        Some(Fault::Throttle(bps)) => {
            delivery = Delivery::Throttle(bps.max(1));
            route(shared, req, false)
        }
        None => route(shared, req, false),
    };
    Some((resp, delivery))
}
