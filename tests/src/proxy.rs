//! A fault-injecting TCP proxy between agents and the hub, for the sync
//! end-to-end tests and the soak run. It gives agents one address that
//! survives hub restarts, counts the bytes on the wire, and can cut a
//! connection or run a callback (kill a process) after N bytes from the
//! agent, which lands the fault in the middle of a batch, or cut every
//! open connection at once.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What happens when the armed byte count is reached.
pub enum Trip {
    /// Drop the connection (both directions) at the byte.
    Cut,
    /// Run this (kill a process), then keep forwarding.
    Call(Box<dyn FnOnce() + Send>),
}

struct ProxyInner {
    target: Mutex<String>,
    up: AtomicU64,
    down: AtomicU64,
    trip: Mutex<Option<(u64, Trip)>>,
    /// Open connections (the agent's side), by id, so they can be cut.
    open: Mutex<Vec<(u64, TcpStream)>>,
    next_id: AtomicU64,
    accepted: AtomicU64,
    cuts: AtomicU64,
}

/// Forwards 127.0.0.1:PORT to the hub's gRPC address.
pub struct Proxy {
    pub addr: String,
    inner: Arc<ProxyInner>,
}

impl Proxy {
    pub fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr").to_string();
        let inner = Arc::new(ProxyInner {
            target: Mutex::new(target.to_string()),
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            trip: Mutex::new(None),
            open: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            cuts: AtomicU64::new(0),
        });
        let shared = inner.clone();
        // The accept thread lives as long as the process; it only ever
        // blocks in accept.
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let target = shared.target.lock().unwrap().clone();
                let Ok(server) = TcpStream::connect(&target) else {
                    continue; // the hub is down: the agent sees a closed connection
                };
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (Ok(c2), Ok(s2), Ok(c3)) =
                    (client.try_clone(), server.try_clone(), client.try_clone())
                else {
                    continue;
                };
                let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
                shared.open.lock().unwrap().push((id, c3));
                let a = shared.clone();
                let b = shared.clone();
                std::thread::spawn(move || {
                    pump(client, server, &a, true);
                    a.open.lock().unwrap().retain(|(i, _)| *i != id);
                });
                std::thread::spawn(move || pump(s2, c2, &b, false));
            }
        });
        Proxy { addr, inner }
    }

    /// Sends new connections to another address (a restarted hub).
    pub fn retarget(&self, target: &str) {
        *self.inner.target.lock().unwrap() = target.to_string();
    }

    /// Fires `trip` once the agent has sent `more` further bytes.
    pub fn arm(&self, more: u64, trip: Trip) {
        let at = self.inner.up.load(Ordering::SeqCst) + more;
        *self.inner.trip.lock().unwrap() = Some((at, trip));
    }

    pub fn disarm(&self) {
        self.inner.trip.lock().unwrap().take();
    }

    /// Whether an armed trip is still waiting for its byte.
    pub fn armed(&self) -> bool {
        self.inner.trip.lock().unwrap().is_some()
    }

    /// Cuts every open connection now; returns how many.
    pub fn cut_all(&self) -> usize {
        let open = std::mem::take(&mut *self.inner.open.lock().unwrap());
        for (_, s) in &open {
            let _ = s.shutdown(Shutdown::Both);
        }
        self.inner
            .cuts
            .fetch_add(open.len() as u64, Ordering::SeqCst);
        open.len()
    }

    /// (agent->hub, hub->agent) bytes so far.
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.inner.up.load(Ordering::SeqCst),
            self.inner.down.load(Ordering::SeqCst),
        )
    }

    /// (connections forwarded, connections cut) so far.
    pub fn connections(&self) -> (u64, u64) {
        (
            self.inner.accepted.load(Ordering::SeqCst),
            self.inner.cuts.load(Ordering::SeqCst),
        )
    }

    /// The link with the hub's address replaced by the proxy's.
    pub fn link(&self, link: &str) -> String {
        let start = link.find("://").expect("link scheme") + 3;
        let end = start + link[start..].find('/').expect("link path");
        format!("{}{}{}", &link[..start], self.addr, &link[end..])
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, inner: &ProxyInner, up: bool) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut send = n;
        let mut fired = None;
        if up {
            let before = inner.up.fetch_add(n as u64, Ordering::SeqCst);
            let mut trip = inner.trip.lock().unwrap();
            if let Some((at, _)) = &*trip
                && before + n as u64 >= *at
            {
                send = at.saturating_sub(before) as usize;
                fired = trip.take().map(|(_, t)| t);
            }
        } else {
            inner.down.fetch_add(n as u64, Ordering::SeqCst);
        }
        if to.write_all(&buf[..send]).is_err() {
            break;
        }
        match fired {
            Some(Trip::Cut) => {
                inner.cuts.fetch_add(1, Ordering::SeqCst);
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
            Some(Trip::Call(f)) => {
                f();
                if to.write_all(&buf[send..n]).is_err() {
                    break;
                }
            }
            None => {}
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
