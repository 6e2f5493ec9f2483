//! Hashes made by the real Werkzeug (see fixtures/make_werkzeug_hashes.py) must verify,
//! and hostile hash strings must be refused quickly, without panicking or allocating.

use std::time::{Duration, Instant};

use werkzeug_hash::{HashError, ParsedHash, verify};

fn fixtures() -> Vec<(String, String, String)> {
    let text = include_str!("fixtures/werkzeug_hashes.json");
    let doc: serde_json::Value = serde_json::from_str(text).unwrap();
    doc["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_owned(),
                e["password"].as_str().unwrap().to_owned(),
                e["hash"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_werkzeug_fixture_verifies_with_its_password_only() {
    let all = fixtures();
    assert!(all.len() >= 18, "fixture file lost entries");
    let methods: std::collections::HashSet<&str> = all
        .iter()
        .map(|(m, _, _)| m.split(':').next().unwrap())
        .collect();
    assert!(methods.contains("scrypt") && methods.contains("pbkdf2"));
    assert!(all.iter().any(|(_, _, h)| h.starts_with("pbkdf2:sha512:")));
    for (method, password, hash) in &all {
        assert_eq!(verify(password, hash), Ok(true), "{method} should verify");
        let wrong = format!("{password}x");
        assert_eq!(
            verify(&wrong, hash),
            Ok(false),
            "{method} accepted a wrong password"
        );
        assert_eq!(
            verify("", hash),
            Ok(false),
            "{method} accepted an empty password"
        );
    }
}

#[test]
fn a_tampered_digest_does_not_verify() {
    let (_, password, hash) = fixtures()
        .into_iter()
        .find(|(m, _, _)| m == "pbkdf2:sha256:1000")
        .unwrap();
    let mut bytes = hash.into_bytes();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(verify(&password, &tampered), Ok(false));
}

/// Which error a hostile hash must produce.
type ErrorCheck = fn(&HashError) -> bool;

#[test]
fn hostile_hash_strings_are_refused_fast() {
    let hex64 = "ab".repeat(64);
    let hex32 = "ab".repeat(32);
    let long = "a".repeat(5000);
    let cases: Vec<(String, ErrorCheck)> = vec![
        ("".into(), |e| matches!(e, HashError::Malformed(_))),
        ("plaintext".into(), |e| matches!(e, HashError::Malformed(_))),
        (format!("md5$salt${hex32}"), |e| {
            matches!(e, HashError::UnknownMethod)
        }),
        (format!("bcrypt:12$salt${hex32}"), |e| {
            matches!(e, HashError::UnknownMethod)
        }),
        (format!("scrypt:1073741824:8:1$salt${hex64}"), |e| {
            matches!(e, HashError::CostOutOfRange(_))
        }),
        (format!("scrypt:32768:8:1000000$salt${hex64}"), |e| {
            matches!(e, HashError::CostOutOfRange(_))
        }),
        (format!("scrypt:32768:4294967296:1$salt${hex64}"), |e| {
            matches!(e, HashError::CostOutOfRange(_))
        }),
        (
            format!("scrypt:99999999999999999999999:8:1$salt${hex64}"),
            |e| matches!(e, HashError::CostOutOfRange(_)),
        ),
        (format!("scrypt:1000:8:1$salt${hex64}"), |e| {
            matches!(e, HashError::CostOutOfRange(_))
        }),
        (format!("scrypt:0:8:1$salt${hex64}"), |e| {
            matches!(e, HashError::CostOutOfRange(_))
        }),
        (format!("scrypt:32768:0:1$salt${hex64}"), |e| {
            matches!(e, HashError::CostOutOfRange(_))
        }),
        (format!("scrypt:-1:8:1$salt${hex64}"), |e| {
            matches!(e, HashError::Malformed(_))
        }),
        (format!("scrypt:32768:8$salt${hex64}"), |e| {
            matches!(e, HashError::Malformed(_))
        }),
        (format!("pbkdf2:sha256:0$salt${hex32}"), |e| {
            matches!(e, HashError::CostOutOfRange(_))
        }),
        (format!("pbkdf2:sha256:4000000000$salt${hex32}"), |e| {
            matches!(e, HashError::CostOutOfRange(_))
        }),
        (format!("pbkdf2:sha256:1e9$salt${hex32}"), |e| {
            matches!(e, HashError::Malformed(_))
        }),
        (format!("pbkdf2:md5:1000$salt${hex32}"), |e| {
            matches!(e, HashError::UnsupportedDigest)
        }),
        (format!("pbkdf2:sha256:1000:9$salt${hex32}"), |e| {
            matches!(e, HashError::Malformed(_))
        }),
        ("pbkdf2:sha256:1000$salt$nothex".to_string(), |e| {
            matches!(e, HashError::Malformed(_))
        }),
        (format!("pbkdf2:sha256:1000$salt${hex64}"), |e| {
            matches!(e, HashError::Malformed(_))
        }),
        (format!("pbkdf2:sha256:1000$${hex32}"), |e| {
            matches!(e, HashError::Malformed(_))
        }),
        (format!("pbkdf2:sha256:1000$salt${hex32}$extra"), |e| {
            matches!(e, HashError::Malformed(_))
        }),
        ("pbkdf2:sha256:1000$salt".into(), |e| {
            matches!(e, HashError::Malformed(_))
        }),
        (format!("pbkdf2:sha256:1000${long}${hex32}"), |e| {
            matches!(e, HashError::TooLong)
        }),
        ("$$".into(), |e| matches!(e, HashError::Malformed(_))),
        ("é$é$é".into(), |e| matches!(e, HashError::Malformed(_))),
    ];
    for (hash, expected) in cases {
        let started = Instant::now();
        let result = verify("password", &hash);
        let took = started.elapsed();
        match &result {
            Err(e) => assert!(expected(e), "{hash:.80}: unexpected error {e:?}"),
            Ok(v) => panic!("{hash:.80}: was accepted as a hash (verify returned {v})"),
        }
        assert!(took < Duration::from_secs(1), "{hash:.80} took {took:?}");
    }
}

#[test]
fn the_most_expensive_accepted_costs_still_parse() {
    // The bounds admit Werkzeug's real defaults and a margin above them.
    for m in [
        "scrypt:32768:8:1",
        "scrypt:65536:8:2",
        "pbkdf2:sha256:1000000",
        "pbkdf2:sha512:2000000",
    ] {
        let out = if m.starts_with("scrypt") || m.contains("sha512") {
            64
        } else {
            32
        };
        let h = format!("{m}$salt${}", "00".repeat(out));
        assert!(ParsedHash::parse(&h).is_ok(), "{m} should be accepted");
    }
}
