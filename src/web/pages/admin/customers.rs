//! `/admin/customers`: the accounts table (server-side status filter, instant search in the
//! browser), and the Add / Edit modals, Reset PW, Deactivate / Reactivate — all through the
//! GraphQL schema.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::when_str;
use crate::auth::Viewer;
use crate::error::AppError;
use crate::graphql::exec;
use crate::state::AppState;
use crate::web::extractors::CurrentAdmin;
use crate::web::layout::{self, Flash, PageCtx};

const FIELDS: &str =
    "id firstName lastName email erpCustomerNames isActive mustResetPassword lastLoginDate";

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRow {
    pub id: String,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: String,
    pub erp_customer_names: Vec<String>,
    pub is_active: bool,
    pub must_reset_password: bool,
    pub last_login_date: Option<String>,
}

impl CustomerRow {
    fn name(&self) -> String {
        match &self.last_name {
            Some(l) if !l.is_empty() => format!("{} {l}", self.first_name),
            _ => self.first_name.clone(),
        }
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
    fn gql(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::Inactive => "INACTIVE",
            Status::All => "ALL",
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

async fn list(
    state: &AppState,
    viewer: &Viewer,
    status: Status,
) -> Result<Vec<CustomerRow>, AppError> {
    #[derive(Deserialize)]
    struct Data {
        customers: Vec<CustomerRow>,
    }
    let q =
        format!("query($status: CustomerStatus) {{ customers(status: $status) {{ {FIELDS} }} }}");
    let data: Data =
        exec::execute(&state.schema, viewer, &q, json!({ "status": status.gql() })).await?;
    Ok(data.customers)
}

fn table(rows: &[CustomerRow], status: Status, oob: bool) -> Markup {
    html! {
        div id="customers-table-wrap" hx-swap-oob=[oob.then_some("true")] data-status=(status.param()) {
            div class="table-wrap admin-table-wrap" {
                table class="admin-table" id="customers-table" {
                    thead { tr {
                        th { "Name" } th { "Email" } th { "ERP customers" } th { "Active" } th { "Must reset" } th { "Last login" } th { span class="sr-only" { "Actions" } }
                    } }
                    tbody {
                        @for c in rows {
                            @let search = format!("{} {} {}", c.name(), c.email, c.erp_customer_names.join(" ")).to_lowercase();
                            tr data-search=(search) id=(format!("customer-{}", c.id)) {
                                td { (c.name()) }
                                td { (c.email) }
                                td class="erp-names" { (c.erp_customer_names.join(" | ")) }
                                td { @if c.is_active { span class="pill pill-ok" { "Active" } } @else { span class="pill pill-bad" { "Inactive" } } }
                                td { @if c.must_reset_password { span class="pill pill-info" { "Yes" } } @else { "No" } }
                                td { (c.last_login_date.as_deref().map(when_str).unwrap_or_else(|| "Never".to_owned())) }
                                td class="row-actions" {
                                    button type="button" class="btn btn-small" hx-get=(format!("/admin/customers/{}/edit", c.id)) hx-target="#modal" { "Edit" }
                                    button type="button" class="btn btn-small" hx-post=(format!("/admin/customers/{}/reset-password", c.id))
                                        hx-confirm=(format!("Reset the password of {}? A new temporary password is emailed and their sessions end.", c.email))
                                        hx-target="#customers-table-wrap" hx-swap="outerHTML" { "Reset PW" }
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
            (table(&rows, status, false))
            div id="modal" class="modal-host" {}
        },
    ))
}

/// The ERP checklist comes live from `erpCustomerNames`.
async fn erp_names(state: &AppState, viewer: &Viewer) -> Result<Vec<String>, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        erp_customer_names: Vec<String>,
    }
    match exec::execute::<Data>(&state.schema, viewer, "{ erpCustomerNames }", json!({})).await {
        Ok(d) => Ok(d.erp_customer_names),
        Err(AppError::ErpUnavailable) => {
            Err("The ERP customer list is unavailable right now.".to_owned())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The values of the Add / Edit form as typed.
#[derive(Debug, Clone, Default)]
struct FormValues {
    first_name: String,
    last_name: String,
    email: String,
    erp: Vec<String>,
    is_active: bool,
}

impl FormValues {
    fn from_pairs(pairs: &[(String, String)]) -> FormValues {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut erp: Vec<String> = pairs
            .iter()
            .filter(|(n, _)| n == "erp_customer_names")
            .map(|(_, v)| v.clone())
            .collect();
        if erp.iter().any(|n| n == "All") {
            erp = vec!["All".to_owned()];
        }
        FormValues {
            first_name: get("first_name"),
            last_name: get("last_name"),
            email: get("email"),
            erp,
            is_active: pairs.iter().any(|(n, v)| n == "is_active" && v == "true"),
        }
    }
}

fn parse_pairs(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn modal(
    ctx: &PageCtx,
    id: Option<&str>,
    values: &FormValues,
    names: &Result<Vec<String>, String>,
    errors: &serde_json::Map<String, Value>,
) -> Markup {
    let err = |f: &str| errors.get(f).and_then(|v| v.as_str()).map(str::to_owned);
    let (title, action) = match id {
        Some(id) => ("Edit customer", format!("/admin/customers/{id}")),
        None => ("Add customer", "/admin/customers".to_owned()),
    };
    let all = values.erp.iter().any(|n| n == "All");
    let field_error = |f: &str| html! { @if let Some(e) = err(f) { span class="field-error" role="alert" { (e) } } };
    html! {
        div class="modal-backdrop" data-modal-close {}
        div class="modal card" role="dialog" aria-modal="true" aria-labelledby="modal-title" {
            h2 id="modal-title" { (title) }
            form hx-post=(action) hx-target="#modal" class="stack" novalidate {
                (layout::csrf_field(ctx))
                @if let Some(e) = err("_form") { div class="alert alert-error" role="alert" { (e) } }
                div class="two-col" {
                    div class="stack" {
                        label for="first_name" { "First name" }
                        input id="first_name" name="first_name" type="text" value=(values.first_name) maxlength="100" required;
                        (field_error("first_name"))
                    }
                    div class="stack" {
                        label for="last_name" { "Last name" }
                        input id="last_name" name="last_name" type="text" value=(values.last_name) maxlength="100";
                        (field_error("last_name"))
                    }
                }
                label for="email" { "Email" }
                input id="email" name="email" type="email" value=(values.email) maxlength="254" required;
                (field_error("email"))
                fieldset class="erp-fieldset" {
                    legend { "ERP customers" }
                    label class="check" {
                        input type="checkbox" name="erp_customer_names" value="All" checked[all] data-erp-all;
                        strong { "All" } span class="muted" { " — every ERP customer, now and future" }
                    }
                    @match names {
                        Ok(names) => {
                            input type="search" class="checklist-search" placeholder="Filter ERP customers…" data-checklist-filter=".erp-checklist" aria-label="Filter ERP customers";
                            div class="erp-checklist" {
                                @for n in names {
                                    label class="check" data-name=(n.to_lowercase()) {
                                        input type="checkbox" name="erp_customer_names" value=(n) checked[values.erp.contains(n)] disabled[all];
                                        (n)
                                    }
                                }
                                // Names assigned before that the ERP no longer lists stay visible.
                                @for n in values.erp.iter().filter(|n| *n != "All" && !names.contains(n)) {
                                    label class="check" data-name=(n.to_lowercase()) {
                                        input type="checkbox" name="erp_customer_names" value=(n) checked;
                                        (n) span class="muted" { " (not in the ERP)" }
                                    }
                                }
                            }
                        }
                        Err(message) => {
                            div class="alert alert-error" { (message) " Only \"All\" or the current names can be kept." }
                            @for n in values.erp.iter().filter(|n| *n != "All") {
                                input type="hidden" name="erp_customer_names" value=(n);
                            }
                        }
                    }
                    (field_error("erp_customer_names"))
                }
                @if id.is_some() {
                    label class="check" {
                        input type="checkbox" name="is_active" value="true" checked[values.is_active];
                        "Active (can sign in)"
                    }
                }
                @if id.is_none() {
                    p class="muted small" { "A temporary password is generated and emailed with a welcome message; the customer must change it at first sign-in." }
                }
                div class="modal-actions" {
                    button type="button" class="btn btn-ghost" data-modal-close { "Cancel" }
                    button type="submit" class="btn btn-primary" { (if id.is_some() { "Save changes" } else { "Create account" }) }
                }
            }
        }
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
        &serde_json::Map::new(),
    )
}

pub async fn edit_modal(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Markup, AppError> {
    #[derive(Deserialize)]
    struct Data {
        customer: Option<CustomerRow>,
    }
    let q = format!("query($id: ID!) {{ customer(id: $id) {{ {FIELDS} }} }}");
    let data: Data = exec::execute(&state.schema, &ctx.viewer, &q, json!({ "id": id })).await?;
    let c = data.customer.ok_or(AppError::NotFound)?;
    let values = FormValues {
        first_name: c.first_name.clone(),
        last_name: c.last_name.clone().unwrap_or_default(),
        email: c.email.clone(),
        erp: c.erp_customer_names.clone(),
        is_active: c.is_active,
    };
    let names = erp_names(&state, &ctx.viewer).await;
    Ok(modal(
        &ctx,
        Some(&c.id),
        &values,
        &names,
        &serde_json::Map::new(),
    ))
}

/// Runs a mutation; field errors come back for the form, anything else is an error.
async fn mutate(
    state: &AppState,
    viewer: &Viewer,
    query: &str,
    vars: Value,
) -> Result<Result<Value, serde_json::Map<String, Value>>, AppError> {
    let request = async_graphql::Request::new(query)
        .variables(async_graphql::Variables::from_json(vars))
        .data(viewer.clone());
    let response = state.schema.execute(request).await;
    if let Some(err) = response.errors.first() {
        let ext = err.extensions.as_ref();
        let code = ext
            .and_then(|x| x.get("code"))
            .map(|v| v.to_string().trim_matches('"').to_owned())
            .unwrap_or_default();
        if code == "BAD_USER_INPUT" {
            let fields = ext
                .and_then(|x| x.get("fields"))
                .and_then(|v| v.clone().into_json().ok())
                .and_then(|v| v.as_object().cloned())
                .unwrap_or_else(|| {
                    let mut m = serde_json::Map::new();
                    m.insert("_form".into(), json!(err.message));
                    m
                });
            return Ok(Err(fields));
        }
        return Err(match code.as_str() {
            "FORBIDDEN" => AppError::Forbidden,
            "UNAUTHENTICATED" => AppError::Unauthenticated,
            "NOT_FOUND" => AppError::NotFound,
            _ => AppError::Internal(anyhow::anyhow!("mutation failed: {}", err.message)),
        });
    }
    Ok(Ok(response
        .data
        .into_json()
        .map_err(|e| AppError::Internal(e.into()))?))
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
        (table(&rows, status, oob_table))
        div id="flashes" hx-swap-oob="true" { (layout::flash_list(&[flash])) }
    }
    .into_response())
}

/// Field errors of an action that has no form to show them in.
fn field_errors(errors: &serde_json::Map<String, Value>) -> AppError {
    AppError::BadRequest(
        errors
            .values()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn issued_flash(verb: &str, payload: &Value) -> Flash {
    let email = payload["customer"]["email"].as_str().unwrap_or("");
    if payload["emailSent"].as_bool() == Some(true) {
        Flash::success(format!(
            "{verb} {email}: the temporary password was emailed."
        ))
    } else {
        let pw = payload["temporaryPassword"].as_str().unwrap_or("");
        Flash::error(format!(
            "{verb} {email}, but the email could not be sent. Temporary password: {pw} — give it to the customer securely."
        ))
    }
}

fn status_from_headers(headers: &axum::http::HeaderMap) -> Status {
    // The page the admin is on (its ?status=), so the refreshed table keeps the filter.
    let url = headers
        .get("hx-current-url")
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
    let q = format!(
        "mutation($input: CustomerInput!) {{ createCustomer(input: $input) {{ emailSent temporaryPassword customer {{ {FIELDS} }} }} }}"
    );
    let vars = json!({ "input": {
        "firstName": values.first_name, "lastName": values.last_name, "email": values.email, "erpCustomerNames": values.erp,
    }});
    match mutate(&state, &ctx.viewer, &q, vars).await? {
        Ok(data) => {
            refreshed(
                &state,
                &ctx,
                issued_flash("Created", &data["createCustomer"]),
                status_from_headers(&headers),
                true,
            )
            .await
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
    let q = format!(
        "mutation($id: ID!, $input: CustomerUpdateInput!) {{ updateCustomer(id: $id, input: $input) {{ {FIELDS} }} }}"
    );
    let vars = json!({ "id": id, "input": {
        "firstName": values.first_name, "lastName": values.last_name, "email": values.email,
        "erpCustomerNames": values.erp, "isActive": values.is_active,
    }});
    match mutate(&state, &ctx.viewer, &q, vars).await? {
        Ok(data) => {
            let email = data["updateCustomer"]["email"]
                .as_str()
                .unwrap_or("")
                .to_owned();
            refreshed(
                &state,
                &ctx,
                Flash::success(format!("Saved {email}.")),
                status_from_headers(&headers),
                true,
            )
            .await
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
    let q = format!(
        "mutation($id: ID!) {{ resetCustomerPassword(id: $id) {{ emailSent temporaryPassword customer {{ {FIELDS} }} }} }}"
    );
    match mutate(&state, &ctx.viewer, &q, json!({ "id": id })).await? {
        Ok(data) => {
            refreshed(
                &state,
                &ctx,
                issued_flash("Password reset for", &data["resetCustomerPassword"]),
                status_from_headers(&headers),
                false,
            )
            .await
        }
        Err(errors) => Err(field_errors(&errors)),
    }
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
    let q = format!(
        "mutation($id: ID!, $active: Boolean!) {{ setCustomerActive(id: $id, active: $active) {{ {FIELDS} }} }}"
    );
    match mutate(
        &state,
        &ctx.viewer,
        &q,
        json!({ "id": id, "active": active }),
    )
    .await?
    {
        Ok(data) => {
            let email = data["setCustomerActive"]["email"]
                .as_str()
                .unwrap_or("")
                .to_owned();
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
        Err(errors) => Err(field_errors(&errors)),
    }
}
