//! Snapshots of compiled tools (exactly what `tools/list` returns) for representative specs:
//! a 3.0 spec with nullable/oneOf/readOnly, a Swagger 2.0 spec with body/formData parameters,
//! and a 3.1 spec with type arrays, an external file ref and a recursive schema.

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
