//! Embedded migrations for the SQLite backend, applied in order at start-up.
//! `db/mssql/` carries the same version numbers for SQL Server.

use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use crate::domain::Zone;
use crate::store::{format_local, parse_ts};

/// (version, name, SQL). Append only: an applied migration is never edited.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../../db/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "admin",
        include_str!("../../../db/sqlite/0002_admin.sql"),
    ),
    (
        3,
        "login_throttle",
        include_str!("../../../db/sqlite/0003_login_throttle.sql"),
    ),
    (
        4,
        "old_columns",
        include_str!("../../../db/sqlite/0004_old_columns.sql"),
    ),
    (
        5,
        "api_tokens",
        include_str!("../../../db/sqlite/0005_api_tokens.sql"),
    ),
    (
        6,
        "inventory_features",
        include_str!("../../../db/sqlite/0006_inventory_features.sql"),
    ),
    (
        7,
        "attempts_in_flight",
        include_str!("../../../db/sqlite/0007_attempts_in_flight.sql"),
    ),
    (
        8,
        "inventory_history",
        include_str!("../../../db/sqlite/0008_inventory_history.sql"),
    ),
    (
        9,
        "two_factor",
        include_str!("../../../db/sqlite/0009_two_factor.sql"),
    ),
    (
        10,
        "teams",
        include_str!("../../../db/sqlite/0010_teams.sql"),
    ),
];

/// Applies every migration not yet recorded in `SchemaMigrations`; returns the versions applied.
pub fn apply(conn: &mut Connection) -> rusqlite::Result<Vec<i64>> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS SchemaMigrations (
             version     INTEGER PRIMARY KEY,
             name        TEXT NOT NULL,
             applied_at  TEXT NOT NULL
         );",
    )?;
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        let tx = conn.transaction()?;
        let done: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM SchemaMigrations WHERE version = ?1)",
            [version],
            |r| r.get(0),
        )?;
        if done {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO SchemaMigrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, super::format_ts(OffsetDateTime::now_utc())],
        )?;
        tx.commit()?;
        applied.push(*version);
    }
    Ok(applied)
}

/// Rows per batch when rewriting old values, so memory stays bounded on a large log.
const BATCH: i64 = 1000;

/// Earlier versions wrote the old portal's local-time columns as UTC (`…Z`). Rewrites such
/// values as wall-clock times in `zone`, the rule every other value in them follows, so
/// they sort and compare with the rest. Idempotent: a second run finds nothing to do.
/// Returns how many values were rewritten.
pub fn utc_to_local(conn: &mut Connection, zone: &Zone) -> rusqlite::Result<usize> {
    let mut moved = 0;
    for (table, key, column) in [
        ("AuditLog", "log_id", "timestamp"),
        ("Customers", "customer_id", "created_date"),
        ("Customers", "customer_id", "last_login_date"),
    ] {
        // With AUDIT_APPEND_ONLY on, the trigger refusing updates is lifted and restored
        // inside each batch's transaction: the instants do not change, only how they are
        // written, and no other writer can slip in between.
        let guard: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1 AND name LIKE '%no_update'",
                [table],
                |r| r.get(0),
            )
            .optional()?;
        let mut after = i64::MIN;
        loop {
            let tx = conn.transaction()?;
            if guard.is_some() {
                tx.execute_batch("DROP TRIGGER IF EXISTS AuditLog_no_update")?;
            }
            let batch: Vec<(i64, String)> = {
                let mut stmt = tx.prepare(&format!(
                    "SELECT {key}, {column} FROM {table} WHERE {column} LIKE '%Z' AND {key} > ?1 \
                     ORDER BY {key} LIMIT ?2"
                ))?;
                let rows = stmt.query_map(params![after, BATCH], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let Some((last, _)) = batch.last() else {
                if let Some(sql) = &guard {
                    tx.execute_batch(sql)?;
                }
                tx.commit()?;
                break;
            };
            after = *last;
            for (id, value) in &batch {
                // A value that does not parse is left as it is rather than guessed at.
                if let Some(t) = parse_ts(value) {
                    tx.execute(
                        &format!("UPDATE {table} SET {column} = ?1 WHERE {key} = ?2"),
                        params![format_local(t, zone), id],
                    )?;
                    moved += 1;
                }
            }
            if let Some(sql) = &guard {
                tx.execute_batch(sql)?;
            }
            tx.commit()?;
        }
    }
    Ok(moved)
}
