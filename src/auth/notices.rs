//! "A new sign-in to your account": a mail to the customer when a browser without the
//! account's known-device mark signs in, with a link to the page that lists their
//! signed-in browsers. Sent in a bounded background task with a deadline, so neither a
//! slow mail server nor a flood of sign-ins holds a sign-in up or queues unbounded work.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Semaphore;

use super::ClientInfo;
use crate::domain::Zone;
use crate::domain::{describe_browser, wall_clock};
use crate::mail::Mailer;
use crate::mail::templates::{self, SignInFacts};

/// Mails under way at once; a sign-in beyond this sends none (and says so in the log).
const MAX_PENDING: usize = 16;
/// The deadline of one mail.
const MAIL_DEADLINE: Duration = Duration::from_secs(60);
/// Where a customer sees their signed-in browsers.
pub const SESSIONS_PATH: &str = "/account/sessions";

pub struct SignInNotices {
    mailer: Arc<Mailer>,
    /// `APP_BASE_URL` (or the address the portal listens on), without a trailing slash.
    base_url: String,
    zone: Zone,
    pending: Arc<Semaphore>,
}

impl std::fmt::Debug for SignInNotices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInNotices")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Who signed in, for the mail.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub first_name: String,
    pub email: String,
    pub at: OffsetDateTime,
}

impl SignInNotices {
    pub fn new(mailer: Arc<Mailer>, base_url: &str, zone: Zone) -> SignInNotices {
        SignInNotices {
            mailer,
            base_url: base_url.trim_end_matches('/').to_owned(),
            zone,
            pending: Arc::new(Semaphore::new(MAX_PENDING)),
        }
    }

    /// Starts the mail for a sign-in from a browser the account did not know; returns at
    /// once.
    pub fn notify(&self, who: SignedIn, client: &ClientInfo) {
        let Ok(permit) = self.pending.clone().try_acquire_owned() else {
            tracing::warn!("new sign-in mail not sent: too many under way");
            return;
        };
        let facts = SignInFacts {
            when: wall_clock(&self.zone, &who.at, false),
            address: client.ip.clone().unwrap_or_else(|| "unknown".to_owned()),
            device: describe_browser(client.user_agent.as_deref()),
        };
        let link = format!("{}{SESSIONS_PATH}", self.base_url);
        let mail = templates::new_sign_in(&who.first_name, &who.email, &facts, &link);
        let mailer = self.mailer.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(MAIL_DEADLINE, mailer.send(&mail)).await {
                Ok(Ok(())) => tracing::info!("new sign-in mail sent"),
                // The mailer logs why.
                Ok(Err(_)) => {}
                Err(_) => tracing::warn!("new sign-in mail abandoned after {MAIL_DEADLINE:?}"),
            }
        });
    }
}
