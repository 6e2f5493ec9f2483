//! Connections a client opens and never uses, against the real binary with the common
//! 1,024 open-file limit.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::time::{Duration, Instant};

use crate::dotenv_binary::{Running, command, start_command};
use crate::helpers::*;

fn set_nofile(soft: u64, hard: u64) -> std::io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct passed to it.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
fn nofile() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct passed to it.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (lim.rlim_cur as u64, lim.rlim_max as u64)
}

/// A request that honours `503` + `Retry-After`, as a well-behaved client does, for at
/// most `budget`.
async fn patiently(
    budget: Duration,
    send: impl Fn() -> reqwest::RequestBuilder,
) -> reqwest::Response {
    let started = Instant::now();
    loop {
        match send().timeout(Duration::from_secs(30)).send().await {
            Ok(r) if r.status() == 503 && started.elapsed() < budget => {
                let wait: u64 = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait.min(5))).await;
            }
            Ok(r) => return r,
            Err(e) if started.elapsed() < budget => {
                eprintln!("retrying after {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("no answer within {budget:?}: {e}"),
        }
    }
}

/// An account, written straight into a running portal's database.
async fn add_account(data: &std::path::Path) {
    add_account_for(data, "Acme Foods").await;
}

/// The test account, seeing `scope`.
async fn add_account_for(data: &std::path::Path, scope: &str) {
    let store = customer_portal::store::sqlite::SqliteStore::open(
        &data.join("portal.db"),
        customer_portal::domain::Zone::utc(),
    )
    .await
    .unwrap();
    customer_portal::store::CustomerStore::insert_customer(
        &store,
        &customer_portal::store::NewCustomer {
            first_name: "Pat".into(),
            last_name: None,
            email: customer_portal::domain::Email::parse("patient@example.com").unwrap(),
            password_hash: cheap_hash(PASSWORD),
            erp_customer_name: scope.into(),
            must_reset_password: false,
        },
        &customer_portal::store::NewAuditEntry {
            timestamp: time::OffsetDateTime::now_utc(),
            admin_username: "SYSTEM".into(),
            action_type: "CUSTOMER_CREATE".into(),
            target_customer_id: None,
            target_customer_email: None,
            details: None,
        },
    )
    .await
    .unwrap();
    drop(store);
}

/// Signs `patient@example.com` in through the form of the portal at `base`, sending
/// `X-Request-Id: request_id` with the form when given; returns the answer to the POST.
async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    request_id: Option<&str>,
) -> reqwest::Response {
    let html = client
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = extract_meta_csrf(&html);
    let mut post = client.post(format!("{base}/login")).form(&[
        ("email", "patient@example.com"),
        ("password", PASSWORD),
        ("hp_email", ""),
        ("csrf_token", csrf.as_str()),
    ]);
    if let Some(id) = request_id {
        post = post.header("X-Request-Id", id);
    }
    post.send().await.unwrap()
}

/// The binary started with `vars` (plus `DATA_DIR` and `PORT=0`), `patient@example.com`
/// added, and a client signed in through the form (with `X-Request-Id` when given).
/// Returns the portal, the client and the answer to the sign-in.
async fn signed_in_binary(
    dir: &std::path::Path,
    vars: &[(&str, &str)],
    request_id: Option<&str>,
) -> (Running, reqwest::Client, reqwest::Response) {
    signed_in_binary_as(dir, vars, request_id, "Acme Foods").await
}

async fn signed_in_binary_as(
    dir: &std::path::Path,
    vars: &[(&str, &str)],
    request_id: Option<&str>,
    scope: &str,
) -> (Running, reqwest::Client, reqwest::Response) {
    let data = dir.join("data");
    let mut env = vec![("DATA_DIR", data.to_str().unwrap()), ("PORT", "0")];
    env.extend_from_slice(vars);
    let portal = start_command(command(dir, &env));
    add_account_for(&data, scope).await;
    let client = new_client();
    let login = sign_in(&client, &portal.address, request_id).await;
    assert_eq!(location(&login), "/inventory");
    (portal, client, login)
}

#[tokio::test]
async fn silent_sockets_cannot_stop_a_normal_client() {
    // This test holds 1,100 sockets itself: it needs room above the common limit.
    let (_, hard) = nofile();
    if hard < 2_000 || set_nofile(hard.min(65_536), hard).is_err() {
        loud_skip("connection test: this process may not open 2,000 files");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut cmd = command(
        dir.path(),
        &[
            ("DATA_DIR", data.to_str().unwrap()),
            ("PORT", "0"),
            ("DEMO_ERP_ROWS", "300"),
            ("RUST_LOG", "info"),
        ],
    );
    // SAFETY: only async-signal-safe setrlimit runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| set_nofile(1024, 1024));
    }
    let portal = start_command(cmd);
    add_account(&data).await;
    let client = new_client();
    let url = |p: &str| format!("{}{p}", portal.address);

    let port = portal.address.rsplit(':').next().unwrap().to_owned();
    let mut silent = Vec::new();
    for _ in 0..1_100 {
        if let Ok(s) = std::net::TcpStream::connect(format!("127.0.0.1:{port}")) {
            silent.push(s);
        }
    }
    assert!(silent.len() >= 1_000, "opened {}", silent.len());

    // A normal client still signs in and loads the inventory, within 10 s: the silent
    // sockets make room for it instead of keeping it waiting for their timeout.
    let started = Instant::now();
    let budget = Duration::from_secs(10);
    let page = patiently(budget, || client.get(url("/login"))).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = extract_meta_csrf(&html);
    let login = patiently(budget, || {
        client.post(url("/login")).form(&[
            ("email", "patient@example.com"),
            ("password", PASSWORD),
            ("hp_email", ""),
            ("csrf_token", csrf.as_str()),
        ])
    })
    .await;
    assert_eq!(location(&login), "/inventory");
    let inventory = patiently(budget, || client.get(url("/inventory"))).await;
    assert_eq!(inventory.status(), 200);
    let body = inventory.text().await.unwrap();
    assert!(
        body.contains("Data as of") && body.contains("AF-"),
        "the grid with rows"
    );
    eprintln!(
        "signed in and loaded the inventory beside {} silent sockets in {:?}",
        silent.len(),
        started.elapsed()
    );
    assert!(started.elapsed() < budget, "{:?}", started.elapsed());
    // An attacker who keeps opening more only displaces its own sockets.
    for _ in 0..200 {
        if let Ok(s) = std::net::TcpStream::connect(format!("127.0.0.1:{port}")) {
            silent.push(s);
        }
    }
    let again = client.get(url("/inventory")).send().await.unwrap();
    assert_eq!(again.status(), 200, "still served beside a fresh wave");

    // The silent sockets were closed by the server (header-read timeout), not kept.
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut closed = 0;
    for s in &mut silent {
        let left = deadline.saturating_duration_since(Instant::now());
        s.set_read_timeout(Some(left.max(Duration::from_millis(10))))
            .unwrap();
        let mut buf = [0u8; 512];
        match s.read(&mut buf) {
            Ok(_) => closed += 1, // end of stream, or the 503 then the end
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed += 1,
            Err(_) => {}
        }
    }
    assert_eq!(closed, silent.len(), "every silent socket was closed");
    let log = portal.stderr.lock().unwrap().clone();
    assert!(
        log.contains("open-file limit") && log.contains("soft=1024") && log.contains("hard=1024"),
        "both limits are logged: {log:.3000}"
    );
}

#[tokio::test]
async fn shutdown_waits_for_a_slow_reader_only_as_long_as_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    // Every row (about 20 MB of CSV): far more than loopback's socket buffers hold, so the
    // answer is still being written when the signal comes.
    let (portal, client, _) = signed_in_binary_as(
        dir.path(),
        &[("DEMO_ERP_ROWS", "200000"), ("SHUTDOWN_GRACE_SECONDS", "2")],
        None,
        "All",
    )
    .await;
    let url = |p: &str| format!("{}{p}", portal.address);
    // A slow reader: asks for the export and never reads the answer.
    let export = client
        .get(url("/inventory/export.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = portal.child.id() as libc::pid_t;
    let stopped = Instant::now();
    // SAFETY: sends SIGTERM to the child this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let mut portal = portal;
    let status = loop {
        if let Some(status) = portal.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(15),
            "still running 15 s after SIGTERM with a 2 s grace"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let took = stopped.elapsed();
    assert!(
        took >= Duration::from_millis(1_500),
        "the export was given its grace: {took:?}"
    );
    assert!(took < Duration::from_secs(6), "then cut: {took:?}");
    eprintln!("stopped {took:?} after SIGTERM with a slow reader ({status})");
    drop(export);
    let log = portal.stderr.lock().unwrap().clone();
    assert!(log.contains("shutdown grace period"), "{log:.3000}");
}

#[tokio::test]
async fn json_logs_carry_the_request_id_that_the_answer_names() {
    let dir = tempfile::tempdir().unwrap();
    let (portal, client, login) = signed_in_binary(
        dir.path(),
        &[("DEMO_ERP_ROWS", "100"), ("LOG_FORMAT", "json")],
        Some("tool-req-42"),
    )
    .await;
    let url = |p: &str| format!("{}{p}", portal.address);
    assert_eq!(login.headers()["x-request-id"], "tool-req-42");
    // A fresh id when the caller sends none (or an unusable one).
    let other = client.get(url("/healthz")).send().await.unwrap();
    let fresh = other.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(fresh.len(), 16, "{fresh}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = portal.stderr.lock().unwrap().clone();
    let lines: Vec<&str> = log.lines().filter(|l| l.starts_with('{')).collect();
    assert!(!lines.is_empty(), "{log:.2000}");
    for l in &lines {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    }
    let signed_in = lines
        .iter()
        .find(|l| l.contains("customer signed in"))
        .expect("the sign-in is logged");
    assert!(signed_in.contains("tool-req-42"), "{signed_in}");
    assert!(!log.contains("\u{1b}["), "no colour codes in a log file");
}
