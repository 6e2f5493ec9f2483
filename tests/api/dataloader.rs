//! No N+1: lists that show customers beside sessions load them through the DataLoader.
//! A store wrapper counts the calls while the real schema resolves the sessions list.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use customer_portal::auth::{AdminIdentity, Viewer};
use customer_portal::domain::{CustomerId, Email};
use customer_portal::erp::deacom_sqlite::DeacomSqlite;
use customer_portal::store::sqlite::SqliteStore;
use customer_portal::store::*;
use time::OffsetDateTime;

/// Delegates everything to SQLite and counts the per-customer lookups.
struct Counting {
    inner: SqliteStore,
    by_id: AtomicUsize,
    by_ids: AtomicUsize,
    /// Reads of an account's saved views.
    views: AtomicUsize,
    /// Reads of the parts' daily history (forecasts).
    history_reads: AtomicUsize,
}

impl Counting {
    fn over(inner: SqliteStore) -> Arc<Counting> {
        Arc::new(Counting {
            inner,
            by_id: AtomicUsize::new(0),
            by_ids: AtomicUsize::new(0),
            views: AtomicUsize::new(0),
            history_reads: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl CustomerStore for Counting {
    async fn upgrade_password_hash(&self, id: CustomerId, h: &str) -> StoreResult<()> {
        self.inner.upgrade_password_hash(id, h).await
    }
    async fn customer_by_email(&self, e: &Email) -> StoreResult<Option<Customer>> {
        self.inner.customer_by_email(e).await
    }
    async fn customer_by_id(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        self.by_id.fetch_add(1, Ordering::SeqCst);
        self.inner.customer_by_id(id).await
    }
    async fn insert_customer(&self, n: &NewCustomer, a: &NewAuditEntry) -> StoreResult<Customer> {
        self.inner.insert_customer(n, a).await
    }
    async fn count_customers_by_status(&self) -> StoreResult<(u64, u64)> {
        self.inner.count_customers_by_status().await
    }
    async fn list_customers(&self, s: StatusFilter, q: Option<&str>) -> StoreResult<Vec<Customer>> {
        self.inner.list_customers(s, q).await
    }
    async fn customers_by_ids(&self, ids: &[CustomerId]) -> StoreResult<Vec<Customer>> {
        self.by_ids.fetch_add(1, Ordering::SeqCst);
        self.inner.customers_by_ids(ids).await
    }
    async fn update_customer(
        &self,
        id: CustomerId,
        c: &CustomerChanges,
        e: bool,
        a: &[NewAuditEntry],
    ) -> StoreResult<Customer> {
        self.inner.update_customer(id, c, e, a).await
    }
    async fn change_password(
        &self,
        id: CustomerId,
        h: &str,
        m: bool,
        k: Option<&str>,
        a: &NewAuditEntry,
    ) -> StoreResult<()> {
        self.inner.change_password(id, h, m, k, a).await
    }
}

#[async_trait]
impl ActiveSessionStore for Counting {
    async fn begin_customer_session(
        &self,
        s: &ActiveSession,
        a: &NewAuditEntry,
    ) -> StoreResult<()> {
        self.inner.begin_customer_session(s, a).await
    }
    async fn session_with_customer(
        &self,
        s: &str,
    ) -> StoreResult<Option<(ActiveSession, Customer)>> {
        self.inner.session_with_customer(s).await
    }
    async fn touch_session(&self, s: &str, at: OffsetDateTime) -> StoreResult<()> {
        self.inner.touch_session(s, at).await
    }
    async fn end_customer_session(&self, s: &str, a: Option<&NewAuditEntry>) -> StoreResult<bool> {
        self.inner.end_customer_session(s, a).await
    }
    async fn list_active_sessions(&self) -> StoreResult<Vec<ActiveSession>> {
        self.inner.list_active_sessions().await
    }
    async fn customer_sessions(&self, c: CustomerId) -> StoreResult<Vec<ActiveSession>> {
        self.inner.customer_sessions(c).await
    }
    async fn end_other_customer_sessions(
        &self,
        c: CustomerId,
        k: &str,
        a: &NewAuditEntry,
    ) -> StoreResult<u64> {
        self.inner.end_other_customer_sessions(c, k, a).await
    }
    async fn purge_sessions(&self, i: OffsetDateTime, c: OffsetDateTime) -> StoreResult<u64> {
        self.inner.purge_sessions(i, c).await
    }
}

#[async_trait]
impl AuditStore for Counting {
    async fn set_audit_append_only(&self, on: bool) -> StoreResult<()> {
        self.inner.set_audit_append_only(on).await
    }
    async fn append_audit(&self, e: &NewAuditEntry) -> StoreResult<i64> {
        self.inner.append_audit(e).await
    }
    async fn audit_page(
        &self,
        f: &AuditFilter,
        o: Option<i64>,
        l: u32,
    ) -> StoreResult<(u64, Vec<AuditEntry>)> {
        self.inner.audit_page(f, o, l).await
    }
    async fn audit_facets(&self) -> StoreResult<(Vec<String>, Vec<String>)> {
        self.inner.audit_facets().await
    }
    async fn audit_since(&self, a: &str, s: OffsetDateTime) -> StoreResult<Vec<AuditEntry>> {
        self.inner.audit_since(a, s).await
    }
    async fn top_audit_targets(&self, a: &str, l: u32) -> StoreResult<Vec<(String, u64)>> {
        self.inner.top_audit_targets(a, l).await
    }
    async fn latest_audit(&self, a: &str, l: u32) -> StoreResult<Vec<AuditEntry>> {
        self.inner.latest_audit(a, l).await
    }
}

#[async_trait]
impl AdminSessionStore for Counting {
    async fn begin_admin_session(&self, s: &AdminSession, a: &NewAuditEntry) -> StoreResult<()> {
        self.inner.begin_admin_session(s, a).await
    }
    async fn admin_session(&self, s: &str) -> StoreResult<Option<AdminSession>> {
        self.inner.admin_session(s).await
    }
    async fn touch_admin_session(&self, s: &str, at: OffsetDateTime) -> StoreResult<()> {
        self.inner.touch_admin_session(s, at).await
    }
    async fn end_admin_session(&self, s: &str, a: Option<&NewAuditEntry>) -> StoreResult<bool> {
        self.inner.end_admin_session(s, a).await
    }
    async fn purge_admin_sessions(&self, i: OffsetDateTime, c: OffsetDateTime) -> StoreResult<u64> {
        self.inner.purge_admin_sessions(i, c).await
    }
}

#[async_trait]
impl WebSessionStore for Counting {
    async fn create_web_session(&self, r: &WebSessionRecord) -> StoreResult<bool> {
        self.inner.create_web_session(r).await
    }
    async fn save_web_session(&self, r: &WebSessionRecord) -> StoreResult<()> {
        self.inner.save_web_session(r).await
    }
    async fn load_web_session(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<WebSessionRecord>> {
        self.inner.load_web_session(id, now).await
    }
    async fn delete_web_session(&self, id: &str) -> StoreResult<()> {
        self.inner.delete_web_session(id).await
    }
    async fn load_web_session_signed_in(
        &self,
        id: &str,
        now: OffsetDateTime,
        customer_session: for<'a> fn(&'a str) -> Option<String>,
    ) -> StoreResult<(Option<WebSessionRecord>, Option<ReadSignIn>)> {
        self.inner
            .load_web_session_signed_in(id, now, customer_session)
            .await
    }
    async fn purge_expired_web_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
        self.inner.purge_expired_web_sessions(now).await
    }
}

#[async_trait]
impl SettingsStore for Counting {
    async fn set_setting(&self, k: &str, v: &str) -> StoreResult<()> {
        self.inner.set_setting(k, v).await
    }
    async fn setting(&self, k: &str) -> StoreResult<Option<String>> {
        self.inner.setting(k).await
    }
    async fn setting_insert_if_absent(&self, k: &str, v: &str) -> StoreResult<String> {
        self.inner.setting_insert_if_absent(k, v).await
    }
}

#[async_trait]
impl LoginThrottleStore for Counting {
    async fn record_login_failure(
        &self,
        n: &str,
        ip: Option<&str>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.inner.record_login_failure(n, ip, at).await
    }
    async fn begin_login_attempt(
        &self,
        n: &str,
        ip: Option<&str>,
        w: AttemptWindow,
    ) -> StoreResult<(i64, LoginFailureCounts)> {
        self.inner.begin_login_attempt(n, ip, w).await
    }
    async fn end_login_attempt(&self, id: i64, n: &str, end: AttemptEnd) -> StoreResult<()> {
        self.inner.end_login_attempt(id, n, end).await
    }
    async fn count_event_below(
        &self,
        n: &str,
        limit: u64,
        since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        self.inner.count_event_below(n, limit, since, now).await
    }
    async fn clear_login_failures(&self, n: &str) -> StoreResult<()> {
        self.inner.clear_login_failures(n).await
    }
    async fn purge_login_failures_before(&self, c: OffsetDateTime) -> StoreResult<u64> {
        self.inner.purge_login_failures_before(c).await
    }
}

#[async_trait]
impl ApiTokenStore for Counting {
    async fn insert_api_token(
        &self,
        t: &ApiTokenRecord,
        a: &NewAuditEntry,
    ) -> StoreResult<ApiTokenRecord> {
        self.inner.insert_api_token(t, a).await
    }
    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiTokenRecord>> {
        self.inner.list_api_tokens().await
    }
    async fn api_token_by_hash(&self, h: &str) -> StoreResult<Option<ApiTokenRecord>> {
        self.inner.api_token_by_hash(h).await
    }
    async fn touch_api_token(&self, id: i64, at: OffsetDateTime) -> StoreResult<()> {
        self.inner.touch_api_token(id, at).await
    }
    async fn revoke_api_token(
        &self,
        id: i64,
        by: &str,
        at: OffsetDateTime,
        a: &NewAuditEntry,
    ) -> StoreResult<bool> {
        self.inner.revoke_api_token(id, by, at, a).await
    }
}

#[async_trait]
impl ResetTokenStore for Counting {
    async fn issue_reset_token(
        &self,
        c: CustomerId,
        h: &str,
        e: OffsetDateTime,
        n: OffsetDateTime,
    ) -> StoreResult<()> {
        self.inner.issue_reset_token(c, h, e, n).await
    }
    async fn reset_token_customer(
        &self,
        h: &str,
        n: OffsetDateTime,
    ) -> StoreResult<Option<Customer>> {
        self.inner.reset_token_customer(h, n).await
    }
    async fn use_reset_token(
        &self,
        h: &str,
        c: CustomerId,
        n: OffsetDateTime,
        p: &str,
        a: &NewAuditEntry,
    ) -> StoreResult<bool> {
        self.inner.use_reset_token(h, c, n, p, a).await
    }
}

#[async_trait]
impl PartMinimumStore for Counting {
    async fn part_minimums(&self, c: Option<&[String]>) -> StoreResult<Vec<PartMinimum>> {
        self.inner.part_minimums(c).await
    }
    async fn set_part_minimum(&self, m: &PartMinimum) -> StoreResult<()> {
        self.inner.set_part_minimum(m).await
    }
    async fn remove_part_minimum(&self, c: &str, p: &str) -> StoreResult<bool> {
        self.inner.remove_part_minimum(c, p).await
    }
}

#[async_trait]
impl SavedViewStore for Counting {
    async fn saved_views(&self, c: CustomerId) -> StoreResult<Vec<SavedView>> {
        self.views.fetch_add(1, Ordering::SeqCst);
        self.inner.saved_views(c).await
    }
    async fn saved_view(&self, c: CustomerId, id: i64) -> StoreResult<Option<SavedView>> {
        self.inner.saved_view(c, id).await
    }
    async fn insert_saved_view(
        &self,
        c: CustomerId,
        n: &str,
        q: &str,
        at: OffsetDateTime,
        max: u32,
    ) -> StoreResult<SavedView> {
        self.inner.insert_saved_view(c, n, q, at, max).await
    }
    async fn rename_saved_view(
        &self,
        c: CustomerId,
        id: i64,
        n: &str,
        at: OffsetDateTime,
    ) -> StoreResult<SavedView> {
        self.inner.rename_saved_view(c, id, n, at).await
    }
    async fn delete_saved_view(&self, c: CustomerId, id: i64) -> StoreResult<bool> {
        self.inner.delete_saved_view(c, id).await
    }
}

#[async_trait]
impl ReportStore for Counting {
    async fn insert_subscription(
        &self,
        n: &NewReportSubscription,
        max: u32,
    ) -> StoreResult<ReportSubscription> {
        self.inner.insert_subscription(n, max).await
    }
    async fn subscriptions(&self, c: Option<CustomerId>) -> StoreResult<Vec<ReportSubscription>> {
        self.inner.subscriptions(c).await
    }
    async fn subscription(&self, id: i64) -> StoreResult<Option<ReportSubscription>> {
        self.inner.subscription(id).await
    }
    async fn delete_subscription(&self, id: i64, c: Option<CustomerId>) -> StoreResult<bool> {
        self.inner.delete_subscription(id, c).await
    }
    async fn set_subscription_paused(
        &self,
        id: i64,
        c: Option<CustomerId>,
        p: bool,
        by: Option<&str>,
    ) -> StoreResult<bool> {
        self.inner.set_subscription_paused(id, c, p, by).await
    }
    async fn due_subscriptions(&self, now: OffsetDateTime, l: u32) -> StoreResult<Vec<i64>> {
        self.inner.due_subscriptions(now, l).await
    }
    async fn claim_subscription(
        &self,
        id: i64,
        o: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        self.inner.claim_subscription(id, o, now, until).await
    }
    async fn renew_subscription_lease(
        &self,
        id: i64,
        o: &str,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        self.inner.renew_subscription_lease(id, o, until).await
    }
    async fn finish_subscription(
        &self,
        id: i64,
        o: &str,
        r: &RunOutcome,
        a: Option<&NewAuditEntry>,
    ) -> StoreResult<bool> {
        self.inner.finish_subscription(id, o, r, a).await
    }
}

#[async_trait]
impl HistoryStore for Counting {
    async fn claim_history_day(
        &self,
        day: time::Date,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        self.inner.claim_history_day(day, owner, now, until).await
    }
    async fn finish_history_day(
        &self,
        day: time::Date,
        owner: &str,
        parts: &[PartDay],
        totals: &[CustomerDay],
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        self.inner
            .finish_history_day(day, owner, parts, totals, now)
            .await
    }
    async fn insert_demo_history(
        &self,
        parts: &[PartDay],
        totals: &[CustomerDay],
    ) -> StoreResult<()> {
        self.inner.insert_demo_history(parts, totals).await
    }
    async fn has_history(&self) -> StoreResult<bool> {
        self.inner.has_history().await
    }
    async fn part_history(
        &self,
        customers: Option<&[String]>,
        part: Option<&str>,
        from: time::Date,
        to: time::Date,
        after: Option<&(String, String, time::Date)>,
        limit: u32,
    ) -> StoreResult<Vec<PartDay>> {
        self.history_reads.fetch_add(1, Ordering::SeqCst);
        self.inner
            .part_history(customers, part, from, to, after, limit)
            .await
    }
    async fn customer_history(
        &self,
        customers: Option<&[String]>,
        from: time::Date,
        to: time::Date,
    ) -> StoreResult<Vec<CustomerDay>> {
        self.inner.customer_history(customers, from, to).await
    }
    async fn prune_history(&self, before: time::Date, batch: u32) -> StoreResult<u64> {
        self.inner.prune_history(before, batch).await
    }
}

#[async_trait]
impl TeamStore for Counting {
    async fn team_place(&self, id: CustomerId) -> StoreResult<TeamPlace> {
        self.inner.team_place(id).await
    }
    async fn session_in_team(
        &self,
        session_id: &str,
    ) -> StoreResult<Option<(ActiveSession, Customer, TeamPlace)>> {
        self.inner.session_in_team(session_id).await
    }
    async fn set_team_manager(
        &self,
        id: CustomerId,
        on: bool,
        by: &str,
        at: OffsetDateTime,
        e: &NewAuditEntry,
    ) -> StoreResult<bool> {
        self.inner.set_team_manager(id, on, by, at, e).await
    }
    async fn invite_colleague(
        &self,
        manager: CustomerId,
        new: &NewCustomer,
        hash: &str,
        expiry: OffsetDateTime,
        now: OffsetDateTime,
        e: &NewAuditEntry,
    ) -> StoreResult<Customer> {
        self.inner
            .invite_colleague(manager, new, hash, expiry, now, e)
            .await
    }
    async fn reissue_invitation(
        &self,
        id: CustomerId,
        hash: &str,
        expiry: OffsetDateTime,
        now: OffsetDateTime,
        e: &NewAuditEntry,
    ) -> StoreResult<()> {
        self.inner
            .reissue_invitation(id, hash, expiry, now, e)
            .await
    }
    async fn colleagues(&self, manager: CustomerId) -> StoreResult<Vec<Customer>> {
        self.inner.colleagues(manager).await
    }
    async fn team_links(&self) -> StoreResult<TeamLinks> {
        self.inner.team_links().await
    }
}

#[async_trait]
impl TwoFactorStore for Counting {
    async fn two_factor(&self, a: &str) -> StoreResult<Option<TwoFactorRecord>> {
        self.inner.two_factor(a).await
    }
    async fn begin_two_factor(&self, a: &str, s: &str, at: OffsetDateTime) -> StoreResult<bool> {
        self.inner.begin_two_factor(a, s, at).await
    }
    async fn confirm_two_factor(
        &self,
        a: &str,
        step: i64,
        h: &[String],
        at: OffsetDateTime,
        e: &NewAuditEntry,
    ) -> StoreResult<bool> {
        self.inner.confirm_two_factor(a, step, h, at, e).await
    }
    async fn use_two_factor_step(&self, a: &str, step: i64) -> StoreResult<bool> {
        self.inner.use_two_factor_step(a, step).await
    }
    async fn use_recovery_code(
        &self,
        a: &str,
        h: &str,
        at: OffsetDateTime,
        e: &NewAuditEntry,
    ) -> StoreResult<bool> {
        self.inner.use_recovery_code(a, h, at, e).await
    }
    async fn recovery_codes_left(&self, a: &str) -> StoreResult<u32> {
        self.inner.recovery_codes_left(a).await
    }
    async fn replace_recovery_codes(&self, a: &str, h: &[String]) -> StoreResult<()> {
        self.inner.replace_recovery_codes(a, h).await
    }
    async fn forget_trusted_browsers(
        &self,
        a: &str,
        at: OffsetDateTime,
        e: &NewAuditEntry,
    ) -> StoreResult<bool> {
        self.inner.forget_trusted_browsers(a, at, e).await
    }
    async fn remove_two_factor(&self, a: &str, e: &NewAuditEntry) -> StoreResult<bool> {
        self.inner.remove_two_factor(a, e).await
    }
}

#[async_trait]
impl AppStore for Counting {
    fn backend_name(&self) -> &'static str {
        "counting-sqlite"
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
    async fn pool_usage(&self) -> customer_portal::store::PoolUsage {
        self.inner.pool_usage().await
    }
}

#[tokio::test]
async fn active_sessions_load_their_customers_in_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(
        &dir.path().join("portal.db"),
        customer_portal::domain::Zone::utc(),
    )
    .await
    .unwrap();
    let counting = Counting::over(sqlite);
    let store: Arc<dyn AppStore> = counting.clone();
    let now = OffsetDateTime::now_utc();
    let audit = NewAuditEntry {
        timestamp: now,
        admin_username: "SYSTEM".into(),
        action_type: "T".into(),
        target_customer_id: None,
        target_customer_email: None,
        details: None,
    };
    let mut ids = Vec::new();
    for i in 0..8 {
        let c = store
            .insert_customer(
                &NewCustomer {
                    first_name: format!("C{i}"),
                    last_name: None,
                    email: Email::parse(&format!("c{i}@example.com")).unwrap(),
                    password_hash: "pbkdf2:sha256:1$a$00".into(),
                    erp_customer_name: "All".into(),
                    must_reset_password: false,
                },
                &audit,
            )
            .await
            .unwrap();
        ids.push(c.id);
        for s in 0..2 {
            let session = ActiveSession {
                session_id: format!("s{i}-{s}"),
                customer_id: c.id,
                last_seen: now,
                ip_address: None,
                user_agent: None,
                created_at: now,
            };
            store
                .begin_customer_session(&session, &audit)
                .await
                .unwrap();
        }
    }

    let deacom = dir.path().join("deacom.db");
    crate::deacom_fixture::build(&deacom);
    let erp = Arc::new(DeacomSqlite::open(&deacom).unwrap());
    let inventory = Arc::new(customer_portal::inventory::InventoryService::new(
        erp.clone(),
        std::time::Duration::from_secs(30),
        std::time::Duration::from_secs(30),
        std::time::Duration::from_secs(30),
    ));
    let config = customer_portal::config::Config::from_vars(&crate::helpers::vars(&[(
        "DATA_DIR",
        dir.path().to_str().unwrap(),
    )]))
    .unwrap();
    let mailer = Arc::new(customer_portal::mail::Mailer::from_config(&config).unwrap());
    let hasher = customer_portal::auth::passwords::PasswordHasher::new(1).await;
    let customers = Arc::new(customer_portal::customers::CustomerAdmin::new(
        store.clone(),
        store.clone(),
        store.clone(),
        hasher.clone(),
        mailer.clone(),
        erp,
        "http://x/login".into(),
    ));
    let auth = Arc::new(customer_portal::auth::service::AuthService::new(
        store.clone(),
        store.clone(),
        store.clone(),
        store.clone(),
        hasher,
        std::time::Duration::from_secs(3600),
    ));
    let history = Arc::new(customer_portal::history::History::new(
        store.clone(),
        inventory.clone(),
        customer_portal::domain::Zone::utc(),
        Arc::new(customer_portal::reports::SystemClock),
        "test".into(),
        customer_portal::history::Settings::default(),
    ));
    let schema = customer_portal::graphql::build_schema(customer_portal::graphql::Ports {
        history,
        two_factor: Arc::new(customer_portal::auth::two_factor::TwoFactor::new(
            store.clone(),
            store.clone(),
            "test secret",
        )),
        store: store.clone(),
        inventory: inventory.clone(),
        customers,
        auth,
        mailer: mailer.clone(),
        zone: customer_portal::domain::Zone::utc(),
        cursor_key: customer_portal::graphql::cursor::CursorKey::derive("test secret"),
        tokens: Arc::new(customer_portal::auth::tokens::ApiTokens::new(
            store.clone(),
            store.clone(),
        )),
        scheduler: Arc::new(customer_portal::reports::Scheduler::new(
            store.clone(),
            inventory.clone(),
            mailer.clone(),
            customer_portal::domain::Zone::utc(),
            "http://x".into(),
            customer_portal::reports::UnsubscribeKeys::new("test secret"),
            Arc::new(customer_portal::reports::SystemClock),
        )),
        resets: Arc::new(customer_portal::auth::reset::PasswordResets::new(
            store.clone(),
            store.clone(),
            store.clone(),
            customer_portal::auth::passwords::PasswordHasher::new(1).await,
            mailer.clone(),
            "http://x".into(),
        )),
    });

    let admin = Viewer::Admin(AdminIdentity {
        username: "cp_admin".into(),
        display_name: "cp_admin".into(),
        session_id: "a".into(),
        auth_method: "local".into(),
        must_enrol_two_factor: false,
    });
    let resp = schema
        .execute(
            async_graphql::Request::new(
                "{ activeSessions { sessionId customer { email firstName } } }",
            )
            .data(admin),
        )
        .await;
    assert!(resp.errors.is_empty(), "{:?}", resp.errors);
    let json = resp.data.into_json().unwrap();
    let sessions = json["activeSessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 16);
    assert!(sessions.iter().all(|s| {
        s["customer"]["email"]
            .as_str()
            .unwrap()
            .ends_with("@example.com")
    }));
    assert_eq!(
        counting.by_ids.load(Ordering::SeqCst),
        1,
        "one batched lookup for 16 rows"
    );
    assert_eq!(
        counting.by_id.load(Ordering::SeqCst),
        0,
        "no per-row lookups"
    );

    // An account's saved views read with its sign-in are what `savedViews` answers,
    // without reading them again; read for another account, they are not used.
    let customer = |id: CustomerId| {
        Viewer::Customer(customer_portal::auth::CustomerIdentity {
            customer_id: id,
            session_id: format!("s-{}", id.0),
            email: "c@example.com".into(),
            first_name: "C".into(),
            last_name: None,
            scope: customer_portal::domain::ErpScope::parse("All"),
            must_reset_password: false,
            must_enrol_two_factor: false,
            team: Default::default(),
        })
    };
    let read_ahead = |id: CustomerId| customer_portal::graphql::saved_views::ViewsReadAhead {
        customer: id,
        views: Arc::new(vec![SavedView {
            id: 77,
            customer_id: id,
            name: "Read ahead".into(),
            query: "q=gift".into(),
            created_at: now,
            updated_at: now,
        }]),
    };
    let views = |viewer: Viewer, read| {
        let schema = &schema;
        async move {
            let resp = schema
                .execute(
                    async_graphql::Request::new("{ savedViews { name url } }")
                        .data(viewer)
                        .data(read),
                )
                .await;
            assert!(resp.errors.is_empty(), "{:?}", resp.errors);
            resp.data.into_json().unwrap()["savedViews"].clone()
        }
    };
    let answer = views(customer(ids[0]), read_ahead(ids[0])).await;
    assert_eq!(
        answer,
        serde_json::json!([{ "name": "Read ahead", "url": "/inventory?q=gift" }])
    );
    assert_eq!(counting.views.load(Ordering::SeqCst), 0, "not read again");
    let answer = views(customer(ids[1]), read_ahead(ids[0])).await;
    assert_eq!(answer, serde_json::json!([]), "another account's: not used");
    assert_eq!(counting.views.load(Ordering::SeqCst), 1);
}

/// After a day is recorded every signed-in page asks for the forecasts at once: they are
/// worked out once, the others wait for them, and none holds a copy of the history.
#[tokio::test]
async fn forecasts_asked_at_once_read_the_history_once() {
    let dir = tempfile::tempdir().unwrap();
    let zone = customer_portal::domain::Zone::utc();
    let sqlite = SqliteStore::open(&dir.path().join("portal.db"), zone.clone())
        .await
        .unwrap();
    let counting = Counting::over(sqlite);
    let deacom = dir.path().join("deacom.db");
    crate::deacom_fixture::build(&deacom);
    let inventory = Arc::new(customer_portal::inventory::InventoryService::new(
        Arc::new(DeacomSqlite::open(&deacom).unwrap()),
        std::time::Duration::from_secs(30),
        std::time::Duration::from_secs(30),
        std::time::Duration::from_secs(30),
    ));
    let history = customer_portal::history::History::new(
        counting.clone(),
        inventory,
        zone,
        Arc::new(customer_portal::reports::SystemClock),
        "test".into(),
        customer_portal::history::Settings::default(),
    );
    let all = customer_portal::domain::ErpScope::All;
    let reads = || counting.history_reads.load(Ordering::SeqCst);
    let made = futures_util::future::join_all((0..8).map(|_| history.forecasts(&all, None))).await;
    assert_eq!(reads(), 1, "eight asked at once, one read");
    let first = made[0].as_ref().unwrap();
    assert!(made.iter().all(|f| Arc::ptr_eq(f.as_ref().unwrap(), first)));
    history.forecasts(&all, None).await.unwrap();
    assert_eq!(reads(), 1, "kept");
    history.forget_forecasts();
    history.forecasts(&all, None).await.unwrap();
    assert_eq!(reads(), 2, "worked out again once forgotten");
}
