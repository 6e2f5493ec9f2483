//! Forgot password: one answer for every email, a single-use 30-minute link mailed only to
//! active accounts (built from APP_BASE_URL, only its hash stored), a newer link replacing
//! older ones, and a reset that ends every session, clears the temporary flag and is
//! audited. Requests are throttled per address (429 + Retry-After) and per email (quietly).

use std::time::{Duration, Instant};

use crate::helpers::*;

const BASE: &str = "http://portal.example.test";
const NEW_PASSWORD: &str = "Brand-New-Password-77";

async fn app() -> TestApp {
    spawn_app_with(&[("APP_BASE_URL", BASE)], false).await
}

/// Waits (at most 10 s) until the outbox holds `n` messages and returns them.
async fn wait_for_mails(app: &TestApp, n: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let mails = outbox_messages(app);
        if mails.len() >= n || started.elapsed() > Duration::from_secs(10) {
            return mails;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The link's secret in a stored message (plain-text part), after checking the link's base.
fn link_secret(raw: &str) -> String {
    link_secret_from(raw, BASE)
}

fn link_secret_from(raw: &str, base: &str) -> String {
    let text = customer_portal::mail::plain_text_part(raw);
    let line = text
        .lines()
        .find(|l| l.contains("/reset-password?token="))
        .unwrap_or_else(|| panic!("no reset link in:\n{text}"));
    assert!(
        line.trim()
            .starts_with(&format!("{base}/reset-password?token=")),
        "links are built from APP_BASE_URL: {line}"
    );
    line.split("token=").nth(1).unwrap().trim().to_owned()
}

async fn ask(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_form("/forgot-password", &[("email", email)]).await
}

/// Opens the mailed link in `browser`: the secret moves into the session.
async fn open_link(browser: &TestApp, secret: &str) -> String {
    let resp = browser
        .get(&format!("/reset-password?token={secret}"))
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        location(&resp),
        "/reset-password",
        "the secret leaves the address"
    );
    browser.get("/reset-password").await.text().await.unwrap()
}

#[tokio::test]
async fn every_email_gets_the_same_answer_and_only_active_accounts_get_a_link() {
    let app = app().await;
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

    // The login page offers the way in.
    let login = app.get("/login").await.text().await.unwrap();
    assert!(login.contains(r#"href="/forgot-password""#));
    let form = app.get("/forgot-password").await;
    assert_eq!(form.status(), 200);

    let mut answers = Vec::new();
    for email in [
        "nobody@example.com",
        "inactive@example.com",
        "ACTIVE@example.com",
        "not an email",
    ] {
        let resp = ask(&app, email).await;
        assert_eq!(resp.status(), 200, "{email}");
        let body = resp.text().await.unwrap();
        let start = body.find("<main").expect("a page");
        let message = body[start..]
            .split("role=\"status\"")
            .nth(1)
            .unwrap_or_else(|| panic!("no answer for {email}"))
            .split("</div>")
            .next()
            .unwrap()
            .to_owned();
        assert!(
            !body[start..].contains(email),
            "the answer does not echo the email"
        );
        answers.push(message);
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "one answer for all: {answers:?}"
    );
    assert!(answers[0].contains("If an account exists"));

    let mails = wait_for_mails(&app, 1).await;
    // Give a wrongly sent second mail the time to appear.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = if mails.len() == 1 {
        outbox_messages(&app)
    } else {
        mails
    };
    assert_eq!(mails.len(), 1, "only the active account gets a mail");
    let mail = &mails[0];
    assert!(mail.contains("To: active@example.com"), "{mail}");
    assert!(mail.contains("text/html"), "an HTML part too");
    let secret = link_secret(mail);
    assert_eq!(secret.len(), 64, "256 bits, hex");
    // Only the hash is stored, with a 30-minute expiry.
    let (stored, expiry): (String, String) = app
        .db()
        .query_row(
            "SELECT token_hash, expiry_date FROM PasswordResetTokens",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_ne!(stored, secret);
    assert_eq!(stored, customer_portal::auth::tokens::hash_secret(&secret));
    let expiry = customer_portal::store::parse_ts(&expiry).unwrap();
    let left = expiry - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::minutes(29) && left <= time::Duration::minutes(30),
        "{left}"
    );
}

#[tokio::test]
async fn a_link_sets_the_password_once_ends_every_session_and_is_audited() {
    let app = app().await;
    let id = app
        .add_customer("pat@example.com", PASSWORD, "Acme Foods", true)
        .await;
    // Signed in elsewhere (on the temporary password).
    let elsewhere = app.other_browser();
    assert_eq!(
        location(&elsewhere.login("pat@example.com", PASSWORD).await),
        "/force-change-password"
    );

    let browser = app.other_browser();
    assert_eq!(ask(&browser, "pat@example.com").await.status(), 200);
    let secret = link_secret(&wait_for_mails(&app, 1).await[0]);

    // Bad links never show the form.
    for bad in ["nothex", &"0".repeat(64)] {
        let page = open_link(&app.other_browser(), bad).await;
        assert!(page.contains("This link no longer works"), "{bad}");
    }

    let page = open_link(&browser, &secret).await;
    assert!(page.contains("Choose a new password"), "{page}");
    // Policy errors keep the link usable.
    let resp = browser
        .post_form(
            "/reset-password",
            &[("new_password", "short"), ("confirm_password", "short")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("at least 12"));
    let resp = browser
        .post_form(
            "/reset-password",
            &[
                ("new_password", NEW_PASSWORD),
                ("confirm_password", "Something-Else-123"),
            ],
        )
        .await;
    assert!(resp.text().await.unwrap().contains("do not match"));

    let resp = browser
        .post_form(
            "/reset-password",
            &[
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/login?reason=password_changed");

    // Every session ended; the flag is clear; the reset is audited.
    let resp = elsewhere.get("/force-change-password").await;
    assert_eq!(resp.status(), 303, "the other session ended");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM ActiveSessions WHERE customer_id = {}",
            id.0
        )),
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT must_reset_password FROM Customers WHERE customer_id = {}",
            id.0
        )),
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM AuditLog WHERE action_type = 'CUSTOMER_PW_RESET_SELF' AND target_customer_id = {}",
            id.0
        )),
        1
    );

    // The old password is gone, the new one goes straight to the inventory.
    assert_eq!(
        location(&app.other_browser().login("pat@example.com", PASSWORD).await),
        ""
    );
    let fresh = app.other_browser();
    assert_eq!(
        location(&fresh.login("pat@example.com", NEW_PASSWORD).await),
        "/inventory"
    );

    // The link worked once.
    let page = open_link(&app.other_browser(), &secret).await;
    assert!(page.contains("This link no longer works"));
    let resp = browser
        .post_form(
            "/reset-password",
            &[
                ("new_password", "Another-Password-99"),
                ("confirm_password", "Another-Password-99"),
            ],
        )
        .await;
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("This link no longer works")
    );
}

#[tokio::test]
async fn a_newer_link_replaces_the_older_and_links_expire() {
    let app = app().await;
    app.add_customer("pat@example.com", PASSWORD, "Acme Foods", false)
        .await;
    ask(&app, "pat@example.com").await;
    let first = link_secret(&wait_for_mails(&app, 1).await[0]);
    ask(&app, "pat@example.com").await;
    let mails = wait_for_mails(&app, 2).await;
    assert_eq!(mails.len(), 2);
    let second = mails
        .iter()
        .map(|m| link_secret(m))
        .find(|s| *s != first)
        .expect("a second, different link");

    let page = open_link(&app.other_browser(), &first).await;
    assert!(
        page.contains("This link no longer works"),
        "the older link is dead"
    );
    let page = open_link(&app.other_browser(), &second).await;
    assert!(page.contains("Choose a new password"));

    // Half an hour later the newer one is dead too.
    app.db()
        .execute(
            "UPDATE PasswordResetTokens SET expiry_date = ?1",
            [customer_portal::store::format_ts(
                time::OffsetDateTime::now_utc() - time::Duration::seconds(1),
            )],
        )
        .unwrap();
    let page = open_link(&app.other_browser(), &second).await;
    assert!(page.contains("This link no longer works"));
}

#[tokio::test]
async fn requests_are_throttled_per_email_quietly_and_per_address_with_retry_after() {
    let app = app().await;
    app.add_customer("pat@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // Per email: answered alike, but only three links per 15 minutes.
    for _ in 0..5 {
        let resp = ask(&app, "pat@example.com").await;
        assert_eq!(resp.status(), 200);
        assert!(resp.text().await.unwrap().contains("If an account exists"));
    }
    wait_for_mails(&app, 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(outbox_messages(&app).len(), 3, "three links at most");

    // Per address: ten requests, then 429 with Retry-After.
    for i in 0..5 {
        let resp = ask(&app, &format!("other{i}@example.com")).await;
        assert_eq!(resp.status(), 200);
    }
    let resp = ask(&app, "pat@example.com").await;
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 60, "{retry}");
    assert!(resp.text().await.unwrap().contains("Too many requests"));

    // Staff sessions and tokens cannot ask for links (they are for browsers at the sign-in
    // pages), and anonymous GraphQL callers are refused as before.
    let body = app
        .graphql(r#"mutation { requestPasswordReset(email: "pat@example.com") }"#)
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

/// The whole journey in Chromium: the login page's link, the form, the mailed link from the
/// outbox, the new password, and the inventory after signing in with it.
#[tokio::test]
async fn forgot_password_in_a_browser_from_the_login_page_to_the_inventory() {
    let Some(browser) = crate::webdriver::Browser::start().await else {
        return;
    };
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "300")], false).await;
    app.add_customer("forgetful@example.com", PASSWORD, "All", true)
        .await;
    let s = browser.session().await;
    s.goto(&app.url("/login")).await;
    s.click("a[href='/forgot-password']").await;
    s.wait_for(
        "the forgot form",
        "document.querySelector(\"form[action='/forgot-password']\")",
    )
    .await;
    s.type_into("#email", "forgetful@example.com").await;
    s.click("form[action='/forgot-password'] button[type=submit]")
        .await;
    s.wait_for(
        "the answer",
        "document.body.textContent.includes('If an account exists')",
    )
    .await;

    let mails = wait_for_mails(&app, 1).await;
    assert_eq!(mails.len(), 1);
    let base = app
        .state
        .config
        .public_url(app.address.rsplit(':').next().unwrap().parse().unwrap());
    let secret = link_secret_from(&mails[0], &base);
    s.goto(&app.url(&format!("/reset-password?token={secret}")))
        .await;
    s.wait_for("the new-password form", "location.pathname === '/reset-password' && location.search === '' && !!document.querySelector('#new_password')")
        .await;
    s.type_into("#new_password", NEW_PASSWORD).await;
    s.type_into("#confirm_password", NEW_PASSWORD).await;
    s.click("form[action='/reset-password'] button[type=submit]")
        .await;
    s.wait_for(
        "the sign-in page",
        "location.pathname === '/login' && document.body.textContent.includes('Your password was changed')",
    )
    .await;
    // Signed in with the new password: straight to the inventory, no forced change.
    s.submit_sign_in("forgetful@example.com", NEW_PASSWORD)
        .await;
    s.wait_for("the grid", "document.querySelector('#inv-count')")
        .await;
    assert_eq!(s.script("return location.pathname;").await, "/inventory");
    s.close().await;
}

/// The answer never waits for the mail: with a mail server that accepts and never answers
/// (a 20 s deadline), a request for a real account is answered at once, like any other,
/// and the link still goes nowhere half-made.
#[tokio::test]
async fn the_answer_never_waits_for_the_mail_server() {
    let port = crate::smtp::silent_smtp_server().await.to_string();
    let app = spawn_app_with(
        &[
            ("APP_BASE_URL", BASE),
            ("SMTP_SERVER", "127.0.0.1"),
            ("SMTP_PORT", &port),
            ("SMTP_USE_TLS", "False"),
            ("SMTP_TIMEOUT", "20"),
            ("EMAIL_FROM", "portal@wepackitall.example"),
        ],
        false,
    )
    .await;
    app.add_customer("pat@example.com", PASSWORD, "Acme Foods", false)
        .await;
    for email in ["pat@example.com", "nobody@example.com"] {
        let started = Instant::now();
        let resp = ask(&app, email).await;
        assert_eq!(resp.status(), 200);
        assert!(resp.text().await.unwrap().contains("If an account exists"));
        // Far under the mail deadline: the exchange with the server is not awaited.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{email}: answered after {:?}",
            started.elapsed()
        );
    }
}

/// A link mailed before the password changed some other way (the user's own change, an
/// admin's reset) no longer works: it must not undo that change.
#[tokio::test]
async fn a_password_change_kills_outstanding_links() {
    let app = app().await;
    app.add_customer("pat@example.com", PASSWORD, "Acme Foods", false)
        .await;
    ask(&app, "pat@example.com").await;
    let secret = link_secret(&wait_for_mails(&app, 1).await[0]);
    let page = open_link(&app.other_browser(), &secret).await;
    assert!(
        page.contains("Choose a new password"),
        "usable before the change"
    );
    let me = app.other_browser();
    assert_eq!(
        location(&me.login("pat@example.com", PASSWORD).await),
        "/inventory"
    );
    let resp = me
        .post_form(
            "/force-change-password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let page = open_link(&app.other_browser(), &secret).await;
    assert!(page.contains("This link no longer works"));
}

#[tokio::test]
async fn forty_requests_at_once_from_one_address_over_two_instances_meet_the_limits_exactly() {
    let first = app().await;
    let data = first.data_path.to_str().unwrap().to_owned();
    let second = spawn_app_with(&[("APP_BASE_URL", BASE), ("DATA_DIR", &data)], false).await;
    first
        .add_customer("pat@example.com", PASSWORD, "Acme Foods", false)
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
                .post(b.url("/forgot-password"))
                .header("CF-Connecting-IP", "203.0.113.77")
                .form(&[("email", "pat@example.com"), ("csrf_token", csrf.as_str())])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut answered = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => answered += 1,
            429 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(answered, 10, "the address limit, exactly");
    wait_for_mails(&first, 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(outbox_messages(&first).len(), 3, "the email limit, exactly");
}
