//! `/admin-login` and `/admin-logout`: local admin, then Active Directory; then, for a
//! staff account with two-step sign-in on, `/admin-login/code`.

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::admin::{AdminLogin, AdminLoginError, AdminLoginOutcome};
use crate::auth::service::CodeError;
use crate::auth::sessions::{PENDING_STAFF_CODE_KEY, PendingStaffCode, SessionAuth};
use crate::auth::two_factor::TwoFactorError;
use crate::auth::{ClientInfo, Viewer};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extractors::{DeviceCookie, TrustCookie};
use crate::web::layout::{self, PageCtx};
use crate::web::signin::{throttled_message, throttled_response};

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

/// Fixed texts for `?reason=`: nothing from the URL is echoed.
fn reason_message(reason: Option<&str>) -> Option<&'static str> {
    match reason? {
        "code_expired" => {
            Some("Please sign in again: the code was not entered within five minutes.")
        }
        _ => None,
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    reason: Option<String>,
}

fn page(ctx: &PageCtx, username: &str, error: Option<&str>, notice: Option<&str>) -> Markup {
    layout::page(
        ctx,
        "Admin sign in",
        html! {
            section class="auth-card card" {
                h1 { "Staff sign in" }
                p class="muted" { "Use the portal administrator account or your company (Active Directory) account." }
                @if let Some(n) = notice { div class="alert alert-info" role="status" { (n) } }
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

pub async fn show(ctx: PageCtx, Query(q): Query<LoginQuery>) -> Response {
    if let Viewer::Admin(_) = ctx.viewer {
        return Redirect::to("/admin/panel").into_response();
    }
    page(&ctx, "", None, reason_message(q.reason.as_deref())).into_response()
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    device: DeviceCookie,
    trust: TrustCookie,
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
        return Ok(page(&ctx, &echo, Some(ADMIN_LOGIN_FAILED), None).into_response());
    }
    match state
        .admin_auth
        .login(
            &form.username,
            &form.password,
            &client,
            device.knows(&state, &throttle_key),
            trust.0.as_deref(),
        )
        .await
    {
        Ok(AdminLoginOutcome::SignedIn(login)) => {
            finish_sign_in(
                &state,
                &ctx,
                &session,
                &client,
                &device,
                &throttle_key,
                login,
            )
            .await
        }
        Ok(AdminLoginOutcome::CodeNeeded(pending)) => {
            // Not signed in yet: the browser session (server-side) only remembers whose
            // password was right, for a few minutes, and the code page finishes.
            session
                .insert(PENDING_STAFF_CODE_KEY, pending)
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("session: {e}")))?;
            Ok(Redirect::to(CODE_PATH).into_response())
        }
        Err(AdminLoginError::Refused) => {
            Ok(page(&ctx, &echo, Some(ADMIN_LOGIN_FAILED), None).into_response())
        }
        Err(AdminLoginError::Throttled(wait)) => Ok(throttled_response(
            wait,
            page(&ctx, &echo, Some(&throttled_message(wait)), None),
        )),
        Err(AdminLoginError::Unavailable) => Err(AppError::Unavailable("Sign-in")),
    }
}

/// Signs the browser in as the admin after every step passed.
async fn finish_sign_in(
    state: &AppState,
    ctx: &PageCtx,
    session: &Session,
    client: &ClientInfo,
    device: &DeviceCookie,
    throttle_key: &str,
    login: AdminLogin,
) -> Result<Response, AppError> {
    let auth = SessionAuth::Admin {
        session_id: login.session_id,
    };
    crate::web::signin::sign_in_as(state, session, &ctx.viewer, client, auth).await?;
    let mut resp = Redirect::to("/admin/panel").into_response();
    device.remember(state, throttle_key, &mut resp);
    Ok(resp)
}

/// The second step of a staff sign-in with two-step sign-in on.
pub const CODE_PATH: &str = "/admin-login/code";

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    /// "Trust this browser for 30 days" (a checkbox: `on` when ticked).
    #[serde(default)]
    trust: String,
}

fn code_page(ctx: &PageCtx, error: Option<&str>) -> Markup {
    crate::web::signin::code_page(
        ctx,
        CODE_PATH,
        "Enter the six-digit code your authenticator app shows for your staff account.",
        "/admin-login",
        error,
    )
}

/// The pending staff sign-in of this browser, if its password was right a moment ago.
async fn pending(session: &Session) -> Option<PendingStaffCode> {
    session
        .get::<PendingStaffCode>(PENDING_STAFF_CODE_KEY)
        .await
        .ok()
        .flatten()
        .filter(PendingStaffCode::is_live)
}

const CODE_EXPIRED: &str = "/admin-login?reason=code_expired";

pub async fn show_code(ctx: PageCtx, session: Session) -> Response {
    match pending(&session).await {
        Some(_) => code_page(&ctx, None).into_response(),
        None => Redirect::to(CODE_EXPIRED).into_response(),
    }
}

pub async fn submit_code(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    device: DeviceCookie,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let Some(waiting) = pending(&session).await else {
        return Ok(Redirect::to(CODE_EXPIRED).into_response());
    };
    let code: String = form.code.chars().take(64).collect();
    match state
        .admin_auth
        .finish_with_code(&waiting, &code, &client)
        .await
    {
        Ok(login) => {
            let _ = session
                .remove::<PendingStaffCode>(PENDING_STAFF_CODE_KEY)
                .await;
            let mark = (form.trust == "on")
                .then(|| state.admin_auth.trust_mark(&waiting))
                .flatten();
            let mut resp = finish_sign_in(
                &state,
                &ctx,
                &session,
                &client,
                &device,
                &waiting.device_key,
                login,
            )
            .await?;
            if let Some(mark) = mark {
                TrustCookie::grant(&mark, &mut resp);
            }
            Ok(resp)
        }
        Err(CodeError::Expired) => {
            let _ = session
                .remove::<PendingStaffCode>(PENDING_STAFF_CODE_KEY)
                .await;
            Ok(Redirect::to(CODE_EXPIRED).into_response())
        }
        Err(CodeError::Code(TwoFactorError::Throttled(wait))) => Ok(throttled_response(
            wait,
            code_page(&ctx, Some(&throttled_message(wait))),
        )),
        Err(CodeError::Code(TwoFactorError::Unavailable)) => Err(AppError::Unavailable("Sign-in")),
        Err(CodeError::Code(e)) => Ok(code_page(&ctx, Some(e.message())).into_response()),
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
        .route(CODE_PATH, get(show_code).post(submit_code))
        .route("/admin-logout", get(logout_show).post(logout))
}
