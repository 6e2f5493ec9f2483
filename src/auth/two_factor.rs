//! Two-step sign-in: an authenticator app's six-digit code (TOTP, see `totp`) after the
//! password, for accounts that turned it on, with ten single-use recovery codes for a lost
//! phone.
//!
//! Codes are checked like passwords: counted by the sign-in throttle under the account's
//! own name (`2fa:<account>`) and the address (a progressive wait per account, hard limits
//! per address), compared in constant time, accepted one 30-second step either side of
//! now, and never twice (the step used is recorded in one conditional write, so no two
//! instances accept the same code). Only a hash of each recovery code is kept.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use serde_json::json;
use time::OffsetDateTime;

use super::throttle::{self, Throttle};
use super::totp::{Sealer, TotpSecret};
use super::{ClientInfo, SYSTEM_ACTOR};
use crate::domain::CustomerId;
use crate::domain::audit::Action;
use crate::signing::{Purpose, Signer};
use crate::store::{
    LoginThrottleStore, NewAuditEntry, StoreError, TwoFactorRecord, TwoFactorStore,
};

/// How long "trust this browser" skips the code.
pub const TRUST_DAYS: i64 = 30;
/// The cookie that carries a browser's trust mark.
pub const TRUST_COOKIE: &str = "cp_trust";
/// Longer cookie values are ignored (not parsed).
const MAX_TRUST_COOKIE: usize = 256;

/// Recovery codes issued at a time.
pub const RECOVERY_CODES: usize = 10;
/// The name an authenticator app shows beside the account.
pub const ISSUER: &str = "WePackItAll Customer Portal";

/// The `TwoFactor.account_key` of a customer.
pub fn customer_account(id: CustomerId) -> String {
    format!("customer:{}", id.0)
}

/// The `TwoFactor.account_key` of a staff member: by how they sign in and their name, so
/// the local admin and a directory account of the same name are two accounts.
pub fn staff_account(auth_method: &str, username: &str) -> String {
    format!("staff-{auth_method}:{username}")
}

impl<'a> super::access::Enroller<'a> {
    /// The `TwoFactor.account_key` of the signed-in person.
    pub fn account(&self) -> String {
        match self {
            Self::Customer(c) => customer_account(c.customer_id),
            Self::Staff(a) => staff_account(&a.auth_method, &a.username),
        }
    }

    /// The name an authenticator app shows for the account.
    pub fn label(&self) -> &'a str {
        match self {
            Self::Customer(c) => &c.email,
            Self::Staff(a) => &a.username,
        }
    }

    /// Whose audit rows their own two-step actions make.
    pub fn audit(&self) -> AuditTarget<'a> {
        match self {
            Self::Customer(c) => AuditTarget::customer(c.customer_id, &c.email),
            Self::Staff(a) => AuditTarget::staff(&a.username),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwoFactorError {
    /// Not a current code of the account's app, one already used, or not a recovery code
    /// of the account (deliberately one case).
    WrongCode,
    /// Too many wrong codes: wait this long.
    Throttled(Duration),
    /// Two-step sign-in is already on (turn it off first to enrol another app).
    AlreadyOn,
    /// No enrolment begun, or two-step sign-in is off.
    NotOn,
    /// The app database did not answer.
    Unavailable,
}

impl TwoFactorError {
    pub fn message(&self) -> &'static str {
        match self {
            TwoFactorError::WrongCode => {
                "That code is not right. Enter the current code from your app, or one of your recovery codes."
            }
            TwoFactorError::Throttled(_) => {
                "Too many wrong codes. Please wait before trying again."
            }
            TwoFactorError::AlreadyOn => "Two-step sign-in is already on for this account.",
            TwoFactorError::NotOn => "Two-step sign-in is not on for this account.",
            TwoFactorError::Unavailable => {
                "The portal could not check the code. Please try again shortly."
            }
        }
    }
}

impl From<StoreError> for TwoFactorError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "two-step sign-in: app database error");
        TwoFactorError::Unavailable
    }
}

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    pub on: bool,
    /// An enrolment was begun and not confirmed.
    pub pending: bool,
    pub recovery_codes_left: u32,
}

/// What an app needs to enrol: the secret (for typing), the `otpauth://` link and the QR
/// code of that link.
#[derive(Clone)]
pub struct Enrolment {
    /// Base32, in groups of four.
    pub secret: String,
    pub uri: String,
    pub qr: Qr,
}

/// A QR code as square modules: `size` × `size`, dark ones listed row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qr {
    pub size: usize,
    pub dark: Vec<bool>,
}

impl Qr {
    fn of(text: &str) -> Option<Qr> {
        let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
        let size = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        Some(Qr { size, dark })
    }

    /// An SVG path (`M x y h1 v1 h-1 z` per dark module, runs joined) drawing the dark
    /// modules, offset by `quiet` modules of margin.
    pub fn svg_path(&self, quiet: usize) -> String {
        let mut d = String::new();
        for y in 0..self.size {
            let mut x = 0;
            while x < self.size {
                if !self.dark[y * self.size + x] {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.size && self.dark[y * self.size + x] {
                    x += 1;
                }
                d.push_str(&format!(
                    "M{} {}h{}v1h-{}z",
                    start + quiet,
                    y + quiet,
                    x - start,
                    x - start
                ));
            }
        }
        d
    }
}

/// "Trust this browser" marks: `account|issued` (milliseconds) and its HMAC, base64url.
/// A mark is worth nothing for another account or another portal, runs out after
/// [`TRUST_DAYS`], and stops counting when the account forgets its trusted browsers.
#[derive(Clone)]
pub struct TrustMarks {
    signer: Signer,
}

impl std::fmt::Debug for TrustMarks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrustMarks([redacted])")
    }
}

fn millis(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos() / 1_000_000
}

impl TrustMarks {
    pub fn new(secret_key: &str) -> TrustMarks {
        TrustMarks {
            signer: Signer::new(secret_key.as_bytes(), Purpose::TrustedBrowser),
        }
    }

    /// A mark for `account`, issued `at`.
    pub fn mark(&self, account: &str, at: OffsetDateTime) -> String {
        let payload = format!("{account}|{}", millis(at));
        let tag = self.signer.tag(payload.as_bytes(), 16);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// Whether `cookie` is a mark for `account`, issued after `trusted_since` and less
    /// than [`TRUST_DAYS`] before `now`.
    pub fn trusts(
        &self,
        cookie: Option<&str>,
        account: &str,
        trusted_since: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> bool {
        let Some((payload, tag)) = cookie
            .filter(|c| c.len() <= MAX_TRUST_COOKIE)
            .and_then(|c| c.split_once('.'))
        else {
            return false;
        };
        let (Ok(payload), Ok(tag)) = (URL_SAFE_NO_PAD.decode(payload), URL_SAFE_NO_PAD.decode(tag))
        else {
            return false;
        };
        if !self.signer.verify(&payload, &tag) {
            return false;
        }
        let Some((for_account, issued)) = std::str::from_utf8(&payload)
            .ok()
            .and_then(|p| p.rsplit_once('|'))
        else {
            return false;
        };
        let Ok(issued) = issued.parse::<i128>() else {
            return false;
        };
        let fresh = millis(now) - issued < i128::from(TRUST_DAYS) * 24 * 3600 * 1000;
        let not_forgotten = trusted_since.is_none_or(|since| issued > millis(since));
        for_account == account && fresh && not_forgotten
    }
}

pub struct TwoFactor {
    store: Arc<dyn TwoFactorStore>,
    sealer: Sealer,
    trust: TrustMarks,
    throttle: Throttle,
}

impl std::fmt::Debug for TwoFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwoFactor").finish_non_exhaustive()
    }
}

/// A recovery code: eight characters of base32 in two groups of four (40 bits; guessing is
/// throttled like a password).
fn new_recovery_code() -> String {
    let mut bytes = [0u8; 5];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random generator works");
    let code = super::totp::base32_encode(&bytes).to_lowercase();
    format!("{}-{}", &code[..4], &code[4..])
}

/// How a recovery code is stored: the hash of what was typed, case and dashes aside.
fn recovery_hash(typed: &str) -> String {
    let normal: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    super::tokens::hash_secret(&normal)
}

fn looks_like_recovery_code(typed: &str) -> bool {
    typed.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 8
        && typed.chars().any(|c| c.is_ascii_alphabetic())
}

fn now_unix() -> u64 {
    OffsetDateTime::now_utc().unix_timestamp().max(0) as u64
}

impl TwoFactor {
    pub fn new(
        store: Arc<dyn TwoFactorStore>,
        counts: Arc<dyn LoginThrottleStore>,
        secret_key: &str,
    ) -> TwoFactor {
        TwoFactor {
            store,
            sealer: Sealer::new(secret_key),
            trust: TrustMarks::new(secret_key),
            throttle: Throttle::new(counts),
        }
    }

    /// The account's second factor, if it is on (confirmed).
    async fn confirmed(&self, account: &str) -> Result<Option<TwoFactorRecord>, StoreError> {
        Ok(self
            .store
            .two_factor(account)
            .await?
            .filter(|r| r.confirmed_at.is_some()))
    }

    pub async fn status(&self, account: &str) -> Result<Status, StoreError> {
        let Some(record) = self.store.two_factor(account).await? else {
            return Ok(Status::default());
        };
        let on = record.confirmed_at.is_some();
        Ok(Status {
            on,
            pending: !on,
            recovery_codes_left: if on {
                self.store.recovery_codes_left(account).await?
            } else {
                0
            },
        })
    }

    /// Begins an enrolment (or begins it again with a new secret): the app is set up from
    /// what this returns, and [`TwoFactor::confirm`] turns it on with the app's first code.
    pub async fn begin(&self, account: &str, label: &str) -> Result<Enrolment, TwoFactorError> {
        let secret = TotpSecret::generate();
        if !self
            .store
            .begin_two_factor(
                account,
                &self.sealer.seal(&secret),
                OffsetDateTime::now_utc(),
            )
            .await?
        {
            return Err(TwoFactorError::AlreadyOn);
        }
        Ok(self.enrolment(&secret, label))
    }

    /// The enrolment begun and not yet confirmed, shown again (a reload of the page).
    pub async fn pending(
        &self,
        account: &str,
        label: &str,
    ) -> Result<Option<Enrolment>, TwoFactorError> {
        let Some(record) = self.store.two_factor(account).await? else {
            return Ok(None);
        };
        if record.confirmed_at.is_some() {
            return Ok(None);
        }
        Ok(self
            .sealer
            .open(&record.secret_sealed)
            .map(|s| self.enrolment(&s, label)))
    }

    fn enrolment(&self, secret: &TotpSecret, label: &str) -> Enrolment {
        let uri = secret.otpauth_uri(ISSUER, label);
        let b32 = secret.base32();
        let grouped = b32
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        // A link of this length always fits a QR code; should it not, the page still
        // shows the key for typing.
        let qr = Qr::of(&uri).unwrap_or_else(|| {
            tracing::error!("the enrolment link did not fit a QR code");
            Qr {
                size: 0,
                dark: Vec::new(),
            }
        });
        Enrolment {
            secret: grouped,
            uri,
            qr,
        }
    }

    /// Turns two-step sign-in on with the app's current code; returns the recovery codes
    /// (shown once; only their hashes are kept).
    pub async fn confirm(
        &self,
        account: &str,
        code: &str,
        audit: AuditTarget<'_>,
        client: &ClientInfo,
    ) -> Result<Vec<String>, TwoFactorError> {
        let record = self
            .store
            .two_factor(account)
            .await?
            .ok_or(TwoFactorError::NotOn)?;
        if record.confirmed_at.is_some() {
            return Err(TwoFactorError::AlreadyOn);
        }
        let secret = self
            .sealer
            .open(&record.secret_sealed)
            .ok_or(TwoFactorError::NotOn)?;
        let step = self
            .counted(account, client, || async {
                Ok(secret.verify(code, now_unix(), None))
            })
            .await?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
        let entry = audit.entry(Action::TwoFactorEnable, json!({ "ip_address": client.ip }));
        if !self
            .store
            .confirm_two_factor(
                account,
                step as i64,
                &hashes,
                OffsetDateTime::now_utc(),
                &entry,
            )
            .await?
        {
            return Err(TwoFactorError::NotOn);
        }
        tracing::info!(account, "two-step sign-in turned on");
        Ok(codes)
    }

    /// Whether a sign-in to the account must give a code: two-step sign-in is on and the
    /// browser carries no live trust mark for it (`trust_cookie`).
    pub async fn needs_code(
        &self,
        account: &str,
        trust_cookie: Option<&str>,
    ) -> Result<bool, StoreError> {
        let Some(record) = self.confirmed(account).await? else {
            return Ok(false);
        };
        let trusted = self.trust.trusts(
            trust_cookie,
            account,
            record.trusted_since,
            OffsetDateTime::now_utc(),
        );
        if trusted {
            tracing::info!(account, "two-step code skipped: a trusted browser");
        }
        Ok(!trusted)
    }

    /// Whether the account has two-step sign-in on.
    pub async fn is_on(&self, account: &str) -> Result<bool, StoreError> {
        Ok(self.confirmed(account).await?.is_some())
    }

    /// A mark that lets this browser skip the code of `account` for [`TRUST_DAYS`].
    pub fn trust_mark(&self, account: &str) -> String {
        self.trust.mark(account, OffsetDateTime::now_utc())
    }

    /// Every browser trusted so far must give a code again. Audited.
    pub async fn forget_browsers(
        &self,
        account: &str,
        audit: AuditTarget<'_>,
        client: &ClientInfo,
    ) -> Result<(), TwoFactorError> {
        let entry = audit.entry(
            Action::TwoFactorTrustReset,
            json!({ "ip_address": client.ip }),
        );
        if !self
            .store
            .forget_trusted_browsers(account, OffsetDateTime::now_utc(), &entry)
            .await?
        {
            return Err(TwoFactorError::NotOn);
        }
        tracing::info!(account, "trusted browsers forgotten");
        Ok(())
    }

    /// Checks a code at sign-in: the app's current code (used up) or a recovery code
    /// (used up, audited).
    pub async fn check(
        &self,
        account: &str,
        code: &str,
        audit: AuditTarget<'_>,
        client: &ClientInfo,
    ) -> Result<(), TwoFactorError> {
        let record = self
            .confirmed(account)
            .await?
            .ok_or(TwoFactorError::NotOn)?;
        let secret = self.sealer.open(&record.secret_sealed);
        if secret.is_none() {
            // Sealed under another SECRET_KEY: only recovery codes can pass now.
            tracing::warn!(
                account,
                "two-step secret cannot be opened with this SECRET_KEY"
            );
        }
        let store = self.store.clone();
        let recovery = looks_like_recovery_code(code);
        self.counted(account, client, || async {
            if recovery {
                // Used up and audited in one step.
                let entry = audit.entry(
                    Action::TwoFactorRecoveryUsed,
                    json!({ "ip_address": client.ip }),
                );
                let used = store
                    .use_recovery_code(
                        account,
                        &recovery_hash(code),
                        OffsetDateTime::now_utc(),
                        &entry,
                    )
                    .await?;
                if used {
                    tracing::info!(account, "two-step sign-in: a recovery code was used");
                }
                return Ok(used.then_some(0));
            }
            let Some(step) = secret.as_ref().and_then(|s| {
                s.verify(code, now_unix(), record.last_step.map(|l| l.max(0) as u64))
            }) else {
                return Ok(None);
            };
            // One conditional write: the same code on another instance, or twice at once
            // here, is accepted once.
            Ok(store
                .use_two_factor_step(account, step as i64)
                .await?
                .then_some(step))
        })
        .await?;
        Ok(())
    }

    /// Turns two-step sign-in off for an account without its code (an admin's reset of a
    /// lost phone); whether it was on. Audited under `audit`'s actor.
    pub async fn reset(
        &self,
        account: &str,
        audit: AuditTarget<'_>,
    ) -> Result<bool, TwoFactorError> {
        let entry = audit.entry(Action::TwoFactorReset, json!({}));
        let was_on = self.store.remove_two_factor(account, &entry).await?;
        tracing::info!(
            account,
            was_on,
            actor = audit.actor,
            "two-step sign-in reset"
        );
        Ok(was_on)
    }

    /// Turns two-step sign-in off after a current code (or a recovery code).
    pub async fn turn_off(
        &self,
        account: &str,
        code: &str,
        audit: AuditTarget<'_>,
        client: &ClientInfo,
    ) -> Result<(), TwoFactorError> {
        self.check(account, code, audit, client).await?;
        let entry = audit.entry(Action::TwoFactorDisable, json!({ "ip_address": client.ip }));
        if !self.store.remove_two_factor(account, &entry).await? {
            return Err(TwoFactorError::NotOn);
        }
        tracing::info!(account, "two-step sign-in turned off");
        Ok(())
    }

    /// Counts a code check like a password: refused unchecked when the account or the
    /// address had too many wrong ones; `check` answers the accepted step, or `None`.
    async fn counted<F, Fut>(
        &self,
        account: &str,
        client: &ClientInfo,
        check: F,
    ) -> Result<u64, TwoFactorError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<u64>, StoreError>>,
    {
        let key = throttle::fit(format!("2fa:{account}"));
        let attempt = self
            .throttle
            .begin(&key, client.throttle_ip(), false)
            .await
            .map_err(|r| match r {
                throttle::Refusal::TooMany { retry_after } => {
                    TwoFactorError::Throttled(retry_after)
                }
                throttle::Refusal::Unavailable => TwoFactorError::Unavailable,
            })?;
        match check().await {
            Ok(Some(step)) => {
                self.throttle.succeeded(attempt).await;
                Ok(step)
            }
            Ok(None) => {
                self.throttle.failed_attempt(attempt).await;
                tracing::info!(account, "wrong two-step code");
                Err(TwoFactorError::WrongCode)
            }
            Err(e) => {
                self.throttle.abandoned(attempt).await;
                Err(e.into())
            }
        }
    }
}

/// Whose account an audit row of two-step sign-in names.
#[derive(Debug, Clone, Copy)]
pub struct AuditTarget<'a> {
    pub customer_id: Option<CustomerId>,
    pub email: Option<&'a str>,
    /// `SYSTEM` for the customer's own actions, the admin's name for theirs.
    pub actor: &'a str,
}

impl AuditTarget<'_> {
    pub fn customer(id: CustomerId, email: &str) -> AuditTarget<'_> {
        AuditTarget {
            customer_id: Some(id),
            email: Some(email),
            actor: SYSTEM_ACTOR,
        }
    }

    /// A staff member's own action: the audit log names them, and no customer.
    pub fn staff(username: &str) -> AuditTarget<'_> {
        AuditTarget {
            customer_id: None,
            email: None,
            actor: username,
        }
    }

    fn entry(&self, action: Action, data: serde_json::Value) -> NewAuditEntry {
        NewAuditEntry {
            timestamp: OffsetDateTime::now_utc(),
            admin_username: self.actor.to_owned(),
            action_type: action.as_str().to_owned(),
            target_customer_id: self.customer_id,
            target_customer_email: self.email.map(str::to_owned),
            details: Some(action.details(&data)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trust_mark_is_for_one_account_until_forgotten_or_thirty_days_old() {
        let tf = TrustMarks::new("a secret key of some length");
        let now = OffsetDateTime::now_utc();
        let mark = tf.mark("customer:7", now);
        assert!(tf.trusts(Some(&mark), "customer:7", None, now));
        assert!(
            !tf.trusts(Some(&mark), "customer:8", None, now),
            "another account"
        );
        assert!(!tf.trusts(None, "customer:7", None, now));
        // Forgotten: marks issued before the reset no longer count.
        assert!(
            !tf.trusts(Some(&mark), "customer:7", Some(now), now),
            "issued at the reset"
        );
        assert!(!tf.trusts(
            Some(&mark),
            "customer:7",
            Some(now + time::Duration::seconds(1)),
            now
        ));
        assert!(tf.trusts(
            Some(&mark),
            "customer:7",
            Some(now - time::Duration::seconds(5)),
            now
        ));
        // Thirty days on, it has run out.
        let later = now + time::Duration::days(TRUST_DAYS) + time::Duration::seconds(1);
        assert!(!tf.trusts(Some(&mark), "customer:7", None, later));
        // Another portal's key, a changed account or a made-up value is no mark.
        let other = TrustMarks::new("another secret key entirely");
        assert!(!other.trusts(Some(&mark), "customer:7", None, now));
        let (payload, tag) = mark.split_once('.').unwrap();
        let swapped = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap())
            .unwrap()
            .replace("customer:7", "customer:8");
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(swapped));
        assert!(!tf.trusts(Some(&forged), "customer:8", None, now));
        assert!(!tf.trusts(Some("x.y"), "customer:7", None, now));
        assert!(!tf.trusts(Some(&"a".repeat(1000)), "customer:7", None, now));
    }

    #[test]
    fn recovery_codes_are_read_as_people_type_them() {
        let code = new_recovery_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert_eq!(
            recovery_hash(&code),
            recovery_hash(&code.to_uppercase().replace('-', " "))
        );
        assert_ne!(recovery_hash(&code), recovery_hash(&new_recovery_code()));
        assert!(crate::store::fits::RECOVERY_CODE_HASH.holds(&recovery_hash(&code)));
        assert!(
            crate::store::fits::TWO_FACTOR_ACCOUNT.holds(&customer_account(CustomerId(i64::MIN)))
        );
        assert!(looks_like_recovery_code("abcd-2345") && looks_like_recovery_code("ABCD2345"));
        assert!(!looks_like_recovery_code("123456") && !looks_like_recovery_code("12345678"));
    }

    #[test]
    fn the_qr_code_draws_its_dark_modules() {
        let qr = Qr::of("otpauth://totp/WePackItAll:jane%40example.com?secret=JBSWY3DPEHPK3PXP")
            .unwrap();
        assert!(qr.size >= 21 && qr.dark.len() == qr.size * qr.size);
        let path = qr.svg_path(4);
        // Every dark module is inside one run, and the finder pattern's corner is dark.
        let runs: usize = path
            .split('M')
            .filter(|r| !r.is_empty())
            .map(|r| {
                r.split('h')
                    .nth(1)
                    .unwrap()
                    .split('v')
                    .next()
                    .unwrap()
                    .parse::<usize>()
                    .unwrap()
            })
            .sum();
        assert_eq!(runs, qr.dark.iter().filter(|d| **d).count());
        assert!(path.starts_with("M4 4h7v1h-7z"), "{}", &path[..20]);
    }
}
