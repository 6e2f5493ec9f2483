//! Inventory history at scale: `cargo bench --bench history_scale`.
//!
//! Starts the real portal in this process on the demo ERP (`BENCH_ROWS`, default 200,000
//! rows), then measures: one day's capture of the whole scope (the background work: the
//! snapshot the grid already holds, summed and written), two years of days for
//! `BENCH_HISTORY_PARTS` parts (default 2,000) written into the app database, the table's size per year, and, over loopback HTTP as a
//! signed-in `All` customer, the history page of one part and of the whole scope, the same
//! through GraphQL, and the first grid page that needs the scope's forecasts. Results are
//! printed as a Markdown table for docs/benchmarks.md.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use customer_portal::config::Config;
use customer_portal::history::capture;
use customer_portal::startup::Application;
use customer_portal::store::{CustomerDay, DayFigures, PartDay};
use time::OffsetDateTime;

#[path = "common/mod.rs"]
mod common;

const PASSWORD: &str = "bench-password-123";
const YEARS_OF_DAYS: i64 = 730;
const SAMPLES: usize = 30;

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn p50_p95(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.95))
}

fn file_size(path: &std::path::Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|s| {
            std::fs::metadata(format!("{}{s}", path.display()))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .sum()
}

async fn time_get(client: &reqwest::Client, base: &str, path: &str) -> (Duration, Duration) {
    let mut v = Vec::new();
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let resp = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        resp.bytes().await.unwrap();
        v.push(started.elapsed());
    }
    p50_p95(v)
}

async fn time_graphql(
    tool: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
) -> (Duration, Duration) {
    let mut v = Vec::new();
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let body: serde_json::Value = tool
            .post(format!("{base}/graphql"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(body["errors"].is_null(), "{body}");
        v.push(started.elapsed());
    }
    p50_p95(v)
}

#[tokio::main]
async fn main() {
    let rows = common::env_num("BENCH_ROWS", 200_000);
    let dir = tempfile::tempdir().unwrap();
    let vars: HashMap<String, String> = common::vars(&[
        ("PORT", "0"),
        ("DATA_DIR", &dir.path().display().to_string()),
        ("DEMO_ERP_ROWS", &rows.to_string()),
        ("ERP_CACHE_SECONDS", "3600"),
        // Keeps the background look from recording today while the bench measures.
        ("HISTORY_HOUR", "23"),
        ("PORTAL_TIMEZONE", "UTC"),
    ]);
    let mut config = Config::from_vars(&vars).unwrap();
    config.seed_demo_accounts = false;
    let app = Application::build(config).await.unwrap();
    let state = app.state().clone();
    common::add_customer(
        &state.store,
        "bench@example.com",
        &werkzeug_hash::generate(PASSWORD),
        "All",
    )
    .await;
    let token = common::inventory_token(&state, "bench", Some(100_000_000)).await;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let db = dir.path().join("portal.db");
    let mut table: Vec<(String, String)> = Vec::new();

    // The snapshot the grid uses, read once (the capture reads it from the cache).
    let grant = customer_portal::auth::access::capture_grant();
    let started = Instant::now();
    let (snapshot, _) = state.inventory.current(&grant).await.unwrap();
    table.push((
        format!(
            "ERP read + index, {} rows (not part of a capture)",
            snapshot.rows.len()
        ),
        ms(started.elapsed()),
    ));
    let today = OffsetDateTime::now_utc().date();

    // One day's capture, three times (three past days), median.
    let mut captures = Vec::new();
    let mut parts = 0;
    for n in 1..=3 {
        let day = today - time::Duration::days(YEARS_OF_DAYS + n);
        let started = Instant::now();
        parts = state
            .history
            .capture(day, OffsetDateTime::now_utc())
            .await
            .unwrap()
            .expect("the day is claimed");
        captures.push(started.elapsed());
    }
    let (capture_p50, _) = p50_p95(captures.clone());
    table.push((
        format!(
            "capture of one day: {} rows → {parts} parts (median of 3)",
            snapshot.rows.len()
        ),
        ms(capture_p50),
    ));

    // Two years of `BENCH_HISTORY_PARTS` parts (default 2,000: about 1.5 million rows),
    // written as the demo writes its days.
    let mut summary = capture::summarize(&snapshot.rows, today);
    let keep = common::env_num("BENCH_HISTORY_PARTS", 2_000) as usize;
    summary.parts.truncate(keep);
    let kept: std::collections::BTreeSet<&str> = summary
        .parts
        .iter()
        .map(|p| p.erp_customer_name.as_str())
        .collect();
    summary
        .totals
        .retain(|t| kept.contains(t.erp_customer_name.as_str()));
    let before = file_size(&db);
    let started = Instant::now();
    let mut written = 0usize;
    for n in 1..=YEARS_OF_DAYS {
        let day = today - time::Duration::days(n);
        let wobble = (n % 17) as f64;
        let part_days: Vec<PartDay> = summary
            .parts
            .iter()
            .map(|p| PartDay {
                day,
                figures: DayFigures {
                    on_hand: p.figures.on_hand + wobble,
                    ..p.figures
                },
                ..p.clone()
            })
            .collect();
        let totals: Vec<CustomerDay> = summary
            .totals
            .iter()
            .map(|t| CustomerDay { day, ..t.clone() })
            .collect();
        written += part_days.len();
        state
            .store
            .insert_demo_history(&part_days, &totals)
            .await
            .unwrap();
    }
    let seeded = started.elapsed();
    let after = file_size(&db);
    table.push((
        format!(
            "writing {written} part-days (two years × {} parts)",
            summary.parts.len()
        ),
        format!(
            "{:.1} s ({:.0} rows/s)",
            seeded.as_secs_f64(),
            written as f64 / seeded.as_secs_f64()
        ),
    ));
    let per_row = (after - before) as f64 / written as f64;
    table.push((
        "app database growth per year of history (SQLite, with indexes)".into(),
        format!(
            "{:.0} MiB ({per_row:.0} bytes a part-day)",
            (after - before) as f64 / 2.0 / 1024.0 / 1024.0
        ),
    ));

    // The scope's forecasts, cold: every part's last 29 days read and worked out (what
    // the first grid page with Days of Cover, or a part's outlook, waits for once).
    let started = Instant::now();
    let made = state
        .history
        .forecasts(&customer_portal::domain::ErpScope::All, None)
        .await
        .unwrap();
    table.push((
        format!("forecasts of the whole scope, cold ({} parts)", made.len()),
        ms(started.elapsed()),
    ));
    state.history.forget_forecasts();

    // A signed-in customer's browser.
    let (client, _) = common::signed_in_browser(&base, "bench@example.com", PASSWORD).await;
    let page = client
        .get(format!("{base}/inventory"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("inv-count"), "the grid");
    let part = summary.parts[summary.parts.len() / 2].part.clone();
    let encoded: String = url::form_urlencoded::byte_serialize(part.as_bytes()).collect();

    // A tool's plain client with the token (pages of up to 5,000 days).
    let tool = reqwest::Client::new();
    let from = (today - time::Duration::days(YEARS_OF_DAYS)).to_string();
    let to = today.to_string();
    let rows_of = [
        (
            "history page, one part, 365 days (`/inventory/history?part=…&days=365`)".to_owned(),
            time_get(&client, &base, &format!("/inventory/history?part={encoded}&days=365")).await,
        ),
        (
            "history page, whole scope, 365 days".to_owned(),
            time_get(&client, &base, "/inventory/history?days=365").await,
        ),
        (
            "GraphQL `inventoryHistory`, one part, two years (731 days)".to_owned(),
            time_graphql(&tool, &base, &token, &format!(
                r#"{{ inventoryHistory(part: "{part}", from: "{from}", to: "{to}", first: 1000) {{ nextCursor days {{ day onHand }} }} }}"#
            ))
            .await,
        ),
        (
            "GraphQL `inventoryHistoryTotals`, whole scope, two years".to_owned(),
            time_graphql(&tool, &base, &token, &format!(
                r#"{{ inventoryHistoryTotals(from: "{from}", to: "{to}") {{ day onHand }} }}"#
            ))
            .await,
        ),
    ];
    for (what, (p50, p95)) in rows_of {
        table.push((what, format!("p50 {} · p95 {}", ms(p50), ms(p95))));
    }

    // The scope's forecasts, made once and then kept: the first grid page sorted by days
    // of cover pays for them.
    let started = Instant::now();
    let resp = client
        .get(format!("{base}/inventory?sort=daysOfCover&dir=asc"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
    table.push((
        "first grid page sorted by Days of Cover (after the pages above)".to_owned(),
        ms(started.elapsed()),
    ));
    let (p50, _) = time_get(&client, &base, "/inventory?sort=daysOfCover&dir=asc").await;
    table.push((
        "the same, forecasts kept".into(),
        format!("p50 {}", ms(p50)),
    ));

    println!("| measure | result |\n|---|---|");
    for (what, result) in table {
        println!("| {what} | {result} |");
    }
}
