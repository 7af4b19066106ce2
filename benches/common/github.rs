//! GitHub's full OpenAPI spec (`@octokit/openapi`, installed by `tests/setup.sh`) and the
//! 15-operation curation the compile and reload benchmarks both measure.

use std::path::{Path, PathBuf};

/// The operations of the benchmarks' GitHub manifest; the first is the one the reload
/// benchmark renames on every save.
pub const TOOLS: [&str; 15] = [
    "repos/get",
    "repos/list-for-org",
    "repos/get-content",
    "repos/list-commits",
    "issues/list-for-repo",
    "issues/get",
    "issues/create",
    "issues/create-comment",
    "issues/update",
    "pulls/list",
    "pulls/get",
    "pulls/create",
    "search/issues-and-pull-requests",
    "search/code",
    "actions/list-workflow-runs-for-repo",
];

/// Where `tests/setup.sh` installs the spec.
pub fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/node/node_modules/@octokit/openapi/generated/api.github.com.json")
}
