//! CSRF protection with a signed double-submit token.
//!
//! Every browser gets a random token in an HttpOnly cookie, signed with `SECRET_KEY` so a
//! token cannot be invented; pages repeat it in `<meta name="csrf-token">` and each form's
//! hidden `csrf_token`, and htmx sends it as `X-CSRF-Token`. A state-changing request must
//! present the same token as its cookie. Being stateless, it costs anonymous visitors no
//! database row.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::signing::{Purpose, Signer};
use rand::RngCore;
use subtle::ConstantTimeEq;

pub const COOKIE_NAME: &str = "cp_csrf";
pub const HEADER_NAME: &str = "x-csrf-token";
pub const FORM_FIELD: &str = "csrf_token";

/// The token of this request, available to handlers through request extensions.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

#[derive(Clone)]
pub struct CsrfKeys {
    signer: Signer,
}

impl std::fmt::Debug for CsrfKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKeys([redacted])")
    }
}

impl CsrfKeys {
    pub fn new(secret_key: &str) -> CsrfKeys {
        CsrfKeys {
            signer: Signer::new(secret_key.as_bytes(), Purpose::Csrf),
        }
    }

    fn sign(&self, nonce: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.signer.sign(nonce.as_bytes()))
    }

    pub fn issue(&self) -> String {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        let nonce = URL_SAFE_NO_PAD.encode(bytes);
        let sig = self.sign(&nonce);
        format!("{nonce}.{sig}")
    }

    /// Whether a cookie value is a token this portal issued.
    pub fn is_genuine(&self, token: &str) -> bool {
        if token.len() > 200 {
            return false;
        }
        let Some((nonce, sig)) = token.split_once('.') else {
            return false;
        };
        let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
            return false;
        };
        sig.len() == 32 && self.signer.verify(nonce.as_bytes(), &sig)
    }
}

/// Constant-time comparison of the submitted token with the cookie's.
pub fn tokens_match(cookie: &str, submitted: &str) -> bool {
    cookie.len() == submitted.len() && bool::from(cookie.as_bytes().ct_eq(submitted.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_and_forgeries_do_not() {
        let keys = CsrfKeys::new("a-secret-key-of-at-least-32-characters!!");
        let t = keys.issue();
        assert!(keys.is_genuine(&t));
        assert!(!keys.is_genuine("abc.def"));
        assert!(!keys.is_genuine(&t.replace('.', "")));
        let other = CsrfKeys::new("another-secret-key-of-32-characters-long");
        assert!(!other.is_genuine(&t));
        assert!(tokens_match(&t, &t.clone()));
        assert!(!tokens_match(&t, &keys.issue()));
    }
}
