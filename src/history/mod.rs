//! Inventory over time: a daily record of every ERP customer's parts, kept in the app
//! database, and the forecasts made from it (days of cover, run-out dates).
//!
//! **One record a day, from one instance.** Every instance looks every half minute; once
//! the day's hour (`HISTORY_HOUR` in `PORTAL_TIMEZONE`) has come, the first instance to
//! claim the day (a row of `HistoryCaptures`, written only if nobody holds the day or its
//! holder's lease lapsed unfinished) reads the whole ERP through the inventory cache — the
//! rows the grid shows — sums them per part and per customer, and writes the day. An
//! instance that was down when the hour came records the day when it is back, the same
//! day; days nobody recorded stay missing (a gap), never invented. Rows older than
//! `HISTORY_RETENTION_DAYS` are deleted a batch at a time.

pub mod capture;
pub mod demo;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use time::{Date, OffsetDateTime};

use crate::domain::clock::Clock;
use crate::domain::forecast::{self, DayPoint};
use crate::domain::{ErpScope, Zone};
use crate::inventory::{Forecasts, InventoryService, Minimums};
use crate::store::{AppStore, PartDay, StoreError};

/// How long after start-up the first look comes.
const FIRST_LOOK: Duration = Duration::from_secs(60);
/// How long a claim on a day holds.
const LEASE: Duration = Duration::from_secs(10 * 60);
/// Parts whose made-up demo days are made and written together (about 18,000 rows).
const DEMO_BATCH: usize = 100;
/// Rows deleted per statement when pruning, and statements per look.
const PRUNE_BATCH: u32 = 5_000;
const PRUNE_BATCHES: u32 = 20;
/// Forecasts of a scope are kept this long (a new day recorded clears them at once).
const FORECASTS_FRESH: Duration = Duration::from_secs(10 * 60);
/// Forecasts being worked out or made: the first to ask works them out, the others wait.
type ForecastCell = Arc<tokio::sync::OnceCell<Arc<Forecasts>>>;

/// Scopes whose forecasts are kept at once.
const FORECAST_SCOPES: usize = 256;
/// The most history rows one forecast reads (2,000 parts × 29 days is 58,000).
const FORECAST_ROWS: u32 = 1_000_000;

/// What `HISTORY_*` and `FORECAST_*` say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The hour of the portal's day the record is taken (0–23).
    pub hour: u8,
    /// Days a record is kept.
    pub retention_days: u32,
    /// Days the forecast looks back.
    pub window_days: u32,
    /// The daily alert names parts forecast to fall below their minimum within these days.
    pub alert_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hour: 1,
            retention_days: 730,
            window_days: forecast::DEFAULT_WINDOW,
            alert_days: 14,
        }
    }
}

/// What one look did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Look {
    /// The day recorded by this look, and its parts.
    pub captured: Option<(Date, usize)>,
    pub pruned: u64,
}

type ForecastKey = (ErpScope, Date, u64);

pub struct History {
    store: Arc<dyn AppStore>,
    inventory: Arc<InventoryService>,
    zone: Zone,
    clock: Arc<dyn Clock>,
    owner: String,
    settings: Settings,
    /// Per scope, day and minimums: when the entry was made and its forecasts, worked
    /// out once however many ask at the same time (see `forecasts`).
    forecasts: Mutex<HashMap<ForecastKey, (std::time::Instant, ForecastCell)>>,
    done: Mutex<Done>,
}

/// What this instance has finished today, so that later looks that day write nothing: the
/// day it recorded, and the day its pruning ran to the end.
#[derive(Debug, Default)]
struct Done {
    recorded: Option<Date>,
    pruned: Option<Date>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("owner", &self.owner)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl History {
    pub fn new(
        store: Arc<dyn AppStore>,
        inventory: Arc<InventoryService>,
        zone: Zone,
        clock: Arc<dyn Clock>,
        owner: String,
        settings: Settings,
    ) -> History {
        History {
            store,
            inventory,
            zone,
            clock,
            owner,
            settings,
            forecasts: Mutex::new(HashMap::new()),
            done: Mutex::new(Done::default()),
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Drops the kept forecasts: the next ask works them out again.
    pub fn forget_forecasts(&self) {
        self.forecasts.lock().clear();
    }

    /// The portal's calendar day now.
    pub fn today(&self) -> Date {
        self.zone.at(self.clock.now()).date()
    }

    /// Records today if its hour has come and nobody has, then prunes old rows (once a
    /// day, in bounded batches; a pruning cut short by its bound goes on at the next look).
    pub async fn look(&self) -> Look {
        let now = self.clock.now();
        let local = self.zone.at(now);
        let today = local.date();
        let mut look = Look::default();
        if local.hour() >= self.settings.hour && self.done.lock().recorded != Some(today) {
            match self.capture(today, now).await {
                Ok(Some(parts)) => {
                    look.captured = Some((today, parts));
                    self.done.lock().recorded = Some(today);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "history: the day could not be recorded"),
            }
        }
        if self.done.lock().pruned != Some(today) {
            let before = today - time::Duration::days(i64::from(self.settings.retention_days));
            for _ in 0..PRUNE_BATCHES {
                match self.store.prune_history(before, PRUNE_BATCH).await {
                    Ok(n) => {
                        look.pruned += n;
                        if n < u64::from(PRUNE_BATCH) {
                            self.done.lock().pruned = Some(today);
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "history: pruning failed");
                        break;
                    }
                }
            }
        }
        look
    }

    /// Records `day` if this instance can claim it; the parts written, `None` when another
    /// instance has it (or had it).
    pub async fn capture(&self, day: Date, now: OffsetDateTime) -> Result<Option<usize>, String> {
        let until = now + time::Duration::try_from(LEASE).expect("a short lease");
        let claimed = self
            .store
            .claim_history_day(day, &self.owner, now, until)
            .await
            .map_err(|e| format!("app database: {e}"))?;
        if !claimed {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let grant = crate::auth::access::capture_grant();
        let (snapshot, stale) = self
            .inventory
            .current(&grant)
            .await
            .map_err(|e| format!("ERP: {e}"))?;
        if stale {
            // The last rows read are not today's: leave the day to the next look.
            return Err("the ERP did not answer; the rows on hand are not today's".into());
        }
        let summary = tokio::task::spawn_blocking(move || capture::summarize(&snapshot.rows, day))
            .await
            .map_err(|e| format!("summing the rows: {e}"))?;
        if summary.left_out > 0 {
            tracing::warn!(
                parts = summary.left_out,
                "history: parts whose customer or part number is longer than the history holds were left out"
            );
        }
        let parts = summary.parts.len();
        let recorded = self
            .store
            .finish_history_day(
                day,
                &self.owner,
                &summary.parts,
                &summary.totals,
                self.clock.now(),
            )
            .await
            .map_err(|e| format!("app database: {e}"))?;
        if !recorded {
            return Err("the claim on the day lapsed before it was written".into());
        }
        self.forget_forecasts();
        tracing::info!(%day, parts, elapsed_ms = started.elapsed().as_millis() as u64, "history: day recorded");
        Ok(Some(parts))
    }

    /// Demo mode: unless the day before today has totals, writes [`demo::DAYS`] made-up
    /// past days from today's rows (marked demo; rows already recorded are kept). Made
    /// and written [`DEMO_BATCH`] parts at a time, so memory holds one batch and sign-ins
    /// and saves never wait long behind the seed; the totals go last, as the mark of a
    /// finished seed (one cut short is made again at the next start). The number of part
    /// rows written.
    pub async fn seed_demo(&self) -> Result<usize, String> {
        let today = self.today();
        let yesterday = today - time::Duration::days(1);
        let done = self
            .store
            .customer_history(None, yesterday, yesterday)
            .await
            .map_err(|e| e.to_string())?;
        if !done.is_empty() {
            return Ok(0);
        }
        let (snapshot, _) = self
            .inventory
            .current(&crate::auth::access::capture_grant())
            .await
            .map_err(|e| format!("ERP: {e}"))?;
        let today_parts =
            tokio::task::spawn_blocking(move || capture::summarize(&snapshot.rows, today).parts)
                .await
                .map_err(|e| e.to_string())?;
        let today_parts = Arc::new(today_parts);
        let roles = Arc::new(demo::roles(&today_parts));
        let mut totals = demo::Totals::default();
        let mut written = 0;
        for start in (0..today_parts.len()).step_by(DEMO_BATCH) {
            let (parts, roles) = (today_parts.clone(), roles.clone());
            let days = tokio::task::spawn_blocking(move || {
                let end = (start + DEMO_BATCH).min(parts.len());
                (start..end)
                    .flat_map(|i| demo::part_days(&parts[i], roles[i], today))
                    .collect::<Vec<PartDay>>()
            })
            .await
            .map_err(|e| e.to_string())?;
            totals.add(&days);
            self.store
                .insert_demo_history(&days, &[])
                .await
                .map_err(|e| e.to_string())?;
            written += days.len();
        }
        self.store
            .insert_demo_history(&[], &totals.into_vec())
            .await
            .map_err(|e| e.to_string())?;
        self.forget_forecasts();
        tracing::info!(rows = written, "history: demo days written");
        Ok(written)
    }

    /// Looks every `every` until the process ends, the first time a minute after start-up
    /// (a start-up has enough to do; an instance that only lives for a moment records
    /// nothing).
    pub fn spawn(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let first = tokio::time::Instant::now() + FIRST_LOOK;
            let mut interval = tokio::time::interval_at(first, every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                self.look().await;
            }
        })
    }

    /// The forecasts of every part in `scope` as of today, with below-minimum dates from
    /// `minimums`; kept ten minutes per scope (`FORECASTS_FRESH`), and until a day is recorded.
    pub async fn forecasts(
        &self,
        scope: &ErpScope,
        minimums: Option<&Minimums>,
    ) -> Result<Arc<Forecasts>, StoreError> {
        let today = self.today();
        let key = (
            scope.clone(),
            today,
            minimums.map_or(0, Minimums::fingerprint),
        );
        // One entry per key: requests that ask while it is worked out wait for it rather
        // than each reading the history and holding a copy (after a day's capture every
        // signed-in page asks at once).
        let cell = {
            let mut cache = self.forecasts.lock();
            match cache.get(&key) {
                Some((at, cell)) if at.elapsed() < FORECASTS_FRESH => cell.clone(),
                _ => {
                    if cache.len() >= FORECAST_SCOPES {
                        cache.clear();
                    }
                    let cell = ForecastCell::default();
                    cache.insert(key, (std::time::Instant::now(), cell.clone()));
                    cell
                }
            }
        };
        let window = i64::from(self.settings.window_days);
        let from = today - time::Duration::days(window + 1);
        let names = scope.names();
        let minimums = minimums.cloned();
        let window_days = self.settings.window_days;
        // A failure leaves the cell empty: the next request tries again.
        cell.get_or_try_init(|| async move {
            let rows = self
                .store
                .part_history(names.as_deref(), None, from, today, None, FORECAST_ROWS)
                .await?;
            let made = tokio::task::spawn_blocking(move || {
                forecasts_from(&rows, minimums.as_ref(), window_days, today)
            })
            .await
            .map_err(|e| StoreError::Backend(format!("forecasting: {e}")))?;
            Ok(Arc::new(made))
        })
        .await
        .cloned()
    }
}

/// Every part's forecast from its rows (ordered by customer, part and day).
pub fn forecasts_from(
    rows: &[PartDay],
    minimums: Option<&Minimums>,
    window_days: u32,
    today: Date,
) -> Forecasts {
    let mut out = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let (c, p) = (&rows[start].erp_customer_name, &rows[start].part);
        let end = rows[start..]
            .iter()
            .position(|r| &r.erp_customer_name != c || &r.part != p)
            .map_or(rows.len(), |n| start + n);
        let points: Vec<DayPoint> = rows[start..end]
            .iter()
            .map(|r| DayPoint {
                day: r.day,
                on_hand: r.figures.on_hand,
                received: r.figures.received_qty,
            })
            .collect();
        let minimum = minimums.and_then(|m| m.get(c, p));
        out.push((
            c.clone(),
            p.clone(),
            forecast::forecast(&points, minimum, window_days),
        ));
        start = end;
    }
    Forecasts::new(out, today)
}
