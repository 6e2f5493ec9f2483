use crate::helpers::*;

const NEW_PW: &str = "a brand new passphrase";

#[tokio::test]
async fn a_temporary_password_only_reaches_the_change_page() {
    let app = spawn_app().await;
    app.add_customer("new@example.com", "Temp-Pass-1234", "Acme Foods", true)
        .await;
    let resp = app.login("new@example.com", "Temp-Pass-1234").await;
    assert_eq!(location(&resp), "/force-change-password");

    for path in ["/inventory", "/"] {
        let r = app.get(path).await;
        let to = location(&r);
        assert!(
            to == "/force-change-password" || to == "/inventory",
            "{path} → {to}"
        );
    }
    assert_eq!(
        location(&app.get("/inventory").await),
        "/force-change-password"
    );
    let htmx = app.get_htmx("/inventory").await;
    assert_eq!(
        htmx.headers().get("hx-redirect").unwrap(),
        "/force-change-password"
    );
    // Neither can GraphQL hand out data to it.
    let v = app.graphql("{ viewer { kind mustChangePassword } }").await;
    assert_eq!(v["data"]["viewer"]["mustChangePassword"], true);

    let page = app.get("/force-change-password").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"name="new_password""#) && html.contains(r#"name="confirm_password""#));
    assert!(
        !html.contains(r#"name="current_password""#),
        "a temporary password is not asked for again"
    );
    // Logout is still reachable.
    assert_eq!(app.get("/logout").await.status(), 200);
}

#[tokio::test]
async fn the_new_password_must_meet_the_policy() {
    let app = spawn_app().await;
    app.add_customer("new@example.com", "Temp-Pass-1234", "Acme Foods", true)
        .await;
    app.login("new@example.com", "Temp-Pass-1234").await;
    let long = "x".repeat(129);
    for (new, confirm, message) in [
        ("short-pw", "short-pw", "at least 12 characters"),
        (long.as_str(), long.as_str(), "at most 128 characters"),
        ("twelve-chars-a", "twelve-chars-b", "do not match"),
        (
            "Temp-Pass-1234",
            "Temp-Pass-1234",
            "different from your current",
        ),
    ] {
        let resp = app
            .post_form(
                "/force-change-password",
                &[("new_password", new), ("confirm_password", confirm)],
            )
            .await;
        assert_eq!(resp.status(), 200, "{message}");
        assert!(
            resp.text().await.unwrap().contains(message),
            "expected “{message}”"
        );
    }
    assert_eq!(app.count("SELECT must_reset_password FROM Customers"), 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_PASSWORD_CHANGE'"),
        0
    );
}

#[tokio::test]
async fn changing_the_password_clears_the_flag_ends_other_sessions_and_audits() {
    let app = spawn_app().await;
    let id = app
        .add_customer("new@example.com", "Temp-Pass-1234", "Acme Foods", true)
        .await;
    // A second browser signed in with the same temporary password.
    let other = app.other_browser();
    other.login("new@example.com", "Temp-Pass-1234").await;
    app.login("new@example.com", "Temp-Pass-1234").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 2);

    let resp = app
        .post_form(
            "/force-change-password",
            &[("new_password", NEW_PW), ("confirm_password", NEW_PW)],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/inventory");
    assert_eq!(app.count("SELECT must_reset_password FROM Customers"), 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ActiveSessions"),
        1,
        "the other session survived"
    );
    let hash: String = app
        .db()
        .query_row("SELECT password_hash FROM Customers", [], |r| r.get(0))
        .unwrap();
    assert!(
        hash.starts_with("pbkdf2:sha256:600000$"),
        "new hashes are written in Werkzeug's format"
    );
    let audit: (String, i64) = app
        .db()
        .query_row(
            "SELECT details, target_customer_id FROM AuditLog WHERE action_type = 'CUSTOMER_PASSWORD_CHANGE'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(audit.1, id.0);
    assert!(audit.0.contains("\"forced\":true"), "{}", audit.0);

    let page = app.get("/inventory").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Your password has been changed.")
    );
    assert_eq!(
        other.get("/inventory").await.status(),
        303,
        "the other browser is signed out"
    );

    // The old password no longer works; the new one does.
    let third = app.other_browser();
    assert!(
        third
            .login("new@example.com", "Temp-Pass-1234")
            .await
            .text()
            .await
            .unwrap()
            .contains("Invalid email")
    );
    assert_eq!(
        location(&third.login("new@example.com", NEW_PW).await),
        "/inventory"
    );
}

#[tokio::test]
async fn a_voluntary_change_requires_the_current_password() {
    let app = spawn_app().await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    app.login("jane@example.com", PASSWORD).await;
    let html = app
        .get("/force-change-password")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(r#"name="current_password""#));
    let wrong = app
        .post_form(
            "/force-change-password",
            &[
                ("current_password", "not-it-at-all"),
                ("new_password", NEW_PW),
                ("confirm_password", NEW_PW),
            ],
        )
        .await;
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("current password is not correct")
    );
    let ok = app
        .post_form(
            "/force-change-password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PW),
                ("confirm_password", NEW_PW),
            ],
        )
        .await;
    assert_eq!(ok.status(), 303);
}
