//! API tokens: how internal tools (dashboards, reconciliation scripts, BI loaders) call
//! `/graphql` and the exports without a browser session.
//!
//! A token is issued by an admin, holds a set of scopes and, for inventory, an ERP scope
//! under the customers' rule. Its secret (`cpt_` + 256 random bits, base64url) is shown
//! once; only its SHA-256 is stored. A secret with 256 bits of entropy cannot be guessed,
//! so a fast hash is enough, and looking it up by that hash reveals nothing useful.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use super::AdminIdentity;
use crate::domain::ErpScope;
use crate::domain::audit::Action;
use crate::store::{ApiTokenRecord, ApiTokenStore, AuditStore, NewAuditEntry, StoreError};

/// Leaked tokens are easy to find: secret scanners can match this prefix.
pub const SECRET_PREFIX: &str = "cpt_";
/// How long a token lives unless the admin picks another date.
pub const DEFAULT_LIFETIME: time::Duration = time::Duration::days(365);
/// `last_used_at` is written at most this often per token.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Refused uses of one revoked or expired token are audited at most this often, so a
/// script stuck in a retry loop cannot flood the audit log.
const REFUSAL_AUDIT_EVERY: Duration = Duration::from_secs(1);
/// At most this many tokens are tracked for the two limits above.
const TRACKED: usize = 10_000;

/// What a token may do. Each names exactly the fields it opens (see `graphql::guards`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    InventoryRead,
    CustomersRead,
    CustomersWrite,
    AuditRead,
    SessionsRead,
    AnalyticsRead,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::InventoryRead,
        Scope::CustomersRead,
        Scope::CustomersWrite,
        Scope::AuditRead,
        Scope::SessionsRead,
        Scope::AnalyticsRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::InventoryRead => "inventory:read",
            Scope::CustomersRead => "customers:read",
            Scope::CustomersWrite => "customers:write",
            Scope::AuditRead => "audit:read",
            Scope::SessionsRead => "sessions:read",
            Scope::AnalyticsRead => "analytics:read",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Scope::InventoryRead => "read inventory within the token's ERP customers",
            Scope::CustomersRead => "list portal accounts and ERP customer names",
            Scope::CustomersWrite => "create and change accounts, reset passwords",
            Scope::AuditRead => "read the audit log",
            Scope::SessionsRead => "list signed-in customers",
            Scope::AnalyticsRead => "read usage analytics",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|c| c.name() == s.trim())
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    pub fn contains(self, s: Scope) -> bool {
        self.0 & (1 << s as u8) != 0
    }

    pub fn with(self, s: Scope) -> Scopes {
        Scopes(self.0 | (1 << s as u8))
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Space-separated names, as stored. Unknown names are an error naming them.
    pub fn parse_list<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Scopes, String> {
        let mut set = Scopes::default();
        for n in names {
            let n = n.trim();
            if n.is_empty() {
                continue;
            }
            set = set.with(Scope::parse(n).ok_or_else(|| format!("unknown scope {n:?}"))?);
        }
        Ok(set)
    }

    pub fn to_stored(self) -> String {
        self.iter().map(Scope::name).collect::<Vec<_>>().join(" ")
    }
}

/// A caller authenticated by a token.
#[derive(Debug, Clone)]
pub struct TokenIdentity {
    pub token_id: i64,
    pub name: String,
    pub scopes: Scopes,
    /// The ERP customers `inventory:read` covers (the customers' rule).
    pub erp_scope: ErpScope,
    /// Who the audit log names for what the token does: `api:<name>`.
    pub actor: AdminIdentity,
    /// The token's own budget, rows per minute; `None`: the portal's default.
    pub rows_per_minute: Option<u32>,
}

/// Why a bearer secret was refused; every kind answers the same 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejected {
    Unknown,
    Revoked,
    Expired,
    /// The app database did not answer: 503, not 401.
    Unavailable,
}

/// A token just created: the record and the secret, which exists only here.
pub struct IssuedToken {
    pub record: ApiTokenRecord,
    pub secret: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    // The OS generator directly (not a user-space one seeded from it): these secrets
    // outlive the process by a year.
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random generator works");
    format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Issues, lists, revokes and checks tokens.
pub struct ApiTokens {
    store: Arc<dyn ApiTokenStore>,
    audit: Arc<dyn AuditStore>,
    /// When each token's `last_used_at` was last written, and its last audited refusal.
    touched: Mutex<HashMap<i64, Instant>>,
    refused: Mutex<HashMap<i64, Instant>>,
}

impl std::fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTokens").finish_non_exhaustive()
    }
}

/// What an admin asks for when creating a token.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub scopes: Scopes,
    pub erp_customer_name: String,
    pub expires_at: Option<OffsetDateTime>,
    pub rows_per_minute: Option<u32>,
}

/// Records `key` in `map` unless it was recorded less than `every` ago; whether it was.
fn due(map: &Mutex<HashMap<i64, Instant>>, key: i64, every: Duration) -> bool {
    let mut m = map.lock();
    let now = Instant::now();
    if m.get(&key).is_some_and(|t| now.duration_since(*t) < every) {
        return false;
    }
    if m.len() >= TRACKED {
        m.retain(|_, t| now.duration_since(*t) < every);
        if m.len() >= TRACKED {
            m.clear();
        }
    }
    m.insert(key, now);
    true
}

impl ApiTokens {
    pub fn new(store: Arc<dyn ApiTokenStore>, audit: Arc<dyn AuditStore>) -> ApiTokens {
        ApiTokens {
            store,
            audit,
            touched: Mutex::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
        }
    }

    pub async fn create(
        &self,
        admin: &AdminIdentity,
        new: NewToken,
    ) -> Result<IssuedToken, StoreError> {
        let secret = new_secret();
        let now = OffsetDateTime::now_utc();
        let record = ApiTokenRecord {
            id: 0,
            name: new.name.clone(),
            token_hash: hash_secret(&secret),
            scopes: new.scopes.to_stored(),
            erp_customer_name: new.erp_customer_name.clone(),
            created_by: crate::store::fits::TOKEN_CREATED_BY.cut(&admin.username),
            created_at: now,
            expires_at: new.expires_at.unwrap_or(now + DEFAULT_LIFETIME),
            last_used_at: None,
            revoked_at: None,
            revoked_by: None,
            rows_per_minute: new.rows_per_minute.map(i64::from),
        };
        let audit = NewAuditEntry {
            timestamp: now,
            admin_username: admin.username.clone(),
            action_type: Action::ApiTokenCreate.as_str().to_owned(),
            target_customer_id: None,
            target_customer_email: None,
            details: Some(
                json!({
                    "token": new.name,
                    "scopes": record.scopes,
                    "erp_customer_name": new.erp_customer_name,
                    "expires_at": crate::store::format_ts(record.expires_at),
                })
                .to_string(),
            ),
        };
        let record = self.store.insert_api_token(&record, &audit).await?;
        tracing::info!(token_id = record.id, name = %record.name, by = %admin.username, "API token created");
        Ok(IssuedToken { record, secret })
    }

    pub async fn list(&self) -> Result<Vec<ApiTokenRecord>, StoreError> {
        self.store.list_api_tokens().await
    }

    /// Revokes a token; `false` if it was revoked already. The next request with it fails.
    pub async fn revoke(&self, admin: &AdminIdentity, id: i64) -> Result<bool, StoreError> {
        let now = OffsetDateTime::now_utc();
        let audit = NewAuditEntry {
            timestamp: now,
            admin_username: admin.username.clone(),
            action_type: Action::ApiTokenRevoke.as_str().to_owned(),
            target_customer_id: None,
            target_customer_email: None,
            details: Some(json!({ "token_id": id }).to_string()),
        };
        let revoked = self
            .store
            .revoke_api_token(
                id,
                &crate::store::fits::TOKEN_REVOKED_BY.cut(&admin.username),
                now,
                &audit,
            )
            .await?;
        if revoked {
            tracing::info!(token_id = id, by = %admin.username, "API token revoked");
        }
        Ok(revoked)
    }

    /// The caller behind a bearer secret. Never logs the secret.
    pub async fn authenticate(
        &self,
        secret: &str,
        client_ip: Option<&str>,
    ) -> Result<TokenIdentity, TokenRejected> {
        let secret = secret.trim();
        if !secret.starts_with(SECRET_PREFIX) || secret.len() > 200 {
            return Err(TokenRejected::Unknown);
        }
        let hash = hash_secret(secret);
        let record = match self.store.api_token_by_hash(&hash).await {
            Ok(Some(r)) => r,
            Ok(None) => return Err(TokenRejected::Unknown),
            Err(e) => {
                tracing::warn!(error = %e, "could not check an API token");
                return Err(TokenRejected::Unavailable);
            }
        };
        // The lookup matched on the hash; compare again in constant time so the answer
        // never depends on how much of a stored hash a guess shares.
        if !bool::from(record.token_hash.as_bytes().ct_eq(hash.as_bytes())) {
            return Err(TokenRejected::Unknown);
        }
        let now = OffsetDateTime::now_utc();
        let refused = if record.revoked_at.is_some() {
            Some(TokenRejected::Revoked)
        } else if record.expires_at <= now {
            Some(TokenRejected::Expired)
        } else {
            None
        };
        if let Some(why) = refused {
            if due(&self.refused, record.id, REFUSAL_AUDIT_EVERY) {
                let entry = NewAuditEntry {
                    timestamp: now,
                    admin_username: format!("api:{}", record.name),
                    action_type: Action::ApiTokenRefused.as_str().to_owned(),
                    target_customer_id: None,
                    target_customer_email: None,
                    details: Some(
                        json!({
                            "token_id": record.id,
                            "reason": if why == TokenRejected::Revoked { "revoked" } else { "expired" },
                            "ip_address": client_ip,
                        })
                        .to_string(),
                    ),
                };
                if let Err(e) = self.audit.append_audit(&entry).await {
                    tracing::warn!(error = %e, "could not audit a refused API token");
                }
            }
            tracing::info!(token_id = record.id, reason = ?why, "API token refused");
            return Err(why);
        }
        if due(&self.touched, record.id, TOUCH_EVERY)
            && let Err(e) = self.store.touch_api_token(record.id, now).await
        {
            tracing::warn!(error = %e, "could not record an API token's last use");
        }
        let scopes = Scopes::parse_list(record.scopes.split_whitespace()).unwrap_or_default();
        Ok(TokenIdentity {
            token_id: record.id,
            actor: AdminIdentity {
                username: format!("api:{}", record.name),
                display_name: record.name.clone(),
                session_id: String::new(),
                auth_method: "token".to_owned(),
                must_enrol_two_factor: false,
            },
            name: record.name,
            scopes,
            erp_scope: ErpScope::parse(&record.erp_customer_name),
            rows_per_minute: record.rows_per_minute.and_then(|n| u32::try_from(n).ok()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_recognisable() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a, b);
        assert!(a.starts_with("cpt_"));
        // 32 bytes of base64url without padding: 43 characters.
        assert_eq!(a.len(), 4 + 43);
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), hash_secret(&b));
    }

    #[test]
    fn scopes_parse_and_store_by_name() {
        let s = Scopes::parse_list(["inventory:read", " audit:read ", ""]).unwrap();
        assert!(s.contains(Scope::InventoryRead) && s.contains(Scope::AuditRead));
        assert!(!s.contains(Scope::CustomersWrite));
        assert_eq!(s.to_stored(), "inventory:read audit:read");
        assert!(Scopes::parse_list(["inventory:write"]).is_err());
        assert_eq!(
            Scopes::parse_list(s.to_stored().split_whitespace()).unwrap(),
            s
        );
    }

    /// Collects everything logged on this thread.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn secrets_are_never_logged() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            crate::store::sqlite::SqliteStore::open(
                &dir.path().join("p.db"),
                crate::domain::Zone::utc(),
            )
            .await
            .unwrap(),
        );
        let tokens = ApiTokens::new(store.clone(), store.clone());
        let admin = AdminIdentity {
            username: "cp_admin".into(),
            display_name: "Admin".into(),
            session_id: "s".into(),
            auth_method: "local".into(),
            must_enrol_two_factor: false,
        };
        let issued = tokens
            .create(
                &admin,
                NewToken {
                    name: "logged".into(),
                    scopes: Scopes::default().with(Scope::AuditRead),
                    erp_customer_name: String::new(),
                    expires_at: None,
                    rows_per_minute: None,
                },
            )
            .await
            .unwrap();
        let who = tokens
            .authenticate(&issued.secret, Some("10.0.0.1"))
            .await
            .unwrap();
        assert_eq!(who.name, "logged");
        tokens.revoke(&admin, issued.record.id).await.unwrap();
        assert_eq!(
            tokens.authenticate(&issued.secret, None).await.err(),
            Some(TokenRejected::Revoked)
        );
        assert!(
            format!("{issued:?}").find(&issued.secret).is_none(),
            "Debug hides it"
        );

        let log = String::from_utf8(captured.0.lock().clone()).unwrap();
        assert!(
            log.contains("API token created") && log.contains("API token refused"),
            "{log}"
        );
        // Neither the secret nor any long part of it.
        assert!(!log.contains(&issued.secret[4..20]), "{log}");
    }
}
