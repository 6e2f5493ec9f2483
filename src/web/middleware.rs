//! Request pipeline pieces: who is asking (re-validated against the app database on every
//! request), CSRF, error rendering and security headers.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::extractors::SessionEnded;
use super::layout::{self, PageCtx};
use crate::auth::Viewer;
use crate::auth::csrf::{self, CsrfToken};
use crate::auth::sessions::{self, AUTH_KEY, SLID_KEY, SessionAuth};
use crate::auth::tokens::TokenRejected;
use crate::error::{AppError, ErrorPage};
use crate::graphql::saved_views::ViewsReadAhead;
use crate::state::AppState;

/// Gives every request an id (a proxy's `X-Request-Id` when it is a sane token, else a
/// new one), a tracing span carrying it, and an `X-Request-Id` response header. Written
/// here rather than with tower-http's request-id layers: those keep whatever id a client
/// sends (this one takes a proxy's only when it is a short plain token, as it goes into
/// logs and pages), and the id must also be in scope for error pages (a task-local).
pub async fn request_id(req: Request, next: Next) -> Response {
    use tracing::Instrument;
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let n: u64 = rand::random();
            format!("{n:016x}")
        });
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %req.method(),
        path = %req.uri().path()
    );
    let mut resp = crate::telemetry::REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span))
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Every cookie the portal sets is `Secure` exactly when the request arrived over https
/// (a trusted proxy's `X-Forwarded-Proto`): the public site's cookies never travel in
/// clear, and staff on the LAN over plain http keep theirs (a `Secure` cookie set over
/// http is dropped by the browser, and the next form would fail its CSRF check).
pub async fn secure_cookies(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let https = super::extractors::arrived_over_https(
        &state,
        super::extractors::peer_of(req.extensions()),
        req.headers(),
    );
    let mut resp = next.run(req).await;
    if https {
        super::cookies::make_secure(resp.headers_mut());
    }
    resp
}

/// The answer to a request whose handler panicked: a 500 naming the request id, like any
/// internal error. Locks in request paths do not poison (`parking_lot`), so the next
/// request is served as if nothing happened.
pub fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    crate::error::AppError::Internal(anyhow::anyhow!("panic: {what}")).into_response()
}

/// The most a form's body may hold: every form of the portal is a few short fields.
pub const FORM_BYTES: usize = 16 * 1024;

/// One limit for every form on every route: a urlencoded or multipart body larger than
/// [`FORM_BYTES`] is refused (413) before anything reads it, whether it says its length
/// or streams; other bodies keep the router's larger limit.
pub async fn limit_forms(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/x-www-form-urlencoded")
                || ct.starts_with("multipart/form-data")
        });
    if !is_form {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > FORM_BYTES) {
        return render(&req, &AppError::PayloadTooLarge, &state);
    }
    let (parts, body) = req.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, FORM_BYTES));
    next.run(Request::from_parts(parts, limited)).await
}

/// Resolves the `Viewer` of this request. The browser's session names an
/// `ActiveSessions` row; if the row is gone (kicked), expired or its account deactivated,
/// the browser session is destroyed here and the request continues anonymous.
pub async fn resolve_viewer(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    // Tools: a bearer token on the paths that take one. The cookie is then ignored, so a
    // browser session can never lend its authority to a token request or the reverse.
    if let Some(secret) = bearer_secret(&req)
        && accepts_tokens(req.uri().path())
    {
        let (mut parts, body) = req.into_parts();
        let client = <crate::auth::ClientInfo as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &state)
            .await
            .unwrap_or_default();
        let mut req = Request::from_parts(parts, body);
        return match state
            .tokens
            .authenticate(&secret, client.ip.as_deref())
            .await
        {
            Ok(token) => {
                req.extensions_mut().insert(Viewer::Token(token));
                next.run(req).await
            }
            Err(TokenRejected::Unavailable) => {
                render(&req, &AppError::Unavailable("The portal database"), &state)
            }
            Err(_) => invalid_token(&req),
        };
    }
    // A browser that sends a session cookie: its record and the customer sign-in it names
    // are read in one trip, and the record is handed to the session layer.
    let mut read_sign_in = None;
    let auth = match session.id() {
        Some(id) => match sessions::preload(state.store.as_ref(), id).await {
            Ok(mut preloaded) => {
                read_sign_in = preloaded.sign_in.take();
                preloaded
                    .hand_over(session.get::<SessionAuth>(AUTH_KEY))
                    .await
            }
            Err(e) => {
                tracing::error!(error = %e, "session store failed");
                return render(&req, &AppError::Unavailable("The portal database"), &state);
            }
        },
        None => session.get::<SessionAuth>(AUTH_KEY).await,
    };
    let auth = match auth {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "session store failed");
            return render(&req, &AppError::Unavailable("The portal database"), &state);
        }
    };
    let mut viewer = Viewer::Anonymous;
    let resolved = match &auth {
        None => Ok(None),
        Some(SessionAuth::Customer { session_id }) => match read_sign_in {
            Some(read) if read.session_id == *session_id => {
                let resolved = state
                    .auth
                    .resolve_read_customer_session(session_id, read.found)
                    .await;
                // The account's saved views came with it: the page's menu reads them.
                if let (Ok(Some(who)), Some(views)) = (&resolved, read.saved_views) {
                    req.extensions_mut().insert(ViewsReadAhead {
                        customer: who.customer_id,
                        views: Arc::new(views),
                    });
                }
                resolved
            }
            _ => state.auth.resolve_customer_session(session_id).await,
        }
        .map(|o| o.map(Viewer::Customer)),
        Some(SessionAuth::Admin { session_id }) => state
            .admin_auth
            .resolve(session_id)
            .await
            .map(|o| o.map(Viewer::Admin)),
    };
    if auth.is_some() {
        match resolved {
            Ok(Some(v)) => {
                slide_expiry(&session).await;
                viewer = v;
            }
            Ok(None) => {
                if let Err(e) = session.flush().await {
                    tracing::warn!(error = %e, "could not delete an ended browser session");
                }
                req.extensions_mut().insert(SessionEnded);
            }
            Err(e) => {
                tracing::error!(error = %e, "session validation failed");
                return render(&req, &AppError::from(e), &state);
            }
        }
    }
    req.extensions_mut().insert(viewer);
    next.run(req).await
}

/// `SESSION_HOURS` is an idle timeout, as in the old portal: each request of a signed-in
/// browser saves its record, which moves the record's expiry and the cookie's to
/// `SESSION_HOURS` from now (the layer's `OnInactivity`), at most once a minute so that
/// browsing does not write on every click. The sign-in rows enforce the same idle limit
/// and the absolute cap (see `auth::service::ABSOLUTE_SESSION_CAP`).
async fn slide_expiry(session: &Session) {
    let minute = time::OffsetDateTime::now_utc().unix_timestamp() / 60;
    if session.get::<i64>(SLID_KEY).await.ok().flatten() == Some(minute) {
        return;
    }
    if let Err(e) = session.insert(SLID_KEY, minute).await {
        tracing::warn!(error = %e, "could not slide a browser session's expiry");
    }
}

/// The secret of an `Authorization: Bearer …` header, if there is one.
fn bearer_secret(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| secret.trim().to_owned())
}

/// Tokens are for the API (and its schema) and the exports; pages never take them.
fn accepts_tokens(path: &str) -> bool {
    matches!(
        path,
        "/graphql" | "/graphql/schema.graphql" | "/inventory/export.csv" | "/inventory/export.xlsx"
    )
}

/// 401 for an unknown, revoked or expired token (all alike, so a caller learns nothing
/// about which), with the challenge RFC 6750 asks for.
fn invalid_token(req: &Request) -> Response {
    let mut resp = if req.uri().path() == "/graphql" {
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let page = AppError::InvalidToken.page();
        let mut resp = page.status.into_response();
        resp.extensions_mut().insert(page);
        crate::web::graphql_http::as_graphql_error(resp, accept)
    } else {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The API token is unknown, revoked or expired.\n",
        )
            .into_response()
    };
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer error=\"invalid_token\", error_description=\"unknown, revoked or expired token\"",
        ),
    );
    resp
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Double-submit CSRF check for every state-changing request. Tools that authenticate
/// with a bearer token (and so carry no ambient cookie authority) are exempt.
pub async fn csrf_protect(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = super::cookies::value(req.headers(), csrf::COOKIE_NAME)
        .filter(|t| state.csrf.is_genuine(t));
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (state.csrf.issue(), true),
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));

    // Only a request the bearer layer authenticated is exempt: it carries no ambient
    // (cookie) authority a forged form could borrow.
    let bearer = matches!(req.extensions().get::<Viewer>(), Some(Viewer::Token(_)));
    // A signed unsubscribe link is its own authority (a mail client posts to it without
    // the portal's cookies; RFC 8058), and its handler relies on no cookie.
    let signed_link = req.uri().path() == "/reports/unsubscribe";
    let mut response = if is_state_changing(req.method()) && !bearer && !signed_link {
        let cookie_token = if fresh { None } else { Some(token.as_str()) };
        match check_submitted_token(req, cookie_token).await {
            Ok(req) => next.run(req).await,
            Err(req) => {
                tracing::warn!(method = %req.method(), path = %req.uri().path(), "CSRF check failed");
                render(&req, &AppError::CsrfRejected, &state)
            }
        }
    } else {
        next.run(req).await
    };
    if fresh {
        super::cookies::set(response.headers_mut(), csrf::COOKIE_NAME, &token, None);
    }
    response
}

/// Compares the header or form token with the cookie's. The body of an urlencoded form is
/// read to find `csrf_token` and then handed on unchanged.
async fn check_submitted_token(
    req: Request,
    cookie_token: Option<&str>,
) -> Result<Request, Request> {
    let Some(cookie_token) = cookie_token else {
        return Err(req);
    };
    if let Some(h) = req
        .headers()
        .get(csrf::HEADER_NAME)
        .and_then(|v| v.to_str().ok())
    {
        return if csrf::tokens_match(cookie_token, h) {
            Ok(req)
        } else {
            Err(req)
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(req);
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => return Err(Request::from_parts(parts, Body::empty())),
    };
    let submitted = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == csrf::FORM_FIELD)
        .map(|(_, v)| v.into_owned());
    let ok = submitted.is_some_and(|s| csrf::tokens_match(cookie_token, &s));
    let req = Request::from_parts(parts, Body::from(bytes));
    if ok { Ok(req) } else { Err(req) }
}

fn render(req: &Request, err: &AppError, state: &AppState) -> Response {
    let page = err.page();
    if req.uri().path() == "/graphql" {
        // Tools get GraphQL JSON, never a page (this runs outside `render_errors`).
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut resp = page.status.into_response();
        resp.extensions_mut().insert(page);
        return crate::web::graphql_http::as_graphql_error(resp, accept);
    }
    let ctx = super::extractors::page_ctx(state, req.extensions(), Vec::new());
    render_page(
        req.headers()
            .get(axum_htmx::HX_REQUEST)
            .is_some_and(|v| v == "true"),
        &ctx,
        &page,
    )
}

fn render_page(htmx: bool, ctx: &PageCtx, page: &ErrorPage) -> Response {
    let body = if htmx {
        layout::error_fragment(&page.message)
    } else {
        layout::error_page(ctx, page.title, &page.message)
    };
    let mut resp = (page.status, body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Turns a bare `AppError` response into an htmx fragment or a full page in the layout.
pub async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let htmx = req
        .headers()
        .get(axum_htmx::HX_REQUEST)
        .is_some_and(|v| v == "true");
    let wants_json = matches!(req.uri().path(), "/graphql" | "/healthz" | "/readyz");
    let ctx = super::extractors::page_ctx(&state, req.extensions(), Vec::new());
    let graphql = req.uri().path() == "/graphql";
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let resp = next.run(req).await;
    if graphql {
        return crate::web::graphql_http::as_graphql_error(resp, &accept);
    }
    match resp.extensions().get::<ErrorPage>() {
        Some(page) if !wants_json => {
            let page = page.clone();
            let mut rendered = render_page(htmx, &ctx, &page);
            // A 429 keeps its `Retry-After`.
            if let Some(v) = resp.headers().get(header::RETRY_AFTER) {
                rendered
                    .headers_mut()
                    .insert(header::RETRY_AFTER, v.clone());
            }
            rendered
        }
        _ => resp,
    }
}

/// Dynamic responses are never cached by the browser or a proxy: they hold customer data.
/// Pages vary by `HX-Request` (fragment or page).
pub async fn dynamic_cache_headers(req: Request, next: Next) -> Response {
    let is_static =
        req.uri().path().starts_with("/assets/") || req.uri().path().starts_with("/htmx/");
    let mut resp = next.run(req).await;
    if !is_static {
        let h = resp.headers_mut();
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        h.append(header::VARY, HeaderValue::from_static("HX-Request"));
    }
    resp
}

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";
