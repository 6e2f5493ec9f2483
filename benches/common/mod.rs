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
