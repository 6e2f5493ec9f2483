//! Exports of an inventory view: XLSX (a zip written as a stream, its sheet compressed as
//! the rows are written) and CSV, both generated chunk by chunk while they stream, at most
//! a few chunks ahead of the client.
//! Both take the rows the inventory service selected, never rows sent by a browser.

pub mod csv;
pub mod xlsx;

use time::OffsetDateTime;

use crate::domain::{ErpScope, Zone};

pub use crate::inventory::columns::{Column, Kind};

/// `n`'s decimal digits, written at the end of `buf` (the formatter costs several times
/// more, and exports write millions of numbers).
fn digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[at..]
}

/// The columns of an export (`inventory::columns::EXPORT`): the old portal's twelve, in
/// its order, then the new ones. The scope no longer changes them; the parameter stays so
/// a caller states which scope it exports.
pub fn columns(_multi_customer: bool) -> Vec<&'static Column> {
    crate::inventory::columns::EXPORT
        .iter()
        .map(|f| crate::inventory::columns::column(*f))
        .collect()
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
        let headers: Vec<&str> = columns(false).iter().map(|c| c.header).collect();
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
        assert_eq!(
            headers[crate::inventory::columns::OLD_EXPORT_COLUMNS - 1],
            "Last Tran Date"
        );
        let headers = |multi| columns(multi).iter().map(|c| c.header).collect::<Vec<_>>();
        assert_eq!(headers(true), headers(false));
    }
}
