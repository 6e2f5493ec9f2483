//! `/account/two-step` (customers) and `/admin/two-step` (staff): the signed-in person
//! turns two-step sign-in on (scan a QR code drawn by the portal itself, confirm with the
//! app's first code, keep the recovery codes shown once) or off (with a current code).
//! One page for both; the GraphQL fields act on whoever is signed in.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::ClientInfo;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec;
use crate::web::extractors::{EnrollingAdmin, EnrollingCustomer};
use crate::web::layout::{self, Flash, PageCtx, redirect_with_flash};
use crate::web::ops::{
    BeginTwoFactor, ConfirmTwoFactor, ForgetTrustedBrowsers, TurnOffTwoFactor, TwoFactorPage,
    begin_two_factor, confirm_two_factor, forget_trusted_browsers, turn_off_two_factor,
    two_factor_page,
};

pub const PATH: &str = "/account/two-step";
/// Staff's own page.
pub const STAFF_PATH: &str = "/admin/two-step";

/// Where the page lives for one kind of account: its address, where "done" leads, and
/// what it says when enrolling is required.
#[derive(Clone, Copy)]
struct Place {
    base: &'static str,
    home: &'static str,
    required: &'static str,
}

const CUSTOMERS: Place = Place {
    base: PATH,
    home: "/inventory",
    required: "WePackItAll requires two-step sign-in for customer accounts. Set it up to continue to your inventory.",
};

const STAFF: Place = Place {
    base: STAFF_PATH,
    home: "/admin/panel",
    required: "Two-step sign-in is required for staff accounts. Set it up to continue to the admin pages.",
};

type Pending = two_factor_page::TwoFactorPagePendingTwoFactor;

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

fn code_field(ctx: &PageCtx, label: &str) -> Markup {
    html! {
        (layout::csrf_field(ctx))
        label for="code" { (label) }
        input id="code" name="code" type="text" required inputmode="numeric"
            autocomplete="one-time-code" maxlength="20";
    }
}

/// The QR code, drawn from its modules (no image service, no script).
fn qr(p: &Pending) -> Markup {
    let side = p.qr_size + 8;
    html! {
        svg class="qr" xmlns="http://www.w3.org/2000/svg" role="img"
            aria-label="QR code to scan with your authenticator app"
            viewBox=(format!("0 0 {side} {side}")) width="220" height="220" shape-rendering="crispEdges" {
            // Closed explicitly: in SVG a `<path>` left open would swallow what follows.
            // The white tile behind it is the element's own background (portal.css).
            path d=(p.qr_path) fill="#000000" {}
        }
    }
}

fn page(
    ctx: &PageCtx,
    at: Place,
    data: &two_factor_page::ResponseData,
    error: Option<&str>,
    required: bool,
) -> Markup {
    let status = &data.two_factor_status;
    let path = at.base;
    layout::page(
        ctx,
        "Two-step sign-in",
        html! {
            section class="auth-card card" {
                h1 { "Two-step sign-in" }
                @if required && !status.on {
                    div class="alert alert-info" role="status" { (at.required) }
                }
                @if let Some(e) = error { div class="alert alert-error" role="alert" { (e) } }
                @if status.on {
                    p { span class="pill pill-ok" { "On" } " Signing in asks for a code from your authenticator app after your password." }
                    p class="muted" { (status.recovery_codes_left) " of 10 recovery codes left." }
                    form method="post" action=(format!("{path}/forget-browsers")) class="stack" {
                        (layout::csrf_field(ctx))
                        p class="muted small" { "Browsers you told to trust you for 30 days skip the code. To make every one of them ask again:" }
                        button type="submit" class="btn" { "Forget trusted browsers" }
                    }
                    form method="post" action=(format!("{path}/off")) class="stack" {
                        (code_field(ctx, "A current code (or a recovery code) to turn it off"))
                        button type="submit" class="btn btn-danger" { "Turn two-step sign-in off" }
                    }
                } @else if let Some(p) = &data.pending_two_factor {
                    p { "Open an authenticator app (Microsoft Authenticator, Google Authenticator, 1Password, …) and add an account by scanning this code:" }
                    div class="qr-box" { (qr(p)) }
                    p class="muted small" { "Cannot scan? Type this key into the app instead: " code class="mono" { (p.secret) } }
                    form method="post" action=(format!("{path}/confirm")) class="stack" {
                        (code_field(ctx, "Then enter the six-digit code the app shows"))
                        button type="submit" class="btn btn-primary" { "Turn on" }
                    }
                } @else {
                    p { "Protect your account with a second step: after your password, the portal asks for a six-digit code from an app on your phone." }
                    form method="post" action=(format!("{path}/begin")) class="stack" {
                        (layout::csrf_field(ctx))
                        button type="submit" class="btn btn-primary" { "Set up two-step sign-in" }
                    }
                }
            }
        },
    )
}

fn codes_page(ctx: &PageCtx, at: Place, codes: &[String]) -> Markup {
    layout::page(
        ctx,
        "Your recovery codes",
        html! {
            section class="auth-card card" {
                h1 { "Two-step sign-in is on" }
                div class="alert alert-info" role="status" {
                    "Keep these recovery codes somewhere safe. Each signs you in once if you lose your phone. They are shown only now."
                }
                ul class="recovery-codes mono" {
                    @for c in codes { li { (c) } }
                }
                a class="btn btn-primary" href=(at.home) { "I have kept them" }
            }
        },
    )
}

async fn load(state: &AppState, ctx: &PageCtx) -> Result<two_factor_page::ResponseData, AppError> {
    exec::run::<TwoFactorPage>(&state.page_schema, &ctx.viewer, two_factor_page::Variables).await
}

async fn show_at(
    state: &AppState,
    ctx: &PageCtx,
    at: Place,
    required: bool,
) -> Result<Markup, AppError> {
    Ok(page(ctx, at, &load(state, ctx).await?, None, required))
}

async fn begin_at(
    state: &AppState,
    ctx: &PageCtx,
    at: Place,
    session: &Session,
) -> Result<Response, AppError> {
    match exec::run_form::<BeginTwoFactor>(
        &state.page_schema,
        &ctx.viewer,
        begin_two_factor::Variables,
    )
    .await?
    {
        Ok(_) => Ok(Redirect::to(at.base).into_response()),
        Err(errors) => Ok(redirect_with_flash(
            session,
            at.base,
            Flash::error(errors.into_values().collect::<Vec<_>>().join(" ")),
        )
        .await),
    }
}

async fn confirm_at(
    state: &AppState,
    ctx: &PageCtx,
    at: Place,
    client: &ClientInfo,
    form: CodeForm,
) -> Result<Response, AppError> {
    let vars = confirm_two_factor::Variables { code: form.code };
    match exec::run_form_from::<ConfirmTwoFactor>(
        &state.page_schema,
        &ctx.viewer,
        Some(client),
        vars,
    )
    .await?
    {
        Ok(data) => Ok(codes_page(ctx, at, &data.confirm_two_factor).into_response()),
        Err(errors) => {
            let message = errors.into_values().collect::<Vec<_>>().join(" ");
            Ok(page(ctx, at, &load(state, ctx).await?, Some(&message), false).into_response())
        }
    }
}

async fn forget_browsers_at(
    state: &AppState,
    ctx: &PageCtx,
    at: Place,
    session: &Session,
    client: &ClientInfo,
) -> Result<Response, AppError> {
    let flash = match exec::run_form_from::<ForgetTrustedBrowsers>(
        &state.page_schema,
        &ctx.viewer,
        Some(client),
        forget_trusted_browsers::Variables,
    )
    .await?
    {
        Ok(_) => Flash::success("Every browser will ask for a code at its next sign-in."),
        Err(errors) => Flash::error(errors.into_values().collect::<Vec<_>>().join(" ")),
    };
    Ok(redirect_with_flash(session, at.base, flash).await)
}

async fn turn_off_at(
    state: &AppState,
    ctx: &PageCtx,
    at: Place,
    session: &Session,
    client: &ClientInfo,
    form: CodeForm,
) -> Result<Response, AppError> {
    let vars = turn_off_two_factor::Variables { code: form.code };
    match exec::run_form_from::<TurnOffTwoFactor>(
        &state.page_schema,
        &ctx.viewer,
        Some(client),
        vars,
    )
    .await?
    {
        Ok(_) => Ok(redirect_with_flash(
            session,
            at.base,
            Flash::success("Two-step sign-in is off. Signing in asks for your password only."),
        )
        .await),
        Err(errors) => {
            let message = errors.into_values().collect::<Vec<_>>().join(" ");
            Ok(page(ctx, at, &load(state, ctx).await?, Some(&message), false).into_response())
        }
    }
}

// The customer's page: only a customer (who may still have to enrol) reaches these.

pub async fn show(
    State(state): State<AppState>,
    EnrollingCustomer(who): EnrollingCustomer,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    show_at(&state, &ctx, CUSTOMERS, who.must_enrol_two_factor).await
}

pub async fn begin(
    State(state): State<AppState>,
    EnrollingCustomer(_who): EnrollingCustomer,
    ctx: PageCtx,
    session: Session,
) -> Result<Response, AppError> {
    begin_at(&state, &ctx, CUSTOMERS, &session).await
}

pub async fn confirm(
    State(state): State<AppState>,
    EnrollingCustomer(_who): EnrollingCustomer,
    ctx: PageCtx,
    client: ClientInfo,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    confirm_at(&state, &ctx, CUSTOMERS, &client, form).await
}

pub async fn forget_browsers(
    State(state): State<AppState>,
    EnrollingCustomer(_who): EnrollingCustomer,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
) -> Result<Response, AppError> {
    forget_browsers_at(&state, &ctx, CUSTOMERS, &session, &client).await
}

pub async fn turn_off(
    State(state): State<AppState>,
    EnrollingCustomer(_who): EnrollingCustomer,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    turn_off_at(&state, &ctx, CUSTOMERS, &session, &client, form).await
}

// Staff's page: only an admin session (which may still have to enrol) reaches these.

pub async fn staff_show(
    State(state): State<AppState>,
    EnrollingAdmin(who): EnrollingAdmin,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    show_at(&state, &ctx, STAFF, who.must_enrol_two_factor).await
}

pub async fn staff_begin(
    State(state): State<AppState>,
    EnrollingAdmin(_who): EnrollingAdmin,
    ctx: PageCtx,
    session: Session,
) -> Result<Response, AppError> {
    begin_at(&state, &ctx, STAFF, &session).await
}

pub async fn staff_confirm(
    State(state): State<AppState>,
    EnrollingAdmin(_who): EnrollingAdmin,
    ctx: PageCtx,
    client: ClientInfo,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    confirm_at(&state, &ctx, STAFF, &client, form).await
}

pub async fn staff_forget_browsers(
    State(state): State<AppState>,
    EnrollingAdmin(_who): EnrollingAdmin,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
) -> Result<Response, AppError> {
    forget_browsers_at(&state, &ctx, STAFF, &session, &client).await
}

pub async fn staff_turn_off(
    State(state): State<AppState>,
    EnrollingAdmin(_who): EnrollingAdmin,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    turn_off_at(&state, &ctx, STAFF, &session, &client, form).await
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(show))
        .route("/account/two-step/begin", post(begin))
        .route("/account/two-step/confirm", post(confirm))
        .route("/account/two-step/off", post(turn_off))
        .route("/account/two-step/forget-browsers", post(forget_browsers))
        .route(STAFF_PATH, get(staff_show))
        .route("/admin/two-step/begin", post(staff_begin))
        .route("/admin/two-step/confirm", post(staff_confirm))
        .route("/admin/two-step/off", post(staff_turn_off))
        .route(
            "/admin/two-step/forget-browsers",
            post(staff_forget_browsers),
        )
}
