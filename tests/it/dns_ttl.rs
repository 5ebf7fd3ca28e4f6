//! The HTTP client's resolver against a tiny DNS server on 127.0.0.1: answers are kept for
//! their record's TTL (no longer, no shorter), and the egress filter applies to what DNS says.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::A;
use hickory_resolver::proto::rr::{RData, Record, RecordType};
use reqwest::dns::{Name, Resolve};
use vfetch::egress::EgressPolicy;
use vfetch::sources::dns::CachingResolver;

use crate::support::wait_until;

/// One name the server knows: its current address and the TTL it gives it.
#[derive(Clone, Copy)]
struct Entry {
    address: Ipv4Addr,
    ttl: u32,
}

/// A UDP DNS server for one name, whose answer a test can change; it counts the A questions.
struct DnsServer {
    addr: SocketAddr,
    entry: Arc<Mutex<Entry>>,
    a_questions: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    fn start(name: &str, entry: Entry) -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind dns server");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        let addr = socket.local_addr().expect("local addr");
        let name = hickory_resolver::proto::rr::Name::from_str(name).expect("name");
        let entry = Arc::new(Mutex::new(entry));
        let a_questions = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (entry, a_questions, stop) = (entry.clone(), a_questions.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    let Ok(question) = Message::from_vec(&buf[..len]) else {
                        continue;
                    };
                    let current = *entry.lock().unwrap();
                    let reply = answer(&question, &name, current, &a_questions);
                    let bytes = reply.to_vec().expect("encode answer");
                    let _ = socket.send_to(&bytes, peer);
                }
            })
        };
        DnsServer {
            addr,
            entry,
            a_questions,
            stop,
            thread: Some(thread),
        }
    }

    fn set_address(&self, address: Ipv4Addr) {
        self.entry.lock().unwrap().address = address;
    }

    fn a_questions(&self) -> usize {
        self.a_questions.load(Ordering::SeqCst)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The reply to `question`: the entry for an A question about `name`, an empty NOERROR for its
/// other types (AAAA), NXDOMAIN for any other name.
fn answer(
    question: &Message,
    name: &hickory_resolver::proto::rr::Name,
    entry: Entry,
    a: &AtomicUsize,
) -> Message {
    let mut reply = Message::new(
        question.metadata.id,
        MessageType::Response,
        question.metadata.op_code,
    );
    reply.metadata.recursion_desired = question.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.metadata.authoritative = true;
    reply.add_queries(question.queries.iter().cloned());
    for query in &question.queries {
        if !query.name().eq_case(name) {
            reply.metadata.response_code = ResponseCode::NXDomain;
        } else if query.query_type() == RecordType::A {
            a.fetch_add(1, Ordering::SeqCst);
            reply.add_answer(Record::from_rdata(
                query.name().clone(),
                entry.ttl,
                RData::A(A(entry.address)),
            ));
        }
    }
    reply
}

/// Resolves `host` on `runtime`, the addresses or the error's text.
fn resolve(
    runtime: &tokio::runtime::Runtime,
    resolver: &CachingResolver,
    host: &str,
) -> Result<Vec<IpAddr>, String> {
    runtime.block_on(async {
        match resolver.resolve(Name::from_str(host).expect("name")).await {
            Ok(addrs) => Ok(addrs.map(|a| a.ip()).collect()),
            Err(e) => Err(e.to_string()),
        }
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

const FIRST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const SECOND: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

#[test]
fn a_moved_host_is_followed_once_its_ttl_runs_out() {
    let name = "moving.vfetch.test.";
    let server = DnsServer::start(
        name,
        Entry {
            address: FIRST,
            ttl: 1,
        },
    );
    let runtime = runtime();
    let resolver = CachingResolver::with_name_server(server.addr, EgressPolicy::new(true, [""; 0]));

    assert_eq!(
        resolve(&runtime, &resolver, name),
        Ok(vec![IpAddr::V4(FIRST)])
    );
    server.set_address(SECOND);
    // A one-second TTL: the new address must be seen long before the 300 s a fixed cache kept.
    wait_until(
        Duration::from_secs(30),
        "the resolver to see the new address",
        || resolve(&runtime, &resolver, name) == Ok(vec![IpAddr::V4(SECOND)]),
    );
    assert!(
        server.a_questions() >= 2,
        "asked {} times",
        server.a_questions()
    );
}

#[test]
fn an_answer_is_reused_while_its_ttl_lasts() {
    let name = "steady.vfetch.test.";
    let server = DnsServer::start(
        name,
        Entry {
            address: FIRST,
            ttl: 3600,
        },
    );
    let runtime = runtime();
    let resolver = CachingResolver::with_name_server(server.addr, EgressPolicy::new(true, [""; 0]));

    assert_eq!(
        resolve(&runtime, &resolver, name),
        Ok(vec![IpAddr::V4(FIRST)])
    );
    server.set_address(SECOND);
    for _ in 0..3 {
        assert_eq!(
            resolve(&runtime, &resolver, name),
            Ok(vec![IpAddr::V4(FIRST)])
        );
    }
    assert_eq!(
        server.a_questions(),
        1,
        "the cached answer was asked for again"
    );
}

#[test]
fn a_dns_answer_pointing_inside_is_refused() {
    let name = "inside.vfetch.test.";
    let server = DnsServer::start(
        name,
        Entry {
            address: Ipv4Addr::new(10, 1, 2, 3),
            ttl: 60,
        },
    );
    let runtime = runtime();
    let egress = EgressPolicy::new(false, [""; 0]);
    let resolver = CachingResolver::with_name_server(server.addr, egress.clone());

    let error = resolve(&runtime, &resolver, name).expect_err("a private address was allowed");
    assert!(
        error.contains("10.1.2.3") && error.contains("private"),
        "{error}"
    );
    // Allowing private addresses (a config reload) applies to the cached answer too.
    egress.configure(true, [""; 0]);
    assert_eq!(
        resolve(&runtime, &resolver, name),
        Ok(vec![IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))])
    );
}
