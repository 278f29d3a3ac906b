//! The reporting calendar as the ward sees it: which periods are open to
//! report on, and the ad-hoc requests VH-XH creates.

use chrono::Datelike;
use coso_domain::calendar::{AdHocPeriod, vietnam};
use coso_domain::{Period, PeriodCode, PeriodKind};

use super::{Actor, Ward, WardError};

impl Ward {
    /// A period of the calendar (standard or ad hoc).
    pub fn period(&self, code: &PeriodCode) -> Result<Period, WardError> {
        self.hub
            .docs
            .calendar()
            .period(code)
            .ok_or_else(|| WardError::NoSuchPeriod(code.clone()))
    }

    /// The periods of this year, next year's once their data window has
    /// opened (mid-December), and every ad-hoc request, by deadline.
    pub fn periods(&self) -> Vec<Period> {
        let cal = self.hub.docs.calendar();
        let now = coso_domain::clock::now().with_timezone(&vietnam());
        let year = now.year();
        let today = now.date_naive();
        let mut periods = cal.periods_of_year(year);
        periods.extend(
            cal.periods_of_year(year + 1)
                .into_iter()
                .filter(|p| p.kind == PeriodKind::Standard && p.window_start <= today),
        );
        for a in &cal.adhoc {
            if a.code.year() != year
                && let Some(p) = cal.period(&a.code)
            {
                periods.push(p);
            }
        }
        periods.sort_by(|a, b| (a.due, &a.code).cmp(&(b.due, &b.code)));
        periods
    }

    /// Creates an ad-hoc request; agents learn of it on their next sync.
    pub async fn add_period(&self, actor: &Actor, adhoc: AdHocPeriod) -> Result<Period, WardError> {
        let p = self.hub.docs.add_period(&self.hub.store, adhoc).await?;
        tracing::info!(period = %p.code, by = actor.name(), "ad-hoc period added");
        self.audit(actor, "period-add", None, format!("{} {}", p.code, p.title))
            .await?;
        Ok(p)
    }
}
