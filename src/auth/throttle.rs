//! Slows down password guessing without letting an attacker aim it at the owner.
//!
//! - **Hard limits, per account and address:** 10 failures for one account *from one
//!   address*, or 50 wrong passwords from one address for any accounts, within 15 minutes,
//!   and that address is refused (429) without checking the password. An attacker
//!   hammering `cp_admin` from one address stops counting against the account after ten
//!   tries. The address limit counts wrong passwords only, never sign-ins still being
//!   checked (an office behind one address signing in at nine), and at most 50 checks
//!   from one address run at once. A browser that has signed in to the account before
//!   (see below) is never refused by the address limit, so a stranger behind the same
//!   address cannot lock the customers out.
//! - **A progressive delay per account, not a lock:** after 10 failures for an account from
//!   all addresses together, each further attempt must wait 1, 2, 4 … seconds (at most 60)
//!   after the last failure; guessing one account from many addresses gets well under 100
//!   tries an hour. The delay does not apply to a browser that signed in to the account
//!   before (a signed mark, `super::device`): a flood from many addresses would otherwise
//!   take every slot the delay frees and keep the owner out for as long as it lasts. A new
//!   browser of the owner's, from another address, waits at most a minute once the
//!   guessing stops.
//! - **One decision across instances:** the counts are read and the attempt is recorded
//!   in one step of the app database (a write transaction on SQLite, application locks on
//!   SQL Server), so concurrent requests — on one instance or several — cannot all pass a
//!   check that none of them has counted yet. The attempt is recorded *in flight* before
//!   the password is checked; a wrong password settles it as a failure, a right one
//!   removes it with the account's failures.
//! - **Fails closed:** when the attempt cannot be recorded, sign-in answers "temporarily
//!   unavailable" rather than checking passwords uncounted.
//!
//! Counters live in the app database, so every instance of the portal sees the same
//! numbers. Active Directory is never asked for a refused attempt, so its own lockout
//! cannot be triggered through the portal.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

use crate::store::{AttemptEnd, AttemptWindow, LoginFailureCounts, LoginThrottleStore, StoreError};

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
/// Password checks from one address at once (a flood cannot run more checks than this
/// beyond the address limit before its failures are counted).
pub const MAX_IN_FLIGHT_PER_ADDRESS: u64 = 50;
/// An attempt still in flight after this long was never settled (its instance stopped
/// mid-check): it counts as a failure.
const SETTLE_WITHIN: Duration = Duration::from_secs(120);
/// The most characters of a counter name (`LoginFailures.login_name`).
pub const MAX_KEY_CHARS: usize = crate::store::fits::LOGIN_NAME.chars;

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
    /// Attempts refused (too many, or not countable), for `/metrics`.
    refused: Arc<ThrottleCounts>,
}

/// An attempt the throttle let through: settle it with [`Throttle::failed_attempt`] or
/// [`Throttle::succeeded`] (an attempt never settled counts as a failure after two
/// minutes).
#[derive(Debug)]
#[must_use = "an attempt must be settled"]
pub struct Attempt {
    id: i64,
    name: String,
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

/// The decision for the counts read with the attempt. A browser known to the account
/// skips the address limits and the per-account delay, never the limit for its account
/// from its address.
pub fn decide(
    c: &LoginFailureCounts,
    now: OffsetDateTime,
    known_device: bool,
) -> Result<(), Duration> {
    if c.by_name_and_address >= MAX_PER_NAME_AND_ADDRESS {
        return Err(WINDOW);
    }
    if known_device {
        return Ok(());
    }
    if c.by_address >= MAX_PER_ADDRESS {
        return Err(WINDOW);
    }
    if c.in_flight_by_address >= MAX_IN_FLIGHT_PER_ADDRESS {
        // Not a failure of anyone's: a short wait, while the checks under way finish.
        return Err(Duration::from_secs(1));
    }
    let delay = delay_for(c.by_name);
    if delay.is_zero() {
        // Not "ready" by the clock: another attempt, begun a moment later, may have
        // recorded a later instant before this one was counted.
        return Ok(());
    }
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
            refused: Arc::default(),
        }
    }

    pub fn refused(&self) -> &ThrottleCounts {
        &self.refused
    }

    /// Decides whether an attempt for `name` from `ip` may be checked and, if so, records
    /// it in flight, in one step of the app database. `known_device`: the browser carries
    /// this account's mark (see `super::device`).
    pub async fn begin(
        &self,
        name: &str,
        ip: Option<&str>,
        known_device: bool,
    ) -> Result<Attempt, Refusal> {
        let now = OffsetDateTime::now_utc();
        let window = AttemptWindow {
            now,
            since: since(),
            settled_before: now - time::Duration::try_from(SETTLE_WITHIN).expect("small"),
        };
        let (id, counts) = self
            .store
            .begin_login_attempt(name, ip, window)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "could not count a sign-in attempt");
                self.refused.unavailable.fetch_add(1, Ordering::Relaxed);
                Refusal::Unavailable
            })?;
        let attempt = Attempt {
            id,
            name: name.to_owned(),
        };
        if let Err(retry_after) = decide(&counts, now, known_device) {
            tracing::warn!(
                name,
                ip,
                by_name = counts.by_name,
                by_address = counts.by_address,
                by_name_and_address = counts.by_name_and_address,
                in_flight_by_address = counts.in_flight_by_address,
                retry_after_s = retry_after.as_secs(),
                "sign-in throttled"
            );
            self.refused.too_many.fetch_add(1, Ordering::Relaxed);
            self.end(attempt, AttemptEnd::Refused).await;
            return Err(Refusal::TooMany { retry_after });
        }
        Ok(attempt)
    }

    async fn end(&self, attempt: Attempt, end: AttemptEnd) {
        if let Err(e) = self
            .store
            .end_login_attempt(attempt.id, &attempt.name, end)
            .await
        {
            // An unsettled attempt counts as a failure after two minutes: the safe side.
            tracing::warn!(error = %e, ?end, "could not settle a sign-in attempt");
        }
    }

    /// A wrong password (or a refusal the portal decided, such as an inactive account):
    /// the attempt stays, as a failure.
    pub async fn failed_attempt(&self, attempt: Attempt) {
        self.end(attempt, AttemptEnd::Failed).await;
    }

    /// The check could not be made (a directory or database down): the attempt leaves
    /// no trace, as nobody's password was judged.
    pub async fn abandoned(&self, attempt: Attempt) {
        self.end(attempt, AttemptEnd::Refused).await;
    }

    /// Records a failure that needed no check (a bot that filled the honeypot). An error
    /// means it was not counted.
    pub async fn failed(&self, name: &str, ip: Option<&str>) -> Result<(), StoreError> {
        self.store
            .record_login_failure(name, ip, OffsetDateTime::now_utc())
            .await
            .inspect_err(|e| tracing::error!(error = %e, "could not record a failed sign-in"))
    }

    /// The account signed in: the attempt and the account's failures are forgotten.
    pub async fn succeeded(&self, attempt: Attempt) {
        self.end(attempt, AttemptEnd::Succeeded).await;
    }

    /// Counts one event under `name` if fewer than `limit` are counted in the window, in
    /// one step; returns how many there were before.
    pub async fn count_below(&self, name: &str, limit: u64) -> Result<u64, StoreError> {
        let now = OffsetDateTime::now_utc();
        self.store
            .count_event_below(name, limit, since(), now)
            .await
    }

    /// Forgets the events counted under `name`. Best effort.
    pub async fn forget(&self, name: &str) {
        if let Err(e) = self.store.clear_login_failures(name).await {
            tracing::warn!(error = %e, "could not clear a counter");
        }
    }

    pub async fn purge(&self) -> Result<u64, StoreError> {
        self.store.purge_login_failures_before(since()).await
    }
}

/// The counter key of a customer sign-in: the email as typed, trimmed and lower-cased, so
/// unknown addresses count exactly like real ones.
pub fn customer_key(raw_email: &str) -> String {
    fit(format!("customer:{}", raw_email.trim().to_lowercase()))
}

/// A counter name cut to the column's 255 characters (two names that share their first
/// 255 characters share a counter, which only makes both stricter).
pub fn fit(mut key: String) -> String {
    if let Some((at, _)) = key.char_indices().nth(MAX_KEY_CHARS) {
        key.truncate(at);
    }
    key
}

/// The counter key of an admin sign-in (`user@domain` counts as `user`).
pub fn admin_key(raw_username: &str) -> String {
    let user = raw_username
        .trim()
        .split('@')
        .next()
        .unwrap_or("")
        .to_lowercase();
    fit(format!("admin:{user}"))
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
            in_flight_by_address: 0,
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
    fn a_known_browser_skips_the_delay_and_the_address_limit_but_not_its_own_account_s() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let just_now = Some(now - time::Duration::seconds(1));
        assert!(decide(&counts(500, 0, 0, just_now), now, false).is_err());
        assert_eq!(decide(&counts(500, 0, 0, just_now), now, true), Ok(()));
        assert_eq!(
            decide(&counts(500, 10, 10, just_now), now, true),
            Err(WINDOW)
        );
        // A stranger's fifty failures from the same address do not keep the owner out.
        assert_eq!(decide(&counts(500, 50, 0, just_now), now, true), Ok(()));
        assert_eq!(decide(&counts(0, 5_000, 0, None), now, true), Ok(()));
    }

    #[test]
    fn checks_in_flight_never_count_against_the_address_but_are_capped() {
        let now = datetime!(2026-11-27 12:00 UTC);
        let mut c = counts(0, 49, 0, None);
        c.in_flight_by_address = 49;
        assert_eq!(decide(&c, now, false), Ok(()));
        c.in_flight_by_address = MAX_IN_FLIGHT_PER_ADDRESS;
        assert_eq!(decide(&c, now, false), Err(Duration::from_secs(1)));
        assert_eq!(
            decide(&c, now, true),
            Ok(()),
            "a known browser waits for nobody"
        );
    }

    #[test]
    fn counter_names_fit_their_column() {
        let long = format!("{}@example.com", "a".repeat(300));
        assert_eq!(customer_key(&long).chars().count(), MAX_KEY_CHARS);
        assert!(customer_key(&long).starts_with("customer:aaa"));
        assert_eq!(
            customer_key(" Ann@Example.com "),
            "customer:ann@example.com"
        );
        let wide = "é".repeat(400);
        assert_eq!(admin_key(&wide).chars().count(), MAX_KEY_CHARS);
    }
}
