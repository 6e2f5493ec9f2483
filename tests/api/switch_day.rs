//! Switch day: the old deployment — behind its tunnel, staff on the LAN over plain http,
//! its `.env` beside the program — runs the new binary unchanged.

use crate::admin::{ADMIN_PW, admin_app, admin_login};
use crate::dotenv_binary::{command, start_command};
use crate::helpers::*;

/// Every `Set-Cookie` of a response.
fn cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn staff_and_customers_on_the_lan_sign_in_over_plain_http() {
    // The public URL is https, but this browser reaches the portal directly over http
    // (a LAN address, no proxy): its cookies must not be Secure, or the browser drops
    // them and the next form fails its CSRF check.
    let app = admin_app(&[
        ("APP_BASE_URL", "https://portal.example.com"),
        ("TRUSTED_PROXIES", "none"),
    ])
    .await;
    app.add_customer("lan@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let page = app.get("/login").await;
    for c in cookies(&page) {
        assert!(!c.contains("Secure"), "{c}");
    }
    let customer = app.login("lan@example.com", PASSWORD).await;
    assert_eq!(location(&customer), "/inventory");
    for c in cookies(&customer) {
        assert!(!c.contains("Secure"), "{c}");
    }
    assert_eq!(app.get("/inventory").await.status(), 200);
    let staff = app.other_browser();
    let admin = admin_login(&staff, "cp_admin", ADMIN_PW).await;
    assert_eq!(location(&admin), "/admin/panel");
    assert_eq!(staff.get("/admin/customers").await.status(), 200);
}

#[tokio::test]
async fn through_the_tunnel_every_cookie_is_secure() {
    let app = admin_app(&[("APP_BASE_URL", "https://portal.example.com")]).await;
    app.add_customer("far@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let tunnel = [
        ("CF-Connecting-IP", "198.51.100.8"),
        ("X-Forwarded-Proto", "https"),
    ];
    let mut get = app.client.get(app.url("/login"));
    for (k, v) in tunnel {
        get = get.header(k, v);
    }
    let page = get.send().await.unwrap();
    let set = cookies(&page);
    assert!(!set.is_empty());
    for c in &set {
        assert!(c.contains("; Secure"), "{c}");
    }
    // The form's own token, and the cookie it pairs with, sent back by hand (a cookie
    // store over http would not send a Secure cookie).
    let csrf_cookie = set
        .iter()
        .find(|c| c.starts_with("cp_csrf=") || c.contains("csrf"))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = extract_meta_csrf(&page.text().await.unwrap());
    let mut post = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .header("Cookie", csrf_cookie)
        .form(&[
            ("email", "far@example.com"),
            ("password", PASSWORD),
            ("hp_email", ""),
            ("csrf_token", token.as_str()),
        ]);
    for (k, v) in tunnel {
        post = post.header(k, v);
    }
    let signed_in = post.send().await.unwrap();
    assert_eq!(location(&signed_in), "/inventory");
    let session = cookies(&signed_in)
        .into_iter()
        .find(|c| c.starts_with("cp_session="))
        .expect("a session cookie");
    assert!(
        session.contains("; Secure") && session.contains("HttpOnly"),
        "{session}"
    );
}

#[tokio::test]
async fn the_env_file_beside_the_program_is_read_whatever_the_working_directory() {
    // The program in app/bin/, its .env in app/ (as the old portal kept it), started
    // from somewhere else entirely.
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let bin = root.path().join("app").join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let program = bin.join("customer-portal");
    std::fs::hard_link(env!("CARGO_BIN_EXE_customer-portal"), &program)
        .or_else(|_| std::fs::copy(env!("CARGO_BIN_EXE_customer-portal"), &program).map(|_| ()))
        .unwrap();
    let data = root.path().join("data");
    std::fs::write(
        root.path().join("app").join(".env"),
        format!(
            "DATA_DIR={}\nDEMO_ERP_ROWS=150\nADMIN_USERNAME=Ops Team (Plant 2)\nTEST_MODE=yes\n",
            data.display()
        ),
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let mut cmd = command(elsewhere.path(), &[("PORT", "0"), ("RUST_LOG", "info")]);
    cmd.arg0_program(&program);
    let portal = start_command(cmd);
    let log = portal.stderr.lock().unwrap().clone();
    let env_path = root.path().join("app").join(".env");
    assert!(
        log.contains(&format!("configuration: {}", env_path.display())),
        "start-up says which file it read: {log}"
    );
    assert!(
        data.join("portal.db").exists(),
        "the .env's DATA_DIR was used: {log}"
    );
    // Its old-style boolean: read as the old portal read it, and named in a warning.
    assert!(log.contains("TEST_MODE=\"yes\" is read as False"), "{log}");
    // Without any .env the log says so.
    let bare = tempfile::tempdir().unwrap();
    let portal = start_command(command(
        bare.path(),
        &[
            ("PORT", "0"),
            ("DATA_DIR", bare.path().join("d").to_str().unwrap()),
            ("DEMO_ERP_ROWS", "150"),
        ],
    ));
    let log = portal.stderr.lock().unwrap().clone();
    assert!(log.contains("the environment only"), "{log}");
}

/// The program run from its own path (not the build folder's).
trait ProgramPath {
    fn arg0_program(&mut self, program: &std::path::Path) -> &mut Self;
}

impl ProgramPath for std::process::Command {
    fn arg0_program(&mut self, program: &std::path::Path) -> &mut Self {
        let mut fresh = std::process::Command::new(program);
        fresh
            .env_clear()
            .current_dir(self.get_current_dir().unwrap())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in self.get_envs() {
            if let Some(v) = v {
                fresh.env(k, v);
            }
        }
        *self = fresh;
        self
    }
}

#[tokio::test]
async fn the_local_admin_may_have_any_name_the_old_portal_accepted() {
    let hash = cheap_hash(ADMIN_PW);
    let app = spawn_app_with(
        &[
            ("ADMIN_USERNAME", "Ops Team (Plant 2)"),
            ("ADMIN_PASSWORD_HASH", &hash),
        ],
        false,
    )
    .await;
    let staff = app.other_browser();
    assert_eq!(
        location(&admin_login(&staff, "Ops Team (Plant 2)", ADMIN_PW).await),
        "/admin/panel"
    );
    assert_eq!(
        app.state.config.admin_username, "Ops Team (Plant 2)",
        "kept as written"
    );
}

/// `(table, column) → NVARCHAR size` (`None` for MAX) of every CREATE TABLE and ALTER
/// TABLE … ADD in `sql`.
fn nvarchar_columns(sql: &str) -> std::collections::BTreeMap<(String, String), Option<usize>> {
    let mut out = std::collections::BTreeMap::new();
    let mut table: Option<String> = None;
    for line in sql.lines() {
        let l = line.trim();
        let upper = l.to_ascii_uppercase();
        if let Some(rest) = upper.strip_prefix("CREATE TABLE ") {
            let name = rest.split(['(', ' ']).next().unwrap();
            let name = l[13..13 + name.len()].trim_start_matches("dbo.").to_owned();
            table = Some(name);
            continue;
        }
        if upper.starts_with(')') {
            table = None;
        }
        let (t, def) = if let Some(at) = upper.find("ALTER TABLE ") {
            let rest = &l[at + 12..];
            let name = rest.split_whitespace().next().unwrap();
            let Some(add) = rest.to_ascii_uppercase().find(" ADD ") else {
                continue;
            };
            (
                name.trim_start_matches("dbo.").to_owned(),
                rest[add + 5..].trim().to_owned(),
            )
        } else if let Some(t) = &table {
            (t.clone(), l.to_owned())
        } else {
            continue;
        };
        let mut words = def.split_whitespace();
        let (Some(column), Some(ty)) = (words.next(), words.next()) else {
            continue;
        };
        let ty = ty.to_ascii_uppercase();
        if let Some(size) = ty.strip_prefix("NVARCHAR(") {
            let size = size.trim_end_matches([')', ',']);
            out.insert(
                (t, column.to_owned()),
                if size == "MAX" {
                    None
                } else {
                    Some(size.parse().unwrap())
                },
            );
        }
    }
    out
}

#[test]
fn every_value_the_portal_binds_fits_its_sql_server_column() {
    use customer_portal::store::fits;
    let old = nvarchar_columns(include_str!("../fixtures/old-portal-schema.sql"));
    let mut ours = std::collections::BTreeMap::new();
    for (_, _, script) in customer_portal::store::mssql::MIGRATIONS {
        ours.extend(nvarchar_columns(script));
    }
    assert!(old.len() >= 10 && ours.len() >= 40, "{old:?} {ours:?}");
    for f in fits::ALL {
        let key = (f.table.to_owned(), f.column.to_owned());
        let size = ours
            .get(&key)
            .unwrap_or_else(|| panic!("{}.{} is not an NVARCHAR column", f.table, f.column));
        if let Some(size) = size {
            assert!(
                f.chars <= *size,
                "{}.{}: {} > {size}",
                f.table,
                f.column,
                f.chars
            );
        }
        // An adopted old database has the old portal's sizes, which must hold as well.
        if let Some(Some(old_size)) = old.get(&key) {
            assert!(
                f.chars <= *old_size,
                "{}.{} in the old schema",
                f.table,
                f.column
            );
        }
    }
    // Every text column the portal writes has an entry (a new column needs one).
    for ((table, column), size) in &ours {
        if size.is_none() {
            continue;
        }
        assert!(
            fits::ALL
                .iter()
                .any(|f| f.table == table && f.column == column),
            "{table}.{column} has no entry in store::fits"
        );
    }
    // The old portal's index on Customers.erp_customer_name holds 1,700 bytes.
    const { assert!(fits::ERP_SCOPE.chars * 2 <= 1_700) };
    assert_eq!(
        customer_portal::customers::MAX_SCOPE_CHARS,
        fits::ERP_SCOPE.chars
    );
    assert_eq!(
        customer_portal::auth::MAX_USER_AGENT_CHARS,
        fits::SESSION_USER_AGENT.chars
    );
    assert_eq!(
        customer_portal::auth::throttle::MAX_KEY_CHARS,
        fits::LOGIN_NAME.chars
    );
}

#[tokio::test]
async fn values_too_long_for_their_columns_are_cut_or_refused_with_a_message() {
    let app = admin_app(&[]).await;
    // A browser with a user agent longer than ActiveSessions.user_agent.
    app.add_customer("long@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let long_agent = "Mozilla/5.0 ".repeat(60);
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(long_agent.clone())
        .build()
        .unwrap();
    let page = browser
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = extract_meta_csrf(&page);
    let login = browser
        .post(app.url("/login"))
        .form(&[
            ("email", "long@example.com"),
            ("password", PASSWORD),
            ("hp_email", ""),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&login), "/inventory");
    let stored: String = app
        .db()
        .query_row("SELECT user_agent FROM ActiveSessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored.chars().count(), 500);
    // A throttle key from a 300-character email.
    let long_email = format!("{}@example.com", "x".repeat(300));
    app.other_browser()
        .login(&long_email, "wrong-password-1")
        .await;
    let key_len: i64 = app.count("SELECT MAX(LENGTH(login_name)) FROM LoginFailures");
    assert_eq!(key_len, 255);
    // An account's scope: refused over 850 characters, with the limit said.
    let admin = crate::admin::admin_browser(&app).await;
    let html = admin
        .get_htmx("/admin/customers/new")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("up to 850 characters"), "{html:.2000}");
}

#[test]
fn every_transaction_takes_the_customers_rows_in_one_order() {
    // Customers, then ActiveSessions, then PasswordResetTokens, then AuditLog: the order
    // in which every batch that writes more than one of them first touches each.
    const ORDER: [&str; 4] = [
        "dbo.Customers",
        "dbo.ActiveSessions",
        "dbo.PasswordResetTokens",
        "dbo.AuditLog",
    ];
    let mut checked = 0;
    for (name, sql) in customer_portal::store::mssql::sql::all_for_parsing() {
        if !sql.contains("BEGIN TRANSACTION") {
            continue;
        }
        // Each statement that writes or locks a table, in the batch's order.
        let mut touched: Vec<usize> = Vec::new();
        for stmt in sql.split(';') {
            let s = stmt.trim().to_ascii_uppercase();
            let writes = s.contains("UPDATE ")
                || s.contains("INSERT INTO ")
                || s.contains("DELETE FROM ")
                || s.contains("UPDLOCK");
            if !writes {
                continue;
            }
            if let Some(i) = ORDER.iter().position(|t| {
                s.contains(&format!("{} ", t.to_ascii_uppercase()))
                    || s.ends_with(&t.to_ascii_uppercase())
            }) {
                touched.push(i);
            }
        }
        // Taking a table again later is fine: what matters is the order of first locks.
        let mut first = Vec::new();
        for i in touched {
            if !first.contains(&i) {
                first.push(i);
            }
        }
        let touched = first;
        if touched.iter().filter(|i| **i < 3).count() < 2 {
            continue;
        }
        checked += 1;
        assert!(
            touched.windows(2).all(|w| w[0] <= w[1]),
            "{name} touches {:?} out of order",
            touched.iter().map(|i| ORDER[*i]).collect::<Vec<_>>()
        );
    }
    assert!(checked >= 4, "{checked}");
}

/// Runs `customer-portal preflight` in `dir` with `env`: (exit code, the report).
fn preflight(dir: &std::path::Path, env: &[(&str, &str)]) -> (i32, String) {
    let out = command(dir, env).arg("preflight").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// Every file under `dir` with its length and modification time (but SQLite's `-shm`, the
/// shared-memory index every reader of a WAL database takes its read mark in).
fn listing(dir: &std::path::Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let m = e.metadata().unwrap();
        if m.is_file() && !e.file_name().to_string_lossy().ends_with("-shm") {
            out.push((
                e.file_name().to_string_lossy().into_owned(),
                m.len(),
                m.modified().unwrap(),
            ));
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn the_preflight_says_go_against_sqlite_and_the_demo_erp_and_writes_nothing() {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "300")], false).await;
    app.add_customer("pre@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let data = app.data_path.to_str().unwrap().to_owned();
    let before = listing(&app.data_path);
    let cwd = tempfile::tempdir().unwrap();
    let (code, report) = preflight(cwd.path(), &[("DATA_DIR", &data), ("DEMO_ERP_ROWS", "300")]);
    assert_eq!(code, 0, "{report}");
    for line in [
        "| app database (SQLite) | integrity (PRAGMA quick_check) | GO |",
        "| app database (SQLite) | tables and columns | GO |",
        "| app database (SQLite) | every statement prepared (EXPLAIN), none run | GO |",
        "| ERP | one customer's inventory read | GO |",
        "| DATA_DIR | ",
        "GO: nothing blocks the switch",
    ] {
        assert!(report.contains(line), "missing {line:?} in\n{report}");
    }
    assert_eq!(
        listing(&app.data_path),
        before,
        "the preflight wrote to DATA_DIR"
    );
    assert!(
        std::fs::read_dir(cwd.path()).unwrap().next().is_none(),
        "nor to the working directory"
    );

    // A database that lost a column, and a bad key: no-go, each said.
    app.db()
        .execute_batch("ALTER TABLE SavedViews RENAME COLUMN query TO query_old;")
        .unwrap();
    let (code, report) = preflight(cwd.path(), &[("DATA_DIR", &data), ("DEMO_ERP_ROWS", "300")]);
    assert_eq!(code, 1, "{report}");
    assert!(report.contains("SavedViews.query is missing"), "{report}");
    assert!(report.contains("NO-GO"), "{report}");
    let (code, report) = preflight(cwd.path(), &[("DATA_DIR", &data), ("PORT", "http")]);
    assert_eq!(code, 1);
    assert!(
        report.contains("| configuration | problem | NO-GO | PORT must be a port number"),
        "{report}"
    );
    // Secrets are never shown.
    let (_, report) = preflight(
        cwd.path(),
        &[
            ("DATA_DIR", &data),
            ("METRICS_TOKEN", "a-metrics-token-that-is-long-enough"),
        ],
    );
    assert!(
        !report.contains("a-metrics-token-that-is-long-enough"),
        "{report}"
    );
    assert!(
        report.contains("| METRICS_TOKEN | (set, not shown) | environment |"),
        "{report}"
    );
}

/// Names after `keyword` (`CREATE TABLE dbo.`…) in `sql`.
fn names_after(sql: &str, keyword: &str) -> std::collections::BTreeSet<String> {
    sql.match_indices(keyword)
        .map(|(at, _)| {
            sql[at + keyword.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn going_back_removes_every_table_and_trigger_the_migrations_add() {
    const OLD: [&str; 4] = [
        "Customers",
        "ActiveSessions",
        "AuditLog",
        "PasswordResetTokens",
    ];
    let mut created = std::collections::BTreeSet::new();
    let mut triggers = std::collections::BTreeSet::new();
    let mut everything = String::new();
    for (_, _, script) in customer_portal::store::mssql::MIGRATIONS {
        everything.push_str(script);
    }
    for (_, statement) in customer_portal::store::mssql::sql::all_for_parsing() {
        everything.push_str(&statement);
    }
    created.extend(names_after(&everything, "CREATE TABLE dbo."));
    triggers.extend(names_after(&everything, "CREATE TRIGGER dbo."));
    let new_tables: std::collections::BTreeSet<String> = created
        .into_iter()
        .filter(|t| !OLD.contains(&t.as_str()))
        .collect();
    let guide = include_str!("../../docs/migrating-from-flask.md");
    let dropped = names_after(guide, "DROP TABLE IF EXISTS dbo.");
    let dropped_triggers = names_after(guide, "DROP TRIGGER IF EXISTS dbo.");
    assert_eq!(
        dropped, new_tables,
        "docs/migrating-from-flask.md section 5 lists every new table"
    );
    assert_eq!(dropped_triggers, triggers, "and every trigger");
    // Columns added to the old portal's tables are only its own (where a database made by
    // an early version of this portal lacked them).
    let old_schema = include_str!("../fixtures/old-portal-schema.sql");
    for (_, _, script) in customer_portal::store::mssql::MIGRATIONS {
        for (at, _) in script.match_indices("ALTER TABLE dbo.") {
            let rest = &script[at + "ALTER TABLE dbo.".len()..];
            let table: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            let Some(add) = rest.find(" ADD ") else {
                continue;
            };
            let column: String = rest[add + 5..]
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if OLD.contains(&table.as_str()) {
                assert!(
                    old_schema.contains(&format!("{column} ")),
                    "a migration adds {table}.{column}, which the old portal does not have"
                );
            }
        }
    }
}
