//! HTTP: the router, the middleware stack, and each feature's pages under `pages/`.

pub mod assets;
pub mod cookies;
pub mod exec;
pub mod extractors;
pub mod graphql_http;
pub mod gzip;
pub mod layout;
pub mod metrics;
pub mod middleware;
pub mod ops;
pub mod pages;
pub mod server;
pub mod signin;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::auth::sessions::{self, DbSessionStore};
use crate::error::AppError;
use crate::state::AppState;

/// The largest request body: GraphQL JSON and anything else that is not a form.
const MAX_BODY_BYTES: usize = 1024 * 1024;

async fn not_found() -> AppError {
    AppError::NotFound
}

/// The session cookie's layer: HttpOnly, SameSite=Lax, an idle timeout of
/// `SESSION_HOURS` (each save, at least once a minute while a signed-in browser is active,
/// moves the record's expiry and the cookie's). `Secure` is added per request by
/// `middleware::secure_cookies`.
fn session_layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    SessionManagerLayer::new(DbSessionStore::new(state.store.clone()))
        .with_name(sessions::COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(false)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(state.config.session_lifetime)
                .unwrap_or(time::Duration::hours(8)),
        ))
}

/// The headers every answer carries (the CSP only where a handler set none).
fn with_security_headers(router: Router<AppState>) -> Router<AppState> {
    let overriding = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router.layer(
        ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(middleware::CONTENT_SECURITY_POLICY),
            ))
            .layer(overriding(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .layer(overriding(header::X_FRAME_OPTIONS, "DENY"))
            .layer(overriding(header::REFERRER_POLICY, "same-origin"))
            .layer(overriding(
                HeaderName::from_static("permissions-policy"),
                "camera=(), microphone=(), geolocation=(), payment=()",
            ))
            .layer(overriding(
                HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin",
            )),
    )
}

/// Every address: each feature's own routes, and the middleware every request passes.
pub fn router(state: AppState) -> Router {
    let inner = Router::new()
        .merge(pages::routes())
        .route("/metrics", get(metrics::show))
        .route("/graphql", post(graphql_http::post))
        .fallback(not_found)
        // Layers run bottom-up for requests: the last added is the outermost.
        // A panic in a handler costs its request alone: a 500 page with the request id.
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::render_errors,
        ))
        // `layer`, not `route_layer`: the fallback is counted too, as `unmatched`.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::csrf_protect,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::resolve_viewer,
        ))
        .layer(session_layer(&state))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::secure_cookies,
        ))
        .layer(axum::middleware::from_fn(middleware::dynamic_cache_headers));
    // Liveness and the versioned static files need no session, viewer or CSRF token:
    // they skip those layers, so a load balancer's polling and a page's assets cost no
    // database read and set no cookie (a cookie on an asset would defeat shared caches).
    let light = Router::new()
        .route("/healthz", get(pages::health::healthz))
        .route("/assets/{*path}", get(assets::asset))
        .route("/htmx/{*path}", get(assets::htmx))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ));
    with_security_headers(inner.merge(light))
        // Whole answers are compressed here with a kept compressor; streamed ones (the
        // CSV export) by tower-http's layer around it, which skips what is compressed.
        .layer(axum::middleware::from_fn(gzip::compress_whole))
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(SizeAbove::new(1024).and(NotForContentType::const_new(
                    "application/vnd.openxmlformats",
                ))),
        )
        // Every form on every route is small; anything else may be up to a megabyte.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::limit_forms,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // A body dribbled in slowly holds a busy connection: it must arrive in time too.
        .layer(RequestBodyTimeoutLayer::new(server::HEADER_READ_TIMEOUT))
        // …and one in any middleware too (answered plainly, as nothing inside it ran).
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(middleware::request_id))
        .with_state(state)
}
