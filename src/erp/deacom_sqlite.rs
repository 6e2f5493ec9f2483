//! The demo Deacom database, opened read-only. It runs the docs/deacom.md query in SQLite SQL
//! (`db/deacom-demo/inventory.sqlite.sql`) with every scope name bound as a parameter.

use std::path::Path;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params_from_iter};

use super::{ErpError, ErpSource, InventoryRow, RowRef, RowSink, parse_erp_date};
use crate::domain::ErpScope;
use crate::sqlite_pool::{Mode, SqlitePool};

const INVENTORY_SQL: &str = include_str!("../../db/deacom-demo/inventory.sqlite.sql");
const SCOPE_MARK: &str = "/*SCOPE*/";
/// The query file's join that makes SQLite read every lot first (see the file).
const ALL_LOTS_FIRST: &str = "CROSS JOIN dmprod p";

/// Readers at once: the grid's reads are few and long (a whole scope), the rest short.
const POOL_SIZE: usize = 4;

#[derive(Clone, Debug)]
pub struct DeacomSqlite {
    pool: SqlitePool,
}

/// Read-only at two levels: the file is opened without write access, and the connection
/// refuses writes even if it could (`query_only`).
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.execute_batch("PRAGMA query_only = ON;")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// The query for a scope and the values to bind, in order. Names never enter the SQL text.
pub fn scoped_query(scope: &ErpScope) -> (String, Vec<String>) {
    match scope {
        ErpScope::All => (INVENTORY_SQL.replace(SCOPE_MARK, "1 = 1"), Vec::new()),
        ErpScope::Nothing => (INVENTORY_SQL.replace(SCOPE_MARK, "1 = 0"), Vec::new()),
        ErpScope::Customers(names) => {
            let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
            let predicate = format!("c.p1_name IN ({})", placeholders.join(", "));
            // A few customers' lots are best reached from their parts: the planner's
            // order (the query file forces lots first, for whole-ERP reads).
            let sql = INVENTORY_SQL
                .replace(SCOPE_MARK, &predicate)
                .replace(ALL_LOTS_FIRST, "JOIN dmprod p");
            (sql, names.clone())
        }
    }
}

impl DeacomSqlite {
    pub fn open(path: &Path) -> Result<DeacomSqlite, ErpError> {
        // Opened once now, so a missing or unreadable file is said at start-up.
        open_read_only(path).map_err(|e| ErpError::Unavailable(e.to_string()))?;
        let pool = SqlitePool::new(
            path,
            POOL_SIZE,
            Duration::from_secs(60),
            Mode::ReadOnly,
            open_read_only,
        )
        .map_err(|e| ErpError::Unavailable(e.to_string()))?;
        Ok(DeacomSqlite { pool })
    }

    async fn with_conn<T, F>(&self, op: &'static str, f: F) -> Result<T, ErpError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, ErpError> + Send + 'static,
    {
        let started = Instant::now();
        let result = self
            .pool
            .run(
                move |conn| f(conn),
                |r: &Result<T, ErpError>| !matches!(r, Err(ErpError::Unavailable(_))),
            )
            .await
            .unwrap_or_else(|e| Err(ErpError::Unavailable(e.to_string())));
        tracing::debug!(
            op,
            elapsed_ms = started.elapsed().as_millis() as u64,
            ok = result.is_ok(),
            "demo ERP query"
        );
        result
    }
}

/// One row of the inventory query, in its column order, borrowed from SQLite's answer
/// (no string is allocated per field).
fn decode_row<'r>(r: &'r rusqlite::Row<'_>) -> rusqlite::Result<RowRef<'r>> {
    let text = |i: usize| -> rusqlite::Result<&'r str> {
        match r.get_ref(i)? {
            ValueRef::Null => Ok(""),
            v => v.as_str().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e))
            }),
        }
    };
    let date = |i: usize| -> rusqlite::Result<Option<time::Date>> {
        Ok(match r.get_ref(i)? {
            ValueRef::Null => None,
            v => parse_erp_date(v.as_str().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e))
            })?),
        })
    };
    Ok(RowRef {
        customer: text(0)?,
        part: text(1)?,
        customer_part: "",
        description: text(2)?,
        on_hand_qty: r.get(3)?,
        unit: text(4)?,
        bin: text(5)?,
        reference: text(6)?,
        user_lot: text(7)?,
        exp_date: date(8)?,
        last_transaction_date: date(9)?,
        last_rec_date: date(10)?,
        po: text(11)?,
        status: text(12)?,
    })
}

fn query_err(e: rusqlite::Error) -> ErpError {
    ErpError::Query(e.to_string())
}

#[async_trait]
impl ErpSource for DeacomSqlite {
    fn name(&self) -> &'static str {
        "demo"
    }

    async fn inventory_rows(&self, scope: &ErpScope) -> Result<Vec<InventoryRow>, ErpError> {
        let (sql, binds) = scoped_query(scope);
        self.with_conn("inventory_rows", move |c| {
            let mut stmt = c.prepare(&sql).map_err(query_err)?;
            let rows = stmt
                .query_map(params_from_iter(binds.iter()), |r| {
                    decode_row(r).map(|r| r.to_row())
                })
                .map_err(query_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
                .map_err(query_err)
        })
        .await
    }

    async fn inventory_rows_each(
        &self,
        scope: &ErpScope,
        mut sink: RowSink,
    ) -> Result<(), ErpError> {
        let (sql, binds) = scoped_query(scope);
        self.with_conn("inventory_rows", move |c| {
            let mut stmt = c.prepare(&sql).map_err(query_err)?;
            let mut rows = stmt
                .query(params_from_iter(binds.iter()))
                .map_err(query_err)?;
            while let Some(r) = rows.next().map_err(query_err)? {
                sink(decode_row(r).map_err(query_err)?);
            }
            Ok(())
        })
        .await
    }

    async fn customer_names(&self) -> Result<Vec<String>, ErpError> {
        self.with_conn("customer_names", |c| {
            let mut stmt = c
                .prepare("SELECT DISTINCT p1_name FROM dmpr1 WHERE p1_name IS NOT NULL AND TRIM(p1_name) <> '' ORDER BY p1_name")
                .map_err(query_err)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(query_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(query_err)
        })
        .await
    }

    async fn ping(&self) -> Result<(), ErpError> {
        self.with_conn("ping", |c| {
            // One row through the tables and joins every inventory read needs.
            c.query_row(
                "SELECT f.fi_balance FROM dtfifo f JOIN dmprod p ON p.pr_id = f.fi_prid \
                 JOIN dmloc l ON l.lo_id = f.fi_loid LEFT JOIN dmpr1 c ON c.p1_id = p.pr_user5 LIMIT 1",
                [],
                |_| Ok(()),
            )
            .optional()
            .map(|_| ())
            .map_err(|e| ErpError::Unavailable(e.to_string()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_are_bound_never_interpolated() {
        let scope = ErpScope::parse("O'Malley Brewing|x') OR 1=1 --");
        let (sql, binds) = scoped_query(&scope);
        assert!(sql.contains("c.p1_name IN (?1, ?2)"));
        assert!(!sql.contains("O'Malley") && !sql.contains("OR 1=1"));
        assert_eq!(binds.len(), 2);
        assert!(scoped_query(&ErpScope::All).0.contains("AND 1 = 1"));
        assert!(scoped_query(&ErpScope::All).0.contains(ALL_LOTS_FIRST));
        assert!(!sql.contains(ALL_LOTS_FIRST) && sql.contains("JOIN dmprod p"));
        assert!(scoped_query(&ErpScope::Nothing).0.contains("AND 1 = 0"));
    }

    #[tokio::test]
    async fn writes_through_the_adapter_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deacom.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(include_str!("../../db/deacom-demo/sqlite.sql"))
            .unwrap();
        let erp = DeacomSqlite::open(&path).unwrap();
        for sql in [
            "INSERT INTO dmunit (un_id, un_name) VALUES (1, 'EA')",
            "UPDATE dmprod SET pr_descrip = 'x'",
            "DELETE FROM dtfifo",
            "CREATE TABLE evil (x INTEGER)",
        ] {
            let result = erp
                .with_conn("write attempt", move |c| {
                    c.execute(sql, []).map_err(query_err)
                })
                .await;
            let err = result.expect_err(sql).to_string();
            assert!(
                err.contains("readonly") || err.contains("read-only") || err.contains("query_only"),
                "{sql}: {err}"
            );
        }
        // Reading still works on the same pooled connection.
        assert!(erp.inventory_rows(&ErpScope::All).await.unwrap().is_empty());
    }
}
