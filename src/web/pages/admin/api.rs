//! `/admin/api`: the API for internal tools. What tokens and scopes are, the tokens
//! themselves (issue, show the secret once, revoke), the schema to download, copy-ready
//! examples, and a small explorer that runs operations with the admin's own session.
//!
//! The explorer is the portal's own few lines of JavaScript rather than a vendored
//! GraphiQL: GraphiQL's UMD build needs React and ~3 MB of scripts, inline styles and
//! `eval`-free workers that the portal's Content Security Policy would have to loosen.
//! A query box, a variables box and the answer cover what admins use it for.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use time::{Date, OffsetDateTime};
use tower_sessions::Session;

use crate::auth::tokens::Scope;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::exec::{self, FORM_FIELD, FieldErrors};
use crate::web::extractors::CurrentAdmin;
use crate::web::layout::{self, Flash, PageCtx, redirect_with_flash};
use crate::web::ops::{
    ApiTokenList, CreateApiToken, DateTime, RevokeApiToken, api_token_list, create_api_token,
    revoke_api_token,
};

/// The form as the admin filled it in, to show it again with its errors.
#[derive(Debug, Default, Clone)]
struct TokenForm {
    name: String,
    scopes: Vec<String>,
    erp: Vec<String>,
    expires: String,
    rows_per_minute: String,
}

impl TokenForm {
    fn from_body(body: &Bytes) -> TokenForm {
        let mut f = TokenForm::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match k.as_ref() {
                "name" => f.name = v.into_owned(),
                "scope" => f.scopes.push(v.into_owned()),
                "erp_customer_names" => f.erp.push(v.into_owned()),
                "expires" => f.expires = v.trim().to_owned(),
                "rows_per_minute" => f.rows_per_minute = v.trim().to_owned(),
                _ => {}
            }
        }
        f
    }
}

fn date_input(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn examples(base: &str) -> (String, String) {
    let curl = format!(
        r#"curl -s {base}/graphql \
  -H "Authorization: Bearer $PORTAL_TOKEN" \
  -H "Content-Type: application/json" \
  -d '{{"query":"{{ inventory(first: 5000, erpCustomerNames: [\"Acme Foods\"]) {{ nextCursor rows {{ customer part description onHandQty unit bin userLot expDate status }} }} }}"}}'"#
    );
    let python = format!(
        "PORTAL_URL={base} PORTAL_TOKEN=cpt_… \\\n  python3 examples/pull_inventory.py --customer \"Acme Foods\" --out acme.csv"
    );
    (curl, python)
}

#[allow(clippy::too_many_arguments)]
fn render(
    ctx: &PageCtx,
    base: &str,
    tokens: &[api_token_list::ApiTokenListApiTokens],
    names: &[String],
    form: &TokenForm,
    errors: &FieldErrors,
    secret: Option<(&str, &str)>,
) -> Markup {
    let (curl, python) = examples(base);
    html! {
        h1 { "API for internal tools" }
        p class="muted" {
            "Dashboards, reconciliation scripts and BI loaders call "
            code { "POST /graphql" } " with an API token: "
            code { "Authorization: Bearer <token>" } ". A token reaches only what its scopes name, "
            "inventory only of its ERP customers, and at most its budget of rows per minute. "
            "Tokens never open the portal's pages. Full guide: " code { "docs/api.md" } "."
        }
        @if let Some((name, secret)) = secret {
            section class="card token-secret" role="status" {
                h2 class="h3" { "Token “" (name) "” created" }
                p { strong { "Copy it now: it is not stored and will not be shown again." } }
                div class="secret-row" {
                    code id="new-token-secret" class="mono" { (secret) }
                    button type="button" class="btn btn-small" data-copy="#new-token-secret" { "Copy" }
                }
            }
        }
        (token_list(ctx, tokens))
        (new_token_form(ctx, names, form, errors))
        section class="card" {
            h2 class="h3" { "Schema and examples" }
            p { a class="btn" href="/graphql/schema.graphql" download { "Download schema.graphql" } }
            h3 class="h4" { "curl" }
            pre class="code-block" tabindex="0" role="region" aria-label="curl example" { code { (curl) } }
            h3 class="h4" { "Python (pull a customer's inventory to CSV)" }
            pre class="code-block" tabindex="0" role="region" aria-label="Python example" { code { (python) } }
        }
        section class="card" {
            h2 class="h3" { "Explorer" }
            p class="muted" { "Runs operations as you (your admin session), under the same rules and limits as tools." }
            form id="explorer" class="stack-form" {
                label for="explorer-query" { "Query" }
                textarea id="explorer-query" class="mono" rows="8" spellcheck="false" {
                    "{\n  viewer { kind displayName }\n  inventory(first: 5) { totalCount rows { customer part onHandQty status } }\n}"
                }
                label for="explorer-vars" { "Variables (JSON)" }
                textarea id="explorer-vars" class="mono" rows="3" spellcheck="false" { "{}" }
                button type="submit" class="btn btn-primary" { "Run" }
            }
            pre id="explorer-result" class="code-block" tabindex="0" role="region" aria-label="Result" aria-live="polite" {}
        }
    }
}

/// The tokens, each with its scopes, ERP customers, dates and a Revoke button.
fn token_list(ctx: &PageCtx, tokens: &[api_token_list::ApiTokenListApiTokens]) -> Markup {
    html! {
    section class="card" {
        h2 class="h3" { "Tokens" }
        @if tokens.is_empty() {
            p { "No tokens yet." }
        } @else {
            div class="table-wrap admin-table-wrap" {
                table class="admin-table" {
                    thead { tr {
                        th { "Name" } th { "Scopes" } th { "ERP customers" } th { "Created" }
                        th { "Expires" } th { "Last used" } th { "Status" } th { span class="sr-only" { "Actions" } }
                    } }
                    tbody {
                        @for t in tokens {
                            tr {
                                td { (t.name) }
                                td { @for s in &t.scopes { span class="pill pill-info" { (s) } " " } }
                                td class="erp-names" { (t.erp_customer_names.join(" | ")) }
                                td class="nowrap" { (ctx.when(&t.created_at.0)) br; span class="muted" { "by " (t.created_by) } }
                                td class="nowrap" { (ctx.when(&t.expires_at.0)) }
                                td class="nowrap" { (t.last_used_at.map(|d| ctx.when(&d.0)).unwrap_or_else(|| "Never".to_owned())) }
                                td {
                                    @if t.active { span class="pill pill-ok" { "Active" } }
                                    @else if t.revoked_at.is_some() { span class="pill pill-bad" { "Revoked" } }
                                    @else { span class="pill pill-bad" { "Expired" } }
                                }
                                td class="row-actions" {
                                    @if t.revoked_at.is_none() {
                                        form method="post" action=(format!("/admin/api/tokens/{}/revoke", t.id)) class="inline-form"
                                            data-confirm=(format!("Revoke “{}”? Tools using it stop working at their next request.", t.name)) {
                                            input type="hidden" name="csrf_token" value=(ctx.csrf_token);
                                            button type="submit" class="btn btn-small btn-danger" { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    }
}

/// The form that issues a token, with its field errors.
fn new_token_form(
    ctx: &PageCtx,
    names: &[String],
    form: &TokenForm,
    errors: &FieldErrors,
) -> Markup {
    let err = |field: &str| errors.get(field).cloned();
    let default_expiry = date_input((OffsetDateTime::now_utc() + time::Duration::days(365)).date());
    html! {
    section class="card" {
        h2 class="h3" id="new-token" { "New token" }
        @if let Some(e) = err(FORM_FIELD) { p class="alert alert-error" role="alert" { (e) } }
        form method="post" action="/admin/api/tokens" class="stack-form" novalidate {
            input type="hidden" name="csrf_token" value=(ctx.csrf_token);
            label for="token-name" { "Name" }
            input id="token-name" name="name" type="text" maxlength="100" required value=(form.name)
                placeholder="e.g. Nightly reconciliation" aria-invalid=[err("name").map(|_| "true")];
            @if let Some(e) = err("name") { p class="field-error" { (e) } }
            fieldset {
                legend { "Scopes" }
                @for s in Scope::ALL {
                    label class="check" {
                        input type="checkbox" name="scope" value=(s.name()) checked[form.scopes.iter().any(|x| x == s.name())];
                        code { (s.name()) } " — " (s.describe())
                    }
                }
                @if let Some(e) = err("scopes") { p class="field-error" { (e) } }
            }
            label for="token-erp" { "ERP customers (for inventory:read)" }
            select id="token-erp" name="erp_customer_names" multiple size="6" {
                option value="All" selected[form.erp.iter().any(|x| x == "All")] { "All customers" }
                @for n in names {
                    option value=(n) selected[form.erp.iter().any(|x| x == n)] { (n) }
                }
            }
            @if let Some(e) = err("erp_customer_names") { p class="field-error" { (e) } }
            div class="form-row" {
                div {
                    label for="token-expires" { "Expires" }
                    input id="token-expires" name="expires" type="date"
                        value=(if form.expires.is_empty() { default_expiry.clone() } else { form.expires.clone() });
                    @if let Some(e) = err("expires_at") { p class="field-error" { (e) } }
                }
                div {
                    label for="token-budget" { "Rows per minute (optional)" }
                    input id="token-budget" name="rows_per_minute" type="number" min="1" inputmode="numeric"
                        value=(form.rows_per_minute) placeholder="200000";
                    @if let Some(e) = err("rows_per_minute") { p class="field-error" { (e) } }
                }
            }
            button type="submit" class="btn btn-primary" { "Create token" }
        }
    }
    }
}

async fn show_page(
    state: &AppState,
    ctx: &PageCtx,
    headers: &HeaderMap,
    form: &TokenForm,
    errors: &FieldErrors,
    secret: Option<(&str, &str)>,
) -> Result<Markup, AppError> {
    let data =
        exec::run::<ApiTokenList>(&state.page_schema, &ctx.viewer, api_token_list::Variables)
            .await?;
    let base = base_url(state, headers);
    Ok(layout::page_with_scripts(
        ctx,
        "API",
        &[crate::web::assets::url("/assets/js/admin.js")],
        render(
            ctx,
            &base,
            &data.api_tokens,
            &data.erp_customer_names,
            form,
            errors,
            secret,
        ),
    ))
}

/// The portal's address for the examples: `APP_BASE_URL`, else the address the admin used.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.app_base_url {
        return u.as_str().trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

pub async fn show(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    headers: HeaderMap,
) -> Result<Markup, AppError> {
    show_page(
        &state,
        &ctx,
        &headers,
        &TokenForm::default(),
        &FieldErrors::new(),
        None,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let form = TokenForm::from_body(&body);
    let mut errors = FieldErrors::new();
    let expires_at = if form.expires.is_empty() {
        None
    } else {
        match Date::parse(
            &form.expires,
            time::macros::format_description!("[year]-[month]-[day]"),
        ) {
            // The end of the chosen day on the portal's clock.
            Ok(d) => Some(DateTime(
                ctx.zone.start_of_day(d.next_day().unwrap_or(d)) - time::Duration::seconds(1),
            )),
            Err(_) => {
                errors.insert("expires_at".into(), "Pick a date.".into());
                None
            }
        }
    };
    let rows_per_minute = match form.rows_per_minute.as_str() {
        "" => None,
        n => match n.parse::<i64>() {
            Ok(v) => Some(v.clamp(i32::MIN as i64, i32::MAX as i64)),
            Err(_) => {
                errors.insert("rows_per_minute".into(), "A whole number.".into());
                None
            }
        },
    };
    if !errors.is_empty() {
        return Ok(show_page(&state, &ctx, &headers, &form, &errors, None)
            .await?
            .into_response());
    }
    let vars = create_api_token::Variables {
        input: create_api_token::ApiTokenInput {
            name: form.name.clone(),
            scopes: form.scopes.clone(),
            erp_customer_names: form.erp.clone(),
            expires_at,
            rows_per_minute,
        },
    };
    match exec::run_form::<CreateApiToken>(&state.page_schema, &ctx.viewer, vars).await? {
        Ok(data) => {
            let created = data.create_api_token;
            let mut resp = show_page(
                &state,
                &ctx,
                &headers,
                &TokenForm::default(),
                &FieldErrors::new(),
                Some((&created.token.name, &created.secret)),
            )
            .await?
            .into_response();
            // The secret is in this page only: never cached, never restored from history.
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(resp)
        }
        Err(errors) => Ok(show_page(&state, &ctx, &headers, &form, &errors, None)
            .await?
            .into_response()),
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    CurrentAdmin(_a): CurrentAdmin,
    ctx: PageCtx,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let done = exec::run::<RevokeApiToken>(
        &state.page_schema,
        &ctx.viewer,
        revoke_api_token::Variables { id },
    )
    .await?
    .revoke_api_token;
    let flash = if done {
        Flash::success("Token revoked: tools using it are refused from their next request.")
    } else {
        Flash::info("That token was already revoked.")
    };
    Ok(redirect_with_flash(&session, "/admin/api", flash).await)
}

/// `GET /graphql/schema.graphql`: the SDL, for admins and tools (as introspection).
pub async fn schema_sdl(viewer: crate::auth::Viewer) -> Result<Response, AppError> {
    match viewer {
        crate::auth::Viewer::Admin(_) | crate::auth::Viewer::Token(_) => Ok((
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"schema.graphql\"",
                ),
            ],
            crate::graphql::sdl(),
        )
            .into_response()),
        crate::auth::Viewer::Anonymous => Err(AppError::Unauthenticated),
        crate::auth::Viewer::Customer(_) => Err(AppError::Forbidden),
    }
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/graphql/schema.graphql", get(schema_sdl))
        .route("/admin/api", get(show))
        .route("/admin/api/tokens", post(create))
        .route("/admin/api/tokens/{id}/revoke", post(revoke))
}
