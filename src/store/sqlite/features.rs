//! Part minimums, saved views and scheduled reports (`PartMinimums`, `SavedViews`,
//! `ReportSubscriptions`). Times are UTC text, as every column this portal adds.

use super::*;

/// An account's saved views, by name (also read with a sign-in, in the same trip).
pub(super) fn saved_views_of(
    c: &Connection,
    customer: CustomerId,
) -> rusqlite::Result<Vec<SavedView>> {
    let mut stmt = c.prepare_cached(sql::SAVED_VIEWS)?;
    let rows = stmt.query_map([customer.0], view_from_row)?;
    rows.collect()
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn minimum_from_row(r: &Row<'_>) -> rusqlite::Result<PartMinimum> {
    Ok(PartMinimum {
        erp_customer_name: r.get(0)?,
        part: r.get(1)?,
        minimum_qty: r.get(2)?,
        updated_at: read_ts(r, 3)?,
        updated_by: r.get(4)?,
    })
}

fn view_from_row(r: &Row<'_>) -> rusqlite::Result<SavedView> {
    Ok(SavedView {
        id: r.get(0)?,
        customer_id: CustomerId(r.get(1)?),
        name: r.get(2)?,
        query: r.get(3)?,
        created_at: read_ts(r, 4)?,
        updated_at: read_ts(r, 5)?,
    })
}

/// A column holding one of an enum's stored words.
fn word<T>(r: &Row<'_>, idx: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = r.get(idx)?;
    parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("unknown stored word {text:?}").into(),
        )
    })
}

/// A subscription with its saved view's name (a list names them without a query per view).
fn sub_from_row(r: &Row<'_>) -> rusqlite::Result<ReportSubscription> {
    Ok(ReportSubscription {
        id: r.get(0)?,
        customer_id: CustomerId(r.get(1)?),
        kind: word(r, 2, ReportKind::parse)?,
        view_id: r.get(3)?,
        frequency: word(r, 4, Frequency::parse)?,
        weekday: r.get(5)?,
        hour: r.get(6)?,
        format: word(r, 7, FileFormat::parse)?,
        paused: r.get::<_, i64>(8)? != 0,
        paused_by: r.get(9)?,
        created_at: read_ts(r, 10)?,
        next_run_at: read_ts(r, 11)?,
        lease_owner: r.get(12)?,
        lease_until: opt_ts(r, 13)?,
        attempts: r.get(14)?,
        last_sent_at: opt_ts(r, 15)?,
        last_status: match r.get::<_, Option<String>>(16)? {
            Some(_) => Some(word(r, 16, RunStatus::parse)?),
            None => None,
        },
        last_error: r.get(17)?,
        sent_count: r.get(18)?,
        view_name: r.get(19)?,
    })
}

#[async_trait]
impl PartMinimumStore for SqliteStore {
    async fn part_minimums(&self, customers: Option<&[String]>) -> StoreResult<Vec<PartMinimum>> {
        let names = customers.map(<[String]>::to_vec);
        self.with_conn("part_minimums", move |c| match names {
            None => {
                let mut stmt = c.prepare_cached(sql::PART_MINIMUMS_ALL).map_err(backend)?;
                let rows = stmt.query_map([], minimum_from_row).map_err(backend)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
            }
            Some(names) if names.is_empty() => Ok(Vec::new()),
            Some(names) => {
                let mut stmt = c
                    .prepare(&sql::part_minimums_of(names.len()))
                    .map_err(backend)?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(names.iter()), minimum_from_row)
                    .map_err(backend)?;
                rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
            }
        })
        .await
    }

    async fn set_part_minimum(&self, m: &PartMinimum) -> StoreResult<()> {
        let m = m.clone();
        self.with_conn("set_part_minimum", move |c| {
            c.execute_cached(
                sql::SET_PART_MINIMUM,
                params![
                    m.erp_customer_name,
                    m.part,
                    m.minimum_qty,
                    ts(m.updated_at),
                    m.updated_by
                ],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn remove_part_minimum(&self, customer: &str, part: &str) -> StoreResult<bool> {
        let (customer, part) = (customer.to_owned(), part.to_owned());
        self.with_conn("remove_part_minimum", move |c| {
            c.execute_cached(sql::REMOVE_PART_MINIMUM, params![customer, part])
                .map(|n| n > 0)
                .map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl SavedViewStore for SqliteStore {
    async fn saved_views(&self, customer: CustomerId) -> StoreResult<Vec<SavedView>> {
        self.with_conn("saved_views", move |c| {
            saved_views_of(c, customer).map_err(backend)
        })
        .await
    }

    async fn saved_view(&self, customer: CustomerId, id: i64) -> StoreResult<Option<SavedView>> {
        self.with_conn("saved_view", move |c| {
            c.query_row_cached(sql::SAVED_VIEW, params![id, customer.0], view_from_row)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn insert_saved_view(
        &self,
        customer: CustomerId,
        name: &str,
        query: &str,
        at: OffsetDateTime,
        max: u32,
    ) -> StoreResult<SavedView> {
        let (name, query) = (name.to_owned(), query.to_owned());
        self.with_conn("insert_saved_view", move |c| {
            // Counted and inserted under the write lock: concurrent saves cannot both pass.
            let c = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let n: i64 = c
                .query_row_cached(sql::COUNT_SAVED_VIEWS, [customer.0], |r| r.get(0))
                .map_err(backend)?;
            if n >= i64::from(max) {
                return Err(StoreError::LimitReached(max));
            }
            let inserted = c.execute_cached(
                sql::INSERT_SAVED_VIEW,
                params![customer.0, name, query, ts(at)],
            );
            match inserted {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::DuplicateName),
                Err(e) => return Err(backend(e)),
                Ok(_) => {}
            }
            let id = c.last_insert_rowid();
            let view = c
                .query_row_cached(sql::SAVED_VIEW_BY_ID, [id], view_from_row)
                .map_err(backend)?;
            c.commit().map_err(backend)?;
            Ok(view)
        })
        .await
    }

    async fn rename_saved_view(
        &self,
        customer: CustomerId,
        id: i64,
        name: &str,
        at: OffsetDateTime,
    ) -> StoreResult<SavedView> {
        let name = name.to_owned();
        self.with_conn("rename_saved_view", move |c| {
            let updated = c.execute_cached(
                sql::RENAME_SAVED_VIEW,
                params![name, ts(at), id, customer.0],
            );
            match updated {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::DuplicateName),
                Err(e) => return Err(backend(e)),
                Ok(0) => return Err(StoreError::NotFound),
                Ok(_) => {}
            }
            c.query_row_cached(sql::SAVED_VIEW_BY_ID, [id], view_from_row)
                .map_err(backend)
        })
        .await
    }

    async fn delete_saved_view(&self, customer: CustomerId, id: i64) -> StoreResult<bool> {
        self.with_conn("delete_saved_view", move |c| {
            let tx = c.transaction().map_err(backend)?;
            let n = tx
                .execute_cached(sql::DELETE_SAVED_VIEW, params![id, customer.0])
                .map_err(backend)?;
            if n > 0 {
                // Also done by the foreign key; said here so both backends read alike.
                tx.execute_cached(sql::DELETE_VIEW_SUBSCRIPTIONS, [id])
                    .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn insert_subscription(
        &self,
        new: &NewReportSubscription,
        max: u32,
    ) -> StoreResult<ReportSubscription> {
        let n = new.clone();
        self.with_conn("insert_subscription", move |c| {
            // Counted and inserted under the write lock: concurrent subscribes cannot both pass.
            let c = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let have: i64 = c
                .query_row_cached(sql::COUNT_SUBSCRIPTIONS, [n.customer_id.0], |r| r.get(0))
                .map_err(backend)?;
            if have >= i64::from(max) {
                return Err(StoreError::LimitReached(max));
            }
            c.execute_cached(
                sql::INSERT_SUBSCRIPTION,
                params![
                    n.customer_id.0,
                    n.kind.as_str(),
                    n.view_id,
                    n.frequency.as_str(),
                    n.weekday,
                    n.hour,
                    n.format.as_str(),
                    ts(n.created_at),
                    ts(n.next_run_at)
                ],
            )
            .map_err(backend)?;
            let id = c.last_insert_rowid();
            let sub = c
                .query_row_cached(sql::SUBSCRIPTION, [id], sub_from_row)
                .map_err(backend)?;
            c.commit().map_err(backend)?;
            Ok(sub)
        })
        .await
    }

    async fn subscriptions(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<ReportSubscription>> {
        self.with_conn("subscriptions", move |c| {
            let mut stmt = c.prepare_cached(sql::SUBSCRIPTIONS).map_err(backend)?;
            let rows = stmt
                .query_map([customer.map(|c| c.0)], sub_from_row)
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn subscription(&self, id: i64) -> StoreResult<Option<ReportSubscription>> {
        self.with_conn("subscription", move |c| {
            c.query_row_cached(sql::SUBSCRIPTION, [id], sub_from_row)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn delete_subscription(
        &self,
        id: i64,
        customer: Option<CustomerId>,
    ) -> StoreResult<bool> {
        self.with_conn("delete_subscription", move |c| {
            c.execute_cached(sql::DELETE_SUBSCRIPTION, params![id, customer.map(|c| c.0)])
                .map(|n| n > 0)
                .map_err(backend)
        })
        .await
    }

    async fn set_subscription_paused(
        &self,
        id: i64,
        customer: Option<CustomerId>,
        paused: bool,
        by: Option<&str>,
    ) -> StoreResult<bool> {
        let by = by.map(str::to_owned);
        self.with_conn("set_subscription_paused", move |c| {
            c.execute_cached(
                sql::SET_SUBSCRIPTION_PAUSED,
                params![
                    paused as i64,
                    if paused { by } else { None },
                    id,
                    customer.map(|c| c.0)
                ],
            )
            .map(|n| n > 0)
            .map_err(backend)
        })
        .await
    }

    async fn due_subscriptions(&self, now: OffsetDateTime, limit: u32) -> StoreResult<Vec<i64>> {
        self.with_conn("due_subscriptions", move |c| {
            let now = ts(now);
            let mut stmt = c.prepare_cached(sql::DUE_SUBSCRIPTIONS).map_err(backend)?;
            let rows = stmt
                .query_map(params![now, limit], |r| r.get(0))
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<i64>>>()
                .map_err(backend)
        })
        .await
    }

    async fn claim_subscription(
        &self,
        id: i64,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        let owner = owner.to_owned();
        self.with_conn("claim_subscription", move |c| {
            c.execute_cached(
                sql::CLAIM_SUBSCRIPTION,
                params![owner, ts(until), id, ts(now)],
            )
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
    }

    async fn renew_subscription_lease(
        &self,
        id: i64,
        owner: &str,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        let owner = owner.to_owned();
        self.with_conn("renew_subscription_lease", move |c| {
            c.execute_cached(sql::RENEW_SUBSCRIPTION_LEASE, params![ts(until), id, owner])
                .map(|n| n == 1)
                .map_err(backend)
        })
        .await
    }

    async fn finish_subscription(
        &self,
        id: i64,
        owner: &str,
        o: &RunOutcome,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool> {
        let owner = owner.to_owned();
        let o = o.clone();
        let audit = audit.cloned();
        self.with_conn("finish_subscription", move |c| {
            let zone = c.zone.clone();
            let tx = c.transaction().map_err(backend)?;
            let n = tx
                .execute_cached(
                    sql::FINISH_SUBSCRIPTION,
                    params![
                        ts(o.next_run_at),
                        o.attempts,
                        o.status.as_str(),
                        o.error,
                        o.sent_at.map(ts),
                        id,
                        owner
                    ],
                )
                .map_err(backend)?;
            if n == 0 {
                return Ok(false);
            }
            if let Some(a) = &audit {
                insert_audit(&tx, a, &zone).map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }
}
