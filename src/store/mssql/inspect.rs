//! The preflight's look at a SQL Server app database: nothing is written, nothing run.

use super::*;

/// The old portal's tables: an adopted database must have them.
const OLD_TABLES: [&str; 4] = [
    "Customers",
    "ActiveSessions",
    "AuditLog",
    "PasswordResetTokens",
];

/// Inspects the SQL Server app database without writing to it: the connection (TLS,
/// instance, timeouts), the tables and the size of every text column against what the
/// portal binds, and every statement described by the server (`sp_describe_first_result_set`)
/// without running it.
pub async fn inspect(c: &crate::config::SqlServerConfig) -> Vec<crate::checks::Finding> {
    use crate::checks::{Finding, Verdict};
    const AREA: &str = "app database (SQL Server)";
    let mut out = Vec::new();
    let where_ = match (&c.instance, c.port) {
        (Some(i), Some(p)) => format!("{}\\{i} on port {p} (no SQL Browser)", c.server),
        (Some(i), None) => format!("{}\\{i} (port from SQL Browser)", c.server),
        (None, p) => format!("{}:{}", c.server, p.unwrap_or(1433)),
    };
    let started = Instant::now();
    let mut conn = match mssql::connect_once(c, false).await {
        Ok(conn) => conn,
        Err(e) => {
            out.push(Finding::new(
                AREA,
                "connect",
                Verdict::NoGo,
                format!("{where_}, database {}: {e}", c.database),
            ));
            return out;
        }
    };
    out.push(Finding::new(
        AREA,
        "connect",
        Verdict::Go,
        format!(
            "{where_}, database {}, encryption {:?}{}, in {} ms (DB_TIMEOUT {} s)",
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
    let schema = match mssql::query_rows(
        &mut conn,
        c.timeout,
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CAST(COALESCE(CHARACTER_MAXIMUM_LENGTH, 0) AS INT) \
         FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'dbo'",
    )
    .await
    {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| {
                Some((
                    (r.get::<&str, _>(0)?.to_owned(), r.get::<&str, _>(1)?.to_owned()),
                    (r.get::<&str, _>(2)?.to_owned(), r.get::<i32, _>(3)?),
                ))
            })
            .collect::<std::collections::BTreeMap<_, _>>(),
        Err(e) => {
            out.push(Finding::new(AREA, "tables", Verdict::NoGo, e.to_string()));
            return out;
        }
    };
    let tables: std::collections::BTreeSet<&str> = schema.keys().map(|(t, _)| t.as_str()).collect();
    let missing_old: Vec<&str> = OLD_TABLES
        .iter()
        .copied()
        .filter(|t| !tables.contains(t))
        .collect();
    out.push(Finding::new(
        AREA,
        "the old portal's tables",
        if missing_old.is_empty() {
            Verdict::Go
        } else {
            Verdict::NoGo
        },
        if missing_old.is_empty() {
            "Customers, ActiveSessions, AuditLog, PasswordResetTokens".to_owned()
        } else {
            format!("missing: {}", missing_old.join(", "))
        },
    ));
    let applied = if tables.contains("SchemaMigrations") {
        mssql::query_rows(
            &mut conn,
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
    let mut too_small = Vec::new();
    let mut not_yet = std::collections::BTreeSet::new();
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
    let mut failed = Vec::new();
    let mut unsure = Vec::new();
    let all = sql::all_for_parsing();
    for (name, statement) in &all {
        match mssql::describe(&mut conn, c.timeout, statement).await {
            Ok(()) => {}
            // Invalid object or column name: the statement cannot run here.
            Err(e) if matches!(e.code(), Some(207 | 208)) => failed.push(format!("{name}: {e}")),
            Err(e) => unsure.push(format!("{name}: {e}")),
        }
    }
    out.push(Finding::new(
        AREA,
        "every statement described by the server, none run",
        match (failed.is_empty(), pending, unsure.is_empty()) {
            (true, _, true) => Verdict::Go,
            (false, false, _) => Verdict::NoGo,
            _ => Verdict::Warn,
        },
        if failed.is_empty() && unsure.is_empty() {
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
        },
    ));
    out
}
