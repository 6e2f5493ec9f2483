//! Running operations in-process for pages and fragments: the same schema, the same
//! guards, no HTTP hop. Operations are `.graphql` files under `src/web/ops/` whose
//! variables and response types are generated (and checked against `schema.graphql`) at
//! compile time; this module runs any of them for a viewer and turns GraphQL errors into
//! the web layer's errors — the only place that mapping is written.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use async_graphql::parser::types::ExecutableDocument;
use parking_lot::Mutex;

use async_graphql::{Request, ServerError, Variables};
use graphql_client::GraphQLQuery;

use crate::auth::{ClientInfo, Viewer};
use crate::error::AppError;
use crate::graphql::PortalSchema;
use crate::graphql::guards::codes;
use crate::graphql::streamed::{RawLists, data_json};

/// Field name → message, for re-showing a form (`_form` when the error names no field).
pub type FieldErrors = BTreeMap<String, String>;

/// The field every form shows errors that name no field under.
pub const FORM_FIELD: &str = "_form";

/// Runs `Q` as `viewer`; every GraphQL error becomes the matching `AppError`.
pub async fn run<Q: GraphQLQuery>(
    schema: &PortalSchema,
    viewer: &Viewer,
    variables: Q::Variables,
) -> Result<Q::ResponseData, AppError> {
    run_with::<Q, ()>(schema, viewer, None, variables).await
}

/// [`run`] with request data the resolvers may answer from (what the request read ahead,
/// such as [`ViewsReadAhead`](crate::graphql::saved_views::ViewsReadAhead)).
pub async fn run_with<Q: GraphQLQuery, D: std::any::Any + Send + Sync>(
    schema: &PortalSchema,
    viewer: &Viewer,
    data: Option<D>,
    variables: Q::Variables,
) -> Result<Q::ResponseData, AppError> {
    let with = |request: Request| match data {
        Some(d) => request.data(d),
        None => request,
    };
    match execute::<Q>(schema, viewer, with, variables).await? {
        Ok(data) => Ok(data),
        Err(fields) => Err(AppError::BadRequest(
            fields.into_values().collect::<Vec<_>>().join(" "),
        )),
    }
}

/// Runs `Q` as `viewer`; `BAD_USER_INPUT` comes back as field errors for the form, every
/// other error as the matching `AppError`.
pub async fn run_form<Q: GraphQLQuery>(
    schema: &PortalSchema,
    viewer: &Viewer,
    variables: Q::Variables,
) -> Result<Result<Q::ResponseData, FieldErrors>, AppError> {
    run_form_from::<Q>(schema, viewer, None, variables).await
}

/// [`run_form`] for operations that count or record the client (its address and browser):
/// the password reset pages.
pub async fn run_form_from<Q: GraphQLQuery>(
    schema: &PortalSchema,
    viewer: &Viewer,
    client: Option<&ClientInfo>,
    variables: Q::Variables,
) -> Result<Result<Q::ResponseData, FieldErrors>, AppError> {
    let with = |request: Request| match client {
        Some(client) => request.data(client.clone()),
        None => request,
    };
    execute::<Q>(schema, viewer, with, variables).await
}

/// Runs `Q` as `viewer` with what `with` adds to the request.
async fn execute<Q: GraphQLQuery>(
    schema: &PortalSchema,
    viewer: &Viewer,
    with: impl FnOnce(Request) -> Request,
    variables: Q::Variables,
) -> Result<Result<Q::ResponseData, FieldErrors>, AppError> {
    let body = Q::build_query(variables);
    let vars = serde_json::to_value(&body.variables)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("encoding variables: {e}")))?;
    let mut request = Request::new(body.query)
        .operation_name(body.operation_name)
        .variables(Variables::from_json(vars))
        .data(viewer.clone())
        .data(RawLists);
    request = with(request);
    if let Some(doc) = parsed(body.query) {
        request.set_parsed_query(doc);
    }
    let response = schema.execute(request).await;
    if let Some(err) = response.errors.first() {
        return match error_code(err).as_str() {
            codes::BAD_USER_INPUT => Ok(Err(field_errors(err))),
            code => Err(app_error(code, err, body.operation_name)),
        };
    }
    // The JSON text straight into the generated types: large lists arrive as text already
    // (see graphql::streamed), and no intermediate JSON value is built.
    let json = data_json(&response.data);
    drop(response);
    serde_json::from_slice(&json).map(Ok).map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "decoding the result of {}: {e}",
            body.operation_name
        ))
    })
}

/// The operation's parsed document, parsed once per process: pages run the same few
/// dozen operation texts (compiled in, so the memo cannot grow past them) again and
/// again, and parsing one costs more than running a small one. A pure memo of constant
/// text, not configuration, so a process-wide one is fine. `None` lets the schema parse
/// (and report) a text that does not parse.
fn parsed(query: &'static str) -> Option<ExecutableDocument> {
    // Keyed by where the constant text lives (hashing the text itself would cost more).
    static PARSED: OnceLock<Mutex<HashMap<(usize, usize), ExecutableDocument>>> = OnceLock::new();
    let key = (query.as_ptr() as usize, query.len());
    let memo = PARSED.get_or_init(Default::default);
    if let Some(doc) = memo.lock().get(&key) {
        return Some(doc.clone());
    }
    let doc = async_graphql::parser::parse_query(query).ok()?;
    memo.lock().insert(key, doc.clone());
    Some(doc)
}

fn error_code(err: &ServerError) -> String {
    err.extensions
        .as_ref()
        .and_then(|x| x.get("code"))
        .and_then(|v| match v {
            async_graphql::Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// `extensions.fields` of a `BAD_USER_INPUT` error, or its message under [`FORM_FIELD`].
fn field_errors(err: &ServerError) -> FieldErrors {
    let fields: FieldErrors = err
        .extensions
        .as_ref()
        .and_then(|x| x.get("fields"))
        .and_then(|v| v.clone().into_json().ok())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    if fields.is_empty() {
        FieldErrors::from([(FORM_FIELD.to_owned(), err.message.clone())])
    } else {
        fields
    }
}

fn app_error(code: &str, err: &ServerError, operation: &str) -> AppError {
    match code {
        codes::UNAUTHENTICATED => AppError::Unauthenticated,
        codes::FORBIDDEN => AppError::Forbidden,
        codes::PASSWORD_CHANGE_REQUIRED => AppError::PasswordChangeRequired,
        // Pages send such a customer to enrolment before any operation runs.
        codes::TWO_FACTOR_REQUIRED => AppError::Forbidden,
        codes::ERP_UNAVAILABLE => AppError::ErpUnavailable,
        codes::NOT_FOUND => AppError::NotFound,
        codes::APP_DB_UNAVAILABLE => AppError::Unavailable("The portal database"),
        codes::RATE_LIMITED => {
            let secs = err
                .extensions
                .as_ref()
                .and_then(|x| x.get("retryAfter"))
                .and_then(|v| v.clone().into_json().ok())
                .and_then(|v| v.as_u64())
                .unwrap_or(60);
            AppError::TooManyRequests(std::time::Duration::from_secs(secs))
        }
        codes::CURSOR_EXPIRED => AppError::BadRequest(
            "The list has changed since this page was loaded. Reload to see the current rows."
                .to_owned(),
        ),
        _ => AppError::Internal(anyhow::anyhow!(
            "operation {operation} failed: {}",
            err.message
        )),
    }
}
