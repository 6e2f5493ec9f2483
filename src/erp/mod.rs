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

/// How many text fields a row has ([`RowRef::texts`]).
pub const TEXT_FIELDS: usize = 10;

/// One row, borrowed: from the ERP's answer as it is decoded, from an [`InventoryRow`], or
/// from a snapshot's rows (`inventory::rows::Rows`). The same field names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowRef<'a> {
    pub customer: &'a str,
    pub part: &'a str,
    pub customer_part: &'a str,
    pub description: &'a str,
    pub on_hand_qty: f64,
    pub unit: &'a str,
    pub bin: &'a str,
    pub reference: &'a str,
    pub user_lot: &'a str,
    pub exp_date: Option<Date>,
    pub last_transaction_date: Option<Date>,
    pub last_rec_date: Option<Date>,
    pub po: &'a str,
    pub status: &'a str,
}

impl<'a> RowRef<'a> {
    pub fn of(r: &'a InventoryRow) -> RowRef<'a> {
        RowRef {
            customer: &r.customer,
            part: &r.part,
            customer_part: &r.customer_part,
            description: &r.description,
            on_hand_qty: r.on_hand_qty,
            unit: &r.unit,
            bin: &r.bin,
            reference: &r.reference,
            user_lot: &r.user_lot,
            exp_date: r.exp_date,
            last_transaction_date: r.last_transaction_date,
            last_rec_date: r.last_rec_date,
            po: &r.po,
            status: &r.status,
        }
    }

    /// The text fields, in this order: customer, part, customer part, description, unit,
    /// bin, reference, user lot, PO, status (a snapshot keeps its text columns so).
    pub fn texts(&self) -> [&'a str; TEXT_FIELDS] {
        [
            self.customer,
            self.part,
            self.customer_part,
            self.description,
            self.unit,
            self.bin,
            self.reference,
            self.user_lot,
            self.po,
            self.status,
        ]
    }

    /// A row from its texts (in [`RowRef::texts`]' order), its quantity and its dates
    /// (expiry, last transaction, last receipt).
    pub fn from_parts(
        texts: [&'a str; TEXT_FIELDS],
        on_hand_qty: f64,
        [exp_date, last_transaction_date, last_rec_date]: [Option<Date>; 3],
    ) -> RowRef<'a> {
        let [
            customer,
            part,
            customer_part,
            description,
            unit,
            bin,
            reference,
            user_lot,
            po,
            status,
        ] = texts;
        RowRef {
            customer,
            part,
            customer_part,
            description,
            on_hand_qty,
            unit,
            bin,
            reference,
            user_lot,
            exp_date,
            last_transaction_date,
            last_rec_date,
            po,
            status,
        }
    }

    /// The dates, in [`RowRef::from_parts`]' order.
    pub fn dates(&self) -> [Option<Date>; 3] {
        [
            self.exp_date,
            self.last_transaction_date,
            self.last_rec_date,
        ]
    }

    pub fn to_row(&self) -> InventoryRow {
        InventoryRow {
            customer: self.customer.to_owned(),
            part: self.part.to_owned(),
            customer_part: self.customer_part.to_owned(),
            description: self.description.to_owned(),
            on_hand_qty: self.on_hand_qty,
            unit: self.unit.to_owned(),
            bin: self.bin.to_owned(),
            reference: self.reference.to_owned(),
            user_lot: self.user_lot.to_owned(),
            exp_date: self.exp_date,
            last_transaction_date: self.last_transaction_date,
            last_rec_date: self.last_rec_date,
            po: self.po.to_owned(),
            status: self.status.to_owned(),
        }
    }
}

/// Receives a scope's rows one at a time ([`ErpSource::inventory_rows_each`]), borrowed
/// from the answer as it is decoded: nothing is allocated per row on the way.
pub type RowSink = Box<dyn for<'a> FnMut(RowRef<'a>) + Send>;

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
            sink(RowRef::of(&row));
        }
        Ok(())
    }
    /// Every distinct non-empty ERP customer name, sorted.
    async fn customer_names(&self) -> Result<Vec<String>, ErpError>;
    /// Reads one row of the inventory's own tables (the readiness probe): `SELECT 1`
    /// would pass on a server without them, or with a login that may not read them.
    async fn ping(&self) -> Result<(), ErpError>;
}

/// Dates come from the ERP as `YYYY-MM-DD`, possibly followed by a time. Read digit by
/// digit: a million-row read parses three million of them.
pub fn parse_erp_date(s: &str) -> Option<Date> {
    let b = s.as_bytes().get(..10)?;
    let num = |d: &[u8]| -> Option<u32> {
        d.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(num(&b[5..7])?).ok()?).ok()?;
    Date::from_calendar_date(
        i32::try_from(num(&b[..4])?).ok()?,
        month,
        u8::try_from(num(&b[8..10])?).ok()?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn erp_dates_are_read_with_or_without_a_time_and_nonsense_is_none() {
        assert_eq!(parse_erp_date("2027-01-02"), Some(date!(2027 - 01 - 02)));
        assert_eq!(
            parse_erp_date("2026-12-31 23:59:59.997"),
            Some(date!(2026 - 12 - 31))
        );
        assert_eq!(parse_erp_date("2024-02-29"), Some(date!(2024 - 02 - 29)));
        for bad in [
            "",
            "2027-01-0",
            "2027/01/02",
            "2027-13-02",
            "2027-00-10",
            "2023-02-29",
            "2027-01-32",
            "20x7-01-02",
            "+027-01-02",
            "2027-1-02 ",
        ] {
            assert_eq!(parse_erp_date(bad), None, "{bad:?}");
        }
    }
}
