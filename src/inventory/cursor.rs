//! Cursors a tool can trust: opaque, signed, and bound to the snapshot, scope, filter and
//! sort that produced them.
//!
//! A cursor names a snapshot (the rows as read from the ERP at one moment), so a pull that
//! spans a cache refresh keeps reading the same rows — none twice, none missing. While
//! the cache still holds that snapshot, nothing more is needed; for the time after, the
//! snapshot is *pinned* for whoever holds the cursor:
//!
//! - an API token's pull keeps its snapshot (at most two per token) for as long as it
//!   keeps paging; nothing a browser does can take it away;
//! - a browser pins nothing: its grid scrolls through the snapshot the cache holds, and
//!   when the cache has moved on (a refresh) the next page comes from the newest rows at
//!   the same position. A person scrolling a live grid gets live rows; memory stays the
//!   cache's, however many browsers scroll while the rows refresh;
//! - pinned snapshots take at most one bound of memory in all (the inventory cache's cap,
//!   `INVENTORY_CACHE_MAX_MB`, again); a pull that cannot be given room is refused at its
//!   first page, never expired half-way;
//! - a pin no cursor has used for ten minutes is dropped; a cursor into it then says how
//!   many rows the pull had read.
//!
//! Pins live in this process only; a cursor carries the process's random id, so one shown
//! to another instance (or after a restart) reads as expired, not as forged.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::signing::{Purpose, Signer};

use super::snapshot::{Selection, Snapshot};
use crate::auth::access::Holder;
use crate::domain::ErpScope;

/// A pin is kept this long after its holder last used a cursor into it.
pub const PIN_IDLE: Duration = Duration::from_secs(10 * 60);
/// Snapshots one API token may keep pinned at once (a pull, and the one before it).
const PINS_PER_TOOL: usize = 2;
/// How long a pull refused for want of room should wait before trying again.
pub const BUSY_RETRY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorError {
    /// Not a cursor this portal made.
    Invalid,
    /// Made for another scope, filter or sort.
    Mismatch,
    /// Its snapshot is kept no more (idle too long, or another process); the pull had read
    /// this many rows.
    Expired { read: usize },
    /// No room to keep a new pull's snapshot while other pulls run: retry later.
    Busy,
}

/// Where a cursor points.
pub struct Position {
    pub snapshot: Arc<Snapshot>,
    pub offset: usize,
}

/// A pinned snapshot and who keeps it, with when each last used it.
struct Pin {
    snapshot: Arc<Snapshot>,
    holders: HashMap<Holder, Instant>,
}

pub struct Cursors {
    signer: Signer,
    instance: [u8; 8],
    pins: Mutex<HashMap<u64, Pin>>,
    /// The most memory pinned snapshots may take together.
    max_bytes: usize,
}

impl Default for Cursors {
    fn default() -> Self {
        Cursors::new(super::DEFAULT_CACHE_MAX_MB * 1024 * 1024)
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
    /// Cursors whose pinned snapshots take at most `max_bytes` together.
    pub fn new(max_bytes: usize) -> Cursors {
        let mut instance = [0u8; 8];
        rand::rng().fill_bytes(&mut instance);
        Cursors {
            signer: Signer::random(Purpose::InventoryCursor),
            instance,
            pins: Mutex::new(HashMap::new()),
            max_bytes,
        }
    }

    /// A cursor to `offset` in `snapshot` for this view, made for `holder` (its pin kept
    /// or renewed). `Busy` when the holder is a tool whose snapshot cannot be given room.
    pub fn issue(
        &self,
        snapshot: &Arc<Snapshot>,
        offset: usize,
        view: [u8; 8],
        holder: &Holder,
    ) -> Result<String, CursorError> {
        self.pin(snapshot, holder)?;
        let mut payload = [0u8; PAYLOAD];
        payload[..8].copy_from_slice(&self.instance);
        payload[8..16].copy_from_slice(&snapshot.id.to_be_bytes());
        payload[16..24].copy_from_slice(&(offset as u64).to_be_bytes());
        payload[24..].copy_from_slice(&view);
        let mut all = payload.to_vec();
        all.extend_from_slice(&self.signer.tag(&payload, MAC));
        Ok(URL_SAFE_NO_PAD.encode(all))
    }

    /// The snapshot and offset a cursor points to, if it was made for `view`: a pinned
    /// snapshot, or the one `current` (the cache) still holds by that id.
    pub fn resolve(
        &self,
        cursor: &str,
        view: [u8; 8],
        holder: &Holder,
        current: impl Fn(u64) -> Option<Arc<Snapshot>>,
    ) -> Result<Position, CursorError> {
        let raw = URL_SAFE_NO_PAD
            .decode(cursor.trim().as_bytes())
            .map_err(|_| CursorError::Invalid)?;
        if raw.len() != PAYLOAD + MAC {
            return Err(CursorError::Invalid);
        }
        let (payload, mac) = raw.split_at(PAYLOAD);
        let offset = u64::from_be_bytes(payload[16..24].try_into().expect("8 bytes")) as usize;
        if payload[..8] != self.instance {
            return Err(CursorError::Expired { read: offset });
        }
        // Constant time: a forger learns nothing from how fast a guess fails.
        if !self.signer.verify(payload, mac) {
            return Err(CursorError::Invalid);
        }
        if payload[24..] != view {
            return Err(CursorError::Mismatch);
        }
        let id = u64::from_be_bytes(payload[8..16].try_into().expect("8 bytes"));
        let now = Instant::now();
        {
            let mut pins = self.pins.lock();
            forget_idle(&mut pins, now);
            if let Some(pin) = pins.get_mut(&id) {
                if let Some(used) = pin.holders.get_mut(holder) {
                    *used = now;
                }
                return Ok(Position {
                    snapshot: pin.snapshot.clone(),
                    offset,
                });
            }
        }
        match current(id) {
            Some(snapshot) => Ok(Position { snapshot, offset }),
            None => Err(CursorError::Expired { read: offset }),
        }
    }

    /// Keeps `snapshot` for a tool (two snapshots each, within the memory bound); nobody
    /// else pins.
    fn pin(&self, snapshot: &Arc<Snapshot>, holder: &Holder) -> Result<(), CursorError> {
        if !matches!(holder, Holder::Tool(_)) {
            return Ok(());
        }
        let now = Instant::now();
        let mut pins = self.pins.lock();
        forget_idle(&mut pins, now);
        if let Some(pin) = pins.get_mut(&snapshot.id)
            && let Some(used) = pin.holders.get_mut(holder)
        {
            *used = now;
            return Ok(());
        }
        // The tool's own allowance: its oldest other pins go.
        let allowance = PINS_PER_TOOL;
        let mut own: Vec<(u64, Instant)> = pins
            .iter()
            .filter_map(|(id, p)| p.holders.get(holder).map(|used| (*id, *used)))
            .collect();
        own.sort_by_key(|(_, used)| *used);
        while own.len() >= allowance {
            let (id, _) = own.remove(0);
            release(&mut pins, id, holder);
        }
        let adds = if pins.contains_key(&snapshot.id) {
            0
        } else {
            snapshot.approx_bytes
        };
        // No room beside the pulls already running: this one is told at once.
        if bytes(&pins) + adds > self.max_bytes {
            return Err(CursorError::Busy);
        }
        pins.entry(snapshot.id)
            .or_insert_with(|| Pin {
                snapshot: snapshot.clone(),
                holders: HashMap::new(),
            })
            .holders
            .insert(holder.clone(), now);
        Ok(())
    }

    /// How many snapshots are pinned now, and their memory.
    pub fn usage(&self) -> (usize, usize) {
        let pins = self.pins.lock();
        (pins.len(), bytes(&pins))
    }
}

fn bytes(pins: &HashMap<u64, Pin>) -> usize {
    pins.values().map(|p| p.snapshot.approx_bytes).sum()
}

fn release(pins: &mut HashMap<u64, Pin>, id: u64, holder: &Holder) {
    if let Some(pin) = pins.get_mut(&id) {
        pin.holders.remove(holder);
        if pin.holders.is_empty() {
            pins.remove(&id);
        }
    }
}

/// Drops holders idle past [`PIN_IDLE`], and pins nobody holds.
fn forget_idle(pins: &mut HashMap<u64, Pin>, now: Instant) {
    pins.retain(|_, p| {
        p.holders
            .retain(|_, used| now.duration_since(*used) < PIN_IDLE);
        !p.holders.is_empty()
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::snapshot::Filter;

    fn snap() -> Arc<Snapshot> {
        Arc::new(Snapshot::from_rows(&[], false))
    }

    fn none(_: u64) -> Option<Arc<Snapshot>> {
        None
    }

    /// A snapshot of `n` rows with `bytes` of memory.
    fn sized(bytes: usize) -> Arc<Snapshot> {
        let mut s = Snapshot::from_rows(&[], false);
        s.approx_bytes = bytes;
        Arc::new(s)
    }

    #[test]
    fn cursors_are_signed_and_bound_to_their_view() {
        let c = Cursors::default();
        let s = snap();
        let me = Holder::Tool(1);
        let all = view_hash(&ErpScope::All, &Selection::default());
        let other = view_hash(
            &ErpScope::All,
            &Selection {
                cover: None,
                filter: Filter {
                    search: Some("x".into()),
                    ..Filter::default()
                },
                sort: Vec::new(),
            },
        );
        assert_ne!(all, other);
        let cursor = c.issue(&s, 500, all, &me).unwrap();
        let at = c.resolve(&cursor, all, &me, none).ok().unwrap();
        assert_eq!(at.offset, 500);
        assert_eq!(at.snapshot.id, s.id);
        assert_eq!(
            c.resolve(&cursor, other, &me, none).err(),
            Some(CursorError::Mismatch)
        );
        // Any change to the cursor breaks its signature.
        let mut raw = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        raw[23] ^= 1; // the offset's last byte
        let forged = URL_SAFE_NO_PAD.encode(&raw);
        assert_eq!(
            c.resolve(&forged, all, &me, none).err(),
            Some(CursorError::Invalid)
        );
        assert_eq!(
            c.resolve("garbage", all, &me, none).err(),
            Some(CursorError::Invalid)
        );
        // Another process's cursor (or one from before a restart) has expired, and says
        // how far the pull got.
        let elsewhere = Cursors::default();
        assert_eq!(
            elsewhere.resolve(&cursor, all, &me, none).err(),
            Some(CursorError::Expired { read: 500 })
        );
    }

    #[test]
    fn browsers_pin_nothing_and_pulls_share_one_bound() {
        let view = view_hash(&ErpScope::All, &Selection::default());
        let c = Cursors::new(1_000);
        let pull = sized(600);
        let tool = Holder::Tool(7);
        let cursor = c.issue(&pull, 5_000, view, &tool).unwrap();
        // Fifty browsers paging snapshots of their own keep nothing.
        for i in 0..50 {
            c.issue(&sized(500), 30, view, &Holder::Browser(format!("s{i}")))
                .unwrap();
        }
        assert_eq!(c.usage(), (1, 600));
        assert_eq!(
            c.resolve(&cursor, view, &tool, none).unwrap().snapshot.id,
            pull.id
        );
        // A second pull fits beside the first; a third finds no room and is refused at
        // once, the others untouched.
        let c2 = c.issue(&sized(350), 0, view, &Holder::Tool(8)).unwrap();
        assert_eq!(c.usage(), (2, 950));
        assert_eq!(
            c.issue(&sized(200), 0, view, &Holder::Tool(9)),
            Err(CursorError::Busy)
        );
        assert!(c.resolve(&c2, view, &Holder::Tool(8), none).is_ok());
        // A browser's cursor reads the snapshot while the cache holds it, and says how
        // far it got once the cache has moved on (the service then pages the newest rows).
        let current = snap();
        let b = Holder::Browser("x".into());
        let cur = c.issue(&current, 30, view, &b).unwrap();
        let again = c
            .resolve(&cur, view, &b, |id| {
                (id == current.id).then(|| current.clone())
            })
            .unwrap();
        assert_eq!(again.snapshot.id, current.id);
        assert_eq!(
            c.resolve(&cur, view, &b, none).err(),
            Some(CursorError::Expired { read: 30 })
        );
    }

    #[test]
    fn a_tool_keeps_two_snapshots_and_the_portal_none() {
        let view = view_hash(&ErpScope::All, &Selection::default());
        let c = Cursors::new(1 << 30);
        let tool = Holder::Tool(1);
        let first = c.issue(&snap(), 1, view, &tool).unwrap();
        c.issue(&snap(), 1, view, &tool).unwrap();
        c.issue(&snap(), 1, view, &tool).unwrap();
        assert_eq!(c.usage().0, 2);
        assert_eq!(
            c.resolve(&first, view, &tool, none).err(),
            Some(CursorError::Expired { read: 1 }),
            "its oldest went"
        );
        let before = c.usage();
        c.issue(&snap(), 1, view, &Holder::Portal).unwrap();
        assert_eq!(c.usage(), before);
    }
}
