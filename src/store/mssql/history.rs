//! The inventory's daily history on SQL Server. A day's rows go in batches (at most
//! [`ROWS_PER_BATCH`] rows, within the 2,100 parameters a request may carry), each its own
//! transaction and idempotent; the day counts as captured only once the last step marks it
//! finished, so a capture that dies half-way is simply done again by whoever takes the
//! lapsed lease.

use super::*;

/// Rows a batch carries (seven parameters each).
const ROWS_PER_BATCH: usize = 250;

fn read_date(row: &Row, idx: usize) -> StoreResult<time::Date> {
    row.try_get::<time::Date, _>(idx)
        .map_err(tds)?
        .ok_or_else(|| StoreError::Backend(format!("column {idx} is NULL")))
}

fn float(row: &Row, idx: usize) -> StoreResult<f64> {
    row.try_get::<f64, _>(idx)
        .map_err(tds)?
        .ok_or_else(|| StoreError::Backend(format!("column {idx} is NULL")))
}

fn figures(row: &Row, at: usize) -> StoreResult<DayFigures> {
    Ok(DayFigures {
        on_hand: float(row, at)?,
        lots: int(row, at + 1)?,
        expired_qty: float(row, at + 2)?,
        expiring_qty: float(row, at + 3)?,
        received_qty: float(row, at + 4)?,
    })
}

fn part_day(row: &Row) -> StoreResult<PartDay> {
    Ok(PartDay {
        erp_customer_name: req_text(row, 0)?,
        part: req_text(row, 1)?,
        day: read_date(row, 2)?,
        figures: figures(row, 3)?,
        demo: bit(row, 8)?,
    })
}

fn customer_day(row: &Row) -> StoreResult<CustomerDay> {
    Ok(CustomerDay {
        erp_customer_name: req_text(row, 0)?,
        day: read_date(row, 1)?,
        figures: figures(row, 2)?,
        parts: int(row, 7)?,
        demo: bit(row, 8)?,
    })
}

impl MssqlStore {
    /// Writes part and total rows (grouped by day), batch by batch.
    async fn write_days(&self, parts: &[PartDay], totals: &[CustomerDay]) -> StoreResult<()> {
        let mut days: Vec<time::Date> = parts.iter().map(|p| p.day).collect();
        days.extend(totals.iter().map(|t| t.day));
        days.sort();
        days.dedup();
        for day in days {
            let of_day: Vec<&PartDay> = parts.iter().filter(|p| p.day == day).collect();
            for chunk in of_day.chunks(ROWS_PER_BATCH) {
                let demo = chunk.iter().all(|p| p.demo);
                let mut params = vec![P::Date(day), P::Bit(demo)];
                for p in chunk {
                    let f = &p.figures;
                    params.extend([
                        t(p.erp_customer_name.as_str()),
                        t(p.part.as_str()),
                        P::Float(f.on_hand),
                        P::Int(Some(f.lots)),
                        P::Float(f.expired_qty),
                        P::Float(f.expiring_qty),
                        P::Float(f.received_qty),
                    ]);
                }
                self.exec(
                    "history_days",
                    &sql::upsert_history_days(chunk.len()),
                    &params,
                )
                .await?;
            }
            let of_day: Vec<&CustomerDay> = totals.iter().filter(|t| t.day == day).collect();
            for chunk in of_day.chunks(ROWS_PER_BATCH) {
                let demo = chunk.iter().all(|c| c.demo);
                let mut params = vec![P::Date(day), P::Bit(demo)];
                for c in chunk {
                    let f = &c.figures;
                    params.extend([
                        t(c.erp_customer_name.as_str()),
                        P::Float(f.on_hand),
                        P::Int(Some(f.lots)),
                        P::Float(f.expired_qty),
                        P::Float(f.expiring_qty),
                        P::Float(f.received_qty),
                        P::Int(Some(c.parts)),
                    ]);
                }
                self.exec(
                    "history_totals",
                    &sql::upsert_history_totals(chunk.len()),
                    &params,
                )
                .await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl HistoryStore for MssqlStore {
    async fn claim_history_day(
        &self,
        day: time::Date,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        let n = self
            .one(
                "claim_history_day",
                sql::CLAIM_HISTORY_DAY,
                &[
                    P::Date(day),
                    t(fits::HISTORY_OWNER.cut(owner)),
                    P::Time(utc(until)),
                    P::Time(utc(now)),
                ],
                |r| int(r, 0),
            )
            .await?;
        Ok(n == Some(1))
    }

    async fn finish_history_day(
        &self,
        day: time::Date,
        owner: &str,
        parts: &[PartDay],
        totals: &[CustomerDay],
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let owner = fits::HISTORY_OWNER.cut(owner);
        let held = self
            .one(
                "history_day_held",
                sql::HISTORY_DAY_HELD,
                &[P::Date(day), t(owner.as_str())],
                |r| int(r, 0),
            )
            .await?;
        if held != Some(1) {
            return Ok(false);
        }
        self.write_days(parts, totals).await?;
        self.exec(
            "finish_history_day",
            sql::FINISH_HISTORY_DAY,
            &[
                P::Date(day),
                t(owner),
                P::Time(utc(now)),
                P::Int(Some(parts.len() as i64)),
            ],
        )
        .await
        .map(|n| n == 1)
    }

    async fn insert_demo_history(
        &self,
        parts: &[PartDay],
        totals: &[CustomerDay],
    ) -> StoreResult<()> {
        self.write_days(parts, totals).await
    }

    async fn has_history(&self) -> StoreResult<bool> {
        Ok(self
            .one("has_history", sql::HAS_HISTORY, &[], |r| int(r, 0))
            .await?
            == Some(1))
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
        if customers.is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new());
        }
        let mut params = vec![
            P::Text(part.map(str::to_owned)),
            P::Date(from),
            P::Date(to),
            P::Text(after.map(|a| a.0.clone())),
            P::Text(after.map(|a| a.1.clone())),
            match after {
                Some(a) => P::Date(a.2),
                None => P::Text(None),
            },
            P::Int(Some(i64::from(limit))),
        ];
        params.extend(customers.into_iter().flatten().map(|c| t(c.as_str())));
        self.many(
            "part_history",
            &sql::part_history(
                customers.map(<[String]>::len),
                part.is_some(),
                after.is_some(),
            ),
            &params,
            part_day,
        )
        .await
    }

    async fn customer_history(
        &self,
        customers: Option<&[String]>,
        from: time::Date,
        to: time::Date,
    ) -> StoreResult<Vec<CustomerDay>> {
        if customers.is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new());
        }
        let mut params = vec![P::Date(from), P::Date(to)];
        params.extend(customers.into_iter().flatten().map(|c| t(c.as_str())));
        self.many(
            "customer_history",
            &sql::customer_history(customers.map(<[String]>::len)),
            &params,
            customer_day,
        )
        .await
    }

    async fn prune_history(&self, before: time::Date, batch: u32) -> StoreResult<u64> {
        let n = self
            .one(
                "prune_history",
                sql::PRUNE_HISTORY,
                &[P::Date(before), P::Int(Some(i64::from(batch)))],
                |r| int(r, 0),
            )
            .await?;
        Ok(n.unwrap_or(0) as u64)
    }
}
