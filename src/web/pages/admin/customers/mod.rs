//! `/admin/customers`: the accounts table (server-side status filter, instant search in the
//! browser), and the Add / Edit modals, Reset PW, Deactivate / Reactivate — all through
//! the GraphQL operations in `src/web/ops/customers.graphql`.

use axum::Router;
use axum::routing::{get, post};
mod modal;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::when;
use crate::auth::Viewer;
use crate::domain::Zone;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec::{self, FieldErrors};
use crate::web::extractors::CurrentAdmin;
use crate::web::layout::{self, Flash, PageCtx};
use crate::web::ops::{
    CreateCustomer, CustomerForEdit, CustomerList, ErpCustomerNames, ResetCustomerPassword,
    ResetCustomerTwoFactor, SetCustomerActive, UpdateCustomer, create_customer, customer_for_edit,
    customer_list, erp_customer_names, reset_customer_password, reset_customer_two_factor,
    set_customer_active, update_customer,
};
use crate::web::ops::{SetTeamManager, Teams, set_team_manager, teams};
use modal::{FormValues, modal, parse_pairs};

/// A row of the accounts table, as `CustomerList` returns it.
type CustomerRow = customer_list::CustomerListCustomers;

fn name(c: &CustomerRow) -> String {
    match &c.last_name {
        Some(l) if !l.is_empty() => format!("{} {l}", c.first_name),
        _ => c.first_name.clone(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Active,
    Inactive,
    All,
}

impl Status {
    fn parse(s: Option<&str>) -> Status {
        match s {
            Some("inactive") => Status::Inactive,
            Some("all") => Status::All,
            _ => Status::Active,
        }
    }
    fn gql(self) -> customer_list::CustomerStatus {
        match self {
            Status::Active => customer_list::CustomerStatus::ACTIVE,
            Status::Inactive => customer_list::CustomerStatus::INACTIVE,
            Status::All => customer_list::CustomerStatus::ALL,
        }
    }
    fn param(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::All => "all",
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ListParams {
    status: Option<String>,
}

/// Who manages whom, for the accounts table: manager ids, and each colleague's manager.
#[derive(Debug, Default)]
struct TeamMarks {
    managers: std::collections::HashSet<String>,
    /// Colleague id → their manager's email.
    managed_by: std::collections::HashMap<String, String>,
}

async fn list(
    state: &AppState,
    viewer: &Viewer,
    status: Status,
) -> Result<(Vec<CustomerRow>, TeamMarks), AppError> {
    let vars = customer_list::Variables {
        status: Some(status.gql()),
    };
    let rows = exec::run::<CustomerList>(&state.page_schema, viewer, vars)
        .await?
        .customers;
    let mut marks = TeamMarks::default();
    for t in exec::run::<Teams>(&state.page_schema, viewer, teams::Variables)
        .await?
        .teams
    {
        match t.managed_by {
            Some(m) => {
                marks.managed_by.insert(t.account.id, m.email);
            }
            None if t.is_manager => {
                marks.managers.insert(t.account.id);
            }
            None => {}
        }
    }
    Ok((rows, marks))
}

fn table(
    (rows, marks): &(Vec<CustomerRow>, TeamMarks),
    status: Status,
    oob: bool,
    zone: &Zone,
) -> Markup {
    html! {
        div id="customers-table-wrap" hx-swap-oob=[oob.then_some("true")] data-status=(status.param()) {
            div class="table-wrap admin-table-wrap" {
                table class="admin-table" id="customers-table" {
                    thead { tr {
                        th { "Name" } th { "Email" } th { "ERP customers" } th { "Active" } th { "Must reset" } th { "Created" } th { "Last login" } th { span class="sr-only" { "Actions" } }
                    } }
                    tbody {
                        @for c in rows {
                            @let search = format!("{} {} {}", name(c), c.email, c.erp_customer_names.join(" ")).to_lowercase();
                            tr data-search=(search) id=(format!("customer-{}", c.id)) {
                                td {
                                    (name(c))
                                    @if marks.managers.contains(&c.id) { " " span class="pill pill-info" { "Team manager" } }
                                    @if let Some(m) = marks.managed_by.get(&c.id) { br; span class="muted small" { "Colleague of " (m) } }
                                }
                                td { (c.email) }
                                td class="erp-names" { (c.erp_customer_names.join(" | ")) }
                                td { @if c.is_active { span class="pill pill-ok" { "Active" } } @else { span class="pill pill-bad" { "Inactive" } } }
                                td { @if c.must_reset_password { span class="pill pill-info" { "Yes" } } @else { "No" } }
                                td class="nowrap" { (c.created_date.map(|t| crate::domain::format_us_date(zone.at(t.0).date())).unwrap_or_default()) }
                                td { (c.last_login_date.map(|t| when(zone, &t.0)).unwrap_or_else(|| "Never".to_owned())) }
                                td class="row-actions" {
                                    button type="button" class="btn btn-small" hx-get=(format!("/admin/customers/{}/edit", c.id)) hx-target="#modal" { "Edit" }
                                    button type="button" class="btn btn-small" hx-post=(format!("/admin/customers/{}/reset-password", c.id))
                                        hx-confirm=(format!("Reset the password of {}? A new temporary password is emailed and their sessions end.", c.email))
                                        hx-target="#customers-table-wrap" hx-swap="outerHTML" { "Reset PW" }
                                    button type="button" class="btn btn-small" hx-post=(format!("/admin/customers/{}/reset-two-step", c.id))
                                        hx-confirm=(format!("Turn off two-step sign-in for {}? Their next sign-in asks for the password only, and they are told by mail.", c.email))
                                        hx-target="#customers-table-wrap" hx-swap="outerHTML" { "Reset 2-step" }
                                    @if marks.managers.contains(&c.id) {
                                        button type="button" class="btn btn-small" hx-post=(format!("/admin/customers/{}/team-manager", c.id)) hx-vals=r#"{"manager":"false"}"#
                                            hx-confirm=(format!("Stop {} managing their team? Their colleagues keep their accounts and ERP customers.", c.email))
                                            hx-target="#customers-table-wrap" hx-swap="outerHTML" { "Stop team manager" }
                                    } @else if !marks.managed_by.contains_key(&c.id) {
                                        button type="button" class="btn btn-small" hx-post=(format!("/admin/customers/{}/team-manager", c.id)) hx-vals=r#"{"manager":"true"}"#
                                            hx-confirm=(format!("Make {} the team manager of their ERP customers? They can then invite colleagues and give them all or part of what they see.", c.email))
                                            hx-target="#customers-table-wrap" hx-swap="outerHTML" { "Make team manager" }
                                    }
                                    @if c.is_active {
                                        button type="button" class="btn btn-small btn-danger" hx-post=(format!("/admin/customers/{}/active", c.id)) hx-vals=r#"{"active":"false"}"#
                                            hx-confirm=(format!("Deactivate {}? They are signed out at once.", c.email))
                                            hx-target="#customers-table-wrap" hx-swap="outerHTML" { "Deactivate" }
                                    } @else {
                                        button type="button" class="btn btn-small" hx-post=(format!("/admin/customers/{}/active", c.id)) hx-vals=r#"{"active":"true"}"#
                                            hx-confirm=(format!("Reactivate {}?", c.email))
                                            hx-target="#customers-table-wrap" hx-swap="outerHTML" { "Reactivate" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p class="muted" id="customers-count" data-total=(rows.len()) { "Showing " (rows.len()) " of " (rows.len()) }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    CurrentAdmin(_admin): CurrentAdmin,
    ctx: PageCtx,
    Query(p): Query<ListParams>,
) -> Result<Markup, AppError> {
    let status = Status::parse(p.status.as_deref());
    let rows = list(&state, &ctx.viewer, status).await?;
    Ok(layout::page_with_scripts(
        &ctx,
        "Customers",
        &[crate::web::assets::url("/assets/js/admin.js")],
        html! {
            div class="admin-head" {
                h1 { "Customer accounts" }
                button type="button" class="btn btn-primary" hx-get="/admin/customers/new" hx-target="#modal" { "Add customer" }
            }
            div class="admin-toolbar" {
                nav class="tabs" aria-label="Status" {
                    @for s in [Status::Active, Status::Inactive, Status::All] {
                        a href=(format!("/admin/customers?status={}", s.param())) class=(if s == status { "tab active" } else { "tab" })
                            aria-current=[(s == status).then_some("page")] {
                            (match s { Status::Active => "Active", Status::Inactive => "Inactive", Status::All => "All" })
                        }
                    }
                }
                label class="sr-only" for="customer-search" { "Search customers" }
                input id="customer-search" type="search" placeholder="Search name, email or ERP customer…"
                    data-filter-table="#customers-table" data-filter-count="#customers-count" autocomplete="off";
            }
            (table(&rows, status, false, &ctx.zone))
            div id="modal" class="modal-host" {}
        },
    ))
}

/// The ERP checklist comes live from `erpCustomerNames`.
async fn erp_names(state: &AppState, viewer: &Viewer) -> Result<Vec<String>, String> {
    match exec::run::<ErpCustomerNames>(&state.page_schema, viewer, erp_customer_names::Variables)
        .await
    {
        Ok(d) => Ok(d.erp_customer_names),
        Err(AppError::ErpUnavailable) => {
            Err("The ERP customer list is unavailable right now.".to_owned())
        }
        Err(e) => Err(e.to_string()),
    }
}

pub async fn new_modal(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
) -> Markup {
    let names = erp_names(&state, &ctx.viewer).await;
    modal(
        &ctx,
        None,
        &FormValues::default(),
        &names,
        &FieldErrors::new(),
    )
}

pub async fn edit_modal(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Markup, AppError> {
    let vars = customer_for_edit::Variables { id };
    let c = exec::run::<CustomerForEdit>(&state.page_schema, &ctx.viewer, vars)
        .await?
        .customer
        .ok_or(AppError::NotFound)?;
    let values = FormValues {
        first_name: c.first_name,
        last_name: c.last_name.unwrap_or_default(),
        email: c.email,
        erp: c.erp_customer_names,
        is_active: c.is_active,
    };
    let names = erp_names(&state, &ctx.viewer).await;
    Ok(modal(
        &ctx,
        Some(&c.id),
        &values,
        &names,
        &FieldErrors::new(),
    ))
}

/// After a change: the table again (out of band), the modal closed, and a flash message.
async fn refreshed(
    state: &AppState,
    ctx: &PageCtx,
    flash: Flash,
    status: Status,
    oob_table: bool,
) -> Result<Response, AppError> {
    let rows = list(state, &ctx.viewer, status).await?;
    Ok(html! {
        (table(&rows, status, oob_table, &ctx.zone))
        div id="flashes" hx-swap-oob="true" { (layout::flash_list(&[flash])) }
    }
    .into_response())
}

/// The flash after an action that issued a temporary password: never "emailed" for a
/// mail that went nowhere.
fn issued_flash(
    verb: &str,
    email: &str,
    email_sent: bool,
    kept_in_outbox: bool,
    password: Option<&str>,
) -> Flash {
    if email_sent && kept_in_outbox {
        Flash::success(format!(
            "{verb} {email}: demo mode, so the mail with the temporary password was kept in the outbox (Admin → Outbox), not sent."
        ))
    } else if email_sent {
        Flash::success(format!(
            "{verb} {email}: the temporary password was emailed."
        ))
    } else {
        let pw = password.unwrap_or("");
        Flash::error(format!(
            "{verb} {email}, but the email could not be sent. Temporary password: {pw} — give it to the customer securely."
        ))
    }
}

fn status_from_headers(headers: &axum::http::HeaderMap) -> Status {
    // The page the admin is on (its ?status=), so the refreshed table keeps the filter.
    let url = headers
        .get(axum_htmx::HX_CURRENT_URL)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let status = url
        .split_once("status=")
        .map(|(_, s)| s.split('&').next().unwrap_or(""));
    Status::parse(status)
}

pub async fn create(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let values = FormValues::from_pairs(&parse_pairs(&body));
    let vars = create_customer::Variables {
        input: create_customer::CustomerInput {
            first_name: values.first_name.clone(),
            last_name: Some(values.last_name.clone()),
            email: values.email.clone(),
            erp_customer_names: values.erp.clone(),
        },
    };
    match exec::run_form::<CreateCustomer>(&state.page_schema, &ctx.viewer, vars).await? {
        Ok(data) => {
            let p = data.create_customer;
            let flash = issued_flash(
                "Created",
                &p.customer.email,
                p.email_sent,
                p.kept_in_outbox,
                p.temporary_password.as_deref(),
            );
            refreshed(&state, &ctx, flash, status_from_headers(&headers), true).await
        }
        Err(errors) => {
            let names = erp_names(&state, &ctx.viewer).await;
            Ok(modal(&ctx, None, &values, &names, &errors).into_response())
        }
    }
}

pub async fn update(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let values = FormValues::from_pairs(&parse_pairs(&body));
    let vars = update_customer::Variables {
        id: id.clone(),
        input: update_customer::CustomerUpdateInput {
            first_name: values.first_name.clone(),
            last_name: Some(values.last_name.clone()),
            email: values.email.clone(),
            erp_customer_names: values.erp.clone(),
            is_active: Some(values.is_active),
        },
    };
    match exec::run_form::<UpdateCustomer>(&state.page_schema, &ctx.viewer, vars).await? {
        Ok(data) => {
            let flash = Flash::success(format!("Saved {}.", data.update_customer.email));
            refreshed(&state, &ctx, flash, status_from_headers(&headers), true).await
        }
        Err(errors) => {
            let names = erp_names(&state, &ctx.viewer).await;
            Ok(modal(&ctx, Some(&id), &values, &names, &errors).into_response())
        }
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let vars = reset_customer_password::Variables { id };
    let p = exec::run::<ResetCustomerPassword>(&state.page_schema, &ctx.viewer, vars)
        .await?
        .reset_customer_password;
    let flash = issued_flash(
        "Password reset for",
        &p.customer.email,
        p.email_sent,
        p.kept_in_outbox,
        p.temporary_password.as_deref(),
    );
    refreshed(&state, &ctx, flash, status_from_headers(&headers), false).await
}

pub async fn reset_two_step(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let vars = reset_customer_two_factor::Variables { id };
    let was_on = exec::run::<ResetCustomerTwoFactor>(&state.page_schema, &ctx.viewer, vars)
        .await?
        .reset_customer_two_factor;
    let flash = if was_on {
        Flash::success("Two-step sign-in turned off; the customer was told by mail.")
    } else {
        Flash::info("That account did not have two-step sign-in on; nothing changed.")
    };
    refreshed(&state, &ctx, flash, status_from_headers(&headers), false).await
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<ActiveForm>,
) -> Result<Response, AppError> {
    let active = form.active == "true";
    let vars = set_customer_active::Variables { id, active };
    let email = exec::run::<SetCustomerActive>(&state.page_schema, &ctx.viewer, vars)
        .await?
        .set_customer_active
        .email;
    let msg = if active {
        format!("Reactivated {email}.")
    } else {
        format!("Deactivated {email}; their sessions have ended.")
    };
    refreshed(
        &state,
        &ctx,
        Flash::success(msg),
        status_from_headers(&headers),
        false,
    )
    .await
}

#[derive(Deserialize)]
pub struct TeamManagerForm {
    manager: String,
}

pub async fn set_team_manager(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<TeamManagerForm>,
) -> Result<Response, AppError> {
    let manager = form.manager == "true";
    let vars = set_team_manager::Variables { id, manager };
    let flash =
        match exec::run_form::<SetTeamManager>(&state.page_schema, &ctx.viewer, vars).await? {
            Ok(d) if manager => Flash::success(format!(
                "{} is now the team manager of their ERP customers: \"Team\" in their menu.",
                d.set_team_manager.email
            )),
            Ok(d) => Flash::success(format!(
                "{} no longer manages a team; their colleagues keep their accounts.",
                d.set_team_manager.email
            )),
            Err(errors) => Flash::error(errors.into_values().collect::<Vec<_>>().join(" ")),
        };
    refreshed(&state, &ctx, flash, status_from_headers(&headers), false).await
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/customers", get(show).post(create))
        .route("/admin/customers/new", get(new_modal))
        .route("/admin/customers/{id}", post(update))
        .route("/admin/customers/{id}/edit", get(edit_modal))
        .route("/admin/customers/{id}/reset-password", post(reset_password))
        .route("/admin/customers/{id}/reset-two-step", post(reset_two_step))
        .route("/admin/customers/{id}/active", post(set_active))
        .route("/admin/customers/{id}/team-manager", post(set_team_manager))
}
