//! YAML read into a tree whose every node knows its bytes in the text, in one pass, under
//! limits.
//!
//! The definitions loader and the schema loader read this tree rather than deserializing
//! with serde: every node has a byte range (so an error anywhere is located without reading
//! the text again), every scalar keeps the exact text written (`10.10` stays `10.10`,
//! `0x1F` stays `0x1F`), and hostile documents are refused early:
//!
//! - collections nested deeper than [`YamlLimits::max_depth`] are refused as soon as the
//!   parser opens one level too many, so the cost stays linear in the text read;
//! - aliases are not copied: an alias is the anchored node itself, and every alias is
//!   charged the size of what it would expand to against
//!   [`YamlLimits::max_expanded_bytes`], so "billion laughs" documents are refused before
//!   anything is expanded.
//!
//! The events come from `saphyr-parser` (a YAML 1.2 parser with spans; it accepts a
//! byte-order mark). Its positions count characters; [`TextIndex`] turns them into bytes.

use crate::index::{TextIndex, ceil_char_boundary};
use cohort_syntax::Span;
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;

/// Limits on one YAML text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct YamlLimits {
    /// The deepest nesting of sequences and mappings.
    pub(crate) max_depth: usize,
    /// The most bytes that the aliases of a text may stand for, counted as if every alias
    /// were replaced by a copy of its anchor's node (scalars by their length, every node
    /// counting [`NODE_WEIGHT`] bytes more).
    pub(crate) max_expanded_bytes: usize,
}

/// What a node counts for against [`YamlLimits::max_expanded_bytes`] besides its text.
pub(crate) const NODE_WEIGHT: usize = 16;

/// The position of a node in a [`Tree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeId(usize);

/// A scalar's style, as far as the loader cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// Written as is: may be null (`~`, `null`, nothing), a boolean, a number...
    Plain,
    /// Quoted or a block scalar: always text.
    Text,
}

/// What a node is.
#[derive(Debug)]
pub(crate) enum Kind {
    /// A scalar, with its text as the YAML parser read it (escapes resolved, lines folded).
    Scalar { text: String, style: Style },
    /// A sequence of nodes.
    Seq(Vec<NodeId>),
    /// A mapping, its entries in the order written.
    Map(Vec<(NodeId, NodeId)>),
}

/// One node and its bytes in the text.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// The node's bytes: a scalar's from its first character (after any tag or anchor) to
    /// its last (its closing quote, for a quoted scalar); a collection's from its first to its
    /// last token.
    pub(crate) span: Span,
}

impl Node {
    /// The scalar's text, if this is a scalar.
    pub(crate) fn as_scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Whether this is a null: a plain `~`, `null` or nothing at all.
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, style: Style::Plain }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// What this node is, for messages: "text", "a list", "a mapping".
    pub(crate) fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar { .. } if self.is_null() => "nothing (null)",
            Kind::Scalar { .. } => "text",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// A YAML text read into nodes: one root per document.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    /// The root of each document, in order.
    pub(crate) documents: Vec<NodeId>,
    /// The bytes of every scalar, in text order (to tell comments from `#` inside values).
    scalar_spans: Vec<Span>,
    /// What the aliases of the text stand for, in bytes (see [`YamlLimits`]).
    pub(crate) expanded: usize,
}

impl Tree {
    /// Where the first document's root starts, in bytes (0 for an empty tree).
    pub(crate) fn start(&self) -> usize {
        self.documents
            .first()
            .map_or(0, |&root| self.node(root).span.start)
    }

    /// The node `id`.
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        // Ids are only made by `read`, for nodes it pushed: indexing cannot fail.
        &self.nodes[id.0]
    }

    /// The byte offsets of every comment in `text` (the text this tree was read from): a `#`
    /// outside every scalar, up to the end of its line.
    pub(crate) fn comments(&self, text: &str) -> Vec<usize> {
        let mut comments = Vec::new();
        let mut spans = self.scalar_spans.iter().peekable();
        let mut from = 0;
        while let Some(found) =
            memchr::memchr(b'#', text.as_bytes().get(from..).unwrap_or_default())
        {
            let at = from + found;
            while spans.next_if(|span| span.end <= at).is_some() {}
            match spans.peek() {
                Some(span) if span.start <= at => from = at + 1,
                _ => {
                    comments.push(at);
                    from = memchr::memchr(b'\n', &text.as_bytes()[at..])
                        .map_or(text.len(), |n| at + n);
                }
            }
        }
        comments
    }
}

/// Why a YAML text could not be read.
#[derive(Debug)]
pub(crate) struct YamlError {
    /// What is wrong.
    pub(crate) message: String,
    /// A likely fix.
    pub(crate) help: Option<String>,
    /// Where, in bytes.
    pub(crate) offset: usize,
    /// Whether this is a YAML syntax error (after which the rest of the file may still be
    /// read group by group), rather than a limit.
    pub(crate) syntax: bool,
}

/// An open collection while its events are read.
struct Open {
    start: usize,
    anchor: usize,
    weight: usize,
    content: OpenContent,
}

enum OpenContent {
    Seq(Vec<NodeId>),
    Map {
        entries: Vec<(NodeId, NodeId)>,
        key: Option<NodeId>,
    },
}

/// Reads `text` (indexed by `index`) into a tree.
pub(crate) fn read(text: &str, index: &TextIndex, limits: YamlLimits) -> Result<Tree, YamlError> {
    read_range(text, index, limits, 0, text.len())
}

/// Reads the bytes `start..end` of `text` (indexed by `index`, `start` at a line start) as a
/// YAML text of its own, with every span and error offset in bytes of the whole `text`.
pub(crate) fn read_range(
    text: &str,
    index: &TextIndex,
    limits: YamlLimits,
    start: usize,
    end: usize,
) -> Result<Tree, YamlError> {
    let Some(part) = text.get(start..end) else {
        return Ok(Tree::default());
    };
    let base = index.char_of_byte(text, start);
    let mut builder = Builder {
        tree: Tree::default(),
        weights: Vec::new(),
        anchors: HashMap::new(),
        stack: Vec::new(),
        expanded: 0,
        limits,
    };
    for event in Parser::new_from_str(part) {
        let (event, span) = event.map_err(|error| {
            let offset = index.byte_of_char(text, base + error.marker().index());
            if error.info().contains("recursion limit") {
                YamlError {
                    offset,
                    help: None,
                    message: "lists and mappings are nested too deeply for the YAML reader"
                        .to_owned(),
                    syntax: false,
                }
            } else {
                syntax_error(text, index, offset, error.info())
            }
        })?;
        let start = index.byte_of_char(text, base + span.start.index());
        let end = index.byte_of_char(text, base + span.end.index());
        match event {
            Event::Scalar(value, style, anchor, _) => {
                let (content, end) = scalar_extent(text, start, end, style);
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    _ => Style::Text,
                };
                let weight = value.len() + NODE_WEIGHT;
                let id = builder.push(
                    Kind::Scalar {
                        text: value.into_owned(),
                        style,
                    },
                    Span::new(content, end),
                    anchor,
                    weight,
                );
                builder.tree.scalar_spans.push(Span::new(content, end));
                builder.attach(id, weight);
            }
            Event::SequenceStart(anchor, _) => {
                builder.open(start, anchor, OpenContent::Seq(Vec::new()))?;
            }
            Event::MappingStart(anchor, _) => {
                builder.open(
                    start,
                    anchor,
                    OpenContent::Map {
                        entries: Vec::new(),
                        key: None,
                    },
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(end),
            Event::Alias(anchor) => {
                let Some(&id) = builder.anchors.get(&anchor) else {
                    return Err(YamlError {
                        message: "invalid YAML: an alias names no anchor defined before it"
                            .to_owned(),
                        help: None,
                        offset: start,
                        syntax: true,
                    });
                };
                let weight = builder.weights.get(id.0).copied().unwrap_or(0);
                builder.expanded = builder.expanded.saturating_add(weight);
                if builder.expanded > limits.max_expanded_bytes {
                    return Err(YamlError {
                        message: format!(
                            "aliases in this file stand for more than {} bytes, the limit on what aliases may expand to",
                            limits.max_expanded_bytes
                        ),
                        help: Some(
                            "write the values out, or split the file: an alias is expanded wherever it is used".to_owned(),
                        ),
                        offset: start,
                        syntax: false,
                    });
                }
                builder.attach(id, weight);
            }
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
    }
    builder.tree.expanded = builder.expanded;
    Ok(builder.tree)
}

struct Builder {
    tree: Tree,
    /// Each node's size counted with its aliases expanded.
    weights: Vec<usize>,
    anchors: HashMap<usize, NodeId>,
    stack: Vec<Open>,
    expanded: usize,
    limits: YamlLimits,
}

impl Builder {
    fn push(&mut self, kind: Kind, span: Span, anchor: usize, weight: usize) -> NodeId {
        let id = NodeId(self.tree.nodes.len());
        self.tree.nodes.push(Node { kind, span });
        self.weights.push(weight);
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        id
    }

    fn open(&mut self, start: usize, anchor: usize, content: OpenContent) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(YamlError {
                message: format!(
                    "lists and mappings are nested deeper than the limit of {} levels",
                    self.limits.max_depth
                ),
                help: None,
                offset: start,
                syntax: false,
            });
        }
        self.stack.push(Open {
            start,
            anchor,
            weight: NODE_WEIGHT,
            content,
        });
        Ok(())
    }

    fn close(&mut self, end: usize) {
        let Some(open) = self.stack.pop() else {
            return;
        };
        let kind = match open.content {
            OpenContent::Seq(items) => Kind::Seq(items),
            OpenContent::Map { entries, .. } => Kind::Map(entries),
        };
        let end = end.max(open.start);
        let id = self.push(kind, Span::new(open.start, end), open.anchor, open.weight);
        self.attach(id, open.weight);
    }

    fn attach(&mut self, id: NodeId, weight: usize) {
        let Some(parent) = self.stack.last_mut() else {
            self.tree.documents.push(id);
            return;
        };
        parent.weight = parent.weight.saturating_add(weight);
        match &mut parent.content {
            OpenContent::Seq(items) => items.push(id),
            OpenContent::Map { entries, key } => match key.take() {
                Some(key) => entries.push((key, id)),
                None => *key = Some(id),
            },
        }
    }
}

/// Where a scalar's content starts (after any tag and anchor) and ends (after the closing
/// quote of a quoted scalar: the parser's own end can run on over a following comment).
fn scalar_extent(text: &str, start: usize, end: usize, style: ScalarStyle) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut at = start;
    while matches!(bytes.get(at), Some(b'!' | b'&')) {
        while bytes.get(at).is_some_and(|b| !b.is_ascii_whitespace()) {
            at += 1;
        }
        // Between the properties and the value there may be white space, line breaks and
        // comments (`where: !!str # note` then the value on the next line): none of it is the
        // scalar's, so a comment there stays a comment.
        loop {
            while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            if bytes.get(at) != Some(&b'#') {
                break;
            }
            while bytes.get(at).is_some_and(|&b| b != b'\n') {
                at += 1;
            }
        }
    }
    let content = ceil_char_boundary(text, at);
    let close = match (style, bytes.get(content)) {
        (ScalarStyle::SingleQuoted, Some(b'\'')) => {
            let mut i = content + 1;
            loop {
                match bytes.get(i) {
                    Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                    Some(b'\'') | None => break i + 1,
                    Some(_) => i += 1,
                }
            }
        }
        (ScalarStyle::DoubleQuoted, Some(b'"')) => {
            let mut i = content + 1;
            loop {
                match bytes.get(i) {
                    Some(b'\\') => i += 2,
                    Some(b'"') | None => break i + 1,
                    Some(_) => i += 1,
                }
            }
        }
        _ => end.max(content),
    };
    (content, close.min(text.len()).max(content))
}

/// A YAML syntax error at byte `offset`, said in the words of the mistake people make most
/// when there is a likely one (a tab, an unquoted `: `, a line out of line with the lines
/// above it), with the parser's own words otherwise.
fn syntax_error(text: &str, index: &TextIndex, offset: usize, info: &str) -> YamlError {
    let general = |help: Option<&str>| YamlError {
        message: format!("invalid YAML: {info}"),
        help: help.map(str::to_owned),
        offset,
        syntax: true,
    };
    let line_no = index.position(text, offset).line;
    let Some((line_start, line_end)) = index.line_range(text, line_no) else {
        return general(None);
    };
    let line = text.get(line_start..line_end).unwrap_or_default();
    if info.contains("tab") {
        // The parser stops where the scalar or line before the tab ends: point at the tab.
        let tab = (line_no..line_no + 3).find_map(|n| {
            let (start, end) = index.line_range(text, n)?;
            let this = text.get(start..end)?;
            let indent = this.len() - this.trim_start_matches([' ', '\t']).len();
            this.get(..indent)?.find('\t').map(|at| (n, start + at))
        });
        return match tab {
            Some((n, at)) => YamlError {
                message: format!("invalid YAML: a tab in the indentation of line {n}"),
                help: Some("YAML indents with spaces, not tabs".to_owned()),
                offset: at,
                syntax: true,
            },
            None => general(Some("YAML indents with spaces, not tabs")),
        };
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    let content = strip_dashes(line);
    let content_column = line.len() - content.len() + 1;
    let key = content
        .split_once(':')
        .map(|(key, _)| key.trim())
        .filter(|key| !key.is_empty() && key.len() < 60);
    let above = line_above(text, index, line_no);
    if info.contains("mapping values are not allowed") {
        let in_value = offset > line_start
            && text
                .get(line_start + (line.len() - content.len())..offset)
                .is_some_and(|before| before.contains(": "));
        if in_value && let Some((key, value)) = content.split_once(": ") {
            let value = value.trim();
            let quoted = format!("'{}'", value.replace('\'', "''"));
            return YamlError {
                message: "invalid YAML: `: ` inside a value that is not quoted".to_owned(),
                help: Some(format!("quote the value: `{}: {quoted}`", key.trim())),
                offset,
                syntax: true,
            };
        }
        if let (Some(key), Some((above_line, above_key, above_column))) = (key, &above)
            && content_column > *above_column
        {
            return YamlError {
                message: format!(
                    "invalid YAML: `{key}:` at column {content_column} is indented deeper than `{above_key}` on line {above_line}, and is read as part of its value"
                ),
                help: Some(format!(
                    "keys of one mapping start in the same column: start `{key}` at column {above_column}, under `{above_key}`; or quote the value if `: ` belongs to it"
                )),
                offset: line_start + indent,
                syntax: true,
            };
        }
        return general(Some(
            "a value with `: ` in it must be quoted, as in `value: 'a: b'`; otherwise check the indentation of this line",
        ));
    }
    if info.contains("did not find expected key") || info.contains("did not find expected '-'") {
        let what = match key {
            Some(key) if content.contains(':') => format!("`{key}:`"),
            _ => "this line".to_owned(),
        };
        if let Some((above_line, above_key, above_column)) = &above {
            let column = indent + 1;
            let help = if column < *above_column {
                format!(
                    "to continue the mapping of `{above_key}` (line {above_line}), start this line at column {above_column}, under `{above_key}`; a new list item starts with `- `"
                )
            } else {
                format!(
                    "keys of one mapping start in the same column: `{above_key}` on line {above_line} starts at column {above_column}"
                )
            };
            return YamlError {
                message: format!(
                    "invalid YAML: {what} at column {column} is not in line with the lines above it"
                ),
                help: Some(help),
                offset: line_start + indent,
                syntax: true,
            };
        }
        return general(Some(
            "check the indentation: items of one list or mapping start in the same column",
        ));
    }
    if info.contains("unknown anchor") {
        return YamlError {
            message: "invalid YAML: an alias names no anchor defined before it".to_owned(),
            help: None,
            offset,
            syntax: true,
        };
    }
    if info.contains("flow") {
        return general(Some(
            "a `[` or `{` opened before this is not closed where it should be",
        ));
    }
    if info.contains("comments must be separated") {
        return general(Some(
            "put a space before `#`, or quote the value if `#` belongs to it",
        ));
    }
    general(None)
}

/// A line without its indentation and list item dashes (`  - - field: OS` -> `field: OS`).
fn strip_dashes(line: &str) -> &str {
    let mut rest = line.trim_start_matches(' ');
    while let Some(after) = rest.strip_prefix('-')
        && (after.is_empty() || after.starts_with(' '))
    {
        rest = after.trim_start_matches(' ');
    }
    rest
}

/// The nearest line above line `line_no` with a key (not blank, not a comment), at most 50
/// lines up: its number, its key, and the column the key starts at.
fn line_above(text: &str, index: &TextIndex, line_no: usize) -> Option<(usize, String, usize)> {
    (line_no.saturating_sub(50).max(1)..line_no)
        .rev()
        .find_map(|n| {
            let (start, end) = index.line_range(text, n)?;
            let line = text.get(start..end)?;
            let content = strip_dashes(line);
            if content.is_empty() || content.starts_with('#') {
                return None;
            }
            let (key, _) = content.split_once(':')?;
            let key = key.trim();
            if key.is_empty() || key.len() > 60 || key.starts_with(['{', '[', '"', '\'']) {
                return None;
            }
            let column = line.get(..line.len() - content.len())?.chars().count() + 1;
            Some((n, key.to_owned(), column))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: YamlLimits = YamlLimits {
        max_depth: 64,
        max_expanded_bytes: 1 << 20,
    };

    fn tree(text: &str) -> Result<Tree, YamlError> {
        read(text, &TextIndex::new(text), LIMITS)
    }

    fn spans(text: &str) -> Vec<&str> {
        let tree = tree(text).unwrap();
        tree.scalar_spans
            .iter()
            .map(|span| &text[span.start..span.end])
            .collect()
    }

    #[test]
    fn scalar_spans_cover_exactly_the_scalar() {
        assert_eq!(
            spans("b: 'q''r'  # c\nc: \"a\\\"b\" # d\nt: !!str 10.10\né: &x ü\n"),
            ["b", "'q''r'", "c", "\"a\\\"b\"", "t", "10.10", "é", "ü"]
        );
        assert_eq!(
            spans("a: !!str # c4\n  OS = x\nb: &w # c5\n  y\n"),
            ["a", "OS = x", "b", "y"]
        );
        assert_eq!(
            spans("v: | # header\n  a # not a comment\nw: x\n"),
            ["v", "a # not a comment\n", "w", "x"]
        );
    }

    #[test]
    fn comments_are_found_outside_every_scalar() {
        let text =
            "# top\nname: 'a # b' # one\nvalue: Windows\t# two\nv: |\n  # inside\nx: \"#\"#x\n";
        // `"#"#x` is not YAML (a comment needs a space before it).
        assert!(tree(text).is_err());
        let text = "# top\nname: 'a # b' # one\nvalue: Windows\t# two\nv: |\n  # inside\nk: [a, b] # three\n";
        let tree = tree(text).unwrap();
        let found: Vec<&str> = tree
            .comments(text)
            .into_iter()
            .map(|at| text[at..].lines().next().unwrap())
            .collect();
        assert_eq!(found, ["# top", "# one", "# two", "# three"]);
    }

    #[test]
    fn aliases_are_charged_their_expanded_size() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let previous = if level == 1 {
                "a".to_owned()
            } else {
                format!("l{}", level - 1)
            };
            let items = vec![format!("*{previous}"); 9].join(", ");
            bomb.push_str(&format!("l{level}: &l{level} [{items}]\n"));
        }
        let error = tree(&bomb).unwrap_err();
        assert!(
            error.message.contains("more than 1048576 bytes"),
            "{}",
            error.message
        );
        assert!(tree("a: &a [x]\nb: *a\nc: *a\n").is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_at_the_limit() {
        let deep = format!("a:\n{}", "- ".repeat(100_000));
        let error = tree(&deep).unwrap_err();
        assert!(
            error.message.contains("limit of 64 levels"),
            "{}",
            error.message
        );
        assert!(
            (3 + 2 * 63..=3 + 2 * 64).contains(&error.offset),
            "{}",
            error.offset
        );
        let flow = format!("a: {}", "[".repeat(100_000));
        assert!(tree(&flow).unwrap_err().message.contains("nested"));
    }

    #[test]
    fn documents_scalars_and_nulls() {
        let text = "\u{FEFF}name: 10.10\nx: 0x1F\ny:\n---\n- ~\n";
        let tree = tree(text).unwrap();
        assert_eq!(tree.documents.len(), 2);
        let Kind::Map(entries) = &tree.node(tree.documents[0]).kind else {
            panic!("a mapping");
        };
        let texts: Vec<&str> = entries
            .iter()
            .filter_map(|(_, value)| tree.node(*value).as_scalar())
            .collect();
        assert_eq!(texts, ["10.10", "0x1F", ""]);
        assert!(tree.node(entries[2].1).is_null());
    }

    #[test]
    fn lines_out_of_line_say_where_they_belong() {
        let text = "- - field: OS\n  operator: is\n";
        let error = tree(text).unwrap_err();
        assert_eq!(
            error.message,
            "invalid YAML: `operator:` at column 3 is not in line with the lines above it"
        );
        assert_eq!(
            error.help.as_deref(),
            Some(
                "to continue the mapping of `field` (line 1), start this line at column 5, under `field`; a new list item starts with `- `"
            )
        );
        assert_eq!(error.offset, 16);
        let text = "name: A\nblocks:\n- - field: OS\n      operator: is\n";
        let error = tree(text).unwrap_err();
        assert_eq!(
            error.message,
            "invalid YAML: `operator:` at column 7 is indented deeper than `field` on line 3, and is read as part of its value"
        );
        assert_eq!(
            error.help.as_deref(),
            Some(
                "keys of one mapping start in the same column: start `operator` at column 5, under `field`; or quote the value if `: ` belongs to it"
            )
        );
    }

    #[test]
    fn syntax_errors_have_a_position_and_a_hint() {
        let error = tree("a:\n\tb: 1\n").unwrap_err();
        assert_eq!(error.offset, 3);
        assert_eq!(
            error.message,
            "invalid YAML: a tab in the indentation of line 2"
        );
        assert_eq!(
            error.help.as_deref(),
            Some("YAML indents with spaces, not tabs")
        );
        let error = tree("value: a: b\n").unwrap_err();
        assert_eq!(
            error.message,
            "invalid YAML: `: ` inside a value that is not quoted"
        );
        assert_eq!(
            error.help.as_deref(),
            Some("quote the value: `value: 'a: b'`")
        );
        let error = tree("where: it's: x\n").unwrap_err();
        assert_eq!(
            error.help.as_deref(),
            Some("quote the value: `where: 'it''s: x'`")
        );
        // A tab after the line the parser stops at is found and pointed at.
        let text = "- name: T\n\twhere: x\n";
        let error = tree(text).unwrap_err();
        assert_eq!(
            (error.offset, error.message.as_str()),
            (10, "invalid YAML: a tab in the indentation of line 2")
        );
    }
}
