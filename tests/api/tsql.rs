//! T-SQL checked here, without a SQL Server: the migrations and every statement of the SQL
//! Server code parse with a real T-SQL parser (sqlfluff, `tsql` dialect), both migration
//! folders list the same versions, and the migrations only ever add to the tables the
//! old portal created.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn versions(dir: &str) -> BTreeSet<u32> {
    std::fs::read_dir(root().join(dir))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .map(|n| {
            n.split('_')
                .next()
                .unwrap()
                .parse::<u32>()
                .unwrap_or_else(|_| panic!("{dir}/{n}: no version prefix"))
        })
        .collect()
}

#[test]
fn both_migration_folders_list_the_same_versions() {
    let sqlite = versions("db/sqlite");
    let mssql = versions("db/mssql");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, mssql,
        "db/sqlite and db/mssql must hold the same migration versions"
    );
    let embedded: BTreeSet<u32> = customer_portal::store::mssql::MIGRATIONS
        .iter()
        .map(|(v, _, _)| *v as u32)
        .collect();
    assert_eq!(
        embedded, mssql,
        "every db/mssql file is embedded in the SQL Server backend"
    );
}

fn sqlfluff() -> Option<PathBuf> {
    let found = Command::new("sqlfluff")
        .arg("version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("sqlfluff"));
    crate::helpers::require_tool(
        found,
        "T-SQL parse test: sqlfluff is not installed (pip install sqlfluff; .ci/run does this)",
        crate::helpers::under_ci(),
    )
}

/// sqlfluff's parse trees, one per file (parsed together: sqlfluff takes one folder).
fn parse(files: &[PathBuf]) -> Vec<(String, Value)> {
    let dir = tempfile::tempdir().unwrap();
    for (i, f) in files.iter().enumerate() {
        let name = format!("{i:03}_{}", f.file_name().unwrap().to_string_lossy());
        std::fs::copy(f, dir.path().join(name)).unwrap();
    }
    let out = Command::new("sqlfluff")
        .args(["parse", "--dialect", "tsql", "--format", "json", "--nofail"])
        .arg(dir.path())
        .output()
        .expect("sqlfluff runs");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "sqlfluff output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    json.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["filepath"].as_str().unwrap_or("").to_owned(),
                f["segments"].clone(),
            )
        })
        .collect()
}

/// Every node as (ancestor types, type, node).
fn nodes<'a>(
    v: &'a Value,
    ancestors: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, String, &'a Value)>,
) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                out.push((ancestors.clone(), k.clone(), child));
                ancestors.push(k.clone());
                nodes(child, ancestors, out);
                ancestors.pop();
            }
        }
        Value::Array(items) => items.iter().for_each(|i| nodes(i, ancestors, out)),
        _ => {}
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m.values().map(text).collect(),
        Value::Array(a) => a.iter().map(text).collect(),
        _ => String::new(),
    }
}

fn table_names(v: &Value) -> Vec<String> {
    let mut all = Vec::new();
    nodes(v, &mut Vec::new(), &mut all);
    all.iter()
        .filter(|(_, t, _)| t == "table_reference")
        .map(|(_, _, n)| normalise(&text(n)))
        .collect()
}

fn normalise(name: &str) -> String {
    let n = name.replace(['[', ']'], "");
    n.rsplit('.').next().unwrap_or(&n).trim().to_lowercase()
}

fn write_queries(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let all = customer_portal::store::mssql::sql::all_for_parsing()
        .into_iter()
        .map(|(n, q)| (format!("store_{n}"), q))
        .chain(
            customer_portal::erp::deacom_mssql::all_for_parsing()
                .into_iter()
                .map(|(n, q)| (format!("erp_{n}"), q)),
        );
    for (name, sql) in all {
        let path = dir.join(format!("{name}.sql"));
        std::fs::write(&path, format!("{sql}\n")).unwrap();
        files.push(path);
    }
    files
}

#[test]
fn every_tsql_statement_parses() {
    if sqlfluff().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = write_queries(dir.path());
    for f in [
        "db/mssql/0001_initial.sql",
        "db/mssql/0002_admin.sql",
        "db/deacom-demo/mssql.sql",
        "tests/fixtures/old-portal-schema.sql",
    ] {
        files.push(root().join(f));
    }
    let parsed = parse(&files);
    assert_eq!(parsed.len(), files.len(), "sqlfluff skipped files");
    let mut failures = Vec::new();
    for (file, tree) in &parsed {
        let mut all = Vec::new();
        nodes(tree, &mut Vec::new(), &mut all);
        if tree.is_null() || all.iter().any(|(_, t, _)| t == "unparsable") {
            failures.push(file.clone());
        }
        assert!(
            all.iter().any(|(_, t, _)| t.ends_with("_statement")),
            "{file}: no statement found"
        );
    }
    assert!(
        failures.is_empty(),
        "T-SQL that does not parse: {failures:#?}"
    );
}

#[test]
fn migrations_only_add_to_the_old_portals_tables() {
    if sqlfluff().is_none() {
        return;
    }
    let old = parse(&[root().join("tests/fixtures/old-portal-schema.sql")]);
    let mut old_nodes = Vec::new();
    nodes(&old[0].1, &mut Vec::new(), &mut old_nodes);
    let existing: BTreeSet<String> = old_nodes
        .iter()
        .filter(|(_, t, _)| t == "create_table_statement")
        .filter_map(|(_, _, n)| table_names(n).into_iter().next())
        .collect();
    assert_eq!(
        existing,
        [
            "activesessions",
            "auditlog",
            "customers",
            "passwordresettokens"
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        "the fixture holds the old portal's four tables"
    );

    let files: Vec<PathBuf> = [
        "db/mssql/0001_initial.sql",
        "db/mssql/0002_admin.sql",
        "db/mssql/0003_login_throttle.sql",
        "db/mssql/0004_old_columns.sql",
    ]
    .iter()
    .map(|f| root().join(f))
    .collect();
    let mut checked = 0;
    for (file, tree) in parse(&files) {
        let mut all = Vec::new();
        nodes(&tree, &mut Vec::new(), &mut all);
        for (ancestors, kind, node) in &all {
            if !kind.ends_with("_statement") {
                continue;
            }
            let tables = table_names(node);
            let touches_old = tables.first().is_some_and(|t| existing.contains(t));
            let body = text(node).to_uppercase();
            match kind.as_str() {
                "create_table_statement" if touches_old => {
                    // Only when missing: nested in IF OBJECT_ID(...) IS NULL.
                    assert!(
                        ancestors.iter().any(|a| a == "if_then_statement"),
                        "{file}: unguarded CREATE TABLE {tables:?}"
                    );
                    checked += 1;
                }
                "alter_table_statement" if touches_old => {
                    assert!(
                        body.contains(" ADD ")
                            && !body.contains("DROP")
                            && !body.contains("ALTER COLUMN"),
                        "{file}: ALTER TABLE that does more than add: {body}"
                    );
                    checked += 1;
                }
                "drop_table_statement"
                | "drop_index_statement"
                | "truncate_table_statement"
                | "delete_statement"
                | "update_statement"
                | "merge_statement"
                    if tables.iter().any(|t| existing.contains(t)) =>
                {
                    panic!("{file}: {kind} on an existing table: {body}");
                }
                "create_index_statement" if tables.iter().any(|t| existing.contains(t)) => {
                    assert!(
                        ancestors.iter().any(|a| a == "if_then_statement"),
                        "{file}: unguarded CREATE INDEX"
                    );
                    checked += 1;
                }
                "execute_script_statement" => {
                    // The append-only trigger is created through EXEC (CREATE TRIGGER must
                    // start a batch): it may add a trigger, never change rows.
                    assert!(
                        !body.contains("DROP ")
                            && !body.contains("DELETE FROM")
                            && !body.contains("TRUNCATE"),
                        "{file}: {body}"
                    );
                }
                _ => {}
            }
        }
    }
    assert!(
        checked >= 8,
        "the check saw too few statements touching the old tables ({checked})"
    );
}

/// One column as a CREATE TABLE declares it: type, nullability, default, cascade.
#[derive(Debug, PartialEq, Eq)]
struct Column {
    kind: String,
    nullable: bool,
    default: Option<String>,
    cascade: bool,
}

/// Columns of every `CREATE TABLE` in `sql`, by lower-case table name. A plain reader of
/// this repository's own T-SQL style (one column per line), not a general parser.
fn declared_tables(sql: &str) -> BTreeMap<String, BTreeMap<String, Column>> {
    let mut tables = BTreeMap::new();
    let mut rest = sql;
    while let Some(at) = rest.to_uppercase().find("CREATE TABLE ") {
        let after = &rest[at + "CREATE TABLE ".len()..];
        let name = after
            .split(|c: char| c == '(' || c.is_whitespace())
            .next()
            .unwrap()
            .trim_start_matches("dbo.")
            .to_lowercase();
        let open = after.find('(').unwrap();
        // The body ends at the `);` closing the statement.
        let close = after.find(");").unwrap();
        let mut columns = BTreeMap::new();
        for line in after[open + 1..close].lines() {
            let line = line.trim().trim_end_matches(',');
            let mut words = line.split_whitespace();
            let (Some(col), Some(kind)) = (words.next(), words.next()) else {
                continue;
            };
            let upper = line.to_uppercase();
            let default = upper.find("DEFAULT ").map(|d| {
                upper[d + "DEFAULT ".len()..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned()
            });
            columns.insert(
                col.to_lowercase(),
                Column {
                    kind: kind.to_uppercase().replace(' ', ""),
                    nullable: !upper.contains("NOT NULL") && !upper.contains("PRIMARY KEY"),
                    default,
                    cascade: upper.contains("ON DELETE CASCADE"),
                },
            );
        }
        tables.insert(name, columns);
        rest = &after[close..];
    }
    tables
}

/// Index names created in `sql`, lower-cased.
fn declared_indexes(sql: &str) -> BTreeSet<String> {
    sql.lines()
        .filter_map(|l| {
            let u = l.trim().to_uppercase();
            let at = u.find("CREATE INDEX ")?;
            Some(
                l.trim()[at + "CREATE INDEX ".len()..]
                    .split_whitespace()
                    .next()?
                    .to_lowercase(),
            )
        })
        .collect()
}

#[test]
fn where_the_migrations_create_an_old_table_it_is_the_old_portals_column_for_column() {
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/old-portal-schema.sql")).unwrap();
    let old = declared_tables(&fixture);
    assert_eq!(old.len(), 4, "{:?}", old.keys());
    let customers = &old["customers"];
    assert_eq!(customers["erp_customer_name"].kind, "NVARCHAR(4000)");
    assert!(!customers["last_name"].nullable && !customers["erp_customer_name"].nullable);
    assert_eq!(
        customers["must_reset_password"].default.as_deref(),
        Some("0")
    );
    assert_eq!(
        customers["created_date"].default.as_deref(),
        Some("GETDATE()")
    );
    assert!(old["activesessions"]["customer_id"].cascade);
    assert!(!old["passwordresettokens"]["customer_id"].cascade);
    assert!(old["passwordresettokens"].contains_key("expiry_date"));

    let migrations: String = versions("db/mssql")
        .iter()
        .map(|v| {
            let dir = root().join("db/mssql");
            let file = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(&format!("{v:04}_"))
                })
                .unwrap();
            std::fs::read_to_string(file).unwrap()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let created = declared_tables(&migrations);
    for (table, columns) in &old {
        let ours = created
            .get(table)
            .unwrap_or_else(|| panic!("the migrations never create {table}"));
        assert_eq!(
            ours, columns,
            "{table}: a fresh database must get the old portal's exact columns"
        );
    }
    let indexes = declared_indexes(&migrations);
    for index in declared_indexes(&fixture) {
        assert!(
            indexes.contains(&index),
            "the migrations never create {index}"
        );
    }
    // Columns the migrations add to an old table must not break the old portal's
    // inserts, which do not name them: nullable, or with a default.
    for line in migrations.lines() {
        let u = line.to_uppercase();
        if let Some(at) = u.find("ALTER TABLE DBO.") {
            let table = u[at + "ALTER TABLE DBO.".len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_lowercase();
            if old.contains_key(&table) && u.contains(" ADD ") && u.contains("NOT NULL") {
                let next = migrations[migrations.find(line).unwrap()..]
                    .lines()
                    .take(2)
                    .collect::<String>()
                    .to_uppercase();
                assert!(
                    next.contains("DEFAULT"),
                    "{line}: NOT NULL without a default"
                );
            }
        }
    }
}
