//! The binary started in a folder with a `.env`, as an operator starts it: the old
//! portal's file loads unchanged, and a file written for production never boots the demo.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{extract_meta_csrf, location, new_client};

const BIN: &str = env!("CARGO_BIN_EXE_customer-portal");

/// A real Werkzeug 3.1.8 hash (crates/werkzeug-hash/tests/fixtures) of "Sup3r-Secret!pw".
const OLD_ADMIN_HASH: &str = "scrypt:32768:8:1$TkYAydtkVcUcTC5w$86772b9c57dbe98bebf16931a362b0d66e2b4d525d23395982f56c41aa785a9f110b899539002b433bebca80a46d746f5a00ffdf87b8a07eb2286a319c6c88ea";
const OLD_ADMIN_PASSWORD: &str = "Sup3r-Secret!pw";

pub(crate) fn command(dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs the binary to its exit (it must exit within 30 s): (code, stderr).
fn run_to_exit(dir: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let mut child = command(dir, env).spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("the portal started although it should have refused");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A running portal, killed when dropped.
pub(crate) struct Running {
    pub(crate) child: Child,
    pub(crate) address: String,
    /// Standard error and standard output (the log) so far.
    pub(crate) stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary and waits (up to 60 s) for its banner's sign-in address.
pub(crate) fn start(dir: &Path, env: &[(&str, &str)]) -> Running {
    start_command(command(dir, env))
}

/// As [`start`], for a command prepared by the caller.
pub(crate) fn start_command(mut cmd: Command) -> Running {
    let mut child = cmd.spawn().unwrap();
    let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    {
        let mut err = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    // The log goes to standard output: kept with standard error for the assertions.
    let sink = stderr.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some(rest) = line.trim().strip_prefix("Listening on ") {
                let _ = tx.send(format!("http://{}", rest.replace("0.0.0.0", "127.0.0.1")));
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(address) => Running {
            child,
            address,
            stderr,
        },
        Err(_) => {
            let _ = child.kill();
            panic!("the portal did not start:\n{}", stderr.lock().unwrap());
        }
    }
}

#[test]
fn a_dotenv_meant_for_production_without_a_server_refuses_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "SECRET_KEY=0123456789abcdef0123456789abcdef-key\n# the server key misspelt:\nDB_SEVRER=sql01\nDB_USERNAME=portal\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let (code, stderr) = run_to_exit(dir.path(), &[("DATA_DIR", data.to_str().unwrap())]);
    assert_eq!(code, 78, "{stderr}");
    assert!(stderr.contains("refusing to start the demo"), "{stderr}");
    assert!(stderr.contains("DB_SEVRER"), "{stderr}");
    assert!(stderr.contains("DEMO=1"), "says how to proceed: {stderr}");
    assert!(!data.join("portal.db").exists(), "nothing was created");
}

#[tokio::test]
async fn demo_1_insists_and_unknown_keys_are_listed_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "SECRET_KEY=0123456789abcdef0123456789abcdef-key\nDEMO=1\nSESSION_HOUR=4\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let portal = start(
        dir.path(),
        &[
            ("DATA_DIR", data.to_str().unwrap()),
            ("PORT", "0"),
            ("DEMO_ERP_ROWS", "200"),
        ],
    );
    let health = reqwest::get(format!("{}/healthz", portal.address))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let log = portal.stderr.lock().unwrap().clone();
    assert!(
        log.contains("unknown setting SESSION_HOUR in .env; did you mean SESSION_HOURS?"),
        "{log}"
    );
}

/// The old portal's `.env.template`, filled in as a site would have it: unquoted spaces,
/// `$` in a password and in the Werkzeug hash, True/False spelled the Python way.
fn old_dotenv(erp_port: u16) -> String {
    format!(
        "# --- General ---
SECRET_KEY=a-long-random-string-0123456789-abcdefghij
SESSION_HOURS=8
TEST_MODE=False

# --- Local application database (read/write) ---
DB_SERVER=
DB_NAME=CustomerPortalDB
DB_USE_WINDOWS_AUTH=False
DB_USERNAME=portal_app
DB_PASSWORD=pa$$w0rd$HOME

# --- ERP (Deacom) database (read-only) ---
ERP_DB_SERVER=127.0.0.1
ERP_DB_NAME=DEACOM
ERP_DB_USERNAME=readonly
ERP_DB_PASSWORD=r3ad$only
ERP_DB_PORT={erp_port}
ERP_DB_DRIVER=ODBC Driver 17 for SQL Server
ERP_DB_TIMEOUT=5

# --- Email ---
SMTP_SERVER=127.0.0.1
SMTP_PORT=2525
SMTP_USE_TLS=False
SMTP_USERNAME=portal@wepackitall.com
SMTP_PASSWORD=mail$secret
EMAIL_FROM=portal@wepackitall.com
EMAIL_BCC=

# --- Admin ---
ADMIN_USERNAME=cp_admin
ADMIN_PASSWORD_HASH={OLD_ADMIN_HASH}
"
    )
}

#[tokio::test]
async fn the_old_portals_dotenv_loads_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: the ERP is down, which the portal survives.
    let erp_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(dir.path().join(".env"), old_dotenv(erp_port)).unwrap();
    let data = dir.path().join("data");
    let portal = start(
        dir.path(),
        &[
            ("DATA_DIR", data.to_str().unwrap()),
            ("HOST", "127.0.0.1"),
            ("PORT", "0"),
            // The one key the old .env lacks (the old portal had its address in code).
            ("APP_BASE_URL", "http://127.0.0.1"),
        ],
    );
    // The hash came through whole: the old admin password signs in.
    let client = new_client();
    let page = client
        .get(format!("{}/admin-login", portal.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = extract_meta_csrf(&page);
    let resp = client
        .post(format!("{}/admin-login", portal.address))
        .form(&[
            ("username", "cp_admin"),
            ("password", OLD_ADMIN_PASSWORD),
            ("hp_email", ""),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    let log = portal.stderr.lock().unwrap().clone();
    assert_eq!(resp.status(), 303, "{log}");
    assert_eq!(location(&resp), "/admin/panel", "{log}");
    assert!(
        !log.contains("unknown setting"),
        "every old key is known: {log}"
    );
    assert!(!log.contains("could not parse"), "{log}");
}

#[tokio::test]
async fn accounts_with_a_mistyped_all_are_listed_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = [
        ("DATA_DIR", data.to_str().unwrap()),
        ("PORT", "0"),
        ("DEMO_ERP_ROWS", "200"),
    ];
    // First start creates the database; then two accounts are written as an old portal
    // might have left them.
    drop(start(dir.path(), &env));
    let db = rusqlite::Connection::open(data.join("portal.db")).unwrap();
    for (email, scope) in [
        ("lower@example.com", "all"),
        ("spaced@example.com", " All "),
        ("exact@example.com", "All"),
        ("named@example.com", "Acme Foods"),
    ] {
        db.execute(
            "INSERT INTO Customers (first_name, last_name, email, password_hash, erp_customer_name, is_active, must_reset_password)
             VALUES ('A', '', ?1, 'pbkdf2:sha256:1000$s$00', ?2, 1, 0)",
            (email, scope),
        )
        .unwrap();
    }
    drop(db);
    let portal = start(dir.path(), &env);
    let log = portal.stderr.lock().unwrap().clone();
    let line = log
        .lines()
        .find(|l| l.contains("mistyped"))
        .unwrap_or_else(|| panic!("no warning:\n{log}"));
    assert!(
        line.contains("lower@example.com") && line.contains("spaced@example.com"),
        "{line}"
    );
    assert!(
        !line.contains("exact@example.com") && !line.contains("named@example.com"),
        "{line}"
    );
}
