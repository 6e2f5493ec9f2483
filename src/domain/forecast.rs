//! Days of cover and run-out dates, from a part's own daily history.
//!
//! **The rule, in words.** Take the last [`DEFAULT_WINDOW`] days (28 unless configured)
//! that ended with the latest recorded day. For each day whose day before was recorded
//! too, the day's net change is what was on hand that day less what was on hand the day
//! before. Days on which a delivery arrived (lots received since the day before) are left
//! out: a delivery hides what was used that day. The average of what the other days lost
//! is the part's **daily use**. With fewer than [`MIN_DAYS`] such days there is not enough
//! history to say anything. If the part is not falling (daily use zero or less), it has no
//! run-out date. Otherwise **days of cover** is what is on hand now divided by the daily
//! use; the part **runs out** that many days after the latest recorded day (rounded up),
//! and **falls below its minimum** after the days it takes to use what is above the
//! minimum.

use time::{Date, Duration};

/// Days looked back by default.
pub const DEFAULT_WINDOW: u32 = 28;
/// Fewer usable days than this is not enough history.
pub const MIN_DAYS: u32 = 7;

/// One recorded day of a part.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayPoint {
    pub day: Date,
    pub on_hand: f64,
    /// On hand in lots received since the day before (a delivery).
    pub received: f64,
}

/// What a part's history says about its future.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Forecast {
    /// Fewer than [`MIN_DAYS`] usable days.
    NotEnoughHistory { days: u32 },
    /// Not falling: steady or growing over the window.
    NotFalling { daily_use: f64, days: u32 },
    /// Falling by `daily_use` a day.
    Falling {
        daily_use: f64,
        days: u32,
        days_of_cover: f64,
        runs_out_on: Date,
        /// When it falls below the part's minimum (`None`: no minimum, or already below).
        below_minimum_on: Option<Date>,
    },
}

impl Forecast {
    /// Days of cover, where the part is falling.
    pub fn days_of_cover(&self) -> Option<f64> {
        match self {
            Forecast::Falling { days_of_cover, .. } => Some(*days_of_cover),
            _ => None,
        }
    }

    pub fn runs_out_on(&self) -> Option<Date> {
        match self {
            Forecast::Falling { runs_out_on, .. } => Some(*runs_out_on),
            _ => None,
        }
    }

    pub fn below_minimum_on(&self) -> Option<Date> {
        match self {
            Forecast::Falling {
                below_minimum_on, ..
            } => *below_minimum_on,
            _ => None,
        }
    }

    /// Whether it runs out within `days` of `today`.
    pub fn runs_out_within(&self, today: Date, days: u32) -> bool {
        self.runs_out_on()
            .is_some_and(|d| d <= today + Duration::days(i64::from(days)))
    }
}

/// The forecast of a part from its recorded days (any order, gaps allowed), its minimum
/// if it has one, over a window of `window` days.
pub fn forecast(points: &[DayPoint], minimum: Option<f64>, window: u32) -> Forecast {
    let mut days: Vec<&DayPoint> = points.iter().collect();
    days.sort_by_key(|p| p.day);
    let Some(latest) = days.last().copied() else {
        return Forecast::NotEnoughHistory { days: 0 };
    };
    let start = latest.day - Duration::days(i64::from(window));
    let mut used = Vec::new();
    for pair in days.windows(2) {
        let (before, day) = (pair[0], pair[1]);
        if day.day <= start || day.day - before.day != Duration::days(1) || day.received > 0.0 {
            continue;
        }
        used.push(before.on_hand - day.on_hand);
    }
    let n = used.len() as u32;
    if n < MIN_DAYS {
        return Forecast::NotEnoughHistory { days: n };
    }
    let daily_use = used.iter().sum::<f64>() / f64::from(n);
    // A use under a thousandth of a unit a day is no use: no run-out in any calendar.
    if daily_use <= 1e-3 || latest.on_hand <= 0.0 {
        return if latest.on_hand <= 0.0 && daily_use > 1e-3 {
            Forecast::Falling {
                daily_use,
                days: n,
                days_of_cover: 0.0,
                runs_out_on: latest.day,
                below_minimum_on: None,
            }
        } else {
            Forecast::NotFalling { daily_use, days: n }
        };
    }
    let days_of_cover = latest.on_hand / daily_use;
    let after = |d: f64| latest.day + Duration::days(d.ceil().min(36_500.0) as i64);
    let below_minimum_on = minimum
        .filter(|m| latest.on_hand > *m)
        .map(|m| after((latest.on_hand - m) / daily_use));
    Forecast::Falling {
        daily_use,
        days: n,
        days_of_cover,
        runs_out_on: after(days_of_cover),
        below_minimum_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn series(start: Date, values: &[(f64, f64)]) -> Vec<DayPoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, (on_hand, received))| DayPoint {
                day: start + Duration::days(i as i64),
                on_hand: *on_hand,
                received: *received,
            })
            .collect()
    }

    #[test]
    fn steady_use_gives_cover_and_dates() {
        // 1,000 on hand, 20 used a day for 14 days: 720 left, 36 days of cover.
        let values: Vec<(f64, f64)> = (0..15)
            .map(|i| (1000.0 - 20.0 * f64::from(i), 0.0))
            .collect();
        let f = forecast(
            &series(date!(2026 - 11 - 01), &values),
            Some(300.0),
            DEFAULT_WINDOW,
        );
        let Forecast::Falling {
            daily_use,
            days,
            days_of_cover,
            runs_out_on,
            below_minimum_on,
        } = f
        else {
            panic!("{f:?}");
        };
        assert_eq!((daily_use, days), (20.0, 14));
        assert_eq!(days_of_cover, 36.0);
        assert_eq!(runs_out_on, date!(2026 - 11 - 15) + Duration::days(36));
        assert_eq!(
            below_minimum_on,
            Some(date!(2026 - 11 - 15) + Duration::days(21))
        );
        assert!(f.runs_out_within(date!(2026 - 11 - 15), 36));
        assert!(!f.runs_out_within(date!(2026 - 11 - 15), 35));
    }

    #[test]
    fn a_delivery_day_does_not_hide_the_use() {
        // 10 a day, with a delivery of 500 on day 8: without the rule the average would be
        // about -23 (growing); with it, 10 a day.
        let mut values: Vec<(f64, f64)> = Vec::new();
        let mut on_hand = 400.0;
        for i in 0..15 {
            if i == 8 {
                on_hand += 500.0 - 10.0;
                values.push((on_hand, 500.0));
            } else {
                if i > 0 {
                    on_hand -= 10.0;
                }
                values.push((on_hand, 0.0));
            }
        }
        let f = forecast(
            &series(date!(2026 - 11 - 01), &values),
            None,
            DEFAULT_WINDOW,
        );
        match f {
            Forecast::Falling {
                daily_use, days, ..
            } => assert_eq!((daily_use, days), (10.0, 13)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bursty_use_averages_over_the_window() {
        // Nothing for six days, then 70 on the seventh, twice: 10 a day on average.
        let mut values = vec![(1000.0, 0.0)];
        let mut on_hand = 1000.0;
        for i in 1..=14 {
            if i % 7 == 0 {
                on_hand -= 70.0;
            }
            values.push((on_hand, 0.0));
        }
        let f = forecast(
            &series(date!(2026 - 11 - 01), &values),
            None,
            DEFAULT_WINDOW,
        );
        assert_eq!(f.days_of_cover(), Some(86.0));
    }

    #[test]
    fn flat_or_growing_stock_never_runs_out_and_short_history_says_so() {
        let flat: Vec<(f64, f64)> = (0..20).map(|_| (50.0, 0.0)).collect();
        assert!(matches!(
            forecast(
                &series(date!(2026 - 11 - 01), &flat),
                Some(10.0),
                DEFAULT_WINDOW
            ),
            Forecast::NotFalling { .. }
        ));
        let short: Vec<(f64, f64)> = (0..6).map(|i| (50.0 - f64::from(i), 0.0)).collect();
        assert_eq!(
            forecast(&series(date!(2026 - 11 - 01), &short), None, DEFAULT_WINDOW),
            Forecast::NotEnoughHistory { days: 5 }
        );
        // Gaps break pairs: every other day recorded is no usable day at all.
        let gappy: Vec<DayPoint> = (0..20)
            .map(|i| DayPoint {
                day: date!(2026 - 11 - 01) + Duration::days(2 * i),
                on_hand: 100.0 - i as f64,
                received: 0.0,
            })
            .collect();
        assert_eq!(
            forecast(&gappy, None, DEFAULT_WINDOW),
            Forecast::NotEnoughHistory { days: 0 }
        );
        // Days before the window do not count.
        let old_then_flat: Vec<(f64, f64)> = (0..60)
            .map(|i| {
                (
                    if i < 30 {
                        1000.0 - 10.0 * f64::from(i)
                    } else {
                        700.0
                    },
                    0.0,
                )
            })
            .collect();
        assert!(matches!(
            forecast(
                &series(date!(2026 - 10 - 01), &old_then_flat),
                None,
                DEFAULT_WINDOW
            ),
            Forecast::NotFalling { .. }
        ));
    }
}
