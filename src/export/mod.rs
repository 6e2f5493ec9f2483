//! Exports of an inventory view: XLSX (rust_xlsxwriter in constant-memory mode, written to
//! a temporary file and streamed) and CSV (generated chunk by chunk while it streams).
//! Both take the rows the inventory service selected, never rows sent by a browser.

pub mod csv;
pub mod xlsx;

use time::OffsetDateTime;

use crate::domain::ErpScope;
use crate::erp::InventoryRow;

/// The columns of an export, in the grid's order (Customer only when the scope has several).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Customer,
    Part,
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
}

impl Column {
    pub fn header(self) -> &'static str {
        match self {
            Column::Customer => "Customer",
            Column::Part => "Part",
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
        }
    }

    pub fn text(self, r: &InventoryRow) -> Option<&str> {
        Some(match self {
            Column::Customer => &r.customer,
            Column::Part => &r.part,
            Column::Description => &r.description,
            Column::Unit => &r.unit,
            Column::Bin => &r.bin,
            Column::UserLot => &r.user_lot,
            Column::Reference => &r.reference,
            Column::Po => &r.po,
            Column::Status => &r.status,
            Column::OnHandQty | Column::ExpDate | Column::LastRecDate | Column::LastTranDate => {
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
}

/// The grid's columns for a scope.
pub fn columns(multi_customer: bool) -> Vec<Column> {
    let mut cols = Vec::with_capacity(13);
    if multi_customer {
        cols.push(Column::Customer);
    }
    cols.extend([
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
    ]);
    cols
}

/// `Inventory_<scope>_<YYYYMMDD_HHMMSS>.<ext>`, with the scope reduced to safe characters.
pub fn file_name(scope: &ErpScope, at: OffsetDateTime, ext: &str) -> String {
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
    format!(
        "Inventory_{label}_{:04}{:02}{:02}_{:02}{:02}{:02}.{ext}",
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
        assert_eq!(
            file_name(&ErpScope::All, at, "xlsx"),
            "Inventory_All_20261126_090503.xlsx"
        );
        assert_eq!(
            file_name(&ErpScope::parse("O'Malley Brewing"), at, "csv"),
            "Inventory_O_Malley_Brewing_20261126_090503.csv"
        );
        assert_eq!(
            file_name(&ErpScope::parse("a|b"), at, "xlsx"),
            "Inventory_Multiple_20261126_090503.xlsx"
        );
    }
}
