//! Whether this instance can serve: each dependency probed as the portal really uses it.
//!
//! - **App database:** a value is written and read back (a read alone misses a full disk
//!   or a read-only file; the SQLite store also checks the file is the one it opened).
//! - **ERP:** one row of the inventory's own tables, within `ERP_DB_TIMEOUT` (`SELECT 1`
//!   misses a database without its tables or a login without rights), and the state of
//!   the circuit around it.
//! - **Mail:** an SMTP connect and `EHLO` within `SMTP_TIMEOUT`, remembered for
//!   [`MAIL_FRESH`] so a load balancer's polling does not become a mail server's load;
//!   the demo's outbox folder must be there and writable.
//!
//! `/readyz` always gets a look that began after it asked (callers arriving while one
//! runs share it, so a thousand pollers cost one probe at a time, never a stale answer);
//! `/healthz` only reads what the last look found, so liveness costs no I/O.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use time::OffsetDateTime;

use crate::inventory::InventoryService;
use crate::mail::Mailer;
use crate::store::AppStore;

/// How long an SMTP check is reused.
pub const MAIL_FRESH: Duration = Duration::from_secs(30);
/// Each probe's deadline.
const DEADLINE: Duration = Duration::from_secs(5);

/// What one look found: `Err` holds why a part is down.
#[derive(Debug, Clone)]
pub struct Look {
    pub at: OffsetDateTime,
    pub app_db_read: Result<(), String>,
    pub app_db_write: Result<(), String>,
    pub erp: Result<(), String>,
    pub erp_circuit_open: bool,
    /// `smtp` or `outbox`.
    pub mail_transport: &'static str,
    pub mail: Result<(), String>,
}

impl Look {
    pub fn ready(&self) -> bool {
        self.app_db_read.is_ok()
            && self.app_db_write.is_ok()
            && self.erp.is_ok()
            && !self.erp_circuit_open
            && self.mail.is_ok()
    }

    /// The parts that are down, by name.
    pub fn failing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.app_db_read.is_err() || self.app_db_write.is_err() {
            out.push("appDb");
        }
        if self.erp.is_err() || self.erp_circuit_open {
            out.push("erp");
        }
        if self.mail.is_err() {
            out.push("mail");
        }
        out
    }
}

pub struct Readiness {
    store: Arc<dyn AppStore>,
    inventory: Arc<InventoryService>,
    mailer: Arc<Mailer>,
    /// Held while a look runs; the value is the generation of the last finished look.
    running: tokio::sync::Mutex<Option<(u64, Look)>>,
    /// How many looks have begun.
    begun: AtomicU64,
    /// The last look, for `/healthz` (no waiting, no I/O).
    known: Mutex<Option<Look>>,
    mail: Mutex<Option<(Instant, Result<(), String>)>>,
}

impl Readiness {
    pub fn new(
        store: Arc<dyn AppStore>,
        inventory: Arc<InventoryService>,
        mailer: Arc<Mailer>,
    ) -> Readiness {
        Readiness {
            store,
            inventory,
            mailer,
            running: tokio::sync::Mutex::new(None),
            begun: AtomicU64::new(0),
            known: Mutex::new(None),
            mail: Mutex::new(None),
        }
    }

    /// The last look, if any (for liveness: reads memory only).
    pub fn last_known(&self) -> Option<Look> {
        self.known.lock().clone()
    }

    /// A look that began after this call: concurrent callers share one.
    pub async fn look(&self) -> Look {
        let asked = self.begun.load(Ordering::Acquire);
        let mut last = self.running.lock().await;
        // Looks run one at a time under the lock, so a finished look numbered above
        // `asked` began after this call was made: it is fresh enough to share.
        if let Some((generation, look)) = &*last
            && *generation > asked
        {
            return look.clone();
        }
        let generation = self.begun.fetch_add(1, Ordering::AcqRel) + 1;
        let look = self.probe().await;
        *self.known.lock() = Some(look.clone());
        *last = Some((generation, look.clone()));
        look
    }

    /// A first look at start-up, without waiting for the mail server (whose check comes
    /// with the first full look): liveness then has something to report at once.
    pub async fn first_look(&self) {
        let look = self.probe_parts(false).await;
        *self.known.lock() = Some(look);
    }

    async fn probe(&self) -> Look {
        self.probe_parts(true).await
    }

    async fn probe_parts(&self, with_mail: bool) -> Look {
        let now = OffsetDateTime::now_utc();
        let stamp = crate::store::format_ts(now);
        let bounded = |r: Result<Result<(), String>, tokio::time::error::Elapsed>| {
            r.unwrap_or_else(|_| Err(format!("no answer within {DEADLINE:?}")))
        };
        let app_db_write = bounded(
            tokio::time::timeout(DEADLINE, async {
                self.store
                    .set_setting("readiness_probe", &stamp)
                    .await
                    .map_err(|e| e.to_string())
            })
            .await,
        );
        let app_db_read = bounded(
            tokio::time::timeout(DEADLINE, async {
                match self.store.setting("readiness_probe").await {
                    Ok(Some(v)) if v == stamp || app_db_write.is_err() => Ok(()),
                    Ok(_) => Err("the value written was not read back".to_owned()),
                    Err(e) => Err(e.to_string()),
                }
            })
            .await,
        );
        let erp = self.inventory.probe_erp().await.map_err(|e| e.to_string());
        let (mail_transport, mail) = if with_mail {
            self.mail_state().await
        } else {
            ("unchecked", Ok(()))
        };
        let look = Look {
            at: now,
            app_db_read,
            app_db_write,
            erp,
            erp_circuit_open: self.inventory.erp_circuit_open(),
            mail_transport,
            mail,
        };
        if !look.ready() {
            tracing::warn!(failing = ?look.failing(), ?look, "readiness: not ready");
        }
        look
    }

    async fn mail_state(&self) -> (&'static str, Result<(), String>) {
        if let Some(dir) = self.mailer.outbox() {
            let ok = match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() && !m.permissions().readonly() => Ok(()),
                Ok(_) => Err(format!("{} is not a writable folder", dir.display())),
                Err(e) => Err(format!("{}: {e}", dir.display())),
            };
            return ("outbox", ok);
        }
        if let Some((at, result)) = &*self.mail.lock()
            && at.elapsed() < MAIL_FRESH
        {
            return ("smtp", result.clone());
        }
        let result = self.mailer.check_connection().await;
        *self.mail.lock() = Some((Instant::now(), result.clone()));
        ("smtp", result)
    }
}
