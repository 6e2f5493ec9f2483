use std::fmt;

/// A new password that satisfies the policy. Its text never appears in `Debug`.
#[derive(Clone)]
pub struct NewPassword(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordPolicyError {
    TooShort,
    TooLong,
    Mismatch,
}

impl PasswordPolicyError {
    pub fn message(self) -> &'static str {
        match self {
            PasswordPolicyError::TooShort => {
                "The new password must be at least 12 characters long."
            }
            PasswordPolicyError::TooLong => "The new password must be at most 128 characters long.",
            PasswordPolicyError::Mismatch => "The new password and its confirmation do not match.",
        }
    }
}

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;

    /// Length is counted in characters, not bytes, so "pässwörd…" is judged as typed.
    /// Passwords are not trimmed: spaces are legitimate characters of a passphrase.
    pub fn parse(new: &str, confirm: &str) -> Result<NewPassword, PasswordPolicyError> {
        let n = new.chars().count();
        if n < Self::MIN_CHARS {
            return Err(PasswordPolicyError::TooShort);
        }
        if n > Self::MAX_CHARS {
            return Err(PasswordPolicyError::TooLong);
        }
        if new != confirm {
            return Err(PasswordPolicyError::Mismatch);
        }
        Ok(NewPassword(new.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(
            NewPassword::parse("short", "short").unwrap_err(),
            PasswordPolicyError::TooShort
        );
        let long = "x".repeat(129);
        assert_eq!(
            NewPassword::parse(&long, &long).unwrap_err(),
            PasswordPolicyError::TooLong
        );
        assert_eq!(
            NewPassword::parse("abcdefghijkl", "abcdefghijkm").unwrap_err(),
            PasswordPolicyError::Mismatch
        );
        assert!(NewPassword::parse("abcdefghijkl", "abcdefghijkl").is_ok());
        // 12 characters, more than 12 bytes.
        assert!(NewPassword::parse("ääääääääääää", "ääääääääääää").is_ok());
        assert!(NewPassword::parse("äääääääääää", "äääääääääää").is_err());
        assert!(
            !format!(
                "{:?}",
                NewPassword::parse("abcdefghijkl", "abcdefghijkl").unwrap()
            )
            .contains("abcdef")
        );
    }
}
