//! API tokens (`ApiTokens`).

use super::*;

fn token_from_row(r: &Row<'_>) -> rusqlite::Result<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        token_hash: r.get(2)?,
        scopes: r.get(3)?,
        erp_customer_name: r.get(4)?,
        created_by: r.get(5)?,
        created_at: read_ts(r, 6)?,
        expires_at: read_ts(r, 7)?,
        last_used_at: opt_ts(r, 8)?,
        revoked_at: opt_ts(r, 9)?,
        revoked_by: r.get(10)?,
        rows_per_minute: r.get(11)?,
    })
}

#[async_trait]
impl ApiTokenStore for SqliteStore {
    async fn insert_api_token(
        &self,
        token: &ApiTokenRecord,
        audit: &NewAuditEntry,
    ) -> StoreResult<ApiTokenRecord> {
        let t = token.clone();
        let audit = audit.clone();
        self.with_conn("insert_api_token", move |c| {
            let zone = c.zone.clone();
            let tx = c.transaction().map_err(backend)?;
            tx.execute_cached(
                sql::INSERT_API_TOKEN,
                params![
                    t.name,
                    t.token_hash,
                    t.scopes,
                    t.erp_customer_name,
                    t.created_by,
                    ts(t.created_at),
                    ts(t.expires_at),
                    t.rows_per_minute
                ],
            )
            .map_err(backend)?;
            let id = tx.last_insert_rowid();
            insert_audit(&tx, &audit, &zone).map_err(backend)?;
            let row = tx
                .query_row_cached(sql::API_TOKEN_BY_ID, [id], token_from_row)
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(row)
        })
        .await
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiTokenRecord>> {
        self.with_conn("list_api_tokens", |c| {
            let mut stmt = c.prepare_cached(sql::LIST_API_TOKENS).map_err(backend)?;
            let rows = stmt.query_map([], token_from_row).map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn api_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiTokenRecord>> {
        let hash = token_hash.to_owned();
        self.with_conn("api_token_by_hash", move |c| {
            c.query_row_cached(sql::API_TOKEN_BY_HASH, [hash], token_from_row)
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn touch_api_token(&self, id: i64, at: OffsetDateTime) -> StoreResult<()> {
        self.with_conn("touch_api_token", move |c| {
            c.execute_cached(sql::TOUCH_API_TOKEN, params![ts(at), id])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }

    async fn revoke_api_token(
        &self,
        id: i64,
        by: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let (by, audit) = (by.to_owned(), audit.clone());
        self.with_conn("revoke_api_token", move |c| {
            let zone = c.zone.clone();
            let tx = c.transaction().map_err(backend)?;
            let exists: bool = tx
                .query_row_cached(sql::API_TOKEN_EXISTS, [id], |r| r.get(0))
                .map_err(backend)?;
            if !exists {
                return Err(StoreError::NotFound);
            }
            let n = tx
                .execute_cached(sql::REVOKE_API_TOKEN, params![ts(at), by, id])
                .map_err(backend)?;
            if n > 0 {
                insert_audit(&tx, &audit, &zone).map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }
}
