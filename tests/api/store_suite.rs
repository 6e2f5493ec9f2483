//! The storage contract, written once against the traits and run on every backend:
//! SQLite always; SQL Server when `MSSQL_TEST_URL` (app database) and `MSSQL_ERP_TEST_URL`
//! (a Deacom-shaped database) point at a server (ADO strings, e.g.
//! `server=tcp:localhost,1433;database=PortalTest;user=sa;password=…;TrustServerCertificate=true`).

use std::sync::Arc;
use std::time::Duration;

use customer_portal::domain::{CustomerId, Email, ErpScope};
use customer_portal::erp::ErpSource;
use customer_portal::erp::deacom_sqlite::DeacomSqlite;
use customer_portal::store::sqlite::SqliteStore;
use customer_portal::store::*;
use time::OffsetDateTime;

fn unique() -> String {
    format!("{}{}", std::process::id(), crate::helpers::rand_suffix())
}

fn audit(
    action: &str,
    admin: &str,
    target: Option<CustomerId>,
    email: Option<&str>,
) -> NewAuditEntry {
    NewAuditEntry {
        timestamp: OffsetDateTime::now_utc(),
        admin_username: admin.into(),
        action_type: action.into(),
        target_customer_id: target,
        target_customer_email: email.map(str::to_owned),
        details: Some(r#"{"k":"v"}"#.into()),
    }
}

fn close(a: OffsetDateTime, b: OffsetDateTime) -> bool {
    // SQL Server DATETIME keeps 1/300 s.
    (a - b).abs() < time::Duration::milliseconds(10)
}

/// Everything the portal relies on from an app database.
pub async fn store_contract(store: Arc<dyn AppStore>) {
    store.ping().await.unwrap();
    let u = unique();
    let admin = format!("admin_{u}");
    let email = format!("Contract.{u}@Example.com");
    let parsed = Email::parse(&email).unwrap();
    let (active_before, _) = store.count_customers_by_status().await.unwrap();

    // Customers.
    let new = NewCustomer {
        first_name: "Con".into(),
        last_name: Some("Tract".into()),
        email: parsed.clone(),
        password_hash: "pbkdf2:sha256:1000$salt$00".into(),
        erp_customer_name: "Acme Foods|Café Münster GmbH".into(),
        must_reset_password: true,
    };
    let c = store
        .insert_customer(
            &new,
            &audit("CUSTOMER_CREATE", &admin, None, Some(parsed.as_str())),
        )
        .await
        .unwrap();
    assert_eq!(c.email, parsed.as_str());
    assert!(c.is_active && c.must_reset_password && c.last_login_date.is_none());
    let created = c.created_date.expect("created_date is set on insert");
    assert!(
        (created - OffsetDateTime::now_utc()).abs() < time::Duration::minutes(5),
        "created_date is now, read in the local-time columns' zone: {created}"
    );
    assert_eq!(
        c.erp_customer_name, "Acme Foods|Café Münster GmbH",
        "non-ASCII survives"
    );
    let by_email = store
        .customer_by_email(&Email::parse(&email.to_uppercase()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.id, c.id, "emails compare case-insensitively");
    assert_eq!(
        store.customer_by_id(c.id).await.unwrap().unwrap().email,
        c.email
    );
    assert!(
        store
            .customer_by_id(CustomerId(-1))
            .await
            .unwrap()
            .is_none()
    );
    let dup = store
        .insert_customer(&new, &audit("CUSTOMER_CREATE", &admin, None, None))
        .await;
    assert!(matches!(dup, Err(StoreError::DuplicateEmail)), "{dup:?}");
    assert_eq!(
        store.count_customers_by_status().await.unwrap().0,
        active_before + 1
    );
    let found = store
        .list_customers(StatusFilter::Active, Some(&format!("tract.{u}")))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(
        store
            .list_customers(StatusFilter::Inactive, Some(&u))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .list_customers(StatusFilter::All, Some("münster"))
            .await
            .unwrap()
            .iter()
            .filter(|x| x.id == c.id)
            .count(),
        1
    );
    assert!(
        store
            .list_customers(StatusFilter::All, Some("100%_[x"))
            .await
            .unwrap()
            .iter()
            .all(|x| x.id != c.id),
        "wildcards are literal"
    );
    let by_ids = store
        .customers_by_ids(&[c.id, CustomerId(-5)])
        .await
        .unwrap();
    assert_eq!(by_ids.len(), 1);

    // Sessions.
    let now = OffsetDateTime::now_utc();
    let sid = format!("sess-{u}");
    let session = ActiveSession {
        session_id: sid.clone(),
        customer_id: c.id,
        last_seen: now,
        ip_address: Some("10.0.0.1".into()),
        user_agent: Some("suite".into()),
        created_at: now,
    };
    store
        .begin_customer_session(
            &session,
            &audit("CUSTOMER_LOGIN", "SYSTEM", Some(c.id), Some(&c.email)),
        )
        .await
        .unwrap();
    let (s, sc) = store.session_with_customer(&sid).await.unwrap().unwrap();
    assert_eq!(sc.id, c.id);
    assert!(close(s.created_at, now) && close(s.last_seen, now));
    assert!(
        close(
            store
                .customer_by_id(c.id)
                .await
                .unwrap()
                .unwrap()
                .last_login_date
                .unwrap(),
            now
        ),
        "login date recorded"
    );
    let later = now + time::Duration::minutes(2);
    store.touch_session(&sid, later).await.unwrap();
    assert!(close(
        store
            .session_with_customer(&sid)
            .await
            .unwrap()
            .unwrap()
            .0
            .last_seen,
        later
    ));
    assert!(
        store
            .list_active_sessions()
            .await
            .unwrap()
            .iter()
            .any(|x| x.session_id == sid)
    );
    // A second session; a password change keeps only the current one.
    let sid2 = format!("sess2-{u}");
    store
        .begin_customer_session(
            &ActiveSession {
                session_id: sid2.clone(),
                ..session.clone()
            },
            &audit("CUSTOMER_LOGIN", "SYSTEM", Some(c.id), None),
        )
        .await
        .unwrap();
    store
        .change_password(
            c.id,
            "pbkdf2:sha256:1000$salt$11",
            false,
            Some(&sid),
            &audit("CUSTOMER_PASSWORD_CHANGE", "SYSTEM", Some(c.id), None),
        )
        .await
        .unwrap();
    assert!(store.session_with_customer(&sid2).await.unwrap().is_none());
    assert!(store.session_with_customer(&sid).await.unwrap().is_some());
    let after = store.customer_by_id(c.id).await.unwrap().unwrap();
    assert!(!after.must_reset_password && after.password_hash.ends_with("$11"));
    assert!(
        store
            .end_customer_session(
                &sid,
                Some(&audit("CUSTOMER_LOGOUT", "SYSTEM", Some(c.id), None))
            )
            .await
            .unwrap()
    );
    assert!(
        !store.end_customer_session(&sid, None).await.unwrap(),
        "a second end finds nothing"
    );

    // Updates: a diff and a deactivation that ends sessions, atomically with the audit rows.
    store
        .begin_customer_session(
            &ActiveSession {
                session_id: format!("sess3-{u}"),
                ..session.clone()
            },
            &audit("CUSTOMER_LOGIN", "SYSTEM", Some(c.id), None),
        )
        .await
        .unwrap();
    let changes = CustomerChanges {
        first_name: "Conrad".into(),
        last_name: None,
        email: parsed.clone(),
        erp_customer_name: "All".into(),
        is_active: false,
    };
    let updated = store
        .update_customer(
            c.id,
            &changes,
            true,
            &[
                audit("CUSTOMER_UPDATE", &admin, Some(c.id), None),
                audit("CUSTOMER_DEACTIVATE", &admin, Some(c.id), None),
            ],
        )
        .await
        .unwrap();
    assert!(!updated.is_active && updated.first_name == "Conrad" && updated.last_name.is_none());
    assert!(
        store
            .session_with_customer(&format!("sess3-{u}"))
            .await
            .unwrap()
            .is_none()
    );

    // An update, a deactivation and a password reset of an account that does not exist:
    // NotFound, and nothing written or audited (the backends once differed here).
    let ghost = CustomerId(i64::from(i32::MAX) - 7);
    let ghost_admin = format!("ghost_{u}");
    let ghost_changes = CustomerChanges {
        first_name: "Nobody".into(),
        last_name: Some("Here".into()),
        email: Email::parse(&format!("ghost.{u}@example.com")).unwrap(),
        erp_customer_name: "All".into(),
        is_active: true,
    };
    let update = store
        .update_customer(
            ghost,
            &ghost_changes,
            false,
            &[audit("CUSTOMER_UPDATE", &ghost_admin, Some(ghost), None)],
        )
        .await;
    assert!(matches!(update, Err(StoreError::NotFound)), "{update:?}");
    let deactivate = store
        .update_customer(
            ghost,
            &CustomerChanges {
                is_active: false,
                ..ghost_changes.clone()
            },
            true,
            &[
                audit("CUSTOMER_UPDATE", &ghost_admin, Some(ghost), None),
                audit("CUSTOMER_DEACTIVATE", &ghost_admin, Some(ghost), None),
            ],
        )
        .await;
    assert!(
        matches!(deactivate, Err(StoreError::NotFound)),
        "{deactivate:?}"
    );
    let reset = store
        .change_password(
            ghost,
            "pbkdf2:sha256:1000$salt$22",
            true,
            None,
            &audit("ADMIN_PW_RESET_EMAIL", &ghost_admin, Some(ghost), None),
        )
        .await;
    assert!(matches!(reset, Err(StoreError::NotFound)), "{reset:?}");
    assert!(store.customer_by_id(ghost).await.unwrap().is_none());
    assert!(
        store
            .customer_by_email(&ghost_changes.email)
            .await
            .unwrap()
            .is_none()
    );
    let ghost_audits = AuditFilter::parse(Some(&ghost_admin), None, None);
    assert_eq!(
        store.audit_page(&ghost_audits, None, 10).await.unwrap().0,
        0,
        "no audit row for a change that did not happen"
    );

    // Settings: insert-if-absent keeps the first value; set replaces it.
    let key = format!("contract_{u}");
    assert_eq!(
        store.setting_insert_if_absent(&key, "one").await.unwrap(),
        "one"
    );
    assert_eq!(
        store.setting_insert_if_absent(&key, "two").await.unwrap(),
        "one"
    );
    store.set_setting(&key, "three").await.unwrap();
    assert_eq!(store.setting(&key).await.unwrap().as_deref(), Some("three"));

    // Audit log.
    let filter = AuditFilter::parse(Some(&admin), None, None);
    let (total, page) = store.audit_page(&filter, None, 2).await.unwrap();
    assert_eq!(total, 3, "create, update, deactivate by this admin");
    assert_eq!(page.len(), 2);
    assert!(page[0].timestamp >= page[1].timestamp, "newest first");
    // The next page starts below the last id seen, whatever was appended meanwhile.
    store
        .append_audit(&audit("LATER", &admin, None, None))
        .await
        .unwrap();
    let (_, rest) = store
        .audit_page(&filter, Some(page[1].id), 2)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].action_type, "CUSTOMER_CREATE");
    assert_eq!(
        rest[0].target_customer_id,
        Some(c.id),
        "the create row carries the new id"
    );
    // Local-time columns: instants on both sides of a daylight-saving change come back as
    // the same instants (the suite's zone has DST), and `audit_since` compares instants.
    let clock_admin = format!("clock_{u}");
    let winter = time::macros::datetime!(2026-03-08 07:59:30 UTC); // 01:59:30 CST
    let summer = time::macros::datetime!(2026-03-08 08:00:30 UTC); // 03:00:30 CDT
    for at in [summer, winter] {
        let mut e = audit("CLOCK_TEST", &clock_admin, None, None);
        e.timestamp = at;
        store.append_audit(&e).await.unwrap();
    }
    let (_, rows) = store
        .audit_page(
            &AuditFilter::parse(Some(&clock_admin), None, None),
            None,
            10,
        )
        .await
        .unwrap();
    let mut got: Vec<OffsetDateTime> = rows.iter().map(|r| r.timestamp).collect();
    got.sort();
    assert_eq!(got.len(), 2);
    assert!(close(got[0], winter) && close(got[1], summer), "{got:?}");
    let since: Vec<OffsetDateTime> = store
        .audit_since("CLOCK_TEST", winter + time::Duration::seconds(1))
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.admin_username == clock_admin)
        .map(|r| r.timestamp)
        .collect();
    assert_eq!(since.len(), 1, "only the row after the bound: {since:?}");
    assert!(close(since[0], summer));

    // API tokens: stored by hash, listed newest first, revoked once (and audited once).
    let now = OffsetDateTime::now_utc();
    let token = ApiTokenRecord {
        id: 0,
        name: format!("tool {u}"),
        token_hash: format!("{:0>64}", u),
        scopes: "inventory:read audit:read".into(),
        erp_customer_name: "Acme Foods|Café Münster GmbH".into(),
        created_by: admin.clone(),
        created_at: now,
        expires_at: now + time::Duration::days(365),
        last_used_at: None,
        revoked_at: None,
        revoked_by: None,
        rows_per_minute: Some(5000),
    };
    let saved = store
        .insert_api_token(&token, &audit("API_TOKEN_CREATE", &admin, None, None))
        .await
        .unwrap();
    assert!(saved.id > 0);
    assert_eq!(
        (
            saved.name.as_str(),
            saved.scopes.as_str(),
            saved.erp_customer_name.as_str(),
            saved.rows_per_minute
        ),
        (
            token.name.as_str(),
            token.scopes.as_str(),
            token.erp_customer_name.as_str(),
            Some(5000)
        )
    );
    assert!(close(saved.expires_at, token.expires_at));
    let found = store
        .api_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .expect("found by its hash");
    assert_eq!(found.id, saved.id);
    assert!(store.api_token_by_hash("nope").await.unwrap().is_none());
    store.touch_api_token(saved.id, now).await.unwrap();
    assert!(close(
        store
            .api_token_by_hash(&token.token_hash)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .unwrap(),
        now
    ));
    assert!(
        store
            .list_api_tokens()
            .await
            .unwrap()
            .iter()
            .any(|t| t.id == saved.id)
    );
    let revoke = audit("API_TOKEN_REVOKE", &admin, None, None);
    assert!(
        store
            .revoke_api_token(saved.id, &admin, now, &revoke)
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_api_token(saved.id, &admin, now, &revoke)
            .await
            .unwrap(),
        "a second revoke changes nothing"
    );
    assert!(matches!(
        store
            .revoke_api_token(i32::MAX as i64, &admin, now, &revoke)
            .await,
        Err(StoreError::NotFound)
    ));
    let revoked = store
        .api_token_by_hash(&token.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_by.as_deref(), Some(admin.as_str()));

    let by_id = AuditFilter::parse(None, None, Some(&c.id.0.to_string()));
    assert_eq!(by_id.search, Some(AuditSearch::CustomerId(c.id)));
    assert!(store.audit_page(&by_id, None, 50).await.unwrap().0 >= 7);
    let by_email = AuditFilter::parse(None, Some("CUSTOMER_CREATE"), Some(&format!(" TRACT.{u} ")));
    assert_eq!(store.audit_page(&by_email, None, 50).await.unwrap().0, 1);
    let (admins, actions) = store.audit_facets().await.unwrap();
    assert!(admins.contains(&admin) && actions.contains(&"CUSTOMER_LOGIN".to_owned()));
    let logins = store
        .audit_since("CUSTOMER_LOGIN", now - time::Duration::minutes(1))
        .await
        .unwrap();
    assert!(
        logins
            .iter()
            .filter(|e| e.target_customer_id == Some(c.id))
            .count()
            >= 3
    );
    assert!(
        store
            .top_audit_targets("CUSTOMER_LOGIN", 100)
            .await
            .unwrap()
            .iter()
            .any(|(e, n)| *e == c.email && *n >= 1)
    );
    assert!(
        !store
            .latest_audit("CUSTOMER_LOGIN", 5)
            .await
            .unwrap()
            .is_empty()
    );
    let id = store
        .append_audit(&audit("SUITE", &admin, None, None))
        .await
        .unwrap();
    assert!(id > 0);

    // Admin sessions.
    let asid = format!("admin-{u}");
    let a = AdminSession {
        session_id: asid.clone(),
        username: admin.clone(),
        display_name: "Suite Admin".into(),
        auth_method: "local".into(),
        ip_address: None,
        user_agent: None,
        created_at: now,
        last_seen: now,
    };
    store
        .begin_admin_session(&a, &audit("ADMIN_LOGIN", &admin, None, None))
        .await
        .unwrap();
    assert_eq!(
        store
            .admin_session(&asid)
            .await
            .unwrap()
            .unwrap()
            .display_name,
        "Suite Admin"
    );
    store.touch_admin_session(&asid, later).await.unwrap();
    assert!(close(
        store.admin_session(&asid).await.unwrap().unwrap().last_seen,
        later
    ));
    assert!(
        store
            .end_admin_session(&asid, Some(&audit("ADMIN_LOGOUT", &admin, None, None)))
            .await
            .unwrap()
    );
    assert!(store.admin_session(&asid).await.unwrap().is_none());

    // Browser session records.
    let wid = format!("web-{u}");
    let rec = WebSessionRecord {
        id: wid.clone(),
        data: r#"{"auth":{"kind":"customer"}}"#.into(),
        expiry_date: now + time::Duration::hours(1),
    };
    assert!(store.create_web_session(&rec).await.unwrap());
    assert!(
        !store.create_web_session(&rec).await.unwrap(),
        "an id is never overwritten by create"
    );
    assert_eq!(
        store
            .load_web_session(&wid, now)
            .await
            .unwrap()
            .unwrap()
            .data,
        rec.data
    );
    store
        .save_web_session(&WebSessionRecord {
            data: "{}".into(),
            ..rec.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .load_web_session(&wid, now)
            .await
            .unwrap()
            .unwrap()
            .data,
        "{}"
    );
    assert!(
        store
            .load_web_session(&wid, now + time::Duration::hours(2))
            .await
            .unwrap()
            .is_none(),
        "expired records do not load"
    );
    store.delete_web_session(&wid).await.unwrap();
    assert!(store.load_web_session(&wid, now).await.unwrap().is_none());

    // Failed sign-ins.
    let name = format!("customer:{u}@example.com");
    let ip = format!("10.{}.0.1", u.len() % 200);
    for _ in 0..3 {
        store
            .record_login_failure(&name, Some(&ip), now)
            .await
            .unwrap();
    }
    store
        .record_login_failure("customer:someone-else", Some(&ip), now)
        .await
        .unwrap();
    let counts = peek(
        &store,
        &name,
        Some(&ip),
        now - time::Duration::minutes(1),
        now,
    )
    .await;
    assert_eq!(counts.by_name, 3);
    assert!(counts.by_address >= 4);
    assert_eq!(counts.by_name_and_address, 3);
    assert_eq!(counts.in_flight_by_address, 0);
    assert!(close(counts.last_for_name.unwrap(), now));
    assert_eq!(
        peek(&store, &name, None, now - time::Duration::minutes(1), now)
            .await
            .by_address,
        0
    );
    assert_eq!(
        peek(
            &store,
            &name,
            Some(&ip),
            now + time::Duration::minutes(1),
            now
        )
        .await
        .by_name,
        0,
        "outside the window"
    );
    // An attempt in flight counts for its name, never against its address, until it is
    // settled as a failure; a success takes the name's failures with it.
    let window = AttemptWindow {
        now,
        since: now - time::Duration::minutes(1),
        settled_before: now - time::Duration::minutes(1),
    };
    let (first, _) = store
        .begin_login_attempt(&name, Some(&ip), window)
        .await
        .unwrap();
    let (second, seen) = store
        .begin_login_attempt(&name, Some(&ip), window)
        .await
        .unwrap();
    assert_eq!(
        seen.by_name, 4,
        "the first attempt in flight counts for the name"
    );
    assert_eq!(seen.by_name_and_address, 4);
    assert_eq!(
        seen.by_address, counts.by_address,
        "but not against the address"
    );
    assert_eq!(seen.in_flight_by_address, 1);
    store
        .end_login_attempt(first, &name, AttemptEnd::Failed)
        .await
        .unwrap();
    store
        .end_login_attempt(second, &name, AttemptEnd::Refused)
        .await
        .unwrap();
    let after = peek(
        &store,
        &name,
        Some(&ip),
        now - time::Duration::minutes(1),
        now,
    )
    .await;
    assert_eq!(
        after.by_name, 4,
        "a failure stays, a refusal leaves no trace"
    );
    assert_eq!(after.by_address, counts.by_address + 1);
    assert_eq!(after.in_flight_by_address, 0);
    // An attempt left in flight past its settling time counts as a failure.
    let stale = AttemptWindow {
        settled_before: now + time::Duration::seconds(1),
        ..window
    };
    let (third, _) = store
        .begin_login_attempt(&name, Some(&ip), window)
        .await
        .unwrap();
    let (probe, later) = store
        .begin_login_attempt(&name, Some(&ip), stale)
        .await
        .unwrap();
    assert_eq!(later.by_address, after.by_address + 1);
    assert_eq!(later.in_flight_by_address, 0);
    store
        .end_login_attempt(probe, &name, AttemptEnd::Refused)
        .await
        .unwrap();
    store
        .end_login_attempt(third, &name, AttemptEnd::Succeeded)
        .await
        .unwrap();
    assert_eq!(
        peek(
            &store,
            &name,
            Some(&ip),
            now - time::Duration::minutes(1),
            now
        )
        .await
        .by_name,
        0
    );
    // Counted only below the limit, and said how many there were.
    let event = format!("reset:{u}@example.com");
    let since = now - time::Duration::minutes(1);
    for expected in 0..3 {
        assert_eq!(
            store
                .count_event_below(&event, 3, since, now)
                .await
                .unwrap(),
            expected
        );
    }
    assert_eq!(
        store
            .count_event_below(&event, 3, since, now)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .count_event_below(&event, 3, since, now)
            .await
            .unwrap(),
        3,
        "nothing counted at the limit"
    );
    store.clear_login_failures(&event).await.unwrap();
    store
        .record_login_failure(&name, Some(&ip), now)
        .await
        .unwrap();
    assert!(
        store
            .purge_login_failures_before(now + time::Duration::seconds(1))
            .await
            .unwrap()
            >= 1
    );

    // Settings.
    let key = format!("suite_{u}");
    assert!(store.setting(&key).await.unwrap().is_none());
    assert_eq!(
        store.setting_insert_if_absent(&key, "one").await.unwrap(),
        "one"
    );
    assert_eq!(
        store.setting_insert_if_absent(&key, "two").await.unwrap(),
        "one",
        "insert-if-absent keeps the first"
    );

    reset_token_contract(store.as_ref(), &u).await;
    two_factor_contract(store.as_ref(), &u).await;
    team_contract(store.as_ref(), &u).await;
    customer_tools_contract(store.as_ref(), &u).await;
}

/// Minimums (shared per customer and part, upserted), saved views (per account, unique
/// names, owner-only), report subscriptions (the lease: one claim wins, only the holder
/// records, a lapsed lease can be taken; deleting a view takes its reports).
async fn customer_tools_contract(store: &dyn AppStore, u: &str) {
    let now = OffsetDateTime::now_utc();
    let (acme, other) = (format!("Acme {u}"), format!("Other {u}"));
    let m = |c: &str, p: &str, q: f64| PartMinimum {
        erp_customer_name: c.into(),
        part: p.into(),
        minimum_qty: q,
        updated_at: now,
        updated_by: "a@example.com".into(),
    };
    store
        .set_part_minimum(&m(&acme, "P-1", 10.0))
        .await
        .unwrap();
    store
        .set_part_minimum(&m(&acme, "P-1", 12.5))
        .await
        .unwrap();
    store
        .set_part_minimum(&m(&other, "P-1", 3.0))
        .await
        .unwrap();
    let mine = store
        .part_minimums(Some(std::slice::from_ref(&acme)))
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].minimum_qty, 12.5, "set twice: replaced");
    assert_eq!(
        store
            .part_minimums(Some(&[acme.clone(), other.clone()]))
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(store.part_minimums(Some(&[])).await.unwrap().is_empty());
    assert!(store.remove_part_minimum(&acme, "P-1").await.unwrap());
    assert!(!store.remove_part_minimum(&acme, "P-1").await.unwrap());

    let owner = |n: &str| NewCustomer {
        first_name: "V".into(),
        last_name: None,
        email: Email::parse(&format!("{n}.{u}@example.com")).unwrap(),
        password_hash: "x".into(),
        erp_customer_name: "Acme".into(),
        must_reset_password: false,
    };
    let a = store
        .insert_customer(
            &owner("views-a"),
            &audit("CUSTOMER_CREATE", "suite", None, None),
        )
        .await
        .unwrap()
        .id;
    let b = store
        .insert_customer(
            &owner("views-b"),
            &audit("CUSTOMER_CREATE", "suite", None, None),
        )
        .await
        .unwrap()
        .id;
    let v = store
        .insert_saved_view(a, "Mine", "q=x", now, 50)
        .await
        .unwrap();
    assert!(matches!(
        store.insert_saved_view(a, "Mine", "q=y", now, 50).await,
        Err(StoreError::DuplicateName)
    ));
    store
        .insert_saved_view(b, "Mine", "q=z", now, 50)
        .await
        .unwrap();
    assert!(
        store.saved_view(b, v.id).await.unwrap().is_none(),
        "owner only"
    );
    assert!(matches!(
        store.rename_saved_view(b, v.id, "Taken", now).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .rename_saved_view(a, v.id, "Renamed", now)
            .await
            .unwrap()
            .name,
        "Renamed"
    );

    let sub = store
        .insert_subscription(
            &NewReportSubscription {
                customer_id: a,
                kind: ReportKind::Report,
                view_id: Some(v.id),
                frequency: Frequency::Weekly,
                weekday: Some(2),
                hour: 7,
                format: FileFormat::Xlsx,
                created_at: now,
                next_run_at: now - time::Duration::minutes(1),
            },
            20,
        )
        .await
        .unwrap();
    assert_eq!(sub.weekday, Some(2));
    assert_eq!(
        sub.view_name.as_deref(),
        Some("Renamed"),
        "read with its view's name"
    );
    assert!(
        store
            .due_subscriptions(now, 100)
            .await
            .unwrap()
            .contains(&sub.id)
    );
    let until = now + time::Duration::minutes(10);
    assert!(
        store
            .claim_subscription(sub.id, "one", now, until)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_subscription(sub.id, "two", now, until)
            .await
            .unwrap()
    );
    assert!(
        !store
            .due_subscriptions(now, 100)
            .await
            .unwrap()
            .contains(&sub.id)
    );
    let outcome = RunOutcome {
        next_run_at: now + time::Duration::days(7),
        attempts: 0,
        status: RunStatus::Sent,
        error: None,
        sent_at: Some(now),
    };
    assert!(
        !store
            .finish_subscription(sub.id, "two", &outcome, None)
            .await
            .unwrap()
    );
    let sent = audit("REPORT_SENT", "SYSTEM", Some(a), None);
    assert!(
        store
            .finish_subscription(sub.id, "one", &outcome, Some(&sent))
            .await
            .unwrap()
    );
    let after = store.subscription(sub.id).await.unwrap().unwrap();
    assert_eq!(after.sent_count, 1);
    assert!(after.lease_owner.is_none() && after.lease_until.is_none());
    assert_eq!(after.last_status, Some(RunStatus::Sent));
    // A lapsed lease can be taken over.
    let later = now + time::Duration::days(8);
    assert!(
        store
            .claim_subscription(sub.id, "dead", later, later)
            .await
            .unwrap()
    );
    // The holder can move its lease's end; no one else can.
    assert!(
        store
            .renew_subscription_lease(sub.id, "dead", later)
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew_subscription_lease(sub.id, "stranger", later + time::Duration::hours(1))
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_subscription(sub.id, "alive", later, later + time::Duration::minutes(10))
            .await
            .unwrap()
    );
    // Pause: owner or anyone (admin); never due while paused.
    assert!(
        !store
            .set_subscription_paused(sub.id, Some(b), true, Some("b"))
            .await
            .unwrap()
    );
    assert!(
        store
            .set_subscription_paused(sub.id, None, true, Some("admin"))
            .await
            .unwrap()
    );
    assert!(store.subscription(sub.id).await.unwrap().unwrap().paused);
    assert_eq!(store.subscriptions(Some(a)).await.unwrap().len(), 1);
    assert!(store.subscriptions(Some(b)).await.unwrap().is_empty());
    // Deleting the view takes its report.
    assert!(!store.delete_saved_view(b, v.id).await.unwrap(), "not b's");
    assert!(store.delete_saved_view(a, v.id).await.unwrap());
    assert!(store.subscription(sub.id).await.unwrap().is_none());
}

/// Two-step sign-in: an enrolment can be begun again until it is confirmed, a confirmed
/// one is never replaced by a new beginning; a step and a recovery code are each good
/// once; removing takes the codes with it and audits.
async fn team_contract(store: &dyn AppStore, u: &str) {
    let admin = format!("teamadmin_{u}");
    let now = OffsetDateTime::now_utc();
    let account = |who: &str, erp: &str| NewCustomer {
        first_name: who.into(),
        last_name: None,
        email: Email::parse(&format!("{who}.{u}@example.com")).unwrap(),
        password_hash: "pbkdf2:sha256:1000$salt$00".into(),
        erp_customer_name: erp.into(),
        must_reset_password: false,
    };
    let lead = store
        .insert_customer(
            &account("lead", "Acme Foods|Beta"),
            &audit("CUSTOMER_CREATE", &admin, None, None),
        )
        .await
        .unwrap();
    assert_eq!(
        store.team_place(lead.id).await.unwrap(),
        TeamPlace::default()
    );
    let made = audit("TEAM_MANAGER_ON", &admin, Some(lead.id), None);
    assert!(
        store
            .set_team_manager(lead.id, true, &admin, now, &made)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_team_manager(lead.id, true, &admin, now, &made)
            .await
            .unwrap(),
        "already one: nothing written"
    );
    assert!(store.team_place(lead.id).await.unwrap().manager);

    // An invitation: the account, its place, its link and its audit row, at once.
    let mut invited = account("mate", "Acme Foods");
    invited.must_reset_password = true;
    let expiry = now + time::Duration::hours(72);
    let hash = format!("{u}-invite-1");
    let actor = format!("lead.{u}@example.com");
    let mate = store
        .invite_colleague(
            lead.id,
            &invited,
            &hash,
            expiry,
            now,
            &audit("TEAM_INVITE", &actor, None, Some("x")),
        )
        .await
        .unwrap();
    assert!(mate.must_reset_password && mate.is_active);
    let place = store.team_place(mate.id).await.unwrap();
    assert!(!place.manager);
    let by = place.managed_by.clone().unwrap();
    assert_eq!(
        (by.id, by.erp_customer_name.as_str()),
        (lead.id, "Acme Foods|Beta")
    );
    assert_eq!(
        store
            .reset_token_customer(&hash, now)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(mate.id),
        "the invitation is a link to the account"
    );
    let filter = AuditFilter::parse(Some(&actor), Some("TEAM_INVITE"), None);
    let (n, rows) = store.audit_page(&filter, None, 5).await.unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        rows[0].target_customer_id,
        Some(mate.id),
        "the new account is the target"
    );
    // Every signed-in request reads the session, its account and its team place at once:
    // the same as the three reads apart, for a manager and for a colleague.
    for (who, place) in [
        (&lead, store.team_place(lead.id).await.unwrap()),
        (&mate, place),
    ] {
        let sid = format!("team-sess-{}-{u}", who.id.0);
        sign_in(store, &sid, who.id, now).await;
        let (s, c) = store.session_with_customer(&sid).await.unwrap().unwrap();
        let (s2, c2, p2) = store.session_in_team(&sid).await.unwrap().unwrap();
        assert_eq!(
            (
                s2.session_id,
                s2.customer_id,
                c2.id,
                c2.email,
                c2.erp_customer_name
            ),
            (
                s.session_id,
                s.customer_id,
                c.id,
                c.email,
                c.erp_customer_name
            )
        );
        assert_eq!(p2, place, "{who:?}");
        // With the browser session that names it: read together, or (a backend that
        // reads them apart) the record alone.
        let wid = format!("team-web-{}-{u}", who.id.0);
        browser_session(store, &wid, &format!("sid:{sid}"), now).await;
        let named = |data: &str| data.strip_prefix("sid:").map(str::to_owned);
        let (record, read) = store
            .load_web_session_signed_in(&wid, now, named)
            .await
            .unwrap();
        assert_eq!(record.unwrap().data, format!("sid:{sid}"));
        if let Some(read) = read {
            assert_eq!(read.session_id, sid);
            let (s3, c3, p3) = read.found.unwrap();
            assert_eq!((s3.session_id, c3.id, &p3), (sid.clone(), who.id, &place));
            let views = store.saved_views(who.id).await.unwrap();
            assert_eq!(
                read.saved_views
                    .map(|v| v.iter().map(|v| v.id).collect::<Vec<_>>()),
                Some(views.iter().map(|v| v.id).collect::<Vec<_>>()),
                "the account's views, as saved_views reads them"
            );
        }
        store.end_customer_session(&sid, None).await.unwrap();
        assert!(
            store.session_in_team(&sid).await.unwrap().is_none(),
            "an ended session is gone"
        );
        let (record, read) = store
            .load_web_session_signed_in(&wid, now, named)
            .await
            .unwrap();
        assert!(record.is_some());
        if let Some(read) = read {
            assert!(read.found.is_none(), "a kicked sign-in is read as gone");
            assert!(read.saved_views.is_none(), "nothing of the account is read");
        }
        let none = |_: &str| None;
        assert!(
            store
                .load_web_session_signed_in(&wid, now, none)
                .await
                .unwrap()
                .1
                .is_none(),
            "no sign-in named: none read"
        );
        let (record, read) = store
            .load_web_session_signed_in(&wid, now + time::Duration::hours(2), named)
            .await
            .unwrap();
        assert!(
            record.is_none() && read.is_none(),
            "an expired record reads nothing"
        );
        store.delete_web_session(&wid).await.unwrap();
    }
    // The same email again: refused, and nothing of it is left behind.
    let again = store
        .invite_colleague(
            lead.id,
            &invited,
            &format!("{u}-invite-x"),
            expiry,
            now,
            &audit("TEAM_INVITE", &actor, None, None),
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::DuplicateEmail)),
        "{again:?}"
    );
    assert_eq!(store.colleagues(lead.id).await.unwrap().len(), 1);
    assert_eq!(store.audit_page(&filter, None, 5).await.unwrap().0, 1);

    // A new link replaces the old one.
    let hash2 = format!("{u}-invite-2");
    store
        .reissue_invitation(
            mate.id,
            &hash2,
            expiry,
            now,
            &audit("TEAM_INVITE_RESEND", &actor, Some(mate.id), None),
        )
        .await
        .unwrap();
    assert!(
        store
            .reset_token_customer(&hash, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .reset_token_customer(&hash2, now)
            .await
            .unwrap()
            .is_some()
    );
    let resent = AuditFilter::parse(Some(&actor), Some("TEAM_INVITE_RESEND"), None);
    assert_eq!(store.audit_page(&resent, None, 5).await.unwrap().0, 1);

    let links = store.team_links().await.unwrap();
    assert!(links.managers.contains(&lead.id));
    assert!(links.members.contains(&(mate.id, lead.id)));
    assert_eq!(
        store
            .colleagues(lead.id)
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        vec![mate.id]
    );

    // Stopping the manager frees the team: colleagues keep their accounts.
    let stop = audit("TEAM_MANAGER_OFF", &admin, Some(lead.id), None);
    assert!(
        store
            .set_team_manager(lead.id, false, &admin, now, &stop)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_team_manager(lead.id, false, &admin, now, &stop)
            .await
            .unwrap()
    );
    assert_eq!(
        store.team_place(mate.id).await.unwrap(),
        TeamPlace::default()
    );
    assert!(store.colleagues(lead.id).await.unwrap().is_empty());
    assert!(store.customer_by_id(mate.id).await.unwrap().is_some());
    let offs = AuditFilter::parse(Some(&admin), Some("TEAM_MANAGER_OFF"), None);
    assert_eq!(
        store.audit_page(&offs, None, 5).await.unwrap().0,
        1,
        "audited once"
    );
}

async fn two_factor_contract(store: &dyn AppStore, u: &str) {
    let account = format!("customer:2fa-{u}");
    let now = OffsetDateTime::now_utc();
    assert!(store.two_factor(&account).await.unwrap().is_none());
    assert!(
        store
            .begin_two_factor(&account, "sealed-1", now)
            .await
            .unwrap()
    );
    assert!(
        store
            .begin_two_factor(&account, "sealed-2", now)
            .await
            .unwrap(),
        "again, before it is confirmed"
    );
    let begun = store.two_factor(&account).await.unwrap().unwrap();
    assert_eq!(begun.secret_sealed, "sealed-2");
    assert!(begun.confirmed_at.is_none() && begun.last_step.is_none());
    // Steps are not accepted before the enrolment is confirmed.
    assert!(!store.use_two_factor_step(&account, 5).await.unwrap());
    let hashes: Vec<String> = (0..10).map(|i| format!("{u}-code-{i}")).collect();
    let confirm = audit("TWO_FACTOR_ENABLE", "SYSTEM", None, None);
    assert!(
        store
            .confirm_two_factor(&account, 100, &hashes, now, &confirm)
            .await
            .unwrap()
    );
    assert!(
        !store
            .confirm_two_factor(&account, 101, &hashes, now, &confirm)
            .await
            .unwrap(),
        "once"
    );
    let on = store.two_factor(&account).await.unwrap().unwrap();
    assert!(on.confirmed_at.is_some_and(|t| close(t, now)));
    assert!(
        on.trusted_since.is_some_and(|t| close(t, now)),
        "trusted from the confirmation on"
    );
    assert_eq!(on.last_step, Some(100));
    let later = now + time::Duration::minutes(5);
    let forget = audit("TWO_FACTOR_TRUST_RESET", "SYSTEM", None, None);
    assert!(
        store
            .forget_trusted_browsers(&account, later, &forget)
            .await
            .unwrap()
    );
    assert!(
        store
            .two_factor(&account)
            .await
            .unwrap()
            .unwrap()
            .trusted_since
            .is_some_and(|t| close(t, later))
    );
    assert!(
        !store
            .forget_trusted_browsers("customer:nobody-at-all", later, &forget)
            .await
            .unwrap()
    );
    assert!(
        !store
            .begin_two_factor(&account, "sealed-3", now)
            .await
            .unwrap(),
        "a confirmed one stays"
    );
    assert_eq!(
        store
            .two_factor(&account)
            .await
            .unwrap()
            .unwrap()
            .secret_sealed,
        "sealed-2"
    );
    // Each step once, and never one at or before the last.
    assert!(!store.use_two_factor_step(&account, 100).await.unwrap());
    assert!(!store.use_two_factor_step(&account, 99).await.unwrap());
    assert!(store.use_two_factor_step(&account, 101).await.unwrap());
    assert!(!store.use_two_factor_step(&account, 101).await.unwrap());
    // Recovery codes: each once, only the account's own, audited with the use.
    assert_eq!(store.recovery_codes_left(&account).await.unwrap(), 10);
    let used = audit("TWO_FACTOR_RECOVERY_USED", "SYSTEM", None, None);
    let audited = || async {
        store
            .audit_since("TWO_FACTOR_RECOVERY_USED", now - time::Duration::seconds(5))
            .await
            .unwrap()
            .len()
    };
    let uses_before = audited().await;
    assert!(
        store
            .use_recovery_code(&account, &hashes[3], now, &used)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code(&account, &hashes[3], now, &used)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code("customer:someone-else", &hashes[4], now, &used)
            .await
            .unwrap()
    );
    assert_eq!(store.recovery_codes_left(&account).await.unwrap(), 9);
    assert_eq!(audited().await, uses_before + 1, "one row, for the one use");
    let fresh: Vec<String> = (0..10).map(|i| format!("{u}-new-{i}")).collect();
    store
        .replace_recovery_codes(&account, &fresh)
        .await
        .unwrap();
    assert_eq!(store.recovery_codes_left(&account).await.unwrap(), 10);
    assert!(
        !store
            .use_recovery_code(&account, &hashes[4], now, &used)
            .await
            .unwrap(),
        "old codes went"
    );
    // Removing: codes go too, audited once.
    let before = store
        .audit_since("TWO_FACTOR_RESET", now - time::Duration::seconds(5))
        .await
        .unwrap()
        .len();
    let removal = audit("TWO_FACTOR_RESET", "admin", None, None);
    assert!(store.remove_two_factor(&account, &removal).await.unwrap());
    assert!(!store.remove_two_factor(&account, &removal).await.unwrap());
    assert!(store.two_factor(&account).await.unwrap().is_none());
    assert_eq!(store.recovery_codes_left(&account).await.unwrap(), 0);
    let after = store
        .audit_since("TWO_FACTOR_RESET", now - time::Duration::seconds(5))
        .await
        .unwrap()
        .len();
    assert_eq!(after, before + 1);
}

/// Password reset links: a newer link replaces older ones, a link works once, before its
/// expiry, for an active account only; using it sets the hash, clears the temporary flag,
/// ends every session and audits, all at once.
async fn reset_token_contract(store: &dyn AppStore, u: &str) {
    let email = format!("reset.{u}@example.com");
    let c = store
        .insert_customer(
            &NewCustomer {
                first_name: "Re".into(),
                last_name: None,
                email: Email::parse(&email).unwrap(),
                password_hash: "old-hash".into(),
                erp_customer_name: "Acme Foods".into(),
                must_reset_password: true,
            },
            &audit("CUSTOMER_CREATE", "suite", None, Some(&email)),
        )
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let later = now + time::Duration::minutes(30);
    let (first, second) = (format!("first{u}"), format!("second{u}"));
    store
        .issue_reset_token(c.id, &first, later, now)
        .await
        .unwrap();
    assert_eq!(
        store
            .reset_token_customer(&first, now)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(c.id)
    );
    store
        .issue_reset_token(c.id, &second, later, now)
        .await
        .unwrap();
    assert!(
        store
            .reset_token_customer(&first, now)
            .await
            .unwrap()
            .is_none(),
        "a newer link replaces the older one"
    );
    assert!(
        store
            .reset_token_customer(&second, later)
            .await
            .unwrap()
            .is_none(),
        "expired at its expiry"
    );
    let reset_session = format!("reset-session-{u}");
    sign_in(store, &reset_session, c.id, now).await;
    let used_audit = audit("CUSTOMER_PW_RESET_SELF", "SYSTEM", Some(c.id), Some(&email));
    assert!(
        !store
            .use_reset_token(&first, c.id, now, "new-hash", &used_audit)
            .await
            .unwrap(),
        "a replaced link cannot be used"
    );
    assert!(
        !store
            .use_reset_token(&second, c.id, later, "new-hash", &used_audit)
            .await
            .unwrap(),
        "an expired link cannot be used"
    );
    assert!(
        store
            .use_reset_token(&second, c.id, now, "new-hash", &used_audit)
            .await
            .unwrap()
    );
    let after = store.customer_by_id(c.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash, "new-hash");
    assert!(!after.must_reset_password);
    assert!(
        store
            .session_with_customer(&reset_session)
            .await
            .unwrap()
            .is_none(),
        "every session ended"
    );
    assert!(
        !store
            .use_reset_token(&second, c.id, now, "third-hash", &used_audit)
            .await
            .unwrap(),
        "a link works once"
    );
    let audited = store
        .latest_audit("CUSTOMER_PW_RESET_SELF", 10)
        .await
        .unwrap();
    assert_eq!(
        audited
            .iter()
            .filter(|a| a.target_customer_id == Some(c.id))
            .count(),
        1
    );
    // An inactive account's link does nothing.
    let third = format!("third{u}");
    store
        .issue_reset_token(c.id, &third, later, now)
        .await
        .unwrap();
    store
        .update_customer(
            c.id,
            &CustomerChanges {
                first_name: "Re".into(),
                last_name: None,
                email: Email::parse(&email).unwrap(),
                erp_customer_name: "Acme Foods".into(),
                is_active: false,
            },
            true,
            &[],
        )
        .await
        .unwrap();
    assert!(
        store
            .reset_token_customer(&third, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .use_reset_token(&third, c.id, now, "x", &used_audit)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn store_contract_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("portal.db"), suite_zone())
        .await
        .unwrap();
    store_contract(Arc::new(store)).await;
}

/// Signs `customer` in as session `sid` (the row and its audit line).
async fn sign_in(store: &dyn AppStore, sid: &str, customer: CustomerId, now: OffsetDateTime) {
    let session = ActiveSession {
        session_id: sid.to_owned(),
        customer_id: customer,
        last_seen: now,
        ip_address: None,
        user_agent: None,
        created_at: now,
    };
    store
        .begin_customer_session(
            &session,
            &audit("CUSTOMER_LOGIN", "SYSTEM", Some(customer), None),
        )
        .await
        .unwrap();
}

/// A browser session record `id` holding `data`, live for an hour from `now`.
async fn browser_session(store: &dyn AppStore, id: &str, data: &str, now: OffsetDateTime) {
    let record = WebSessionRecord {
        id: id.to_owned(),
        data: data.to_owned(),
        expiry_date: now + time::Duration::hours(1),
    };
    assert!(store.create_web_session(&record).await.unwrap());
}

/// SQLite reads a browser session and the sign-in it names in one trip (the contract lets
/// a backend read them apart): both come back.
#[tokio::test]
async fn sqlite_reads_a_browser_session_with_its_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("portal.db"), suite_zone())
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let c = store
        .insert_customer(
            &NewCustomer {
                first_name: "One".into(),
                last_name: None,
                email: Email::parse("one.trip@example.com").unwrap(),
                password_hash: "pbkdf2:sha256:1000$salt$00".into(),
                erp_customer_name: "Acme Foods".into(),
                must_reset_password: false,
            },
            &audit("CUSTOMER_CREATE", "suite", None, None),
        )
        .await
        .unwrap();
    sign_in(&store, "one-trip", c.id, now).await;
    browser_session(&store, "web-one-trip", "one-trip", now).await;
    let (record, read) = store
        .load_web_session_signed_in("web-one-trip", now, |d| Some(d.to_owned()))
        .await
        .unwrap();
    assert!(record.is_some());
    let read = read.expect("read in the same trip");
    assert_eq!(read.session_id, "one-trip");
    assert_eq!(read.found.unwrap().1.id, c.id);
    assert_eq!(read.saved_views.map(|v| v.len()), Some(0));
    // A view saved (by any instance) is in the next read.
    store
        .insert_saved_view(c.id, "Mine", "q=gift", now, 50)
        .await
        .unwrap();
    let (_, read) = store
        .load_web_session_signed_in("web-one-trip", now, |d| Some(d.to_owned()))
        .await
        .unwrap();
    let views = read.unwrap().saved_views.unwrap();
    assert_eq!(
        views
            .iter()
            .map(|v| (v.name.as_str(), v.query.as_str()))
            .collect::<Vec<_>>(),
        [("Mine", "q=gift")]
    );
}

/// The server `key` names (an ADO connection string), or a loud skip where none is set
/// (a skip even under CI: no SQL Server runs on CI machines).
fn sql_server(key: &str, what: &str) -> Option<tiberius::Config> {
    let Ok(url) = std::env::var(key) else {
        crate::helpers::loud_skip(&format!(
            "{what}: {key} is not set (a skip even under CI: no SQL Server runs on CI machines)"
        ));
        return None;
    };
    Some(
        tiberius::Config::from_ado_string(&url)
            .unwrap_or_else(|e| panic!("{key} is an ADO connection string: {e}")),
    )
}

#[tokio::test]
async fn store_contract_on_sql_server() {
    let Some(config) = sql_server("MSSQL_TEST_URL", "SQL Server app-database tests") else {
        return;
    };
    // The first run against a server tests adoption, not a fresh schema: the old portal's
    // tables are created first (where missing), then the migrations run over them.
    create_old_portal_tables(config.clone()).await;
    let store = customer_portal::store::mssql::MssqlStore::open(
        config,
        4,
        Duration::from_secs(30),
        server_zone(),
    )
    .await
    .unwrap();
    // Migrations are idempotent: a second run changes nothing.
    assert!(store.migrate().await.unwrap().is_empty());
    store_contract(Arc::new(store)).await;
}

/// Runs tests/fixtures/old-portal-schema.sql on an empty test database, as the old portal
/// would have left it; a database that already has `Customers` is left alone.
async fn create_old_portal_tables(config: tiberius::Config) {
    use tokio_util::compat::TokioAsyncWriteCompatExt;
    let tcp = tokio::net::TcpStream::connect(config.get_addr())
        .await
        .unwrap();
    let mut client = tiberius::Client::connect(config, tcp.compat_write())
        .await
        .unwrap();
    let exists = client
        .simple_query("SELECT CAST(CASE WHEN OBJECT_ID(N'dbo.Customers', N'U') IS NULL THEN 0 ELSE 1 END AS INT)")
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .and_then(|r| r.get::<i32, _>(0))
        .unwrap_or(0);
    if exists == 1 {
        return;
    }
    for batch in customer_portal::store::mssql::split_batches(include_str!(
        "../fixtures/old-portal-schema.sql"
    )) {
        client
            .simple_query(batch)
            .await
            .unwrap()
            .into_results()
            .await
            .unwrap();
    }
}

/// The fixture's expectations, for any ERP backend.
pub async fn erp_contract(erp: Arc<dyn ErpSource>) {
    use crate::deacom_fixture::{ACME, ACME_LOWER, OMALLEY, PURE};
    let mut acme = erp.inventory_rows(&ErpScope::parse(ACME)).await.unwrap();
    acme.sort_by(|a, b| (&a.part, &a.user_lot).cmp(&(&b.part, &b.user_lot)));
    let lots: Vec<&str> = acme.iter().map(|r| r.user_lot.as_str()).collect();
    assert_eq!(
        lots,
        [
            "UA1", "UA2", "UA6", "UA9", "UA3", "UA4", "UA5", "UA7", "UA8"
        ]
    );
    let statuses: Vec<&str> = acme.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(
        statuses,
        [
            "Approved QC",
            "Quarantined",
            "Failed QC",
            "Available",
            "Issued to Job",
            "Sales Reserved",
            "Staged to Job",
            "Pending QC",
            "Approved QC"
        ]
    );
    let pos: Vec<&str> = acme.iter().map(|r| r.po.as_str()).collect();
    assert_eq!(
        pos,
        [
            "PO-111", "N/A", "N/A", "N/A", "N/A", "PO-444", "N/A", "N/A", "PO-150"
        ]
    );
    assert_eq!(acme[0].on_hand_qty, 1500.0);
    assert_eq!(acme[1].on_hand_qty, 20.5);
    assert_eq!(
        acme[0].exp_date.map(|d| d.to_string()).as_deref(),
        Some("2020-01-01")
    );
    assert_eq!(erp.inventory_rows(&ErpScope::All).await.unwrap().len(), 15);
    let two = erp
        .inventory_rows(&ErpScope::parse(&format!("{OMALLEY}|{PURE}")))
        .await
        .unwrap();
    assert_eq!(two.len(), 2, "% and _ are literal, ' and & are plain text");
    assert_eq!(
        erp.inventory_rows(&ErpScope::parse(ACME_LOWER))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        erp.inventory_rows(&ErpScope::Nothing)
            .await
            .unwrap()
            .is_empty()
    );
    let names = erp.customer_names().await.unwrap();
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.windows(2).all(|w| w[0] <= w[1]));
    erp.ping().await.unwrap();
}

#[tokio::test]
async fn erp_contract_on_the_sqlite_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deacom.db");
    crate::deacom_fixture::build(&path);
    erp_contract(Arc::new(DeacomSqlite::open(&path).unwrap())).await;
}

#[tokio::test]
async fn erp_contract_on_sql_server() {
    let Some(config) = sql_server("MSSQL_ERP_TEST_URL", "SQL Server ERP tests") else {
        return;
    };
    load_fixture_into_sql_server(config.clone()).await;
    let erp =
        customer_portal::erp::deacom_mssql::DeacomMssql::new(config, 2, Duration::from_secs(30));
    erp_contract(Arc::new(erp)).await;
}

/// Creates the demo Deacom tables (db/deacom-demo/mssql.sql) and copies the hand-built
/// fixture into them, every value as a parameter.
async fn load_fixture_into_sql_server(config: tiberius::Config) {
    use tokio_util::compat::TokioAsyncWriteCompatExt;
    let tcp = tokio::net::TcpStream::connect(config.get_addr())
        .await
        .unwrap();
    let mut client = tiberius::Client::connect(config, tcp.compat_write())
        .await
        .unwrap();
    for batch in
        customer_portal::store::mssql::split_batches(include_str!("../../db/deacom-demo/mssql.sql"))
    {
        client
            .simple_query(batch)
            .await
            .unwrap()
            .into_results()
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deacom.db");
    crate::deacom_fixture::build(&path);
    let sqlite = rusqlite::Connection::open(&path).unwrap();
    for table in [
        "dmpr1", "dmunit", "dmloc", "dmprod", "dtfifo", "dtljob", "dtord", "dttord",
    ] {
        client
            .simple_query(format!("DELETE FROM dbo.{table}"))
            .await
            .unwrap()
            .into_results()
            .await
            .unwrap();
        let mut stmt = sqlite.prepare(&format!("SELECT * FROM {table}")).unwrap();
        // dtljob.lj_id is an identity column there: rows keep their order without it.
        let cols: Vec<String> = stmt
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .filter(|c| c != "lj_id")
            .collect();
        let all: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let rows: Vec<Vec<rusqlite::types::Value>> = stmt
            .query_map([], |r| {
                (0..all.len())
                    .map(|i| r.get::<_, rusqlite::types::Value>(i))
                    .collect()
            })
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let sql = format!(
            "INSERT INTO dbo.{table} ({}) VALUES ({})",
            cols.join(", "),
            customer_portal::mssql::placeholders(1, cols.len())
        );
        for row in rows {
            let mut q = tiberius::Query::new(sql.clone());
            for (name, v) in all.iter().zip(row) {
                if name == "lj_id" {
                    continue;
                }
                match v {
                    rusqlite::types::Value::Null => q.bind(Option::<&str>::None),
                    rusqlite::types::Value::Integer(i) => q.bind(i as i32),
                    rusqlite::types::Value::Real(f) => q.bind(f),
                    rusqlite::types::Value::Text(t) => q.bind(t),
                    rusqlite::types::Value::Blob(_) => unreachable!("the fixture has no blobs"),
                }
            }
            q.execute(&mut client).await.unwrap();
        }
    }
}

/// A server that accepts connections and never answers: the slowest possible ERP.
async fn black_hole() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    port
}

#[tokio::test]
async fn an_unanswering_sql_server_erp_is_unavailable_within_the_timeout() {
    let port = black_hole().await.to_string();
    let hash = crate::helpers::cheap_hash("admin-password-42");
    let app = crate::helpers::spawn_app_with(
        &[
            ("ERP_DB_SERVER", "127.0.0.1"),
            ("ERP_DB_PORT", &port),
            ("ERP_DB_NAME", "Deacom"),
            ("ERP_DB_USERNAME", "portal_ro"),
            ("ERP_DB_PASSWORD", "secret"),
            ("ERP_DB_TIMEOUT", "1"),
            ("ERP_DB_DRIVER", "ODBC Driver 17 for SQL Server"),
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef0123456789"),
            ("ADMIN_PASSWORD_HASH", &hash),
            ("SMTP_SERVER", "127.0.0.1"),
            ("EMAIL_FROM", "portal@example.com"),
            ("APP_BASE_URL", "http://127.0.0.1"),
        ],
        false,
    )
    .await;
    let customer = app.customer_browser("Acme Foods").await;
    let started = std::time::Instant::now();
    let gql = customer.graphql("{ inventory { totalCount } }").await;
    assert_eq!(gql["errors"][0]["extensions"]["code"], "ERP_UNAVAILABLE");
    let page = customer.get("/inventory").await;
    assert_eq!(page.status(), 503);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("temporarily unavailable")
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    let health: serde_json::Value = customer.get("/healthz").await.json().await.unwrap();
    assert_eq!(health["erp"]["backend"], "deacom-mssql");
    assert_eq!(health["erp"]["status"], "down");
}

/// The contract suite runs with local-time columns in a zone with daylight saving time, so
/// every round trip through `AuditLog.timestamp`, `created_date` and `last_login_date`
/// also proves the conversion.
fn suite_zone() -> customer_portal::domain::Zone {
    customer_portal::domain::Zone::parse("America/Chicago").expect("tzdb knows Chicago")
}

/// SQL Server fills `created_date` with its own `GETDATE()`, so its suite needs the server's
/// zone: `MSSQL_TEST_TIME_ZONE`, UTC when unset (as SQL Server in a container runs).
fn server_zone() -> customer_portal::domain::Zone {
    let name = std::env::var("MSSQL_TEST_TIME_ZONE").unwrap_or_else(|_| "UTC".to_owned());
    customer_portal::domain::Zone::parse(&name).expect("MSSQL_TEST_TIME_ZONE is a zone name")
}

/// The counts an attempt would see now, leaving no trace.
async fn peek(
    store: &Arc<dyn AppStore>,
    name: &str,
    ip: Option<&str>,
    since: OffsetDateTime,
    now: OffsetDateTime,
) -> LoginFailureCounts {
    let window = AttemptWindow {
        now,
        since,
        settled_before: now - time::Duration::minutes(2),
    };
    let (id, counts) = store.begin_login_attempt(name, ip, window).await.unwrap();
    store
        .end_login_attempt(id, name, AttemptEnd::Refused)
        .await
        .unwrap();
    counts
}
