//! The whole list of diagnostics for broken manifests: the wording users see is locked here.

use crate::common::{compile, summarize, write};

fn petstore_spec() -> String {
    crate::common::path("gateways/petstore/openapi.yaml")
        .display()
        .to_string()
}

#[test]
fn schema_errors_are_all_reported_with_positions_and_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            "name: broken\nopenapi: {}\nupstreem: {{}}\ntools:\n  - operation: 42\n    nmae: pets\n  - operation: listPets\n    output_schema: maybe\n",
            petstore_spec()
        ),
    );
    let diags = compile(&manifest).result.unwrap_err();
    assert_eq!(
        summarize(&diags),
        vec![
            "Error unknown-field @ upstreem 3:1: unknown field `upstreem` | help: did you mean `upstream`?",
            "Error invalid-value @ tools[0].operation 5:16: expected a string, found the number 42",
            "Error unknown-field @ tools[0].nmae 6:5: unknown field `nmae` | help: did you mean `name`?",
            "Error invalid-value @ tools[1].output_schema 8:20: \"maybe\" does not match any allowed form | help: `output_schema` is `true`, `false`, or limits such as `{max_depth: 2, max_bytes: 4000}`",
        ]
    );
}

#[test]
fn compile_errors_are_all_reported_with_hints() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            r#"name: broken
openapi: {}
upstream:
  base_url: http://127.0.0.1:9
tools:
  - operation: getPetByID
  - operation: listPets
    params:
      limt: {{default: 5}}
  - operation: createPet
    name: add pet
  - operation: deletePet
    description: Manage a pet.
  - operation: getInventory
    params:
      X-Api-Version: {{hide: true}}
  - operation: GET /pets
"#,
            petstore_spec()
        ),
    );
    let diags = compile(&manifest).result.unwrap_err();
    assert_eq!(
        summarize(&diags),
        vec![
            "Error unknown-operation @ tools[0].operation 6:16: the spec has no operation `getPetByID` | help: did you mean `getPetById`, `getOrderById`?",
            "Error unknown-parameter @ tools[1].params.limt 9:7: GET /pets has no parameter or body property `limt` | help: did you mean `limit`?",
            "Error invalid-name @ tools[2].name 11:11: `add pet` contains ' '; tool names may use only A-Z a-z 0-9 _ - . | help: use 1–64 characters of A-Z a-z 0-9 _ - .",
            "Warning destructive-undescribed @ tools[3].description 13:18: `delete_pet` is destructive but its description does not say what it destroys | help: say what is deleted or overwritten and whether it can be undone",
            "Error hide-required @ tools[4].params.X-Api-Version.hide 16:23: cannot hide `X-Api-Version`: the operation requires it | help: give it a value with `fixed: …` instead of `hide: true`",
            "Error duplicate-name @ tools[5].operation 17:16: tool name `list_pets` is already used by tools[1] | help: give one of them a different `name:`",
        ]
    );
}

#[test]
fn yaml_syntax_errors_point_at_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        "name: x\ntools:\n  - operation: [a\n",
    );
    let diags = compile(&manifest).result.unwrap_err();
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "yaml-syntax");
    assert!(diags[0].span.is_some_and(|s| s.line >= 3), "{:?}", diags[0]);
}

#[test]
fn a_missing_spec_file_is_located_at_openapi() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        "name: x\nopenapi: nope.yaml\ntools: []\n",
    );
    let diags = compile(&manifest).result.unwrap_err();
    let s = summarize(&diags);
    assert_eq!(s.len(), 1);
    assert!(
        s[0].starts_with("Error spec @ openapi 2:10: cannot read `"),
        "{s:?}"
    );
    assert!(s[0].contains("nope.yaml"), "{s:?}");
}

#[test]
fn a_network_ref_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "spec.yaml",
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\nservers: [{url: 'http://127.0.0.1:9'}]\npaths:\n  /a:\n    get:\n      operationId: a\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: 'https://schemas.example.com/x.json#/X'}\n",
    );
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        "name: x\nopenapi: spec.yaml\ntools: [{operation: a}]\n",
    );
    let diags = compile(&manifest).result.unwrap_err();
    let s = summarize(&diags);
    assert!(
        s.iter().any(|d| d.starts_with("Error spec-ref @ openapi 2:10: `$ref` to the network URL `https://schemas.example.com/x.json` (in `")
            && d.ends_with("help: set `allow_remote_refs: true` in the manifest to fetch network references, or vendor the file next to the spec")),
        "{s:#?}"
    );
}

#[test]
fn confirm_ask_and_mcp_header_mistakes_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            r#"name: broken
openapi: {}
upstream:
  base_url: http://127.0.0.1:9
tools:
  - operation: listPets
    params:
      status: {{ask: Which statuses?}}
      limit: {{mcp_header: "Lim it"}}
  - operation: deletePet
    description: Deletes a pet for good.
    confirm: "Delete pet {{{{ pet }}}}?"
  - operation: createPet
    params:
      category: {{mcp_header: Category}}
      name: {{ask: Name?, mcp_header: Name}}
"#,
            petstore_spec()
        ),
    );
    let diags = compile(&manifest).result.unwrap_err();
    assert_eq!(
        summarize(&diags),
        vec![
            "Error ask-type @ tools[0].params.status.ask 8:16: `status` is not a string, number, integer or boolean, so a user cannot be asked for it | help: ask only for single values; let the model supply structured ones",
            "Error bad-mcp-header @ tools[0].params.limit.mcp_header 9:15: `Lim it` is not an HTTP header name | help: use letters, digits and `-`, e.g. `Region`",
            "Error unknown-variable @ tools[1].confirm 12:14: the message uses `pet`, which is not an argument of this tool | help: did you mean `petId`?",
            "Error mcp-header-type @ tools[2].params.category.mcp_header 15:18: `category` is not a string, integer or boolean, which is all a client may mirror into a header | help: remove `mcp_header:` from this parameter",
            "Error mcp-header-asked @ tools[2].params.name.mcp_header 16:26: `name` is asked of the user, so the client never sends it | help: remove `mcp_header:` or `ask:`",
        ]
    );
}
