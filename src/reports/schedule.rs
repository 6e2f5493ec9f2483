//! When a report is due: at the top of its hour in the portal's time zone, every day or on
//! one weekday. Daylight-saving days follow the zone's clock (a skipped hour runs at the
//! instant the zone maps it to).

use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, Weekday};

use crate::domain::Zone;

/// `0` = Monday … `6` = Sunday, as stored.
pub fn weekday_of(n: i64) -> Option<Weekday> {
    Some(match n {
        0 => Weekday::Monday,
        1 => Weekday::Tuesday,
        2 => Weekday::Wednesday,
        3 => Weekday::Thursday,
        4 => Weekday::Friday,
        5 => Weekday::Saturday,
        6 => Weekday::Sunday,
        _ => return None,
    })
}

pub const WEEKDAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The weekday a subscription runs on: its own when weekly, none (every day) when daily.
pub fn weekday_if_weekly(
    frequency: crate::domain::reports::Frequency,
    weekday: Option<i64>,
) -> Option<i64> {
    if frequency == crate::domain::reports::Frequency::Weekly {
        weekday
    } else {
        None
    }
}

/// The first due time strictly after `after`: `hour`:00 in `zone`, on every day
/// (`weekday` `None`) or on that weekday.
pub fn next_run(
    after: OffsetDateTime,
    weekday: Option<i64>,
    hour: i64,
    zone: &Zone,
) -> OffsetDateTime {
    let hour = hour.clamp(0, 23) as u8;
    let wanted = weekday.and_then(weekday_of);
    let start: Date = zone.local(after).date();
    // Eight days always hold the next matching day after `after`.
    for offset in 0..=8 {
        let Some(day) = start.checked_add(time::Duration::days(offset)) else {
            break;
        };
        if wanted.is_some_and(|w| day.weekday() != w) {
            continue;
        }
        let at = zone.instant(PrimitiveDateTime::new(
            day,
            Time::from_hms(hour, 0, 0).expect("valid hour"),
        ));
        if at > after {
            return at;
        }
    }
    // Unreachable for valid input; a day later keeps the schedule moving regardless.
    after + time::Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn daily_and_weekly_times_in_the_zone() {
        let utc = Zone::utc();
        // Friday 2026-11-27 10:30 UTC.
        let now = datetime!(2026-11-27 10:30 UTC);
        assert_eq!(
            next_run(now, None, 11, &utc),
            datetime!(2026-11-27 11:00 UTC)
        );
        assert_eq!(
            next_run(now, None, 10, &utc),
            datetime!(2026-11-28 10:00 UTC)
        );
        // The exact due instant is not "after" itself: the next one is a day later.
        assert_eq!(
            next_run(datetime!(2026-11-27 11:00 UTC), None, 11, &utc),
            datetime!(2026-11-28 11:00 UTC)
        );
        // Monday 07:00.
        assert_eq!(
            next_run(now, Some(0), 7, &utc),
            datetime!(2026-11-30 07:00 UTC)
        );
        // Friday 11:00 is later today; Friday 09:00 is next week.
        assert_eq!(
            next_run(now, Some(4), 11, &utc),
            datetime!(2026-11-27 11:00 UTC)
        );
        assert_eq!(
            next_run(now, Some(4), 9, &utc),
            datetime!(2026-12-04 09:00 UTC)
        );

        let chicago = Zone::parse("America/Chicago").unwrap();
        // 10:30 UTC is 04:30 in Chicago; 07:00 there in winter (CST, UTC-6) is 13:00 UTC.
        assert_eq!(
            next_run(now, None, 7, &chicago),
            datetime!(2026-11-27 13:00 UTC)
        );
        // And in summer (CDT, UTC-5) 12:00 UTC.
        assert_eq!(
            next_run(datetime!(2026-07-01 00:00 UTC), None, 7, &chicago),
            datetime!(2026-07-01 12:00 UTC)
        );
    }
}
