//! The admin backend: each feature's page, fragments and handlers side by side. Pages read
//! and change data only through the GraphQL schema (in-process), as the admin.

pub mod analytics;
pub mod api;
pub mod audit;
pub mod customers;
pub mod login;
pub mod outbox;
pub mod panel;
pub mod reports;
pub mod sessions;

use axum::Router;
use time::OffsetDateTime;

use crate::domain::Zone;
use crate::state::AppState;

/// `MM/DD/YYYY HH:MM CST` for admin tables.
pub fn when(zone: &Zone, t: &OffsetDateTime) -> String {
    crate::domain::wall_clock(zone, t, false)
}

pub fn parse_when(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// Every address of the admin backend.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(analytics::routes())
        .merge(api::routes())
        .merge(audit::routes())
        .merge(customers::routes())
        .merge(login::routes())
        .merge(outbox::routes())
        .merge(panel::routes())
        .merge(reports::routes())
        .merge(sessions::routes())
}
