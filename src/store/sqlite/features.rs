//! Part minimums, saved views and scheduled reports (`PartMinimums`, `SavedViews`,
//! `ReportSubscriptions`). Times are UTC text, as every column this portal adds.

use super::*;

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn opt_ts(r: &Row<'_>, idx: usize) -> rusqlite::Result<Option<OffsetDateTime>> {
    let s: Option<String> = r.get(idx)?;
    Ok(s.as_deref().and_then(parse_ts))
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

const VIEW_COLUMNS: &str = "view_id, customer_id, name, query, created_at, updated_at";

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

/// A subscription with its saved view's name (a list names them without a query per view).
const SUB_SELECT: &str = "SELECT s.subscription_id, s.customer_id, s.kind, s.view_id, s.frequency, s.weekday, \
     s.hour, s.format, s.paused, s.paused_by, s.created_at, s.next_run_at, s.lease_owner, s.lease_until, \
     s.attempts, s.last_sent_at, s.last_status, s.last_error, s.sent_count, v.name
     FROM ReportSubscriptions s LEFT JOIN SavedViews v ON v.view_id = s.view_id";

fn sub_from_row(r: &Row<'_>) -> rusqlite::Result<ReportSubscription> {
    Ok(ReportSubscription {
        id: r.get(0)?,
        customer_id: CustomerId(r.get(1)?),
        kind: r.get(2)?,
        view_id: r.get(3)?,
        frequency: r.get(4)?,
        weekday: r.get(5)?,
        hour: r.get(6)?,
        format: r.get(7)?,
        paused: r.get::<_, i64>(8)? != 0,
        paused_by: r.get(9)?,
        created_at: read_ts(r, 10)?,
        next_run_at: read_ts(r, 11)?,
        lease_owner: r.get(12)?,
        lease_until: opt_ts(r, 13)?,
        attempts: r.get(14)?,
        last_sent_at: opt_ts(r, 15)?,
        last_status: r.get(16)?,
        last_error: r.get(17)?,
        sent_count: r.get(18)?,
        view_name: r.get(19)?,
    })
}

#[async_trait]
impl PartMinimumStore for SqliteStore {
    async fn part_minimums(&self, customers: Option<&[String]>) -> StoreResult<Vec<PartMinimum>> {
        let names = customers.map(<[String]>::to_vec);
        self.with_conn("part_minimums", move |c| {
            let base = "SELECT erp_customer_name, part, minimum_qty, updated_at, updated_by FROM PartMinimums";
            let order = "ORDER BY erp_customer_name, part";
            match names {
                None => {
                    let mut stmt = c.prepare(&format!("{base} {order}")).map_err(backend)?;
                    let rows = stmt.query_map([], minimum_from_row).map_err(backend)?;
                    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
                }
                Some(names) if names.is_empty() => Ok(Vec::new()),
                Some(names) => {
                    let marks = vec!["?"; names.len()].join(", ");
                    let mut stmt = c
                        .prepare(&format!("{base} WHERE erp_customer_name IN ({marks}) {order}"))
                        .map_err(backend)?;
                    let rows = stmt
                        .query_map(rusqlite::params_from_iter(names.iter()), minimum_from_row)
                        .map_err(backend)?;
                    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
                }
            }
        })
        .await
    }

    async fn set_part_minimum(&self, m: &PartMinimum) -> StoreResult<()> {
        let m = m.clone();
        self.with_conn("set_part_minimum", move |c| {
            c.execute(
                "INSERT INTO PartMinimums (erp_customer_name, part, minimum_qty, updated_at, updated_by)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (erp_customer_name, part) DO UPDATE SET
                   minimum_qty = excluded.minimum_qty, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                params![m.erp_customer_name, m.part, m.minimum_qty, ts(m.updated_at), m.updated_by],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn remove_part_minimum(&self, customer: &str, part: &str) -> StoreResult<bool> {
        let (customer, part) = (customer.to_owned(), part.to_owned());
        self.with_conn("remove_part_minimum", move |c| {
            c.execute(
                "DELETE FROM PartMinimums WHERE erp_customer_name = ?1 AND part = ?2",
                params![customer, part],
            )
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
            let mut stmt = c
                .prepare(&format!(
                    "SELECT {VIEW_COLUMNS} FROM SavedViews WHERE customer_id = ?1 ORDER BY name COLLATE NOCASE, view_id"
                ))
                .map_err(backend)?;
            let rows = stmt.query_map([customer.0], view_from_row).map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn saved_view(&self, customer: CustomerId, id: i64) -> StoreResult<Option<SavedView>> {
        self.with_conn("saved_view", move |c| {
            c.query_row(
                &format!(
                    "SELECT {VIEW_COLUMNS} FROM SavedViews WHERE view_id = ?1 AND customer_id = ?2"
                ),
                params![id, customer.0],
                view_from_row,
            )
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
            let c = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let n: i64 = c
                .query_row("SELECT COUNT(*) FROM SavedViews WHERE customer_id = ?1", [customer.0], |r| r.get(0))
                .map_err(backend)?;
            if n >= i64::from(max) {
                return Err(StoreError::LimitReached(max));
            }
            let inserted = c.execute(
                "INSERT INTO SavedViews (customer_id, name, query, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![customer.0, name, query, ts(at)],
            );
            match inserted {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::DuplicateName),
                Err(e) => return Err(backend(e)),
                Ok(_) => {}
            }
            let id = c.last_insert_rowid();
            let view = c
                .query_row(
                    &format!("SELECT {VIEW_COLUMNS} FROM SavedViews WHERE view_id = ?1"),
                    [id],
                    view_from_row,
                )
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
            let updated = c.execute(
                "UPDATE SavedViews SET name = ?1, updated_at = ?2 WHERE view_id = ?3 AND customer_id = ?4",
                params![name, ts(at), id, customer.0],
            );
            match updated {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::DuplicateName),
                Err(e) => return Err(backend(e)),
                Ok(0) => return Err(StoreError::NotFound),
                Ok(_) => {}
            }
            c.query_row(
                &format!("SELECT {VIEW_COLUMNS} FROM SavedViews WHERE view_id = ?1"),
                [id],
                view_from_row,
            )
            .map_err(backend)
        })
        .await
    }

    async fn delete_saved_view(&self, customer: CustomerId, id: i64) -> StoreResult<bool> {
        self.with_conn("delete_saved_view", move |c| {
            let tx = c.transaction().map_err(backend)?;
            let n = tx
                .execute(
                    "DELETE FROM SavedViews WHERE view_id = ?1 AND customer_id = ?2",
                    params![id, customer.0],
                )
                .map_err(backend)?;
            if n > 0 {
                // Also done by the foreign key; said here so both backends read alike.
                tx.execute("DELETE FROM ReportSubscriptions WHERE view_id = ?1", [id])
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
            let c = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let have: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM ReportSubscriptions WHERE customer_id = ?1",
                    [n.customer_id.0],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if have >= i64::from(max) {
                return Err(StoreError::LimitReached(max));
            }
            c.execute(
                "INSERT INTO ReportSubscriptions (customer_id, kind, view_id, frequency, weekday, hour, format, created_at, next_run_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![n.customer_id.0, n.kind, n.view_id, n.frequency, n.weekday, n.hour, n.format, ts(n.created_at), ts(n.next_run_at)],
            )
            .map_err(backend)?;
            let id = c.last_insert_rowid();
            let sub = c
                .query_row(
                    &format!("{SUB_SELECT} WHERE s.subscription_id = ?1"),
                    [id],
                    sub_from_row,
                )
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
            let mut stmt = c
                .prepare(&format!(
                    "{SUB_SELECT} WHERE ?1 IS NULL OR s.customer_id = ?1
                     ORDER BY s.customer_id, s.subscription_id"
                ))
                .map_err(backend)?;
            let rows = stmt
                .query_map([customer.map(|c| c.0)], sub_from_row)
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn subscription(&self, id: i64) -> StoreResult<Option<ReportSubscription>> {
        self.with_conn("subscription", move |c| {
            c.query_row(
                &format!("{SUB_SELECT} WHERE s.subscription_id = ?1"),
                [id],
                sub_from_row,
            )
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
            c.execute(
                "DELETE FROM ReportSubscriptions WHERE subscription_id = ?1 AND (?2 IS NULL OR customer_id = ?2)",
                params![id, customer.map(|c| c.0)],
            )
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
            c.execute(
                "UPDATE ReportSubscriptions SET paused = ?1, paused_by = ?2
                 WHERE subscription_id = ?3 AND (?4 IS NULL OR customer_id = ?4)",
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
            let mut stmt = c
                .prepare(
                    "SELECT subscription_id FROM ReportSubscriptions
                     WHERE paused = 0 AND next_run_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1)
                     ORDER BY next_run_at, subscription_id LIMIT ?2",
                )
                .map_err(backend)?;
            let rows = stmt
                .query_map(params![now, limit], |r| r.get(0))
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<i64>>>().map_err(backend)
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
            c.execute(
                "UPDATE ReportSubscriptions SET lease_owner = ?1, lease_until = ?2
                 WHERE subscription_id = ?3 AND paused = 0 AND next_run_at <= ?4
                   AND (lease_until IS NULL OR lease_until <= ?4)",
                params![owner, ts(until), id, ts(now)],
            )
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
                .execute(
                    "UPDATE ReportSubscriptions SET next_run_at = ?1, attempts = ?2, last_status = ?3,
                       last_error = ?4, last_sent_at = COALESCE(?5, last_sent_at),
                       sent_count = sent_count + (CASE WHEN ?5 IS NULL THEN 0 ELSE 1 END),
                       lease_owner = NULL, lease_until = NULL
                     WHERE subscription_id = ?6 AND lease_owner = ?7",
                    params![
                        ts(o.next_run_at),
                        o.attempts,
                        o.status,
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
