//! `apiTokens`, `createApiToken`, `revokeApiToken`: admins issue and revoke the tokens
//! internal tools call the API with. Admin sessions only: a token never manages tokens.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use time::OffsetDateTime;

use super::guards::{AdminGuard, coded_error, codes, field_errors, require_admin};
use crate::auth::tokens::{ApiTokens, NewToken, Scope, Scopes};
use crate::domain::ErpScope;
use crate::store::{ApiTokenRecord, StoreError};

/// Longest token name, and the widest budget an admin may give one token.
const MAX_NAME: usize = crate::store::fits::TOKEN_NAME.chars;
const MAX_ROWS_PER_MINUTE: u32 = 10_000_000;

/// An API token as admins see it; the secret is never part of it.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "ApiToken")]
pub struct ApiTokenNode {
    pub id: ID,
    pub name: String,
    /// Scope names, e.g. `inventory:read`.
    pub scopes: Vec<String>,
    /// The ERP customers `inventory:read` covers: `["All"]`, names, or none.
    pub erp_customer_names: Vec<String>,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    /// The token's cost budget per minute (rows); null: the portal's default.
    pub rows_per_minute: Option<i32>,
    /// Neither revoked nor expired.
    pub active: bool,
}

impl From<ApiTokenRecord> for ApiTokenNode {
    fn from(r: ApiTokenRecord) -> Self {
        let names = match ErpScope::parse(&r.erp_customer_name) {
            ErpScope::All => vec!["All".to_owned()],
            ErpScope::Customers(n) => n,
            ErpScope::Nothing => Vec::new(),
        };
        ApiTokenNode {
            id: ID(r.id.to_string()),
            active: r.revoked_at.is_none() && r.expires_at > OffsetDateTime::now_utc(),
            scopes: r.scopes.split_whitespace().map(str::to_owned).collect(),
            erp_customer_names: names,
            name: r.name,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
            rows_per_minute: r.rows_per_minute.and_then(|n| i32::try_from(n).ok()),
        }
    }
}

#[derive(InputObject, Debug)]
pub struct ApiTokenInput {
    /// What the token is for, e.g. "Nightly reconciliation".
    pub name: String,
    /// Scope names: inventory:read, customers:read, customers:write, audit:read,
    /// sessions:read, analytics:read.
    pub scopes: Vec<String>,
    /// ERP customers for `inventory:read`: `["All"]` or exact names.
    #[graphql(default)]
    pub erp_customer_names: Vec<String>,
    /// Default: one year from now.
    pub expires_at: Option<OffsetDateTime>,
    /// Cost budget per minute in rows; default: the portal's.
    pub rows_per_minute: Option<i32>,
}

/// A new token and its secret, shown this once.
#[derive(SimpleObject, Debug)]
pub struct CreatedApiToken {
    pub token: ApiTokenNode,
    /// `Authorization: Bearer <secret>`. Not stored: copy it now.
    pub secret: String,
}

fn internal(e: StoreError) -> async_graphql::Error {
    super::guards::store_error(&e)
}

/// Checks an admin's input; every problem at once, by field. `erp` is the stored scope of
/// the ERP names given (checked by the same rule as an account's), or what is wrong.
fn parse_input(
    input: ApiTokenInput,
    erp: Result<String, String>,
) -> async_graphql::Result<NewToken> {
    let mut problems: Vec<(&str, String)> = Vec::new();
    let name = input.name.trim().to_owned();
    if name.is_empty() {
        problems.push(("name", "Give the token a name.".into()));
    } else if name.chars().count() > MAX_NAME {
        problems.push(("name", format!("At most {MAX_NAME} characters.")));
    }
    let scopes = match Scopes::parse_list(input.scopes.iter().map(String::as_str)) {
        Ok(s) if s.is_empty() => {
            problems.push(("scopes", "Choose at least one scope.".into()));
            s
        }
        Ok(s) => s,
        Err(e) => {
            problems.push((
                "scopes",
                format!(
                    "{e}: choose from {}.",
                    Scope::ALL.map(Scope::name).join(", ")
                ),
            ));
            Scopes::default()
        }
    };
    let erp = erp.unwrap_or_else(|message| {
        problems.push(("erp_customer_names", message));
        String::new()
    });
    if scopes.contains(Scope::InventoryRead)
        && erp.is_empty()
        && !problems.iter().any(|(f, _)| *f == "erp_customer_names")
    {
        problems.push((
            "erp_customer_names",
            "inventory:read needs ERP customers (or All).".into(),
        ));
    }
    let now = OffsetDateTime::now_utc();
    if let Some(at) = input.expires_at
        && at <= now
    {
        problems.push(("expires_at", "The expiry must be in the future.".into()));
    }
    let rows_per_minute = match input.rows_per_minute {
        None => None,
        Some(n) if n >= 1 && (n as u32) <= MAX_ROWS_PER_MINUTE => Some(n as u32),
        Some(_) => {
            problems.push((
                "rows_per_minute",
                format!("Between 1 and {MAX_ROWS_PER_MINUTE}."),
            ));
            None
        }
    };
    if !problems.is_empty() {
        return Err(field_errors(problems));
    }
    Ok(NewToken {
        name,
        scopes,
        erp_customer_name: erp,
        expires_at: input.expires_at,
        rows_per_minute,
    })
}

#[derive(Default)]
pub struct TokensQuery;

#[Object]
impl TokensQuery {
    /// Every API token, newest first. Admin sessions only.
    #[graphql(guard = "AdminGuard")]
    async fn api_tokens(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiTokenNode>> {
        let tokens = ctx.data::<Arc<ApiTokens>>()?;
        Ok(tokens
            .list()
            .await
            .map_err(internal)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

#[derive(Default)]
pub struct TokensMutation;

#[Object]
impl TokensMutation {
    /// Issues a token; its secret is in the answer and nowhere else.
    #[graphql(guard = "AdminGuard")]
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        input: ApiTokenInput,
    ) -> async_graphql::Result<CreatedApiToken> {
        let admin = require_admin(ctx)?;
        let given = input
            .erp_customer_names
            .iter()
            .any(|n| !n.trim().is_empty());
        let erp = if given {
            let customers = ctx.data::<Arc<crate::customers::CustomerAdmin>>()?;
            customers.erp_scope_of(&input.erp_customer_names).await
        } else {
            Ok(String::new())
        };
        let new = parse_input(input, erp)?;
        let tokens = ctx.data::<Arc<ApiTokens>>()?;
        let issued = tokens.create(admin.admin(), new).await.map_err(internal)?;
        Ok(CreatedApiToken {
            token: issued.record.clone().into(),
            secret: issued.secret,
        })
    }

    /// Revokes a token: its next request is refused. False if it was revoked already.
    #[graphql(guard = "AdminGuard")]
    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let admin = require_admin(ctx)?;
        let id: i64 = id
            .parse()
            .map_err(|_| coded_error(codes::BAD_USER_INPUT, "no such token"))?;
        let tokens = ctx.data::<Arc<ApiTokens>>()?;
        match tokens.revoke(admin.admin(), id).await {
            Ok(done) => Ok(done),
            Err(StoreError::NotFound) => Err(coded_error(codes::NOT_FOUND, "no such token")),
            Err(e) => Err(internal(e)),
        }
    }
}
