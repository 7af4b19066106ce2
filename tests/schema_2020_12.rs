//! `schemas: {keep_2020_12: true}`: 2026-07-28 clients are shown input schemas with `$schema`,
//! shared schemas once under `$defs` (with their `$anchor`) and `$ref`; 2025-era clients the
//! inlined form of the same arguments; an object body's top-level `allOf`/`if`/`then`/`else`
//! stay at the root for both, and the gateway holds calls to them before anything is sent.
//! Only the protocol matters here: the gateway is served in process.

use serde_json::{Value, json};

use crate::common::gateway::{client_2025, client_2026};
use crate::common::in_process::InProcess;
use crate::common::{path, raw, runtime, write};

#[test]
fn a_2026_client_sees_refs_and_defs_and_a_2025_client_the_inlined_schema() {
    let rt = runtime();
    let up = rt.block_on(raw::start());
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            "name: contacts\nopenapi: {}\nupstream: {{base_url: \"{}\"}}\nschemas: {{keep_2020_12: true}}\ntools:\n  - operation: createContact\n    name: save_contact\n    output_schema: false\n",
            path("gateways/conformance/openapi.yaml").display(),
            up.url()
        ),
    );
    let gw = rt.block_on(InProcess::start(&manifest, Default::default()));
    let url = format!("{}/mcp", gw.origin());
    rt.block_on(async {
        let modern = client_2026(&url).await;
        let tools = modern.list_all_tools().await.unwrap();
        let s = Value::Object((*tools[0].input_schema).clone());
        assert_eq!(s["$schema"], json!("https://json-schema.org/draft/2020-12/schema"));
        assert_eq!(s["properties"]["address"], json!({"$ref": "#/$defs/address"}));
        assert_eq!(s["$defs"]["address"]["$anchor"], json!("addressDef"));
        assert_eq!(s["then"], json!({"required": ["phone"]}));
        assert_eq!(
            s["allOf"],
            json!([{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}])
        );

        let legacy = client_2025(&url).await;
        let tools = legacy.list_all_tools().await.unwrap();
        let l = Value::Object((*tools[0].input_schema).clone());
        assert!(l.get("$defs").is_none() && l.get("$schema").is_none(), "{l}");
        assert_eq!(l["properties"]["address"]["properties"]["city"], json!({"type": "string"}));
        assert_eq!(l["else"], s["else"], "the same constraints for both eras");

        // The body's constraints are held by the gateway: neither phone nor email, refused.
        let call = |args: Value| {
            rmcp::model::CallToolRequestParams::new("save_contact")
                .with_arguments(args.as_object().cloned().unwrap())
        };
        let r = modern
            .call_tool(call(json!({"name": "Ada", "contactMethod": "email"})))
            .await
            .unwrap();
        assert_eq!(r.is_error, Some(true));
        assert_eq!(up.count(), 0);
        let r = modern
            .call_tool(call(json!({
                "name": "Ada", "contactMethod": "email", "email": "ada@example.com",
                "address": {"city": "London"}
            })))
            .await
            .unwrap();
        assert_ne!(r.is_error, Some(true), "{r:?}");
        let seen = up.requests();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            serde_json::from_slice::<Value>(&seen[0].body).unwrap(),
            json!({"name": "Ada", "address": {"city": "London"}, "contactMethod": "email", "email": "ada@example.com"})
        );
        let _ = modern.cancel().await;
        let _ = legacy.cancel().await;
    });
}
