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
    dummy_cost: std::time::Duration,
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
        // Making the dummy hash costs what checking a password at today's cost does (the
        // same rounds), so its time is the floor of failed sign-ins (`failure_floor`).
        let (dummy, dummy_cost) = tokio::task::spawn_blocking(|| {
            let random: String = rand::Rng::sample_iter(rand::rng(), rand::distr::Alphanumeric)
                .take(24)
                .map(char::from)
                .collect();
            let started = std::time::Instant::now();
            let hash = werkzeug_hash::generate(&random);
            (hash, started.elapsed())
        })
        .await
        .expect("hashing task");
        PasswordHasher {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: Arc::new(dummy),
            dummy_cost,
        }
    }

    /// The least time a failed sign-in takes: one check at today's cost. Accounts carried
    /// over from the old portal may have cheaper hashes (e.g. pbkdf2 at 260,000 rounds);
    /// without a floor their failures would answer faster than an unknown email's and
    /// tell an attacker which accounts exist.
    pub fn failure_floor(&self) -> std::time::Duration {
        self.dummy_cost
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

    /// Whether `hash` is weaker than what the portal writes today (fewer pbkdf2 rounds or
    /// a smaller scrypt cost): it is then replaced after the next successful sign-in.
    pub fn is_weaker_than_today(hash: &str) -> bool {
        match werkzeug_hash::ParsedHash::parse(hash).map(|h| h.method()) {
            Ok(werkzeug_hash::Method::Pbkdf2 { iterations, .. }) => {
                iterations < werkzeug_hash::NEW_HASH_ITERATIONS
            }
            Ok(werkzeug_hash::Method::Scrypt { log_n, r, p }) => log_n < 15 || r < 8 || p < 1,
            Err(_) => false,
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// On a single-threaded runtime a hash computed on the runtime's thread would stop the
    /// ticker for the whole ~0.1 s; off the runtime, the ticker keeps going.
    #[tokio::test(flavor = "current_thread")]
    async fn hashing_runs_off_the_async_runtime() {
        let hasher = PasswordHasher::new(1).await;
        let ticks = Arc::new(AtomicUsize::new(0));
        let counter = ticks.clone();
        let ticker = tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_millis(2));
            loop {
                every.tick().await;
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        let started = std::time::Instant::now();
        let hash = hasher.hash("a long enough password").await;
        let elapsed = started.elapsed();
        ticker.abort();
        assert!(hash.starts_with("pbkdf2:sha256:600000$"));
        // At most one tick per 2 ms; require a fraction of that to stay robust on a busy box.
        let expected = (elapsed.as_millis() / 2) as usize;
        assert!(
            ticks.load(Ordering::Relaxed) * 4 >= expected,
            "{} ticks in {elapsed:?}",
            ticks.load(Ordering::Relaxed)
        );
    }

    #[tokio::test]
    async fn concurrency_is_bounded_by_the_permits() {
        let hasher = PasswordHasher::new(1).await;
        assert_eq!(hasher.permits.available_permits(), 1);
        let h = hasher.clone();
        let first = tokio::spawn(async move { h.hash("first password here").await });
        // While the first hash runs, its permit is taken and a second caller waits.
        let mut saw_taken = false;
        for _ in 0..200 {
            if hasher.permits.available_permits() == 0 {
                saw_taken = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        first.await.unwrap();
        assert!(saw_taken, "the hash did not hold a permit");
        assert_eq!(
            hasher.permits.available_permits(),
            1,
            "the permit is returned"
        );
    }
}
