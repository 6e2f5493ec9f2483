//! `/admin/analytics`: KPIs, a Chart.js line chart of logins per day over 14 days, the
//! most active customers and the latest logins with their IP addresses.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use maud::{Markup, html};
use serde_json::json;

use crate::error::AppError;
use crate::state::AppState;
use crate::web::assets;
use crate::web::exec;
use crate::web::extractors::CurrentAdmin;
use crate::web::layout::{self, PageCtx};
use crate::web::ops::{Analytics, analytics};

pub async fn show(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    let a = exec::run::<Analytics>(&state.page_schema, &ctx.viewer, analytics::Variables)
        .await?
        .analytics;
    // The chart's data travels in data attributes: no inline script under the CSP.
    let labels: Vec<String> = a
        .logins_per_day
        .iter()
        .map(|d| format!("{:02}/{:02}", u8::from(d.date.0.month()), d.date.0.day()))
        .collect();
    let values: Vec<i64> = a.logins_per_day.iter().map(|d| d.count).collect();
    let kpi = |label: &str, value: i64| html! { div class="card kpi" { span class="kpi-value" { (value) } span class="muted" { (label) } } };
    Ok(layout::page_with_scripts(
        &ctx,
        "Analytics",
        &[
            assets::url("/assets/vendor/chartjs/chart.umd.min.js"),
            assets::url("/assets/js/analytics.js"),
        ],
        html! {
            h1 { "Usage analytics" }
            div class="kpi-grid" {
                (kpi("Active customers", a.active_customers))
                (kpi("Logins (last 7 days)", a.logins_last7_days))
                (kpi("Unique logins (last 7 days)", a.unique_logins_last7_days))
                (kpi("Currently active sessions", a.current_sessions))
                (kpi("Reports mailed (last 7 days)", a.reports_sent_last7_days))
            }
            section class="card chart-card" {
                h2 { "Logins per day (last 14 days)" }
                canvas id="logins-chart" height="90" role="img" aria-label="Logins per day over the last 14 days"
                    data-labels=(json!(labels).to_string()) data-values=(json!(values).to_string()) {}
                table class="sr-only" {
                    @for (l, v) in labels.iter().zip(&values) { tr { td { (l) } td { (v) } } }
                }
            }
            div class="two-col" {
                section class="card" {
                    h2 { "Most active customers" }
                    table class="admin-table" {
                        thead { tr { th { "Email" } th class="num" { "Logins" } } }
                        tbody { @for t in &a.most_active_customers { tr { td { (t.email) } td class="num" { (t.login_count) } } } }
                    }
                }
                section class="card" {
                    h2 { "Recent logins" }
                    table class="admin-table" {
                        thead { tr { th { "Time" } th { "Email" } th { "IP address" } } }
                        tbody {
                            @for r in &a.recent_logins {
                                tr { td class="nowrap" { (ctx.when(&r.timestamp.0)) } td { (r.email.clone().unwrap_or_default()) } td class="mono" { (r.ip_address.clone().unwrap_or_default()) } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/analytics", get(show))
}
