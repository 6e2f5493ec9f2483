//! A customer's own team: staff make a manager; the manager invites colleagues (a mailed
//! single-use link, 72 hours), gives each all or part of their own scope and never more,
//! by any road; a colleague's scope follows the manager's down; everything audited.

use serde_json::{Value, json};

use crate::admin::{admin_app, admin_browser};
use crate::helpers::*;

const ACME: &str = "Acme Foods";
const BRIGHT: &str = "Bright & Clean Co.";
const CAFE: &str = "Café Münster GmbH";

/// An app with staff, and `lead@example.com` (scope Acme + Bright) made a team manager
/// through the admin page; the manager's browser is signed in.
async fn team_app() -> (TestApp, TestApp, i64, TestApp) {
    let app = admin_app(&[("DEMO_ERP_ROWS", "400")]).await;
    let lead = app
        .add_customer(
            "lead@example.com",
            PASSWORD,
            &format!("{ACME}|{BRIGHT}"),
            false,
        )
        .await;
    let admin = admin_browser(&app).await;
    let made = crate::admin::htmx_post(
        &admin,
        &format!("/admin/customers/{}/team-manager", lead.0),
        &[("manager", "true")],
    )
    .await;
    assert_eq!(made.status(), 200);
    let html = made.text().await.unwrap();
    assert!(
        html.contains("Team manager"),
        "staff see who manages: {html}"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TEAM_MANAGER_ON' AND admin_username = 'cp_admin'"
        ),
        1
    );
    let manager = app.other_browser();
    assert_eq!(
        location(&manager.login("lead@example.com", PASSWORD).await),
        "/inventory"
    );
    (app, admin, lead.0, manager)
}

/// The invitation links' secrets in every invitation mail to `email`.
fn invitation_secrets(app: &TestApp, email: &str) -> Vec<String> {
    outbox_messages(app)
        .into_iter()
        .filter(|m| {
            m.contains("You are invited to the WePackItAll Customer Portal") && m.contains(email)
        })
        .map(|mail| {
            let text = customer_portal::mail::plain_text_part(&mail);
            let line = text
                .lines()
                .find(|l| l.contains("/invitation?token="))
                .unwrap_or_else(|| panic!("no link in {text}"))
                .to_owned();
            line.split("token=").nth(1).unwrap().trim().to_owned()
        })
        .collect()
}

/// The secret of the one invitation mailed to `email`.
fn invitation_secret(app: &TestApp, email: &str) -> String {
    let all = invitation_secrets(app, email);
    assert_eq!(all.len(), 1, "one invitation to {email}");
    all[0].clone()
}

async fn invite(manager: &TestApp, email: &str, names: &[&str]) -> reqwest::Response {
    let mut fields = vec![
        ("first_name", "Mate"),
        ("last_name", "Colleague"),
        ("email", email),
    ];
    fields.extend(names.iter().map(|n| ("erp_customer_names", *n)));
    manager.post_form("/account/team/invite", &fields).await
}

/// Accepts the invitation `secret` in a fresh browser with `password`.
async fn accept(app: &TestApp, secret: &str, password: &str) -> reqwest::Response {
    let b = app.other_browser();
    let opened = b.get(&format!("/invitation?token={secret}")).await;
    assert_eq!(
        location(&opened),
        "/invitation",
        "the secret leaves the address"
    );
    let page = b.get("/invitation").await.text().await.unwrap();
    assert!(page.contains("Choose the password"), "{page}");
    b.post_form(
        "/invitation",
        &[("new_password", password), ("confirm_password", password)],
    )
    .await
}

fn colleague_id(app: &TestApp, email: &str) -> i64 {
    app.count(&format!(
        "SELECT customer_id FROM Customers WHERE email = '{email}'"
    ))
}

fn stored_scope(app: &TestApp, id: i64) -> String {
    app.db()
        .query_row(
            "SELECT erp_customer_name FROM Customers WHERE customer_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

/// The ERP customers of every row `b` can read.
async fn customers_seen(b: &TestApp) -> Vec<String> {
    let r = b
        .graphql("{ inventory(first: 1000) { rows { customer } } }")
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let mut seen: Vec<String> = r["data"]["inventory"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["customer"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    seen.dedup();
    seen
}

fn code(r: &Value) -> &str {
    r["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_manager_invites_a_colleague_who_accepts_once_and_sees_only_what_was_given() {
    let (app, _admin, _lead, manager) = team_app().await;
    let nav = manager.get("/inventory").await.text().await.unwrap();
    assert!(nav.contains("href=\"/account/team\""), "managers see Team");
    let page = manager.get("/account/team").await.text().await.unwrap();
    assert!(page.contains("No colleagues yet"), "{page}");

    let sent = invite(&manager, "mate@example.com", &[ACME]).await;
    assert_eq!(location(&sent), "/account/team");
    let page = manager.get("/account/team").await.text().await.unwrap();
    assert!(
        page.contains("Invitation sent to mate@example.com"),
        "{page}"
    );
    assert!(page.contains("mate@example.com") && page.contains("Invited"));
    let mate = colleague_id(&app, "mate@example.com");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TEAM_INVITE' \
             AND admin_username = 'lead@example.com' AND target_customer_id = {mate}"
        )),
        1,
        "audited with the manager as the actor"
    );
    // Only the link's hash is kept, and the account has no password anyone knows.
    let secret = invitation_secret(&app, "mate@example.com");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM PasswordResetTokens WHERE token_hash LIKE '%{secret}%'"
        )),
        0
    );
    let no_password = app.other_browser();
    assert_eq!(
        no_password
            .login("mate@example.com", PASSWORD)
            .await
            .status(),
        200,
        "no sign-in before the invitation is accepted"
    );

    let done = accept(&app, &secret, "a long colleague password").await;
    assert_eq!(location(&done), "/login?reason=invitation_accepted");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TEAM_INVITE_ACCEPT'"),
        1
    );
    // The link works once.
    let again = accept_expired(&app, &secret).await;
    assert!(again.contains("no longer works"), "{again}");

    let colleague = app.other_browser();
    assert_eq!(
        location(
            &colleague
                .login("mate@example.com", "a long colleague password")
                .await
        ),
        "/inventory"
    );
    assert_eq!(customers_seen(&colleague).await, vec![ACME.to_owned()]);
    // A colleague is no manager: no Team page, no team fields.
    assert_eq!(colleague.get("/account/team").await.status(), 403);
    let r = colleague.graphql("{ myTeam { email } }").await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");

    // The manager sees them active, with their last sign-in.
    let team = manager
        .graphql("{ myTeam { email isActive invitationPending lastLoginDate erpCustomerNames } }")
        .await;
    let row = &team["data"]["myTeam"][0];
    assert_eq!(row["email"], "mate@example.com", "{team}");
    assert_eq!(row["invitationPending"], false);
    assert!(row["lastLoginDate"].is_string(), "{row}");
    assert_eq!(row["erpCustomerNames"], json!([ACME]));

    // More of the manager's own scope: fine, and audited.
    let more = manager
        .post_form(
            &format!("/account/team/{mate}/scope"),
            &[("erp_customer_names", ACME), ("erp_customer_names", BRIGHT)],
        )
        .await;
    assert_eq!(location(&more), "/account/team");
    assert_eq!(stored_scope(&app, mate), format!("{ACME}|{BRIGHT}"));
    assert_eq!(
        customers_seen(&colleague).await,
        vec![ACME.to_owned(), BRIGHT.to_owned()]
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TEAM_SCOPE_CHANGE' AND admin_username = 'lead@example.com'"),
        1
    );

    // Deactivated: signed out at once; reactivated: can sign in again.
    let off = manager
        .post_form(
            &format!("/account/team/{mate}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(location(&off), "/account/team");
    assert_eq!(colleague.get("/inventory").await.status(), 303);
    manager
        .post_form(
            &format!("/account/team/{mate}/active"),
            &[("active", "true")],
        )
        .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type IN ('TEAM_MEMBER_DEACTIVATE', 'TEAM_MEMBER_REACTIVATE') AND admin_username = 'lead@example.com'"),
        2
    );
    let back = app.other_browser();
    assert_eq!(
        location(
            &back
                .login("mate@example.com", "a long colleague password")
                .await
        ),
        "/inventory"
    );
}

/// Opens a used or expired invitation link: the page it shows.
async fn accept_expired(app: &TestApp, secret: &str) -> String {
    let b = app.other_browser();
    b.get(&format!("/invitation?token={secret}")).await;
    b.get("/invitation").await.text().await.unwrap()
}

#[tokio::test]
async fn a_manager_cannot_widen_a_colleague_by_any_road() {
    let (app, admin, lead, manager) = team_app().await;
    // Wider at the invitation: refused, nothing created.
    let wide = invite(&manager, "wide@example.com", &[ACME, CAFE]).await;
    assert_eq!(wide.status(), 200);
    let page = wide.text().await.unwrap();
    assert!(
        page.contains("only ERP customers your own account sees"),
        "{page}"
    );
    assert!(
        page.contains("value=\"wide@example.com\""),
        "what was typed is kept"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM Customers WHERE email = 'wide@example.com'"),
        0
    );
    let r = manager
        .graphql(r#"mutation { inviteColleague(input: { firstName: "W", email: "w2@example.com", erpCustomerNames: ["All"] }) { emailSent } }"#)
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");

    invite(&manager, "mate@example.com", &[ACME]).await;
    let mate = colleague_id(&app, "mate@example.com");
    // The form.
    let by_form = manager
        .post_form(
            &format!("/account/team/{mate}/scope"),
            &[("erp_customer_names", ACME), ("erp_customer_names", CAFE)],
        )
        .await;
    assert_eq!(location(&by_form), "/account/team");
    let page = manager.get("/account/team").await.text().await.unwrap();
    assert!(
        page.contains("only ERP customers your own account sees"),
        "{page}"
    );
    assert_eq!(stored_scope(&app, mate), ACME);
    // GraphQL, with All, with a look-alike case, and aliases (each checked on its own).
    for names in [
        json!(["All"]),
        json!([CAFE]),
        // "Аcme Foods" starts with a Cyrillic А: no ERP customer, whatever it looks like.
        json!(["Аcme Foods", BRIGHT]),
    ] {
        let q = format!(
            "mutation {{ setColleagueScope(id: \"{mate}\", erpCustomerNames: {names}) {{ erpCustomerNames }} }}"
        );
        let r = manager.graphql(&q).await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{names}: {r}");
        assert_eq!(stored_scope(&app, mate), ACME, "{names}");
    }
    let aliased = manager
        .graphql(&format!(
            r#"mutation {{ a: setColleagueScope(id: "{mate}", erpCustomerNames: ["{BRIGHT}"]) {{ erpCustomerNames }}
                          b: setColleagueScope(id: "{mate}", erpCustomerNames: ["All"]) {{ erpCustomerNames }} }}"#
        ))
        .await;
    assert_eq!(
        aliased["data"]["a"]["erpCustomerNames"],
        json!([BRIGHT]),
        "{aliased}"
    );
    assert_eq!(code(&aliased), "BAD_USER_INPUT", "{aliased}");
    assert_eq!(stored_scope(&app, mate), BRIGHT);
    // Someone else's account, or the manager's own: not theirs to change.
    let other = app
        .add_customer("other@example.com", PASSWORD, CAFE, false)
        .await;
    for id in [other.0, lead] {
        let r = manager
            .graphql(&format!(
                r#"mutation {{ setColleagueScope(id: "{id}", erpCustomerNames: ["{ACME}"]) {{ email }} }}"#
            ))
            .await;
        assert_eq!(code(&r), "NOT_FOUND", "{r}");
        let r = manager
            .graphql(&format!(
                r#"mutation {{ setColleagueActive(id: "{id}", active: false) {{ email }} }}"#
            ))
            .await;
        assert_eq!(code(&r), "NOT_FOUND", "{r}");
    }
    assert_eq!(stored_scope(&app, other.0), CAFE);
    assert_eq!(
        manager
            .post_form(
                &format!("/account/team/{}/active", other.0),
                &[("active", "false")]
            )
            .await
            .status(),
        404
    );
    // Not a manager: refused, page and API; a token too.
    let plain = app.other_browser();
    plain.login("other@example.com", PASSWORD).await;
    assert_eq!(plain.get("/account/team").await.status(), 403);
    let r = plain
        .graphql(&format!(
            r#"mutation {{ setColleagueScope(id: "{mate}", erpCustomerNames: ["{ACME}"]) {{ email }} }}"#
        ))
        .await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    let (token, _) = crate::api_tokens::create(
        &admin,
        json!({ "name": "tool", "scopes": ["inventory:read", "customers:write"], "erpCustomerNames": ["All"] }),
    )
    .await;
    let r = crate::api_tokens::bearer_json(&app, &token, "{ myTeam { email } }").await;
    assert_eq!(code(&r), "FORBIDDEN", "{r}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TEAM_SCOPE_CHANGE'"),
        1,
        "only the one allowed change was made"
    );
}

#[tokio::test]
async fn a_colleagues_scope_shrinks_with_the_managers() {
    let (app, admin, lead, manager) = team_app().await;
    invite(&manager, "mate@example.com", &[ACME, BRIGHT]).await;
    let mate = colleague_id(&app, "mate@example.com");
    let secret = invitation_secret(&app, "mate@example.com");
    accept(&app, &secret, "a long colleague password").await;
    let colleague = app.other_browser();
    colleague
        .login("mate@example.com", "a long colleague password")
        .await;
    assert_eq!(customers_seen(&colleague).await.len(), 2);

    // Staff narrow the manager to Bright: the colleague's stored scope follows (audited
    // under the admin), and their open session sees it on its next request.
    let r = admin
        .graphql(&format!(
            r#"mutation {{ updateCustomer(id: "{lead}", input: {{ firstName: "Lead", lastName: "", email: "lead@example.com", erpCustomerNames: ["{BRIGHT}"], isActive: true }}) {{ erpCustomerNames }} }}"#
        ))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(stored_scope(&app, mate), BRIGHT);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TEAM_SCOPE_NARROWED' AND admin_username = 'cp_admin'"),
        1
    );
    assert_eq!(customers_seen(&colleague).await, vec![BRIGHT.to_owned()]);
    // The manager cannot give back what they no longer have.
    let r = manager
        .graphql(&format!(
            r#"mutation {{ setColleagueScope(id: "{mate}", erpCustomerNames: ["{ACME}"]) {{ email }} }}"#
        ))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");

    // Whatever is stored (written by another road), a session never reads wider than its
    // manager's scope as it is now.
    app.db()
        .execute(
            "UPDATE Customers SET erp_customer_name = 'All' WHERE customer_id = ?1",
            [mate],
        )
        .unwrap();
    assert_eq!(customers_seen(&colleague).await, vec![BRIGHT.to_owned()]);
    let fresh = app.other_browser();
    fresh
        .login("mate@example.com", "a long colleague password")
        .await;
    assert_eq!(
        customers_seen(&fresh).await,
        vec![BRIGHT.to_owned()],
        "at sign-in too"
    );

    // Staff see who manages whom; stopping the manager frees the colleague.
    let teams = admin
        .graphql("{ teams { account { email } isManager managedBy { email } } }")
        .await;
    assert!(teams["errors"].is_null(), "{teams}");
    assert_eq!(
        teams["data"]["teams"],
        json!([
            { "account": { "email": "lead@example.com" }, "isManager": true, "managedBy": null },
            { "account": { "email": "mate@example.com" }, "isManager": false, "managedBy": { "email": "lead@example.com" } }
        ])
    );
    // A colleague cannot be made a manager while in a team.
    let r = admin
        .graphql(&format!(
            r#"mutation {{ setTeamManager(customerId: "{mate}", manager: true) {{ email }} }}"#
        ))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let page = admin.get("/admin/customers").await.text().await.unwrap();
    assert!(page.contains("Colleague of lead@example.com"), "{page}");
    let r = admin
        .graphql(&format!(
            r#"mutation {{ setTeamManager(customerId: "{lead}", manager: false) {{ email }} }}"#
        ))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    assert_eq!(manager.get("/account/team").await.status(), 403);
    let teams = admin.graphql("{ teams { isManager } }").await;
    assert_eq!(teams["data"]["teams"], json!([]));
    // A colleague cannot be made a manager while in a team; freed, they can.
    let r = admin
        .graphql(&format!(
            r#"mutation {{ setTeamManager(customerId: "{mate}", manager: true) {{ email }} }}"#
        ))
        .await;
    assert!(r["errors"].is_null(), "freed: {r}");
}

#[tokio::test]
async fn invitations_expire_and_a_new_one_replaces_the_old() {
    let (app, _admin, _lead, manager) = team_app().await;
    invite(&manager, "late@example.com", &[ACME]).await;
    let late = colleague_id(&app, "late@example.com");
    let first = invitation_secret(&app, "late@example.com");
    // 72 hours pass.
    app.db()
        .execute(
            "UPDATE PasswordResetTokens SET expiry_date = '2000-01-01T00:00:00Z' WHERE customer_id = ?1",
            [late],
        )
        .unwrap();
    let page = accept_expired(&app, &first).await;
    assert!(page.contains("no longer works"), "{page}");
    // Send again: a new mail with a new link; the old one stays dead.
    let again = manager
        .post_form(&format!("/account/team/{late}/resend"), &[])
        .await;
    assert_eq!(location(&again), "/account/team");
    let all = invitation_secrets(&app, "late@example.com");
    assert_eq!(all.len(), 2, "a second mail");
    let second = all.into_iter().find(|s| *s != first).expect("a new link");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TEAM_INVITE_RESEND' AND admin_username = 'lead@example.com'"),
        1
    );
    let done = accept(&app, &second, "another long password").await;
    assert_eq!(location(&done), "/login?reason=invitation_accepted");
    // Accepted: nothing more to resend.
    let r = manager
        .graphql(&format!(
            r#"mutation {{ resendInvitation(id: "{late}") {{ emailSent }} }}"#
        ))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
}

#[tokio::test]
async fn in_the_browser_a_manager_invites_and_the_colleague_accepts() {
    use crate::webdriver::Browser;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (app, _admin, _lead, manager) = team_app().await;
    // One colleague already there, so the table shows a row of each kind.
    invite(&manager, "first@example.com", &[ACME]).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var("SCREENSHOTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_owned());
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    // One browser profile: signed in once, then looked at in both themes and sizes.
    let s = browser.session().await;
    s.window_size(1366, 900).await;
    s.sign_in_customer(&app.url("/login"), "lead@example.com", PASSWORD)
        .await;
    for (theme, width, height) in [("light", 1366, 900), ("dark", 390, 844)] {
        s.window_size(width, height).await;
        s.set_theme(theme).await;
        s.goto(&app.url("/account/team")).await;
        s.wait_for("the team page", "document.querySelector('.team-table')")
            .await;
        failures.extend(crate::accessibility::axe_violations(&s).await);
        if theme == "light" {
            s.type_into("#first_name", "Pat").await;
            s.type_into("#email", "pat@example.com").await;
            s.click("#invite-1").await;
            s.click("form[action='/account/team/invite'] button").await;
            s.wait_for(
                "the invitation sent",
                "document.body.textContent.includes('Invitation sent to pat@example.com')",
            )
            .await;
            failures.extend(crate::accessibility::axe_violations(&s).await);
        }
        s.screenshot(&dir.join(format!("team-{width}x{height}-{theme}.png")))
            .await;
    }
    assert_eq!(
        stored_scope(&app, colleague_id(&app, "pat@example.com")),
        BRIGHT
    );
    s.window_size(1366, 900).await;
    s.set_theme("light").await;
    s.click("form[action='/logout'] button").await;
    s.wait_for("signed out", "location.pathname === '/login'")
        .await;
    // The colleague's side: the link, the password, the sign-in.
    let secret = invitation_secret(&app, "pat@example.com");
    s.goto(&app.url(&format!("/invitation?token={secret}")))
        .await;
    s.wait_for("the invitation page", "location.pathname === '/invitation'")
        .await;
    failures.extend(crate::accessibility::axe_violations(&s).await);
    s.screenshot(&dir.join("team-invitation-1366x900-light.png"))
        .await;
    s.type_into("#new_password", "pat's own long password")
        .await;
    s.type_into("#confirm_password", "pat's own long password")
        .await;
    s.click("form[action='/invitation'] button").await;
    s.wait_for("the sign-in page", "location.pathname === '/login'")
        .await;
    s.submit_sign_in("pat@example.com", "pat's own long password")
        .await;
    s.wait_for("the grid", "document.querySelector('#inv-count')")
        .await;
    s.close().await;
    assert!(failures.is_empty(), "axe: {failures:#?}");
}

#[tokio::test]
async fn every_new_form_asks_for_the_csrf_token_and_stays_under_16_kb() {
    let (app, admin, lead, manager) = team_app().await;
    invite(&manager, "mate@example.com", &[ACME]).await;
    let mate = colleague_id(&app, "mate@example.com");
    let padding = "x".repeat(20 * 1024);
    let forms = [
        (&manager, "/account/team/invite".to_owned()),
        (&manager, format!("/account/team/{mate}/scope")),
        (&manager, format!("/account/team/{mate}/active")),
        (&manager, format!("/account/team/{mate}/resend")),
        (&manager, "/invitation".to_owned()),
        (&admin, format!("/admin/customers/{lead}/team-manager")),
        (&admin, "/admin/two-step/begin".to_owned()),
        (&admin, "/admin/two-step/confirm".to_owned()),
        (&admin, "/admin-login/code".to_owned()),
    ];
    for (b, path) in &forms {
        b.csrf_token().await;
        let no_token = b
            .client
            .post(b.url(path))
            .form(&[("erp_customer_names", ACME), ("active", "false")])
            .send()
            .await
            .unwrap();
        assert_eq!(no_token.status(), 403, "{path} without a token");
        let token = b.csrf_token().await;
        let big = b
            .client
            .post(b.url(path))
            .form(&[
                ("csrf_token", token.as_str()),
                ("first_name", padding.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(big.status(), 413, "{path} over 16 KB");
    }
    // Nothing changed by any of them.
    assert_eq!(stored_scope(&app, mate), ACME);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM Customers WHERE is_active = 1"),
        2
    );
}
