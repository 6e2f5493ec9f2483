//! Behind a reverse proxy (the Cloudflare tunnel, IIS, nginx): the client's address comes
//! from the proxy's headers exactly as the old portal read them, and only from proxies in
//! `TRUSTED_PROXIES`; a proxy's own address is never a throttle key for everyone.

use crate::helpers::{PASSWORD, spawn_app_with};

/// Fifty recent failures recorded under `ip`, each for a different name.
fn fail_fifty_times_from(app: &crate::helpers::TestApp, ip: &str) {
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
    app: &crate::helpers::TestApp,
    email: &str,
    header: Option<(&str, &str)>,
) -> reqwest::Response {
    let token = app.csrf_token().await;
    let mut req = app.client.post(app.url("/login")).form(&[
        ("email", email),
        ("password", PASSWORD),
        ("hp_email", ""),
        ("csrf_token", &token),
    ]);
    if let Some((k, v)) = header {
        req = req.header(k, v);
    }
    req.send().await.unwrap()
}

/// The address a session records when a browser signs in with `CF-Connecting-IP: claimed`
/// through a portal configured with `extra`.
async fn recorded_ip(extra: &[(&str, &str)], claimed: &str) -> String {
    let app = spawn_app_with(extra, false).await;
    app.add_customer("cf@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let resp = login_via(&app, "cf@example.com", Some(("CF-Connecting-IP", claimed))).await;
    assert_eq!(resp.status(), 303);
    app.db()
        .query_row("SELECT ip_address FROM ActiveSessions", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn cf_connecting_ip_from_a_trusted_proxy_is_the_recorded_address() {
    let ip = recorded_ip(&[("TRUSTED_PROXIES", "127.0.0.1")], "198.51.100.23").await;
    assert_eq!(ip, "198.51.100.23");
}

#[tokio::test]
async fn an_untrusted_peer_cannot_choose_its_address() {
    assert_eq!(recorded_ip(&[], "198.51.100.99").await, "127.0.0.1");
}

#[tokio::test]
async fn the_proxys_own_address_is_not_a_throttle_key_for_everyone() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")], false).await;
    app.add_customer("busy@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // A busy morning: many failures arrived through the proxy without a client header.
    fail_fifty_times_from(&app, "127.0.0.1");
    let resp = login_via(&app, "busy@example.com", None).await;
    assert_eq!(
        resp.status(),
        303,
        "the proxy's address locked everybody out"
    );
    // A client address the proxy names is still limited on its own.
    fail_fifty_times_from(&app, "198.51.100.7");
    let other = app.other_browser();
    let blocked = login_via(
        &other,
        "busy@example.com",
        Some(("CF-Connecting-IP", "198.51.100.7")),
    )
    .await;
    assert_eq!(blocked.status(), 429);
}
