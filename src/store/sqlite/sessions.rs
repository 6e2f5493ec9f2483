//! Customer sessions (`ActiveSessions`), admin sessions and browser session records.

use super::*;

#[async_trait]
impl ActiveSessionStore for SqliteStore {
    async fn begin_customer_session(
        &self,
        session: &ActiveSession,
        audit: &NewAuditEntry,
    ) -> StoreResult<()> {
        let s = session.clone();
        let audit = audit.clone();
        self.with_conn("begin_customer_session", move |c| {
            let zone = c.zone.clone();
            // The same order as every backend's transactions: Customers, then sessions.
            let tx = c.transaction().map_err(backend)?;
            tx.execute_cached(
                sql::RECORD_LAST_LOGIN,
                params![local_ts(s.created_at, &zone), s.customer_id.0],
            )
            .map_err(backend)?;
            tx.execute_cached(
                sql::INSERT_ACTIVE_SESSION,
                params![
                    s.session_id,
                    s.customer_id.0,
                    ts(s.last_seen),
                    s.ip_address,
                    s.user_agent,
                    ts(s.created_at)
                ],
            )
            .map_err(backend)?;
            insert_audit(&tx, &audit, &zone).map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn session_with_customer(
        &self,
        session_id: &str,
    ) -> StoreResult<Option<(ActiveSession, Customer)>> {
        let sid = session_id.to_owned();
        self.with_conn("session_with_customer", move |c| {
            let zone = c.zone.clone();
            c.query_row_cached(sql::SESSION_WITH_CUSTOMER, [sid], |r| {
                Ok((active_session(r)?, customer_from_row(r, 6, &zone)?))
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn touch_session(&self, session_id: &str, at: OffsetDateTime) -> StoreResult<()> {
        let sid = session_id.to_owned();
        self.with_conn("touch_session", move |c| {
            c.execute_cached(sql::TOUCH_SESSION, params![ts(at), sid])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn end_customer_session(
        &self,
        session_id: &str,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool> {
        let (sid, audit) = (session_id.to_owned(), audit.cloned());
        self.with_conn("end_customer_session", move |c| {
            delete_with_audit(c, sql::END_CUSTOMER_SESSION, &sid, audit.as_ref())
        })
        .await
    }

    async fn list_active_sessions(&self) -> StoreResult<Vec<ActiveSession>> {
        self.with_conn("list_active_sessions", |c| {
            let mut stmt = c
                .prepare_cached(sql::LIST_ACTIVE_SESSIONS)
                .map_err(backend)?;
            let rows = stmt.query_map([], active_session).map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn customer_sessions(&self, customer: CustomerId) -> StoreResult<Vec<ActiveSession>> {
        self.with_conn("customer_sessions", move |c| {
            let mut stmt = c.prepare_cached(sql::CUSTOMER_SESSIONS).map_err(backend)?;
            let rows = stmt
                .query_map([customer.0], active_session)
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn end_other_customer_sessions(
        &self,
        customer: CustomerId,
        keep: &str,
        audit: &NewAuditEntry,
    ) -> StoreResult<u64> {
        let (keep, audit) = (keep.to_owned(), audit.clone());
        self.with_conn("end_other_customer_sessions", move |c| {
            write_with_audit(c, Some(&audit), |tx| {
                tx.execute_cached(sql::END_OTHER_SESSIONS, params![customer.0, keep])
            })
            .map(|n| n as u64)
        })
        .await
    }

    async fn purge_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> StoreResult<u64> {
        self.with_conn("purge_sessions", move |c| {
            c.execute_cached(sql::PURGE_SESSIONS, [ts(idle_before), ts(created_before)])
                .map(|n| n as u64)
                .map_err(backend)
        })
        .await
    }
}

fn web_session(r: &rusqlite::Row<'_>) -> rusqlite::Result<WebSessionRecord> {
    Ok(WebSessionRecord {
        id: r.get(0)?,
        data: r.get(1)?,
        expiry_date: read_ts(r, 2)?,
    })
}

pub(super) fn active_session(r: &rusqlite::Row<'_>) -> rusqlite::Result<ActiveSession> {
    Ok(ActiveSession {
        session_id: r.get(0)?,
        customer_id: CustomerId(r.get(1)?),
        last_seen: read_ts(r, 2)?,
        ip_address: r.get(3)?,
        user_agent: r.get(4)?,
        created_at: read_ts(r, 5)?,
    })
}

fn delete_with_audit(
    c: &mut Db,
    delete: &str,
    id: &str,
    audit: Option<&NewAuditEntry>,
) -> StoreResult<bool> {
    write_with_audit(c, audit, |tx| tx.execute(delete, [id])).map(|n| n > 0)
}

fn admin_session_from_row(r: &Row<'_>) -> rusqlite::Result<AdminSession> {
    Ok(AdminSession {
        session_id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        auth_method: r.get(3)?,
        ip_address: r.get(4)?,
        user_agent: r.get(5)?,
        created_at: read_ts(r, 6)?,
        last_seen: read_ts(r, 7)?,
    })
}

#[async_trait]
impl AdminSessionStore for SqliteStore {
    async fn begin_admin_session(
        &self,
        session: &AdminSession,
        audit: &NewAuditEntry,
    ) -> StoreResult<()> {
        let s = session.clone();
        let audit = audit.clone();
        self.with_conn("begin_admin_session", move |c| {
            let zone = c.zone.clone();
            let tx = c.transaction().map_err(backend)?;
            tx.execute_cached(
                sql::BEGIN_ADMIN_SESSION,
                params![
                    s.session_id,
                    s.username,
                    s.display_name,
                    s.auth_method,
                    s.ip_address,
                    s.user_agent,
                    ts(s.created_at),
                    ts(s.last_seen)
                ],
            )
            .map_err(backend)?;
            insert_audit(&tx, &audit, &zone).map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn admin_session(&self, session_id: &str) -> StoreResult<Option<AdminSession>> {
        let sid = session_id.to_owned();
        self.with_conn("admin_session", move |c| {
            c.query_row_cached(sql::ADMIN_SESSION, [sid], admin_session_from_row)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn touch_admin_session(&self, session_id: &str, at: OffsetDateTime) -> StoreResult<()> {
        let sid = session_id.to_owned();
        self.with_conn("touch_admin_session", move |c| {
            c.execute_cached(sql::TOUCH_ADMIN_SESSION, params![ts(at), sid])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn end_admin_session(
        &self,
        session_id: &str,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool> {
        let (sid, audit) = (session_id.to_owned(), audit.cloned());
        self.with_conn("end_admin_session", move |c| {
            delete_with_audit(c, sql::END_ADMIN_SESSION, &sid, audit.as_ref())
        })
        .await
    }

    async fn purge_admin_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> StoreResult<u64> {
        self.with_conn("purge_admin_sessions", move |c| {
            c.execute_cached(
                sql::PURGE_ADMIN_SESSIONS,
                [ts(idle_before), ts(created_before)],
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl WebSessionStore for SqliteStore {
    async fn create_web_session(&self, record: &WebSessionRecord) -> StoreResult<bool> {
        let r = record.clone();
        self.with_conn("create_web_session", move |c| {
            c.execute_cached(
                sql::CREATE_WEB_SESSION,
                params![r.id, r.data, ts(r.expiry_date)],
            )
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }

    async fn save_web_session(&self, record: &WebSessionRecord) -> StoreResult<()> {
        let r = record.clone();
        self.with_conn("save_web_session", move |c| {
            c.execute_cached(
                sql::SAVE_WEB_SESSION,
                params![r.id, r.data, ts(r.expiry_date)],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn load_web_session(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<WebSessionRecord>> {
        let id = id.to_owned();
        self.with_conn("load_web_session", move |c| {
            c.query_row_cached(sql::LOAD_WEB_SESSION, params![id, ts(now)], web_session)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn load_web_session_signed_in(
        &self,
        id: &str,
        now: OffsetDateTime,
        customer_session: for<'a> fn(&'a str) -> Option<String>,
    ) -> StoreResult<(Option<WebSessionRecord>, Option<ReadSignIn>)> {
        let id = id.to_owned();
        self.with_conn("load_web_session_signed_in", move |c| {
            let record = c
                .query_row_cached(sql::LOAD_WEB_SESSION, params![id, ts(now)], web_session)
                .optional()
                .map_err(backend)?;
            let Some(sid) = record.as_ref().and_then(|r| customer_session(&r.data)) else {
                return Ok((record, None));
            };
            let zone = c.zone.clone();
            let found = c
                .query_row_cached(sql::SESSION_IN_TEAM, [&sid], |r| {
                    super::teams::session_in_team_row(r, &zone)
                })
                .optional()
                .map_err(backend)?;
            let saved_views = match &found {
                Some((_, customer, _)) => {
                    Some(super::features::saved_views_of(c, customer.id).map_err(backend)?)
                }
                None => None,
            };
            Ok((
                record,
                Some(ReadSignIn {
                    session_id: sid,
                    found,
                    saved_views,
                }),
            ))
        })
        .await
    }

    async fn delete_web_session(&self, id: &str) -> StoreResult<()> {
        let id = id.to_owned();
        self.with_conn("delete_web_session", move |c| {
            c.execute_cached(sql::DELETE_WEB_SESSION, [id])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn purge_expired_web_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
        self.with_conn("purge_web_sessions", move |c| {
            c.execute_cached(sql::PURGE_EXPIRED_WEB_SESSIONS, [ts(now)])
                .map(|n| n as u64)
                .map_err(backend)
        })
        .await
    }
}
