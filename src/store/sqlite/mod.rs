//! The embedded app database: SQLite in WAL mode with foreign keys on.
//!
//! rusqlite is synchronous, so every call runs on the blocking pool with a connection
//! taken from a small pool of our own. WAL lets readers proceed while one writer writes;
//! `busy_timeout` makes concurrent writers wait instead of failing.

mod features;
mod history;
mod inspect;
mod migrations;
mod records;
use records::like_escape;
mod resets;
mod sessions;
pub mod sql;
mod teams;
mod tokens;
mod two_factor;

pub use inspect::inspect;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params};
use time::OffsetDateTime;

use super::*;
use crate::domain::Zone;
use crate::sqlite_pool::{Mode, PoolError, SqlitePool};

const POOL_SIZE: usize = 4;
/// How long a request waits for a pooled connection.
const CHECKOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    /// The zone of the old portal's local-time columns (`APP_DB_TIME_ZONE`).
    zone: Zone,
}

/// A pooled connection lent to one operation, with the zone its local-time columns use.
pub(super) struct Db<'a> {
    conn: &'a mut Connection,
    zone: Zone,
}

impl std::ops::Deref for Db<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl std::ops::DerefMut for Db<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.pool.path())
            .finish()
    }
}

/// Opens a connection to the database file that is there: never creates one (after the
/// first start, a missing file is a vanished database, not a new one).
fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    open_with(path, OpenFlags::empty())
}

fn open_with(path: &Path, extra: OpenFlags) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | extra,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // Room for every statement of the store: each is parsed once per connection.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;",
    )?;
    Ok(conn)
}

/// Prepared statements kept per connection (the store has about this many).
const STATEMENT_CACHE: usize = 256;

/// The store's fixed statements run through the connection's cache of prepared
/// statements: a page's few queries are parsed once per connection, not per request
/// (parsing was most of a small query's cost).
trait Cached {
    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>;
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl Cached for Connection {
    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

/// A full disk, a read-only or vanished file, an I/O error or a lock held past the busy
/// timeout are the database being unavailable (503, retry later), not a bug (500).
fn backend(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(
            DiskFull | ReadOnly | CannotOpen | SystemIoFailure | DatabaseBusy | DatabaseLocked,
        ) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Backend(e.to_string()),
    }
}

/// Whether a connection may be lent again after `result`. After a read-only file, an I/O
/// error or a file that cannot be opened it is dropped: the next one is opened afresh and
/// sees the file as it is now. A full disk leaves it sound (SQLite rolled the write
/// back), and keeping it keeps the write-ahead log open: closing the last connection
/// would checkpoint and truncate the log, and a write could then slip into the space
/// that freed.
fn keep_after<T>(result: &StoreResult<T>) -> bool {
    match result {
        Err(StoreError::Unavailable(why)) => why.contains(SQLITE_FULL_MESSAGE),
        _ => true,
    }
}

/// How rusqlite words SQLite's `SQLITE_FULL`.
const SQLITE_FULL_MESSAGE: &str = "database or disk is full";

/// The file beside the database that says one was created here: while it exists, a
/// missing database is a vanished one, and start-up refuses to make an empty one in its
/// place.
pub fn marker_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".id");
    path.with_file_name(name)
}

impl SqliteStore {
    /// Opens the database file and applies pending migrations; creates it only the first
    /// time (no marker beside it). `zone` is the zone of the local-time columns
    /// (`APP_DB_TIME_ZONE`).
    pub async fn open(path: &Path, zone: Zone) -> StoreResult<SqliteStore> {
        let path = path.to_owned();
        let store = tokio::task::spawn_blocking(move || -> StoreResult<SqliteStore> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            }
            let marker = marker_path(&path);
            if !path.exists() && marker.exists() {
                let created = std::fs::read_to_string(&marker).unwrap_or_default();
                return Err(StoreError::Unavailable(format!(
                    "the app database {} is gone, but {} says one was created here ({}): refusing to start with an empty one in its place. Restore the file, or delete {} to start afresh",
                    path.display(),
                    marker.display(),
                    created.trim(),
                    marker.display()
                )));
            }
            let mut first = open_with(&path, OpenFlags::SQLITE_OPEN_CREATE)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let applied = migrations::apply(&mut first).map_err(backend)?;
            let moved = migrations::utc_to_local(&mut first, &zone).map_err(backend)?;
            if moved > 0 {
                tracing::info!(moved, zone = zone.name(), "local-time columns written as UTC by an earlier version now hold APP_DB_TIME_ZONE wall-clock times");
            }
            if !applied.is_empty() {
                tracing::info!(?applied, path = %path.display(), "applied app-database migrations");
            }
            if !marker.exists() {
                let note = format!(
                    "{}\nThe app database {} was created or adopted here. While this file exists the portal refuses to replace a missing database with an empty one.\n",
                    format_ts(OffsetDateTime::now_utc()),
                    path.display()
                );
                std::fs::write(&marker, note).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            }
            drop(first);
            let pool = SqlitePool::new(&path, POOL_SIZE, CHECKOUT, Mode::Owned, open_connection)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            Ok(SqliteStore {
                inner: Arc::new(Inner { pool, zone }),
            })
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))??;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        self.inner.pool.path()
    }

    /// Runs `f` with a pooled connection on the blocking thread pool. A connection whose
    /// operation found the database unavailable (read-only, I/O error, full disk) is not
    /// lent again: the next one is opened afresh and sees the file as it is now.
    async fn with_conn<T, F>(&self, op: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> StoreResult<T> + Send + 'static,
    {
        let zone = self.inner.zone.clone();
        let started = std::time::Instant::now();
        let result = self
            .inner
            .pool
            .run(move |conn| f(&mut Db { conn, zone }), keep_after)
            .await
            .unwrap_or_else(|e| {
                if let PoolError::Vanished(why) = &e {
                    tracing::error!(op, "{why}");
                }
                Err(StoreError::Unavailable(e.to_string()))
            });
        tracing::trace!(
            op,
            elapsed_us = started.elapsed().as_micros() as u64,
            ok = result.is_ok(),
            "sqlite"
        );
        if let Err(e) = &result {
            tracing::warn!(op, error = %e, "sqlite operation failed");
        }
        result
    }
}

fn ts(t: OffsetDateTime) -> String {
    format_ts(t)
}

fn read_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<OffsetDateTime> {
    let s: String = row.get(idx)?;
    parse_ts(&s).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(idx, "timestamp".into(), rusqlite::types::Type::Text)
    })
}

fn opt_ts(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<OffsetDateTime>> {
    let s: Option<String> = r.get(idx)?;
    Ok(s.as_deref().and_then(parse_ts))
}

/// Runs `write` in a transaction and appends `audit` in it when `write` changed a row:
/// all or nothing. How many rows `write` changed.
fn write_with_audit(
    c: &mut Db,
    audit: Option<&NewAuditEntry>,
    write: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<usize>,
) -> StoreResult<usize> {
    let zone = c.zone.clone();
    let tx = c.transaction().map_err(backend)?;
    let n = write(&tx).map_err(backend)?;
    if n > 0
        && let Some(a) = audit
    {
        insert_audit(&tx, a, &zone).map_err(backend)?;
    }
    tx.commit().map_err(backend)?;
    Ok(n)
}

/// An instant as the old portal's local-time columns hold it (wall clock in `zone`).
fn local_ts(t: OffsetDateTime, zone: &Zone) -> String {
    format_local(t, zone)
}

fn read_local(row: &Row<'_>, idx: usize, zone: &Zone) -> rusqlite::Result<OffsetDateTime> {
    let s: String = row.get(idx)?;
    parse_local(&s, zone).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(idx, "timestamp".into(), rusqlite::types::Type::Text)
    })
}

fn read_opt_local(
    row: &Row<'_>,
    idx: usize,
    zone: &Zone,
) -> rusqlite::Result<Option<OffsetDateTime>> {
    let s: Option<String> = row.get(idx)?;
    Ok(s.as_deref().and_then(|s| parse_local(s, zone)))
}

/// Inserts an account and its audit row (`audit`'s target filled in) inside `tx`.
/// `DuplicateEmail` when the email has an account.
fn insert_customer_in(
    tx: &rusqlite::Transaction<'_>,
    new: &NewCustomer,
    mut audit: NewAuditEntry,
    zone: &Zone,
) -> StoreResult<Customer> {
    let inserted = tx.execute_cached(
        sql::INSERT_CUSTOMER,
        params![
            new.first_name,
            // The old portal's column is NOT NULL: no last name is ''.
            new.last_name.clone().unwrap_or_default(),
            new.email.as_str(),
            new.password_hash,
            new.erp_customer_name,
            new.must_reset_password as i64,
            local_ts(OffsetDateTime::now_utc(), zone)
        ],
    );
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Err(StoreError::DuplicateEmail);
        }
        Err(e) => return Err(backend(e)),
        Ok(_) => {}
    }
    let id = tx.last_insert_rowid();
    audit.target_customer_id = Some(CustomerId(id));
    insert_audit(tx, &audit, zone).map_err(backend)?;
    tx.query_row_cached(sql::CUSTOMER_BY_ID, [id], |r| customer_from_row(r, 0, zone))
        .map_err(backend)
}

/// Reads the ten customer columns starting at `at`.
fn customer_from_row(row: &Row<'_>, at: usize, zone: &Zone) -> rusqlite::Result<Customer> {
    Ok(Customer {
        id: CustomerId(row.get(at)?),
        first_name: row.get(at + 1)?,
        last_name: row
            .get::<_, Option<String>>(at + 2)?
            .filter(|l| !l.is_empty()),
        email: row.get(at + 3)?,
        password_hash: row.get(at + 4)?,
        erp_customer_name: row.get(at + 5)?,
        is_active: row.get::<_, i64>(at + 6)? != 0,
        last_login_date: read_opt_local(row, at + 7, zone)?,
        must_reset_password: row.get::<_, i64>(at + 8)? != 0,
        created_date: read_opt_local(row, at + 9, zone)?,
    })
}

fn insert_audit(conn: &Connection, e: &NewAuditEntry, zone: &Zone) -> rusqlite::Result<i64> {
    conn.execute_cached(
        sql::INSERT_AUDIT,
        params![
            local_ts(e.timestamp, zone),
            fits::AUDIT_ACTOR.cut(&e.admin_username),
            fits::AUDIT_ACTION.cut(&e.action_type),
            e.target_customer_id.map(|c| c.0),
            fits::AUDIT_EMAIL.cut_opt(e.target_customer_email.as_deref()),
            e.details
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

#[async_trait]
impl CustomerStore for SqliteStore {
    async fn customer_by_email(&self, email: &Email) -> StoreResult<Option<Customer>> {
        let email = email.as_str().to_owned();
        self.with_conn("customer_by_email", move |c| {
            let zone = c.zone.clone();
            c.query_row_cached(sql::CUSTOMER_BY_EMAIL, [email], |r| {
                customer_from_row(r, 0, &zone)
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn customer_by_id(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        self.with_conn("customer_by_id", move |c| {
            let zone = c.zone.clone();
            c.query_row_cached(sql::CUSTOMER_BY_ID, [id.0], |r| {
                customer_from_row(r, 0, &zone)
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn insert_customer(
        &self,
        new: &NewCustomer,
        audit: &NewAuditEntry,
    ) -> StoreResult<Customer> {
        let (new, audit) = (new.clone(), audit.clone());
        self.with_conn("insert_customer", move |c| {
            let zone = c.zone.clone();
            let tx = c.transaction().map_err(backend)?;
            let customer = insert_customer_in(&tx, &new, audit, &zone)?;
            tx.commit().map_err(backend)?;
            Ok(customer)
        })
        .await
    }

    async fn count_customers_by_status(&self) -> StoreResult<(u64, u64)> {
        self.with_conn("count_customers_by_status", |c| {
            c.query_row_cached(sql::COUNT_CUSTOMERS_BY_STATUS, [], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
            })
            .map_err(backend)
        })
        .await
    }

    async fn list_customers(
        &self,
        status: StatusFilter,
        search: Option<&str>,
    ) -> StoreResult<Vec<Customer>> {
        let pattern = search
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{}%", like_escape(&s.to_lowercase())));
        let active: Option<i64> = match status {
            StatusFilter::Active => Some(1),
            StatusFilter::Inactive => Some(0),
            StatusFilter::All => None,
        };
        self.with_conn("list_customers", move |c| {
            let zone = c.zone.clone();
            let mut stmt = c.prepare_cached(sql::LIST_CUSTOMERS).map_err(backend)?;
            let rows = stmt
                .query_map(params![active, pattern], |r| customer_from_row(r, 0, &zone))
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn customers_by_ids(&self, ids: &[CustomerId]) -> StoreResult<Vec<Customer>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
        self.with_conn("customers_by_ids", move |c| {
            let zone = c.zone.clone();
            let mut stmt = c
                .prepare(&sql::customers_by_ids(ids.len()))
                .map_err(backend)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(ids.iter()), |r| {
                    customer_from_row(r, 0, &zone)
                })
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn update_customer(
        &self,
        id: CustomerId,
        changes: &CustomerChanges,
        end_sessions: bool,
        audits: &[NewAuditEntry],
    ) -> StoreResult<Customer> {
        let ch = changes.clone();
        let audits = audits.to_vec();
        self.with_conn("update_customer", move |c| {
            let zone = c.zone.clone();
            let tx = c.transaction().map_err(backend)?;
            let updated = tx.execute_cached(
                sql::UPDATE_CUSTOMER,
                params![
                    ch.first_name,
                    ch.last_name.clone().unwrap_or_default(),
                    ch.email.as_str(),
                    ch.erp_customer_name,
                    ch.is_active as i64,
                    id.0
                ],
            );
            match updated {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    return Err(StoreError::DuplicateEmail);
                }
                Err(e) => return Err(backend(e)),
                Ok(0) => return Err(StoreError::NotFound),
                Ok(_) => {}
            }
            if end_sessions {
                tx.execute_cached(sql::END_CUSTOMER_SESSIONS, [id.0])
                    .map_err(backend)?;
            }
            for a in &audits {
                insert_audit(&tx, a, &zone).map_err(backend)?;
            }
            let customer = tx
                .query_row_cached(sql::CUSTOMER_BY_ID, [id.0], |r| {
                    customer_from_row(r, 0, &zone)
                })
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(customer)
        })
        .await
    }

    async fn upgrade_password_hash(&self, id: CustomerId, password_hash: &str) -> StoreResult<()> {
        let hash = password_hash.to_owned();
        self.with_conn("upgrade_password_hash", move |c| {
            c.execute_cached(sql::UPGRADE_PASSWORD_HASH, params![hash, id.0])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn change_password(
        &self,
        id: CustomerId,
        password_hash: &str,
        must_reset_password: bool,
        keep_session: Option<&str>,
        audit: &NewAuditEntry,
    ) -> StoreResult<()> {
        let hash = password_hash.to_owned();
        let keep = keep_session.map(str::to_owned);
        let audit = audit.clone();
        self.with_conn("change_password", move |c| {
            let zone = c.zone.clone();
            let tx = c.transaction().map_err(backend)?;
            let changed = tx
                .execute_cached(
                    sql::SET_PASSWORD,
                    params![hash, must_reset_password as i64, id.0],
                )
                .map_err(backend)?;
            if changed == 0 {
                // Dropping the transaction rolls it back: nothing written, nothing audited.
                return Err(StoreError::NotFound);
            }
            tx.execute_cached(sql::END_OTHER_SESSIONS, params![id.0, keep])
                .map_err(backend)?;
            // A reset link mailed before the change must not undo it.
            tx.execute_cached(sql::USE_UP_RESET_TOKENS, [id.0])
                .map_err(backend)?;
            insert_audit(&tx, &audit, &zone).map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl AppStore for SqliteStore {
    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.with_conn("ping", |c| {
            c.query_row_cached(sql::PING, [], |_| Ok(()))
                .map_err(backend)
        })
        .await
    }

    async fn pool_usage(&self) -> PoolUsage {
        let (in_use, max) = self.inner.pool.usage();
        PoolUsage {
            in_use: in_use as u64,
            max: max as u64,
        }
    }
}
