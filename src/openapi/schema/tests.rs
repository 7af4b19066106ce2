//! Schema conversion: each dialect's keywords, references, recursion and the size budget.
use super::*;

fn convert(
    version: SpecVersion,
    doc: Value,
    schema: Value,
    mode: Mode,
) -> (Value, Option<Map<String, Value>>) {
    let url = url::Url::parse("file:///spec.yaml").unwrap();
    let store = DocStore::from_value(url, doc);
    let mut c = Converter::new(&store, version);
    let mut root = Root::default();
    let v = c
        .convert(
            &mut root,
            &RawSchema {
                doc: 0,
                value: schema,
            },
            mode,
        )
        .unwrap();
    (v, root.take_defs())
}

#[test]
fn nullable_becomes_a_type_array_and_null_joins_enums() {
    let (v, _) = convert(
        SpecVersion::OpenApi30,
        json!({}),
        json!({"type": "string", "nullable": true, "enum": ["a", "b"]}),
        Mode::Input,
    );
    assert_eq!(
        v,
        json!({"type": ["string", "null"], "enum": ["a", "b", null]})
    );
}

#[test]
fn nullable_beside_a_reference_to_an_enum_lets_null_through() {
    // Twilio writes `{"type": "string", "$ref": "#/…/call_enum_status", "nullable": true}`.
    let doc = json!({"components": {"schemas": {
        "status": {"type": "string", "enum": ["queued", "ringing"]}}}});
    let (v, _) = convert(
        SpecVersion::OpenApi30,
        doc,
        json!({"type": "string", "$ref": "#/components/schemas/status", "nullable": true}),
        Mode::Output,
    );
    assert_eq!(
        v,
        json!({"type": ["string", "null"], "enum": ["queued", "ringing", null]})
    );
}

#[test]
fn nullable_reference_is_wrapped_in_any_of_not_turned_into_a_string() {
    let doc = json!({"components": {"schemas": {"Pet": {"type": "object", "properties": {"id": {"type": "integer"}}}}}});
    let (v, _) = convert(
        SpecVersion::OpenApi30,
        doc,
        json!({"allOf": [{"$ref": "#/components/schemas/Pet"}], "nullable": true}),
        Mode::Output,
    );
    assert_eq!(
        v,
        json!({"anyOf": [{"allOf": [{"type": "object", "properties": {"id": {"type": "integer"}}}]}, {"type": "null"}]})
    );
}

#[test]
fn boolean_exclusive_bounds_become_numeric_and_example_becomes_examples() {
    let (v, _) = convert(
        SpecVersion::OpenApi30,
        json!({}),
        json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "example": 3, "x-foo": 1}),
        Mode::Input,
    );
    assert_eq!(
        v,
        json!({"type": "integer", "examples": [3], "exclusiveMinimum": 0})
    );
}

#[test]
fn read_only_properties_leave_inputs_and_write_only_leave_outputs() {
    let doc = json!({"components": {"schemas": {"Id": {"type": "integer", "readOnly": true}}}});
    let schema = json!({"type": "object", "required": ["id", "name", "secret"], "properties": {
        "id": {"$ref": "#/components/schemas/Id"}, "name": {"type": "string"},
        "secret": {"type": "string", "writeOnly": true}}});
    let (input, _) = convert(
        SpecVersion::OpenApi30,
        doc.clone(),
        schema.clone(),
        Mode::Input,
    );
    assert_eq!(input["required"], json!(["name", "secret"]));
    assert!(input["properties"].get("id").is_none());
    let (output, _) = convert(SpecVersion::OpenApi30, doc, schema, Mode::Output);
    assert_eq!(output["required"], json!(["id", "name"]));
    assert!(output["properties"].get("secret").is_none());
}

#[test]
fn recursive_schemas_keep_defs_and_refs_and_the_rest_is_inlined() {
    let doc = json!({"components": {"schemas": {
        "Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                                                   "tag": {"$ref": "#/components/schemas/Tag"}}},
        "Tag": {"type": "string"}}}});
    let (v, defs) = convert(
        SpecVersion::OpenApi31,
        doc,
        json!({"$ref": "#/components/schemas/Node"}),
        Mode::Input,
    );
    assert_eq!(v, json!({"$ref": "#/$defs/Node"}));
    let defs = defs.unwrap();
    assert_eq!(
        defs["Node"]["properties"]["children"]["items"],
        json!({"$ref": "#/$defs/Node"})
    );
    assert_eq!(defs["Node"]["properties"]["tag"], json!({"type": "string"}));
}

#[test]
fn openapi_31_type_arrays_and_const_pass_through() {
    let (v, _) = convert(
        SpecVersion::OpenApi31,
        json!({}),
        json!({"type": ["string", "null"], "const": "x", "examples": ["x"], "nullable": true}),
        Mode::Input,
    );
    assert_eq!(
        v,
        json!({"type": ["string", "null"], "const": "x", "examples": ["x"]})
    );
}

#[test]
fn swagger_file_and_x_nullable_are_translated() {
    let (v, _) = convert(
        SpecVersion::Swagger2,
        json!({}),
        json!({"type": "file"}),
        Mode::Input,
    );
    assert_eq!(v, json!({"type": "string", "format": "binary"}));
    let (v, _) = convert(
        SpecVersion::Swagger2,
        json!({}),
        json!({"type": "integer", "x-nullable": true}),
        Mode::Input,
    );
    assert_eq!(v, json!({"type": ["integer", "null"]}));
}

#[test]
fn heavily_shared_schemas_stop_inlining_at_the_budget_and_share_defs() {
    // L0 has four properties that are all L1, which has four that are all L2, …: inlined,
    // 4^12 copies of L12. With the budget, each level is emitted once under `$defs`.
    let mut schemas = Map::new();
    for level in 0..12 {
        let next = json!({"$ref": format!("#/components/schemas/L{}", level + 1)});
        let props: Map<String, Value> = (0..4).map(|i| (format!("p{i}"), next.clone())).collect();
        schemas.insert(
            format!("L{level}"),
            json!({"type": "object", "properties": props}),
        );
    }
    schemas.insert("L12".into(), json!({"type": "string"}));
    let doc = json!({"components": {"schemas": schemas}});
    let (v, defs) = convert(
        SpecVersion::OpenApi30,
        doc,
        json!({"$ref": "#/components/schemas/L0"}),
        Mode::Input,
    );
    let size = v.to_string().len()
        + defs
            .as_ref()
            .map(|d| Value::Object(d.clone()).to_string().len())
            .unwrap_or(0);
    assert!(size < 1_000_000, "the schema stays small: {size} bytes");
    assert!(defs.is_some(), "shared schemas moved to $defs");
    jsonschema::validator_for(&json!({"type": "object", "properties": {"x": v}, "$defs": defs}))
        .unwrap();
}

#[test]
fn dangling_references_are_errors() {
    let url = url::Url::parse("file:///spec.yaml").unwrap();
    let store = DocStore::from_value(url, json!({}));
    let mut c = Converter::new(&store, SpecVersion::OpenApi30);
    let err = c
        .convert(
            &mut Root::default(),
            &RawSchema {
                doc: 0,
                value: json!({"$ref": "#/nope"}),
            },
            Mode::Input,
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "`$ref: #/nope` points at nothing");
}
