//! The preflight's look at a SQL Server app database: nothing is written, nothing run.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::checks::{Finding, Verdict};
use crate::config::SqlServerConfig;

/// The old portal's tables: an adopted database must have them.
const OLD_TABLES: [&str; 4] = [
    "Customers",
    "ActiveSessions",
    "AuditLog",
    "PasswordResetTokens",
];

const AREA: &str = "app database (SQL Server)";

/// Every `dbo` column: (table, column) → (type, characters; -1 for MAX, 0 for non-text).
type Columns = BTreeMap<(String, String), (String, i32)>;

/// Inspects the SQL Server app database without writing to it: the connection (TLS,
/// instance, timeouts), the tables and the size of every text column against what the
/// portal binds, and every statement described by the server (`sp_describe_first_result_set`)
/// without running it.
pub async fn inspect(c: &SqlServerConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(mut conn) = connect(c, &mut out).await else {
        return out;
    };
    let schema = match columns(&mut conn, c).await {
        Ok(schema) => schema,
        Err(e) => {
            out.push(Finding::new(AREA, "tables", Verdict::NoGo, e.to_string()));
            return out;
        }
    };
    out.push(old_tables(&schema));
    let pending = migrations(&mut conn, c, &schema, &mut out).await;
    sizes(&schema, &mut out);
    out.push(statements(&mut conn, c, pending).await);
    out
}

/// Where the server is, as the settings name it.
fn place(c: &SqlServerConfig) -> String {
    match (&c.instance, c.port) {
        (Some(i), Some(p)) => format!("{}\\{i} on port {p} (no SQL Browser)", c.server),
        (Some(i), None) => format!("{}\\{i} (port from SQL Browser)", c.server),
        (None, p) => format!("{}:{}", c.server, p.unwrap_or(1433)),
    }
}

async fn connect(c: &SqlServerConfig, out: &mut Vec<Finding>) -> Option<mssql::Connection> {
    let started = Instant::now();
    match mssql::connect_once(c, false).await {
        Ok(conn) => {
            out.push(Finding::new(
                AREA,
                "connect",
                Verdict::Go,
                format!(
                    "{}, database {}, encryption {:?}{}, in {} ms (DB_TIMEOUT {} s)",
                    place(c),
                    c.database,
                    c.encryption,
                    if c.trust_server_certificate {
                        ", certificate trusted unchecked"
                    } else {
                        ""
                    },
                    started.elapsed().as_millis(),
                    c.timeout.as_secs()
                ),
            ));
            Some(conn)
        }
        Err(e) => {
            out.push(Finding::new(
                AREA,
                "connect",
                Verdict::NoGo,
                format!("{}, database {}: {e}", place(c), c.database),
            ));
            None
        }
    }
}

async fn columns(conn: &mut mssql::Connection, c: &SqlServerConfig) -> Result<Columns, MssqlError> {
    let rows = mssql::query_rows(
        conn,
        c.timeout,
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CAST(COALESCE(CHARACTER_MAXIMUM_LENGTH, 0) AS INT) \
         FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'dbo'",
    )
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((
                (
                    r.get::<&str, _>(0)?.to_owned(),
                    r.get::<&str, _>(1)?.to_owned(),
                ),
                (r.get::<&str, _>(2)?.to_owned(), r.get::<i32, _>(3)?),
            ))
        })
        .collect())
}

fn tables(schema: &Columns) -> BTreeSet<&str> {
    schema.keys().map(|(t, _)| t.as_str()).collect()
}

fn old_tables(schema: &Columns) -> Finding {
    let tables = tables(schema);
    let missing: Vec<&str> = OLD_TABLES
        .iter()
        .copied()
        .filter(|t| !tables.contains(t))
        .collect();
    Finding::new(
        AREA,
        "the old portal's tables",
        if missing.is_empty() {
            Verdict::Go
        } else {
            Verdict::NoGo
        },
        if missing.is_empty() {
            "Customers, ActiveSessions, AuditLog, PasswordResetTokens".to_owned()
        } else {
            format!("missing: {}", missing.join(", "))
        },
    )
}

/// Says which migrations the first start will apply; whether any are pending.
async fn migrations(
    conn: &mut mssql::Connection,
    c: &SqlServerConfig,
    schema: &Columns,
    out: &mut Vec<Finding>,
) -> bool {
    let applied = if tables(schema).contains("SchemaMigrations") {
        mssql::query_rows(
            conn,
            c.timeout,
            "SELECT COALESCE(MAX(version), 0) FROM dbo.SchemaMigrations",
        )
        .await
        .ok()
        .and_then(|r| r.first().and_then(|r| r.get::<i32, _>(0)))
        .unwrap_or(0) as i64
    } else {
        0
    };
    let latest = MIGRATIONS.last().map_or(0, |m| m.0);
    let pending = applied < latest;
    out.push(Finding::new(
        AREA,
        "migrations",
        if pending { Verdict::Warn } else { Verdict::Go },
        if pending {
            format!("at version {applied}; the first start applies up to {latest}: new tables and columns only, the old ones are left as they are")
        } else {
            format!("at version {applied}, this version's")
        },
    ));
    pending
}

/// Every value the portal binds against its column's size, and the tables not there yet.
fn sizes(schema: &Columns, out: &mut Vec<Finding>) {
    let mut too_small = Vec::new();
    let mut not_yet = BTreeSet::new();
    for f in fits::ALL {
        match schema.get(&(f.table.to_owned(), f.column.to_owned())) {
            None => {
                not_yet.insert(f.table);
            }
            // -1: NVARCHAR(MAX).
            Some((_, size)) if *size >= 0 && (*size as usize) < f.chars => too_small.push(format!(
                "{}.{} holds {size}, the portal writes up to {}",
                f.table, f.column, f.chars
            )),
            Some(_) => {}
        }
    }
    out.push(Finding::new(
        AREA,
        "column sizes against every value the portal binds",
        if too_small.is_empty() {
            Verdict::Go
        } else {
            Verdict::NoGo
        },
        if too_small.is_empty() {
            format!("{} columns checked", fits::ALL.len())
        } else {
            too_small.join("; ")
        },
    ));
    if !not_yet.is_empty() {
        out.push(Finding::new(
            AREA,
            "tables created at the first start",
            if OLD_TABLES.iter().any(|t| not_yet.contains(t)) {
                Verdict::NoGo
            } else {
                Verdict::Warn
            },
            not_yet.into_iter().collect::<Vec<_>>().join(", "),
        ));
    }
}

/// Every statement of the catalog described by the server, none run.
async fn statements(conn: &mut mssql::Connection, c: &SqlServerConfig, pending: bool) -> Finding {
    let mut failed = Vec::new();
    let mut unsure = Vec::new();
    let all = sql::all_for_parsing();
    for (name, statement) in &all {
        match mssql::describe(conn, c.timeout, statement).await {
            Ok(()) => {}
            // Invalid object or column name: the statement cannot run here.
            Err(e) if matches!(e.code(), Some(207 | 208)) => failed.push(format!("{name}: {e}")),
            Err(e) => unsure.push(format!("{name}: {e}")),
        }
    }
    let verdict = match (failed.is_empty(), pending, unsure.is_empty()) {
        (true, _, true) => Verdict::Go,
        (false, false, _) => Verdict::NoGo,
        _ => Verdict::Warn,
    };
    let detail = if failed.is_empty() && unsure.is_empty() {
        format!("{} statements", all.len())
    } else {
        format!(
            "{} of {} fail{}: {}",
            failed.len() + unsure.len(),
            all.len(),
            if pending {
                " (some use tables the first start creates)"
            } else {
                ""
            },
            failed
                .iter()
                .chain(&unsure)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    Finding::new(
        AREA,
        "every statement described by the server, none run",
        verdict,
        detail,
    )
}
