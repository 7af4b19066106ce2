//! OpenAPI documents: loading (JSON or YAML, file or URL, with external `$ref`s), and one
//! internal model for Swagger 2.0, OpenAPI 3.0 and 3.1.
//!
//! Why not the `openapiv3` crate: it models 3.0 only and rejects 3.1 and 2.0 documents, and a
//! typed model would throw away exactly the schema keywords (`nullable`, type arrays, `const`,
//! unknown-but-valid 2020-12 keywords) that tools must keep. So operations and parameters are
//! read into small typed structs here, while schemas stay JSON values until
//! [`schema::Converter`] turns them into inlined JSON Schema 2020-12.

mod docs;
mod parse;
pub mod schema;

pub use docs::{
    DocId, DocStore, LoadError, RefError, Target, display_url, location_url, parse_text,
};
pub(crate) use parse::is_json;

use std::path::Path;

use serde_json::Value;

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    /// A `{name}` in the path.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

/// OpenAPI serialisation style of a parameter (OpenAPI 3 `style`; Swagger 2 `collectionFormat`
/// is mapped onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ParamStyle {
    /// `form` (query, cookie default).
    Form,
    /// `simple` (path, header default).
    Simple,
    /// `label` (`.a.b`).
    Label,
    /// `matrix` (`;x=a`).
    Matrix,
    /// Space separated arrays.
    SpaceDelimited,
    /// Pipe separated arrays.
    PipeDelimited,
    /// Swagger 2 `tsv`: tab separated arrays.
    TabDelimited,
    /// `deepObject` (`x[a]=1`).
    DeepObject,
}

/// Which dialect the document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecVersion {
    /// Swagger 2.0.
    Swagger2,
    /// OpenAPI 3.0.x.
    OpenApi30,
    /// OpenAPI 3.1.x (and later 3.x).
    OpenApi31,
}

/// A loaded, indexed OpenAPI document.
#[derive(Debug)]
pub struct Spec {
    /// Dialect.
    pub version: SpecVersion,
    /// `info.title`.
    pub title: Option<String>,
    /// `info.description`.
    pub description: Option<String>,
    /// `info.version`.
    pub info_version: Option<String>,
    /// Servers, first is the default upstream.
    pub servers: Vec<Server>,
    /// Every operation, in document order.
    pub operations: Vec<Operation>,
    /// Problems found while indexing (operations that could not be read, bad refs in external
    /// documents). They matter only for the operations a manifest selects.
    pub problems: Vec<SpecProblem>,
    /// The documents, for resolving schema references.
    pub docs: DocStore,
}

/// A problem in the spec itself, tied to an operation when there is one.
#[derive(Debug, Clone)]
pub struct SpecProblem {
    /// `GET /pets` or `None` for document-wide problems.
    pub operation: Option<String>,
    /// What is wrong.
    pub message: String,
    /// The operation still works without the broken part (it is skipped), so this warns only.
    pub warning: bool,
}

/// A server URL with its variables.
#[derive(Debug, Clone)]
pub struct Server {
    /// The URL template (`https://{region}.example.com/v1`).
    pub url: String,
    /// Description.
    pub description: Option<String>,
    /// `(name, default, enum)` of each variable.
    pub variables: Vec<ServerVariable>,
}

/// A server variable.
#[derive(Debug, Clone)]
pub struct ServerVariable {
    /// Its name.
    pub name: String,
    /// Its default.
    pub default: String,
    /// Allowed values, if listed.
    pub allowed: Vec<String>,
    /// Description.
    pub description: Option<String>,
}

impl Server {
    /// The URL with every variable at its default.
    pub fn default_url(&self) -> String {
        let mut url = self.url.clone();
        for v in &self.variables {
            url = url.replace(&format!("{{{}}}", v.name), &v.default);
        }
        url
    }
}

/// One operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `operationId`.
    pub id: Option<String>,
    /// HTTP method, upper case.
    pub method: http::Method,
    /// Path template as written.
    pub path: String,
    /// `summary`.
    pub summary: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// Tags.
    pub tags: Vec<String>,
    /// Parameters (path-level merged with operation-level, by name and location).
    pub params: Vec<Parameter>,
    /// Request body.
    pub body: Option<RequestBody>,
    /// Responses in document order.
    pub responses: Vec<Response>,
    /// The operation's own `servers` (else its path item's), when the spec gives them: an
    /// operation served from another host, such as an upload host.
    pub servers: Vec<Server>,
}

impl Operation {
    /// `GET /pets/{petId}`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// A schema as written in the spec, with the document it came from (for relative refs).
#[derive(Debug, Clone)]
pub struct RawSchema {
    /// The document holding it.
    pub doc: DocId,
    /// The schema value (may be a `$ref`).
    pub value: Value,
}

/// A path, query, header or cookie parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Wire name.
    pub name: String,
    /// Location.
    pub location: ParamLocation,
    /// Whether required (path parameters always are).
    pub required: bool,
    /// Description.
    pub description: Option<String>,
    /// Deprecated.
    pub deprecated: bool,
    /// Its schema.
    pub schema: RawSchema,
    /// Serialisation style.
    pub style: ParamStyle,
    /// `explode`.
    pub explode: bool,
    /// `allowReserved`.
    pub allow_reserved: bool,
    /// Declared with `content` (serialised as JSON text) rather than `schema`.
    pub json_content: bool,
    /// `example`/`examples` values at parameter level.
    pub examples: Vec<Value>,
}

/// A request body.
#[derive(Debug, Clone)]
pub struct RequestBody {
    /// Description.
    pub description: Option<String>,
    /// Required.
    pub required: bool,
    /// `(media type, schema)` in document order.
    pub content: Vec<(String, Option<RawSchema>)>,
    /// `encoding` of the form and multipart media types: `(media type, per-property encoding)`.
    pub encodings: Vec<(String, Vec<PropertyEncoding>)>,
}

/// `encoding.{property}` of a form or multipart body (Swagger 2 `formData` parameters'
/// `collectionFormat` is mapped onto it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyEncoding {
    /// The body property it applies to.
    pub property: String,
    /// `contentType` (a multipart part's type; for a form field, JSON text when it is JSON).
    pub content_type: Option<String>,
    /// `style`, if declared.
    pub style: Option<ParamStyle>,
    /// `explode`, if declared.
    pub explode: Option<bool>,
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code as written (`200`, `2XX`, `default`).
    pub status: String,
    /// Description.
    pub description: Option<String>,
    /// `(media type, schema)` in document order.
    pub content: Vec<(String, Option<RawSchema>)>,
    /// The names of the headers it documents, as written (`Location`, `Operation-Location`).
    pub headers: Vec<String>,
}

/// Why a spec could not be loaded at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SpecError {
    /// Reading or parsing failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Parsed, but not an OpenAPI or Swagger document.
    #[error("`{location}` is not an OpenAPI document: {reason}")]
    NotOpenApi {
        /// Where.
        location: String,
        /// Why.
        reason: String,
    },
}

impl Spec {
    /// Loads and indexes the spec at `location` (a path relative to `base_dir`, or a URL).
    pub async fn load(
        location: &str,
        base_dir: &Path,
        allow_remote_refs: bool,
    ) -> Result<Self, SpecError> {
        let (docs, load_problems) = DocStore::load(location, base_dir, allow_remote_refs).await?;
        let mut spec = parse::index(docs).map_err(|reason| SpecError::NotOpenApi {
            location: location.to_string(),
            reason,
        })?;
        spec.problems
            .extend(load_problems.into_iter().map(|e| SpecProblem {
                operation: None,
                message: e.to_string(),
                warning: false,
            }));
        Ok(spec)
    }

    /// Indexes an already-loaded document store.
    pub fn from_docs(docs: DocStore) -> Result<Self, String> {
        parse::index(docs)
    }

    /// The operation with this `operationId`, or matching `METHOD /path`.
    pub fn find(&self, selector: &str) -> Option<&Operation> {
        if let Some(op) = self
            .operations
            .iter()
            .find(|o| o.id.as_deref() == Some(selector))
        {
            return Some(op);
        }
        let (method, path) = selector.trim().split_once(char::is_whitespace)?;
        let method = method.to_ascii_uppercase();
        let path = path.trim();
        self.operations
            .iter()
            .find(|o| o.method.as_str() == method && o.path == path)
    }
}
