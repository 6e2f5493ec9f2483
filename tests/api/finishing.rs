//! Rough edges a new user meets first: downloads of an empty view, messages that can be
//! dismissed, the outbox in the admin navigation.

use crate::helpers::*;

#[tokio::test]
async fn an_empty_view_offers_nothing_to_download_and_no_empty_table() {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "300")], false).await;
    let c = app.customer_browser("All").await;
    let html = c
        .get("/inventory?q=no-such-text-anywhere")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("No rows match your search and filters."));
    assert!(
        !html.contains("class=\"inv-table\""),
        "an empty table is drawn"
    );
    assert!(
        html.contains(r#"aria-disabled="true""#) && !html.contains("href=\"/inventory/export.xlsx"),
        "the downloads are shown disabled"
    );
    let full = c.get("/inventory").await.text().await.unwrap();
    assert!(full.contains(r#"class="btn btn-primary" href="/inventory/export.xlsx""#));
}

#[tokio::test]
async fn messages_can_be_dismissed_and_admins_see_the_outbox_link() {
    let app = crate::admin::admin_app(&[]).await;
    let admin = crate::admin::admin_browser(&app).await;
    let panel = admin.get("/admin/panel").await.text().await.unwrap();
    assert!(
        panel.contains(r#"<a href="/admin/outbox">Outbox</a>"#),
        "demo mode: outbox in the navigation"
    );
    let c = app.customer_browser("Acme Foods").await;
    c.post_form(
        "/force-change-password",
        &[
            ("current_password", PASSWORD),
            ("new_password", "a-brand-new-password-1"),
            ("confirm_password", "a-brand-new-password-1"),
        ],
    )
    .await;
    let page = c.get("/inventory").await.text().await.unwrap();
    assert!(
        page.contains("Your password has been changed."),
        "{page:.300}"
    );
    assert!(page.contains("data-dismiss") && page.contains("data-autohide"));
}

#[tokio::test]
async fn readiness_tells_the_truth_about_writes() {
    let app = spawn_app().await;
    let ok = app.get("/readyz").await;
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");
    // The database still answers reads but refuses writes (as on a full disk).
    app.db()
        .execute_batch(
            "CREATE TRIGGER no_writes BEFORE UPDATE ON PortalSettings BEGIN SELECT RAISE(ABORT, 'disk full'); END;
             CREATE TRIGGER no_inserts BEFORE INSERT ON PortalSettings BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    let down = app.get("/readyz").await;
    assert_eq!(down.status(), 503);
    let body: serde_json::Value = down.json().await.unwrap();
    assert_eq!(body["appDb"]["read"], "ok", "{body}");
    assert_eq!(body["appDb"]["write"], "down", "{body}");
    // Liveness is another question: the process still answers.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn the_audit_log_reads_like_sentences_with_the_codes_kept() {
    let app = crate::admin::admin_app(&[]).await;
    let admin = crate::admin::admin_browser(&app).await;
    let id = app
        .add_customer("audited.edit@example.com", PASSWORD, "Acme Foods", false)
        .await;
    crate::admin::htmx_post(
        &admin,
        &format!("/admin/customers/{}/active", id.0),
        &[("active", "false")],
    )
    .await;
    crate::admin::htmx_post(
        &admin,
        &format!("/admin/customers/{}/active", id.0),
        &[("active", "true")],
    )
    .await;
    // A row as the old portal wrote it: a sentence.
    app.db()
        .execute(
            "INSERT INTO AuditLog (timestamp, admin_username, action_type, details) VALUES (?1, 'SYSTEM', 'CUSTOMER_LOGIN', 'Login from IP: 203.0.113.9')",
            [customer_portal::store::format_ts(time::OffsetDateTime::now_utc())],
        )
        .unwrap();
    let page = admin.get("/admin/audit").await.text().await.unwrap();
    assert!(
        page.contains(r#"title="CUSTOMER_DEACTIVATE">Account deactivated<"#),
        "{page:.2000}"
    );
    assert!(
        page.contains("Deactivated customer"),
        "an old action type is the old portal's sentence"
    );
    assert!(
        page.contains("Reactivated customer Pat Tester"),
        "the old portal's sentence for a reactivation"
    );
    assert!(
        page.contains("Login from IP: 203.0.113.9"),
        "old sentences stay as written"
    );
    assert!(!page.contains("{&quot;is_active&quot;"), "no raw JSON");
}

/// With several ERP customers the Description column still wraps (the style names the
/// column, not its position), and each cell carries the label a phone's card shows.
#[tokio::test]
async fn columns_are_styled_by_name_and_labelled_for_phone_cards() {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "200")], false).await;
    let multi = app.customer_browser("Acme Foods|Bright & Clean Co.").await;
    let html = multi.get("/inventory").await.text().await.unwrap();
    assert!(
        html.contains(r#"<td class="cust" data-label="Customer">"#),
        "{html:.200}"
    );
    assert!(html.contains(r#"<td class="desc" data-label="Description">"#));
    assert!(html.contains(r#"data-label="On hand""#));
    let css = app
        .get("/assets/css/portal.css")
        .await
        .text()
        .await
        .unwrap();
    assert!(css.contains(".inv-table td.desc { white-space: normal;"));
    assert!(
        !css.contains("td:nth-child(2)"),
        "no style by column position"
    );
    let phone = css
        .split("@media (max-width: 640px)")
        .find(|block| block.contains("td.extra"))
        .expect("the phone rules");
    assert!(
        phone.contains("grid-template-columns") && phone.contains("td.extra { display: none; }")
    );
}
