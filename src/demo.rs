//! Demo mode's first start: a generated admin password and two demo customer accounts,
//! printed once so that a newcomer reaches the customer view in a minute.

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::json;
use time::OffsetDateTime;

use crate::auth::SYSTEM_ACTOR;
use crate::auth::passwords::PasswordHasher;
use crate::domain::Email;
use crate::domain::audit::Action;
use crate::store::{AppStore, NewAuditEntry, NewCustomer, SettingsStore, StoreError};

use crate::erp::demo::CUSTOMER_NAMES as DEMO_ERP_CUSTOMERS;

const ADMIN_HASH_KEY: &str = "demo_admin_password_hash";
const SEEDED_KEY: &str = "demo_accounts_seeded";

/// What first start printed; later starts only say that it was printed before.
#[derive(Debug, Default)]
pub struct DemoCredentials {
    pub admin_password: Option<String>,
    pub customers: Vec<(String, String, String)>,
}

fn temporary_password() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

/// The local admin hash for demo mode: generated and stored on first start.
pub async fn admin_password_hash(
    store: &dyn SettingsStore,
    hasher: &PasswordHasher,
    creds: &mut DemoCredentials,
) -> Result<String, StoreError> {
    if let Some(h) = store.setting(ADMIN_HASH_KEY).await? {
        return Ok(h);
    }
    let password = temporary_password();
    let hash = hasher.hash(&password).await;
    let stored = store
        .setting_insert_if_absent(ADMIN_HASH_KEY, &hash)
        .await?;
    if stored == hash {
        creds.admin_password = Some(password);
    }
    Ok(stored)
}

/// Creates the demo customers once. Each must change its temporary password at first sign-in.
pub async fn seed_customers(
    store: &dyn AppStore,
    hasher: &PasswordHasher,
    creds: &mut DemoCredentials,
) -> Result<(), StoreError> {
    if store.setting(SEEDED_KEY).await?.is_some() {
        return Ok(());
    }
    let accounts = [
        (
            "Jordan",
            "Lee",
            "jordan.lee@demo.example.com",
            DEMO_ERP_CUSTOMERS[0].to_owned(),
        ),
        (
            "Sam",
            "Rivera",
            "sam.rivera@demo.example.com",
            format!("{}|{}", DEMO_ERP_CUSTOMERS[1], DEMO_ERP_CUSTOMERS[2]),
        ),
    ];
    for (first, last, email, erp) in accounts {
        let email = Email::parse(email).expect("demo emails are valid");
        if store.customer_by_email(&email).await?.is_some() {
            continue;
        }
        let password = temporary_password();
        let new = NewCustomer {
            first_name: first.to_owned(),
            last_name: Some(last.to_owned()),
            email: email.clone(),
            password_hash: hasher.hash(&password).await,
            erp_customer_name: erp.clone(),
            must_reset_password: true,
        };
        let audit = NewAuditEntry {
            timestamp: OffsetDateTime::now_utc(),
            admin_username: SYSTEM_ACTOR.to_owned(),
            action_type: Action::CustomerCreate.as_str().to_owned(),
            target_customer_id: None,
            target_customer_email: Some(email.to_string()),
            details: Some(Action::CustomerCreate.details(
                &json!({ "first_name": first, "last_name": last, "erp_customer_name": erp }),
            )),
        };
        store.insert_customer(&new, &audit).await?;
        creds.customers.push((email.to_string(), password, erp));
    }
    store
        .setting_insert_if_absent(
            SEEDED_KEY,
            &crate::store::format_ts(OffsetDateTime::now_utc()),
        )
        .await?;
    Ok(())
}
