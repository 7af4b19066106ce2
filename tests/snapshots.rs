//! Snapshots of compiled tools (exactly what `tools/list` returns) for representative specs:
//! a 3.0 spec with nullable/oneOf/readOnly, a Swagger 2.0 spec with body/formData parameters,
//! and a 3.1 spec with type arrays, an external file ref and a recursive schema. Beside them, the
//! compiled IR of the example gateways: call plans and the upstream, auth and limit settings.

use serde_json::Value;

use crate::common::{compile, path};

fn tools(manifest: &str) -> Value {
    let compiled = compile(&path(manifest))
        .result
        .unwrap_or_else(|d| panic!("{manifest}: {d:#?}"));
    Value::Array(
        compiled
            .gateway
            .tools
            .iter()
            .map(|t| serde_json::to_value(mcp_gateway::mcp::definition(t)).unwrap())
            .collect(),
    )
}

#[test]
fn petstore_openapi30() {
    insta::assert_json_snapshot!(tools("gateways/petstore/gateway.yaml"));
}

#[test]
fn swagger2_body_and_form_data() {
    insta::assert_json_snapshot!(tools("tests/fixtures/swagger2.gateway.yaml"));
}

#[test]
fn openapi31_external_ref_and_recursion() {
    insta::assert_json_snapshot!(tools("tests/fixtures/openapi31.gateway.yaml"));
}

/// The compiled IR beside what `tools/list` shows, as the gateway serialises it: every call plan
/// (path, parameters and where each goes, body), timeouts, retries, scopes, shaping, and the
/// upstream, inbound-auth, limit and catalog settings. Secrets show only where they came from.
/// The schemas and the validators built from them are left out: the `tools/list` snapshots
/// beside these show them.
fn ir(manifest: &str) -> Value {
    let compiled = compile(&path(manifest))
        .result
        .unwrap_or_else(|d| panic!("{manifest}: {d:#?}"));
    let mut ir = serde_json::to_value(&compiled.gateway).unwrap();
    for tool in ir["tools"].as_array_mut().unwrap() {
        let tool = tool.as_object_mut().unwrap();
        for schema in [
            "input_schema",
            "input_schema_2026",
            "output_schema",
            "input_validator",
            "output_validator",
        ] {
            assert!(
                tool.shift_remove(schema).is_some(),
                "{schema} is serialised"
            );
        }
    }
    ir
}

#[test]
fn petstore_compiled_ir() {
    insta::assert_json_snapshot!(ir("gateways/petstore/gateway.yaml"));
}

#[test]
fn secured_compiled_ir() {
    insta::assert_json_snapshot!(ir("gateways/secured/gateway.yaml"));
}

#[test]
fn swagger2_compiled_ir() {
    insta::assert_json_snapshot!(ir("tests/fixtures/swagger2.gateway.yaml"));
}
