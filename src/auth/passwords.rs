//! Password hashing off the async runtime, with bounded concurrency: a burst of logins
//! queues here instead of starving the runtime's worker threads or the machine.

use std::sync::Arc;

use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Verified when the email is unknown, so that "no such user" costs as much as
    /// "wrong password" and timing reveals nothing.
    dummy_hash: Arc<String>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("available", &self.permits.available_permits())
            .finish()
    }
}

impl PasswordHasher {
    /// `concurrency` hashes at most run at once (each is ~0.1 s of one core).
    pub async fn new(concurrency: usize) -> PasswordHasher {
        let dummy = tokio::task::spawn_blocking(|| {
            let random: String = rand::Rng::sample_iter(rand::rng(), rand::distr::Alphanumeric)
                .take(24)
                .map(char::from)
                .collect();
            werkzeug_hash::generate(&random)
        })
        .await
        .expect("hashing task");
        PasswordHasher {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: Arc::new(dummy),
        }
    }

    /// `true` only if `hash` is a usable Werkzeug hash of `password`. A malformed or
    /// hostile hash is logged (without its text) and counts as a mismatch.
    pub async fn verify(&self, password: &str, hash: &str) -> bool {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        let (password, hash) = (password.to_owned(), hash.to_owned());
        let result =
            tokio::task::spawn_blocking(move || werkzeug_hash::verify(&password, &hash)).await;
        match result {
            Ok(Ok(ok)) => ok,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "stored password hash is unusable");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "password verification task failed");
                false
            }
        }
    }

    /// Spends the same effort as a real check, for unknown accounts.
    pub async fn verify_dummy(&self, password: &str) {
        let hash = self.dummy_hash.clone();
        let _ = self.verify(password, &hash).await;
    }

    /// A new `pbkdf2:sha256:600000$…` hash.
    pub async fn hash(&self, password: &str) -> String {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || werkzeug_hash::generate(&password))
            .await
            .expect("hashing task")
    }
}
