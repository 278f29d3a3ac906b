//! The hub end to end (issue 4, hub side): `init` and `serve` of the real
//! binary, the unit registry and enrolment links, health and reflection for a
//! generic gRPC client, the HTTP listener, the limits, and the refusals of the
//! Sync and Admin services (raw protocol over the pinned TLS channel).

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use coso_domain::activity::{Activity, ActivityId, Form};
use coso_domain::change::ValuesSet;
use coso_domain::{Calendar, Catalog, Change, Entry, UnitKind, UnitState, Value};
use coso_proto::link::EnrolmentLink;
use coso_proto::pb;
use coso_proto::pb::admin_client::AdminClient;
use coso_proto::pb::sync_client::SyncClient;
use coso_tests::Hub;
use tonic::Code;
use tonic::transport::Channel;

const TIMEOUT: Duration = Duration::from_secs(20);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("tokio runtime")
}

fn channel(link: &EnrolmentLink) -> Channel {
    coso_proto::transport::pinned_channel(&link.addr, link.fingerprint, TIMEOUT).expect("channel")
}

/// A request with `authorization: Bearer <token>` (and English messages).
fn authed<T>(msg: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r.metadata_mut().insert("coso-lang", "en".parse().unwrap());
    r
}

fn admin_token(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("admin.token"))
        .expect("admin.token")
        .trim()
        .to_string()
}

fn activity(seq: u64, note: &str) -> Entry {
    let a = Activity {
        id: ActivityId::from_counter(seq),
        date: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        form: Form::Conference,
        title: format!("Hội nghị số {seq}"),
        participants: Some(10),
        note: note.to_string(),
    };
    Entry::new(seq, &Change::ActivityUpsert(a), chrono::Utc::now())
}

fn push(entries: &[Entry]) -> pb::PushRequest {
    pb::PushRequest {
        entries: entries.iter().map(pb::ChangeEntry::from).collect(),
        receipts: Vec::new(),
    }
}

#[test]
fn init_serve_and_the_unit_registry() {
    let mut hub = Hub::start();
    // A second init over the same dir is refused and changes nothing.
    let before = std::fs::read(hub.dir.join("admin.token")).unwrap();
    let again = hub.cmd(&["init", "--lang", "en"]).expect_code(2);
    assert!(
        again.stderr().contains("already holds a hub"),
        "{}",
        again.context()
    );
    assert_eq!(std::fs::read(hub.dir.join("admin.token")).unwrap(), before);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(hub.dir.join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the admin token is private");
    }

    // `unit add`: the last line is the link, pinned to this hub's certificate.
    let link: EnrolmentLink = hub
        .add_unit("tdp05", "Tổ dân phố số 5", "residential-group")
        .parse()
        .expect("an enrolment link");
    assert_eq!(link.addr, hub.grpc);
    assert_eq!(link.unit.as_str(), "TDP05");
    assert_eq!(
        link.fingerprint,
        coso_hub::tls::fingerprint(&hub.dir).unwrap()
    );

    // Refusals exit 2, name the field, and register nothing.
    let dup = hub
        .cmd(&[
            "unit",
            "add",
            "TDP05",
            "--name",
            "Tổ 5",
            "--kind",
            "residential-group",
            "--lang",
            "en",
        ])
        .expect_code(2);
    assert!(dup.stderr().contains("already exists"), "{}", dup.context());
    let bad = hub
        .cmd(&[
            "unit", "add", "TDP06", "--name", "Tổ 6", "--kind", "village",
        ])
        .expect_code(2);
    assert!(bad.stderr().contains("kind"), "{}", bad.context());
    assert!(
        bad.stderr().contains("không hợp lệ"),
        "Vietnamese by default\n{}",
        bad.context()
    );

    // CSV import: all or nothing.
    let csv_dir = tempfile::tempdir().unwrap();
    let bad_csv = csv_dir.path().join("bad.csv");
    std::fs::write(
        &bad_csv,
        "code,name,kind\nTHCS1,Trường THCS Gia Viên,school\nTDP07,Tổ 7,hamlet\n",
    )
    .unwrap();
    let r = hub
        .cmd(&["unit", "import", bad_csv.to_str().unwrap(), "--lang", "en"])
        .expect_code(2);
    assert!(r.stderr().contains("line 3"), "{}", r.context());
    let clash = csv_dir.path().join("clash.csv");
    std::fs::write(
        &clash,
        "THCS1,Trường THCS Gia Viên,school\nTDP05,Tổ 5,residential-group\n",
    )
    .unwrap();
    hub.cmd(&["unit", "import", clash.to_str().unwrap()])
        .expect_code(2);
    let good = csv_dir.path().join("good.csv");
    std::fs::write(
        &good,
        "code,name,kind\nTHCS1,\"Trường THCS Gia Viên, cơ sở 1\",school\nTDP07,Tổ dân phố số 7,residential-group\n",
    )
    .unwrap();
    let links = csv_dir.path().join("links.csv");
    let out = hub
        .cmd(&[
            "unit",
            "import",
            good.to_str().unwrap(),
            "--links-out",
            links.to_str().unwrap(),
        ])
        .ok();
    assert_eq!(
        out.stdout().matches("coso://").count(),
        2,
        "{}",
        out.context()
    );
    let saved = std::fs::read_to_string(&links).unwrap();
    assert!(
        saved.starts_with("code,name,kind,enrolment_link"),
        "{saved}"
    );
    for line in saved.lines().skip(1) {
        let l = line
            .split(',')
            .find(|f| f.starts_with("coso://"))
            .expect("a link per unit");
        l.parse::<EnrolmentLink>().expect("a valid link");
    }

    let list = hub.cmd(&["unit", "list", "--json"]).ok().json();
    let codes: Vec<&str> = list["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["TDP05", "TDP07", "THCS1"]);
    assert_eq!(list["units"][0]["enrolment"], "pending");
    assert_eq!(list["units"][0]["name"], "Tổ dân phố số 5");
    assert_eq!(list["units"][0]["acked_seq"], 0);
    assert!(list["units"][0]["last_sync"].is_null());

    let show = hub.cmd(&["unit", "show", "TDP05", "--json"]).ok().json();
    assert_eq!(show["unit"], "TDP05");
    assert_eq!(show["acked_seq"], 0);
    assert_eq!(show["activities"], 0);
    assert!(show["last_sync"].is_null());
    assert_eq!(show["periods"], serde_json::json!([]));
    hub.cmd(&["unit", "show", "NOPE"]).expect_code(2);

    // Revoke and reissue.
    let rev = hub.cmd(&["unit", "revoke", "TDP07", "--json"]).ok().json();
    assert_eq!(rev["enrolment"], "revoked");
    let relink = hub.cmd(&["unit", "reissue", "TDP07"]).ok().last_line();
    assert!(relink.parse::<EnrolmentLink>().is_ok(), "{relink}");

    // A second hub on the same data dir is refused before it announces
    // itself, and the running one is unharmed.
    let addr = std::fs::read_to_string(hub.dir.join("hub.addr")).unwrap();
    let second = hub
        .cmd(&[
            "serve",
            "--grpc",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--lang",
            "en",
        ])
        .expect_code(1);
    assert!(
        second.stderr().contains("in use by another"),
        "{}",
        second.context()
    );
    assert!(second.stdout().is_empty(), "{}", second.context());
    assert_eq!(
        std::fs::read_to_string(hub.dir.join("hub.addr")).unwrap(),
        addr
    );
    hub.cmd(&["unit", "list"]).ok();

    // The CLI works only while the hub serves; SIGTERM shuts it down cleanly.
    hub.stop();
    assert!(
        !hub.dir.join("hub.addr").exists(),
        "hub.addr is removed on shutdown"
    );
    let down = hub.cmd(&["unit", "list", "--lang", "en"]).expect_code(1);
    assert!(
        down.stderr().contains("no hub is running"),
        "{}",
        down.context()
    );
    // Everything acknowledged is still there after a restart.
    hub.serve();
    let list = hub.cmd(&["unit", "list", "--json"]).ok().json();
    assert_eq!(list["units"].as_array().unwrap().len(), 3);
}

#[test]
fn a_generic_client_sees_health_reflection_and_the_http_listener() {
    let hub = Hub::start();
    let link: EnrolmentLink = hub
        .add_unit("TDP01", "Tổ dân phố số 1", "residential-group")
        .parse()
        .unwrap();
    rt().block_on(async {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
        let mut health = HealthClient::new(channel(&link));
        for service in ["", "coso.v1.Sync", "coso.v1.Admin"] {
            let r = health
                .check(HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .unwrap_or_else(|e| panic!("health check {service:?}: {e}"))
                .into_inner();
            assert_eq!(r.status, ServingStatus::Serving as i32, "{service:?}");
        }

        use tonic_reflection::pb::v1::ServerReflectionRequest;
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let mut refl = ServerReflectionClient::new(channel(&link));
        let requests = vec![
            ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            },
            ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::FileContainingSymbol("coso.v1.Sync".into())),
            },
        ];
        let mut stream = refl
            .server_reflection_info(tokio_stream::iter(requests))
            .await
            .expect("reflection")
            .into_inner();
        let first = stream.message().await.expect("list").expect("a response");
        let Some(MessageResponse::ListServicesResponse(list)) = first.message_response else {
            panic!("unexpected reflection response {first:?}")
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for want in ["coso.v1.Sync", "coso.v1.Admin", "grpc.health.v1.Health"] {
            assert!(
                names.iter().any(|n| n == want),
                "{want} missing from {names:?}"
            );
        }
        let second = stream.message().await.expect("file").expect("a response");
        let Some(MessageResponse::FileDescriptorResponse(files)) = second.message_response else {
            panic!("unexpected reflection response {second:?}")
        };
        assert!(!files.file_descriptor_proto.is_empty());
    });

    // HTTP: GET /healthz.
    let mut tcp = std::net::TcpStream::connect(&hub.http).expect("connect http");
    tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        tcp,
        "GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        hub.http
    )
    .unwrap();
    let mut body = String::new();
    tcp.read_to_string(&mut body).unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("\"status\":\"ok\""), "{body}");
}

#[test]
fn enrolment_codes_work_once_and_credentials_stay_in_their_lane() {
    let hub = Hub::start();
    let token = admin_token(&hub.dir);
    let link: EnrolmentLink = hub
        .add_unit("TDP02", "Tổ dân phố số 2", "residential-group")
        .parse()
        .unwrap();
    rt().block_on(async {
        let mut sync = SyncClient::new(channel(&link));
        let mut admin = AdminClient::new(channel(&link));
        let enroll = |code: &str| pb::EnrollRequest {
            unit: link.unit.to_string(),
            code: code.to_string(),
        };

        // A wrong code changes nothing; the right one works once.
        let e = sync.enroll(enroll("0123456789abcdef")).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
        let r = sync
            .enroll(enroll(&link.code))
            .await
            .expect("enroll")
            .into_inner();
        let cred = r.credential;
        assert!(cred.starts_with("TDP02."), "{cred}");
        assert_eq!(r.unit.unwrap().code, "TDP02");
        let cat = Catalog::try_from(r.catalog.as_ref().unwrap()).expect("a valid catalog");
        assert_eq!(cat.version, r.catalog.as_ref().unwrap().version);
        Calendar::try_from(r.calendar.as_ref().unwrap()).expect("a valid calendar");
        assert_eq!(r.ward, "Phường Gia Viên");
        let e = sync
            .enroll(authed(enroll(&link.code), "x"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "a used code: {e:?}");
        assert!(e.message().contains("already used"), "{e:?}");

        // The credential works for Sync ...
        let hello = sync
            .hello(authed(pb::HelloRequest::default(), &cred))
            .await
            .expect("hello")
            .into_inner();
        assert_eq!(hello.acked_seq, 0);
        assert!(
            hello.catalog.is_some() && hello.calendar.is_some(),
            "version 0 gets both"
        );
        let hello = sync
            .hello(authed(
                pb::HelloRequest {
                    catalog_version: cat.version,
                    calendar_version: r.calendar.as_ref().unwrap().version,
                    ..Default::default()
                },
                &cred,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(
            hello.catalog.is_none() && hello.calendar.is_none(),
            "nothing newer"
        );
        assert!(hello.max_batch_entries > 0 && hello.max_batch_bytes > 0);

        // ... but not for Admin; the admin token is not a unit credential.
        let e = admin
            .list_units(authed(pb::ListUnitsRequest {}, &cred))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
        let e = admin.list_units(pb::ListUnitsRequest {}).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
        let e = sync
            .hello(authed(pb::HelloRequest::default(), &token))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
        admin
            .list_units(authed(pb::ListUnitsRequest {}, &token))
            .await
            .expect("admin token");

        // A push moves the cursor; a revoked unit is refused from then on.
        let out = sync
            .push(authed(push(&[activity(1, "")]), &cred))
            .await
            .expect("push")
            .into_inner();
        assert_eq!((out.acked_seq, out.applied), (1, 1));
        admin
            .revoke_unit(authed(
                pb::UnitRef {
                    code: "TDP02".into(),
                },
                &token,
            ))
            .await
            .expect("revoke");
        let e = sync
            .push(authed(push(&[activity(2, "")]), &cred))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
        assert!(e.message().contains("revoked"), "{e:?}");
    });
    let show = hub.cmd(&["unit", "show", "TDP02", "--json"]).ok().json();
    assert_eq!(
        show["acked_seq"], 1,
        "nothing after the revocation: {show:#}"
    );
    assert_eq!(show["enrolment"], "revoked");
}

#[test]
fn an_expired_code_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    Hub::init_in(&dir, &[]);
    let mut hub = Hub::serve_existing(&dir);
    hub.env = vec![("COSO_NOW".into(), "2026-03-01T09:00:00+07:00".into())];
    hub.stop();
    hub.serve();
    let link: EnrolmentLink = hub
        .add_unit("TDP03", "Tổ dân phố số 3", "residential-group")
        .parse()
        .unwrap();
    // Eight days later the seven-day code has expired.
    hub.stop();
    hub.env = vec![("COSO_NOW".into(), "2026-03-09T09:00:00+07:00".into())];
    hub.serve();
    let link = EnrolmentLink {
        addr: hub.grpc.clone(),
        ..link
    };
    rt().block_on(async {
        let mut sync = SyncClient::new(channel(&link));
        let e = sync
            .enroll(authed(
                pb::EnrollRequest {
                    unit: "TDP03".into(),
                    code: link.code.clone(),
                },
                "-",
            ))
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
        assert!(e.message().contains("expired"), "{e:?}");
    });
    let list = hub.cmd(&["unit", "list", "--json"]).ok().json();
    assert_eq!(list["units"][0]["enrolment"], "pending", "nothing changed");
}

#[test]
fn oversized_messages_and_batches_are_refused_with_nothing_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    Hub::init_in(&dir, &[]);
    let cfg = std::fs::read_to_string(dir.join("hub.toml")).unwrap();
    let small = cfg
        .replace("max_message_bytes = 4194304", "max_message_bytes = 65536")
        .replace("max_batch_bytes = 1048576", "max_batch_bytes = 16384")
        .replace("max_batch_entries = 500", "max_batch_entries = 10");
    assert_ne!(cfg, small, "the limits are in hub.toml");
    std::fs::write(dir.join("hub.toml"), small).unwrap();
    let hub = Hub::serve_existing(&dir);
    let link: EnrolmentLink = hub
        .add_unit("TDP04", "Tổ dân phố số 4", "residential-group")
        .parse()
        .unwrap();
    rt().block_on(async {
        let mut sync = SyncClient::new(channel(&link));
        let cred = sync
            .enroll(pb::EnrollRequest {
                unit: "TDP04".into(),
                code: link.code.clone(),
            })
            .await
            .expect("enroll")
            .into_inner()
            .credential;
        let hello = sync
            .hello(authed(pb::HelloRequest::default(), &cred))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (hello.max_batch_entries, hello.max_batch_bytes),
            (10, 16384)
        );

        // One message over the gRPC limit.
        let mut huge = activity(1, "");
        huge.payload = vec![b' '; 100_000];
        let e = sync.push(authed(push(&[huge]), &cred)).await.unwrap_err();
        // The contract's code for "too large", not tonic's OUT_OF_RANGE.
        assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
        // A batch over the byte limit (valid entries, ~4 KB each).
        let note = "ư".repeat(2000);
        let heavy: Vec<Entry> = (1..=5).map(|s| activity(s, &note)).collect();
        let e = sync.push(authed(push(&heavy), &cred)).await.unwrap_err();
        assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
        // A batch over the entry limit.
        let many: Vec<Entry> = (1..=11).map(|s| activity(s, "")).collect();
        let e = sync.push(authed(push(&many), &cred)).await.unwrap_err();
        assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
        // A malformed entry.
        let mut bad = activity(1, "");
        bad.payload = activity(2, "").payload;
        let e = sync.push(authed(push(&[bad]), &cred)).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");

        let hello = sync
            .hello(authed(pb::HelloRequest::default(), &cred))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(hello.acked_seq, 0, "nothing refused was written");
        // Within the limits, the same entries go through in two batches.
        let out = sync
            .push(authed(push(&heavy[..3]), &cred))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(out.acked_seq, 3);
        let out = sync
            .push(authed(push(&heavy[3..]), &cred))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(out.acked_seq, 5);
    });
    let show = hub.cmd(&["unit", "show", "TDP04", "--json"]).ok().json();
    assert_eq!(show["activities"], 5);
}

#[test]
fn periods_status_and_review_over_the_raw_protocol() {
    let hub = Hub::start();
    let token = admin_token(&hub.dir);
    let link: EnrolmentLink = hub
        .add_unit("TDP09", "Tổ dân phố số 9", "residential-group")
        .parse()
        .unwrap();
    hub.add_unit("TDP10", "Tổ dân phố số 10", "residential-group");

    // An ad-hoc period: refused input first, then created.
    hub.cmd(&[
        "period",
        "add",
        "2026-A01",
        "--title",
        "Đột xuất",
        "--due",
        "2026-13-01",
    ])
    .expect_code(2);
    let r = hub
        .cmd(&[
            "period",
            "add",
            "2026-A01",
            "--title",
            "Báo cáo đột xuất",
            "--due",
            "2026-12-20",
            "--indicators",
            "NOPE",
            "--lang",
            "en",
        ])
        .expect_code(2);
    assert!(r.stderr().contains("indicators"), "{}", r.context());
    hub.cmd(&[
        "period",
        "add",
        "2026-A01",
        "--title",
        "Báo cáo đột xuất về dân chủ cơ sở",
        "--due",
        "2026-12-20",
        "--indicators",
        "TT01,TT02",
    ])
    .ok();
    hub.cmd(&[
        "period",
        "add",
        "2026-A01",
        "--title",
        "Lặp",
        "--due",
        "2026-12-20",
    ])
    .expect_code(2);
    let periods = hub.cmd(&["period", "list", "--json"]).ok().json();
    let adhoc = periods["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "2026-A01")
        .unwrap_or_else(|| panic!("the ad-hoc period is listed: {periods:#}"));
    assert_eq!(adhoc["kind"], "ad-hoc");
    assert_eq!(adhoc["indicators"], serde_json::json!(["TT01", "TT02"]));
    assert_eq!(adhoc["due_day"], "2026-12-20");

    let (cred, submit_again) = rt().block_on(async {
        let mut sync = SyncClient::new(channel(&link));
        let enrolled = sync
            .enroll(pb::EnrollRequest {
                unit: "TDP09".into(),
                code: link.code.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let cred = enrolled.credential;
        let cal = Calendar::try_from(enrolled.calendar.as_ref().unwrap()).unwrap();
        assert!(
            cal.period(&"2026-A01".parse().unwrap()).is_some(),
            "agents get ad-hoc periods"
        );

        // Values, then a submission of H1.
        let h1 = cal.period(&"2026-H1".parse().unwrap()).unwrap();
        let set = Change::ValuesSet(ValuesSet {
            period: h1.code.clone(),
            values: [("DB01".to_string(), Some(Value::Number(4.0)))].into(),
        });
        let mut st = UnitState::default();
        st.apply(&set);
        let frozen = st.freeze(
            &Catalog::builtin(),
            UnitKind::ResidentialGroup,
            &h1,
            chrono::Utc::now(),
        );
        let submit = Change::Submit(Box::new(frozen));
        let entries = [
            Entry::new(1, &set, chrono::Utc::now()),
            Entry::new(2, &submit, chrono::Utc::now()),
        ];
        let out = sync
            .push(authed(push(&entries), &cred))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(out.acked_seq, 2);
        assert_eq!(
            sync.hello(authed(pb::HelloRequest::default(), &cred))
                .await
                .unwrap()
                .into_inner()
                .pull_head,
            0
        );

        let mut admin = AdminClient::new(channel(&link));
        let status = admin
            .status(authed(
                pb::StatusRequest {
                    period: "2026-H1".into(),
                    ..Default::default()
                },
                &token,
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (status.expected, status.reported, status.missing),
            (2, 1, 1)
        );
        let row = status
            .units
            .iter()
            .find(|u| u.unit.as_ref().unwrap().code == "TDP09")
            .unwrap();
        assert_eq!(row.state, "submitted");
        assert!(!row.submitted_at.is_empty());
        (cred, Entry::new(3, &submit, chrono::Utc::now()))
    });

    let st = hub
        .cmd(&["status", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    assert_eq!(st["period"], "2026-H1");
    let units = st["units"].as_array().unwrap();
    let tdp10 = units.iter().find(|u| u["unit"] == "TDP10").unwrap();
    assert_eq!(tdp10["state"], "missing");
    assert_eq!(tdp10["timeliness"], "missing");
    assert!(tdp10["submitted_at"].is_null());
    let text = hub.cmd(&["status", "--period", "2026-H1"]).ok().stdout();
    assert!(text.contains("1/2 đơn vị đã báo cáo"), "{text}");

    // Review: only a submitted report; a returned one waits; accepted is locked.
    hub.cmd(&[
        "review", "--unit", "TDP10", "--period", "2026-H1", "--accept",
    ])
    .expect_code(2);
    hub.cmd(&[
        "review", "--unit", "TDP09", "--period", "2026-H1", "--return", "  ",
    ])
    .expect_code(2);
    hub.cmd(&[
        "review",
        "--unit",
        "TDP09",
        "--period",
        "2026-H1",
        "--return",
        "Bổ sung số liệu DB01",
    ])
    .ok();
    let again = hub
        .cmd(&[
            "review", "--unit", "TDP09", "--period", "2026-H1", "--accept", "--lang", "en",
        ])
        .expect_code(2);
    assert!(again.stderr().contains("returned"), "{}", again.context());
    let st = hub
        .cmd(&["status", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    let tdp09 = st["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "TDP09")
        .unwrap()
        .clone();
    assert_eq!(tdp09["state"], "returned", "{st:#}");
    assert_eq!(tdp09["review_reason"], "Bổ sung số liệu DB01");

    // The decision is in the unit's outbound log; after a resubmission the
    // report can be accepted, and then it is locked.
    rt().block_on(async {
        let mut sync = SyncClient::new(channel(&link));
        let hello = sync
            .hello(authed(pb::HelloRequest::default(), &cred))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(hello.pull_head, 1);
        let [entry] = hello.pull.as_slice() else {
            panic!("one outbound entry: {:?}", hello.pull)
        };
        let Some(pb::pull_entry::Entry::Review(review)) = &entry.entry else {
            panic!("a review: {entry:?}")
        };
        assert_eq!(
            (review.period.as_str(), review.decision.as_str()),
            ("2026-H1", "returned")
        );
        assert_eq!(review.reason, "Bổ sung số liệu DB01");
        let pulled = sync
            .pull(authed(
                pb::PullRequest {
                    after_seq: 1,
                    limit: 10,
                },
                &cred,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(pulled.entries.is_empty());
        assert_eq!(pulled.pull_head, 1);
        let out = sync
            .push(authed(push(&[submit_again]), &cred))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(out.acked_seq, 3);
    });
    hub.cmd(&[
        "review", "--unit", "TDP09", "--period", "2026-H1", "--accept",
    ])
    .ok();
    let locked = hub
        .cmd(&[
            "review",
            "--unit",
            "TDP09",
            "--period",
            "2026-H1",
            "--return",
            "Sửa lại",
            "--lang",
            "en",
        ])
        .expect_code(2);
    assert!(locked.stderr().contains("accepted"), "{}", locked.context());
    let show = hub.cmd(&["unit", "show", "TDP09", "--json"]).ok().json();
    let h1 = show["periods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["period"] == "2026-H1")
        .unwrap();
    assert_eq!(h1["state"], "accepted", "{show:#}");
    assert_eq!(h1["values"]["DB01"], 4);

    // An accepted report is reopened only with a reason; the unit then sees it
    // returned, with that reason, on its next pull.
    hub.cmd(&[
        "review", "--unit", "TDP09", "--period", "2026-H1", "--reopen", " ",
    ])
    .expect_code(2);
    hub.cmd(&[
        "review",
        "--unit",
        "TDP09",
        "--period",
        "2026-H1",
        "--reopen",
        "Sai số hộ gia đình",
    ])
    .ok();
    let st = hub
        .cmd(&["status", "--period", "2026-H1", "--json"])
        .ok()
        .json();
    let tdp09 = st["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "TDP09")
        .unwrap()
        .clone();
    assert_eq!(tdp09["state"], "returned", "{st:#}");
    assert_eq!(tdp09["review_reason"], "Sai số hộ gia đình");
    // The trail says what the ward did: a reopen, not a return.
    let audit = hub.cmd(&["audit", "--unit", "TDP09", "--json"]).ok().json();
    let reviews: Vec<&str> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "review")
        .map(|r| r["detail"].as_str().unwrap())
        .collect();
    assert!(
        reviews
            .last()
            .is_some_and(|d| d.starts_with("2026-H1 reopened Sai số")),
        "{audit:#}"
    );
    rt().block_on(async {
        let mut sync = SyncClient::new(channel(&link));
        let pulled = sync
            .pull(authed(
                pb::PullRequest {
                    after_seq: 2,
                    limit: 10,
                },
                &cred,
            ))
            .await
            .unwrap()
            .into_inner();
        let [entry] = pulled.entries.as_slice() else {
            panic!("one new outbound entry: {pulled:?}")
        };
        let Some(pb::pull_entry::Entry::Review(review)) = &entry.entry else {
            panic!("a review: {entry:?}")
        };
        assert_eq!(
            (review.decision.as_str(), review.reason.as_str()),
            ("returned", "Sai số hộ gia đình")
        );
    });
}

#[test]
fn contacts_the_ward_narrative_and_a_closed_pipe() {
    let hub = Hub::start();
    hub.cmd(&[
        "unit",
        "add",
        "TDP01",
        "--name",
        "Tổ dân phố số 1",
        "--kind",
        "residential-group",
        "--contact",
        "Nguyễn Văn A",
        "--phone",
        "0912 345 678",
    ])
    .ok();
    let bad = hub
        .cmd(&[
            "unit",
            "add",
            "TDP02",
            "--name",
            "Tổ dân phố số 2",
            "--kind",
            "residential-group",
            "--phone",
            "gọi tôi",
        ])
        .expect_code(2);
    assert!(bad.stderr().contains("phone"), "{}", bad.context());
    let list = hub.cmd(&["unit", "list", "--json"]).ok().json();
    let units = list["units"].as_array().unwrap();
    assert_eq!(units.len(), 1, "{list:#}");
    assert_eq!(units[0]["contact"], "Nguyễn Văn A");
    assert_eq!(units[0]["phone"], "0912 345 678");

    // The ward's own narrative, by section; bad input is refused.
    hub.cmd(&[
        "note",
        "set",
        "--period",
        "2026-H1",
        "--section",
        "results",
        "--text",
        "Phường đã triển khai đầy đủ.",
    ])
    .ok();
    let bad = hub
        .cmd(&[
            "note",
            "set",
            "--period",
            "2026-H1",
            "--section",
            "ketqua",
            "--text",
            "x",
        ])
        .expect_code(2);
    assert!(bad.stderr().contains("section"), "{}", bad.context());
    hub.cmd(&[
        "note",
        "set",
        "--period",
        "2031-A07",
        "--section",
        "results",
        "--text",
        "x",
    ])
    .expect_code(2);

    // A reader that goes away (`| head -1`) ends the command quietly.
    let mut child = std::process::Command::new(&coso_tests::bins().hub)
        .args(["unit", "list"])
        .env("COSO_HUB_DIR", &hub.dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
