//! How values are written for people: the same text on screen, in search, in mails and in
//! CSV files. Every time shown goes through [`wall_clock`].

use time::{Date, OffsetDateTime};

use super::Zone;

/// `1234.5` → `1,234.5`; whole numbers without decimals; at most 4 decimals.
pub fn format_qty(q: f64) -> String {
    let negative = q < 0.0;
    let text = format!("{:.4}", q.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// MM/DD/YYYY, as the existing portal shows dates.
pub fn format_us_date(d: Date) -> String {
    format!("{:02}/{:02}/{:04}", u8::from(d.month()), d.day(), d.year())
}

/// `MM/DD/YYYY HH:MM[:SS] CST`: an instant on the wall clock of `zone`
/// (`PORTAL_TIMEZONE`) with the zone's abbreviation, so nobody has to guess.
pub fn wall_clock(zone: &Zone, t: &OffsetDateTime, seconds: bool) -> String {
    let local = zone.at(*t);
    let secs = if seconds {
        format!(":{:02}", local.second())
    } else {
        String::new()
    };
    format!(
        "{} {:02}:{:02}{secs} {}",
        format_us_date(local.date()),
        local.hour(),
        local.minute(),
        zone.abbreviation(*t)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(format_qty(0.0), "0");
        assert_eq!(format_qty(999.0), "999");
        assert_eq!(format_qty(1000.0), "1,000");
        assert_eq!(format_qty(1234567.25), "1,234,567.25");
        assert_eq!(format_qty(12.5), "12.5");
        assert_eq!(format_qty(-1500.0), "-1,500");
    }

    #[test]
    fn dates() {
        assert_eq!(
            format_us_date(time::macros::date!(2026 - 03 - 07)),
            "03/07/2026"
        );
    }
}
