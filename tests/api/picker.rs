//! The Part and Bin pickers: a list longer than 50 options becomes a searchable combobox
//! whose options come from the server as the user types (cascading from the other
//! filters); a short list stays a plain select. Page and refreshes no longer carry
//! thousands of options.

use crate::helpers::*;

/// The values of the options in an `/inventory/options` answer (the "All" option first).
fn option_values(html: &str) -> Vec<String> {
    html.split("data-value=\"")
        .skip(1)
        .map(|s| {
            s.split('"')
                .next()
                .unwrap()
                .replace("&amp;", "&")
                .replace("&quot;", "\"")
        })
        .collect()
}

fn first_part(html: &str) -> String {
    let marker = r#"<td class="mono part" data-label="Part">"#;
    let at = html.find(marker).expect("a row") + marker.len();
    html[at..].split('<').next().unwrap().to_owned()
}

#[tokio::test]
async fn long_lists_become_pickers_that_search_on_the_server() {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "3000")], false).await;
    let b = app.customer_browser("All").await;
    let parts_in_scope = b
        .graphql("{ inventory(first: 1) { facets { partCount binCount statuses } } }")
        .await;
    let part_count = parts_in_scope["data"]["inventory"]["facets"]["partCount"]
        .as_i64()
        .unwrap();
    assert!(part_count > 50, "the demo has {part_count} parts");

    let page = b.get("/inventory").await.text().await.unwrap();
    assert!(
        page.contains(r#"id="inv-part" class="combo-input""#)
            && page.contains(r#"role="combobox""#)
            && page.contains(r#"aria-controls="inv-part-list""#),
        "Part is a combobox"
    );
    assert!(!page.contains(r#"<select id="inv-part""#));
    assert!(
        page.contains(r#"<select id="inv-status""#),
        "a short list stays a select"
    );
    assert!(
        page.matches("<option").count() <= 2 * 51 + 20,
        "{} options in the page",
        page.matches("<option").count()
    );

    // A filter's refresh carries no part options either.
    let grid = b
        .get_htmx("/inventory/grid?status=Available")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        grid.contains(r#"id="inv-part" class="combo-input""#) || !grid.contains("inv-controls")
    );
    assert!(grid.matches("<option").count() <= 2 * 51 + 20);

    // Typing narrows the options, on the server, case-insensitively.
    let part = first_part(&page);
    let term: String = part.chars().take(4).collect::<String>().to_lowercase();
    let resp = b
        .get_htmx(&format!(
            "/inventory/options?field=part&part_term={}",
            url_encode(&term)
        ))
        .await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains(r#"role="option""#));
    let values = option_values(&html);
    assert_eq!(values[0], "", "the first option is All parts");
    assert!(values.len() > 1 && values.len() <= 31, "{values:?}");
    for v in &values[1..] {
        assert!(
            v.to_lowercase().contains(&term),
            "{v} does not contain {term}"
        );
    }
    let whole = b
        .get_htmx(&format!(
            "/inventory/options?field=part&part_term={}",
            url_encode(&part)
        ))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(option_values(&whole)[1], part, "an exact match comes first");

    // Cascading: with a status chosen, only parts that have rows in that status.
    let allowed = b
        .graphql(
            "{ inventory(first: 1, filter: { status: \"Quarantined\" }) { facets { parts } } }",
        )
        .await;
    let allowed: Vec<String> = allowed["data"]["inventory"]["facets"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let narrowed = b
        .get_htmx("/inventory/options?field=part&part_term=&status=Quarantined")
        .await
        .text()
        .await
        .unwrap();
    let shown = option_values(&narrowed);
    assert!(shown.len() > 1);
    for v in &shown[1..] {
        assert!(allowed.contains(v), "{v} has no Quarantined row");
    }

    // Nothing matches: said so, and nothing to choose.
    let none = b
        .get_htmx("/inventory/options?field=part&part_term=zzzz-no-such-part")
        .await
        .text()
        .await
        .unwrap();
    assert!(none.contains("No parts match"));
    assert_eq!(option_values(&none), [""]);

    // Bins work the same way; anything else is refused.
    assert_eq!(
        b.get_htmx("/inventory/options?field=bin&bin_term=a")
            .await
            .status(),
        200
    );
    assert_eq!(
        b.get_htmx("/inventory/options?field=customer")
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn picker_options_stay_inside_the_account_and_need_a_sign_in() {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "3000")], false).await;
    let all = app.customer_browser("All").await;
    // A single-customer account sees only its own parts.
    let one_name: String = {
        let q = all
            .graphql("{ inventory(first: 1) { rows { customer } } }")
            .await;
        q["data"]["inventory"]["rows"][0]["customer"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let one = app.customer_browser(&one_name).await;
    let own = one
        .graphql("{ inventory(first: 1) { facets { parts } } }")
        .await;
    let own: Vec<String> = own["data"]["inventory"]["facets"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let shown = option_values(
        &one.get_htmx("/inventory/options?field=part&part_term=")
            .await
            .text()
            .await
            .unwrap(),
    );
    for v in &shown[1..] {
        assert!(own.contains(v), "{v} is another customer's part");
    }

    // Signed out: no options.
    let anon = app.other_browser();
    let resp = anon
        .get_htmx("/inventory/options?field=part&part_term=a")
        .await;
    assert!(
        resp.status() == 401 || resp.status() == 303 || resp.status() == 302,
        "{}",
        resp.status()
    );
    assert!(!resp.text().await.unwrap().contains("role=\"option\""));
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
