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

/// `/readyz`: whether this instance should get traffic — the app database answers a read
/// *and* a write, the ERP answers, and mail can go out. 503 with the failing part named
/// when not; a load balancer takes the instance out until it is ready again.
pub async fn readyz(State(state): State<AppState>) -> (axum::http::StatusCode, Json<Value>) {
    let deadline = std::time::Duration::from_secs(5);
    let read = tokio::time::timeout(deadline, state.store.ping()).await;
    let now = crate::store::format_ts(time::OffsetDateTime::now_utc());
    let write = tokio::time::timeout(
        deadline,
        state.store.set_setting("readiness_heartbeat", &now),
    )
    .await;
    let status = |ok: bool| if ok { "ok" } else { "down" };
    let read_ok = matches!(read, Ok(Ok(())));
    let write_ok = matches!(write, Ok(Ok(())));
    if let Ok(Err(e)) = &write {
        tracing::warn!(error = %e, "readiness: the app database cannot write");
    }
    let erp_ok = matches!(
        tokio::time::timeout(deadline, state.inventory.ping_erp()).await,
        Ok(Ok(()))
    );
    let mail = if state.config.smtp.is_some() {
        "smtp"
    } else if state.mailer.outbox().is_some() {
        "outbox"
    } else {
        "none"
    };
    let mail_ok = mail != "none";
    let ready = read_ok && write_ok && erp_ok && mail_ok;
    let code = if ready {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(json!({
            "status": if ready { "ready" } else { "not_ready" },
            "appDb": { "read": status(read_ok), "write": status(write_ok), "backend": state.store.backend_name() },
            "erp": { "status": status(erp_ok), "backend": state.inventory.erp_name() },
            "mail": { "status": status(mail_ok), "transport": mail },
        })),
    )
}
