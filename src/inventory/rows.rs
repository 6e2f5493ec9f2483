//! A snapshot's rows, column by column. The text columns repeat heavily (a scope has a
//! few customers, units and statuses, thousands of parts and bins, one description per
//! part), so every distinct text is kept once, in one pool, and each row holds a 4-byte id
//! per text column; quantities are plain numbers and dates plain day numbers. At a million
//! rows this is a fraction of a `Vec<InventoryRow>` (ten heap strings a row), and its size
//! is what the capacities say, so the cache's gauge can count it exactly.

use std::collections::HashMap;
use std::hash::BuildHasher;

use time::Date;

use crate::erp::InventoryRow;

pub use crate::erp::RowRef;

/// The text columns, in the order their ids are kept: [`RowRef::texts`]' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextCol {
    Customer,
    Part,
    CustomerPart,
    Description,
    Unit,
    Bin,
    Reference,
    UserLot,
    Po,
    Status,
}

const TEXT_COLS: usize = crate::erp::TEXT_FIELDS;

/// The date columns, in [`RowRef::dates`]' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateCol {
    Exp,
    LastTransaction,
    LastRec,
}

/// A missing date in [`Rows::days`].
pub const NO_DATE: i32 = i32::MIN;

fn day(d: Option<Date>) -> i32 {
    d.map_or(NO_DATE, Date::to_julian_day)
}

/// The date of a day number in [`Rows::days`] (`None` for [`NO_DATE`]).
pub fn date(n: i32) -> Option<Date> {
    (n != NO_DATE)
        .then(|| Date::from_julian_day(n).ok())
        .flatten()
}

/// Every distinct text once, back to back; `starts[id]..starts[id + 1]` is text `id`.
#[derive(Default)]
struct Pool {
    text: String,
    starts: Vec<u32>,
}

impl Pool {
    fn get(&self, id: u32) -> &str {
        let (a, b) = (
            self.starts[id as usize] as usize,
            self.starts[id as usize + 1] as usize,
        );
        &self.text[a..b]
    }
}

pub struct Rows {
    pool: Pool,
    /// `ids[c][i]`: row `i`'s text in column `c`.
    ids: [Vec<u32>; TEXT_COLS],
    on_hand: Vec<f64>,
    exp: Vec<i32>,
    last_tx: Vec<i32>,
    last_rec: Vec<i32>,
}

impl std::fmt::Debug for Rows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("len", &self.len())
            .field("distinct_texts", &self.pool.starts.len().saturating_sub(1))
            .finish()
    }
}

/// Equal when they hold the same rows in the same order (whatever the ids).
impl PartialEq for Rows {
    fn eq(&self, other: &Rows) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Rows {
    pub fn len(&self) -> usize {
        self.on_hand.len()
    }

    pub fn is_empty(&self) -> bool {
        self.on_hand.is_empty()
    }

    /// Row `i` (panics past the end, as slice indexing does).
    pub fn get(&self, i: usize) -> RowRef<'_> {
        RowRef::from_parts(
            std::array::from_fn(|c| self.pool.get(self.ids[c][i])),
            self.on_hand[i],
            [
                date(self.exp[i]),
                date(self.last_tx[i]),
                date(self.last_rec[i]),
            ],
        )
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = RowRef<'_>> + Clone + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// One text column, row by row.
    pub fn texts(&self, col: TextCol) -> impl Iterator<Item = &str> + Clone + '_ {
        self.ids[col as usize].iter().map(|&id| self.pool.get(id))
    }

    /// Row `i`'s text in one column (what [`Rows::get`] reads, one column only).
    pub fn text(&self, col: TextCol, i: usize) -> &str {
        self.pool.get(self.ids[col as usize][i])
    }

    /// Row `i`'s date in one column.
    pub fn date(&self, col: DateCol, i: usize) -> Option<Date> {
        date(self.days(col)[i])
    }

    /// One text column's ids, row by row: equal texts have equal ids.
    pub fn text_ids(&self, col: TextCol) -> &[u32] {
        &self.ids[col as usize]
    }

    /// How many distinct texts the pool holds (ids are below this).
    pub fn distinct_texts(&self) -> usize {
        self.pool.starts.len().saturating_sub(1)
    }

    /// The text of a pool id.
    pub fn text_of(&self, id: u32) -> &str {
        self.pool.get(id)
    }

    pub fn quantities(&self) -> &[f64] {
        &self.on_hand
    }

    /// One date column as Julian day numbers, row by row ([`NO_DATE`] where missing).
    pub fn days(&self, col: DateCol) -> &[i32] {
        match col {
            DateCol::Exp => &self.exp,
            DateCol::LastTransaction => &self.last_tx,
            DateCol::LastRec => &self.last_rec,
        }
    }

    /// Bytes held (capacities, not lengths: what the allocator gave).
    pub fn heap_bytes(&self) -> usize {
        self.pool.text.capacity()
            + self.pool.starts.capacity() * 4
            + self.ids.iter().map(|c| c.capacity() * 4).sum::<usize>()
            + self.on_hand.capacity() * 8
            + (self.exp.capacity() + self.last_tx.capacity() + self.last_rec.capacity()) * 4
    }

    /// Rows from owned rows (tests, fixtures).
    pub fn from_rows(rows: &[InventoryRow]) -> Rows {
        let mut b = RowsBuilder::with_capacity(rows.len());
        for r in rows {
            b.push(RowRef::of(r));
        }
        b.finish()
    }
}

/// Builds [`Rows`] one row at a time (as the ERP hands them over), keeping each distinct
/// text once. The lookup table of distinct texts lives only while building.
pub struct RowsBuilder {
    rows: Rows,
    /// Hash of a text → its id. Texts whose hashes collide with a different text go to
    /// `clashes`.
    /// A text's hash → its id (the hash is the key as it is: see [`Prehashed`]).
    seen: HashMap<u64, u32, std::hash::BuildHasherDefault<Prehashed>>,
    clashes: HashMap<String, u32>,
    /// Fast and seeded per builder: texts come from the ERP, not from a visitor, but a
    /// seed costs nothing.
    hasher: foldhash::fast::RandomState,
    /// Each text column's id in the row before: neighbouring rows often repeat a column
    /// (a part's lots come together), and comparing with it skips the hash.
    last: [u32; TEXT_COLS],
}

/// The hasher of keys that are hashes already: passes the `u64` through.
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed with it; anything else is folded in plainly.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl RowsBuilder {
    pub fn with_capacity(n: usize) -> RowsBuilder {
        RowsBuilder {
            rows: Rows {
                pool: Pool {
                    text: String::new(),
                    starts: vec![0],
                },
                ids: std::array::from_fn(|_| Vec::with_capacity(n)),
                on_hand: Vec::with_capacity(n),
                exp: Vec::with_capacity(n),
                last_tx: Vec::with_capacity(n),
                last_rec: Vec::with_capacity(n),
            },
            seen: HashMap::default(),
            clashes: HashMap::new(),
            hasher: Default::default(),
            last: [u32::MAX; TEXT_COLS],
        }
    }

    /// A builder that starts with the first `n` rows of `rows`, with room for `capacity`.
    pub fn with_prefix(rows: &Rows, n: usize, capacity: usize) -> RowsBuilder {
        let mut b = RowsBuilder::with_capacity(capacity.max(n));
        for i in 0..n {
            b.push(rows.get(i));
        }
        b
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows pushed so far (their pool ids stay as they are while more are pushed).
    pub fn so_far(&self) -> &Rows {
        &self.rows
    }

    fn intern(&mut self, s: &str) -> u32 {
        let key = self.hasher.hash_one(s);
        let pool = &mut self.rows.pool;
        match self.seen.get(&key) {
            Some(&id) if pool.get(id) == s => return id,
            Some(_) => {
                if let Some(&id) = self.clashes.get(s) {
                    return id;
                }
            }
            None => {}
        }
        let id = (pool.starts.len() - 1) as u32;
        pool.text.push_str(s);
        pool.starts.push(pool.text.len() as u32);
        match self.seen.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => {
                self.clashes.insert(s.to_owned(), id);
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(id);
            }
        }
        id
    }

    pub fn push(&mut self, r: RowRef<'_>) {
        for (c, s) in r.texts().into_iter().enumerate() {
            let last = self.last[c];
            let id = if last != u32::MAX && self.rows.pool.get(last) == s {
                last
            } else {
                self.intern(s)
            };
            self.last[c] = id;
            self.rows.ids[c].push(id);
        }
        self.rows.on_hand.push(r.on_hand_qty);
        self.rows.exp.push(day(r.exp_date));
        self.rows.last_tx.push(day(r.last_transaction_date));
        self.rows.last_rec.push(day(r.last_rec_date));
    }

    /// The rows, their columns trimmed to what they hold.
    pub fn finish(self) -> Rows {
        let mut rows = self.rows;
        rows.pool.text.shrink_to_fit();
        rows.pool.starts.shrink_to_fit();
        for c in &mut rows.ids {
            c.shrink_to_fit();
        }
        rows.on_hand.shrink_to_fit();
        rows.exp.shrink_to_fit();
        rows.last_tx.shrink_to_fit();
        rows.last_rec.shrink_to_fit();
        rows
    }
}

/// Rows copied out of the ERP's answer a batch at a time (one buffer of text, no string
/// per field), so they can be handed to another thread: a read's rows are compacted on one
/// core while the ERP's answer is decoded on the other.
#[derive(Default)]
pub struct RowBatch {
    text: String,
    /// Where each text ends in `text`, ten a row in `TextCol` order.
    ends: Vec<u32>,
    numbers: Vec<(f64, [Option<Date>; 3])>,
}

impl RowBatch {
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    pub fn push(&mut self, r: RowRef<'_>) {
        for t in r.texts() {
            self.text.push_str(t);
            self.ends.push(self.text.len() as u32);
        }
        self.numbers.push((r.on_hand_qty, r.dates()));
    }

    /// Each row, in the order pushed.
    pub fn rows(&self) -> impl Iterator<Item = RowRef<'_>> + '_ {
        self.numbers
            .iter()
            .enumerate()
            .map(move |(i, &(qty, dates))| {
                let end = |k: usize| self.ends[k] as usize;
                let texts = std::array::from_fn(|c| {
                    let k = i * TEXT_COLS + c;
                    &self.text[if k == 0 { 0 } else { end(k - 1) }..end(k)]
                });
                RowRef::from_parts(texts, qty, dates)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn row(part: &str, lot: &str, exp: Option<Date>) -> InventoryRow {
        InventoryRow {
            customer: "Acme Foods".into(),
            part: part.into(),
            customer_part: String::new(),
            description: format!("{part} description"),
            on_hand_qty: 12.5,
            unit: "EA".into(),
            bin: "A-01".into(),
            reference: "REF".into(),
            user_lot: lot.into(),
            exp_date: exp,
            last_transaction_date: Some(date!(2026 - 01 - 02)),
            last_rec_date: None,
            po: String::new(),
            status: "Available".into(),
        }
    }

    /// A row's texts come in the text columns' order (the ids of `Rows` are kept so).
    #[test]
    fn a_rows_texts_are_in_the_text_columns_order() {
        let r = InventoryRow {
            customer: "customer".into(),
            part: "part".into(),
            customer_part: "customer part".into(),
            description: "description".into(),
            unit: "unit".into(),
            bin: "bin".into(),
            reference: "reference".into(),
            user_lot: "user lot".into(),
            po: "po".into(),
            status: "status".into(),
            ..Default::default()
        };
        let texts = RowRef::of(&r).texts();
        for (col, want) in [
            (TextCol::Customer, "customer"),
            (TextCol::Part, "part"),
            (TextCol::CustomerPart, "customer part"),
            (TextCol::Description, "description"),
            (TextCol::Unit, "unit"),
            (TextCol::Bin, "bin"),
            (TextCol::Reference, "reference"),
            (TextCol::UserLot, "user lot"),
            (TextCol::Po, "po"),
            (TextCol::Status, "status"),
        ] {
            assert_eq!(texts[col as usize], want);
        }
        assert_eq!(RowRef::from_parts(texts, 0.0, [None; 3]), RowRef::of(&r));
    }

    #[test]
    fn a_batch_gives_back_the_rows_pushed() {
        let input = vec![
            row("P1", "L1", Some(date!(2027 - 01 - 02))),
            row("", "", None),
            row("Ünïcode ✓", "L3", None),
        ];
        let mut batch = RowBatch::default();
        for r in &input {
            batch.push(RowRef::of(r));
        }
        assert_eq!(batch.len(), 3);
        let back: Vec<InventoryRow> = batch.rows().map(|r| r.to_row()).collect();
        assert_eq!(back, input);
    }

    #[test]
    fn rows_read_back_as_they_went_in_and_texts_are_kept_once() {
        let input = vec![
            row("P-1", "L1", Some(date!(2027 - 03 - 08))),
            row("P-1", "L2", None),
            row("P-2", "L1", Some(date!(1999 - 12 - 31))),
            row("P-ü", "", None),
        ];
        let rows = Rows::from_rows(&input);
        assert_eq!(rows.len(), 4);
        for (i, r) in input.iter().enumerate() {
            assert_eq!(rows.get(i), RowRef::of(r), "row {i}");
            assert_eq!(&rows.get(i).to_row(), r);
        }
        // Acme Foods, P-1, "", P-1 description, EA, A-01, REF, L1, Available, L2, P-2,
        // P-2 description, P-ü, P-ü description.
        assert_eq!(rows.distinct_texts(), 14);
        assert_eq!(
            rows.text_ids(TextCol::Customer),
            &[0, 0, 0, 0],
            "one id for one text"
        );
        assert_eq!(
            rows.texts(TextCol::Part).collect::<Vec<_>>(),
            ["P-1", "P-1", "P-2", "P-ü"]
        );
        assert!(rows.heap_bytes() > 0);
    }

    #[test]
    fn rows_take_a_few_dozen_bytes_each_besides_their_distinct_texts() {
        let mut b = RowsBuilder::with_capacity(100_000);
        for i in 0..100_000u32 {
            let r = row(&format!("P-{}", i % 2_000), &format!("LOT{i:07}"), None);
            b.push(RowRef::of(&r));
        }
        let rows = b.finish();
        // 10 ids, a quantity and 3 dates: 60 bytes; the unique lots add their text and
        // offset (about 14 bytes).
        let per_row = rows.heap_bytes() as f64 / rows.len() as f64;
        assert!(per_row < 90.0, "{per_row} bytes a row");
    }
}
