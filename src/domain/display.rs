//! How values are written for people: the same text on screen, in search, in mails and in
//! CSV files. Every time shown goes through [`wall_clock`].

use time::{Date, OffsetDateTime};

use super::Zone;

/// `1234.5` → `1,234.5`; whole numbers without decimals; at most 4 decimals.
pub fn format_qty(q: f64) -> String {
    let sign = if q < 0.0 { "-" } else { "" };
    // Most stock is whole: its digits come from the integer, as `{:.4}` would give them
    // (formatting a float exactly is the slow part of a grid's markup).
    if q.fract() == 0.0 && q.abs() < 1e15 {
        return grouped(sign, &(q.abs() as u64).to_string(), "");
    }
    let text = format!("{:.4}", q.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    grouped(sign, int, frac.trim_end_matches('0'))
}

/// `sign`, `int` with a comma every three digits, and `.frac` unless it is empty.
fn grouped(sign: &str, int: &str, frac: &str) -> String {
    let mut out = String::with_capacity(sign.len() + int.len() + int.len() / 3 + frac.len() + 1);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
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

/// A browser and its system in a few words ("Chrome 131 on Windows") from a `User-Agent`
/// header, for staff looking at sessions and customers looking at their own; an agent
/// that names no known browser is shown shortened as it is, a missing one as "Unknown
/// browser". Order matters: Edge and Opera also claim Chrome, Chrome also claims Safari.
pub fn describe_browser(user_agent: Option<&str>) -> String {
    let ua = match user_agent.map(str::trim) {
        Some(ua) if !ua.is_empty() => ua,
        _ => return "Unknown browser".to_owned(),
    };
    let version = |marker: &str| {
        ua.split(marker)
            .nth(1)
            .and_then(|rest| rest.split(['.', ' ', ';', ')']).next())
            .filter(|v| !v.is_empty())
    };
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
    ]
    .iter()
    .find_map(|(marker, name)| {
        version(marker).map(|v| {
            if *name == "Safari" && !ua.contains("Safari/") {
                String::new()
            } else {
                format!("{name} {v}")
            }
        })
    })
    .filter(|b| !b.is_empty());
    let os = if ua.contains("Windows NT") {
        Some("Windows")
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        Some("iOS")
    } else if ua.contains("Mac OS X") {
        Some("macOS")
    } else if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("Linux") {
        Some("Linux")
    } else {
        None
    };
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} on {o}"),
        (Some(b), None) => b,
        (None, Some(o)) => format!("a browser on {o}"),
        (None, None) => ua.chars().take(60).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_read_as_browser_and_system() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(describe_browser(Some(chrome)), "Chrome 131 on Windows");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86";
        assert_eq!(describe_browser(Some(edge)), "Edge 131 on Windows");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_browser(Some(safari)), "Safari 17 on iOS");
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(describe_browser(Some(firefox)), "Firefox 133 on Linux");
        assert_eq!(
            describe_browser(Some("portal-tests/1.0")),
            "portal-tests/1.0"
        );
        assert_eq!(describe_browser(Some("  ")), "Unknown browser");
        assert_eq!(describe_browser(None), "Unknown browser");
    }

    #[test]
    fn quantities() {
        assert_eq!(format_qty(0.0), "0");
        assert_eq!(format_qty(999.0), "999");
        assert_eq!(format_qty(1000.0), "1,000");
        assert_eq!(format_qty(1234567.25), "1,234,567.25");
        assert_eq!(format_qty(12.5), "12.5");
        assert_eq!(format_qty(-1500.0), "-1,500");
        assert_eq!(format_qty(-0.0), "0");
        assert_eq!(format_qty(1e20), "100,000,000,000,000,000,000");
    }

    /// Whole quantities take a short road; it gives what formatting the float exactly gives.
    #[test]
    fn whole_quantities_read_the_same_either_road() {
        let exact = |q: f64| {
            let text = format!("{:.4}", q.abs());
            let (int, frac) = text.split_once('.').unwrap();
            grouped(
                if q < 0.0 { "-" } else { "" },
                int,
                frac.trim_end_matches('0'),
            )
        };
        let mut q = 1.0f64;
        while q < 1e16 {
            for v in [
                q,
                q - 1.0,
                q + 1.0,
                -q,
                (q * 7.0).floor(),
                999_999_999_999_999.0,
            ] {
                assert_eq!(format_qty(v), exact(v), "{v}");
            }
            q *= 3.0;
        }
    }

    #[test]
    fn dates() {
        assert_eq!(
            format_us_date(time::macros::date!(2026 - 03 - 07)),
            "03/07/2026"
        );
    }
}
