//! `/inventory`: the customer's live inventory grid, its htmx fragments and its exports.
//!
//! The page, the grid fragment (`/inventory/grid`) and the next-rows fragment
//! (`/inventory/rows`) all run the GraphQL `inventory` operation in-process and render
//! with the same functions. The exports (`/inventory/export.xlsx`, `.csv`) call the
//! inventory service the resolver calls, with the same parameters and the same scope rule.

use std::io::{BufWriter, Seek, SeekFrom};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::{Date, OffsetDateTime};

use crate::auth::Viewer;
use crate::domain::ErpScope;
use crate::error::AppError;
use crate::export;
use crate::graphql::{exec, guards};
use crate::inventory::{
    Filter, Selection, SortDir, SortField, SortKey, format_qty, format_us_date,
};
use crate::state::AppState;
use crate::web::assets;
use crate::web::extractors::CurrentCustomer;
use crate::web::layout::{self, PageCtx};

/// Lots expiring within this many days are marked "soon".
const EXPIRY_WARNING_DAYS: i64 = 30;
const MAX_PARAM_CHARS: usize = 200;

/// What each request asks of the `inventory` operation besides the rows. The dropdown
/// options can be thousands of parts: the page takes them, a grid refresh only when they
/// changed (the browser sends their fingerprint back as `fh`), more rows never.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Page,
    Grid,
    Rows,
}

fn inventory_query(want: Want) -> String {
    let (fh_var, facets) = match want {
        Want::Page => ("", "facetsFingerprint facets { parts bins statuses }"),
        Want::Grid => (
            ", $fh: String!",
            "facetsFingerprint facetsIfChanged(fingerprint: $fh) { parts bins statuses }",
        ),
        Want::Rows => ("", ""),
    };
    format!(
        "query Inventory($filter: InventoryFilter, $sort: [InventorySort!], $after: String, $refresh: Boolean{fh_var}) {{
  inventory(filter: $filter, sort: $sort, first: 100, after: $after, refresh: $refresh) {{
    totalCount filteredCount asOf nextCursor multiCustomer {facets}
    rows {{ customer part description onHandQty unit bin reference userLot expDate lastTransactionDate lastRecDate po status }}
  }}
}}"
    )
}

/// The view's URL parameters (DESIGN.md §4): `q`, `part`, `bin`, `status`, `sort`, `dir`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct View {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub part: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bin: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sort: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dir: String,
}

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

fn clip(s: &str) -> String {
    s.trim().chars().take(MAX_PARAM_CHARS).collect()
}

impl View {
    /// Trims and bounds every parameter; an unknown sort column or direction is dropped.
    pub fn normalised(&self) -> View {
        let sort = SortField::parse(self.sort.trim())
            .map(|f| f.name().to_owned())
            .unwrap_or_default();
        let dir = match (sort.is_empty(), self.dir.trim()) {
            (true, _) => String::new(),
            (false, "desc") => "desc".to_owned(),
            (false, _) => "asc".to_owned(),
        };
        View {
            q: clip(&self.q),
            part: clip(&self.part),
            bin: clip(&self.bin),
            status: clip(&self.status),
            sort,
            dir,
        }
    }

    pub fn query_string(&self) -> String {
        serde_urlencoded_string(self)
    }

    fn with_sort(&self, field: SortField) -> View {
        let dir = if self.sort == field.name() && self.dir == "asc" {
            "desc"
        } else {
            "asc"
        };
        View {
            sort: field.name().to_owned(),
            dir: dir.to_owned(),
            ..self.clone()
        }
    }

    pub fn selection(&self) -> Selection {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let sort = SortField::parse(&self.sort)
            .map(|field| {
                vec![SortKey {
                    field,
                    dir: if self.dir == "desc" {
                        SortDir::Desc
                    } else {
                        SortDir::Asc
                    },
                }]
            })
            .unwrap_or_default();
        Selection {
            filter: Filter {
                search: opt(&self.q),
                part: opt(&self.part),
                bin: opt(&self.bin),
                status: opt(&self.status),
            },
            sort,
        }
    }

    fn variables(&self, after: Option<&str>, refresh: bool) -> serde_json::Value {
        let opt = |s: &str| {
            if s.is_empty() {
                serde_json::Value::Null
            } else {
                json!(s)
            }
        };
        let sort = if self.sort.is_empty() {
            serde_json::Value::Null
        } else {
            json!([{ "field": self.sort, "direction": if self.dir == "desc" { "DESC" } else { "ASC" } }])
        };
        json!({
            "filter": { "search": opt(&self.q), "part": opt(&self.part), "bin": opt(&self.bin), "status": opt(&self.status) },
            "sort": sort,
            "after": after,
            "refresh": refresh,
        })
    }

    fn url(&self, path: &str) -> String {
        let qs = self.query_string();
        if qs.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{qs}")
        }
    }
}

fn serde_urlencoded_string(view: &View) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", &view.q),
        ("part", &view.part),
        ("bin", &view.bin),
        ("status", &view.status),
        ("sort", &view.sort),
        ("dir", &view.dir),
    ] {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

#[derive(Deserialize)]
struct Data {
    inventory: Inventory,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inventory {
    total_count: usize,
    filtered_count: usize,
    as_of: String,
    next_cursor: Option<String>,
    multi_customer: bool,
    #[serde(default)]
    facets: Option<Facets>,
    #[serde(default)]
    facets_fingerprint: Option<String>,
    #[serde(default)]
    facets_if_changed: Option<Facets>,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
struct Facets {
    parts: Vec<String>,
    bins: Vec<String>,
    statuses: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    customer: String,
    part: String,
    description: String,
    on_hand_qty: f64,
    unit: String,
    bin: String,
    reference: String,
    user_lot: String,
    exp_date: Option<String>,
    last_transaction_date: Option<String>,
    last_rec_date: Option<String>,
    po: String,
    status: String,
}

/// What the grid can be told instead of rows.
enum Problem {
    NoScope,
    ErpUnavailable,
}

fn iso_date(s: &Option<String>) -> Option<Date> {
    s.as_deref().and_then(crate::erp::parse_erp_date)
}

fn us_date(s: &Option<String>) -> String {
    iso_date(s).map(format_us_date).unwrap_or_default()
}

const COLUMNS: [(SortField, &str, bool); 12] = [
    (SortField::Part, "Part", false),
    (SortField::Description, "Description", false),
    (SortField::OnHandQty, "On Hand Qty", true),
    (SortField::Unit, "Unit", false),
    (SortField::Bin, "Bin", false),
    (SortField::UserLot, "User Lot", false),
    (SortField::ExpDate, "Exp Date", false),
    (SortField::Reference, "Reference", false),
    (SortField::Po, "PO", false),
    (SortField::Status, "Status", false),
    (SortField::LastRecDate, "Last Rec Date", false),
    (SortField::LastTransactionDate, "Last Tran Date", false),
];

fn column_count(multi: bool) -> usize {
    COLUMNS.len() + usize::from(multi)
}

fn status_class(status: &str) -> &'static str {
    match status {
        "Available" | "Approved QC" => "pill pill-ok",
        "Pending QC" | "Staged to Job" | "Sales Reserved" | "Issued to Job" => "pill pill-info",
        "Quarantined" | "Failed QC" => "pill pill-bad",
        _ => "pill",
    }
}

fn header_cell(view: &View, field: SortField, label: &str, numeric: bool) -> Markup {
    let active = view.sort == field.name();
    let aria = match (active, view.dir.as_str()) {
        (true, "desc") => "descending",
        (true, _) => "ascending",
        _ => "none",
    };
    let next = view.with_sort(field);
    let arrow = match aria {
        "ascending" => "▲",
        "descending" => "▼",
        _ => "↕",
    };
    html! {
        th scope="col" aria-sort=(aria) class=(if numeric { "num" } else { "" }) {
            a class=(if active { "sort active" } else { "sort" }) href=(next.url("/inventory"))
                hx-get=(next.url("/inventory/grid")) hx-include="#inv-fh" hx-target="#inv-grid" hx-swap="outerHTML" {
                (label) span class="sort-arrow" aria-hidden="true" { (arrow) }
            }
        }
    }
}

fn rows_markup(view: &View, inv: &Inventory, today: Date) -> Markup {
    let cols = column_count(inv.multi_customer);
    html! {
        @for r in &inv.rows {
            @let exp = iso_date(&r.exp_date);
            @let exp_state = exp.map(|d| {
                let days = (d - today).whole_days();
                if days < 0 { "expired" } else if days <= EXPIRY_WARNING_DAYS { "soon" } else { "" }
            }).unwrap_or("");
            tr class=(match exp_state { "expired" => "row-expired", "soon" => "row-soon", _ => "" }) {
                @if inv.multi_customer { td { (r.customer) } }
                td class="mono" { (r.part) }
                td { (r.description) }
                td class="num" { (format_qty(r.on_hand_qty)) }
                td { (r.unit) }
                td class="mono" { (r.bin) }
                td class="mono" { (r.user_lot) }
                td class=(format!("date exp-{exp_state}")) {
                    (us_date(&r.exp_date))
                    @match exp_state {
                        "expired" => { " " span class="badge badge-bad" { "Expired" } }
                        "soon" => { " " span class="badge badge-warn" { "Soon" } }
                        _ => {}
                    }
                }
                td { (r.reference) }
                td class="mono" { (r.po) }
                td { span class=(status_class(&r.status)) { (r.status) } }
                td class="date" { (us_date(&r.last_rec_date)) }
                td class="date" { (us_date(&r.last_transaction_date)) }
            }
        }
        @if let Some(cursor) = &inv.next_cursor {
            @let more = format!("{}{}after={}", view.url("/inventory/rows"), if view.query_string().is_empty() { "?" } else { "&" }, cursor);
            tr class="inv-more" hx-get=(more) hx-trigger="intersect once" hx-swap="outerHTML" {
                td colspan=(cols) { "Loading more rows…" }
            }
        }
    }
}

/// The dropdowns and the hidden sort fields, swapped out-of-band on every grid refresh so
/// their options always cascade from the current filters.
fn controls(view: &View, facets: Option<&Facets>, oob: bool) -> Markup {
    let select = |name: &str, label: &str, all: &str, current: &str, options: &[String]| {
        let mut options: Vec<&String> = options.iter().collect();
        let missing = (!current.is_empty() && !options.iter().any(|o| o.as_str() == current))
            .then(|| current.to_owned());
        html! {
            label class="sr-only" for=(format!("inv-{name}")) { (label) }
            select id=(format!("inv-{name}")) name=(name) title=(label) {
                option value="" { (all) }
                @if let Some(m) = &missing { option value=(m) selected { (m) } }
                @for o in options.drain(..) {
                    option value=(o) selected[o == current] { (o) }
                }
            }
        }
    };
    let empty: Vec<String> = Vec::new();
    let (parts, bins, statuses) = match facets {
        Some(f) => (&f.parts, &f.bins, &f.statuses),
        None => (&empty, &empty, &empty),
    };
    html! {
        div id="inv-controls" class="inv-controls" hx-swap-oob=[oob.then_some("true")] {
            (select("part", "Part", "All parts", &view.part, parts))
            (select("bin", "Bin", "All bins", &view.bin, bins))
            (select("status", "Status", "All statuses", &view.status, statuses))
        }
    }
}

/// The hidden view state the form carries besides its visible fields.
fn state_inputs(view: &View, fingerprint: &str, oob: bool) -> Markup {
    html! {
        div id="inv-state" hx-swap-oob=[oob.then_some("true")] {
            input type="hidden" name="sort" value=(view.sort);
            input type="hidden" name="dir" value=(view.dir);
            input type="hidden" id="inv-fh" name="fh" value=(fingerprint);
        }
    }
}

fn actions(view: &View, oob: bool, enabled: bool) -> Markup {
    html! {
        div id="inv-actions" class="inv-actions" hx-swap-oob=[oob.then_some("true")] {
            @if enabled {
                a class="btn" href=(view.url("/inventory/export.xlsx")) download { "Download XLSX" }
                a class="btn btn-ghost" href=(view.url("/inventory/export.csv")) download { "CSV" }
            }
        }
    }
}

fn grid(view: &View, inv: Result<&Inventory, Problem>, today: Date) -> Markup {
    html! {
        div id="inv-grid" class="inv-grid" {
            @match inv {
                Err(Problem::NoScope) => {
                    div class="alert alert-info" role="status" {
                        "Your account is not linked to any ERP customer yet, so there is no inventory to show. "
                        "Please contact your WePackItAll account manager."
                    }
                }
                Err(Problem::ErpUnavailable) => {
                    div class="alert alert-error" role="alert" {
                        "Inventory is temporarily unavailable: the ERP did not answer. Please try again in a moment. "
                        a href=(view.url("/inventory")) { "Retry" }
                    }
                }
                Ok(inv) => {
                    @if inv.total_count == 0 {
                        div class="alert alert-info" role="status" { "There is no inventory on hand for your account right now." }
                    } @else if inv.filtered_count == 0 {
                        div class="alert alert-info" role="status" {
                            "No rows match your search and filters. "
                            a href="/inventory?reset=1" data-inv-reset { "Reset the view" }
                        }
                    }
                    div class="table-wrap" tabindex="0" aria-label="Inventory rows" {
                        table class="inv-table" {
                            thead {
                                tr {
                                    @if inv.multi_customer { (header_cell(view, SortField::Customer, "Customer", false)) }
                                    @for (field, label, numeric) in COLUMNS {
                                        (header_cell(view, field, label, numeric))
                                    }
                                }
                            }
                            tbody id="inv-rows" { (rows_markup(view, inv, today)) }
                        }
                    }
                    div class="inv-footer" {
                        span id="inv-count" { "Showing " (format_qty(inv.filtered_count as f64)) " of " (format_qty(inv.total_count as f64)) " rows" }
                        span class="as-of" {
                            "Data as of "
                            time datetime=(inv.as_of) data-local-time { (as_of_text(&inv.as_of)) }
                            " "
                            button type="button" class="btn btn-small btn-ghost" hx-get="/inventory/grid" hx-include="#inv-form"
                                hx-vals=r#"{"refresh":"1"}"# hx-target="#inv-grid" hx-swap="outerHTML" title="Read the ERP again" { "↻ Refresh" }
                        }
                    }
                }
            }
        }
    }
}

fn as_of_text(iso: &str) -> String {
    match OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339) {
        Ok(t) => format!(
            "{} {:02}:{:02}:{:02} UTC",
            format_us_date(t.date()),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => iso.to_owned(),
    }
}

fn page(ctx: &PageCtx, view: &View, inv: Result<&Inventory, Problem>, today: Date) -> Markup {
    let ok = inv.is_ok();
    let facets = inv.as_ref().ok().and_then(|i| i.facets.as_ref());
    let fingerprint = inv
        .as_ref()
        .ok()
        .and_then(|i| i.facets_fingerprint.clone())
        .unwrap_or_default();
    layout::page_with_scripts(
        ctx,
        "Inventory",
        &[assets::url("/assets/js/inventory.js")],
        html! {
            section class="inventory-page" {
                div class="inv-title" {
                    h1 { "Inventory" }
                }
                form id="inv-form" class="inv-toolbar" role="search" action="/inventory" method="get"
                    hx-get="/inventory/grid" hx-target="#inv-grid" hx-swap="outerHTML" hx-sync="this:replace"
                    hx-trigger="change, input changed delay:300ms from:#inv-q, search from:#inv-q" {
                    label class="sr-only" for="inv-q" { "Search" }
                    input id="inv-q" type="search" name="q" value=(view.q) placeholder="Search all columns…" autocomplete="off" maxlength="200";
                    (controls(view, facets, false))
                    (state_inputs(view, &fingerprint, false))
                    a class="btn btn-ghost" href="/inventory?reset=1" data-inv-reset { "Reset" }
                    noscript { button type="submit" class="btn" { "Apply" } }
                    (actions(view, false, ok))
                }
                (grid(view, inv, today))
            }
        },
    )
}

async fn query(
    state: &AppState,
    viewer: &Viewer,
    view: &View,
    want: Want,
    after: Option<&str>,
    refresh: bool,
    fh: &str,
) -> Result<Inventory, AppError> {
    let mut vars = view.variables(after, refresh);
    if want == Want::Grid {
        vars["fh"] = serde_json::Value::String(fh.to_owned());
    }
    let data: Data = exec::execute(&state.schema, viewer, &inventory_query(want), vars).await?;
    Ok(data.inventory)
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

pub async fn show(
    State(state): State<AppState>,
    CurrentCustomer(who): CurrentCustomer,
    ctx: PageCtx,
    Query(view): Query<View>,
) -> Result<Response, AppError> {
    let view = view.normalised();
    if ErpScope::parse(&who.erp_customer_name) == ErpScope::Nothing {
        return Ok(page(&ctx, &view, Err(Problem::NoScope), today()).into_response());
    }
    match query(&state, &ctx.viewer, &view, Want::Page, None, false, "").await {
        Ok(inv) => Ok(page(&ctx, &view, Ok(&inv), today()).into_response()),
        Err(AppError::ErpUnavailable) => Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            page(&ctx, &view, Err(Problem::ErpUnavailable), today()),
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
    let body = if ErpScope::parse(&who.erp_customer_name) == ErpScope::Nothing {
        grid(&view, Err(Problem::NoScope), today())
    } else {
        let fh = extra.fh.clone().unwrap_or_default();
        match query(&state, &viewer, &view, Want::Grid, None, refresh, &fh).await {
            Ok(inv) => {
                let fingerprint = inv.facets_fingerprint.clone().unwrap_or_default();
                html! {
                    (grid(&view, Ok(&inv), today()))
                    // Only when the options changed; the browser keeps its selection.
                    @if let Some(f) = &inv.facets_if_changed { (controls(&view, Some(f), true)) }
                    (state_inputs(&view, &fingerprint, true))
                    (actions(&view, true, true))
                }
            }
            // A fragment, not an error status: htmx swaps it in and the user sees why.
            Err(AppError::ErpUnavailable) => html! {
                (grid(&view, Err(Problem::ErpUnavailable), today()))
                (actions(&view, true, false))
            },
            Err(e) => return Err(e),
        }
    };
    let mut resp = body.into_response();
    if let Ok(v) = HeaderValue::from_str(&view.url("/inventory")) {
        resp.headers_mut().insert("hx-push-url", v);
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
    match query(&state, &viewer, &view, Want::Rows, extra.after.as_deref(), false, "").await {
        Ok(inv) => Ok(rows_markup(&view, &inv, today()).into_response()),
        Err(AppError::ErpUnavailable) => Ok(html! {
            tr { td colspan=(column_count(true)) class="alert-error" { "More rows could not be loaded: the ERP did not answer." } }
        }
        .into_response()),
        Err(e) => Err(e),
    }
}

/// Rows of an export: the same service, parameters and scope rule as the grid.
async fn export_rows(
    state: &AppState,
    viewer: &Viewer,
    view: &View,
) -> Result<
    (
        ErpScope,
        std::sync::Arc<crate::inventory::Snapshot>,
        Vec<u32>,
    ),
    AppError,
> {
    let scope = guards::scope_of(viewer).ok_or(AppError::Unauthenticated)?;
    let (snapshot, order) = state
        .inventory
        .all(&scope, &view.selection())
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "export: ERP unavailable");
            AppError::ErpUnavailable
        })?;
    Ok((scope, snapshot, order))
}

fn attachment(resp: &mut Response, content_type: &'static str, file_name: &str) {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
}

pub async fn export_xlsx(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    viewer: Viewer,
    Query(view): Query<View>,
) -> Result<Response, AppError> {
    let view = view.normalised();
    let started = std::time::Instant::now();
    let (scope, snapshot, order) = export_rows(&state, &viewer, &view).await?;
    let count = order.len();
    // Written to an anonymous temporary file (constant memory), then streamed from disk.
    let file = tokio::task::spawn_blocking(move || -> anyhow::Result<std::fs::File> {
        let mut file = tempfile::tempfile()?;
        {
            let writer = BufWriter::with_capacity(256 * 1024, &file);
            export::xlsx::write(&snapshot.rows, &order, snapshot.multi_customer, writer)?;
        }
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))??;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    tracing::info!(
        rows = count,
        bytes = len,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "XLSX export"
    );
    let stream =
        tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file), 64 * 1024);
    let mut resp = Body::from_stream(stream).into_response();
    attachment(
        &mut resp,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &export::file_name(&scope, OffsetDateTime::now_utc(), "xlsx"),
    );
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        resp.headers_mut().insert(header::CONTENT_LENGTH, v);
    }
    Ok(resp)
}

/// Rows per streamed CSV chunk.
const CSV_CHUNK: usize = 2_000;

pub async fn export_csv(
    State(state): State<AppState>,
    CurrentCustomer(_who): CurrentCustomer,
    viewer: Viewer,
    Query(view): Query<View>,
) -> Result<Response, AppError> {
    let view = view.normalised();
    let (scope, snapshot, order) = export_rows(&state, &viewer, &view).await?;
    let order = std::sync::Arc::new(order);
    let header = export::csv::header(snapshot.multi_customer);
    // Chunks are produced as the client reads: memory holds one chunk, not the file.
    let stream = futures_util::stream::unfold(0usize, move |start| {
        let (snapshot, order) = (snapshot.clone(), order.clone());
        let header = header.clone();
        async move {
            if start > order.len() {
                return None;
            }
            let end = (start + CSV_CHUNK).min(order.len());
            let mut chunk = if start == 0 { header } else { String::new() };
            chunk.push_str(&export::csv::rows(
                &snapshot.rows,
                &order[start..end],
                snapshot.multi_customer,
            ));
            let next = if end == order.len() {
                order.len() + 1
            } else {
                end
            };
            Some((Ok::<_, std::convert::Infallible>(Bytes::from(chunk)), next))
        }
    });
    // Fused: the compression layer may poll once more after the end.
    let mut resp = Body::from_stream(futures_util::StreamExt::fuse(stream)).into_response();
    attachment(
        &mut resp,
        "text/csv; charset=utf-8",
        &export::file_name(&scope, OffsetDateTime::now_utc(), "csv"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_normalise_and_serialise() {
        let v = View {
            q: "  acme ".into(),
            sort: "onHandQty".into(),
            dir: "DESC??".into(),
            ..Default::default()
        }
        .normalised();
        assert_eq!(v.q, "acme");
        assert_eq!(v.dir, "asc");
        assert_eq!(v.query_string(), "q=acme&sort=onHandQty&dir=asc");
        let bad = View {
            sort: "password_hash".into(),
            dir: "desc".into(),
            ..Default::default()
        }
        .normalised();
        assert!(bad.sort.is_empty() && bad.dir.is_empty());
        let toggled = v.with_sort(SortField::OnHandQty);
        assert_eq!(toggled.dir, "desc");
        assert_eq!(v.with_sort(SortField::Part).dir, "asc");
        let sel = View {
            part: "P-1".into(),
            ..Default::default()
        }
        .selection();
        assert_eq!(sel.filter.part.as_deref(), Some("P-1"));
        assert!(sel.filter.search.is_none());
    }
}
