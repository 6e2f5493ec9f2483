//! The preflight's look at a SQLite app database: opened read-only, nothing run.

use super::*;

/// Inspects the SQLite app database at `path` without writing to it (opened read-only):
/// its integrity, whether its tables and columns are this version's, and whether every
/// statement of the store prepares against it (`EXPLAIN`).
pub fn inspect(path: &Path) -> Vec<crate::checks::Finding> {
    use crate::checks::{Finding, Verdict};
    const AREA: &str = "app database (SQLite)";
    let mut out = Vec::new();
    if !path.exists() {
        out.push(Finding::new(
            AREA,
            "file",
            Verdict::Warn,
            format!(
                "{} does not exist yet: it is created at the first start",
                path.display()
            ),
        ));
        return out;
    }
    let conn = match Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(c) => c,
        Err(e) => {
            out.push(Finding::new(
                AREA,
                "open read-only",
                Verdict::NoGo,
                e.to_string(),
            ));
            return out;
        }
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    let integrity: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .unwrap_or_else(|e| e.to_string());
    out.push(Finding::new(
        AREA,
        "integrity (PRAGMA quick_check)",
        if integrity == "ok" {
            Verdict::Go
        } else {
            Verdict::NoGo
        },
        format!("{} — {integrity}", path.display()),
    ));
    // What this version expects: its migrations applied to an empty database.
    let mut expected = match Connection::open_in_memory() {
        Ok(c) => c,
        Err(e) => {
            out.push(Finding::new(AREA, "schema", Verdict::NoGo, e.to_string()));
            return out;
        }
    };
    if let Err(e) = migrations::apply(&mut expected) {
        out.push(Finding::new(AREA, "schema", Verdict::NoGo, e.to_string()));
        return out;
    }
    let latest = migrations::MIGRATIONS.last().map_or(0, |m| m.0);
    let applied: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM SchemaMigrations",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    let pending = applied < latest;
    out.push(Finding::new(
        AREA,
        "migrations",
        if pending { Verdict::Warn } else { Verdict::Go },
        if pending {
            format!("at version {applied}; the first start applies up to {latest} (new tables and columns only)")
        } else {
            format!("at version {applied}, this version's")
        },
    ));
    let differences = schema_differences(&expected, &conn);
    out.push(Finding::new(
        AREA,
        "tables and columns",
        match (differences.is_empty(), pending) {
            (true, _) => Verdict::Go,
            (false, true) => Verdict::Warn,
            (false, false) => Verdict::NoGo,
        },
        if differences.is_empty() {
            "every table and column this version uses, with its type".to_owned()
        } else {
            differences.join("; ")
        },
    ));
    out.push(statements(&conn, pending));
    out
}

/// Tables and columns (name, declared type) of `expected` that `actual` lacks or types
/// otherwise.
fn schema_differences(expected: &Connection, actual: &Connection) -> Vec<String> {
    let columns = |c: &Connection| -> std::collections::BTreeMap<String, Vec<(String, String)>> {
        let mut out = std::collections::BTreeMap::new();
        let tables: Vec<String> = c
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .unwrap_or_default();
        for t in tables {
            let cols: Vec<(String, String)> = c
                .prepare(&format!("PRAGMA table_info(\"{t}\")"))
                .and_then(|mut s| {
                    s.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?
                        .collect()
                })
                .unwrap_or_default();
            out.insert(t, cols);
        }
        out
    };
    let (want, have) = (columns(expected), columns(actual));
    let mut out = Vec::new();
    for (table, cols) in &want {
        let Some(present) = have.get(table) else {
            out.push(format!("table {table} is missing"));
            continue;
        };
        for (name, ty) in cols {
            match present.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                None => out.push(format!("{table}.{name} is missing")),
                Some((_, t)) if !t.eq_ignore_ascii_case(ty) => {
                    out.push(format!("{table}.{name} is {t}, not {ty}"))
                }
                Some(_) => {}
            }
        }
    }
    out
}

/// Every statement of the catalog prepared against the database (`EXPLAIN`), none run.
fn statements(conn: &Connection, pending: bool) -> crate::checks::Finding {
    use crate::checks::{Finding, Verdict};
    const AREA: &str = "app database (SQLite)";
    let mut failed = Vec::new();
    let all = sql::all_for_parsing();
    for (name, statement) in &all {
        if let Err(e) = conn.prepare(&format!("EXPLAIN {statement}")) {
            failed.push(format!("{name}: {e}"));
        }
    }
    Finding::new(
        AREA,
        "every statement prepared (EXPLAIN), none run",
        match (failed.is_empty(), pending) {
            (true, _) => Verdict::Go,
            (false, true) => Verdict::Warn,
            (false, false) => Verdict::NoGo,
        },
        if failed.is_empty() {
            format!("{} statements", all.len())
        } else {
            format!(
                "{} of {} fail: {}",
                failed.len(),
                all.len(),
                failed.join("; ")
            )
        },
    )
}
