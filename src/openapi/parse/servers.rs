//! The servers a document names: OpenAPI 3's `servers` (with their variables) and Swagger
//! 2.0's `host`, `basePath` and `schemes`, as one list.

use serde_json::Value;

use super::scalar_text;
use crate::openapi::{Server, ServerVariable};

pub(super) fn servers(list: Option<&Value>) -> Vec<Server> {
    let Some(list) = list.and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|s| {
            let url = s.get("url")?.as_str()?.to_string();
            let variables = s
                .get("variables")
                .and_then(Value::as_object)
                .map(|vars| {
                    vars.iter()
                        .map(|(name, v)| ServerVariable {
                            name: name.clone(),
                            default: v.get("default").map(scalar_text).unwrap_or_default(),
                            allowed: v
                                .get("enum")
                                .and_then(Value::as_array)
                                .map(|a| a.iter().map(scalar_text).collect())
                                .unwrap_or_default(),
                            description: v
                                .get("description")
                                .and_then(Value::as_str)
                                .map(str::to_string),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(Server {
                url,
                description: s
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                variables,
            })
        })
        .collect()
}

pub(super) fn swagger_servers(root: &Value) -> Vec<Server> {
    let base_path = root.get("basePath").and_then(Value::as_str).unwrap_or("");
    let host = root.get("host").and_then(Value::as_str);
    let schemes: Vec<&str> = root
        .get("schemes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let scheme = if schemes.contains(&"https") || schemes.is_empty() {
        "https"
    } else {
        schemes[0]
    };
    let url = match host {
        Some(h) => format!("{scheme}://{h}{base_path}"),
        None => if base_path.is_empty() { "/" } else { base_path }.to_string(),
    };
    vec![Server {
        url,
        description: None,
        variables: Vec::new(),
    }]
}
