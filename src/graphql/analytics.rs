//! `analytics`: usage figures from the audit log and the session table, for admins. Rows
//! of both portals are read (this portal's JSON details and the old portal's sentences).

use std::collections::{BTreeMap, HashSet};

use async_graphql::{Context, Object, SimpleObject};
use time::{Date, Duration, OffsetDateTime};

use super::admin::{audit_store, customer_store, internal, session_store};
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

const LOGIN: &str = "CUSTOMER_LOGIN";

#[Object]
impl Analytics {
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
    /// Logins per UTC day, oldest first, with days without logins as zero.
    async fn logins_per_day(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 14)] days: i32,
    ) -> async_graphql::Result<Vec<DayCount>> {
        let days = days.clamp(1, 366) as i64;
        let today = OffsetDateTime::now_utc().date();
        let first = today - Duration::days(days - 1);
        let since = first.midnight().assume_utc();
        let rows = audit_store(ctx)?
            .audit_since(LOGIN, since)
            .await
            .map_err(internal)?;
        let mut counts: BTreeMap<Date, i32> =
            (0..days).map(|i| (first + Duration::days(i), 0)).collect();
        for e in rows {
            if let Some(c) = counts.get_mut(&e.timestamp.date()) {
                *c += 1;
            }
        }
        Ok(counts
            .into_iter()
            .map(|(date, count)| DayCount { date, count })
            .collect())
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
}
