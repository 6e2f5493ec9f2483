//! Customer sessions (`ActiveSessions`), admin sessions and browser session records.

use super::*;

#[async_trait]
impl ActiveSessionStore for MssqlStore {
    async fn begin_customer_session(
        &self,
        s: &ActiveSession,
        audit: &NewAuditEntry,
    ) -> StoreResult<()> {
        let mut params = vec![
            t(&s.session_id),
            P::Int(Some(s.customer_id.0)),
            P::Time(utc(s.last_seen)),
            P::Text(s.ip_address.clone()),
            P::Text(s.user_agent.clone()),
            P::Time(utc(s.created_at)),
        ];
        params.extend(audit_params(audit, &self.zone));
        // last_login_date is a local-time column; the session's times are UTC.
        params.push(P::Time(self.zone.local(s.created_at)));
        self.exec(
            "begin_customer_session",
            sql::BEGIN_CUSTOMER_SESSION,
            &params,
        )
        .await
        .map(|_| ())
    }

    async fn session_with_customer(
        &self,
        session_id: &str,
    ) -> StoreResult<Option<(ActiveSession, Customer)>> {
        self.one(
            "session_with_customer",
            sql::SESSION_WITH_CUSTOMER,
            &[t(session_id)],
            |r| Ok((active_session(r)?, customer(r, 6, &self.zone)?)),
        )
        .await
    }

    async fn touch_session(&self, session_id: &str, at: OffsetDateTime) -> StoreResult<()> {
        self.exec(
            "touch_session",
            sql::TOUCH_SESSION,
            &[P::Time(utc(at)), t(session_id)],
        )
        .await
        .map(|_| ())
    }

    async fn end_customer_session(
        &self,
        session_id: &str,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool> {
        let mut params = vec![t(session_id), P::Bit(audit.is_some())];
        params.extend(audit_params(
            audit.unwrap_or(&placeholder_audit()),
            &self.zone,
        ));
        Ok(self
            .one(
                "end_customer_session",
                sql::END_CUSTOMER_SESSION,
                &params,
                |r| int(r, 0),
            )
            .await?
            .unwrap_or(0)
            > 0)
    }

    async fn list_active_sessions(&self) -> StoreResult<Vec<ActiveSession>> {
        self.many(
            "list_active_sessions",
            sql::LIST_ACTIVE_SESSIONS,
            &[],
            active_session,
        )
        .await
    }

    async fn customer_sessions(&self, customer: CustomerId) -> StoreResult<Vec<ActiveSession>> {
        self.many(
            "customer_sessions",
            sql::CUSTOMER_SESSIONS,
            &[P::Int(Some(customer.0))],
            active_session,
        )
        .await
    }

    async fn end_other_customer_sessions(
        &self,
        customer: CustomerId,
        keep: &str,
        audit: &NewAuditEntry,
    ) -> StoreResult<u64> {
        let mut params = vec![P::Int(Some(customer.0)), t(keep)];
        params.extend(audit_params(audit, &self.zone));
        Ok(self
            .one(
                "end_other_customer_sessions",
                sql::END_OTHER_CUSTOMER_SESSIONS,
                &params,
                |r| int(r, 0),
            )
            .await?
            .unwrap_or(0)
            .max(0) as u64)
    }

    async fn purge_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> StoreResult<u64> {
        self.exec(
            "purge_sessions",
            sql::PURGE_SESSIONS,
            &[P::Time(utc(idle_before)), P::Time(utc(created_before))],
        )
        .await
    }
}

fn admin_session(row: &Row) -> StoreResult<AdminSession> {
    Ok(AdminSession {
        session_id: req_text(row, 0)?,
        username: req_text(row, 1)?,
        display_name: req_text(row, 2)?,
        auth_method: req_text(row, 3)?,
        ip_address: text(row, 4)?,
        user_agent: text(row, 5)?,
        created_at: req_utc(row, 6)?,
        last_seen: req_utc(row, 7)?,
    })
}

#[async_trait]
impl AdminSessionStore for MssqlStore {
    async fn begin_admin_session(
        &self,
        s: &AdminSession,
        audit: &NewAuditEntry,
    ) -> StoreResult<()> {
        let mut params = vec![
            t(&s.session_id),
            t(&s.username),
            t(&s.display_name),
            t(&s.auth_method),
            P::Text(s.ip_address.clone()),
            P::Text(s.user_agent.clone()),
            P::Time(utc(s.created_at)),
            P::Time(utc(s.last_seen)),
        ];
        params.extend(audit_params(audit, &self.zone));
        self.exec("begin_admin_session", sql::BEGIN_ADMIN_SESSION, &params)
            .await
            .map(|_| ())
    }

    async fn admin_session(&self, session_id: &str) -> StoreResult<Option<AdminSession>> {
        self.one(
            "admin_session",
            sql::ADMIN_SESSION,
            &[t(session_id)],
            admin_session,
        )
        .await
    }

    async fn touch_admin_session(&self, session_id: &str, at: OffsetDateTime) -> StoreResult<()> {
        self.exec(
            "touch_admin_session",
            sql::TOUCH_ADMIN_SESSION,
            &[P::Time(utc(at)), t(session_id)],
        )
        .await
        .map(|_| ())
    }

    async fn end_admin_session(
        &self,
        session_id: &str,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool> {
        let mut params = vec![t(session_id), P::Bit(audit.is_some())];
        params.extend(audit_params(
            audit.unwrap_or(&placeholder_audit()),
            &self.zone,
        ));
        Ok(self
            .one("end_admin_session", sql::END_ADMIN_SESSION, &params, |r| {
                int(r, 0)
            })
            .await?
            .unwrap_or(0)
            > 0)
    }

    async fn purge_admin_sessions(
        &self,
        idle_before: OffsetDateTime,
        created_before: OffsetDateTime,
    ) -> StoreResult<u64> {
        self.exec(
            "purge_admin_sessions",
            sql::PURGE_ADMIN_SESSIONS,
            &[P::Time(utc(idle_before)), P::Time(utc(created_before))],
        )
        .await
    }
}

#[async_trait]
impl WebSessionStore for MssqlStore {
    async fn create_web_session(&self, r: &WebSessionRecord) -> StoreResult<bool> {
        let params = [t(&r.id), t(&r.data), P::Time(utc(r.expiry_date))];
        match self
            .one(
                "create_web_session",
                sql::CREATE_WEB_SESSION,
                &params,
                |row| int(row, 0),
            )
            .await
        {
            Ok(v) => Ok(v.unwrap_or(0) == 1),
            // A concurrent insert of the same id: the id is taken.
            Err(StoreError::DuplicateEmail) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn save_web_session(&self, r: &WebSessionRecord) -> StoreResult<()> {
        self.exec(
            "save_web_session",
            sql::SAVE_WEB_SESSION,
            &[t(&r.id), t(&r.data), P::Time(utc(r.expiry_date))],
        )
        .await
        .map(|_| ())
    }

    async fn load_web_session(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<WebSessionRecord>> {
        self.one(
            "load_web_session",
            sql::LOAD_WEB_SESSION,
            &[t(id), P::Time(utc(now))],
            |r| {
                Ok(WebSessionRecord {
                    id: req_text(r, 0)?,
                    data: req_text(r, 1)?,
                    expiry_date: req_utc(r, 2)?,
                })
            },
        )
        .await
    }

    async fn delete_web_session(&self, id: &str) -> StoreResult<()> {
        self.exec("delete_web_session", sql::DELETE_WEB_SESSION, &[t(id)])
            .await
            .map(|_| ())
    }

    async fn purge_expired_web_sessions(&self, now: OffsetDateTime) -> StoreResult<u64> {
        self.exec(
            "purge_web_sessions",
            sql::PURGE_WEB_SESSIONS,
            &[P::Time(utc(now))],
        )
        .await
    }
}
