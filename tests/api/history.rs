//! Inventory over time, with the clock moved by hand: two instances record each day once
//! at the configured hour (also across daylight-saving changes), a day nobody recorded
//! stays a gap, a part that leaves and comes back is recorded as it was, old days are
//! pruned in batches, and the history and forecasts stay inside the caller's scope on
//! the page, over GraphQL and for tokens.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use customer_portal::domain::{ErpScope, Zone};
use customer_portal::erp::{ErpError, ErpSource, InventoryRow};
use customer_portal::history::{History, Settings, capture};
use customer_portal::inventory::InventoryService;
use customer_portal::inventory::rows::Rows;
use customer_portal::reports::ManualClock;
use customer_portal::store::sqlite::SqliteStore;
use customer_portal::store::*;
use serde_json::json;
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};

use crate::admin::{ADMIN_PW, admin_browser};
use crate::api_tokens::{bearer_vars, create};
use crate::expiry::lot;
use crate::helpers::*;

/// An ERP whose rows the test changes from day to day.
#[derive(Default)]
struct MovingErp(Mutex<Vec<InventoryRow>>);

impl MovingErp {
    fn set(&self, rows: Vec<InventoryRow>) {
        *self.0.lock().unwrap() = rows;
    }
}

#[async_trait]
impl ErpSource for MovingErp {
    fn name(&self) -> &'static str {
        "moving"
    }
    async fn inventory_rows(&self, scope: &ErpScope) -> Result<Vec<InventoryRow>, ErpError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|r| match scope {
                ErpScope::All => true,
                ErpScope::Customers(names) => names.contains(&r.customer),
                ErpScope::Nothing => false,
            })
            .cloned()
            .collect())
    }
    async fn customer_names(&self) -> Result<Vec<String>, ErpError> {
        let mut names: Vec<String> = self
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.customer.clone())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
    async fn ping(&self) -> Result<(), ErpError> {
        Ok(())
    }
}

/// One instance's history service over `store`, reading `erp` live.
fn instance(
    store: Arc<dyn AppStore>,
    erp: Arc<MovingErp>,
    clock: &ManualClock,
    zone: Zone,
    owner: &str,
    settings: Settings,
) -> History {
    let inventory = Arc::new(InventoryService::new(
        erp,
        std::time::Duration::ZERO,
        std::time::Duration::from_secs(10),
        std::time::Duration::from_secs(10),
    ));
    History::new(
        store,
        inventory,
        zone,
        Arc::new(clock.clone()),
        owner.to_owned(),
        settings,
    )
}

async fn open(path: &std::path::Path, zone: &Zone) -> Arc<dyn AppStore> {
    Arc::new(SqliteStore::open(path, zone.clone()).await.unwrap())
}

/// Day `n`'s rows: A-1 falls by 10 a day; A-2 is on hand except on days 3 and 4.
fn rows_of_day(n: i64) -> Vec<InventoryRow> {
    let mut rows = vec![
        lot("Acme Foods", "A-1", "L1", 500.0 - 10.0 * n as f64, None),
        lot("Pure Water", "W-1", "W1", 40.0, None),
    ];
    if !(3..=4).contains(&n) {
        rows.push(lot("Acme Foods", "A-2", "L2", 7.0, None));
    }
    rows
}

/// Every recorded (customer, part) → its days.
async fn recorded(
    store: &dyn AppStore,
    from: Date,
    to: Date,
) -> BTreeMap<(String, String), Vec<Date>> {
    let rows = store
        .part_history(None, None, from, to, None, 100_000)
        .await
        .unwrap();
    let mut out: BTreeMap<(String, String), Vec<Date>> = BTreeMap::new();
    for r in rows {
        out.entry((r.erp_customer_name, r.part))
            .or_default()
            .push(r.day);
    }
    out
}

fn days(from: Date, ns: &[i64]) -> Vec<Date> {
    ns.iter().map(|n| from + Duration::days(*n)).collect()
}

#[tokio::test]
async fn two_instances_record_each_day_once_and_a_missed_day_stays_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.db");
    let zone = Zone::utc();
    let (sa, sb) = (open(&path, &zone).await, open(&path, &zone).await);
    let erp = Arc::new(MovingErp::default());
    let first = date!(2026 - 11 - 01);
    let clock = ManualClock::new(first.midnight().assume_utc());
    let settings = Settings {
        hour: 2,
        ..Settings::default()
    };
    let a = instance(sa.clone(), erp.clone(), &clock, zone.clone(), "a", settings);
    let b = instance(sb.clone(), erp.clone(), &clock, zone.clone(), "b", settings);

    // Three weeks.
    for n in 0..21 {
        let day = first + Duration::days(n);
        erp.set(rows_of_day(n));
        if n == 5 {
            // Both instances are down all day.
            continue;
        }
        if n == 6 {
            // Back late in the evening: the day is still recorded, once.
            clock.set(day.with_hms(23, 0, 0).unwrap().assume_utc());
            let (la, lb) = tokio::join!(a.look(), b.look());
            assert_eq!(
                [la.captured, lb.captured].iter().flatten().count(),
                1,
                "day {n}"
            );
            continue;
        }
        // Before the hour nobody records.
        clock.set(day.with_hms(1, 59, 0).unwrap().assume_utc());
        let (la, lb) = tokio::join!(a.look(), b.look());
        assert!(
            la.captured.is_none() && lb.captured.is_none(),
            "day {n} before the hour"
        );
        // At the hour exactly one instance does, whichever looks first.
        clock.set(day.with_hms(2, 0, 30).unwrap().assume_utc());
        let (la, lb) = tokio::join!(a.look(), b.look());
        let captured: Vec<_> = [la.captured, lb.captured].into_iter().flatten().collect();
        assert_eq!(captured.len(), 1, "day {n}: {captured:?}");
        assert_eq!(captured[0].0, day);
        // Later looks that day find it done.
        clock.set(day.with_hms(14, 0, 0).unwrap().assume_utc());
        let (la, lb) = tokio::join!(a.look(), b.look());
        assert!(
            la.captured.is_none() && lb.captured.is_none(),
            "day {n} twice"
        );
    }

    let last = first + Duration::days(20);
    let got = recorded(sa.as_ref(), first, last).await;
    let but_5: Vec<i64> = (0..21).filter(|n| *n != 5).collect();
    let every_day_but_5 = days(first, &but_5);
    assert_eq!(got[&("Acme Foods".into(), "A-1".into())], every_day_but_5);
    assert_eq!(got[&("Pure Water".into(), "W-1".into())], every_day_but_5);
    assert_eq!(
        got[&("Acme Foods".into(), "A-2".into())],
        days(
            first,
            &(0..21)
                .filter(|n| ![3, 4, 5].contains(n))
                .collect::<Vec<_>>()
        ),
        "the part is recorded while on hand, not while gone"
    );
    // The quantities are the ERP's of that day.
    let a1 = sa
        .part_history(None, Some("A-1"), first, last, None, 100)
        .await
        .unwrap();
    for d in &a1 {
        let n = (d.day - first).whole_days();
        assert_eq!(d.figures.on_hand, 500.0 - 10.0 * n as f64);
        assert!(!d.demo);
    }
    // One finished capture per recorded day, nothing for the missed one.
    let db = rusqlite::Connection::open(&path).unwrap();
    let captures: Vec<String> = db
        .prepare("SELECT day FROM HistoryCaptures WHERE finished_at IS NOT NULL ORDER BY day")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(captures.len(), 20, "{captures:?}");
    assert!(!captures.iter().any(|c| c.starts_with("2026-11-06")));
    let totals = sa.customer_history(None, first, last).await.unwrap();
    assert_eq!(totals.len(), 20 * 2, "two customers, twenty days");
    assert!(!totals.iter().any(|t| t.day == first + Duration::days(5)));
}

#[tokio::test]
async fn the_hour_is_the_portals_own_across_daylight_saving_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.db");
    let zone = Zone::parse("America/Chicago").unwrap();
    let (sa, sb) = (open(&path, &zone).await, open(&path, &zone).await);
    let erp = Arc::new(MovingErp::default());
    erp.set(rows_of_day(0));
    let clock = ManualClock::new(datetime!(2026-03-07 06:00 UTC));
    let settings = Settings {
        hour: 1,
        ..Settings::default()
    };
    let a = instance(sa.clone(), erp.clone(), &clock, zone.clone(), "a", settings);
    let b = instance(sb.clone(), erp.clone(), &clock, zone.clone(), "b", settings);

    // Both changes of 2026: clocks go forward on 8 March and back on 1 November (the
    // hour from 1:00 to 2:00 happens twice). Look every quarter hour for four days from
    // local midnight.
    for start in [
        datetime!(2026-03-07 06:00 UTC),
        datetime!(2026-10-31 05:00 UTC),
    ] {
        let mut at = start;
        let mut captured_at: Vec<(Date, OffsetDateTime)> = Vec::new();
        while at < start + Duration::days(4) {
            clock.set(at);
            let (la, lb) = tokio::join!(a.look(), b.look());
            for c in [la.captured, lb.captured].into_iter().flatten() {
                captured_at.push((c.0, at));
            }
            at += Duration::minutes(15);
        }
        let local_days: Vec<Date> = captured_at.iter().map(|(d, _)| *d).collect();
        let first = zone.at(start).date();
        assert_eq!(zone.at(start).hour(), 0);
        assert_eq!(
            local_days,
            days(first, &[0, 1, 2, 3]),
            "one record per local day: {captured_at:?}"
        );
        for (day, at) in &captured_at {
            let local = zone.at(*at);
            assert_eq!(local.date(), *day);
            assert_eq!(local.hour(), 1, "at the portal's 1 a.m.: {local}");
        }
    }
    let all = recorded(sa.as_ref(), date!(2026 - 01 - 01), date!(2026 - 12 - 31)).await;
    assert_eq!(all[&("Acme Foods".into(), "A-1".into())].len(), 8);
}

#[tokio::test]
async fn old_days_are_pruned_in_batches_and_recent_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.db");
    let zone = Zone::utc();
    let store = open(&path, &zone).await;
    let today = date!(2026 - 12 - 01);
    // 150 parts over 100 days: 15,000 part rows, more than one batch.
    let mut parts = Vec::new();
    let mut totals = Vec::new();
    for n in 1..=100 {
        let day = today - Duration::days(n);
        let rows: Vec<InventoryRow> = (0..150)
            .map(|p| lot("Acme Foods", &format!("P-{p:03}"), "L", 10.0, None))
            .collect();
        let s = capture::summarize(&Rows::from_rows(&rows), day);
        parts.extend(s.parts);
        totals.extend(s.totals);
    }
    store.insert_demo_history(&parts, &totals).await.unwrap();
    let erp = Arc::new(MovingErp::default());
    erp.set(rows_of_day(0));
    // Before the day's hour: the look only prunes.
    let clock = ManualClock::new(today.midnight().assume_utc());
    let settings = Settings {
        hour: 23,
        retention_days: 30,
        ..Settings::default()
    };
    let h = instance(store.clone(), erp, &clock, zone, "a", settings);
    let look = h.look().await;
    assert!(look.captured.is_none());
    // Kept: the 30 days back from today (days 1..=30); 70 days × 150 parts went.
    assert_eq!(look.pruned, 70 * 150);
    let left = recorded(store.as_ref(), today - Duration::days(200), today).await;
    let kept: BTreeSet<Date> = left.values().flatten().copied().collect();
    assert_eq!(kept.len(), 30);
    assert!(kept.iter().all(|d| *d >= today - Duration::days(30)));
    let totals = store
        .customer_history(None, today - Duration::days(200), today)
        .await
        .unwrap();
    assert_eq!(totals.len(), 30, "the totals of pruned days went too");
    // A second look has nothing to do, and pruning runs once a day: an old row that
    // appears later the same day waits for the next day's look.
    assert_eq!(h.look().await.pruned, 0);
    let late = capture::summarize(
        &Rows::from_rows(&[lot("Acme Foods", "LATE", "L", 1.0, None)]),
        today - Duration::days(100),
    );
    store.insert_demo_history(&late.parts, &[]).await.unwrap();
    assert_eq!(h.look().await.pruned, 0, "pruned once today already");
    clock.set((today + Duration::days(1)).midnight().assume_utc());
    assert_eq!(
        h.look().await.pruned,
        1 + 150,
        "the late row, and the day that left the 30 days"
    );
}

/// Writes `rows` as the record of `day`, as a capture would.
pub async fn record(store: &dyn AppStore, day: Date, rows: &[InventoryRow]) {
    let now = OffsetDateTime::now_utc();
    assert!(
        store
            .claim_history_day(day, "test", now, now + Duration::minutes(5))
            .await
            .unwrap()
    );
    let s = capture::summarize(&Rows::from_rows(rows), day);
    assert!(
        store
            .finish_history_day(day, "test", &s.parts, &s.totals, now)
            .await
            .unwrap()
    );
}

/// An app whose ERP has two customers, with 20 recorded days ending yesterday (UTC): Acme's
/// A-1 falls by 10 a day from 400, Pure Water's W-1 by 1 a day from 40.
async fn app_with_history() -> (TestApp, Date) {
    let today = OffsetDateTime::now_utc().date();
    let erp = Arc::new(MovingErp::default());
    erp.set(vec![
        lot("Acme Foods", "A-1", "L1", 200.0, None),
        lot("Pure Water", "W-1", "W1", 20.0, None),
    ]);
    let hash = cheap_hash(ADMIN_PW);
    let app = spawn_with_erp(
        erp,
        &[
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &hash),
        ],
    )
    .await;
    let store = app.store();
    for n in 0..20 {
        let day = today - Duration::days(20 - n);
        record(
            store.as_ref(),
            day,
            &[
                lot("Acme Foods", "A-1", "L1", 400.0 - 10.0 * n as f64, None),
                lot("Pure Water", "W-1", "W1", 40.0 - n as f64, None),
            ],
        )
        .await;
    }
    (app, today)
}

const HISTORY: &str = "query($part: String, $names: [String!], $from: Date, $to: Date, $first: Int, $after: String) {
  inventoryHistory(part: $part, erpCustomerNames: $names, from: $from, to: $to, first: $first, after: $after) {
    nextCursor days { customer part day onHand demo }
  }
}";

const TOTALS: &str = "query($names: [String!], $from: Date, $to: Date) {
  inventoryHistoryTotals(erpCustomerNames: $names, from: $from, to: $to) { day onHand parts }
}";

const FORECAST: &str = "{ inventory(first: 10) { rows { customer part forecast { status historyDays dailyUse daysOfCover runsOutOn } } } }";

fn customers_in(v: &serde_json::Value) -> BTreeSet<String> {
    v["data"]["inventoryHistory"]["days"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|d| d["customer"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn history_and_forecasts_stay_inside_the_scope_for_browsers_and_tokens() {
    let (app, today) = app_with_history().await;
    let from = (today - Duration::days(40)).to_string();
    let to = today.to_string();
    let vars =
        |names: serde_json::Value| json!({ "names": names, "from": from, "to": to, "first": 500 });

    // A customer sees its own days, and nothing of another customer however it asks.
    let acme = app.customer_browser("Acme Foods").await;
    let own = acme.graphql_vars(HISTORY, vars(json!(null))).await;
    assert_eq!(
        customers_in(&own),
        BTreeSet::from(["Acme Foods".to_owned()])
    );
    assert_eq!(
        own["data"]["inventoryHistory"]["days"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let other = acme
        .graphql_vars(HISTORY, vars(json!(["Pure Water"])))
        .await;
    assert!(
        other["data"]["inventoryHistory"]["days"]
            .as_array()
            .is_none_or(|d| d.is_empty()),
        "{other}"
    );
    let totals = acme
        .graphql_vars(
            TOTALS,
            json!({ "names": ["Pure Water"], "from": from, "to": to }),
        )
        .await;
    assert!(
        totals["data"]["inventoryHistoryTotals"]
            .as_array()
            .is_none_or(|d| d.is_empty()),
        "{totals}"
    );
    let totals = acme
        .graphql_vars(TOTALS, json!({ "from": from, "to": to }))
        .await;
    let t = totals["data"]["inventoryHistoryTotals"].as_array().unwrap();
    assert_eq!(t.len(), 20);
    assert_eq!(t[0]["onHand"], 400.0, "Acme's total only");

    // Its forecast: 10 a day from 210 on hand yesterday (the ERP says 200 today; the
    // forecast works from the recorded days).
    let f = acme.graphql(FORECAST).await;
    let rows = f["data"]["inventory"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{f}");
    let fc = &rows[0]["forecast"];
    assert_eq!(fc["status"], "FALLING", "{f}");
    assert_eq!(fc["dailyUse"], 10.0);
    assert_eq!(fc["historyDays"], 19);

    // The page and its CSV: Acme's part only; asking for another's part shows nothing.
    let page = acme.get("/inventory/history?part=A-1&days=30").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("History of A-1"));
    assert!(
        html.contains("400"),
        "the recorded figures are in the table"
    );
    let csv = acme
        .get("/inventory/history.csv?part=A-1&days=30")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.lines().count() >= 21, "{csv}");
    let theirs = acme
        .get("/inventory/history.csv?part=W-1&days=30")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !theirs.contains(",40") && !theirs.contains(",39"),
        "another customer's figures: {theirs}"
    );
    let all = acme
        .get("/inventory/history?days=30")
        .await
        .text()
        .await
        .unwrap();
    assert!(!all.contains("Pure Water"));

    // A token sees its ERP customers only, needs inventory:read, and is paged by key.
    let admin = admin_browser(&app).await;
    let (pure, _) = create(
        &admin,
        json!({ "name": "pure", "scopes": ["inventory:read"], "erpCustomerNames": ["Pure Water"] }),
    )
    .await;
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    for _ in 0..10 {
        let mut v = vars(json!(["Acme Foods", "Pure Water"]));
        v["first"] = json!(7);
        v["after"] = after.clone();
        let page = bearer_vars(&app, &pure, HISTORY, v).await;
        assert_eq!(
            customers_in(&page),
            BTreeSet::from(["Pure Water".to_owned()]),
            "{page}"
        );
        let days = page["data"]["inventoryHistory"]["days"].as_array().unwrap();
        assert!(days.len() <= 7);
        seen.extend(days.iter().map(|d| d["day"].as_str().unwrap().to_owned()));
        after = page["data"]["inventoryHistory"]["nextCursor"].clone();
        if after.is_null() {
            break;
        }
    }
    assert_eq!(seen.len(), 20, "every day once over the pages: {seen:?}");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "in day order, no repeats");
    // A cursor is the query's own: another part or range refuses it.
    let mut v = vars(json!(null));
    v["first"] = json!(7);
    let p1 = bearer_vars(&app, &pure, HISTORY, v.clone()).await;
    v["after"] = p1["data"]["inventoryHistory"]["nextCursor"].clone();
    v["part"] = json!("A-1");
    let refused = bearer_vars(&app, &pure, HISTORY, v).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused}"
    );
    // History days are charged by the cost rule like rows, however they are spelled.
    let charged = bearer_vars(
        &app,
        &pure,
        "{ a: inventoryHistory(first: 7) { days { day } } b: inventoryHistory(first: 7) { ...F } } \
         fragment F on HistoryDayPage { x: days { day } y: days { ... on HistoryDay { day } } }",
        json!({}),
    )
    .await;
    assert!(charged["errors"].is_null(), "{charged}");
    assert_eq!(charged["extensions"]["cost"]["rows"], 21, "{charged}");
    // Without inventory:read, nothing.
    let (auditor, _) = create(&admin, json!({ "name": "audit", "scopes": ["audit:read"] })).await;
    let refused = bearer_vars(&app, &auditor, HISTORY, vars(json!(null))).await;
    assert!(
        refused["data"].is_null() || refused["data"]["inventoryHistory"].is_null(),
        "{refused}"
    );
    assert!(
        refused["errors"][0]["extensions"]["code"].is_string(),
        "{refused}"
    );
}

#[tokio::test]
async fn a_day_the_part_was_gone_is_zero_and_a_day_nobody_recorded_is_a_gap() {
    let today = OffsetDateTime::now_utc().date();
    let erp = Arc::new(MovingErp::default());
    erp.set(vec![lot("Acme Foods", "A-1", "L1", 5.0, None)]);
    let app = spawn_with_erp(erp, &[]).await;
    let store = app.store();
    let day = |n: i64| today - Duration::days(n);
    let with_part = [
        lot("Acme Foods", "A-1", "L1", 5.0, None),
        lot("Acme Foods", "B-1", "LB", 9.0, None),
    ];
    let without_part = [lot("Acme Foods", "B-1", "LB", 9.0, None)];
    record(store.as_ref(), day(4), &with_part).await;
    record(store.as_ref(), day(3), &without_part).await;
    // day(2): nobody recorded.
    record(store.as_ref(), day(1), &with_part).await;
    let acme = app.customer_browser("Acme Foods").await;
    let csv = acme
        .get("/inventory/history.csv?part=A-1&days=30")
        .await
        .text()
        .await
        .unwrap();
    let line = |d: Date| {
        csv.lines()
            .find(|l| {
                l.contains(&d.to_string())
                    || l.contains(&format!(
                        "{:02}/{:02}/{}",
                        u8::from(d.month()),
                        d.day(),
                        d.year()
                    ))
            })
            .unwrap_or_else(|| panic!("no line for {d}: {csv}"))
            .to_owned()
    };
    let cells = |d: Date| line(d).split(',').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(cells(day(4))[1], "5", "{csv}");
    assert_eq!(
        cells(day(3))[1],
        "0",
        "recorded without the part: none on hand\n{csv}"
    );
    assert_eq!(
        cells(day(2))[1],
        "",
        "nobody recorded: a gap, not a zero\n{csv}"
    );
    assert_eq!(cells(day(1))[1], "5", "{csv}");
}

/// `examples/pull_history.py` pulls a month of every part's days over several pages, and
/// writes each recorded day once.
#[tokio::test]
async fn the_example_script_pulls_a_month_of_history() {
    let today = OffsetDateTime::now_utc().date();
    let erp = Arc::new(MovingErp::default());
    erp.set(vec![
        lot("Acme Foods", "P-000", "L", 1.0, None),
        lot("Pure Water", "W-1", "W", 1.0, None),
    ]);
    let hash = cheap_hash(ADMIN_PW);
    let app = spawn_with_erp(
        erp,
        &[
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &hash),
        ],
    )
    .await;
    let store = app.store();
    // 300 parts of Acme and one of Pure Water over 20 days, one of them missed: 5,700
    // of Acme's days, more than one page.
    for n in 1..=20 {
        if n == 7 {
            continue;
        }
        let mut rows: Vec<InventoryRow> = (0..300)
            .map(|p| {
                lot(
                    "Acme Foods",
                    &format!("P-{p:03}"),
                    "L",
                    100.0 + n as f64,
                    None,
                )
            })
            .collect();
        rows.push(lot("Pure Water", "W-1", "W", 1.0, None));
        record(store.as_ref(), today - Duration::days(n), &rows).await;
    }
    let admin = admin_browser(&app).await;
    let (secret, _) = create(
        &admin,
        json!({ "name": "month", "scopes": ["inventory:read"], "erpCustomerNames": ["Acme Foods"] }),
    )
    .await;
    let out = tempfile::tempdir().unwrap();
    let csv_path = out.path().join("month.csv");
    let to = today.to_string();
    let args = [
        "--days".as_ref(),
        "30".as_ref(),
        "--to".as_ref(),
        to.as_ref(),
        "--out".as_ref(),
        csv_path.as_os_str(),
    ];
    if run_example(&app, "pull_history.py", &secret, &args)
        .await
        .is_none()
    {
        return;
    }
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Customer,Part,Day,On Hand,Lots,Expired Qty,Expiring Qty (30 days),Received Qty,Demo"
    );
    assert_eq!(
        lines.len() - 1,
        300 * 19,
        "every recorded day of every part once"
    );
    let unique: BTreeSet<&str> = lines[1..].iter().copied().collect();
    assert_eq!(unique.len(), lines.len() - 1, "no day twice");
    assert!(lines[1..].iter().all(|l| l.starts_with("Acme Foods,")));
    let missed = (today - Duration::days(7)).to_string();
    assert!(!text.contains(&missed), "the missed day is not made up");
}

/// The demo's made-up days: written once, marked demo, never twice; a seed cut short
/// (its totals, written last, missing) is made again without doubling a row.
#[tokio::test]
async fn the_demo_seed_is_written_once_and_finished_after_an_interruption() {
    let app = spawn_app_with(&[("DEMO_ERP_ROWS", "3000")], false).await;
    let history = app.state.history.clone();
    let written = history.seed_demo().await.unwrap();
    assert!(written > 1_000, "{written}");
    let rows = app.count("SELECT COUNT(*) FROM InventoryHistory");
    assert_eq!(rows, written as i64);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM InventoryHistory WHERE demo = 0"),
        0
    );
    assert_eq!(history.seed_demo().await.unwrap(), 0, "seeded already");
    // As if the process stopped before the totals went in.
    app.db().execute("DELETE FROM HistoryTotals", []).unwrap();
    assert_eq!(history.seed_demo().await.unwrap(), written);
    assert_eq!(app.count("SELECT COUNT(*) FROM InventoryHistory"), rows);
    assert!(app.count("SELECT COUNT(*) FROM HistoryTotals") > 0);
}
