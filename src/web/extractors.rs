//! Extractors that make authentication visible in handler signatures:
//! `CurrentCustomer` (the access rule's customer viewer), `SignedInCustomer` (temporary
//! password allowed, for the password page), `CurrentAdmin`, `Viewer` (anyone), plus
//! `PageCtx`, `ClientInfo` and `IsHtmx`. Each asks the one access rule in
//! `graphql::guards` and only decides where a refused browser is sent.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::Extensions;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::layout::{Flash, PageCtx};
use crate::auth::csrf::CsrfToken;
use crate::auth::sessions::FLASH_KEY;
use crate::auth::{ClientInfo, CustomerIdentity, Viewer};
use crate::config::ClientIpHeader;
use crate::graphql::guards::{self, Denied};
use crate::state::AppState;

/// Set by the viewer middleware when this request's session was just found dead
/// (kicked, expired, deactivated), so the login page can say why.
#[derive(Debug, Clone, Copy)]
pub struct SessionEnded;

/// Whether the request came from htmx (`HX-Request: true`).
#[derive(Debug, Clone, Copy)]
pub struct IsHtmx(pub bool);

pub fn is_htmx(parts: &Parts) -> bool {
    parts
        .headers
        .get(axum_htmx::HX_REQUEST)
        .is_some_and(|v| v == "true")
}

impl<S: Send + Sync> FromRequestParts<S> for IsHtmx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IsHtmx(is_htmx(parts)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .unwrap_or_default())
    }
}

/// Sends the browser elsewhere: a 303 for pages, `HX-Redirect` for htmx requests so that
/// a login page never lands inside a fragment.
#[derive(Debug)]
pub struct AuthRedirect {
    pub to: String,
    pub htmx: bool,
}

impl IntoResponse for AuthRedirect {
    fn into_response(self) -> Response {
        if self.htmx {
            let mut resp = StatusCode::UNAUTHORIZED.into_response();
            if let Ok(v) = HeaderValue::from_str(&self.to) {
                resp.headers_mut().insert(axum_htmx::HX_REDIRECT, v);
            }
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        } else {
            Redirect::to(&self.to).into_response()
        }
    }
}

/// A relative path on this site to go back to after sign-in, or `None`. Only `/…` paths
/// that cannot be read as another host (`//host`, `/\host`), with no control characters:
/// never an open redirect.
pub fn safe_next(raw: &str) -> Option<&str> {
    let ok = raw.len() <= 2000
        && raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(|c| c.is_control())
        && !raw.starts_with("/login")
        && !raw.starts_with("/logout");
    ok.then_some(raw)
}

/// The sign-in page, remembering the page the browser asked for (`next`) so a deep link
/// survives signing in. For htmx requests that is the page the fragment belongs to.
fn login_redirect(parts: &Parts) -> AuthRedirect {
    let htmx = is_htmx(parts);
    let wanted = if htmx {
        parts
            .headers
            .get(axum_htmx::HX_CURRENT_URL)
            .and_then(|v| v.to_str().ok())
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            })
    } else {
        Some(
            parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned(),
        )
    };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if parts.extensions.get::<SessionEnded>().is_some() {
        query.append_pair("reason", "session_ended");
    }
    if let Some(next) = wanted.as_deref().filter(|n| *n != "/").and_then(safe_next) {
        query.append_pair("next", next);
    }
    let query = query.finish();
    AuthRedirect {
        to: if query.is_empty() {
            "/login".to_owned()
        } else {
            format!("/login?{query}")
        },
        htmx,
    }
}

/// Where a browser the customer rule refused goes: to change its temporary password, to
/// turn two-step sign-in on, or to sign in.
fn refused(parts: &Parts, denied: Denied) -> AuthRedirect {
    let to = match denied {
        Denied::PasswordChangeRequired => "/force-change-password",
        Denied::TwoFactorEnrolmentRequired => "/account/two-step",
        Denied::Unauthenticated | Denied::Forbidden => return login_redirect(parts),
    };
    AuthRedirect {
        to: to.to_owned(),
        htmx: is_htmx(parts),
    }
}

/// Who the request is from, as the middleware resolved it (anonymous when nobody is).
fn viewer_of(parts: &Parts) -> &Viewer {
    parts
        .extensions
        .get::<Viewer>()
        .unwrap_or(&Viewer::Anonymous)
}

/// A signed-in customer who may see data. Anyone else is sent to sign in, and a customer
/// on a temporary password is sent to change it.
#[derive(Debug, Clone)]
pub struct CurrentCustomer(pub CustomerIdentity);

impl<S: Send + Sync> FromRequestParts<S> for CurrentCustomer {
    type Rejection = AuthRedirect;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let viewer = viewer_of(parts);
        guards::customer_access(viewer)
            .map(|c| CurrentCustomer(c.clone()))
            .map_err(|d| refused(parts, d))
    }
}

/// Whoever may read inventory (the exports): a customer as [`CurrentCustomer`], or an API
/// token with `inventory:read`. The grant itself is made in the handler, by the rule.
#[derive(Debug, Clone)]
pub struct InventoryReader(pub Viewer);

impl<S: Send + Sync> FromRequestParts<S> for InventoryReader {
    type Rejection = AuthRedirect;
    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, Self::Rejection> {
        let viewer = parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .unwrap_or_default();
        if let Viewer::Token(_) = viewer {
            // Refused tokens never get this far (the bearer layer answers 401); a token
            // without `inventory:read` is refused by the grant with 403.
            return Ok(InventoryReader(viewer));
        }
        CurrentCustomer::from_request_parts(parts, s).await?;
        Ok(InventoryReader(viewer))
    }
}

/// Any signed-in customer, including one on a temporary password (for the password page).
#[derive(Debug, Clone)]
pub struct SignedInCustomer(pub CustomerIdentity);

impl<S: Send + Sync> FromRequestParts<S> for SignedInCustomer {
    type Rejection = AuthRedirect;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let viewer = viewer_of(parts);
        guards::signed_in_customer(viewer)
            .map(|c| SignedInCustomer(c.clone()))
            .map_err(|d| refused(parts, d))
    }
}

/// A signed-in customer who may manage their own two-step sign-in: as [`CurrentCustomer`],
/// but also one who must still turn it on (`REQUIRE_2FA`), for whom it is the only page.
#[derive(Debug, Clone)]
pub struct EnrollingCustomer(pub CustomerIdentity);

impl<S: Send + Sync> FromRequestParts<S> for EnrollingCustomer {
    type Rejection = AuthRedirect;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let viewer = viewer_of(parts);
        guards::enrolling_customer(viewer)
            .map(|c| EnrollingCustomer(c.clone()))
            .map_err(|d| refused(parts, d))
    }
}

/// A signed-in customer who manages their company's team (the rule's team grant). A
/// customer who does not is answered 403; anyone else is sent to sign in.
#[derive(Debug, Clone)]
pub struct TeamManager(pub CustomerIdentity);

impl<S: Send + Sync> FromRequestParts<S> for TeamManager {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let viewer = viewer_of(parts);
        match guards::team_grant(viewer) {
            Ok(grant) => Ok(TeamManager(grant.manager().clone())),
            Err(Denied::Forbidden) if matches!(viewer, Viewer::Customer(_)) => {
                Err(crate::error::AppError::Forbidden.into_response())
            }
            Err(d) => Err(refused(parts, d).into_response()),
        }
    }
}

/// The client's address: the socket's peer, or — when the peer is one of
/// `TRUSTED_PROXIES` — the address in the one header `CLIENT_IP_HEADER` names (for
/// `X-Forwarded-For`, the rightmost address that is not a trusted proxy). No other header
/// is read, and a header from anyone else is ignored, so a client cannot choose its own
/// audited or throttled address. A request from a trusted address that names no client
/// did not come through the proxy (cloudflared always names one): it is a client on that
/// host, known by that address.
pub fn client_ip(
    peer: Option<IpAddr>,
    header: Option<&str>,
    which: ClientIpHeader,
    trusted: impl Fn(IpAddr) -> bool,
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted(peer) {
        return Some(peer);
    }
    let value = header.unwrap_or("");
    let named = match which {
        ClientIpHeader::XForwardedFor => value
            .split(',')
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .rev()
            .find(|ip| !trusted(*ip)),
        ClientIpHeader::CfConnectingIp | ClientIpHeader::XRealIp => {
            value.trim().parse::<IpAddr>().ok()
        }
    };
    Some(named.unwrap_or(peer))
}

/// Whether the request reached the portal over https: only a trusted proxy can say so
/// (`X-Forwarded-Proto`), since the portal itself serves plain http. Cookies are `Secure`
/// exactly then, so staff on the LAN over http keep theirs.
pub fn arrived_over_https(state: &AppState, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
    peer.is_some_and(|p| state.config.is_trusted_proxy(p))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// Production start-up is not the place to see this (it depends on traffic): the first
/// request that carries the client-address header from a peer not in `TRUSTED_PROXIES`
/// is logged once.
static UNTRUSTED_PROXY_WARNED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// The socket's peer address, as the accept loop recorded it.
pub fn peer_of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = peer_of(&parts.extensions);
        let which = state.config.client_ip_header;
        let header = parts
            .headers
            .get(which.header_name())
            .and_then(|v| v.to_str().ok());
        let trusted = |ip: IpAddr| state.config.is_trusted_proxy(ip);
        if header.is_some()
            && peer.is_some_and(|p| !trusted(p))
            && state.config.mode == crate::config::Mode::Production
            && !UNTRUSTED_PROXY_WARNED.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(
                peer = ?peer,
                header = which.header_name(),
                "a request names its client in the configured header, from an address not in TRUSTED_PROXIES: the header is ignored, so every client behind that proxy shares its address; add the proxy to TRUSTED_PROXIES (logged once)"
            );
        }
        let resolved = client_ip(peer, header, which, trusted);
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(crate::auth::MAX_USER_AGENT_CHARS).collect());
        Ok(ClientInfo {
            ip: resolved.map(|ip| ip.to_string()),
            user_agent,
        })
    }
}

/// The raw `cp_device` cookie (known-device marks for the sign-in throttle), if any.
#[derive(Debug, Clone, Default)]
pub struct DeviceCookie(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for DeviceCookie {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let value = super::cookies::value(&parts.headers, crate::auth::device::COOKIE_NAME);
        Ok(DeviceCookie(value))
    }
}

impl DeviceCookie {
    /// Whether the browser has signed in to the account of `throttle_key` before.
    pub fn knows(&self, state: &AppState, throttle_key: &str) -> bool {
        state.devices.knows(self.0.as_deref(), throttle_key)
    }

    /// Adds the account's mark to the response of a successful sign-in.
    pub fn remember(&self, state: &AppState, throttle_key: &str, resp: &mut Response) {
        let value = state.devices.remember(self.0.as_deref(), throttle_key);
        super::cookies::set(
            resp.headers_mut(),
            crate::auth::device::COOKIE_NAME,
            &value,
            Some(crate::auth::device::MAX_AGE_SECONDS),
        );
    }
}

/// The browser's "trust this browser" mark (`cp_trust`), which skips the two-step code
/// of the account it was issued for while it is live.
#[derive(Debug, Clone)]
pub struct TrustCookie(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for TrustCookie {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let value = super::cookies::value(&parts.headers, crate::auth::two_factor::TRUST_COOKIE);
        Ok(TrustCookie(value))
    }
}

impl TrustCookie {
    /// Sets `mark` on the response of a sign-in whose code was right.
    pub fn grant(mark: &str, resp: &mut Response) {
        super::cookies::set(
            resp.headers_mut(),
            crate::auth::two_factor::TRUST_COOKIE,
            mark,
            Some(crate::auth::two_factor::TRUST_DAYS as u64 * 24 * 3600),
        );
    }
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let viewer = parts
            .extensions
            .get::<Viewer>()
            .cloned()
            .unwrap_or_default();
        // Flash messages are shown once: taking them removes them from the session. Only
        // remove when there is one — `remove` marks the session modified, and a modified
        // session is written back to the database at the end of the request.
        let mut flashes = Vec::new();
        if !matches!(viewer, Viewer::Anonymous)
            && let Some(session) = parts.extensions.get::<Session>()
            && let Ok(Some(list)) = session.get::<Vec<Flash>>(FLASH_KEY).await
        {
            let _ = session.remove_value(FLASH_KEY).await;
            flashes = list;
        }
        Ok(page_ctx(state, &parts.extensions, flashes))
    }
}

/// What every page needs, from the request's viewer and CSRF token (both set by the
/// middleware) and the portal's settings: the one way a `PageCtx` is made.
pub fn page_ctx(state: &AppState, extensions: &Extensions, flashes: Vec<Flash>) -> PageCtx {
    PageCtx {
        viewer: extensions.get::<Viewer>().cloned().unwrap_or_default(),
        csrf_token: extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default(),
        flashes,
        demo_data: state.demo_erp(),
        outbox: state.mailer.outbox().is_some(),
        zone: state.config.portal_zone.clone(),
    }
}

/// A signed-in admin. Anyone else — a customer included — is sent to the admin sign-in.
#[derive(Debug, Clone)]
pub struct CurrentAdmin(pub crate::auth::AdminIdentity);

impl<S: Send + Sync> FromRequestParts<S> for CurrentAdmin {
    type Rejection = AuthRedirect;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let viewer = viewer_of(parts);
        guards::admin_access(viewer)
            .map(|a| CurrentAdmin(a.clone()))
            .map_err(|d| admin_refused(parts, d))
    }
}

/// Where a refused admin page sends the browser: to enrol in two-step sign-in when that
/// is what is missing (`REQUIRE_2FA`), to the staff sign-in otherwise.
fn admin_refused(parts: &Parts, denied: Denied) -> AuthRedirect {
    let to = match denied {
        Denied::TwoFactorEnrolmentRequired => "/admin/two-step",
        _ => "/admin-login",
    };
    AuthRedirect {
        to: to.to_owned(),
        htmx: is_htmx(parts),
    }
}

/// An admin session that may manage its own two-step sign-in: as [`CurrentAdmin`], but
/// also one that must still turn it on (`REQUIRE_2FA`), for whom it is the only page.
#[derive(Debug, Clone)]
pub struct EnrollingAdmin(pub crate::auth::AdminIdentity);

impl<S: Send + Sync> FromRequestParts<S> for EnrollingAdmin {
    type Rejection = AuthRedirect;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let viewer = viewer_of(parts);
        guards::enrolling_admin(viewer)
            .map(|a| EnrollingAdmin(a.clone()))
            .map_err(|d| admin_refused(parts, d))
    }
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use crate::config::ClientIpHeader::{self, *};
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn resolve(
        peer: &str,
        header: Option<&str>,
        which: ClientIpHeader,
        trusted: &[&str],
    ) -> String {
        let nets: Vec<ipnet::IpNet> = trusted.iter().map(|n| n.parse().unwrap()).collect();
        client_ip(Some(ip(peer)), header, which, |a| {
            nets.iter().any(|n| n.contains(&a))
        })
        .unwrap()
        .to_string()
    }

    #[test]
    fn behind_the_tunnel_the_client_is_the_one_cloudflare_names() {
        let lo = ["127.0.0.1/32", "::1/128"];
        assert_eq!(
            resolve("127.0.0.1", Some("198.51.100.1"), CfConnectingIp, &lo),
            "198.51.100.1"
        );
        // No header: not through the tunnel, a client on the host itself.
        assert_eq!(resolve("127.0.0.1", None, CfConnectingIp, &lo), "127.0.0.1");
        assert_eq!(
            resolve("127.0.0.1", Some("garbage"), CfConnectingIp, &lo),
            "127.0.0.1"
        );
        // A client on the LAN cannot name itself.
        assert_eq!(
            resolve("192.168.1.20", Some("198.51.100.1"), CfConnectingIp, &lo),
            "192.168.1.20"
        );
    }

    #[test]
    fn forwarded_for_takes_the_rightmost_address_no_proxy_added() {
        let proxies = ["10.0.0.0/8"];
        let xff = |v| resolve("10.0.0.5", Some(v), XForwardedFor, &proxies);
        assert_eq!(xff("1.2.3.4, 203.0.113.7"), "203.0.113.7");
        assert_eq!(xff("203.0.113.7, 10.0.0.9"), "203.0.113.7");
        assert_eq!(xff("garbage"), "10.0.0.5");
        assert_eq!(
            resolve("203.0.113.7", Some("1.2.3.4"), XForwardedFor, &proxies),
            "203.0.113.7",
            "a client cannot pick its IP"
        );
        assert_eq!(
            resolve("10.0.0.5", Some("198.51.100.3"), XRealIp, &proxies),
            "198.51.100.3"
        );
        assert_eq!(
            client_ip(None, Some("1.2.3.4"), XForwardedFor, |_| true),
            None
        );
    }
}
