//! The Add / Edit customer modal: the form as typed, its fields and their errors.

use axum::body::Bytes;
use maud::{Markup, html};

use crate::web::exec::{FORM_FIELD, FieldErrors};
use crate::web::layout::{self, PageCtx};

/// The values of the Add / Edit form as typed.
#[derive(Debug, Clone, Default)]
pub struct FormValues {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub erp: Vec<String>,
    pub is_active: bool,
}

impl FormValues {
    pub fn from_pairs(pairs: &[(String, String)]) -> FormValues {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut erp: Vec<String> = pairs
            .iter()
            .filter(|(n, _)| n == "erp_customer_names")
            .map(|(_, v)| v.clone())
            .collect();
        if erp.iter().any(|n| n == "All") {
            erp = vec!["All".to_owned()];
        }
        FormValues {
            first_name: get("first_name"),
            last_name: get("last_name"),
            email: get("email"),
            erp,
            is_active: pairs.iter().any(|(n, v)| n == "is_active" && v == "true"),
        }
    }
}

pub fn parse_pairs(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn modal(
    ctx: &PageCtx,
    id: Option<&str>,
    values: &FormValues,
    names: &Result<Vec<String>, String>,
    errors: &FieldErrors,
) -> Markup {
    let err = |f: &str| errors.get(f).cloned();
    let (title, action) = match id {
        Some(id) => ("Edit customer", format!("/admin/customers/{id}")),
        None => ("Add customer", "/admin/customers".to_owned()),
    };
    let all = values.erp.iter().any(|n| n == "All");
    let field_error = |f: &str| html! { @if let Some(e) = err(f) { span class="field-error" role="alert" { (e) } } };
    html! {
        div class="modal-backdrop" data-modal-close {}
        div class="modal card" role="dialog" aria-modal="true" aria-labelledby="modal-title" {
            h2 id="modal-title" { (title) }
            form hx-post=(action) hx-target="#modal" class="stack" novalidate {
                (layout::csrf_field(ctx))
                @if let Some(e) = err(FORM_FIELD) { div class="alert alert-error" role="alert" { (e) } }
                div class="two-col" {
                    div class="stack" {
                        label for="first_name" { "First name" }
                        input id="first_name" name="first_name" type="text" value=(values.first_name) maxlength="100" required;
                        (field_error("first_name"))
                    }
                    div class="stack" {
                        label for="last_name" { "Last name" }
                        input id="last_name" name="last_name" type="text" value=(values.last_name) maxlength="100";
                        (field_error("last_name"))
                    }
                }
                label for="email" { "Email" }
                input id="email" name="email" type="email" value=(values.email) maxlength="254" required;
                (field_error("email"))
                fieldset class="erp-fieldset" aria-describedby="erp-limit" {
                    legend { "ERP customers" }
                    p id="erp-limit" class="muted small" {
                        "All, or up to " (crate::customers::MAX_SCOPE_CHARS) " characters of names in all (what the portal database can index)."
                    }
                    label class="check" {
                        input type="checkbox" name="erp_customer_names" value="All" checked[all] data-erp-all;
                        strong { "All" } span class="muted" { " — every ERP customer, now and future" }
                    }
                    @match names {
                        Ok(names) => {
                            input type="search" class="checklist-search" placeholder="Filter ERP customers…" data-checklist-filter=".erp-checklist" aria-label="Filter ERP customers";
                            div class="erp-checklist" {
                                @for n in names {
                                    label class="check" data-name=(n.to_lowercase()) {
                                        input type="checkbox" name="erp_customer_names" value=(n) checked[values.erp.contains(n)] disabled[all];
                                        (n)
                                    }
                                }
                                // Names assigned before that the ERP no longer lists stay visible.
                                @for n in values.erp.iter().filter(|n| *n != "All" && !names.contains(n)) {
                                    label class="check" data-name=(n.to_lowercase()) {
                                        input type="checkbox" name="erp_customer_names" value=(n) checked;
                                        (n) span class="muted" { " (not in the ERP)" }
                                    }
                                }
                            }
                        }
                        Err(message) => {
                            div class="alert alert-error" { (message) " Only \"All\" or the current names can be kept." }
                            @for n in values.erp.iter().filter(|n| *n != "All") {
                                input type="hidden" name="erp_customer_names" value=(n);
                            }
                        }
                    }
                    (field_error("erp_customer_names"))
                }
                @if id.is_some() {
                    label class="check" {
                        input type="checkbox" name="is_active" value="true" checked[values.is_active];
                        "Active (can sign in)"
                    }
                }
                @if id.is_none() {
                    p class="muted small" { "A temporary password is generated and emailed with a welcome message; the customer must change it at first sign-in." }
                }
                div class="modal-actions" {
                    button type="button" class="btn btn-ghost" data-modal-close { "Cancel" }
                    button type="submit" class="btn btn-primary" { (if id.is_some() { "Save changes" } else { "Create account" }) }
                }
            }
        }
    }
}
