//! Part minimums, saved views and scheduled reports (`PartMinimums`, `SavedViews`,
//! `ReportSubscriptions`). Times are UTC `DATETIME2`, as every column this portal adds.

use super::*;

fn minimum(row: &Row) -> StoreResult<PartMinimum> {
    Ok(PartMinimum {
        erp_customer_name: req_text(row, 0)?,
        part: req_text(row, 1)?,
        minimum_qty: row
            .try_get::<f64, _>(2)
            .map_err(tds)?
            .ok_or_else(|| StoreError::Backend("minimum_qty is NULL".into()))?,
        updated_at: req_utc(row, 3)?,
        updated_by: req_text(row, 4)?,
    })
}

fn saved_view(row: &Row) -> StoreResult<SavedView> {
    Ok(SavedView {
        id: int(row, 0)?,
        customer_id: CustomerId(int(row, 1)?),
        name: req_text(row, 2)?,
        query: req_text(row, 3)?,
        created_at: req_utc(row, 4)?,
        updated_at: req_utc(row, 5)?,
    })
}

/// A column holding one of an enum's stored words.
fn word<T>(row: &Row, idx: usize, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    let text = req_text(row, idx)?;
    parse(&text).ok_or_else(|| StoreError::Backend(format!("unknown stored word {text:?}")))
}

fn subscription(row: &Row) -> StoreResult<ReportSubscription> {
    Ok(ReportSubscription {
        id: int(row, 0)?,
        customer_id: CustomerId(int(row, 1)?),
        kind: word(row, 2, ReportKind::parse)?,
        view_id: opt_int(row, 3)?,
        frequency: word(row, 4, Frequency::parse)?,
        weekday: opt_int(row, 5)?,
        hour: int(row, 6)?,
        format: word(row, 7, FileFormat::parse)?,
        paused: bit(row, 8)?,
        paused_by: text(row, 9)?,
        created_at: req_utc(row, 10)?,
        next_run_at: req_utc(row, 11)?,
        lease_owner: text(row, 12)?,
        lease_until: read_utc(row, 13)?,
        attempts: int(row, 14)?,
        last_sent_at: read_utc(row, 15)?,
        last_status: match text(row, 16)? {
            Some(w) => Some(
                RunStatus::parse(&w)
                    .ok_or_else(|| StoreError::Backend(format!("unknown stored word {w:?}")))?,
            ),
            None => None,
        },
        last_error: text(row, 17)?,
        sent_count: int(row, 18)?,
        view_name: text(row, 19)?,
    })
}

fn duplicate_name(e: StoreError) -> StoreError {
    match e {
        StoreError::DuplicateEmail => StoreError::DuplicateName,
        other => other,
    }
}

#[async_trait]
impl PartMinimumStore for MssqlStore {
    async fn part_minimums(&self, customers: Option<&[String]>) -> StoreResult<Vec<PartMinimum>> {
        match customers {
            None => {
                self.many("part_minimums", sql::PART_MINIMUMS_ALL, &[], minimum)
                    .await
            }
            Some([]) => Ok(Vec::new()),
            Some(names) => {
                let query = sql::PART_MINIMUMS_IN
                    .replace("{names}", &crate::mssql::placeholders(1, names.len()));
                let params: Vec<P> = names.iter().map(t).collect();
                self.many("part_minimums", &query, &params, minimum).await
            }
        }
    }

    async fn set_part_minimum(&self, m: &PartMinimum) -> StoreResult<()> {
        self.exec(
            "set_part_minimum",
            sql::SET_PART_MINIMUM,
            &[
                t(&m.erp_customer_name),
                t(&m.part),
                P::Float(m.minimum_qty),
                P::Time(utc(m.updated_at)),
                t(&m.updated_by),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn remove_part_minimum(&self, customer: &str, part: &str) -> StoreResult<bool> {
        self.exec(
            "remove_part_minimum",
            sql::REMOVE_PART_MINIMUM,
            &[t(customer), t(part)],
        )
        .await
        .map(|n| n > 0)
    }
}

#[async_trait]
impl SavedViewStore for MssqlStore {
    async fn saved_views(&self, customer: CustomerId) -> StoreResult<Vec<SavedView>> {
        self.many(
            "saved_views",
            sql::SAVED_VIEWS,
            &[P::Int(Some(customer.0))],
            saved_view,
        )
        .await
    }

    async fn saved_view(&self, customer: CustomerId, id: i64) -> StoreResult<Option<SavedView>> {
        self.one(
            "saved_view",
            sql::SAVED_VIEW,
            &[P::Int(Some(id)), P::Int(Some(customer.0))],
            saved_view,
        )
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
        self.one(
            "insert_saved_view",
            sql::INSERT_SAVED_VIEW,
            &[
                P::Int(Some(customer.0)),
                t(name),
                t(query),
                P::Time(utc(at)),
                P::Int(Some(i64::from(max))),
            ],
            saved_view,
        )
        .await
        .map_err(duplicate_name)?
        .ok_or(StoreError::LimitReached(max))
    }

    async fn rename_saved_view(
        &self,
        customer: CustomerId,
        id: i64,
        name: &str,
        at: OffsetDateTime,
    ) -> StoreResult<SavedView> {
        self.one(
            "rename_saved_view",
            sql::RENAME_SAVED_VIEW,
            &[
                t(name),
                P::Time(utc(at)),
                P::Int(Some(id)),
                P::Int(Some(customer.0)),
            ],
            saved_view,
        )
        .await
        .map_err(duplicate_name)?
        .ok_or(StoreError::NotFound)
    }

    async fn delete_saved_view(&self, customer: CustomerId, id: i64) -> StoreResult<bool> {
        let n = self
            .one(
                "delete_saved_view",
                sql::DELETE_SAVED_VIEW,
                &[P::Int(Some(id)), P::Int(Some(customer.0))],
                |r| int(r, 0),
            )
            .await?
            .unwrap_or(0);
        Ok(n > 0)
    }
}

#[async_trait]
impl ReportStore for MssqlStore {
    async fn insert_subscription(
        &self,
        n: &NewReportSubscription,
        max: u32,
    ) -> StoreResult<ReportSubscription> {
        self.one(
            "insert_subscription",
            sql::INSERT_SUBSCRIPTION,
            &[
                P::Int(Some(n.customer_id.0)),
                t(n.kind.as_str()),
                P::Int(n.view_id),
                t(n.frequency.as_str()),
                P::Int(n.weekday),
                P::Int(Some(n.hour)),
                t(n.format.as_str()),
                P::Time(utc(n.created_at)),
                P::Time(utc(n.next_run_at)),
                P::Int(Some(i64::from(max))),
            ],
            subscription,
        )
        .await?
        .ok_or(StoreError::LimitReached(max))
    }

    async fn subscriptions(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<ReportSubscription>> {
        self.many(
            "subscriptions",
            sql::SUBSCRIPTIONS,
            &[P::Int(customer.map(|c| c.0))],
            subscription,
        )
        .await
    }

    async fn subscription(&self, id: i64) -> StoreResult<Option<ReportSubscription>> {
        self.one(
            "subscription",
            sql::SUBSCRIPTION,
            &[P::Int(Some(id))],
            subscription,
        )
        .await
    }

    async fn delete_subscription(
        &self,
        id: i64,
        customer: Option<CustomerId>,
    ) -> StoreResult<bool> {
        self.exec(
            "delete_subscription",
            sql::DELETE_SUBSCRIPTION,
            &[P::Int(Some(id)), P::Int(customer.map(|c| c.0))],
        )
        .await
        .map(|n| n > 0)
    }

    async fn set_subscription_paused(
        &self,
        id: i64,
        customer: Option<CustomerId>,
        paused: bool,
        by: Option<&str>,
    ) -> StoreResult<bool> {
        self.exec(
            "set_subscription_paused",
            sql::SET_SUBSCRIPTION_PAUSED,
            &[
                P::Bit(paused),
                P::Text(if paused { by.map(str::to_owned) } else { None }),
                P::Int(Some(id)),
                P::Int(customer.map(|c| c.0)),
            ],
        )
        .await
        .map(|n| n > 0)
    }

    async fn due_subscriptions(&self, now: OffsetDateTime, limit: u32) -> StoreResult<Vec<i64>> {
        self.many(
            "due_subscriptions",
            sql::DUE_SUBSCRIPTIONS,
            &[P::Time(utc(now)), P::Int(Some(i64::from(limit)))],
            |r| int(r, 0),
        )
        .await
    }

    async fn claim_subscription(
        &self,
        id: i64,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        self.exec(
            "claim_subscription",
            sql::CLAIM_SUBSCRIPTION,
            &[
                t(owner),
                P::Time(utc(until)),
                P::Int(Some(id)),
                P::Time(utc(now)),
            ],
        )
        .await
        .map(|n| n == 1)
    }

    async fn renew_subscription_lease(
        &self,
        id: i64,
        owner: &str,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        self.exec(
            "renew_subscription_lease",
            sql::RENEW_SUBSCRIPTION_LEASE,
            &[P::Time(utc(until)), P::Int(Some(id)), t(owner)],
        )
        .await
        .map(|n| n == 1)
    }

    async fn finish_subscription(
        &self,
        id: i64,
        owner: &str,
        o: &RunOutcome,
        audit: Option<&NewAuditEntry>,
    ) -> StoreResult<bool> {
        let mut params = vec![
            P::Time(utc(o.next_run_at)),
            P::Int(Some(o.attempts)),
            t(o.status.as_str()),
            P::Text(o.error.clone()),
            P::OptTime(o.sent_at.map(utc)),
            P::Int(Some(id)),
            t(owner),
            P::Bit(audit.is_some()),
        ];
        let placeholder = placeholder_audit();
        params.extend(audit_params(audit.unwrap_or(&placeholder), &self.zone));
        let n = self
            .one(
                "finish_subscription",
                sql::FINISH_SUBSCRIPTION,
                &params,
                |r| Ok(r.get::<i32, _>(0).unwrap_or(0)),
            )
            .await?
            .unwrap_or(0);
        Ok(n > 0)
    }
}
