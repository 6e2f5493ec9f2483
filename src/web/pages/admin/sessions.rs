//! `/admin/sessions`: customers signed in now, refreshed by htmx every few seconds, with a
//! Kick button that ends a session (the customer is signed out on their next request).

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::when;
use crate::domain::{Zone, describe_browser};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec;
use crate::web::extractors::CurrentAdmin;
use crate::web::layout::{self, Flash, PageCtx};
use crate::web::ops::{ActiveSessions, KickSession, active_sessions, kick_session};

/// How often the table refreshes itself.
pub const REFRESH_SECONDS: u32 = 5;

/// A signed-in customer, as `ActiveSessions` returns it.
type Row = active_sessions::ActiveSessionsActiveSessions;

fn table(rows: &[Row], zone: &Zone) -> Markup {
    html! {
        div id="sessions-table" hx-get="/admin/sessions/table" hx-trigger=(format!("every {REFRESH_SECONDS}s")) hx-swap="outerHTML" {
            p class="muted" { (rows.len()) " active session" @if rows.len() != 1 { "s" } " · refreshes every " (REFRESH_SECONDS) " s" }
            div class="table-wrap admin-table-wrap" {
                table class="admin-table" {
                    thead { tr { th { "Name" } th { "Email" } th { "IP address" } th { "User agent" } th { "Signed in" } th { "Last seen" } th { span class="sr-only" { "Actions" } } } }
                    tbody {
                        @if rows.is_empty() {
                            tr { td colspan="7" class="muted" { "No customer is signed in right now." } }
                        }
                        @for r in rows {
                            @let (name, email) = match &r.customer {
                                Some(c) => (format!("{} {}", c.first_name, c.last_name.clone().unwrap_or_default()).trim().to_owned(), c.email.clone()),
                                None => (String::new(), String::new()),
                            };
                            tr {
                                td { (name) }
                                td { (email) }
                                td class="mono" { (r.ip_address.clone().unwrap_or_default()) }
                                td class="ua" title=(r.user_agent.clone().unwrap_or_default()) { (describe_browser(r.user_agent.as_deref())) }
                                td class="nowrap" { (when(zone, &r.created_at.0)) }
                                td class="nowrap" { (when(zone, &r.last_seen.0)) }
                                td {
                                    button type="button" class="btn btn-small btn-danger" hx-post="/admin/sessions/kick"
                                        hx-vals=(json!({ "session_id": r.session_id }).to_string())
                                        hx-confirm=(format!("Sign {email} out now?"))
                                        hx-target="#sessions-table" hx-swap="outerHTML" { "Kick" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn load(state: &AppState, ctx: &PageCtx) -> Result<Vec<Row>, AppError> {
    Ok(
        exec::run::<ActiveSessions>(&state.page_schema, &ctx.viewer, active_sessions::Variables)
            .await?
            .active_sessions,
    )
}

pub async fn show(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    let rows = load(&state, &ctx).await?;
    Ok(layout::page(
        &ctx,
        "Active sessions",
        html! { h1 { "Active sessions" } (table(&rows, &ctx.zone)) },
    ))
}

pub async fn table_fragment(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    Ok(table(&load(&state, &ctx).await?, &ctx.zone))
}

#[derive(Deserialize)]
pub struct KickForm {
    session_id: String,
}

pub async fn kick(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Form(form): Form<KickForm>,
) -> Result<Response, AppError> {
    let vars = kick_session::Variables {
        session_id: form.session_id,
    };
    let kicked = exec::run::<KickSession>(&state.page_schema, &ctx.viewer, vars)
        .await?
        .kick_session;
    let flash = if kicked {
        Flash::success("Session ended.")
    } else {
        Flash::info("That session had already ended.")
    };
    let rows = load(&state, &ctx).await?;
    Ok(html! {
        (table(&rows, &ctx.zone))
        div id="flashes" hx-swap-oob="true" { (layout::flash_list(&[flash])) }
    }
    .into_response())
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/sessions", get(show))
        .route("/admin/sessions/table", get(table_fragment))
        .route("/admin/sessions/kick", post(kick))
}
