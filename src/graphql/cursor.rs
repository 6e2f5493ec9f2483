//! Signed cursors for lists paged by key (`auditLog`): the position, bound to the filter
//! that produced it, with an HMAC so a cursor cannot be made by hand or moved to another
//! filter. The key is derived from `SECRET_KEY`, so cursors survive a restart and work on
//! every instance. (Inventory cursors also pin a snapshot: `crate::inventory`.)

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::signing::{Purpose, Signer};

const MAC: usize = 16;

#[derive(Clone, Debug)]
pub struct CursorKey(Signer);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCursorError {
    Invalid,
    Mismatch,
}

impl CursorKey {
    /// A key of its own, derived from the portal's secret.
    pub fn derive(secret: &str) -> CursorKey {
        CursorKey(Signer::new(secret.as_bytes(), Purpose::ListCursor))
    }

    fn bind(view: &str) -> [u8; 8] {
        let d = Sha256::digest(view.as_bytes());
        let mut out = [0u8; 8];
        out.copy_from_slice(&d[..8]);
        out
    }

    /// A cursor for position `at` in the list `view` (a stable text of the filter).
    pub fn issue(&self, at: i64, view: &str) -> String {
        self.issue_bytes(&at.to_be_bytes(), view)
    }

    /// The position a cursor holds, if this key made it for `view`.
    pub fn open(&self, cursor: &str, view: &str) -> Result<i64, KeyCursorError> {
        let at = self.open_bytes(cursor, view)?;
        Ok(i64::from_be_bytes(
            at.as_slice()
                .try_into()
                .map_err(|_| KeyCursorError::Invalid)?,
        ))
    }

    /// A cursor holding a text position (e.g. the last key of a page).
    pub fn issue_text(&self, at: &str, view: &str) -> String {
        self.issue_bytes(at.as_bytes(), view)
    }

    pub fn open_text(&self, cursor: &str, view: &str) -> Result<String, KeyCursorError> {
        String::from_utf8(self.open_bytes(cursor, view)?).map_err(|_| KeyCursorError::Invalid)
    }

    fn issue_bytes(&self, at: &[u8], view: &str) -> String {
        let mut payload = Vec::with_capacity(at.len() + 8 + MAC);
        payload.extend_from_slice(at);
        payload.extend_from_slice(&Self::bind(view));
        let tag = self.0.tag(&payload, MAC);
        payload.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(payload)
    }

    fn open_bytes(&self, cursor: &str, view: &str) -> Result<Vec<u8>, KeyCursorError> {
        if cursor.len() > 1024 {
            return Err(KeyCursorError::Invalid);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(cursor.trim().as_bytes())
            .map_err(|_| KeyCursorError::Invalid)?;
        if raw.len() < 8 + MAC {
            return Err(KeyCursorError::Invalid);
        }
        let (payload, tag) = raw.split_at(raw.len() - MAC);
        if !self.0.verify(payload, tag) {
            return Err(KeyCursorError::Invalid);
        }
        let (at, bind) = payload.split_at(payload.len() - 8);
        if bind != Self::bind(view) {
            return Err(KeyCursorError::Mismatch);
        }
        Ok(at.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_signed_and_bound() {
        let k = CursorKey::derive("a secret of at least thirty-two characters");
        let c = k.issue(1234, "admin=x");
        assert_eq!(k.open(&c, "admin=x"), Ok(1234));
        assert_eq!(k.open(&c, "admin=y"), Err(KeyCursorError::Mismatch));
        assert_eq!(k.open("garbage", "admin=x"), Err(KeyCursorError::Invalid));
        let other = CursorKey::derive("another secret of at least thirty-two chars");
        assert_eq!(other.open(&c, "admin=x"), Err(KeyCursorError::Invalid));
        let t = k.issue_text("abc-session", "sessions");
        assert_eq!(k.open_text(&t, "sessions").as_deref(), Ok("abc-session"));
        assert_eq!(k.open_text(&t, "other"), Err(KeyCursorError::Mismatch));
        let mut raw = URL_SAFE_NO_PAD.decode(&c).unwrap();
        raw[7] ^= 1;
        assert_eq!(
            k.open(&URL_SAFE_NO_PAD.encode(raw), "admin=x"),
            Err(KeyCursorError::Invalid)
        );
    }
}
