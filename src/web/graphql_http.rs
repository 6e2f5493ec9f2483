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
use crate::graphql::cost;
use crate::graphql::guards::codes;
use crate::graphql::streamed::{self, RawLists};
use crate::state::AppState;

/// The largest query text accepted; longer ones are refused before parsing.
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

fn graphql_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })),
    )
        .into_response()
}

/// The code tools see for an HTTP status that carries no GraphQL error of its own.
fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "BAD_REQUEST",
        401 => codes::UNAUTHENTICATED,
        403 => codes::FORBIDDEN,
        404 => codes::NOT_FOUND,
        405 => "METHOD_NOT_ALLOWED",
        413 => "PAYLOAD_TOO_LARGE",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        429 => "RATE_LIMITED",
        503 => "SERVICE_UNAVAILABLE",
        _ => codes::INTERNAL,
    }
}

/// Every answer of `/graphql` is GraphQL JSON, whatever layer produced it (CSRF check,
/// body limit, method routing, an unavailable database): a tool can always parse it.
/// Clients that accept `application/graphql-response+json` get that media type.
pub fn as_graphql_error(resp: Response, accept: &str) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    let mut resp = if status.is_client_error() || status.is_server_error() {
        if is_json {
            resp
        } else {
            let message = match resp.extensions().get::<crate::error::ErrorPage>() {
                Some(page) => page.message.clone(),
                None => status
                    .canonical_reason()
                    .unwrap_or("request refused")
                    .to_owned(),
            };
            let allow = resp.headers().get(header::ALLOW).cloned();
            let retry = resp.headers().get(header::RETRY_AFTER).cloned();
            let mut out = graphql_error(status, code_for(status), &message);
            for (name, value) in [(header::ALLOW, allow), (header::RETRY_AFTER, retry)] {
                if let Some(v) = value {
                    out.headers_mut().insert(name, v);
                }
            }
            out
        }
    } else {
        resp
    };
    if accept.contains("application/graphql-response+json")
        && resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"))
    {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static(
                "application/graphql-response+json; charset=utf-8",
            ),
        );
    }
    resp
}

/// `POST /graphql`: admitted (size, budget, cost, the heavy lane), executed, answered.
pub async fn post(
    State(state): State<AppState>,
    viewer: Viewer,
    client: crate::auth::ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
    let admitted = match admit(&state, &viewer, &headers, request).await {
        Ok(a) => a,
        Err(refused) => return refused,
    };
    // Introspection is for admins and tools, who read the schema on purpose.
    let request = if matches!(viewer, Viewer::Admin(_) | Viewer::Token(_)) {
        admitted.request
    } else {
        admitted.request.disable_introspection()
    };
    let response = state
        .schema
        .execute(request.data(viewer).data(client).data(RawLists))
        .await;
    let resp = answer(response, &admitted.cost, admitted.budget.as_ref(), &headers);
    // The lane is held until the answer is written out (the JSON is the large part).
    drop(admitted.lane);
    resp
}

/// An operation let through, with what it was charged and the heavy lane it holds.
struct Admitted<'a> {
    request: async_graphql::Request,
    cost: cost::Cost,
    budget: Option<cost::BudgetState>,
    lane: Option<tokio::sync::SemaphorePermit<'a>>,
}

/// Everything decided before the schema runs anything: the caller's budget, the query's
/// size and parse, its cost, what an anonymous caller may ask, and a place in the heavy
/// lane for a large answer. Refused work is charged too, so flooding refused queries
/// soon costs nothing.
async fn admit<'a>(
    state: &'a AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    mut request: async_graphql::Request,
) -> Result<Admitted<'a>, Response> {
    let budget_of = budget_key(viewer);
    if let Some((key, limit)) = &budget_of
        && let Some(spent) = state.budgets.spent(key, *limit)
    {
        return Err(rate_limited(&spent, "this minute's budget is spent"));
    }
    let penalise = || {
        if let Some((key, limit)) = &budget_of {
            state.budgets.penalise(key, *limit);
        }
    };
    if request.query.len() > MAX_QUERY_BYTES {
        penalise();
        return Err(graphql_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "QUERY_TOO_LARGE",
            &format!("the query is longer than {MAX_QUERY_BYTES} bytes"),
        ));
    }
    let refused_status = if wants_graphql_response(headers) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    // The request keeps the parsed document, so execution does not parse it again.
    let (operation_name, variables) = (request.operation_name.clone(), request.variables.clone());
    let doc = request.parsed_query().map_err(|e| {
        penalise();
        graphql_error(refused_status, "GRAPHQL_PARSE_FAILED", &e.message)
    })?;
    let max_page = cost::max_page(viewer);
    let cost = cost::cost(doc, operation_name.as_deref(), &variables, max_page).map_err(|e| {
        penalise();
        graphql_error(refused_status, "QUERY_TOO_COSTLY", &e.message())
    })?;
    // Anonymous callers may ask who they are, nothing else (names the schema does not
    // have are left to validation, which says so).
    let known = crate::graphql::root_field_names();
    if matches!(viewer, Viewer::Anonymous)
        && cost
            .roots
            .iter()
            .any(|r| r != "viewer" && known.contains(r))
    {
        return Err(graphql_error(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHENTICATED,
            "sign in first (or send an API token)",
        ));
    }
    let lane = if cost.rows > cost::HEAVY_ROWS {
        match state.heavy.enter().await {
            Some(permit) => Some(permit),
            None => return Err(lane_full()),
        }
    } else {
        None
    };
    let budget = match &budget_of {
        Some((key, limit)) => match state.budgets.charge(key, cost.rows, *limit) {
            Ok(b) => Some(b),
            Err(spent) => {
                return Err(rate_limited(
                    &spent,
                    &format!("this operation costs {} rows", cost.rows),
                ));
            }
        },
        None => None,
    };
    Ok(Admitted {
        request,
        cost,
        budget,
        lane,
    })
}

/// 429 for a large answer that found the heavy lane full.
fn lane_full() -> Response {
    let wait = cost::HEAVY_RETRY.as_secs();
    let mut resp = graphql_error(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        &format!(
            "other large answers are being prepared; ask again in {wait} s, or ask for fewer rows (at most {} rows an operation skip the wait)",
            cost::HEAVY_ROWS
        ),
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(wait));
    resp
}

/// The executed operation as HTTP: its cost in `extensions`, validation failures as
/// GraphQL's own errors, a field refused for going too fast as 429 with `Retry-After`.
fn answer(
    mut response: async_graphql::Response,
    cost: &cost::Cost,
    budget: Option<&cost::BudgetState>,
    headers: &HeaderMap,
) -> Response {
    let mut cost_ext = async_graphql::indexmap::IndexMap::new();
    cost_ext.insert(
        async_graphql::Name::new("rows"),
        async_graphql::Value::from(cost.rows),
    );
    if let Some(b) = budget {
        cost_ext.insert(
            async_graphql::Name::new("limit"),
            async_graphql::Value::from(b.limit),
        );
        cost_ext.insert(
            async_graphql::Name::new("remaining"),
            async_graphql::Value::from(b.remaining),
        );
    }
    response
        .extensions
        .insert("cost".to_owned(), async_graphql::Value::Object(cost_ext));
    // Errors before execution (validation, limits) carry no path and no data.
    if response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.extensions.is_none())
    {
        let status = if wants_graphql_response(headers) {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        let errors: Vec<serde_json::Value> = response
            .errors
            .iter()
            .map(|e| json!({ "message": e.message, "locations": e.locations, "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" } }))
            .collect();
        return (status, Json(json!({ "errors": errors }))).into_response();
    }
    // A field refused for going too fast (a password guessed too often, reset links asked
    // too often) answers as the sign-in page does: 429 with `Retry-After`.
    let retry_after = response.errors.iter().find_map(|e| {
        let ext = e.extensions.as_ref()?;
        match (ext.get("code"), ext.get("retryAfter")) {
            (Some(async_graphql::Value::String(c)), Some(async_graphql::Value::Number(n)))
                if c == codes::RATE_LIMITED =>
            {
                n.as_u64()
            }
            _ => None,
        }
    });
    let mut resp = json_body(&response);
    drop(response);
    if let Some(secs) = retry_after {
        *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        resp.headers_mut()
            .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
    }
    if let Some(b) = budget {
        rate_limit_headers(&mut resp, b);
    }
    resp
}

/// The answer's JSON, its large lists sent as they were written (see [`streamed`]).
fn json_body(response: &async_graphql::Response) -> Response {
    let pieces = streamed::write_response(response);
    let body = if pieces.len() == 1 {
        axum::body::Body::from(pieces.into_iter().next().unwrap_or_default())
    } else {
        axum::body::Body::from_stream(futures_util::stream::iter(
            pieces.into_iter().map(Ok::<_, std::convert::Infallible>),
        ))
    };
    (
        [(
            header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// 429 with `Retry-After` and the RateLimit fields.
fn rate_limited(spent: &cost::BudgetState, why: &str) -> Response {
    let mut resp = graphql_error(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        &format!(
            "{why}; {} of this minute's {} rows are left; retry in {} s",
            spent.remaining, spent.limit, spent.reset_secs
        ),
    );
    rate_limit_headers(&mut resp, spent);
    if let Ok(v) = spent.reset_secs.to_string().parse() {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Whose budget an operation is charged to, and how large it is.
fn budget_key(viewer: &Viewer) -> Option<(String, u64)> {
    match viewer {
        Viewer::Token(t) => Some((
            format!("token:{}", t.token_id),
            t.rows_per_minute
                .map(u64::from)
                .unwrap_or(cost::DEFAULT_ROWS_PER_MINUTE),
        )),
        Viewer::Customer(c) => Some((
            format!("customer:{}", c.session_id),
            cost::DEFAULT_ROWS_PER_MINUTE,
        )),
        Viewer::Admin(a) => Some((
            format!("admin:{}", a.session_id),
            cost::DEFAULT_ROWS_PER_MINUTE,
        )),
        Viewer::Anonymous => None,
    }
}

/// The IETF `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers):
/// the budget in rows per 60 s window, what is left and when the window resets.
fn rate_limit_headers(resp: &mut Response, b: &cost::BudgetState) {
    let h = resp.headers_mut();
    if let Ok(v) = format!("\"rows\";q={};w=60", b.limit).parse() {
        h.insert("ratelimit-policy", v);
    }
    if let Ok(v) = format!("\"rows\";r={};t={}", b.remaining, b.reset_secs).parse() {
        h.insert("ratelimit", v);
    }
}

fn wants_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/graphql-response+json"))
}
