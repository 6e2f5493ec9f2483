//! `POST /graphql` for tools and for the browser's own JSON calls.
//!
//! Only POST with `Content-Type: application/json` is accepted (GET is 405, anything else
//! 415): a cookie-authenticated call can then never be a cross-site form post, and no
//! mutation can ride on a GET.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::Viewer;
use crate::error::AppError;
use crate::graphql::guards::codes;
use crate::state::AppState;

fn graphql_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })),
    )
        .into_response()
}

pub async fn post(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.get(header::AUTHORIZATION).is_some() {
        // No API tokens are issued yet: refuse rather than fall back to the cookie.
        return graphql_error(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHENTICATED,
            "invalid or unknown bearer token",
        );
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return AppError::UnsupportedMediaType.into_response();
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return graphql_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("invalid GraphQL request: {e}"),
            );
        }
    };
    let response = state.schema.execute(request.data(viewer)).await;
    Json(response).into_response()
}
