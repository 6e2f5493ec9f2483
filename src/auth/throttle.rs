//! Slows down password guessing without letting an attacker aim it at the owner.
//!
//! - **Hard limits, per account and address:** 10 failures for one account *from one
//!   address*, or 50 from one address for any accounts, within 15 minutes, and that address
//!   is refused (429) without checking the password. An attacker hammering `cp_admin` from
//!   one address stops counting against the account after ten tries.
//! - **A progressive delay per account, not a lock:** after 10 failures for an account from
//!   all addresses together, each further attempt must wait 1, 2, 4 … seconds (at most 60)
//!   after the last failure; guessing one account from many addresses gets well under 100
//!   tries an hour. The delay does not apply to a browser that signed in to the account
//!   before (a signed mark, `super::device`): a flood from many addresses would otherwise
//!   take every slot the delay frees and keep the owner out for as long as it lasts. A new
//!   browser of the owner's, from another address, waits at most a minute once the
//!   guessing stops.
//! - **Atomic:** the decision and the record of the attempt are made together under a
//!   per-address (or per-account) lock, so 50 concurrent requests cannot all pass a check
//!   that none of them has counted yet. The attempt is recorded *before* the password is
//!   checked; a success clears the account's failures.
//! - **Fails closed:** when the attempt cannot be recorded, sign-in answers "temporarily
//!   unavailable" rather than checking passwords uncounted.
//!
//! Counters live in the app database, so every instance of the portal sees the same
//! numbers (the lock is per instance: across instances a race can let a handful more
//! through, never an unbounded number). Active Directory is never asked for a refused
//! attempt, so its own lockout cannot be triggered through the portal.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

use crate::store::{LoginFailureCounts, LoginThrottleStore, StoreError};

/// How far back failures count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures for one account from one address before that address is refused.
pub const MAX_PER_NAME_AND_ADDRESS: u64 = 10;
/// Failures from one address within the window before it is refused (an office behind one
/// address has many people; a bot has many names).
pub const MAX_PER_ADDRESS: u64 = 50;
/// Failures of one account (all addresses) before each attempt waits.
pub const FREE_PER_NAME: u64 = 10;
/// The longest wait between attempts for one account.
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// Locks kept for at most this many keys at once (unused ones are forgotten).
const MAX_LOCKS: usize = 10_000;

/// Why an attempt may not be checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many failures: try again after this long.
    TooMany { retry_after: Duration },
    /// The attempt could not be counted (the app database cannot write): fail closed.
    Unavailable,
}

#[derive(Clone)]
pub struct Throttle {
    store: Arc<dyn LoginThrottleStore>,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// Attempts refused (too many, or not countable), for `/metrics`.
    refused: Arc<ThrottleCounts>,
}

/// Sign-in attempts the throttle refused since start-up.
#[derive(Debug, Default)]
pub struct ThrottleCounts {
    pub too_many: AtomicU64,
    pub unavailable: AtomicU64,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Throttle")
    }
}

fn since() -> OffsetDateTime {
    OffsetDateTime::now_utc() - time::Duration::try_from(WINDOW).expect("small duration")
}

/// The wait an account's failures impose after its last failure.
pub fn delay_for(failures: u64) -> Duration {
    if failures < FREE_PER_NAME {
        return Duration::ZERO;
    }
    let exp = (failures - FREE_PER_NAME).min(16) as u32;
    Duration::from_secs(1u64 << exp).min(MAX_DELAY)
}

/// The decision for counts read under the lock. A browser known to the account skips the
/// per-account delay, never the hard limits.
pub fn decide(
    c: &LoginFailureCounts,
    now: OffsetDateTime,
    known_device: bool,
) -> Result<(), Duration> {
    if c.by_name_and_address >= MAX_PER_NAME_AND_ADDRESS || c.by_address >= MAX_PER_ADDRESS {
        return Err(WINDOW);
    }
    if known_device {
        return Ok(());
    }
    let delay = delay_for(c.by_name);
    if let Some(last) = c.last_for_name {
        let ready = last + time::Duration::try_from(delay).expect("small duration");
        if ready > now {
            let wait = (ready - now).whole_milliseconds().max(0) as u64;
            return Err(Duration::from_millis(wait).max(Duration::from_secs(1)));
        }
    }
    Ok(())
}

impl Throttle {
    pub fn new(store: Arc<dyn LoginThrottleStore>) -> Self {
        Throttle {
            store,
            locks: Arc::new(Mutex::new(HashMap::new())),
            refused: Arc::default(),
        }
    }

    pub fn refused(&self) -> &ThrottleCounts {
        &self.refused
    }

    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().expect("throttle lock map");
        if locks.len() >= MAX_LOCKS {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(key.to_owned()).or_default().clone()
    }

    /// Decides whether an attempt for `name` from `ip` may be checked and, if so, records
    /// it (as a failure, until [`Throttle::succeeded`] clears it) in the same step.
    /// `known_device`: the browser carries this account's mark (see `super::device`).
    pub async fn begin(
        &self,
        name: &str,
        ip: Option<&str>,
        known_device: bool,
    ) -> Result<(), Refusal> {
        let lock = self.lock_for(ip.unwrap_or(name));
        let _held = lock.lock().await;
        let counts = self
            .store
            .recent_login_failures(name, ip, since())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not read failed sign-ins");
                self.refused.unavailable.fetch_add(1, Ordering::Relaxed);
                Refusal::Unavailable
            })?;
        let now = OffsetDateTime::now_utc();
        if let Err(retry_after) = decide(&counts, now, known_device) {
            tracing::warn!(
                name,
                ip,
                by_name = counts.by_name,
                by_address = counts.by_address,
                by_name_and_address = counts.by_name_and_address,
                retry_after_s = retry_after.as_secs(),
                "sign-in throttled"
            );
            self.refused.too_many.fetch_add(1, Ordering::Relaxed);
            return Err(Refusal::TooMany { retry_after });
        }
        self.failed(name, ip).await.map_err(|_| {
            self.refused.unavailable.fetch_add(1, Ordering::Relaxed);
            Refusal::Unavailable
        })
    }

    /// Records a failure. An error means it was not counted.
    pub async fn failed(&self, name: &str, ip: Option<&str>) -> Result<(), StoreError> {
        self.store
            .record_login_failure(name, ip, OffsetDateTime::now_utc())
            .await
            .inspect_err(|e| tracing::error!(error = %e, "could not record a failed sign-in"))
    }

    /// The account signed in: its failures (this attempt's record included) are forgotten.
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn counts(
        name: u64,
        address: u64,
        pair: u64,
        last: Option<OffsetDateTime>,
    ) -> LoginFailureCounts {
        LoginFailureCounts {
            by_name: name,
            by_address: address,
            by_name_and_address: pair,
            last_for_name: last,
        }
    }

    #[test]
    fn the_delay_grows_and_stops_at_a_minute() {
        assert_eq!(delay_for(9), Duration::ZERO);
        assert_eq!(delay_for(10), Duration::from_secs(1));
        assert_eq!(delay_for(13), Duration::from_secs(8));
        assert_eq!(delay_for(20), MAX_DELAY);
        assert_eq!(delay_for(10_000), MAX_DELAY);
    }

    #[test]
    fn an_attacker_at_one_address_cannot_lock_out_the_owner() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let a_minute_ago = Some(now - time::Duration::seconds(61));
        // The attacker's own address: refused for the window.
        assert_eq!(
            decide(&counts(10, 10, 10, Some(now)), now, false),
            Err(WINDOW)
        );
        // The owner from another address, once the last failure is a minute old: allowed
        // however many failures the account has.
        assert_eq!(decide(&counts(500, 0, 0, a_minute_ago), now, false), Ok(()));
        // Within the delay: told how long to wait, at most a minute.
        let wait = decide(
            &counts(500, 0, 0, Some(now - time::Duration::seconds(20))),
            now,
            false,
        )
        .unwrap_err();
        assert_eq!(wait, Duration::from_secs(40));
        // An office behind one address: fine until 50 failures from it.
        assert_eq!(decide(&counts(1, 49, 1, None), now, false), Ok(()));
        assert_eq!(decide(&counts(1, 50, 1, None), now, false), Err(WINDOW));
    }

    #[test]
    fn a_known_browser_skips_the_delay_but_not_the_hard_limits() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let just_now = Some(now - time::Duration::seconds(1));
        assert!(decide(&counts(500, 0, 0, just_now), now, false).is_err());
        assert_eq!(decide(&counts(500, 0, 0, just_now), now, true), Ok(()));
        assert_eq!(
            decide(&counts(500, 10, 10, just_now), now, true),
            Err(WINDOW)
        );
        assert_eq!(
            decide(&counts(500, 50, 0, just_now), now, true),
            Err(WINDOW)
        );
    }
}
