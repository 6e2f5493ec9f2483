//! `/admin-login` and `/admin-logout`: local admin, then Active Directory.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::admin::AdminLoginError;
use crate::auth::sessions::SessionAuth;
use crate::auth::{ClientInfo, Viewer};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extractors::DeviceCookie;
use crate::web::layout::{self, PageCtx};

/// One message for every failure: it never says which method (local or AD) failed.
pub const ADMIN_LOGIN_FAILED: &str = "Invalid username or password.";

#[derive(Deserialize)]
pub struct AdminLoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    hp_email: String,
}

fn page(ctx: &PageCtx, username: &str, error: Option<&str>) -> Markup {
    layout::page(
        ctx,
        "Admin sign in",
        html! {
            section class="auth-card card" {
                h1 { "Staff sign in" }
                p class="muted" { "Use the portal administrator account or your company (Active Directory) account." }
                @if let Some(e) = error { div class="alert alert-error" role="alert" { (e) } }
                form method="post" action="/admin-login" class="stack" {
                    (layout::csrf_field(ctx))
                    label for="username" { "Username" }
                    input id="username" name="username" type="text" required autofocus autocomplete="username"
                        value=(username) maxlength="128" placeholder="jdoe or jdoe@company.com";
                    label for="password" { "Password" }
                    input id="password" name="password" type="password" required autocomplete="current-password" maxlength="1024";
                    div class="hp-field" aria-hidden="true" {
                        label for="hp_email" { "Leave this field empty" }
                        input id="hp_email" name="hp_email" type="text" tabindex="-1" autocomplete="off" value="";
                    }
                    button type="submit" class="btn btn-primary btn-block" { "Sign in" }
                }
                p class="muted small" { a href="/login" { "Customer sign-in" } }
            }
        },
    )
}

pub async fn show(ctx: PageCtx) -> Response {
    if let Viewer::Admin(_) = ctx.viewer {
        return Redirect::to("/admin/panel").into_response();
    }
    page(&ctx, "", None).into_response()
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    device: DeviceCookie,
    Form(form): Form<AdminLoginForm>,
) -> Result<Response, AppError> {
    let throttle_key = crate::auth::throttle::admin_key(&form.username);
    let echo: String = form.username.trim().chars().take(128).collect();
    if !form.hp_email.is_empty() {
        state
            .auth
            .honeypot_tripped(&form.username, &form.password, &client)
            .await;
        state
            .admin_auth
            .count_failure(&form.username, &client)
            .await;
        return Ok(page(&ctx, &echo, Some(ADMIN_LOGIN_FAILED)).into_response());
    }
    match state
        .admin_auth
        .login(
            &form.username,
            &form.password,
            &client,
            device.knows(&state, &throttle_key),
        )
        .await
    {
        Ok(login) => {
            let auth = SessionAuth::Admin {
                session_id: login.session_id,
            };
            crate::web::signin::sign_in_as(&state, &session, &ctx.viewer, &client, auth).await?;
            let mut resp = Redirect::to("/admin/panel").into_response();
            device.remember(&state, &throttle_key, &mut resp);
            Ok(resp)
        }
        Err(AdminLoginError::Refused) => {
            Ok(page(&ctx, &echo, Some(ADMIN_LOGIN_FAILED)).into_response())
        }
        Err(AdminLoginError::Throttled(wait)) => Ok(crate::web::signin::throttled_response(
            wait,
            page(
                &ctx,
                &echo,
                Some(&crate::web::signin::throttled_message(wait)),
            ),
        )),
        Err(AdminLoginError::Unavailable) => Err(AppError::Unavailable("Sign-in")),
    }
}

pub async fn logout_show(ctx: PageCtx) -> Response {
    if !matches!(ctx.viewer, Viewer::Admin(_)) {
        return Redirect::to("/admin-login").into_response();
    }
    crate::web::pages::logout::confirm_page(&ctx, "/admin-logout", "/admin/panel").into_response()
}

pub async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    session: Session,
    client: ClientInfo,
) -> Response {
    if let Viewer::Admin(a) = &viewer
        && let Err(e) = state.admin_auth.logout(a, &client).await
    {
        tracing::error!(error = %e, "could not end the admin session row");
    }
    let _ = session.flush().await;
    Redirect::to("/admin-login").into_response()
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin-login", get(show).post(submit))
        .route("/admin-logout", get(logout_show).post(logout))
}
