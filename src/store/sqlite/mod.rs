//! The embedded app database: SQLite in WAL mode with foreign keys on.
//!
//! rusqlite is synchronous, so every call runs on the blocking pool with a connection
//! taken from a small pool of our own. WAL lets readers proceed while one writer writes;
//! `busy_timeout` makes concurrent writers wait instead of failing.

mod migrations;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

use super::*;

const POOL_SIZE: usize = 4;

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;",
    )?;
    Ok(conn)
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        let path = path.to_owned();
        let store = tokio::task::spawn_blocking(move || -> StoreResult<SqliteStore> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            }
            let mut first =
                open_connection(&path).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let applied = migrations::apply(&mut first).map_err(backend)?;
            if !applied.is_empty() {
                tracing::info!(?applied, path = %path.display(), "applied app-database migrations");
            }
            Ok(SqliteStore {
                inner: Arc::new(Inner {
                    path,
                    idle: Mutex::new(vec![first]),
                    permits: Semaphore::new(POOL_SIZE),
                }),
            })
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))??;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    async fn with_conn<T, F>(&self, op: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let inner = self.inner.clone();
        let started = std::time::Instant::now();
        let result = tokio::task::spawn_blocking(move || {
            let conn = inner.idle.lock().expect("pool lock").pop();
            let mut conn = match conn {
                Some(c) => c,
                None => open_connection(&inner.path)
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            };
            let out = f(&mut conn);
            inner.idle.lock().expect("pool lock").push(conn);
            out
        })
        .await
        .map_err(|e| StoreError::Backend(format!("blocking task failed: {e}")))?;
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

fn read_opt_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<OffsetDateTime>> {
    let s: Option<String> = row.get(idx)?;
    Ok(s.as_deref().and_then(parse_ts))
}

const CUSTOMER_COLUMNS: &str = "c.customer_id, c.first_name, c.last_name, c.email, c.password_hash, \
     c.erp_customer_name, c.is_active, c.last_login_date, c.must_reset_password";

/// Reads the nine customer columns starting at `at`.
fn customer_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<Customer> {
    Ok(Customer {
        id: CustomerId(row.get(at)?),
        first_name: row.get(at + 1)?,
        last_name: row.get(at + 2)?,
        email: row.get(at + 3)?,
        password_hash: row.get(at + 4)?,
        erp_customer_name: row.get(at + 5)?,
        is_active: row.get::<_, i64>(at + 6)? != 0,
        last_login_date: read_opt_ts(row, at + 7)?,
        must_reset_password: row.get::<_, i64>(at + 8)? != 0,
    })
}

fn insert_audit(conn: &Connection, e: &NewAuditEntry) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO AuditLog (timestamp, admin_username, action_type, target_customer_id, target_customer_email, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            ts(e.timestamp),
            e.admin_username,
            e.action_type,
            e.target_customer_id.map(|c| c.0),
            e.target_customer_email,
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
            c.query_row(
                &format!(
                    "SELECT {CUSTOMER_COLUMNS} FROM Customers c WHERE c.email = ?1 COLLATE NOCASE"
                ),
                [email],
                |r| customer_from_row(r, 0),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn customer_by_id(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        self.with_conn("customer_by_id", move |c| {
            c.query_row(
                &format!("SELECT {CUSTOMER_COLUMNS} FROM Customers c WHERE c.customer_id = ?1"),
                [id.0],
                |r| customer_from_row(r, 0),
            )
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
        let (first, last, email, hash, erp, reset) = (
            new.first_name.clone(),
            new.last_name.clone(),
            new.email.as_str().to_owned(),
            new.password_hash.clone(),
            new.erp_customer_name.clone(),
            new.must_reset_password,
        );
        let audit = audit.clone();
        self.with_conn("insert_customer", move |c| {
            let tx = c.transaction().map_err(backend)?;
            let inserted = tx.execute(
                "INSERT INTO Customers (first_name, last_name, email, password_hash, erp_customer_name, is_active, must_reset_password)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)",
                params![first, last, email, hash, erp, reset as i64],
            );
            match inserted {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    return Err(StoreError::DuplicateEmail);
                }
                Err(e) => return Err(backend(e)),
                Ok(_) => {}
            }
            let id = tx.last_insert_rowid();
            let mut audit = audit;
            audit.target_customer_id = Some(CustomerId(id));
            insert_audit(&tx, &audit).map_err(backend)?;
            let customer = tx
                .query_row(
                    &format!("SELECT {CUSTOMER_COLUMNS} FROM Customers c WHERE c.customer_id = ?1"),
                    [id],
                    |r| customer_from_row(r, 0),
                )
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(customer)
        })
        .await
    }

    async fn count_customers_by_status(&self) -> StoreResult<(u64, u64)> {
        self.with_conn("count_customers_by_status", |c| {
            c.query_row(
                "SELECT COALESCE(SUM(is_active), 0), COALESCE(SUM(1 - is_active), 0) FROM Customers",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
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
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {CUSTOMER_COLUMNS} FROM Customers c
                     WHERE (?1 IS NULL OR c.is_active = ?1)
                       AND (?2 IS NULL OR lower(c.first_name || ' ' || COALESCE(c.last_name, '') || ' ' || c.email || ' ' || c.erp_customer_name) LIKE ?2 ESCAPE '\\')
                     ORDER BY lower(COALESCE(c.last_name, '')), lower(c.first_name), c.email"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map(params![active, pattern], |r| customer_from_row(r, 0)).map_err(backend)?;
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
            let placeholders = vec!["?"; ids.len()].join(", ");
            let mut stmt = c
                .prepare(&format!("SELECT {CUSTOMER_COLUMNS} FROM Customers c WHERE c.customer_id IN ({placeholders})"))
                .map_err(backend)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(ids.iter()), |r| customer_from_row(r, 0)).map_err(backend)?;
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
            let tx = c.transaction().map_err(backend)?;
            let updated = tx.execute(
                "UPDATE Customers SET first_name = ?1, last_name = ?2, email = ?3, erp_customer_name = ?4, is_active = ?5
                 WHERE customer_id = ?6",
                params![ch.first_name, ch.last_name, ch.email.as_str(), ch.erp_customer_name, ch.is_active as i64, id.0],
            );
            match updated {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    return Err(StoreError::DuplicateEmail);
                }
                Err(e) => return Err(backend(e)),
                Ok(0) => return Err(StoreError::NotFound),
                Ok(_) => {}
            }
            if end_sessions {
                tx.execute("DELETE FROM ActiveSessions WHERE customer_id = ?1", [id.0]).map_err(backend)?;
            }
            for a in &audits {
                insert_audit(&tx, a).map_err(backend)?;
            }
            let customer = tx
                .query_row(
                    &format!("SELECT {CUSTOMER_COLUMNS} FROM Customers c WHERE c.customer_id = ?1"),
                    [id.0],
                    |r| customer_from_row(r, 0),
                )
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(customer)
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
            let tx = c.transaction().map_err(backend)?;
            let changed = tx
                .execute(
                    "UPDATE Customers SET password_hash = ?1, must_reset_password = ?2 WHERE customer_id = ?3",
                    params![hash, must_reset_password as i64, id.0],
                )
                .map_err(backend)?;
            if changed == 0 {
                // Dropping the transaction rolls it back: nothing written, nothing audited.
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "DELETE FROM ActiveSessions WHERE customer_id = ?1 AND (?2 IS NULL OR session_id <> ?2)",
                params![id.0, keep],
            )
            .map_err(backend)?;
            insert_audit(&tx, &audit).map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl ActiveSessionStore for SqliteStore {
    async fn begin_customer_session(
        &self,
        session: &ActiveSession,
        audit: &NewAuditEntry,
    ) -> StoreResult<()> {
        let s = session.clone();
        let audit = audit.clone();
        self.with_conn("begin_customer_session", move |c| {
            let tx = c.transaction().map_err(backend)?;
            tx.execute(
                "INSERT INTO ActiveSessions (session_id, customer_id, last_seen, ip_address, user_agent, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![s.session_id, s.customer_id.0, ts(s.last_seen), s.ip_address, s.user_agent, ts(s.created_at)],
            )
            .map_err(backend)?;
            tx.execute(
                "UPDATE Customers SET last_login_date = ?1 WHERE customer_id = ?2",
                params![ts(s.created_at), s.customer_id.0],
            )
            .map_err(backend)?;
            insert_audit(&tx, &audit).map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn session_with_customer(
        &self,
        session_id: &str,
    ) -> StoreResult<Option<(ActiveSession, Customer)>> {
        let sid = session_id.to_owned();
        self.with_conn("session_with_customer", move |c| {
            c.query_row(
                &format!(
                    "SELECT s.session_id, s.customer_id, s.last_seen, s.ip_address, s.user_agent, s.created_at, {CUSTOMER_COLUMNS}
                     FROM ActiveSessions s JOIN Customers c ON c.customer_id = s.customer_id
                     WHERE s.session_id = ?1"
                ),
                [sid],
                |r| {
                    Ok((
                        ActiveSession {
                            session_id: r.get(0)?,
                            customer_id: CustomerId(r.get(1)?),
                            last_seen: read_ts(r, 2)?,
                            ip_address: r.get(3)?,
                            user_agent: r.get(4)?,
                            created_at: read_ts(r, 5)?,
                        },
                        customer_from_row(r, 6)?,
                    ))
                },
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn touch_session(&self, session_id: &str, at: OffsetDateTime) -> StoreResult<()> {
        let sid = session_id.to_owned();
        self.with_conn("touch_session", move |c| {
            c.execute(
                "UPDATE ActiveSessions SET last_seen = ?1 WHERE session_id = ?2",
                params![ts(at), sid],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn end_customer_session(
        &self,
        session_id: &str,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool> {
        let (sid, audit) = (session_id.to_owned(), audit.cloned());
        self.with_conn("end_customer_session", move |c| {
            delete_with_audit(
                c,
                "DELETE FROM ActiveSessions WHERE session_id = ?1",
                &sid,
                audit.as_ref(),
            )
        })
        .await
    }

    async fn list_active_sessions(&self) -> StoreResult<Vec<ActiveSession>> {
        self.with_conn("list_active_sessions", |c| {
            let mut stmt = c
                .prepare(
                    "SELECT session_id, customer_id, last_seen, ip_address, user_agent, created_at
                     FROM ActiveSessions ORDER BY last_seen DESC",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(ActiveSession {
                        session_id: r.get(0)?,
                        customer_id: CustomerId(r.get(1)?),
                        last_seen: read_ts(r, 2)?,
                        ip_address: r.get(3)?,
                        user_agent: r.get(4)?,
                        created_at: read_ts(r, 5)?,
                    })
                })
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn purge_sessions_created_before(&self, cutoff: OffsetDateTime) -> StoreResult<u64> {
        self.with_conn("purge_sessions", move |c| {
            c.execute(
                "DELETE FROM ActiveSessions WHERE created_at < ?1",
                [ts(cutoff)],
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<i64> {
        let e = entry.clone();
        self.with_conn("append_audit", move |c| {
            insert_audit(c, &e).map_err(backend)
        })
        .await
    }

    async fn audit_page(
        &self,
        filter: &AuditFilter,
        offset: u64,
        limit: u32,
    ) -> StoreResult<(u64, Vec<AuditEntry>)> {
        let (admin, action) = (filter.admin_username.clone(), filter.action_type.clone());
        let (search_id, email) = filter.search_parts();
        let pattern = email.map(|s| format!("%{}%", like_escape(s)));
        self.with_conn("audit_page", move |c| {
            let filter_sql = "WHERE (?1 IS NULL OR admin_username = ?1) AND (?2 IS NULL OR action_type = ?2)
                 AND ((?3 IS NULL AND ?4 IS NULL) OR lower(COALESCE(target_customer_email, '')) LIKE ?3 ESCAPE '\\' OR target_customer_id = ?4)";
            let total: i64 = c
                .query_row(&format!("SELECT COUNT(*) FROM AuditLog {filter_sql}"), params![admin, action, pattern, search_id], |r| r.get(0))
                .map_err(backend)?;
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM AuditLog {filter_sql} ORDER BY timestamp DESC, log_id DESC LIMIT ?5 OFFSET ?6"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![admin, action, pattern, search_id, limit, offset as i64], audit_from_row)
                .map_err(backend)?;
            Ok((total as u64, rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)?))
        })
        .await
    }

    async fn audit_facets(&self) -> StoreResult<(Vec<String>, Vec<String>)> {
        self.with_conn("audit_facets", |c| {
            let list = |sql: &str| -> rusqlite::Result<Vec<String>> {
                let mut stmt = c.prepare(sql)?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                rows.collect()
            };
            let admins =
                list("SELECT DISTINCT admin_username FROM AuditLog ORDER BY admin_username")
                    .map_err(backend)?;
            let actions = list("SELECT DISTINCT action_type FROM AuditLog ORDER BY action_type")
                .map_err(backend)?;
            Ok((admins, actions))
        })
        .await
    }

    async fn audit_since(
        &self,
        action_type: &str,
        since: OffsetDateTime,
    ) -> StoreResult<Vec<AuditEntry>> {
        let action = action_type.to_owned();
        self.with_conn("audit_since", move |c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM AuditLog WHERE action_type = ?1 AND timestamp >= ?2 ORDER BY timestamp, log_id"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map(params![action, ts(since)], audit_from_row).map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn top_audit_targets(
        &self,
        action_type: &str,
        limit: u32,
    ) -> StoreResult<Vec<(String, u64)>> {
        let action = action_type.to_owned();
        self.with_conn("top_audit_targets", move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT target_customer_email, COUNT(*) AS n FROM AuditLog
                     WHERE action_type = ?1 AND target_customer_email IS NOT NULL
                     GROUP BY target_customer_email ORDER BY n DESC, target_customer_email LIMIT ?2",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![action, limit], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn latest_audit(&self, action_type: &str, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let action = action_type.to_owned();
        self.with_conn("latest_audit", move |c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM AuditLog WHERE action_type = ?1 ORDER BY timestamp DESC, log_id DESC LIMIT ?2"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map(params![action, limit], audit_from_row).map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }
}

/// Deletes one session row and, only if there was one, appends `audit` — atomically.
fn delete_with_audit(
    c: &mut Connection,
    delete: &str,
    id: &str,
    audit: Option<&NewAuditEntry>,
) -> StoreResult<bool> {
    let tx = c.transaction().map_err(backend)?;
    let n = tx.execute(delete, [id]).map_err(backend)?;
    if n > 0
        && let Some(a) = audit
    {
        insert_audit(&tx, a).map_err(backend)?;
    }
    tx.commit().map_err(backend)?;
    Ok(n > 0)
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn audit_from_row(r: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        timestamp: read_ts(r, 1)?,
        admin_username: r.get(2)?,
        action_type: r.get(3)?,
        target_customer_id: r.get::<_, Option<i64>>(4)?.map(CustomerId),
        target_customer_email: r.get(5)?,
        details: r.get(6)?,
    })
}

const AUDIT_COLUMNS: &str = "log_id, timestamp, admin_username, action_type, target_customer_id, target_customer_email, details";

fn admin_session_from_row(r: &Row<'_>) -> rusqlite::Result<AdminSession> {
    Ok(AdminSession {
        session_id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        auth_method: r.get(3)?,
        ip_address: r.get(4)?,
        user_agent: r.get(5)?,
        created_at: read_ts(r, 6)?,
        last_seen: read_ts(r, 7)?,
    })
}

#[async_trait]
impl AdminSessionStore for SqliteStore {
    async fn begin_admin_session(
        &self,
        session: &AdminSession,
        audit: &NewAuditEntry,
    ) -> StoreResult<()> {
        let s = session.clone();
        let audit = audit.clone();
        self.with_conn("begin_admin_session", move |c| {
            let tx = c.transaction().map_err(backend)?;
            tx.execute(
                "INSERT INTO AdminSessions (session_id, username, display_name, auth_method, ip_address, user_agent, created_at, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![s.session_id, s.username, s.display_name, s.auth_method, s.ip_address, s.user_agent, ts(s.created_at), ts(s.last_seen)],
            )
            .map_err(backend)?;
            insert_audit(&tx, &audit).map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn admin_session(&self, session_id: &str) -> StoreResult<Option<AdminSession>> {
        let sid = session_id.to_owned();
        self.with_conn("admin_session", move |c| {
            c.query_row(
                "SELECT session_id, username, display_name, auth_method, ip_address, user_agent, created_at, last_seen
                 FROM AdminSessions WHERE session_id = ?1",
                [sid],
                admin_session_from_row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn touch_admin_session(&self, session_id: &str, at: OffsetDateTime) -> StoreResult<()> {
        let sid = session_id.to_owned();
        self.with_conn("touch_admin_session", move |c| {
            c.execute(
                "UPDATE AdminSessions SET last_seen = ?1 WHERE session_id = ?2",
                params![ts(at), sid],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn end_admin_session(
        &self,
        session_id: &str,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool> {
        let (sid, audit) = (session_id.to_owned(), audit.cloned());
        self.with_conn("end_admin_session", move |c| {
            delete_with_audit(
                c,
                "DELETE FROM AdminSessions WHERE session_id = ?1",
                &sid,
                audit.as_ref(),
            )
        })
        .await
    }

    async fn purge_admin_sessions_created_before(
        &self,
        cutoff: OffsetDateTime,
    ) -> StoreResult<u64> {
        self.with_conn("purge_admin_sessions", move |c| {
            c.execute(
                "DELETE FROM AdminSessions WHERE created_at < ?1",
                [ts(cutoff)],
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl LoginThrottleStore for SqliteStore {
    async fn record_login_failure(
        &self,
        login_name: &str,
        ip: Option<&str>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let (name, ip) = (login_name.to_owned(), ip.map(str::to_owned));
        self.with_conn("record_login_failure", move |c| {
            c.execute(
                "INSERT INTO LoginFailures (attempted_at, login_name, ip_address) VALUES (?1, ?2, ?3)",
                params![ts(at), name, ip],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn recent_login_failures(
        &self,
        login_name: &str,
        ip: Option<&str>,
        since: OffsetDateTime,
    ) -> StoreResult<(u64, u64)> {
        let (name, ip) = (login_name.to_owned(), ip.map(str::to_owned));
        self.with_conn("recent_login_failures", move |c| {
            c.query_row(
                "SELECT (SELECT COUNT(*) FROM LoginFailures WHERE login_name = ?1 AND attempted_at >= ?3),
                        (SELECT COUNT(*) FROM LoginFailures WHERE ?2 IS NOT NULL AND ip_address = ?2 AND attempted_at >= ?3)",
                params![name, ip, ts(since)],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(backend)
        })
        .await
    }

    async fn clear_login_failures(&self, login_name: &str) -> StoreResult<()> {
        let name = login_name.to_owned();
        self.with_conn("clear_login_failures", move |c| {
            c.execute("DELETE FROM LoginFailures WHERE login_name = ?1", [name])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn purge_login_failures_before(&self, cutoff: OffsetDateTime) -> StoreResult<u64> {
        self.with_conn("purge_login_failures", move |c| {
            c.execute(
                "DELETE FROM LoginFailures WHERE attempted_at < ?1",
                [ts(cutoff)],
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl WebSessionStore for SqliteStore {
    async fn create_web_session(&self, record: &WebSessionRecord) -> StoreResult<bool> {
        let r = record.clone();
        self.with_conn("create_web_session", move |c| {
            c.execute(
                "INSERT INTO WebSessions (id, data, expiry_date) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
                params![r.id, r.data, ts(r.expiry_date)],
            )
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }

    async fn save_web_session(&self, record: &WebSessionRecord) -> StoreResult<()> {
        let r = record.clone();
        self.with_conn("save_web_session", move |c| {
            c.execute(
                "INSERT INTO WebSessions (id, data, expiry_date) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expiry_date = excluded.expiry_date",
                params![r.id, r.data, ts(r.expiry_date)],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn load_web_session(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<WebSessionRecord>> {
        let id = id.to_owned();
        self.with_conn("load_web_session", move |c| {
            c.query_row(
                "SELECT id, data, expiry_date FROM WebSessions WHERE id = ?1 AND expiry_date > ?2",
                params![id, ts(now)],
                |r| {
                    Ok(WebSessionRecord {
                        id: r.get(0)?,
                        data: r.get(1)?,
                        expiry_date: read_ts(r, 2)?,
                    })
                },
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn delete_web_session(&self, id: &str) -> StoreResult<()> {
        let id = id.to_owned();
        self.with_conn("delete_web_session", move |c| {
            c.execute("DELETE FROM WebSessions WHERE id = ?1", [id])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn purge_expired_web_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
        self.with_conn("purge_web_sessions", move |c| {
            c.execute("DELETE FROM WebSessions WHERE expiry_date <= ?1", [ts(now)])
                .map(|n| n as u64)
                .map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_owned();
        self.with_conn("setting", move |c| {
            c.query_row(
                "SELECT setting_value FROM PortalSettings WHERE setting_key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn setting_insert_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.with_conn("setting_insert_if_absent", move |c| {
            c.execute(
                "INSERT INTO PortalSettings (setting_key, setting_value) VALUES (?1, ?2) ON CONFLICT (setting_key) DO NOTHING",
                params![key, value],
            )
            .map_err(backend)?;
            c.query_row("SELECT setting_value FROM PortalSettings WHERE setting_key = ?1", [key], |r| r.get(0))
                .map_err(backend)
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
            c.query_row("SELECT 1", [], |_| Ok(())).map_err(backend)
        })
        .await
    }
}
