//! The app-database ports resolvers take from the schema's context, and how their
//! failures read to a caller.

use std::sync::Arc;

use async_graphql::Context;

use crate::store::{ActiveSessionStore, AuditStore, CustomerStore, StoreError};

pub fn customer_store<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn CustomerStore>> {
    ctx.data::<Arc<dyn CustomerStore>>()
}

pub fn audit_store<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn AuditStore>> {
    ctx.data::<Arc<dyn AuditStore>>()
}

pub fn session_store<'a>(
    ctx: &Context<'a>,
) -> async_graphql::Result<&'a Arc<dyn ActiveSessionStore>> {
    ctx.data::<Arc<dyn ActiveSessionStore>>()
}

/// A store failure as a resolver's error (see [`super::guards::store_error`]).
pub fn internal(e: impl std::borrow::Borrow<StoreError>) -> async_graphql::Error {
    super::guards::store_error(e.borrow())
}
