//! Timestamps are stored as fixed-width UTC text (`2026-11-26T18:55:23.123456Z`) so that
//! they sort correctly as strings in SQLite and read back losslessly.

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
}
