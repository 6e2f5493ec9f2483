//! The read-only ERP port. Two operations: the inventory rows of a scope, and the list of
//! ERP customer names. Implementations: the generated demo Deacom database (SQLite,
//! `deacom_sqlite`) and, in production, Deacom on SQL Server.

pub mod deacom_mssql;
pub mod deacom_sqlite;
pub mod demo;

use async_trait::async_trait;
use time::Date;

use crate::domain::ErpScope;

// Derived from the ERP as docs/deacom.md describes; the GraphQL `InventoryRow` shows it
// (graphql::inventory::InventoryRowNode) with what the portal works out besides.
/// One live inventory layer (a lot in a bin) in the caller's scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InventoryRow {
    pub customer: String,
    pub part: String,
    /// No source yet: always empty (kept for future use, as in the old portal).
    pub customer_part: String,
    pub description: String,
    pub on_hand_qty: f64,
    pub unit: String,
    pub bin: String,
    pub reference: String,
    pub user_lot: String,
    pub exp_date: Option<Date>,
    pub last_transaction_date: Option<Date>,
    pub last_rec_date: Option<Date>,
    pub po: String,
    pub status: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ErpError {
    /// The ERP could not be reached or did not answer in time.
    #[error("ERP unavailable: {0}")]
    Unavailable(String),
    /// The ERP answered with something the portal cannot use.
    #[error("ERP query failed: {0}")]
    Query(String),
}

#[async_trait]
pub trait ErpSource: Send + Sync {
    /// `demo` or `deacom-mssql`, for /healthz and logs.
    fn name(&self) -> &'static str;
    /// Every live inventory row (`fi_balance > 0`) of the scope; the scope is applied inside
    /// the query with bound parameters.
    async fn inventory_rows(&self, scope: &ErpScope) -> Result<Vec<InventoryRow>, ErpError>;
    /// Every distinct non-empty ERP customer name, sorted.
    async fn customer_names(&self) -> Result<Vec<String>, ErpError>;
    async fn ping(&self) -> Result<(), ErpError>;
}

/// Dates come from the ERP as `YYYY-MM-DD`, possibly followed by a time.
pub fn parse_erp_date(s: &str) -> Option<Date> {
    let day = s.get(..10)?;
    Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}
