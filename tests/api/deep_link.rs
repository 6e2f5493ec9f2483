//! A deep link survives signing in: back to the page asked for, and only ever to a
//! relative path on this site (never an open redirect).

use crate::helpers::*;

#[tokio::test]
async fn a_deep_link_is_back_after_sign_in() {
    let app = spawn_app().await;
    app.add_customer("deep@example.com", PASSWORD, "Acme Foods", false)
        .await;
    let wanted = "/inventory?q=gift+box&part=AF-10182&sort=onHandQty&dir=desc";
    let resp = app.get(wanted).await;
    assert_eq!(resp.status(), 303);
    let login_url = location(&resp);
    assert!(login_url.starts_with("/login?next="), "{login_url}");
    let page = app.get(&login_url).await.text().await.unwrap();
    assert!(
        page.contains(r#"name="next""#),
        "the form carries where to go"
    );
    let resp = app
        .post_form(
            "/login",
            &[
                ("email", "deep@example.com"),
                ("password", PASSWORD),
                ("hp_email", ""),
                ("next", wanted),
            ],
        )
        .await;
    assert_eq!(location(&resp), wanted);
}

#[tokio::test]
async fn next_is_only_ever_a_relative_path_on_this_site() {
    let app = spawn_app().await;
    for (i, evil) in [
        "//evil.example/inventory",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/inventory\r\nSet-Cookie: x=1",
        "evil.example",
    ]
    .iter()
    .enumerate()
    {
        let email = format!("n{i}@example.com");
        app.add_customer(&email, PASSWORD, "Acme Foods", false)
            .await;
        let b = app.other_browser();
        let resp = b
            .post_form(
                "/login",
                &[
                    ("email", &email),
                    ("password", PASSWORD),
                    ("hp_email", ""),
                    ("next", evil),
                ],
            )
            .await;
        assert_eq!(location(&resp), "/inventory", "{evil:?} was followed");
        let page = b
            .get(&format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(evil.as_bytes()).collect::<String>()
            ))
            .await;
        // Signed in now, so /login sends the browser home; never to the bad target.
        assert!(!location(&page).contains("evil"), "{evil:?}");
    }
    // Signed out, the page never carries an unsafe target into its form.
    let anon = app.other_browser();
    let html = anon
        .get("/login?next=%2F%2Fevil.example")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("evil.example"));
}

#[tokio::test]
async fn a_throttled_sign_in_says_when_to_retry() {
    let app = spawn_app().await;
    for _ in 0..10 {
        app.login("nobody@example.com", "wrong-password-123").await;
    }
    let resp = app.login("nobody@example.com", "wrong-password-123").await;
    assert_eq!(resp.status(), 429);
    let retry = resp.headers().get("retry-after").unwrap().to_str().unwrap();
    assert!(retry.parse::<u64>().unwrap() > 0);
}

#[tokio::test]
async fn sign_in_forms_larger_than_16_kb_are_refused_unread() {
    let app = spawn_app().await;
    let token = app.csrf_token().await;
    let padding = "x".repeat(20 * 1024);
    for path in ["/login", "/admin-login"] {
        let resp = app
            .client
            .post(app.url(path))
            .form(&[
                ("email", "a@example.com"),
                ("username", "cp_admin"),
                ("password", padding.as_str()),
                ("csrf_token", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 413, "{path}");
    }
    // An ordinary form still works.
    app.add_customer("small@example.com", PASSWORD, "Acme Foods", false)
        .await;
    assert_eq!(app.login("small@example.com", PASSWORD).await.status(), 303);
}

#[tokio::test]
async fn a_deep_link_survives_the_forced_password_change_too() {
    let app = spawn_app().await;
    // `true`: on a temporary password.
    app.add_customer("temp@example.com", PASSWORD, "Acme Foods", true)
        .await;
    let wanted = "/inventory?q=soap";
    let resp = app
        .post_form(
            "/login",
            &[
                ("email", "temp@example.com"),
                ("password", PASSWORD),
                ("hp_email", ""),
                ("next", wanted),
            ],
        )
        .await;
    let change = location(&resp);
    assert_eq!(
        change,
        "/force-change-password?next=%2Finventory%3Fq%3Dsoap"
    );
    let page = app.get(&change).await.text().await.unwrap();
    assert!(page.contains(r#"name="next""#));
    let done = app
        .post_form(
            "/force-change-password",
            &[
                ("new_password", "a-brand-new-password-2"),
                ("confirm_password", "a-brand-new-password-2"),
                ("next", wanted),
            ],
        )
        .await;
    assert_eq!(location(&done), wanted);
}
