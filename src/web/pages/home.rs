//! `/`: sends each kind of visitor where they belong.

use axum::Router;
use axum::routing::get;

use crate::state::AppState;
use axum::response::Redirect;

use crate::auth::Viewer;

pub async fn root(viewer: Viewer) -> Redirect {
    match viewer {
        Viewer::Customer(_) => Redirect::to("/inventory"),
        Viewer::Admin(_) => Redirect::to("/admin/panel"),
        Viewer::Anonymous | Viewer::Token(_) => Redirect::to("/login"),
    }
}

/// This feature's addresses.
pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(root))
}
