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
    /// The ERP customers this scope names, for a query that lists them (`None`: every
    /// customer; an empty list: none).
    pub fn names(&self) -> Option<Vec<String>> {
        match self {
            ErpScope::All => None,
            ErpScope::Customers(names) => Some(names.clone()),
            ErpScope::Nothing => Some(Vec::new()),
        }
    }

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

    /// This scope cut down to `names` (exact names, as the ERP spells them): never wider.
    /// `All` narrowed is the names; a list narrowed is the names in both; `None` or an
    /// empty list leaves the scope as it is.
    pub fn narrowed(&self, names: Option<&[String]>) -> ErpScope {
        let Some(names) = names.filter(|n| !n.is_empty()) else {
            return self.clone();
        };
        let wanted = ErpScope::parse(&names.join("|"));
        match (self, wanted) {
            (_, ErpScope::Nothing) | (ErpScope::Nothing, _) => ErpScope::Nothing,
            (ErpScope::All, w) => w,
            (ErpScope::Customers(mine), ErpScope::Customers(w)) => {
                let both: Vec<String> = w.into_iter().filter(|n| mine.contains(n)).collect();
                if both.is_empty() {
                    ErpScope::Nothing
                } else {
                    ErpScope::Customers(both)
                }
            }
            (ErpScope::Customers(_), ErpScope::All) => self.clone(),
        }
    }

    /// Whether every ERP customer this scope names is one `outer` names too: `Nothing` is
    /// within anything, `All` only within `All`. Names compare exactly.
    pub fn within(&self, outer: &ErpScope) -> bool {
        match (self, outer) {
            (ErpScope::Nothing, _) | (_, ErpScope::All) => true,
            (ErpScope::All, _) | (ErpScope::Customers(_), ErpScope::Nothing) => false,
            (ErpScope::Customers(mine), ErpScope::Customers(theirs)) => {
                mine.iter().all(|n| theirs.contains(n))
            }
        }
    }

    /// The ERP customers both scopes name.
    pub fn intersection(&self, other: &ErpScope) -> ErpScope {
        match (self, other) {
            (ErpScope::All, o) => o.clone(),
            (s, ErpScope::All) => s.clone(),
            (ErpScope::Customers(a), ErpScope::Customers(b)) => {
                let both: Vec<String> = a.iter().filter(|n| b.contains(n)).cloned().collect();
                if both.is_empty() {
                    ErpScope::Nothing
                } else {
                    ErpScope::Customers(both)
                }
            }
            _ => ErpScope::Nothing,
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

    #[test]
    fn narrowing_never_widens() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let acme = ErpScope::parse("Acme");
        assert_eq!(ErpScope::All.narrowed(Some(&names(&["Acme"]))), acme);
        assert_eq!(ErpScope::All.narrowed(None), ErpScope::All);
        assert_eq!(ErpScope::All.narrowed(Some(&[])), ErpScope::All);
        let two = ErpScope::parse("Acme|Beta");
        assert_eq!(
            two.narrowed(Some(&names(&["Beta", "Zed"]))),
            ErpScope::parse("Beta")
        );
        assert_eq!(two.narrowed(Some(&names(&["Zed"]))), ErpScope::Nothing);
        assert_eq!(
            two.narrowed(Some(&names(&["All"]))),
            two,
            "All does not widen"
        );
        assert_eq!(
            acme.narrowed(Some(&names(&["acme"]))),
            ErpScope::Nothing,
            "exact names"
        );
        assert_eq!(
            ErpScope::Nothing.narrowed(Some(&names(&["Acme"]))),
            ErpScope::Nothing
        );
    }

    #[test]
    fn within_and_intersection_never_widen() {
        let p = ErpScope::parse;
        assert!(p("Acme").within(&p("Acme|Beta")));
        assert!(p("Acme|Beta").within(&p("All")));
        assert!(p("All").within(&p("All")));
        assert!(!p("All").within(&p("Acme|Beta")));
        assert!(!p("Acme|Gamma").within(&p("Acme|Beta")));
        assert!(!p("acme").within(&p("Acme")), "names compare exactly");
        assert!(ErpScope::Nothing.within(&p("Acme")));
        assert!(!p("Acme").within(&ErpScope::Nothing));
        assert_eq!(p("Acme|Gamma").intersection(&p("Acme|Beta")), p("Acme"));
        assert_eq!(p("All").intersection(&p("Beta")), p("Beta"));
        assert_eq!(p("Beta").intersection(&p("All")), p("Beta"));
        assert_eq!(p("Gamma").intersection(&p("Beta")), ErpScope::Nothing);
        assert_eq!(ErpScope::Nothing.intersection(&p("All")), ErpScope::Nothing);
    }
}
