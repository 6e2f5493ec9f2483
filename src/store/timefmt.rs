//! Timestamps are stored as fixed-width UTC text (`2026-11-26T18:55:23.123456Z`) so that
//! they sort correctly as strings in SQLite and read back losslessly.
//!
//! The old portal's local-time columns (`AuditLog.timestamp`, `Customers.created_date`,
//! `last_login_date`) hold a wall-clock time in `APP_DB_TIME_ZONE` without a zone, as SQL
//! Server's `GETDATE()` wrote them: `2026-11-26 12:55:23.123456`. Values written by
//! earlier versions of this portal (with a `Z`) still read as the UTC instants they are.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub fn format_ts(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(FORMAT)
        .expect("UTC timestamps always format")
}

pub fn parse_ts(s: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(s, FORMAT)
        .ok()
        .map(|p| p.assume_utc())
        .or_else(|| {
            // Rows written by other tools may use RFC 3339 or SQL's "YYYY-MM-DD HH:MM:SS".
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .ok()
                .or_else(|| {
                    PrimitiveDateTime::parse(
                        s,
                        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
                    )
                    .ok()
                    .map(|p| p.assume_utc())
                })
        })
}

const LOCAL_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]");

/// `t` as the wall clock in `zone`, for a local-time column.
pub fn format_local(t: OffsetDateTime, zone: &crate::domain::Zone) -> String {
    zone.local(t)
        .format(LOCAL_FORMAT)
        .expect("local timestamps always format")
}

/// A local-time column's value: zone-less text is a wall-clock time in `zone`; text with
/// `Z` or an offset is that instant.
pub fn parse_local(s: &str, zone: &crate::domain::Zone) -> Option<OffsetDateTime> {
    let s = s.trim();
    if s.ends_with('Z') || s.ends_with('z') {
        return parse_ts(s);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some(t.to_offset(UtcOffset::UTC));
    }
    let naive = PrimitiveDateTime::parse(s, LOCAL_FORMAT)
        .or_else(|_| {
            PrimitiveDateTime::parse(
                s,
                format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
            )
        })
        .or_else(|_| {
            PrimitiveDateTime::parse(
                s,
                format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond]"),
            )
        })
        .ok()?;
    Some(zone.instant(naive))
}

/// A calendar day as stored (`YYYY-MM-DD`; anything after the date is ignored).
pub fn parse_day(s: &str) -> Option<time::Date> {
    time::Date::parse(s.get(..10)?, format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        let a = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap();
        let b = a + time::Duration::seconds(1);
        assert_eq!(parse_ts(&format_ts(a)), Some(a));
        assert!(format_ts(a) < format_ts(b));
        assert!(parse_ts("2024-01-02 03:04:05").is_some());
        assert!(parse_ts("garbage").is_none());
    }

    #[test]
    fn local_columns_use_the_zone() {
        use time::macros::datetime;
        let chicago = crate::domain::Zone::parse("America/Chicago").unwrap();
        let t = datetime!(2026-07-01 14:00:00.5 UTC);
        assert_eq!(format_local(t, &chicago), "2026-07-01 09:00:00.500000");
        assert_eq!(parse_local("2026-07-01 09:00:00.500000", &chicago), Some(t));
        // As GETDATE() reads back through a driver (no fraction, or milliseconds).
        assert_eq!(
            parse_local("2026-01-05 08:30:00", &chicago),
            Some(datetime!(2026-01-05 14:30 UTC))
        );
        assert_eq!(
            parse_local("2026-01-05 08:30:00.250", &chicago),
            Some(datetime!(2026-01-05 14:30:00.25 UTC))
        );
        // Rows written as UTC by earlier versions keep their instant.
        assert_eq!(
            parse_local("2026-07-01T14:00:00.500000Z", &chicago),
            Some(t)
        );
        // Same-width text sorts in time order within a zone's offset.
        assert!(
            format_local(datetime!(2026-07-01 14:00 UTC), &chicago)
                < format_local(datetime!(2026-07-01 14:00:01 UTC), &chicago)
        );
    }
}
