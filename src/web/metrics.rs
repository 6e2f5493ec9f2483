//! `/metrics` in the Prometheus text format: requests by route and status, latency
//! histograms per route, ERP reads and the circuit's state, the inventory cache, the app
//! database's pool, sign-ins the throttle refused, mails sent and failed, and signed-in
//! sessions.
//!
//! Only for monitoring: answered to addresses in `METRICS_ALLOW` (loopback by default)
//! or to `Authorization: Bearer <METRICS_TOKEN>`; everyone else gets 404, so the endpoint
//! does not advertise itself.

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::auth::ClientInfo;
use crate::state::AppState;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Request counters. Keys are route templates (`/admin/customers/{id}`), never raw paths,
/// so their number is bounded by the router; addresses no route matches all count as
/// `unmatched`.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    fn observe(&self, route: &str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .entry((route.to_owned(), status))
            .or_default() += 1;
        let mut latency = self.latency.lock();
        let h = latency.entry(route.to_owned()).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    fn render_requests(&self, out: &mut String) {
        out.push_str("# HELP portal_http_requests_total Requests answered, by route and status.\n# TYPE portal_http_requests_total counter\n");
        for ((route, status), n) in self.requests.lock().iter() {
            let _ = writeln!(
                out,
                "portal_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP portal_http_request_duration_seconds Time to answer, by route.\n# TYPE portal_http_request_duration_seconds histogram\n");
        for (route, h) in self.latency.lock().iter() {
            let route = escape(route);
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "portal_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "portal_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\nportal_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\nportal_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count, h.sum, h.count
            );
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counts every request under its route template.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let started = Instant::now();
    let resp = next.run(req).await;
    state.metrics.observe(
        &route,
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
    let mut out = String::with_capacity(8 * 1024);
    state.metrics.render_requests(&mut out);
    let erp = state.inventory.erp_counters();
    let cache = state.inventory.cache_usage();
    let pinned = state.inventory.pinned();
    let _ = write!(
        out,
        "# HELP portal_erp_reads_total Inventory reads from the ERP.\n# TYPE portal_erp_reads_total counter\nportal_erp_reads_total {}\n\
         # HELP portal_erp_read_failures_total ERP reads that failed or timed out.\n# TYPE portal_erp_read_failures_total counter\nportal_erp_read_failures_total {}\n\
         # HELP portal_erp_circuit_open 1 while the circuit around the ERP is open.\n# TYPE portal_erp_circuit_open gauge\nportal_erp_circuit_open {}\n\
         # HELP portal_inventory_cache_scopes Scopes with cached inventory.\n# TYPE portal_inventory_cache_scopes gauge\nportal_inventory_cache_scopes {}\n\
         # HELP portal_inventory_cache_rows Inventory rows cached, all scopes together.\n# TYPE portal_inventory_cache_rows gauge\nportal_inventory_cache_rows {}\n\
         # HELP portal_inventory_cache_bytes Approximate bytes of cached inventory.\n# TYPE portal_inventory_cache_bytes gauge\nportal_inventory_cache_bytes {}\n\
         # HELP portal_inventory_pinned_snapshots Snapshots kept for paging cursors.\n# TYPE portal_inventory_pinned_snapshots gauge\nportal_inventory_pinned_snapshots {}\n\
         # HELP portal_inventory_pinned_bytes Approximate bytes of snapshots kept for paging cursors.\n# TYPE portal_inventory_pinned_bytes gauge\nportal_inventory_pinned_bytes {}\n",
        erp.reads,
        erp.failures,
        u8::from(state.inventory.erp_circuit_open()),
        cache.scopes,
        cache.rows,
        cache.bytes,
        pinned.0,
        pinned.1,
    );
    let pool = state.store.pool_usage().await;
    let _ = write!(
        out,
        "# HELP portal_app_db_pool_in_use App database connections lent out now.\n# TYPE portal_app_db_pool_in_use gauge\nportal_app_db_pool_in_use {}\n\
         # HELP portal_app_db_pool_max App database connections there may be.\n# TYPE portal_app_db_pool_max gauge\nportal_app_db_pool_max {}\n",
        pool.in_use, pool.max
    );
    out.push_str("# HELP portal_signin_throttled_total Sign-in attempts refused: too many failures, or not countable (fail closed).\n# TYPE portal_signin_throttled_total counter\n");
    for (who, counts) in [
        ("customer", state.auth.throttle_refusals()),
        ("staff", state.admin_auth.throttle_refusals()),
    ] {
        let _ = write!(
            out,
            "portal_signin_throttled_total{{who=\"{who}\",reason=\"too_many\"}} {}\nportal_signin_throttled_total{{who=\"{who}\",reason=\"unavailable\"}} {}\n",
            counts.too_many.load(Ordering::Relaxed),
            counts.unavailable.load(Ordering::Relaxed)
        );
    }
    let mail = state.mailer.counts();
    let _ = write!(
        out,
        "# HELP portal_mails_total Mails by outcome: sent (or filed in the demo outbox) or failed (not confirmed sent).\n# TYPE portal_mails_total counter\nportal_mails_total{{outcome=\"sent\"}} {}\nportal_mails_total{{outcome=\"failed\"}} {}\n",
        mail.sent, mail.failed
    );
    let runs = state.scheduler.counts();
    let _ = write!(
        out,
        "# HELP portal_report_runs_total Scheduled report runs by this instance, by outcome (retrying: a failed try that will be repeated; failed: given up until the next time).\n# TYPE portal_report_runs_total counter\nportal_report_runs_total{{outcome=\"sent\"}} {}\nportal_report_runs_total{{outcome=\"skipped\"}} {}\nportal_report_runs_total{{outcome=\"retrying\"}} {}\nportal_report_runs_total{{outcome=\"failed\"}} {}\n",
        runs.sent, runs.skipped, runs.retrying, runs.failed
    );
    if let Ok(sessions) = state.store.list_active_sessions().await {
        let _ = write!(
            out,
            "# HELP portal_customer_sessions Customers signed in now.\n# TYPE portal_customer_sessions gauge\nportal_customer_sessions {}\n",
            sessions.len()
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative() {
        let m = Metrics::default();
        m.observe("/inventory", 200, 0.003);
        m.observe("/inventory", 200, 0.2);
        m.observe("/inventory", 503, 20.0);
        let mut out = String::new();
        m.render_requests(&mut out);
        assert!(out.contains("portal_http_requests_total{route=\"/inventory\",status=\"200\"} 2"));
        assert!(out.contains("portal_http_requests_total{route=\"/inventory\",status=\"503\"} 1"));
        assert!(out.contains("le=\"0.005\"} 1"));
        assert!(out.contains("le=\"0.25\"} 2"));
        assert!(out.contains("le=\"10\"} 2"));
        assert!(out.contains("le=\"+Inf\"} 3"));
        assert!(out.contains("portal_http_request_duration_seconds_count{route=\"/inventory\"} 3"));
    }
}
