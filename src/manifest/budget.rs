//! The manifest's size controls: `budget:` (how many tokens of definitions a gateway may cost an
//! agent) and a tool's `output_schema:` (declared, off, or compacted to explicit limits).

use schemars::JsonSchema;
use serde::Deserialize;

/// How much of an agent's context the gateway's definitions may take. Every definition is sent
/// to the model on every turn, so `validate` warns (`over-budget`) past these limits, and output
/// schemas are compacted to fit the per-tool budget. Tokens are estimated as bytes / 4 of the
/// definition as `tools/list` serves it.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// Largest tool definition, in estimated tokens. Default 2,000.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub tool_tokens: Option<u64>,
    /// All definitions together (tools, prompts, resources, resource templates), in estimated
    /// tokens. Default 12,000.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub gateway_tokens: Option<u64>,
    /// Keep descriptions in input schemas only down to this depth (1: each argument's own;
    /// 2: also the fields of an object argument) and drop deeper ones. Input schemas are never
    /// loosened otherwise: they guard the upstream. Default: every description kept.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub input_description_depth: Option<u32>,
}

/// Whether and how a tool declares an `outputSchema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OutputSchemaConfig {
    /// `true`: declare it, compacted to fit the tool's budget (the default); `false`: no
    /// `outputSchema` and no structured content, the JSON answer is text only.
    Enabled(bool),
    /// Declare it, compacted to these limits instead of the budget's.
    Limits(OutputSchemaLimits),
}

/// Explicit limits for a compacted output schema. Compaction only loosens: every answer valid
/// under the spec's schema stays valid under the declared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputSchemaLimits {
    /// Nesting depth described (1: the answer's own fields, each with its type; 2: their
    /// fields too); deeper parts become `{"type": …}` or `{}`.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_depth: Option<u32>,
    /// Largest declared schema in bytes of JSON; examples, then deep descriptions, then deep
    /// subtrees are dropped until it fits. Default: what the tool's budget leaves.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_bytes: Option<u64>,
}

impl OutputSchemaConfig {
    /// Whether an output schema is declared at all.
    pub fn enabled(&self) -> bool {
        !matches!(self, Self::Enabled(false))
    }

    /// Explicit limits, if the manifest gives any.
    pub fn limits(&self) -> OutputSchemaLimits {
        match self {
            Self::Limits(l) => *l,
            Self::Enabled(_) => OutputSchemaLimits::default(),
        }
    }
}
