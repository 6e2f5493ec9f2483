//! `/admin/outbox`: in demo mode mail is written to `DATA_DIR/outbox` instead of being
//! sent; admins can list and read it here.

use axum::extract::{Path, State};
use maud::{Markup, html};

use super::when;
use crate::error::AppError;
use crate::mail::{list_outbox, plain_text_part, read_outbox};
use crate::state::AppState;
use crate::web::extractors::CurrentAdmin;
use crate::web::layout::{self, PageCtx};

pub async fn list(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    let Some(dir) = state.mailer.outbox() else {
        return Ok(layout::page(
            &ctx,
            "Outbox",
            html! { h1 { "Outbox" } p { "Mail is sent over SMTP; there is no outbox." } },
        ));
    };
    let entries = list_outbox(dir).map_err(|e| AppError::Internal(e.into()))?;
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
                                td class="nowrap" { (when(&e.modified)) }
                                td { (e.to) }
                                td { a href=(format!("/admin/outbox/{}", e.file)) { (e.subject) } }
                            }
                        }
                    }
                }
            }
            @if entries.is_empty() { p { "No mail yet." } }
        },
    ))
}

pub async fn show(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Path(file): Path<String>,
) -> Result<Markup, AppError> {
    let dir = state.mailer.outbox().ok_or(AppError::NotFound)?;
    let raw = read_outbox(dir, &file).ok_or(AppError::NotFound)?;
    Ok(layout::page(
        &ctx,
        "Message",
        html! {
            p { a href="/admin/outbox" { "← Outbox" } }
            section class="card" {
                h1 class="h3" { "Message" }
                h2 class="h3" { "Plain text" }
                pre class="mail-text" { (plain_text_part(&raw)) }
                details {
                    summary { "Raw message" }
                    pre class="mail-raw" { (raw) }
                }
            }
        },
    ))
}
