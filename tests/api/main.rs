//! Integration tests: each spawns the real app on port 0 with a temporary DATA_DIR and
//! drives it over HTTP with a cookie-keeping client, as a browser would.
//! One test binary (modules below) keeps link time down.

mod abuse;
mod accessibility;
mod api_tokens;
mod deacom_fixture;
mod helpers;
#[path = "../support/mod.rs"]
mod support;
mod webdriver;

mod admin;
mod assets_and_headers;
mod browser_admin;
mod browser_inventory;
mod cli_and_config;
mod connections;
mod csrf;
mod dataloader;
mod deep_link;
mod demo_seed;
mod directory;
mod dotenv_binary;
mod drop_in;
mod expiry;
mod faults;
mod finishing;
mod forgot_password;
mod graphql_api;
mod history;
mod holds;
mod inventory;
mod login;
mod minimums;
mod operations;
mod password_change;
mod picker;
mod proxies;
mod reports;
mod screenshots;
mod sessions;
mod slapd;
mod smtp;
mod store_suite;
mod switch_day;
mod teams;
mod throttle;
mod tsql;
mod two_step;
mod your_sessions;
