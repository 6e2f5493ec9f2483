//! Every configuration key the portal reads, in one table: its name, type, default, what
//! it means, whether it is a secret (never echoed) and whether it only makes sense in
//! production. The reader takes defaults from here, start-up checks unknown keys against
//! it, and a test keeps `.env.template` equal to it.

/// How a key's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// `True`/`False`, `1`/`0`, `yes`/`no`, `on`/`off`, any case.
    Bool,
    /// A whole number.
    Int,
    /// A number, fractions allowed.
    Number,
    /// An IP address.
    Ip,
    /// Comma-separated IP addresses.
    IpList,
    /// An absolute http(s) URL.
    Url,
    /// A Werkzeug password hash.
    Hash,
}

#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub kind: Kind,
    /// The value used when the key is unset or blank (`None`: no default).
    pub default: Option<&'static str>,
    pub doc: &'static str,
    /// Never printed, in errors or logs.
    pub secret: bool,
    /// Only meaningful against real servers: a `.env` that sets one while neither
    /// `DB_SERVER` nor `ERP_DB_SERVER` is set was most likely meant for production.
    pub production_only: bool,
}

const fn key(
    name: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    doc: &'static str,
) -> Key {
    Key {
        name,
        kind,
        default,
        doc,
        secret: false,
        production_only: false,
    }
}

const fn secret(mut k: Key) -> Key {
    k.secret = true;
    k
}

const fn production(mut k: Key) -> Key {
    k.production_only = true;
    k
}

use Kind::*;

pub const KEYS: &[Key] = &[
    // General
    production(secret(key(
        "SECRET_KEY",
        Text,
        None,
        "signs CSRF tokens and cookies; at least 32 characters",
    ))),
    key(
        "SESSION_HOURS",
        Number,
        Some("8"),
        "hours without activity after which a sign-in ends (7 days at most however active)",
    ),
    key(
        "TEST_MODE",
        Bool,
        Some("False"),
        "bypasses Active Directory for admin sign-in (demo mode only)",
    ),
    key(
        "APP_BASE_URL",
        Url,
        None,
        "public URL of the portal, for links in mails and Secure cookies (required in production)",
    ),
    key(
        "HOST",
        Ip,
        None,
        "address to listen on (127.0.0.1 in demo mode, 0.0.0.0 in production)",
    ),
    key("PORT", Int, Some("5001"), "port to listen on"),
    key(
        "SHUTDOWN_GRACE_SECONDS",
        Int,
        Some("30"),
        "seconds requests in flight may finish after SIGTERM before connections are cut",
    ),
    key(
        "TRUSTED_PROXIES",
        IpList,
        None,
        "reverse proxies whose forwarding headers are believed",
    ),
    key(
        "MAX_CONNECTIONS_PER_ADDRESS",
        Int,
        Some("256"),
        "connections one client address may hold at once (trusted proxies exempt)",
    ),
    key(
        "DATA_DIR",
        Text,
        Some("./data"),
        "where the embedded database, generated key and outbox live",
    ),
    key(
        "DEMO",
        Bool,
        Some("False"),
        "insist on demo mode although .env sets production-only keys",
    ),
    key(
        "PORTAL_TIMEZONE",
        Text,
        None,
        "time zone every time on pages, exports and mails is shown in (IANA name; default the host's)",
    ),
    key(
        "AUDIT_APPEND_ONLY",
        Bool,
        Some("False"),
        "a database trigger refuses changes to audit rows (off: retention jobs may delete)",
    ),
    // App database
    key(
        "DB_SERVER",
        Text,
        None,
        "SQL Server of the app database (unset: embedded SQLite)",
    ),
    key("DB_NAME", Text, None, "app database name"),
    key(
        "DB_PORT",
        Int,
        None,
        "app database port (default 1433, or from DB_SERVER host,port)",
    ),
    key(
        "DB_USE_WINDOWS_AUTH",
        Bool,
        Some("False"),
        "Windows authentication for the app database",
    ),
    production(key(
        "DB_USERNAME",
        Text,
        None,
        "SQL login of the app database",
    )),
    production(secret(key(
        "DB_PASSWORD",
        Text,
        None,
        "password of DB_USERNAME",
    ))),
    key(
        "DB_TRUST_SERVER_CERTIFICATE",
        Bool,
        Some("True"),
        "accept the app database's certificate unchecked (as the old portal did)",
    ),
    key(
        "APP_DB_TIME_ZONE",
        Text,
        None,
        "zone of the old portal's local-time columns (GETDATE()): IANA name; default the host's",
    ),
    key(
        "DB_POOL_SIZE",
        Int,
        Some("10"),
        "app database connections at most",
    ),
    key(
        "DB_TIMEOUT",
        Int,
        Some("30"),
        "app database connect and checkout timeout, seconds",
    ),
    // ERP
    key(
        "ERP_DB_SERVER",
        Text,
        None,
        "SQL Server of the Deacom ERP (unset: generated demo ERP)",
    ),
    production(key("ERP_DB_NAME", Text, None, "ERP database name")),
    production(key(
        "ERP_DB_USERNAME",
        Text,
        None,
        "read-only SQL login of the ERP",
    )),
    production(secret(key(
        "ERP_DB_PASSWORD",
        Text,
        None,
        "password of ERP_DB_USERNAME",
    ))),
    key(
        "ERP_DB_USE_WINDOWS_AUTH",
        Bool,
        Some("False"),
        "Windows authentication for the ERP",
    ),
    key("ERP_DB_PORT", Int, Some("1433"), "ERP port"),
    key(
        "ERP_DB_DRIVER",
        Text,
        None,
        "accepted from the old .env and ignored (no ODBC is used)",
    ),
    key(
        "ERP_DB_TIMEOUT",
        Int,
        Some("30"),
        "ERP connect and query timeout, seconds",
    ),
    key(
        "ERP_DB_TRUST_SERVER_CERTIFICATE",
        Bool,
        Some("True"),
        "accept the ERP's certificate unchecked (as the old portal did)",
    ),
    key(
        "ERP_DB_POOL_SIZE",
        Int,
        Some("10"),
        "ERP connections at most",
    ),
    key(
        "DEMO_ERP_ROWS",
        Int,
        Some("5000"),
        "size of the generated demo ERP, in inventory layers",
    ),
    key(
        "ERP_CACHE_SECONDS",
        Int,
        Some("30"),
        "seconds ERP rows of one scope are reused",
    ),
    key(
        "INVENTORY_CACHE_MAX_MB",
        Int,
        Some("1024"),
        "megabytes of cached inventory at most; least recently used scopes are dropped first",
    ),
    // Mail
    production(key(
        "SMTP_SERVER",
        Text,
        None,
        "SMTP server (required in production; demo mode without it: mails go to DATA_DIR/outbox)",
    )),
    key("SMTP_PORT", Int, Some("587"), "SMTP port"),
    key(
        "SMTP_TIMEOUT",
        Int,
        Some("15"),
        "seconds a whole SMTP exchange may take (connect, TLS, every command)",
    ),
    key(
        "SMTP_USE_TLS",
        Bool,
        Some("True"),
        "STARTTLS to the SMTP server",
    ),
    production(key("SMTP_USERNAME", Text, None, "SMTP login")),
    production(secret(key(
        "SMTP_PASSWORD",
        Text,
        None,
        "password of SMTP_USERNAME",
    ))),
    key(
        "EMAIL_FROM",
        Text,
        None,
        "the From address (default SMTP_USERNAME)",
    ),
    key("EMAIL_BCC", Text, None, "blind copy of every mail"),
    // Admins
    key(
        "ADMIN_USERNAME",
        Text,
        Some("cp_admin"),
        "the local super-admin's name",
    ),
    secret(key(
        "ADMIN_PASSWORD_HASH",
        Hash,
        None,
        "Werkzeug hash of the local admin's password",
    )),
    production(key(
        "AD_SERVER",
        Text,
        None,
        "Active Directory domain controller",
    )),
    production(key("AD_DOMAIN", Text, None, "Active Directory domain")),
    key(
        "AD_PORT",
        Int,
        Some("389"),
        "389 (LDAP with StartTLS) or 636 (LDAPS)",
    ),
    production(key(
        "AD_SERVICE_ACCOUNT",
        Text,
        None,
        "service account that searches the directory",
    )),
    production(secret(key(
        "AD_SERVICE_PASSWORD",
        Text,
        None,
        "password of AD_SERVICE_ACCOUNT",
    ))),
    production(key("AD_BASE_DN", Text, None, "where user searches start")),
    production(key(
        "AD_PORTAL_ADMIN_GROUP",
        Text,
        None,
        "members of this group are admins",
    )),
    key(
        "AD_USE_SSL",
        Bool,
        None,
        "LDAPS (default: True on port 636)",
    ),
    key(
        "AD_USE_STARTTLS",
        Bool,
        Some("True"),
        "StartTLS on a plain port",
    ),
    key(
        "AD_TLS_CA_FILE",
        Text,
        None,
        "PEM file of CA certificates for the directory",
    ),
    // Logging
    key("RUST_LOG", Text, Some("info"), "log filter"),
    key(
        "METRICS_ALLOW",
        IpList,
        Some("127.0.0.1,::1"),
        "addresses that may read /metrics (comma-separated)",
    ),
    secret(key(
        "METRICS_TOKEN",
        Text,
        None,
        "a bearer token that may read /metrics from anywhere",
    )),
    key(
        "LOG_FORMAT",
        Text,
        Some("text"),
        "text (for people) or json (one object per line, with the request id, for log shippers)",
    ),
];

pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// Prefixes of the portal's keys: environment variables with one of them are checked for
/// typos; other environment variables belong to the rest of the machine.
pub const PREFIXES: &[&str] = &[
    "DB_",
    "ERP_",
    "SMTP_",
    "EMAIL_",
    "ADMIN_",
    "AD_",
    "APP_",
    "SESSION_",
    "DEMO",
    "SECRET_",
    "TRUSTED_",
    "TEST_MODE",
];

/// The known key nearest to `unknown` (by edit distance), if it is near enough to be a typo.
pub fn nearest(unknown: &str) -> Option<&'static str> {
    let u = unknown.to_ascii_uppercase();
    KEYS.iter()
        .map(|k| (distance(&u, k.name), k.name))
        .filter(|(d, name)| *d <= (name.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// Levenshtein distance over bytes (keys are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_key() {
        assert_eq!(nearest("DB_SEVRER"), Some("DB_SERVER"));
        assert_eq!(nearest("ERP_DB_SERVR"), Some("ERP_DB_SERVER"));
        assert_eq!(nearest("smtp_server"), Some("SMTP_SERVER"));
        assert_eq!(nearest("SESSION_HOUR"), Some("SESSION_HOURS"));
        assert_eq!(nearest("COMPLETELY_DIFFERENT"), None);
    }

    #[test]
    fn names_are_unique_and_defaults_have_their_type() {
        let mut names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KEYS.len(), "a key is listed twice");
        for k in KEYS {
            let Some(d) = k.default else { continue };
            let ok = match k.kind {
                Kind::Bool => matches!(d, "True" | "False"),
                Kind::Int => d.parse::<u64>().is_ok(),
                Kind::Number => d.parse::<f64>().is_ok(),
                Kind::Ip => d.parse::<std::net::IpAddr>().is_ok(),
                Kind::Text => true,
                Kind::IpList => d
                    .split(',')
                    .all(|p| p.trim().parse::<std::net::IpAddr>().is_ok()),
                Kind::Url | Kind::Hash => false,
            };
            assert!(ok, "{}: default {d:?} is not a {:?}", k.name, k.kind);
            assert!(!k.secret, "{}: a secret has no default", k.name);
        }
    }
}
