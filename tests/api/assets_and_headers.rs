use crate::helpers::*;

#[tokio::test]
async fn responses_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/login", "/healthz", "/no-such-page"] {
        let resp = app.get(path).await;
        let h = resp.headers();
        let csp = h
            .get("content-security-policy")
            .expect("CSP")
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
                && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert!(
            h.get("referrer-policy").is_some(),
            "{path}: no Referrer-Policy"
        );
    }
    let login = app.get("/login").await;
    assert_eq!(login.headers().get("cache-control").unwrap(), "no-store");
    assert!(
        login
            .headers()
            .get_all("vary")
            .iter()
            .any(|v| v.to_str().unwrap().contains("HX-Request"))
    );
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style() {
    let app = spawn_app().await;
    let html = app.get("/login").await.text().await.unwrap();
    for tag in html.split("<script").skip(1) {
        let open = tag.split('>').next().unwrap();
        assert!(open.contains("src="), "inline <script>: {open}");
    }
    assert!(
        !html.contains("<style") && !html.contains(" style="),
        "inline styles break the CSP"
    );
    assert!(
        html.contains("data-theme-toggle"),
        "the theme toggle is on every page"
    );
}

#[tokio::test]
async fn cookies_are_secure_behind_https() {
    // Through a trusted proxy (loopback, by default) that says the request came over
    // https, as cloudflared does.
    let app = spawn_app_with(&[("APP_BASE_URL", "https://portal.example.com")], false).await;
    let resp = app
        .client
        .get(app.url("/login"))
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    let csrf = set_cookie_named(resp.headers(), "cp_csrf").unwrap();
    assert!(
        csrf.contains("Secure") && csrf.contains("HttpOnly") && csrf.contains("SameSite=Lax"),
        "{csrf}"
    );
    app.add_customer("jane@example.com", PASSWORD, "Acme Foods", false)
        .await;
    // reqwest keeps Secure cookies off plain http, so post the token by hand.
    let token = csrf
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("cp_csrf=")
        .to_owned();
    let login = new_client()
        .post(app.url("/login"))
        .header("X-Forwarded-Proto", "https")
        .header("Cookie", format!("cp_csrf={token}"))
        .form(&[
            ("email", "jane@example.com"),
            ("password", PASSWORD),
            ("hp_email", ""),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    let session = set_cookie_named(login.headers(), "cp_session").unwrap();
    assert!(
        session.contains("Secure") && session.contains("HttpOnly"),
        "{session}"
    );
}

#[tokio::test]
async fn assets_and_htmx_are_embedded_and_cacheable() {
    let app = spawn_app().await;
    let html = app.get("/login").await.text().await.unwrap();
    let htmx_src = html
        .split("src=\"")
        .map(|s| s.split('"').next().unwrap())
        .find(|s| s.starts_with("/htmx/htmx.min.js"))
        .unwrap()
        .to_owned();
    assert!(htmx_src.contains("?v="), "{htmx_src}");
    let resp = app.get(&htmx_src).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert!(
        resp.headers()
            .get("cache-control")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = resp.headers().get("etag").unwrap().clone();
    assert!(resp.text().await.unwrap().contains("htmx"));
    let again = app
        .client
        .get(app.url("/htmx/htmx.min.js"))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(app.get("/assets/css/portal.css").await.status(), 200);
    assert_eq!(app.get("/assets/nope.css").await.status(), 404);
}

/// Versioned assets are cached for a year by anyone (no cookie on them, which would keep
/// shared caches from storing them), and liveness polling sets no cookie either.
#[tokio::test]
async fn assets_and_liveness_set_no_cookie_and_versioned_assets_are_immutable() {
    let app = spawn_app().await;
    let html = app.get("/login").await.text().await.unwrap();
    let css = html
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap())
        .find(|s| s.starts_with("/assets/css/portal.css?v="))
        .unwrap()
        .replace("&amp;", "&");
    // A browser without any cookie yet, as a cache or a first visit is.
    let fresh = reqwest::Client::new();
    for path in [css.as_str(), "/healthz"] {
        let resp = fresh.get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        assert!(
            resp.headers().get("set-cookie").is_none(),
            "{path} set {:?}",
            resp.headers().get_all("set-cookie")
        );
        assert_eq!(
            resp.headers()["x-content-type-options"],
            "nosniff",
            "{path}: the security headers still apply"
        );
    }
    let resp = fresh.get(app.url(&css)).send().await.unwrap();
    assert_eq!(
        resp.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // An unversioned (or outdated) address is revalidated instead.
    let resp = fresh
        .get(app.url("/assets/css/portal.css?v=old"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["cache-control"],
        "public, max-age=300, must-revalidate"
    );
    // A page still hands out the CSRF cookie its forms need.
    let page = fresh.get(app.url("/login")).send().await.unwrap();
    assert!(page.headers().get("set-cookie").is_some());
}

#[tokio::test]
async fn healthz_reports_the_app_database() {
    let app = spawn_app().await;
    let resp = app.get("/healthz").await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["appDb"]["status"], "ok");
    assert_eq!(body["appDb"]["backend"], "sqlite");
}

#[tokio::test]
async fn unknown_pages_are_a_styled_404() {
    let app = spawn_app().await;
    let resp = app.get("/nope").await;
    assert_eq!(resp.status(), 404);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<html") && html.contains("Not found"));
}
