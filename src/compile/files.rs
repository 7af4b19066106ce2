//! `upstream.fetch_*` and `max_inline_bytes` → [`Files`], and what a tool's input schema tells
//! the model a file argument may hold.

use std::sync::Arc;

use serde_json::{Value, json};

use super::auth::Cx;
use crate::diag::Diagnostic;
use crate::gateway::files::{Files, HostPattern, file_arguments};
use crate::gateway::{Tool, Upstream};

fn size(v: Option<u64>, default: usize) -> usize {
    v.map(|b| usize::try_from(b).unwrap_or(usize::MAX))
        .unwrap_or(default)
}

/// The upstream's file settings, with a diagnostic for each bad host pattern or CA file.
pub(super) fn files(cx: &Cx<'_>, diags: &mut Vec<Diagnostic>) -> Files {
    let u = &cx.loaded.manifest.upstream;
    let d = Files::default();
    let mut fetch_allow = Vec::new();
    for (i, entry) in u.fetch_allow.iter().enumerate() {
        match HostPattern::parse(entry) {
            Some(p) => fetch_allow.push(p),
            None => diags.push(cx.loaded.diag_at(
                Diagnostic::error(
                    "fetch-allow",
                    format!("`{entry}` is not a host pattern"),
                )
                .with_hint("write a host name or address, optionally with a port or a leading `*.`: `files.example.com`, `*.example.com`, `10.0.0.5:8443`"),
                &format!("/upstream/fetch_allow/{i}"),
            )),
        }
    }
    let fetch_ca =
        u.fetch_ca_certificate.as_ref().and_then(|rel| {
            let read = std::fs::read(cx.loaded.dir.join(rel))
                .map_err(|e| format!("`{rel}` cannot be read: {e}"))
                .and_then(|pem| match reqwest::Certificate::from_pem_bundle(&pem) {
                    Ok(c) if !c.is_empty() => Ok(pem),
                    Ok(_) => Err(format!("`{rel}` holds no certificate")),
                    Err(e) => Err(format!("`{rel}` is not a PEM certificate bundle: {e}")),
                });
            read.map_err(|e| {
                diags.push(cx.loaded.diag_at(
                    Diagnostic::error("ca-certificate", e).with_hint(
                        "a path relative to the manifest, to a PEM file of CA certificates",
                    ),
                    "/upstream/fetch_ca_certificate",
                ))
            })
            .ok()
        });
    Files {
        fetch_allow,
        fetch_max_bytes: size(u.fetch_max_bytes, d.fetch_max_bytes),
        fetch_ca,
        max_inline_bytes: size(u.max_inline_bytes, d.max_inline_bytes),
    }
}

/// Tells the model, in the description of each file argument of `tool` in `schema` (its input
/// schema, or the 2026-07-28 one), what it may pass.
fn describe(tool: &Tool, schema: &mut serde_json::Map<String, Value>, files: &Files) {
    let names = file_arguments(tool);
    if names.is_empty() {
        return;
    }
    let urls = if files.fetch_allow.is_empty() {
        String::new()
    } else {
        let hosts: Vec<String> = files.fetch_allow.iter().map(|p| p.to_string()).collect();
        format!(
            ", or an https:// URL on {} (at most {} bytes) that the gateway fetches",
            hosts.join(", "),
            files.fetch_max_bytes
        )
    };
    let sentence = format!(
        "The file: base64 data, or the URI of a resource of this server (such as a resource_link another tool returned){urls}."
    );
    let Some(Value::Object(props)) = schema.get_mut("properties") else {
        return;
    };
    for n in names {
        if let Some(Value::Object(p)) = props.get_mut(n) {
            let text = match p.get("description").and_then(Value::as_str) {
                Some(d) if !d.is_empty() => format!("{d}\n\n{sentence}"),
                _ => sentence.clone(),
            };
            p.insert("description".into(), json!(text));
        }
    }
}

/// [`describe`] on `tool`'s input schema, or (`modern`) on its 2026-07-28 one, once the
/// upstream is known.
pub(super) fn describe_input(tool: &mut Tool, upstream: Option<&Upstream>, modern: bool) {
    let Some(u) = upstream else { return };
    let slot = if modern {
        match &tool.input_schema_2026 {
            Some(s) => s.clone(),
            None => return,
        }
    } else {
        tool.input_schema.clone()
    };
    let mut schema = Arc::unwrap_or_clone(slot);
    describe(tool, &mut schema, &u.files);
    if modern {
        tool.input_schema_2026 = Some(Arc::new(schema));
    } else {
        tool.input_schema = Arc::new(schema);
    }
}
