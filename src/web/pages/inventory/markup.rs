//! The inventory page and its fragments, rendered from what the GraphQL operations
//! returned. The full page reuses the fragment functions, so a page and a refresh never
//! disagree.

use maud::{Markup, html};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use crate::inventory::ExpiryWindow;

use crate::domain::{format_qty, format_us_date};
use crate::erp::InventoryRow;
use crate::inventory::SortField;
use crate::inventory::View;
use crate::inventory::columns::{Column, GRID, Kind, column};
use crate::inventory::rows::RowRef;
use crate::web::assets;
use crate::web::layout::{self, PageCtx};

/// Lots expiring within this many days are marked "soon".
const EXPIRY_WARNING_DAYS: i64 = 30;

/// The dropdown options, from `facetsIfChanged`.
pub type Facets = crate::web::ops::inventory_view::InventoryViewInventoryFacetsIfChanged;

/// One screenful of the view, as the `InventoryView` operation returned it.
pub struct Grid {
    pub total_count: i64,
    pub filtered_count: i64,
    pub as_of: OffsetDateTime,
    /// `as_of` on the portal's wall clock, with the zone's abbreviation.
    pub as_of_text: String,
    /// The ERP did not answer: these are the last rows read, as of `as_of`.
    pub stale: bool,
    /// Lots expired, and expiring within 30 days, in the whole scope.
    pub expired: i64,
    pub expiring_soon: i64,
    pub more: More,
    pub facets_fingerprint: String,
    /// Only when they differ from what the browser shows (always on a full page).
    pub facets: Option<Facets>,
}

/// A row as the grid shows it: the ERP's fields and what the portal works out.
pub struct GridRow {
    pub row: InventoryRow,
    /// Negative once expired; `None` without an expiry date.
    pub days_to_expiry: Option<i64>,
    pub minimum_qty: Option<f64>,
    pub below_minimum: bool,
    pub cover: Cover,
}

/// The part's days of cover, as its forecast says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cover {
    Falling {
        days: f64,
        runs_out_on: Option<Date>,
    },
    NotFalling,
    NotEnoughHistory,
}

/// Rows and where the next ones come from.
pub struct More {
    pub rows: Vec<GridRow>,
    pub multi_customer: bool,
    pub next_cursor: Option<String>,
}

/// What the grid can be told instead of rows.
pub enum Problem {
    NoScope,
    ErpUnavailable,
}

fn us_date(d: &Option<Date>) -> String {
    d.map(format_us_date).unwrap_or_default()
}

/// The grid's columns for this scope (`inventory::columns::GRID`; Customer only when the
/// scope has several customers).
fn grid_columns(multi: bool) -> impl Iterator<Item = &'static Column> {
    GRID.iter()
        .filter(move |f| multi || **f != SortField::Customer)
        .map(|f| column(*f))
}

/// The "runs out within" choices the filter offers, days (any 1 to 365 works in the URL).
const RUNOUT_CHOICES: [u32; 5] = [7, 14, 30, 60, 90];

pub fn column_count(multi: bool) -> usize {
    grid_columns(multi).count()
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
            // The sort goes with whatever the form holds *now* (a search typed a moment ago
            // included), and joins the form's queue: it replaces a grid request still under
            // way, so the last thing the user did is what the grid, arrow and URL show.
            // A button to assistive technology (it acts on this page); still a link without
            // scripts, so sorting works everywhere.
            a class=(if active { "sort active" } else { "sort" }) role="button" href=(next.url("/inventory"))
                hx-get="/inventory/grid" hx-include="#inv-form"
                hx-vals=(format!(r#"{{"sort":"{}","dir":"{}"}}"#, next.sort, next.dir))
                hx-sync="#inv-form:replace" hx-target="#inv-grid" hx-swap="outerHTML" {
                (label) span class="sort-arrow" aria-hidden="true" { (arrow) }
            }
        }
    }
}

/// A grid cell's classes (alignment, fonts, which cells a narrow screen leaves out).
fn cell_class(field: SortField, exp_state: &str) -> &'static str {
    match (field, exp_state) {
        (SortField::Customer, _) => "cust",
        (SortField::Part, _) => "mono part",
        (SortField::Description, _) => "desc",
        (SortField::OnHandQty, _) => "num qty",
        (SortField::Unit, _) => "unit",
        (SortField::Bin | SortField::UserLot | SortField::CustomerPart, _) => "mono",
        (SortField::ExpDate, "expired") => "date exp-expired",
        (SortField::ExpDate, "soon") => "date exp-soon",
        (SortField::ExpDate, _) => "date exp-",
        (SortField::DaysToExpiry, "expired") => "num days exp-expired",
        (SortField::DaysToExpiry, "soon") => "num days exp-soon",
        (SortField::DaysToExpiry, _) => "num days exp-",
        (SortField::Reference, _) => "extra",
        (SortField::Po, _) => "mono extra",
        (SortField::Status, _) => "status",
        (SortField::LastRecDate | SortField::LastTransactionDate, _) => "date extra",
        (SortField::DaysOfCover, _) => "num cover",
    }
}

/// What a grid cell shows: the value as on screen, with its badges.
fn cell(g: &GridRow, c: &Column, exp_state: &str) -> Markup {
    let r = &g.row;
    match c.field {
        SortField::Part => html! {
            (r.part)
            // The part's text stays the cell's text (copied, read, searched as before);
            // the chart icon beside it (drawn by the stylesheet, so thirty rows do not
            // carry thirty copies of it) is the way to the part's history.
            a class="part-history" href=(format!("/inventory/history?part={}", url::form_urlencoded::byte_serialize(r.part.as_bytes()).collect::<String>()))
                title="History of this part" aria-label=(format!("History of {}", r.part)) {}
            @if g.below_minimum {
                " " span class="badge badge-warn" title=(format!("Total on hand is below the minimum of {}", format_qty(g.minimum_qty.unwrap_or_default()))) { "Below min" }
            }
        },
        SortField::OnHandQty => html! { (format_qty(r.on_hand_qty)) },
        SortField::ExpDate => html! {
            (us_date(&r.exp_date))
            @match exp_state {
                "expired" => { " " span class="badge badge-bad" { "Expired" } }
                "soon" => { " " span class="badge badge-warn" { "Soon" } }
                _ => {}
            }
        },
        SortField::DaysToExpiry => html! { @if let Some(days) = g.days_to_expiry { (days) } },
        SortField::DaysOfCover => match g.cover {
            Cover::Falling { days, runs_out_on } => html! {
                span title=(runs_out_on.map(|d| format!("Runs out on {}", format_us_date(d))).unwrap_or_default()) {
                    (format!("{:.0}", days.floor()))
                }
            },
            Cover::NotFalling => {
                html! { span class="muted" title="Not falling over the last weeks" { "—" } }
            }
            Cover::NotEnoughHistory => {
                html! { span class="muted" title="Not enough history yet (fewer than 7 recorded days)" { "n/a" } }
            }
        },
        SortField::Status => html! { span class=(status_class(&r.status)) { (r.status) } },
        _ => match c.kind {
            Kind::Date => html! { (us_date(&c.date(&RowRef::of(r)))) },
            _ => html! { (c.text(&RowRef::of(r)).unwrap_or_default()) },
        },
    }
}

pub fn rows_markup(view: &View, inv: &More) -> Markup {
    let cols = column_count(inv.multi_customer);
    html! {
        @for g in &inv.rows {
            @let exp_state = g.days_to_expiry.map(|days| {
                if days < 0 { "expired" } else if days <= EXPIRY_WARNING_DAYS { "soon" } else { "" }
            }).unwrap_or("");
            tr class=(match exp_state { "expired" => "row-expired", "soon" => "row-soon", _ => "" }) {
                // Labels and classes drive the phone layout (each row a card) and keep the
                // description wrapping whatever columns come before it.
                @for c in grid_columns(inv.multi_customer) {
                    td class=(cell_class(c.field, exp_state)) data-label=(c.card_label) { (cell(g, c, exp_state)) }
                }
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

/// The filters' options, swapped out-of-band on every grid refresh whose options changed,
/// so they always cascade from the current filters. A list the operation cut short (more
/// than 50 parts or bins) becomes a searchable picker that asks `/inventory/options` as
/// the user types, so a refresh never carries thousands of options.
pub fn controls(view: &View, facets: Option<&Facets>, oob: bool) -> Markup {
    let empty: Vec<String> = Vec::new();
    let (parts, bins, statuses) = match facets {
        Some(f) => (
            (f.parts.values.as_slice(), f.parts.total_count),
            (f.bins.values.as_slice(), f.bins.total_count),
            f.statuses.as_slice(),
        ),
        None => (
            (empty.as_slice(), 0),
            (empty.as_slice(), 0),
            empty.as_slice(),
        ),
    };
    let pick =
        |name: &str, label: &str, all: &str, current: &str, (options, total): (&[String], i64)| {
            if total as usize > options.len() {
                combobox(name, label, all, current, total)
            } else {
                select(name, label, all, current, options)
            }
        };
    html! {
        div id="inv-controls" class="inv-controls" hx-swap-oob=[oob.then_some("true")] {
            (pick("part", "Part", "All parts", &view.part, parts))
            (pick("bin", "Bin", "All bins", &view.bin, bins))
            (select("status", "Status", "All statuses", &view.status, statuses))
            label class="sr-only" for="inv-expiry" { "Expiry" }
            select id="inv-expiry" name="expiry" title="Expiry" {
                option value="" { "Any expiry" }
                @for w in ExpiryWindow::ALL {
                    option value=(w.name()) selected[view.expiry == w.name()] { (w.label()) }
                }
            }
            label class="check-inline" for="inv-below" title="Parts whose total on hand is below the minimum you set" {
                input id="inv-below" type="checkbox" name="below" value="1" checked[view.below == "1"];
                " Below minimum"
            }
            label class="sr-only" for="inv-runout" { "Runs out within" }
            select id="inv-runout" name="runout" title="Parts forecast to run out within" {
                option value="" { "Any run-out" }
                @for d in RUNOUT_CHOICES {
                    option value=(d) selected[view.runout == d.to_string()] { "Runs out within " (d) " days" }
                }
            }
        }
    }
}

fn select(name: &str, label: &str, all: &str, current: &str, options: &[String]) -> Markup {
    let missing = !current.is_empty() && !options.iter().any(|o| o == current);
    html! {
        label class="sr-only" for=(format!("inv-{name}")) { (label) }
        select id=(format!("inv-{name}")) name=(name) title=(label) {
            option value="" { (all) }
            @if missing { option value=(current) selected { (current) } }
            @for o in options {
                option value=(o) selected[o == current] { (o) }
            }
        }
    }
}

/// A WAI-ARIA combobox: a text box that filters a listbox of options fetched from the
/// server (`inventory.js` does the keys). The chosen value travels in a hidden field of
/// the same name as the plain select's, so the view and its URL do not change.
fn combobox(name: &str, label: &str, all: &str, current: &str, total: i64) -> Markup {
    let list = format!("inv-{name}-list");
    let note = format!("inv-{name}-note");
    html! {
        div class="combo" data-combo=(name) {
            label class="sr-only" for=(format!("inv-{name}")) { (label) }
            input id=(format!("inv-{name}")) class="combo-input" type="text" name=(format!("{name}_term"))
                role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls=(list)
                aria-describedby=(note) autocomplete="off" spellcheck="false" maxlength="200"
                placeholder=(all) title=(label) value=(current) data-value=(current)
                hx-get=(format!("/inventory/options?field={name}")) hx-include="#inv-form"
                hx-trigger="input changed delay:120ms, focus once, combo-open" hx-target=(format!("#{list}"))
                hx-swap="innerHTML" hx-sync="this:replace";
            input type="hidden" id=(format!("inv-{name}-value")) name=(name) value=(current);
            ul id=(list) class="combo-list" role="listbox" aria-label=(format!("{label} options")) hidden {}
            span id=(note) class="sr-only" {
                (format_qty(total as f64)) " " (label.to_lowercase()) "s: type to narrow, then choose with the arrow keys and Enter."
            }
        }
    }
}

/// The options of one picker that contain what was typed (`/inventory/options`).
pub fn options_list(name: &str, all: &str, current: &str, values: &[String], total: i64) -> Markup {
    let noun = if name == "bin" { "bins" } else { "parts" };
    html! {
        li id=(format!("inv-{name}-opt-all")) role="option" data-value="" aria-selected=(current.is_empty()) { (all) }
        @for (i, v) in values.iter().enumerate() {
            li id=(format!("inv-{name}-opt-{i}")) role="option" data-value=(v) aria-selected=(v == current) { (v) }
        }
        @if values.is_empty() {
            li class="combo-note" role="option" aria-disabled="true" { "No " (noun) " match" }
        } @else if total as usize > values.len() {
            li class="combo-note" role="option" aria-disabled="true" {
                (format_qty((total as usize - values.len()) as f64)) " more: keep typing"
            }
        }
    }
}

/// The hidden view state the form carries besides its visible fields.
pub fn state_inputs(view: &View, fingerprint: &str, oob: bool) -> Markup {
    html! {
        div id="inv-state" hx-swap-oob=[oob.then_some("true")] {
            input type="hidden" name="sort" value=(view.sort);
            input type="hidden" name="dir" value=(view.dir);
            input type="hidden" id="inv-fh" name="fh" value=(fingerprint);
        }
    }
}

/// The download buttons: live when the view has rows, shown disabled when it has none,
/// absent when the inventory could not be read.
pub fn actions(view: &View, oob: bool, rows: Option<i64>) -> Markup {
    html! {
        div id="inv-actions" class="inv-actions" hx-swap-oob=[oob.then_some("true")] {
            @match rows {
                Some(n) if n > 0 => {
                    a class="btn btn-primary" href=(view.url("/inventory/export.xlsx")) download { "Download XLSX" }
                    a class="btn" href=(view.url("/inventory/export.csv")) download { "CSV" }
                }
                Some(_) => {
                    a class="btn btn-primary" role="link" aria-disabled="true" title="No rows to download" { "Download XLSX" }
                    a class="btn" role="link" aria-disabled="true" title="No rows to download" { "CSV" }
                }
                None => {}
            }
        }
    }
}

/// Expired and soon-expiring lots in the scope, each a link that applies its filter.
fn expiry_alerts(view: &View, inv: &Grid) -> Markup {
    let link = |w: ExpiryWindow| view.with_expiry(Some(w)).url("/inventory");
    html! {
        @if inv.expired > 0 || inv.expiring_soon > 0 {
            span class="inv-alerts" {
                @if inv.expired > 0 {
                    a class="alert-chip chip-bad" href=(link(ExpiryWindow::Expired))
                        aria-current=[(view.expiry_window() == Some(ExpiryWindow::Expired)).then_some("true")] {
                        strong { (format_qty(inv.expired as f64)) } " expired " (if inv.expired == 1 { "lot" } else { "lots" })
                    }
                }
                @if inv.expiring_soon > 0 {
                    a class="alert-chip chip-warn" href=(link(ExpiryWindow::Within30))
                        aria-current=[(view.expiry_window() == Some(ExpiryWindow::Within30)).then_some("true")] {
                        strong { (format_qty(inv.expiring_soon as f64)) } " expiring within 30 days"
                    }
                }
            }
        }
    }
}

pub fn grid(view: &View, inv: Result<&Grid, Problem>) -> Markup {
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
                    @if inv.stale {
                        div class="alert alert-warning stale-banner" role="alert" {
                            strong { "The ERP is not answering right now." }
                            " You are seeing the inventory as it was at " (inv.as_of_text)
                            "; it may have changed since. Downloads are marked as of that time. "
                            a href=(view.url("/inventory")) { "Try again" }
                        }
                    }
                    @if inv.total_count == 0 {
                        div class="alert alert-info" role="status" { "There is no inventory on hand for your account right now." }
                    } @else if inv.filtered_count == 0 {
                        div class="alert alert-info" role="status" {
                            "No rows match your search and filters. "
                            a href="/inventory?reset=1" data-inv-reset { "Reset the view" }
                        }
                    }
                    // The count, "as of" and Refresh sit above the rows, so they stay in view
                    // on a laptop screen whatever banners and messages come before them.
                    div class="inv-summary" {
                        span class="inv-count-line" {
                            span id="inv-count" { "Showing " (format_qty(inv.filtered_count as f64)) " of " (format_qty(inv.total_count as f64)) " rows" }
                            (expiry_alerts(view, inv))
                        }
                        span class="as-of" {
                            "Data as of "
                            time datetime=(inv.as_of.format(&Rfc3339).unwrap_or_default()) { (inv.as_of_text) }
                            " "
                            button type="button" class="btn btn-small btn-ghost" hx-get="/inventory/grid" hx-include="#inv-form"
                                hx-vals=r#"{"refresh":"1"}"# hx-target="#inv-grid" hx-swap="outerHTML" title="Read the ERP again" { "↻ Refresh" }
                        }
                    }
                    // No empty bordered table under the message when nothing matches.
                    @if inv.filtered_count > 0 {
                        div class="table-wrap" tabindex="0" aria-label="Inventory rows" {
                            table class="inv-table" {
                                thead {
                                    tr {
                                        @for c in grid_columns(inv.more.multi_customer) {
                                            (header_cell(view, c.field, c.header, matches!(c.kind, Kind::Quantity | Kind::Days)))
                                        }
                                    }
                                }
                                tbody id="inv-rows" { (rows_markup(view, &inv.more)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `MM/DD/YYYY HH:MM:SS CST`: the same clock as the admin pages and export file names.
pub fn as_of_text(zone: &crate::domain::Zone, t: &OffsetDateTime) -> String {
    crate::domain::wall_clock(zone, t, true)
}

/// The saved-views menu: open one, or save what the grid shows now under a name.
fn views_menu(ctx: &PageCtx, view: &View, views: &[SavedViewLink]) -> Markup {
    html! {
        details class="views-menu" {
            summary class="btn" { "Saved views" @if !views.is_empty() { " (" (views.len()) ")" } }
            div class="views-panel" {
                @if views.is_empty() {
                    p class="muted small" { "No saved views yet." }
                } @else {
                    ul {
                        @for v in views { li { a href=(v.url) { (v.name) } } }
                    }
                }
                form id="save-view" method="post" action="/inventory/views" class="stack" {
                    (layout::csrf_field(ctx))
                    // inventory.js puts the address bar's view here at submit time (the grid
                    // may have changed since the page loaded).
                    input type="hidden" name="query" value=(view.query_string()) data-current-view;
                    label for="save-view-name" { "Save the current view as" }
                    input id="save-view-name" name="name" maxlength="60" required placeholder="e.g. Gift boxes by quantity";
                    button type="submit" class="btn btn-primary btn-small" { "Save view" }
                }
                a class="small" href="/inventory/views" { "Manage views and scheduled reports" }
            }
        }
    }
}

/// A saved view as the menu lists it.
pub struct SavedViewLink {
    pub name: String,
    pub url: String,
}

pub fn page(
    ctx: &PageCtx,
    view: &View,
    inv: Result<&Grid, Problem>,
    views: &[SavedViewLink],
) -> Markup {
    let rows = inv.as_ref().ok().map(|i| i.filtered_count);
    let facets = inv.as_ref().ok().and_then(|i| i.facets.as_ref());
    let fingerprint = inv
        .as_ref()
        .ok()
        .map(|i| i.facets_fingerprint.clone())
        .unwrap_or_default();
    layout::page_with_scripts(
        ctx,
        "Inventory",
        &[assets::url("/assets/js/inventory.js")],
        html! {
            section class="inventory-page" {
                div class="inv-title" {
                    h1 { "Inventory" }
                    (views_menu(ctx, view, views))
                }
                form id="inv-form" class="inv-toolbar" role="search" action="/inventory" method="get"
                    hx-get="/inventory/grid" hx-target="#inv-grid" hx-swap="outerHTML" hx-sync="this:replace"
                    hx-trigger="change, input changed delay:300ms from:#inv-q, search from:#inv-q" {
                    label class="sr-only" for="inv-q" { "Search" }
                    input id="inv-q" type="search" name="q" value=(view.q) placeholder="Search all columns…" autocomplete="off" maxlength="200";
                    // Phones: Part, Bin, Status and Reset fold into a panel behind this button
                    // (only once the script runs; without it they stay open).
                    @let active = [&view.part, &view.bin, &view.status, &view.expiry, &view.below, &view.runout].iter().filter(|v| !v.is_empty()).count();
                    button type="button" class="btn filters-toggle" data-filters-toggle aria-expanded="false" aria-controls="inv-controls" {
                        "Filters" @if active > 0 { " (" (active) ")" }
                    }
                    (controls(view, facets, false))
                    (state_inputs(view, &fingerprint, false))
                    a class="btn btn-ghost" href="/inventory?reset=1" data-inv-reset { "Reset" }
                    noscript { button type="submit" class="btn" { "Apply" } }
                    (actions(view, false, rows))
                }
                (grid(view, inv))
            }
        },
    )
}
