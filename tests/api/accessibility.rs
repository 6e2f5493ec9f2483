//! Accessibility in a real browser: axe-core (vendored, `tests/vendor/axe-core`) on every
//! kind of page, in both themes where colours matter, must find no serious or critical
//! violation; and the main journey works from the keyboard alone.

use std::time::Duration;

use crate::admin::ADMIN_PW;
use crate::helpers::*;
use crate::webdriver::{Browser, Session};

const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";
const ARROW_DOWN: &str = "\u{E015}";

/// The serious and critical violations axe finds on the page as it is now.
pub async fn axe_violations(s: &Session<'_>) -> Vec<String> {
    s.script(&format!("{AXE}\n;return 1;")).await;
    let found = s
        .script_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] }).then(r => done(
               r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' +
                      v.nodes.slice(0, 4).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\\s+/g, ' ')).join(' | '))
             )).catch(e => done(['axe failed: ' + e]));",
        )
        .await;
    found
        .as_array()
        .unwrap_or_else(|| panic!("axe answered {found}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

async fn check(s: &Session<'_>, page: &str, failures: &mut Vec<String>) {
    for v in axe_violations(s).await {
        failures.push(format!("{page}: {v}"));
    }
}

/// A portal with the local admin and a 3,000-row demo ERP.
async fn portal() -> TestApp {
    let hash = cheap_hash(ADMIN_PW);
    spawn_app_with(
        &[
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &hash),
            ("DEMO_ERP_ROWS", "3000"),
        ],
        false,
    )
    .await
}

#[tokio::test]
async fn axe_finds_no_serious_violations_on_any_page() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = portal().await;
    let id = app
        .add_customer("new@example.com", PASSWORD, "All", true)
        .await;
    // Something on the views, reports and minimums pages.
    let store = app.store();
    let now = time::OffsetDateTime::now_utc();
    let view = store
        .insert_saved_view(id, "Gift boxes", "q=gift&sort=onHandQty", now, 50)
        .await
        .unwrap();
    store
        .insert_subscription(
            &customer_portal::store::NewReportSubscription {
                customer_id: id,
                kind: customer_portal::store::ReportKind::Report,
                view_id: Some(view.id),
                frequency: customer_portal::store::Frequency::Weekly,
                weekday: Some(0),
                hour: 7,
                format: customer_portal::store::FileFormat::Xlsx,
                created_at: now,
                next_run_at: now + time::Duration::days(1),
            },
            20,
        )
        .await
        .unwrap();
    store
        .set_part_minimum(&customer_portal::store::PartMinimum {
            erp_customer_name: "Acme Foods".into(),
            part: "AF-00000".into(),
            minimum_qty: 100.0,
            updated_at: now,
            updated_by: "new@example.com".into(),
        })
        .await
        .unwrap();
    // The demo's past days, so the history pages have a chart, a table and forecasts.
    assert!(app.state.history.seed_demo().await.unwrap() > 0);
    let s = browser.session().await;
    let mut failures = Vec::new();

    s.goto(&app.url("/login")).await;
    for theme in ["light", "dark"] {
        s.set_theme(theme).await;
        check(&s, &format!("sign-in ({theme})"), &mut failures).await;
    }
    s.set_theme("light").await;
    s.goto(&app.url("/forgot-password")).await;
    check(&s, "forgot password", &mut failures).await;
    s.goto(&app.url("/reset-password?token=unknown")).await;
    check(&s, "expired reset link", &mut failures).await;
    s.goto(&app.url("/login")).await;
    s.submit_sign_in("new@example.com", PASSWORD).await;
    s.wait_for(
        "the forced change",
        "location.pathname === '/force-change-password'",
    )
    .await;
    check(&s, "forced password change", &mut failures).await;
    s.type_into("#new_password", "A-new-password-42!").await;
    s.type_into("#confirm_password", "A-new-password-42!").await;
    s.click("form[action='/force-change-password'] button[type=submit]")
        .await;
    s.wait_for("the grid", "document.querySelector('#inv-count')")
        .await;
    for theme in ["light", "dark"] {
        s.set_theme(theme).await;
        check(&s, &format!("inventory ({theme})"), &mut failures).await;
    }
    // The picker open, with its options.
    s.click("#inv-part").await;
    s.type_into("#inv-part", "gen").await;
    s.wait_for(
        "picker options",
        "!document.querySelector('#inv-part-list').hidden",
    )
    .await;
    check(
        &s,
        "inventory with the Part picker open (dark)",
        &mut failures,
    )
    .await;
    s.set_theme("light").await;
    check(
        &s,
        "inventory with the Part picker open (light)",
        &mut failures,
    )
    .await;
    s.goto(&app.url("/inventory")).await;
    s.click(".views-menu summary").await;
    check(
        &s,
        "inventory with the saved views menu open",
        &mut failures,
    )
    .await;
    // A second browser, so "Your sessions" has a row with a Sign out button.
    let other = app.other_browser();
    other.login("new@example.com", "A-new-password-42!").await;
    for (path, name) in [
        ("/inventory/views", "saved views and reports"),
        ("/inventory/minimums", "minimums"),
        ("/account/sessions", "your sessions"),
    ] {
        s.goto(&app.url(path)).await;
        s.wait_for(name, "document.readyState === 'complete'").await;
        for theme in ["light", "dark"] {
            s.set_theme(theme).await;
            check(&s, &format!("{name} ({theme})"), &mut failures).await;
        }
        s.set_theme("light").await;
    }
    // History: the scope's, and one part's with its outlook (the first part's link in the
    // grid).
    s.goto(&app.url("/inventory")).await;
    s.wait_for("the grid", "document.querySelector('a.part-history')")
        .await;
    let part_page = s
        .script("return document.querySelector('a.part-history').getAttribute('href');")
        .await;
    for (path, name) in [
        ("/inventory/history?days=90", "history of the scope"),
        (part_page.as_str().unwrap(), "history of a part"),
    ] {
        s.goto(&app.url(path)).await;
        s.wait_for(
            name,
            "document.readyState === 'complete' && document.querySelector('canvas')",
        )
        .await;
        for theme in ["light", "dark"] {
            s.set_theme(theme).await;
            check(&s, &format!("{name} ({theme})"), &mut failures).await;
        }
        s.set_theme("light").await;
    }

    // Staff pages (signing in as staff ends the customer's session).
    s.goto(&app.url("/admin-login")).await;
    check(&s, "admin sign-in", &mut failures).await;
    s.sign_in_admin(&app.url("/admin-login"), "cp_admin", ADMIN_PW)
        .await;
    s.goto(&app.url("/admin/customers")).await;
    s.click("button[hx-get='/admin/customers/new']").await;
    s.wait_for(
        "the modal",
        "document.querySelector('#modal [role=dialog]')",
    )
    .await;
    for theme in ["light", "dark"] {
        s.set_theme(theme).await;
        check(
            &s,
            &format!("customers with the Add modal open ({theme})"),
            &mut failures,
        )
        .await;
    }
    s.set_theme("light").await;
    for (path, name) in [
        ("/admin/audit", "audit log"),
        ("/admin/sessions", "sessions"),
        ("/admin/analytics", "analytics"),
        ("/admin/api", "API tokens"),
        ("/admin/reports", "scheduled reports"),
        ("/admin/outbox", "demo outbox"),
    ] {
        s.goto(&app.url(path)).await;
        s.wait_for(name, "document.readyState === 'complete'").await;
        for theme in ["light", "dark"] {
            s.set_theme(theme).await;
            check(&s, &format!("{name} ({theme})"), &mut failures).await;
        }
        s.set_theme("light").await;
    }
    // One mail in the outbox, opened (the Add modal above was not submitted: add one now).
    let mail = app.other_browser();
    crate::admin::admin_login(&mail, "cp_admin", ADMIN_PW).await;
    crate::admin::htmx_post(
        &mail,
        "/admin/customers",
        &[
            ("first_name", "Mail"),
            ("email", "mail@example.com"),
            ("erp_customer_names", "All"),
        ],
    )
    .await;
    s.goto(&app.url("/admin/outbox")).await;
    s.click("a[href^='/admin/outbox/']").await;
    s.wait_for(
        "a message",
        "location.pathname.startsWith('/admin/outbox/')",
    )
    .await;
    for theme in ["light", "dark"] {
        s.set_theme(theme).await;
        check(&s, &format!("an outbox message ({theme})"), &mut failures).await;
    }
    s.close().await;
    assert!(
        failures.is_empty(),
        "serious or critical accessibility violations:\n{}",
        failures.join("\n")
    );
}

/// The id (or, without one, the tag and text) of the focused element.
async fn focused(s: &Session<'_>) -> String {
    s.script(
        "const a = document.activeElement; if (!a) return ''; \
         return a.id || (a.tagName.toLowerCase() + ':' + (a.getAttribute('href') || a.textContent.trim()).slice(0, 80));",
    )
    .await
    .as_str()
    .unwrap_or("")
    .to_owned()
}

/// Presses Tab until `want` says the focused element is the one (at most 60 presses).
async fn tab_to(s: &Session<'_>, what: &str, want: impl Fn(&str) -> bool) {
    for _ in 0..60 {
        if want(&focused(s).await) {
            return;
        }
        s.keys(TAB).await;
    }
    panic!("Tab never reached {what} (last: {})", focused(s).await);
}

#[tokio::test]
async fn the_main_journey_works_from_the_keyboard() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = portal().await;
    app.add_customer("keys@example.com", PASSWORD, "All", false)
        .await;
    let s = browser.session().await;

    // Sign in: the email box has the focus; Tab to the password; Enter submits.
    s.goto(&app.url("/login")).await;
    assert_eq!(
        focused(&s).await,
        "email",
        "the sign-in form starts in the email box"
    );
    s.keys("keys@example.com").await;
    s.keys(TAB).await;
    assert_eq!(focused(&s).await, "password");
    s.keys(PASSWORD).await;
    s.keys(ENTER).await;
    s.wait_for("the grid", "document.querySelector('#inv-count')")
        .await;

    // Every control shows where the focus is.
    let outline = s
        .script(
            "const q = document.querySelector('#inv-q'); q.focus(); const st = getComputedStyle(q); \
             return st.outlineStyle !== 'none' || st.boxShadow !== 'none';",
        )
        .await;
    assert_eq!(outline, true, "a visible focus on the search box");
    // From the top of the page, as after a page load (the grid's rows below the
    // controls hold a link each and load more as the focus reaches the last).
    s.script("document.querySelector('.skip-link').focus(); return 1;")
        .await;

    // Search.
    tab_to(&s, "the search box", |f| f == "inv-q").await;
    s.keys("gift").await;
    s.wait_for("the search", "location.search.includes('q=gift')")
        .await;

    // Sort by quantity: the header's control is reached with Tab and works with Enter, and
    // the header says how it sorts.
    tab_to(&s, "the quantity header", |f| f.contains("sort=onHandQty")).await;
    assert_eq!(
        s.script("return document.activeElement.getAttribute('role');")
            .await,
        "button",
        "a sortable header is a button to assistive technology"
    );
    // Space, as on any button.
    s.keys(" ").await;
    s.wait_for("the sort", "location.search.includes('sort=onHandQty')")
        .await;
    s.wait_for(
        "aria-sort on the header",
        "document.querySelector(\"th a.sort[href*='sort=onHandQty']\").closest('th').getAttribute('aria-sort') === 'ascending'",
    )
    .await;

    // Filter with the Part picker: type, arrow down to the first part, Enter.
    // From the top of the page, as after a page load (the grid's rows below the
    // controls hold a link each and load more as the focus reaches the last).
    s.script("document.querySelector('.skip-link').focus(); return 1;")
        .await;
    tab_to(&s, "the Part picker", |f| f == "inv-part").await;
    let first_row_part = s
        .script("return document.querySelector('#inv-rows td.part').textContent;")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    s.keys(&first_row_part).await;
    s.wait_for(
        "the options",
        "!document.querySelector('#inv-part-list').hidden && document.querySelectorAll('#inv-part-list [role=option][data-value]').length > 1",
    )
    .await;
    s.keys(ARROW_DOWN).await;
    s.keys(ARROW_DOWN).await;
    s.keys(ENTER).await;
    s.wait_for("the part filter", "location.search.includes('part=')")
        .await;
    s.wait_for(
        "the part's rows",
        &format!(
            "[...document.querySelectorAll('#inv-rows td.part')].length > 0 && [...document.querySelectorAll('#inv-rows td.part')].every(td => td.textContent === {first_row_part:?})"
        ),
    )
    .await;

    // Download: Tab to the XLSX link, Enter, and the file arrives.
    tab_to(&s, "the XLSX download", |f| f.contains("export.xlsx")).await;
    s.keys(ENTER).await;
    let started = std::time::Instant::now();
    loop {
        let done = std::fs::read_dir(browser.downloads())
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().ends_with(".xlsx"));
        if done {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no download after Enter on the XLSX link"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // An admin opens and closes the Add customer modal from the keyboard.
    s.goto(&app.url("/admin-login")).await;
    assert_eq!(focused(&s).await, "username");
    s.keys("cp_admin").await;
    s.keys(TAB).await;
    s.keys(ADMIN_PW).await;
    s.keys(ENTER).await;
    s.wait_for("the admin panel", "location.pathname === '/admin/panel'")
        .await;
    s.goto(&app.url("/admin/customers")).await;
    tab_to(&s, "Add customer", |f| f.ends_with("Add customer")).await;
    s.keys(ENTER).await;
    s.wait_for(
        "the modal, with the focus inside",
        "document.querySelector('#modal [role=dialog]') && document.querySelector('#modal').contains(document.activeElement)",
    )
    .await;
    // Tab and Shift+Tab stay inside the dialog.
    for _ in 0..25 {
        s.keys(TAB).await;
        assert_eq!(
            s.script("return document.querySelector('#modal').contains(document.activeElement);")
                .await,
            true,
            "Tab left the dialog (at {})",
            focused(&s).await
        );
    }
    for _ in 0..5 {
        s.shift_key(TAB).await;
        assert_eq!(
            s.script("return document.querySelector('#modal').contains(document.activeElement);")
                .await,
            true,
            "Shift+Tab left the dialog"
        );
    }
    // Escape closes it and the focus goes back to the button that opened it.
    s.keys(ESCAPE).await;
    s.wait_for(
        "the modal closed",
        "!document.querySelector('#modal [role=dialog]')",
    )
    .await;
    assert!(
        focused(&s).await.ends_with("Add customer"),
        "focus went to {}",
        focused(&s).await
    );
    s.close().await;
}
