//! What a scheduled mail is, in the words the app database stores: its kind, how often it
//! goes, its file and how its last run ended. Parsed once when a row is read; written back
//! with [`as_str`](ReportKind::as_str).

/// An enum stored as one of a few lowercase words.
macro_rules! stored_words {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word stored in the app database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// The value a stored word names, if any.
            pub fn parse(word: &str) -> Option<$name> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_words!(
    /// A report (a view's rows, attached) or an alert (only on days with something to say).
    ReportKind { Report = "report", Alert = "alert" }
);

stored_words!(
    /// How often a subscription goes out.
    Frequency { Daily = "daily", Weekly = "weekly" }
);

stored_words!(
    /// The attached file.
    FileFormat { Xlsx = "xlsx", Csv = "csv" }
);

stored_words!(
    /// How a subscription's last run ended.
    RunStatus {
        Sent = "sent",
        /// An alert with nothing to say, or nothing that may be sent.
        Skipped = "skipped",
        /// A failed try that will be repeated.
        Retrying = "retrying",
        /// Given up until the next regular time.
        Failed = "failed",
    }
);

impl FileFormat {
    /// The file's media type.
    pub const fn content_type(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back_as_itself() {
        for k in ReportKind::ALL {
            assert_eq!(ReportKind::parse(k.as_str()), Some(*k));
        }
        for f in Frequency::ALL {
            assert_eq!(Frequency::parse(f.as_str()), Some(*f));
        }
        for f in FileFormat::ALL {
            assert_eq!(FileFormat::parse(f.as_str()), Some(*f));
        }
        for s in RunStatus::ALL {
            assert_eq!(RunStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(RunStatus::parse("Sent"), None, "stored words are exact");
    }
}
