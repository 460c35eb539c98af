//! A DNS server for tests: answers UDP queries on 127.0.0.1:<free port>
//! from a zone in a small text format, so restriction tests exercise the
//! real resolver without touching the network (STYLE.md §7).
//!
//! Zone lines are `name type value`; `#` starts a comment. Types: `A`,
//! `AAAA`, `MX` (`pref host`), `NS`, `PTR`, `CNAME`, `TXT` (the rest of
//! the line is one string), and two pseudo-types that make every query
//! for the name fail: `SERVFAIL` and `TIMEOUT` (no answer at all). A name
//! with no records of the asked type gets NODATA when it, or a name
//! below it, has records; otherwise NXDOMAIN. A `*.name` entry answers
//! for every name below `name` that has no records of its own.
//!
//! Used by the resolver's unit tests and, through `#[path]`, by
//! tests/smtpd_check.rs.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hickory_resolver::proto::op::{Message, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, TXT};
use hickory_resolver::proto::rr::{Name, RData, Record};

/// One zone line.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    kind: String,
    value: String,
}

/// Parsed zone data.
#[derive(Debug, Clone, Default)]
pub(crate) struct Zone {
    entries: Vec<Entry>,
}

impl Zone {
    /// Parse zone text; a line that is not `name type [value]` is an
    /// error naming the line.
    pub(crate) fn parse(text: &str) -> Result<Zone, String> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let rest = rest.trim_start();
            let (kind, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if kind.is_empty() {
                return Err(format!("zone line {}: want `name type value`", n + 1));
            }
            let value = value.trim().to_string();
            let kind = kind.to_ascii_uppercase();
            let entry = Entry {
                name: normalize(name),
                kind,
                value,
            };
            if entry.kind != "SERVFAIL" && entry.kind != "TIMEOUT" {
                rdata(&entry).ok_or_else(|| format!("zone line {}: bad record", n + 1))?;
            }
            entries.push(entry);
        }
        Ok(Zone { entries })
    }

    /// The records of `name`, or of the closest `*.parent` wildcard when
    /// it has none (RFC 4592, without the empty-non-terminal subtleties).
    fn records(&self, name: &str) -> Vec<&Entry> {
        let own: Vec<&Entry> = self.entries.iter().filter(|e| e.name == name).collect();
        if !own.is_empty() {
            return own;
        }
        let mut parent = name;
        while let Some((_, rest)) = parent.split_once('.') {
            let wildcard = format!("*.{rest}");
            let found: Vec<&Entry> = self.entries.iter().filter(|e| e.name == wildcard).collect();
            if !found.is_empty() {
                return found;
            }
            parent = rest;
        }
        Vec::new()
    }

    /// The response to a query, or None to stay silent.
    fn answer(&self, query: &Message) -> Option<Message> {
        let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
        reply.metadata.recursion_desired = query.metadata.recursion_desired;
        reply.metadata.recursion_available = true;
        reply.metadata.authoritative = true;
        let Some(q) = query.queries.first() else {
            reply.metadata.response_code = ResponseCode::FormErr;
            return Some(reply);
        };
        reply.add_query(q.clone());
        // ASCII: `xn--` labels must not turn into Unicode.
        let qname = normalize(&q.name.to_ascii());
        let here = self.records(&qname);
        if here.iter().any(|e| e.kind == "TIMEOUT") {
            return None;
        }
        if here.iter().any(|e| e.kind == "SERVFAIL") {
            reply.metadata.response_code = ResponseCode::ServFail;
            return Some(reply);
        }
        let wanted = q.query_type.to_string();
        let cname = here.iter().find(|e| e.kind == "CNAME");
        let matching = here
            .iter()
            .filter(|e| e.kind == wanted || (cname.is_some() && e.kind == "CNAME"));
        for entry in matching {
            if let Some(data) = rdata(entry) {
                reply.add_answer(Record::from_rdata(q.name.clone(), 60, data));
            }
        }
        let below = format!(".{qname}");
        let exists = !here.is_empty() || self.entries.iter().any(|e| e.name.ends_with(&below));
        if reply.answers.is_empty() && !exists {
            reply.metadata.response_code = ResponseCode::NXDomain;
        }
        Some(reply)
    }
}

/// Lower case, no trailing dot.
fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn host(value: &str) -> Option<Name> {
    Name::from_ascii(format!("{}.", value.trim_end_matches('.'))).ok()
}

fn rdata(entry: &Entry) -> Option<RData> {
    let v = entry.value.as_str();
    Some(match entry.kind.as_str() {
        "A" => RData::A(A(v.parse().ok()?)),
        "AAAA" => RData::AAAA(AAAA(v.parse().ok()?)),
        "MX" => {
            let (pref, exchange) = v.split_once(char::is_whitespace)?;
            RData::MX(MX::new(pref.parse().ok()?, host(exchange.trim())?))
        }
        "NS" => RData::NS(NS(host(v)?)),
        "PTR" => RData::PTR(PTR(host(v)?)),
        "CNAME" => RData::CNAME(CNAME(host(v)?)),
        "TXT" => RData::TXT(TXT::new(vec![v.to_string()])),
        _ => return None,
    })
}

/// A running server; stops when dropped.
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serve `zone` on 127.0.0.1 with a free port.
    pub(crate) fn start(zone: Zone) -> std::io::Result<Server> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let addr = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || serve(&socket, &zone, &flag));
        Ok(Server {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(socket: &UdpSocket, zone: &Zone, stop: &AtomicBool) {
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let Ok((len, peer)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Ok(query) = Message::from_vec(&buf[..len]) else {
            continue;
        };
        if let Some(bytes) = zone.answer(&query).and_then(|r| r.to_vec().ok()) {
            let _ = socket.send_to(&bytes, peer);
        }
    }
}
