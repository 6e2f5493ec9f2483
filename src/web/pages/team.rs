//! `/account/team`: a team manager's own page (their colleagues, each colleague's ERP
//! customers, invite, deactivate or reactivate, send an invitation again), and
//! `/invitation`, where an invited colleague's mailed link lands to choose a password. The
//! link's secret moves from the address into the browser session at once, as the reset
//! link's does.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::ClientInfo;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec::{self, FieldErrors};
use crate::web::extractors::TeamManager;
use crate::web::layout::{self, Flash, PageCtx, redirect_with_flash};
use crate::web::ops::{
    AcceptInvitation, InviteColleague, ResendInvitation, SetColleagueActive, SetColleagueScope,
    TeamPage, accept_invitation, invite_colleague, resend_invitation, set_colleague_active,
    set_colleague_scope, team_page,
};

pub const PATH: &str = "/account/team";
pub const INVITATION_PATH: &str = "/invitation";
/// The session key holding the secret of the invitation link this browser opened.
const LINK_KEY: &str = "invitation_link";

type Row = team_page::TeamPageMyTeam;

/// What the invite form holds (kept when it is shown again with errors).
#[derive(Debug, Default)]
struct Invite {
    first_name: String,
    last_name: String,
    email: String,
    names: Vec<String>,
}

fn pairs(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .take(500)
        .collect()
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().chars().take(320).collect())
        .unwrap_or_default()
}

fn names_of(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "erp_customer_names")
        .map(|(_, v)| v.clone())
        .collect()
}

/// Checkboxes of the ERP customers a manager may give, `chosen` ticked.
fn name_choices(id_prefix: &str, assignable: &[String], chosen: &[String]) -> Markup {
    html! {
        div class="erp-checklist" {
            @for (i, n) in assignable.iter().enumerate() {
                label class="check" for=(format!("{id_prefix}-{i}")) {
                    input id=(format!("{id_prefix}-{i}")) type="checkbox" name="erp_customer_names" value=(n) checked[chosen.contains(n)];
                    (n)
                }
            }
        }
    }
}

fn status(r: &Row) -> Markup {
    html! {
        @if !r.is_active { span class="pill pill-bad" { "Deactivated" } }
        @else if r.invitation_pending { span class="pill pill-info" { "Invited" } }
        @else { span class="pill pill-ok" { "Active" } }
    }
}

fn page(
    ctx: &PageCtx,
    data: &team_page::ResponseData,
    invite: &Invite,
    errors: &FieldErrors,
) -> Markup {
    let assignable = &data.assignable_erp_customer_names;
    let err = |f: &str| errors.get(f).cloned();
    layout::page(
        ctx,
        "Your team",
        html! {
            h1 { "Your team" }
            p class="muted" {
                "Invite colleagues to see your company's inventory. Each sees only the ERP customers you give them, never more than your own account sees."
            }
            div class="table-wrap team-wrap" {
                table class="admin-table team-table" {
                    caption class="sr-only" { "Your colleagues" }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "ERP customers" }
                        th scope="col" { "Status" } th scope="col" { "Last sign-in" } th scope="col" { span class="sr-only" { "Actions" } }
                    } }
                    tbody {
                        @if data.my_team.is_empty() {
                            tr { td colspan="6" class="muted" { "No colleagues yet: invite one below." } }
                        }
                        @for r in &data.my_team {
                            @let name = format!("{} {}", r.first_name, r.last_name.clone().unwrap_or_default()).trim().to_owned();
                            tr id=(format!("colleague-{}", r.id)) {
                                td data-label="Name" { (name) }
                                td data-label="Email" { (r.email) }
                                td data-label="ERP customers" {
                                    details {
                                        summary { (r.erp_customer_names.join(" | ")) }
                                        form method="post" action=(format!("{PATH}/{}/scope", r.id)) class="stack" {
                                            (layout::csrf_field(ctx))
                                            fieldset class="erp-fieldset" {
                                                legend { "ERP customers " (name) " sees" }
                                                (name_choices(&format!("scope-{}", r.id), assignable, &r.erp_customer_names))
                                            }
                                            button type="submit" class="btn btn-small" { "Save" }
                                        }
                                    }
                                }
                                td data-label="Status" { (status(r)) }
                                td class="nowrap" data-label="Last sign-in" {
                                    (r.last_login_date.as_ref().map(|t| ctx.when(&t.0)).unwrap_or_else(|| "Never".to_owned()))
                                }
                                td class="row-actions" {
                                    @if r.is_active && r.invitation_pending {
                                        form method="post" action=(format!("{PATH}/{}/resend", r.id)) class="inline-form" {
                                            (layout::csrf_field(ctx))
                                            button type="submit" class="btn btn-small" aria-label=(format!("Send the invitation to {} again", r.email)) { "Send again" }
                                        }
                                    }
                                    form method="post" action=(format!("{PATH}/{}/active", r.id)) class="inline-form" {
                                        (layout::csrf_field(ctx))
                                        @if r.is_active {
                                            input type="hidden" name="active" value="false";
                                            button type="submit" class="btn btn-small btn-danger" aria-label=(format!("Deactivate {}", r.email)) { "Deactivate" }
                                        } @else {
                                            input type="hidden" name="active" value="true";
                                            button type="submit" class="btn btn-small" aria-label=(format!("Reactivate {}", r.email)) { "Reactivate" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section class="card stack" aria-labelledby="invite-title" {
                h2 id="invite-title" { "Invite a colleague" }
                p class="muted small" { "They get an email with a link to choose their password. The link works once, for 72 hours." }
                @if let Some(e) = err("form") { div class="alert alert-error" role="alert" { (e) } }
                form method="post" action=(format!("{PATH}/invite")) class="stack" {
                    (layout::csrf_field(ctx))
                    div class="two-col" {
                        div class="stack" {
                            label for="first_name" { "First name" }
                            input id="first_name" name="first_name" type="text" required maxlength="100" value=(invite.first_name);
                            @if let Some(e) = err("first_name") { span class="field-error" role="alert" { (e) } }
                        }
                        div class="stack" {
                            label for="last_name" { "Last name" }
                            input id="last_name" name="last_name" type="text" maxlength="100" value=(invite.last_name);
                            @if let Some(e) = err("last_name") { span class="field-error" role="alert" { (e) } }
                        }
                    }
                    label for="email" { "Email" }
                    input id="email" name="email" type="email" required maxlength="254" value=(invite.email);
                    @if let Some(e) = err("email") { span class="field-error" role="alert" { (e) } }
                    fieldset class="erp-fieldset" {
                        legend { "ERP customers they see" }
                        @let chosen = if invite.names.is_empty() && assignable.len() == 1 { assignable.clone() } else { invite.names.clone() };
                        (name_choices("invite", assignable, &chosen))
                        @if let Some(e) = err("erp_customer_names") { span class="field-error" role="alert" { (e) } }
                    }
                    button type="submit" class="btn btn-primary" { "Send invitation" }
                }
            }
        },
    )
}

async fn load(state: &AppState, ctx: &PageCtx) -> Result<team_page::ResponseData, AppError> {
    exec::run::<TeamPage>(&state.page_schema, &ctx.viewer, team_page::Variables).await
}

pub async fn show(
    State(state): State<AppState>,
    TeamManager(_who): TeamManager,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    Ok(page(
        &ctx,
        &load(&state, &ctx).await?,
        &Invite::default(),
        &FieldErrors::new(),
    ))
}

fn sent_flash(email: &str, sent: bool) -> Flash {
    if sent {
        Flash::success(format!("Invitation sent to {email}."))
    } else {
        Flash::error(format!(
            "The invitation to {email} could not be mailed just now. Use \"Send again\" in a moment."
        ))
    }
}

pub async fn invite(
    State(state): State<AppState>,
    TeamManager(_who): TeamManager,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    body: Bytes,
) -> Result<Response, AppError> {
    let p = pairs(&body);
    let typed = Invite {
        first_name: field(&p, "first_name"),
        last_name: field(&p, "last_name"),
        email: field(&p, "email"),
        names: names_of(&p),
    };
    let vars = invite_colleague::Variables {
        input: invite_colleague::InviteColleagueInput {
            first_name: typed.first_name.clone(),
            last_name: typed.last_name.clone(),
            email: typed.email.clone(),
            erp_customer_names: typed.names.clone(),
        },
    };
    match exec::run_form_from::<InviteColleague>(
        &state.page_schema,
        &ctx.viewer,
        Some(&client),
        vars,
    )
    .await?
    {
        Ok(data) => {
            let out = data.invite_colleague;
            Ok(redirect_with_flash(
                &session,
                PATH,
                sent_flash(&out.colleague.email, out.email_sent),
            )
            .await)
        }
        Err(errors) => {
            let data = load(&state, &ctx).await?;
            Ok(page(&ctx, &data, &typed, &errors).into_response())
        }
    }
}

pub async fn set_scope(
    State(state): State<AppState>,
    TeamManager(_who): TeamManager,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    let vars = set_colleague_scope::Variables {
        id: id.to_string(),
        names: names_of(&pairs(&body)),
    };
    let flash = match exec::run_form_from::<SetColleagueScope>(
        &state.page_schema,
        &ctx.viewer,
        Some(&client),
        vars,
    )
    .await?
    {
        Ok(d) => Flash::success(format!(
            "Saved: the ERP customers {} sees.",
            d.set_colleague_scope.email
        )),
        Err(errors) => Flash::error(errors.into_values().collect::<Vec<_>>().join(" ")),
    };
    Ok(redirect_with_flash(&session, PATH, flash).await)
}

#[derive(Deserialize)]
pub struct ActiveForm {
    #[serde(default)]
    active: String,
}

pub async fn set_active(
    State(state): State<AppState>,
    TeamManager(_who): TeamManager,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<ActiveForm>,
) -> Result<Response, AppError> {
    let vars = set_colleague_active::Variables {
        id: id.to_string(),
        active: form.active == "true",
    };
    let flash = match exec::run_form_from::<SetColleagueActive>(
        &state.page_schema,
        &ctx.viewer,
        Some(&client),
        vars,
    )
    .await?
    {
        Ok(d) if d.set_colleague_active.is_active => {
            Flash::success(format!("{} is active again.", d.set_colleague_active.email))
        }
        Ok(d) => Flash::success(format!(
            "{} is deactivated and signed out.",
            d.set_colleague_active.email
        )),
        Err(errors) => Flash::error(errors.into_values().collect::<Vec<_>>().join(" ")),
    };
    Ok(redirect_with_flash(&session, PATH, flash).await)
}

pub async fn resend(
    State(state): State<AppState>,
    TeamManager(_who): TeamManager,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let vars = resend_invitation::Variables { id: id.to_string() };
    let flash = match exec::run_form_from::<ResendInvitation>(
        &state.page_schema,
        &ctx.viewer,
        Some(&client),
        vars,
    )
    .await?
    {
        Ok(d) => sent_flash(
            &d.resend_invitation.colleague.email,
            d.resend_invitation.email_sent,
        ),
        Err(errors) => Flash::error(errors.into_values().collect::<Vec<_>>().join(" ")),
    };
    Ok(redirect_with_flash(&session, PATH, flash).await)
}

// The invited colleague's side.

#[derive(Deserialize)]
pub struct LinkQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

fn accept_page(ctx: &PageCtx, error: Option<&str>) -> Markup {
    layout::page(
        ctx,
        "Accept your invitation",
        html! {
            section class="auth-card card" {
                h1 { "Welcome to the WePackItAll Customer Portal" }
                p class="muted" { "Choose the password you will sign in with." }
                @if let Some(e) = error { div class="alert alert-error" role="alert" { (e) } }
                form method="post" action=(INVITATION_PATH) class="stack" {
                    (layout::csrf_field(ctx))
                    (super::reset::password_fields("Password", "Confirm password"))
                    button type="submit" class="btn btn-primary btn-block" { "Save and continue" }
                }
            }
        },
    )
}

fn expired_page(ctx: &PageCtx) -> Markup {
    layout::page(
        ctx,
        "Invitation expired",
        html! {
            section class="auth-card card" {
                h1 { "This invitation no longer works" }
                div class="alert alert-info" role="status" {
                    "An invitation link works once, for 72 hours, and a newer one replaces it. Ask the colleague who invited you to send it again."
                }
                p class="muted small" { "Already chose your password? " a href="/login" { "Sign in" } }
            }
        },
    )
}

async fn link_secret(session: &Session) -> Option<String> {
    session.get::<String>(LINK_KEY).await.ok().flatten()
}

/// The mailed link: keep its secret in the session and come back without it.
pub async fn show_accept(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    Query(q): Query<LinkQuery>,
) -> Result<Response, AppError> {
    if let Some(token) = q.token {
        return super::reset::keep_link(&session, LINK_KEY, token, INVITATION_PATH).await;
    }
    let valid = super::reset::kept_link_valid(&state, &ctx, &session, LINK_KEY).await?;
    Ok(if valid {
        accept_page(&ctx, None).into_response()
    } else {
        expired_page(&ctx).into_response()
    })
}

pub async fn submit_accept(
    State(state): State<AppState>,
    ctx: PageCtx,
    session: Session,
    client: ClientInfo,
    axum::Form(form): axum::Form<PasswordForm>,
) -> Result<Response, AppError> {
    let Some(token) = link_secret(&session).await else {
        return Ok(expired_page(&ctx).into_response());
    };
    let vars = accept_invitation::Variables {
        input: accept_invitation::ResetPasswordInput {
            token,
            new_password: form.new_password,
            confirm_password: form.confirm_password,
        },
    };
    match exec::run_form_from::<AcceptInvitation>(
        &state.page_schema,
        &ctx.viewer,
        Some(&client),
        vars,
    )
    .await?
    {
        Ok(_) => {
            if let Err(e) = session.remove::<String>(LINK_KEY).await {
                tracing::warn!(error = %e, "could not forget the used invitation link");
            }
            Ok(Redirect::to("/login?reason=invitation_accepted").into_response())
        }
        Err(errors) if errors.contains_key("token") => Ok(expired_page(&ctx).into_response()),
        Err(errors) => {
            let message = errors.into_values().collect::<Vec<_>>().join(" ");
            Ok(accept_page(&ctx, Some(&message)).into_response())
        }
    }
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(show))
        .route("/account/team/invite", post(invite))
        .route("/account/team/{id}/scope", post(set_scope))
        .route("/account/team/{id}/active", post(set_active))
        .route("/account/team/{id}/resend", post(resend))
        .route(INVITATION_PATH, get(show_accept).post(submit_accept))
}
