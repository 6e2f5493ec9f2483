//! One module per feature: its page, its fragments and its handlers side by side.

pub mod admin;
pub mod health;
pub mod history;
pub mod home;
pub mod inventory;
pub mod legacy;
pub mod login;
pub mod logout;
pub mod minimums;
pub mod my_sessions;
pub mod password;
pub mod reset;
pub mod team;
pub mod two_step;
pub mod unsubscribe;
pub mod views;

use axum::Router;

use crate::state::AppState;

/// Every page's and fragment's address, each feature's own.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(login::routes())
        .merge(logout::routes())
        .merge(password::routes())
        .merge(my_sessions::routes())
        .merge(two_step::routes())
        .merge(team::routes())
        .merge(reset::routes())
        .merge(inventory::routes())
        .merge(history::routes())
        .merge(minimums::routes())
        .merge(views::routes())
        .merge(unsubscribe::routes())
        .merge(legacy::routes())
        .merge(health::routes())
        .merge(admin::routes())
}
