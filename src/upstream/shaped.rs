//! Shaping while parsing: a shaped tool's answer is read straight into its shaped form, so a
//! tool that keeps 20 items × 2 fields of a 500-item answer builds 20 small objects, not the
//! whole tree. What is dropped is still read (the JSON must be valid, and the cut must know how
//! many items it left out) but never allocated. The result is exactly that of parsing the
//! whole answer and calling [`super::shape::shape_value`], which stays the reference (a test
//! compares the two).
//!
//! The reading is [`crate::json_read`]'s: what is dropped is most of a shaped answer, and its
//! loops read past it at a fraction of what serde_json's visitor protocol costs. Where it says
//! the text is not JSON, the answer takes the reference way, whose error says where and what.

use serde_json::{Map, Value};

use super::shape::{Under, shape_value, under};
use crate::gateway::Shape;
use crate::json_read::{Read, Reader};

/// `body` parsed and shaped by `shape`: the shaped value and how many items the cut left out,
/// as [`shape_value`] returns them.
pub(crate) fn parse_shaped(
    shape: &Shape,
    body: &[u8],
) -> Result<(Value, Option<(usize, usize)>), serde_json::Error> {
    if let Some(shaped) = read_shaped(shape, body) {
        return Ok(shaped);
    }
    // Not JSON (or a pointer that may index an array): the reference way, which also words the
    // error.
    let v: Value = serde_json::from_slice(body)?;
    Ok(shape_value(shape, v))
}

/// [`parse_shaped`] by the reader; `None` when it cannot say (see the caller).
fn read_shaped(shape: &Shape, body: &[u8]) -> Option<(Value, Option<(usize, usize)>)> {
    let mut r = Reader::new(std::str::from_utf8(body).ok()?);
    let mut cut = None;
    let value = match &shape.list {
        Some(list) => at(&mut r, &split(list)?, shape, &mut cut),
        None => match &shape.select {
            Some(paths) => projected(&mut r, paths),
            None => r.tree(),
        },
    };
    let value = value.ok()?;
    r.end().ok()?;
    Some((value, cut))
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

/// The value at the list pointer's remaining `segs`: objects on the way keep every other field
/// whole; at the end, the list is capped and its items projected.
fn at(
    r: &mut Reader<'_>,
    segs: &[String],
    shape: &Shape,
    cut: &mut Option<(usize, usize)>,
) -> Read<Value> {
    match r.peek()? {
        b'{' => {
            let Some((first, rest)) = segs.split_first() else {
                // The pointer ends at an object, not a list: it is kept as it is.
                return r.tree();
            };
            r.enter()?;
            let mut out = Map::new();
            let mut more = true;
            while let Some(key) = r.next_key(&mut more)? {
                let key = key.to_owned();
                let v = if key == *first {
                    // A repeated key: the last one wins, as when parsing into a tree, and so
                    // does its cut.
                    *cut = None;
                    at(r, rest, shape, cut)?
                } else {
                    r.tree()?
                };
                out.insert(key, v);
            }
            Ok(Value::Object(out))
        }
        // The pointer goes on by name but this is an array: it names nothing, and the answer
        // is kept as it is (as `shape_value` does).
        b'[' if !segs.is_empty() => r.tree(),
        b'[' => {
            r.enter()?;
            let max = shape.max_items.unwrap_or(usize::MAX);
            let mut items = Vec::new();
            let mut dropped = 0usize;
            let mut first = true;
            while r.next_item(&mut first)? {
                if items.len() < max {
                    items.push(match &shape.select {
                        Some(paths) => projected(r, paths)?,
                        None => r.tree()?,
                    });
                } else {
                    r.skip()?;
                    dropped += 1;
                }
            }
            if dropped > 0 {
                *cut = Some((items.len(), dropped));
            }
            Ok(Value::Array(items))
        }
        _ => r.tree(),
    }
}

/// A value reduced to `paths` as [`super::shape::project`] reduces it, while it is read.
fn projected(r: &mut Reader<'_>, paths: &[Vec<String>]) -> Read<Value> {
    match r.peek()? {
        b'{' => {
            r.enter()?;
            let mut out = Map::new();
            let mut first = true;
            while let Some(key) = r.next_key(&mut first)? {
                match under(paths, key) {
                    Under::Nothing => r.skip()?,
                    Under::Whole => {
                        let key = key.to_owned();
                        let v = r.tree()?;
                        out.insert(key, v);
                    }
                    Under::Parts(rests) => {
                        let key = key.to_owned();
                        let v = projected(r, &rests)?;
                        out.insert(key, v);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        b'[' => {
            r.enter()?;
            let mut items = Vec::new();
            let mut first = true;
            while r.next_item(&mut first)? {
                items.push(projected(r, paths)?);
            }
            Ok(Value::Array(items))
        }
        _ => r.tree(),
    }
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
