//! Slows down password guessing: after too many failed sign-ins for one account name, or
//! from one address, within a window, further attempts are refused without checking the
//! password (and without asking Active Directory, whose own lockout would otherwise lock
//! the real person out). Counters live in the app database, so every instance of the
//! portal behind a load balancer sees the same numbers.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::store::{LoginThrottleStore, StoreError};

/// How far back failures count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures for one account name within the window before it is refused.
pub const MAX_PER_NAME: u64 = 10;
/// Failures from one address within the window before it is refused (an office behind one
/// address has many people; a bot has many names).
pub const MAX_PER_ADDRESS: u64 = 50;

#[derive(Clone)]
pub struct Throttle {
    store: Arc<dyn LoginThrottleStore>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Throttle")
    }
}

fn since() -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::try_from(WINDOW).expect("small duration")
}

impl Throttle {
    pub fn new(store: Arc<dyn LoginThrottleStore>) -> Self {
        Throttle { store }
    }

    /// Whether another attempt for `name` from `ip` may be checked now.
    pub async fn allows(&self, name: &str, ip: Option<&str>) -> Result<bool, StoreError> {
        let (by_name, by_address) = self.store.recent_login_failures(name, ip, since()).await?;
        let allowed = by_name < MAX_PER_NAME && by_address < MAX_PER_ADDRESS;
        if !allowed {
            tracing::warn!(name, ip, by_name, by_address, "sign-in throttled");
        }
        Ok(allowed)
    }

    /// Records a failure. An error means it was not counted: callers then refuse the
    /// sign-in as unavailable (fail closed), so a database that cannot write does not turn
    /// the throttle off.
    pub async fn failed(&self, name: &str, ip: Option<&str>) -> Result<(), StoreError> {
        self.store
            .record_login_failure(name, ip, OffsetDateTime::now_utc())
            .await
            .inspect_err(|e| tracing::error!(error = %e, "could not record a failed sign-in"))
    }

    pub async fn succeeded(&self, name: &str) {
        if let Err(e) = self.store.clear_login_failures(name).await {
            tracing::warn!(error = %e, "could not clear failed sign-ins");
        }
    }

    pub async fn purge(&self) -> Result<u64, StoreError> {
        self.store.purge_login_failures_before(since()).await
    }
}

/// The counter key of a customer sign-in: the email as typed, trimmed and lower-cased, so
/// unknown addresses count exactly like real ones.
pub fn customer_key(raw_email: &str) -> String {
    format!(
        "customer:{}",
        raw_email
            .trim()
            .to_lowercase()
            .chars()
            .take(254)
            .collect::<String>()
    )
}

/// The counter key of an admin sign-in (`user@domain` counts as `user`).
pub fn admin_key(raw_username: &str) -> String {
    let user = raw_username
        .trim()
        .split('@')
        .next()
        .unwrap_or("")
        .to_lowercase();
    format!("admin:{}", user.chars().take(128).collect::<String>())
}
