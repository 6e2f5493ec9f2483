//! `/admin/panel`: the dashboard, linking every admin function, with live counts.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use maud::{Markup, html};

use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec;
use crate::web::extractors::CurrentAdmin;
use crate::web::layout::{self, PageCtx};
use crate::web::ops::{PanelCounts, panel_counts};

pub async fn show(
    State(state): State<AppState>,
    CurrentAdmin(admin): CurrentAdmin,
    ctx: PageCtx,
) -> Result<Markup, AppError> {
    let data =
        exec::run::<PanelCounts>(&state.page_schema, &ctx.viewer, panel_counts::Variables).await?;
    let c = data.analytics;
    let outbox = data.outbox_enabled;
    let card = |href: &str, title: &str, figure: String, note: &str| {
        html! {
            a class="card dash-card" href=(href) {
                span class="dash-title" { (title) }
                span class="dash-figure" { (figure) }
                span class="muted small" { (note) }
            }
        }
    };
    Ok(layout::page(
        &ctx,
        "Admin dashboard",
        html! {
            h1 { "Welcome, " (admin.display_name) }
            div class="dash-grid" {
                (card("/admin/customers", "Customers", c.active_customers.to_string(), &format!("active accounts · {} inactive", c.inactive_customers)))
                (card("/admin/sessions", "Active sessions", c.current_sessions.to_string(), "customers signed in now"))
                (card("/admin/analytics", "Logins, last 7 days", c.logins_last7_days.to_string(), &format!("{} unique customers", c.unique_logins_last7_days)))
                (card("/admin/audit", "Audit log", "→".to_owned(), "every change and sign-in"))
                @if outbox {
                    (card("/admin/outbox", "Outbox", "✉".to_owned(), "demo mode: mail is kept here"))
                }
            }
        },
    ))
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin",
            get(|| async { axum::response::Redirect::to("/admin/panel") }),
        )
        .route("/admin/panel", get(show))
}
