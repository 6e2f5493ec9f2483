//! The grid's view as URL parameters: `q`, `part`, `bin`, `status`, `sort`, `dir` — the
//! same for the page, its fragments and the exports (docs/architecture.md).

use serde::{Deserialize, Serialize};

use crate::inventory::{Filter, Selection, SortDir, SortField, SortKey};

const MAX_PARAM_CHARS: usize = 200;

/// The view's URL parameters: `q`, `part`, `bin`, `status`, `sort`, `dir`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct View {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub q: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub part: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bin: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sort: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub dir: String,
}

fn clip(s: &str) -> String {
    s.trim().chars().take(MAX_PARAM_CHARS).collect()
}

impl View {
    /// Trims and bounds every parameter; an unknown sort column or direction is dropped.
    pub fn normalised(&self) -> View {
        let sort = SortField::parse(self.sort.trim())
            .map(|f| f.name().to_owned())
            .unwrap_or_default();
        let dir = match (sort.is_empty(), self.dir.trim()) {
            (true, _) => String::new(),
            (false, "desc") => "desc".to_owned(),
            (false, _) => "asc".to_owned(),
        };
        View {
            q: clip(&self.q),
            part: clip(&self.part),
            bin: clip(&self.bin),
            status: clip(&self.status),
            sort,
            dir,
        }
    }

    pub fn query_string(&self) -> String {
        serde_urlencoded_string(self)
    }

    pub fn with_sort(&self, field: SortField) -> View {
        let dir = if self.sort == field.name() && self.dir == "asc" {
            "desc"
        } else {
            "asc"
        };
        View {
            sort: field.name().to_owned(),
            dir: dir.to_owned(),
            ..self.clone()
        }
    }

    pub fn selection(&self) -> Selection {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let sort = SortField::parse(&self.sort)
            .map(|field| {
                vec![SortKey {
                    field,
                    dir: if self.dir == "desc" {
                        SortDir::Desc
                    } else {
                        SortDir::Asc
                    },
                }]
            })
            .unwrap_or_default();
        Selection {
            filter: Filter {
                search: opt(&self.q),
                part: opt(&self.part),
                bin: opt(&self.bin),
                status: opt(&self.status),
            },
            sort,
        }
    }

    pub fn url(&self, path: &str) -> String {
        let qs = self.query_string();
        if qs.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{qs}")
        }
    }
}

fn serde_urlencoded_string(view: &View) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("q", &view.q),
        ("part", &view.part),
        ("bin", &view.bin),
        ("status", &view.status),
        ("sort", &view.sort),
        ("dir", &view.dir),
    ] {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_normalise_and_serialise() {
        let v = View {
            q: "  acme ".into(),
            sort: "onHandQty".into(),
            dir: "DESC??".into(),
            ..Default::default()
        }
        .normalised();
        assert_eq!(v.q, "acme");
        assert_eq!(v.dir, "asc");
        assert_eq!(v.query_string(), "q=acme&sort=onHandQty&dir=asc");
        let bad = View {
            sort: "password_hash".into(),
            dir: "desc".into(),
            ..Default::default()
        }
        .normalised();
        assert!(bad.sort.is_empty() && bad.dir.is_empty());
        let toggled = v.with_sort(SortField::OnHandQty);
        assert_eq!(toggled.dir, "desc");
        assert_eq!(v.with_sort(SortField::Part).dir, "asc");
        let sel = View {
            part: "P-1".into(),
            ..Default::default()
        }
        .selection();
        assert_eq!(sel.filter.part.as_deref(), Some("P-1"));
        assert!(sel.filter.search.is_none());
    }
}
