//! The inventory's columns, described once. Each column's sort field is also its GraphQL
//! row field (`SortField::name`); its header is what the grid and the exports call it; its
//! card label what a phone shows beside the value; its kind how exports write it. The
//! grid, the phone cards and both exports are drawn from this table.

use time::Date;

use super::SortField;
use super::rows::{DateCol, RowRef, TextCol};

/// How a column's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A quantity: a number in files, grouped with commas on screen.
    Quantity,
    Date,
    /// Whole days (days to expiry, from the day of the view).
    Days,
}

/// One column.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub field: SortField,
    /// The grid's header and the exports' (the old portal's words where it had the column).
    pub header: &'static str,
    /// The label beside the value on a phone, where each row is a card.
    pub card_label: &'static str,
    pub kind: Kind,
    /// Characters wide in an XLSX.
    pub xlsx_width: f64,
}

const fn col(
    field: SortField,
    header: &'static str,
    card_label: &'static str,
    kind: Kind,
    xlsx_width: f64,
) -> Column {
    Column {
        field,
        header,
        card_label,
        kind,
        xlsx_width,
    }
}

/// Every column, one per sort field.
pub const ALL: [Column; 16] = [
    col(
        SortField::Customer,
        "Customer",
        "Customer",
        Kind::Text,
        26.0,
    ),
    col(SortField::Part, "Part", "Part", Kind::Text, 16.0),
    col(
        SortField::CustomerPart,
        "Customer Part",
        "Customer part",
        Kind::Text,
        14.0,
    ),
    col(
        SortField::Description,
        "Description",
        "Description",
        Kind::Text,
        40.0,
    ),
    col(
        SortField::OnHandQty,
        "On Hand Qty",
        "On hand",
        Kind::Quantity,
        13.0,
    ),
    col(SortField::Unit, "Unit", "Unit", Kind::Text, 7.0),
    col(SortField::Bin, "Bin", "Bin", Kind::Text, 12.0),
    col(
        SortField::Reference,
        "Reference",
        "Reference",
        Kind::Text,
        14.0,
    ),
    col(SortField::UserLot, "User Lot", "Lot", Kind::Text, 14.0),
    col(SortField::ExpDate, "Exp Date", "Exp", Kind::Date, 13.0),
    col(
        SortField::LastTransactionDate,
        "Last Tran Date",
        "Last transaction",
        Kind::Date,
        13.0,
    ),
    col(
        SortField::LastRecDate,
        "Last Rec Date",
        "Last received",
        Kind::Date,
        13.0,
    ),
    col(SortField::Po, "PO", "PO", Kind::Text, 14.0),
    col(SortField::Status, "Status", "Status", Kind::Text, 15.0),
    col(
        SortField::DaysToExpiry,
        "Days to Expiry",
        "Days to expiry",
        Kind::Days,
        14.0,
    ),
    col(
        SortField::DaysOfCover,
        "Days of Cover",
        "Days of cover",
        Kind::Days,
        13.0,
    ),
];

/// The column of `field`.
pub fn column(field: SortField) -> &'static Column {
    ALL.iter()
        .find(|c| c.field == field)
        .expect("every sort field has a column")
}

/// The grid's columns, in order (Customer only when the scope has several customers).
/// Days of Cover comes last so that every column the grid had before keeps its place.
pub const GRID: [SortField; 15] = [
    SortField::Customer,
    SortField::Part,
    SortField::Description,
    SortField::OnHandQty,
    SortField::Unit,
    SortField::Bin,
    SortField::UserLot,
    SortField::ExpDate,
    SortField::DaysToExpiry,
    SortField::Reference,
    SortField::Po,
    SortField::Status,
    SortField::LastRecDate,
    SortField::LastTransactionDate,
    SortField::DaysOfCover,
];

/// The exports' columns: the old portal's twelve, in its order — customers' macros and
/// Power Query steps key on them — then the ones it did not have.
pub const EXPORT: [SortField; 15] = [
    SortField::Part,
    SortField::Description,
    SortField::OnHandQty,
    SortField::Unit,
    SortField::Bin,
    SortField::UserLot,
    SortField::ExpDate,
    SortField::Reference,
    SortField::Po,
    SortField::Status,
    SortField::LastRecDate,
    SortField::LastTransactionDate,
    SortField::Customer,
    SortField::CustomerPart,
    SortField::DaysToExpiry,
];

/// How many of [`EXPORT`] are the old portal's.
pub const OLD_EXPORT_COLUMNS: usize = 12;

impl Column {
    /// The value of a text column.
    pub fn text<'r>(&self, r: &RowRef<'r>) -> Option<&'r str> {
        self.text_col().map(|c| r.texts()[c as usize])
    }

    /// The value of a date column (not of days to expiry, which reads a date too).
    pub fn date(&self, r: &RowRef<'_>) -> Option<Date> {
        (self.kind == Kind::Date)
            .then(|| self.date_col())
            .flatten()
            .and_then(|c| r.dates()[c as usize])
    }

    /// The snapshot's text column this column reads, where it is a text column.
    pub fn text_col(&self) -> Option<TextCol> {
        Some(match self.field {
            SortField::Customer => TextCol::Customer,
            SortField::Part => TextCol::Part,
            SortField::CustomerPart => TextCol::CustomerPart,
            SortField::Description => TextCol::Description,
            SortField::Unit => TextCol::Unit,
            SortField::Bin => TextCol::Bin,
            SortField::Reference => TextCol::Reference,
            SortField::UserLot => TextCol::UserLot,
            SortField::Po => TextCol::Po,
            SortField::Status => TextCol::Status,
            _ => return None,
        })
    }

    /// The snapshot's date column a date or whole-days column is read from.
    pub fn date_col(&self) -> Option<DateCol> {
        match self.field {
            SortField::ExpDate | SortField::DaysToExpiry => Some(DateCol::Exp),
            SortField::LastRecDate => Some(DateCol::LastRec),
            SortField::LastTransactionDate => Some(DateCol::LastTransaction),
            _ => None,
        }
    }

    /// The value of a whole-days column, counted from `today`.
    pub fn days(&self, r: &RowRef<'_>, today: Date) -> Option<i64> {
        match self.field {
            SortField::DaysToExpiry => r.exp_date.map(|d| super::days_to_expiry(d, today)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_column_reads_its_own_value() {
        use time::macros::date;
        let row = crate::erp::InventoryRow {
            part: "P-1".into(),
            user_lot: "L-1".into(),
            exp_date: Some(date!(2027 - 01 - 02)),
            last_transaction_date: Some(date!(2026 - 02 - 03)),
            last_rec_date: Some(date!(2025 - 03 - 04)),
            ..Default::default()
        };
        let r = RowRef::of(&row);
        let c = |f| column(f);
        assert_eq!(c(SortField::Part).text(&r), Some("P-1"));
        assert_eq!(c(SortField::UserLot).text(&r), Some("L-1"));
        assert_eq!(c(SortField::OnHandQty).text(&r), None);
        assert_eq!(c(SortField::ExpDate).date(&r), row.exp_date);
        assert_eq!(
            c(SortField::LastTransactionDate).date(&r),
            row.last_transaction_date
        );
        assert_eq!(c(SortField::LastRecDate).date(&r), row.last_rec_date);
        assert_eq!(
            c(SortField::DaysToExpiry).date(&r),
            None,
            "a number of days"
        );
        assert_eq!(c(SortField::Part).date(&r), None);
        assert_eq!(
            c(SortField::DaysToExpiry).days(&r, date!(2027 - 01 - 01)),
            Some(1)
        );
    }

    #[test]
    fn every_sort_field_has_one_column_and_every_list_names_known_columns() {
        for f in SortField::ALL {
            assert_eq!(ALL.iter().filter(|c| c.field == f).count(), 1, "{f:?}");
        }
        let headers: Vec<&str> = EXPORT[..OLD_EXPORT_COLUMNS]
            .iter()
            .map(|f| column(*f).header)
            .collect();
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
                "Last Tran Date"
            ],
            "the old portal's export columns, in its order"
        );
    }
}
