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

/// Receives a scope's rows one at a time ([`ErpSource::inventory_rows_each`]).
pub type RowSink = Box<dyn FnMut(InventoryRow) + Send>;

#[async_trait]
pub trait ErpSource: Send + Sync {
    /// `demo` or `deacom-mssql`, for /healthz and logs.
    fn name(&self) -> &'static str;
    /// Every live inventory row (`fi_balance > 0`) of the scope; the scope is applied inside
    /// the query with bound parameters.
    async fn inventory_rows(&self, scope: &ErpScope) -> Result<Vec<InventoryRow>, ErpError>;
    /// The same rows handed to `sink` one at a time as they are decoded, so a caller that
    /// keeps few of them never holds them all (a re-read that finds nothing changed). By
    /// default they are read all at once first.
    async fn inventory_rows_each(
        &self,
        scope: &ErpScope,
        mut sink: RowSink,
    ) -> Result<(), ErpError> {
        for row in self.inventory_rows(scope).await? {
            sink(row);
        }
        Ok(())
    }
    /// Every distinct non-empty ERP customer name, sorted.
    async fn customer_names(&self) -> Result<Vec<String>, ErpError>;
    /// Reads one row of the inventory's own tables (the readiness probe): `SELECT 1`
    /// would pass on a server without them, or with a login that may not read them.
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

/// Reads one customer's rows from `erp` (the first name it lists), timed, within
/// `first_row` for the names and `read` for the rows: what the preflight reports of the
/// ERP. Reads only.
pub async fn inspect(
    erp: &dyn ErpSource,
    first_row: std::time::Duration,
    read: std::time::Duration,
) -> Vec<crate::checks::Finding> {
    use crate::checks::{Finding, Verdict};
    const AREA: &str = "ERP";
    let mut out = Vec::new();
    let started = std::time::Instant::now();
    let names = match tokio::time::timeout(first_row, erp.customer_names()).await {
        Ok(Ok(names)) => names,
        Ok(Err(e)) => {
            out.push(Finding::new(
                AREA,
                "customer names",
                Verdict::NoGo,
                e.to_string(),
            ));
            return out;
        }
        Err(_) => {
            out.push(Finding::new(
                AREA,
                "customer names",
                Verdict::NoGo,
                format!("no answer within {first_row:?} (ERP_DB_TIMEOUT)"),
            ));
            return out;
        }
    };
    out.push(Finding::new(
        AREA,
        "customer names",
        if names.is_empty() {
            Verdict::Warn
        } else {
            Verdict::Go
        },
        format!(
            "{} ERP customers, in {} ms ({})",
            names.len(),
            started.elapsed().as_millis(),
            erp.name()
        ),
    ));
    let Some(first) = names.first() else {
        return out;
    };
    let started = std::time::Instant::now();
    let scope = ErpScope::Customers(vec![first.clone()]);
    match tokio::time::timeout(read, erp.inventory_rows(&scope)).await {
        Ok(Ok(rows)) => out.push(Finding::new(
            AREA,
            "one customer's inventory read",
            Verdict::Go,
            format!(
                "{} rows of {first:?} in {} ms",
                rows.len(),
                started.elapsed().as_millis()
            ),
        )),
        Ok(Err(e)) => out.push(Finding::new(
            AREA,
            "one customer's inventory read",
            Verdict::NoGo,
            e.to_string(),
        )),
        Err(_) => out.push(Finding::new(
            AREA,
            "one customer's inventory read",
            Verdict::NoGo,
            format!("not read within {read:?} (ERP_READ_TIMEOUT)"),
        )),
    }
    out
}
