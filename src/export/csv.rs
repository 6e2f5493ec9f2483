//! CSV export (RFC 4180): the same columns and rows as the XLSX, values as shown on screen
//! except quantities, which stay plain numbers so spreadsheets read them as such.

use std::fmt::Write;

use super::{Column, Kind, columns};
use crate::inventory::rows::{NO_DATE, Rows, date};

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

/// Where a column's values are read from: straight from the snapshot's columns, so a
/// row is never assembled whole to write a few of its fields.
enum Source<'r> {
    Text(&'r [u32]),
    Quantity(&'r [f64]),
    Date(&'r [i32]),
    /// Days to expiry, from the expiry dates.
    DaysTo(&'r [i32]),
    Nothing,
}

impl<'r> Source<'r> {
    fn of(c: &Column, rows: &'r Rows) -> Source<'r> {
        match c.kind {
            Kind::Quantity => Source::Quantity(rows.quantities()),
            Kind::Text => c
                .text_col()
                .map_or(Source::Nothing, |t| Source::Text(rows.text_ids(t))),
            Kind::Date => c
                .date_col()
                .map_or(Source::Nothing, |d| Source::Date(rows.days(d))),
            Kind::Days if c.field == crate::inventory::SortField::DaysToExpiry => {
                Source::DaysTo(rows.days(crate::inventory::rows::DateCol::Exp))
            }
            Kind::Days => Source::Nothing,
        }
    }
}

/// `n` in decimal, as `{}` writes it, without the formatting machinery.
fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    // Only ASCII digits were written.
    let mut buf = [0u8; 20];
    out.push_str(
        std::str::from_utf8(super::digits(n.unsigned_abs(), &mut buf)).unwrap_or_default(),
    );
}

/// A quantity as `{}` writes an `f64` (`12`, `12.5`): whole numbers without the float
/// formatter, which costs several times more.
fn push_quantity(out: &mut String, v: f64) {
    let whole = v.fract() == 0.0 && v.abs() < 1e15 && !(v == 0.0 && v.is_sign_negative());
    if whole {
        push_int(out, v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// A day number as MM/DD/YYYY (empty when missing).
fn push_date(out: &mut String, day: i32) {
    let Some(d) = date(day) else {
        return;
    };
    let (year, month, dom) = (d.year(), u8::from(d.month()), d.day());
    if !(0..=9999).contains(&year) {
        let _ = write!(out, "{month:02}/{dom:02}/{year:04}");
        return;
    }
    let y = year as u16;
    let text = [
        b'0' + month / 10,
        b'0' + month % 10,
        b'/',
        b'0' + dom / 10,
        b'0' + dom % 10,
        b'/',
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
    ];
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// `today`: the day days to expiry count from (the portal's, in its time zone).
pub fn rows(rows: &Rows, order: &[u32], multi_customer: bool, today: time::Date) -> String {
    let sources: Vec<Source> = columns(multi_customer)
        .into_iter()
        .map(|c| Source::of(c, rows))
        .collect();
    let today = today.to_julian_day();
    let mut out = String::with_capacity(order.len() * 160);
    // A row's values are read first, then written: the rows come in the view's order, so
    // each read is a cache miss, and reads made back to back wait for memory together
    // rather than one after another between the writes.
    let mut values: Vec<Value> = Vec::with_capacity(sources.len());
    for &idx in order {
        let i = idx as usize;
        values.clear();
        values.extend(sources.iter().map(|source| match source {
            Source::Text(ids) => Value::Text(rows.text_of(ids[i])),
            Source::Quantity(q) => Value::Quantity(q[i]),
            Source::Date(days) => Value::Date(days[i]),
            Source::DaysTo(exp) if exp[i] != NO_DATE => {
                Value::Int(i64::from(exp[i]) - i64::from(today))
            }
            Source::DaysTo(_) | Source::Nothing => Value::Nothing,
        }));
        for (k, value) in values.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            // Written in place: no string is made per value.
            match *value {
                Value::Text(t) => field(&mut out, t),
                Value::Quantity(q) => push_quantity(&mut out, q),
                Value::Date(day) => push_date(&mut out, day),
                Value::Int(n) => push_int(&mut out, n),
                Value::Nothing => {}
            }
        }
        out.push_str("\r\n");
    }
    out
}

/// One value of a row, read and not yet written.
#[derive(Clone, Copy)]
enum Value<'r> {
    Text(&'r str),
    Quantity(f64),
    Date(i32),
    Int(i64),
    Nothing,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows as first written: each row assembled, each value through `write!`.
    fn rows_row_by_row(rows: &Rows, order: &[u32], today: time::Date) -> String {
        let mut out = String::new();
        for &idx in order {
            let r = &rows.get(idx as usize);
            for (i, c) in columns(true).iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if c.kind == Kind::Quantity {
                    let _ = write!(out, "{}", r.on_hand_qty);
                } else if let Some(t) = c.text(r) {
                    field(&mut out, t);
                } else if let Some(d) = c.date(r) {
                    let (m, day, y) = (u8::from(d.month()), d.day(), d.year());
                    let _ = write!(out, "{m:02}/{day:02}/{y:04}");
                } else if let Some(n) = c.days(r, today) {
                    let _ = write!(out, "{n}");
                }
            }
            out.push_str("\r\n");
        }
        out
    }

    #[test]
    fn rows_written_from_the_columns_are_the_rows_written_one_by_one() {
        use time::macros::date;
        let quantities = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            12.5,
            1234567.0,
            -42.25,
            0.1,
            1e15,
            1e16,
            1e300,
            9.0e14 + 0.5,
            f64::MIN_POSITIVE,
            -987654321.0,
        ];
        let rows: Vec<crate::erp::InventoryRow> = (0..120u32)
            .map(|i| crate::erp::InventoryRow {
                customer: ["Acme", "Café, \"Münster\""][(i % 2) as usize].into(),
                part: format!("P-{i}"),
                description: ["plain", "=SUM(A1)", "two\nlines", ""][(i % 4) as usize].into(),
                on_hand_qty: quantities[i as usize % quantities.len()],
                user_lot: format!("L{}", i % 9),
                exp_date: (i % 3 != 0)
                    .then(|| date!(1999 - 12 - 25) + time::Duration::days(i64::from(i) * 97)),
                last_rec_date: (i % 5 != 0).then_some(date!(0001 - 01 - 01)),
                last_transaction_date: Some(date!(2026 - 02 - 28)),
                ..Default::default()
            })
            .collect();
        let rows = Rows::from_rows(&rows);
        let order: Vec<u32> = (0..rows.len() as u32).rev().collect();
        let today = date!(2026 - 12 - 04);
        assert_eq!(
            super::rows(&rows, &order, true, today),
            rows_row_by_row(&rows, &order, today)
        );
        for n in [0, 7, -7, 10, 99, -100, i64::MAX, i64::MIN] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

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
