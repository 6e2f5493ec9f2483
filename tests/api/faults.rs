//! Faults caused for real: a full disk under the app database.

use crate::admin::{ADMIN_PW, htmx_post};
use crate::helpers::*;

/// A small tmpfs, unmounted when dropped. Needs the right to mount (root in CI).
struct SmallDisk {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then_some(SmallDisk { path, _dir: dir })
    }

    /// Writes a file until the disk has no room left.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.path.join("ballast")).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
        let small = vec![0u8; 512];
        while f.write_all(&small).is_ok() {}
        let _ = f.sync_all();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_503_and_writes_nothing_half() {
    let Some(disk) = SmallDisk::mount("4m") else {
        loud_skip("full-disk test: cannot mount a tmpfs here (needs root with mount rights)");
        return;
    };
    let hash = cheap_hash(ADMIN_PW);
    let app = spawn_app_with(
        &[
            ("DATA_DIR", disk.path.to_str().unwrap()),
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &hash),
        ],
        false,
    )
    .await;
    let admin = crate::admin::admin_browser(&app).await;
    let id = app
        .add_customer("full@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let customer = app.other_browser();
    assert_eq!(
        location(&customer.login("full@example.com", PASSWORD).await),
        "/inventory"
    );
    let customers_before = app.count("SELECT COUNT(*) FROM Customers");
    let audit_before = app.count("SELECT COUNT(*) FROM AuditLog");

    disk.fill();

    let create = htmx_post(
        &admin,
        "/admin/customers",
        &[
            ("first_name", "New"),
            ("last_name", "Person"),
            ("email", "new.person@example.com"),
            ("erp_customer_names", "Acme Foods"),
        ],
    )
    .await;
    assert_eq!(create.status(), 503, "create");
    let body = create.text().await.unwrap();
    assert!(body.contains("temporarily unavailable"), "{body}");
    for (path, fields) in [
        (
            format!("/admin/customers/{}/active", id.0),
            vec![("active", "false")],
        ),
        (format!("/admin/customers/{}/reset-password", id.0), vec![]),
    ] {
        let resp = htmx_post(&admin, &path, &fields).await;
        assert_eq!(resp.status(), 503, "{path}");
    }
    let token = customer.csrf_token().await;
    let logout = customer
        .client
        .post(customer.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 503, "sign-out: {:?}", logout.headers());

    // The sign-in throttle fails closed: a failure it cannot count is not answered as an
    // ordinary wrong password (that would let guessing run unthrottled).
    for _ in 0..3 {
        let guess = app
            .other_browser()
            .login("full@example.com", "wrong-password-1")
            .await;
        assert_eq!(guess.status(), 503, "an uncounted failure");
    }

    // Nothing half-written: the same accounts, the same audit rows, the password kept.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM Customers"),
        customers_before
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM AuditLog"), audit_before);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM Customers WHERE is_active = 1 AND must_reset_password = 0"),
        customers_before
    );
}

#[tokio::test]
async fn metrics_are_for_monitoring_only() {
    let token = "metrics-token-0123456789abcdef";
    let app = spawn_app_with(
        &[("TRUSTED_PROXIES", "127.0.0.1"), ("METRICS_TOKEN", token)],
        false,
    )
    .await;
    app.get("/login").await;
    app.get("/no-such-page").await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.contains("portal_inventory_cache_rows 0"), "{text}");
    // A customer's view fills the cache: its rows are counted.
    let customer = app.customer_browser("All").await;
    let total = customer
        .graphql("{ inventory(first: 1) { totalCount } }")
        .await["data"]["inventory"]["totalCount"]
        .as_i64()
        .unwrap();
    assert!(total > 0);
    let filled = app.get("/metrics").await.text().await.unwrap();
    assert!(
        filled.contains(&format!("portal_inventory_cache_rows {total}"))
            && filled.contains("portal_inventory_cache_scopes 1")
            && filled.contains("portal_customer_sessions 1"),
        "{filled}"
    );
    assert!(
        text.contains("portal_http_requests_total{route=\"/login\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(
        text.contains(
            "portal_http_request_duration_seconds_bucket{route=\"/login\",le=\"+Inf\"} 1"
        )
    );
    assert!(text.contains("portal_erp_circuit_open 0"));
    assert!(text.contains("portal_inventory_cache_scopes"));
    assert!(text.contains("portal_customer_sessions 0"));
    assert!(text.contains("portal_inventory_cache_scopes 0"));
    // An address no route knows is counted under one label, not its own path.
    assert!(
        text.contains("portal_http_requests_total{route=\"unmatched\",status=\"404\"} 1"),
        "{text}"
    );
    assert!(!text.contains("no-such-page"));
    assert!(
        text.contains("portal_app_db_pool_in_use ") && text.contains("portal_app_db_pool_max 4")
    );
    assert!(text.contains("portal_mails_total{outcome=\"sent\"} 0"));
    // From another address: nothing to see, unless the token is sent.
    let far = app
        .client
        .get(app.url("/metrics"))
        .header("CF-Connecting-IP", "203.0.113.5")
        .send()
        .await
        .unwrap();
    assert_eq!(far.status(), 404);
    let with_token = app
        .client
        .get(app.url("/metrics"))
        .header("CF-Connecting-IP", "203.0.113.5")
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .header("CF-Connecting-IP", "203.0.113.5")
        .bearer_auth("metrics-token-0123456789abcdeX")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
}

/// Sets or clears the immutable attribute on every file of the app database (as an
/// operator's `chattr +i` or a storage hiccup would); false where that is not allowed.
fn set_immutable(data_dir: &std::path::Path, on: bool) -> bool {
    let files: Vec<_> = ["portal.db", "portal.db-wal", "portal.db-shm"]
        .iter()
        .map(|n| data_dir.join(n))
        .filter(|p| p.exists())
        .collect();
    std::process::Command::new("chattr")
        .arg(if on { "+i" } else { "-i" })
        .args(&files)
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Clears the attribute even when an assertion fails, so the temporary folder can go.
struct Immutable<'a>(&'a std::path::Path);
impl Drop for Immutable<'_> {
    fn drop(&mut self) {
        set_immutable(self.0, false);
    }
}

async fn create_customer(admin: &TestApp, email: &str) -> reqwest::Response {
    htmx_post(
        admin,
        "/admin/customers",
        &[
            ("first_name", "Heal"),
            ("last_name", "Test"),
            ("email", email),
            ("erp_customer_names", "Acme Foods"),
        ],
    )
    .await
}

#[tokio::test]
async fn a_database_made_read_only_is_written_again_once_released_without_a_restart() {
    let hash = cheap_hash(ADMIN_PW);
    let app = spawn_app_with(
        &[
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &hash),
        ],
        false,
    )
    .await;
    let admin = crate::admin::admin_browser(&app).await;
    app.add_customer("heal@example.com", PASSWORD, "Acme Foods", false)
        .await;
    assert_eq!(
        create_customer(&admin, "before@example.com").await.status(),
        200
    );
    let dir = app.data_path.clone();
    if !set_immutable(&dir, true) {
        loud_skip("read-only database test: chattr +i is not allowed here (needs root on ext4)");
        return;
    }
    let guard = Immutable(&dir);
    // While the files cannot be written: every write is 503, none is 500, and readiness
    // names the database. Enough requests to pass through every pooled connection.
    for i in 0..8 {
        let resp = create_customer(&admin, &format!("during{i}@example.com")).await;
        assert_eq!(resp.status(), 503, "write {i} while read-only");
        // Reads may fail too once a fresh connection cannot map the log's index: the
        // sign-in page answers, or says the portal is unavailable, never 500.
        let page = app.other_browser().get("/login").await.status();
        assert!(
            page == 200 || page == 503,
            "sign-in page {i} while read-only: {page}"
        );
    }
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["appDb"]["write"], "down", "{body}");
    assert!(
        body["failing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "appDb"),
        "{body}"
    );
    drop(guard);
    // Released: the very next write succeeds, and so does every one after it (no pooled
    // connection is left stuck read-only).
    for i in 0..8 {
        let resp = create_customer(&admin, &format!("after{i}@example.com")).await;
        assert_eq!(resp.status(), 200, "write {i} after release");
    }
    assert_eq!(
        location(
            &app.other_browser()
                .login("heal@example.com", PASSWORD)
                .await
        ),
        "/inventory"
    );
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM Customers WHERE email LIKE 'after%'"),
        8
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM Customers WHERE email LIKE 'during%'"),
        0
    );
}

#[tokio::test]
async fn a_deleted_database_is_never_replaced_by_an_empty_one() {
    let hash = cheap_hash(ADMIN_PW);
    let data_dir = tempfile::tempdir().unwrap();
    let keep = data_dir.path().to_owned();
    let settings = [
        ("ADMIN_USERNAME", "cp_admin"),
        ("ADMIN_PASSWORD_HASH", hash.as_str()),
    ];
    let app = spawn_in(data_dir, &settings, false).await;
    let admin = crate::admin::admin_browser(&app).await;
    app.add_customer("gone@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let customer = app.other_browser();
    assert_eq!(
        location(&customer.login("gone@example.com", PASSWORD).await),
        "/inventory"
    );
    assert_eq!(app.get("/readyz").await.status(), 200);

    for name in ["portal.db", "portal.db-wal", "portal.db-shm"] {
        let _ = std::fs::remove_file(keep.join(name));
    }
    // Readiness fails at once, naming the database.
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert!(
        body["failing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "appDb"),
        "{body}"
    );
    // Under load: writes, sign-ins and pages answer 503 or a page, never 500, and never
    // from a new, empty database.
    let mut tasks = Vec::new();
    for i in 0..24 {
        let admin_client = admin.client.clone();
        let url = admin.url("/admin/customers");
        let browser = app.other_browser();
        tasks.push(tokio::spawn(async move {
            let page = admin_client.get(&url).send().await.unwrap().status();
            let signin = browser.login("gone@example.com", PASSWORD).await.status();
            let _ = i;
            (page, signin)
        }));
    }
    for t in tasks {
        let (page, signin) = t.await.unwrap();
        assert_ne!(page, 500);
        assert_ne!(signin, 500);
        assert_ne!(
            signin, 303,
            "no one signs in against a database that is not there"
        );
    }
    assert_eq!(
        create_customer(&admin, "lost@example.com").await.status(),
        503
    );
    assert!(
        !keep.join("portal.db").exists(),
        "no empty database was made in place of the deleted one"
    );
    assert_eq!(app.get("/healthz").await.status(), 200, "the process lives");

    // A restart refuses rather than starting afresh with the demo accounts.
    let mut v = vars(&[("PORT", "0"), ("DATA_DIR", keep.to_str().unwrap())]);
    v.extend(vars(&settings));
    let config = customer_portal::config::Config::from_vars(&v).unwrap();
    let err = match customer_portal::startup::Application::build(config).await {
        Ok(_) => panic!("a portal started on an empty database in place of the deleted one"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("is gone"), "{err}");
    assert!(!keep.join("portal.db").exists());
}
