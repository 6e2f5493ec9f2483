//! The one maud layout every page uses. Pages render their fragments through the same
//! functions htmx requests get, so a full page and a partial refresh never disagree.

use maud::{DOCTYPE, Markup, html};
use serde::{Deserialize, Serialize};

use super::assets;
use crate::auth::Viewer;
use crate::graphql::guards;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FlashKind {
    Success,
    Info,
    Error,
}

/// A one-time message shown on the next page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
}

impl Flash {
    pub fn success(m: impl Into<String>) -> Self {
        Flash {
            kind: FlashKind::Success,
            message: m.into(),
        }
    }
    pub fn info(m: impl Into<String>) -> Self {
        Flash {
            kind: FlashKind::Info,
            message: m.into(),
        }
    }
    pub fn error(m: impl Into<String>) -> Self {
        Flash {
            kind: FlashKind::Error,
            message: m.into(),
        }
    }
}

/// After a form's change: store a message for the next page and send the browser to `to`
/// (post, redirect, get). A message that cannot be stored is logged; the redirect stands.
pub async fn redirect_with_flash(
    session: &tower_sessions::Session,
    to: &str,
    flash: Flash,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Err(e) = session
        .insert(crate::auth::sessions::FLASH_KEY, vec![flash])
        .await
    {
        tracing::warn!(error = %e, "could not store the flash message");
    }
    axum::response::Redirect::to(to).into_response()
}

/// What every page needs besides its own content.
#[derive(Debug, Clone, Default)]
pub struct PageCtx {
    pub viewer: Viewer,
    pub csrf_token: String,
    pub flashes: Vec<Flash>,
    pub demo_data: bool,
    /// Mail goes to the demo outbox (admins get a link to it).
    pub outbox: bool,
    /// `PORTAL_TIMEZONE`: every time on a page is written in it, with its abbreviation.
    pub zone: crate::domain::Zone,
}

impl PageCtx {
    /// `MM/DD/YYYY HH:MM CST`: a time for a table cell, in the portal's zone.
    pub fn when(&self, t: &time::OffsetDateTime) -> String {
        crate::domain::wall_clock(&self.zone, t, false)
    }
}

/// htmx settings: no inline indicator styles, no eval, no script tags from responses —
/// everything the Content Security Policy forbids anyway.
const HTMX_CONFIG: &str = r#"{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0,"defaultSettleDelay":0,"refreshOnHistoryMiss":true,"selfRequestsOnly":true}"#;

/// One-time messages, each with a close button; confirmations also fade away by
/// themselves (`data-autohide`), errors stay until closed.
pub fn flash_list(flashes: &[Flash]) -> Markup {
    html! {
        @for f in flashes {
            @let class = match f.kind { FlashKind::Success => "alert alert-success alert-dismissible", FlashKind::Info => "alert alert-info alert-dismissible", FlashKind::Error => "alert alert-error alert-dismissible" };
            div class=(class) role=(if f.kind == FlashKind::Error { "alert" } else { "status" })
                data-autohide=[(f.kind != FlashKind::Error).then_some("8000")] {
                span class="alert-text" { (f.message) }
                button type="button" class="alert-close" data-dismiss aria-label="Dismiss message" { "×" }
            }
        }
    }
}

pub fn csrf_field(ctx: &PageCtx) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(ctx.csrf_token); }
}

fn navbar(ctx: &PageCtx) -> Markup {
    html! {
        header class="navbar" {
            a class="brand" href="/" {
                img src=(assets::url("/assets/img/logo.svg")) alt="" width="28" height="28";
                span { "WePackItAll" } span class="brand-sub" { "Customer Portal" }
            }
            // On phones the links and the account controls fold behind this button
            // (portal.js makes the navbar collapsible; without scripts it stays open).
            button type="button" class="btn btn-ghost nav-toggle" data-nav-toggle
                aria-expanded="false" aria-controls="nav-menu" { "Menu" }
            nav id="nav-menu" class="nav-links" aria-label="Main" {
                // The links follow the access rule: what the viewer may open.
                @if guards::customer_access(&ctx.viewer).is_ok() {
                    a href="/inventory" { "Inventory" }
                    a href="/inventory/history" { "History" }
                    a href="/inventory/views" { "Views & reports" }
                    a href="/inventory/minimums" { "Minimums" }
                    a href="/force-change-password" { "Change password" }
                    a href="/account/sessions" { "Sessions" }
                    a href="/account/two-step" { "Two-step sign-in" }
                    @if guards::team_grant(&ctx.viewer).is_ok() { a href="/account/team" { "Team" } }
                } @else if guards::admin_access(&ctx.viewer).is_ok() {
                    a href="/admin/panel" { "Dashboard" }
                    a href="/admin/customers" { "Customers" }
                    a href="/admin/sessions" { "Sessions" }
                    a href="/admin/audit" { "Audit log" }
                    a href="/admin/analytics" { "Analytics" }
                    a href="/admin/reports" { "Reports" }
                    a href="/admin/api" { "API" }
                    @if ctx.outbox { a href="/admin/outbox" { "Outbox" } }
                    a href="/admin/two-step" { "Two-step sign-in" }
                }
            }
            div class="nav-right" {
                button type="button" class="theme-toggle" data-theme-toggle aria-label="Switch between light and dark theme" title="Light / dark theme" {
                    span class="theme-icon-dark" aria-hidden="true" { "☾" }
                    span class="theme-icon-light" aria-hidden="true" { "☀" }
                }
                @if let Some(name) = ctx.viewer.display_name() {
                    span class="nav-user" title="Signed in" { (name) }
                    form method="post" action=(if matches!(ctx.viewer, Viewer::Admin(_)) { "/admin-logout" } else { "/logout" }) class="inline-form" {
                        (csrf_field(ctx))
                        button type="submit" class="btn btn-ghost" { "Sign out" }
                    }
                }
            }
        }
    }
}

/// A full page.
pub fn page(ctx: &PageCtx, title: &str, content: Markup) -> Markup {
    page_with_scripts(ctx, title, &[], content)
}

/// A full page that also loads the feature's own scripts (deferred, same origin).
pub fn page_with_scripts(
    ctx: &PageCtx,
    title: &str,
    scripts: &[String],
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(ctx.csrf_token);
                meta name="htmx-config" content=(HTMX_CONFIG);
                meta name="color-scheme" content="light dark";
                title { (title) " · WePackItAll Customer Portal" }
                link rel="icon" href=(assets::url("/assets/img/logo.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(assets::url("/assets/css/portal.css"));
                // Sets the theme before first paint, so a dark-mode user never sees a white flash.
                script src=(assets::url("/assets/js/theme.js")) {}
                script src=(assets::url("/htmx/htmx.min.js")) defer {}
                script src=(assets::url("/assets/js/portal.js")) defer {}
                @for src in scripts { script src=(src) defer {} }
            }
            body {
                a class="skip-link" href="#main" { "Skip to content" }
                (navbar(ctx))
                @if ctx.demo_data {
                    div class="demo-banner" role="note" { "Demo data: this portal runs on a generated sample ERP, not live inventory." }
                }
                main id="main" class="container" {
                    div id="flashes" { (flash_list(&ctx.flashes)) }
                    (content)
                }
                footer class="site-footer" {
                    span { "© WePackItAll" } span class="sep" { "·" } span { "Need help? Contact your WePackItAll account manager." }
                }
            }
        }
    }
}

/// A page for errors (404, 403, 503, …).
pub fn error_page(ctx: &PageCtx, title: &str, message: &str) -> Markup {
    page(
        ctx,
        title,
        html! {
            section class="card narrow" {
                h1 { (title) }
                p { (message) }
                p { a class="btn" href="/" { "Back to the portal" } }
            }
        },
    )
}

/// The fragment an htmx request gets instead of an error page.
pub fn error_fragment(message: &str) -> Markup {
    html! { div class="alert alert-error" role="alert" { (message) } }
}
