use std::fmt;

/// Which ERP customers an account may see, parsed from `Customers.erp_customer_name`:
/// `All`, one name, or names joined by `|`. It comes only from the signed-in account and
/// is applied inside the ERP query; nothing a caller sends can widen it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ErpScope {
    All,
    /// Sorted, de-duplicated, each name exact (case and spacing inside kept).
    Customers(Vec<String>),
    /// An account with no ERP customer assigned sees nothing.
    Nothing,
}

impl ErpScope {
    /// Only the exact string `All` is unrestricted, as in the old portal: `all`, `ALL` or
    /// ` All ` are a customer of that name (most likely none), never everything.
    pub fn parse(raw: &str) -> ErpScope {
        if raw == "All" {
            return ErpScope::All;
        }
        let mut names: Vec<String> = raw
            .split('|')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            ErpScope::Nothing
        } else {
            ErpScope::Customers(names)
        }
    }

    /// The value stored back in `erp_customer_name`: `All` or the sorted `|` list.
    pub fn to_stored(&self) -> String {
        match self {
            ErpScope::All => "All".to_owned(),
            ErpScope::Customers(n) => n.join("|"),
            ErpScope::Nothing => String::new(),
        }
    }

    /// More than one ERP customer can appear in the rows (the grid then shows a Customer column).
    pub fn is_multi(&self) -> bool {
        match self {
            ErpScope::All => true,
            ErpScope::Customers(n) => n.len() > 1,
            ErpScope::Nothing => false,
        }
    }

    /// A short label for file names: `All`, the one name, or `Multiple`.
    pub fn label(&self) -> String {
        match self {
            ErpScope::All => "All".to_owned(),
            ErpScope::Customers(n) if n.len() == 1 => n[0].clone(),
            ErpScope::Customers(_) => "Multiple".to_owned(),
            ErpScope::Nothing => "None".to_owned(),
        }
    }
}

impl fmt::Debug for ErpScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErpScope::All => f.write_str("All"),
            ErpScope::Customers(n) => write!(f, "Customers({n:?})"),
            ErpScope::Nothing => f.write_str("Nothing"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_stored_forms() {
        assert_eq!(ErpScope::parse("All"), ErpScope::All);
        // Only the exact `All` widens, as in the old portal.
        for almost in ["all", "ALL", " All ", "All "] {
            let name = almost.trim().to_owned();
            assert_eq!(
                ErpScope::parse(almost),
                ErpScope::Customers(vec![name]),
                "{almost:?}"
            );
        }
        assert_eq!(
            ErpScope::parse("Acme Foods"),
            ErpScope::Customers(vec!["Acme Foods".into()])
        );
        assert_eq!(
            ErpScope::parse("Zeta|Acme Foods| Zeta |"),
            ErpScope::Customers(vec!["Acme Foods".into(), "Zeta".into()])
        );
        assert_eq!(ErpScope::parse(""), ErpScope::Nothing);
        assert_eq!(ErpScope::parse(" | "), ErpScope::Nothing);
        // Special characters are kept as they are: they are bound parameters, never SQL.
        let odd = "100% Natural_Snacks|O'Malley \"Brewing\" & Co|Café Münster";
        let ErpScope::Customers(n) = ErpScope::parse(odd) else {
            panic!()
        };
        assert_eq!(n.len(), 3);
        assert!(n.contains(&"100% Natural_Snacks".to_owned()));
        // "All" inside a list is a customer name, not a widening.
        assert_eq!(
            ErpScope::parse("All|Acme"),
            ErpScope::Customers(vec!["Acme".into(), "All".into()])
        );
    }

    #[test]
    fn stored_form_round_trips_sorted() {
        assert_eq!(ErpScope::parse("b|a|b").to_stored(), "a|b");
        assert!(ErpScope::parse("a|b").is_multi());
        assert!(!ErpScope::parse("a").is_multi());
    }
}
