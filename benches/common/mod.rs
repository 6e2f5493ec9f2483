//! Helpers the bench binaries share (each bench is its own crate and includes this file).

#![allow(dead_code)]

use std::sync::Arc;

use customer_portal::domain::Email;
use customer_portal::store::{AppStore, NewAuditEntry, NewCustomer};

/// A number from the environment, or `default`.
pub fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Adds an active customer (no forced password change) with this Werkzeug hash.
pub async fn add_customer(store: &Arc<dyn AppStore>, email: &str, hash: &str, scope: &str) {
    store
        .insert_customer(
            &NewCustomer {
                first_name: "Bench".into(),
                last_name: None,
                email: Email::parse(email).unwrap(),
                password_hash: hash.to_owned(),
                erp_customer_name: scope.to_owned(),
                must_reset_password: false,
            },
            &NewAuditEntry {
                timestamp: time::OffsetDateTime::now_utc(),
                admin_username: "SYSTEM".into(),
                action_type: "CUSTOMER_CREATE".into(),
                target_customer_id: None,
                target_customer_email: None,
                details: None,
            },
        )
        .await
        .unwrap();
}
