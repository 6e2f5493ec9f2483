//! Behind a reverse proxy (the Cloudflare tunnel on the same host, IIS, nginx): the
//! client's address comes from the one header `CLIENT_IP_HEADER` names, only from proxies
//! in `TRUSTED_PROXIES` (loopback by default, where cloudflared connects from), and a
//! stranger behind the same address cannot lock the customers out.

use crate::helpers::*;

/// Fifty recent failures recorded under `ip`, each for a different name.
fn fail_fifty_times_from(app: &TestApp, ip: &str) {
    let now = customer_portal::store::format_ts(time::OffsetDateTime::now_utc());
    let db = app.db();
    for i in 0..50 {
        db.execute(
            "INSERT INTO LoginFailures (attempted_at, login_name, ip_address) VALUES (?1, ?2, ?3)",
            (&now, format!("customer:guess{i}@example.com"), ip),
        )
        .unwrap();
    }
}

async fn login_via(
    app: &TestApp,
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let token = app.csrf_token().await;
    let mut req = app.client.post(app.url("/login")).form(&[
        ("email", email),
        ("password", password),
        ("hp_email", ""),
        ("csrf_token", &token),
    ]);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// The address a session records when a browser signs in sending `headers` to a portal
/// configured with `extra`.
async fn recorded_ip(extra: &[(&str, &str)], headers: &[(&str, &str)]) -> String {
    let app = spawn_app_with(extra, false).await;
    app.add_customer("cf@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let resp = login_via(&app, "cf@example.com", PASSWORD, headers).await;
    assert_eq!(resp.status(), 303);
    app.db()
        .query_row("SELECT ip_address FROM ActiveSessions", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn behind_the_tunnel_by_default_the_client_is_the_one_cloudflare_names() {
    assert_eq!(
        recorded_ip(&[], &[("CF-Connecting-IP", "198.51.100.23")]).await,
        "198.51.100.23",
        "loopback is trusted by default and CF-Connecting-IP is read"
    );
    // Not through the tunnel (no header): a client on the host itself.
    assert_eq!(recorded_ip(&[], &[]).await, "127.0.0.1");
    // Another header than the configured one is never read.
    assert_eq!(
        recorded_ip(&[], &[("X-Forwarded-For", "198.51.100.24")]).await,
        "127.0.0.1"
    );
}

#[tokio::test]
async fn an_untrusted_peer_cannot_choose_its_address() {
    assert_eq!(
        recorded_ip(
            &[("TRUSTED_PROXIES", "none")],
            &[("CF-Connecting-IP", "198.51.100.99")]
        )
        .await,
        "127.0.0.1"
    );
    assert_eq!(
        recorded_ip(
            &[("TRUSTED_PROXIES", "10.0.0.0/8")],
            &[("CF-Connecting-IP", "198.51.100.99")]
        )
        .await,
        "127.0.0.1"
    );
}

#[tokio::test]
async fn behind_nginx_forwarded_for_is_read_and_a_cloudflare_header_is_not() {
    let nginx = [
        ("TRUSTED_PROXIES", "127.0.0.1"),
        ("CLIENT_IP_HEADER", "X-Forwarded-For"),
    ];
    // The rightmost address no trusted proxy added.
    assert_eq!(
        recorded_ip(&nginx, &[("X-Forwarded-For", "1.2.3.4, 198.51.100.30")]).await,
        "198.51.100.30"
    );
    // The measured attack: 55 guesses, each with a new CF-Connecting-IP the client made
    // up, through an nginx that sets X-Forwarded-For. The client's one real address is
    // throttled after ten.
    let app = spawn_app_with(&nginx, false).await;
    app.add_customer("target@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let attacker = app.other_browser();
    let mut checked = 0;
    for i in 0..55 {
        let claimed = format!("203.0.113.{i}");
        let r = login_via(
            &attacker,
            "target@example.com",
            "wrong-guess-1",
            &[
                ("CF-Connecting-IP", &claimed),
                ("X-Forwarded-For", "198.51.100.66"),
            ],
        )
        .await;
        match r.status().as_u16() {
            200 => checked += 1,
            429 => assert!(r.headers().contains_key("retry-after")),
            other => panic!("{other}"),
        }
    }
    assert_eq!(checked, 10, "ten guesses from the real address, then 429");
    let recorded: i64 =
        app.count("SELECT COUNT(*) FROM LoginFailures WHERE ip_address = '198.51.100.66'");
    assert_eq!(recorded, 10);
}

#[tokio::test]
async fn behind_the_tunnel_one_stranger_cannot_lock_out_every_customer() {
    let app = spawn_app().await;
    app.add_customer("customer@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // A stranger's fifty wrong passwords (many names), all through the tunnel.
    let stranger = app.other_browser();
    for i in 0..50 {
        login_via(
            &stranger,
            &format!("guess{i}@example.com"),
            "wrong-guess-1",
            &[("CF-Connecting-IP", "203.0.113.9")],
        )
        .await;
    }
    let refused = login_via(
        &stranger,
        "customer@example.com",
        PASSWORD,
        &[("CF-Connecting-IP", "203.0.113.9")],
    )
    .await;
    assert_eq!(
        refused.status(),
        429,
        "the stranger's own address is refused"
    );
    // The next customer, from their own address, signs in; the audit row names it.
    let customer = app.other_browser();
    let ok = login_via(
        &customer,
        "customer@example.com",
        PASSWORD,
        &[("CF-Connecting-IP", "198.51.100.5")],
    )
    .await;
    assert_eq!(location(&ok), "/inventory");
    let details: String = app
        .db()
        .query_row(
            "SELECT details FROM AuditLog WHERE action_type = 'CUSTOMER_LOGIN'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(details, "Login from IP: 198.51.100.5");
}

#[tokio::test]
async fn a_known_browser_is_never_refused_by_the_address_limit() {
    let app = spawn_app().await;
    app.add_customer("office@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let office = [("CF-Connecting-IP", "198.51.100.40")];
    // The customer's browser signs in once (it is marked), then signs out.
    let browser = app.other_browser();
    assert_eq!(
        location(&login_via(&browser, "office@example.com", PASSWORD, &office).await),
        "/inventory"
    );
    let token = browser.csrf_token().await;
    browser
        .client
        .post(browser.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    // A stranger behind the same office address spends the address's fifty failures.
    fail_fifty_times_from(&app, "198.51.100.40");
    let newcomer = app.other_browser();
    assert_eq!(
        login_via(&newcomer, "office@example.com", PASSWORD, &office)
            .await
            .status(),
        429,
        "a browser the account does not know waits"
    );
    assert_eq!(
        location(&login_via(&browser, "office@example.com", PASSWORD, &office).await),
        "/inventory",
        "the customer's own browser gets in"
    );
}
