//! Each part's forecast (days of cover, run-out date), as the grid's filter, sort and
//! cells use them: made once a day from the history (`history`), shared by every view.

use std::hash::{Hash, Hasher};

use time::Date;

use super::by_part::ByPart;
use crate::domain::forecast::Forecast;

/// The forecasts of a scope's parts, made on `today`.
#[derive(Clone, Default)]
pub struct Forecasts {
    map: ByPart<Forecast>,
    pub today: Option<Date>,
    fingerprint: u64,
}

impl Forecasts {
    /// `entries`: (ERP customer, part, forecast); `today`: the day they were made on.
    pub fn new(
        entries: impl IntoIterator<Item = (String, String, Forecast)>,
        today: Date,
    ) -> Forecasts {
        let mut sorted: Vec<(String, String, Forecast)> = entries.into_iter().collect();
        sorted.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let mut h = std::collections::hash_map::DefaultHasher::new();
        today.hash(&mut h);
        let mut map = ByPart::default();
        for (c, p, f) in sorted {
            (&c, &p, format!("{f:?}")).hash(&mut h);
            map.entry(&c, &p).insert_entry(f);
        }
        Forecasts {
            map,
            today: Some(today),
            fingerprint: h.finish(),
        }
    }

    pub fn get(&self, customer: &str, part: &str) -> Option<&Forecast> {
        self.map.get(customer, part)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Two sets with the same forecasts made the same day are the same (views memoise on it).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }
}

impl PartialEq for Forecasts {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint && self.len() == other.len()
    }
}

impl Eq for Forecasts {}

impl std::fmt::Debug for Forecasts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Cursors are bound to the selection's debug text: the fingerprint makes another
        // day's forecasts another view.
        f.debug_struct("Forecasts")
            .field("entries", &self.len())
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}
