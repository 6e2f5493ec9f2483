//! Scheduled reports: the lease that lets two instances share one app database (each due
//! report sent exactly once over a simulated week with instances stopping and starting,
//! a missed report sent once on return), retries with backoff then a recorded failure,
//! the mail's attachment equal to the export of the view, the signed one-click
//! unsubscribe, scope rules, and the admin's view.

use std::collections::BTreeMap;
use std::sync::Arc;

use customer_portal::domain::{CustomerId, Email, Zone};
use customer_portal::inventory::InventoryService;
use customer_portal::mail::Mailer;
use customer_portal::reports::{Clock, ManualClock, Scheduler, UnsubscribeKeys};
use customer_portal::store::sqlite::SqliteStore;
use customer_portal::store::*;
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::admin::{admin_app, admin_browser};
use crate::expiry::{StaticErp, lot};
use crate::helpers::*;

fn rows() -> Vec<customer_portal::erp::InventoryRow> {
    let today = OffsetDateTime::now_utc().date();
    vec![
        lot(
            "Acme Foods",
            "A-1",
            "L1",
            10.0,
            Some(today - Duration::days(3)),
        ),
        lot(
            "Acme Foods",
            "A-2",
            "L2",
            20.0,
            Some(today + Duration::days(10)),
        ),
        lot("Acme Foods", "A-3", "L3", 30.0, None),
        lot("Pure Water", "W-1", "W1", 40.0, None),
    ]
}

/// One portal instance: its own connection pool on the shared file, its own scheduler.
struct Instance {
    scheduler: Scheduler,
}

fn instance(store: Arc<dyn AppStore>, mailer: Arc<Mailer>, clock: &ManualClock) -> Instance {
    instance_over(store, mailer, clock, Arc::new(StaticErp(rows())))
}

fn instance_over(
    store: Arc<dyn AppStore>,
    mailer: Arc<Mailer>,
    clock: &ManualClock,
    erp: Arc<dyn customer_portal::erp::ErpSource>,
) -> Instance {
    let inventory = Arc::new(InventoryService::new(
        erp,
        std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(10),
        std::time::Duration::from_secs(10),
    ));
    Instance {
        scheduler: Scheduler::new(
            store,
            inventory,
            mailer,
            Zone::utc(),
            "https://portal.example.test".into(),
            UnsubscribeKeys::new("test secret"),
            Arc::new(clock.clone()),
        ),
    }
}

fn mailer_for(dir: &std::path::Path, extra: &[(&str, &str)]) -> Arc<Mailer> {
    let mut v = vars(&[("DATA_DIR", dir.to_str().unwrap())]);
    v.extend(vars(extra));
    let config = customer_portal::config::Config::from_vars(&v).unwrap();
    Arc::new(Mailer::from_config(&config).unwrap())
}

async fn customer(store: &dyn AppStore, email: &str, erp: &str) -> CustomerId {
    store
        .insert_customer(
            &NewCustomer {
                first_name: "Rae".into(),
                last_name: None,
                email: Email::parse(email).unwrap(),
                password_hash: cheap_hash(PASSWORD),
                erp_customer_name: erp.into(),
                must_reset_password: false,
            },
            &NewAuditEntry {
                timestamp: OffsetDateTime::now_utc(),
                admin_username: "SYSTEM".into(),
                action_type: "CUSTOMER_CREATE".into(),
                target_customer_id: None,
                target_customer_email: Some(email.into()),
                details: None,
            },
        )
        .await
        .unwrap()
        .id
}

async fn subscribe(
    store: &dyn AppStore,
    s: &Scheduler,
    customer: CustomerId,
    kind: &str,
    weekday: Option<i64>,
    hour: i64,
) -> i64 {
    let frequency = if weekday.is_some() {
        Frequency::Weekly
    } else {
        Frequency::Daily
    };
    store
        .insert_subscription(
            &NewReportSubscription {
                customer_id: customer,
                kind: ReportKind::parse(kind).unwrap(),
                view_id: None,
                frequency,
                weekday,
                hour,
                format: FileFormat::Csv,
                created_at: s.now(),
                next_run_at: s.first_run(frequency, weekday, hour),
            },
            20,
        )
        .await
        .unwrap()
        .id
}

/// REPORT_SENT rows per subscription and (clock) day.
fn sends(db: &rusqlite::Connection) -> BTreeMap<(i64, String), u32> {
    let mut stmt = db
        .prepare("SELECT timestamp, details FROM AuditLog WHERE action_type = 'REPORT_SENT'")
        .unwrap();
    let mut out = BTreeMap::new();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
    {
        let (ts, details) = row.unwrap();
        let d: Value = serde_json::from_str(&details).unwrap();
        *out.entry((d["subscription_id"].as_i64().unwrap(), ts[..10].to_owned()))
            .or_insert(0) += 1;
    }
    out
}

#[tokio::test]
async fn two_instances_send_each_report_once_over_a_week_of_stops_and_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portal.db");
    // Two instances: two stores (pools) on one SQLite file, one clock they both read.
    let store_a: Arc<dyn AppStore> = Arc::new(SqliteStore::open(&path, Zone::utc()).await.unwrap());
    let store_b: Arc<dyn AppStore> = Arc::new(SqliteStore::open(&path, Zone::utc()).await.unwrap());
    let clock = ManualClock::new(datetime!(2026-11-30 00:00 UTC)); // a Monday
    let mailer = mailer_for(dir.path(), &[]);
    let a = instance(store_a.clone(), mailer.clone(), &clock);
    let b = instance(store_b.clone(), mailer.clone(), &clock);
    assert_ne!(a.scheduler.owner(), b.scheduler.owner());

    let acme = customer(store_a.as_ref(), "rae@example.com", "Acme Foods").await;
    let daily = subscribe(store_a.as_ref(), &a.scheduler, acme, "report", None, 7).await;
    let weekly = subscribe(store_a.as_ref(), &a.scheduler, acme, "report", Some(2), 9).await; // Wednesdays
    let alert = subscribe(store_a.as_ref(), &a.scheduler, acme, "alert", None, 6).await;

    // A week in 10-minute steps. A is down Tuesday 00:00-12:00, B Tuesday 04:00-20:00 and
    // Friday 06:30-07:30 (A alone then); both down Tuesday 04:00-12:00, when the 06:00
    // alert and the 07:00 report fall due.
    let start = clock.now();
    let mut ticks = 0;
    while clock.now() < start + Duration::days(7) {
        let t = clock.now() - start;
        let (day, minute) = (t.whole_days(), (t.whole_minutes() % (24 * 60)));
        let a_up = !(day == 1 && minute < 12 * 60);
        let b_down = (day == 1 && (4 * 60..20 * 60).contains(&minute))
            || (day == 4 && (6 * 60 + 30..7 * 60 + 30).contains(&minute));
        let b_up = !b_down;
        // Both tick at the same moment when both are up: the lease decides.
        match (a_up, b_up) {
            (true, true) => {
                tokio::join!(a.scheduler.tick(), b.scheduler.tick());
            }
            (true, false) => {
                a.scheduler.tick().await;
            }
            (false, true) => {
                b.scheduler.tick().await;
            }
            (false, false) => {}
        }
        ticks += 1;
        clock.advance(Duration::minutes(10));
    }
    assert_eq!(ticks, 7 * 24 * 6);

    let db = rusqlite::Connection::open(&path).unwrap();
    let sent = sends(&db);
    let days = [
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "2026-12-04",
        "2026-12-05",
        "2026-12-06",
    ];
    for d in days {
        assert_eq!(
            sent.get(&(daily, d.to_owned())),
            Some(&1),
            "daily report on {d}: {sent:?}"
        );
        assert_eq!(
            sent.get(&(alert, d.to_owned())),
            Some(&1),
            "alert on {d}: {sent:?}"
        );
    }
    assert_eq!(sent.get(&(weekly, "2026-12-02".to_owned())), Some(&1));
    assert_eq!(
        sent.iter().filter(|((s, _), _)| *s == weekly).count(),
        1,
        "the weekly report once: {sent:?}"
    );
    // Tuesday's two were missed while both were down and sent once, at 12:00 when A came back.
    let tuesday: Vec<String> = db
        .prepare("SELECT timestamp FROM AuditLog WHERE action_type = 'REPORT_SENT' AND timestamp LIKE '2026-12-01%' ORDER BY timestamp")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(tuesday.len(), 2);
    assert!(
        tuesday.iter().all(|t| t.starts_with("2026-12-01 12:00")),
        "{tuesday:?}"
    );
    // Every mail went out once: 7 reports + 7 alerts + 1 weekly.
    assert_eq!(outbox_in(dir.path()).len(), 15);
    let total: i64 = db
        .query_row("SELECT SUM(sent_count) FROM ReportSubscriptions", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(total, 15);
    let leases: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM ReportSubscriptions WHERE lease_owner IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(leases, 0, "every lease given back");
}

#[tokio::test]
async fn a_held_lease_keeps_other_instances_off_until_it_lapses() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn AppStore> = Arc::new(
        SqliteStore::open(&dir.path().join("portal.db"), Zone::utc())
            .await
            .unwrap(),
    );
    let clock = ManualClock::new(datetime!(2026-11-30 06:00 UTC));
    let a = instance(store.clone(), mailer_for(dir.path(), &[]), &clock);
    let acme = customer(store.as_ref(), "rae@example.com", "Acme Foods").await;
    let id = subscribe(store.as_ref(), &a.scheduler, acme, "report", None, 7).await;
    let due = datetime!(2026-11-30 07:00 UTC);
    // An instance claims it and dies before recording the run.
    assert!(
        store
            .claim_subscription(id, "dead-instance", due, due + Duration::minutes(10))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_subscription(id, "another", due, due + Duration::minutes(10))
            .await
            .unwrap()
    );
    clock.set(due + Duration::minutes(5));
    assert_eq!(a.scheduler.tick().await.claimed, 0, "the lease still holds");
    clock.set(due + Duration::minutes(10));
    let s = a.scheduler.tick().await;
    assert_eq!(
        (s.claimed, s.sent),
        (1, 1),
        "the lapsed lease is taken over"
    );
    // The dead instance cannot record anything over it afterwards.
    let late = RunOutcome {
        next_run_at: due,
        attempts: 0,
        status: RunStatus::Sent,
        error: None,
        sent_at: Some(due),
    };
    assert!(
        !store
            .finish_subscription(id, "dead-instance", &late, None)
            .await
            .unwrap()
    );
}

/// The alert is mailed only on days with something to say: nothing expired, expiring or
/// below minimum is a skipped day (no mail, nothing counted); a part under its minimum
/// (another account of the customer may set it) is a mail the next morning.
#[tokio::test]
async fn an_alert_is_mailed_only_on_days_with_something_to_say() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn AppStore> = Arc::new(
        SqliteStore::open(&dir.path().join("portal.db"), Zone::utc())
            .await
            .unwrap(),
    );
    let clock = ManualClock::new(datetime!(2026-11-30 00:00 UTC));
    let a = instance(store.clone(), mailer_for(dir.path(), &[]), &clock);
    // Pure Water's one lot has no expiry date and no minimum.
    let pure = customer(store.as_ref(), "pw@example.com", "Pure Water").await;
    let id = subscribe(store.as_ref(), &a.scheduler, pure, "alert", None, 6).await;
    clock.set(datetime!(2026-11-30 06:00 UTC));
    let s = a.scheduler.tick().await;
    assert_eq!((s.claimed, s.skipped, s.sent), (1, 1, 0));
    let sub = store.subscription(id).await.unwrap().unwrap();
    assert_eq!(sub.last_status, Some(RunStatus::Skipped));
    assert_eq!(sub.sent_count, 0);
    assert_eq!(sub.next_run_at, datetime!(2026-12-01 06:00 UTC));
    assert!(
        outbox_in(dir.path()).is_empty(),
        "no mail on a day with nothing to say"
    );

    store
        .set_part_minimum(&PartMinimum {
            erp_customer_name: "Pure Water".into(),
            part: "W-1".into(),
            minimum_qty: 60.0,
            updated_at: clock.now(),
            updated_by: "colleague@example.com".into(),
        })
        .await
        .unwrap();
    clock.set(datetime!(2026-12-01 06:00 UTC));
    assert_eq!(a.scheduler.tick().await.sent, 1);
    let mails = outbox_in(dir.path());
    assert_eq!(mails.len(), 1);
    let text = customer_portal::mail::plain_text_part(&mails[0]);
    assert!(
        text.contains("Below minimum (1)") && text.contains("W-1"),
        "{text}"
    );
    assert!(!text.contains("Expired lots"), "nothing expired to list");
    assert!(
        mails[0].contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
            && text.contains("/reports/unsubscribe?s="),
        "alerts carry the unsubscribe link too"
    );
}

/// The daily alert names a part forecast to fall below its minimum within
/// `FORECAST_ALERT_DAYS`, with its dates; a falling part without a minimum says nothing.
#[tokio::test]
async fn an_alert_names_parts_forecast_to_fall_below_their_minimum() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn AppStore> = Arc::new(
        SqliteStore::open(&dir.path().join("portal.db"), Zone::utc())
            .await
            .unwrap(),
    );
    let clock = ManualClock::new(datetime!(2026-11-30 00:00 UTC));
    // The history reads the same rows (through a cache of its own here; the portal shares
    // one).
    let history = Arc::new(customer_portal::history::History::new(
        store.clone(),
        Arc::new(InventoryService::new(
            Arc::new(StaticErp(rows())),
            std::time::Duration::from_secs(60),
            std::time::Duration::from_secs(10),
            std::time::Duration::from_secs(10),
        )),
        Zone::utc(),
        Arc::new(clock.clone()),
        "a".into(),
        customer_portal::history::Settings::default(),
    ));
    let scheduler = instance(store.clone(), mailer_for(dir.path(), &[]), &clock)
        .scheduler
        .with_history(history);
    // Pure Water's W-1 fell by 2 a day for two weeks, to 40 on the 29th (no delivery).
    for n in 0..14 {
        let day = time::macros::date!(2026 - 11 - 29) - Duration::days(n);
        crate::history::record(
            store.as_ref(),
            day,
            &[lot("Pure Water", "W-1", "W1", 40.0 + 2.0 * n as f64, None)],
        )
        .await;
    }
    let pure = customer(store.as_ref(), "pw@example.com", "Pure Water").await;
    subscribe(store.as_ref(), &scheduler, pure, "alert", None, 6).await;
    clock.set(datetime!(2026-11-30 06:00 UTC));
    let s = scheduler.tick().await;
    assert_eq!(
        (s.skipped, s.sent),
        (1, 0),
        "falling, but no minimum: nothing to say"
    );
    assert!(outbox_in(dir.path()).is_empty());

    // A minimum of 20: 20 above it at 2 a day is 10 days, the 9th of December; it runs
    // out on the 19th.
    store
        .set_part_minimum(&PartMinimum {
            erp_customer_name: "Pure Water".into(),
            part: "W-1".into(),
            minimum_qty: 20.0,
            updated_at: clock.now(),
            updated_by: "colleague@example.com".into(),
        })
        .await
        .unwrap();
    clock.set(datetime!(2026-12-01 06:00 UTC));
    assert_eq!(scheduler.tick().await.sent, 1);
    let mails = outbox_in(dir.path());
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("1 falling below minimum soon"),
        "the subject says so: {}",
        &mails[0][..mails[0].len().min(600)]
    );
    let text = customer_portal::mail::plain_text_part(&mails[0]);
    assert!(text.contains("Falling below minimum soon (1)"), "{text}");
    assert!(
        text.contains("W-1") && text.contains("12/09/2026") && text.contains("12/19/2026"),
        "{text}"
    );
    assert!(
        !text.contains("Below minimum ("),
        "not below it yet: {text}"
    );
}

#[tokio::test]
async fn a_failing_send_is_retried_with_backoff_then_recorded_as_failed() {
    // A mail server that refuses connections.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let port = closed.to_string();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn AppStore> = Arc::new(
        SqliteStore::open(&dir.path().join("portal.db"), Zone::utc())
            .await
            .unwrap(),
    );
    let mailer = mailer_for(
        dir.path(),
        &[
            ("SMTP_SERVER", "127.0.0.1"),
            ("SMTP_PORT", &port),
            ("SMTP_USE_TLS", "False"),
            ("SMTP_TIMEOUT", "2"),
            ("EMAIL_FROM", "portal@example.com"),
        ],
    );
    let clock = ManualClock::new(datetime!(2026-11-30 06:00 UTC));
    let a = instance(store.clone(), mailer, &clock);
    let acme = customer(store.as_ref(), "rae@example.com", "Acme Foods").await;
    let id = subscribe(store.as_ref(), &a.scheduler, acme, "report", None, 7).await;

    let due = datetime!(2026-11-30 07:00 UTC);
    clock.set(due);
    assert_eq!(a.scheduler.tick().await.failed, 1);
    let s = store.subscription(id).await.unwrap().unwrap();
    assert_eq!(s.last_status, Some(RunStatus::Retrying));
    assert_eq!(s.attempts, 1);
    assert_eq!(
        s.next_run_at,
        due + Duration::minutes(5),
        "first retry after 5 minutes"
    );
    // Not before its time.
    clock.set(due + Duration::minutes(4));
    assert_eq!(a.scheduler.tick().await.claimed, 0);
    clock.set(due + Duration::minutes(5));
    a.scheduler.tick().await;
    let s = store.subscription(id).await.unwrap().unwrap();
    assert_eq!(s.attempts, 2);
    assert_eq!(
        s.next_run_at,
        due + Duration::minutes(20),
        "then after 15 more"
    );
    clock.set(due + Duration::minutes(20));
    a.scheduler.tick().await;
    let s = store.subscription(id).await.unwrap().unwrap();
    assert_eq!(s.last_status, Some(RunStatus::Failed));
    assert!(
        s.last_error.as_deref().unwrap_or("").contains("send"),
        "{:?}",
        s.last_error
    );
    assert_eq!(s.attempts, 0);
    assert_eq!(
        s.next_run_at,
        datetime!(2026-12-01 07:00 UTC),
        "back to its schedule"
    );
    assert_eq!(s.sent_count, 0);
    let failed = store.latest_audit("REPORT_FAILED", 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].target_customer_id, Some(acme));
    let runs = a.scheduler.counts();
    assert_eq!((runs.retrying, runs.failed, runs.sent), (2, 1, 0));
}

/// The attachment of a stored message, decoded.
fn attachment(raw: &str) -> (String, Vec<u8>) {
    use base64::Engine;
    let at = raw
        .find("Content-Disposition: attachment")
        .expect("an attachment");
    let head_start = raw[..at].rfind("\r\n\r\n").map_or(0, |i| i + 4);
    let rest = &raw[at..];
    let blank = rest.find("\r\n\r\n").unwrap();
    let headers = format!("{}{}", &raw[head_start..at], &rest[..blank]);
    // `filename="…"`, or RFC 2231's `filename*0="…"` as lettre writes it.
    let file_name = headers
        .split("filename")
        .nth(1)
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .to_owned();
    let body = &rest[blank + 4..];
    let body = &body[..body.find("\r\n--").unwrap()];
    let bytes = if headers.contains("base64") {
        base64::engine::general_purpose::STANDARD
            .decode(body.replace("\r\n", ""))
            .unwrap()
    } else {
        body.as_bytes().to_vec()
    };
    (file_name, bytes)
}

const SAVE: &str =
    "mutation($n: String!, $q: String!) { saveView(name: $n, query: $q) { id name query url } }";
const SUBSCRIBE: &str =
    "mutation($i: SubscribeReportInput!) { subscribeReport(input: $i) { id viewName nextRunAt } }";

#[tokio::test]
async fn a_report_holds_the_views_export_and_unsubscribes_with_one_click() {
    // The portal on the static ERP (exact rows and expiry dates), with an admin.
    let app = spawn_with_erp(
        Arc::new(StaticErp(rows())),
        &[
            ("ADMIN_USERNAME", "cp_admin"),
            ("ADMIN_PASSWORD_HASH", &cheap_hash(crate::admin::ADMIN_PW)),
            ("APP_BASE_URL", "http://portal.example.test"),
        ],
    )
    .await;
    let acme = app.customer_browser("Acme Foods").await;
    let pure = app.customer_browser("Pure Water").await;

    let body = acme
        .graphql_vars(
            SAVE,
            json!({ "n": "Dated lots", "q": "q=L&sort=daysToExpiry&dir=asc&junk=1" }),
        )
        .await;
    let view = &body["data"]["saveView"];
    assert_eq!(view["query"], "q=L&sort=daysToExpiry&dir=asc", "{body}");
    let view_id = view["id"].as_str().expect("a saved view").to_owned();

    // Another account cannot subscribe, see, rename or delete it.
    let body = pure
        .graphql_vars(
            SUBSCRIBE,
            json!({ "i": { "viewId": view_id, "hour": 7, "format": "CSV" } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["fields"]["view_id"], "No such saved view.",
        "{body}"
    );
    let body = pure.graphql("{ savedViews { id } }").await;
    assert_eq!(body["data"]["savedViews"], json!([]));
    let body = pure
        .graphql_vars(
            "mutation($id: ID!) { deleteSavedView(id: $id) }",
            json!({ "id": view_id }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let body = pure
        .graphql_vars(
            "mutation($id: ID!) { renameSavedView(id: $id, name: \"x\") { id } }",
            json!({ "id": view_id }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");

    let body = acme
        .graphql_vars(
            SUBSCRIBE,
            json!({ "i": { "viewId": view_id, "hour": 7, "format": "CSV" } }),
        )
        .await;
    assert_eq!(
        body["data"]["subscribeReport"]["viewName"], "Dated lots",
        "{body}"
    );
    let sub_id: i64 = body["data"]["subscribeReport"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Weekly needs its day; alerts are daily.
    let body = acme
        .graphql_vars(
            SUBSCRIBE,
            json!({ "i": { "frequency": "WEEKLY", "hour": 7 } }),
        )
        .await;
    assert!(
        body["errors"][0]["extensions"]["fields"]["weekday"].is_string(),
        "{body}"
    );
    let body = acme
        .graphql_vars(
            SUBSCRIBE,
            json!({ "i": { "kind": "ALERT", "frequency": "WEEKLY", "weekday": 1, "hour": 7 } }),
        )
        .await;
    assert!(
        body["errors"][0]["extensions"]["fields"]["frequency"].is_string(),
        "{body}"
    );

    // Make it due and let the portal's scheduler run.
    app.db()
        .execute(
            "UPDATE ReportSubscriptions SET next_run_at = '2000-01-01T00:00:00.000000Z'",
            [],
        )
        .unwrap();
    // This tick sends it, unless the portal's own loop (every 30 s) got there first: the
    // lease lets exactly one of them.
    app.state.scheduler.tick().await;
    let started = std::time::Instant::now();
    let sent = loop {
        let s = app.store().subscription(sub_id).await.unwrap().unwrap();
        if s.sent_count > 0 || started.elapsed() > std::time::Duration::from_secs(10) {
            break s.sent_count;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(sent, 1);
    // This instance counts what it sent (the test's tick and the loop share one scheduler).
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("portal_report_runs_total{outcome=\"sent\"} 1"),
        "{metrics}"
    );
    let mails = outbox_messages(&app);
    let mail = mails
        .iter()
        .find(|m| m.contains("Content-Disposition: attachment"))
        .expect("the report");
    let unsubscribe = mail
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .expect("List-Unsubscribe")
        .trim_end_matches('>')
        .to_owned();
    assert!(mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    assert!(unsubscribe.starts_with("http://portal.example.test/reports/unsubscribe?s="));
    assert!(customer_portal::mail::plain_text_part(mail).contains(&unsubscribe));
    assert!(mail.contains("text/html"));

    // The attachment is the export of that view, for that account, now.
    let (file_name, bytes) = attachment(mail);
    assert!(
        file_name.starts_with("Inventory_Acme Foods_")
            || file_name.starts_with("Inventory_Acme_Foods_"),
        "{file_name}"
    );
    assert!(file_name.ends_with(".csv"));
    let export = acme
        .get("/inventory/export.csv?q=L&sort=daysToExpiry&dir=asc")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(&export)
    );
    assert!(
        !String::from_utf8_lossy(&bytes).contains("Pure Water"),
        "only the account's scope"
    );

    // One click from the mail client: a POST with no cookies and no CSRF token.
    let path = unsubscribe.trim_start_matches("http://portal.example.test");
    let tampered = path.replace("&t=", "&t=00");
    let client = reqwest::Client::new();
    let resp = client
        .post(app.url(&tampered))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "a forged link does nothing");
    // Opening the link changes nothing (link checkers fetch it).
    let resp = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("Unsubscribe"));
    assert!(app.store().subscription(sub_id).await.unwrap().is_some());
    let resp = client
        .post(app.url(path))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("Unsubscribed"));
    assert!(app.store().subscription(sub_id).await.unwrap().is_none());

    // Analytics count the report sent.
    let admin = admin_browser(&app).await;
    let body = admin
        .graphql("{ analytics { reportsSentLast7Days } }")
        .await;
    assert_eq!(
        body["data"]["analytics"]["reportsSentLast7Days"], 1,
        "{body}"
    );
}

#[tokio::test]
async fn admins_see_every_subscription_and_pause_it() {
    let app = admin_app(&[]).await;
    let acme = app.customer_browser("Acme Foods").await;
    let body = acme
        .graphql_vars(
            SUBSCRIBE,
            json!({ "i": { "frequency": "WEEKLY", "weekday": 0, "hour": 8, "format": "XLSX" } }),
        )
        .await;
    let id = body["data"]["subscribeReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin = admin_browser(&app).await;
    let page = admin.get("/admin/reports").await.text().await.unwrap();
    assert!(page.contains("Mondays at 08:00"), "{page}");
    assert!(page.contains("whole inventory"));
    // One customer's subscriptions.
    let pure = app.customer_browser("Pure Water").await;
    pure.graphql_vars(SUBSCRIBE, json!({ "i": { "kind": "ALERT", "hour": 6 } }))
        .await;
    let acme_id = app.count("SELECT customer_id FROM ReportSubscriptions WHERE kind = 'report'");
    let page = admin
        .get(&format!("/admin/reports?customer={acme_id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Showing the scheduled mails of") && !page.contains("Daily alert"),
        "{page}"
    );
    let page = admin.get("/admin/reports").await.text().await.unwrap();
    assert!(page.contains("Daily alert") && page.contains("Mondays at 08:00"));
    let resp = admin
        .post_form(&format!("/admin/reports/{id}/pause"), &[("paused", "1")])
        .await;
    assert_eq!(resp.status(), 303);
    let s = app
        .store()
        .subscription(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(s.paused);
    assert_eq!(s.paused_by.as_deref(), Some("cp_admin"));
    // A paused report is never due.
    app.db()
        .execute(
            "UPDATE ReportSubscriptions SET next_run_at = '2000-01-01T00:00:00.000000Z' WHERE subscription_id = ?1",
            [&id],
        )
        .unwrap();
    assert_eq!(app.state.scheduler.tick().await.claimed, 0);
    // The customer sees who paused it; customers cannot list other accounts' reports.
    let page = acme.get("/inventory/views").await.text().await.unwrap();
    assert!(page.contains("Paused") && page.contains("by cp_admin"));
    let body = acme.graphql("{ allReportSubscriptions { id } }").await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    // Another customer cannot pause or end it.
    let body = pure
        .graphql_vars(
            "mutation($id: ID!) { setReportPaused(id: $id, paused: false) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let body = pure
        .graphql_vars(
            "mutation($id: ID!) { unsubscribeReport(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

/// The static rows, each read taking `.1`.
struct SlowErp(StaticErp, std::time::Duration);

#[async_trait::async_trait]
impl customer_portal::erp::ErpSource for SlowErp {
    fn name(&self) -> &'static str {
        "slow"
    }
    async fn inventory_rows(
        &self,
        scope: &customer_portal::domain::ErpScope,
    ) -> Result<Vec<customer_portal::erp::InventoryRow>, customer_portal::erp::ErpError> {
        tokio::time::sleep(self.1).await;
        self.0.inventory_rows(scope).await
    }
    async fn customer_names(&self) -> Result<Vec<String>, customer_portal::erp::ErpError> {
        self.0.customer_names().await
    }
    async fn ping(&self) -> Result<(), customer_portal::erp::ErpError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_run_slower_than_its_lease_keeps_it_and_is_sent_once() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn AppStore> = Arc::new(
        SqliteStore::open(&dir.path().join("portal.db"), Zone::utc())
            .await
            .unwrap(),
    );
    let clock = ManualClock::new(datetime!(2026-11-30 06:00 UTC));
    let lease = std::time::Duration::from_secs(1);
    let slow = SlowErp(StaticErp(rows()), std::time::Duration::from_millis(2_500));
    let a = Arc::new(Instance {
        scheduler: instance_over(
            store.clone(),
            mailer_for(dir.path(), &[]),
            &clock,
            Arc::new(slow),
        )
        .scheduler
        .with_lease(lease),
    });
    let b = Instance {
        scheduler: instance(store.clone(), mailer_for(dir.path(), &[]), &clock)
            .scheduler
            .with_lease(lease),
    };
    let acme = customer(store.as_ref(), "rae@example.com", "Acme Foods").await;
    let id = subscribe(store.as_ref(), &a.scheduler, acme, "report", None, 7).await;
    clock.set(datetime!(2026-11-30 07:00 UTC));

    let slow_run = {
        let a = a.clone();
        tokio::spawn(async move { a.scheduler.tick().await })
    };
    // While A's run takes two and a half leases, time passes for both instances and B
    // keeps looking: A's renewed lease keeps B off.
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        clock.advance(Duration::milliseconds(500));
        assert_eq!(
            b.scheduler.tick().await.claimed,
            0,
            "the other instance took over a lease still in use"
        );
    }
    let s = slow_run.await.unwrap();
    assert_eq!((s.claimed, s.sent), (1, 1), "the slow run is recorded");
    let db = rusqlite::Connection::open(dir.path().join("portal.db")).unwrap();
    let total: u32 = sends(&db)
        .iter()
        .filter(|((sub, _), _)| *sub == id)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(total, 1, "sent exactly once");
    assert_eq!(outbox_in(dir.path()).len(), 1);
}
