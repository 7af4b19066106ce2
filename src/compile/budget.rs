//! Budgets: how much of an agent's context a gateway's definitions may take, and output schemas
//! compacted to fit.
//!
//! Every definition `tools/list` (and `prompts/list`, `resources/list`) returns is read by the
//! model on every turn, so size is measured on exactly what is served
//! ([`crate::gateway::definition`]) and estimated in tokens as bytes / 4 (English prose and JSON
//! punctuation both come close to four bytes per token).
//!
//! The default budgets come from measuring definitions as served (`inspect --summary`, and the
//! size report of `tests/corpus.rs` over ≈2,600 real specs; figures in the README):
//! - **2,000 tokens per tool** (8 KB). A curated tool with a clear description, a handful of
//!   arguments and a typed answer fits with room to spare: the shipped Petstore tools are
//!   96–430 tokens, the GitHub ones 140–1,300 with GitHub's own (compacted) output schemas.
//!   What lies beyond is almost always an uncurated `outputSchema` (Spotify's `search`: 44 KB
//!   of its 45 KB), which compaction brings under the line while keeping the answer typed: the
//!   eight Spotify tools of `tests/fixtures/spotify` go from 657–11,387 tokens each to 657–1,867.
//!   Over the 127,767 operations of the corpus, as written: median 577 tokens, p75 1,456, p90
//!   4,743, 80 % within 2,000; compacted to this budget: median 558, p90 1,890, 94 % within.
//! - **12,000 tokens per gateway** (48 KB): 6 % of a 200k-token context, enough for the 5–15
//!   tools a curated gateway offers at 800–2,000 tokens each plus its prompts and resources (the
//!   shipped examples: 1,700–8,700 tokens; the eight Spotify tools, compacted: 11,100).

use std::sync::Arc;

use serde_json::Value;

use super::{compact, loosen};
use crate::diag::Diagnostic;
use crate::gateway::{Catalog, Tool};
use crate::manifest::{BudgetConfig, OutputSchemaConfig};

/// Default largest tool definition, in estimated tokens (see the module docs for why).
pub const DEFAULT_TOOL_TOKENS: usize = 2_000;
/// Default size of all definitions of a gateway together, in estimated tokens.
pub const DEFAULT_GATEWAY_TOKENS: usize = 12_000;
/// Bytes per estimated token.
pub const BYTES_PER_TOKEN: usize = 4;
/// The smallest share of a tool's budget an output schema is compacted to, even when the rest
/// of the definition already fills the budget: below a quarter a schema says too little.
const OUTPUT_FLOOR_DIVISOR: usize = 4;

/// Estimated tokens of `bytes` of definition JSON.
pub fn approx_tokens(bytes: usize) -> usize {
    bytes.div_ceil(BYTES_PER_TOKEN)
}

/// The budgets in force for one gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Largest tool definition, in estimated tokens.
    pub tool_tokens: usize,
    /// All definitions together, in estimated tokens.
    pub gateway_tokens: usize,
    /// Depth below which input-schema descriptions are dropped (`None`: keep all).
    pub input_description_depth: Option<usize>,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            tool_tokens: DEFAULT_TOOL_TOKENS,
            gateway_tokens: DEFAULT_GATEWAY_TOKENS,
            input_description_depth: None,
        }
    }
}

impl Budget {
    /// The budget a manifest sets, defaults filled in.
    pub fn of(cfg: &BudgetConfig) -> Self {
        let tokens = |v: Option<u64>, d: usize| v.map_or(d, |v| usize::try_from(v).unwrap_or(d));
        Self {
            tool_tokens: tokens(cfg.tool_tokens, DEFAULT_TOOL_TOKENS),
            gateway_tokens: tokens(cfg.gateway_tokens, DEFAULT_GATEWAY_TOKENS),
            input_description_depth: cfg.input_description_depth.map(|d| d as usize),
        }
    }
}

/// Bytes of `v` as compact JSON, the way definitions travel.
pub fn json_bytes<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

/// Bytes of a tool's definition as `tools/list` serves it.
pub fn tool_bytes(t: &Tool) -> usize {
    json_bytes(&crate::gateway::definition(t))
}

/// Compacts `schema` (an output schema) to at most `max_bytes`, and deeper than `max_depth`
/// when given, loosening only. Public for the corpus test that checks the "only loosens" claim.
pub fn compact_output_schema(schema: &Value, max_depth: Option<usize>, max_bytes: usize) -> Value {
    compact::compact(
        schema,
        compact::Limits {
            max_depth,
            max_bytes,
        },
    )
}

/// `Ok` when every instance valid under `original` is valid under `compacted` (see
/// `compile::loosen` for the rules).
pub fn only_loosens(compacted: &Value, original: &Value) -> Result<(), String> {
    loosen::check(compacted, original)
}

/// Drops input-schema descriptions below `budget.input_description_depth`, if set. Descriptions
/// are annotations: what the input validator accepts does not change.
pub(crate) fn trim_input(tool: &mut Tool, budget: Budget) {
    let Some(keep) = budget.input_description_depth else {
        return;
    };
    let mut schema = Value::Object((*tool.input_schema).clone());
    compact::trim_prose(&mut schema, keep);
    if let Value::Object(o) = schema {
        tool.input_schema = Arc::new(o);
    }
}

/// Compacts a built tool's declared output schema to fit its budget (or the manifest's explicit
/// limits). The upstream answer is still validated against the full schema; only what the agent
/// reads gets smaller. A compaction the loosening check cannot prove is not applied.
pub fn fit_output(tool: &mut Tool, cfg: Option<&OutputSchemaConfig>, budget: Budget) {
    let Some(schema) = tool.output_schema.clone() else {
        return;
    };
    let original = Value::Object((*schema).clone());
    let limits = cfg.map(OutputSchemaConfig::limits).unwrap_or_default();
    let budget_bytes = budget.tool_tokens.saturating_mul(BYTES_PER_TOKEN);
    let max_bytes = match limits.max_bytes {
        Some(b) => usize::try_from(b).unwrap_or(usize::MAX),
        None => {
            let rest = tool_bytes(tool).saturating_sub(compact::size(&original));
            budget_bytes
                .saturating_sub(rest)
                .max(budget_bytes / OUTPUT_FLOOR_DIVISOR)
        }
    };
    let max_depth = limits.max_depth.map(|d| d as usize);
    let compacted = compact_output_schema(&original, max_depth, max_bytes);
    if compacted != original
        && only_loosens(&compacted, &original).is_ok()
        && let Value::Object(o) = compacted
    {
        tool.output_schema = Some(Arc::new(o));
    }
}

/// One definition's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Size {
    /// `tool`, `prompt`, `resource` or `resource template`.
    pub kind: &'static str,
    /// Its name (a resource's URI or template).
    pub name: String,
    /// Bytes of its JSON definition.
    pub bytes: usize,
}

/// Every definition of a compiled gateway with its size, in list order: tools, prompts,
/// resources, resource templates.
pub fn sizes(tools: &[Tool], catalog: &Catalog) -> Vec<Size> {
    use crate::gateway::{prompt_definition, resource_definition, template_definition};
    let mut out: Vec<Size> = tools
        .iter()
        .map(|t| Size {
            kind: "tool",
            name: t.name.clone(),
            bytes: tool_bytes(t),
        })
        .collect();
    out.extend(catalog.prompts.iter().map(|p| Size {
        kind: "prompt",
        name: p.name.clone(),
        bytes: json_bytes(&prompt_definition(p)),
    }));
    out.extend(catalog.resources.iter().map(|r| Size {
        kind: "resource",
        name: r.uri.clone(),
        bytes: json_bytes(&resource_definition(r)),
    }));
    out.extend(catalog.templates.iter().map(|t| Size {
        kind: "resource template",
        name: t.template.as_str().to_string(),
        bytes: json_bytes(&template_definition(t)),
    }));
    out
}

/// [`check`], each warning located in the manifest: a tool at its `name:` (or `operation:`, or
/// the `select:` that brought it in), the whole gateway at `budget.gateway_tokens` or `tools:`.
pub(crate) fn check_located(
    loaded: &crate::manifest::LoadedManifest,
    tools: &[Tool],
    catalog: &Catalog,
    budget: Budget,
    origin: &std::collections::HashMap<String, usize>,
) -> Vec<Diagnostic> {
    let m = &loaded.manifest;
    check(tools, catalog, budget, |tool, d| {
        match tool.and_then(|n| origin.get(n)).map(|&i| (i, &m.tools[i])) {
            Some((i, cfg)) if cfg.name.is_some() => loaded.diag_at(d, &format!("/tools/{i}/name")),
            Some((i, cfg)) if cfg.select.is_some() => {
                loaded.diag_at_key(d, &format!("/tools/{i}/select"))
            }
            Some((i, _)) => loaded.diag_at(d, &format!("/tools/{i}/operation")),
            None if m.budget.gateway_tokens.is_some() => {
                loaded.diag_at(d, "/budget/gateway_tokens")
            }
            None => loaded.diag_at_key(d, "/tools"),
        }
    })
}

/// `over-budget` warnings: each tool over the per-tool budget, located by `locate` (its manifest
/// entry), naming the parts that dominate it; and the gateway as a whole.
fn check(
    tools: &[Tool],
    catalog: &Catalog,
    budget: Budget,
    mut locate: impl FnMut(Option<&str>, Diagnostic) -> Diagnostic,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for t in tools {
        let bytes = tool_bytes(t);
        if approx_tokens(bytes) > budget.tool_tokens {
            out.push(locate(Some(&t.name), over_budget_tool(t, bytes, budget)));
        }
    }
    let mut all = sizes(tools, catalog);
    let total: usize = all.iter().map(|s| s.bytes).sum();
    if approx_tokens(total) > budget.gateway_tokens {
        all.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
        let largest: Vec<String> = all
            .iter()
            .take(3)
            .map(|s| format!("{} `{}` ~{} tokens", s.kind, s.name, approx_tokens(s.bytes)))
            .collect();
        out.push(locate(
            None,
            Diagnostic::warning(
                "over-budget",
                format!(
                    "the definitions cost ~{} tokens together, over the gateway budget of {}; largest: {}",
                    approx_tokens(total),
                    budget.gateway_tokens,
                    largest.join(", ")
                ),
            )
            .with_hint("offer fewer tools (agents choose best among 5–15), shrink the largest, or raise `budget.gateway_tokens`"),
        ));
    }
    out
}

/// What a tool's definition is made of, largest first: its output schema, its description and
/// each argument.
fn parts(t: &Tool) -> Vec<(String, usize, Option<usize>)> {
    let mut parts = vec![("description".to_string(), json_bytes(&t.description), None)];
    if let Some(o) = &t.output_schema {
        parts.push(("outputSchema".to_string(), json_bytes(o), None));
    }
    if let Some(Value::Object(props)) = t.input_schema.get("properties") {
        for (name, s) in props {
            let enum_len = s.get("enum").and_then(Value::as_array).map(Vec::len);
            parts.push((format!("argument `{name}`"), json_bytes(s), enum_len));
        }
    }
    parts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    parts
}

fn kb(bytes: usize) -> String {
    if bytes < 1000 {
        format!("{bytes} B")
    } else {
        format!("{:.1} KB", bytes as f64 / 1000.0)
    }
}

fn over_budget_tool(t: &Tool, bytes: usize, budget: Budget) -> Diagnostic {
    let parts = parts(t);
    let big: Vec<String> = parts
        .iter()
        .filter(|p| p.1 * 10 >= bytes)
        .take(3)
        .map(|(what, b, enum_len)| match enum_len {
            Some(n) if *n > 10 => format!("{what} {} (enum of {n} values)", kb(*b)),
            _ => format!("{what} {}", kb(*b)),
        })
        .collect();
    let hint = match parts.first().map(|p| p.0.as_str()) {
        Some("outputSchema") => {
            "keep the fields the agent needs with `response.select`, or set `output_schema: {max_depth: 1}` (`false` drops typed results)"
        }
        Some("description") => {
            "shorten `description:` to what the tool does, when to use it and what it returns"
        }
        _ => {
            "hide arguments the agent does not need (`hide: true` or `fixed:`), or give them shorter `description:`s"
        }
    };
    Diagnostic::warning(
        "over-budget",
        format!(
            "`{}` costs ~{} tokens ({}), over the budget of {} per tool; most of it: {}",
            t.name,
            approx_tokens(bytes),
            kb(bytes),
            budget.tool_tokens,
            big.join(", ")
        ),
    )
    .with_hint(format!("{hint}; or raise `budget.tool_tokens`"))
}
