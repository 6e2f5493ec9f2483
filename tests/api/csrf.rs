use crate::helpers::*;

#[tokio::test]
async fn state_changing_requests_without_a_token_are_refused() {
    let app = spawn_app().await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    app.csrf_token().await; // the client now holds a genuine CSRF cookie

    let no_token = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("email", "jane@example.com"),
            ("password", PASSWORD),
            ("hp_email", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403);

    let wrong_token = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("email", "jane@example.com"),
            ("password", PASSWORD),
            ("hp_email", ""),
            ("csrf_token", "forged.value"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_token.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 0);

    // A fresh browser that never received the cookie cannot post either.
    let fresh = new_client();
    let token = app.csrf_token().await;
    let resp = fresh
        .post(app.url("/login"))
        .form(&[
            ("email", "jane@example.com"),
            ("password", PASSWORD),
            ("hp_email", ""),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        403,
        "a token without its cookie was accepted"
    );

    // Signed in, logout without a token is refused too, and the session survives.
    assert_eq!(app.login("jane@example.com", PASSWORD).await.status(), 303);
    let logout = app.client.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(logout.status(), 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 1);
}

#[tokio::test]
async fn the_header_token_works_for_htmx_style_requests() {
    let app = spawn_app().await;
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    app.login("jane@example.com", PASSWORD).await;
    let token = app.csrf_token().await;
    let resp = app
        .client
        .post(app.url("/logout"))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(app.count("SELECT COUNT(*) FROM ActiveSessions"), 0);
}

#[tokio::test]
async fn a_csrf_refusal_for_htmx_is_a_fragment_not_a_page() {
    let app = spawn_app().await;
    app.csrf_token().await;
    let resp = app
        .client
        .post(app.url("/logout"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body = resp.text().await.unwrap();
    assert!(!body.contains("<html"), "an htmx request got a whole page");
    assert!(body.contains("alert"));
}
