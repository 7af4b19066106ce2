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

/// The compiled IR beside what `tools/list` shows: every call plan (path, parameters and where
/// each goes, body), timeouts, retries, scopes, and the upstream and inbound-auth settings, as
/// the gateway's own `Debug` prints them (secrets as their origin only, never their value).
fn ir(manifest: &str) -> String {
    #[derive(Debug)]
    #[allow(dead_code)] // read through `Debug` only
    struct Plan<'a> {
        name: &'a str,
        plan: &'a mcp_gateway::gateway::CallPlan,
        output: mcp_gateway::gateway::OutputShape,
        timeout: Option<std::time::Duration>,
        retry: &'a mcp_gateway::gateway::RetryPolicy,
        idempotency_key: Option<&'a http::HeaderName>,
        scopes: &'a [String],
        shaped: bool,
    }
    let compiled = compile(&path(manifest))
        .result
        .unwrap_or_else(|d| panic!("{manifest}: {d:#?}"));
    let g = &compiled.gateway;
    let plans: Vec<Plan<'_>> = g
        .tools
        .iter()
        .map(|t| Plan {
            name: &t.name,
            plan: &t.plan,
            output: t.output,
            timeout: t.timeout,
            retry: &t.retry,
            idempotency_key: t.idempotency_key.as_ref(),
            scopes: &t.scopes,
            shaped: t.shape.is_some(),
        })
        .collect();
    format!(
        "upstream: {:#?}\nauth: {:#?}\nlimits: {:#?}\ntools: {plans:#?}\n",
        g.upstream, g.auth, g.limits
    )
}

#[test]
fn petstore_compiled_ir() {
    insta::assert_snapshot!(ir("gateways/petstore/gateway.yaml"));
}

#[test]
fn secured_compiled_ir() {
    insta::assert_snapshot!(ir("gateways/secured/gateway.yaml"));
}

#[test]
fn swagger2_compiled_ir() {
    insta::assert_snapshot!(ir("tests/fixtures/swagger2.gateway.yaml"));
}
