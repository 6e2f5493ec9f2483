//! One day's record, summed from the rows the grid shows: per ERP customer and part, what
//! is on hand, in how many lots, how much has expired or expires within 30 days, and how
//! much arrived since the day before; and the same per customer.

use std::collections::{BTreeMap, HashSet};

use time::{Date, Duration};

use crate::inventory::rows::Rows;
use crate::store::{CustomerDay, DayFigures, PartDay, fits};

/// Days ahead that count as "expiring".
pub const EXPIRING_WITHIN: i64 = 30;

/// What a capture of `day` writes, and the parts it had to leave out (names longer than
/// the history's columns hold: a cut name would merge two parts).
pub struct Summary {
    pub parts: Vec<PartDay>,
    pub totals: Vec<CustomerDay>,
    pub left_out: usize,
}

/// Sums `rows` into one day's record for `day`.
pub fn summarize(rows: &Rows, day: Date) -> Summary {
    struct Acc<'r> {
        figures: DayFigures,
        lots: HashSet<&'r str>,
    }
    let since = day - Duration::days(1);
    let mut by_part: BTreeMap<(&str, &str), Acc> = BTreeMap::new();
    let mut left_out = HashSet::new();
    for r in rows.iter() {
        if !fits::HISTORY_CUSTOMER.holds(r.customer) || !fits::HISTORY_PART.holds(r.part) {
            left_out.insert((r.customer, r.part));
            continue;
        }
        let acc = by_part.entry((r.customer, r.part)).or_insert_with(|| Acc {
            figures: DayFigures::default(),
            lots: HashSet::new(),
        });
        let f = &mut acc.figures;
        f.on_hand += r.on_hand_qty;
        acc.lots.insert(r.user_lot);
        if let Some(exp) = r.exp_date {
            if exp < day {
                f.expired_qty += r.on_hand_qty;
            } else if exp <= day + Duration::days(EXPIRING_WITHIN) {
                f.expiring_qty += r.on_hand_qty;
            }
        }
        if r.last_rec_date.is_some_and(|d| d >= since && d <= day) {
            f.received_qty += r.on_hand_qty;
        }
    }
    let mut totals: BTreeMap<&str, CustomerDay> = BTreeMap::new();
    let mut parts = Vec::with_capacity(by_part.len());
    for ((customer, part), mut acc) in by_part {
        acc.figures.lots = acc.lots.len() as i64;
        let f = acc.figures;
        let t = totals.entry(customer).or_insert_with(|| CustomerDay {
            erp_customer_name: customer.to_owned(),
            day,
            figures: DayFigures::default(),
            parts: 0,
            demo: false,
        });
        t.figures += f;
        t.parts += 1;
        parts.push(PartDay {
            erp_customer_name: customer.to_owned(),
            part: part.to_owned(),
            day,
            figures: f,
            demo: false,
        });
    }
    Summary {
        parts,
        totals: totals.into_values().collect(),
        left_out: left_out.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erp::InventoryRow;
    use time::macros::date;

    fn row(
        customer: &str,
        part: &str,
        lot: &str,
        qty: f64,
        exp: Option<Date>,
        rec: Option<Date>,
    ) -> InventoryRow {
        InventoryRow {
            customer: customer.into(),
            part: part.into(),
            customer_part: String::new(),
            description: String::new(),
            on_hand_qty: qty,
            unit: "EA".into(),
            bin: "A1".into(),
            reference: String::new(),
            user_lot: lot.into(),
            exp_date: exp,
            last_transaction_date: None,
            last_rec_date: rec,
            po: String::new(),
            status: "Available".into(),
        }
    }

    #[test]
    fn parts_and_customers_are_summed_for_the_day() {
        let day = date!(2026 - 12 - 04);
        let rows = vec![
            row("Acme", "A-1", "L1", 10.0, Some(date!(2026 - 12 - 01)), None),
            // The same lot in another bin: one lot.
            row("Acme", "A-1", "L1", 5.0, Some(date!(2026 - 12 - 01)), None),
            row(
                "Acme",
                "A-1",
                "L2",
                20.0,
                Some(date!(2026 - 12 - 20)),
                Some(day),
            ),
            row("Acme", "A-2", "L3", 7.0, None, Some(date!(2026 - 12 - 03))),
            row("Acme", "A-2", "L4", 1.0, None, Some(date!(2026 - 12 - 02))),
            row("Pure", "W-1", "L5", 3.0, Some(date!(2027 - 06 - 01)), None),
            row("Pure", &"x".repeat(101), "L6", 3.0, None, None),
        ];
        let s = summarize(&Rows::from_rows(&rows), day);
        assert_eq!(s.left_out, 1, "a part number longer than the column holds");
        assert_eq!(s.parts.len(), 3);
        let a1 = &s.parts[0];
        assert_eq!(
            (a1.erp_customer_name.as_str(), a1.part.as_str()),
            ("Acme", "A-1")
        );
        assert_eq!(
            a1.figures,
            DayFigures {
                on_hand: 35.0,
                lots: 2,
                expired_qty: 15.0,
                expiring_qty: 20.0,
                received_qty: 20.0
            }
        );
        assert_eq!(
            s.parts[1].figures.received_qty, 7.0,
            "received the day before counts"
        );
        assert_eq!(s.totals.len(), 2);
        let acme = &s.totals[0];
        assert_eq!(
            (acme.parts, acme.figures.on_hand, acme.figures.lots),
            (2, 43.0, 4)
        );
    }
}
