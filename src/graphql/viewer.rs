//! `viewer`: who is asking.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object};

use super::customer::CustomerNode;
use super::guards::{self, coded_error, codes};
use crate::auth::Viewer;
use crate::store::CustomerStore;

#[derive(Default)]
pub struct ViewerQuery;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ViewerKind {
    Customer,
    Admin,
    Anonymous,
    /// An internal tool with an API token.
    Token,
}

/// The caller of the operation.
pub struct ViewerInfo(Viewer);

#[Object]
impl ViewerQuery {
    /// Who is asking: a customer, an admin, or nobody. Never fails.
    async fn viewer(&self, ctx: &Context<'_>) -> ViewerInfo {
        ViewerInfo(guards::viewer(ctx).clone())
    }
}

#[Object(name = "Viewer")]
impl ViewerInfo {
    async fn kind(&self) -> ViewerKind {
        match self.0 {
            Viewer::Anonymous => ViewerKind::Anonymous,
            Viewer::Customer(_) => ViewerKind::Customer,
            Viewer::Admin(_) => ViewerKind::Admin,
            Viewer::Token(_) => ViewerKind::Token,
        }
    }

    /// The name shown in the navbar.
    async fn display_name(&self) -> Option<String> {
        self.0.display_name()
    }

    /// True while a customer is on a temporary password and may only change it.
    async fn must_change_password(&self) -> bool {
        matches!(
            guards::customer_access(&self.0),
            Err(guards::Denied::PasswordChangeRequired)
        )
    }

    /// The signed-in customer's own account (null for admins and anonymous callers).
    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CustomerNode>> {
        let Viewer::Customer(who) = &self.0 else {
            return Ok(None);
        };
        let store = ctx.data::<Arc<dyn CustomerStore>>()?;
        let customer = store.customer_by_id(who.customer_id).await.map_err(|e| {
            tracing::error!(error = %e, "viewer customer lookup failed");
            coded_error(codes::INTERNAL, "the portal database is unavailable")
        })?;
        Ok(customer.map(CustomerNode::from))
    }

    /// The admin's username (null unless an admin is asking).
    async fn admin_username(&self) -> Option<String> {
        match &self.0 {
            Viewer::Admin(a) => Some(a.username.clone()),
            _ => None,
        }
    }
}
