use crate::helpers::*;

fn credentials(banner: &str) -> Vec<(String, String)> {
    banner
        .lines()
        .filter(|l| l.contains("@demo.example.com"))
        .map(|l| {
            let mut parts = l.split_whitespace();
            (
                parts.next().unwrap().to_owned(),
                parts.next().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn first_start_prints_credentials_that_work_and_later_starts_keep_them() {
    let app = spawn_app_with(&[], true).await;
    assert!(app.banner.contains("/login"), "{}", app.banner);
    assert!(
        app.banner.contains("cp_admin") && app.banner.contains("shown only this once"),
        "{}",
        app.banner
    );
    let creds = credentials(&app.banner);
    assert_eq!(creds.len(), 2, "{}", app.banner);

    // A demo customer signs in with the printed temporary password and must change it.
    let (email, password) = &creds[0];
    let resp = app.login(email, password).await;
    assert_eq!(location(&resp), "/force-change-password");

    // The same DATA_DIR again: nothing re-seeded, nothing re-printed.
    let count_before = app.count("SELECT COUNT(*) FROM Customers");
    let admin_hash: String =
        app.db().query_row("SELECT setting_value FROM PortalSettings WHERE setting_key = 'demo_admin_password_hash'", [], |r| r.get(0)).unwrap();
    let dir = app.data_dir.path().to_owned();
    let again = spawn_in(
        tempfile::TempDir::new_in(&dir).unwrap(),
        &[("DATA_DIR", dir.to_str().unwrap())],
        true,
    )
    .await;
    assert!(
        !again.banner.contains("shown only this once"),
        "{}",
        again.banner
    );
    assert!(credentials(&again.banner).is_empty());
    assert_eq!(again.count("SELECT COUNT(*) FROM Customers"), count_before);
    let admin_hash_after: String =
        again.db().query_row("SELECT setting_value FROM PortalSettings WHERE setting_key = 'demo_admin_password_hash'", [], |r| r.get(0)).unwrap();
    assert_eq!(admin_hash, admin_hash_after);
    assert!(werkzeug_hash::ParsedHash::parse(&admin_hash).is_ok());
}
