//! `mcp-gateway validate [PATH…]`: the same load → compile path as `serve`, for CI. Exit 0 when
//! every manifest is valid, 1 when any is invalid, 2 for usage or I/O errors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;

use crate::compile::{Options, Secrets, compile_file};
use crate::diag::{Diagnostic, Format, Severity, render_github, render_human};

/// Arguments of `validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Manifests, or folders holding `gateway.yaml` (directly or one level down).
    #[arg(default_value = "gateway.yaml")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
    /// Rewrite each valid manifest's lock file (`gateway.lock.json`) instead of checking
    /// against it.
    #[arg(long)]
    update_lock: bool,
}

/// Expands folders into the manifests they hold.
pub(crate) fn manifests(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let direct = p.join("gateway.yaml");
            let mut found = Vec::new();
            if direct.is_file() {
                found.push(direct);
            }
            let mut subdirs: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("cannot read folder `{}`: {e}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|d| d.is_dir())
                .collect();
            subdirs.sort();
            found.extend(
                subdirs
                    .into_iter()
                    .map(|d| d.join("gateway.yaml"))
                    .filter(|f| f.is_file()),
            );
            if found.is_empty() {
                return Err(format!(
                    "no gateway.yaml in `{}` or its subfolders",
                    p.display()
                ));
            }
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("`{}` does not exist", p.display()));
        }
    }
    Ok(out)
}

pub(crate) fn run(args: Args) -> ExitCode {
    let files = match manifests(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let mut outcomes = match super::block_on(async {
        let mut v = Vec::new();
        for f in &files {
            v.push(
                compile_file(
                    f,
                    Options {
                        secrets: Secrets::Skip,
                    },
                )
                .await,
            );
        }
        v
    }) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    reject_duplicate_names(&files, &mut outcomes);
    let mut errors = 0;
    let mut warnings = 0;
    let mut reports = Vec::new();
    for (file, outcome) in files.iter().zip(&outcomes) {
        let mut sources = outcome.sources.clone();
        let (mut diags, tools): (Vec<Diagnostic>, Option<usize>) = match &outcome.result {
            Ok(c) => (c.warnings.clone(), Some(c.gateway.tools.len())),
            Err(d) => (d.clone(), None),
        };
        let (mut drifted, mut breaking) = (0, 0);
        if let Ok(c) = &outcome.result {
            match lock_check(file, &c.gateway, args.update_lock, &mut sources) {
                Ok(Some(line)) => eprintln!("{line}"),
                Ok(None) => {}
                Err(d) => {
                    drifted = d.iter().filter(|d| d.code == "drift").count();
                    breaking = d
                        .iter()
                        .filter(|d| d.message.ends_with("[breaking]"))
                        .count();
                    diags.extend(d);
                }
            }
        }
        let diags = &diags;
        let sources = &sources;
        let e = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        let w = diags.len() - e;
        errors += e;
        warnings += w;
        match args.format {
            Format::Human => {
                for d in diags {
                    eprint!("{}", render_human(d, sources));
                    eprintln!();
                }
                eprintln!("{}", summary(file, tools, e, w, (drifted, breaking)));
            }
            Format::Github => {
                for d in diags {
                    println!("{}", render_github(d));
                }
                println!("{}", summary(file, tools, e, w, (drifted, breaking)));
            }
            Format::Json => reports.push(json!({
                "file": file,
                "valid": tools.is_some() && e == 0,
                "tools": tools,
                "diagnostics": diags,
            })),
        }
    }
    let failed = errors > 0 || (args.deny_warnings && warnings > 0);
    if args.format == Format::Json {
        let doc =
            json!({"valid": !failed, "errors": errors, "warnings": warnings, "manifests": reports});
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    }
    if failed {
        ExitCode::from(super::EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    }
}

/// Gateways served from one folder are routed by name (`/{name}/mcp`), so two manifests
/// checked together must not share one: the later one is made invalid, pointing at the first.
fn reject_duplicate_names(files: &[PathBuf], outcomes: &mut [crate::compile::Outcome]) {
    let mut seen: std::collections::HashMap<String, &Path> = std::collections::HashMap::new();
    for (file, outcome) in files.iter().zip(outcomes.iter_mut()) {
        let Ok(c) = &outcome.result else { continue };
        let name = c.gateway.name.clone();
        match seen.get(&name) {
            None => {
                seen.insert(name, file);
            }
            Some(first) => {
                let mut diags = c.warnings.clone();
                let mut d = Diagnostic::error(
                    "duplicate-name",
                    format!(
                        "`{}` is also named `{name}`; gateways served from one folder are routed by name (/{name}/mcp)",
                        first.display()
                    ),
                )
                .with_hint("give each gateway its own `name`")
                .in_file(file);
                if let Ok(loaded) = crate::manifest::load(file) {
                    d = loaded.diag_at(d, "/name");
                }
                diags.push(d);
                outcome.result = Err(diags);
            }
        }
    }
}

/// Compares the gateway with its lock file, if there is one (or rewrites it with
/// `--update-lock`). `Ok(Some(line))` reports a write; `Err` holds one diagnostic per change.
fn lock_check(
    file: &Path,
    g: &crate::gateway::Gateway,
    update: bool,
    sources: &mut crate::diag::Sources,
) -> Result<Option<String>, Vec<Diagnostic>> {
    let lock = crate::lock::path_for(file);
    if update {
        return super::lock::write(file, g)
            .map(Some)
            .map_err(|e| vec![Diagnostic::error("lock", e).in_file(&lock)]);
    }
    let Ok(text) = std::fs::read_to_string(&lock) else {
        return Ok(None); // no lock file: nothing was pinned
    };
    let old: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        vec![
            Diagnostic::error("lock", format!("the lock file is not JSON: {e}"))
                .in_file(&lock)
                .with_hint("rewrite it with `mcp-gateway lock` (or `validate --update-lock`)"),
        ]
    })?;
    let changes = crate::lock::diff(&old, &crate::lock::document(g));
    if changes.is_empty() {
        return Ok(None);
    }
    sources.insert(&lock, text.clone());
    Err(crate::lock::diagnostics(&lock, &text, &changes))
}

fn summary(
    file: &Path,
    tools: Option<usize>,
    errors: usize,
    warnings: usize,
    (drifted, breaking): (usize, usize),
) -> String {
    let w = match warnings {
        0 => String::new(),
        1 => ", 1 warning".to_string(),
        n => format!(", {n} warnings"),
    };
    if drifted > 0 {
        return format!(
            "{}: differs from its lock file ({drifted} change{}, {breaking} breaking{w})",
            file.display(),
            if drifted == 1 { "" } else { "s" }
        );
    }
    match tools {
        Some(n) => format!(
            "{}: valid ({n} tool{}{w})",
            file.display(),
            if n == 1 { "" } else { "s" }
        ),
        None => format!(
            "{}: invalid ({errors} error{}{w})",
            file.display(),
            if errors == 1 { "" } else { "s" }
        ),
    }
}
