//! XLSX export: numbers as numbers, dates as Excel dates, a bold frozen header with an
//! autofilter, sensible column widths. Constant-memory mode writes each row to a temporary
//! file as it goes, so memory stays flat however many rows there are.

use std::io::Write;

use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, XlsxError};

use super::{Kind, columns};
use crate::inventory::rows::Rows;

/// The worksheet's name, as the old portal's export named it.
pub const SHEET_NAME: &str = "Inventory Export";

/// Writes the rows (`order` indexes `rows`) as a workbook to `out`.
pub fn write<W: Write + Send>(
    rows: &Rows,
    order: &[u32],
    multi_customer: bool,
    today: time::Date,
    out: W,
) -> Result<(), XlsxError> {
    let cols = columns(multi_customer);
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color("#DCE6F1")
        .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
    // Two decimals, as the old portal's export: customers' macros read them that way.
    let qty = Format::new()
        .set_num_format("#,##0.00")
        .set_align(FormatAlign::Right);
    let date = Format::new().set_num_format("mm/dd/yyyy");
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    // The old portal's sheet name: Power Query steps and macros refer to it.
    sheet.set_name(SHEET_NAME)?;
    for (c, col) in cols.iter().enumerate() {
        sheet.set_column_width(c as u16, col.xlsx_width)?;
        sheet.write_string_with_format(0, c as u16, col.header, &header)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let last_row = order.len() as u32;
    sheet.autofilter(0, 0, last_row.max(1), cols.len() as u16 - 1)?;
    for (i, &idx) in order.iter().enumerate() {
        let r = &rows.get(idx as usize);
        let row = i as u32 + 1;
        for (c, col) in cols.iter().enumerate() {
            let c = c as u16;
            if col.kind == Kind::Quantity {
                sheet.write_number_with_format(row, c, r.on_hand_qty, &qty)?;
            } else if let Some(text) = col.text(r) {
                if !text.is_empty() {
                    sheet.write_string(row, c, text)?;
                }
            } else if let Some(d) = col.date(r) {
                let excel = ExcelDateTime::from_ymd(d.year() as u16, u8::from(d.month()), d.day())?;
                sheet.write_datetime_with_format(row, c, excel, &date)?;
            } else if let Some(n) = col.days(r, today) {
                sheet.write_number(row, c, n as f64)?;
            }
        }
    }
    workbook.save_to_writer(out)
}
