//! The inventory over GraphQL and HTTP against a hand-built Deacom fixture.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use customer_portal::domain::ErpScope;
use customer_portal::erp::deacom_sqlite::DeacomSqlite;
use customer_portal::erp::{ErpError, ErpSource, InventoryRow};
use serde_json::{Value, json};

use crate::deacom_fixture::{self, ACME, ACME_LOWER, CAFE, OMALLEY, PURE};
use crate::helpers::*;

const ROWS_QUERY: &str = "query($filter: InventoryFilter, $sort: [InventorySort!], $first: Int, $after: String) {
  inventory(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount filteredCount asOf nextCursor multiCustomer
    facets { parts bins statuses }
    rows { customer part customerPart description onHandQty unit bin reference userLot expDate lastTransactionDate lastRecDate po status }
  }
}";

/// The fixture behind a counter (and an optional delay and outage switch).
struct TestErp {
    inner: DeacomSqlite,
    reads: AtomicUsize,
    delay: Duration,
    down: AtomicBool,
}

#[async_trait]
impl ErpSource for TestErp {
    fn name(&self) -> &'static str {
        "fixture"
    }
    async fn inventory_rows(&self, scope: &ErpScope) -> Result<Vec<InventoryRow>, ErpError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if self.down.load(Ordering::SeqCst) {
            return Err(ErpError::Unavailable("fixture switched off".into()));
        }
        self.inner.inventory_rows(scope).await
    }
    async fn customer_names(&self) -> Result<Vec<String>, ErpError> {
        self.inner.customer_names().await
    }
    async fn ping(&self) -> Result<(), ErpError> {
        if self.down.load(Ordering::SeqCst) {
            Err(ErpError::Unavailable("off".into()))
        } else {
            Ok(())
        }
    }
}

struct Fixture {
    app: TestApp,
    erp: Arc<TestErp>,
    _dir: tempfile::TempDir,
}

async fn fixture_with(delay: Duration, extra: &[(&str, &str)]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deacom.db");
    deacom_fixture::build(&path);
    let erp = Arc::new(TestErp {
        inner: DeacomSqlite::open(&path).unwrap(),
        reads: AtomicUsize::new(0),
        delay,
        down: AtomicBool::new(false),
    });
    let app = spawn_with_erp(erp.clone(), extra).await;
    Fixture {
        app,
        erp,
        _dir: dir,
    }
}

async fn fixture() -> Fixture {
    fixture_with(Duration::ZERO, &[]).await
}

async fn inventory(browser: &TestApp, vars: Value) -> Value {
    let resp = browser.graphql_vars(ROWS_QUERY, vars).await;
    assert!(resp["errors"].is_null(), "GraphQL errors: {resp}");
    resp["data"]["inventory"].clone()
}

fn column(inv: &Value, field: &str) -> Vec<String> {
    inv["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| match &r[field] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn rows_statuses_and_pos_follow_the_deacom_rules() {
    let f = fixture().await;
    let acme = f.app.customer_browser(ACME).await;
    let inv = inventory(&acme, json!({})).await;
    assert_eq!(
        inv["totalCount"], 9,
        "zero and negative balances are not inventory"
    );
    assert_eq!(inv["filteredCount"], 9);
    assert_eq!(inv["multiCustomer"], false);
    assert!(inv["nextCursor"].is_null());
    // Default order for one customer: part, then user lot.
    assert_eq!(
        column(&inv, "userLot"),
        [
            "UA1", "UA2", "UA6", "UA9", "UA3", "UA4", "UA5", "UA7", "UA8"
        ]
    );
    assert_eq!(
        column(&inv, "status"),
        [
            "Approved QC",    // qc NULL
            "Quarantined",    // fi_type wins over a pending QC
            "Failed QC",      // another layer of the lot failed QC
            "Available",      // qc 'Passed'
            "Issued to Job",  // fi_type job
            "Sales Reserved", // fi_type sal-reserv
            "Staged to Job",  // fi_type staging
            "Pending QC",     // qc 'Pending'
            "Approved QC",    // qc ''
        ]
    );
    // PO: the highest finished job of the lot that leads to an order (100 over 99; 150
    // over the later stock job 200) → its order's PO; a job whose order has a blank PO
    // and lots without a finished job are N/A.
    assert_eq!(
        column(&inv, "po"),
        [
            "PO-111", "N/A", "N/A", "N/A", "N/A", "PO-444", "N/A", "N/A", "PO-150"
        ]
    );
    assert_eq!(
        column(&inv, "onHandQty"),
        [
            "1500.0", "20.5", "60.0", "90.0", "300.0", "40.0", "5.0", "70.0", "80.0"
        ]
    );
    assert_eq!(
        column(&inv, "bin"),
        [
            "A-01", "A-01", "B-02", "A-01", "B-02", "A-01", "QC-HOLD", "B-02", "A-01"
        ]
    );
    assert_eq!(column(&inv, "unit")[..5], ["EA", "EA", "EA", "EA", "LB"]);
    let first = &inv["rows"][0];
    assert_eq!(first["customer"], ACME);
    assert_eq!(first["description"], "Almond Butter");
    assert_eq!(first["customerPart"], "");
    assert_eq!(first["reference"], "REF-1");
    assert_eq!(first["expDate"], "2020-01-01");
    assert_eq!(first["lastTransactionDate"], "2024-05-02");
    assert_eq!(first["lastRecDate"], "2024-05-01");
    assert_eq!(strings(&inv["facets"]["parts"]), ["AC-100", "AC-200"]);
    assert_eq!(strings(&inv["facets"]["bins"]), ["A-01", "B-02", "QC-HOLD"]);
    assert_eq!(
        strings(&inv["facets"]["statuses"]),
        [
            "Approved QC",
            "Available",
            "Failed QC",
            "Issued to Job",
            "Pending QC",
            "Quarantined",
            "Sales Reserved",
            "Staged to Job"
        ]
    );
}

#[tokio::test]
async fn scope_matches_names_exactly() {
    let f = fixture().await;
    let all = inventory(
        &f.app.customer_browser("All").await,
        json!({ "first": 500 }),
    )
    .await;
    assert_eq!(all["totalCount"], 15);
    assert_eq!(all["multiCustomer"], true);
    // Several customers: default order is customer, part, user lot; the part with no
    // customer shows an empty customer (and only an All account sees it).
    let customers = column(&all, "customer");
    assert_eq!(customers[0], "", "{customers:?}");
    assert!(customers.contains(&"100X Pure-Co".to_owned()));

    let two = inventory(
        &f.app.customer_browser(&format!("{OMALLEY}|{PURE}")).await,
        json!({}),
    )
    .await;
    assert_eq!(
        column(&two, "part"),
        ["PC-1", "OM-1"],
        "% and _ are not wildcards, ' and & are plain text"
    );
    assert_eq!(two["multiCustomer"], true);

    let cafe = inventory(&f.app.customer_browser(CAFE).await, json!({})).await;
    assert_eq!(column(&cafe, "description"), ["Crème brûlée"]);

    let twice = inventory(
        &f.app.customer_browser(&format!("{ACME}| {ACME} ")).await,
        json!({}),
    )
    .await;
    assert_eq!(twice["totalCount"], 9, "a name listed twice counts once");
    assert_eq!(twice["multiCustomer"], false);

    let lower = inventory(&f.app.customer_browser(ACME_LOWER).await, json!({})).await;
    assert_eq!(
        column(&lower, "part"),
        ["LC-1"],
        "names are compared exactly"
    );

    let unknown = inventory(&f.app.customer_browser("Nobody Inc").await, json!({})).await;
    assert_eq!(unknown["totalCount"], 0);
}

#[tokio::test]
async fn no_argument_or_parameter_widens_the_scope() {
    let f = fixture().await;
    let om = f.app.customer_browser(OMALLEY).await;
    for filter in [
        json!({ "part": "AC-100" }),
        json!({ "search": "Almond" }),
        json!({ "search": "' OR 1=1 --" }),
        json!({ "bin": "A-01", "status": "Approved QC", "part": "AC-200" }),
        json!({ "part": "' OR '1'='1" }),
    ] {
        let inv = inventory(&om, json!({ "filter": filter })).await;
        assert_eq!(inv["totalCount"], 1, "{filter}");
        assert!(
            column(&inv, "customer").iter().all(|c| c == OMALLEY),
            "{filter}: {inv}"
        );
    }
    // There is no scope argument to pass.
    let refused = om
        .graphql(r#"{ inventory(scope: "All") { totalCount } }"#)
        .await;
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("scope"),
        "{refused}"
    );
    // Nor a URL parameter, on the page, the fragments or the exports.
    let page = om
        .get("/inventory?scope=All&erp_customer_name=All&customer=Acme+Foods")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("OM-1") && !page.contains("AC-100"));
    let grid = om
        .get_htmx("/inventory/grid?q=&part=AC-100")
        .await
        .text()
        .await
        .unwrap();
    assert!(!grid.contains("Almond"));
    let csv = om
        .get("/inventory/export.csv?scope=All")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("OM-1") && !csv.contains("AC-100"));
}

#[tokio::test]
async fn only_customers_get_inventory() {
    let f = fixture().await;
    let anon = f.app.graphql("{ inventory { totalCount } }").await;
    assert_eq!(anon["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let temp = f.app.other_browser();
    temp.add_customer("temp@example.com", PASSWORD, ACME, true)
        .await;
    temp.login("temp@example.com", PASSWORD).await;
    let forced = temp.graphql("{ inventory { totalCount } }").await;
    assert_eq!(
        forced["errors"][0]["extensions"]["code"],
        "PASSWORD_CHANGE_REQUIRED"
    );
    assert_eq!(
        location(&temp.get("/inventory/export.xlsx").await),
        "/force-change-password"
    );
    let names = f
        .app
        .customer_browser(ACME)
        .await
        .graphql("{ erpCustomerNames }")
        .await;
    assert_eq!(
        names["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "ERP names are for admins"
    );
    assert_eq!(
        location(&f.app.other_browser().get("/inventory/export.csv").await),
        "/login?next=%2Finventory%2Fexport.csv"
    );
}

#[tokio::test]
async fn search_filters_and_cascading_facets() {
    let f = fixture().await;
    let acme = f.app.customer_browser(ACME).await;
    let count = |inv: &Value| inv["filteredCount"].as_u64().unwrap();
    // Case-insensitive substring over every displayed column.
    for (search, expected) in [
        ("BUTTER", 9),      // description
        ("po-111", 1),      // PO
        ("01/01/2020", 1),  // expiry as shown (MM/DD/YYYY)
        ("1,500", 1),       // quantity as shown
        ("quarantined", 1), // status
        ("qc-hold", 1),     // bin
        ("ua", 9),          // user lot
        ("ref-13", 1),      // reference
        ("no such text", 0),
    ] {
        let inv = inventory(&acme, json!({ "filter": { "search": search } })).await;
        assert_eq!(count(&inv), expected, "search {search:?}");
        assert_eq!(inv["totalCount"], 9);
    }
    // Exact-match filters.
    let ac200 = inventory(&acme, json!({ "filter": { "part": "AC-200" } })).await;
    assert_eq!(count(&ac200), 5);
    assert_eq!(
        strings(&ac200["facets"]["parts"]),
        ["AC-100", "AC-200"],
        "a facet ignores its own filter"
    );
    assert_eq!(
        strings(&ac200["facets"]["bins"]),
        ["A-01", "B-02", "QC-HOLD"]
    );
    assert_eq!(
        strings(&ac200["facets"]["statuses"]),
        [
            "Approved QC",
            "Issued to Job",
            "Pending QC",
            "Sales Reserved",
            "Staged to Job"
        ]
    );
    let two = inventory(
        &acme,
        json!({ "filter": { "bin": "A-01", "status": "Approved QC" } }),
    )
    .await;
    assert_eq!(column(&two, "userLot"), ["UA1", "UA8"]);
    assert_eq!(strings(&two["facets"]["parts"]), ["AC-100", "AC-200"]);
    assert_eq!(
        strings(&two["facets"]["bins"]),
        ["A-01"],
        "bins of Approved QC rows"
    );
    assert_eq!(
        strings(&two["facets"]["statuses"]),
        ["Approved QC", "Available", "Quarantined", "Sales Reserved"],
        "statuses in bin A-01"
    );
    let quarantined = inventory(&acme, json!({ "filter": { "status": "Quarantined" } })).await;
    assert_eq!(strings(&quarantined["facets"]["parts"]), ["AC-100"]);
    // Search narrows the facets too.
    let cashew = inventory(&acme, json!({ "filter": { "search": "cashew" } })).await;
    assert_eq!(strings(&cashew["facets"]["parts"]), ["AC-200"]);
    // A value that no row has selects nothing.
    assert_eq!(
        count(&inventory(&acme, json!({ "filter": { "part": "NOPE" } })).await),
        0
    );
    // Blank filters are no filters.
    assert_eq!(
        count(
            &inventory(
                &acme,
                json!({ "filter": { "part": "", "bin": "", "search": "  " } })
            )
            .await
        ),
        9
    );
}

#[tokio::test]
async fn sorting_is_typed_and_stable() {
    let f = fixture().await;
    let acme = f.app.customer_browser(ACME).await;
    let sorted = |field: &'static str, dir: &'static str| {
        let acme = &acme;
        async move {
            inventory(
                acme,
                json!({ "sort": [{ "field": field, "direction": dir }] }),
            )
            .await
        }
    };
    // Numbers as numbers (300 after 90 would be text order).
    assert_eq!(
        column(&sorted("onHandQty", "DESC").await, "userLot"),
        [
            "UA1", "UA3", "UA9", "UA8", "UA7", "UA6", "UA4", "UA2", "UA5"
        ]
    );
    assert_eq!(
        column(&sorted("onHandQty", "ASC").await, "userLot"),
        [
            "UA5", "UA2", "UA4", "UA6", "UA7", "UA8", "UA9", "UA3", "UA1"
        ]
    );
    // Dates as dates, missing dates last in both directions.
    let exp = column(&sorted("expDate", "DESC").await, "userLot");
    assert_eq!(exp[..2], ["UA2", "UA1"]);
    let exp_asc = column(&sorted("expDate", "ASC").await, "userLot");
    assert_eq!(exp_asc[..2], ["UA1", "UA2"]);
    // Ties keep the default order (part, user lot): stable.
    assert_eq!(
        column(&sorted("unit", "ASC").await, "userLot"),
        [
            "UA1", "UA2", "UA6", "UA9", "UA3", "UA4", "UA5", "UA7", "UA8"
        ]
    );
    assert_eq!(
        column(&sorted("unit", "DESC").await, "userLot"),
        [
            "UA3", "UA4", "UA5", "UA7", "UA8", "UA1", "UA2", "UA6", "UA9"
        ]
    );
    assert_eq!(
        column(&sorted("lastRecDate", "DESC").await, "userLot")[0],
        "UA9"
    );
    // Every row field is sortable.
    for field in [
        "customer",
        "part",
        "customerPart",
        "description",
        "bin",
        "reference",
        "userLot",
        "lastTransactionDate",
        "po",
        "status",
    ] {
        assert_eq!(sorted(field, "ASC").await["filteredCount"], 9, "{field}");
    }
    let bad = acme
        .graphql_vars(
            ROWS_QUERY,
            json!({ "sort": [{ "field": "password_hash", "direction": "ASC" }] }),
        )
        .await;
    assert!(bad["errors"].is_array());
}

#[tokio::test]
async fn paging_with_cursors() {
    let f = fixture().await;
    let acme = f.app.customer_browser(ACME).await;
    let p1 = inventory(&acme, json!({ "first": 4 })).await;
    assert_eq!(column(&p1, "userLot"), ["UA1", "UA2", "UA6", "UA9"]);
    let c1 = p1["nextCursor"].as_str().unwrap().to_owned();
    let p2 = inventory(&acme, json!({ "first": 4, "after": c1 })).await;
    assert_eq!(column(&p2, "userLot"), ["UA3", "UA4", "UA5", "UA7"]);
    let p3 = inventory(&acme, json!({ "first": 4, "after": p2["nextCursor"] })).await;
    assert_eq!(column(&p3, "userLot"), ["UA8"]);
    assert!(p3["nextCursor"].is_null());
    assert_eq!(p3["filteredCount"], 9);
    let zero = acme.graphql_vars(ROWS_QUERY, json!({ "first": 0 })).await;
    assert_eq!(zero["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let garbage = acme
        .graphql_vars(ROWS_QUERY, json!({ "after": "not-a-cursor" }))
        .await;
    assert_eq!(garbage["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    let capped = inventory(
        &f.app.customer_browser("All").await,
        json!({ "first": 100000 }),
    )
    .await;
    assert_eq!(column(&capped, "part").len(), 15);
}

#[tokio::test]
async fn concurrent_requests_share_one_erp_read_and_the_cache_holds() {
    let f = fixture_with(Duration::from_millis(300), &[("ERP_CACHE_SECONDS", "60")]).await;
    let acme = Arc::new(f.app.customer_browser(ACME).await);
    let token = acme.csrf_token().await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (acme, token) = (acme.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let resp: Value = acme
                .client
                .post(acme.url("/graphql"))
                .header("X-CSRF-Token", token)
                .json(&json!({ "query": "{ inventory { totalCount } }" }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            resp["data"]["inventory"]["totalCount"].as_u64().unwrap()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 9);
    }
    assert_eq!(
        f.erp.reads.load(Ordering::SeqCst),
        1,
        "one ERP query for many concurrent requests"
    );
    inventory(&acme, json!({ "filter": { "search": "butter" } })).await;
    assert_eq!(
        f.erp.reads.load(Ordering::SeqCst),
        1,
        "served from the cache within ERP_CACHE_SECONDS"
    );
    // Another scope is another query.
    inventory(&f.app.customer_browser(OMALLEY).await, json!({})).await;
    assert_eq!(f.erp.reads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn zero_cache_seconds_is_always_live() {
    let f = fixture_with(Duration::ZERO, &[("ERP_CACHE_SECONDS", "0")]).await;
    let acme = f.app.customer_browser(ACME).await;
    inventory(&acme, json!({})).await;
    inventory(&acme, json!({})).await;
    assert_eq!(f.erp.reads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unavailable_erp_gets_a_clear_message_and_the_portal_recovers() {
    let f = fixture_with(Duration::ZERO, &[("ERP_CACHE_SECONDS", "0")]).await;
    let acme = f.app.customer_browser(ACME).await;
    f.erp.down.store(true, Ordering::SeqCst);
    let gql = acme.graphql("{ inventory { totalCount } }").await;
    assert_eq!(gql["errors"][0]["extensions"]["code"], "ERP_UNAVAILABLE");
    let page = acme.get("/inventory").await;
    assert_eq!(page.status(), 503);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("temporarily unavailable") && html.contains("<html"),
        "a styled page, not a bare 500"
    );
    let grid = acme.get_htmx("/inventory/grid?q=x").await;
    assert_eq!(grid.status(), 200, "htmx swaps the message in");
    assert!(
        grid.text()
            .await
            .unwrap()
            .contains("temporarily unavailable")
    );
    assert_eq!(acme.get("/inventory/export.xlsx").await.status(), 503);
    let health: Value = acme.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["erp"]["status"], "down");

    f.erp.down.store(false, Ordering::SeqCst);
    // The circuit around the ERP tries it again within its probe interval (10 s).
    let started = std::time::Instant::now();
    while acme.get("/inventory").await.status() != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "recovers without a restart, within the probe interval"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn the_page_renders_the_grid_controls_and_footer() {
    let f = fixture().await;
    let acme = f.app.customer_browser(ACME).await;
    let html = acme
        .get("/inventory?part=AC-200&sort=onHandQty&dir=desc")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Showing 5 of 9 rows"), "footer");
    // Columns of the old grid, in order, and no Customer column for one customer.
    let headers: Vec<&str> = html
        .split("<th scope=\"col\"")
        .skip(1)
        .map(|th| {
            th.split("hx-swap=\"outerHTML\">")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        headers,
        [
            "Part",
            "Description",
            "On Hand Qty",
            "Unit",
            "Bin",
            "User Lot",
            "Exp Date",
            "Days to Expiry",
            "Reference",
            "PO",
            "Status",
            "Last Rec Date",
            "Last Tran Date",
            "Days of Cover"
        ]
    );
    assert!(html.contains(r#"aria-sort="descending""#));
    assert!(
        html.contains(r#"<option value="AC-200" selected>"#),
        "the filter is selected in its dropdown"
    );
    assert!(
        html.find("UA3").unwrap() < html.find("UA8").unwrap(),
        "sorted by quantity, descending"
    );
    assert!(html.contains(">300<") && html.contains("class=\"num\""));
    assert!(
        html.contains(
            "href=\"/inventory/export.xlsx?part=AC-200&amp;sort=onHandQty&amp;dir=desc\""
        )
    );
    assert!(
        html.contains("Data as of") && html.contains("<time datetime="),
        "as-of time"
    );
    assert!(!html.contains("<script>"), "no inline script");

    // Expired lots are marked; thousands separators; US dates.
    let all = acme.get("/inventory").await.text().await.unwrap();
    assert!(all.contains("1,500") && all.contains("01/01/2020") && all.contains("Expired"));

    // The multi-customer view adds the Customer column.
    let many = f
        .app
        .customer_browser("All")
        .await
        .get("/inventory")
        .await
        .text()
        .await
        .unwrap();
    assert!(many.contains(">Customer<"));

    // An account with no ERP customer gets an explanation, not an empty grid.
    let none = f
        .app
        .customer_browser("")
        .await
        .get("/inventory")
        .await
        .text()
        .await
        .unwrap();
    assert!(none.contains("not linked to any ERP customer"));
    // No matches.
    let nothing = acme.get("/inventory?q=zzzz").await.text().await.unwrap();
    assert!(nothing.contains("No rows match"));
}

#[tokio::test]
async fn the_grid_fragment_pushes_the_url_and_refreshes_the_dropdowns() {
    let f = fixture().await;
    let acme = f.app.customer_browser(ACME).await;
    let resp = acme.get_htmx("/inventory/grid?q=cashew&status=").await;
    assert_eq!(
        resp.headers().get("hx-push-url").unwrap(),
        "/inventory?q=cashew"
    );
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<html"), "a fragment");
    assert!(html.contains(r#"id="inv-controls""#) && html.contains(r#"hx-swap-oob="true""#));
    assert!(html.contains("Showing 5 of 9 rows"));
    assert!(
        !html.contains(r#"<option value="AC-100""#),
        "the part dropdown cascades from the search"
    );
    // Rows load in pages: the sentinel row asks for the next page.
    let browser = f.app.customer_browser("All").await;
    let page = browser.get("/inventory").await.text().await.unwrap();
    assert!(!page.contains("inv-more"), "15 rows fit on one page");
}

#[tokio::test]
async fn exports_hold_exactly_the_views_rows_in_order() {
    use calamine::{Data, Reader, Xlsx};
    let f = fixture().await;
    let all = f.app.customer_browser("All").await;
    let view = "q=u&sort=onHandQty&dir=desc";
    let inv = inventory(&all, json!({ "filter": { "search": "u" }, "sort": [{ "field": "onHandQty", "direction": "DESC" }], "first": 500 })).await;
    let expected_parts = column(&inv, "part");
    assert!(expected_parts.len() >= 10);

    let resp = all.get(&format!("/inventory/export.xlsx?{view}")).await;
    assert_eq!(resp.status(), 200);
    let cd = resp
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cd.starts_with("attachment; filename=\"Inventory_All_") && cd.ends_with(".xlsx\""),
        "{cd}"
    );
    let bytes = resp.bytes().await.unwrap();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    // The old portal's sheet name, which customers' macros and queries refer to.
    let sheet = book.worksheet_range("Inventory Export").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(
        header,
        [
            "Part",
            "Description",
            "On Hand Qty",
            "Unit",
            "Bin",
            "User Lot",
            "Exp Date",
            "Reference",
            "PO",
            "Status",
            "Last Rec Date",
            "Last Tran Date",
            "Customer",
            "Customer Part",
            "Days to Expiry"
        ],
        "the old portal's export columns, in its order with its headers, then the new ones"
    );
    assert_eq!(
        rows.len() - 1,
        expected_parts.len(),
        "every row of the view, not one page"
    );
    for (i, row) in rows[1..].iter().enumerate() {
        let g = &inv["rows"][i];
        assert_eq!(row[0].to_string(), g["part"].as_str().unwrap(), "row {i}");
        assert_eq!(row[12].to_string(), g["customer"].as_str().unwrap());
        assert_eq!(row[5].to_string(), g["userLot"].as_str().unwrap());
        assert_eq!(row[9].to_string(), g["status"].as_str().unwrap());
        match &row[2] {
            Data::Float(q) => assert_eq!(*q, g["onHandQty"].as_f64().unwrap()),
            other => panic!("quantity is not a number: {other:?}"),
        }
        match (&row[10], g["lastRecDate"].as_str()) {
            (Data::DateTime(d), Some(iso)) => {
                assert!(d.is_datetime());
                // Excel's day 0 is 1899-12-30 (its 1900 leap-year quirk included).
                let day =
                    time::macros::date!(1899 - 12 - 30) + time::Duration::days(d.as_f64() as i64);
                assert_eq!(day.to_string(), iso);
            }
            (other, iso) => panic!("date cell {other:?} for {iso:?}"),
        }
    }

    let csv = all
        .get(&format!("/inventory/export.csv?{view}"))
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len() - 1, expected_parts.len());
    assert!(
        lines[0]
            .trim_start_matches('\u{feff}')
            .starts_with("Part,Description,On Hand Qty,Unit,Bin,User Lot,Exp Date,Reference,PO,Status,Last Rec Date,Last Tran Date,Customer,Customer Part,Days to Expiry")
    );
    for (i, line) in lines[1..].iter().enumerate() {
        assert!(line.contains(&expected_parts[i]), "csv row {i}: {line}");
    }
    assert!(csv.contains("\"O'Malley & Sons\"") || csv.contains("O'Malley & Sons"));
}

#[tokio::test]
async fn the_demo_erp_is_generated_and_read_only() {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "2000")], false).await;
    let db = rusqlite::Connection::open(app.data_path.join("deacom-demo.db")).unwrap();
    let live: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM dtfifo WHERE fi_balance > 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(live, 2000);
    let customers: i64 = db
        .query_row("SELECT COUNT(*) FROM dmpr1 WHERE p1_name <> ''", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(customers, 30);
    let all = app.customer_browser("All").await;
    let inv = inventory(&all, json!({ "first": 1 })).await;
    assert_eq!(inv["totalCount"], 2000);
    let statuses = strings(&inv["facets"]["statuses"]);
    for s in [
        "Quarantined",
        "Issued to Job",
        "Sales Reserved",
        "Staged to Job",
        "Failed QC",
        "Pending QC",
        "Approved QC",
        "Available",
    ] {
        assert!(
            statuses.contains(&s.to_owned()),
            "the demo data lacks status {s}"
        );
    }
    let with_po = inventory(&all, json!({ "filter": { "search": "po-" }, "first": 1 })).await;
    assert!(
        with_po["filteredCount"].as_u64().unwrap() > 0,
        "some lots have a PO"
    );
    // Same seed, same data: a second generation is identical.
    let again = spawn_app_with(&[("DEMO_ERP_ROWS", "2000")], false).await;
    let other = rusqlite::Connection::open(again.data_path.join("deacom-demo.db")).unwrap();
    let digest = |c: &rusqlite::Connection| -> String {
        c.query_row("SELECT group_concat(fi_userlot || fi_balance || fi_type, ',') FROM (SELECT * FROM dtfifo ORDER BY fi_id)", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(digest(&db), digest(&other));
    let names = all.graphql("{ erpCustomerNames }").await;
    assert_eq!(names["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let erp = DeacomSqlite::open(&app.data_path.join("deacom-demo.db")).unwrap();
    let list = erp.customer_names().await.unwrap();
    assert_eq!(list.len(), 30);
    assert!(list.windows(2).all(|w| w[0] <= w[1]), "sorted");
    assert!(
        list.contains(&"100% Natural_Snacks".to_owned())
            && list.contains(&"Café Münster GmbH".to_owned())
    );
}

#[tokio::test]
async fn unchanged_dropdowns_are_not_sent_again() {
    let f = fixture().await;
    let acme = f.app.customer_browser(ACME).await;
    let html = acme.get("/inventory").await.text().await.unwrap();
    let marker = r#"id="inv-fh" name="fh" value=""#;
    let at = html
        .find(marker)
        .expect("the page carries the dropdown fingerprint")
        + marker.len();
    let fh = html[at..].split('"').next().unwrap().to_owned();
    assert_eq!(fh.len(), 16);
    // A sort keeps the options: the dropdowns stay out of the response.
    let sorted = acme
        .get_htmx(&format!("/inventory/grid?sort=bin&dir=asc&fh={fh}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!sorted.contains(r#"id="inv-controls""#));
    assert!(sorted.contains(r#"id="inv-state""#) && sorted.contains(r#"name="sort" value="bin""#));
    // A filter changes them: they come back, with the new fingerprint.
    let filtered = acme
        .get_htmx(&format!("/inventory/grid?part=AC-200&fh={fh}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(filtered.contains(r#"id="inv-controls""#));
    assert!(!filtered.contains(&format!(r#"value="{fh}""#)));
}

#[tokio::test]
async fn exports_stream_through_gzip_compression() {
    let f = fixture().await;
    let all = f.app.customer_browser("All").await;
    let resp = all
        .client
        .get(all.url("/inventory/export.csv"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("content-encoding").unwrap(), "gzip");
    let body = resp
        .bytes()
        .await
        .expect("the compressed stream ends cleanly");
    assert_eq!(&body[..2], &[0x1f, 0x8b]);
    let xlsx = all
        .client
        .get(all.url("/inventory/export.xlsx"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(
        xlsx.headers().get("content-encoding").is_none(),
        "XLSX is a zip already"
    );
    assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");
}

#[tokio::test]
async fn whole_pages_are_gzipped_with_their_length() {
    use std::io::Read;
    let f = fixture().await;
    let acme = f.app.customer_browser(ACME).await;
    let get = |encoding: &'static str| {
        acme.client
            .get(acme.url("/inventory"))
            .header("Accept-Encoding", encoding)
            .send()
    };
    let plain = get("identity").await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.text().await.unwrap();
    let packed = get("br, gzip").await.unwrap();
    assert_eq!(packed.status(), 200);
    let h = packed.headers().clone();
    assert_eq!(h.get("content-encoding").unwrap(), "gzip");
    assert!(
        h.get_all("vary")
            .iter()
            .any(|v| v.to_str().unwrap().eq_ignore_ascii_case("accept-encoding")),
        "{h:?}"
    );
    let body = packed.bytes().await.unwrap();
    assert_eq!(
        h.get("content-length").unwrap().to_str().unwrap(),
        body.len().to_string(),
        "a whole answer says its length"
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, plain, "the same page, compressed");
    assert!(body.len() < plain.len() / 3);
    // Twice more: the kept compressor starts each answer afresh.
    for _ in 0..2 {
        let again = get("gzip").await.unwrap().bytes().await.unwrap();
        let mut t = String::new();
        flate2::read::GzDecoder::new(&again[..])
            .read_to_string(&mut t)
            .unwrap();
        assert_eq!(t, plain);
    }
    let refused = get("gzip;q=0").await.unwrap();
    assert!(refused.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn facets_come_back_only_when_they_changed() {
    let f = fixture().await;
    let acme = f.app.customer_browser(ACME).await;
    let q = "query($fh: String!, $filter: InventoryFilter) { inventory(filter: $filter) { facetsFingerprint facetsIfChanged(fingerprint: $fh) { parts } } }";
    let first = acme.graphql_vars(q, json!({ "fh": "" })).await;
    let fp = first["data"]["inventory"]["facetsFingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        strings(&first["data"]["inventory"]["facetsIfChanged"]["parts"]),
        ["AC-100", "AC-200"]
    );
    let same = acme.graphql_vars(q, json!({ "fh": fp })).await;
    assert!(
        same["data"]["inventory"]["facetsIfChanged"].is_null(),
        "{same}"
    );
    let narrowed = acme
        .graphql_vars(q, json!({ "fh": fp, "filter": { "search": "cashew" } }))
        .await;
    assert_eq!(
        strings(&narrowed["data"]["inventory"]["facetsIfChanged"]["parts"]),
        ["AC-200"]
    );
    assert_ne!(
        narrowed["data"]["inventory"]["facetsFingerprint"],
        fp.as_str()
    );
}

#[tokio::test]
async fn the_xlsx_has_a_bold_frozen_header_with_an_autofilter_and_widths() {
    use std::io::Read;
    let f = fixture().await;
    let acme = f.app.customer_browser(ACME).await;
    let bytes = acme
        .get("/inventory/export.xlsx")
        .await
        .bytes()
        .await
        .unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    let sheet = read("xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains(r#"state="frozen""#) && sheet.contains(r#"ySplit="1""#),
        "frozen header row"
    );
    assert!(
        sheet.contains(r#"<autoFilter ref="A1:O10"/>"#),
        "autofilter over the header and 9 rows: {sheet:.600}"
    );
    assert!(
        sheet.contains("<cols>") && sheet.contains("customWidth=\"1\""),
        "column widths"
    );
    let styles = read("xl/styles.xml");
    assert!(styles.contains("<b/>"), "a bold font for the header");
    assert!(
        styles.contains("mm/dd/yyyy"),
        "dates are formatted as dates"
    );
    let workbook = read("xl/workbook.xml");
    assert!(workbook.contains(r#"name="Inventory Export""#));
    assert!(
        styles.contains("#,##0.00"),
        "quantities with two decimals, as the old export"
    );
}

#[tokio::test]
async fn while_the_erp_is_down_the_last_rows_are_shown_marked_stale_and_the_erp_is_left_alone() {
    let f = fixture_with(Duration::ZERO, &[("ERP_CACHE_SECONDS", "0")]).await;
    let acme = f.app.customer_browser(ACME).await;
    // Rows were read once while the ERP answered.
    let fresh = acme.graphql("{ inventory { totalCount stale } }").await;
    assert_eq!(fresh["data"]["inventory"]["stale"], false);
    let total = fresh["data"]["inventory"]["totalCount"].clone();

    f.erp.down.store(true, Ordering::SeqCst);
    let reads_before = f.erp.reads.load(Ordering::SeqCst);
    for _ in 0..20 {
        let gql = acme
            .graphql("{ inventory { totalCount stale asOf } }")
            .await;
        assert!(gql["errors"].is_null(), "{gql}");
        assert_eq!(gql["data"]["inventory"]["stale"], true);
        assert_eq!(gql["data"]["inventory"]["totalCount"], total);
    }
    // The circuit opened after a few failures: the ERP was not asked twenty times.
    let asked = f.erp.reads.load(Ordering::SeqCst) - reads_before;
    assert!(asked <= 3, "the ERP was asked {asked} times");
    let page = acme.get("/inventory").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("The ERP is not answering right now."),
        "a visible banner"
    );
    let export = acme.get("/inventory/export.csv").await;
    assert_eq!(export.status(), 200);
    let name = export.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(name.contains("STALE-as-of_"), "{name}");
    let health: Value = acme.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["erp"]["status"], "down");
}

#[tokio::test]
async fn readiness_reads_the_inventorys_own_tables_and_reports_the_circuit() {
    // The real demo reader over a fixture: its probe reads the tables an inventory read
    // needs, so a database that answers `SELECT 1` but lost a table is not ready.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deacom.db");
    deacom_fixture::build(&path);
    let app = spawn_with_erp(Arc::new(DeacomSqlite::open(&path).unwrap()), &[]).await;
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TABLE dmloc")
        .unwrap();
    let down = app.get("/readyz").await;
    assert_eq!(down.status(), 503);
    let body: Value = down.json().await.unwrap();
    assert_eq!(body["failing"], json!(["erp"]), "{body}");
    assert_eq!(body["erp"]["read"]["status"], "down", "{body}");
    assert!(
        body["erp"]["read"]["reason"]
            .as_str()
            .unwrap()
            .contains("dmloc"),
        "{body}"
    );

    // With every inventory read failing the circuit opens, and readiness says so even
    // while the probe itself would answer.
    let f = fixture_with(Duration::ZERO, &[("ERP_CACHE_SECONDS", "0")]).await;
    assert_eq!(f.app.get("/readyz").await.status(), 200);
    let acme = f.app.customer_browser(ACME).await;
    f.erp.down.store(true, Ordering::SeqCst);
    for _ in 0..5 {
        acme.graphql("{ inventory { totalCount } }").await;
    }
    f.erp.down.store(false, Ordering::SeqCst);
    let open = f.app.get("/readyz").await;
    assert_eq!(open.status(), 503);
    let body: Value = open.json().await.unwrap();
    assert_eq!(body["erp"]["circuitOpen"], true, "{body}");
    assert_eq!(body["erp"]["status"], "down", "{body}");
    assert_eq!(body["erp"]["read"]["status"], "ok", "{body}");
}
