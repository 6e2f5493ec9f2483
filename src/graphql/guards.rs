//! Who may call what. Every resolver that returns portal data is guarded here, so a page
//! (which runs the same operations in-process) can never show what the API would refuse.

use async_graphql::{Context, ErrorExtensions, Guard};

use crate::auth::{AdminIdentity, CustomerIdentity, Viewer};

/// Error codes in `extensions.code`, stable for tools and for the web layer's mapping.
pub mod codes {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const PASSWORD_CHANGE_REQUIRED: &str = "PASSWORD_CHANGE_REQUIRED";
    pub const INTERNAL: &str = "INTERNAL";
    pub const ERP_UNAVAILABLE: &str = "ERP_UNAVAILABLE";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
}

pub fn coded_error(code: &'static str, message: &str) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// The caller of this operation; anonymous when no viewer was attached.
pub fn viewer<'a>(ctx: &Context<'a>) -> &'a Viewer {
    static ANONYMOUS: Viewer = Viewer::Anonymous;
    ctx.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
}

/// A customer who may see data: signed in and not on a temporary password.
pub fn require_customer<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a CustomerIdentity> {
    match viewer(ctx) {
        Viewer::Customer(c) if c.must_reset_password => Err(coded_error(
            codes::PASSWORD_CHANGE_REQUIRED,
            "change your temporary password first",
        )),
        Viewer::Customer(c) => Ok(c),
        Viewer::Admin(_) => Err(coded_error(codes::FORBIDDEN, "customers only")),
        Viewer::Anonymous => Err(coded_error(codes::UNAUTHENTICATED, "sign in first")),
    }
}

/// The ERP scope of the calling customer, from their account and nothing else. The
/// `inventory` resolver and the exports both take the scope from here.
pub fn customer_scope(ctx: &Context<'_>) -> async_graphql::Result<crate::domain::ErpScope> {
    require_customer(ctx).map(|c| crate::domain::ErpScope::parse(&c.erp_customer_name))
}

/// The same rule for code outside GraphQL (the export endpoints).
pub fn scope_of(viewer: &Viewer) -> Option<crate::domain::ErpScope> {
    match viewer {
        Viewer::Customer(c) if !c.must_reset_password => {
            Some(crate::domain::ErpScope::parse(&c.erp_customer_name))
        }
        _ => None,
    }
}

pub fn require_admin<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a AdminIdentity> {
    match viewer(ctx) {
        Viewer::Admin(a) => Ok(a),
        Viewer::Customer(_) => Err(coded_error(codes::FORBIDDEN, "admins only")),
        Viewer::Anonymous => Err(coded_error(codes::UNAUTHENTICATED, "sign in first")),
    }
}

/// `#[graphql(guard = "CustomerGuard")]`
pub struct CustomerGuard;

impl Guard for CustomerGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        require_customer(ctx).map(|_| ())
    }
}

/// `#[graphql(guard = "AdminGuard")]`
pub struct AdminGuard;

impl Guard for AdminGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        require_admin(ctx).map(|_| ())
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
            erp_customer_name: "All".into(),
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
