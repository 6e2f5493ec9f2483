//! Admin sign-in against a real OpenLDAP configured like Active Directory (docs/active-directory.md).

use std::time::{Duration, Instant};

use customer_portal::auth::ldap::{ActiveDirectory, AdOutcome};
use customer_portal::config::{AdConfig, Secret};

use crate::admin::{ADMIN_PW, admin_app, admin_login};
use crate::helpers::*;
use crate::slapd::{self, ALICE_PW, BOB_PW, Slapd};

async fn app_for(dir: &Slapd, port: u16, starttls: bool) -> TestApp {
    let env = dir.env(port, starttls);
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    admin_app(&pairs).await
}

fn ad_config(port: u16, starttls: bool) -> AdConfig {
    AdConfig {
        server: "127.0.0.1".into(),
        domain: "example.local".into(),
        port,
        use_ssl: false,
        use_starttls: starttls,
        tls_ca_file: None,
        service_account: slapd::SVC_DN.into(),
        service_password: Secret::new(slapd::SVC_PW),
        base_dn: slapd::BASE_DN.into(),
        admin_group: slapd::GROUP.into(),
    }
}

#[tokio::test]
async fn directory_members_are_admitted_and_everyone_else_refused() {
    let Some(bin) = slapd::slapd_binary() else {
        return;
    };
    let mut dir = Slapd::start(&bin, false).await.unwrap();
    let app = app_for(&dir, dir.port, false).await;

    // A member of the admin group, typed as user@domain: admitted, shown by display name.
    let b = app.other_browser();
    assert_eq!(
        location(&admin_login(&b, "alice@example.local", ALICE_PW).await),
        "/admin/panel"
    );
    let panel = b.get("/admin/panel").await.text().await.unwrap();
    assert!(
        panel.contains("Welcome, Alice Admin"),
        "the display name is shown"
    );
    let method: String = app
        .db()
        .query_row("SELECT details FROM AuditLog WHERE action_type = 'ADMIN_LOGIN' AND admin_username = 'alice'", [], |r| r.get(0))
        .unwrap();
    assert!(method.contains("\"method\":\"ad\""));

    // Not a member, wrong password, empty password, injection strings: all refused alike.
    for (user, pw) in [
        ("bob", BOB_PW),
        ("alice", "wrong-password"),
        ("alice", ""),
        ("*", ALICE_PW),
        ("x)(|(objectClass=*)", ALICE_PW),
        ("alice*", ALICE_PW),
        ("nobody", ALICE_PW),
    ] {
        let c = app.other_browser();
        let html = admin_login(&c, user, pw).await.text().await.unwrap();
        assert!(
            html.contains("Invalid username or password."),
            "{user:?} was not refused"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM AdminSessions"), 1);

    // The directory layer itself escapes filter values and refuses blank passwords,
    // even though the sign-in form never lets such names through.
    let ad = ActiveDirectory::new(ad_config(dir.port, false), None).unwrap();
    assert!(matches!(
        ad.authenticate("*", ALICE_PW).await,
        AdOutcome::Refused(_)
    ));
    assert!(matches!(
        ad.authenticate("alice", " ").await,
        AdOutcome::Refused(_)
    ));
    // An empty password would be an anonymous bind that this server (like AD) accepts.
    assert!(matches!(
        ad.authenticate("alice", "").await,
        AdOutcome::Refused(_)
    ));
    assert!(matches!(
        ad.authenticate("alice", ALICE_PW).await,
        AdOutcome::Admitted { .. }
    ));

    // Directory down: the local admin still signs in at once; AD users get the same refusal.
    dir.stop();
    let c = app.other_browser();
    let started = Instant::now();
    assert_eq!(
        location(&admin_login(&c, "cp_admin", ADMIN_PW).await),
        "/admin/panel"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the local admin waited for the directory"
    );
    let d = app.other_browser();
    let html = admin_login(&d, "alice", ALICE_PW)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Invalid username or password."));
    assert!(matches!(
        ad.authenticate("alice", ALICE_PW).await,
        AdOutcome::Unreachable(_)
    ));
}

#[tokio::test]
async fn a_directory_admin_with_two_step_sign_in_gives_a_code_after_the_directory_password() {
    let Some(bin) = slapd::slapd_binary() else {
        return;
    };
    let mut dir = Slapd::start(&bin, false).await.unwrap();
    let app = app_for(&dir, dir.port, false).await;
    let alice = app.other_browser();
    assert_eq!(
        location(&admin_login(&alice, "alice", ALICE_PW).await),
        "/admin/panel"
    );
    let (secret, _) = crate::two_step::enrol_at(&alice, "/admin/two-step").await;
    let key: String = app
        .db()
        .query_row("SELECT account_key FROM TwoFactor", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        key, "staff-ad:alice",
        "by method and name, apart from the local admin"
    );
    // The directory password alone no longer signs in; with the code, the session is the
    // directory's (display name, method) as before.
    let b = app.other_browser();
    assert_eq!(
        location(&admin_login(&b, "alice@example.local", ALICE_PW).await),
        "/admin-login/code"
    );
    assert_eq!(location(&b.get("/admin/panel").await), "/admin-login");
    let code = secret.code_at(crate::two_step::now() + customer_portal::auth::totp::STEP_SECONDS);
    let r = b.post_form("/admin-login/code", &[("code", &code)]).await;
    assert_eq!(location(&r), "/admin/panel");
    let panel = b.get("/admin/panel").await.text().await.unwrap();
    assert!(panel.contains("Welcome, Alice Admin"), "{panel}");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM AdminSessions WHERE username = 'alice' AND auth_method = 'ad'"
        ),
        2
    );
    // A wrong directory password never reaches the code step.
    let c = app.other_browser();
    assert_eq!(
        admin_login(&c, "alice", "not-her-password").await.status(),
        200
    );
    // The local admin's account is another: not asked for a code.
    let local = app.other_browser();
    assert_eq!(
        location(&admin_login(&local, "cp_admin", ADMIN_PW).await),
        "/admin/panel"
    );
    dir.stop();
}

#[tokio::test]
async fn starttls_and_ldaps_with_a_private_ca() {
    let Some(bin) = slapd::slapd_binary() else {
        return;
    };
    let Some(dir) = Slapd::start(&bin, true).await else {
        crate::helpers::require_tool::<()>(
            None,
            "TLS directory test: openssl could not make a certificate (apt-get install -y openssl; .ci/run does this)",
            crate::helpers::under_ci(),
        );
        return;
    };
    let ca = dir.cert.clone().unwrap();
    // StartTLS on the plain port.
    let ad = ActiveDirectory::new(ad_config(dir.port, true), Some(&ca)).unwrap();
    assert!(matches!(
        ad.authenticate("alice", ALICE_PW).await,
        AdOutcome::Admitted { .. }
    ));
    // Without trusting the certificate, StartTLS fails closed.
    let untrusted = ActiveDirectory::new(ad_config(dir.port, true), None).unwrap();
    assert!(matches!(
        untrusted.authenticate("alice", ALICE_PW).await,
        AdOutcome::Unreachable(_)
    ));
    // LDAPS (port 636 in production; AD_USE_SSL here, as slapd listens elsewhere).
    let mut ldaps = ad_config(dir.tls_port.unwrap(), false);
    ldaps.use_ssl = true;
    let ad = ActiveDirectory::new(ldaps, Some(&ca)).unwrap();
    assert!(matches!(
        ad.authenticate("alice", ALICE_PW).await,
        AdOutcome::Admitted { .. }
    ));
    // End to end through the portal, configured from the environment.
    let app = app_for(&dir, dir.port, true).await;
    let b = app.other_browser();
    assert_eq!(
        location(&admin_login(&b, "alice", ALICE_PW).await),
        "/admin/panel"
    );
    let mut env = dir.env(dir.tls_port.unwrap(), false);
    env.push(("AD_USE_SSL".into(), "True".into()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = admin_app(&pairs).await;
    let b = app.other_browser();
    assert_eq!(
        location(&admin_login(&b, "alice@example.local", ALICE_PW).await),
        "/admin/panel"
    );
}

#[tokio::test]
async fn a_directory_that_never_answers_times_out_and_never_blocks_the_local_admin() {
    // Accepts connections, says nothing: the worst kind of unreachable.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let ad = ActiveDirectory::new(ad_config(port, false), None)
        .unwrap()
        .with_timeout(Duration::from_secs(1));
    let started = Instant::now();
    assert!(matches!(
        ad.authenticate("alice", ALICE_PW).await,
        AdOutcome::Unreachable(_)
    ));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );

    let port = port.to_string();
    let app = admin_app(&[
        ("AD_SERVER", "127.0.0.1"),
        ("AD_PORT", &port),
        ("AD_DOMAIN", "example.local"),
        ("AD_SERVICE_ACCOUNT", slapd::SVC_DN),
        ("AD_SERVICE_PASSWORD", slapd::SVC_PW),
        ("AD_BASE_DN", slapd::BASE_DN),
        ("AD_PORTAL_ADMIN_GROUP", slapd::GROUP),
        ("AD_USE_STARTTLS", "False"),
    ])
    .await;
    let b = app.other_browser();
    let started = Instant::now();
    assert_eq!(
        location(&admin_login(&b, "cp_admin", ADMIN_PW).await),
        "/admin/panel"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the local admin waited for the directory"
    );
}
