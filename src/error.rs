//! One error type for the web layer. It knows its status; internal causes are logged with
//! an id that the user sees, and never shown themselves.
//!
//! `IntoResponse` produces a bare response carrying an [`ErrorPage`] extension; the
//! `render_errors` middleware, which knows whether the request came from htmx and who is
//! asking, turns it into a fragment or a full page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    Unauthenticated,
    /// A bearer token that is unknown, revoked or expired.
    #[error("invalid API token")]
    InvalidToken,
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF token missing or invalid")]
    CsrfRejected,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A body larger than its kind may be (a form over the form limit).
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("{0} unavailable")]
    Unavailable(&'static str),
    #[error("ERP unavailable")]
    ErpUnavailable,
    /// Too many requests: 429 with `Retry-After` in whole seconds.
    #[error("too many requests")]
    TooManyRequests(std::time::Duration),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What the error page shows. Attached to the response for `render_errors`.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Unavailable(_) => {
                tracing::error!(error = %e, "app database unavailable");
                AppError::Unavailable("The portal database")
            }
            crate::store::StoreError::NotFound => AppError::NotFound,
            other => AppError::Internal(other.into()),
        }
    }
}

impl AppError {
    pub fn page(&self) -> ErrorPage {
        let (status, title, message) = match self {
            AppError::NotFound => (StatusCode::NOT_FOUND, "Not found", "There is no page at this address.".to_owned()),
            AppError::Unauthenticated => {
                (StatusCode::UNAUTHORIZED, "Sign-in required", "Please sign in to continue.".to_owned())
            }
            AppError::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "Invalid token",
                "The API token is unknown, revoked or expired.".to_owned(),
            ),
            AppError::PasswordChangeRequired => (
                StatusCode::FORBIDDEN,
                "Password change required",
                "Please change your temporary password first.".to_owned(),
            ),
            AppError::Forbidden => {
                (StatusCode::FORBIDDEN, "Not allowed", "Your account does not have access to this page.".to_owned())
            }
            AppError::CsrfRejected => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "This form has expired or did not come from the portal. Please reload the page and try again."
                    .to_owned(),
            ),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m.clone()),
            AppError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                "Send this request as application/json.".to_owned(),
            ),
            AppError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "This form holds more than the portal accepts. Please shorten what you typed and try again."
                    .to_owned(),
            ),
            AppError::Unavailable(what) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                format!("{what} is temporarily unavailable. Please try again in a moment."),
            ),
            AppError::ErpUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Inventory temporarily unavailable",
                "Inventory is temporarily unavailable: the ERP did not answer. Please try again in a moment.".to_owned(),
            ),
            AppError::TooManyRequests(wait) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                format!(
                    "Too many requests. Please wait {} and try again.",
                    wait_text(*wait)
                ),
            ),
            AppError::Internal(cause) => {
                let id = error_id();
                tracing::error!(error_id = %id, error = ?cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    format!("The portal hit an unexpected error. If it persists, tell support the reference {id}."),
                )
            }
        };
        ErrorPage {
            status,
            title,
            message,
        }
    }
}

/// "45 seconds", "15 minutes": how long a refused client should wait, in words.
pub fn wait_text(wait: std::time::Duration) -> String {
    let secs = wait.as_secs().max(1);
    if secs < 90 {
        format!("{secs} seconds")
    } else {
        format!("{} minutes", secs.div_ceil(60))
    }
}

/// The reference shown to the user: the request's id (as in the log and the
/// `X-Request-Id` header), or a fresh one outside a request.
fn error_id() -> String {
    crate::telemetry::request_id().unwrap_or_else(|| {
        let n: u32 = rand::random();
        format!("E{n:08X}")
    })
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let page = self.page();
        let mut resp = (page.status, page.message.clone()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if let AppError::TooManyRequests(wait) = &self {
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
        }
        resp.extensions_mut().insert(page);
        resp
    }
}
