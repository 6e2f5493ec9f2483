//! The tower-sessions store over the app database, and what a browser session holds.
//!
//! The cookie carries only a random id; the record lives in `WebSessions`. What makes a
//! customer signed in, though, is the `ActiveSessions` row the record points to: it is
//! checked on every request, so deleting it (an admin "kick", expiry, a password change
//! elsewhere) signs the browser out on its very next request. The record and that row are
//! read in one trip ([`preload`]); the record then reaches the session layer through a
//! task-local ([`Preloaded::hand_over`]) instead of being read a second time.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::store::{ReadSignIn, WebSessionRecord, WebSessionStore};

/// Session key of [`SessionAuth`].
pub const AUTH_KEY: &str = "auth";
/// Session key of pending flash messages.
pub const FLASH_KEY: &str = "flash";
/// Session key of a sign-in waiting for its two-step code ([`PendingCode`]).
pub const PENDING_CODE_KEY: &str = "pending_code";
/// Session key of a staff sign-in waiting for its two-step code ([`PendingStaffCode`]).
pub const PENDING_STAFF_CODE_KEY: &str = "pending_staff_code";
/// Session key of the minute a signed-in browser session last moved its expiry.
pub const SLID_KEY: &str = "slid";
pub const COOKIE_NAME: &str = "cp_session";

/// Who this browser session belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionAuth {
    /// `ActiveSessions.session_id` of the signed-in customer.
    Customer { session_id: String },
    /// `AdminSessions.session_id` of the signed-in admin.
    Admin { session_id: String },
}

/// A right password whose account asks for a two-step code: kept in the browser session
/// (not signed in) for [`PendingCode::LIFETIME_SECONDS`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingCode {
    pub customer_id: i64,
    /// Unix seconds after which the password must be typed again.
    pub until: i64,
    /// Where to go afterwards (already checked to be a relative path).
    pub next: Option<String>,
    /// The account's name for known-device marks (`throttle::customer_key`).
    pub device_key: String,
}

impl PendingCode {
    pub const LIFETIME_SECONDS: i64 = 5 * 60;

    pub fn new(customer_id: i64, next: Option<String>, device_key: String) -> PendingCode {
        PendingCode {
            customer_id,
            until: OffsetDateTime::now_utc().unix_timestamp() + Self::LIFETIME_SECONDS,
            next,
            device_key,
        }
    }

    pub fn is_live(&self) -> bool {
        OffsetDateTime::now_utc().unix_timestamp() <= self.until
    }
}

/// A staff member whose password (local or directory) was right and whose account asks
/// for a two-step code: kept in the browser session, server-side, for
/// [`PendingCode::LIFETIME_SECONDS`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PendingStaffCode {
    pub username: String,
    pub display_name: String,
    /// `local`, `ad` or `test_mode`: how the password was checked.
    pub auth_method: String,
    /// Unix seconds after which the password must be typed again.
    pub until: i64,
    /// The account's name for known-device marks (`throttle::admin_key`).
    pub device_key: String,
}

impl PendingStaffCode {
    pub fn new(
        username: String,
        display_name: String,
        auth_method: String,
        device_key: String,
    ) -> PendingStaffCode {
        PendingStaffCode {
            username,
            display_name,
            auth_method,
            until: OffsetDateTime::now_utc().unix_timestamp() + PendingCode::LIFETIME_SECONDS,
            device_key,
        }
    }

    pub fn is_live(&self) -> bool {
        OffsetDateTime::now_utc().unix_timestamp() <= self.until
    }
}

#[derive(Clone)]
pub struct DbSessionStore {
    store: Arc<dyn WebSessionStore>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbSessionStore").finish_non_exhaustive()
    }
}

impl DbSessionStore {
    pub fn new(store: Arc<dyn WebSessionStore>) -> Self {
        DbSessionStore { store }
    }
}

fn encode(record: &Record) -> session_store::Result<WebSessionRecord> {
    Ok(WebSessionRecord {
        id: record.id.to_string(),
        data: serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?,
        expiry_date: record.expiry_date,
    })
}

fn backend_err(e: crate::store::StoreError) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A 128-bit id collision is practically impossible, but the insert is checked
        // anyway rather than silently overwriting another browser's session.
        loop {
            if self
                .store
                .create_web_session(&encode(record)?)
                .await
                .map_err(backend_err)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store
            .save_web_session(&encode(record)?)
            .await
            .map_err(backend_err)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(read) = take_preloaded(id) {
            return decode(id, read);
        }
        let row = self
            .store
            .load_web_session(&id.to_string(), OffsetDateTime::now_utc())
            .await
            .map_err(backend_err)?;
        decode(id, row)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store
            .delete_web_session(&id.to_string())
            .await
            .map_err(backend_err)
    }
}

fn decode(id: &Id, row: Option<WebSessionRecord>) -> session_store::Result<Option<Record>> {
    let Some(row) = row else {
        return Ok(None);
    };
    let data =
        serde_json::from_str(&row.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
    Ok(Some(Record {
        id: *id,
        data,
        expiry_date: row.expiry_date,
    }))
}

tokio::task_local! {
    /// A browser session's record read by [`preload`] for the request this task serves,
    /// until the session layer asks for it.
    static PRELOADED: std::cell::RefCell<Option<(Id, Option<WebSessionRecord>)>>;
}

/// The record [`preload`] read for `id`, once.
fn take_preloaded(id: &Id) -> Option<Option<WebSessionRecord>> {
    PRELOADED
        .try_with(|slot| {
            let mut slot = slot.borrow_mut();
            match slot.as_ref() {
                Some((for_id, _)) if for_id == id => slot.take().map(|(_, record)| record),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

/// The `ActiveSessions` id of a customer's sign-in in a record's data, if it holds one.
fn customer_session_of(data: &str) -> Option<String> {
    // The record's `AUTH_KEY` entry (serde needs the key as a literal; the assertion keeps
    // the two the same).
    #[derive(Deserialize)]
    struct Data {
        #[serde(rename = "auth")]
        auth: Option<SessionAuth>,
    }
    const _: () = assert!(matches!(AUTH_KEY.as_bytes(), b"auth"));
    match serde_json::from_str::<Data>(data).ok()?.auth? {
        SessionAuth::Customer { session_id } => Some(session_id),
        SessionAuth::Admin { .. } => None,
    }
}

/// A browser session read ahead with the customer sign-in it names (one trip to the app
/// database instead of two on every signed-in request).
pub struct Preloaded {
    id: Id,
    record: Option<WebSessionRecord>,
    /// The customer sign-in the record names, as read with it; `None` when none was read.
    pub sign_in: Option<ReadSignIn>,
}

/// Reads browser session `id` and the customer sign-in it names together.
pub async fn preload(
    store: &dyn WebSessionStore,
    id: Id,
) -> Result<Preloaded, crate::store::StoreError> {
    let (record, sign_in) = store
        .load_web_session_signed_in(
            &id.to_string(),
            OffsetDateTime::now_utc(),
            customer_session_of,
        )
        .await?;
    Ok(Preloaded {
        id,
        record,
        sign_in,
    })
}

impl Preloaded {
    /// Runs `first_read` (the request's first read of its session) with the record read
    /// ahead handed to the session layer instead of read again.
    pub async fn hand_over<T>(&mut self, first_read: impl std::future::Future<Output = T>) -> T {
        let slot = std::cell::RefCell::new(Some((self.id, self.record.take())));
        PRELOADED.scope(slot, first_read).await
    }
}

/// Starts a browser session for a fresh sign-in: a **new** session id (an id planted
/// before sign-in is worthless after it) and `auth`. Its expiry is `SESSION_HOURS` of
/// inactivity (the session layer's), moved on by every request while it is used.
pub async fn begin_browser_session(
    session: &tower_sessions::Session,
    auth: SessionAuth,
) -> Result<(), tower_sessions::session::Error> {
    session.cycle_id().await?;
    session
        .insert(SLID_KEY, OffsetDateTime::now_utc().unix_timestamp() / 60)
        .await?;
    session.insert(AUTH_KEY, auth).await
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::store::StoreResult;

    /// A store of one record that counts how it is read.
    struct OneRecord {
        data: String,
        loads: AtomicUsize,
        combined: AtomicUsize,
    }

    impl OneRecord {
        fn record(&self, id: &str) -> WebSessionRecord {
            WebSessionRecord {
                id: id.to_owned(),
                data: self.data.clone(),
                expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
            }
        }
    }

    #[async_trait]
    impl WebSessionStore for OneRecord {
        async fn create_web_session(&self, _: &WebSessionRecord) -> StoreResult<bool> {
            Ok(true)
        }
        async fn save_web_session(&self, _: &WebSessionRecord) -> StoreResult<()> {
            Ok(())
        }
        async fn load_web_session(
            &self,
            id: &str,
            _: OffsetDateTime,
        ) -> StoreResult<Option<WebSessionRecord>> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            Ok(Some(self.record(id)))
        }
        async fn delete_web_session(&self, _: &str) -> StoreResult<()> {
            Ok(())
        }
        async fn purge_expired_web_sessions(&self, _: OffsetDateTime) -> StoreResult<u64> {
            Ok(0)
        }
        async fn load_web_session_signed_in(
            &self,
            id: &str,
            _: OffsetDateTime,
            customer_session: for<'a> fn(&'a str) -> Option<String>,
        ) -> StoreResult<(Option<WebSessionRecord>, Option<ReadSignIn>)> {
            self.combined.fetch_add(1, Ordering::SeqCst);
            Ok((
                Some(self.record(id)),
                customer_session(&self.data).map(|session_id| ReadSignIn {
                    session_id,
                    found: None,
                    saved_views: None,
                }),
            ))
        }
    }

    fn data(auth: Option<SessionAuth>) -> String {
        let mut map: HashMap<&str, serde_json::Value> = HashMap::new();
        map.insert(SLID_KEY, serde_json::json!(29_000_000));
        if let Some(auth) = auth {
            map.insert(AUTH_KEY, serde_json::to_value(auth).unwrap());
        }
        serde_json::to_string(&map).unwrap()
    }

    /// The record read ahead with its sign-in is what the session layer gets: the store is
    /// not read again for it, and is read as before for anything else.
    #[tokio::test]
    async fn a_record_read_ahead_is_not_read_again() {
        let customer = SessionAuth::Customer {
            session_id: "abc".into(),
        };
        let fake = Arc::new(OneRecord {
            data: data(Some(customer.clone())),
            loads: AtomicUsize::new(0),
            combined: AtomicUsize::new(0),
        });
        let layer = DbSessionStore::new(fake.clone());
        let id = Id::default();
        let mut pre = preload(fake.as_ref(), id).await.unwrap();
        assert_eq!(
            pre.sign_in.as_ref().map(|s| s.session_id.as_str()),
            Some("abc")
        );
        let record = pre.hand_over(layer.load(&id)).await.unwrap().unwrap();
        let auth: SessionAuth = serde_json::from_value(record.data[AUTH_KEY].clone()).unwrap();
        assert_eq!(auth, customer);
        assert_eq!(
            fake.loads.load(Ordering::SeqCst),
            0,
            "handed over, not read"
        );
        assert_eq!(fake.combined.load(Ordering::SeqCst), 1);
        // Outside a hand-over, and for another id within one, the store is read.
        layer.load(&id).await.unwrap().unwrap();
        assert_eq!(fake.loads.load(Ordering::SeqCst), 1);
        let mut pre = preload(fake.as_ref(), id).await.unwrap();
        pre.hand_over(layer.load(&Id::default())).await.unwrap();
        assert_eq!(fake.loads.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn only_a_customer_sign_in_is_read_ahead() {
        let customer = SessionAuth::Customer {
            session_id: "s-1".into(),
        };
        assert_eq!(
            customer_session_of(&data(Some(customer))).as_deref(),
            Some("s-1")
        );
        let admin = SessionAuth::Admin {
            session_id: "a-1".into(),
        };
        assert_eq!(customer_session_of(&data(Some(admin))), None);
        assert_eq!(customer_session_of(&data(None)), None);
        assert_eq!(customer_session_of("not json"), None);
    }
}
