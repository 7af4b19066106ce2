//! The lock file: a committed snapshot of exactly what an agent sees of a gateway, and the
//! drift between it and what the gateway would serve now.
//!
//! `mcp-gateway lock` writes `gateway.lock.json` beside `gateway.yaml` (for `x.yaml`,
//! `x.lock.json`): the server's identity and instructions, then every tool, prompt, resource and
//! resource template as the list methods serve them, sorted, each with its size. `validate`
//! compares against it, so an upstream spec that changes under a gateway (a spec fetched by URL,
//! a bumped file) cannot silently change the tools: each difference is an error that says what
//! changed for the agent and whether a caller written against the lock would break.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::compile::budget::{approx_tokens, json_bytes};
use crate::diag::{Diagnostic, Span};
use crate::gateway::{
    Gateway, PathPart, definition, prompt_definition, resource_definition, template_definition,
};

/// Version of the lock file's layout.
pub const FORMAT: u64 = 1;

/// The lock file of the manifest at `manifest`: `gateway.yaml` → `gateway.lock.json`.
pub fn path_for(manifest: &Path) -> PathBuf {
    let stem = manifest
        .file_stem()
        .map_or_else(|| "gateway".into(), |s| s.to_string_lossy().into_owned());
    manifest.with_file_name(format!("{stem}.lock.json"))
}

/// What an agent sees of `g`, as the lock file records it.
pub fn document(g: &Gateway) -> Value {
    let entry = |key: &str, name: &str, def: Value, extra: Option<(&str, String)>| {
        let bytes = json_bytes(&def);
        let mut e = serde_json::Map::new();
        e.insert(key.into(), json!(name));
        if let Some((k, v)) = extra {
            e.insert(k.into(), json!(v));
        }
        e.insert("bytes".into(), json!(bytes));
        e.insert("approx_tokens".into(), json!(approx_tokens(bytes)));
        e.insert("definition".into(), def);
        (name.to_string(), Value::Object(e))
    };
    let sorted = |v: Vec<(String, Value)>| {
        let m: BTreeMap<String, Value> = v.into_iter().collect();
        Value::Array(m.into_values().collect())
    };
    let to_value = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    let tools = sorted(
        g.tools
            .iter()
            .map(|t| {
                let path: String = t
                    .plan
                    .path
                    .iter()
                    .map(|p| match p {
                        PathPart::Literal(s) => s.clone(),
                        PathPart::Param(s) => format!("{{{s}}}"),
                    })
                    .collect();
                entry(
                    "name",
                    &t.name,
                    to_value(serde_json::to_value(definition(t))),
                    Some(("operation", format!("{} {path}", t.plan.method))),
                )
            })
            .collect(),
    );
    let c = &g.catalog;
    let prompts = sorted(
        c.prompts
            .iter()
            .map(|p| {
                entry(
                    "name",
                    &p.name,
                    to_value(serde_json::to_value(prompt_definition(p))),
                    None,
                )
            })
            .collect(),
    );
    let resources = sorted(
        c.resources
            .iter()
            .map(|r| {
                entry(
                    "uri",
                    &r.uri,
                    to_value(serde_json::to_value(resource_definition(r))),
                    None,
                )
            })
            .collect(),
    );
    let templates = sorted(
        c.templates
            .iter()
            .map(|t| {
                entry(
                    "uriTemplate",
                    t.template.as_str(),
                    to_value(serde_json::to_value(template_definition(t))),
                    None,
                )
            })
            .collect(),
    );
    let total: u64 = [&tools, &prompts, &resources, &templates]
        .iter()
        .filter_map(|v| v.as_array())
        .flatten()
        .filter_map(|e| e["bytes"].as_u64())
        .sum();
    json!({
        "format": FORMAT,
        "server": {"name": g.name, "version": g.version, "title": g.title, "instructions": g.instructions},
        "total": {"bytes": total, "approx_tokens": approx_tokens(usize::try_from(total).unwrap_or(usize::MAX))},
        "tools": tools,
        "prompts": prompts,
        "resources": resources,
        "resourceTemplates": templates,
    })
}

/// The lock file's text: pretty JSON, one trailing newline, stable for review in diffs.
pub fn render(doc: &Value) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
    s.push('\n');
    s
}

/// One difference between the lock file and what would be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What changed: `tool `get_pet``, `prompt `adopt``, `server`.
    pub subject: String,
    /// How, for a reader: `argument `pet_id` became required`.
    pub what: String,
    /// Whether a caller written against the lock file may now fail.
    pub breaking: bool,
    /// The name to find in the lock file for a location (the old entry's, if any).
    pub anchor: Option<String>,
}

fn change(subject: &str, what: impl Into<String>, breaking: bool, anchor: Option<&str>) -> Change {
    Change {
        subject: subject.to_string(),
        what: what.into(),
        breaking,
        anchor: anchor.map(str::to_string),
    }
}

/// Every difference from `old` (the lock file) to `new` (what would be served now).
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    for (key, label) in [
        ("name", "server name"),
        ("version", "version"),
        ("title", "title"),
        ("instructions", "instructions"),
    ] {
        let (o, n) = (&old["server"][key], &new["server"][key]);
        if o != n {
            let what = match key {
                "instructions" => "instructions changed".to_string(),
                _ => format!("{label} {} → {}", short(o), short(n)),
            };
            out.push(change("server", what, key == "name", None));
        }
    }
    diff_tools(
        &entries(old, "tools", "name"),
        &entries(new, "tools", "name"),
        &mut out,
    );
    for (list, key, kind) in [
        ("prompts", "name", "prompt"),
        ("resources", "uri", "resource"),
        ("resourceTemplates", "uriTemplate", "resource template"),
    ] {
        let (o, n) = (entries(old, list, key), entries(new, list, key));
        for (name, oe) in &o {
            let subject = format!("{kind} `{name}`");
            match n.get(name) {
                None => out.push(change(&subject, "removed", true, Some(name))),
                Some(ne) if ne["definition"] != oe["definition"] => {
                    let breaking =
                        kind == "prompt" && prompt_breaks(&oe["definition"], &ne["definition"]);
                    out.push(change(&subject, "definition changed", breaking, Some(name)));
                }
                Some(_) => {}
            }
        }
        for name in n.keys().filter(|k| !o.contains_key(*k)) {
            out.push(change(&format!("{kind} `{name}`"), "added", false, None));
        }
    }
    out
}

fn short(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) => format!("`{s}`"),
        other => other.to_string(),
    }
}

fn entries(doc: &Value, list: &str, key: &str) -> BTreeMap<String, Value> {
    doc[list]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| Some((e[key].as_str()?.to_string(), e.clone())))
                .collect()
        })
        .unwrap_or_default()
}

fn diff_tools(old: &BTreeMap<String, Value>, new: &BTreeMap<String, Value>, out: &mut Vec<Change>) {
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let mut added: Vec<&String> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    for name in old.keys() {
        let subject = format!("tool `{name}`");
        let renamed_to = if removed.contains(&name) {
            // The same operation under another name is a rename, not a removal and an addition.
            let op = &old[name]["operation"];
            let to = added
                .iter()
                .position(|a| !op.is_null() && &new[*a]["operation"] == op);
            to.map(|i| added.remove(i))
        } else {
            Some(name)
        };
        match renamed_to {
            None => out.push(change(&subject, "removed", true, Some(name))),
            Some(to) => {
                if to != name {
                    out.push(change(
                        &subject,
                        format!("renamed to `{to}`"),
                        true,
                        Some(name),
                    ));
                }
                let (o, n) = (&old[name]["definition"], &new[to]["definition"]);
                let subject = format!("tool `{to}`");
                diff_tool(&subject, name, o, n, out);
            }
        }
    }
    for name in added {
        out.push(change(&format!("tool `{name}`"), "added", false, None));
    }
}

fn diff_tool(subject: &str, anchor: &str, o: &Value, n: &Value, out: &mut Vec<Change>) {
    let mut push =
        |what: String, breaking: bool| out.push(change(subject, what, breaking, Some(anchor)));
    if o["description"] != n["description"] {
        push("description changed".into(), false);
    }
    if o["title"] != n["title"] {
        push(
            format!("title {} → {}", short(&o["title"]), short(&n["title"])),
            false,
        );
    }
    if o["annotations"] != n["annotations"] {
        let mut hints = Vec::new();
        for h in [
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
            "openWorldHint",
            "title",
        ] {
            let (a, b) = (&o["annotations"][h], &n["annotations"][h]);
            if a != b {
                hints.push(format!("{h} {} → {}", short(a), short(b)));
            }
        }
        push(format!("annotations changed: {}", hints.join(", ")), false);
    }
    // Arguments.
    let (oi, ni) = (&o["inputSchema"], &n["inputSchema"]);
    let required = |s: &Value, k: &str| {
        s["required"]
            .as_array()
            .is_some_and(|r| r.iter().any(|v| v == k))
    };
    let props = |s: &Value| s["properties"].as_object().cloned().unwrap_or_default();
    let (op, np) = (props(oi), props(ni));
    for (arg, os) in &op {
        match np.get(arg) {
            None => push(format!("argument `{arg}` removed"), true),
            Some(ns) => {
                match (required(oi, arg), required(ni, arg)) {
                    (false, true) => push(format!("argument `{arg}` became required"), true),
                    (true, false) => push(format!("argument `{arg}` became optional"), false),
                    _ => {}
                }
                diff_schema(&format!("argument `{arg}`"), os, ns, true, &mut push);
            }
        }
    }
    for arg in np.keys().filter(|a| !op.contains_key(*a)) {
        let req = required(ni, arg);
        let kind = if req {
            "required argument"
        } else {
            "optional argument"
        };
        push(format!("{kind} `{arg}` added"), req);
    }
    if op == np && oi != ni {
        push("input schema changed".into(), true);
    }
    // Output.
    let (oo, no) = (&o["outputSchema"], &n["outputSchema"]);
    match (oo.is_null(), no.is_null()) {
        (false, true) => push(
            "outputSchema removed: no more structured content".into(),
            true,
        ),
        (true, false) => push("outputSchema added".into(), false),
        (false, false) if oo != no && !diff_output("", oo, no, 0, &mut push) => {
            push("outputSchema changed".into(), false);
        }
        _ => {}
    }
}

/// Reports output fields removed, added or retyped, following objects and array items (`result[].price`)
/// a few levels down; returns whether it said anything.
fn diff_output(
    prefix: &str,
    o: &Value,
    n: &Value,
    depth: usize,
    push: &mut impl FnMut(String, bool),
) -> bool {
    if depth > 4 || o == n {
        return false;
    }
    if o["items"].is_object() && n["items"].is_object() {
        return diff_output(
            &format!("{prefix}[]"),
            &o["items"],
            &n["items"],
            depth + 1,
            push,
        );
    }
    let props = |s: &Value| s["properties"].as_object().cloned().unwrap_or_default();
    let (op, np) = (props(o), props(n));
    if op.is_empty() && np.is_empty() {
        return false;
    }
    let mut said = false;
    let sep = if prefix.is_empty() { "" } else { "." };
    for (field, os) in &op {
        let name = format!("{prefix}{sep}{field}");
        match np.get(field) {
            None => {
                push(format!("output field `{name}` removed"), true);
                said = true;
            }
            Some(ns) if ns != os => {
                said |= diff_output(&name, os, ns, depth + 1, push)
                    || diff_schema(&format!("output field `{name}`"), os, ns, false, push);
            }
            Some(_) => {}
        }
    }
    for field in np.keys().filter(|f| !op.contains_key(*f)) {
        push(format!("output field `{prefix}{sep}{field}` added"), false);
        said = true;
    }
    said
}

/// Reports a changed argument or output field schema; returns whether it said anything.
fn diff_schema(
    what: &str,
    o: &Value,
    n: &Value,
    input: bool,
    push: &mut impl FnMut(String, bool),
) -> bool {
    if o == n {
        return false;
    }
    if o["type"] != n["type"] {
        push(
            format!("{what}: type {} → {}", short(&o["type"]), short(&n["type"])),
            true,
        );
        return true;
    }
    if let (Some(oe), Some(ne)) = (o["enum"].as_array(), n["enum"].as_array()) {
        let gone: Vec<String> = oe
            .iter()
            .filter(|v| !ne.contains(v))
            .map(|v| v.to_string())
            .collect();
        let new: Vec<String> = ne
            .iter()
            .filter(|v| !oe.contains(v))
            .map(|v| v.to_string())
            .collect();
        if !gone.is_empty() {
            // A value the agent could send is refused; a value it could receive is no more.
            push(
                format!("{what}: values removed: {}", gone.join(", ")),
                input,
            );
        }
        if !new.is_empty() {
            // An answer may now carry a value a caller does not expect.
            push(format!("{what}: values added: {}", new.join(", ")), !input);
        }
        if !gone.is_empty() || !new.is_empty() {
            return true;
        }
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Value::Object(m) = &mut v {
            m.remove("description");
        }
        v
    };
    if strip(o) == strip(n) {
        push(format!("{what}: description changed"), false);
    } else {
        push(format!("{what}: schema changed"), input);
    }
    true
}

fn prompt_breaks(o: &Value, n: &Value) -> bool {
    let args = |v: &Value| -> Vec<(String, bool)> {
        v["arguments"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| {
                        Some((
                            x["name"].as_str()?.to_string(),
                            x["required"] == json!(true),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (oa, na) = (args(o), args(n));
    oa.iter()
        .any(|(name, _)| !na.iter().any(|(n, _)| n == name))
        || na
            .iter()
            .any(|(name, req)| *req && !oa.iter().any(|(o, r)| o == name && *r))
}

/// The changes as diagnostics (errors: the lock file is what was reviewed), located at the
/// lock file's entry of each changed definition.
pub fn diagnostics(lock: &Path, lock_text: &str, changes: &[Change]) -> Vec<Diagnostic> {
    changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let label = if c.breaking { " [breaking]" } else { "" };
            let mut d = Diagnostic::error("drift", format!("{}: {}{label}", c.subject, c.what)).in_file(lock);
            // Located at the entry in the lock file; there is no manifest path to show.
            d.span = c.anchor.as_deref().and_then(|a| line_of(lock_text, a));
            if i == 0 {
                d = d.with_hint(format!(
                    "the gateway no longer serves what `{}` records; if the change is intended, run `mcp-gateway validate --update-lock` and commit the lock file",
                    lock.display()
                ));
            }
            d
        })
        .collect()
}

/// Where an entry named `name` starts in the pretty-printed lock file.
fn line_of(text: &str, name: &str) -> Option<Span> {
    let needle = serde_json::to_string(name).ok()?;
    text.lines().enumerate().find_map(|(i, l)| {
        let t = l.trim_start();
        let is_key = ["\"name\": ", "\"uri\": ", "\"uriTemplate\": "]
            .iter()
            .any(|k| {
                t.strip_prefix(k)
                    .is_some_and(|rest| rest.trim_end_matches(',') == needle)
            });
        is_key.then(|| Span {
            line: i + 1,
            column: l.len() - t.len() + 1,
            len: t.trim_end_matches(',').chars().count(),
        })
    })
}
