//! `/login`: customer sign-in with a honeypot field for bots.

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::service::{CodeError, CustomerLogin, LoginError, LoginOutcome};
use crate::auth::sessions::{PENDING_CODE_KEY, PendingCode, SessionAuth};
use crate::auth::two_factor::TwoFactorError;
use crate::auth::{ClientInfo, Viewer};
use crate::domain::CustomerId;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extractors::{DeviceCookie, TrustCookie, safe_next};
use crate::web::layout::{self, PageCtx};
use crate::web::signin::{self, throttled_message, throttled_response};

/// The one message for every failed attempt, so the page reveals nothing about accounts.
pub const LOGIN_FAILED: &str = "Invalid email or password.";

#[derive(Deserialize)]
pub struct LoginQuery {
    reason: Option<String>,
    /// Where to go after signing in (a relative path; anything else is ignored).
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// Hidden from people by CSS; only bots fill it.
    #[serde(default)]
    hp_email: String,
    #[serde(default)]
    next: String,
}

/// Fixed texts for `?reason=`: nothing from the URL is ever echoed.
fn reason_message(reason: Option<&str>) -> Option<(&'static str, &'static str)> {
    match reason? {
        "signed_out" => Some(("alert alert-success", "You have been signed out.")),
        "session_ended" => Some((
            "alert alert-info",
            "Your session has ended. Please sign in again.",
        )),
        "password_changed" => Some((
            "alert alert-success",
            "Your password was changed. Please sign in.",
        )),
        "invitation_accepted" => Some((
            "alert alert-success",
            "Your password is set. Please sign in.",
        )),
        "code_expired" => Some((
            "alert alert-info",
            "Please sign in again: the code was not entered within five minutes.",
        )),
        _ => None,
    }
}

fn login_page(
    ctx: &PageCtx,
    email: &str,
    error: Option<&str>,
    notice: Option<(&str, &str)>,
    next: Option<&str>,
) -> Markup {
    layout::page(
        ctx,
        "Sign in",
        html! {
            section class="auth-card card" {
                h1 { "Customer sign in" }
                p class="muted" { "See your live inventory at WePackItAll, around the clock." }
                @if let Some((class, text)) = notice { div class=(class) role="status" { (text) } }
                @if let Some(e) = error { div class="alert alert-error" role="alert" { (e) } }
                form method="post" action="/login" class="stack" autocomplete="on" {
                    (layout::csrf_field(ctx))
                    @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                    label for="email" { "Email" }
                    input id="email" name="email" type="email" required autofocus autocomplete="username" value=(email) maxlength="254";
                    label for="password" { "Password" }
                    input id="password" name="password" type="password" required autocomplete="current-password" maxlength="1024";
                    // Honeypot: off-screen and skipped by keyboard and screen readers.
                    div class="hp-field" aria-hidden="true" {
                        label for="hp_email" { "Leave this field empty" }
                        input id="hp_email" name="hp_email" type="text" tabindex="-1" autocomplete="off" value="";
                    }
                    button type="submit" class="btn btn-primary btn-block" { "Sign in" }
                }
                p class="muted small" { a href="/forgot-password" { "Forgot password?" } }
            }
        },
    )
}

pub async fn show(ctx: PageCtx, Query(q): Query<LoginQuery>) -> Response {
    if let Viewer::Customer(_) = ctx.viewer {
        return Redirect::to("/").into_response();
    }
    let next = q.next.as_deref().and_then(safe_next);
    login_page(&ctx, "", None, reason_message(q.reason.as_deref()), next).into_response()
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    device: DeviceCookie,
    trust: TrustCookie,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let throttle_key = crate::auth::throttle::customer_key(&form.email);
    let email_echo: String = form.email.trim().chars().take(254).collect();
    let next = safe_next(&form.next);
    if !form.hp_email.is_empty() {
        state
            .auth
            .honeypot_tripped(&form.email, &form.password, &client)
            .await;
        state.auth.count_failure(&form.email, &client).await;
        return Ok(login_page(&ctx, &email_echo, Some(LOGIN_FAILED), None, next).into_response());
    }
    match state
        .auth
        .login_customer(
            &form.email,
            &form.password,
            &client,
            device.knows(&state, &throttle_key),
            trust.0.as_deref(),
        )
        .await
    {
        Ok(LoginOutcome::SignedIn(login)) => {
            finish_sign_in(
                &state,
                &ctx,
                &session,
                &client,
                &device,
                &throttle_key,
                login,
                next,
            )
            .await
        }
        Ok(LoginOutcome::CodeNeeded { customer_id }) => {
            // Not signed in yet: the browser session only remembers whose password was
            // right, for a few minutes, and the code page finishes the sign-in.
            session
                .insert(
                    PENDING_CODE_KEY,
                    PendingCode::new(customer_id.0, next.map(str::to_owned), throttle_key),
                )
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("session: {e}")))?;
            Ok(Redirect::to(CODE_PATH).into_response())
        }
        Err(LoginError::InvalidCredentials) => {
            Ok(login_page(&ctx, &email_echo, Some(LOGIN_FAILED), None, next).into_response())
        }
        Err(LoginError::Throttled(wait)) => Ok(throttled_response(
            wait,
            login_page(
                &ctx,
                &email_echo,
                Some(&throttled_message(wait)),
                None,
                next,
            ),
        )),
        Err(LoginError::Unavailable) => Err(AppError::Unavailable("Sign-in")),
    }
}

/// Signs the browser in after every step passed, and sends it where it was going (through
/// the forced password change when the account is on a temporary password).
#[allow(clippy::too_many_arguments)]
async fn finish_sign_in(
    state: &AppState,
    ctx: &PageCtx,
    session: &Session,
    client: &ClientInfo,
    device: &DeviceCookie,
    throttle_key: &str,
    login: CustomerLogin,
    next: Option<&str>,
) -> Result<Response, AppError> {
    let auth = SessionAuth::Customer {
        session_id: login.session_id,
    };
    signin::sign_in_as(state, session, &ctx.viewer, client, auth).await?;
    // The requested page survives the forced password change too.
    let to = match (login.must_reset_password, next) {
        (true, Some(next)) => format!(
            "/force-change-password?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ),
        (true, None) => "/force-change-password".to_owned(),
        (false, next) => next.unwrap_or("/inventory").to_owned(),
    };
    let mut resp = Redirect::to(&to).into_response();
    device.remember(state, throttle_key, &mut resp);
    Ok(resp)
}

/// The second step of a sign-in with two-step sign-in on.
pub const CODE_PATH: &str = "/login/code";

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
        "Enter the six-digit code your authenticator app shows for the WePackItAll Customer Portal.",
        "/login",
        error,
    )
}

/// The pending sign-in of this browser, if its password was right a moment ago.
async fn pending(session: &Session) -> Option<PendingCode> {
    session
        .get::<PendingCode>(PENDING_CODE_KEY)
        .await
        .ok()
        .flatten()
        .filter(PendingCode::is_live)
}

pub async fn show_code(ctx: PageCtx, session: Session) -> Response {
    match pending(&session).await {
        Some(_) => code_page(&ctx, None).into_response(),
        None => Redirect::to("/login?reason=code_expired").into_response(),
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
        return Ok(Redirect::to("/login?reason=code_expired").into_response());
    };
    let customer = CustomerId(waiting.customer_id);
    let throttle_key = waiting.device_key.clone();
    let code: String = form.code.chars().take(64).collect();
    match state
        .auth
        .finish_with_code(
            customer,
            &code,
            &client,
            device.knows(&state, &throttle_key),
        )
        .await
    {
        Ok(login) => {
            let _ = session.remove::<PendingCode>(PENDING_CODE_KEY).await;
            let mark = (form.trust == "on")
                .then(|| state.auth.trust_mark(customer))
                .flatten();
            let mut resp = finish_sign_in(
                &state,
                &ctx,
                &session,
                &client,
                &device,
                &throttle_key,
                login,
                waiting.next.as_deref().and_then(safe_next),
            )
            .await?;
            if let Some(mark) = mark {
                TrustCookie::grant(&mark, &mut resp);
            }
            Ok(resp)
        }
        Err(CodeError::Expired) => {
            let _ = session.remove::<PendingCode>(PENDING_CODE_KEY).await;
            Ok(Redirect::to("/login?reason=code_expired").into_response())
        }
        Err(CodeError::Code(TwoFactorError::Throttled(wait))) => Ok(throttled_response(
            wait,
            code_page(&ctx, Some(&throttled_message(wait))),
        )),
        Err(CodeError::Code(TwoFactorError::Unavailable)) => Err(AppError::Unavailable("Sign-in")),
        Err(CodeError::Code(e)) => Ok(code_page(&ctx, Some(e.message())).into_response()),
    }
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(show).post(submit))
        .route(CODE_PATH, get(show_code).post(submit_code))
}
