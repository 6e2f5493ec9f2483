//! `/admin/sessions`: customers signed in now, refreshed by htmx every few seconds, with a
//! Kick button that ends a session (the customer is signed out on their next request).

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::when_str;
use crate::error::AppError;
use crate::graphql::exec;
use crate::state::AppState;
use crate::web::extractors::CurrentAdmin;
use crate::web::layout::{self, Flash, PageCtx};

const QUERY: &str = "{ activeSessions { sessionId ipAddress userAgent lastSeen createdAt customer { id email firstName lastName } } }";
/// How often the table refreshes itself.
pub const REFRESH_SECONDS: u32 = 5;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    active_sessions: Vec<Row>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    session_id: String,
    ip_address: Option<String>,
    user_agent: Option<String>,
    last_seen: String,
    created_at: String,
    customer: Option<Who>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Who {
    email: String,
    first_name: String,
    last_name: Option<String>,
}

fn table(rows: &[Row]) -> Markup {
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
                                td class="ua" title=(r.user_agent.clone().unwrap_or_default()) { (r.user_agent.clone().unwrap_or_default().chars().take(60).collect::<String>()) }
                                td class="nowrap" { (when_str(&r.created_at)) }
                                td class="nowrap" { (when_str(&r.last_seen)) }
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
    let data: Data = exec::execute(&state.schema, &ctx.viewer, QUERY, json!({})).await?;
    Ok(data.active_sessions)
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
        html! { h1 { "Active sessions" } (table(&rows)) },
    ))
}

pub async fn table_fragment(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    Ok(table(&load(&state, &ctx).await?))
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
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Kicked {
        kick_session: bool,
    }
    let kicked: Kicked = exec::execute(
        &state.schema,
        &ctx.viewer,
        "mutation($id: String!) { kickSession(sessionId: $id) }",
        json!({ "id": form.session_id }),
    )
    .await?;
    let flash = if kicked.kick_session {
        Flash::success("Session ended.")
    } else {
        Flash::info("That session had already ended.")
    };
    let rows = load(&state, &ctx).await?;
    Ok(html! {
        (table(&rows))
        div id="flashes" hx-swap-oob="true" { (layout::flash_list(&[flash])) }
    }
    .into_response())
}
