//! The admin backend in a real browser: sign in, create a customer through the modal
//! (using the ERP checklist's search), then open the sessions page and kick a session.

use crate::admin::{ADMIN_PW, admin_app};
use crate::helpers::*;
use crate::webdriver::Browser;

#[tokio::test]
async fn an_admin_creates_a_customer_and_kicks_a_session() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = admin_app(&[]).await;
    app.add_customer("signed.in@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let customer = app.other_browser();
    assert_eq!(
        location(&customer.login("signed.in@example.com", PASSWORD).await),
        "/inventory"
    );

    let s = browser.session().await;

    s.sign_in_admin(&app.url("/admin-login"), "cp_admin", ADMIN_PW)
        .await;

    s.goto(&app.url("/admin/customers")).await;
    s.click("button[hx-get='/admin/customers/new']").await;
    s.wait_for("the modal", "document.querySelector('#modal.open form')")
        .await;
    s.screenshot(
        &std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-admin-modal.png"),
    )
    .await;
    s.type_into("#first_name", "Browser").await;
    s.type_into("#last_name", "Made").await;
    s.type_into("#email", "browser.made@example.com").await;
    s.type_into("[data-checklist-filter]", "münster").await;
    s.wait_for("the filtered checklist", "[...document.querySelectorAll('.erp-checklist [data-name]')].filter(l => !l.hidden).length === 1").await;
    s.click(".erp-checklist label:not([hidden]) input").await;
    s.click("#modal button[type=submit]").await;
    s.wait_for(
        "the modal to close",
        "!document.querySelector('#modal.open')",
    )
    .await;
    s.wait_for(
        "the new row",
        "document.body.textContent.includes('browser.made@example.com')",
    )
    .await;
    s.wait_for("the flash", "document.querySelector('#flashes').textContent.includes('Created browser.made@example.com')").await;
    let erp: String = app
        .db()
        .query_row(
            "SELECT erp_customer_name FROM Customers WHERE email = 'browser.made@example.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(erp, "Café Münster GmbH");
    // The live search filters the table and the count.
    s.type_into("#customer-search", "browser.made").await;
    s.wait_for(
        "the filtered table",
        "document.querySelector('#customers-count').textContent === 'Showing 1 of 2'",
    )
    .await;

    s.goto(&app.url("/admin/sessions")).await;
    s.wait_for(
        "the session row",
        "document.body.textContent.includes('signed.in@example.com')",
    )
    .await;
    s.click("#sessions-table button.btn-danger").await;
    s.accept_alert().await;
    s.wait_for(
        "the kick",
        "!document.querySelector('#sessions-table').textContent.includes('signed.in@example.com')",
    )
    .await;
    s.screenshot(
        &std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-admin-sessions.png"),
    )
    .await;
    assert_eq!(
        customer.get("/inventory").await.status(),
        303,
        "the kicked customer is signed out"
    );

    // The analytics chart is drawn by the vendored Chart.js under the CSP (no inline script).
    s.goto(&app.url("/admin/analytics")).await;
    s.wait_for(
        "the chart",
        "typeof Chart !== 'undefined' && Chart.getChart(document.getElementById('logins-chart'))",
    )
    .await;
    let points = s.script("return Chart.getChart(document.getElementById('logins-chart')).data.datasets[0].data.length;").await;
    assert_eq!(points, 14);
    s.screenshot(
        &std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-admin-analytics.png"),
    )
    .await;
    s.close().await;
}
