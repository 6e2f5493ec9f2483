//! The audit log, sign-in failures and settings.

use super::*;

#[async_trait]
impl AuditStore for MssqlStore {
    async fn set_audit_append_only(&self, on: bool) -> StoreResult<()> {
        let sql = if on {
            sql::AUDIT_APPEND_ONLY_ON
        } else {
            sql::AUDIT_APPEND_ONLY_OFF
        };
        self.exec("set_audit_append_only", sql, &[])
            .await
            .map(|_| ())
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<i64> {
        Ok(self
            .one(
                "append_audit",
                sql::APPEND_AUDIT,
                &audit_params(entry, &self.zone),
                |r| int(r, 0),
            )
            .await?
            .unwrap_or(0))
    }

    async fn audit_page(
        &self,
        filter: &AuditFilter,
        before_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<(u64, Vec<AuditEntry>)> {
        let (admin, action) = (filter.admin_username.clone(), filter.action_type.clone());
        let (id, email) = filter.search_parts();
        let pattern = email.map(|s| format!("%{}%", mssql::like_escape(s)));
        let filters = [
            P::Text(admin),
            P::Text(action),
            P::Text(pattern),
            P::Int(id),
        ];
        let total = self
            .one("audit_count", sql::AUDIT_COUNT, &filters, |r| int(r, 0))
            .await?
            .unwrap_or(0) as u64;
        let mut params = filters.to_vec();
        params.extend([P::Int(before_id), P::Int(Some(limit as i64))]);
        let entries = self
            .many("audit_page", sql::AUDIT_PAGE, &params, |r| {
                audit_entry(r, &self.zone)
            })
            .await?;
        Ok((total, entries))
    }

    async fn audit_facets(&self) -> StoreResult<(Vec<String>, Vec<String>)> {
        let admins = self
            .many("audit_admins", sql::AUDIT_ADMINS, &[], |r| req_text(r, 0))
            .await?;
        let actions = self
            .many("audit_actions", sql::AUDIT_ACTIONS, &[], |r| req_text(r, 0))
            .await?;
        Ok((admins, actions))
    }

    async fn audit_since(
        &self,
        action_type: &str,
        since: OffsetDateTime,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.many(
            "audit_since",
            sql::AUDIT_SINCE,
            &[t(action_type), P::Time(self.zone.local(since))],
            |r| audit_entry(r, &self.zone),
        )
        .await
    }

    async fn top_audit_targets(
        &self,
        action_type: &str,
        limit: u32,
    ) -> StoreResult<Vec<(String, u64)>> {
        self.many(
            "top_audit_targets",
            sql::TOP_AUDIT_TARGETS,
            &[t(action_type), P::Int(Some(limit as i64))],
            |r| Ok((req_text(r, 0)?, int(r, 1)? as u64)),
        )
        .await
    }

    async fn latest_audit(&self, action_type: &str, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        self.many(
            "latest_audit",
            sql::LATEST_AUDIT,
            &[t(action_type), P::Int(Some(limit as i64))],
            |r| audit_entry(r, &self.zone),
        )
        .await
    }
}

#[async_trait]
impl LoginThrottleStore for MssqlStore {
    async fn record_login_failure(
        &self,
        login_name: &str,
        ip: Option<&str>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let params = [
            P::Time(utc(at)),
            t(login_name),
            P::Text(ip.map(str::to_owned)),
        ];
        self.exec("record_login_failure", sql::RECORD_LOGIN_FAILURE, &params)
            .await
            .map(|_| ())
    }

    async fn begin_login_attempt(
        &self,
        login_name: &str,
        ip: Option<&str>,
        w: AttemptWindow,
    ) -> StoreResult<(i64, LoginFailureCounts)> {
        let params = [
            t(login_name),
            P::Text(ip.map(str::to_owned)),
            P::Time(utc(w.since)),
            P::Time(utc(w.settled_before)),
            P::Time(utc(w.now)),
            t(lock_name("login-name", login_name)),
            P::Text(ip.map(|ip| lock_name("login-ip", ip))),
        ];
        self.one(
            "begin_login_attempt",
            sql::BEGIN_LOGIN_ATTEMPT,
            &params,
            |r| {
                Ok((
                    int(r, 5)?,
                    LoginFailureCounts {
                        by_name: int(r, 0)? as u64,
                        by_address: int(r, 1)? as u64,
                        by_name_and_address: int(r, 2)? as u64,
                        in_flight_by_address: int(r, 3)? as u64,
                        last_for_name: read_utc(r, 4)?,
                    },
                ))
            },
        )
        .await?
        .ok_or_else(|| StoreError::Backend("the attempt was not recorded".into()))
    }

    async fn end_login_attempt(
        &self,
        attempt: i64,
        login_name: &str,
        end: AttemptEnd,
    ) -> StoreResult<()> {
        let id = P::Int(Some(attempt));
        match end {
            AttemptEnd::Refused => {
                self.exec("refused_login_attempt", sql::REFUSED_LOGIN_ATTEMPT, &[id])
                    .await
            }
            AttemptEnd::Failed => {
                self.exec("failed_login_attempt", sql::FAILED_LOGIN_ATTEMPT, &[id])
                    .await
            }
            AttemptEnd::Succeeded => {
                self.exec(
                    "succeeded_login_attempt",
                    sql::SUCCEEDED_LOGIN_ATTEMPT,
                    &[id, t(login_name)],
                )
                .await
            }
        }
        .map(|_| ())
    }

    async fn count_event_below(
        &self,
        name: &str,
        limit: u64,
        since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        let params = [
            t(name),
            P::Int(Some(i64::try_from(limit).unwrap_or(i64::MAX))),
            P::Time(utc(since)),
            P::Time(utc(now)),
            t(lock_name("event", name)),
        ];
        Ok(self
            .one("count_event_below", sql::COUNT_EVENT_BELOW, &params, |r| {
                int(r, 0)
            })
            .await?
            .unwrap_or(0) as u64)
    }

    async fn clear_login_failures(&self, login_name: &str) -> StoreResult<()> {
        self.exec(
            "clear_login_failures",
            sql::CLEAR_LOGIN_FAILURES,
            &[t(login_name)],
        )
        .await
        .map(|_| ())
    }

    async fn purge_login_failures_before(&self, cutoff: OffsetDateTime) -> StoreResult<u64> {
        self.exec(
            "purge_login_failures",
            sql::PURGE_LOGIN_FAILURES,
            &[P::Time(utc(cutoff))],
        )
        .await
    }
}

#[async_trait]
impl SettingsStore for MssqlStore {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        self.one("setting", sql::SETTING, &[t(key)], |r| req_text(r, 0))
            .await
    }

    async fn setting_insert_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        self.one(
            "setting_insert_if_absent",
            sql::SETTING_INSERT_IF_ABSENT,
            &[t(key), t(value)],
            |r| req_text(r, 0),
        )
        .await?
        .ok_or_else(|| StoreError::Backend("setting not stored".into()))
    }

    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        self.exec("set_setting", sql::SET_SETTING, &[t(key), t(value)])
            .await
            .map(|_| ())
    }
}

/// An application lock's name: a purpose and a SHA-256 of the key, so any key fits the
/// 255 characters `sp_getapplock` takes and none can collide with another purpose's.
fn lock_name(purpose: &str, key: &str) -> String {
    use sha2::Digest;
    format!(
        "{purpose}:{}",
        hex::encode(sha2::Sha256::digest(key.as_bytes()))
    )
}
