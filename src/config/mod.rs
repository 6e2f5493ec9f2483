//! Typed configuration from the environment plus `.env`.
//!
//! Every variable of the Flask portal keeps its name and meaning. Parsing collects every
//! problem before failing, so an operator sees one message naming all bad variables
//! instead of fixing them one restart at a time.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::domain::Zone;

pub mod dotenv;
pub mod keys;
mod sources;

pub use sources::{Checked, Sources, check};

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
    /// `INVENTORY_CACHE_MAX_MB`.
    pub inventory_cache_max_mb: usize,
    /// `SHUTDOWN_GRACE_SECONDS`: how long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    pub smtp: Option<SmtpConfig>,
    pub email_from: Option<String>,
    pub email_bcc: Option<String>,
    pub ad: Option<AdConfig>,
    /// Seed demo accounts on first start (demo mode only). Not an environment variable:
    /// tests switch it off to keep each spawned app cheap.
    pub seed_demo_accounts: bool,
    /// A database trigger refuses updates and deletes of audit rows (`AUDIT_APPEND_ONLY`).
    pub audit_append_only: bool,
    /// The zone of the old portal's local-time columns (`APP_DB_TIME_ZONE`).
    pub app_db_zone: Zone,
    /// The zone times are shown in to people (`PORTAL_TIMEZONE`).
    pub portal_zone: Zone,
    /// Who may read `/metrics`: these addresses (`METRICS_ALLOW`) or this bearer token.
    pub metrics_allow: Vec<IpAddr>,
    pub metrics_token: Option<Secret>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpAddr>,
    /// Connections one direct peer may hold (`MAX_CONNECTIONS_PER_ADDRESS`).
    pub max_connections_per_address: usize,
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
    /// Deadline of a whole SMTP exchange (`SMTP_TIMEOUT`).
    pub timeout: Duration,
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

pub const MIN_SECRET_KEY_LEN: usize = 32;
const MAX_DEMO_ERP_ROWS: u32 = 1_000_000;

/// The default of `key` in the key table. Every key read with a default is listed there
/// with one (a unit test reads every key), so a miss is a programming error.
fn table_default<T: std::str::FromStr>(key: &str) -> T {
    keys::find(key)
        .and_then(|k| k.default)
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("{key} has no usable default in the key table"))
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

    /// `key` parsed, or its default from the key table.
    fn parse<T: std::str::FromStr>(&mut self, key: &str, what: &str) -> T {
        let default = table_default(key);
        self.parse_or(key, default, what)
    }

    fn parse_or<T: std::str::FromStr>(&mut self, key: &str, default: T, what: &str) -> T {
        match self.get(key) {
            None => default,
            Some(raw) => match raw.parse() {
                Ok(v) => v,
                Err(_) => {
                    // Values of non-secret keys are echoed to help the operator.
                    let secret = keys::find(key).is_some_and(|k| k.secret);
                    self.problems.push(if secret {
                        format!("{key} must be {what}")
                    } else {
                        format!("{key} must be {what} (got {raw:?})")
                    });
                    default
                }
            },
        }
    }

    fn bool(&mut self, key: &str) -> bool {
        let default = table_default::<String>(key) == "True";
        self.bool_or(key, default)
    }

    /// Python-style booleans as the old `.env` used them: True/False, 1/0, yes/no.
    fn bool_or(&mut self, key: &str, default: bool) -> bool {
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
        let insist_demo = r.bool("DEMO");
        if insist_demo && production {
            r.problems.push(
                "DEMO=1 conflicts with DB_SERVER/ERP_DB_SERVER: remove one of them".to_owned(),
            );
        }
        let mode = if production {
            Mode::Production
        } else {
            Mode::Demo
        };
        let required_in_production = "in production mode (DB_SERVER or ERP_DB_SERVER is set)";

        // Like the old portal (waitress on 0.0.0.0) in production; loopback for the demo.
        let default_host = if production {
            IpAddr::from([0, 0, 0, 0])
        } else {
            IpAddr::from([127, 0, 0, 1])
        };
        let host: IpAddr = r.parse_or(
            "HOST",
            default_host,
            "an IP address such as 127.0.0.1 or 0.0.0.0",
        );
        let port: u16 = r.parse("PORT", "a port number (0-65535)");
        let data_dir = PathBuf::from(
            r.get("DATA_DIR")
                .map(str::to_owned)
                .unwrap_or_else(|| table_default("DATA_DIR")),
        );
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

        let max_connections_per_address: usize = r.parse(
            "MAX_CONNECTIONS_PER_ADDRESS",
            "a whole number of connections",
        );
        if max_connections_per_address == 0 {
            r.problems
                .push("MAX_CONNECTIONS_PER_ADDRESS must be at least 1".to_owned());
        }

        let mut metrics_allow = Vec::new();
        for item in r
            .get("METRICS_ALLOW")
            .map(str::to_owned)
            .unwrap_or_else(|| table_default("METRICS_ALLOW"))
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match item.parse::<IpAddr>() {
                Ok(ip) => metrics_allow.push(ip),
                Err(_) => r.problems.push(format!(
                    "METRICS_ALLOW must list IP addresses separated by commas (got {item:?})"
                )),
            }
        }
        let metrics_token = match r.get("METRICS_TOKEN") {
            Some(t) if t.chars().count() < 24 => {
                r.problems
                    .push("METRICS_TOKEN must be at least 24 characters long".to_owned());
                None
            }
            Some(t) => Some(Secret::new(t)),
            None => None,
        };

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

        let session_hours: f64 = r.parse("SESSION_HOURS", "a number of hours such as 8");
        let session_lifetime =
            if session_hours.is_finite() && session_hours > 0.0 && session_hours <= 24.0 * 365.0 {
                Duration::from_secs_f64(session_hours * 3600.0)
            } else {
                r.problems.push(format!(
                    "SESSION_HOURS must be more than 0 and at most 8760 (got {session_hours})"
                ));
                Duration::from_secs_f64(table_default::<f64>("SESSION_HOURS") * 3600.0)
            };

        let mut zone = |key: &str| match r.get(key) {
            None => Zone::host(),
            Some(name) => Zone::parse(name).unwrap_or_else(|e| {
                r.problems.push(format!("{key}: {e}"));
                Zone::utc()
            }),
        };
        let app_db_zone = zone("APP_DB_TIME_ZONE");
        let portal_zone = zone("PORTAL_TIMEZONE");

        let test_mode = r.bool("TEST_MODE");
        let audit_append_only = r.bool("AUDIT_APPEND_ONLY");
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

        let demo_rows: u32 = r.parse("DEMO_ERP_ROWS", "a whole number of rows");
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
        let erp_cache_seconds: u64 = r.parse(
            "ERP_CACHE_SECONDS",
            "a whole number of seconds (0 = always live)",
        );
        let inventory_cache_max_mb: usize = r
            .parse::<usize>("INVENTORY_CACHE_MAX_MB", "a whole number of megabytes")
            .max(16);
        let shutdown_grace = Duration::from_secs(
            r.parse::<u64>("SHUTDOWN_GRACE_SECONDS", "a whole number of seconds")
                .min(3600),
        );

        let smtp = match r.string("SMTP_SERVER") {
            None => None,
            Some(server) => {
                let port: u16 = r.parse("SMTP_PORT", "a port number");
                let use_tls = r.bool("SMTP_USE_TLS");
                let timeout_secs: u64 = r.parse("SMTP_TIMEOUT", "a whole number of seconds");
                Some(SmtpConfig {
                    server,
                    port,
                    use_tls,
                    timeout: Duration::from_secs(timeout_secs.clamp(1, 300)),
                    username: r.string("SMTP_USERNAME"),
                    password: r.string("SMTP_PASSWORD").map(Secret::new),
                })
            }
        };
        if production && smtp.is_none() {
            r.problems.push(format!(
                "SMTP_SERVER is required {required_in_production}: welcome and reset mails must really be sent (the outbox folder is for the demo only)"
            ));
        }
        if production && app_base_url.is_none() {
            r.problems.push(format!(
                "APP_BASE_URL is required {required_in_production}: links in mails point there, e.g. https://portal.example.com"
            ));
        }
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
                let port: u16 = r.parse("AD_PORT", "a port number (389 or 636)");
                let use_ssl = r.bool_or("AD_USE_SSL", port == 636);
                let use_starttls = r.bool("AD_USE_STARTTLS");
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
            inventory_cache_max_mb,
            shutdown_grace,
            smtp,
            email_from,
            email_bcc,
            ad,
            seed_demo_accounts: true,
            audit_append_only,
            app_db_zone,
            portal_zone,
            metrics_allow,
            metrics_token,
            trusted_proxies,
            max_connections_per_address,
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
    let windows_auth = r.bool(&format!("{prefix}_USE_WINDOWS_AUTH"));
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
        port = Some(r.parse_or(&port_key, 1433u16, "a port number"));
    }
    let timeout_key = format!("{prefix}_TIMEOUT");
    let timeout_secs: u64 = r.parse(&timeout_key, "a whole number of seconds");
    let trust_server_certificate = r.bool(&format!("{prefix}_TRUST_SERVER_CERTIFICATE"));
    let pool_key = format!("{prefix}_POOL_SIZE");
    let pool_size: u64 = r.parse(&pool_key, "a whole number of connections");
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
mod tests;
