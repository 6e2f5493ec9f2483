//! Mail over SMTP through lettre, to an SMTP server started inside the test.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::admin::{admin_app, admin_browser, htmx_post};

/// What one SMTP session delivered.
#[derive(Debug, Default, Clone)]
struct Delivery {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// A minimal SMTP server: enough of RFC 5321 for lettre (EHLO, MAIL, RCPT, DATA, QUIT).
async fn smtp_server() -> (u16, Arc<Mutex<Vec<Delivery>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let store = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let mut d = Delivery::default();
                w.write_all(b"220 test.local ESMTP ready\r\n")
                    .await
                    .unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        w.write_all(b"250-test.local\r\n250 8BITMIME\r\n")
                            .await
                            .unwrap();
                    } else if upper.starts_with("MAIL FROM:") {
                        d.mail_from = line[10..].trim().to_owned();
                        w.write_all(b"250 OK\r\n").await.unwrap();
                    } else if upper.starts_with("RCPT TO:") {
                        d.rcpt_to.push(line[8..].trim().to_owned());
                        w.write_all(b"250 OK\r\n").await.unwrap();
                    } else if upper == "DATA" {
                        w.write_all(b"354 end with .\r\n").await.unwrap();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            d.data.push_str(&l);
                            d.data.push_str("\r\n");
                        }
                        store.lock().unwrap().push(d.clone());
                        w.write_all(b"250 queued\r\n").await.unwrap();
                    } else if upper == "QUIT" {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else if upper == "RSET" || upper == "NOOP" {
                        w.write_all(b"250 OK\r\n").await.unwrap();
                    } else {
                        w.write_all(b"502 not implemented\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (port, got)
}

#[tokio::test]
async fn a_team_invitation_goes_out_like_the_old_portals_mails() {
    let (port, got) = smtp_server().await;
    let port = port.to_string();
    let app = admin_app(&[
        ("SMTP_SERVER", "127.0.0.1"),
        ("SMTP_PORT", &port),
        ("SMTP_USE_TLS", "False"),
        (
            "EMAIL_FROM",
            "WePackItAll Portal <portal@wepackitall.example>",
        ),
        ("EMAIL_BCC", "audit@wepackitall.example"),
        ("APP_BASE_URL", "https://portal.wepackitall.example"),
    ])
    .await;
    let lead = app
        .add_customer(
            "lead@example.com",
            crate::helpers::PASSWORD,
            "Acme Foods",
            false,
        )
        .await;
    let admin = admin_browser(&app).await;
    let r = admin
        .graphql(&format!(
            r#"mutation {{ setTeamManager(customerId: "{}", manager: true) {{ email }} }}"#,
            lead.0
        ))
        .await;
    assert!(r["errors"].is_null(), "{r}");
    let manager = app.other_browser();
    manager
        .login("lead@example.com", crate::helpers::PASSWORD)
        .await;
    let sent = manager
        .graphql(
            r#"mutation { inviteColleague(input: { firstName: "Mate", email: "mate@example.com", erpCustomerNames: ["Acme Foods"] }) { emailSent } }"#,
        )
        .await;
    assert_eq!(sent["data"]["inviteColleague"]["emailSent"], true, "{sent}");
    let deliveries = got.lock().unwrap().clone();
    let d = deliveries
        .iter()
        .find(|d| {
            d.data
                .contains("Subject: You are invited to the WePackItAll Customer Portal")
        })
        .expect("the invitation was delivered");
    assert_eq!(d.mail_from, "<portal@wepackitall.example>");
    assert!(
        d.rcpt_to
            .contains(&"<mail@example.com>".replace("mail@", "mate@"))
    );
    assert!(
        d.rcpt_to
            .contains(&"<audit@wepackitall.example>".to_owned())
    );
    assert!(!d.data.contains("Bcc:"));
    let text = customer_portal::mail::plain_text_part(&d.data);
    assert!(
        text.contains("https://portal.wepackitall.example/invitation?token="),
        "{text}"
    );
    assert!(
        text.contains("72 hours") && text.contains("lead@example.com"),
        "{text}"
    );
}

#[tokio::test]
async fn the_welcome_mail_goes_out_over_smtp_with_bcc() {
    let (port, got) = smtp_server().await;
    let port = port.to_string();
    let app = admin_app(&[
        ("SMTP_SERVER", "127.0.0.1"),
        ("SMTP_PORT", &port),
        ("SMTP_USE_TLS", "False"),
        (
            "EMAIL_FROM",
            "WePackItAll Portal <portal@wepackitall.example>",
        ),
        // The old portal's comma-separated list: every address gets the copy.
        (
            "EMAIL_BCC",
            "audit@wepackitall.example, records@wepackitall.example",
        ),
        ("APP_BASE_URL", "https://portal.wepackitall.example"),
    ])
    .await;
    let admin = admin_browser(&app).await;
    let resp = htmx_post(
        &admin,
        "/admin/customers",
        &[
            ("first_name", "Mail"),
            ("email", "mail.test@example.com"),
            ("erp_customer_names", "All"),
        ],
    )
    .await;
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("the temporary password was emailed")
    );
    let deliveries = got.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 1);
    let d = &deliveries[0];
    assert_eq!(d.mail_from, "<portal@wepackitall.example>");
    assert!(d.rcpt_to.contains(&"<mail.test@example.com>".to_owned()));
    for bcc in [
        "<audit@wepackitall.example>",
        "<records@wepackitall.example>",
    ] {
        assert!(
            d.rcpt_to.contains(&bcc.to_owned()),
            "every BCC address is a recipient: {:?}",
            d.rcpt_to
        );
    }
    assert!(
        !d.data.contains("Bcc:"),
        "BCC stays hidden from the recipient"
    );
    assert!(
        d.data
            .contains("Subject: Welcome to the WePackItAll Customer Portal")
    );
    assert!(d.data.contains("multipart/alternative") && d.data.contains("text/html"));
    let text = customer_portal::mail::plain_text_part(&d.data);
    assert!(
        text.contains("https://portal.wepackitall.example/login"),
        "{text}"
    );
    let temp = text
        .lines()
        .find_map(|l| l.strip_prefix("Temporary password: "))
        .expect("the contract line")
        .trim();
    assert_eq!(temp.len(), 16);
    assert!(
        !app.data_path.join("outbox").exists()
            || std::fs::read_dir(app.data_path.join("outbox"))
                .unwrap()
                .count()
                == 0
    );
}

/// A mail server that accepts connections and never says a word.
pub async fn silent_smtp_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    port
}

#[tokio::test]
async fn a_mail_server_that_never_answers_cannot_hang_an_admin_or_be_audited_as_sent() {
    let port = silent_smtp_server().await.to_string();
    let app = admin_app(&[
        ("SMTP_SERVER", "127.0.0.1"),
        ("SMTP_PORT", &port),
        ("SMTP_USE_TLS", "False"),
        ("SMTP_TIMEOUT", "1"),
        ("EMAIL_FROM", "portal@wepackitall.example"),
    ])
    .await;
    let admin = admin_browser(&app).await;
    let started = std::time::Instant::now();
    let html = htmx_post(
        &admin,
        "/admin/customers",
        &[
            ("first_name", "Silent"),
            ("email", "silent@example.com"),
            ("erp_customer_names", "All"),
        ],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the admin waited {:?}",
        started.elapsed()
    );
    assert!(
        html.contains("the email could not be sent. Temporary password:"),
        "{html:.600}"
    );
    let failed = |app: &crate::helpers::TestApp| {
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'EMAIL_SEND_FAILED'")
    };
    assert_eq!(failed(&app), 1);

    // A reset in the same state: the password is reset (and audited as such), the mail
    // failure is audited, and nothing claims the mail went out.
    let id: i64 = app
        .db()
        .query_row("SELECT customer_id FROM Customers", [], |r| r.get(0))
        .unwrap();
    let html = htmx_post(
        &admin,
        &format!("/admin/customers/{id}/reset-password"),
        &[],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(html.contains("Temporary password:"), "{html:.600}");
    assert_eq!(failed(&app), 2);
    // The reset is audited as the old portal audited it, before the mail is sent; the
    // mail that did not go out is audited right after it.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM AuditLog WHERE action_type = 'ADMIN_PW_RESET_EMAIL'"),
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM AuditLog WHERE action_type = 'EMAIL_SEND_FAILED' AND log_id > (SELECT log_id FROM AuditLog WHERE action_type = 'ADMIN_PW_RESET_EMAIL')"
        ),
        1
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("portal_mails_total{outcome=\"failed\"} 2")
            && metrics.contains("portal_mails_total{outcome=\"sent\"} 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn readiness_says_whether_mail_can_go_out() {
    let smtp = |port: &str| {
        vec![
            ("SMTP_SERVER", "127.0.0.1".to_owned()),
            ("SMTP_PORT", port.to_owned()),
            ("SMTP_USE_TLS", "False".to_owned()),
            ("SMTP_TIMEOUT", "1".to_owned()),
            ("EMAIL_FROM", "portal@wepackitall.example".to_owned()),
        ]
    };
    async fn readyz(settings: &[(&str, String)]) -> (u16, serde_json::Value) {
        let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let app = crate::helpers::spawn_app_with(&pairs, false).await;
        let started = std::time::Instant::now();
        let resp = app.get("/readyz").await;
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(8),
            "readiness waited {:?} for the mail server",
            started.elapsed()
        );
        (status, body)
    }

    let (port, _) = smtp_server().await;
    let (status, body) = readyz(&smtp(&port.to_string())).await;
    assert_eq!(
        (status, &body["mail"]["status"]),
        (200, &serde_json::json!("ok")),
        "{body}"
    );
    assert_eq!(body["mail"]["transport"], "smtp");

    // Nothing listening: refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port().to_string();
    drop(closed);
    let (status, body) = readyz(&smtp(&closed_port)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["failing"], serde_json::json!(["mail"]), "{body}");

    // Accepts and never answers: down within the SMTP timeout.
    let silent = silent_smtp_server().await.to_string();
    let (status, body) = readyz(&smtp(&silent)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["mail"]["status"], "down", "{body}");
}
