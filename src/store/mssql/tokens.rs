//! API tokens (`ApiTokens`).

use super::*;

fn api_token(row: &Row) -> StoreResult<ApiTokenRecord> {
    Ok(ApiTokenRecord {
        id: int(row, 0)?,
        name: req_text(row, 1)?,
        token_hash: req_text(row, 2)?,
        scopes: req_text(row, 3)?,
        erp_customer_name: text(row, 4)?.unwrap_or_default(),
        created_by: req_text(row, 5)?,
        created_at: req_utc(row, 6)?,
        expires_at: req_utc(row, 7)?,
        last_used_at: read_utc(row, 8)?,
        revoked_at: read_utc(row, 9)?,
        revoked_by: text(row, 10)?,
        rows_per_minute: opt_int(row, 11)?,
    })
}

#[async_trait]
impl ApiTokenStore for MssqlStore {
    async fn insert_api_token(
        &self,
        token: &ApiTokenRecord,
        audit: &NewAuditEntry,
    ) -> StoreResult<ApiTokenRecord> {
        let mut params = vec![
            t(&token.name),
            t(&token.token_hash),
            t(&token.scopes),
            t(&token.erp_customer_name),
            t(&token.created_by),
            P::Time(utc(token.created_at)),
            P::Time(utc(token.expires_at)),
            P::Int(token.rows_per_minute),
        ];
        params.extend(audit_params(audit, &self.zone));
        self.one(
            "insert_api_token",
            sql::INSERT_API_TOKEN,
            &params,
            api_token,
        )
        .await?
        .ok_or_else(|| StoreError::Backend("the new token row was not returned".into()))
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiTokenRecord>> {
        self.many("list_api_tokens", sql::LIST_API_TOKENS, &[], api_token)
            .await
    }

    async fn api_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiTokenRecord>> {
        self.one(
            "api_token_by_hash",
            sql::API_TOKEN_BY_HASH,
            &[t(token_hash)],
            api_token,
        )
        .await
    }

    async fn touch_api_token(&self, id: i64, at: OffsetDateTime) -> StoreResult<()> {
        self.exec(
            "touch_api_token",
            sql::TOUCH_API_TOKEN,
            &[P::Time(utc(at)), P::Int(Some(id))],
        )
        .await
        .map(|_| ())
    }

    async fn revoke_api_token(
        &self,
        id: i64,
        by: &str,
        at: OffsetDateTime,
        audit: &NewAuditEntry,
    ) -> StoreResult<bool> {
        let mut params = vec![P::Int(Some(id)), P::Time(utc(at)), t(by)];
        params.extend(audit_params(audit, &self.zone));
        let n = self
            .one("revoke_api_token", sql::REVOKE_API_TOKEN, &params, |r| {
                Ok(r.get::<i32, _>(0).unwrap_or(0))
            })
            .await?
            .unwrap_or(0);
        match n {
            -1 => Err(StoreError::NotFound),
            n => Ok(n > 0),
        }
    }
}
