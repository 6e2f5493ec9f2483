//! `/logout`: a GET shows a confirmation (a link must not sign anyone out); the POST,
//! CSRF-checked like every state change, ends the session.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::html;
use tower_sessions::Session;

use crate::auth::{ClientInfo, Viewer};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::layout::{self, PageCtx};

pub async fn show(ctx: PageCtx) -> Response {
    if matches!(ctx.viewer, Viewer::Anonymous) {
        return Redirect::to("/login").into_response();
    }
    confirm_page(&ctx, "/logout", "/").into_response()
}

/// "Sign out?" with a POST button: shared by the customer and admin sign-outs.
pub fn confirm_page(ctx: &PageCtx, action: &str, cancel: &str) -> maud::Markup {
    layout::page(
        ctx,
        "Sign out",
        html! {
            section class="card narrow" {
                h1 { "Sign out?" }
                form method="post" action=(action) {
                    (layout::csrf_field(ctx))
                    button type="submit" class="btn btn-primary" { "Sign out" }
                    " "
                    a class="btn btn-ghost" href=(cancel) { "Cancel" }
                }
            }
        },
    )
}

pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    session: Session,
    client: ClientInfo,
) -> Response {
    if let Viewer::Customer(who) = &viewer
        && let Err(e) = state.auth.logout_customer(who, &client).await
    {
        // The session row still exists, so the sign-in still works: say so (503 when the
        // database cannot write) rather than pretend the browser is signed out.
        tracing::error!(error = %e, "could not delete the session row at logout");
        return AppError::from(e).into_response();
    }
    if let Err(e) = session.flush().await {
        tracing::warn!(error = %e, "could not delete the browser session at logout");
    }
    Redirect::to("/login?reason=signed_out").into_response()
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new().route("/logout", get(show).post(submit))
}
