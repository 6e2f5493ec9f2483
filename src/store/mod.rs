//! The app-database port: traits that every backend implements (SQLite embedded, SQL
//! Server in production), and the records they exchange.
//!
//! Flows that must not be half-done (a login writes a session, the login date and an
//! audit row) are single trait methods, so that each backend can run them in one
//! transaction.

pub mod sqlite;
mod timefmt;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::domain::{CustomerId, Email};

pub use timefmt::{format_ts, parse_ts};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a customer with this email already exists")]
    DuplicateEmail,
    #[error("app database unavailable: {0}")]
    Unavailable(String),
    #[error("app database error: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A row of `Customers`. The password hash is kept out of `Debug`.
#[derive(Clone)]
pub struct Customer {
    pub id: CustomerId,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: String,
    pub password_hash: String,
    pub erp_customer_name: String,
    pub is_active: bool,
    pub last_login_date: Option<OffsetDateTime>,
    pub must_reset_password: bool,
}

impl std::fmt::Debug for Customer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Customer")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("is_active", &self.is_active)
            .field("must_reset_password", &self.must_reset_password)
            .finish_non_exhaustive()
    }
}

impl Customer {
    pub fn display_name(&self) -> String {
        match &self.last_name {
            Some(l) if !l.trim().is_empty() => format!("{} {}", self.first_name, l),
            _ => self.first_name.clone(),
        }
    }
}

pub struct NewCustomer {
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Email,
    pub password_hash: String,
    pub erp_customer_name: String,
    pub must_reset_password: bool,
}

/// A row of `ActiveSessions`: one signed-in customer browser.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub session_id: String,
    pub customer_id: CustomerId,
    pub last_seen: OffsetDateTime,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: OffsetDateTime,
}

/// What to append to `AuditLog`.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub timestamp: OffsetDateTime,
    /// The admin responsible, or `SYSTEM` for actions of customers and the portal itself.
    pub admin_username: String,
    pub action_type: String,
    pub target_customer_id: Option<CustomerId>,
    pub target_customer_email: Option<String>,
    pub details: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub timestamp: OffsetDateTime,
    pub admin_username: String,
    pub action_type: String,
    pub target_customer_id: Option<CustomerId>,
    pub target_customer_email: Option<String>,
    pub details: Option<String>,
}

/// A stored tower-sessions record (opaque JSON for the store).
#[derive(Debug, Clone)]
pub struct WebSessionRecord {
    pub id: String,
    pub data: String,
    pub expiry_date: OffsetDateTime,
}

#[async_trait]
pub trait CustomerStore: Send + Sync {
    async fn customer_by_email(&self, email: &Email) -> StoreResult<Option<Customer>>;
    async fn customer_by_id(&self, id: CustomerId) -> StoreResult<Option<Customer>>;
    async fn insert_customer(
        &self,
        new: &NewCustomer,
        audit: &NewAuditEntry,
    ) -> StoreResult<Customer>;
    async fn count_customers(&self) -> StoreResult<u64>;
    /// Sets a new hash, clears or sets the reset flag, ends every session of the customer
    /// except `keep_session`, and appends `audit` — all or nothing.
    async fn change_password(
        &self,
        id: CustomerId,
        password_hash: &str,
        must_reset_password: bool,
        keep_session: Option<&str>,
        audit: &NewAuditEntry,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait ActiveSessionStore: Send + Sync {
    /// Records a login: inserts the session, sets `last_login_date`, appends the audit row.
    async fn begin_customer_session(
        &self,
        session: &ActiveSession,
        audit: &NewAuditEntry,
    ) -> StoreResult<()>;
    /// The session and its customer, if the row still exists.
    async fn session_with_customer(
        &self,
        session_id: &str,
    ) -> StoreResult<Option<(ActiveSession, Customer)>>;
    async fn touch_session(&self, session_id: &str, at: OffsetDateTime) -> StoreResult<()>;
    /// Deletes the session; appends `audit` only if a row was deleted. Returns whether it was.
    async fn end_customer_session(
        &self,
        session_id: &str,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool>;
    async fn list_active_sessions(&self) -> StoreResult<Vec<ActiveSession>>;
    /// Deletes sessions created before `cutoff` (expired after `SESSION_HOURS`).
    async fn purge_sessions_created_before(&self, cutoff: OffsetDateTime) -> StoreResult<u64>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<i64>;
    /// Newest first.
    async fn recent_audit(&self, limit: u32) -> StoreResult<Vec<AuditEntry>>;
}

#[async_trait]
pub trait WebSessionStore: Send + Sync {
    /// Inserts a new record; `false` when the id is already taken.
    async fn create_web_session(&self, record: &WebSessionRecord) -> StoreResult<bool>;
    async fn save_web_session(&self, record: &WebSessionRecord) -> StoreResult<()>;
    /// The record if it exists and has not expired.
    async fn load_web_session(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<WebSessionRecord>>;
    async fn delete_web_session(&self, id: &str) -> StoreResult<()>;
    async fn purge_expired_web_sessions(&self, now: OffsetDateTime) -> StoreResult<u64>;
}

#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores the value unless the key exists; returns the value now stored.
    async fn setting_insert_if_absent(&self, key: &str, value: &str) -> StoreResult<String>;
}

/// Everything the portal needs from its app database.
#[async_trait]
pub trait AppStore:
    CustomerStore + ActiveSessionStore + AuditStore + WebSessionStore + SettingsStore
{
    /// `sqlite` or `mssql`, for /healthz and logs.
    fn backend_name(&self) -> &'static str;
    /// A cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()>;
}
