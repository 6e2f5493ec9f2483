//! Logging: `RUST_LOG` filters (default `info`); secrets are never logged anywhere.

use tracing_subscriber::EnvFilter;

/// `rust_log` is `RUST_LOG` from the environment or `.env`.
pub fn init(rust_log: Option<&str>) {
    let filter = rust_log
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new("info,tower_http=warn,tower_sessions=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
