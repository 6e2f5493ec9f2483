//! The inventory's daily history (`HistoryParts`, `InventoryHistory`, `HistoryTotals`,
//! `HistoryCaptures`). Days are the portal's calendar days as `YYYY-MM-DD` text.

use super::*;

fn day_text(d: time::Date) -> String {
    d.to_string()
}

fn read_day(r: &Row<'_>, idx: usize) -> rusqlite::Result<time::Date> {
    let text: String = r.get(idx)?;
    crate::store::parse_day(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            format!("not a day: {text:?}").into(),
        )
    })
}

fn figures(r: &Row<'_>, at: usize) -> rusqlite::Result<DayFigures> {
    Ok(DayFigures {
        on_hand: r.get(at)?,
        lots: r.get(at + 1)?,
        expired_qty: r.get(at + 2)?,
        expiring_qty: r.get(at + 3)?,
        received_qty: r.get(at + 4)?,
    })
}

fn part_day(r: &Row<'_>) -> rusqlite::Result<PartDay> {
    Ok(PartDay {
        erp_customer_name: r.get(0)?,
        part: r.get(1)?,
        day: read_day(r, 2)?,
        figures: figures(r, 3)?,
        demo: r.get::<_, i64>(8)? != 0,
    })
}

fn customer_day(r: &Row<'_>) -> rusqlite::Result<CustomerDay> {
    Ok(CustomerDay {
        erp_customer_name: r.get(0)?,
        day: read_day(r, 1)?,
        figures: figures(r, 2)?,
        parts: r.get(7)?,
        demo: r.get::<_, i64>(8)? != 0,
    })
}

/// Writes part and total rows inside `tx` (demo rows never replace what is there).
fn write_days(
    tx: &rusqlite::Transaction,
    parts: &[PartDay],
    totals: &[CustomerDay],
) -> rusqlite::Result<()> {
    let mut key_insert = tx.prepare_cached(sql::HISTORY_PART_KEY_INSERT)?;
    let mut key = tx.prepare_cached(sql::HISTORY_PART_KEY)?;
    let mut day = tx.prepare_cached(sql::UPSERT_HISTORY_DAY)?;
    for p in parts {
        key_insert.execute(params![p.erp_customer_name, p.part])?;
        let part_key: i64 = key.query_row(params![p.erp_customer_name, p.part], |r| r.get(0))?;
        let f = &p.figures;
        day.execute(params![
            part_key,
            day_text(p.day),
            f.on_hand,
            f.lots,
            f.expired_qty,
            f.expiring_qty,
            f.received_qty,
            i64::from(p.demo)
        ])?;
    }
    let mut total = tx.prepare_cached(sql::UPSERT_HISTORY_TOTAL)?;
    for t in totals {
        let f = &t.figures;
        total.execute(params![
            t.erp_customer_name,
            day_text(t.day),
            f.on_hand,
            f.lots,
            f.expired_qty,
            f.expiring_qty,
            f.received_qty,
            t.parts,
            i64::from(t.demo)
        ])?;
    }
    Ok(())
}

#[async_trait]
impl HistoryStore for SqliteStore {
    async fn claim_history_day(
        &self,
        day: time::Date,
        owner: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        let owner = fits::HISTORY_OWNER.cut(owner);
        self.with_conn("claim_history_day", move |c| {
            c.execute_cached(
                sql::CLAIM_HISTORY_DAY,
                params![day_text(day), owner, ts(until), ts(now)],
            )
            .map(|n| n == 1)
            .map_err(backend)
        })
        .await
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
        let (parts, totals) = (parts.to_vec(), totals.to_vec());
        self.with_conn("finish_history_day", move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let held: i64 = tx
                .query_row_cached(sql::HISTORY_DAY_HELD, params![day_text(day), owner], |r| {
                    r.get(0)
                })
                .map_err(backend)?;
            if held == 0 {
                return Ok(false);
            }
            write_days(&tx, &parts, &totals).map_err(backend)?;
            tx.execute_cached(
                sql::FINISH_HISTORY_DAY,
                params![day_text(day), owner, ts(now), parts.len() as i64],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(true)
        })
        .await
    }

    async fn insert_demo_history(
        &self,
        parts: &[PartDay],
        totals: &[CustomerDay],
    ) -> StoreResult<()> {
        let (parts, totals) = (parts.to_vec(), totals.to_vec());
        self.with_conn("insert_demo_history", move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            write_days(&tx, &parts, &totals).map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn has_history(&self) -> StoreResult<bool> {
        self.with_conn("has_history", |c| {
            c.query_row_cached(sql::HAS_HISTORY, [], |r| r.get::<_, i64>(0))
                .map(|n| n != 0)
                .map_err(backend)
        })
        .await
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
        let names = customers.map(<[String]>::to_vec);
        let part = part.map(str::to_owned);
        let after = after.cloned();
        self.with_conn("part_history", move |c| {
            let statement = sql::part_history(
                names.as_ref().map(Vec::len),
                part.is_some(),
                after.is_some(),
            );
            let mut stmt = c.prepare_cached(&statement).map_err(backend)?;
            let (after_customer, after_part, after_day) = match after {
                Some((c, p, d)) => (Some(c), Some(p), Some(day_text(d))),
                None => (None, None, None),
            };
            let mut values: Vec<Box<dyn rusqlite::ToSql>> = vec![
                Box::new(part),
                Box::new(day_text(from)),
                Box::new(day_text(to)),
                Box::new(after_customer),
                Box::new(after_part),
                Box::new(after_day),
                Box::new(i64::from(limit)),
            ];
            for n in names.into_iter().flatten() {
                values.push(Box::new(n));
            }
            let rows = stmt
                .query_map(
                    rusqlite::params_from_iter(values.iter().map(|v| v.as_ref())),
                    part_day,
                )
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
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
        let names = customers.map(<[String]>::to_vec);
        self.with_conn("customer_history", move |c| {
            let statement = sql::customer_history(names.as_ref().map(Vec::len));
            let mut stmt = c.prepare_cached(&statement).map_err(backend)?;
            let mut values = vec![day_text(from), day_text(to)];
            values.extend(names.into_iter().flatten());
            let rows = stmt
                .query_map(rusqlite::params_from_iter(values.iter()), customer_day)
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn prune_history(&self, before: time::Date, batch: u32) -> StoreResult<u64> {
        self.with_conn("prune_history", move |c| {
            let cutoff = day_text(before);
            let parts = c
                .execute_cached(sql::PRUNE_HISTORY, params![cutoff, i64::from(batch)])
                .map_err(backend)?;
            c.execute_cached(sql::PRUNE_HISTORY_TOTALS, params![cutoff, i64::from(batch)])
                .map_err(backend)?;
            c.execute_cached(sql::PRUNE_HISTORY_CAPTURES, params![cutoff])
                .map_err(backend)?;
            Ok(parts as u64)
        })
        .await
    }
}
