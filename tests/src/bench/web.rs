//! The web dashboard's speed and weight: the completeness grid of a
//! 100-unit ward fetched over HTTPS (loopback, one keep-alive connection)
//! from the real release hub, its size, and the hub's idle RSS with the
//! dashboard serving, before and after the grid has been rendered.

use std::time::{Duration, Instant};

use super::client;
use super::measure::{self, bytes, dur, mib};
use crate::Hub;

pub struct Outcome {
    pub units: usize,
    pub samples: Vec<Duration>,
    pub page_bytes: usize,
    pub style_bytes: usize,
    pub idle_rss_kb: u64,
    /// What the idle RSS is made of: anonymous, file-backed (the binary),
    /// and of the anonymous part, transparent huge pages.
    pub idle_anon_kb: u64,
    pub idle_file_kb: u64,
    pub idle_huge_kb: u64,
    /// After sign-in and the first 100 grid requests.
    pub after_100_rss_kb: u64,
    pub after_rss_kb: u64,
    /// After all requests, once the hub has been idle for two seconds
    /// (the allocator returns freed memory after a delay).
    pub settled_rss_kb: u64,
}

/// A field of /proc/PID/smaps_rollup in kB (`AnonHugePages`).
fn rollup_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                let rest = l.strip_prefix(field)?.strip_prefix(':')?;
                rest.split_whitespace().next()?.parse().ok()
            })
        })
        .unwrap_or(0)
}

const PASSWORD: &str = "benchmark password 2026";

/// Signs in as a fresh admin (one-time password, then changed) and returns
/// an HTTPS client and its session cookie.
fn session(hub: &Hub) -> (reqwest::blocking::Client, String) {
    let otp = hub
        .cmd(&["user", "add", "bench", "--role", "admin"])
        .ok()
        .last_line();
    let ca = std::fs::read(hub.dir.join("tls").join("ca.crt")).expect("the hub's CA");
    let client = reqwest::blocking::Client::builder()
        .tls_certs_merge([reqwest::Certificate::from_pem(&ca).expect("a PEM CA")])
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTPS client");
    let base = format!("https://{}", hub.web);
    let post = |path: &str, form: &[(&str, &str)], cookie: Option<&str>| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut r = client
            .post(format!("{base}{path}"))
            .header("origin", &base)
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        let resp = r.body(body).send().expect("a POST");
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("__Host-coso_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_string)
    };
    let first =
        post("/login", &[("username", "bench"), ("password", &otp)], None).expect("a session");
    let cookie = post(
        "/password",
        &[("current", &otp), ("new", PASSWORD), ("confirm", PASSWORD)],
        Some(&first),
    )
    .expect("a session after the password change");
    (client, cookie)
}

pub fn run(rounds: usize) -> Outcome {
    let hub = Hub::start();
    let units = crate::ward::units(93);
    client::register(&hub, &units);
    let pid = hub.pid().expect("the hub runs");
    // Let the hub settle after the import, then read its idle footprint.
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss_kb = measure::rss_kb(pid);
    let idle_anon_kb = measure::proc_kb(pid, "RssAnon").unwrap_or(0);
    let idle_file_kb = measure::proc_kb(pid, "RssFile").unwrap_or(0);
    let idle_huge_kb = rollup_kb(pid, "AnonHugePages");
    let (client, cookie) = session(&hub);
    let url = format!("https://{}/periods/2026-H1", hub.web);
    let get = || {
        let r = client
            .get(&url)
            .header("cookie", &cookie)
            .send()
            .expect("the grid");
        assert_eq!(r.status(), 200, "the grid answers");
        r.bytes().expect("the grid's body").len()
    };
    let page_bytes = get();
    let style_bytes = client
        .get(format!("https://{}/static/style.css", hub.web))
        .send()
        .and_then(|r| r.bytes())
        .map(|b| b.len())
        .unwrap_or_default();
    let mut samples = Vec::with_capacity(rounds);
    let mut after_100_rss_kb = 0;
    for i in 0..rounds {
        let t = Instant::now();
        get();
        samples.push(t.elapsed());
        if i + 1 == 100 {
            after_100_rss_kb = measure::rss_kb(pid);
        }
    }
    let after_rss_kb = measure::rss_kb(pid);
    std::thread::sleep(Duration::from_secs(2));
    let settled_rss_kb = measure::rss_kb(pid);
    Outcome {
        units: units.len(),
        samples,
        page_bytes,
        style_bytes,
        idle_rss_kb,
        idle_anon_kb,
        idle_file_kb,
        idle_huge_kb,
        after_100_rss_kb,
        after_rss_kb,
        settled_rss_kb,
    }
}

/// The Markdown table of an outcome.
pub fn table(o: &Outcome) -> String {
    let mut s = String::from("| measure | value | budget |\n|---|---|---|\n");
    s += &format!(
        "| grid of {} units, median (p95) over {} requests, HTTPS on loopback | {} ({}) | < 50 ms |\n",
        o.units,
        o.samples.len(),
        dur(measure::median(&o.samples)),
        dur(measure::percentile(&o.samples, 95.0)),
    );
    s += &format!(
        "| grid page weight (HTML, uncompressed) + stylesheet | {} + {} | < 150 kB |\n",
        bytes(o.page_bytes as u64),
        bytes(o.style_bytes as u64)
    );
    s += &format!(
        "| hub RSS, idle, dashboard on | {} | < 64 MiB |\n",
        mib(o.idle_rss_kb)
    );
    s += &format!(
        "| of which anonymous / file-backed (the binary) / transparent huge pages | {} / {} / {} | |\n",
        mib(o.idle_anon_kb),
        mib(o.idle_file_kb),
        mib(o.idle_huge_kb)
    );
    if o.after_100_rss_kb > 0 {
        s += &format!(
            "| hub RSS after sign-in and 100 grid requests | {} | < 64 MiB |\n",
            mib(o.after_100_rss_kb)
        );
    }
    s += &format!(
        "| hub RSS after sign-in and the {} grid requests | {} | < 64 MiB |\n",
        o.samples.len() + 1,
        mib(o.after_rss_kb)
    );
    s += &format!(
        "| the same, 2 s later | {} | < 64 MiB |\n",
        mib(o.settled_rss_kb)
    );
    s
}
