//! HTTP: the router, the middleware stack, and each feature's pages under `pages/`.

pub mod assets;
pub mod extractors;
pub mod graphql_http;
pub mod layout;
pub mod metrics;
pub mod middleware;
pub mod ops;
pub mod pages;
pub mod server;

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
use pages::{
    admin, health, home, inventory, legacy, login, logout, minimums, password, reset, unsubscribe,
    views,
};

const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Sign-in, sign-out and password forms hold a few short fields: anything bigger is
/// refused before it is read.
const SMALL_FORM_BYTES: usize = 16 * 1024;

async fn not_found() -> AppError {
    AppError::NotFound
}

pub fn router(state: AppState) -> Router {
    let session_layer = SessionManagerLayer::new(DbSessionStore::new(state.store.clone()))
        .with_name(sessions::COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        // `Secure` is added per request by `middleware::secure_cookies`.
        .with_secure(false)
        .with_path("/")
        // An idle timeout: each save (at least once a minute while a signed-in browser
        // is active) moves the record's expiry and the cookie's.
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(state.config.session_lifetime)
                .unwrap_or(time::Duration::hours(8)),
        ));

    let security_headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(middleware::CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ));

    Router::new()
        .route("/", get(home::root))
        .route(
            "/login",
            get(login::show)
                .post(login::submit)
                .layer(DefaultBodyLimit::max(SMALL_FORM_BYTES)),
        )
        .route(
            "/logout",
            get(logout::show)
                .post(logout::submit)
                .layer(DefaultBodyLimit::max(SMALL_FORM_BYTES)),
        )
        .route(
            "/force-change-password",
            get(password::show)
                .post(password::submit)
                .layer(DefaultBodyLimit::max(SMALL_FORM_BYTES)),
        )
        .route(
            "/forgot-password",
            get(reset::show_forgot)
                .post(reset::submit_forgot)
                .layer(DefaultBodyLimit::max(SMALL_FORM_BYTES)),
        )
        .route(
            "/reset-password",
            get(reset::show_reset)
                .post(reset::submit_reset)
                .layer(DefaultBodyLimit::max(SMALL_FORM_BYTES)),
        )
        .route("/inventory", get(inventory::show))
        .route("/inventory/", get(legacy::inventory_slash))
        .route("/admin/", get(legacy::admin_slash))
        .route("/static/{*path}", get(legacy::old_static))
        .route("/inventory/grid", get(inventory::grid_fragment))
        .route("/inventory/rows", get(inventory::rows_fragment))
        .route("/inventory/options", get(inventory::options_fragment))
        .route("/inventory/export.xlsx", get(inventory::export_xlsx))
        .route("/inventory/export.csv", get(inventory::export_csv))
        .route(
            "/inventory/minimums",
            get(minimums::show).post(minimums::submit),
        )
        .route("/inventory/minimums/remove", post(minimums::remove))
        .route("/inventory/views", get(views::show).post(views::save))
        .route("/inventory/views/{id}/rename", post(views::rename))
        .route("/inventory/views/{id}/delete", post(views::delete))
        .route("/inventory/reports", post(views::subscribe))
        .route("/inventory/reports/{id}/delete", post(views::unsubscribe))
        .route("/inventory/reports/{id}/pause", post(views::pause))
        .route(
            "/reports/unsubscribe",
            get(unsubscribe::show)
                .post(unsubscribe::submit)
                .layer(DefaultBodyLimit::max(SMALL_FORM_BYTES)),
        )
        .route("/admin/reports", get(admin::reports::show))
        .route("/admin/reports/{id}/pause", post(admin::reports::pause))
        .route(
            "/admin-login",
            get(admin::login::show)
                .post(admin::login::submit)
                .layer(DefaultBodyLimit::max(SMALL_FORM_BYTES)),
        )
        .route(
            "/admin-logout",
            get(admin::login::logout_show).post(admin::login::logout),
        )
        .route(
            "/admin",
            get(|| async { axum::response::Redirect::to("/admin/panel") }),
        )
        .route("/admin/panel", get(admin::panel::show))
        .route(
            "/admin/customers",
            get(admin::customers::show).post(admin::customers::create),
        )
        .route("/admin/customers/new", get(admin::customers::new_modal))
        .route("/admin/customers/{id}", post(admin::customers::update))
        .route(
            "/admin/customers/{id}/edit",
            get(admin::customers::edit_modal),
        )
        .route(
            "/admin/customers/{id}/reset-password",
            post(admin::customers::reset_password),
        )
        .route(
            "/admin/customers/{id}/active",
            post(admin::customers::set_active),
        )
        .route("/admin/audit", get(admin::audit::show))
        .route("/admin/sessions", get(admin::sessions::show))
        .route(
            "/admin/sessions/table",
            get(admin::sessions::table_fragment),
        )
        .route("/admin/sessions/kick", post(admin::sessions::kick))
        .route("/admin/analytics", get(admin::analytics::show))
        .route("/admin/outbox", get(admin::outbox::list))
        .route("/admin/outbox/{file}", get(admin::outbox::show))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::show))
        .route("/readyz", get(health::readyz))
        .route("/graphql", post(graphql_http::post))
        .route("/graphql/schema.graphql", get(admin::api::schema_sdl))
        .route("/admin/api", get(admin::api::show))
        .route(
            "/admin/api/tokens",
            post(admin::api::create).layer(DefaultBodyLimit::max(SMALL_FORM_BYTES)),
        )
        .route("/admin/api/tokens/{id}/revoke", post(admin::api::revoke))
        .route("/assets/{*path}", get(assets::asset))
        .route("/htmx/{*path}", get(assets::htmx))
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
        .layer(session_layer)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::secure_cookies,
        ))
        .layer(axum::middleware::from_fn(middleware::dynamic_cache_headers))
        .layer(security_headers)
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .quality(tower_http::CompressionLevel::Fastest)
                .compress_when(SizeAbove::new(1024).and(NotForContentType::const_new(
                    "application/vnd.openxmlformats",
                ))),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // A body dribbled in slowly holds a busy connection: it must arrive in time too.
        .layer(RequestBodyTimeoutLayer::new(server::HEADER_READ_TIMEOUT))
        // …and one in any middleware too (answered plainly, as nothing inside it ran).
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(middleware::request_id))
        .with_state(state)
}
