//! What a search looks through: every row's displayed text, lower-cased, fields separated
//! by 0x1f and rows by `\n`, with where each row starts. The text a person sees in each
//! column (plus the raw quantity), as the old page's search matched what was on screen.
//!
//! It is written as the rows arrive from the ERP (after each batch, on the thread that
//! compacts them), so a cold read's indexing does not wait for it: at a million rows it is
//! the longest single piece of the index. Each distinct text is lower-cased once, when it
//! first appears, then copied per row.

use super::rows::{DateCol, Rows, TextCol, date};
use crate::domain::{format_qty, format_us_date};

/// The search text of the rows seen so far.
#[derive(Default)]
pub struct SearchTextBuilder {
    /// Each pooled text lower-cased, back to back: text `id` is `lowered[spans[id]..spans[id + 1]]`.
    lowered: Vec<u8>,
    spans: Vec<usize>,
    haystack: Vec<u8>,
    row_starts: Vec<u32>,
    scratch: String,
}

fn lower_into(out: &mut Vec<u8>, text: &str) {
    for c in text.chars().filter(|c| *c != '\n') {
        for l in c.to_lowercase() {
            let mut buf = [0u8; 4];
            out.extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
        }
    }
}

fn day(d: i32) -> String {
    date(d).map(format_us_date).unwrap_or_default()
}

impl SearchTextBuilder {
    /// The search text of `rows` at once.
    pub fn of(rows: &Rows) -> (Vec<u8>, Vec<u32>) {
        let mut b = SearchTextBuilder {
            haystack: Vec::with_capacity(rows.len() * 160),
            row_starts: Vec::with_capacity(rows.len() + 1),
            ..SearchTextBuilder::default()
        };
        b.extend(rows);
        b.finish()
    }

    /// Adds the rows of `rows` past the ones added before: `rows` only ever grows
    /// between calls (a builder's rows as they are read), its pool ids never change.
    pub fn extend(&mut self, rows: &Rows) {
        if self.spans.is_empty() {
            self.spans.push(0);
        }
        for id in self.spans.len() - 1..rows.distinct_texts() {
            lower_into(&mut self.lowered, rows.text_of(id as u32));
            self.spans.push(self.lowered.len());
        }
        let ids = |c: TextCol| rows.text_ids(c);
        let (customer, part, customer_part, description) = (
            ids(TextCol::Customer),
            ids(TextCol::Part),
            ids(TextCol::CustomerPart),
            ids(TextCol::Description),
        );
        let (unit, bin, user_lot, reference, po, status) = (
            ids(TextCol::Unit),
            ids(TextCol::Bin),
            ids(TextCol::UserLot),
            ids(TextCol::Reference),
            ids(TextCol::Po),
            ids(TextCol::Status),
        );
        let (exp, last_rec, last_tx) = (
            rows.days(DateCol::Exp),
            rows.days(DateCol::LastRec),
            rows.days(DateCol::LastTransaction),
        );
        let qty = rows.quantities();
        let (lowered, spans) = (&self.lowered, &self.spans);
        let text = |h: &mut Vec<u8>, id: u32| {
            h.extend_from_slice(&lowered[spans[id as usize]..spans[id as usize + 1]]);
            h.push(0x1f);
        };
        // Quantities and dates are digits and punctuation: nothing to lower-case.
        let plain = |h: &mut Vec<u8>, s: &str| {
            h.extend_from_slice(s.as_bytes());
            h.push(0x1f);
        };
        for i in self.row_starts.len()..rows.len() {
            let h = &mut self.haystack;
            self.row_starts.push(h.len() as u32);
            text(h, customer[i]);
            text(h, part[i]);
            text(h, customer_part[i]);
            text(h, description[i]);
            plain(h, &format_qty(qty[i]));
            self.scratch.clear();
            let _ = std::fmt::Write::write_fmt(&mut self.scratch, format_args!("{}", qty[i]));
            plain(h, &self.scratch);
            text(h, unit[i]);
            text(h, bin[i]);
            text(h, user_lot[i]);
            plain(h, &day(exp[i]));
            text(h, reference[i]);
            text(h, po[i]);
            text(h, status[i]);
            plain(h, &day(last_rec[i]));
            plain(h, &day(last_tx[i]));
            h.push(b'\n');
        }
    }

    /// The text and where each row starts (one more entry than rows: the end).
    pub fn finish(mut self) -> (Vec<u8>, Vec<u32>) {
        self.row_starts.push(self.haystack.len() as u32);
        self.haystack.shrink_to_fit();
        self.row_starts.shrink_to_fit();
        (self.haystack, self.row_starts)
    }
}
