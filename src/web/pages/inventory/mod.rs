//! `/inventory`: the customer's live inventory grid, its htmx fragments and its exports.
//!
//! The page and the grid fragment (`/inventory/grid`) run the `InventoryView` operation,
//! the next-rows fragment (`/inventory/rows`) runs `InventoryMoreRows` (no options, no
//! counts), all in-process through the schema (`src/web/ops/inventory.graphql`). The
//! exports (`/inventory/export.xlsx`, `.csv`) take their rows from the inventory service
//! with a grant from the same access rule the resolver uses.

use axum::Router;
use axum::routing::get;
mod export;
mod markup;

use axum::Extension;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use time::{Date, OffsetDateTime};

pub use crate::inventory::View;
pub use export::{export_csv, export_xlsx};
use markup::{Cover, Grid, GridRow, More, Problem};

use crate::auth::Viewer;
use crate::domain::ErpScope;
use crate::erp::InventoryRow;
use crate::error::AppError;
use crate::graphql::saved_views::ViewsReadAhead;
use crate::inventory::{ExpiryWindow, SortField};
use crate::state::AppState;
use crate::web::exec;
use crate::web::extractors::CurrentCustomer;
use crate::web::layout::PageCtx;
use crate::web::ops::{
    InventoryMoreRows, InventoryOptions, InventoryView, SavedViewsMenu, inventory_more_rows,
    inventory_options, inventory_view, saved_views_menu,
};

/// Extra parameters of the fragments.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FragmentParams {
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub refresh: Option<String>,
    /// The fingerprint of the dropdowns the browser shows.
    #[serde(default)]
    pub fh: Option<String>,
}

/// The view's filter, sort and rows in the types generated for one operation module
/// (each operation gets its own copies of the schema's input types).
macro_rules! view_types {
    ($m:ident) => {
        impl From<&View> for $m::InventoryFilter {
            fn from(view: &View) -> Self {
                let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
                $m::InventoryFilter {
                    search: opt(&view.q),
                    part: opt(&view.part),
                    bin: opt(&view.bin),
                    status: opt(&view.status),
                    expiry: view.expiry_window().map(|w| match w {
                        ExpiryWindow::Expired => $m::ExpiryRange::EXPIRED,
                        ExpiryWindow::Within30 => $m::ExpiryRange::WITHIN_30_DAYS,
                        ExpiryWindow::Within60 => $m::ExpiryRange::WITHIN_60_DAYS,
                        ExpiryWindow::Within90 => $m::ExpiryRange::WITHIN_90_DAYS,
                    }),
                    below_minimum: (view.below == "1").then_some(true),
                    runs_out_within_days: view.runout_days().map(|d| d as i64),
                }
            }
        }

        impl $m::InventorySort {
            fn of(view: &View) -> Option<Vec<$m::InventorySort>> {
                use $m::InventoryField as F;
                let field = match SortField::parse(&view.sort)? {
                    SortField::Customer => F::customer,
                    SortField::Part => F::part,
                    SortField::CustomerPart => F::customerPart,
                    SortField::Description => F::description,
                    SortField::OnHandQty => F::onHandQty,
                    SortField::Unit => F::unit,
                    SortField::Bin => F::bin,
                    SortField::Reference => F::reference,
                    SortField::UserLot => F::userLot,
                    SortField::ExpDate => F::expDate,
                    SortField::LastTransactionDate => F::lastTransactionDate,
                    SortField::LastRecDate => F::lastRecDate,
                    SortField::Po => F::po,
                    SortField::Status => F::status,
                    SortField::DaysToExpiry => F::daysToExpiry,
                    SortField::DaysOfCover => F::daysOfCover,
                };
                let direction = if view.dir == "desc" {
                    $m::SortDirection::DESC
                } else {
                    $m::SortDirection::ASC
                };
                Some(vec![$m::InventorySort { field, direction }])
            }
        }

        impl From<$m::InventoryRowFields> for GridRow {
            fn from(r: $m::InventoryRowFields) -> Self {
                use $m::ForecastStatus as S;
                GridRow {
                    days_to_expiry: r.days_to_expiry,
                    minimum_qty: r.minimum_qty,
                    below_minimum: r.below_minimum,
                    cover: match r.forecast.status {
                        S::FALLING => Cover::Falling {
                            days: r.forecast.days_of_cover.unwrap_or_default(),
                            runs_out_on: r.forecast.runs_out_on.map(|d| d.0),
                        },
                        S::NOT_FALLING => Cover::NotFalling,
                        _ => Cover::NotEnoughHistory,
                    },
                    row: InventoryRow {
                        customer: r.customer,
                        part: r.part,
                        customer_part: r.customer_part,
                        description: r.description,
                        on_hand_qty: r.on_hand_qty,
                        unit: r.unit,
                        bin: r.bin,
                        reference: r.reference,
                        user_lot: r.user_lot,
                        exp_date: r.exp_date.map(|d| d.0),
                        last_transaction_date: r.last_transaction_date.map(|d| d.0),
                        last_rec_date: r.last_rec_date.map(|d| d.0),
                        po: r.po,
                        status: r.status,
                    },
                }
            }
        }
    };
}

view_types!(inventory_view);
view_types!(inventory_more_rows);

impl From<&View> for inventory_options::InventoryFilter {
    fn from(view: &View) -> Self {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        use inventory_options::ExpiryRange as R;
        inventory_options::InventoryFilter {
            search: opt(&view.q),
            part: opt(&view.part),
            bin: opt(&view.bin),
            status: opt(&view.status),
            expiry: view.expiry_window().map(|w| match w {
                ExpiryWindow::Expired => R::EXPIRED,
                ExpiryWindow::Within30 => R::WITHIN_30_DAYS,
                ExpiryWindow::Within60 => R::WITHIN_60_DAYS,
                ExpiryWindow::Within90 => R::WITHIN_90_DAYS,
            }),
            below_minimum: (view.below == "1").then_some(true),
            runs_out_within_days: view.runout_days().map(|d| d as i64),
        }
    }
}

/// Runs `InventoryView`: the page passes no fingerprint and so always gets the options.
async fn view_grid(
    state: &AppState,
    viewer: &Viewer,
    view: &View,
    refresh: bool,
    fh: &str,
) -> Result<Grid, AppError> {
    let vars = inventory_view::Variables {
        filter: Some(view.into()),
        sort: inventory_view::InventorySort::of(view),
        refresh: Some(refresh),
        fh: fh.to_owned(),
    };
    let inv = exec::run::<InventoryView>(&state.page_schema, viewer, vars)
        .await?
        .inventory;
    Ok(Grid {
        total_count: inv.total_count,
        filtered_count: inv.filtered_count,
        as_of: inv.as_of.0,
        as_of_text: markup::as_of_text(&state.config.portal_zone, &inv.as_of.0),
        stale: inv.stale,
        expired: inv.expiry_counts.expired,
        expiring_soon: inv.expiry_counts.expiring_within30_days,
        facets_fingerprint: inv.facets_fingerprint,
        facets: inv.facets_if_changed,
        more: More {
            rows: inv.rows.into_iter().map(GridRow::from).collect(),
            multi_customer: inv.multi_customer,
            next_cursor: inv.next_cursor,
        },
    })
}

/// Runs `InventoryMoreRows`: the rows after `after`, nothing else.
async fn more_rows(
    state: &AppState,
    viewer: &Viewer,
    view: &View,
    after: Option<String>,
) -> Result<More, AppError> {
    let vars = inventory_more_rows::Variables {
        filter: Some(view.into()),
        sort: inventory_more_rows::InventorySort::of(view),
        after,
    };
    let inv = exec::run::<InventoryMoreRows>(&state.page_schema, viewer, vars)
        .await?
        .inventory;
    Ok(More {
        rows: inv.rows.into_iter().map(GridRow::from).collect(),
        multi_customer: inv.multi_customer,
        next_cursor: inv.next_cursor,
    })
}

/// Today in the portal's zone: expiry badges count days on the customer's calendar.
pub(crate) fn today(state: &AppState) -> Date {
    state
        .config
        .portal_zone
        .at(OffsetDateTime::now_utc())
        .date()
}

pub async fn show(
    State(state): State<AppState>,
    CurrentCustomer(who): CurrentCustomer,
    ctx: PageCtx,
    read_ahead: Option<Extension<ViewsReadAhead>>,
    Query(view): Query<View>,
) -> Result<Response, AppError> {
    let view = view.normalised();
    // The menu's views were read with the sign-in when the store could (one trip fewer).
    let views: Vec<markup::SavedViewLink> = exec::run_with::<SavedViewsMenu, _>(
        &state.page_schema,
        &ctx.viewer,
        read_ahead.map(|Extension(r)| r),
        saved_views_menu::Variables {},
    )
    .await?
    .saved_views
    .into_iter()
    .map(|v| markup::SavedViewLink {
        name: v.name,
        url: v.url,
    })
    .collect();
    if who.scope == ErpScope::Nothing {
        return Ok(markup::page(&ctx, &view, Err(Problem::NoScope), &views).into_response());
    }
    match view_grid(&state, &ctx.viewer, &view, false, "").await {
        Ok(inv) => Ok(markup::page(&ctx, &view, Ok(&inv), &views).into_response()),
        Err(AppError::ErpUnavailable) => Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            markup::page(&ctx, &view, Err(Problem::ErpUnavailable), &views),
        )
            .into_response()),
        Err(e) => Err(e),
    }
}

/// `/inventory/grid`: the grid, plus the dropdowns and export links out-of-band. The
/// browser's address bar follows the view (`HX-Push-Url`).
pub async fn grid_fragment(
    State(state): State<AppState>,
    CurrentCustomer(who): CurrentCustomer,
    viewer: Viewer,
    Query(view): Query<View>,
    Query(extra): Query<FragmentParams>,
) -> Result<Response, AppError> {
    let view = view.normalised();
    let refresh = extra.refresh.as_deref() == Some("1");
    let body = if who.scope == ErpScope::Nothing {
        markup::grid(&view, Err(Problem::NoScope))
    } else {
        let fh = extra.fh.clone().unwrap_or_default();
        match view_grid(&state, &viewer, &view, refresh, &fh).await {
            Ok(inv) => html! {
                (markup::grid(&view, Ok(&inv)))
                // Only when the options changed; the browser keeps its selection.
                @if let Some(f) = &inv.facets { (markup::controls(&view, Some(f), true)) }
                (markup::state_inputs(&view, &inv.facets_fingerprint, true))
                (markup::actions(&view, true, Some(inv.filtered_count)))
            },
            // A fragment, not an error status: htmx swaps it in and the user sees why.
            Err(AppError::ErpUnavailable) => html! {
                (markup::grid(&view, Err(Problem::ErpUnavailable)))
                (markup::actions(&view, true, None))
            },
            Err(e) => return Err(e),
        }
    };
    let mut resp = body.into_response();
    if let Ok(v) = HeaderValue::from_str(&view.url("/inventory")) {
        resp.headers_mut().insert(axum_htmx::HX_PUSH_URL, v);
    }
    Ok(resp)
}

/// `/inventory/rows?after=…`: the next page of rows, appended as the user scrolls.
pub async fn rows_fragment(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    viewer: Viewer,
    Query(view): Query<View>,
    Query(extra): Query<FragmentParams>,
) -> Result<Response, AppError> {
    let view = view.normalised();
    match more_rows(&state, &viewer, &view, extra.after).await {
        Ok(more) => Ok(markup::rows_markup(&view, &more).into_response()),
        Err(AppError::ErpUnavailable) => Ok(html! {
            tr { td colspan=(markup::column_count(true)) class="alert-error" { "More rows could not be loaded: the ERP did not answer." } }
        }
        .into_response()),
        // The rows this page was scrolling through are no longer kept (long idle).
        Err(AppError::BadRequest(message)) => Ok(html! {
            tr { td colspan=(markup::column_count(true)) class="alert-info" { (message) " " a href=(view.url("/inventory")) { "Reload" } } }
        }
        .into_response()),
        Err(e) => Err(e),
    }
}

/// What a picker sends as the user types: which list, and the text typed in it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OptionsParams {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub part_term: String,
    #[serde(default)]
    pub bin_term: String,
}

/// `/inventory/options?field=part&part_term=…` (with the view's filters): the options of
/// one picker that contain the typed text, cascading from the other filters.
pub async fn options_fragment(
    State(state): State<AppState>,
    CurrentCustomer(who): CurrentCustomer,
    viewer: Viewer,
    Query(view): Query<View>,
    Query(params): Query<OptionsParams>,
) -> Result<Response, AppError> {
    let view = view.normalised();
    let (name, field, all, term, current) = match params.field.as_str() {
        "part" => (
            "part",
            inventory_options::FacetField::PART,
            "All parts",
            params.part_term,
            &view.part,
        ),
        "bin" => (
            "bin",
            inventory_options::FacetField::BIN,
            "All bins",
            params.bin_term,
            &view.bin,
        ),
        _ => return Err(AppError::BadRequest("Unknown list.".into())),
    };
    if who.scope == ErpScope::Nothing {
        return Ok(markup::options_list(name, all, current, &[], 0).into_response());
    }
    // The text box shows the chosen value until the user types: that is no search.
    let term = if term == *current {
        String::new()
    } else {
        term
    };
    let vars = inventory_options::Variables {
        filter: Some((&view).into()),
        field,
        contains: term.chars().take(200).collect(),
    };
    match exec::run::<InventoryOptions>(&state.page_schema, &viewer, vars).await {
        Ok(data) => {
            let m = data.inventory.facets.matching;
            Ok(markup::options_list(name, all, current, &m.values, m.total_count).into_response())
        }
        Err(AppError::ErpUnavailable) => Ok(html! {
            li class="combo-note" role="option" aria-disabled="true" { "Options could not be loaded: the ERP did not answer." }
        }
        .into_response()),
        Err(e) => Err(e),
    }
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory", get(show))
        .route("/inventory/grid", get(grid_fragment))
        .route("/inventory/rows", get(rows_fragment))
        .route("/inventory/options", get(options_fragment))
        .route("/inventory/export.xlsx", get(export_xlsx))
        .route("/inventory/export.csv", get(export_csv))
}
