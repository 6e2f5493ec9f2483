use std::sync::Arc;

use customer_portal::domain::CustomerId;
use customer_portal::state::AppState;
use customer_portal::store::AppStore;
use reqwest::header::HeaderMap;
use reqwest::redirect::Policy;
use tempfile::TempDir;
use werkzeug_hash::{Digest, Method};

#[derive(Clone)]
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub data_dir: Arc<TempDir>,
    /// The DATA_DIR the app runs with (usually `data_dir`).
    pub data_path: std::path::PathBuf,
    pub client: reqwest::Client,
    pub banner: String,
}

pub use crate::support::vars;

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[], false).await
}

/// Demo mode on port 0 in a fresh temporary DATA_DIR, plus `extra` variables.
pub async fn spawn_app_with(extra: &[(&str, &str)], seed_demo: bool) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    spawn_in(data_dir, extra, seed_demo).await
}

pub async fn spawn_in(data_dir: TempDir, extra: &[(&str, &str)], seed_demo: bool) -> TestApp {
    let mut v = vars(&[
        ("PORT", "0"),
        ("DATA_DIR", data_dir.path().to_str().unwrap()),
    ]);
    v.extend(vars(extra));
    let data_path = std::path::PathBuf::from(&v["DATA_DIR"]);
    let running = crate::support::serve(&v, seed_demo, None).await;
    TestApp {
        address: running.base,
        state: running.state,
        data_dir: Arc::new(data_dir),
        data_path,
        client: new_client(),
        banner: running.banner,
    }
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .user_agent(TEST_USER_AGENT)
        .build()
        .unwrap()
}

/// The User-Agent every test browser sends (sessions and audit rows record it).
pub const TEST_USER_AGENT: &str = "portal-tests/1.0";

/// A cheap Werkzeug hash (1,000 pbkdf2 rounds) so fixtures do not cost 0.1 s each.
pub fn cheap_hash(password: &str) -> String {
    werkzeug_hash::generate_with(
        password,
        Method::Pbkdf2 {
            digest: Digest::Sha256,
            iterations: 1000,
        },
    )
}

pub const PASSWORD: &str = "Correct-Horse-42";

impl TestApp {
    /// A second browser (own cookies) against the same running app.
    pub fn other_browser(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            state: self.state.clone(),
            data_dir: self.data_dir.clone(),
            data_path: self.data_path.clone(),
            client: new_client(),
            banner: String::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn store(&self) -> Arc<dyn AppStore> {
        self.state.store.clone()
    }

    /// A direct connection to the app database, for the test to play admin or clock.
    pub fn db(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self.data_path.join("portal.db")).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
        c
    }

    pub async fn add_customer(
        &self,
        email: &str,
        password: &str,
        erp: &str,
        must_reset: bool,
    ) -> CustomerId {
        self.add_customer_with_hash(email, &cheap_hash(password), erp, must_reset)
            .await
    }

    pub async fn add_customer_with_hash(
        &self,
        email: &str,
        hash: &str,
        erp: &str,
        must_reset: bool,
    ) -> CustomerId {
        crate::support::insert_customer(&self.store(), email, hash, erp, must_reset).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_htmx(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap()
    }

    /// The CSRF token the portal gives this client. Every page carries it in a meta tag;
    /// a 404 page is used because it renders for anyone, signed in or not.
    pub async fn csrf_token(&self) -> String {
        let html = self
            .get("/no-such-page-csrf-probe")
            .await
            .text()
            .await
            .unwrap();
        extract_meta_csrf(&html)
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf_token().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        self.client
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/login",
            &[("email", email), ("password", password), ("hp_email", "")],
        )
        .await
    }

    pub async fn graphql(&self, query: &str) -> serde_json::Value {
        let token = self.csrf_token().await;
        self.client
            .post(self.url("/graphql"))
            .header("X-CSRF-Token", token)
            .json(&serde_json::json!({ "query": query }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

pub fn extract_meta_csrf(html: &str) -> String {
    crate::support::meta_csrf(html).expect("page has a csrf meta tag")
}

pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

pub fn set_cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// An app whose ERP is `erp` (a hand-built fixture, possibly wrapped), plus a signed-in
/// customer scoped to `scope`.
pub async fn spawn_with_erp(
    erp: Arc<dyn customer_portal::erp::ErpSource>,
    extra: &[(&str, &str)],
) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut v = vars(&[
        ("PORT", "0"),
        ("DATA_DIR", data_dir.path().to_str().unwrap()),
    ]);
    v.extend(vars(extra));
    let data_path = std::path::PathBuf::from(&v["DATA_DIR"]);
    let running = crate::support::serve(&v, false, Some(erp)).await;
    TestApp {
        address: running.base,
        state: running.state,
        data_dir: Arc::new(data_dir),
        data_path,
        client: new_client(),
        banner: String::new(),
    }
}

impl TestApp {
    /// A new browser signed in as a new customer with this `erp_customer_name`.
    pub async fn customer_browser(&self, erp_customer_name: &str) -> TestApp {
        let browser = self.other_browser();
        let email = format!("c{}@example.com", rand_suffix());
        browser
            .add_customer(&email, PASSWORD, erp_customer_name, false)
            .await;
        assert_eq!(
            location(&browser.login(&email, PASSWORD).await),
            "/inventory"
        );
        browser
    }

    pub async fn graphql_vars(
        &self,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        let token = self.csrf_token().await;
        self.client
            .post(self.url("/graphql"))
            .header("X-CSRF-Token", token)
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

pub fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed) * 1000 + std::process::id() as u64 % 1000
}

/// A skip message that shows even though the test harness captures test output: written
/// straight to the process's stderr, not through `eprintln!`. For what no machine here can
/// have (a SQL Server); a missing tool goes through [`require_tool`].
pub fn loud_skip(message: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("\n*** SKIPPED: {message} ***\n").as_bytes());
}

/// True when running under CI (`CI` set to anything but empty, `0` or `false`), where
/// `.ci/run` installs every tool the tests use.
pub fn under_ci() -> bool {
    std::env::var("CI")
        .map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
        .unwrap_or(false)
}

/// A tool a test needs: `found`, or — when it is missing — a loud skip on a developer's
/// machine and a failure under CI, so a broken install step cannot hide as a skip.
pub fn require_tool<T>(found: Option<T>, missing: &str, ci: bool) -> Option<T> {
    if found.is_none() {
        if ci {
            panic!("{missing} — required under CI (CI is set), where .ci/run installs it");
        }
        loud_skip(missing);
    }
    found
}

#[test]
fn a_missing_tool_skips_locally_and_fails_under_ci() {
    assert_eq!(require_tool(Some(1), "x", true), Some(1));
    assert_eq!(
        require_tool::<u8>(None, "helper self-test, nothing skipped", false),
        None
    );
    let failed = std::panic::catch_unwind(|| require_tool::<u8>(None, "x is not installed", true));
    assert!(
        failed.is_err(),
        "under CI a missing tool must fail the test"
    );
}

/// The messages in the demo outbox under `data_dir` (none when nothing was sent yet), in
/// file order.
pub fn outbox_in(data_dir: &std::path::Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(data_dir.join("outbox"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .map(|e| std::fs::read_to_string(e.path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The messages in the app's demo outbox.
pub fn outbox_messages(app: &TestApp) -> Vec<String> {
    outbox_in(&app.data_path)
}

/// Runs `examples/<script>` with python3 against `app` with this API token and `args`,
/// killed after 90 s; asserts it exited 0 (its standard error in the message). `None`
/// where python3 is missing (a loud skip; under CI a failure).
pub async fn run_example(
    app: &TestApp,
    script: &str,
    token: &str,
    args: &[&std::ffi::OsStr],
) -> Option<()> {
    let python = require_tool(
        crate::api_tokens::which("python3"),
        "python3 not found: the example scripts' tests need it",
        under_ci(),
    )?;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(script);
    let mut child = std::process::Command::new(python)
        .arg(&path)
        .args(args)
        .env("PORTAL_URL", &app.address)
        .env("PORTAL_TOKEN", token)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: a hung script is killed and the test fails.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{script} did not finish in 90 s");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "{script}: {stderr}");
    Some(())
}
