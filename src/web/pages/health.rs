//! `/healthz`: 200 whenever the process serves, with the state of what it depends on.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::AppState;

pub async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let started = std::time::Instant::now();
    let app_db = match state.store.ping().await {
        Ok(()) => {
            json!({ "status": "ok", "backend": state.store.backend_name(), "latencyMs": started.elapsed().as_secs_f64() * 1000.0 })
        }
        Err(e) => {
            tracing::warn!(error = %e, "health check: app database down");
            json!({ "status": "down", "backend": state.store.backend_name() })
        }
    };
    let erp_name = state.inventory.erp_name();
    let started = std::time::Instant::now();
    let erp = match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        state.inventory.ping_erp(),
    )
    .await
    {
        Ok(Ok(())) => {
            json!({ "status": "ok", "backend": erp_name, "latencyMs": started.elapsed().as_secs_f64() * 1000.0 })
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: ERP down");
            json!({ "status": "down", "backend": erp_name })
        }
        Err(_) => json!({ "status": "down", "backend": erp_name, "reason": "timeout" }),
    };
    let ok = app_db["status"] == "ok" && erp["status"] == "ok";
    Json(json!({
        "status": if ok { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "appDb": app_db,
        "erp": erp,
    }))
}
