//! The admin backend: each feature's page, fragments and handlers side by side. Pages read
//! and change data only through the GraphQL schema (in-process), as the admin.

pub mod analytics;
pub mod audit;
pub mod customers;
pub mod login;
pub mod outbox;
pub mod panel;
pub mod sessions;

use time::OffsetDateTime;

/// `MM/DD/YYYY HH:MM` (UTC) for admin tables; the browser may localise `<time>` elements.
pub fn when(t: &OffsetDateTime) -> String {
    format!(
        "{} {:02}:{:02} UTC",
        crate::inventory::format_us_date(t.date()),
        t.hour(),
        t.minute()
    )
}

pub fn parse_when(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// Formats an ISO timestamp from GraphQL for a table cell.
pub fn when_str(s: &str) -> String {
    parse_when(s)
        .map(|t| when(&t))
        .unwrap_or_else(|| s.to_owned())
}
