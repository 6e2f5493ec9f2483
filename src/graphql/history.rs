//! `inventoryHistory` and `inventoryHistoryTotals`: the daily record of the caller's
//! scope, under the same access rule as `inventory` (a customer's account, a token's ERP
//! names with `inventory:read`, admins any).

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};
use time::{Date, Duration};

use super::cursor::{CursorKey, KeyCursorError};
use super::guards::{coded_error, codes, require_inventory, store_error};
use super::inventory::portal_today;
use crate::auth::access::Holder;
use crate::store::{DayFigures, HistoryStore, PartDay};

/// Days one `inventoryHistoryTotals` may span (two years and a day).
pub const MAX_TOTALS_DAYS: i64 = 731;
/// Days a range defaults to, back from `to`.
const DEFAULT_DAYS: i64 = 30;

#[derive(Default)]
pub struct HistoryQuery;

/// One part of one ERP customer on one day.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "HistoryDay")]
pub struct HistoryDayNode {
    pub customer: String,
    pub part: String,
    pub day: Date,
    pub on_hand: f64,
    /// Lots on hand (a lot in two bins counts once).
    pub lots: i32,
    /// On hand in lots past their expiry date that day.
    pub expired_qty: f64,
    /// On hand in lots expiring within 30 days of that day.
    pub expiring_qty: f64,
    /// On hand in lots received since the day before (a delivery).
    pub received_qty: f64,
    /// Made up for the demo, not recorded.
    pub demo: bool,
}

/// Written through the executor (a history pull is small beside the inventory's).
impl super::streamed::PlainJson for HistoryDayNode {}

/// A page of days, ordered by customer, part and day.
#[derive(Debug, Clone)]
pub struct HistoryDayPage {
    pub days: Vec<HistoryDayNode>,
    pub next_cursor: Option<String>,
}

/// A page of days, ordered by customer, part and day.
#[Object]
impl HistoryDayPage {
    async fn days(&self) -> super::streamed::StreamedList<'_, HistoryDayNode> {
        super::streamed::StreamedList(&self.days)
    }
    /// Pass as `after` for the next page; null on the last page.
    async fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }
}

/// The scope's parts together on one day.
#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryTotal {
    pub day: Date,
    pub on_hand: f64,
    pub lots: i32,
    pub expired_qty: f64,
    pub expiring_qty: f64,
    pub received_qty: f64,
    /// Parts recorded that day.
    pub parts: i32,
    /// Some of the day was made up for the demo.
    pub demo: bool,
}

fn node(p: PartDay) -> HistoryDayNode {
    let f = p.figures;
    HistoryDayNode {
        customer: p.erp_customer_name,
        part: p.part,
        day: p.day,
        on_hand: f.on_hand,
        lots: f.lots as i32,
        expired_qty: f.expired_qty,
        expiring_qty: f.expiring_qty,
        received_qty: f.received_qty,
        demo: p.demo,
    }
}

/// `from`..`to` (defaults: the last 30 days to today), checked.
fn range(
    ctx: &Context<'_>,
    from: Option<Date>,
    to: Option<Date>,
    most: i64,
) -> async_graphql::Result<(Date, Date)> {
    let to = to.unwrap_or_else(|| portal_today(ctx));
    let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS));
    if from > to {
        return Err(coded_error(codes::BAD_USER_INPUT, "from is after to"));
    }
    if (to - from).whole_days() >= most {
        return Err(coded_error(
            codes::BAD_USER_INPUT,
            &format!("at most {most} days at once"),
        ));
    }
    Ok((from, to))
}

/// A cursor's position: (customer, part, day).
fn key_text(p: &PartDay) -> String {
    format!("{}\u{0}{}\u{0}{}", p.erp_customer_name, p.part, p.day)
}

fn parse_key(text: &str) -> Option<(String, String, Date)> {
    let mut it = text.split('\u{0}');
    let (c, p, d) = (it.next()?, it.next()?, it.next()?);
    Some((c.to_owned(), p.to_owned(), crate::store::parse_day(d)?))
}

#[Object]
impl HistoryQuery {
    /// The daily record of one part (or of every part) in the caller's scope, narrowed to
    /// `erpCustomerNames`, from `from` to `to` (both included; default the last 30 days),
    /// ordered by customer, part and day. Days nobody recorded are missing, never made up.
    #[allow(clippy::too_many_arguments)]
    async fn inventory_history(
        &self,
        ctx: &Context<'_>,
        part: Option<String>,
        erp_customer_names: Option<Vec<String>>,
        from: Option<Date>,
        to: Option<Date>,
        #[graphql(desc = "Days per page (default 100; at most 500, or 5,000 with an API token).")]
        first: Option<i32>,
        #[graphql(desc = "`nextCursor` of the previous page.")] after: Option<String>,
    ) -> async_graphql::Result<HistoryDayPage> {
        let grant = require_inventory(ctx, erp_customer_names.as_deref())?;
        let (from, to) = range(ctx, from, to, i64::from(u16::MAX))?;
        let most = crate::inventory::max_page(matches!(grant.holder(), Holder::Tool(_)));
        let first = match first {
            None => crate::inventory::DEFAULT_PAGE,
            Some(n) if n < 1 => {
                return Err(coded_error(
                    codes::BAD_USER_INPUT,
                    "first must be at least 1",
                ));
            }
            Some(n) => (n as usize).min(most),
        };
        let key = ctx.data::<CursorKey>()?;
        let view = format!(
            "history\u{0}{:?}\u{0}{:?}\u{0}{from}\u{0}{to}",
            grant.scope(),
            part
        );
        let after = match after {
            Some(c) => {
                let text = key.open_text(&c, &view).map_err(|e| match e {
                    KeyCursorError::Mismatch => {
                        coded_error(codes::BAD_USER_INPUT, "cursor does not match this query")
                    }
                    _ => coded_error(codes::BAD_USER_INPUT, "invalid cursor"),
                })?;
                Some(
                    parse_key(&text)
                        .ok_or_else(|| coded_error(codes::BAD_USER_INPUT, "invalid cursor"))?,
                )
            }
            None => None,
        };
        let store = ctx.data::<Arc<dyn HistoryStore>>()?;
        let names = grant.scope().names();
        let mut days = store
            .part_history(
                names.as_deref(),
                part.as_deref(),
                from,
                to,
                after.as_ref(),
                first as u32 + 1,
            )
            .await
            .map_err(|e| store_error(&e))?;
        let more = days.len() > first;
        days.truncate(first);
        let next_cursor = more
            .then(|| days.last().map(|d| key.issue_text(&key_text(d), &view)))
            .flatten();
        Ok(HistoryDayPage {
            days: days.into_iter().map(node).collect(),
            next_cursor,
        })
    }

    /// The caller's scope (narrowed to `erpCustomerNames`) summed per day, from `from` to
    /// `to` (both included; default the last 30 days; at most 731 days): what the history
    /// page's chart draws. Days nobody recorded are missing.
    async fn inventory_history_totals(
        &self,
        ctx: &Context<'_>,
        erp_customer_names: Option<Vec<String>>,
        from: Option<Date>,
        to: Option<Date>,
    ) -> async_graphql::Result<Vec<HistoryTotal>> {
        let grant = require_inventory(ctx, erp_customer_names.as_deref())?;
        let (from, to) = range(ctx, from, to, MAX_TOTALS_DAYS)?;
        let store = ctx.data::<Arc<dyn HistoryStore>>()?;
        let names = grant.scope().names();
        let rows = store
            .customer_history(names.as_deref(), from, to)
            .await
            .map_err(|e| store_error(&e))?;
        Ok(sum_by_day(
            rows.into_iter()
                .map(|r| (r.day, r.figures, r.parts, r.demo)),
        ))
    }
}

/// Sums customers' days into the scope's days, in day order.
pub fn sum_by_day(rows: impl Iterator<Item = (Date, DayFigures, i64, bool)>) -> Vec<HistoryTotal> {
    let mut by: std::collections::BTreeMap<Date, (DayFigures, i64, bool)> =
        std::collections::BTreeMap::new();
    for (day, f, parts, demo) in rows {
        let t = by.entry(day).or_default();
        t.0 += f;
        t.1 += parts;
        t.2 |= demo;
    }
    by.into_iter()
        .map(|(day, (f, parts, demo))| HistoryTotal {
            day,
            on_hand: f.on_hand,
            lots: f.lots as i32,
            expired_qty: f.expired_qty,
            expiring_qty: f.expiring_qty,
            received_qty: f.received_qty,
            parts: parts as i32,
            demo,
        })
        .collect()
}
