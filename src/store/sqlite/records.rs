//! The audit log, sign-in failures and settings.

use super::*;

#[async_trait]
impl AuditStore for SqliteStore {
    async fn set_audit_append_only(&self, on: bool) -> StoreResult<()> {
        self.with_conn("set_audit_append_only", move |c| {
            c.execute_batch(if on {
                "CREATE TRIGGER IF NOT EXISTS AuditLog_no_update BEFORE UPDATE ON AuditLog
                 BEGIN SELECT RAISE(ABORT, 'AuditLog is append-only'); END;
                 CREATE TRIGGER IF NOT EXISTS AuditLog_no_delete BEFORE DELETE ON AuditLog
                 BEGIN SELECT RAISE(ABORT, 'AuditLog is append-only'); END;"
            } else {
                "DROP TRIGGER IF EXISTS AuditLog_no_update; DROP TRIGGER IF EXISTS AuditLog_no_delete;"
            })
            .map_err(backend)
        })
        .await
    }

    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<i64> {
        let e = entry.clone();
        self.with_conn("append_audit", move |c| {
            let zone = c.zone.clone();
            insert_audit(c, &e, &zone).map_err(backend)
        })
        .await
    }

    async fn audit_page(
        &self,
        filter: &AuditFilter,
        before_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<(u64, Vec<AuditEntry>)> {
        let (admin, action) = (filter.admin_username.clone(), filter.action_type.clone());
        let (search_id, email) = filter.search_parts();
        let pattern = email.map(|s| format!("%{}%", like_escape(s)));
        self.with_conn("audit_page", move |c| {
            let zone = c.zone.clone();
            let total: i64 = c
                .query_row_cached(
                    sql::AUDIT_COUNT,
                    params![admin, action, pattern, search_id],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            let mut stmt = c.prepare_cached(sql::AUDIT_PAGE).map_err(backend)?;
            let rows = stmt
                .query_map(
                    params![admin, action, pattern, search_id, limit, before_id],
                    |r| audit_from_row(r, &zone),
                )
                .map_err(backend)?;
            Ok((
                total as u64,
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(backend)?,
            ))
        })
        .await
    }

    async fn audit_facets(&self) -> StoreResult<(Vec<String>, Vec<String>)> {
        self.with_conn("audit_facets", |c| {
            let list = |sql: &str| -> rusqlite::Result<Vec<String>> {
                let mut stmt = c.prepare(sql)?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                rows.collect()
            };
            let admins = list(sql::AUDIT_ADMINS).map_err(backend)?;
            let actions = list(sql::AUDIT_ACTIONS).map_err(backend)?;
            Ok((admins, actions))
        })
        .await
    }

    async fn audit_since(
        &self,
        action_type: &str,
        since: OffsetDateTime,
    ) -> StoreResult<Vec<AuditEntry>> {
        let action = action_type.to_owned();
        self.with_conn("audit_since", move |c| {
            let zone = c.zone.clone();
            let mut stmt = c.prepare_cached(sql::AUDIT_SINCE).map_err(backend)?;
            let rows = stmt
                .query_map(params![action, local_ts(since, &zone)], |r| {
                    audit_from_row(r, &zone)
                })
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn top_audit_targets(
        &self,
        action_type: &str,
        limit: u32,
    ) -> StoreResult<Vec<(String, u64)>> {
        let action = action_type.to_owned();
        self.with_conn("top_audit_targets", move |c| {
            let mut stmt = c.prepare_cached(sql::TOP_AUDIT_TARGETS).map_err(backend)?;
            let rows = stmt
                .query_map(params![action, limit], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn latest_audit(&self, action_type: &str, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let action = action_type.to_owned();
        self.with_conn("latest_audit", move |c| {
            let zone = c.zone.clone();
            let mut stmt = c.prepare_cached(sql::LATEST_AUDIT).map_err(backend)?;
            let rows = stmt
                .query_map(params![action, limit], |r| audit_from_row(r, &zone))
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }
}

/// Deletes one session row and, only if there was one, appends `audit` — atomically.
pub(super) fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn audit_from_row(r: &Row<'_>, zone: &Zone) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        timestamp: read_local(r, 1, zone)?,
        admin_username: r.get(2)?,
        action_type: r.get(3)?,
        target_customer_id: r.get::<_, Option<i64>>(4)?.map(CustomerId),
        target_customer_email: r.get(5)?,
        details: r.get(6)?,
    })
}

#[async_trait]
impl LoginThrottleStore for SqliteStore {
    async fn record_login_failure(
        &self,
        login_name: &str,
        ip: Option<&str>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let (name, ip) = (login_name.to_owned(), ip.map(str::to_owned));
        self.with_conn("record_login_failure", move |c| {
            c.execute_cached(sql::RECORD_LOGIN_FAILURE, params![ts(at), name, ip])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn begin_login_attempt(
        &self,
        login_name: &str,
        ip: Option<&str>,
        w: AttemptWindow,
    ) -> StoreResult<(i64, LoginFailureCounts)> {
        let (name, ip) = (login_name.to_owned(), ip.map(str::to_owned));
        self.with_conn("begin_login_attempt", move |c| {
            // Read and recorded under the write lock, which every instance on this file
            // shares: two attempts can never both read the counts without the other.
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let counts = tx
                .query_row_cached(
                    sql::LOGIN_FAILURE_COUNTS,
                    params![name, ip, ts(w.since), ts(w.settled_before)],
                    |r| {
                        Ok(LoginFailureCounts {
                            by_name: r.get::<_, i64>(0)? as u64,
                            by_address: r.get::<_, i64>(1)? as u64,
                            by_name_and_address: r.get::<_, i64>(2)? as u64,
                            in_flight_by_address: r.get::<_, i64>(3)? as u64,
                            last_for_name: r
                                .get::<_, Option<String>>(4)?
                                .as_deref()
                                .and_then(parse_ts),
                        })
                    },
                )
                .map_err(backend)?;
            tx.execute_cached(sql::INSERT_LOGIN_ATTEMPT, params![ts(w.now), name, ip])
                .map_err(backend)?;
            let id = tx.last_insert_rowid();
            tx.commit().map_err(backend)?;
            Ok((id, counts))
        })
        .await
    }

    async fn end_login_attempt(
        &self,
        attempt: i64,
        login_name: &str,
        end: AttemptEnd,
    ) -> StoreResult<()> {
        let name = login_name.to_owned();
        self.with_conn("end_login_attempt", move |c| {
            match end {
                AttemptEnd::Refused => c.execute_cached(sql::REFUSED_LOGIN_ATTEMPT, [attempt]),
                AttemptEnd::Failed => c.execute_cached(sql::FAILED_LOGIN_ATTEMPT, [attempt]),
                AttemptEnd::Succeeded => {
                    c.execute_cached(sql::SUCCEEDED_LOGIN_ATTEMPT, params![attempt, name])
                }
            }
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn count_event_below(
        &self,
        name: &str,
        limit: u64,
        since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        let name = name.to_owned();
        self.with_conn("count_event_below", move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let before: i64 = tx
                .query_row_cached(sql::COUNT_EVENTS, params![name, ts(since)], |r| r.get(0))
                .map_err(backend)?;
            if (before as u64) < limit {
                tx.execute_cached(sql::INSERT_EVENT, params![ts(now), name])
                    .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(before as u64)
        })
        .await
    }

    async fn clear_login_failures(&self, login_name: &str) -> StoreResult<()> {
        let name = login_name.to_owned();
        self.with_conn("clear_login_failures", move |c| {
            c.execute_cached(sql::CLEAR_LOGIN_FAILURES, [name])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn purge_login_failures_before(&self, cutoff: OffsetDateTime) -> StoreResult<u64> {
        self.with_conn("purge_login_failures", move |c| {
            c.execute_cached(sql::PURGE_LOGIN_FAILURES_BEFORE, [ts(cutoff)])
                .map(|n| n as u64)
                .map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_owned();
        self.with_conn("setting", move |c| {
            c.query_row_cached(sql::SETTING, [key], |r| r.get(0))
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn setting_insert_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.with_conn("setting_insert_if_absent", move |c| {
            c.execute_cached(sql::INSERT_SETTING_IF_ABSENT, params![key, value])
                .map_err(backend)?;
            c.query_row_cached(sql::SETTING, [key], |r| r.get(0))
                .map_err(backend)
        })
        .await
    }

    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.with_conn("set_setting", move |c| {
            c.execute_cached(sql::SET_SETTING, params![key, value])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }
}
