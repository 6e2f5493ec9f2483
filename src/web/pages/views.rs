//! `/inventory/views`: the account's saved views (open, rename, delete) and its scheduled
//! mails (a report of a view or of the whole inventory, daily or weekly, XLSX or CSV; the
//! daily alert), paused, resumed or ended here. Saving the current view is a small form
//! on the inventory page that posts here. Every read and write runs the schema's
//! operations.

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::error::AppError;
use crate::inventory::View;
use crate::reports::schedule::WEEKDAY_NAMES;
use crate::state::AppState;
use crate::web::exec::{self, FieldErrors};
use crate::web::extractors::CurrentCustomer;
use crate::web::layout::{self, Flash, PageCtx, redirect_with_flash};
use crate::web::ops::{
    DeleteSavedView, RenameSavedView, SaveView, SetReportPaused, SubscribeReport,
    UnsubscribeReport, ViewsAndReports, delete_saved_view, rename_saved_view, save_view,
    set_report_paused, subscribe_report, unsubscribe_report, views_and_reports,
};

type Sub = views_and_reports::SubscriptionFields;
type SavedViewRow = views_and_reports::ViewsAndReportsSavedViews;

#[derive(Deserialize, Default)]
pub struct SaveForm {
    #[serde(default)]
    name: String,
    /// The view's URL parameters.
    #[serde(default)]
    query: String,
}

#[derive(Deserialize, Default)]
pub struct SubscribeForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    view_id: String,
    #[serde(default)]
    frequency: String,
    #[serde(default)]
    weekday: String,
    #[serde(default)]
    hour: String,
    #[serde(default)]
    format: String,
}

#[derive(Deserialize, Default)]
pub struct PauseForm {
    #[serde(default)]
    paused: String,
}

/// "Daily at 07:00", "Mondays at 07:00".
pub fn schedule_text(frequency: &str, weekday: Option<i64>, hour: i64) -> String {
    match (frequency, weekday) {
        ("WEEKLY", Some(w)) => format!(
            "{}s at {hour:02}:00",
            WEEKDAY_NAMES.get(w as usize).copied().unwrap_or("?")
        ),
        _ => format!("Daily at {hour:02}:00"),
    }
}

fn subscription_rows(ctx: &PageCtx, subs: &[Sub]) -> Markup {
    html! {
        @for s in subs {
            @let kind = format!("{:?}", s.kind);
            @let freq = format!("{:?}", s.frequency);
            tr {
                td data-label="Mail" {
                    @if kind == "ALERT" { "Daily alert" } @else {
                        "Report: " (s.view_name.clone().unwrap_or_else(|| "whole inventory".to_owned()))
                    }
                }
                td data-label="When" { (schedule_text(&freq, s.weekday, s.hour)) " " span class="muted small" { (ctx.zone.abbreviation(s.next_run_at.0)) } }
                td data-label="Format" { @if kind == "ALERT" { "—" } @else { (format!("{:?}", s.format)) } }
                td data-label="Status" {
                    @if s.paused { span class="pill" { "Paused" } @if let Some(by) = &s.paused_by { " " span class="muted small" { "by " (by) } } }
                    @else {
                        @match s.last_status.as_deref() {
                            Some("failed") => { span class="pill pill-bad" title=(s.last_error.clone().unwrap_or_default()) { "Last send failed" } }
                            Some("retrying") => { span class="pill pill-info" { "Retrying" } }
                            _ => { span class="pill pill-ok" { "Active" } }
                        }
                    }
                    " " span class="muted small" { "Next: " (crate::domain::wall_clock(&ctx.zone, &s.next_run_at.0, false)) }
                }
                td data-label="Sent" { (s.sent_count) }
                td class="actions" {
                    form method="post" action=(format!("/inventory/reports/{}/pause", s.id)) class="inline-form" {
                        (layout::csrf_field(ctx))
                        input type="hidden" name="paused" value=(if s.paused { "0" } else { "1" });
                        button type="submit" class="btn btn-small" { @if s.paused { "Resume" } @else { "Pause" } }
                    }
                    form method="post" action=(format!("/inventory/reports/{}/delete", s.id)) class="inline-form" {
                        (layout::csrf_field(ctx))
                        button type="submit" class="btn btn-small btn-ghost" { "Unsubscribe" }
                    }
                }
            }
        }
    }
}

fn hour_options(selected: i64) -> Markup {
    html! { @for h in 0..24i64 { option value=(h) selected[h == selected] { (format!("{h:02}:00")) } } }
}

fn page(ctx: &PageCtx, views: &[SavedViewRow], subs: &[Sub], errors: &FieldErrors) -> Markup {
    layout::page(
        ctx,
        "Saved views & reports",
        html! {
            section class="tools-page" {
                div class="page-head" {
                    h1 { "Saved views & reports" }
                    p class="muted" { "Views you saved from the inventory page, and the mails the portal sends you on a schedule. Times are " (ctx.zone.name()) "." }
                }
                @if let Some(e) = errors.values().next() { div class="alert alert-error" role="alert" { (e) } }
                div class="card" {
                    h2 { "Saved views" }
                    @if views.is_empty() {
                        p class="muted" { "None yet. On the " a href="/inventory" { "inventory page" } ", search, filter and sort, then choose " strong { "Save view" } "." }
                    } @else {
                        ul class="view-list" {
                            @for v in views {
                                li {
                                    a class="view-name" href=(v.url) { (v.name) }
                                    span class="muted small" { (describe(&v.query)) }
                                    form method="post" action=(format!("/inventory/views/{}/rename", v.id)) class="inline-form" {
                                        (layout::csrf_field(ctx))
                                        label class="sr-only" for=(format!("rename-{}", v.id)) { "New name for " (v.name) }
                                        input id=(format!("rename-{}", v.id)) name="name" value=(v.name) maxlength="60" required;
                                        button type="submit" class="btn btn-small" { "Rename" }
                                    }
                                    form method="post" action=(format!("/inventory/views/{}/delete", v.id)) class="inline-form" {
                                        (layout::csrf_field(ctx))
                                        button type="submit" class="btn btn-small btn-ghost" aria-label=(format!("Delete {}", v.name)) { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
                div class="card" {
                    h2 { "Scheduled mails" }
                    @if subs.is_empty() { p class="muted" { "No scheduled mails." } } @else {
                        div class="table-wrap plain" {
                            table class="inv-table" {
                                thead { tr { th scope="col" { "Mail" } th scope="col" { "When" } th scope="col" { "Format" } th scope="col" { "Status" } th scope="col" { "Sent" } th scope="col" { span class="sr-only" { "Actions" } } } }
                                tbody { (subscription_rows(ctx, subs)) }
                            }
                        }
                    }
                    h3 { "Email me a report" }
                    form method="post" action="/inventory/reports" class="inline-fields" {
                        (layout::csrf_field(ctx))
                        input type="hidden" name="kind" value="report";
                        div class="field" {
                            label for="view_id" { "View" }
                            select id="view_id" name="view_id" {
                                option value="" { "Whole inventory" }
                                @for v in views { option value=(v.id) { (v.name) } }
                            }
                        }
                        div class="field" {
                            label for="frequency" { "How often" }
                            select id="frequency" name="frequency" { option value="daily" { "Daily" } option value="weekly" { "Weekly" } }
                        }
                        div class="field" {
                            label for="weekday" { "Day (weekly)" }
                            select id="weekday" name="weekday" { @for (i, d) in WEEKDAY_NAMES.iter().enumerate() { option value=(i) { (d) } } }
                        }
                        div class="field" {
                            label for="hour" { "Time" }
                            select id="hour" name="hour" { (hour_options(7)) }
                        }
                        div class="field" {
                            label for="format" { "File" }
                            select id="format" name="format" { option value="xlsx" { "Excel (XLSX)" } option value="csv" { "CSV" } }
                        }
                        button type="submit" class="btn btn-primary" { "Subscribe" }
                    }
                    h3 { "Daily alert" }
                    p class="muted small" { "Sent only on days when a lot is expired or expires within 30 days, or a part is below its " a href="/inventory/minimums" { "minimum" } "." }
                    form method="post" action="/inventory/reports" class="inline-fields" {
                        (layout::csrf_field(ctx))
                        input type="hidden" name="kind" value="alert";
                        input type="hidden" name="frequency" value="daily";
                        div class="field" {
                            label for="alert-hour" { "Time" }
                            select id="alert-hour" name="hour" { (hour_options(7)) }
                        }
                        button type="submit" class="btn" { "Subscribe to the alert" }
                    }
                }
            }
        },
    )
}

/// A view's parameters in words: "search “gift” · Part AB-1 · sorted by onHandQty".
pub fn describe(query: &str) -> String {
    let v = View::from_query(query);
    let mut parts = Vec::new();
    if !v.q.is_empty() {
        parts.push(format!("search “{}”", v.q));
    }
    for (label, val) in [("Part", &v.part), ("Bin", &v.bin), ("Status", &v.status)] {
        if !val.is_empty() {
            parts.push(format!("{label} {val}"));
        }
    }
    if let Some(w) = v.expiry_window() {
        parts.push(w.label().to_lowercase());
    }
    if v.below == "1" {
        parts.push("below minimum".into());
    }
    if !v.sort.is_empty() {
        parts.push(format!("sorted by {} {}", v.sort, v.dir));
    }
    if parts.is_empty() {
        "everything".into()
    } else {
        parts.join(" · ")
    }
}

async fn load(state: &AppState, ctx: &PageCtx) -> Result<(Vec<SavedViewRow>, Vec<Sub>), AppError> {
    let data = exec::run::<ViewsAndReports>(
        &state.page_schema,
        &ctx.viewer,
        views_and_reports::Variables {},
    )
    .await?;
    Ok((data.saved_views, data.report_subscriptions))
}

pub async fn show(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    let (views, subs) = load(&state, &ctx).await?;
    Ok(page(&ctx, &views, &subs, &FieldErrors::new()).into_response())
}

async fn with_errors(
    state: &AppState,
    ctx: &PageCtx,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let (views, subs) = load(state, ctx).await?;
    Ok((
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        page(ctx, &views, &subs, &errors),
    )
        .into_response())
}

/// Saves the view the inventory page shows (its parameters) under a name.
pub async fn save(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    session: Session,
    Form(form): Form<SaveForm>,
) -> Result<Response, AppError> {
    let vars = save_view::Variables {
        name: form.name.clone(),
        query: form.query.clone(),
    };
    match exec::run_form::<SaveView>(&state.page_schema, &ctx.viewer, vars).await? {
        Ok(saved) => Ok(redirect_with_flash(
            &session,
            &saved.save_view.url,
            Flash::success(format!("Saved the view “{}”.", form.name.trim())),
        )
        .await),
        Err(errors) => {
            let back = View::from_query(&form.query).url("/inventory");
            let message = errors.into_values().collect::<Vec<_>>().join(" ");
            Ok(redirect_with_flash(&session, &back, Flash::error(message)).await)
        }
    }
}

pub async fn rename(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<SaveForm>,
) -> Result<Response, AppError> {
    let vars = rename_saved_view::Variables {
        id,
        name: form.name.clone(),
    };
    match exec::run_form::<RenameSavedView>(&state.page_schema, &ctx.viewer, vars).await? {
        Ok(_) => Ok(redirect_with_flash(
            &session,
            "/inventory/views",
            Flash::success("View renamed."),
        )
        .await),
        Err(errors) => with_errors(&state, &ctx, errors).await,
    }
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    exec::run::<DeleteSavedView>(
        &state.page_schema,
        &ctx.viewer,
        delete_saved_view::Variables { id },
    )
    .await?;
    Ok(redirect_with_flash(
        &session,
        "/inventory/views",
        Flash::success("View deleted, with any reports of it."),
    )
    .await)
}

pub async fn subscribe(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    session: Session,
    Form(form): Form<SubscribeForm>,
) -> Result<Response, AppError> {
    use subscribe_report::{ReportFormat, ReportFrequency, ReportKind, SubscribeReportInput};
    let Ok(hour) = form.hour.trim().parse::<i64>() else {
        return with_errors(
            &state,
            &ctx,
            FieldErrors::from([("hour".to_owned(), "Choose a time.".to_owned())]),
        )
        .await;
    };
    let weekly = form.frequency == "weekly";
    let input = SubscribeReportInput {
        view_id: (!form.view_id.is_empty()).then(|| form.view_id.clone()),
        kind: if form.kind == "alert" {
            ReportKind::ALERT
        } else {
            ReportKind::REPORT
        },
        frequency: if weekly {
            ReportFrequency::WEEKLY
        } else {
            ReportFrequency::DAILY
        },
        weekday: if weekly {
            form.weekday.trim().parse::<i64>().ok()
        } else {
            None
        },
        hour,
        format: if form.format == "csv" {
            ReportFormat::CSV
        } else {
            ReportFormat::XLSX
        },
    };
    let vars = subscribe_report::Variables { input };
    match exec::run_form::<SubscribeReport>(&state.page_schema, &ctx.viewer, vars).await? {
        Ok(_) => Ok(redirect_with_flash(
            &session,
            "/inventory/views",
            Flash::success(if form.kind == "alert" {
                "Subscribed to the daily alert."
            } else {
                "Subscribed: the report will arrive at the time you chose."
            }),
        )
        .await),
        Err(errors) => with_errors(&state, &ctx, errors).await,
    }
}

pub async fn unsubscribe(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    exec::run::<UnsubscribeReport>(
        &state.page_schema,
        &ctx.viewer,
        unsubscribe_report::Variables { id },
    )
    .await?;
    Ok(redirect_with_flash(
        &session,
        "/inventory/views",
        Flash::success("Unsubscribed."),
    )
    .await)
}

pub async fn pause(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    session: Session,
    Path(id): Path<String>,
    Form(form): Form<PauseForm>,
) -> Result<Response, AppError> {
    set_paused(&state, &ctx, &session, id, &form, "/inventory/views").await
}

/// Pauses or resumes subscription `id` as the form says (the schema decides whose: a
/// customer their own, an admin anyone's), then back to `back` with a message. The
/// customer's page and the admins' page both post here.
pub async fn set_paused(
    state: &AppState,
    ctx: &PageCtx,
    session: &Session,
    id: String,
    form: &PauseForm,
    back: &str,
) -> Result<Response, AppError> {
    let paused = form.paused == "1";
    exec::run::<SetReportPaused>(
        &state.page_schema,
        &ctx.viewer,
        set_report_paused::Variables { id, paused },
    )
    .await?;
    Ok(redirect_with_flash(
        session,
        back,
        Flash::success(if paused {
            "Report paused."
        } else {
            "Report resumed."
        }),
    )
    .await)
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory/views", get(show).post(save))
        .route("/inventory/views/{id}/rename", post(rename))
        .route("/inventory/views/{id}/delete", post(delete))
        .route("/inventory/reports", post(subscribe))
        .route("/inventory/reports/{id}/delete", post(unsubscribe))
        .route("/inventory/reports/{id}/pause", post(pause))
}
