//! Demo mode only: 180 plausible past days for the history page, so a newcomer sees the
//! feature on the first run. Made backwards from today's real record: every part used at
//! a steady rate of its own (some not at all), with deliveries every few weeks; one part
//! of each large customer running out within days, one recovering after a delivery, and
//! two days nobody recorded (a gap, as after an outage). Deterministic: the same demo
//! gives the same history. Every row is marked `demo`.

use std::collections::BTreeMap;

use time::{Date, Duration};

use crate::store::{CustomerDay, DayFigures, PartDay};

/// Days of made-up history.
pub const DAYS: i64 = 180;
/// Days back that nobody "recorded".
const GAP: [i64; 2] = [41, 42];

/// A small deterministic generator (xorshift), seeded per part.
struct Rng(u64);

impl Rng {
    fn seeded(text: &str) -> Rng {
        // FNV-1a: stable across runs and builds, unlike the standard hasher.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The role a part plays in the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Steady,
    Idle,
    /// Used fast: runs out within days.
    RunsOut,
    /// Ran low, then a delivery a few days ago.
    Recovers,
}

/// The demo's past days, made backwards from `today`'s record of each part (`today` itself
/// is not written: the first real capture does that), and every customer's totals.
pub fn history(today_parts: &[PartDay], today: Date) -> (Vec<PartDay>, Vec<CustomerDay>) {
    let roles = roles(today_parts);
    let parts: Vec<PartDay> = today_parts
        .iter()
        .zip(roles)
        .flat_map(|(p, role)| part_days(p, role, today))
        .collect();
    let mut totals = Totals::default();
    totals.add(&parts);
    (parts, totals.into_vec())
}

/// What each part plays: the first part of each customer that has stock runs out, the
/// second recovers, a fifth of the others are idle.
pub fn roles(today_parts: &[PartDay]) -> Vec<Role> {
    let mut seen_of_customer: BTreeMap<&str, usize> = BTreeMap::new();
    today_parts
        .iter()
        .map(|p| {
            let seen = seen_of_customer
                .entry(p.erp_customer_name.as_str())
                .or_insert(0);
            *seen += 1;
            match *seen {
                1 if p.figures.on_hand > 0.0 => Role::RunsOut,
                2 => Role::Recovers,
                _ if rng_of(p).unit() < 0.2 => Role::Idle,
                _ => Role::Steady,
            }
        })
        .collect()
}

fn rng_of(p: &PartDay) -> Rng {
    Rng::seeded(&format!("{}\u{0}{}", p.erp_customer_name, p.part))
}

/// One part's made-up past days (its own generator, so parts can be made a batch at a
/// time and come out the same).
pub fn part_days(p: &PartDay, role: Role, today: Date) -> Vec<PartDay> {
    let mut rng = rng_of(p);
    // The role drew once from the same generator.
    rng.unit();
    backwards(p, role, &mut rng, today)
}

/// Customers' totals per day, summed as batches of parts are made.
#[derive(Default)]
pub struct Totals(BTreeMap<(String, Date), CustomerDay>);

impl Totals {
    pub fn add(&mut self, parts: &[PartDay]) {
        for p in parts {
            let t = self
                .0
                .entry((p.erp_customer_name.clone(), p.day))
                .or_insert_with(|| CustomerDay {
                    erp_customer_name: p.erp_customer_name.clone(),
                    day: p.day,
                    figures: DayFigures::default(),
                    parts: 0,
                    demo: true,
                });
            t.figures += p.figures;
            t.parts += 1;
        }
    }

    pub fn into_vec(self) -> Vec<CustomerDay> {
        self.0.into_values().collect()
    }
}

/// One part's past days, from what it holds today.
fn backwards(p: &PartDay, role: Role, rng: &mut Rng, today: Date) -> Vec<PartDay> {
    let now = p.figures.on_hand.max(0.0);
    let daily = match role {
        Role::Idle => 0.0,
        // A week of cover left.
        Role::RunsOut => (now / 7.0).max(1.0),
        Role::Recovers | Role::Steady => (now / (30.0 + 200.0 * rng.unit())).max(0.5),
    };
    let every = 14 + (rng.next() % 21) as i64;
    let mut out = Vec::with_capacity(DAYS as usize);
    let mut on_hand = now;
    for back in 1..=DAYS {
        let day = today - Duration::days(back);
        // What was there the day before `day + 1`: add back what was used, take away what
        // arrived.
        let used = daily * (0.6 + 0.8 * rng.unit());
        let delivered = match role {
            Role::Recovers if back == 3 => now * 0.8,
            Role::RunsOut => 0.0,
            _ if daily > 0.0 && back % every == 0 => daily * every as f64,
            _ => 0.0,
        };
        let before = (on_hand + used - delivered).max(0.0);
        if !GAP.contains(&back) {
            out.push(PartDay {
                erp_customer_name: p.erp_customer_name.clone(),
                part: p.part.clone(),
                day,
                figures: DayFigures {
                    on_hand: round(before),
                    lots: p.figures.lots,
                    expired_qty: 0.0,
                    expiring_qty: 0.0,
                    // Set below, from the rise to the next day.
                    received_qty: 0.0,
                },
                demo: true,
            });
        }
        on_hand = before;
    }
    // Mark deliveries: a day whose record is higher than the day before's by more than a
    // day's use received something.
    out.sort_by_key(|r| r.day);
    for i in 1..out.len() {
        let rise = out[i].figures.on_hand - out[i - 1].figures.on_hand;
        if out[i].day - out[i - 1].day == Duration::days(1) && rise > 0.0 {
            out[i].figures.received_qty = round(rise + daily);
        }
    }
    out
}

fn round(q: f64) -> f64 {
    (q * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::forecast::{DEFAULT_WINDOW, DayPoint, Forecast, forecast};
    use time::macros::date;

    fn today_part(customer: &str, part: &str, on_hand: f64) -> PartDay {
        PartDay {
            erp_customer_name: customer.into(),
            part: part.into(),
            day: date!(2026 - 12 - 04),
            figures: DayFigures {
                on_hand,
                lots: 2,
                expired_qty: 0.0,
                expiring_qty: 0.0,
                received_qty: 0.0,
            },
            demo: false,
        }
    }

    #[test]
    fn the_demo_history_is_deterministic_has_a_gap_and_tells_its_stories() {
        let today = date!(2026 - 12 - 04);
        let parts = vec![
            today_part("Acme", "A-1", 700.0),
            today_part("Acme", "A-2", 400.0),
            today_part("Acme", "A-3", 900.0),
        ];
        let (a, totals) = history(&parts, today);
        let (b, _) = history(&parts, today);
        assert_eq!(a, b, "the same demo, the same history");
        assert!(a.iter().all(|r| r.demo && r.day < today));
        let days = |part: &str| -> Vec<&PartDay> { a.iter().filter(|r| r.part == part).collect() };
        assert_eq!(
            days("A-1").len(),
            DAYS as usize - GAP.len(),
            "a gap of two days"
        );
        assert_eq!(totals.len(), DAYS as usize - GAP.len());
        let with_today = |part: &str, now: f64| -> Vec<DayPoint> {
            let mut pts: Vec<DayPoint> = days(part)
                .iter()
                .map(|r| DayPoint {
                    day: r.day,
                    on_hand: r.figures.on_hand,
                    received: r.figures.received_qty,
                })
                .collect();
            pts.push(DayPoint {
                day: today,
                on_hand: now,
                received: 0.0,
            });
            pts
        };
        // The first part runs out within about a week.
        let f = forecast(&with_today("A-1", 700.0), None, DEFAULT_WINDOW);
        assert!(
            f.runs_out_within(today, 12),
            "the part that runs out: {f:?}"
        );
        // The second recovered: a delivery three days ago.
        let recovering = days("A-2");
        assert!(
            recovering
                .iter()
                .any(|r| r.figures.received_qty > 0.0 && r.day >= today - Duration::days(3))
        );
        assert!(!matches!(
            forecast(&with_today("A-3", 900.0), None, DEFAULT_WINDOW),
            Forecast::NotEnoughHistory { .. }
        ));
    }
}
