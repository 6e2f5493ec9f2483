//! Shared SQL Server plumbing for the app-database and ERP backends: tiberius over TDS
//! (rustls), pooled by mobc through a `Manager` of our own that health-checks each
//! connection on checkout and replaces broken ones.

use std::time::Duration;

use async_trait::async_trait;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel, SqlBrowser};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::config::{Encryption, SqlServerConfig};

pub type Connection = Client<Compat<TcpStream>>;
pub type Pool = mobc::Pool<TiberiusManager>;

#[derive(Debug, thiserror::Error)]
pub enum MssqlError {
    #[error("SQL Server: {0}")]
    Tds(#[from] tiberius::error::Error),
    #[error("SQL Server did not answer within {0:?}")]
    Timeout(Duration),
    #[error("SQL Server connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("SQL Server connection pool: {0}")]
    Pool(String),
    #[error("SQL Server configuration: {0}")]
    Config(String),
}

/// SQL Server's error number for a transaction chosen as a deadlock victim.
pub const DEADLOCK_VICTIM: u32 = 1205;

impl MssqlError {
    /// SQL Server's error number (2627/2601 are unique-key violations).
    pub fn code(&self) -> Option<u32> {
        match self {
            MssqlError::Tds(e) => e.code(),
            _ => None,
        }
    }
}

/// Builds a tiberius config from the `DB_*` / `ERP_DB_*` settings.
///
/// `DB_USE_WINDOWS_AUTH=True` uses Windows authentication where tiberius supports it (the
/// portal running on Windows: NTLM with `DOMAIN\user` + password, or integrated without a
/// username); elsewhere it fails with a clear message instead of silently using something else.
pub fn tiberius_config(c: &SqlServerConfig, read_only: bool) -> Result<Config, MssqlError> {
    let mut config = Config::new();
    config.host(&c.server);
    match (c.port, &c.instance) {
        // A named instance on a known port is reached directly: SQL Browser (UDP 1434) may
        // be off or firewalled, as on many older ERP hosts.
        (Some(port), _) => config.port(port),
        (None, Some(instance)) => config.instance_name(instance),
        (None, None) => {}
    }
    config.database(&c.database);
    config.application_name("WePackItAll Customer Portal");
    config.auth(c)?;
    config.encryption(match c.encryption {
        // ODBC Driver 17's default (Encrypt=no): the login packet is protected, the rest
        // is not, and a server without TLS is still reached.
        Encryption::Off => EncryptionLevel::Off,
        Encryption::On | Encryption::Strict => EncryptionLevel::Required,
    });
    if c.trust_server_certificate && c.encryption != Encryption::Strict {
        config.trust_cert();
    }
    // ApplicationIntent=ReadOnly: routed to a readable secondary where there is one, and a
    // signal to the server that this session does not write.
    config.readonly(read_only);
    Ok(config)
}

trait AuthExt {
    fn auth(&mut self, c: &SqlServerConfig) -> Result<(), MssqlError>;
}

impl AuthExt for Config {
    fn auth(&mut self, c: &SqlServerConfig) -> Result<(), MssqlError> {
        let method = match (c.windows_auth, &c.username, &c.password) {
            (false, Some(u), Some(p)) => AuthMethod::sql_server(u, p.expose()),
            #[cfg(windows)]
            (true, Some(u), Some(p)) => AuthMethod::windows(u, p.expose()),
            #[cfg(windows)]
            (true, _, _) => AuthMethod::Integrated,
            #[cfg(not(windows))]
            (true, _, _) => {
                return Err(MssqlError::Config(
                    "DB_USE_WINDOWS_AUTH=True: Windows (integrated or NTLM) authentication is only available \
                     when the portal runs on Windows; on this platform use a SQL login (DB_USERNAME/DB_PASSWORD \
                     with DB_USE_WINDOWS_AUTH=False)"
                        .into(),
                ));
            }
            (false, _, _) => {
                return Err(MssqlError::Config(
                    "a SQL login needs a username and a password".into(),
                ));
            }
        };
        self.authentication(method);
        Ok(())
    }
}

pub struct TiberiusManager {
    config: Config,
    timeout: Duration,
}

impl TiberiusManager {
    pub fn new(config: Config, timeout: Duration) -> Self {
        TiberiusManager { config, timeout }
    }

    async fn open(&self, config: Config) -> Result<Connection, MssqlError> {
        let tcp = TcpStream::connect_named(&config).await?;
        tcp.set_nodelay(true)?;
        match Client::connect(config.clone(), tcp.compat_write()).await {
            Ok(client) => Ok(client),
            // Azure SQL and availability groups may redirect to another node.
            Err(tiberius::error::Error::Routing { host, port }) => {
                let mut routed = config;
                routed.host(&host);
                routed.port(port);
                let tcp = TcpStream::connect(routed.get_addr()).await?;
                tcp.set_nodelay(true)?;
                Ok(Client::connect(routed, tcp.compat_write()).await?)
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl mobc::Manager for TiberiusManager {
    type Connection = Connection;
    type Error = MssqlError;

    async fn connect(&self) -> Result<Connection, MssqlError> {
        let started = std::time::Instant::now();
        let conn = tokio::time::timeout(self.timeout, self.open(self.config.clone()))
            .await
            .map_err(|_| MssqlError::Timeout(self.timeout))??;
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, addr = %self.config.get_addr(), "SQL Server connection opened");
        Ok(conn)
    }

    /// Run on every checkout: a connection that cannot answer `SELECT 1` is dropped and
    /// replaced instead of failing the request that got it.
    async fn check(&self, mut conn: Connection) -> Result<Connection, MssqlError> {
        tokio::time::timeout(self.timeout, async {
            conn.simple_query("SELECT 1").await?.into_row().await?;
            Ok::<_, MssqlError>(())
        })
        .await
        .map_err(|_| MssqlError::Timeout(self.timeout))??;
        Ok(conn)
    }
}

/// One connection outside any pool, bounded by the settings' timeout (the preflight).
pub async fn connect_once(c: &SqlServerConfig, read_only: bool) -> Result<Connection, MssqlError> {
    use mobc::Manager;
    TiberiusManager::new(tiberius_config(c, read_only)?, c.timeout)
        .connect()
        .await
}

/// The rows of a text query on `conn`, bounded by `timeout`.
pub async fn query_rows(
    conn: &mut Connection,
    timeout: Duration,
    sql: &str,
) -> Result<Vec<tiberius::Row>, MssqlError> {
    tokio::time::timeout(timeout, async {
        Ok::<_, MssqlError>(conn.simple_query(sql).await?.into_first_result().await?)
    })
    .await
    .map_err(|_| MssqlError::Timeout(timeout))?
}

/// Asks the server to describe `statement` without running it
/// (`sp_describe_first_result_set`); its `@P1…@Pn` are declared as text, which every
/// comparison in the portal's statements converts from.
pub async fn describe(
    conn: &mut Connection,
    timeout: Duration,
    statement: &str,
) -> Result<(), MssqlError> {
    let count = (1..=64)
        .take_while(|i| statement.contains(&format!("@P{i}")))
        .count();
    let params = (1..=count)
        .map(|i| format!("@P{i} nvarchar(4000)"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut q =
        tiberius::Query::new("EXEC sp_describe_first_result_set @tsql = @P1, @params = @P2");
    q.bind(statement);
    q.bind(params);
    tokio::time::timeout(timeout, async {
        q.query(conn).await?.into_results().await?;
        Ok::<_, MssqlError>(())
    })
    .await
    .map_err(|_| MssqlError::Timeout(timeout))?
}

/// A pool with `size` connections at most and checkout / connect bounded by `timeout`.
pub fn pool(config: Config, size: u64, timeout: Duration) -> Pool {
    mobc::Pool::builder()
        .max_open(size)
        .max_idle(size)
        .get_timeout(Some(timeout))
        .max_lifetime(Some(Duration::from_secs(30 * 60)))
        .test_on_check_out(true)
        .build(TiberiusManager::new(config, timeout))
}

fn from_pool(e: mobc::Error<MssqlError>) -> MssqlError {
    match e {
        mobc::Error::Inner(e) => e,
        other => MssqlError::Pool(other.to_string()),
    }
}

/// Checks out a pooled connection.
pub async fn connection(pool: &Pool) -> Result<mobc::Connection<TiberiusManager>, MssqlError> {
    pool.get().await.map_err(from_pool)
}

/// Runs `query` on a pooled connection and returns its first result set; checkout and
/// query together are bounded by `timeout`. Shared by the app-database store and the ERP.
pub async fn first_result(
    pool: &Pool,
    timeout: Duration,
    query: tiberius::Query<'_>,
) -> Result<Vec<tiberius::Row>, MssqlError> {
    let work = async {
        let mut conn = connection(pool).await?;
        Ok::<_, MssqlError>(query.query(&mut conn).await?.into_first_result().await?)
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| MssqlError::Timeout(timeout))?
}

/// Runs `query` and returns its first result set, where `first_row` bounds the checkout,
/// the connection and the wait for the first row (or the end of an empty result), and the
/// rest may take as long as the caller allows: a large read is bounded as a whole by its
/// caller, while a server that does not answer at all is given up on early (the old
/// portal's ODBC timeout).
pub async fn first_result_streaming(
    pool: &Pool,
    first_row: Duration,
    query: tiberius::Query<'_>,
) -> Result<Vec<tiberius::Row>, MssqlError> {
    use futures_util::TryStreamExt;
    let early = |_| MssqlError::Timeout(first_row);
    let deadline = tokio::time::Instant::now() + first_row;
    let mut conn = tokio::time::timeout_at(deadline, connection(pool))
        .await
        .map_err(early)??;
    let stream = tokio::time::timeout_at(deadline, query.query(&mut conn))
        .await
        .map_err(early)??;
    let mut rows = stream.into_row_stream();
    let mut out = Vec::new();
    match tokio::time::timeout_at(deadline, rows.try_next())
        .await
        .map_err(early)??
    {
        Some(first) => out.push(first),
        None => return Ok(out),
    }
    while let Some(row) = rows.try_next().await? {
        out.push(row);
    }
    Ok(out)
}

/// Runs `query` for its effect; returns the rows affected.
pub async fn execute(
    pool: &Pool,
    timeout: Duration,
    query: tiberius::Query<'_>,
) -> Result<u64, MssqlError> {
    let work = async {
        let mut conn = connection(pool).await?;
        Ok::<_, MssqlError>(query.execute(&mut conn).await?.total())
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| MssqlError::Timeout(timeout))?
}

/// `@P1, @P2, …, @Pn` starting at `first`: IN lists with every value bound.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("@P{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes a LIKE pattern for `ESCAPE '\'` (T-SQL also treats `[` as a wildcard).
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_' | '[') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_from_the_given_index() {
        assert_eq!(placeholders(1, 3), "@P1, @P2, @P3");
        assert_eq!(placeholders(4, 1), "@P4");
        assert_eq!(placeholders(1, 0), "");
    }

    #[test]
    fn like_patterns_escape_every_wildcard() {
        assert_eq!(like_escape(r"50%_off[1]\x"), r"50\%\_off\[1]\\x");
    }

    fn sql(server: &str, windows: bool, user: Option<&str>) -> SqlServerConfig {
        let (server, instance) = match server.split_once('\\') {
            Some((h, i)) => (h.to_owned(), Some(i.to_owned())),
            None => (server.to_owned(), None),
        };
        SqlServerConfig {
            server,
            instance,
            port: None,
            database: "CustomerPortalDB".into(),
            windows_auth: windows,
            username: user.map(str::to_owned),
            password: user.map(|_| crate::config::Secret::new("pw")),
            timeout: Duration::from_secs(5),
            trust_server_certificate: false,
            pool_size: 4,
            encryption: Encryption::Off,
        }
    }

    #[test]
    fn server_forms_and_authentication() {
        let c = tiberius_config(&sql("sql01", false, Some("portal")), false).unwrap();
        assert_eq!(c.get_addr(), "sql01:1433");
        let named = tiberius_config(&sql("sql01\\PORTAL", false, Some("portal")), true).unwrap();
        assert!(named.get_addr().starts_with("sql01:"));
        // With a port, the instance is reached there without SQL Browser.
        let mut direct = sql("sql01\\PORTAL", false, Some("portal"));
        direct.port = Some(49_172);
        assert_eq!(
            tiberius_config(&direct, true).unwrap().get_addr(),
            "sql01:49172"
        );
        #[cfg(not(windows))]
        {
            let err = tiberius_config(&sql("sql01", true, None), false)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("only available when the portal runs on Windows"),
                "{err}"
            );
            assert!(tiberius_config(&sql("sql01", true, Some("CORP\\svc")), false).is_err());
        }
        assert!(
            tiberius_config(&sql("sql01", false, None), false).is_err(),
            "a SQL login needs credentials"
        );
    }
}
