//! What a third adversarial test broke (issue 23), through the real binaries:
//! a small spreadsheet that unpacks to millions of rows, files holding
//! secrets readable by others, formulas in CSV and XLSX cells, and the
//! edges of the web faces.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use coso_tests::{Agent, Hub, bins};

/// Before the 2026 6-month deadline, so periods are open.
const MAY_2026: &str = "2026-05-20T10:00:00+07:00";

/// The memory an import may take, whatever the file.
const MEMORY_CEILING_KIB: i64 = 128 * 1024;

fn agent() -> Agent {
    let mut a = Agent::new();
    a.env.push(("COSO_NOW".into(), MAY_2026.into()));
    a.init_unit("TDP05", "Tổ 5", "school");
    a
}

/// An XLSX whose first sheet holds `rows` rows of one tiny cell each: a few
/// MB of zip that unpacks to `rows` × 40 bytes of XML. `shared` is the text
/// of `xl/sharedStrings.xml`, when the workbook should have one.
fn xlsx_bomb(dir: &Path, name: &str, rows: usize, shared: Option<&[u8]>) -> PathBuf {
    let path = dir.join(name);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let part = |zip: &mut zip::ZipWriter<std::fs::File>, name: &str, text: &[u8]| {
        zip.start_file(name, opts).unwrap();
        zip.write_all(text).unwrap();
    };
    part(
        &mut zip,
        "[Content_Types].xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    part(
        &mut zip,
        "_rels/.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    part(
        &mut zip,
        "xl/workbook.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    part(
        &mut zip,
        "xl/_rels/workbook.xml.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
    );
    if let Some(shared) = shared {
        part(&mut zip, "xl/sharedStrings.xml", shared);
    }
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#)
        .unwrap();
    let mut chunk = String::new();
    for r in 1..=rows {
        chunk.push_str(&format!(r#"<row r="{r}"><c r="A{r}"><v>1</v></c></row>"#));
        if chunk.len() > 1 << 16 {
            zip.write_all(chunk.as_bytes()).unwrap();
            chunk.clear();
        }
    }
    chunk.push_str("</sheetData></worksheet>");
    zip.write_all(chunk.as_bytes()).unwrap();
    zip.finish().unwrap();
    path
}

/// What a run of the agent did: its exit code, its stderr and its peak
/// resident memory (from `wait4`, the kernel's own count for this child).
struct Measured {
    code: i32,
    stderr: String,
    max_rss_kib: i64,
}

/// Starts the agent from a small python3 process, which forks it, waits for
/// it with `os.wait4` and prints its exit status and peak RSS. Why not
/// `wait4` from here: the kernel counts into a child's peak the resident
/// memory of the process it was spawned from (the spawn shares or copies
/// this test binary's memory until `exec`, and `exec` keeps the high-water
/// mark), so a child of this busy test binary would be charged with the
/// whole binary's footprint. A child of a fresh, small process is charged
/// with its own memory only (plus python's few MiB).
fn measured(a: &Agent, args: &[&str]) -> Measured {
    const RUN: &str = r#"
import os, sys
pid = os.fork()
if pid == 0:
    err = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(err, 2)
    nul = os.open(os.devnull, os.O_RDWR)
    os.dup2(nul, 0)
    os.dup2(nul, 1)
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"#;
    let err = a.dir.parent().unwrap().join("stderr.txt");
    let out = Command::new("python3")
        .arg("-c")
        .arg(RUN)
        .arg(&err)
        .arg(&bins().agent)
        .args(args)
        .arg("--data-dir")
        .arg(&a.dir)
        .env_remove("COSO_LANG")
        .envs(a.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .expect("run python3 (it measures the agent's memory)");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace().map(|f| f.parse::<i64>());
    let (Some(Ok(code)), Some(Ok(max_rss_kib))) = (fields.next(), fields.next()) else {
        panic!(
            "python3 did not report the agent's run: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    Measured {
        code: code as i32,
        stderr: std::fs::read_to_string(&err).unwrap(),
        max_rss_kib,
    }
}

#[test]
fn a_small_xlsx_of_millions_of_rows_is_refused_at_the_row_limit_in_little_memory() {
    let a = agent();
    let dir = a.dir.parent().unwrap();
    let bomb = xlsx_bomb(dir, "bomb.xlsx", 3_000_000, None);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 16 << 20);
    let bomb = bomb.to_str().unwrap();
    for (args, limit) in [
        (vec!["--lang", "en", "activity", "import", bomb], "10000"),
        (
            vec![
                "--lang", "en", "value", "import", "--period", "2026-H1", bomb,
            ],
            "250000",
        ),
    ] {
        let run = measured(&a, &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!(
                "more than {limit} rows; at most {limit} can be imported"
            )),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            run.max_rss_kib < MEMORY_CEILING_KIB,
            "{args:?} took {} KiB",
            run.max_rss_kib
        );
    }
    // Nothing was written.
    let listed = a.cmd(&["activity", "list", "--json"]).ok();
    assert!(!listed.stdout().contains("HD-"), "{}", listed.stdout());
}

#[test]
fn a_workbook_part_that_unpacks_too_far_is_refused_before_it_is_read() {
    let a = agent();
    let dir = a.dir.parent().unwrap();
    // 64 MiB of one shared string: a zip of a few hundred KB.
    let mut shared = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#.to_vec();
    shared.resize(shared.len() + (64 << 20), b'x');
    shared.extend_from_slice(b"</t></si></sst>");
    let bomb = xlsx_bomb(dir, "strings.xlsx", 10, Some(&shared));
    let run = measured(
        &a,
        &["--lang", "en", "activity", "import", bomb.to_str().unwrap()],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("too large to import"), "{}", run.stderr);
    assert!(
        run.max_rss_kib < MEMORY_CEILING_KIB,
        "took {} KiB",
        run.max_rss_kib
    );
}

/// Every directory under `dir` and `dir` itself 0700, every file 0600 (or
/// tighter): the paths that are not.
fn not_owner_only(dir: &Path) -> Vec<String> {
    let mut open = Vec::new();
    let meta = std::fs::symlink_metadata(dir).unwrap();
    if meta.permissions().mode() & 0o077 != 0 {
        open.push(format!("{} {:o}", dir.display(), meta.permissions().mode()));
    }
    if meta.is_dir() {
        for e in std::fs::read_dir(dir).unwrap() {
            open.extend(not_owner_only(&e.unwrap().path()));
        }
    }
    open
}

#[test]
fn enrolment_codes_and_a_restored_hub_are_owner_only_from_creation() {
    let mut hub = Hub::start();
    let tmp = tempfile::tempdir().unwrap();
    let units = tmp.path().join("units.csv");
    std::fs::write(&units, "code,name,kind\nTDP07,Tổ 7,residential-group\n").unwrap();
    let links = tmp.path().join("links.csv");
    hub.cmd(&[
        "unit",
        "import",
        units.to_str().unwrap(),
        "--links-out",
        links.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(not_owner_only(&links), Vec::<String>::new());
    let backup = tmp.path().join("hub.coso-backup");
    hub.cmd(&["backup", "--out", backup.to_str().unwrap()]).ok();
    hub.stop();
    // Restored into a directory that exists, empty, with the usual 0755.
    let restored = tmp.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::set_permissions(&restored, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(&bins().hub)
        .args(["restore", backup.to_str().unwrap(), "--data-dir"])
        .arg(&restored)
        .env_remove("COSO_LANG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(restored.join("db/conf").exists());
    assert_eq!(not_owner_only(&restored), Vec::<String>::new());
}

#[test]
fn names_that_look_like_formulas_reach_csv_and_xlsx_as_text() {
    let hub = Hub::start();
    let tmp = tempfile::tempdir().unwrap();
    let units = tmp.path().join("units.csv");
    std::fs::write(
        &units,
        "code,name,kind,contact,phone\n\
         TDP09,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",residential-group,@SUM(1+1),0912 345 678\n",
    )
    .unwrap();
    let links = tmp.path().join("links.csv");
    hub.cmd(&[
        "unit",
        "import",
        units.to_str().unwrap(),
        "--links-out",
        links.to_str().unwrap(),
    ])
    .ok();
    let saved = std::fs::read_to_string(&links).unwrap();
    assert!(
        saved.contains(r#""'=HYPERLINK(""http://evil.example"",""x"")""#),
        "{saved}"
    );
    // The consolidated report names the unit in its XLSX: as text, not a
    // formula; its values stay numbers.
    let x = tmp.path().join("r.xlsx");
    hub.cmd(&[
        "report",
        "--period",
        "2026-H1",
        "--format",
        "xlsx",
        "--out",
        x.to_str().unwrap(),
    ])
    .ok();
    use calamine::{Reader, Xlsx, open_workbook};
    let mut book: Xlsx<_> = open_workbook(&x).unwrap();
    let mut names = Vec::new();
    for sheet in book.sheet_names() {
        let range = book.worksheet_range(&sheet).unwrap();
        names.extend(
            range
                .used_cells()
                .map(|(_, _, c)| c.to_string())
                .filter(|c| c.contains("HYPERLINK")),
        );
    }
    assert!(!names.is_empty(), "the unit's name is in the workbook");
    assert!(names.iter().all(|n| n.starts_with("'=")), "{names:?}");
}

/// `ui --listen` takes only the addresses the app then answers at: an
/// address it would answer 403 at is refused when the app starts.
#[test]
fn the_web_app_listens_only_where_it_answers() {
    use std::io::BufRead;
    let a = Agent::new();
    for listen in ["127.0.0.2:0", "127.0.0.1:0"] {
        let mut child = Command::new(&bins().agent)
            .args(["--lang", "en", "ui", "--no-open", "--listen", listen])
            .arg("--data-dir")
            .arg(&a.dir)
            .env_remove("COSO_LANG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        match first.split_whitespace().find(|w| w.starts_with("http://")) {
            Some(url) => {
                let status = reqwest::blocking::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap()
                    .get(url)
                    .send()
                    .map(|r| r.status().as_u16());
                child.kill().unwrap();
                child.wait().unwrap();
                assert!(
                    matches!(status, Ok(s) if s != 403),
                    "{listen}: the printed {url} answers {status:?}"
                );
                assert_eq!(listen, "127.0.0.1:0", "{listen} was accepted");
            }
            None => {
                let out = child.wait_with_output().unwrap();
                assert_eq!(out.status.code(), Some(2), "{listen}: {out:?}");
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(
                    err.contains("invalid --listen") && err.contains("127.0.0.1:PORT"),
                    "{err}"
                );
            }
        }
    }
}

/// `unit show` prints a period's values in the order of their codes, the
/// same on every run (the wire's map has none).
#[test]
fn unit_show_prints_values_in_code_order() {
    let hub = Hub::start();
    let link = hub.add_unit("TDP05", "Tổ 5", "residential-group");
    let mut a = Agent::new();
    a.env.push(("COSO_NOW".into(), MAY_2026.into()));
    a.enroll(&link);
    a.cmd(&[
        "value", "set", "--period", "2026-H1", "DB06=1", "DB01=1", "DB05=5", "DB02=2", "DB04=4",
        "DB03=3",
    ])
    .ok();
    a.cmd(&["submit", "--period", "2026-H1"]).ok();
    a.cmd(&["sync"]).ok();
    let shown = hub.cmd(&["unit", "show", "TDP05"]).ok().stdout();
    let codes: Vec<&str> = shown
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split(':').next())
        .filter(|c| c.starts_with("DB"))
        .collect();
    assert_eq!(
        codes,
        ["DB01", "DB02", "DB03", "DB04", "DB05", "DB06"],
        "{shown}"
    );
}

/// An HTTPS client that trusts only the CA `coso-hub web-ca` wrote.
fn web_client(hub: &Hub) -> reqwest::blocking::Client {
    let ca_file = hub.dir.parent().unwrap().join("web-ca.crt");
    hub.cmd(&["web-ca", "--out", ca_file.to_str().unwrap()])
        .ok();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&ca_file).unwrap()).unwrap();
    reqwest::blocking::Client::builder()
        .tls_certs_merge([ca])
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn assert_security_headers(r: &reqwest::blocking::Response, what: &str) {
    for h in [
        "content-security-policy",
        "strict-transport-security",
        "x-frame-options",
        "x-content-type-options",
    ] {
        assert!(r.headers().contains_key(h), "{what}: no {h}: {r:?}");
    }
}

/// A form posted to the dashboard past its body limit is answered 413 with
/// the security headers, not with a reset connection.
#[test]
fn a_dashboard_post_over_the_body_limit_is_answered_413() {
    let hub = Hub::start();
    let client = web_client(&hub);
    let base = format!("https://{}", hub.web);
    let body = format!("username=admin&password={}", "a".repeat(3 << 20));
    let r = client
        .post(format!("{base}/login"))
        .header("origin", &base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .expect("an answer, not a reset");
    assert_eq!(r.status(), 413);
    assert_security_headers(&r, "413");
    let page = r.text().unwrap();
    assert!(
        page.contains("quá lớn") && page.contains("too large"),
        "{page}"
    );
    // The hub still serves.
    let r = client.get(format!("{base}/login")).send().unwrap();
    assert_eq!(r.status(), 200);
}

/// The dashboard answers only under its own names (DNS rebinding): another
/// host, or its names with another port, get 421 before any page runs.
#[test]
fn the_dashboard_answers_only_to_its_own_names() {
    let hub = Hub::start();
    let client = web_client(&hub);
    let base = format!("https://{}", hub.web);
    let port = hub.web.rsplit_once(':').unwrap().1;
    for (host, status) in [
        (hub.web.clone(), 200),
        (format!("localhost:{port}"), 200),
        ("localhost".to_string(), 200),
        (format!("evil.example:{port}"), 421),
        ("evil.example".to_string(), 421),
        ("127.0.0.1:1".to_string(), 421),
    ] {
        let r = client
            .get(format!("{base}/login"))
            .header("host", &host)
            .send()
            .unwrap();
        assert_eq!(r.status(), status, "Host: {host}");
        assert_security_headers(&r, &host);
    }
    // A state-changing request for another host changes nothing either.
    let r = client
        .post(format!("{base}/login"))
        .header("host", format!("evil.example:{port}"))
        .header("origin", format!("https://evil.example:{port}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=admin&password=x")
        .send()
        .unwrap();
    assert_eq!(r.status(), 421);
    assert!(r.text().unwrap().contains("does not serve"));
}
