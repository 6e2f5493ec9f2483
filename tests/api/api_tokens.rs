//! API tokens for internal tools: issued and revoked by admins, checked by the one access
//! rule, accepted on `/graphql` and the exports only, and charged for what they ask.

use serde_json::{Value, json};

use crate::admin::{admin_app, admin_browser};
use crate::helpers::*;

pub const CREATE: &str = "mutation($input: ApiTokenInput!) { createApiToken(input: $input) { secret token { id name scopes erpCustomerNames active expiresAt } } }";

pub async fn create(admin: &TestApp, input: Value) -> (String, String) {
    let resp = admin.graphql_vars(CREATE, json!({ "input": input })).await;
    assert!(resp["errors"].is_null(), "{resp}");
    let created = &resp["data"]["createApiToken"];
    (
        created["secret"].as_str().unwrap().to_owned(),
        created["token"]["id"].as_str().unwrap().to_owned(),
    )
}

/// A plain HTTP client with no cookies, as a script would be.
pub async fn bearer(app: &TestApp, secret: &str, query: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/graphql"))
        .bearer_auth(secret)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
}

pub async fn bearer_json(app: &TestApp, secret: &str, query: &str) -> Value {
    bearer(app, secret, query).await.json().await.unwrap()
}

/// A query with variables, as a tool sends it; the JSON answer.
pub async fn bearer_vars(app: &TestApp, secret: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(app.url("/graphql"))
        .bearer_auth(secret)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub fn code(v: &Value) -> Option<&str> {
    v["errors"][0]["extensions"]["code"].as_str()
}

#[tokio::test]
async fn a_token_is_issued_once_used_without_cookies_and_refused_after_revocation() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "400")]).await;
    let admin = admin_browser(&app).await;
    let (secret, id) = create(
        &admin,
        json!({ "name": "Nightly reconciliation", "scopes": ["inventory:read"], "erpCustomerNames": ["Acme Foods"] }),
    )
    .await;
    assert!(secret.starts_with("cpt_") && secret.len() == 47, "{secret}");

    // Stored only as a hash; listed without its secret.
    let stored: String = app
        .db()
        .query_row("SELECT token_hash FROM ApiTokens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored.len(), 64);
    assert_ne!(stored, secret);
    let list = admin
        .graphql("{ apiTokens { name scopes active createdBy } }")
        .await;
    assert_eq!(list["data"]["apiTokens"][0]["createdBy"], "cp_admin");
    assert!(!list.to_string().contains(&secret[4..]));

    // A tool: no cookie, no CSRF token; rows only of its ERP customers.
    let inv = bearer_json(
        &app,
        &secret,
        "{ viewer { kind } inventory(first: 5000) { totalCount rows { customer } } }",
    )
    .await;
    assert!(inv["errors"].is_null(), "{inv}");
    assert_eq!(inv["data"]["viewer"]["kind"], "TOKEN");
    let rows = inv["data"]["inventory"]["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["customer"] == "Acme Foods"));
    assert_eq!(
        rows.len() as i64,
        inv["data"]["inventory"]["totalCount"].as_i64().unwrap(),
        "a token may take up to 5,000 rows a page"
    );
    // Narrowing never widens.
    let other = bearer_json(
        &app,
        &secret,
        r#"{ inventory(erpCustomerNames: ["O'Malley Brewing"]) { totalCount } }"#,
    )
    .await;
    assert_eq!(other["data"]["inventory"]["totalCount"], 0, "{other}");
    // Anything its scopes do not name is FORBIDDEN, shaped as for a customer.
    let audit = bearer_json(&app, &secret, "{ auditLog { totalCount } }").await;
    assert_eq!(code(&audit), Some("FORBIDDEN"), "{audit}");

    // The bearer wins over a browser's cookie: an admin session lends it nothing.
    let with_cookie: Value = admin
        .client
        .post(admin.url("/graphql"))
        .bearer_auth(&secret)
        .json(&json!({ "query": "{ auditLog { totalCount } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(code(&with_cookie), Some("FORBIDDEN"), "{with_cookie}");

    // Pages never take tokens.
    let page = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/inventory"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303);

    // Revoked: refused at the very next request, with the RFC 6750 challenge.
    let revoke = admin
        .graphql_vars(
            "mutation($id: ID!) { revokeApiToken(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(revoke["data"]["revokeApiToken"], true, "{revoke}");
    let refused = bearer(&app, &secret, "{ viewer { kind } }").await;
    assert_eq!(refused.status(), 401);
    assert!(
        refused.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\"")
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(code(&body), Some("UNAUTHENTICATED"));
    // An unknown token is refused the same way.
    assert_eq!(
        bearer(&app, "cpt_nope", "{ viewer { kind } }")
            .await
            .status(),
        401
    );

    let actions: Vec<String> = app
        .db()
        .prepare(
            "SELECT action_type FROM AuditLog WHERE action_type LIKE 'API_TOKEN_%' ORDER BY log_id",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        actions,
        ["API_TOKEN_CREATE", "API_TOKEN_REVOKE", "API_TOKEN_REFUSED"]
    );
}

#[tokio::test]
async fn an_expired_token_is_refused_and_audited() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "50")]).await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "BI loader", "scopes": ["analytics:read"] }),
    )
    .await;
    let ok = bearer_json(&app, &secret, "{ analytics { activeCustomers } }").await;
    assert!(ok["errors"].is_null(), "{ok}");
    app.db()
        .execute(
            "UPDATE ApiTokens SET expires_at = '2020-01-01T00:00:00.000000Z'",
            [],
        )
        .unwrap();
    assert_eq!(
        bearer(&app, &secret, "{ analytics { activeCustomers } }")
            .await
            .status(),
        401
    );
    let details: String = app
        .db()
        .query_row(
            "SELECT details FROM AuditLog WHERE action_type = 'API_TOKEN_REFUSED'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(details.contains("expired"), "{details}");
}

/// Every scope reaches exactly the fields it names; the rest answer FORBIDDEN.
#[tokio::test]
async fn each_scope_opens_exactly_its_fields() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "50")]).await;
    let admin = admin_browser(&app).await;
    // (field, the one scope that opens it; None: admin sessions only, never a token).
    let fields: &[(&str, Option<&str>)] = &[
        ("{ inventory { totalCount } }", Some("inventory:read")),
        ("{ customers { email } }", Some("customers:read")),
        ("{ customerPage { totalCount } }", Some("customers:read")),
        (
            "{ activeSessionPage { totalCount } }",
            Some("sessions:read"),
        ),
        ("{ erpCustomerNames }", Some("customers:read")),
        ("{ auditLog { totalCount } }", Some("audit:read")),
        ("{ activeSessions { sessionId } }", Some("sessions:read")),
        ("{ analytics { activeCustomers } }", Some("analytics:read")),
        (
            r#"mutation { setCustomerActive(id: "999999", active: false) { id } }"#,
            Some("customers:write"),
        ),
        (r#"mutation { kickSession(sessionId: "x") }"#, None),
        ("{ apiTokens { id } }", None),
        ("{ outbox { file } }", None),
        (
            r#"mutation { changePassword(input: {currentPassword: "a", newPassword: "b", confirmPassword: "b"}) }"#,
            None,
        ),
    ];
    let scopes = [
        "inventory:read",
        "customers:read",
        "customers:write",
        "audit:read",
        "sessions:read",
        "analytics:read",
    ];
    for scope in scopes {
        let (secret, _) = create(
            &admin,
            json!({ "name": format!("only {scope}"), "scopes": [scope], "erpCustomerNames": ["All"] }),
        )
        .await;
        for (query, opens) in fields {
            let answer = bearer_json(&app, &secret, query).await;
            let got = code(&answer);
            if *opens == Some(scope) {
                // Allowed: no access error (a missing account is NOT_FOUND, not FORBIDDEN).
                assert!(
                    got != Some("FORBIDDEN") && got != Some("UNAUTHENTICATED"),
                    "{scope} should open {query}: {answer}"
                );
            } else {
                assert!(
                    got == Some("FORBIDDEN") || got == Some("GRAPHQL_VALIDATION_FAILED"),
                    "{scope} must not open {query}: {answer}"
                );
            }
        }
    }
}

#[tokio::test]
async fn exports_take_a_token_with_inventory_read() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "200")]).await;
    let admin = admin_browser(&app).await;
    let (reader, _) = create(
        &admin,
        json!({ "name": "export", "scopes": ["inventory:read"], "erpCustomerNames": ["Acme Foods"] }),
    )
    .await;
    let (auditor, _) = create(&admin, json!({ "name": "audit", "scopes": ["audit:read"] })).await;
    let client = reqwest::Client::new();
    let csv = client
        .get(app.url("/inventory/export.csv"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert!(!lines.is_empty());
    assert!(
        // Customer (then the empty Customer Part) after the old portal's twelve columns.
        lines.iter().all(|l| l.contains(",Acme Foods,,")),
        "{text:.300}"
    );
    let xlsx = client
        .get(app.url("/inventory/export.xlsx"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), 200);
    let forbidden = client
        .get(app.url("/inventory/export.csv"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    let bad = client
        .get(app.url("/inventory/export.csv"))
        .bearer_auth("cpt_unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(bad.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn costly_operations_are_refused_before_they_run_and_budgets_answer_429() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "300")]).await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "small", "scopes": ["inventory:read"], "erpCustomerNames": ["All"], "rowsPerMinute": 1000 }),
    )
    .await;
    // 300 aliases of 500 rows: refused on its cost, not run.
    let mut q = String::from("{");
    for i in 0..300 {
        q.push_str(&format!(
            " a{i}: inventory(first: 500) {{ rows {{ part }} }}"
        ));
    }
    q.push('}');
    let started = std::time::Instant::now();
    let abusive = bearer_json(&app, &secret, &q).await;
    assert_eq!(code(&abusive), Some("QUERY_TOO_COSTLY"), "{abusive}");
    eprintln!("300 x 500 aliases refused in {:?}", started.elapsed());
    let wide = "{ a: inventory(first: 5000) { rows { part } } b: inventory(first: 5000) { rows { part } } c: inventory(first: 5000) { rows { part } } d: inventory(first: 5000) { rows { part } } e: inventory(first: 5000) { rows { part } } }";
    assert_eq!(
        code(&bearer_json(&app, &secret, wide).await),
        Some("QUERY_TOO_COSTLY")
    );

    // The token's budget: 1,000 rows a minute, of which the two refusals above took a
    // tenth each (refusing costs work too); each answer says what it cost.
    let first = bearer(&app, &secret, "{ inventory(first: 600) { rows { part } } }").await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers()["ratelimit-policy"].to_str().unwrap(),
        "\"rows\";q=1000;w=60"
    );
    assert!(
        first.headers()["ratelimit"]
            .to_str()
            .unwrap()
            .starts_with("\"rows\";r=200;t=")
    );
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["extensions"]["cost"]["rows"], 600);
    let second = bearer(&app, &secret, "{ inventory(first: 600) { rows { part } } }").await;
    assert_eq!(second.status(), 429);
    let retry: u64 = second.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let body: Value = second.json().await.unwrap();
    assert_eq!(code(&body), Some("RATE_LIMITED"));
    // A cheaper operation still fits what is left.
    let small = bearer_json(&app, &secret, "{ inventory(first: 150) { rows { part } } }").await;
    assert!(small["errors"].is_null(), "{small}");
    // A caller that keeps sending refused work has soon spent its budget, and is then
    // answered before its query is even parsed.
    let (flood, _) = create(
        &admin,
        json!({ "name": "flood", "scopes": ["inventory:read"], "erpCustomerNames": ["All"] }),
    )
    .await;
    for _ in 0..10 {
        assert_eq!(
            code(&bearer_json(&app, &flood, &q).await),
            Some("QUERY_TOO_COSTLY")
        );
    }
    let cut = bearer(&app, &flood, &q).await;
    assert_eq!(cut.status(), 429);
    assert!(cut.headers().contains_key("retry-after"));

    // Anonymous callers may ask who they are and nothing else, before anything runs.
    let browser = app.other_browser();
    let csrf = browser.csrf_token().await;
    let anon = browser
        .client
        .post(app.url("/graphql"))
        .header("X-CSRF-Token", csrf)
        .json(&json!({ "query": "{ inventory { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let body: Value = anon.json().await.unwrap();
    assert_eq!(code(&body), Some("UNAUTHENTICATED"));
    assert!(browser.graphql("{ viewer { kind } }").await["errors"].is_null());
    // Tools may read the schema; anonymous callers may not.
    let intro = bearer_json(&app, &secret, "{ __schema { queryType { name } } }").await;
    assert_eq!(
        intro["data"]["__schema"]["queryType"]["name"], "Query",
        "{intro}"
    );
}

#[tokio::test]
async fn token_input_is_checked_field_by_field() {
    let app = admin_app(&[]).await;
    let admin = admin_browser(&app).await;
    let resp = admin
        .graphql_vars(
            CREATE,
            json!({ "input": { "name": " ", "scopes": ["inventory:write"], "expiresAt": "2020-01-01T00:00:00Z" } }),
        )
        .await;
    assert_eq!(code(&resp), Some("BAD_USER_INPUT"));
    let fields = &resp["errors"][0]["extensions"]["fields"];
    for f in ["name", "scopes", "expires_at"] {
        assert!(fields[f].is_string(), "{f}: {resp}");
    }
    // A token cannot issue tokens.
    let (secret, _) = create(
        &admin,
        json!({ "name": "x", "scopes": ["customers:write"] }),
    )
    .await;
    let nested = bearer_json(
        &app,
        &secret,
        r#"mutation { createApiToken(input: {name: "y", scopes: ["audit:read"]}) { secret } }"#,
    )
    .await;
    assert_eq!(code(&nested), Some("FORBIDDEN"), "{nested}");
}

/// An ERP whose rows move on every read: one lot leaves at the front and one arrives at
/// the end, as stock does while a tool pulls.
struct Shifting {
    reads: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl customer_portal::erp::ErpSource for Shifting {
    fn name(&self) -> &'static str {
        "shifting"
    }
    async fn inventory_rows(
        &self,
        _: &customer_portal::domain::ErpScope,
    ) -> Result<Vec<customer_portal::erp::InventoryRow>, customer_portal::erp::ErpError> {
        let g = self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok((g..g + 50)
            .map(|i| customer_portal::erp::InventoryRow {
                customer: "Acme Foods".into(),
                part: format!("P{i:04}"),
                user_lot: format!("L{i:04}"),
                on_hand_qty: 1.0,
                status: "Available".into(),
                ..Default::default()
            })
            .collect())
    }
    async fn customer_names(&self) -> Result<Vec<String>, customer_portal::erp::ErpError> {
        Ok(vec!["Acme Foods".into()])
    }
    async fn ping(&self) -> Result<(), customer_portal::erp::ErpError> {
        Ok(())
    }
}

const PULL: &str = "query($after: String, $sort: [InventorySort!]) { inventory(first: 7, after: $after, sort: $sort) { nextCursor rows { part } } }";

async fn pull_page(app: &TestApp, secret: &str, vars: Value) -> Value {
    bearer_vars(app, secret, PULL, vars).await
}

#[tokio::test]
async fn a_pull_reads_one_snapshot_even_when_the_rows_change_midway() {
    let hash = cheap_hash(crate::admin::ADMIN_PW);
    let app = spawn_with_erp(
        std::sync::Arc::new(Shifting {
            reads: Default::default(),
        }),
        &[
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &hash),
            // Every request without a cursor reads the ERP afresh.
            ("ERP_CACHE_SECONDS", "0"),
        ],
    )
    .await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "puller", "scopes": ["inventory:read"], "erpCustomerNames": ["All"] }),
    )
    .await;
    let mut parts: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = pull_page(&app, &secret, json!({ "after": after })).await;
        assert!(page["errors"].is_null(), "{page}");
        let inv = &page["data"]["inventory"];
        parts.extend(
            inv["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["part"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        // Meanwhile another caller reads the live rows: the ERP moves on.
        let live = pull_page(&app, &secret, json!({})).await;
        assert!(live["errors"].is_null());
        match inv["nextCursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 20, "the pull ends");
    }
    let expected: Vec<String> = (0..50).map(|i| format!("P{i:04}")).collect();
    assert_eq!(
        parts, expected,
        "exactly the first snapshot's rows, none twice, none missing"
    );
    assert_eq!(pages, 8);

    // A cursor belongs to its view: another sort is refused.
    let first = pull_page(&app, &secret, json!({})).await;
    let cursor = first["data"]["inventory"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = pull_page(
        &app,
        &secret,
        json!({ "after": cursor, "sort": [{ "field": "part", "direction": "DESC" }] }),
    )
    .await;
    assert_eq!(code(&other), Some("BAD_USER_INPUT"), "{other}");
    assert!(
        other["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cursor does not match")
    );
    // A hand-made cursor is refused.
    let forged = pull_page(&app, &secret, json!({ "after": "bzoxMDA" })).await;
    assert_eq!(code(&forged), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn the_api_page_issues_shows_once_and_revokes_tokens() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "50")]).await;
    let admin = admin_browser(&app).await;
    let page = admin.get("/admin/api").await.text().await.unwrap();
    assert!(
        page.contains(r#"href="/admin/api""#),
        "in the admin navigation"
    );
    assert!(page.contains("inventory:read") && page.contains("/graphql/schema.graphql"));
    let csrf = admin.csrf_token().await;
    let created = admin
        .client
        .post(admin.url("/admin/api/tokens"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("name", "Warehouse dashboard"),
            ("scope", "inventory:read"),
            ("scope", "analytics:read"),
            ("erp_customer_names", "Acme Foods"),
            ("expires", "2099-12-31"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.headers()["cache-control"].to_str().unwrap(),
        "no-store"
    );
    let html = created.text().await.unwrap();
    let start = html.find("cpt_").expect("the secret is shown once");
    let secret: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(secret.len(), 47);
    assert!(html.contains("data-copy"), "with a copy button");
    let again = admin.get("/admin/api").await.text().await.unwrap();
    assert!(!again.contains(&secret), "and never again");
    assert!(again.contains("Warehouse dashboard") && again.contains("12/31/2099"));
    let ok = bearer_json(&app, &secret, "{ analytics { activeCustomers } }").await;
    assert!(ok["errors"].is_null(), "{ok}");

    // A form error names the field and keeps what was typed.
    let bad = admin
        .client
        .post(admin.url("/admin/api/tokens"))
        .form(&[("csrf_token", csrf.as_str()), ("name", "No scopes")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(bad.contains("Choose at least one scope.") && bad.contains("value=\"No scopes\""));

    // The SDL, for admins and tools only.
    let sdl = admin
        .get("/graphql/schema.graphql")
        .await
        .text()
        .await
        .unwrap();
    assert!(sdl.contains("type Query"));
    assert_eq!(
        app.other_browser()
            .get("/graphql/schema.graphql")
            .await
            .status(),
        401
    );
    let tool_sdl = reqwest::Client::new()
        .get(app.url("/graphql/schema.graphql"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(tool_sdl.status(), 200);

    let id: i64 = app
        .db()
        .query_row("SELECT token_id FROM ApiTokens", [], |r| r.get(0))
        .unwrap();
    let revoked = admin
        .client
        .post(admin.url(&format!("/admin/api/tokens/{id}/revoke")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&revoked), "/admin/api");
    assert!(
        admin
            .get("/admin/api")
            .await
            .text()
            .await
            .unwrap()
            .contains("Token revoked")
    );
    assert_eq!(
        bearer(&app, &secret, "{ viewer { kind } }").await.status(),
        401
    );
}

/// The example script in `examples/` pulls what the export holds, row for row.
#[tokio::test]
async fn the_example_script_pulls_the_exports_rows() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "12000")]).await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "example", "scopes": ["inventory:read"], "erpCustomerNames": ["All"] }),
    )
    .await;
    let out = tempfile::tempdir().unwrap();
    let csv_path = out.path().join("pulled.csv");
    let args = ["--out".as_ref(), csv_path.as_os_str()];
    if run_example(&app, "pull_inventory.py", &secret, &args)
        .await
        .is_none()
    {
        return;
    }
    let pulled = std::fs::read_to_string(&csv_path).unwrap();
    let export = reqwest::Client::new()
        .get(app.url("/inventory/export.csv"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Same header, same rows in the same order (the example writes what the export writes
    // for these columns; quantities compared as numbers).
    let rows = |text: &str| -> Vec<Vec<String>> {
        text.trim_start_matches('\u{feff}')
            .lines()
            .map(split_csv)
            .collect()
    };
    let (a, b) = (rows(&pulled), rows(&export));
    assert_eq!(a[0], b[0], "header");
    assert_eq!(a.len(), b.len(), "row count");
    assert!(a.len() > 5_001, "more than one page: {}", a.len());
    for (i, (x, y)) in a.iter().zip(&b).enumerate().skip(1) {
        assert_eq!(x.len(), y.len(), "row {i}");
        for (c, (p, q)) in x.iter().zip(y).enumerate() {
            if c == 2 {
                // On Hand Qty.
                assert_eq!(
                    p.parse::<f64>().unwrap(),
                    q.parse::<f64>().unwrap(),
                    "row {i}"
                );
            } else {
                assert_eq!(
                    p.trim_start_matches('\''),
                    q.trim_start_matches('\''),
                    "row {i} col {c}"
                );
            }
        }
    }
}

pub fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

/// A CSV line split on commas outside quotes (enough for these files: no line breaks
/// inside fields).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[tokio::test]
async fn the_audit_log_pages_by_key_with_cursors_bound_to_their_filter() {
    let app = admin_app(&[]).await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "auditor", "scopes": ["audit:read"] }),
    )
    .await;
    for i in 0..7 {
        app.db()
            .execute(
                "INSERT INTO AuditLog (timestamp, admin_username, action_type, details) VALUES ('2026-01-01 00:00:00', 'SYSTEM', 'BULK', ?1)",
                [i.to_string()],
            )
            .unwrap();
    }
    const PAGE: &str = r#"query($after: String, $action: String) { auditLog(first: 3, after: $after, filter: {actionType: $action}) { nextCursor entries { details } } }"#;
    let page = |vars: Value| {
        let app = &app;
        let secret = secret.clone();
        async move { bearer_vars(app, &secret, PAGE, vars).await }
    };
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let p = page(json!({ "after": after, "action": "BULK" })).await;
        assert!(p["errors"].is_null(), "{p}");
        for e in p["data"]["auditLog"]["entries"].as_array().unwrap() {
            seen.push(e["details"].as_str().unwrap().to_owned());
        }
        // New rows arrive while the tool pages: they do not shift its pages.
        app.db()
            .execute(
                "INSERT INTO AuditLog (timestamp, admin_username, action_type, details) VALUES ('2026-01-01 00:00:00', 'SYSTEM', 'BULK', 'new')",
                [],
            )
            .unwrap();
        match p["data"]["auditLog"]["nextCursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        ["6", "5", "4", "3", "2", "1", "0"],
        "newest first, none twice"
    );
    let first = page(json!({ "action": "BULK" })).await;
    let cursor = first["data"]["auditLog"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = page(json!({ "after": cursor, "action": "CUSTOMER_LOGIN" })).await;
    assert_eq!(code(&other), Some("BAD_USER_INPUT"), "{other}");
}

#[tokio::test]
async fn accounts_and_sessions_page_with_signed_cursors() {
    let app = admin_app(&[]).await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "lists", "scopes": ["customers:read", "sessions:read"] }),
    )
    .await;
    for i in 0..7 {
        let email = format!("p{i}@example.com");
        app.add_customer(&email, PASSWORD, "Acme Foods", false)
            .await;
        let b = app.other_browser();
        assert_eq!(location(&b.login(&email, PASSWORD).await), "/inventory");
    }
    for (field, list, key) in [
        (
            "customerPage(status: ALL, first: 3, after: $after)",
            "customers",
            "email",
        ),
        (
            "activeSessionPage(first: 3, after: $after)",
            "sessions",
            "sessionId",
        ),
    ] {
        let query = format!(
            "query($after: String) {{ p: {field} {{ totalCount nextCursor {list} {{ {key} }} }} }}"
        );
        let mut seen: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let resp = bearer_vars(&app, &secret, &query, json!({ "after": after })).await;
            assert!(resp["errors"].is_null(), "{resp}");
            for item in resp["data"]["p"][list].as_array().unwrap() {
                seen.push(item[key].as_str().unwrap().to_owned());
            }
            match resp["data"]["p"]["nextCursor"].as_str() {
                Some(c) => after = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 7, "{list}: {seen:?}");
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 7, "none twice");
    }
    let forged = bearer_json(
        &app,
        &secret,
        "{ customerPage(after: \"AAAAAAAAAAE\") { totalCount } }",
    )
    .await;
    assert_eq!(code(&forged), Some("BAD_USER_INPUT"));
}

/// Asks for `rows { selection }` of the first `n` demo rows with a token twice — as written,
/// and with `again @include(if: true)` added (a field already selected: the directive sends
/// the rows through the executor) — asserts the data alike to the byte, and gives back the
/// rows.
async fn rows_both_roads(n: u32, selection: &str, again: &str, fragments: &str) -> Vec<Value> {
    let app = admin_app(&[("DEMO_ERP_ROWS", &n.to_string())]).await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "Roads", "scopes": ["inventory:read"], "erpCustomerNames": ["All"] }),
    )
    .await;
    let text = |rows: String| {
        let (app, secret) = (&app, &secret);
        async move {
            let q = format!(
                "{{ inventory(first: {n}) {{ totalCount rows {{ {rows} }} }} }} {fragments}"
            );
            let resp = bearer(app, secret, &q).await;
            assert_eq!(resp.status(), 200);
            resp.text().await.unwrap()
        }
    };
    let plain = text(selection.to_owned()).await;
    let executed = text(format!("{selection} {again} @include(if: true)")).await;
    // The data alike to the byte (the cost extension after it tells the budget left).
    let data = |t: &str| t.split(",\"extensions\":").next().unwrap().to_owned();
    assert_eq!(data(&plain), data(&executed));
    let answer: Value = serde_json::from_str(&plain).unwrap();
    let rows = answer["data"]["inventory"]["rows"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len(), n as usize, "{answer}");
    rows
}

/// A tool's pull is written straight from the rows when it asks for plain fields only; the
/// same rows through the executor answer the very same bytes, field by field, dates,
/// expiry days and duplicated keys included.
#[tokio::test]
async fn a_plain_pull_answers_the_same_bytes_as_the_executor() {
    let fields = "customer part customerPart description onHandQty unit bin reference userLot expDate lastTransactionDate lastRecDate po status daysToExpiry minimumQty belowMinimum __typename p: part part";
    let rows = rows_both_roads(600, fields, "bin", "").await;
    assert!(
        rows.iter()
            .all(|r| r["belowMinimum"] == false && r["minimumQty"].is_null())
    );
    assert!(rows.iter().any(|r| r["daysToExpiry"].is_i64()));
    assert!(
        rows.iter()
            .all(|r| r["__typename"] == "InventoryRow" && r["p"] == r["part"])
    );
}

/// The grid's own selection (a fragment, the forecast below each row) is written straight
/// from the rows as well, the same bytes as the executor's.
#[tokio::test]
async fn a_grid_selection_with_fragments_and_forecasts_answers_the_same_bytes() {
    let fragment = "fragment R on InventoryRow { part onHandQty expDate daysToExpiry minimumQty belowMinimum forecast { status historyDays dailyUse daysOfCover runsOutOn belowMinimumOn } }";
    let rows = rows_both_roads(400, "...R customer", "customer", fragment).await;
    assert!(
        rows.iter()
            .all(|r| r["forecast"]["status"].is_string() && r["forecast"]["historyDays"].is_i64()),
        "{rows:?}"
    );
}

/// `/graphql` validates every operation by every rule (the pages' own operations, checked
/// when the portal is compiled, skip that on a second instance of the schema): an unused
/// variable and a field asked twice with different arguments under one name are refused.
#[tokio::test]
async fn the_api_validates_every_operation_by_every_rule() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "50")]).await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "Strict", "scopes": ["inventory:read"], "erpCustomerNames": ["All"] }),
    )
    .await;
    for (query, says) in [
        (
            "query($unused: Int) { inventory(first: 1) { totalCount } }",
            "unused",
        ),
        (
            "{ inventory(first: 1) { totalCount } inventory(first: 2) { totalCount } }",
            "differing arguments",
        ),
    ] {
        let resp = bearer(&app, &secret, query).await;
        let body: Value = resp.json().await.unwrap();
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            body["data"].is_null() && message.contains(says),
            "{query}: {body}"
        );
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{body}"
        );
    }
}
