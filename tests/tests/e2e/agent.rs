//! The unit agent on its own (issue 3), through the real `coso-agent` binary
//! in temporary directories: the whole flow for one unit, restarts, refused
//! input leaving the store untouched, Vietnamese text, the store lock, and
//! `kill -9` during a long import.

use std::path::Path;
use std::time::{Duration, Instant};

use coso_agent::store::{Store, read_holder};
use coso_tests::{Agent, wait_until};
use serde_json::{Value, json};

/// Before the 2026 6-month deadline, so periods are open and days are counted.
const MAY_2026: &str = "2026-05-20T10:00:00+07:00";

fn agent(kind: &str) -> Agent {
    let mut a = Agent::new();
    a.env.push(("COSO_NOW".into(), MAY_2026.into()));
    a.init_unit("TDP05", "Tổ dân phố số 5", kind);
    a
}

/// Every record of the store, read in-process while no command runs.
fn dump(dir: &Path) -> Vec<(String, String)> {
    Store::open(dir, Duration::from_secs(5))
        .expect("open the store")
        .dump()
        .expect("dump the store")
}

#[test]
fn whole_flow_for_one_unit() {
    let a = agent("residential-group");
    let ids: Vec<String> = [
        (
            "2026-01-12",
            "conference",
            "Hội nghị quán triệt Luật Thực hiện dân chủ ở cơ sở",
            60,
        ),
        (
            "2026-02-03",
            "document",
            "Kế hoạch thực hiện dân chủ ở cơ sở năm 2026",
            0,
        ),
        (
            "2026-03-15",
            "social-network",
            "Bài đăng nhóm Zalo tổ dân phố",
            120,
        ),
        ("2026-04-20", "conference", "Hội nghị nhân dân giữa năm", 45),
    ]
    .iter()
    .map(|(d, f, t, p)| a.add_activity(d, f, t, *p))
    .collect();
    assert_eq!(ids, ["HD-1", "HD-2", "HD-3", "HD-4"]);

    let list = a
        .cmd(&["activity", "list", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert_eq!(list["count"], 4);
    assert_eq!(list["participants"], 225);
    a.cmd(&["activity", "edit", "HD-4", "--participants", "50"])
        .ok();
    a.cmd(&["activity", "remove", "HD-2"]).ok();
    assert_eq!(
        a.add_activity("2026-05-02", "training", "Tập huấn", 30),
        "HD-5"
    );

    // Submission is refused while the required DB01 is missing, and says so.
    let refused = a.cmd(&["submit", "--period", "2026-H1"]).expect_code(2);
    assert!(refused.stderr().contains("DB01"), "{}", refused.context());

    a.cmd(&[
        "value", "set", "--period", "2026-H1", "DB01=3", "DT02=12", "DT03=10", "GS07=có",
    ])
    .ok();
    let csv = a.dir.parent().unwrap().join("so-lieu.csv");
    std::fs::write(&csv, "Mã chỉ tiêu;Giá trị\nCK01;8\nCK02;6\nDB05;\n").unwrap();
    let imported = a
        .cmd(&[
            "value",
            "import",
            "--period",
            "2026-H1",
            csv.to_str().unwrap(),
        ])
        .ok();
    assert!(
        imported.stdout().contains("CK01=8"),
        "{}",
        imported.context()
    );
    a.cmd(&[
        "note",
        "set",
        "--period",
        "2026-H1",
        "--section",
        "results",
        "--text",
        "Tổ đã triển khai đầy đủ.",
    ])
    .ok();

    let r = a
        .cmd(&["report", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert_eq!(r["period"], "2026-H1");
    assert_eq!(r["due"], "2026-06-05T00:00:00+07:00");
    assert_eq!(r["days_left"], 16);
    assert_eq!(r["state"], "draft");
    assert_eq!(r["review_comment"], Value::Null);
    assert_eq!(r["problems"], json!([]));
    let v = &r["values"];
    assert_eq!(v["TT02"], 2, "conferences, derived");
    assert_eq!(v["TT01"], 0, "the document was removed: a real zero");
    assert_eq!(v["TT04"], 1);
    assert_eq!(v["TT09"], 4);
    assert_eq!(v["TT10"], 60 + 120 + 50 + 30);
    assert_eq!(v["DB01"], 3);
    assert_eq!(v["GS07"], true);
    assert_eq!(v["DT04"], 83.33, "rate from its parts");
    assert_eq!(v["CK03"], 75);
    assert!(
        v.get("DB05").is_none(),
        "left empty is not reported, not zero"
    );
    assert_eq!(r["notes"]["results"], "Tổ đã triển khai đầy đủ.");

    let text = a.cmd(&["report", "--period", "2026-H1"]).ok().stdout();
    for want in [
        "Hạn nộp: trước 00:00 ngày 05/6/2026 (còn 16 ngày)",
        "chưa báo cáo",
        "83,33",
        "KẾT QUẢ THỰC HIỆN",
        "Tổ đã triển khai đầy đủ.",
        "bản nháp",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }

    a.cmd(&["submit", "--period", "2026-H1"]).ok();
    let r = a
        .cmd(&["report", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert_eq!(r["state"], "submitted");
    assert_eq!(r["values"]["TT09"], 4);

    // Recorded later inside the window: kept, counted later, frozen report unchanged.
    let late = a.cmd(&[
        "activity",
        "add",
        "--date",
        "2026-05-10",
        "--form",
        "briefing",
        "--title",
        "Giao ban tháng 5",
    ]);
    let late = late.ok();
    assert!(late.stdout().contains("2026-H1"), "{}", late.context());
    assert_eq!(late.last_line(), "HD-6");
    let r = a
        .cmd(&["report", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert_eq!(r["values"]["TT09"], 4);
    let m9 = a
        .cmd(&["report", "--period", "2026-M9", "--json"])
        .ok()
        .json();
    assert_eq!(m9["values"]["TT09"], 5);

    let st = a.cmd(&["status", "--json"]).ok().json();
    assert_eq!(st["unit"]["code"], "TDP05");
    assert_eq!(st["hub"], Value::Null);
    assert_eq!(st["last_sync"], Value::Null);
    // 5 adds, 1 edit, 1 remove, 1 set, 1 import, 1 note, 1 submit, 1 late add.
    assert_eq!(st["head_seq"], 12);
    assert_eq!(st["pending_changes"], 12);
    let open: Vec<&str> = st["open_periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["2026-H1", "2026-M9", "2026-Y"]);
    assert_eq!(st["open_periods"][0]["state"], "submitted");
    let human = a.cmd(&["status"]).ok().stdout();
    assert!(human.contains("Thay đổi chờ gửi: 12"), "{human}");

    // The change log: seq 1..=12 without gaps, each entry intact.
    let s = Store::open(&a.dir, Duration::from_secs(5)).unwrap();
    let log = s.entries_after(0, 1000, usize::MAX).unwrap();
    assert_eq!(
        log.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=12).collect::<Vec<_>>()
    );
    for e in &log {
        e.decode().expect("entry decodes and its hash matches");
    }
}

#[test]
fn data_survives_a_restart() {
    let a = agent("school");
    a.add_activity("2026-02-10", "conference", "Hội nghị cán bộ, viên chức", 80);
    a.cmd(&[
        "value",
        "set",
        "--period",
        "2026-H1",
        "CQ01=có",
        "DG01=87,5",
    ])
    .ok();
    a.cmd(&[
        "note",
        "set",
        "--period",
        "2026-H1",
        "--section",
        "proposals",
        "--text",
        "Đề nghị tập huấn",
    ])
    .ok();
    let report = a
        .cmd(&["report", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    let before = dump(&a.dir);
    // A fresh process over a copy of the data dir sees exactly the same.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&a.dir, copy.path());
    let mut b = Agent::at(copy.path());
    b.env.push(("COSO_NOW".into(), MAY_2026.into()));
    assert_eq!(
        b.cmd(&["report", "--period", "2026-H1", "--json"])
            .ok()
            .json(),
        report
    );
    assert_eq!(dump(copy.path()), before);
    // And keeps working where it left off.
    assert_eq!(
        b.add_activity("2026-03-01", "training", "Tập huấn", 10),
        "HD-2"
    );
    assert_eq!(b.cmd(&["status", "--json"]).ok().json()["head_seq"], 4);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Runs a command that must be refused (status 2) with `want` in its
/// message, and checks the store did not change.
fn refused(a: &Agent, args: &[&str], want: &[&str]) {
    let before = dump(&a.dir);
    let r = a.cmd(args).expect_code(2);
    let msg = r.stderr();
    for w in want {
        assert!(msg.contains(w), "message lacks {w:?}\n{}", r.context());
    }
    assert!(!msg.contains("panicked"), "{}", r.context());
    assert_eq!(
        dump(&a.dir),
        before,
        "store changed by a refused command\n{}",
        r.context()
    );
}

#[test]
fn every_bad_input_is_refused_and_writes_nothing() {
    let a = agent("residential-group");
    a.add_activity("2026-03-02", "conference", "Hội nghị", 40);
    a.cmd(&["value", "set", "--period", "2026-H1", "DT02=5", "DT03=4"])
        .ok();
    let set = |extra: &[&'static str]| {
        let mut v = vec!["value", "set", "--period", "2026-H1"];
        v.extend_from_slice(extra);
        v
    };
    // Unknown code, wrong type, not for this kind, computed, rule broken; a
    // good value in the same command is not written either.
    refused(
        &a,
        &set(&["DB01=3", "XX99=1"]),
        &["XX99", "không có chỉ tiêu"],
    );
    refused(
        &a,
        &set(&["DB01=3", "DB02=hai"]),
        &["DB02", "cần một số nguyên"],
    );
    refused(&a, &set(&["DB01=3", "DB02=-2"]), &["DB02"]);
    refused(&a, &set(&["DB01=3", "CQ01=có"]), &["CQ01", "không áp dụng"]);
    refused(&a, &set(&["DB01=3", "TT02=7"]), &["TT02", "tự động"]);
    refused(&a, &set(&["DB01=3", "DT03=6"]), &["DT-R1", "DT03"]);
    refused(&a, &set(&["DB01"]), &["MÃ=GIÁ_TRỊ"]);
    refused(
        &a,
        &["value", "set", "--period", "2026-Q7", "DB01=1"],
        &["period", "2026-Q7"],
    );
    refused(
        &a,
        &["value", "set", "--period", "26-H1", "DB01=1"],
        &["period"],
    );
    refused(
        &a,
        &[
            "--lang", "en", "value", "set", "--period", "2026-H1", "XX99=1",
        ],
        &["no such indicator"],
    );
    // Activities.
    let add = |extra: &[&'static str]| {
        let mut v = vec!["activity", "add", "--title", "Hội nghị"];
        v.extend_from_slice(extra);
        v
    };
    refused(
        &a,
        &add(&["--date", "2026-02-30", "--form", "conference"]),
        &["date"],
    );
    refused(
        &a,
        &add(&["--date", "2026-03-01", "--form", "meeting"]),
        &["form", "meeting"],
    );
    refused(
        &a,
        &add(&[
            "--date",
            "2026-03-01",
            "--form",
            "conference",
            "--participants",
            "-5",
        ]),
        &["participants"],
    );
    refused(
        &a,
        &add(&[
            "--date",
            "2026-03-01",
            "--form",
            "conference",
            "--participants",
            "4,5",
        ]),
        &["participants"],
    );
    refused(
        &a,
        &[
            "activity",
            "add",
            "--date",
            "2026-03-01",
            "--form",
            "other",
            "--title",
            "  ",
        ],
        &["title"],
    );
    refused(&a, &["activity", "edit", "HD-9", "--title", "x"], &["HD-9"]);
    refused(&a, &["activity", "remove", "HD-9"], &["HD-9"]);
    // Notes.
    refused(
        &a,
        &[
            "note",
            "set",
            "--period",
            "2026-H1",
            "--section",
            "summary",
            "--text",
            "x",
        ],
        &["section"],
    );
    let latin1 = a.dir.parent().unwrap().join("latin1.txt");
    std::fs::write(&latin1, b"Kh\xf4ng ph\xe1i UTF-8").unwrap();
    refused(
        &a,
        &[
            "note",
            "set",
            "--period",
            "2026-H1",
            "--section",
            "results",
            "--file",
            latin1.to_str().unwrap(),
        ],
        &["UTF-8"],
    );
    // Import: every bad line listed by number, nothing written.
    let csv = a.dir.parent().unwrap().join("bad.csv");
    std::fs::write(&csv, "code,value\nDB01,3\nDB02,x\nZZ01,1\nDB04,1\nDB06,2\n").unwrap();
    refused(
        &a,
        &[
            "value",
            "import",
            "--period",
            "2026-H1",
            csv.to_str().unwrap(),
        ],
        &[
            "dòng 3: [wrong_type] DB02",
            "dòng 4: [unknown_indicator] ZZ01",
            "dòng 6: [rule_violated]",
        ],
    );
    // Submit with problems, then a submitted period refuses changes, saying why.
    refused(
        &a,
        &["submit", "--period", "2026-H1"],
        &["DB01", "bắt buộc"],
    );
    a.cmd(&["value", "set", "--period", "2026-H1", "DB01=1"])
        .ok();
    a.cmd(&["submit", "--period", "2026-H1"]).ok();
    refused(&a, &set(&["DB01=2"]), &["2026-H1", "đã nộp", "trả lại"]);
    refused(
        &a,
        &[
            "note",
            "set",
            "--period",
            "2026-H1",
            "--section",
            "results",
            "--text",
            "x",
        ],
        &["đã nộp"],
    );
    refused(&a, &["submit", "--period", "2026-H1"], &["đã nộp"]);
    refused(
        &a,
        &[
            "init", "--unit", "TDP06", "--name", "Khác", "--kind", "school",
        ],
        &["TDP05"],
    );

    // Out of range needs a kind with a bounded indicator.
    let school = agent("school");
    refused(
        &school,
        &["value", "set", "--period", "2026-H1", "CQ01=có", "DG01=120"],
        &["DG01", "ngoài khoảng"],
    );
    refused(
        &school,
        &[
            "value",
            "set",
            "--period",
            "2026-H1",
            "CQ01=có",
            "CQ02=có lẽ",
        ],
        &["CQ02", "có/không"],
    );
}

#[test]
fn vietnamese_text_comes_back_exactly() {
    let a = agent("residential-group");
    let title =
        "Hội nghị “dân biết, dân bàn, dân làm, dân kiểm tra, dân giám sát, dân thụ hưởng” – Tổ 5";
    // The same title typed decomposed (NFD), as macOS and some keyboards send it.
    let nfd = "Ho\u{0323}\u{0302}i nghi\u{0323} Tô\u{0309} 5";
    let note = "Ghi chú: ắ ằ ẳ ẵ ặ ấ ầ ẩ ẫ ậ ế ề ể ễ ệ ố ồ ổ ỗ ộ ớ ờ ở ỡ ợ ứ ừ ử ữ ự Đ đ";
    a.cmd(&[
        "activity",
        "add",
        "--date",
        "2026-03-02",
        "--form",
        "conference",
        "--title",
        title,
        "--note",
        note,
    ])
    .ok();
    a.cmd(&[
        "activity",
        "add",
        "--date",
        "2026-03-03",
        "--form",
        "other",
        "--title",
        nfd,
    ])
    .ok();
    let list = a.cmd(&["activity", "list", "--json"]).ok().json();
    assert_eq!(list["activities"][0]["title"], title);
    assert_eq!(list["activities"][0]["note"], note);
    assert_eq!(
        list["activities"][1]["title"], "Hội nghị Tổ 5",
        "stored in NFC"
    );
    let human = a.cmd(&["activity", "list"]).ok().stdout();
    assert!(human.contains(title), "{human}");

    let text =
        "I. Kết quả\n  - Tổ chức 3 hội nghị; 225 lượt người.\n\tKhó khăn: kinh phí hạn hẹp.\n";
    let file = a.dir.parent().unwrap().join("ket-qua.txt");
    std::fs::write(&file, text).unwrap();
    a.cmd(&[
        "note",
        "set",
        "--period",
        "2026-H1",
        "--section",
        "results",
        "--file",
        file.to_str().unwrap(),
    ])
    .ok();
    a.cmd(&[
        "note",
        "set",
        "--period",
        "2026-H1",
        "--section",
        "next-tasks",
        "--text",
        nfd,
    ])
    .ok();
    let r = a
        .cmd(&["report", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert_eq!(
        r["notes"]["results"], text,
        "kept exactly, whitespace included"
    );
    assert_eq!(r["notes"]["next-tasks"], "Hội nghị Tổ 5");
    // The change log carries the same NFC text the hub will receive.
    let s = Store::open(&a.dir, Duration::from_secs(5)).unwrap();
    let log = s.entries_after(0, 100, usize::MAX).unwrap();
    let payloads: String = log
        .iter()
        .map(|e| String::from_utf8(e.payload.clone()).unwrap())
        .collect();
    assert!(payloads.contains(title) && payloads.contains("Hội nghị Tổ 5"));
    assert!(!payloads.contains(nfd));
}

#[test]
fn a_second_process_is_told_who_holds_the_store() {
    let a = agent("school");
    let held = Store::open(&a.dir, Duration::from_secs(5)).unwrap();
    let start = Instant::now();
    let r = a
        .cmd_env(&["status"], &[("COSO_AGENT_LOCK_WAIT", "0.5")])
        .expect_code(1);
    assert!(
        start.elapsed() >= Duration::from_millis(500),
        "it waits briefly first"
    );
    let pid = std::process::id().to_string();
    let msg = r.stderr();
    assert!(
        msg.contains("Dữ liệu đang được")
            && msg.contains(&format!("PID {pid}"))
            && msg.contains("e2e"),
        "{}",
        r.context()
    );
    let en = a
        .cmd_env(
            &["status", "--lang", "en"],
            &[("COSO_AGENT_LOCK_WAIT", "0")],
        )
        .expect_code(1);
    assert!(
        en.stderr()
            .contains(&format!("in use by process PID {pid}")),
        "{}",
        en.context()
    );
    // Released while a command waits (or before it starts): the command runs.
    let mut child = a.spawn_env(
        &[
            "activity",
            "add",
            "--date",
            "2026-03-02",
            "--form",
            "other",
            "--title",
            "x",
        ],
        &[("COSO_AGENT_LOCK_WAIT", "30")],
    );
    drop(held);
    assert!(child.wait().unwrap().success());
    // Two real agent processes: the holder file names the running command.
    let big = big_import_file(a.dir.parent().unwrap(), "school", 200_000);
    let mut import = a.spawn(&[
        "value",
        "import",
        "--period",
        "2026-H1",
        big.to_str().unwrap(),
    ]);
    let lock = a.dir.join("agent.lock");
    let import_pid = import.id();
    let mut held_by_import = false;
    wait_until(
        Duration::from_secs(60),
        "the import to hold the store or finish",
        || {
            held_by_import = read_holder(&lock).is_some_and(|h| h.pid == import_pid);
            held_by_import || import.try_wait().unwrap().is_some()
        },
    );
    if held_by_import {
        let r = a.cmd_env(&["status"], &[("COSO_AGENT_LOCK_WAIT", "0")]);
        // The import may have finished in between; if not, it is named.
        if r.code() == 1 {
            assert!(
                r.stderr().contains(&format!("PID {import_pid}"))
                    && r.stderr().contains("value import"),
                "{}",
                r.context()
            );
        }
    }
    assert!(import.wait().unwrap().success());
}

/// A CSV of `rows` lines cycling through indicators, every value 5 (so every
/// rule holds), for a unit of `kind`.
fn big_import_file(dir: &Path, kind: &str, rows: usize) -> std::path::PathBuf {
    let codes: &[&str] = match kind {
        "school" => &[
            "CQ04", "DT01", "DT02", "DT03", "GS02", "GS03", "YK01", "YK02", "YK03", "CK01",
        ],
        _ => &[
            "DB01", "DB02", "DB03", "DB04", "DB05", "DB06", "DT01", "DT02", "DT03", "CK01",
        ],
    };
    let mut s = String::from("code,value\n");
    for i in 0..rows {
        s.push_str(codes[i % codes.len()]);
        s.push_str(",5\n");
    }
    let path = dir.join(format!("big-{kind}-{rows}.csv"));
    std::fs::write(&path, s).unwrap();
    path
}

#[test]
fn kill_9_during_a_long_import_leaves_all_or_none() {
    let a = agent("residential-group");
    a.add_activity("2026-03-02", "conference", "Hội nghị", 40);
    let file = big_import_file(a.dir.parent().unwrap(), "residential-group", 150_000);
    let codes = [
        "CK01", "DB01", "DB02", "DB03", "DB04", "DB05", "DB06", "DT01", "DT02", "DT03",
    ];
    let all: serde_json::Map<String, Value> =
        codes.iter().map(|c| (c.to_string(), json!(5))).collect();
    let lock = a.dir.join("agent.lock");
    let mut outcomes = (0, 0);
    // The first round is never killed: it shows "all" and times the import.
    // Later rounds kill at fractions of that time, from just after the store
    // is opened to around the final write.
    let fractions = [
        None,
        Some(0.0),
        Some(0.25),
        Some(0.5),
        Some(0.8),
        Some(0.9),
        Some(0.95),
        Some(1.0),
        Some(1.05),
    ];
    let mut took = Duration::ZERO;
    for (i, fraction) in fractions.iter().enumerate() {
        let period = format!("{}-Y", 2030 + i);
        let before = dump(&a.dir);
        let head_before = a.cmd(&["status", "--json"]).ok().json()["head_seq"]
            .as_u64()
            .unwrap();
        let mut child = a.spawn(&[
            "value",
            "import",
            "--period",
            &period,
            file.to_str().unwrap(),
        ]);
        let pid = child.id();
        wait_until(
            Duration::from_secs(60),
            "the import to open the store",
            || {
                read_holder(&lock).is_some_and(|h| h.pid == pid)
                    || child.try_wait().unwrap().is_some()
            },
        );
        let opened = Instant::now();
        match fraction {
            None => {
                child.wait().unwrap();
                took = opened.elapsed();
            }
            Some(f) => {
                // Choosing the moment to kill, not waiting for a result.
                std::thread::sleep(took.mul_f64(*f));
                // SAFETY: plain libc call on a child we spawned and still own.
                unsafe {
                    libc::kill(pid as i32, libc::SIGKILL);
                }
            }
        }
        let status = child.wait().unwrap();
        let v = a
            .cmd(&["value", "list", "--period", &period, "--json"])
            .ok()
            .json();
        let head = a.cmd(&["status", "--json"]).ok().json()["head_seq"]
            .as_u64()
            .unwrap();
        let entered = v["entered"].as_object().unwrap();
        if entered.is_empty() {
            assert_eq!(head, head_before, "none: no entry either");
            assert_eq!(dump(&a.dir), before, "none: the store is as before");
            outcomes.0 += 1;
        } else {
            assert_eq!(entered, &all, "all of it (killed: {})", !status.success());
            assert_eq!(head, head_before + 1, "all: exactly one entry");
            outcomes.1 += 1;
        }
        // The log stays whole: seq 1..=head, every entry intact.
        let s = Store::open(&a.dir, Duration::from_secs(5)).unwrap();
        let log = s.entries_after(0, 10_000, usize::MAX).unwrap();
        assert_eq!(
            log.iter().map(|e| e.seq).collect::<Vec<_>>(),
            (1..=head).collect::<Vec<_>>()
        );
        for e in &log {
            e.decode().unwrap();
        }
    }
    eprintln!("kill -9 during import, (none, all): {outcomes:?}");
    assert!(
        outcomes.1 >= 1,
        "the unkilled import wrote everything: {outcomes:?}"
    );
}

#[test]
fn help_on_every_command_has_an_example() {
    let a = Agent::new();
    for cmd in [
        vec![],
        vec!["init"],
        vec!["enroll"],
        vec!["activity", "add"],
        vec!["activity", "list"],
        vec!["activity", "edit"],
        vec!["activity", "remove"],
        vec!["value", "set"],
        vec!["value", "list"],
        vec!["value", "import"],
        vec!["note", "set"],
        vec!["report"],
        vec!["submit"],
        vec!["sync"],
        vec!["status"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        let r = a.cmd(&args).ok();
        assert!(r.stdout().contains("Ví dụ / Example:"), "{}", r.context());
    }
}

#[test]
fn a_period_cannot_be_submitted_before_its_window_opens() {
    let mut a = Agent::new();
    a.env
        .push(("COSO_NOW".into(), "2026-12-06T09:00:00+07:00".into()));
    a.init_unit("TDP05", "Tổ dân phố số 5", "residential-group");
    a.cmd(&["value", "set", "--period", "2027-H1", "DB01=2"])
        .ok();
    let before = dump(&a.dir);
    let run = a.cmd(&["submit", "--period", "2027-H1"]).expect_code(2);
    assert!(
        run.stderr().contains("2027-H1") && run.stderr().contains("15/12/2026"),
        "{}",
        run.context()
    );
    assert_eq!(dump(&a.dir), before, "nothing was recorded");
    // Once the window has opened, the same command is taken.
    a.env.retain(|(k, _)| k != "COSO_NOW");
    a.env
        .push(("COSO_NOW".into(), "2026-12-15T08:00:00+07:00".into()));
    a.cmd(&["submit", "--period", "2027-H1"]).ok();
}
