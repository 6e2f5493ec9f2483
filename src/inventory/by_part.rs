//! A map by ERP customer, then part, shared by minimums and forecasts.

use std::collections::HashMap;

/// Values by ERP customer, then part: looked up by `&str` without building a key (the
/// below-minimum filter asks once per row of the scope).
#[derive(Debug, Clone)]
pub(crate) struct ByPart<T>(HashMap<String, HashMap<String, T>>);

impl<T> Default for ByPart<T> {
    fn default() -> Self {
        ByPart(HashMap::new())
    }
}

impl<T> ByPart<T> {
    pub(crate) fn get(&self, customer: &str, part: &str) -> Option<&T> {
        self.0.get(customer)?.get(part)
    }

    pub(crate) fn entry(
        &mut self,
        customer: &str,
        part: &str,
    ) -> std::collections::hash_map::Entry<'_, String, T> {
        let parts = match self.0.get_mut(customer) {
            Some(_) => self.0.get_mut(customer).expect("just found"),
            None => self.0.entry(customer.to_owned()).or_default(),
        };
        parts.entry(part.to_owned())
    }

    pub(crate) fn len(&self) -> usize {
        self.0.values().map(HashMap::len).sum()
    }
}
