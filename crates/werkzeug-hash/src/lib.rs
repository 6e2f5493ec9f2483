//! Werkzeug-compatible password hashes.
//!
//! The Flask portal stores hashes made by `werkzeug.security.generate_password_hash`:
//!
//! * `scrypt:N:r:p$salt$hex` — `hashlib.scrypt(password, salt=salt.encode(), n, r, p)`,
//!   64-byte output written as hex;
//! * `pbkdf2:sha256:iterations$salt$hex` (and `pbkdf2:sha512`) — `hashlib.pbkdf2_hmac`
//!   with the digest's own output length.
//!
//! The salt is used as its UTF-8 text, not decoded. We verify both methods and write new
//! hashes as `pbkdf2:sha256:600000$…` so that the old portal could still read them.
//!
//! This crate is its own package so that it can be compiled with optimisations even in
//! debug builds: pbkdf2's generic code is monomorphised in the crate that calls it, and
//! unoptimised it takes ~6 s per hash (see the workspace `Cargo.toml`).
//!
//! Hash strings come from a database or an environment variable, so they are treated as
//! hostile: every cost parameter is bounded before any work is done, so a string such as
//! `scrypt:1073741824:8:1$…` is refused at once instead of allocating 128 GiB.

use std::fmt;

use hmac::Hmac;
use rand::Rng;
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

/// Iterations used for new hashes (Werkzeug 2.3's default; the old portal reads any count).
pub const NEW_HASH_ITERATIONS: u32 = 600_000;

/// Upper bounds on the cost a stored hash may ask for. Werkzeug's own defaults
/// (`scrypt:32768:8:1`, pbkdf2 600,000–1,000,000 rounds) sit well inside them; anything
/// above is refused rather than computed, so that a planted hash cannot pin a CPU or
/// exhaust memory. With these bounds one check stays well under a second.
pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
/// scrypt memory is 128 · N · r bytes: at most 64 MiB.
pub const MAX_SCRYPT_MEMORY_BYTES: u64 = 64 * 1024 * 1024;
/// scrypt work is proportional to N · r · p: at most 4× Werkzeug's default.
pub const MAX_SCRYPT_WORK: u64 = 4 * 32_768 * 8;
const MAX_HASH_STRING_LEN: usize = 1024;
const MAX_SALT_LEN: usize = 256;
const SALT_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const NEW_SALT_LEN: usize = 16;

/// Why a hash string could not be used. The message never contains the hash itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashError {
    TooLong,
    Malformed(&'static str),
    UnknownMethod,
    UnsupportedDigest,
    CostOutOfRange(&'static str),
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashError::TooLong => write!(f, "hash string is too long"),
            HashError::Malformed(what) => write!(f, "malformed hash: {what}"),
            HashError::UnknownMethod => {
                write!(f, "unknown hash method (expected scrypt or pbkdf2)")
            }
            HashError::UnsupportedDigest => {
                write!(f, "unsupported pbkdf2 digest (expected sha256 or sha512)")
            }
            HashError::CostOutOfRange(what) => write!(f, "hash cost out of range: {what}"),
        }
    }
}

impl std::error::Error for HashError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Sha256,
    Sha512,
}

/// A parsed, bounds-checked hash method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Scrypt { log_n: u8, r: u32, p: u32 },
    Pbkdf2 { digest: Digest, iterations: u32 },
}

/// A stored hash that has been parsed and checked; verifying it is bounded in time and memory.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedHash {
    method: Method,
    salt: String,
    expected: Vec<u8>,
}

impl fmt::Debug for ParsedHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Salt and digest stay out of logs.
        f.debug_struct("ParsedHash")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl ParsedHash {
    /// Parses `method$salt$hex`, refusing anything malformed or too costly.
    pub fn parse(s: &str) -> Result<Self, HashError> {
        if s.len() > MAX_HASH_STRING_LEN {
            return Err(HashError::TooLong);
        }
        let mut parts = s.split('$');
        let (Some(method), Some(salt), Some(hex_hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(HashError::Malformed("expected method$salt$hash"));
        };
        if salt.is_empty() || salt.len() > MAX_SALT_LEN {
            return Err(HashError::Malformed("salt length"));
        }
        let expected =
            hex::decode(hex_hash).map_err(|_| HashError::Malformed("hash is not hex"))?;
        let method = parse_method(method)?;
        let expected_len = method.output_len();
        if expected.len() != expected_len {
            return Err(HashError::Malformed(
                "hash length does not match the method",
            ));
        }
        Ok(ParsedHash {
            method,
            salt: salt.to_owned(),
            expected,
        })
    }

    pub fn method(&self) -> Method {
        self.method
    }

    /// Constant-time comparison of the derived key with the stored one.
    pub fn verify(&self, password: &str) -> bool {
        let derived = derive(self.method, password.as_bytes(), self.salt.as_bytes());
        derived.ct_eq(&self.expected).into()
    }
}

impl Method {
    fn output_len(self) -> usize {
        match self {
            Method::Scrypt { .. } => 64,
            Method::Pbkdf2 {
                digest: Digest::Sha256,
                ..
            } => 32,
            Method::Pbkdf2 {
                digest: Digest::Sha512,
                ..
            } => 64,
        }
    }
}

fn parse_method(method: &str) -> Result<Method, HashError> {
    let mut args = method.split(':');
    match args.next() {
        Some("scrypt") => {
            let rest: Vec<&str> = args.collect();
            let (n, r, p) = match rest.as_slice() {
                // Werkzeug writes the parameters out, but accepts a bare "scrypt".
                [] => (32_768u64, 8u64, 1u64),
                [n, r, p] => (parse_u64(n)?, parse_u64(r)?, parse_u64(p)?),
                _ => return Err(HashError::Malformed("scrypt takes N:r:p")),
            };
            if n < 2 || !n.is_power_of_two() {
                return Err(HashError::CostOutOfRange(
                    "scrypt N must be a power of two ≥ 2",
                ));
            }
            if r == 0 || p == 0 {
                return Err(HashError::CostOutOfRange("scrypt r and p must be ≥ 1"));
            }
            let memory = 128u64.saturating_mul(n).saturating_mul(r);
            if memory > MAX_SCRYPT_MEMORY_BYTES {
                return Err(HashError::CostOutOfRange("scrypt memory"));
            }
            if n.saturating_mul(r).saturating_mul(p) > MAX_SCRYPT_WORK {
                return Err(HashError::CostOutOfRange("scrypt work"));
            }
            Ok(Method::Scrypt {
                log_n: n.trailing_zeros() as u8,
                // Bounded above by the memory check, so these fit.
                r: r as u32,
                p: p as u32,
            })
        }
        Some("pbkdf2") => {
            let rest: Vec<&str> = args.collect();
            let (digest, iterations) = match rest.as_slice() {
                [] => ("sha256", u64::from(NEW_HASH_ITERATIONS)),
                [d] => (*d, u64::from(NEW_HASH_ITERATIONS)),
                [d, it] => (*d, parse_u64(it)?),
                _ => return Err(HashError::Malformed("pbkdf2 takes digest:iterations")),
            };
            let digest = match digest {
                "sha256" => Digest::Sha256,
                "sha512" => Digest::Sha512,
                _ => return Err(HashError::UnsupportedDigest),
            };
            if iterations == 0 || iterations > u64::from(MAX_PBKDF2_ITERATIONS) {
                return Err(HashError::CostOutOfRange("pbkdf2 iterations"));
            }
            Ok(Method::Pbkdf2 {
                digest,
                iterations: iterations as u32,
            })
        }
        _ => Err(HashError::UnknownMethod),
    }
}

fn parse_u64(s: &str) -> Result<u64, HashError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HashError::Malformed("cost parameter is not a number"));
    }
    // All digits, so the only way to fail is a number too large for u64.
    s.parse()
        .map_err(|_| HashError::CostOutOfRange("cost parameter"))
}

fn derive(method: Method, password: &[u8], salt: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; method.output_len()];
    match method {
        Method::Scrypt { log_n, r, p } => {
            let params = scrypt::Params::new(log_n, r, p, out.len())
                .expect("parameters were bounds-checked at parse time");
            scrypt::scrypt(password, salt, &params, &mut out)
                .expect("output length is valid for scrypt");
        }
        Method::Pbkdf2 {
            digest: Digest::Sha256,
            iterations,
        } => {
            pbkdf2::pbkdf2::<Hmac<Sha256>>(password, salt, iterations, &mut out)
                .expect("HMAC accepts any key length");
        }
        Method::Pbkdf2 {
            digest: Digest::Sha512,
            iterations,
        } => {
            pbkdf2::pbkdf2::<Hmac<Sha512>>(password, salt, iterations, &mut out)
                .expect("HMAC accepts any key length");
        }
    }
    out
}

/// Parses `hash` and checks `password` against it. Any parse failure is a `false`,
/// so callers cannot tell a bad password from a bad hash by the result alone.
pub fn verify(password: &str, hash: &str) -> Result<bool, HashError> {
    Ok(ParsedHash::parse(hash)?.verify(password))
}

/// A new hash in the format Werkzeug writes for `generate_password_hash(pw, "pbkdf2")`.
pub fn generate(password: &str) -> String {
    generate_with(
        password,
        Method::Pbkdf2 {
            digest: Digest::Sha256,
            iterations: NEW_HASH_ITERATIONS,
        },
    )
}

/// A new hash with an explicit method (tests and fixtures use cheaper costs).
pub fn generate_with(password: &str, method: Method) -> String {
    let salt = random_salt();
    let derived = derive(method, password.as_bytes(), salt.as_bytes());
    let method_text = match method {
        Method::Scrypt { log_n, r, p } => format!("scrypt:{}:{r}:{p}", 1u64 << log_n),
        Method::Pbkdf2 { digest, iterations } => {
            let d = match digest {
                Digest::Sha256 => "sha256",
                Digest::Sha512 => "sha512",
            };
            format!("pbkdf2:{d}:{iterations}")
        }
    };
    format!("{method_text}${salt}${}", hex::encode(derived))
}

fn random_salt() -> String {
    let mut rng = rand::rng();
    (0..NEW_SALT_LEN)
        .map(|_| SALT_ALPHABET[rng.random_range(0..SALT_ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_hash_round_trips_and_has_werkzeug_shape() {
        let h = generate("correct horse battery staple");
        assert!(h.starts_with("pbkdf2:sha256:600000$"), "{h}");
        let parts: Vec<&str> = h.split('$').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1].len(), 16);
        assert_eq!(parts[2].len(), 64);
        assert_eq!(verify("correct horse battery staple", &h), Ok(true));
        assert_eq!(verify("correct horse battery stapl", &h), Ok(false));
    }

    #[test]
    fn salts_differ() {
        assert_ne!(random_salt(), random_salt());
    }

    #[test]
    fn debug_hides_salt_and_digest() {
        let h = generate_with(
            "pw",
            Method::Pbkdf2 {
                digest: Digest::Sha256,
                iterations: 1,
            },
        );
        let parsed = ParsedHash::parse(&h).unwrap();
        let dbg = format!("{parsed:?}");
        let salt = h.split('$').nth(1).unwrap();
        assert!(!dbg.contains(salt), "{dbg}");
    }
}
