//! "Your sessions": a customer's own signed-in browsers, signing out others, and the mail
//! about a sign-in from a browser the account did not know.

use std::time::Duration;

use crate::helpers::*;

const MY_SESSIONS: &str =
    "{ mySessions { id device ipAddress userAgent current signedInAt lastSeen } }";

async fn signed_in_browser(app: &TestApp, email: &str) -> TestApp {
    let b = app.other_browser();
    assert_eq!(location(&b.login(email, PASSWORD).await), "/inventory");
    b
}

fn ids(v: &serde_json::Value) -> Vec<(String, bool)> {
    v["data"]["mySessions"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["current"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_customer_sees_their_browsers_and_signs_out_any_other_but_nobody_elses() {
    let app = spawn_app().await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    app.add_customer("bob@example.com", PASSWORD, "Other Co", false)
        .await;
    let a = signed_in_browser(&app, "jane@example.com").await;
    let b = signed_in_browser(&app, "jane@example.com").await;
    let bob = signed_in_browser(&app, "bob@example.com").await;

    // Jane sees her two browsers, this one marked; no secret session id is shown.
    let mine = a.graphql(MY_SESSIONS).await;
    let listed = ids(&mine);
    assert_eq!(listed.len(), 2, "{mine}");
    assert_eq!(listed.iter().filter(|(_, current)| *current).count(), 1);
    let secret_ids: Vec<String> = app
        .db()
        .prepare("SELECT session_id FROM ActiveSessions")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for s in &secret_ids {
        assert!(
            !mine.to_string().contains(s.as_str()),
            "a session id leaked"
        );
    }
    assert_eq!(mine["data"]["mySessions"][0]["device"], "portal-tests/1.0");
    let page = a.get("/account/sessions").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("This browser") && html.contains("Sign out 1 other browser"));
    for s in &secret_ids {
        assert!(
            !html.contains(s.as_str()),
            "a session id leaked into the page"
        );
    }

    // Bob's session cannot be named from Jane's browser (nor her own current one).
    let bobs = ids(&bob.graphql(MY_SESSIONS).await);
    let refused = a
        .graphql(&format!(
            r#"mutation {{ signOutSession(id: "{}") }}"#,
            bobs[0].0
        ))
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
    let own = listed.iter().find(|(_, c)| *c).unwrap().0.clone();
    let refused = a
        .graphql(&format!(r#"mutation {{ signOutSession(id: "{own}") }}"#))
        .await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(bob.get("/inventory").await.status(), 200);
    assert_eq!(a.get("/inventory").await.status(), 200);

    // The other one, by the page's form: B is signed out on its next request.
    let other = listed.iter().find(|(_, c)| !*c).unwrap().0.clone();
    let done = a
        .post_form("/account/sessions/sign-out", &[("session", &other)])
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/account/sessions");
    let after = a.get("/account/sessions").await.text().await.unwrap();
    assert!(after.contains("That browser is signed out."), "{after}");
    assert!(after.contains("No other browser is signed in"));
    let gone = b.get("/inventory").await;
    assert_eq!(gone.status(), 303);
    assert!(location(&gone).starts_with("/login"));
    assert_eq!(a.get("/inventory").await.status(), 200);
    assert_eq!(bob.get("/inventory").await.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_SESSION_REVOKE' AND target_customer_email = 'jane@example.com'"),
        1
    );

    // Sign out all others: two more browsers go, this one and Bob's stay.
    let c = signed_in_browser(&app, "jane@example.com").await;
    let d = signed_in_browser(&app, "jane@example.com").await;
    let n = a.graphql("mutation { signOutOtherSessions }").await;
    assert_eq!(n["data"]["signOutOtherSessions"], 2, "{n}");
    for gone in [&c, &d] {
        assert_eq!(gone.get("/inventory").await.status(), 303);
    }
    assert_eq!(a.get("/inventory").await.status(), 200);
    assert_eq!(bob.get("/inventory").await.status(), 200);
    let none = a.post_form("/account/sessions/sign-out-others", &[]).await;
    assert_eq!(none.status(), 303);
    let page = a.get("/account/sessions").await.text().await.unwrap();
    assert!(page.contains("No other browser was signed in."), "{page}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_SESSION_REVOKE'"),
        2,
        "one row per sign-out that ended something"
    );

    // Only signed-in customers: not a visitor, not a token, not before the password change.
    let visitor = app.other_browser();
    assert_eq!(visitor.get("/account/sessions").await.status(), 303);
    let denied = visitor.graphql(MY_SESSIONS).await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    app.add_customer("new@example.com", PASSWORD, "Acme Foods", true)
        .await;
    let fresh = app.other_browser();
    fresh.login("new@example.com", PASSWORD).await;
    let page = fresh.get("/account/sessions").await;
    assert_eq!(location(&page), "/force-change-password");
}

/// The demo outbox's messages with this subject, waiting up to 10 s for `want` of them
/// (the mail goes out in the background).
async fn mails_with_subject(app: &TestApp, subject: &str, want: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<String> = outbox_messages(app)
            .into_iter()
            .filter(|m| m.contains(subject))
            .collect();
        if found.len() >= want || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const NEW_SIGN_IN: &str = "A new sign-in to your WePackItAll Customer Portal account";

/// How many mails with this subject the outbox holds after a moment (the mail goes out in
/// the background).
async fn settled_count(app: &TestApp, subject: &str) -> usize {
    tokio::time::sleep(Duration::from_millis(400)).await;
    outbox_messages(app)
        .iter()
        .filter(|m| m.contains(subject))
        .count()
}

#[tokio::test]
async fn a_browser_new_to_the_account_brings_a_mail_and_a_known_one_does_not() {
    let app = spawn_app_with(&[("APP_BASE_URL", "https://portal.example.com")], false).await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // The account's first sign-in: every first sign-in is from a new browser, no mail.
    let a = signed_in_browser(&app, "jane@example.com").await;
    assert_eq!(settled_count(&app, NEW_SIGN_IN).await, 0);

    // Another browser: a mail to the account, with what it needs to act.
    signed_in_browser(&app, "jane@example.com").await;
    let mails = mails_with_subject(&app, NEW_SIGN_IN, 1).await;
    assert_eq!(mails.len(), 1);
    let text = customer_portal::mail::plain_text_part(&mails[0]);
    assert!(text.contains("jane@example.com"), "{text}");
    assert!(text.contains("Browser: portal-tests/1.0"), "{text}");
    assert!(text.contains("Address: 127.0.0.1"), "{text}");
    assert!(
        text.contains("https://portal.example.com/account/sessions"),
        "{text}"
    );
    assert!(mails[0].contains("To: jane@example.com"), "{}", mails[0]);

    // The first browser again (it carries the account's mark): no mail.
    a.post_form("/logout", &[]).await;
    assert_eq!(
        location(&a.login("jane@example.com", PASSWORD).await),
        "/inventory"
    );
    // A wrong password from a new browser: none either.
    let stranger = app.other_browser();
    stranger
        .login("jane@example.com", "not the password at all")
        .await;
    assert_eq!(settled_count(&app, NEW_SIGN_IN).await, 1);
    // A third browser: a second mail.
    signed_in_browser(&app, "jane@example.com").await;
    assert_eq!(mails_with_subject(&app, NEW_SIGN_IN, 2).await.len(), 2);
    assert_eq!(settled_count(&app, NEW_SIGN_IN).await, 2);
}

#[tokio::test]
async fn a_sign_in_on_a_temporary_password_brings_no_such_mail() {
    let app = spawn_app().await;
    app.add_customer("new@example.com", PASSWORD, "Acme Foods", true)
        .await;
    for _ in 0..2 {
        let b = app.other_browser();
        assert_eq!(
            location(&b.login("new@example.com", PASSWORD).await),
            "/force-change-password"
        );
    }
    // Its owner was just mailed that password: the welcome mail says enough.
    assert_eq!(settled_count(&app, NEW_SIGN_IN).await, 0);
}

#[tokio::test]
async fn the_new_sign_in_mail_can_be_turned_off() {
    let app = spawn_app_with(&[("NEW_SIGNIN_MAIL", "False")], false).await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // Past the first sign-in, from new browsers: still no mail.
    for _ in 0..2 {
        signed_in_browser(&app, "jane@example.com").await;
    }
    assert_eq!(settled_count(&app, NEW_SIGN_IN).await, 0);
}
