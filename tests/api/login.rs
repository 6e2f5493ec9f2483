use std::time::Instant;

use crate::helpers::*;

const FAILED: &str = "Invalid email or password.";

#[tokio::test]
async fn login_page_has_the_form_fields_csrf_and_a_hidden_honeypot() {
    let app = spawn_app().await;
    let resp = app.get("/login").await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    for needle in [
        r#"name="email""#,
        r#"name="password""#,
        r#"name="hp_email""#,
        r#"name="csrf_token""#,
        r#"name="csrf-token""#,
    ] {
        assert!(html.contains(needle), "login page lacks {needle}");
    }
    assert!(
        html.contains(r#"class="hp-field""#),
        "honeypot is not hidden by the stylesheet class"
    );
    assert!(!extract_meta_csrf(&html).is_empty());
}

#[tokio::test]
async fn successful_login_records_session_login_date_and_audit_row() {
    let app = spawn_app().await;
    let id = app
        .add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // Email is trimmed and compared case-insensitively.
    let resp = app.login("  Jane@EXAMPLE.com ", PASSWORD).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/inventory");
    let cookie =
        set_cookie_named(resp.headers(), "cp_session").expect("a session cookie is issued");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "no Secure flag over plain http: {cookie}"
    );

    let db = app.db();
    let (ip, ua, created, seen): (String, Option<String>, String, String) = db
        .query_row(
            "SELECT ip_address, user_agent, created_at, last_seen FROM ActiveSessions WHERE customer_id = ?1",
            [id.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(ip, "127.0.0.1");
    assert_eq!(
        ua.as_deref(),
        Some(TEST_USER_AGENT),
        "the user agent is recorded"
    );
    assert_eq!(created, seen);
    let last_login: Option<String> = db
        .query_row(
            "SELECT last_login_date FROM Customers WHERE customer_id = ?1",
            [id.0],
            |r| r.get(0),
        )
        .unwrap();
    // last_login_date is one of the old local-time columns (APP_DB_TIME_ZONE, here the
    // host's zone); the session's times are UTC. Both hold the same instant.
    let zone = customer_portal::domain::Zone::host();
    assert_eq!(
        last_login.and_then(|l| customer_portal::store::parse_local(&l, &zone)),
        customer_portal::store::parse_ts(&created)
    );
    let (actor, email, details): (String, String, String) = db
        .query_row(
            "SELECT admin_username, target_customer_email, details FROM AuditLog WHERE action_type = 'CUSTOMER_LOGIN' AND target_customer_id = ?1",
            [id.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(actor, "SYSTEM");
    assert_eq!(email, "jane@example.com");
    assert_eq!(
        details, "Login from IP: 127.0.0.1",
        "the old portal's sentence"
    );

    let page = app.get("/inventory").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.unwrap().contains("Pat Tester"),
        "navbar shows the signed-in name"
    );
}

#[tokio::test]
async fn every_failure_kind_gets_the_same_answer_and_no_session() {
    let app = spawn_app().await;
    app.add_customer("active@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let inactive = app
        .add_customer("inactive@example.com", PASSWORD, "Acme Foods", false)
        .await;
    app.db()
        .execute(
            "UPDATE Customers SET is_active = 0 WHERE customer_id = ?1",
            [inactive.0],
        )
        .unwrap();

    for (email, password) in [
        ("nobody@example.com", PASSWORD),
        ("active@example.com", "wrong-password-123"),
        ("inactive@example.com", PASSWORD),
        ("not-an-email", PASSWORD),
        ("active@example.com", ""),
    ] {
        let resp = app.login(email, password).await;
        assert_eq!(resp.status(), 200, "{email}");
        assert!(
            set_cookie_named(resp.headers(), "cp_session").is_none(),
            "{email}: a session cookie was issued"
        );
        let html = resp.text().await.unwrap();
        let alerts: Vec<&str> = html
            .split(r#"role="alert">"#)
            .skip(1)
            .map(|s| s.split('<').next().unwrap())
            .collect();
        assert_eq!(
            alerts,
            vec![FAILED],
            "{email}: the page must say exactly the generic message"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 0);
    assert_eq!(app.get("/inventory").await.status(), 303);
}

#[tokio::test]
async fn unknown_email_costs_a_real_hash_check() {
    // The dummy verification makes "no such account" as slow as "wrong password"; without
    // it the unknown-email answer would come back in well under a millisecond of hashing.
    let app = spawn_app().await;
    app.add_customer_with_hash(
        "real@example.com",
        &werkzeug_hash::generate(PASSWORD),
        "Acme Foods",
        false,
    )
    .await;
    app.csrf_token().await;
    let time = |email: &'static str| {
        let app = &app;
        async move {
            let started = Instant::now();
            app.login(email, "wrong-password-123").await;
            started.elapsed()
        }
    };
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..3 {
        wrong.push(time("real@example.com").await);
        unknown.push(time("ghost@example.com").await);
    }
    wrong.sort();
    unknown.sort();
    let (w, u) = (wrong[1], unknown[1]);
    assert!(
        u * 3 >= w,
        "unknown email answered much faster ({u:?}) than a wrong password ({w:?})"
    );
}

#[tokio::test]
async fn a_filled_honeypot_fails_normally_and_creates_no_session() {
    let app = spawn_app().await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let resp = app
        .post_form(
            "/login",
            &[
                ("email", "jane@example.com"),
                ("password", PASSWORD),
                ("hp_email", "bot@spam.example"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(set_cookie_named(resp.headers(), "cp_session").is_none());
    assert!(resp.text().await.unwrap().contains(FAILED));
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_LOGIN'"),
        0
    );
}

#[tokio::test]
async fn login_issues_a_new_session_id_and_ignores_a_planted_one() {
    let app = spawn_app().await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let planted = "AAAAAAAAAAAAAAAAAAAAAA";
    let url: reqwest::Url = app.address.parse().unwrap();
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(&format!("cp_session={planted}; Path=/"), &url);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let html = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = extract_meta_csrf(&html);
    let login = |client: reqwest::Client, token: String| {
        let url = app.url("/login");
        async move {
            client
                .post(url)
                .form(&[
                    ("email", "jane@example.com"),
                    ("password", PASSWORD),
                    ("hp_email", ""),
                    ("csrf_token", &token),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let first = login(client.clone(), token.clone()).await;
    let first_id = set_cookie_named(first.headers(), "cp_session").unwrap();
    assert!(!first_id.contains(planted));
    let second = login(client.clone(), token).await;
    let second_id = set_cookie_named(second.headers(), "cp_session").unwrap();
    assert_ne!(
        first_id.split(';').next(),
        second_id.split(';').next(),
        "a second login reuses the session id"
    );
    // Signing in again ended the previous ActiveSessions row.
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 1);
}

#[tokio::test]
async fn a_werkzeug_scrypt_hash_from_the_old_portal_signs_in() {
    let app = spawn_app().await;
    // Made by Werkzeug 3.1.8: generate_password_hash("Sup3r-Secret!pw", method="scrypt").
    let fixture = include_str!("../../crates/werkzeug-hash/tests/fixtures/werkzeug_hashes.json");
    let doc: serde_json::Value = serde_json::from_str(fixture).unwrap();
    let entry = doc["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["method"] == "scrypt")
        .unwrap();
    let (pw, hash) = (
        entry["password"].as_str().unwrap(),
        entry["hash"].as_str().unwrap(),
    );
    app.add_customer_with_hash("legacy@example.com", hash, "Acme Foods", false)
        .await;
    let resp = app.login("legacy@example.com", pw).await;
    assert_eq!(location(&resp), "/inventory");
}

#[tokio::test]
async fn a_hostile_stored_hash_is_a_failed_login_not_a_crash() {
    let app = spawn_app().await;
    let hex64 = "ab".repeat(64);
    app.add_customer_with_hash(
        "evil@example.com",
        &format!("scrypt:1073741824:8:1$salt${hex64}"),
        "Acme Foods",
        false,
    )
    .await;
    let started = Instant::now();
    let resp = app.login("evil@example.com", PASSWORD).await;
    assert!(resp.text().await.unwrap().contains(FAILED));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the server is still up"
    );
}

#[tokio::test]
async fn client_addresses_come_from_trusted_proxies_only() {
    for (trusted, expected) in [(None, "198.51.100.9"), (Some("none"), "127.0.0.1")] {
        let extra: Vec<(&str, &str)> = trusted
            .map(|t| vec![("TRUSTED_PROXIES", t)])
            .unwrap_or_default();
        let app = spawn_app_with(&extra, false).await;
        app.add_customer("proxied@example.com", PASSWORD, "Acme Foods", false)
            .await;
        let token = app.csrf_token().await;
        let resp = app
            .client
            .post(app.url("/login"))
            .header("CF-Connecting-IP", "198.51.100.9")
            .form(&[
                ("email", "proxied@example.com"),
                ("password", PASSWORD),
                ("hp_email", ""),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&resp), "/inventory");
        let ip: String = app
            .db()
            .query_row("SELECT ip_address FROM ActiveSessions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ip, expected, "trusted proxies: {trusted:?}");
    }
}

#[tokio::test]
async fn repeated_failures_throttle_the_email_and_then_expire() {
    let app = spawn_app().await;
    app.add_customer("target@example.com", PASSWORD, "Acme Foods", false)
        .await;
    app.add_customer("bystander@example.com", PASSWORD, "Acme Foods", false)
        .await;
    for _ in 0..10 {
        let r = app.login("Target@Example.com ", "wrong-password-123").await;
        assert!(r.text().await.unwrap().contains(FAILED));
    }
    // The 11th attempt is refused unchecked, even with the right password.
    let blocked = app.login("target@example.com", PASSWORD).await;
    assert_eq!(blocked.status(), 429);
    assert!(
        blocked
            .text()
            .await
            .unwrap()
            .contains("Too many failed sign-in attempts")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 0);
    // Unknown emails are throttled alike, so the throttle reveals nothing about accounts.
    for _ in 0..10 {
        app.login("ghost@example.com", "whatever-123456").await;
    }
    assert_eq!(
        app.login("ghost@example.com", "whatever-123456")
            .await
            .status(),
        429
    );
    // Someone else from the same address is not affected.
    assert_eq!(
        location(
            &app.other_browser()
                .login("bystander@example.com", PASSWORD)
                .await
        ),
        "/inventory"
    );
    // After the window the account can sign in again, and success clears its counter.
    let past = customer_portal::store::format_ts(
        time::OffsetDateTime::now_utc() - time::Duration::minutes(16),
    );
    app.db()
        .execute("UPDATE LoginFailures SET attempted_at = ?1", [past])
        .unwrap();
    assert_eq!(
        location(
            &app.other_browser()
                .login("target@example.com", PASSWORD)
                .await
        ),
        "/inventory"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM LoginFailures WHERE login_name = 'customer:target@example.com'"
        ),
        0
    );
}

#[tokio::test]
async fn one_address_guessing_many_accounts_is_throttled() {
    let app = spawn_app().await;
    app.add_customer("real@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // Fifty recent failures from this address, each for a different name.
    let now = customer_portal::store::format_ts(time::OffsetDateTime::now_utc());
    let db = app.db();
    for i in 0..50 {
        db.execute(
            "INSERT INTO LoginFailures (attempted_at, login_name, ip_address) VALUES (?1, ?2, '127.0.0.1')",
            (&now, format!("customer:guess{i}@example.com")),
        )
        .unwrap();
    }
    assert_eq!(app.login("real@example.com", PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn a_failed_sign_in_of_a_cheap_legacy_hash_takes_as_long_as_an_unknown_email() {
    let app = spawn_app().await;
    // A hash far cheaper than today's (1,000 pbkdf2 rounds), as old accounts may have.
    app.add_customer("legacy@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let floor = app.state.auth.hasher().failure_floor();
    assert!(floor > std::time::Duration::ZERO);
    let started = std::time::Instant::now();
    let resp = app.login("legacy@example.com", "not-the-password-1").await;
    let elapsed = started.elapsed();
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Invalid email or password.")
    );
    assert!(
        elapsed >= floor,
        "a wrong password for a cheap hash answered in {elapsed:?}, before the {floor:?} floor"
    );
}

#[tokio::test]
async fn a_legacy_hash_is_upgraded_to_todays_cost_at_sign_in() {
    let app = spawn_app().await;
    app.add_customer("old.hash@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let stored = |app: &TestApp| -> String {
        app.db()
            .query_row(
                "SELECT password_hash FROM Customers WHERE email = 'old.hash@example.com'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert!(stored(&app).starts_with("pbkdf2:sha256:1000$"));
    assert_eq!(
        location(&app.login("old.hash@example.com", PASSWORD).await),
        "/inventory"
    );
    let upgraded = stored(&app);
    assert!(upgraded.starts_with("pbkdf2:sha256:600000$"), "{upgraded}");
    assert_eq!(werkzeug_hash::verify(PASSWORD, &upgraded), Ok(true));
    // The same password still signs in.
    let again = app.other_browser();
    assert_eq!(
        location(&again.login("old.hash@example.com", PASSWORD).await),
        "/inventory"
    );
}
