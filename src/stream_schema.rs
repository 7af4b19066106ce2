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
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

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
        Some(Plan {
            nodes: b.nodes,
            root: alias[0],
            closures,
        })
    }

    /// Whether `json` is one JSON document valid against the schema. `false` also when the
    /// text is not JSON, or holds a case the check does not model.
    pub fn check(&self, json: &[u8]) -> bool {
        // Checked as UTF-8 once, so the reader does not check each string again.
        let Ok(json) = std::str::from_utf8(json) else {
            return false;
        };
        let mut de = serde_json::Deserializer::from_str(json);
        let valid = Seed {
            plan: self,
            set: &self.closures[self.root],
        }
        .deserialize(&mut de);
        matches!(valid, Ok(bits) if bits & 1 == 1) && de.end().is_ok()
    }

    /// Whether `{"<key>": <json>}` is valid against the schema (an answer that is wrapped as
    /// `structuredContent`), without writing the wrapper.
    pub fn check_wrapped(&self, key: &str, json: &[u8]) -> bool {
        let Ok(json) = std::str::from_utf8(json) else {
            return false;
        };
        let set = &self.closures[self.root][..];
        let seed = Seed { plan: self, set };
        let mut object = Object::new(self, set);
        object.key(key);
        let mut de = serde_json::Deserializer::from_str(json);
        match seed.child(object.own, &object.children, &mut de) {
            Ok(own) if de.end().is_ok() => object.own = own,
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

/// Checks one value against the nodes of `set`; yields which of them it is valid against.
struct Seed<'p, 's> {
    plan: &'p Plan,
    set: &'s [usize],
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        if self.set.len() > MAX_SET {
            Skip.deserialize(d)?;
            return Ok(0);
        }
        d.deserialize_any(self)
    }
}

impl Seed<'_, '_> {
    fn scalar(&self, ty: u8, value: Option<&Scalar>, num: Option<Num>) -> u64 {
        let mut own = 0u64;
        for (i, &n) in self.set.iter().enumerate() {
            if self.plan.nodes[n].allows_scalar(ty, value, num) {
                own |= 1 << i;
            }
        }
        combine(self.plan, self.set, own)
    }

    fn int(&self, v: i128) -> u64 {
        self.scalar(INTEGER, Some(&Scalar::Int(v)), Some(Num::Int(v)))
    }

    /// Reads one member or item: checked against what `children` name, or read past.
    fn child<'de, D: Deserializer<'de>>(
        &self,
        own: u64,
        children: &Children,
        d: D,
    ) -> Result<u64, D::Error> {
        let children = &children[..self.set.len()];
        let Some(set) = union(self.plan, own, children) else {
            Skip.deserialize(d)?;
            return Ok(own);
        };
        let bits = Seed {
            plan: self.plan,
            set: &set,
        }
        .deserialize(d)?;
        Ok(passed(own, children, &set, bits))
    }
}

impl<'de> Visitor<'de> for Seed<'_, '_> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<u64, E> {
        Ok(self.scalar(NULL, Some(&Scalar::Null), None))
    }

    fn visit_bool<E>(self, v: bool) -> Result<u64, E> {
        Ok(self.scalar(BOOL, Some(&Scalar::Bool(v)), None))
    }

    fn visit_i64<E>(self, v: i64) -> Result<u64, E> {
        Ok(self.int(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<u64, E> {
        Ok(self.int(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<u64, E> {
        // A float never equals an enum's integer here, and `1.0` is no `integer`: both left
        // to `jsonschema` (see the module's note on soundness).
        Ok(self.scalar(FLOAT, None, Some(Num::Float(v))))
    }

    fn visit_str<E>(self, v: &str) -> Result<u64, E> {
        let mut own = 0u64;
        let mut chars = None;
        for (i, &n) in self.set.iter().enumerate() {
            let node = &self.plan.nodes[n];
            if node.types & STRING == 0 {
                continue;
            }
            if let Some(values) = &node.one_of_values
                && !values.iter().any(|s| matches!(s, Scalar::Str(s) if s == v))
            {
                continue;
            }
            if !length_holds(node, v, &mut chars) {
                continue;
            }
            own |= 1 << i;
        }
        Ok(combine(self.plan, self.set, own))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut own = typed(self.plan, self.set, ARRAY);
        let mut children: Children = [None; MAX_SET];
        for (i, &n) in self.set.iter().enumerate() {
            children[i] = self.plan.nodes[n].items;
        }
        let mut count = 0u64;
        while let Some(bits) = seq.next_element_seed(Item {
            seed: &self,
            own,
            children: &children,
        })? {
            own = bits;
            count += 1;
        }
        for (i, &n) in self.set.iter().enumerate() {
            let node = &self.plan.nodes[n];
            if node.min_items.is_some_and(|m| count < m)
                || node.max_items.is_some_and(|m| count > m)
            {
                own &= !(1 << i);
            }
        }
        Ok(combine(self.plan, self.set, own))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let mut object = Object::new(self.plan, self.set);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            object.key(&key);
            object.own = map.next_value_seed(Item {
                seed: &self,
                own: object.own,
                children: &object.children,
            })?;
        }
        Ok(object.finish())
    }
}

/// One member or item, read by [`Seed::child`].
struct Item<'a, 'p, 's> {
    seed: &'a Seed<'p, 's>,
    own: u64,
    children: &'a Children,
}

impl<'de> DeserializeSeed<'de> for Item<'_, '_, '_> {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        self.seed.child(self.own, self.children, d)
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
            let node = &self.plan.nodes[n];
            let member = node.member(key, head);
            if let Some(r) = member.and_then(|m| m.required) {
                self.seen[i] |= 1 << r;
            }
            match member.and_then(|m| m.child) {
                Some(c) => self.children[i] = Some(c),
                None => match node.extra {
                    Extra::Any => {}
                    Extra::Forbidden => self.own &= !(1 << i),
                    Extra::Schema(c) => self.children[i] = Some(c),
                },
            }
        }
    }

    /// Which nodes of the set the whole object is valid against.
    fn finish(self) -> u64 {
        let mut own = self.own;
        for (i, &n) in self.set.iter().enumerate() {
            let want = self.plan.nodes[n].required.len();
            let all = if want == 64 {
                u64::MAX
            } else {
                (1u64 << want) - 1
            };
            if self.seen[i] & all != all {
                own &= !(1 << i);
            }
        }
        combine(self.plan, self.set, own)
    }
}

/// A value no node constrains, read through as `Value` would read it (strings decoded, numbers
/// parsed), so a text `Value` refuses is refused here too; nothing is kept.
/// (`IgnoredAny` would let a lone surrogate escape or bytes that are not UTF-8 through.)
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Skip)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// A member's name, borrowed from the document when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

#[cfg(test)]
mod tests;
