//! Abuse, second pass: rows counted however an operation spells them, every password check
//! throttled, limits that hold under concurrency and across instances, token scopes that
//! name real customers, a panic that costs one request.

use serde_json::{Value, json};

use crate::admin::{admin_app, admin_browser};
use crate::api_tokens::{bearer_json, code, create};
use crate::helpers::*;

#[tokio::test]
async fn rows_behind_fragments_are_charged_and_the_worst_query_is_refused() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "300")]).await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "puller", "scopes": ["inventory:read"], "erpCustomerNames": ["All"] }),
    )
    .await;
    // The measured attack: 20 connections of 5,000, each spreading a fragment with five
    // aliases of `rows`. Refused before anything runs.
    let mut q = String::from("{");
    for i in 0..20 {
        q.push_str(&format!(" a{i}: inventory(first: 5000) {{ ...R }}"));
    }
    q.push_str(" } fragment R on InventoryConnection {");
    for i in 0..5 {
        q.push_str(&format!(" r{i}: rows {{ part description onHandQty }}"));
    }
    q.push_str(" }");
    let refused = bearer_json(&app, &secret, &q).await;
    assert_eq!(code(&refused), Some("QUERY_TOO_COSTLY"), "{refused}");
    assert!(refused["data"].is_null());

    // One page through a fragment with two aliases, and through nested inline fragments:
    // charged as the rows they return.
    let one = "{ inventory(first: 100) { ...R } } fragment R on InventoryConnection { a: rows { part } b: rows { part } }";
    let answer = bearer_json(&app, &secret, one).await;
    assert!(answer["errors"].is_null(), "{answer}");
    assert_eq!(answer["extensions"]["cost"]["rows"], 200);
    assert_eq!(
        answer["data"]["inventory"]["a"].as_array().unwrap().len(),
        100
    );
    let inline = "{ inventory(first: 50) { ... on InventoryConnection { ... { x: rows { part } y: rows { part } z: rows { part } } } } }";
    assert_eq!(
        bearer_json(&app, &secret, inline).await["extensions"]["cost"]["rows"],
        150
    );

    // A signed-in browser: its 500-row page, five times through a fragment.
    let browser = app.customer_browser("All").await;
    let five = "{ inventory(first: 500) { ...R } } fragment R on InventoryConnection { a: rows { part } b: rows { part } c: rows { part } d: rows { part } e: rows { part } }";
    assert_eq!(
        browser.graphql(five).await["extensions"]["cost"]["rows"],
        2_500
    );

    // The admin lists have no gap either.
    let audit = "{ auditLog(first: 400) { ...A } } fragment A on AuditLogPage { a: entries { id } b: entries { id } }";
    assert_eq!(
        admin.graphql(audit).await["extensions"]["cost"]["rows"],
        800
    );
    let many = format!(
        "{{ customerPage(first: 500) {{ ...C }} }} fragment C on CustomerPage {{ {} }}",
        (0..50)
            .map(|i| format!("c{i}: customers {{ id }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let refused = admin.graphql(&many).await;
    assert_eq!(code(&refused), Some("QUERY_TOO_COSTLY"), "{refused}");
}

#[tokio::test]
async fn a_thousand_duplicate_fields_are_refused_with_a_clear_error() {
    let app = spawn_app().await;
    let browser = app.customer_browser("Acme Foods").await;
    let many: String = (0..1_001).map(|_| " kind").collect();
    let answer = browser.graphql(&format!("{{ viewer {{{many} }} }}")).await;
    assert_eq!(code(&answer), Some("QUERY_TOO_COSTLY"), "{answer}");
    let message = answer["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("1000 fields"), "{message}");
    // The same fields spread four times from a fragment count four times.
    let some: String = (0..300).map(|_| " kind").collect();
    let answer = browser
        .graphql(&format!(
            "{{ viewer {{ ...F ...F ...F ...F }} }} fragment F on Viewer {{{some} }}"
        ))
        .await;
    assert_eq!(code(&answer), Some("QUERY_TOO_COSTLY"), "{answer}");
}

const CHANGE: &str = "changePassword(input: { currentPassword: \"%CURRENT%\", newPassword: \"A-brand-new-password-1\", confirmPassword: \"A-brand-new-password-1\" })";

fn change_aliases(from: usize, to: usize) -> String {
    let fields: String = (from..to)
        .map(|i| {
            format!(
                " g{i}: {}",
                CHANGE.replace("%CURRENT%", &format!("wrong-guess-{i}"))
            )
        })
        .collect();
    format!("mutation {{{fields} }}")
}

#[tokio::test]
async fn a_stolen_session_cannot_guess_the_current_password() {
    let app = spawn_app().await;
    let email = "stolen@example.com";
    app.add_customer(email, PASSWORD, "Acme Foods", false).await;
    let thief = app.other_browser();
    assert_eq!(location(&thief.login(email, PASSWORD).await), "/inventory");
    // Forty guesses in two requests, as aliases: the fifth wrong one ends the session and
    // no further one is checked.
    let first = thief.graphql(&change_aliases(0, 20)).await;
    let errors = first["errors"].as_array().unwrap();
    let codes: Vec<&str> = errors
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 20, "{first}");
    assert!(
        codes[..4].iter().all(|c| *c == "BAD_USER_INPUT"),
        "{codes:?}"
    );
    assert!(
        codes[4..].iter().all(|c| *c == "UNAUTHENTICATED"),
        "{codes:?}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM LoginFailures WHERE login_name = 'customer:{email}'"
        )),
        5,
        "five passwords were checked, the rest were not"
    );
    let second = thief.graphql(&change_aliases(20, 40)).await;
    assert_eq!(code(&second), Some("UNAUTHENTICATED"), "{second}");
    // The right password changes nothing now: the session is gone.
    let right = thief
        .graphql(&format!(
            "mutation {{ {} }}",
            CHANGE.replace("%CURRENT%", PASSWORD)
        ))
        .await;
    assert_eq!(code(&right), Some("UNAUTHENTICATED"), "{right}");
    assert_eq!(
        location(&thief.get("/inventory").await),
        "/login?next=%2Finventory"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_SESSION_GUESSING'"),
        1
    );
    // The owner still signs in with the old password.
    let owner = app.other_browser();
    assert_eq!(location(&owner.login(email, PASSWORD).await), "/inventory");
}

#[tokio::test]
async fn wrong_current_passwords_meet_the_sign_in_throttle() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")], false).await;
    app.add_customer("guarded@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let browser = app.other_browser();
    let csrf = browser.csrf_token().await;
    let login = browser
        .client
        .post(browser.url("/login"))
        .header("CF-Connecting-IP", "198.51.100.1")
        .form(&[
            ("email", "guarded@example.com"),
            ("password", PASSWORD),
            ("hp_email", ""),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&login), "/inventory");
    // Ten failures for the account from this address already (sign-in attempts, two
    // minutes ago: the account's own delay has passed, the address's limit has not).
    let store = app.store();
    let now = time::OffsetDateTime::now_utc() - time::Duration::minutes(2);
    for _ in 0..10 {
        store
            .record_login_failure("customer:guarded@example.com", Some("203.0.113.7"), now)
            .await
            .unwrap();
    }
    // Now from the address that has had its ten: refused before any check, 429.
    let csrf = browser.csrf_token().await;
    let refused = browser
        .client
        .post(browser.url("/graphql"))
        .header("X-CSRF-Token", csrf)
        .header("CF-Connecting-IP", "203.0.113.7")
        .json(&json!({ "query": format!("mutation {{ {} }}", CHANGE.replace("%CURRENT%", "wrong-one")) }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(code(&body), Some("RATE_LIMITED"), "{body}");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

#[tokio::test]
async fn sixteen_concurrent_saves_at_the_limit_leave_exactly_the_limit() {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "200")], false).await;
    let browser = app.customer_browser("Acme Foods").await;
    for i in 0..48 {
        let r = browser
            .graphql(&format!(
                "mutation {{ saveView(name: \"v{i}\", query: \"q=x{i}\") {{ id }} }}"
            ))
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let mut tasks = Vec::new();
    for i in 0..16 {
        let b = TestApp {
            client: browser.client.clone(),
            ..browser.other_browser()
        };
        tasks.push(tokio::spawn(async move {
            b.graphql(&format!(
                "mutation {{ saveView(name: \"race{i}\", query: \"q=r{i}\") {{ id }} }}"
            ))
            .await
        }));
    }
    let mut saved = 0;
    for t in tasks {
        let r = t.await.unwrap();
        if r["errors"].is_null() {
            saved += 1;
        } else {
            let message = r["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("You can keep 50 views"), "{r}");
        }
    }
    assert_eq!(saved, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM SavedViews"), 50);

    // The same for scheduled mails: 18, then 16 at once, leave 20.
    for h in 0..18 {
        let r = browser
            .graphql(&format!(
                "mutation {{ subscribeReport(input: {{ hour: {} }}) {{ id }} }}",
                h % 24
            ))
            .await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let mut tasks = Vec::new();
    for h in 0..16 {
        let b = TestApp {
            client: browser.client.clone(),
            ..browser.other_browser()
        };
        tasks.push(tokio::spawn(async move {
            b.graphql(&format!(
                "mutation {{ subscribeReport(input: {{ hour: {h}, format: CSV }}) {{ id }} }}"
            ))
            .await
        }));
    }
    let mut subscribed = 0;
    for t in tasks {
        let r = t.await.unwrap();
        if r["errors"].is_null() {
            subscribed += 1;
        } else {
            assert!(
                r["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("You can have 20 scheduled mails"),
                "{r}"
            );
        }
    }
    assert_eq!(subscribed, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM ReportSubscriptions"), 20);
}

#[tokio::test]
async fn tokens_name_real_erp_customers_only() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "200")]).await;
    let admin = admin_browser(&app).await;
    for names in [
        json!(["\u{410}ll"]),
        json!(["Nobody Industries"]),
        json!(["all"]),
    ] {
        let answer = admin
            .graphql_vars(
                crate::api_tokens::CREATE,
                json!({ "input": { "name": "t", "scopes": ["inventory:read"], "erpCustomerNames": names } }),
            )
            .await;
        assert_eq!(code(&answer), Some("BAD_USER_INPUT"), "{answer}");
        let fields = &answer["errors"][0]["extensions"]["fields"];
        assert!(
            fields["erp_customer_names"]
                .as_str()
                .unwrap()
                .starts_with("Not an ERP customer:"),
            "{answer}"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM ApiTokens"), 0);
    // Real names are kept as the ERP spells them, exactly as an account's are.
    let answer = admin
        .graphql_vars(
            crate::api_tokens::CREATE,
            json!({ "input": { "name": "t", "scopes": ["inventory:read"], "erpCustomerNames": [" acme foods "] } }),
        )
        .await;
    assert_eq!(
        answer["data"]["createApiToken"]["token"]["erpCustomerNames"],
        json!(["Acme Foods"]),
        "{answer}"
    );
}

#[tokio::test]
async fn two_instances_on_one_database_check_at_most_the_limit() {
    let first = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")], false).await;
    let data = first.data_path.to_str().unwrap().to_owned();
    let second = spawn_app_with(
        &[("TRUSTED_PROXIES", "127.0.0.1"), ("DATA_DIR", &data)],
        false,
    )
    .await;
    first
        .add_customer("shared@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let b = if i % 2 == 0 {
            first.other_browser()
        } else {
            second.other_browser()
        };
        tasks.push(tokio::spawn(async move {
            let csrf = b.csrf_token().await;
            b.client
                .post(b.url("/login"))
                .header("CF-Connecting-IP", "203.0.113.50")
                .form(&[
                    ("email", "shared@example.com"),
                    ("password", "wrong-password-9"),
                    ("hp_email", ""),
                    ("csrf_token", csrf.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut checked = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => checked += 1,
            429 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(checked <= 10, "{checked} passwords checked");
    assert_eq!(
        first.count(
            "SELECT COUNT(*) FROM LoginFailures WHERE login_name = 'customer:shared@example.com'"
        ),
        checked
    );
}

#[tokio::test]
async fn a_panic_costs_one_request() {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "200")], false).await;
    let browser = app.customer_browser("Acme Foods").await;
    assert_eq!(browser.get("/inventory").await.status(), 200);
    app.state.inventory.inject_panic();
    let hit = browser.get("/inventory?q=boom").await;
    assert_eq!(hit.status(), 500);
    let id = hit.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = hit.text().await.unwrap();
    assert!(
        body.contains(&id),
        "the page names the request id {id}: {body:.500}"
    );
    // The cache's lock was held by the panicking request; the next one is served.
    for _ in 0..3 {
        assert_eq!(browser.get("/inventory").await.status(), 200);
    }
    let api = browser
        .graphql("{ inventory(first: 5) { totalCount } }")
        .await;
    assert!(api["errors"].is_null(), "{api}");
}

#[tokio::test]
async fn the_outbox_pages_newest_first() {
    let app = admin_app(&[]).await;
    let admin = admin_browser(&app).await;
    let dir = app.data_path.join("outbox");
    std::fs::create_dir_all(&dir).unwrap();
    let t0 = std::time::SystemTime::now() - std::time::Duration::from_secs(1_000);
    for i in 0..7 {
        let path = dir.join(format!("zz{i}.eml"));
        std::fs::write(
            &path,
            format!(
                "To: r{i}@example.com\r\nSubject: =?utf-8?q?Report_{i}_=E2=80=94_Acme?=\r\n\r\nbody"
            ),
        )
        .unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(t0 + std::time::Duration::from_secs(i))
            .unwrap();
    }
    let page = admin
        .graphql("{ outbox(first: 3) { file subject to } }")
        .await;
    let files: Vec<&str> = page["data"]["outbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["zz6.eml", "zz5.eml", "zz4.eml"], "{page}");
    assert_eq!(page["data"]["outbox"][0]["subject"], "Report 6 — Acme");
    let next = admin
        .graphql("{ outbox(first: 3, after: \"zz4.eml\") { file } }")
        .await;
    assert_eq!(next["data"]["outbox"][0]["file"], "zz3.eml", "{next}");
    let html = admin.get("/admin/outbox").await.text().await.unwrap();
    assert!(html.contains("Report 6 — Acme"), "{html:.2000}");
}
