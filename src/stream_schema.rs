//! A sound subset of JSON Schema, checked while a document is read, without building it.
//!
//! Why: a typed tool's answer must match its output schema before it goes out as
//! `structuredContent`. Parsing a big answer into a `serde_json::Value` only to validate it and
//! write it out again was most of the CPU of such a call (benches/call.rs, the 98 KB answer:
//! half the call went to building the tree). When the schema uses only the keywords below, the
//! answer is checked in one pass over its bytes, allocating nothing per value, and the caller
//! can send the upstream's own JSON text on.
//!
//! The check is *sound*, not complete: when it says valid, `jsonschema` says valid too (the
//! tests compare the two over generated documents); when it says invalid, the caller takes the
//! full path (parse, validate with `jsonschema`, explain what is wrong). So a case it does not
//! model exactly counts as invalid here (an integer written `1.0`, a bound past 2^53 compared
//! with a float), and a schema with a keyword whose result needs the full answer of a
//! sub-schema (`oneOf`, `not`), or one it does not implement (`pattern`, `if`, …), gets no
//! plan at all.
//!
//! Modelled: `type`, `enum`/`const` of scalars, `properties`, `required`,
//! `additionalProperties`, `items`, `minItems`/`maxItems`, `minLength`/`maxLength`,
//! `minimum`/`maximum` and their exclusive forms, `allOf`, `anyOf`, local `$ref`s (recursive
//! ones too) and boolean schemas; annotations (`description`, `format`, `examples`, `x-…`, …)
//! are ignored, as `jsonschema` ignores them by default.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use crate::json_read::{self as read, Bad, Number, Read, Reader};

/// The most nodes one value is checked against at once (their state lives on the stack).
const MAX_SET: usize = 16;

/// A schema compiled for checking while reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    nodes: Vec<Node>,
    /// The node of the whole schema.
    root: usize,
    /// Per node: the nodes a value checked against it is checked against too (itself first,
    /// then what its `allOf`, `anyOf` and `$ref` reach).
    closures: Vec<Vec<usize>>,
    /// Per node and kind of value ([`KINDS`]): what checking a value of that kind against the
    /// node comes down to ([`narrow`]).
    narrowed: Vec<[Narrow; KINDS.len()]>,
}

/// The kinds of value the first byte tells apart; a number is one kind (an integer or not).
/// [`Plan::valid`] maps a byte to its index here.
const KINDS: [u8; 6] = [NULL, BOOL, INTEGER | FLOAT, STRING, ARRAY, OBJECT];

/// What checking a value of one kind against a node comes down to, known before reading it.
/// Why: a nullable object (`anyOf: [{…object…}, {type: null}]`, how OpenAPI's `nullable`
/// compiles) is a set of three nodes, and a set's object takes the general path, which keeps
/// per-member state for every node. Once the first byte says `{`, the `null` member cannot
/// hold and the `anyOf` holds exactly when the object node does: one node, the single-node
/// path (the bench's answer: a quarter of the check went to that one member).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Narrow {
    /// The value is valid exactly when it is valid against this node, whose closure is itself.
    Only(usize),
    /// No value of this kind is valid (it is still read, and must be JSON).
    Never,
    /// Every value of this kind is valid.
    Always,
    /// Checked against the node's whole closure.
    Set,
}

/// JSON types, as bits.
const NULL: u8 = 1;
const BOOL: u8 = 2;
const INTEGER: u8 = 4;
/// A number that is not written as an integer.
const FLOAT: u8 = 8;
const STRING: u8 = 16;
const ARRAY: u8 = 32;
const OBJECT: u8 = 64;
const ANY: u8 = 127;

#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i128),
    Str(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Num {
    Int(i128),
    Float(f64),
}

/// Past this, an `f64` no longer holds every integer: such a comparison is not trusted.
const EXACT: f64 = 9_007_199_254_740_992.0;

impl Num {
    fn of(v: &Value) -> Option<Num> {
        let n = v.as_number()?;
        if let Some(i) = n.as_i64() {
            Some(Num::Int(i.into()))
        } else if let Some(u) = n.as_u64() {
            Some(Num::Int(u.into()))
        } else {
            n.as_f64().map(Num::Float)
        }
    }

    /// `self` compared with `other`, when the comparison is exact. Not inlined: inlined, the
    /// compiler hoisted its `i128` to `f64` conversion (a library call) ahead of the loop over
    /// a node's bounds, so every integer read paid it, bounds or not (3 % of the check of the
    /// bench's answer).
    #[inline(never)]
    fn cmp(self, other: Num) -> Option<std::cmp::Ordering> {
        let float = |n: Num| match n {
            Num::Int(i) => {
                let f = i as f64;
                (f.abs() < EXACT).then_some(f)
            }
            Num::Float(f) => f.is_finite().then_some(f),
        };
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            _ => float(self)?.partial_cmp(&float(other)?),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bound {
    Min(Num),
    Max(Num),
    ExclusiveMin(Num),
    ExclusiveMax(Num),
}

impl Bound {
    fn holds(self, v: Num) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Bound::Min(b) => matches!(v.cmp(b), Some(Greater | Equal)),
            Bound::Max(b) => matches!(v.cmp(b), Some(Less | Equal)),
            Bound::ExclusiveMin(b) => v.cmp(b) == Some(Greater),
            Bound::ExclusiveMax(b) => v.cmp(b) == Some(Less),
        }
    }
}

/// What an object's keys outside `properties` may be.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Extra {
    Any,
    Forbidden,
    Schema(usize),
}

/// What a member's value is to an object node.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Rule {
    /// Checked against this node.
    Check(usize),
    /// Anything goes (read, not checked).
    Free,
    /// Not allowed at all (`additionalProperties: false`).
    Refuse,
}

#[derive(Debug, Clone, PartialEq)]
struct Node {
    types: u8,
    one_of_values: Option<Vec<Scalar>>,
    min_len: Option<u64>,
    max_len: Option<u64>,
    bounds: Vec<Bound>,
    properties: Vec<(String, usize)>,
    required: Vec<String>,
    /// Every name `properties` or `required` holds, as an object's keys are looked up
    /// (built last, from the two above, by [`Node::index_members`]).
    members: Vec<Member>,
    /// `members` by name, for an object with many.
    by_name: Option<HashMap<Box<str>, usize>>,
    extra: Extra,
    items: Option<usize>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    all_of: Vec<usize>,
    any_of: Vec<usize>,
}

impl Node {
    fn any() -> Self {
        Node {
            types: ANY,
            one_of_values: None,
            min_len: None,
            max_len: None,
            bounds: Vec::new(),
            properties: Vec::new(),
            required: Vec::new(),
            members: Vec::new(),
            by_name: None,
            extra: Extra::Any,
            items: None,
            min_items: None,
            max_items: None,
            all_of: Vec::new(),
            any_of: Vec::new(),
        }
    }

    /// Points every reference at its stand-in ([`aliases`]).
    fn redirect(&mut self, alias: &[usize]) {
        let to = |n: &mut usize| *n = alias[*n];
        self.properties.iter_mut().for_each(|(_, n)| to(n));
        if let Extra::Schema(n) = &mut self.extra {
            to(n);
        }
        self.items.iter_mut().for_each(to);
        self.all_of.iter_mut().for_each(to);
        self.any_of.iter_mut().for_each(to);
    }

    /// Fills `members` and `by_name` from `properties` and `required`. A name `required` lists
    /// twice gets the bit of its first place only, so the object can never have every bit:
    /// such a schema is left to the full check, as before.
    fn index_members(&mut self) {
        let mut members: Vec<Member> = self
            .properties
            .iter()
            .map(|(name, n)| Member::new(name, Some(*n)))
            .collect();
        for (bit, name) in self.required.iter().enumerate() {
            let at = match members.iter().position(|m| *m.name == **name) {
                Some(at) => at,
                None => {
                    members.push(Member::new(name, None));
                    members.len() - 1
                }
            };
            // `required` has at most 64 names (`Builder::node`).
            members[at].required.get_or_insert(bit as u8);
        }
        if members.len() > 8 {
            self.by_name = Some(
                members
                    .iter()
                    .enumerate()
                    .map(|(i, m)| (m.name.clone(), i))
                    .collect(),
            );
        }
        self.members = members;
    }

    /// The member named `key` (`head` is [`head`] of it), if this node names it.
    fn member(&self, key: &str, head: u64) -> Option<&Member> {
        match &self.by_name {
            Some(m) => m.get(key).map(|&i| &self.members[i]),
            None => self.members.iter().find(|m| m.is(key, head)),
        }
    }

    /// What a member named `key` is to this node: whether it is a `required` name (its bit),
    /// and what its value is checked against.
    #[inline]
    fn rule(&self, key: &str, head: u64) -> (Option<u8>, Rule) {
        let member = self.member(key, head);
        let required = member.and_then(|m| m.required);
        let rule = match member.and_then(|m| m.child) {
            Some(c) => Rule::Check(c),
            None => match self.extra {
                Extra::Any => Rule::Free,
                Extra::Forbidden => Rule::Refuse,
                Extra::Schema(c) => Rule::Check(c),
            },
        };
        (required, rule)
    }

    /// Whether `seen` (bits of `required` names met) covers every name `required` lists.
    fn all_required(&self, seen: u64) -> bool {
        let want = self.required.len();
        let all = if want == 64 {
            u64::MAX
        } else {
            (1u64 << want) - 1
        };
        seen & all == all
    }

    /// Whether an array of `count` items is within `minItems` and `maxItems`.
    fn count_holds(&self, count: u64) -> bool {
        self.min_items.is_none_or(|m| count >= m) && self.max_items.is_none_or(|m| count <= m)
    }

    /// Whether the string `v` passes this node's own keywords (`chars` as for [`length_holds`]).
    fn allows_str(&self, v: &str, chars: &mut Option<u64>) -> bool {
        if self.types & STRING == 0 {
            return false;
        }
        if let Some(values) = &self.one_of_values
            && !values.iter().any(|s| matches!(s, Scalar::Str(s) if s == v))
        {
            return false;
        }
        length_holds(self, v, chars)
    }

    fn allows_scalar(&self, ty: u8, value: Option<&Scalar>, num: Option<Num>) -> bool {
        if self.types & ty == 0 {
            return false;
        }
        if let Some(values) = &self.one_of_values {
            match value {
                Some(v) if values.contains(v) => {}
                _ => return false,
            }
        }
        match num {
            Some(n) => self.bounds.iter().all(|b| b.holds(n)),
            None => true,
        }
    }
}

/// A name an object node knows: its `properties` schema, its `required` bit, or both.
#[derive(Debug, Clone, PartialEq)]
struct Member {
    /// The name's first eight bytes as a word: with the length, it tells most keys apart
    /// without comparing bytes (a `memcmp` call per candidate was 8 % of the check).
    head: u64,
    name: Box<str>,
    child: Option<usize>,
    required: Option<u8>,
}

impl Member {
    fn new(name: &str, child: Option<usize>) -> Self {
        Member {
            head: head(name),
            name: name.into(),
            child,
            required: None,
        }
    }

    fn is(&self, key: &str, head: u64) -> bool {
        self.head == head
            && self.name.len() == key.len()
            && (key.len() <= 8 || self.name.as_bytes()[8..] == key.as_bytes()[8..])
    }
}

/// The first eight bytes of `s`, little-endian, zero-padded.
fn head(s: &str) -> u64 {
    s.as_bytes()
        .iter()
        .take(8)
        .enumerate()
        .fold(0, |w, (i, &b)| w | u64::from(b) << (8 * i))
}

/// Keywords that carry no assertion (`jsonschema` validates no formats by default).
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "example",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
    "format",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
    "$defs",
    "definitions",
    "nullable",
    "discriminator",
    "xml",
    "externalDocs",
];

struct Builder<'a> {
    root: &'a Value,
    nodes: Vec<Node>,
    /// `$ref` targets already built, by pointer.
    refs: HashMap<String, usize>,
}

impl Plan {
    /// The plan of `schema` (a JSON Schema 2020-12 document), or `None` when it uses something
    /// the check does not model.
    pub fn of(schema: &Value) -> Option<Plan> {
        if let Some(s) = schema.get("$schema")
            && s.as_str() != Some("https://json-schema.org/draft/2020-12/schema")
        {
            return None;
        }
        let mut b = Builder {
            root: schema,
            nodes: Vec::new(),
            refs: HashMap::new(),
        };
        b.node(schema, true)?;
        let alias = aliases(&b.nodes);
        for node in &mut b.nodes {
            node.redirect(&alias);
            node.index_members();
        }
        let mut closures = Vec::with_capacity(b.nodes.len());
        for n in 0..b.nodes.len() {
            let mut out = Vec::new();
            let mut stack = Vec::new();
            closure(&b.nodes, n, &mut out, &mut stack)?;
            if out.len() > MAX_SET {
                return None;
            }
            closures.push(out);
        }
        let mut memo = vec![[None; KINDS.len()]; b.nodes.len()];
        let narrowed = (0..b.nodes.len())
            .map(|n| std::array::from_fn(|k| narrow(&b.nodes, n, k, &mut memo)))
            .collect();
        Some(Plan {
            nodes: b.nodes,
            root: alias[0],
            closures,
            narrowed,
        })
    }

    /// Whether `json` is one JSON document valid against the schema. `false` also when the
    /// text is not JSON, or holds a case the check does not model.
    pub fn check(&self, json: &[u8]) -> bool {
        // Checked as UTF-8 once, so the reader does not check each string again.
        let Ok(json) = std::str::from_utf8(json) else {
            return false;
        };
        let mut r = Reader::new(json);
        matches!(self.valid(&mut r, self.root), Ok(true)) && r.end().is_ok()
    }

    /// Whether `{"<key>": <json>}` is valid against the schema (an answer that is wrapped as
    /// `structuredContent`), without writing the wrapper.
    pub fn check_wrapped(&self, key: &str, json: &[u8]) -> bool {
        let Ok(json) = std::str::from_utf8(json) else {
            return false;
        };
        let set = &self.closures[self.root][..];
        let mut object = Object::new(self, set);
        object.key(key);
        let mut r = Reader::new(json);
        match self.child(&mut r, object.own, &object.children[..set.len()]) {
            Ok(own) if r.end().is_ok() => object.own = own,
            _ => return false,
        }
        object.finish() & 1 == 1
    }
}

/// Per node, the node that stands for it: itself, or for a node that only says `allOf` of one
/// node (a `$ref`, an `allOf` wrapper) that node's stand-in. Checking the stand-in gives the
/// same answer with a smaller set per value. A cycle of such nodes keeps its nodes, and
/// [`closure`] refuses it.
fn aliases(nodes: &[Node]) -> Vec<usize> {
    let next = |n: usize| -> Option<usize> {
        let node = &nodes[n];
        let only = Node {
            all_of: node.all_of.clone(),
            ..Node::any()
        };
        (node.all_of.len() == 1 && *node == only).then(|| node.all_of[0])
    };
    (0..nodes.len())
        .map(|n| {
            let mut at = n;
            for _ in 0..nodes.len() {
                match next(at) {
                    Some(m) => at = m,
                    None => return at,
                }
            }
            n
        })
        .collect()
}

/// Narrowings already worked out, per node and kind: a schema whose `anyOf`s share members
/// would otherwise be walked once per path through them.
type Memo = Vec<[Option<Narrow>; KINDS.len()]>;

/// What checking a value of kind `k` ([`KINDS`]) against node `n` comes down to (see
/// [`Narrow`]), reduced through its `allOf` and `anyOf`: `Only` names a node with no
/// combinators. Terminates: [`closure`] refused every cycle through the combinators.
fn narrow(nodes: &[Node], n: usize, k: usize, memo: &mut Memo) -> Narrow {
    if let Some(t) = memo[n][k] {
        return t;
    }
    let t = narrow_of(nodes, n, k, memo);
    memo[n][k] = Some(t);
    t
}

/// [`narrow`], worked out.
fn narrow_of(nodes: &[Node], n: usize, k: usize, memo: &mut Memo) -> Narrow {
    let kind = KINDS[k];
    let node = &nodes[n];
    if node.types & kind == 0 {
        return Narrow::Never;
    }
    let pure = *node
        == Node {
            types: node.types,
            all_of: node.all_of.clone(),
            any_of: node.any_of.clone(),
            ..Node::any()
        }
        && node.types & kind == kind;
    if node.all_of.is_empty() && node.any_of.is_empty() {
        return if pure {
            Narrow::Always
        } else {
            Narrow::Only(n)
        };
    }
    if !pure {
        return Narrow::Set;
    }
    // What every `allOf` member and the `anyOf` need, as one narrowing; `None` while nothing.
    let mut need: Option<Narrow> = None;
    for &m in &node.all_of {
        if !both(&mut need, narrow(nodes, m, k, memo)) {
            return need.unwrap_or(Narrow::Set);
        }
    }
    if !node.any_of.is_empty() {
        let mut left: Vec<Narrow> = Vec::new();
        for &m in &node.any_of {
            match narrow(nodes, m, k, memo) {
                Narrow::Always => return need.unwrap_or(Narrow::Always),
                Narrow::Never => {}
                t => left.push(t),
            }
        }
        match left[..] {
            [] => return Narrow::Never,
            [one] if both(&mut need, one) => {}
            [_] => return need.unwrap_or(Narrow::Set),
            _ => return Narrow::Set,
        }
    }
    need.unwrap_or(Narrow::Always)
}

/// `need` and `t` both hold, as one narrowing in `need`; `false` when that is no longer one
/// node's own check (`need` then says what it is: `Never` or `Set`).
fn both(need: &mut Option<Narrow>, t: Narrow) -> bool {
    match (t, *need) {
        (Narrow::Always, _) => true,
        (Narrow::Only(_), None) => {
            *need = Some(t);
            true
        }
        (Narrow::Only(_), Some(had)) if had == t => true,
        (Narrow::Only(_), Some(_)) => {
            *need = Some(Narrow::Set);
            false
        }
        (Narrow::Never | Narrow::Set, _) => {
            *need = Some(t);
            false
        }
    }
}

/// The nodes reachable from `n` through `allOf`, `anyOf` and `$ref`, `n` first; `None` on a
/// cycle among them (a schema that refers to itself without reading deeper into the value).
fn closure(nodes: &[Node], n: usize, out: &mut Vec<usize>, stack: &mut Vec<usize>) -> Option<()> {
    if stack.contains(&n) {
        return None;
    }
    if out.contains(&n) {
        return Some(());
    }
    out.push(n);
    stack.push(n);
    for &m in nodes[n].all_of.iter().chain(&nodes[n].any_of) {
        closure(nodes, m, out, stack)?;
    }
    stack.pop();
    Some(())
}

impl Builder<'_> {
    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn node(&mut self, schema: &Value, root: bool) -> Option<usize> {
        let obj = match schema {
            Value::Bool(true) => return Some(self.push(Node::any())),
            Value::Bool(false) => {
                return Some(self.push(Node {
                    types: 0,
                    ..Node::any()
                }));
            }
            Value::Object(o) => o,
            _ => return None,
        };
        let id = self.push(Node::any());
        let mut node = Node::any();
        for (k, v) in obj {
            match k.as_str() {
                "type" => node.types = types(v)?,
                "enum" => node.one_of_values = Some(scalars(v.as_array()?)?),
                "const" => node.one_of_values = Some(scalars(std::slice::from_ref(v))?),
                "minLength" => node.min_len = Some(v.as_u64()?),
                "maxLength" => node.max_len = Some(v.as_u64()?),
                "minItems" => node.min_items = Some(v.as_u64()?),
                "maxItems" => node.max_items = Some(v.as_u64()?),
                "minimum" => node.bounds.push(Bound::Min(Num::of(v)?)),
                "maximum" => node.bounds.push(Bound::Max(Num::of(v)?)),
                "exclusiveMinimum" => node.bounds.push(Bound::ExclusiveMin(Num::of(v)?)),
                "exclusiveMaximum" => node.bounds.push(Bound::ExclusiveMax(Num::of(v)?)),
                "required" => {
                    for r in v.as_array()? {
                        node.required.push(r.as_str()?.to_string());
                    }
                    if node.required.len() > 64 {
                        return None;
                    }
                }
                "properties" => {
                    for (name, sub) in v.as_object()? {
                        let n = self.node(sub, false)?;
                        node.properties.push((name.clone(), n));
                    }
                }
                "additionalProperties" => {
                    node.extra = match v {
                        Value::Bool(true) => Extra::Any,
                        Value::Bool(false) => Extra::Forbidden,
                        _ => Extra::Schema(self.node(v, false)?),
                    }
                }
                "items" => node.items = Some(self.node(v, false)?),
                "allOf" => {
                    for sub in v.as_array()? {
                        let n = self.node(sub, false)?;
                        node.all_of.push(n);
                    }
                }
                "anyOf" => {
                    for sub in v.as_array()? {
                        let n = self.node(sub, false)?;
                        node.any_of.push(n);
                    }
                    if node.any_of.is_empty() {
                        return None;
                    }
                }
                "$ref" => {
                    let n = self.reference(v.as_str()?)?;
                    node.all_of.push(n);
                }
                "$schema" | "$id" if root => {}
                "uniqueItems" if v == &Value::Bool(false) => {}
                k if k.starts_with("x-") || ANNOTATIONS.contains(&k) => {}
                _ => return None,
            }
        }
        if node.one_of_values.is_some() {
            // Only scalars are listed: no array or object can match.
            node.types &= NULL | BOOL | INTEGER | FLOAT | STRING;
        }
        self.nodes[id] = node;
        Some(id)
    }

    /// The node of a local `$ref` (`#` or `#/a/b`), built once.
    fn reference(&mut self, r: &str) -> Option<usize> {
        let pointer = r.strip_prefix('#')?;
        if pointer.contains('%') {
            return None;
        }
        if let Some(&n) = self.refs.get(pointer) {
            return Some(n);
        }
        let target = self.root.pointer(pointer)?;
        // Registered before it is built, so a schema that refers to itself (a tree of
        // categories) finds its own node.
        let id = self.push(Node::any());
        self.refs.insert(pointer.to_string(), id);
        let built = self.node(target, pointer.is_empty())?;
        // The target's node stands behind this one.
        self.nodes[id].all_of.push(built);
        Some(id)
    }
}

fn types(v: &Value) -> Option<u8> {
    let one = |t: &Value| -> Option<u8> {
        Some(match t.as_str()? {
            "null" => NULL,
            "boolean" => BOOL,
            "integer" => INTEGER,
            "number" => INTEGER | FLOAT,
            "string" => STRING,
            "array" => ARRAY,
            "object" => OBJECT,
            _ => return None,
        })
    };
    match v {
        Value::Array(ts) => ts.iter().try_fold(0, |acc, t| Some(acc | one(t)?)),
        t => one(t),
    }
}

fn scalars(values: &[Value]) -> Option<Vec<Scalar>> {
    values
        .iter()
        .map(|v| {
            Some(match v {
                Value::Null => Scalar::Null,
                Value::Bool(b) => Scalar::Bool(*b),
                Value::String(s) => Scalar::Str(s.clone()),
                Value::Number(_) => match Num::of(v)? {
                    Num::Int(i) => Scalar::Int(i),
                    // A float in an enum compares by value: left to `jsonschema`.
                    Num::Float(_) => return None,
                },
                _ => return None,
            })
        })
        .collect()
}

/// `own` (which nodes of `set` the value passes by their own keywords) combined with what
/// their `allOf`/`anyOf`/`$ref` say: which nodes of `set` the value is valid against.
fn combine(plan: &Plan, set: &[usize], own: u64) -> u64 {
    fn eval(plan: &Plan, set: &[usize], own: u64, i: usize, done: &mut u64, valid: &mut u64) {
        if *done & (1 << i) != 0 {
            return;
        }
        let node = &plan.nodes[set[i]];
        let mut ok = own & (1 << i) != 0;
        let at = |n: usize, done: &mut u64, valid: &mut u64| -> bool {
            match set.iter().position(|&m| m == n) {
                Some(j) => {
                    eval(plan, set, own, j, done, valid);
                    *valid & (1 << j) != 0
                }
                None => false,
            }
        };
        if ok {
            ok = node.all_of.iter().all(|&n| at(n, done, valid));
        }
        if ok && !node.any_of.is_empty() {
            ok = node.any_of.iter().any(|&n| at(n, done, valid));
        }
        *done |= 1 << i;
        if ok {
            *valid |= 1 << i;
        }
    }
    // One node: a closure of one has no `allOf`/`anyOf` to consult.
    if set.len() == 1 {
        return own;
    }
    let (mut done, mut valid) = (0u64, 0u64);
    for i in 0..set.len() {
        eval(plan, set, own, i, &mut done, &mut valid);
    }
    valid
}

/// The nodes of `set` whose type allows `ty`, as bits.
fn typed(plan: &Plan, set: &[usize], ty: u8) -> u64 {
    let mut own = 0u64;
    for (i, &n) in set.iter().enumerate() {
        if plan.nodes[n].types & ty != 0 {
            own |= 1 << i;
        }
    }
    own
}

/// Whether `v`'s length in characters is within `node`'s bounds. A string has at most one
/// character per byte and at least one per four, so most strings are judged by their byte
/// length alone; the characters are counted (once, into `chars`) only when that cannot tell.
fn length_holds(node: &Node, v: &str, chars: &mut Option<u64>) -> bool {
    let bytes = v.len() as u64;
    let fewest = bytes.div_ceil(4);
    let min_sure = node.min_len.is_none_or(|m| fewest >= m);
    let max_sure = node.max_len.is_none_or(|m| bytes <= m);
    if min_sure && max_sure {
        return true;
    }
    let count = *chars.get_or_insert_with(|| v.chars().count() as u64);
    node.min_len.is_none_or(|m| count >= m) && node.max_len.is_none_or(|m| count <= m)
}

impl Plan {
    /// Reads one value; yields whether it is valid against node `n`.
    fn valid(&self, r: &mut Reader<'_>, n: usize) -> Read<bool> {
        // The index in `KINDS` of the value's kind.
        let kind = match r.peek()? {
            b'n' => 0,
            b't' | b'f' => 1,
            b'"' => 3,
            b'[' => 4,
            b'{' => 5,
            // A number, or not JSON (which every way of reading refuses).
            _ => 2,
        };
        match self.narrowed[n][kind] {
            Narrow::Only(x) => Ok(self.value(r, &self.closures[x])? & 1 != 0),
            Narrow::Never => r.skip().map(|()| false),
            Narrow::Always => r.skip().map(|()| true),
            Narrow::Set => Ok(self.value(r, &self.closures[n])? & 1 != 0),
        }
    }

    /// Reads one value; yields which nodes of `set` it is valid against.
    fn value(&self, r: &mut Reader<'_>, set: &[usize]) -> Read<u64> {
        if set.len() > MAX_SET {
            r.skip()?;
            return Ok(0);
        }
        match r.peek()? {
            // One node (most members and items): no set to keep per member.
            b'{' if set.len() == 1 => self.object_of(r, &self.nodes[set[0]]).map(u64::from),
            b'[' if set.len() == 1 => self.array_of(r, &self.nodes[set[0]]).map(u64::from),
            b'{' => self.object(r, set),
            b'[' => self.array(r, set),
            b'"' => {
                let v = r.string()?;
                Ok(self.string(set, v))
            }
            b'n' => {
                r.literal(b"null")?;
                Ok(self.scalar(set, NULL, Some(&Scalar::Null), None))
            }
            b't' => {
                r.literal(b"true")?;
                Ok(self.scalar(set, BOOL, Some(&Scalar::Bool(true)), None))
            }
            b'f' => {
                r.literal(b"false")?;
                Ok(self.scalar(set, BOOL, Some(&Scalar::Bool(false)), None))
            }
            b'-' | b'0'..=b'9' => match r.number()? {
                Number::Int(v) => {
                    Ok(self.scalar(set, INTEGER, Some(&Scalar::Int(v)), Some(Num::Int(v))))
                }
                Number::Float(token) => {
                    // The value is read only when a bound needs it. A float never equals an
                    // enum's integer here, and `1.0` is no `integer`: both left to `jsonschema`
                    // (see the module's note on soundness).
                    let bounded = set.iter().any(|&n| !self.nodes[n].bounds.is_empty());
                    let num = if bounded {
                        Some(Num::Float(read::float(token)?))
                    } else {
                        None
                    };
                    Ok(self.scalar(set, FLOAT, None, num))
                }
            },
            _ => Err(Bad),
        }
    }

    fn scalar(&self, set: &[usize], ty: u8, value: Option<&Scalar>, num: Option<Num>) -> u64 {
        let mut own = 0u64;
        for (i, &n) in set.iter().enumerate() {
            if self.nodes[n].allows_scalar(ty, value, num) {
                own |= 1 << i;
            }
        }
        combine(self, set, own)
    }

    fn string(&self, set: &[usize], v: &str) -> u64 {
        let mut own = 0u64;
        let mut chars = None;
        for (i, &n) in set.iter().enumerate() {
            if self.nodes[n].allows_str(v, &mut chars) {
                own |= 1 << i;
            }
        }
        combine(self, set, own)
    }

    fn array(&self, r: &mut Reader<'_>, set: &[usize]) -> Read<u64> {
        r.enter()?;
        let mut own = typed(self, set, ARRAY);
        let mut children: Children = [None; MAX_SET];
        for (i, &n) in set.iter().enumerate() {
            children[i] = self.nodes[n].items;
        }
        let mut count = 0u64;
        let mut first = true;
        while r.next_item(&mut first)? {
            own = self.child(r, own, &children[..set.len()])?;
            count += 1;
        }
        for (i, &n) in set.iter().enumerate() {
            if !self.nodes[n].count_holds(count) {
                own &= !(1 << i);
            }
        }
        Ok(combine(self, set, own))
    }

    fn object(&self, r: &mut Reader<'_>, set: &[usize]) -> Read<u64> {
        r.enter()?;
        let mut object = Object::new(self, set);
        let mut first = true;
        while let Some(key) = r.next_key(&mut first)? {
            object.key(key);
            object.own = self.child(r, object.own, &object.children[..set.len()])?;
        }
        Ok(object.finish())
    }

    /// Whether the object next is valid against `node` alone (its closure is itself).
    fn object_of(&self, r: &mut Reader<'_>, node: &Node) -> Read<bool> {
        r.enter()?;
        let mut ok = node.types & OBJECT != 0;
        let mut seen = 0u64;
        let mut first = true;
        while let Some(key) = r.next_key(&mut first)? {
            if !ok {
                r.skip()?;
                continue;
            }
            let (required, rule) = node.rule(key, head(key));
            if let Some(bit) = required {
                seen |= 1 << bit;
            }
            match rule {
                Rule::Check(c) => ok = self.valid(r, c)?,
                Rule::Free => r.skip()?,
                Rule::Refuse => {
                    ok = false;
                    r.skip()?;
                }
            }
        }
        Ok(ok && node.all_required(seen))
    }

    /// Whether the array next is valid against `node` alone (its closure is itself).
    fn array_of(&self, r: &mut Reader<'_>, node: &Node) -> Read<bool> {
        r.enter()?;
        let mut ok = node.types & ARRAY != 0;
        let mut count = 0u64;
        let mut first = true;
        while r.next_item(&mut first)? {
            count += 1;
            match node.items {
                Some(c) if ok => ok = self.valid(r, c)?,
                _ => r.skip()?,
            }
        }
        Ok(ok && node.count_holds(count))
    }

    /// Reads one member or item: checked against what `children` name, or read past.
    fn child(&self, r: &mut Reader<'_>, own: u64, children: &[Option<usize>]) -> Read<u64> {
        match union(self, own, children) {
            None => {
                r.skip()?;
                Ok(own)
            }
            // Every parent checks it against one node, the set's first: only its bit counts.
            Some(Cow::Borrowed(set)) => {
                let bits = u64::from(self.valid(r, set[0])?);
                Ok(passed(own, children, set, bits))
            }
            Some(Cow::Owned(set)) => {
                let bits = self.value(r, &set)?;
                Ok(passed(own, children, &set, bits))
            }
        }
    }
}

/// Per node of a set (by position): the node a member or item is checked against, if any.
type Children = [Option<usize>; MAX_SET];

/// The nodes a member or item is checked against, for the parents still in `own`: one
/// node's closure (borrowed) in the common case, a union when parents differ; `None` when no
/// parent constrains it.
fn union<'p>(plan: &'p Plan, own: u64, children: &[Option<usize>]) -> Option<Cow<'p, [usize]>> {
    let mut first: Option<usize> = None;
    let mut union: Option<Vec<usize>> = None;
    for (i, c) in children.iter().enumerate() {
        let Some(c) = *c else { continue };
        if own & (1 << i) == 0 {
            continue;
        }
        match first {
            None => first = Some(c),
            Some(f) if f == c => {}
            Some(f) => {
                let u = union.get_or_insert_with(|| plan.closures[f].clone());
                for &m in &plan.closures[c] {
                    if !u.contains(&m) {
                        u.push(m);
                    }
                }
            }
        }
    }
    match (union, first) {
        (Some(u), _) => Some(Cow::Owned(u)),
        (None, Some(f)) => Some(Cow::Borrowed(&plan.closures[f][..])),
        (None, None) => None,
    }
}

/// The parents of `own` that still hold once their child's validity over `set` is `bits`.
fn passed(own: u64, children: &[Option<usize>], set: &[usize], bits: u64) -> u64 {
    let mut out = own;
    for (i, c) in children.iter().enumerate() {
        let Some(c) = *c else { continue };
        if own & (1 << i) == 0 {
            continue;
        }
        let ok = set
            .iter()
            .position(|&m| m == c)
            .is_some_and(|j| bits & (1 << j) != 0);
        if !ok {
            out &= !(1 << i);
        }
    }
    out
}

/// An object being checked against the nodes of `set`, member by member.
struct Object<'p, 's> {
    plan: &'p Plan,
    set: &'s [usize],
    own: u64,
    /// Per node of `set`: the bits of its `required` names seen.
    seen: [u64; MAX_SET],
    /// Per node of `set`: what the member being read is checked against.
    children: Children,
}

impl<'p, 's> Object<'p, 's> {
    fn new(plan: &'p Plan, set: &'s [usize]) -> Self {
        Object {
            plan,
            set,
            own: typed(plan, set, OBJECT),
            seen: [0; MAX_SET],
            children: [None; MAX_SET],
        }
    }

    /// A member named `key` comes: which nodes require it, refuse it, or check its value.
    fn key(&mut self, key: &str) {
        let head = head(key);
        for (i, &n) in self.set.iter().enumerate() {
            self.children[i] = None;
            if self.own & (1 << i) == 0 {
                continue;
            }
            let (required, rule) = self.plan.nodes[n].rule(key, head);
            if let Some(r) = required {
                self.seen[i] |= 1 << r;
            }
            match rule {
                Rule::Check(c) => self.children[i] = Some(c),
                Rule::Free => {}
                Rule::Refuse => self.own &= !(1 << i),
            }
        }
    }

    /// Which nodes of the set the whole object is valid against.
    fn finish(self) -> u64 {
        let mut own = self.own;
        for (i, &n) in self.set.iter().enumerate() {
            if !self.plan.nodes[n].all_required(self.seen[i]) {
                own &= !(1 << i);
            }
        }
        combine(self.plan, self.set, own)
    }
}

#[cfg(test)]
mod tests;
