//! Performance as a person feels it: `cargo bench --bench browser_feel` (needs Chromium and
//! chromedriver; skipped with a message otherwise).
//!
//! Starts the real release binary on `FEEL_ROWS` (200,000) demo rows, signs an `All`
//! customer in through headless Chromium and measures, in the page, from the user's action
//! to the next painted frame that shows the result (two `requestAnimationFrame`s after htmx
//! settled the swap): the first page, a header click, a Part pick in the picker, a Status
//! pick, a search (debounce included) and a scroll for more rows. Each is repeated
//! `FEEL_RUNS` (7) times; the median and the worst are printed as Markdown, with the
//! server's own time for the same request (from the browser's resource timing) so the
//! rest is what the browser spends parsing, swapping and painting.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use customer_portal::config::Config;
use customer_portal::startup::Application;
use serde_json::{Value, json};

#[path = "common/mod.rs"]
mod common;
use common::{env_num, free_port};

const PASSWORD: &str = "feel-password-123";

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A minimal WebDriver client: one session, scripts and clicks.
struct WebDriver {
    http: reqwest::Client,
    session: String,
}

impl WebDriver {
    async fn post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.session))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()["value"]
            .clone()
    }
    async fn go(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }
    async fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", json!({ "script": js, "args": [] }))
            .await
    }
    async fn script_async(&self, js: &str) -> Value {
        self.post("/execute/async", json!({ "script": js, "args": [] }))
            .await
    }
    async fn element(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let v = self
                .post("/element", json!({ "using": "css selector", "value": css }))
                .await;
            if let Some(id) = v
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(|v| v.as_str())
            {
                return id.to_owned();
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no {css}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    async fn type_into(&self, css: &str, text: &str) {
        let el = self.element(css).await;
        self.post(&format!("/element/{el}/value"), json!({ "text": text }))
            .await;
    }
    async fn click(&self, css: &str) {
        let el = self.element(css).await;
        self.post(&format!("/element/{el}/click"), json!({})).await;
    }
    async fn wait_for(&self, js: &str) {
        let started = Instant::now();
        while self.script(&format!("return !!({js});")).await != Value::Bool(true) {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "waited for {js}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Installs the in-page stopwatch: `__measure(start)` runs `start()` (the user's action),
/// then resolves with the milliseconds to the second frame after the next htmx settle, and
/// the server time of the last grid/options/rows request.
const STOPWATCH: &str = r#"
window.__measure = function (start, done) {
  performance.clearResourceTimings();
  const t0 = performance.now();
  document.body.addEventListener('htmx:afterSettle', function () {
    requestAnimationFrame(() => requestAnimationFrame(() => {
      const t1 = performance.now();
      const r = performance.getEntriesByType('resource')
        .filter(e => /\/inventory\/(grid|rows|options)/.test(e.name)).pop();
      done({ total: t1 - t0, server: r ? r.responseStart - r.requestStart : null,
             download: r ? r.responseEnd - r.responseStart : null, bytes: r ? r.transferSize : null });
    }));
  }, { once: true });
  start();
};
return 1;
"#;

struct Figure {
    label: &'static str,
    totals: Vec<f64>,
    servers: Vec<f64>,
}

impl Figure {
    fn row(&mut self) -> String {
        self.totals.sort_by(f64::total_cmp);
        self.servers.sort_by(f64::total_cmp);
        let med = |v: &[f64]| {
            if v.is_empty() {
                "–".to_owned()
            } else {
                format!("{:.0} ms", v[v.len() / 2])
            }
        };
        format!(
            "| {} | {} | {} | {} |",
            self.label,
            med(&self.totals),
            self.totals
                .last()
                .map_or("–".to_owned(), |w| format!("{w:.0} ms")),
            med(&self.servers)
        )
    }
}

async fn measure(wd: &WebDriver, action_js: &str) -> (f64, Option<f64>) {
    let v = wd
        .script_async(&format!(
            "const done = arguments[arguments.length - 1]; window.__measure(() => {{ {action_js} }}, done);"
        ))
        .await;
    (
        v["total"].as_f64().unwrap_or(f64::NAN),
        v["server"].as_f64(),
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let (Some(chromium), Some(chromedriver)) = (
        find(&["chromium", "chromium-browser", "google-chrome"]),
        find(&["chromedriver"]),
    ) else {
        println!("SKIPPED: browser_feel needs chromium and chromedriver on PATH");
        return;
    };
    let rows = env_num("FEEL_ROWS", 200_000) as u32;
    let runs = env_num("FEEL_RUNS", 7) as usize;
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path(), rows).await;

    let port = free_port();
    let log = std::fs::File::create(dir.path().join("portal.log")).unwrap();
    let _portal = Killed(
        Command::new(env!("CARGO_BIN_EXE_customer-portal"))
            .env("DATA_DIR", dir.path())
            .env("PORT", port.to_string())
            .env("DEMO_ERP_ROWS", rows.to_string())
            .env("ERP_CACHE_SECONDS", "3600")
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(120));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let driver_port = free_port();
    let _driver = Killed(
        Command::new(&chromedriver)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let driver = format!("http://127.0.0.1:{driver_port}");
    while http.get(format!("{driver}/status")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().unwrap();
    let caps = json!({ "capabilities": { "alwaysMatch": { "goog:chromeOptions": {
        "binary": chromium.to_str().unwrap(),
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1366,900",
                 format!("--user-data-dir={}", profile.path().display())],
    }}}});
    let session: Value = http
        .post(format!("{driver}/session"))
        .json(&caps)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = session["value"]["sessionId"].as_str().unwrap().to_owned();
    let wd = WebDriver {
        http: http.clone(),
        session: format!("{driver}/session/{id}"),
    };

    wd.go(&format!("{base}/login")).await;
    wd.type_into("#email", "feel@example.com").await;
    wd.type_into("#password", PASSWORD).await;
    wd.click("form[action='/login'] button[type=submit]").await;
    wd.wait_for("document.querySelector('#inv-count')").await;

    let mut figures = Vec::new();

    // The first page: navigation start to the grid painted (the cache is warm after the
    // sign-in's page).
    let mut first = Figure {
        label: "first page (navigation → grid painted)",
        totals: Vec::new(),
        servers: Vec::new(),
    };
    for _ in 0..runs {
        wd.go(&format!("{base}/inventory?reset=1")).await;
        wd.wait_for("document.querySelector('#inv-count')").await;
        let v = wd
            .script_async(
                "const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => {
                   const nav = performance.getEntriesByType('navigation')[0];
                   const paint = performance.getEntriesByName('first-contentful-paint')[0];
                   done({ total: paint ? paint.startTime : performance.now(), server: nav.responseStart - nav.requestStart });
                 }));",
            )
            .await;
        first.totals.push(v["total"].as_f64().unwrap());
        if let Some(s) = v["server"].as_f64() {
            first.servers.push(s);
        }
    }
    figures.push(first);

    let actions: [(&'static str, &str, &str); 5] = [
        (
            "header click (sort by On Hand Qty, toggling)",
            "document.querySelector(\"th a.sort[href*='sort=onHandQty']\").click();",
            "",
        ),
        (
            "Status pick",
            "const s = document.querySelector('#inv-status'); s.value = s.value === 'Available' ? 'Quarantined' : 'Available'; s.dispatchEvent(new Event('change', { bubbles: true }));",
            "",
        ),
        (
            "Part pick in the picker (an option chosen)",
            "const o = [...document.querySelectorAll('#inv-part-list [role=option][data-value]')].filter(o => o.dataset.value)[window.__pick = ((window.__pick || 0) + 1) % 5]; o.dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));",
            "part",
        ),
        (
            "search typed (300 ms debounce included)",
            "const q = document.querySelector('#inv-q'); q.value = q.value === 'butter' ? 'soap' : 'butter'; q.dispatchEvent(new Event('input', { bubbles: true }));",
            "",
        ),
        (
            "scroll to the next 50 rows (after the first 30)",
            "const w = document.querySelector('.table-wrap'); w.scrollTop = w.scrollHeight;",
            "scroll",
        ),
    ];
    for (label, js, prep) in actions {
        let mut fig = Figure {
            label,
            totals: Vec::new(),
            servers: Vec::new(),
        };
        for _ in 0..runs {
            match prep {
                "part" => {
                    // Open the picker with its first options loaded (not timed).
                    wd.go(&format!("{base}/inventory?reset=1")).await;
                    wd.wait_for("document.querySelector('#inv-count')").await;
                    wd.click("#inv-part").await;
                    wd.type_into("#inv-part", "1").await;
                    wd.wait_for("document.querySelectorAll('#inv-part-list [role=option][data-value]').length > 5")
                        .await;
                }
                "scroll" => {
                    wd.go(&format!("{base}/inventory?reset=1")).await;
                    wd.wait_for("document.querySelector('tr.inv-more')").await;
                }
                _ => {}
            }
            wd.script(STOPWATCH).await;
            let (total, server) = measure(&wd, js).await;
            fig.totals.push(total);
            if let Some(s) = server {
                fig.servers.push(s);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        figures.push(fig);
    }
    // A header clicked the moment the page has painted, each run on another column: the
    // first sort of that column on these rows, unless it was sorted ahead after the read
    // (before anyone sorts: Exp Date, On Hand, Description).
    let mut first_clicks = Vec::new();
    for field in [
        "expDate",
        "onHandQty",
        "description",
        "userLot",
        "bin",
        "reference",
        "part",
    ] {
        wd.go(&format!("{base}/inventory?reset=1")).await;
        wd.wait_for("document.querySelector('#inv-count')").await;
        wd.script(STOPWATCH).await;
        let (total, server) = measure(
            &wd,
            &format!("document.querySelector(\"th a.sort[href*='sort={field}']\").click();"),
        )
        .await;
        first_clicks.push((field, total, server));
    }
    let _ = http.delete(wd.session.clone()).send().await;

    println!(
        "\n## In the browser: {rows} rows, `All` account, headless Chromium 1366×900, {runs} runs each\n"
    );
    println!("| action → painted | median | worst | server time (median) |\n|---|---|---|---|");
    for f in &mut figures {
        println!("{}", f.row());
    }
    println!(
        "\n| header clicked as soon as the page painted (first sort of the column) | painted | server |\n|---|---|---|"
    );
    for (field, total, server) in first_clicks {
        println!(
            "| {field} | {total:.0} ms | {} |",
            server.map_or("–".to_owned(), |s| format!("{s:.0} ms"))
        );
    }
}

/// A data directory with the demo ERP and one `All` customer.
async fn prepare(dir: &Path, rows: u32) {
    let vars = [
        ("PORT", "0".to_owned()),
        ("DATA_DIR", dir.display().to_string()),
        ("DEMO_ERP_ROWS", rows.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut config = Config::from_vars(&vars).unwrap();
    config.seed_demo_accounts = false;
    let app = Application::build(config).await.unwrap();
    common::add_customer(
        &app.state().store,
        "feel@example.com",
        &werkzeug_hash::generate(PASSWORD),
        "All",
    )
    .await;
}
