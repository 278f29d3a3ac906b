//! The `coso.v1.Admin` gRPC service: the edge between the Admin contract and
//! the ward's use cases ([`coso_ward`]). Each call checks the admin token,
//! converts the request ([`convert`]), runs one use case and converts the
//! result; the rules themselves live in the ward layer.

pub mod convert;
pub mod report_stream;

use std::sync::Arc;

use coso_proto::pb;
use tonic::{Request, Response, Status};

use crate::error::{ApiError, lang_of};
use convert::{NewUnits, ReportInput, ReviewInput, WardNoteInput};
use coso_ward::reporting::ReportingError;
use coso_ward::state::HubState;
use coso_ward::{Actor, Ward};

pub struct AdminService {
    ward: Ward,
}

type RpcResult<T> = Result<Response<T>, Status>;

impl AdminService {
    pub fn new(hub: Arc<HubState>) -> AdminService {
        AdminService {
            ward: Ward::new(hub),
        }
    }

    /// Runs an admin call: checks the token, then maps any error once.
    async fn call<Req, Res, F>(
        &self,
        request: Request<Req>,
        f: impl FnOnce(Req, Actor) -> F,
    ) -> RpcResult<Res>
    where
        F: Future<Output = Result<Res, ApiError>>,
    {
        let lang = lang_of(request.metadata());
        if let Err(e) =
            crate::error::bearer(request.metadata()).and_then(|t| self.ward.check_admin(t))
        {
            return Err(ApiError::from(e).into_status(lang));
        }
        f(request.into_inner(), Actor::admin_token())
            .await
            .map(Response::new)
            .map_err(|e| {
                if e.is_storage() {
                    self.ward.count_storage_error();
                }
                e.into_status(lang)
            })
    }

    fn period(&self, code: &str) -> Result<coso_domain::Period, ApiError> {
        let code = coso_ward::input::period_code(code)?;
        Ok(self.ward.period(&code)?)
    }
}

#[tonic::async_trait]
impl pb::admin_server::Admin for AdminService {
    async fn add_unit(
        &self,
        request: Request<pb::AddUnitRequest>,
    ) -> RpcResult<pb::AddUnitResponse> {
        self.call(request, |req, actor| async move {
            let (unit, kept) = convert::add_unit(req)?;
            if kept {
                let s = self.ward.add_kept_unit(&actor, unit).await?;
                return Ok(convert::kept_unit_response(&s));
            }
            let invites = self.ward.add_units(&actor, vec![unit]).await?;
            Ok(invites
                .first()
                .map(convert::add_unit_response)
                .unwrap_or_default())
        })
        .await
    }

    async fn import_units(
        &self,
        request: Request<pb::ImportUnitsRequest>,
    ) -> RpcResult<pb::ImportUnitsResponse> {
        self.call(request, |req, actor| async move {
            let NewUnits(units) = NewUnits::try_from(req)?;
            let invites = self.ward.add_units(&actor, units).await?;
            Ok(pb::ImportUnitsResponse {
                units: invites.iter().map(convert::add_unit_response).collect(),
            })
        })
        .await
    }

    async fn reissue_enrolment(
        &self,
        request: Request<pb::UnitRef>,
    ) -> RpcResult<pb::AddUnitResponse> {
        self.call(request, |req, actor| async move {
            let code = convert::unit_ref(&req)?;
            let invite = self.ward.reissue(&actor, &code).await?;
            Ok(convert::add_unit_response(&invite))
        })
        .await
    }

    async fn revoke_unit(&self, request: Request<pb::UnitRef>) -> RpcResult<pb::UnitSummary> {
        self.call(request, |req, actor| async move {
            let code = convert::unit_ref(&req)?;
            Ok(convert::unit_summary(
                &self.ward.revoke(&actor, &code).await?,
            ))
        })
        .await
    }

    async fn keep_at_ward(&self, request: Request<pb::UnitRef>) -> RpcResult<pb::UnitSummary> {
        self.call(request, |req, actor| async move {
            let code = convert::unit_ref(&req)?;
            Ok(convert::unit_summary(
                &self.ward.keep_at_ward(&actor, &code).await?,
            ))
        })
        .await
    }

    async fn hand_over(&self, request: Request<pb::UnitRef>) -> RpcResult<pb::AddUnitResponse> {
        self.call(request, |req, actor| async move {
            let code = convert::unit_ref(&req)?;
            let invite = self.ward.handover(&actor, &code).await?;
            Ok(convert::add_unit_response(&invite))
        })
        .await
    }

    async fn list_units(
        &self,
        request: Request<pb::ListUnitsRequest>,
    ) -> RpcResult<pb::ListUnitsResponse> {
        self.call(request, |_, _| async move {
            Ok(pb::ListUnitsResponse {
                units: self
                    .ward
                    .units()?
                    .iter()
                    .map(convert::unit_summary)
                    .collect(),
            })
        })
        .await
    }

    async fn show_unit(&self, request: Request<pb::UnitRef>) -> RpcResult<pb::UnitDetail> {
        self.call(request, |req, _| async move {
            let code = convert::unit_ref(&req)?;
            Ok(convert::unit_detail(&self.ward.unit_detail(&code)?))
        })
        .await
    }

    async fn list_periods(
        &self,
        request: Request<pb::ListPeriodsRequest>,
    ) -> RpcResult<pb::ListPeriodsResponse> {
        self.call(request, |_, _| async move {
            Ok(pb::ListPeriodsResponse {
                periods: self.ward.periods().iter().map(pb::Period::from).collect(),
            })
        })
        .await
    }

    async fn add_period(&self, request: Request<pb::AddPeriodRequest>) -> RpcResult<pb::Period> {
        self.call(request, |req, actor| async move {
            let adhoc = convert::adhoc(&self.ward.hub().docs.catalog(), req)?;
            Ok(pb::Period::from(
                &self.ward.add_period(&actor, adhoc).await?,
            ))
        })
        .await
    }

    async fn status(&self, request: Request<pb::StatusRequest>) -> RpcResult<pb::StatusResponse> {
        self.call(request, |req, _| async move {
            let period = self.period(&req.period)?;
            let standing = self.ward.standing(&period, req.wards)?;
            let mut r = convert::status(&period, &standing)
                .map_err(|e| ApiError::Ward(ReportingError::from(e).into()))?;
            r.backup = Some(convert::backup_standing(&self.ward.backup_standing()));
            Ok(r)
        })
        .await
    }

    async fn review(&self, request: Request<pb::ReviewRequest>) -> RpcResult<pb::ReviewResponse> {
        self.call(request, |req, actor| async move {
            let r = ReviewInput::try_from(req)?;
            let period = self.ward.period(&r.period)?;
            let row = self
                .ward
                .review(&actor, &r.unit, &period, r.verdict)
                .await?;
            Ok(pb::ReviewResponse {
                status: Some(convert::unit_status(&row)),
            })
        })
        .await
    }

    type CompileReportStream = report_stream::ReportStream;

    async fn compile_report(
        &self,
        request: Request<pb::CompileReportRequest>,
    ) -> RpcResult<Self::CompileReportStream> {
        self.call(request, |req, _| async move {
            let r = ReportInput::try_from(req)?;
            let period = self.ward.period(&r.period)?;
            // Compiled whole before the first message, so every refusal is
            // the call's status, never a stream cut short.
            let report = self
                .ward
                .report_off_thread(period, r.format, r.scope)
                .await?;
            Ok(report_stream::stream(report))
        })
        .await
    }

    async fn set_upstream(
        &self,
        request: Request<pb::SetUpstreamRequest>,
    ) -> RpcResult<pb::SetUpstreamResponse> {
        self.call(request, |req, actor| async move {
            let requeued = self
                .ward
                .set_upstream(&actor, convert::target_input(req))
                .await?;
            Ok(pb::SetUpstreamResponse { requeued })
        })
        .await
    }

    async fn push_upstream(
        &self,
        request: Request<pb::PushUpstreamRequest>,
    ) -> RpcResult<pb::PushUpstreamResponse> {
        self.call(request, |req, actor| async move {
            let period = self.period(&req.period)?;
            let pushed = self.ward.push_upstream(&actor, &period).await?;
            Ok(convert::push_upstream_response(&pushed))
        })
        .await
    }

    async fn upstream_log(
        &self,
        request: Request<pb::UpstreamLogRequest>,
    ) -> RpcResult<pb::UpstreamLogResponse> {
        self.call(request, |_, _| async move {
            Ok(convert::upstream_log_response(&self.ward.upstream_log()?))
        })
        .await
    }

    async fn set_ward_note(
        &self,
        request: Request<pb::SetWardNoteRequest>,
    ) -> RpcResult<pb::SetWardNoteResponse> {
        self.call(request, |req, actor| async move {
            let n = WardNoteInput::try_from(req)?;
            let period = self.ward.period(&n.period)?;
            self.ward
                .set_ward_note(&actor, &period, n.section, &n.text)
                .await?;
            Ok(pb::SetWardNoteResponse {})
        })
        .await
    }

    type BackupStream = crate::audit_rpc::BackupStream;

    async fn backup(&self, request: Request<pb::BackupRequest>) -> RpcResult<Self::BackupStream> {
        self.call(request, |_, _| crate::audit_rpc::backup(&self.ward))
            .await
    }

    async fn audit(&self, request: Request<pb::AuditRequest>) -> RpcResult<pb::AuditResponse> {
        self.call(request, |req, _| async move {
            crate::audit_rpc::audit(&self.ward, &req)
        })
        .await
    }

    async fn verify_audit(
        &self,
        request: Request<pb::VerifyAuditRequest>,
    ) -> RpcResult<pb::VerifyAuditResponse> {
        self.call(request, |_, _| async {
            crate::audit_rpc::verify(&self.ward)
        })
        .await
    }

    async fn add_user(
        &self,
        request: Request<pb::AddUserRequest>,
    ) -> RpcResult<pb::UserPasswordResponse> {
        self.call(request, |req, actor| async move {
            let role = coso_ward::users::role(&req.role)?;
            let password = req.password_given.then_some(req.password);
            let set = self
                .ward
                .add_user(&actor, req.name.trim(), role, password)
                .await?;
            Ok(convert::password_set(&set))
        })
        .await
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> RpcResult<pb::ListUsersResponse> {
        self.call(request, |_req, _actor| async move {
            Ok(pb::ListUsersResponse {
                users: self.ward.users()?.iter().map(convert::user_info).collect(),
            })
        })
        .await
    }

    async fn remove_user(&self, request: Request<pb::UserRef>) -> RpcResult<pb::UserRemoved> {
        self.call(request, |req, actor| async move {
            let u = self.ward.remove_user(&actor, req.name.trim()).await?;
            Ok(pb::UserRemoved {
                user: Some(convert::user_info(&u)),
            })
        })
        .await
    }

    async fn set_user_password(
        &self,
        request: Request<pb::SetUserPasswordRequest>,
    ) -> RpcResult<pb::UserPasswordResponse> {
        self.call(request, |req, actor| async move {
            let password = req.password_given.then_some(req.password);
            let set = self
                .ward
                .set_password(&actor, req.name.trim(), password)
                .await?;
            Ok(convert::password_set(&set))
        })
        .await
    }

    async fn unlock_user(&self, request: Request<pb::UserRef>) -> RpcResult<pb::UserUnlocked> {
        self.call(request, |req, actor| async move {
            let name = req.name.trim();
            let cleared = self.ward.unlock_user(&actor, name).await?;
            Ok(pb::UserUnlocked {
                name: name.to_string(),
                addresses: u32::try_from(cleared).unwrap_or(u32::MAX),
            })
        })
        .await
    }
}
