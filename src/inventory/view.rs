//! The grid's view as URL parameters: `q`, `part`, `bin`, `status`, `expiry`, `below`,
//! `runout`, `sort`, `dir` — the same for the page, its fragments, the exports, saved views and
//! scheduled reports (docs/architecture.md).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::inventory::{
    ExpiryFilter, ExpiryWindow, Filter, Forecasts, Minimums, RunsOut, Selection, SortDir,
    SortField, SortKey,
};

const MAX_PARAM_CHARS: usize = 200;
/// The longest "runs out within" a view may ask for, days.
pub const MAX_RUNOUT_DAYS: u32 = 365;

/// The view's URL parameters: `q`, `part`, `bin`, `status`, `expiry` (`expired`, `30`,
/// `60`, `90`), `below` (`1`: only parts below their minimum), `runout` (days: only parts
/// forecast to run out within them), `sort`, `dir`.
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
    pub expiry: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub below: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runout: String,
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
            expiry: ExpiryWindow::parse(&self.expiry)
                .map(|w| w.name().to_owned())
                .unwrap_or_default(),
            below: if self.below.trim() == "1" {
                "1".to_owned()
            } else {
                String::new()
            },
            runout: self
                .runout_days()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            sort,
            dir,
        }
    }

    /// The view with the expiry quick filter set to `window` (or cleared).
    pub fn with_expiry(&self, window: Option<ExpiryWindow>) -> View {
        View {
            expiry: window.map(|w| w.name().to_owned()).unwrap_or_default(),
            ..self.clone()
        }
    }

    /// The "runs out within" days, if set (1 to [`MAX_RUNOUT_DAYS`]).
    pub fn runout_days(&self) -> Option<u32> {
        self.runout
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=MAX_RUNOUT_DAYS).contains(d))
    }

    /// The view with the run-out filter set to `days` (or cleared).
    pub fn with_runout(&self, days: Option<u32>) -> View {
        View {
            runout: days.map(|d| d.to_string()).unwrap_or_default(),
            ..self.clone()
        }
    }

    /// Whether the view reads forecasts (a run-out filter, or a sort by days of cover).
    pub fn needs_forecasts(&self) -> bool {
        self.runout_days().is_some() || self.sort == SortField::DaysOfCover.name()
    }

    /// The expiry window, if one is set.
    pub fn expiry_window(&self) -> Option<ExpiryWindow> {
        ExpiryWindow::parse(&self.expiry)
    }

    /// A view from URL parameters (`q=…&part=…`), normalised; unknown keys are ignored.
    pub fn from_query(query: &str) -> View {
        let mut v = View::default();
        for (k, val) in url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let slot = match k.as_ref() {
                "q" => &mut v.q,
                "part" => &mut v.part,
                "bin" => &mut v.bin,
                "status" => &mut v.status,
                "expiry" => &mut v.expiry,
                "below" => &mut v.below,
                "runout" => &mut v.runout,
                "sort" => &mut v.sort,
                "dir" => &mut v.dir,
                _ => continue,
            };
            *slot = val.into_owned();
        }
        v.normalised()
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

    /// What the view selects, with expiry counted from `today`, "below minimum" measured
    /// against `minimums` (the account's thresholds), and run-out dates and days of cover
    /// read from `forecasts`.
    pub fn selection(
        &self,
        today: time::Date,
        minimums: Option<Arc<Minimums>>,
        forecasts: Option<Arc<Forecasts>>,
    ) -> Selection {
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
                expiry: self
                    .expiry_window()
                    .map(|window| ExpiryFilter { window, today }),
                below_minimum: (self.below == "1").then(|| minimums.unwrap_or_default()),
                runs_out: self.runout_days().map(|within_days| RunsOut {
                    within_days,
                    forecasts: forecasts.clone().unwrap_or_default(),
                }),
            },
            sort,
            cover: forecasts,
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
        ("expiry", &view.expiry),
        ("below", &view.below),
        ("runout", &view.runout),
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
        .selection(time::macros::date!(2026 - 01 - 01), None, None);
        assert_eq!(sel.filter.part.as_deref(), Some("P-1"));
        assert!(sel.filter.search.is_none());
        assert!(sel.filter.expiry.is_none() && sel.filter.below_minimum.is_none());
        let v = View {
            expiry: " 30 ".into(),
            below: "1".into(),
            ..Default::default()
        }
        .normalised();
        assert_eq!(v.query_string(), "expiry=30&below=1");
        let sel = v.selection(time::macros::date!(2026 - 01 - 01), None, None);
        assert_eq!(
            sel.filter.expiry.map(|e| e.window),
            Some(ExpiryWindow::Within30)
        );
        assert!(sel.filter.below_minimum.is_some());
        let junk = View {
            expiry: "soon".into(),
            below: "yes".into(),
            ..Default::default()
        }
        .normalised();
        assert!(junk.expiry.is_empty() && junk.below.is_empty());
        let parsed = View::from_query("?q=gift+box&sort=onHandQty&dir=desc&evil=1&expiry=90");
        assert_eq!(
            parsed.query_string(),
            "q=gift+box&expiry=90&sort=onHandQty&dir=desc"
        );
    }
}
