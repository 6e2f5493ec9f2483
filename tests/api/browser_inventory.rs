//! The inventory grid in a real browser (headless Chromium through chromedriver): sign in,
//! search, filter, sort, scroll for more rows, reload and keep the view, come back to a
//! plain /inventory and get the view back, download the export.

use std::time::{Duration, Instant};

use crate::helpers::*;
use crate::webdriver::Browser;

fn footer_js() -> &'static str {
    "document.querySelector('#inv-count') && document.querySelector('#inv-count').textContent"
}

/// A portal with `rows` demo rows and an `All` customer `email` (password [`PASSWORD`]).
async fn grid_app(rows: &str, email: &str) -> TestApp {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", rows)], false).await;
    app.add_customer(email, PASSWORD, "All", false).await;
    app
}

#[tokio::test]
async fn a_customer_searches_filters_sorts_reloads_and_downloads() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = grid_app("3000", "browser@example.com").await;
    let s = browser.session().await;

    s.sign_in_customer(&app.url("/login"), "browser@example.com", PASSWORD)
        .await;
    let footer = s.script(&format!("return {};", footer_js())).await;
    assert_eq!(footer, "Showing 3,000 of 3,000 rows");
    let first_rows = s
        .script("return document.querySelectorAll('#inv-rows tr:not(.inv-more)').length;")
        .await;
    assert_eq!(first_rows, 30, "the first page only");

    // Scrolling the grid loads the next page.
    s.script(
        "const w = document.querySelector('.table-wrap'); w.scrollTop = w.scrollHeight; return 1;",
    )
    .await;
    s.wait_for(
        "more rows",
        "document.querySelectorAll('#inv-rows tr:not(.inv-more)').length >= 80",
    )
    .await;

    // Search: the footer and the address bar follow, without a page load.
    s.script("window.__same_page = true; return 1;").await;
    s.type_into("#inv-q", "butter").await;
    s.wait_for("search results", "location.search.includes('q=butter')")
        .await;
    s.wait_for(
        "a narrower footer",
        &format!("{} !== 'Showing 3,000 of 3,000 rows'", footer_js()),
    )
    .await;
    let searched = s.script(&format!("return {};", footer_js())).await;
    assert!(
        s.script("return window.__same_page === true;").await == true,
        "the search reloaded the page"
    );

    // A status filter, from the cascading dropdown.
    s.click("#inv-status option[value='Approved QC']").await;
    s.wait_for(
        "the status filter",
        "location.search.includes('status=Approved+QC')",
    )
    .await;
    s.wait_for(
        "a filtered footer",
        &format!("{} !== {}", footer_js(), searched),
    )
    .await;
    let filtered = s.script(&format!("return {};", footer_js())).await;
    let statuses = s
        .script("return [...document.querySelectorAll('#inv-rows .pill')].map(e => e.textContent).filter(t => t !== 'Approved QC').length;")
        .await;
    assert_eq!(statuses, 0, "only Approved QC rows remain");

    // Sort by quantity, descending (two clicks), and check the order on screen.
    s.click("th a.sort[href*='sort=onHandQty']").await;
    s.wait_for(
        "ascending sort",
        "location.search.includes('sort=onHandQty&dir=asc')",
    )
    .await;
    s.click("th a.sort[href*='sort=onHandQty']").await;
    s.wait_for("descending sort", "location.search.includes('dir=desc')")
        .await;
    let qty = s
        .script("return [...document.querySelectorAll('#inv-rows td.qty')].map(td => parseFloat(td.textContent.replace(/,/g, '')));")
        .await;
    let qty: Vec<f64> = qty
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        !qty.is_empty() && qty.windows(2).all(|w| w[0] >= w[1]),
        "not descending: {qty:?}"
    );
    assert_eq!(
        s.script(&format!("return {};", footer_js())).await,
        filtered,
        "sorting keeps the count"
    );

    // Reload: the view comes back from the URL.
    s.refresh().await;
    s.wait_for(
        "the grid after reload",
        "document.querySelector('#inv-count')",
    )
    .await;
    assert_eq!(
        s.script("return document.querySelector('#inv-q').value;")
            .await,
        "butter"
    );
    assert_eq!(
        s.script("return document.querySelector('#inv-status').value;")
            .await,
        "Approved QC"
    );
    assert_eq!(
        s.script(&format!("return {};", footer_js())).await,
        filtered
    );

    // Plain /inventory restores the last view of this tab from sessionStorage.
    s.goto(&app.url("/inventory")).await;
    s.wait_for(
        "the restored view",
        "location.search.includes('q=butter') && document.querySelector('#inv-count')",
    )
    .await;
    s.screenshot(
        &std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-inventory.png"),
    )
    .await;

    // The theme toggle switches to dark and is remembered across a reload.
    let before = s
        .script("return document.documentElement.getAttribute('data-theme');")
        .await;
    s.click("[data-theme-toggle]").await;
    let after = s
        .script("return document.documentElement.getAttribute('data-theme');")
        .await;
    assert_ne!(before, after);
    s.refresh().await;
    s.wait_for(
        "the page after reload",
        "document.querySelector('#inv-count')",
    )
    .await;
    assert_eq!(
        s.script("return document.documentElement.getAttribute('data-theme');")
            .await,
        after
    );
    if after == "dark" {
        s.screenshot(
            &std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
                .join("browser-inventory-dark.png"),
        )
        .await;
    }

    // Download the XLSX of this view.
    s.click("a[href^='/inventory/export.xlsx']").await;
    let started = Instant::now();
    let file = loop {
        let done: Vec<_> = std::fs::read_dir(browser.downloads())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".xlsx"))
            .collect();
        if let Some(f) = done.first() {
            break f.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no download appeared"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(file.starts_with("Inventory_All_"), "{file}");
    let bytes = std::fs::read(browser.downloads().join(&file)).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX (zip) file");

    // Reset clears the view.
    s.click("a[data-inv-reset]").await;
    s.wait_for(
        "the default view",
        &format!(
            "location.pathname === '/inventory' && location.search === '' && {} === 'Showing 3,000 of 3,000 rows'",
            footer_js()
        ),
    )
    .await;
    s.close().await;
}

/// Typing a search and clicking a header at once: the grid, the arrow and the address
/// agree on both; and a search sends exactly one grid request.
#[tokio::test]
async fn a_header_click_right_after_typing_keeps_search_and_sort_together() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = grid_app("3000", "race@example.com").await;
    let s = browser.session().await;
    s.sign_in_customer(&app.url("/login"), "race@example.com", PASSWORD)
        .await;
    // Count the grid requests the page sends.
    s.script(
        "window.__grid = 0; document.body.addEventListener('htmx:beforeRequest', function (e) { \
           if ((e.detail.pathInfo.requestPath || '').indexOf('/inventory/grid') === 0) window.__grid++; }); return 1;",
    )
    .await;

    // One search, then the box loses focus: one request.
    s.type_into("#inv-q", "gift").await;
    s.wait_for("the search", "location.search.includes('q=gift')")
        .await;
    s.click("h1").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        s.script("return window.__grid;").await,
        1,
        "a search sends exactly one grid request"
    );

    // Type and click the quantity header at once (the click blurs the box first). A slow
    // network makes the race certain: the search's 300 ms delay runs out while the sort's
    // answer is still on its way, and the search must not undo the sort.
    s.network_latency(700).await;
    s.script("window.__grid = 0; return 1;").await;
    s.type_into("#inv-q", " box").await;
    s.click("th a.sort[href*='sort=onHandQty']").await;
    let started = Instant::now();
    s.wait_for(
        "search and sort in the address",
        "location.search.includes('sort=onHandQty') && location.search.includes('q=gift+box')",
    )
    .await;
    // Let any request still under way land.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let url = s.script("return location.search;").await;
    let url = url.as_str().unwrap().to_owned();
    assert!(
        url.contains("sort=onHandQty") && url.contains("q=gift+box"),
        "{url} after {:?}",
        started.elapsed()
    );
    let arrow = s
        .script(
            "return document.querySelector(\"th a.sort[href*='sort=onHandQty']\").closest('th').getAttribute('aria-sort');",
        )
        .await;
    assert_eq!(arrow, "ascending", "the arrow agrees");
    let box_value = s
        .script("return document.querySelector('#inv-q').value;")
        .await;
    assert_eq!(box_value, "gift box");
    // The rows are the search's, in quantity order.
    assert!(
        s.script("return document.querySelectorAll('#inv-rows tr:not(.inv-more)').length;")
            .await
            .as_u64()
            .unwrap()
            > 1,
        "the search has rows"
    );
    let quantities = s
        .script(
            "return Array.from(document.querySelectorAll('#inv-rows tr:not(.inv-more) td.qty')).map(td => parseFloat(td.textContent.replace(/,/g, '')));",
        )
        .await;
    let q: Vec<f64> = quantities
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    assert!(
        q.windows(2).all(|w| w[0] <= w[1]),
        "sorted ascending: {q:?}"
    );
    let texts = s
        .script("return Array.from(document.querySelectorAll('#inv-rows tr:not(.inv-more)')).map(tr => tr.textContent.toLowerCase());")
        .await;
    for t in texts.as_array().unwrap() {
        let t = t.as_str().unwrap();
        assert!(t.contains("gift box"), "a row outside the search: {t}");
    }
    s.close().await;
}

/// WebDriver key codes.
const ARROW_DOWN: &str = "\u{E015}";
const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";

#[tokio::test]
async fn the_part_picker_searches_as_you_type_and_works_from_the_keyboard() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = grid_app("3000", "picker@example.com").await;
    let s = browser.session().await;
    s.sign_in_customer(&app.url("/login"), "picker@example.com", PASSWORD)
        .await;
    assert_eq!(
        s.script("return document.querySelector('#inv-part').getAttribute('role');")
            .await,
        "combobox"
    );
    let part = s
        .script("return document.querySelector('#inv-rows td.part').textContent;")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    let term: String = part.chars().take(5).collect();
    s.script(
        "window.__grid = 0; document.body.addEventListener('htmx:beforeRequest', function (e) { \
           if ((e.detail.pathInfo.requestPath || '').indexOf('/inventory/grid') === 0) window.__grid++; }); return 1;",
    )
    .await;

    // Typing opens the list with matching options; it does not refresh the grid.
    s.click("#inv-part").await;
    s.type_into("#inv-part", &term).await;
    s.wait_for(
        "matching options",
        &format!(
            "!document.querySelector('#inv-part-list').hidden && \
             document.querySelector('#inv-part').getAttribute('aria-expanded') === 'true' && \
             [...document.querySelectorAll('#inv-part-list [role=option][data-value]')].some(o => o.dataset.value === {part:?})"
        ),
    )
    .await;
    let shown = s
        .script("return [...document.querySelectorAll('#inv-part-list [role=option][data-value]')].map(o => o.dataset.value).filter(v => v);")
        .await;
    for v in shown.as_array().unwrap() {
        let v = v.as_str().unwrap().to_lowercase();
        assert!(
            v.contains(&term.to_lowercase()),
            "{v} does not match {term}"
        );
    }
    assert_eq!(s.script("return window.__grid;").await, 0);

    // Escape closes the list and keeps the focus in the box.
    s.type_into("#inv-part", ESCAPE).await;
    s.wait_for(
        "the list closed",
        "document.querySelector('#inv-part-list').hidden",
    )
    .await;
    // Arrow keys walk the options (aria-activedescendant); Enter picks one.
    s.type_into("#inv-part", ARROW_DOWN).await;
    s.wait_for(
        "the list open again",
        "!document.querySelector('#inv-part-list').hidden",
    )
    .await;
    let target = format!(
        "[...document.querySelectorAll('#inv-part-list [role=option]')].findIndex(o => o.dataset.value === {part:?})"
    );
    let steps = s
        .script(&format!("return {target};"))
        .await
        .as_u64()
        .unwrap();
    for _ in 0..steps {
        s.type_into("#inv-part", ARROW_DOWN).await;
    }
    assert_eq!(
        s.script("return document.getElementById(document.querySelector('#inv-part').getAttribute('aria-activedescendant')).dataset.value;")
            .await,
        part.as_str()
    );
    s.type_into("#inv-part", ENTER).await;
    s.wait_for(
        "the part filter in the address",
        "location.search.includes('part=')",
    )
    .await;
    s.wait_for(
        "only that part's rows",
        &format!(
            "[...document.querySelectorAll('#inv-rows td.part')].length > 0 && \
             [...document.querySelectorAll('#inv-rows td.part')].every(td => td.textContent === {part:?})"
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        s.script("return window.__grid;").await,
        1,
        "one pick, one grid request"
    );
    assert_eq!(
        s.script("return document.activeElement && document.activeElement.id;")
            .await,
        "inv-part",
        "the focus stays in the picker"
    );
    assert_eq!(
        s.script("return document.querySelector('#inv-part').value;")
            .await,
        part.as_str()
    );
    assert_eq!(
        s.script("return document.querySelector('#inv-part-list').hidden;")
            .await,
        true
    );

    // Reload: the picker shows the chosen part from the URL.
    s.refresh().await;
    s.wait_for(
        "the grid after reload",
        "document.querySelector('#inv-count')",
    )
    .await;
    assert_eq!(
        s.script("return document.querySelector('#inv-part').value;")
            .await,
        part.as_str()
    );
    s.close().await;
}

/// Saving a view from the menu saves what the grid shows now (the address bar after an
/// htmx refresh, not the page as first loaded), and the menu then opens it.
#[tokio::test]
async fn the_saved_views_menu_saves_the_grid_as_it_is_now() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = grid_app("600", "views@example.com").await;
    let s = browser.session().await;
    s.sign_in_customer(&app.url("/login"), "views@example.com", PASSWORD)
        .await;
    s.type_into("#inv-q", "gift").await;
    s.wait_for("the search", "location.search.includes('q=gift')")
        .await;
    s.click("th a.sort[href*='sort=onHandQty']").await;
    s.wait_for("the sort", "location.search.includes('sort=onHandQty')")
        .await;
    s.click(".views-menu summary").await;
    s.type_into("#save-view-name", "Gift by quantity").await;
    s.click("#save-view button[type=submit]").await;
    s.wait_for(
        "the saved view's page",
        "document.querySelector('#flashes').textContent.includes('Saved the view')",
    )
    .await;
    let search = s.script("return location.search;").await;
    let search = search.as_str().unwrap();
    assert!(
        search.contains("q=gift") && search.contains("sort=onHandQty"),
        "{search}"
    );
    // From a plain inventory, the menu opens it again.
    s.goto(&app.url("/inventory?reset=1")).await;
    s.wait_for("the grid", "document.querySelector('#inv-count')")
        .await;
    s.click(".views-menu summary").await;
    s.click(".views-panel li a").await;
    s.wait_for(
        "the view",
        "location.search.includes('q=gift') && document.querySelector('#inv-q').value === 'gift'",
    )
    .await;
    s.close().await;
}
