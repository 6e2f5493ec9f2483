//! Exports of an inventory view: XLSX (rust_xlsxwriter in constant-memory mode, written to
//! a temporary file and streamed) and CSV (generated chunk by chunk while it streams).
//! Both take the rows the inventory service selected, never rows sent by a browser.

pub mod csv;
pub mod xlsx;

use time::OffsetDateTime;

use crate::domain::{ErpScope, Zone};
use crate::erp::InventoryRow;

/// The columns of an export. Exports keep the old portal's columns, headers and order —
/// the grid as its customers saw it: Part, Description, On Hand Qty, Unit, Bin, User Lot,
/// Exp Date, Reference, PO, Status, Last Rec Date, Last Tran Date — because customers'
/// macros and Power Query steps key on them. Columns the old portal did not have only
/// ever come after these: Customer, Customer Part, Days to Expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Customer,
    Part,
    CustomerPart,
    Description,
    OnHandQty,
    Unit,
    Bin,
    UserLot,
    ExpDate,
    Reference,
    Po,
    Status,
    LastRecDate,
    LastTranDate,
    /// New in this portal, after the old columns: days from the export's day to the
    /// expiry date (negative once expired; empty without a date).
    DaysToExpiry,
}

impl Column {
    pub fn header(self) -> &'static str {
        match self {
            Column::Customer => "Customer",
            Column::Part => "Part",
            Column::CustomerPart => "Customer Part",
            Column::Description => "Description",
            Column::OnHandQty => "On Hand Qty",
            Column::Unit => "Unit",
            Column::Bin => "Bin",
            Column::UserLot => "User Lot",
            Column::ExpDate => "Exp Date",
            Column::Reference => "Reference",
            Column::Po => "PO",
            Column::Status => "Status",
            Column::LastRecDate => "Last Rec Date",
            Column::LastTranDate => "Last Tran Date",
            Column::DaysToExpiry => "Days to Expiry",
        }
    }

    pub fn text(self, r: &InventoryRow) -> Option<&str> {
        Some(match self {
            Column::Customer => &r.customer,
            Column::Part => &r.part,
            Column::CustomerPart => &r.customer_part,
            Column::Description => &r.description,
            Column::Unit => &r.unit,
            Column::Bin => &r.bin,
            Column::UserLot => &r.user_lot,
            Column::Reference => &r.reference,
            Column::Po => &r.po,
            Column::Status => &r.status,
            Column::OnHandQty
            | Column::ExpDate
            | Column::LastRecDate
            | Column::LastTranDate
            | Column::DaysToExpiry => {
                return None;
            }
        })
    }

    pub fn date(self, r: &InventoryRow) -> Option<time::Date> {
        match self {
            Column::ExpDate => r.exp_date,
            Column::LastRecDate => r.last_rec_date,
            Column::LastTranDate => r.last_transaction_date,
            _ => None,
        }
    }

    /// The whole-number columns (days to expiry, counted from `today`).
    pub fn days(self, r: &InventoryRow, today: time::Date) -> Option<i64> {
        match self {
            Column::DaysToExpiry => r
                .exp_date
                .map(|d| crate::inventory::days_to_expiry(d, today)),
            _ => None,
        }
    }
}

/// The old portal's export columns, in its order, for every scope; then the new ones.
pub const COLUMNS: [Column; 15] = [
    Column::Part,
    Column::Description,
    Column::OnHandQty,
    Column::Unit,
    Column::Bin,
    Column::UserLot,
    Column::ExpDate,
    Column::Reference,
    Column::Po,
    Column::Status,
    Column::LastRecDate,
    Column::LastTranDate,
    Column::Customer,
    Column::CustomerPart,
    Column::DaysToExpiry,
];

/// How many of [`COLUMNS`] are the old portal's.
pub const OLD_COLUMNS: usize = 12;

/// The columns of an export. The scope no longer changes them; the parameter stays so a
/// caller states which scope it exports.
pub fn columns(_multi_customer: bool) -> Vec<Column> {
    COLUMNS.to_vec()
}

/// `Inventory_<scope>_<YYYYMMDD_HHMMSS>.<ext>`, with the scope reduced to safe characters
/// and the time on the portal's wall clock (`PORTAL_TIMEZONE`), as the old portal named
/// its files by the server's local time.
///
/// When the ERP did not answer and the rows are the last ones read, `at` is when they were
/// read and the name says so: `Inventory_<scope>_STALE-as-of_<YYYYMMDD_HHMMSS>.<ext>`.
pub fn file_name(
    scope: &ErpScope,
    at: OffsetDateTime,
    stale: bool,
    zone: &Zone,
    ext: &str,
) -> String {
    let at = zone.at(at);
    let label: String = scope
        .label()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_matches('_')
        .chars()
        .take(60)
        .collect();
    let label = if label.is_empty() {
        "Inventory".to_owned()
    } else {
        label
    };
    let stale = if stale { "STALE-as-of_" } else { "" };
    format!(
        "Inventory_{label}_{stale}{:04}{:02}{:02}_{:02}{:02}{:02}.{ext}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        let at = time::macros::datetime!(2026-11-26 09:05:03 UTC);
        let utc = Zone::utc();
        assert_eq!(
            file_name(&ErpScope::All, at, false, &utc, "xlsx"),
            "Inventory_All_20261126_090503.xlsx"
        );
        assert_eq!(
            file_name(&ErpScope::parse("O'Malley Brewing"), at, false, &utc, "csv"),
            "Inventory_O_Malley_Brewing_20261126_090503.csv"
        );
        assert_eq!(
            file_name(&ErpScope::parse("a|b"), at, false, &utc, "xlsx"),
            "Inventory_Multiple_20261126_090503.xlsx"
        );
    }

    #[test]
    fn a_stale_export_says_so_in_its_name() {
        let at = time::macros::datetime!(2026-11-26 09:05:03 UTC);
        assert_eq!(
            file_name(&ErpScope::All, at, true, &Zone::utc(), "csv"),
            "Inventory_All_STALE-as-of_20261126_090503.csv"
        );
    }

    #[test]
    fn file_names_use_the_portals_wall_clock() {
        let chicago = Zone::parse("America/Chicago").unwrap();
        // 03:05 UTC on the 27th is still the evening of the 26th in Chicago.
        let at = time::macros::datetime!(2026-11-27 03:05:03 UTC);
        assert_eq!(
            file_name(&ErpScope::All, at, false, &chicago, "csv"),
            "Inventory_All_20261126_210503.csv"
        );
    }

    #[test]
    fn the_old_columns_come_first_in_the_old_order() {
        let headers: Vec<&str> = columns(false).iter().map(|c| c.header()).collect();
        assert_eq!(
            headers,
            [
                "Part",
                "Description",
                "On Hand Qty",
                "Unit",
                "Bin",
                "User Lot",
                "Exp Date",
                "Reference",
                "PO",
                "Status",
                "Last Rec Date",
                "Last Tran Date",
                "Customer",
                "Customer Part",
                "Days to Expiry"
            ]
        );
        assert_eq!(headers[OLD_COLUMNS - 1], "Last Tran Date");
        assert_eq!(columns(true), columns(false));
    }
}
