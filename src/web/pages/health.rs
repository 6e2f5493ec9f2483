//! `/healthz` (liveness) and `/readyz` (readiness).
//!
//! Wire `/healthz` to whatever restarts a stuck process (a service manager, a container's
//! liveness probe): it answers 200 whenever the process serves and does no I/O, reporting
//! what the last readiness look found. Wire `/readyz` to whatever sends traffic (a load
//! balancer): it answers 503, naming the failing dependency, while the app database
//! cannot write and read back, the ERP cannot be read (or its circuit is open), or mail
//! cannot go out.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use crate::readiness::Look;
use crate::state::AppState;

fn state_of(r: &Result<(), String>) -> Value {
    match r {
        Ok(()) => json!({ "status": "ok" }),
        Err(why) => json!({ "status": "down", "reason": why }),
    }
}

/// `GET /healthz`: the process serves (always 200), with the last look's findings.
pub async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let last = state.readiness.last_known();
    let erp_down = state.inventory.erp_circuit_open()
        || last.as_ref().is_some_and(|l| l.erp.is_err())
        || state.inventory.last_read_failed();
    let app_db = match &last {
        Some(l) if l.app_db_write.is_ok() && l.app_db_read.is_ok() => "ok",
        Some(_) => "down",
        None => "unknown",
    };
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "appDb": { "status": app_db, "backend": state.store.backend_name() },
        "erp": { "status": if erp_down { "down" } else { "ok" }, "backend": state.inventory.erp_name(), "circuitOpen": state.inventory.erp_circuit_open() },
        "checkedAt": last.map(|l| l.at.to_string()),
    }))
}

fn look_json(look: &Look, state: &AppState) -> Value {
    let status = |r: &Result<(), String>| if r.is_ok() { "ok" } else { "down" };
    json!({
        "status": if look.ready() { "ready" } else { "not_ready" },
        "failing": look.failing(),
        "appDb": {
            "read": status(&look.app_db_read),
            "write": status(&look.app_db_write),
            "backend": state.store.backend_name(),
            "reason": look.app_db_write.as_ref().err().or(look.app_db_read.as_ref().err()),
        },
        "erp": {
            "status": if look.erp.is_ok() && !look.erp_circuit_open { "ok" } else { "down" },
            "read": state_of(&look.erp),
            "circuitOpen": look.erp_circuit_open,
            "backend": state.inventory.erp_name(),
        },
        "mail": {
            "status": status(&look.mail),
            "transport": look.mail_transport,
            "reason": look.mail.as_ref().err(),
        },
    })
}

/// `GET /readyz`: 200 when every dependency works, else 503 naming what does not.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let look = state.readiness.look().await;
    let code = if look.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(look_json(&look, &state)))
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    // `/healthz` is routed with the static files, outside the session layers (web::router).
    Router::new().route("/readyz", get(readyz))
}
