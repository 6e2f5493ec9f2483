//! A minimal W3C WebDriver client over reqwest, for the browser tests: start chromedriver,
//! open a headless Chromium session, find, type, click, read, run script, screenshot.
//! Written here rather than taken from fantoccini (the crate we would use): fantoccini
//! 0.22 brings webdriver 0.53, and with it a second `http`, `cookie`, `thiserror` and the
//! whole ICU 1.x stack — `cargo tree -d -e normal,dev` went from 35 to 57 duplicated
//! crates when we tried it — for a protocol part of about 150 lines: the few calls the
//! tests need (session, find, type, click, script, keys, screenshot) over reqwest, which
//! the tests use anyway.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

const CHROMIUM: &[&str] = &[
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
];
const CHROMEDRIVER: &[&str] = &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];

/// Chromium and chromedriver, or `None` with a loud message; under CI (which installs
/// both) a missing one fails the test instead.
pub fn browser_programs() -> Option<(PathBuf, PathBuf)> {
    browser_programs_in(
        CHROMIUM,
        CHROMEDRIVER,
        crate::helpers::under_ci(),
        "browser test: chromium and chromedriver are not installed (apt-get install -y chromium chromium-driver; .ci/run does this)",
    )
}

fn browser_programs_in(
    chromium: &[&str],
    driver: &[&str],
    ci: bool,
    missing: &str,
) -> Option<(PathBuf, PathBuf)> {
    let found = find_program(chromium).zip(find_program(driver));
    crate::helpers::require_tool(found, missing, ci)
}

#[test]
fn without_chromium_the_browser_tests_fail_under_ci() {
    let absent = ["/nonexistent/chromium"];
    let note = "helper self-test (no chromium at a made-up path), nothing skipped";
    assert!(browser_programs_in(&absent, CHROMEDRIVER, false, note).is_none());
    let under_ci =
        std::panic::catch_unwind(|| browser_programs_in(&absent, CHROMEDRIVER, true, note));
    assert!(
        under_ci.is_err(),
        "CI=1 without chromium must fail, not skip"
    );
}

/// Chromium driven through chromedriver, with its own profile and download folders.
pub struct Browser {
    driver: Driver,
    chromium: PathBuf,
    downloads: tempfile::TempDir,
    profile: tempfile::TempDir,
}

impl Browser {
    /// `None` (with a loud skip line) when Chromium or chromedriver is not installed.
    pub async fn start() -> Option<Browser> {
        let (chromium, chromedriver) = browser_programs()?;
        Some(Browser {
            driver: Driver::start(&chromedriver).await,
            chromium,
            downloads: tempfile::tempdir().unwrap(),
            profile: tempfile::tempdir().unwrap(),
        })
    }

    pub async fn session(&self) -> Session<'_> {
        self.driver
            .session(&self.chromium, self.downloads.path(), self.profile.path())
            .await
    }

    pub fn downloads(&self) -> &Path {
        self.downloads.path()
    }
}

pub struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

pub struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

use crate::support::free_port;

impl Driver {
    pub async fn start(driver: &Path) -> Driver {
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver { child, base, http }
    }

    pub async fn session(
        &self,
        chromium: &Path,
        download_dir: &Path,
        profile_dir: &Path,
    ) -> Session<'_> {
        // The flags known to work headless on these machines (no background networking:
        // the network is closed and Chromium would otherwise keep retrying).
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_str().unwrap(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile_dir.display()),
                ],
                "prefs": {
                    "download.default_directory": download_dir.to_str().unwrap(),
                    "download.prompt_for_download": false,
                },
            },
        }}});
        let resp: Value = self
            .http
            .post(format!("{}/session", self.base))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {resp}"))
            .to_owned();
        let session = Session { driver: self, id };
        // Allow downloads in headless mode (Chrome DevTools command through chromedriver).
        session
            .post(
                "/goog/cdp/execute",
                json!({ "cmd": "Browser.setDownloadBehavior", "params": { "behavior": "allow", "downloadPath": download_dir.to_str().unwrap() } }),
            )
            .await;
        session
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Session<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.driver.base, self.id, path)
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let resp = self
            .driver
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        resp.json().await.unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        self.driver
            .http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn refresh(&self) {
        self.post("/refresh", json!({})).await;
    }

    /// The element for a CSS selector, waiting up to 10 s for it to appear.
    pub async fn find(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let r = self
                .post("/element", json!({ "using": "css selector", "value": css }))
                .await;
            if let Some(id) = r["value"][ELEMENT_KEY].as_str() {
                return id.to_owned();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no element {css}: {r}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.post(&format!("/element/{el}/value"), json!({ "text": text }))
            .await;
    }

    /// Clicks the element `css` names. An element replaced between finding and clicking
    /// (an htmx swap landing just then) is found again, for up to 10 s, as a person's
    /// second look would.
    pub async fn click(&self, css: &str) {
        let started = Instant::now();
        loop {
            let el = self.find(css).await;
            let r = self.post(&format!("/element/{el}/click"), json!({})).await;
            if r["value"].is_null() {
                return;
            }
            let error = r["value"]["error"].as_str().unwrap_or_default();
            let passing = matches!(
                error,
                "stale element reference"
                    | "element click intercepted"
                    | "element not interactable"
            );
            assert!(
                passing && started.elapsed() < Duration::from_secs(10),
                "click {css}: {r}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Accepts a `confirm()` dialog, waiting for it to open.
    pub async fn accept_alert(&self) {
        let started = Instant::now();
        loop {
            let r = self.post("/alert/accept", json!({})).await;
            if r["value"].is_null() {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no dialog to accept: {r}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", json!({ "script": js, "args": [] }))
            .await["value"]
            .clone()
    }

    /// Runs `js` as an async script: it calls `arguments[arguments.length - 1]` with its
    /// result.
    pub async fn script_async(&self, js: &str) -> Value {
        self.post("/execute/async", json!({ "script": js, "args": [] }))
            .await["value"]
            .clone()
    }

    /// Presses keys on whatever has the focus, as a person at the keyboard would (WebDriver
    /// key codes such as `"\u{E004}"` for Tab are single characters of `keys`).
    pub async fn keys(&self, keys: &str) {
        let mut actions = Vec::new();
        for c in keys.chars() {
            actions.push(json!({ "type": "keyDown", "value": c.to_string() }));
            actions.push(json!({ "type": "keyUp", "value": c.to_string() }));
        }
        let r = self
            .post(
                "/actions",
                json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] }),
            )
            .await;
        assert!(r["value"].is_null(), "keys: {r}");
    }

    /// Presses one key with Shift held.
    pub async fn shift_key(&self, key: &str) {
        let shift = "\u{E008}";
        let r = self
            .post(
                "/actions",
                json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": [
                    { "type": "keyDown", "value": shift },
                    { "type": "keyDown", "value": key },
                    { "type": "keyUp", "value": key },
                    { "type": "keyUp", "value": shift },
                ] }] }),
            )
            .await;
        assert!(r["value"].is_null(), "keys: {r}");
    }

    /// Delays every request the page sends by `ms` (Chromium's network emulation): a slow
    /// server on demand, so races between timers and answers happen every run.
    pub async fn network_latency(&self, ms: u32) {
        let answer = self
            .post(
                "/chromium/network_conditions",
                json!({ "network_conditions": {
                    "offline": false,
                    "latency": ms,
                    "download_throughput": 100_000_000,
                    "upload_throughput": 100_000_000
                } }),
            )
            .await;
        assert!(
            answer["value"].is_null(),
            "network emulation refused: {answer}"
        );
    }

    /// Resizes the window.
    pub async fn window_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({ "width": width, "height": height }))
            .await;
    }

    /// On `/login`: fills in the form and sends it (the form's own button: a signed-in
    /// page's navbar has a Sign out button too).
    pub async fn submit_sign_in(&self, email: &str, password: &str) {
        self.type_into("#email", email).await;
        self.type_into("#password", password).await;
        self.click("form[action='/login'] button[type=submit]")
            .await;
    }

    /// Signs a customer in at `login_url` and waits for the inventory grid.
    pub async fn sign_in_customer(&self, login_url: &str, email: &str, password: &str) {
        self.goto(login_url).await;
        self.submit_sign_in(email, password).await;
        self.wait_for("the grid", "document.querySelector('#inv-count')")
            .await;
    }

    /// Signs staff in at `admin_login_url` and waits for the admin panel.
    pub async fn sign_in_admin(&self, admin_login_url: &str, username: &str, password: &str) {
        self.goto(admin_login_url).await;
        self.type_into("#username", username).await;
        self.type_into("#password", password).await;
        self.click("form[action='/admin-login'] button[type=submit]")
            .await;
        self.wait_for("the admin panel", "location.pathname === '/admin/panel'")
            .await;
    }

    /// Switches the light/dark theme as the toggle does (and remembers it).
    pub async fn set_theme(&self, theme: &str) {
        self.script(&format!(
            "document.documentElement.setAttribute('data-theme', '{theme}'); localStorage.setItem('cp-theme', '{theme}'); return 1;"
        ))
        .await;
    }

    /// Waits until `js` (an expression) is truthy. The bound is generous: several
    /// Chromiums share 2 cores while the suite runs, and this is a wait, not a timing.
    pub async fn wait_for(&self, what: &str, js: &str) {
        let started = Instant::now();
        loop {
            let v = self.script(&format!("return !!({js});")).await;
            if v == Value::Bool(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn screenshot(&self, path: &Path) {
        let b64 = self.get("/screenshot").await["value"]
            .as_str()
            .unwrap()
            .to_owned();
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn close(self) {
        let _ = self
            .driver
            .http
            .delete(format!("{}/session/{}", self.driver.base, self.id))
            .send()
            .await;
    }
}
