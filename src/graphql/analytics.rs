//! `analytics`: usage figures from the audit log and the session table, for admins. Rows
//! of both portals are read (this portal's JSON details and the old portal's sentences).

use std::collections::{BTreeMap, HashSet};

use async_graphql::{Context, Object, SimpleObject};
use time::{Date, Duration, OffsetDateTime};

use super::stores::{audit_store, customer_store, internal, session_store};
use crate::domain::Zone;
use crate::store::AuditEntry;

#[derive(SimpleObject, Debug, Clone)]
pub struct DayCount {
    pub date: Date,
    pub count: i32,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerLoginCount {
    pub email: String,
    pub login_count: i32,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct RecentLogin {
    pub timestamp: OffsetDateTime,
    pub email: Option<String>,
    pub ip_address: Option<String>,
}

/// Usage analytics from the audit log and the session table. Fields that share a query
/// run it once per operation.
#[derive(Default)]
pub struct Analytics {
    counts: tokio::sync::OnceCell<(u64, u64)>,
    logins_7_days: tokio::sync::OnceCell<Vec<AuditEntry>>,
}

impl Analytics {
    async fn counts(&self, ctx: &Context<'_>) -> async_graphql::Result<(u64, u64)> {
        let store = customer_store(ctx)?;
        self.counts
            .get_or_try_init(|| async { store.count_customers_by_status().await.map_err(internal) })
            .await
            .copied()
    }

    async fn logins_7_days(&self, ctx: &Context<'_>) -> async_graphql::Result<&[AuditEntry]> {
        let store = audit_store(ctx)?;
        let since = OffsetDateTime::now_utc() - Duration::days(7);
        let rows = self
            .logins_7_days
            .get_or_try_init(|| async { store.audit_since(LOGIN, since).await.map_err(internal) })
            .await?;
        Ok(rows)
    }
}

const LOGIN: &str = crate::domain::audit::Action::CustomerLogin.as_str();

/// Counts instants by their local day in `zone`, for `days` days from `first`. The audit
/// store gives instants whatever clock wrote the column, so a day here is a day on the
/// portal's wall clock (23 or 25 hours across a daylight-saving change).
fn per_day(
    instants: impl Iterator<Item = OffsetDateTime>,
    first: Date,
    days: i64,
    zone: &Zone,
) -> Vec<DayCount> {
    let mut counts: BTreeMap<Date, i32> =
        (0..days).map(|i| (first + Duration::days(i), 0)).collect();
    for t in instants {
        if let Some(c) = counts.get_mut(&zone.at(t).date()) {
            *c += 1;
        }
    }
    counts
        .into_iter()
        .map(|(date, count)| DayCount { date, count })
        .collect()
}

#[Object]
impl Analytics {
    /// Scheduled reports and alerts mailed in the last 7 days.
    async fn reports_sent_last_7_days(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let store = audit_store(ctx)?;
        let since = OffsetDateTime::now_utc() - Duration::days(7);
        let sent = store
            .audit_since(crate::domain::audit::Action::ReportSent.as_str(), since)
            .await
            .map_err(internal)?;
        Ok(sent.len() as i32)
    }
    async fn active_customers(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.counts(ctx).await?.0 as i32)
    }
    async fn inactive_customers(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.counts(ctx).await?.1 as i32)
    }
    async fn current_sessions(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(session_store(ctx)?
            .list_active_sessions()
            .await
            .map_err(internal)?
            .len() as i32)
    }
    async fn logins_last_7_days(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(self.logins_7_days(ctx).await?.len() as i32)
    }
    async fn unique_logins_last_7_days(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let rows = self.logins_7_days(ctx).await?;
        Ok(rows
            .iter()
            .filter_map(|e| e.target_customer_id)
            .collect::<HashSet<_>>()
            .len() as i32)
    }
    /// Logins per day in the portal's time zone (`PORTAL_TIMEZONE`), oldest first, with
    /// days without logins as zero.
    async fn logins_per_day(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 14)] days: i32,
    ) -> async_graphql::Result<Vec<DayCount>> {
        let zone = ctx.data::<Zone>()?;
        let days = days.clamp(1, 366) as i64;
        let today = zone.at(OffsetDateTime::now_utc()).date();
        let first = today - Duration::days(days - 1);
        let rows = audit_store(ctx)?
            .audit_since(LOGIN, zone.start_of_day(first))
            .await
            .map_err(internal)?;
        Ok(per_day(rows.iter().map(|e| e.timestamp), first, days, zone))
    }
    async fn most_active_customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] limit: i32,
    ) -> async_graphql::Result<Vec<CustomerLoginCount>> {
        let rows = audit_store(ctx)?
            .top_audit_targets(LOGIN, limit.clamp(1, 100) as u32)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|(email, n)| CustomerLoginCount {
                email,
                login_count: n as i32,
            })
            .collect())
    }
    async fn recent_logins(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] limit: i32,
    ) -> async_graphql::Result<Vec<RecentLogin>> {
        let rows = audit_store(ctx)?
            .latest_audit(LOGIN, limit.clamp(1, 100) as u32)
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|e| RecentLogin {
                timestamp: e.timestamp,
                email: e.target_customer_email,
                ip_address: e.details.as_deref().and_then(login_ip),
            })
            .collect())
    }
}

/// The address in a sign-in row's details, in either portal's shape: this portal's JSON
/// (`{"ip_address": …}`) or the old portal's sentence (`Login from IP: 203.0.113.7`).
pub fn login_ip(details: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(details) {
        return v["ip_address"].as_str().map(str::to_owned);
    }
    let rest = details.split_once("IP:")?.1.trim_start();
    let ip: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || matches!(c, '.' | ':'))
        .collect();
    ip.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_addresses_are_read_from_both_portals_rows() {
        assert_eq!(
            login_ip(r#"{"ip_address":"198.51.100.4","user_agent":"x"}"#).as_deref(),
            Some("198.51.100.4")
        );
        assert_eq!(
            login_ip("Login from IP: 203.0.113.7").as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            login_ip("Login from IP: 2001:db8::1 (Chrome)").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(login_ip("Login from IP: unknown"), None);
        assert_eq!(login_ip(r#"{"other":1}"#), None);
    }

    #[test]
    fn days_are_the_portals_days_across_a_clock_change() {
        use time::macros::{date, datetime};
        let chicago = Zone::parse("America/Chicago").unwrap();
        // 2026-11-01 lasts 25 hours in Chicago (01:00-02:00 happens twice).
        let logins = [
            datetime!(2026-11-01 05:30 UTC), // 00:30 CDT, Nov 1
            datetime!(2026-11-01 06:30 UTC), // 01:30 CDT, Nov 1
            datetime!(2026-11-01 07:30 UTC), // 01:30 CST, Nov 1 again
            datetime!(2026-11-02 05:30 UTC), // 23:30 CST, still Nov 1
            datetime!(2026-11-02 06:30 UTC), // 00:30 CST, Nov 2
            datetime!(2026-10-31 04:59 UTC), // 23:59 CDT, Oct 30: before the window
        ];
        let got = per_day(logins.into_iter(), date!(2026 - 10 - 31), 3, &chicago);
        let counts: Vec<(Date, i32)> = got.iter().map(|d| (d.date, d.count)).collect();
        assert_eq!(
            counts,
            vec![
                (date!(2026 - 10 - 31), 0),
                (date!(2026 - 11 - 01), 4),
                (date!(2026 - 11 - 02), 1),
            ]
        );
        // Read as UTC days the same logins would split 3 / 2: the bug this avoids.
        let utc = per_day(logins.into_iter(), date!(2026 - 10 - 31), 3, &Zone::utc());
        assert_eq!(utc[1].count, 3);
    }
}
