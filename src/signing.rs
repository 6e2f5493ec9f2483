//! The one way the portal signs what it hands out and later takes back (CSRF tokens,
//! known-device marks, unsubscribe links, paging cursors): HMAC-SHA-256 under a key of
//! its own per purpose, derived from `SECRET_KEY` with the purpose's label, so the secret
//! itself signs nothing and a signature made for one purpose is worthless for another.
//! Verification is constant-time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a key signs. Each label is fixed forever: changing one invalidates every token,
/// mark, link and cursor made under it (links in mails already sent included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Csrf,
    KnownDevice,
    Unsubscribe,
    /// Keyset cursors of admin lists (audit log, sessions).
    ListCursor,
    /// Inventory cursors: a random key per process (they name snapshots only this
    /// process holds).
    InventoryCursor,
    /// Seals the TOTP secrets of two-step sign-in in the app database.
    TwoFactorSecret,
    /// "Trust this browser": the mark that skips the two-step code for 30 days.
    TrustedBrowser,
}

impl Purpose {
    const fn label(self) -> &'static [u8] {
        match self {
            Purpose::Csrf => b"customer-portal csrf v1",
            Purpose::KnownDevice => b"customer-portal known device v1",
            Purpose::Unsubscribe => b"customer-portal report unsubscribe v1",
            Purpose::ListCursor => b"customer-portal list cursors v1",
            Purpose::InventoryCursor => b"customer-portal inventory cursors v1",
            Purpose::TwoFactorSecret => b"customer-portal two-factor secret v1",
            Purpose::TrustedBrowser => b"customer-portal trusted browser v1",
        }
    }
}

/// The shortest tag [`Signer::verify`] accepts (128 bits).
pub const MIN_TAG: usize = 16;

/// A key for one purpose.
#[derive(Clone)]
pub struct Signer {
    key: [u8; 32],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer([redacted])")
    }
}

impl Signer {
    /// The key for `purpose` under the portal's secret.
    pub fn new(secret: &[u8], purpose: Purpose) -> Signer {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(purpose.label());
        Signer {
            key: mac.finalize().into_bytes().into(),
        }
    }

    /// A key for `purpose` that lives as long as this process.
    pub fn random(purpose: Purpose) -> Signer {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        Signer::new(&secret, purpose)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    /// The full 32-byte signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// The first `len` bytes of the signature (at least [`MIN_TAG`]).
    pub fn tag(&self, message: &[u8], len: usize) -> Vec<u8> {
        self.sign(message)[..len.clamp(MIN_TAG, 32)].to_vec()
    }

    /// Whether `tag` (a whole signature, or its first [`MIN_TAG`] bytes or more) is this
    /// key's for `message`, compared in constant time.
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        if tag.len() < MIN_TAG {
            return false;
        }
        let mut mac = self.mac();
        mac.update(message);
        mac.verify_truncated_left(tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_has_its_own_key_and_tags_verify_only_under_it() {
        let secret = b"a secret key of at least thirty-two characters";
        let csrf = Signer::new(secret, Purpose::Csrf);
        let device = Signer::new(secret, Purpose::KnownDevice);
        let t = csrf.tag(b"hello", 16);
        assert!(csrf.verify(b"hello", &t));
        assert!(csrf.verify(b"hello", &csrf.sign(b"hello")));
        assert!(!csrf.verify(b"hellO", &t));
        assert!(!device.verify(b"hello", &t), "another purpose, another key");
        assert!(
            !csrf.verify(b"hello", &t[..8]),
            "too short a tag proves nothing"
        );
        let other = Signer::new(b"another secret entirely, also long enough", Purpose::Csrf);
        assert!(!other.verify(b"hello", &t));
        // The labels are the ones tokens already in the world were made with.
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(b"customer-portal csrf v1");
        let old_key: [u8; 32] = mac.finalize().into_bytes().into();
        let mut old = Hmac::<Sha256>::new_from_slice(&old_key).unwrap();
        old.update(b"hello");
        assert_eq!(old.finalize().into_bytes().as_slice(), csrf.sign(b"hello"));
    }
}
