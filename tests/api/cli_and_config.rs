use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_customer-portal");

/// Runs the binary with exactly `env` (nothing inherited) in a temp working directory.
fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.env("DATA_DIR", dir.path().join("data"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("customer-portal {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn production_mode_names_every_missing_or_bad_variable_and_exits_non_zero() {
    let (code, stdout, stderr) = run(
        &[],
        &[
            ("DB_SERVER", "sql01"),
            ("DB_NAME", "CustomerPortalDB"),
            ("PORT", "fivethousand"),
            ("SECRET_KEY", "short"),
            ("TEST_MODE", "True"),
        ],
        None,
    );
    assert_ne!(code, 0, "started despite a broken configuration\n{stdout}");
    for needle in [
        "SECRET_KEY must be at least 32",
        "ADMIN_PASSWORD_HASH is required",
        "PORT must be",
        "TEST_MODE",
        "DB_USERNAME is required",
        "DB_PASSWORD is required",
    ] {
        assert!(
            stderr.contains(needle),
            "stderr lacks {needle:?}:\n{stderr}"
        );
    }
    assert!(
        !stderr.contains("short\""),
        "the secret's value was echoed:\n{stderr}"
    );
    assert_eq!(
        stderr.matches("invalid configuration").count(),
        1,
        "one message, not one per variable"
    );
}

#[test]
fn a_bad_admin_hash_is_refused_at_start() {
    let (code, _, stderr) = run(
        &[],
        &[
            ("ERP_DB_SERVER", "erp01"),
            ("ERP_DB_NAME", "Deacom"),
            ("ERP_DB_USERNAME", "ro"),
            ("ERP_DB_PASSWORD", "pw"),
            ("SECRET_KEY", &"k".repeat(40)),
            ("ADMIN_PASSWORD_HASH", "scrypt:1073741824:8:1$salt$abcd"),
            ("SMTP_SERVER", "127.0.0.1"),
            ("EMAIL_FROM", "portal@example.com"),
            ("APP_BASE_URL", "https://portal.example.com"),
        ],
        None,
    );
    assert_ne!(code, 0);
    assert!(
        stderr.contains("ADMIN_PASSWORD_HASH is not a usable Werkzeug hash"),
        "{stderr}"
    );
}

#[test]
fn hash_password_prints_a_werkzeug_hash_of_stdin() {
    let (code, stdout, stderr) = run(&["hash-password"], &[], Some("my admin passphrase\n"));
    assert_eq!(code, 0, "{stderr}");
    let hash = stdout.trim();
    assert!(hash.starts_with("pbkdf2:sha256:600000$"), "{hash}");
    assert_eq!(werkzeug_hash::verify("my admin passphrase", hash), Ok(true));
    assert!(!stdout.contains("my admin passphrase"));
    let (code, _, _) = run(&["hash-password"], &[], Some(""));
    assert_ne!(code, 0, "an empty password was hashed");
}

#[test]
fn print_schema_prints_the_committed_sdl() {
    let (code, stdout, _) = run(&["print-schema"], &[], None);
    assert_eq!(code, 0);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(stdout, committed);
    assert!(stdout.contains("viewer"));
}

#[test]
fn unknown_commands_are_refused() {
    let (code, _, stderr) = run(&["frobnicate"], &[], None);
    assert_eq!(code, 2);
    assert!(stderr.contains("usage"));
}

#[tokio::test]
async fn the_app_database_runs_in_wal_mode_with_foreign_keys() {
    let app = crate::helpers::spawn_app().await;
    let db = app.db();
    let mode: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode.to_lowercase(), "wal");
    // Foreign keys are a per-connection setting: check the portal's own enforce them by
    // asking it to insert a session for a customer that does not exist.
    let store = app.store();
    let orphan = customer_portal::store::ActiveSession {
        session_id: "x".into(),
        customer_id: customer_portal::domain::CustomerId(9999),
        last_seen: time::OffsetDateTime::now_utc(),
        ip_address: None,
        user_agent: None,
        created_at: time::OffsetDateTime::now_utc(),
    };
    let audit = customer_portal::store::NewAuditEntry {
        timestamp: time::OffsetDateTime::now_utc(),
        admin_username: "SYSTEM".into(),
        action_type: "TEST".into(),
        target_customer_id: None,
        target_customer_email: None,
        details: None,
    };
    assert!(
        store.begin_customer_session(&orphan, &audit).await.is_err(),
        "foreign keys are off"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'TEST'"),
        0,
        "a failed login flow left an audit row"
    );
    // The existing portal's tables and columns, by name.
    for (table, cols) in [
        (
            "Customers",
            "customer_id, first_name, last_name, email, password_hash, erp_customer_name, is_active, last_login_date, must_reset_password",
        ),
        (
            "ActiveSessions",
            "session_id, customer_id, last_seen, ip_address, user_agent, created_at",
        ),
        (
            "AuditLog",
            "log_id, timestamp, admin_username, action_type, target_customer_id, target_customer_email, details",
        ),
        ("PasswordResetTokens", "*"),
    ] {
        db.prepare(&format!("SELECT {cols} FROM {table} LIMIT 0"))
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
}
