//! `customer-portal preflight`: the switch-day rehearsal. With the real `.env` against the
//! real servers it says go or no-go for each part — how every key was understood, both
//! databases (connection, tables, column sizes, every statement described without being
//! run), one ERP read, SMTP, the directory, and the proxy and cookie settings — and writes
//! nothing anywhere.

use std::time::Duration;

use crate::checks::{Finding, Verdict};
use crate::config::keys::KEYS;
use crate::config::{AppDbConfig, Config, ErpConfig, Sources, check};

/// How one key was understood.
#[derive(Debug, Clone)]
pub struct KeyLine {
    pub name: &'static str,
    pub value: String,
    pub origin: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub dotenv: Option<String>,
    pub keys: Vec<KeyLine>,
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether nothing blocks the switch.
    pub fn go(&self) -> bool {
        self.findings.iter().all(|f| f.verdict != Verdict::NoGo)
    }

    /// The report as Markdown tables, for a terminal or a ticket.
    pub fn render(&self) -> String {
        let mut out = String::from("# Customer Portal preflight\n\n");
        out.push_str(&format!(
            "Configuration read from: {}\n\n",
            self.dotenv
                .as_deref()
                .unwrap_or("the environment only (no .env found)")
        ));
        out.push_str("| key | understood as | from |\n|---|---|---|\n");
        for k in &self.keys {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                k.name,
                cell(&k.value),
                k.origin
            ));
        }
        out.push_str("\n| area | check | verdict | detail |\n|---|---|---|---|\n");
        for f in &self.findings {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                f.area,
                cell(&f.check),
                f.verdict,
                cell(&f.detail)
            ));
        }
        let blocking = self
            .findings
            .iter()
            .filter(|f| f.verdict == Verdict::NoGo)
            .count();
        let warnings = self
            .findings
            .iter()
            .filter(|f| f.verdict == Verdict::Warn)
            .count();
        out.push_str(&if blocking == 0 {
            format!("\nGO: nothing blocks the switch ({warnings} warnings to read).\n")
        } else {
            format!("\nNO-GO: {blocking} problems block the switch ({warnings} warnings).\n")
        });
        out
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// How every key of the table was understood: its value (secrets hidden) and where it
/// came from.
fn key_lines(sources: &Sources) -> Vec<KeyLine> {
    let set = |m: &std::collections::HashMap<String, String>, k: &str| {
        m.get(k)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    KEYS.iter()
        .map(|k| {
            let (value, origin) = match (set(&sources.env, k.name), set(&sources.dotenv, k.name)) {
                (Some(v), _) => (Some(v), "environment"),
                (None, Some(v)) => (Some(v), ".env"),
                (None, None) => (
                    None,
                    if k.default.is_some() {
                        "default"
                    } else {
                        "unset"
                    },
                ),
            };
            let value = match (value, k.secret) {
                (Some(_), true) => "(set, not shown)".to_owned(),
                (Some(v), false) => v,
                (None, _) => k.default.unwrap_or("").to_owned(),
            };
            KeyLine {
                name: k.name,
                value,
                origin,
            }
        })
        .collect()
}

/// Runs every check; nothing is written.
pub async fn run(sources: &Sources) -> Report {
    let mut report = Report {
        dotenv: sources
            .dotenv_path
            .as_ref()
            .map(|p| p.display().to_string()),
        keys: key_lines(sources),
        findings: Vec::new(),
    };
    let config = match check(sources) {
        Ok(checked) => {
            report.findings.push(Finding::new(
                "configuration",
                "every key read",
                Verdict::Go,
                format!("{:?} mode", checked.config.mode),
            ));
            for w in checked.warnings {
                report
                    .findings
                    .push(Finding::new("configuration", "warning", Verdict::Warn, w));
            }
            checked.config
        }
        Err(e) => {
            for p in e.problems {
                report
                    .findings
                    .push(Finding::new("configuration", "problem", Verdict::NoGo, p));
            }
            return report;
        }
    };
    report.findings.extend(app_database(&config).await);
    report.findings.extend(erp(&config).await);
    report.findings.extend(crate::mail::inspect(&config).await);
    report.findings.extend(directory(&config).await);
    report.findings.extend(proxy_and_cookies(&config));
    report
}

async fn app_database(config: &Config) -> Vec<Finding> {
    match &config.app_db {
        AppDbConfig::Sqlite { path } => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || crate::store::sqlite::inspect(&path))
                .await
                .unwrap_or_else(|e| {
                    vec![Finding::new(
                        "app database",
                        "inspect",
                        Verdict::NoGo,
                        e.to_string(),
                    )]
                })
        }
        AppDbConfig::SqlServer(c) => crate::store::mssql::inspect(c).await,
    }
}

async fn erp(config: &Config) -> Vec<Finding> {
    match &config.erp {
        ErpConfig::Demo { rows } => {
            let path = config.data_dir.join("deacom-demo.db");
            if !path.exists() {
                return vec![Finding::new(
                    "ERP",
                    "demo ERP",
                    Verdict::Warn,
                    format!(
                        "{} is generated ({rows} rows) at the first start",
                        path.display()
                    ),
                )];
            }
            match crate::erp::deacom_sqlite::DeacomSqlite::open(&path) {
                Ok(erp) => {
                    crate::erp::inspect(&erp, Duration::from_secs(60), config.erp_read_timeout)
                        .await
                }
                Err(e) => vec![Finding::new(
                    "ERP",
                    "demo ERP",
                    Verdict::NoGo,
                    e.to_string(),
                )],
            }
        }
        ErpConfig::SqlServer(c) => {
            let tds = match crate::mssql::tiberius_config(c, true) {
                Ok(t) => t,
                Err(e) => {
                    return vec![Finding::new(
                        "ERP",
                        "settings",
                        Verdict::NoGo,
                        e.to_string(),
                    )];
                }
            };
            let erp = crate::erp::deacom_mssql::DeacomMssql::new(tds, 1, c.timeout);
            let mut out = vec![Finding::new(
                "ERP",
                "connection settings",
                Verdict::Go,
                format!(
                    "{}{}, database {}, encryption {:?}, ERP_DB_TIMEOUT {} s, ERP_READ_TIMEOUT {} s",
                    c.server,
                    match (&c.instance, c.port) {
                        (Some(i), Some(p)) => format!("\\{i} on port {p}"),
                        (Some(i), None) => format!("\\{i}"),
                        (None, p) => format!(":{}", p.unwrap_or(1433)),
                    },
                    c.database,
                    c.encryption,
                    c.timeout.as_secs(),
                    config.erp_read_timeout.as_secs()
                ),
            )];
            out.extend(crate::erp::inspect(&erp, c.timeout, config.erp_read_timeout).await);
            out
        }
    }
}

async fn directory(config: &Config) -> Vec<Finding> {
    let Some(ad) = &config.ad else {
        return vec![Finding::new(
            "admins",
            "Active Directory",
            Verdict::Skip,
            "no AD_SERVER: only the local admin signs in",
        )];
    };
    let directory =
        match crate::auth::ldap::ActiveDirectory::new(ad.clone(), ad.tls_ca_file.as_deref()) {
            Ok(d) => d,
            Err(e) => {
                return vec![Finding::new(
                    "admins",
                    "Active Directory",
                    Verdict::NoGo,
                    e.to_string(),
                )];
            }
        };
    vec![match directory.check_service_account().await {
        Ok(detail) => Finding::new(
            "admins",
            "AD bind with the service account",
            Verdict::Go,
            detail,
        ),
        Err(e) => Finding::new(
            "admins",
            "AD bind with the service account",
            Verdict::NoGo,
            e,
        ),
    }]
}

/// What the proxy and cookie settings mean for the public URL.
fn proxy_and_cookies(config: &Config) -> Vec<Finding> {
    const AREA: &str = "proxy and cookies";
    let mut out = Vec::new();
    let proxies: Vec<String> = config
        .trusted_proxies
        .iter()
        .map(|n| n.to_string())
        .collect();
    out.push(Finding::new(
        AREA,
        "client addresses",
        Verdict::Go,
        format!(
            "{} from {} (TRUSTED_PROXIES); anyone else is known by the connecting address",
            config.client_ip_header.header_name(),
            if proxies.is_empty() {
                "no proxy".to_owned()
            } else {
                proxies.join(", ")
            }
        ),
    ));
    let https = config.public_url_is_https();
    let verdict = if https && config.trusted_proxies.is_empty() {
        Verdict::Warn
    } else {
        Verdict::Go
    };
    out.push(Finding::new(
        AREA,
        "cookies",
        verdict,
        match (https, config.trusted_proxies.is_empty()) {
            (true, true) => "APP_BASE_URL is https but no proxy is trusted: no request can say it came over https, so no cookie is ever Secure".to_owned(),
            (true, false) => "Secure on requests a trusted proxy forwards over https (X-Forwarded-Proto); plain on the LAN over http, where staff sign in as before".to_owned(),
            (false, _) => "APP_BASE_URL is http: cookies are not Secure".to_owned(),
        },
    ));
    let lan = if config.host.is_loopback() {
        (
            Verdict::Warn,
            format!(
                "listening on {}:{} only: the tunnel reaches it, the LAN does not",
                config.host, config.port
            ),
        )
    } else {
        (
            Verdict::Go,
            format!("listening on {}:{}", config.host, config.port),
        )
    };
    out.push(Finding::new(AREA, "listening", lan.0, lan.1));
    out.push(Finding::new(
        AREA,
        "public URL",
        if config.app_base_url.is_some() {
            Verdict::Go
        } else {
            Verdict::Warn
        },
        config
            .app_base_url
            .as_ref()
            .map(|u| format!("{u}: links in mails point here"))
            .unwrap_or_else(|| {
                "no APP_BASE_URL: links in mails point at the listening address".to_owned()
            }),
    ));
    out
}
