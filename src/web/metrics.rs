//! `/metrics` in the Prometheus text format: requests by route and status, latency
//! histograms per route, ERP reads and the circuit's state, the inventory cache, the app
//! database's pool, sign-ins the throttle refused, mails sent and failed, and signed-in
//! sessions (kept by `telemetry::metrics`; this module counts requests and samples the
//! services when asked).
//!
//! Only for monitoring: answered to addresses in `METRICS_ALLOW` (loopback by default)
//! or to `Authorization: Bearer <METRICS_TOKEN>`; everyone else gets 404, so the endpoint
//! does not advertise itself.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::auth::ClientInfo;
use crate::state::AppState;
use crate::telemetry::metrics::Metrics;

/// Counts every request under its route template.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // The template is shared (an `Arc` inside): no copy of it per request.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let started = Instant::now();
    let resp = next.run(req).await;
    state.metrics.observe_request(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

/// `GET /metrics`.
pub async fn show(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: axum::http::HeaderMap,
) -> Response {
    let by_address = client
        .ip
        .as_deref()
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| state.config.metrics_allow.iter().any(|n| n.contains(&ip)));
    let by_token = match (
        &state.config.metrics_token,
        headers.get(header::AUTHORIZATION),
    ) {
        (Some(token), Some(given)) => given
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|v| bool::from(v.trim().as_bytes().ct_eq(token.expose().as_bytes()))),
        _ => false,
    };
    if !(by_address || by_token) {
        return StatusCode::NOT_FOUND.into_response();
    }
    sample(&state, &state.metrics).await;
    let out = state.metrics.render();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// Copies what the services count into the application's metrics, as they stand now.
async fn sample(state: &AppState, m: &Metrics) {
    let erp = state.inventory.erp_counters();
    m.total("portal_erp_reads_total", &[], erp.reads);
    m.total("portal_erp_read_failures_total", &[], erp.failures);
    let open = u8::from(state.inventory.erp_circuit_open());
    m.gauge("portal_erp_circuit_open", &[], f64::from(open));
    let cache = state.inventory.cache_usage();
    m.gauge("portal_inventory_cache_scopes", &[], cache.scopes as f64);
    m.gauge("portal_inventory_cache_rows", &[], cache.rows as f64);
    m.gauge("portal_inventory_cache_bytes", &[], cache.bytes as f64);
    let (pinned, pinned_bytes) = state.inventory.pinned();
    m.gauge("portal_inventory_pinned_snapshots", &[], pinned as f64);
    m.gauge("portal_inventory_pinned_bytes", &[], pinned_bytes as f64);
    let pool = state.store.pool_usage().await;
    m.gauge("portal_app_db_pool_in_use", &[], pool.in_use as f64);
    m.gauge("portal_app_db_pool_max", &[], pool.max as f64);
    for (who, counts) in [
        ("customer", state.auth.throttle_refusals()),
        ("staff", state.admin_auth.throttle_refusals()),
    ] {
        for (reason, n) in [
            ("too_many", counts.too_many.load(Ordering::Relaxed)),
            ("unavailable", counts.unavailable.load(Ordering::Relaxed)),
        ] {
            m.total(
                "portal_signin_throttled_total",
                &[("who", who), ("reason", reason)],
                n,
            );
        }
    }
    let mail = state.mailer.counts();
    m.total("portal_mails_total", &[("outcome", "sent")], mail.sent);
    m.total("portal_mails_total", &[("outcome", "failed")], mail.failed);
    let runs = state.scheduler.counts();
    for (outcome, n) in [
        ("sent", runs.sent),
        ("skipped", runs.skipped),
        ("retrying", runs.retrying),
        ("failed", runs.failed),
    ] {
        m.total("portal_report_runs_total", &[("outcome", outcome)], n);
    }
    if let Ok(sessions) = state.store.list_active_sessions().await {
        m.gauge("portal_customer_sessions", &[], sessions.len() as f64);
    }
}
