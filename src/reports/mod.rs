//! Scheduled reports and alerts: the scheduler that sends them, what each mail holds, and
//! the signed one-click unsubscribe link.
//!
//! **Several instances, one app database.** Each instance runs the same loop. A due
//! subscription is sent by the instance that takes its *lease*: one conditional update of
//! the subscription's row (`lease_owner`, `lease_until`) that only succeeds while no
//! unexpired lease is held, so exactly one instance wins; nothing is locked in memory. The
//! run is recorded and the lease given back in one more update, which only the holder can
//! make. A report missed while every instance was down stays due (its `next_run_at` is in
//! the past) and is sent once by the first instance back; the next time is then counted
//! from that moment, so a long outage sends one report, not one per missed slot. A failed
//! send is retried after 5, then 15 minutes; the third failure is recorded as `failed`
//! (audited, shown to admins) and the report waits for its next regular time. A lease
//! runs from the moment of its claim and is renewed while its run is in progress, so a
//! slow run keeps it however long the tick has been going; a run whose lease was taken
//! over anyway (its instance stalled past the lease) is abandoned, not sent twice. An
//! instance that dies mid-send leaves its lease to lapse after [`LEASE`]; another then
//! sends it (at least once, never lost).

pub mod mail;
pub mod schedule;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::Duration;

use rand::TryRngCore;
use serde_json::json;
use time::OffsetDateTime;

use crate::auth::SYSTEM_ACTOR;
use crate::auth::access::report_grant;
use crate::domain::Zone;
use crate::domain::audit::Action;
use crate::erp::ErpError;
use crate::inventory::{InventoryService, View};
use crate::mail::{Mail, MailAttachment, Mailer};
use crate::store::{
    AppStore, Customer, FileFormat, Frequency, NewAuditEntry, ReportKind, ReportSubscription,
    RunOutcome, RunStatus,
};

/// How long a claim holds: longer than any one send (an ERP read, a file, a mail with its
/// own deadline).
pub const LEASE: Duration = Duration::from_secs(10 * 60);
/// Tries of one run before it is recorded as failed.
pub const MAX_ATTEMPTS: i64 = 3;
/// Due subscriptions taken per tick (the rest wait for the next tick).
const PER_TICK: u32 = 20;
/// A report with more rows than this links to the portal instead of attaching a file
/// that mail servers would refuse.
pub const MAX_ATTACHED_ROWS: usize = 50_000;
/// The deadline of one whole run (ERP read, file, mail).
const RUN_DEADLINE: Duration = Duration::from_secs(5 * 60);

pub use crate::domain::clock::{Clock, ManualClock, SystemClock};

/// Signs unsubscribe links: whoever holds the link may end that one subscription, without
/// signing in (a mail client posts to it on the reader's behalf).
#[derive(Clone)]
pub struct UnsubscribeKeys {
    signer: crate::signing::Signer,
}

impl UnsubscribeKeys {
    pub fn new(secret_key: &str) -> UnsubscribeKeys {
        UnsubscribeKeys {
            signer: crate::signing::Signer::new(
                secret_key.as_bytes(),
                crate::signing::Purpose::Unsubscribe,
            ),
        }
    }

    pub fn sign(&self, subscription: i64) -> String {
        hex::encode(self.signer.tag(subscription.to_string().as_bytes(), 16))
    }

    pub fn verify(&self, subscription: i64, signature: &str) -> bool {
        let Ok(given) = hex::decode(signature.trim()) else {
            return false;
        };
        given.len() == 16
            && self
                .signer
                .verify(subscription.to_string().as_bytes(), &given)
    }

    pub fn url(&self, base_url: &str, subscription: i64) -> String {
        format!(
            "{}/reports/unsubscribe?s={subscription}&t={}",
            base_url.trim_end_matches('/'),
            self.sign(subscription)
        )
    }
}

/// Runs this instance recorded since start-up, by outcome (for `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub sent: u64,
    pub skipped: u64,
    pub retrying: u64,
    pub failed: u64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    skipped: AtomicU64,
    retrying: AtomicU64,
    failed: AtomicU64,
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickSummary {
    pub claimed: usize,
    pub sent: usize,
    pub skipped: usize,
    pub failed: usize,
}

pub struct Scheduler {
    store: Arc<dyn AppStore>,
    inventory: Arc<InventoryService>,
    mailer: Arc<Mailer>,
    zone: Zone,
    base_url: String,
    keys: UnsubscribeKeys,
    /// This instance's name on leases.
    owner: String,
    /// How long a claim holds without renewal ([`LEASE`]).
    lease: Duration,
    clock: Arc<dyn Clock>,
    counts: Counters,
    /// Where the daily alert reads the forecasts (none: alerts name no forecast).
    history: Option<Arc<crate::history::History>>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// Why a run sent nothing.
enum Composed {
    Mail(Box<Mail>, usize),
    Nothing(&'static str),
}

impl Scheduler {
    pub fn new(
        store: Arc<dyn AppStore>,
        inventory: Arc<InventoryService>,
        mailer: Arc<Mailer>,
        zone: Zone,
        base_url: String,
        keys: UnsubscribeKeys,
        clock: Arc<dyn Clock>,
    ) -> Scheduler {
        let mut id = [0u8; 6];
        rand::rngs::OsRng
            .try_fill_bytes(&mut id)
            .expect("the operating system's random generator works");
        Scheduler {
            store,
            inventory,
            mailer,
            zone,
            base_url: base_url.trim_end_matches('/').to_owned(),
            keys,
            owner: crate::store::fits::REPORT_LEASE_OWNER.cut(&format!(
                "{}-{}",
                hostname_part(),
                hex::encode(id)
            )),
            clock,
            counts: Counters::default(),
            lease: LEASE,
            history: None,
        }
    }

    /// The same scheduler, its alerts naming the parts forecast to fall below their
    /// minimum soon.
    pub fn with_history(mut self, history: Arc<crate::history::History>) -> Scheduler {
        self.history = Some(history);
        self
    }

    /// The same scheduler with another lease length (tests use seconds).
    pub fn with_lease(mut self, lease: Duration) -> Scheduler {
        self.lease = lease;
        self
    }

    fn lease_end(&self, from: OffsetDateTime) -> OffsetDateTime {
        from + time::Duration::try_from(self.lease).expect("a lease of sane length")
    }

    /// Runs recorded by this instance since start-up.
    pub fn counts(&self) -> RunCounts {
        RunCounts {
            sent: self.counts.sent.load(Ordering::Relaxed),
            skipped: self.counts.skipped.load(Ordering::Relaxed),
            retrying: self.counts.retrying.load(Ordering::Relaxed),
            failed: self.counts.failed.load(Ordering::Relaxed),
        }
    }

    pub fn keys(&self) -> &UnsubscribeKeys {
        &self.keys
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The first due time of a new subscription.
    pub fn first_run(
        &self,
        frequency: Frequency,
        weekday: Option<i64>,
        hour: i64,
    ) -> OffsetDateTime {
        let weekday = schedule::weekday_if_weekly(frequency, weekday);
        schedule::next_run(self.clock.now(), weekday, hour, &self.zone)
    }

    /// Sends what is due now (that this instance can claim).
    pub async fn tick(&self) -> TickSummary {
        let mut summary = TickSummary::default();
        let now = self.clock.now();
        let due = match self.store.due_subscriptions(now, PER_TICK).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "reports: could not read due subscriptions");
                return summary;
            }
        };
        for id in due {
            // The lease runs from this claim, not from the tick's start: earlier runs of
            // this tick may have taken minutes.
            let claimed_at = self.clock.now();
            match self
                .store
                .claim_subscription(id, &self.owner, claimed_at, self.lease_end(claimed_at))
                .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, subscription = id, "reports: could not claim");
                    continue;
                }
            }
            summary.claimed += 1;
            match self.holding_lease(id, self.run(id, claimed_at)).await {
                Some(RunStatus::Sent) => summary.sent += 1,
                Some(RunStatus::Skipped) => summary.skipped += 1,
                _ => summary.failed += 1,
            }
        }
        summary
    }

    /// Runs the loop until the process ends: a tick every `every`.
    pub fn spawn(self: Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let s = self.tick().await;
                if s.claimed > 0 {
                    tracing::info!(
                        sent = s.sent,
                        skipped = s.skipped,
                        failed = s.failed,
                        "reports: tick"
                    );
                }
            }
        })
    }

    /// Runs `run` while renewing the lease on `id` every third of its length; abandons the
    /// run if the lease turns out to be someone else's (this instance stalled past it and
    /// another took the report over: sending too would send it twice).
    async fn holding_lease(
        &self,
        id: i64,
        run: impl std::future::Future<Output = Option<RunStatus>>,
    ) -> Option<RunStatus> {
        let renew_every = self.lease / 3;
        let renewals = async {
            let mut interval = tokio::time::interval(renew_every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval.tick().await;
            loop {
                interval.tick().await;
                let until = self.lease_end(self.clock.now());
                match self
                    .store
                    .renew_subscription_lease(id, &self.owner, until)
                    .await
                {
                    Ok(true) => tracing::debug!(subscription = id, "reports: lease renewed"),
                    Ok(false) => return,
                    // The lease still holds until it lapses; the next renewal may get through.
                    Err(e) => {
                        tracing::warn!(error = %e, subscription = id, "reports: could not renew the lease")
                    }
                }
            }
        };
        tokio::select! {
            status = run => status,
            () = renewals => {
                tracing::warn!(subscription = id, "reports: the lease was taken over mid-run; this run is abandoned");
                None
            }
        }
    }

    /// One claimed run; returns its status, once recorded.
    #[tracing::instrument(skip(self), fields(owner = %self.owner))]
    async fn run(&self, id: i64, now: OffsetDateTime) -> Option<RunStatus> {
        let sub = match self.store.subscription(id).await {
            Ok(Some(s)) => s,
            Ok(None) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "reports: could not read the subscription");
                return None;
            }
        };
        let regular = schedule::next_run(
            now,
            schedule::weekday_if_weekly(sub.frequency, sub.weekday),
            sub.hour,
            &self.zone,
        );
        // The subscriber as the account is now: the report's scope and the audit's email.
        let customer = self.store.customer_by_id(sub.customer_id).await;
        let email = customer
            .as_ref()
            .ok()
            .and_then(|c| c.as_ref())
            .map(|c| c.email.clone());
        let result: Result<Composed, String> = match customer {
            Err(e) => Err(format!("app database: {e}")),
            Ok(None) => Ok(Composed::Nothing("the account no longer exists")),
            Ok(Some(customer)) => {
                match tokio::time::timeout(RUN_DEADLINE, self.compose(&sub, &customer, now)).await {
                    Ok(composed) => composed,
                    Err(_) => Err(format!("the report was not ready within {RUN_DEADLINE:?}")),
                }
            }
        };
        let audit = |action: Action, details: serde_json::Value| NewAuditEntry {
            timestamp: now,
            admin_username: SYSTEM_ACTOR.to_owned(),
            action_type: action.as_str().to_owned(),
            target_customer_id: Some(sub.customer_id),
            target_customer_email: email.clone(),
            details: Some(details.to_string()),
        };
        let sent = match result {
            Ok(Composed::Mail(mail, rows)) => self
                .mailer
                .send(&mail)
                .await
                .map(|()| rows)
                .map_err(|e| e.to_string()),
            Ok(Composed::Nothing(why)) => {
                let outcome = RunOutcome {
                    next_run_at: regular,
                    attempts: 0,
                    status: RunStatus::Skipped,
                    error: Some(why.into()),
                    sent_at: None,
                };
                return self.finish(id, &outcome, None).await;
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(rows) => {
                let outcome = RunOutcome {
                    next_run_at: regular,
                    attempts: 0,
                    status: RunStatus::Sent,
                    error: None,
                    sent_at: Some(now),
                };
                let a = audit(
                    Action::ReportSent,
                    json!({ "subscription_id": id, "kind": sub.kind.as_str(), "rows": rows }),
                );
                self.finish(id, &outcome, Some(&a)).await
            }
            Err(error) => {
                let attempts = sub.attempts + 1;
                tracing::warn!(subscription = id, attempts, %error, "reports: run failed");
                let error = crate::store::fits::REPORT_ERROR.cut(&error);
                let outcome = after_failure(attempts, error.clone(), now, regular);
                let a = (outcome.status == RunStatus::Failed).then(|| {
                    audit(
                        Action::ReportFailed,
                        json!({ "subscription_id": id, "kind": sub.kind.as_str(), "error": error, "attempts": attempts }),
                    )
                });
                self.finish(id, &outcome, a.as_ref()).await
            }
        }
    }

    async fn finish(
        &self,
        id: i64,
        outcome: &RunOutcome,
        audit: Option<&NewAuditEntry>,
    ) -> Option<RunStatus> {
        match self
            .store
            .finish_subscription(id, &self.owner, outcome, audit)
            .await
        {
            Ok(true) => {
                let counter = match outcome.status {
                    RunStatus::Sent => &self.counts.sent,
                    RunStatus::Skipped => &self.counts.skipped,
                    RunStatus::Retrying => &self.counts.retrying,
                    RunStatus::Failed => &self.counts.failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                Some(outcome.status)
            }
            Ok(false) => {
                tracing::warn!(
                    subscription = id,
                    "reports: the lease was lost before the run was recorded"
                );
                None
            }
            Err(e) => {
                tracing::error!(error = %e, subscription = id, "reports: could not record the run");
                None
            }
        }
    }

    /// The daily alert: what is expired, expiring, below minimum, or forecast to fall
    /// below it soon; nothing on a day with nothing to say.
    async fn compose_alert(
        &self,
        customer: &Customer,
        grant: &crate::auth::access::InventoryGrant,
        list: Vec<crate::store::PartMinimum>,
        today: time::Date,
        unsubscribe: &str,
    ) -> Result<Composed, String> {
        let (snapshot, _stale) = self
            .inventory
            .current(grant)
            .await
            .map_err(|e| format!("ERP: {e}"))?;
        let minimums = crate::inventory::Minimums::from(list.clone());
        let forecasts = match &self.history {
            Some(h) => h
                .forecasts(grant.scope(), Some(&minimums))
                .await
                .map(|f| Some((f, h.settings().alert_days)))
                .map_err(|e| format!("app database: {e}"))?,
            None => None,
        };
        let alert = mail::AlertLines::collect(
            &snapshot,
            &list,
            today,
            forecasts.as_ref().map(|(f, d)| (f.as_ref(), *d)),
        );
        if alert.is_empty() {
            return Ok(Composed::Nothing(
                "nothing expired, expiring or below minimum",
            ));
        }
        let lines = alert.len();
        let m = mail::alert(customer, &alert, &self.base_url, unsubscribe);
        Ok(Composed::Mail(Box::new(m), lines))
    }

    /// The mail of one run, with the rows of its view as they are now.
    async fn compose(
        &self,
        sub: &ReportSubscription,
        customer: &Customer,
        now: OffsetDateTime,
    ) -> Result<Composed, String> {
        let place = self
            .store
            .team_place(customer.id)
            .await
            .map_err(|e| format!("app database: {e}"))?;
        let manager_scope = place
            .managed_by
            .as_ref()
            .map(|l| l.erp_customer_name.as_str());
        let Some(grant) = report_grant(customer, manager_scope) else {
            return Ok(Composed::Nothing(
                "the account is inactive or on a temporary password",
            ));
        };
        let (view, view_name) = match sub.view_id {
            Some(v) => match self.store.saved_view(customer.id, v).await {
                Ok(Some(saved)) => (View::from_query(&saved.query), Some(saved.name)),
                Ok(None) => return Ok(Composed::Nothing("the saved view was deleted")),
                Err(e) => return Err(format!("app database: {e}")),
            },
            None => (View::default(), None),
        };
        let today = self.zone.at(now).date();
        // The scope's minimums, read once: the alert lists them, a report's view may
        // filter on them.
        let names = grant.scope().names();
        let list = self
            .store
            .part_minimums(names.as_deref())
            .await
            .map_err(|e| format!("app database: {e}"))?;
        let unsubscribe = self.keys.url(&self.base_url, sub.id);
        let erp = |e: ErpError| format!("ERP: {e}");
        if sub.kind == ReportKind::Alert {
            return self
                .compose_alert(customer, &grant, list, today, &unsubscribe)
                .await;
        }
        let minimums = Arc::new(crate::inventory::Minimums::from(list));
        let forecasts = match (&self.history, view.needs_forecasts()) {
            (Some(h), true) => Some(
                h.forecasts(grant.scope(), Some(&minimums))
                    .await
                    .map_err(|e| format!("app database: {e}"))?,
            ),
            _ => None,
        };
        let selection = view.selection(today, Some(minimums), forecasts);
        let (snapshot, order, stale) = self.inventory.all(&grant, &selection).await.map_err(erp)?;
        let rows = order.len();
        let at = if stale { snapshot.as_of() } else { now };
        let attachment = if rows <= MAX_ATTACHED_ROWS {
            let file_name =
                crate::export::file_name(grant.scope(), at, stale, &self.zone, sub.format.as_str());
            let format = sub.format;
            let snap = snapshot.clone();
            let body =
                tokio::task::spawn_blocking(move || report_file(format, &snap, &order, today))
                    .await
                    .map_err(|e| format!("building the file: {e}"))??;
            Some(MailAttachment {
                file_name,
                content_type: sub.format.content_type(),
                body,
            })
        } else {
            None
        };
        let link = format!("{}{}", self.base_url, view.url("/inventory"));
        let m = mail::report(
            customer,
            mail::ReportFacts {
                view_name: view_name.as_deref(),
                rows,
                as_of: crate::domain::wall_clock(&self.zone, &at, true),
                stale,
                link: &link,
                unsubscribe: &unsubscribe,
                attached: attachment.is_some(),
            },
            attachment,
        );
        Ok(Composed::Mail(Box::new(m), rows))
    }
}

/// How the `attempts`-th failed try of a run is recorded: tried again after 5, then 15
/// minutes; the last failure is recorded as failed, and the report waits for its next
/// regular time.
fn after_failure(
    attempts: i64,
    error: String,
    now: OffsetDateTime,
    regular: OffsetDateTime,
) -> RunOutcome {
    if attempts < MAX_ATTEMPTS {
        RunOutcome {
            next_run_at: now + time::Duration::minutes(5 * 3i64.pow((attempts - 1) as u32)),
            attempts,
            status: RunStatus::Retrying,
            error: Some(error),
            sent_at: None,
        }
    } else {
        RunOutcome {
            next_run_at: regular,
            attempts: 0,
            status: RunStatus::Failed,
            error: Some(error),
            sent_at: None,
        }
    }
}

/// The file of a report: exactly what the export of the view writes.
pub fn report_file(
    format: FileFormat,
    snapshot: &crate::inventory::Snapshot,
    order: &[u32],
    today: time::Date,
) -> Result<Vec<u8>, String> {
    if format == FileFormat::Csv {
        let mut out = crate::export::csv::header(snapshot.multi_customer);
        out.push_str(&crate::export::csv::rows(
            &snapshot.rows,
            order,
            snapshot.multi_customer,
            today,
        ));
        Ok(out.into_bytes())
    } else {
        crate::export::xlsx::write(&snapshot.rows, order, snapshot.multi_customer, today)
            .map_err(|e| format!("building the workbook: {e}"))
    }
}

fn hostname_part() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .map(|h| {
            h.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(20)
                .collect()
        })
        .unwrap_or_else(|| "portal".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_links_are_signed_per_subscription() {
        let keys = UnsubscribeKeys::new("secret");
        let sig = keys.sign(7);
        assert!(keys.verify(7, &sig));
        assert!(!keys.verify(8, &sig), "another subscription");
        assert!(!keys.verify(7, &sig[..30]), "truncated");
        assert!(!keys.verify(7, "zz"));
        assert!(
            !UnsubscribeKeys::new("other").verify(7, &sig),
            "another key"
        );
        assert_eq!(
            keys.url("https://p.example/", 7),
            format!("https://p.example/reports/unsubscribe?s=7&t={sig}")
        );
    }
}
