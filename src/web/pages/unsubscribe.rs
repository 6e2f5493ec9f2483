//! `/reports/unsubscribe?s=…&t=…`: the signed link in every scheduled mail. Opening it
//! shows one button (link checkers that fetch it change nothing); a POST ends the
//! subscription, whether it comes from that button or from a mail client's one-click
//! unsubscribe (RFC 8058). The signature is the authority: no sign-in, and no CSRF token,
//! because no cookie of the browser is relied on.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec;
use crate::web::layout::{self, PageCtx};
use crate::web::ops::{UnsubscribeByLink, unsubscribe_by_link};

#[derive(Deserialize)]
pub struct LinkParams {
    #[serde(default)]
    s: String,
    #[serde(default)]
    t: String,
}

fn card(ctx: &PageCtx, title: &str, body: Markup) -> Markup {
    layout::page(
        ctx,
        title,
        html! { section class="auth-card card" { h1 { (title) } (body) } },
    )
}

fn invalid(ctx: &PageCtx) -> Response {
    (
        StatusCode::FORBIDDEN,
        card(
            ctx,
            "Link not valid",
            html! { p { "This unsubscribe link is not valid. Sign in and manage your mails under " a href="/inventory/views" { "Saved views & reports" } "." } },
        ),
    )
        .into_response()
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(p): Query<LinkParams>,
) -> Response {
    let Ok(id) = p.s.parse::<i64>() else {
        return invalid(&ctx);
    };
    if !state.scheduler.keys().verify(id, &p.t) {
        return invalid(&ctx);
    }
    card(
        &ctx,
        "Unsubscribe",
        html! {
            p { "Stop this scheduled mail from the WePackItAll Customer Portal?" }
            form method="post" action=(format!("/reports/unsubscribe?s={}&t={}", id, p.t)) {
                button type="submit" class="btn btn-primary btn-block" { "Unsubscribe" }
            }
        },
    )
    .into_response()
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(p): Query<LinkParams>,
) -> Result<Response, AppError> {
    let vars = unsubscribe_by_link::Variables {
        id: p.s.clone(),
        signature: p.t.chars().take(64).collect(),
    };
    match exec::run::<UnsubscribeByLink>(&state.page_schema, &ctx.viewer, vars).await {
        Ok(_) => Ok(card(
            &ctx,
            "Unsubscribed",
            html! { p { "You will not receive this mail again. You can subscribe again any time under " a href="/inventory/views" { "Saved views & reports" } "." } },
        )
        .into_response()),
        Err(AppError::Forbidden) => Ok(invalid(&ctx)),
        Err(e) => Err(e),
    }
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new().route("/reports/unsubscribe", get(show).post(submit))
}
