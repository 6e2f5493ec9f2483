//! `/account/sessions`: "Your sessions", the browsers signed in to the customer's own
//! account, with a button to sign out any other one and one to sign out all others.
//! The new sign-in mail links here.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::ClientInfo;
use crate::auth::notices::SESSIONS_PATH;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec;
use crate::web::extractors::CurrentCustomer;
use crate::web::layout::{self, Flash, PageCtx, redirect_with_flash};
use crate::web::ops::{
    MySessions, SignOutOtherSessions, SignOutSession, my_sessions, sign_out_other_sessions,
    sign_out_session,
};

type Row = my_sessions::MySessionsMySessions;

fn sessions_page(ctx: &PageCtx, rows: &[Row]) -> Markup {
    let others = rows.iter().filter(|r| !r.current).count();
    layout::page(
        ctx,
        "Your sessions",
        html! {
            h1 { "Your sessions" }
            p class="muted" {
                "The browsers signed in to your account now. If you do not recognise one, sign it out and "
                a href="/force-change-password" { "change your password" } "."
            }
            div class="table-wrap" {
                table class="admin-table sessions-table" {
                    caption class="sr-only" { "Browsers signed in to your account" }
                    thead { tr { th scope="col" { "Browser" } th scope="col" { "Address" } th scope="col" { "Signed in" } th scope="col" { "Last seen" } th scope="col" { span class="sr-only" { "Actions" } } } }
                    tbody {
                        @for r in rows {
                            tr {
                                td data-label="Browser" title=(r.user_agent.clone().unwrap_or_default()) {
                                    (r.device)
                                    @if r.current { " " span class="pill pill-ok" { "This browser" } }
                                }
                                td class="mono" data-label="Address" { (r.ip_address.clone().unwrap_or_else(|| "unknown".to_owned())) }
                                td class="nowrap" data-label="Signed in" { (ctx.when(&r.signed_in_at.0)) }
                                td class="nowrap" data-label="Last seen" { (ctx.when(&r.last_seen.0)) }
                                td {
                                    @if !r.current {
                                        form method="post" action=(format!("{SESSIONS_PATH}/sign-out")) class="inline-form" {
                                            (layout::csrf_field(ctx))
                                            input type="hidden" name="session" value=(r.id);
                                            button type="submit" class="btn btn-small btn-danger"
                                                aria-label=(format!("Sign out {} at {}", r.device, r.ip_address.as_deref().unwrap_or("an unknown address"))) { "Sign out" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if others > 0 {
                form method="post" action=(format!("{SESSIONS_PATH}/sign-out-others")) class="stack" {
                    (layout::csrf_field(ctx))
                    button type="submit" class="btn btn-danger" {
                        "Sign out " (others) " other browser" @if others != 1 { "s" }
                    }
                }
            } @else {
                p class="muted" { "No other browser is signed in to your account." }
            }
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    let rows = exec::run::<MySessions>(&state.page_schema, &ctx.viewer, my_sessions::Variables)
        .await?
        .my_sessions;
    Ok(sessions_page(&ctx, &rows))
}

#[derive(Deserialize)]
pub struct SignOutForm {
    /// An id from the list (a digest, not the session's own id).
    #[serde(default)]
    session: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    Form(form): Form<SignOutForm>,
) -> Result<Response, AppError> {
    let vars = sign_out_session::Variables { id: form.session };
    let flash = match exec::run_form_from::<SignOutSession>(
        &state.page_schema,
        &ctx.viewer,
        Some(&client),
        vars,
    )
    .await
    {
        Ok(Ok(_)) => Flash::success("That browser is signed out."),
        // Ended meanwhile (or never this account's): the list shows what is left.
        Err(AppError::NotFound) => Flash::info("That browser was already signed out."),
        Err(e) => return Err(e),
        Ok(Err(errors)) => Flash::error(errors.into_values().collect::<Vec<_>>().join(" ")),
    };
    Ok(redirect_with_flash(&session, SESSIONS_PATH, flash)
        .await
        .into_response())
}

pub async fn sign_out_others(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
) -> Result<Response, AppError> {
    let n = exec::run_form_from::<SignOutOtherSessions>(
        &state.page_schema,
        &ctx.viewer,
        Some(&client),
        sign_out_other_sessions::Variables,
    )
    .await?
    .map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "signing out other browsers: {}",
            e.into_values().collect::<Vec<_>>().join(" ")
        ))
    })?
    .sign_out_other_sessions;
    let flash = match n {
        0 => Flash::info("No other browser was signed in."),
        1 => Flash::success("1 other browser is signed out."),
        n => Flash::success(format!("{n} other browsers are signed out.")),
    };
    Ok(redirect_with_flash(&session, SESSIONS_PATH, flash)
        .await
        .into_response())
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(SESSIONS_PATH, get(show))
        .route("/account/sessions/sign-out", post(sign_out))
        .route("/account/sessions/sign-out-others", post(sign_out_others))
}
