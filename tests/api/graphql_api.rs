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

/// `(status, code of the first error, content type)` of a raw `/graphql` answer; panics
/// unless the body is GraphQL JSON.
async fn graphql_answer(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body: serde_json::Value = resp
        .json()
        .await
        .unwrap_or_else(|e| panic!("status {status}: not JSON ({e})"));
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code: {body}"))
        .to_owned();
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    (status, code, ct)
}

#[tokio::test]
async fn every_graphql_answer_is_graphql_json() {
    let app = spawn_app().await;
    let token = app.csrf_token().await;
    let url = app.url("/graphql");
    let get = app
        .client
        .get(app.url("/graphql?query=%7Bviewer%7Bkind%7D%7D"))
        .send()
        .await
        .unwrap();
    assert_eq!(graphql_answer(get).await.0, 405);
    let text = app
        .client
        .post(&url)
        .header("Content-Type", "text/plain")
        .header("X-CSRF-Token", &token)
        .body("{ viewer { kind } }")
        .send()
        .await
        .unwrap();
    let (status, code, _) = graphql_answer(text).await;
    assert_eq!((status, code.as_str()), (415, "UNSUPPORTED_MEDIA_TYPE"));
    let no_csrf = app
        .client
        .post(&url)
        .json(&serde_json::json!({ "query": "{ viewer { kind } }" }))
        .send()
        .await
        .unwrap();
    let (status, code, _) = graphql_answer(no_csrf).await;
    assert_eq!((status, code.as_str()), (403, "FORBIDDEN"));
    let huge = format!("{{ viewer {{ kind }} }} #{}", "x".repeat(40 * 1024));
    let too_big = app
        .client
        .post(&url)
        .header("X-CSRF-Token", &token)
        .json(&serde_json::json!({ "query": huge }))
        .send()
        .await
        .unwrap();
    assert_eq!(graphql_answer(too_big).await.0, 413);
}

#[tokio::test]
async fn parse_and_validation_errors_have_codes_and_no_suggestions() {
    let app = spawn_app().await;
    let token = app.csrf_token().await;
    let post = |query: &str, accept: &str| {
        app.client
            .post(app.url("/graphql"))
            .header("X-CSRF-Token", &token)
            .header("Accept", accept)
            .json(&serde_json::json!({ "query": query }))
            .send()
    };
    let (status, code, _) =
        graphql_answer(post("{ viewer {", "application/json").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (200, "GRAPHQL_PARSE_FAILED"));
    let (status, code, ct) = graphql_answer(
        post("{ viewer {", "application/graphql-response+json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "GRAPHQL_PARSE_FAILED"));
    assert!(ct.starts_with("application/graphql-response+json"), "{ct}");
    let typo = post("{ viewr { kind } }", "application/json")
        .await
        .unwrap();
    let body = typo.text().await.unwrap();
    assert!(body.contains("GRAPHQL_VALIDATION_FAILED"), "{body}");
    assert!(
        !body.contains("Did you mean"),
        "suggestions describe the schema: {body}"
    );
}

#[tokio::test]
async fn introspection_is_for_admins_only() {
    let app = spawn_app().await;
    let anon = app
        .graphql("{ __schema { mutationType { fields { name } } } }")
        .await;
    assert!(
        anon["data"].is_null() || anon["data"]["__schema"].is_null(),
        "{anon}"
    );
    assert!(!anon.to_string().contains("createCustomer"), "{anon}");
    let customer = app.customer_browser("Acme Foods").await;
    let c = customer
        .graphql("{ __schema { queryType { name } } }")
        .await;
    assert!(!c.to_string().contains("\"Query\""), "{c}");
    let admin_app = crate::admin::admin_app(&[]).await;
    let admin = crate::admin::admin_browser(&admin_app).await;
    let a = admin
        .graphql("{ __schema { mutationType { fields { name } } } }")
        .await;
    assert!(a.to_string().contains("createCustomer"), "{a}");
}
