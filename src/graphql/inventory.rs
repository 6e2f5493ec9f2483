//! `inventory` and `erpCustomerNames`. The scope always comes from the caller's account;
//! no argument can widen it.

use std::sync::Arc;

use async_graphql::{Context, Enum, ErrorExtensions, InputObject, Object, SimpleObject};
use time::OffsetDateTime;

use super::guards::{Scope, coded_error, codes, rate_limited, require_inventory, require_staff};
use super::streamed::{
    Below, FieldWriter, ObjectWriter, PlainJson, StreamedList, TextList, write_date, write_enum,
    write_float, write_object, write_optional, write_scalar, write_text,
};
use crate::erp::ErpError;
use crate::inventory::rows::{DateCol, TextCol};
use crate::inventory::{
    CursorError, DEFAULT_PAGE, ExpiryFilter, ExpiryWindow, Filter, Forecasts, InventoryService,
    Minimums, PageError, RunsOut, Selection, Snapshot, SortDir, SortField, SortKey, Wanted,
    days_to_expiry,
};

#[derive(Default)]
pub struct InventoryQuery;

/// Search and exact-match filters of the inventory grid.
#[derive(InputObject, Default, Debug, Clone)]
pub struct InventoryFilter {
    /// Case-insensitive substring over every displayed column.
    pub search: Option<String>,
    pub part: Option<String>,
    pub bin: Option<String>,
    pub status: Option<String>,
    /// Only lots expired, or expiring within 30, 60 or 90 days (today in the portal's
    /// time zone included; expired lots not). Lots without an expiry date never match.
    pub expiry: Option<ExpiryRange>,
    /// Only parts whose total on hand in the scope is below the minimum set for them.
    pub below_minimum: Option<bool>,
    /// Only parts forecast to run out within this many days (1 to 365), from their daily
    /// history (see `forecast`).
    pub runs_out_within_days: Option<i32>,
}

/// The expiry quick filter.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ExpiryRange {
    Expired,
    #[graphql(name = "WITHIN_30_DAYS")]
    Within30Days,
    #[graphql(name = "WITHIN_60_DAYS")]
    Within60Days,
    #[graphql(name = "WITHIN_90_DAYS")]
    Within90Days,
}

impl From<ExpiryRange> for ExpiryWindow {
    fn from(r: ExpiryRange) -> Self {
        match r {
            ExpiryRange::Expired => ExpiryWindow::Expired,
            ExpiryRange::Within30Days => ExpiryWindow::Within30,
            ExpiryRange::Within60Days => ExpiryWindow::Within60,
            ExpiryRange::Within90Days => ExpiryWindow::Within90,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SortDirection {
    Asc,
    Desc,
}

/// A row field to sort by (the row field names).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(rename_items = "camelCase")]
pub enum InventoryField {
    Customer,
    Part,
    CustomerPart,
    Description,
    OnHandQty,
    Unit,
    Bin,
    Reference,
    UserLot,
    ExpDate,
    LastTransactionDate,
    LastRecDate,
    Po,
    Status,
    DaysToExpiry,
    /// The part's days of cover; parts not falling or without enough history last.
    DaysOfCover,
}

impl From<InventoryField> for SortField {
    fn from(f: InventoryField) -> Self {
        match f {
            InventoryField::Customer => SortField::Customer,
            InventoryField::Part => SortField::Part,
            InventoryField::CustomerPart => SortField::CustomerPart,
            InventoryField::Description => SortField::Description,
            InventoryField::OnHandQty => SortField::OnHandQty,
            InventoryField::Unit => SortField::Unit,
            InventoryField::Bin => SortField::Bin,
            InventoryField::Reference => SortField::Reference,
            InventoryField::UserLot => SortField::UserLot,
            InventoryField::ExpDate => SortField::ExpDate,
            InventoryField::LastTransactionDate => SortField::LastTransactionDate,
            InventoryField::LastRecDate => SortField::LastRecDate,
            InventoryField::Po => SortField::Po,
            InventoryField::Status => SortField::Status,
            InventoryField::DaysToExpiry => SortField::DaysToExpiry,
            InventoryField::DaysOfCover => SortField::DaysOfCover,
        }
    }
}

#[derive(InputObject, Debug, Clone, Copy)]
pub struct InventorySort {
    pub field: InventoryField,
    #[graphql(default_with = "SortDirection::Asc")]
    pub direction: SortDirection,
}

/// The cascading options of a view, shared with the snapshot's memo (not copied).
#[derive(Debug, Clone)]
pub struct InventoryFacets(pub Arc<crate::inventory::Facets>);

/// One of the option lists of `InventoryFacets`.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum FacetField {
    Part,
    Bin,
    Status,
}

/// A few options of one list, and how many match in all.
#[derive(SimpleObject, Debug, Clone)]
pub struct FacetMatches {
    pub values: TextList<'static>,
    pub total_count: i32,
}

/// The most options `matching` returns at once.
const MAX_MATCHES: usize = 200;

impl InventoryFacets {
    fn list(&self, field: FacetField) -> &[String] {
        match field {
            FacetField::Part => &self.0.parts,
            FacetField::Bin => &self.0.bins,
            FacetField::Status => &self.0.statuses,
        }
    }
}

/// Options containing `term` (case-insensitive): those that start with it first, each
/// group in the list's order; at most `first`, with the number that match in all.
pub fn matching(options: &[String], term: &str, first: usize) -> (Vec<String>, usize) {
    let term = term.trim().to_lowercase();
    if term.is_empty() {
        return (options.iter().take(first).cloned().collect(), options.len());
    }
    let mut starts = Vec::new();
    let mut contains = Vec::new();
    for o in options {
        let lower = o.to_lowercase();
        if lower.starts_with(&term) {
            starts.push(o);
        } else if lower.contains(&term) {
            contains.push(o);
        }
    }
    let total = starts.len() + contains.len();
    let values = starts
        .into_iter()
        .chain(contains)
        .take(first)
        .cloned()
        .collect();
    (values, total)
}

#[Object]
impl InventoryFacets {
    async fn parts(&self) -> TextList<'_> {
        TextList(self.0.parts.as_slice().into())
    }
    async fn bins(&self) -> TextList<'_> {
        TextList(self.0.bins.as_slice().into())
    }
    async fn statuses(&self) -> TextList<'_> {
        TextList(self.0.statuses.as_slice().into())
    }
    /// How many parts `parts` holds (a client can choose a picker without fetching them).
    async fn part_count(&self) -> i32 {
        self.0.parts.len() as i32
    }
    /// How many bins `bins` holds.
    async fn bin_count(&self) -> i32 {
        self.0.bins.len() as i32
    }
    /// Up to `first` options of one list that contain `contains` (case-insensitive),
    /// those starting with it first: what a searchable picker shows as the user types.
    async fn matching(
        &self,
        field: FacetField,
        #[graphql(default)] contains: String,
        #[graphql(default = 20, desc = "At most 200.")] first: i32,
    ) -> async_graphql::Result<FacetMatches> {
        if first < 0 {
            return Err(coded_error(
                codes::BAD_USER_INPUT,
                "first must not be negative",
            ));
        }
        if contains.chars().count() > 200 {
            return Err(coded_error(
                codes::BAD_USER_INPUT,
                "contains is longer than 200 characters",
            ));
        }
        let (values, total) = matching(
            self.list(field),
            &contains,
            (first as usize).min(MAX_MATCHES),
        );
        Ok(FacetMatches {
            values: TextList(values.into()),
            total_count: total as i32,
        })
    }
}

/// One page of the caller's inventory view.
#[derive(Debug, Clone)]
pub struct InventoryConnection {
    pub total_count: i32,
    /// Computed only when the operation selects `filteredCount`.
    pub filtered_count: Option<i32>,
    pub as_of: OffsetDateTime,
    pub next_cursor: Option<String>,
    pub multi_customer: bool,
    pub stale: bool,
    /// Computed only when the operation selects a facets field.
    pub facets: Option<InventoryFacets>,
    pub rows: Vec<InventoryRowNode>,
    snapshot: Arc<Snapshot>,
    today: time::Date,
}

/// Lots expired, and expiring within 30 days, in the caller's whole scope.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct ExpiryCounts {
    pub expired: i32,
    pub expiring_within_30_days: i32,
}

/// One inventory layer (a lot in a bin), with what the portal works out about it.
#[derive(Debug, Clone)]
pub struct InventoryRowNode {
    /// The row is read from the snapshot, not copied out of it.
    snapshot: Arc<Snapshot>,
    index: u32,
    pub days_to_expiry: Option<i32>,
    pub minimum_qty: Option<f64>,
    pub below_minimum: bool,
    /// The part's forecast, when the operation asked for it.
    pub forecast: Option<PartForecast>,
}

/// What a part's forecast says.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ForecastStatus {
    /// Fewer than 7 days of history the forecast can use.
    NotEnoughHistory,
    /// Steady or growing over the window.
    NotFalling,
    Falling,
}

/// A part's days of cover and run-out dates, from its own daily history: the average daily
/// use over the window (28 days unless configured; delivery days left out), and what is on
/// hand now (docs/forecast.md says it in words).
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct PartForecast {
    pub status: ForecastStatus,
    /// Days of history the forecast used.
    pub history_days: i32,
    /// Average use a day; null without enough history.
    pub daily_use: Option<f64>,
    /// On hand divided by daily use, where the part is falling.
    pub days_of_cover: Option<f64>,
    /// The day it runs out at that rate.
    pub runs_out_on: Option<time::Date>,
    /// The day it falls below its minimum at that rate (null: no minimum, or below already).
    pub below_minimum_on: Option<time::Date>,
}

impl From<&crate::domain::forecast::Forecast> for PartForecast {
    fn from(f: &crate::domain::forecast::Forecast) -> PartForecast {
        use crate::domain::forecast::Forecast as F;
        let (status, days, daily_use) = match f {
            F::NotEnoughHistory { days } => (ForecastStatus::NotEnoughHistory, *days, None),
            F::NotFalling { daily_use, days } => {
                (ForecastStatus::NotFalling, *days, Some(*daily_use))
            }
            F::Falling {
                daily_use, days, ..
            } => (ForecastStatus::Falling, *days, Some(*daily_use)),
        };
        PartForecast {
            status,
            history_days: days as i32,
            daily_use,
            days_of_cover: f.days_of_cover(),
            runs_out_on: f.runs_out_on(),
            below_minimum_on: f.below_minimum_on(),
        }
    }
}

/// A part without any recorded day.
const NO_HISTORY: PartForecast = PartForecast {
    status: ForecastStatus::NotEnoughHistory,
    history_days: 0,
    daily_use: None,
    days_of_cover: None,
    runs_out_on: None,
    below_minimum_on: None,
};

/// The row fields a tool's pull asks for, written without the executor (the resolvers
/// below say the same; a test compares both roads field by field).
impl PlainJson for InventoryRowNode {
    fn plain_field(name: &str) -> Option<FieldWriter<Self>> {
        // Each writer reads its own column only.
        Some(match name {
            "customer" => |n, out| n.text(out, TextCol::Customer),
            "part" => |n, out| n.text(out, TextCol::Part),
            "customerPart" => |n, out| n.text(out, TextCol::CustomerPart),
            "description" => |n, out| n.text(out, TextCol::Description),
            "onHandQty" => |n, out| {
                write_float(out, n.snapshot.rows.quantities()[n.index as usize]);
            },
            "unit" => |n, out| n.text(out, TextCol::Unit),
            "bin" => |n, out| n.text(out, TextCol::Bin),
            "reference" => |n, out| n.text(out, TextCol::Reference),
            "userLot" => |n, out| n.text(out, TextCol::UserLot),
            "expDate" => |n, out| n.date(out, DateCol::Exp),
            "lastTransactionDate" => |n, out| n.date(out, DateCol::LastTransaction),
            "lastRecDate" => |n, out| n.date(out, DateCol::LastRec),
            "po" => |n, out| n.text(out, TextCol::Po),
            "status" => |n, out| n.text(out, TextCol::Status),
            "daysToExpiry" => |n, out| write_optional(out, n.days_to_expiry.as_ref()),
            "minimumQty" => |n, out| write_optional(out, n.minimum_qty.as_ref()),
            "belowMinimum" => |n, out| write_scalar(out, &n.below_minimum),
            _ => return None,
        })
    }

    fn plain_object(name: &str, below: &Below<'_>) -> Option<ObjectWriter<Self>> {
        if name != "forecast" {
            return None;
        }
        let keys = below.keys::<PartForecast>()?;
        // A row without its forecast answers an error through the executor.
        Some(Box::new(move |n, out| {
            n.forecast
                .as_ref()
                .is_some_and(|f| write_object(f, &keys, out))
        }))
    }
}

impl PlainJson for PartForecast {
    fn plain_field(name: &str) -> Option<FieldWriter<Self>> {
        Some(match name {
            "status" => |f, out| write_enum(out, f.status),
            "historyDays" => |f, out| write_scalar(out, &f.history_days),
            "dailyUse" => |f, out| write_optional(out, f.daily_use.as_ref()),
            "daysOfCover" => |f, out| write_optional(out, f.days_of_cover.as_ref()),
            "runsOutOn" => |f, out| write_optional(out, f.runs_out_on.as_ref()),
            "belowMinimumOn" => |f, out| write_optional(out, f.below_minimum_on.as_ref()),
            _ => return None,
        })
    }
}

impl InventoryRowNode {
    fn text(&self, out: &mut Vec<u8>, col: TextCol) {
        write_text(out, self.snapshot.rows.text(col, self.index as usize));
    }

    fn date(&self, out: &mut Vec<u8>, col: DateCol) {
        match self.snapshot.rows.date(col, self.index as usize) {
            Some(d) => write_date(out, d),
            None => out.extend_from_slice(b"null"),
        }
    }
}

#[Object(name = "InventoryRow")]
impl InventoryRowNode {
    /// The ERP customer the row belongs to.
    async fn customer(&self) -> &str {
        self.snapshot
            .rows
            .text(TextCol::Customer, self.index as usize)
    }
    async fn part(&self) -> &str {
        self.snapshot.rows.text(TextCol::Part, self.index as usize)
    }
    /// No source yet: always empty (kept for future use, as in the old portal).
    async fn customer_part(&self) -> &str {
        self.snapshot
            .rows
            .text(TextCol::CustomerPart, self.index as usize)
    }
    async fn description(&self) -> &str {
        self.snapshot
            .rows
            .text(TextCol::Description, self.index as usize)
    }
    async fn on_hand_qty(&self) -> f64 {
        self.snapshot.rows.quantities()[self.index as usize]
    }
    async fn unit(&self) -> &str {
        self.snapshot.rows.text(TextCol::Unit, self.index as usize)
    }
    async fn bin(&self) -> &str {
        self.snapshot.rows.text(TextCol::Bin, self.index as usize)
    }
    async fn reference(&self) -> &str {
        self.snapshot
            .rows
            .text(TextCol::Reference, self.index as usize)
    }
    async fn user_lot(&self) -> &str {
        self.snapshot
            .rows
            .text(TextCol::UserLot, self.index as usize)
    }
    async fn exp_date(&self) -> Option<time::Date> {
        self.snapshot.rows.date(DateCol::Exp, self.index as usize)
    }
    async fn last_transaction_date(&self) -> Option<time::Date> {
        self.snapshot
            .rows
            .date(DateCol::LastTransaction, self.index as usize)
    }
    async fn last_rec_date(&self) -> Option<time::Date> {
        self.snapshot
            .rows
            .date(DateCol::LastRec, self.index as usize)
    }
    async fn po(&self) -> &str {
        self.snapshot.rows.text(TextCol::Po, self.index as usize)
    }
    async fn status(&self) -> &str {
        self.snapshot
            .rows
            .text(TextCol::Status, self.index as usize)
    }
    /// Days from today (in the portal's time zone) to `expDate`: negative once expired,
    /// null without an expiry date.
    async fn days_to_expiry(&self) -> Option<i32> {
        self.days_to_expiry
    }
    /// The minimum on hand set for this part of this customer; null when none is set.
    async fn minimum_qty(&self) -> Option<f64> {
        self.minimum_qty
    }
    /// The part's total on hand in the scope (every lot and bin) is below `minimumQty`.
    async fn below_minimum(&self) -> bool {
        self.below_minimum
    }
    /// The part's forecast from its daily history (the same on every lot of the part).
    async fn forecast(&self) -> async_graphql::Result<PartForecast> {
        self.forecast.ok_or_else(|| not_computed("forecast"))
    }
}

/// The page's rows as nodes: days to expiry as of `today`, minimums from `minimums`,
/// forecasts from `forecasts`.
pub fn row_nodes(
    snap: &Arc<Snapshot>,
    rows: &[u32],
    today: time::Date,
    minimums: Option<&Minimums>,
    forecasts: Option<&Forecasts>,
) -> Vec<InventoryRowNode> {
    rows.iter()
        .map(|&i| {
            let row = snap.rows.get(i as usize);
            let minimum_qty = minimums.and_then(|m| m.get(row.customer, row.part));
            InventoryRowNode {
                days_to_expiry: row.exp_date.map(|d| {
                    days_to_expiry(d, today).clamp(i32::MIN as i64, i32::MAX as i64) as i32
                }),
                minimum_qty,
                below_minimum: minimums.is_some_and(|m| snap.row_below_minimum(i as usize, m)),
                forecast: forecasts.map(|f| {
                    f.get(row.customer, row.part)
                        .map_or(NO_HISTORY, PartForecast::from)
                }),
                snapshot: snap.clone(),
                index: i,
            }
        })
        .collect()
}

/// Look-ahead found a field whose data was not computed: a bug, not the caller's fault.
fn not_computed(what: &str) -> async_graphql::Error {
    tracing::error!(what, "inventory field selected but not computed");
    coded_error(codes::INTERNAL, "internal error")
}

impl InventoryConnection {
    fn facets_ref(&self) -> async_graphql::Result<&InventoryFacets> {
        self.facets.as_ref().ok_or_else(|| not_computed("facets"))
    }
    fn facets_fp(&self) -> async_graphql::Result<&str> {
        Ok(self.facets_ref()?.0.fingerprint())
    }
}

#[Object]
impl InventoryConnection {
    /// Rows in the caller's scope.
    async fn total_count(&self) -> i32 {
        self.total_count
    }
    /// Rows left after search and filters.
    async fn filtered_count(&self) -> async_graphql::Result<i32> {
        self.filtered_count
            .ok_or_else(|| not_computed("filteredCount"))
    }
    /// When these rows were read from the ERP.
    async fn as_of(&self) -> OffsetDateTime {
        self.as_of
    }
    /// Pass as `after` for the next page; null on the last page.
    async fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }
    /// The scope covers more than one ERP customer (rows then show their customer).
    async fn multi_customer(&self) -> bool {
        self.multi_customer
    }
    /// True when the ERP did not answer and these are the last rows read from it, as of
    /// `asOf`.
    async fn stale(&self) -> bool {
        self.stale
    }
    /// Dropdown options left when every other filter and the search are applied.
    async fn facets(&self) -> async_graphql::Result<&InventoryFacets> {
        self.facets_ref()
    }
    /// A fingerprint of `facets`, so a client can skip re-fetching unchanged options.
    async fn facets_fingerprint(&self) -> async_graphql::Result<&str> {
        self.facets_fp()
    }
    /// `facets`, or null when they still match `fingerprint` (a client's current options).
    /// With thousands of parts this keeps sorts and refreshes small.
    async fn facets_if_changed(
        &self,
        fingerprint: String,
    ) -> async_graphql::Result<Option<&InventoryFacets>> {
        Ok((self.facets_fp()? != fingerprint).then_some(self.facets_ref()?))
    }
    async fn rows(&self) -> StreamedList<'_, InventoryRowNode> {
        StreamedList(&self.rows)
    }
    /// Lots expired, and expiring within 30 days, in the whole scope (whatever the filters).
    async fn expiry_counts(&self) -> ExpiryCounts {
        let c = self.snapshot.expiry_counts(self.today);
        ExpiryCounts {
            expired: c.expired as i32,
            expiring_within_30_days: c.within_30 as i32,
        }
    }
}

pub fn erp_error(e: &ErpError) -> async_graphql::Error {
    tracing::warn!(error = %e, "ERP error surfaced to GraphQL");
    coded_error(
        codes::ERP_UNAVAILABLE,
        "inventory is temporarily unavailable",
    )
}

impl InventoryFilter {
    /// The service's filter: expiry counted from `today`; "below minimum" against
    /// `minimums` (the caller's thresholds).
    pub fn into_filter(
        self,
        today: time::Date,
        minimums: Option<Arc<Minimums>>,
        forecasts: Option<Arc<Forecasts>>,
    ) -> Filter {
        Filter {
            search: self.search,
            part: self.part,
            bin: self.bin,
            status: self.status,
            expiry: self.expiry.map(|r| ExpiryFilter {
                window: r.into(),
                today,
            }),
            below_minimum: if self.below_minimum == Some(true) {
                Some(minimums.unwrap_or_default())
            } else {
                None
            },
            runs_out: self.runs_out_within_days.map(|d| RunsOut {
                within_days: d.clamp(1, crate::inventory::view::MAX_RUNOUT_DAYS as i32) as u32,
                forecasts: forecasts.unwrap_or_default(),
            }),
        }
    }
}

/// Today in the portal's time zone: days to expiry count on the customers' calendar.
pub fn portal_today(ctx: &Context<'_>) -> time::Date {
    let now = OffsetDateTime::now_utc();
    match ctx.data_opt::<crate::domain::Zone>() {
        Some(zone) => zone.at(now).date(),
        None => now.date(),
    }
}

pub fn selection(
    filter: Option<InventoryFilter>,
    sort: Option<Vec<InventorySort>>,
    today: time::Date,
    minimums: Option<Arc<Minimums>>,
    forecasts: Option<Arc<Forecasts>>,
) -> Selection {
    let sort = sort
        .unwrap_or_default()
        .into_iter()
        .take(SortField::ALL.len())
        .map(|s| SortKey {
            field: s.field.into(),
            dir: if s.direction == SortDirection::Desc {
                SortDir::Desc
            } else {
                SortDir::Asc
            },
        })
        .collect();
    Selection {
        filter: filter
            .map(|f| f.into_filter(today, minimums, forecasts.clone()))
            .unwrap_or_default(),
        sort,
        cover: forecasts,
    }
}

/// What of the app database a view's rows are chosen by: forecasts (a run-out filter, a
/// sort by days of cover), minimums (the below-minimum filter).
struct ChosenBy {
    forecasts: bool,
    minimums: bool,
}

impl ChosenBy {
    fn of(filter: Option<&InventoryFilter>, sort: Option<&[InventorySort]>) -> ChosenBy {
        ChosenBy {
            forecasts: filter.is_some_and(|f| f.runs_out_within_days.is_some())
                || sort.is_some_and(|s| s.iter().any(|k| k.field == InventoryField::DaysOfCover)),
            minimums: filter.is_some_and(|f| f.below_minimum == Some(true)),
        }
    }
}

/// The minimums and forecasts of the scope this operation reads: for what its rows are
/// `chosen` by, or the row fields that show them (each is a read of the app database).
async fn minimums_and_forecasts(
    ctx: &Context<'_>,
    grant: &crate::auth::access::InventoryGrant,
    chosen: &ChosenBy,
) -> async_graphql::Result<(Option<Arc<Minimums>>, Option<Arc<Forecasts>>)> {
    let rows_ahead = ctx.look_ahead().field("rows");
    let wants_forecasts = chosen.forecasts || rows_ahead.field("forecast").exists();
    let wants_minimums = wants_forecasts
        || chosen.minimums
        || rows_ahead.field("minimumQty").exists()
        || rows_ahead.field("belowMinimum").exists();
    let minimums = if wants_minimums {
        let store = ctx.data::<Arc<dyn crate::store::PartMinimumStore>>()?;
        let cache = ctx.data::<Arc<super::minimums::MinimumsCache>>()?;
        Some(
            cache
                .get(store.as_ref(), grant.scope())
                .await
                .map_err(|e| super::guards::store_error(&e))?,
        )
    } else {
        None
    };
    let forecasts = if wants_forecasts {
        let history = ctx.data::<Arc<crate::history::History>>()?;
        Some(
            history
                .forecasts(grant.scope(), minimums.as_deref())
                .await
                .map_err(|e| super::guards::store_error(&e))?,
        )
    } else {
        None
    };
    Ok((minimums, forecasts))
}

/// A page that could not be read, as the caller sees it.
fn page_error(e: PageError) -> async_graphql::Error {
    match e {
        PageError::Erp(e) => erp_error(&e),
        PageError::Cursor(CursorError::Invalid) => {
            coded_error(codes::BAD_USER_INPUT, "invalid cursor")
        }
        PageError::Cursor(CursorError::Mismatch) => coded_error(
            codes::BAD_USER_INPUT,
            "cursor does not match this query (scope, filter or sort)",
        ),
        PageError::Cursor(CursorError::Expired { read }) => coded_error(
            codes::CURSOR_EXPIRED,
            &format!(
                "cursor expired after {read} rows (its snapshot was idle for 10 minutes, or the portal restarted): start the pull again from the first page"
            ),
        )
        .extend_with(move |_, e| e.set("read", read as u64)),
        PageError::Cursor(CursorError::Busy) => rate_limited(
            "other pulls are keeping their rows: no room to keep this pull's rows until it ends; start it again in a little while",
            crate::inventory::PULL_RETRY,
        ),
    }
}

#[Object]
impl InventoryQuery {
    /// Live inventory: searched, filtered, sorted and paged on the server, always within
    /// the caller's ERP scope (a customer's account, a token's ERP names; admins any).
    // Each argument is a GraphQL argument: the API's shape, not a Rust design choice.
    #[allow(clippy::too_many_arguments)]
    async fn inventory(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Only these ERP customers (exact names): narrows the caller's scope, never widens it."
        )]
        erp_customer_names: Option<Vec<String>>,
        filter: Option<InventoryFilter>,
        sort: Option<Vec<InventorySort>>,
        #[graphql(desc = "Rows per page (default 100; at most 500, or 5,000 with an API token).")]
        first: Option<i32>,
        #[graphql(desc = "`nextCursor` of the previous page.")] after: Option<String>,
        #[graphql(desc = "Re-read the ERP if the cached rows are more than a few seconds old.")]
        refresh: Option<bool>,
    ) -> async_graphql::Result<InventoryConnection> {
        let grant = require_inventory(ctx, erp_customer_names.as_deref())?;
        let service = ctx.data::<Arc<InventoryService>>()?;
        let first = match first {
            None => DEFAULT_PAGE,
            Some(n) if n < 1 => {
                return Err(coded_error(
                    codes::BAD_USER_INPUT,
                    "first must be at least 1",
                ));
            }
            Some(n) => (n as usize).min(crate::inventory::max_page(matches!(
                grant.holder(),
                crate::auth::access::Holder::Tool(_)
            ))),
        };
        let today = portal_today(ctx);
        // Facets and the filtered count cost a pass over the scope each: only when asked.
        let ahead = ctx.look_ahead();
        let want = Wanted {
            facets: ahead.field("facets").exists()
                || ahead.field("facetsFingerprint").exists()
                || ahead.field("facetsIfChanged").exists(),
            count: ahead.field("filteredCount").exists(),
        };
        let (grant_ref, after_ref) = (&grant, after.as_deref());
        let page = |sel: Selection| async move {
            service
                .page(
                    grant_ref,
                    &sel,
                    after_ref,
                    first,
                    refresh.unwrap_or(false),
                    want,
                )
                .await
                .map_err(page_error)
        };
        // Minimums and forecasts are read from the app database: before the page when
        // its rows are chosen by them, otherwise while the rows are read (a cold read of
        // the ERP does not wait for the history first).
        let chosen = ChosenBy::of(filter.as_ref(), sort.as_deref());
        let ((minimums, forecasts), page) = if chosen.forecasts || chosen.minimums {
            let (minimums, forecasts) = minimums_and_forecasts(ctx, &grant, &chosen).await?;
            let sel = selection(filter, sort, today, minimums.clone(), forecasts.clone());
            ((minimums, forecasts), page(sel).await?)
        } else {
            let both = minimums_and_forecasts(ctx, &grant, &chosen);
            let sel = selection(filter.clone(), sort.clone(), today, None, None);
            let (both, page) = tokio::join!(both, page(sel));
            (both?, page?)
        };
        let snap = &page.snapshot;
        Ok(InventoryConnection {
            total_count: snap.total_count() as i32,
            filtered_count: page.filtered_count.map(|n| n as i32),
            as_of: snap.as_of(),
            next_cursor: page.next_cursor,
            multi_customer: snap.multi_customer,
            stale: page.stale,
            facets: page.facets.map(InventoryFacets),
            rows: row_nodes(
                snap,
                &page.rows,
                today,
                minimums.as_deref(),
                forecasts.as_deref(),
            ),
            snapshot: snap.clone(),
            today,
        })
    }

    /// Every ERP customer name, sorted (for assigning accounts). Admins only.
    async fn erp_customer_names(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<String>> {
        let admin = require_staff(ctx, Scope::CustomersRead)?;
        let service = ctx.data::<Arc<InventoryService>>()?;
        service
            .customer_names(&admin)
            .await
            .map_err(|e| erp_error(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::{InventoryField, matching};
    use crate::inventory::SortField;

    /// The schema's sort fields are the inventory's columns under their own names, each
    /// once: the column table stays the one description.
    #[test]
    fn every_schema_sort_field_is_a_column_under_its_name() {
        use async_graphql::resolver_utils::EnumType;
        let items = InventoryField::items();
        assert_eq!(items.len(), SortField::ALL.len());
        for item in items {
            let field = SortField::from(item.value);
            assert_eq!(item.name, field.name());
            assert_eq!(crate::inventory::columns::column(field).field, field);
        }
    }

    /// The field names of `type_name` in the schema's SDL.
    fn sdl_fields(type_name: &str) -> Vec<String> {
        let sdl = crate::graphql::PortalSchema::build(
            crate::graphql::Query::default(),
            crate::graphql::Mutation::default(),
            async_graphql::EmptySubscription,
        )
        .finish()
        .sdl();
        let body = sdl
            .split(&format!("type {type_name} {{"))
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .expect("the type in the schema");
        let mut in_description = false;
        let mut fields = Vec::new();
        for line in body.lines().map(str::trim) {
            if line.starts_with("\"\"\"") {
                in_description = !in_description;
                continue;
            }
            if in_description || line.is_empty() {
                continue;
            }
            fields.push(line.split(':').next().unwrap().to_owned());
        }
        fields
    }

    /// Every field of `InventoryRow` but `forecast` (an object) is written without the
    /// executor when a pull asks for it plainly, and so is every field of the forecast
    /// below it: a field added later without a writer would quietly send every pull and
    /// every grid back through the executor.
    #[test]
    fn every_plain_row_field_has_a_writer() {
        use super::super::streamed::PlainJson;
        use super::{InventoryRowNode, PartForecast};
        let fields = sdl_fields("InventoryRow");
        assert!(fields.len() >= 18, "{fields:?}");
        for field in &fields {
            let plain = InventoryRowNode::plain_field(field).is_some();
            assert_eq!(plain, field != "forecast", "{field}");
        }
        let fields = sdl_fields("PartForecast");
        assert!(fields.len() >= 6, "{fields:?}");
        for field in &fields {
            assert!(PartForecast::plain_field(field).is_some(), "{field}");
        }
    }

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn matching_puts_prefixes_first_and_counts_all() {
        let options = list(&["AB-100", "XAB-1", "ab-200", "CD-1", "ZZ-AB"]);
        let (values, total) = matching(&options, " ab ", 10);
        assert_eq!(values, ["AB-100", "ab-200", "XAB-1", "ZZ-AB"]);
        assert_eq!(total, 4);
        let (values, total) = matching(&options, "ab", 2);
        assert_eq!(values, ["AB-100", "ab-200"]);
        assert_eq!(total, 4, "the count is of every match, not the page");
        let (values, total) = matching(&options, "", 3);
        assert_eq!(values, ["AB-100", "XAB-1", "ab-200"]);
        assert_eq!(total, 5);
        assert_eq!(matching(&options, "nope", 3), (Vec::new(), 0));
    }
}
