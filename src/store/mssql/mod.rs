//! The app database on Microsoft SQL Server (the old portal's `CustomerPortalDB`), through
//! tiberius and a mobc pool. Same traits as the SQLite backend; only the dialect differs.
//! Every statement is in [`sql`], every value a bound parameter.
//!
//! Timestamps are written as UTC `DATETIME2` values and read from `DATETIME` or
//! `DATETIME2` columns as UTC.

mod features;
mod history;
mod inspect;
mod records;
mod resets;
mod sessions;
pub mod sql;
mod teams;
mod tokens;
mod two_factor;

pub use inspect::inspect;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use tiberius::{Query, Row, ToSql};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::*;
use crate::domain::Zone;
use crate::mssql::{self, MssqlError, Pool};

/// `(version, name, T-SQL)`; the same versions as `db/sqlite/`.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../../db/mssql/0001_initial.sql"),
    ),
    (2, "admin", include_str!("../../../db/mssql/0002_admin.sql")),
    (
        3,
        "login_throttle",
        include_str!("../../../db/mssql/0003_login_throttle.sql"),
    ),
    (
        4,
        "old_columns",
        include_str!("../../../db/mssql/0004_old_columns.sql"),
    ),
    (
        5,
        "api_tokens",
        include_str!("../../../db/mssql/0005_api_tokens.sql"),
    ),
    (
        6,
        "inventory_features",
        include_str!("../../../db/mssql/0006_inventory_features.sql"),
    ),
    (
        7,
        "attempts_in_flight",
        include_str!("../../../db/mssql/0007_attempts_in_flight.sql"),
    ),
    (
        8,
        "inventory_history",
        include_str!("../../../db/mssql/0008_inventory_history.sql"),
    ),
    (
        9,
        "two_factor",
        include_str!("../../../db/mssql/0009_two_factor.sql"),
    ),
    (
        10,
        "teams",
        include_str!("../../../db/mssql/0010_teams.sql"),
    ),
];

#[derive(Clone)]
pub struct MssqlStore {
    pool: Pool,
    timeout: Duration,
    /// The zone of the old portal's local-time columns (`APP_DB_TIME_ZONE`).
    zone: Zone,
}

impl std::fmt::Debug for MssqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MssqlStore")
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn err(e: MssqlError) -> StoreError {
    match e.code() {
        Some(2627) | Some(2601) => StoreError::DuplicateEmail,
        None => StoreError::Unavailable(e.to_string()),
        Some(_) => StoreError::Backend(e.to_string()),
    }
}

/// SQL Server's "chosen as deadlock victim" (1205): the batch's transaction was rolled
/// back whole, so running it again is safe.
fn deadlocked<T>(result: &Result<T, MssqlError>) -> bool {
    matches!(result, Err(e) if e.code() == Some(mssql::DEADLOCK_VICTIM))
}

fn tds(e: tiberius::error::Error) -> StoreError {
    err(MssqlError::Tds(e))
}

fn utc(t: OffsetDateTime) -> PrimitiveDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    PrimitiveDateTime::new(t.date(), t.time())
}

fn read_utc(row: &Row, idx: usize) -> StoreResult<Option<OffsetDateTime>> {
    row.try_get::<PrimitiveDateTime, _>(idx)
        .map(|v| v.map(PrimitiveDateTime::assume_utc))
        .map_err(tds)
}

/// A local-time column (`GETDATE()` wall clock in `zone`) as an instant.
fn read_local(row: &Row, idx: usize, zone: &Zone) -> StoreResult<Option<OffsetDateTime>> {
    row.try_get::<PrimitiveDateTime, _>(idx)
        .map(|v| v.map(|p| zone.instant(p)))
        .map_err(tds)
}

fn req_local(row: &Row, idx: usize, zone: &Zone) -> StoreResult<OffsetDateTime> {
    read_local(row, idx, zone)?.ok_or_else(|| StoreError::Backend(format!("column {idx} is NULL")))
}

fn req_utc(row: &Row, idx: usize) -> StoreResult<OffsetDateTime> {
    read_utc(row, idx)?.ok_or_else(|| StoreError::Backend(format!("column {idx} is NULL")))
}

fn text(row: &Row, idx: usize) -> StoreResult<Option<String>> {
    row.try_get::<&str, _>(idx)
        .map(|v| v.map(str::to_owned))
        .map_err(tds)
}

fn req_text(row: &Row, idx: usize) -> StoreResult<String> {
    text(row, idx)?.ok_or_else(|| StoreError::Backend(format!("column {idx} is NULL")))
}

fn int(row: &Row, idx: usize) -> StoreResult<i64> {
    // INT columns come back as i32, COUNT/CAST AS BIGINT as i64.
    if let Ok(Some(v)) = row.try_get::<i32, _>(idx) {
        return Ok(v as i64);
    }
    row.try_get::<i64, _>(idx)
        .map_err(tds)?
        .ok_or_else(|| StoreError::Backend(format!("column {idx} is NULL")))
}

fn opt_int(row: &Row, idx: usize) -> StoreResult<Option<i64>> {
    if let Ok(v) = row.try_get::<i32, _>(idx) {
        return Ok(v.map(i64::from));
    }
    row.try_get::<i64, _>(idx).map_err(tds)
}

fn bit(row: &Row, idx: usize) -> StoreResult<bool> {
    row.try_get::<bool, _>(idx)
        .map_err(tds)
        .map(|v| v.unwrap_or(false))
}

/// The nine customer columns starting at `at`.
fn customer(row: &Row, at: usize, zone: &Zone) -> StoreResult<Customer> {
    Ok(Customer {
        id: CustomerId(int(row, at)?),
        first_name: req_text(row, at + 1)?,
        last_name: text(row, at + 2)?.filter(|l| !l.is_empty()),
        email: req_text(row, at + 3)?,
        password_hash: req_text(row, at + 4)?,
        erp_customer_name: text(row, at + 5)?.unwrap_or_default(),
        is_active: bit(row, at + 6)?,
        last_login_date: read_local(row, at + 7, zone)?,
        must_reset_password: bit(row, at + 8)?,
        created_date: read_local(row, at + 9, zone)?,
    })
}

fn audit_entry(row: &Row, zone: &Zone) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: int(row, 0)?,
        timestamp: req_local(row, 1, zone)?,
        admin_username: req_text(row, 2)?,
        action_type: req_text(row, 3)?,
        target_customer_id: opt_int(row, 4)?.map(CustomerId),
        target_customer_email: text(row, 5)?,
        details: text(row, 6)?,
    })
}

fn active_session(row: &Row) -> StoreResult<ActiveSession> {
    Ok(ActiveSession {
        session_id: req_text(row, 0)?,
        customer_id: CustomerId(int(row, 1)?),
        last_seen: req_utc(row, 2)?,
        ip_address: text(row, 3)?,
        user_agent: text(row, 4)?,
        created_at: req_utc(row, 5)?,
    })
}

/// Owned parameters, so queries can be built and then bound in order.
#[derive(Debug, Clone)]
enum P {
    Text(Option<String>),
    Int(Option<i64>),
    Bit(bool),
    Time(PrimitiveDateTime),
    OptTime(Option<PrimitiveDateTime>),
    Float(f64),
    Date(time::Date),
}

impl P {
    fn as_sql(&self) -> &dyn ToSql {
        match self {
            P::Text(v) => v,
            P::Int(v) => v,
            P::Bit(v) => v,
            P::Time(v) => v,
            P::OptTime(v) => v,
            P::Float(v) => v,
            P::Date(v) => v,
        }
    }
}

fn t(s: impl Into<String>) -> P {
    P::Text(Some(s.into()))
}

fn audit_params(a: &NewAuditEntry, zone: &Zone) -> [P; 6] {
    [
        P::Time(zone.local(a.timestamp)),
        t(fits::AUDIT_ACTOR.cut(&a.admin_username)),
        t(fits::AUDIT_ACTION.cut(&a.action_type)),
        P::Int(a.target_customer_id.map(|c| c.0)),
        P::Text(fits::AUDIT_EMAIL.cut_opt(a.target_customer_email.as_deref())),
        P::Text(a.details.clone()),
    ]
}

impl MssqlStore {
    /// Connects the pool and applies pending migrations (adopting an existing database).
    pub async fn open(
        config: tiberius::Config,
        pool_size: u64,
        timeout: Duration,
        zone: Zone,
    ) -> StoreResult<MssqlStore> {
        let store = MssqlStore {
            pool: mssql::pool(config, pool_size, timeout),
            timeout,
            zone,
        };
        let applied = store.migrate().await?;
        if !applied.is_empty() {
            tracing::info!(?applied, "applied SQL Server app-database migrations");
        }
        Ok(store)
    }

    async fn conn(&self) -> StoreResult<mobc::Connection<mssql::TiberiusManager>> {
        mssql::connection(&self.pool).await.map_err(err)
    }

    fn query<'a>(sql: &'a str, params: &'a [P]) -> Query<'a> {
        let mut q = Query::new(sql);
        for p in params {
            q.bind(p.as_sql().to_sql());
        }
        q
    }

    /// Runs `sql` with `params` and returns every row of the first result set. A batch
    /// chosen as a deadlock victim (its transaction rolled back whole) runs once more.
    async fn rows(&self, op: &'static str, sql: &str, params: &[P]) -> StoreResult<Vec<Row>> {
        let started = Instant::now();
        let mut result =
            mssql::first_result(&self.pool, self.timeout, Self::query(sql, params)).await;
        if deadlocked(&result) {
            tracing::warn!(
                op,
                "SQL Server chose this batch as a deadlock victim: run again"
            );
            result = mssql::first_result(&self.pool, self.timeout, Self::query(sql, params)).await;
        }
        let result = result.map_err(err);
        tracing::trace!(
            op,
            elapsed_ms = started.elapsed().as_millis() as u64,
            ok = result.is_ok(),
            "mssql"
        );
        if let Err(e) = &result {
            tracing::warn!(op, error = %e, "SQL Server operation failed");
        }
        result
    }

    async fn exec(&self, op: &'static str, sql: &str, params: &[P]) -> StoreResult<u64> {
        let mut result = mssql::execute(&self.pool, self.timeout, Self::query(sql, params)).await;
        if deadlocked(&result) {
            tracing::warn!(
                op,
                "SQL Server chose this batch as a deadlock victim: run again"
            );
            result = mssql::execute(&self.pool, self.timeout, Self::query(sql, params)).await;
        }
        let result = result.map_err(err);
        if let Err(e) = &result {
            tracing::warn!(op, error = %e, "SQL Server operation failed");
        }
        result
    }

    async fn one<T>(
        &self,
        op: &'static str,
        sql: &str,
        params: &[P],
        f: impl Fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        self.rows(op, sql, params).await?.first().map(f).transpose()
    }

    async fn many<T>(
        &self,
        op: &'static str,
        sql: &str,
        params: &[P],
        f: impl Fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.rows(op, sql, params).await?.iter().map(f).collect()
    }

    /// Applies every migration not yet recorded, each in one transaction with its record.
    pub async fn migrate(&self) -> StoreResult<Vec<i64>> {
        self.exec("migrations_table", sql::MIGRATIONS_TABLE, &[])
            .await?;
        let mut applied = Vec::new();
        for (version, name, script) in MIGRATIONS {
            let done = self
                .one(
                    "migration_done",
                    sql::MIGRATION_DONE,
                    &[P::Int(Some(*version))],
                    |r| int(r, 0),
                )
                .await?;
            if done.unwrap_or(0) > 0 {
                continue;
            }
            let mut conn = self.conn().await?;
            conn.simple_query("SET XACT_ABORT ON; BEGIN TRANSACTION;")
                .await
                .map_err(tds)?
                .into_results()
                .await
                .map_err(tds)?;
            for batch in split_batches(script) {
                conn.simple_query(batch)
                    .await
                    .map_err(tds)?
                    .into_results()
                    .await
                    .map_err(tds)?;
            }
            let mut q = Query::new(sql::MIGRATION_RECORD);
            q.bind(*version as i32);
            q.bind(*name);
            let now = P::Time(utc(OffsetDateTime::now_utc()));
            q.bind(now.as_sql().to_sql());
            q.execute(&mut conn).await.map_err(tds)?;
            conn.simple_query("COMMIT TRANSACTION;")
                .await
                .map_err(tds)?
                .into_results()
                .await
                .map_err(tds)?;
            applied.push(*version);
        }
        Ok(applied)
    }
}

/// Splits a script on lines that hold only `GO` (the client-side batch separator).
pub fn split_batches(script: &str) -> Vec<String> {
    // A batch of nothing but comments and blank lines is not sent.
    fn has_code(batch: &str) -> bool {
        batch
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--"))
    }
    let mut batches = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        if line.trim().eq_ignore_ascii_case("go") {
            if has_code(&current) {
                batches.push(std::mem::take(&mut current));
            }
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    if has_code(&current) {
        batches.push(current);
    }
    batches
}

#[async_trait]
impl CustomerStore for MssqlStore {
    async fn customer_by_email(&self, email: &Email) -> StoreResult<Option<Customer>> {
        self.one(
            "customer_by_email",
            sql::CUSTOMER_BY_EMAIL,
            &[t(email.as_str())],
            |r| customer(r, 0, &self.zone),
        )
        .await
    }

    async fn customer_by_id(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        self.one(
            "customer_by_id",
            sql::CUSTOMER_BY_ID,
            &[P::Int(Some(id.0))],
            |r| customer(r, 0, &self.zone),
        )
        .await
    }

    async fn insert_customer(
        &self,
        new: &NewCustomer,
        audit: &NewAuditEntry,
    ) -> StoreResult<Customer> {
        let mut params = vec![
            t(&new.first_name),
            // The old portal's column is NOT NULL: no last name is ''.
            t(new.last_name.clone().unwrap_or_default()),
            t(new.email.as_str()),
            t(&new.password_hash),
            t(&new.erp_customer_name),
            P::Bit(new.must_reset_password),
        ];
        let [ts, admin, action, _, email, details] = audit_params(audit, &self.zone);
        params.extend([ts, admin, action, email, details]);
        self.one("insert_customer", sql::INSERT_CUSTOMER, &params, |r| {
            customer(r, 0, &self.zone)
        })
        .await?
        .ok_or_else(|| StoreError::Backend("insert returned no row".into()))
    }

    async fn count_customers_by_status(&self) -> StoreResult<(u64, u64)> {
        Ok(self
            .one("count_by_status", sql::COUNT_BY_STATUS, &[], |r| {
                Ok((int(r, 0)? as u64, int(r, 1)? as u64))
            })
            .await?
            .unwrap_or((0, 0)))
    }

    async fn list_customers(
        &self,
        status: StatusFilter,
        search: Option<&str>,
    ) -> StoreResult<Vec<Customer>> {
        let active = match status {
            StatusFilter::Active => Some(1),
            StatusFilter::Inactive => Some(0),
            StatusFilter::All => None,
        };
        let pattern = search
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{}%", mssql::like_escape(&s.to_lowercase())));
        self.many(
            "list_customers",
            sql::LIST_CUSTOMERS,
            &[P::Int(active), P::Text(pattern)],
            |r| customer(r, 0, &self.zone),
        )
        .await
    }

    async fn customers_by_ids(&self, ids: &[CustomerId]) -> StoreResult<Vec<Customer>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // SQL Server takes at most 2,100 parameters per request.
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let query =
                sql::CUSTOMERS_BY_IDS.replace("{ids}", &mssql::placeholders(1, chunk.len()));
            let params: Vec<P> = chunk.iter().map(|i| P::Int(Some(i.0))).collect();
            out.extend(
                self.many("customers_by_ids", &query, &params, |r| {
                    customer(r, 0, &self.zone)
                })
                .await?,
            );
        }
        Ok(out)
    }

    async fn update_customer(
        &self,
        id: CustomerId,
        changes: &CustomerChanges,
        end_sessions: bool,
        audits: &[NewAuditEntry],
    ) -> StoreResult<Customer> {
        let mut params = vec![
            t(&changes.first_name),
            t(changes.last_name.clone().unwrap_or_default()),
            t(changes.email.as_str()),
            t(&changes.erp_customer_name),
            P::Bit(changes.is_active),
            P::Int(Some(id.0)),
            P::Bit(end_sessions),
        ];
        let mut inserts = String::new();
        for a in audits {
            let first = params.len() + 1;
            inserts.push_str(&audit_insert(first));
            inserts.push('\n');
            params.extend(audit_params(a, &self.zone));
        }
        let audits_block = if inserts.is_empty() {
            String::new()
        } else {
            format!("IF @n > 0\nBEGIN\n{inserts}END;")
        };
        let query = sql::UPDATE_CUSTOMER.replace("{audits}", &audits_block);
        self.one("update_customer", &query, &params, |r| {
            customer(r, 0, &self.zone)
        })
        .await?
        .ok_or(StoreError::NotFound)
    }

    async fn upgrade_password_hash(&self, id: CustomerId, password_hash: &str) -> StoreResult<()> {
        self.exec(
            "upgrade_password_hash",
            sql::UPGRADE_PASSWORD_HASH,
            &[t(password_hash), P::Int(Some(id.0))],
        )
        .await
        .map(|_| ())
    }

    async fn change_password(
        &self,
        id: CustomerId,
        password_hash: &str,
        must_reset_password: bool,
        keep_session: Option<&str>,
        audit: &NewAuditEntry,
    ) -> StoreResult<()> {
        let mut params = vec![
            t(password_hash),
            P::Bit(must_reset_password),
            P::Int(Some(id.0)),
            P::Text(keep_session.map(str::to_owned)),
        ];
        params.extend(audit_params(audit, &self.zone));
        let changed = self
            .one("change_password", sql::CHANGE_PASSWORD, &params, |r| {
                Ok(r.get::<i32, _>(0).unwrap_or(0))
            })
            .await?
            .unwrap_or(0);
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// An audit insert whose six parameters start at `@P{first}`.
pub fn audit_insert(first: usize) -> String {
    sql::AUDIT_INSERT_TEMPLATE
        .replace("{a}", &first.to_string())
        .replace("{b}", &(first + 1).to_string())
        .replace("{c}", &(first + 2).to_string())
        .replace("{d}", &(first + 3).to_string())
        .replace("{e}", &(first + 4).to_string())
        .replace("{f}", &(first + 5).to_string())
}

/// Bound but unused when a batch writes no audit row (parameters must still exist).
fn placeholder_audit() -> NewAuditEntry {
    NewAuditEntry {
        timestamp: OffsetDateTime::UNIX_EPOCH,
        admin_username: String::new(),
        action_type: String::new(),
        target_customer_id: None,
        target_customer_email: None,
        details: None,
    }
}

#[async_trait]
impl AppStore for MssqlStore {
    fn backend_name(&self) -> &'static str {
        "mssql"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.one("ping", sql::PING, &[], |r| int(r, 0))
            .await
            .map(|_| ())
    }

    async fn pool_usage(&self) -> PoolUsage {
        let state = self.pool.state().await;
        PoolUsage {
            in_use: state.in_use,
            max: state.max_open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_split_on_go_lines_only() {
        let script = "CREATE TABLE a (x INT);\nGO\n-- only a comment\nGO\nSELECT 'GO';\n  go  \n";
        let b = split_batches(script);
        assert_eq!(b.len(), 2, "{b:?}");
        assert!(b[1].contains("SELECT 'GO'"));
        for (_, _, m) in MIGRATIONS {
            assert!(!split_batches(m).is_empty());
        }
    }

    #[test]
    fn audit_paging_binds_the_key_and_size_after_the_filters() {
        assert!(sql::AUDIT_PAGE.contains("SELECT TOP (@P6)"));
        assert!(sql::AUDIT_PAGE.contains("(@P5 IS NULL OR log_id < @P5)"));
        assert!(sql::AUDIT_COUNT.contains("@P4") && !sql::AUDIT_COUNT.contains("@P5"));
        let ids = sql::CUSTOMERS_BY_IDS.replace("{ids}", &mssql::placeholders(1, 3));
        assert!(ids.ends_with("IN (@P1, @P2, @P3)"));
    }

    #[test]
    fn audit_inserts_number_their_parameters() {
        let s = audit_insert(8);
        assert!(s.contains("@P8, @P9, @P10, @P11, @P12, @P13"), "{s}");
        assert!(!s.contains("{"));
    }

    #[test]
    fn update_batches_number_every_audit_after_the_changes() {
        // Seven change parameters, then six per audit row.
        let two = format!("{}\n{}", audit_insert(8), audit_insert(14));
        let q = sql::UPDATE_CUSTOMER.replace("{audits}", &two);
        assert!(q.contains("@P13)") && q.contains("@P14,") && q.contains("@P19)"));
    }
}
