//! Embedded migrations for the SQLite backend, applied in order at start-up.
//! `db/mssql/` carries the same version numbers for SQL Server.

use rusqlite::{Connection, params};
use time::OffsetDateTime;

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
