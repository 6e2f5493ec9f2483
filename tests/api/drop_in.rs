//! Writes the old portal's database accepts, and names matched as the old portal matched
//! them: an empty last name is '', a scope never exceeds what the old column's index holds (850 characters),
//! ERP names are found whatever their case or spacing and stored as the ERP spells them.

use std::sync::Arc;

use async_trait::async_trait;
use customer_portal::domain::ErpScope;
use customer_portal::erp::{ErpError, ErpSource, InventoryRow};
use customer_portal::store::CustomerStore;
use serde_json::json;

use crate::admin::{ADMIN_PW, htmx_post};
use crate::helpers::*;

/// An ERP with many long customer names and no rows.
struct ManyNames(Vec<String>);

#[async_trait]
impl ErpSource for ManyNames {
    fn name(&self) -> &'static str {
        "many-names"
    }
    async fn inventory_rows(&self, _: &ErpScope) -> Result<Vec<InventoryRow>, ErpError> {
        Ok(Vec::new())
    }
    async fn customer_names(&self) -> Result<Vec<String>, ErpError> {
        Ok(self.0.clone())
    }
    async fn ping(&self) -> Result<(), ErpError> {
        Ok(())
    }
}

async fn app_with_names(names: Vec<String>) -> TestApp {
    let hash = cheap_hash(ADMIN_PW);
    spawn_with_erp(
        Arc::new(ManyNames(names)),
        &[
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &hash),
        ],
    )
    .await
}

async fn admin_of(app: &TestApp) -> TestApp {
    let b = app.other_browser();
    let resp = b
        .post_form(
            "/admin-login",
            &[
                ("username", "cp_admin"),
                ("password", ADMIN_PW),
                ("hp_email", ""),
            ],
        )
        .await;
    assert_eq!(location(&resp), "/admin/panel");
    b
}

fn long_names() -> Vec<String> {
    (0..120)
        .map(|i| format!("Long Customer Name Number {i:03} Of The Group Ltd"))
        .collect()
}

#[tokio::test]
async fn a_scope_longer_than_the_old_column_is_a_field_error() {
    let names = long_names();
    let app = app_with_names(names.clone()).await;
    let admin = admin_of(&app).await;
    let mut form: Vec<(&str, &str)> = vec![
        ("first_name", "Many"),
        ("last_name", "Names"),
        ("email", "many@example.com"),
    ];
    for n in &names {
        form.push(("erp_customer_names", n));
    }
    let modal = htmx_post(&admin, "/admin/customers", &form).await;
    assert_eq!(modal.status(), 200);
    let html = modal.text().await.unwrap();
    assert!(
        html.contains("Too many ERP customers for one account") && html.contains("field-error"),
        "{html:.400}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM Customers"), 0);

    let gql = admin
        .graphql_vars(
            "mutation($input: CustomerInput!) { createCustomer(input: $input) { emailSent } }",
            json!({ "input": {
                "firstName": "Many", "lastName": "", "email": "many@example.com",
                "erpCustomerNames": names,
            }}),
        )
        .await;
    assert_eq!(
        gql["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{gql}"
    );
    assert!(
        gql["errors"][0]["extensions"]["fields"]["erp_customer_names"]
            .as_str()
            .unwrap()
            .contains("at most 850"),
        "{gql}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM Customers"), 0);
}

#[tokio::test]
async fn erp_names_match_whatever_their_case_and_are_stored_as_the_erp_spells_them() {
    let app = app_with_names(vec!["Acme Foods".into(), "Café Münster GmbH".into()]).await;
    let admin = admin_of(&app).await;
    let resp = htmx_post(
        &admin,
        "/admin/customers",
        &[
            ("first_name", "Case"),
            ("last_name", ""),
            ("email", "case@example.com"),
            ("erp_customer_names", "  acme FOODS "),
            ("erp_customer_names", "CAFÉ MÜNSTER GMBH"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let (erp, last): (String, Option<String>) = app
        .db()
        .query_row(
            "SELECT erp_customer_name, last_name FROM Customers WHERE email = 'case@example.com'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(erp, "Acme Foods|Café Münster GmbH");
    assert_eq!(
        last.as_deref(),
        Some(""),
        "an empty last name is '', never NULL (the old column is NOT NULL)"
    );
    // A name the ERP does not have is still refused.
    let html = htmx_post(
        &admin,
        "/admin/customers",
        &[
            ("first_name", "Typo"),
            ("email", "typo@example.com"),
            ("erp_customer_names", "Acme Food"),
        ],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        html.contains("Not an ERP customer: Acme Food"),
        "{html:.400}"
    );
}

#[tokio::test]
async fn the_old_portals_addresses_redirect_to_their_new_homes() {
    let app = spawn_app().await;
    let inv = app.get("/inventory/?q=soap&sort=part&dir=desc").await;
    assert_eq!(inv.status(), 308);
    assert_eq!(location(&inv), "/inventory?q=soap&sort=part&dir=desc");
    let admin = app.get("/admin/").await;
    assert_eq!(admin.status(), 308);
    assert_eq!(location(&admin), "/admin/panel");
    let logo = app.get("/static/img/logo.png").await;
    assert_eq!(logo.status(), 308);
    assert!(
        location(&logo).starts_with("/assets/img/logo.svg"),
        "{}",
        location(&logo)
    );
    assert_eq!(app.get("/static/favicon.ico").await.status(), 308);
    assert_eq!(app.get("/static/js/inventory.js").await.status(), 404);
    // The audit page's old parameter names.
    let app = crate::admin::admin_app(&[]).await;
    let admin = crate::admin::admin_browser(&app).await;
    let audit = admin
        .get("/admin/audit?admin_filter=cp_admin&search=42")
        .await;
    let to = location(&audit);
    assert_eq!(audit.status(), 308, "{to}");
    assert_eq!(to, "/admin/audit?admin=cp_admin&q=42");
}

#[tokio::test]
async fn only_the_exact_all_sees_every_customer() {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "300")], false).await;
    let count = |v: serde_json::Value| v["data"]["inventory"]["totalCount"].as_i64().unwrap();
    let all = app.customer_browser("All").await;
    assert!(count(all.graphql("{ inventory { totalCount } }").await) > 0);
    for almost in ["all", "ALL", " All "] {
        let b = app.customer_browser(almost).await;
        let n = count(b.graphql("{ inventory { totalCount } }").await);
        assert_eq!(n, 0, "{almost:?} widened the scope");
    }
}

#[tokio::test]
async fn a_database_made_by_the_previous_migrations_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.db");
    {
        // What versions 1–3 left behind, with a row in each table 0004 changes.
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(
            "CREATE TABLE SchemaMigrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);",
        )
        .unwrap();
        for (v, sql) in [
            (1, include_str!("../../db/sqlite/0001_initial.sql")),
            (2, include_str!("../../db/sqlite/0002_admin.sql")),
            (3, include_str!("../../db/sqlite/0003_login_throttle.sql")),
        ] {
            db.execute_batch(sql).unwrap();
            db.execute(
                "INSERT INTO SchemaMigrations VALUES (?1, 'old', '2026-01-01T00:00:00.000000Z')",
                [v],
            )
            .unwrap();
        }
        db.execute_batch(
            "INSERT INTO Customers (first_name, last_name, email, password_hash, erp_customer_name)
                 VALUES ('Old', '', 'old@example.com', 'pbkdf2:sha256:1000$s$00', 'Acme Foods');
             INSERT INTO AuditLog (timestamp, admin_username, action_type, target_customer_id)
                 VALUES ('2025-03-04T05:06:07.000000Z', 'cp_admin', 'CUSTOMER_CREATE', 1);
             INSERT INTO PasswordResetTokens (customer_id, token_hash, expires_at, used, created_at)
                 VALUES (1, 'hash-1', '2026-02-01T00:00:00.000000Z', 1, '2026-01-31T23:30:00.000000Z');
             INSERT INTO AuditLog (timestamp, admin_username, action_type, target_customer_id)
                 VALUES ('2025-07-04T15:00:00.000000Z', 'cp_admin', 'CUSTOMER_UPDATE', 1);",
        )
        .unwrap();
    }
    let chicago = customer_portal::domain::Zone::parse("America/Chicago").unwrap();
    let store = customer_portal::store::sqlite::SqliteStore::open(&path, chicago.clone())
        .await
        .unwrap();
    let old = store
        .customer_by_id(customer_portal::domain::CustomerId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        old.created_date
            .map(customer_portal::store::format_ts)
            .as_deref(),
        Some("2025-03-04T05:06:07.000000Z"),
        "created_date comes from the account's creation audit row"
    );
    drop(store);
    let db = rusqlite::Connection::open(&path).unwrap();
    // Local-time values earlier versions wrote as UTC now hold Chicago's wall clock (the
    // same instants), so they sort and compare with what the old portal wrote; the
    // append-only trigger (0001 made it) was lifted only for that and is back.
    let stamps: Vec<String> = db
        .prepare("SELECT timestamp FROM AuditLog ORDER BY log_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        stamps,
        ["2025-03-03 23:06:07.000000", "2025-07-04 10:00:00.000000"],
        "CST in March, CDT in July"
    );
    let created: String = db
        .query_row("SELECT created_date FROM Customers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(created, "2025-03-03 23:06:07.000000");
    assert!(
        db.execute("UPDATE AuditLog SET details = 'x'", []).is_err(),
        "the append-only trigger is still there"
    );
    let (expiry, used, hash): (String, i64, String) = db
        .query_row(
            "SELECT expiry_date, is_used, token_hash FROM PasswordResetTokens",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (expiry.as_str(), used, hash.as_str()),
        ("2026-02-01T00:00:00.000000Z", 1, "hash-1"),
        "renamed, nothing lost"
    );
    let columns: Vec<String> = db
        .prepare("SELECT name FROM pragma_table_info('PasswordResetTokens') ORDER BY cid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        columns,
        [
            "token_id",
            "customer_id",
            "token_hash",
            "expiry_date",
            "is_used"
        ],
        "the old portal's columns"
    );
}

/// An app whose local-time columns are on Chicago's wall clock (as `GETDATE()` on a SQL
/// Server in Chicago writes them) and whose pages show Chicago time.
async fn chicago_app() -> (TestApp, TestApp, customer_portal::domain::Zone) {
    let hash = cheap_hash(ADMIN_PW);
    let app = spawn_app_with(
        &[
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &hash),
            ("APP_DB_TIME_ZONE", "America/Chicago"),
            ("PORTAL_TIMEZONE", "America/Chicago"),
        ],
        false,
    )
    .await;
    let admin = admin_of(&app).await;
    let zone = customer_portal::domain::Zone::parse("America/Chicago").unwrap();
    (app, admin, zone)
}

/// Writes an audit row as the old portal did: no timestamp in the insert, so the column
/// holds the server's wall clock (here: the given local time, with no zone).
fn old_portal_audit_row(app: &TestApp, local: &str, action: &str, details: &str) {
    app.db()
        .execute(
            "INSERT INTO AuditLog (timestamp, admin_username, action_type, target_customer_email, details)
             VALUES (?1, 'SYSTEM', ?2, 'old@example.com', ?3)",
            rusqlite::params![local, action, details],
        )
        .unwrap();
}

#[tokio::test]
async fn local_time_columns_are_read_and_written_on_the_configured_clock() {
    let (app, admin, zone) = chicago_app().await;

    // Rows the old portal wrote at known local times, on both sides of the spring change
    // (2026-03-08 02:00 CST became 03:00 CDT).
    old_portal_audit_row(&app, "2026-03-08 01:30:00", "OLD_CLOCK", "before");
    old_portal_audit_row(&app, "2026-03-08 03:30:00", "OLD_CLOCK", "after");
    let gql = admin
        .graphql(
            r#"{ auditLog(filter: {actionType: "OLD_CLOCK"}) { entries { timestamp details } } }"#,
        )
        .await;
    let entries = gql["data"]["auditLog"]["entries"]
        .as_array()
        .unwrap()
        .clone();
    let at = |d: &str| {
        entries.iter().find(|e| e["details"] == d).unwrap()["timestamp"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // 01:30 CST = 07:30 UTC; 03:30 CDT = 08:30 UTC: one hour apart, not two.
    assert!(at("before").starts_with("2026-03-08T07:30:00"), "{gql}");
    assert!(at("after").starts_with("2026-03-08T08:30:00"), "{gql}");

    // The audit page shows them on the portal's clock, saying which.
    let html = admin
        .get("/admin/audit?action=OLD_CLOCK")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("03/08/2026 01:30 CST"), "{html}");
    assert!(html.contains("03/08/2026 03:30 CDT"));

    // What this portal writes, the old one reads as its own: the sign-in time and the
    // audit row are Chicago wall-clock times without a zone.
    app.add_customer("clock@example.com", "Password-1234", "Acme", false)
        .await;
    let before = time::OffsetDateTime::now_utc();
    let c = app.other_browser();
    assert_eq!(
        location(&c.login("clock@example.com", "Password-1234").await),
        "/inventory"
    );
    let (last_login, audit_ts): (String, String) = app
        .db()
        .query_row(
            "SELECT c.last_login_date, a.timestamp FROM Customers c JOIN AuditLog a
               ON a.target_customer_id = c.customer_id AND a.action_type = 'CUSTOMER_LOGIN'
             WHERE c.email = 'clock@example.com'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    for raw in [&last_login, &audit_ts] {
        assert!(!raw.ends_with('Z'), "no zone in a local-time column: {raw}");
        let read = customer_portal::store::parse_local(raw, &zone).unwrap();
        assert!(
            (read - before).abs() < time::Duration::minutes(1),
            "{raw} is Chicago's wall clock at sign-in ({before})"
        );
        let wall = zone.local(before);
        assert!(
            raw.starts_with(&format!(
                "{:04}-{:02}-{:02}",
                wall.year(),
                u8::from(wall.month()),
                wall.day()
            )),
            "{raw} carries Chicago's date"
        );
    }
    // Session times stay UTC, as the old portal wrote them.
    let created: String = app
        .db()
        .query_row("SELECT created_at FROM ActiveSessions", [], |r| r.get(0))
        .unwrap();
    assert!(created.ends_with('Z'), "{created}");
}

#[tokio::test]
async fn analytics_windows_compare_instants_whatever_clock_wrote_the_row() {
    let (app, admin, zone) = chicago_app().await;
    let now = time::OffsetDateTime::now_utc();
    let local = |t: time::OffsetDateTime| customer_portal::store::format_local(t, &zone);
    // Inside "the last 7 days" by 4 hours; read as UTC it would fall 1-2 hours outside.
    old_portal_audit_row(
        &app,
        &local(now - time::Duration::days(7) + time::Duration::hours(4)),
        "CUSTOMER_LOGIN",
        "Login from IP: 203.0.113.7",
    );
    // Outside by 4 hours however it is read.
    old_portal_audit_row(
        &app,
        &local(now - time::Duration::days(7) - time::Duration::hours(4)),
        "CUSTOMER_LOGIN",
        "Login from IP: 203.0.113.8",
    );
    let gql = admin
        .graphql("{ analytics { loginsLast7Days recentLogins(limit: 5) { ipAddress } } }")
        .await;
    assert_eq!(gql["data"]["analytics"]["loginsLast7Days"], 1, "{gql}");
    // "Per day" is per Chicago day: a login at 23:30 Chicago time counts for that day,
    // although in UTC it is already the next one.
    let today = zone.local(now).date();
    let late = zone.instant(today.midnight() - time::Duration::minutes(30));
    old_portal_audit_row(
        &app,
        &local(late),
        "CUSTOMER_LOGIN",
        "Login from IP: 203.0.113.9",
    );
    let days = admin
        .graphql("{ analytics { loginsPerDay(days: 3) { date count } } }")
        .await;
    let per_day = days["data"]["analytics"]["loginsPerDay"]
        .as_array()
        .unwrap()
        .clone();
    let yesterday = (today - time::Duration::days(1)).to_string();
    let row = per_day
        .iter()
        .find(|d| d["date"] == yesterday.as_str())
        .unwrap();
    assert_eq!(row["count"], 1, "{days}");
}
