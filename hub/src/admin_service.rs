//! The `coso.v1.Admin` service the hub's CLI (and the VH-XH office) uses:
//! the unit registry and enrolment links, periods, status, review and the
//! consolidated report. Every call needs the admin token.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Datelike, Duration};
use coso_proto::domain::calendar::{AdHocPeriod, vietnam};
use coso_proto::link::EnrolmentLink;
use coso_proto::{Decision, Period, PeriodCode, ReportState, Review, Unit, UnitCode, pb};
use tonic::{Request, Response, Status};

use crate::auth;
use crate::error::{ApiError, lang_of};
use crate::input;
use crate::reporting::{self, ReportingError, UnitEntry};
use crate::state::HubState;
use crate::store::{Enrolment, PendingCode, UnitRecord};
use crate::upstream::{UpstreamError, rollup};

pub struct AdminService {
    hub: Arc<HubState>,
}

type RpcResult<T> = Result<Response<T>, Status>;

impl AdminService {
    pub fn new(hub: Arc<HubState>) -> AdminService {
        AdminService { hub }
    }

    /// Runs an admin call: checks the token, then maps any error once.
    async fn call<Req, Res, F>(
        &self,
        request: Request<Req>,
        f: impl FnOnce(Req) -> F,
    ) -> RpcResult<Res>
    where
        F: Future<Output = Result<Res, ApiError>>,
    {
        let lang = lang_of(request.metadata());
        if let Err(e) = auth::check_admin(&self.hub.store, request.metadata()) {
            return Err(ApiError::from(e).into_status(lang));
        }
        f(request.into_inner())
            .await
            .map(Response::new)
            .map_err(|e| e.into_status(lang))
    }

    fn new_code(&self) -> (String, PendingCode) {
        let (code, hash) = auth::new_enrolment_code();
        let ttl = Duration::hours(i64::from(self.hub.config.limits().enrolment_code_ttl_hours));
        (
            code,
            PendingCode {
                hash,
                expires_at: coso_proto::clock::now() + ttl,
            },
        )
    }

    fn link(&self, unit: &Unit, code: String, pending: &PendingCode) -> pb::AddUnitResponse {
        let link = EnrolmentLink {
            addr: self.hub.link_addr(),
            unit: unit.code.clone(),
            code,
            fingerprint: self.hub.fingerprint,
        };
        pb::AddUnitResponse {
            unit: Some(pb::Unit::from(unit)),
            enrolment_link: link.to_string(),
            expires_at: pending.expires_at.to_rfc3339(),
        }
    }

    fn wire_unit(u: Option<pb::Unit>) -> Result<Unit, ApiError> {
        let u = u.unwrap_or_default();
        Ok(input::unit(&u.code, &u.name, &u.kind)?)
    }

    async fn register(&self, units: Vec<Unit>) -> Result<Vec<pb::AddUnitResponse>, ApiError> {
        let now = coso_proto::clock::now();
        let mut records = Vec::with_capacity(units.len());
        let mut links = Vec::with_capacity(units.len());
        for u in units {
            let (code, pending) = self.new_code();
            links.push(self.link(&u, code, &pending));
            records.push(UnitRecord::new(u, pending, now));
        }
        self.hub.store.register(&records).await?;
        for r in &records {
            self.audit("unit-add", Some(&r.unit.code), r.unit.name.clone())
                .await?;
        }
        Ok(links)
    }

    /// One audit record for an admin action, after it landed. The admin
    /// token is the only admin credential so far, so the actor is "admin".
    async fn audit(
        &self,
        action: &str,
        unit: Option<&UnitCode>,
        detail: String,
    ) -> Result<(), ApiError> {
        let event = crate::store::AuditEvent {
            actor: "admin",
            action,
            unit: unit.map(UnitCode::as_str),
            detail,
        };
        self.hub.store.audit_admin(event).await?;
        Ok(())
    }

    fn existing(&self, code: &UnitCode) -> Result<UnitRecord, ApiError> {
        self.hub
            .store
            .unit(code)?
            .ok_or_else(|| ApiError::NoSuchUnit(code.clone()))
    }

    fn period(&self, code: &str) -> Result<Period, ApiError> {
        let code = input::period_code(code)?;
        self.hub
            .docs
            .calendar()
            .period(&code)
            .ok_or(ApiError::NoSuchPeriod(code))
    }

    /// What the hub holds for `rec` in `period`.
    fn entry(&self, rec: &UnitRecord, period: &Period) -> Result<UnitEntry, ApiError> {
        let code = &rec.unit.code;
        let st = self.hub.store.unit_state(code)?;
        let p = &period.code;
        let report = st.submissions.get(p).cloned();
        let has_data = st.values.get(p).is_some_and(|v| !v.is_empty())
            || st.notes.get(p).is_some_and(|n| !n.is_empty())
            || !st.activities_in(period).is_empty();
        let state = if report.is_some() {
            Some(st.state(p))
        } else if has_data {
            Some(ReportState::Draft)
        } else {
            None
        };
        let submitted_at = match report {
            Some(_) => self.hub.store.received_at(code, p)?,
            None => None,
        };
        let review_reason = st
            .reviews
            .get(p)
            .filter(|r| r.decision == Decision::Returned)
            .map(|r| r.reason.clone());
        Ok(UnitEntry {
            unit: rec.unit.clone(),
            state,
            has_data,
            submitted_at,
            report,
            review_reason,
        })
    }

    /// Every expected unit (registered, not revoked) for a period, by code.
    /// Also read by the upstream schedule.
    pub(crate) fn entries(&self, period: &Period) -> Result<Vec<UnitEntry>, ApiError> {
        self.hub
            .store
            .units()?
            .iter()
            .filter(|r| r.enrolment != Enrolment::Revoked)
            .map(|r| self.entry(r, period))
            .collect()
    }

    /// The ward hubs' reports to roll up instead of this hub's own units:
    /// when asked (`wards`), or when the hub has no units of its own and
    /// holds received reports for the period. `None`: report on the units.
    fn wards(
        &self,
        asked: bool,
        period: &Period,
        entries: &[UnitEntry],
    ) -> Result<Option<Vec<rollup::Ward>>, ApiError> {
        if !asked && !entries.is_empty() {
            return Ok(None);
        }
        let wards = rollup::load(&self.hub.store, &period.code).map_err(UpstreamError::from)?;
        Ok((asked || !wards.is_empty()).then_some(wards))
    }

    fn rollup_report(
        &self,
        period: &Period,
        wards: &[rollup::Ward],
        format: &str,
    ) -> Result<pb::CompileReportResponse, ApiError> {
        let format: crate::compile::Format = format.parse().map_err(ReportingError::from)?;
        if wards.is_empty() {
            let e = rollup::RollupError::NothingReceived(period.code.clone());
            return Err(UpstreamError::from(e).into());
        }
        let today = coso_proto::clock::now()
            .with_timezone(&vietnam())
            .date_naive();
        let r = rollup::rollup(
            &self.hub.config.file.letterhead,
            &self.hub.docs.catalog(),
            period,
            wards,
            today,
        );
        Ok(pb::CompileReportResponse {
            content: r.render(format).map_err(UpstreamError::from)?,
            media_type: format.media_type().to_string(),
        })
    }

    fn detail(&self, rec: &UnitRecord) -> Result<pb::UnitDetail, ApiError> {
        let st = self.hub.store.unit_state(&rec.unit.code)?;
        let cal = self.hub.docs.calendar();
        let catalog = self.hub.docs.catalog();
        let mut codes: BTreeSet<PeriodCode> = BTreeSet::new();
        codes.extend(st.values.keys().cloned());
        codes.extend(st.notes.keys().cloned());
        codes.extend(st.submissions.keys().cloned());
        for a in st.activities.values() {
            codes.extend(cal.periods_for_date(a.date).into_iter().map(|p| p.code));
        }
        let mut periods: Vec<Period> = codes.iter().filter_map(|c| cal.period(c)).collect();
        periods.sort_by(|a, b| (a.due, &a.code).cmp(&(b.due, &b.code)));
        let mut out = Vec::with_capacity(periods.len());
        for p in &periods {
            let values = st
                .report_values(&catalog, rec.unit.kind, p)
                .iter()
                .map(|(k, v)| (k.clone(), pb::Value::from(v)))
                .collect();
            let submitted_at = if st.submissions.contains_key(&p.code) {
                self.hub.store.received_at(&rec.unit.code, &p.code)?
            } else {
                None
            };
            out.push(pb::UnitPeriod {
                period: p.code.to_string(),
                state: st.state(&p.code).as_str().into(),
                values,
                submitted_at: coso_proto::convert::time_to_wire(submitted_at),
            });
        }
        Ok(pb::UnitDetail {
            summary: Some(summary(rec)),
            activities: st.activities.len() as u64,
            periods: out,
        })
    }
}

/// `status` of a city-level hub: the wards that delivered for the period.
fn rollup_status(period: &Period, wards: &[rollup::Ward]) -> Result<pb::StatusResponse, ApiError> {
    let s = rollup::status(period, wards);
    let t = &s.totals;
    Ok(pb::StatusResponse {
        period: Some(pb::Period::from(period)),
        units: Vec::new(),
        expected: t.units_expected as u32,
        reported: t.units_reported as u32,
        on_time: t.on_time as u32,
        late: t.late as u32,
        missing: t.missing as u32,
        status_json: serde_json::to_string(&s).map_err(ReportingError::from)?,
    })
}

pub fn summary(rec: &UnitRecord) -> pb::UnitSummary {
    pb::UnitSummary {
        unit: Some(pb::Unit::from(&rec.unit)),
        enrolment: rec.enrolment.as_str().into(),
        acked_seq: rec.acked_seq,
        last_sync: coso_proto::convert::time_to_wire(rec.last_sync),
        diverged: rec.diverged.is_some(),
        divergence: rec
            .diverged
            .as_ref()
            .map(|d| d.kind.as_str().to_string())
            .unwrap_or_default(),
        diverged_seq: rec.diverged.as_ref().map_or(0, |d| d.seq),
        diverged_at: coso_proto::convert::time_to_wire(rec.diverged.as_ref().map(|d| d.at)),
    }
}

#[tonic::async_trait]
impl pb::admin_server::Admin for AdminService {
    async fn add_unit(
        &self,
        request: Request<pb::AddUnitRequest>,
    ) -> RpcResult<pb::AddUnitResponse> {
        self.call(request, |req| async move {
            let unit = Self::wire_unit(req.unit)?;
            let mut links = self.register(vec![unit]).await?;
            Ok(links.remove(0))
        })
        .await
    }

    async fn import_units(
        &self,
        request: Request<pb::ImportUnitsRequest>,
    ) -> RpcResult<pb::ImportUnitsResponse> {
        self.call(request, |req| async move {
            if req.units.is_empty() {
                return Err(ApiError::Input(input::InputError::CsvEmpty("units".into())));
            }
            let units = req
                .units
                .into_iter()
                .map(|u| Self::wire_unit(Some(u)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(pb::ImportUnitsResponse {
                units: self.register(units).await?,
            })
        })
        .await
    }

    async fn reissue_enrolment(
        &self,
        request: Request<pb::UnitRef>,
    ) -> RpcResult<pb::AddUnitResponse> {
        self.call(request, |req| async move {
            let code = input::unit_code(&req.code)?;
            self.existing(&code)?;
            let store = &self.hub.store;
            let g = store.lock_unit(&code).await;
            let mut rec = self.existing(&code)?;
            let (otc, pending) = self.new_code();
            rec.code = Some(pending.clone());
            if rec.enrolment == Enrolment::Revoked {
                // A revoked unit comes back only by enrolling again.
                rec.enrolment = Enrolment::Pending;
                rec.credential = None;
            }
            store.put_unit(&g, &rec).await?;
            self.audit("unit-reissue", Some(&code), String::new())
                .await?;
            Ok(self.link(&rec.unit, otc, &pending))
        })
        .await
    }

    async fn revoke_unit(&self, request: Request<pb::UnitRef>) -> RpcResult<pb::UnitSummary> {
        self.call(request, |req| async move {
            let code = input::unit_code(&req.code)?;
            self.existing(&code)?;
            let store = &self.hub.store;
            let g = store.lock_unit(&code).await;
            let mut rec = self.existing(&code)?;
            rec.enrolment = Enrolment::Revoked;
            rec.credential = None;
            rec.code = None;
            store.put_unit(&g, &rec).await?;
            tracing::info!(unit = %code, "unit revoked");
            self.audit("unit-revoke", Some(&code), String::new())
                .await?;
            Ok(summary(&rec))
        })
        .await
    }

    async fn list_units(
        &self,
        request: Request<pb::ListUnitsRequest>,
    ) -> RpcResult<pb::ListUnitsResponse> {
        self.call(request, |_| async move {
            Ok(pb::ListUnitsResponse {
                units: self.hub.store.units()?.iter().map(summary).collect(),
            })
        })
        .await
    }

    async fn show_unit(&self, request: Request<pb::UnitRef>) -> RpcResult<pb::UnitDetail> {
        self.call(request, |req| async move {
            let code = input::unit_code(&req.code)?;
            let rec = self.existing(&code)?;
            self.detail(&rec)
        })
        .await
    }

    async fn list_periods(
        &self,
        request: Request<pb::ListPeriodsRequest>,
    ) -> RpcResult<pb::ListPeriodsResponse> {
        self.call(request, |_| async move {
            let cal = self.hub.docs.calendar();
            let now = coso_proto::clock::now().with_timezone(&vietnam());
            let year = now.year();
            let today = now.date_naive();
            let mut periods = cal.periods_of_year(year);
            // Next year's periods once their data window has opened (mid-December).
            periods.extend(
                cal.periods_of_year(year + 1).into_iter().filter(|p| {
                    p.kind == coso_proto::PeriodKind::Standard && p.window_start <= today
                }),
            );
            for a in &cal.adhoc {
                if a.code.year() != year
                    && let Some(p) = cal.period(&a.code)
                {
                    periods.push(p);
                }
            }
            periods.sort_by(|a, b| (a.due, &a.code).cmp(&(b.due, &b.code)));
            Ok(pb::ListPeriodsResponse {
                periods: periods.iter().map(pb::Period::from).collect(),
            })
        })
        .await
    }

    async fn add_period(&self, request: Request<pb::AddPeriodRequest>) -> RpcResult<pb::Period> {
        self.call(request, |req| async move {
            let adhoc = AdHocPeriod {
                code: input::period_code(&req.code)?,
                title: input::title(&req.title)?,
                due: input::date("due", &req.due)?,
                indicators: input::indicators(&self.hub.docs.catalog(), &req.indicators)?,
            };
            let p = self.hub.docs.add_period(&self.hub.store, adhoc).await?;
            tracing::info!(period = %p.code, "ad-hoc period added");
            self.audit("period-add", None, format!("{} {}", p.code, p.title))
                .await?;
            Ok(pb::Period::from(&p))
        })
        .await
    }

    async fn status(&self, request: Request<pb::StatusRequest>) -> RpcResult<pb::StatusResponse> {
        self.call(request, |req| async move {
            let period = self.period(&req.period)?;
            let entries = self.entries(&period)?;
            if let Some(wards) = self.wards(req.wards, &period, &entries)? {
                return rollup_status(&period, &wards);
            }
            Ok(reporting::status(
                &self.hub.config.file.letterhead,
                &self.hub.docs.catalog(),
                &period,
                &entries,
            )?)
        })
        .await
    }

    async fn review(&self, request: Request<pb::ReviewRequest>) -> RpcResult<pb::ReviewResponse> {
        self.call(request, |req| async move {
            let code = input::unit_code(&req.unit)?;
            let period = self.period(&req.period)?;
            let decision = match req.decision.trim() {
                "accept" | "accepted" => Decision::Accepted,
                "return" | "returned" => Decision::Returned,
                other => return Err(input::InputError::Decision(other.to_string()).into()),
            };
            let reason = match decision {
                Decision::Returned => input::reason(&req.reason)?,
                Decision::Accepted => String::new(),
            };
            self.existing(&code)?;
            let store = &self.hub.store;
            let g = store.lock_unit(&code).await;
            let rec = self.existing(&code)?;
            let before = self.entry(&rec, &period)?;
            if before.state != Some(ReportState::Submitted) {
                return Err(ApiError::NotReviewable {
                    unit: code,
                    period: period.code,
                    state: before.state,
                });
            }
            let now = coso_proto::clock::now();
            let review = Review {
                period: period.code.clone(),
                decision,
                reason,
                decided_at: now,
            };
            store.record_review(&g, &review, now).await?;
            let detail = format!("{} {} {}", period.code, decision.as_str(), review.reason);
            self.audit("review", Some(&code), detail.trim_end().to_string())
                .await?;
            tracing::info!(unit = %code, period = %period.code, decision = decision.as_str(), "review");
            // An acceptance may complete the period for the upstream schedule.
            crate::upstream::schedule_soon();
            let after = self.entry(&rec, &period)?;
            Ok(pb::ReviewResponse {
                status: Some(reporting::one_status(
                    &self.hub.config.file.letterhead,
                    &self.hub.docs.catalog(),
                    &period,
                    &after,
                )),
            })
        })
        .await
    }

    async fn compile_report(
        &self,
        request: Request<pb::CompileReportRequest>,
    ) -> RpcResult<pb::CompileReportResponse> {
        self.call(request, |req| async move {
            let period = self.period(&req.period)?;
            let entries = self.entries(&period)?;
            if let Some(wards) = self.wards(req.wards, &period, &entries)? {
                return self.rollup_report(&period, &wards, &req.format);
            }
            let (content, media_type) = reporting::compile(
                &self.hub.config.file.letterhead,
                &self.hub.docs.catalog(),
                &period,
                &entries,
                &req.format,
            )?;
            Ok(pb::CompileReportResponse {
                content,
                media_type: media_type.to_string(),
            })
        })
        .await
    }

    async fn set_upstream(
        &self,
        request: Request<pb::SetUpstreamRequest>,
    ) -> RpcResult<pb::SetUpstreamResponse> {
        self.call(request, |req| async move {
            let url = req.url.clone();
            let r = crate::upstream::set_target(&self.hub, req).await?;
            self.audit("upstream-set", None, url).await?;
            Ok(r)
        })
        .await
    }

    async fn push_upstream(
        &self,
        request: Request<pb::PushUpstreamRequest>,
    ) -> RpcResult<pb::PushUpstreamResponse> {
        self.call(request, |req| async move {
            let period = self.period(&req.period)?;
            let entries = self.entries(&period)?;
            let trigger = crate::store::outbox::Trigger::Manual;
            let r = crate::upstream::push(&self.hub, &period, &entries, trigger).await?;
            self.audit("upstream-push", None, period.code.to_string())
                .await?;
            Ok(r)
        })
        .await
    }

    async fn upstream_log(
        &self,
        request: Request<pb::UpstreamLogRequest>,
    ) -> RpcResult<pb::UpstreamLogResponse> {
        self.call(request, |_| async { Ok(crate::upstream::log(&self.hub)?) })
            .await
    }

    type BackupStream = crate::audit_rpc::BackupStream;

    async fn backup(&self, request: Request<pb::BackupRequest>) -> RpcResult<Self::BackupStream> {
        self.call(request, |_| crate::audit_rpc::backup(&self.hub))
            .await
    }

    async fn audit(&self, request: Request<pb::AuditRequest>) -> RpcResult<pb::AuditResponse> {
        self.call(request, |req| async move {
            crate::audit_rpc::audit(&self.hub, &req)
        })
        .await
    }

    async fn verify_audit(
        &self,
        request: Request<pb::VerifyAuditRequest>,
    ) -> RpcResult<pb::VerifyAuditResponse> {
        self.call(request, |_| async { crate::audit_rpc::verify(&self.hub) })
            .await
    }
}
