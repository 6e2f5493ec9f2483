//! An indexed, immutable copy of one scope's rows: built once per ERP read, then shared by
//! every request until it goes stale. Filtering, faceting and paging read it without
//! copying rows; sort orders and recent search results are memoised on it.

use std::cmp::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;

use memchr::memmem;
use time::OffsetDateTime;

use super::by_part::ByPart;
use super::forecasts::Forecasts;
use super::rows::{DateCol, NO_DATE, RowRef, Rows, RowsBuilder, TextCol};
use super::search_text::SearchTextBuilder;
use crate::erp::InventoryRow;

/// A column the grid can sort by; names are the GraphQL row field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortField {
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
    /// Same order as `ExpDate` (today is the same for every row).
    DaysToExpiry,
    /// The part's days of cover (from its history; parts not falling, or without enough
    /// history, last in either direction).
    DaysOfCover,
}

impl SortField {
    pub const ALL: [SortField; 16] = [
        SortField::Customer,
        SortField::Part,
        SortField::CustomerPart,
        SortField::Description,
        SortField::OnHandQty,
        SortField::Unit,
        SortField::Bin,
        SortField::Reference,
        SortField::UserLot,
        SortField::ExpDate,
        SortField::LastTransactionDate,
        SortField::LastRecDate,
        SortField::Po,
        SortField::Status,
        SortField::DaysToExpiry,
        SortField::DaysOfCover,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SortField::Customer => "customer",
            SortField::Part => "part",
            SortField::CustomerPart => "customerPart",
            SortField::Description => "description",
            SortField::OnHandQty => "onHandQty",
            SortField::Unit => "unit",
            SortField::Bin => "bin",
            SortField::Reference => "reference",
            SortField::UserLot => "userLot",
            SortField::ExpDate => "expDate",
            SortField::LastTransactionDate => "lastTransactionDate",
            SortField::LastRecDate => "lastRecDate",
            SortField::Po => "po",
            SortField::Status => "status",
            SortField::DaysToExpiry => "daysToExpiry",
            SortField::DaysOfCover => "daysOfCover",
        }
    }

    pub fn parse(name: &str) -> Option<SortField> {
        SortField::ALL.into_iter().find(|f| f.name() == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortDir {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortKey {
    pub field: SortField,
    pub dir: SortDir,
}

impl SortKey {
    /// The same column the other way round.
    pub fn flipped(self) -> SortKey {
        SortKey {
            field: self.field,
            dir: match self.dir {
                SortDir::Asc => SortDir::Desc,
                SortDir::Desc => SortDir::Asc,
            },
        }
    }
}

/// Search and exact-match filters. Empty strings mean "no filter".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub search: Option<String>,
    pub part: Option<String>,
    pub bin: Option<String>,
    pub status: Option<String>,
    /// Only lots expired or expiring within a window, counted from a given day.
    pub expiry: Option<ExpiryFilter>,
    /// Only parts whose total on hand in the scope is below their minimum.
    pub below_minimum: Option<Arc<Minimums>>,
    /// Only parts forecast to run out within some days.
    pub runs_out: Option<RunsOut>,
}

/// The "runs out within N days" filter, with the forecasts it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunsOut {
    pub within_days: u32,
    pub forecasts: Arc<Forecasts>,
}

/// The expiry quick filter: lots already expired, or expiring within 30, 60 or 90 days
/// (today included, expired lots not). Lots without an expiry date never match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpiryWindow {
    Expired,
    Within30,
    Within60,
    Within90,
}

impl ExpiryWindow {
    pub const ALL: [ExpiryWindow; 4] = [
        ExpiryWindow::Expired,
        ExpiryWindow::Within30,
        ExpiryWindow::Within60,
        ExpiryWindow::Within90,
    ];

    /// The URL value: `expired`, `30`, `60`, `90`.
    pub fn name(self) -> &'static str {
        match self {
            ExpiryWindow::Expired => "expired",
            ExpiryWindow::Within30 => "30",
            ExpiryWindow::Within60 => "60",
            ExpiryWindow::Within90 => "90",
        }
    }

    pub fn parse(s: &str) -> Option<ExpiryWindow> {
        ExpiryWindow::ALL.into_iter().find(|w| w.name() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            ExpiryWindow::Expired => "Expired",
            ExpiryWindow::Within30 => "Expiring in 30 days",
            ExpiryWindow::Within60 => "Expiring in 60 days",
            ExpiryWindow::Within90 => "Expiring in 90 days",
        }
    }

    /// Whether a lot `days` from its expiry (negative: expired) is in the window.
    pub fn contains(self, days: i64) -> bool {
        match self {
            ExpiryWindow::Expired => days < 0,
            ExpiryWindow::Within30 => (0..=30).contains(&days),
            ExpiryWindow::Within60 => (0..=60).contains(&days),
            ExpiryWindow::Within90 => (0..=90).contains(&days),
        }
    }
}

/// [`ExpiryWindow`] as of a day (the portal's today).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExpiryFilter {
    pub window: ExpiryWindow,
    pub today: time::Date,
}

/// Days from `today` to `exp` (negative once expired).
pub fn days_to_expiry(exp: time::Date, today: time::Date) -> i64 {
    (exp - today).whole_days()
}

/// Minimum on-hand quantities by (ERP customer, part), as set in the app database. Two
/// sets with the same entries compare equal (the view memo is keyed by them).
#[derive(Clone, Default)]
pub struct Minimums {
    map: ByPart<f64>,
    fingerprint: u64,
}

impl Minimums {
    pub fn new(entries: impl IntoIterator<Item = (String, String, f64)>) -> Minimums {
        use std::hash::{Hash, Hasher};
        let mut sorted: Vec<(String, String, u64)> = entries
            .into_iter()
            .map(|(c, p, m)| (c, p, m.to_bits()))
            .collect();
        sorted.sort();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        sorted.hash(&mut h);
        let mut map = ByPart::default();
        for (c, p, m) in sorted {
            map.entry(&c, &p).insert_entry(f64::from_bits(m));
        }
        Minimums {
            map,
            fingerprint: h.finish(),
        }
    }

    pub fn get(&self, customer: &str, part: &str) -> Option<f64> {
        self.map.get(customer, part).copied()
    }

    /// Two sets with the same entries have the same fingerprint.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }
}

/// The filter's and badges' form of the minimums the app database holds.
impl From<Vec<crate::store::PartMinimum>> for Minimums {
    fn from(list: Vec<crate::store::PartMinimum>) -> Minimums {
        Minimums::new(
            list.into_iter()
                .map(|m| (m.erp_customer_name, m.part, m.minimum_qty)),
        )
    }
}

impl PartialEq for Minimums {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint && self.map.len() == other.map.len()
    }
}

impl Eq for Minimums {}

impl std::fmt::Debug for Minimums {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Cursors are bound to the selection's debug text: the fingerprint makes a changed
        // set of minimums a different view.
        f.debug_struct("Minimums")
            .field("entries", &self.map.len())
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

/// A part of a customer across the scope's rows.
#[derive(Debug, Clone, Copy)]
struct PartSummary {
    total: f64,
    /// Where its description is read.
    first_row: u32,
}

/// Lots expired and expiring within 30 days (today included) in a scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiryCounts {
    pub expired: usize,
    pub within_30: usize,
}

/// What a view selects: filters and sort (empty sort = the default order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub filter: Filter,
    pub sort: Vec<SortKey>,
    /// The forecasts a sort by days of cover reads (none: that sort leaves the default order).
    pub cover: Option<Arc<Forecasts>>,
}

/// Dropdown options left when every *other* filter and the search are applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub parts: Vec<String>,
    pub bins: Vec<String>,
    pub statuses: Vec<String>,
    /// Computed once per memoised view, however many requests ask.
    fingerprint: std::sync::OnceLock<String>,
}

impl Facets {
    pub fn new(parts: Vec<String>, bins: Vec<String>, statuses: Vec<String>) -> Facets {
        Facets {
            parts,
            bins,
            statuses,
            fingerprint: std::sync::OnceLock::new(),
        }
    }

    /// Stable within one build: equal lists give equal fingerprints.
    pub fn fingerprint(&self) -> &str {
        self.fingerprint.get_or_init(|| {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (&self.parts, &self.bins, &self.statuses).hash(&mut h);
            format!("{:016x}", h.finish())
        })
    }
}

/// Which rows a filter selects, and (when they were wanted) its facets: memoised per
/// snapshot, because a page, its refreshes and its scrolling ask for the same filter
/// again and again, and every user of a scope shares it.
struct Selected {
    /// `None`: every row.
    matched: Option<Vec<bool>>,
    /// How many rows `matched` holds: a page needs no pass over the scope to count.
    count: usize,
    facets: Option<Arc<Facets>>,
}

/// Distinct values of a column, sorted for display, and each row's index into them.
struct Dict {
    values: Vec<String>,
    ids: Vec<u32>,
}

impl Dict {
    fn heap_bytes(&self) -> usize {
        self.values.capacity() * std::mem::size_of::<String>()
            + self.values.iter().map(String::capacity).sum::<usize>()
            + self.ids.capacity() * 4
    }

    /// A column's distinct values in text order (`rank`: the pool's order) and each
    /// row's index into them.
    fn of(rows: &Rows, col: TextCol, rank: &[u32]) -> Dict {
        let ids = rows.text_ids(col);
        let mut used = vec![u32::MAX; rows.distinct_texts()];
        let mut distinct: Vec<u32> = Vec::new();
        for &id in ids {
            if used[id as usize] == u32::MAX {
                used[id as usize] = 0;
                distinct.push(id);
            }
        }
        distinct.sort_unstable_by_key(|&id| rank[id as usize]);
        for (i, &id) in distinct.iter().enumerate() {
            used[id as usize] = i as u32;
        }
        Dict {
            values: distinct
                .iter()
                .map(|&id| rows.text_of(id).to_owned())
                .collect(),
            ids: ids.iter().map(|&id| used[id as usize]).collect(),
        }
    }

    fn id_of(&self, value: &str) -> Option<u32> {
        self.values
            .iter()
            .position(|v| v == value)
            .map(|i| i as u32)
    }
}

/// Text order: case-insensitive, then exact, so the order is total and stable.
fn text_cmp(a: &str, b: &str) -> Ordering {
    // Most ERP text is ASCII: compare bytes folded to lower case without decoding.
    let folded = if a.is_ascii() && b.is_ascii() {
        a.bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        let la = a.chars().flat_map(char::to_lowercase);
        let lb = b.chars().flat_map(char::to_lowercase);
        la.cmp(lb)
    };
    folded.then_with(|| a.cmp(b))
}

/// Every distinct text of the rows in text order, as a rank per pool id: sorted once per
/// snapshot, then every text column's order is a lookup (no string compared again).
fn pool_ranks(rows: &Rows) -> Vec<u32> {
    let n = rows.distinct_texts() as u32;
    let cmp = |a: &u32, b: &u32| text_cmp(rows.text_of(*a), rows.text_of(*b));
    // Two halves sorted on two cores, then merged (no two pool texts are equal, so the
    // merge's order is the one sort's order).
    let ids: Vec<u32> = if n >= 4_096 {
        let (mut low, mut high): (Vec<u32>, Vec<u32>) =
            ((0..n / 2).collect(), (n / 2..n).collect());
        std::thread::scope(|s| {
            let other = s.spawn(|| high.sort_unstable_by(cmp));
            low.sort_unstable_by(cmp);
            join(other);
        });
        let mut merged = Vec::with_capacity(n as usize);
        let (mut i, mut j) = (0, 0);
        while i < low.len() && j < high.len() {
            if cmp(&low[i], &high[j]).is_le() {
                merged.push(low[i]);
                i += 1;
            } else {
                merged.push(high[j]);
                j += 1;
            }
        }
        merged.extend_from_slice(&low[i..]);
        merged.extend_from_slice(&high[j..]);
        merged
    } else {
        let mut ids: Vec<u32> = (0..n).collect();
        ids.sort_unstable_by(cmp);
        ids
    };
    let mut rank = vec![0u32; n as usize];
    for (r, &id) in ids.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    rank
}

/// Row indices into `Snapshot::rows`, shared between requests.
type RowList = Arc<Vec<u32>>;
/// A memoised sort: its keys and the fingerprint of the forecasts it was sorted with.
type SortMemoKey = (Vec<SortKey>, u64);

/// How many memoised sort orders and search results a snapshot keeps.
const SORT_CACHE: usize = 16;
const SEARCH_CACHE: usize = 32;
/// Memoised filters (row masks and facets: ~0.5 MB each at 200,000 rows).
const VIEW_CACHE: usize = 16;
/// How far into an order a page may be looked for on the caller's thread (positions; a
/// few tens of microseconds): see [`Snapshot::select_page_at_hand`].
const WALK_AT_HAND: usize = 20_000;
/// Longest search term accepted (longer input is cut).
pub const MAX_SEARCH_CHARS: usize = 200;

pub struct Snapshot {
    /// Unique in this process: cursors name the snapshot they page through.
    pub id: u64,
    /// About how many bytes this snapshot holds (rows, search text, indexes).
    pub approx_bytes: usize,
    /// Column-wise (see [`Rows`]): `rows.get(i)` is row `i`.
    pub rows: Rows,
    /// When these rows were last read from the ERP (a re-read that found them unchanged
    /// moves it on; see [`Reread`]).
    as_of: Mutex<OffsetDateTime>,
    /// The scope covers more than one ERP customer (the grid shows a Customer column).
    pub multi_customer: bool,
    /// Every row's displayed text, lower-cased, rows separated by `\n`.
    haystack: Vec<u8>,
    row_starts: Vec<u32>,
    parts: Dict,
    bins: Dict,
    statuses: Dict,
    /// Each pooled text's rank in text order (see `pool_ranks`).
    text_rank: Vec<u32>,
    /// Each row's position in the default order (the final tie-breaker of every sort).
    default_pos: Vec<u32>,
    default_order: Arc<Vec<u32>>,
    sorts: Mutex<Vec<Sorted>>,
    /// Sorts being worked out now: another request for one of them waits for it rather
    /// than sorting the same rows again (a first sort of a million rows keeps a core busy
    /// for a tenth of a second, and a whole office may click the same header).
    sorting: Mutex<Vec<SortMemoKey>>,
    sorted_one: parking_lot::Condvar,
    /// The columns people sorted these rows by (first key), first asked first: the next
    /// snapshot of the scope sorts them ahead.
    asked: Mutex<Vec<SortField>>,
    searches: Mutex<Vec<(String, RowList)>>,
    views: Mutex<Vec<(Filter, Arc<Selected>)>>,
    /// Each (customer, part)'s total on hand in the scope and its first row, computed
    /// once when asked.
    part_totals: std::sync::OnceLock<ByPart<PartSummary>>,
    /// The expiry counts of the last day asked (a pass over every row otherwise; every
    /// grid refresh shows them).
    expiry_memo: Mutex<Option<(time::Date, ExpiryCounts)>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("rows", &self.rows.len())
            .field("as_of", &self.as_of())
            .finish()
    }
}

/// What a caller needs besides the page's rows; each costs a pass over the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// The cascading dropdown options.
    pub facets: bool,
    /// How many rows the view selects in all.
    pub count: bool,
}

impl Wanted {
    pub const EVERYTHING: Wanted = Wanted {
        facets: true,
        count: true,
    };
    pub const ROWS_ONLY: Wanted = Wanted {
        facets: false,
        count: false,
    };
}

/// One page of a view, with what was wanted besides.
#[derive(Debug, Clone)]
pub struct PageSelection {
    pub count: Option<usize>,
    pub facets: Option<Arc<Facets>>,
    /// Row indices into the snapshot, in view order.
    pub rows: Vec<u32>,
    /// Rows follow this page.
    pub more: bool,
}

/// The search term as matched: trimmed, lower-cased, control characters dropped.
pub fn normalise_search(term: &str) -> Option<String> {
    let t: String = term
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_SEARCH_CHARS)
        .collect::<String>();
    let t = t.trim().to_lowercase();
    (!t.is_empty()).then_some(t)
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// A sort being worked out (see `Snapshot::sorting`); dropping it, also on a panic, lets
/// whoever waits for it look again.
struct Sorting<'a> {
    snapshot: &'a Snapshot,
    key: SortMemoKey,
}

impl Drop for Sorting<'_> {
    fn drop(&mut self) {
        self.snapshot.sorting.lock().retain(|k| *k != self.key);
        self.snapshot.sorted_one.notify_all();
    }
}

/// The default order (docs/deacom.md): one customer by part then user lot; several by
/// customer, part, user lot.
fn default_order(rows: &Rows, text_rank: &[u32], multi_customer: bool) -> Vec<u32> {
    let customer_rank = text_ranks(rows, TextCol::Customer, text_rank);
    let part_rank = text_ranks(rows, TextCol::Part, text_rank);
    let lot_rank = text_ranks(rows, TextCol::UserLot, text_rank);
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    // The row index ends every key, so no two are equal: an unstable sort gives the same.
    order.sort_unstable_by_key(|&i| {
        let i = i as usize;
        (
            if multi_customer { customer_rank[i] } else { 0 },
            part_rank[i],
            lot_rank[i],
            i,
        )
    });
    order
}

fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// What a snapshot derives from its rows besides the search text.
struct Indexes {
    text_rank: Vec<u32>,
    parts: Dict,
    bins: Dict,
    statuses: Dict,
    order: Vec<u32>,
}

impl Indexes {
    /// Made on both cores: the search text is written before (as the rows are read).
    fn of(rows: &Rows, multi_customer: bool) -> Indexes {
        let started = std::time::Instant::now();
        let text_rank = pool_ranks(rows);
        let ranked = started.elapsed();
        let ((parts, bins, statuses), order) = std::thread::scope(|s| {
            let dicts = s.spawn(|| {
                (
                    Dict::of(rows, TextCol::Part, &text_rank),
                    Dict::of(rows, TextCol::Bin, &text_rank),
                    Dict::of(rows, TextCol::Status, &text_rank),
                )
            });
            let order = default_order(rows, &text_rank, multi_customer);
            (join(dicts), order)
        });
        tracing::debug!(
            rows = rows.len(),
            texts = rows.distinct_texts(),
            ranked_ms = ranked.as_millis() as u64,
            indexed_ms = started.elapsed().as_millis() as u64,
            "snapshot indexed"
        );
        Indexes {
            text_rank,
            parts,
            bins,
            statuses,
            order,
        }
    }
}

impl Snapshot {
    /// When these rows were last read from the ERP.
    pub fn as_of(&self) -> OffsetDateTime {
        *self.as_of.lock()
    }

    /// The ERP was read again and answered exactly these rows.
    pub fn read_again(&self, at: OffsetDateTime) {
        *self.as_of.lock() = at;
    }

    /// A snapshot of owned rows (tests, fixtures, tools).
    pub fn from_rows(rows: &[InventoryRow], multi_customer: bool) -> Snapshot {
        let rows = Rows::from_rows(rows);
        let search = SearchTextBuilder::of(&rows);
        Snapshot::build(rows, search, multi_customer)
    }

    /// The snapshot of `rows` and their search text (written as the rows were read): the
    /// orders and dropdowns are made on both cores.
    pub fn build(rows: Rows, search: (Vec<u8>, Vec<u32>), multi_customer: bool) -> Snapshot {
        let indexes = Indexes::of(&rows, multi_customer);
        let (haystack, row_starts) = search;
        let n = rows.len();
        let Indexes {
            text_rank,
            parts,
            bins,
            statuses,
            order,
        } = indexes;
        let mut default_pos = vec![0u32; n];
        for (pos, &i) in order.iter().enumerate() {
            default_pos[i as usize] = pos as u32;
        }

        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        // What the process holds for this snapshot: the rows, the search text and the
        // indexes, by capacity (the memoised sorts, searches and views are counted as
        // they are made: see `held_bytes`).
        let approx_bytes = rows.heap_bytes()
            + haystack.capacity()
            + row_starts.capacity() * 4
            + default_pos.capacity() * 4
            + order.capacity() * 4
            + text_rank.capacity() * 4
            + parts.heap_bytes()
            + bins.heap_bytes()
            + statuses.heap_bytes()
            + std::mem::size_of::<Snapshot>();
        Snapshot {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            approx_bytes,
            rows,
            as_of: Mutex::new(OffsetDateTime::now_utc()),
            multi_customer,
            haystack,
            row_starts,
            parts,
            bins,
            statuses,
            text_rank,
            default_pos,
            default_order: Arc::new(order),
            sorts: Mutex::new(Vec::new()),
            sorting: Mutex::new(Vec::new()),
            sorted_one: parking_lot::Condvar::new(),
            asked: Mutex::new(Vec::new()),
            searches: Mutex::new(Vec::new()),
            views: Mutex::new(Vec::new()),
            part_totals: std::sync::OnceLock::new(),
            expiry_memo: Mutex::new(None),
        }
    }

    /// The total on hand of `part` of `customer` across the scope's lots and bins.
    pub fn part_total(&self, customer: &str, part: &str) -> f64 {
        self.part_totals()
            .get(customer, part)
            .map_or(0.0, |p| p.total)
    }

    /// The description of `part` of `customer` (from its first row), if it is in stock.
    pub fn part_description(&self, customer: &str, part: &str) -> Option<&str> {
        self.part_totals()
            .get(customer, part)
            .map(|p| self.rows.get(p.first_row as usize).description)
    }

    fn part_totals(&self) -> &ByPart<PartSummary> {
        self.part_totals.get_or_init(|| {
            let mut totals: ByPart<PartSummary> = ByPart::default();
            for (i, r) in self.rows.iter().enumerate() {
                totals
                    .entry(r.customer, r.part)
                    .or_insert(PartSummary {
                        total: 0.0,
                        first_row: i as u32,
                    })
                    .total += r.on_hand_qty;
            }
            totals
        })
    }

    /// Whether row `i`'s part is below its minimum (none set: not below).
    pub fn row_below_minimum(&self, i: usize, minimums: &Minimums) -> bool {
        let r = self.rows.get(i);
        minimums
            .get(r.customer, r.part)
            .is_some_and(|min| self.part_total(r.customer, r.part) < min)
    }

    /// Expired and soon-expiring lots in the whole scope, as of `today` (memoised per day).
    pub fn expiry_counts(&self, today: time::Date) -> ExpiryCounts {
        if let Some((day, counts)) = *self.expiry_memo.lock()
            && day == today
        {
            return counts;
        }
        let counts = self.count_expiry(today);
        *self.expiry_memo.lock() = Some((today, counts));
        counts
    }

    fn count_expiry(&self, today: time::Date) -> ExpiryCounts {
        let mut counts = ExpiryCounts::default();
        let today = today.to_julian_day();
        for &d in self.rows.days(DateCol::Exp) {
            if d == NO_DATE {
                continue;
            }
            let days = i64::from(d) - i64::from(today);
            if ExpiryWindow::Expired.contains(days) {
                counts.expired += 1;
            } else if ExpiryWindow::Within30.contains(days) {
                counts.within_30 += 1;
            }
        }
        counts
    }

    pub fn total_count(&self) -> usize {
        self.rows.len()
    }

    fn row_text(&self, i: u32) -> &[u8] {
        &self.haystack
            [self.row_starts[i as usize] as usize..self.row_starts[i as usize + 1] as usize]
    }

    /// Rows whose displayed text contains `term` (already normalised), ascending.
    fn search(&self, term: &str) -> Arc<Vec<u32>> {
        {
            let mut cache = self.searches.lock();
            if let Some(pos) = cache.iter().position(|(t, _)| t == term) {
                let hit = cache.remove(pos);
                let result = hit.1.clone();
                cache.push(hit);
                return result;
            }
        }
        // Typing narrows a search: a cached result for a part of this term holds every
        // row that can match, so only those rows need to be looked at.
        let narrower = {
            let cache = self.searches.lock();
            cache
                .iter()
                .filter(|(t, _)| term.contains(t.as_str()))
                .min_by_key(|(_, r)| r.len())
                .map(|(_, r)| r.clone())
        };
        let finder = memmem::Finder::new(term.as_bytes());
        let result: Vec<u32> = match narrower {
            Some(candidates) => candidates
                .iter()
                .copied()
                .filter(|&i| finder.find(self.row_text(i)).is_some())
                .collect(),
            None => {
                let mut out = Vec::new();
                let mut pos = 0usize;
                while let Some(found) = finder.find(&self.haystack[pos..]) {
                    let at = (pos + found) as u32;
                    // The row holding this match; continue at the next row.
                    let row = self.row_starts.partition_point(|&s| s <= at) - 1;
                    out.push(row as u32);
                    pos = self.row_starts[row + 1] as usize;
                    if pos >= self.haystack.len() {
                        break;
                    }
                }
                out
            }
        };
        let result = Arc::new(result);
        let mut cache = self.searches.lock();
        if cache.len() >= SEARCH_CACHE {
            cache.remove(0);
        }
        cache.push((term.to_owned(), result.clone()));
        result
    }

    /// Row indices in the order `sort` asks for; ties keep the default order.
    fn sorted(&self, sort: &[SortKey], cover: Option<&Forecasts>) -> Order {
        if sort.is_empty() {
            return Order::Made {
                rows: self.default_order.clone(),
                runs: None,
            };
        }
        let key = memo_key(sort, cover);
        if let Some(order) = self.memoised(&key) {
            return order;
        }
        {
            // An order is remembered before its key leaves `sorting`, so under this lock
            // a key that is not being sorted is either known or nobody's yet.
            let mut sorting = self.sorting.lock();
            loop {
                if let Some(order) = self.memoised(&key) {
                    return order;
                }
                if !sorting.contains(&key) {
                    sorting.push(key.clone());
                    break;
                }
                self.sorted_one.wait(&mut sorting);
            }
        }
        let _sorting = Sorting {
            snapshot: self,
            key: key.clone(),
        };
        let ranks: Vec<(Vec<u32>, SortDir)> = sort
            .iter()
            .map(|k| (self.ranks(k.field, cover), k.dir))
            .collect();
        let mut order: Vec<u32> = (0..self.rows.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| {
            for (rank, dir) in &ranks {
                let (ra, rb) = (rank[a as usize], rank[b as usize]);
                let ord = match (ra == u32::MAX, rb == u32::MAX) {
                    // Missing values (no expiry date, …) go last in either direction.
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) if *dir == SortDir::Asc => ra.cmp(&rb),
                    (false, false) => rb.cmp(&ra),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            self.default_pos[a as usize].cmp(&self.default_pos[b as usize])
        });
        let runs = match ranks.as_slice() {
            [(rank, _)] => Some(Arc::new(Runs::of(&order, rank))),
            _ => None,
        };
        let order = Order::Made {
            rows: Arc::new(order),
            runs,
        };
        self.remember_sort(key, order.clone());
        order
    }

    /// The order a selection asks for, noting its first sort column as asked.
    fn sorted_as_asked(&self, sel: &Selection) -> Order {
        self.note_asked(sel);
        self.sorted(&sel.sort, sel.cover.as_deref())
    }

    /// Notes a selection's first sort column as asked.
    fn note_asked(&self, sel: &Selection) {
        if let Some(key) = sel.sort.first() {
            let mut asked = self.asked.lock();
            if !asked.contains(&key.field) {
                asked.push(key.field);
            }
        }
    }

    /// The order a selection asks for when it is made (or the other direction of one
    /// that is, which is a lookup too); `None` when it would be sorted.
    fn order_at_hand(&self, sel: &Selection) -> Option<Order> {
        if sel.sort.is_empty() {
            return Some(self.sorted(&[], None));
        }
        self.memoised(&memo_key(&sel.sort, sel.cover.as_deref()))
    }

    /// The memoised order of `key`, or the other direction of a memoised one-column
    /// order, read backwards run by run with nothing copied (remembered under its own key
    /// in the same turn of the lock): a lookup either way.
    fn memoised(&self, key: &SortMemoKey) -> Option<Order> {
        let mut sorts = self.sorts.lock();
        if let Some(known) = sorts.iter().find(|s| s.key == *key) {
            return Some(known.order.clone());
        }
        let [one] = key.0.as_slice() else {
            return None;
        };
        let other = (vec![one.flipped()], key.1);
        let order = sorts.iter().find(|s| s.key == other)?.order.other_way()?;
        remember(&mut sorts, key.clone(), order.clone());
        Some(order)
    }

    /// The single-column orders made so far (tests: which sorts were made ahead).
    #[cfg(test)]
    pub(crate) fn sorts_made(&self) -> Vec<SortKey> {
        self.sorts
            .lock()
            .iter()
            .filter_map(|s| match s.key.0.as_slice() {
                [one] => Some(*one),
                _ => None,
            })
            .collect()
    }

    /// The columns these rows were sorted by on request (not ahead), first asked first.
    pub fn asked_sorts(&self) -> Vec<SortField> {
        self.asked.lock().clone()
    }

    /// What the snapshot holds now: its rows and indexes ([`Snapshot::approx_bytes`]) and
    /// the orders, searches and filters it has memoised since (sorts made ahead
    /// included), so the cache's gauge follows what the process really holds.
    pub fn held_bytes(&self) -> usize {
        let list = |l: &RowList| l.capacity() * 4;
        let strings = |v: &[String]| v.iter().map(|s| s.capacity() + 24).sum::<usize>();
        // Both directions of a column share one list and one set of runs: each counted
        // once.
        let mut lists: Vec<&RowList> = Vec::new();
        let mut runs: Vec<&Arc<Runs>> = Vec::new();
        let memo = self.sorts.lock();
        for s in memo.iter() {
            let (rows, r) = s.order.parts();
            if !lists.iter().any(|l| Arc::ptr_eq(l, rows)) {
                lists.push(rows);
            }
            if let Some(r) = r.filter(|r| !runs.iter().any(|k| Arc::ptr_eq(k, r))) {
                runs.push(r);
            }
        }
        let sorts = lists.iter().map(|l| list(l)).sum::<usize>()
            + runs.iter().map(|r| r.bytes()).sum::<usize>();
        drop(memo);
        let searches: usize = self
            .searches
            .lock()
            .iter()
            .map(|(t, o)| t.capacity() + list(o))
            .sum();
        let views: usize = self
            .views
            .lock()
            .iter()
            .map(|(_, v)| {
                v.matched.as_ref().map_or(0, Vec::capacity)
                    + v.facets.as_ref().map_or(0, |f| {
                        strings(&f.parts) + strings(&f.bins) + strings(&f.statuses)
                    })
            })
            .sum();
        self.approx_bytes + sorts + searches + views
    }

    /// Works out, ahead of any request, the ascending orders of `fields` (after a read,
    /// for the columns people sort most), so a first click on one of their headers finds
    /// its order made. Days of cover is left out: its order depends on the day's forecasts.
    pub fn warm_sorts(&self, fields: &[SortField]) {
        for &field in fields {
            if field != SortField::DaysOfCover {
                self.sorted(
                    &[SortKey {
                        field,
                        dir: SortDir::Asc,
                    }],
                    None,
                );
            }
        }
    }

    fn remember_sort(&self, key: SortMemoKey, order: Order) {
        remember(&mut self.sorts.lock(), key, order);
    }

    /// Each row's rank in `field`'s natural order (text, number or date); `u32::MAX` = missing.
    fn ranks(&self, field: SortField, cover: Option<&Forecasts>) -> Vec<u32> {
        let rows = &self.rows;
        let text = |c: TextCol| text_ranks(rows, c, &self.text_rank);
        match field {
            SortField::Customer => text(TextCol::Customer),
            SortField::Part => text(TextCol::Part),
            SortField::CustomerPart => text(TextCol::CustomerPart),
            SortField::Description => text(TextCol::Description),
            SortField::Unit => text(TextCol::Unit),
            SortField::Bin => text(TextCol::Bin),
            SortField::Reference => text(TextCol::Reference),
            SortField::UserLot => text(TextCol::UserLot),
            SortField::Po => text(TextCol::Po),
            SortField::Status => text(TextCol::Status),
            SortField::OnHandQty => number_ranks(rows.quantities().iter().map(|&q| Some(q))),
            SortField::ExpDate | SortField::DaysToExpiry => date_ranks(rows.days(DateCol::Exp)),
            SortField::LastTransactionDate => date_ranks(rows.days(DateCol::LastTransaction)),
            SortField::LastRecDate => date_ranks(rows.days(DateCol::LastRec)),
            SortField::DaysOfCover => {
                let customers = rows.texts(TextCol::Customer);
                let parts = rows.texts(TextCol::Part);
                number_ranks(
                    customers
                        .zip(parts)
                        .map(|(c, p)| cover.and_then(|f| f.get(c, p)?.days_of_cover())),
                )
            }
        }
    }

    /// Per row: does it pass the search, the expiry window and the minimum filter (those
    /// given)? `None` = none given, all pass. These narrow every dropdown alike.
    fn search_mask(&self, filter: &Filter) -> Option<Vec<bool>> {
        let term = filter.search.as_deref().and_then(normalise_search);
        if term.is_none()
            && filter.expiry.is_none()
            && filter.below_minimum.is_none()
            && filter.runs_out.is_none()
        {
            return None;
        }
        let mut mask = match term {
            Some(term) => {
                let hits = self.search(&term);
                let mut mask = vec![false; self.rows.len()];
                for &i in hits.iter() {
                    mask[i as usize] = true;
                }
                mask
            }
            None => vec![true; self.rows.len()],
        };
        if let Some(e) = filter.expiry {
            let today = i64::from(e.today.to_julian_day());
            for (m, &d) in mask.iter_mut().zip(self.rows.days(DateCol::Exp)) {
                if *m {
                    *m = d != NO_DATE && e.window.contains(i64::from(d) - today);
                }
            }
        }
        if let Some(min) = &filter.below_minimum {
            for (i, m) in mask.iter_mut().enumerate() {
                if *m {
                    *m = self.row_below_minimum(i, min);
                }
            }
        }
        if let Some(r) = &filter.runs_out {
            let today = r.forecasts.today;
            for (i, m) in mask.iter_mut().enumerate() {
                if *m {
                    let row = self.rows.get(i);
                    *m = today.is_some_and(|today| {
                        r.forecasts
                            .get(row.customer, row.part)
                            .is_some_and(|f| f.runs_out_within(today, r.within_days))
                    });
                }
            }
        }
        Some(mask)
    }

    /// The filtered count, the cascading facets, and `first` rows from `offset` in order.
    pub fn select_page(
        &self,
        sel: &Selection,
        offset: usize,
        first: usize,
        want: Wanted,
    ) -> PageSelection {
        let selected = self.selected(&sel.filter, want.facets);
        let order = self.sorted_as_asked(sel);
        page_of(&selected, &order, offset, first, want)
    }

    /// [`Snapshot::select_page`] when it is a lookup: the view's rows and its order are
    /// memoised and the page lies near the start of its rows (a walk of at most
    /// [`WALK_AT_HAND`] positions). `None` when it would filter, sort or walk far; the
    /// caller then selects on a blocking thread. Most pages are this (a page load, a
    /// refresh, a second click), and a hop to another thread costs more than the page.
    pub fn select_page_at_hand(
        &self,
        sel: &Selection,
        offset: usize,
        first: usize,
        want: Wanted,
    ) -> Option<PageSelection> {
        let selected = self.known_view(&view_key(&sel.filter), want.facets)?;
        let walk = match &selected.matched {
            None => 0,
            // The rows the view selects are spread over the order: the page's last row
            // lies about `n / count` positions per selected row into it.
            Some(_) => {
                offset
                    .saturating_add(first + 1)
                    .saturating_mul(self.rows.len())
                    / selected.count.max(1)
            }
        };
        if walk > WALK_AT_HAND {
            return None;
        }
        let order = self.order_at_hand(sel)?;
        self.note_asked(sel);
        Some(page_of(&selected, &order, offset, first, want))
    }

    /// Every selected row, in order.
    pub fn select_all(&self, sel: &Selection) -> Vec<u32> {
        let selected = self.selected(&sel.filter, false);
        let order = self.sorted_as_asked(sel);
        order
            .iter_from(0)
            .filter(|&i| selected.matched.as_ref().is_none_or(|m| m[i as usize]))
            .collect()
    }

    /// The rows `filter` selects and, when wanted, its facets: from the memo when this
    /// filter was asked before (with facets, if they are wanted now).
    fn selected(&self, filter: &Filter, want_facets: bool) -> Arc<Selected> {
        let key = view_key(filter);
        if let Some(known) = self.known_view(&key, want_facets) {
            return known;
        }
        let (matched, facets) = self.matches(filter, want_facets);
        let count = matched
            .as_ref()
            .map_or(self.rows.len(), |m| m.iter().filter(|&&b| b).count());
        let selected = Arc::new(Selected {
            matched,
            count,
            facets: facets.map(Arc::new),
        });
        let mut views = self.views.lock();
        views.retain(|(k, _)| *k != key);
        views.push((key, selected.clone()));
        if views.len() > VIEW_CACHE {
            views.remove(0);
        }
        selected
    }

    /// The memoised view of `key` (a [`view_key`]), with facets if they are wanted; moved
    /// to the memo's most recent end.
    fn known_view(&self, key: &Filter, want_facets: bool) -> Option<Arc<Selected>> {
        let mut views = self.views.lock();
        let pos = views
            .iter()
            .position(|(k, v)| k == key && (!want_facets || v.facets.is_some()))?;
        let hit = views.remove(pos);
        let result = hit.1.clone();
        views.push(hit);
        Some(result)
    }

    /// Which rows pass every filter (`None` = all of them), and — when wanted — the
    /// cascading facets.
    fn matches(&self, filter: &Filter, want_facets: bool) -> (Option<Vec<bool>>, Option<Facets>) {
        let search = self.search_mask(filter);
        // A filter value that no row has matches nothing (never "everything").
        let want = |dict: &Dict, v: &Option<String>| {
            non_empty(v).map(|v| dict.id_of(v).unwrap_or(u32::MAX))
        };
        let (part, bin, status) = (
            want(&self.parts, &filter.part),
            want(&self.bins, &filter.bin),
            want(&self.statuses, &filter.status),
        );
        if search.is_none() && part.is_none() && bin.is_none() && status.is_none() {
            let facets = want_facets.then(|| {
                Facets::new(
                    self.parts.values.clone(),
                    self.bins.values.clone(),
                    self.statuses.values.clone(),
                )
            });
            return (None, facets);
        }
        let n = self.rows.len();
        if !want_facets {
            let matched = (0..n)
                .map(|i| {
                    search.as_ref().is_none_or(|m| m[i])
                        && part.is_none_or(|w| w == self.parts.ids[i])
                        && bin.is_none_or(|w| w == self.bins.ids[i])
                        && status.is_none_or(|w| w == self.statuses.ids[i])
                })
                .collect();
            return (Some(matched), None);
        }
        let mut seen_parts = vec![false; self.parts.values.len()];
        let mut seen_bins = vec![false; self.bins.values.len()];
        let mut seen_statuses = vec![false; self.statuses.values.len()];
        let mut matched = vec![false; n];
        for i in 0..n {
            if search.as_ref().is_some_and(|m| !m[i]) {
                continue;
            }
            let (p, b, s) = (self.parts.ids[i], self.bins.ids[i], self.statuses.ids[i]);
            let pm = part.is_none_or(|w| w == p);
            let bm = bin.is_none_or(|w| w == b);
            let sm = status.is_none_or(|w| w == s);
            if bm && sm {
                seen_parts[p as usize] = true;
            }
            if pm && sm {
                seen_bins[b as usize] = true;
            }
            if pm && bm {
                seen_statuses[s as usize] = true;
            }
            matched[i] = pm && bm && sm;
        }
        let pick = |dict: &Dict, seen: &[bool]| -> Vec<String> {
            dict.values
                .iter()
                .zip(seen)
                .filter(|(_, s)| **s)
                .map(|(v, _)| v.clone())
                .collect()
        };
        let facets = Facets::new(
            pick(&self.parts, &seen_parts),
            pick(&self.bins, &seen_bins),
            pick(&self.statuses, &seen_statuses),
        );
        (Some(matched), Some(facets))
    }
}

/// Keeps `order` under `key` in a snapshot's memo of sorts, the oldest dropped past
/// [`SORT_CACHE`].
fn remember(sorts: &mut Vec<Sorted>, key: SortMemoKey, order: Order) {
    if sorts.len() >= SORT_CACHE {
        sorts.remove(0);
    }
    sorts.push(Sorted { key, order });
}

/// How a sort's order is memoised. A sort by days of cover is another order on another
/// day's forecasts; any other sort is the same order whatever forecasts came with it (a
/// page that shows them, an export, a sort made ahead without them).
fn memo_key(sort: &[SortKey], cover: Option<&Forecasts>) -> SortMemoKey {
    let by_cover = sort.iter().any(|k| k.field == SortField::DaysOfCover);
    (
        sort.to_vec(),
        cover.filter(|_| by_cover).map_or(0, Forecasts::fingerprint),
    )
}

/// A filter as its view is memoised: the search as matched, empty choices as none.
fn view_key(filter: &Filter) -> Filter {
    Filter {
        search: filter.search.as_deref().and_then(normalise_search),
        part: non_empty(&filter.part).map(str::to_owned),
        bin: non_empty(&filter.bin).map(str::to_owned),
        status: non_empty(&filter.status).map(str::to_owned),
        expiry: filter.expiry,
        below_minimum: filter.below_minimum.clone(),
        runs_out: filter.runs_out.clone(),
    }
}

/// `first` rows from `offset` of `selected`'s rows in `order`, with what was wanted.
fn page_of(
    selected: &Selected,
    order: &Order,
    offset: usize,
    first: usize,
    want: Wanted,
) -> PageSelection {
    let mut page = Vec::with_capacity(first);
    let more = match &selected.matched {
        // Every row: the page is a slice of the order.
        None => {
            page.extend(order.iter_from(offset).take(first));
            offset.saturating_add(first) < order.len()
        }
        Some(_) if first == 0 => selected.count > offset,
        // Walk the order only until the page and the row after it are found; the count
        // comes from the memo.
        Some(m) => {
            let mut skipped = 0usize;
            let mut rows = order.iter_from(0).filter(|&i| m[i as usize]);
            for i in rows.by_ref() {
                if skipped < offset {
                    skipped += 1;
                    continue;
                }
                page.push(i);
                if page.len() == first {
                    break;
                }
            }
            page.len() == first && rows.next().is_some()
        }
    };
    PageSelection {
        count: want.count.then_some(selected.count),
        facets: if want.facets {
            selected.facets.clone()
        } else {
            None
        },
        rows: page,
        more,
    }
}

/// Each row's rank in a text column's order: the pool's rank of its text.
fn text_ranks(rows: &Rows, col: TextCol, rank: &[u32]) -> Vec<u32> {
    rows.text_ids(col)
        .iter()
        .map(|&id| rank[id as usize])
        .collect()
}

/// A memoised order: its sort and the rows in that order.
struct Sorted {
    key: SortMemoKey,
    order: Order,
}

/// Rows in the order a sort asks for: a list made by sorting, or a one-column list read
/// the other way round.
#[derive(Clone)]
enum Order {
    /// The rows in order, and the runs of equal values when the order is one column's.
    Made {
        rows: RowList,
        runs: Option<Arc<Runs>>,
    },
    /// `rows`, sorted by one column, read the other way round: its runs of equal values
    /// last to first, each run's rows as they are (ties keep the default order in either
    /// direction, as a fresh sort would tie them), the rows without a value last as they
    /// were. Nothing is copied or sorted, so the other direction of a column costs a
    /// lookup to make and nothing to keep (a million rows: a 4 MB list not written).
    Backwards { rows: RowList, runs: Arc<Runs> },
}

impl Order {
    fn len(&self) -> usize {
        self.parts().0.len()
    }

    /// The list it reads and the runs that list keeps.
    fn parts(&self) -> (&RowList, Option<&Arc<Runs>>) {
        match self {
            Order::Made { rows, runs } => (rows, runs.as_ref()),
            Order::Backwards { rows, runs } => (rows, Some(runs)),
        }
    }

    /// The same column's order the other way round, when this one is a column's.
    fn other_way(&self) -> Option<Order> {
        match self {
            Order::Made {
                rows,
                runs: Some(runs),
            } => Some(Order::Backwards {
                rows: rows.clone(),
                runs: runs.clone(),
            }),
            Order::Made { runs: None, .. } => None,
            Order::Backwards { rows, runs } => Some(Order::Made {
                rows: rows.clone(),
                runs: Some(runs.clone()),
            }),
        }
    }

    /// The rows from position `from` on.
    fn iter_from(&self, from: usize) -> OrderIter<'_> {
        match self {
            Order::Made { rows, .. } => OrderIter::Made(rows.get(from..).unwrap_or(&[]).iter()),
            Order::Backwards { rows, runs } => {
                OrderIter::Backwards(Backwards::at(rows, runs, from))
            }
        }
    }
}

enum OrderIter<'a> {
    Made(std::slice::Iter<'a, u32>),
    Backwards(Backwards<'a>),
}

impl Iterator for OrderIter<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            OrderIter::Made(it) => it.next().copied(),
            OrderIter::Backwards(it) => it.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            OrderIter::Made(it) => it.size_hint(),
            OrderIter::Backwards(it) => (it.left, Some(it.left)),
        }
    }
}

/// Reads a one-column order's runs last to first (see [`Order::Backwards`]): the rows of
/// the forward run `[start, end)` from `pos`, then the run before it, and after the first
/// run the rows without a value.
struct Backwards<'a> {
    rows: &'a [u32],
    starts: &'a [u64],
    valued: usize,
    start: usize,
    pos: usize,
    end: usize,
    /// Past the runs: reading the rows without a value.
    tail: bool,
    left: usize,
}

impl<'a> Backwards<'a> {
    /// Positioned at `from` of the backwards order. The forward run `[s, e)` lies at
    /// `[valued - e, valued - s)` read backwards, so position `q` is in the run that holds
    /// forward position `valued - 1 - q`, `q - (valued - e)` rows into it.
    fn at(rows: &'a [u32], runs: &'a Runs, from: usize) -> Backwards<'a> {
        let (len, valued) = (rows.len(), runs.valued);
        let left = len.saturating_sub(from);
        if from >= valued {
            let pos = from.min(len);
            return Backwards {
                rows,
                starts: &runs.starts,
                valued,
                start: 0,
                pos,
                end: len,
                tail: true,
                left,
            };
        }
        let p = valued - 1 - from;
        let start = prev_start(&runs.starts, p);
        let end = next_start(&runs.starts, p + 1).map_or(valued, |e| e.min(valued));
        Backwards {
            rows,
            starts: &runs.starts,
            valued,
            start,
            pos: start + (from - (valued - end)),
            end,
            tail: false,
            left,
        }
    }
}

impl Iterator for Backwards<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        if self.pos == self.end {
            if self.tail {
                return None;
            }
            if self.start == 0 {
                // Every run read: the rows without a value follow the valued ones.
                self.tail = true;
                self.pos = self.valued;
                self.end = self.rows.len();
                if self.pos == self.end {
                    return None;
                }
            } else {
                self.end = self.start;
                self.start = prev_start(self.starts, self.start - 1);
                self.pos = self.start;
            }
        }
        self.pos += 1;
        self.left -= 1;
        Some(self.rows[self.pos - 1])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// The runs of equal values in an order sorted by one column: a bit where each run starts,
/// and how many rows have a value (the rows without one are last, in either direction).
/// Made in one pass after the sort, they let the other direction be the runs read
/// backwards (see [`Order::Backwards`]), without looking at a row's value again.
struct Runs {
    starts: Vec<u64>,
    valued: usize,
}

impl Runs {
    /// The runs of `order`, sorted by `rank` (`u32::MAX`: no value).
    fn of(order: &[u32], rank: &[u32]) -> Runs {
        let mut starts = vec![0u64; order.len().div_ceil(64)];
        let mut valued = order.len();
        let mut previous = None;
        for (i, &row) in order.iter().enumerate() {
            let r = rank[row as usize];
            if r == u32::MAX {
                valued = i;
                break;
            }
            if previous != Some(r) {
                starts[i / 64] |= 1 << (i % 64);
                previous = Some(r);
            }
        }
        Runs { starts, valued }
    }

    fn bytes(&self) -> usize {
        self.starts.capacity() * 8
    }
}

/// The first set bit at or after `from`.
fn next_start(bits: &[u64], from: usize) -> Option<usize> {
    let mut w = from / 64;
    if w >= bits.len() {
        return None;
    }
    let mut word = bits[w] & (u64::MAX << (from % 64));
    loop {
        if word != 0 {
            return Some(w * 64 + word.trailing_zeros() as usize);
        }
        w += 1;
        word = *bits.get(w)?;
    }
}

/// The last set bit at or before `at` (position 0 starts the first run, so there is one
/// whenever a run does; 0 otherwise).
fn prev_start(bits: &[u64], at: usize) -> usize {
    let mut w = at / 64;
    let mut word = bits[w] & (u64::MAX >> (63 - at % 64));
    loop {
        if word != 0 {
            return w * 64 + 63 - word.leading_zeros() as usize;
        }
        if w == 0 {
            return 0;
        }
        w -= 1;
        word = bits[w];
    }
}

/// Each row's rank by a date column: days since the earliest (dates are dense, so no
/// sort is needed); `u32::MAX` where missing.
fn date_ranks(days: &[i32]) -> Vec<u32> {
    let first = days.iter().copied().filter(|&d| d != NO_DATE).min();
    days.iter()
        .map(|&d| match first {
            Some(first) if d != NO_DATE => (i64::from(d) - i64::from(first)) as u32,
            _ => u32::MAX,
        })
        .collect()
}

/// Each row's rank by a number (equal numbers, equal ranks); `u32::MAX` where missing.
/// One sort of (number, row) pairs.
fn number_ranks(values: impl Iterator<Item = Option<f64>>) -> Vec<u32> {
    // The bits of an f64 turned so that unsigned order is `total_cmp`'s order.
    let key = |v: f64| {
        let b = v.to_bits();
        if b >> 63 == 1 { !b } else { b | (1 << 63) }
    };
    let mut pairs: Vec<(u64, u32)> = Vec::new();
    let mut n = 0u32;
    for (i, v) in values.enumerate() {
        if let Some(v) = v {
            pairs.push((key(v), i as u32));
        }
        n = i as u32 + 1;
    }
    pairs.sort_unstable();
    let mut rank = vec![u32::MAX; n as usize];
    let (mut r, mut last) = (0u32, None);
    for (k, i) in pairs {
        if last.is_some_and(|l| l != k) {
            r += 1;
        }
        last = Some(k);
        rank[i as usize] = r;
    }
    rank
}

/// A re-read of a scope, compared with the rows read before as they arrive: while they
/// are the same, nothing is kept (one row at a time); from the first difference on, the
/// rows are collected for a new snapshot. A scope whose rows did not change since the last
/// read is not copied, indexed or held twice: the snapshot it had stays (its cursors,
/// sorts and searches with it) and only its "as of" moves on.
pub enum Reread {
    /// The rows so far equal the first `matched` rows of `previous`.
    Same {
        previous: Arc<Snapshot>,
        matched: usize,
    },
    /// The rows differ: every row read so far, compacted as they arrive.
    Changed(Box<Collected>),
}

/// The rows of a read that differ from the last, and their search text, written after
/// each batch (see [`SearchTextBuilder`]).
pub struct Collected {
    rows: RowsBuilder,
    search: SearchTextBuilder,
}

impl Collected {
    fn new(rows: RowsBuilder) -> Collected {
        Collected {
            rows,
            search: SearchTextBuilder::default(),
        }
    }

    fn finish(mut self) -> NewRows {
        self.search.extend(self.rows.so_far());
        NewRows {
            rows: self.rows.finish(),
            search: self.search.finish(),
        }
    }
}

/// A read's new rows with their search text, ready to be indexed.
pub struct NewRows {
    pub rows: Rows,
    search: (Vec<u8>, Vec<u32>),
}

impl NewRows {
    /// The snapshot of these rows (the orders and dropdowns made on both cores).
    pub fn index(self, multi_customer: bool) -> Snapshot {
        Snapshot::build(self.rows, self.search, multi_customer)
    }
}

impl Reread {
    /// `previous`: the rows read last time, if any.
    pub fn new(previous: Option<Arc<Snapshot>>) -> Reread {
        match previous {
            Some(previous) => Reread::Same {
                previous,
                matched: 0,
            },
            None => Reread::Changed(Box::new(Collected::new(RowsBuilder::with_capacity(0)))),
        }
    }

    /// The next rows read, in order. Call with each batch as it arrives: the search text of
    /// rows that differ is written after each.
    pub fn push_batch<'r>(&mut self, rows: impl IntoIterator<Item = RowRef<'r>>) {
        for row in rows {
            self.push(row);
        }
        if let Reread::Changed(c) = self {
            c.search.extend(c.rows.so_far());
        }
    }

    fn push(&mut self, new: RowRef<'_>) {
        match self {
            Reread::Same { previous, matched } => {
                if *matched < previous.rows.len() && previous.rows.get(*matched) == new {
                    *matched += 1;
                    return;
                }
                let mut rows =
                    RowsBuilder::with_prefix(&previous.rows, *matched, previous.rows.len() + 1);
                rows.push(new);
                *self = Reread::Changed(Box::new(Collected::new(rows)));
            }
            Reread::Changed(c) => c.rows.push(new),
        }
    }

    /// The snapshot read before when the rows are exactly its rows, otherwise the rows.
    pub fn finish(self) -> Result<Arc<Snapshot>, Box<NewRows>> {
        match self {
            Reread::Same { previous, matched } if matched == previous.rows.len() => Ok(previous),
            Reread::Same { previous, matched } => Err(Box::new(
                Collected::new(RowsBuilder::with_prefix(&previous.rows, matched, matched)).finish(),
            )),
            Reread::Changed(c) => Err(Box::new(c.finish())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{format_qty, format_us_date};

    /// The rows of a read, checking their search text is the one written at once.
    fn owned(read: Box<NewRows>) -> Vec<InventoryRow> {
        assert_eq!(read.search, SearchTextBuilder::of(&read.rows));
        read.rows.iter().map(|r| r.to_row()).collect()
    }

    fn row(part: &str, bin: &str, status: &str, description: &str) -> InventoryRow {
        InventoryRow {
            customer: "Acme".into(),
            part: part.into(),
            bin: bin.into(),
            status: status.into(),
            description: description.into(),
            ..Default::default()
        }
    }

    fn many(n: u32) -> Snapshot {
        let rows: Vec<InventoryRow> = (0..n)
            .map(|i| InventoryRow {
                on_hand_qty: f64::from((i * 7919) % 1000),
                ..row(&format!("P-{}", (i * 31) % 977), "A", "Available", "d")
            })
            .collect();
        Snapshot::from_rows(&rows, false)
    }

    fn asc(field: SortField) -> Vec<SortKey> {
        vec![SortKey {
            field,
            dir: SortDir::Asc,
        }]
    }

    /// The search text as it was first written: every field of every row formatted and
    /// lower-cased row by row.
    fn search_text_row_by_row(rows: &Rows) -> (Vec<u8>, Vec<u32>) {
        let mut haystack = Vec::new();
        let mut row_starts = Vec::new();
        for r in rows.iter() {
            row_starts.push(haystack.len() as u32);
            let date = |d: Option<time::Date>| d.map(format_us_date).unwrap_or_default();
            let fields = [
                r.customer,
                r.part,
                r.customer_part,
                r.description,
                &format_qty(r.on_hand_qty),
                &r.on_hand_qty.to_string(),
                r.unit,
                r.bin,
                r.user_lot,
                &date(r.exp_date),
                r.reference,
                r.po,
                r.status,
                &date(r.last_rec_date),
                &date(r.last_transaction_date),
            ];
            for f in fields {
                for c in f.chars().filter(|c| *c != '\n') {
                    for l in c.to_lowercase() {
                        let mut buf = [0u8; 4];
                        haystack.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
                    }
                }
                haystack.push(0x1f);
            }
            haystack.push(b'\n');
        }
        row_starts.push(haystack.len() as u32);
        (haystack, row_starts)
    }

    #[test]
    fn the_search_text_is_each_rows_text_lower_cased() {
        use time::macros::date;
        let rows: Vec<InventoryRow> = (0..40u32)
            .map(|i| InventoryRow {
                customer: ["Café Münster GmbH", "ACME", "İstanbul Ltd"][(i % 3) as usize].into(),
                part: format!("P-{}", i % 7),
                description: format!("Line one\nLINE TWO ΣΑΣ {i}"),
                on_hand_qty: f64::from(i) * 1234.5,
                unit: "KG".into(),
                bin: format!("B{}", i % 5),
                user_lot: format!("Lot{i}"),
                exp_date: (i % 2 == 0).then_some(date!(2027 - 01 - 02)),
                last_rec_date: Some(date!(2026 - 03 - 04)),
                status: "Available".into(),
                po: "N/A".into(),
                reference: String::new(),
                ..Default::default()
            })
            .collect();
        let rows = Rows::from_rows(&rows);
        assert_eq!(SearchTextBuilder::of(&rows), search_text_row_by_row(&rows));
    }

    #[test]
    fn the_text_order_made_on_two_cores_is_the_one_made_on_one() {
        // Enough distinct texts that the two halves are sorted apart and merged, with
        // case and accents that make the comparison more than bytes.
        let rows: Vec<InventoryRow> = (0..3_000u32)
            .map(|i| InventoryRow {
                customer: ["Café", "cafe", "CAFE", "Ärger"][(i % 4) as usize].into(),
                part: format!("P-{}", (i * 7919) % 2_003),
                user_lot: if i % 2 == 0 {
                    format!("lot{i}")
                } else {
                    format!("LOT{i}")
                },
                reference: format!("ref {}", i % 97),
                ..Default::default()
            })
            .collect();
        let rows = Rows::from_rows(&rows);
        assert!(rows.distinct_texts() > 4_096, "{}", rows.distinct_texts());
        let mut one_sort: Vec<u32> = (0..rows.distinct_texts() as u32).collect();
        one_sort.sort_by(|&a, &b| text_cmp(rows.text_of(a), rows.text_of(b)));
        let ranks = pool_ranks(&rows);
        let mut in_order: Vec<u32> = (0..rows.distinct_texts() as u32).collect();
        in_order.sort_by_key(|&id| ranks[id as usize]);
        assert_eq!(
            in_order, one_sort,
            "the merged halves are the one sort's order"
        );
        assert!(
            in_order
                .windows(2)
                .all(|w| text_cmp(rows.text_of(w[0]), rows.text_of(w[1])).is_lt())
        );
    }

    #[test]
    fn warmed_sorts_are_made_before_anyone_asks() {
        let snap = many(500);
        snap.warm_sorts(&[SortField::OnHandQty, SortField::DaysOfCover]);
        let made: Vec<SortMemoKey> = snap.sorts.lock().iter().map(|s| s.key.clone()).collect();
        assert_eq!(
            made,
            [(asc(SortField::OnHandQty), 0)],
            "days of cover needs forecasts"
        );
        let warmed = snap.sorts.lock()[0].order.clone();
        assert!(same(
            &snap.sorted(&asc(SortField::OnHandQty), None),
            &warmed
        ));
        // A page that shows forecasts sorts by quantity in the same order: it finds the
        // order made ahead; a sort by days of cover is made on those forecasts.
        let forecasts = Forecasts::new(
            [(
                "Acme".to_string(),
                "P-1".to_string(),
                crate::domain::forecast::Forecast::NotFalling {
                    daily_use: 1.0,
                    days: 30,
                },
            )],
            time::macros::date!(2026 - 12 - 04),
        );
        assert_ne!(forecasts.fingerprint(), 0);
        assert!(same(
            &snap.sorted(&asc(SortField::OnHandQty), Some(&forecasts)),
            &warmed
        ));
        snap.sorted(&asc(SortField::DaysOfCover), Some(&forecasts));
        assert!(
            snap.sorts
                .lock()
                .iter()
                .any(|s| s.key == (asc(SortField::DaysOfCover), forecasts.fingerprint()))
        );
    }

    /// The gauge counts what a snapshot memoises after it is built, sorts made ahead too.
    #[test]
    fn what_a_snapshot_memoises_is_counted_as_held() {
        let snap = many(2_000);
        assert_eq!(snap.held_bytes(), snap.approx_bytes);
        snap.warm_sorts(&[SortField::OnHandQty]);
        assert!(snap.held_bytes() >= snap.approx_bytes + 2_000 * 4);
    }

    #[test]
    fn one_sort_asked_for_at_once_is_made_once() {
        // Large enough that a sort takes a while: two threads asking together would each
        // make their own order (two allocations) if the second did not wait for the first.
        let snap = Arc::new(many(300_000));
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let orders: Vec<Order> = (0..4)
            .map(|_| {
                let (snap, barrier) = (snap.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    snap.sorted(&asc(SortField::Part), None)
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        assert!(orders.iter().all(|o| same(o, &orders[0])));
        assert!(
            snap.sorting.lock().is_empty(),
            "nothing left marked as sorting"
        );
    }

    #[test]
    fn the_other_direction_read_from_a_sorted_order_is_the_fresh_sort() {
        // More rows than a word of run bits holds, with long and short runs; 320 rows
        // fill their five words exactly.
        for n in [300u32, 320, 1, 65] {
            other_direction_of(n);
        }
    }

    fn other_direction_of(n: u32) {
        use time::macros::date;
        let rows: Vec<InventoryRow> = (0..n)
            .map(|i| InventoryRow {
                customer: ["Acme", "Beta"][(i % 2) as usize].into(),
                part: format!("P-{}", i % 7),
                description: ["b", "A", "a", "B", ""][(i % 5) as usize].into(),
                on_hand_qty: f64::from(i % 4),
                user_lot: format!("L{}", i % 9),
                // Every value once (runs of one row), and a few repeated among them.
                reference: format!("R{}", (i * 37) % 300 / if i % 50 == 0 { 2 } else { 1 }),
                exp_date: (i % 3 != 0)
                    .then(|| date!(2026 - 01 - 01) + time::Duration::days(i64::from(i % 5))),
                ..Default::default()
            })
            .collect();
        for field in SortField::ALL {
            if field == SortField::DaysOfCover {
                continue;
            }
            for first in [SortDir::Asc, SortDir::Desc] {
                let other = if first == SortDir::Asc {
                    SortDir::Desc
                } else {
                    SortDir::Asc
                };
                let warm = Snapshot::from_rows(&rows, true);
                let sorted = warm.sorted(&[SortKey { field, dir: first }], None);
                let derived = warm.sorted(&[SortKey { field, dir: other }], None);
                let fresh: Vec<u32> = Snapshot::from_rows(&rows, true)
                    .sorted(&[SortKey { field, dir: other }], None)
                    .iter_from(0)
                    .collect();
                assert!(
                    matches!(derived, Order::Backwards { .. }),
                    "{field:?} {other:?} read from {first:?}"
                );
                // Read from any position, it is the fresh sort from that position.
                for from in 0..=rows.len() + 1 {
                    let read: Vec<u32> = derived.iter_from(from).collect();
                    assert_eq!(
                        read,
                        fresh.get(from..).unwrap_or(&[]),
                        "{field:?} {other:?} after {first:?}, from {from}"
                    );
                    assert_eq!(derived.iter_from(from).size_hint().0, read.len());
                }
                // Turned back, it is the first order itself.
                let again = warm.sorted(&[SortKey { field, dir: first }], None);
                assert!(same(&again, &sorted), "{field:?} {first:?} again");
                assert!(same(&derived.other_way().unwrap(), &sorted));
            }
        }
    }

    /// Both directions of a column are one list: the other direction adds nothing held.
    #[test]
    fn the_other_direction_holds_no_second_list() {
        let snap = many(2_000);
        snap.sorted(&asc(SortField::Description), None);
        let one_way = snap.held_bytes();
        assert!(one_way >= snap.approx_bytes + 2_000 * 4);
        let desc = [SortKey {
            field: SortField::Description,
            dir: SortDir::Desc,
        }];
        let page = snap
            .sorted(&desc, None)
            .iter_from(0)
            .take(3)
            .collect::<Vec<_>>();
        assert_eq!(page.len(), 3);
        assert_eq!(snap.held_bytes(), one_way);
    }

    /// A page whose view and order are memoised is read where it is asked; one that
    /// would filter, sort or walk far is not.
    #[test]
    fn a_page_is_at_hand_only_when_nothing_is_worked_out() {
        let snap = many(100_000);
        let sel = |search: Option<&str>, sort: Vec<SortKey>| Selection {
            filter: Filter {
                search: search.map(str::to_owned),
                ..Filter::default()
            },
            sort,
            cover: None,
        };
        let desc = |field| {
            vec![SortKey {
                field,
                dir: SortDir::Desc,
            }]
        };
        let all = sel(None, asc(SortField::Part));
        assert!(
            snap.select_page_at_hand(&all, 0, 50, Wanted::EVERYTHING)
                .is_none()
        );
        let page = snap.select_page(&all, 0, 50, Wanted::EVERYTHING);
        let at_hand = snap
            .select_page_at_hand(&all, 0, 50, Wanted::EVERYTHING)
            .expect("view and order memoised");
        assert_eq!(
            (at_hand.rows, at_hand.count, at_hand.more, at_hand.facets),
            (page.rows, page.count, page.more, page.facets)
        );
        // The other direction is a lookup: at hand, and the fresh sort's page.
        let other = sel(None, desc(SortField::Part));
        let flipped = snap
            .select_page_at_hand(&other, 70, 50, Wanted::ROWS_ONLY)
            .expect("the other direction of a made order");
        let fresh = many(100_000).select_page(&other, 70, 50, Wanted::ROWS_ONLY);
        assert_eq!(flipped.rows, fresh.rows);
        // An order never made, or facets never worked out, is work.
        assert!(
            snap.select_page_at_hand(&sel(None, desc(SortField::Bin)), 0, 50, Wanted::ROWS_ONLY)
                .is_none()
        );
        let rare = sel(Some("p-57"), vec![]);
        snap.select_page(&rare, 0, 10, Wanted::ROWS_ONLY);
        assert!(
            snap.select_page_at_hand(&rare, 0, 10, Wanted::EVERYTHING)
                .is_none()
        );
        // A selective view's first page is near the start; a page far into it is not.
        let near = snap
            .select_page_at_hand(&rare, 0, 10, Wanted::ROWS_ONLY)
            .expect("a memoised view's first page");
        assert_eq!(
            near.rows,
            snap.select_page(&rare, 0, 10, Wanted::ROWS_ONLY).rows
        );
        let count = snap
            .select_page(&rare, 0, 0, Wanted::EVERYTHING)
            .count
            .unwrap();
        assert!(count < 2_000, "{count} rows: a selective search");
        assert!(
            snap.select_page_at_hand(&rare, count - 10, 10, Wanted::ROWS_ONLY)
                .is_none()
        );
        assert_eq!(snap.asked_sorts(), [SortField::Part]);
    }

    /// The same memoised order (one list, read the same way).
    fn same(a: &Order, b: &Order) -> bool {
        let ((ra, _), (rb, _)) = (a.parts(), b.parts());
        Arc::ptr_eq(ra, rb) && matches!(a, Order::Made { .. }) == matches!(b, Order::Made { .. })
    }

    #[test]
    fn a_re_read_keeps_nothing_while_the_rows_are_the_same() {
        let row = |p: &str, q: f64| InventoryRow {
            customer: "Acme".into(),
            part: p.into(),
            on_hand_qty: q,
            ..Default::default()
        };
        let before = Arc::new(Snapshot::from_rows(
            &[row("A", 1.0), row("B", 2.0), row("C", 3.0)],
            false,
        ));
        let read = |rows: Vec<InventoryRow>, previous: Option<Arc<Snapshot>>| {
            let mut r = Reread::new(previous);
            // Two batches, so rows that differ are written into the search text twice.
            let (first, second) = rows.split_at(rows.len() / 2);
            r.push_batch(first.iter().map(RowRef::of));
            r.push_batch(second.iter().map(RowRef::of));
            r.finish()
        };
        // The same rows: the same snapshot.
        let same = read(
            vec![row("A", 1.0), row("B", 2.0), row("C", 3.0)],
            Some(before.clone()),
        );
        assert!(matches!(&same, Ok(s) if Arc::ptr_eq(s, &before)));
        // A difference anywhere, fewer rows or more: the rows as read.
        for rows in [
            vec![row("A", 1.0), row("B", 2.5), row("C", 3.0)],
            vec![row("A", 1.0), row("B", 2.0)],
            vec![row("A", 1.0), row("B", 2.0), row("C", 3.0), row("D", 4.0)],
            vec![row("Z", 1.0), row("B", 2.0), row("C", 3.0)],
            vec![],
        ] {
            assert_eq!(
                read(rows.clone(), Some(before.clone())).err().map(owned),
                Some(rows)
            );
        }
        // Nothing read before: the rows.
        assert_eq!(
            read(vec![row("A", 1.0)], None).err().map(owned),
            Some(vec![row("A", 1.0)])
        );
    }
    #[test]
    fn parts_are_totalled_across_lots_and_compared_with_their_minimums() {
        let mut a = row("P-1", "A-01", "Available", "first lot");
        a.on_hand_qty = 4.0;
        let mut b = row("P-1", "B-02", "Available", "second lot");
        b.on_hand_qty = 6.0;
        let mut c = row("P-2", "A-01", "Available", "other");
        c.on_hand_qty = 1.0;
        let snap = Snapshot::from_rows(&[a, b, c], false);
        assert_eq!(snap.part_total("Acme", "P-1"), 10.0);
        assert_eq!(snap.part_total("Acme", "P-9"), 0.0, "not in stock");
        assert_eq!(snap.part_description("Acme", "P-1"), Some("first lot"));
        let m = |p1: f64| {
            Minimums::new([
                ("Acme".to_owned(), "P-1".to_owned(), p1),
                ("Acme".to_owned(), "P-2".to_owned(), 0.5),
            ])
        };
        assert!(!snap.row_below_minimum(0, &m(10.0)), "equal is not below");
        assert!(snap.row_below_minimum(1, &m(10.5)), "every lot of the part");
        assert!(!snap.row_below_minimum(2, &m(10.5)));
        // The view memo and cursors key on the set: same entries are the same set.
        let reversed = Minimums::new([
            ("Acme".to_owned(), "P-2".to_owned(), 0.5),
            ("Acme".to_owned(), "P-1".to_owned(), 10.0),
        ]);
        assert_eq!(reversed, m(10.0));
        assert_ne!(m(10.0), m(11.0));
        let filter = Filter {
            below_minimum: Some(Arc::new(m(10.5))),
            ..Filter::default()
        };
        let sel = Selection {
            cover: None,
            filter,
            sort: Vec::new(),
        };
        assert_eq!(snap.select_all(&sel).len(), 2, "both lots of P-1");
    }

    #[test]
    fn a_filter_asked_again_reuses_its_rows_and_facets() {
        let snap = Snapshot::from_rows(
            &[
                row("AC-1", "A-01", "Available", "gift box"),
                row("AC-2", "B-02", "Quarantined", "gift bag"),
                row("AC-3", "A-01", "Available", "soap"),
            ],
            false,
        );
        let sel = |search: &str, status: &str| Selection {
            cover: None,
            filter: Filter {
                search: Some(search.into()),
                status: Some(status.into()),
                ..Filter::default()
            },
            sort: Vec::new(),
        };
        let first = snap.select_page(&sel("Gift", "Available"), 0, 10, Wanted::EVERYTHING);
        assert_eq!(first.rows, [0]);
        assert_eq!(first.count, Some(1));
        let facets = first.facets.clone().unwrap();
        assert_eq!(facets.parts, ["AC-1"]);
        assert_eq!(facets.statuses, ["Available", "Quarantined"]);
        // The same filter (the search spelled differently) comes from the memo: the very
        // same facets, fingerprint computed once.
        let again = snap.select_page(&sel(" gift ", "Available"), 0, 10, Wanted::EVERYTHING);
        assert!(Arc::ptr_eq(&facets, again.facets.as_ref().unwrap()));
        assert_eq!(again.rows, first.rows);
        assert_eq!(facets.fingerprint(), again.facets.unwrap().fingerprint());
        // Without facets wanted, none are returned, and the rows still agree.
        let rows_only = snap.select_page(&sel("gift", "Available"), 0, 10, Wanted::ROWS_ONLY);
        assert!(rows_only.facets.is_none());
        assert_eq!(rows_only.rows, [0]);
        // Another filter is computed afresh.
        let other = snap.select_page(&sel("gift", "Quarantined"), 0, 10, Wanted::EVERYTHING);
        assert_eq!(other.rows, [1]);
        assert_eq!(other.facets.unwrap().parts, ["AC-2"]);
        // Paging a filtered view: the count comes from the memo, `more` from the walk.
        let gifts =
            |offset, first| snap.select_page(&sel("gift", ""), offset, first, Wanted::EVERYTHING);
        let p1 = gifts(0, 1);
        assert_eq!(
            (p1.rows.clone(), p1.count, p1.more),
            (vec![0], Some(2), true)
        );
        let p2 = gifts(1, 1);
        assert_eq!(
            (p2.rows.clone(), p2.count, p2.more),
            (vec![1], Some(2), false)
        );
        let past = gifts(2, 1);
        assert_eq!(
            (past.rows.clone(), past.count, past.more),
            (vec![], Some(2), false)
        );
        // Every row: a slice of the order.
        let all = snap.select_page(&Selection::default(), 1, 1, Wanted::EVERYTHING);
        assert_eq!(
            (all.rows.clone(), all.count, all.more),
            (vec![1], Some(3), true)
        );
        let last = snap.select_page(&Selection::default(), 2, 5, Wanted::EVERYTHING);
        assert_eq!(
            (last.rows.clone(), last.count, last.more),
            (vec![2], Some(3), false)
        );
        // The memo is bounded.
        for i in 0..(VIEW_CACHE + 5) {
            snap.select_page(&sel(&format!("x{i}"), ""), 0, 1, Wanted::EVERYTHING);
        }
        assert_eq!(snap.views.lock().len(), VIEW_CACHE);
    }
}
