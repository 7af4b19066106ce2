//! Shaping while parsing: a shaped tool's answer is read straight into its shaped form, so a
//! tool that keeps 20 items × 2 fields of a 500-item answer builds 20 small objects, not the
//! whole tree. What is dropped is still read (the JSON must be valid, and the cut must know how
//! many items it left out) but never allocated. The result is exactly that of parsing the
//! whole answer and calling [`super::shape::shape_value`], which stays the reference (a test
//! compares the two).

use std::fmt;

use serde::Deserialize as _;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::shape::{Under, shape_value, under};
use crate::gateway::Shape;

/// `body` parsed and shaped by `shape`: the shaped value and how many items the cut left out,
/// as [`shape_value`] returns them.
pub(crate) fn parse_shaped(
    shape: &Shape,
    body: &[u8],
) -> Result<(Value, Option<(usize, usize)>), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut cut = None;
    let value = match &shape.list {
        Some(list) => match split(list) {
            Some(segs) => At {
                segs: &segs,
                shape,
                cut: &mut cut,
            }
            .deserialize(&mut de)?,
            // A pointer that may index an array (`/data/0/items`) is shaped the reference way.
            None => {
                let v = Value::deserialize(&mut de)?;
                de.end()?;
                return Ok(shape_value(shape, v));
            }
        },
        None => match &shape.select {
            Some(paths) => Projected { paths }.deserialize(&mut de)?,
            None => Value::deserialize(&mut de)?,
        },
    };
    de.end()?;
    Ok((value, cut))
}

/// `/a/b~1c` → `["a", "b/c"]` (`""`: the root); `None` for a pointer with a segment that could
/// be an array index, which a JSON pointer resolves against an array.
fn split(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let segs: Vec<String> = pointer
        .strip_prefix('/')?
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let index = |s: &String| s == "-" || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    (!segs.iter().any(index)).then_some(segs)
}

/// The visitor methods of scalars, as `Value`'s own visitor builds them.
macro_rules! scalars {
    () => {
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
    };
}

/// The value at the list pointer's remaining `segs`: objects on the way keep every other field
/// whole; at the end, the list is capped and its items projected.
struct At<'a> {
    segs: &'a [String],
    shape: &'a Shape,
    cut: &'a mut Option<(usize, usize)>,
}

impl<'de> DeserializeSeed<'de> for At<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for At<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let Some((first, rest)) = self.segs.split_first() else {
            // The pointer ends at an object, not a list: it is kept as it is.
            while let Some(key) = map.next_key::<String>()? {
                let v: Value = map.next_value()?;
                out.insert(key, v);
            }
            return Ok(Value::Object(out));
        };
        let cut = self.cut;
        while let Some(key) = map.next_key::<String>()? {
            let v = if &key == first {
                // A repeated key: the last one wins, as when parsing into a tree, and so does
                // its cut.
                *cut = None;
                map.next_value_seed(At {
                    segs: rest,
                    shape: self.shape,
                    cut: &mut *cut,
                })?
            } else {
                map.next_value::<Value>()?
            };
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if !self.segs.is_empty() {
            // The pointer goes on by name but this is an array: it names nothing, and the
            // answer is kept as it is (as `shape_value` does).
            let mut items = Vec::new();
            while let Some(v) = seq.next_element::<Value>()? {
                items.push(v);
            }
            return Ok(Value::Array(items));
        }
        let max = self.shape.max_items.unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut more = 0usize;
        loop {
            if items.len() < max {
                let next = match &self.shape.select {
                    Some(paths) => seq.next_element_seed(Projected { paths })?,
                    None => seq.next_element::<Value>()?,
                };
                match next {
                    Some(v) => items.push(v),
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_some() {
                more += 1;
            } else {
                break;
            }
        }
        if more > 0 {
            *self.cut = Some((items.len(), more));
        }
        Ok(Value::Array(items))
    }

    scalars!();
}

/// A value reduced to `paths` as [`super::shape::project`] reduces it, while it is read.
#[derive(Clone, Copy)]
struct Projected<'a> {
    paths: &'a [Vec<String>],
}

impl<'de> DeserializeSeed<'de> for Projected<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Projected<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match under(self.paths, &key) {
                Under::Nothing => {
                    map.next_value::<IgnoredAny>()?;
                }
                Under::Whole => {
                    let v: Value = map.next_value()?;
                    out.insert(key, v);
                }
                Under::Parts(rests) => {
                    let v = map.next_value_seed(Projected { paths: &rests })?;
                    out.insert(key, v);
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    scalars!();
}

#[cfg(test)]
mod tests {

    use super::*;

    fn shape(list: Option<&str>, select: Option<&[&str]>, max_items: Option<usize>) -> Shape {
        Shape {
            page: None,
            select: select.map(|s| {
                s.iter()
                    .map(|p| p.split('/').skip(1).map(str::to_string).collect())
                    .collect()
            }),
            list: list.map(str::to_string),
            max_items,
            text: false,
            blocks: Vec::new(),
            templates: Default::default(),
            as_text: false,
        }
    }

    /// Parsing shaped gives what parsing whole and shaping gives, for every shape and answer.
    #[test]
    fn shaping_while_parsing_equals_shaping_the_tree() {
        let answers = [
            r#"[{"id":1,"name":"a","owner":{"id":7,"email":"x"},"tags":[{"id":1,"name":"t"}]},{"id":2,"name":"b"},{"id":3},4,"five",null]"#,
            r#"{"data":[{"id":1,"name":"a","blob":"zz"},{"id":2,"name":"b"},{"id":3}],"has_more":true,"meta":{"n":3}}"#,
            r#"{"data":{"id":1,"name":"not a list"},"next":null}"#,
            r#"{"data":[{"id":1}],"data":[{"id":2},{"id":3},{"id":4}]}"#,
            r#"{"id":1,"id":{"nested":true},"name":"dup","owner":{"id":2,"email":"e"}}"#,
            r#"{"page":{"items":[{"id":1,"x":[1,2,{"y":3}]},{"id":2,"x":[]}],"total":2},"items":"not here"}"#,
            r#"{"pages":[{"items":[{"id":1},{"id":2}]}]}"#,
            r#"[]"#,
            r#"{}"#,
            r#"42"#,
            r#"[[{"id":1,"name":"inner"}],{"id":2}]"#,
            r#"{"data":[1.5,-3,18446744073709551615,true,"s"]}"#,
        ];
        let shapes = [
            shape(Some(""), Some(&["/id", "/owner/id"]), Some(2)),
            shape(Some(""), None, Some(1)),
            shape(Some("/data"), Some(&["/id", "/name"]), Some(2)),
            shape(Some("/data"), None, None),
            shape(Some("/page/items"), Some(&["/id", "/x/y"]), Some(1)),
            shape(Some("/pages/0/items"), Some(&["/id"]), Some(1)),
            shape(Some("/missing"), Some(&["/id"]), Some(1)),
            shape(None, Some(&["/id", "/owner/id", "/tags/name"]), None),
            shape(None, Some(&["/data", "/page/total"]), None),
            shape(None, None, None),
        ];
        for a in answers {
            let tree: Value = serde_json::from_str(a).unwrap();
            for (i, s) in shapes.iter().enumerate() {
                let expected = shape_value(s, tree.clone());
                let got = parse_shaped(s, a.as_bytes()).unwrap();
                assert_eq!(got, expected, "shape {i} of {a}");
                // Key order too: structuredContent is written in this order.
                assert_eq!(
                    serde_json::to_string(&got.0).unwrap(),
                    serde_json::to_string(&expected.0).unwrap(),
                    "shape {i} of {a}"
                );
            }
        }
    }

    #[test]
    fn what_is_dropped_is_still_checked() {
        let s = shape(Some("/data"), Some(&["/id"]), Some(1));
        for bad in [
            r#"{"data":[{"id":1},{"id":2,}]}"#,
            r#"{"data":[{"id":1}],"rest":[1,2"#,
            r#"{"data":[{"id":1,"skip":tru}]}"#,
            r#"{"data":[]} trailing"#,
            "",
        ] {
            assert!(parse_shaped(&s, bad.as_bytes()).is_err(), "{bad}");
            assert!(serde_json::from_str::<Value>(bad).is_err(), "{bad}");
        }
    }
}
