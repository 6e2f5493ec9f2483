//! Writes the old portal's database accepts, and names matched as the old portal matched
//! them: an empty last name is '', a scope never exceeds the old NVARCHAR(4000) column,
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
            .contains("at most 4000"),
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
                 VALUES (1, 'hash-1', '2026-02-01T00:00:00.000000Z', 1, '2026-01-31T23:30:00.000000Z');",
        )
        .unwrap();
    }
    let store = customer_portal::store::sqlite::SqliteStore::open(&path)
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
