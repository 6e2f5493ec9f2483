//! Static files embedded in the binary: `assets/` (CSS, JS, images) and the pinned htmx.
//! URLs carry a content hash (`?v=…`), so browsers may cache them for a year.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use serde::Deserialize;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

#[derive(RustEmbed)]
#[folder = "htmx/"]
struct Htmx;

/// Content hashes of every embedded file, computed once from the immutable embedded data.
static VERSIONS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for path in Assets::iter() {
        if let Some(f) = Assets::get(&path) {
            map.insert(
                format!("/assets/{path}"),
                hex::encode(&f.metadata.sha256_hash()[..6]),
            );
        }
    }
    for path in Htmx::iter() {
        if let Some(f) = Htmx::get(&path) {
            map.insert(
                format!("/htmx/{path}"),
                hex::encode(&f.metadata.sha256_hash()[..6]),
            );
        }
    }
    map
});

/// `/assets/css/portal.css` → `/assets/css/portal.css?v=1a2b3c4d5e6f`.
pub fn url(path: &str) -> String {
    match VERSIONS.get(path) {
        Some(v) => format!("{path}?v={v}"),
        None => path.to_owned(),
    }
}

#[derive(Deserialize)]
pub struct VersionQuery {
    v: Option<String>,
}

pub async fn asset(
    Path(path): Path<String>,
    Query(q): Query<VersionQuery>,
    headers: HeaderMap,
) -> Response {
    serve(
        Assets::get(&path),
        &format!("/assets/{path}"),
        q.v,
        &headers,
    )
}

pub async fn htmx(
    Path(path): Path<String>,
    Query(q): Query<VersionQuery>,
    headers: HeaderMap,
) -> Response {
    serve(Htmx::get(&path), &format!("/htmx/{path}"), q.v, &headers)
}

fn serve(
    file: Option<rust_embed::EmbeddedFile>,
    key: &str,
    v: Option<String>,
    headers: &HeaderMap,
) -> Response {
    let Some(file) = file else {
        return crate::error::AppError::NotFound.into_response();
    };
    let version = VERSIONS.get(key).cloned().unwrap_or_default();
    let etag = format!("\"{version}\"");
    let cache = if v.as_deref() == Some(version.as_str()) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300, must-revalidate"
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        == Some(etag.as_str())
    {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag),
                (header::CACHE_CONTROL, cache.to_owned()),
            ],
        )
            .into_response();
    }
    let mime = file.metadata.mimetype().to_owned();
    let mut resp = file.data.into_owned().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    resp
}
