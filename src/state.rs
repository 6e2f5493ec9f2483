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
    pub schema: PortalSchema,
    /// Scoped, cached inventory; the GraphQL resolver and the exports share it.
    pub inventory: Arc<InventoryService>,
    pub csrf: CsrfKeys,
    /// The local admin's Werkzeug hash: `ADMIN_PASSWORD_HASH`, or in demo mode the one
    /// generated at first start.
    pub admin_password_hash: Arc<crate::config::Secret>,
}

impl AppState {
    /// Whether pages show the "demo data" banner.
    pub fn demo_erp(&self) -> bool {
        matches!(self.config.erp, crate::config::ErpConfig::Demo { .. })
    }
}
