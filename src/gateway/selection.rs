//! The meaning of a tool's `response.select` and list cap, shared by the compiler (which projects
//! the output schema) and the upstream side (which projects the answer), so the two cannot
//! disagree.

/// Property added to `structuredContent` when a list was cut (declared in the output schema).
pub const TRUNCATED: &str = "_truncated";

/// What a selection keeps of the field `key`.
#[derive(Debug)]
pub enum Under {
    /// Nothing: no path goes through it.
    Nothing,
    /// All of it: a path ends at it.
    Whole,
    /// These paths within it.
    Parts(Vec<Vec<String>>),
}

/// What `paths` keep of the field `key` (shared by the data and the schema projection, so the
/// two cannot disagree).
pub fn under(paths: &[Vec<String>], key: &str) -> Under {
    let rests: Vec<Vec<String>> = paths
        .iter()
        .filter(|p| p.first().map(String::as_str) == Some(key))
        .map(|p| p[1..].to_vec())
        .collect();
    if rests.is_empty() {
        Under::Nothing
    } else if rests.iter().any(Vec::is_empty) {
        Under::Whole
    } else {
        Under::Parts(rests)
    }
}
