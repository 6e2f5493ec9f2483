//! Large lists answered as JSON text as they are resolved, for `/graphql` over HTTP.
//!
//! async-graphql builds a whole answer as a tree of values before it is serialised: for
//! an inventory page of 20,000 rows that tree is about 40 MB (an ordered map per row, a
//! value per field) for 6 MB of JSON, and several such answers at once set the process's
//! memory. A [`StreamedList`] resolves its items one at a time with the schema's own
//! machinery (aliases, fragments, `@skip`/`@include`, `__typename` and errors exactly as
//! for any list), writes each item's JSON at once and lets its tree go. The list's value
//! is then the JSON text itself, carried as a `Binary` value (no field of this schema
//! returns binary data, so the two cannot be confused), and [`write_response`] puts it in
//! the answer verbatim.
//!
//! Only a request that carries [`RawLists`] gets this: the HTTP endpoint, which writes the
//! answer with [`write_response`], and the pages' operations, which decode [`data_json`]
//! into their generated types. Anything else that runs the schema (tests, tools in
//! process) reads ordinary values.
//!
//! A tool's pull asks for plain fields only (no arguments, nothing selected below them, no
//! directives, no fragments). For such a selection an item type that names its
//! [`PlainJson`] fields is written without the executor at all (no future, no value per
//! field); any other selection takes the executor's road above. Both roads give the same bytes
//! (the tests compare them).

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use bytes::Bytes;

/// Request data that lets [`StreamedList`]s answer as JSON text.
#[derive(Debug, Clone, Copy)]
pub struct RawLists;

/// A list field's items, answered as JSON text when the request allows it.
pub struct StreamedList<'a, T>(pub &'a [T]);

/// Writes one field's JSON value.
pub type FieldWriter<T> = fn(&T, &mut Vec<u8>);

/// The fields of a list item that can be written without the executor.
pub trait PlainJson: OutputType {
    /// The writer of field `name` when it takes no arguments and has no fields below it;
    /// `None` sends the selection through the executor.
    fn plain_field(_name: &str) -> Option<FieldWriter<Self>>
    where
        Self: Sized,
    {
        None
    }
}

/// One response key of a plain selection: the key's JSON text and how to write its value.
enum Plain<T> {
    Field(Vec<u8>, FieldWriter<T>),
    TypeName(Vec<u8>, Vec<u8>),
}

/// The plain selection's keys in order (a repeated key written once, as the executor
/// merges it), or `None` when the selection needs the executor.
fn plain_selection<T: PlainJson>(field: &Positioned<Field>) -> Option<Vec<Plain<T>>> {
    use async_graphql::parser::types::Selection;
    let mut keys: Vec<Plain<T>> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for item in &field.node.selection_set.node.items {
        let Selection::Field(f) = &item.node else {
            return None;
        };
        let f = &f.node;
        if !f.directives.is_empty()
            || !f.arguments.is_empty()
            || !f.selection_set.node.items.is_empty()
        {
            return None;
        }
        let key = f.response_key().node.as_str();
        let name = f.name.node.as_str();
        let plain = if name == "__typename" {
            let mut type_name = Vec::new();
            json_into(&mut type_name, T::type_name().as_ref());
            Plain::TypeName(json_key(key), type_name)
        } else {
            Plain::Field(json_key(key), T::plain_field(name)?)
        };
        if !seen.contains(&key) {
            seen.push(key);
            keys.push(plain);
        }
    }
    Some(keys)
}

fn json_key(key: &str) -> Vec<u8> {
    let mut text = Vec::new();
    json_into(&mut text, key);
    text.push(b':');
    text
}

/// Writes text as a JSON string.
pub fn write_text(out: &mut Vec<u8>, text: &str) {
    json_into(out, text);
}

/// Writes a scalar exactly as the executor would (a float that is not finite is null).
pub fn write_scalar<S: async_graphql::ScalarType>(out: &mut Vec<u8>, value: &S) {
    json_into(out, &value.to_value());
}

/// A float as the executor writes it (null when not finite), without a value between.
pub fn write_float(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        json_into(out, &value);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A date as the `Date` scalar writes it (`"YYYY-MM-DD"`), without a value between.
pub fn write_date(out: &mut Vec<u8>, date: time::Date) {
    if !(0..=9999).contains(&date.year()) {
        return write_scalar(out, &date);
    }
    let digits = |out: &mut Vec<u8>, n: u32, width: u32| {
        for p in (0..width).rev() {
            out.push(b'0' + (n / 10u32.pow(p) % 10) as u8);
        }
    };
    out.push(b'"');
    digits(out, date.year() as u32, 4);
    out.push(b'-');
    digits(out, u32::from(u8::from(date.month())), 2);
    out.push(b'-');
    digits(out, u32::from(date.day()), 2);
    out.push(b'"');
}

/// [`write_scalar`], or null.
pub fn write_optional<S: async_graphql::ScalarType>(out: &mut Vec<u8>, value: Option<&S>) {
    match value {
        Some(v) => write_scalar(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

fn json_into<S: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &S) {
    // Writing into a Vec cannot fail, and none of these has a fallible Serialize.
    if let Err(e) = serde_json::to_writer(&mut *out, value) {
        tracing::error!(error = %e, "serialising a GraphQL value failed");
        out.extend_from_slice(b"null");
    }
}

/// The items written straight from a plain selection.
fn write_plain<T>(items: &[T], keys: &[Plain<T>]) -> Vec<u8> {
    let mut out = vec![b'['];
    for (idx, item) in items.iter().enumerate() {
        if idx > 0 {
            out.push(b',');
        }
        out.push(b'{');
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match key {
                Plain::Field(k, write) => {
                    out.extend_from_slice(k);
                    write(item, &mut out);
                }
                Plain::TypeName(k, v) => {
                    out.extend_from_slice(k);
                    out.extend_from_slice(v);
                }
            }
        }
        out.push(b'}');
        if idx == 0 {
            let first = out.len();
            out.reserve(first.saturating_mul(items.len()) / 8 * 9);
        }
    }
    out.push(b']');
    out.shrink_to_fit();
    out
}

impl<T: PlainJson> OutputType for StreamedList<'_, T> {
    fn type_name() -> Cow<'static, str> {
        <&[T] as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <&[T] as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <&[T] as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if ctx.data_opt::<RawLists>().is_none() {
            return resolve_list(ctx, field, self.0, Some(self.0.len())).await;
        }
        if !self.0.is_empty()
            && let Some(keys) = plain_selection::<T>(field)
        {
            return Ok(Value::Binary(Bytes::from(write_plain(self.0, &keys))));
        }
        let mut out = JsonOut {
            pieces: Vec::new(),
            buf: vec![b'['],
            split: false,
        };
        for (idx, item) in self.0.iter().enumerate() {
            let ctx_idx = ctx.with_index(idx);
            let value = OutputType::resolve(item, &ctx_idx, field)
                .await
                .map_err(|err| ctx_idx.set_error_path(err))?;
            if idx > 0 {
                out.buf.push(b',');
            }
            out.value(&value);
            if idx == 0 {
                // Items have the same fields: the first tells about how long the text gets.
                let first = out.buf.len();
                out.buf.reserve(first.saturating_mul(self.0.len()) / 8 * 9);
            }
        }
        out.buf.push(b']');
        out.buf.shrink_to_fit();
        Ok(Value::Binary(Bytes::from(out.buf)))
    }
}

/// JSON text written out: into one buffer, or (for the answer) as pieces where the large
/// lists' text is sent as it is rather than copied.
struct JsonOut {
    pieces: Vec<Bytes>,
    buf: Vec<u8>,
    split: bool,
}

impl JsonOut {
    fn raw(&mut self, raw: &Bytes) {
        if self.split {
            if !self.buf.is_empty() {
                self.pieces.push(Bytes::from(std::mem::take(&mut self.buf)));
            }
            self.pieces.push(raw.clone());
        } else {
            self.buf.extend_from_slice(raw);
        }
    }

    /// Writes `value` as JSON; a `Binary` value is JSON text already.
    fn value(&mut self, value: &Value) {
        match value {
            Value::Binary(raw) => self.raw(raw),
            Value::List(items) => {
                self.buf.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b',');
                    }
                    self.value(item);
                }
                self.buf.push(b']');
            }
            Value::Object(map) => {
                self.buf.push(b'{');
                for (i, (key, item)) in map.iter().enumerate() {
                    if i > 0 {
                        self.buf.push(b',');
                    }
                    self.json(key.as_str());
                    self.buf.push(b':');
                    self.value(item);
                }
                self.buf.push(b'}');
            }
            scalar => self.json(scalar),
        }
    }

    /// What serde_json serialises as it is (strings, numbers, errors, extensions).
    fn json<S: serde::Serialize + ?Sized>(&mut self, value: &S) {
        json_into(&mut self.buf, value);
    }
}

/// `data` as one JSON text (the lists' text copied in), for a caller that decodes it into
/// its own types.
pub fn data_json(data: &Value) -> Vec<u8> {
    let mut out = JsonOut {
        pieces: Vec::new(),
        buf: Vec::new(),
        split: false,
    };
    out.value(data);
    out.buf
}

/// The response's JSON as pieces to send one after another: the large lists' text as it
/// is, the rest around it. The same fields in the same order as async-graphql's own
/// serialisation: `data`, then `extensions` and `errors` when not empty.
pub fn write_response(response: &async_graphql::Response) -> Vec<Bytes> {
    let mut out = JsonOut {
        pieces: Vec::new(),
        buf: b"{\"data\":".to_vec(),
        split: true,
    };
    out.value(&response.data);
    if !response.extensions.is_empty() {
        out.buf.extend_from_slice(b",\"extensions\":");
        out.json(&response.extensions);
    }
    if !response.errors.is_empty() {
        out.buf.extend_from_slice(b",\"errors\":");
        out.json(&response.errors);
    }
    out.buf.push(b'}');
    let last = std::mem::take(&mut out.buf);
    out.pieces.push(Bytes::from(last));
    out.pieces
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Request, Schema, SimpleObject};

    use super::*;

    #[derive(SimpleObject)]
    #[graphql(complex)]
    struct Item {
        id: i32,
        name: String,
        weight: Option<f64>,
    }

    #[async_graphql::ComplexObject]
    impl Item {
        /// Fails on every third item, as a field that was not computed does.
        async fn checked(&self) -> async_graphql::Result<Option<String>> {
            if self.id % 3 == 0 {
                Err("not computed".into())
            } else {
                Ok(Some(format!("ok \"{}\" ✓", self.id)))
            }
        }
        async fn strict(&self) -> async_graphql::Result<i32> {
            if self.id == 7 {
                Err("seven".into())
            } else {
                Ok(self.id)
            }
        }
    }

    impl PlainJson for Item {
        fn plain_field(name: &str) -> Option<FieldWriter<Self>> {
            Some(match name {
                "id" => |i, out| write_scalar(out, &i.id),
                "name" => |i, out| write_text(out, &i.name),
                "weight" => |i, out| write_optional(out, i.weight.as_ref()),
                _ => return None,
            })
        }
    }

    struct Query(Vec<Item>);

    #[Object]
    impl Query {
        async fn items(&self) -> StreamedList<'_, Item> {
            StreamedList(&self.0)
        }
        async fn few(&self) -> StreamedList<'_, Item> {
            StreamedList(&self.0[..0])
        }
        async fn label(&self) -> &str {
            "a \"label\"\n"
        }
    }

    fn schema(n: i32) -> Schema<Query, EmptyMutation, EmptySubscription> {
        let items = (1..=n)
            .map(|id| Item {
                id,
                name: format!("item <{id}> é"),
                weight: (id % 2 == 0).then_some(f64::from(id) / 4.0),
            })
            .collect();
        Schema::new(Query(items), EmptyMutation, EmptySubscription)
    }

    /// The direct writers of floats and dates write what the scalars write.
    #[test]
    fn direct_floats_and_dates_match_the_scalars() {
        for v in [
            0.0,
            -0.0,
            12.5,
            -3.25,
            1e21,
            1e-7,
            123456789.123,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
        ] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            write_float(&mut a, v);
            write_scalar(&mut b, &v);
            assert_eq!(a, b, "{v}");
        }
        for d in [
            time::macros::date!(2027 - 01 - 02),
            time::macros::date!(0001 - 12 - 31),
            time::macros::date!(9999 - 12 - 31),
            time::Date::MIN,
            time::Date::MAX,
        ] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            write_date(&mut a, d);
            write_scalar(&mut b, &d);
            assert_eq!(a, b, "{d}");
        }
    }

    /// The same query answered both ways gives the same bytes.
    async fn same_both_ways(n: i32, query: &str) -> String {
        let schema = schema(n);
        let plain = schema.execute(Request::new(query)).await;
        let plain = serde_json::to_string(&plain).unwrap();
        let raw = schema.execute(Request::new(query).data(RawLists)).await;
        let pieces = write_response(&raw);
        let raw: Vec<u8> = pieces.iter().flat_map(|p| p.iter().copied()).collect();
        assert_eq!(String::from_utf8(raw).unwrap(), plain, "{query}");
        plain
    }

    #[tokio::test]
    async fn a_streamed_list_answers_exactly_as_a_list_does() {
        for query in [
            "{ items { id name weight } }",
            "{ a: items { id } b: items { n: name n2: name } label }",
            "{ items { ...F } } fragment F on Item { id ...G } fragment G on Item { name }",
            "{ items { ... on Item { __typename id } } few { id } }",
            "{ items { id weight @skip(if: true) name @include(if: false) } }",
            "{ items { id checked } }",
            "{ label }",
            // Plain selections, written without the executor.
            "{ items { id id name weight } }",
            "{ items { __typename t: __typename w: weight id } }",
            "{ a: items { x: id y: name } b: items { name } }",
        ] {
            same_both_ways(1_200, query).await;
        }
    }

    #[tokio::test]
    async fn a_field_error_is_placed_and_reported_the_same_both_ways() {
        let answer = same_both_ways(10, "{ items { id strict } }").await;
        assert!(answer.contains("{\"id\":7},"), "{answer}");
        assert!(
            answer.contains("\"path\":[\"items\",6,\"strict\"]"),
            "{answer}"
        );
        let answer = same_both_ways(10, "{ items { id checked } }").await;
        assert!(answer.contains("not computed"), "{answer}");
    }

    #[tokio::test]
    async fn the_list_text_is_sent_as_it_was_written() {
        let schema = schema(100);
        let raw = schema
            .execute(Request::new("{ a: items { id } b: items { id } }").data(RawLists))
            .await;
        let pieces = write_response(&raw);
        // Before a, a, between, b, after.
        assert_eq!(pieces.len(), 5, "{pieces:?}");
        assert!(pieces[1].starts_with(b"[{\"id\":1}"));
    }

    #[test]
    fn only_plain_selections_skip_the_executor() {
        let plain = |q: &str| {
            let doc = async_graphql::parser::parse_query(q).unwrap();
            let op = doc.operations.iter().next().unwrap().1;
            let async_graphql::parser::types::Selection::Field(f) =
                &op.node.selection_set.node.items[0].node
            else {
                panic!()
            };
            plain_selection::<Item>(f).is_some()
        };
        assert!(plain("{ items { id name __typename n: weight } }"));
        for q in [
            "{ items { id checked } }",
            "{ items { id @include(if: true) } }",
            "{ items { ...F } } fragment F on Item { id }",
            "{ items { ... on Item { id } } }",
        ] {
            assert!(!plain(q), "{q}");
        }
    }
}
