//! The Admin contract at the edge: every request becomes checked ward input
//! (`TryFrom`, with the checks of [`crate::input`], so the CLI, the web and
//! any other client meet the same rules), and every ward result becomes its
//! reply. The only place where Admin wire types meet the ward's types.

use chrono::{DateTime, Utc};
use coso_domain::calendar::AdHocPeriod;
use coso_domain::{PeriodCode, Section, UnitCode};
use coso_proto::pb;

use coso_report::city::WardsStatus;
use coso_report::{Format, StatusRow};
use coso_ward::Contact;
use coso_ward::input::{self, InputError};
use coso_ward::{
    EnrolmentInvite, NewUnit, Pushed, Scope, Standing, TargetInput, UnitDetail, UnitSummary,
    UpstreamLog, Verdict,
};

fn time(t: Option<DateTime<Utc>>) -> String {
    coso_proto::convert::time_to_wire(t)
}

fn contact_in(c: Option<pb::UnitContact>) -> Result<Contact, InputError> {
    let c = c.unwrap_or_default();
    input::contact(&c.person, &c.phone)
}

fn contact_out(c: &Contact) -> pb::UnitContact {
    pb::UnitContact {
        person: c.person.clone().unwrap_or_default(),
        phone: c.phone.clone().unwrap_or_default(),
    }
}

fn new_unit(u: Option<pb::Unit>, c: Option<pb::UnitContact>) -> Result<NewUnit, InputError> {
    let u = u.unwrap_or_default();
    Ok(NewUnit {
        unit: input::unit(&u.code, &u.name, &u.kind)?,
        contact: contact_in(c)?,
    })
}

/// `AddUnit`: the unit, and whether the ward keeps its log.
pub fn add_unit(r: pb::AddUnitRequest) -> Result<(NewUnit, bool), InputError> {
    Ok((new_unit(r.unit, r.contact)?, r.kept_at_ward))
}

/// The reply to `AddUnit` for a unit kept at the ward: no link.
pub fn kept_unit_response(s: &UnitSummary) -> pb::AddUnitResponse {
    pb::AddUnitResponse {
        unit: Some(pb::Unit::from(&s.unit)),
        enrolment_link: String::new(),
        expires_at: String::new(),
    }
}

/// `ImportUnits`: both lists, registered together.
pub struct NewUnits(pub Vec<NewUnit>);

impl TryFrom<pb::ImportUnitsRequest> for NewUnits {
    type Error = InputError;
    fn try_from(r: pb::ImportUnitsRequest) -> Result<Self, Self::Error> {
        let plain = r.units.into_iter().map(|u| new_unit(Some(u), None));
        let with_contact = r.entries.into_iter().map(|e| new_unit(e.unit, e.contact));
        let units = plain.chain(with_contact).collect::<Result<Vec<_>, _>>()?;
        if units.is_empty() {
            return Err(InputError::CsvEmpty("units".into()));
        }
        Ok(NewUnits(units))
    }
}

/// The unit a request names.
pub fn unit_ref(r: &pb::UnitRef) -> Result<UnitCode, InputError> {
    input::unit_code(&r.code)
}

/// An ad-hoc period request, checked against the catalog it names indicators of.
pub fn adhoc(
    catalog: &coso_domain::Catalog,
    r: pb::AddPeriodRequest,
) -> Result<AdHocPeriod, InputError> {
    Ok(AdHocPeriod {
        code: input::period_code(&r.code)?,
        title: input::title(&r.title)?,
        due: input::date("due", &r.due)?,
        indicators: input::indicators(catalog, &r.indicators)?,
    })
}

/// `Review`: which report, and the verdict.
pub struct ReviewInput {
    pub unit: UnitCode,
    pub period: PeriodCode,
    pub verdict: Verdict,
}

impl TryFrom<pb::ReviewRequest> for ReviewInput {
    type Error = InputError;
    fn try_from(r: pb::ReviewRequest) -> Result<Self, Self::Error> {
        Ok(ReviewInput {
            unit: input::unit_code(&r.unit)?,
            period: input::period_code(&r.period)?,
            verdict: Verdict::parse(&r.decision, &r.reason)?,
        })
    }
}

/// `CompileReport`: which period, format and scope.
pub struct ReportInput {
    pub period: PeriodCode,
    pub format: Format,
    pub scope: Scope,
}

impl TryFrom<pb::CompileReportRequest> for ReportInput {
    type Error = InputError;
    fn try_from(r: pb::CompileReportRequest) -> Result<Self, Self::Error> {
        Ok(ReportInput {
            period: input::period_code(&r.period)?,
            format: input::format(&r.format)?,
            scope: if r.wards { Scope::Wards } else { Scope::Auto },
        })
    }
}

/// `SetWardNote`: the period, the section and the text.
pub struct WardNoteInput {
    pub period: PeriodCode,
    pub section: Section,
    pub text: String,
}

impl TryFrom<pb::SetWardNoteRequest> for WardNoteInput {
    type Error = InputError;
    fn try_from(r: pb::SetWardNoteRequest) -> Result<Self, Self::Error> {
        Ok(WardNoteInput {
            period: input::period_code(&r.period)?,
            section: input::section(&r.section)?,
            text: r.text,
        })
    }
}

pub fn target_input(r: pb::SetUpstreamRequest) -> TargetInput {
    TargetInput {
        url: r.url,
        token: r.token,
        ca_pem: r.ca_pem,
    }
}

pub fn add_unit_response(i: &EnrolmentInvite) -> pb::AddUnitResponse {
    pb::AddUnitResponse {
        unit: Some(pb::Unit::from(&i.unit)),
        enrolment_link: i.link.clone(),
        expires_at: i.expires_at.to_rfc3339(),
    }
}

pub fn unit_summary(s: &UnitSummary) -> pb::UnitSummary {
    pb::UnitSummary {
        unit: Some(pb::Unit::from(&s.unit)),
        enrolment: s.enrolment.as_str().into(),
        acked_seq: s.acked_seq,
        last_sync: time(s.last_sync),
        contact: Some(contact_out(&s.contact)),
        diverged: s.diverged.is_some(),
        divergence: s
            .diverged
            .as_ref()
            .map(|d| d.kind.as_str().to_string())
            .unwrap_or_default(),
        diverged_seq: s.diverged.as_ref().map_or(0, |d| d.seq),
        diverged_at: time(s.diverged.as_ref().map(|d| d.at)),
        agent_version: s.agent_version.map(|v| v.to_string()).unwrap_or_default(),
        kept_at_ward: s.kept_at_ward,
    }
}

pub fn unit_detail(d: &UnitDetail) -> pb::UnitDetail {
    pb::UnitDetail {
        summary: Some(unit_summary(&d.summary)),
        activities: d.activities,
        periods: d
            .periods
            .iter()
            .map(|p| pb::UnitPeriod {
                period: p.period.code.to_string(),
                state: p.state.as_str().into(),
                values: p
                    .values
                    .iter()
                    .map(|(k, v)| (k.clone(), pb::Value::from(v)))
                    .collect(),
                submitted_at: time(p.submitted_at),
            })
            .collect(),
        entered_by: d
            .entered_by
            .iter()
            .map(|e| pb::EnteredBy {
                seq: e.seq,
                kind: e.kind.into(),
                entity: e.entity.clone(),
                user: e.user.clone(),
            })
            .collect(),
    }
}

/// One row of `status` on the wire.
pub fn unit_status(row: &StatusRow) -> pb::UnitStatus {
    pb::UnitStatus {
        unit: Some(pb::Unit {
            code: row.unit.to_string(),
            name: row.name.clone(),
            kind: row.kind.to_string(),
        }),
        state: row.state.as_str().into(),
        submitted_at: row.submitted_at.clone().unwrap_or_default(),
        timeliness: row.timeliness.as_str().into(),
        review_reason: row.review_reason.clone().unwrap_or_default(),
        diverged: row.diverged,
        counted: row.counted,
        activities: row.activities,
    }
}

fn count<N: TryInto<u32>>(n: N) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

/// `Status`: the counts, the rows, and the whole document as JSON (what
/// `status --json` prints).
pub fn status(
    period: &coso_domain::Period,
    standing: &Standing,
) -> Result<pb::StatusResponse, serde_json::Error> {
    match standing {
        Standing::Units(s) => {
            let t = &s.totals;
            Ok(pb::StatusResponse {
                period: Some(pb::Period::from(period)),
                units: s.units.iter().map(unit_status).collect(),
                expected: count(t.expected),
                reported: count(t.reported),
                on_time: count(t.on_time),
                late: count(t.late),
                missing: count(t.missing),
                status_json: serde_json::to_string(s)?,
                due: s.due.clone(),
                summary: s.summary.clone(),
                summary_en: s.summary_en.clone(),
                totals: Some(pb::StatusTotals {
                    expected: count(t.expected),
                    reported: count(t.reported),
                    on_time: count(t.on_time),
                    late: count(t.late),
                    missing: count(t.missing),
                    submitted: count(t.submitted),
                    accepted: count(t.accepted),
                    returned: count(t.returned),
                    draft: count(t.draft),
                    not_received: count(t.not_received),
                }),
                wards: None,
                backup: None,
            })
        }
        Standing::Wards(s) => wards_status(period, s),
    }
}

fn wards_status(
    period: &coso_domain::Period,
    s: &WardsStatus,
) -> Result<pb::StatusResponse, serde_json::Error> {
    let t = &s.totals;
    Ok(pb::StatusResponse {
        period: Some(pb::Period::from(period)),
        units: Vec::new(),
        expected: count(t.units_expected),
        reported: count(t.units_reported),
        on_time: count(t.on_time),
        late: count(t.late),
        missing: count(t.missing),
        status_json: serde_json::to_string(s)?,
        due: s.due.clone(),
        summary: s.summary.clone(),
        summary_en: s.summary_en.clone(),
        totals: Some(pb::StatusTotals {
            expected: count(t.units_expected),
            reported: count(t.units_reported),
            on_time: count(t.on_time),
            late: count(t.late),
            missing: count(t.missing),
            ..pb::StatusTotals::default()
        }),
        wards: Some(pb::WardsStanding {
            totals: Some(pb::WardTotals {
                wards: t.wards,
                units_expected: t.units_expected,
                units_reported: t.units_reported,
                on_time: t.on_time,
                late: t.late,
                missing: t.missing,
            }),
            wards: s
                .wards
                .iter()
                .map(|w| pb::WardRow {
                    ward: w.ward.clone(),
                    revision: w.revision,
                    received_at: w.received_at.clone(),
                    content_sha256: w.content_sha256.clone(),
                    expected: w.completeness.expected,
                    reported: w.completeness.reported,
                    on_time: w.completeness.on_time,
                    late: w.completeness.late,
                    missing: w.completeness.missing,
                })
                .collect(),
        }),
        backup: None,
    })
}

/// Where the scheduled backups stand, for `status`.
pub fn backup_standing(b: &coso_ward::scheduled_backup::BackupStanding) -> pb::BackupStanding {
    let (last_at, last_file) = match &b.last {
        Some((at, file)) => (at.to_rfc3339(), file.display().to_string()),
        None => Default::default(),
    };
    pb::BackupStanding {
        scheduled: b.schedule.is_some(),
        every_hours: b.schedule.as_ref().map_or(0.0, |s| s.every_hours),
        keep: b.schedule.as_ref().map_or(0, |s| s.keep),
        dir: b
            .dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        last_at,
        last_file,
        failures: b.failures,
        last_error: b.last_error.clone().unwrap_or_default(),
    }
}

pub fn push_upstream_response(p: &Pushed) -> pb::PushUpstreamResponse {
    pb::PushUpstreamResponse {
        revision: p.revision,
        idempotency_key: p.idempotency_key.clone(),
        state: p.state.into(),
        unchanged: p.unchanged,
    }
}

pub fn upstream_log_response(l: &UpstreamLog) -> pb::UpstreamLogResponse {
    use coso_ward::DeliveryState;
    let target = l.target.as_ref();
    pb::UpstreamLogResponse {
        attempts: l
            .attempts
            .iter()
            .map(|a| pb::UpstreamAttempt {
                period: a.period.to_string(),
                revision: a.revision,
                idempotency_key: a.idempotency_key.clone(),
                at: a.at.to_rfc3339(),
                outcome: a.outcome.as_str().into(),
                http_status: u32::from(a.http_status),
                detail: a.detail.clone(),
            })
            .collect(),
        url: target.map(|t| t.url.clone()).unwrap_or_default(),
        token_set: target.is_some_and(|t| t.token.is_some()),
        ca_set: target.is_some_and(|t| t.ca_pem.is_some()),
        deliveries: l
            .deliveries
            .iter()
            .map(|d| pb::UpstreamDelivery {
                period: d.period.to_string(),
                revision: d.revision,
                idempotency_key: d.idempotency_key.clone(),
                state: d.state.as_str().into(),
                trigger: d.trigger.as_str().into(),
                queued_at: d.queued_at.to_rfc3339(),
                attempts: d.attempts,
                next_attempt_at: if d.state == DeliveryState::Queued {
                    d.next_attempt_at.to_rfc3339()
                } else {
                    String::new()
                },
                content_sha256: d.content_sha256.clone(),
            })
            .collect(),
        received: l
            .received
            .iter()
            .map(|r| pb::ReceivedReport {
                ward: r.ward.clone(),
                period: r.period.to_string(),
                revision: r.revision,
                idempotency_key: r.idempotency_key.clone(),
                received_at: r.received_at.to_rfc3339(),
                content_sha256: r.content_sha256.clone(),
                bytes: r.bytes,
            })
            .collect(),
    }
}

/// A dashboard user on the wire.
pub fn user_info(u: &coso_ward::users::UserSummary) -> pb::UserInfo {
    pb::UserInfo {
        name: u.name.clone(),
        role: u.role.as_str().into(),
        must_change_password: u.must_change_password,
        created_at: u.created_at.to_rfc3339(),
        sessions: u.sessions as u32,
    }
}

pub fn password_set(s: &coso_ward::users::PasswordSet) -> pb::UserPasswordResponse {
    pb::UserPasswordResponse {
        user: Some(user_info(&s.user)),
        one_time_password: s.one_time_password.clone().unwrap_or_default(),
    }
}
