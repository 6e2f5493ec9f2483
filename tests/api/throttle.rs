//! The sign-in throttle cannot be aimed at the owner, holds under concurrency, and says
//! when to come back.

use crate::helpers::*;

async fn sign_in_from(
    app: &TestApp,
    email: &str,
    password: &str,
    address: &str,
) -> reqwest::Response {
    let token = app.csrf_token().await;
    app.client
        .post(app.url("/login"))
        .header("CF-Connecting-IP", address)
        .form(&[
            ("email", email),
            ("password", password),
            ("hp_email", ""),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_attacker_at_one_address_cannot_keep_the_owner_out() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")], false).await;
    app.add_customer("owner@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let attacker = app.other_browser();
    let mut refused = 0;
    for _ in 0..30 {
        let r = sign_in_from(
            &attacker,
            "owner@example.com",
            "guess-guess-1",
            "203.0.113.66",
        )
        .await;
        if r.status() == 429 {
            refused += 1;
            let wait: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(wait >= 1);
        }
    }
    assert!(
        refused >= 19,
        "the attacker's address is refused after ten tries: {refused}"
    );
    // Only the ten checked guesses count against the account.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM LoginFailures WHERE login_name = 'customer:owner@example.com'"
        ),
        10
    );
    // The owner, from another address, gets in within a minute (here: after the account's
    // one-second delay).
    let owner = app.other_browser();
    let started = std::time::Instant::now();
    loop {
        let r = sign_in_from(&owner, "owner@example.com", PASSWORD, "198.51.100.5").await;
        if r.status() == 303 {
            assert_eq!(location(&r), "/inventory");
            break;
        }
        assert_eq!(r.status(), 429);
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(wait <= 60, "never more than a minute: {wait}");
        assert!(started.elapsed().as_secs() < 65, "the owner was kept out");
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    }
}

#[tokio::test]
async fn a_flood_from_many_addresses_cannot_keep_a_known_browser_out() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")], false).await;
    app.add_customer("owner@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // The owner's browser has signed in before: it carries the account's mark.
    let owner = app.other_browser();
    let first = sign_in_from(&owner, "owner@example.com", PASSWORD, "198.51.100.5").await;
    assert_eq!(first.status(), 303);
    let mark = set_cookie_named(first.headers(), "cp_device").expect("a device cookie");
    assert!(
        mark.contains("HttpOnly") && mark.contains("Max-Age="),
        "{mark}"
    );

    // Guesses from 40 addresses, the last a second ago: the account's delay is at its
    // minute, and a flood would take every slot it frees.
    let store = app.store();
    let now = time::OffsetDateTime::now_utc();
    for i in 0..40 {
        store
            .record_login_failure(
                "customer:owner@example.com",
                Some(&format!("203.0.113.{i}")),
                now - time::Duration::seconds(1),
            )
            .await
            .unwrap();
    }
    let stranger = app.other_browser();
    let refused = sign_in_from(&stranger, "owner@example.com", PASSWORD, "192.0.2.77").await;
    assert_eq!(
        refused.status(),
        429,
        "a browser the account does not know waits"
    );
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((30..=60).contains(&wait), "{wait}");

    // The owner's browser, from yet another address, gets in at once.
    let again = sign_in_from(&owner, "owner@example.com", PASSWORD, "192.0.2.88").await;
    assert_eq!(again.status(), 303, "the known browser is not delayed");
    assert_eq!(location(&again), "/inventory");

    // A mark for another account, or a forged one, lifts nothing.
    app.add_customer("other@example.com", PASSWORD, "Acme Foods", false)
        .await;
    for i in 0..40 {
        store
            .record_login_failure(
                "customer:other@example.com",
                Some(&format!("203.0.113.{i}")),
                now - time::Duration::seconds(1),
            )
            .await
            .unwrap();
    }
    let wrong_account = sign_in_from(&owner, "other@example.com", PASSWORD, "192.0.2.89").await;
    assert_eq!(wrong_account.status(), 429);
}

#[tokio::test]
async fn fifty_concurrent_guesses_check_at_most_the_limit() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")], false).await;
    app.add_customer("target@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let b = app.other_browser();
        tasks.push(tokio::spawn(async move {
            sign_in_from(&b, "target@example.com", "wrong-password-1", "203.0.113.9")
                .await
                .status()
                .as_u16()
        }));
    }
    let mut checked = 0;
    let mut throttled = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => checked += 1,
            429 => throttled += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(
        checked, 10,
        "exactly the limit was checked ({throttled} throttled)"
    );
    assert_eq!(throttled, 40);
    // Monitoring sees the refusals (read from loopback, which `METRICS_ALLOW` admits).
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("portal_signin_throttled_total{who=\"customer\",reason=\"too_many\"} 40"),
        "{metrics}"
    );
}

/// Signs `browser` out (its device mark stays).
async fn sign_out(browser: &TestApp) {
    let token = browser.csrf_token().await;
    let r = browser
        .client
        .post(browser.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
}

#[tokio::test]
async fn an_office_behind_one_address_signs_in_at_nine_while_a_flood_from_it_is_throttled() {
    const OFFICE: &str = "203.0.113.200";
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")], false).await;
    let mut staff = Vec::new();
    for i in 0..40 {
        let email = format!("office{i}@example.com");
        app.add_customer(&email, PASSWORD, "Acme Foods", false)
            .await;
        staff.push((app.other_browser(), email));
    }
    // Monday, first thing: forty browsers sign in at once from the office's one address.
    // Sign-ins in flight are not failures: every one gets in.
    let mut tasks = Vec::new();
    for (browser, email) in staff.clone() {
        tasks.push(tokio::spawn(async move {
            sign_in_from(&browser, &email, PASSWORD, OFFICE)
                .await
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 303, "a right password at nine");
    }
    for (browser, _) in &staff {
        sign_out(browser).await;
    }

    // Tuesday: someone at the same address sprays guesses over many names while the
    // office signs in. The address limit stops the spray after its fifty wrong passwords;
    // the office's browsers, known to their accounts, are not refused by the limit the
    // spray filled.
    let guesser = app.other_browser();
    let flood = tokio::spawn(async move {
        let mut statuses = Vec::new();
        for i in 0..70 {
            statuses.push(
                sign_in_from(
                    &guesser,
                    &format!("someone{i}@example.com"),
                    "not-the-password-9",
                    OFFICE,
                )
                .await
                .status()
                .as_u16(),
            );
        }
        statuses
    });
    let mut tasks = Vec::new();
    for (browser, email) in staff.clone().into_iter().skip(1) {
        tasks.push(tokio::spawn(async move {
            sign_in_from(&browser, &email, PASSWORD, OFFICE)
                .await
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(
            t.await.unwrap(),
            303,
            "a known browser with the right password"
        );
    }
    let statuses = flood.await.unwrap();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        refused >= 20 && statuses.iter().all(|s| *s == 200 || *s == 429),
        "the guesses were throttled: {statuses:?}"
    );
    // A browser the office has never used, at that address, now waits like the guesser.
    let stranger = app.other_browser();
    let r = sign_in_from(&stranger, "office1@example.com", PASSWORD, OFFICE).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
}
