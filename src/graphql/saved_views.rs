//! Saved views: `savedViews`, `saveView`, `renameSavedView`, `deleteSavedView`. A view is
//! the grid's URL parameters under a name, kept per account; it never carries a scope
//! (rows always come from the account's own), so a saved view cannot widen anything.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, SimpleObject};
use time::OffsetDateTime;

use super::guards::{
    CustomerGuard, coded_error, codes, field_errors, require_customer, store_error,
};
use crate::inventory::View;
use crate::store::{SavedView, SavedViewStore, StoreError};

/// Views one account may keep.
pub const MAX_VIEWS: u32 = 50;
const MAX_NAME_CHARS: usize = crate::store::fits::VIEW_NAME.chars;

#[derive(Default)]
pub struct SavedViewsQuery;

/// An account's saved views read with its sign-in, in the request's first trip to the app
/// database (`WebSessionStore::load_web_session_signed_in`): request data that
/// `savedViews` answers from instead of reading them again. The same read as
/// `SavedViewStore::saved_views`, made moments earlier in the same request, so it sees
/// every write any instance made before the request.
#[derive(Debug, Clone)]
pub struct ViewsReadAhead {
    pub customer: crate::domain::CustomerId,
    pub views: Arc<Vec<SavedView>>,
}

#[derive(Default)]
pub struct SavedViewsMutation;

#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "SavedView")]
pub struct SavedViewNode {
    pub id: ID,
    pub name: String,
    /// The view's URL parameters (`q`, `part`, `bin`, `status`, `expiry`, `below`, `sort`,
    /// `dir`), normalised.
    pub query: String,
    /// Where the view opens: `/inventory?…`.
    pub url: String,
    pub updated_at: OffsetDateTime,
}

impl From<SavedView> for SavedViewNode {
    fn from(v: SavedView) -> Self {
        let url = View::from_query(&v.query).url("/inventory");
        SavedViewNode {
            id: ID(v.id.to_string()),
            name: v.name,
            query: v.query,
            url,
            updated_at: v.updated_at,
        }
    }
}

fn clean_name(name: &str) -> Result<String, String> {
    let n: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    if n.is_empty() {
        Err("Give the view a name.".into())
    } else if n.chars().count() > MAX_NAME_CHARS {
        Err(format!("A name has at most {MAX_NAME_CHARS} characters."))
    } else {
        Ok(n)
    }
}

pub fn parse_id(id: &ID) -> async_graphql::Result<i64> {
    id.parse::<i64>()
        .map_err(|_| coded_error(codes::NOT_FOUND, "no such view"))
}

fn duplicate(name: &str) -> async_graphql::Error {
    field_errors([("name", format!("You already have a view named “{name}”."))])
}

#[Object]
impl SavedViewsQuery {
    /// The caller's saved views, by name.
    #[graphql(guard = "CustomerGuard")]
    async fn saved_views(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SavedViewNode>> {
        let who = require_customer(ctx)?;
        if let Some(read) = ctx.data_opt::<ViewsReadAhead>()
            && read.customer == who.customer_id
        {
            return Ok(read
                .views
                .iter()
                .cloned()
                .map(SavedViewNode::from)
                .collect());
        }
        let store = ctx.data::<Arc<dyn SavedViewStore>>()?;
        Ok(store
            .saved_views(who.customer_id)
            .await
            .map_err(|e| store_error(&e))?
            .into_iter()
            .map(SavedViewNode::from)
            .collect())
    }
}

#[Object]
impl SavedViewsMutation {
    /// Saves the grid's current view (its URL parameters, e.g. `q=gift&sort=onHandQty`)
    /// under a name of the caller's (1–60 characters, unique per account; at most 50).
    #[graphql(guard = "CustomerGuard")]
    async fn save_view(
        &self,
        ctx: &Context<'_>,
        name: String,
        query: String,
    ) -> async_graphql::Result<SavedViewNode> {
        let who = require_customer(ctx)?;
        let name = clean_name(&name).map_err(|e| field_errors([("name", e)]))?;
        if query.len() > 2_000 {
            return Err(field_errors([(
                "query",
                "The view is too long to save.".to_owned(),
            )]));
        }
        let query = View::from_query(&query).query_string();
        if !crate::store::fits::VIEW_QUERY.holds(&query) {
            return Err(field_errors([(
                "query",
                "The view is too long to save.".to_owned(),
            )]));
        }
        let store = ctx.data::<Arc<dyn SavedViewStore>>()?;
        match store
            .insert_saved_view(
                who.customer_id,
                &name,
                &query,
                OffsetDateTime::now_utc(),
                MAX_VIEWS,
            )
            .await
        {
            Ok(v) => Ok(v.into()),
            Err(StoreError::DuplicateName) => Err(duplicate(&name)),
            Err(StoreError::LimitReached(max)) => Err(field_errors([(
                "name",
                format!("You can keep {max} views; delete one first."),
            )])),
            Err(e) => Err(store_error(&e)),
        }
    }

    /// Renames one of the caller's views; `NOT_FOUND` for anyone else's.
    #[graphql(guard = "CustomerGuard")]
    async fn rename_saved_view(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: String,
    ) -> async_graphql::Result<SavedViewNode> {
        let who = require_customer(ctx)?;
        let id = parse_id(&id)?;
        let name = clean_name(&name).map_err(|e| field_errors([("name", e)]))?;
        let store = ctx.data::<Arc<dyn SavedViewStore>>()?;
        match store
            .rename_saved_view(who.customer_id, id, &name, OffsetDateTime::now_utc())
            .await
        {
            Ok(v) => Ok(v.into()),
            Err(StoreError::DuplicateName) => Err(duplicate(&name)),
            Err(StoreError::NotFound) => Err(coded_error(codes::NOT_FOUND, "no such view")),
            Err(e) => Err(store_error(&e)),
        }
    }

    /// Deletes one of the caller's views and the reports subscribed to it; `NOT_FOUND`
    /// for anyone else's.
    #[graphql(guard = "CustomerGuard")]
    async fn delete_saved_view(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let who = require_customer(ctx)?;
        let id = parse_id(&id)?;
        let store = ctx.data::<Arc<dyn SavedViewStore>>()?;
        if store
            .delete_saved_view(who.customer_id, id)
            .await
            .map_err(|e| store_error(&e))?
        {
            Ok(true)
        } else {
            Err(coded_error(codes::NOT_FOUND, "no such view"))
        }
    }
}
