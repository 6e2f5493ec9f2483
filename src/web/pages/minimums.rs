//! `/inventory/minimums`: the minimum on hand set for each part, with the scope's current
//! totals; set, change and remove them. Every read and write runs the schema's minimum
//! operations (the same scope rule as the inventory).

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth::CustomerIdentity;
use crate::domain::ErpScope;
use crate::domain::format_qty;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec::{self, FieldErrors};
use crate::web::extractors::CurrentCustomer;
use crate::web::layout::{self, Flash, PageCtx, redirect_with_flash};
use crate::web::ops::{
    PartMinimums, RemovePartMinimum, SetPartMinimum, part_minimums, remove_part_minimum,
    set_part_minimum,
};

#[derive(Deserialize, Default)]
pub struct MinimumForm {
    #[serde(default)]
    erp_customer_name: String,
    #[serde(default)]
    part: String,
    #[serde(default)]
    minimum_qty: String,
}

fn customer_field(who: &CustomerIdentity, chosen: &str) -> Markup {
    html! {
        @match &who.scope {
            ErpScope::Customers(names) if names.len() > 1 => {
                label for="erp_customer_name" { "ERP customer" }
                select id="erp_customer_name" name="erp_customer_name" required {
                    @for n in names { option value=(n) selected[n == chosen] { (n) } }
                }
            }
            ErpScope::All => {
                label for="erp_customer_name" { "ERP customer" }
                input id="erp_customer_name" name="erp_customer_name" required maxlength="255" value=(chosen);
            }
            _ => {}
        }
    }
}

fn page(
    ctx: &PageCtx,
    who: &CustomerIdentity,
    list: &[part_minimums::PartMinimumsPartMinimums],
    form: &MinimumForm,
    errors: &FieldErrors,
) -> Markup {
    let multi = who.scope.is_multi();
    let below = list.iter().filter(|m| m.below_minimum).count();
    layout::page(
        ctx,
        "Minimums",
        html! {
            section class="tools-page" {
                div class="page-head" {
                    h1 { "Minimum stock" }
                    p class="muted" {
                        "Set the least you want on hand of a part. The inventory marks parts whose total across all lots and bins falls below it, "
                        "and the daily alert mail lists them. Everyone at your company who uses the portal shares these minimums."
                    }
                }
                @if below > 0 {
                    p { a class="alert-chip chip-warn" href="/inventory?below=1" { strong { (below) } " below minimum: show in the inventory" } }
                }
                div class="card" {
                    h2 { "Set a minimum" }
                    @if let Some(e) = errors.get(exec::FORM_FIELD) { div class="alert alert-error" role="alert" { (e) } }
                    form method="post" action="/inventory/minimums" class="inline-fields" {
                        (layout::csrf_field(ctx))
                        (customer_field(who, &form.erp_customer_name))
                        div class="field" {
                            label for="part" { "Part" }
                            input id="part" name="part" required maxlength="100" value=(form.part) autocomplete="off"
                                aria-invalid=[errors.contains_key("part").then_some("true")] aria-describedby="part-error";
                            @if let Some(e) = errors.get("part") { span id="part-error" class="field-error" { (e) } }
                        }
                        div class="field" {
                            label for="minimum_qty" { "Minimum on hand" }
                            input id="minimum_qty" name="minimum_qty" required inputmode="decimal" value=(form.minimum_qty)
                                aria-invalid=[errors.contains_key("minimum_qty").then_some("true")] aria-describedby="qty-error";
                            @if let Some(e) = errors.get("minimum_qty") { span id="qty-error" class="field-error" { (e) } }
                        }
                        @if let Some(e) = errors.get("erp_customer_name") { span class="field-error" { (e) } }
                        button type="submit" class="btn btn-primary" { "Save minimum" }
                    }
                }
                @if list.is_empty() {
                    p class="muted" { "No minimums yet." }
                } @else {
                    div class="table-wrap plain" {
                        table class="inv-table" {
                            thead { tr {
                                @if multi { th scope="col" { "Customer" } }
                                th scope="col" { "Part" } th scope="col" { "Description" }
                                th scope="col" class="num" { "On hand" } th scope="col" class="num" { "Minimum" }
                                th scope="col" { "Status" } th scope="col" { "Set by" } th scope="col" { span class="sr-only" { "Actions" } }
                            } }
                            tbody {
                                @for m in list {
                                    tr {
                                        @if multi { td data-label="Customer" { (m.erp_customer_name) } }
                                        td class="mono" data-label="Part" { (m.part) }
                                        td data-label="Description" { (m.description) }
                                        td class="num" data-label="On hand" {
                                            @match m.on_hand_total { Some(t) => (format_qty(t)), None => span class="muted" { "ERP unavailable" } }
                                        }
                                        td class="num" data-label="Minimum" { (format_qty(m.minimum_qty)) }
                                        td data-label="Status" {
                                            @if m.below_minimum { span class="badge badge-warn" { "Below minimum" } } @else if m.on_hand_total.is_some() { span class="pill pill-ok" { "OK" } }
                                        }
                                        td class="muted small" data-label="Set by" { (m.updated_by) }
                                        td {
                                            form method="post" action="/inventory/minimums/remove" class="inline-form" {
                                                (layout::csrf_field(ctx))
                                                input type="hidden" name="erp_customer_name" value=(m.erp_customer_name);
                                                input type="hidden" name="part" value=(m.part);
                                                button type="submit" class="btn btn-small btn-ghost" aria-label=(format!("Remove the minimum of {}", m.part)) { "Remove" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

async fn list(
    state: &AppState,
    ctx: &PageCtx,
) -> Result<Vec<part_minimums::PartMinimumsPartMinimums>, AppError> {
    Ok(
        exec::run::<PartMinimums>(&state.page_schema, &ctx.viewer, part_minimums::Variables {})
            .await?
            .part_minimums,
    )
}

pub async fn show(
    State(state): State<AppState>,
    CurrentCustomer(who): CurrentCustomer,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    let list = list(&state, &ctx).await?;
    Ok(page(
        &ctx,
        &who,
        &list,
        &MinimumForm::default(),
        &FieldErrors::new(),
    )
    .into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    CurrentCustomer(who): CurrentCustomer,
    ctx: PageCtx,
    session: Session,
    Form(form): Form<MinimumForm>,
) -> Result<Response, AppError> {
    let qty = form.minimum_qty.trim().replace(',', "");
    let Ok(minimum_qty) = qty.parse::<f64>() else {
        let list = list(&state, &ctx).await?;
        let errors = FieldErrors::from([(
            "minimum_qty".to_owned(),
            "Enter a number, e.g. 250.".to_owned(),
        )]);
        return Ok(page(&ctx, &who, &list, &form, &errors).into_response());
    };
    let vars = set_part_minimum::Variables {
        input: set_part_minimum::SetPartMinimumInput {
            erp_customer_name: (!form.erp_customer_name.trim().is_empty())
                .then(|| form.erp_customer_name.clone()),
            part: form.part.clone(),
            minimum_qty,
        },
    };
    match exec::run_form::<SetPartMinimum>(&state.page_schema, &ctx.viewer, vars).await? {
        Ok(done) => Ok(redirect_with_flash(
            &session,
            "/inventory/minimums",
            Flash::success(format!("Minimum of {} saved.", done.set_part_minimum.part)),
        )
        .await),
        Err(errors) => {
            let list = list(&state, &ctx).await?;
            Ok(page(&ctx, &who, &list, &form, &errors).into_response())
        }
    }
}

pub async fn remove(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
    session: Session,
    Form(form): Form<MinimumForm>,
) -> Result<Response, AppError> {
    let vars = remove_part_minimum::Variables {
        customer: (!form.erp_customer_name.is_empty()).then(|| form.erp_customer_name.clone()),
        part: form.part.clone(),
    };
    let flash = match exec::run::<RemovePartMinimum>(&state.page_schema, &ctx.viewer, vars).await {
        Ok(_) => Flash::success(format!("Minimum of {} removed.", form.part)),
        Err(AppError::NotFound) => Flash::info("That minimum was already removed."),
        Err(e) => return Err(e),
    };
    Ok(redirect_with_flash(&session, "/inventory/minimums", flash).await)
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory/minimums", get(show).post(submit))
        .route("/inventory/minimums/remove", post(remove))
}
