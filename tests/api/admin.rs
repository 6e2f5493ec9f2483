//! The admin backend over HTTP, as a browser sends forms and htmx requests.

use serde_json::json;

use crate::helpers::*;

pub const ADMIN_PW: &str = "admin-password-42";

pub async fn admin_app(extra: &[(&str, &str)]) -> TestApp {
    let hash = cheap_hash(ADMIN_PW);
    let mut vars: Vec<(&str, &str)> = vec![
        ("ADMIN_USERNAME", "cp_admin"),
        ("ADMIN_PASSWORD_HASH", &hash),
    ];
    vars.extend_from_slice(extra);
    spawn_app_with(&vars, false).await
}

pub async fn admin_login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.post_form(
        "/admin-login",
        &[
            ("username", username),
            ("password", password),
            ("hp_email", ""),
        ],
    )
    .await
}

/// A browser signed in as the local admin.
pub async fn admin_browser(app: &TestApp) -> TestApp {
    let b = app.other_browser();
    assert_eq!(
        location(&admin_login(&b, "cp_admin", ADMIN_PW).await),
        "/admin/panel"
    );
    b
}

pub async fn htmx_post(b: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let token = b.csrf_token().await;
    b.client
        .post(b.url(path))
        .header("HX-Request", "true")
        .header("HX-Current-URL", b.url("/admin/customers?status=all"))
        .header("X-CSRF-Token", token)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// (admin, target id, target email, details) of one action type, oldest first.
type AuditRow = (String, Option<i64>, Option<String>, Option<String>);

fn audit_rows(app: &TestApp, action: &str) -> Vec<AuditRow> {
    let db = app.db();
    let mut stmt = db
        .prepare("SELECT admin_username, target_customer_id, target_customer_email, details FROM AuditLog WHERE action_type = ?1 ORDER BY log_id")
        .unwrap();
    stmt.query_map([action], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .unwrap()
    .map(|r| r.unwrap())
    .collect()
}

/// The temporary password of the plain-text part of a stored message.
fn temporary_password(raw: &str) -> String {
    let text = customer_portal::mail::plain_text_part(raw);
    text.lines()
        .find_map(|l| l.strip_prefix("Temporary password: "))
        .unwrap_or_else(|| panic!("no temporary password line in:\n{text}"))
        .trim()
        .to_owned()
}

#[tokio::test]
async fn the_local_admin_signs_in_and_every_failure_looks_the_same() {
    let app = admin_app(&[]).await;
    let b = app.other_browser();
    for (user, pw) in [
        ("cp_admin", "wrong-password"),
        ("nobody", ADMIN_PW),
        ("x)(|(objectClass=*)", ADMIN_PW),
        ("*", ADMIN_PW),
        ("cp_admin", ""),
        ("cp_admin", "   "),
    ] {
        let resp = admin_login(&b, user, pw).await;
        assert_eq!(resp.status(), 200, "{user}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("Invalid username or password."),
            "{user}: {html:.300}"
        );
        assert!(
            !html.contains("Active Directory is") && !html.contains("local admin"),
            "{user}: the message hints at the method"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM AdminSessions"), 0);
    assert_eq!(audit_rows(&app, "ADMIN_LOGIN_FAILED").len(), 6);
    // The honeypot fails normally and is not even a failed sign-in against the account.
    let hp = b
        .post_form(
            "/admin-login",
            &[
                ("username", "cp_admin"),
                ("password", ADMIN_PW),
                ("hp_email", "bot@x.io"),
            ],
        )
        .await;
    assert!(
        hp.text()
            .await
            .unwrap()
            .contains("Invalid username or password.")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM AdminSessions"), 0);

    // The local admin's name is matched exactly, as the old portal did: no case folding
    // and no user@domain trimming (those are for directory names).
    for near in [
        "CP_ADMIN",
        "Cp_admin",
        "cp_admin@wepackitall.local",
        " cp_admin ",
    ] {
        let refused = admin_login(&b, near, ADMIN_PW).await;
        assert_eq!(
            refused.status(),
            200,
            "{near:?} signed in as the local admin"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM AdminSessions"),
            0,
            "{near:?}"
        );
    }
    let ok = admin_login(&b, "cp_admin", ADMIN_PW).await;
    assert_eq!(location(&ok), "/admin/panel");
    let cookie = set_cookie_named(ok.headers(), "cp_session").unwrap();
    assert!(cookie.contains("HttpOnly"));
    let panel = b.get("/admin/panel").await.text().await.unwrap();
    assert!(
        panel.contains("Welcome, cp_admin")
            && panel.contains("/admin/customers")
            && panel.contains("/admin/audit")
    );
    let logins = audit_rows(&app, "ADMIN_LOGIN");
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].0, "cp_admin");
    assert!(
        logins[0]
            .3
            .as_deref()
            .unwrap()
            .contains("\"method\":\"local\"")
    );
}

#[tokio::test]
async fn admin_sessions_are_server_side_and_revocable() {
    let app = admin_app(&[]).await;
    let b = admin_browser(&app).await;
    assert_eq!(b.get("/admin/customers").await.status(), 200);
    app.db().execute("DELETE FROM AdminSessions", []).unwrap();
    assert_eq!(location(&b.get("/admin/customers").await), "/admin-login");
    let b = admin_browser(&app).await;
    let out = b.post_form("/admin-logout", &[]).await;
    assert_eq!(location(&out), "/admin-login");
    assert_eq!(app.count("SELECT COUNT(*) FROM AdminSessions"), 0);
    assert_eq!(audit_rows(&app, "ADMIN_LOGOUT").len(), 1);
    assert_eq!(location(&b.get("/admin/panel").await), "/admin-login");
}

#[tokio::test]
async fn customers_get_nothing_from_admin_urls_and_admins_are_not_customers() {
    let app = admin_app(&[]).await;
    let customer = app.customer_browser("All").await;
    for path in [
        "/admin/panel",
        "/admin/customers",
        "/admin/audit",
        "/admin/sessions",
        "/admin/analytics",
        "/admin/outbox",
        "/admin/customers/new",
        "/admin/customers/1/edit",
        "/admin/sessions/table",
    ] {
        let r = customer.get(path).await;
        assert_eq!(location(&r), "/admin-login", "{path}");
        let h = customer.get_htmx(path).await;
        assert_eq!(
            h.headers().get("hx-redirect").map(|v| v.to_str().unwrap()),
            Some("/admin-login"),
            "{path}"
        );
    }
    let posted = htmx_post(
        &customer,
        "/admin/customers",
        &[
            ("first_name", "X"),
            ("email", "x@example.com"),
            ("erp_customer_names", "All"),
        ],
    )
    .await;
    assert_eq!(posted.status(), 401);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM Customers"),
        1,
        "a customer created an account"
    );
    for q in [
        "{ customers { email } }",
        "{ auditLog { totalCount } }",
        "{ activeSessions { sessionId } }",
        "{ analytics { activeCustomers } }",
        "{ erpCustomerNames }",
    ] {
        let r = customer.graphql(q).await;
        assert_eq!(r["errors"][0]["extensions"]["code"], "FORBIDDEN", "{q}");
        assert!(r["data"].is_null(), "{q}: {r}");
    }
    let m = customer
        .graphql(r#"mutation { kickSession(sessionId: "x") }"#)
        .await;
    assert_eq!(m["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let anon = app.other_browser();
    assert_eq!(
        location(&anon.get("/admin/customers").await),
        "/admin-login"
    );
    assert_eq!(
        anon.graphql("{ customers { email } }").await["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );

    let admin = admin_browser(&app).await;
    assert_eq!(
        location(&admin.get("/inventory").await),
        "/login?next=%2Finventory",
        "an admin session is not a customer session"
    );
    // Admins may read any customer's inventory through the API ("show me what Acme
    // sees"), but the customer pages stay customers'.
    let inv = admin
        .graphql(r#"{ inventory(erpCustomerNames: ["Acme Foods"]) { totalCount } }"#)
        .await;
    assert!(inv["errors"].is_null(), "{inv}");
    assert_eq!(
        admin.graphql("{ viewer { kind adminUsername } }").await["data"]["viewer"]["adminUsername"],
        "cp_admin"
    );
}

#[tokio::test]
async fn creating_a_customer_mails_a_temporary_password_that_must_be_changed() {
    let app = admin_app(&[("APP_BASE_URL", "https://portal.example.com")]).await;
    let admin = admin_browser(&app).await;
    let modal = admin
        .get_htmx("/admin/customers/new")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        modal.contains("Acme Foods") && modal.contains("data-checklist-filter"),
        "the ERP checklist comes from the ERP"
    );
    let resp = htmx_post(
        &admin,
        "/admin/customers",
        &[
            ("first_name", "Dana"),
            ("last_name", "Scully"),
            ("email", " Dana.Scully@Example.com "),
            ("erp_customer_names", "Café Münster GmbH"),
            ("erp_customer_names", "Acme Foods"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    // Demo mode: the admin is told the mail went to the outbox, never that it was emailed.
    assert!(
        html.contains("was kept in the outbox") && !html.contains("was emailed"),
        "{html:.500}"
    );
    assert!(
        html.contains(r#"id="customers-table-wrap" hx-swap-oob="true""#)
            && html.contains("dana.scully@example.com")
    );
    let (erp, must_reset, active): (String, i64, i64) = app
        .db()
        .query_row("SELECT erp_customer_name, must_reset_password, is_active FROM Customers WHERE email = 'dana.scully@example.com'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(
        erp, "Acme Foods|Café Münster GmbH",
        "a multi-choice saves as the sorted | list"
    );
    assert_eq!((must_reset, active), (1, 1));
    let created = audit_rows(&app, "CUSTOMER_CREATE");
    assert_eq!(created.last().unwrap().0, "cp_admin");
    assert_eq!(
        created.last().unwrap().2.as_deref(),
        Some("dana.scully@example.com")
    );

    let mails = outbox_messages(&app);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: dana.scully@example.com") && mails[0].contains("text/html"));
    assert!(
        customer_portal::mail::plain_text_part(&mails[0])
            .contains("https://portal.example.com/login")
    );
    let temp = temporary_password(&mails[0]);
    assert!(temp.len() >= 12);
    // The outbox page lists it for admins.
    let outbox = admin.get("/admin/outbox").await.text().await.unwrap();
    assert!(outbox.contains("Welcome to the WePackItAll Customer Portal"));
    let marker = "href=\"/admin/outbox/";
    let at =
        outbox.find(marker).expect("a link to the message") + marker.len() - "/admin/outbox/".len();
    let link = outbox[at..].split('"').next().unwrap().to_owned();
    let message = admin.get(&link).await.text().await.unwrap();
    assert!(
        message.contains(&format!("Temporary password: {temp}")),
        "the message is readable"
    );
    assert_eq!(
        admin.get("/admin/outbox/..%2Fportal.db").await.status(),
        404,
        "no path tricks"
    );
    assert_eq!(
        app.other_browser().get(&link).await.status(),
        303,
        "admins only"
    );

    // The customer signs in with it and must change it first.
    let customer = app.other_browser();
    let token = customer.csrf_token().await;
    // (reqwest drops Secure cookies over plain http, so carry the CSRF cookie by hand)
    let _ = token;
    let login = customer_login_insecure(&app, "dana.scully@example.com", &temp).await;
    assert_eq!(login, "/force-change-password");
}

/// Signs in a customer on an app whose cookies are Secure (APP_BASE_URL https), by
/// sending the cookies by hand over plain http; returns the redirect target.
async fn customer_login_insecure(app: &TestApp, email: &str, password: &str) -> String {
    let c = new_client();
    let page = c.get(app.url("/login")).send().await.unwrap();
    let cookie = set_cookie_named(page.headers(), "cp_csrf").unwrap();
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("cp_csrf=")
        .to_owned();
    let resp = c
        .post(app.url("/login"))
        .header("Cookie", format!("cp_csrf={token}"))
        .form(&[
            ("email", email),
            ("password", password),
            ("hp_email", ""),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    location(&resp)
}

#[tokio::test]
async fn invalid_input_keeps_what_was_typed_and_creates_nothing() {
    let app = admin_app(&[]).await;
    app.add_customer("taken@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let admin = admin_browser(&app).await;
    for (fields, message) in [
        (
            vec![
                ("first_name", "Ann"),
                ("email", "not-an-email"),
                ("erp_customer_names", "All"),
            ],
            "Email must contain @.",
        ),
        (
            vec![
                ("first_name", "Ann"),
                ("email", "TAKEN@example.com"),
                ("erp_customer_names", "All"),
            ],
            "Another account already uses this email.",
        ),
        (
            vec![("first_name", "Ann"), ("email", "ann@example.com")],
            "Choose at least one ERP customer, or All.",
        ),
        (
            vec![
                ("first_name", " "),
                ("email", "ann@example.com"),
                ("erp_customer_names", "All"),
            ],
            "First name is required.",
        ),
        (
            vec![
                ("first_name", "Ann"),
                ("email", "ann@example.com"),
                ("erp_customer_names", "Not A Real Customer"),
            ],
            "Not an ERP customer: Not A Real Customer",
        ),
    ] {
        let resp = htmx_post(&admin, "/admin/customers", &fields).await;
        assert_eq!(resp.status(), 200);
        let html = resp.text().await.unwrap();
        assert!(
            html.contains(message),
            "expected {message:?} in {html:.400}"
        );
        assert!(html.contains(r#"role="dialog""#), "the modal stays open");
        let typed_email = fields.iter().find(|(k, _)| *k == "email").unwrap().1;
        assert!(
            html.contains(&format!(r#"value="{typed_email}""#)),
            "what was typed is kept"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM Customers"), 1);
    assert!(
        audit_rows(&app, "CUSTOMER_CREATE").len() == 1,
        "only the fixture's own row"
    );
}

#[tokio::test]
async fn editing_deactivating_and_reactivating_are_audited_and_end_sessions() {
    let app = admin_app(&[]).await;
    let id = app
        .add_customer("fox@example.com", PASSWORD, "Acme Foods", false)
        .await
        .0;
    let customer = app.other_browser();
    assert_eq!(
        location(&customer.login("fox@example.com", PASSWORD).await),
        "/inventory"
    );
    let admin = admin_browser(&app).await;

    let modal = admin
        .get_htmx(&format!("/admin/customers/{id}/edit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        modal.contains(r#"value="fox@example.com""#)
            && modal.contains(r#"name="is_active" value="true" checked"#)
    );
    // Save with "Active" unticked: an update that deactivates.
    let resp = htmx_post(
        &admin,
        &format!("/admin/customers/{id}"),
        &[
            ("first_name", "Fox"),
            ("last_name", "Mulder"),
            ("email", "fox@example.com"),
            ("erp_customer_names", "All"),
        ],
    )
    .await;
    assert!(resp.text().await.unwrap().contains("Saved fox@example.com"));
    let update = audit_rows(&app, "CUSTOMER_UPDATE");
    // An old action type: JSON of what changed, as the old portal wrote it (its key
    // order, Python's spacing; unchanged fields are not listed).
    let diff = update[0].3.as_deref().unwrap();
    assert_eq!(
        diff,
        r#"{"first_name": {"from": "Pat", "to": "Fox"}, "last_name": {"from": "Tester", "to": "Mulder"}, "erp_customer_name": {"from": "Acme Foods", "to": "All"}, "is_active": {"from": true, "to": false}}"#
    );
    let deactivated = audit_rows(&app, "CUSTOMER_DEACTIVATE");
    assert_eq!(deactivated.len(), 1);
    assert_eq!(
        deactivated[0].3.as_deref(),
        Some("Deactivated customer Fox Mulder")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ActiveSessions"),
        0,
        "deactivation ends sessions at once"
    );
    assert_eq!(customer.get("/inventory").await.status(), 303);
    assert!(
        customer
            .login("fox@example.com", PASSWORD)
            .await
            .text()
            .await
            .unwrap()
            .contains("Invalid email or password.")
    );

    // Reactivate from the table button.
    let r = htmx_post(
        &admin,
        &format!("/admin/customers/{id}/active"),
        &[("active", "true")],
    )
    .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Reactivated fox@example.com")
    );
    assert_eq!(audit_rows(&app, "CUSTOMER_REACTIVATE").len(), 1);
    assert_eq!(
        location(&customer.login("fox@example.com", PASSWORD).await),
        "/inventory"
    );
    // Deactivate from the table button.
    let r = htmx_post(
        &admin,
        &format!("/admin/customers/{id}/active"),
        &[("active", "false")],
    )
    .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Deactivated fox@example.com")
    );
    assert_eq!(
        customer.get("/inventory").await.status(),
        303,
        "signed out on the very next request"
    );
    assert_eq!(audit_rows(&app, "CUSTOMER_DEACTIVATE").len(), 2);

    // The status filter is server-side.
    let active = admin.get("/admin/customers").await.text().await.unwrap();
    assert!(!active.contains("fox@example.com"));
    let inactive = admin
        .get("/admin/customers?status=inactive")
        .await
        .text()
        .await
        .unwrap();
    assert!(inactive.contains("fox@example.com") && inactive.contains("Showing 1 of 1"));
    let all = admin
        .get("/admin/customers?status=all")
        .await
        .text()
        .await
        .unwrap();
    assert!(all.contains("fox@example.com") && all.contains("data-filter-table"));
}

#[tokio::test]
async fn reset_password_mails_a_new_temporary_password_and_ends_sessions() {
    let app = admin_app(&[]).await;
    let id = app
        .add_customer("reset@example.com", PASSWORD, "Acme Foods", false)
        .await
        .0;
    let customer = app.other_browser();
    customer.login("reset@example.com", PASSWORD).await;
    let admin = admin_browser(&app).await;
    let r = htmx_post(
        &admin,
        &format!("/admin/customers/{id}/reset-password"),
        &[],
    )
    .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Password reset for reset@example.com")
    );
    assert_eq!(app.count("SELECT must_reset_password FROM Customers"), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 0);
    assert_eq!(customer.get("/inventory").await.status(), 303);
    let rows = audit_rows(&app, "ADMIN_PW_RESET_EMAIL");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, Some(id));
    assert_eq!(
        rows[0].3.as_deref(),
        Some("Admin initiated password reset email for Pat Tester"),
        "the old portal's sentence"
    );
    let mails = outbox_messages(&app);
    let temp = temporary_password(
        mails
            .iter()
            .find(|m| m.contains("Your Customer Portal Password Has Been Reset"))
            .unwrap(),
    );
    assert!(
        customer
            .login("reset@example.com", PASSWORD)
            .await
            .text()
            .await
            .unwrap()
            .contains("Invalid email")
    );
    assert_eq!(
        location(&customer.login("reset@example.com", &temp).await),
        "/force-change-password"
    );
}

#[tokio::test]
async fn when_mail_fails_the_change_stands_and_the_admin_sees_the_password() {
    // Nothing listens on port 9 (discard) here: the SMTP connection is refused.
    let app = admin_app(&[
        ("SMTP_SERVER", "127.0.0.1"),
        ("SMTP_PORT", "9"),
        ("SMTP_USE_TLS", "False"),
        ("EMAIL_FROM", "portal@example.com"),
    ])
    .await;
    let admin = admin_browser(&app).await;
    let resp = htmx_post(
        &admin,
        "/admin/customers",
        &[
            ("first_name", "Walter"),
            ("email", "walter@example.com"),
            ("erp_customer_names", "All"),
        ],
    )
    .await;
    let html = resp.text().await.unwrap();
    assert!(html.contains("the email could not be sent"), "{html:.400}");
    let marker = "Temporary password: ";
    let at = html.find(marker).unwrap() + marker.len();
    let temp: String = html[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    assert_eq!(temp.len(), 16);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM Customers WHERE email = 'walter@example.com'"),
        1,
        "the account stands"
    );
    assert_eq!(audit_rows(&app, "EMAIL_SEND_FAILED").len(), 1);
    assert_eq!(
        location(&app.other_browser().login("walter@example.com", &temp).await),
        "/force-change-password"
    );
    // The GraphQL answer says the same.
    let r = admin
        .graphql_vars(
            "mutation($id: ID!) { resetCustomerPassword(id: $id) { emailSent temporaryPassword customer { email } } }",
            json!({ "id": app.count("SELECT customer_id FROM Customers WHERE email = 'walter@example.com'").to_string() }),
        )
        .await;
    assert_eq!(r["data"]["resetCustomerPassword"]["emailSent"], false);
    assert_eq!(
        r["data"]["resetCustomerPassword"]["temporaryPassword"]
            .as_str()
            .unwrap()
            .len(),
        16
    );
}

#[tokio::test]
async fn sessions_page_lists_and_kicks() {
    let app = admin_app(&[]).await;
    app.add_customer("kick@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let customer = app.other_browser();
    customer.login("kick@example.com", PASSWORD).await;
    let admin = admin_browser(&app).await;
    let page = admin.get("/admin/sessions").await.text().await.unwrap();
    assert!(page.contains("kick@example.com") && page.contains("127.0.0.1"));
    assert!(page.contains(r#"hx-trigger="every 5s""#), "refreshed live");
    assert!(page.contains("hx-confirm"), "kicking asks first");
    let fragment = admin
        .get_htmx("/admin/sessions/table")
        .await
        .text()
        .await
        .unwrap();
    assert!(!fragment.contains("<html") && fragment.contains("kick@example.com"));
    let sid: String = app
        .db()
        .query_row("SELECT session_id FROM ActiveSessions", [], |r| r.get(0))
        .unwrap();
    let r = htmx_post(&admin, "/admin/sessions/kick", &[("session_id", &sid)]).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Session ended.") && !html.contains("kick@example.com"));
    assert_eq!(audit_rows(&app, "CUSTOMER_SESSION_KICK").len(), 1);
    let next = customer.get_htmx("/inventory/grid").await;
    assert_eq!(
        next.headers().get("hx-redirect").unwrap(),
        "/login?reason=session_ended"
    );
    // Kicking again is harmless.
    let again = admin
        .graphql_vars(
            "mutation($s: String!) { kickSession(sessionId: $s) }",
            json!({ "s": sid }),
        )
        .await;
    assert_eq!(again["data"]["kickSession"], false);
}

#[tokio::test]
async fn the_audit_log_filters_searches_and_pages() {
    let app = admin_app(&[]).await;
    let id = app
        .add_customer("audited@example.com", PASSWORD, "Acme Foods", false)
        .await
        .0;
    for _ in 0..3 {
        let c = app.other_browser();
        c.login("audited@example.com", PASSWORD).await;
    }
    let store = app.store();
    for i in 0..60 {
        store
            .append_audit(&customer_portal::store::NewAuditEntry {
                timestamp: time::OffsetDateTime::now_utc() - time::Duration::days(1)
                    + time::Duration::seconds(i),
                admin_username: "other_admin".into(),
                action_type: "CUSTOMER_UPDATE".into(),
                target_customer_id: None,
                target_customer_email: Some(format!("bulk{i}@example.com")),
                details: Some("{}".into()),
            })
            .await
            .unwrap();
    }
    let admin = admin_browser(&app).await;
    let page = admin.get("/admin/audit").await.text().await.unwrap();
    assert!(
        page.contains("ADMIN_LOGIN") && page.contains("Older »"),
        "newest first, paged"
    );
    assert!(
        page.find("ADMIN_LOGIN").unwrap() < page.find("bulk59@example.com").unwrap_or(usize::MAX)
    );
    let logins = admin
        .get_htmx("/admin/audit?action=CUSTOMER_LOGIN")
        .await
        .text()
        .await
        .unwrap();
    assert!(logins.contains("3 entries") && !logins.contains("<html"));
    let by_email = admin
        .get_htmx("/admin/audit?q=AUDITED@")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        by_email.contains("4 entries"),
        "search by email, any case: {by_email:.300}"
    );
    let by_id = admin
        .get_htmx(&format!("/admin/audit?q={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        by_id.contains("4 entries"),
        "the create row and the three logins carry the id: {by_id:.300}"
    );
    let by_admin = admin
        .get_htmx("/admin/audit?admin=other_admin")
        .await
        .text()
        .await
        .unwrap();
    assert!(by_admin.contains("60 entries"));
    let gql = admin.graphql(r#"{ auditLog(filter: {adminUsername: "other_admin"}, first: 50) { totalCount nextCursor entries { id } } }"#).await;
    let cursor = gql["data"]["auditLog"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = admin
        .graphql_vars("query($a: String) { auditLog(filter: {adminUsername: \"other_admin\"}, first: 50, after: $a) { entries { targetCustomerEmail } nextCursor } }", json!({ "a": cursor }))
        .await;
    assert_eq!(
        second["data"]["auditLog"]["entries"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    assert!(second["data"]["auditLog"]["nextCursor"].is_null());
    assert_eq!(
        second["data"]["auditLog"]["entries"][9]["targetCustomerEmail"], "bulk0@example.com",
        "oldest last"
    );
}

#[tokio::test]
async fn analytics_shows_kpis_a_14_day_chart_and_tables() {
    let app = admin_app(&[]).await;
    app.add_customer("a1@example.com", PASSWORD, "Acme Foods", false)
        .await;
    app.add_customer("a2@example.com", PASSWORD, "Acme Foods", false)
        .await;
    for email in ["a1@example.com", "a1@example.com", "a2@example.com"] {
        app.other_browser().login(email, PASSWORD).await;
    }
    let admin = admin_browser(&app).await;
    let r = admin
        .graphql("{ analytics { activeCustomers currentSessions loginsLast7Days uniqueLoginsLast7Days loginsPerDay(days: 14) { date count } mostActiveCustomers(limit: 10) { email loginCount } recentLogins(limit: 10) { email ipAddress } } }")
        .await;
    let a = &r["data"]["analytics"];
    assert_eq!(a["activeCustomers"], 2);
    assert_eq!(a["currentSessions"], 3);
    assert_eq!(a["loginsLast7Days"], 3);
    assert_eq!(a["uniqueLoginsLast7Days"], 2);
    let days = a["loginsPerDay"].as_array().unwrap();
    assert_eq!(days.len(), 14, "empty days are zero, not missing");
    assert_eq!(days[13]["count"], 3);
    assert_eq!(
        days[13]["date"],
        time::OffsetDateTime::now_utc().date().to_string()
    );
    assert!(days[..13].iter().all(|d| d["count"] == 0));
    assert_eq!(
        a["mostActiveCustomers"][0],
        json!({ "email": "a1@example.com", "loginCount": 2 })
    );
    assert_eq!(a["recentLogins"][0]["ipAddress"], "127.0.0.1");
    let page = admin.get("/admin/analytics").await.text().await.unwrap();
    assert!(
        page.contains(r#"id="logins-chart""#)
            && page.contains("data-values=\"[0,0,0,0,0,0,0,0,0,0,0,0,0,3]\"")
    );
    assert!(page.contains("/assets/vendor/chartjs/chart.umd.min.js"));
    assert_eq!(
        admin
            .get("/assets/vendor/chartjs/chart.umd.min.js")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn test_mode_bypasses_the_directory_in_demo_mode_only() {
    let app = admin_app(&[("TEST_MODE", "True")]).await;
    let b = app.other_browser();
    assert_eq!(
        location(&admin_login(&b, "jane.tester@wepackitall.local", "anything").await),
        "/admin/panel"
    );
    assert!(
        b.get("/admin/panel")
            .await
            .text()
            .await
            .unwrap()
            .contains("jane.tester (test mode)")
    );
    // Malformed names and empty passwords are still refused.
    let c = app.other_browser();
    assert!(
        admin_login(&c, "x)(|(a=*)", "anything")
            .await
            .text()
            .await
            .unwrap()
            .contains("Invalid username")
    );
    assert!(
        admin_login(&c, "jane", "")
            .await
            .text()
            .await
            .unwrap()
            .contains("Invalid username")
    );
}

#[tokio::test]
async fn admin_guessing_is_throttled_before_any_check() {
    let app = admin_app(&[]).await;
    let b = app.other_browser();
    for _ in 0..10 {
        admin_login(&b, "cp_admin@wepackitall.local", "not-the-password").await;
    }
    let blocked = admin_login(&b, "cp_admin", ADMIN_PW).await;
    assert_eq!(
        blocked.status(),
        429,
        "user@domain and user count as one name"
    );
    assert!(
        blocked
            .text()
            .await
            .unwrap()
            .contains("Too many failed sign-in attempts")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM AdminSessions"), 0);
}

#[tokio::test]
async fn the_reset_payload_reports_the_account_as_it_now_is() {
    let app = admin_app(&[]).await;
    let id = app
        .add_customer("payload@example.com", PASSWORD, "Acme Foods", false)
        .await
        .0;
    let admin = admin_browser(&app).await;
    let r = admin
        .graphql_vars(
            "mutation($id: ID!) { resetCustomerPassword(id: $id) { emailSent temporaryPassword customer { email mustResetPassword } } }",
            json!({ "id": id.to_string() }),
        )
        .await;
    let p = &r["data"]["resetCustomerPassword"];
    assert_eq!(p["customer"]["mustResetPassword"], true, "{r}");
    assert_eq!(p["emailSent"], true);
    assert!(
        p["temporaryPassword"].is_null(),
        "the password is only shown when the mail failed"
    );
}

#[tokio::test]
async fn the_admin_honeypot_counts_toward_the_throttle() {
    let app = admin_app(&[]).await;
    let b = app.other_browser();
    for _ in 0..10 {
        b.post_form(
            "/admin-login",
            &[
                ("username", "cp_admin"),
                ("password", ADMIN_PW),
                ("hp_email", "bot@x.io"),
            ],
        )
        .await;
    }
    assert_eq!(admin_login(&b, "cp_admin", ADMIN_PW).await.status(), 429);
}
