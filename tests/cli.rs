//! The commands as a user runs them: `validate` exit codes and formats, `init` producing a
//! manifest that validates, `inspect` with sizes, `inspect --spec`, `schema`.

use serde_json::Value;

use crate::common::gateway::tool_names;
use crate::common::{path, run_in, write};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_exits_0_valid_1_invalid_2_usage() {
    let root = path("");
    let ok = run_in(&root, &["validate", "gateways/"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(
        stderr(&ok).contains("gateways/petstore/gateway.yaml: valid (6 tools)"),
        "{}",
        stderr(&ok)
    );
    assert!(
        stderr(&ok).contains("gateways/conformance/gateway.yaml: valid"),
        "{}",
        stderr(&ok)
    );

    let dir = tempfile::tempdir().unwrap();
    let spec = path("gateways/petstore/openapi.yaml").display().to_string();
    write(
        dir.path(),
        "gateway.yaml",
        &format!("name: x\nopenapi: {spec}\ntools:\n  - operation: getPetByID\n"),
    );
    let bad = run_in(dir.path(), &["validate"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(
        err.contains("error[unknown-operation]: the spec has no operation `getPetByID`"),
        "{err}"
    );
    assert!(err.contains("  --> gateway.yaml:4:16"), "{err}");
    assert!(
        err.contains("4 |   - operation: getPetByID\n  |                ^^^^^^^^^^"),
        "{err}"
    );
    assert!(err.contains("= help: did you mean `getPetById`"), "{err}");

    let missing = run_in(dir.path(), &["validate", "nope.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    let usage = run_in(dir.path(), &["validate", "--format", "xml"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn validate_speaks_json_and_github_and_can_deny_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let spec = path("gateways/petstore/openapi.yaml").display().to_string();
    write(
        dir.path(),
        "bad.yaml",
        &format!("name: x\nopenapi: {spec}\ntools:\n  - operation: nope\n"),
    );
    write(
        dir.path(),
        "warn.yaml",
        &format!(
            "name: y\nopenapi: {spec}\ntools:\n  - operation: deletePet\n    description: Manage a pet.\n"
        ),
    );

    let json_out = run_in(
        dir.path(),
        &["validate", "bad.yaml", "warn.yaml", "--format", "json"],
    );
    assert_eq!(json_out.status.code(), Some(1));
    let doc: Value = serde_json::from_str(&stdout(&json_out)).unwrap();
    assert_eq!(doc["errors"], 1);
    assert_eq!(doc["warnings"], 1);
    let d = &doc["manifests"][0]["diagnostics"][0];
    assert_eq!(d["code"], "unknown-operation");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(4), Some(16))
    );
    assert_eq!(d["path"], "tools[0].operation");
    assert_eq!(doc["manifests"][1]["valid"], true);

    let gh = run_in(dir.path(), &["validate", "bad.yaml", "--format", "github"]);
    assert!(
        stdout(&gh).contains("::error file=bad.yaml,line=4,col=16,title=unknown-operation::the spec has no operation `nope` (at tools[0].operation)"),
        "{}",
        stdout(&gh)
    );

    let lenient = run_in(dir.path(), &["validate", "warn.yaml"]);
    assert_eq!(lenient.status.code(), Some(0));
    let strict = run_in(dir.path(), &["validate", "warn.yaml", "--deny-warnings"]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        stderr(&strict).contains("warning[destructive-undescribed]"),
        "{}",
        stderr(&strict)
    );
}

#[test]
fn init_writes_a_starter_manifest_that_validates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        path("gateways/petstore/openapi.yaml"),
        dir.path().join("openapi.yaml"),
    )
    .unwrap();
    let out = run_in(dir.path(), &["init", "--spec", "openapi.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("# yaml-language-server: $schema=gateway.schema.json\n"),
        "{text}"
    );
    assert!(text.contains("name: \"swagger-petstore\""), "{text}");
    assert!(
        text.contains(
            "base_url: \"${SWAGGER_PETSTORE_BASE_URL:-https://petstore.example.com/v1}\""
        ),
        "{text}"
    );
    assert!(
        text.contains("  - operation: \"listPets\"   # GET /pets — List pets"),
        "{text}"
    );
    assert!(text.contains("  # - operation: \"findPetsByTags\"   # GET /pets/findByTags — Find pets by tags (deprecated)"), "{text}");
    write(dir.path(), "gateway.yaml", &text);
    let v = run_in(dir.path(), &["validate", "gateway.yaml"]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
}

#[test]
fn inspect_shows_tools_with_sizes_and_inspect_spec_compiles_every_operation() {
    let root = path("");
    let out = run_in(
        &root,
        &["inspect", "gateways/petstore/gateway.yaml", "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["tools"].as_array().unwrap().len(), 6);
    let first = &doc["sizes"][0];
    assert_eq!(first["name"], "find_pets");
    assert_eq!(
        first["bytes"].as_u64().unwrap() as usize,
        doc["tools"][0].to_string().len()
    );
    assert!(doc["total"]["approx_tokens"].as_u64().unwrap() > 0);
    assert_eq!(doc["prompts"][0]["name"], "adopt_pet");
    assert_eq!(doc["resources"][0]["uri"], "petstore://inventory");
    assert_eq!(
        doc["resourceTemplates"][0]["uriTemplate"],
        "petstore://pets/{petId}"
    );

    let human = run_in(&root, &["inspect", "gateways/petstore/gateway.yaml"]);
    assert!(
        stdout(&human).contains("── delete_pet ("),
        "{}",
        stdout(&human)
    );
    assert!(
        stdout(&human).contains("[destructive, idempotent] → DELETE /pets/{petId}\nretry: up to 3 attempts, 100ms doubling to 2s, Retry-After up to 5s\n"),
        "{}",
        stdout(&human)
    );
    assert!(
        stdout(&human).contains("→ POST /pets\nretry: only a connection that could not be made (POST is not idempotent)\n"),
        "{}",
        stdout(&human)
    );
    for line in [
        "prompt: adopt_pet(pet_id*, delivery)",
        "resource: petstore://inventory → GET /store/inventory",
        "resource template: petstore://pets/{petId} → GET /pets/{petId}",
    ] {
        assert!(stdout(&human).contains(line), "{line}\n{}", stdout(&human));
    }

    let spec = run_in(
        &root,
        &["inspect", "--spec", "tests/fixtures/swagger2.yaml"],
    );
    assert_eq!(spec.status.code(), Some(0), "{}", stderr(&spec));
    let doc: Value = serde_json::from_str(&stdout(&spec)).unwrap();
    let names = tool_names(&doc);
    assert_eq!(names, ["list_files", "upload_file", "replace_file_meta"]);
    assert_eq!(doc["diagnostics"], Value::Array(vec![]));
}

#[test]
fn inspect_spec_turns_a_broken_operation_into_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spec.yaml",
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      operationId: good\n      responses: {'200': {description: ok}}\n  /b:\n    get:\n      operationId: bad\n      parameters: [{$ref: '#/components/parameters/Missing'}]\n      responses: {'200': {description: ok}}\n",
    );
    let out = run_in(dir.path(), &["inspect", "--spec", "spec.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let names = tool_names(&doc);
    assert_eq!(names, ["good"]);
    let diags = doc["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["path"], "GET /b");
    assert_eq!(
        diags[0]["message"],
        "parameter: `$ref: #/components/parameters/Missing` points at nothing"
    );
}

#[test]
fn validate_of_a_folder_rejects_two_gateways_with_one_name() {
    // `serve DIR` routes by name, so `validate DIR` must catch what would collide there.
    let dir = tempfile::tempdir().unwrap();
    for sub in ["one", "two"] {
        let d = dir.path().join(sub);
        std::fs::create_dir(&d).unwrap();
        std::fs::copy(
            path("gateways/petstore/openapi.yaml"),
            d.join("openapi.yaml"),
        )
        .unwrap();
        write(
            &d,
            "gateway.yaml",
            "name: shop\nopenapi: openapi.yaml\ntools:\n  - operation: getPetById\n",
        );
    }
    let out = run_in(dir.path(), &["validate", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("duplicate-name"), "{err}");
    assert!(
        err.contains("one/gateway.yaml` is also named `shop`"),
        "{err}"
    );
    assert!(err.contains("two/gateway.yaml:1:7"), "{err}");
}
