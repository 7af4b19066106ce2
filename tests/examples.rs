//! Every example gateway compiles, and the committed manifest schema is current.

use crate::common::{compile, path};

#[test]
fn every_example_gateway_compiles_without_warnings() {
    let mut found = 0;
    for entry in std::fs::read_dir(path("gateways")).unwrap() {
        let manifest = entry.unwrap().path().join("gateway.yaml");
        if !manifest.is_file() {
            continue;
        }
        found += 1;
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema="),
            "{} must start with the yaml-language-server schema line",
            manifest.display()
        );
        match compile(&manifest).result {
            Ok(c) => assert!(
                c.warnings.is_empty(),
                "{}: {:#?}",
                manifest.display(),
                c.warnings
            ),
            Err(d) => panic!("{} does not compile: {:#?}", manifest.display(), d),
        }
    }
    assert!(found > 0, "no example gateways found");
}

#[test]
fn committed_manifest_schema_is_current() {
    let committed = std::fs::read_to_string(path("schemas/gateway.schema.json")).unwrap();
    let generated = serde_json::to_string_pretty(&mcp_gateway::manifest::json_schema()).unwrap();
    assert_eq!(
        committed.trim_end(),
        generated.trim_end(),
        "schemas/gateway.schema.json is stale: run `cargo run -- schema > schemas/gateway.schema.json`"
    );
}
