//! Typed configuration from the environment plus `.env`.
//!
//! Every variable of the Flask portal keeps its name and meaning. Parsing collects every
//! problem before failing, so an operator sees one message naming all bad variables
//! instead of fixing them one restart at a time.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

/// A secret value: never printed by `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Demo: nothing external configured, everything embedded. Production: `DB_SERVER` or
/// `ERP_DB_SERVER` set, and every required setting is validated at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Demo,
    Production,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub host: IpAddr,
    pub port: u16,
    pub data_dir: PathBuf,
    /// `None` in demo mode until start-up generates one and keeps it in `DATA_DIR`.
    pub secret_key: Option<Secret>,
    pub session_lifetime: Duration,
    pub test_mode: bool,
    pub app_base_url: Option<Url>,
    pub admin_username: String,
    /// `None` in demo mode: start-up generates a one-time password and keeps its hash.
    pub admin_password_hash: Option<Secret>,
    pub app_db: AppDbConfig,
    pub erp: ErpConfig,
    pub erp_cache_seconds: u64,
    pub smtp: Option<SmtpConfig>,
    pub email_from: Option<String>,
    pub email_bcc: Option<String>,
    pub ad: Option<AdConfig>,
    /// Seed demo accounts on first start (demo mode only). Not an environment variable:
    /// tests switch it off to keep each spawned app cheap.
    pub seed_demo_accounts: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpAddr>,
    /// Settings of the old portal that are accepted but mean nothing here (logged once).
    pub ignored_settings: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub enum AppDbConfig {
    Sqlite { path: PathBuf },
    SqlServer(SqlServerConfig),
}

#[derive(Debug, Clone)]
pub enum ErpConfig {
    Demo { rows: u32 },
    SqlServer(SqlServerConfig),
}

#[derive(Debug, Clone)]
pub struct SqlServerConfig {
    pub server: String,
    pub port: Option<u16>,
    pub database: String,
    pub windows_auth: bool,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Connect, checkout and (for the ERP) query timeout.
    pub timeout: Duration,
    /// Accept the server's certificate without checking it (`*_TRUST_SERVER_CERTIFICATE`),
    /// for servers with a self-signed certificate, like ODBC's TrustServerCertificate=yes.
    pub trust_server_certificate: bool,
    /// Connections in the pool at most (`*_POOL_SIZE`).
    pub pool_size: u64,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub server: String,
    pub port: u16,
    pub use_tls: bool,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct AdConfig {
    pub server: String,
    pub domain: String,
    pub port: u16,
    /// LDAPS (TLS from the first byte): `AD_USE_SSL`, by default true on port 636.
    pub use_ssl: bool,
    /// StartTLS on a non-636 port (`AD_USE_STARTTLS`, default true): without it the
    /// admin's password would cross the network in clear text.
    pub use_starttls: bool,
    /// A PEM file of CA certificates to trust for the directory (`AD_TLS_CA_FILE`).
    pub tls_ca_file: Option<PathBuf>,
    pub service_account: String,
    pub service_password: Secret,
    pub base_dn: String,
    pub admin_group: String,
}

/// All configuration problems found, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invalid configuration ({} problem(s)):",
            self.problems.len()
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        write!(f, "See .env.template for every setting and its meaning.")
    }
}

impl std::error::Error for ConfigError {}

pub const DEFAULT_PORT: u16 = 5001;
pub const DEFAULT_SESSION_HOURS: f64 = 8.0;
pub const DEFAULT_DEMO_ERP_ROWS: u32 = 5_000;
pub const DEFAULT_ERP_CACHE_SECONDS: u64 = 30;
pub const MIN_SECRET_KEY_LEN: usize = 32;
const MAX_DEMO_ERP_ROWS: u32 = 1_000_000;

/// Reads `.env` (if present in the working directory) and the process environment; the
/// process environment wins, as with python-dotenv's default.
pub fn load_vars() -> anyhow::Result<HashMap<String, String>> {
    load_vars_from(Path::new(".env"))
}

pub fn load_vars_from(dotenv: &Path) -> anyhow::Result<HashMap<String, String>> {
    let mut vars = HashMap::new();
    if dotenv.exists() {
        for item in dotenvy::from_path_iter(dotenv)? {
            let (k, v) = item?;
            vars.insert(k, v);
        }
    }
    vars.extend(std::env::vars());
    Ok(vars)
}

/// Collects parse problems while reading variables.
struct Reader<'a> {
    vars: &'a HashMap<String, String>,
    problems: Vec<String>,
}

impl<'a> Reader<'a> {
    /// A set, non-blank value. `KEY=` lines from the template count as unset.
    fn get(&self, key: &str) -> Option<&'a str> {
        self.vars
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn string(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    fn required(&mut self, key: &str, why: &str) -> Option<String> {
        let v = self.string(key);
        if v.is_none() {
            self.problems.push(format!("{key} is required {why}"));
        }
        v
    }

    fn parse<T: std::str::FromStr>(&mut self, key: &str, default: T, what: &str) -> T {
        match self.get(key) {
            None => default,
            Some(raw) => match raw.parse() {
                Ok(v) => v,
                Err(_) => {
                    // Values of non-secret keys are echoed to help the operator.
                    self.problems
                        .push(format!("{key} must be {what} (got {raw:?})"));
                    default
                }
            },
        }
    }

    /// Python-style booleans as the old `.env` used them: True/False, 1/0, yes/no.
    fn bool(&mut self, key: &str, default: bool) -> bool {
        match self.get(key).map(|v| v.to_ascii_lowercase()) {
            None => default,
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => true,
            Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => false,
            Some(v) => {
                self.problems
                    .push(format!("{key} must be True or False (got {v:?})"));
                default
            }
        }
    }
}

impl Config {
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let mut r = Reader {
            vars,
            problems: Vec::new(),
        };
        let production = r.get("DB_SERVER").is_some() || r.get("ERP_DB_SERVER").is_some();
        let mode = if production {
            Mode::Production
        } else {
            Mode::Demo
        };
        let required_in_production = "in production mode (DB_SERVER or ERP_DB_SERVER is set)";

        let host = r.parse(
            "HOST",
            IpAddr::from([127, 0, 0, 1]),
            "an IP address such as 127.0.0.1 or 0.0.0.0",
        );
        let port = r.parse("PORT", DEFAULT_PORT, "a port number (0-65535)");
        let data_dir = PathBuf::from(r.get("DATA_DIR").unwrap_or("./data"));
        let mut trusted_proxies = Vec::new();
        for item in r
            .get("TRUSTED_PROXIES")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match item.parse::<IpAddr>() {
                Ok(ip) => trusted_proxies.push(ip),
                Err(_) => r.problems.push(format!(
                    "TRUSTED_PROXIES must list IP addresses separated by commas (got {item:?})"
                )),
            }
        }

        let secret_key = match r.get("SECRET_KEY") {
            Some(k) if k.chars().count() < MIN_SECRET_KEY_LEN => {
                r.problems.push(format!(
                    "SECRET_KEY must be at least {MIN_SECRET_KEY_LEN} characters long (got {})",
                    k.chars().count()
                ));
                None
            }
            Some(k) => Some(Secret::new(k)),
            None => {
                if production {
                    r.problems.push(format!(
                        "SECRET_KEY is required {required_in_production}: a random string of at least {MIN_SECRET_KEY_LEN} characters"
                    ));
                }
                None
            }
        };

        let session_hours: f64 = r.parse(
            "SESSION_HOURS",
            DEFAULT_SESSION_HOURS,
            "a number of hours such as 8",
        );
        let session_lifetime =
            if session_hours.is_finite() && session_hours > 0.0 && session_hours <= 24.0 * 365.0 {
                Duration::from_secs_f64(session_hours * 3600.0)
            } else {
                r.problems.push(format!(
                    "SESSION_HOURS must be more than 0 and at most 8760 (got {session_hours})"
                ));
                Duration::from_secs_f64(DEFAULT_SESSION_HOURS * 3600.0)
            };

        let test_mode = r.bool("TEST_MODE", false);
        if test_mode && production {
            r.problems.push(
                "TEST_MODE=True is refused in production mode: it bypasses Active Directory"
                    .to_owned(),
            );
        }

        let app_base_url = match r.get("APP_BASE_URL") {
            None => None,
            Some(raw) => match Url::parse(raw) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Some(u),
                _ => {
                    r.problems.push(format!(
                        "APP_BASE_URL must be an absolute http(s) URL such as https://portal.example.com (got {raw:?})"
                    ));
                    None
                }
            },
        };

        let admin_username = r
            .string("ADMIN_USERNAME")
            .unwrap_or_else(|| "cp_admin".to_owned());
        let admin_password_hash = match r.get("ADMIN_PASSWORD_HASH") {
            Some(h) => match werkzeug_hash::ParsedHash::parse(h) {
                Ok(_) => Some(Secret::new(h)),
                Err(e) => {
                    r.problems.push(format!(
                        "ADMIN_PASSWORD_HASH is not a usable Werkzeug hash ({e}); make one with `customer-portal hash-password`"
                    ));
                    None
                }
            },
            None => {
                if production {
                    r.problems.push(format!(
                        "ADMIN_PASSWORD_HASH is required {required_in_production}; make one with `customer-portal hash-password`"
                    ));
                }
                None
            }
        };

        let app_db = match r.string("DB_SERVER") {
            None => AppDbConfig::Sqlite {
                path: data_dir.join("portal.db"),
            },
            Some(server) => {
                AppDbConfig::SqlServer(sql_server(&mut r, "DB", server, "DB_SERVER is set"))
            }
        };

        let demo_rows = r.parse(
            "DEMO_ERP_ROWS",
            DEFAULT_DEMO_ERP_ROWS,
            "a whole number of rows",
        );
        if demo_rows == 0 || demo_rows > MAX_DEMO_ERP_ROWS {
            r.problems.push(format!(
                "DEMO_ERP_ROWS must be between 1 and {MAX_DEMO_ERP_ROWS} (got {demo_rows})"
            ));
        }
        let erp = match r.string("ERP_DB_SERVER") {
            None => ErpConfig::Demo { rows: demo_rows },
            Some(server) => {
                ErpConfig::SqlServer(sql_server(&mut r, "ERP_DB", server, "ERP_DB_SERVER is set"))
            }
        };
        let erp_cache_seconds = r.parse(
            "ERP_CACHE_SECONDS",
            DEFAULT_ERP_CACHE_SECONDS,
            "a whole number of seconds (0 = always live)",
        );

        let smtp = match r.string("SMTP_SERVER") {
            None => None,
            Some(server) => {
                let port = r.parse("SMTP_PORT", 587u16, "a port number");
                let use_tls = r.bool("SMTP_USE_TLS", true);
                Some(SmtpConfig {
                    server,
                    port,
                    use_tls,
                    username: r.string("SMTP_USERNAME"),
                    password: r.string("SMTP_PASSWORD").map(Secret::new),
                })
            }
        };
        let email_from = r.string("EMAIL_FROM").or_else(|| r.string("SMTP_USERNAME"));
        if smtp.is_some() && email_from.is_none() {
            r.problems.push(
                "EMAIL_FROM (or SMTP_USERNAME) is required when SMTP_SERVER is set".to_owned(),
            );
        }
        let email_bcc = r.string("EMAIL_BCC");

        let ad = match r.string("AD_SERVER") {
            None => None,
            Some(server) => {
                let why = "when AD_SERVER is set";
                let domain = r.required("AD_DOMAIN", why);
                let port = r.parse("AD_PORT", 389u16, "a port number (389 or 636)");
                let use_ssl = r.bool("AD_USE_SSL", port == 636);
                let use_starttls = r.bool("AD_USE_STARTTLS", true);
                let tls_ca_file = r.string("AD_TLS_CA_FILE").map(PathBuf::from);
                if let Some(f) = &tls_ca_file
                    && !f.exists()
                {
                    r.problems
                        .push(format!("AD_TLS_CA_FILE {} does not exist", f.display()));
                }
                let service_account = r.required("AD_SERVICE_ACCOUNT", why);
                let service_password = r.required("AD_SERVICE_PASSWORD", why);
                let base_dn = r.required("AD_BASE_DN", why);
                let admin_group = r.required("AD_PORTAL_ADMIN_GROUP", why);
                match (
                    domain,
                    service_account,
                    service_password,
                    base_dn,
                    admin_group,
                ) {
                    (
                        Some(domain),
                        Some(service_account),
                        Some(pw),
                        Some(base_dn),
                        Some(admin_group),
                    ) => Some(AdConfig {
                        server,
                        domain,
                        port,
                        use_ssl,
                        use_starttls,
                        tls_ca_file,
                        service_account,
                        service_password: Secret::new(pw),
                        base_dn,
                        admin_group,
                    }),
                    _ => None,
                }
            }
        };

        if !r.problems.is_empty() {
            return Err(ConfigError {
                problems: r.problems,
            });
        }
        Ok(Config {
            mode,
            host,
            port,
            data_dir,
            secret_key,
            session_lifetime,
            test_mode,
            app_base_url,
            admin_username,
            admin_password_hash,
            app_db,
            erp,
            erp_cache_seconds,
            smtp,
            email_from,
            email_bcc,
            ad,
            seed_demo_accounts: true,
            trusted_proxies,
            ignored_settings: if r.get("ERP_DB_DRIVER").is_some() {
                vec!["ERP_DB_DRIVER"]
            } else {
                Vec::new()
            },
        })
    }

    /// Cookies get `Secure` when the portal is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.app_base_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }

    /// The URL people use to reach the portal (links in emails, the start-up banner).
    pub fn public_url(&self, bound_port: u16) -> String {
        match &self.app_base_url {
            Some(u) => u.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}:{bound_port}", self.host),
        }
    }
}

/// Reads the `DB_*` or `ERP_DB_*` group. `DB_SERVER` accepts `host`, `host,port` and
/// `host\instance`, as ODBC connection strings did.
fn sql_server(r: &mut Reader<'_>, prefix: &str, server: String, why: &str) -> SqlServerConfig {
    let why = format!("when {why}");
    let database = r
        .required(&format!("{prefix}_NAME"), &why)
        .unwrap_or_default();
    let windows_auth = r.bool(&format!("{prefix}_USE_WINDOWS_AUTH"), false);
    let username = r.string(&format!("{prefix}_USERNAME"));
    let password = r.string(&format!("{prefix}_PASSWORD")).map(Secret::new);
    if !windows_auth {
        if username.is_none() {
            r.problems
                .push(format!("{prefix}_USERNAME is required {why} (SQL login)"));
        }
        if password.is_none() {
            r.problems
                .push(format!("{prefix}_PASSWORD is required {why} (SQL login)"));
        }
    }
    let (host, mut port) = match server.split_once(',') {
        Some((h, p)) => match p.trim().parse::<u16>() {
            Ok(p) => (h.trim().to_owned(), Some(p)),
            Err(_) => {
                r.problems.push(format!(
                    "{prefix}_SERVER has an invalid port after the comma (got {server:?})"
                ));
                (h.trim().to_owned(), None)
            }
        },
        None => (server.clone(), None),
    };
    let port_key = format!("{prefix}_PORT");
    if r.get(&port_key).is_some() {
        port = Some(r.parse(&port_key, 1433u16, "a port number"));
    }
    let timeout_key = format!("{prefix}_TIMEOUT");
    let timeout_secs: u64 = r.parse(&timeout_key, 30, "a whole number of seconds");
    let trust_server_certificate = r.bool(&format!("{prefix}_TRUST_SERVER_CERTIFICATE"), false);
    let pool_key = format!("{prefix}_POOL_SIZE");
    let pool_size: u64 = r.parse(&pool_key, 10, "a whole number of connections");
    if pool_size == 0 || pool_size > 200 {
        r.problems.push(format!(
            "{pool_key} must be between 1 and 200 (got {pool_size})"
        ));
    }
    SqlServerConfig {
        server: host,
        port,
        database,
        windows_auth,
        username,
        password,
        timeout: Duration::from_secs(timeout_secs.max(1)),
        trust_server_certificate,
        pool_size: pool_size.clamp(1, 200),
    }
}

#[cfg(test)]
mod tests {
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
        let hash = "pbkdf2:sha256:1000$abc$0000000000000000000000000000000000000000000000000000000000000000";
        let mut v = vars(&[
            ("ERP_DB_SERVER", "erp01"),
            ("ERP_DB_NAME", "Deacom"),
            ("ERP_DB_USERNAME", "ro"),
            ("ERP_DB_PASSWORD", "pw"),
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef-key"),
            ("ADMIN_PASSWORD_HASH", hash),
        ]);
        v.extend(vars(extra));
        Config::from_vars(&v)
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
        ];
        for (server, host, port) in [
            ("sql01", "sql01", None),
            ("sql01,1444", "sql01", Some(1444)),
            ("sql01\\INST", "sql01\\INST", None),
        ] {
            let mut v = vars(&base);
            v.insert("DB_SERVER".into(), server.into());
            let c = Config::from_vars(&v).unwrap();
            let AppDbConfig::SqlServer(s) = c.app_db else {
                panic!("expected SQL Server")
            };
            assert_eq!(s.server, host);
            assert_eq!(s.port, port);
        }
    }
}
