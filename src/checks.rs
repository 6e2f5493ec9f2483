//! Findings of a check that writes nothing (`customer-portal preflight`): each part of the
//! portal inspects what it depends on and says go, no-go, or what to look at.

use std::fmt;

/// What a finding means for switching over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Go,
    /// Works, but someone should read this first.
    Warn,
    /// Not checked here (not configured, or nothing to check yet).
    Skip,
    /// Switching now would fail.
    NoGo,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Go => "GO",
            Verdict::Warn => "WARN",
            Verdict::Skip => "SKIP",
            Verdict::NoGo => "NO-GO",
        })
    }
}

/// One line of the preflight table.
#[derive(Debug, Clone)]
pub struct Finding {
    pub area: &'static str,
    pub check: String,
    pub verdict: Verdict,
    pub detail: String,
}

impl Finding {
    pub fn new(
        area: &'static str,
        check: impl Into<String>,
        verdict: Verdict,
        detail: impl Into<String>,
    ) -> Finding {
        Finding {
            area,
            check: check.into(),
            verdict,
            detail: detail.into(),
        }
    }
}
