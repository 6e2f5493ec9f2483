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
//! A tool's pull and the pages' grid ask for plain selections: fields without arguments or
//! directives, fragments on the item's own type, and objects below (a row's forecast)
//! selected the same way. For such a selection an item type that names its [`PlainJson`]
//! fields is written without the executor at all (no future, no value per field); any
//! other selection, or an item whose object below is missing (the executor answers an
//! error there), takes the executor's road above. Both roads give the same bytes (the
//! tests compare them).

use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::parser::types::{Field, FragmentDefinition, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::resolve_list;
use async_graphql::{ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value};
use bytes::Bytes;

/// Request data that lets [`StreamedList`]s answer as JSON text.
#[derive(Debug, Clone, Copy)]
pub struct RawLists;

/// A list field's items, answered as JSON text when the request allows it.
pub struct StreamedList<'a, T>(pub &'a [T]);

/// Writes one field's JSON value.
pub type FieldWriter<T> = fn(&T, &mut Vec<u8>);

/// Writes an object-valued field from the plain selection below it; `false` when this
/// item cannot be written that way (the executor then answers the whole list).
pub type ObjectWriter<T> = Box<dyn Fn(&T, &mut Vec<u8>) -> bool + Send + Sync>;

type Fragments = HashMap<Name, Positioned<FragmentDefinition>>;

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

    /// The writer of object field `name` (no arguments) for the selection `below` it;
    /// `None` sends the selection through the executor.
    fn plain_object(_name: &str, _below: &Below<'_>) -> Option<ObjectWriter<Self>>
    where
        Self: Sized,
    {
        None
    }
}

/// The selection below an object field, for [`PlainJson::plain_object`].
pub struct Below<'a> {
    set: &'a SelectionSet,
    fragments: &'a Fragments,
}

impl Below<'_> {
    /// The plain keys of the object's type for this selection, if it is plain.
    pub fn keys<U: PlainJson>(&self) -> Option<Keys<U>> {
        plain_keys(self.set, self.fragments)
    }
}

/// One response key of a plain selection: the key's JSON text and how to write its value.
enum Plain<T> {
    Field(Vec<u8>, FieldWriter<T>),
    TypeName(Vec<u8>, Vec<u8>),
    Object(Vec<u8>, ObjectWriter<T>),
}

/// A plain selection's keys in the order the executor answers them.
pub struct Keys<T>(Vec<Plain<T>>);

/// The plain selection of a list field's items, or `None` when it needs the executor.
fn plain_selection<T: PlainJson>(
    field: &Positioned<Field>,
    fragments: &Fragments,
) -> Option<Keys<T>> {
    plain_keys(&field.node.selection_set.node, fragments)
}

/// The keys of `set` on type `T`, fragments on `T` taken in where they stand, a repeated
/// key written once at its first place (as the executor merges it); `None` when anything
/// needs the executor: arguments, directives, a fragment on another type, a field without
/// a writer, an object field asked twice under one key.
fn plain_keys<T: PlainJson>(set: &SelectionSet, fragments: &Fragments) -> Option<Keys<T>> {
    let mut keys = Vec::new();
    let mut seen = Vec::new();
    collect(set, fragments, &mut keys, &mut seen, 0)?;
    Some(Keys(keys))
}

/// Fragments nested deeper than this are left to the executor (validation refuses
/// cycles; this only bounds the walk).
const FRAGMENT_DEPTH: usize = 8;

fn collect<'a, T: PlainJson>(
    set: &'a SelectionSet,
    fragments: &'a Fragments,
    keys: &mut Vec<Plain<T>>,
    seen: &mut Vec<(&'a str, bool)>,
    depth: usize,
) -> Option<()> {
    use async_graphql::parser::types::Selection;
    if depth > FRAGMENT_DEPTH {
        return None;
    }
    let on_this_type = |name: &str| name == T::type_name();
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                let f = &f.node;
                if !f.directives.is_empty() || !f.arguments.is_empty() {
                    return None;
                }
                let key = f.response_key().node.as_str();
                let name = f.name.node.as_str();
                let below = &f.selection_set.node;
                let object = !below.items.is_empty();
                if let Some((_, was_object)) = seen.iter().find(|(k, _)| *k == key) {
                    // The executor merges an object's selections; that is left to it.
                    if object || *was_object {
                        return None;
                    }
                    continue;
                }
                let plain = if name == "__typename" {
                    let mut type_name = Vec::new();
                    json_into(&mut type_name, T::type_name().as_ref());
                    Plain::TypeName(json_key(key), type_name)
                } else if object {
                    let below = Below {
                        set: below,
                        fragments,
                    };
                    Plain::Object(json_key(key), T::plain_object(name, &below)?)
                } else {
                    Plain::Field(json_key(key), T::plain_field(name)?)
                };
                seen.push((key, object));
                keys.push(plain);
            }
            Selection::FragmentSpread(spread) => {
                if !spread.node.directives.is_empty() {
                    return None;
                }
                let def = &fragments.get(&spread.node.fragment_name.node)?.node;
                if !def.directives.is_empty() || !on_this_type(&def.type_condition.node.on.node) {
                    return None;
                }
                collect(&def.selection_set.node, fragments, keys, seen, depth + 1)?;
            }
            Selection::InlineFragment(inline) => {
                let inline = &inline.node;
                if !inline.directives.is_empty()
                    || inline
                        .type_condition
                        .as_ref()
                        .is_some_and(|t| !on_this_type(&t.node.on.node))
                {
                    return None;
                }
                collect(&inline.selection_set.node, fragments, keys, seen, depth + 1)?;
            }
        }
    }
    Some(())
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

/// An enum's value as the executor writes it (its GraphQL name).
pub fn write_enum<E: async_graphql::resolver_utils::EnumType>(out: &mut Vec<u8>, value: E) {
    json_into(out, &async_graphql::resolver_utils::enum_value(value));
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

/// Writes `item` as an object of `keys`; `false` when one of its object fields cannot be
/// written without the executor.
pub fn write_object<T>(item: &T, keys: &Keys<T>, out: &mut Vec<u8>) -> bool {
    out.push(b'{');
    for (i, key) in keys.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match key {
            Plain::Field(k, write) => {
                out.extend_from_slice(k);
                write(item, out);
            }
            Plain::TypeName(k, v) => {
                out.extend_from_slice(k);
                out.extend_from_slice(v);
            }
            Plain::Object(k, write) => {
                out.extend_from_slice(k);
                if !write(item, out) {
                    return false;
                }
            }
        }
    }
    out.push(b'}');
    true
}

/// The items written straight from a plain selection, or `None` when one of them needs
/// the executor.
fn write_plain<T>(items: &[T], keys: &Keys<T>) -> Option<Vec<u8>> {
    let mut out = vec![b'['];
    for (idx, item) in items.iter().enumerate() {
        if idx > 0 {
            out.push(b',');
        }
        if !write_object(item, keys, &mut out) {
            return None;
        }
        if idx == 0 {
            let first = out.len();
            out.reserve(first.saturating_mul(items.len()) / 8 * 9);
        }
    }
    out.push(b']');
    out.shrink_to_fit();
    Some(out)
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
            && let Some(keys) = plain_selection::<T>(field, &ctx.query_env.fragments)
            && let Some(text) = write_plain(self.0, &keys)
        {
            return Ok(Value::Binary(Bytes::from(text)));
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

/// A list of texts (`[String!]!`), answered as JSON text when the request allows it: a
/// grid's dropdowns are a hundred texts, each otherwise a future and a value.
#[derive(Debug, Clone)]
pub struct TextList<'a>(pub Cow<'a, [String]>);

impl OutputType for TextList<'_> {
    fn type_name() -> Cow<'static, str> {
        <Vec<String> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<String> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<String> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if ctx.data_opt::<RawLists>().is_none() {
            return OutputType::resolve(&self.0.as_ref(), ctx, field).await;
        }
        let mut out = Vec::with_capacity(2 + self.0.iter().map(|t| t.len() + 3).sum::<usize>());
        out.push(b'[');
        for (i, text) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json_into(&mut out, text);
        }
        out.push(b']');
        Ok(Value::Binary(Bytes::from(out)))
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
        #[graphql(skip)]
        tag: Option<Tag>,
    }

    /// An object below an item, missing on some items (as a forecast not computed).
    #[derive(SimpleObject, Clone)]
    struct Tag {
        code: i32,
        label: String,
    }

    impl PlainJson for Tag {
        fn plain_field(name: &str) -> Option<FieldWriter<Self>> {
            Some(match name {
                "code" => |t, out| write_scalar(out, &t.code),
                "label" => |t, out| write_text(out, &t.label),
                _ => return None,
            })
        }
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
        async fn tag(&self) -> async_graphql::Result<&Tag> {
            self.tag.as_ref().ok_or_else(|| "no tag".into())
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

        fn plain_object(name: &str, below: &Below<'_>) -> Option<ObjectWriter<Self>> {
            if name != "tag" {
                return None;
            }
            let keys = below.keys::<Tag>()?;
            Some(Box::new(move |i, out| {
                i.tag.as_ref().is_some_and(|t| write_object(t, &keys, out))
            }))
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
        async fn texts(&self) -> TextList<'_> {
            TextList(Cow::Owned(vec![
                "plain".into(),
                "quote \" and \\ é ✓\u{1}".into(),
                String::new(),
            ]))
        }
        async fn no_texts(&self) -> TextList<'_> {
            TextList(Cow::Borrowed(&[]))
        }
    }

    fn schema(n: i32) -> Schema<Query, EmptyMutation, EmptySubscription> {
        schema_tagged(n, |_| true)
    }

    /// Items 1..=n, those `tagged` says with a tag.
    fn schema_tagged(
        n: i32,
        tagged: impl Fn(i32) -> bool,
    ) -> Schema<Query, EmptyMutation, EmptySubscription> {
        let items = (1..=n)
            .map(|id| Item {
                id,
                name: format!("item <{id}> é"),
                weight: (id % 2 == 0).then_some(f64::from(id) / 4.0),
                tag: tagged(id).then(|| Tag {
                    code: id * 10,
                    label: format!("t\"{id}"),
                }),
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
        same_both_ways_on(schema(n), query).await
    }

    async fn same_both_ways_on(
        schema: Schema<Query, EmptyMutation, EmptySubscription>,
        query: &str,
    ) -> String {
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
            // Fragments and objects below, written without the executor too.
            "{ items { ...F name } } fragment F on Item { id name tag { label code } }",
            "{ items { ... { id } ... on Item { t: tag { ...T __typename } id } } } fragment T on Tag { code }",
            "{ items { tag { code } tag { label } } }",
            "{ items { id ...F @skip(if: false) } } fragment F on Item { name }",
            // Lists of texts.
            "{ texts t: texts noTexts x: texts @skip(if: true) }",
        ] {
            same_both_ways(1_200, query).await;
        }
    }

    /// An item without its object answers the executor's error, in its place, both ways.
    #[tokio::test]
    async fn an_item_missing_its_object_goes_through_the_executor() {
        let query = "{ items { id tag { code } } }";
        let answer = same_both_ways_on(schema_tagged(9, |id| id != 4), query).await;
        assert!(answer.contains("no tag"), "{answer}");
        assert!(
            answer.contains("\"path\":[\"items\",3,\"tag\"]"),
            "{answer}"
        );
        let complete = same_both_ways_on(schema_tagged(9, |_| true), query).await;
        assert!(
            complete.contains("{\"id\":4,\"tag\":{\"code\":40}}"),
            "{complete}"
        );
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
        let texts = schema
            .execute(Request::new("{ texts }").data(RawLists))
            .await;
        let Value::Object(data) = &texts.data else {
            panic!("{texts:?}")
        };
        assert!(
            matches!(data.get("texts"), Some(Value::Binary(_))),
            "a list of texts is written as text: {data:?}"
        );
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
            let fragments: Fragments = doc.fragments.clone();
            plain_selection::<Item>(f, &fragments).is_some()
        };
        for q in [
            "{ items { id name __typename n: weight } }",
            "{ items { ...F } } fragment F on Item { id }",
            "{ items { ... on Item { id } tag { code } } }",
            "{ items { id id tag { ...T } } } fragment T on Tag { label }",
        ] {
            assert!(plain(q), "{q}");
        }
        for q in [
            "{ items { id checked } }",
            "{ items { id @include(if: true) } }",
            "{ items { ...F @include(if: true) } } fragment F on Item { id }",
            "{ items { ... @skip(if: false) { id } } }",
            "{ items { ...F } } fragment F on Item @deprecated { id }",
            "{ items { tag { code checked: label @skip(if: false) } } }",
            "{ items { tag { code } tag { label } } }",
        ] {
            assert!(!plain(q), "{q}");
        }
    }
}
