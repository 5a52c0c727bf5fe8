//! Source locations of syntax nodes.
//!
//! A node read from a YAML document records the [`SourceId`] of the document, the byte range
//! of its YAML node in that text (`node`), and the [`NodePath`] that leads to it from the
//! document root (for messages such as `groups[0].blocks[1][0]`). `cohort-load` turns such a
//! location into `file:line:column` when an error needs one, without reading the document
//! again. See `ARCHITECTURE.md`, "Locations".

use std::fmt;
use std::hash::{Hash, Hasher};

/// Identifies one loaded source text (a file, or a string given to the loader).
///
/// Ids are handed out by the loader, in load order, starting at 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// One step of a path into a YAML document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PathSeg {
    /// The value under this key of a mapping.
    Key(String),
    /// The element at this index of a sequence.
    Index(usize),
}

/// The path from a document's root to one node, such as `groups[0].blocks[1][0].operator`.
///
/// ```
/// use cohort_syntax::NodePath;
///
/// let path = NodePath::root().key("groups").index(0).key("blocks").index(1).index(0);
/// assert_eq!(path.to_string(), "groups[0].blocks[1][0]");
/// assert_eq!(path.key_itself("operatr").to_string(), "groups[0].blocks[1][0].operatr (key)");
/// ```
///
/// Cloning a path is cheap (its steps are shared), as every located node of a syntax tree holds
/// one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodePath {
    segments: std::sync::Arc<[PathSeg]>,
    key_itself: bool,
}

impl NodePath {
    /// The document root.
    pub fn root() -> Self {
        Self::default()
    }

    /// The value under `key` of the mapping at this path.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        self.then(PathSeg::Key(key.to_owned()))
    }

    fn then(&self, segment: PathSeg) -> Self {
        let mut segments = Vec::with_capacity(self.segments.len() + 1);
        segments.extend_from_slice(&self.segments);
        segments.push(segment);
        NodePath {
            segments: segments.into(),
            key_itself: false,
        }
    }

    /// The key `key` itself (not its value) of the mapping at this path: where an error about
    /// an unknown key should point.
    #[must_use]
    pub fn key_itself(&self, key: &str) -> Self {
        let mut next = self.key(key);
        next.key_itself = true;
        next
    }

    /// The element at `index` of the sequence at this path.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        self.then(PathSeg::Index(index))
    }

    /// The steps from the root.
    pub fn segments(&self) -> &[PathSeg] {
        &self.segments
    }

    /// Whether the path names the last key itself rather than its value.
    pub fn is_key_itself(&self) -> bool {
        self.key_itself
    }
}

impl fmt::Display for NodePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str(".");
        }
        for (i, seg) in self.segments.iter().enumerate() {
            match seg {
                PathSeg::Key(key) if i == 0 => f.write_str(key)?,
                PathSeg::Key(key) => write!(f, ".{key}")?,
                PathSeg::Index(index) => write!(f, "[{index}]")?,
            }
        }
        if self.key_itself {
            f.write_str(" (key)")?;
        }
        Ok(())
    }
}

/// A byte range in a text: the text given to a parser (a YAML string scalar, or a whole text
/// file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The span moved `offset` bytes further.
    #[must_use]
    pub fn shifted(self, offset: usize) -> Self {
        Span::new(self.start + offset, self.end + offset)
    }

    /// The number of bytes covered.
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers nothing.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// Where a syntax node came from: a source, the YAML node inside it (its byte range and its
/// path), and for nodes parsed from text, the byte span inside that text.
///
/// `Loc` compares equal to every other `Loc` and hashes to nothing, so syntax trees compare
/// by what they say, not by where they were written (Cedar's rule for its `Node::loc`).
///
/// ```
/// use cohort_syntax::{Loc, NodePath, SourceId};
///
/// let a = Loc::new(SourceId(0), NodePath::root().key("name"));
/// let b = Loc::default();
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Loc {
    /// The source the node was read from, if any (trees built in code have none).
    pub source: Option<SourceId>,
    /// The path to the node inside that source.
    pub path: NodePath,
    /// The bytes of the YAML node at `path` in the source's text, when the loader read it
    /// from YAML.
    pub node: Option<Span>,
    /// For a node parsed from text: its bytes in the text at `path` (a YAML string scalar,
    /// or the whole source when `path` is the root of a text file).
    pub span: Option<Span>,
}

impl Loc {
    /// A location in `source` at `path`.
    pub fn new(source: SourceId, path: NodePath) -> Self {
        Self {
            source: Some(source),
            path,
            node: None,
            span: None,
        }
    }

    /// A location in `source` at `path`, whose YAML node covers the bytes `node`.
    pub fn in_yaml(source: SourceId, path: NodePath, node: Span) -> Self {
        Self {
            source: Some(source),
            path,
            node: Some(node),
            span: None,
        }
    }

    /// A location at `span` of a text, with no source yet.
    pub fn at(span: Span) -> Self {
        Loc {
            span: Some(span),
            ..Loc::default()
        }
    }

    /// This location placed in `source` at `path`: for nodes parsed from a string that sits at
    /// `path` in `source`.
    #[must_use]
    pub fn placed(&self, source: SourceId, path: &NodePath) -> Loc {
        Loc {
            source: Some(source),
            path: path.clone(),
            node: None,
            span: self.span,
        }
    }

    /// This location placed inside the string scalar at `at` (a location the loader made):
    /// for nodes parsed from that string.
    #[must_use]
    pub fn placed_in(&self, at: &Loc) -> Loc {
        Loc {
            source: at.source,
            path: at.path.clone(),
            node: at.node,
            span: self.span,
        }
    }
}

impl PartialEq for Loc {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for Loc {}

impl Hash for Loc {
    fn hash<H: Hasher>(&self, _state: &mut H) {}
}
