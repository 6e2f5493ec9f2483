//! What both sign-in pages (customers' `/login`, staff's `/admin-login`) share: a browser
//! holds one identity at a time, and a refused attempt says how long to wait.

use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

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
