//! Running operations in-process for pages and fragments: the same schema, the same
//! guards, no HTTP hop; the typed result is deserialised for maud.

use async_graphql::{Request, Variables};
use serde::de::DeserializeOwned;

use super::PortalSchema;
use super::guards::codes;
use crate::auth::Viewer;
use crate::error::AppError;

/// Executes `query` as `viewer` and decodes `data` into `T`; GraphQL errors become the
/// matching `AppError` (UNAUTHENTICATED → sign-in, FORBIDDEN → 403, …).
pub async fn execute<T: DeserializeOwned>(
    schema: &PortalSchema,
    viewer: &Viewer,
    query: &str,
    variables: serde_json::Value,
) -> Result<T, AppError> {
    let request = Request::new(query)
        .variables(Variables::from_json(variables))
        .data(viewer.clone());
    let response = schema.execute(request).await;
    if let Some(err) = response.errors.first() {
        let code = err
            .extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .and_then(|v| match v {
                async_graphql::Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default();
        return Err(match code.as_str() {
            codes::UNAUTHENTICATED => AppError::Unauthenticated,
            codes::FORBIDDEN => AppError::Forbidden,
            codes::PASSWORD_CHANGE_REQUIRED => AppError::PasswordChangeRequired,
            codes::ERP_UNAVAILABLE => AppError::ErpUnavailable,
            codes::BAD_USER_INPUT => AppError::BadRequest(err.message.clone()),
            codes::NOT_FOUND => AppError::NotFound,
            _ => AppError::Internal(anyhow::anyhow!("graphql operation failed: {}", err.message)),
        });
    }
    let json = response
        .data
        .into_json()
        .map_err(|e| AppError::Internal(e.into()))?;
    serde_json::from_value(json)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("decoding graphql data: {e}")))
}
