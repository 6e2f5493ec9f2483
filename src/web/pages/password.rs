//! `/force-change-password`: while an account is on a temporary password this is the only
//! page it can reach; a signed-in customer can also use it to change a password at will
//! (then the current password is asked for).

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::domain::NewPassword;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec;
use crate::web::extractors::{SignedInCustomer, safe_next};
use crate::web::layout::{self, Flash, PageCtx, redirect_with_flash};
use crate::web::ops::{ChangePassword, change_password};

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    /// Where to go afterwards (a relative path; anything else is ignored).
    #[serde(default)]
    next: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

fn password_page(ctx: &PageCtx, forced: bool, error: Option<&str>, next: Option<&str>) -> Markup {
    let title = if forced {
        "Choose a new password"
    } else {
        "Change password"
    };
    layout::page(
        ctx,
        title,
        html! {
            section class="auth-card card" {
                h1 { (title) }
                @if forced {
                    p class="muted" { "You signed in with a temporary password. Choose your own password to continue." }
                }
                @if let Some(e) = error { div class="alert alert-error" role="alert" { (e) } }
                form method="post" action="/force-change-password" class="stack" {
                    (layout::csrf_field(ctx))
                    @if let Some(next) = next { input type="hidden" name="next" value=(next); }
                    @if !forced {
                        label for="current_password" { "Current password" }
                        input id="current_password" name="current_password" type="password" required autocomplete="current-password";
                    }
                    label for="new_password" { "New password" }
                    input id="new_password" name="new_password" type="password" required autocomplete="new-password"
                        minlength=(NewPassword::MIN_CHARS) maxlength=(NewPassword::MAX_CHARS) aria-describedby="pw-hint";
                    p id="pw-hint" class="muted small" { "Between 12 and 128 characters. A few unrelated words make a strong, memorable password." }
                    label for="confirm_password" { "Confirm new password" }
                    input id="confirm_password" name="confirm_password" type="password" required autocomplete="new-password"
                        minlength=(NewPassword::MIN_CHARS) maxlength=(NewPassword::MAX_CHARS);
                    button type="submit" class="btn btn-primary btn-block" { "Save password" }
                }
            }
        },
    )
}

pub async fn show(
    SignedInCustomer(who): SignedInCustomer,
    ctx: PageCtx,
    Query(q): Query<NextQuery>,
) -> Response {
    password_page(&ctx, who.must_reset_password, None, safe_next(&q.next)).into_response()
}

pub async fn submit(
    State(state): State<AppState>,
    SignedInCustomer(who): SignedInCustomer,
    ctx: PageCtx,
    session: Session,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let next = safe_next(&form.next).map(str::to_owned);
    let vars = change_password::Variables {
        input: change_password::ChangePasswordInput {
            current_password: (!who.must_reset_password).then_some(form.current_password),
            new_password: form.new_password,
            confirm_password: form.confirm_password,
        },
    };
    match exec::run_form::<ChangePassword>(&state.page_schema, &ctx.viewer, vars).await? {
        Ok(_) => Ok(redirect_with_flash(
            &session,
            next.as_deref().unwrap_or("/inventory"),
            Flash::success("Your password has been changed."),
        )
        .await),
        Err(errors) => {
            let message = errors.into_values().collect::<Vec<_>>().join(" ");
            Ok(password_page(
                &ctx,
                who.must_reset_password,
                Some(&message),
                next.as_deref(),
            )
            .into_response())
        }
    }
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new().route("/force-change-password", get(show).post(submit))
}
