//! The set of documents a spec spans (the main file plus every file its `$ref`s reach), loaded
//! once, and `$ref` resolution across them.
//!
//! Loading is eager: every reference is found and its document read before compiling starts, so
//! resolution afterwards is synchronous and cannot fail for I/O reasons halfway through a
//! compile. Network references are fetched only when the manifest allows it.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use thiserror::Error;
use url::Url;

/// Index of a document in a [`DocStore`].
pub type DocId = usize;

/// Why a document or reference could not be loaded.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {reason}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// The URL could not be fetched.
    #[error("cannot fetch `{url}`: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The text is neither JSON nor YAML.
    #[error("`{location}` is not valid JSON or YAML: {reason}")]
    Parse {
        /// File or URL.
        location: String,
        /// Parser message.
        reason: String,
    },
    /// A network `$ref` in a spec whose manifest does not allow remote references.
    #[error("`$ref` to the network URL `{url}` (in `{from}`) is not fetched")]
    RemoteRefNotAllowed {
        /// The referenced URL.
        url: String,
        /// The referencing document.
        from: String,
    },
}

/// Why a `$ref` could not be resolved.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum RefError {
    /// The reference string is not a valid URI reference.
    #[error("`$ref: {0}` is not a valid reference")]
    Malformed(String),
    /// The document was not loaded (e.g. a remote ref that was not allowed).
    #[error("`$ref: {0}` points into a document that was not loaded")]
    MissingDocument(String),
    /// The JSON pointer does not exist in the target document.
    #[error("`$ref: {0}` points at nothing")]
    Dangling(String),
    /// A chain of references that never reaches a value.
    #[error("`$ref: {0}` is part of a reference cycle with no schema in it")]
    Cycle(String),
}

/// One loaded document.
#[derive(Debug)]
pub struct Doc {
    /// Where it came from (`file://…` or `https://…`).
    pub url: Url,
    /// Its content.
    pub value: Value,
    /// Digest of the text it was parsed from, so a reload can tell whether it changed.
    pub digest: u64,
}

/// The main document and everything its references reach.
#[derive(Debug, Default)]
pub struct DocStore {
    docs: Vec<Doc>,
    by_url: HashMap<String, DocId>,
}

/// A resolved reference target.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The document holding it (relative refs inside it resolve against this one).
    pub doc: DocId,
    /// The value.
    pub value: &'a Value,
}

impl DocStore {
    /// Loads `location` (a path or URL) and every document its `$ref`s reach. The main document
    /// is [`DocId`] 0. Problems with referenced documents are returned beside the store, so one
    /// bad external file does not hide the rest of the spec.
    pub async fn load(
        location: &str,
        base_dir: &Path,
        allow_remote: bool,
    ) -> Result<(Self, Vec<LoadError>), LoadError> {
        let url = location_url(location, base_dir)?;
        let mut store = Self::default();
        let (value, digest) = fetch(&url).await?;
        store.insert(url, value, digest);
        let mut problems = Vec::new();
        let mut next = 0;
        while next < store.docs.len() {
            let mut refs = Vec::new();
            collect_refs(&store.docs[next].value, &mut refs);
            let base = store.docs[next].url.clone();
            for r in refs {
                let Some(doc_part) = r.split('#').next().filter(|p| !p.is_empty()) else {
                    continue;
                };
                let Ok(mut target) = base.join(doc_part) else {
                    continue;
                };
                target.set_fragment(None);
                if store.by_url.contains_key(target.as_str()) {
                    continue;
                }
                if target.scheme() != "file" && !allow_remote {
                    let err = LoadError::RemoteRefNotAllowed {
                        url: target.to_string(),
                        from: display_url(&base),
                    };
                    if !problems.contains(&err) {
                        problems.push(err);
                    }
                    continue;
                }
                match fetch(&target).await {
                    Ok((v, digest)) => {
                        store.insert(target, v, digest);
                    }
                    Err(e) => {
                        // Remember the miss so each missing document is reported once.
                        store.by_url.insert(target.to_string(), usize::MAX);
                        problems.push(e);
                    }
                }
            }
            next += 1;
        }
        Ok((store, problems))
    }

    /// A store holding one in-memory document (tests, `inspect --spec` of piped input).
    pub fn from_value(url: Url, value: Value) -> Self {
        let mut s = Self::default();
        s.insert(url, value, 0);
        s
    }

    fn insert(&mut self, url: Url, value: Value, digest: u64) -> DocId {
        let id = self.docs.len();
        self.by_url.insert(url.to_string(), id);
        self.docs.push(Doc { url, value, digest });
        id
    }

    /// The main document.
    pub fn root(&self) -> &Value {
        &self.docs[0].value
    }

    /// Document `id`.
    pub fn doc(&self, id: DocId) -> &Doc {
        &self.docs[id]
    }

    /// Document `id`, if there is one.
    pub fn get(&self, id: DocId) -> Option<&Doc> {
        self.docs.get(id)
    }

    /// Resolves `reference` found in document `from`. Returns the target and a key that is the
    /// same for every spelling of the same target (used to detect recursion and to cache).
    pub fn resolve(&self, from: DocId, reference: &str) -> Result<(Target<'_>, String), RefError> {
        let (doc_part, fragment) = match reference.split_once('#') {
            Some((d, f)) => (d, f),
            None => (reference, ""),
        };
        let doc = if doc_part.is_empty() {
            from
        } else {
            let mut url = self.docs[from]
                .url
                .join(doc_part)
                .map_err(|_| RefError::Malformed(reference.to_string()))?;
            url.set_fragment(None);
            match self.by_url.get(url.as_str()) {
                Some(&id) if id != usize::MAX => id,
                _ => return Err(RefError::MissingDocument(reference.to_string())),
            }
        };
        let pointer = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
        let value = if pointer.is_empty() {
            Some(&self.docs[doc].value)
        } else if pointer.starts_with('/') {
            self.docs[doc].value.pointer(&pointer)
        } else {
            // A plain-name fragment (`#foo`): an `$anchor` in OpenAPI 3.1. Rare; search for it.
            find_anchor(&self.docs[doc].value, &pointer)
        };
        let value = value.ok_or_else(|| RefError::Dangling(reference.to_string()))?;
        Ok((Target { doc, value }, format!("{doc}#{pointer}")))
    }

    /// Follows `$ref`s from `value` until a non-reference object (for parameters, request
    /// bodies and responses, which may be references to references).
    pub fn deref<'a>(
        &'a self,
        mut doc: DocId,
        mut value: &'a Value,
    ) -> Result<Target<'a>, RefError> {
        for _ in 0..32 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let (t, _) = self.resolve(doc, r)?;
                    doc = t.doc;
                    value = t.value;
                }
                None => return Ok(Target { doc, value }),
            }
        }
        Err(RefError::Cycle(
            value
                .get("$ref")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ))
    }
}

fn find_anchor<'a>(v: &'a Value, anchor: &str) -> Option<&'a Value> {
    match v {
        Value::Object(m) => {
            if m.get("$anchor").and_then(Value::as_str) == Some(anchor) {
                return Some(v);
            }
            m.values().find_map(|c| find_anchor(c, anchor))
        }
        Value::Array(a) => a.iter().find_map(|c| find_anchor(c, anchor)),
        _ => None,
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref")
                && !r.starts_with('#')
            {
                out.push(r.clone());
            }
            for c in m.values() {
                collect_refs(c, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}

/// `location` as a URL: http(s) URLs as given, anything else a path relative to `base_dir`.
pub fn location_url(location: &str, base_dir: &Path) -> Result<Url, LoadError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Url::parse(location).map_err(|e| LoadError::Fetch {
            url: location.to_string(),
            reason: e.to_string(),
        });
    }
    let path = base_dir.join(location);
    let abs = std::path::absolute(&path).unwrap_or(path);
    Url::from_file_path(&abs).map_err(|()| LoadError::Io {
        path: location.to_string(),
        reason: "not a valid file path".to_string(),
    })
}

/// A URL as users wrote it: file URLs as paths.
pub fn display_url(url: &Url) -> String {
    match url.to_file_path() {
        Ok(p) if url.scheme() == "file" => p.display().to_string(),
        _ => url.to_string(),
    }
}

/// How long a spec URL may take to answer. Generous: specs can be large, but `validate` in CI
/// must not hang on an unreachable host.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

async fn fetch(url: &Url) -> Result<(Value, u64), LoadError> {
    let text = if url.scheme() == "file" {
        let path = url.to_file_path().map_err(|()| LoadError::Io {
            path: url.to_string(),
            reason: "not a file path".to_string(),
        })?;
        tokio::fs::read_to_string(&path)
            .await
            .map_err(|e| LoadError::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?
    } else {
        crate::tls::install_default_provider();
        let fetch_err = |reason: String| LoadError::Fetch {
            url: url.to_string(),
            reason,
        };
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| fetch_err(e.to_string()))?;
        let resp = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| fetch_err(crate::tls::error_chain(&e)))?;
        if !resp.status().is_success() {
            return Err(fetch_err(format!("the server answered {}", resp.status())));
        }
        resp.text().await.map_err(|e| fetch_err(e.to_string()))?
    };
    let digest = crate::digest::of(text.as_bytes());
    let value = parse_text(&text).map_err(|reason| LoadError::Parse {
        location: display_url(url),
        reason,
    })?;
    Ok((value, digest))
}

/// Parses JSON or YAML text (JSON is tried first when the text looks like JSON: it is the
/// common format of large generated specs and much faster to parse).
pub fn parse_text(text: &str) -> Result<Value, String> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{')
        && let Ok(v) = serde_json::from_str(trimmed)
    {
        return Ok(v);
    }
    yaml_serde::from_str::<Value>(trimmed).map_err(|e| e.to_string())
}
