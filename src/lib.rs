//! WePackItAll Customer Portal: live ERP inventory for a 3PL's customers, and the admin
//! backend that manages their access. See docs/architecture.md for the architecture and the access rule.

pub mod auth;
pub mod checks;
pub mod config;
pub mod customers;
pub mod demo;
pub mod domain;
pub mod erp;
pub mod error;
pub mod export;
pub mod graphql;
pub mod history;
pub mod inventory;
pub mod mail;
pub mod memory;
pub mod mssql;
pub mod preflight;
pub mod readiness;
pub mod reports;
pub mod signing;
pub mod sqlite_pool;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
