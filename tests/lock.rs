//! The lock file and drift checks as CI runs them: `mcp-gateway lock` records what an agent
//! sees; a spec or manifest change that alters it fails `validate` with one located error per
//! change, labelled when it breaks callers; `--update-lock` accepts it.

use serde_json::Value;

use crate::common::{run_in, write};

const SPEC: &str = r#"openapi: 3.0.3
info: {title: Shop, version: '1.0'}
servers: [{url: 'http://127.0.0.1:9/api'}]
paths:
  /items:
    get:
      operationId: listItems
      summary: List items.
      parameters:
        - {name: q, in: query, schema: {type: string}}
        - {name: limit, in: query, schema: {type: integer}}
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Item'}}}}
  /items/{id}:
    get:
      operationId: getItem
      summary: Get one item.
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}
    delete:
      operationId: deleteItem
      summary: Delete an item for good.
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses: {'204': {description: gone}}
  /health:
    get:
      operationId: health
      summary: Whether the shop is up.
      responses: {'204': {description: up}}
components:
  schemas:
    Item:
      type: object
      required: [id, name]
      properties:
        id: {type: integer}
        name: {type: string}
        price: {type: number}
"#;

const MANIFEST: &str = "name: shop\nopenapi: openapi.yaml\ntools:\n  - operation: listItems\n  - operation: getItem\n  - operation: deleteItem\n    name: delete_item\n";

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn drift_lines(o: &std::process::Output) -> Vec<String> {
    stderr(o)
        .lines()
        .filter(|l| l.starts_with("error[drift]") || l.contains("differs from its lock file"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_lock_file_pins_what_an_agent_sees_and_validate_reports_each_drift() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "openapi.yaml", SPEC);
    write(d, "gateway.yaml", MANIFEST);

    // Without a lock file nothing is pinned.
    assert_eq!(run_in(d, &["validate"]).status.code(), Some(0));
    let locked = run_in(d, &["lock"]);
    assert_eq!(locked.status.code(), Some(0), "{}", stderr(&locked));
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("gateway.lock.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = lock["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["delete_item", "get_item", "list_items"], "sorted");
    let get_item = &lock["tools"][1];
    assert_eq!(get_item["operation"], "GET /items/{id}");
    assert_eq!(
        get_item["bytes"].as_u64().unwrap() as usize,
        serde_json::to_string(&get_item["definition"])
            .unwrap()
            .len(),
        "sizes are of the definition as served"
    );
    assert_eq!(lock["server"]["name"], "shop");
    let ok = run_in(d, &["validate"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));

    // The upstream's spec changes under the gateway, and the manifest renames a tool.
    let spec = SPEC
        .replace(
            "{name: limit, in: query, schema: {type: integer}}",
            "{name: limit, in: query, required: true, schema: {type: integer}}",
        )
        .replace(
            "{name: q, in: query, schema: {type: string}}",
            "{name: q, in: query, schema: {type: integer}}",
        )
        .replace("        price: {type: number}\n", "")
        .replace(
            "      summary: Get one item.\n      parameters:\n",
            "      summary: Get one item.\n      parameters:\n        - {name: fields, in: query, required: true, schema: {type: string}}\n",
        );
    write(d, "openapi.yaml", &spec);
    write(
        d,
        "gateway.yaml",
        &MANIFEST.replace("delete_item", "remove_item"),
    );
    let drifted = run_in(d, &["validate"]);
    assert_eq!(drifted.status.code(), Some(1));
    assert_eq!(
        drift_lines(&drifted),
        [
            "error[drift]: tool `delete_item`: renamed to `remove_item` [breaking]",
            "error[drift]: tool `get_item`: required argument `fields` added [breaking]",
            "error[drift]: tool `get_item`: output field `price` removed [breaking]",
            "error[drift]: tool `list_items`: argument `q`: type `string` → `integer` [breaking]",
            "error[drift]: tool `list_items`: argument `limit` became required [breaking]",
            "error[drift]: tool `list_items`: output field `result[].price` removed [breaking]",
            "gateway.yaml: differs from its lock file (6 changes, 6 breaking)",
        ]
    );
    let err = stderr(&drifted);
    assert!(
        err.contains("  --> gateway.lock.json:15:7\n   |\n15 |       \"name\": \"delete_item\","),
        "located at the lock file's entry:\n{err}"
    );
    assert!(
        err.contains("= help: the gateway no longer serves what `gateway.lock.json` records; if the change is intended, run `mcp-gateway validate --update-lock` and commit the lock file"),
        "{err}"
    );
    let github = run_in(d, &["validate", "--format", "github"]);
    let annotations = String::from_utf8_lossy(&github.stdout).into_owned();
    assert!(
        annotations.contains("::error file=gateway.lock.json,line=15,col=7,title=drift::tool `delete_item`: renamed to `remove_item` [breaking]"),
        "{annotations}"
    );
    assert_eq!(github.status.code(), Some(1));

    // Accepting the change rewrites the lock; then the gateway validates again.
    let update = run_in(d, &["validate", "--update-lock"]);
    assert_eq!(update.status.code(), Some(0), "{}", stderr(&update));
    assert!(
        stderr(&update).contains("gateway.lock.json: wrote 3 tool(s)"),
        "{}",
        stderr(&update)
    );
    assert_eq!(run_in(d, &["validate"]).status.code(), Some(0));

    // Tools removed and added, and a description edited: only the removal breaks callers.
    write(
        d,
        "gateway.yaml",
        "name: shop\nopenapi: openapi.yaml\ntools:\n  - operation: getItem\n  - operation: deleteItem\n    name: remove_item\n    description: Delete an item; this cannot be undone.\n  - operation: health\n",
    );
    let changed = run_in(d, &["validate"]);
    assert_eq!(
        drift_lines(&changed),
        [
            "error[drift]: tool `list_items`: removed [breaking]",
            "error[drift]: tool `remove_item`: description changed",
            "error[drift]: tool `health`: added",
            "gateway.yaml: differs from its lock file (3 changes, 1 breaking)",
        ]
    );

    // A lock file that is not JSON is an error that says how to fix it.
    write(d, "gateway.lock.json", "{");
    let broken = run_in(d, &["validate"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stderr(&broken).contains("error[lock]: the lock file is not JSON"),
        "{}",
        stderr(&broken)
    );
}
