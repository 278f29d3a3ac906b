//! A reusable WebDriver harness for browser tests: Debian's headless
//! `chromium` driven by `chromedriver` through the `fantoccini` crate.
//!
//! [`Browser::start`] starts `chromedriver --port=<free>` as a child process
//! (killed on drop) and opens a session with the project's Chromium flags in
//! a fresh profile directory; `acceptInsecureCerts` is set, so self-signed
//! HTTPS (the hub's dashboard) works as well as plain HTTP on loopback.
//! The API is blocking, like the rest of this harness: each call runs on the
//! browser's own small runtime, and waits are conditions with a deadline,
//! never sleeps.
//!
//! ```no_run
//! use coso_tests::browser::Browser;
//! use std::time::Duration;
//! let b = Browser::start();
//! b.goto("http://127.0.0.1:8080/login");
//! b.fill("#login", &[("username", "admin"), ("password", "secret")]);
//! b.click("#login button[type=submit]");
//! b.wait_for("the dashboard", Duration::from_secs(10), |b| b.path() == "/");
//! b.screenshot_to_env("hub-home");
//! ```
//!
//! Missing browser pieces are a test failure with the command that installs
//! them, never a skip: set `COSO_CHROMEDRIVER` / `COSO_CHROMIUM` to use other
//! paths than `/usr/bin/chromedriver` and `/usr/bin/chromium`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::wd::PrintConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// The Chromium flags every session uses: headless, no sandbox (CI runs as root), and no
/// background networking (a closed network refuses those connections, many at a time).
pub const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--ignore-certificate-errors",
    "--window-size=1280,1400",
];

/// How long a single WebDriver step may take before the test fails.
const STEP: Duration = Duration::from_secs(30);

/// A headless Chromium session and the chromedriver behind it.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn which(env: &str, default: &str) -> PathBuf {
    std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Browser {
    /// Starts chromedriver and a new browser session. Panics with the install
    /// command if chromedriver or Chromium is missing.
    pub fn start() -> Browser {
        let driver_path = which("COSO_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = which("COSO_CHROMIUM", "/usr/bin/chromium");
        for (what, path) in [("chromedriver", &driver_path), ("chromium", &chromium)] {
            assert!(
                path.exists(),
                "{what} not found at {}: browser tests need it. Install it with \
                 `apt-get install -y chromium chromium-driver` (.ci/run does), or set \
                 COSO_CHROMEDRIVER / COSO_CHROMIUM.",
                path.display()
            );
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let port = free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver_path.display()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("browser runtime");
        let mut b = Browser {
            rt,
            client: None,
            driver,
            _profile: profile,
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = b.driver.try_wait() {
                panic!("chromedriver exited at start with {status}");
            }
            assert!(
                start.elapsed() < STEP,
                "chromedriver did not listen on port {port} within {STEP:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", b._profile.path().display()));
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert("acceptInsecureCerts".into(), json!(true));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": chromium, "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let client = b.rt.block_on(async {
            // chromedriver speaks plain HTTP on loopback: no TLS stack here.
            let mut builder = ClientBuilder::new(HttpConnector::new());
            builder.capabilities(caps);
            tokio::time::timeout(STEP, builder.connect(&url)).await
        });
        let client = match client {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => panic!("cannot open a Chromium session through chromedriver: {e}"),
            Err(_) => panic!("no Chromium session within {STEP:?}"),
        };
        b.client = Some(client);
        b
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("session open")
    }

    /// Runs one WebDriver step with a deadline.
    fn step<T, E: std::fmt::Display>(
        &self,
        what: &str,
        f: impl std::future::Future<Output = Result<T, E>>,
    ) -> T {
        match self
            .rt
            .block_on(async { tokio::time::timeout(STEP, f).await })
        {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => panic!("browser: {what}: {e}"),
            Err(_) => panic!("browser: {what}: no answer within {STEP:?}"),
        }
    }

    /// Loads `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.step(&format!("go to {url}"), self.client().goto(url));
    }

    /// Submits the dashboard's sign-in form at `base` as `user`; the caller
    /// waits for what should follow (the start page, the password page, a
    /// refusal).
    pub fn sign_in(&self, base: &str, user: &str, password: &str) {
        self.goto(&format!("{base}/login"));
        self.fill("#login", &[("username", user), ("password", password)]);
        self.click("#login button[type=submit]");
    }

    /// Reloads the current page.
    pub fn reload(&self) {
        self.step("reload", self.client().refresh());
    }

    /// The address in the address bar.
    pub fn url(&self) -> String {
        self.step("read the URL", self.client().current_url())
            .to_string()
    }

    /// The path of the current address (`/periods/2026-H1`).
    pub fn path(&self) -> String {
        self.step("read the URL", self.client().current_url())
            .path()
            .to_string()
    }

    /// The current page's HTML.
    pub fn source(&self) -> String {
        self.step("read the page source", self.client().source())
    }

    /// The first element matching `css`; panics (with the page) if none.
    pub fn find(&self, css: &str) -> Element {
        match self
            .rt
            .block_on(async { self.client().find(Locator::Css(css)).await })
        {
            Ok(e) => e,
            Err(e) => panic!(
                "browser: no element {css:?} on {} ({e})\n--- page ---\n{}",
                self.url(),
                self.source()
            ),
        }
    }

    /// Every element matching `css` (possibly none).
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.step(
            &format!("find {css:?}"),
            self.client().find_all(Locator::Css(css)),
        )
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.find_all(css).len()
    }

    /// The visible text of the first element matching `css`.
    pub fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.step(&format!("text of {css:?}"), e.text())
    }

    /// An attribute of the first element matching `css`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let e = self.find(css);
        self.step(&format!("attribute {name} of {css:?}"), e.attr(name))
    }

    /// Clicks the first element matching `css`.
    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.step(&format!("click {css:?}"), e.click());
    }

    /// Fills the fields of the form `form_css` by their `name`, as a person
    /// would: text is typed (after clearing), `<select>` picks the option
    /// with that value, a radio group clicks the radio with that value, and
    /// date inputs (whose typing depends on the locale) get the ISO date.
    pub fn fill(&self, form_css: &str, fields: &[(&str, &str)]) {
        for (name, value) in fields {
            let css = format!("{form_css} [name=\"{name}\"]");
            let e = self.find(&css);
            let tag = self.step("tag name", e.tag_name()).to_lowercase();
            let kind = self
                .step("input type", e.attr("type"))
                .unwrap_or_default()
                .to_lowercase();
            match (tag.as_str(), kind.as_str()) {
                ("select", _) => {
                    self.step(
                        &format!("select {value} in {css}"),
                        e.select_by_value(value),
                    );
                }
                (_, "radio") => {
                    self.click(&format!("{css}[value=\"{value}\"]"));
                }
                (_, "date") => {
                    let arg = serde_json::to_value(&e).expect("element as JSON");
                    self.step(
                        &format!("set the date {css}"),
                        self.client().execute(
                            "arguments[0].value = arguments[1];",
                            vec![arg, json!(value)],
                        ),
                    );
                }
                _ => {
                    self.step(&format!("clear {css}"), e.clear());
                    self.step(&format!("type into {css}"), e.send_keys(value));
                }
            }
        }
    }

    /// The `id` of the element that has the keyboard focus ("" if none).
    pub fn focused_id(&self) -> String {
        let e = self.step("active element", self.client().active_element());
        self.step("its id", e.attr("id")).unwrap_or_default()
    }

    /// Waits until `cond` holds, polling; panics with `what`, the address
    /// and the page if `timeout` passes first.
    pub fn wait_for(&self, what: &str, timeout: Duration, mut cond: impl FnMut(&Browser) -> bool) {
        let start = Instant::now();
        let mut pause = Duration::from_millis(20);
        while !cond(self) {
            if start.elapsed() >= timeout {
                panic!(
                    "browser: timed out after {timeout:?} waiting for {what} on {}\n--- page ---\n{}",
                    self.url(),
                    self.source()
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }

    /// Saves a PNG screenshot of the page at `path`.
    pub fn screenshot(&self, path: &Path) {
        let png = self.step("screenshot", self.client().screenshot());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        std::fs::write(path, png)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// When `COSO_SCREENSHOTS=DIR` is set, saves `DIR/NAME.png`.
    pub fn screenshot_to_env(&self, name: &str) {
        if let Some(dir) = std::env::var_os("COSO_SCREENSHOTS").filter(|d| !d.is_empty()) {
            self.screenshot(&Path::new(&dir).join(format!("{name}.png")));
        }
    }
}

/// The axe-core rule tags of WCAG 2.1 levels A and AA.
pub const WCAG21_AA: &[&str] = &["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// One axe-core rule a page breaks, with the elements that break it.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The rule's id (`select-name`, `color-contrast`, ...).
    pub rule: String,
    pub impact: String,
    pub help: String,
    /// Each offending node's CSS selector.
    pub targets: Vec<String>,
}

/// axe-core's source, read once from `tests/browser/node_modules` (installed
/// by `npm ci --prefix tests/browser`, which `.ci/run` does).
fn axe_source() -> &'static str {
    static AXE: OnceLock<String> = OnceLock::new();
    AXE.get_or_init(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core is not installed ({}: {e}): the accessibility tests need it. \
                 Run `npm ci --prefix tests/browser` (.ci/run does).",
                path.display()
            )
        })
    })
}

impl Browser {
    /// Runs a script in the page (a function body; `arguments` are `args`).
    /// WebDriver's scripts run through the DevTools protocol, which the
    /// page's Content-Security-Policy does not govern: the strict CSP of both
    /// faces stays on while axe-core runs.
    pub fn script(
        &self,
        what: &str,
        body: &str,
        args: Vec<serde_json::Value>,
    ) -> serde_json::Value {
        self.step(what, self.client().execute(body, args))
    }

    /// Resizes the window so the page's viewport is `width` CSS pixels wide
    /// (360: a phone), and checks that it is.
    pub fn set_width(&self, width: u32) {
        self.step(
            &format!("resize to {width} px"),
            self.client().set_window_size(width, 900),
        );
        let inner = self.script("read the viewport", "return window.innerWidth;", vec![]);
        assert_eq!(
            inner.as_u64(),
            Some(u64::from(width)),
            "the viewport is not {width} px wide"
        );
    }

    /// None when the page fits the viewport's width (no sideways scrolling:
    /// `scrollWidth <= innerWidth`); else what sticks out, for the failure.
    pub fn overflow(&self) -> Option<String> {
        let found = self.script(
            "measure the page's width",
            r#"const root = document.documentElement, w = window.innerWidth;
            if (root.scrollWidth <= w) return null;
            const wide = [];
            for (const e of document.body.querySelectorAll('*')) {
              const r = e.getBoundingClientRect();
              if (r.right > w + 0.5 && !e.closest('.scroll')) {
                let name = e.tagName.toLowerCase();
                if (e.id) name += '#' + e.id;
                if (e.className && typeof e.className === 'string') name += '.' + e.className.trim().split(/\s+/).join('.');
                wide.push(name + ' (right edge ' + Math.round(r.right) + ')');
                if (wide.length >= 6) break;
              }
            }
            return 'scrollWidth ' + root.scrollWidth + ' > innerWidth ' + w + ': ' + wide.join(', ');"#,
            vec![],
        );
        found.as_str().map(str::to_string)
    }

    /// The controls shown smaller than `min` CSS pixels high, for a finger:
    /// buttons, fields, selects, the links of the top bar and the label
    /// around each radio button (links inside text are exempt, as in WCAG).
    pub fn small_targets(&self, min: u32) -> Vec<String> {
        let found = self.script(
            "measure the tap targets",
            r#"const min = arguments[0], small = [];
            const css = 'button, .button, select, header a, label:has(> input[type=radio]), '
              + 'input:not([type=hidden]):not([type=checkbox]):not([type=radio])';
            for (const e of document.querySelectorAll(css)) {
              const r = e.getBoundingClientRect();
              if (r.width === 0 || r.height === 0 || r.height >= min - 0.5) continue;
              let name = e.tagName.toLowerCase();
              if (e.id) name += '#' + e.id;
              if (e.name) name += '[name=' + e.name + ']';
              small.push(name + ' "' + (e.textContent || e.value || '').trim().slice(0, 30) + '" ' + Math.round(r.height) + ' px');
            }
            return small;"#,
            vec![json!(min)],
        );
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Runs axe-core's WCAG 2.1 A and AA rules on the current page and
    /// returns what it found. Panics, saying how to install it, when
    /// axe-core is missing: never a skip.
    pub fn axe(&self) -> Vec<Violation> {
        // The library is sent as a script body: `window.axe` is what it leaves.
        let ready = self.script(
            "inject axe-core",
            &format!("{}\n;return typeof window.axe;", axe_source()),
            vec![],
        );
        assert_eq!(ready, json!("object"), "axe-core did not load in the page");
        let run = r#"const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: arguments[0] }, resultTypes: ['violations'] })
              .then(r => done(JSON.stringify(r.violations.map(v => ({
                 rule: v.id, impact: v.impact || '', help: v.help,
                 targets: v.nodes.map(n => n.target.join(' ')) })))),
                    e => done('error: ' + e));"#;
        let out = self.step(
            "run axe-core",
            self.client().execute_async(run, vec![json!(WCAG21_AA)]),
        );
        let text = out.as_str().unwrap_or_default();
        let found: Vec<serde_json::Value> = serde_json::from_str(text)
            .unwrap_or_else(|_| panic!("axe-core failed on {}: {text}", self.url()));
        found
            .iter()
            .map(|v| Violation {
                rule: v["rule"].as_str().unwrap_or_default().to_string(),
                impact: v["impact"].as_str().unwrap_or_default().to_string(),
                help: v["help"].as_str().unwrap_or_default().to_string(),
                targets: v["targets"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Prints the page as WebDriver's "Print Page" does (print media, A4):
    /// the PDF's bytes.
    pub fn print_pdf(&self) -> Vec<u8> {
        self.step(
            "print the page",
            self.client().print(PrintConfiguration::default()),
        )
    }

    /// Presses `key` (down, then up), as a person at the keyboard.
    pub fn press(&self, key: Key) {
        let value: char = key.into();
        let seq = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value })
            .then(KeyAction::Up { value });
        self.step("press a key", self.client().perform_actions(seq));
    }

    /// Presses `key` while holding Shift (Shift+Tab goes back).
    pub fn press_shifted(&self, key: Key) {
        let (shift, value): (char, char) = (Key::Shift.into(), key.into());
        let seq = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: shift })
            .then(KeyAction::Down { value })
            .then(KeyAction::Up { value })
            .then(KeyAction::Up { value: shift });
        self.step("press a shifted key", self.client().perform_actions(seq));
    }

    /// Types `text` into whatever has the focus, key by key.
    pub fn type_text(&self, text: &str) {
        let mut seq = KeyActions::new("keyboard".into());
        for value in text.chars() {
            seq = seq
                .then(KeyAction::Down { value })
                .then(KeyAction::Up { value });
        }
        self.step("type", self.client().perform_actions(seq));
    }

    /// What has the focus, as `tag#id[name=..][value=..]`, and whether it is
    /// drawn with a visible outline (`:focus-visible` on the page).
    pub fn focused(&self) -> (String, bool) {
        let v = self.script(
            "read the focus",
            r#"const e = document.activeElement;
            if (!e || e === document.body) return ['body', false];
            let name = e.tagName.toLowerCase();
            if (e.id) name += '#' + e.id;
            if (e.name) name += '[name=' + e.name + ']';
            if (e.value && e.tagName === 'BUTTON') name += '[value=' + e.value + ']';
            if (e.tagName === 'A') name += '[href=' + e.getAttribute('href') + ']';
            const s = getComputedStyle(e);
            const visible = e.matches(':focus-visible') && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
            return [name, visible];"#,
            vec![],
        );
        (
            v[0].as_str().unwrap_or_default().to_string(),
            v[1].as_bool().unwrap_or(false),
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), c.close()).await });
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
