//! The Prometheus text format: series grouped by family (the format requires a family's lines
//! to be contiguous, which matters when a folder of gateways each adds its own series).

use std::fmt::Write as _;

/// Collects series by family, then renders them with their `# HELP` and `# TYPE` lines.
#[derive(Debug, Default)]
pub struct Exposition {
    families: Vec<Family>,
}

#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    body: String,
}

/// A label value escaped for the text format (`\`, `"` and newlines).
pub fn escape(v: &str) -> std::borrow::Cow<'_, str> {
    if v.contains(['\\', '"', '\n']) {
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
            .into()
    } else {
        v.into()
    }
}

impl Exposition {
    /// The body of family `name` (created with `help` and `kind` on first use) to append
    /// series lines to.
    pub fn family(
        &mut self,
        name: &'static str,
        kind: &'static str,
        help: &'static str,
    ) -> &mut String {
        let i = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(Family {
                    name,
                    help,
                    kind,
                    body: String::new(),
                });
                self.families.len() - 1
            }
        };
        &mut self.families[i].body
    }

    /// One sample: `name{labels} value`.
    pub fn sample(
        &mut self,
        name: &'static str,
        kind: &'static str,
        help: &'static str,
        labels: &str,
        value: impl std::fmt::Display,
    ) {
        let body = self.family(name, kind, help);
        if labels.is_empty() {
            let _ = writeln!(body, "{name} {value}");
        } else {
            let _ = writeln!(body, "{name}{{{labels}}} {value}");
        }
    }

    /// The whole exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.families {
            let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
            out.push_str(&f.body);
        }
        out
    }
}
