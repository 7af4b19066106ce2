//! Diagnostics: every problem `compile` finds, with where (file, line, column, manifest path),
//! what, and how to fix it, and the three ways `validate` prints them.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The gateway cannot be served.
    Error,
    /// A curation smell; fatal only with `--deny-warnings`.
    Warning,
}

/// A line and column in a file, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Length in characters of the thing pointed at (at least 1), for the caret underline.
    #[serde(skip)]
    pub len: usize,
}

/// One problem found while loading or compiling a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable short code, e.g. `unknown-operation`.
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The file it is in (the manifest, usually).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Line and column in `file`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    /// Where in the manifest, e.g. `tools[3].params.petId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A new error.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    /// A new warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            file: None,
            span: None,
            path: None,
            hint: None,
        }
    }

    /// Adds a fix-it hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the file.
    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Sets the manifest path and span.
    pub fn at(mut self, path: impl Into<String>, span: Option<Span>) -> Self {
        self.path = Some(path.into());
        self.span = span;
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The text of every file diagnostics may point into, so renderings can quote the source line.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    texts: HashMap<PathBuf, String>,
}

impl Sources {
    /// Remembers the text of `file`.
    pub fn insert(&mut self, file: &Path, text: String) {
        self.texts.insert(file.to_path_buf(), text);
    }

    fn line(&self, file: &Path, line: usize) -> Option<&str> {
        self.texts.get(file)?.lines().nth(line.checked_sub(1)?)
    }
}

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Compiler-style text with the source line and a caret.
    Human,
    /// One JSON document: `{"diagnostics": [...], "errors": N, "warnings": N}`.
    Json,
    /// GitHub Actions workflow commands (`::error file=…`).
    Github,
}

/// Renders one diagnostic like a compiler does.
pub fn render_human(d: &Diagnostic, sources: &Sources) -> String {
    let mut out = String::new();
    let label = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{label}[{}]: {}", d.code, d.message);
    if let Some(file) = &d.file {
        match d.span {
            Some(s) => {
                let _ = writeln!(out, "  --> {}:{}:{}", file.display(), s.line, s.column);
                if let Some(text) = sources.line(file, s.line) {
                    let num = s.line.to_string();
                    let pad = " ".repeat(num.len());
                    let caret_pad: String = text
                        .chars()
                        .take(s.column.saturating_sub(1))
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    let _ = writeln!(out, "{pad} |");
                    let _ = writeln!(out, "{num} | {text}");
                    let _ = writeln!(out, "{pad} | {caret_pad}{}", "^".repeat(s.len.max(1)));
                }
            }
            None => {
                let _ = writeln!(out, "  --> {}", file.display());
            }
        }
    }
    if let Some(path) = &d.path {
        let _ = writeln!(out, "   = at: {path}");
    }
    if let Some(hint) = &d.hint {
        let _ = writeln!(out, "   = help: {hint}");
    }
    out
}

/// Renders one diagnostic as a GitHub Actions annotation.
pub fn render_github(d: &Diagnostic) -> String {
    let kind = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut props = Vec::new();
    if let Some(file) = &d.file {
        props.push(format!(
            "file={}",
            escape_property(&file.display().to_string())
        ));
    }
    if let Some(s) = d.span {
        props.push(format!("line={}", s.line));
        props.push(format!("col={}", s.column));
    }
    props.push(format!("title={}", escape_property(d.code)));
    let mut message = d.message.clone();
    if let Some(path) = &d.path {
        message.push_str(&format!(" (at {path})"));
    }
    if let Some(hint) = &d.hint {
        message.push_str(&format!("\nhelp: {hint}"));
    }
    format!("::{kind} {}::{}", props.join(","), escape_data(&message))
}

// GitHub's workflow-command escaping: data escapes %, CR, LF; properties also `:` and `,`.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Sorts diagnostics by file, position and then message, so output is stable across runs.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (
            &a.file,
            a.span.map(|s| (s.line, s.column)),
            a.severity,
            &a.message,
        )
            .cmp(&(
                &b.file,
                b.span.map(|s| (s.line, s.column)),
                b.severity,
                &b.message,
            ))
    });
}

/// The `n` candidates closest to `wanted`, for "did you mean" hints.
pub fn closest<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&wanted_lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score > 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

/// "did you mean `a`, `b`?" or `None`.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let near = closest(wanted, candidates, 3);
    if near.is_empty() {
        return None;
    }
    let list: Vec<String> = near.iter().map(|c| format!("`{c}`")).collect();
    Some(format!("did you mean {}?", list.join(", ")))
}
