//! Reading values by the key table: each key's type, range and default come from
//! `keys.rs`, and so do the words of its error message. Every problem is collected (the
//! operator sees them all at once); values of secret keys are never echoed.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;
use url::Url;

use super::Secret;
use super::keys::{self, Key, Kind};
use crate::domain::Zone;

/// Collects problems (start-up refuses) and warnings (start-up logs) while reading.
pub struct Reader<'a> {
    vars: &'a HashMap<String, String>,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

/// The table's entry for `name`; a key read but missing from the table is a programming
/// error (a unit test reads every key).
fn entry(name: &str) -> &'static Key {
    keys::find(name).unwrap_or_else(|| panic!("{name} is not in the key table"))
}

fn parse_int(kind: &Kind, raw: &str) -> Option<u64> {
    let Kind::Int { min, max, .. } = kind else {
        return None;
    };
    raw.parse::<u64>()
        .ok()
        .filter(|n| (*min..=*max).contains(n))
}

fn parse_number(kind: &Kind, raw: &str) -> Option<f64> {
    let Kind::Number { above, max, .. } = kind else {
        return None;
    };
    raw.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n > *above && *n <= *max)
}

fn parse_nets(raw: &str) -> Option<Vec<IpNet>> {
    // `none`: an empty list, where a blank value would mean the default.
    if raw.trim().eq_ignore_ascii_case("none") {
        return Some(Vec::new());
    }
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .ok()
                .or_else(|| item.parse::<IpAddr>().ok().map(IpNet::from))
        })
        .collect()
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_choice(kind: &Kind, raw: &str) -> Option<&'static str> {
    let Kind::Choice(words) = kind else {
        return None;
    };
    words.iter().copied().find(|w| w.eq_ignore_ascii_case(raw))
}

/// Whether `value` reads as a value of `key` (the table's defaults are checked with it).
#[cfg(test)]
pub fn valid_default(key: &Key, value: &str) -> bool {
    match &key.kind {
        Kind::Text => true,
        Kind::OldBool => matches!(value, "True" | "False"),
        Kind::Bool => parse_bool(value).is_some(),
        k @ Kind::Int { .. } => parse_int(k, value).is_some(),
        k @ Kind::Number { .. } => parse_number(k, value).is_some(),
        Kind::Port => value.parse::<u16>().is_ok(),
        Kind::Ip => value.parse::<IpAddr>().is_ok(),
        Kind::Nets => parse_nets(value).is_some(),
        k @ Kind::Choice(_) => parse_choice(k, value).is_some(),
        Kind::Url | Kind::Hash | Kind::Zone | Kind::Token { .. } | Kind::Emails => false,
    }
}

impl<'a> Reader<'a> {
    pub fn new(vars: &'a HashMap<String, String>) -> Reader<'a> {
        Reader {
            vars,
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// A set, non-blank value. `KEY=` lines from the template count as unset.
    pub fn raw(&self, name: &str) -> Option<&'a str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The set value, else the table's default.
    fn value(&self, key: &Key) -> Option<&'a str> {
        self.raw(key.name).or(key.default)
    }

    /// Records that `raw` is not a value of `key`, echoing it unless the key is secret.
    fn refuse(&mut self, key: &Key, raw: &str) {
        let what = key.kind.describe();
        self.problems.push(if key.secret {
            format!("{} must be {what}", key.name)
        } else {
            format!("{} must be {what} (got {raw:?})", key.name)
        });
    }

    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.value(entry(name)).map(str::to_owned)
    }

    /// A text that must be set; `why` ends the message ("… is required when …").
    pub fn required(&mut self, name: &str, why: &str) -> Option<String> {
        let v = self.text(name);
        if v.is_none() {
            self.problems.push(format!("{name} is required {why}"));
        }
        v
    }

    pub fn bool(&mut self, name: &str) -> bool {
        let key = entry(name);
        let default = key.default.is_some_and(|d| parse_bool(d) == Some(true));
        self.bool_or(name, default)
    }

    pub fn bool_or(&mut self, name: &str, default: bool) -> bool {
        let key = entry(name);
        let Some(raw) = self.raw(name) else {
            return default;
        };
        match key.kind {
            // The old portal: `value.lower() == 'true'`.
            Kind::OldBool => {
                let lower = raw.to_ascii_lowercase();
                if lower != "true" && lower != "false" {
                    self.warnings.push(format!(
                        "{name}={raw:?} is read as False, as the old portal read it: only true (in any case) is true"
                    ));
                }
                lower == "true"
            }
            _ => parse_bool(raw).unwrap_or_else(|| {
                self.refuse(key, raw);
                default
            }),
        }
    }

    /// A whole number within the key's range.
    pub fn int(&mut self, name: &str) -> u64 {
        let key = entry(name);
        let default = key.default.and_then(|d| parse_int(&key.kind, d));
        match self.raw(name) {
            None => default.unwrap_or_else(|| panic!("{name} has no usable default")),
            Some(raw) => parse_int(&key.kind, raw).unwrap_or_else(|| {
                self.refuse(key, raw);
                default.unwrap_or(0)
            }),
        }
    }

    pub fn number(&mut self, name: &str) -> f64 {
        let key = entry(name);
        let default = key
            .default
            .and_then(|d| parse_number(&key.kind, d))
            .unwrap_or_else(|| panic!("{name} has no usable default"));
        match self.raw(name) {
            None => default,
            Some(raw) => parse_number(&key.kind, raw).unwrap_or_else(|| {
                self.refuse(key, raw);
                default
            }),
        }
    }

    /// A port: the set value, else the table's default, else `None`.
    pub fn port(&mut self, name: &str) -> Option<u16> {
        let key = entry(name);
        let raw = self.value(key)?;
        match raw.parse::<u16>() {
            Ok(p) => Some(p),
            Err(_) => {
                self.refuse(key, raw);
                key.default.and_then(|d| d.parse().ok())
            }
        }
    }

    pub fn ip(&mut self, name: &str) -> Option<IpAddr> {
        let key = entry(name);
        let raw = self.value(key)?;
        raw.parse().map_err(|_| self.refuse(key, raw)).ok()
    }

    pub fn nets(&mut self, name: &str) -> Vec<IpNet> {
        let key = entry(name);
        let Some(raw) = self.value(key) else {
            return Vec::new();
        };
        parse_nets(raw).unwrap_or_else(|| {
            self.refuse(key, raw);
            Vec::new()
        })
    }

    pub fn url(&mut self, name: &str) -> Option<Url> {
        let key = entry(name);
        let raw = self.raw(name)?;
        match Url::parse(raw) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Some(u),
            _ => {
                self.refuse(key, raw);
                None
            }
        }
    }

    /// One of the key's words, as the table spells it.
    pub fn choice(&mut self, name: &str) -> &'static str {
        let key = entry(name);
        let default = key
            .default
            .and_then(|d| parse_choice(&key.kind, d))
            .unwrap_or_else(|| panic!("{name} has no usable default"));
        match self.raw(name) {
            None => default,
            Some(raw) => parse_choice(&key.kind, raw).unwrap_or_else(|| {
                self.refuse(key, raw);
                default
            }),
        }
    }

    /// A secret of the key's least length; `None` when unset or too short.
    pub fn token(&mut self, name: &str) -> Option<Secret> {
        let key = entry(name);
        let raw = self.raw(name)?;
        match key.kind {
            Kind::Token { min_chars } if raw.chars().count() < min_chars => {
                self.problems.push(format!(
                    "{name} must be at least {min_chars} characters long (got {})",
                    raw.chars().count()
                ));
                None
            }
            _ => Some(Secret::new(raw)),
        }
    }

    /// A Werkzeug hash that parses.
    pub fn hash(&mut self, name: &str) -> Option<Secret> {
        let raw = self.raw(name)?;
        match werkzeug_hash::ParsedHash::parse(raw) {
            Ok(_) => Some(Secret::new(raw)),
            Err(e) => {
                self.problems.push(format!(
                    "{name} is not a usable Werkzeug hash ({e}); make one with `customer-portal hash-password`"
                ));
                None
            }
        }
    }

    /// A time zone; unset: the host's.
    pub fn zone(&mut self, name: &str) -> Zone {
        match self.raw(name) {
            None => Zone::host(),
            Some(raw) => Zone::parse(raw).unwrap_or_else(|e| {
                self.problems.push(format!("{name}: {e}"));
                Zone::utc()
            }),
        }
    }

    /// Comma-separated addresses, each trimmed (checked as addresses by the mailer).
    pub fn emails(&mut self, name: &str) -> Vec<String> {
        self.raw(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn old_booleans_read_as_the_old_portal_read_them() {
        for (raw, expected, warned) in [
            ("true", true, false),
            ("TRUE", true, false),
            ("True", true, false),
            ("false", false, false),
            ("1", false, true),
            ("yes", false, true),
            ("Y", false, true),
        ] {
            let v = vars(&[("SMTP_USE_TLS", raw)]);
            let mut r = Reader::new(&v);
            assert_eq!(r.bool("SMTP_USE_TLS"), expected, "{raw}");
            assert!(r.problems.is_empty(), "never refused: {raw}");
            assert_eq!(
                r.warnings.len(),
                usize::from(warned),
                "{raw}: {:?}",
                r.warnings
            );
            if warned {
                assert!(r.warnings[0].contains("SMTP_USE_TLS"), "{:?}", r.warnings);
            }
        }
    }

    #[test]
    fn new_booleans_are_strict_and_ranges_come_from_the_table() {
        let v = vars(&[
            ("AUDIT_APPEND_ONLY", "maybe"),
            ("DB_POOL_SIZE", "0"),
            ("DEMO", "yes"),
            ("CLIENT_IP_HEADER", "x-forwarded-for"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7"),
        ]);
        let mut r = Reader::new(&v);
        assert!(!r.bool("AUDIT_APPEND_ONLY"));
        assert!(r.bool("DEMO"));
        assert_eq!(r.int("DB_POOL_SIZE"), 10, "the default stands in");
        assert_eq!(r.choice("CLIENT_IP_HEADER"), "X-Forwarded-For");
        assert_eq!(r.nets("TRUSTED_PROXIES").len(), 2);
        assert_eq!(
            r.problems,
            [
                "AUDIT_APPEND_ONLY must be True or False (got \"maybe\")",
                "DB_POOL_SIZE must be a whole number of connections from 1 to 200 (got \"0\")",
            ]
        );
    }
}
