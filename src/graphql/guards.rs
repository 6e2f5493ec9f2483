//! The access rule, as GraphQL sees it: guards and `require_*` helpers that call the rule
//! (`auth::access`) and turn its refusals into coded errors, and the error codes tools
//! and the web layer rely on.

use async_graphql::{Context, ErrorExtensions, Guard};

pub use crate::auth::access::*;
pub use crate::auth::tokens::Scope;
use crate::auth::{CustomerIdentity, Viewer};
/// Error codes in `extensions.code`, stable for tools and for the web layer's mapping.
pub mod codes {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const PASSWORD_CHANGE_REQUIRED: &str = "PASSWORD_CHANGE_REQUIRED";
    /// Two-step sign-in is required (`REQUIRE_2FA`) and not on yet: only enrolling is open.
    pub const TWO_FACTOR_REQUIRED: &str = "TWO_FACTOR_REQUIRED";
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

impl Denied {
    pub fn code(self) -> &'static str {
        match self {
            Denied::Unauthenticated => codes::UNAUTHENTICATED,
            Denied::PasswordChangeRequired => codes::PASSWORD_CHANGE_REQUIRED,
            Denied::Forbidden => codes::FORBIDDEN,
            Denied::TwoFactorEnrolmentRequired => codes::TWO_FACTOR_REQUIRED,
        }
    }

    fn into_graphql(self) -> async_graphql::Error {
        let message = match self {
            Denied::Unauthenticated => "sign in first",
            Denied::PasswordChangeRequired => "change your temporary password first",
            Denied::Forbidden => "not allowed for this account",
            Denied::TwoFactorEnrolmentRequired => "turn two-step sign-in on first",
        };
        coded_error(self.code(), message)
    }
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

/// [`enroller`] for a resolver.
pub fn require_enroller<'a>(ctx: &Context<'a>) -> async_graphql::Result<Enroller<'a>> {
    enroller(viewer(ctx)).map_err(Denied::into_graphql)
}

/// [`team_grant`] for a resolver.
pub fn require_team_manager<'a>(ctx: &Context<'a>) -> async_graphql::Result<TeamGrant<'a>> {
    team_grant(viewer(ctx)).map_err(Denied::into_graphql)
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
    use crate::auth::AdminIdentity;
    use crate::domain::{CustomerId, ErpScope};

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
            must_enrol_two_factor: false,
            team: Default::default(),
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
            must_enrol_two_factor: false,
        });
        assert_eq!(codes_for(admin).await, (Some("FORBIDDEN".into()), None));
    }
}
