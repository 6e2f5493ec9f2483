//! Faults, second pass: a pull finishes beside busy browsers, the app database heals or
//! says why, readiness tells the truth, an office's morning sign-ins all get in, every
//! limit is decided in one step.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::admin::{admin_app, admin_browser};
use crate::api_tokens::{bearer_vars, create};
use crate::helpers::*;

/// The `hx-get` of a grid's "more rows" line, if any.
fn more_rows(html: &str) -> Option<String> {
    let at = html.find("hx-get=\"/inventory/rows")? + "hx-get=\"".len();
    Some(html[at..].split('"').next()?.replace("&amp;", "&"))
}

/// A browser that loads the grid and scrolls it to the end, again and again, until
/// `until`; returns how many pages it read.
async fn scroll(browser: TestApp, until: Instant) -> usize {
    let mut pages = 0;
    while Instant::now() < until {
        let html = browser
            .get("/inventory?sort=description")
            .await
            .text()
            .await
            .unwrap();
        pages += 1;
        let mut next = more_rows(&html);
        while let Some(url) = next {
            if Instant::now() >= until {
                break;
            }
            let r = browser.get_htmx(&url).await;
            assert_eq!(r.status(), 200, "a browser's scroll failed: {url}");
            next = more_rows(&r.text().await.unwrap());
            pages += 1;
        }
    }
    pages
}

#[tokio::test]
async fn a_tools_pull_finishes_while_browsers_scroll_and_churn_the_cache() {
    // Rows re-read every second, and pinned snapshots squeezed into the smallest cache:
    // the browsers' pins compete with the pull's for room the whole time.
    let app = admin_app(&[
        ("DEMO_ERP_ROWS", "6000"),
        ("ERP_CACHE_SECONDS", "1"),
        ("INVENTORY_CACHE_MAX_MB", "16"),
    ])
    .await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "pull", "scopes": ["inventory:read"], "erpCustomerNames": ["All"], "rowsPerMinute": 10_000_000 }),
    )
    .await;
    let until = Instant::now() + Duration::from_secs(8);
    let mut browsers = Vec::new();
    for i in 0..12 {
        let scope = if i % 3 == 0 { "All" } else { "Acme Foods" };
        browsers.push(tokio::spawn(scroll(
            app.customer_browser(scope).await,
            until,
        )));
    }
    // The pull: small pages, slowly, so the cache replaces its rows many times over.
    const PAGE: &str = "query($after: String) { inventory(first: 250, after: $after, sort: [{field: part, direction: ASC}]) { totalCount nextCursor rows { customer part bin userLot onHandQty expDate } } }";
    let mut after: Option<String> = None;
    let mut seen = HashSet::new();
    let mut rows = 0;
    let total = loop {
        let answer = bearer_vars(&app, &secret, PAGE, json!({ "after": after })).await;
        assert!(
            answer["errors"].is_null(),
            "the pull broke off after {rows} rows: {answer}"
        );
        let inv = &answer["data"]["inventory"];
        for r in inv["rows"].as_array().unwrap() {
            rows += 1;
            seen.insert(r.to_string());
        }
        after = inv["nextCursor"].as_str().map(str::to_owned);
        if after.is_none() {
            break inv["totalCount"].as_u64().unwrap() as usize;
        }
        tokio::time::sleep(Duration::from_millis(120)).await;
    };
    let mut pages = 0;
    for b in browsers {
        pages += b.await.unwrap();
    }
    assert_eq!(rows, total, "every row of the snapshot");
    assert!(
        seen.len() >= total - total / 50,
        "and each once: {} distinct of {total}",
        seen.len()
    );
    assert!(pages > 20, "the browsers kept scrolling: {pages} pages");
}

#[tokio::test]
async fn a_cursor_that_expires_says_how_far_the_pull_got() {
    let app = admin_app(&[("DEMO_ERP_ROWS", "600")]).await;
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "pull", "scopes": ["inventory:read"], "erpCustomerNames": ["All"] }),
    )
    .await;
    let first = bearer_vars(
        &app,
        &secret,
        "{ inventory(first: 100) { nextCursor } }",
        json!({}),
    )
    .await;
    let cursor = first["data"]["inventory"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    // A second instance (or a restart) never knew this cursor's snapshot.
    let other = admin_app(&[("DEMO_ERP_ROWS", "600")]).await;
    let admin2 = admin_browser(&other).await;
    let (secret2, _) = create(
        &admin2,
        json!({ "name": "pull", "scopes": ["inventory:read"], "erpCustomerNames": ["All"] }),
    )
    .await;
    let expired = bearer_vars(
        &other,
        &secret2,
        "query($a: String) { inventory(first: 100, after: $a) { nextCursor } }",
        json!({ "a": cursor }),
    )
    .await;
    let e = &expired["errors"][0];
    assert_eq!(e["extensions"]["code"], "CURSOR_EXPIRED", "{expired}");
    assert_eq!(e["extensions"]["read"], 100);
    assert!(
        e["message"].as_str().unwrap().contains("after 100 rows"),
        "{expired}"
    );
}
