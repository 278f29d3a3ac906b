//! Delivery to the level above as a ward use case: where reports go, a push
//! by hand, and the delivery log. The mechanism (outbox, worker, retries)
//! lives in [`crate::upstream`].

use coso_domain::Period;

use super::{Actor, Ward, WardError};
use crate::store::outbox::Trigger;
use crate::upstream;

pub use crate::upstream::{Pushed, TargetInput, UpstreamLog};

impl Ward {
    /// `upstream set`: checks and stores the target; returns how many
    /// deliveries the old target refused and are queued again.
    pub async fn set_upstream(&self, actor: &Actor, input: TargetInput) -> Result<u32, WardError> {
        let requeued = upstream::set_target(&self.hub, input).await?;
        tracing::info!(by = actor.name(), requeued, "upstream target set");
        self.audit(actor, "upstream-set", None, String::new())
            .await?;
        Ok(requeued)
    }

    /// `upstream push`: queues the period's report now (unless the same
    /// content was already queued or delivered).
    pub async fn push_upstream(&self, actor: &Actor, period: &Period) -> Result<Pushed, WardError> {
        let entries = self.entries(period)?;
        let pushed = upstream::push(&self.hub, period, &entries, Trigger::Manual).await?;
        tracing::info!(period = %period.code, by = actor.name(), revision = pushed.revision, "upstream push");
        self.audit(actor, "upstream-push", None, period.code.to_string())
            .await?;
        Ok(pushed)
    }

    /// `upstream log`: the target, every delivery and attempt, and the
    /// reports received from ward hubs.
    pub fn upstream_log(&self) -> Result<UpstreamLog, WardError> {
        Ok(upstream::log(&self.hub)?)
    }
}
