use crate::helpers::*;

async fn signed_in(app: &TestApp, email: &str) -> i64 {
    let id = app.add_customer(email, PASSWORD, "Acme Foods", false).await;
    assert_eq!(location(&app.login(email, PASSWORD).await), "/inventory");
    assert_eq!(app.get("/inventory").await.status(), 200);
    id.0
}

#[tokio::test]
async fn a_kicked_session_is_signed_out_on_the_next_htmx_request_and_page() {
    let app = spawn_app().await;
    let id = signed_in(&app, "jane@example.com").await;

    // An admin "kick" deletes the row.
    app.db()
        .execute("DELETE FROM ActiveSessions WHERE customer_id = ?1", [id])
        .unwrap();
    let htmx = app.get_htmx("/inventory").await;
    assert_eq!(htmx.status(), 401);
    let hx = htmx
        .headers()
        .get("hx-redirect")
        .expect("htmx gets HX-Redirect")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(hx.starts_with("/login"), "{hx}");
    assert!(
        !htmx.text().await.unwrap().contains("<form"),
        "a login form landed inside a fragment"
    );

    // The browser session was destroyed with it: the next page goes to login as well.
    let page = app.get("/inventory").await;
    assert_eq!(page.status(), 303);
    assert!(location(&page).starts_with("/login"));

    // Sign in again, kick again, and this time the next request is a full page.
    assert_eq!(
        location(&app.login("jane@example.com", PASSWORD).await),
        "/inventory"
    );
    app.db()
        .execute("DELETE FROM ActiveSessions WHERE customer_id = ?1", [id])
        .unwrap();
    let page = app.get("/inventory").await;
    assert_eq!(page.status(), 303);
    assert_eq!(
        location(&page),
        "/login?reason=session_ended&next=%2Finventory"
    );
    let login = app
        .get("/login?reason=session_ended")
        .await
        .text()
        .await
        .unwrap();
    assert!(login.contains("Your session has ended"));
}

/// Moves a session's clocks back: the test plays the passing of time.
fn age_session(app: &TestApp, id: i64, created_minutes: i64, last_seen_minutes: i64) {
    let ago = |m: i64| {
        customer_portal::store::format_ts(
            time::OffsetDateTime::now_utc() - time::Duration::minutes(m),
        )
    };
    app.db()
        .execute(
            "UPDATE ActiveSessions SET created_at = ?1, last_seen = ?2 WHERE customer_id = ?3",
            (ago(created_minutes), ago(last_seen_minutes), id),
        )
        .unwrap();
}

#[tokio::test]
async fn a_session_idle_for_session_hours_ends() {
    let app = spawn_app_with(&[("SESSION_HOURS", "2")], false).await;
    let id = signed_in(&app, "jane@example.com").await;
    // Nothing for two hours and a minute: the old portal's idle timeout.
    age_session(&app, id, 121, 121);
    let page = app.get("/inventory").await;
    assert_eq!(page.status(), 303);
    assert_eq!(
        location(&page),
        "/login?reason=session_ended&next=%2Finventory"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ActiveSessions"),
        0,
        "the expired row was removed"
    );
}

#[tokio::test]
async fn an_active_session_outlives_session_hours_until_the_absolute_cap() {
    let app = spawn_app_with(&[("SESSION_HOURS", "2")], false).await;
    let id = signed_in(&app, "jane@example.com").await;
    // Signed in five hours ago, busy ever since: still signed in (idle timeout).
    age_session(&app, id, 300, 5);
    assert_eq!(app.get("/inventory").await.status(), 200);
    // Idle for just under two hours: still signed in.
    age_session(&app, id, 300, 119);
    assert_eq!(app.get("/inventory").await.status(), 200);
    // Signed in eight days ago, busy ever since: past the seven-day cap.
    age_session(&app, id, 8 * 24 * 60, 1);
    let page = app.get("/inventory").await;
    assert_eq!(
        location(&page),
        "/login?reason=session_ended&next=%2Finventory"
    );
}

#[tokio::test]
async fn stale_session_rows_are_pruned() {
    let app = spawn_app_with(&[("SESSION_HOURS", "2")], false).await;
    let stale = signed_in(&app, "stale@example.com").await;
    let other = app.other_browser();
    let fresh = signed_in(&other, "fresh@example.com").await;
    // A row the old portal left behind: last seen long ago, never signed out.
    age_session(&app, stale, 600, 600);
    age_session(&app, fresh, 300, 1);
    let (purged, _) = app.state.auth.purge_expired().await.unwrap();
    assert_eq!(purged, 1);
    let left: i64 = app
        .db()
        .query_row("SELECT customer_id FROM ActiveSessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, fresh);
}

#[tokio::test]
async fn last_seen_is_refreshed_at_most_once_a_minute() {
    let app = spawn_app().await;
    let id = signed_in(&app, "jane@example.com").await;
    let read = || -> String {
        app.db()
            .query_row(
                "SELECT last_seen FROM ActiveSessions WHERE customer_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
    };
    let ten_seconds_ago = customer_portal::store::format_ts(
        time::OffsetDateTime::now_utc() - time::Duration::seconds(10),
    );
    app.db()
        .execute(
            "UPDATE ActiveSessions SET last_seen = ?1",
            [&ten_seconds_ago],
        )
        .unwrap();
    for _ in 0..3 {
        assert_eq!(app.get("/inventory").await.status(), 200);
    }
    assert_eq!(
        read(),
        ten_seconds_ago,
        "last_seen was written on every request"
    );

    let five_minutes_ago = customer_portal::store::format_ts(
        time::OffsetDateTime::now_utc() - time::Duration::minutes(5),
    );
    app.db()
        .execute(
            "UPDATE ActiveSessions SET last_seen = ?1",
            [&five_minutes_ago],
        )
        .unwrap();
    assert_eq!(app.get("/inventory").await.status(), 200);
    assert!(
        read() > five_minutes_ago,
        "a stale last_seen was not refreshed"
    );
}

#[tokio::test]
async fn deactivating_an_account_ends_its_session_on_the_next_request() {
    let app = spawn_app().await;
    let id = signed_in(&app, "jane@example.com").await;
    app.db()
        .execute(
            "UPDATE Customers SET is_active = 0 WHERE customer_id = ?1",
            [id],
        )
        .unwrap();
    assert_eq!(app.get("/inventory").await.status(), 303);
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 0);
}

#[tokio::test]
async fn logout_deletes_the_row_audits_it_and_signs_the_browser_out() {
    let app = spawn_app().await;
    let id = signed_in(&app, "jane@example.com").await;
    // GET only asks: a link cannot sign anyone out.
    let confirm = app.get("/logout").await;
    assert_eq!(confirm.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 1);

    let resp = app.post_form("/logout", &[]).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/login?reason=signed_out");
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 0);
    let audited: i64 = app
        .db()
        .query_row(
            "SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_LOGOUT' AND target_customer_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM WebSessions"),
        0,
        "the browser session record remains"
    );
    assert_eq!(app.get("/inventory").await.status(), 303);
}

#[tokio::test]
async fn with_audit_append_only_the_audit_log_cannot_be_changed_or_deleted() {
    let app = spawn_app_with(&[("AUDIT_APPEND_ONLY", "True")], false).await;
    signed_in(&app, "jane@example.com").await;
    let db = app.db();
    assert!(
        db.execute("UPDATE AuditLog SET details = 'tampered'", [])
            .is_err()
    );
    assert!(db.execute("DELETE FROM AuditLog", []).is_err());
    assert!(app.count("SELECT COUNT(*) FROM AuditLog WHERE details = 'tampered'") == 0);
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_login_and_root_redirects_by_role() {
    let app = spawn_app().await;
    let root = app.get("/").await;
    assert_eq!(root.status(), 303);
    assert_eq!(location(&root), "/login");
    let htmx = app.get_htmx("/inventory").await;
    assert_eq!(htmx.headers().get("hx-redirect").unwrap(), "/login");
    signed_in(&app, "jane@example.com").await;
    assert_eq!(location(&app.get("/").await), "/inventory");
    assert_eq!(location(&app.get("/login").await), "/");
}

#[tokio::test]
async fn browsing_does_not_write_the_session_records() {
    let app = spawn_app().await;
    signed_in(&app, "jane@example.com").await;
    // Count every write to the session tables from here on.
    app.db()
        .execute_batch(
            "CREATE TABLE writes (n INTEGER);
             CREATE TRIGGER web_update AFTER UPDATE ON WebSessions BEGIN INSERT INTO writes VALUES (1); END;
             CREATE TRIGGER web_insert AFTER INSERT ON WebSessions BEGIN INSERT INTO writes VALUES (1); END;
             CREATE TRIGGER active_update AFTER UPDATE ON ActiveSessions BEGIN INSERT INTO writes VALUES (1); END;",
        )
        .unwrap();
    for path in [
        "/inventory",
        "/inventory",
        "/force-change-password",
        "/inventory/grid?q=x",
    ] {
        assert!(app.get(path).await.status().is_success(), "{path}");
    }
    assert!(
        app.count("SELECT COUNT(*) FROM writes") <= 1,
        "a page view wrote to the session tables (at most the once-a-minute slide may)"
    );
}

#[tokio::test]
async fn session_hours_is_an_idle_timeout_the_record_and_cookie_slide() {
    let app = spawn_app_with(&[("SESSION_HOURS", "2")], false).await;
    let id = signed_in(&app, "busy@example.com").await;
    // The clock moved on: signed in five hours ago, busy until a minute ago; the browser
    // record was last moved on a minute before its two hours ran out.
    age_session(&app, id, 300, 1);
    let soon = customer_portal::store::format_ts(
        time::OffsetDateTime::now_utc() + time::Duration::minutes(1),
    );
    let db = app.db();
    let data: String = db
        .query_row("SELECT data FROM WebSessions", [], |r| r.get(0))
        .unwrap();
    let mut data: serde_json::Value = serde_json::from_str(&data).unwrap();
    data["slid"] = serde_json::json!(0);
    db.execute(
        "UPDATE WebSessions SET expiry_date = ?1, data = ?2",
        (&soon, data.to_string()),
    )
    .unwrap();
    // The next request slides both: the record's expiry and the cookie's.
    let page = app.get("/inventory").await;
    assert_eq!(page.status(), 200);
    let cookie = set_cookie_named(page.headers(), "cp_session").expect("the cookie is renewed");
    assert!(cookie.contains("Max-Age=7200"), "{cookie}");
    let expiry: String = db
        .query_row("SELECT expiry_date FROM WebSessions", [], |r| r.get(0))
        .unwrap();
    let expiry = customer_portal::store::parse_ts(&expiry).unwrap();
    let left = expiry - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::minutes(118) && left <= time::Duration::minutes(120),
        "{left}"
    );
    // Still signed in well past two hours after sign-in, as long as it is used.
    assert_eq!(app.get("/inventory").await.status(), 200);
    // Two hours and a minute without a request: signed out.
    age_session(&app, id, 300, 121);
    assert_eq!(
        location(&app.get("/inventory").await),
        "/login?reason=session_ended&next=%2Finventory"
    );
}

#[tokio::test]
async fn by_default_a_retention_job_may_delete_old_audit_rows() {
    let app = spawn_app().await;
    signed_in(&app, "jane@example.com").await;
    let db = app.db();
    assert!(app.count("SELECT COUNT(*) FROM AuditLog") > 0);
    db.execute("DELETE FROM AuditLog", []).unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM AuditLog"), 0);
}
