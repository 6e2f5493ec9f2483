//! The app-database port: traits that every backend implements (SQLite embedded, SQL
//! Server in production), and the records they exchange.
//!
//! Flows that must not be half-done (a login writes a session, the login date and an
//! audit row) are single trait methods, so that each backend can run them in one
//! transaction.

pub mod fits;
pub mod mssql;
pub mod sqlite;
mod timefmt;

use async_trait::async_trait;
use time::OffsetDateTime;

pub use crate::domain::reports::{FileFormat, Frequency, ReportKind, RunStatus};
use crate::domain::{CustomerId, Email};

pub use timefmt::{format_local, format_ts, parse_day, parse_local, parse_ts};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a customer with this email already exists")]
    DuplicateEmail,
    /// A saved view of this account already has this name.
    #[error("the name is already taken")]
    DuplicateName,
    /// The row to change does not exist; nothing was written or audited.
    #[error("no such record")]
    NotFound,
    /// The account already has as many of these as it may; nothing was written.
    #[error("the limit of {0} is reached")]
    LimitReached(u32),
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
    /// `None` for no last name (stored as `''`: the old portal's column is NOT NULL).
    pub last_name: Option<String>,
    pub email: String,
    pub password_hash: String,
    pub erp_customer_name: String,
    pub is_active: bool,
    pub last_login_date: Option<OffsetDateTime>,
    pub must_reset_password: bool,
    /// When the account was created (`Customers.created_date`); `None` only for rows an
    /// earlier version of this portal wrote before it kept the column.
    pub created_date: Option<OffsetDateTime>,
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

#[derive(Clone)]
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

/// Which accounts a customer list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    Active,
    Inactive,
    All,
}

/// The editable fields of an account, already validated.
#[derive(Debug, Clone)]
pub struct CustomerChanges {
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Email,
    pub erp_customer_name: String,
    pub is_active: bool,
}

/// A row of `AdminSessions`: one signed-in admin browser.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub session_id: String,
    pub username: String,
    pub display_name: String,
    /// `local`, `ad` or `test_mode`.
    pub auth_method: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: OffsetDateTime,
    pub last_seen: OffsetDateTime,
}

/// Filters of the audit log page; all optional. Build it with [`AuditFilter::parse`] so
/// every backend receives the same, already-interpreted filter.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub admin_username: Option<String>,
    pub action_type: Option<String>,
    pub search: Option<AuditSearch>,
}

/// What the audit search box means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditSearch {
    /// A number is a customer id, matched exactly.
    CustomerId(CustomerId),
    /// Anything else is part of a customer email, lower-cased (matched case-insensitively).
    EmailContains(String),
}

impl AuditFilter {
    /// Blank values mean "no filter".
    pub fn parse(
        admin_username: Option<&str>,
        action_type: Option<&str>,
        search: Option<&str>,
    ) -> AuditFilter {
        let given = |s: Option<&str>| {
            s.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let search = given(search).map(|s| match s.parse::<i64>() {
            Ok(id) => AuditSearch::CustomerId(CustomerId(id)),
            Err(_) => AuditSearch::EmailContains(s.to_lowercase()),
        });
        AuditFilter {
            admin_username: given(admin_username),
            action_type: given(action_type),
            search,
        }
    }

    /// The search as the (customer id, email substring) pair the SQL binds.
    pub fn search_parts(&self) -> (Option<i64>, Option<&str>) {
        match &self.search {
            Some(AuditSearch::CustomerId(id)) => (Some(id.0), None),
            Some(AuditSearch::EmailContains(s)) => (None, Some(s.as_str())),
            None => (None, None),
        }
    }
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
    /// (active, inactive) account counts.
    async fn count_customers_by_status(&self) -> StoreResult<(u64, u64)>;
    /// Accounts by status and an optional case-insensitive search over name, email and
    /// ERP names; ordered by last name, first name, email.
    async fn list_customers(
        &self,
        status: StatusFilter,
        search: Option<&str>,
    ) -> StoreResult<Vec<Customer>>;
    /// The accounts with these ids (in any order; unknown ids are left out).
    async fn customers_by_ids(&self, ids: &[CustomerId]) -> StoreResult<Vec<Customer>>;
    /// Writes `changes`; ends the account's sessions when `end_sessions`; appends every
    /// audit row — all or nothing. `DuplicateEmail` when the email belongs to another account;
    /// `NotFound` (and nothing written or audited) when there is no such account.
    async fn update_customer(
        &self,
        id: CustomerId,
        changes: &CustomerChanges,
        end_sessions: bool,
        audits: &[NewAuditEntry],
    ) -> StoreResult<Customer>;
    /// Replaces the stored hash of the same password with a stronger one (after a
    /// successful sign-in with a legacy hash): no session ends, nothing is audited.
    async fn upgrade_password_hash(&self, id: CustomerId, password_hash: &str) -> StoreResult<()>;
    /// Sets a new hash, clears or sets the reset flag, ends every session of the customer
    /// except `keep_session`, marks every unused reset link of the account used (a link
    /// mailed before the change must not undo it), and appends `audit` — all or nothing. `NotFound` (and nothing
    /// written or audited) when there is no such account.
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
    /// One account's sessions, most recently seen first.
    async fn customer_sessions(&self, customer: CustomerId) -> StoreResult<Vec<ActiveSession>>;
    /// Deletes every session of `customer` but `keep`; appends `audit` only if one was
    /// deleted — all or nothing. How many were deleted.
    async fn end_other_customer_sessions(
        &self,
        customer: CustomerId,
        keep: &str,
        audit: &NewAuditEntry,
    ) -> StoreResult<u64>;
    /// Deletes sessions last seen before `idle_before` (idle past `SESSION_HOURS`) or
    /// created before `created_before` (past the absolute cap).
    async fn purge_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> StoreResult<u64>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<i64>;
    /// Installs (`true`) or removes (`false`) the database trigger that refuses updates and
    /// deletes of `AuditLog` rows (`AUDIT_APPEND_ONLY`). Off by default: an existing
    /// retention job of the old portal's database may delete old rows.
    async fn set_audit_append_only(&self, on: bool) -> StoreResult<()>;
    /// One page of the filtered log, newest first (by `log_id`, which only grows), starting
    /// below `before_id` when given, and the filtered total. Paging by key, not offset, so
    /// rows appended meanwhile never shift a page.
    async fn audit_page(
        &self,
        filter: &AuditFilter,
        before_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<(u64, Vec<AuditEntry>)>;
    /// Distinct admin names and action types, for the filter dropdowns.
    async fn audit_facets(&self) -> StoreResult<(Vec<String>, Vec<String>)>;
    /// Entries of one action type since `since`, oldest first.
    async fn audit_since(
        &self,
        action_type: &str,
        since: OffsetDateTime,
    ) -> StoreResult<Vec<AuditEntry>>;
    /// Emails with the most entries of `action_type`, most first.
    async fn top_audit_targets(
        &self,
        action_type: &str,
        limit: u32,
    ) -> StoreResult<Vec<(String, u64)>>;
    /// The latest entries of `action_type`, newest first.
    async fn latest_audit(&self, action_type: &str, limit: u32) -> StoreResult<Vec<AuditEntry>>;
}

#[async_trait]
pub trait AdminSessionStore: Send + Sync {
    /// Records an admin sign-in and appends its audit row.
    async fn begin_admin_session(
        &self,
        session: &AdminSession,
        audit: &NewAuditEntry,
    ) -> StoreResult<()>;
    async fn admin_session(&self, session_id: &str) -> StoreResult<Option<AdminSession>>;
    async fn touch_admin_session(&self, session_id: &str, at: OffsetDateTime) -> StoreResult<()>;
    async fn end_admin_session(
        &self,
        session_id: &str,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool>;
    /// As [`ActiveSessionStore::purge_sessions`], for admin sessions.
    async fn purge_admin_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> StoreResult<u64>;
}

/// What the sign-in throttle decides on, as it stood just before an attempt was recorded.
/// Attempts still being checked ("in flight") count with the failures of the name, but
/// not against the address: an office signing in at nine must not be refused for the
/// sign-ins it has not finished yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailureCounts {
    /// Failures and attempts in flight for this name.
    pub by_name: u64,
    /// Failures (settled: wrong passwords) from this address.
    pub by_address: u64,
    /// Failures and attempts in flight for this name from this address.
    pub by_name_and_address: u64,
    /// Attempts from this address being checked now.
    pub in_flight_by_address: u64,
    /// The latest failure or attempt for this name.
    pub last_for_name: Option<OffsetDateTime>,
}

/// The instants an attempt is counted against.
#[derive(Debug, Clone, Copy)]
pub struct AttemptWindow {
    pub now: OffsetDateTime,
    /// Failures before this no longer count.
    pub since: OffsetDateTime,
    /// An attempt still in flight from before this was never settled (its process
    /// stopped mid-check): it counts as a failure.
    pub settled_before: OffsetDateTime,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEnd {
    /// The throttle refused it before any password was checked: it leaves no trace.
    Refused,
    /// A wrong password: it stays, as a failure.
    Failed,
    /// A right password: it and every failure of the name go.
    Succeeded,
}

/// Failed sign-ins, for throttling password guessing across every instance of the portal.
/// Each decision reads the counts and records its attempt in one step (one transaction,
/// serialised per name and address on every backend), so no two instances can both pass
/// a limit that neither has counted yet.
#[async_trait]
pub trait LoginThrottleStore: Send + Sync {
    /// Records a failure that needed no check (a bot that filled the honeypot).
    async fn record_login_failure(
        &self,
        login_name: &str,
        ip: Option<&str>,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Reads the counts for `login_name` and `ip` and records a new attempt in flight, in
    /// one step; returns the attempt's id and the counts from before it.
    async fn begin_login_attempt(
        &self,
        login_name: &str,
        ip: Option<&str>,
        window: AttemptWindow,
    ) -> StoreResult<(i64, LoginFailureCounts)>;
    /// Settles an attempt begun by [`LoginThrottleStore::begin_login_attempt`].
    async fn end_login_attempt(
        &self,
        attempt: i64,
        login_name: &str,
        end: AttemptEnd,
    ) -> StoreResult<()>;
    /// Counts one event under `name` if fewer than `limit` were counted since `since`, in
    /// one step; returns how many there were before (the event was counted only when that
    /// is below `limit`).
    async fn count_event_below(
        &self,
        name: &str,
        limit: u64,
        since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<u64>;
    /// Forgets a name's failures (after a successful sign-in).
    async fn clear_login_failures(&self, login_name: &str) -> StoreResult<()>;
    async fn purge_login_failures_before(&self, cutoff: OffsetDateTime) -> StoreResult<u64>;
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
    /// The record as [`load_web_session`](Self::load_web_session) reads it and, when
    /// `customer_session` finds a customer's sign-in in its data, that sign-in as
    /// [`TeamStore::session_in_team`] reads it, with the account's saved views — in one
    /// trip where the backend can: every signed-in request reads the first two. The second part is `None` when it was not read here
    /// (no sign-in in the record, or a backend that reads it separately).
    async fn load_web_session_signed_in(
        &self,
        id: &str,
        now: OffsetDateTime,
        customer_session: for<'a> fn(&'a str) -> Option<String>,
    ) -> StoreResult<(Option<WebSessionRecord>, Option<ReadSignIn>)> {
        let _ = customer_session;
        Ok((self.load_web_session(id, now).await?, None))
    }
}

/// A customer sign-in read with its browser session.
#[derive(Debug, Clone)]
pub struct ReadSignIn {
    /// The `ActiveSessions` id the record names.
    pub session_id: String,
    /// What [`TeamStore::session_in_team`] found for it (`None`: the row is gone).
    pub found: Option<(ActiveSession, Customer, TeamPlace)>,
    /// The account's saved views as [`SavedViewStore::saved_views`] reads them (the
    /// inventory page's menu), when the sign-in was found and they were read with it.
    pub saved_views: Option<Vec<SavedView>>,
}

#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores the value unless the key exists; returns the value now stored.
    async fn setting_insert_if_absent(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Stores the value, replacing any (readiness writes a heartbeat this way).
    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()>;
}

/// An API token as stored (`ApiTokens`); the secret itself is never stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiTokenRecord {
    pub id: i64,
    pub name: String,
    /// Hex SHA-256 of the secret.
    pub token_hash: String,
    /// Space-separated scope names.
    pub scopes: String,
    /// `All`, a name, or names joined by `|` (the customers' rule); '' for none.
    pub erp_customer_name: String,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<String>,
    /// The token's own cost budget (rows per minute); `None`: the portal's default.
    pub rows_per_minute: Option<i64>,
}

#[async_trait]
pub trait ApiTokenStore: Send + Sync {
    /// Inserts the token (its `id` is ignored) and appends `audit` — all or nothing.
    async fn insert_api_token(
        &self,
        token: &ApiTokenRecord,
        audit: &NewAuditEntry,
    ) -> StoreResult<ApiTokenRecord>;
    /// Every token, newest first.
    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiTokenRecord>>;
    async fn api_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiTokenRecord>>;
    async fn touch_api_token(&self, id: i64, at: OffsetDateTime) -> StoreResult<()>;
    /// Marks the token revoked and appends `audit`, only if it was not revoked yet;
    /// `NotFound` when there is no such token. Returns whether this call revoked it.
    async fn revoke_api_token(
        &self,
        id: i64,
        by: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool>;
}

/// Self-service password reset links (`PasswordResetTokens`). Only a hash of each link's
/// secret is stored; `expiry_date` is UTC.
#[async_trait]
pub trait ResetTokenStore: Send + Sync {
    /// Stores a new link for the account and marks every earlier unused link of it used
    /// (a newer link replaces older ones); links expired before `now` are deleted. One
    /// transaction.
    async fn issue_reset_token(
        &self,
        customer: CustomerId,
        token_hash: &str,
        expiry: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<()>;
    /// The active account a link belongs to, if the link is unused and not expired.
    async fn reset_token_customer(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<Customer>>;
    /// Uses the link: marks it used, sets the new hash, clears `must_reset_password`, ends
    /// every session of the account and appends `audit` — all or nothing, and only if the
    /// link is still unused, unexpired and its account (`customer`) active. Returns whether
    /// it was used by this call.
    async fn use_reset_token(
        &self,
        token_hash: &str,
        customer: CustomerId,
        now: OffsetDateTime,
        password_hash: &str,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool>;
}

/// A minimum on-hand quantity for one part of one ERP customer (`PartMinimums`), shared by
/// every account that sees that customer.
#[derive(Debug, Clone, PartialEq)]
pub struct PartMinimum {
    /// As the ERP spells the customer.
    pub erp_customer_name: String,
    pub part: String,
    pub minimum_qty: f64,
    pub updated_at: OffsetDateTime,
    /// The email of the account that set it.
    pub updated_by: String,
}

#[async_trait]
pub trait PartMinimumStore: Send + Sync {
    /// The minimums of these ERP customers (exact names), by customer then part; `None`:
    /// of every customer.
    async fn part_minimums(&self, customers: Option<&[String]>) -> StoreResult<Vec<PartMinimum>>;
    /// Sets (inserts or replaces) the minimum of `m.part` of `m.erp_customer_name`.
    async fn set_part_minimum(&self, m: &PartMinimum) -> StoreResult<()>;
    /// Removes it; whether there was one.
    async fn remove_part_minimum(&self, customer: &str, part: &str) -> StoreResult<bool>;
}

/// A named view of the inventory grid kept by one account (`SavedViews`).
#[derive(Debug, Clone, PartialEq)]
pub struct SavedView {
    pub id: i64,
    pub customer_id: CustomerId,
    pub name: String,
    /// The view's URL parameters, normalised.
    pub query: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[async_trait]
pub trait SavedViewStore: Send + Sync {
    /// The account's views, by name.
    async fn saved_views(&self, customer: CustomerId) -> StoreResult<Vec<SavedView>>;
    /// One view, only if it belongs to `customer`.
    async fn saved_view(&self, customer: CustomerId, id: i64) -> StoreResult<Option<SavedView>>;
    /// `DuplicateName` when the account has a view of that name, `LimitReached` when it
    /// already has `max` views (counted and inserted in one step).
    async fn insert_saved_view(
        &self,
        customer: CustomerId,
        name: &str,
        query: &str,
        at: OffsetDateTime,
        max: u32,
    ) -> StoreResult<SavedView>;
    /// Renames the account's view; `NotFound` when it has no such view, `DuplicateName`
    /// when the name is taken.
    async fn rename_saved_view(
        &self,
        customer: CustomerId,
        id: i64,
        name: &str,
        at: OffsetDateTime,
    ) -> StoreResult<SavedView>;
    /// Deletes the account's view and the reports subscribed to it; whether it existed.
    async fn delete_saved_view(&self, customer: CustomerId, id: i64) -> StoreResult<bool>;
}

/// A scheduled report or alert (`ReportSubscriptions`).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSubscription {
    pub id: i64,
    pub customer_id: CustomerId,
    pub kind: ReportKind,
    /// `None`: the whole scope.
    pub view_id: Option<i64>,
    pub frequency: Frequency,
    /// 0 = Monday … 6 = Sunday (weekly only).
    pub weekday: Option<i64>,
    /// Hour of the day in `PORTAL_TIMEZONE`.
    pub hour: i64,
    pub format: FileFormat,
    pub paused: bool,
    pub paused_by: Option<String>,
    pub created_at: OffsetDateTime,
    pub next_run_at: OffsetDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<OffsetDateTime>,
    /// Failed tries of the current run.
    pub attempts: i64,
    pub last_sent_at: Option<OffsetDateTime>,
    pub last_status: Option<RunStatus>,
    pub last_error: Option<String>,
    pub sent_count: i64,
    /// The saved view's name (read with it); `None` for the whole scope.
    pub view_name: Option<String>,
}

/// What a new subscription starts with.
#[derive(Debug, Clone)]
pub struct NewReportSubscription {
    pub customer_id: CustomerId,
    pub kind: ReportKind,
    pub view_id: Option<i64>,
    pub frequency: Frequency,
    pub weekday: Option<i64>,
    pub hour: i64,
    pub format: FileFormat,
    pub created_at: OffsetDateTime,
    pub next_run_at: OffsetDateTime,
}

/// How one run of a subscription ended, written when its lease is given back.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub next_run_at: OffsetDateTime,
    pub attempts: i64,
    pub status: RunStatus,
    pub error: Option<String>,
    /// When a mail went out (also counts it).
    pub sent_at: Option<OffsetDateTime>,
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// `LimitReached` when the account already has `max` subscriptions (counted and
    /// inserted in one step).
    async fn insert_subscription(
        &self,
        new: &NewReportSubscription,
        max: u32,
    ) -> StoreResult<ReportSubscription>;
    /// One account's subscriptions, or every one (`None`), by customer then id.
    async fn subscriptions(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<ReportSubscription>>;
    async fn subscription(&self, id: i64) -> StoreResult<Option<ReportSubscription>>;
    /// Deletes it (only the account's own when `customer` is given); whether it existed.
    async fn delete_subscription(&self, id: i64, customer: Option<CustomerId>)
    -> StoreResult<bool>;
    /// Pauses or resumes (only the account's own when `customer` is given); `by` is kept.
    async fn set_subscription_paused(
        &self,
        id: i64,
        customer: Option<CustomerId>,
        paused: bool,
        by: Option<&str>,
    ) -> StoreResult<bool>;
    /// Ids of subscriptions due at `now`, not paused, whose lease is free or lapsed; oldest
    /// due first, at most `limit`.
    async fn due_subscriptions(&self, now: OffsetDateTime, limit: u32) -> StoreResult<Vec<i64>>;
    /// Takes the lease of a due subscription for `owner` until `until`, unless another
    /// instance holds an unexpired one: one conditional update, so exactly one instance
    /// wins. Whether `owner` now holds it.
    async fn claim_subscription(
        &self,
        id: i64,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Moves the end of `owner`'s lease to `until` while a long run is in progress; false
    /// when `owner` no longer holds it (it lapsed and another instance took it).
    async fn renew_subscription_lease(
        &self,
        id: i64,
        owner: &str,
        until: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Records the run and gives the lease back, only if `owner` still holds it; appends
    /// `audit` (when given) in the same transaction. Whether it was recorded.
    async fn finish_subscription(
        &self,
        id: i64,
        owner: &str,
        outcome: &RunOutcome,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool>;
}

/// What one day recorded of a part, or of an ERP customer's parts together (summed with
/// `+=`: the customer's totals, the scope's, a part held by several customers).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DayFigures {
    pub on_hand: f64,
    pub lots: i64,
    /// On hand in lots past their expiry date that day.
    pub expired_qty: f64,
    /// On hand in lots expiring within 30 days of that day.
    pub expiring_qty: f64,
    /// On hand in lots received since the capture before (a delivery).
    pub received_qty: f64,
}

impl std::ops::AddAssign for DayFigures {
    fn add_assign(&mut self, o: DayFigures) {
        self.on_hand += o.on_hand;
        self.lots += o.lots;
        self.expired_qty += o.expired_qty;
        self.expiring_qty += o.expiring_qty;
        self.received_qty += o.received_qty;
    }
}

/// One part of one ERP customer on one day (`InventoryHistory`).
#[derive(Debug, Clone, PartialEq)]
pub struct PartDay {
    pub erp_customer_name: String,
    pub part: String,
    pub day: time::Date,
    pub figures: DayFigures,
    /// Generated for the demo, not captured.
    pub demo: bool,
}

/// One ERP customer's parts together on one day (`HistoryTotals`).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerDay {
    pub erp_customer_name: String,
    pub day: time::Date,
    pub figures: DayFigures,
    pub parts: i64,
    pub demo: bool,
}

/// The inventory's daily history: written once a day by the instance that claims the
/// day, read by the history page, the forecasts and the API.
#[async_trait]
pub trait HistoryStore: Send + Sync {
    /// Takes the capture of `day` for `owner` until `until`: a day nobody has started, or
    /// one whose capture lapsed unfinished. One conditional write, so one instance wins;
    /// false for a finished day.
    async fn claim_history_day(
        &self,
        day: time::Date,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Writes a claimed day's rows, parts and totals, and marks it finished last, if
    /// `owner` still holds it (SQLite: one transaction; SQL Server: upserts in batches, so a
    /// write cut short is redone by the next claim). Whether it was recorded.
    async fn finish_history_day(
        &self,
        day: time::Date,
        owner: &str,
        parts: &[PartDay],
        totals: &[CustomerDay],
        now: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Writes rows generated for the demo (no claim; rows already there are kept).
    async fn insert_demo_history(
        &self,
        parts: &[PartDay],
        totals: &[CustomerDay],
    ) -> StoreResult<()>;
    /// Whether any day has been recorded.
    async fn has_history(&self) -> StoreResult<bool>;
    /// The days from `from` to `to` (both included) of `part` of these ERP customers
    /// (`None`: of every customer; `part` `None`: every part), ordered by customer, part
    /// and day, starting after the key `after`, at most `limit`.
    async fn part_history(
        &self,
        customers: Option<&[String]>,
        part: Option<&str>,
        from: time::Date,
        to: time::Date,
        after: Option<&(String, String, time::Date)>,
        limit: u32,
    ) -> StoreResult<Vec<PartDay>>;
    /// The totals of these ERP customers from `from` to `to`, by customer and day.
    async fn customer_history(
        &self,
        customers: Option<&[String]>,
        from: time::Date,
        to: time::Date,
    ) -> StoreResult<Vec<CustomerDay>>;
    /// Deletes at most `batch` part rows and their totals older than `before`; how many
    /// part rows went.
    async fn prune_history(&self, before: time::Date, batch: u32) -> StoreResult<u64>;
}

/// An account's second factor (`TwoFactor`).
#[derive(Clone, PartialEq)]
pub struct TwoFactorRecord {
    /// `customer:<id>`, or `staff-<method>:<username>` (`local`, `ad`).
    pub account_key: String,
    /// The TOTP secret, sealed under `SECRET_KEY`.
    pub secret_sealed: String,
    /// `None` while the enrolment is not confirmed.
    pub confirmed_at: Option<OffsetDateTime>,
    /// The time step of the last code accepted.
    pub last_step: Option<i64>,
    pub created_at: OffsetDateTime,
    /// "Trust this browser" marks issued before this no longer skip the code.
    pub trusted_since: Option<OffsetDateTime>,
}

impl std::fmt::Debug for TwoFactorRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwoFactorRecord")
            .field("account_key", &self.account_key)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

/// Two-step sign-in: one authenticator secret per account and its recovery codes. Every
/// "use once" is a single conditional write, so two instances can never both accept the
/// same code.
#[async_trait]
pub trait TwoFactorStore: Send + Sync {
    async fn two_factor(&self, account: &str) -> StoreResult<Option<TwoFactorRecord>>;
    /// Begins (or begins again) an enrolment with this sealed secret, replacing one not yet
    /// confirmed; `false`, and nothing written, when the account has a confirmed one.
    async fn begin_two_factor(
        &self,
        account: &str,
        secret_sealed: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Confirms the enrolment begun (browsers trusted from `at` on), records `step` as
    /// used, replaces the account's recovery codes with these hashes and appends `audit` —
    /// all or nothing; `false` when no unconfirmed enrolment is there.
    async fn confirm_two_factor(
        &self,
        account: &str,
        step: i64,
        code_hashes: &[String],
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool>;
    /// Records `step` as used if it is later than the last step used; whether this call
    /// did (a code is good once, on every instance).
    async fn use_two_factor_step(&self, account: &str, step: i64) -> StoreResult<bool>;
    /// Marks the account's unused recovery code with this hash used and appends `audit` —
    /// all or nothing; whether this call used it.
    async fn use_recovery_code(
        &self,
        account: &str,
        code_hash: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool>;
    /// The account's recovery codes not used yet.
    async fn recovery_codes_left(&self, account: &str) -> StoreResult<u32>;
    /// Replaces the account's recovery codes with these hashes.
    async fn replace_recovery_codes(
        &self,
        account: &str,
        code_hashes: &[String],
    ) -> StoreResult<()>;
    /// Browsers trusted before `at` must give a code again; appends `audit`; `false` (and
    /// nothing written) when two-step sign-in is not on.
    async fn forget_trusted_browsers(
        &self,
        account: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool>;
    /// Removes the account's second factor and its recovery codes, appending `audit` if
    /// there was one; whether there was.
    async fn remove_two_factor(&self, account: &str, audit: &NewAuditEntry) -> StoreResult<bool>;
}

/// Where an account stands in a customer's own team.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamPlace {
    /// The account is a team manager: it may invite and manage colleagues within its
    /// own scope.
    pub manager: bool,
    /// The account is a colleague of this manager.
    pub managed_by: Option<TeamLead>,
}

/// A colleague's manager as the colleague's scope is checked against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamLead {
    pub id: CustomerId,
    pub email: String,
    /// The manager's own stored scope (`Customers.erp_customer_name`).
    pub erp_customer_name: String,
}

/// Every team, for staff: who manages and who is managed by whom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamLinks {
    pub managers: Vec<CustomerId>,
    /// (colleague, manager).
    pub members: Vec<(CustomerId, CustomerId)>,
}

/// A customer's own team (`TeamManagers`, `TeamMembers`): which accounts manage a team
/// and which accounts are whose colleagues. The colleagues themselves are ordinary
/// `Customers` rows; invitations are `PasswordResetTokens` links.
#[async_trait]
pub trait TeamStore: Send + Sync {
    /// Where the account stands (one read).
    async fn team_place(&self, id: CustomerId) -> StoreResult<TeamPlace>;
    /// A session, its customer and the customer's place in a team, in one read: what
    /// every signed-in request checks.
    async fn session_in_team(
        &self,
        session_id: &str,
    ) -> StoreResult<Option<(ActiveSession, Customer, TeamPlace)>>;
    /// Makes the account a team manager (`on`) or stops it, then its colleagues are
    /// nobody's; appends `audit` — all or nothing, and only when something changed.
    /// Returns whether it did.
    async fn set_team_manager(
        &self,
        id: CustomerId,
        on: bool,
        by: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool>;
    /// Inserts the colleague's account, its place under `manager`, its invitation link
    /// (as a reset link: `token_hash`, `expiry`) and `audit` (its target id filled in) —
    /// one transaction. `DuplicateEmail` when the email has an account.
    async fn invite_colleague(
        &self,
        manager: CustomerId,
        new: &NewCustomer,
        token_hash: &str,
        expiry: OffsetDateTime,
        now: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<Customer>;
    /// A new invitation link for the colleague (earlier links stop working) and `audit`,
    /// in one transaction.
    async fn reissue_invitation(
        &self,
        colleague: CustomerId,
        token_hash: &str,
        expiry: OffsetDateTime,
        now: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<()>;
    /// The manager's colleagues, by last name, first name, email.
    async fn colleagues(&self, manager: CustomerId) -> StoreResult<Vec<Customer>>;
    /// Every team.
    async fn team_links(&self) -> StoreResult<TeamLinks>;
}

/// Everything the portal needs from its app database.
#[async_trait]
pub trait AppStore:
    CustomerStore
    + ActiveSessionStore
    + AuditStore
    + AdminSessionStore
    + LoginThrottleStore
    + WebSessionStore
    + SettingsStore
    + ApiTokenStore
    + ResetTokenStore
    + PartMinimumStore
    + SavedViewStore
    + ReportStore
    + HistoryStore
    + TwoFactorStore
    + TeamStore
{
    /// `sqlite` or `mssql`, for /healthz and logs.
    fn backend_name(&self) -> &'static str;
    /// A cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Connections lent out now and the most there may be, for `/metrics`.
    async fn pool_usage(&self) -> PoolUsage;
}

/// How much of the connection pool is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub in_use: u64,
    pub max: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_filters_are_interpreted_once() {
        let blank = AuditFilter::parse(Some(" "), Some(""), Some("  "));
        assert!(
            blank.admin_username.is_none() && blank.action_type.is_none() && blank.search.is_none()
        );
        assert_eq!(
            AuditFilter::parse(None, None, Some(" 42 ")).search_parts(),
            (Some(42), None)
        );
        assert_eq!(
            AuditFilter::parse(None, None, Some("Jane@Example")).search_parts(),
            (None, Some("jane@example"))
        );
    }
}
