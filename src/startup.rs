//! Builds the application from a `Config`: storage, services, schema, router, listener.
//! Knows the port it bound, so tests can bind port 0 and ask.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use rand::Rng;
use rand::distr::Alphanumeric;
use tokio::net::TcpListener;

use crate::auth::admin::AdminAuth;
use crate::auth::csrf::CsrfKeys;
use crate::auth::ldap::ActiveDirectory;
use crate::auth::passwords::PasswordHasher;
use crate::auth::service::AuthService;
use crate::config::{AppDbConfig, Config, ErpConfig, Mode, Secret};
use crate::customers::CustomerAdmin;
use crate::demo::{self, DemoCredentials};
use crate::erp::ErpSource;
use crate::erp::deacom_mssql::DeacomMssql;
use crate::erp::deacom_sqlite::DeacomSqlite;
use crate::inventory::InventoryService;
use crate::mail::Mailer;
use crate::state::AppState;
use crate::store::AppStore;
use crate::store::mssql::MssqlStore;
use crate::store::sqlite::SqliteStore;

/// How often expired sessions are swept from the database.
const PURGE_INTERVAL: Duration = Duration::from_secs(600);

pub struct Application {
    listener: TcpListener,
    router: Router,
    port: u16,
    state: AppState,
    demo: DemoCredentials,
}

/// Accounts whose scope looks like a mistyped `All` (`all`, ` All `, `ALL|…`): only the
/// exact `All` is unrestricted, as in the old portal, so these see a customer of that
/// name — most likely nothing. Returns their emails, sorted.
pub async fn mistyped_all_accounts(
    store: &dyn crate::store::CustomerStore,
) -> Result<Vec<String>, crate::store::StoreError> {
    let customers = store
        .list_customers(crate::store::StatusFilter::All, None)
        .await?;
    let mut emails: Vec<String> = customers
        .into_iter()
        .filter(|c| {
            c.erp_customer_name != "All"
                && c.erp_customer_name
                    .split('|')
                    .any(|n| n.trim().eq_ignore_ascii_case("all"))
        })
        .map(|c| c.email)
        .collect();
    emails.sort();
    Ok(emails)
}

async fn warn_about_mistyped_all(store: &dyn crate::store::CustomerStore) {
    match mistyped_all_accounts(store).await {
        Ok(emails) if !emails.is_empty() => tracing::warn!(
            accounts = %emails.join(", "),
            "these accounts' ERP scope looks like a mistyped \"All\": only the exact word All sees every customer (as in the old portal); fix them under Admin → Customers"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not check accounts for a mistyped All"),
    }
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Application::build_with(config, None).await
    }

    /// Like [`build`](Self::build), with an ERP source supplied by the caller instead of
    /// the configured one (tests use hand-built Deacom fixtures this way).
    pub async fn build_with(
        config: Config,
        erp_override: Option<Arc<dyn ErpSource>>,
    ) -> anyhow::Result<Application> {
        warn_about_settings(&config);
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create DATA_DIR {}", config.data_dir.display()))?;

        let store = open_app_db(&config).await?;
        let (erp, erp_timeout) = open_erp(&config, erp_override).await?;
        let inventory = Arc::new(
            InventoryService::new(
                erp.clone(),
                Duration::from_secs(config.erp_cache_seconds),
                erp_timeout,
                config.erp_read_timeout,
            )
            .with_cache_limit_mb(config.inventory_cache_max_mb),
        );

        let secret_key = match &config.secret_key {
            Some(k) => k.clone(),
            None => load_or_create_secret(&config.data_dir)?,
        };
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let hasher = PasswordHasher::new(cores).await;

        let mut demo = DemoCredentials::default();
        let admin_password_hash =
            prepare_accounts(&config, store.as_ref(), &hasher, &mut demo).await?;

        // Bound before the services are built: emails link to the port really in use.
        let addr = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let port = listener.local_addr()?.port();
        let state = assemble(
            config,
            Built {
                store,
                erp,
                inventory,
                hasher,
                admin_password_hash,
                secret_key,
            },
            port,
        )
        .await?;
        let router = crate::web::router(state.clone());
        Ok(Application {
            listener,
            router,
            port,
            state,
            demo,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The start-up banner: where to go, and on first demo start the one-time credentials.
    pub fn banner(&self) -> String {
        let url = self.state.config.public_url(self.port);
        let mode = match self.state.config.mode {
            Mode::Demo => "demo mode: embedded app database and demo ERP",
            Mode::Production => "production mode",
        };
        let mut out = format!(
            "\nCustomer Portal ({mode})\n  Open {url}/login\n  Listening on {}:{}\n",
            self.state.config.host, self.port
        );
        if self.state.config.mode == Mode::Demo {
            out.push_str(&format!(
                "  Admin sign-in: {url}/admin-login  user {}",
                self.state.config.admin_username
            ));
            match &self.demo.admin_password {
                Some(pw) => out.push_str(&format!("  password {pw}  (shown only this once)\n")),
                None => out.push_str("  (password printed at first start)\n"),
            }
            if self.demo.customers.is_empty() {
                out.push_str(
                    "  Demo customers: printed at first start; delete DATA_DIR to start over.\n",
                );
            } else {
                out.push_str("  Demo customers (temporary passwords, changed at first sign-in):\n");
                for (email, pw, erp) in &self.demo.customers {
                    out.push_str(&format!("    {email:<32} {pw}   ERP: {erp}\n"));
                }
            }
        }
        out
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        crate::memory::tune_allocator();
        let background = spawn_background(&self.state);
        let fd_limit = crate::web::server::raise_fd_limit();
        let config = &self.state.config;
        let limits = crate::web::server::Limits {
            max_connections: crate::web::server::max_connections(fd_limit),
            max_per_address: config.max_connections_per_address,
            exempt: config.trusted_proxies.clone(),
            shutdown_grace: config.shutdown_grace,
        };
        tracing::info!(
            max_connections = limits.max_connections,
            header_read_timeout = ?crate::web::server::HEADER_READ_TIMEOUT,
            max_per_address = limits.max_per_address,
            shutdown_grace = ?limits.shutdown_grace,
            "connection limits"
        );
        let result =
            crate::web::server::serve(self.listener, self.router, limits, shutdown_signal()).await;
        for task in background {
            task.abort();
        }
        result.context("server error")
    }
}

/// Runs `job` every `period` on a task of its own, until the task is aborted.
fn every<F, Fut>(period: Duration, job: F) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            job().await;
        }
    })
}

/// The work an instance does on a timer while it serves; aborted when it stops.
fn spawn_background(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let (auth, admin_auth) = (state.auth.clone(), state.admin_auth.clone());
    let purger = every(PURGE_INTERVAL, move || {
        let (auth, admin_auth) = (auth.clone(), admin_auth.clone());
        async move {
            let purged = match (auth.purge_expired().await, admin_auth.purge_expired().await) {
                (Ok((s, w)), Ok(a)) => Ok((s + a, w)),
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
            match purged {
                Ok((s, w)) if s + w > 0 => {
                    tracing::info!(sessions = s, web_sessions = w, "purged expired sessions")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session purge failed"),
            }
        }
    });
    // A look now and then keeps what `/healthz` reports current without it doing I/O.
    let readiness = state.readiness.clone();
    let looker = every(LOOK_EVERY, move || {
        let readiness = readiness.clone();
        async move {
            readiness.look().await;
        }
    });
    let trimmer = every(crate::memory::TRIM_EVERY, || async {
        let _ = tokio::task::spawn_blocking(crate::memory::release_free_memory).await;
    });
    // Histogram samples are folded in between scrapes, so they never pile up.
    let metrics = state.metrics.clone();
    let upkeep = every(METRICS_UPKEEP, move || {
        let metrics = metrics.clone();
        async move { metrics.upkeep() }
    });
    let reports = state.scheduler.clone().spawn(REPORT_TICK);
    let history = state.history.clone().spawn(REPORT_TICK);
    let mut tasks = vec![purger, looker, trimmer, upkeep, reports, history];
    // The demo's made-up past days, so the history page has something to show at once.
    if state.demo_erp() && state.config.seed_demo_accounts {
        let history = state.history.clone();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = history.seed_demo().await {
                tracing::warn!(error = %e, "history: the demo days could not be written");
            }
        }));
    }
    tasks
}

/// How often recorded metrics samples are folded into their histograms.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// What start-up opened before the services are made.
struct Built {
    store: Arc<dyn AppStore>,
    erp: Arc<dyn ErpSource>,
    inventory: Arc<InventoryService>,
    hasher: PasswordHasher,
    admin_password_hash: Secret,
    secret_key: Secret,
}

/// Every service, the schema and the state handlers get, for a portal listening on `port`.
async fn assemble(config: Config, built: Built, port: u16) -> anyhow::Result<AppState> {
    let Built {
        store,
        erp,
        inventory,
        hasher,
        admin_password_hash,
        secret_key,
    } = built;
    let mailer = Arc::new(Mailer::from_config(&config)?);
    let notices = config.new_sign_in_mail.then(|| {
        crate::auth::notices::SignInNotices::new(
            mailer.clone(),
            &config.public_url(port),
            config.portal_zone.clone(),
        )
    });
    let two_factor = Arc::new(crate::auth::two_factor::TwoFactor::new(
        store.clone(),
        store.clone(),
        secret_key.expose(),
    ));
    let (admin_auth, auth) = sign_in_services(
        &config,
        &store,
        hasher,
        admin_password_hash,
        notices,
        two_factor.clone(),
    )?;
    let customers = Arc::new(
        CustomerAdmin::new(
            store.clone(),
            store.clone(),
            store.clone(),
            admin_auth.hasher().clone(),
            mailer.clone(),
            erp,
            format!("{}/login", config.public_url(port)),
        )
        .with_teams(store.clone(), config.public_url(port)),
    );
    let tokens = Arc::new(crate::auth::tokens::ApiTokens::new(
        store.clone(),
        store.clone(),
    ));
    let resets = Arc::new(crate::auth::reset::PasswordResets::new(
        store.clone(),
        store.clone(),
        store.clone(),
        admin_auth.hasher().clone(),
        mailer.clone(),
        config.public_url(port),
    ));
    let scheduler = crate::reports::Scheduler::new(
        store.clone(),
        inventory.clone(),
        mailer.clone(),
        config.portal_zone.clone(),
        config.public_url(port),
        crate::reports::UnsubscribeKeys::new(secret_key.expose()),
        Arc::new(crate::reports::SystemClock),
    );
    let history = Arc::new(crate::history::History::new(
        store.clone(),
        inventory.clone(),
        config.portal_zone.clone(),
        Arc::new(crate::reports::SystemClock),
        scheduler.owner().to_owned(),
        crate::history::Settings {
            hour: config.history.hour,
            retention_days: config.history.retention_days,
            window_days: config.history.window_days,
            alert_days: config.history.alert_days,
        },
    ));
    let scheduler = Arc::new(scheduler.with_history(history.clone()));
    let schemas = crate::graphql::build_schemas(crate::graphql::Ports {
        scheduler: scheduler.clone(),
        history: history.clone(),
        two_factor,
        resets,
        tokens: tokens.clone(),
        cursor_key: crate::graphql::cursor::CursorKey::derive(secret_key.expose()),
        store: store.clone(),
        inventory: inventory.clone(),
        customers: customers.clone(),
        auth: auth.clone(),
        mailer: mailer.clone(),
        zone: config.portal_zone.clone(),
    });
    let readiness = Arc::new(crate::readiness::Readiness::new(
        store.clone(),
        inventory.clone(),
        mailer.clone(),
    ));
    // A first look, so liveness has something to report from the start.
    readiness.first_look().await;
    let state = AppState {
        readiness,
        csrf: CsrfKeys::new(secret_key.expose()),
        devices: crate::auth::device::DeviceKeys::new(secret_key.expose()),
        config: Arc::new(config),
        store,
        auth,
        schema: schemas.api,
        page_schema: schemas.pages,
        inventory,
        customers,
        mailer,
        admin_auth,
        tokens,
        budgets: Arc::default(),
        heavy: Arc::default(),
        metrics: Arc::default(),
        scheduler,
        history,
    };
    Ok(state)
}

/// The staff and customer sign-in services.
fn sign_in_services(
    config: &Config,
    store: &Arc<dyn AppStore>,
    hasher: PasswordHasher,
    admin_password_hash: Secret,
    notices: Option<crate::auth::notices::SignInNotices>,
    two_factor: Arc<crate::auth::two_factor::TwoFactor>,
) -> anyhow::Result<(Arc<AdminAuth>, Arc<AuthService>)> {
    let directory = match &config.ad {
        Some(ad) => Some(ActiveDirectory::new(ad.clone(), ad.tls_ca_file.as_deref())?),
        None => None,
    };
    let admin_auth = Arc::new(
        AdminAuth::new(
            store.clone(),
            store.clone(),
            store.clone(),
            hasher.clone(),
            config.admin_username.clone(),
            Arc::new(admin_password_hash),
            directory,
            config.test_mode && config.mode == Mode::Demo,
            config.session_lifetime,
        )
        .with_two_factor(two_factor.clone(), config.require_two_factor_staff),
    );
    let mut auth = AuthService::new(
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        hasher,
        config.session_lifetime,
    )
    .with_two_factor(two_factor, config.require_two_factor_customers)
    .with_teams(store.clone());
    if let Some(notices) = notices {
        auth = auth.with_sign_in_notices(notices);
    }
    Ok((admin_auth, Arc::new(auth)))
}

/// The accounts at start-up: the local admin's hash (generated and printed in the demo),
/// the audit trigger as `AUDIT_APPEND_ONLY` says, and the demo customers.
async fn prepare_accounts(
    config: &Config,
    store: &dyn AppStore,
    hasher: &PasswordHasher,
    demo: &mut DemoCredentials,
) -> anyhow::Result<Secret> {
    let admin_password_hash = match (&config.admin_password_hash, config.mode) {
        (Some(h), _) => h.clone(),
        (None, Mode::Demo) => Secret::new(demo::admin_password_hash(store, hasher, demo).await?),
        (None, Mode::Production) => bail!("ADMIN_PASSWORD_HASH is required in production mode"),
    };
    warn_about_mistyped_all(store).await;
    store
        .set_audit_append_only(config.audit_append_only)
        .await
        .context("AUDIT_APPEND_ONLY: could not install or remove the audit trigger")?;
    if config.mode == Mode::Demo && config.seed_demo_accounts {
        demo::seed_customers(store, hasher, demo).await?;
    }
    Ok(admin_password_hash)
}

/// Says at start-up which settings are ignored and which leave a connection unchecked.
fn warn_about_settings(config: &Config) {
    for key in &config.ignored_settings {
        tracing::info!(
            "{key} is set and ignored: the portal talks to SQL Server directly (TDS), without ODBC"
        );
    }
    for (key, trusted) in [
        (
            "DB_TRUST_SERVER_CERTIFICATE",
            matches!(&config.app_db, AppDbConfig::SqlServer(c) if c.trust_server_certificate),
        ),
        (
            "ERP_DB_TRUST_SERVER_CERTIFICATE",
            matches!(&config.erp, ErpConfig::SqlServer(c) if c.trust_server_certificate),
        ),
    ] {
        if trusted {
            tracing::warn!(
                "{key} is true (the default, as in the old portal): the connection is encrypted but the server's certificate is not checked; set it to False once the server has a certificate this machine trusts"
            );
        }
    }
}

/// The app database the configuration names, opened (and migrated).
async fn open_app_db(config: &Config) -> anyhow::Result<Arc<dyn AppStore>> {
    Ok(match &config.app_db {
        AppDbConfig::Sqlite { path } => Arc::new(
            SqliteStore::open(path, config.app_db_zone.clone())
                .await
                .with_context(|| format!("cannot open app database {}", path.display()))?,
        ),
        AppDbConfig::SqlServer(c) => {
            let tds = crate::mssql::tiberius_config(c, false).context("DB_* settings")?;
            Arc::new(
                MssqlStore::open(tds, c.pool_size, c.timeout, config.app_db_zone.clone())
                    .await
                    .with_context(|| {
                        format!("cannot open the app database on SQL Server {}", c.server)
                    })?,
            )
        }
    })
}

/// The ERP the configuration names (or the tests' stand-in), with each read's deadline.
async fn open_erp(
    config: &Config,
    erp_override: Option<Arc<dyn ErpSource>>,
) -> anyhow::Result<(Arc<dyn ErpSource>, Duration)> {
    Ok(match (erp_override, &config.erp) {
        (Some(erp), _) => (erp, DEMO_ERP_TIMEOUT),
        (None, ErpConfig::Demo { rows }) => (
            open_demo_erp(&config.data_dir, *rows).await?,
            DEMO_ERP_TIMEOUT,
        ),
        (None, ErpConfig::SqlServer(c)) => {
            let tds = crate::mssql::tiberius_config(c, true).context("ERP_DB_* settings")?;
            (
                Arc::new(DeacomMssql::new(tds, c.pool_size, c.timeout)),
                c.timeout,
            )
        }
    })
}

/// How often the readiness probes run in the background (for `/healthz`).
const LOOK_EVERY: Duration = Duration::from_secs(15);

/// How often each instance looks for due reports (reports are due on the hour).
const REPORT_TICK: Duration = Duration::from_secs(30);

/// The demo ERP answers from a local file: anything slower than this is a fault.
const DEMO_ERP_TIMEOUT: Duration = Duration::from_secs(60);

/// Generates the demo Deacom database on first start (or when `DEMO_ERP_ROWS` changed)
/// and opens it read-only.
async fn open_demo_erp(data_dir: &Path, rows: u32) -> anyhow::Result<Arc<dyn ErpSource>> {
    let path = data_dir.join("deacom-demo.db");
    let started = std::time::Instant::now();
    let generated = tokio::task::spawn_blocking({
        let path = path.clone();
        move || crate::erp::demo::ensure(&path, rows, time::OffsetDateTime::now_utc().date())
    })
    .await?
    .with_context(|| format!("cannot create the demo ERP database {}", path.display()))?;
    if generated {
        tracing::info!(rows, elapsed_ms = started.elapsed().as_millis() as u64, path = %path.display(), "generated the demo Deacom database");
    }
    Ok(Arc::new(DeacomSqlite::open(&path)?))
}

/// Demo mode keeps a generated `SECRET_KEY` in `DATA_DIR/secret_key` so that CSRF tokens
/// survive restarts.
fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<Secret> {
    let path = data_dir.join("secret_key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= crate::config::MIN_SECRET_KEY_LEN {
            return Ok(Secret::new(existing));
        }
    }
    let key: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(64)
        .map(char::from)
        .collect();
    write_private(&path, &key).with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a SECRET_KEY for demo mode");
    Ok(Secret::new(key))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(contents.as_bytes())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
