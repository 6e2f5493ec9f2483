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

use ipnet::IpNet;
use url::Url;

use crate::domain::Zone;
use read::Reader;

pub mod dotenv;
pub mod keys;
mod read;
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
    /// `ERP_READ_TIMEOUT`: how long one whole inventory read may take.
    pub erp_read_timeout: Duration,
    /// `INVENTORY_CACHE_MAX_MB`.
    pub inventory_cache_max_mb: usize,
    /// `SHUTDOWN_GRACE_SECONDS`: how long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    pub smtp: Option<SmtpConfig>,
    pub email_from: Option<String>,
    /// `EMAIL_BCC`: every address of the comma-separated list gets a blind copy.
    pub email_bcc: Vec<String>,
    pub ad: Option<AdConfig>,
    /// Seed demo accounts on first start (demo mode only). Not an environment variable:
    /// tests switch it off to keep each spawned app cheap.
    pub seed_demo_accounts: bool,
    /// A database trigger refuses updates and deletes of audit rows (`AUDIT_APPEND_ONLY`).
    pub audit_append_only: bool,
    /// Mail a customer when a browser without the account's known-device mark signs in
    /// (`NEW_SIGNIN_MAIL`).
    pub new_sign_in_mail: bool,
    /// Customers must turn two-step sign-in on (`REQUIRE_2FA=customers` or `both`).
    pub require_two_factor_customers: bool,
    /// Staff (the local admin and directory admins) must turn it on (`REQUIRE_2FA=staff`
    /// or `both`).
    pub require_two_factor_staff: bool,
    /// The zone of the old portal's local-time columns (`APP_DB_TIME_ZONE`).
    pub app_db_zone: Zone,
    /// `HISTORY_*` and `FORECAST_*`: when the daily record is taken, how long it is kept,
    /// how the forecast reads it.
    pub history: crate::config::HistoryConfig,
    /// The zone times are shown in to people (`PORTAL_TIMEZONE`).
    pub portal_zone: Zone,
    /// Who may read `/metrics`: these networks (`METRICS_ALLOW`) or this bearer token.
    pub metrics_allow: Vec<IpNet>,
    pub metrics_token: Option<Secret>,
    /// Reverse proxies whose client-address header is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpNet>,
    /// The one header those proxies name the client in (`CLIENT_IP_HEADER`).
    pub client_ip_header: ClientIpHeader,
    /// Connections one direct peer may hold (`MAX_CONNECTIONS_PER_ADDRESS`).
    pub max_connections_per_address: usize,
    /// `LOG_FORMAT=json`.
    pub json_logs: bool,
    /// Settings of the old portal that are accepted but mean nothing here (logged once).
    pub ignored_settings: Vec<&'static str>,
    /// What start-up should tell the operator about the values read (never secrets).
    pub warnings: Vec<String>,
}

/// The header a trusted proxy names the client in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientIpHeader {
    /// Cloudflare's tunnel (`cloudflared`): one address.
    CfConnectingIp,
    /// nginx, IIS and most load balancers: a list, the client's address rightmost of those
    /// the proxies did not add.
    XForwardedFor,
    /// nginx's `real_ip` convention: one address.
    XRealIp,
}

impl ClientIpHeader {
    /// The header's name, lower case as HTTP/2 and `http` spell it.
    pub fn header_name(self) -> &'static str {
        match self {
            ClientIpHeader::CfConnectingIp => "cf-connecting-ip",
            ClientIpHeader::XForwardedFor => "x-forwarded-for",
            ClientIpHeader::XRealIp => "x-real-ip",
        }
    }
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

/// How much of a SQL Server connection TLS protects (`*_ENCRYPT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// The login only, when the server supports it: what ODBC Driver 17 does by default
    /// (`Encrypt=no`), so servers the old portal reached are reached.
    Off,
    /// Everything, over TLS 1.2 or later.
    On,
    /// Everything, and the server's certificate is always checked (the trust key is
    /// ignored).
    Strict,
}

#[derive(Debug, Clone)]
pub struct SqlServerConfig {
    pub server: String,
    /// A named instance (`host\\INSTANCE`); with a port it is reached on that port
    /// directly, without asking SQL Browser.
    pub instance: Option<String>,
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
    pub encryption: Encryption,
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

/// Where the data lives and how it is read: the data folder, both databases, the
/// inventory cache.
struct Data {
    data_dir: PathBuf,
    app_db: AppDbConfig,
    erp: ErpConfig,
    erp_cache_seconds: u64,
    erp_read_timeout: Duration,
    inventory_cache_max_mb: usize,
    app_db_zone: Zone,
    history: HistoryConfig,
}

impl Data {
    fn read(r: &mut Reader) -> Data {
        let data_dir = PathBuf::from(r.text("DATA_DIR").unwrap_or_default());
        let app_db = match r.text("DB_SERVER") {
            None => AppDbConfig::Sqlite {
                path: data_dir.join("portal.db"),
            },
            Some(server) => AppDbConfig::SqlServer(sql_server(r, "DB", server)),
        };
        let demo_rows = r.int("DEMO_ERP_ROWS") as u32;
        let erp = match r.text("ERP_DB_SERVER") {
            None => ErpConfig::Demo { rows: demo_rows },
            Some(server) => ErpConfig::SqlServer(sql_server(r, "ERP_DB", server)),
        };
        Data {
            data_dir,
            app_db,
            erp,
            erp_cache_seconds: r.int("ERP_CACHE_SECONDS"),
            erp_read_timeout: Duration::from_secs(r.int("ERP_READ_TIMEOUT")),
            inventory_cache_max_mb: r.int("INVENTORY_CACHE_MAX_MB") as usize,
            app_db_zone: r.zone("APP_DB_TIME_ZONE"),
            history: HistoryConfig {
                hour: r.int("HISTORY_HOUR") as u8,
                retention_days: r.int("HISTORY_RETENTION_DAYS") as u32,
                window_days: r.int("FORECAST_WINDOW_DAYS") as u32,
                alert_days: r.int("FORECAST_ALERT_DAYS") as u32,
            },
        }
    }
}

impl Config {
    /// Reads and checks every key; all problems at once.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let mut r = Reader::new(vars);
        let production = r.raw("DB_SERVER").is_some() || r.raw("ERP_DB_SERVER").is_some();
        if r.bool("DEMO") && production {
            r.problem("DEMO=1 conflicts with DB_SERVER/ERP_DB_SERVER: remove one of them");
        }
        let mode = if production {
            Mode::Production
        } else {
            Mode::Demo
        };
        let net = Network::read(&mut r, production);
        let sec = Security::read(&mut r, production);
        let data = Data::read(&mut r);
        let mail = Mail::read(&mut r, production);
        if production && sec.app_base_url.is_none() {
            r.problem(format!(
                "APP_BASE_URL is required {IN_PRODUCTION}: links in mails point there, e.g. https://portal.example.com"
            ));
        }
        let ad = ad(&mut r);
        let ignored_settings = ["ERP_DB_DRIVER", "FLASK_ENV"]
            .into_iter()
            .filter(|k| r.raw(k).is_some())
            .collect();
        let portal_zone = r.zone("PORTAL_TIMEZONE");
        let metrics_allow = r.nets("METRICS_ALLOW");
        let json_logs = r.choice("LOG_FORMAT") == "json";
        if !r.problems.is_empty() {
            return Err(ConfigError {
                problems: r.problems,
            });
        }
        Ok(Config {
            mode,
            host: net.host,
            port: net.port,
            data_dir: data.data_dir,
            secret_key: sec.secret_key,
            session_lifetime: sec.session_lifetime,
            test_mode: sec.test_mode,
            app_base_url: sec.app_base_url,
            admin_username: sec.admin_username,
            admin_password_hash: sec.admin_password_hash,
            app_db: data.app_db,
            erp: data.erp,
            erp_cache_seconds: data.erp_cache_seconds,
            erp_read_timeout: data.erp_read_timeout,
            inventory_cache_max_mb: data.inventory_cache_max_mb,
            shutdown_grace: net.shutdown_grace,
            smtp: mail.smtp,
            email_from: mail.from,
            email_bcc: mail.bcc,
            ad,
            seed_demo_accounts: true,
            audit_append_only: sec.audit_append_only,
            new_sign_in_mail: sec.new_sign_in_mail,
            require_two_factor_customers: sec.require_two_factor_customers,
            require_two_factor_staff: sec.require_two_factor_staff,
            app_db_zone: data.app_db_zone,
            history: data.history,
            portal_zone,
            metrics_allow,
            metrics_token: sec.metrics_token,
            trusted_proxies: net.trusted_proxies,
            client_ip_header: net.client_ip_header,
            max_connections_per_address: net.max_per_address,
            json_logs,
            ignored_settings,
            warnings: r.warnings,
        })
    }

    /// The URL people use to reach the portal (links in emails, the start-up banner).
    pub fn public_url(&self, bound_port: u16) -> String {
        match &self.app_base_url {
            Some(u) => u.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}:{bound_port}", self.host),
        }
    }

    /// Whether the public URL is https (links in mails, and cookies of requests that
    /// arrive through a trusted proxy without saying which scheme they came on).
    pub fn public_url_is_https(&self) -> bool {
        self.app_base_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }

    /// Whether `peer` is one of `TRUSTED_PROXIES`.
    pub fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(&peer))
    }
}

const IN_PRODUCTION: &str = "in production mode (DB_SERVER or ERP_DB_SERVER is set)";

/// Where the portal listens and whom it believes about client addresses.
struct Network {
    host: IpAddr,
    port: u16,
    shutdown_grace: Duration,
    trusted_proxies: Vec<IpNet>,
    client_ip_header: ClientIpHeader,
    max_per_address: usize,
}

impl Network {
    fn read(r: &mut Reader<'_>, production: bool) -> Network {
        // Like the old portal (waitress on 0.0.0.0) in production; loopback for the demo.
        let default_host = if production {
            IpAddr::from([0, 0, 0, 0])
        } else {
            IpAddr::from([127, 0, 0, 1])
        };
        Network {
            host: r.ip("HOST").unwrap_or(default_host),
            port: r.port("PORT").unwrap_or(5001),
            shutdown_grace: Duration::from_secs(r.int("SHUTDOWN_GRACE_SECONDS")),
            trusted_proxies: r.nets("TRUSTED_PROXIES"),
            client_ip_header: match r.choice("CLIENT_IP_HEADER") {
                "X-Forwarded-For" => ClientIpHeader::XForwardedFor,
                "X-Real-IP" => ClientIpHeader::XRealIp,
                _ => ClientIpHeader::CfConnectingIp,
            },
            max_per_address: r.int("MAX_CONNECTIONS_PER_ADDRESS") as usize,
        }
    }
}

/// Keys, sessions, admins and who may read metrics.
struct Security {
    secret_key: Option<Secret>,
    session_lifetime: Duration,
    test_mode: bool,
    audit_append_only: bool,
    new_sign_in_mail: bool,
    require_two_factor_customers: bool,
    require_two_factor_staff: bool,
    app_base_url: Option<Url>,
    admin_username: String,
    admin_password_hash: Option<Secret>,
    metrics_token: Option<Secret>,
}

impl Security {
    fn read(r: &mut Reader<'_>, production: bool) -> Security {
        let secret_key = r.token("SECRET_KEY");
        if production && r.raw("SECRET_KEY").is_none() {
            r.problem(format!(
                "SECRET_KEY is required {IN_PRODUCTION}: a random string of at least {MIN_SECRET_KEY_LEN} characters"
            ));
        }
        let require_2fa = r.choice("REQUIRE_2FA");
        let test_mode = r.bool("TEST_MODE");
        if test_mode && production {
            r.problem("TEST_MODE=True is refused in production mode: it bypasses Active Directory");
        }
        let admin_password_hash = r.hash("ADMIN_PASSWORD_HASH");
        if production && r.raw("ADMIN_PASSWORD_HASH").is_none() {
            r.problem(format!(
                "ADMIN_PASSWORD_HASH is required {IN_PRODUCTION}; make one with `customer-portal hash-password`"
            ));
        }
        Security {
            secret_key,
            session_lifetime: Duration::from_secs_f64(r.number("SESSION_HOURS") * 3600.0),
            test_mode,
            audit_append_only: r.bool("AUDIT_APPEND_ONLY"),
            new_sign_in_mail: r.bool("NEW_SIGNIN_MAIL"),
            require_two_factor_customers: matches!(require_2fa, "customers" | "both"),
            require_two_factor_staff: matches!(require_2fa, "staff" | "both"),
            app_base_url: r.url("APP_BASE_URL"),
            // Any name the old portal accepted: compared exactly, as typed.
            admin_username: r.text("ADMIN_USERNAME").unwrap_or_default(),
            admin_password_hash,
            metrics_token: r.token("METRICS_TOKEN"),
        }
    }
}

/// SMTP, or the outbox when no server is set.
struct Mail {
    smtp: Option<SmtpConfig>,
    from: Option<String>,
    bcc: Vec<String>,
}

impl Mail {
    fn read(r: &mut Reader<'_>, production: bool) -> Mail {
        let smtp = r.text("SMTP_SERVER").map(|server| SmtpConfig {
            server,
            port: r.port("SMTP_PORT").unwrap_or(587),
            use_tls: r.bool("SMTP_USE_TLS"),
            timeout: Duration::from_secs(r.int("SMTP_TIMEOUT")),
            username: r.text("SMTP_USERNAME"),
            password: r.text("SMTP_PASSWORD").map(Secret::new),
        });
        if production && smtp.is_none() {
            r.problem(format!(
                "SMTP_SERVER is required {IN_PRODUCTION}: welcome and reset mails must really be sent (the outbox folder is for the demo only)"
            ));
        }
        let from = r.text("EMAIL_FROM").or_else(|| r.text("SMTP_USERNAME"));
        if smtp.is_some() && from.is_none() {
            r.problem("EMAIL_FROM (or SMTP_USERNAME) is required when SMTP_SERVER is set");
        }
        Mail {
            smtp,
            from,
            bcc: r.emails("EMAIL_BCC"),
        }
    }
}

/// The Active Directory group, when `AD_SERVER` is set.
fn ad(r: &mut Reader<'_>) -> Option<AdConfig> {
    let server = r.text("AD_SERVER")?;
    let why = "when AD_SERVER is set";
    let domain = r.required("AD_DOMAIN", why);
    let port = r.port("AD_PORT").unwrap_or(389);
    let use_ssl = r.bool_or("AD_USE_SSL", port == 636);
    let use_starttls = r.bool("AD_USE_STARTTLS");
    let tls_ca_file = r.text("AD_TLS_CA_FILE").map(PathBuf::from);
    if let Some(f) = &tls_ca_file
        && !f.exists()
    {
        r.problem(format!("AD_TLS_CA_FILE {} does not exist", f.display()));
    }
    let service_account = r.required("AD_SERVICE_ACCOUNT", why);
    let service_password = r.required("AD_SERVICE_PASSWORD", why);
    let base_dn = r.required("AD_BASE_DN", why);
    let admin_group = r.required("AD_PORTAL_ADMIN_GROUP", why);
    Some(AdConfig {
        server,
        domain: domain?,
        port,
        use_ssl,
        use_starttls,
        tls_ca_file,
        service_account: service_account?,
        service_password: Secret::new(service_password?),
        base_dn: base_dn?,
        admin_group: admin_group?,
    })
}

pub const MIN_SECRET_KEY_LEN: usize = 32;

/// Reads the `DB_*` or `ERP_DB_*` group. `*_SERVER` accepts `host`, `host,port` and
/// `host\\instance`, as ODBC connection strings did.
fn sql_server(r: &mut Reader<'_>, prefix: &str, server: String) -> SqlServerConfig {
    let key = |suffix: &str| format!("{prefix}_{suffix}");
    let why = format!("when {prefix}_SERVER is set");
    let database = r.required(&key("NAME"), &why).unwrap_or_default();
    let windows_auth = r.bool(&key("USE_WINDOWS_AUTH"));
    let username = r.text(&key("USERNAME"));
    let password = r.text(&key("PASSWORD")).map(Secret::new);
    if !windows_auth {
        for (k, v) in [
            ("USERNAME", username.is_some()),
            ("PASSWORD", password.is_some()),
        ] {
            if !v {
                r.problem(format!("{} is required {why} (SQL login)", key(k)));
            }
        }
    }
    let (host, mut port) = match server.split_once(',') {
        Some((h, p)) => match p.trim().parse::<u16>() {
            Ok(p) => (h.trim().to_owned(), Some(p)),
            Err(_) => {
                r.problem(format!(
                    "{prefix}_SERVER has an invalid port after the comma (got {server:?})"
                ));
                (h.trim().to_owned(), None)
            }
        },
        None => (server.trim().to_owned(), None),
    };
    if r.raw(&key("PORT")).is_some() {
        port = r.port(&key("PORT"));
    }
    let (host, instance) = match host.split_once('\\') {
        Some((h, i)) => (h.to_owned(), Some(i.to_owned())),
        None => (host, None),
    };
    SqlServerConfig {
        server: host,
        instance,
        port,
        database,
        windows_auth,
        username,
        password,
        timeout: Duration::from_secs(r.int(&key("TIMEOUT"))),
        trust_server_certificate: r.bool(&key("TRUST_SERVER_CERTIFICATE")),
        pool_size: r.int(&key("POOL_SIZE")),
        encryption: match r.choice(&key("ENCRYPT")) {
            "on" => Encryption::On,
            "strict" => Encryption::Strict,
            _ => Encryption::Off,
        },
    }
}

#[cfg(test)]
mod tests;

/// When the daily inventory record is taken and how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryConfig {
    pub hour: u8,
    pub retention_days: u32,
    pub window_days: u32,
    pub alert_days: u32,
}
