//! Every configuration key the portal reads, in one table: its name, type, default, what
//! it means, whether it is a secret (never echoed) and whether it only makes sense in
//! production. The reader takes defaults from here, start-up checks unknown keys against
//! it, and a test keeps `.env.template` equal to it.

/// How a key's value is read: its type, its range and the words an error uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Text,
    /// As the old portal read its booleans (python): `true` in any case is true, anything
    /// else false; a value that is neither `true` nor `false` is named in a start-up
    /// warning. For the keys of the old `.env`.
    OldBool,
    /// `True`/`False`, `1`/`0`, `yes`/`no`, `on`/`off`, any case; anything else refused.
    Bool,
    /// A whole number from `min` to `max`, of `unit`s.
    Int {
        min: u64,
        max: u64,
        unit: &'static str,
    },
    /// A number, fractions allowed, more than `above` and at most `max`.
    Number {
        above: f64,
        max: f64,
        unit: &'static str,
    },
    Port,
    /// An IP address.
    Ip,
    /// Comma-separated IP addresses or networks (`10.0.0.0/8`).
    Nets,
    /// An absolute http(s) URL.
    Url,
    /// A Werkzeug password hash.
    Hash,
    /// An IANA time zone name; unset: the host's zone.
    Zone,
    /// A secret of at least `min_chars` characters.
    Token {
        min_chars: usize,
    },
    /// One of these words, any case.
    Choice(&'static [&'static str]),
    /// Comma-separated email addresses.
    Emails,
}

impl Kind {
    /// What a value must be, for error messages ("PORT must be a port number …").
    pub fn describe(&self) -> String {
        match self {
            Kind::Text => "text".to_owned(),
            Kind::OldBool | Kind::Bool => "True or False".to_owned(),
            Kind::Int { min, max, unit } => {
                format!("a whole number of {unit} from {min} to {max}")
            }
            Kind::Number { above, max, unit } => {
                format!("a number of {unit} more than {above} and at most {max}")
            }
            Kind::Port => "a port number (0-65535)".to_owned(),
            Kind::Ip => "an IP address such as 127.0.0.1 or 0.0.0.0".to_owned(),
            Kind::Nets => {
                "IP addresses or networks separated by commas, such as 127.0.0.1,10.0.0.0/8 (or none)"
                    .to_owned()
            }
            Kind::Url => {
                "an absolute http(s) URL such as https://portal.example.com".to_owned()
            }
            Kind::Hash => "a Werkzeug hash".to_owned(),
            Kind::Zone => "an IANA time zone name such as America/Chicago".to_owned(),
            Kind::Token { min_chars } => format!("at least {min_chars} characters long"),
            Kind::Choice(words) => format!("one of {}", words.join(", ")),
            Kind::Emails => "email addresses separated by commas".to_owned(),
        }
    }
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

const fn int(min: u64, max: u64, unit: &'static str) -> Kind {
    Kind::Int { min, max, unit }
}

const SECONDS: &str = "seconds";
const ENCRYPTION: Kind = Kind::Choice(&["off", "on", "strict"]);

use Kind::*;

pub const KEYS: &[Key] = &[
    // General
    production(secret(key(
        "SECRET_KEY",
        Token { min_chars: 32 },
        None,
        "signs CSRF tokens and cookies; at least 32 characters",
    ))),
    key(
        "SESSION_HOURS",
        Number {
            above: 0.0,
            max: 8760.0,
            unit: "hours",
        },
        Some("8"),
        "hours without activity after which a sign-in ends (7 days at most however active)",
    ),
    key(
        "TEST_MODE",
        OldBool,
        Some("False"),
        "bypasses Active Directory for admin sign-in (demo mode only)",
    ),
    key(
        "APP_BASE_URL",
        Url,
        None,
        "public URL of the portal, for links in mails (required in production)",
    ),
    key(
        "FLASK_ENV",
        Text,
        None,
        "accepted from the old .env and ignored (cookies follow the scheme of each request)",
    ),
    key(
        "HOST",
        Ip,
        None,
        "address to listen on (127.0.0.1 in demo mode, 0.0.0.0 in production)",
    ),
    key("PORT", Port, Some("5001"), "port to listen on"),
    key(
        "SHUTDOWN_GRACE_SECONDS",
        int(0, 3600, SECONDS),
        Some("30"),
        "seconds requests in flight may finish after SIGTERM before connections are cut",
    ),
    key(
        "TRUSTED_PROXIES",
        Nets,
        Some("127.0.0.1,::1"),
        "reverse proxies (addresses or networks) whose client-address header is believed",
    ),
    key(
        "CLIENT_IP_HEADER",
        Choice(&["CF-Connecting-IP", "X-Forwarded-For", "X-Real-IP"]),
        Some("CF-Connecting-IP"),
        "the one header a trusted proxy names the client in",
    ),
    key(
        "MAX_CONNECTIONS_PER_ADDRESS",
        int(1, 100_000, "connections"),
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
        Zone,
        None,
        "time zone every time on pages, exports and mails is shown in (IANA name; default the host's)",
    ),
    key(
        "AUDIT_APPEND_ONLY",
        Bool,
        Some("False"),
        "a database trigger refuses changes to audit rows (off: retention jobs may delete)",
    ),
    key(
        "REQUIRE_2FA",
        Choice(&["none", "customers", "staff", "both"]),
        Some("none"),
        "whose accounts must turn two-step sign-in on: none, customers, staff or both (an account without it signs in once, then only enrolment is open)",
    ),
    key(
        "NEW_SIGNIN_MAIL",
        Bool,
        Some("True"),
        "mail a customer when a browser that never signed in to the account does",
    ),
    // App database
    key(
        "DB_SERVER",
        Text,
        None,
        "SQL Server of the app database (unset: embedded SQLite)",
    ),
    key(
        "DB_NAME",
        Text,
        Some("CustomerPortalDB"),
        "app database name",
    ),
    key(
        "DB_PORT",
        Port,
        None,
        "app database port (default 1433, or from DB_SERVER host,port)",
    ),
    key(
        "DB_USE_WINDOWS_AUTH",
        OldBool,
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
        "DB_ENCRYPT",
        ENCRYPTION,
        Some("off"),
        "TLS to the app database: off (the login only, as ODBC Driver 17), on, or strict",
    ),
    key(
        "DB_TRUST_SERVER_CERTIFICATE",
        Bool,
        Some("True"),
        "accept the app database's certificate unchecked (as the old portal did)",
    ),
    key(
        "APP_DB_TIME_ZONE",
        Zone,
        None,
        "zone of the old portal's local-time columns (GETDATE()): IANA name; default the host's",
    ),
    key(
        "DB_POOL_SIZE",
        int(1, 200, "connections"),
        Some("10"),
        "app database connections at most",
    ),
    key(
        "DB_TIMEOUT",
        int(1, 600, SECONDS),
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
        OldBool,
        Some("False"),
        "Windows authentication for the ERP",
    ),
    key("ERP_DB_PORT", Port, Some("1433"), "ERP port"),
    key(
        "ERP_DB_DRIVER",
        Text,
        None,
        "accepted from the old .env and ignored (no ODBC is used)",
    ),
    key(
        "ERP_DB_TIMEOUT",
        int(1, 600, SECONDS),
        Some("30"),
        "seconds to connect to the ERP and for a read's first row",
    ),
    key(
        "ERP_READ_TIMEOUT",
        int(1, 3600, SECONDS),
        Some("300"),
        "seconds a whole inventory read may take",
    ),
    key(
        "ERP_DB_ENCRYPT",
        ENCRYPTION,
        Some("off"),
        "TLS to the ERP: off (the login only, as ODBC Driver 17), on, or strict",
    ),
    key(
        "ERP_DB_TRUST_SERVER_CERTIFICATE",
        Bool,
        Some("True"),
        "accept the ERP's certificate unchecked (as the old portal did)",
    ),
    key(
        "ERP_DB_POOL_SIZE",
        int(1, 200, "connections"),
        Some("10"),
        "ERP connections at most",
    ),
    key(
        "DEMO_ERP_ROWS",
        int(1, 1_000_000, "rows"),
        Some("5000"),
        "size of the generated demo ERP, in inventory layers",
    ),
    key(
        "ERP_CACHE_SECONDS",
        int(0, 86_400, SECONDS),
        Some("30"),
        "seconds ERP rows of one scope are reused",
    ),
    key(
        "INVENTORY_CACHE_MAX_MB",
        int(16, 1_048_576, "megabytes"),
        Some("1024"),
        "megabytes of cached inventory at most; least recently used scopes are dropped first",
    ),
    key(
        "HISTORY_HOUR",
        int(0, 23, "hour"),
        Some("1"),
        "the hour of the portal's day (PORTAL_TIMEZONE) the daily inventory record is taken",
    ),
    key(
        "HISTORY_RETENTION_DAYS",
        int(30, 36_500, "days"),
        Some("730"),
        "days the daily inventory record is kept",
    ),
    key(
        "FORECAST_WINDOW_DAYS",
        int(7, 365, "days"),
        Some("28"),
        "days of history the days-of-cover forecast looks back over",
    ),
    key(
        "FORECAST_ALERT_DAYS",
        int(1, 365, "days"),
        Some("14"),
        "the daily alert names parts forecast to fall below their minimum within these days",
    ),
    // Mail
    production(key(
        "SMTP_SERVER",
        Text,
        None,
        "SMTP server (required in production; demo mode without it: mails go to DATA_DIR/outbox)",
    )),
    key("SMTP_PORT", Port, Some("587"), "SMTP port"),
    key(
        "SMTP_TIMEOUT",
        int(1, 300, SECONDS),
        Some("15"),
        "seconds a whole SMTP exchange may take (connect, TLS, every command)",
    ),
    key(
        "SMTP_USE_TLS",
        OldBool,
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
    key(
        "EMAIL_BCC",
        Emails,
        None,
        "blind copy of every mail (addresses separated by commas)",
    ),
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
        Port,
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
        Nets,
        Some("127.0.0.1,::1"),
        "addresses or networks that may read /metrics (comma-separated)",
    ),
    secret(key(
        "METRICS_TOKEN",
        Token { min_chars: 24 },
        None,
        "a bearer token that may read /metrics from anywhere",
    )),
    key(
        "LOG_FORMAT",
        Choice(&["text", "json"]),
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
    "CLIENT_",
    "MAX_CONNECTIONS",
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
    fn names_are_unique_and_defaults_read_as_their_kind() {
        let mut names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KEYS.len(), "a key is listed twice");
        for k in KEYS {
            let Some(d) = k.default else { continue };
            assert!(!k.secret, "{}: a secret has no default", k.name);
            assert!(
                super::super::read::valid_default(k, d),
                "{}: default {d:?} is not {}",
                k.name,
                k.kind.describe()
            );
        }
    }
}
