//! The check against `jsonschema`, the reference: over generated documents, whatever the check
//! calls valid `jsonschema` calls valid too; and the answers a typed tool usually gets are
//! called valid (else the check would save nothing).

use serde_json::{Value, json};

use super::{KINDS, Narrow, OBJECT, Plan, head};

/// A small deterministic generator (xorshift), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const KEYS: &[&str] = &[
    "id",
    "name",
    "tag",
    "status",
    "category",
    "result",
    "children",
    "n",
    "x",
    "extra",
    "categoryName",
    "categoryId",
    "categoryKind",
];

fn value(r: &mut Rng, depth: u32) -> Value {
    let kinds = if depth >= 4 { 6 } else { 8 };
    match r.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(r.below(2) == 0),
        2 => [
            json!(0),
            json!(1),
            json!(-1),
            json!(7),
            json!(10),
            json!(64),
            json!(65),
            json!(u64::MAX),
            json!(i64::MIN),
        ][r.below(9) as usize]
            .clone(),
        3 => json!([0.5, 1.0, -2.5, 9.5, 10.0, 1e300, 64.0][r.below(7) as usize]),
        4 | 5 => {
            let pool = [
                "",
                "a",
                "doggie",
                "available",
                "pending",
                "sold",
                "é",
                "🐕🐕",
                "x\"y",
            ];
            let mut s = pool[r.below(pool.len() as u64) as usize].to_string();
            if r.below(8) == 0 {
                s = "z".repeat(r.below(80) as usize);
            }
            Value::String(s)
        }
        6 => Value::Array((0..r.below(4)).map(|_| value(r, depth + 1)).collect()),
        _ => {
            let mut m = serde_json::Map::new();
            for _ in 0..r.below(6) {
                let k = KEYS[r.below(KEYS.len() as u64) as usize];
                m.insert(k.to_string(), value(r, depth + 1));
            }
            Value::Object(m)
        }
    }
}

/// A valid document with one part replaced by a generated value, or one member dropped.
fn mutate(r: &mut Rng, v: &Value) -> Value {
    let mut v = v.clone();
    mutate_at(r, &mut v);
    v
}

fn mutate_at(r: &mut Rng, at: &mut Value) {
    let stop = r.below(3) == 0;
    match at {
        Value::Object(m) if !m.is_empty() && !stop => {
            let i = r.below(m.len() as u64) as usize;
            let k = m.keys().nth(i).cloned().unwrap_or_default();
            if r.below(5) == 0 {
                m.shift_remove(&k);
            } else if let Some(inner) = m.get_mut(&k) {
                mutate_at(r, inner);
            }
        }
        Value::Array(a) if !a.is_empty() && !stop => {
            let i = r.below(a.len() as u64) as usize;
            mutate_at(r, &mut a[i]);
        }
        _ => *at = value(r, 2),
    }
}

fn pet_schema() -> Value {
    json!({
        "type": "object", "required": ["name"],
        "properties": {
            "id": {"type": "integer", "format": "int64", "readOnly": true, "examples": [10]},
            "name": {"type": "string", "minLength": 1, "maxLength": 64},
            "tag": {"type": ["string", "null"], "description": "A free-form tag."},
            "status": {"type": "string", "enum": ["available", "pending", "sold"]},
            "category": {"anyOf": [
                {"allOf": [{"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}]},
                {"type": "null"}
            ]}
        }
    })
}

fn pet() -> Value {
    json!({"id": 7, "name": "Rex", "tag": null, "status": "available", "category": {"id": 1, "name": "Dogs"}})
}

/// Schemas with the keywords the check models, and a valid document of each.
fn cases() -> Vec<(Value, Value)> {
    vec![
        (pet_schema(), pet()),
        (
            json!({"type": "object", "required": ["result"], "properties": {"result": {"type": "array", "items": pet_schema(), "maxItems": 3}}}),
            json!({"result": [pet(), {"name": "Tom"}]}),
        ),
        (
            json!({
                "$ref": "#/$defs/node",
                "$defs": {"node": {"type": "object", "required": ["n"], "additionalProperties": false, "properties": {
                    "n": {"type": "number", "minimum": 0, "exclusiveMaximum": 10},
                    "children": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/node"}}
                }}}
            }),
            json!({"n": 1, "children": [{"n": 9.5}, {"n": 0, "children": [{"n": 2}]}]}),
        ),
        (
            json!({"type": "object", "additionalProperties": {"type": "integer", "maximum": 64, "exclusiveMinimum": -1},
                   "properties": {"name": {"const": "Rex"}, "x": true, "extra": false}}),
            json!({"name": "Rex", "id": 3, "n": 64}),
        ),
        (
            json!({"allOf": [
                {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
                {"anyOf": [{"required": ["name"]}, {"required": ["tag"]}]},
                {"properties": {"status": {"enum": [null, true, 1, "sold"]}}}
            ]}),
            json!({"id": 1, "tag": "a", "status": 1}),
        ),
        (
            json!({"type": "array", "items": {"anyOf": [{"type": "string", "maxLength": 1}, {"type": "integer", "minimum": 10}]}}),
            json!(["a", "é", 10, 65, ""]),
        ),
        // Names that share their first eight bytes, and a required name that is no property:
        // looked up in a list (few names) and by a map (many).
        (
            json!({"type": "object", "required": ["categoryName", "x"], "properties": {
                "categoryName": {"type": "string"}, "categoryKind": {"type": "integer"},
                "categoryId": {"type": "integer"}, "category": {"type": "null"}}}),
            json!({"categoryName": "a", "categoryId": 2, "x": 0}),
        ),
        (
            json!({"type": "object", "additionalProperties": false, "required": ["categoryName", "tag"],
                   "properties": {"categoryName": {"type": "string"}, "categoryKind": {"type": "integer"}, "categoryId": {"type": "integer"},
                   "category": {"type": "null"}, "id": true, "name": true, "status": true, "result": true,
                   "children": true, "n": true, "tag": {"type": "string"}}}),
            json!({"categoryName": "a", "categoryId": 1, "tag": "x"}),
        ),
    ]
}

#[test]
fn whatever_the_check_calls_valid_jsonschema_calls_valid() {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    for (schema, good) in cases() {
        let plan = Plan::of(&schema).unwrap_or_else(|| panic!("a plan for {schema}"));
        // The same plan without narrowing by the value's first byte: every answer must agree.
        let mut wide = plan.clone();
        wide.narrowed.fill([Narrow::Set; KINDS.len()]);
        let reference = jsonschema::validator_for(&schema).unwrap();
        assert!(
            reference.is_valid(&good),
            "{good} is valid against {schema}"
        );
        let text = serde_json::to_vec(&good).unwrap();
        assert!(plan.check(&text), "the check takes {good} against {schema}");
        let wrapped_schema = wrap(&schema);
        let wrapped_plan = Plan::of(&wrapped_schema).unwrap();
        let wrapped_reference = jsonschema::validator_for(&wrapped_schema).unwrap();
        assert!(wrapped_plan.check_wrapped("result", &text));
        assert!(!wrapped_plan.check_wrapped("other", &text));
        let (mut said_valid, mut said_invalid) = (0, 0);
        for i in 0..4000 {
            let doc = if i % 2 == 0 {
                mutate(&mut r, &good)
            } else {
                value(&mut r, 0)
            };
            let text = serde_json::to_vec(&doc).unwrap();
            let quick = plan.check(&text);
            assert_eq!(
                quick,
                wide.check(&text),
                "narrowing changed the answer for {doc}"
            );
            assert!(
                !quick || reference.is_valid(&doc),
                "the check took {doc}, which breaks {schema}"
            );
            let wrapped = json!({"result": doc});
            assert!(
                !wrapped_plan.check_wrapped("result", &text)
                    || wrapped_reference.is_valid(&wrapped),
                "the check took {wrapped}, which breaks {wrapped_schema}"
            );
            // A text with one byte changed: whatever the check takes must parse, and be valid.
            let mut bent = text.clone();
            let at = r.below(bent.len() as u64) as usize;
            bent[at] = b"{}[]\",:\\ 0e.-tnu\xff"[r.below(17) as usize];
            assert_eq!(plan.check(&bent), wide.check(&bent), "{bent:?}");
            if plan.check(&bent) {
                let parsed: Value = serde_json::from_slice(&bent)
                    .unwrap_or_else(|e| panic!("the check took {bent:?}, which is not JSON: {e}"));
                assert!(reference.is_valid(&parsed), "the check took {parsed}");
            }
            if quick {
                said_valid += 1
            } else {
                said_invalid += 1
            }
        }
        assert!(
            said_valid > 0 && said_invalid > 0,
            "{schema}: {said_valid} valid, {said_invalid} invalid"
        );
    }
}

/// `{"result": <schema>}` as a tool's wrapped output schema: the definitions stay at the root.
fn wrap(schema: &Value) -> Value {
    let mut inner = schema.clone();
    let defs = inner.as_object_mut().and_then(|o| o.shift_remove("$defs"));
    let mut out =
        json!({"type": "object", "required": ["result"], "properties": {"result": inner}});
    if let Some(d) = defs {
        out["$defs"] = d;
    }
    out
}

#[test]
fn texts_the_generator_never_writes() {
    let plan = Plan::of(&pet_schema()).unwrap();
    for (text, valid) in [
        (r#"{"name": "Rex", "id": 7}"#, true),
        (" \n{\"name\":\"R\\u0065x\"}\n", true),
        (r#"{"n\u0061me": "Rex"}"#, true),
        // `1.0` and `1e2` are integers to jsonschema; the check leaves them to it.
        (r#"{"name": "Rex", "id": 1.0}"#, false),
        (r#"{"name": "Rex", "id": 1e2}"#, false),
        // A repeated member: each value is checked.
        (r#"{"name": "", "name": "Rex"}"#, false),
        (r#"{"name": "Rex"} x"#, false),
        (r#"{"name": "Rex""#, false),
        (r#"{"name": "\ud800"}"#, false),
        // Members and items no keyword constrains are read as strictly as the rest.
        (r#"{"name": "Rex", "other": "\ud800"}"#, false),
        (r#"{"name": "Rex", "other": [1e999]}"#, false),
        // JSON's own rules, where no keyword looks and where one does.
        (r#"{"name": "Rex", "other": [1, 2,]}"#, false),
        (r#"{"name": "Rex",}"#, false),
        (r#"{"name": "Rex", "id": 07}"#, false),
        (r#"{"name": "Rex", "other": 1.}"#, false),
        (r#"{"name": "Rex", "other": .5}"#, false),
        (r#"{"name": "Rex", "other": +1}"#, false),
        (r#"{"name": "Rex", "other": -}"#, false),
        (r#"{"name": "Rex", "other": tRue}"#, false),
        (r#"{"name": "Rex", "other": NaN}"#, false),
        (r#"{"name": "Rex", "other": "\x41"}"#, false),
        (r#"{"name": "Rex", "other": "\udc00"}"#, false),
        (r#"{"name": "Rex", "other": "\ud83d\u0041"}"#, false),
        ("{\"name\": \"Rex\", \"other\": \"a\u{1}b\"}", false),
        (
            r#"{"name": "Rex", "other": [[{"a": [true, false, null, -1.5e-3, "\ud83d\ude00"]}]]}"#,
            true,
        ),
        (r#"{"name": "Rex", "id": -7, "status": "s\u006fld"}"#, true),
        // One character, written as a surrogate pair.
        (r#"{"name": "\ud83d\ude00"}"#, true),
        ("", false),
    ] {
        assert_eq!(plan.check(text.as_bytes()), valid, "{text}");
        if valid {
            serde_json::from_str::<Value>(text).expect("what the check takes is JSON");
        }
    }
}

#[test]
fn nesting_is_taken_only_as_deep_as_serde_json_reads_it() {
    let any = Plan::of(&json!(true)).unwrap();
    for depth in [1, 100, 127, 128, 129, 5000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        if any.check(nested.as_bytes()) {
            assert!(serde_json::from_str::<Value>(&nested).is_ok(), "{depth}");
        } else {
            assert!(depth > 100, "{depth}");
        }
    }
}

#[test]
fn schemas_outside_the_subset_get_no_plan() {
    for schema in [
        json!({"type": "string", "pattern": "^a"}),
        json!({"oneOf": [{"type": "string"}, {"type": "null"}]}),
        json!({"not": {"type": "null"}}),
        json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}),
        json!({"type": "object", "patternProperties": {"^x": {}}}),
        json!({"type": "array", "uniqueItems": true}),
        json!({"enum": [1.5]}),
        json!({"enum": [{"a": 1}]}),
        json!({"$ref": "https://example.com/pet.json"}),
        json!({"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}}),
        json!({"type": "object", "properties": {"a": {"if": {"type": "string"}}}}),
        json!({"type": "object", "properties": {"a": {"$id": "inner"}}}),
    ] {
        assert!(Plan::of(&schema).is_none(), "{schema}");
    }
    for schema in [
        json!(true),
        json!({}),
        json!({"type": "object", "x-internal": true, "discriminator": {"propertyName": "a"}}),
        json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}),
    ] {
        assert!(Plan::of(&schema).is_some(), "{schema}");
    }
    assert!(!Plan::of(&json!(false)).unwrap().check(b"{}"));
}

#[test]
fn a_node_that_only_refers_is_checked_as_its_target() {
    // `$ref` and a one-member `allOf` add no keyword of their own: the plan checks a value
    // against the node they lead to, so a set holds only nodes that say something.
    let plan = Plan::of(&json!({
        "$ref": "#/$defs/pet",
        "$defs": {"pet": {"allOf": [{"type": "object", "required": ["name"]}]}}
    }))
    .unwrap();
    assert_eq!(plan.closures[plan.root].len(), 1);
    assert!(plan.check(br#"{"name": "Rex"}"#));
    assert!(!plan.check(br#"{"id": 1}"#));
    // The pet's `category` (anyOf of an allOf wrapper and null) is checked against three
    // nodes, not four.
    let pet = Plan::of(&pet_schema()).unwrap();
    let root = &pet.nodes[pet.root];
    let category = root
        .member("category", head("category"))
        .and_then(|m| m.child)
        .unwrap();
    assert_eq!(pet.closures[category].len(), 3);
    // Once the first byte is read, it is one node or none: an object is checked against the
    // category's object node alone, `null` always holds, anything else never.
    let [null, boolean, number, string, array, object] = pet.narrowed[category];
    let Narrow::Only(node) = object else {
        panic!("{object:?}")
    };
    assert_eq!(pet.nodes[node].types, OBJECT);
    assert_eq!(null, Narrow::Always);
    assert!(
        [boolean, number, string, array]
            .iter()
            .all(|n| *n == Narrow::Never)
    );
}
