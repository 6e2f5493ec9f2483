//! Everything a handler may need, passed as axum state. No globals: config and ports
//! travel here.

use std::sync::Arc;

use crate::auth::csrf::CsrfKeys;
use crate::auth::service::AuthService;
use crate::config::Config;
use crate::graphql::PortalSchema;
use crate::inventory::InventoryService;
use crate::store::AppStore;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn AppStore>,
    pub auth: Arc<AuthService>,
    pub admin_auth: Arc<crate::auth::admin::AdminAuth>,
    /// The schema as `/graphql` runs it (every operation validated).
    pub schema: PortalSchema,
    /// The same schema as pages run their compiled-in operations (`graphql::Schemas`).
    pub page_schema: PortalSchema,
    /// Scoped, cached inventory; the GraphQL resolver and the exports share it.
    pub inventory: Arc<InventoryService>,
    pub customers: Arc<crate::customers::CustomerAdmin>,
    pub mailer: Arc<crate::mail::Mailer>,
    pub csrf: CsrfKeys,
    /// Signs the known-device marks that lift the sign-in throttle's per-account delay.
    pub devices: crate::auth::device::DeviceKeys,
    /// API tokens: the bearer layer checks them, the admin API page manages them.
    pub tokens: Arc<crate::auth::tokens::ApiTokens>,
    /// Rows per minute each token and browser session may ask of `/graphql`.
    pub budgets: Arc<crate::graphql::cost::Budgets>,
    /// Where large answers wait their turn.
    pub heavy: Arc<crate::graphql::cost::HeavyLane>,
    /// Request counters and latencies for `/metrics`.
    pub metrics: Arc<crate::telemetry::metrics::Metrics>,
    /// Sends scheduled reports; its keys check unsubscribe links.
    pub scheduler: Arc<crate::reports::Scheduler>,
    /// The daily inventory record and the forecasts made from it.
    pub history: Arc<crate::history::History>,
    /// Whether this instance can serve (`/readyz`), and what was last found (`/healthz`).
    pub readiness: Arc<crate::readiness::Readiness>,
}

impl AppState {
    /// Whether pages show the "demo data" banner.
    pub fn demo_erp(&self) -> bool {
        matches!(self.config.erp, crate::config::ErpConfig::Demo { .. })
    }
}
