//! Logging: `RUST_LOG` filters (default `info`); secrets are never logged anywhere.

use tracing_subscriber::EnvFilter;

/// `rust_log` is `RUST_LOG` from the environment or `.env`.
pub fn init(rust_log: Option<&str>) {
    let filter = rust_log
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new("info,tower_http=warn,tower_sessions=warn"));
    // Colour only for a person at a terminal: escape codes in a log file or a journal
    // make it hard to read and to search.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .try_init();
}
