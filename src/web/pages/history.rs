//! `/inventory/history`: how the scope's stock (or one part's) moved over 30, 90 or 365
//! days, as a chart, a table and a CSV; with the part's days of cover and run-out dates.
//! Within the account's scope only, exactly like the grid (the same GraphQL rule).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use time::{Date, Duration};

use crate::domain::{format_qty, format_us_date};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::DayFigures;
use crate::web::assets;
use crate::web::exec;
use crate::web::extractors::CurrentCustomer;
use crate::web::layout::{self, PageCtx};
use crate::web::ops::{
    Date as OpDate, HistoryTotals, PartHistory, PartOutlook, history_totals, part_history,
    part_outlook,
};

/// The ranges offered, days.
pub const RANGES: [i64; 3] = [30, 90, 365];
/// Pages of 500 days read at most for one part (several customers × a year fit).
const MAX_PAGES: usize = 20;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HistoryParams {
    #[serde(default)]
    pub part: String,
    #[serde(default)]
    pub days: String,
}

impl HistoryParams {
    fn days(&self) -> i64 {
        self.days
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| RANGES.contains(d))
            .unwrap_or(90)
    }

    fn part(&self) -> Option<&str> {
        Some(self.part.trim()).filter(|p| !p.is_empty() && p.chars().count() <= 100)
    }

    fn url(&self, path: &str, days: i64) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if let Some(p) = self.part() {
            s.append_pair("part", p);
        }
        s.append_pair("days", &days.to_string());
        format!("{path}?{}", s.finish())
    }
}

/// One calendar day of the range: `None` figures where nothing was recorded (a gap).
#[derive(Debug, Clone, PartialEq)]
pub struct DayLine {
    pub day: Date,
    pub on_hand: Option<f64>,
    /// Against the day before, when both were recorded.
    pub net_change: Option<f64>,
    pub lots: Option<i64>,
    pub expired: Option<f64>,
    pub expiring: Option<f64>,
    pub received: Option<f64>,
}

/// Every day from `from` to `to`, with what was recorded on it.
pub fn day_lines(from: Date, to: Date, recorded: &BTreeMap<Date, DayFigures>) -> Vec<DayLine> {
    let mut out = Vec::new();
    let mut day = from;
    let mut before: Option<f64> = None;
    while day <= to {
        let r = recorded.get(&day);
        let on_hand = r.map(|r| r.on_hand);
        out.push(DayLine {
            day,
            on_hand,
            net_change: match (before, on_hand) {
                (Some(b), Some(n)) => Some(n - b),
                _ => None,
            },
            lots: r.map(|r| r.lots),
            expired: r.map(|r| r.expired_qty),
            expiring: r.map(|r| r.expiring_qty),
            received: r.map(|r| r.received_qty),
        });
        before = on_hand;
        day += Duration::days(1);
    }
    out
}

/// What the page shows: the days, whether any was made up for the demo, and the part's
/// outlook.
struct Shown {
    lines: Vec<DayLine>,
    demo: bool,
    outlook: Option<part_outlook::PartOutlookInventoryRows>,
}

async fn load(state: &AppState, ctx: &PageCtx, params: &HistoryParams) -> Result<Shown, AppError> {
    let today = crate::web::pages::inventory::today(state);
    let from = today - Duration::days(params.days() - 1);
    let mut recorded: BTreeMap<Date, DayFigures> = BTreeMap::new();
    let mut demo = false;
    let mut outlook = None;
    let vars = history_totals::Variables {
        from: Some(OpDate(from)),
        to: Some(OpDate(today)),
    };
    let totals = exec::run::<HistoryTotals>(&state.page_schema, &ctx.viewer, vars)
        .await?
        .inventory_history_totals;
    match params.part() {
        None => {
            for t in totals {
                demo |= t.demo;
                recorded.insert(
                    t.day.0,
                    DayFigures {
                        on_hand: t.on_hand,
                        lots: t.lots,
                        expired_qty: t.expired_qty,
                        expiring_qty: t.expiring_qty,
                        received_qty: t.received_qty,
                    },
                );
            }
        }
        Some(part) => {
            // A day the scope was recorded without this part: none of it was on hand
            // (zero, not a gap).
            for t in &totals {
                recorded.insert(t.day.0, DayFigures::default());
            }
            let mut after = None;
            for _ in 0..MAX_PAGES {
                let vars = part_history::Variables {
                    part: part.to_owned(),
                    from: Some(OpDate(from)),
                    to: Some(OpDate(today)),
                    after: after.take(),
                };
                let page = exec::run::<PartHistory>(&state.page_schema, &ctx.viewer, vars)
                    .await?
                    .inventory_history;
                // A part of several ERP customers: their days summed.
                for d in page.days {
                    demo |= d.demo;
                    *recorded.entry(d.day.0).or_default() += DayFigures {
                        on_hand: d.on_hand,
                        lots: d.lots,
                        expired_qty: d.expired_qty,
                        expiring_qty: d.expiring_qty,
                        received_qty: d.received_qty,
                    };
                }
                match page.next_cursor {
                    Some(c) => after = Some(c),
                    None => break,
                }
            }
            let vars = part_outlook::Variables {
                part: part.to_owned(),
            };
            outlook = exec::run::<PartOutlook>(&state.page_schema, &ctx.viewer, vars)
                .await?
                .inventory
                .rows
                .into_iter()
                .next();
        }
    }
    Ok(Shown {
        lines: day_lines(from, today, &recorded),
        demo,
        outlook,
    })
}

fn qty(v: Option<f64>) -> String {
    v.map(format_qty).unwrap_or_else(|| "—".to_owned())
}

/// A rate as a person reads it: whole units from 100 up, one decimal below.
fn rate(v: f64) -> String {
    if v.abs() >= 100.0 {
        format_qty(v.round())
    } else {
        format_qty((v * 10.0).round() / 10.0)
    }
}

fn outlook_card(o: &part_outlook::PartOutlookInventoryRows) -> Markup {
    use part_outlook::ForecastStatus as S;
    let f = &o.forecast;
    let date = |d: &Option<OpDate>| d.map(|d| format_us_date(d.0));
    html! {
        section class="card outlook" aria-labelledby="outlook-title" {
            h2 class="h3" id="outlook-title" { (o.part) " " span class="muted" { (o.description) } }
            @match f.status {
                S::FALLING => {
                    dl class="facts" {
                        dt { "Daily use" } dd { (f.daily_use.map(rate).unwrap_or_default()) " " (o.unit) " a day" }
                        dt { "Days of cover" } dd { (f.days_of_cover.map(|d| format!("{d:.0}")).unwrap_or_default()) " days" }
                        dt { "Runs out on" } dd { (date(&f.runs_out_on).unwrap_or_default()) }
                        @if let Some(m) = o.minimum_qty {
                            dt { "Below its minimum of " (format_qty(m)) " on" }
                            dd { (date(&f.below_minimum_on).unwrap_or_else(|| "already below".to_owned())) }
                        }
                    }
                }
                S::NOT_FALLING => { p { "Not falling: over the last weeks this part's stock held steady or grew, so it has no run-out date." } }
                _ => { p { "Not enough history yet: a forecast needs at least 7 recorded days (it has " (f.history_days) ")." } }
            }
            p class="muted small" { "From the part's average use a day over the last four weeks, leaving out days a delivery arrived. " a href="/inventory/history#how" { "How this is worked out" } }
        }
    }
}

fn page(params: &HistoryParams, shown: &Shown) -> Markup {
    let days = params.days();
    let title = match params.part() {
        Some(p) => format!("History of {p}"),
        None => "Inventory history".to_owned(),
    };
    // The chart's data travels in data attributes (no inline script under the CSP); a day
    // nobody recorded is null, drawn as a gap.
    let labels: Vec<String> = shown
        .lines
        .iter()
        .map(|l| format!("{:02}/{:02}", u8::from(l.day.month()), l.day.day()))
        .collect();
    let values: Vec<Option<f64>> = shown.lines.iter().map(|l| l.on_hand).collect();
    let recorded = values.iter().filter(|v| v.is_some()).count();
    html! {
        h1 { (title) }
        div class="history-toolbar" {
            nav class="range-tabs" aria-label="Range" {
                @for r in RANGES {
                    a class="btn btn-small" href=(params.url("/inventory/history", r))
                        aria-current=[(r == days).then_some("page")] { (r) " days" }
                }
            }
            form method="get" action="/inventory/history" class="history-part" {
                label for="history-part" { "Part" }
                input id="history-part" name="part" type="text" value=(params.part) maxlength="100" placeholder="Part number";
                input type="hidden" name="days" value=(days);
                button type="submit" class="btn btn-small" { "Show" }
            }
            div class="history-actions" {
                @if params.part().is_some() { a class="btn btn-small" href=(format!("/inventory/history?days={days}")) { "Whole inventory" } }
                a class="btn btn-small" href=(params.url("/inventory/history.csv", days)) download { "Download CSV" }
            }
        }
        @if let Some(o) = &shown.outlook { (outlook_card(o)) }
        @if shown.demo {
            p class="alert alert-info" role="status" { "Demo data: the days before the first real record were made up so there is something to see." }
        }
        section class="card chart-card" {
            h2 class="h3" { "On hand, last " (days) " days" }
            @if recorded == 0 {
                p { "Nothing recorded in this range yet: the portal records the inventory once a day." }
            } @else {
                div class="chart-box" {
                    canvas id="history-chart" role="img"
                        aria-label=(format!("On hand per day over the last {days} days; the table below holds the same numbers"))
                        data-labels=(json!(labels).to_string()) data-values=(json!(values).to_string()) {}
                }
                p class="muted small" { "A break in the line is a day nothing was recorded." }
            }
        }
        section class="card" {
            details open[days <= 30] {
                summary { h2 class="h3 inline" { "The numbers" } }
                div class="table-wrap" tabindex="0" aria-label="History by day" {
                    table class="admin-table history-table" {
                        caption class="sr-only" { "On hand per day; a dash is a day nothing was recorded" }
                        thead { tr { th scope="col" { "Day" } th scope="col" class="num" { "On hand" } th scope="col" class="num" { "Net change" } th scope="col" class="num" { "Lots" } th scope="col" class="num" { "Expired" } th scope="col" class="num" { "Expiring in 30 days" } th scope="col" class="num" { "Received" } } }
                        tbody {
                            @for l in shown.lines.iter().rev() {
                                tr {
                                    th scope="row" class="nowrap" { (format_us_date(l.day)) }
                                    td class="num" { (qty(l.on_hand)) }
                                    td class="num" { @if let Some(c) = l.net_change { (if c > 0.0 { "+" } else { "" }) (format_qty(c)) } @else { "—" } }
                                    td class="num" { (l.lots.map(|n| n.to_string()).unwrap_or_else(|| "—".to_owned())) }
                                    td class="num" { (qty(l.expired)) }
                                    td class="num" { (qty(l.expiring)) }
                                    td class="num" { (qty(l.received)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section class="card" id="how" {
            h2 class="h3" { "How days of cover are worked out" }
            p { "Once a day the portal records what each part has on hand. A part's " strong { "daily use" } " is its average drop from one day to the next over the last four weeks, leaving out days a delivery arrived (a delivery would hide what was used that day). " strong { "Days of cover" } " is what is on hand now divided by the daily use: the part " strong { "runs out" } " that many days from its last record, and falls below its minimum when what is above the minimum is used up. With fewer than 7 usable days the portal says there is not enough history; a part whose stock held steady or grew has no run-out date." }
        }
        p { a href="/inventory" { "Back to the inventory" } }
    }
}

/// `GET /inventory/history`.
pub async fn show(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    Query(params): Query<HistoryParams>,
) -> Result<Markup, AppError> {
    let shown = load(&state, &ctx, &params).await?;
    Ok(layout::page_with_scripts(
        &ctx,
        "Inventory history",
        &[
            assets::url("/assets/vendor/chartjs/chart.umd.min.js"),
            assets::url("/assets/js/history.js"),
        ],
        page(&params, &shown),
    ))
}

/// `GET /inventory/history.csv`: the table's numbers.
pub async fn csv(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    Query(params): Query<HistoryParams>,
) -> Result<Response, AppError> {
    let shown = load(&state, &ctx, &params).await?;
    let mut out = String::from(
        "\u{feff}Day,On Hand,Net Change,Lots,Expired Qty,Expiring Qty (30 days),Received Qty\r\n",
    );
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for l in &shown.lines {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\r\n",
            format_us_date(l.day),
            num(l.on_hand),
            num(l.net_change),
            l.lots.map(|n| n.to_string()).unwrap_or_default(),
            num(l.expired),
            num(l.expiring),
            num(l.received)
        ));
    }
    let name = match params.part() {
        Some(p) => format!(
            "History_{}_{}d.csv",
            p.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .collect::<String>(),
            params.days()
        ),
        None => format!("History_{}d.csv", params.days()),
    };
    let mut resp = out.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory/history", get(show))
        .route("/inventory/history.csv", get(csv))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn every_day_is_a_line_and_a_missed_day_is_a_gap() {
        let mut rec = BTreeMap::new();
        rec.insert(
            date!(2026 - 12 - 01),
            DayFigures {
                on_hand: 10.0,
                lots: 1,
                received_qty: 0.0,
                ..DayFigures::default()
            },
        );
        rec.insert(
            date!(2026 - 12 - 02),
            DayFigures {
                on_hand: 8.0,
                lots: 1,
                received_qty: 0.0,
                ..DayFigures::default()
            },
        );
        rec.insert(
            date!(2026 - 12 - 04),
            DayFigures {
                on_hand: 20.0,
                lots: 2,
                received_qty: 12.0,
                ..DayFigures::default()
            },
        );
        let lines = day_lines(date!(2026 - 12 - 01), date!(2026 - 12 - 04), &rec);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1].net_change, Some(-2.0));
        assert_eq!(lines[2].on_hand, None, "the 3rd was not recorded");
        assert_eq!(lines[3].net_change, None, "no change across a gap");
    }
}
