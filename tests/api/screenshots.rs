//! The screenshots in `docs/screenshots/`, taken in headless Chromium from a demo portal:
//! `scripts/refresh-screenshots` runs this with `SCREENSHOTS_DIR=docs/screenshots`. In a
//! plain `cargo test` it writes to a temporary folder, so the pages are still rendered at
//! every size and theme and checked to fit.

use crate::admin::ADMIN_PW;
use crate::helpers::*;
use crate::webdriver::{Browser, Session};

async fn shoot(s: &Session<'_>, dir: &std::path::Path, name: &str) {
    // Let transitions and fonts settle.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    s.screenshot(&dir.join(format!("{name}.png"))).await;
}

#[tokio::test]
async fn screenshots_of_the_grid_at_three_sizes_in_both_themes() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = match std::env::var("SCREENSHOTS_DIR") {
        Ok(d) => std::path::PathBuf::from(d),
        Err(_) => tmp.path().to_owned(),
    };
    std::fs::create_dir_all(&dir).unwrap();
    let hash = cheap_hash(ADMIN_PW);
    let app = spawn_app_with(
        &[
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &hash),
            ("DEMO_ERP_ROWS", "3000"),
        ],
        false,
    )
    .await;
    app.add_customer("pat@example.com", PASSWORD, "All", false)
        .await;
    let s = browser.session().await;
    s.window_size(1366, 900).await;
    s.goto(&app.url("/login")).await;
    s.set_theme("light").await;
    shoot(&s, &dir, "sign-in-1366x900-light").await;
    s.submit_sign_in("pat@example.com", PASSWORD).await;
    s.wait_for("the grid", "document.querySelector('#inv-count')")
        .await;

    for (w, h) in [(1366, 900), (1920, 1080), (390, 844)] {
        s.window_size(w, h).await;
        for t in ["light", "dark"] {
            s.set_theme(t).await;
            s.goto(&app.url("/inventory?sort=expDate&dir=asc")).await;
            s.wait_for("the grid", "document.querySelector('#inv-count')")
                .await;
            // The count and the first rows are on the first screen at every size.
            let count_visible = s
                .script(
                    "const r = document.querySelector('#inv-count').getBoundingClientRect(); \
                     return r.bottom <= window.innerHeight && r.top >= 0;",
                )
                .await;
            assert_eq!(
                count_visible, true,
                "the count is below the fold at {w}x{h}"
            );
            let sideways = s
                .script("return document.documentElement.scrollWidth > window.innerWidth + 1;")
                .await;
            assert_eq!(sideways, false, "the page scrolls sideways at {w}x{h}");
            // The first column stays put when the table scrolls sideways; phone cards
            // have no columns to pin.
            let pinned = s
                .script("return getComputedStyle(document.querySelector('#inv-rows td:first-child')).position;")
                .await;
            assert_eq!(
                pinned,
                if w > 640 { "sticky" } else { "static" },
                "first column at {w}x{h}"
            );
            shoot(&s, &dir, &format!("inventory-{w}x{h}-{t}")).await;
        }
    }
    // Phones: the filters panel and the menu open.
    s.window_size(390, 844).await;
    s.set_theme("light").await;
    s.goto(&app.url("/inventory")).await;
    s.wait_for("the grid", "document.querySelector('#inv-count')")
        .await;
    let part_shown = "document.querySelector('#inv-part').offsetParent !== null";
    assert_eq!(
        s.script(&format!("return {part_shown};")).await,
        false,
        "on a phone the filters start folded"
    );
    s.click("[data-filters-toggle]").await;
    assert_eq!(
        s.script(&format!("return {part_shown};")).await,
        true,
        "the Filters button opens them"
    );
    s.click("[data-nav-toggle]").await;
    shoot(&s, &dir, "inventory-390x844-light-menus-open").await;

    // History: the scope's at desktop size in both themes, a part's with its outlook,
    // and the phone.
    app.state.history.seed_demo().await.unwrap();
    // The part that runs out first, so its outlook has dates.
    s.goto(&app.url("/inventory?sort=daysOfCover&dir=asc"))
        .await;
    s.wait_for("the grid", "document.querySelector('a.part-history')")
        .await;
    let part_page = s
        .script("return document.querySelector('a.part-history').getAttribute('href');")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    for (w, h) in [(1366, 900), (390, 844)] {
        s.window_size(w, h).await;
        for t in ["light", "dark"] {
            s.set_theme(t).await;
            for (path, name) in [
                ("/inventory/history?days=90".to_owned(), "history"),
                (format!("{part_page}&days=90"), "history-part"),
            ] {
                s.goto(&app.url(&path)).await;
                s.wait_for("the chart", "document.querySelector('canvas')")
                    .await;
                let sideways = s
                    .script("return document.documentElement.scrollWidth > window.innerWidth + 1;")
                    .await;
                assert_eq!(sideways, false, "{name} scrolls sideways at {w}x{h}");
                shoot(&s, &dir, &format!("{name}-{w}x{h}-{t}")).await;
            }
        }
    }
    // Your sessions, with a second browser of the same account signed in, at desktop and
    // phone size.
    let other = app.other_browser();
    assert_eq!(
        location(&other.login("pat@example.com", PASSWORD).await),
        "/inventory"
    );
    for (w, h) in [(1366, 900), (390, 844)] {
        s.window_size(w, h).await;
        for t in ["light", "dark"] {
            s.set_theme(t).await;
            s.goto(&app.url("/account/sessions")).await;
            s.wait_for("the list", "document.querySelector('table tbody tr')")
                .await;
            let sideways = s
                .script("return document.documentElement.scrollWidth > window.innerWidth + 1;")
                .await;
            assert_eq!(sideways, false, "your sessions scrolls sideways at {w}x{h}");
            shoot(&s, &dir, &format!("your-sessions-{w}x{h}-{t}")).await;
        }
    }
    s.window_size(1366, 900).await;

    // Staff: the customers page with the Add modal, both themes.
    s.window_size(1366, 900).await;
    s.sign_in_admin(&app.url("/admin-login"), "cp_admin", ADMIN_PW)
        .await;
    for t in ["light", "dark"] {
        s.set_theme(t).await;
        s.goto(&app.url("/admin/customers")).await;
        s.click("button[hx-get='/admin/customers/new']").await;
        s.wait_for(
            "the modal",
            "document.querySelector('#modal [role=dialog]')",
        )
        .await;
        shoot(&s, &dir, &format!("admin-customers-add-1366x900-{t}")).await;
    }
    s.close().await;
    let shots = std::fs::read_dir(&dir).unwrap().count();
    assert!(shots >= 10, "{shots} screenshots in {}", dir.display());
}
