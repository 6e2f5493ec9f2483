//! Scheduled reports: `reportSubscriptions`, `subscribeReport`, `unsubscribeReport` and
//! `setReportPaused` for the customer's own; `allReportSubscriptions` and the same pause
//! for admins. The scheduler (`crate::reports`) sends them.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use time::OffsetDateTime;

use super::guards::{
    AdminGuard, CustomerGuard, Denied, PublicGuard, coded_error, codes, field_errors,
    require_admin, require_customer, store_error, viewer,
};
use crate::auth::Viewer;
use crate::domain::CustomerId;
use crate::reports::Scheduler;
use crate::store::{
    CustomerStore, NewReportSubscription, ReportStore, ReportSubscription, SavedViewStore,
    StoreError,
};

/// Subscriptions one account may have.
pub const MAX_SUBSCRIPTIONS: u32 = 20;

#[derive(Default)]
pub struct ReportsQuery;

#[derive(Default)]
pub struct ReportsMutation;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::reports::ReportKind")]
pub enum ReportKind {
    /// The view's rows, attached.
    Report,
    /// Only on days when something is expired, expiring within 30 days or below minimum.
    Alert,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::reports::Frequency")]
pub enum ReportFrequency {
    Daily,
    Weekly,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::reports::FileFormat")]
pub enum ReportFormat {
    Xlsx,
    Csv,
}

#[derive(InputObject, Debug, Clone)]
pub struct SubscribeReportInput {
    /// One of the caller's saved views; omitted: the whole scope.
    pub view_id: Option<ID>,
    #[graphql(default_with = "ReportKind::Report")]
    pub kind: ReportKind,
    #[graphql(default_with = "ReportFrequency::Daily")]
    pub frequency: ReportFrequency,
    /// 0 = Monday … 6 = Sunday; weekly reports only.
    pub weekday: Option<i32>,
    /// The hour (0–23) in the portal's time zone.
    pub hour: i32,
    #[graphql(default_with = "ReportFormat::Xlsx")]
    pub format: ReportFormat,
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "ReportSubscription")]
pub struct ReportSubscriptionNode {
    pub id: ID,
    pub kind: ReportKind,
    pub view_id: Option<ID>,
    /// The saved view's name; null for the whole scope.
    pub view_name: Option<String>,
    pub frequency: ReportFrequency,
    pub weekday: Option<i32>,
    pub hour: i32,
    pub format: ReportFormat,
    pub paused: bool,
    /// Who paused it (an admin's name or the customer's email).
    pub paused_by: Option<String>,
    pub next_run_at: OffsetDateTime,
    pub last_sent_at: Option<OffsetDateTime>,
    /// `sent`, `skipped`, `retrying` or `failed`.
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    pub sent_count: i32,
    pub customer_id: ID,
    pub customer_email: String,
}

fn node(s: ReportSubscription, email: String) -> ReportSubscriptionNode {
    ReportSubscriptionNode {
        id: ID(s.id.to_string()),
        kind: s.kind.into(),
        view_id: s.view_id.map(|v| ID(v.to_string())),
        view_name: s.view_name,
        frequency: s.frequency.into(),
        weekday: s.weekday.map(|w| w as i32),
        hour: s.hour as i32,
        format: s.format.into(),
        paused: s.paused,
        paused_by: s.paused_by,
        next_run_at: s.next_run_at,
        last_sent_at: s.last_sent_at,
        last_status: s.last_status.map(|st| st.as_str().to_owned()),
        last_error: s.last_error,
        sent_count: s.sent_count as i32,
        customer_id: ID(s.customer_id.0.to_string()),
        customer_email: email,
    }
}

fn parse_id(id: &ID, what: &str) -> async_graphql::Result<i64> {
    id.parse::<i64>()
        .map_err(|_| coded_error(codes::NOT_FOUND, &format!("no such {what}")))
}

/// Nodes with their customers' emails: one query for all of them (the view names come
/// with the subscriptions).
async fn nodes(
    ctx: &Context<'_>,
    subs: Vec<ReportSubscription>,
) -> async_graphql::Result<Vec<ReportSubscriptionNode>> {
    let customers = ctx.data::<Arc<dyn CustomerStore>>()?;
    let mut ids: Vec<CustomerId> = subs.iter().map(|s| s.customer_id).collect();
    ids.sort_by_key(|c| c.0);
    ids.dedup();
    let emails: HashMap<i64, String> = customers
        .customers_by_ids(&ids)
        .await
        .map_err(|e| store_error(&e))?
        .into_iter()
        .map(|c| (c.id.0, c.email))
        .collect();
    Ok(subs
        .into_iter()
        .map(|s| {
            let email = emails.get(&s.customer_id.0).cloned().unwrap_or_default();
            node(s, email)
        })
        .collect())
}

#[Object]
impl ReportsQuery {
    /// The caller's scheduled reports and alerts.
    #[graphql(guard = "CustomerGuard")]
    async fn report_subscriptions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ReportSubscriptionNode>> {
        let who = require_customer(ctx)?;
        let store = ctx.data::<Arc<dyn ReportStore>>()?;
        let subs = store
            .subscriptions(Some(who.customer_id))
            .await
            .map_err(|e| store_error(&e))?;
        nodes(ctx, subs).await
    }

    /// Every customer's scheduled reports (or one customer's). Admins only.
    #[graphql(guard = "AdminGuard")]
    async fn all_report_subscriptions(
        &self,
        ctx: &Context<'_>,
        customer_id: Option<ID>,
    ) -> async_graphql::Result<Vec<ReportSubscriptionNode>> {
        require_admin(ctx)?;
        let customer = match &customer_id {
            Some(id) => Some(CustomerId(parse_id(id, "customer")?)),
            None => None,
        };
        let store = ctx.data::<Arc<dyn ReportStore>>()?;
        let subs = store
            .subscriptions(customer)
            .await
            .map_err(|e| store_error(&e))?;
        nodes(ctx, subs).await
    }
}

#[Object]
impl ReportsMutation {
    /// Subscribes the caller to a report of one of their saved views (or of their whole
    /// scope), daily or weekly at an hour of the portal's time zone, XLSX or CSV, sent to
    /// their own address; or (`kind: ALERT`, daily only) to an alert on the days something
    /// is expired, expiring within 30 days or below minimum. Field errors as
    /// `BAD_USER_INPUT`.
    #[graphql(guard = "CustomerGuard")]
    async fn subscribe_report(
        &self,
        ctx: &Context<'_>,
        input: SubscribeReportInput,
    ) -> async_graphql::Result<ReportSubscriptionNode> {
        let who = require_customer(ctx)?;
        let mut errors: Vec<(&str, String)> = Vec::new();
        if !(0..=23).contains(&input.hour) {
            errors.push(("hour", "Choose an hour from 0 to 23.".into()));
        }
        let weekday = match (input.frequency, input.weekday) {
            (ReportFrequency::Weekly, Some(w)) if (0..=6).contains(&w) => Some(i64::from(w)),
            (ReportFrequency::Weekly, _) => {
                errors.push(("weekday", "Choose the day of the week.".into()));
                None
            }
            (ReportFrequency::Daily, _) => None,
        };
        if input.kind == ReportKind::Alert && input.frequency == ReportFrequency::Weekly {
            errors.push(("frequency", "Alerts are daily.".into()));
        }
        let views = ctx.data::<Arc<dyn SavedViewStore>>()?;
        let view_id = match &input.view_id {
            Some(id) if input.kind == ReportKind::Report => {
                let id = id.parse::<i64>().unwrap_or(-1);
                // Only the caller's own views: anyone else's is "no such view".
                match views
                    .saved_view(who.customer_id, id)
                    .await
                    .map_err(|e| store_error(&e))?
                {
                    Some(v) => Some(v.id),
                    None => {
                        errors.push(("view_id", "No such saved view.".into()));
                        None
                    }
                }
            }
            _ => None,
        };
        if !errors.is_empty() {
            return Err(field_errors(errors));
        }
        let store = ctx.data::<Arc<dyn ReportStore>>()?;
        let scheduler = ctx.data::<Arc<Scheduler>>()?;
        let frequency = input.frequency.into();
        let new = NewReportSubscription {
            customer_id: who.customer_id,
            kind: input.kind.into(),
            view_id,
            frequency,
            weekday,
            hour: i64::from(input.hour),
            format: input.format.into(),
            created_at: scheduler.now(),
            next_run_at: scheduler.first_run(frequency, weekday, i64::from(input.hour)),
        };
        let sub = match store.insert_subscription(&new, MAX_SUBSCRIPTIONS).await {
            Ok(sub) => sub,
            Err(StoreError::LimitReached(max)) => {
                return Err(field_errors([(
                    "_form",
                    format!("You can have {max} scheduled mails; remove one first."),
                )]));
            }
            Err(e) => return Err(store_error(&e)),
        };
        tracing::info!(customer_id = %who.customer_id, subscription = sub.id, "report subscribed");
        Ok(nodes(ctx, vec![sub]).await?.remove(0))
    }

    /// Ends one of the caller's subscriptions; `NOT_FOUND` for anyone else's.
    #[graphql(guard = "CustomerGuard")]
    async fn unsubscribe_report(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let who = require_customer(ctx)?;
        let id = parse_id(&id, "subscription")?;
        let store = ctx.data::<Arc<dyn ReportStore>>()?;
        if store
            .delete_subscription(id, Some(who.customer_id))
            .await
            .map_err(|e| store_error(&e))?
        {
            Ok(true)
        } else {
            Err(coded_error(codes::NOT_FOUND, "no such subscription"))
        }
    }

    /// Ends a subscription through the signed link of its mails (no sign-in: a mail client
    /// may post to it on the reader's behalf). `true` also when it was already gone;
    /// `FORBIDDEN` for a link that was not signed by this portal.
    #[graphql(guard = "PublicGuard")]
    async fn unsubscribe_by_link(
        &self,
        ctx: &Context<'_>,
        id: ID,
        signature: String,
    ) -> async_graphql::Result<bool> {
        let scheduler = ctx.data::<Arc<Scheduler>>()?;
        let id = id.parse::<i64>().unwrap_or(-1);
        if id < 0 || !scheduler.keys().verify(id, &signature) {
            return Err(coded_error(
                codes::FORBIDDEN,
                "this unsubscribe link is not valid",
            ));
        }
        let store = ctx.data::<Arc<dyn ReportStore>>()?;
        let removed = store
            .delete_subscription(id, None)
            .await
            .map_err(|e| store_error(&e))?;
        tracing::info!(subscription = id, removed, "unsubscribed by mail link");
        Ok(true)
    }

    /// Pauses or resumes a subscription: a customer their own, an admin anyone's.
    async fn set_report_paused(
        &self,
        ctx: &Context<'_>,
        id: ID,
        paused: bool,
    ) -> async_graphql::Result<ReportSubscriptionNode> {
        let (owner, by) = match viewer(ctx) {
            Viewer::Admin(a) => (None, a.username.clone()),
            Viewer::Customer(_) => {
                let who = require_customer(ctx)?;
                (Some(who.customer_id), who.email.clone())
            }
            Viewer::Token(_) => {
                return Err(coded_error(
                    Denied::Forbidden.code(),
                    "not allowed for this account",
                ));
            }
            Viewer::Anonymous => {
                return Err(coded_error(Denied::Unauthenticated.code(), "sign in first"));
            }
        };
        let id = parse_id(&id, "subscription")?;
        let store = ctx.data::<Arc<dyn ReportStore>>()?;
        if !store
            .set_subscription_paused(
                id,
                owner,
                paused,
                Some(&crate::store::fits::REPORT_PAUSED_BY.cut(&by)),
            )
            .await
            .map_err(|e| store_error(&e))?
        {
            return Err(coded_error(codes::NOT_FOUND, "no such subscription"));
        }
        let sub = store
            .subscription(id)
            .await
            .map_err(|e| store_error(&e))?
            .ok_or_else(|| coded_error(codes::NOT_FOUND, "no such subscription"))?;
        Ok(nodes(ctx, vec![sub]).await?.remove(0))
    }
}
