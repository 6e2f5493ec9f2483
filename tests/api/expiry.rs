//! Expiry awareness: days to expiry on the customer's calendar (negative once expired),
//! the Expired / 30 / 60 / 90-day quick filter combined with the others and kept in the
//! URL, the counts at the top of the page, GraphQL's `daysToExpiry`, `expiry` and
//! `expiryCounts`, and the exports' Days to Expiry column.

use std::sync::Arc;

use async_trait::async_trait;
use customer_portal::domain::ErpScope;
use customer_portal::erp::{ErpError, ErpSource, InventoryRow};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use crate::helpers::*;

/// Rows chosen by the test, scoped as the ERP would (exact customer names).
pub struct StaticErp(pub Vec<InventoryRow>);

#[async_trait]
impl ErpSource for StaticErp {
    fn name(&self) -> &'static str {
        "static"
    }
    async fn inventory_rows(&self, scope: &ErpScope) -> Result<Vec<InventoryRow>, ErpError> {
        Ok(self
            .0
            .iter()
            .filter(|r| match scope {
                ErpScope::All => true,
                ErpScope::Customers(names) => names.contains(&r.customer),
                ErpScope::Nothing => false,
            })
            .cloned()
            .collect())
    }
    async fn customer_names(&self) -> Result<Vec<String>, ErpError> {
        let mut names: Vec<String> = self.0.iter().map(|r| r.customer.clone()).collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
    async fn ping(&self) -> Result<(), ErpError> {
        Ok(())
    }
}

pub fn lot(customer: &str, part: &str, lot: &str, qty: f64, exp: Option<Date>) -> InventoryRow {
    InventoryRow {
        customer: customer.into(),
        part: part.into(),
        description: format!("{part} description"),
        on_hand_qty: qty,
        unit: "EA".into(),
        bin: "A-01".into(),
        user_lot: lot.into(),
        exp_date: exp,
        status: "Available".into(),
        po: "N/A".into(),
        ..Default::default()
    }
}

/// Today in the zone the tests run the portal in.
fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn day(offset: i64) -> Option<Date> {
    Some(today() + time::Duration::days(offset))
}

/// Lot `L<offset>` expires `offset` days from today (`LNONE`: no date).
async fn app() -> TestApp {
    let mut rows: Vec<InventoryRow> = [-10i64, -1, 0, 30, 31, 60, 61, 90, 91]
        .iter()
        .map(|&d| {
            lot(
                "Acme Foods",
                &format!("P{}", d.abs() % 3),
                &format!("L{d}"),
                1.0,
                day(d),
            )
        })
        .collect();
    rows.push(lot("Acme Foods", "P9", "LNONE", 1.0, None));
    // Another customer's expired lot: never counted or shown to Acme.
    rows.push(lot("Pure Water", "W1", "LOTHER", 1.0, day(-3)));
    spawn_with_erp(Arc::new(StaticErp(rows)), &[("PORTAL_TIMEZONE", "UTC")]).await
}

const QUERY: &str = "query($filter: InventoryFilter, $sort: [InventorySort!]) {
  inventory(filter: $filter, sort: $sort, first: 100) {
    filteredCount
    expiryCounts { expired expiringWithin30Days }
    rows { userLot expDate daysToExpiry }
  }
}";

async fn lots(browser: &TestApp, vars: Value) -> (Vec<String>, Value) {
    let body = browser.graphql_vars(QUERY, vars).await;
    assert!(body["errors"].is_null(), "{body}");
    let inv = body["data"]["inventory"].clone();
    let lots = inv["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userLot"].as_str().unwrap().to_owned())
        .collect();
    (lots, inv)
}

#[tokio::test]
async fn days_to_expiry_count_from_today_and_the_windows_select_their_lots() {
    let app = app().await;
    let acme = app.customer_browser("Acme Foods").await;

    let (_, inv) = lots(&acme, json!({})).await;
    for r in inv["rows"].as_array().unwrap() {
        let lot = r["userLot"].as_str().unwrap();
        let expected: Value = match lot.strip_prefix('L').unwrap() {
            "NONE" => Value::Null,
            d => json!(d.parse::<i64>().unwrap()),
        };
        assert_eq!(r["daysToExpiry"], expected, "{lot}");
    }
    assert_eq!(
        inv["expiryCounts"],
        json!({ "expired": 2, "expiringWithin30Days": 2 }),
        "Acme's own lots only: L-10 and L-1 expired; L0 and L30 within 30 days"
    );

    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    for (range, expected) in [
        ("EXPIRED", vec!["L-1", "L-10"]),
        ("WITHIN_30_DAYS", vec!["L0", "L30"]),
        ("WITHIN_60_DAYS", vec!["L0", "L30", "L31", "L60"]),
        (
            "WITHIN_90_DAYS",
            vec!["L0", "L30", "L31", "L60", "L61", "L90"],
        ),
    ] {
        let (got, inv) = lots(&acme, json!({ "filter": { "expiry": range } })).await;
        assert_eq!(sorted(got), expected, "{range}");
        assert_eq!(inv["filteredCount"], expected.len(), "{range}");
    }
    // Combined with the other filters.
    let (got, _) = lots(
        &acme,
        json!({ "filter": { "expiry": "WITHIN_90_DAYS", "part": "P0" } }),
    )
    .await;
    assert_eq!(sorted(got), ["L0", "L30", "L60", "L90"]);
    let (got, _) = lots(
        &acme,
        json!({ "filter": { "expiry": "EXPIRED", "search": "p1 desc" } }),
    )
    .await;
    assert_eq!(got, ["L-1", "L-10"]);
    let (got, _) = lots(
        &acme,
        json!({ "filter": { "expiry": "EXPIRED", "search": "p0 desc" } }),
    )
    .await;
    assert!(got.is_empty(), "{got:?}");

    // Sortable: soonest first, lots without a date last.
    let (got, _) = lots(
        &acme,
        json!({ "sort": [{ "field": "daysToExpiry", "direction": "ASC" }] }),
    )
    .await;
    assert_eq!(
        got,
        [
            "L-10", "L-1", "L0", "L30", "L31", "L60", "L61", "L90", "L91", "LNONE"
        ]
    );
    let (got, _) = lots(
        &acme,
        json!({ "sort": [{ "field": "daysToExpiry", "direction": "DESC" }] }),
    )
    .await;
    assert_eq!(got.first().map(String::as_str), Some("L91"));
    assert_eq!(got.last().map(String::as_str), Some("LNONE"));

    // An unknown window is a validation error, not "everything".
    let body = acme
        .graphql_vars(QUERY, json!({ "filter": { "expiry": "SOON" } }))
        .await;
    assert!(body["errors"].is_array(), "{body}");
}

#[tokio::test]
async fn the_page_shows_the_counts_as_links_and_keeps_the_filter_in_the_url() {
    let app = app().await;
    let acme = app.customer_browser("Acme Foods").await;
    let page = acme.get("/inventory").await.text().await.unwrap();
    assert!(
        page.contains(r#"href="/inventory?expiry=expired""#),
        "a link applies the filter"
    );
    assert!(page.contains("2</strong> expired lots"));
    assert!(page.contains(r#"href="/inventory?expiry=30""#));
    assert!(page.contains("Days to Expiry"));

    let page = acme
        .get("/inventory?expiry=30&part=P0")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Showing 2 of 10 rows"), "L0 and L30");
    assert!(page.contains(r#"<option value="30" selected>"#));
    // A refresh keeps the filter in the address.
    let resp = acme
        .get_htmx("/inventory/grid?expiry=expired&sort=daysToExpiry&dir=desc")
        .await;
    assert_eq!(
        resp.headers()["hx-push-url"],
        "/inventory?expiry=expired&sort=daysToExpiry&dir=desc"
    );
    let grid = resp.text().await.unwrap();
    assert!(grid.contains("Showing 2 of 10 rows"));
    let l1 = grid.find(">L-1<").unwrap();
    let l10 = grid.find(">L-10<").unwrap();
    assert!(l1 < l10, "descending days: -1 before -10");
    // A made-up window is dropped, not trusted.
    let page = acme
        .get("/inventory?expiry=soonish")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Showing 10 of 10 rows"));
}

#[tokio::test]
async fn exports_carry_days_to_expiry_after_the_old_columns_and_honour_the_filter() {
    let app = app().await;
    let acme = app.customer_browser("Acme Foods").await;
    let csv = acme
        .get("/inventory/export.csv?expiry=expired&sort=daysToExpiry")
        .await
        .text()
        .await
        .unwrap();
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), 15);
    assert_eq!(header[9], "Status", "the old columns keep their places");
    assert_eq!(header[11], "Last Tran Date");
    assert_eq!(header[14], "Days to Expiry");
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][5], "L-10");
    assert_eq!(rows[0][14], "-10");
    assert_eq!(rows[1][14], "-1");

    let bytes = acme
        .get("/inventory/export.xlsx?expiry=30")
        .await
        .bytes()
        .await
        .unwrap();
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range("Inventory Export").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    assert_eq!(rows[0][14].to_string(), "Days to Expiry");
    let mut days: Vec<f64> = rows[1..]
        .iter()
        .map(|r| match &r[14] {
            Data::Float(f) => *f,
            other => panic!("days are a number: {other:?}"),
        })
        .collect();
    days.sort_by(f64::total_cmp);
    assert_eq!(days, [0.0, 30.0]);
}
