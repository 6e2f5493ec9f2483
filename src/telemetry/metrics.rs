//! The numbers `/metrics` shows, kept with the `metrics` crate and written in Prometheus'
//! text format by its exporter.
//!
//! Each application keeps its own recorder (a *local* one): two portals in one process —
//! as the tests run them — count apart, and nothing here is a global. Libraries that
//! report through the process-wide recorder (mobc's SQL Server pool counters and wait
//! times) are heard only where the binary installs one ([`install_process_recorder`]);
//! `/metrics` then shows those too.

use std::sync::OnceLock;

use metrics::Label;
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Time to answer, by route: a histogram with these upper bounds (seconds).
pub const REQUEST_SECONDS: &str = "portal_http_request_duration_seconds";
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Every series the portal writes, with its help text (one place for both).
const DESCRIBED: &[(&str, &str)] = &[
    (
        "portal_http_requests_total",
        "Requests answered, by route and status.",
    ),
    (REQUEST_SECONDS, "Time to answer, by route."),
    ("portal_erp_reads_total", "Inventory reads from the ERP."),
    (
        "portal_erp_read_failures_total",
        "ERP reads that failed or timed out.",
    ),
    (
        "portal_erp_circuit_open",
        "1 while the circuit around the ERP is open.",
    ),
    (
        "portal_inventory_cache_scopes",
        "Scopes with cached inventory.",
    ),
    (
        "portal_inventory_cache_rows",
        "Inventory rows cached, all scopes together.",
    ),
    (
        "portal_inventory_cache_bytes",
        "Approximate bytes of cached inventory.",
    ),
    (
        "portal_inventory_pinned_snapshots",
        "Snapshots kept for paging cursors.",
    ),
    (
        "portal_inventory_pinned_bytes",
        "Approximate bytes of snapshots kept for paging cursors.",
    ),
    (
        "portal_app_db_pool_in_use",
        "App database connections lent out now.",
    ),
    (
        "portal_app_db_pool_max",
        "App database connections there may be.",
    ),
    (
        "portal_signin_throttled_total",
        "Sign-in attempts refused: too many failures, or not countable (fail closed).",
    ),
    (
        "portal_mails_total",
        "Mails by outcome: sent (or filed in the demo outbox) or failed (not confirmed sent).",
    ),
    (
        "portal_report_runs_total",
        "Scheduled report runs by this instance, by outcome (retrying: a failed try that will be repeated; failed: given up until the next time).",
    ),
    ("portal_customer_sessions", "Customers signed in now."),
];

/// The process-wide recorder's handle, once the binary has installed one.
static PROCESS: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs a process-wide recorder for libraries that report through it (mobc). Called
/// once by the binary; a second call (or a recorder already there) changes nothing.
pub fn install_process_recorder() {
    if PROCESS.get().is_some() {
        return;
    }
    if let Ok(handle) = PrometheusBuilder::new().install_recorder() {
        let _ = PROCESS.set(handle);
    }
}

/// A route's request series, registered once: a request then costs two atomic updates
/// instead of building, hashing and looking up a labelled key in the registry.
struct RouteSeries {
    /// By status (a route answers a handful).
    counts: Vec<(u16, metrics::Counter)>,
    latency: metrics::Histogram,
}

/// Route templates and statuses are few (the router's paths and "unmatched"); this only
/// bounds the map should that ever change.
const MAX_ROUTE_SERIES: usize = 1_000;

/// One application's numbers.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    routes: parking_lot::RwLock<std::collections::HashMap<String, RouteSeries>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

fn labels(pairs: &[(&'static str, &str)]) -> Vec<Label> {
    pairs
        .iter()
        .map(|(k, v)| Label::new(*k, (*v).to_owned()))
        .collect()
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.to_owned()), &BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics {
            recorder,
            handle,
            routes: Default::default(),
        };
        metrics.with(|| {
            for (name, help) in DESCRIBED {
                // The kind in the description does not matter to the exporter: it
                // writes the `# TYPE` line from the kind of series registered.
                metrics::describe_counter!(*name, *help);
            }
        });
        metrics
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// One answered request under its route template.
    pub fn observe_request(&self, route: &str, status: u16, seconds: f64) {
        {
            let routes = self.routes.read();
            if let Some(series) = routes.get(route)
                && let Some((_, count)) = series.counts.iter().find(|(s, _)| *s == status)
            {
                count.increment(1);
                series.latency.record(seconds);
                return;
            }
        }
        let count = self.with(|| {
            metrics::counter!(
                "portal_http_requests_total",
                "route" => route.to_owned(),
                "status" => status.to_string()
            )
        });
        count.increment(1);
        let mut routes = self.routes.write();
        if routes.len() >= MAX_ROUTE_SERIES && !routes.contains_key(route) {
            // Counted above through the registry, as every request was before this map.
            self.with(|| {
                metrics::histogram!(REQUEST_SECONDS, "route" => route.to_owned()).record(seconds)
            });
            return;
        }
        let series = routes
            .entry(route.to_owned())
            .or_insert_with(|| RouteSeries {
                counts: Vec::new(),
                latency: self
                    .with(|| metrics::histogram!(REQUEST_SECONDS, "route" => route.to_owned())),
            });
        series.latency.record(seconds);
        if !series.counts.iter().any(|(s, _)| *s == status) {
            series.counts.push((status, count));
        }
    }

    /// A gauge set to what was just sampled.
    pub fn gauge(&self, name: &'static str, pairs: &[(&'static str, &str)], value: f64) {
        let labels = labels(pairs);
        self.with(|| metrics::gauge!(name, labels).set(value));
    }

    /// A counter kept elsewhere (an atomic in a service), copied in as it stands.
    pub fn total(&self, name: &'static str, pairs: &[(&'static str, &str)], value: u64) {
        let labels = labels(pairs);
        self.with(|| metrics::counter!(name, labels).absolute(value));
    }

    /// Everything, in Prometheus' text format (the process-wide recorder's series after
    /// this application's).
    pub fn render(&self) -> String {
        let mut out = self.handle.render();
        if let Some(process) = PROCESS.get() {
            out.push_str(&process.render());
        }
        out
    }

    /// Folds recorded samples into the histograms so they do not pile up between
    /// scrapes; run every few seconds.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
        if let Some(process) = PROCESS.get() {
            process.run_upkeep();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_and_timed_in_cumulative_buckets() {
        let m = Metrics::new();
        m.observe_request("/inventory", 200, 0.003);
        m.observe_request("/inventory", 200, 0.2);
        m.observe_request("/inventory", 503, 20.0);
        m.gauge("portal_app_db_pool_max", &[], 4.0);
        m.total("portal_mails_total", &[("outcome", "sent")], 0);
        let out = m.render();
        assert!(
            out.contains("portal_http_requests_total{route=\"/inventory\",status=\"200\"} 2"),
            "{out}"
        );
        assert!(out.contains("portal_http_requests_total{route=\"/inventory\",status=\"503\"} 1"));
        assert!(out.contains("le=\"0.005\"} 1"), "{out}");
        assert!(out.contains("le=\"0.25\"} 2"));
        assert!(out.contains("le=\"10\"} 2"));
        assert!(out.contains("le=\"+Inf\"} 3"));
        assert!(out.contains("portal_http_request_duration_seconds_count{route=\"/inventory\"} 3"));
        assert!(
            out.contains(
                "# HELP portal_http_requests_total Requests answered, by route and status."
            )
        );
        assert!(out.contains("portal_app_db_pool_max 4\n"), "{out}");
        assert!(
            out.contains("portal_mails_total{outcome=\"sent\"} 0"),
            "{out}"
        );
        // Another application's numbers are its own.
        let other = Metrics::new();
        assert!(!other.render().contains("portal_http_requests_total{"));
    }

    #[test]
    fn routes_past_the_kept_series_are_still_counted() {
        let m = Metrics::new();
        for i in 0..MAX_ROUTE_SERIES {
            m.observe_request(&format!("/r{i}"), 200, 0.001);
        }
        assert_eq!(m.routes.read().len(), MAX_ROUTE_SERIES);
        for _ in 0..2 {
            m.observe_request("/one-more", 404, 0.001);
        }
        m.observe_request("/r7", 200, 0.001);
        let out = m.render();
        assert_eq!(
            m.routes.read().len(),
            MAX_ROUTE_SERIES,
            "the map stays bounded"
        );
        assert!(
            out.contains("portal_http_requests_total{route=\"/one-more\",status=\"404\"} 2"),
            "{out}"
        );
        assert!(out.contains("portal_http_request_duration_seconds_count{route=\"/one-more\"} 2"));
        assert!(out.contains("portal_http_requests_total{route=\"/r7\",status=\"200\"} 2"));
    }
}
