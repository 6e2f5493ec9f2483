//! `/admin/audit`: the audit log, newest first, filtered by admin and action type and
//! searched by customer email or id, in pages. htmx requests get the results fragment.

use axum::Router;
use axum::extract::{Query, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;

use super::when;
use crate::domain::Zone;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec;
use crate::web::extractors::{CurrentAdmin, IsHtmx};
use crate::web::layout::{self, PageCtx};
use crate::web::ops::{AuditLog, audit_log};

const PAGE_SIZE: i64 = 50;
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct AuditParams {
    #[serde(default)]
    admin: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
}

impl AuditParams {
    fn url(&self, after: Option<&str>) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("admin", &self.admin),
            ("action", &self.action),
            ("q", &self.q),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if let Some(a) = after {
            s.append_pair("after", a);
        }
        let qs = s.finish();
        if qs.is_empty() {
            "/admin/audit".to_owned()
        } else {
            format!("/admin/audit?{qs}")
        }
    }
}

/// One page of the log, as `AuditLog` returns it.
type Page = audit_log::AuditLogAuditLog;

/// What an action code means, for people; the code stays in the tooltip (and in exports
/// and the API).
pub fn action_label(code: &str) -> String {
    if let Some(action) = crate::domain::audit::Action::parse(code) {
        return action.label().to_owned();
    }
    // An action this portal does not know (e.g. written by another tool): made readable.
    let words = code.replace('_', " ").to_lowercase();
    let mut chars = words.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// Audit details for people: a change reads `field: old → new`, other JSON `key: value`,
/// and sentences (the old portal's rows) stay as written.
fn details_markup(details: &str) -> Markup {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(details)
    else {
        return html! { span { (details) } };
    };
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".to_owned(),
        other => other.to_string(),
    };
    html! {
        ul class="audit-details" {
            @for (key, value) in &map {
                @let label = key.replace('_', " ");
                @match (value.get("from"), value.get("to")) {
                    (Some(from), Some(to)) => { li { strong { (label) } ": " (show(from)) " → " (show(to)) } }
                    _ => { li { strong { (label) } ": " (show(value)) } }
                }
            }
        }
    }
}

fn results(p: &AuditParams, page: &Page, zone: &Zone) -> Markup {
    html! {
        div id="audit-results" {
            p class="muted" { (page.total_count) " entries" @if !p.after.is_empty() { " · later page" } }
            div class="table-wrap admin-table-wrap" {
                table class="admin-table" {
                    thead { tr { th { "Time" } th { "Admin" } th { "Action" } th { "Customer" } th { "Details" } } }
                    tbody {
                        @for e in &page.entries {
                            tr {
                                td class="nowrap" { (when(zone, &e.timestamp.0)) }
                                td { (e.admin_username) }
                                td { span class="pill" title=(e.action_type) { (action_label(&e.action_type)) } }
                                td {
                                    @if let Some(email) = &e.target_customer_email { (email) }
                                    @if let Some(id) = &e.target_customer_id { " " span class="muted" { "#" (id) } }
                                }
                                td class="details" { @if let Some(d) = &e.details { (details_markup(d)) } }
                            }
                        }
                    }
                }
            }
            nav class="pager" {
                @if !p.after.is_empty() {
                    a class="btn btn-small" href=(p.url(None)) hx-get=(p.url(None)) hx-target="#audit-results" hx-swap="outerHTML" hx-push-url="true" { "« Newest" }
                }
                @if let Some(next) = &page.next_cursor {
                    a class="btn btn-small" href=(p.url(Some(next))) hx-get=(p.url(Some(next))) hx-target="#audit-results" hx-swap="outerHTML" hx-push-url="true" { "Older »" }
                }
            }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    IsHtmx(htmx): IsHtmx,
    Query(p): Query<AuditParams>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    if let Some(moved) = crate::web::pages::legacy::audit_redirect(raw.as_deref()) {
        return Ok(moved);
    }
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let vars = audit_log::Variables {
        filter: Some(audit_log::AuditLogFilter {
            admin_username: opt(&p.admin),
            action_type: opt(&p.action),
            search: opt(&p.q),
        }),
        first: Some(PAGE_SIZE),
        after: opt(&p.after),
    };
    let page = exec::run::<AuditLog>(&state.page_schema, &ctx.viewer, vars)
        .await?
        .audit_log;
    if htmx {
        return Ok(results(&p, &page, &ctx.zone).into_response());
    }
    Ok(layout::page(
        &ctx,
        "Audit log",
        html! {
            h1 { "Audit log" }
            form class="admin-toolbar" action="/admin/audit" method="get"
                hx-get="/admin/audit" hx-target="#audit-results" hx-swap="outerHTML" hx-push-url="true"
                hx-trigger="change, input changed delay:300ms from:#audit-q" {
                label class="sr-only" for="audit-admin" { "Admin" }
                select id="audit-admin" name="admin" {
                    option value="" { "All admins" }
                    @for a in &page.admin_usernames { option value=(a) selected[*a == p.admin] { (a) } }
                }
                label class="sr-only" for="audit-action" { "Action" }
                select id="audit-action" name="action" {
                    option value="" { "All actions" }
                    @for a in &page.action_types { option value=(a) selected[*a == p.action] { (action_label(a)) } }
                }
                label class="sr-only" for="audit-q" { "Customer email or id" }
                input id="audit-q" type="search" name="q" value=(p.q) placeholder="Customer email or id…" autocomplete="off";
                noscript { button class="btn" type="submit" { "Filter" } }
            }
            (results(&p, &page, &ctx.zone))
        },
    )
    .into_response())
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/audit", get(show))
}
