//! The tower-sessions store over the app database, and what a browser session holds.
//!
//! The cookie carries only a random id; the record lives in `WebSessions`. What makes a
//! customer signed in, though, is the `ActiveSessions` row the record points to: it is
//! checked on every request, so deleting it (an admin "kick", expiry, a password change
//! elsewhere) signs the browser out on its very next request.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use crate::store::{WebSessionRecord, WebSessionStore};

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
        let Some(row) = self
            .store
            .load_web_session(&id.to_string(), OffsetDateTime::now_utc())
            .await
            .map_err(backend_err)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: row.expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store
            .delete_web_session(&id.to_string())
            .await
            .map_err(backend_err)
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
