//! Cursors a tool can trust: opaque, signed, and bound to the snapshot, scope, filter and
//! sort that produced them.
//!
//! A cursor names a pinned snapshot (the rows as read from the ERP at one moment), so a
//! pull that spans a cache refresh keeps reading the same rows — none twice, none
//! missing. Pins live in this process only; a cursor carries the process's random id, so
//! one shown to another instance (or after a restart) reads as expired, not as forged.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::snapshot::{Selection, Snapshot};
use crate::domain::ErpScope;

/// A pinned snapshot is kept this long after the last cursor into it was used.
pub const PIN_IDLE: Duration = Duration::from_secs(10 * 60);
/// At most this many snapshots, and this many rows in all (about 150 MB), are pinned at
/// once; the least recently used go first. A pin of the snapshot the cache still holds
/// costs nothing extra; only superseded snapshots kept for their cursors do.
const MAX_PINS: usize = 64;
const MAX_PINNED_ROWS: usize = 250_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorError {
    /// Not a cursor this portal made.
    Invalid,
    /// Made for another scope, filter or sort.
    Mismatch,
    /// Its snapshot is no longer pinned (idle too long, evicted, or another process).
    Expired,
}

/// Where a cursor points.
pub struct Position {
    pub snapshot: Arc<Snapshot>,
    pub offset: usize,
}

pub struct Cursors {
    key: [u8; 32],
    instance: [u8; 8],
    pins: Mutex<HashMap<u64, (Arc<Snapshot>, Instant)>>,
}

impl Default for Cursors {
    fn default() -> Self {
        let mut key = [0u8; 32];
        let mut instance = [0u8; 8];
        rand::rng().fill_bytes(&mut key);
        rand::rng().fill_bytes(&mut instance);
        Cursors {
            key,
            instance,
            pins: Mutex::new(HashMap::new()),
        }
    }
}

/// What a cursor is bound to: the scope and the whole selection (filter and sort).
pub fn view_hash(scope: &ErpScope, selection: &Selection) -> [u8; 8] {
    let digest = Sha256::digest(format!("{scope:?}\u{0}{selection:?}").as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

const PAYLOAD: usize = 32;
const MAC: usize = 16;

impl Cursors {
    fn mac(&self, payload: &[u8]) -> [u8; MAC] {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length works");
        m.update(payload);
        let full = m.finalize().into_bytes();
        let mut out = [0u8; MAC];
        out.copy_from_slice(&full[..MAC]);
        out
    }

    /// A cursor to `offset` in `snapshot` for this view; pins the snapshot.
    pub fn issue(&self, snapshot: &Arc<Snapshot>, offset: usize, view: [u8; 8]) -> String {
        self.pin(snapshot);
        let mut payload = [0u8; PAYLOAD];
        payload[..8].copy_from_slice(&self.instance);
        payload[8..16].copy_from_slice(&snapshot.id.to_be_bytes());
        payload[16..24].copy_from_slice(&(offset as u64).to_be_bytes());
        payload[24..].copy_from_slice(&view);
        let mut all = payload.to_vec();
        all.extend_from_slice(&self.mac(&payload));
        URL_SAFE_NO_PAD.encode(all)
    }

    /// The pinned snapshot and offset a cursor points to, if it was made for `view`.
    pub fn resolve(&self, cursor: &str, view: [u8; 8]) -> Result<Position, CursorError> {
        let raw = URL_SAFE_NO_PAD
            .decode(cursor.trim().as_bytes())
            .map_err(|_| CursorError::Invalid)?;
        if raw.len() != PAYLOAD + MAC {
            return Err(CursorError::Invalid);
        }
        let (payload, mac) = raw.split_at(PAYLOAD);
        if payload[..8] != self.instance {
            return Err(CursorError::Expired);
        }
        // Constant time: a forger learns nothing from how fast a guess fails.
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length works");
        m.update(payload);
        m.verify_truncated_left(mac)
            .map_err(|_| CursorError::Invalid)?;
        if payload[24..] != view {
            return Err(CursorError::Mismatch);
        }
        let id = u64::from_be_bytes(payload[8..16].try_into().expect("8 bytes"));
        let offset = u64::from_be_bytes(payload[16..24].try_into().expect("8 bytes")) as usize;
        let mut pins = self.pins.lock();
        let now = Instant::now();
        match pins.get_mut(&id) {
            Some((snap, used)) if now.duration_since(*used) < PIN_IDLE => {
                *used = now;
                Ok(Position {
                    snapshot: snap.clone(),
                    offset,
                })
            }
            _ => {
                pins.remove(&id);
                Err(CursorError::Expired)
            }
        }
    }

    fn pin(&self, snapshot: &Arc<Snapshot>) {
        let now = Instant::now();
        let mut pins = self.pins.lock();
        pins.retain(|_, (_, used)| now.duration_since(*used) < PIN_IDLE);
        pins.insert(snapshot.id, (snapshot.clone(), now));
        // Bounded: evict the least recently used until both limits hold.
        loop {
            let rows: usize = pins.values().map(|(s, _)| s.rows.len()).sum();
            if pins.len() <= MAX_PINS && (rows <= MAX_PINNED_ROWS || pins.len() == 1) {
                break;
            }
            let Some(oldest) = pins
                .iter()
                .filter(|(id, _)| **id != snapshot.id)
                .min_by_key(|(_, (_, used))| *used)
                .map(|(id, _)| *id)
            else {
                break;
            };
            pins.remove(&oldest);
        }
    }

    /// How many snapshots are pinned now.
    #[cfg(test)]
    pub fn pinned(&self) -> usize {
        self.pins.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::snapshot::Filter;

    fn snap() -> Arc<Snapshot> {
        Arc::new(Snapshot::build(Vec::new(), false))
    }

    #[test]
    fn cursors_are_signed_and_bound_to_their_view() {
        let c = Cursors::default();
        let s = snap();
        let all = view_hash(&ErpScope::All, &Selection::default());
        let other = view_hash(
            &ErpScope::All,
            &Selection {
                filter: Filter {
                    search: Some("x".into()),
                    ..Filter::default()
                },
                sort: Vec::new(),
            },
        );
        assert_ne!(all, other);
        let cursor = c.issue(&s, 500, all);
        let at = c.resolve(&cursor, all).ok().unwrap();
        assert_eq!(at.offset, 500);
        assert_eq!(at.snapshot.id, s.id);
        assert_eq!(c.resolve(&cursor, other).err(), Some(CursorError::Mismatch));
        // Any change to the cursor breaks its signature.
        let mut raw = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        raw[23] ^= 1; // the offset's last byte
        let forged = URL_SAFE_NO_PAD.encode(&raw);
        assert_eq!(c.resolve(&forged, all).err(), Some(CursorError::Invalid));
        assert_eq!(c.resolve("garbage", all).err(), Some(CursorError::Invalid));
        // Another process's cursor (or one from before a restart) has expired.
        let elsewhere = Cursors::default();
        assert_eq!(
            elsewhere.resolve(&cursor, all).err(),
            Some(CursorError::Expired)
        );
    }

    #[test]
    fn pins_are_bounded() {
        let c = Cursors::default();
        let view = view_hash(&ErpScope::All, &Selection::default());
        let first = snap();
        let cursor = c.issue(&first, 1, view);
        for _ in 0..MAX_PINS + 5 {
            c.issue(&snap(), 1, view);
        }
        assert_eq!(c.pinned(), MAX_PINS);
        assert_eq!(
            c.resolve(&cursor, view).err(),
            Some(CursorError::Expired),
            "the least recently used went first"
        );
    }
}
