//! `/admin/outbox`: in demo mode mail is written to `DATA_DIR/outbox` instead of being
//! sent; admins list and read it here, through the schema's `outbox` fields.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use maud::{Markup, html};

use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec;
use crate::web::extractors::CurrentAdmin;
use crate::web::layout::{self, PageCtx};
use crate::web::ops::{Outbox, OutboxMessage, PanelCounts, outbox, outbox_message, panel_counts};

/// Messages per page of the list.
const PER_PAGE: i64 = 50;

#[derive(serde::Deserialize)]
pub struct ListQuery {
    /// The last message of the previous page.
    after: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Query(q): Query<ListQuery>,
) -> Result<Markup, AppError> {
    let enabled =
        exec::run::<PanelCounts>(&state.page_schema, &ctx.viewer, panel_counts::Variables)
            .await?
            .outbox_enabled;
    if !enabled {
        return Ok(layout::page(
            &ctx,
            "Outbox",
            html! { h1 { "Outbox" } p { "Mail is sent over SMTP; there is no outbox." } },
        ));
    }
    let vars = outbox::Variables {
        first: PER_PAGE + 1,
        after: q.after.clone(),
    };
    let mut entries = exec::run::<Outbox>(&state.page_schema, &ctx.viewer, vars)
        .await?
        .outbox;
    let more = entries.len() > PER_PAGE as usize;
    entries.truncate(PER_PAGE as usize);
    let older = more
        .then(|| entries.last().map(|e| e.file.clone()))
        .flatten();
    Ok(layout::page(
        &ctx,
        "Outbox",
        html! {
            h1 { "Outbox" }
            p class="muted" { "Demo mode: emails are kept here instead of being sent." }
            div class="table-wrap admin-table-wrap" {
                table class="admin-table" {
                    thead { tr { th { "Written" } th { "To" } th { "Subject" } } }
                    tbody {
                        @for e in &entries {
                            tr {
                                td class="nowrap" { (ctx.when(&e.written.0)) }
                                td { (e.to) }
                                td { a href=(format!("/admin/outbox/{}", e.file)) { (e.subject) } }
                            }
                        }
                    }
                }
            }
            @if entries.is_empty() { p { "No mail yet." } }
            nav class="pager" aria-label="Outbox pages" {
                @if q.after.is_some() { a href="/admin/outbox" { "← Newest" } " " }
                @if let Some(file) = &older {
                    a href=(format!("/admin/outbox?after={file}")) { "Older →" }
                }
            }
        },
    ))
}

pub async fn show(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Path(file): Path<String>,
) -> Result<Markup, AppError> {
    let vars = outbox_message::Variables { file };
    let message = exec::run::<OutboxMessage>(&state.page_schema, &ctx.viewer, vars)
        .await?
        .outbox_message
        .ok_or(AppError::NotFound)?;
    Ok(layout::page(
        &ctx,
        "Message",
        html! {
            p { a href="/admin/outbox" { "← Outbox" } }
            section class="card" {
                h1 class="h3" { "Message" }
                h2 class="h3" { "Plain text" }
                pre class="mail-text" tabindex="0" role="region" aria-label="Text of the mail" { (message.text) }
                details {
                    summary { "Raw message" }
                    pre class="mail-raw" tabindex="0" role="region" aria-label="The mail as sent" { (message.raw) }
                }
            }
        },
    ))
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/outbox", get(list))
        .route("/admin/outbox/{file}", get(show))
}
