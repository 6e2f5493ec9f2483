//! A named time zone (IANA, e.g. `America/Chicago`), parsed once at start-up.
//!
//! Two settings use it: `APP_DB_TIME_ZONE`, the zone of the old portal's local-time columns
//! (SQL Server's `GETDATE()` clock), and `PORTAL_TIMEZONE`, the zone every time shown to a
//! person is written in. Inside the portal every instant is an `OffsetDateTime` in UTC;
//! only the edges (a local-time column, a page, a mail, a file name) convert.

use jiff::tz::{AmbiguousOffset, TimeZone};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

#[derive(Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl std::fmt::Debug for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::utc()
    }
}

impl Zone {
    /// An IANA zone name such as `America/Chicago` or `UTC`.
    pub fn parse(name: &str) -> Result<Zone, String> {
        let name = name.trim();
        TimeZone::get(name)
            .map(|tz| Zone {
                name: name.to_owned(),
                tz,
            })
            .map_err(|_| format!("{name:?} is not a time zone name such as America/Chicago"))
    }

    /// The host's zone (`TZ`, then `/etc/localtime`); UTC when the host does not say.
    pub fn host() -> Zone {
        let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
        let name = tz.iana_name().unwrap_or("UTC").to_owned();
        Zone { name, tz }
    }

    pub fn utc() -> Zone {
        Zone {
            name: "UTC".to_owned(),
            tz: TimeZone::UTC,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The zone's offset from UTC at instant `t`.
    pub fn offset_at(&self, t: OffsetDateTime) -> UtcOffset {
        let secs = self.tz.to_offset(to_jiff(t)).seconds();
        UtcOffset::from_whole_seconds(secs).unwrap_or(UtcOffset::UTC)
    }

    /// The wall-clock time in this zone at instant `t` (what `GETDATE()` would have said).
    pub fn local(&self, t: OffsetDateTime) -> PrimitiveDateTime {
        let l = t.to_offset(self.offset_at(t));
        PrimitiveDateTime::new(l.date(), l.time())
    }

    /// `t` as a time in this zone, its offset attached.
    pub fn at(&self, t: OffsetDateTime) -> OffsetDateTime {
        t.to_offset(self.offset_at(t))
    }

    /// The instant a wall-clock time in this zone stands for. In the hour repeated when
    /// clocks go back the earlier instant is taken (the old portal could not tell either);
    /// a time skipped when clocks go forward is read with the offset before the change,
    /// so it lands just after the gap rather than failing.
    pub fn instant(&self, local: PrimitiveDateTime) -> OffsetDateTime {
        let civil = jiff::civil::DateTime::new(
            local.year() as i16,
            u8::from(local.month()) as i8,
            local.day() as i8,
            local.hour() as i8,
            local.minute() as i8,
            local.second() as i8,
            local.nanosecond() as i32,
        );
        let offset = match civil {
            Ok(civil) => match self.tz.to_ambiguous_zoned(civil).offset() {
                AmbiguousOffset::Unambiguous { offset } => offset,
                AmbiguousOffset::Fold { before, .. } => before,
                AmbiguousOffset::Gap { before, .. } => before,
            },
            Err(_) => jiff::tz::Offset::UTC,
        };
        let offset = UtcOffset::from_whole_seconds(offset.seconds()).unwrap_or(UtcOffset::UTC);
        local.assume_offset(offset).to_offset(UtcOffset::UTC)
    }

    /// The zone's short name at `t` (`CST`, `CDT`, `UTC`); a numeric offset where the zone
    /// has no abbreviation.
    pub fn abbreviation(&self, t: OffsetDateTime) -> String {
        let info = self.tz.to_offset_info(to_jiff(t));
        let abbr = info.abbreviation();
        if abbr.is_empty() {
            self.offset_at(t).to_string()
        } else {
            abbr.to_owned()
        }
    }

    /// The start of local day `date` as an instant.
    pub fn start_of_day(&self, date: time::Date) -> OffsetDateTime {
        self.instant(date.midnight())
    }
}

fn to_jiff(t: OffsetDateTime) -> jiff::Timestamp {
    jiff::Timestamp::from_second(t.unix_timestamp()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn chicago() -> Zone {
        Zone::parse("America/Chicago").unwrap()
    }

    #[test]
    fn names_are_checked() {
        assert!(Zone::parse("Europe/Berlin").is_ok());
        assert!(Zone::parse("UTC").is_ok());
        let err = Zone::parse("Mars/Olympus").unwrap_err();
        assert!(err.contains("Mars/Olympus"), "{err}");
    }

    #[test]
    fn winter_and_summer_offsets() {
        let z = chicago();
        // 09:00 CST = 15:00 UTC; 09:00 CDT = 14:00 UTC.
        assert_eq!(
            z.instant(datetime!(2026-01-15 09:00)),
            datetime!(2026-01-15 15:00 UTC)
        );
        assert_eq!(
            z.instant(datetime!(2026-07-15 09:00)),
            datetime!(2026-07-15 14:00 UTC)
        );
        assert_eq!(
            z.local(datetime!(2026-07-15 14:00 UTC)),
            datetime!(2026-07-15 09:00)
        );
        assert_eq!(z.abbreviation(datetime!(2026-01-15 15:00 UTC)), "CST");
        assert_eq!(z.abbreviation(datetime!(2026-07-15 14:00 UTC)), "CDT");
    }

    #[test]
    fn across_the_spring_change() {
        let z = chicago();
        // 2026-03-08: 02:00 CST jumps to 03:00 CDT.
        assert_eq!(
            z.instant(datetime!(2026-03-08 01:59)),
            datetime!(2026-03-08 07:59 UTC)
        );
        assert_eq!(
            z.instant(datetime!(2026-03-08 03:00)),
            datetime!(2026-03-08 08:00 UTC)
        );
        // 02:30 never happened: read with the offset before the change.
        assert_eq!(
            z.instant(datetime!(2026-03-08 02:30)),
            datetime!(2026-03-08 08:30 UTC)
        );
        // Round trip on either side of the change.
        for t in [
            datetime!(2026-03-08 07:59 UTC),
            datetime!(2026-03-08 08:00 UTC),
        ] {
            assert_eq!(z.instant(z.local(t)), t);
        }
    }

    #[test]
    fn across_the_autumn_change() {
        let z = chicago();
        // 2026-11-01: 02:00 CDT goes back to 01:00 CST; 01:30 happens twice.
        assert_eq!(
            z.local(datetime!(2026-11-01 06:30 UTC)),
            datetime!(2026-11-01 01:30)
        );
        assert_eq!(
            z.local(datetime!(2026-11-01 07:30 UTC)),
            datetime!(2026-11-01 01:30)
        );
        assert_eq!(
            z.instant(datetime!(2026-11-01 01:30)),
            datetime!(2026-11-01 06:30 UTC)
        );
        assert_eq!(
            z.instant(datetime!(2026-11-01 02:30)),
            datetime!(2026-11-01 08:30 UTC)
        );
        // That local day lasted 25 hours.
        let day = z.start_of_day(time::macros::date!(2026 - 11 - 02))
            - z.start_of_day(time::macros::date!(2026 - 11 - 01));
        assert_eq!(day, time::Duration::hours(25));
    }

    #[test]
    fn utc_is_the_identity() {
        let z = Zone::utc();
        let t = datetime!(2026-05-05 05:05:05 UTC);
        assert_eq!(z.instant(z.local(t)), t);
        assert_eq!(z.abbreviation(t), "UTC");
    }
}
