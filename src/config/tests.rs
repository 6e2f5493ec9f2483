//! Configuration rules, one test each.

use super::*;

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn empty_environment_is_demo_mode_with_defaults() {
    let c = Config::from_vars(&vars(&[])).unwrap();
    assert_eq!(c.mode, Mode::Demo);
    assert_eq!(c.port, 5001);
    assert_eq!(c.host.to_string(), "127.0.0.1");
    assert!(matches!(c.erp, ErpConfig::Demo { rows: 5000 }));
    assert!(matches!(c.app_db, AppDbConfig::Sqlite { .. }));
    assert_eq!(c.erp_cache_seconds, 30);
    assert_eq!(c.session_lifetime, Duration::from_secs(8 * 3600));
}

#[test]
fn blank_template_lines_count_as_unset() {
    let c = Config::from_vars(&vars(&[("DB_SERVER", ""), ("SECRET_KEY", "  ")])).unwrap();
    assert_eq!(c.mode, Mode::Demo);
    assert!(c.secret_key.is_none());
}

#[test]
fn production_reports_every_problem_at_once() {
    let err = Config::from_vars(&vars(&[
        ("ERP_DB_SERVER", "erp.local"),
        ("PORT", "http"),
        ("TEST_MODE", "True"),
    ]))
    .unwrap_err();
    let text = err.to_string();
    for needle in [
        "SECRET_KEY",
        "ADMIN_PASSWORD_HASH",
        "PORT must be",
        "TEST_MODE",
        "ERP_DB_NAME",
        "ERP_DB_USERNAME",
        "ERP_DB_PASSWORD",
        "SMTP_SERVER is required",
        "APP_BASE_URL is required",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
}

#[test]
fn short_secret_key_is_refused_without_echoing_it() {
    let err = Config::from_vars(&vars(&[("SECRET_KEY", "tooshort-secret-value")])).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("SECRET_KEY must be at least 32"), "{text}");
    assert!(!text.contains("tooshort-secret-value"));
}

#[test]
fn secrets_do_not_appear_in_debug() {
    let c = Config::from_vars(&vars(&[
        ("SECRET_KEY", "0123456789abcdef0123456789abcdef-very-secret"),
        ("DB_SERVER", "sql01\\PORTAL"),
        ("DB_NAME", "CustomerPortalDB"),
        ("DB_USERNAME", "portal"),
        ("DB_PASSWORD", "db-password-value"),
        ("ADMIN_PASSWORD_HASH", "pbkdf2:sha256:1000$abc$0000000000000000000000000000000000000000000000000000000000000000"),
        ("SMTP_SERVER", "smtp.example.com"),
        ("SMTP_PASSWORD", "smtp-password-value"),
        ("EMAIL_FROM", "portal@example.com"),
        ("APP_BASE_URL", "https://portal.example.com"),
    ]))
    .unwrap();
    let dbg = format!("{c:?}");
    for secret in [
        "very-secret",
        "db-password-value",
        "smtp-password-value",
        "pbkdf2:sha256",
    ] {
        assert!(!dbg.contains(secret), "{secret} leaked into Debug");
    }
    assert_eq!(c.mode, Mode::Production);
}

fn production(extra: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let hash =
        "pbkdf2:sha256:1000$abc$0000000000000000000000000000000000000000000000000000000000000000";
    let mut v = vars(&[
        ("ERP_DB_SERVER", "erp01"),
        ("ERP_DB_NAME", "Deacom"),
        ("ERP_DB_USERNAME", "ro"),
        ("ERP_DB_PASSWORD", "pw"),
        ("SECRET_KEY", "0123456789abcdef0123456789abcdef-key"),
        ("ADMIN_PASSWORD_HASH", hash),
        ("SMTP_SERVER", "smtp.example.com"),
        ("EMAIL_FROM", "portal@example.com"),
        ("APP_BASE_URL", "https://portal.example.com"),
    ]);
    v.extend(vars(extra));
    Config::from_vars(&v)
}

#[test]
fn production_listens_everywhere_and_trusts_server_certificates_like_the_old_portal() {
    let c = production(&[]).unwrap();
    assert_eq!(c.host.to_string(), "0.0.0.0");
    assert_eq!(c.port, 5001);
    let ErpConfig::SqlServer(erp) = &c.erp else {
        panic!("expected SQL Server")
    };
    assert!(erp.trust_server_certificate);
    let strict = production(&[
        ("ERP_DB_TRUST_SERVER_CERTIFICATE", "false"),
        ("HOST", "10.1.2.3"),
    ])
    .unwrap();
    let ErpConfig::SqlServer(erp) = &strict.erp else {
        panic!("expected SQL Server")
    };
    assert!(!erp.trust_server_certificate);
    assert_eq!(strict.host.to_string(), "10.1.2.3");
    assert_eq!(
        Config::from_vars(&vars(&[])).unwrap().host.to_string(),
        "127.0.0.1",
        "the demo stays on loopback"
    );
}

#[test]
fn production_refuses_to_start_without_smtp_or_a_public_url() {
    let hash =
        "pbkdf2:sha256:1000$abc$0000000000000000000000000000000000000000000000000000000000000000";
    let err = Config::from_vars(&vars(&[
        ("ERP_DB_SERVER", "erp01"),
        ("ERP_DB_NAME", "Deacom"),
        ("ERP_DB_USERNAME", "ro"),
        ("ERP_DB_PASSWORD", "pw"),
        ("SECRET_KEY", "0123456789abcdef0123456789abcdef-key"),
        ("ADMIN_PASSWORD_HASH", hash),
    ]))
    .unwrap_err()
    .to_string();
    assert!(err.contains("SMTP_SERVER is required"), "{err}");
    assert!(err.contains("APP_BASE_URL is required"), "{err}");
}

#[test]
fn erp_db_driver_is_accepted_and_noted_as_ignored() {
    let c = production(&[("ERP_DB_DRIVER", "ODBC Driver 17 for SQL Server")]).unwrap();
    assert_eq!(c.ignored_settings, ["ERP_DB_DRIVER"]);
    assert!(production(&[]).unwrap().ignored_settings.is_empty());
}

#[test]
fn pools_and_timeouts_are_configurable() {
    let c = production(&[
        ("ERP_DB_POOL_SIZE", "3"),
        ("ERP_DB_TIMEOUT", "7"),
        ("ERP_DB_TRUST_SERVER_CERTIFICATE", "True"),
        ("ERP_DB_PORT", "1500"),
    ])
    .unwrap();
    let ErpConfig::SqlServer(erp) = c.erp else {
        panic!("expected SQL Server")
    };
    assert_eq!(
        (
            erp.pool_size,
            erp.timeout,
            erp.trust_server_certificate,
            erp.port
        ),
        (3, Duration::from_secs(7), true, Some(1500))
    );
    let bad = production(&[("ERP_DB_POOL_SIZE", "0")])
        .unwrap_err()
        .to_string();
    assert!(bad.contains("ERP_DB_POOL_SIZE"), "{bad}");
}

#[test]
fn ad_uses_ldaps_on_636_and_starttls_elsewhere_by_default() {
    let ad = [
        ("AD_SERVER", "dc01"),
        ("AD_DOMAIN", "corp.local"),
        ("AD_SERVICE_ACCOUNT", "svc"),
        ("AD_SERVICE_PASSWORD", "pw"),
        ("AD_BASE_DN", "DC=corp,DC=local"),
        ("AD_PORTAL_ADMIN_GROUP", "Customer_Portal_Admin"),
    ];
    let with_port = |port: &str| {
        let mut v = vars(&ad);
        v.insert("AD_PORT".into(), port.into());
        Config::from_vars(&v).unwrap().ad.unwrap()
    };
    let ldaps = with_port("636");
    assert!(ldaps.use_ssl);
    let plain = with_port("389");
    assert!(!plain.use_ssl && plain.use_starttls);
    let mut missing = vars(&ad);
    missing.remove("AD_BASE_DN");
    assert!(
        Config::from_vars(&missing)
            .unwrap_err()
            .to_string()
            .contains("AD_BASE_DN is required")
    );
}

#[test]
fn db_server_forms() {
    let base = [
        ("DB_NAME", "X"),
        ("DB_USERNAME", "u"),
        ("DB_PASSWORD", "p"),
        ("SECRET_KEY", &"k".repeat(40)),
        (
            "ADMIN_PASSWORD_HASH",
            "pbkdf2:sha256:1000$abc$0000000000000000000000000000000000000000000000000000000000000000",
        ),
        ("SMTP_SERVER", "smtp.example.com"),
        ("EMAIL_FROM", "portal@example.com"),
        ("APP_BASE_URL", "https://portal.example.com"),
    ];
    for (server, host, instance, port) in [
        ("sql01", "sql01", None, None),
        ("sql01,1444", "sql01", None, Some(1444)),
        ("sql01\\INST", "sql01", Some("INST"), None),
        ("sql01\\INST,49172", "sql01", Some("INST"), Some(49172)),
    ] {
        let mut v = vars(&base);
        v.insert("DB_SERVER".into(), server.into());
        let c = Config::from_vars(&v).unwrap();
        let AppDbConfig::SqlServer(s) = c.app_db else {
            panic!("expected SQL Server")
        };
        assert_eq!(s.server, host);
        assert_eq!(s.instance.as_deref(), instance);
        assert_eq!(s.port, port);
    }
}

fn sources(dotenv: &[(&str, &str)], env: &[(&str, &str)]) -> Sources {
    Sources {
        dotenv: vars(dotenv),
        env: vars(env),
        ..Sources::default()
    }
}

#[test]
fn unknown_keys_are_named_with_the_nearest_known_one() {
    let checked = check(&sources(
        &[("SESSION_HOUR", "8"), ("FOO", "1")],
        &[("SMTP_SERVR", "x"), ("PATH", "/bin"), ("HOME", "/root")],
    ))
    .unwrap();
    let w = checked.warnings.join("\n");
    assert!(
        w.contains("unknown setting SESSION_HOUR in .env; did you mean SESSION_HOURS?"),
        "{w}"
    );
    assert!(w.contains("unknown setting FOO in .env"), "{w}");
    assert!(
        w.contains("unknown setting SMTP_SERVR in the environment; did you mean SMTP_SERVER?"),
        "{w}"
    );
    assert!(
        !w.contains("PATH") && !w.contains("HOME"),
        "other programs' variables are not ours: {w}"
    );
}

#[test]
fn a_production_dotenv_without_a_server_refuses_the_demo() {
    let secret = ("SECRET_KEY", "0123456789abcdef0123456789abcdef-key");
    let err = check(&sources(
        &[secret, ("SMTP_SERVER", "smtp.example.com")],
        &[],
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("refusing to start the demo"), "{err}");
    assert!(err.contains("SECRET_KEY, SMTP_SERVER"), "{err}");
    assert!(err.contains("DEMO=1"), "says how to proceed: {err}");
    assert!(
        !err.contains("0123456789abcdef"),
        "the secret is not echoed: {err}"
    );
    // A misspelt DB_SERVER is the classic way to boot the demo by mistake.
    let err = check(&sources(&[("DB_SEVRER", "sql01")], &[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("DB_SEVRER"), "{err}");
    // The template's defaults and blank lines are not production settings.
    check(&sources(
        &[
            ("SMTP_PORT", "587"),
            ("AD_PORT", "389"),
            ("SMTP_SERVER", ""),
        ],
        &[],
    ))
    .unwrap();
    // The same keys from the environment (tests, containers) are the operator's choice.
    check(&sources(&[], &[secret])).unwrap();
}

#[test]
fn demo_1_insists_on_the_demo() {
    let checked = check(&sources(
        &[
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef-key"),
            ("DEMO", "1"),
        ],
        &[],
    ))
    .unwrap();
    assert_eq!(checked.config.mode, Mode::Demo);
    let err = check(&sources(&[("DEMO", "1"), ("ERP_DB_SERVER", "erp01")], &[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("DEMO=1 conflicts"), "{err}");
}

#[test]
fn the_template_lists_exactly_the_key_table() {
    let template = include_str!("../../.env.template");
    let parsed = dotenv::parse(template);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let mut in_template: Vec<&str> = parsed.bindings.iter().map(|b| b.key.as_str()).collect();
    in_template.sort_unstable();
    let mut in_table: Vec<&str> = keys::KEYS.iter().map(|k| k.name).collect();
    in_table.sort_unstable();
    assert_eq!(
        in_template, in_table,
        ".env.template and the key table differ"
    );
    for b in &parsed.bindings {
        let k = keys::find(&b.key).unwrap();
        assert!(
            b.value.is_empty() || Some(b.value.as_str()) == k.default,
            "{}: the template says {:?}, the table's default is {:?}",
            b.key,
            b.value,
            k.default
        );
        if k.secret {
            assert!(b.value.is_empty(), "{}: a secret in the template", b.key);
        }
    }
    // The template itself starts the demo (copied as it is, it must not refuse).
    let checked = check(&sources(
        &parsed
            .bindings
            .iter()
            .map(|b| (b.key.as_str(), b.value.as_str()))
            .collect::<Vec<_>>(),
        &[],
    ))
    .unwrap();
    assert_eq!(checked.config.mode, Mode::Demo);
    assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
}

#[test]
fn every_key_read_with_a_default_has_one_in_the_table() {
    // Reading an empty configuration touches every defaulted key of demo mode; a
    // production one with AD and SMTP touches the rest. Both panic on a missing default.
    Config::from_vars(&vars(&[])).unwrap();
    production(&[
        ("SMTP_SERVER", "smtp"),
        ("EMAIL_FROM", "a@b.co"),
        ("AD_SERVER", "dc"),
        ("AD_DOMAIN", "d"),
        ("AD_SERVICE_ACCOUNT", "s"),
        ("AD_SERVICE_PASSWORD", "p"),
        ("AD_BASE_DN", "DC=d"),
        ("AD_PORTAL_ADMIN_GROUP", "g"),
        ("DB_SERVER", "sql"),
        ("DB_NAME", "n"),
        ("DB_USERNAME", "u"),
        ("DB_PASSWORD", "p"),
    ])
    .unwrap();
}

#[test]
fn time_zones_are_iana_names_defaulting_to_the_hosts() {
    let c = Config::from_vars(&vars(&[
        ("APP_DB_TIME_ZONE", "America/Chicago"),
        ("PORTAL_TIMEZONE", " Europe/Berlin "),
    ]))
    .unwrap();
    assert_eq!(c.app_db_zone.name(), "America/Chicago");
    assert_eq!(c.portal_zone.name(), "Europe/Berlin");
    let d = Config::from_vars(&vars(&[])).unwrap();
    assert_eq!(d.app_db_zone, Zone::host());
    assert_eq!(d.portal_zone, Zone::host());
    let err = Config::from_vars(&vars(&[("APP_DB_TIME_ZONE", "Central Standard Time")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("APP_DB_TIME_ZONE") && err.contains("America/Chicago"),
        "{err}"
    );
}

#[test]
fn old_values_read_as_the_old_portal_read_them() {
    let c = production(&[
        ("DB_SERVER", "sql01\\PORTAL,49172"),
        ("DB_USERNAME", "portal"),
        ("DB_PASSWORD", "pw"),
        ("EMAIL_BCC", "audit@example.com, records@example.com"),
        ("ADMIN_USERNAME", "Ops Team (Plant 2)"),
        ("SMTP_USE_TLS", "Y"),
        ("ERP_DB_ENCRYPT", "Strict"),
    ])
    .unwrap();
    let AppDbConfig::SqlServer(db) = &c.app_db else {
        panic!("expected SQL Server")
    };
    assert_eq!(db.database, "CustomerPortalDB", "the old default name");
    assert_eq!(
        (db.instance.as_deref(), db.port),
        (Some("PORTAL"), Some(49172))
    );
    assert_eq!(db.encryption, Encryption::Off, "ODBC Driver 17's default");
    let ErpConfig::SqlServer(erp) = &c.erp else {
        panic!("expected SQL Server")
    };
    assert_eq!(erp.encryption, Encryption::Strict);
    assert_eq!(c.email_bcc, ["audit@example.com", "records@example.com"]);
    assert_eq!(c.admin_username, "Ops Team (Plant 2)");
    assert!(
        !c.smtp.as_ref().unwrap().use_tls,
        "Y is not true to the old portal"
    );
    assert!(
        c.warnings.iter().any(|w| w.contains("SMTP_USE_TLS")),
        "{:?}",
        c.warnings
    );
    assert_eq!(c.erp_read_timeout, Duration::from_secs(300));
    assert_eq!(c.client_ip_header, ClientIpHeader::CfConnectingIp);
    assert!(c.is_trusted_proxy("127.0.0.1".parse().unwrap()));
    assert!(!c.is_trusted_proxy("10.0.0.1".parse().unwrap()));
    let bad = production(&[("ERP_DB_ENCRYPT", "maybe")])
        .unwrap_err()
        .to_string();
    assert!(
        bad.contains("ERP_DB_ENCRYPT must be one of off, on, strict"),
        "{bad}"
    );
}
