//! `/admin/reports`: every customer's scheduled mails, their last run (failures with the
//! reason), and a pause / resume switch, through the schema's report fields.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;
use tower_sessions::Session;

use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec;
use crate::web::extractors::CurrentAdmin;
use crate::web::layout::{self, PageCtx};
use crate::web::ops::{AllReportSubscriptions, all_report_subscriptions};
use crate::web::pages::views::{PauseForm, schedule_text, set_paused};

#[derive(Deserialize, Default)]
pub struct ReportsQuery {
    /// Only this customer's subscriptions.
    #[serde(default)]
    customer: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Query(q): Query<ReportsQuery>,
) -> Result<Response, AppError> {
    let customer = q
        .customer
        .filter(|c| !c.is_empty() && c.len() <= 20 && c.bytes().all(|b| b.is_ascii_digit()));
    let subs = exec::run::<AllReportSubscriptions>(
        &state.page_schema,
        &ctx.viewer,
        all_report_subscriptions::Variables {
            customer: customer.clone(),
        },
    )
    .await?
    .all_report_subscriptions;
    let failed = subs
        .iter()
        .filter(|s| s.last_status.as_deref() == Some("failed"))
        .count();
    Ok(layout::page(
        &ctx,
        "Reports",
        html! {
            h1 { "Scheduled reports" }
            @if customer.is_some() {
                p {
                    "Showing the scheduled mails of "
                    strong { (subs.first().map(|s| s.customer_email.as_str()).unwrap_or("this customer")) }
                    ". " a href="/admin/reports" { "Show every customer's" }
                }
            }
            p class="muted" { (subs.len()) " subscriptions · " (failed) " whose last send failed. Times are " (ctx.zone.name()) "." }
            @if subs.is_empty() { p { "No customer has subscribed to a report yet." } } @else {
                div class="table-wrap admin-table-wrap" {
                    table class="admin-table" {
                        thead { tr {
                            th scope="col" { "Customer" } th scope="col" { "Mail" } th scope="col" { "When" }
                            th scope="col" { "Last run" } th scope="col" { "Sent" } th scope="col" { "Next" } th scope="col" { span class="sr-only" { "Actions" } }
                        } }
                        tbody {
                            @for s in &subs {
                                @let kind = format!("{:?}", s.kind);
                                tr {
                                    td { a href=(format!("/admin/reports?customer={}", s.customer_id)) title="Only this customer's mails" { (s.customer_email) } }
                                    td {
                                        @if kind == "ALERT" { "Daily alert" } @else {
                                            "Report: " (s.view_name.clone().unwrap_or_else(|| "whole inventory".to_owned())) " (" (format!("{:?}", s.format)) ")"
                                        }
                                    }
                                    td { (schedule_text(&format!("{:?}", s.frequency), s.weekday, s.hour)) }
                                    td {
                                        @if s.paused { span class="pill" { "Paused" } @if let Some(by) = &s.paused_by { " by " (by) } }
                                        @else {
                                            @match s.last_status.as_deref() {
                                                Some("failed") => { span class="pill pill-bad" { "Failed" } " " span class="small" { (s.last_error.clone().unwrap_or_default()) } }
                                                Some("retrying") => { span class="pill pill-info" { "Retrying" } " " span class="small" { (s.last_error.clone().unwrap_or_default()) } }
                                                Some(st) => { (st) }
                                                None => { span class="muted" { "Not run yet" } }
                                            }
                                        }
                                        @if let Some(at) = &s.last_sent_at { br; span class="muted small" { "Last sent " (crate::domain::wall_clock(&ctx.zone, &at.0, false)) } }
                                    }
                                    td { (s.sent_count) }
                                    td { (crate::domain::wall_clock(&ctx.zone, &s.next_run_at.0, false)) }
                                    td {
                                        form method="post" action=(format!("/admin/reports/{}/pause", s.id)) class="inline-form" {
                                            (layout::csrf_field(&ctx))
                                            input type="hidden" name="paused" value=(if s.paused { "0" } else { "1" });
                                            button type="submit" class="btn btn-small" { @if s.paused { "Resume" } @else { "Pause" } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response())
}

pub async fn pause(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<PauseForm>,
) -> Result<Response, AppError> {
    set_paused(&state, &ctx, &session, id, &form, "/admin/reports").await
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/reports", get(show))
        .route("/admin/reports/{id}/pause", post(pause))
}
