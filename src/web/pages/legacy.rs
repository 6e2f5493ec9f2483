//! The old portal's addresses, kept working after the switch: bookmarks of `/inventory/`
//! and `/admin/`, the old audit page's query parameters, and `/static/…` logos (mail
//! clients and intranet pages link to them). Each is a permanent redirect to its new home.

use axum::Router;
use axum::routing::get;

use crate::state::AppState;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

fn moved(to: &str) -> Response {
    let mut resp = StatusCode::PERMANENT_REDIRECT.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn with_query(path: &str, query: Option<String>) -> String {
    match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    }
}

/// `/inventory/` (the old landing page) → `/inventory`, keeping the view's parameters.
pub async fn inventory_slash(RawQuery(q): RawQuery) -> Response {
    moved(&with_query("/inventory", q))
}

/// `/admin/` → the dashboard.
pub async fn admin_slash() -> Response {
    moved("/admin/panel")
}

/// `/static/img/<logo or favicon>` → the portal's logo; nothing else of the old static
/// folder has an equivalent.
pub async fn old_static(Path(path): Path<String>) -> Response {
    let lower = path.to_ascii_lowercase();
    let image = [".png", ".svg", ".ico", ".jpg", ".jpeg", ".gif", ".webp"]
        .iter()
        .any(|ext| lower.ends_with(ext));
    if image && (lower.starts_with("img/") || lower.contains("logo") || lower.contains("favicon")) {
        moved(&crate::web::assets::url("/assets/img/logo.svg"))
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

/// The old audit page's parameter names and the names they have now.
const OLD_AUDIT_PARAMS: [(&str, &str); 6] = [
    ("admin_filter", "admin"),
    ("admin_username", "admin"),
    ("action_filter", "action"),
    ("action_type", "action"),
    ("search", "q"),
    ("search_query", "q"),
];

/// `/admin/audit?<old names>` → the same filter under today's names, or `None` when the
/// query uses none of the old names.
pub fn audit_redirect(query: Option<&str>) -> Option<Response> {
    let query = query?;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !pairs
        .iter()
        .any(|(k, _)| OLD_AUDIT_PARAMS.iter().any(|(old, _)| old == k))
    {
        return None;
    }
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        let name = OLD_AUDIT_PARAMS
            .iter()
            .find(|(old, _)| old == k)
            .map(|(_, new)| *new)
            .unwrap_or(k.as_str());
        out.append_pair(name, v);
    }
    Some(moved(&format!("/admin/audit?{}", out.finish())))
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory/", get(inventory_slash))
        .route("/admin/", get(admin_slash))
        .route("/static/{*path}", get(old_static))
}
