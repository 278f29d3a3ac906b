//! Command tests: the library run in-process against a temporary store.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use clap::Parser;
use coso_domain::{Decision, Review};

use crate::cli::Cli;
use crate::error::{AgentError, InputError};
use crate::store::{Store, StoreError};
use crate::{Config, run_to};

struct Out {
    result: Result<(), AgentError>,
    stdout: String,
}

impl Out {
    fn ok(self) -> String {
        if let Err(e) = &self.result {
            panic!("command failed: {e:?}\n{}", self.stdout);
        }
        self.stdout
    }
    fn refused(self) -> InputError {
        match self.result {
            Err(AgentError::Input(e)) => e,
            other => panic!("expected refused input, got {other:?}\n{}", self.stdout),
        }
    }
    fn json(self) -> serde_json::Value {
        let text = self.ok();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

fn run(dir: &Path, args: &[&str]) -> Out {
    let mut argv = vec![
        "coso-agent",
        "--data-dir",
        dir.to_str().unwrap(),
        "--lock-wait",
        "0.2",
    ];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("arguments parse");
    let config = Config::from_cli(cli).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut buf = Vec::new();
    let result = rt.block_on(run_to(config, &mut buf));
    Out {
        result,
        stdout: String::from_utf8(buf).unwrap(),
    }
}

fn dump(dir: &Path) -> Vec<(String, String)> {
    Store::open(dir, Duration::from_secs(2))
        .unwrap()
        .dump()
        .unwrap()
}

fn unit(dir: &Path, kind: &str) {
    run(
        dir,
        &[
            "init",
            "--unit",
            "TDP05",
            "--name",
            "Tổ dân phố số 5",
            "--kind",
            kind,
        ],
    )
    .ok();
}

fn add(dir: &Path, date: &str, form: &str, p: &str) -> String {
    let out = run(
        dir,
        &[
            "activity",
            "add",
            "--date",
            date,
            "--form",
            form,
            "--title",
            "Hội nghị",
            "--participants",
            p,
        ],
    )
    .ok();
    out.lines().last().unwrap().to_string()
}

#[test]
fn init_once_only() {
    let tmp = tempfile::tempdir().unwrap();
    unit(tmp.path(), "residential-group");
    let before = dump(tmp.path());
    let e = run(
        tmp.path(),
        &["init", "--unit", "X1", "--name", "Khác", "--kind", "school"],
    )
    .refused();
    assert!(matches!(e, InputError::AlreadyInitialised { .. }));
    assert_eq!(dump(tmp.path()), before);
    let fresh = tempfile::tempdir().unwrap();
    for bad in [
        ["--unit", "TDP 5", "--name", "x", "--kind", "school"],
        ["--unit", "TDP5", "--name", " ", "--kind", "school"],
        ["--unit", "TDP5", "--name", "x", "--kind", "village"],
    ] {
        let mut args = vec!["init"];
        args.extend_from_slice(&bad);
        run(fresh.path(), &args).refused();
    }
    assert!(dump(fresh.path()).is_empty());
}

#[test]
fn commands_need_a_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &["report", "--period", "2026-H1"]);
    assert!(matches!(out.result, Err(AgentError::NotInitialised { .. })));
    assert_eq!(out.result.unwrap_err().exit_code(), 1);
}

#[test]
fn activity_ids_are_never_reused() {
    let tmp = tempfile::tempdir().unwrap();
    unit(tmp.path(), "residential-group");
    assert_eq!(add(tmp.path(), "2026-03-02", "conference", "40"), "HD-1");
    assert_eq!(add(tmp.path(), "2026-03-03", "training", "10"), "HD-2");
    run(tmp.path(), &["activity", "remove", "HD-2"]).ok();
    assert_eq!(add(tmp.path(), "2026-03-04", "training", "12"), "HD-3");
    run(
        tmp.path(),
        &[
            "activity",
            "edit",
            "hd-1",
            "--participants",
            "41",
            "--title",
            "Hội nghị quán triệt",
        ],
    )
    .ok();
    let list = run(tmp.path(), &["--json", "activity", "list"]).json();
    let ids: Vec<&str> = list["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["HD-1", "HD-3"]);
    assert_eq!(list["activities"][0]["participants"], 41);
    assert_eq!(list["activities"][0]["title"], "Hội nghị quán triệt");
    let before = dump(tmp.path());
    run(tmp.path(), &["activity", "remove", "HD-2"]).refused();
    run(tmp.path(), &["activity", "edit", "HD-1"]).refused();
    run(
        tmp.path(),
        &["activity", "edit", "HD-1", "--date", "2026-02-30"],
    )
    .refused();
    run(
        tmp.path(),
        &[
            "activity",
            "add",
            "--date",
            "2026-03-02",
            "--form",
            "meeting",
            "--title",
            "x",
        ],
    )
    .refused();
    run(
        tmp.path(),
        &[
            "activity",
            "add",
            "--date",
            "2026-03-02",
            "--form",
            "other",
            "--title",
            " ",
        ],
    )
    .refused();
    run(
        tmp.path(),
        &[
            "activity",
            "add",
            "--date",
            "2026-03-02",
            "--form",
            "other",
            "--title",
            "x",
            "--participants=-4",
        ],
    )
    .refused();
    assert_eq!(dump(tmp.path()), before);
}

#[test]
fn values_are_all_or_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    unit(tmp.path(), "residential-group");
    let before = dump(tmp.path());
    for args in [
        vec!["DB01=3", "XX99=1"],  // unknown code
        vec!["DB01=3", "DB02=ba"], // wrong type
        vec!["DB01=3", "DB02=-1"], // not a count
        vec!["DB01=3", "CQ01=có"], // not for this kind
        vec!["DB01=3", "TT01=4"],  // derived, not entered
        vec!["DT02=5", "DT03=6"],  // rule DT-R1
        vec!["DB01=3", "DB02"],    // not CODE=VALUE
    ] {
        let mut a = vec!["value", "set", "--period", "2026-H1"];
        a.extend(args);
        run(tmp.path(), &a).refused();
        assert_eq!(dump(tmp.path()), before, "{a:?}");
    }
    match run(
        tmp.path(),
        &["value", "set", "--period", "2026-H1", "DB01=x", "DT02=y"],
    )
    .refused()
    {
        InputError::Values { problems } => assert_eq!(problems.len(), 2, "every problem at once"),
        other => panic!("{other:?}"),
    }
    run(
        tmp.path(),
        &["value", "set", "--period", "2026-Q5", "DB01=1"],
    )
    .refused();
    run(
        tmp.path(),
        &[
            "value", "set", "--period", "2026-H1", "DT02=5", "DT03=5", "DB01=2",
        ],
    )
    .ok();
    // Breaking the rule against a stored value is refused too.
    run(
        tmp.path(),
        &["value", "set", "--period", "2026-H1", "DT03=6"],
    )
    .refused();
    // Clearing a value with CODE=.
    run(
        tmp.path(),
        &["value", "set", "--period", "2026-H1", "DT03="],
    )
    .ok();
    let v = run(
        tmp.path(),
        &["--json", "value", "list", "--period", "2026-H1"],
    )
    .json();
    assert_eq!(v["entered"], serde_json::json!({"DB01": 2, "DT02": 5}));
    assert!(
        v["not_reported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "DT03")
    );
    assert!(
        v["values"].get("DT03").is_none(),
        "not reported is absent, never 0"
    );
}

#[test]
fn submit_freezes_and_return_reopens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    unit(dir, "residential-group");
    add(dir, "2026-03-02", "conference", "40");
    // DB01 is required for a residential group.
    match run(dir, &["submit", "--period", "2026-H1"]).refused() {
        InputError::SubmitBlocked { problems, .. } => {
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].field, "DB01");
        }
        other => panic!("{other:?}"),
    }
    run(dir, &["value", "set", "--period", "2026-H1", "DB01=2"]).ok();
    run(
        dir,
        &[
            "note",
            "set",
            "--period",
            "2026-H1",
            "--section",
            "results",
            "--text",
            "Tốt",
        ],
    )
    .ok();
    run(dir, &["submit", "--period", "2026-H1"]).ok();
    let before = dump(dir);
    assert!(matches!(
        run(dir, &["submit", "--period", "2026-H1"]).refused(),
        InputError::AlreadySubmitted { .. }
    ));
    assert!(matches!(
        run(dir, &["value", "set", "--period", "2026-H1", "DB01=3"]).refused(),
        InputError::NotEditable { .. }
    ));
    assert!(matches!(
        run(
            dir,
            &[
                "note",
                "set",
                "--period",
                "2026-H1",
                "--section",
                "results",
                "--text",
                "x"
            ]
        )
        .refused(),
        InputError::NotEditable { .. }
    ));
    assert_eq!(dump(dir), before);
    // A later activity inside the window is recorded, with a notice.
    let out = run(
        dir,
        &[
            "activity",
            "add",
            "--date",
            "2026-04-01",
            "--form",
            "conference",
            "--title",
            "Muộn",
            "--participants",
            "5",
        ],
    )
    .ok();
    assert!(
        out.contains("2026-H1") && out.contains("không thay đổi"),
        "{out}"
    );
    assert_eq!(out.lines().last().unwrap(), "HD-2");
    let r = run(dir, &["--json", "report", "--period", "2026-H1"]).json();
    assert_eq!(r["state"], "submitted");
    assert_eq!(r["values"]["TT02"], 1, "the frozen report is unchanged");
    assert_eq!(r["live_values"]["TT02"], 2);
    let m9 = run(dir, &["--json", "report", "--period", "2026-M9"]).json();
    assert_eq!(m9["values"]["TT02"], 2, "it counts toward the later period");
    // The hub returns the report: it is editable again and shows the reason.
    {
        let s = Store::open(dir, Duration::from_secs(2)).unwrap();
        let review = Review {
            period: "2026-H1".parse().unwrap(),
            decision: Decision::Returned,
            reason: "Bổ sung số liệu đối thoại".into(),
            decided_at: Utc::now(),
            submission: None,
        };
        s.apply_reviews(&[(1, review)], 1).unwrap();
        s.flush_blocking().unwrap();
    }
    let r = run(dir, &["--json", "report", "--period", "2026-H1"]).json();
    assert_eq!(r["state"], "returned");
    assert_eq!(r["review_comment"], "Bổ sung số liệu đối thoại");
    assert_eq!(
        r["values"]["TT02"], 2,
        "a returned report shows what will be sent again"
    );
    let text = run(dir, &["report", "--period", "2026-H1"]).ok();
    assert!(
        text.contains("Bổ sung số liệu đối thoại") && text.contains("bị phường trả lại"),
        "{text}"
    );
    run(dir, &["value", "set", "--period", "2026-H1", "DT01=1"]).ok();
    run(dir, &["submit", "--period", "2026-H1"]).ok();
    let r = run(dir, &["--json", "report", "--period", "2026-H1"]).json();
    assert_eq!(r["state"], "submitted");
    assert_eq!(r["values"]["DT01"], 1);
    let st = run(dir, &["--json", "status"]).json();
    assert_eq!(st["head_seq"], 7);
    assert_eq!(st["pending_changes"], 7);
}

#[test]
fn report_shows_deadline_problems_and_not_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    unit(dir, "school");
    let r = run(dir, &["--json", "report", "--period", "2026-H1"]).json();
    for key in [
        "period",
        "due",
        "state",
        "values",
        "problems",
        "review_comment",
    ] {
        assert!(r.get(key).is_some(), "missing {key}");
    }
    assert_eq!(r["due"], "2026-06-05T00:00:00+07:00");
    assert_eq!(r["problems"][0]["code"], "required_missing");
    assert_eq!(r["problems"][0]["field"], "CQ01");
    assert!(r["values"].get("CQ01").is_none());
    let text = run(dir, &["report", "--period", "2026-H1"]).ok();
    assert!(
        text.contains("Hạn nộp: trước 00:00 ngày 05/6/2026"),
        "{text}"
    );
    assert_eq!(
        r["deadline"].as_str().unwrap().split(" (").next().unwrap(),
        "hạn nộp: trước 00:00 ngày 05/6/2026"
    );
    assert!(text.contains("chưa báo cáo"), "{text}");
    let en = run(dir, &["--lang", "en", "report", "--period", "2026-H1"]).ok();
    assert!(
        en.contains("not reported") && en.contains("required indicator"),
        "{en}"
    );
}

#[test]
fn notes_are_nfc_and_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    unit(dir, "residential-group");
    // "Hội nghị" typed decomposed (NFD), with spacing and lines kept.
    let nfd = "  Ho\u{0323}\u{0302}i nghi\u{0323}\n\tdân chủ ở cơ sở  ";
    let nfc = "  Hội nghị\n\tdân chủ ở cơ sở  ";
    run(
        dir,
        &[
            "note",
            "set",
            "--period",
            "2026-H1",
            "--section",
            "difficulties",
            "--text",
            nfd,
        ],
    )
    .ok();
    let r = run(dir, &["--json", "report", "--period", "2026-H1"]).json();
    assert_eq!(r["notes"]["difficulties"], nfc);
    let f = dir.join("note.txt");
    std::fs::write(&f, "Đề xuất: tăng cường tập huấn.\r\n").unwrap();
    run(
        dir,
        &[
            "note",
            "set",
            "--period",
            "2026-H1",
            "--section",
            "proposals",
            "--file",
            f.to_str().unwrap(),
        ],
    )
    .ok();
    let r = run(dir, &["--json", "report", "--period", "2026-H1"]).json();
    assert_eq!(r["notes"]["proposals"], "Đề xuất: tăng cường tập huấn.\r\n");
    let before = dump(dir);
    std::fs::write(&f, b"Kh\xf4ng UTF-8").unwrap();
    assert!(matches!(
        run(
            dir,
            &[
                "note",
                "set",
                "--period",
                "2026-H1",
                "--section",
                "proposals",
                "--file",
                f.to_str().unwrap()
            ]
        )
        .refused(),
        InputError::NotUtf8 { .. }
    ));
    run(
        dir,
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
    )
    .refused();
    assert_eq!(dump(dir), before);
}

#[test]
fn import_is_all_or_nothing_with_line_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    unit(dir, "residential-group");
    let f = dir.join("v.csv");
    std::fs::write(&f, "Mã;Giá trị\nDB01;3\nDB02;hai\nDB04;2\nDB06;5\n").unwrap();
    let before = dump(dir);
    match run(
        dir,
        &[
            "value",
            "import",
            "--period",
            "2026-H1",
            f.to_str().unwrap(),
        ],
    )
    .refused()
    {
        InputError::Import { errors, .. } => {
            let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
            assert_eq!(lines, [3, 5], "{errors:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(dump(dir), before);
    std::fs::write(&f, "DB01,3\nDB02,2\nDB04,2\nDB06,1\nDB05,\n").unwrap();
    let out = run(
        dir,
        &[
            "value",
            "import",
            "--period",
            "2026-H1",
            f.to_str().unwrap(),
        ],
    )
    .ok();
    assert!(out.contains("4 giá trị"), "{out}");
    let v = run(dir, &["--json", "value", "list", "--period", "2026-H1"]).json();
    assert_eq!(
        v["entered"],
        serde_json::json!({"DB01": 3, "DB02": 2, "DB04": 2, "DB06": 1})
    );
    let st = run(dir, &["--json", "status"]).json();
    assert_eq!(st["head_seq"], 1, "one import is one change");
}

#[test]
fn activity_import_is_all_or_nothing_with_line_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    unit(dir, "residential-group");
    run(
        dir,
        &[
            "activity",
            "add",
            "--date",
            "2026-01-05",
            "--form",
            "briefing",
            "--title",
            "Giao ban",
        ],
    )
    .ok();
    let f = dir.join("hoat-dong.csv");
    // Line 3: no such form; line 4: 30 February; line 6: participants "-4";
    // line 7: no title.
    std::fs::write(
        &f,
        "ngày;hình thức;tên hoạt động;số người;ghi chú
         2026-03-02;Hội nghị;Hội nghị quán triệt;45;
         2026-03-03;họp;Họp tổ;10;
         30/02/2026;conference;Hội nghị;10;
         
         2026-03-05;training;Tập huấn;-4;
         2026-03-06;other;;;
",
    )
    .unwrap();
    let before = dump(dir);
    match run(dir, &["activity", "import", f.to_str().unwrap()]).refused() {
        InputError::ActivityImport { errors, .. } => {
            let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
            assert_eq!(lines, [3, 4, 6, 7], "{errors:?}");
            let text = crate::messages::input_message(
                &InputError::ActivityImport {
                    path: f.clone(),
                    errors,
                },
                coso_domain::Lang::Vi,
            );
            assert!(
                text.contains("dòng 3: form") && text.contains("họp"),
                "{text}"
            );
            assert!(text.contains("không hoạt động nào được ghi"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(dump(dir), before, "a refused file writes nothing");

    // Columns in another order under an English header; dates as written in
    // Vietnam; forms by code or Vietnamese name.
    std::fs::write(
        &f,
        "title,date,form,participants,note
         Hội nghị dân biết dân bàn,2/3/2026,Hội nghị,1.200,
         Bài đăng Zalo,2026-03-10,social-network,,có ảnh
         Tập huấn,2026-07-01,training,30,
",
    )
    .unwrap();
    let out = run(dir, &["activity", "import", f.to_str().unwrap()]).ok();
    assert!(out.contains("Đã nhập 3 hoạt động"), "{out}");
    assert_eq!(out.trim().lines().last(), Some("HD-2..HD-4"), "{out}");
    let list = run(dir, &["--json", "activity", "list"]).json();
    assert_eq!(list["count"], 4);
    assert_eq!(list["participants"], 1230);
    let a = &list["activities"][1];
    assert_eq!(a["id"], "HD-2");
    assert_eq!(a["date"], "2026-03-02");
    assert_eq!(a["form"], "conference");
    assert_eq!(a["title"], "Hội nghị dân biết dân bàn");
    assert_eq!(list["activities"][2]["note"], "có ảnh");
    assert_eq!(
        list["activities"][2]["participants"],
        serde_json::Value::Null
    );
    let st = run(dir, &["--json", "status"]).json();
    assert_eq!(st["head_seq"], 4, "one change per activity");
    // The ids go on after the import.
    let next = run(
        dir,
        &[
            "activity",
            "add",
            "--date",
            "2026-04-01",
            "--form",
            "other",
            "--title",
            "Loa truyền thanh",
        ],
    )
    .ok();
    assert_eq!(next.trim().lines().last(), Some("HD-5"));
    // The log is whole: seq 1..=5, each entry intact, the chain stored.
    let store = Store::open(dir, Duration::from_secs(2)).unwrap();
    let log = store.entries_after(0, 100, usize::MAX).unwrap();
    assert_eq!(
        log.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let mut chain = coso_proto::chain::GENESIS;
    for e in &log {
        e.decode().unwrap();
        chain = coso_proto::chain::next(&chain, e);
        assert_eq!(store.chain_at(e.seq).unwrap(), chain);
    }
    drop(store);

    let empty = dir.join("trong.csv");
    std::fs::write(
        &empty,
        "ngày,hình thức,tên hoạt động
",
    )
    .unwrap();
    assert!(matches!(
        run(dir, &["activity", "import", empty.to_str().unwrap()]).refused(),
        InputError::EmptyActivityImport { .. }
    ));
}

#[test]
fn activity_import_from_xlsx_with_date_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    unit(dir, "school");
    let f = dir.join("hoat-dong.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["Ngày", "Hình thức", "Tên hoạt động", "Số người"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 3, 2).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    sheet.write_datetime_with_format(1, 0, &date, &fmt).unwrap();
    sheet.write_string(1, 1, "Hội nghị").unwrap();
    sheet
        .write_string(1, 2, "Hội nghị cán bộ, viên chức")
        .unwrap();
    sheet.write_number(1, 3, 80.0).unwrap();
    book.save(&f).unwrap();
    run(dir, &["activity", "import", f.to_str().unwrap()]).ok();
    let list = run(dir, &["--json", "activity", "list"]).json();
    assert_eq!(list["activities"][0]["date"], "2026-03-02");
    assert_eq!(list["activities"][0]["participants"], 80);
}

#[test]
fn xlsx_import() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    unit(dir, "school");
    let f = dir.join("so-lieu.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Mã chỉ tiêu").unwrap();
    sheet.write_string(0, 1, "Giá trị").unwrap();
    sheet.write_string(1, 0, "CQ01").unwrap();
    sheet.write_boolean(1, 1, true).unwrap();
    sheet.write_string(2, 0, "DG01").unwrap();
    sheet.write_number(2, 1, 87.5).unwrap();
    sheet.write_string(3, 0, "GS02").unwrap();
    sheet.write_number(3, 1, 5.0).unwrap();
    book.save(&f).unwrap();
    run(
        dir,
        &[
            "value",
            "import",
            "--period",
            "2026-H1",
            f.to_str().unwrap(),
        ],
    )
    .ok();
    let v = run(dir, &["--json", "value", "list", "--period", "2026-H1"]).json();
    assert_eq!(
        v["entered"],
        serde_json::json!({"CQ01": true, "DG01": 87.5, "GS02": 5})
    );
}

#[test]
fn a_held_store_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    unit(tmp.path(), "school");
    let _held = Store::open(tmp.path(), Duration::from_secs(1)).unwrap();
    let out = run(tmp.path(), &["status"]);
    match out.result {
        Err(AgentError::Store(StoreError::Locked { pid, .. })) => {
            assert_eq!(pid, Some(std::process::id()))
        }
        other => panic!("{other:?}"),
    }
}

/// Defect 3 of issue 13: a date outside the supported years panicked in the
/// calendar. It is refused as input, names the field, and writes nothing.
#[test]
fn out_of_range_dates_are_refused_not_panicked() {
    let tmp = tempfile::tempdir().unwrap();
    unit(tmp.path(), "residential-group");
    let before = dump(tmp.path());
    for bad in ["1999-06-01", "2101-01-01", "+262142-12-31", "0000-01-01"] {
        let e = run(
            tmp.path(),
            &[
                "activity",
                "add",
                "--date",
                bad,
                "--form",
                "conference",
                "--title",
                "Hội nghị",
            ],
        )
        .refused();
        assert!(
            matches!(e, InputError::Invalid { field: "date", .. }),
            "{bad}: {e:?}"
        );
    }
    assert_eq!(dump(tmp.path()), before);
    // The edges of the supported range are accepted.
    add(tmp.path(), "2000-01-01", "conference", "1");
    add(tmp.path(), "2100-12-31", "conference", "1");
}

/// Every file under `dir`, with its bytes.
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            let bytes = std::fs::read(&p).unwrap_or_default();
            out.push((p, bytes));
        }
    }
    out
}

/// Defect 6 of issue 13: the data dir is owner-only, sled's files too, and
/// the unit credential lives in its own 0600 file, not in the database.
#[cfg(unix)]
#[test]
fn the_data_dir_is_private_and_the_credential_has_its_own_file() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("agent");
    unit(&dir, "residential-group");
    let secret = "TDP05.thisisthesecretpartofthecredential";
    {
        let store = Store::open(&dir, Duration::from_secs(2)).unwrap();
        let mut id = store.identity().unwrap().unwrap();
        id.hub = Some(crate::store::HubLink {
            addr: "127.0.0.1:7443".into(),
            fingerprint: [7; 32],
            credential: secret.into(),
            enrolled_at: Utc::now(),
        });
        store.set_identity(&id).unwrap();
        store.flush_blocking().unwrap();
        assert_eq!(
            store.identity().unwrap().unwrap().hub.unwrap().credential,
            secret
        );
    }
    let store = Store::open(&dir, Duration::from_secs(2)).unwrap();
    assert_eq!(
        store.identity().unwrap().unwrap().hub.unwrap().credential,
        secret,
        "the credential survives a reopen"
    );
    drop(store);
    assert_eq!(mode(&dir), 0o700);
    let cred = dir.join(crate::store::CREDENTIAL_FILE);
    assert_eq!(mode(&cred), 0o600);
    for (path, bytes) in files_under(&dir) {
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} is readable by others",
            path.display()
        );
        if path != cred {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(secret),
                "the credential is in {}",
                path.display()
            );
        }
    }
}
