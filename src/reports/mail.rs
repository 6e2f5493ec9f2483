//! The report and alert mails: plain text and HTML from maud, each with its unsubscribe
//! link in the text and in the `List-Unsubscribe` headers.

use maud::{Markup, html};
use time::Date;

use crate::domain::{format_qty, format_us_date};
use crate::inventory::{Forecasts, Snapshot};
use crate::mail::templates::frame;
use crate::mail::{Mail, MailAttachment};
use crate::store::{Customer, PartMinimum};

/// Lines of each kind an alert lists (the rest are counted and a link shows them all).
const MAX_LINES: usize = 50;

pub struct ReportFacts<'a> {
    pub view_name: Option<&'a str>,
    pub rows: usize,
    pub as_of: String,
    pub stale: bool,
    pub link: &'a str,
    pub unsubscribe: &'a str,
    pub attached: bool,
}

fn unsubscribe_block(url: &str) -> Markup {
    html! {
        p style="color: #5b6778; font-size: 12px;" {
            "You receive this because you subscribed in the portal. "
            a href=(url) { "Unsubscribe" } " from this mail with one click."
        }
    }
}

pub fn report(customer: &Customer, f: ReportFacts<'_>, attachment: Option<MailAttachment>) -> Mail {
    let what = f
        .view_name
        .map_or("Your inventory".to_owned(), |n| format!("Inventory: {n}"));
    let subject = format!("{what} — {} rows", format_qty(f.rows as f64));
    let stale_note = "The ERP was not answering; these are the last rows read, as of that time.";
    let body = html! {
        p { "Hello " (customer.first_name) "," }
        p {
            "Here is " @if let Some(n) = f.view_name { "your saved view " strong { (n) } } @else { "your inventory" }
            ": " strong { (format_qty(f.rows as f64)) } " rows as of " (f.as_of) "."
        }
        @if f.stale { p style="color: #8a5a00;" { (stale_note) } }
        @if f.attached {
            p { "The rows are attached, with the same columns as the portal's download." }
        } @else {
            p { "The view has too many rows to attach; download it from the portal." }
        }
        p { a href=(f.link) { "Open this view in the portal" } }
        (unsubscribe_block(f.unsubscribe))
    };
    let mut text = format!(
        "Hello {},\n\nHere is {}: {} rows as of {}.\n",
        customer.first_name,
        f.view_name.map_or("your inventory".to_owned(), |n| format!(
            "your saved view \"{n}\""
        )),
        format_qty(f.rows as f64),
        f.as_of
    );
    if f.stale {
        text.push_str(&format!("{stale_note}\n"));
    }
    text.push_str(if f.attached {
        "The rows are attached, with the same columns as the portal's download.\n"
    } else {
        "The view has too many rows to attach; download it from the portal.\n"
    });
    text.push_str(&format!(
        "\nOpen this view in the portal: {}\n\nUnsubscribe from this mail: {}\n",
        f.link, f.unsubscribe
    ));
    Mail {
        to: customer.email.clone(),
        html: frame(&subject, body),
        subject,
        text,
        attachments: attachment.into_iter().collect(),
        unsubscribe_url: Some(f.unsubscribe.to_owned()),
    }
}

/// One line of an alert.
#[derive(Debug, Clone, PartialEq)]
pub struct LotLine {
    pub customer: String,
    pub part: String,
    pub description: String,
    pub lot: String,
    pub bin: String,
    pub qty: f64,
    pub exp: Date,
    pub days: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LowLine {
    pub customer: String,
    pub part: String,
    pub total: f64,
    pub minimum: f64,
}

/// A part forecast to fall below its minimum soon.
#[derive(Debug, Clone, PartialEq)]
pub struct SoonLine {
    pub customer: String,
    pub part: String,
    pub total: f64,
    pub minimum: f64,
    pub below_on: Date,
    pub runs_out_on: Date,
}

/// What a daily alert reports: lots expired, lots expiring within 30 days, parts below
/// their minimum (parts with no stock left included), and parts forecast to fall below
/// their minimum within the alert's days.
#[derive(Debug, Default)]
pub struct AlertLines {
    pub expired: Vec<LotLine>,
    pub expiring: Vec<LotLine>,
    pub low: Vec<LowLine>,
    pub soon: Vec<SoonLine>,
}

impl AlertLines {
    /// `forecasts` and `within_days`: parts falling below their minimum within that many
    /// days are named too.
    pub fn collect(
        snapshot: &Snapshot,
        minimums: &[PartMinimum],
        today: Date,
        forecasts: Option<(&Forecasts, u32)>,
    ) -> AlertLines {
        let mut out = AlertLines::default();
        for r in snapshot.rows.iter() {
            let Some(exp) = r.exp_date else { continue };
            let days = crate::inventory::days_to_expiry(exp, today);
            let line = || LotLine {
                customer: r.customer.to_owned(),
                part: r.part.to_owned(),
                description: r.description.to_owned(),
                lot: r.user_lot.to_owned(),
                bin: r.bin.to_owned(),
                qty: r.on_hand_qty,
                exp,
                days,
            };
            if days < 0 {
                out.expired.push(line());
            } else if days <= 30 {
                out.expiring.push(line());
            }
        }
        out.expired.sort_by_key(|l| l.days);
        out.expiring.sort_by_key(|l| l.days);
        for m in minimums {
            let total = snapshot.part_total(&m.erp_customer_name, &m.part);
            if total < m.minimum_qty {
                out.low.push(LowLine {
                    customer: m.erp_customer_name.clone(),
                    part: m.part.clone(),
                    total,
                    minimum: m.minimum_qty,
                });
                continue;
            }
            let Some((forecasts, days)) = forecasts else {
                continue;
            };
            let Some(f) = forecasts.get(&m.erp_customer_name, &m.part) else {
                continue;
            };
            if let (Some(below_on), Some(runs_out_on)) = (f.below_minimum_on(), f.runs_out_on())
                && below_on <= today + time::Duration::days(i64::from(days))
            {
                out.soon.push(SoonLine {
                    customer: m.erp_customer_name.clone(),
                    part: m.part.clone(),
                    total,
                    minimum: m.minimum_qty,
                    below_on,
                    runs_out_on,
                });
            }
        }
        out.soon.sort_by_key(|l| l.below_on);
        out
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        self.expired.len() + self.expiring.len() + self.low.len() + self.soon.len()
    }
}

fn lot_table(title: &str, lines: &[LotLine], all_link: &str) -> Markup {
    html! {
        @if !lines.is_empty() {
            h3 style="margin-bottom: 4px;" { (title) " (" (lines.len()) ")" }
            table cellpadding="4" cellspacing="0" style="border-collapse: collapse; font-size: 13px;" {
                tr style="background: #eef1f5;" { th align="left" { "Part" } th align="left" { "Description" } th align="left" { "Lot" } th align="left" { "Bin" } th align="right" { "On hand" } th align="left" { "Expires" } th align="right" { "Days" } }
                @for l in lines.iter().take(MAX_LINES) {
                    tr { td { (l.part) } td { (l.description) } td { (l.lot) } td { (l.bin) } td align="right" { (format_qty(l.qty)) } td { (format_us_date(l.exp)) } td align="right" { (l.days) } }
                }
            }
            @if lines.len() > MAX_LINES { p { (lines.len() - MAX_LINES) " more: " a href=(all_link) { "see them all" } } }
        }
    }
}

fn lot_text(title: &str, lines: &[LotLine]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut out = format!("\n{title} ({}):\n", lines.len());
    for l in lines.iter().take(MAX_LINES) {
        out.push_str(&format!(
            "  {}  {}  lot {}  bin {}  {} on hand  expires {} ({} days)\n",
            l.part,
            l.description,
            l.lot,
            l.bin,
            format_qty(l.qty),
            format_us_date(l.exp),
            l.days
        ));
    }
    if lines.len() > MAX_LINES {
        out.push_str(&format!("  … and {} more\n", lines.len() - MAX_LINES));
    }
    out
}

pub fn alert(customer: &Customer, a: &AlertLines, base_url: &str, unsubscribe: &str) -> Mail {
    let mut subject = format!(
        "Inventory alert: {} expired, {} expiring soon, {} below minimum",
        a.expired.len(),
        a.expiring.len(),
        a.low.len()
    );
    if !a.soon.is_empty() {
        subject.push_str(&format!(", {} falling below minimum soon", a.soon.len()));
    }
    let expired_link = format!("{base_url}/inventory?expiry=expired");
    let soon_link = format!("{base_url}/inventory?expiry=30");
    let low_link = format!("{base_url}/inventory/minimums");
    let runout_link = format!("{base_url}/inventory?runout=30&sort=daysOfCover&dir=asc");
    let body = html! {
        p { "Hello " (customer.first_name) "," }
        p { "Today's inventory needs your attention:" }
        (lot_table("Expired lots", &a.expired, &expired_link))
        (lot_table("Expiring within 30 days", &a.expiring, &soon_link))
        @if !a.low.is_empty() {
            h3 style="margin-bottom: 4px;" { "Below minimum (" (a.low.len()) ")" }
            table cellpadding="4" cellspacing="0" style="border-collapse: collapse; font-size: 13px;" {
                tr style="background: #eef1f5;" { th align="left" { "Customer" } th align="left" { "Part" } th align="right" { "On hand" } th align="right" { "Minimum" } }
                @for l in a.low.iter().take(MAX_LINES) {
                    tr { td { (l.customer) } td { (l.part) } td align="right" { (format_qty(l.total)) } td align="right" { (format_qty(l.minimum)) } }
                }
            }
            p { a href=(low_link) { "Review your minimums" } }
        }
        @if !a.soon.is_empty() {
            h3 style="margin-bottom: 4px;" { "Falling below minimum soon (" (a.soon.len()) ")" }
            p style="font-size: 12px; color: #5b6778;" { "Forecast from each part's use over recent weeks (delivery days left out)." }
            table cellpadding="4" cellspacing="0" style="border-collapse: collapse; font-size: 13px;" {
                tr style="background: #eef1f5;" { th align="left" { "Customer" } th align="left" { "Part" } th align="right" { "On hand" } th align="right" { "Minimum" } th align="left" { "Below minimum on" } th align="left" { "Runs out on" } }
                @for l in a.soon.iter().take(MAX_LINES) {
                    tr { td { (l.customer) } td { (l.part) } td align="right" { (format_qty(l.total)) } td align="right" { (format_qty(l.minimum)) } td { (format_us_date(l.below_on)) } td { (format_us_date(l.runs_out_on)) } }
                }
            }
            p { a href=(runout_link) { "See the parts running out" } }
        }
        (unsubscribe_block(unsubscribe))
    };
    let mut text = format!(
        "Hello {},\n\nToday's inventory needs your attention:\n",
        customer.first_name
    );
    text.push_str(&lot_text("Expired lots", &a.expired));
    text.push_str(&lot_text("Expiring within 30 days", &a.expiring));
    if !a.low.is_empty() {
        text.push_str(&format!("\nBelow minimum ({}):\n", a.low.len()));
        for l in a.low.iter().take(MAX_LINES) {
            text.push_str(&format!(
                "  {}  {}  {} on hand, minimum {}\n",
                l.customer,
                l.part,
                format_qty(l.total),
                format_qty(l.minimum)
            ));
        }
    }
    if !a.soon.is_empty() {
        text.push_str(&format!(
            "\nFalling below minimum soon ({}):\n",
            a.soon.len()
        ));
        for l in a.soon.iter().take(MAX_LINES) {
            text.push_str(&format!(
                "  {}  {}  {} on hand, minimum {}: below it on {}, runs out on {}\n",
                l.customer,
                l.part,
                format_qty(l.total),
                format_qty(l.minimum),
                format_us_date(l.below_on),
                format_us_date(l.runs_out_on)
            ));
        }
    }
    text.push_str(&format!(
        "\nExpired: {expired_link}\nExpiring soon: {soon_link}\nMinimums: {low_link}\n\nUnsubscribe from this mail: {unsubscribe}\n"
    ));
    Mail {
        to: customer.email.clone(),
        html: frame(&subject, body),
        subject,
        text,
        attachments: Vec::new(),
        unsubscribe_url: Some(unsubscribe.to_owned()),
    }
}
