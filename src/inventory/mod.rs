//! The inventory service: the one place that scopes, caches, filters, sorts, pages and
//! facets inventory rows. The GraphQL `inventory` resolver and the XLSX/CSV exports both
//! call it, so an export holds exactly the rows the grid shows, in the same order.
//!
//! Rows are read only for an [`InventoryGrant`], which only the access rule in
//! `graphql::guards` can make: the scope comes from the grant, never from a caller.

mod by_part;
pub mod columns;
mod cursor;
mod forecasts;
pub mod rows;
mod search_text;
mod snapshot;
pub mod view;

pub use view::View;

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use crate::auth::access::{AdminGrant, Holder, InventoryGrant};
use crate::domain::ErpScope;
use crate::erp::{ErpError, ErpSource, RowSink};
use rows::RowBatch;
use snapshot::Reread;

pub use cursor::{BUSY_RETRY as PULL_RETRY, CursorError};
pub use forecasts::Forecasts;
pub use snapshot::{
    ExpiryCounts, ExpiryFilter, ExpiryWindow, Facets, Filter, Minimums, PageSelection, RunsOut,
    Selection, Snapshot, SortDir, SortField, SortKey, Wanted, days_to_expiry,
};

/// The inventory cache's default cap, megabytes (`INVENTORY_CACHE_MAX_MB`).
pub const DEFAULT_CACHE_MAX_MB: usize = 1024;

/// Rows per page when a caller does not say.
pub const DEFAULT_PAGE: usize = 100;
/// The most rows one page may hold: browsers and admins ask for at most `MAX_PAGE`, tools
/// with an API token (`tool`) for at most `MAX_TOOL_PAGE`. The one page-size rule: the
/// resolver clamps to it and the cost rule charges by it.
pub const fn max_page(tool: bool) -> usize {
    if tool { MAX_TOOL_PAGE } else { MAX_PAGE }
}
const MAX_PAGE: usize = 500;
const MAX_TOOL_PAGE: usize = 5_000;
/// A refresh request re-reads the ERP only if the cached rows are at least this old,
/// so a refresh button cannot be used to hammer the ERP.
const MIN_REFRESH_AGE: Duration = Duration::from_secs(5);

struct Entry {
    cell: Arc<OnceCell<Arc<Snapshot>>>,
    created: Instant,
    last_used: Instant,
    /// The last rows read for this scope, shown (marked stale) while the ERP is down.
    previous: Option<Arc<Snapshot>>,
}

/// Consecutive ERP failures before the circuit opens.
const BREAKER_THRESHOLD: u32 = 3;
/// While open, one request per this interval tries the ERP; the rest answer at once.
const BREAKER_PROBE_EVERY: Duration = Duration::from_secs(10);

/// A circuit breaker around ERP reads: after a few failures in a row the ERP is left
/// alone (requests answer at once, from the last rows read where there are any) and one
/// probe per interval tries it again. One WARN when it opens, one when it closes.
#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    /// Requests answered without asking the ERP while open.
    skipped: u64,
}

pub struct InventoryService {
    erp: Arc<dyn ErpSource>,
    ttl: Duration,
    /// `ERP_DB_TIMEOUT`: small questions (names, the readiness probe).
    timeout: Duration,
    /// `ERP_READ_TIMEOUT`: a whole inventory read.
    read_timeout: Duration,
    /// `INVENTORY_CACHE_MAX_MB` in bytes: cached snapshots beyond it are dropped, least
    /// recently used scope first.
    max_cache_bytes: usize,
    cache: Mutex<HashMap<ErpScope, Entry>>,
    cursors: cursor::Cursors,
    breaker: Mutex<Breaker>,
    reads: std::sync::atomic::AtomicU64,
    read_failures: std::sync::atomic::AtomicU64,
    /// Fault injection: the next read panics while it holds the cache's lock.
    panic_next: std::sync::atomic::AtomicBool,
    /// The last inventory read from the ERP failed.
    last_failed: std::sync::atomic::AtomicBool,
    /// How often each column was asked to sort by (`SortField::ALL`'s order): after a read
    /// the most asked are sorted in the background (see [`SortUse`]).
    sort_use: SortUse,
}

/// Rows a batch carries from the ERP's reading thread to the compacting one, and batches
/// that may wait between them.
const BATCH_ROWS: usize = 4_096;
const BATCHES_AHEAD: usize = 4;

/// Fills batches of rows and sends each full one; the last, partial one when dropped (the
/// read is over), which also shuts the channel.
struct Batcher {
    batch: RowBatch,
    tx: std::sync::mpsc::SyncSender<RowBatch>,
}

impl Batcher {
    fn push(&mut self, row: crate::erp::RowRef<'_>) {
        self.batch.push(row);
        if self.batch.len() >= BATCH_ROWS {
            // A closed channel means the compacting side is gone (it panicked): the
            // read's result is then an error anyway.
            let _ = self.tx.send(std::mem::take(&mut self.batch));
        }
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        if !self.batch.is_empty() {
            let _ = self.tx.send(std::mem::take(&mut self.batch));
        }
    }
}

/// Columns sorted ahead after a read, at most.
const WARM_SORTS: usize = 3;

/// How often each column has been sorted by since the process started.
#[derive(Default)]
struct SortUse([std::sync::atomic::AtomicU64; SortField::ALL.len()]);

impl SortUse {
    fn count(&self, field: SortField) {
        if let Some(i) = SortField::ALL.iter().position(|f| *f == field) {
            self.0[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The columns sorted by most, most first; before anyone has sorted, the ones a
    /// stock list is most often sorted by (expiry, quantity, description).
    fn most(&self, n: usize) -> Vec<SortField> {
        let mut used: Vec<(u64, SortField)> = SortField::ALL
            .iter()
            .zip(&self.0)
            .map(|(f, c)| (c.load(std::sync::atomic::Ordering::Relaxed), *f))
            .filter(|(c, _)| *c > 0)
            .collect();
        if used.is_empty() {
            return [
                SortField::ExpDate,
                SortField::OnHandQty,
                SortField::Description,
            ]
            .into_iter()
            .take(n)
            .collect();
        }
        used.sort_by_key(|u| std::cmp::Reverse(u.0));
        used.into_iter().take(n).map(|(_, f)| f).collect()
    }
}

/// What the inventory cache holds, for health and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheUsage {
    pub scopes: usize,
    pub rows: usize,
    /// Approximate.
    pub bytes: usize,
}

/// ERP read counts, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct ErpCounters {
    pub reads: u64,
    pub failures: u64,
}

impl std::fmt::Debug for InventoryService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InventoryService")
            .field("erp", &self.erp.name())
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// `call`, given up after `limit`.
async fn within<T>(
    limit: Duration,
    call: impl std::future::Future<Output = Result<T, ErpError>>,
) -> Result<T, ErpError> {
    tokio::time::timeout(limit, call)
        .await
        .map_err(|_| ErpError::Unavailable(format!("no answer within {limit:?}")))?
}

/// One page of a view.
#[derive(Debug, Clone)]
pub struct InventoryPage {
    pub snapshot: Arc<Snapshot>,
    /// `None` unless counting was wanted.
    pub filtered_count: Option<usize>,
    /// `None` unless facets were wanted; shared with the snapshot's memo.
    pub facets: Option<Arc<Facets>>,
    /// Row indices into `snapshot.rows`, in view order.
    pub rows: Vec<u32>,
    /// Where the next page starts, bound to this snapshot and view; `None` at the end.
    pub next_cursor: Option<String>,
    /// The ERP did not answer: these are the last rows read (`snapshot.as_of`).
    pub stale: bool,
}

/// Why a page could not be read.
#[derive(Debug)]
pub enum PageError {
    Erp(ErpError),
    Cursor(CursorError),
}

impl From<ErpError> for PageError {
    fn from(e: ErpError) -> Self {
        PageError::Erp(e)
    }
}

impl InventoryService {
    /// `ttl` = `ERP_CACHE_SECONDS` (zero: every request reads the ERP, though requests
    /// arriving while a read is under way still share it); `timeout` bounds the ERP's small
    /// questions, and `read_timeout` a whole inventory read.
    pub fn new(
        erp: Arc<dyn ErpSource>,
        ttl: Duration,
        timeout: Duration,
        read_timeout: Duration,
    ) -> Self {
        InventoryService {
            erp,
            ttl,
            timeout,
            read_timeout,
            max_cache_bytes: DEFAULT_CACHE_MAX_MB * 1024 * 1024,
            cache: Mutex::new(HashMap::new()),
            cursors: cursor::Cursors::default(),
            breaker: Mutex::new(Breaker::default()),
            reads: Default::default(),
            read_failures: Default::default(),
            panic_next: Default::default(),
            last_failed: Default::default(),
            sort_use: SortUse::default(),
        }
    }

    /// Whether the last inventory read from the ERP failed (for liveness reports).
    pub fn last_read_failed(&self) -> bool {
        self.last_failed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Fault injection for tests: the next read of the cache panics while it holds the
    /// cache's lock (a panic must cost one request, never the cache).
    #[doc(hidden)]
    pub fn inject_panic(&self) {
        self.panic_next
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn erp_counters(&self) -> ErpCounters {
        use std::sync::atomic::Ordering::Relaxed;
        ErpCounters {
            reads: self.reads.load(Relaxed),
            failures: self.read_failures.load(Relaxed),
        }
    }

    /// Whether the ERP may be asked now: always while closed; while open, once per
    /// interval (that request is the probe).
    fn breaker_allows(&self) -> bool {
        let mut b = self.breaker.lock();
        match b.open_until {
            None => true,
            Some(until) if Instant::now() >= until => {
                b.open_until = Some(Instant::now() + BREAKER_PROBE_EVERY);
                true
            }
            Some(_) => {
                b.skipped += 1;
                false
            }
        }
    }

    fn breaker_result(&self, ok: bool) {
        let mut b = self.breaker.lock();
        if ok {
            if b.open_until.is_some() {
                tracing::warn!(
                    erp = self.erp.name(),
                    skipped = b.skipped,
                    "the ERP answers again: circuit closed"
                );
            }
            *b = Breaker::default();
            return;
        }
        b.failures += 1;
        if b.failures >= BREAKER_THRESHOLD && b.open_until.is_none() {
            tracing::warn!(
                erp = self.erp.name(),
                failures = b.failures,
                probe_every = ?BREAKER_PROBE_EVERY,
                "the ERP does not answer: circuit open (cached rows are shown, marked stale)"
            );
            b.open_until = Some(Instant::now() + BREAKER_PROBE_EVERY);
        }
    }

    /// Whether the circuit around the ERP is open (for health and the page).
    pub fn erp_circuit_open(&self) -> bool {
        self.breaker.lock().open_until.is_some()
    }

    /// Caps the cache at `mb` megabytes (`INVENTORY_CACHE_MAX_MB`), and the snapshots
    /// pinned for paging cursors at as much again.
    pub fn with_cache_limit_mb(mut self, mb: usize) -> Self {
        self.max_cache_bytes = mb.max(1) * 1024 * 1024;
        self.cursors = cursor::Cursors::new(self.max_cache_bytes);
        self
    }

    /// The snapshot the cache holds now by this id, if any (a cursor into it needs no pin).
    fn cached(&self, id: u64) -> Option<Arc<Snapshot>> {
        self.cache
            .lock()
            .values()
            .filter_map(|e| e.cell.get())
            .find(|s| s.id == id)
            .cloned()
    }

    /// Snapshots pinned for paging cursors, and their memory (for `/metrics`).
    pub fn pinned(&self) -> (usize, usize) {
        self.cursors.usage()
    }

    /// (scopes cached, their approximate bytes), for health and metrics.
    pub fn cache_usage(&self) -> CacheUsage {
        let cache = self.cache.lock();
        let mut usage = CacheUsage {
            scopes: cache.len(),
            ..CacheUsage::default()
        };
        for snap in cache.values().filter_map(|e| e.cell.get()) {
            usage.rows += snap.total_count();
            usage.bytes += snap.held_bytes();
        }
        usage
    }

    /// Drops least recently used scopes until the cache fits its cap; `keep` stays.
    fn enforce_cap(&self, keep: &ErpScope) {
        let mut cache = self.cache.lock();
        let mut total: usize = cache
            .values()
            .filter_map(|e| e.cell.get())
            .map(|s| s.approx_bytes)
            .sum();
        while total > self.max_cache_bytes {
            let victim = cache
                .iter()
                .filter(|(scope, e)| *scope != keep && e.cell.get().is_some())
                .min_by_key(|(_, e)| e.last_used)
                .map(|(scope, _)| scope.clone());
            match victim {
                Some(scope) => {
                    if let Some(gone) = cache.remove(&scope).and_then(|e| e.cell.get().cloned()) {
                        total -= gone.approx_bytes;
                    }
                    tracing::info!(scope = ?scope, total, cap = self.max_cache_bytes, "inventory cache over its cap: least recently used scope dropped");
                }
                None => return,
            }
        }
    }

    /// The ERP's name (`demo`, `deacom-mssql`), for logs and health.
    pub fn erp_name(&self) -> &'static str {
        self.erp.name()
    }

    /// `call` to the ERP, bounded by `ERP_DB_TIMEOUT`.
    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, ErpError>>,
    ) -> Result<T, ErpError> {
        within(self.timeout, call).await
    }

    /// Whether the ERP answers a read of the inventory's own tables (one row), within
    /// `ERP_DB_TIMEOUT`: the readiness probe. It asks the ERP even while the circuit is
    /// open (that is the point), but is never counted as an inventory read.
    pub async fn probe_erp(&self) -> Result<(), ErpError> {
        self.bounded(self.erp.ping()).await
    }

    /// Every ERP customer name (admins assign them to accounts).
    pub async fn customer_names(&self, _admin: &AdminGrant<'_>) -> Result<Vec<String>, ErpError> {
        self.bounded(self.erp.customer_names()).await
    }

    /// The rows of a scope: from the cache while fresh, otherwise one ERP query shared by
    /// every request that arrives while it runs (single flight). When the ERP fails (or
    /// its circuit is open) the last rows read are returned with `true` (stale).
    async fn snapshot(
        &self,
        scope: &ErpScope,
        refresh: bool,
    ) -> Result<(Arc<Snapshot>, bool), ErpError> {
        let (cell, previous) = {
            let mut cache = self.cache.lock();
            if self
                .panic_next
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                panic!("fault injection: a panic inside an inventory request");
            }
            // Forget stale entries of every scope, so the map cannot grow without bound.
            let ttl = self.ttl;
            cache.retain(|_, e| {
                e.cell.get().is_none() || e.created.elapsed() < ttl.max(Duration::from_secs(1)) * 4
            });
            let stale = match cache.get(scope) {
                None => true,
                Some(e) => match e.cell.get() {
                    None => false, // a read is under way: join it
                    Some(_) => {
                        let age = e.created.elapsed();
                        age >= self.ttl || (refresh && age >= MIN_REFRESH_AGE)
                    }
                },
            };
            if stale {
                let previous = cache
                    .get(scope)
                    .and_then(|e| e.cell.get().cloned().or_else(|| e.previous.clone()));
                cache.insert(
                    scope.clone(),
                    Entry {
                        cell: Arc::new(OnceCell::new()),
                        created: Instant::now(),
                        last_used: Instant::now(),
                        previous,
                    },
                );
            }
            let entry = cache.get_mut(scope).expect("just ensured");
            entry.last_used = Instant::now();
            (entry.cell.clone(), entry.previous.clone())
        };
        let snapshot = cell
            .get_or_try_init(|| async {
                if !self.breaker_allows() {
                    return Err(ErpError::Unavailable("the ERP circuit is open".into()));
                }
                let started = Instant::now();
                // Compared with the rows read last time as they arrive: unchanged rows
                // are neither kept nor indexed again (see `Reread`).
                // The rows go over in batches to a second blocking thread, which compacts
                // them while the ERP's answer is still being decoded (at most BATCHES_AHEAD
                // batches wait; the reading thread waits for room).
                let (tx, rx) = std::sync::mpsc::sync_channel::<RowBatch>(BATCHES_AHEAD);
                let compacting = tokio::task::spawn_blocking({
                    let previous = previous.clone();
                    move || {
                        let mut reread = Reread::new(previous);
                        let mut busy = Duration::ZERO;
                        for batch in rx {
                            let t = Instant::now();
                            reread.push_batch(batch.rows());
                            busy += t.elapsed();
                        }
                        // Time spent compacting, not waiting for rows: how much of
                        // this core the read left idle.
                        tracing::debug!(busy_ms = busy.as_millis() as u64, "rows compacted");
                        reread
                    }
                });
                let sink: RowSink = {
                    let mut batcher = Batcher {
                        batch: RowBatch::default(),
                        tx,
                    };
                    Box::new(move |row| batcher.push(row))
                };
                let read =
                    within(self.read_timeout, self.erp.inventory_rows_each(scope, sink)).await;
                self.breaker_result(read.is_ok());
                self.reads
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if read.is_err() {
                    self.read_failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                self.last_failed
                    .store(read.is_err(), std::sync::atomic::Ordering::Relaxed);
                read?;
                let read_ms = started.elapsed().as_millis() as u64;
                // The sink went with the read: its last batch is sent and the channel shut.
                let done = compacting
                    .await
                    .map_err(|e| ErpError::Query(format!("compacting failed: {e}")))?;
                let rows = match done.finish() {
                    Ok(same) => {
                        same.read_again(time::OffsetDateTime::now_utc());
                        tracing::info!(
                            erp = self.erp.name(),
                            scope = ?scope,
                            rows = same.rows.len(),
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "inventory read from ERP: unchanged, snapshot kept"
                        );
                        return Ok(same);
                    }
                    Err(rows) => rows,
                };
                let compacted_ms = started.elapsed().as_millis() as u64;
                let snap = tokio::task::spawn_blocking({
                    let multi = scope.is_multi();
                    move || rows.index(multi)
                })
                .await
                .map_err(|e| ErpError::Query(format!("indexing failed: {e}")))?;
                tracing::info!(
                    erp = self.erp.name(),
                    scope = ?scope,
                    rows = snap.rows.len(),
                    read_ms,
                    compacted_ms,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "inventory read from ERP"
                );
                let snap = Arc::new(snap);
                // The columns people sort by, sorted now on a blocking thread so that a
                // first click on their headers finds the order made: those asked of this
                // scope's rows before (none asked, none made: a scope re-read every few
                // seconds pays only for what its users sort), or for a scope's first
                // rows the ones sorted most anywhere. One task per new snapshot (reads
                // are bounded by the cache); a request for an order being made waits for
                // it rather than making it again.
                let fields = match &previous {
                    Some(p) => p.asked_sorts().into_iter().take(WARM_SORTS).collect(),
                    None => self.sort_use.most(WARM_SORTS),
                };
                let warm = snap.clone();
                tokio::task::spawn_blocking(move || warm.warm_sorts(&fields));
                Ok::<_, ErpError>(snap)
            })
            .await;
        match snapshot {
            Ok(s) => {
                // The rows read before these were kept only in case this read failed: let
                // them go now, or every scope would hold two snapshots (and the cache's
                // gauge, which counts one, would understate what the process holds).
                if let Some(e) = self.cache.lock().get_mut(scope)
                    && Arc::ptr_eq(&e.cell, &cell)
                {
                    e.previous = None;
                }
                self.enforce_cap(scope);
                Ok((s.clone(), false))
            }
            Err(e) => {
                // While the circuit is open this is every request: not worth a line each.
                if self.erp_circuit_open() {
                    tracing::debug!(error = %e, scope = ?scope, "inventory read skipped or failed");
                } else {
                    tracing::warn!(error = %e, scope = ?scope, "inventory read failed");
                }
                match previous {
                    Some(p) => Ok((p, true)),
                    None => Err(e),
                }
            }
        }
    }

    /// A page of the view `selection` selects within the grant's scope: from the start
    /// (the current rows; `refresh` may re-read them), or from `after`, a cursor of an
    /// earlier page, which reads the very snapshot that page came from. Facets and the
    /// filtered count only when `want` asks for them (scrolling and API pulls need neither).
    pub async fn page(
        &self,
        grant: &InventoryGrant,
        selection: &Selection,
        after: Option<&str>,
        first: usize,
        refresh: bool,
        want: Wanted,
    ) -> Result<InventoryPage, PageError> {
        if let Some(key) = selection.sort.first()
            && after.is_none()
        {
            self.sort_use.count(key.field);
        }
        let view = cursor::view_hash(grant.scope(), selection);
        let mut stale_first = false;
        let (snapshot, offset) = match after.filter(|c| !c.is_empty()) {
            Some(c) => match self
                .cursors
                .resolve(c, view, grant.holder(), |id| self.cached(id))
            {
                Ok(at) => (at.snapshot, at.offset),
                // A browser's grid goes on in the newest rows at the same place (browsers
                // pin nothing; see `cursor`).
                Err(CursorError::Expired { read })
                    if matches!(grant.holder(), Holder::Browser(_)) =>
                {
                    let (snap, stale) = self.snapshot(grant.scope(), false).await?;
                    stale_first = stale;
                    (snap, read)
                }
                Err(e) => return Err(PageError::Cursor(e)),
            },
            None => {
                let (snap, stale) = self.snapshot(grant.scope(), refresh).await?;
                stale_first = stale;
                (snap, 0)
            }
        };
        let first = first.clamp(1, MAX_TOOL_PAGE);
        let page = match snapshot.select_page_at_hand(selection, offset, first, want) {
            Some(page) => page,
            // Filtering or sorting 200,000 rows is CPU work: keep it off the async workers.
            None => {
                let snap = snapshot.clone();
                let selection = selection.clone();
                tokio::task::spawn_blocking(move || {
                    snap.select_page(&selection, offset, first, want)
                })
                .await
                .map_err(|e| ErpError::Query(format!("filtering failed: {e}")))?
            }
        };
        let next = offset + page.rows.len();
        let next_cursor = match page.more {
            true => Some(
                self.cursors
                    .issue(&snapshot, next, view, grant.holder())
                    .map_err(PageError::Cursor)?,
            ),
            false => None,
        };
        Ok(InventoryPage {
            snapshot,
            filtered_count: page.count,
            facets: page.facets,
            rows: page.rows,
            next_cursor,
            stale: stale_first,
        })
    }

    /// The scope's current rows (cached as for the grid), and whether they are stale.
    pub async fn current(&self, grant: &InventoryGrant) -> Result<(Arc<Snapshot>, bool), ErpError> {
        self.snapshot(grant.scope(), false).await
    }

    /// Every row of the view, in order (for exports), and whether they are stale.
    pub async fn all(
        &self,
        grant: &InventoryGrant,
        selection: &Selection,
    ) -> Result<(Arc<Snapshot>, Vec<u32>, bool), ErpError> {
        let (snapshot, stale) = self.snapshot(grant.scope(), false).await?;
        let snap = snapshot.clone();
        let selection = selection.clone();
        let rows = tokio::task::spawn_blocking(move || snap.select_all(&selection))
            .await
            .map_err(|e| ErpError::Query(format!("filtering failed: {e}")))?;
        Ok((snapshot, rows, stale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scope's first rows get the columns sorted most anywhere sorted ahead; its next
    /// rows get the columns its users sorted the rows before by, and only those (a scope
    /// nobody sorts is re-read without sorting anything ahead).
    #[tokio::test]
    async fn the_next_rows_are_sorted_ahead_as_the_last_ones_were_asked() {
        async fn made(snap: &Snapshot, want: usize) -> Vec<SortKey> {
            for _ in 0..500 {
                if snap.sorts_made().len() >= want {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            snap.sorts_made()
        }
        let asc = |field| SortKey {
            field,
            dir: SortDir::Asc,
        };
        let service = moving_service();
        let scope = ErpScope::parse("A");
        let (first, _) = service.snapshot(&scope, false).await.unwrap();
        assert_eq!(
            made(&first, 3).await,
            [
                asc(SortField::ExpDate),
                asc(SortField::OnHandQty),
                asc(SortField::Description)
            ]
        );
        let by_bin = Selection {
            filter: Filter::default(),
            sort: vec![asc(SortField::Bin)],
            cover: None,
        };
        first.select_page(&by_bin, 0, 10, Wanted::EVERYTHING);
        let (second, _) = service.snapshot(&scope, false).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(made(&second, 1).await, [asc(SortField::Bin)]);
        // Nobody sorted the second rows: the third are sorted by nothing ahead.
        let (third, _) = service.snapshot(&scope, false).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(third.sorts_made().is_empty());
    }

    #[test]
    fn the_columns_sorted_most_are_warmed_first() {
        let used = SortUse::default();
        assert_eq!(
            used.most(WARM_SORTS),
            [
                SortField::ExpDate,
                SortField::OnHandQty,
                SortField::Description
            ],
            "before anyone sorted"
        );
        for _ in 0..3 {
            used.count(SortField::Bin);
        }
        used.count(SortField::Part);
        assert_eq!(used.most(WARM_SORTS), [SortField::Bin, SortField::Part]);
    }
    use crate::erp::InventoryRow;

    /// Every scope has 5,000 rows with 100-character descriptions (about 1.5 MB each).
    struct Wide;

    #[async_trait::async_trait]
    impl ErpSource for Wide {
        fn name(&self) -> &'static str {
            "wide"
        }
        async fn inventory_rows(&self, scope: &ErpScope) -> Result<Vec<InventoryRow>, ErpError> {
            let customer = format!("{scope:?}");
            Ok((0..5_000)
                .map(|i| InventoryRow {
                    customer: customer.clone(),
                    part: format!("P{i}"),
                    description: "d".repeat(100),
                    ..Default::default()
                })
                .collect())
        }
        async fn customer_names(&self) -> Result<Vec<String>, ErpError> {
            Ok(Vec::new())
        }
        async fn ping(&self) -> Result<(), ErpError> {
            Ok(())
        }
    }

    /// A service over [`Moving`] rows that re-reads on every request.
    fn moving_service() -> InventoryService {
        InventoryService::new(
            Arc::new(Moving::default()),
            Duration::ZERO,
            Duration::from_secs(10),
            Duration::from_secs(10),
        )
    }

    /// Like [`Wide`], but the last row's quantity changes with every read; `shrink` leaves
    /// a row out every other read.
    #[derive(Default)]
    struct Moving {
        reads: std::sync::atomic::AtomicU64,
        shrink: bool,
    }

    #[async_trait::async_trait]
    impl ErpSource for Moving {
        fn name(&self) -> &'static str {
            "moving"
        }
        async fn inventory_rows(&self, scope: &ErpScope) -> Result<Vec<InventoryRow>, ErpError> {
            let n = self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut rows = Wide.inventory_rows(scope).await?;
            if self.shrink {
                rows.truncate(5_000 - (n % 2) as usize);
            } else if let Some(last) = rows.last_mut() {
                last.on_hand_qty = n as f64;
            }
            Ok(rows)
        }
        async fn customer_names(&self) -> Result<Vec<String>, ErpError> {
            Ok(Vec::new())
        }
        async fn ping(&self) -> Result<(), ErpError> {
            Ok(())
        }
    }

    /// A re-read that finds the rows as they were keeps the snapshot (and moves its "as
    /// of"); one that finds any difference, however late in the rows, builds a new one.
    #[tokio::test]
    async fn an_unchanged_re_read_keeps_its_snapshot_and_a_changed_one_does_not() {
        let scope = ErpScope::parse("A");
        let same = InventoryService::new(
            Arc::new(Wide),
            Duration::ZERO,
            Duration::from_secs(10),
            Duration::from_secs(10),
        );
        let (first, _) = same.snapshot(&scope, false).await.unwrap();
        let read_at = first.as_of();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let (again, stale) = same.snapshot(&scope, false).await.unwrap();
        assert!(!stale);
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same rows, the same snapshot"
        );
        assert!(again.as_of() > read_at, "as of the latest read");
        assert_eq!(same.erp_counters().reads, 2, "the ERP was read both times");
        // Once, with whatever it memoised since (sorts made ahead may still be coming).
        let held = same.cache_usage().bytes;
        assert!(
            held >= first.approx_bytes && held < 2 * first.approx_bytes,
            "held once: {held} of {}",
            first.approx_bytes
        );

        for shrink in [false, true] {
            let moving = InventoryService::new(
                Arc::new(Moving {
                    shrink,
                    ..Moving::default()
                }),
                Duration::ZERO,
                Duration::from_secs(10),
                Duration::from_secs(10),
            );
            let (a, _) = moving.snapshot(&scope, false).await.unwrap();
            let (b, _) = moving.snapshot(&scope, false).await.unwrap();
            assert!(
                !Arc::ptr_eq(&a, &b),
                "changed rows, a new snapshot (shrink {shrink})"
            );
            assert_ne!(a.rows, b.rows);
            assert_eq!(b.rows.len(), if shrink { 4_999 } else { 5_000 });
        }
    }

    /// A successful re-read lets the rows before it go: a scope holds one snapshot, not
    /// two (the older was kept only for a read that fails).
    #[tokio::test]
    async fn a_successful_read_lets_the_previous_rows_go() {
        let service = moving_service();
        let scope = ErpScope::parse("A");
        // The sorts made ahead after each read hold their snapshot until they are done.
        async fn held_by(snap: &Arc<Snapshot>, n: usize) -> usize {
            for _ in 0..500 {
                if Arc::strong_count(snap) == n {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Arc::strong_count(snap)
        }
        let (first, _) = service.snapshot(&scope, false).await.unwrap();
        let (second, _) = service.snapshot(&scope, false).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &second), "a live read each time");
        assert_eq!(
            held_by(&first, 1).await,
            1,
            "nothing but this test holds the first"
        );
        let (third, _) = service.snapshot(&scope, false).await.unwrap();
        assert_eq!(held_by(&second, 1).await, 1);
        assert_eq!(held_by(&third, 2).await, 2, "the cache holds the newest");
    }

    #[tokio::test]
    async fn the_cache_stays_under_its_cap_dropping_the_least_recently_used() {
        let scope = |n: &str| ErpScope::parse(n);
        let probe = InventoryService::new(
            Arc::new(Wide),
            Duration::from_secs(3600),
            Duration::from_secs(10),
            Duration::from_secs(10),
        );
        let one = probe
            .snapshot(&scope("X"), false)
            .await
            .unwrap()
            .0
            .approx_bytes;
        // Room for two and a half snapshots.
        let cap_mb = (one * 5 / 2).div_ceil(1024 * 1024);
        let service = InventoryService::new(
            Arc::new(Wide),
            Duration::from_secs(3600),
            Duration::from_secs(10),
            Duration::from_secs(10),
        )
        .with_cache_limit_mb(cap_mb);
        for name in ["A", "B", "C", "D", "E"] {
            service.snapshot(&scope(name), false).await.unwrap();
            // A is read again each time, so it stays the most recently used.
            service.snapshot(&scope("A"), false).await.unwrap();
        }
        let crate::inventory::CacheUsage { scopes, bytes, .. } = service.cache_usage();
        assert!(
            bytes <= cap_mb * 1024 * 1024,
            "{bytes} bytes in {scopes} scopes"
        );
        assert!(
            (2..5).contains(&scopes),
            "{scopes} scopes of {one} bytes under {cap_mb} MB"
        );
        let cache = service.cache.lock();
        assert!(
            cache.contains_key(&scope("A")),
            "the recently used scope stays"
        );
        assert!(cache.contains_key(&scope("E")), "the newest stays");
        assert!(
            !cache.contains_key(&scope("B")),
            "the least recently used went first"
        );
    }
}
