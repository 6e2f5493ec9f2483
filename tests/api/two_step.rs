//! Two-step sign-in for customers: enrolment with the portal's own QR code, sign-in with a
//! code (once), recovery codes (once each), throttling like passwords, turning it off.

use customer_portal::auth::totp::{STEP_SECONDS, TotpSecret, base32_decode};
use customer_portal::auth::two_factor::ISSUER;

use crate::helpers::*;

pub fn now() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp() as u64
}

/// A six-digit code that is none of the app's codes around now.
fn wrong_code(secret: &TotpSecret) -> String {
    let t = now();
    let taken: Vec<String> = (0..5)
        .map(|i| secret.code_at(t + i * STEP_SECONDS - 2 * STEP_SECONDS))
        .collect();
    (0..10)
        .map(|d| d.to_string().repeat(6))
        .find(|c| !taken.contains(c))
        .unwrap()
}

fn recovery_codes(html: &str) -> Vec<String> {
    let list = html
        .split("class=\"recovery-codes mono\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no recovery codes in {html}"));
    let list = &list[..list.find("</ul>").unwrap()];
    list.split("<li>")
        .skip(1)
        .map(|li| li[..li.find("</li>").unwrap()].trim().to_owned())
        .collect()
}

async fn enrol(app: &TestApp) -> (TotpSecret, Vec<String>) {
    enrol_at(app, "/account/two-step").await
}

/// Enrols the signed-in person of `app` at their page `base` (customers' or staff's).
pub async fn enrol_at(app: &TestApp, base: &str) -> (TotpSecret, Vec<String>) {
    let page = app.get(base).await.text().await.unwrap();
    assert!(page.contains("Set up two-step sign-in"), "{page}");
    let begun = app.post_form(&format!("{base}/begin"), &[]).await;
    assert_eq!(location(&begun), base);
    let page = app.get(base).await.text().await.unwrap();
    assert!(
        page.contains("<svg class=\"qr\""),
        "the QR code is drawn in the page"
    );
    let pending = app
        .graphql("{ pendingTwoFactor { secret otpauthUri qrSize qrPath } }")
        .await;
    let p = &pending["data"]["pendingTwoFactor"];
    let secret = TotpSecret::from_bytes(base32_decode(p["secret"].as_str().unwrap()).unwrap());
    assert!(
        page.contains(p["secret"].as_str().unwrap()),
        "the key is shown for typing"
    );
    assert!(
        p["otpauthUri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/WePackItAll%20Customer%20Portal:"),
        "{p}"
    );
    assert!(p["qrSize"].as_i64().unwrap() >= 21);
    // A wrong code does not turn it on.
    let refused = app
        .post_form(
            &format!("{base}/confirm"),
            &[("code", &wrong_code(&secret))],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(refused.contains("That code is not right"), "{refused}");
    let done = app
        .post_form(
            &format!("{base}/confirm"),
            &[("code", &secret.code_at(now()))],
        )
        .await;
    assert_eq!(done.status(), 200);
    let codes = recovery_codes(&done.text().await.unwrap());
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// The key the enrolment page shows for typing; and, where zbarimg is installed (always
/// under CI), the QR code in the screenshot `shot` read back as the app's link with that
/// key for `label`.
async fn shown_secret_read_back(
    s: &crate::webdriver::Session<'_>,
    shot: &std::path::Path,
    label: &str,
) -> TotpSecret {
    let key = s
        .script("return document.querySelector('code.mono').textContent;")
        .await;
    let secret = TotpSecret::from_bytes(base32_decode(key.as_str().unwrap()).unwrap());
    if let Some(zbar) = require_tool(
        crate::webdriver::find_program(&["/usr/bin/zbarimg", "/usr/local/bin/zbarimg"]),
        "zbarimg is not installed (apt-get install zbar-tools): the QR code was not read back",
        under_ci(),
    ) {
        let out = std::process::Command::new(zbar)
            .args(["-q", "--raw"])
            .arg(shot)
            .output()
            .unwrap();
        let read = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert_eq!(read, secret.otpauth_uri(ISSUER, label));
    }
    secret
}

async fn password_step(app: &TestApp, email: &str) -> TestApp {
    let b = app.other_browser();
    let resp = b.login(email, PASSWORD).await;
    assert_eq!(location(&resp), "/login/code");
    // Not signed in yet.
    assert_eq!(b.get("/inventory").await.status(), 303);
    let page = b.get("/login/code").await.text().await.unwrap();
    assert!(page.contains("Two-step sign-in"));
    b
}

#[tokio::test]
async fn a_customer_turns_two_step_on_and_signs_in_with_each_code_once() {
    let app = spawn_app().await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    assert_eq!(
        location(&app.login("jane@example.com", PASSWORD).await),
        "/inventory"
    );
    let (secret, codes) = enrol(&app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TWO_FACTOR_ENABLE'"),
        1
    );
    let status = app
        .graphql("{ twoFactorStatus { on pending recoveryCodesLeft } }")
        .await;
    assert_eq!(status["data"]["twoFactorStatus"]["on"], true, "{status}");
    assert_eq!(status["data"]["twoFactorStatus"]["recoveryCodesLeft"], 10);
    // Only hashes are stored.
    for c in &codes {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM TwoFactorRecoveryCodes WHERE code_hash LIKE '%{c}%'"
            )),
            0
        );
    }
    // The secret is sealed, not stored as the app knows it.
    let sealed: String = app
        .db()
        .query_row("SELECT secret_sealed FROM TwoFactor", [], |r| r.get(0))
        .unwrap();
    assert!(!sealed.contains(&secret.base32()) && !sealed.is_empty());

    // The password alone no longer signs in; the code used to confirm does not either.
    let b = password_step(&app, "jane@example.com").await;
    let used = b
        .post_form("/login/code", &[("code", &secret.code_at(now()))])
        .await
        .text()
        .await
        .unwrap();
    assert!(used.contains("That code is not right"), "a code works once");
    assert_eq!(b.get("/inventory").await.status(), 303);
    // The next step's code (the app shows it within 30 s) signs in.
    let next = secret.code_at(now() + STEP_SECONDS);
    let signed = b.post_form("/login/code", &[("code", &next)]).await;
    assert_eq!(location(&signed), "/inventory");
    assert_eq!(b.get("/inventory").await.status(), 200);

    // Another browser: that code again is refused, a recovery code works, once.
    let c = password_step(&app, "jane@example.com").await;
    let again = c.post_form("/login/code", &[("code", &next)]).await;
    assert_eq!(again.status(), 200, "the form again, not a sign-in");
    let signed = c
        .post_form("/login/code", &[("code", &codes[0].to_uppercase())])
        .await;
    assert_eq!(location(&signed), "/inventory");
    let d = password_step(&app, "jane@example.com").await;
    let reused = d.post_form("/login/code", &[("code", &codes[0])]).await;
    assert_eq!(reused.status(), 200);
    assert_eq!(d.get("/inventory").await.status(), 303);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TWO_FACTOR_RECOVERY_USED'"),
        1
    );
    let status = app
        .graphql("{ twoFactorStatus { recoveryCodesLeft } }")
        .await;
    assert_eq!(status["data"]["twoFactorStatus"]["recoveryCodesLeft"], 9);

    // Off, with a recovery code: the password alone signs in again.
    let off = app
        .post_form("/account/two-step/off", &[("code", &codes[1])])
        .await;
    assert_eq!(location(&off), "/account/two-step");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TWO_FACTOR_DISABLE'"),
        1
    );
    let e = app.other_browser();
    assert_eq!(
        location(&e.login("jane@example.com", PASSWORD).await),
        "/inventory"
    );
    // A browser that was waiting for its code starts over.
    let late = d.post_form("/login/code", &[("code", &codes[2])]).await;
    assert_eq!(location(&late), "/login?reason=code_expired");
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_passwords_and_tokens_cannot_enrol() {
    let app = crate::admin::admin_app(&[]).await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    app.login("jane@example.com", PASSWORD).await;
    let (secret, _) = enrol(&app).await;
    let b = password_step(&app, "jane@example.com").await;
    let wrong = wrong_code(&secret);
    let mut last = None;
    for _ in 0..12 {
        let r = b.post_form("/login/code", &[("code", &wrong)]).await;
        last = Some(r.status());
        if r.status() == 429 {
            assert!(r.headers().get("retry-after").is_some());
            break;
        }
    }
    assert_eq!(last, Some(reqwest::StatusCode::TOO_MANY_REQUESTS));
    // While throttled, even the right code is not checked.
    let r = b
        .post_form(
            "/login/code",
            &[("code", &secret.code_at(now() + STEP_SECONDS))],
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(b.get("/inventory").await.status(), 303);

    // Not a field for tools, nor for visitors.
    let admin = crate::admin::admin_browser(&app).await;
    let (token, _) = crate::api_tokens::create(
        &admin,
        serde_json::json!({ "name": "tool", "scopes": ["inventory:read"], "erpCustomerNames": ["All"] }),
    )
    .await;
    for field in [
        "mutation { beginTwoFactor { secret } }",
        "{ twoFactorStatus { on } }",
        "{ mySessions { id } }",
    ] {
        let t = crate::api_tokens::bearer_json(&app, &token, field).await;
        assert_eq!(
            crate::api_tokens::code(&t),
            Some("FORBIDDEN"),
            "{field}: {t}"
        );
    }
    let visitor = app.other_browser();
    let v = visitor
        .graphql("mutation { beginTwoFactor { secret } }")
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{v}"
    );
    // Nobody can begin a second enrolment over a confirmed one.
    let again = app.graphql("mutation { beginTwoFactor { secret } }").await;
    assert_eq!(
        again["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{again}"
    );
}

/// In Chromium: enrol from the account menu (the key read off the page, as a person would
/// type it into an app), keep the recovery codes, sign out, sign in with the password and
/// the app's code; axe finds nothing serious on any of these pages. With
/// `SCREENSHOTS_DIR` set, the pages are kept as screenshots.
#[tokio::test]
async fn in_the_browser_a_customer_enrols_and_signs_in_with_a_code() {
    use crate::webdriver::Browser;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "300")], false).await;
    app.add_customer("pat@example.com", PASSWORD, "All", false)
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var("SCREENSHOTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_owned());
    std::fs::create_dir_all(&dir).unwrap();
    let s = browser.session().await;
    s.window_size(1366, 900).await;
    s.set_theme("light").await;
    s.sign_in_customer(&app.url("/login"), "pat@example.com", PASSWORD)
        .await;
    let mut failures = Vec::new();
    s.click("a[href='/account/two-step']").await;
    s.wait_for(
        "the two-step page",
        "location.pathname === '/account/two-step'",
    )
    .await;
    failures.extend(crate::accessibility::axe_violations(&s).await);
    s.click("form[action='/account/two-step/begin'] button")
        .await;
    // Drawn: the path is the SVG's own child and has the QR code's size.
    s.wait_for(
        "the QR code",
        "(() => { const p = document.querySelector('svg.qr > path'); return p && p.getBBox().width > 20; })()",
    )
        .await;
    failures.extend(crate::accessibility::axe_violations(&s).await);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    s.screenshot(&dir.join("two-step-enrol-1366x900-light.png"))
        .await;
    // What a phone's camera reads from the screen is the app's link with this very key.
    let shot = dir.join("two-step-enrol-1366x900-light.png");
    let secret = shown_secret_read_back(&s, &shot, "pat@example.com").await;
    s.type_into("#code", &secret.code_at(now())).await;
    s.click("form[action='/account/two-step/confirm'] button")
        .await;
    s.wait_for(
        "the recovery codes",
        "document.querySelectorAll('.recovery-codes li').length === 10",
    )
    .await;
    failures.extend(crate::accessibility::axe_violations(&s).await);
    s.screenshot(&dir.join("two-step-recovery-codes-1366x900-light.png"))
        .await;

    // Sign out; the password leads to the code page; the app's next code signs in.
    s.click("form[action='/logout'] button").await;
    s.wait_for("signed out", "location.pathname === '/login'")
        .await;
    s.submit_sign_in("pat@example.com", PASSWORD).await;
    s.wait_for("the code page", "location.pathname === '/login/code'")
        .await;
    failures.extend(crate::accessibility::axe_violations(&s).await);
    s.screenshot(&dir.join("two-step-sign-in-1366x900-light.png"))
        .await;
    s.type_into("#code", &secret.code_at(now() + STEP_SECONDS))
        .await;
    s.click("form[action='/login/code'] button").await;
    s.wait_for("the grid", "document.querySelector('#inv-count')")
        .await;
    s.close().await;
    assert!(failures.is_empty(), "axe: {failures:#?}");
}

#[tokio::test]
async fn a_trusted_browser_skips_the_code_until_the_account_forgets_it() {
    let app = spawn_app().await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    app.login("jane@example.com", PASSWORD).await;
    let (secret, codes) = enrol(&app).await;

    // Ticked: the browser gets a mark, and its next sign-in needs the password only.
    let b = password_step(&app, "jane@example.com").await;
    let page = b.get("/login/code").await.text().await.unwrap();
    assert!(page.contains("Trust this browser for 30 days"));
    let r = b
        .post_form(
            "/login/code",
            &[
                ("code", &secret.code_at(now() + STEP_SECONDS)),
                ("trust", "on"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/inventory");
    assert!(set_cookie_named(r.headers(), "cp_trust").is_some_and(|c| c.contains("HttpOnly")));
    b.post_form("/logout", &[]).await;
    assert_eq!(
        location(&b.login("jane@example.com", PASSWORD).await),
        "/inventory"
    );

    // Not ticked: no mark, and the next sign-in asks again.
    let c = password_step(&app, "jane@example.com").await;
    let r = c.post_form("/login/code", &[("code", &codes[0])]).await;
    assert_eq!(location(&r), "/inventory");
    assert!(set_cookie_named(r.headers(), "cp_trust").is_none());
    c.post_form("/logout", &[]).await;
    assert_eq!(
        location(&c.login("jane@example.com", PASSWORD).await),
        "/login/code"
    );

    // The account forgets its trusted browsers: the trusted one asks for the code again.
    let done = app
        .post_form("/account/two-step/forget-browsers", &[])
        .await;
    assert_eq!(location(&done), "/account/two-step");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TWO_FACTOR_TRUST_RESET'"),
        1
    );
    b.post_form("/logout", &[]).await;
    assert_eq!(
        location(&b.login("jane@example.com", PASSWORD).await),
        "/login/code"
    );
}

#[tokio::test]
async fn an_admin_resets_a_lost_phone_audited_and_mailed() {
    let hash = cheap_hash(crate::admin::ADMIN_PW);
    let app = spawn_app_with(
        &[
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &hash),
        ],
        false,
    )
    .await;
    let id = app
        .add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    app.login("jane@example.com", PASSWORD).await;
    enrol(&app).await;
    password_step(&app, "jane@example.com").await;

    let admin = app.other_browser();
    let r = admin
        .post_form(
            "/admin-login",
            &[
                ("username", "cp_admin"),
                ("password", crate::admin::ADMIN_PW),
                ("hp_email", ""),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/panel");
    let done = admin
        .post_form(&format!("/admin/customers/{}/reset-two-step", id.0), &[])
        .await;
    assert_eq!(done.status(), 200);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("Two-step sign-in turned off")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TWO_FACTOR_RESET' AND admin_username = 'cp_admin' AND target_customer_email = 'jane@example.com'"),
        1
    );
    let subject = "Two-step sign-in was turned off for your portal account";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !outbox_messages(&app).iter().any(|m| m.contains(subject)) {
        assert!(std::time::Instant::now() < deadline, "no reset mail");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The next sign-in asks for the password only; a second reset changes nothing.
    let b = app.other_browser();
    assert_eq!(
        location(&b.login("jane@example.com", PASSWORD).await),
        "/inventory"
    );
    let again = admin
        .graphql(&format!(
            r#"mutation {{ resetCustomerTwoFactor(id: "{}") }}"#,
            id.0
        ))
        .await;
    assert_eq!(again["data"]["resetCustomerTwoFactor"], false, "{again}");
    // Customers cannot reset anyone's.
    let denied = b
        .graphql(&format!(
            r#"mutation {{ resetCustomerTwoFactor(id: "{}") }}"#,
            id.0
        ))
        .await;
    assert_eq!(
        denied["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{denied}"
    );
}

#[tokio::test]
async fn when_required_a_customer_signs_in_once_and_can_only_enrol() {
    let app = crate::admin::admin_app(&[("REQUIRE_2FA", "customers")]).await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // The grace sign-in: the password alone, then only enrolment is open.
    assert_eq!(
        location(&app.login("jane@example.com", PASSWORD).await),
        "/inventory"
    );
    for path in ["/inventory", "/account/sessions", "/inventory/minimums"] {
        let r = app.get(path).await;
        assert_eq!(location(&r), "/account/two-step", "{path}");
    }
    let q = app.graphql("{ inventory(first: 1) { totalCount } }").await;
    assert_eq!(
        q["errors"][0]["extensions"]["code"], "TWO_FACTOR_REQUIRED",
        "{q}"
    );
    let page = app.get("/account/two-step").await.text().await.unwrap();
    assert!(page.contains("requires two-step sign-in"), "{page}");
    enrol(&app).await;
    // On: everything opens, and every later sign-in asks for the code.
    assert_eq!(app.get("/inventory").await.status(), 200);
    password_step(&app, "jane@example.com").await;
    // Tokens are not accounts: the requirement does not touch them.
    let admin = crate::admin::admin_browser(&app).await;
    let (token, _) = crate::api_tokens::create(
        &admin,
        serde_json::json!({ "name": "tool", "scopes": ["inventory:read"], "erpCustomerNames": ["Acme Foods"] }),
    )
    .await;
    let t = crate::api_tokens::bearer_json(&app, &token, "{ inventory(first: 1) { totalCount } }")
        .await;
    assert!(t["errors"].is_null(), "{t}");
}

#[test]
fn every_choice_of_require_2fa_is_accepted_and_others_are_refused() {
    for (value, ok) in [
        ("none", true),
        ("customers", true),
        ("staff", true),
        ("both", true),
        ("admins", false),
    ] {
        let v = vars(&[("PORT", "0"), ("REQUIRE_2FA", value)]);
        let result = customer_portal::config::Config::from_vars(&v);
        assert_eq!(result.is_ok(), ok, "REQUIRE_2FA={value}");
        if let Ok(c) = result {
            assert_eq!(
                c.require_two_factor_customers,
                matches!(value, "customers" | "both")
            );
            assert_eq!(
                c.require_two_factor_staff,
                matches!(value, "staff" | "both")
            );
        }
    }
}

/// The staff password step of a new browser, which then waits for the code.
async fn staff_password_step(app: &TestApp) -> TestApp {
    let b = app.other_browser();
    let resp = crate::admin::admin_login(&b, "cp_admin", crate::admin::ADMIN_PW).await;
    assert_eq!(location(&resp), "/admin-login/code");
    // Not signed in yet: no admin page, no admin field.
    assert_eq!(location(&b.get("/admin/panel").await), "/admin-login");
    let q = b.graphql("{ auditLog(first: 1) { totalCount } }").await;
    assert_eq!(
        q["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{q}"
    );
    let page = b.get("/admin-login/code").await.text().await.unwrap();
    assert!(page.contains("Two-step sign-in"), "{page}");
    b
}

#[tokio::test]
async fn staff_turn_two_step_on_and_sign_in_with_a_code_a_recovery_code_or_a_trusted_browser() {
    let app = crate::admin::admin_app(&[]).await;
    let admin = crate::admin::admin_browser(&app).await;
    let nav = admin.get("/admin/panel").await.text().await.unwrap();
    assert!(
        nav.contains("href=\"/admin/two-step\""),
        "the staff menu links it"
    );
    let (secret, codes) = enrol_at(&admin, "/admin/two-step").await;
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TWO_FACTOR_ENABLE' \
             AND admin_username = 'cp_admin' AND target_customer_id IS NULL"
        ),
        1,
        "audited under the admin's own name"
    );
    let key: String = app
        .db()
        .query_row("SELECT account_key FROM TwoFactor", [], |r| r.get(0))
        .unwrap();
    assert_eq!(key, "staff-local:cp_admin");
    // A customer's page is not staff's: the admin is sent to the customer sign-in.
    assert_eq!(admin.get("/account/two-step").await.status(), 303);

    // The password alone no longer signs in.
    let b = staff_password_step(&app).await;
    let wrong = b
        .post_form("/admin-login/code", &[("code", &wrong_code(&secret))])
        .await
        .text()
        .await
        .unwrap();
    assert!(wrong.contains("That code is not right"), "{wrong}");
    let next = secret.code_at(now() + STEP_SECONDS);
    let signed = b
        .post_form("/admin-login/code", &[("code", &next), ("trust", "on")])
        .await;
    assert_eq!(location(&signed), "/admin/panel");
    assert!(
        set_cookie_named(signed.headers(), "cp_trust").is_some(),
        "a trust mark was given"
    );
    assert_eq!(b.get("/admin/panel").await.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'ADMIN_LOGIN'"),
        2,
        "the session began after the code, audited as before"
    );

    // The same code in another browser: refused. A recovery code: once.
    let c = staff_password_step(&app).await;
    let again = c.post_form("/admin-login/code", &[("code", &next)]).await;
    assert_eq!(again.status(), 200);
    let rec = c
        .post_form("/admin-login/code", &[("code", &codes[0])])
        .await;
    assert_eq!(location(&rec), "/admin/panel");
    let d = staff_password_step(&app).await;
    let reused = d
        .post_form("/admin-login/code", &[("code", &codes[0])])
        .await;
    assert_eq!(reused.status(), 200);
    assert_eq!(location(&d.get("/admin/panel").await), "/admin-login");

    // The trusted browser skips the code, until the admin forgets trusted browsers.
    b.post_form("/admin-logout", &[]).await;
    assert_eq!(
        location(&crate::admin::admin_login(&b, "cp_admin", crate::admin::ADMIN_PW).await),
        "/admin/panel"
    );
    let forgot = admin
        .post_form("/admin/two-step/forget-browsers", &[])
        .await;
    assert_eq!(location(&forgot), "/admin/two-step");
    b.post_form("/admin-logout", &[]).await;
    assert_eq!(
        location(&crate::admin::admin_login(&b, "cp_admin", crate::admin::ADMIN_PW).await),
        "/admin-login/code"
    );
    let f = b;
    let status = admin
        .graphql("{ twoFactorStatus { on recoveryCodesLeft } }")
        .await;
    assert_eq!(status["data"]["twoFactorStatus"]["on"], true, "{status}");
    assert_eq!(status["data"]["twoFactorStatus"]["recoveryCodesLeft"], 9);

    // Off (the app's codes around now are used up, so with a recovery code): the password
    // alone signs in again.
    let off = admin
        .post_form("/admin/two-step/off", &[("code", &codes[1])])
        .await;
    assert_eq!(location(&off), "/admin/two-step");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TWO_FACTOR_DISABLE' \
             AND admin_username = 'cp_admin'"
        ),
        1
    );
    crate::admin::admin_browser(&app).await;
    // A browser that was waiting for its code starts over.
    let late = f
        .post_form("/admin-login/code", &[("code", &codes[2])])
        .await;
    assert_eq!(location(&late), "/admin-login?reason=code_expired");
    let page = f
        .get("/admin-login?reason=code_expired")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("within five minutes"), "{page}");
}

#[tokio::test]
async fn staff_codes_are_throttled_and_a_customer_cannot_use_the_staff_code_page() {
    let app = crate::admin::admin_app(&[]).await;
    let admin = crate::admin::admin_browser(&app).await;
    let (secret, _) = enrol_at(&admin, "/admin/two-step").await;
    let b = staff_password_step(&app).await;
    let wrong = wrong_code(&secret);
    let mut throttled = None;
    for _ in 0..12 {
        let r = b.post_form("/admin-login/code", &[("code", &wrong)]).await;
        if r.status() == 429 {
            throttled = Some(r);
            break;
        }
    }
    let r = throttled.expect("wrong staff codes are throttled");
    assert!(r.headers().get("retry-after").is_some());
    // Throttled: even the right code waits.
    let right = b
        .post_form("/admin-login/code", &[("code", &secret.code_at(now()))])
        .await;
    assert_eq!(right.status(), 429);
    // A customer with a pending customer sign-in cannot finish a staff one.
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let c = app.other_browser();
    c.login("jane@example.com", PASSWORD).await;
    let r = c
        .post_form("/admin-login/code", &[("code", &secret.code_at(now()))])
        .await;
    assert_eq!(location(&r), "/admin-login?reason=code_expired");
}

#[tokio::test]
async fn when_required_of_staff_an_admin_signs_in_once_and_can_only_enrol() {
    let app = crate::admin::admin_app(&[("REQUIRE_2FA", "staff")]).await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // Customers are not asked.
    let cust = app.other_browser();
    assert_eq!(
        location(&cust.login("jane@example.com", PASSWORD).await),
        "/inventory"
    );
    assert_eq!(cust.get("/inventory").await.status(), 200);
    // The grace sign-in: the password alone, then only enrolment is open.
    let admin = app.other_browser();
    assert_eq!(
        location(&crate::admin::admin_login(&admin, "cp_admin", crate::admin::ADMIN_PW).await),
        "/admin/panel"
    );
    for path in [
        "/admin/panel",
        "/admin/customers",
        "/admin/audit",
        "/admin/api",
    ] {
        assert_eq!(
            location(&admin.get(path).await),
            "/admin/two-step",
            "{path}"
        );
    }
    for q in [
        "{ auditLog(first: 1) { totalCount } }",
        "{ inventory(first: 1) { totalCount } }",
        "{ customers { id } }",
    ] {
        let r = admin.graphql(q).await;
        assert_eq!(
            r["errors"][0]["extensions"]["code"], "TWO_FACTOR_REQUIRED",
            "{q}: {r}"
        );
    }
    let page = admin.get("/admin/two-step").await.text().await.unwrap();
    assert!(page.contains("required for staff accounts"), "{page}");
    assert!(
        !page.contains("href=\"/admin/customers\""),
        "no menu before enrolling"
    );
    enrol_at(&admin, "/admin/two-step").await;
    assert_eq!(admin.get("/admin/panel").await.status(), 200);
    let r = admin.graphql("{ auditLog(first: 1) { totalCount } }").await;
    assert!(r["errors"].is_null(), "{r}");
    // Every later staff sign-in asks for the code.
    staff_password_step(&app).await;
}

#[tokio::test]
async fn in_the_browser_staff_required_to_enrol_do_so_and_then_sign_in_with_a_code() {
    use crate::webdriver::Browser;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = crate::admin::admin_app(&[("REQUIRE_2FA", "both"), ("DEMO_ERP_ROWS", "300")]).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var("SCREENSHOTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_owned());
    std::fs::create_dir_all(&dir).unwrap();
    let s = browser.session().await;
    s.window_size(1366, 900).await;
    let mut failures = Vec::new();
    // The grace sign-in lands on the panel's address and is sent to enrol.
    s.goto(&app.url("/admin-login")).await;
    s.set_theme("dark").await;
    s.type_into("#username", "cp_admin").await;
    s.type_into("#password", crate::admin::ADMIN_PW).await;
    s.click("form[action='/admin-login'] button[type=submit]")
        .await;
    s.wait_for(
        "the staff two-step page",
        "location.pathname === '/admin/two-step'",
    )
    .await;
    failures.extend(crate::accessibility::axe_violations(&s).await);
    s.click("form[action='/admin/two-step/begin'] button").await;
    s.wait_for(
        "the QR code",
        "(() => { const p = document.querySelector('svg.qr > path'); return p && p.getBBox().width > 20; })()",
    )
    .await;
    failures.extend(crate::accessibility::axe_violations(&s).await);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let shot = dir.join("two-step-staff-enrol-1366x900-dark.png");
    s.screenshot(&shot).await;
    let secret = shown_secret_read_back(&s, &shot, "cp_admin").await;
    s.type_into("#code", &secret.code_at(now())).await;
    s.click("form[action='/admin/two-step/confirm'] button")
        .await;
    s.wait_for(
        "the recovery codes",
        "document.querySelectorAll('.recovery-codes li').length === 10",
    )
    .await;
    s.click("a.btn-primary").await;
    s.wait_for("the admin panel", "location.pathname === '/admin/panel'")
        .await;
    // Sign out; the password leads to the code page; the next code signs in.
    s.click("form[action='/admin-logout'] button").await;
    s.wait_for("signed out", "location.pathname === '/admin-login'")
        .await;
    s.type_into("#username", "cp_admin").await;
    s.type_into("#password", crate::admin::ADMIN_PW).await;
    s.click("form[action='/admin-login'] button[type=submit]")
        .await;
    s.wait_for("the code page", "location.pathname === '/admin-login/code'")
        .await;
    failures.extend(crate::accessibility::axe_violations(&s).await);
    s.screenshot(&dir.join("two-step-staff-sign-in-1366x900-dark.png"))
        .await;
    s.type_into("#code", &secret.code_at(now() + STEP_SECONDS))
        .await;
    s.click("form[action='/admin-login/code'] button").await;
    s.wait_for("the admin panel", "location.pathname === '/admin/panel'")
        .await;
    s.close().await;
    assert!(failures.is_empty(), "axe: {failures:#?}");
}
