use std::fmt;

/// An email address, trimmed and lower-cased: customers sign in with it and it is unique,
/// compared case-insensitively (as `Customers.email` is on SQL Server's default collation).
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    /// A deliberately plain check: one `@`, a non-empty local part, a dotted domain,
    /// no spaces or control characters. Deliverability is proven by the welcome mail.
    pub fn parse(raw: &str) -> Result<Email, &'static str> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("Email is required.");
        }
        if s.len() > Self::MAX_LEN {
            return Err("Email is too long.");
        }
        if s.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';')
        }) {
            return Err("Email contains characters that are not allowed.");
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err("Email must contain @.");
        };
        if local.is_empty() || domain.contains('@') {
            return Err("Email is not valid.");
        }
        if !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err("Email domain is not valid.");
        }
        Ok(Email(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_lowercases() {
        assert_eq!(
            Email::parse("  Jane.Doe@Example.COM \n").unwrap().as_str(),
            "jane.doe@example.com"
        );
    }

    #[test]
    fn refuses_bad_addresses() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@b",
            "a@.com",
            "a@b.",
            "a b@c.com",
            "a@b@c.com",
            "a@b..com",
            "<a@b.com>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
