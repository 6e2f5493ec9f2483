//! `/inventory`: the customer's view. Until the live inventory grid lands this page says
//! so, and shows the account's ERP scope, read through the GraphQL schema like every page.

use axum::extract::State;
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::AppError;
use crate::graphql::exec;
use crate::state::AppState;
use crate::web::extractors::CurrentCustomer;
use crate::web::layout::{self, PageCtx};

const VIEWER_QUERY: &str =
    "query InventoryViewer { viewer { displayName customer { erpCustomerNames } } }";

#[derive(Deserialize)]
struct Data {
    viewer: ViewerData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ViewerData {
    display_name: Option<String>,
    customer: Option<CustomerData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomerData {
    erp_customer_names: Vec<String>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    let data: Data = exec::execute(
        &state.schema,
        &ctx.viewer,
        VIEWER_QUERY,
        serde_json::json!({}),
    )
    .await?;
    let names = data
        .viewer
        .customer
        .map(|c| c.erp_customer_names)
        .unwrap_or_default();
    Ok(layout::page(
        &ctx,
        "Inventory",
        html! {
            section class="card" {
                h1 { "Inventory" }
                p { "Welcome, " (data.viewer.display_name.unwrap_or_default()) "." }
                div class="alert alert-info" role="status" {
                    "The live inventory grid is being connected to the ERP and will appear here in the next release."
                }
                h2 class="h3" { "Your account covers" }
                ul class="scope-list" {
                    @for n in &names {
                        li { @if n == "All" { "All ERP customers" } @else { (n) } }
                    }
                }
            }
        },
    ))
}
