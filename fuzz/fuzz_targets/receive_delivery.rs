//! The city hub's receiver (`POST /api/v1/reports`): the delivery's headers
//! and its multipart body, parsed and checked by the same steps the handler
//! runs, with no server and no store. The input is header lines
//! (`Name: value`), a blank line, then the body. Nothing may panic, and an
//! accepted delivery's content hash is the hash of its report part.
#![no_main]

use std::sync::OnceLock;

use coso_ward::upstream::payload::content_sha256;
use coso_hub::receive::parse;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\r', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\r'] = b {
        b = rest;
    }
    b
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(trim(&line[..colon])),
            HeaderValue::from_bytes(trim(&line[colon + 1..])),
        ) {
            headers.append(name, value);
        }
    }
    if let Ok((meta, payload, content)) = runtime().block_on(parse(&headers, body.to_vec())) {
        assert_eq!(content, content_sha256(&payload.report_json));
        if let Some(sent) = meta.content {
            assert_eq!(sent, content);
        }
    }
});
