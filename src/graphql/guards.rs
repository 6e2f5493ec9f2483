//! Who may call what: the portal's one access rule, in one place.
//!
//! **The rule.** Customer data (inventory rows, facets, ERP names of the account) is
//! shown only to a *customer viewer*: a request whose session row still exists, whose
//! account is active (both re-checked against the app database on every request before
//! a `Viewer` is built), and which is not on a temporary password. That customer sees
//! exactly the ERP scope parsed from their own account (`ErpScope`, never a raw string);
//! no argument can widen it. Admin data (accounts, audit, sessions, analytics, outbox)
//! is shown only to an *admin viewer*: a live admin session. Everybody else is
//! anonymous and gets nothing but `viewer`. An *API token* (an internal tool) is one more
//! kind of viewer: it reaches exactly the fields its scopes name ([`Scope`]) and nothing
//! a customer or an admin session alone may do (accounts' own pages, the outbox, token
//! management); its inventory is bounded by its ERP names under the customers' rule.
//! [`customer_access`], [`admin_access`], [`staff_access`] and [`inventory_grant`] are
//! that rule; the GraphQL guards, the web extractors and the layout all call them.
//! Inventory rows and admin-only services can only be reached through a grant
//! ([`InventoryGrant`], [`AdminGrant`]) that nothing but this module can construct, so a
//! handler physically cannot read rows or act as an admin without the rule having run.

use async_graphql::{Context, ErrorExtensions, Guard};

pub use crate::auth::tokens::Scope;
use crate::auth::{AdminIdentity, CustomerIdentity, Viewer};
use crate::domain::ErpScope;

/// Error codes in `extensions.code`, stable for tools and for the web layer's mapping.
pub mod codes {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const PASSWORD_CHANGE_REQUIRED: &str = "PASSWORD_CHANGE_REQUIRED";
    pub const INTERNAL: &str = "INTERNAL";
    pub const ERP_UNAVAILABLE: &str = "ERP_UNAVAILABLE";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// The app database cannot read or write right now (down, disk full, read-only).
    pub const APP_DB_UNAVAILABLE: &str = "APP_DB_UNAVAILABLE";
    /// A paging cursor whose snapshot is no longer kept: start again.
    pub const CURSOR_EXPIRED: &str = "CURSOR_EXPIRED";
    /// Too many requests: `extensions.retryAfter` says how many seconds to wait.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
}

/// A store failure for a resolver: unavailability (down, disk full, read-only) is said as
/// such, so pages answer 503 and tools can retry; anything else is an internal error.
/// Details go to the log, never to the caller.
pub fn store_error(e: &crate::store::StoreError) -> async_graphql::Error {
    tracing::error!(error = %e, "app database operation failed");
    match e {
        crate::store::StoreError::Unavailable(_) => coded_error(
            codes::APP_DB_UNAVAILABLE,
            "the portal database is temporarily unavailable; nothing was changed",
        ),
        _ => coded_error(codes::INTERNAL, "the portal database failed"),
    }
}

pub fn coded_error(code: &'static str, message: &str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// A `RATE_LIMITED` error with `extensions.retryAfter` (whole seconds, at least one); over
/// HTTP the answer is then `429` with `Retry-After`.
pub fn rate_limited(message: &str, wait: std::time::Duration) -> async_graphql::Error {
    let secs = wait.as_secs().max(1);
    coded_error(codes::RATE_LIMITED, message).extend_with(move |_, e| e.set("retryAfter", secs))
}

/// A `BAD_USER_INPUT` error whose `extensions.fields` maps form fields to messages.
pub fn field_errors<K: AsRef<str>>(
    fields: impl IntoIterator<Item = (K, String)>,
) -> async_graphql::Error {
    let fields: Vec<(String, String)> = fields
        .into_iter()
        .map(|(k, v)| (k.as_ref().to_owned(), v))
        .collect();
    let message = fields
        .iter()
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    async_graphql::Error::new(message).extend_with(|_, ext| {
        ext.set("code", codes::BAD_USER_INPUT);
        let mut map = async_graphql::indexmap::IndexMap::new();
        for (k, v) in &fields {
            map.insert(
                async_graphql::Name::new(k),
                async_graphql::Value::String(v.clone()),
            );
        }
        ext.set("fields", async_graphql::Value::Object(map));
    })
}

/// Why the rule said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// Nobody is signed in (or the session just ended).
    Unauthenticated,
    /// A customer on a temporary password: only the password change is open.
    PasswordChangeRequired,
    /// Signed in, but as the other kind of user.
    Forbidden,
}

impl Denied {
    pub fn code(self) -> &'static str {
        match self {
            Denied::Unauthenticated => codes::UNAUTHENTICATED,
            Denied::PasswordChangeRequired => codes::PASSWORD_CHANGE_REQUIRED,
            Denied::Forbidden => codes::FORBIDDEN,
        }
    }

    fn into_graphql(self) -> async_graphql::Error {
        let message = match self {
            Denied::Unauthenticated => "sign in first",
            Denied::PasswordChangeRequired => "change your temporary password first",
            Denied::Forbidden => "not allowed for this account",
        };
        coded_error(self.code(), message)
    }
}

/// The rule for customer data: a signed-in customer not on a temporary password.
pub fn customer_access(viewer: &Viewer) -> Result<&CustomerIdentity, Denied> {
    match viewer {
        Viewer::Customer(c) if c.must_reset_password => Err(Denied::PasswordChangeRequired),
        Viewer::Customer(c) => Ok(c),
        Viewer::Admin(_) | Viewer::Token(_) => Err(Denied::Forbidden),
        Viewer::Anonymous => Err(Denied::Unauthenticated),
    }
}

/// A signed-in customer, temporary password or not: only the password change asks this.
pub fn signed_in_customer(viewer: &Viewer) -> Result<&CustomerIdentity, Denied> {
    match viewer {
        Viewer::Customer(c) => Ok(c),
        Viewer::Admin(_) | Viewer::Token(_) => Err(Denied::Forbidden),
        Viewer::Anonymous => Err(Denied::Unauthenticated),
    }
}

/// The rule for what a person at the sign-in pages may do without signing in (ask for and
/// use a password reset link): a browser, signed out or signed in as a customer. Staff and
/// tokens never (an internal tool has no business mailing customers links).
pub fn public_visitor(viewer: &Viewer) -> Result<(), Denied> {
    match viewer {
        Viewer::Anonymous | Viewer::Customer(_) => Ok(()),
        Viewer::Admin(_) | Viewer::Token(_) => Err(Denied::Forbidden),
    }
}

/// The rule for what only a person at the admin pages may do (the outbox, ending a
/// session, managing tokens): a live admin session. Tokens never.
pub fn admin_access(viewer: &Viewer) -> Result<&AdminIdentity, Denied> {
    match viewer {
        Viewer::Admin(a) => Ok(a),
        Viewer::Customer(_) | Viewer::Token(_) => Err(Denied::Forbidden),
        Viewer::Anonymous => Err(Denied::Unauthenticated),
    }
}

/// The rule for admin data a tool may also be given: a live admin session, or a token
/// whose scopes name `scope`. The identity returned is who the audit log names (a
/// token acts as `api:<name>`).
pub fn staff_access(viewer: &Viewer, scope: Scope) -> Result<&AdminIdentity, Denied> {
    match viewer {
        Viewer::Admin(a) => Ok(a),
        Viewer::Token(t) if t.scopes.contains(scope) => Ok(&t.actor),
        Viewer::Customer(_) | Viewer::Token(_) => Err(Denied::Forbidden),
        Viewer::Anonymous => Err(Denied::Unauthenticated),
    }
}

/// The right to read one ERP scope's inventory. Only [`inventory_grant`] makes one, and
/// the inventory service reads rows for nothing else.
#[derive(Debug, Clone)]
pub struct InventoryGrant {
    scope: ErpScope,
}

impl InventoryGrant {
    pub fn scope(&self) -> &ErpScope {
        &self.scope
    }
}

/// The inventory the rule lets the viewer see, cut down to `narrow` (ERP names; never
/// wider): a customer their account's scope; a token with `inventory:read` its ERP names;
/// an admin session any customer's ("show me what Acme sees").
pub fn inventory_grant(
    viewer: &Viewer,
    narrow: Option<&[String]>,
) -> Result<InventoryGrant, Denied> {
    let scope = match viewer {
        Viewer::Token(t) if t.scopes.contains(Scope::InventoryRead) => &t.erp_scope,
        Viewer::Admin(_) => &ErpScope::All,
        _ => &customer_access(viewer)?.scope,
    };
    Ok(InventoryGrant {
        scope: scope.narrowed(narrow),
    })
}

/// The rule for a scheduled report or alert, made when it is sent: the subscriber's own
/// account, active and not on a temporary password (as for a signed-in customer), with
/// the scope parsed from that account as it is now. `None`: nothing may be sent.
pub fn report_grant(customer: &crate::store::Customer) -> Option<InventoryGrant> {
    (customer.is_active && !customer.must_reset_password).then(|| InventoryGrant {
        scope: ErpScope::parse(&customer.erp_customer_name),
    })
}

/// Proof that the rule admitted an admin; admin-only services take it.
#[derive(Debug, Clone, Copy)]
pub struct AdminGrant<'a> {
    admin: &'a AdminIdentity,
}

impl<'a> AdminGrant<'a> {
    pub fn admin(&self) -> &'a AdminIdentity {
        self.admin
    }
}

pub fn admin_grant(viewer: &Viewer) -> Result<AdminGrant<'_>, Denied> {
    admin_access(viewer).map(|admin| AdminGrant { admin })
}

/// An [`AdminGrant`] for an admin session or a token with `scope`.
pub fn staff_grant(viewer: &Viewer, scope: Scope) -> Result<AdminGrant<'_>, Denied> {
    staff_access(viewer, scope).map(|admin| AdminGrant { admin })
}

/// The caller of this operation; anonymous when no viewer was attached.
pub fn viewer<'a>(ctx: &Context<'a>) -> &'a Viewer {
    static ANONYMOUS: Viewer = Viewer::Anonymous;
    ctx.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
}

/// [`customer_access`] for a resolver.
pub fn require_customer<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a CustomerIdentity> {
    customer_access(viewer(ctx)).map_err(Denied::into_graphql)
}

/// [`inventory_grant`] for a resolver.
pub fn require_inventory(
    ctx: &Context<'_>,
    narrow: Option<&[String]>,
) -> async_graphql::Result<InventoryGrant> {
    inventory_grant(viewer(ctx), narrow).map_err(Denied::into_graphql)
}

/// [`signed_in_customer`] for a resolver.
pub fn require_signed_in_customer<'a>(
    ctx: &Context<'a>,
) -> async_graphql::Result<&'a CustomerIdentity> {
    signed_in_customer(viewer(ctx)).map_err(Denied::into_graphql)
}

/// [`admin_grant`] for a resolver.
pub fn require_admin<'a>(ctx: &Context<'a>) -> async_graphql::Result<AdminGrant<'a>> {
    admin_grant(viewer(ctx)).map_err(Denied::into_graphql)
}

/// [`staff_grant`] for a resolver.
pub fn require_staff<'a>(ctx: &Context<'a>, scope: Scope) -> async_graphql::Result<AdminGrant<'a>> {
    staff_grant(viewer(ctx), scope).map_err(Denied::into_graphql)
}

/// `#[graphql(guard = "PublicGuard")]`: see [`public_visitor`].
pub struct PublicGuard;

impl Guard for PublicGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        public_visitor(viewer(ctx)).map_err(Denied::into_graphql)
    }
}

/// `#[graphql(guard = "CustomerGuard")]`
pub struct CustomerGuard;

impl Guard for CustomerGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        require_customer(ctx).map(|_| ())
    }
}

/// `#[graphql(guard = "AdminGuard")]`: admin sessions only.
pub struct AdminGuard;

impl Guard for AdminGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        require_admin(ctx).map(|_| ())
    }
}

/// `#[graphql(guard = "StaffGuard(Scope::AuditRead)")]`: an admin session, or a token
/// whose scopes name the scope.
pub struct StaffGuard(pub Scope);

impl Guard for StaffGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        require_staff(ctx, self.0).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema};

    use super::*;
    use crate::domain::CustomerId;

    struct Q;
    #[Object]
    impl Q {
        #[graphql(guard = "CustomerGuard")]
        async fn customer_only(&self) -> bool {
            true
        }
        #[graphql(guard = "AdminGuard")]
        async fn admin_only(&self) -> bool {
            true
        }
    }

    fn customer(must_reset: bool) -> Viewer {
        Viewer::Customer(CustomerIdentity {
            customer_id: CustomerId(1),
            session_id: "s".into(),
            email: "a@b.co".into(),
            first_name: "A".into(),
            last_name: None,
            scope: ErpScope::All,
            must_reset_password: must_reset,
        })
    }

    async fn codes_for(viewer: Viewer) -> (Option<String>, Option<String>) {
        let schema = Schema::new(Q, EmptyMutation, EmptySubscription);
        let code = |field: &str| {
            let schema = schema.clone();
            let viewer = viewer.clone();
            let q = format!("{{ {field} }}");
            async move {
                let resp = schema.execute(Request::new(q).data(viewer)).await;
                resp.errors.first().and_then(|e| {
                    e.extensions
                        .as_ref()
                        .and_then(|x| x.get("code"))
                        .map(|v| v.to_string().trim_matches('"').to_owned())
                })
            }
        };
        (code("customerOnly").await, code("adminOnly").await)
    }

    #[tokio::test]
    async fn guards_decide_by_viewer() {
        assert_eq!(
            codes_for(Viewer::Anonymous).await,
            (
                Some("UNAUTHENTICATED".into()),
                Some("UNAUTHENTICATED".into())
            )
        );
        assert_eq!(
            codes_for(customer(false)).await,
            (None, Some("FORBIDDEN".into()))
        );
        assert_eq!(
            codes_for(customer(true)).await.0,
            Some("PASSWORD_CHANGE_REQUIRED".into())
        );
        let admin = Viewer::Admin(AdminIdentity {
            username: "cp_admin".into(),
            display_name: "Admin".into(),
            session_id: "a".into(),
            auth_method: "local".into(),
        });
        assert_eq!(codes_for(admin).await, (Some("FORBIDDEN".into()), None));
    }
}
