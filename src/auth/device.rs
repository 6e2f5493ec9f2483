//! Known devices: a browser that has signed in to an account before carries a signed mark
//! for it (`cp_device`), and the sign-in throttle's per-account delay does not apply to
//! it. An attacker guessing one account from many addresses keeps that delay at its
//! minute, and, without the mark, would keep the owner waiting for as long as the flood
//! lasts: whenever the delay ran out, the next guess took the slot. With the mark the owner
//! signs in at once; the hard limits per address still apply to everyone.
//!
//! A mark is an HMAC of the account's throttle key under a key derived from `SECRET_KEY`:
//! it cannot be forged for another account, and it unlocks nothing but the delay.

use crate::signing::{Purpose, Signer};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

pub const COOKIE_NAME: &str = "cp_device";
/// Accounts one browser is remembered for (people share a warehouse PC).
const MAX_MARKS: usize = 4;
/// A year: the cookie is renewed at each sign-in.
pub const MAX_AGE_SECONDS: u64 = 365 * 24 * 3600;
/// Longer cookie values are ignored (not parsed).
const MAX_COOKIE_LEN: usize = 256;

#[derive(Clone)]
pub struct DeviceKeys {
    signer: Signer,
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKeys([redacted])")
    }
}

impl DeviceKeys {
    pub fn new(secret_key: &str) -> DeviceKeys {
        DeviceKeys {
            signer: Signer::new(secret_key.as_bytes(), Purpose::KnownDevice),
        }
    }

    fn mark(&self, throttle_key: &str) -> String {
        // 128 bits are plenty for a mark that only lifts a delay.
        URL_SAFE_NO_PAD.encode(self.signer.tag(throttle_key.as_bytes(), 16))
    }

    fn marks(cookie: Option<&str>) -> impl Iterator<Item = &str> {
        cookie
            .filter(|c| c.len() <= MAX_COOKIE_LEN)
            .into_iter()
            .flat_map(|c| c.split('.'))
            .filter(|m| !m.is_empty())
            .take(MAX_MARKS)
    }

    /// Whether this browser has signed in to the account of `throttle_key` before.
    pub fn knows(&self, cookie: Option<&str>, throttle_key: &str) -> bool {
        let want = self.mark(throttle_key);
        Self::marks(cookie).any(|m| bool::from(m.as_bytes().ct_eq(want.as_bytes())))
    }

    /// The cookie value after a sign-in to `throttle_key`: its mark first, then up to three
    /// others this browser already had.
    pub fn remember(&self, cookie: Option<&str>, throttle_key: &str) -> String {
        let mark = self.mark(throttle_key);
        let mut out = vec![mark.clone()];
        out.extend(
            Self::marks(cookie)
                .filter(|m| *m != mark)
                .map(str::to_owned)
                .take(MAX_MARKS - 1),
        );
        out.join(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_for_one_account_and_cannot_be_forged() {
        let keys = DeviceKeys::new("a secret key of some length");
        let cookie = keys.remember(None, "customer:owner@example.com");
        assert!(keys.knows(Some(&cookie), "customer:owner@example.com"));
        assert!(!keys.knows(Some(&cookie), "customer:other@example.com"));
        assert!(!keys.knows(None, "customer:owner@example.com"));
        // Another portal's key, or a made-up value, is not a mark.
        let other = DeviceKeys::new("another secret key entirely");
        assert!(!other.knows(Some(&cookie), "customer:owner@example.com"));
        assert!(!keys.knows(Some("AAAAAAAAAAAAAAAAAAAAAA"), "customer:owner@example.com"));
    }

    #[test]
    fn a_browser_remembers_four_accounts_newest_first() {
        let keys = DeviceKeys::new("a secret key of some length");
        let mut cookie: Option<String> = None;
        for i in 0..6 {
            cookie = Some(keys.remember(cookie.as_deref(), &format!("customer:{i}@example.com")));
        }
        let cookie = cookie.unwrap();
        assert_eq!(cookie.split('.').count(), 4);
        for i in 2..6 {
            assert!(keys.knows(Some(&cookie), &format!("customer:{i}@example.com")));
        }
        assert!(!keys.knows(Some(&cookie), "customer:0@example.com"));
        // Signing in again does not repeat the mark.
        let again = keys.remember(Some(&cookie), "customer:3@example.com");
        assert_eq!(again.split('.').count(), 4);
        assert!(again.starts_with(&keys.remember(None, "customer:3@example.com")));
        // An oversized cookie is ignored, not parsed.
        assert!(!keys.knows(Some(&"x.".repeat(200)), "customer:3@example.com"));
    }
}
