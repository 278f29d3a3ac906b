//! The README's phone-width screenshots: builds the sample ward of
//! `coso_tests::pages` (a hub and two agents in temporary directories, on the
//! real binaries), opens both faces in headless Chromium at 360 CSS pixels,
//! and saves a few pages as PNG files. Not part of `cargo test`: screenshots
//! change with fonts and are looked at, not asserted.
//!
//! Usage: `cargo run -p coso-tests --features kit --bin coso-screens [-- OUT_DIR]` (default
//! `docs/screenshots`). Needs chromium and chromedriver, as the browser tests do.

use std::path::PathBuf;

use coso_tests::browser::Browser;
use coso_tests::pages::{KEPT, PERIOD, SUBMITTED, Sample};

/// The phone's width, in CSS pixels.
const PHONE: u32 = 360;
/// An office screen's width, in CSS pixels.
const DESK: u32 = 1280;

fn main() {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("docs/screenshots"));
    let sample = Sample::build();
    let b = Browser::start();
    sample.open_sessions(&b);
    b.set_width(PHONE);
    let hub = sample.hub_base();
    let ui = &sample.ui.base;
    for (name, url) in [
        ("phone-hub-grid", format!("{hub}/periods/{PERIOD}")),
        (
            "phone-hub-unit",
            format!("{hub}/periods/{PERIOD}/units/{SUBMITTED}"),
        ),
        ("phone-agent-home", format!("{ui}/")),
        ("phone-agent-activities", format!("{ui}/activities")),
        (
            "phone-hub-entry",
            format!("{hub}/periods/{PERIOD}/units/{KEPT}/entry"),
        ),
    ] {
        b.goto(&url);
        let path = out.join(format!("{name}.png"));
        b.screenshot(&path);
        println!("{}", path.display());
    }
    // The entry page of a unit kept at the ward, as a reviewer sees it at a desk.
    b.set_width(DESK);
    b.goto(&format!("{hub}/periods/{PERIOD}/units/{KEPT}/entry"));
    let path = out.join("hub-entry.png");
    b.screenshot(&path);
    println!("{}", path.display());
}
