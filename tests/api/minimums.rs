//! Low-stock thresholds: kept per ERP customer and part, shared by every account of that
//! customer, never read or written outside an account's scope; the grid's badge and
//! "below minimum" filter compare the part's total on hand in the scope; the minimums
//! page lists them with their totals.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::expiry::{StaticErp, lot};
use crate::helpers::*;

async fn app() -> TestApp {
    spawn_with_erp(
        Arc::new(StaticErp(vec![
            lot("Acme Foods", "A-1", "L1", 10.0, None),
            lot("Acme Foods", "A-1", "L2", 5.0, None),
            lot("Acme Foods", "A-2", "L3", 20.0, None),
            lot("Pure Water", "W-1", "W1", 40.0, None),
        ])),
        &[],
    )
    .await
}

const LIST: &str =
    "{ partMinimums { erpCustomerName part minimumQty onHandTotal belowMinimum updatedBy } }";
const SET: &str = "mutation($i: SetPartMinimumInput!) { setPartMinimum(input: $i) { part minimumQty onHandTotal belowMinimum } }";
const REMOVE: &str =
    "mutation($c: String, $p: String!) { removePartMinimum(erpCustomerName: $c, part: $p) }";

async fn list(b: &TestApp) -> Vec<Value> {
    let body = b.graphql(LIST).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["partMinimums"].as_array().unwrap().clone()
}

async fn set(b: &TestApp, input: Value) -> Value {
    b.graphql_vars(SET, json!({ "i": input })).await
}

#[tokio::test]
async fn accounts_of_one_customer_share_minimums_and_no_account_reaches_outside_its_scope() {
    let app = app().await;
    let acme1 = app.customer_browser("Acme Foods").await;
    let acme2 = app.customer_browser("Acme Foods").await;
    let pure = app.customer_browser("Pure Water").await;
    let both = app.customer_browser("Acme Foods|Pure Water").await;

    // Set through the page by one account...
    let resp = acme1
        .post_form(
            "/inventory/minimums",
            &[("part", "A-1"), ("minimum_qty", "20")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    // ...seen by the other, with the part's total across its lots.
    let l = list(&acme2).await;
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["erpCustomerName"], "Acme Foods");
    assert_eq!(l[0]["onHandTotal"], 15.0);
    assert_eq!(l[0]["belowMinimum"], true);
    // Changed by the second, seen by the first.
    let body = set(&acme2, json!({ "part": "A-1", "minimumQty": 12 })).await;
    assert_eq!(
        body["data"]["setPartMinimum"]["belowMinimum"], false,
        "{body}"
    );
    let l = list(&acme1).await;
    assert_eq!(l[0]["minimumQty"], 12.0);
    assert!(
        l[0]["updatedBy"]
            .as_str()
            .unwrap()
            .ends_with("@example.com")
    );

    // Another customer neither sees nor touches them.
    assert!(list(&pure).await.is_empty());
    let body = set(
        &pure,
        json!({ "erpCustomerName": "Acme Foods", "part": "A-1", "minimumQty": 999 }),
    )
    .await;
    assert!(
        body["errors"][0]["extensions"]["fields"]["erp_customer_name"].is_string(),
        "{body}"
    );
    let body = pure
        .graphql_vars(REMOVE, json!({ "c": "Acme Foods", "p": "A-1" }))
        .await;
    assert!(body["errors"].is_array(), "{body}");
    let body = set(&pure, json!({ "part": "W-1", "minimumQty": 50 })).await;
    assert_eq!(
        body["data"]["setPartMinimum"]["belowMinimum"], true,
        "{body}"
    );
    assert_eq!(
        list(&acme1).await.len(),
        1,
        "Acme does not see Pure Water's"
    );
    // An account with both sees both, and must say which customer it means.
    assert_eq!(list(&both).await.len(), 2);
    let body = set(&both, json!({ "part": "A-2", "minimumQty": 1 })).await;
    assert!(body["errors"][0]["extensions"]["fields"]["erp_customer_name"].is_string());
    // Exact names only: a differently-cased name is not the account's customer.
    let body = set(
        &both,
        json!({ "erpCustomerName": "acme foods", "part": "A-2", "minimumQty": 1 }),
    )
    .await;
    assert!(body["errors"][0]["extensions"]["fields"]["erp_customer_name"].is_string());
    // Nothing Pure Water did changed Acme's minimum.
    assert_eq!(list(&acme1).await[0]["minimumQty"], 12.0);

    // Bad input is told, not stored.
    let body = set(&acme1, json!({ "part": " ", "minimumQty": -1 })).await;
    let fields = &body["errors"][0]["extensions"]["fields"];
    assert!(
        fields["part"].is_string() && fields["minimum_qty"].is_string(),
        "{body}"
    );
    let resp = acme1
        .post_form(
            "/inventory/minimums",
            &[("part", "A-2"), ("minimum_qty", "lots")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("Enter a number"));
    assert_eq!(list(&acme1).await.len(), 1);

    // Tokens and admins use other roads: the minimums are for customer accounts.
    let body = app.graphql(LIST).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    // Removed through the page, for every account.
    let resp = acme2
        .post_form(
            "/inventory/minimums/remove",
            &[("erp_customer_name", "Acme Foods"), ("part", "A-1")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert!(list(&acme1).await.is_empty());
}

#[tokio::test]
async fn the_grid_marks_and_filters_parts_below_their_minimum() {
    let app = app().await;
    let acme = app.customer_browser("Acme Foods").await;
    set(&acme, json!({ "part": "A-2", "minimumQty": 25 })).await;
    set(&acme, json!({ "part": "A-1", "minimumQty": 15 })).await; // exactly its total: not below
    set(&acme, json!({ "part": "A-9", "minimumQty": 5 })).await; // none in stock at all

    let q = "query($f: InventoryFilter) { inventory(filter: $f) { filteredCount rows { part userLot minimumQty belowMinimum } } }";
    let body = acme
        .graphql_vars(q, json!({ "f": { "belowMinimum": true } }))
        .await;
    let inv = &body["data"]["inventory"];
    assert_eq!(inv["filteredCount"], 1, "{body}");
    assert_eq!(inv["rows"][0]["part"], "A-2");
    assert_eq!(inv["rows"][0]["minimumQty"], 25.0);
    assert_eq!(inv["rows"][0]["belowMinimum"], true);
    let body = acme.graphql_vars(q, json!({})).await;
    let a1 = body["data"]["inventory"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["part"] == "A-1")
        .unwrap()
        .clone();
    assert_eq!(a1["belowMinimum"], false);
    assert_eq!(a1["minimumQty"], 15.0);

    // The page: the badge, the filter in the URL, and the minimums page with totals.
    let page = acme.get("/inventory?below=1").await.text().await.unwrap();
    assert!(page.contains("Showing 1 of 3 rows"), "{page}");
    assert!(page.contains("Below min"));
    assert!(page.contains(r#"name="below" value="1" checked"#));
    let page = acme.get("/inventory/minimums").await.text().await.unwrap();
    assert!(
        page.contains("A-9") && page.contains("2</strong> below minimum"),
        "A-2 and the out-of-stock A-9"
    );
    // Another customer's grid is untouched by Acme's minimums.
    let pure = app.customer_browser("Pure Water").await;
    let body = pure
        .graphql_vars(q, json!({ "f": { "belowMinimum": true } }))
        .await;
    assert_eq!(body["data"]["inventory"]["filteredCount"], 0);
}

#[tokio::test]
async fn saved_views_are_named_renamed_deleted_and_kept_per_account() {
    let app = app().await;
    let acme = app.customer_browser("Acme Foods").await;
    let other = app.customer_browser("Acme Foods").await;
    // Saved from the inventory page's form: back to the view it saved.
    let resp = acme
        .post_form(
            "/inventory/views",
            &[
                ("name", "Big lots"),
                ("query", "q=A&sort=onHandQty&dir=desc"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/inventory?q=A&sort=onHandQty&dir=desc");
    let page = acme.get("/inventory").await.text().await.unwrap();
    assert!(
        page.contains(r#"<a href="/inventory?q=A&amp;sort=onHandQty&amp;dir=desc">Big lots</a>"#),
        "the menu lists it"
    );
    // The same name twice is refused with a message.
    let resp = acme
        .post_form(
            "/inventory/views",
            &[("name", "Big lots"), ("query", "q=B")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let page = acme.get(&location(&resp)).await.text().await.unwrap();
    assert!(page.contains("already have a view named"), "{page}");
    // Per account: a colleague of the same customer does not see it.
    let body = other.graphql("{ savedViews { id } }").await;
    assert_eq!(body["data"]["savedViews"], json!([]));

    let body = acme.graphql("{ savedViews { id name } }").await;
    let id = body["data"]["savedViews"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = acme
        .post_form(
            &format!("/inventory/views/{id}/rename"),
            &[("name", "Largest first")],
        )
        .await;
    assert_eq!(resp.status(), 303);
    let page = acme.get("/inventory/views").await.text().await.unwrap();
    assert!(page.contains("Largest first") && !page.contains(">Big lots<"));
    assert!(
        page.contains("search “A” · sorted by onHandQty desc"),
        "{page}"
    );
    // Someone else's id is not found, and nothing changes.
    let resp = other
        .post_form(&format!("/inventory/views/{id}/delete"), &[])
        .await;
    assert_eq!(resp.status(), 404);
    let resp = acme
        .post_form(&format!("/inventory/views/{id}/delete"), &[])
        .await;
    assert_eq!(resp.status(), 303);
    let body = acme.graphql("{ savedViews { id } }").await;
    assert_eq!(body["data"]["savedViews"], json!([]));
}

/// The inventory page's saved-views menu is read with the sign-in (one trip to the
/// database): a view another instance saved, renamed or deleted (written straight into the
/// database here) shows in the very next page.
#[tokio::test]
async fn the_views_menu_shows_what_any_instance_wrote_at_once() {
    let app = app().await;
    let browser = app.other_browser();
    let email = format!("menu{}@example.com", rand_suffix());
    let id = browser
        .add_customer(&email, PASSWORD, "Acme Foods", false)
        .await;
    assert_eq!(
        location(&browser.login(&email, PASSWORD).await),
        "/inventory"
    );
    let menu = || async {
        let page = browser.get("/inventory").await.text().await.unwrap();
        let at = page.find("class=\"views-menu\"").expect("the menu");
        page[at..at + page[at..].find("</details>").unwrap()].to_owned()
    };
    assert!(menu().await.contains("No saved views yet."));
    let store = app.store();
    let now = time::OffsetDateTime::now_utc();
    let view = store
        .insert_saved_view(id, "From elsewhere", "q=A", now, 50)
        .await
        .unwrap();
    let shown = menu().await;
    assert!(
        shown.contains(r#"<a href="/inventory?q=A">From elsewhere</a>"#),
        "{shown}"
    );
    store
        .rename_saved_view(id, view.id, "Renamed elsewhere", now)
        .await
        .unwrap();
    let shown = menu().await;
    assert!(
        shown.contains("Renamed elsewhere") && !shown.contains("From elsewhere"),
        "{shown}"
    );
    store.delete_saved_view(id, view.id).await.unwrap();
    assert!(menu().await.contains("No saved views yet."));
}
