use crate::helpers::*;

#[tokio::test]
async fn viewer_says_who_is_asking() {
    let app = spawn_app().await;
    let anon = app
        .graphql("{ viewer { kind displayName customer { email } } }")
        .await;
    assert_eq!(anon["data"]["viewer"]["kind"], "ANONYMOUS");
    assert!(anon["data"]["viewer"]["customer"].is_null());

    app.add_customer(
        "jane@example.com",
        PASSWORD,
        "Acme Foods|Café Münster GmbH",
        false,
    )
    .await;
    app.login("jane@example.com", PASSWORD).await;
    let me = app.graphql("{ viewer { kind displayName mustChangePassword customer { email erpCustomerNames isActive lastLoginDate } } }").await;
    let v = &me["data"]["viewer"];
    assert_eq!(v["kind"], "CUSTOMER");
    assert_eq!(v["displayName"], "Pat Tester");
    assert_eq!(v["mustChangePassword"], false);
    assert_eq!(v["customer"]["email"], "jane@example.com");
    assert_eq!(
        v["customer"]["erpCustomerNames"],
        serde_json::json!(["Acme Foods", "Café Münster GmbH"])
    );
    assert!(
        v["customer"]["lastLoginDate"]
            .as_str()
            .unwrap()
            .contains('T'),
        "dates are ISO 8601"
    );
}

#[tokio::test]
async fn graphql_accepts_only_json_posts_with_csrf() {
    let app = spawn_app().await;
    let token = app.csrf_token().await;
    let get = app
        .client
        .get(app.url("/graphql?query=%7Bviewer%7Bkind%7D%7D"))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    let text = app
        .client
        .post(app.url("/graphql"))
        .header("X-CSRF-Token", &token)
        .header("Content-Type", "text/plain")
        .body(r#"{"query":"{ viewer { kind } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 415);
    let form = app
        .client
        .post(app.url("/graphql"))
        .header("X-CSRF-Token", &token)
        .form(&[("query", "{ viewer { kind } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let no_csrf = app
        .client
        .post(app.url("/graphql"))
        .json(&serde_json::json!({"query": "{ viewer { kind } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    let bad = app
        .client
        .post(app.url("/graphql"))
        .header("X-CSRF-Token", &token)
        .header("Content-Type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn an_unknown_bearer_token_gets_nothing() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth("not-a-real-token")
        .json(&serde_json::json!({"query": "{ viewer { kind } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn committed_schema_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    let current = customer_portal::graphql::sdl();
    assert!(
        committed == current,
        "schema.graphql is stale: run `cargo run -- print-schema > schema.graphql` and commit it"
    );
}
