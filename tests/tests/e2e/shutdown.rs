//! Defect 4 of #13: a client that sends half a request, or promises a body
//! it never sends, holds neither a connection nor the hub's shutdown.
//! Raw TCP, as an attacker or a broken proxy would do it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use coso_tests::{Hub, wait_until};

/// True once the process has exited (a zombie not yet reaped counts).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
        Err(_) => true,
    }
}

fn sigterm(pid: u32) {
    // SAFETY: plain libc call on a pid this test spawned.
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
}

#[test]
fn a_half_sent_request_does_not_hold_the_hub_at_shutdown() {
    let mut hub = Hub::start();
    hub.add_unit("TDP41", "Tổ dân phố số 41", "residential-group");
    // A request line and a header, without the blank line that ends them.
    let mut http = TcpStream::connect(&hub.http).expect("connect http");
    http.write_all(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n")
        .expect("send half a request");
    // A gRPC connection that never starts TLS.
    let _grpc = TcpStream::connect(&hub.grpc).expect("connect grpc");
    let pid = hub.pid().expect("hub pid");
    sigterm(pid);
    wait_until(
        Duration::from_secs(60),
        "the hub to exit with clients still connected",
        || exited(pid),
    );
    hub.stop();
    // The database was flushed and released: the hub starts again at once.
    hub.serve();
    let units = hub.cmd(&["unit", "list", "--json"]).ok().json();
    assert_eq!(units["units"][0]["unit"], "TDP41", "{units:#}");
    drop(http);
}

#[test]
fn a_promised_body_that_never_arrives_is_cut() {
    let hub = Hub::start();
    let mut s = TcpStream::connect(&hub.http).expect("connect http");
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .expect("read timeout");
    s.write_all(
        b"POST /api/v1/reports HTTP/1.1\r\nHost: hub\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 10000000000\r\n\r\n--x\r\n",
    )
    .expect("send");
    // The hub answers or closes; it never waits for the ten gigabytes.
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!(
                "the hub held the connection: {e}; read so far: {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
    let text = String::from_utf8_lossy(&got);
    assert!(
        got.is_empty() || text.starts_with("HTTP/1.1 4"),
        "unexpected answer: {text}"
    );
    // And it still serves everyone else.
    let mut h = TcpStream::connect(&hub.http).expect("connect http");
    h.write_all(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut out = String::new();
    h.read_to_string(&mut out).expect("read healthz");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
}
