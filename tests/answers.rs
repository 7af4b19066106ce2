//! Answers the way real specs describe them: nullability written as 3.0 `nullable` beside a
//! `$ref` to an enum (Twilio) or Swagger's `x-nullable` (Docker Engine), lists inside an `allOf`
//! "paging + items" answer, and validation errors that name the real cause.

use serde_json::{Value, json};

use crate::common::gateway::{is_error, serve, text, ts_client};
use crate::common::{compile, runtime, write};

const SPEC: &str = r#"openapi: 3.0.3
info: {title: answers, version: '1'}
servers: [{url: 'http://127.0.0.1:9'}]
paths:
  /calls/{sid}:
    get:
      operationId: getCall
      parameters: [{name: sid, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: a call
          content:
            application/json:
              schema:
                type: object
                properties:
                  sid: {type: string}
                  status: {type: string, $ref: '#/components/schemas/call_status', nullable: true}
                  parent: {$ref: '#/components/schemas/parent', x-nullable: true}
  /pages:
    get:
      operationId: listPages
      responses:
        '200':
          description: a page of items
          content:
            application/json:
              schema:
                allOf:
                  - $ref: '#/components/schemas/paging'
                  - type: object
                    properties:
                      items: {type: array, items: {type: object, properties: {id: {type: integer}, name: {type: string}}}}
  /things:
    post:
      operationId: addThing
      requestBody:
        required: true
        content:
          application/json:
            schema:
              allOf:
                - type: object
                  required: [attributes]
                  properties:
                    attributes:
                      type: object
                      properties:
                        parent: {type: object, required: [id], properties: {id: {type: string}}}
                        colour: {type: string, enum: [red, orange, yellow, green, blue, indigo, violet, black, white, grey, pink, brown]}
      responses: {'201': {description: created}}
components:
  schemas:
    call_status: {type: string, enum: [queued, ringing, completed]}
    parent: {type: object, properties: {id: {type: string}}}
    paging: {type: object, properties: {next: {type: string, nullable: true}}}
"#;

#[test]
fn null_where_the_spec_says_nullable_validates_and_lists_are_found_through_all_of() {
    let rt = runtime();
    let up = rt.block_on(crate::common::upstream::start());
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openapi.yaml", SPEC);
    let m = write(
        dir.path(),
        "gateway.yaml",
        "name: answers\nopenapi: openapi.yaml\nupstream: {base_url: '${ANSWERS_URL}'}\ntools:\n  - operation: getCall\n  - operation: listPages\n    response: {list: /items, select: [/id], max_items: 1}\n  - operation: addThing\n",
    );
    let compiled = compile(&m).result.unwrap();
    let pages = compiled.gateway.tool("list_pages").unwrap();
    let schema = Value::Object(pages.output_schema.as_deref().unwrap().clone());
    assert_eq!(
        schema["properties"]["items"]["items"]["properties"],
        json!({"id": {"type": "integer"}}),
        "the list inside the allOf is projected: {schema}"
    );
    // The test upstream answers unknown paths with `{"path": …}`; this tool's answer is checked
    // against the real shapes through the validator directly.
    let call = compiled.gateway.tool("get_call").unwrap();
    let validator = call.output_validator.as_ref().unwrap();
    for answer in [
        json!({"sid": "CA1", "status": null, "parent": null}),
        json!({"sid": "CA1", "status": "queued", "parent": {"id": "x"}}),
    ] {
        assert!(
            validator.is_valid(&answer),
            "{answer} is what the spec allows"
        );
    }
    assert!(!validator.is_valid(&json!({"status": "lost"})));

    let gw = serve(&m, &[], &[("ANSWERS_URL", &up.url())]);
    let steps = json!([
        {"op": "call", "name": "add_thing", "arguments": {"attributes": {"parent": {}, "colour": "teal"}}},
    ]);
    let r = ts_client(&["http", &gw.url], &steps, &[]);
    assert!(is_error(&r[1]));
    assert_eq!(
        text(&r[1]),
        "Invalid arguments for tool `add_thing`:\n\
         - missing required property `attributes.parent.id`\n\
         - argument `attributes.colour`: \"teal\" is not one of the allowed values: \"red\", \"orange\", \"yellow\", \"green\", \"blue\", \"indigo\", \"violet\", \"black\", \"white\", \"grey\" (and 2 more)\n\
         Nothing was sent to the API; fix the arguments and call again."
    );
    assert!(up.requests().is_empty(), "nothing was sent");
}

const BRANCHES: &str = r#"openapi: 3.0.3
info: {title: branches, version: '1'}
servers: [{url: 'http://127.0.0.1:9'}]
paths:
  /search:
    get:
      operationId: search
      responses:
        '200':
          description: results, or null when the index is rebuilding
          content:
            application/json:
              schema:
                type: object
                properties:
                  results:
                    nullable: true
                    allOf:
                      - $ref: '#/components/schemas/paging'
                      - type: object
                        properties:
                          items: {type: array, items: {$ref: '#/components/schemas/thing'}}
  /feed:
    get:
      operationId: feed
      responses:
        '200':
          description: one of two page formats, both with `data`
          content:
            application/json:
              schema:
                oneOf:
                  - type: object
                    required: [data, cursor]
                    properties: {data: {type: array, items: {$ref: '#/components/schemas/thing'}}, cursor: {type: string}}
                  - type: object
                    required: [data, page]
                    properties: {data: {type: array, items: {$ref: '#/components/schemas/thing'}}, page: {type: integer}}
  /mixed:
    get:
      operationId: mixed
      responses:
        '200':
          description: a page, or an error object without `data`
          content:
            application/json:
              schema:
                anyOf:
                  - type: object
                    properties: {data: {type: array, items: {type: string}}}
                  - type: object
                    properties: {error: {type: string}}
components:
  schemas:
    paging: {type: object, properties: {next: {type: string, nullable: true}}}
    thing: {type: object, properties: {id: {type: integer}, name: {type: string}, blob: {type: string}}}
"#;

#[test]
fn lists_are_found_through_any_of_and_one_of_branches_that_agree() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "openapi.yaml", BRANCHES);
    let manifest = "name: branches\nopenapi: openapi.yaml\nupstream: {base_url: 'http://127.0.0.1:9'}\ntools:\n  - operation: search\n    response: {list: /results/items, select: [/id, /name], max_items: 2}\n  - operation: feed\n    response: {list: /data, select: [/id]}\n";
    let m = write(dir.path(), "gateway.yaml", manifest);
    let compiled = compile(&m).result.unwrap_or_else(|d| panic!("{d:?}"));

    // A 3.0 `nullable` paging object is `anyOf: [page, null]`: the list is in the page branch,
    // projected there; `null` still validates.
    let search = compiled.gateway.tool("search").unwrap();
    let v = search.output_validator.as_ref().unwrap();
    for ok in [
        json!({"results": {"next": null, "items": [{"id": 1, "name": "a"}]}}),
        json!({"results": null}),
    ] {
        assert!(v.is_valid(&ok), "{ok} is a shaped answer");
    }
    let schema = Value::Object(search.output_schema.as_deref().unwrap().clone());
    let page = schema["properties"]["results"]["anyOf"]
        .as_array()
        .and_then(|b| b.iter().find(|b| b["type"] != "null"))
        .unwrap_or_else(|| panic!("the nullable page is `anyOf`: {schema}"));
    assert_eq!(
        page["properties"]["items"]["items"]["properties"],
        json!({"id": {"type": "integer"}, "name": {"type": "string"}}),
        "`blob` is dropped by `select` in the page branch: {schema}"
    );

    // Both `oneOf` branches have `data`: each branch's items are projected. (An answer that is
    // not one plain object is served wrapped, as `result`.)
    let feed = compiled.gateway.tool("feed").unwrap();
    let schema = Value::Object(feed.output_schema.as_deref().unwrap().clone());
    let branches = schema["properties"]["result"]["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("the branches stay: {schema}"));
    assert_eq!(branches.len(), 2);
    for b in branches {
        assert_eq!(
            b["properties"]["data"]["items"]["properties"],
            json!({"id": {"type": "integer"}}),
            "{schema}"
        );
    }

    // Branches that disagree (one has no `data`) are not a list.
    let m = write(
        dir.path(),
        "gateway.yaml",
        &manifest.replace("operation: feed", "operation: mixed"),
    );
    let Err(d) = compile(&m).result else {
        panic!("branches that disagree were accepted as a list");
    };
    let rendered = format!("{d:?}");
    assert!(rendered.contains("not-a-list"), "{rendered}");
}
