//! Helpers the bench binaries share (each bench is its own crate and includes this file);
//! what they share with the integration tests comes from `tests/support`.

#![allow(dead_code)]

#[path = "../../tests/support/mod.rs"]
mod support;
pub use support::*;

use std::sync::Arc;

use customer_portal::store::AppStore;

/// A number from the environment, or `default`.
pub fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Adds an active customer (no forced password change) with this Werkzeug hash.
pub async fn add_customer(store: &Arc<dyn AppStore>, email: &str, hash: &str, scope: &str) {
    insert_customer(store, email, hash, scope, false).await;
}

/// An API token with `inventory:read` on `All`, issued as a local admin would; its secret.
/// `rows_per_minute` `None` is the default budget.
pub async fn inventory_token(
    state: &customer_portal::state::AppState,
    name: &str,
    rows_per_minute: Option<u32>,
) -> String {
    use customer_portal::auth::tokens::{NewToken, Scope, Scopes};
    state
        .tokens
        .create(
            &customer_portal::auth::AdminIdentity {
                username: "bench".into(),
                display_name: "bench".into(),
                session_id: String::new(),
                auth_method: "local".into(),
                must_enrol_two_factor: false,
            },
            NewToken {
                name: name.into(),
                scopes: Scopes::default().with(Scope::InventoryRead),
                erp_customer_name: "All".into(),
                expires_at: None,
                rows_per_minute,
            },
        )
        .await
        .unwrap()
        .secret
}

/// A browser (cookies kept, redirects not followed) signed in as this customer at `base`,
/// and the CSRF token its sign-in page carried.
pub async fn signed_in_browser(
    base: &str,
    email: &str,
    password: &str,
) -> (reqwest::Client, String) {
    let (client, csrf, _) = signed_in_with_jar(base, email, password).await;
    (client, csrf)
}

/// The `Cookie` header of a browser signed in as this customer at `base` (for a load
/// generator outside the process).
pub async fn signed_in_cookie_header(base: &str, email: &str, password: &str) -> String {
    use reqwest::cookie::CookieStore;
    let (_, _, jar) = signed_in_with_jar(base, email, password).await;
    let url = base.parse().unwrap();
    jar.cookies(&url)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn signed_in_with_jar(
    base: &str,
    email: &str,
    password: &str,
) -> (reqwest::Client, String, Arc<reqwest::cookie::Jar>) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = meta_csrf(&html).expect("a CSRF token on /login");
    let resp = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("hp_email", ""),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "the bench customer signs in");
    (client, csrf, jar)
}
