//! CSV export (RFC 4180): the same columns and rows as the XLSX, values as shown on screen
//! except quantities, which stay plain numbers so spreadsheets read them as such.

use std::fmt::Write;

use super::{Kind, columns};
use crate::inventory::rows::Rows;

/// Quotes a field when it needs it; neutralises spreadsheet formulas (`=`, `+`, `-`, `@`
/// at the start of text), since these files are opened in Excel.
fn field(out: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = formula || value.contains([',', '"', '\n', '\r']);
    if needs_quotes {
        out.push('"');
        if formula {
            out.push('\'');
        }
        for ch in value.chars() {
            if ch == '"' {
                out.push('"');
            }
            out.push(ch);
        }
        out.push('"');
    } else {
        out.push_str(value);
    }
}

pub fn header(multi_customer: bool) -> String {
    let mut out = String::from("\u{feff}"); // BOM: Excel then reads UTF-8 correctly
    let cols = columns(multi_customer);
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(&mut out, c.header);
    }
    out.push_str("\r\n");
    out
}

/// `today`: the day days to expiry count from (the portal's, in its time zone).
pub fn rows(rows: &Rows, order: &[u32], multi_customer: bool, today: time::Date) -> String {
    let cols = columns(multi_customer);
    let mut out = String::with_capacity(order.len() * 160);
    for &idx in order {
        let r = &rows.get(idx as usize);
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Written in place: no string is made per value.
            if c.kind == Kind::Quantity {
                let _ = write!(out, "{}", r.on_hand_qty);
            } else if let Some(t) = c.text(r) {
                field(&mut out, t);
            } else if let Some(d) = c.date(r) {
                let _ = write!(
                    out,
                    "{:02}/{:02}/{:04}",
                    u8::from(d.month()),
                    d.day(),
                    d.year()
                );
            } else if let Some(n) = c.days(r, today) {
                let _ = write!(out, "{n}");
            }
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_formula_neutralising() {
        let mut s = String::new();
        field(&mut s, "plain");
        s.push('|');
        field(&mut s, "a,b");
        s.push('|');
        field(&mut s, "say \"hi\"");
        s.push('|');
        field(&mut s, "=HYPERLINK(\"x\")");
        assert_eq!(
            s,
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"'=HYPERLINK(\"\"x\"\")\""
        );
    }
}
