//! Helpers the integration tests (`tests/api/helpers.rs`) and the bench binaries
//! (`benches/common/mod.rs`) share: each includes this file as a module of its own.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use customer_portal::config::Config;
use customer_portal::domain::{CustomerId, Email};
use customer_portal::erp::ErpSource;
use customer_portal::startup::Application;
use customer_portal::state::AppState;
use customer_portal::store::{AppStore, NewAuditEntry, NewCustomer};

/// Settings as the environment would give them.
pub fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A portal running in this process: its address and its state.
pub struct Running {
    pub base: String,
    pub state: AppState,
    pub banner: String,
}

/// Builds the portal from `settings` (demo accounts seeded only when `seed_demo`; the ERP
/// replaced by `erp` when given) and serves it on its port in the background.
pub async fn serve(
    settings: &HashMap<String, String>,
    seed_demo: bool,
    erp: Option<Arc<dyn ErpSource>>,
) -> Running {
    let mut config = Config::from_vars(settings).expect("the settings are valid");
    config.seed_demo_accounts = seed_demo;
    let app = Application::build_with(config, erp)
        .await
        .expect("the portal builds");
    let running = Running {
        base: format!("http://127.0.0.1:{}", app.port()),
        state: app.state().clone(),
        banner: app.banner(),
    };
    tokio::spawn(app.run_until_stopped());
    running
}

/// Adds a customer account with this Werkzeug hash, as an admin would (with its audit row).
pub async fn insert_customer(
    store: &Arc<dyn AppStore>,
    email: &str,
    hash: &str,
    scope: &str,
    must_reset: bool,
) -> CustomerId {
    let new = NewCustomer {
        first_name: "Pat".into(),
        last_name: Some("Tester".into()),
        email: Email::parse(email).unwrap(),
        password_hash: hash.into(),
        erp_customer_name: scope.into(),
        must_reset_password: must_reset,
    };
    let audit = NewAuditEntry {
        timestamp: time::OffsetDateTime::now_utc(),
        admin_username: "SYSTEM".into(),
        action_type: "CUSTOMER_CREATE".into(),
        target_customer_id: None,
        target_customer_email: Some(email.into()),
        details: None,
    };
    store.insert_customer(&new, &audit).await.unwrap().id
}

/// The CSRF token a page carries in its `<meta name="csrf-token">`.
pub fn meta_csrf(html: &str) -> Option<String> {
    let marker = r#"name="csrf-token" content=""#;
    let at = html.find(marker)? + marker.len();
    Some(html[at..].split('"').next()?.to_owned())
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
