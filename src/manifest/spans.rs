//! Where each node of a YAML document is, so a diagnostic about `tools[3].params.petId` can
//! quote line and column. serde's YAML deserialisers keep no positions once parsing succeeds,
//! so this walks the event stream of `yaml-rust2` once and indexes every key and value by JSON
//! pointer.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::diag::Span;

/// Positions of the keys and values of one YAML document, by JSON pointer (`/tools/3/name`).
#[derive(Debug, Default, Clone)]
pub struct SpanIndex {
    nodes: HashMap<String, NodeSpan>,
}

#[derive(Debug, Clone, Copy)]
struct NodeSpan {
    key: Option<Span>,
    value: Span,
}

impl SpanIndex {
    /// Indexes `text`. A document the parser rejects yields an empty index (the YAML error is
    /// reported separately, with its own position).
    pub fn build(text: &str) -> Self {
        let mut builder = Builder::default();
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return Self::default();
        }
        Self {
            nodes: builder.nodes,
        }
    }

    /// The span of the value at `pointer`, or of its closest indexed ancestor.
    pub fn value(&self, pointer: &str) -> Option<Span> {
        self.find(pointer).map(|n| n.value)
    }

    /// The span of the key of the entry at `pointer` (falls back to the value, then ancestors).
    pub fn key(&self, pointer: &str) -> Option<Span> {
        self.find(pointer).map(|n| n.key.unwrap_or(n.value))
    }

    fn find(&self, pointer: &str) -> Option<&NodeSpan> {
        let mut p = pointer;
        loop {
            if let Some(n) = self.nodes.get(p) {
                return Some(n);
            }
            if p.is_empty() {
                return None;
            }
            p = match p.rfind('/') {
                Some(i) => &p[..i],
                None => "",
            };
        }
    }
}

/// `/tools/3/params/petId` → `tools[3].params.petId`; keys that are not identifier-like are
/// quoted: `params["a.b"]`.
pub fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for raw in pointer.split('/').skip(1) {
        let seg = unescape_segment(raw);
        if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else if !seg.is_empty()
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        } else {
            out.push_str(&format!("[{seg:?}]"));
        }
    }
    out
}

/// Escapes one JSON pointer segment.
pub fn pointer_segment(seg: &str) -> String {
    seg.replace('~', "~0").replace('/', "~1")
}

/// Unescapes one JSON pointer segment (the inverse of [`pointer_segment`]).
pub fn unescape_segment(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

enum Frame {
    Map {
        pointer: String,
        key: Option<(String, Span)>,
    },
    Seq {
        pointer: String,
        index: usize,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    nodes: HashMap<String, NodeSpan>,
    root_done: bool,
}

fn span_at(mark: Marker, len: usize) -> Span {
    // yaml-rust2 markers: 1-based line, 0-based column.
    Span {
        line: mark.line(),
        column: mark.col() + 1,
        len: len.max(1),
    }
}

impl Builder {
    /// Where the next value goes, with the key span if it is a mapping value. `None` when the
    /// event is a mapping key.
    fn next_slot(&mut self, scalar: Option<(&str, Span)>) -> Option<(String, Option<Span>)> {
        match self.stack.last_mut() {
            None => {
                if self.root_done {
                    return None;
                }
                self.root_done = true;
                Some((String::new(), None))
            }
            Some(Frame::Seq { pointer, index }) => {
                let p = format!("{pointer}/{index}");
                *index += 1;
                Some((p, None))
            }
            Some(Frame::Map { pointer, key }) => match key.take() {
                Some((k, key_span)) => {
                    Some((format!("{pointer}/{}", pointer_segment(&k)), Some(key_span)))
                }
                None => {
                    // This event is a key. Complex (non-scalar) keys are indexed as "?".
                    let (k, s) = scalar.map(|(k, s)| (k.to_string(), s)).unwrap_or_else(|| {
                        (
                            "?".to_string(),
                            Span {
                                line: 1,
                                column: 1,
                                len: 1,
                            },
                        )
                    });
                    *key = Some((k, s));
                    None
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, style, _, _) => {
                let quoted = matches!(
                    style,
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
                );
                let len = value.chars().count() + if quoted { 2 } else { 0 };
                let span = span_at(mark, len);
                if let Some((p, key)) = self.next_slot(Some((&value, span))) {
                    self.nodes.insert(p, NodeSpan { key, value: span });
                }
            }
            Event::Alias(_) => {
                if let Some((p, key)) = self.next_slot(None) {
                    self.nodes.insert(
                        p,
                        NodeSpan {
                            key,
                            value: span_at(mark, 1),
                        },
                    );
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let is_map = matches!(ev, Event::MappingStart(..));
                // A container used as a mapping key: index nothing under it.
                let (pointer, key) = self
                    .next_slot(None)
                    .unwrap_or_else(|| ("/?".to_string(), None));
                self.nodes.insert(
                    pointer.clone(),
                    NodeSpan {
                        key,
                        value: span_at(mark, 1),
                    },
                );
                self.stack.push(if is_map {
                    Frame::Map { pointer, key: None }
                } else {
                    Frame::Seq { pointer, index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str =
        "name: petstore\ntools:\n  - operation: getPet\n    params:\n      petId: {rename: id}\n";

    #[test]
    fn indexes_keys_and_values_by_pointer() {
        let idx = SpanIndex::build(DOC);
        let v = idx.value("/name").unwrap();
        assert_eq!((v.line, v.column, v.len), (1, 7, 8));
        let k = idx.key("/tools/0/operation").unwrap();
        assert_eq!((k.line, k.column), (3, 5));
        let v = idx.value("/tools/0/operation").unwrap();
        assert_eq!((v.line, v.column), (3, 16));
        let v = idx.value("/tools/0/params/petId/rename").unwrap();
        assert_eq!((v.line, v.column), (5, 23));
    }

    #[test]
    fn missing_nodes_fall_back_to_their_parent() {
        let idx = SpanIndex::build(DOC);
        let s = idx.value("/tools/0/params/nope").unwrap();
        assert_eq!(s.line, 5);
    }

    #[test]
    fn pointers_display_as_manifest_paths() {
        assert_eq!(
            display_path("/tools/3/params/petId"),
            "tools[3].params.petId"
        );
        assert_eq!(
            display_path("/upstream/headers/X-Api-Key"),
            "upstream.headers.X-Api-Key"
        );
        assert_eq!(display_path("/params/a.b"), "params[\"a.b\"]");
        assert_eq!(display_path(""), "");
    }
}
