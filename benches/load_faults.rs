//! The load and fault suite: `cargo bench --bench load_faults`. Loopback only, bounded in
//! time (each phase's length is an environment variable), figures printed as Markdown for
//! docs/benchmarks.md.
//!
//! 1. **Mixed run under faults** (this process hosts the portal, so the ERP can be switched
//!    off): `LOAD_SESSIONS` (100) signed-in customers browse for `LOAD_SECONDS` (150) —
//!    page, grid refresh, scroll, GraphQL, CSV — with a think time of 0.5–1.5 s, while
//!    a wrong-password flood from 50 addresses aims at one account (whose owner keeps
//!    signing in from elsewhere), the ERP goes down for 30 s mid-run, an admin adds
//!    customers against an SMTP server that accepts and never answers, 300 clients send
//!    half a request and go silent, and one reader drains a CSV export at a crawl.
//! 2. **SIGTERM mid-export** (the real binary): how long shutdown takes with an export in
//!    flight, the exit status, and the app database's integrity afterwards.
//! 3. **Memory soak** (the real binary): the same browsing at `ERP_CACHE_SECONDS=5` on
//!    `LOAD_ROWS` (50,000) rows for `SOAK_SECONDS` (600; 0 skips), the process's RSS sampled
//!    every 10 s: the run should end within +15% of its RSS after the first minute.
//! 4. **The costliest accepted queries** (the real binary): four tools at once, for
//!    `COSTLY_SECONDS` (30; 0 skips), each repeating the largest operation the cost rule
//!    accepts (20,000 rows with every field, as four aliases of a 5,000-row page through a
//!    fragment); the RSS they add (goal: under +50 MiB) and a customer's sign-in p50 while
//!    they run, against the same sign-in idle.
//! 5. **A tool's full pull beside browsers** (the real binary): `PULL_SESSIONS` (50)
//!    customers browse and scroll for `PULL_SECONDS` (60; 0 skips) on `PULL_ROWS`
//!    (200,000) rows while a token pulls every row through cursors, 5,000 a page, with
//!    `ERP_CACHE_SECONDS` 5 and then 3600: the pull's time (every row once), and the
//!    browsers' p95 beside it against the same browsing without it (goal: within 2×).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use customer_portal::config::Config;
use customer_portal::domain::ErpScope;
use customer_portal::erp::{ErpError, ErpSource, InventoryRow};
use customer_portal::startup::Application;
use customer_portal::store::AppStore;
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "common/mod.rs"]
mod common;
use common::{env_num, free_port, meta_csrf};

const PASSWORD: &str = "load-password-123";
const ADMIN_PASSWORD: &str = "load-admin-password-42";
/// How long the ERP is off in the mixed run.
const OUTAGE: Duration = Duration::from_secs(30);
/// The SMTP deadline the admin's mails run into.
const SMTP_TIMEOUT_S: u64 = 3;

/// The demo ERP behind a switch, so an outage can start and end mid-run.
struct SwitchedErp {
    inner: Arc<dyn ErpSource>,
    down: AtomicBool,
}

#[async_trait]
impl ErpSource for SwitchedErp {
    fn name(&self) -> &'static str {
        "demo (switched)"
    }
    async fn inventory_rows(&self, scope: &ErpScope) -> Result<Vec<InventoryRow>, ErpError> {
        if self.down.load(Ordering::SeqCst) {
            // As a dead server would: the read hangs a while, then fails.
            tokio::time::sleep(Duration::from_millis(200)).await;
            return Err(ErpError::Unavailable(
                "switched off by the load suite".into(),
            ));
        }
        self.inner.inventory_rows(scope).await
    }
    async fn customer_names(&self) -> Result<Vec<String>, ErpError> {
        self.inner.customer_names().await
    }
    async fn ping(&self) -> Result<(), ErpError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ErpError::Unavailable("switched off".into()));
        }
        self.inner.ping().await
    }
}

/// One answered (or failed) request.
struct Sample {
    kind: &'static str,
    /// Seconds since the run started.
    at: f64,
    ms: f64,
    ok: bool,
}

#[derive(Default)]
struct Recorder {
    samples: Mutex<Vec<Sample>>,
    /// A few failures, to say what went wrong.
    examples: Mutex<Vec<String>>,
}

impl Recorder {
    fn add(&self, kind: &'static str, start: Instant, began: Instant, ok: bool, why: &str) {
        let sample = Sample {
            kind,
            at: began.duration_since(start).as_secs_f64(),
            ms: began.elapsed().as_secs_f64() * 1000.0,
            ok,
        };
        if !ok {
            let mut ex = self.examples.lock().unwrap();
            if ex.len() < 12 {
                ex.push(format!("{kind} at {:.1}s: {why}", sample.at));
            }
        }
        self.samples.lock().unwrap().push(sample);
    }

    /// A Markdown row per kind: requests, errors outside `window`, errors inside it, p50, p95.
    fn report(&self, window: Option<(f64, f64)>) -> (usize, String) {
        let samples = self.samples.lock().unwrap();
        let mut kinds: Vec<&'static str> = samples.iter().map(|s| s.kind).collect();
        kinds.sort();
        kinds.dedup();
        let mut out = String::from(
            "| kind | requests | errors outside the outage | errors during the outage | p50 | p95 | max |\n|---|---|---|---|---|---|---|\n",
        );
        let mut errors_outside = 0;
        for kind in kinds {
            let of: Vec<&Sample> = samples.iter().filter(|s| s.kind == kind).collect();
            let inside = |s: &&Sample| window.is_some_and(|(a, b)| s.at >= a && s.at <= b);
            let bad_in = of.iter().filter(|s| !s.ok && inside(s)).count();
            let bad_out = of.iter().filter(|s| !s.ok && !inside(s)).count();
            errors_outside += bad_out;
            let mut ms: Vec<f64> = of.iter().filter(|s| s.ok).map(|s| s.ms).collect();
            ms.sort_by(f64::total_cmp);
            let pct = |p: f64| {
                if ms.is_empty() {
                    "–".to_owned()
                } else {
                    format!("{:.0} ms", ms[((ms.len() - 1) as f64 * p).round() as usize])
                }
            };
            out.push_str(&format!(
                "| {kind} | {} | {bad_out} | {bad_in} | {} | {} | {} |\n",
                of.len(),
                pct(0.5),
                pct(0.95),
                pct(1.0)
            ));
        }
        (errors_outside, out)
    }
}

fn status_kib(pid: &str, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn rss_mib(pid: &str) -> f64 {
    status_kib(pid, "VmRSS:") / 1024.0
}

fn open_fds(pid: &str) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn config_vars(dir: &Path, extra: &[(&str, String)]) -> HashMap<String, String> {
    let mut v: HashMap<String, String> = [
        ("PORT", "0".to_owned()),
        ("DATA_DIR", dir.display().to_string()),
        ("TRUSTED_PROXIES", "127.0.0.1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, val) in extra {
        v.insert((*k).to_owned(), val.clone());
    }
    v
}

/// Adds `n` customers (`load{i}@example.com`), spread over `All` and single ERP names, and
/// the flood's target `target@example.com`. One hash for all: the same password.
async fn add_customers(store: &Arc<dyn AppStore>, names: &[String], n: usize) {
    let hash = werkzeug_hash::generate(PASSWORD);
    for i in 0..=n {
        let (email, scope) = if i == n {
            ("target@example.com".to_owned(), "All".to_owned())
        } else if i % 4 == 0 || names.is_empty() {
            (format!("load{i}@example.com"), "All".to_owned())
        } else {
            (
                format!("load{i}@example.com"),
                names[i % names.len()].clone(),
            )
        };
        common::add_customer(store, &email, &hash, &scope).await;
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        // The portal closes a keep-alive connection after 20 s idle; a client that reuses
        // one at that very moment races the close (browsers retry; this client does not).
        .pool_idle_timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

/// The CSRF token of the page at `url`, as this client sees it.
async fn page_csrf(c: &reqwest::Client, url: String) -> String {
    let html = c.get(&url).send().await.unwrap().text().await.unwrap();
    meta_csrf(&html).unwrap_or_else(|| panic!("no CSRF token on {url}"))
}

/// The "more rows" address in a page or grid, if the view has more rows.
fn more_rows(html: &str) -> Option<String> {
    let at = html.find("hx-get=\"/inventory/rows")? + "hx-get=\"".len();
    Some(html[at..].split('"').next()?.replace("&amp;", "&"))
}

/// Signs in a customer; returns the client (with its session cookie) and the CSRF token.
async fn sign_in(
    base: &str,
    email: &str,
    from: Option<&str>,
) -> Result<(reqwest::Client, String), String> {
    sign_in_with(client(), base, email, from).await
}

/// Signs in with a browser that may have signed in before (its cookies kept).
async fn sign_in_with(
    c: reqwest::Client,
    base: &str,
    email: &str,
    from: Option<&str>,
) -> Result<(reqwest::Client, String), String> {
    // A browser that is signed in already is sent on from /login: its token is on the
    // page it lands on.
    let mut resp = c
        .get(format!("{base}/login"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if resp.status().is_redirection() {
        resp = c
            .get(format!("{base}/inventory"))
            .send()
            .await
            .map_err(|e| e.to_string())?;
    }
    let html = resp.text().await.map_err(|e| e.to_string())?;
    let csrf = meta_csrf(&html).ok_or("no CSRF token on /login")?;
    let mut req = c.post(format!("{base}/login")).form(&[
        ("email", email),
        ("password", PASSWORD),
        ("hp_email", ""),
        ("csrf_token", &csrf),
    ]);
    if let Some(ip) = from {
        req = req.header("CF-Connecting-IP", ip);
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    if resp.status() != 303 {
        let retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        return Err(format!(
            "sign-in answered {} (Retry-After {retry})",
            resp.status()
        ));
    }
    let page = c
        .get(format!("{base}/inventory"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let csrf = meta_csrf(&page).ok_or("no CSRF token on /inventory")?;
    Ok((c, csrf))
}

const SEARCHES: [&str; 8] = [
    "butter", "acme", "lot-1", "a05-", "soap", "po-1", "12oz", "b12",
];

/// One customer browsing until `until`: page, grid, scroll, GraphQL and CSV in turn.
async fn browse(
    base: String,
    email: String,
    rec: Arc<Recorder>,
    start: Instant,
    until: Instant,
    seed: usize,
) {
    let began = Instant::now();
    let (c, csrf) = match sign_in(&base, &email, None).await {
        Ok(x) => {
            rec.add("sign-in", start, began, true, "");
            x
        }
        Err(e) => {
            rec.add("sign-in", start, began, false, &e);
            return;
        }
    };
    const PLAN: [&str; 10] = [
        "page", "grid", "scroll", "graphql", "grid", "scroll", "grid", "graphql", "page", "csv",
    ];
    let mut more: Option<String> = None;
    let mut i = seed;
    while Instant::now() < until {
        let think = rand::rng().random_range(500..1500);
        tokio::time::sleep(Duration::from_millis(think)).await;
        let kind = PLAN[i % PLAN.len()];
        let q = SEARCHES[(i / 3) % SEARCHES.len()];
        i += 1;
        let began = Instant::now();
        let result: Result<(), String> = async {
            match kind {
                "page" | "grid" => {
                    let (path, htmx) = if kind == "page" {
                        ("/inventory".to_owned(), false)
                    } else {
                        (format!("/inventory/grid?q={q}"), true)
                    };
                    let mut req = c.get(format!("{base}{path}"));
                    if htmx {
                        req = req.header("HX-Request", "true");
                    }
                    let resp = req.send().await.map_err(|e| e.to_string())?;
                    let status = resp.status();
                    let html = resp.text().await.map_err(|e| e.to_string())?;
                    if !status.is_success() {
                        return Err(format!("{path}: {status}"));
                    }
                    if kind == "page" {
                        more = more_rows(&html);
                    }
                    Ok(())
                }
                "scroll" => {
                    let Some(path) = more.take() else {
                        return Ok(());
                    };
                    let resp = c
                        .get(format!("{base}{path}"))
                        .header("HX-Request", "true")
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    let status = resp.status();
                    let html = resp.text().await.map_err(|e| e.to_string())?;
                    if !status.is_success() {
                        return Err(format!("scroll: {status}"));
                    }
                    more = more_rows(&html);
                    Ok(())
                }
                "graphql" => {
                    let resp = c
                        .post(format!("{base}/graphql"))
                        .header("X-CSRF-Token", &csrf)
                        .json(&serde_json::json!({
                            "query": "query($q: String) { inventory(filter: { search: $q }, first: 100) { totalCount filteredCount rows { part onHandQty status } } }",
                            "variables": { "q": q },
                        }))
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    let status = resp.status();
                    let body: serde_json::Value = resp.json().await.map_err(|e| e.to_string())?;
                    if !status.is_success() || body.get("errors").is_some() {
                        return Err(format!("graphql {status}: {body:.200}"));
                    }
                    Ok(())
                }
                _ => {
                    let resp = c
                        .get(format!("{base}/inventory/export.csv?q={q}"))
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    let status = resp.status();
                    let body = resp.bytes().await.map_err(|e| e.to_string())?;
                    if !status.is_success() || body.is_empty() {
                        return Err(format!("csv: {status}"));
                    }
                    Ok(())
                }
            }
        }
        .await;
        // An empty scroll (no more rows) was not a request.
        if kind == "scroll" && result.is_ok() && began.elapsed() < Duration::from_micros(50) {
            continue;
        }
        match result {
            Ok(()) => rec.add(kind, start, began, true, ""),
            Err(e) => rec.add(kind, start, began, false, &e),
        }
    }
}

/// A TCP server that accepts and never says a word (an SMTP server that hangs).
async fn silent_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
            held.truncate(1000);
        }
    });
    port
}

async fn phase_mixed(rows: u32, sessions: usize, seconds: u64) {
    let dir = tempfile::tempdir().unwrap();
    let smtp_port = silent_server().await;
    let admin_hash = werkzeug_hash::generate(ADMIN_PASSWORD);
    let vars = config_vars(
        dir.path(),
        &[
            ("DEMO_ERP_ROWS", rows.to_string()),
            ("ERP_CACHE_SECONDS", "5".into()),
            ("ADMIN_USERNAME", "cp_admin".into()),
            ("ADMIN_PASSWORD_HASH", admin_hash),
            ("SMTP_SERVER", "127.0.0.1".into()),
            ("SMTP_PORT", smtp_port.to_string()),
            ("SMTP_USE_TLS", "False".into()),
            ("SMTP_TIMEOUT", SMTP_TIMEOUT_S.to_string()),
            ("EMAIL_FROM", "portal@load.example".into()),
        ],
    );
    let mut config = Config::from_vars(&vars).unwrap();
    config.seed_demo_accounts = false;
    // The demo ERP, generated as the portal would, behind the switch.
    let erp = Arc::new(SwitchedErp {
        inner: demo_erp(dir.path(), rows),
        down: AtomicBool::new(false),
    });
    let app = Application::build_with(config, Some(erp.clone()))
        .await
        .unwrap();
    let store = app.state().store.clone();
    let names = erp.customer_names().await.unwrap();
    add_customers(&store, &names[..names.len().min(12)], sessions).await;
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());

    let me = std::process::id().to_string();
    let (rss0, fds0) = (rss_mib(&me), open_fds(&me));
    let rec = Arc::new(Recorder::default());
    let start = Instant::now();
    let until = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..sessions {
        tasks.push(tokio::spawn(browse(
            base.clone(),
            format!("load{i}@example.com"),
            rec.clone(),
            start,
            until,
            i,
        )));
        // Sign-ins arrive over the first ~10 s, not all in one instant.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The wrong-password flood: 50 addresses, the target account and unknown emails.
    let flood = {
        let (base, rec) = (base.clone(), rec.clone());
        tokio::spawn(async move {
            let c = client();
            let csrf = page_csrf(&c, format!("{base}/login")).await;
            let mut n = 0u64;
            let mut counts: HashMap<u16, u64> = HashMap::new();
            while Instant::now() < until {
                n += 1;
                let email = if n.is_multiple_of(2) {
                    "target@example.com".to_owned()
                } else {
                    format!("nobody{}@example.com", n % 97)
                };
                let began = Instant::now();
                let resp = c
                    .post(format!("{base}/login"))
                    .header("CF-Connecting-IP", format!("198.51.100.{}", n % 50))
                    .form(&[
                        ("email", email.as_str()),
                        ("password", "wrong-password-1"),
                        ("hp_email", ""),
                        ("csrf_token", &csrf),
                    ])
                    .send()
                    .await;
                match resp {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        *counts.entry(status).or_default() += 1;
                        let retry = r.headers().contains_key("retry-after");
                        let ok = status == 200 || (status == 429 && retry);
                        rec.add(
                            "wrong password (flood)",
                            start,
                            began,
                            ok,
                            &format!("{status}, Retry-After {retry}"),
                        );
                    }
                    Err(e) => rec.add(
                        "wrong password (flood)",
                        start,
                        began,
                        false,
                        &e.to_string(),
                    ),
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            counts
        })
    };

    // The flood's target: its usual browser (signed in once before the flood) signs in
    // again every 20 s from a new address; how long is it kept out? And a browser it never
    // used before, once, mid-flood.
    let owner = {
        let (base, rec) = (base.clone(), rec.clone());
        let (known, _) = sign_in(&base, "target@example.com", Some("192.0.2.10"))
            .await
            .expect("the owner signs in before the flood");
        tokio::spawn(async move {
            let until_in = |c: reqwest::Client, from: String, limit: Duration| {
                let (base, rec) = (base.clone(), rec.clone());
                async move {
                    let began = Instant::now();
                    while began.elapsed() < limit {
                        match sign_in_with(c.clone(), &base, "target@example.com", Some(&from))
                            .await
                        {
                            Ok(_) => return Some(began.elapsed()),
                            Err(e) if e.contains("429") => {
                                let wait: u64 = e
                                    .rsplit("Retry-After ")
                                    .next()
                                    .and_then(|v| v.trim_end_matches(')').parse().ok())
                                    .unwrap_or(5);
                                tokio::time::sleep(Duration::from_secs(wait.clamp(1, 60))).await;
                            }
                            Err(e) => {
                                rec.add("owner sign-in during the flood", start, began, false, &e);
                                return None;
                            }
                        }
                    }
                    None
                }
            };
            let mut longest_known = Duration::ZERO;
            let mut n = 0;
            tokio::time::sleep(Duration::from_secs(20)).await;
            while Instant::now() + Duration::from_secs(20) < until {
                n += 1;
                let took = until_in(
                    known.clone(),
                    format!("192.0.2.{}", 100 + n),
                    Duration::from_secs(120),
                )
                .await;
                longest_known = longest_known.max(took.unwrap_or(Duration::from_secs(120)));
                tokio::time::sleep(Duration::from_secs(20)).await;
                if n == 2 {
                    break;
                }
            }
            let left = until.saturating_duration_since(Instant::now());
            let new_browser = until_in(client(), "192.0.2.200".into(), left).await;
            (longest_known, new_browser, left)
        })
    };

    // An admin adding customers while the mail server never answers.
    let admin = {
        let (base, rec) = (base.clone(), rec.clone());
        tokio::spawn(async move {
            let c = client();
            let csrf = page_csrf(&c, format!("{base}/admin-login")).await;
            let resp = c
                .post(format!("{base}/admin-login"))
                .form(&[
                    ("username", "cp_admin"),
                    ("password", ADMIN_PASSWORD),
                    ("hp_email", ""),
                    ("csrf_token", &csrf),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 303, "admin sign-in");
            let csrf = page_csrf(&c, format!("{base}/admin/customers")).await;
            let mut n = 0;
            while Instant::now() + Duration::from_secs(15) < until {
                n += 1;
                let began = Instant::now();
                let resp = c
                    .post(format!("{base}/admin/customers"))
                    .header("HX-Request", "true")
                    .header("X-CSRF-Token", &csrf)
                    .form(&[
                        ("first_name", "Mailless"),
                        ("email", &format!("mailless{n}@example.com")),
                        ("erp_customer_names", "All"),
                    ])
                    .send()
                    .await;
                match resp {
                    Ok(r) => {
                        let status = r.status();
                        let body = r.text().await.unwrap_or_default();
                        let ok = status.is_success() && body.contains("Temporary password");
                        rec.add(
                            "admin adds a customer, SMTP silent",
                            start,
                            began,
                            ok,
                            &format!("{status}: {body:.120}"),
                        );
                    }
                    Err(e) => rec.add(
                        "admin adds a customer, SMTP silent",
                        start,
                        began,
                        false,
                        &e.to_string(),
                    ),
                }
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        })
    };

    // 300 clients that send half a request and go silent; when does the server hang up?
    let silent = {
        let base = base.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(15)).await;
            let addr = base.trim_start_matches("http://").to_owned();
            let mut waits = Vec::new();
            for _ in 0..300 {
                let addr = addr.clone();
                waits.push(tokio::spawn(async move {
                    let mut s = tokio::net::TcpStream::connect(&addr).await.ok()?;
                    s.write_all(b"GET /inventory HTTP/1.1\r\nHost: x\r\n")
                        .await
                        .ok()?;
                    let began = Instant::now();
                    let mut buf = [0u8; 512];
                    loop {
                        match tokio::time::timeout(Duration::from_secs(60), s.read(&mut buf)).await
                        {
                            Ok(Ok(0)) | Ok(Err(_)) => return Some(began.elapsed()),
                            Ok(Ok(_)) => continue,
                            Err(_) => return None,
                        }
                    }
                }));
            }
            let mut closed = Vec::new();
            let mut still_open = 0;
            for w in waits {
                match w.await.unwrap() {
                    Some(d) => closed.push(d),
                    None => still_open += 1,
                }
            }
            (closed.iter().max().copied(), still_open)
        })
    };

    // One reader draining a full CSV export at ~20 KB/s for 30 s.
    let crawler = {
        let base = base.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(20)).await;
            let Ok((c, _)) = sign_in(&base, "load0@example.com", Some("192.0.2.20")).await else {
                return 0usize;
            };
            let Ok(mut resp) = c.get(format!("{base}/inventory/export.csv")).send().await else {
                return 0;
            };
            let mut got = 0;
            let crawl_until = Instant::now() + Duration::from_secs(30);
            while Instant::now() < crawl_until {
                match resp.chunk().await {
                    Ok(Some(b)) => got += b.len(),
                    _ => break,
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            got
        })
    };

    // The ERP outage, 40% into the run.
    let outage_at = seconds as f64 * 0.4;
    tokio::time::sleep_until((start + Duration::from_secs_f64(outage_at)).into()).await;
    erp.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(OUTAGE).await;
    erp.down.store(false, Ordering::SeqCst);
    let back = Instant::now();
    // When the circuit closes again: the first fresh read after the outage.
    let metrics = |base: String| async move {
        client()
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let mut recovered = None;
    while back.elapsed() < Duration::from_secs(30) {
        if metrics(base.clone())
            .await
            .contains("portal_erp_circuit_open 0")
        {
            recovered = Some(back.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    for t in tasks {
        t.await.unwrap();
    }
    let flood_counts = flood.await.unwrap();
    let (kept_out, new_browser, new_browser_limit) = owner.await.unwrap();
    admin.await.unwrap();
    let (slow_closed, slow_open) = silent.await.unwrap();
    let crawled = crawler.await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss1, fds1) = (rss_mib(&me), open_fds(&me));
    let text = metrics(base.clone()).await;
    let metric = |name: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or("?")
            .to_owned()
    };

    // The outage window, plus the circuit's probe interval: errors there are expected for
    // scopes never read before the outage.
    let window = (outage_at, outage_at + OUTAGE.as_secs_f64() + 12.0);
    let (errors_outside, table) = rec.report(Some(window));
    println!("\n## Mixed run: {sessions} sessions, {rows} rows, {seconds} s, 2 cores\n");
    print!("{table}");
    println!(
        "\n| figure | value |\n|---|---|\n| errors outside the outage | {errors_outside} |\n| ERP outage | {:.0}–{:.0} s; the circuit closed {} after the ERP came back |\n| ERP reads / failures (whole run) | {} / {} |\n| wrong-password flood: answers by status | {:?} |\n| longest the owner's usual browser was kept out | {:.1} s |\n| a browser the owner never used, from a new address, mid-flood | {} |\n| 300 half-sent requests: the last closed after | {} ({slow_open} still open after 60 s) |\n| slow CSV reader: bytes in 30 s | {crawled} |\n| mails sent / failed | {} / {} |\n| this process (portal + clients): RSS start → end | {rss0:.0} → {rss1:.0} MiB |\n| this process: open fds start → end | {fds0} → {fds1} |",
        window.0,
        outage_at + OUTAGE.as_secs_f64(),
        recovered.map_or("not within 30 s".to_owned(), |d| format!(
            "{:.1} s",
            d.as_secs_f64()
        )),
        metric("portal_erp_reads_total"),
        metric("portal_erp_read_failures_total"),
        {
            let mut v: Vec<_> = flood_counts.into_iter().collect();
            v.sort();
            v
        },
        kept_out.as_secs_f64(),
        new_browser.map_or(
            format!(
                "still waiting when the run ended ({:.0} s)",
                new_browser_limit.as_secs_f64()
            ),
            |d| format!("in after {:.1} s", d.as_secs_f64())
        ),
        slow_closed.map_or("–".to_owned(), |d| format!("{:.1} s", d.as_secs_f64())),
        metric("portal_mails_total{outcome=\"sent\"}"),
        metric("portal_mails_total{outcome=\"failed\"}"),
    );
    let examples = rec.examples.lock().unwrap();
    if !examples.is_empty() {
        println!("\nFirst failures:");
        for e in examples.iter() {
            println!("- {e}");
        }
    }
}

/// The demo Deacom database the portal generates in `DATA_DIR`, opened read-only.
fn demo_erp(dir: &Path, rows: u32) -> Arc<dyn ErpSource> {
    let path = dir.join("deacom-demo.db");
    customer_portal::erp::demo::ensure(&path, rows, time::OffsetDateTime::now_utc().date())
        .unwrap();
    Arc::new(customer_portal::erp::deacom_sqlite::DeacomSqlite::open(&path).unwrap())
}

/// Prepares a data directory (demo ERP and `sessions` customers) for the real binary.
async fn prepare_binary_dir(dir: &Path, rows: u32, sessions: usize) {
    let vars = config_vars(dir, &[("DEMO_ERP_ROWS", rows.to_string())]);
    let mut config = Config::from_vars(&vars).unwrap();
    config.seed_demo_accounts = false;
    let app = Application::build(config).await.unwrap();
    let store = app.state().store.clone();
    let names = demo_erp(dir, rows).customer_names().await.unwrap();
    add_customers(&store, &names[..names.len().min(12)], sessions).await;
    drop(app);
}

struct Child {
    process: std::process::Child,
    base: String,
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn spawn_binary(dir: &Path, rows: u32, extra: &[(&str, &str)]) -> Child {
    let port = free_port();
    let log = std::fs::File::create(dir.join("portal.log")).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_customer-portal"));
    cmd.env("DATA_DIR", dir)
        .env("PORT", port.to_string())
        .env("DEMO_ERP_ROWS", rows.to_string())
        .env("TRUSTED_PROXIES", "127.0.0.1")
        .env("RUST_LOG", "warn")
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    // In the guard at once: it is killed and reaped however this function ends.
    let child = Child {
        process: cmd.spawn().unwrap(),
        base: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(r) = client().get(format!("{}/healthz", child.base)).send().await
            && r.status().is_success()
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "the portal did not start; see {}",
        dir.join("portal.log").display()
    );
}

async fn phase_sigterm(rows: u32) {
    let dir = tempfile::tempdir().unwrap();
    prepare_binary_dir(dir.path(), rows, 1).await;
    let mut child = spawn_binary(dir.path(), rows, &[("SHUTDOWN_GRACE_SECONDS", "5")]).await;
    let (c, _) = sign_in(&child.base, "load0@example.com", None)
        .await
        .unwrap();
    let mut export = c
        .get(format!("{}/inventory/export.xlsx", child.base))
        .send()
        .await
        .unwrap();
    let first = export.chunk().await.unwrap().map_or(0, |b| b.len());
    let pid = child.process.id() as i32;
    // SAFETY: sending a signal to our own child process; no memory is involved.
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    let signalled = Instant::now();
    // The slow reader keeps reading at a crawl; shutdown must not wait for it forever.
    let reader = tokio::spawn(async move {
        let mut got = first;
        loop {
            match export.chunk().await {
                Ok(Some(b)) => got += b.len(),
                _ => return got,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let status = loop {
        if let Some(s) = child.process.try_wait().unwrap() {
            break s;
        }
        if signalled.elapsed() > Duration::from_secs(60) {
            panic!("the portal did not exit within 60 s of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let exited_after = signalled.elapsed();
    let read = reader.await.unwrap();
    let db = rusqlite::Connection::open(dir.path().join("portal.db")).ok();
    let integrity: String = db
        .and_then(|d| d.query_row("PRAGMA integrity_check", [], |r| r.get(0)).ok())
        .unwrap_or_else(|| "app database not found".into());
    println!(
        "\n## SIGTERM during a slowly read XLSX export ({rows} rows, SHUTDOWN_GRACE_SECONDS=5)\n\n| figure | value |\n|---|---|\n| exit after SIGTERM | {:.1} s, {status} |\n| export bytes the reader got | {read} |\n| app database `PRAGMA integrity_check` | {integrity} |",
        exited_after.as_secs_f64()
    );
}

/// `moving`: stock moves in the ERP all the time (a random lot's balance changes every
/// second), so most re-reads of the largest scope find a change and build a new snapshot;
/// otherwise the demo's stock stands still and re-reads find the rows they had.
async fn phase_soak(rows: u32, sessions: usize, seconds: u64, moving: bool) {
    let dir = tempfile::tempdir().unwrap();
    prepare_binary_dir(dir.path(), rows, sessions).await;
    // The history lines are logged too: the demo writes its history in the background at
    // start-up, and the soak says when that ended beside the memory it samples.
    let child = spawn_binary(
        dir.path(),
        rows,
        &[
            ("ERP_CACHE_SECONDS", "5"),
            (
                "RUST_LOG",
                "warn,history=info,customer_portal::history=info,customer_portal::inventory=info",
            ),
        ],
    )
    .await;
    let pid = child.process.id().to_string();
    let rec = Arc::new(Recorder::default());
    let start = Instant::now();
    let start_wall = time::OffsetDateTime::now_utc();
    let stock = moving.then(|| {
        let erp = dir.path().join("deacom-demo.db");
        let until = start + Duration::from_secs(seconds);
        tokio::task::spawn_blocking(move || {
            let db = rusqlite::Connection::open(erp).unwrap();
            db.busy_timeout(Duration::from_secs(5)).unwrap();
            let lots: i64 = db
                .query_row("SELECT MAX(fi_id) FROM dtfifo", [], |r| r.get(0))
                .unwrap();
            let mut moves = 0u64;
            while Instant::now() < until {
                std::thread::sleep(Duration::from_secs(1));
                let lot = rand::rng().random_range(1..=lots);
                moves += db
                    .execute(
                        "UPDATE dtfifo SET fi_balance = fi_balance + 1 WHERE fi_id = ?1 AND fi_balance > 0",
                        [lot],
                    )
                    .unwrap() as u64;
            }
            moves
        })
    });
    let until = start + Duration::from_secs(seconds);
    let fds0 = open_fds(&pid);
    let rss0 = rss_mib(&pid);
    let mut tasks = Vec::new();
    for i in 0..sessions {
        tasks.push(tokio::spawn(browse(
            child.base.clone(),
            format!("load{i}@example.com"),
            rec.clone(),
            start,
            until,
            i,
        )));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let peak = Arc::new(AtomicU64::new(0));
    let mut samples = Vec::new();
    // Beside each RSS sample, what might explain it: the kinds of resident memory, the
    // threads, the app database's WAL, and the portal's own gauges.
    let mut detail = vec![SoakDetail::HEADER.to_owned()];
    // Every second too: a 10-second sample can fall into step with the 5-second re-reads
    // (each holds a second copy of a scope's rows for a moment) and see only their peaks,
    // or only their troughs, for a minute at a time.
    let mut every_second: Vec<(f64, f64)> = Vec::new();
    let mut next_detail = start + Duration::from_secs(10);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = rss_mib(&pid);
        every_second.push((start.elapsed().as_secs_f64(), rss));
        if Instant::now() < next_detail {
            continue;
        }
        next_detail += Duration::from_secs(10);
        peak.fetch_max(rss as u64, Ordering::Relaxed);
        samples.push((start.elapsed().as_secs(), rss));
        let d = SoakDetail::sample(&pid, dir.path(), &child.base).await;
        detail.push(d.row(start.elapsed().as_secs(), rss));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let moves = match stock {
        Some(s) => s.await.unwrap(),
        None => 0,
    };
    let fds1 = open_fds(&pid);
    let at_minute = samples.iter().find(|(t, _)| *t >= 60).map_or(rss0, |s| s.1);
    let end = samples.last().map_or(rss0, |s| s.1);
    let in_band = samples
        .iter()
        .filter(|(t, _)| *t >= 60)
        .map(|(_, r)| (r / at_minute - 1.0) * 100.0)
        .fold((0.0f64, 0.0f64), |(lo, hi), d| (lo.min(d), hi.max(d)));
    // Then nobody: what the process gives back within a minute of the last request.
    tokio::time::sleep(Duration::from_secs(60)).await;
    let idle = rss_mib(&pid);
    let (errors, table) = rec.report(None);
    println!(
        "\n## Memory soak: the real binary, {sessions} sessions, {rows} rows, ERP_CACHE_SECONDS=5, {seconds} s, {}\n",
        if moving {
            format!("stock moving ({moves} lots changed, one a second)")
        } else {
            "stock standing still".to_owned()
        }
    );
    print!("{table}");
    let curve: Vec<String> = samples
        .iter()
        .filter(|(t, _)| t % 60 < 10)
        .map(|(t, r)| format!("{t} s: {r:.0}"))
        .collect();
    let every: Vec<String> = samples.iter().map(|(_, r)| format!("{r:.0}")).collect();
    println!("\nevery 10-second sample (MiB): {}", every.join(" "));
    let first_minute: Vec<f64> = every_second
        .iter()
        .filter(|(t, _)| (50.0..70.0).contains(t))
        .map(|(_, r)| *r)
        .collect();
    let after: Vec<f64> = every_second
        .iter()
        .filter(|(t, _)| *t >= 60.0)
        .map(|(_, r)| *r)
        .collect();
    if !first_minute.is_empty() && !after.is_empty() {
        let base = median(first_minute);
        let mut sorted = after.clone();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize];
        let (max_t, _) = every_second.iter().filter(|(t, _)| *t >= 60.0).fold(
            (0.0, f64::MIN),
            |best, &(t, r)| if r > best.1 { (t, r) } else { best },
        );
        let pct = |v: f64| (v / base - 1.0) * 100.0;
        println!(
            "\nevery second after the first minute ({} samples) vs the median of 50–70 s ({base:.0} MiB): min {:+.1}%, p5 {:+.1}%, median {:+.1}%, p95 {:+.1}%, max {:+.1}% (at {max_t:.0} s)",
            sorted.len(),
            pct(at(0.0)),
            pct(at(0.05)),
            pct(at(0.5)),
            pct(at(0.95)),
            pct(at(1.0))
        );
    }
    println!("\nwhat each sample held:\n");
    for line in &detail {
        println!("{line}");
    }
    let log = std::fs::read_to_string(dir.path().join("portal.log")).unwrap_or_default();
    println!("\nhistory lines of the log (the soak began at {start_wall}):");
    for line in log.lines().filter(|l| l.contains("history")).take(20) {
        println!("    {}", line.chars().take(200).collect::<String>());
    }
    // The slowest ERP reads and every warning, beside the samples above.
    let elapsed = |l: &str| -> u64 {
        l.split("elapsed_ms=")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let mut reads: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("inventory read from ERP"))
        .collect();
    let kept = reads.iter().filter(|l| l.contains("unchanged")).count();
    println!(
        "\nERP reads logged: {} ({kept} found their scope unchanged and kept its snapshot)",
        reads.len()
    );
    reads.sort_by_key(|l| std::cmp::Reverse(elapsed(l)));
    println!("the ten slowest:");
    for line in reads.iter().take(10) {
        println!("    {}", line.chars().take(220).collect::<String>());
    }
    println!("warnings and errors (first 30):");
    for line in log
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"))
        .take(30)
    {
        println!("    {}", line.chars().take(220).collect::<String>());
    }
    // The reads of each scope around the samples where the cache's bytes fell.
    println!("reads of the largest scope (All), first and last 5 and any slower than 2 s:");
    let all: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("inventory read from ERP") && l.contains("All"))
        .collect();
    for (i, line) in all.iter().enumerate() {
        if i < 5 || i + 5 >= all.len() || elapsed(line) > 2000 {
            println!("    {}", line.chars().take(220).collect::<String>());
        }
    }
    println!(
        "\n| figure | value |\n|---|---|\n| errors | {errors} |\n| RSS at start → after 1 min → end (peak) | {rss0:.0} → {at_minute:.0} → {end:.0} MiB ({} MiB) |\n| end vs after 1 min | {:+.1}% |\n| every sample after the first minute vs after 1 min | {:+.1}% … {:+.1}% |\n| after 60 s idle vs after 1 min | {idle:.0} MiB ({:+.1}%) |\n| RSS each minute (MiB) | {} |\n| open fds start → end | {fds0} → {fds1} |",
        peak.load(Ordering::Relaxed),
        (end / at_minute - 1.0) * 100.0,
        in_band.0,
        in_band.1,
        (idle / at_minute - 1.0) * 100.0,
        curve.join(", ")
    );
    drop(child);
}

/// What one soak sample saw besides the resident size.
struct SoakDetail {
    anon: f64,
    file: f64,
    shmem: f64,
    threads: f64,
    wal_mib: f64,
    gauges: Vec<f64>,
}

impl SoakDetail {
    /// The portal's own series shown per sample, in this order.
    const SERIES: [&'static str; 7] = [
        "portal_inventory_cache_bytes",
        "portal_inventory_cache_scopes",
        "portal_inventory_pinned_snapshots",
        "portal_inventory_pinned_bytes",
        "portal_erp_reads_total",
        "portal_app_db_pool_in_use",
        "portal_erp_read_failures_total",
    ];
    const HEADER: &'static str = "| s | RSS | anon | file | shmem | threads | WAL MiB | cache MiB | scopes | pinned | pinned MiB | ERP reads | db in use | ERP failures |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    async fn sample(pid: &str, dir: &Path, base: &str) -> Self {
        let text = match client().get(format!("{base}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        // A series may carry labels; the unlabelled or summed value is what is wanted.
        let gauge = |name: &str| -> f64 {
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .filter(|l| {
                    l.strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
                })
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        };
        let wal = std::fs::metadata(dir.join("portal.db-wal")).map_or(0, |m| m.len());
        Self {
            anon: status_kib(pid, "RssAnon:") / 1024.0,
            file: status_kib(pid, "RssFile:") / 1024.0,
            shmem: status_kib(pid, "RssShmem:") / 1024.0,
            threads: status_kib(pid, "Threads:"),
            wal_mib: wal as f64 / 1_048_576.0,
            gauges: Self::SERIES.iter().map(|s| gauge(s)).collect(),
        }
    }

    fn row(&self, at: u64, rss: f64) -> String {
        let g = &self.gauges;
        format!(
            "| {at} | {rss:.0} | {:.0} | {:.0} | {:.1} | {:.0} | {:.1} | {:.1} | {:.0} | {:.0} | {:.1} | {:.0} | {:.0} | {:.0} |",
            self.anon,
            self.file,
            self.shmem,
            self.threads,
            self.wal_mib,
            g[0] / 1_048_576.0,
            g[1],
            g[2],
            g[3] / 1_048_576.0,
            g[4],
            g[5],
            g[6]
        )
    }
}

/// The largest operation a token may run: 20,000 rows, every field, through a fragment.
const COSTLIEST: &str = "{ inventory(first: 5000) { ...R } } fragment R on InventoryConnection { a: rows { ...F } b: rows { ...F } c: rows { ...F } d: rows { ...F } } fragment F on InventoryRow { customer part customerPart description onHandQty unit bin reference userLot expDate lastTransactionDate lastRecDate po status }";

/// One customer sign-in's time, signing in from scratch.
async fn timed_sign_in(base: &str) -> f64 {
    let began = Instant::now();
    sign_in(base, "load0@example.com", None).await.unwrap();
    began.elapsed().as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The admin settings `bench_token` signs in with.
fn admin_settings() -> [(&'static str, String); 2] {
    [
        ("ADMIN_USERNAME", "cp_admin".to_owned()),
        (
            "ADMIN_PASSWORD_HASH",
            werkzeug_hash::generate(ADMIN_PASSWORD),
        ),
    ]
}

/// An API token on `All` with a budget large enough not to be the limit, issued by the
/// admin of [`admin_settings`] as an admin would.
async fn bench_token(base: &str) -> String {
    let admin = client();
    let csrf = page_csrf(&admin, format!("{base}/admin-login")).await;
    let resp = admin
        .post(format!("{base}/admin-login"))
        .form(&[
            ("username", "cp_admin"),
            ("password", ADMIN_PASSWORD),
            ("hp_email", ""),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "admin sign-in");
    let csrf = page_csrf(&admin, format!("{base}/admin/api")).await;
    let created: serde_json::Value = admin
        .post(format!("{base}/graphql"))
        .header("X-CSRF-Token", csrf)
        .json(&serde_json::json!({
            "query": "mutation($i: ApiTokenInput!) { createApiToken(input: $i) { secret } }",
            "variables": { "i": { "name": "bench", "scopes": ["inventory:read"], "erpCustomerNames": ["All"], "rowsPerMinute": 10_000_000 } }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["data"]["createApiToken"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned()
}

async fn phase_costly(rows: u32, seconds: u64) {
    let dir = tempfile::tempdir().unwrap();
    prepare_binary_dir(dir.path(), rows, 1).await;
    let admin = admin_settings();
    let settings: Vec<(&str, &str)> = admin.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let child = spawn_binary(dir.path(), rows, &settings).await;
    let base = child.base.clone();
    let pid = child.process.id().to_string();
    let secret = bench_token(&base).await;
    let tool = reqwest::Client::new();
    let ask = |tool: reqwest::Client, base: String, secret: String| async move {
        let r = tool
            .post(format!("{base}/graphql"))
            .bearer_auth(secret)
            .json(&serde_json::json!({ "query": COSTLIEST }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.bytes().await.unwrap();
        (status, body.len())
    };
    // Warm: the rows are read once, the first answer is measured.
    let (status, bytes) = ask(tool.clone(), base.clone(), secret.clone()).await;
    assert!(status.is_success(), "{status}");
    let mut idle = Vec::new();
    for _ in 0..7 {
        idle.push(timed_sign_in(&base).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss0 = rss_mib(&pid);
    let until = Instant::now() + Duration::from_secs(seconds);
    let answered = Arc::new(AtomicU64::new(0));
    let mut tools = Vec::new();
    for _ in 0..4 {
        let (tool, base, secret, answered) =
            (tool.clone(), base.clone(), secret.clone(), answered.clone());
        tools.push(tokio::spawn(async move {
            while Instant::now() < until {
                let (status, _) = ask(tool.clone(), base.clone(), secret.clone()).await;
                assert!(status.is_success(), "{status}");
                answered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let sampler = {
        let pid = pid.clone();
        tokio::spawn(async move {
            let mut peak: f64 = 0.0;
            while Instant::now() < until {
                peak = peak.max(rss_mib(&pid));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        })
    };
    let mut busy = Vec::new();
    while Instant::now() < until {
        busy.push(timed_sign_in(&base).await);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for t in tools {
        t.await.unwrap();
    }
    let peak = sampler.await.unwrap();
    println!(
        "\n## Four tools running the costliest accepted query ({rows} rows, 20,000 rows an answer, {seconds} s)\n\n| figure | value |\n|---|---|\n| one answer | {:.1} MB |\n| answers in {seconds} s | {} |\n| RSS before → peak | {rss0:.0} → {peak:.0} MiB (+{:.0} MiB) |\n| a customer's sign-in p50: idle → during | {:.0} ms → {:.0} ms ({} sign-ins) |",
        bytes as f64 / 1e6,
        answered.load(Ordering::Relaxed),
        peak - rss0,
        median(idle),
        median(busy.clone()),
        busy.len(),
    );
    drop(child);
}

const PULL: &str = "query($after: String) { inventory(first: 5000, after: $after) { totalCount nextCursor rows { customer part customerPart description onHandQty unit bin reference userLot expDate lastTransactionDate lastRecDate po status } } }";

/// What one full pull through cursors took.
struct Pulled {
    seconds: f64,
    pages: usize,
    rows: usize,
    distinct: usize,
    total: usize,
    /// Refusals (429) waited out, and pulls started over after an expired cursor.
    waits: usize,
    restarts: usize,
}

/// Pulls every row of the token's scope, 5,000 a page, as a tool would: it waits out a
/// 429 for its `Retry-After` and starts over when a cursor has expired.
async fn full_pull(base: &str, secret: &str) -> Pulled {
    use std::collections::HashSet;
    let tool = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let began = Instant::now();
    let (mut waits, mut restarts) = (0, 0);
    'again: loop {
        let (mut pages, mut rows) = (0, 0);
        let mut seen = HashSet::new();
        let mut after = serde_json::Value::Null;
        loop {
            let r = tool
                .post(format!("{base}/graphql"))
                .bearer_auth(secret)
                .json(&serde_json::json!({ "query": PULL, "variables": { "after": after } }))
                .send()
                .await
                .unwrap();
            if r.status() == 429 {
                let wait: u64 = r.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                waits += 1;
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            let body: serde_json::Value = r.json().await.unwrap();
            if let Some(e) = body.get("errors") {
                if e.to_string().contains("CURSOR_EXPIRED") && restarts < 20 {
                    restarts += 1;
                    continue 'again;
                }
                panic!("the pull failed: {e}");
            }
            let inv = &body["data"]["inventory"];
            let total = inv["totalCount"].as_u64().unwrap() as usize;
            for row in inv["rows"].as_array().unwrap() {
                rows += 1;
                seen.insert(row.to_string());
            }
            pages += 1;
            after = inv["nextCursor"].clone();
            if after.is_null() {
                return Pulled {
                    seconds: began.elapsed().as_secs_f64(),
                    pages,
                    rows,
                    distinct: seen.len(),
                    total,
                    waits,
                    restarts,
                };
            }
        }
    }
}

/// `kinds`' p95 in ms over the answered requests of `rec`.
fn p95_of(rec: &Recorder, kinds: &[&str]) -> f64 {
    let samples = rec.samples.lock().unwrap();
    let mut ms: Vec<f64> = samples
        .iter()
        .filter(|s| s.ok && kinds.contains(&s.kind))
        .map(|s| s.ms)
        .collect();
    ms.sort_by(f64::total_cmp);
    ms.get(((ms.len().max(1) - 1) as f64 * 0.95).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

/// Runs `sessions` browsers for `seconds`; their recorder.
async fn browsers(base: &str, sessions: usize, seconds: u64) -> Arc<Recorder> {
    let rec = Arc::new(Recorder::default());
    let start = Instant::now();
    let until = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for i in 0..sessions {
        tasks.push(tokio::spawn(browse(
            base.to_owned(),
            format!("load{i}@example.com"),
            rec.clone(),
            start,
            until,
            i,
        )));
    }
    for t in tasks {
        t.await.unwrap();
    }
    rec
}

/// A tool's full pull while browsers scroll (the real binary): the pull alone, the
/// browsers alone, then both at once.
async fn phase_pull(rows: u32, sessions: usize, seconds: u64, cache_seconds: &str) {
    let dir = tempfile::tempdir().unwrap();
    prepare_binary_dir(dir.path(), rows, sessions).await;
    let admin = admin_settings();
    let mut settings: Vec<(&str, &str)> = admin.iter().map(|(k, v)| (*k, v.as_str())).collect();
    settings.push(("ERP_CACHE_SECONDS", cache_seconds));
    let child = spawn_binary(dir.path(), rows, &settings).await;
    let base = child.base.clone();
    let pid = child.process.id().to_string();
    let secret = bench_token(&base).await;
    full_pull(&base, &secret).await; // warm: the rows are read once
    let alone = full_pull(&base, &secret).await;
    let quiet = browsers(&base, sessions, seconds).await;
    let rss0 = rss_mib(&pid);
    let busy_browsers = {
        let base = base.clone();
        tokio::spawn(async move { browsers(&base, sessions, seconds).await })
    };
    tokio::time::sleep(Duration::from_secs(5)).await;
    let busy = full_pull(&base, &secret).await;
    let rss1 = rss_mib(&pid);
    let busy_rec = busy_browsers.await.unwrap();
    let kinds = ["page", "grid", "scroll"];
    let (p_quiet, p_busy) = (p95_of(&quiet, &kinds), p95_of(&busy_rec, &kinds));
    let (errors, table) = busy_rec.report(None);
    println!(
        "\n## A tool's full pull while {sessions} browsers scroll ({rows} rows, ERP_CACHE_SECONDS={cache_seconds})\n\n| figure | value |\n|---|---|\n| pull alone | {:.1} s, {} pages, {} rows ({} distinct) of {} |\n| pull beside the browsers | {:.1} s, {} pages, {} rows ({} distinct) of {}; {} waits on 429, {} restarts |\n| browser page/grid/scroll p95: alone → beside the pull | {p_quiet:.0} ms → {p_busy:.0} ms (×{:.2}) |\n| browser errors beside the pull | {errors} |\n| RSS before → after the pull | {rss0:.0} → {rss1:.0} MiB |\n\nBrowsers beside the pull:\n\n{table}",
        alone.seconds,
        alone.pages,
        alone.rows,
        alone.distinct,
        alone.total,
        busy.seconds,
        busy.pages,
        busy.rows,
        busy.distinct,
        busy.total,
        busy.waits,
        busy.restarts,
        p_busy / p_quiet,
    );
    drop(child);
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo bench` passes --bench; nothing else is taken from the command line.
    let rows = env_num("LOAD_ROWS", 50_000) as u32;
    let sessions = env_num("LOAD_SESSIONS", 100) as usize;
    let seconds = env_num("LOAD_SECONDS", 150).max(60);
    let soak = env_num("SOAK_SECONDS", 600);
    println!(
        "load and fault suite: {rows} rows, {sessions} sessions, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let costly = env_num("COSTLY_SECONDS", 30);
    let only = std::env::var("LOAD_PHASES").unwrap_or_default();
    let wanted = |p: &str| only.is_empty() || only.split(',').any(|x| x.trim() == p);
    if wanted("mixed") {
        phase_mixed(rows, sessions, seconds).await;
    }
    if wanted("sigterm") {
        phase_sigterm(rows).await;
    }
    if soak > 0 && wanted("soak") {
        phase_soak(rows, sessions, soak, false).await;
    }
    if soak > 0 && wanted("soak-moving") {
        phase_soak(rows, sessions, soak, true).await;
    }
    if costly > 0 && wanted("costly") {
        phase_costly(rows, costly).await;
    }
    let pull_seconds = env_num("PULL_SECONDS", 60);
    if pull_seconds > 0 && wanted("pull") {
        let pull_rows = env_num("PULL_ROWS", 200_000) as u32;
        let pull_sessions = env_num("PULL_SESSIONS", 50) as usize;
        phase_pull(pull_rows, pull_sessions, pull_seconds, "5").await;
        phase_pull(pull_rows, pull_sessions, pull_seconds, "3600").await;
    }
}
