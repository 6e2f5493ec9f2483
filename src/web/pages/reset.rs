//! "Forgot password?": `/forgot-password` asks for an email and always answers alike;
//! `/reset-password` is where the mailed link lands. The link's secret is moved from the
//! address into the browser session at once (then the address is clean: no secret in
//! history, bookmarks or a `Referer`), and the page runs the schema's reset operations.

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::ClientInfo;
use crate::domain::NewPassword;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec;
use crate::web::layout::{self, PageCtx};
use crate::web::ops::{
    PasswordResetLinkValid, RequestPasswordReset, ResetPassword, password_reset_link_valid,
    request_password_reset, reset_password,
};
use crate::web::signin::throttled_response;

/// The session key holding the secret of the link this browser opened.
const LINK_KEY: &str = "reset_link";

/// The one answer to every request, whether or not the email has an account.
pub const SENT: &str = "If an account exists for that email, we sent a link to choose a new password. It works once, for 30 minutes. Check your inbox (and spam folder).";

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
pub struct LinkQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

fn forgot_page(ctx: &PageCtx, email: &str, notice: Option<(&str, &str)>) -> Markup {
    layout::page(
        ctx,
        "Forgot password",
        html! {
            section class="auth-card card" {
                h1 { "Forgot your password?" }
                p class="muted" { "Enter the email you sign in with. We will mail you a link to choose a new password." }
                @if let Some((class, text)) = notice { div class=(class) role="status" { (text) } }
                form method="post" action="/forgot-password" class="stack" {
                    (layout::csrf_field(ctx))
                    label for="email" { "Email" }
                    input id="email" name="email" type="email" required autocomplete="username" maxlength="254" value=(email);
                    button type="submit" class="btn btn-primary btn-block" { "Email me a link" }
                }
                p class="muted small" { a href="/login" { "Back to sign in" } }
            }
        },
    )
}

fn reset_page(ctx: &PageCtx, error: Option<&str>) -> Markup {
    layout::page(
        ctx,
        "Choose a new password",
        html! {
            section class="auth-card card" {
                h1 { "Choose a new password" }
                p class="muted" { "Saving it signs out every open session of your account." }
                @if let Some(e) = error { div class="alert alert-error" role="alert" { (e) } }
                form method="post" action="/reset-password" class="stack" {
                    (layout::csrf_field(ctx))
                    (password_fields("New password", "Confirm new password"))
                    button type="submit" class="btn btn-primary btn-block" { "Save password" }
                }
            }
        },
    )
}

/// The two fields of a password chosen through a mailed link (a reset or an invitation).
pub fn password_fields(label: &str, confirm_label: &str) -> Markup {
    html! {
        label for="new_password" { (label) }
        input id="new_password" name="new_password" type="password" required autocomplete="new-password"
            minlength=(NewPassword::MIN_CHARS) maxlength=(NewPassword::MAX_CHARS) aria-describedby="pw-hint";
        p id="pw-hint" class="muted small" { "Between 12 and 128 characters. A few unrelated words make a strong, memorable password." }
        label for="confirm_password" { (confirm_label) }
        input id="confirm_password" name="confirm_password" type="password" required autocomplete="new-password"
            minlength=(NewPassword::MIN_CHARS) maxlength=(NewPassword::MAX_CHARS);
    }
}

/// A mailed link was opened: its secret is kept in the browser session under `key` and
/// the browser comes back to `path` without it in the address.
pub async fn keep_link(
    session: &Session,
    key: &str,
    token: String,
    path: &str,
) -> Result<Response, AppError> {
    let token: String = token.chars().take(128).collect();
    session
        .insert(key, token)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("session: {e}")))?;
    Ok(Redirect::to(path).into_response())
}

/// Whether the link secret kept under `key` can still be used.
pub async fn kept_link_valid(
    state: &AppState,
    ctx: &PageCtx,
    session: &Session,
    key: &str,
) -> Result<bool, AppError> {
    let Some(token) = session.get::<String>(key).await.ok().flatten() else {
        return Ok(false);
    };
    let vars = password_reset_link_valid::Variables { token };
    Ok(
        exec::run::<PasswordResetLinkValid>(&state.page_schema, &ctx.viewer, vars)
            .await?
            .password_reset_link_valid,
    )
}

fn expired_page(ctx: &PageCtx) -> Markup {
    layout::page(
        ctx,
        "Link expired",
        html! {
            section class="auth-card card" {
                h1 { "This link no longer works" }
                div class="alert alert-info" role="status" {
                    "Reset links work once, for 30 minutes, and a newer link replaces older ones."
                }
                p { a class="btn btn-primary" href="/forgot-password" { "Ask for a new link" } }
                p class="muted small" { a href="/login" { "Back to sign in" } }
            }
        },
    )
}

pub async fn show_forgot(ctx: PageCtx) -> Markup {
    forgot_page(&ctx, "", None)
}

pub async fn submit_forgot(
    State(state): State<AppState>,
    ctx: PageCtx,
    client: ClientInfo,
    Form(form): Form<ForgotForm>,
) -> Result<Response, AppError> {
    let email: String = form.email.trim().chars().take(254).collect();
    let vars = request_password_reset::Variables {
        email: email.clone(),
    };
    match exec::run_form_from::<RequestPasswordReset>(
        &state.page_schema,
        &ctx.viewer,
        Some(&client),
        vars,
    )
    .await
    {
        // Field errors cannot happen (any text is accepted); answer alike anyway.
        Ok(_) => Ok(forgot_page(&ctx, "", Some(("alert alert-success", SENT))).into_response()),
        Err(AppError::TooManyRequests(wait)) => {
            let message = format!(
                "Too many requests from your network. Please wait {} and try again.",
                crate::error::wait_text(wait)
            );
            Ok(throttled_response(
                wait,
                forgot_page(&ctx, &email, Some(("alert alert-error", &message))),
            ))
        }
        Err(e) => Err(e),
    }
}

/// The mailed link: keep its secret in the session and come back without it.
pub async fn show_reset(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    Query(q): Query<LinkQuery>,
) -> Result<Response, AppError> {
    if let Some(token) = q.token {
        return keep_link(&session, LINK_KEY, token, "/reset-password").await;
    }
    let valid = kept_link_valid(&state, &ctx, &session, LINK_KEY).await?;
    Ok(if valid {
        reset_page(&ctx, None).into_response()
    } else {
        expired_page(&ctx).into_response()
    })
}

pub async fn submit_reset(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    Form(form): Form<ResetForm>,
) -> Result<Response, AppError> {
    let Some(token) = link_secret(&session).await else {
        return Ok(expired_page(&ctx).into_response());
    };
    let vars = reset_password::Variables {
        input: reset_password::ResetPasswordInput {
            token,
            new_password: form.new_password,
            confirm_password: form.confirm_password,
        },
    };
    match exec::run_form_from::<ResetPassword>(&state.page_schema, &ctx.viewer, Some(&client), vars)
        .await?
    {
        Ok(_) => {
            if let Err(e) = session.remove::<String>(LINK_KEY).await {
                tracing::warn!(error = %e, "could not forget the used reset link");
            }
            Ok(Redirect::to("/login?reason=password_changed").into_response())
        }
        Err(errors) if errors.contains_key("token") => Ok(expired_page(&ctx).into_response()),
        Err(errors) => {
            let message = errors.into_values().collect::<Vec<_>>().join(" ");
            Ok(reset_page(&ctx, Some(&message)).into_response())
        }
    }
}

async fn link_secret(session: &Session) -> Option<String> {
    session.get::<String>(LINK_KEY).await.ok().flatten()
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/forgot-password", get(show_forgot).post(submit_forgot))
        .route("/reset-password", get(show_reset).post(submit_reset))
}
