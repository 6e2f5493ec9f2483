//! What both sign-in pages (customers' `/login`, staff's `/admin-login`) share: a browser
//! holds one identity at a time, a refused attempt says how long to wait, and the
//! two-step code page.

use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tower_sessions::Session;

use crate::auth::two_factor::TRUST_DAYS;
use crate::web::layout::{self, PageCtx};

use crate::auth::sessions::{SessionAuth, begin_browser_session};
use crate::auth::{ClientInfo, Viewer};
use crate::error::{AppError, wait_text};
use crate::state::AppState;

/// Signs this browser in as `auth`: whatever it was signed in as before (a customer or a
/// staff member) is signed out first, and the browser session starts over under a new id,
/// so an id planted before sign-in is worthless after it.
pub async fn sign_in_as(
    state: &AppState,
    session: &Session,
    previous: &Viewer,
    client: &ClientInfo,
    auth: SessionAuth,
) -> Result<(), AppError> {
    let ended = match previous {
        Viewer::Customer(c) => state.auth.logout_customer(c, client).await,
        Viewer::Admin(a) => state.admin_auth.logout(a, client).await,
        Viewer::Anonymous | Viewer::Token(_) => Ok(()),
    };
    if let Err(e) = ended {
        tracing::warn!(error = %e, "could not end the previous session");
    }
    begin_browser_session(session, auth)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session: {e}")))
}

/// The sentence a throttled sign-in shows.
pub fn throttled_message(wait: std::time::Duration) -> String {
    format!(
        "Too many failed sign-in attempts. Please wait {} and try again.",
        wait_text(wait)
    )
}

/// A throttled form: 429 with `Retry-After` in whole seconds, and the page.
pub fn throttled_response(wait: std::time::Duration, page: maud::Markup) -> Response {
    let secs = wait.as_secs().max(1).to_string();
    (
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        [(axum::http::header::RETRY_AFTER, secs)],
        page,
    )
        .into_response()
}

/// The second step of a sign-in with two-step sign-in on: the code form posting to
/// `action`, `intro` saying whose code, and a way back to `start_over`.
pub fn code_page(
    ctx: &PageCtx,
    action: &str,
    intro: &str,
    start_over: &str,
    error: Option<&str>,
) -> Markup {
    layout::page(
        ctx,
        "Enter your code",
        html! {
            section class="auth-card card" {
                h1 { "Two-step sign-in" }
                p class="muted" { (intro) }
                @if let Some(e) = error { div class="alert alert-error" role="alert" { (e) } }
                form method="post" action=(action) class="stack" autocomplete="off" {
                    (layout::csrf_field(ctx))
                    label for="code" { "Code" }
                    input id="code" name="code" type="text" required autofocus inputmode="numeric"
                        autocomplete="one-time-code" maxlength="20" aria-describedby="code-hint";
                    p id="code-hint" class="muted small" { "Lost your phone? Enter one of your recovery codes instead (like abcd-2345); each works once." }
                    label class="check" {
                        input type="checkbox" name="trust" value="on";
                        " Trust this browser for " (TRUST_DAYS) " days (not on a shared computer)"
                    }
                    button type="submit" class="btn btn-primary btn-block" { "Sign in" }
                }
                p class="muted small" { a href=(start_over) { "Start over" } }
            }
        },
    )
}
