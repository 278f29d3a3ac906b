//! `coso-hub unit add|import|list|show|revoke|reissue|keep-at-ward|handover`:
//! the unit registry, enrolment links, and units whose log the ward keeps.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use coso_domain::Lang;
use coso_proto::pb;
use serde_json::{Map, json};

use super::{CliError, Ctx, fmt};
use coso_ward::Contact;
use coso_ward::input;

#[derive(Debug, Subcommand)]
pub enum UnitCommand {
    /// Register a unit; the last line printed is its enrolment link.
    Add {
        code: String,
        #[arg(long)]
        name: String,
        /// centre, department, school, residential-group or other
        #[arg(long)]
        kind: String,
        /// Whom the ward calls about the unit's reports.
        #[arg(long, value_name = "NAME")]
        contact: Option<String>,
        /// The contact's phone number.
        #[arg(long, value_name = "PHONE")]
        phone: Option<String>,
        /// The ward keeps the unit's log (no computer): its reports are
        /// entered in the dashboard, and no enrolment link is printed.
        #[arg(long)]
        kept_at_ward: bool,
    },
    /// Register every unit of a CSV file (code,name,kind[,contact,phone]),
    /// all or nothing.
    Import {
        file: PathBuf,
        /// Also write all enrolment links to this CSV file.
        #[arg(long, value_name = "FILE")]
        links_out: Option<PathBuf>,
    },
    List,
    Show {
        code: String,
    },
    /// Refuse the unit's syncs from now on.
    Revoke {
        code: String,
    },
    /// Issue a fresh enrolment link (the previous code stops working).
    Reissue {
        code: String,
    },
    /// Keep the log of a unit that never enrolled at the ward (its link
    /// stops working; its reports are entered in the dashboard).
    KeepAtWard {
        code: String,
    },
    /// Hand a unit kept at the ward over to its own computer: the last line
    /// printed is the enrolment link; the agent takes the whole log over.
    Handover {
        code: String,
    },
}

fn print_link(ctx: &Ctx, out: &mut dyn Write, r: &pb::AddUnitResponse) -> Result<(), CliError> {
    let (code, name, _) = fmt::unit_fields(&r.unit);
    if ctx.json {
        w!(
            out,
            "{}",
            json!({"unit": code, "name": name, "enrolment_link": r.enrolment_link, "expires_at": fmt::json_time(&r.expires_at)})
        );
        return Ok(());
    }
    match ctx.lang {
        Lang::Vi => w!(
            out,
            "Liên kết đăng ký của {code} ({name}), dùng một lần, hết hạn {}:",
            fmt::vn_time(&r.expires_at)
        ),
        Lang::En => w!(
            out,
            "Enrolment link for {code} ({name}), single use, expires {}:",
            fmt::vn_time(&r.expires_at)
        ),
    }
    w!(out, "{}", r.enrolment_link);
    Ok(())
}

pub(super) async fn run(ctx: &Ctx, out: &mut dyn Write, cmd: UnitCommand) -> Result<(), CliError> {
    match cmd {
        UnitCommand::Add {
            code,
            name,
            kind,
            contact,
            phone,
            kept_at_ward,
        } => {
            let u = input::unit(&code, &name, &kind)?;
            let c = input::contact(
                contact.as_deref().unwrap_or(""),
                phone.as_deref().unwrap_or(""),
            )?;
            let r = ctx
                .admin()?
                .add_unit(pb::AddUnitRequest {
                    unit: Some(pb::Unit::from(&u)),
                    contact: Some(wire_contact(&c)),
                    kept_at_ward,
                })
                .await?
                .into_inner();
            if kept_at_ward {
                print_kept(ctx, out, &r.unit)?;
            } else {
                print_link(ctx, out, &r)?;
            }
        }
        UnitCommand::Import { file, links_out } => {
            let text = std::fs::read_to_string(&file).map_err(CliError::io(&file))?;
            let units = input::units_csv(&file.display().to_string(), &text)?;
            let mut admin = ctx.admin()?;
            // Open the links file before registering, so a path we cannot
            // write is refused while nothing has happened yet.
            let mut links = match &links_out {
                // The links carry one-time enrolment codes: owner-only.
                Some(p) => Some(coso_proto::private::create_private(p).map_err(CliError::io(p))?),
                None => None,
            };
            let r = admin
                .import_units(pb::ImportUnitsRequest {
                    units: Vec::new(),
                    entries: units
                        .iter()
                        .map(|(u, c)| pb::NewUnit {
                            unit: Some(pb::Unit::from(u)),
                            contact: Some(wire_contact(c)),
                        })
                        .collect(),
                })
                .await;
            let r = match r {
                Ok(r) => r.into_inner(),
                Err(e) => {
                    if let Some(p) = &links_out {
                        drop(links.take());
                        let _ = std::fs::remove_file(p);
                    }
                    return Err(e.into());
                }
            };
            if let (Some(f), Some(p)) = (links.as_mut(), &links_out) {
                let mut w = csv::Writer::from_writer(f);
                let rows = std::iter::once(
                    ["code", "name", "kind", "enrolment_link", "expires_at"].map(String::from),
                )
                .chain(r.units.iter().map(|u| {
                    let (code, name, kind) = fmt::unit_fields(&u.unit);
                    [
                        code,
                        name,
                        kind,
                        u.enrolment_link.clone(),
                        u.expires_at.clone(),
                    ]
                }));
                for row in rows {
                    // Names are typed by people: no formulas.
                    let row = row
                        .iter()
                        .map(|c| coso_report::spreadsheet_text(c).into_owned());
                    w.write_record(row).map_err(|e| CliError::Io {
                        path: p.clone(),
                        source: e.into(),
                    })?;
                }
                w.flush().map_err(CliError::io(p))?;
            }
            if ctx.json {
                let units: Vec<_> = r
                    .units
                    .iter()
                    .map(|u| {
                        let (code, name, kind) = fmt::unit_fields(&u.unit);
                        json!({"unit": code, "name": name, "kind": kind, "enrolment_link": u.enrolment_link, "expires_at": fmt::json_time(&u.expires_at)})
                    })
                    .collect();
                w!(out, "{}", json!({"units": units}));
            } else {
                match ctx.lang {
                    Lang::Vi => w!(out, "Đã đăng ký {} đơn vị.", r.units.len()),
                    Lang::En => w!(out, "Registered {} units.", r.units.len()),
                }
                if let Some(p) = &links_out {
                    w!(
                        out,
                        "{}: {}",
                        ctx.t("Đã ghi các liên kết vào", "Links written to"),
                        p.display()
                    );
                }
                for u in &r.units {
                    let (code, _, _) = fmt::unit_fields(&u.unit);
                    w!(out, "{code} {}", u.enrolment_link);
                }
            }
        }
        UnitCommand::List => {
            let r = ctx
                .admin()?
                .list_units(pb::ListUnitsRequest {})
                .await?
                .into_inner();
            if ctx.json {
                let units: Vec<_> = r
                    .units
                    .iter()
                    .map(|s| {
                        let (code, name, kind) = fmt::unit_fields(&s.unit);
                        let c = s.contact.clone().unwrap_or_default();
                        json!({"unit": code, "name": name, "kind": kind, "enrolment": s.enrolment,
                               "acked_seq": s.acked_seq, "last_sync": fmt::json_time(&s.last_sync),
                               "contact": non_empty(&c.person), "phone": non_empty(&c.phone),
                               "agent_version": non_empty(&s.agent_version),
                               "kept_at_ward": s.kept_at_ward})
                    })
                    .collect();
                w!(out, "{}", json!({"units": units}));
            } else if r.units.is_empty() {
                w!(out, "{}", ctx.t("Chưa có đơn vị nào.", "No units yet."));
            } else {
                let mut rows = vec![
                    [
                        ctx.t("MÃ", "CODE"),
                        ctx.t("TÊN", "NAME"),
                        ctx.t("LOẠI", "KIND"),
                        ctx.t("ĐĂNG KÝ", "ENROLMENT"),
                        "SEQ",
                        ctx.t("ĐỒNG BỘ LẦN CUỐI", "LAST SYNC"),
                    ]
                    .map(String::from)
                    .to_vec(),
                ];
                for s in &r.units {
                    let (code, name, kind) = fmt::unit_fields(&s.unit);
                    rows.push(vec![
                        code,
                        name,
                        kind,
                        fmt::word(&s.enrolment, ctx.lang).to_string(),
                        s.acked_seq.to_string(),
                        fmt::vn_time(&s.last_sync),
                    ]);
                }
                fmt::table(out, &rows)?;
            }
        }
        UnitCommand::Show { code } => {
            let code = input::unit_code(&code)?;
            let d = ctx
                .admin()?
                .show_unit(pb::UnitRef {
                    code: code.to_string(),
                })
                .await?
                .into_inner();
            let s = d.summary.unwrap_or_default();
            let (code, name, kind) = fmt::unit_fields(&s.unit);
            if ctx.json {
                let periods: Vec<_> = d
                    .periods
                    .iter()
                    .map(|p| {
                        let values: Map<String, serde_json::Value> =
                            p.values.iter().map(|(k, v)| (k.clone(), fmt::value_json(v))).collect();
                        json!({"period": p.period, "state": p.state, "submitted_at": fmt::json_time(&p.submitted_at), "values": values})
                    })
                    .collect();
                let c = s.contact.clone().unwrap_or_default();
                let entered_by: Vec<_> = d
                    .entered_by
                    .iter()
                    .map(|e| json!({"seq": e.seq, "kind": e.kind, "entity": e.entity, "user": e.user}))
                    .collect();
                w!(
                    out,
                    "{}",
                    json!({"unit": code, "name": name, "kind": kind, "enrolment": s.enrolment,
                           "acked_seq": s.acked_seq, "activities": d.activities,
                           "last_sync": fmt::json_time(&s.last_sync), "periods": periods,
                           "contact": non_empty(&c.person), "phone": non_empty(&c.phone),
                           "diverged": s.diverged, "agent_version": non_empty(&s.agent_version),
                           "kept_at_ward": s.kept_at_ward, "entered_by": entered_by,
                           "divergence": s.diverged.then(|| json!({"kind": s.divergence,
                               "seq": s.diverged_seq, "at": fmt::json_time(&s.diverged_at)}))})
                );
            } else {
                w!(out, "{code} — {name} ({kind})");
                w!(
                    out,
                    "{}: {}",
                    ctx.t("Đăng ký", "Enrolment"),
                    fmt::word(&s.enrolment, ctx.lang)
                );
                w!(
                    out,
                    "{}: {}",
                    ctx.t("Số thứ tự đã nhận", "Acknowledged seq"),
                    s.acked_seq
                );
                w!(
                    out,
                    "{}: {}",
                    ctx.t("Đồng bộ lần cuối", "Last sync"),
                    fmt::vn_time(&s.last_sync)
                );
                w!(
                    out,
                    "{}: {}",
                    ctx.t("Phiên bản phần mềm đơn vị", "Agent release"),
                    if s.agent_version.is_empty() {
                        ctx.t(
                            "chưa rõ (chưa đồng bộ, hoặc bản trước 0.3.0)",
                            "unknown (never synced, or a release before 0.3.0)",
                        )
                    } else {
                        &s.agent_version
                    }
                );
                w!(
                    out,
                    "{}: {}",
                    ctx.t("Số hoạt động", "Activities"),
                    d.activities
                );
                if s.kept_at_ward {
                    w!(
                        out,
                        "{}",
                        ctx.t(
                            "Sổ do phường giữ (báo cáo được nhập trên trang quản lý).",
                            "Kept at the ward (its reports are entered in the dashboard)."
                        )
                    );
                }
                if !d.entered_by.is_empty() {
                    w!(out, "{}:", ctx.t("Nhập tại phường", "Entered at the ward"));
                    for e in &d.entered_by {
                        w!(out, "  #{} {} {} — {}", e.seq, e.kind, e.entity, e.user);
                    }
                }
                if s.diverged {
                    w!(
                        out,
                        "{}",
                        diverged_warning(ctx.lang, &s.divergence, s.diverged_seq, &code)
                    );
                }
                for p in &d.periods {
                    w!(out);
                    let state = coso_report::UnitStatus::parse(&p.state)
                        .map_or(p.state.as_str(), |u| {
                            coso_domain::words::state(u.report_state(), ctx.lang)
                        });
                    w!(out, "{} — {}", p.period, state);
                    // The wire's map has no order: by indicator code, so
                    // two runs print the same.
                    let values: std::collections::BTreeMap<_, _> = p.values.iter().collect();
                    for (k, v) in values {
                        w!(out, "  {k}: {}", fmt::value_text(v, ctx.lang));
                    }
                }
            }
        }
        UnitCommand::Revoke { code } => {
            let code = input::unit_code(&code)?;
            let s = ctx
                .admin()?
                .revoke_unit(pb::UnitRef {
                    code: code.to_string(),
                })
                .await?
                .into_inner();
            let (code, name, _) = fmt::unit_fields(&s.unit);
            if ctx.json {
                w!(out, "{}", json!({"unit": code, "enrolment": s.enrolment}));
            } else {
                match ctx.lang {
                    Lang::Vi => w!(out, "Đã thu hồi quyền đồng bộ của {code} ({name})."),
                    Lang::En => {
                        w!(
                            out,
                            "Revoked {code} ({name}): its syncs are refused from now on."
                        )
                    }
                }
            }
        }
        UnitCommand::Reissue { code } => {
            let code = input::unit_code(&code)?;
            let r = ctx
                .admin()?
                .reissue_enrolment(pb::UnitRef {
                    code: code.to_string(),
                })
                .await?
                .into_inner();
            print_link(ctx, out, &r)?;
        }
        UnitCommand::KeepAtWard { code } => {
            let code = input::unit_code(&code)?;
            let s = ctx
                .admin()?
                .keep_at_ward(pb::UnitRef {
                    code: code.to_string(),
                })
                .await?
                .into_inner();
            print_kept(ctx, out, &s.unit)?;
        }
        UnitCommand::Handover { code } => {
            let code = input::unit_code(&code)?;
            let r = ctx
                .admin()?
                .hand_over(pb::UnitRef {
                    code: code.to_string(),
                })
                .await?
                .into_inner();
            print_link(ctx, out, &r)?;
        }
    }
    Ok(())
}

/// What `unit add --kept-at-ward` and `unit keep-at-ward` print.
fn print_kept(ctx: &Ctx, out: &mut dyn Write, unit: &Option<pb::Unit>) -> Result<(), CliError> {
    let (code, name, _) = fmt::unit_fields(unit);
    if ctx.json {
        w!(
            out,
            "{}",
            json!({"unit": code, "name": name, "kept_at_ward": true})
        );
        return Ok(());
    }
    match ctx.lang {
        Lang::Vi => w!(
            out,
            "Phường giữ sổ của {code} ({name}): báo cáo của đơn vị được nhập trên trang quản lý. Khi đơn vị có máy: coso-hub unit handover {code}."
        ),
        Lang::En => w!(
            out,
            "The ward keeps the log of {code} ({name}): its reports are entered in the dashboard. When it gets a computer: coso-hub unit handover {code}."
        ),
    }
    Ok(())
}

fn wire_contact(c: &Contact) -> pb::UnitContact {
    pb::UnitContact {
        person: c.person.clone().unwrap_or_default(),
        phone: c.phone.clone().unwrap_or_default(),
    }
}

fn non_empty(s: &str) -> serde_json::Value {
    if s.is_empty() {
        serde_json::Value::Null
    } else {
        json!(s)
    }
}

/// The warning `unit show` prints for a unit whose log diverged.
fn diverged_warning(lang: coso_domain::Lang, kind: &str, seq: u64, code: &str) -> String {
    use coso_domain::Lang;
    match (lang, kind) {
        (Lang::Vi, "behind") => format!(
            "CẢNH BÁO: bản sao phần mềm của đơn vị cũ hơn dữ liệu phường đã nhận (tại số {seq}); đồng bộ đã tạm dừng. Cấp liên kết mới: coso-hub unit reissue {code}, rồi đơn vị chạy coso-agent recover LIÊN_KẾT."
        ),
        (Lang::Vi, _) => format!(
            "CẢNH BÁO: hai bản sao phần mềm của đơn vị dùng chung khóa truy cập và đã ghi khác nhau (tại số {seq}); đồng bộ đã tạm dừng. Cấp liên kết mới: coso-hub unit reissue {code}, rồi đơn vị chạy coso-agent recover LIÊN_KẾT trên bản sao sẽ tiếp tục dùng."
        ),
        (Lang::En, "behind") => format!(
            "WARNING: the unit's agent copy is older than what the ward holds (at seq {seq}); its syncs are stopped. Reissue its link (coso-hub unit reissue {code}), then the unit runs coso-agent recover LINK."
        ),
        (Lang::En, _) => format!(
            "WARNING: two copies of the unit's agent share its credential and recorded different changes (at seq {seq}); its syncs are stopped. Reissue its link (coso-hub unit reissue {code}), then the unit runs coso-agent recover LINK on the copy that continues."
        ),
    }
}
