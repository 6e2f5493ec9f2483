//! Time-based one-time codes (TOTP, RFC 6238, over HOTP, RFC 4226): HMAC-SHA1, six
//! digits, 30-second steps, as every authenticator app reads an `otpauth://` link.
//!
//! A code is accepted for the step it was made in and one step either side (clocks
//! drift), compared in constant time, and never twice: the caller keeps the last step
//! used and passes it back.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::TryRngCore;
use subtle::ConstantTimeEq;

use crate::signing::{Purpose, Signer};

/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Steps accepted either side of now.
pub const WINDOW: u64 = 1;
/// Bytes of a secret (160 bits, RFC 4226's recommendation for SHA-1).
pub const SECRET_BYTES: usize = 20;

/// A shared secret. Kept out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

impl TotpSecret {
    /// A fresh random secret from the operating system.
    pub fn generate() -> TotpSecret {
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random generator works");
        TotpSecret(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> TotpSecret {
        TotpSecret(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as people type it into an app (RFC 4648 base32, no padding).
    pub fn base32(&self) -> String {
        base32_encode(&self.0)
    }

    /// The `otpauth://totp/…` link an authenticator app reads from the QR code.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| -> String {
            url::form_urlencoded::byte_serialize(s.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            enc(issuer),
            enc(account),
            self.base32(),
            enc(issuer)
        )
    }

    /// The code of one step (HOTP of the step counter).
    pub fn code_at_step(&self, step: u64) -> String {
        hotp(&self.0, step, DIGITS)
    }

    /// The code for a Unix time.
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.code_at_step(unix_seconds / STEP_SECONDS)
    }

    /// The step a typed code belongs to, if it matches now or a step either side and is
    /// later than `last_used` (a code is good once). Every candidate is compared, in
    /// constant time, whatever matched first.
    pub fn verify(&self, typed: &str, unix_seconds: u64, last_used: Option<u64>) -> Option<u64> {
        let typed: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if typed.len() != DIGITS || !typed.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = unix_seconds / STEP_SECONDS;
        let mut found = None;
        for step in now.saturating_sub(WINDOW)..=now + WINDOW {
            let same = bool::from(self.code_at_step(step).as_bytes().ct_eq(typed.as_bytes()));
            let fresh = last_used.is_none_or(|l| step > l);
            if same && fresh && found.is_none() {
                found = Some(step);
            }
        }
        found
    }
}

/// HOTP (RFC 4226): HMAC-SHA1 of the counter, dynamically truncated to `digits`.
pub fn hotp(secret: &[u8], counter: u64, digits: usize) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[h.len() - 1] & 0x0f) as usize;
    let bin = (u32::from(h[offset]) & 0x7f) << 24
        | u32::from(h[offset + 1]) << 16
        | u32::from(h[offset + 2]) << 8
        | u32::from(h[offset + 3]);
    let modulus = 10u64.pow(digits as u32);
    format!("{:0width$}", u64::from(bin) % modulus, width = digits)
}

/// Keeps TOTP secrets sealed in the app database under a key derived from `SECRET_KEY`
/// (they must be read back to check a code, so a hash will not do): a random nonce, the
/// secret XORed with an HMAC-SHA-256 keystream, and a 128-bit tag over both, so a copy of
/// the database alone reveals no secret and a changed value is refused, not misread.
#[derive(Clone)]
pub struct Sealer {
    signer: Signer,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

const NONCE_BYTES: usize = 16;
const TAG_BYTES: usize = 16;

impl Sealer {
    pub fn new(secret_key: &str) -> Sealer {
        Sealer {
            signer: Signer::new(secret_key.as_bytes(), Purpose::TwoFactorSecret),
        }
    }

    fn keystream(&self, nonce: &[u8], len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 32);
        let mut block = 0u32;
        while out.len() < len {
            let mut msg = b"stream".to_vec();
            msg.extend_from_slice(nonce);
            msg.extend_from_slice(&block.to_be_bytes());
            out.extend_from_slice(&self.signer.sign(&msg));
            block += 1;
        }
        out.truncate(len);
        out
    }

    fn tag(&self, nonce: &[u8], sealed: &[u8]) -> Vec<u8> {
        let mut msg = b"tag".to_vec();
        msg.extend_from_slice(nonce);
        msg.extend_from_slice(sealed);
        self.signer.sign(&msg)[..TAG_BYTES].to_vec()
    }

    /// The secret sealed, as text for the database.
    pub fn seal(&self, secret: &TotpSecret) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng
            .try_fill_bytes(&mut nonce)
            .expect("the operating system's random generator works");
        let sealed: Vec<u8> = secret
            .expose()
            .iter()
            .zip(self.keystream(&nonce, secret.expose().len()))
            .map(|(a, b)| a ^ b)
            .collect();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out.extend(self.tag(&nonce, &sealed));
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The secret, if `text` was sealed by this key and not changed since.
    pub fn open(&self, text: &str) -> Option<TotpSecret> {
        let raw = URL_SAFE_NO_PAD.decode(text).ok()?;
        if raw.len() < NONCE_BYTES + TAG_BYTES + 1 {
            return None;
        }
        let (nonce, rest) = raw.split_at(NONCE_BYTES);
        let (sealed, tag) = rest.split_at(rest.len() - TAG_BYTES);
        if !bool::from(self.tag(nonce, sealed).ct_eq(tag)) {
            return None;
        }
        let plain = sealed
            .iter()
            .zip(self.keystream(nonce, sealed.len()))
            .map(|(a, b)| a ^ b)
            .collect();
        Some(TotpSecret(plain))
    }
}

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Reads base32 as people type it (any case, spaces and padding ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let v = ALPHABET
            .iter()
            .position(|&a| a as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn hotp_matches_rfc_4226() {
        let want = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (count, code) in want.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, count as u64, 6), *code, "count {count}");
        }
    }

    #[test]
    fn totp_matches_rfc_6238_sha1() {
        // RFC 6238 appendix B, SHA-1, eight digits.
        let vectors = [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec());
        for (t, code) in vectors {
            assert_eq!(hotp(RFC_SECRET, t / STEP_SECONDS, 8), code, "t = {t}");
            // Six digits are the last six of the eight.
            assert_eq!(secret.code_at(t), &code[2..], "t = {t}");
        }
    }

    #[test]
    fn a_code_works_one_step_either_side_and_once() {
        let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec());
        let t = 1_111_111_111u64;
        let step = t / STEP_SECONDS;
        let code = secret.code_at(t);
        assert_eq!(secret.verify(&code, t, None), Some(step));
        assert_eq!(
            secret.verify(&format!("{} {}", &code[..3], &code[3..]), t, None),
            Some(step)
        );
        assert_eq!(secret.verify(&code, t + STEP_SECONDS, None), Some(step));
        assert_eq!(secret.verify(&code, t - STEP_SECONDS, None), Some(step));
        assert_eq!(secret.verify(&code, t + 2 * STEP_SECONDS, None), None);
        // Once used, the same step (or an earlier one) is refused.
        assert_eq!(secret.verify(&code, t, Some(step)), None);
        assert_eq!(
            secret.verify(&secret.code_at(t - STEP_SECONDS), t, Some(step)),
            None
        );
        assert_eq!(
            secret.verify(&secret.code_at(t + STEP_SECONDS), t, Some(step)),
            Some(step + 1)
        );
        for bad in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
            assert_eq!(secret.verify(bad, t, None), None, "{bad:?}");
        }
    }

    #[test]
    fn a_sealed_secret_opens_only_under_its_key_and_unchanged() {
        let sealer = Sealer::new("a secret key of some length");
        let secret = TotpSecret::generate();
        let sealed = sealer.seal(&secret);
        assert_eq!(sealer.open(&sealed), Some(secret.clone()));
        assert!(
            crate::store::fits::TWO_FACTOR_SECRET.holds(&sealed),
            "fits its column"
        );
        assert!(!sealed.contains(&secret.base32()));
        // A fresh nonce each time: the same secret never seals the same way twice.
        assert_ne!(sealer.seal(&secret), sealed);
        assert_eq!(Sealer::new("another key entirely").open(&sealed), None);
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        bytes[NONCE_BYTES] ^= 1;
        assert_eq!(
            sealer.open(&URL_SAFE_NO_PAD.encode(&bytes)),
            None,
            "a changed value"
        );
        assert_eq!(sealer.open("not base64 !"), None);
        assert_eq!(sealer.open(""), None);
    }

    #[test]
    fn base32_round_trips_and_reads_what_people_type() {
        // RFC 4648's test vectors.
        for (plain, enc) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), enc);
            assert_eq!(base32_decode(enc).unwrap(), plain.as_bytes());
        }
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert!(base32_decode("MZXW1").is_none());
        let s = TotpSecret::generate();
        assert_eq!(s.expose().len(), SECRET_BYTES);
        assert_eq!(base32_decode(&s.base32()).unwrap(), s.expose());
        let uri = s.otpauth_uri("WePackItAll Portal", "jane@example.com");
        assert!(
            uri.starts_with("otpauth://totp/WePackItAll%20Portal:jane%40example.com?secret="),
            "{uri}"
        );
        assert!(uri.ends_with("&issuer=WePackItAll%20Portal&algorithm=SHA1&digits=6&period=30"));
    }
}
