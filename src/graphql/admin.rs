//! Admin queries and mutations: customers, audit log, live sessions, analytics. Every
//! field here is behind `AdminGuard` (admin sessions) or `StaffGuard` (admin sessions, or
//! API tokens whose scopes name it); lists that show customers beside sessions or audit
//! rows load them through a DataLoader (one store call per request, not per row).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use time::OffsetDateTime;

use super::analytics::Analytics;
use super::cursor::{CursorKey, KeyCursorError};
use super::customer::CustomerNode;
use super::guards::{
    AdminGrant, AdminGuard, Scope, StaffGuard, coded_error, codes, field_errors, require_admin,
    require_staff,
};
use super::stores::{audit_store, customer_store, internal, session_store};
use crate::customers::{
    CustomerAdmin, CustomerError, CustomerInput as ServiceInput, PasswordIssued,
};
use crate::domain::CustomerId;
use crate::store::{
    ActiveSession, AuditEntry, AuditFilter, CustomerStore, StatusFilter, StoreError,
};

/// Loads customers by id in one store call per batch.
pub struct CustomerLoader(pub Arc<dyn CustomerStore>);

impl Loader<CustomerId> for CustomerLoader {
    type Value = CustomerNode;
    type Error = Arc<StoreError>;

    async fn load(
        &self,
        keys: &[CustomerId],
    ) -> Result<HashMap<CustomerId, CustomerNode>, Self::Error> {
        let rows = self.0.customers_by_ids(keys).await.map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .map(|c| (c.id, CustomerNode::from(c)))
            .collect())
    }
}

pub(super) fn parse_id(id: &ID) -> async_graphql::Result<CustomerId> {
    id.parse::<i64>()
        .map(CustomerId)
        .map_err(|_| coded_error(codes::BAD_USER_INPUT, "invalid customer id"))
}

pub(super) fn customer_error(e: CustomerError) -> async_graphql::Error {
    match e {
        CustomerError::Invalid(fields) => field_errors(fields),
        CustomerError::NotFound => coded_error(codes::NOT_FOUND, "no such customer"),
        CustomerError::Store(e) => internal(e),
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum CustomerStatus {
    #[default]
    Active,
    Inactive,
    All,
}

impl From<CustomerStatus> for StatusFilter {
    fn from(s: CustomerStatus) -> Self {
        match s {
            CustomerStatus::Active => StatusFilter::Active,
            CustomerStatus::Inactive => StatusFilter::Inactive,
            CustomerStatus::All => StatusFilter::All,
        }
    }
}

#[derive(InputObject, Debug, Clone, Default)]
pub struct AuditLogFilter {
    pub admin_username: Option<String>,
    pub action_type: Option<String>,
    /// A customer email (part of it) or a customer id.
    pub search: Option<String>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct AuditLogEntry {
    pub id: ID,
    pub timestamp: OffsetDateTime,
    pub admin_username: String,
    pub action_type: String,
    pub target_customer_id: Option<ID>,
    pub target_customer_email: Option<String>,
    /// Text or JSON, as recorded.
    pub details: Option<String>,
}

impl From<AuditEntry> for AuditLogEntry {
    fn from(e: AuditEntry) -> Self {
        AuditLogEntry {
            id: ID(e.id.to_string()),
            timestamp: e.timestamp,
            admin_username: e.admin_username,
            action_type: e.action_type,
            target_customer_id: e.target_customer_id.map(|c| ID(c.0.to_string())),
            target_customer_email: e.target_customer_email,
            details: e.details,
        }
    }
}

/// Written through the executor (entries are few and small).
impl super::streamed::PlainJson for AuditLogEntry {}

#[derive(Debug, Clone)]
pub struct AuditLogPage {
    pub total_count: i32,
    pub entries: Vec<AuditLogEntry>,
    pub next_cursor: Option<String>,
    pub admin_usernames: Vec<String>,
    pub action_types: Vec<String>,
}

#[Object]
impl AuditLogPage {
    async fn total_count(&self) -> i32 {
        self.total_count
    }
    async fn entries(&self) -> super::streamed::StreamedList<'_, AuditLogEntry> {
        super::streamed::StreamedList(&self.entries)
    }
    async fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }
    /// Values for the filter dropdowns.
    async fn admin_usernames(&self) -> &[String] {
        &self.admin_usernames
    }
    async fn action_types(&self) -> &[String] {
        &self.action_types
    }
}

/// A signed-in customer browser.
pub struct ActiveSessionNode {
    session_id: String,
    customer_id: CustomerId,
    ip_address: Option<String>,
    user_agent: Option<String>,
    last_seen: OffsetDateTime,
    created_at: OffsetDateTime,
}

#[Object(name = "ActiveSession")]
impl ActiveSessionNode {
    async fn session_id(&self) -> &str {
        &self.session_id
    }
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CustomerNode>> {
        let loader = ctx.data::<DataLoader<CustomerLoader>>()?;
        loader
            .load_one(self.customer_id)
            .await
            .map_err(|e| internal(&*e))
    }
    async fn ip_address(&self) -> Option<&str> {
        self.ip_address.as_deref()
    }
    async fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }
    async fn last_seen(&self) -> OffsetDateTime {
        self.last_seen
    }
    async fn created_at(&self) -> OffsetDateTime {
        self.created_at
    }
}

/// One page of `customerPage`.
#[derive(SimpleObject)]
pub struct CustomerPage {
    pub total_count: i32,
    pub next_cursor: Option<String>,
    pub customers: Vec<CustomerNode>,
}

/// One page of `activeSessionPage`.
#[derive(SimpleObject)]
pub struct ActiveSessionPage {
    pub total_count: i32,
    pub next_cursor: Option<String>,
    pub sessions: Vec<ActiveSessionNode>,
}

/// One page of `rows` ordered by `key`: those after `after`, at most `first` (1–500), and
/// the key of the last one when more follow (what the next cursor holds).
fn page_by_key<T, K: Ord>(
    mut rows: Vec<T>,
    key: impl Fn(&T) -> K,
    after: Option<&K>,
    first: i32,
) -> (Vec<T>, Option<K>) {
    rows.sort_by_key(&key);
    let first = first.clamp(1, 500) as usize;
    let mut page: Vec<T> = rows
        .into_iter()
        .filter(|r| after.is_none_or(|a| key(r) > *a))
        .collect();
    let more = page.len() > first;
    page.truncate(first);
    let next = if more { page.last().map(&key) } else { None };
    (page, next)
}

impl From<ActiveSession> for ActiveSessionNode {
    fn from(s: ActiveSession) -> Self {
        ActiveSessionNode {
            session_id: s.session_id,
            customer_id: s.customer_id,
            ip_address: s.ip_address,
            user_agent: s.user_agent,
            last_seen: s.last_seen,
            created_at: s.created_at,
        }
    }
}

fn cursor_error(e: KeyCursorError) -> async_graphql::Error {
    match e {
        KeyCursorError::Invalid => coded_error(codes::BAD_USER_INPUT, "invalid cursor"),
        KeyCursorError::Mismatch => coded_error(
            codes::BAD_USER_INPUT,
            "cursor does not match this query (filter)",
        ),
    }
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Customer accounts by status (Active by default) and an optional search.
    #[graphql(guard = "StaffGuard(Scope::CustomersRead)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] status: CustomerStatus,
        search: Option<String>,
    ) -> async_graphql::Result<Vec<CustomerNode>> {
        let rows = customer_store(ctx)?
            .list_customers(status.into(), search.as_deref())
            .await
            .map_err(internal)?;
        Ok(rows.into_iter().map(CustomerNode::from).collect())
    }

    /// Customer accounts a page at a time, by id, for tools: the same filter as
    /// `customers`; `nextCursor` (signed, bound to the filter) is null on the last page.
    /// Accounts created meanwhile come after the ones already paged; none appears twice.
    #[graphql(guard = "StaffGuard(Scope::CustomersRead)")]
    async fn customer_page(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] status: CustomerStatus,
        search: Option<String>,
        #[graphql(default = 100)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<CustomerPage> {
        let key = ctx.data::<CursorKey>()?;
        let view = format!("customers:{status:?}:{search:?}");
        let after_id = match after.as_deref() {
            None | Some("") => None,
            Some(c) => Some(key.open(c, &view).map_err(cursor_error)?),
        };
        let rows = customer_store(ctx)?
            .list_customers(status.into(), search.as_deref())
            .await
            .map_err(internal)?;
        let total = rows.len();
        let (page, next) = page_by_key(rows, |c| c.id.0, after_id.as_ref(), first);
        Ok(CustomerPage {
            total_count: total as i32,
            next_cursor: next.map(|id| key.issue(id, &view)),
            customers: page.into_iter().map(CustomerNode::from).collect(),
        })
    }

    #[graphql(guard = "StaffGuard(Scope::CustomersRead)")]
    async fn customer(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<CustomerNode>> {
        let id = parse_id(&id)?;
        Ok(customer_store(ctx)?
            .customer_by_id(id)
            .await
            .map_err(internal)?
            .map(CustomerNode::from))
    }

    /// The audit log, newest first.
    #[graphql(guard = "StaffGuard(Scope::AuditRead)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditLogFilter>,
        #[graphql(default = 50)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<AuditLogPage> {
        let f = filter.unwrap_or_default();
        let filter = AuditFilter::parse(
            f.admin_username.as_deref(),
            f.action_type.as_deref(),
            f.search.as_deref(),
        );
        // A cursor is bound to the filter it was made for.
        let view = format!("{filter:?}");
        let key = ctx.data::<CursorKey>()?;
        let before = match after.as_deref() {
            None | Some("") => None,
            Some(c) => Some(key.open(c, &view).map_err(|e| match e {
                KeyCursorError::Invalid => coded_error(codes::BAD_USER_INPUT, "invalid cursor"),
                KeyCursorError::Mismatch => coded_error(
                    codes::BAD_USER_INPUT,
                    "cursor does not match this query (filter)",
                ),
            })?),
        };
        let first = first.clamp(1, 500) as u32;
        let s = audit_store(ctx)?;
        // One row more than asked says whether there is a next page.
        let (total, mut entries) = s
            .audit_page(&filter, before, first + 1)
            .await
            .map_err(internal)?;
        let more = entries.len() > first as usize;
        entries.truncate(first as usize);
        let (admins, actions) = s.audit_facets().await.map_err(internal)?;
        let next_cursor = match (more, entries.last()) {
            (true, Some(last)) => Some(key.issue(last.id, &view)),
            _ => None,
        };
        Ok(AuditLogPage {
            total_count: total as i32,
            next_cursor,
            entries: entries.into_iter().map(AuditLogEntry::from).collect(),
            admin_usernames: admins,
            action_types: actions,
        })
    }

    /// Signed-in customers a page at a time, by session id, for tools; `nextCursor`
    /// (signed) is null on the last page. Sessions that end meanwhile simply do not
    /// appear; none appears twice.
    #[graphql(guard = "StaffGuard(Scope::SessionsRead)")]
    async fn active_session_page(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
        after: Option<String>,
    ) -> async_graphql::Result<ActiveSessionPage> {
        let key = ctx.data::<CursorKey>()?;
        let view = "activeSessions";
        let after_id = match after.as_deref() {
            None | Some("") => None,
            Some(c) => Some(key.open_text(c, view).map_err(cursor_error)?),
        };
        let rows = session_store(ctx)?
            .list_active_sessions()
            .await
            .map_err(internal)?;
        let total = rows.len();
        let (page, next) = page_by_key(rows, |s| s.session_id.clone(), after_id.as_ref(), first);
        Ok(ActiveSessionPage {
            total_count: total as i32,
            next_cursor: next.map(|id| key.issue_text(&id, view)),
            sessions: page.into_iter().map(ActiveSessionNode::from).collect(),
        })
    }

    /// Customers signed in now, most recently seen first.
    #[graphql(guard = "StaffGuard(Scope::SessionsRead)")]
    async fn active_sessions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<ActiveSessionNode>> {
        let rows = session_store(ctx)?
            .list_active_sessions()
            .await
            .map_err(internal)?;
        Ok(rows.into_iter().map(ActiveSessionNode::from).collect())
    }

    #[graphql(guard = "StaffGuard(Scope::AnalyticsRead)")]
    async fn analytics(&self) -> Analytics {
        Analytics::default()
    }
}

#[derive(InputObject, Debug, Clone)]
pub struct CustomerInput {
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: String,
    /// `["All"]` or ERP customer names; saved as the sorted `|` list.
    pub erp_customer_names: Vec<String>,
}

#[derive(InputObject, Debug, Clone)]
pub struct CustomerUpdateInput {
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: String,
    pub erp_customer_names: Vec<String>,
    pub is_active: Option<bool>,
}

/// An account change that issued a temporary password.
#[derive(SimpleObject, Debug, Clone)]
pub struct PasswordIssuedPayload {
    pub customer: CustomerNode,
    /// The mail was handed to the mail server (or, in demo mode, written to the outbox).
    pub email_sent: bool,
    /// Demo mode: the mail went to the outbox folder, not to the customer.
    pub kept_in_outbox: bool,
    /// Only when the mail could not be sent, so the admin can pass it on.
    pub temporary_password: Option<String>,
}

impl From<PasswordIssued> for PasswordIssuedPayload {
    fn from(p: PasswordIssued) -> Self {
        PasswordIssuedPayload {
            customer: p.customer.into(),
            email_sent: p.email_sent,
            kept_in_outbox: p.kept_in_outbox,
            temporary_password: p.temporary_password,
        }
    }
}

impl From<CustomerInput> for ServiceInput {
    fn from(i: CustomerInput) -> Self {
        ServiceInput {
            first_name: i.first_name,
            last_name: i.last_name.unwrap_or_default(),
            email: i.email,
            erp_customer_names: i.erp_customer_names,
            is_active: None,
        }
    }
}

impl From<CustomerUpdateInput> for ServiceInput {
    fn from(i: CustomerUpdateInput) -> Self {
        ServiceInput {
            first_name: i.first_name,
            last_name: i.last_name.unwrap_or_default(),
            email: i.email,
            erp_customer_names: i.erp_customer_names,
            is_active: i.is_active,
        }
    }
}

/// The admin (or token, acting as `api:<name>`) making a change, and the service that
/// makes it (every change is audited under that name). `None`: admin sessions only.
fn acting_admin<'a>(
    ctx: &Context<'a>,
    scope: Option<Scope>,
) -> async_graphql::Result<(AdminGrant<'a>, &'a CustomerAdmin)> {
    let grant = match scope {
        Some(scope) => require_staff(ctx, scope)?,
        None => require_admin(ctx)?,
    };
    Ok((grant, ctx.data::<Arc<CustomerAdmin>>()?.as_ref()))
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    #[graphql(guard = "StaffGuard(Scope::CustomersWrite)")]
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        input: CustomerInput,
    ) -> async_graphql::Result<PasswordIssuedPayload> {
        let (actor, service) = acting_admin(ctx, Some(Scope::CustomersWrite))?;
        service
            .create(&actor, &input.into())
            .await
            .map(Into::into)
            .map_err(customer_error)
    }

    #[graphql(guard = "StaffGuard(Scope::CustomersWrite)")]
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: CustomerUpdateInput,
    ) -> async_graphql::Result<CustomerNode> {
        let (actor, service) = acting_admin(ctx, Some(Scope::CustomersWrite))?;
        service
            .update(&actor, parse_id(&id)?, &input.into())
            .await
            .map(Into::into)
            .map_err(customer_error)
    }

    #[graphql(guard = "StaffGuard(Scope::CustomersWrite)")]
    async fn set_customer_active(
        &self,
        ctx: &Context<'_>,
        id: ID,
        active: bool,
    ) -> async_graphql::Result<CustomerNode> {
        let (actor, service) = acting_admin(ctx, Some(Scope::CustomersWrite))?;
        service
            .set_active(&actor, parse_id(&id)?, active)
            .await
            .map(Into::into)
            .map_err(customer_error)
    }

    #[graphql(guard = "StaffGuard(Scope::CustomersWrite)")]
    async fn reset_customer_password(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<PasswordIssuedPayload> {
        let (actor, service) = acting_admin(ctx, Some(Scope::CustomersWrite))?;
        service
            .reset_password(&actor, parse_id(&id)?)
            .await
            .map(Into::into)
            .map_err(customer_error)
    }

    /// Turns a customer's two-step sign-in off without their code (a lost phone): their
    /// next sign-in asks for the password only. Audited under the admin's name
    /// (`TWO_FACTOR_RESET`) and mailed to the customer. Whether it was on (`false`: nothing
    /// changed, nothing mailed).
    #[graphql(guard = "AdminGuard")]
    async fn reset_customer_two_factor(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<bool> {
        let (actor, service) = acting_admin(ctx, None)?;
        let two_factor = ctx.data::<Arc<crate::auth::two_factor::TwoFactor>>()?;
        service
            .reset_two_factor(&actor, parse_id(&id)?, two_factor)
            .await
            .map(|(_, was_on)| was_on)
            .map_err(customer_error)
    }

    /// Ends a customer session; the customer is signed out on their next request.
    #[graphql(guard = "AdminGuard")]
    async fn kick_session(
        &self,
        ctx: &Context<'_>,
        session_id: String,
    ) -> async_graphql::Result<bool> {
        let (actor, service) = acting_admin(ctx, None)?;
        service
            .kick(&actor, &session_id)
            .await
            .map_err(customer_error)
    }
}
