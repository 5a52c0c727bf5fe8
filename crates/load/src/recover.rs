//! Reading on after a YAML syntax error: the text cut into its documents and groups, each
//! read as YAML of its own, so that one broken group does not hide the others.
//!
//! The YAML parser stops at the first syntax error, and nothing after it can be read
//! reliably as a whole. But a definitions file is a list of groups, and each group's lines
//! are told apart by their indentation: a document starts at a `---` line, and an item of
//! the group list (a document that is a list, or the list under a `groups:` key that is the
//! document's only key) starts at a `-` in the item column. Each piece is read on its own,
//! its spans and errors in bytes of the whole text. A document that cannot be cut that way
//! (a single group, other keys beside `groups`, a flow list) is one piece.
//!
//! Every broken piece gives its own error, with the group's name when a `name:` line can be
//! seen; at most [`MAX_YAML_ERRORS`] a text. If the first error of the whole text falls in no
//! broken piece (the cutting hid it), it is reported too, so an invalid file never loads
//! silently. Aliases are only read inside their own piece (an alias to another group's anchor
//! is an error there), and every piece's aliases count against one budget for the text.

use crate::index::TextIndex;
use crate::yaml::{self, Tree, YamlError, YamlLimits};
use cohort_syntax::NodePath;

/// The most YAML syntax errors reported for one text.
pub(crate) const MAX_YAML_ERRORS: usize = 100;

/// What a piece of the text is.
#[derive(Debug)]
pub(crate) enum PieceKind {
    /// A whole document: a group, or a list under `groups`.
    Document,
    /// One item of a group list, at this path (`groups[2]`, `[0]`).
    Item(NodePath),
}

/// A piece read without error.
#[derive(Debug)]
pub(crate) struct Piece {
    pub(crate) kind: PieceKind,
    pub(crate) tree: Tree,
}

/// A piece that is not YAML.
#[derive(Debug)]
pub(crate) struct Broken {
    pub(crate) error: YamlError,
    /// The group's name, when a `name:` line can be seen.
    pub(crate) group: Option<String>,
}

/// What was read of a text with a syntax error.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    /// The pieces, read or broken, in text order.
    pub(crate) pieces: Vec<Result<Piece, Broken>>,
    /// How many pieces are broken.
    pub(crate) errors: usize,
    /// Whether reading stopped at [`MAX_YAML_ERRORS`].
    pub(crate) stopped: bool,
}

/// A line of the text: its bytes without the line break, and its indentation in spaces.
#[derive(Clone, Copy)]
struct Line<'t> {
    start: usize,
    /// Where the next line starts.
    next: usize,
    text: &'t str,
}

impl Line<'_> {
    fn indent(&self) -> usize {
        self.text.len() - self.text.trim_start_matches(' ').len()
    }

    fn content(&self) -> &str {
        self.text.trim_start_matches(' ')
    }

    /// Whether a tab comes before the line's first character (a mistake: the line belongs
    /// to whatever piece is being read).
    fn has_tab_indent(&self) -> bool {
        self.text.trim_start_matches(' ').starts_with('\t')
    }

    /// Blank, a comment, or only spaces and tabs.
    fn is_blank(&self) -> bool {
        let content = self.text.trim();
        content.is_empty() || content.starts_with('#')
    }

    fn is_item(&self) -> bool {
        let content = self.content();
        content == "-" || content.starts_with("- ") || content.starts_with("-\t")
    }

    /// `---` or `...`, alone or followed by white space.
    fn is_marker(&self, marker: &str) -> bool {
        self.text
            .strip_prefix(marker)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    }
}

fn lines(text: &str) -> Vec<Line<'_>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for piece in text.split_inclusive('\n') {
        let next = start + piece.len();
        let body = piece.strip_suffix('\n').unwrap_or(piece);
        let body = body.strip_suffix('\r').unwrap_or(body);
        lines.push(Line {
            start,
            next,
            text: body,
        });
        start = next;
    }
    lines
}

/// Reads `text` piece by piece after its first syntax error `first`.
pub(crate) fn recover(
    text: &str,
    index: &TextIndex,
    limits: YamlLimits,
    first: YamlError,
) -> Recovered {
    let all = lines(text);
    let mut recovered = Recovered::default();
    let mut expanded = 0usize;
    let mut first_reported = false;
    for document in documents(&all) {
        for (range, kind, name) in cut(document) {
            if recovered.errors >= MAX_YAML_ERRORS {
                recovered.stopped = true;
                break;
            }
            let limits = YamlLimits {
                max_expanded_bytes: limits.max_expanded_bytes.saturating_sub(expanded),
                ..limits
            };
            match yaml::read_range(text, index, limits, range.0, range.1) {
                Ok(tree) => {
                    expanded = expanded.saturating_add(tree.expanded);
                    recovered.pieces.push(Ok(Piece { kind, tree }));
                }
                Err(mut error) => {
                    if (range.0..=range.1).contains(&first.offset) {
                        first_reported = true;
                    }
                    if error.message.contains("an alias names no anchor") {
                        error.help = Some("after a YAML syntax error elsewhere in the file, groups are read one by one: an alias can only name an anchor of its own group".to_owned());
                    }
                    let syntax = error.syntax;
                    recovered.errors += 1;
                    recovered.pieces.push(Err(Broken { error, group: name }));
                    if !syntax {
                        // A limit: reading on could only make it worse.
                        recovered.stopped = true;
                        return recovered;
                    }
                }
            }
        }
    }
    if !first_reported {
        // Before the first piece read after it (pieces are in text order).
        let at = recovered.pieces.partition_point(|piece| match piece {
            Ok(piece) => piece.tree.start() <= first.offset,
            Err(broken) => broken.error.offset <= first.offset,
        });
        recovered.errors += 1;
        recovered.pieces.insert(
            at,
            Err(Broken {
                error: first,
                group: None,
            }),
        );
    }
    recovered
}

/// The documents of the text: runs of lines between `---` and `...` markers.
fn documents<'l, 't>(all: &'l [Line<'t>]) -> Vec<&'l [Line<'t>]> {
    let mut documents = Vec::new();
    let mut from = 0;
    for (at, line) in all.iter().enumerate() {
        if line.is_marker("---") || line.is_marker("...") {
            if let Some(document) = all.get(from..at) {
                documents.push(document);
            }
            from = at + 1;
        }
    }
    if let Some(document) = all.get(from..) {
        documents.push(document);
    }
    documents
        .into_iter()
        .filter(|document| document.iter().any(|line| !line.is_blank()))
        .collect()
}

/// A document cut into pieces: byte ranges, what each is, and its group's name if seen.
fn cut(document: &[Line<'_>]) -> Vec<((usize, usize), PieceKind, Option<String>)> {
    let whole = || {
        let start = document.first().map_or(0, |line| line.start);
        let end = document.last().map_or(start, |line| line.next);
        let indent = document
            .iter()
            .find(|line| !line.is_blank())
            .map_or(0, Line::indent);
        vec![((start, end), PieceKind::Document, name_in(document, indent))]
    };
    let Some((first_at, first)) = document
        .iter()
        .enumerate()
        .find(|(_, line)| !line.is_blank())
    else {
        return Vec::new();
    };
    let base = first.indent();
    let (items_from, item_indent, path) = if first.is_item() {
        (first_at, base, NodePath::root())
    } else {
        // A `groups:` key, the document's only key at its indentation, then the list.
        let keys: Vec<(usize, &Line<'_>)> = document
            .iter()
            .enumerate()
            .filter(|(_, line)| {
                !line.is_blank()
                    && !line.has_tab_indent()
                    && line.indent() <= base
                    && !line.is_item()
            })
            .collect();
        let [(key_at, key)] = keys.as_slice() else {
            return whole();
        };
        let after_key = key.content().strip_prefix("groups:").map(str::trim);
        if !after_key.is_some_and(|rest| rest.is_empty() || rest.starts_with('#')) {
            return whole();
        }
        let Some((items_from, item)) = document
            .iter()
            .enumerate()
            .skip(key_at + 1)
            .find(|(_, line)| !line.is_blank())
        else {
            return whole();
        };
        if !item.is_item() || item.indent() < base {
            return whole();
        }
        (items_from, item.indent(), NodePath::root().key("groups"))
    };
    let mut starts = Vec::new();
    for (at, line) in document.iter().enumerate().skip(items_from) {
        if line.is_blank() || line.has_tab_indent() {
            continue;
        }
        let indent = line.indent();
        if indent == item_indent && line.is_item() {
            starts.push(at);
        } else if indent <= item_indent {
            // A line the list does not hold: the cut would be a guess.
            return whole();
        }
    }
    let mut pieces = Vec::with_capacity(starts.len());
    for (number, &from) in starts.iter().enumerate() {
        let to = starts.get(number + 1).copied().unwrap_or(document.len());
        let Some(lines) = document.get(from..to) else {
            continue;
        };
        let start = lines.first().map_or(0, |line| line.start);
        let end = lines.last().map_or(start, |line| line.next);
        pieces.push((
            (start, end),
            PieceKind::Item(path.index(number)),
            name_in(lines, item_indent + 2),
        ));
    }
    pieces
}

/// The value of the first `name:` key at `indent` in `lines` (or after the `- ` of an item
/// at `indent - 2`), unquoted, for messages.
fn name_in(lines: &[Line<'_>], indent: usize) -> Option<String> {
    lines.iter().find_map(|line| {
        let text = line.text;
        let here = line.indent() == indent || line.is_item() && line.indent() + 2 == indent;
        let at_indent = text.get(indent..).filter(|_| here)?;
        let value = at_indent.strip_prefix("name:")?;
        let value = match value.find(" #") {
            Some(comment) => value.get(..comment)?,
            None => value,
        }
        .trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        (!value.is_empty()).then(|| value.chars().take(200).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: YamlLimits = YamlLimits {
        max_depth: 64,
        max_expanded_bytes: 1 << 20,
    };

    fn recovered(text: &str) -> Recovered {
        let index = TextIndex::new(text);
        let first = yaml::read(text, &index, LIMITS).expect_err("a syntax error");
        recover(text, &index, LIMITS, first)
    }

    fn broken_names(found: &Recovered) -> Vec<Option<&str>> {
        found
            .pieces
            .iter()
            .filter_map(|piece| piece.as_ref().err())
            .map(|broken| broken.group.as_deref())
            .collect()
    }

    #[test]
    fn group_lists_are_cut_at_their_items() {
        let text = "groups:\n  - name: A\n    where: x: y\n\n  - name: 'B'\n    where: OS = b\n  - name: C # c\n    where:\tz\n\tw\n";
        let found = recovered(text);
        let names = broken_names(&found);
        assert_eq!(names, [Some("A"), Some("C")]);
        let read: Vec<&Piece> = found
            .pieces
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .collect();
        assert!(
            matches!(read.as_slice(), [Piece { kind: PieceKind::Item(path), .. }] if path.to_string() == "groups[1]")
        );
    }

    #[test]
    fn documents_and_top_level_lists_are_cut() {
        let text = "name: A\nwhere: a: b\n---\n- name: B\n  where: OS = b\n- name: C\n  where: [\n...\n---\ngroups: [{name: D}\n";
        let found = recovered(text);
        let names = broken_names(&found);
        assert_eq!(names, [Some("A"), Some("C"), None]);
        assert_eq!(found.pieces.len(), 4);
    }

    #[test]
    fn a_document_that_cannot_be_cut_is_one_piece() {
        let text = "version: 1\ngroups:\n- name: A\n  where: a: b\n- name: B\n  where: OS = b\n";
        let found = recovered(text);
        assert_eq!(found.errors, 1);
        assert_eq!(found.pieces.len(), 1);
    }

    #[test]
    fn errors_stop_at_the_limit() {
        let mut text = String::from("groups:\n");
        for i in 0..150 {
            text.push_str(&format!("- name: G{i}\n  where: a: b\n"));
        }
        let found = recovered(&text);
        assert_eq!(found.errors, MAX_YAML_ERRORS);
        assert!(found.stopped);
    }
}
