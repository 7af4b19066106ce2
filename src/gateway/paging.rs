//! A paged tool's pagination as compiled from `response.page:` (plain data; the running side
//! is `upstream::page`).

/// The argument added to a paged tool's input schema.
pub const CURSOR_ARG: &str = "cursor";
/// The property of `structuredContent` that carries the token (declared in the output schema).
pub const NEXT: &str = "next";

/// A tool's pagination, compiled from `response.page:`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Paging {
    /// How the next page is found.
    pub style: Style,
    /// The argument the position goes into (`Cursor`, `Page`, `Offset`).
    pub param: Option<String>,
    /// Pointer to the answer's "more pages follow" boolean.
    pub has_more: Option<String>,
    /// The most bytes of JSON one page's data may take (whole items only, at least one).
    pub max_bytes: Option<usize>,
}

/// Where the next page's position comes from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Style {
    /// A cursor at `next` in the answer, or at `last_item` inside the list's last item.
    Cursor {
        /// Pointer into the answer.
        next: Option<String>,
        /// Pointer into the last item.
        last_item: Option<String>,
    },
    /// Page numbers from `start`.
    Page {
        /// The first page's number.
        start: i64,
    },
    /// Item offsets from 0.
    Offset,
    /// The `Link` header's `rel="next"`.
    Link,
    /// A URL at this pointer in the answer.
    NextUrl(String),
}
