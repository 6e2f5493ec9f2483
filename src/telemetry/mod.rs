//! What the portal tells its operators: logs (`RUST_LOG` filters, default `info`; secrets
//! are never logged anywhere), the id of the request being handled, and the metrics
//! `/metrics` exposes.

pub mod metrics;

use tracing_subscriber::EnvFilter;

tokio::task_local! {
    /// The id of the request being handled: in every log line (its span), in the
    /// `X-Request-Id` response header, and as the reference on error pages.
    pub static REQUEST_ID: String;
}

/// The id of the request being handled, if any.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// `rust_log` is `RUST_LOG` and `log_format` is `LOG_FORMAT` (`text` or `json`) from the
/// environment or `.env`. JSON puts one object per line with the request's span (and so
/// its request id) on every line, for log shippers.
pub fn init(rust_log: Option<&str>, log_format: Option<&str>) {
    let filter = rust_log
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new("info,tower_http=warn,tower_sessions=warn"));
    // Colour only for a person at a terminal: escape codes in a log file or a journal
    // make it hard to read and to search.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    if log_format.is_some_and(|f| f.trim().eq_ignore_ascii_case("json")) {
        let _ = tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_target(false)
            .with_current_span(true)
            .try_init();
    } else {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_ansi(ansi)
            .try_init();
    }
}
